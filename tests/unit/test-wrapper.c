/* SPDX-License-Identifier: MIT */
/*
 * The malloc family keeps glibc's semantics: malloc(0), overflowing sizes,
 * bad alignments, alignment guarantees, page rounding, and failed calls that
 * leave the old block alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ta-check.h"

START_TEST(malloc_zero_distinct)
{
	enum { N = 32 };
	ta_group *g = group_new("zero");
	struct ta_stats s0 = stats_of(g), s1;
	void *p[N];
	int i, j, nulls = 0, same = 0;
	ta_guard guard = ta_group_enter(g);

	for (i = 0; i < N; i++)
		p[i] = tw.malloc(0);
	ta_guard_exit(&guard);
	s1 = stats_of(g);
	for (i = 0; i < N; i++) {
		nulls += p[i] == NULL;
		for (j = 0; j < i; j++)
			same += p[i] == p[j];
	}
	ck_assert_int_eq(nulls, 0);
	ck_assert_int_eq(same, 0);
	ck_assert_stats_delta(s0, s1, 0, N, 0, 0);
	for (i = 0; i < N; i++)
		tw.free(p[i]);
	/* calloc(0, n) and calloc(n, 0) behave the same way */
	p[0] = tw.calloc(0, 16);
	p[1] = tw.calloc(16, 0);
	ck_assert_ptr_nonnull(p[0]);
	ck_assert_ptr_nonnull(p[1]);
	ck_assert_ptr_ne(p[0], p[1]);
	tw.free(p[0]);
	tw.free(p[1]);
}
END_TEST

/* An allocation that must fail with ENOMEM and count nothing. */
#define ck_assert_enomem(g, call)                                                            \
	do {                                                                                 \
		struct ta_stats s0_ = stats_of(g), s1_;                                      \
		ta_guard guard_ = ta_group_enter(g);                                         \
		void *r_;                                                                    \
		int err_;                                                                    \
		errno = 0;                                                                   \
		r_ = (call);                                                                 \
		err_ = errno;                                                                \
		ta_guard_exit(&guard_);                                                      \
		s1_ = stats_of(g);                                                           \
		ck_assert_msg(r_ == NULL, "%s did not fail", #call);                         \
		ck_assert_msg(err_ == ENOMEM, "%s: errno %d, not ENOMEM", #call, err_);      \
		ck_assert_stats_same(s0_, s1_);                                              \
	} while (0)

START_TEST(overflowing_sizes)
{
	ta_group *g = group_new("overflow");
	size_t big = (size_t)PTRDIFF_MAX + 1;

	ck_assert_enomem(g, tw.malloc(SIZE_MAX));
	ck_assert_enomem(g, tw.malloc(SIZE_MAX - 1));
	ck_assert_enomem(g, tw.malloc(SIZE_MAX - 8));
	ck_assert_enomem(g, tw.malloc(SIZE_MAX - 16));
	ck_assert_enomem(g, tw.malloc(big));
	ck_assert_enomem(g, tw.malloc((size_t)PTRDIFF_MAX));
	ck_assert_enomem(g, tw.calloc(SIZE_MAX / 2 + 1, 2));
	ck_assert_enomem(g, tw.calloc(2, SIZE_MAX / 2 + 1));
	ck_assert_enomem(g, tw.calloc((size_t)1 << 32, (size_t)1 << 32));
	ck_assert_enomem(g, tw.calloc(1, SIZE_MAX));
	ck_assert_enomem(g, tw.reallocarray(NULL, SIZE_MAX, 2));
	ck_assert_enomem(g, tw.realloc(NULL, SIZE_MAX));
	ck_assert_enomem(g, tw.memalign(64, SIZE_MAX));
	ck_assert_enomem(g, tw.memalign(64, SIZE_MAX - 8));
	ck_assert_enomem(g, tw.aligned_alloc(64, big));
	ck_assert_enomem(g, tw.valloc(SIZE_MAX));
	ck_assert_enomem(g, tw.pvalloc(SIZE_MAX));
	ck_assert_enomem(g, tw.pvalloc(SIZE_MAX - page_size() + 2));
}
END_TEST

/* A realloc-style call on a live block that must fail, leaving it intact. */
static void check_failed_resize(int use_array)
{
	ta_group *g = group_new("keep");
	struct ta_stats sb = stats_of(g), s0, s1, s2;
	struct ta_diag d0, d1;
	ta_guard guard = ta_group_enter(g);
	unsigned char *p = tw.malloc(64), *r;
	size_t i, bad = 0;
	int err;

	ta_guard_exit(&guard);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < 64; i++)
		p[i] = (unsigned char)i;
	s0 = stats_of(g);
	d0 = diag_now();
	errno = 0;
	r = use_array ? tw.reallocarray(p, SIZE_MAX / 4, 8) : tw.realloc(p, SIZE_MAX - 4);
	err = errno;
	s1 = stats_of(g);
	d1 = diag_now();
	ck_assert_ptr_null(r);
	ck_assert_int_eq(err, ENOMEM);
	ck_assert_stats_same(s0, s1);
	ck_assert_uint_eq(d1.foreign_frees, d0.foreign_frees);
	ck_assert_uint_eq(d1.double_frees, d0.double_frees);
	ck_assert_uint_eq(d1.corrupt_trailers, d0.corrupt_trailers);
	for (i = 0; i < 64; i++)
		bad += p[i] != (unsigned char)i;
	ck_assert_uint_eq(bad, 0);
	/* still a live block of the wrapper, charged to g: it can grow (in
	 * root, where this realloc runs) and be freed */
	ck_assert_uint_ge(tw.malloc_usable_size(p), 64);
	r = tw.realloc(p, 128);
	ck_assert_ptr_nonnull(r);
	tw.free(r);
	s2 = stats_of(g);
	d1 = diag_now();
	ck_assert_stats_delta(s0, s2, 0, 0, 64, 1);
	ck_assert_uint_eq(s2.wrapped_bytes_live, sb.wrapped_bytes_live);
	ck_assert_uint_eq(d1.foreign_frees, d0.foreign_frees);
	ck_assert_uint_eq(d1.double_frees, d0.double_frees);
}

START_TEST(realloc_overflow_keeps_block)
{
	check_failed_resize(0);
}
END_TEST

START_TEST(reallocarray_overflow_keeps_block)
{
	check_failed_resize(1);
}
END_TEST

START_TEST(posix_memalign_errors)
{
	static const size_t bad[] = { 0, 1, 3, 4, 12, 24, 48, 4097 };
	ta_group *g = group_new("pm-err");
	struct ta_stats s0 = stats_of(g), s1;
	void *sentinel = &s0, *p;
	int ret[sizeof(bad) / sizeof(bad[0])], ret_big, ret_big2;
	void *out[sizeof(bad) / sizeof(bad[0])];
	size_t i;
	ta_guard guard = ta_group_enter(g);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out[i] = sentinel;
		ret[i] = tw.posix_memalign(&out[i], bad[i], 16);
	}
	p = sentinel;
	ret_big = tw.posix_memalign(&p, 64, SIZE_MAX);
	ret_big2 = tw.posix_memalign(&p, 64, SIZE_MAX - 8);
	ta_guard_exit(&guard);
	s1 = stats_of(g);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(ret[i] == EINVAL, "alignment %zu: got %d, not EINVAL", bad[i],
		              ret[i]);
		/* the out pointer is only written on success */
		ck_assert_ptr_eq(out[i], sentinel);
	}
	ck_assert_int_eq(ret_big, ENOMEM);
	ck_assert_int_eq(ret_big2, ENOMEM);
	ck_assert_ptr_eq(p, sentinel);
	ck_assert_stats_same(s0, s1);

	/* alignment sizeof(void *) is the smallest valid one */
	ck_assert_int_eq(tw.posix_memalign(&p, sizeof(void *), 16), 0);
	tw.free(p);
}
END_TEST

START_TEST(alignment_honoured)
{
	/* _i: 0 memalign, 1 aligned_alloc, 2 posix_memalign */
	static const size_t sizes[] = { 0, 1, 24, 100, 4096, 70000 };
	size_t align, i;
	int misaligned = 0, failed = 0, short_usable = 0;

	for (align = 16; align <= 4096; align *= 2) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			void *p = NULL;

			if (_i == 0)
				p = tw.memalign(align, sizes[i]);
			else if (_i == 1)
				p = tw.aligned_alloc(align, sizes[i]);
			else if (tw.posix_memalign(&p, align, sizes[i]) != 0)
				p = NULL;
			if (!p) {
				failed++;
				continue;
			}
			misaligned += ((uintptr_t)p & (align - 1)) != 0;
			short_usable += tw.malloc_usable_size(p) < sizes[i];
			memset(p, 0x5a, tw.malloc_usable_size(p));
			tw.free(p);
		}
	}
	ck_assert_int_eq(failed, 0);
	ck_assert_int_eq(misaligned, 0);
	ck_assert_int_eq(short_usable, 0);
}
END_TEST

START_TEST(valloc_pvalloc_pages)
{
	size_t page = page_size();
	void *v = tw.valloc(100), *pv = tw.pvalloc(100), *pv0 = tw.pvalloc(0);
	void *pvp = tw.pvalloc(page + 1);

	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(pv);
	ck_assert_ptr_nonnull(pv0);
	ck_assert_ptr_nonnull(pvp);
	ck_assert_uint_eq((uintptr_t)v & (page - 1), 0);
	ck_assert_uint_eq((uintptr_t)pv & (page - 1), 0);
	ck_assert_uint_eq((uintptr_t)pv0 & (page - 1), 0);
	ck_assert_uint_eq((uintptr_t)pvp & (page - 1), 0);
	ck_assert_uint_ge(tw.malloc_usable_size(v), 100);
	/* pvalloc rounds the size up to whole pages, at least one */
	ck_assert_uint_ge(tw.malloc_usable_size(pv), page);
	ck_assert_uint_ge(tw.malloc_usable_size(pv0), page);
	ck_assert_uint_ge(tw.malloc_usable_size(pvp), 2 * page);
	memset(pv, 1, tw.malloc_usable_size(pv));
	memset(pvp, 1, tw.malloc_usable_size(pvp));
	tw.free(v);
	tw.free(pv);
	tw.free(pv0);
	tw.free(pvp);
}
END_TEST

START_TEST(calloc_zeroes)
{
	/* including blocks recycled from dirty frees */
	size_t sizes[] = { 8, 100, 1000, 200000 }, i, j, dirty = 0;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = tw.malloc(sizes[i]), *q;

		ck_assert_ptr_nonnull(p);
		memset(p, 0xab, tw.malloc_usable_size(p));
		tw.free(p);
		q = tw.calloc(sizes[i], 1);
		ck_assert_ptr_nonnull(q);
		for (j = 0; j < sizes[i]; j++)
			dirty += q[j] != 0;
		tw.free(q);
	}
	ck_assert_uint_eq(dirty, 0);
}
END_TEST

START_TEST(free_null_is_noop)
{
	ta_group *root = ta_group_root();
	struct ta_stats s0 = stats_of(root), s1;
	struct ta_diag d0 = diag_now(), d1;

	tw.free(NULL);
	tw.free_sized(NULL, 10);
	tw.free_aligned_sized(NULL, 64, 10);
	s1 = stats_of(root);
	d1 = diag_now();
	ck_assert_stats_same(s0, s1);
	ck_assert_mem_eq(&d0, &d1, sizeof(d0));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("wrapper");
	TCase *tc = tcase_new("wrapper");

	tcase_add_test(tc, malloc_zero_distinct);
	tcase_add_test(tc, overflowing_sizes);
	tcase_add_test(tc, realloc_overflow_keeps_block);
	tcase_add_test(tc, reallocarray_overflow_keeps_block);
	tcase_add_test(tc, posix_memalign_errors);
	tcase_add_loop_test(tc, alignment_honoured, 0, 3);
	tcase_add_test(tc, valloc_pvalloc_pages);
	tcase_add_test(tc, calloc_zeroes);
	tcase_add_test(tc, free_null_is_noop);
	suite_add_tcase(s, tc);
	return s;
}
