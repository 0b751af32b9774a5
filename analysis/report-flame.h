/* SPDX-License-Identifier: MIT */
/*
 * Live bytes by group and stack as a flame graph (an SVG written here, no
 * external tool) and as folded stacks, the text flamegraph.pl and speedscope
 * read (report-flame.c). Used by report.c.
 *
 * Both show each group's collapsed stacks (report-collapse.h) weighted by
 * their estimated live bytes (or, by choice, their bytes at the group's
 * peak or allocated): the group is the root frame, then the
 * outermost frame down to the site. A frame is its function (inlined ones
 * too), or module+0xoffset without symbols. Stacks that weigh nothing are
 * left out.
 */
#ifndef TA_REPORT_FLAME_H
#define TA_REPORT_FLAME_H

#include <stdbool.h>
#include <stdio.h>

struct rc_result;
struct rp_model;
struct rp_output_opts;

/* What the frames weigh (--flame-weight): estimated live bytes at the end
 * (the default), at the group's peak (traces), or bytes allocated. */
enum rp_flame_weight { RP_FLAME_LIVE, RP_FLAME_PEAK, RP_FLAME_ALLOCATED };

/*
 * Folded stacks into @f (named @path in errors): one line per distinct
 * path, `group;outermost;...;innermost BYTES`, sorted. ';' inside a frame
 * is written ','. When several processes are shown the group frame is
 * `GROUP (pid PID)`. Returns false after printing why.
 */
bool rp_write_folded(FILE *f, const char *path, const struct rc_result *r,
                     const struct rp_model *gm, const struct rp_output_opts *oo,
                     enum rp_flame_weight weight);

/*
 * The flame graph into @f (named @path in errors), titled with @source: one
 * <rect> per frame at least 0.1 px wide, widths proportional to bytes, a
 * <title> tooltip per frame (label, bytes, share), labels cut to fit.
 * Returns false after printing why.
 */
bool rp_write_flamegraph(FILE *f, const char *path, const struct rc_result *r,
                         const struct rp_model *gm, const struct rp_output_opts *oo,
                         enum rp_flame_weight weight, const char *source);

#endif /* TA_REPORT_FLAME_H */
