/* SPDX-License-Identifier: MIT */
/*
 * Hard limits on one thread (trackalloc.h, "Peaks and limits"): the exact
 * allocation that would take the group over its limit fails, in every
 * allocation function with that function's own error contract (NULL and
 * ENOMEM; posix_memalign returns ENOMEM and leaves *out alone; realloc
 * keeps the old block intact), while other groups allocate freely;
 * nothing of a refused allocation is counted, and struct ta_diag_ext
 * counts each refusal once; raising or removing the limit lets
 * allocations through. The soft limit crossed by each function calls back.
 *
 * Nothing is asserted while a test's group is active (ta-check.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ta-limits-test.h"

/* ---- the hard limit ------------------------------------------------------ */

START_TEST(hard_refuses_exactly)
{
	ta_group *g = group_new("hard-exact"), *other = group_new("hard-other");
	void *a, *b, *c, *d, *o, *r, *e;
	int err_c = 0, err_e = 0;
	uint64_t f0, f1, f2, f3;
	struct ta_stats s0, s1;
	ta_guard guard;

	ck_assert_int_eq(ta_group_limit_set(g, 0, 100000, NULL, NULL), 0);
	f0 = refusals();
	guard = ta_group_enter(g);
	a = tw.malloc(60000);
	b = tw.malloc(40000); /* exactly at the limit: allowed */
	s0 = stats_of(g);
	errno = 0;
	c = tw.malloc(1); /* would pass it */
	err_c = errno;
	s1 = stats_of(g);
	ta_guard_exit(&guard);
	f1 = refusals();
	/* other groups, and root, allocate freely meanwhile */
	guard = ta_group_enter(other);
	o = tw.malloc(500000);
	ta_guard_exit(&guard);
	r = tw.malloc(200000);
	f2 = refusals();
	guard = ta_group_enter(g);
	tw.free(b);
	errno = 0;
	e = tw.malloc(40001);
	err_e = errno;
	d = tw.malloc(40000);
	ta_guard_exit(&guard);
	f3 = refusals();

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(err_c, ENOMEM);
	ck_assert_stats_same(s0, s1); /* the refused block was not counted */
	ck_assert_uint_eq(f1 - f0, 1);
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(f2 - f1, 0);
	ck_assert_ptr_null(e);
	ck_assert_int_eq(err_e, ENOMEM);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(f3 - f2, 1);
	ck_assert_uint_eq(live_of(g), 100000);
	tw.free(a);
	tw.free(d);
	tw.free(o);
	tw.free(r);
	ck_assert_uint_eq(live_of(g), 0);
}
END_TEST

START_TEST(hard_set_below_own_high)
{
	/* "the calling thread's own balance is added first, so its next
	 * allocation in g is checked exactly": also one that is no new high
	 * of the thread's. */
	ta_group *g = group_new("hard-own");
	void *a, *b, *c, *d;
	int err;
	ta_guard guard = ta_group_enter(g);

	a = tw.malloc(50000);
	b = tw.malloc(20000);
	tw.free(b);                      /* live 50000, the thread's high 70000 */
	(void)ta_group_limit_set(g, 0, 55000, NULL, NULL);
	errno = 0;
	c = tw.malloc(5001);             /* 55001: over */
	err = errno;
	d = tw.malloc(5000);             /* 55000: at */
	ta_guard_exit(&guard);

	ck_assert_ptr_null(c);
	ck_assert_int_eq(err, ENOMEM);
	ck_assert_ptr_nonnull(d);
	tw.free(a);
	tw.free(d);
}
END_TEST

START_TEST(hard_raise_and_remove)
{
	ta_group *g = group_new("hard-raise");
	static void *b[64];
	void *x[6];
	uint64_t soft = 1, hard = 1;
	size_t i;
	ta_guard guard;

	ck_assert_int_eq(ta_group_limit_set(g, 0, 64 * 1000, NULL, NULL), 0);
	guard = ta_group_enter(g);
	for (i = 0; i < 64; i++)
		b[i] = tw.malloc(1000);
	x[0] = tw.malloc(1);                                /* refused */
	(void)ta_group_limit_set(g, 0, 64 * 1000 + 10, NULL, NULL);
	x[1] = tw.malloc(10);                               /* fits the new limit */
	x[2] = tw.malloc(1);                                /* refused */
	(void)ta_group_limit_set(g, 0, 0, NULL, NULL);      /* removed */
	x[3] = tw.malloc(4 << 20);                          /* anything goes */
	(void)ta_group_limit_set(g, 0, 1000, NULL, NULL);   /* below the live bytes */
	tw.free(x[3]);
	x[4] = tw.malloc(1);                                /* still far over */
	(void)ta_group_limit_get(g, &soft, &hard);
	(void)ta_group_limit_set(g, 0, 0, NULL, NULL);
	x[5] = tw.malloc(1);
	ta_guard_exit(&guard);

	ck_assert_ptr_null(x[0]);
	ck_assert_ptr_nonnull(x[1]);
	ck_assert_ptr_null(x[2]);
	ck_assert_ptr_nonnull(x[3]);
	ck_assert_ptr_null(x[4]);
	ck_assert_uint_eq(soft, 0);
	ck_assert_uint_eq(hard, 1000);
	ck_assert_ptr_nonnull(x[5]);
	tw.free(x[1]);
	tw.free(x[5]);
	for (i = 0; i < 64; i++)
		tw.free(b[i]);
	ck_assert_uint_eq(live_of(g), 0);
}
END_TEST

START_TEST(realloc_shrink_over_limit)
{
	/* A hard limit set below the live bytes: growing fails, but a realloc
	 * that makes the group smaller takes it over nothing and succeeds, as
	 * a free does. */
	ta_group *g = group_new("hard-shrink");
	void *p, *q, *grown, *same;
	int err_grown;
	uint64_t live_after;
	ta_guard guard = ta_group_enter(g);

	p = tw.malloc(100000);
	memset(p, 0x33, 100000);
	(void)ta_group_limit_set(g, 0, 50000, NULL, NULL);
	errno = 0;
	grown = tw.realloc(p, 100001);
	err_grown = errno;
	q = tw.realloc(p, 60000);    /* still over, but 40000 less */
	same = q ? tw.realloc(q, 60000) : NULL;
	ta_guard_exit(&guard);
	live_after = live_of(g);

	ck_assert_ptr_null(grown);
	ck_assert_int_eq(err_grown, ENOMEM);
	ck_assert_msg(q != NULL, "realloc shrinking 100000 to 60000 bytes failed under a hard "
	              "limit of 50000");
	ck_assert_uint_eq(((unsigned char *)q)[59999], 0x33);
	ck_assert_uint_eq(live_after, 60000);
	tw.free(same ? same : q);
}
END_TEST

/* ---- every allocation function, its own error contract -------------------- */

enum fn_kind { K_MALLOC, K_CALLOC, K_REALLOC, K_REALLOC_NULL, K_REALLOCARRAY, K_POSIX_MEMALIGN,
	       K_ALIGNED_ALLOC, K_MEMALIGN, K_VALLOC, K_PVALLOC, K_KINDS };

static const char *const kind_name[K_KINDS] = {
	"malloc", "calloc", "realloc", "realloc(NULL)", "reallocarray", "posix_memalign",
	"aligned_alloc", "memalign", "valloc", "pvalloc",
};

/* What one call did, recorded while the group is active. */
struct attempt {
	void *p;        /* the new block, or NULL */
	int err;        /* errno after a NULL; posix_memalign's return */
	int contract;   /* 1 when the function's failure contract held */
};

#define OLD_SIZE 100
#define OUT_SENTINEL ((void *)0x5eed)

/* The size of the block realloc grows. */
static size_t old_size;

/* Grow the group by @n bytes with @kind (realloc: *@old, old_size bytes,
 * its first OLD_SIZE filled with 0x5a, grown by @n; on success *@old is
 * the new block). */
static struct attempt try_kind(enum fn_kind kind, size_t n, void **old)
{
	struct attempt a = { NULL, 0, 1 };
	void *out = OUT_SENTINEL;
	size_t i;
	int ret;

	errno = 0;
	switch (kind) {
	case K_MALLOC: a.p = tw.malloc(n); break;
	case K_CALLOC:
		a.p = tw.calloc(n, 1);
		for (i = 0; a.p && i < n; i++)
			if (((unsigned char *)a.p)[i])
				a.contract = 0;
		break;
	case K_REALLOC:
	case K_REALLOCARRAY:
		a.p = kind == K_REALLOC ? tw.realloc(*old, old_size + n)
		                        : tw.reallocarray(*old, old_size + n, 1);
		/* failed: the old block is kept and intact; moved: copied */
		for (i = 0; i < OLD_SIZE; i++)
			if (((unsigned char *)(a.p ? a.p : *old))[i] != 0x5a)
				a.contract = 0;
		if (a.p) {
			*old = a.p;
			old_size += n;
		}
		break;
	case K_REALLOC_NULL: a.p = tw.realloc(NULL, n); break;
	case K_POSIX_MEMALIGN:
		ret = tw.posix_memalign(&out, 64, n);
		if (ret == 0) {
			a.p = out;
			a.contract = ((uintptr_t)out & 63) == 0;
		} else {
			a.contract = out == OUT_SENTINEL; /* *out untouched */
		}
		a.err = ret;
		return a;
	case K_ALIGNED_ALLOC: a.p = tw.aligned_alloc(32, n); break;
	case K_MEMALIGN: a.p = tw.memalign(256, n); break;
	case K_VALLOC: a.p = tw.valloc(n); break;
	case K_PVALLOC: a.p = tw.pvalloc(n); break;
	default: break;
	}
	a.err = a.p ? 0 : errno;
	return a;
}

static void *fill_to(void **blocks, size_t *nb, uint64_t *live, uint64_t target)
{
	while (*live < target) {
		size_t n = target - *live > 3000 ? 3000 : (size_t)(target - *live);

		blocks[(*nb)++] = tw.malloc(n);
		*live += n;
	}
	return blocks[0];
}

START_TEST(hard_every_function)
{
	const enum fn_kind kind = (enum fn_kind)_i;
	const size_t page = page_size();
	const uint64_t soft = 40000 + 8 * page, hard = 80000 + 16 * page;
	ta_group *g = group_new(kind_name[kind]);
	static struct soft_log log;
	static void *blocks[200];
	size_t nb = 0, i;
	/* grow by: just over soft; past hard; to hard exactly (pvalloc
	 * charges whole pages: sizes that round to what is wanted) */
	const size_t cross = kind == K_PVALLOC ? page - 10 : 1000;
	const size_t over = kind == K_PVALLOC ? page + 1 : 1001;
	const size_t fit = kind == K_PVALLOC ? page - 100 : 1000;
	const size_t charged_fit = kind == K_PVALLOC ? page : 1000;
	struct attempt a_cross, a_over, a_fit, a_again;
	struct ta_stats s_before, s_after;
	uint64_t live = 0, f0, f1, f2, f3;
	void *old = NULL;
	int calls_cross, calls_end;
	ta_guard guard;

	memset(&log, 0, sizeof(log));
	log.expect_g = g;
	ck_assert_int_eq(ta_group_limit_set(g, soft, hard, on_soft, &log), 0);
	guard = ta_group_enter(g);
	if (kind == K_REALLOC || kind == K_REALLOCARRAY) {
		old = tw.malloc(OLD_SIZE);
		old_size = OLD_SIZE;
		memset(old, 0x5a, OLD_SIZE);
		/* the realloc grows the block by n: count it from the start */
		live = OLD_SIZE;
	}
	fill_to(blocks, &nb, &live, soft);
	a_cross = try_kind(kind, cross, &old);  /* over soft: the callback */
	calls_cross = log.calls;
	live += kind == K_PVALLOC ? page : cross;
	live += 100;                            /* what the callback kept */
	fill_to(blocks, &nb, &live, hard - charged_fit);
	f0 = refusals();
	s_before = stats_of(g);
	a_over = try_kind(kind, over, &old);    /* would pass hard by 1 (pvalloc: a page) */
	s_after = stats_of(g);
	f1 = refusals();
	a_fit = try_kind(kind, fit, &old);      /* exactly at hard */
	f2 = refusals();
	a_again = try_kind(kind, 1, &old);      /* over again */
	f3 = refusals();
	calls_end = log.calls;
	ta_guard_exit(&guard);

	ck_assert_msg(a_cross.p && a_cross.contract, "%s: crossing soft failed", kind_name[kind]);
	ck_assert_int_eq(calls_cross, 1);
	ck_assert_uint_eq(log.live[0], soft + (kind == K_PVALLOC ? page : cross));
	ck_assert_msg(!a_over.p, "%s: the allocation that passes hard succeeded", kind_name[kind]);
	ck_assert_int_eq(a_over.err, ENOMEM);
	ck_assert_msg(a_over.contract, "%s: the failure contract did not hold", kind_name[kind]);
	ck_assert_stats_same(s_before, s_after);
	ck_assert_uint_eq(f1 - f0, 1);
	ck_assert_msg(a_fit.p && a_fit.contract, "%s: the allocation up to hard failed (errno %d)",
	              kind_name[kind], a_fit.err);
	ck_assert_uint_eq(f2 - f1, 0);
	ck_assert_ptr_null(a_again.p);
	ck_assert_int_eq(a_again.err, ENOMEM);
	ck_assert_int_eq(a_again.contract, 1);
	ck_assert_uint_eq(f3 - f2, 1);
	ck_assert_int_eq(calls_end, 1); /* one crossing, one call */
	ck_assert_uint_eq(live_of(g), hard);

	if (old) {
		tw.free(old);
	} else {
		tw.free(a_cross.p);
		tw.free(a_fit.p);
	}
	for (i = 0; i < nb; i++)
		tw.free(blocks[i]);
	tw.free(log.kept[0]);
	ck_assert_uint_eq(live_of(g), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("limits-hard");
	TCase *tc = tcase_new("hard");

	tcase_add_test(tc, hard_refuses_exactly);
	tcase_add_test(tc, hard_set_below_own_high);
	tcase_add_test(tc, hard_raise_and_remove);
	tcase_add_loop_test(tc, hard_every_function, 0, K_KINDS);
	tcase_add_test(tc, realloc_shrink_over_limit);
	suite_add_tcase(s, tc);
	return s;
}
