/* SPDX-License-Identifier: MIT */
/*
 * bench-rules: the cost of trackalloc's rules (TRACKALLOC_GROUPS, issue 13)
 * on allocation pairs, under whatever allocator the process has (plain
 * glibc, a preloaded liblttng-ust-libc-wrapper, a preloaded libtrackalloc
 * with or without rules). Not linked with libtrackalloc, and unlike
 * bench-malloc it never enters a group: the thread counts in root, or in
 * what a rule gives it, as in a program nobody instrumented.
 * run-rules-bench.sh runs it under each contender and prints the comparison.
 *
 *   bench-rules MODE PAIRS REPS [LIVE]
 *
 * MODE, the pair:
 *   pairs   malloc + free, called from the program (bench-malloc's pairs)
 *   peer    malloc + free, called from libbench-rules-peer.so
 *   strdup  strdup + free, called from the program: malloc's immediate
 *           caller is libc
 *   new     ::operator new + sized ::operator delete, from the program's C++
 *           code (bench-rules-cxx only)
 *   deep    strdup + free as in strdup, with BENCH_DEEP more frames of the
 *           program's below the loop (a deeper stack, as in an interpreter)
 *
 * One thread, started by main (so that it inherits the program's name, as a
 * thread rule sees it), runs a warm-up of BENCH_SEQ pairs, then REPS timed
 * loops of PAIRS pairs; the best repetition is printed as ns per pair, as
 * thread CPU time (ns_per_pair) and wall time (wall_ns_per_pair). With
 * trackalloc loaded (found with dlsym), the group other than root that
 * counted the most allocations is printed too (top_group, top_objects;
 * "root" when no other group did), so that the runner can check that the
 * rules did what they should.
 *
 * Sizes 16..512 bytes, uniform, from a fixed pseudo-random sequence; a ring
 * of LIVE live blocks (64 by default), a pseudo-random slot freed and
 * refilled each pair: bench-malloc's pair workload. strdup copies a string
 * of size - 1 characters, so that every mode asks malloc for the same sizes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <trackalloc.h> /* types only: the functions come from dlsym */

#include "bench-rules.h"

#define BENCH_LIVE 64
#define BENCH_DEEP 32

/* bench-rules-new.cpp, linked into bench-rules-cxx only */
extern void bench_new_loop(char **ring, size_t live, const uint32_t *size_seq,
                           const uint16_t *slot_seq, size_t pairs, size_t start)
	__attribute__((weak));
extern void bench_new_release(char **ring, size_t live) __attribute__((weak));

static struct {
	int (*group_foreach)(int (*fn)(ta_group *g, void *arg), void *arg);
	const char *(*group_name)(const ta_group *g);
	uint32_t (*group_id)(const ta_group *g);
	int (*group_stats)(const ta_group *g, struct ta_stats *out);
} ta;

static void trackalloc_api_lookup(void)
{
	void *sym;

	sym = dlsym(RTLD_DEFAULT, "ta_group_foreach");
	memcpy(&ta.group_foreach, &sym, sizeof(sym));
	sym = dlsym(RTLD_DEFAULT, "ta_group_name");
	memcpy(&ta.group_name, &sym, sizeof(sym));
	sym = dlsym(RTLD_DEFAULT, "ta_group_id");
	memcpy(&ta.group_id, &sym, sizeof(sym));
	sym = dlsym(RTLD_DEFAULT, "ta_group_stats");
	memcpy(&ta.group_stats, &sym, sizeof(sym));
	if (!ta.group_foreach || !ta.group_name || !ta.group_id || !ta.group_stats)
		memset(&ta, 0, sizeof(ta));
}

static uint32_t size_seq[BENCH_SEQ];
static uint16_t slot_seq[BENCH_SEQ];
/* strdup's sources: src + BENCH_MAX_SIZE - n is a string of n - 1 'x' */
static char src[BENCH_MAX_SIZE + 1];

/* xorshift64*, bench-malloc's seed: the same sequences as malloc-pairs */
static uint64_t bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void sequences_init(void)
{
	uint64_t state = 0x7261636b616c6c6full;

	for (size_t i = 0; i < BENCH_SEQ; i++) {
		size_seq[i] = BENCH_MIN_SIZE +
		              (uint32_t)(bench_rand(&state) % (BENCH_MAX_SIZE - BENCH_MIN_SIZE + 1));
		slot_seq[i] = (uint16_t)(bench_rand(&state) % BENCH_LIVE_MAX);
	}
	memset(src, 'x', BENCH_MAX_SIZE);
	src[BENCH_MAX_SIZE] = '\0';
}

static double now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* malloc + free from the program. */
__attribute__((noinline)) void bench_pairs_loop(char **ring, size_t live, size_t pairs,
                                                size_t start);

__attribute__((noinline)) void bench_pairs_loop(char **ring, size_t live, size_t pairs,
                                                size_t start)
{
	for (size_t i = 0; i < pairs; i++) {
		size_t k = (start + i) & (BENCH_SEQ - 1);
		char **slot = &ring[slot_seq[k] & (live - 1)];

		free(*slot);
		*slot = malloc(size_seq[k]);
		if (__builtin_expect(!*slot, 0)) {
			perror("bench-rules: malloc");
			exit(1);
		}
		**slot = (char)k;
	}
}

/* strdup + free from the program. */
__attribute__((noinline)) void bench_strdup_loop(char **ring, size_t live, size_t pairs,
                                                 size_t start);

__attribute__((noinline)) void bench_strdup_loop(char **ring, size_t live, size_t pairs,
                                                 size_t start)
{
	for (size_t i = 0; i < pairs; i++) {
		size_t k = (start + i) & (BENCH_SEQ - 1);
		char **slot = &ring[slot_seq[k] & (live - 1)];

		free(*slot);
		*slot = strdup(src + BENCH_MAX_SIZE - (size_seq[k] - 1));
		if (__builtin_expect(!*slot, 0)) {
			perror("bench-rules: strdup");
			exit(1);
		}
		**slot = (char)k;
	}
}

enum mode { MODE_PAIRS, MODE_PEER, MODE_STRDUP, MODE_NEW, MODE_DEEP };

/* bench_strdup_loop under @depth more frames: noinline, and the empty asm
 * after the call keeps it from being a tail call */
__attribute__((noinline)) void bench_deeper(char **ring, size_t live, size_t pairs, int depth);

__attribute__((noinline)) void bench_deeper(char **ring, size_t live, size_t pairs, int depth)
{
	if (depth == 0)
		bench_strdup_loop(ring, live, pairs, 0);
	else
		bench_deeper(ring, live, pairs, depth - 1);
	__asm__ volatile("" ::: "memory");
}

struct run {
	enum mode mode;
	size_t pairs, reps, live;
	double best_cpu, best_wall;
};

static void run_loop(const struct run *r, char **ring, size_t pairs)
{
	switch (r->mode) {
	case MODE_PAIRS:
		bench_pairs_loop(ring, r->live, pairs, 0);
		break;
	case MODE_PEER:
		bench_peer_loop(ring, r->live, size_seq, slot_seq, pairs, 0);
		break;
	case MODE_STRDUP:
		bench_strdup_loop(ring, r->live, pairs, 0);
		break;
	case MODE_NEW:
		bench_new_loop(ring, r->live, size_seq, slot_seq, pairs, 0);
		break;
	case MODE_DEEP:
		bench_deeper(ring, r->live, pairs, BENCH_DEEP);
		break;
	}
}

static void *worker(void *arg)
{
	struct run *r = arg;
	char *ring[BENCH_LIVE_MAX] = { 0 };

	/* warm-up: fill the ring and go once around the sequence */
	run_loop(r, ring, BENCH_SEQ);
	for (size_t i = 0; i < r->reps; i++) {
		double c0, t0, cpu, wall;

		t0 = now_ns(CLOCK_MONOTONIC);
		c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		run_loop(r, ring, r->pairs);
		cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		wall = now_ns(CLOCK_MONOTONIC) - t0;
		if (i == 0 || cpu < r->best_cpu)
			r->best_cpu = cpu;
		if (i == 0 || wall < r->best_wall)
			r->best_wall = wall;
	}
	if (r->mode == MODE_NEW) {
		bench_new_release(ring, r->live);
	} else {
		for (size_t i = 0; i < r->live; i++)
			free(ring[i]);
	}
	return NULL;
}

struct top {
	char name[128];
	uint64_t objects;
};

static int top_group(ta_group *g, void *arg)
{
	struct top *top = arg;
	struct ta_stats st;

	if (ta.group_id(g) != 0 && ta.group_stats(g, &st) == 0 && st.allocated_objects > top->objects) {
		top->objects = st.allocated_objects;
		snprintf(top->name, sizeof(top->name), "%s", ta.group_name(g));
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-rules pairs|peer|strdup|new|deep PAIRS REPS [LIVE]\n");
}

int main(int argc, char **argv)
{
	static const char *const modes[] = { "pairs", "peer", "strdup", "new", "deep" };
	struct run r = { 0 };
	struct top top = { "root", 0 };
	pthread_t tid;
	size_t m;

	trackalloc_api_lookup();
	sequences_init();
	if (argc < 4 || argc > 5) {
		usage();
		return 2;
	}
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		if (strcmp(argv[1], modes[m]) == 0)
			break;
	r.mode = (enum mode)m;
	r.pairs = strtoul(argv[2], NULL, 10);
	r.reps = strtoul(argv[3], NULL, 10);
	r.live = argc == 5 ? strtoul(argv[4], NULL, 10) : BENCH_LIVE;
	if (m == sizeof(modes) / sizeof(modes[0]) || r.pairs == 0 || r.reps == 0 || r.live == 0 ||
	    r.live > BENCH_LIVE_MAX || (r.live & (r.live - 1))) {
		usage();
		return 2;
	}
	if (r.mode == MODE_NEW && (!bench_new_loop || !bench_new_release)) {
		fprintf(stderr, "bench-rules: mode new needs bench-rules-cxx\n");
		return 2;
	}
	if (pthread_create(&tid, NULL, worker, &r)) {
		fprintf(stderr, "bench-rules: cannot start the thread\n");
		return 1;
	}
	pthread_join(tid, NULL);
	if (ta.group_foreach)
		(void)ta.group_foreach(top_group, &top);
	printf("mode=%s trackalloc=%d pairs=%zu reps=%zu live=%zu ns_per_pair=%.3f "
	       "wall_ns_per_pair=%.3f top_group=%s top_objects=%" PRIu64 "\n",
	       modes[r.mode], ta.group_foreach != NULL, r.pairs, r.reps, r.live,
	       r.best_cpu / (double)r.pairs, r.best_wall / (double)r.pairs, top.name, top.objects);
	return 0;
}
