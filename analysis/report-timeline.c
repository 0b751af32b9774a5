/* SPDX-License-Identifier: MIT */
/*
 * Sampled live-bytes timelines: bounded in rows, so that a long trace
 * costs the same memory and plotting time as a short one, while the peaks
 * stay visible.
 */
#include <stdlib.h>

#include "report-timeline.h"

static bool tl_push(struct rp_timeline *tl, int64_t ts, uint64_t live)
{
	if (tl->n == tl->cap) {
		uint32_t ncap = tl->cap ? tl->cap * 2 : 8;
		struct rp_point *n = realloc(tl->pts, (size_t)ncap * sizeof(*n));

		if (!n)
			return false;
		tl->pts = n;
		tl->cap = ncap;
	}
	tl->pts[tl->n].ts = ts;
	tl->pts[tl->n].live = live;
	tl->n++;
	if (tl->n >= RP_TIMELINE_MAX) {
		/* Thin out: keep the first and last rows, merge the others in
		 * pairs keeping the larger value (peaks stay visible), and space
		 * later rows like the survivors. */
		struct rp_point *p = tl->pts;
		uint32_t w = 1, r;
		int64_t span = p[tl->n - 1].ts - p[0].ts;

		for (r = 1; r + 1 < tl->n - 1; r += 2)
			p[w++] = p[r].live >= p[r + 1].live ? p[r] : p[r + 1];
		for (; r < tl->n; r++)
			p[w++] = p[r];
		tl->n = w;
		tl->gap_ns = tl->gap_ns * 2 > span / (RP_TIMELINE_MAX / 2) ?
		                     tl->gap_ns * 2 :
		                     span / (RP_TIMELINE_MAX / 2);
	}
	return true;
}

bool rp_timeline_update(struct rp_timeline *tl, int64_t ts, uint64_t live)
{
	const struct rp_point *last;

	if (tl->n == 0)
		return tl_push(tl, ts, live);
	last = &tl->pts[tl->n - 1];
	if (live == (tl->pending ? tl->pend.live : last->live))
		return true;
	if (ts - last->ts < tl->gap_ns) {
		tl->pending = true;
		tl->pend.ts = ts;
		tl->pend.live = live;
		return true;
	}
	/* A coalesced value that then held for a whole gap gets its own row,
	 * so the picture does not stretch the row before it over that time. */
	if (tl->pending && ts - tl->pend.ts >= tl->gap_ns && !tl_push(tl, tl->pend.ts, tl->pend.live))
		return false;
	tl->pending = false;
	return tl_push(tl, ts, live);
}

bool rp_timeline_finish(struct rp_timeline *tl, int64_t end_ts, uint64_t live)
{
	if (tl->pending) {
		tl->pending = false;
		if (!tl_push(tl, tl->pend.ts, tl->pend.live))
			return false;
	}
	if (tl->n && tl->pts[tl->n - 1].ts >= end_ts && tl->pts[tl->n - 1].live == live)
		return true;
	if (tl->n && tl->pts[tl->n - 1].ts > end_ts)
		end_ts = tl->pts[tl->n - 1].ts;
	return tl_push(tl, end_ts, live);
}
