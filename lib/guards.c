/* SPDX-License-Identifier: MIT */
/*
 * Entering groups: the guard API and the per-thread nesting stack that
 * guards and spans (spans.c) push frames onto. A frame remembers the group
 * active before it, so an exit restores it; an exit that is not the
 * innermost unwinds every frame above it too, and the guards of those
 * frames become stale (their sequence numbers no longer match).
 */
#define _GNU_SOURCE
#include <errno.h>

#include "rules-internal.h"
#include "ta-internal.h"
#include "trace-internal.h"

/* Push a frame that makes @gid active. Return the frame, or NULL (errno). */
struct ta_frame *ta_frame_push(uint32_t gid, uint64_t span_id, bool unbound)
{
	struct ta_tls *t = &ta_tls;
	struct ta_thread *th;
	struct ta_frame *f;

	if (!t->th)
		ta_thread_setup(t);
	th = t->th;
	if (!th) {
		errno = ENOMEM;
		return NULL;
	}
	if (th->depth == th->stack_cap) {
		uint32_t cap = th->stack_cap ? th->stack_cap * 2 : 16;
		struct ta_frame *stack;

		if (th->depth >= TA_NEST_MAX) {
			errno = ENOSPC;
			return NULL;
		}
		if (cap > TA_NEST_MAX)
			cap = TA_NEST_MAX;
		stack = ta_inner.realloc(th->stack, cap * sizeof(*stack));
		if (!stack) {
			errno = ENOMEM;
			return NULL;
		}
		th->stack = stack;
		th->stack_cap = cap;
	}
	f = &th->stack[th->depth];
	f->nbound = (th->depth ? f[-1].nbound : 0) + !unbound;
	th->bound = f->nbound;
	th->depth++;
	f->seq = (th->serial << 32) | ++th->next_seq;
	f->span_id = span_id;
	f->prev_gid = t->nesting ? t->saved_gid : t->gid;
	f->gid = unbound ? f->prev_gid : gid;
	f->unbound = unbound;
	if (!unbound)
		ta_thread_make_active(t, gid);
	return f;
}

/* Pop every frame from @depth (1-based position) upward, restoring the group
 * that was active before that frame. */
void ta_frame_unwind(uint32_t depth)
{
	struct ta_tls *t = &ta_tls;
	struct ta_thread *th = t->th;
	uint32_t prev = th->stack[depth - 1].prev_gid;

	th->depth = depth - 1;
	th->bound = depth > 1 ? th->stack[depth - 2].nbound : 0;
	ta_thread_make_active(t, prev);
}

TA_API ta_guard ta_group_enter(ta_group *g)
{
	ta_guard guard = { 0, 0, 0 };
	struct ta_frame *f;

	if (!g) {
		errno = EINVAL;
		return guard;
	}
	f = ta_frame_push(g->id, 0, false);
	if (!f)
		return guard;
	guard._ta_seq = f->seq;
	guard._ta_depth = ta_frame_depth();
	guard._ta_group_id = g->id;
	ta_trace_group_enter(g->id, f->prev_gid);
	return guard;
}

TA_API int ta_guard_exit(ta_guard *guard)
{
	struct ta_frame *f;
	bool innermost;

	if (!guard || !guard->_ta_seq)
		return -EINVAL;
	f = ta_frame_at(guard->_ta_depth);
	if (!f || f->seq != guard->_ta_seq || f->span_id)
		return -EINVAL; /* stale, exited, or another thread's */
	innermost = guard->_ta_depth == ta_frame_depth();
	ta_trace_group_exit(f->gid, f->prev_gid);
	ta_frame_unwind(guard->_ta_depth);
	guard->_ta_seq = 0;
	return innermost ? 0 : -EINVAL;
}

TA_API ta_group *ta_group_current(void)
{
	struct ta_tls *t = &ta_tls;

	/* a thread that has not allocated yet: its name may give it a group */
	if (TA_UNLIKELY(!t->th) && __atomic_load_n(&ta_rules_thread_on, __ATOMIC_RELAXED))
		ta_thread_setup(t);

	return ta_group_by_id(t->nesting ? t->saved_gid : t->gid);
}
