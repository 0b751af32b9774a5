// SPDX-License-Identifier: MIT
/*
 * larson-shape workload: a server simulation after Larson and Krishnan.
 * Each of THREADS chains owns an array of slots holding blocks of random
 * sizes (8..1000 bytes); a thread frees a random slot and refills it, and
 * after a round of such operations hands the whole array to a new thread
 * and exits, so the next thread frees blocks another thread allocated
 * (cross-thread frees, threads coming and going). Each chain is sequential
 * and seeded, so the result does not depend on scheduling.
 *
 *   larson [quick]   prints one checksum line over every chain
 */
#include <pthread.h>
#include <time.h>

#include "workload.h"

#define THREADS 2
#define SLOTS 2000
#define MIN_SIZE 8
#define MAX_SIZE 1000

struct chain {
	uint64_t rng, hash;
	unsigned char *slot[SLOTS];
	size_t size[SLOTS];
	long ops_per_round;
	int rounds_left;
};

/* check the block still holds what was written: a block the allocator
 * handed out twice, or clobbered, changes the checksum */
static uint64_t block_sum(const unsigned char *p, size_t n)
{
	return (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16 | (uint64_t)n << 24;
}

static void fill(struct chain *c, int i)
{
	size_t n = (size_t)wl_range(&c->rng, MIN_SIZE, MAX_SIZE);
	unsigned char *p = wl_xmalloc(n);
	unsigned char v = (unsigned char)wl_next(&c->rng);

	p[0] = v;
	p[n / 2] = (unsigned char)(v + 1);
	p[n - 1] = (unsigned char)(v + 2);
	c->slot[i] = p;
	c->size[i] = n;
}

static void *run_round(void *arg)
{
	struct chain *c = arg;

	for (long k = 0; k < c->ops_per_round; k++) {
		int i = (int)wl_range(&c->rng, 0, SLOTS - 1);

		c->hash = wl_mix(c->hash, block_sum(c->slot[i], c->size[i]));
		free(c->slot[i]);
		fill(c, i);
	}
	/* hand the array on: the next round runs on a thread of its own */
	if (--c->rounds_left > 0) {
		pthread_t next;

		if (pthread_create(&next, NULL, run_round, c) != 0) {
			fprintf(stderr, "larson: pthread_create failed\n");
			exit(1);
		}
		pthread_detach(next);
		return NULL;
	}
	for (int i = 0; i < SLOTS; i++) {
		c->hash = wl_mix(c->hash, block_sum(c->slot[i], c->size[i]));
		free(c->slot[i]);
	}
	/* the last thread of the chain tells main, which cannot join a chain */
	__atomic_store_n(&c->rounds_left, -1, __ATOMIC_RELEASE);
	return NULL;
}

int main(int argc, char **argv)
{
	int quick = wl_quick(argc, argv), rounds = quick ? 5 : 80;
	static struct chain chains[THREADS];
	uint64_t h = WL_HASH_INIT;
	char detail[96];

	for (int t = 0; t < THREADS; t++) {
		struct chain *c = &chains[t];

		c->rng = 1000 + (uint64_t)t;
		c->hash = WL_HASH_INIT;
		c->ops_per_round = quick ? 20000 : 100000;
		c->rounds_left = rounds;
		for (int i = 0; i < SLOTS; i++)
			fill(c, i);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_t first;

		if (pthread_create(&first, NULL, run_round, &chains[t]) != 0) {
			fprintf(stderr, "larson: pthread_create failed\n");
			return 1;
		}
		pthread_detach(first);
	}
	/* chains end on threads main did not start: wait for their flags */
	for (int t = 0; t < THREADS; t++)
		while (__atomic_load_n(&chains[t].rounds_left, __ATOMIC_ACQUIRE) != -1) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	for (int t = 0; t < THREADS; t++)
		h = wl_mix(h, chains[t].hash);
	snprintf(detail, sizeof(detail), "threads=%d rounds=%d ops=%ld", THREADS, rounds,
		chains[0].ops_per_round);
	wl_report("larson", h, detail);
	return 0;
}
