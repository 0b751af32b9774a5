/* SPDX-License-Identifier: MIT */
/*
 * The limit crossings the report shows (report-crossings.c): a section
 * after each process's table, '#' lines after the TSV's group rows. Used by
 * report-output.c; the model's part is report-limits.c.
 */
#ifndef TA_REPORT_CROSSINGS_H
#define TA_REPORT_CROSSINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct rp_model;
struct rp_proc;
struct rp_output_opts;

/* The table shows at most this many crossings of a process: the first and
 * the last half of them, and how many it left out. */
#define RP_CROSSINGS_SHOWN 40

/* The crossings of the groups @o selects, in every process of @m. */
size_t rp_count_crossings(const struct rp_model *m, const struct rp_output_opts *o);

/* The section of process @p, after its table: nothing when it has no
 * crossing of a selected group. */
void rp_print_crossings(FILE *out, const struct rp_model *m, const struct rp_proc *p,
                        const struct rp_output_opts *o);

/*
 * The TSV's crossings, after every group row: when there is any, a line
 * "# limit_columns" naming the columns, then one line "# limit" per
 * crossing, of the @nprocs processes @procs in that order (so that readers
 * of the group rows, which skip '#' lines, are not disturbed).
 */
void rp_print_crossings_tsv(FILE *out, const struct rp_model *m, struct rp_proc *const *procs,
                            size_t nprocs, const struct rp_output_opts *o);

#endif /* TA_REPORT_CROSSINGS_H */
