/* SPDX-License-Identifier: MIT */
/*
 * The time-ordered merge of batch records (report-merge.c): the calls that
 * trackalloc:batch events carry, per thread, applied to the model in the
 * order of their times across the threads of a process, as if the per-call
 * events had been read. Fed by report-batch.c; not thread-safe.
 */
#ifndef TA_REPORT_MERGE_H
#define TA_REPORT_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rp_model;
struct rp_proc;

/*
 * How long records wait for the other threads' older records: twice the
 * library's TA_BATCH_MAX_AGE_MS (EVENTS.md), the slack for a loaded
 * machine. A record older than that when its batch comes is "late".
 */
#define RP_MERGE_HORIZON_NS (500 * 1000000ll)

/* What a queued record does: a realloc takes two entries, its old block
 * (RQ_REALLOC: in_ptr, old_size, source group) then its new one. */
enum rp_rec_op { RQ_ALLOC, RQ_FREE, RQ_REALLOC, RQ_REALLOC_NEW };

/* One decoded call (or half of a realloc), 32 bytes. */
struct rp_rec {
	int64_t ts;
	uint64_t ptr, size;
	uint32_t gid;
	uint32_t op;
};

/* Records per queue block (512 KiB): blocks are recycled through the
 * merge, so a steady trace reuses the same memory. */
#define RP_QBLOCK 16384

struct rp_qblock {
	struct rp_qblock *next;
	uint32_t head, n; /* taken from v[head], appended at v[n] */
	struct rp_rec v[RP_QBLOCK];
};

/* A thread's records in stream order, times non-decreasing: a list of
 * blocks, appended to the last, taken from the first. */
struct rp_queue {
	struct rp_qblock *first, *last;
};

struct rp_bproc;

/*
 * One record stream: a thread of a process (its batches with a real
 * offset), or the standalone batches of that thread, which have a side
 * stream of their own. report-batch.c owns the decoding fields; the merge
 * owns the queue and the heap index.
 */
struct rp_bstream {
	struct rp_proc *p;
	uint32_t tid;
	bool standalone;
	/* decoding state (EVENTS.md, "Record stream") */
	uint64_t tsc, prev;
	uint32_t cur;
	bool seen;        /* a batch of this stream was decoded */
	uint64_t next;    /* the stream offset the next batch should start at */
	uint64_t skip_to; /* positions before it are not decoded (resync) */
	int64_t last_ts;  /* its last record's time: later ones are not earlier */
	/* merge */
	struct rp_queue q;
	struct rp_merge *mg;
	struct rp_bproc *bp;
	uint32_t seq;   /* creation order: equal times go in this order */
	int64_t heap;   /* index in bp's heap, -1 when the queue is empty */
};

struct rp_merge;

/* A merge feeding @m, records waiting @horizon_ns. NULL: out of memory. */
struct rp_merge *rp_merge_new(struct rp_model *m, int64_t horizon_ns);
void rp_merge_free(struct rp_merge *mg);

/* The stream of thread @tid of @p (its standalone side when @standalone),
 * created on first use. NULL: out of memory. */
struct rp_bstream *rp_merge_stream(struct rp_merge *mg, struct rp_proc *p, uint32_t tid,
                                   bool standalone);

struct rp_rec *rp_merge_push_slow(struct rp_bstream *s, unsigned k);

/* Room for @k (1, or 2 for a realloc) adjacent entries at the end of
 * @s's queue, for the caller to fill. NULL: out of memory. */
static inline struct rp_rec *rp_merge_push(struct rp_bstream *s, unsigned k)
{
	struct rp_qblock *b = s->q.last;

	if (b && b->n + k <= RP_QBLOCK) {
		struct rp_rec *r = &b->v[b->n];

		b->n += k;
		return r;
	}
	return rp_merge_push_slow(s, k);
}

/*
 * The time before which @s's process has had its records applied: a new
 * record earlier than this is late (the caller raises it to this time).
 */
int64_t rp_merge_applied(const struct rp_bstream *s);

/*
 * Records were appended to @s's queue by a batch event at @event_ts: apply
 * every record of its process older than @event_ts minus the horizon.
 * false: out of memory.
 */
bool rp_merge_pushed(struct rp_merge *mg, struct rp_bstream *s, int64_t event_ts);

/* Apply every queued record (end of the trace). false: out of memory. */
bool rp_merge_finish(struct rp_merge *mg);

/* Forget @p's queued records (its per-call events are read instead). */
void rp_merge_drop(struct rp_merge *mg, struct rp_proc *p);

#endif /* TA_REPORT_MERGE_H */
