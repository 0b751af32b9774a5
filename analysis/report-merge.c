/* SPDX-License-Identifier: MIT */
/*
 * Batch records into the model in time order.
 *
 * The muxer hands over trackalloc:batch events in the order of their own
 * timestamps, but a batch holds a thread's calls of up to 250 ms before it
 * (more on a loaded machine), and the batches of a process's threads cover
 * overlapping spans. The model's live bytes, peaks and timelines need the
 * calls of a process in time order across its threads, as the per-call
 * events would have come. So:
 *
 *  - each thread's decoded records wait in a queue of their own (blocks of
 *    RP_QBLOCK records of 32 bytes, recycled: no allocation per record,
 *    no copying, the same memory over and over in a long trace); a
 *    thread's records are already in order, their times made
 *    non-decreasing by report-batch.c;
 *  - a batch event at time E makes every record of its process older than
 *    E - horizon safe: no batch still to come should hold one (a batch's
 *    records are at most TA_BATCH_MAX_AGE_MS old, the horizon twice that),
 *    not even one of a thread not seen yet. Those records are merged from
 *    the queues through a binary heap of the non-empty queues keyed by
 *    their first record's (time, stream creation order), and applied;
 *  - a run of records from one queue that all come before the second-best
 *    queue's head is applied without touching the heap, so a heap step is
 *    paid per change of thread, not per record;
 *  - a record older than the last one applied in its process ("late": its
 *    batch came more than the horizon after it) is applied at the merge
 *    point instead, with the time of the last record applied, so the
 *    process's figures stay consistent; report-batch.c counts such records
 *    and the report says so.
 *
 * Processes are independent in the model, so each has its own heap and
 * merge point; memory is the records of the last horizon of the trace.
 * At the end of the trace every queue is emptied in order.
 */
#include <stdlib.h>
#include <string.h>

#include "report-merge.h"
#include "report-model.h"

/* The merge state of one process. */
struct rp_bproc {
	struct rp_proc *p;
	struct rp_bstream **heap;
	size_t nheap, heap_cap;
	int64_t applied; /* the time of its last applied record */
	bool failed;     /* out of memory while applying */
};

struct rp_merge {
	struct rp_model *m;
	int64_t horizon;
	/* streams: open addressing on (process, tid, standalone) */
	struct rp_bstream **streams;
	size_t smask, scount;
	struct rp_bstream *last; /* the stream of the previous batch */
	struct rp_bproc **procs;
	size_t nprocs, procs_cap;
	uint32_t seq;
	struct rp_qblock *spare; /* emptied blocks, for reuse */
};

struct rp_merge *rp_merge_new(struct rp_model *m, int64_t horizon_ns)
{
	struct rp_merge *mg = calloc(1, sizeof(*mg));

	if (!mg)
		return NULL;
	mg->m = m;
	mg->horizon = horizon_ns;
	return mg;
}

void rp_merge_free(struct rp_merge *mg)
{
	if (!mg)
		return;
	for (size_t i = 0; mg->streams && i <= mg->smask; i++) {
		struct rp_bstream *s = mg->streams[i];

		if (!s)
			continue;
		while (s->q.first) {
			struct rp_qblock *b = s->q.first;

			s->q.first = b->next;
			free(b);
		}
		free(s);
	}
	while (mg->spare) {
		struct rp_qblock *b = mg->spare;

		mg->spare = b->next;
		free(b);
	}
	for (size_t i = 0; i < mg->nprocs; i++) {
		free(mg->procs[i]->heap);
		free(mg->procs[i]);
	}
	free(mg->streams);
	free(mg->procs);
	free(mg);
}

/* ---- streams ----------------------------------------------------------------- */

static inline size_t stream_hash(const struct rp_proc *p, uint32_t tid, bool standalone,
                                 size_t mask)
{
	uint64_t k = ((uint64_t)(uintptr_t)p >> 4) ^ ((uint64_t)tid << 1 | standalone) * 0x9E3779B97F4A7C15ull;

	return (size_t)((k * 0xC2B2AE3D27D4EB4Full) >> 24) & mask;
}

static bool streams_grow(struct rp_merge *mg)
{
	size_t nsize = mg->streams ? (mg->smask + 1) * 2 : 64;
	struct rp_bstream **n = calloc(nsize, sizeof(*n));

	if (!n)
		return false;
	for (size_t i = 0; mg->streams && i <= mg->smask; i++) {
		struct rp_bstream *s = mg->streams[i];
		size_t h;

		if (!s)
			continue;
		for (h = stream_hash(s->p, s->tid, s->standalone, nsize - 1); n[h];
		     h = (h + 1) & (nsize - 1))
			;
		n[h] = s;
	}
	free(mg->streams);
	mg->streams = n;
	mg->smask = nsize - 1;
	return true;
}

static struct rp_bproc *bproc_of(struct rp_merge *mg, struct rp_proc *p)
{
	struct rp_bproc *bp;

	for (size_t i = mg->nprocs; i-- > 0;)
		if (mg->procs[i]->p == p)
			return mg->procs[i];
	if (mg->nprocs == mg->procs_cap) {
		size_t ncap = mg->procs_cap ? mg->procs_cap * 2 : 8;
		void *n = realloc(mg->procs, ncap * sizeof(*mg->procs));

		if (!n)
			return NULL;
		mg->procs = n;
		mg->procs_cap = ncap;
	}
	bp = calloc(1, sizeof(*bp));
	if (!bp)
		return NULL;
	bp->p = p;
	bp->applied = INT64_MIN;
	mg->procs[mg->nprocs++] = bp;
	return bp;
}

struct rp_bstream *rp_merge_stream(struct rp_merge *mg, struct rp_proc *p, uint32_t tid,
                                   bool standalone)
{
	struct rp_bstream *s = mg->last;
	size_t h;

	if (s && s->p == p && s->tid == tid && s->standalone == standalone)
		return s;
	if (mg->streams) {
		for (h = stream_hash(p, tid, standalone, mg->smask); (s = mg->streams[h]);
		     h = (h + 1) & mg->smask)
			if (s->p == p && s->tid == tid && s->standalone == standalone)
				return mg->last = s;
	}
	if ((!mg->streams || (mg->scount + 1) * 2 > mg->smask + 1) && !streams_grow(mg))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->bp = bproc_of(mg, p);
	if (!s->bp) {
		free(s);
		return NULL;
	}
	s->p = p;
	s->mg = mg;
	s->tid = tid;
	s->standalone = standalone;
	s->last_ts = INT64_MIN;
	s->heap = -1;
	s->seq = mg->seq++;
	for (h = stream_hash(p, tid, standalone, mg->smask); mg->streams[h]; h = (h + 1) & mg->smask)
		;
	mg->streams[h] = s;
	mg->scount++;
	return mg->last = s;
}

struct rp_rec *rp_merge_push_slow(struct rp_bstream *s, unsigned k)
{
	struct rp_merge *mg = s->mg;
	struct rp_qblock *b = mg->spare;

	if (b)
		mg->spare = b->next;
	else if (!(b = malloc(sizeof(*b))))
		return NULL;
	b->next = NULL;
	b->head = 0;
	b->n = k;
	if (s->q.last)
		s->q.last->next = b;
	else
		s->q.first = b;
	s->q.last = b;
	return b->v;
}

/* Whether @q holds a record. Emptied blocks leave the queue at once,
 * but for its last one. */
static inline bool queue_empty(const struct rp_queue *q)
{
	return !q->first || q->first->head == q->first->n;
}

static inline const struct rp_rec *queue_head(const struct rp_queue *q)
{
	return &q->first->v[q->first->head];
}

/* @q's first block is used up: recycle it. */
static void queue_next_block(struct rp_merge *mg, struct rp_queue *q)
{
	struct rp_qblock *b = q->first;

	q->first = b->next;
	if (!q->first)
		q->last = NULL;
	b->next = mg->spare;
	mg->spare = b;
}

int64_t rp_merge_applied(const struct rp_bstream *s)
{
	return s->bp->applied;
}

/* ---- the heap of non-empty queues ---------------------------------------------- */

static inline bool before(const struct rp_bstream *a, const struct rp_bstream *b)
{
	int64_t ta = queue_head(&a->q)->ts, tb = queue_head(&b->q)->ts;

	return ta < tb || (ta == tb && a->seq < b->seq);
}

static void heap_place(struct rp_bproc *bp, size_t i, struct rp_bstream *s)
{
	bp->heap[i] = s;
	s->heap = (int64_t)i;
}

static void sift_up(struct rp_bproc *bp, size_t i)
{
	struct rp_bstream *s = bp->heap[i];

	while (i > 0 && before(s, bp->heap[(i - 1) / 2])) {
		heap_place(bp, i, bp->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_place(bp, i, s);
}

static void sift_down(struct rp_bproc *bp, size_t i)
{
	struct rp_bstream *s = bp->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= bp->nheap)
			break;
		if (c + 1 < bp->nheap && before(bp->heap[c + 1], bp->heap[c]))
			c++;
		if (!before(bp->heap[c], s))
			break;
		heap_place(bp, i, bp->heap[c]);
		i = c;
	}
	heap_place(bp, i, s);
}

static void heap_pop_top(struct rp_bproc *bp)
{
	bp->heap[0]->heap = -1;
	if (--bp->nheap) {
		bp->heap[0] = bp->heap[bp->nheap];
		sift_down(bp, 0);
	}
}

/* ---- applying ---------------------------------------------------------------- */

/* Apply the records of @s's queue from its head while they are not later
 * than @until and come before @other's head (NULL: no other queue). */
static bool apply_run(struct rp_model *m, struct rp_bproc *bp, struct rp_bstream *s,
                      int64_t until, const struct rp_bstream *other)
{
	struct rp_queue *q = &s->q;
	struct rp_proc *p = bp->p;
	int64_t lim = until, first = queue_head(q)->ts, last = first;

	if (other) {
		int64_t ot = queue_head(&other->q)->ts;

		/* equal times: the earlier-created stream first */
		if (ot <= lim)
			lim = s->seq < other->seq ? ot : ot - 1;
	}
	while (q->first) {
		struct rp_qblock *b = q->first;
		uint32_t i = b->head;
		bool ok = true;

		while (i < b->n && b->v[i].ts <= lim) {
			const struct rp_rec *r = &b->v[i];

			switch (r->op) {
			case RQ_ALLOC:
				ok = rp_on_alloc(p, r->ts, r->ptr, r->size, r->gid);
				break;
			case RQ_FREE:
				ok = rp_on_free(p, r->ts, r->ptr, r->size, r->gid);
				break;
			case RQ_REALLOC:
				/* its RQ_REALLOC_NEW is the next entry, pushed with it */
				ok = rp_on_realloc(p, r->ts, r->ptr, r[1].ptr, r->size, r[1].size, r->gid,
				                   r[1].gid);
				i++;
				break;
			default:
				break;
			}
			last = r->ts;
			i++;
			if (!ok)
				break;
		}
		b->head = i;
		if (!ok) {
			bp->failed = true;
			return false;
		}
		if (i < b->n)
			break;
		if (b->next)
			queue_next_block(s->mg, q);
		else {
			b->head = b->n = 0; /* the last block: reuse it in place */
			break;
		}
	}
	rp_model_note_time(m, first);
	rp_model_note_time(m, last);
	bp->applied = last;
	return true;
}

static bool advance(struct rp_model *m, struct rp_bproc *bp, int64_t until)
{
	while (bp->nheap) {
		struct rp_bstream *s = bp->heap[0], *other = NULL;

		if (queue_head(&s->q)->ts > until)
			break;
		if (bp->nheap > 1)
			other = bp->heap[1];
		if (bp->nheap > 2 && before(bp->heap[2], other))
			other = bp->heap[2];
		if (!apply_run(m, bp, s, until, other))
			return false;
		if (queue_empty(&s->q))
			heap_pop_top(bp);
		else
			sift_down(bp, 0);
	}
	return true;
}

bool rp_merge_pushed(struct rp_merge *mg, struct rp_bstream *s, int64_t event_ts)
{
	struct rp_bproc *bp = s->bp;

	if (s->heap < 0 && !queue_empty(&s->q)) {
		if (bp->nheap == bp->heap_cap) {
			size_t ncap = bp->heap_cap ? bp->heap_cap * 2 : 8;
			void *n = realloc(bp->heap, ncap * sizeof(*bp->heap));

			if (!n)
				return false;
			bp->heap = n;
			bp->heap_cap = ncap;
		}
		bp->heap[bp->nheap++] = s;
		sift_up(bp, bp->nheap - 1);
	}
	return advance(mg->m, bp, event_ts > INT64_MIN + mg->horizon ? event_ts - mg->horizon :
	                                                               INT64_MIN);
}

bool rp_merge_finish(struct rp_merge *mg)
{
	for (size_t i = 0; i < mg->nprocs; i++)
		if (!advance(mg->m, mg->procs[i], INT64_MAX))
			return false;
	return true;
}

void rp_merge_drop(struct rp_merge *mg, struct rp_proc *p)
{
	for (size_t i = 0; i < mg->nprocs; i++) {
		struct rp_bproc *bp = mg->procs[i];

		if (bp->p != p)
			continue;
		for (size_t j = 0; j < bp->nheap; j++) {
			struct rp_queue *q = &bp->heap[j]->q;

			while (q->first && q->first->next)
				queue_next_block(mg, q);
			if (q->first)
				q->first->head = q->first->n = 0;
			bp->heap[j]->heap = -1;
		}
		bp->nheap = 0;
	}
}
