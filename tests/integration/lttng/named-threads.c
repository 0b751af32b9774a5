/* SPDX-License-Identifier: MIT */
/*
 * Threads with names, for `trackalloc record --group-by=thread`
 * (group-by.sh). Not linked with libtrackalloc: it runs preloaded.
 *
 *   named-threads
 *
 * The main thread keeps the name it started with (the program's:
 * "named-threads") and allocates MAIN_BLOCKS blocks of MAIN_SIZE bytes,
 * which it keeps. Five threads: "worker-1", "worker-2", "io", and two both
 * named "pool".
 * Each names itself (worker-1 and io with pthread_setname_np, worker-2 with
 * prctl(PR_SET_NAME), the pool threads one way each), waits until all are
 * named, then allocates BLOCKS blocks of its own size, frees every other
 * one, and ends; the main thread prints per name what that name's threads
 * allocated, freed and left live, one line each:
 *
 *   NT<TAB>name<TAB>allocs<TAB>frees<TAB>bytes_alloc<TAB>bytes_freed<TAB>live_bytes
 *
 * ("pool": both threads' sum), then a line for the main thread's own blocks
 * (its group also holds what glibc allocates for it: the thread start-ups,
 * stdout's buffer), then "NT-END". The blocks left live stay live until the
 * process ends.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#define BLOCKS 200
#define MAIN_BLOCKS 10
#define MAIN_SIZE 100

struct nt {
	const char *name;
	size_t size;
	int use_prctl;
	pthread_t tid;
	void *blocks[BLOCKS];
};

static struct nt nts[] = {
	{ .name = "worker-1", .size = 1000 }, { .name = "worker-2", .size = 2000, .use_prctl = 1 },
	{ .name = "io", .size = 3000 },       { .name = "pool", .size = 500 },
	{ .name = "pool", .size = 700, .use_prctl = 1 },
};
#define NTHREADS (sizeof(nts) / sizeof(nts[0]))

static pthread_barrier_t named;

static void *run(void *arg)
{
	struct nt *t = arg;
	int i;

	if (t->use_prctl)
		prctl(PR_SET_NAME, t->name, 0, 0, 0);
	else
		pthread_setname_np(pthread_self(), t->name);
	pthread_barrier_wait(&named);
	for (i = 0; i < BLOCKS; i++) {
		t->blocks[i] = malloc(t->size);
		if (!t->blocks[i])
			abort();
		memset(t->blocks[i], i, t->size);
	}
	for (i = 0; i < BLOCKS; i += 2) {
		free(t->blocks[i]);
		t->blocks[i] = NULL;
	}
	return NULL;
}

int main(void)
{
	static void *mine[MAIN_BLOCKS];
	size_t i, j;

	for (i = 0; i < MAIN_BLOCKS; i++)
		if (!(mine[i] = malloc(MAIN_SIZE)))
			return 1;
	pthread_barrier_init(&named, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&nts[i].tid, NULL, run, &nts[i]) != 0) {
			fprintf(stderr, "named-threads: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(nts[i].tid, NULL);
	for (i = 0; i < NTHREADS; i++) {
		unsigned long long allocs = 0, frees = 0, ab = 0, fb = 0;

		for (j = 0; j < i; j++)
			if (!strcmp(nts[j].name, nts[i].name))
				break;
		if (j < i)
			continue; /* the name's line is printed already */
		for (j = i; j < NTHREADS; j++) {
			if (strcmp(nts[j].name, nts[i].name))
				continue;
			allocs += BLOCKS;
			frees += BLOCKS / 2;
			ab += (unsigned long long)BLOCKS * nts[j].size;
			fb += (unsigned long long)(BLOCKS / 2) * nts[j].size;
		}
		printf("NT\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\n", nts[i].name, allocs, frees, ab, fb,
		       ab - fb);
	}
	printf("NT-MAIN\t%d\t%d\n", MAIN_BLOCKS, MAIN_BLOCKS * MAIN_SIZE);
	printf("NT-END\n");
	pthread_barrier_destroy(&named);
	return 0;
}
