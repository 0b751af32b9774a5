/* SPDX-License-Identifier: MIT */
/*
 * Counters across threads: frees on other threads, counts that outlive their
 * thread, exact sums of concurrent writers, and cumulative counters that never
 * go backwards while threads come and go.
 *
 * Threads are created while the creator is in root: pthread_create itself
 * may allocate, and that must not land in a group a test measures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "ta-check.h"

static void run_thread(void *(*fn)(void *), void *arg)
{
	pthread_t th;

	ck_assert_int_eq(pthread_create(&th, NULL, fn, arg), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
}

struct free_job {
	void *ptr;
	ta_group *enter; /* active while freeing, if set */
};

static void *free_there(void *arg)
{
	struct free_job *job = arg;
	ta_guard g = { 0, 0, 0 };

	if (job->enter)
		g = ta_group_enter(job->enter);
	tw.free(job->ptr);
	if (job->enter)
		ta_guard_exit(&g);
	return NULL;
}

START_TEST(free_on_other_thread)
{
	ta_group *src = group_new("xfree-src"), *other = group_new("xfree-other");
	struct ta_stats src0 = stats_of(src), other0 = stats_of(other), src1, src2, other1;
	ta_guard guard = ta_group_enter(src);
	struct free_job job[2];

	job[0].ptr = tw.malloc(100);
	job[1].ptr = tw.malloc(50);
	ta_guard_exit(&guard);
	src1 = stats_of(src);
	job[0].enter = NULL;  /* freed from root on the other thread */
	job[1].enter = other; /* freed while another group is active there */
	run_thread(free_there, &job[0]);
	run_thread(free_there, &job[1]);
	src2 = stats_of(src);
	other1 = stats_of(other);

	ck_assert_ptr_nonnull(job[0].ptr);
	ck_assert_ptr_nonnull(job[1].ptr);
	ck_assert_stats_delta(src0, src1, 150, 2, 0, 0);
	ck_assert_stats_delta(src1, src2, 0, 0, 150, 2);
	ck_assert_uint_eq(src2.wrapped_bytes_live, src0.wrapped_bytes_live);
	ck_assert_stats_same(other0, other1);
}
END_TEST

#define LIVE_BLOCKS 64

struct live_job {
	ta_group *g;
	void *blocks[LIVE_BLOCKS];
	size_t bytes;
};

/* Allocate in a group and exit with the blocks (and the group) still live. */
static void *alloc_and_exit(void *arg)
{
	struct live_job *job = arg;
	ta_guard g = ta_group_enter(job->g);
	int i;

	job->bytes = 0;
	for (i = 0; i < LIVE_BLOCKS; i++) {
		size_t n = 16 + (size_t)i * 40;

		job->blocks[i] = tw.malloc(n);
		job->bytes += job->blocks[i] ? n : 0;
	}
	(void)g; /* deliberately never exited */
	return NULL;
}

START_TEST(counts_survive_thread_exit)
{
	ta_group *g = group_new("survive");
	struct ta_stats s0 = stats_of(g), s1, s2;
	struct live_job job;
	int i;

	job.g = g;
	run_thread(alloc_and_exit, &job);
	s1 = stats_of(g);
	ck_assert_stats_delta(s0, s1, job.bytes, LIVE_BLOCKS, 0, 0);
	ck_assert_uint_gt(s1.wrapped_bytes_live, s0.wrapped_bytes_live);

	/* freed here, on a thread that never entered the group */
	for (i = 0; i < LIVE_BLOCKS; i++)
		tw.free(job.blocks[i]);
	s2 = stats_of(g);
	ck_assert_stats_delta(s1, s2, 0, 0, job.bytes, LIVE_BLOCKS);
	ck_assert_uint_eq(s2.wrapped_bytes_live, s0.wrapped_bytes_live);

	/* and once more through a second thread, which may reuse the first
	 * one's state: the earlier counts must not come back or vanish */
	run_thread(alloc_and_exit, &job);
	for (i = 0; i < LIVE_BLOCKS; i++) {
		struct free_job fj = { job.blocks[i], NULL };

		if (i % 2)
			run_thread(free_there, &fj);
		else
			tw.free(job.blocks[i]);
	}
	s1 = stats_of(g);
	ck_assert_stats_delta(s0, s1, 2 * job.bytes, 2 * LIVE_BLOCKS, 2 * job.bytes,
	                      2 * LIVE_BLOCKS);
	ck_assert_uint_eq(s1.wrapped_bytes_live, s0.wrapped_bytes_live);
}
END_TEST

#define WRITERS 3
#define WRITER_ROUNDS 2000

struct writer {
	ta_group *g;
	pthread_barrier_t *start;
	uint64_t bytes, objs, freed_bytes, freed_objs;
	void *keep[WRITER_ROUNDS / 10];
};

/* Allocate and free in the shared group; keep every tenth block. */
static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	ta_guard g;
	int i, k = 0;

	pthread_barrier_wait(w->start);
	g = ta_group_enter(w->g);
	for (i = 0; i < WRITER_ROUNDS; i++) {
		size_t n = 16 + (size_t)(i * 37) % 497;
		void *p = tw.malloc(n);

		if (!p)
			continue;
		w->bytes += n;
		w->objs++;
		if (i % 10 == 0) {
			w->keep[k++] = p;
		} else {
			tw.free(p);
			w->freed_bytes += n;
			w->freed_objs++;
		}
	}
	ta_guard_exit(&g);
	return NULL;
}

START_TEST(concurrent_writers_exact)
{
	ta_group *g = group_new("writers");
	struct ta_stats s0 = stats_of(g), s1, s2;
	struct writer w[WRITERS];
	pthread_barrier_t start;
	pthread_t th[WRITERS];
	uint64_t bytes = 0, objs = 0, fbytes = 0, fobjs = 0;
	int i, j;

	pthread_barrier_init(&start, NULL, WRITERS);
	memset(w, 0, sizeof(w));
	for (i = 0; i < WRITERS; i++) {
		w[i].g = g;
		w[i].start = &start;
		ck_assert_int_eq(pthread_create(&th[i], NULL, writer_fn, &w[i]), 0);
	}
	for (i = 0; i < WRITERS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		bytes += w[i].bytes;
		objs += w[i].objs;
		fbytes += w[i].freed_bytes;
		fobjs += w[i].freed_objs;
	}
	pthread_barrier_destroy(&start);
	s1 = stats_of(g);
	ck_assert_uint_eq(objs, WRITERS * WRITER_ROUNDS);
	ck_assert_stats_delta(s0, s1, bytes, objs, fbytes, fobjs);
	for (i = 0; i < WRITERS; i++)
		for (j = 0; j < WRITER_ROUNDS / 10; j++)
			tw.free(w[i].keep[j]);
	s2 = stats_of(g);
	ck_assert_stats_delta(s0, s2, bytes, objs, bytes, objs);
	ck_assert_uint_eq(s2.wrapped_bytes_live, s0.wrapped_bytes_live);
}
END_TEST

/* ---- monotonic reads while threads come and go ------------------------- */

#define CHURN_THREADS 60
#define CHURN_ALLOCS 50

struct churn {
	ta_group *g;
	int done; /* set by the spawner when every thread has been joined */
	uint64_t objs;
};

static void *churn_worker(void *arg)
{
	struct churn *c = arg;
	ta_guard g = ta_group_enter(c->g);
	void *live[CHURN_ALLOCS];
	int i;

	for (i = 0; i < CHURN_ALLOCS; i++) {
		live[i] = tw.malloc(8 + (size_t)i * 8);
		if (i % 2) {
			tw.free(live[i]);
			live[i] = NULL;
		}
	}
	ta_guard_exit(&g);
	/* the even blocks go with the thread's end: freed by this thread
	 * just before it exits, from root */
	for (i = 0; i < CHURN_ALLOCS; i += 2)
		tw.free(live[i]);
	return NULL;
}

/* Start threads two at a time and join them, until CHURN_THREADS ran. Two
 * at a time keeps exits overlapping with the other thread's counting. */
static void *spawner(void *arg)
{
	struct churn *c = arg;
	int i;

	for (i = 0; i < CHURN_THREADS; i += 2) {
		pthread_t a, b;
		int ra = pthread_create(&a, NULL, churn_worker, c);
		int rb = pthread_create(&b, NULL, churn_worker, c);

		if (ra == 0)
			pthread_join(a, NULL);
		if (rb == 0)
			pthread_join(b, NULL);
		c->objs += (uint64_t)(ra == 0) + (rb == 0);
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(cumulative_counters_monotonic)
{
	struct churn c = { group_new("churn"), 0, 0 };
	struct ta_stats prev = stats_of(c.g), s0 = prev, cur;
	unsigned long reads = 0, backwards = 0;
	pthread_t sp;

	ck_assert_int_eq(pthread_create(&sp, NULL, spawner, &c), 0);
	while (!__atomic_load_n(&c.done, __ATOMIC_ACQUIRE)) {
		cur = stats_of(c.g);
		backwards += cur.allocated_bytes < prev.allocated_bytes ||
		             cur.allocated_objects < prev.allocated_objects ||
		             cur.freed_bytes < prev.freed_bytes ||
		             cur.freed_objects < prev.freed_objects;
		/* frees never outrun the allocations they free */
		backwards += cur.freed_objects > cur.allocated_objects;
		prev = cur;
		reads++;
		sched_yield();
	}
	ck_assert_int_eq(pthread_join(sp, NULL), 0);
	cur = stats_of(c.g);
	ck_assert_uint_eq(backwards, 0);
	ck_assert_uint_gt(reads, 0);
	ck_assert_uint_eq(c.objs, CHURN_THREADS);
	/* every worker made CHURN_ALLOCS allocations in the group, freed all */
	ck_assert_uint_eq(cur.allocated_objects - s0.allocated_objects,
	                  CHURN_THREADS * CHURN_ALLOCS);
	ck_assert_uint_eq(cur.freed_objects - s0.freed_objects, CHURN_THREADS * CHURN_ALLOCS);
	ck_assert_uint_eq(cur.allocated_bytes - s0.allocated_bytes,
	                  cur.freed_bytes - s0.freed_bytes);
	ck_assert_uint_eq(cur.wrapped_bytes_live, s0.wrapped_bytes_live);
}
END_TEST

/* Fills its cache of freed blocks: 8 blocks of each of its 64 sizes,
 * allocated, then freed. */
static void *fill_cache(void *arg)
{
	enum { PER_SIZE = 8, SIZES = 62 };
	static void *b[PER_SIZE * SIZES];
	int i;

	(void)arg;
	for (i = 0; i < PER_SIZE * SIZES; i++)
		b[i] = tw.malloc((size_t)(16 * (i % SIZES) + 8));
	for (i = 0; i < PER_SIZE * SIZES; i++)
		tw.free(b[i]);
	return NULL;
}

START_TEST(thread_exit_gives_cache_back)
{
	/* what a thread's cache held is glibc's again once the thread is
	 * gone: about 250 KiB here if it were not; the thread's own state
	 * (its counter page) stays, about 20 KiB */
	struct mallinfo2 before, after;
	pthread_t th;

	before = mallinfo2();
	ck_assert_int_eq(pthread_create(&th, NULL, fill_cache, NULL), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	after = mallinfo2();
	ck_assert_uint_lt(after.uordblks, before.uordblks + 96 * 1024);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("threads");
	TCase *tc = tcase_new("threads");

	tcase_add_test(tc, free_on_other_thread);
	tcase_add_test(tc, counts_survive_thread_exit);
	tcase_add_test(tc, concurrent_writers_exact);
	tcase_add_test(tc, cumulative_counters_monotonic);
	tcase_add_test(tc, thread_exit_gives_cache_back);
	suite_add_tcase(s, tc);
	return s;
}
