// SPDX-License-Identifier: MIT
//
// trackalloc.hpp: ta::group registration, accessors and errors (throwing and
// not), ta::scope attribution, nesting, moves and out-of-order exits,
// ta::span_scope, ta::for_each_group. As in every unit test, nothing is
// asserted while one of the test's groups is active (ta-check.h): values are
// recorded, the scope left, then checked.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <check.h>
#include <trackalloc.hpp>

extern "C" {
#include "ta-check.h"
}

// One enter has one exit: a scope is moved, never copied or assigned, and
// moving it cannot throw (so std::vector moves it when it grows).
static_assert(!std::is_copy_constructible_v<ta::scope>);
static_assert(!std::is_copy_assignable_v<ta::scope>);
static_assert(!std::is_move_assignable_v<ta::scope>);
static_assert(std::is_nothrow_move_constructible_v<ta::scope>);
static_assert(std::is_nothrow_destructible_v<ta::scope>);
static_assert(!std::is_copy_constructible_v<ta::span_scope>);
static_assert(!std::is_copy_assignable_v<ta::span_scope>);
static_assert(!std::is_move_assignable_v<ta::span_scope>);
static_assert(std::is_nothrow_move_constructible_v<ta::span_scope>);
static_assert(std::is_nothrow_destructible_v<ta::span_scope>);
// A group is a plain value: copied freely, no conversion from a string by
// accident, none to a pointer or bool without asking.
static_assert(std::is_trivially_copyable_v<ta::group>);
static_assert(std::is_nothrow_default_constructible_v<ta::group>);
static_assert(!std::is_convertible_v<const char *, ta::group>);
static_assert(!std::is_convertible_v<ta_group *, ta::group>);
static_assert(!std::is_convertible_v<ta::group, bool>);
static_assert(!std::is_convertible_v<ta::group, ta::scope>);
#if !TA_CXX_EXCEPTIONS
#error "this test exercises the throwing forms: build it with exceptions"
#endif

namespace {

// Keep the compiler from eliding a new/delete or malloc/free pair.
template <class T>
void escape(T *p)
{
	asm volatile("" : : "g"(p) : "memory");
}

void expect_code(const std::system_error &e, int err)
{
	ck_assert_int_eq(e.code().value(), err);
	ck_assert(e.code().category() == std::generic_category());
	ck_assert(e.code() == std::errc(err));
	ck_assert_ptr_nonnull(std::strstr(e.what(), "ta_group_register"));
}

} // namespace

/* ---- groups ------------------------------------------------------------- */

START_TEST(register_with_tags)
{
	ta::group g{"cxx-tags", {{"lang", "c++"}, {"std", "17"}}};
	ta::tags_view tags = g.tags();

	ck_assert(static_cast<bool>(g));
	ck_assert_ptr_nonnull(g.get());
	ck_assert_uint_ne(g.id(), 0);
	ck_assert_uint_eq(g.id(), ta_group_id(g.get()));
	ck_assert_str_eq(g.name(), "cxx-tags");
	ck_assert_uint_eq(tags.size(), 2);
	ck_assert_str_eq(tags[0].key, "lang");
	ck_assert_str_eq(tags[0].value, "c++");
	ck_assert_str_eq(tags[1].key, "std");
	ck_assert_str_eq(tags[1].value, "17");
	int n = 0;
	for (const ta::tag &t : tags)
		n += std::strlen(t.key) > 0;
	ck_assert_int_eq(n, 2);

	// idempotent, tags in any order; the array form and try_ agree
	const ta::tag arr[] = {{"std", "17"}, {"lang", "c++"}};
	std::error_code ec = std::make_error_code(std::errc::io_error);
	ck_assert(ta::group("cxx-tags", {{"std", "17"}, {"lang", "c++"}}) == g);
	ck_assert(ta::group("cxx-tags", arr, 2) == g);
	ck_assert(ta::group::try_register("cxx-tags", arr, 2, ec) == g);
	ck_assert(!ec); // cleared on success
	ck_assert(ta::group::find(g.id()) == g);
	ck_assert(ta::group{ta_group_find(g.id())} == g);

	// a second group gets the next id and no tags
	ta::group h = ta::group::try_register("cxx-untagged", ec);
	ck_assert(!ec);
	ck_assert(h != g);
	ck_assert_uint_eq(h.id(), g.id() + 1);
	ck_assert(h.tags().empty());
}
END_TEST

START_TEST(root_current_find_empty)
{
	ta::group root = ta::group::root(), none;
	ta_stats s = none.stats();

	ck_assert_ptr_eq(root.get(), ta_group_root());
	ck_assert_uint_eq(root.id(), 0);
	ck_assert_str_eq(root.name(), "root");
	ck_assert(root.tags().empty());
	ck_assert(ta::group::current() == root);
	ck_assert(ta::group::find(0) == root);

	ck_assert(!none);
	ck_assert_ptr_null(none.get());
	ck_assert(none == ta::group{});
	ck_assert(none != root);
	ck_assert_uint_eq(none.id(), ta::group::no_id);
	ck_assert_str_eq(none.name(), "");
	ck_assert(none.tags().empty());
	ck_assert_uint_eq(s.allocated_objects + s.allocated_bytes + s.freed_objects +
	                  s.freed_bytes + s.wrapped_bytes_live, 0);
	errno = 0;
	ck_assert(!ta::group::find(ta::group::no_id));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(!ta::group::find(TA_GROUPS_MAX - 1));
	ck_assert(!ta::group{nullptr});
}
END_TEST

START_TEST(stats_match_c)
{
	ta::group g{"cxx-stats"};
	ta_stats c, cxx;
	void *p;

	{
		ta::scope in{g};
		p = tw.malloc(33);
	}
	tw.free(p);
	ck_assert_int_eq(ta_group_stats(g.get(), &c), 0);
	cxx = g.stats();
	ck_assert_uint_eq(cxx.allocated_bytes, c.allocated_bytes);
	ck_assert_uint_eq(cxx.allocated_objects, c.allocated_objects);
	ck_assert_uint_eq(cxx.freed_bytes, c.freed_bytes);
	ck_assert_uint_eq(cxx.freed_objects, c.freed_objects);
	ck_assert_uint_eq(cxx.wrapped_bytes_live, c.wrapped_bytes_live);
	ck_assert_uint_eq(cxx.allocated_bytes, 33);
	ck_assert_uint_eq(cxx.freed_objects, 1);
}
END_TEST

START_TEST(register_errors_throw)
{
	const std::string too_long(TA_GROUP_NAME_MAX + 1, 'n');
	ta::tag many[TA_TAGS_MAX + 1];
	char keys[TA_TAGS_MAX + 1][8];
	int thrown = 0;

	for (int i = 0; i <= TA_TAGS_MAX; i++) {
		std::snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		many[i] = ta::tag{keys[i], "v"};
	}
	try {
		ta::group bad{""};
	} catch (const std::system_error &e) {
		expect_code(e, EINVAL);
		thrown++;
	}
	try {
		ta::group bad{static_cast<const char *>(nullptr)};
	} catch (const std::system_error &e) {
		expect_code(e, EINVAL);
		thrown++;
	}
	try {
		ta::group bad{too_long.c_str()};
	} catch (const std::system_error &e) {
		expect_code(e, EINVAL);
		thrown++;
	}
	try {
		ta::group bad{"cxx-many-tags", many, TA_TAGS_MAX + 1};
	} catch (const std::system_error &e) {
		expect_code(e, EINVAL);
		thrown++;
	}
	try {
		ta::group bad{"cxx-bad-tag", {{"", "empty key"}}};
	} catch (const std::system_error &e) {
		expect_code(e, EINVAL);
		thrown++;
	}
	// the same name with another tag set
	ta::group first{"cxx-exists", {{"k", "v1"}}};
	try {
		ta::group bad{"cxx-exists", {{"k", "v2"}}};
	} catch (const std::system_error &e) {
		expect_code(e, EEXIST);
		ck_assert_ptr_nonnull(std::strstr(e.what(), "cxx-exists"));
		thrown++;
	}
	ck_assert_int_eq(thrown, 6);
	// the failures registered nothing; at the limit it works
	ck_assert(!ta::group::find(first.id() + 1));
	ta::group most{"cxx-many-tags", many, TA_TAGS_MAX};
	ck_assert_uint_eq(most.id(), first.id() + 1);
	ck_assert_uint_eq(most.tags().size(), TA_TAGS_MAX);
}
END_TEST

START_TEST(register_errors_try)
{
	std::error_code ec;
	ta::group first = ta::group::try_register("cxx-try", {{"k", "v1"}}, ec);

	ck_assert(first && !ec);
	ta::group g = ta::group::try_register("", ec);
	ck_assert(!g);
	ck_assert(ec == std::errc::invalid_argument);
	ck_assert(ec.category() == std::generic_category());

	ec.clear();
	g = ta::group::try_register(nullptr, nullptr, 0, ec);
	ck_assert(!g);
	ck_assert_int_eq(ec.value(), EINVAL);

	ec.clear();
	g = ta::group::try_register("cxx-try", {{"k", "v2"}}, ec);
	ck_assert(!g);
	ck_assert(ec == std::errc::file_exists);

	g = ta::group::try_register("cxx-try", {{"k", "v1"}}, ec);
	ck_assert(g == first);
	ck_assert(!ec);
}
END_TEST

/* ---- scopes ------------------------------------------------------------- */

START_TEST(scope_attributes_allocations)
{
	ta::group g{"cxx-scope"}, outer{"cxx-scope-outer"};
	ta_stats g0 = g.stats(), o0 = outer.stats(), g1, o1;
	void *p[5], *after;
	ta::group seen_in, seen_back, seen_out;
	long *one = nullptr;
	char *arr = nullptr;

	{
		ta::scope out{outer};
		{
			ta::scope in{g};
			for (int i = 0; i < 5; i++)
				escape(p[i] = tw.malloc(static_cast<size_t>(10 * (i + 1))));
			if (!TA_TEST_SANITIZED) {
				// operator new reaches the wrapper's malloc unless a
				// sanitizer's own operator new comes first
				escape(one = new long(7));
				escape(arr = new char[100]);
			}
			seen_in = ta::group::current();
		}
		seen_back = ta::group::current();
		escape(after = tw.malloc(7)); // back in outer
	}
	seen_out = ta::group::current();
	for (void *q : p)
		tw.free(q);
	tw.free(after);
	delete one;
	delete[] arr;
	g1 = g.stats();
	o1 = outer.stats();

	ck_assert(seen_in == g);
	ck_assert(seen_back == outer);
	ck_assert(seen_out == ta::group::root());
	if (TA_TEST_SANITIZED) {
		ck_assert_stats_delta(g0, g1, 150, 5, 150, 5);
	} else {
		ck_assert_stats_delta(g0, g1, 150 + sizeof(long) + 100, 7,
		                      150 + sizeof(long) + 100, 7);
	}
	ck_assert_stats_delta(o0, o1, 7, 1, 7, 1);
}
END_TEST

START_TEST(scope_nested_and_explicit_exit)
{
	ta::group a{"cxx-nest-a"}, b{"cxx-nest-b"};
	ta::group seen[5];
	int ret[4];
	bool act[2];

	{
		ta::scope sa{a};
		seen[0] = ta::group::current();
		{
			ta::scope sb{b};
			ta::scope sa2{a}; // the same group again nests
			seen[1] = ta::group::current();
			ret[0] = sa2.exit();
			seen[2] = ta::group::current();
			ret[1] = sa2.exit(); // once only
			act[0] = sa2.active();
		} // sb exits here, sa2 does nothing
		seen[3] = ta::group::current();
		ret[2] = sa.exit();
		act[1] = sa.active();
		ret[3] = sa.enter_result();
	} // sa does nothing: root stays
	seen[4] = ta::group::current();

	ck_assert(seen[0] == a);
	ck_assert(seen[1] == a);
	ck_assert(seen[2] == b);
	ck_assert(seen[3] == a);
	ck_assert(seen[4] == ta::group::root());
	ck_assert_int_eq(ret[0], 0);
	ck_assert_int_eq(ret[1], -EINVAL);
	ck_assert_int_eq(ret[2], 0);
	ck_assert_int_eq(ret[3], 0);
	ck_assert(!act[0] && !act[1]);
	// balanced: a C guard entered now exits as the innermost
	ta_guard guard = ta_group_enter(b.get());
	ck_assert_int_eq(ta_guard_exit(&guard), 0);
}
END_TEST

static ta::scope scope_of(ta::group g, bool other)
{
	ta::scope s{g};

	if (other)
		return ta::scope{ta::group::root()};
	return s; // two candidates: no copy elision, a move
}

START_TEST(scope_moves_exit_once)
{
	ta::group outer{"cxx-move-outer"}, a{"cxx-move-a"}, b{"cxx-move-b"};
	ta::group seen[6];
	int ret[3];
	bool moved_active = true, holder_active = false;

	{
		ta::scope so{outer};
		std::optional<ta::scope> holder;
		{
			ta::scope s{a};

			holder.emplace(std::move(s));
			seen[0] = ta::group::current();
			moved_active = s.active();
			ret[0] = s.exit(); // moved from: does nothing
			holder_active = holder->active();
		} // s's destructor must not exit a
		seen[1] = ta::group::current();
		ret[1] = holder->exit(); // still the innermost: exited once only
		seen[2] = ta::group::current();
		{
			ta::scope r = scope_of(b, false);
			seen[3] = ta::group::current();
		}
		seen[4] = ta::group::current();
		ret[2] = holder->exit();
	}
	seen[5] = ta::group::current();

	ck_assert(!moved_active);
	ck_assert(holder_active);
	ck_assert(seen[0] == a);
	ck_assert_int_eq(ret[0], -EINVAL);
	ck_assert(seen[1] == a);
	ck_assert_int_eq(ret[1], 0);
	ck_assert(seen[2] == outer);
	ck_assert(seen[3] == b);
	ck_assert(seen[4] == outer);
	ck_assert_int_eq(ret[2], -EINVAL);
	ck_assert(seen[5] == ta::group::root());
}
END_TEST

START_TEST(scope_vector_growth)
{
	// std::vector moves its scopes when it grows (nothrow move); the
	// moved-from ones it destroys must leave the stack alone.
	ta::group g[3] = {ta::group{"cxx-vec-0"}, ta::group{"cxx-vec-1"}, ta::group{"cxx-vec-2"}};
	ta::group seen[4];
	int bad = 0;

	{
		std::vector<ta::scope> v;

		for (int i = 0; i < 3; i++) {
			v.emplace_back(g[i]);
			bad += ta::group::current() != g[i];
		}
		for (int i = 2; i >= 0; i--) {
			seen[i] = ta::group::current();
			v.pop_back();
		}
		seen[3] = ta::group::current();
	}
	ck_assert_int_eq(bad, 0);
	ck_assert(seen[2] == g[2]);
	ck_assert(seen[1] == g[1]);
	ck_assert(seen[0] == g[0]);
	ck_assert(seen[3] == ta::group::root());
}
END_TEST

START_TEST(scope_out_of_order_exit)
{
	ta::group a{"cxx-ooo-a"}, b{"cxx-ooo-b"}, c{"cxx-ooo-c"};
	ta::group seen[5];
	int ret[5];
	bool stale_active;

	{
		ta::scope sa{a};
		std::optional<ta::scope> sb;

		sb.emplace(b);
		ret[0] = sa.exit(); // not the innermost
		seen[0] = ta::group::current();
		stale_active = sb->active();
		{
			ta::scope sc{c};
			seen[1] = ta::group::current();
			sb.reset(); // a stale scope's destructor changes nothing
			seen[2] = ta::group::current();
			ret[1] = sc.exit();
			seen[3] = ta::group::current();
		}
		sb.emplace(b);
		ret[2] = sb->exit();
		ret[3] = sb->exit();
		ret[4] = sa.exit();
		seen[4] = ta::group::current();
	}
	ck_assert_int_eq(ret[0], -EINVAL);
	ck_assert(seen[0] == ta::group::root()); // back to before a's enter
	ck_assert(stale_active);
	ck_assert(seen[1] == c);
	ck_assert(seen[2] == c);
	ck_assert_int_eq(ret[1], 0);
	ck_assert(seen[3] == ta::group::root());
	ck_assert_int_eq(ret[2], 0);
	ck_assert_int_eq(ret[3], -EINVAL);
	ck_assert_int_eq(ret[4], -EINVAL);
	ck_assert(seen[4] == ta::group::root());

	// the stale one exits with -EINVAL
	ta::scope x{a};
	ta::scope y{b};
	ck_assert_int_eq(x.exit(), -EINVAL);
	ck_assert_int_eq(y.exit(), -EINVAL);
	ck_assert(ta::group::current() == ta::group::root());
}
END_TEST

START_TEST(scope_failed_enter)
{
	ta::group a{"cxx-fail-a"};
	ta::group seen[3];
	int res[3], ret[2];
	bool act[2];

	{
		ta::scope sa{a};
		{
			ta::scope none{ta::group{}};
			act[0] = none.active();
			res[0] = none.enter_result();
			seen[0] = ta::group::current();
			ret[0] = none.exit();
			seen[1] = ta::group::current();
			ta::scope moved{std::move(none)};
			res[1] = moved.enter_result();
		}
		seen[2] = ta::group::current();
		ret[1] = sa.exit();
	}
	ck_assert(!act[0]);
	ck_assert_int_eq(res[0], -EINVAL);
	ck_assert_int_eq(res[1], -EINVAL);
	ck_assert(seen[0] == a);
	ck_assert(seen[1] == a);
	ck_assert(seen[2] == a);
	ck_assert_int_eq(ret[0], -EINVAL);
	ck_assert_int_eq(ret[1], 0);

	// TA_NEST_MAX deep: the next scope fails with -ENOSPC and is inactive
	std::vector<ta::scope> deep;
	deep.reserve(TA_NEST_MAX);
	for (int i = 0; i < TA_NEST_MAX; i++)
		deep.emplace_back(a);
	{
		ta::scope extra{ta::group::root()};
		res[2] = extra.enter_result();
		act[1] = extra.active();
	}
	seen[0] = ta::group::current();
	while (!deep.empty())
		deep.pop_back();
	ck_assert_int_eq(res[2], -ENOSPC);
	ck_assert(!act[1]);
	ck_assert(seen[0] == a);
	ck_assert(ta::group::current() == ta::group::root());
}
END_TEST

/* ---- spans -------------------------------------------------------------- */

START_TEST(span_scope_enters_bound_group)
{
	ta::group g{"cxx-span"}, outer{"cxx-span-outer"};
	const std::uint64_t id = 0x5ca1ab1eULL, unbound = 0xdeadULL;
	ta_stats s0, s1;
	ta::group seen[5];
	int res[3], ret[3];
	bool act[2];
	void *p[3];

	ck_assert_int_eq(ta_span_bind(id, g.get()), 0);
	s0 = g.stats();
	{
		ta::scope so{outer};
		{
			ta::span_scope sp{id};
			res[0] = sp.enter_result();
			act[0] = sp.active();
			seen[0] = ta::group::current();
			for (void *&q : p)
				escape(q = tw.malloc(21));
		}
		seen[1] = ta::group::current();
		{
			ta::span_scope sp{unbound}; // a frame that changes nothing
			res[1] = sp.enter_result();
			act[1] = sp.active();
			seen[2] = ta::group::current();
			ret[0] = sp.exit();
			ret[1] = sp.exit();
		}
		{
			ta::span_scope zero{0};
			res[2] = zero.enter_result();
			ret[2] = zero.exit() + (zero.active() ? 1000 : 0);
		}
		seen[3] = ta::group::current();
	}
	seen[4] = ta::group::current();
	for (void *q : p)
		tw.free(q);
	s1 = g.stats();

	ck_assert_int_eq(res[0], 0);
	ck_assert(act[0]);
	ck_assert(seen[0] == g);
	ck_assert(seen[1] == outer);
	ck_assert_int_eq(res[1], -ENOENT);
	ck_assert(act[1]);
	ck_assert(seen[2] == outer);
	ck_assert_int_eq(ret[0], -ENOENT);
	ck_assert_int_eq(ret[1], -EINVAL);
	ck_assert_int_eq(res[2], -EINVAL);
	ck_assert_int_eq(ret[2], -EINVAL);
	ck_assert(seen[3] == outer);
	ck_assert(seen[4] == ta::group::root());
	ck_assert_stats_delta(s0, s1, 63, 3, 63, 3);
	ck_assert_int_eq(ta_span_unbind(id), 0);
}
END_TEST

START_TEST(span_scope_moves_and_out_of_order)
{
	ta::group a{"cxx-spm-a"}, b{"cxx-spm-b"};
	const std::uint64_t ida = 0xa1, idb = 0xb2;
	ta::group seen[5];
	int ret[4];
	bool moved_active = true;
	std::uint64_t moved_id = 0;

	ck_assert_int_eq(ta_span_bind(ida, a.get()), 0);
	ck_assert_int_eq(ta_span_bind(idb, b.get()), 0);
	{
		std::optional<ta::span_scope> holder;
		{
			ta::span_scope s{ida};
			holder.emplace(std::move(s));
			moved_active = s.active();
			ret[0] = s.exit();
		} // the moved-from destructor must not exit ida
		seen[0] = ta::group::current();
		moved_id = holder->id();
		ret[1] = holder->exit();
		seen[1] = ta::group::current();
	}
	{
		ta::span_scope sa{ida};
		ta::span_scope sb{idb};
		seen[2] = ta::group::current();
		ret[2] = sa.exit(); // not the innermost: unwinds sb's frame too
		seen[3] = ta::group::current();
		ret[3] = sb.exit(); // its frame is gone
	}
	seen[4] = ta::group::current();

	ck_assert(!moved_active);
	ck_assert_int_eq(ret[0], -EINVAL);
	ck_assert(seen[0] == a);
	ck_assert_uint_eq(moved_id, ida);
	ck_assert_int_eq(ret[1], 0);
	ck_assert(seen[1] == ta::group::root());
	ck_assert(seen[2] == b);
	ck_assert_int_eq(ret[2], -EINVAL);
	ck_assert(seen[3] == ta::group::root());
	ck_assert_int_eq(ret[3], -EINVAL);
	ck_assert(seen[4] == ta::group::root());
}
END_TEST

/* ---- for_each_group ------------------------------------------------------ */

START_TEST(for_each_group_visits_in_order)
{
	ta::group a{"cxx-each-a"}, b{"cxx-each-b"};
	std::vector<std::uint32_t> ids;
	int visits = 0, ret;

	ids.reserve(64);
	ret = ta::for_each_group([&ids](ta::group g) { ids.push_back(g.id()); });
	ck_assert_int_eq(ret, 0);
	ck_assert_uint_ge(ids.size(), 3);
	ck_assert_uint_eq(ids[0], 0);
	for (size_t i = 1; i < ids.size(); i++)
		ck_assert_uint_gt(ids[i], ids[i - 1]);
	ck_assert(std::find(ids.begin(), ids.end(), a.id()) != ids.end());
	ck_assert(std::find(ids.begin(), ids.end(), b.id()) != ids.end());

	// a non-zero return stops the walk and is returned
	ret = ta::for_each_group([&visits](const ta::group &) { return ++visits == 2 ? 42 : 0; });
	ck_assert_int_eq(ret, 42);
	ck_assert_int_eq(visits, 2);

	// an exception stops the walk and comes out of the call
	visits = 0;
	bool caught = false;
	try {
		ta::for_each_group([&](ta::group g) {
			visits++;
			if (g == a)
				throw std::runtime_error("stop at a");
		});
	} catch (const std::runtime_error &e) {
		caught = std::strcmp(e.what(), "stop at a") == 0;
	}
	ck_assert(caught);
	ck_assert_int_eq(visits, static_cast<int>(std::find(ids.begin(), ids.end(), a.id()) -
	                                          ids.begin()) + 1);
	// and the library is still fine
	visits = 0;
	ck_assert_int_eq(ta::for_each_group([&visits](ta::group) { visits++; }), 0);
	ck_assert_int_eq(visits, static_cast<int>(ids.size()));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("cxx");
	TCase *tc = tcase_new("cxx");

	tcase_add_test(tc, register_with_tags);
	tcase_add_test(tc, root_current_find_empty);
	tcase_add_test(tc, stats_match_c);
	tcase_add_test(tc, register_errors_throw);
	tcase_add_test(tc, register_errors_try);
	tcase_add_test(tc, scope_attributes_allocations);
	tcase_add_test(tc, scope_nested_and_explicit_exit);
	tcase_add_test(tc, scope_moves_exit_once);
	tcase_add_test(tc, scope_vector_growth);
	tcase_add_test(tc, scope_out_of_order_exit);
	tcase_add_test(tc, scope_failed_enter);
	tcase_add_test(tc, span_scope_enters_bound_group);
	tcase_add_test(tc, span_scope_moves_and_out_of_order);
	tcase_add_test(tc, for_each_group_visits_in_order);
	suite_add_tcase(s, tc);
	return s;
}
