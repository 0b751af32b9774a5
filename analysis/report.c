/* SPDX-License-Identifier: MIT */
/*
 * trackalloc-report: per-group heap figures from a trackalloc LTTng trace,
 * read with libbabeltrace2. See usage() for what it prints. This file is
 * the command line; report.h says which file does the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "report.h"
#include "report-collapse.h"
#include "report-files.h"
#include "report-flame.h"
#include "report-input.h"
#include "report-model.h"
#include "report-output.h"
#include "report-plot.h"
#include "report-profile.h"
#include "report-sites.h"
#include "report-stacks.h"
#include "report-stacks-decode.h"

#ifndef TA_REPORT_VERSION
#define TA_REPORT_VERSION "unknown"
#endif

static void usage(FILE *out)
{
	fputs(
"usage: trackalloc-report [OPTIONS] TRACE_DIR\n"
"       trackalloc-report --stacks [--top N] [--flamegraph FILE.svg] [--folded FILE] TRACE_DIR\n"
"       trackalloc-report --profile FILE [--top N] [--flamegraph FILE.svg] [--folded FILE]\n"
"\n"
"Per-group heap figures from a trackalloc LTTng trace (a session's output\n"
"directory, or any directory holding CTF traces).\n"
"\n"
"Sampled allocation stacks (TRACKALLOC_STACKS):\n"
"  --stacks            also read the trace's alloc_sample/free_sample events and\n"
"                      the LTTng-UST statedump (trackalloc record --stacks): after\n"
"                      the group table, per group its top allocation sites\n"
"  --profile FILE      read a TRACKALLOC_PROFILE file instead of a trace (the live\n"
"                      sampled heap of one process, doc/profile-format.md)\n"
"  --top N             sites per group and criterion (default 10); 0: all\n"
"  --flamegraph FILE.svg  a flame graph of live bytes, the group as root frame\n"
"  --folded FILE       the same as folded stacks (group;outer;...;inner BYTES),\n"
"                      for flamegraph.pl or speedscope\n"
"  --flame-weight W    what --flamegraph and --folded weigh: live (estimated live\n"
"                      bytes at the end, the default), peak (live bytes at each\n"
"                      group's peak; traces) or allocated (bytes allocated)\n"
"\n"
"  --csv FILE          write the live-bytes timeline: time_s,pid,group_id,group_name,live_bytes\n"
"  --plot FILE         draw the timeline into FILE.png or FILE.svg (matplotlib, via\n"
"                      " TA_REPORT_PYTHON "), with each soft and hard limit the\n"
"                      limit crossings reported as a dashed line on its group\n"
"  --group NAME        only group NAME; repeatable; #ID selects a group by id\n"
"  --format FMT        stdout format: table (default) or tsv (one line per group,\n"
"                      '#' lines with trace-wide counts)\n"
"  --interval-us N     least time between two timeline rows of a group (default 0)\n"
"  --horizon-ms N      how long a call from a trackalloc:batch event waits for older\n"
"                      calls of the process's other threads (default 500): more\n"
"                      for a trace whose batches came late (the report says so)\n"
"  --progress          report progress on stderr even when it is not a terminal\n"
"  --skip-unreadable   skip a trace that cannot be opened (truncated, corrupt, or\n"
"                      an incomplete per-process trace) with a warning, rather\n"
"                      than failing; the report says how many were skipped\n"
"  -h, --help          this text\n"
"  --version           the version\n"
"\n"
"For each process (vpid context, or the trace's own vpid with per-process\n"
"buffers), each group: id, name (or #ID when no group_register names it), tags,\n"
"allocations, frees, bytes allocated and freed, peak live bytes and when it\n"
"happened, the in-process peak, live bytes and blocks at the end of the trace\n"
"(possible leaks).\n"
"A group that a rule made (TRACKALLOC_GROUPS, trackalloc record --group-by) has\n"
"the tag rule=RULE: the table shows it in a 'rule' column of its own (when a\n"
"group of the process has one, and then not among the tags), the TSV in its\n"
"last column, rule (and among the tags too), --stacks as 'group N NAME [rule RULE]'.\n"
"\n"
"Source. When a process has alloc/alloc_aligned/free/realloc events, figures come\n"
"from them (a realloc is a free of the old block plus an allocation of the new\n"
"one); otherwise from its group_stats samples: totals of the last sample, peak\n"
"the largest allocated_bytes - freed_bytes sampled, live blocks allocated_objects -\n"
"freed_objects. Each process says which source it used.\n"
"\n"
"Batches. A full trace may hold its calls packed into trackalloc:batch events\n"
"(tracepoints/EVENTS.md) rather than as per-call events: they are decoded, each\n"
"process's calls put back in time order across its threads (a call waits\n"
"--horizon-ms, 500 ms by default, for older calls of other threads) and\n"
"accounted as the per-call events would be (source: alloc/free events; the\n"
"same figures and timeline). A process with per-call events is read from them\n"
"and its batches ignored. Batches lost (offset gaps) or damaged: one line per\n"
"process with the record-stream bytes missing and undecodable (about how many\n"
"calls), its figures marked as below; calls whose batch came more than the\n"
"horizon after them: one line, applied when they came. TSV: '# batch...' lines.\n"
"\n"
"In-process peak: the largest peak_bytes of the group's group_stats samples,\n"
"the peak the program itself counted (ta_group_peak: blocks allocated before\n"
"recording started included, highs between two samples seen); '-' when the\n"
"trace has no such sample (no group_stats, or a release before the field).\n"
"\n"
"Limit crossings. After each process's table, every group_limit event of its\n"
"groups (an allocation took the group above its soft limit): when, the group,\n"
"its live bytes just after that allocation, its soft and hard limits ('-':\n"
"none); the table shows at most 40 of a process (the first and last 20). TSV:\n"
"'# limit_crossings N' among the trace-wide lines, in_process_peak_bytes as the\n"
"last column ('-' as above), and after the group rows, when there are\n"
"crossings, a '# limit_columns' line naming the columns (pid, procname,\n"
"group_id, group_name, time_s, live_bytes, soft_limit, hard_limit; a limit of\n"
"0 is none), then one '# limit' line per crossing.\n"
"\n"
"Live figures count the blocks whose allocation is in the trace. A free of a\n"
"block the trace never allocated (allocated before recording started, or its\n"
"alloc event was lost) counts in frees and bytes freed but is not subtracted\n"
"from live figures, which never go negative; the table says how many there were\n"
"(TSV: unknown_frees). Root also holds what the library allocates for itself,\n"
"which emits no events.\n"
"\n"
"Times are seconds since the trace start, the timestamp of the first trackalloc\n"
"event (printed as UTC wall time at the top of the table).\n"
"\n"
"Discarded events (full tracer buffers) are counted; the figures they may affect\n"
"are marked: '≥' lower bound (counts, bytes; the peak of samples), '~' approximate\n"
"(live figures; the peak of events: a lost free can raise it). TSV: lower_bound=1.\n"
"\n"
"Timeline (--csv, --plot): a row for a group when its live bytes changed and at\n"
"least --interval-us passed since its previous row (a value that then held for\n"
"that long gets its own row too); at 2000 rows a group's timeline is thinned\n"
"(pairs merge into the larger value) and its interval grows to match, so a group\n"
"keeps 1000 to 2000 rows. Each group also gets its peak and a final row at its\n"
"process's last event.\n"
"\n"
"Sites. Each sampled stack is symbolised with elfutils (libdwfl: the binaries\n"
"the profile or the statedump names, debug info found by build id under\n"
"/usr/lib/debug/.build-id or through .gnu_debuglink), inlined frames included;\n"
"the allocator's own frames (malloc family, strdup/strndup, operator new and\n"
"its variants, __libc_*, std::allocator internals, libtrackalloc.so) are cut,\n"
"so a site is the first frame of the program's code, shown as function,\n"
"file:line and module; stacks equal after the cut merge. A group lists the\n"
"union of its top N sites by estimated live bytes at the end, at the group's\n"
"peak (traces: when its sampled live estimate was highest) and by bytes\n"
"allocated. Estimates are sums of sample weights; 'n' columns count samples\n"
"(with TRACKALLOC_STACKS=1, every allocation: exact). A frame without symbols,\n"
"or in a binary whose build id differs from the recorded one (said once on\n"
"stderr), shows as module+0xOFFSET (file address). With --format tsv, one line\n"
"per site (and no group table).\n"
"\n"
"Exit status: 0 success; 1 usage error; 2 bad input (missing directory, no CTF\n"
"metadata, not a trackalloc trace, empty, truncated or corrupt trace; with\n"
"--stacks a trace without alloc_sample events; a profile that cannot be read,\n"
"is not a profile, has an unknown version, a malformed line or no matching\n"
"'end' line: one line on stderr, FILE:LINE: what is wrong);\n"
"3 output or environment error (cannot write the CSV, the flame graph or the\n"
"folded stacks, plotting failed,\n"
"babeltrace2 plugins missing, out of memory).\n", out);
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(RP_PREFIX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	return RP_EXIT_USAGE;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcasecmp(s + n - m, suffix);
}

/* The stacks outputs: --flamegraph and --folded, opened before the read so
 * that a wrong path fails at once, removed when the run fails. */
struct stacks_files {
	const char *flame, *folded;
	FILE *flame_f, *folded_f;
	enum rp_flame_weight weight;
};

static int stacks_files_open(struct stacks_files *sf)
{
	if (sf->flame && !(sf->flame_f = fopen(sf->flame, "w"))) {
		fprintf(stderr, RP_PREFIX "cannot write %s: %s\n", sf->flame, strerror(errno));
		return RP_EXIT_OUTPUT;
	}
	if (sf->folded && !(sf->folded_f = fopen(sf->folded, "w"))) {
		fprintf(stderr, RP_PREFIX "cannot write %s: %s\n", sf->folded, strerror(errno));
		return RP_EXIT_OUTPUT;
	}
	return RP_EXIT_OK;
}

static int stacks_files_close(struct stacks_files *sf, int ret)
{
	FILE *f[2] = { sf->flame_f, sf->folded_f };
	const char *name[2] = { sf->flame, sf->folded };

	for (int i = 0; i < 2; i++) {
		if (!f[i])
			continue;
		if (fclose(f[i]) && ret == RP_EXIT_OK) {
			fprintf(stderr, RP_PREFIX "cannot write %s: %s\n", name[i], strerror(errno));
			ret = RP_EXIT_OUTPUT;
		}
		if (ret != RP_EXIT_OK)
			unlink(name[i]);
	}
	return ret;
}

/* Symbolise and collapse @sm, print the sites, write the stacks files. */
static int stacks_report(struct rs_model *sm, const struct rp_model *m,
                         const struct rp_output_opts *oo, const struct rp_sites_opts *so,
                         struct stacks_files *sf, bool progress)
{
	struct rc_result r;
	int ret = RP_EXIT_OK;

	rs_model_finish(sm);
	if (!rc_collapse(sm, &r, progress)) {
		fprintf(stderr, RP_PREFIX "out of memory\n");
		rc_free(&r);
		return RP_EXIT_OUTPUT;
	}
	rp_print_sites(stdout, &r, sm, m, oo, so);
	if (fflush(stdout) != 0) {
		fprintf(stderr, RP_PREFIX "cannot write the report: %s\n", strerror(errno));
		ret = RP_EXIT_OUTPUT;
	}
	if (ret == RP_EXIT_OK && sf->flame_f &&
	    !rp_write_flamegraph(sf->flame_f, sf->flame, &r, m, oo, sf->weight, so->source))
		ret = RP_EXIT_OUTPUT;
	if (ret == RP_EXIT_OK && sf->folded_f && !rp_write_folded(sf->folded_f, sf->folded, &r, m, oo, sf->weight))
		ret = RP_EXIT_OUTPUT;
	rc_free(&r);
	return ret;
}

static int parse_top(const char *arg, unsigned *top)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v > 1000000)
		return usage_error("--top %s: not a number of sites (0 to 1000000)", arg);
	*top = v ? (unsigned)v : UINT32_MAX;
	return RP_EXIT_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_CSV = 256, OPT_PLOT, OPT_GROUP, OPT_FORMAT, OPT_INTERVAL, OPT_PROGRESS,
	       OPT_SKIP, OPT_VERSION, OPT_STACKS, OPT_PROFILE, OPT_TOP, OPT_FLAME, OPT_FOLDED,
	       OPT_WEIGHT, OPT_HORIZON };
	static const struct option longopts[] = {
		{ "csv", required_argument, NULL, OPT_CSV },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "interval-us", required_argument, NULL, OPT_INTERVAL },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "skip-unreadable", no_argument, NULL, OPT_SKIP },
		{ "stacks", no_argument, NULL, OPT_STACKS },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "flamegraph", required_argument, NULL, OPT_FLAME },
		{ "folded", required_argument, NULL, OPT_FOLDED },
		{ "flame-weight", required_argument, NULL, OPT_WEIGHT },
		{ "horizon-ms", required_argument, NULL, OPT_HORIZON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct rp_output_opts oo = { .format = RP_FORMAT_TABLE };
	struct rp_input_opts io = { .progress = isatty(STDERR_FILENO) };
	struct rp_files files = { 0 };
	struct rp_sites_opts so = { .top = 10 };
	struct stacks_files sf = { 0 };
	struct rs_model sm;
	struct rs_decoder *sd = NULL;
	const char *profile = NULL;
	bool stacks = false, top_given = false, weight_given = false;
	char **groups;
	size_t ngroups = 0;
	int64_t interval_ns = 0;
	struct rp_model m;
	int c, ret;

	/* A trace streams through memory that is freed and taken again all
	 * along (babeltrace2's fields, batch buffers): never give it back to
	 * the kernel only to fault it in again at the next packet. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
	groups = calloc((size_t)argc + 1, sizeof(*groups));
	if (!groups)
		return RP_EXIT_OUTPUT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CSV:
			files.csv = optarg;
			break;
		case OPT_PLOT:
			if (!has_suffix(optarg, ".png") && !has_suffix(optarg, ".svg"))
				return usage_error("--plot %s: the file name must end in .png or .svg",
				                   optarg);
			files.plot = optarg;
			break;
		case OPT_GROUP:
			groups[ngroups++] = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "table"))
				oo.format = RP_FORMAT_TABLE;
			else if (!strcmp(optarg, "tsv"))
				oo.format = RP_FORMAT_TSV;
			else
				return usage_error("--format %s: use table or tsv", optarg);
			break;
		case OPT_INTERVAL: {
			char *end;
			unsigned long long us;

			errno = 0;
			us = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || us > INT64_MAX / 1000)
				return usage_error("--interval-us %s: not a number of microseconds",
				                   optarg);
			interval_ns = (int64_t)us * 1000;
			break;
		}
		case OPT_HORIZON: {
			char *end;
			unsigned long ms;

			errno = 0;
			ms = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || !ms || ms > 3600000)
				return usage_error("--horizon-ms %s: not a number of milliseconds (1 to "
				                   "3600000)", optarg);
			io.horizon_ns = (int64_t)ms * 1000000;
			break;
		}
		case OPT_PROGRESS:
			io.progress = true;
			break;
		case OPT_SKIP:
			io.skip_unreadable = true;
			break;
		case OPT_STACKS:
			stacks = true;
			break;
		case OPT_PROFILE:
			profile = optarg;
			break;
		case OPT_TOP:
			if (parse_top(optarg, &so.top) != RP_EXIT_OK)
				return RP_EXIT_USAGE;
			top_given = true;
			break;
		case OPT_FLAME:
			if (!has_suffix(optarg, ".svg"))
				return usage_error("--flamegraph %s: the file name must end in .svg", optarg);
			sf.flame = optarg;
			break;
		case OPT_FOLDED:
			sf.folded = optarg;
			break;
		case OPT_WEIGHT:
			if (!strcmp(optarg, "live"))
				sf.weight = RP_FLAME_LIVE;
			else if (!strcmp(optarg, "peak"))
				sf.weight = RP_FLAME_PEAK;
			else if (!strcmp(optarg, "allocated"))
				sf.weight = RP_FLAME_ALLOCATED;
			else
				return usage_error("--flame-weight %s: use live, peak or allocated", optarg);
			weight_given = true;
			break;
		case 'h':
			usage(stdout);
			return RP_EXIT_OK;
		case OPT_VERSION:
			printf("trackalloc-report %s\n", TA_REPORT_VERSION);
			return RP_EXIT_OK;
		default:
			return usage_error("unknown or incomplete option %s", argv[optind - 1]);
		}
	}
	if (profile) {
		if (stacks)
			return usage_error("--profile and --stacks exclude each other (--stacks is for "
			                   "a trace)");
		if (files.csv || files.plot || io.skip_unreadable || interval_ns || io.horizon_ns)
			return usage_error("--csv, --plot, --interval-us, --horizon-ms and "
			                   "--skip-unreadable are for traces, not --profile");
		if (optind != argc)
			return usage_error("--profile FILE takes no trace directory");
		if (sf.weight == RP_FLAME_PEAK)
			return usage_error("--flame-weight peak: a profile has no peaks (a trace has)");
		so.source = profile;
	} else {
		if (!stacks && (top_given || sf.flame || sf.folded || weight_given))
			return usage_error("--top, --flamegraph, --folded and --flame-weight go with "
			                   "--stacks or --profile");
		if (optind != argc - 1)
			return usage_error("%s", optind >= argc ? "no trace directory given" :
			                                          "give exactly one trace directory");
		oo.trace_dir = argv[optind];
		so.source = oo.trace_dir;
	}
	oo.groups = ngroups ? groups : NULL;

	rs_model_init(&sm);
	ret = rp_files_open(&files);
	if (ret == RP_EXIT_OK)
		ret = stacks_files_open(&sf);
	if (ret != RP_EXIT_OK) {
		rp_files_close(&files, NULL, &oo, false);
		stacks_files_close(&sf, ret);
		free(groups);
		return ret;
	}
	rp_model_init(&m, interval_ns);
	if (profile) {
		ret = rp_read_profile(profile, &m, &sm);
		if (ret == RP_EXIT_OK) {
			rp_warn_unmatched_groups(&m, &oo);
			ret = stacks_report(&sm, &m, &oo, &so, &sf, io.progress);
		}
		goto out;
	}
	if (stacks) {
		sd = rs_decoder_new(&sm);
		if (!sd) {
			fprintf(stderr, RP_PREFIX "out of memory\n");
			ret = RP_EXIT_OUTPUT;
			goto out;
		}
		io.stacks = sd;
	}
	ret = rp_read_trace(oo.trace_dir, &m, &io);
	if (ret == RP_EXIT_OK && stacks && !sm.alloc_samples) {
		fprintf(stderr, RP_PREFIX "%s: no trackalloc:alloc_sample events: the trace was "
		        "recorded without stacks (use 'trackalloc record --stacks')\n", oo.trace_dir);
		ret = RP_EXIT_INPUT;
	}
	if (ret == RP_EXIT_OK && !rp_model_finish(&m)) {
		fprintf(stderr, RP_PREFIX "out of memory\n");
		ret = RP_EXIT_OUTPUT;
	}
	if (ret == RP_EXIT_OK) {
		rp_warn_unmatched_groups(&m, &oo);
		if (!stacks || oo.format != RP_FORMAT_TSV)
			rp_print_report(stdout, &m, &oo);
		if (fflush(stdout) != 0) {
			fprintf(stderr, RP_PREFIX "cannot write the report: %s\n", strerror(errno));
			ret = RP_EXIT_OUTPUT;
		}
	}
	if (ret == RP_EXIT_OK && stacks)
		ret = stacks_report(&sm, &m, &oo, &so, &sf, io.progress);
out:
	if (ret == RP_EXIT_OK)
		ret = rp_files_close(&files, &m, &oo, true);
	else
		rp_files_close(&files, &m, &oo, false);
	ret = stacks_files_close(&sf, ret);
	rs_decoder_free(sd);
	rs_model_fini(&sm);
	rp_model_fini(&m);
	free(groups);
	return ret;
}
