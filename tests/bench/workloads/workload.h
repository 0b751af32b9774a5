/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the workload programs: a seeded generator (so every run
 * makes the same calls), a checksum that a wrong run changes, the quick
 * mode switch and the one line of output the benchmark compares.
 */
#ifndef TA_WORKLOAD_H
#define TA_WORKLOAD_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: tiny, good enough, and identical on every libc */
static inline uint64_t wl_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [lo, hi] */
static inline uint64_t wl_range(uint64_t *state, uint64_t lo, uint64_t hi)
{
	return lo + wl_next(state) % (hi - lo + 1);
}

/* FNV-1a folded over 64-bit words: order-sensitive, so a lost or reordered
 * result shows */
static inline uint64_t wl_mix(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define WL_HASH_INIT 0xcbf29ce484222325ULL

/* "quick" as the only argument: smaller inputs, for smoke tests */
static inline int wl_quick(int argc, char **argv)
{
	return argc > 1 && strcmp(argv[1], "quick") == 0;
}

/* malloc that ends the run on failure: a workload that silently skipped
 * work would compare equal for the wrong reason */
static inline void *wl_xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

static inline void *wl_xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n);

	if (!p) {
		fprintf(stderr, "out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

/* the line the benchmark compares between contenders */
static inline void wl_report(const char *name, uint64_t checksum, const char *detail)
{
	printf("checksum %s %016" PRIx64 " %s\n", name, checksum, detail);
}

#endif
