/* SPDX-License-Identifier: MIT */
/*
 * The record stream's encoding (tracepoints/EVENTS.md, "Record stream"):
 * varints, zigzag deltas, and one encoder per record kind over the
 * encoder's state. Only batch.c includes it.
 */
#ifndef TA_BATCH_ENC_H
#define TA_BATCH_ENC_H

#include <stdint.h>
#include <stddef.h>

#include "ta-internal.h"

/* Longer than any record (a REALLOC with every varint at 10 bytes is 61),
 * with a GROUP before it. */
#define TA_REC_MAX 96

enum {
	TA_REC_PAD,
	TA_REC_ALLOC,
	TA_REC_FREE,
	TA_REC_REALLOC,
	TA_REC_GROUP,
	TA_REC_SYNC = 7,
};
#define TA_REC_T 0x08
#define TA_REC_G 0x10
#define TA_REC_A 0x20
#define TA_REC_S 0x20
#define TA_REC_U 0x40
#define TA_REC_V 0x80
/* A record's time is within this many ticks of the call. */
#define TA_TICK_STEP (1ull << 16)

static TA_INLINE unsigned char *ta_put(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static inline uint64_t ta_zz(int64_t d)
{
	return ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
}

/* A pointer as a delta from @from: in 16-byte units when it can be, else in
 * bytes with @flag set in the header. */
static TA_INLINE unsigned char *ta_put_delta(unsigned char *p, unsigned *h, uint64_t to,
                                          uint64_t from, unsigned flag)
{
	uint64_t d = to - from;

	if (TA_UNLIKELY(d & 15)) {
		*h |= flag;
		return ta_put(p, ta_zz((int64_t)d));
	}
	return ta_put(p, ta_zz((int64_t)d >> 4));
}

struct ta_enc {
	uint64_t tsc, prev;
	uint64_t step; /* ticks after which a record carries its time */
	uint32_t cur;
};

static TA_INLINE unsigned char *ta_put_time(unsigned char *p, unsigned *h, struct ta_enc *e,
                                         uint64_t now)
{
	if (now - e->tsc >= e->step) {
		*h |= TA_REC_T;
		p = ta_put(p, now - e->tsc);
		e->tsc = now;
		e->step = TA_TICK_STEP;
	}
	return p;
}

static TA_INLINE unsigned char *ta_put_sync(unsigned char *p, struct ta_enc *e, uint64_t now,
                                            uint32_t cur)
{
	*p++ = TA_REC_SYNC;
	p = ta_put(p, now);
	p = ta_put(p, cur);
	e->tsc = now;
	e->prev = 0;
	e->cur = cur;
	e->step = TA_TICK_STEP;
	return p;
}

/* The alignment's log2: glibc rounds an alignment that is not a power of
 * two up to one, and so does the record. */
static inline unsigned ta_align_log2(size_t align)
{
	unsigned l = (unsigned)__builtin_ctzll(align);

	return (align & (align - 1)) ? 64 - (unsigned)__builtin_clzll(align) : l;
}

static TA_INLINE unsigned char *ta_enc_alloc(unsigned char *p, struct ta_enc *e, uint64_t now,
                                             void *ptr, size_t size, size_t align, uint32_t gid)
{
	unsigned char *hp = p++;
	unsigned h = TA_REC_ALLOC;

	p = ta_put_time(p, &h, e, now);
	p = ta_put_delta(p, &h, (uintptr_t)ptr, e->prev, TA_REC_U);
	e->prev = (uintptr_t)ptr;
	p = ta_put(p, size);
	if (gid != e->cur) {
		h |= TA_REC_G;
		p = ta_put(p, gid);
		e->cur = gid;
	}
	if (TA_UNLIKELY(align)) {
		h |= TA_REC_A;
		p = ta_put(p, ta_align_log2(align));
	}
	*hp = (unsigned char)h;
	return p;
}

static TA_INLINE unsigned char *ta_enc_free(unsigned char *p, struct ta_enc *e, uint64_t now,
                                            void *ptr, size_t size, uint32_t src, uint32_t cur)
{
	unsigned char *hp;
	unsigned h = TA_REC_FREE;

	if (TA_UNLIKELY(cur != e->cur)) {
		unsigned g = TA_REC_GROUP;

		hp = p++;
		p = ta_put_time(p, &g, e, now);
		p = ta_put(p, cur);
		*hp = (unsigned char)g;
		e->cur = cur;
	}
	hp = p++;
	p = ta_put_time(p, &h, e, now);
	p = ta_put_delta(p, &h, (uintptr_t)ptr, e->prev, TA_REC_U);
	e->prev = (uintptr_t)ptr;
	p = ta_put(p, size);
	if (src != e->cur) {
		h |= TA_REC_G;
		p = ta_put(p, src);
	}
	*hp = (unsigned char)h;
	return p;
}

static TA_INLINE unsigned char *ta_enc_realloc(unsigned char *p, struct ta_enc *e, uint64_t now,
                                               void *in, void *out, size_t old_size,
                                               size_t size, uint32_t src, uint32_t gid)
{
	unsigned char *hp = p++;
	unsigned h = TA_REC_REALLOC;

	p = ta_put_time(p, &h, e, now);
	p = ta_put_delta(p, &h, (uintptr_t)in, e->prev, TA_REC_U);
	p = ta_put_delta(p, &h, (uintptr_t)out, (uintptr_t)in, TA_REC_V);
	e->prev = (uintptr_t)out;
	p = ta_put(p, old_size);
	p = ta_put(p, size);
	if (src != e->cur) {
		h |= TA_REC_S;
		p = ta_put(p, src);
	}
	if (gid != e->cur) {
		h |= TA_REC_G;
		p = ta_put(p, gid);
		e->cur = gid;
	}
	*hp = (unsigned char)h;
	return p;
}

#endif /* TA_BATCH_ENC_H */
