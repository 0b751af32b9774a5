/* SPDX-License-Identifier: MIT */
/*
 * What the report shows of the model (report-output.c): the per-group table
 * or TSV on stdout, the live-bytes timeline CSV, and the --group selection
 * they share.
 */
#ifndef TA_REPORT_OUTPUT_H
#define TA_REPORT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rp_group;
struct rp_model;

enum rp_format { RP_FORMAT_TABLE, RP_FORMAT_TSV };

struct rp_output_opts {
	enum rp_format format;
	const char *trace_dir;
	char **groups; /* --group selections, NULL-terminated; NULL: all */
};

/* Whether group @g passes the --group selection. */
bool rp_group_selected(const struct rp_output_opts *o, const struct rp_group *g);
/* The group's display name: its name, or "#ID" in @buf. */
const char *rp_group_label(const struct rp_group *g, char *buf, size_t len);
/* The tag a rule's groups carry (trackalloc.h, "Rules"): the rule's text. */
#define RP_RULE_TAG "rule"
/* The rule that made group @g (its rule tag), or NULL. */
const char *rp_group_rule(const struct rp_group *g);
/* A warning on stderr for each --group selection no group of @m passes. */
void rp_warn_unmatched_groups(const struct rp_model *m, const struct rp_output_opts *o);
void rp_print_report(FILE *out, const struct rp_model *m, const struct rp_output_opts *o);
/* Seconds from the trace start to @ts. */
double rp_rel_s(const struct rp_model *m, int64_t ts);
/* Terminal columns of UTF-8 @s. */
size_t rp_text_width(const char *s);
/* A copy of @s with control characters (which would garble the terminal)
 * replaced by '?' (NULL: out of memory). */
char *rp_sanitized(const char *s);
/* @s as a TSV field: tab, newline, carriage return and backslash escaped. */
void rp_tsv_text(FILE *out, const char *s);
/* Write the timeline CSV to @f (named @path in errors); false after
 * printing an error. The caller closes @f. */
bool rp_write_csv(FILE *f, const char *path, const struct rp_model *m,
                  const struct rp_output_opts *o);

#endif /* TA_REPORT_OUTPUT_H */
