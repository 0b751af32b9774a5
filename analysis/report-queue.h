/* SPDX-License-Identifier: MIT */
/*
 * Queues of decoded batch calls (report-queue.c): what report-records.c
 * decodes from one batch and report-merge.c applies. Blocks of records
 * come from a pool and go back to it, so a long trace reuses the same few
 * blocks: no allocation per record, no copying. Not thread-safe.
 */
#ifndef TA_REPORT_QUEUE_H
#define TA_REPORT_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

/* What a queued record does: a realloc takes two adjacent entries, its
 * old block (RQ_REALLOC: in_ptr, old_size, source group) then its new
 * one (RQ_REALLOC_NEW: ptr, size, group). */
enum rp_rec_op { RQ_ALLOC, RQ_FREE, RQ_REALLOC, RQ_REALLOC_NEW };

/* One decoded call (or half of a realloc), 32 bytes. */
struct rp_rec {
	int64_t ts;
	uint64_t ptr, size;
	uint32_t gid;
	uint32_t op;
};

/* Records per block (128 KiB). */
#define RP_QBLOCK 4096

struct rp_qblock {
	struct rp_qblock *next;
	uint32_t head, n; /* taken from v[head], appended at v[n] */
	struct rp_rec v[RP_QBLOCK];
};

/* Emptied blocks, for reuse. */
struct rp_qpool {
	struct rp_qblock *spare;
};

/* Records in order: appended to the last block, taken from the first. */
struct rp_queue {
	struct rp_qblock *first, *last;
	struct rp_qpool *pool;
};

struct rp_rec *rp_queue_push_slow(struct rp_queue *q, unsigned k);

/* Room for @k (1, or 2 for a realloc) adjacent entries at the end of @q,
 * for the caller to fill. NULL: out of memory. */
static inline struct rp_rec *rp_queue_push(struct rp_queue *q, unsigned k)
{
	struct rp_qblock *b = q->last;

	if (b && b->n + k <= RP_QBLOCK) {
		struct rp_rec *r = &b->v[b->n];

		b->n += k;
		return r;
	}
	return rp_queue_push_slow(q, k);
}

static inline bool rp_queue_empty(const struct rp_queue *q)
{
	return !q->first || q->first->head == q->first->n;
}

/* The first record (the queue is not empty). */
static inline const struct rp_rec *rp_queue_head(const struct rp_queue *q)
{
	return &q->first->v[q->first->head];
}

/* The first block is used up (head == n): back to the pool, or, when it
 * is the last one, emptied in place. */
void rp_queue_next_block(struct rp_queue *q);

/* Empty @q (its blocks go back to the pool). */
void rp_queue_clear(struct rp_queue *q);

/* Free @q's blocks, or the pool's. */
void rp_queue_fini(struct rp_queue *q);
void rp_qpool_fini(struct rp_qpool *pool);

#endif /* TA_REPORT_QUEUE_H */
