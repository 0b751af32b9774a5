/* SPDX-License-Identifier: MIT */
/*
 * The model's part of the two forms of full traces (tracepoints/EVENTS.md):
 * a process's calls come from its per-call events (alloc, alloc_aligned,
 * free, realloc) or from its trackalloc:batch events, never both, and what
 * its batches could not tell is counted.
 *
 * A session may record both forms of the same calls. Per-call events win
 * for a process that has any: they come at the calls' own times, while a
 * batch comes up to a horizon after them, so normally the process's first
 * per-call event is read before its first batch and no batch of it is
 * decoded. When batches came first (per-call events enabled later), the
 * figures they gave are cleared at the first per-call event, which from
 * then on are the process's only source.
 */
#include <stdlib.h>
#include <string.h>

#include "report-model.h"

/* Forget what @p's calls said: counts, live blocks, timelines. */
static void clear_call_figures(struct rp_proc *p)
{
	for (uint32_t i = 0; i < p->dense_cap; i++) {
		struct rp_group *g = p->dense[i];

		if (!g)
			continue;
		memset(&g->ev, 0, sizeof(g->ev));
		g->unknown_frees = g->unknown_freed_bytes = 0;
		free(g->tl_ev.pts);
		memset(&g->tl_ev, 0, sizeof(g->tl_ev));
		g->tl_ev.gap_ns = p->gap_ns;
	}
	for (uint32_t i = 0; i < p->nsparse; i++) {
		struct rp_group *g = p->sparse[i];

		memset(&g->ev, 0, sizeof(g->ev));
		g->unknown_frees = g->unknown_freed_bytes = 0;
		free(g->tl_ev.pts);
		memset(&g->tl_ev, 0, sizeof(g->tl_ev));
		g->tl_ev.gap_ns = p->gap_ns;
	}
	free(p->blocks);
	p->blocks = NULL;
	p->bmask = p->bcount = 0;
	p->bshift = 0;
	memset(&p->tot_ev, 0, sizeof(p->tot_ev));
	p->call_events = p->unknown_frees = p->inconsistent = 0;
	/* what its batches lost no longer matters (its lossy mark stays: it
	 * may come from discarded events too) */
	p->batch.lost_bytes = p->batch.bad_bytes = p->batch.late = 0;
}

bool rp_proc_use_form(struct rp_model *m, struct rp_proc *p, enum rp_form form, bool *cleared)
{
	*cleared = false;
	if (p->form == form)
		return true;
	if (form == RP_FORM_BATCHES && p->form == RP_FORM_EVENTS) {
		p->batch.ignored++;
		m->batch.ignored++;
		return false;
	}
	if (p->form == RP_FORM_BATCHES) {
		clear_call_figures(p);
		*cleared = true;
	}
	p->form = form;
	return true;
}

void rp_model_set_horizon(struct rp_model *m, int64_t ns)
{
	m->batch_horizon_ns = ns;
}

static void add_counts(struct rp_batch_counts *to, const struct rp_batch_counts *c)
{
	to->batches += c->batches;
	to->ignored += c->ignored;
	to->calls += c->calls;
	to->bytes += c->bytes;
	to->lost_bytes += c->lost_bytes;
	to->bad_bytes += c->bad_bytes;
	to->late += c->late;
}

void rp_model_add_batch(struct rp_model *m, struct rp_proc *p, const struct rp_batch_counts *c)
{
	add_counts(&p->batch, c);
	add_counts(&m->batch, c);
	if (c->lost_bytes || c->bad_bytes)
		p->lossy = true;
}
