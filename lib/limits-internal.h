/* SPDX-License-Identifier: MIT */
/*
 * Peaks and limits (limits.c): what the wrapper, the thread registry and
 * the readers call. The wrapper's part is the batch of each counter slot
 * (ta_batch_alloc/ta_batch_free, ta-internal.h): one add per call, and a
 * call here when it says so.
 */
#ifndef TA_LIMITS_INTERNAL_H
#define TA_LIMITS_INTERNAL_H

#include "ta-internal.h"

#pragma GCC visibility push(hidden)

/* A fresh page: zero counters, empty batches. */
static inline void ta_page_reset(struct ta_page *pg)
{
	uint32_t i;

	for (i = 0; i < TA_PAGE_SLOTS; i++) {
		struct ta_slot *s = &pg->slot[i];

		s->allocated_bytes = s->allocated_objects = 0;
		s->freed_bytes = s->freed_objects = s->held = 0;
		s->rise = 0;
		s->fall = s->bias = TA_PEAK_BATCH;
	}
}

/* The batch's two updates. The allocation's add sets the flags the branch
 * tests (x86-64: one add to memory and a jump); so does the free's. True
 * when the slow path must look (a new local high; a balance to share). */
static TA_INLINE bool ta_batch_alloc(struct ta_slot *s, uint64_t n)
{
	bool high;

	TA_BUMP(&s->fall, n); /* first: the add below leaves the flags */
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
	__asm__("addq %2, %0" : "+m"(s->rise), "=@ccg"(high) : "er"(n));
#else
	int64_t r = TA_LOAD(&s->rise) + (int64_t)n;

	TA_STORE(&s->rise, r);
	high = r > 0;
#endif
	return high;
}

static TA_INLINE bool ta_batch_free(struct ta_slot *s, uint64_t n)
{
	bool low;

	TA_DROP(&s->rise, n);
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
	__asm__("subq %2, %0" : "+m"(s->fall), "=@ccl"(low) : "er"(n));
#else
	int64_t f = TA_LOAD(&s->fall) - (int64_t)n;

	TA_STORE(&s->fall, f);
	low = f < 0;
#endif
	return low;
}


enum ta_high {
	TA_HIGH_OK,     /* allocate */
	TA_HIGH_REFUSE, /* the group's hard limit refuses it (taken off the batch) */
	TA_HIGH_SOFT,   /* allocate, then call ta_limit_soft_fire */
};

/* The allocation of @n bytes made @s's balance a new high: look at group
 * @gid's peak and limits. Only with @may_refuse can it refuse. */
enum ta_high ta_peak_high(struct ta_slot *s, uint32_t gid, size_t n, bool may_refuse);
/* A free took @s's balance below -TA_PEAK_BATCH: share it. */
void ta_peak_low(struct ta_slot *s, uint32_t gid);
/* A thread's slot is folded into the totals: its balance too. */
void ta_peak_fold(uint32_t gid, const struct ta_slot *s);
/* A count that has no slot (ta_count_*_slow): straight to the group. */
void ta_peak_slow(uint32_t gid, int64_t delta);
/* Whether @growth more bytes in @gid would pass its hard limit (realloc asks
 * before it moves a block); counts the refusal. */
bool ta_limit_refuses(struct ta_slot *s, uint32_t gid, int64_t growth);
/* After the allocation that crossed @gid's soft limit. */
void ta_limit_soft_fire(uint32_t gid);
/* The peak to report, @live_now being the group's exact live bytes. */
uint64_t ta_peak_get(const struct ta_group *g, int64_t live_now);
/* Another thread changed a limit or reset a peak: true (and acted on) when
 * this thread's batches must be looked at again (ta_sample_poked). */
static inline bool ta_batches_pending(const struct ta_thread *th)
{
	return __atomic_load_n(&th->batch_gen, __ATOMIC_ACQUIRE) != th->batch_seen;
}
void ta_batches_rebase(struct ta_thread *th);
/* TRACKALLOC_LIMITS (options.c gives the value; groups.c calls
 * ta_limits_registered for every new group). */
void ta_limits_env(const char *value);
void ta_limits_registered(struct ta_group *g);

#pragma GCC visibility pop

#endif /* TA_LIMITS_INTERNAL_H */
