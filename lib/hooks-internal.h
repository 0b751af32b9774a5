/* SPDX-License-Identifier: MIT */
/*
 * The per-call hooks: what the wrapper runs after it has counted a call, when
 * a tracker is installed or one of the per-call events is enabled. One shape
 * for alloc, free and realloc:
 *
 *   muted thread (inside the library, or LTTng-UST's own)  -> nothing
 *   a tracker is set    -> out of line: a full library-internal section
 *                          (root active) around the tracker's callback and
 *                          the event
 *   only tracing        -> inline: a quiet section around the event
 *
 * Only the wrapper includes this header. It calls down into tracker.c (the
 * callbacks) and trace-internal.h (the events); neither calls back.
 */
#ifndef TA_HOOKS_INTERNAL_H
#define TA_HOOKS_INTERNAL_H

#include "batch-internal.h"
#include "ta-internal.h"
#include "trace-internal.h"

#pragma GCC visibility push(hidden)

/* TA_HOOK_TRACKER | TA_HOOK_BATCH: a tracker is set, batches are recorded */
static inline int ta_hook_word(void)
{
	return __atomic_load_n(&ta_tracker_active, __ATOMIC_RELAXED);
}

static inline int ta_tracker_is_set(void)
{
	return ta_hook_word() & TA_HOOK_TRACKER;
}

/* Whether the wrapper must take the hook path: the checks the fast paths
 * make, one word of the library's and one tracepoint state. @align is a
 * constant on the plain-malloc path. */
static inline int ta_hooks_alloc(size_t align)
{
	return ta_hook_word() | ta_trace_alloc_enabled(align);
}

TA_START static inline int ta_hooks_free(void)
{
	return ta_hook_word() | ta_trace_free_enabled();
}

static inline int ta_hooks_realloc(void)
{
	return ta_hook_word() | ta_trace_realloc_enabled();
}

/* True when this thread's allocations must raise no hook. A thread's first
 * hook classifies it (LTTng-UST's threads are library code for good). */
static inline bool ta_hooks_muted(struct ta_tls *t)
{
	if (t->nesting)
		return true;
	if (TA_UNLIKELY(t->kind == TA_THREAD_UNKNOWN))
		return ta_trace_thread_classify(t);
	return false;
}

static void __attribute__((noinline, cold))
ta_hook_alloc_tracked(void *ptr, size_t size, size_t wrapped, size_t align, uint32_t gid)
{
	ta_nest_enter();
	ta_tracker_call_alloc(ptr, size, wrapped, gid);
	if (ta_hook_word() & TA_HOOK_BATCH)
		ta_pack_alloc(ptr, size, align, gid);
	ta_trace_alloc(ptr, size, wrapped, align, gid);
	ta_nest_exit();
}

static void __attribute__((noinline, cold))
ta_hook_free_tracked(void *ptr, size_t size, size_t wrapped, uint32_t src, uint32_t cur)
{
	ta_nest_enter();
	ta_tracker_call_free(ptr, size, wrapped, src, cur);
	if (ta_hook_word() & TA_HOOK_BATCH)
		ta_pack_free(ptr, size, src, cur);
	ta_trace_free(ptr, size, src, cur);
	ta_nest_exit();
}

static void __attribute__((noinline, cold))
ta_hook_realloc_tracked(void *in, void *out, size_t old_size, size_t old_wrapped, size_t size,
                        size_t wrapped, uint32_t src, uint32_t cur)
{
	ta_nest_enter();
	ta_tracker_call_realloc(in, out, old_size, old_wrapped, size, wrapped, src, cur);
	if (ta_hook_word() & TA_HOOK_BATCH)
		ta_pack_realloc(in, out, old_size, size, src, cur);
	ta_trace_realloc(in, out, old_size, size, src, cur);
	ta_nest_exit();
}

static inline void ta_hook_alloc(void *ptr, size_t size, size_t wrapped, size_t align,
                                 uint32_t gid)
{
	struct ta_tls *t = &ta_tls;
	struct ta_slot *fast;
	int word;

	if (ta_hooks_muted(t))
		return;
	word = ta_hook_word();
	if (TA_UNLIKELY(word & TA_HOOK_TRACKER))
		return ta_hook_alloc_tracked(ptr, size, wrapped, align, gid);
	if (word & TA_HOOK_BATCH)
		ta_pack_alloc(ptr, size, align, gid);
	if (ta_trace_alloc_enabled(align)) {
		fast = ta_quiet_enter(t);
		ta_trace_alloc(ptr, size, wrapped, align, gid);
		ta_quiet_exit(t, fast);
	}
}

static inline void ta_hook_free(void *ptr, size_t size, size_t wrapped, uint32_t src,
                                uint32_t cur)
{
	struct ta_tls *t = &ta_tls;
	struct ta_slot *fast;
	int word;

	if (ta_hooks_muted(t))
		return;
	word = ta_hook_word();
	if (TA_UNLIKELY(word & TA_HOOK_TRACKER))
		return ta_hook_free_tracked(ptr, size, wrapped, src, cur);
	if (word & TA_HOOK_BATCH)
		ta_pack_free(ptr, size, src, cur);
	if (ta_trace_free_enabled()) {
		fast = ta_quiet_enter(t);
		ta_trace_free(ptr, size, src, cur);
		ta_quiet_exit(t, fast);
	}
}

static inline void ta_hook_realloc(void *in, void *out, size_t old_size, size_t old_wrapped,
                                   size_t size, size_t wrapped, uint32_t src, uint32_t cur)
{
	struct ta_tls *t = &ta_tls;
	struct ta_slot *fast;
	int word;

	if (ta_hooks_muted(t))
		return;
	word = ta_hook_word();
	if (TA_UNLIKELY(word & TA_HOOK_TRACKER))
		return ta_hook_realloc_tracked(in, out, old_size, old_wrapped, size, wrapped, src,
		                               cur);
	if (word & TA_HOOK_BATCH)
		ta_pack_realloc(in, out, old_size, size, src, cur);
	if (ta_trace_realloc_enabled()) {
		fast = ta_quiet_enter(t);
		ta_trace_realloc(in, out, old_size, size, src, cur);
		ta_quiet_exit(t, fast);
	}
}

#pragma GCC visibility pop

#endif /* TA_HOOKS_INTERNAL_H */
