/* SPDX-License-Identifier: MIT */
/*
 * trackalloc-report outputs: the per-group table (or TSV) on stdout and the
 * live-bytes timeline CSV.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "report-batch-notes.h"
#include "report-crossings.h"
#include "report-model.h"
#include "report-output.h"

bool rp_group_selected(const struct rp_output_opts *o, const struct rp_group *g)
{
	char buf[16];

	if (!o->groups)
		return true;
	snprintf(buf, sizeof(buf), "#%u", g->id);
	for (char **s = o->groups; *s; s++)
		if ((g->name && !strcmp(*s, g->name)) || !strcmp(*s, buf))
			return true;
	return false;
}

const char *rp_group_label(const struct rp_group *g, char *buf, size_t len)
{
	if (g->name)
		return g->name;
	snprintf(buf, len, "#%u", g->id);
	return buf;
}

void rp_warn_unmatched_groups(const struct rp_model *m, const struct rp_output_opts *o)
{
	for (char **s = o->groups; s && *s; s++) {
		struct rp_output_opts one = { .groups = (char *[]){ *s, NULL } };
		bool found = false;

		for (size_t i = 0; i < m->nprocs && !found; i++) {
			struct rp_group **v = rp_proc_sorted_groups(m->procs[i]);

			for (uint32_t j = 0; v && j < m->procs[i]->ngroups && !found; j++)
				found = rp_group_selected(&one, v[j]);
			free(v);
		}
		if (!found)
			fprintf(stderr, RP_PREFIX "warning: no group %s in the trace\n", *s);
	}
}

static bool proc_lossy(const struct rp_model *m, const struct rp_proc *p)
{
	return m->lossy_all || p->lossy;
}

double rp_rel_s(const struct rp_model *m, int64_t ts)
{
	return (double)(ts - m->first_ts) / 1e9;
}

static int proc_cmp(const void *a, const void *b)
{
	const struct rp_proc *x = *(struct rp_proc *const *)a, *y = *(struct rp_proc *const *)b;

	if (x->first_ts != y->first_ts)
		return x->first_ts < y->first_ts ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Processes in order of their first event (NULL: out of memory). */
static struct rp_proc **sorted_procs(const struct rp_model *m)
{
	struct rp_proc **v = malloc((m->nprocs + 1) * sizeof(*v));

	if (!v)
		return NULL;
	memcpy(v, m->procs, m->nprocs * sizeof(*v));
	qsort(v, m->nprocs, sizeof(*v), proc_cmp);
	return v;
}

static const struct rp_counts *group_counts(const struct rp_group *g, enum rp_source src)
{
	return src == RP_SOURCE_SAMPLES ? &g->st : &g->ev;
}

static const char *source_name(enum rp_source src)
{
	switch (src) {
	case RP_SOURCE_EVENTS:
		return "alloc/free events";
	case RP_SOURCE_SAMPLES:
		return "group_stats samples";
	default:
		return "none (no alloc/free events, no group_stats samples)";
	}
}

const char *rp_group_rule(const struct rp_group *g)
{
	for (uint32_t i = 0; i < g->ntags; i++)
		if (!strcmp(g->tags[i].key, RP_RULE_TAG))
			return g->tags[i].value;
	return NULL;
}

/* "key=value,key=value" into @buf; without the rule tag when !@rule. */
static const char *tags_text(const struct rp_group *g, bool rule, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < g->ntags && used < len; i++) {
		int n;

		if (!rule && !strcmp(g->tags[i].key, RP_RULE_TAG))
			continue;
		n = snprintf(buf + used, len - used, "%s%s=%s", used ? "," : "", g->tags[i].key,
		             g->tags[i].value);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* ---- table ---------------------------------------------------------------- */

enum { COL_ID, COL_NAME, COL_RULE, COL_TAGS, COL_ALLOCS, COL_FREES, COL_BYTES, COL_FREED, COL_PEAK,
       COL_PEAK_AT, COL_INPEAK, COL_LIVE, COL_BLOCKS, NCOLS };

/* "peak live" is what the trace shows; "in-process peak" what the program
 * counted (group_stats' peak_bytes, report-limits.c) */
static const char *const col_head[NCOLS] = {
	"id", "group", "rule", "tags", "allocs", "frees", "bytes alloc", "bytes freed",
	"peak live", "peak at (s)", "in-process peak", "live at end", "live blocks",
};

struct table {
	char **cells; /* rows * NCOLS */
	size_t rows, cap;
	bool rule; /* the rule column is shown (some group has a rule tag) */
};

size_t rp_text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

char *rp_sanitized(const char *s)
{
	char *c = strdup(s);

	for (char *p = c; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

static bool table_row(struct table *t, const char *const cell[NCOLS])
{
	if (t->rows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		void *n = realloc(t->cells, ncap * NCOLS * sizeof(*t->cells));

		if (!n)
			return false;
		t->cells = n;
		t->cap = ncap;
	}
	for (int c = 0; c < NCOLS; c++)
		t->cells[t->rows * NCOLS + c] = rp_sanitized(cell[c] ? cell[c] : "");
	t->rows++;
	return true;
}

static void table_print(FILE *out, struct table *t)
{
	size_t w[NCOLS];

	for (int c = 0; c < NCOLS; c++) {
		w[c] = rp_text_width(col_head[c]);
		for (size_t r = 0; r < t->rows; r++) {
			const char *s = t->cells[r * NCOLS + c];
			size_t tw = s ? rp_text_width(s) : 0;

			if (tw > w[c])
				w[c] = tw;
		}
	}
	for (size_t r = 0; r <= t->rows; r++) {
		fputs("  ", out);
		for (int c = 0; c < NCOLS; c++) {
			const char *s = r == 0 ? col_head[c] : t->cells[(r - 1) * NCOLS + c];
			size_t pad;
			bool left = c == COL_NAME || c == COL_RULE || c == COL_TAGS;

			if (c == COL_RULE && !t->rule)
				continue;
			s = s ? s : "";
			pad = w[c] - rp_text_width(s);
			if (!left)
				fprintf(out, "%*s", (int)pad, "");
			fputs(s, out);
			if (left && c + 1 < NCOLS)
				fprintf(out, "%*s", (int)pad, "");
			fputs(c + 1 < NCOLS ? "  " : "\n", out);
		}
	}
	for (size_t i = 0; i < t->rows * NCOLS; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = t->cap = 0;
}

static char *__attribute__((format(printf, 1, 2))) fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/*
 * Cells of one row. With discarded events, counts and bytes are lower
 * bounds; live figures are approximate (a lost alloc lowers them, a lost
 * free raises them), and so is an events-based peak; a samples-based peak
 * is a lower bound (a lost sample can only hide a higher one), and so is
 * the in-process peak. @g: the group (NULL: the process's totals, which
 * have no in-process peak).
 */
static bool counts_row(struct table *t, const struct rp_model *m, const char *id,
                       const char *name, const char *rule, const char *tags,
                       const struct rp_counts *c, const struct rp_group *g, bool lossy,
                       enum rp_source src)
{
	const char *lb = lossy ? "≥" : "", *ap = lossy ? "~" : "";
	const char *pk = src == RP_SOURCE_SAMPLES ? lb : ap;
	char *cell[NCOLS] = { 0 };
	bool ok;

	cell[COL_ID] = strdup(id);
	cell[COL_NAME] = strdup(name);
	cell[COL_RULE] = strdup(rule ? rule : "");
	cell[COL_TAGS] = strdup(tags);
	cell[COL_ALLOCS] = fmt("%s%llu", lb, (unsigned long long)c->allocs);
	cell[COL_FREES] = fmt("%s%llu", lb, (unsigned long long)c->frees);
	cell[COL_BYTES] = fmt("%s%llu", lb, (unsigned long long)c->bytes_alloc);
	cell[COL_FREED] = fmt("%s%llu", lb, (unsigned long long)c->bytes_freed);
	cell[COL_PEAK] = fmt("%s%llu", pk, (unsigned long long)c->peak_bytes);
	cell[COL_PEAK_AT] = c->peak_set ? fmt("%.6f", rp_rel_s(m, c->peak_ts)) : strdup("-");
	cell[COL_INPEAK] = !g ? strdup("") :
	                   g->inproc_peak_set ? fmt("%s%llu", lb, (unsigned long long)g->inproc_peak) :
	                                        strdup("-");
	cell[COL_LIVE] = fmt("%s%llu", ap, (unsigned long long)c->live_bytes);
	cell[COL_BLOCKS] = fmt("%s%llu", ap, (unsigned long long)c->live_blocks);
	ok = table_row(t, (const char *const *)cell);
	for (int i = 0; i < NCOLS; i++)
		free(cell[i]);
	return ok;
}

static void print_start(FILE *out, const struct rp_model *m)
{
	time_t secs = (time_t)(m->first_ts / 1000000000);
	struct tm tm;
	char buf[64];

	if (m->have_ts && !m->unix_epoch) {
		fprintf(out, "trace start: %lld ns from the trace clock's origin (times below are "
		             "seconds since then)\n", (long long)m->first_ts);
		return;
	}
	if (m->have_ts && gmtime_r(&secs, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		fprintf(out, "trace start: %s.%09lldZ (times below are seconds since then)\n", buf,
		        (long long)(m->first_ts % 1000000000));
}

static void print_proc_table(FILE *out, const struct rp_model *m, const struct rp_proc *p,
                             const struct rp_output_opts *o, bool *any_lossy)
{
	enum rp_source src = rp_proc_source(p);
	bool lossy = proc_lossy(m, p);
	struct rp_group **v = rp_proc_sorted_groups(p);
	struct table t = { 0 };
	uint32_t shown = 0;

	fprintf(out, "\nprocess %lld (%s), source: %s\n", (long long)p->pid,
	        p->procname ? p->procname : "?", source_name(src));
	if (!v)
		return;
	for (uint32_t i = 0; i < p->ngroups; i++)
		t.rule |= rp_group_selected(o, v[i]) && rp_group_rule(v[i]);
	for (uint32_t i = 0; i < p->ngroups; i++) {
		char idb[16], nameb[16], tagb[1024];

		if (!rp_group_selected(o, v[i]))
			continue;
		snprintf(idb, sizeof(idb), "%u", v[i]->id);
		/* with a rule column, the rule tag is there rather than in tags */
		counts_row(&t, m, idb, rp_group_label(v[i], nameb, sizeof(nameb)),
		           rp_group_rule(v[i]), tags_text(v[i], !t.rule, tagb, sizeof(tagb)),
		           group_counts(v[i], src), v[i], lossy, src);
		shown++;
	}
	if (!o->groups && shown > 1)
		counts_row(&t, m, "", "(all groups)", NULL, "",
		           src == RP_SOURCE_SAMPLES ? &p->tot_st : &p->tot_ev, NULL, lossy, src);
	if (shown)
		table_print(out, &t);
	else
		fprintf(out, "  (no group%s)\n", o->groups ? " matches --group" : "");
	if (src == RP_SOURCE_SAMPLES)
		fprintf(out, "  figures as of each group's last group_stats sample (the last one at "
		             "%.6f s); the peak is the largest sampled\n", rp_rel_s(m, p->last_ts));
	if (src == RP_SOURCE_EVENTS && p->unknown_frees)
		fprintf(out, "  %llu free%s of blocks allocated before the trace started (or whose "
		             "alloc event was lost): counted in frees, not subtracted from live figures\n",
		        (unsigned long long)p->unknown_frees, p->unknown_frees == 1 ? "" : "s");
	if (src == RP_SOURCE_EVENTS && p->inconsistent)
		fprintf(out, "  %llu event%s inconsistent with the blocks seen before (lost events)\n",
		        (unsigned long long)p->inconsistent, p->inconsistent == 1 ? "" : "s");
	rp_print_batch_notes(out, m, p);
	rp_print_crossings(out, m, p, o);
	*any_lossy |= lossy;
	free(v);
}

static void print_table(FILE *out, const struct rp_model *m, const struct rp_output_opts *o)
{
	struct rp_proc **procs = sorted_procs(m);
	bool any_lossy = false;

	fprintf(out, "trackalloc report: %s\n", o->trace_dir);
	print_start(out, m);
	fprintf(out, "%llu events read, %llu from trackalloc; discarded: %llu events",
	        (unsigned long long)m->events, (unsigned long long)m->ta_events,
	        (unsigned long long)m->discarded_events);
	if (m->discarded_events_msgs_unknown)
		fprintf(out, " (+%llu losses of unknown size)",
		        (unsigned long long)m->discarded_events_msgs_unknown);
	fprintf(out, ", %llu packets\n",
	        (unsigned long long)(m->discarded_packets + m->discarded_packets_msgs_unknown));
	rp_print_batch_summary(out, m);
	if (m->skipped_traces)
		fprintf(out, "%llu unreadable trace%s skipped (--skip-unreadable): figures of their "
		             "processes are missing\n", (unsigned long long)m->skipped_traces,
		        m->skipped_traces == 1 ? "" : "s");
	for (size_t i = 0; procs && i < m->nprocs; i++)
		print_proc_table(out, m, procs[i], o, &any_lossy);
	if (any_lossy)
		fprintf(out, "\n≥ lower bound, ~ approximate: the tracer discarded events "
		             "(buffers full), so these figures miss some allocations, frees or "
		             "samples.\n");
	free(procs);
}

/* ---- TSV ------------------------------------------------------------------- */

void rp_tsv_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\t': fputs("\\t", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\\': fputs("\\\\", out); break;
		default: fputc(*s, out);
		}
	}
}

static void print_tsv(FILE *out, const struct rp_model *m, const struct rp_output_opts *o)
{
	struct rp_proc **procs = sorted_procs(m);

	fputs("# trackalloc-report tsv 1\n# trace\t", out);
	rp_tsv_text(out, o->trace_dir);
	fprintf(out, "\n# start_ns\t%lld\n# events\t%llu\n# trackalloc_events\t%llu\n"
	             "# discarded_events\t%llu\n# discarded_events_unknown_size\t%llu\n"
	             "# discarded_packets\t%llu\n# skipped_traces\t%llu\n",
	        (long long)m->first_ts, (unsigned long long)m->events,
	        (unsigned long long)m->ta_events, (unsigned long long)m->discarded_events,
	        (unsigned long long)m->discarded_events_msgs_unknown,
	        (unsigned long long)(m->discarded_packets + m->discarded_packets_msgs_unknown),
	        (unsigned long long)m->skipped_traces);
	fprintf(out, "# limit_crossings\t%zu\n", rp_count_crossings(m, o));
	rp_print_batch_tsv(out, m);
	/* rule, then in_process_peak_bytes: last, so that the columns before
	 * them keep their places; tags keep every tag, the rule's too */
	fputs("pid\tprocname\tsource\tgroup_id\tgroup_name\ttags\tallocs\tfrees\tbytes_allocated\t"
	      "bytes_freed\tpeak_live_bytes\tpeak_time_s\tlive_bytes\tlive_blocks\tunknown_frees\t"
	      "lower_bound\trule\tin_process_peak_bytes\n", out);
	for (size_t i = 0; procs && i < m->nprocs; i++) {
		const struct rp_proc *p = procs[i];
		enum rp_source src = rp_proc_source(p);
		struct rp_group **v = rp_proc_sorted_groups(p);

		for (uint32_t j = 0; v && j < p->ngroups; j++) {
			const struct rp_group *g = v[j];
			const struct rp_counts *c = group_counts(g, src);
			char nameb[16], tagb[1024];

			if (!rp_group_selected(o, g))
				continue;
			fprintf(out, "%lld\t", (long long)p->pid);
			rp_tsv_text(out, p->procname ? p->procname : "");
			fprintf(out, "\t%s\t%u\t", src == RP_SOURCE_EVENTS ? "events" :
			                           src == RP_SOURCE_SAMPLES ? "samples" : "none", g->id);
			rp_tsv_text(out, rp_group_label(g, nameb, sizeof(nameb)));
			fputc('\t', out);
			rp_tsv_text(out, tags_text(g, true, tagb, sizeof(tagb)));
			fprintf(out, "\t%llu\t%llu\t%llu\t%llu\t%llu\t", (unsigned long long)c->allocs,
			        (unsigned long long)c->frees, (unsigned long long)c->bytes_alloc,
			        (unsigned long long)c->bytes_freed, (unsigned long long)c->peak_bytes);
			if (c->peak_set)
				fprintf(out, "%.9f", rp_rel_s(m, c->peak_ts));
			else
				fputc('-', out);
			fprintf(out, "\t%llu\t%llu\t%llu\t%d\t", (unsigned long long)c->live_bytes,
			        (unsigned long long)c->live_blocks,
			        (unsigned long long)(src == RP_SOURCE_EVENTS ? g->unknown_frees : 0),
			        proc_lossy(m, p));
			rp_tsv_text(out, rp_group_rule(g) ? rp_group_rule(g) : "");
			if (g->inproc_peak_set)
				fprintf(out, "\t%llu\n", (unsigned long long)g->inproc_peak);
			else
				fputs("\t-\n", out);
		}
		free(v);
	}
	if (procs)
		rp_print_crossings_tsv(out, m, procs, m->nprocs, o);
	free(procs);
}

void rp_print_report(FILE *out, const struct rp_model *m, const struct rp_output_opts *o)
{
	if (o->format == RP_FORMAT_TSV)
		print_tsv(out, m, o);
	else
		print_table(out, m, o);
}

/* ---- CSV timeline ---------------------------------------------------------- */

struct csv_row {
	int64_t ts, pid;
	uint32_t gid;
	uint64_t live;
	const struct rp_group *g;
};

struct csv_rows {
	struct csv_row *v;
	size_t n, cap;
};

static bool csv_add(struct csv_rows *rows, int64_t ts, const struct rp_proc *p,
                    const struct rp_group *g, uint64_t live)
{
	if (rows->n == rows->cap) {
		size_t ncap = rows->cap ? rows->cap * 2 : 1024;
		void *n = realloc(rows->v, ncap * sizeof(*rows->v));

		if (!n)
			return false;
		rows->v = n;
		rows->cap = ncap;
	}
	rows->v[rows->n++] = (struct csv_row){ ts, p->pid, g->id, live, g };
	return true;
}

static int csv_cmp(const void *a, const void *b)
{
	const struct csv_row *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->gid != y->gid)
		return x->gid < y->gid ? -1 : 1;
	return 0;
}

/* A group's rows: its timeline, plus its peak when thinning dropped it. */
static bool csv_group(struct csv_rows *rows, const struct rp_proc *p, const struct rp_group *g,
                      enum rp_source src)
{
	const struct rp_timeline *tl = src == RP_SOURCE_SAMPLES ? &g->tl_st : &g->tl_ev;
	const struct rp_counts *c = group_counts(g, src);
	bool peak_seen = !c->peak_set;

	for (uint32_t i = 0; i < tl->n; i++) {
		if (tl->pts[i].ts == c->peak_ts && tl->pts[i].live == c->peak_bytes)
			peak_seen = true;
		if (!csv_add(rows, tl->pts[i].ts, p, g, tl->pts[i].live))
			return false;
	}
	return peak_seen || !tl->n || csv_add(rows, c->peak_ts, p, g, c->peak_bytes);
}

static void csv_text(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

bool rp_write_csv(FILE *f, const char *path, const struct rp_model *m,
                  const struct rp_output_opts *o)
{
	struct csv_rows rows = { 0 };
	bool ok = false;

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct rp_proc *p = m->procs[i];
		enum rp_source src = rp_proc_source(p);
		struct rp_group **v;

		if (src == RP_SOURCE_NONE)
			continue;
		v = rp_proc_sorted_groups(p);
		if (!v)
			goto oom;
		for (uint32_t j = 0; j < p->ngroups; j++) {
			if (rp_group_selected(o, v[j]) && !csv_group(&rows, p, v[j], src)) {
				free(v);
				goto oom;
			}
		}
		free(v);
	}
	qsort(rows.v, rows.n, sizeof(*rows.v), csv_cmp);
	fputs("time_s,pid,group_id,group_name,live_bytes\n", f);
	for (size_t i = 0; i < rows.n; i++) {
		const struct csv_row *r = &rows.v[i];
		char nameb[16];

		fprintf(f, "%.9f,%lld,%u,", rp_rel_s(m, r->ts), (long long)r->pid, r->gid);
		csv_text(f, rp_group_label(r->g, nameb, sizeof(nameb)));
		fprintf(f, ",%llu\n", (unsigned long long)r->live);
	}
	if (fflush(f) || ferror(f)) {
		fprintf(stderr, RP_PREFIX "cannot write %s: %s\n", path, strerror(errno));
		goto out;
	}
	ok = true;
	goto out;
oom:
	fprintf(stderr, RP_PREFIX "out of memory writing the timeline\n");
out:
	free(rows.v);
	return ok;
}
