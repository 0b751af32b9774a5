/* SPDX-License-Identifier: MIT */
/*
 * The thread's cache of freed blocks, one step in front of the inner
 * allocator, like glibc's tcache in front of its arenas. free's fast path
 * keeps a verified, counted glibc chunk of one of TA_CACHE_CLASSES sizes in
 * a per-thread list instead of calling the inner free (at most
 * TA_CACHE_DEPTH of each size); malloc's takes one of the size glibc would
 * give before it calls the inner malloc. To glibc the block stays
 * allocated (its header and its neighbour's are untouched), so it can be
 * handed out again as it is; its trailer keeps the freed mark until then,
 * so a second free of a cached block is a counted double free, and its
 * first word links the list, as glibc's tcache links its own: the next
 * block's address XORed with the link's address >> 12, so that a write
 * into a freed block (a use after free) leaves a link that fails the
 * alignment check with probability 15/16; that list is then dropped (its
 * blocks leaked) and counted in corrupt_trailers, where glibc would abort.
 * The counters see the free when it happens;
 * what the cache holds is in no group's wrapped_bytes_live. Used only with
 * glibc's layout (free fills it only on its fast path, which needs it);
 * the thread's exit gives every block back (cache.c). Only wrapper.c and
 * cache.c include this header. No lock, no atomic: the lists are the
 * thread's own.
 */
#ifndef TA_CACHE_H
#define TA_CACHE_H

#include "ta-internal.h"
#include "trailer.h"

#pragma GCC visibility push(hidden)

/* glibc's chunk sizes are multiples of 16: one class per size */
#define TA_CACHE_STEP 16

/* The class of a request of @n bytes: its chunk, glibc's request2size of
 * n + TA_TRAILER, is (n + 31) & ~15 (32 for n = 0, whose class 1 no chunk
 * has: a miss). Any chunk of that class holds n bytes and the trailer. */
static TA_INLINE size_t ta_cache_class(size_t n)
{
	return (n + TA_TRAILER + 8 + TA_CACHE_STEP - 1) / TA_CACHE_STEP;
}

/* The link stored at @at for the next block @next, and back. */
static TA_INLINE void *ta_cache_link(const void *at, const void *next)
{
	return (void *)((uintptr_t)next ^ ((uintptr_t)at >> 12));
}

/* The list of class @c had a link that is no block's address (cache.c). */
void *ta_cache_broken(struct ta_tls *t, size_t c);

/* A block of class @c (< TA_CACHE_CLASSES) off this thread's list, or NULL. */
static TA_INLINE void *ta_cache_take(struct ta_tls *t, size_t c)
{
	void *p = t->cache[c];

	if (TA_LIKELY(p)) {
		void *next = ta_cache_link(p, *(void **)p);

		if (TA_UNLIKELY((uintptr_t)next & (TA_CACHE_STEP - 1)))
			return ta_cache_broken(t, c);
		t->cache[c] = next;
		t->cache_count[c]--;
	}
	return p;
}

/* Keep freed block @p of class @c (< TA_CACHE_CLASSES): false when its
 * list is full and the inner free must have it. */
static TA_INLINE bool ta_cache_keep(struct ta_tls *t, size_t c, void *p)
{
	if (TA_UNLIKELY(t->cache_count[c] >= TA_CACHE_DEPTH))
		return false;
	*(void **)p = ta_cache_link(p, t->cache[c]);
	t->cache[c] = p;
	t->cache_count[c]++;
	return true;
}

#pragma GCC visibility pop

#endif /* TA_CACHE_H */
