/* SPDX-License-Identifier: MIT */
/*
 * The rare cases of trailer inspection (see trailer.h): trailers that do not
 * verify, freed blocks, ext blocks, impossible fields.
 */
#define _GNU_SOURCE
#include "trailer.h"

uint64_t ta_secret, ta_mark_sampled, ta_mark_ext;

/*
 * A double free outside glibc's tcache. Once glibc bins a freed chunk
 * anywhere but the tcache or a fastbin, it writes the chunk size over the
 * block's last word (the next chunk's prev_size), which is where the trailer
 * and its freed mark were, and clears PREV_INUSE in the next chunk's header.
 * That pair is glibc's own mark of a free chunk: recognise it, so the second
 * free is ignored instead of reaching glibc's abort.
 */
static bool ta_glibc_chunk_is_free(const void *p, uint64_t tr)
{
	size_t head = ta_chunk_head(p);
	size_t csize = ta_chunk_size(head);

	if (!ta_glibc_layout || (head & TA_CHUNK_IS_MMAPPED) || csize < 32 || tr != csize)
		return false;
	/* the next chunk's header: this chunk starts 16 bytes before p */
	return !(ta_chunk_head((const char *)p + csize) & TA_CHUNK_PREV_INUSE);
}

static size_t ta_ext_size(const void *p, size_t usable)
{
	uint64_t n;

	memcpy(&n, (const char *)p + usable - 2 * TA_TRAILER, sizeof(n));
	return n;
}

/* Decode stored trailer @tr of a block under @mark, as an ext block when
 * @ext (its size word being b->ext): TA_OWN when it verifies (b filled),
 * TA_FREED when it verifies with the freed bit flipped, else TA_FOREIGN. A
 * verified trailer whose size does not fit in the block is corrupt. */
static enum ta_verdict ta_inspect_marked(void *p, struct ta_block *b, uint64_t tr, uint64_t mark,
                                         bool ext)
{
	enum ta_verdict v = TA_OWN;
	uint64_t word = ta_trailer_decode(p, tr, ext ? ta_mark_ext_of(mark, b->ext) : mark);
	size_t size, room;

	if (!ta_trailer_word_ok(word)) {
		v = TA_FREED;
		word = ta_trailer_decode(p, ta_trailer_flip(tr),
		                         ext ? ta_mark_ext_of(mark, b->ext) : mark);
		if (!ta_trailer_word_ok(word))
			return TA_FOREIGN;
	}
	size = ta_trailer_size(word);
	if ((size == TA_SIZE_EXT) != ext)
		return TA_FOREIGN; /* verified by chance under the other form */
	room = b->usable - (ext ? 2 : 1) * TA_TRAILER;
	if (ext)
		size = (size_t)b->ext;
	if (size > room) {
		/* verified, but the size does not fit in the block */
		TA_DIAG_INC(ta_diag_corrupt);
		return TA_FOREIGN;
	}
	b->fields = word;
	b->gid = ta_trailer_gid(word);
	b->size = size;
	return v;
}

enum ta_verdict __attribute__((cold)) ta_inspect_slow(void *p, struct ta_block *b, uint64_t tr)
{
	enum ta_verdict v = TA_FOREIGN;
	int m, e;

	b->fields = 0;
	b->gid = 0;
	b->ext = 0;
	b->sampled = false;
	if (b->usable < TA_TRAILER)
		return TA_FOREIGN;
	if (ta_glibc_chunk_is_free(p, tr))
		return TA_FREED;
	/* plain and ext forms, each with the plain mark, then the sampled one */
	for (e = 0; e < 2 && v == TA_FOREIGN; e++) {
		if (e) {
			if (b->usable < 2 * TA_TRAILER)
				break;
			b->ext = ta_ext_size(p, b->usable);
		}
		for (m = 0; m < 2 && v == TA_FOREIGN; m++) {
			v = ta_inspect_marked(p, b, tr, m ? ta_mark_sampled : TA_MARK_PLAIN, e);
			b->sampled = m == 1;
		}
	}
	if (v == TA_FOREIGN) {
		b->sampled = false;
		b->ext = 0;
	}
	return v;
}
