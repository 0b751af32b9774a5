/* SPDX-License-Identifier: MIT */
/*
 * What the limit tests share (test-limits-soft.c, test-limits-hard.c): the
 * group's exact live bytes, struct ta_diag_ext's refusal count, and a soft
 * callback that records each call and does what a program's would (it
 * allocates, frees a cache, calls the API, may raise its own limit).
 */
#ifndef TA_LIMITS_TEST_H
#define TA_LIMITS_TEST_H

#include <stdint.h>

#include "ta-check.h"

#define KIB 1024u

static inline uint64_t live_of(const ta_group *g)
{
	struct ta_stats s = stats_of(g);

	return s.allocated_bytes - s.freed_bytes;
}

/* ta_diag_ext.limit_failures; no assertion (also read inside groups). */
static inline uint64_t refusals(void)
{
	struct ta_diag_ext d;

	if (ta_diag_ext_read(&d, sizeof(d)) != 0)
		return UINT64_MAX / 2;
	return d.limit_failures;
}

#define MAXCALLS 64

struct soft_log {
	ta_group *expect_g;
	int calls;
	uint64_t live[MAXCALLS];      /* the callback's argument */
	uint64_t stats_live[MAXCALLS]; /* ta_group_stats from inside */
	int right_group, right_current, api_ok;
	/* a cache the callback trims, and a block it keeps per call */
	void **cache;
	size_t *ncache;
	void *kept[MAXCALLS];
	/* a new soft limit the callback sets, doubling (0: none) */
	uint64_t raise_to;
};

static inline void on_soft(ta_group *g, uint64_t live, void *ctx)
{
	struct soft_log *log = ctx;
	struct ta_stats st;
	uint64_t peak, soft, hard;
	int i = log->calls++;

	if (i >= MAXCALLS)
		return;
	log->live[i] = live;
	log->right_group += g == log->expect_g;
	log->right_current += ta_group_current() == log->expect_g;
	if (ta_group_stats(g, &st) == 0 && ta_group_peak(g, &peak) == 0 &&
	    ta_group_limit_get(g, &soft, &hard) == 0)
		log->api_ok++;
	log->stats_live[i] = st.allocated_bytes - st.freed_bytes;
	if (log->cache) {
		while (*log->ncache)
			tw.free(log->cache[--*log->ncache]);
	}
	/* the callback allocates: counted in the thread's active group, g */
	log->kept[i] = tw.malloc(100);
	if (log->raise_to) {
		if (ta_group_limit_set(g, log->raise_to, 0, on_soft, log) == 0)
			log->api_ok++;
		log->raise_to *= 2;
	}
}

#endif /* TA_LIMITS_TEST_H */
