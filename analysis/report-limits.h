/* SPDX-License-Identifier: MIT */
/*
 * The model's in-process peaks and limit crossings (report-limits.c): what
 * the peak_bytes field of group_stats and the group_limit events say, kept
 * apart from the trace-computed figures of report-model.c. Decode calls the
 * handlers; outputs read rp_group's inproc_peak and rp_proc's crossings.
 */
#ifndef TA_REPORT_LIMITS_H
#define TA_REPORT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rp_proc;

/* One group_limit event: group @gid went above its soft limit at @ts. */
struct rp_crossing {
	int64_t ts;
	uint32_t gid;
	uint64_t live; /* the group's live bytes just after the allocation */
	uint64_t soft, hard; /* the limits in force (0: none) */
};

/*
 * A group_stats sample of group @gid carried peak_bytes = @peak: the
 * group's in-process peak (ta_group_peak) is the largest one seen, so a
 * ta_group_peak_reset in the program does not lower it. false: out of
 * memory.
 */
bool rp_on_peak(struct rp_proc *p, uint32_t gid, uint64_t peak);

/*
 * A group_limit event. Crossings are kept in time order per process (events
 * come time-ordered; one out of order is put in its place), every one of
 * them: memory grows with their number, 32 bytes each (a crossing re-arms
 * only after the group went back below its soft limit). false: out of
 * memory.
 */
bool rp_on_limit(struct rp_proc *p, int64_t ts, uint32_t gid, uint64_t live, uint64_t soft,
                 uint64_t hard);

#endif /* TA_REPORT_LIMITS_H */
