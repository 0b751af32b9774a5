/* SPDX-License-Identifier: MIT */
/*
 * The limit crossings section: every group_limit event of the selected
 * groups, with its time since the trace start, the group, its live bytes
 * just after the allocation that crossed, and the limits in force.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-crossings.h"
#include "report-limits.h"
#include "report-model.h"
#include "report-output.h"

enum { CC_AT, CC_GROUP, CC_LIVE, CC_SOFT, CC_HARD, NCC };

static const char *const cc_head[NCC] = {
	"at (s)", "group", "live bytes", "soft limit", "hard limit",
};

static bool crossing_selected(const struct rp_proc *p, const struct rp_crossing *c,
                              const struct rp_output_opts *o)
{
	const struct rp_group *g = rp_proc_find_group(p, c->gid);

	return g && rp_group_selected(o, g);
}

size_t rp_count_crossings(const struct rp_model *m, const struct rp_output_opts *o)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nprocs; i++)
		for (size_t j = 0; j < m->procs[i]->ncrossings; j++)
			n += crossing_selected(m->procs[i], &m->procs[i]->crossings[j], o);
	return n;
}

/* A limit, or "-" for none. */
static void limit_text(char *buf, size_t len, uint64_t v)
{
	if (v)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "-");
}

/* The cells of crossing @c (cell[CC_GROUP] allocated, the others in @num). */
static bool crossing_cells(const struct rp_model *m, const struct rp_proc *p,
                           const struct rp_crossing *c, char *cell[NCC], char num[NCC][32])
{
	char nameb[16];

	snprintf(num[CC_AT], 32, "%.6f", rp_rel_s(m, c->ts));
	snprintf(num[CC_LIVE], 32, "%llu", (unsigned long long)c->live);
	limit_text(num[CC_SOFT], 32, c->soft);
	limit_text(num[CC_HARD], 32, c->hard);
	for (int k = 0; k < NCC; k++)
		cell[k] = num[k];
	cell[CC_GROUP] = rp_sanitized(rp_group_label(rp_proc_find_group(p, c->gid), nameb,
	                                             sizeof(nameb)));
	return cell[CC_GROUP] != NULL;
}

static void print_row(FILE *out, char *const cell[NCC], const size_t w[NCC])
{
	fputs("   ", out);
	for (int k = 0; k < NCC; k++) {
		size_t pad = w[k] - rp_text_width(cell[k]);

		fputs("  ", out);
		if (k != CC_GROUP)
			fprintf(out, "%*s", (int)pad, "");
		fputs(cell[k], out);
		if (k == CC_GROUP)
			fprintf(out, "%*s", (int)pad, "");
	}
	fputc('\n', out);
}

void rp_print_crossings(FILE *out, const struct rp_model *m, const struct rp_proc *p,
                        const struct rp_output_opts *o)
{
	const struct rp_crossing **v = malloc((p->ncrossings + 1) * sizeof(*v));
	size_t n = 0, w[NCC];

	if (!v)
		return;
	for (size_t j = 0; j < p->ncrossings; j++)
		if (crossing_selected(p, &p->crossings[j], o))
			v[n++] = &p->crossings[j];
	if (!n) {
		free(v);
		return;
	}
	fprintf(out, "  %zu limit crossing%s (group_limit: an allocation took the group above its "
	             "soft limit)%s:\n", n, n == 1 ? "" : "s",
	        m->lossy_all || p->lossy ? "; discarded events may have hidden others" : "");
	for (int k = 0; k < NCC; k++)
		w[k] = rp_text_width(cc_head[k]);
	/* two passes over the rows shown: widths, then the lines */
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			print_row(out, (char *const *)cc_head, w);
		for (size_t j = 0; j < n; j++) {
			char *cell[NCC], num[NCC][32];

			if (n > RP_CROSSINGS_SHOWN && j == RP_CROSSINGS_SHOWN / 2) {
				if (pass)
					fprintf(out, "     ... %zu more (--format tsv lists every one)\n",
					        n - RP_CROSSINGS_SHOWN);
				j = n - RP_CROSSINGS_SHOWN / 2;
			}
			if (!crossing_cells(m, p, v[j], cell, num))
				continue;
			for (int k = 0; k < NCC && !pass; k++)
				if (rp_text_width(cell[k]) > w[k])
					w[k] = rp_text_width(cell[k]);
			if (pass)
				print_row(out, cell, w);
			free(cell[CC_GROUP]);
		}
	}
	free(v);
}

void rp_print_crossings_tsv(FILE *out, const struct rp_model *m, struct rp_proc *const *procs,
                            size_t nprocs, const struct rp_output_opts *o)
{
	bool head = false;

	for (size_t i = 0; i < nprocs; i++) {
		const struct rp_proc *p = procs[i];

		for (size_t j = 0; j < p->ncrossings; j++) {
			const struct rp_crossing *c = &p->crossings[j];
			char nameb[16];

			if (!crossing_selected(p, c, o))
				continue;
			if (!head)
				fputs("# limit_columns\tpid\tprocname\tgroup_id\tgroup_name\ttime_s\t"
				      "live_bytes\tsoft_limit\thard_limit\n", out);
			head = true;
			fprintf(out, "# limit\t%lld\t", (long long)p->pid);
			rp_tsv_text(out, p->procname ? p->procname : "");
			fprintf(out, "\t%u\t", c->gid);
			rp_tsv_text(out, rp_group_label(rp_proc_find_group(p, c->gid), nameb,
			                                sizeof(nameb)));
			fprintf(out, "\t%.9f\t%llu\t%llu\t%llu\n", rp_rel_s(m, c->ts),
			        (unsigned long long)c->live, (unsigned long long)c->soft,
			        (unsigned long long)c->hard);
		}
	}
}
