/* SPDX-License-Identifier: MIT */
/*
 * The rare cases of trailer inspection (see trailer.h): trailers that do not
 * verify, freed blocks, ext blocks, impossible fields.
 */
#define _GNU_SOURCE
#include "trailer.h"

uint64_t ta_secret, ta_secret_freed, ta_freed_flip, ta_secret_sampled;

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

/* The verdict on trailer @tr of a block marked with @secret (a plain slack). */
static enum ta_verdict ta_inspect_plain(void *p, struct ta_block *b, uint64_t tr,
                                        uint64_t secret)
{
	uint64_t fields = ta_trailer_fields(tr);

	if (tr == ta_trailer_flip(ta_trailer_make(p, fields, secret)))
		return TA_FREED;
	if (tr != ta_trailer_make(p, fields, secret))
		return TA_FOREIGN;
	if (ta_trailer_slack(tr) > b->usable - TA_TRAILER) {
		/* verified, but the slack does not fit in the block */
		TA_DIAG_INC(ta_diag_corrupt);
		return TA_FOREIGN;
	}
	b->size = b->usable - TA_TRAILER - ta_trailer_slack(tr);
	return TA_OWN;
}

/* The same for an ext block: its size, before the trailer, is in the check. */
static enum ta_verdict ta_inspect_ext(void *p, struct ta_block *b, uint64_t tr, uint64_t secret)
{
	uint64_t fields = ta_trailer_fields(tr);

	if (tr == ta_trailer_flip(ta_trailer_make(p, fields, secret ^ b->ext)))
		return TA_FREED;
	if (tr != ta_trailer_make(p, fields, secret ^ b->ext))
		return TA_FOREIGN;
	if (b->ext > b->usable - 2 * TA_TRAILER) {
		TA_DIAG_INC(ta_diag_corrupt);
		return TA_FOREIGN;
	}
	b->size = (size_t)b->ext;
	return TA_OWN;
}

enum ta_verdict __attribute__((cold)) ta_inspect_slow(void *p, struct ta_block *b, uint64_t tr)
{
	bool ext = ta_trailer_slack(tr) == TA_SLACK_MAX;
	enum ta_verdict v = TA_FOREIGN;
	int m;

	b->fields = ta_trailer_fields(tr);
	b->gid = ta_trailer_gid(tr);
	b->ext = 0;
	b->sampled = false;
	if (b->usable < TA_TRAILER)
		return TA_FOREIGN;
	if (ta_glibc_chunk_is_free(p, tr))
		return TA_FREED;
	if (ext) {
		if (b->usable < 2 * TA_TRAILER)
			return TA_FOREIGN;
		b->ext = ta_ext_size(p, b->usable);
	}
	/* the plain mark, then the sampled one */
	for (m = 0; m < 2 && v == TA_FOREIGN; m++) {
		uint64_t secret = m ? ta_secret_sampled : ta_secret;

		v = ext ? ta_inspect_ext(p, b, tr, secret) : ta_inspect_plain(p, b, tr, secret);
		b->sampled = m == 1;
	}
	if (v == TA_FOREIGN)
		b->sampled = false;
	return v;
}
