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

#if TA_WITH_LTTNG
#include "trackalloc-tp.h"

#define ta_tp_state(name) __atomic_load_n(&lttng_ust_tracepoint_trackalloc___##name.state, __ATOMIC_RELAXED)

/* @align is a constant on the plain-malloc path: one tracepoint to check */
static inline int ta_hooks_alloc(size_t align)
{
	return __atomic_load_n(&ta_tracker_active, __ATOMIC_RELAXED) |
	       (align ? ta_tp_state(alloc_aligned) : ta_tp_state(alloc));
}
static inline int ta_hooks_free(void)
{
	return __atomic_load_n(&ta_tracker_active, __ATOMIC_RELAXED) | ta_tp_state(free);
}
static inline int ta_hooks_realloc(void)
{
	return __atomic_load_n(&ta_tracker_active, __ATOMIC_RELAXED) | ta_tp_state(realloc);
}

void ta_trace_alloc(void *ptr, size_t size, size_t wrapped, size_t align, uint32_t gid);
void ta_trace_free(void *ptr, size_t size, uint32_t src, uint32_t cur);
void ta_trace_realloc(void *in, void *out, size_t old_size, size_t size, uint32_t src,
                      uint32_t cur);
void ta_trace_group_enter(uint32_t gid, uint32_t prev);
void ta_trace_group_exit(uint32_t gid, uint32_t restored);
void ta_trace_span(int what, uint64_t span_id, uint32_t gid);
void ta_trace_group_metadata(const struct ta_group *g);
void ta_trace_init(void);
bool ta_trace_is_ust_thread(void);
extern int ta_ust_starting;
static inline bool ta_trace_ust_starting(void)
{
	return __atomic_load_n(&ta_ust_starting, __ATOMIC_ACQUIRE);
}
void ta_trace_atfork_prepare(void);
void ta_trace_atfork_parent(void);
void ta_trace_atfork_child(void);

#else

static inline int ta_hooks_alloc(size_t align)
{
	(void)align;
	return __atomic_load_n(&ta_tracker_active, __ATOMIC_RELAXED);
}
static inline int ta_hooks_free(void)
{
	return __atomic_load_n(&ta_tracker_active, __ATOMIC_RELAXED);
}
static inline int ta_hooks_realloc(void)
{
	return __atomic_load_n(&ta_tracker_active, __ATOMIC_RELAXED);
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
static inline void ta_trace_init(void)
{
}
static inline bool ta_trace_is_ust_thread(void)
{
	return false;
}
static inline bool ta_trace_ust_starting(void)
{
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

enum { TA_SPAN_BIND, TA_SPAN_UNBIND, TA_SPAN_ENTER, TA_SPAN_EXIT };

#endif /* TA_TRACE_INTERNAL_H */
