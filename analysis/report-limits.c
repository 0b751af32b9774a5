/* SPDX-License-Identifier: MIT */
/*
 * In-process peaks and limit crossings, the model's part. These are what the
 * program itself saw (trackalloc.h, "Peaks and limits"), not what the trace
 * computes: a group_stats sample's peak_bytes is ta_group_peak() at that
 * moment, which counts blocks allocated before recording started and sees
 * highs between two samples; a group_limit event is a soft-limit crossing
 * as the library decided it.
 */
#include <stdlib.h>
#include <string.h>

#include "report-limits.h"
#include "report-model.h"

bool rp_on_peak(struct rp_proc *p, uint32_t gid, uint64_t peak)
{
	struct rp_group *g = rp_proc_group(p, gid);

	if (!g)
		return false;
	if (!g->inproc_peak_set || peak > g->inproc_peak)
		g->inproc_peak = peak;
	g->inproc_peak_set = true;
	return true;
}

bool rp_on_limit(struct rp_proc *p, int64_t ts, uint32_t gid, uint64_t live, uint64_t soft,
                 uint64_t hard)
{
	size_t i;

	if (!rp_proc_group(p, gid))
		return false;
	if (p->ncrossings == p->crossings_cap) {
		size_t ncap = p->crossings_cap ? p->crossings_cap * 2 : 16;
		struct rp_crossing *n = realloc(p->crossings, ncap * sizeof(*n));

		if (!n)
			return false;
		p->crossings = n;
		p->crossings_cap = ncap;
	}
	/* after every crossing not later than this one (the muxer orders
	 * events by time, so this is normally the end) */
	for (i = p->ncrossings; i > 0 && p->crossings[i - 1].ts > ts; i--)
		;
	memmove(&p->crossings[i + 1], &p->crossings[i], (p->ncrossings - i) * sizeof(*p->crossings));
	p->crossings[i] = (struct rp_crossing){ ts, gid, live, soft, hard };
	p->ncrossings++;
	return true;
}
