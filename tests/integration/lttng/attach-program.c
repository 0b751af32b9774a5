/* SPDX-License-Identifier: MIT */
/*
 * A long-running program for the attach tests (attach.sh): it registers a
 * tagged group, prints its pid and READY, then allocates in the group every
 * 2 ms until SECONDS have passed or CTLDIR/exit exists. Run with
 * libtrackalloc preloaded, so that TRACKALLOC_LTTNG=auto defers LTTng-UST.
 *
 *   attach-program SECONDS [CTLDIR]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <trackalloc.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct ta_tag tags[] = { { "role", "attached" } };
	double end = now_s() + (argc > 1 ? atof(argv[1]) : 10);
	char exit_path[4096];
	ta_group *g = ta_group_register("attach-worker", tags, 1);
	void *keep[8] = { NULL };
	unsigned long i;

	if (!g) {
		perror("ta_group_register");
		return 1;
	}
	snprintf(exit_path, sizeof(exit_path), "%s/exit", argc > 2 ? argv[2] : "/nonexistent");
	printf("PID %d\nREADY\n", (int)getpid());
	fflush(stdout);
	for (i = 0; now_s() < end && access(exit_path, F_OK) != 0; i++) {
		TA_GROUP_SCOPE(g);
		free(keep[i % 8]);
		keep[i % 8] = malloc(200 + i % 100);
		usleep(2000);
	}
	for (i = 0; i < 8; i++)
		free(keep[i]);
	printf("DONE\n");
	return 0;
}
