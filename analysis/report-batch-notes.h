/* SPDX-License-Identifier: MIT */
/*
 * What the outputs say about trackalloc:batch events (report-batch-notes.c):
 * how many there were, and per process what they could not tell. Used by
 * report-output.c.
 */
#ifndef TA_REPORT_BATCH_NOTES_H
#define TA_REPORT_BATCH_NOTES_H

#include <stdio.h>

struct rp_model;
struct rp_proc;

/* The table's trace-wide line about batches (nothing without any). */
void rp_print_batch_summary(FILE *out, const struct rp_model *m);
/* A process's lines: lost or undecodable stream bytes, late calls. */
void rp_print_batch_notes(FILE *out, const struct rp_model *m, const struct rp_proc *p);
/* The TSV's '#' lines about batches (nothing without any). */
void rp_print_batch_tsv(FILE *out, const struct rp_model *m);

#endif /* TA_REPORT_BATCH_NOTES_H */
