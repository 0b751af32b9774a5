/* SPDX-License-Identifier: MIT */
/*
 * The library's RCU flavor: the writer side and the flavor table liburcu's
 * hash table calls (the read side is inline in rcu-internal.h).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/membarrier.h>

#include "rcu-internal.h"

/* Readers fence on entry (no membarrier; under ThreadSanitizer, which does
 * not know membarrier, always). Set before the table is published. */
int ta_rcu_fences;
/* Read-side sections of liburcu's own resize code (through the flavor):
 * rare, and on threads that may have no state here. */
static uint64_t ta_rcu_anon;

static long ta_membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0);
}

void ta_rcu_init(void)
{
#ifdef TA_TSAN
	ta_rcu_fences = 1;
#else
	long cmds = ta_membarrier(MEMBARRIER_CMD_QUERY);

	ta_rcu_fences = !(cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	                  ta_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0);
#endif
}

/*
 * Wait until every read-side section begun before the call has ended. The
 * caller is in none. A reader whose odd generation the scan below misses
 * began its section after the barrier, and so sees every change made to the
 * table before the call.
 */
void ta_rcu_synchronize(void)
{
	if (ta_rcu_fences)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else if (ta_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
		(void)ta_membarrier(MEMBARRIER_CMD_GLOBAL); /* slower, never refused */
	ta_threads_quiesce(offsetof(struct ta_thread, rcu_gen));
	while (__atomic_load_n(&ta_rcu_anon, __ATOMIC_ACQUIRE))
		sched_yield();
}

/*
 * The flavor liburcu's hash table calls. It takes read-side sections only in
 * resize code, on the resizing thread or on helper threads it joins; those
 * count in ta_rcu_anon (a shared counter: a resize is rare). Nothing here
 * defers work: the table has no lazy resize, so call_rcu is never used and
 * waits in place if it ever is.
 */
static void ta_rcu_flavor_read_lock(void)
{
	__atomic_add_fetch(&ta_rcu_anon, 1, __ATOMIC_SEQ_CST);
}

static void ta_rcu_flavor_read_unlock(void)
{
	__atomic_sub_fetch(&ta_rcu_anon, 1, __ATOMIC_RELEASE);
}

static int ta_rcu_flavor_read_ongoing(void)
{
	struct ta_thread *th = ta_tls.th;

	return (th && th->rcu_nest) || __atomic_load_n(&ta_rcu_anon, __ATOMIC_RELAXED);
}

static void ta_rcu_flavor_nothing(void)
{
}

static void ta_rcu_flavor_call(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
	ta_rcu_synchronize();
	func(head);
}

static void ta_rcu_flavor_defer(void (*fct)(void *p), void *p)
{
	ta_rcu_synchronize();
	fct(p);
}

static void ta_rcu_flavor_atfork(struct urcu_atfork *atfork)
{
	(void)atfork; /* no resize worker: nothing to stop across fork */
}

const struct rcu_flavor_struct ta_rcu_flavor = {
	.read_lock = ta_rcu_flavor_read_lock,
	.read_unlock = ta_rcu_flavor_read_unlock,
	.read_ongoing = ta_rcu_flavor_read_ongoing,
	.read_quiescent_state = ta_rcu_flavor_nothing,
	.update_call_rcu = ta_rcu_flavor_call,
	.update_synchronize_rcu = ta_rcu_synchronize,
	.update_defer_rcu = ta_rcu_flavor_defer,
	.thread_offline = ta_rcu_flavor_nothing,
	.thread_online = ta_rcu_flavor_nothing,
	.register_thread = ta_rcu_flavor_nothing,
	.unregister_thread = ta_rcu_flavor_nothing,
	.barrier = ta_rcu_flavor_nothing,
	.register_rculfhash_atfork = ta_rcu_flavor_atfork,
	.unregister_rculfhash_atfork = ta_rcu_flavor_atfork,
};

/* The child has no other thread yet to disagree: it registers again, or its
 * readers fence from now on. */
void ta_rcu_atfork_child(void)
{
	if (!ta_rcu_fences && ta_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0)
		ta_rcu_fences = 1;
}
