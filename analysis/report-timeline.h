/* SPDX-License-Identifier: MIT */
/*
 * A group's live-bytes timeline, sampled so that its size stays bounded
 * whatever the trace's length (report-timeline.c). Used by the model.
 */
#ifndef TA_REPORT_TIMELINE_H
#define TA_REPORT_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

/* Most rows a timeline holds before it is thinned out. */
#define RP_TIMELINE_MAX 2000

struct rp_point {
	int64_t ts;
	uint64_t live;
};

/*
 * A row when the value changed and at least gap_ns passed since the row
 * before. When RP_TIMELINE_MAX rows are reached, pairs of rows merge into
 * the larger one and gap_ns grows. Zero-initialized, then gap_ns set, it is
 * an empty timeline; free pts when done.
 */
struct rp_timeline {
	struct rp_point *pts;
	uint32_t n, cap;
	int64_t gap_ns;
	bool pending; /* pend holds a change not written yet */
	struct rp_point pend;
};

/* The value became @live at @ts. false: out of memory. */
bool rp_timeline_update(struct rp_timeline *tl, int64_t ts, uint64_t live);

/* The last value, @live, held until @end_ts: write what is pending and a
 * final row. Call once, after the last update. false: out of memory. */
bool rp_timeline_finish(struct rp_timeline *tl, int64_t end_ts, uint64_t live);

#endif /* TA_REPORT_TIMELINE_H */
