/* SPDX-License-Identifier: MIT */
/*
 * The time-ordered merge of batch records (report-merge.c): the calls that
 * trackalloc:batch events carry, per thread, applied to the model in the
 * order of their times across the threads of a process, as if the per-call
 * events had been read. Fed by report-batch.c; decodes each batch with
 * report-records.c when its thread's turn comes; not thread-safe.
 */
#ifndef TA_REPORT_MERGE_H
#define TA_REPORT_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report-queue.h"
#include "report-records.h"

struct rp_model;
struct rp_proc;

/*
 * How long calls wait for the other threads' older ones by default
 * (--horizon-ms): twice the library's TA_BATCH_MAX_AGE_MS (EVENTS.md), the
 * slack for a loaded machine. A call older than that when its batch comes
 * is "late".
 */
#define RP_MERGE_HORIZON_NS (500 * 1000000ll)

struct rp_bproc;
struct rp_merge;
struct rp_pending;

/*
 * One record stream: a thread of a process (its batches with a real
 * offset), or the standalone batches of that thread, a side stream of
 * their own. report-batch.c owns the arrival fields; the merge the rest.
 */
struct rp_bstream {
	struct rp_proc *p;
	uint32_t tid;
	bool standalone;
	/* arrival (report-batch.c) */
	bool seen;     /* a batch of the stream came */
	uint64_t next; /* the stream offset the next batch should start at */
	/* decoding (report-records.c) */
	struct rp_rstate st;
	struct rp_pending *pending, *pending_last; /* batches not decoded yet */
	struct rp_queue q; /* the calls decoded, not applied yet */
	/* merge */
	struct rp_bproc *bp;
	int64_t head_ts; /* the time of q's first call, while it has one */
	uint32_t seq; /* creation order: equal times go in this order */
	int64_t heap; /* index in bp's heap, -1 when it has nothing queued */
};

/* A merge feeding @m, calls waiting @horizon_ns. NULL: out of memory. */
struct rp_merge *rp_merge_new(struct rp_model *m, int64_t horizon_ns);
void rp_merge_free(struct rp_merge *mg);

/* The stream of thread @tid of @p (its standalone side when @standalone),
 * created on first use. NULL: out of memory. */
struct rp_bstream *rp_merge_stream(struct rp_merge *mg, struct rp_proc *p, uint32_t tid,
                                   bool standalone);

/* Room for a batch of @bytes (rp_pending's cap at least that), from the
 * batches already decoded when one fits. NULL: out of memory. */
struct rp_pending *rp_merge_pending(struct rp_merge *mg, uint64_t bytes);

/*
 * Batch @b (from rp_merge_pending; the merge takes it back) of stream @s came
 * in an event at @event_ts: queue it, and apply every call of @s's process
 * older than @event_ts minus the horizon. false: out of memory.
 */
bool rp_merge_add(struct rp_merge *mg, struct rp_bstream *s, struct rp_pending *b,
                  int64_t event_ts);

/* Apply every call still waiting (end of the trace). false: out of memory. */
bool rp_merge_finish(struct rp_merge *mg);

/* Forget @p's waiting calls (its per-call events are read instead). */
void rp_merge_drop(struct rp_merge *mg, struct rp_proc *p);

#endif /* TA_REPORT_MERGE_H */
