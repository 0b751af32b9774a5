/* SPDX-License-Identifier: MIT */
/*
 * The sampled-stacks report: per process the modules it mapped (path, load
 * address, what symbols were found), per group a table of its top sites,
 * each as function, file:line and module, with the functions it is inlined
 * into and its caller.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report-collapse.h"
#include "report-model.h"
#include "report-output.h"
#include "report-sites.h"
#include "report-stacks.h"
#include "report-symbols.h"

const char *rp_stacks_group_label(const struct rp_model *gm, int64_t pid, uint32_t gid,
                                  char *buf, size_t len)
{
	for (size_t i = 0; i < gm->nprocs; i++) {
		const struct rp_group *g;

		if (gm->procs[i]->pid != pid)
			continue;
		g = rp_proc_find_group(gm->procs[i], gid);
		if (g && g->name)
			return g->name;
	}
	snprintf(buf, len, "#%u", gid);
	return buf;
}

static const struct rp_group *find_group(const struct rp_model *gm, int64_t pid, uint32_t gid)
{
	for (size_t i = 0; i < gm->nprocs; i++)
		if (gm->procs[i]->pid == pid)
			return rp_proc_find_group(gm->procs[i], gid);
	return NULL;
}

static const char *proc_name(const struct rp_model *gm, int64_t pid)
{
	for (size_t i = 0; i < gm->nprocs; i++)
		if (gm->procs[i]->pid == pid)
			return gm->procs[i]->procname;
	return NULL;
}

/* @s with control characters (from a trace or a file) shown as '?'. */
static void put_clean(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

static const char *status_text(enum rsym_status st)
{
	switch (st) {
	case RSYM_DEBUG:
		return "debug info";
	case RSYM_SYMTAB:
		return "symbols only (no debug info found)";
	case RSYM_NONE:
		return "no symbols";
	case RSYM_MISMATCH:
		return "BUILD ID MISMATCH: rebuilt or moved, frames as module+offset";
	case RSYM_MISSING:
		return "cannot be read: frames as module+offset";
	case RSYM_NOT_FILE:
		return "not a file";
	default:
		return "no sampled frames";
	}
}

static void print_modules(FILE *out, const struct rc_result *r, const struct rs_proc *p)
{
	fprintf(out, "  modules:\n");
	for (uint32_t i = 0; i < p->nmodules; i++) {
		const struct rs_module *md = &p->modules[i];
		const char *dbg = NULL;
		enum rsym_status st = rsym_module_status(r->sym, md, &dbg);

		fprintf(out, "    %2u  ", i);
		put_clean(out, md->path ? md->path : "?");
		fprintf(out, "  at 0x%" PRIx64 "%s  %s", md->low, md->unloaded ? " (unloaded)" : "",
		        status_text(st));
		if (dbg) {
			fputs(" from ", out);
			put_clean(out, dbg);
		}
		fputc('\n', out);
	}
}

/* "func file:line (module)" or "module+0xoffset" */
static void put_loc(FILE *out, const struct rc_proc *cp, uint32_t li)
{
	const struct rc_loc *l = &cp->locs[li];
	const struct rs_module *md = l->module >= 0 ? &cp->src->modules[l->module] : NULL;

	if (!l->func) {
		put_clean(out, l->label);
		return;
	}
	put_clean(out, l->func);
	if (l->file) {
		fputc(' ', out);
		put_clean(out, rsym_basename(l->file));
		fprintf(out, ":%u", l->line);
	}
	fputs(" (", out);
	put_clean(out, md ? rsym_basename(md->path) : "?");
	fputc(')', out);
}

/* Which sites of @g to show: the top @top by each criterion. */
static bool *selected_sites(const struct rc_group *g, unsigned top, bool peak)
{
	bool *sel = calloc(g->nsites + 1, sizeof(*sel));
	uint32_t *ix = malloc((g->nsites + 1) * sizeof(*ix));

	if (!sel || !ix) {
		free(ix);
		free(sel);
		return NULL;
	}
	if (top >= g->nsites) {
		for (uint32_t i = 0; i < g->nsites; i++)
			sel[i] = true;
		free(ix);
		return sel;
	}
	for (int crit = 0; crit < 3; crit++) {
		uint32_t n = 0;

		if (crit == 1 && !peak)
			continue;
		for (uint32_t i = 0; i < g->nsites; i++)
			ix[n++] = i;
		/* a partial selection sort: top is small */
		for (uint32_t k = 0; k < top && k < n; k++) {
			uint32_t best = k;

			for (uint32_t j = k + 1; j < n; j++) {
				const struct rs_counts *a = &g->sites[ix[j]].c, *b = &g->sites[ix[best]].c;
				uint64_t va = crit == 0 ? a->live_estimate : crit == 1 ? a->peak_estimate :
				                                                          a->alloc_estimate;
				uint64_t vb = crit == 0 ? b->live_estimate : crit == 1 ? b->peak_estimate :
				                                                          b->alloc_estimate;

				if (va > vb)
					best = j;
			}
			uint32_t t = ix[k];
			ix[k] = ix[best];
			ix[best] = t;
			sel[ix[k]] = true;
		}
	}
	free(ix);
	return sel;
}

static void print_group_table(FILE *out, const struct rp_model *gm, const struct rc_proc *cp,
                              const struct rc_group *g, const struct rp_sites_opts *so,
                              bool trace)
{
	const struct rp_group *rg = find_group(gm, cp->src->pid, g->gid);
	bool *sel = selected_sites(g, so->top, trace);
	unsigned rank = 0, shown = 0;
	char buf[32];

	for (uint32_t i = 0; sel && i < g->nsites; i++)
		shown += sel[i];
	fprintf(out, "\n  group %u ", g->gid);
	put_clean(out, rp_stacks_group_label(gm, cp->src->pid, g->gid, buf, sizeof(buf)));
	/* as the group table shows them: the rule apart, then the other tags */
	if (rg && rp_group_rule(rg)) {
		fputs(" [rule ", out);
		put_clean(out, rp_group_rule(rg));
		fputc(']', out);
	}
	for (uint32_t t = 0, n = 0; rg && t < rg->ntags; t++) {
		if (!strcmp(rg->tags[t].key, RP_RULE_TAG))
			continue;
		fputs(n++ ? "," : " (", out);
		put_clean(out, rg->tags[t].key);
		fputc('=', out);
		put_clean(out, rg->tags[t].value);
	}
	for (uint32_t t = 0; rg && t < rg->ntags; t++)
		if (strcmp(rg->tags[t].key, RP_RULE_TAG)) {
			fputc(')', out);
			break;
		}
	fprintf(out, ": live ~%" PRIu64 " bytes (estimate), allocated ~%" PRIu64 " bytes, %u "
	        "site(s), %u stack(s)", g->total.live_estimate, g->total.alloc_estimate, g->nsites,
	        g->ncstacks);
	if (trace && g->state)
		fprintf(out, "; peak ~%" PRIu64 " bytes at %.6f s", g->state->peak_estimate,
		        gm->have_ts ? (double)(g->state->peak_ts - gm->first_ts) / 1e9 : 0.0);
	fprintf(out, "\n  top %u site(s) by live bytes at the end%s and by bytes allocated:\n",
	        shown, trace ? ", at the group's peak" : "");
	fprintf(out, "  %4s %12s %9s", "#", "live est", "live n");
	if (trace)
		fprintf(out, " %12s", "at peak");
	fprintf(out, " %14s %9s  site\n", "allocated est", "alloc n");
	for (uint32_t i = 0; sel && i < g->nsites; i++) {
		const struct rc_site *s = &g->sites[i];
		int indent = 4 + 1 + 12 + 1 + 9 + (trace ? 13 : 0) + 1 + 14 + 1 + 9 + 2 + 2;
		uint32_t li = s->loc;

		if (!sel[i])
			continue;
		fprintf(out, "  %4u %12" PRIu64 " %9" PRIu64, ++rank, s->c.live_estimate,
		        s->c.live_objects);
		if (trace)
			fprintf(out, " %12" PRIu64, s->c.peak_estimate);
		fprintf(out, " %14" PRIu64 " %9" PRIu64 "  ", s->c.alloc_estimate, s->c.alloc_objects);
		put_loc(out, cp, li);
		fputc('\n', out);
		/* the inline chain: the frames of the best stack after the site that
		 * the site (and each of them) is inlined into */
		if (s->best_stack != RC_NONE) {
			const struct rc_cstack *cs = &g->cstacks[s->best_stack];
			uint32_t k = 0;

			while (k + 1 < cs->n && cp->locs[cp->seq[cs->first + k]].inlined) {
				fprintf(out, "%*sinlined into ", indent, "");
				put_loc(out, cp, cp->seq[cs->first + k + 1]);
				fputc('\n', out);
				k++;
			}
			if (k + 1 < cs->n) {
				fprintf(out, "%*scalled from ", indent, "");
				put_loc(out, cp, cp->seq[cs->first + k + 1]);
				fputc('\n', out);
			}
			if (s->nstacks > 1)
				fprintf(out, "%*s(%u stacks; the heaviest shown)\n", indent, "", s->nstacks);
		}
	}
	free(sel);
}

static void put_tsv(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, out);
}

static void print_group_tsv(FILE *out, const struct rp_model *gm, const struct rc_proc *cp,
                            const struct rc_group *g, const struct rp_sites_opts *so, bool trace)
{
	bool *sel = selected_sites(g, so->top, trace);
	unsigned rank = 0;
	char buf[32];

	for (uint32_t i = 0; sel && i < g->nsites; i++) {
		const struct rc_site *s = &g->sites[i];
		const struct rc_loc *l = &cp->locs[s->loc];
		const struct rs_module *md = l->module >= 0 ? &cp->src->modules[l->module] : NULL;
		const char *into = "-";

		if (!sel[i])
			continue;
		if (s->best_stack != RC_NONE && l->inlined && g->cstacks[s->best_stack].n > 1)
			into = cp->locs[cp->seq[g->cstacks[s->best_stack].first + 1]].label;
		fprintf(out, "%" PRId64 "\t%u\t", cp->src->pid, g->gid);
		put_tsv(out, rp_stacks_group_label(gm, cp->src->pid, g->gid, buf, sizeof(buf)));
		fprintf(out, "\t%u\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
		        "\t%" PRIu64 "\t%" PRIu64 "\t", ++rank, s->c.live_estimate, s->c.live_bytes,
		        s->c.live_objects, s->c.peak_estimate, s->c.alloc_estimate, s->c.alloc_bytes,
		        s->c.alloc_objects);
		put_tsv(out, l->func ? l->func : "-");
		fputc('\t', out);
		put_tsv(out, l->file ? l->file : "-");
		fprintf(out, "\t%u\t", l->line);
		put_tsv(out, md ? rsym_basename(md->path) : "-");
		fprintf(out, "\t0x%" PRIx64 "\t", l->offset);
		put_tsv(out, into);
		fputc('\t', out);
		put_tsv(out, s->caller != RC_NONE ? cp->locs[s->caller].label : "-");
		fputc('\n', out);
	}
	free(sel);
}

void rp_print_sites(FILE *out, const struct rc_result *r, const struct rs_model *sm,
                    const struct rp_model *gm, const struct rp_output_opts *oo,
                    const struct rp_sites_opts *so)
{
	bool trace = !sm->from_profile, tsv = oo->format == RP_FORMAT_TSV;

	if (tsv)
		fputs("# pid\tgroup_id\tgroup\trank\tlive_estimate\tlive_bytes\tlive_objects\t"
		      "peak_estimate\talloc_estimate\talloc_bytes\talloc_objects\tfunction\tfile\t"
		      "line\tmodule\toffset\tinlined_into\tcaller\n", out);
	else
		fprintf(out, "%sSampled allocation stacks of %s\n", trace ? "\n" : "", so->source);
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct rc_proc *cp = &r->procs[i];
		const char *name = proc_name(gm, cp->src->pid);

		/* a process of the trace that sampled nothing (statedump only) */
		if (trace && !cp->src->nsites)
			continue;
		if (!tsv) {
			fprintf(out, "\nprocess %" PRId64, cp->src->pid);
			if (name) {
				fputs(" (", out);
				put_clean(out, name);
				fputc(')', out);
			}
			if (sm->from_profile && sm->sampling)
				fprintf(out, ": sampling mean %" PRIu64 " bytes%s", sm->sampling,
				        sm->sampling == 1 ? " (every allocation)" : "");
			if (trace)
				fprintf(out, ": %" PRIu64 " alloc_sample, %" PRIu64 " free_sample events",
				        cp->src->alloc_samples, cp->src->free_samples);
			if (trace && cp->src->unknown_frees)
				fprintf(out, " (%" PRIu64 " frees of blocks sampled before the recording)",
				        cp->src->unknown_frees);
			fputc('\n', out);
			print_modules(out, r, cp->src);
		}
		for (uint32_t g = 0; g < cp->ngroups; g++) {
			const struct rc_group *grp = &cp->groups[g];
			const struct rp_group *rg = find_group(gm, cp->src->pid, g);
			struct rp_group fake = { .id = g };

			if (!grp->nsites || !rp_group_selected(oo, rg ? rg : &fake))
				continue;
			if (tsv)
				print_group_tsv(out, gm, cp, grp, so, trace);
			else
				print_group_table(out, gm, cp, grp, so, trace);
		}
	}
}
