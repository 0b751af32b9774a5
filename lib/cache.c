/* SPDX-License-Identifier: MIT */
/*
 * The thread's cache of freed blocks (cache.h): giving it back.
 */
#include "cache.h"

void ta_cache_flush(struct ta_tls *t)
{
	size_t c;

	for (c = 0; c < TA_CACHE_CLASSES; c++) {
		void *p = t->cache[c];

		t->cache[c] = NULL;
		t->cache_count[c] = 0;
		while (p) {
			void *next = *(void **)p;

			ta_inner.free(p);
			p = next;
		}
	}
}
