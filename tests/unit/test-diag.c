/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics: pointers the wrapper did not produce, clobbered trailers and
 * double frees are counted, never crash, never touch a group's counters.
 *
 * None of this needs skipping under ASan: the wrapper's inner allocator is
 * glibc in every build (the sanitizer's malloc comes before libtrackalloc in
 * symbol order, not after), and ASan does not watch glibc's heap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ta-check.h"

/* Counters of every group a test touches, and the diagnostics, at once. */
struct snap {
	struct ta_stats g, root;
	struct ta_diag d;
};

static struct snap snap_now(const ta_group *g)
{
	struct snap s;

	s.g = stats_of(g);
	s.root = stats_of(ta_group_root());
	s.d = diag_now();
	return s;
}

/* Total of the counters that report an unverifiable trailer. */
static uint64_t bad_trailers(const struct ta_diag *d)
{
	return d->foreign_frees + d->corrupt_trailers;
}

START_TEST(foreign_free)
{
	ta_group *g = group_new("foreign");
	struct snap a, b;
	/* straight from glibc, zeroed so that no stale trailer can lurk in it */
	void *q = tw.libc_calloc(1, 100);
	ta_guard guard;

	ck_assert_ptr_nonnull(q);
	guard = ta_group_enter(g);
	a = snap_now(g);
	tw.free(q); /* handed to glibc's free untouched */
	b = snap_now(g);
	ta_guard_exit(&guard);

	ck_assert_uint_eq(b.d.foreign_frees, a.d.foreign_frees + 1);
	ck_assert_uint_eq(b.d.double_frees, a.d.double_frees);
	ck_assert_stats_same(a.g, b.g);
	ck_assert_stats_same(a.root, b.root);
}
END_TEST

START_TEST(foreign_realloc)
{
	/* realloc of a foreign block: its contents move into a block of the
	 * wrapper, charged to the caller's group like any new allocation */
	ta_group *g = group_new("foreign-re");
	unsigned char *q = tw.libc_calloc(1, 64), *r;
	struct ta_diag d0, d1;
	struct ta_stats s0, s1;
	ta_guard guard;
	size_t i, bad = 0;

	ck_assert_ptr_nonnull(q);
	for (i = 0; i < 64; i++)
		q[i] = (unsigned char)(i + 3);
	s0 = stats_of(g);
	d0 = diag_now();
	guard = ta_group_enter(g);
	r = tw.realloc(q, 128);
	ta_guard_exit(&guard);
	s1 = stats_of(g);
	d1 = diag_now();
	ck_assert_ptr_nonnull(r);
	for (i = 0; i < 64; i++)
		bad += r[i] != (unsigned char)(i + 3);
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(d1.foreign_frees, d0.foreign_frees + 1);
	ck_assert_stats_delta(s0, s1, 128, 1, 0, 0);
	tw.free(r);
	s0 = stats_of(g);
	ck_assert_stats_delta(s1, s0, 0, 0, 128, 1);

	/* and realloc(foreign, 0) frees it, counting nothing in any group */
	q = tw.libc_calloc(1, 64);
	ck_assert_ptr_nonnull(q);
	s0 = stats_of(g);
	d0 = diag_now();
	guard = ta_group_enter(g);
	r = tw.realloc(q, 0);
	ta_guard_exit(&guard);
	s1 = stats_of(g);
	d1 = diag_now();
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(d1.foreign_frees, d0.foreign_frees + 1);
	ck_assert_stats_same(s0, s1);
}
END_TEST

/* Allocate @n bytes in @g, clobber the trailer with @how, free it. */
static void check_clobbered(size_t n, int how)
{
	ta_group *g = group_new("clobber");
	struct snap a, b;
	ta_guard guard = ta_group_enter(g);
	unsigned char *p = tw.malloc(n);
	size_t usable;

	ta_guard_exit(&guard);
	ck_assert_ptr_nonnull(p);
	usable = tw.malloc_usable_size(p);
	/* the inner block holds usable + trailer bytes, all writable */
	ck_assert_uint_ge(tw.libc_usable(p), usable + 1);
	switch (how) {
	case 0: /* an overflow of a whole word with a fill pattern */
		memset(p + usable, 0xa5, tw.libc_usable(p) - usable);
		break;
	case 1: /* a single byte past the end overwritten */
		p[usable] = (unsigned char)~p[usable];
		break;
	case 2: /* one flipped bit in the group id field */
		p[usable] ^= 0x02;
		break;
	case 3: /* one flipped bit in the check bits (the last byte) */
		p[tw.libc_usable(p) - 1] ^= 0x80;
		break;
	case 4: { /* the trailer of another live block of the same group and
		   * size, copied over: the address is in the check */
		unsigned char *q;

		guard = ta_group_enter(g);
		q = tw.malloc(n);
		ta_guard_exit(&guard);
		ck_assert_ptr_nonnull(q);
		ck_assert_uint_eq(tw.libc_usable(q), tw.libc_usable(p));
		memcpy(p + tw.libc_usable(p) - 8, q + tw.libc_usable(q) - 8, 8);
		tw.free(q);
		break;
	}
	}
	a = snap_now(g);
	tw.free(p);
	b = snap_now(g);

	ck_assert_uint_eq(bad_trailers(&b.d), bad_trailers(&a.d) + 1);
	ck_assert_uint_eq(b.d.double_frees, a.d.double_frees);
	/* the block stays charged to g: nothing is credited anywhere */
	ck_assert_stats_same(a.g, b.g);
	ck_assert_stats_same(a.root, b.root);
	ck_assert_uint_eq(a.g.allocated_objects - a.g.freed_objects, 1);
}

/* A block too large for the trailer's size field (an ext block) keeps its
 * size in the word before the trailer: clobbering that word is caught too. */
START_TEST(clobbered_ext_size)
{
	/* _i: the bit of the size word flipped (the group id's field, the
	 * size's, a high one) */
	static const int bits[] = { 1, 20, 40 };
	size_t n = (size_t)300 << 20; /* mmapped: its pages are never touched */
	ta_group *g = group_new("clobber-ext");
	struct snap a, b;
	ta_guard guard = ta_group_enter(g);
	unsigned char *p = tw.malloc(n);
	uint64_t word;

	ta_guard_exit(&guard);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(tw.malloc_usable_size(p), tw.libc_usable(p) - 16);
	memcpy(&word, p + tw.libc_usable(p) - 16, sizeof(word));
	ck_assert_uint_eq(word, n);
	word ^= 1ull << bits[_i];
	memcpy(p + tw.libc_usable(p) - 16, &word, sizeof(word));
	a = snap_now(g);
	tw.free(p);
	b = snap_now(g);

	ck_assert_uint_eq(bad_trailers(&b.d), bad_trailers(&a.d) + 1);
	ck_assert_uint_eq(b.d.double_frees, a.d.double_frees);
	ck_assert_stats_same(a.g, b.g);
	ck_assert_stats_same(a.root, b.root);
}
END_TEST

START_TEST(clobbered_trailer)
{
	/* _i: clobber pattern x three block sizes (small, large, mmapped) */
	static const size_t sizes[] = { 100, 5000, 300000 };

	check_clobbered(sizes[_i % 3], _i / 3);
}
END_TEST

START_TEST(double_free)
{
	ta_group *g = group_new("double");
	struct snap a, b, c;
	ta_guard guard;
	void *p, *r;
	int err;

	/* with MALLOC_PERTURB_ glibc scribbles over freed blocks that miss
	 * its tcache (a full bin), trailer included */
	inner_perturb_off();
	guard = ta_group_enter(g);
	p = tw.malloc(100);
	ta_guard_exit(&guard);
	ck_assert_ptr_nonnull(p);

	/* nothing may allocate between the frees: the block could be reused */
	tw.free(p);
	a = snap_now(g);
	tw.free(p);
	b = snap_now(g);
	errno = 0;
	r = tw.realloc(p, 200);
	err = errno;
	c = snap_now(g);

	ck_assert_uint_eq(a.g.freed_objects - a.g.allocated_objects, 0);
	ck_assert_uint_eq(b.d.double_frees, a.d.double_frees + 1);
	ck_assert_uint_eq(b.d.foreign_frees, a.d.foreign_frees);
	ck_assert_stats_same(a.g, b.g);
	ck_assert_stats_same(a.root, b.root);
	/* a realloc of the freed block is refused the same way */
	ck_assert_ptr_null(r);
	ck_assert_int_ne(err, 0);
	ck_assert_uint_eq(c.d.double_frees, b.d.double_frees + 1);
	ck_assert_stats_same(b.g, c.g);
	ck_assert_stats_same(b.root, c.root);
}
END_TEST

START_TEST(double_free_many)
{
	/* The freed mark is a fixed bit of the stored trailer, whose decoded
	 * word then never verifies as live: every second free is caught, for
	 * every address, size and group. Seven blocks in each of glibc's
	 * first 63 tcache bins: allocating them empties those bins, so the
	 * first frees all stay in the tcache, which keeps the trailer (a
	 * block freed into glibc's other bins may merge with its neighbour,
	 * after which nobody can tell its second free from a foreign one). */
	enum { BINS = 63, PER_BIN = 7, N = BINS * PER_BIN };
	ta_group *g = group_new("double-many");
	static void *blocks[N];
	struct snap a, b;
	ta_guard guard;
	int i;

	inner_perturb_off();
	guard = ta_group_enter(g);
	for (i = 0; i < N; i++) /* request + trailer = 16 (k + 1): bin k */
		blocks[i] = tw.malloc((size_t)(16 * (i % BINS) + 8));
	ta_guard_exit(&guard);
	for (i = 0; i < N; i++)
		ck_assert_ptr_nonnull(blocks[i]);
	/* nothing allocates between the frees */
	a = snap_now(g);
	for (i = 0; i < N; i++) {
		tw.free(blocks[i]);
		tw.free(blocks[i]);
	}
	b = snap_now(g);
	ck_assert_uint_eq(b.d.double_frees, a.d.double_frees + N);
	ck_assert_uint_eq(bad_trailers(&b.d), bad_trailers(&a.d));
	ck_assert_uint_eq(b.g.freed_objects, a.g.freed_objects + N);
}
END_TEST

START_TEST(double_free_each_entry_point)
{
	/* blocks of every kind carry a trailer that records the first free */
	ta_group *g = group_new("double-kinds");
	void *blocks[6], *p = NULL;
	struct ta_stats s0, s1;
	struct ta_diag d0, d1;
	ta_guard guard;
	int i;

	inner_perturb_off();
	guard = ta_group_enter(g);
	blocks[0] = tw.calloc(3, 50);
	blocks[1] = tw.memalign(256, 100);
	blocks[2] = tw.posix_memalign(&p, 64, 300) == 0 ? p : NULL;
	blocks[3] = tw.valloc(10);
	blocks[4] = tw.malloc(300000);
	blocks[5] = tw.realloc(tw.malloc(10), 500);
	ta_guard_exit(&guard);
	for (i = 0; i < 6; i++)
		ck_assert_ptr_nonnull(blocks[i]);
	/* the 300000-byte block is mmapped: freeing it unmaps it, so it
	 * cannot be freed twice safely by anyone; it only takes part once */
	for (i = 0; i < 6; i++)
		tw.free(blocks[i]);
	s0 = stats_of(g);
	d0 = diag_now();
	for (i = 0; i < 6; i++)
		if (i != 4)
			tw.free(blocks[i]);
	s1 = stats_of(g);
	d1 = diag_now();
	ck_assert_uint_eq(d1.double_frees, d0.double_frees + 5);
	ck_assert_uint_eq(d1.foreign_frees, d0.foreign_frees);
	ck_assert_stats_same(s0, s1);
}
END_TEST

START_TEST(double_free_outside_tcache)
{
	/* Blocks that glibc's tcache does not take (larger than 1032 bytes,
	 * or any size once its tcache bin holds 7 blocks) go to glibc's bins,
	 * and glibc then writes the size of the free chunk into its last word
	 * (the "foot"), where the trailer is. A second free of such a block
	 * must still be a counted double free, not a crash.
	 * _i: 0-2 large heap blocks (below the mmap threshold), 3 a small
	 * block freed while its tcache bin is full. */
	static const size_t sizes[] = { 2000, 5000, 100000, 500 };
	ta_group *g = group_new("double-big");
	size_t n = sizes[_i];
	void *before, *after, *p, *fill[7];
	struct snap a, b;
	ta_guard guard;
	int i;

	inner_perturb_off();
	guard = ta_group_enter(g);
	for (i = 0; i < 7; i++)
		fill[i] = tw.malloc(n);
	before = tw.malloc(n);
	p = tw.malloc(n);
	after = tw.malloc(n); /* keeps p from merging into the top chunk */
	ta_guard_exit(&guard);
	ck_assert_ptr_nonnull(before);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(after);
	for (i = 0; i < 7; i++) {
		ck_assert_ptr_nonnull(fill[i]);
		if (_i == 3)
			tw.free(fill[i]); /* fills the tcache bin of this size */
	}

	tw.free(p);
	a = snap_now(g);
	tw.free(p);
	b = snap_now(g);

	ck_assert_uint_eq(b.d.double_frees, a.d.double_frees + 1);
	ck_assert_stats_same(a.g, b.g);
	ck_assert_stats_same(a.root, b.root);
	tw.free(before);
	tw.free(after);
	for (i = 0; i < 7 && _i != 3; i++)
		tw.free(fill[i]);
}
END_TEST

START_TEST(use_after_free_in_cache)
{
	/* A freed block the thread's cache holds, written after the free (a
	 * use after free over its first word, the cache's link): the next
	 * malloc of that size hands out a good block, never what the link
	 * now says, and the broken list is counted. */
	ta_group *g = group_new("uaf");
	struct snap a, b;
	ta_guard guard;
	unsigned char *p, *q;
	uintptr_t bad;

	if (!diag_now().fast_usable_size)
		return; /* no cache without glibc's layout */
	guard = ta_group_enter(g);
	p = tw.malloc(100);
	ck_assert_ptr_nonnull(p);
	tw.free(p); /* the head of its class's list */
	bad = ((uintptr_t)p >> 12) ^ 1; /* a link to address 1 */
	memcpy(p, &bad, sizeof(bad));
	a = snap_now(g);
	q = tw.malloc(100);
	b = snap_now(g);
	ta_guard_exit(&guard);

	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq((uintptr_t)q & 15, 0);
	memset(q, 0x5a, 100);
	ck_assert_uint_eq(b.d.corrupt_trailers, a.d.corrupt_trailers + 1);
	ck_assert_uint_eq(b.g.allocated_objects, a.g.allocated_objects + 1);
	tw.free(q);
}
END_TEST

START_TEST(usable_size_of_foreign_and_freed)
{
	void *q = tw.libc_calloc(1, 100);

	ck_assert_ptr_nonnull(q);
	/* a foreign block reports the inner allocator's usable size */
	ck_assert_uint_eq(tw.malloc_usable_size(q), tw.libc_usable(q));
	tw.free(q);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("diag");
	TCase *tc = tcase_new("diag");

	tcase_add_test(tc, foreign_free);
	tcase_add_test(tc, foreign_realloc);
	tcase_add_loop_test(tc, clobbered_trailer, 0, 15);
	tcase_add_loop_test(tc, clobbered_ext_size, 0, 3);
	tcase_add_test(tc, double_free);
	tcase_add_test(tc, double_free_many);
	tcase_add_test(tc, double_free_each_entry_point);
	tcase_add_loop_test(tc, double_free_outside_tcache, 0, 4);
	tcase_add_test(tc, use_after_free_in_cache);
	tcase_add_test(tc, usable_size_of_foreign_and_freed);
	suite_add_tcase(s, tc);
	return s;
}
