/* SPDX-License-Identifier: MIT */
/*
 * The block trailer: the last 8 bytes of the inner allocator's usable size.
 *
 *   bits  0..15  group id
 *   bits 16..43  slack = usable - 8 - requested (TA_SLACK_MAX: an ext block)
 *   bits 44..63  check bits: the top of (address ^ fields ^ secret) * K
 *
 * A freed block's check bits are flipped with ta_freed_flip, so a second free
 * is recognised. A sampled block (sampling.c) is stamped with another
 * secret, ta_secret_sampled: its trailer does not verify against the plain
 * one, so free's fast path sends it to the slow path with no extra test, and
 * ta_inspect_slow recognises the mark. A block whose slack does not fit (only huge blocks from an
 * inner allocator with coarse size classes) is an ext block: it keeps its
 * requested size in the word before the trailer and mixes it into the check.
 * Inline for the fast path of wrapper.c; the rare cases are in trailer.c.
 */
#ifndef TA_TRAILER_H
#define TA_TRAILER_H

#include <string.h>

#include "ta-internal.h"

#pragma GCC visibility push(hidden)

#define TA_TRAILER 8u
#define TA_GID_MASK 0xffffu
#define TA_SLACK_SHIFT 16
#define TA_SLACK_BITS 28
#define TA_SLACK_MAX ((1u << TA_SLACK_BITS) - 1)
#define TA_CHECK_SHIFT (TA_SLACK_SHIFT + TA_SLACK_BITS)
#define TA_CHECK_MASK (~0ull << TA_CHECK_SHIFT)
/* A 64-bit odd constant: a flip of any input bit, the lowest included, moves
 * the top bits of the product (a 32-bit one would leave them unchanged for
 * flips in the low bits, such as the group id's). */
#define TA_HASH_MUL 0x9e3779b97f4a7c15ull

/* Check-bit secrets of live and freed trailers, set before the first block
 * (inner.c). ta_freed_flip is XORed into a trailer's check bits when its
 * block is freed: the freed secret, masked to the check bits once at start. */
extern uint64_t ta_secret, ta_secret_freed, ta_freed_flip, ta_secret_sampled;

static TA_INLINE uint64_t ta_trailer_pack(uint32_t gid, size_t slack)
{
	return gid | ((uint64_t)slack << TA_SLACK_SHIFT);
}

/* The fields of a trailer: everything but the check bits. */
static TA_INLINE uint64_t ta_trailer_fields(uint64_t tr)
{
	return tr & ~TA_CHECK_MASK;
}

static TA_INLINE uint32_t ta_trailer_gid(uint64_t tr)
{
	return (uint32_t)(tr & TA_GID_MASK);
}

/* usable - TA_TRAILER - requested; TA_SLACK_MAX marks an ext block */
static TA_INLINE size_t ta_trailer_slack(uint64_t tr)
{
	return (size_t)((tr >> TA_SLACK_SHIFT) & TA_SLACK_MAX);
}

static TA_INLINE uint64_t ta_trailer_make(const void *p, uint64_t fields, uint64_t mark)
{
	uint64_t h = ((uintptr_t)p ^ fields ^ mark) * TA_HASH_MUL;

	return fields | ((h >> TA_CHECK_SHIFT) << TA_CHECK_SHIFT);
}

/* Whether the check bits of @tr verify for a block at @p under @mark. The
 * check bits are the top bits of the hash: only those are compared. */
static TA_INLINE bool ta_trailer_verifies(const void *p, uint64_t tr, uint64_t mark)
{
	uint64_t h = ((uintptr_t)p ^ ta_trailer_fields(tr) ^ mark) * TA_HASH_MUL;

	return !((h ^ tr) >> TA_CHECK_SHIFT);
}

/* A trailer with its block's freed mark set, or cleared again. */
static TA_INLINE uint64_t ta_trailer_flip(uint64_t tr)
{
	return tr ^ ta_freed_flip;
}

static TA_INLINE uint64_t ta_trailer_load(const void *p, size_t usable)
{
	uint64_t tr;

	memcpy(&tr, (const char *)p + usable - TA_TRAILER, sizeof(tr));
	return tr;
}

static TA_INLINE void ta_trailer_store(void *p, size_t usable, uint64_t tr)
{
	memcpy((char *)p + usable - TA_TRAILER, &tr, sizeof(tr));
}

/* Write the trailer of a fresh inner block of usable size @usable holding @n
 * requested bytes for group @gid, with the mark @secret (ta_secret, or
 * ta_secret_sampled for a sampled block). */
static TA_INLINE void ta_stamp_marked(void *p, size_t usable, size_t n, uint32_t gid,
                                      uint64_t secret)
{
	size_t slack = usable - TA_TRAILER - n;

	if (TA_LIKELY(slack < TA_SLACK_MAX)) {
		ta_trailer_store(p, usable, ta_trailer_make(p, ta_trailer_pack(gid, slack), secret));
	} else {
		uint64_t ext = n;

		memcpy((char *)p + usable - 2 * TA_TRAILER, &ext, sizeof(ext));
		ta_trailer_store(p, usable,
		                 ta_trailer_make(p, ta_trailer_pack(gid, TA_SLACK_MAX), secret ^ ext));
	}
}

static TA_INLINE void ta_stamp_usable(void *p, size_t usable, size_t n, uint32_t gid)
{
	ta_stamp_marked(p, usable, n, gid, ta_secret);
}

/* The same, asking the inner allocator for the usable size; returns it. */
static TA_INLINE size_t ta_stamp(void *p, size_t n, uint32_t gid)
{
	size_t usable = ta_inner_usable(p);

	ta_stamp_usable(p, usable, n, gid);
	return usable;
}

/* What a verified trailer says about a block. */
struct ta_block {
	size_t usable, size;
	uint64_t fields; /* the trailer without its check bits */
	uint64_t ext;    /* requested size mixed into the check of an ext block */
	uint32_t gid;
	bool sampled;    /* stamped with ta_secret_sampled */
};

enum ta_verdict { TA_OWN, TA_FOREIGN, TA_FREED };

enum ta_verdict ta_inspect_slow(void *p, struct ta_block *b, uint64_t tr);

/*
 * Read and verify a block's trailer. The check bits cover the address, the
 * group and the slack, so a verified trailer needs no further lookup.
 */
static TA_INLINE enum ta_verdict ta_inspect(void *p, struct ta_block *b)
{
	uint64_t tr, fields;
	size_t slack;

	b->usable = ta_inner_usable(p);
	if (TA_UNLIKELY(b->usable < TA_TRAILER))
		return ta_inspect_slow(p, b, 0);
	tr = ta_trailer_load(p, b->usable);
	fields = ta_trailer_fields(tr);
	if (TA_UNLIKELY(tr != ta_trailer_make(p, fields, ta_secret)))
		return ta_inspect_slow(p, b, tr);
	b->fields = fields;
	b->ext = 0;
	b->gid = ta_trailer_gid(tr);
	b->sampled = false;
	slack = ta_trailer_slack(tr);
	b->size = b->usable - TA_TRAILER - slack;
	/* a slack of TA_SLACK_MAX marks an ext block; > usable is impossible */
	if (TA_UNLIKELY(slack >= TA_SLACK_MAX || slack > b->usable - TA_TRAILER))
		return ta_inspect_slow(p, b, tr); /* re-verified there */
	return TA_OWN;
}

/* Flip a block's check bits: marks it freed, or (again) live when an inner
 * realloc failed and the block is still the caller's. */
static TA_INLINE void ta_flip_freed(void *p, const struct ta_block *b)
{
	ta_trailer_store(p, b->usable, ta_trailer_flip(ta_trailer_load(p, b->usable)));
}

/* Whether a verified block is an ext block (its size before the trailer). */
static TA_INLINE bool ta_block_is_ext(const struct ta_block *b)
{
	return ta_trailer_slack(b->fields) == TA_SLACK_MAX;
}

/* What the caller may use of a verified block. */
static TA_INLINE size_t ta_block_usable(const struct ta_block *b)
{
	return b->usable - (ta_block_is_ext(b) ? 2 : 1) * TA_TRAILER;
}

#pragma GCC visibility pop

#endif /* TA_TRAILER_H */
