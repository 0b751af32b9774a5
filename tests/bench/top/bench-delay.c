/* SPDX-License-Identifier: MIT */
/*
 * bench-delay: allocations at known times, for the delay from an
 * allocation to `trackalloc top` showing it. Runs preloaded (the API by
 * dlsym). Every STEP_MS it allocates one more block into the group
 * "probe", each of a size that makes the group's live bytes unique, and
 * prints when (CLOCK_MONOTONIC, the clock Python's time.monotonic reads):
 *
 *   PID <pid>
 *   STEP <k> <ns> <live bytes of probe>
 *
 *   bench-delay STEPS STEP_MS CTLDIR
 *
 * The steps start when CTLDIR/go exists; it ends after STEPS steps.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <trackalloc.h> /* types only */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	unsigned steps = argc > 1 ? (unsigned)atoi(argv[1]) : 15;
	long step_ms = argc > 2 ? atol(argv[2]) : 1300;
	const char *ctl = argc > 3 ? argv[3] : ".";
	ta_group *(*reg)(const char *, const struct ta_tag *, size_t);
	ta_guard (*enter)(ta_group *);
	int (*guard_exit)(ta_guard *);
	uint64_t live = 0;
	ta_group *g;
	char go[4096];

	*(void **)&reg = dlsym(RTLD_DEFAULT, "ta_group_register");
	*(void **)&enter = dlsym(RTLD_DEFAULT, "ta_group_enter");
	*(void **)&guard_exit = dlsym(RTLD_DEFAULT, "ta_guard_exit");
	if (!reg || !enter || !guard_exit || !(g = reg("probe", NULL, 0))) {
		fprintf(stderr, "bench-delay: run with libtrackalloc preloaded\n");
		return 2;
	}
	printf("PID %d\n", (int)getpid());
	fflush(stdout);
	snprintf(go, sizeof(go), "%s/go", ctl);
	while (access(go, F_OK) != 0) {
		/* an attach request acts at a malloc (volatile: not folded away) */
		void *volatile q = malloc(32);

		free(q);
		nap_ms(5);
	}
	for (unsigned k = 1; k <= steps; k++) {
		size_t size = 4096 * k + 17;
		ta_guard guard;
		uint64_t t;
		void *p;

		nap_ms(step_ms);
		guard = enter(g);
		t = mono_ns();
		p = malloc(size);
		guard_exit(&guard);
		if (!p)
			return 1;
		memset(p, 1, size);
		live += size;
		printf("STEP %u %llu %llu\n", k, (unsigned long long)t, (unsigned long long)live);
		fflush(stdout);
	}
	nap_ms(step_ms);
	return 0;
}
