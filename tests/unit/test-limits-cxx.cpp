// SPDX-License-Identifier: MIT
//
// Hard limits through C++ operator new (trackalloc.h, "Peaks and limits"):
// over the limit, every throwing form (plain, array, aligned, through
// std::allocator) throws std::bad_alloc after the new_handler loop, every
// nothrow form returns nullptr, and a new_handler that makes room (frees a
// reserve, or lifts the limit) lets the same new succeed. Nothing of a
// refused new is counted. As in every unit test, nothing is asserted while
// the test's group is active (ta-check.h).
//
// limit_failures counts every refused attempt: the wrapper's own, the
// retries of libstdc++'s operator new (which calls malloc, or the throwing
// form from the nothrow one), even the allocation of the bad_alloc object
// itself (refused too; libstdc++ takes it from its emergency pool): at
// least one per new, not exactly one.
//
// Not built with a sanitizer: the sanitizer's operator new comes first in
// symbol order, so new never reaches the wrapper (test-cxx.cpp says the
// same).
#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

#include <check.h>

extern "C" {
#include "ta-check.h"
}

namespace {

// Keep the compiler from eliding a new/delete pair.
template <class T>
void escape(T *p)
{
	asm volatile("" : : "g"(p) : "memory");
}

uint64_t refusals()
{
	struct ta_diag_ext d;

	if (ta_diag_ext_read(&d, sizeof(d)) != 0)
		return UINT64_MAX / 2;
	return d.limit_failures;
}

// A group exactly at its hard limit: @hard bytes live in @blocks.
struct at_limit {
	ta_group *g;
	std::vector<void *> blocks;

	at_limit(const char *name, uint64_t hard, size_t each)
	{
		g = group_new(name);
		ck_assert_int_eq(ta_group_limit_set(g, 0, hard, nullptr, nullptr), 0);
		blocks.reserve(hard / each + 1);
		ta_guard guard = ta_group_enter(g);
		for (uint64_t live = 0; live < hard; live += each)
			blocks.push_back(tw.malloc(each));
		ta_guard_exit(&guard);
	}
	~at_limit()
	{
		for (void *p : blocks)
			tw.free(p);
	}
};

enum form { PLAIN, ARRAY, ALIGNED, ALIGNED_ARRAY, ALLOCATOR, FORMS };

const char *const form_name[FORMS] = { "new", "new[]", "aligned new", "aligned new[]",
	                               "std::vector" };

// One throwing new in @f's form (of @n bytes where the form takes a size;
// 1 for new char, 64 for the aligned struct): whether it threw bad_alloc.
bool throws(form f, size_t n)
{
	try {
		switch (f) {
		case PLAIN: {
			char *p = new char;
			escape(p);
			delete p;
			break;
		}
		case ARRAY: {
			char *p = new char[n];
			escape(p);
			delete[] p;
			break;
		}
		case ALIGNED: {
			struct alignas(64) line {
				char c[64];
			};
			line *p = new line;
			escape(p);
			delete p;
			break;
		}
		case ALIGNED_ARRAY: {
			void *p = ::operator new[](n, std::align_val_t(128));
			escape(p);
			::operator delete[](p, std::align_val_t(128));
			break;
		}
		default: {
			std::vector<char> v(n);
			escape(v.data());
			break;
		}
		}
	} catch (const std::bad_alloc &) {
		return true;
	}
	return false;
}

} // namespace

START_TEST(throwing_forms_throw)
{
	const form f = static_cast<form>(_i);
	at_limit lim(form_name[f], 64000, 1000);
	struct ta_stats s0, s1, s2;
	bool threw_over, threw_fit;
	uint64_t f0, f1;

	s0 = stats_of(lim.g);
	f0 = refusals();
	{
		ta_guard guard = ta_group_enter(lim.g);
		threw_over = throws(f, 1);
		ta_guard_exit(&guard);
	}
	f1 = refusals();
	s1 = stats_of(lim.g);
	// one block less: the same new fits
	tw.free(lim.blocks.back());
	lim.blocks.pop_back();
	{
		ta_guard guard = ta_group_enter(lim.g);
		threw_fit = throws(f, 1);
		ta_guard_exit(&guard);
	}
	s2 = stats_of(lim.g);

	ck_assert_msg(threw_over, "%s over the hard limit did not throw std::bad_alloc",
	              form_name[f]);
	ck_assert_stats_same(s0, s1);
	ck_assert_uint_ge(f1 - f0, 1);
	ck_assert_msg(!threw_fit, "%s under the hard limit threw", form_name[f]);
	ck_assert_uint_eq(s2.allocated_objects - s1.allocated_objects, 1);
}
END_TEST

START_TEST(nothrow_forms_return_null)
{
	at_limit lim("nothrow", 64000, 1000);
	void *p[4];
	struct ta_stats s0, s1;
	uint64_t f0, f1;

	s0 = stats_of(lim.g);
	f0 = refusals();
	{
		ta_guard guard = ta_group_enter(lim.g);
		p[0] = new (std::nothrow) char;
		p[1] = new (std::nothrow) char[10];
		p[2] = ::operator new(10, std::align_val_t(64), std::nothrow);
		p[3] = ::operator new[](10, std::align_val_t(64), std::nothrow);
		ta_guard_exit(&guard);
	}
	f1 = refusals();
	s1 = stats_of(lim.g);
	for (void *q : p)
		ck_assert_ptr_null(q);
	ck_assert_stats_same(s0, s1);
	ck_assert_uint_ge(f1 - f0, 4);
}
END_TEST

namespace {

int handler_runs;
ta_group *handler_group;
void *reserve;

// Makes room by freeing the reserve block, then lets new try again.
void free_reserve()
{
	handler_runs++;
	tw.free(reserve);
	reserve = nullptr;
	std::set_new_handler(nullptr);
}

// Makes room by lifting the limit.
void lift_limit()
{
	handler_runs++;
	(void)ta_group_limit_set(handler_group, 0, 0, nullptr, nullptr);
}

// Gives up: the handler loop ends in bad_alloc.
void give_up()
{
	handler_runs++;
	std::set_new_handler(nullptr);
}

} // namespace

START_TEST(new_handler_makes_room)
{
	at_limit lim("handler", 64000, 1000);
	char *a = nullptr, *b = nullptr;
	bool threw = false;
	int runs_free, runs_lift, runs_give_up;

	// the reserve is part of the group's live bytes: free it, room for 1000
	tw.free(lim.blocks.back());
	lim.blocks.pop_back();
	{
		ta_guard guard = ta_group_enter(lim.g);
		reserve = tw.malloc(1000);
		handler_runs = 0;
		std::set_new_handler(free_reserve);
		a = new char[500];
		runs_free = handler_runs;
		handler_group = lim.g;
		handler_runs = 0;
		std::set_new_handler(lift_limit);
		b = new char[100000];
		runs_lift = handler_runs;
		std::set_new_handler(nullptr);
		(void)ta_group_limit_set(lim.g, 0, 1, nullptr, nullptr);
		handler_runs = 0;
		std::set_new_handler(give_up);
		threw = throws(ARRAY, 1);
		runs_give_up = handler_runs;
		std::set_new_handler(nullptr);
		ta_guard_exit(&guard);
	}
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(runs_free, 1);
	ck_assert_ptr_null(reserve);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(runs_lift, 1);
	ck_assert(threw);
	ck_assert_int_eq(runs_give_up, 1);
	delete[] a;
	delete[] b;
}
END_TEST

extern "C" Suite *unit_suite(void)
{
	Suite *s = suite_create("limits-cxx");
	TCase *tc = tcase_new("new");

	/* a new that loops instead of throwing fails in 10 s, not 30 */
	tcase_set_timeout(tc, 10);

	tcase_add_loop_test(tc, throwing_forms_throw, 0, FORMS);
	tcase_add_test(tc, nothrow_forms_return_null);
	tcase_add_test(tc, new_handler_makes_room);
	suite_add_tcase(s, tc);
	return s;
}
