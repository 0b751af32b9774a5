/* SPDX-License-Identifier: MIT */
/*
 * trackalloc:batch record streams into per-thread queues of calls.
 *
 * A batch's data sequence is read element by element once, into one
 * buffer the decoder reuses, then decoded as bytes straight into the
 * thread's queue (report-merge.h): no allocation per record.
 *
 * Stream state is kept per (process, tid) across batches. Where the
 * stream cannot be followed (batches lost, a record that cannot be
 * decoded), decoding resumes at the next SYNC position, a multiple of
 * RP_BATCH_CHUNK; the bytes lost or skipped are counted and the report
 * says so. The format and the reader's rules are tracepoints/EVENTS.md's.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "report-batch.h"
#include "report-merge.h"
#include "report-model.h"

/* Header bits (EVENTS.md, "Record stream"). */
enum {
	RB_KIND_PAD = 0, RB_KIND_ALLOC = 1, RB_KIND_FREE = 2, RB_KIND_REALLOC = 3,
	RB_KIND_GROUP = 4, RB_KIND_SYNC = 7,
};
#define RB_T 0x08u
#define RB_G 0x10u
#define RB_A 0x20u /* ALLOC */
#define RB_S 0x20u /* REALLOC */
#define RB_U 0x40u
#define RB_V 0x80u /* REALLOC */

struct rp_batcher {
	struct rp_model *m;
	struct rp_merge *mg;
	uint8_t *buf; /* the batch's bytes */
	size_t buf_cap;
};

/* One batch's clock: record ticks to trace time. */
struct rb_clock {
	int64_t ts;        /* the event's trace time */
	uint64_t tsc;      /* ticks when the writer read ns */
	uint64_t k;        /* ns per tick, 32.32 fixed point; 0: every record at ts */
	uint64_t max_age;  /* ns - ns_base: no record is older than recording */
};

/* What one batch adds to the model's batch counts. */
struct rb_result {
	struct rp_batch_counts c;
	bool oom;
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
	free(b->buf);
	free(b);
}

/* ---- clock ------------------------------------------------------------------- */

static void clock_init(struct rb_clock *c, int64_t ts, uint64_t tsc, uint64_t ns,
                       uint64_t tsc_base, uint64_t ns_base)
{
	c->ts = ts;
	c->tsc = tsc;
	c->k = 0;
	c->max_age = ns > ns_base ? ns - ns_base : 0;
	if (tsc > tsc_base && ns > ns_base) {
		unsigned __int128 k = ((unsigned __int128)(ns - ns_base) << 32) / (tsc - tsc_base);

		c->k = k > UINT64_MAX ? UINT64_MAX : (uint64_t)k;
	}
}

/* The trace time of a record at tick @r: the event's time minus the
 * record's age, never later than the event nor earlier than recording. */
static inline int64_t clock_time(const struct rb_clock *c, uint64_t r)
{
	unsigned __int128 age;
	uint64_t dt;

	if (r >= c->tsc || !c->k)
		return c->ts;
	age = ((unsigned __int128)(c->tsc - r) * c->k) >> 32;
	dt = age > c->max_age ? c->max_age : (uint64_t)age;
	if (dt > (uint64_t)c->ts - (uint64_t)INT64_MIN)
		return INT64_MIN;
	return (int64_t)((uint64_t)c->ts - dt);
}

/* ---- bytes ------------------------------------------------------------------- */

/* An unsigned LEB128 varint of at most 10 bytes before @lim. */
static inline bool rd_varint(const uint8_t **pp, const uint8_t *lim, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

	if (p < lim && *p < 0x80) {
		*out = *p;
		*pp = p + 1;
		return true;
	}
	for (unsigned shift = 0; shift < 70; shift += 7) {
		uint8_t byte;

		if (p >= lim)
			return false;
		byte = *p++;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			*out = v;
			*pp = p;
			return true;
		}
	}
	return false;
}

static inline bool rd_group(const uint8_t **pp, const uint8_t *lim, uint32_t *out)
{
	uint64_t v;

	if (!rd_varint(pp, lim, &v) || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* A zigzag pointer delta in 16-byte units, or bytes when @bytes. */
static inline bool rd_delta(const uint8_t **pp, const uint8_t *lim, bool bytes, uint64_t *out)
{
	uint64_t z;

	if (!rd_varint(pp, lim, &z))
		return false;
	z = (z >> 1) ^ (0 - (z & 1));
	*out = bytes ? z : z << 4;
	return true;
}

static inline uint64_t round_chunk(uint64_t pos)
{
	return (pos + RP_BATCH_CHUNK - 1) & ~(uint64_t)(RP_BATCH_CHUNK - 1);
}

/* ---- records ------------------------------------------------------------------- */

/* Push a call at tick @tick onto @s's queue, @k entries (NULL: out of
 * memory). */
static inline struct rp_rec *push(struct rp_bstream *s, const struct rb_clock *c, int64_t applied,
                                  uint64_t tick, struct rb_result *res, unsigned k)
{
	int64_t t = clock_time(c, tick);
	struct rp_rec *r = rp_merge_push(s, k);

	if (!r)
		return NULL;

	/* late on its own time, before the thread's clamp hides it */
	if (t < applied) {
		t = applied;
		res->c.late++;
	}
	if (t < s->last_ts)
		t = s->last_ts;
	s->last_ts = t;
	r->ts = t;
	res->c.calls++;
	return r;
}

/*
 * Decode the records of @p up to @lim (a chunk's end or the batch's),
 * starting at a record. Returns where it stopped: @lim when all went well,
 * else the start of the record that could not be decoded; NULL when out
 * of memory.
 */
static const uint8_t *decode_run(struct rp_bstream *s, const struct rb_clock *c, int64_t applied,
                                 const uint8_t *p, const uint8_t *lim, struct rb_result *res)
{
	while (p < lim) {
		const uint8_t *start = p;
		unsigned h = *p++;
		uint64_t v, d, d2, size, old_size;
		uint32_t g, g2;
		struct rp_rec *r;

		switch (h & 7) {
		case RB_KIND_PAD:
			if (h)
				return start;
			continue;
		case RB_KIND_SYNC:
			if (h != RB_KIND_SYNC || !rd_varint(&p, lim, &v) || !rd_group(&p, lim, &g))
				return start;
			s->tsc = v;
			s->cur = g;
			s->prev = 0;
			continue;
		case RB_KIND_ALLOC: case RB_KIND_FREE: case RB_KIND_REALLOC: case RB_KIND_GROUP:
			break;
		default: /* reserved */
			return start;
		}
		d = 0;
		if ((h & RB_T) && !rd_varint(&p, lim, &d))
			return start;
		switch (h & 7) {
		case RB_KIND_ALLOC:
			if (!rd_delta(&p, lim, h & RB_U, &d2) || !rd_varint(&p, lim, &size))
				return start;
			g = s->cur;
			if ((h & RB_G) && !rd_group(&p, lim, &g))
				return start;
			if ((h & RB_A) && !rd_varint(&p, lim, &v))
				return start;
			s->tsc += d;
			s->cur = g;
			s->prev += d2;
			if (!(r = push(s, c, applied, s->tsc, res, 1)))
				return NULL;
			r->op = RQ_ALLOC;
			r->ptr = s->prev;
			r->size = size;
			r->gid = g;
			break;
		case RB_KIND_FREE:
			if (!rd_delta(&p, lim, h & RB_U, &d2) || !rd_varint(&p, lim, &size))
				return start;
			g = s->cur;
			if ((h & RB_G) && !rd_group(&p, lim, &g))
				return start;
			s->tsc += d;
			s->prev += d2;
			if (!(r = push(s, c, applied, s->tsc, res, 1)))
				return NULL;
			r->op = RQ_FREE;
			r->ptr = s->prev;
			r->size = size;
			r->gid = g;
			break;
		case RB_KIND_REALLOC: {
			uint64_t in_ptr, dout;

			if (!rd_delta(&p, lim, h & RB_U, &d2) || !rd_delta(&p, lim, h & RB_V, &dout) ||
			    !rd_varint(&p, lim, &old_size) || !rd_varint(&p, lim, &size))
				return start;
			g = g2 = s->cur;
			if ((h & RB_S) && !rd_group(&p, lim, &g))
				return start;
			if ((h & RB_G) && !rd_group(&p, lim, &g2))
				return start;
			s->tsc += d;
			in_ptr = s->prev + d2;
			s->prev = in_ptr + dout;
			s->cur = g2;
			if (!(r = push(s, c, applied, s->tsc, res, 2)))
				return NULL;
			r->op = RQ_REALLOC;
			r->ptr = in_ptr;
			r->size = old_size;
			r->gid = g;
			/* the new block: same time, not a call of its own */
			r[1] = (struct rp_rec){ r->ts, s->prev, size, g2, RQ_REALLOC_NEW };
			break;
		}
		case RB_KIND_GROUP:
			if (!rd_group(&p, lim, &g))
				return start;
			s->tsc += d;
			s->cur = g;
			break;
		}
	}
	return p;
}

/*
 * Decode @len bytes of @s's stream at stream position @pos (@avail of them
 * present in @data) into its queue. Positions before s->skip_to are not
 * decoded; at a record that cannot be decoded, skip_to moves to the next
 * SYNC position after it.
 */
static void decode(struct rp_bstream *s, const struct rb_clock *c, int64_t applied, uint64_t pos,
                   const uint8_t *data, uint64_t len, uint64_t avail, bool count_skip,
                   struct rb_result *res)
{
	const uint8_t *p = data, *end = data + avail;

	if (avail < len)
		res->c.bad_bytes += len - avail;
	while (p < end) {
		uint64_t at = pos + (uint64_t)(p - data), next, n;
		const uint8_t *lim, *stop;

		if (at < s->skip_to) {
			n = s->skip_to - at < (uint64_t)(end - p) ? s->skip_to - at : (uint64_t)(end - p);
			if (count_skip)
				res->c.bad_bytes += n;
			p += n;
			continue;
		}
		count_skip = true;
		next = (at | (RP_BATCH_CHUNK - 1)) + 1;
		lim = next - at < (uint64_t)(end - p) ? p + (next - at) : end;
		/* a chunk starts with SYNC */
		if (at % RP_BATCH_CHUNK == 0 && *p != RB_KIND_SYNC)
			stop = p;
		else
			stop = decode_run(s, c, applied, p, lim, res);
		if (!stop) {
			res->oom = true;
			return;
		}
		res->c.bytes += (uint64_t)(stop - p);
		if (stop == lim) {
			p = lim;
			continue;
		}
		/* cannot decode at stop: resume at the next SYNC position */
		s->skip_to = next;
		res->c.bad_bytes += (uint64_t)(lim - stop);
		p = lim;
	}
	/* bytes the batch announced but does not carry: their SYNC too */
	if (avail < len && s->skip_to < round_chunk(pos + len))
		s->skip_to = round_chunk(pos + len);
}

/* ---- events ------------------------------------------------------------------- */

static inline uint64_t member_u64(const bt_field *s, uint64_t idx)
{
	return bt_field_integer_unsigned_get_value(
		bt_field_structure_borrow_member_field_by_index_const(s, idx));
}

/* The data sequence's words into b->buf as the bytes they pack; how many
 * bytes, or -1 when out of memory. */
static int64_t read_data(struct rp_batcher *b, const bt_field *seq)
{
	uint64_t n = bt_field_array_get_length(seq);

	if (n > SIZE_MAX / 8 / 2)
		return -1;
	if (n * 8 > b->buf_cap) {
		size_t ncap = b->buf_cap ? b->buf_cap : 4096;
		uint8_t *nb;

		while (ncap < n * 8)
			ncap *= 2;
		nb = realloc(b->buf, ncap);
		if (!nb)
			return -1;
		b->buf = nb;
		b->buf_cap = ncap;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t w = bt_field_integer_unsigned_get_value(
			bt_field_array_borrow_element_field_by_index_const(seq, i));

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		memcpy(b->buf + i * 8, &w, 8);
	}
	return (int64_t)(n * 8);
}

bool rp_batcher_event(struct rp_batcher *b, struct rp_proc *p, int64_t ts, const bt_field *pl,
                      const uint64_t idx[RB_NFIELDS])
{
	uint64_t off = member_u64(pl, idx[RB_OFFSET]), len = member_u64(pl, idx[RB_LENGTH]), avail;
	uint32_t tid = (uint32_t)member_u64(pl, idx[RB_TID]);
	bool standalone = off == RP_BATCH_STANDALONE, count_skip = true;
	struct rb_result res = { { 0 } };
	struct rb_clock c;
	struct rp_bstream *s;
	int64_t got;

	clock_init(&c, ts, member_u64(pl, idx[RB_TSC]), member_u64(pl, idx[RB_NS]),
	           member_u64(pl, idx[RB_TSC_BASE]), member_u64(pl, idx[RB_NS_BASE]));
	got = read_data(b, bt_field_structure_borrow_member_field_by_index_const(pl, idx[RB_DATA]));
	if (got < 0)
		return false;
	avail = (uint64_t)got < len ? (uint64_t)got : len;
	s = rp_merge_stream(b->mg, p, tid, standalone);
	if (!s)
		return false;
	res.c.batches = 1;
	if (standalone) {
		/* a state of its own, positions from its first byte */
		s->tsc = s->prev = 0;
		s->cur = 0;
		s->skip_to = 0;
		off = 0;
	} else if (off == 0) {
		/* a new stream (new thread with a recycled id, fork child) */
		s->tsc = s->prev = 0;
		s->cur = 0;
		s->skip_to = 0;
	} else if (!s->seen) {
		/* recording started in the middle of the stream: nothing is
		 * missing from the trace, the first chunk is not decodable */
		s->skip_to = round_chunk(off);
		count_skip = false;
	} else if (off != s->next) {
		/* batches lost (or a corrupt offset): resume at the next SYNC */
		if (off > s->next)
			res.c.lost_bytes += off - s->next;
		if (s->skip_to < round_chunk(off))
			s->skip_to = round_chunk(off);
	}
	s->seen = !standalone;
	s->next = off + len;
	decode(s, &c, rp_merge_applied(s), off, b->buf, len, avail, count_skip, &res);
	if (res.oom)
		return false;
	rp_model_add_batch(b->m, p, &res.c);
	return rp_merge_pushed(b->mg, s, ts);
}

void rp_batcher_drop(struct rp_batcher *b, struct rp_proc *p)
{
	rp_merge_drop(b->mg, p);
}

bool rp_batcher_finish(struct rp_batcher *b)
{
	return rp_merge_finish(b->mg);
}
