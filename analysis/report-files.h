/* SPDX-License-Identifier: MIT */
/*
 * The files --csv and --plot name (report-files.c). Used by report.c.
 */
#ifndef TA_REPORT_FILES_H
#define TA_REPORT_FILES_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

struct rp_model;
struct rp_output_opts;

/* Set csv and plot (NULL: not asked for), the rest zero. */
struct rp_files {
	const char *csv, *plot;
	FILE *csv_file;
	char tmp[PATH_MAX]; /* the CSV for plot.py when no --csv is given */
};

/*
 * Open the CSV (a temporary one when only --plot is given) and check that
 * the plot's directory is writable, before the trace is read, so that a
 * wrong path fails at once rather than after a long read. Returns
 * RP_EXIT_OK, or prints one line on stderr and returns RP_EXIT_OUTPUT; call
 * rp_files_close() in either case.
 */
int rp_files_open(struct rp_files *f);

/*
 * With @write, write the timeline of @m (selected by @oo) and draw it;
 * without, the run failed: remove the CSV rather than leave an empty or
 * partial timeline (@m may then be NULL). In any case close the CSV and
 * remove the temporary one. Returns RP_EXIT_OK, or RP_EXIT_OUTPUT (after
 * printing why when @write).
 */
int rp_files_close(struct rp_files *f, const struct rp_model *m, const struct rp_output_opts *oo,
                   bool write);

#endif /* TA_REPORT_FILES_H */
