/* SPDX-License-Identifier: MIT */
/*
 * A program that allocates in phases, for the `trackalloc top` and
 * `trackalloc record -p` tests. Not linked with libtrackalloc: it runs
 * preloaded (TRACKALLOC_LTTNG=auto leaves LTTng-UST out until an attach
 * request) and finds the API with dlsym.
 *
 *   phases CTLDIR [PERIOD_MS]
 *
 * Three groups: "cache" (tags tier=hot,owner=phases), "parser" (tag
 * lang=c), "churn". Phase K (from 1) brings each group's live bytes to its
 * target: cache 300 KiB * K (blocks of 3 KiB, or 1 KiB), parser 700 KiB
 * divided by K (blocks of 1000 bytes and one remainder), churn 64 KiB;
 * then the program prints, for every group, its own counters:
 *
 *   PID <pid>
 *   PHASE <k> <CLOCK_MONOTONIC ns>
 *   G <name> <live> <allocated_bytes> <allocated_objects> <freed_bytes> <freed_objects> <peak>
 *   ...
 *   PHASE-END <k>
 *
 * and holds: cache and parser do not change until the next phase; churn
 * replaces one of its 64 blocks of 1 KiB every 2 ms (a malloc, then the
 * free of the block it replaces: its live bytes are 64 KiB, or 65 KiB for
 * an instant), so that it always allocates. Phase K+1 starts when
 * CTLDIR/next-<K+1> exists (or PERIOD_MS after phase K, when given); the
 * program frees everything and ends with "DONE" when CTLDIR/exit exists.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <trackalloc.h> /* types only: the functions come from dlsym */

#define MAX_BLOCKS 4096
#define CHURN_BLOCKS 64
#define CHURN_SIZE 1024

struct group {
	const char *name;
	struct ta_tag tags[2];
	size_t ntags;
	ta_group *g;
	void *blocks[MAX_BLOCKS];
	size_t sizes[MAX_BLOCKS];
	size_t n;
	uint64_t live;
};

static struct group groups[] = {
	{ .name = "cache", .tags = { { "tier", "hot" }, { "owner", "phases" } }, .ntags = 2 },
	{ .name = "parser", .tags = { { "lang", "c" } }, .ntags = 1 },
	{ .name = "churn" },
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static ta_group *(*reg)(const char *, const struct ta_tag *, size_t);
static ta_guard (*enter)(ta_group *);
static int (*guard_exit)(ta_guard *);
static int (*stats)(const ta_group *, struct ta_stats *);
static int (*peak)(const ta_group *, uint64_t *);

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void push(struct group *g, size_t size)
{
	ta_guard guard = enter(g->g);
	void *p = malloc(size);

	guard_exit(&guard);
	if (!p || g->n == MAX_BLOCKS) {
		fprintf(stderr, "phases: out of blocks\n");
		exit(1);
	}
	memset(p, 0x5a, size);
	g->blocks[g->n] = p;
	g->sizes[g->n++] = size;
	g->live += size;
}

static void pop(struct group *g)
{
	g->n--;
	g->live -= g->sizes[g->n];
	free(g->blocks[g->n]);
}

/* Bring @g to @target live bytes with blocks of @size (the last one
 * smaller). */
static void reach(struct group *g, uint64_t target, size_t size)
{
	while (g->live > target)
		pop(g);
	while (g->live < target)
		push(g, target - g->live < size ? (size_t)(target - g->live) : size);
}

static void report(unsigned k)
{
	printf("PHASE %u %llu\n", k, (unsigned long long)mono_ns());
	for (size_t i = 0; i < NGROUPS; i++) {
		struct ta_stats s;
		uint64_t pk = 0;

		if (stats(groups[i].g, &s) != 0 || peak(groups[i].g, &pk) != 0) {
			fprintf(stderr, "phases: cannot read the counters of %s\n", groups[i].name);
			exit(1);
		}
		printf("G %s %llu %llu %llu %llu %llu %llu\n", groups[i].name,
		       (unsigned long long)(s.allocated_bytes - s.freed_bytes),
		       (unsigned long long)s.allocated_bytes, (unsigned long long)s.allocated_objects,
		       (unsigned long long)s.freed_bytes, (unsigned long long)s.freed_objects,
		       (unsigned long long)pk);
	}
	printf("PHASE-END %u\n", k);
	fflush(stdout);
}

static void phase(unsigned k)
{
	reach(&groups[0], 300 * 1024 * (uint64_t)k, k % 2 ? 3072 : 1024);
	reach(&groups[1], 700 * 1024 / k, 1000);
	reach(&groups[2], CHURN_BLOCKS * CHURN_SIZE, CHURN_SIZE);
}

static int exists(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

int main(int argc, char **argv)
{
	const char *ctl = argc > 1 ? argv[1] : ".";
	long period = argc > 2 ? atol(argv[2]) : 0;
	uint64_t started;
	unsigned k = 1, turn = 0;

	*(void **)&reg = dlsym(RTLD_DEFAULT, "ta_group_register");
	*(void **)&enter = dlsym(RTLD_DEFAULT, "ta_group_enter");
	*(void **)&guard_exit = dlsym(RTLD_DEFAULT, "ta_guard_exit");
	*(void **)&stats = dlsym(RTLD_DEFAULT, "ta_group_stats");
	*(void **)&peak = dlsym(RTLD_DEFAULT, "ta_group_peak");
	if (!reg || !enter || !guard_exit || !stats || !peak) {
		fprintf(stderr, "phases: run with libtrackalloc preloaded\n");
		return 2;
	}
	for (size_t i = 0; i < NGROUPS; i++)
		if (!(groups[i].g = reg(groups[i].name, groups[i].tags, groups[i].ntags))) {
			fprintf(stderr, "phases: cannot register %s\n", groups[i].name);
			return 1;
		}
	printf("PID %d\n", (int)getpid());
	phase(k);
	report(k);
	started = mono_ns();
	while (!exists(ctl, "exit")) {
		char next[32];
		struct group *c = &groups[2];
		struct timespec ts = { 0, 2 * 1000000L };
		unsigned slot = turn++ % CHURN_BLOCKS;
		ta_guard guard;
		void *p;

		snprintf(next, sizeof(next), "next-%u", k + 1);
		if (exists(ctl, next) ||
		    (period > 0 && mono_ns() - started >= (uint64_t)period * 1000000u)) {
			phase(++k);
			report(k);
			started = mono_ns();
			continue;
		}
		/* the churn: a new block, then the old one freed */
		guard = enter(c->g);
		p = malloc(CHURN_SIZE);
		guard_exit(&guard);
		if (!p)
			return 1;
		free(c->blocks[slot]);
		c->blocks[slot] = p;
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < NGROUPS; i++)
		while (groups[i].n)
			pop(&groups[i]);
	printf("DONE\n");
	return 0;
}
