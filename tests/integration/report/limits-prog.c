/* SPDX-License-Identifier: MIT */
/*
 * limits-prog: one group, "bounded", with a soft limit of 1 MiB and a hard
 * limit of 8 MiB, crossed twice by one thread, for the report's limits test
 * (recorded with trackalloc record). Round 1 allocates 20 blocks of 64 KiB
 * (the 17th crosses: 1114112 live bytes) and frees them all: the group is
 * back below its soft limit, and the thread's balance, 1.25 MiB down, is
 * more than TA_PEAK_PRECISION, so it is shared and the crossing re-arms
 * (trackalloc.h, ta_group_limit_set). Round 2 allocates 16 blocks of 96 KiB
 * (the 11th crosses: 1081344) and frees them. The program prints, one
 * tab-separated line each:
 *
 *   LIM PID <pid>
 *   LIM GROUP <group id> <name>
 *   LIM LIMITS <soft> <hard>
 *   LIM CROSS <n> <live bytes the callback was given>      (one per crossing)
 *   LIM PEAK <ta_group_peak>
 *   LIM-END
 *
 * A pause of 150 ms before, between and after the rounds lets group_stats
 * samples (every 100 ms) see each phase. Exit status 1 when the crossings
 * are not the two expected, with the live bytes expected.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <trackalloc.h>

#define SOFT (1u << 20)
#define HARD (8u << 20)
#define MAX_CROSSINGS 8

static uint64_t crossed[MAX_CROSSINGS];
static unsigned ncrossed;

static void on_soft(ta_group *g, uint64_t live, void *ctx)
{
	(void)g, (void)ctx;
	if (ncrossed < MAX_CROSSINGS)
		crossed[ncrossed] = live;
	ncrossed++;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* @n blocks of @size bytes in the active group, touched, then freed. */
static int round_trip(unsigned n, size_t size)
{
	void *blocks[32];

	for (unsigned i = 0; i < n; i++) {
		blocks[i] = malloc(size);
		if (!blocks[i]) {
			fprintf(stderr, "limits-prog: malloc(%zu) failed\n", size);
			return -1;
		}
		memset(blocks[i], (int)i, size);
	}
	pause_ms(150);
	for (unsigned i = 0; i < n; i++)
		free(blocks[i]);
	return 0;
}

int main(void)
{
	ta_group *g = ta_group_register("bounded", NULL, 0);
	uint64_t peak = 0, want[2] = { 17 * 65536, 11 * 98304 };
	ta_guard guard;
	int bad = 0;

	if (!g || ta_group_limit_set(g, SOFT, HARD, on_soft, NULL) != 0) {
		fprintf(stderr, "limits-prog: cannot register the group or set its limits\n");
		return 1;
	}
	pause_ms(150);
	guard = ta_group_enter(g);
	if (round_trip(20, 64 << 10) != 0 || (pause_ms(150), round_trip(16, 96 << 10)) != 0)
		bad = 1;
	ta_guard_exit(&guard);
	pause_ms(150);
	if (ta_group_peak(g, &peak) != 0)
		bad = 1;
	printf("LIM\tPID\t%d\n", (int)getpid());
	printf("LIM\tGROUP\t%u\t%s\n", ta_group_id(g), ta_group_name(g));
	printf("LIM\tLIMITS\t%u\t%u\n", SOFT, HARD);
	for (unsigned i = 0; i < ncrossed && i < MAX_CROSSINGS; i++) {
		printf("LIM\tCROSS\t%u\t%llu\n", i + 1, (unsigned long long)crossed[i]);
		if (i < 2 && crossed[i] != want[i]) {
			fprintf(stderr, "limits-prog: crossing %u at %llu live bytes, expected %llu\n",
			        i + 1, (unsigned long long)crossed[i], (unsigned long long)want[i]);
			bad = 1;
		}
	}
	printf("LIM\tPEAK\t%llu\n", (unsigned long long)peak);
	puts("LIM-END");
	if (ncrossed != 2) {
		fprintf(stderr, "limits-prog: %u crossings, expected 2\n", ncrossed);
		bad = 1;
	}
	return bad;
}
