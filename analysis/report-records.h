/* SPDX-License-Identifier: MIT */
/*
 * The trackalloc:batch record-stream decoder (report-records.c): one
 * batch's bytes, tracepoints/EVENTS.md's "Record stream", into a queue of
 * calls with their trace times. Called by report-merge.c when a thread's
 * queue needs its next batch; not thread-safe.
 */
#ifndef TA_REPORT_RECORDS_H
#define TA_REPORT_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

struct rp_batch_counts;
struct rp_queue;

/* Every multiple of it in a record stream starts a SYNC record. */
#define RP_BATCH_CHUNK 4096u

/* A stream's decoding state, kept from one of its batches to the next. */
struct rp_rstate {
	uint64_t tsc, prev; /* ticks, the last pointer */
	uint32_t cur;       /* the group the thread was last seen in */
	uint64_t skip_to;   /* stream positions before it are not decoded */
	bool skip_counts;   /* ... and count as undecodable (not so where the
	                     * recording started in the stream's middle) */
	int64_t last_ts;    /* its last call's trace time: later ones are not earlier */
};

/* One batch's clock: record ticks to trace time (EVENTS.md, "Clock"). */
struct rp_bclock {
	int64_t ts;       /* the event's trace time */
	uint64_t tsc;     /* ticks when the writer read ns */
	uint64_t k;       /* ns per tick, 32.32 fixed point; 0: every call at ts */
	uint64_t max_age; /* ns - ns_base: no call is older than the recording */
	/* the last tick converted, and its time: calls without a time delta
	 * share their tick, so most cost no conversion */
	uint64_t memo_tick;
	int64_t memo_ts;
};

void rp_bclock_init(struct rp_bclock *c, int64_t ts, uint64_t tsc, uint64_t ns,
                    uint64_t tsc_base, uint64_t ns_base);

/* Bytes a batch buffer has past its data, so that a varint is read with one
 * 8-byte load wherever it starts. */
#define RP_PENDING_SLACK 8

/* A batch waiting to be decoded: its bytes and what its arrival decided. */
struct rp_pending {
	struct rp_pending *next;
	struct rp_bclock clock;
	uint64_t pos;       /* stream position of data[0] */
	uint64_t len;       /* the bytes the batch announced */
	uint64_t avail;     /* the bytes it carries (at most len) */
	bool reset;         /* a new stream (offset 0, standalone): fresh state */
	bool resync;        /* after lost batches, or the first batch of a stream
	                     * seen in its middle: start at a SYNC position */
	bool count_resync;  /* the bytes resync skips count as undecodable */
	uint64_t cap;       /* bytes data has room for, RP_PENDING_SLACK past them
	                     * not included */
	uint8_t data[];
};

/* The next SYNC position at or after @pos. */
static inline uint64_t rp_round_chunk(uint64_t pos)
{
	return (pos + RP_BATCH_CHUNK - 1) & ~(uint64_t)(RP_BATCH_CHUNK - 1);
}

/*
 * Decode @b with state @st into @q. A call earlier than @applied (the
 * process's merge point) is late: it gets that time. Adds calls, bytes
 * decoded, bytes that could not be and late calls to @c. false: out of
 * memory (@q holds what was decoded).
 */
bool rp_records_decode(struct rp_rstate *st, const struct rp_pending *b, struct rp_queue *q,
                       int64_t applied, struct rp_batch_counts *c);

#endif /* TA_REPORT_RECORDS_H */
