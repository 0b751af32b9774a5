/* SPDX-License-Identifier: MIT */
/*
 * Drawing the timeline CSV with plot.py (report-plot.c). Used by
 * report-files.c; report.c names the interpreter in its usage text.
 */
#ifndef TA_REPORT_PLOT_H
#define TA_REPORT_PLOT_H

/* The interpreter that runs plot.py. */
#ifndef TA_REPORT_PYTHON
#define TA_REPORT_PYTHON "/usr/bin/python3"
#endif

struct rp_model;
struct rp_output_opts;

/*
 * Draw the timeline CSV @csv into @out (its name ends in .png or .svg),
 * with each soft and hard limit that the group_limit events of @m's groups
 * (those @oo selects) reported, as a dashed line over the group's curve.
 * Flushes stdout first, which the plotter inherits. Returns RP_EXIT_OK, or
 * prints one line on stderr and returns RP_EXIT_OUTPUT.
 */
int rp_run_plot(const char *csv, const char *out, const struct rp_model *m,
                const struct rp_output_opts *oo);

#endif /* TA_REPORT_PLOT_H */
