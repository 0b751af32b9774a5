/* SPDX-License-Identifier: MIT */
/*
 * The block trailer: the last 8 bytes of the inner allocator's usable size.
 * It stores, enciphered, the word
 *
 *   bits  0..15  group id
 *   bits 16..43  requested size (TA_SIZE_EXT: an ext block)
 *   bits 44..63  zero: the check bits
 *
 * as  tr = (word ^ address * ta_secret ^ mark) * TA_HASH_MUL  (mod 2^64).
 * Both multipliers are odd, so decoding is one multiply by the inverse, one
 * by the secret and a XOR; the trailer verifies when the decoded word's top
 * 20 bits are zero. Any change of the stored word, of the address (a
 * pointer the wrapper did not produce, a trailer left at another block's
 * end) or of the mark moves those bits: such a trailer verifies with
 * probability 2^-20. Free reads the size and the group straight out of the
 * decoded word, with no subtraction and no mask.
 *
 * Marks: 0 for a plain live block; ta_mark_sampled for a sampled block
 * (sampling.c), so free's fast path sends it to the slow path with no extra
 * test; a block whose size does not fit in 28 bits is an ext block: its
 * size is the word before the trailer, mixed into its mark (ta_mark_ext_of).
 * The marks' top 20 bits are non-zero and pairwise distinct,
 * so a block stamped with one mark never verifies under another. A freed
 * block's stored trailer has bit 60 flipped (TA_FREED_FLIP): its decoded
 * word then differs in the top four bits, so a second free is recognised,
 * deterministically. Inline for the fast path of wrapper.c; the rare cases
 * are in trailer.c.
 */
#ifndef TA_TRAILER_H
#define TA_TRAILER_H

#include <string.h>

#include "ta-internal.h"

#pragma GCC visibility push(hidden)

#define TA_TRAILER 8u
#define TA_GID_MASK 0xffffu
#define TA_SIZE_SHIFT 16
#define TA_SIZE_BITS 28
/* The size field's value of an ext block; sizes below it are plain. */
#define TA_SIZE_EXT ((1u << TA_SIZE_BITS) - 1)
#define TA_CHECK_SHIFT (TA_SIZE_SHIFT + TA_SIZE_BITS)
#define TA_FIELDS_MASK (~(~0ull << TA_CHECK_SHIFT))
/* A 64-bit odd constant and its inverse mod 2^64: the product spreads a
 * change of any stored bit, the lowest included, into the check bits. */
#define TA_HASH_MUL 0x9e3779b97f4a7c15ull
#define TA_HASH_INV 0xf1de83e19937733dull
_Static_assert(TA_HASH_MUL * TA_HASH_INV == 1, "TA_HASH_INV is the inverse of TA_HASH_MUL");
/* What free XORs into a stored trailer: one bit of its top byte. */
#define TA_FREED_FLIP (1ull << 60)
#define TA_MARK_PLAIN 0ull

/* Set before the first block (inner.c): the address multiplier (odd), the
 * marks of sampled and ext blocks (top 20 bits non-zero, distinct). */
extern uint64_t ta_secret, ta_mark_sampled, ta_mark_ext;

static TA_INLINE uint64_t ta_trailer_pack(uint32_t gid, size_t size)
{
	return gid | ((uint64_t)size << TA_SIZE_SHIFT);
}

static TA_INLINE uint32_t ta_trailer_gid(uint64_t word)
{
	return (uint32_t)(word & TA_GID_MASK);
}

/* The requested size of a verified word (TA_SIZE_EXT: an ext block). */
static TA_INLINE size_t ta_trailer_size(uint64_t word)
{
	return (size_t)((word >> TA_SIZE_SHIFT) & TA_SIZE_EXT);
}

/* The mark of an ext block of @ext requested bytes under @mark: the size,
 * spread by a multiply, changes the decoded word's fields (a corrupt size
 * word makes the size field differ from TA_SIZE_EXT), never its check bits,
 * which stay ta_mark_ext's. */
static TA_INLINE uint64_t ta_mark_ext_of(uint64_t mark, uint64_t ext)
{
	return mark ^ ta_mark_ext ^ ((ext * TA_HASH_MUL) >> (64 - TA_CHECK_SHIFT));
}

/* The stored form of @word for a block at @p under @mark. */
static TA_INLINE uint64_t ta_trailer_make(const void *p, uint64_t word, uint64_t mark)
{
	return (word ^ (uintptr_t)p * ta_secret ^ mark) * TA_HASH_MUL;
}

/* The word a stored trailer @tr decodes to for a block at @p under @mark;
 * it verifies when ta_trailer_word_ok. */
static TA_INLINE uint64_t ta_trailer_decode(const void *p, uint64_t tr, uint64_t mark)
{
	return tr * TA_HASH_INV ^ (uintptr_t)p * ta_secret ^ mark;
}

static TA_INLINE bool ta_trailer_word_ok(uint64_t word)
{
	return !(word >> TA_CHECK_SHIFT);
}

/* A trailer with its block's freed mark set, or cleared again. */
static TA_INLINE uint64_t ta_trailer_flip(uint64_t tr)
{
	return tr ^ TA_FREED_FLIP;
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
 * requested bytes for group @gid, with the mark @mark (TA_MARK_PLAIN, or
 * ta_mark_sampled for a sampled block). */
static TA_INLINE void ta_stamp_marked(void *p, size_t usable, size_t n, uint32_t gid,
                                      uint64_t mark)
{
	if (TA_LIKELY(n < TA_SIZE_EXT)) {
		ta_trailer_store(p, usable, ta_trailer_make(p, ta_trailer_pack(gid, n), mark));
	} else {
		uint64_t ext = n;

		memcpy((char *)p + usable - 2 * TA_TRAILER, &ext, sizeof(ext));
		ta_trailer_store(p, usable, ta_trailer_make(p, ta_trailer_pack(gid, TA_SIZE_EXT),
		                                            ta_mark_ext_of(mark, ext)));
	}
}

static TA_INLINE void ta_stamp_usable(void *p, size_t usable, size_t n, uint32_t gid)
{
	ta_stamp_marked(p, usable, n, gid, TA_MARK_PLAIN);
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
	uint64_t fields; /* the decoded word */
	uint64_t ext;    /* requested size mixed into the mark of an ext block */
	uint32_t gid;
	bool sampled;    /* stamped with ta_mark_sampled */
};

enum ta_verdict { TA_OWN, TA_FOREIGN, TA_FREED };

enum ta_verdict ta_inspect_slow(void *p, struct ta_block *b, uint64_t tr);

/*
 * Read and verify a block's trailer. The check bits cover the address, the
 * group and the size, so a verified trailer needs no further lookup.
 */
static TA_INLINE enum ta_verdict ta_inspect(void *p, struct ta_block *b)
{
	uint64_t tr, word;
	size_t size;

	b->usable = ta_inner_usable(p);
	if (TA_UNLIKELY(b->usable < TA_TRAILER))
		return ta_inspect_slow(p, b, 0);
	tr = ta_trailer_load(p, b->usable);
	word = ta_trailer_decode(p, tr, TA_MARK_PLAIN);
	size = ta_trailer_size(word);
	/* a size of TA_SIZE_EXT is an ext block's; > usable is impossible */
	if (TA_UNLIKELY(!ta_trailer_word_ok(word) || size >= TA_SIZE_EXT ||
	                size > b->usable - TA_TRAILER))
		return ta_inspect_slow(p, b, tr); /* re-verified there */
	b->fields = word;
	b->ext = 0;
	b->gid = ta_trailer_gid(word);
	b->sampled = false;
	b->size = size;
	return TA_OWN;
}

/* Flip a block's freed bit: marks it freed, or (again) live when an inner
 * realloc failed and the block is still the caller's. */
static TA_INLINE void ta_flip_freed(void *p, const struct ta_block *b)
{
	ta_trailer_store(p, b->usable, ta_trailer_flip(ta_trailer_load(p, b->usable)));
}

/* Whether a verified block is an ext block (its size before the trailer). */
static TA_INLINE bool ta_block_is_ext(const struct ta_block *b)
{
	return ta_trailer_size(b->fields) == TA_SIZE_EXT;
}

/* What the caller may use of a verified block. */
static TA_INLINE size_t ta_block_usable(const struct ta_block *b)
{
	return b->usable - (ta_block_is_ext(b) ? 2 : 1) * TA_TRAILER;
}

#pragma GCC visibility pop

#endif /* TA_TRAILER_H */
