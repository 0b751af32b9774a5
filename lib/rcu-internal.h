/* SPDX-License-Identifier: MIT */
/*
 * The library's RCU flavor, for the span table (spans.c), apart from the
 * structure it protects as liburcu keeps its flavors apart from rculfhash.
 *
 * urcu-bp's read side cost more than the span lookup: an out-of-line call
 * and a global-dynamic TLS access on each of lock and unlock, and a fence
 * when membarrier is not in use. Here a read-side section is two stores to
 * the calling thread's state (odd generation on entry, even on exit),
 * reached through initial-exec TLS; the writer makes them visible with
 * membarrier (private expedited) before it looks for threads inside a
 * section, and waits for each one it sees to leave (ta_threads_quiesce).
 * Without membarrier the reader issues a full fence on entry instead. Every
 * thread that can enter a span already has a registered state, so no
 * registration with liburcu.
 */
#ifndef TA_RCU_INTERNAL_H
#define TA_RCU_INTERNAL_H

#include <urcu/flavor.h>

#include "ta-internal.h"

#pragma GCC visibility push(hidden)

/* Readers fence on entry (no membarrier; under ThreadSanitizer, which does
 * not know membarrier, always). Set before the table is published. */
extern int ta_rcu_fences;

/* Only the owner writes its generation; writers read it. */
static inline void ta_rcu_gen_bump(struct ta_thread *th, int order)
{
	__atomic_store_n(&th->rcu_gen, __atomic_load_n(&th->rcu_gen, __ATOMIC_RELAXED) + 1, order);
}

static inline void ta_rcu_read_lock(struct ta_thread *th)
{
	if (th->rcu_nest++ == 0) {
		ta_rcu_gen_bump(th, __ATOMIC_RELAXED);
		if (TA_UNLIKELY(ta_rcu_fences))
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
		else /* the writer's membarrier stands for the fence */
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
	}
}

static inline void ta_rcu_read_unlock(struct ta_thread *th)
{
	if (--th->rcu_nest == 0)
		ta_rcu_gen_bump(th, __ATOMIC_RELEASE);
}

/* Choose how readers publish their entry: before any reader exists. */
void ta_rcu_init(void);
/* Wait until every read-side section begun before the call has ended. */
void ta_rcu_synchronize(void);
/* In a fork child: a membarrier registration belongs to the parent. */
void ta_rcu_atfork_child(void);
/* What liburcu's hash table calls (cds_lfht_new_flavor). */
extern const struct rcu_flavor_struct ta_rcu_flavor;

#pragma GCC visibility pop

#endif /* TA_RCU_INTERNAL_H */
