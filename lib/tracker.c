/* SPDX-License-Identifier: MIT */
/*
 * The tracker: the program's callbacks for every allocation and free. The
 * hooks (hooks-internal.h) call them inside a library-internal section
 * (ta_nest_enter): what a callback allocates there counts in root and
 * raises no hook.
 *
 * Replacing the tracker waits until no other thread is still inside a
 * callback of the old one: each thread's hook_gen is odd while it runs a
 * callback, and ta_tracker_set() waits for every odd value it saw to change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "batch-internal.h"
#include "ta-internal.h"

int ta_tracker_active;
static struct ta_tracker *ta_tracker_cur;
static pthread_mutex_t ta_tracker_lock = PTHREAD_MUTEX_INITIALIZER;

static void ta_tracker_end(struct ta_thread *th)
{
	__atomic_store_n(&th->hook_gen, TA_LOAD(&th->hook_gen) + 1, __ATOMIC_RELEASE);
}

/* Begin a callback: return the tracker to call (end with ta_tracker_end),
 * or NULL when there is none (nothing to end). */
static struct ta_tracker *ta_tracker_begin(struct ta_thread *th)
{
	struct ta_tracker *tr;

	if (!th)
		return NULL;
	/* A sequentially consistent exchange orders this store before the
	 * load below (Dekker with the exchange in ta_tracker_set); it is on
	 * this thread's own state, and only on the hook path. */
	__atomic_exchange_n(&th->hook_gen, TA_LOAD(&th->hook_gen) + 1, __ATOMIC_SEQ_CST);
	tr = __atomic_load_n(&ta_tracker_cur, __ATOMIC_SEQ_CST);
	/* cleared since the wrapper looked: the generation must not stay odd,
	 * or the next ta_tracker_set would wait for this thread's next hook */
	if (!tr)
		ta_tracker_end(th);
	return tr;
}

/* The callbacks, called by the hooks (hooks-internal.h) inside a
 * library-internal section. */
void ta_tracker_call_alloc(const void *ptr, size_t size, size_t wrapped, uint32_t gid)
{
	struct ta_thread *th = ta_tls.th;
	struct ta_tracker *tr = ta_tracker_begin(th);

	if (!tr)
		return;
	if (tr->allocated)
		tr->allocated(tr->ctx, ptr, size, wrapped, gid);
	ta_tracker_end(th);
}

void ta_tracker_call_free(const void *ptr, size_t size, size_t wrapped, uint32_t src,
                          uint32_t cur)
{
	struct ta_thread *th = ta_tls.th;
	struct ta_tracker *tr = ta_tracker_begin(th);

	if (!tr)
		return;
	if (tr->freed)
		tr->freed(tr->ctx, ptr, size, wrapped, src, cur);
	ta_tracker_end(th);
}

void ta_tracker_call_realloc(const void *in, const void *out, size_t old_size,
                             size_t old_wrapped, size_t size, size_t wrapped, uint32_t src,
                             uint32_t cur)
{
	struct ta_thread *th = ta_tls.th;
	struct ta_tracker *tr = ta_tracker_begin(th);
	struct ta_tracker copy;

	if (!tr)
		return;
	/* Two callbacks: the first may replace the tracker and free the
	 * record, so call both through a copy. The contract: a realloc is a
	 * free plus an allocation. */
	copy = *tr;
	if (copy.freed)
		copy.freed(copy.ctx, in, old_size, old_wrapped, src, cur);
	if (copy.allocated)
		copy.allocated(copy.ctx, out, size, wrapped, cur);
	ta_tracker_end(th);
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
	if (copy)
		__atomic_or_fetch(&ta_tracker_active, TA_HOOK_TRACKER, __ATOMIC_SEQ_CST);
	else
		__atomic_and_fetch(&ta_tracker_active, ~TA_HOOK_TRACKER, __ATOMIC_SEQ_CST);
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
