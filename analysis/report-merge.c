/* SPDX-License-Identifier: MIT */
/*
 * Batch calls into the model in time order.
 *
 * The muxer hands over trackalloc:batch events in the order of their own
 * timestamps, but a batch holds a thread's calls of up to 250 ms before it
 * (more on a loaded machine), and the batches of a process's threads cover
 * overlapping spans. The model's live bytes, peaks and timelines need the
 * calls of a process in time order across its threads, as the per-call
 * events would have come. So:
 *
 *  - each thread's batches wait undecoded (their bytes, 5 to 10 a call:
 *    the memory a horizon of calls costs) in a list of their own; only
 *    the batch at the front of each thread is decoded, into a queue of
 *    32-byte records in blocks that are recycled (report-queue.c: no
 *    allocation per record, the same few blocks over and over, warm in
 *    the cache). A thread's calls are already in order, their times made
 *    non-decreasing by report-records.c;
 *  - a batch event at time E makes every call of its process older than
 *    E - horizon safe: no batch still to come should hold one (a batch's
 *    calls are at most TA_BATCH_MAX_AGE_MS old, the horizon twice that),
 *    not even one of a thread not seen yet. Those calls are merged from
 *    the threads' queues through a binary heap keyed by each queue's
 *    first call (time, then stream creation order), and applied;
 *  - a run of calls from one queue that all come before the second-best
 *    queue's head is applied without touching the heap, so a heap step is
 *    paid per change of thread, not per call;
 *  - a call older than the last one applied in its process ("late": its
 *    batch came more than the horizon after it) is applied at the merge
 *    point instead, with the time of the last call applied, so that the
 *    process's figures stay consistent; report-records.c counts it and
 *    the report says so. A batch is decoded only when its thread's queue
 *    ran dry, after every earlier call of that thread was applied, so a
 *    call that was not late when its batch came is not late then either.
 *
 * Processes are independent in the model: each has its own heap and merge
 * point. At the end of the trace every queue is emptied in order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report-merge.h"
#include "report-model.h"
#include "report-queue.h"
#include "report-records.h"

/* The merge state of one process. */
struct rp_bproc {
	struct rp_proc *p;
	struct rp_bstream **heap; /* the streams with calls queued */
	size_t nheap, heap_cap;
	int64_t applied; /* the time of its last applied call */
	struct rp_batch_counts counts; /* decoding's, not in the model yet */
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
	struct rp_qpool pool;
	/* decoded batches' buffers, for the next ones: in a steady trace the
	 * same few are used over and over, never trimmed by the allocator
	 * and faulted in again */
	struct rp_pending *spare;
	size_t nspare;
};

/* At most this many spare buffers: what a horizon of batches holds at most
 * in a busy trace, freed when the report ends. */
#define RP_SPARE_MAX 4096

struct rp_merge *rp_merge_new(struct rp_model *m, int64_t horizon_ns)
{
	struct rp_merge *mg = calloc(1, sizeof(*mg));

	if (!mg)
		return NULL;
	mg->m = m;
	mg->horizon = horizon_ns;
	return mg;
}

struct rp_pending *rp_merge_pending(struct rp_merge *mg, uint64_t bytes)
{
	struct rp_pending **pp = &mg->spare, *b;
	uint64_t cap = 4096;

	/* the first few spares only: batches are mostly of one size */
	for (int i = 0; *pp && i < 4; i++, pp = &(*pp)->next) {
		if ((*pp)->cap >= bytes) {
			b = *pp;
			*pp = b->next;
			mg->nspare--;
			return b;
		}
	}
	while (cap < bytes)
		cap *= 2;
	if (cap > SIZE_MAX - sizeof(*b) - RP_PENDING_SLACK ||
	    !(b = malloc(sizeof(*b) + cap + RP_PENDING_SLACK)))
		return NULL;
	b->cap = cap;
	return b;
}

static void pending_done(struct rp_merge *mg, struct rp_pending *b)
{
	if (mg->nspare >= RP_SPARE_MAX) {
		free(b);
		return;
	}
	b->next = mg->spare;
	mg->spare = b;
	mg->nspare++;
}

static void free_pending(struct rp_merge *mg, struct rp_bstream *s)
{
	while (s->pending) {
		struct rp_pending *b = s->pending;

		s->pending = b->next;
		pending_done(mg, b);
	}
	s->pending_last = NULL;
}

void rp_merge_free(struct rp_merge *mg)
{
	if (!mg)
		return;
	for (size_t i = 0; mg->streams && i <= mg->smask; i++) {
		struct rp_bstream *s = mg->streams[i];

		if (!s)
			continue;
		rp_queue_fini(&s->q);
		while (s->pending) {
			struct rp_pending *b = s->pending;

			s->pending = b->next;
			free(b);
		}
		free(s);
	}
	while (mg->spare) {
		struct rp_pending *b = mg->spare;

		mg->spare = b->next;
		free(b);
	}
	rp_qpool_fini(&mg->pool);
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
	s->q.pool = &mg->pool;
	s->tid = tid;
	s->standalone = standalone;
	s->st.last_ts = INT64_MIN;
	s->heap = -1;
	s->seq = mg->seq++;
	for (h = stream_hash(p, tid, standalone, mg->smask); mg->streams[h]; h = (h + 1) & mg->smask)
		;
	mg->streams[h] = s;
	mg->scount++;
	return mg->last = s;
}

/* ---- the heap of non-empty queues ---------------------------------------------- */

static inline bool before(const struct rp_bstream *a, const struct rp_bstream *b)
{
	return a->head_ts < b->head_ts || (a->head_ts == b->head_ts && a->seq < b->seq);
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

/* Apply the calls of @s's queue from its head while they are not later
 * than @until and come before @other's head (NULL: no other queue). At
 * least one is: @s is the heap's top and its head is not after @until. */
static bool apply_run(struct rp_bproc *bp, struct rp_bstream *s, int64_t until,
                      const struct rp_bstream *other)
{
	struct rp_queue *q = &s->q;
	struct rp_proc *p = bp->p;
	int64_t lim = until, last = s->head_ts;

	if (other) {
		int64_t ot = other->head_ts;

		/* equal times: the earlier-created stream first */
		if (ot <= lim)
			lim = s->seq < other->seq ? ot : ot - 1;
	}
	for (;;) {
		struct rp_qblock *b = q->first;
		uint32_t i = b->head;
		bool ok = true;

		while (ok && i < b->n && b->v[i].ts <= lim) {
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
		}
		b->head = i;
		if (!ok)
			return false;
		if (i < b->n)
			break;
		rp_queue_next_block(q);
		if (b == q->first)
			break; /* that was the last block, now empty */
	}
	bp->applied = last;
	if (!rp_queue_empty(q))
		s->head_ts = rp_queue_head(q)->ts;
	return true;
}

/* Decode @s's next batches until its queue holds a call or none is left. */
static bool refill(struct rp_merge *mg, struct rp_bstream *s)
{
	while (rp_queue_empty(&s->q) && s->pending) {
		struct rp_pending *b = s->pending;
		bool ok = rp_records_decode(&s->st, b, &s->q, s->bp->applied, &s->bp->counts);

		s->pending = b->next;
		if (!s->pending)
			s->pending_last = NULL;
		pending_done(mg, b);
		if (!ok)
			return false;
	}
	if (!rp_queue_empty(&s->q))
		s->head_ts = rp_queue_head(&s->q)->ts;
	return true;
}

static bool heap_insert(struct rp_bproc *bp, struct rp_bstream *s)
{
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
	return true;
}

/* Apply @bp's calls up to @until; what decoding counted goes to the model. */
static bool advance(struct rp_merge *mg, struct rp_bproc *bp, int64_t until)
{
	int64_t first = bp->nheap ? bp->heap[0]->head_ts : 0, done = bp->applied;
	bool ok = true;

	while (ok && bp->nheap) {
		struct rp_bstream *s = bp->heap[0], *other = NULL;

		if (s->head_ts > until)
			break;
		if (bp->nheap > 1)
			other = bp->heap[1];
		if (bp->nheap > 2 && before(bp->heap[2], other))
			other = bp->heap[2];
		ok = apply_run(bp, s, until, other) && refill(mg, s);
		if (rp_queue_empty(&s->q))
			heap_pop_top(bp);
		else
			sift_down(bp, 0);
	}
	/* the calls applied went in time order: the first and the last bound
	 * them for the trace's start and end */
	if (bp->applied != done) {
		rp_model_note_time(mg->m, first);
		rp_model_note_time(mg->m, bp->applied);
	}
	rp_model_add_batch(mg->m, bp->p, &bp->counts);
	memset(&bp->counts, 0, sizeof(bp->counts));
	return ok;
}

bool rp_merge_add(struct rp_merge *mg, struct rp_bstream *s, struct rp_pending *b,
                  int64_t event_ts)
{
	struct rp_bproc *bp = s->bp;

	b->next = NULL;
	if (s->pending_last)
		s->pending_last->next = b;
	else
		s->pending = b;
	s->pending_last = b;
	if (s->heap < 0) {
		if (!refill(mg, s))
			return false;
		if (!rp_queue_empty(&s->q) && !heap_insert(bp, s))
			return false;
	}
	return advance(mg, bp, event_ts > INT64_MIN + mg->horizon ? event_ts - mg->horizon :
	                                                             INT64_MIN);
}

bool rp_merge_finish(struct rp_merge *mg)
{
	for (size_t i = 0; i < mg->nprocs; i++)
		if (!advance(mg, mg->procs[i], INT64_MAX))
			return false;
	return true;
}

void rp_merge_drop(struct rp_merge *mg, struct rp_proc *p)
{
	for (size_t i = 0; i < mg->nprocs; i++) {
		struct rp_bproc *bp = mg->procs[i];

		if (bp->p != p)
			continue;
		/* a stream with batches waiting has calls queued: all are here */
		for (size_t j = 0; j < bp->nheap; j++) {
			rp_queue_clear(&bp->heap[j]->q);
			free_pending(mg, bp->heap[j]);
			bp->heap[j]->heap = -1;
		}
		bp->nheap = 0;
		memset(&bp->counts, 0, sizeof(bp->counts));
	}
}
