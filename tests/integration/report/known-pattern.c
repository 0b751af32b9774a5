/* SPDX-License-Identifier: MIT */
/*
 * known-pattern: allocate a known pattern in trackalloc groups, then print
 * what the program's own counters (ta_group_stats) say, with the true peak
 * of live bytes it computed itself, one machine-readable line per group:
 *
 *   KP <pid> <id> <name> <tags> <allocs> <frees> <bytes_allocated> <bytes_freed>
 *      <live_bytes> <live_blocks> <peak_live_bytes>        (tab-separated)
 *
 * The pattern:
 *   alpha {team=core,tier=hot}: 100 blocks of 1000 B (held --hold-ms so
 *       group_stats samples see the peak), 60 freed, one moved to beta by a
 *       realloc: peak 100000, 39 blocks (39000 B) left;
 *   beta {kind=realloc}: realloc chains (growing, shrinking, one byte at a
 *       time, realloc(NULL, n), realloc(p, 0)) and alpha's block adopted;
 *   gamma (no tags): 50 blocks of 256 B, 30 freed by a worker thread;
 *   delta {thread=worker}: calloc, aligned_alloc, posix_memalign, memalign,
 *       malloc on the worker; two of them freed by the main thread;
 *   churn (--churn N): N malloc/free pairs, to overflow small trace buffers;
 *   early {phase=pre} (--wait-file F): 10 blocks of 500 B allocated before
 *       waiting for F to exist (a late session starts meanwhile), freed at
 *       the end, so the trace holds their frees but not their allocations.
 *       Once F exists the program calls ta_statedump(), the documented way
 *       to make sure a late session learns the groups.
 *
 * --statedump: call ta_statedump() once more at the end (group metadata
 * appears twice in the trace). --linger-ms MS: sleep before printing, so
 * that group_stats samples catch the final counters.
 *
 *   known-pattern [--hold-ms MS] [--churn N] [--wait-file FILE] [--statedump]
 *                 [--linger-ms MS]
 *
 * Exit status 1 when the program's own bookkeeping disagrees with
 * ta_group_stats (a library bug), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <trackalloc.h>

enum { ALPHA, BETA, GAMMA, DELTA, CHURN, EARLY, NGROUPS };

struct expect {
	ta_group *g;
	uint64_t live, peak;
};

static struct expect ex[NGROUPS];
static void *gamma_blocks[50];
static void *delta_blocks[5];
/* Churned blocks go through here: GCC drops a malloc whose block is only freed. */
static void *volatile churn_sink;

/* The program's own account of a group's live bytes, and their peak. */
static void note(int gi, int64_t delta)
{
	ex[gi].live += (uint64_t)delta;
	if (ex[gi].live > ex[gi].peak)
		ex[gi].peak = ex[gi].live;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

static void *worker(void *arg)
{
	(void)arg;
	{
		TA_GROUP_SCOPE(ex[DELTA].g);

		/* cross-thread frees: credited to gamma, their source group */
		for (int i = 0; i < 30; i++) {
			free(gamma_blocks[i]);
			note(GAMMA, -256);
		}
		delta_blocks[0] = calloc(10, 100);
		note(DELTA, 1000);
		delta_blocks[1] = aligned_alloc(64, 640);
		note(DELTA, 640);
		if (posix_memalign(&delta_blocks[2], 128, 1280) == 0)
			note(DELTA, 1280);
		delta_blocks[3] = memalign(256, 512);
		note(DELTA, 512);
		delta_blocks[4] = malloc(70);
		note(DELTA, 70);
	}
	return NULL;
}

static void run_pattern(unsigned hold_ms, unsigned long churn)
{
	void *a[100], *p, *q;
	pthread_t th;
	size_t prev;

	{
		TA_GROUP_SCOPE(ex[ALPHA].g);
		for (int i = 0; i < 100; i++) {
			a[i] = malloc(1000);
			note(ALPHA, 1000);
		}
	}
	sleep_ms(hold_ms);
	for (int i = 0; i < 60; i++) {
		free(a[i]);
		note(ALPHA, -1000);
	}
	{
		TA_GROUP_SCOPE(ex[BETA].g);
		p = malloc(100);
		note(BETA, 100);
		prev = 100;
		for (size_t s = 200; s <= 12800; s *= 2) {
			p = realloc(p, s);
			note(BETA, (int64_t)s - (int64_t)prev);
			prev = s;
		}
		p = realloc(p, 50); /* shrinks: kept until exit */
		note(BETA, 50 - (int64_t)prev);
		q = realloc(NULL, 300); /* an alloc */
		note(BETA, 300);
		q = realloc(q, 0); /* a free (glibc semantics: returns NULL) */
		note(BETA, -300);
		q = NULL;
		for (size_t s = 1; s <= 500; s++) { /* one byte at a time */
			q = realloc(q, s);
			note(BETA, 1);
		}
		free(q);
		note(BETA, -500);
		a[99] = realloc(a[99], 3000); /* alpha's block, now beta's */
		note(ALPHA, -1000);
		note(BETA, 3000);
	}
	{
		TA_GROUP_SCOPE(ex[GAMMA].g);
		for (int i = 0; i < 50; i++) {
			gamma_blocks[i] = malloc(256);
			note(GAMMA, 256);
		}
	}
	pthread_create(&th, NULL, worker, NULL); /* from root: its stack is not gamma's */
	pthread_join(th, NULL);
	free(delta_blocks[1]); /* cross-thread frees of delta's blocks */
	note(DELTA, -640);
	free(delta_blocks[2]);
	note(DELTA, -1280);
	if (churn) {
		TA_GROUP_SCOPE(ex[CHURN].g);
		for (unsigned long i = 0; i < churn; i++) {
			churn_sink = malloc(32 + i % 64);
			note(CHURN, (int64_t)(32 + i % 64));
			free(churn_sink);
			note(CHURN, -(int64_t)(32 + i % 64));
		}
	}
}

static int print_group(int gi, const char *name)
{
	const struct ta_tag *tags;
	size_t ntags = ta_group_tags(ex[gi].g, &tags);
	struct ta_stats st;
	char tagbuf[512] = "";

	ta_group_stats(ex[gi].g, &st);
	for (size_t i = 0; i < ntags; i++) {
		size_t len = strlen(tagbuf);

		snprintf(tagbuf + len, sizeof(tagbuf) - len, "%s%s=%s", i ? "," : "", tags[i].key,
		         tags[i].value);
	}
	printf("KP\t%d\t%u\t%s\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\n", (int)getpid(),
	       ta_group_id(ex[gi].g), name, tagbuf, (unsigned long long)st.allocated_objects,
	       (unsigned long long)st.freed_objects, (unsigned long long)st.allocated_bytes,
	       (unsigned long long)st.freed_bytes,
	       (unsigned long long)(st.allocated_bytes - st.freed_bytes),
	       (unsigned long long)(st.allocated_objects - st.freed_objects),
	       (unsigned long long)ex[gi].peak);
	if (st.allocated_bytes - st.freed_bytes != ex[gi].live) {
		fprintf(stderr, "known-pattern: %s: ta_group_stats says %llu live bytes, the program "
		                "counted %llu\n", name,
		        (unsigned long long)(st.allocated_bytes - st.freed_bytes),
		        (unsigned long long)ex[gi].live);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct ta_tag alpha_tags[] = { { "team", "core" }, { "tier", "hot" } };
	static const struct ta_tag beta_tags[] = { { "kind", "realloc" } };
	static const struct ta_tag delta_tags[] = { { "thread", "worker" } };
	static const struct ta_tag churn_tags[] = { { "kind", "churn" } };
	static const struct ta_tag early_tags[] = { { "phase", "pre" } };
	static const char *const names[NGROUPS] = { "alpha", "beta", "gamma", "delta", "churn",
	                                            "early" };
	unsigned hold_ms = 300, linger_ms = 0;
	bool statedump = false;
	unsigned long churn = 0;
	const char *wait_file = NULL;
	void *early[10];
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold-ms") && i + 1 < argc)
			hold_ms = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--churn") && i + 1 < argc)
			churn = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--wait-file") && i + 1 < argc)
			wait_file = argv[++i];
		else if (!strcmp(argv[i], "--linger-ms") && i + 1 < argc)
			linger_ms = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--statedump"))
			statedump = true;
		else {
			fprintf(stderr, "usage: known-pattern [--hold-ms MS] [--churn N] "
			                "[--wait-file FILE] [--statedump] [--linger-ms MS]\n");
			return 2;
		}
	}
	ex[ALPHA].g = ta_group_register("alpha", alpha_tags, 2);
	ex[BETA].g = ta_group_register("beta", beta_tags, 1);
	ex[GAMMA].g = ta_group_register("gamma", NULL, 0);
	ex[DELTA].g = ta_group_register("delta", delta_tags, 1);
	ex[CHURN].g = churn ? ta_group_register("churn", churn_tags, 1) : NULL;
	ex[EARLY].g = wait_file ? ta_group_register("early", early_tags, 1) : NULL;
	for (int gi = 0; gi < NGROUPS; gi++) {
		if (!ex[gi].g && !(gi == CHURN && !churn) && !(gi == EARLY && !wait_file)) {
			perror("ta_group_register");
			return 1;
		}
	}
	if (wait_file) {
		{
			TA_GROUP_SCOPE(ex[EARLY].g);
			for (int i = 0; i < 10; i++) {
				early[i] = malloc(500);
				note(EARLY, 500);
			}
		}
		printf("KP-READY\n");
		fflush(stdout);
		while (access(wait_file, F_OK) != 0)
			sleep_ms(10);
		if (ta_statedump() != 0)
			fprintf(stderr, "known-pattern: ta_statedump failed\n");
	}
	run_pattern(hold_ms, churn);
	if (wait_file) {
		for (int i = 0; i < 10; i++) {
			free(early[i]);
			note(EARLY, -500);
		}
	}
	if (statedump && ta_statedump() != 0)
		fprintf(stderr, "known-pattern: ta_statedump failed\n");
	sleep_ms(linger_ms);
	for (int gi = 0; gi < NGROUPS; gi++)
		if (ex[gi].g)
			bad |= print_group(gi, names[gi]);
	printf("KP-END\n");
	return bad;
}
