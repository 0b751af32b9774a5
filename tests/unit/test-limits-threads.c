/* SPDX-License-Identifier: MIT */
/*
 * Peaks and limits across threads (trackalloc.h, "Peaks and limits"): two
 * threads allocating and freeing each other's blocks keep the peak within
 * TA_PEAK_PRECISION of the true one (one other thread each); a thread that
 * exits adds its unshared balance; a soft limit crossed by two threads at
 * once calls back once; a hard limit shared by two threads holds within
 * the precision. And one thread alone in a group, the peak reset or the
 * limits set by another thread: exact, as the header says for a group in
 * which one thread allocates and frees.
 *
 * Threads are created from root (pthread_create may allocate). Nothing is
 * asserted on a worker thread, nor while a test's group is active.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "ta-check.h"

static uint64_t peak_of(const ta_group *g)
{
	uint64_t peak = UINT64_MAX;

	ck_assert_int_eq(ta_group_peak(g, &peak), 0);
	return peak;
}

static uint64_t live_of(const ta_group *g)
{
	struct ta_stats s = stats_of(g);

	return s.allocated_bytes - s.freed_bytes;
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* ---- two threads freeing each other's blocks ---------------------------- */

#define XMAX 6000
#define XPHASES 6

struct xthread {
	ta_group *g;
	pthread_barrier_t *bar;
	uint64_t seed;
	void *blk[XMAX];
	size_t size[XMAX];
	size_t n;                 /* blocks allocated so far (some freed) */
	struct xthread *peer;
	uint64_t alloc_goal[XPHASES];
	int failed;
};

static uint32_t xrand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

/* Free every @step-th of @t's blocks still live (from @from on). */
static void free_peer(struct xthread *t, size_t from, size_t step)
{
	size_t i;

	for (i = from; i < t->n; i += step) {
		if (t->blk[i]) {
			tw.free(t->blk[i]);
			t->blk[i] = NULL;
		}
	}
}

static void *xworker(void *arg)
{
	struct xthread *t = arg;
	ta_guard guard = ta_group_enter(t->g);
	int ph;

	for (ph = 0; ph < XPHASES; ph++) {
		if (ph % 2 == 0) {
			/* allocate this phase's bytes in blocks of 200 .. 9000 */
			uint64_t got = 0;

			while (got < t->alloc_goal[ph] && t->n < XMAX) {
				size_t sz = 200 + xrand(&t->seed) % 8800;
				void *p = tw.malloc(sz);

				if (!p)
					t->failed = 1;
				t->blk[t->n] = p;
				t->size[t->n++] = sz;
				got += sz;
			}
		} else {
			/* the peer's blocks: every other one, then the rest */
			free_peer(t->peer, ph == 1 ? 1 : 0, ph == 1 ? 2 : 1);
		}
		pthread_barrier_wait(t->bar); /* the phase is done */
		pthread_barrier_wait(t->bar); /* the main thread has looked */
	}
	ta_guard_exit(&guard);
	return NULL;
}

static uint64_t xlive(const struct xthread *t)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->blk[i])
			sum += t->size[i];
	return sum;
}

START_TEST(two_threads_cross_frees)
{
	ta_group *g = group_new("peak-cross");
	static struct xthread a, b;
	static const uint64_t goal_a[XPHASES] = { 1500000, 0, 3000000, 0, 1000000, 0 };
	static const uint64_t goal_b[XPHASES] = { 2000000, 0, 2500000, 0, 1200000, 0 };
	uint64_t want[XPHASES], got[XPHASES], live[XPHASES], true_peak = 0, end_peak;
	pthread_barrier_t bar;
	pthread_t ta, tb;
	int ph;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.g = b.g = g;
	a.bar = b.bar = &bar;
	a.seed = 1;
	b.seed = 2;
	a.peer = &b;
	b.peer = &a;
	memcpy(a.alloc_goal, goal_a, sizeof(goal_a));
	memcpy(b.alloc_goal, goal_b, sizeof(goal_b));
	ck_assert_int_eq(pthread_barrier_init(&bar, NULL, 3), 0);
	ck_assert_int_eq(pthread_create(&ta, NULL, xworker, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, xworker, &b), 0);
	for (ph = 0; ph < XPHASES; ph++) {
		pthread_barrier_wait(&bar);
		/* both threads wait: the true live bytes are the blocks' sum,
		 * and (allocating phases only grow it, freeing phases only
		 * shrink it) the true peak is the highest such sum so far */
		live[ph] = xlive(&a) + xlive(&b);
		if (live[ph] > true_peak)
			true_peak = live[ph];
		want[ph] = true_peak;
		(void)ta_group_peak(g, &got[ph]);
		pthread_barrier_wait(&bar);
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&bar);
	end_peak = peak_of(g);

	ck_assert_int_eq(a.failed | b.failed, 0);
	ck_assert_uint_eq(live_of(g), 0);
	ck_assert_uint_eq(live[5], 0);
	ck_assert_uint_ge(true_peak, 8 * TA_PEAK_PRECISION);
	for (ph = 0; ph < XPHASES; ph++) {
		/* never below the live bytes; within one other thread's
		 * unshared balance of the true peak */
		ck_assert_msg(got[ph] >= live[ph], "phase %d: peak %llu below the live %llu", ph,
		              (unsigned long long)got[ph], (unsigned long long)live[ph]);
		ck_assert_msg(absdiff(got[ph], want[ph]) <= TA_PEAK_PRECISION,
		              "phase %d: peak %llu, the true peak %llu", ph,
		              (unsigned long long)got[ph], (unsigned long long)want[ph]);
	}
	ck_assert_msg(absdiff(end_peak, true_peak) <= TA_PEAK_PRECISION,
	              "after the threads exited: peak %llu, the true peak %llu",
	              (unsigned long long)end_peak, (unsigned long long)true_peak);
}
END_TEST

/* ---- a thread's balance at its exit -------------------------------------- */

struct keeper {
	ta_group *g;
	size_t n;
	void *p;
};

/* Allocate @n bytes in @g and exit without freeing them. */
static void *keep_and_exit(void *arg)
{
	struct keeper *k = arg;
	ta_guard guard = ta_group_enter(k->g);

	k->p = tw.malloc(k->n);
	ta_guard_exit(&guard);
	return NULL;
}

static void run_keeper(struct keeper *k)
{
	pthread_t th;

	ck_assert_int_eq(pthread_create(&th, NULL, keep_and_exit, k), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_ptr_nonnull(k->p);
}

START_TEST(exited_thread_balance_counts)
{
	/* Less than TA_PEAK_PRECISION: the thread never shared its balance;
	 * it must be added at exit, for the hard limit and for the peak. */
	ta_group *g = group_new("exit-balance");
	struct keeper k1 = { g, 100000, NULL }, k2 = { g, 150000, NULL };
	void *over, *fit, *more, *big;
	int err;
	uint64_t peak_after;
	ta_guard guard;

	ck_assert_int_eq(ta_group_limit_set(g, 0, 300000, NULL, NULL), 0);
	run_keeper(&k1);
	ck_assert_int_eq(ta_group_limit_set(g, 0, 400000, NULL, NULL), 0); /* set after, too */
	run_keeper(&k2);
	guard = ta_group_enter(g);
	errno = 0;
	over = tw.malloc(150001); /* 250000 + 150001 > 400000 */
	err = errno;
	fit = tw.malloc(150000);  /* exactly 400000 */
	more = tw.malloc(1);
	ta_guard_exit(&guard);
	tw.free(fit);
	/* the peak saw the exited threads' bytes: 400000, not 150000 */
	peak_after = peak_of(g);
	tw.free(k1.p);
	tw.free(k2.p);

	ck_assert_ptr_null(over);
	ck_assert_int_eq(err, ENOMEM);
	ck_assert_ptr_nonnull(fit);
	ck_assert_ptr_null(more);
	ck_assert_uint_eq(peak_after, 400000);
	ck_assert_int_eq(ta_group_limit_set(g, 0, 0, NULL, NULL), 0);
	big = tw.malloc(1 << 20);
	ck_assert_ptr_nonnull(big);
	tw.free(big);
}
END_TEST

/* ---- one thread alone in a group, another sets or resets ----------------- */

/* A worker that runs the steps the main thread hands it, one at a time. */
struct solo {
	ta_group *g;
	pthread_barrier_t bar;
	void *(*step)(struct solo *s, int k);
	int k, done;
	void *blk[64];
	void *res[16];
	int err[16];
};

static void *solo_main(void *arg)
{
	struct solo *s = arg;
	ta_guard guard = ta_group_enter(s->g);

	for (;;) {
		pthread_barrier_wait(&s->bar);
		if (s->done)
			break;
		s->step(s, s->k);
		pthread_barrier_wait(&s->bar);
	}
	ta_guard_exit(&guard);
	return NULL;
}

static void solo_run(struct solo *s, int k)
{
	s->k = k;
	pthread_barrier_wait(&s->bar);
	pthread_barrier_wait(&s->bar);
}

static void solo_start(struct solo *s, pthread_t *th, ta_group *g,
                       void *(*step)(struct solo *, int))
{
	memset(s, 0, sizeof(*s));
	s->g = g;
	s->step = step;
	ck_assert_int_eq(pthread_barrier_init(&s->bar, NULL, 2), 0);
	ck_assert_int_eq(pthread_create(th, NULL, solo_main, s), 0);
}

static void solo_stop(struct solo *s, pthread_t th)
{
	s->done = 1;
	pthread_barrier_wait(&s->bar);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&s->bar);
}

/* 0: up 200 000 and back down (the thread's high, its balance 0).
 * 1: 150 000 in small blocks, then 1, recording what it got.
 * 2: free what step 1 got. */
static void *solo_steps(struct solo *s, int k)
{
	int i;

	switch (k) {
	case 0:
		for (i = 0; i < 40; i++)
			s->blk[i] = tw.malloc(5000);
		for (i = 0; i < 40; i++)
			tw.free(s->blk[i]);
		break;
	case 1:
		for (i = 0; i < 15; i++) {
			errno = 0;
			s->res[i] = tw.malloc(10000);
			s->err[i] = errno;
		}
		break;
	default:
		for (i = 0; i < 15; i++)
			tw.free(s->res[i]);
		break;
	}
	return NULL;
}

START_TEST(hard_set_by_another_thread)
{
	ta_group *g = group_new("solo-hard");
	static struct solo s;
	int ok = 0, first_refused = -1, i;
	pthread_t th;

	solo_start(&s, &th, g, solo_steps);
	solo_run(&s, 0);
	ck_assert_int_eq(ta_group_limit_set(g, 0, 100000, NULL, NULL), 0);
	solo_run(&s, 1); /* 10 blocks fit, the 11th is over */
	solo_run(&s, 2);
	solo_stop(&s, th);
	for (i = 0; i < 15; i++) {
		if (s.res[i])
			ok++;
		else if (first_refused < 0)
			first_refused = i;
	}
	ck_assert_msg(ok == 10 && first_refused == 10,
	              "the only thread in the group got %d of 15 blocks of 10000 under a hard "
	              "limit of 100000 set by another thread (first refusal: block %d)",
	              ok, first_refused);
	ck_assert_int_eq(s.err[10], ENOMEM);
}
END_TEST

START_TEST(peak_reset_by_another_thread)
{
	ta_group *g = group_new("solo-reset");
	static struct solo s;
	uint64_t after_reset, after_run;
	pthread_t th;

	solo_start(&s, &th, g, solo_steps);
	solo_run(&s, 0);              /* peak 200 000, live 0 */
	ck_assert_int_eq(ta_group_peak_reset(g), 0);
	after_reset = peak_of(g);
	solo_run(&s, 1);              /* 150 000 */
	solo_run(&s, 2);              /* back to 0 */
	after_run = peak_of(g);
	solo_stop(&s, th);

	ck_assert_uint_eq(after_reset, 0);
	ck_assert_msg(after_run == 150000,
	              "the only thread in the group went up to 150000 after another thread "
	              "reset the peak; ta_group_peak says %llu", (unsigned long long)after_run);
}
END_TEST

static int soft_calls;
static uint64_t soft_live;

static void count_soft(ta_group *g, uint64_t live, void *ctx)
{
	(void)g;
	(void)ctx;
	__atomic_add_fetch(&soft_calls, 1, __ATOMIC_RELAXED);
	soft_live = live;
}

/* 0: 40 x 5000 up, 1 x 5000 down: live 195 000, below the thread's high.
 * 1: one allocation of 1000.  2: free everything. */
static void *solo_soft_steps(struct solo *s, int k)
{
	int i;

	switch (k) {
	case 0:
		for (i = 0; i < 40; i++)
			s->blk[i] = tw.malloc(5000);
		tw.free(s->blk[39]);
		s->blk[39] = NULL;
		break;
	case 1:
		s->res[0] = tw.malloc(1000);
		break;
	default:
		for (i = 0; i < 40; i++)
			tw.free(s->blk[i]);
		tw.free(s->res[0]);
		break;
	}
	return NULL;
}

START_TEST(soft_set_by_another_thread_above)
{
	/* "A group already above @soft fires at its next allocation." */
	ta_group *g = group_new("solo-soft");
	static struct solo s;
	int calls;
	pthread_t th;

	soft_calls = 0;
	solo_start(&s, &th, g, solo_soft_steps);
	solo_run(&s, 0);
	ck_assert_int_eq(ta_group_limit_set(g, 100000, 0, count_soft, NULL), 0);
	solo_run(&s, 1);
	calls = __atomic_load_n(&soft_calls, __ATOMIC_RELAXED);
	solo_run(&s, 2);
	solo_stop(&s, th);
	ck_assert_msg(calls == 1, "the group's next allocation after a soft limit below its live "
	              "bytes was set from another thread made %d calls", calls);
	ck_assert_uint_eq(soft_live, 196000);
}
END_TEST

/* ---- two threads under one soft and one hard limit ------------------------ */

struct racer {
	ta_group *g;
	pthread_barrier_t *bar;
	void *blk[4096];
	size_t n;
	int refused;
};

/* Allocate 1000-byte blocks until one is refused (or 4096 of them). */
static void *race(void *arg)
{
	struct racer *r = arg;
	ta_guard guard;

	pthread_barrier_wait(r->bar);
	guard = ta_group_enter(r->g);
	while (r->n < 4096) {
		void *p = tw.malloc(1000);

		if (!p) {
			r->refused = errno == ENOMEM;
			break;
		}
		r->blk[r->n++] = p;
	}
	ta_guard_exit(&guard);
	return NULL;
}

START_TEST(two_threads_soft_and_hard)
{
	ta_group *g = group_new("race");
	static struct racer r[2];
	const uint64_t soft = 1500000, hard = 3000000;
	pthread_barrier_t bar;
	pthread_t th[2];
	uint64_t live;
	size_t i, j;

	soft_calls = 0;
	ck_assert_int_eq(ta_group_limit_set(g, soft, hard, count_soft, NULL), 0);
	ck_assert_int_eq(pthread_barrier_init(&bar, NULL, 2), 0);
	for (i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].g = g;
		r[i].bar = &bar;
		ck_assert_int_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	live = live_of(g);

	/* no free: one crossing, one call, whoever made it */
	ck_assert_int_eq(soft_calls, 1);
	ck_assert_int_eq(r[0].refused, 1);
	ck_assert_int_eq(r[1].refused, 1);
	ck_assert_uint_eq(live, (r[0].n + r[1].n) * 1000);
	/* within one other thread's unshared balance of the limit, either way */
	ck_assert_msg(live <= hard + TA_PEAK_PRECISION, "live %llu, hard %llu",
	              (unsigned long long)live, (unsigned long long)hard);
	ck_assert_msg(live + 1000 > hard - TA_PEAK_PRECISION, "live %llu, hard %llu",
	              (unsigned long long)live, (unsigned long long)hard);
	for (i = 0; i < 2; i++)
		for (j = 0; j < r[i].n; j++)
			tw.free(r[i].blk[j]);
	ck_assert_uint_eq(live_of(g), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("limits-threads");
	TCase *tc = tcase_new("threads");

	tcase_add_test(tc, two_threads_cross_frees);
	tcase_add_test(tc, exited_thread_balance_counts);
	tcase_add_test(tc, two_threads_soft_and_hard);
	suite_add_tcase(s, tc);
	tc = tcase_new("solo");
	tcase_add_test(tc, hard_set_by_another_thread);
	tcase_add_test(tc, peak_reset_by_another_thread);
	tcase_add_test(tc, soft_set_by_another_thread_above);
	suite_add_tcase(s, tc);
	return s;
}
