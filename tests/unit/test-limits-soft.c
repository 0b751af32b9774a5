/* SPDX-License-Identifier: MIT */
/*
 * Soft limits on one thread (trackalloc.h, "Peaks and limits"): the
 * callback runs once per crossing, on the allocating thread after the
 * allocation (counted when it runs), with the group's live bytes; it may
 * allocate, free and call the API, ta_group_limit_set included; it fires
 * again once the group was seen back at or below the limit; a limit set
 * below the live bytes fires at the next allocation. And a callback
 * replaced while another thread crosses the limit: each call gets the
 * context set with its own function, never another's.
 *
 * Nothing is asserted while a test's group is active (ta-check.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "ta-limits-test.h"

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

/* ---- the callback and its context, replaced during crossings ------------- */

static int tag_a, tag_b;
static int pair_calls, pair_mismatches, stress_done, setter_running;

static void cb_a(ta_group *g, uint64_t live, void *ctx)
{
	(void)g;
	(void)live;
	__atomic_add_fetch(&pair_calls, 1, __ATOMIC_RELAXED);
	if (ctx != &tag_a)
		__atomic_add_fetch(&pair_mismatches, 1, __ATOMIC_RELAXED);
}

static void cb_b(ta_group *g, uint64_t live, void *ctx)
{
	(void)g;
	(void)live;
	__atomic_add_fetch(&pair_calls, 1, __ATOMIC_RELAXED);
	if (ctx != &tag_b)
		__atomic_add_fetch(&pair_mismatches, 1, __ATOMIC_RELAXED);
}

/* Up 300 000 and down again, many times, crossing the soft limit. */
static void *cross_often(void *arg)
{
	static void *b[300];
	ta_guard guard = ta_group_enter(arg);
	int round, i;

	/* the crossings start once the setter runs: a fast allocator could
	 * otherwise be done before the first set */
	while (!__atomic_load_n(&setter_running, __ATOMIC_ACQUIRE))
		sched_yield();
	for (round = 0; round < 60; round++) {
		for (i = 0; i < 300; i++)
			b[i] = tw.malloc(1000);
		for (i = 0; i < 300; i++)
			tw.free(b[i]);
	}
	ta_guard_exit(&guard);
	__atomic_store_n(&stress_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(callback_replaced_during_crossings)
{
	ta_group *g = group_new("soft-pairs");
	pthread_t th;
	int sets = 0;

	pair_calls = pair_mismatches = stress_done = setter_running = 0;
	ck_assert_int_eq(ta_group_limit_set(g, 64000, 0, cb_a, &tag_a), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, cross_often, g), 0);
	/* each set re-arms the limit too: the crossings keep coming */
	while (!__atomic_load_n(&stress_done, __ATOMIC_ACQUIRE)) {
		(void)ta_group_limit_set(g, 64000, 0, cb_b, &tag_b);
		(void)ta_group_limit_set(g, 64000, 0, cb_a, &tag_a);
		sets += 2;
		__atomic_store_n(&setter_running, 1, __ATOMIC_RELEASE);
	}
	pthread_join(th, NULL);
	ck_assert_int_gt(sets, 0);
	ck_assert_int_gt(pair_calls, 0);
	ck_assert_int_eq(pair_mismatches, 0);
	ck_assert_uint_eq(live_of(g), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("limits-soft");
	TCase *tc = tcase_new("soft");

	tcase_add_test(tc, soft_once_per_crossing);
	tcase_add_test(tc, soft_callback_trims_cache);
	tcase_add_test(tc, soft_callback_raises_its_limit);
	tcase_add_test(tc, soft_set_above_fires_at_next_allocation);
	tcase_add_test(tc, callback_replaced_during_crossings);
	suite_add_tcase(s, tc);
	return s;
}
