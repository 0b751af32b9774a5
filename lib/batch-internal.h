/* SPDX-License-Identifier: MIT */
/*
 * Compact full traces: the per-call hooks append one packed record per call
 * to a buffer of the calling thread, written out as trackalloc:batch events
 * (the format is tracepoints/EVENTS.md's, "Compact full traces"). The
 * writer is batch.c; the hooks (hooks-internal.h) call the three appenders (ta_pack_*)
 * while TA_HOOK_BATCH is up in ta_tracker_active.
 */
#ifndef TA_BATCH_INTERNAL_H
#define TA_BATCH_INTERNAL_H

#include "ta-internal.h"

#ifndef TA_WITH_LTTNG
#define TA_WITH_LTTNG 0
#endif

#pragma GCC visibility push(hidden)

/* Stream positions that are multiples of this start a SYNC record; a record
 * never crosses one. Also the most one event carries. */
#define TA_BATCH_CHUNK 4096u
/* The watcher writes out what a buffer holds at least this often. */
#define TA_BATCH_MAX_AGE_MS 250

/* Bits of ta_tracker_active: the one word the per-call checks of the fast
 * paths read besides the tracepoints' own states. */
#define TA_HOOK_TRACKER 1
#define TA_HOOK_BATCH 2

#if TA_WITH_LTTNG
void ta_pack_alloc(void *ptr, size_t size, size_t align, uint32_t gid);
void ta_pack_free(void *ptr, size_t size, uint32_t src, uint32_t cur);
void ta_pack_realloc(void *in, void *out, size_t old_size, size_t size, uint32_t src,
                      uint32_t gid);
/* Follow trackalloc:batch's enabled state; @flush: also write out every
 * buffer that holds records (the watcher, every period: the events carry
 * the writing thread's name, which only the watcher takes from the
 * process). */
void ta_batch_poll(bool flush);
/* Write out every buffer now (exec, _exit, process exit). @final: later
 * records are written out one call at a time. */
void ta_batch_flush_all(bool final);
void ta_batch_atfork_child(void);
/* The calling thread emits a guard or span event: its next record says its
 * exact time. */
void ta_batch_mark(void);
/* exec and _exit write the buffers out first (exec.c) */
void ta_exec_init(void);
void ta_exec_atfork_child(void);
#else
static inline void ta_pack_alloc(void *ptr, size_t size, size_t align, uint32_t gid)
{
	(void)ptr, (void)size, (void)align, (void)gid;
}
static inline void ta_pack_free(void *ptr, size_t size, uint32_t src, uint32_t cur)
{
	(void)ptr, (void)size, (void)src, (void)cur;
}
static inline void ta_pack_realloc(void *in, void *out, size_t old_size, size_t size,
                                    uint32_t src, uint32_t gid)
{
	(void)in, (void)out, (void)old_size, (void)size, (void)src, (void)gid;
}
static inline void ta_batch_poll(bool flush)
{
	(void)flush;
}
static inline void ta_batch_flush_all(bool final)
{
	(void)final;
}
static inline void ta_batch_atfork_child(void)
{
}
static inline void ta_exec_init(void)
{
}
static inline void ta_batch_mark(void)
{
}
static inline void ta_exec_atfork_child(void)
{
}
#endif

#pragma GCC visibility pop

#endif /* TA_BATCH_INTERNAL_H */
