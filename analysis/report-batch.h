/* SPDX-License-Identifier: MIT */
/*
 * Decoding trackalloc:batch events (report-batch.c): the record streams of
 * tracepoints/EVENTS.md ("Compact full traces") into per-thread queues of
 * calls, which report-merge.c applies to the model in time order. Used by
 * report-decode.c; not thread-safe.
 */
#ifndef TA_REPORT_BATCH_H
#define TA_REPORT_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <babeltrace2/babeltrace.h>

struct rp_model;
struct rp_proc;
struct rp_batcher;

/* The payload members a batch event is read through, in this order. */
enum rp_batch_field {
	RB_TID, RB_OFFSET, RB_LENGTH, RB_TSC, RB_NS, RB_TSC_BASE, RB_NS_BASE, RB_DATA,
	RB_NFIELDS
};

/* The batch offset of a standalone batch (EVENTS.md). */
#define RP_BATCH_STANDALONE UINT64_MAX

/* A decoder feeding @m, records waiting @horizon_ns for older ones of
 * other threads (RP_MERGE_HORIZON_NS). NULL: out of memory. */
struct rp_batcher *rp_batcher_new(struct rp_model *m, int64_t horizon_ns);
void rp_batcher_free(struct rp_batcher *b);

/*
 * A trackalloc:batch event of process @p at trace time @ts, payload @pl,
 * whose members are at @idx (enum rp_batch_field; RB_DATA a sequence of
 * unsigned integers). Its calls are queued and every call of @p that is
 * older than the merge horizon is applied to the model; what could not be
 * decoded is counted in the model (rp_model_add_batch). The caller has
 * checked that @p's calls come from batches (rp_proc_use_form). false: out
 * of memory.
 */
bool rp_batcher_event(struct rp_batcher *b, struct rp_proc *p, int64_t ts, const bt_field *pl,
                      const uint64_t idx[RB_NFIELDS]);

/* Forget @p's queued calls: its per-call events won (rp_proc_use_form). */
void rp_batcher_drop(struct rp_batcher *b, struct rp_proc *p);

/* End of the trace: apply every queued call. false: out of memory. */
bool rp_batcher_finish(struct rp_batcher *b);

#endif /* TA_REPORT_BATCH_H */
