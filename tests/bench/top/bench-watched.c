/* SPDX-License-Identifier: MIT */
/*
 * bench-watched: the malloc-pairs loop of bench-pairs (tests/bench/lttng),
 * run when told, for the cost of being watched by `trackalloc top`. Not
 * linked with trackalloc: it runs preloaded and registers its group with
 * dlsym, as a preloaded program that uses the API would.
 *
 *   bench-watched PAIRS REPS CTLDIR
 *
 * Prints "PID <pid>", waits for CTLDIR/go, runs a warm-up of PAIRS / 10
 * pairs and REPS timed loops of PAIRS pairs, and prints the fastest and
 * the median, per pair, as thread CPU time and as wall time, and the
 * median of the whole process's CPU time (its other threads included: the
 * library's sampler, LTTng-UST's):
 *   "cpu_ns_per_pair X median Y wall_ns_per_pair Z median W process_ns_per_pair P"
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <trackalloc.h> /* types only */

#define SEQ 8192
#define LIVE 64

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
	unsigned long pairs = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	unsigned reps = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 5;
	const char *ctl = argc > 3 ? argv[3] : ".";
	ta_group *(*reg)(const char *, const struct ta_tag *, size_t);
	ta_guard (*enter)(ta_group *);
	double cpu[64], wall[64], proc[64];
	uint32_t seed = 2463534242u;
	char go[4096];

	if (!pairs || !reps || reps > 64) {
		fprintf(stderr, "usage: bench-watched PAIRS REPS CTLDIR (REPS <= 64)\n");
		return 2;
	}
	for (int i = 0; i < SEQ; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		sizes[i] = 16 + seed % 497;
		slots[i] = (seed >> 16) & (LIVE - 1);
	}
	*(void **)&reg = dlsym(RTLD_DEFAULT, "ta_group_register");
	*(void **)&enter = dlsym(RTLD_DEFAULT, "ta_group_enter");
	if (reg && enter) {
		static const struct ta_tag tags[] = { { "bench", "watched" } };
		ta_group *g = reg("bench", tags, 1);

		if (g)
			(void)enter(g);
	}
	printf("PID %d\n", (int)getpid());
	fflush(stdout);
	snprintf(go, sizeof(go), "%s/go", ctl);
	/* allocating while it waits: an attach request acts at a malloc */
	while (access(go, F_OK) != 0) {
		struct timespec ts = { 0, 5 * 1000000L };

		loop(64);
		nanosleep(&ts, NULL);
	}
	loop(pairs / 10 + 1);
	for (unsigned r = 0; r < reps; r++) {
		uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), w0 = clock_ns(CLOCK_MONOTONIC);
		uint64_t p0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);

		loop(pairs);
		wall[r] = (double)(clock_ns(CLOCK_MONOTONIC) - w0) / (double)pairs;
		cpu[r] = (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)pairs;
		proc[r] = (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - p0) / (double)pairs;
	}
	for (int k = 0; k < LIVE; k++)
		free(ring[k]);
	qsort(cpu, reps, sizeof(cpu[0]), cmp_double);
	qsort(wall, reps, sizeof(wall[0]), cmp_double);
	qsort(proc, reps, sizeof(proc[0]), cmp_double);
	printf("cpu_ns_per_pair %.2f median %.2f wall_ns_per_pair %.2f median %.2f "
	       "process_ns_per_pair %.2f\n",
	       cpu[0], cpu[reps / 2], wall[0], wall[reps / 2], proc[reps / 2]);
	return 0;
}
