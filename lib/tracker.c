/* SPDX-License-Identifier: MIT */
/*
 * Hooks: the tracker callbacks and the per-call tracepoints. The wrapper
 * takes them only when a tracker is installed or a trackalloc event is
 * enabled; the alloc and free hooks are inline in trace-internal.h and come
 * here while a tracker is set, the realloc hook is here. Hooks that run a
 * callback do it in a library-internal section (ta_nest_enter): what a
 * callback or LTTng-UST allocates there counts in root and raises no hook.
 *
 * Replacing the tracker waits until no other thread is still inside a
 * callback of the old one: each thread's hook_gen is odd while it runs a
 * callback, and ta_tracker_set() waits for every odd value it saw to change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "ta-internal.h"
#include "trace-internal.h"

int ta_tracker_active;
static struct ta_tracker *ta_tracker_cur;
static pthread_mutex_t ta_tracker_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * A thread's first hook classifies it: LTTng-UST's own threads are treated
 * as library code for good from then on. Returns whether the hook is muted.
 */
bool ta_hooks_classify(struct ta_tls *t)
{
	if (ta_trace_ust_starting())
		return true; /* classify once LTTng-UST's threads are listed */
	t->kind = ta_trace_is_ust_thread() ? TA_THREAD_UST : TA_THREAD_PROGRAM;
	if (t->kind == TA_THREAD_UST) {
		ta_nest_enter(); /* never left: counts in root from now on */
		return true;
	}
	return false;
}

/* Begin a callback: return the tracker to call, or NULL. */
static struct ta_tracker *ta_tracker_begin(struct ta_thread *th)
{
	if (!th)
		return NULL;
	/* A sequentially consistent exchange orders this store before the
	 * load below (Dekker with the exchange in ta_tracker_set); it is on
	 * this thread's own state, and only on the hook path. */
	__atomic_exchange_n(&th->hook_gen, TA_LOAD(&th->hook_gen) + 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&ta_tracker_cur, __ATOMIC_SEQ_CST);
}

static void ta_tracker_end(struct ta_thread *th)
{
	__atomic_store_n(&th->hook_gen, TA_LOAD(&th->hook_gen) + 1, __ATOMIC_RELEASE);
}

/*
 * The alloc and free hooks while a tracker is set (without one, they stay
 * inline in trace-internal.h): the callback, then the event.
 */
void ta_tracker_hook_alloc(void *ptr, size_t size, size_t wrapped, size_t align, uint32_t gid)
{
	struct ta_thread *th = ta_tls.th;
	struct ta_tracker *tr;

	ta_nest_enter();
	tr = ta_tracker_begin(th);
	if (tr) {
		if (tr->allocated)
			tr->allocated(tr->ctx, ptr, size, wrapped, gid);
		ta_tracker_end(th);
	}
	ta_trace_alloc(ptr, size, wrapped, align, gid);
	ta_nest_exit();
}

void ta_tracker_hook_free(void *ptr, size_t size, size_t wrapped, uint32_t src, uint32_t cur)
{
	struct ta_thread *th = ta_tls.th;
	struct ta_tracker *tr;

	ta_nest_enter();
	tr = ta_tracker_begin(th);
	if (tr) {
		if (tr->freed)
			tr->freed(tr->ctx, ptr, size, wrapped, src, cur);
		ta_tracker_end(th);
	}
	ta_trace_free(ptr, size, src, cur);
	ta_nest_exit();
}

void ta_hook_realloc(void *in, void *out, size_t old_size, size_t old_wrapped, size_t size,
                     size_t wrapped, uint32_t src, uint32_t cur)
{
	struct ta_tls *t = &ta_tls;
	struct ta_thread *th = t->th;
	struct ta_tracker *tr;

	if (ta_hooks_muted(t))
		return;
	ta_nest_enter();
	tr = __atomic_load_n(&ta_tracker_active, __ATOMIC_RELAXED) ? ta_tracker_begin(th) : NULL;
	if (tr) {
		/* Two callbacks: the first may replace the tracker and free the
		 * record, so call both through a copy. */
		struct ta_tracker copy = *tr;

		/* the contract: a realloc is a free plus an allocation */
		if (copy.freed)
			copy.freed(copy.ctx, in, old_size, old_wrapped, src, cur);
		if (copy.allocated)
			copy.allocated(copy.ctx, out, size, wrapped, cur);
		ta_tracker_end(th);
	}
	ta_trace_realloc(in, out, old_size, size, src, cur);
	ta_nest_exit();
}

TA_API int ta_tracker_set(const struct ta_tracker *tracker)
{
	struct ta_tracker *copy = NULL, *old;

	if (tracker) {
		copy = ta_inner.malloc(sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		*copy = *tracker;
	}
	pthread_mutex_lock(&ta_tracker_lock);
	old = __atomic_exchange_n(&ta_tracker_cur, copy, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ta_tracker_active, copy != NULL, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&ta_tracker_lock);
	ta_threads_quiesce(offsetof(struct ta_thread, hook_gen));
	ta_inner.free(old);
	return 0;
}

void ta_tracker_atfork_prepare(void)
{
	pthread_mutex_lock(&ta_tracker_lock);
}

void ta_tracker_atfork_parent(void)
{
	pthread_mutex_unlock(&ta_tracker_lock);
}

void ta_tracker_atfork_child(void)
{
	pthread_mutex_unlock(&ta_tracker_lock);
}
