/* SPDX-License-Identifier: MIT */
/*
 * The trackalloc:batch record stream (tracepoints/EVENTS.md, "Record
 * stream") decoded from bytes into a queue of calls.
 *
 * A record is decoded whole or not at all: a reader that cannot decode one
 * (a reserved kind, a PAD or SYNC header with other bits, a varint over 10
 * bytes, a group over 32 bits, a record running past its chunk or the
 * batch) resumes at the next SYNC position after it, and counts the bytes
 * in between. Each call gets its trace time from the batch's clock,
 * clamped to the event's time, to the thread's previous call and to the
 * process's merge point.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "report-model.h"
#include "report-queue.h"
#include "report-records.h"

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

/* ---- clock ------------------------------------------------------------------- */

void rp_bclock_init(struct rp_bclock *c, int64_t ts, uint64_t tsc, uint64_t ns,
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
static inline int64_t clock_time(const struct rp_bclock *c, uint64_t r)
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
static bool rd_varint_slow(const uint8_t **pp, const uint8_t *lim, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

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

/*
 * Up to 8 bytes without a branch on the data: one load (batch buffers have
 * RP_PENDING_SLACK bytes past their end), the terminating byte found with
 * a count of trailing zeros, the 7-bit groups packed by three shift-and-or
 * steps. Varint lengths vary call by call, so a byte-by-byte loop pays a
 * mispredicted branch on most of them.
 */
static inline bool rd_varint(const uint8_t **pp, const uint8_t *lim, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t w, stop, x;
	unsigned len;

	memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	stop = ~w & 0x8080808080808080ull;
	if (__builtin_expect(!stop, 0))
		return rd_varint_slow(pp, lim, out);
	len = ((unsigned)__builtin_ctzll(stop) >> 3) + 1;
	if (__builtin_expect(len > (uint64_t)(lim - p), 0))
		return false;
	x = w & (~0ull >> (64 - 8 * len)) & 0x7f7f7f7f7f7f7f7full;
	x = ((x & 0x7f007f007f007f00ull) >> 1) | (x & 0x007f007f007f007full);
	x = ((x & 0x3fff00003fff0000ull) >> 2) | (x & 0x00003fff00003fffull);
	x = ((x & 0x0fffffff00000000ull) >> 4) | (x & 0x000000000fffffffull);
	*out = x;
	*pp = p + len;
	return true;
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


/* ---- records ------------------------------------------------------------------- */

/* Room for a call at tick @tick, @k entries, its time set (NULL: out of
 * memory). */
static inline struct rp_rec *push(struct rp_rstate *st, struct rp_queue *q, struct rp_bclock *c,
                                  int64_t applied, uint64_t tick, struct rp_batch_counts *res,
                                  unsigned k)
{
	struct rp_rec *r = rp_queue_push(q, k);
	int64_t t;

	if (!r)
		return NULL;
	if (tick != c->memo_tick) {
		c->memo_tick = tick;
		c->memo_ts = clock_time(c, tick);
	}
	t = c->memo_ts;
	/* The thread's clamp first: two batches of one stream convert their
	 * ticks over different clock intervals, so the first call of a batch
	 * may come out a few microseconds before the last of the previous one,
	 * which may be the last call applied; only a call that is still before
	 * the merge point after it is late. The thread's clamp follows its own
	 * times, not the merge point, so every call of a late batch counts. */
	if (t < st->last_ts)
		t = st->last_ts;
	st->last_ts = t; /* the thread's own times, in its order */
	if (t < applied) {
		t = applied;
		res->late++;
	}
	r->ts = t;
	res->calls++;
	return r;
}

/*
 * Decode the records of @p up to @lim (a chunk's end or the batch's),
 * starting at a record. Returns where it stopped: @lim when all went well,
 * else the start of the record that could not be decoded; NULL when out
 * of memory.
 */
static const uint8_t *decode_run(struct rp_rstate *s, struct rp_queue *q, struct rp_bclock *c,
                                 int64_t applied, const uint8_t *p, const uint8_t *lim,
                                 struct rp_batch_counts *res)
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
			if (!(r = push(s, q, c, applied, s->tsc, res, 1)))
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
			if (!(r = push(s, q, c, applied, s->tsc, res, 1)))
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
			if (!(r = push(s, q, c, applied, s->tsc, res, 2)))
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

bool rp_records_decode(struct rp_rstate *s, const struct rp_pending *b, struct rp_queue *q,
                       int64_t applied, struct rp_batch_counts *res)
{
	const uint8_t *p = b->data, *end = b->data + b->avail;
	struct rp_bclock clock = b->clock;

	clock.memo_tick = clock.tsc; /* a tick not before the event's: its time */
	clock.memo_ts = clock.ts;

	if (b->reset) {
		s->tsc = s->prev = 0;
		s->cur = 0;
		s->skip_to = 0;
	}
	if (b->resync) {
		s->skip_to = rp_round_chunk(b->pos);
		s->skip_counts = b->count_resync;
	}
	if (b->avail < b->len)
		res->bad_bytes += b->len - b->avail;
	while (p < end) {
		uint64_t at = b->pos + (uint64_t)(p - b->data), next, n;
		const uint8_t *lim, *stop;

		if (at < s->skip_to) {
			n = s->skip_to - at < (uint64_t)(end - p) ? s->skip_to - at : (uint64_t)(end - p);
			if (s->skip_counts)
				res->bad_bytes += n;
			p += n;
			continue;
		}
		next = (at | (RP_BATCH_CHUNK - 1)) + 1;
		lim = next - at < (uint64_t)(end - p) ? p + (next - at) : end;
		/* a chunk starts with SYNC */
		if (at % RP_BATCH_CHUNK == 0 && *p != RB_KIND_SYNC)
			stop = p;
		else if (!(stop = decode_run(s, q, &clock, applied, p, lim, res)))
			return false;
		res->bytes += (uint64_t)(stop - p);
		if (stop == lim) {
			p = lim;
			continue;
		}
		/* cannot decode at stop: resume at the next SYNC position */
		s->skip_to = next;
		s->skip_counts = true;
		res->bad_bytes += (uint64_t)(lim - stop);
		p = lim;
	}
	/* bytes the batch announced but does not carry: their SYNC too */
	if (b->avail < b->len && s->skip_to < rp_round_chunk(b->pos + b->len)) {
		s->skip_to = rp_round_chunk(b->pos + b->len);
		s->skip_counts = true;
	}
	return true;
}
