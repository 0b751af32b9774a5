/* SPDX-License-Identifier: MIT */
/*
 * The sites panel of `trackalloc top --stacks`. The report's stacks model
 * holds every sampled block still live; collapsing it (symbolising each
 * new address once: the symboliser is kept across collapses) is done at
 * most once per refresh and only when samples arrived.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-collapse.h"
#include "report-stacks.h"
#include "report-stacks-decode.h"
#include "report-symbols.h"
#include "top-model.h"
#include "top-stacks.h"
#include "top-view.h"

struct ts_stacks {
	struct rs_model m;
	struct rs_decoder *d;
	struct rsym *sym;
	struct rc_result res;
	bool have_res;
	uint64_t seen;     /* samples (alloc and free) at the last collapse */
	double last;
};

struct ts_stacks *ts_new(void)
{
	struct ts_stacks *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	rs_model_init(&t->m);
	t->d = rs_decoder_new(&t->m);
	t->sym = rsym_new();
	if (!t->d || !t->sym) {
		ts_free(t);
		return NULL;
	}
	t->last = -1e9;
	return t;
}

void ts_free(struct ts_stacks *t)
{
	if (!t)
		return;
	if (t->have_res)
		rc_free(&t->res);
	rs_decoder_free(t->d);
	rsym_free(t->sym);
	rs_model_fini(&t->m);
	free(t);
}

struct rs_decoder *ts_decoder(struct ts_stacks *t)
{
	return t->d;
}

static uint64_t samples(const struct rs_model *m)
{
	uint64_t n = m->alloc_samples;

	for (size_t i = 0; i < m->nprocs; i++)
		n += m->procs[i]->free_samples;
	return n;
}

void ts_update(struct ts_stacks *t, double now, double min_s)
{
	uint64_t n = samples(&t->m);

	if (n == t->seen || now - t->last < min_s)
		return;
	if (t->have_res)
		rc_free(&t->res);
	rs_model_finish(&t->m);
	t->have_res = rc_collapse_with(&t->m, t->sym, &t->res, false);
	if (!t->have_res)
		rc_free(&t->res); /* out of memory: no panel this time */
	t->seen = n;
	t->last = now;
}

static const struct rc_group *find_group(const struct ts_stacks *t, int64_t pid, uint32_t gid,
                                         const struct rc_proc **cpp)
{
	if (!t->have_res)
		return NULL;
	for (size_t i = 0; i < t->res.nprocs; i++) {
		const struct rc_proc *cp = &t->res.procs[i];

		if (cp->src->pid != pid || gid >= cp->ngroups || !cp->groups[gid].nsites)
			continue;
		*cpp = cp;
		return &cp->groups[gid];
	}
	return NULL;
}

/* "func file:line (module)" or "module+0xoffset" into @buf. */
static void loc_text(const struct rc_proc *cp, uint32_t li, char *buf, size_t len)
{
	const struct rc_loc *l = &cp->locs[li];
	const struct rs_module *md = l->module >= 0 ? &cp->src->modules[l->module] : NULL;

	if (!l->func)
		snprintf(buf, len, "%s", l->label ? l->label : "?");
	else if (l->file)
		snprintf(buf, len, "%s %s:%u (%s)", l->func, rsym_basename(l->file), l->line,
		         md ? rsym_basename(md->path) : "?");
	else
		snprintf(buf, len, "%s (%s)", l->func, md ? rsym_basename(md->path) : "?");
}

size_t ts_lines(const struct ts_stacks *t, int64_t pid, uint32_t gid, size_t max, size_t width,
                char **lines)
{
	const struct rc_proc *cp = NULL;
	const struct rc_group *g = find_group(t, pid, gid, &cp);
	char live[32], alloc[32], site[512], line[1024];
	size_t n = 0;

	if (!max)
		return 0;
	if (!g) {
		snprintf(line, sizeof(line),
		         "  no sampled stacks for this group (the process samples them when it "
		         "runs with TRACKALLOC_STACKS=BYTES)");
		tv_fit(lines[n++], line, width);
		return n;
	}
	snprintf(line, sizeof(line), "  %10s %10s  %s  (%u sites, estimates from samples)",
	         "LIVE", "ALLOCATED", "SITE", g->nsites);
	tv_fit(lines[n++], line, width);
	for (uint32_t i = 0; i < g->nsites && n < max; i++) {
		const struct rc_site *s = &g->sites[i];

		tv_bytes(live, sizeof(live), s->c.live_estimate);
		tv_bytes(alloc, sizeof(alloc), s->c.alloc_estimate);
		loc_text(cp, s->loc, site, sizeof(site));
		snprintf(line, sizeof(line), "  %10s %10s  %s", live, alloc, site);
		tv_fit(lines[n++], line, width);
	}
	return n;
}

void ts_print_all(const struct ts_stacks *t, const struct tm_model *m, FILE *out, unsigned top)
{
	char site[512];

	if (!t->have_res)
		return;
	for (size_t i = 0; i < t->res.nprocs; i++) {
		const struct rc_proc *cp = &t->res.procs[i];
		const struct tm_proc *p = tm_find_proc(m, cp->src->pid);

		for (uint32_t gid = 0; gid < cp->ngroups; gid++) {
			const struct rc_group *g = &cp->groups[gid];
			const char *name = p && gid < p->ngroups ? p->groups[gid].name : NULL;

			if (!g->nsites)
				continue;
			fprintf(out, "sites of %s[%" PRId64 "] group ", p && p->procname ? p->procname : "?",
			        cp->src->pid);
			if (name)
				fprintf(out, "%s", name);
			else
				fprintf(out, "#%u", gid);
			fprintf(out, ": live ~%" PRIu64 " bytes, allocated ~%" PRIu64 " bytes (estimates)\n",
			        g->total.live_estimate, g->total.alloc_estimate);
			fprintf(out, "  %14s %14s  SITE\n", "LIVE_BYTES", "ALLOCATED");
			for (uint32_t k = 0; k < g->nsites && k < top; k++) {
				const struct rc_site *s = &g->sites[k];

				loc_text(cp, s->loc, site, sizeof(site));
				fprintf(out, "  %14" PRIu64 " %14" PRIu64 "  %s\n", s->c.live_estimate,
				        s->c.alloc_estimate, site);
			}
		}
	}
}
