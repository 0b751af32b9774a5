/* SPDX-License-Identifier: MIT */
/*
 * The thin tracing layer between the library and LTTng-UST. With the lttng
 * feature off (TA_WITH_LTTNG 0) every helper compiles to nothing; with it on,
 * the fast-path checks read the tracepoints' enabled state directly and the
 * emitting helpers live in trace.c.
 */
#ifndef TA_TRACE_INTERNAL_H
#define TA_TRACE_INTERNAL_H

#include "ta-internal.h"

#ifndef TA_WITH_LTTNG
#define TA_WITH_LTTNG 0
#endif

enum { TA_SPAN_BIND, TA_SPAN_UNBIND, TA_SPAN_ENTER, TA_SPAN_EXIT };

#if TA_WITH_LTTNG
#include "trackalloc-tp.h"

#define ta_tp_state(name) __atomic_load_n(&lttng_ust_tracepoint_trackalloc___##name.state, __ATOMIC_RELAXED)

/* Whether a per-call event is enabled in some session. @align is a
 * constant on the plain-malloc path: one tracepoint to check. */
static inline int ta_trace_alloc_enabled(size_t align)
{
	return align ? ta_tp_state(alloc_aligned) : ta_tp_state(alloc);
}
static inline int ta_trace_free_enabled(void)
{
	return ta_tp_state(free);
}
static inline int ta_trace_realloc_enabled(void)
{
	return ta_tp_state(realloc);
}

/* The per-call events (the hooks in hooks-internal.h emit them) */
static inline void ta_trace_alloc(void *ptr, size_t size, size_t wrapped, size_t align,
                                  uint32_t gid)
{
	(void)wrapped;
	if (align)
		lttng_ust_tracepoint(trackalloc, alloc_aligned, ptr, size, align, gid);
	else
		lttng_ust_tracepoint(trackalloc, alloc, ptr, size, gid);
}
static inline void ta_trace_free(void *ptr, size_t size, uint32_t src, uint32_t cur)
{
	lttng_ust_tracepoint(trackalloc, free, ptr, size, src, cur);
}
static inline void ta_trace_realloc(void *in, void *out, size_t old_size, size_t size,
                                    uint32_t src, uint32_t cur)
{
	lttng_ust_tracepoint(trackalloc, realloc, in, out, old_size, size, src, cur);
}
/* The sampler's events (sampling.c), inside its library-internal section */
static inline void ta_trace_alloc_sample(const void *ptr, size_t size, uint64_t weight,
                                         uint32_t gid, const uint64_t *ips, uint32_t depth)
{
	lttng_ust_tracepoint(trackalloc, alloc_sample, ptr, size, weight, gid, ips, depth);
}
static inline void ta_trace_free_sample(const void *ptr, size_t size, uint32_t gid)
{
	lttng_ust_tracepoint(trackalloc, free_sample, ptr, size, gid);
}
/* Group and span events: the enabled check inline, the event out of line
 * (trace.c), inside a library-internal section. */
void ta_trace_group_enter_emit(uint32_t gid, uint32_t prev);
void ta_trace_group_exit_emit(uint32_t gid, uint32_t restored);
void ta_trace_span_emit(int what, uint64_t span_id, uint32_t gid);
static inline void ta_trace_group_enter(uint32_t gid, uint32_t prev)
{
	if (TA_UNLIKELY(ta_tp_state(group_enter)))
		ta_trace_group_enter_emit(gid, prev);
}
static inline void ta_trace_group_exit(uint32_t gid, uint32_t restored)
{
	if (TA_UNLIKELY(ta_tp_state(group_exit)))
		ta_trace_group_exit_emit(gid, restored);
}
/* @what is a constant at every call: one tracepoint to check */
static inline void ta_trace_span(int what, uint64_t span_id, uint32_t gid)
{
	int on = what == TA_SPAN_BIND     ? ta_tp_state(span_bind)
	         : what == TA_SPAN_UNBIND ? ta_tp_state(span_unbind)
	         : what == TA_SPAN_ENTER  ? ta_tp_state(span_enter)
	                                  : ta_tp_state(span_exit);

	if (TA_UNLIKELY(on))
		ta_trace_span_emit(what, span_id, gid);
}
void ta_trace_group_metadata(const struct ta_group *g);
/* A soft limit crossing (limits.c). */
void ta_trace_group_limit(uint32_t gid, uint64_t live, uint64_t soft, uint64_t hard);
/* Load LTTng-UST now, or defer it (TRACKALLOC_LTTNG, trace.c). */
void ta_trace_setup(void);
/* An attach request reached the allocator's cold path (wrapper.c). */
void ta_trace_attach(void);
bool ta_trace_loaded(void);
/* LTTng-UST's threads (ust-threads.c). Classify the calling thread at its
 * first hook: true (muted) for LTTng-UST's own threads, and while they are
 * being started. */
bool ta_trace_thread_classify(struct ta_tls *t);
bool ta_ust_tid_listed(pid_t tid);
int ta_task_list(pid_t *tids, int max);
void ta_ust_tids_record(const pid_t *before, int nbefore);
void ta_ust_tids_clear(void);
/* Ask trackalloc record's gate to record this process (gate.c). */
void ta_gate_join(void);
/* Non-zero while a load may be starting LTTng-UST threads not listed yet
 * (ust-threads.c reads it, the load in trace.c sets it). */
extern int ta_ust_starting;
void ta_trace_atfork_prepare(void);
void ta_trace_atfork_parent(void);
void ta_trace_atfork_child(void);

/* Between the LTTng files: trace.c (events), trace-threads.c (watcher and
 * sampler), trace-load.c (loading, attach, fork). */
void ta_trace_tracepoints_defer(void);
void ta_trace_tracepoints_register(void);
int ta_tp_sessions(struct lttng_ust_tracepoint *tp, const void **out, int max);
int ta_tp_recording(struct lttng_ust_tracepoint *tp);
void ta_trace_sample_all(void);
/* At exit: stop the library's threads, then a last sample (once). */
void ta_trace_finish(void);
void ta_watcher_start(void);
/* First thing on a library thread: signals blocked, counts in root. */
void ta_internal_thread_start(void);
int ta_thread_detached(void *(*fn)(void *), int *running);
void ta_trace_threads_atfork_child(void);

#else

static inline int ta_trace_alloc_enabled(size_t align)
{
	(void)align;
	return 0;
}
static inline int ta_trace_free_enabled(void)
{
	return 0;
}
static inline int ta_trace_realloc_enabled(void)
{
	return 0;
}
static inline void ta_trace_alloc(void *ptr, size_t size, size_t wrapped, size_t align,
                                  uint32_t gid)
{
	(void)ptr, (void)size, (void)wrapped, (void)align, (void)gid;
}
static inline void ta_trace_free(void *ptr, size_t size, uint32_t src, uint32_t cur)
{
	(void)ptr, (void)size, (void)src, (void)cur;
}
static inline void ta_trace_realloc(void *in, void *out, size_t old_size, size_t size,
                                    uint32_t src, uint32_t cur)
{
	(void)in, (void)out, (void)old_size, (void)size, (void)src, (void)cur;
}
static inline void ta_trace_alloc_sample(const void *ptr, size_t size, uint64_t weight,
                                         uint32_t gid, const uint64_t *ips, uint32_t depth)
{
	(void)ptr, (void)size, (void)weight, (void)gid, (void)ips, (void)depth;
}
static inline void ta_trace_free_sample(const void *ptr, size_t size, uint32_t gid)
{
	(void)ptr, (void)size, (void)gid;
}
static inline void ta_trace_group_enter(uint32_t gid, uint32_t prev)
{
	(void)gid, (void)prev;
}
static inline void ta_trace_group_exit(uint32_t gid, uint32_t restored)
{
	(void)gid, (void)restored;
}
static inline void ta_trace_span(int what, uint64_t span_id, uint32_t gid)
{
	(void)what, (void)span_id, (void)gid;
}
static inline void ta_trace_group_metadata(const struct ta_group *g)
{
	(void)g;
}
static inline void ta_trace_group_limit(uint32_t gid, uint64_t live, uint64_t soft,
                                        uint64_t hard)
{
	(void)gid, (void)live, (void)soft, (void)hard;
}
static inline void ta_trace_setup(void)
{
}
static inline void ta_trace_attach(void)
{
}
static inline bool ta_trace_thread_classify(struct ta_tls *t)
{
	t->kind = TA_THREAD_PROGRAM;
	return false;
}
static inline void ta_trace_atfork_prepare(void)
{
}
static inline void ta_trace_atfork_parent(void)
{
}
static inline void ta_trace_atfork_child(void)
{
}
#endif

#endif /* TA_TRACE_INTERNAL_H */
