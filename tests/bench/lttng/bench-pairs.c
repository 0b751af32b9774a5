/* SPDX-License-Identifier: MIT */
/*
 * bench-pairs: malloc/free pairs of mixed sizes, timed. The workload of the
 * core benchmark: sizes 16..512 bytes, uniform, from a fixed pseudo-random
 * sequence; a ring of 64 live blocks, each pair frees the block of a
 * pseudo-randomly chosen slot and allocates the next size into it, then
 * writes its first byte.
 *
 * Not linked with trackalloc: the benchmark preloads libtrackalloc.so, or
 * LTTng's libc wrapper, or nothing. When trackalloc is there (found with
 * dlsym), the loop runs inside a registered group, as a program would.
 *
 *   bench-pairs PAIRS REPS
 *
 * After a warm-up of PAIRS / 10 pairs, runs REPS timed loops of PAIRS pairs
 * and prints the fastest, per pair, as thread CPU time (what the pairs cost
 * the program, whatever else the machine runs) and as wall time:
 *   "cpu_ns_per_pair X wall_ns_per_pair Y pid PID group GID|none"
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <trackalloc.h> /* types only: the symbols come from dlsym */

#define SEQ 8192 /* power of two */
#define LIVE 64  /* power of two */

static size_t sizes[SEQ];
static unsigned slots[SEQ];
static void *ring[LIVE];

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void loop(unsigned long pairs)
{
	for (unsigned long i = 0; i < pairs; i++) {
		unsigned k = slots[i & (SEQ - 1)];
		char *p;

		free(ring[k]);
		p = malloc(sizes[i & (SEQ - 1)]);
		/* use the block, and keep the compiler from eliding the pair */
		__asm__ volatile("" : : "r"(p) : "memory");
		*(volatile char *)p = (char)i;
		ring[k] = p;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	unsigned long pairs = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned reps = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 5;
	ta_group *(*reg)(const char *, const struct ta_tag *, size_t);
	ta_guard (*enter)(ta_group *);
	uint32_t (*gid)(const ta_group *);
	double cpu[64], wall[64];
	uint32_t seed = 2463534242u;
	ta_group *g = NULL;

	if (!pairs || !reps || reps > 64) {
		fprintf(stderr, "usage: bench-pairs PAIRS REPS (REPS <= 64)\n");
		return 2;
	}
	for (int i = 0; i < SEQ; i++) { /* xorshift */
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		sizes[i] = 16 + seed % 497;
		slots[i] = (seed >> 16) & (LIVE - 1);
	}
	*(void **)&reg = dlsym(RTLD_DEFAULT, "ta_group_register");
	*(void **)&enter = dlsym(RTLD_DEFAULT, "ta_group_enter");
	*(void **)&gid = dlsym(RTLD_DEFAULT, "ta_group_id");
	if (reg && enter && gid) {
		static const struct ta_tag tags[] = { { "bench", "pairs" } };

		g = reg("bench", tags, 1);
		if (g)
			(void)enter(g); /* for the rest of the process */
	}
	loop(pairs / 10 + 1);
	for (unsigned r = 0; r < reps; r++) {
		uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), w0 = clock_ns(CLOCK_MONOTONIC);

		loop(pairs);
		wall[r] = (double)(clock_ns(CLOCK_MONOTONIC) - w0) / (double)pairs;
		cpu[r] = (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)pairs;
	}
	for (int k = 0; k < LIVE; k++)
		free(ring[k]);
	qsort(cpu, reps, sizeof(cpu[0]), cmp_double);
	qsort(wall, reps, sizeof(wall[0]), cmp_double);
	printf("cpu_ns_per_pair %.2f wall_ns_per_pair %.2f pid %d group ", cpu[0], wall[0],
	       (int)getpid());
	if (g)
		printf("%u\n", gid(g));
	else
		printf("none\n");
	return 0;
}
