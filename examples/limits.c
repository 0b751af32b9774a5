/* SPDX-License-Identifier: MIT */
/*
 * trackalloc-limits: a cache that trims itself when its group passes a soft
 * limit, and requests whose group has a hard limit, so that one oversized
 * request fails instead of the process. The README quotes its output.
 *
 *   trackalloc-limits [REQUESTS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trackalloc.h>

#define ENTRY_SIZE 4096
#define CACHE_MAX 4096

static void *cache[CACHE_MAX];
static size_t cache_len;
static unsigned trims;

/* The soft limit's callback: drop the older half of the cache. It runs on
 * the allocating thread once the allocation is done, outside the
 * allocator, so it may free (and allocate) freely. */
static void cache_trim(ta_group *g, uint64_t live, void *ctx)
{
	size_t half = cache_len / 2, i;

	(void)g, (void)ctx;
	for (i = 0; i < half; i++)
		free(cache[i]);
	memmove(cache, cache + half, (cache_len - half) * sizeof(cache[0]));
	cache_len -= half;
	trims++;
	printf("  cache over its soft limit at %llu bytes: trimmed to %zu entries\n",
	       (unsigned long long)live, cache_len);
}

static void cache_put(ta_group *g, unsigned key)
{
	ta_guard guard = ta_group_enter(g);
	char *e = malloc(ENTRY_SIZE);

	if (e && cache_len < CACHE_MAX) {
		snprintf(e, ENTRY_SIZE, "entry %u", key);
		cache[cache_len++] = e;
	} else {
		free(e);
	}
	ta_guard_exit(&guard);
}

/* A request needs @bytes of scratch memory in its own group. */
static int handle_request(ta_group *g, unsigned id, size_t bytes)
{
	ta_guard guard = ta_group_enter(g);
	char *scratch = malloc(bytes);
	int ok = scratch != NULL;

	if (ok)
		memset(scratch, (int)id, bytes);
	else
		printf("  request %u: %zu bytes refused (%s): answered 503, the process goes on\n",
		       id, bytes, strerror(errno));
	free(scratch);
	ta_guard_exit(&guard);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned requests = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000, i, served = 0;
	ta_group *cache_g = ta_group_register("cache", NULL, 0);
	ta_group *req_g = ta_group_register("request", NULL, 0);
	uint64_t peak = 0;

	if (!cache_g || !req_g)
		return 1;
	/* the cache: trim at 4 MiB, never more than 8 MiB */
	if (ta_group_limit_set(cache_g, 4 << 20, 8 << 20, cache_trim, NULL) != 0 ||
	    /* requests: at most 16 MiB of scratch memory */
	    ta_group_limit_set(req_g, 0, 16 << 20, NULL, NULL) != 0)
		return 1;
	for (i = 0; i < requests; i++) {
		cache_put(cache_g, i);
		/* every 250th request asks for 64 MiB */
		served += handle_request(req_g, i, i % 250 == 249 ? 64u << 20 : 64u << 10);
	}
	ta_group_peak(cache_g, &peak);
	printf("%u of %u requests served; cache: %zu entries, %u trims, peak %llu bytes\n", served,
	       requests, cache_len, trims, (unsigned long long)peak);
	while (cache_len)
		free(cache[--cache_len]);
	return 0;
}
