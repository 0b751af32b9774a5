/* SPDX-License-Identifier: MIT */
/*
 * Limits on one thread (trackalloc.h, "Peaks and limits"): the soft
 * callback runs once per crossing, on the allocating thread after the
 * allocation, and may allocate, free and call the API; a hard limit refuses
 * exactly the allocation that would take the group over it, in every
 * allocation function with that function's own error contract, while other
 * groups allocate freely; raising or removing it lets allocations through;
 * struct ta_diag_ext counts each refusal.
 *
 * Nothing is asserted while a test's group is active (ta-check.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ta-check.h"

#define KIB 1024u

static uint64_t live_of(const ta_group *g)
{
	struct ta_stats s = stats_of(g);

	return s.allocated_bytes - s.freed_bytes;
}

/* ta_diag_ext.limit_failures; no assertion (also read inside groups). */
static uint64_t refusals(void)
{
	struct ta_diag_ext d;

	if (ta_diag_ext_read(&d, sizeof(d)) != 0)
		return UINT64_MAX / 2;
	return d.limit_failures;
}

/* ---- the soft limit ----------------------------------------------------- */

#define MAXCALLS 64

struct soft_log {
	ta_group *expect_g;
	int calls;
	uint64_t live[MAXCALLS];      /* the callback's argument */
	uint64_t stats_live[MAXCALLS]; /* ta_group_stats from inside */
	int right_group, right_current, api_ok;
	/* a cache the callback trims, and a block it keeps per call */
	void **cache;
	size_t *ncache;
	void *kept[MAXCALLS];
	/* a new soft limit the callback sets, doubling (0: none) */
	uint64_t raise_to;
};

static void on_soft(ta_group *g, uint64_t live, void *ctx)
{
	struct soft_log *log = ctx;
	struct ta_stats st;
	uint64_t peak, soft, hard;
	int i = log->calls++;

	if (i >= MAXCALLS)
		return;
	log->live[i] = live;
	log->right_group += g == log->expect_g;
	log->right_current += ta_group_current() == log->expect_g;
	if (ta_group_stats(g, &st) == 0 && ta_group_peak(g, &peak) == 0 &&
	    ta_group_limit_get(g, &soft, &hard) == 0)
		log->api_ok++;
	log->stats_live[i] = st.allocated_bytes - st.freed_bytes;
	if (log->cache) {
		while (*log->ncache)
			tw.free(log->cache[--*log->ncache]);
	}
	/* the callback allocates: counted in the thread's active group, g */
	log->kept[i] = tw.malloc(100);
	if (log->raise_to) {
		if (ta_group_limit_set(g, log->raise_to, 0, on_soft, log) == 0)
			log->api_ok++;
		log->raise_to *= 2;
	}
}

START_TEST(soft_once_per_crossing)
{
	ta_group *g = group_new("soft-once");
	static struct soft_log log;
	static void *b[1024];
	static int up1[1024], up2[1024];
	const uint64_t soft = 1024 * KIB;
	size_t n = 0, i;
	int after_wobble, after_down;
	ta_guard guard;

	memset(&log, 0, sizeof(log));
	log.expect_g = g;
	ck_assert_int_eq(ta_group_limit_set(g, soft, 0, on_soft, &log), 0);
	guard = ta_group_enter(g);
	/* up to 1.5 MiB in 4 KiB blocks: 256 of them are exactly the limit */
	for (; n < 384; n++) {
		b[n] = tw.malloc(4 * KIB);
		up1[n] = log.calls;
	}
	/* wobble above the limit: nothing seen below it */
	for (i = 0; i < 20; i++) {
		tw.free(b[--n]);
		b[n] = tw.malloc(4 * KIB);
		n++;
	}
	after_wobble = log.calls;
	/* down to 512 KiB: more than TA_PEAK_PRECISION freed below the limit */
	while (n > 128)
		tw.free(b[--n]);
	after_down = log.calls;
	/* and over it again: the second crossing */
	for (; n < 384; n++) {
		b[n] = tw.malloc(4 * KIB);
		up2[n] = log.calls;
	}
	ta_guard_exit(&guard);
	while (n)
		tw.free(b[--n]);
	for (i = 0; i < (size_t)log.calls && i < MAXCALLS; i++)
		tw.free(log.kept[i]);

	/* not at 1 MiB exactly: at the allocation that passed it, once */
	for (i = 0; i < 256; i++)
		ck_assert_msg(up1[i] == 0, "block %zu: %d calls", i, up1[i]);
	for (i = 256; i < 384; i++)
		ck_assert_msg(up1[i] == 1, "block %zu: %d calls", i, up1[i]);
	ck_assert_uint_eq(log.live[0], 257 * 4 * KIB);
	ck_assert_uint_eq(log.stats_live[0], 257 * 4 * KIB);
	ck_assert_int_eq(after_wobble, 1);
	ck_assert_int_eq(after_down, 1);
	/* the second crossing: 256 blocks and the first call's 100 bytes are
	 * the first figure over 1 MiB */
	for (i = 128; i < 255; i++)
		ck_assert_msg(up2[i] == 1, "again, block %zu: %d calls", i, up2[i]);
	for (i = 255; i < 384; i++)
		ck_assert_msg(up2[i] == 2, "again, block %zu: %d calls", i, up2[i]);
	ck_assert_int_eq(log.calls, 2);
	ck_assert_uint_eq(log.live[1], 256 * 4 * KIB + 100);
	ck_assert_uint_eq(log.stats_live[1], 256 * 4 * KIB + 100);
	ck_assert_int_eq(log.right_group, 2);
	ck_assert_int_eq(log.right_current, 2);
	ck_assert_int_eq(log.api_ok, 2);
	ck_assert_uint_eq(live_of(g), 0);
}
END_TEST

START_TEST(soft_callback_trims_cache)
{
	/* The callback empties a cache the program fills: the cache never
	 * stays above the limit, and the callback's own allocations and frees
	 * count in the group. The expected calls follow from the sizes alone:
	 * one thread, and each trim frees more than twice TA_PEAK_PRECISION,
	 * so the thread's balance passes -TA_PEAK_PRECISION during it and the
	 * return below the limit is seen (the re-arm, trackalloc.h). */
	ta_group *g = group_new("soft-cache");
	static struct soft_log log;
	static void *cache[1024];
	static size_t ncache;
	const uint64_t soft = 1024 * KIB, each = 4 * KIB;
	const size_t total = 2000;
	uint64_t sim_live = 0, sim_calls = 0, sim_first_live[MAXCALLS], max_cache = 0, left;
	struct ta_stats s0, s1;
	size_t i;
	ta_guard guard;

	memset(&log, 0, sizeof(log));
	log.expect_g = g;
	log.cache = cache;
	log.ncache = &ncache;
	ncache = 0;
	ck_assert_int_eq(ta_group_limit_set(g, soft, 0, on_soft, &log), 0);
	s0 = stats_of(g);
	guard = ta_group_enter(g);
	for (i = 0; i < total; i++) {
		void *p = tw.malloc(each); /* may trim the cache */

		cache[ncache++] = p;
		if (ncache > max_cache)
			max_cache = ncache;
	}
	ta_guard_exit(&guard);
	s1 = stats_of(g);
	left = ncache;
	while (ncache)
		tw.free(cache[--ncache]);
	for (i = 0; i < (size_t)log.calls && i < MAXCALLS; i++)
		tw.free(log.kept[i]);

	/* the same, simulated */
	{
		uint64_t in_cache = 0;

		for (i = 0; i < total; i++) {
			sim_live += each;
			if (sim_live > soft) {
				if (sim_calls < MAXCALLS)
					sim_first_live[sim_calls] = sim_live;
				sim_calls++;
				sim_live -= in_cache * each;
				in_cache = 0;
				sim_live += 100;
			}
			in_cache++; /* the block that crossed stays */
		}
	}
	ck_assert_uint_ge(sim_calls, 7);
	ck_assert_int_eq(log.calls, (int)sim_calls);
	for (i = 0; i < sim_calls; i++)
		ck_assert_uint_eq(log.live[i], sim_first_live[i]);
	ck_assert_int_eq(log.right_group, log.calls);
	ck_assert_int_eq(log.api_ok, log.calls);
	ck_assert_uint_le(max_cache * each, soft + each);
	/* everything the callback allocated and freed counted in g */
	ck_assert_uint_eq(s1.allocated_bytes - s0.allocated_bytes, total * each + 100 * sim_calls);
	ck_assert_uint_eq(s1.allocated_objects - s0.allocated_objects, total + sim_calls);
	ck_assert_uint_eq(s1.freed_objects - s0.freed_objects, total - left);
	ck_assert_uint_eq(s1.freed_bytes - s0.freed_bytes, (total - left) * each);
}
END_TEST

START_TEST(soft_callback_raises_its_limit)
{
	/* ta_group_limit_set from the callback: each new limit fires once. */
	ta_group *g = group_new("soft-raise");
	static struct soft_log log;
	static void *b[512];
	size_t n, i;
	ta_guard guard;

	memset(&log, 0, sizeof(log));
	log.expect_g = g;
	log.raise_to = 512 * KIB;
	ck_assert_int_eq(ta_group_limit_set(g, 256 * KIB, 0, on_soft, &log), 0);
	guard = ta_group_enter(g);
	for (n = 0; n < 384; n++) /* 1.5 MiB */
		b[n] = tw.malloc(4 * KIB);
	ta_guard_exit(&guard);
	for (i = 0; i < n; i++)
		tw.free(b[i]);
	for (i = 0; i < (size_t)log.calls && i < MAXCALLS; i++)
		tw.free(log.kept[i]);

	ck_assert_int_eq(log.calls, 3);
	ck_assert_uint_eq(log.live[0], 65 * 4 * KIB);
	ck_assert_uint_eq(log.live[1], 128 * 4 * KIB + 100);
	ck_assert_uint_eq(log.live[2], 256 * 4 * KIB + 200);
	ck_assert_int_eq(log.api_ok, 6);
}
END_TEST

START_TEST(soft_set_above_fires_at_next_allocation)
{
	ta_group *g = group_new("soft-late");
	static struct soft_log log;
	static void *b[300];
	void *one;
	size_t n;
	int before, after;
	ta_guard guard;

	memset(&log, 0, sizeof(log));
	log.expect_g = g;
	guard = ta_group_enter(g);
	for (n = 0; n < 300; n++)
		b[n] = tw.malloc(1000);
	tw.free(b[--n]); /* below the thread's high: the next one is no new high */
	before = log.calls;
	(void)ta_group_limit_set(g, 100000, 0, on_soft, &log);
	one = tw.malloc(1);
	after = log.calls;
	ta_guard_exit(&guard);
	tw.free(one);
	while (n)
		tw.free(b[--n]);
	tw.free(log.kept[0]);

	ck_assert_int_eq(before, 0);
	ck_assert_int_eq(after, 1);
	ck_assert_uint_eq(log.live[0], 299 * 1000 + 1);
}
END_TEST

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
	Suite *s = suite_create("limits");
	TCase *tc = tcase_new("soft");

	tcase_add_test(tc, soft_once_per_crossing);
	tcase_add_test(tc, soft_callback_trims_cache);
	tcase_add_test(tc, soft_callback_raises_its_limit);
	tcase_add_test(tc, soft_set_above_fires_at_next_allocation);
	suite_add_tcase(s, tc);
	tc = tcase_new("hard");
	tcase_add_test(tc, hard_refuses_exactly);
	tcase_add_test(tc, hard_set_below_own_high);
	tcase_add_test(tc, hard_raise_and_remove);
	tcase_add_loop_test(tc, hard_every_function, 0, K_KINDS);
	tcase_add_test(tc, realloc_shrink_over_limit);
	suite_add_tcase(s, tc);
	return s;
}
