/* SPDX-License-Identifier: MIT */
/*
 * The byte sampler. Each thread counts down a number of bytes drawn from an
 * exponential distribution of mean ta_sampling_mean (a Poisson process over
 * the bytes it allocates): the allocation that takes the countdown below
 * zero is sampled, whatever its size, and a fresh countdown is drawn (the
 * distribution has no memory, so the overshoot is simply dropped). An
 * allocation of n bytes is therefore sampled with probability
 * 1 - exp(-n / mean), and a sample weighs n / (1 - exp(-n / mean)) bytes:
 * the sum of the weights of a set of samples estimates the bytes of the
 * allocations they come from, without bias, also for n much larger than the
 * mean (weight -> n). A mean of 1 samples every allocation with weight n.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "limits-internal.h"
#include "rules-internal.h"
#include "sampling-internal.h"
#include "trace-internal.h"
#include "trailer.h"

static uint64_t ta_sampling_mean;
static uint64_t ta_threads_seeded;

/* splitmix64: spreads a seed over the generator's state */
static uint64_t ta_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* A uniform double in (0, 1], from this thread's xorshift64* generator. */
static double ta_uniform(struct ta_tls *t)
{
	uint64_t x = t->sample_rng;

	if (TA_UNLIKELY(!x)) {
		/* seeded per thread: from TRACKALLOC_STACKS_SEED (reproducible
		 * in the order threads first sample) or from the secrets */
		uint64_t n = __atomic_add_fetch(&ta_threads_seeded, 1, __ATOMIC_RELAXED);
		uint64_t base = ta_config.stacks_seeded ? ta_config.stacks_seed
		                                        : ta_secret ^ (uint64_t)gettid();

		x = ta_mix(base ^ ta_mix(n)) | 1;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->sample_rng = x;
	return ((double)((x * 0x2545f4914f6cdd1dull) >> 11) + 1.0) / 9007199254740992.0;
}

/* The next countdown for mean @mean (0: sampling off). */
static int64_t ta_countdown(struct ta_tls *t, uint64_t mean)
{
	double x;

	if (mean == 0)
		return TA_SAMPLE_RECHECK;
	if (mean == 1)
		return -1; /* every allocation, malloc(0) included */
	x = -ta_log(ta_uniform(t)) * (double)mean;
	return x < 4e18 ? (int64_t)x : (int64_t)4e18;
}

static uint64_t ta_weight(size_t n, uint64_t mean)
{
	double p;

	if (mean == 1 || n == 0)
		return n;
	p = -ta_expm1(-(double)n / (double)mean);
	return p > 0 ? (uint64_t)((double)n / p + 0.5) : n;
}

/* Another thread poked the countdown below zero: a rename or a rule change
 * (names.c). A fresh countdown is as good as the old one (the exponential
 * has no memory), and the allocation that saw the poke is not sampled. */
TA_START bool ta_sample_poked(struct ta_tls *t)
{
	uint64_t mean;

	if (TA_LIKELY(!t->th) || (!ta_names_pending(t->th) && !ta_batches_pending(t->th)))
		return false;
	if (ta_batches_pending(t->th))
		ta_batches_rebase(t->th);
	if (ta_names_pending(t->th)) {
		ta_names_refresh(t);
		if (ta_names_pending(t->th))
			return true; /* deferred (see ta_names_refresh): the countdown stays */
	}
	mean = __atomic_load_n(&ta_sampling_mean, __ATOMIC_RELAXED);
	ta_countdown_set(t, mean ? ta_countdown(t, mean) : TA_SAMPLE_RECHECK);
	t->sample_armed = mean != 0;
	return true;
}

TA_START void ta_sample_cross(struct ta_tls *t, void *p, size_t n, size_t usable, uint32_t gid)
{
	uint64_t mean = __atomic_load_n(&ta_sampling_mean, __ATOMIC_RELAXED);
	uint64_t ips[TA_STACK_MAX], weight;
	int depth;

	if (mean == 0) {
		ta_countdown_set(t, TA_SAMPLE_RECHECK);
		t->sample_armed = 0;
		return;
	}
	if (!t->sample_armed) {
		/* The countdown was drawn while sampling was off (or this is
		 * the thread's first allocation): draw one now, and this
		 * allocation is sampled only if the first point falls in it. */
		int64_t c = ta_countdown(t, mean);

		t->sample_armed = 1;
		if (c >= (int64_t)n) {
			ta_countdown_set(t, c - (int64_t)n);
			return;
		}
	}
	/* Inside the library (the unwinder, LTTng-UST, a tracker callback),
	 * on one of LTTng-UST's or the library's threads, or inside this
	 * thread's own sample (a signal handler): no sample. */
	if (TA_UNLIKELY(t->kind == TA_THREAD_UNKNOWN) && !t->nesting)
		(void)ta_trace_thread_classify(t);
	if (t->nesting || t->in_sample || t->kind != TA_THREAD_PROGRAM) {
		ta_countdown_set(t, ta_countdown(t, mean));
		return;
	}
	t->in_sample++;
	ta_nest_enter();
	weight = ta_weight(n, mean);
	depth = ta_stack_capture(ips, TA_STACK_MAX);
	/* the sampled mark's check bits differ from the plain one's: its
	 * trailer never verifies as plain (trailer.h) */
	if (ta_samples_add((uintptr_t)p, n, weight, gid, ips, depth) == 0) {
		ta_stamp_marked(p, usable, n, gid, ta_mark_sampled);
		ta_trace_alloc_sample(p, n, weight, gid, ips, (uint32_t)depth);
	}
	ta_countdown_set(t, ta_countdown(t, mean));
	ta_nest_exit();
	t->in_sample--;
}

void ta_sample_forget(void *p, size_t size, uint32_t gid)
{
	struct ta_tls *t = &ta_tls;

	/* a signal handler's free inside this thread's own sample: the table
	 * is locked by the interrupted code; the record stays (unsupported) */
	if (t->in_sample)
		return;
	t->in_sample++;
	ta_nest_enter();
	if (ta_samples_remove((uintptr_t)p))
		ta_trace_free_sample(p, size, gid);
	ta_nest_exit();
	t->in_sample--;
}

TA_API int ta_sampling_set(uint64_t mean_bytes)
{
	struct ta_tls *t = &ta_tls;

	if (mean_bytes && !ta_stacks_load())
		return -ENOSYS;
	__atomic_store_n(&ta_sampling_mean, mean_bytes, __ATOMIC_RELAXED);
	ta_countdown_set(t, ta_countdown(t, mean_bytes));
	t->sample_armed = mean_bytes != 0;
	return 0;
}

TA_API uint64_t ta_sampling_get(void)
{
	return __atomic_load_n(&ta_sampling_mean, __ATOMIC_RELAXED);
}
