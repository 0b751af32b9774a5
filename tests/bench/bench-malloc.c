/* SPDX-License-Identifier: MIT */
/*
 * bench-malloc: the cost of malloc/free pairs and of live blocks, under
 * whatever allocator the process has (plain glibc, a preloaded
 * liblttng-ust-libc-wrapper, a preloaded libtrackalloc). It is not linked
 * with libtrackalloc: when trackalloc is preloaded its API is found with
 * dlsym, so that groups can be entered and counters read; otherwise the
 * same code runs without groups. run-bench.sh runs it under each allocator
 * and prints the comparison.
 *
 *   bench-malloc pairs THREADS same|different PAIRS REPS [LIVE [SIZE]]
 *       THREADS threads (1 or more) each run PAIRS malloc/free pairs, REPS
 *       times; prints the best repetition as ns per pair: the slowest
 *       thread's time divided by the pairs each thread made, once as thread
 *       CPU time (ns_per_pair: what the pairs cost, whatever else runs on
 *       the machine) and once as wall time (wall_ns_per_pair). "same": every
 *       thread allocates in one group; "different": one group per thread.
 *       LIVE: live blocks per thread, a power of two up to BENCH_LIVE_MAX
 *       (default BENCH_LIVE). SIZE: every block SIZE bytes instead of the
 *       mixed sizes (0, the default: mixed).
 *
 *   bench-malloc memory SIZE|mixed COUNT
 *       allocates COUNT live blocks of SIZE bytes (or of the mixed sizes),
 *       writes every byte, and prints the bytes requested, the inner
 *       allocator's usable bytes and the growth of the resident anonymous
 *       memory (RssAnon), per block.
 *
 * The pair workload: sizes 16..512 bytes, uniform, from a fixed
 * pseudo-random sequence (the same in every run). Each thread keeps a ring of
 * LIVE live blocks; each pair frees the block in a pseudo-randomly chosen
 * ring slot and allocates a block of the next size into it, then writes its
 * first byte. A block therefore lives for a geometric number of pairs (mean
 * LIVE), and consecutive mallocs ask for unrelated size classes: the
 * allocator's per-thread caches are used as in a program that keeps a
 * working set, not as in a malloc(n)/free loop where each free feeds the
 * very next malloc. LIVE = 1 with a fixed SIZE is that loop, for reference.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <trackalloc.h> /* types only: the functions come from dlsym */

#define BENCH_LIVE 64       /* live blocks per thread, by default */
#define BENCH_LIVE_MAX 1024
#define BENCH_SEQ 8192      /* length of the size and slot sequences (power of 2) */
#define BENCH_MIN_SIZE 16
#define BENCH_MAX_SIZE 512
#define BENCH_MAX_THREADS 64

/* The trackalloc API, when trackalloc is the process's allocator. */
static struct {
	ta_group *(*group_register)(const char *, const struct ta_tag *, size_t);
	ta_guard (*group_enter)(ta_group *);
	int (*guard_exit)(ta_guard *);
	int (*group_stats)(const ta_group *, struct ta_stats *);
} ta;

static void trackalloc_api_lookup(void)
{
	void *sym;

	sym = dlsym(RTLD_DEFAULT, "ta_group_register");
	memcpy(&ta.group_register, &sym, sizeof(sym));
	sym = dlsym(RTLD_DEFAULT, "ta_group_enter");
	memcpy(&ta.group_enter, &sym, sizeof(sym));
	sym = dlsym(RTLD_DEFAULT, "ta_guard_exit");
	memcpy(&ta.guard_exit, &sym, sizeof(sym));
	sym = dlsym(RTLD_DEFAULT, "ta_group_stats");
	memcpy(&ta.group_stats, &sym, sizeof(sym));
	if (!ta.group_register || !ta.group_enter || !ta.guard_exit || !ta.group_stats)
		memset(&ta, 0, sizeof(ta));
}

static uint32_t size_seq[BENCH_SEQ];
static uint16_t slot_seq[BENCH_SEQ]; /* reduced modulo LIVE when used */

/* xorshift64*: fixed seed, so every run and every allocator sees the same
 * sequence. */
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
}

static double now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * The measured loop. noinline and a stable name: run-bench.sh counts its
 * instructions with valgrind --tool=callgrind --toggle-collect=bench_pairs_loop.
 */
__attribute__((noinline)) void bench_pairs_loop(char **ring, size_t live, size_t size,
                                                size_t pairs, size_t start);

__attribute__((noinline)) void bench_pairs_loop(char **ring, size_t live, size_t size,
                                                size_t pairs, size_t start)
{
	for (size_t i = 0; i < pairs; i++) {
		size_t k = (start + i) & (BENCH_SEQ - 1);
		char **slot = &ring[slot_seq[k] & (live - 1)];

		free(*slot);
		*slot = malloc(size ? size : size_seq[k]);
		if (__builtin_expect(!*slot, 0)) {
			perror("bench-malloc: malloc");
			exit(1);
		}
		**slot = (char)k;
	}
}

struct worker {
	pthread_t tid;
	unsigned index;
	size_t pairs, reps, live, size;
	ta_group *group;
	pthread_barrier_t *barrier;
	double *cpu, *wall; /* per repetition */
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char *ring[BENCH_LIVE_MAX] = { 0 };
	size_t start = (size_t)w->index * 1237; /* threads walk the sequence out of step */
	ta_guard guard = { 0, 0, 0 };

	if (w->group)
		guard = ta.group_enter(w->group);
	/* Warm up: fill the ring and go once around the sequence. */
	bench_pairs_loop(ring, w->live, w->size, BENCH_SEQ, start);
	for (size_t r = 0; r < w->reps; r++) {
		double c0, t0;

		pthread_barrier_wait(w->barrier);
		t0 = now_ns(CLOCK_MONOTONIC);
		c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		bench_pairs_loop(ring, w->live, w->size, w->pairs, start);
		w->cpu[r] = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		w->wall[r] = now_ns(CLOCK_MONOTONIC) - t0;
	}
	for (size_t i = 0; i < w->live; i++)
		free(ring[i]);
	if (w->group)
		(void)ta.guard_exit(&guard);
	return NULL;
}

static int run_pairs(unsigned threads, int different, size_t pairs, size_t reps, size_t live,
                     size_t size)
{
	struct worker w[BENCH_MAX_THREADS];
	pthread_barrier_t barrier;
	double best_cpu = 0, best_wall = 0;
	uint64_t counted = 0;

	pthread_barrier_init(&barrier, NULL, threads);
	for (unsigned i = 0; i < threads; i++) {
		w[i].index = i;
		w[i].pairs = pairs;
		w[i].reps = reps;
		w[i].live = live;
		w[i].size = size;
		w[i].barrier = &barrier;
		w[i].cpu = calloc(reps, sizeof(double));
		w[i].wall = calloc(reps, sizeof(double));
		w[i].group = NULL;
		if (ta.group_register) {
			char name[32];

			snprintf(name, sizeof(name), "bench-%u", different ? i : 0);
			w[i].group = ta.group_register(name, NULL, 0);
		}
		if (!w[i].cpu || !w[i].wall || pthread_create(&w[i].tid, NULL, worker_run, &w[i])) {
			fprintf(stderr, "bench-malloc: cannot start thread %u\n", i);
			return 1;
		}
	}
	for (unsigned i = 0; i < threads; i++)
		pthread_join(w[i].tid, NULL);
	for (size_t r = 0; r < reps; r++) {
		double cpu = 0, wall = 0;

		for (unsigned i = 0; i < threads; i++) {
			if (w[i].cpu[r] > cpu)
				cpu = w[i].cpu[r];
			if (w[i].wall[r] > wall)
				wall = w[i].wall[r];
		}
		if (r == 0 || cpu < best_cpu)
			best_cpu = cpu;
		if (r == 0 || wall < best_wall)
			best_wall = wall;
	}
	/* Proof that trackalloc counted the pairs in the groups (0 otherwise). */
	for (unsigned i = 0; i < threads && ta.group_stats; i++) {
		struct ta_stats st;

		if ((different || i == 0) && w[i].group && ta.group_stats(w[i].group, &st) == 0)
			counted += st.allocated_objects;
	}
	for (unsigned i = 0; i < threads; i++) {
		free(w[i].cpu);
		free(w[i].wall);
	}
	pthread_barrier_destroy(&barrier);
	printf("trackalloc=%d threads=%u groups=%s live=%zu size=%zu pairs=%zu reps=%zu "
	       "ns_per_pair=%.3f wall_ns_per_pair=%.3f counted=%" PRIu64 "\n",
	       ta.group_register != NULL, threads, different ? "different" : "same", live, size,
	       pairs, reps, best_cpu / (double)pairs, best_wall / (double)pairs, counted);
	return 0;
}

/*
 * Resident anonymous memory of this process (RssAnon), in KiB; VmRSS where
 * the kernel has no RssAnon; -1 if unreadable. Anonymous only: the heap is
 * anonymous memory, while LTTng-UST maps shared memory for its ring buffers
 * when a session daemon is running, at a moment of its own choosing.
 */
static long rss_anon_kib(void)
{
	char line[256];
	long anon = -1, total = -1, v;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "RssAnon: %ld kB", &v) == 1)
			anon = v;
		else if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			total = v;
	}
	fclose(f);
	return anon >= 0 ? anon : total;
}

static int run_memory(const char *size_arg, size_t count)
{
	size_t fixed = 0, requested = 0, usable = 0;
	long rss0, rss1;
	char **blocks;
	ta_group *group = NULL;
	struct ta_stats st0 = { 0 }, st1 = { 0 };
	ta_guard guard = { 0, 0, 0 };

	if (strcmp(size_arg, "mixed") != 0) {
		fixed = strtoul(size_arg, NULL, 10);
		if (fixed == 0) {
			fprintf(stderr, "bench-malloc: bad size '%s'\n", size_arg);
			return 2;
		}
	}
	/* The pointer array comes from mmap, touched before the first RSS
	 * reading, so that only the blocks show in the difference. */
	blocks = mmap(NULL, count * sizeof(*blocks), PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (blocks == MAP_FAILED) {
		perror("bench-malloc: mmap");
		return 1;
	}
	memset(blocks, 0, count * sizeof(*blocks));
	if (ta.group_register) {
		group = ta.group_register("bench-memory", NULL, 0);
		if (group)
			(void)ta.group_stats(group, &st0);
	}
	/* Nothing has been freed yet: the blocks land on fresh heap pages and
	 * the growth of RssAnon is their footprint, headers and slack included. */
	rss0 = rss_anon_kib();
	if (group)
		guard = ta.group_enter(group);
	for (size_t i = 0; i < count; i++) {
		size_t n = fixed ? fixed : size_seq[i & (BENCH_SEQ - 1)];

		blocks[i] = malloc(n);
		if (!blocks[i]) {
			perror("bench-malloc: malloc");
			return 1;
		}
		memset(blocks[i], (int)(i & 0xff), n);
		requested += n;
		if (!group)
			usable += malloc_usable_size(blocks[i]);
	}
	if (group)
		(void)ta.guard_exit(&guard);
	rss1 = rss_anon_kib();
	if (group) {
		/* The inner allocator's usable bytes, trailers included: what
		 * trackalloc holds, exactly. */
		(void)ta.group_stats(group, &st1);
		usable = (size_t)(st1.wrapped_bytes_live - st0.wrapped_bytes_live);
	}
	/* trackalloc asks its inner allocator for the size plus its 8-byte
	 * trailer (see lib/ta-internal.h, TA_TRAILER). */
	printf("trackalloc=%d size=%s count=%zu requested_per_block=%.2f inner_request_per_block=%.2f "
	       "inner_usable_per_block=%.2f rss_per_block=%.2f rss_kib=%ld\n",
	       ta.group_register != NULL, size_arg, count, (double)requested / (double)count,
	       (double)(requested + (group ? 8 * count : 0)) / (double)count,
	       (double)usable / (double)count, (double)(rss1 - rss0) * 1024.0 / (double)count,
	       rss1 - rss0);
	for (size_t i = 0; i < count; i++)
		free(blocks[i]);
	munmap(blocks, count * sizeof(*blocks));
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-malloc pairs THREADS same|different PAIRS REPS [LIVE [SIZE]]\n"
	                "       bench-malloc memory SIZE|mixed COUNT\n");
}

int main(int argc, char **argv)
{
	trackalloc_api_lookup();
	sequences_init();
	if (argc >= 6 && argc <= 8 && strcmp(argv[1], "pairs") == 0) {
		unsigned long threads = strtoul(argv[2], NULL, 10);
		size_t pairs = strtoul(argv[4], NULL, 10), reps = strtoul(argv[5], NULL, 10);
		size_t live = argc >= 7 ? strtoul(argv[6], NULL, 10) : BENCH_LIVE;
		size_t size = argc == 8 ? strtoul(argv[7], NULL, 10) : 0;
		int different = strcmp(argv[3], "different") == 0;

		if (threads < 1 || threads > BENCH_MAX_THREADS || pairs == 0 || reps == 0 ||
		    (!different && strcmp(argv[3], "same") != 0) || live == 0 ||
		    live > BENCH_LIVE_MAX || (live & (live - 1)) || size > (1u << 20)) {
			usage();
			return 2;
		}
		return run_pairs((unsigned)threads, different, pairs, reps, live, size);
	}
	if (argc == 4 && strcmp(argv[1], "memory") == 0) {
		size_t count = strtoul(argv[3], NULL, 10);

		if (count == 0) {
			usage();
			return 2;
		}
		return run_memory(argv[2], count);
	}
	usage();
	return 2;
}
