/* SPDX-License-Identifier: MIT */
/*
 * The thread's cache of freed blocks (cache.h): a broken list, and giving
 * the cache back.
 */
#include "cache.h"

/* A use after free overwrote a link: the rest of the list cannot be
 * trusted, so it is left alone (leaked) and counted. */
void *__attribute__((cold)) ta_cache_broken(struct ta_tls *t, size_t c)
{
	t->cache[c] = NULL;
	t->cache_count[c] = 0;
	TA_DIAG_INC(ta_diag_corrupt);
	return NULL;
}

void ta_cache_flush(struct ta_tls *t)
{
	size_t c;

	for (c = 0; c < TA_CACHE_CLASSES; c++) {
		void *p;

		while ((p = ta_cache_take(t, c)) != NULL)
			ta_inner.free(p);
	}
}

/* Every list looks full to free, and stays empty for malloc: nothing on
 * the fast path tests for this. */
void ta_cache_off(struct ta_tls *t)
{
	size_t c;

	ta_cache_flush(t);
	for (c = 0; c < TA_CACHE_CLASSES; c++)
		t->cache_count[c] = TA_CACHE_DEPTH;
}
