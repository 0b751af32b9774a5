// SPDX-License-Identifier: MIT
/*
 * glibc-simple / glibc-thread shape (after glibc's bench-malloc-simple and
 * bench-malloc-thread): tight malloc/free of fixed small sizes in batches,
 * on one thread or on WL_THREADS threads at once, each thread with its own
 * blocks. Built twice from this file, with WL_THREADS 1 and 2.
 *
 *   glibc-simple [quick], glibc-thread [quick]   print one checksum line
 */
#include <pthread.h>

#include "workload.h"

#ifndef WL_THREADS
#define WL_THREADS 1
#endif
#define MAX_BATCH 100

static const size_t sizes[] = { 16, 32, 64, 128, 256 };
/* a batch of one is the tight pair; larger batches keep blocks live a while */
static const int batches[] = { 1, 10, 25, 100 };

struct worker {
	long passes;
	uint64_t hash;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned char *blocks[MAX_BATCH];
	uint64_t sum = 0;

	for (long pass = 0; pass < w->passes; pass++)
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
				/* the same calls per batch whatever its length:
				 * 100 allocations each time */
				for (int rep = 0; rep < MAX_BATCH / batches[b]; rep++) {
					for (int i = 0; i < batches[b]; i++) {
						blocks[i] = wl_xmalloc(sizes[s]);
						blocks[i][0] = (unsigned char)i;
						blocks[i][sizes[s] - 1] = (unsigned char)rep;
					}
					for (int i = 0; i < batches[b]; i++) {
						sum += blocks[i][0] + blocks[i][sizes[s] - 1];
						free(blocks[i]);
					}
				}
				w->hash = wl_mix(w->hash, sum);
			}
	return NULL;
}

int main(int argc, char **argv)
{
	int quick = wl_quick(argc, argv);
	struct worker workers[WL_THREADS];
	pthread_t tid[WL_THREADS];
	uint64_t h = WL_HASH_INIT;
	char detail[64];

	for (int t = 0; t < WL_THREADS; t++) {
		/* the same total work, shared between the threads */
		workers[t].passes = (quick ? 400 : 24000) / WL_THREADS;
		workers[t].hash = WL_HASH_INIT + (uint64_t)t;
	}
	/* one thread runs on main, as glibc-simple does */
	for (int t = 1; t < WL_THREADS; t++)
		if (pthread_create(&tid[t], NULL, work, &workers[t]) != 0) {
			fprintf(stderr, "glibc-shape: pthread_create failed\n");
			return 1;
		}
	work(&workers[0]);
	for (int t = 1; t < WL_THREADS; t++)
		pthread_join(tid[t], NULL);
	for (int t = 0; t < WL_THREADS; t++)
		h = wl_mix(h, workers[t].hash);
	snprintf(detail, sizeof(detail), "threads=%d passes=%ld", WL_THREADS, workers[0].passes);
	wl_report(WL_THREADS == 1 ? "glibc-simple" : "glibc-thread", h, detail);
	return 0;
}
