/* SPDX-License-Identifier: MIT */
/*
 * Threads with names, for thread rules (rules-threads.sh, rules-bad.sh).
 * Each thread allocates known amounts with malloc, calloc and realloc
 * (work(): a + n * s + b bytes, 3 objects, all freed), named in every way
 * trackalloc.h says a name is given:
 *
 *   T1  "worker-1"  pthread_setname_np(pthread_self()) first; then
 *                   work(1000, 10, 10, 2000)                 3100 B  3 obj
 *                   inside the explicit group "explicit":
 *                   work(500, 5, 10, 700)                   (1250 B  3 obj
 *                                                            in explicit)
 *                   back in its base group: work(11, 1, 11, 22) 44 B 3 obj
 *   T2  inherited   the creator's name (this program's, no rule):
 *                   work(300, 3, 10, 400) in root; then, blocked, renamed
 *                   "worker-2" by main with pthread_setname_np(T2): its
 *                   next allocations, work(2000, 20, 10, 3000)  5200 B 3 obj
 *   T3  "worker-3"  prctl(PR_SET_NAME): work(4000, 4, 100, 5000) 9400 B 3 obj
 *                   and malloc(777) kept; renames itself "io"
 *                   (pthread_setname_np): work(6000, 6, 100, 7000) in io,
 *                   13600 B 3 obj, then frees the 777 bytes: credited to
 *                   the group that allocated them (worker-3's)
 *   T4  "io"        pthread_setname_np(pthread_self()): work(8000, 8, 100,
 *                   9000) 17800 B 3 obj; creates T5 inside the explicit
 *                   group "spawn" (pthread_create allocates in its caller)
 *   T5  inherited   T4's name, "io": work(10000, 1, 16, 11000) 21016 B 3 obj
 *
 * With thread:worker-*=workers;thread:io=io: workers 3100 + 44 + 5200 +
 * 9400 + 777 = 18521 B, 13 obj; io 13600 + 17800 + 21016 = 52416 B, 9 obj;
 * explicit 1250 B, 3 obj; everything freed. The threads run one after
 * another (each joined before the next starts), so that no allocation of
 * one lands while another is being renamed.
 *
 *   ta-rules-threads [EXIT_STATUS]   prints a fixed summary, exits with it
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <trackalloc.h>

/* Where every pointer goes: the compiler cannot drop a malloc/free pair
 * whose pointer was stored through a volatile lvalue. */
static void *volatile sink;

static ta_group *explicit_g, *spawn_g;
static sem_t t2_allocated, t2_renamed;

static void die(const char *what)
{
	fprintf(stderr, "ta-rules-threads: %s failed\n", what);
	exit(2);
}

/* a + n * s + b bytes in 3 allocations, all freed. */
static void work(size_t a, size_t n, size_t s, size_t b)
{
	void *p = malloc(a), *q = calloc(n, s);

	sink = p;
	sink = q;
	if (!p || !q)
		die("malloc");
	p = realloc(p, b);
	sink = p;
	if (!p)
		die("realloc");
	free(q);
	free(p);
}

static void *t1(void *arg)
{
	(void)arg;
	if (pthread_setname_np(pthread_self(), "worker-1") != 0)
		die("pthread_setname_np(self)");
	work(1000, 10, 10, 2000);
	{
		TA_GROUP_SCOPE(explicit_g);
		work(500, 5, 10, 700);
	}
	work(11, 1, 11, 22);
	return NULL;
}

static void *t2(void *arg)
{
	(void)arg;
	work(300, 3, 10, 400); /* under the inherited name */
	sem_post(&t2_allocated);
	while (sem_wait(&t2_renamed) != 0)
		;
	work(2000, 20, 10, 3000); /* renamed by main meanwhile */
	return NULL;
}

static void *t3(void *arg)
{
	void *kept;

	(void)arg;
	if (prctl(PR_SET_NAME, (unsigned long)"worker-3", 0UL, 0UL, 0UL) != 0)
		die("prctl(PR_SET_NAME)");
	work(4000, 4, 100, 5000);
	kept = malloc(777);
	sink = kept;
	if (pthread_setname_np(pthread_self(), "io") != 0)
		die("pthread_setname_np(self, io)");
	work(6000, 6, 100, 7000);
	free(kept);
	return NULL;
}

static void *t5(void *arg)
{
	(void)arg;
	work(10000, 1, 16, 11000);
	return NULL;
}

static void *t4(void *arg)
{
	pthread_t child;

	(void)arg;
	if (pthread_setname_np(pthread_self(), "io") != 0)
		die("pthread_setname_np(self, io)");
	work(8000, 8, 100, 9000);
	{
		TA_GROUP_SCOPE(spawn_g);
		if (pthread_create(&child, NULL, t5, NULL) != 0)
			die("pthread_create");
		if (pthread_join(child, NULL) != 0)
			die("pthread_join");
	}
	return NULL;
}

static void run(void *(*fn)(void *), const char *rename_to)
{
	pthread_t th;

	if (pthread_create(&th, NULL, fn, NULL) != 0)
		die("pthread_create");
	if (rename_to) {
		while (sem_wait(&t2_allocated) != 0)
			;
		/* by another thread, after the target allocated under its
		 * old name, while it waits */
		if (pthread_setname_np(th, rename_to) != 0)
			die("pthread_setname_np(other)");
		sem_post(&t2_renamed);
	}
	if (pthread_join(th, NULL) != 0)
		die("pthread_join");
}

int main(int argc, char **argv)
{
	char own[16];

	if (sem_init(&t2_allocated, 0, 0) != 0 || sem_init(&t2_renamed, 0, 0) != 0)
		die("sem_init");
	explicit_g = ta_group_register("explicit", NULL, 0);
	spawn_g = ta_group_register("spawn", NULL, 0);
	if (!explicit_g || !spawn_g)
		die("ta_group_register");
	/* Give the main thread its own name once by each call, here in root:
	 * whatever a first call costs (resolving the next definition) is not
	 * paid in a worker. The name does not change. */
	if (pthread_getname_np(pthread_self(), own, sizeof(own)) != 0)
		die("pthread_getname_np");
	if (pthread_setname_np(pthread_self(), own) != 0)
		die("pthread_setname_np(main)");
	if (prctl(PR_SET_NAME, (unsigned long)own, 0UL, 0UL, 0UL) != 0)
		die("prctl(main)");

	run(t1, NULL);
	run(t2, "worker-2");
	run(t3, NULL);
	run(t4, NULL);
	printf("threads: worker-1, worker-2 (renamed by main), worker-3 -> io, io, io's child: "
	       "done\n");
	return argc > 1 ? atoi(argv[1]) : 0;
}
