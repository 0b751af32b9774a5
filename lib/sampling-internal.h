/* SPDX-License-Identifier: MIT */
/*
 * Sampled allocation stacks, inside the library: the sampler's slow path
 * (sampling.c), stack capture (stacks.c), the table of live samples, stacks
 * and sites (samples.c) and the profile writer (profile.c). The wrapper's
 * only part is the countdown: one thread-local subtraction per allocation,
 * ta_sample_cross when it goes below zero.
 */
#ifndef TA_SAMPLING_INTERNAL_H
#define TA_SAMPLING_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ta-internal.h"

#ifndef TA_WITH_STACKS
#define TA_WITH_STACKS 0
#endif

#pragma GCC visibility push(hidden)

/*
 * The sampling countdown (sampling.c): the owner subtracts each size on the
 * fast path; another thread may only poke it below zero (names.c), so that
 * the owner's next allocation takes the slow path. Under TSan the owner's
 * update is spelt as the relaxed atomic load and store it compiles to.
 */
static TA_INLINE bool ta_countdown_take(struct ta_tls *t, size_t n)
{
#ifdef TA_TSAN
	int64_t v = TA_LOAD(&t->sample_left) - (int64_t)n;

	TA_STORE(&t->sample_left, v);
	return v < 0;
#else
	return (t->sample_left -= (int64_t)n) < 0;
#endif
}

static inline void ta_countdown_set(struct ta_tls *t, int64_t v)
{
	TA_STORE(&t->sample_left, v);
}

static inline void ta_countdown_poke(struct ta_tls *t)
{
	TA_STORE(&t->sample_left, INT64_MIN / 2);
}

/* While sampling is off, a thread looks at the mean again after this many
 * bytes of its own allocations (so that turning it on reaches every thread
 * without touching another thread's state). */
#define TA_SAMPLE_RECHECK (64ll << 20)

/* The wrapper: this thread's countdown went below zero on the allocation
 * of @p (@n requested bytes, inner usable size @usable, charged to @gid),
 * already sealed and counted. Samples it, or only draws a new countdown. */
void ta_sample_cross(struct ta_tls *t, void *p, size_t n, size_t usable, uint32_t gid);
/* The wrapper, before it charges an allocation whose countdown crossed
 * zero: true when the crossing was another thread's poke, now acted on (the
 * thread's group may have changed; the allocation is not to be sampled). */
bool ta_sample_poked(struct ta_tls *t);
/* The wrapper: a block with the sampled mark is released (free, realloc). */
void ta_sample_forget(void *p, size_t size, uint32_t gid);

/* The span of a loaded object's executable segments (modules.c): false
 * when it has none. */
struct dl_phdr_info;
bool ta_object_code(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi);
/* stacks.c: load libunwind and the sampler's libm functions (once;
 * outside malloc). */
extern double (*ta_log)(double);
extern double (*ta_expm1)(double);
bool ta_stacks_load(void);
/* The caller's return addresses, innermost first, the library's frames
 * left out; returns how many (at most @max). */
int ta_stack_capture(uint64_t *ips, int max);
/* The same, unwinding at most @max + @own frames (@own: room for the
 * library's frames on top, at most 24): shallower, cheaper. */
int ta_stack_capture_within(uint64_t *ips, int max, int own);
void ta_stacks_atfork_prepare(void);
void ta_stacks_atfork_parent(void);
void ta_stacks_atfork_child(bool locked);

/* samples.c, all under its own lock. */
struct ta_site_counts {
	uint64_t live_objects, live_bytes, live_estimate;
	uint64_t allocated_objects, allocated_bytes, allocated_estimate;
};
/* Remember the live sample @ptr; 0 or -ENOMEM (then it is not sampled). */
int ta_samples_add(uintptr_t ptr, uint64_t size, uint64_t weight, uint32_t gid,
                   const uint64_t *ips, int depth);
/* Forget the live sample @ptr: false when it was not remembered. */
bool ta_samples_remove(uintptr_t ptr);
/* Walk every site (group, stack) under the table's lock: @fn returns
 * non-zero to stop. */
typedef int (*ta_site_fn)(uint32_t gid, uint32_t stack, const struct ta_site_counts *c,
                          void *arg);
void ta_samples_lock(void);
void ta_samples_unlock(void);
/* Table lock held: */
int ta_samples_foreach_site(ta_site_fn fn, void *arg);
uint32_t ta_samples_nstacks(void);
int ta_samples_stack(uint32_t id, const uint64_t **ips);
void ta_samples_atfork_prepare(void);
void ta_samples_atfork_parent(void);
void ta_samples_atfork_child(bool locked);

/* profile.c: TRACKALLOC_PROFILE at exit. */
void ta_profile_setup(void);

#pragma GCC visibility pop

#endif /* TA_SAMPLING_INTERNAL_H */
