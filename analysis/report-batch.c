/* SPDX-License-Identifier: MIT */
/*
 * trackalloc:batch events into the merge of their calls.
 *
 * A batch's data sequence is read element by element once, into a buffer
 * the merge (report-merge.c) recycles, which decodes it (report-records.c)
 * when its thread's turn comes.
 *
 * What follows from the batch's offset is decided here, where batches come
 * in stream order: where the stream cannot be followed (batches lost, its
 * first batch seen in its middle), decoding resumes at the next SYNC
 * position, a multiple of RP_BATCH_CHUNK; the bytes lost are counted and
 * the report says so. The format and the reader's rules are
 * tracepoints/EVENTS.md's.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "report-batch.h"
#include "report-merge.h"
#include "report-model.h"
#include "report-records.h"

struct rp_batcher {
	struct rp_model *m;
	struct rp_merge *mg;
};

struct rp_batcher *rp_batcher_new(struct rp_model *m, int64_t horizon_ns)
{
	struct rp_batcher *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->m = m;
	b->mg = rp_merge_new(m, horizon_ns);
	if (!b->mg) {
		free(b);
		return NULL;
	}
	return b;
}

void rp_batcher_free(struct rp_batcher *b)
{
	if (!b)
		return;
	rp_merge_free(b->mg);
	free(b);
}

/* ---- events ------------------------------------------------------------------- */

static inline uint64_t member_u64(const bt_field *s, uint64_t idx)
{
	return bt_field_integer_unsigned_get_value(
		bt_field_structure_borrow_member_field_by_index_const(s, idx));
}

/* The data sequence's words, as the bytes they pack, into a batch of
 * their own (*@out); their number of bytes, or -1 when out of memory. */
static int64_t read_data(struct rp_batcher *b, const bt_field *seq, struct rp_pending **out)
{
	uint64_t n = bt_field_array_get_length(seq);
	struct rp_pending *pb;

	if (n > UINT64_MAX / 16 || !(pb = rp_merge_pending(b->mg, n * 8)))
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t w = bt_field_integer_unsigned_get_value(
			bt_field_array_borrow_element_field_by_index_const(seq, i));

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		memcpy(pb->data + i * 8, &w, 8);
	}
	*out = pb;
	return (int64_t)(n * 8);
}

bool rp_batcher_event(struct rp_batcher *b, struct rp_proc *p, int64_t ts, const bt_field *pl,
                      const uint64_t idx[RB_NFIELDS])
{
	uint64_t off = member_u64(pl, idx[RB_OFFSET]), len = member_u64(pl, idx[RB_LENGTH]), avail;
	uint32_t tid = (uint32_t)member_u64(pl, idx[RB_TID]);
	bool standalone = off == RP_BATCH_STANDALONE;
	struct rp_batch_counts c = { .batches = 1 };
	struct rp_pending *pb;
	struct rp_bstream *s;
	int64_t got;

	s = rp_merge_stream(b->mg, p, tid, standalone);
	if (!s)
		return false;
	got = read_data(b, bt_field_structure_borrow_member_field_by_index_const(pl, idx[RB_DATA]),
	                &pb);
	if (got < 0)
		return false;
	avail = (uint64_t)got < len ? (uint64_t)got : len;
	pb->reset = pb->resync = pb->count_resync = false;
	rp_bclock_init(&pb->clock, ts, member_u64(pl, idx[RB_TSC]), member_u64(pl, idx[RB_NS]),
	               member_u64(pl, idx[RB_TSC_BASE]), member_u64(pl, idx[RB_NS_BASE]));
	pb->len = len;
	pb->avail = avail;
	pb->pos = standalone ? 0 : off;
	if (standalone || off == 0) {
		/* a state of its own (standalone, positions from its first
		 * byte), or a new stream (a new thread with a recycled id, a
		 * fork child) */
		pb->reset = true;
	} else if (!s->seen) {
		/* recording started in the middle of the stream: nothing is
		 * missing from the trace, the first chunk is not decodable */
		pb->resync = true;
	} else if (off != s->next) {
		/* batches lost (or a corrupt offset): resume at the next SYNC */
		if (off > s->next)
			c.lost_bytes = off - s->next;
		pb->resync = pb->count_resync = true;
	}
	if (!standalone) {
		s->seen = true;
		s->next = off + len;
	}
	rp_model_add_batch(b->m, p, &c);
	return rp_merge_add(b->mg, s, pb, ts);
}

void rp_batcher_drop(struct rp_batcher *b, struct rp_proc *p)
{
	rp_merge_drop(b->mg, p);
}

bool rp_batcher_finish(struct rp_batcher *b)
{
	return rp_merge_finish(b->mg);
}
