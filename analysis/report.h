/* SPDX-License-Identifier: MIT */
/*
 * What every part of trackalloc-report shares: the message prefix and the
 * exit codes. The report reads one way, each part with its own header:
 *
 *   report-discover.c  finds the CTF traces under a directory, checks them
 *                      for truncation
 *   report-input.c     the libbabeltrace2 graph (sources, muxer, sink)
 *   report-decode.c    the sink: decodes trackalloc events for the model
 *   report-model.c     per-process, per-group accounting (live-block map,
 *                      peaks), the trace-wide counts
 *   report-limits.c    the model's in-process peaks (group_stats peak_bytes)
 *                      and limit crossings (group_limit)
 *   report-timeline.c  the model's sampled live-bytes timelines
 *   report-output.c    the table, TSV and CSV timeline of the model
 *   report-crossings.c the limit crossings section of the table and the TSV
 *   report-files.c     the --csv and --plot files: opened before the read,
 *                      written after
 *   report-plot.c      runs plot.py on the timeline
 *   report.c           the command line
 *
 * Sampled stacks (--stacks, --profile), a second pipeline with its own model:
 *
 *   report-profile.c   reads a TRACKALLOC_PROFILE file into the models
 *   report-stacks-decode.c  alloc_sample/free_sample and statedump events
 *                      (fed by report-decode.c) into the stacks model
 *   report-stacks.c    the stacks model: modules, stacks, sites, peaks
 *   report-symbols.c   libdwfl symbolisation
 *   report-collapse.c  allocator frames cut, stacks merged into sites
 *   report-sites.c     the top-sites tables and TSV
 *   report-flame.c     the flame graph and the folded stacks
 *
 * Outputs show times as seconds since the trace start, the timestamp of the
 * first trackalloc event.
 */
#ifndef TA_REPORT_H
#define TA_REPORT_H

#define RP_PREFIX "trackalloc report: "

/* Exit codes (documented in the usage text). */
enum rp_exit {
	RP_EXIT_OK = 0,
	RP_EXIT_USAGE = 1,  /* bad command line */
	RP_EXIT_INPUT = 2,  /* missing, non-CTF, non-trackalloc, empty, truncated or corrupt trace */
	RP_EXIT_OUTPUT = 3, /* cannot write the CSV, run the plotter, or set up babeltrace2 */
};

#endif /* TA_REPORT_H */
