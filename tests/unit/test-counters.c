/* SPDX-License-Identifier: MIT */
/*
 * Counters on one thread: exact requested sizes for every entry point, frees
 * credited to the source group, realloc as free + alloc, wrapped bytes, and
 * blocks whose whole usable size is written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ta-check.h"

START_TEST(malloc_100_exact)
{
	ta_group *g = group_new("m100");
	struct ta_stats s0 = stats_of(g), s1, s2;
	ta_guard guard = ta_group_enter(g);
	void *p = tw.malloc(100);
	size_t inner;

	ta_guard_exit(&guard);
	s1 = stats_of(g);
	ck_assert_ptr_nonnull(p);
	inner = tw.libc_usable(p);
	ck_assert_stats_delta(s0, s1, 100, 1, 0, 0);
	/* wrapped_bytes_live is what the inner allocator holds for the block */
	ck_assert_uint_eq(s1.wrapped_bytes_live - s0.wrapped_bytes_live, inner);

	tw.free(p);
	s2 = stats_of(g);
	ck_assert_stats_delta(s1, s2, 0, 0, 100, 1);
	ck_assert_uint_eq(s2.wrapped_bytes_live, s0.wrapped_bytes_live);
}
END_TEST

START_TEST(usable_size_excludes_trailer)
{
	static const size_t sizes[] = { 0, 1, 8, 24, 100, 1000, 4096, 200000 };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = tw.malloc(sizes[i]);
		size_t usable, inner;

		ck_assert_ptr_nonnull(p);
		usable = tw.malloc_usable_size(p);
		inner = tw.libc_usable(p);
		ck_assert_uint_ge(usable, sizes[i]);
		/* a trailer of at most one word, taken out of the usable size */
		ck_assert_uint_lt(usable, inner);
		ck_assert_uint_ge(usable + 8, inner);
		tw.free(p);
	}
	ck_assert_uint_eq(tw.malloc_usable_size(NULL), 0);
}
END_TEST

START_TEST(free_credits_source_group)
{
	ta_group *src = group_new("src"), *cur = group_new("cur");
	struct ta_stats src0 = stats_of(src), cur0 = stats_of(cur), src1, cur1, src2;
	ta_guard gs, gc;
	void *p;

	gs = ta_group_enter(src);
	p = tw.malloc(321);
	ta_guard_exit(&gs);
	src1 = stats_of(src);
	gc = ta_group_enter(cur);
	tw.free(p);
	ta_guard_exit(&gc);
	src2 = stats_of(src);
	cur1 = stats_of(cur);

	ck_assert_ptr_nonnull(p);
	ck_assert_stats_delta(src0, src1, 321, 1, 0, 0);
	ck_assert_stats_delta(src1, src2, 0, 0, 321, 1);
	ck_assert_uint_eq(src2.wrapped_bytes_live, src0.wrapped_bytes_live);
	ck_assert_stats_same(cur0, cur1);
}
END_TEST

/* One allocation through each entry point, with the size it should count. */
enum alloc_kind {
	K_MALLOC, K_MALLOC0, K_CALLOC, K_MEMALIGN, K_ALIGNED, K_POSIX, K_VALLOC, K_PVALLOC,
	K_PVALLOC0, K_REALLOCARRAY, K_REALLOC_NULL, K_KINDS
};

static void *alloc_one(enum alloc_kind k, size_t *counted)
{
	void *p = NULL;

	switch (k) {
	case K_MALLOC:
		*counted = 77;
		return tw.malloc(77);
	case K_MALLOC0:
		*counted = 0;
		return tw.malloc(0);
	case K_CALLOC:
		*counted = 7 * 13;
		return tw.calloc(7, 13);
	case K_MEMALIGN:
		*counted = 100;
		return tw.memalign(64, 100);
	case K_ALIGNED:
		*counted = 256;
		return tw.aligned_alloc(128, 256);
	case K_POSIX:
		*counted = 77;
		return tw.posix_memalign(&p, 32, 77) == 0 ? p : NULL;
	case K_VALLOC:
		*counted = 123;
		return tw.valloc(123);
	case K_PVALLOC:
		/* pvalloc asks for whole pages: the rounded size is the request */
		*counted = page_size();
		return tw.pvalloc(123);
	case K_PVALLOC0:
		*counted = page_size();
		return tw.pvalloc(0);
	case K_REALLOCARRAY:
		*counted = 9 * 11;
		return tw.reallocarray(NULL, 9, 11);
	case K_REALLOC_NULL:
		*counted = 55;
		return tw.realloc(NULL, 55);
	default:
		return NULL;
	}
}

START_TEST(every_entry_point_counted)
{
	/* _i is the entry point (Check loop test) */
	ta_group *g = group_new("entry");
	struct ta_stats s0 = stats_of(g), s1, s2;
	ta_guard guard = ta_group_enter(g);
	size_t counted = 0, inner;
	void *p = alloc_one((enum alloc_kind)_i, &counted);

	ta_guard_exit(&guard);
	s1 = stats_of(g);
	ck_assert_msg(p != NULL, "entry point %d returned NULL", _i);
	inner = tw.libc_usable(p);
	ck_assert_stats_delta(s0, s1, counted, 1, 0, 0);
	ck_assert_uint_eq(s1.wrapped_bytes_live - s0.wrapped_bytes_live, inner);
	ck_assert_uint_ge(tw.malloc_usable_size(p), counted);
	tw.free(p);
	s2 = stats_of(g);
	ck_assert_stats_delta(s1, s2, 0, 0, counted, 1);
	ck_assert_uint_eq(s2.wrapped_bytes_live, s0.wrapped_bytes_live);
}
END_TEST

START_TEST(sized_frees_counted)
{
	ta_group *g = group_new("sized");
	struct ta_stats s0 = stats_of(g), s1, s2;
	ta_guard guard = ta_group_enter(g);
	void *p = tw.malloc(40), *q = tw.aligned_alloc(64, 128);

	ta_guard_exit(&guard);
	s1 = stats_of(g);
	tw.free_sized(p, 40);
	tw.free_aligned_sized(q, 64, 128);
	s2 = stats_of(g);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_stats_delta(s0, s1, 168, 2, 0, 0);
	ck_assert_stats_delta(s1, s2, 0, 0, 168, 2);
	ck_assert_uint_eq(s2.wrapped_bytes_live, s0.wrapped_bytes_live);
}
END_TEST

/* realloc(p, n) with p made in @src and the call made in @dst. */
struct realloc_case {
	size_t from, to;
	int expect; /* 1: same pointer, -1: moved, 0: either */
};

static void check_realloc(const struct realloc_case *rc)
{
	ta_group *src = group_new("re-src"), *dst = group_new("re-dst");
	struct ta_stats src0 = stats_of(src), dst0 = stats_of(dst), src1, dst1, dst2;
	ta_guard guard;
	unsigned char *p, *q;
	size_t keep = rc->from < rc->to ? rc->from : rc->to, i, bad = 0, inner_q;
	struct ta_diag d0 = diag_now(), d1;

	guard = ta_group_enter(src);
	p = tw.malloc(rc->from);
	ta_guard_exit(&guard);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < rc->from; i++)
		p[i] = (unsigned char)(i * 7 + 1);

	guard = ta_group_enter(dst);
	q = tw.realloc(p, rc->to);
	ta_guard_exit(&guard);
	src1 = stats_of(src);
	dst1 = stats_of(dst);

	ck_assert_ptr_nonnull(q);
	if (rc->expect == 1)
		ck_assert_ptr_eq(q, p);
	else if (rc->expect == -1)
		ck_assert_ptr_ne(q, p);
	for (i = 0; i < keep; i++)
		bad += q[i] != (unsigned char)(i * 7 + 1);
	ck_assert_uint_eq(bad, 0);
	inner_q = tw.libc_usable(q);
	/* the old block is a free in its source group... */
	ck_assert_stats_delta(src0, src1, rc->from, 1, rc->from, 1);
	ck_assert_uint_eq(src1.wrapped_bytes_live, src0.wrapped_bytes_live);
	/* ...and the new one an allocation in the group active at the call */
	ck_assert_stats_delta(dst0, dst1, rc->to, 1, 0, 0);
	ck_assert_uint_eq(dst1.wrapped_bytes_live - dst0.wrapped_bytes_live, inner_q);

	tw.free(q);
	dst2 = stats_of(dst);
	ck_assert_stats_delta(dst1, dst2, 0, 0, rc->to, 1);
	ck_assert_uint_eq(dst2.wrapped_bytes_live, dst0.wrapped_bytes_live);
	d1 = diag_now();
	ck_assert_uint_eq(d1.foreign_frees, d0.foreign_frees);
	ck_assert_uint_eq(d1.double_frees, d0.double_frees);
	ck_assert_uint_eq(d1.corrupt_trailers, d0.corrupt_trailers);
}

START_TEST(realloc_in_place_shrink)
{
	/* glibc shrinks in place: the trailer must move with the size */
	const struct realloc_case rc = { 1000, 10, 1 };

	check_realloc(&rc);
}
END_TEST

START_TEST(realloc_same_chunk_grow)
{
	/* 100 and 110 bytes (+ trailer) share glibc's 128-byte chunk */
	const struct realloc_case rc = { 100, 110, 1 };

	check_realloc(&rc);
}
END_TEST

START_TEST(realloc_moving_grow)
{
	/* a heap block cannot become a 1 MiB mmapped one in place */
	const struct realloc_case rc = { 100, 1 << 20, -1 };

	check_realloc(&rc);
}
END_TEST

START_TEST(realloc_mmapped_shrink)
{
	const struct realloc_case rc = { 300000, 200000, 0 };

	check_realloc(&rc);
}
END_TEST

START_TEST(realloc_same_size)
{
	const struct realloc_case rc = { 64, 64, 0 };

	check_realloc(&rc);
}
END_TEST

START_TEST(realloc_zero_frees)
{
	ta_group *src = group_new("rz-src"), *dst = group_new("rz-dst");
	struct ta_stats src0 = stats_of(src), dst0 = stats_of(dst), src1, dst1;
	struct ta_diag d0 = diag_now(), d1;
	ta_guard guard = ta_group_enter(src);
	void *p = tw.malloc(100), *q;

	ta_guard_exit(&guard);
	guard = ta_group_enter(dst);
	q = tw.realloc(p, 0);
	ta_guard_exit(&guard);
	src1 = stats_of(src);
	dst1 = stats_of(dst);
	d1 = diag_now();

	ck_assert_ptr_nonnull(p);
	/* glibc 2.36: realloc(p, 0) frees p and returns NULL */
	ck_assert_ptr_null(q);
	ck_assert_stats_delta(src0, src1, 100, 1, 100, 1);
	ck_assert_uint_eq(src1.wrapped_bytes_live, src0.wrapped_bytes_live);
	ck_assert_stats_same(dst0, dst1);
	ck_assert_uint_eq(d1.foreign_frees, d0.foreign_frees);
	ck_assert_uint_eq(d1.double_frees, d0.double_frees);
}
END_TEST

START_TEST(realloc_null_is_malloc)
{
	ta_group *g = group_new("rnull");
	struct ta_stats s0 = stats_of(g), s1;
	ta_guard guard = ta_group_enter(g);
	void *p = tw.realloc(NULL, 33);
	void *q = tw.reallocarray(NULL, 3, 5);

	ta_guard_exit(&guard);
	s1 = stats_of(g);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_stats_delta(s0, s1, 48, 2, 0, 0);
	tw.free(p);
	tw.free(q);
}
END_TEST

START_TEST(reallocarray_moves_attribution)
{
	ta_group *src = group_new("ra-src"), *dst = group_new("ra-dst");
	struct ta_stats src0 = stats_of(src), dst0 = stats_of(dst), src1, dst1;
	ta_guard guard = ta_group_enter(src);
	void *p = tw.reallocarray(NULL, 10, 10), *q;

	ta_guard_exit(&guard);
	guard = ta_group_enter(dst);
	q = tw.reallocarray(p, 30, 10);
	ta_guard_exit(&guard);
	src1 = stats_of(src);
	dst1 = stats_of(dst);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_stats_delta(src0, src1, 100, 1, 100, 1);
	ck_assert_stats_delta(dst0, dst1, 300, 1, 0, 0);
	tw.free(q);
}
END_TEST

/* What a group's counters should have gained. */
struct expect {
	uint64_t alloc_bytes, alloc_objs, freed_bytes, freed_objs;
};

/* Fill every byte malloc_usable_size() promises, then free: the trailer must
 * lie beyond it. @how selects the allocation function. */
static void *fill_alloc(int how, size_t n, struct expect *e)
{
	void *p = NULL, *q;

	switch (how) {
	case 0:
		p = tw.malloc(n);
		break;
	case 1:
		p = tw.calloc(1, n);
		break;
	case 2:
		p = tw.memalign(64, n);
		break;
	case 3:
		if (tw.posix_memalign(&p, 4096, n) != 0)
			p = NULL;
		break;
	case 4: /* grown by realloc from half the size (realloc(p, 0) frees) */
		if (n == 0)
			return fill_alloc(0, n, e);
		p = tw.malloc(n / 2 + 1);
		if (!p)
			return NULL;
		e->alloc_bytes += n / 2 + 1;
		e->alloc_objs++;
		q = tw.realloc(p, n);
		if (!q)
			return p;
		e->freed_bytes += n / 2 + 1;
		e->freed_objs++;
		p = q;
		break;
	default:
		return NULL;
	}
	if (p) {
		e->alloc_bytes += n;
		e->alloc_objs++;
	}
	return p;
}

START_TEST(fill_usable_size_then_free)
{
	static const size_t sizes[] = { 0,    1,    7,    8,     15,     16,     23,     24,
		                        25,   100,  1000, 4095,  4096,   65536,  131072, 200000,
		                        1 << 20 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	ta_group *g = group_new("fill");
	struct ta_stats s0 = stats_of(g), s1, s2;
	struct ta_diag d0 = diag_now(), d1;
	struct expect e = { 0, 0, 0, 0 };
	void *blocks[N];
	size_t usable, i;
	ta_guard guard;

	guard = ta_group_enter(g);
	for (i = 0; i < N; i++)
		blocks[i] = fill_alloc(_i, sizes[i], &e);
	ta_guard_exit(&guard);
	s1 = stats_of(g);
	for (i = 0; i < N; i++) {
		ck_assert_msg(blocks[i] != NULL, "size %zu failed", sizes[i]);
		usable = tw.malloc_usable_size(blocks[i]);
		ck_assert_uint_ge(usable, sizes[i]);
		memset(blocks[i], 0xff, usable);
	}
	ck_assert_stats_delta(s0, s1, e.alloc_bytes, e.alloc_objs, e.freed_bytes, e.freed_objs);

	/* a realloc of a filled block must find its trailer intact as well */
	for (i = 0; i < N; i += 4) {
		void *q;

		guard = ta_group_enter(g);
		q = tw.realloc(blocks[i], sizes[i] + 1);
		ta_guard_exit(&guard);
		ck_assert_ptr_nonnull(q);
		blocks[i] = q;
		e.freed_bytes += sizes[i];
		e.freed_objs++;
		e.alloc_bytes += sizes[i] + 1;
		e.alloc_objs++;
		memset(q, 0xee, tw.malloc_usable_size(q));
	}
	for (i = 0; i < N; i++) {
		tw.free(blocks[i]);
		e.freed_bytes += sizes[i] + (i % 4 == 0);
		e.freed_objs++;
	}
	s2 = stats_of(g);
	d1 = diag_now();

	ck_assert_stats_delta(s0, s2, e.alloc_bytes, e.alloc_objs, e.freed_bytes, e.freed_objs);
	ck_assert_uint_eq(e.alloc_bytes, e.freed_bytes);
	ck_assert_uint_eq(s2.wrapped_bytes_live, s0.wrapped_bytes_live);
	ck_assert_uint_eq(d1.foreign_frees, d0.foreign_frees);
	ck_assert_uint_eq(d1.corrupt_trailers, d0.corrupt_trailers);
	ck_assert_uint_eq(d1.double_frees, d0.double_frees);
}
END_TEST

START_TEST(root_counts_program_allocations)
{
	/* Outside any group the program's allocations land in root. */
	ta_group *root = ta_group_root();
	struct ta_stats s0 = stats_of(root), s1;
	void *p = tw.malloc(1000);

	s1 = stats_of(root);
	tw.free(p);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(s1.allocated_bytes - s0.allocated_bytes, 1000);
	ck_assert_uint_eq(s1.allocated_objects - s0.allocated_objects, 1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("counters");
	TCase *tc = tcase_new("counters");

	tcase_add_test(tc, malloc_100_exact);
	tcase_add_test(tc, usable_size_excludes_trailer);
	tcase_add_test(tc, free_credits_source_group);
	tcase_add_loop_test(tc, every_entry_point_counted, 0, K_KINDS);
	tcase_add_test(tc, sized_frees_counted);
	tcase_add_test(tc, realloc_in_place_shrink);
	tcase_add_test(tc, realloc_same_chunk_grow);
	tcase_add_test(tc, realloc_moving_grow);
	tcase_add_test(tc, realloc_mmapped_shrink);
	tcase_add_test(tc, realloc_same_size);
	tcase_add_test(tc, realloc_zero_frees);
	tcase_add_test(tc, realloc_null_is_malloc);
	tcase_add_test(tc, reallocarray_moves_attribution);
	tcase_add_loop_test(tc, fill_usable_size_then_free, 0, 5);
	tcase_add_test(tc, root_counts_program_allocations);
	suite_add_tcase(s, tc);
	return s;
}
