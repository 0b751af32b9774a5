/* SPDX-License-Identifier: MIT */
/*
 * Tracker callbacks: one call per allocation and free with the right
 * arguments, realloc as free + alloc, callbacks that allocate (counted in
 * root, no recursion), clearing, replacing from inside a callback, and
 * ta_tracker_set waiting for callbacks in flight on other threads.
 *
 * Events are recorded into a static array (recording must not allocate).
 * Each check looks only at the events between two marks taken around the
 * calls it makes, so the runner's own allocations never get in the way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "ta-check.h"

enum ev_kind { EV_ALLOC = 1, EV_FREE };

struct ev {
	enum ev_kind kind;
	const void *ptr;
	size_t size, wrapped;
	uint32_t gid, src, cur; /* gid for allocations; src, cur for frees */
	void *ctx;
};

#define MAX_EVS 8192
static struct ev evs[MAX_EVS];
static unsigned nev;
static __thread int in_callback;
static unsigned recursions;

static void record(const struct ev *e)
{
	unsigned i = __atomic_fetch_add(&nev, 1, __ATOMIC_RELAXED);

	if (in_callback)
		__atomic_add_fetch(&recursions, 1, __ATOMIC_RELAXED);
	if (i < MAX_EVS)
		evs[i] = *e;
}

static unsigned mark(void)
{
	return __atomic_load_n(&nev, __ATOMIC_RELAXED);
}

static void on_alloc(void *ctx, const void *ptr, size_t size, size_t wrapped, uint32_t gid)
{
	struct ev e = { EV_ALLOC, ptr, size, wrapped, gid, 0, 0, ctx };

	record(&e);
}

static void on_free(void *ctx, const void *ptr, size_t size, size_t wrapped, uint32_t src,
                    uint32_t cur)
{
	struct ev e = { EV_FREE, ptr, size, wrapped, 0, src, cur, ctx };

	record(&e);
}

static int ctx_token;
static const struct ta_tracker recorder = { on_alloc, on_free, &ctx_token };

static void tracker_off(void)
{
	ta_tracker_set(NULL);
}

/* The events between two marks must be exactly @n. */
#define ck_assert_events(from, to, n)                                                         \
	do {                                                                                  \
		ck_assert_uint_le((to), MAX_EVS);                                             \
		ck_assert_uint_eq((to) - (from), (n));                                        \
	} while (0)

/* @wrapped: the inner block's usable size (trailer included), read while
 * the block was live */
static void check_alloc_ev(const struct ev *e, const void *ptr, size_t size, size_t wrapped,
                           uint32_t gid)
{
	ck_assert_int_eq(e->kind, EV_ALLOC);
	ck_assert_ptr_eq(e->ptr, ptr);
	ck_assert_uint_eq(e->size, size);
	ck_assert_uint_eq(e->wrapped, wrapped);
	ck_assert_uint_eq(e->gid, gid);
	ck_assert_ptr_eq(e->ctx, &ctx_token);
}

static void check_free_ev(const struct ev *e, const void *ptr, size_t size, size_t wrapped,
                          uint32_t src, uint32_t cur)
{
	ck_assert_int_eq(e->kind, EV_FREE);
	ck_assert_ptr_eq(e->ptr, ptr);
	ck_assert_uint_eq(e->size, size);
	ck_assert_uint_eq(e->wrapped, wrapped);
	ck_assert_uint_eq(e->src, src);
	ck_assert_uint_eq(e->cur, cur);
	ck_assert_ptr_eq(e->ctx, &ctx_token);
}

/* One allocation through entry point @k; *want is the size it reports. */
static void *alloc_kind(int k, size_t *want)
{
	void *p = NULL;

	switch (k) {
	case 0:
		*want = 100;
		return tw.malloc(100);
	case 1:
		*want = 0;
		return tw.malloc(0);
	case 2:
		*want = 60;
		return tw.calloc(6, 10);
	case 3:
		*want = 90;
		return tw.memalign(128, 90);
	case 4:
		*want = 64;
		return tw.aligned_alloc(64, 64);
	case 5:
		*want = 33;
		return tw.posix_memalign(&p, 32, 33) == 0 ? p : NULL;
	case 6:
		*want = 5;
		return tw.valloc(5);
	case 7:
		*want = page_size(); /* pvalloc asks for whole pages */
		return tw.pvalloc(5);
	case 8:
		*want = 42;
		return tw.reallocarray(NULL, 6, 7);
	case 9:
		*want = 17;
		return tw.realloc(NULL, 17);
	default:
		return NULL;
	}
}

/* _i: the entry point; allocate in one group, free from another, with each
 * of the three frees in turn. */
START_TEST(alloc_and_free_events)
{
	ta_group *a = group_new("tr-alloc"), *f = group_new("tr-free");
	size_t want = 0, wrapped;
	unsigned m0, m1, m2, m3;
	ta_guard guard;
	void *p;

	ck_assert_int_eq(ta_tracker_set(&recorder), 0);
	guard = ta_group_enter(a);
	m0 = mark();
	p = alloc_kind(_i, &want);
	m1 = mark();
	ta_guard_exit(&guard);
	ck_assert_ptr_nonnull(p);
	wrapped = tw.libc_usable(p);

	guard = ta_group_enter(f);
	m2 = mark();
	if (_i % 3 == 0)
		tw.free(p);
	else if (_i % 3 == 1)
		tw.free_sized(p, want);
	else
		tw.free_aligned_sized(p, 64, want);
	m3 = mark();
	ta_guard_exit(&guard);
	tracker_off();

	ck_assert_events(m0, m1, 1);
	check_alloc_ev(&evs[m0], p, want, wrapped, ta_group_id(a));
	ck_assert_events(m2, m3, 1);
	check_free_ev(&evs[m2], p, want, wrapped, ta_group_id(a), ta_group_id(f));
	ck_assert_uint_eq(recursions, 0);
}
END_TEST

START_TEST(realloc_is_free_plus_alloc)
{
	/* _i: 0 in place (shrink), 1 moving (grow to mmapped) */
	ta_group *a = group_new("tr-re-src"), *b = group_new("tr-re-dst");
	size_t from = _i ? 100 : 1000, to = _i ? (1 << 20) : 10, wrapped_old;
	unsigned m0, m1;
	ta_guard guard;
	void *p, *q;

	guard = ta_group_enter(a);
	p = tw.malloc(from);
	ta_guard_exit(&guard);
	ck_assert_ptr_nonnull(p);
	wrapped_old = tw.libc_usable(p);
	ck_assert_int_eq(ta_tracker_set(&recorder), 0);
	guard = ta_group_enter(b);
	m0 = mark();
	q = tw.realloc(p, to);
	m1 = mark();
	ta_guard_exit(&guard);
	tracker_off();

	ck_assert_ptr_nonnull(q);
	if (_i)
		ck_assert_ptr_ne(q, p);
	else
		ck_assert_ptr_eq(q, p);
	ck_assert_events(m0, m1, 2);
	check_free_ev(&evs[m0], p, from, wrapped_old, ta_group_id(a), ta_group_id(b));
	check_alloc_ev(&evs[m0 + 1], q, to, tw.libc_usable(q), ta_group_id(b));
	tw.free(q);
}
END_TEST

START_TEST(no_events_for_failures_and_nulls)
{
	unsigned m0, m1, m2, m3;
	void *p, *big, *r;

	p = tw.malloc(64);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(ta_tracker_set(&recorder), 0);
	m0 = mark();
	big = tw.malloc(SIZE_MAX);
	r = tw.realloc(p, SIZE_MAX - 4);
	tw.free(NULL);
	m1 = mark();
	/* realloc(p, 0) is a free only */
	m2 = mark();
	tw.realloc(p, 0);
	m3 = mark();
	tracker_off();
	ck_assert_ptr_null(big);
	ck_assert_ptr_null(r);
	ck_assert_events(m0, m1, 0);
	ck_assert_events(m2, m3, 1);
	ck_assert_int_eq(evs[m2].kind, EV_FREE);
	ck_assert_ptr_eq(evs[m2].ptr, p);
	ck_assert_uint_eq(evs[m2].size, 64);
}
END_TEST

/* ---- callbacks that allocate ------------------------------------------- */

static ta_group *cb_group;   /* entered by the callback, if set */
static void *cb_kept[64];    /* blocks the callback keeps */
static unsigned cb_nkept;
static ta_group *cb_seen_current;

static void alloc_in_callback(void)
{
	ta_guard g = { 0, 0, 0 };
	void *tmp;

	in_callback++;
	cb_seen_current = ta_group_current();
	if (cb_group)
		g = ta_group_enter(cb_group);
	tmp = tw.malloc(64);
	tw.free(tmp);
	if (cb_nkept < 64)
		cb_kept[cb_nkept++] = tw.realloc(tw.malloc(10), 20);
	if (cb_group)
		ta_guard_exit(&g);
	in_callback--;
}

static void on_alloc_allocating(void *ctx, const void *ptr, size_t size, size_t wrapped,
                                uint32_t gid)
{
	on_alloc(ctx, ptr, size, wrapped, gid);
	alloc_in_callback();
}

static void on_free_allocating(void *ctx, const void *ptr, size_t size, size_t wrapped,
                               uint32_t src, uint32_t cur)
{
	on_free(ctx, ptr, size, wrapped, src, cur);
	alloc_in_callback();
}

static const struct ta_tracker allocating = { on_alloc_allocating, on_free_allocating,
	                                      &ctx_token };

START_TEST(callback_allocations_in_root)
{
	/* _i: 1 when the callback also enters a group of its own */
	ta_group *g = group_new("tr-cb"), *inside = group_new("tr-cb-inside");
	ta_group *root = ta_group_root();
	struct ta_stats g0, g1, r0, r1, i0, i1;
	unsigned m0, m1, k, kept;
	ta_guard guard;
	void *p;

	cb_group = _i ? inside : NULL;
	ck_assert_int_eq(ta_tracker_set(&allocating), 0);
	/* from here the runner's own allocations would raise callbacks too:
	 * the window below is free of them */
	cb_nkept = 0;
	g0 = stats_of(g);
	r0 = stats_of(root);
	i0 = stats_of(inside);
	guard = ta_group_enter(g);
	m0 = mark();
	p = tw.malloc(100);
	tw.free(p);
	m1 = mark();
	ta_guard_exit(&guard);
	g1 = stats_of(g);
	r1 = stats_of(root);
	i1 = stats_of(inside);
	kept = cb_nkept;
	tracker_off();

	/* inside a callback the program's group is still the current one */
	ck_assert_ptr_eq(cb_seen_current, g);
	/* the callbacks' own blocks raised no events and no recursion */
	ck_assert_events(m0, m1, 2);
	ck_assert_uint_eq(recursions, 0);
	ck_assert_ptr_eq(evs[m0].ptr, p);
	ck_assert_ptr_eq(evs[m0 + 1].ptr, p);
	/* the group holds exactly what the program allocated in it */
	ck_assert_stats_delta(g0, g1, 100, 1, 100, 1);
	ck_assert_stats_same(i0, i1);
	/* per callback: 64 + 10 allocated and freed, 20 kept; all in root */
	ck_assert_uint_eq(kept, 2);
	ck_assert_stats_delta(r0, r1, 2 * (64 + 10 + 20), 6, 2 * (64 + 10), 4);
	r0 = stats_of(root);
	for (k = 0; k < kept; k++)
		tw.free(cb_kept[k]);
	r1 = stats_of(root);
	ck_assert_stats_delta(r0, r1, 0, 0, 40, 2);
}
END_TEST

/* ---- clearing and replacing -------------------------------------------- */

START_TEST(null_clears)
{
	unsigned m0, m1;
	void *p;

	ck_assert_int_eq(ta_tracker_set(&recorder), 0);
	ck_assert_int_eq(ta_tracker_set(NULL), 0);
	m0 = mark();
	p = tw.malloc(10);
	tw.free(p);
	m1 = mark();
	ck_assert_events(m0, m1, 0);
	/* clearing twice is fine */
	ck_assert_int_eq(ta_tracker_set(NULL), 0);
}
END_TEST

START_TEST(one_callback_may_be_null)
{
	const struct ta_tracker frees_only = { NULL, on_free, &ctx_token };
	unsigned m0, m1;
	void *p;

	ck_assert_int_eq(ta_tracker_set(&frees_only), 0);
	m0 = mark();
	p = tw.malloc(10);
	tw.free(p);
	m1 = mark();
	tracker_off();
	ck_assert_events(m0, m1, 1);
	ck_assert_int_eq(evs[m0].kind, EV_FREE);
}
END_TEST

START_TEST(tracker_is_copied)
{
	struct ta_tracker t = recorder;
	unsigned m0, m1;
	void *p;

	ck_assert_int_eq(ta_tracker_set(&t), 0);
	memset(&t, 0, sizeof(t)); /* the caller's struct may go away */
	m0 = mark();
	p = tw.malloc(10);
	tw.free(p);
	m1 = mark();
	tracker_off();
	ck_assert_events(m0, m1, 2);
}
END_TEST

static int second_token;
static unsigned switches;

/* Replace the tracker from inside its own callback. */
static void on_alloc_switching(void *ctx, const void *ptr, size_t size, size_t wrapped,
                               uint32_t gid)
{
	const struct ta_tracker second = { on_alloc, on_free, &second_token };

	on_alloc(ctx, ptr, size, wrapped, gid);
	if (ta_tracker_set(&second) == 0)
		switches++;
}

START_TEST(set_from_inside_callback)
{
	const struct ta_tracker switching = { on_alloc_switching, on_free, &ctx_token };
	unsigned m0, m1;
	void *p, *q;
	int set;

	/* no assertion until the window closes: the runner's allocations
	 * would make the switch early */
	set = ta_tracker_set(&switching);
	m0 = mark();
	p = tw.malloc(10); /* switches */
	q = tw.malloc(20); /* seen by the second tracker */
	tw.free(p);
	tw.free(q);
	m1 = mark();
	tracker_off();
	ck_assert_int_eq(set, 0);
	ck_assert_uint_eq(switches, 1);
	ck_assert_events(m0, m1, 4);
	ck_assert_ptr_eq(evs[m0].ctx, &ctx_token);
	ck_assert_ptr_eq(evs[m0 + 1].ctx, &second_token);
	ck_assert_ptr_eq(evs[m0 + 1].ptr, q);
	ck_assert_ptr_eq(evs[m0 + 2].ctx, &second_token);
	ck_assert_ptr_eq(evs[m0 + 3].ctx, &second_token);
}
END_TEST

/* Clear the tracker from the free half of a realloc's callbacks. */
static void on_free_clearing(void *ctx, const void *ptr, size_t size, size_t wrapped,
                             uint32_t src, uint32_t cur)
{
	on_free(ctx, ptr, size, wrapped, src, cur);
	ta_tracker_set(NULL);
}

START_TEST(clear_from_realloc_callback)
{
	/* The free callback of a realloc clears the tracker; the library must
	 * not touch the cleared tracker afterwards (the allocation half may
	 * be reported or not, but nothing may crash). */
	const struct ta_tracker clearing = { on_alloc, on_free_clearing, &ctx_token };
	unsigned m0, m1, m2;
	void *p = tw.malloc(100), *q, *r;
	int set;

	ck_assert_ptr_nonnull(p);
	set = ta_tracker_set(&clearing); /* no assertion until the realloc */
	m0 = mark();
	q = tw.realloc(p, 5000);
	m1 = mark();
	r = tw.malloc(10);
	tw.free(r);
	m2 = mark();
	tw.free(q);
	ck_assert_int_eq(set, 0);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_ge(m1 - m0, 1);
	ck_assert_uint_le(m1 - m0, 2);
	ck_assert_int_eq(evs[m0].kind, EV_FREE);
	if (m1 - m0 == 2) {
		ck_assert_int_eq(evs[m0 + 1].kind, EV_ALLOC);
		ck_assert_ptr_eq(evs[m0 + 1].ptr, q);
	}
	ck_assert_events(m1, m2, 0);
}
END_TEST

/* ---- threads ------------------------------------------------------------ */

struct thread_job {
	ta_group *enter;
	void *to_free;
	void *made;
	unsigned m0, m1;
};

static void *alloc_free_there(void *arg)
{
	struct thread_job *j = arg;
	ta_guard g = ta_group_enter(j->enter);

	j->m0 = mark();
	tw.free(j->to_free);
	j->made = tw.malloc(77);
	j->m1 = mark();
	ta_guard_exit(&g);
	return NULL;
}

START_TEST(events_on_other_thread)
{
	ta_group *a = group_new("tr-t-src"), *t = group_new("tr-t-there");
	struct thread_job j = { t, NULL, NULL, 0, 0 };
	ta_guard guard = ta_group_enter(a);
	size_t wrapped;
	pthread_t th;

	j.to_free = tw.malloc(55);
	ta_guard_exit(&guard);
	ck_assert_ptr_nonnull(j.to_free);
	wrapped = tw.libc_usable(j.to_free);
	ck_assert_int_eq(ta_tracker_set(&recorder), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, alloc_free_there, &j), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	tracker_off();
	ck_assert_events(j.m0, j.m1, 2);
	check_free_ev(&evs[j.m0], j.to_free, 55, wrapped, ta_group_id(a), ta_group_id(t));
	check_alloc_ev(&evs[j.m0 + 1], j.made, 77, tw.libc_usable(j.made), ta_group_id(t));
	tw.free(j.made);
}
END_TEST

static __thread int am_holder; /* only the holder thread blocks */
static int holder_inside, release_holder, set_returned;

static void on_alloc_blocking(void *ctx, const void *ptr, size_t size, size_t wrapped,
                              uint32_t gid)
{
	(void)ctx, (void)ptr, (void)size, (void)wrapped, (void)gid;
	if (!am_holder)
		return;
	am_holder = 0;
	__atomic_store_n(&holder_inside, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&release_holder, __ATOMIC_ACQUIRE))
		sched_yield();
	/* still inside: ta_tracker_set must not have returned yet */
	if (__atomic_load_n(&set_returned, __ATOMIC_ACQUIRE))
		__atomic_store_n(&holder_inside, 2, __ATOMIC_RELEASE);
}

static void *holder(void *arg)
{
	(void)arg;
	am_holder = 1;
	tw.free(tw.malloc(10));
	return NULL;
}

static void *clearer(void *arg)
{
	(void)arg;
	ta_tracker_set(NULL);
	__atomic_store_n(&set_returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(set_waits_for_callbacks_in_flight)
{
	const struct ta_tracker blocking = { on_alloc_blocking, NULL, NULL };
	pthread_t h, c;
	int returned_early;

	ck_assert_int_eq(ta_tracker_set(&blocking), 0);
	ck_assert_int_eq(pthread_create(&h, NULL, holder, NULL), 0);
	while (!__atomic_load_n(&holder_inside, __ATOMIC_ACQUIRE))
		sched_yield();
	ck_assert_int_eq(pthread_create(&c, NULL, clearer, NULL), 0);
	/* give the clearer every chance to return early if it would */
	usleep(50 * 1000);
	returned_early = __atomic_load_n(&set_returned, __ATOMIC_ACQUIRE);
	__atomic_store_n(&release_holder, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(pthread_join(h, NULL), 0);
	ck_assert_int_eq(pthread_join(c, NULL), 0);
	ck_assert_int_eq(returned_early, 0);
	ck_assert_int_eq(__atomic_load_n(&holder_inside, __ATOMIC_ACQUIRE), 1);
	ck_assert_int_eq(__atomic_load_n(&set_returned, __ATOMIC_ACQUIRE), 1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("tracker");
	TCase *tc = tcase_new("tracker");

	tcase_add_loop_test(tc, alloc_and_free_events, 0, 10);
	tcase_add_loop_test(tc, realloc_is_free_plus_alloc, 0, 2);
	tcase_add_test(tc, no_events_for_failures_and_nulls);
	tcase_add_loop_test(tc, callback_allocations_in_root, 0, 2);
	tcase_add_test(tc, null_clears);
	tcase_add_test(tc, one_callback_may_be_null);
	tcase_add_test(tc, tracker_is_copied);
	tcase_add_test(tc, set_from_inside_callback);
	tcase_add_test(tc, clear_from_realloc_callback);
	tcase_add_test(tc, events_on_other_thread);
	tcase_add_test(tc, set_waits_for_callbacks_in_flight);
	suite_add_tcase(s, tc);
	return s;
}
