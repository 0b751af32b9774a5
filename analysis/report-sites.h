/* SPDX-License-Identifier: MIT */
/*
 * The sampled-stacks report on stdout (report-sites.c): per process its
 * modules, per group its top allocation sites. Used by report.c.
 */
#ifndef TA_REPORT_SITES_H
#define TA_REPORT_SITES_H

#include <stdio.h>

struct rc_result;
struct rp_model;
struct rp_output_opts;
struct rs_model;

struct rp_sites_opts {
	unsigned top;          /* sites per group and criterion */
	const char *source;    /* the profile file or trace directory */
};

/*
 * Print @r (collapsed from @sm; group names from @gm) as tables, or as TSV
 * when @oo says so (one line per site: '#' header, then pid, group_id,
 * group, rank, live_estimate, live_bytes, live_objects, peak_estimate,
 * alloc_estimate, alloc_bytes, alloc_objects, function, file, line, module,
 * offset, inlined, caller). Groups selected by @oo->groups. Each group
 * lists the union of its top @so->top sites by live estimate at the end, at
 * the group's peak (traces) and by bytes allocated, largest live first.
 */
void rp_print_sites(FILE *out, const struct rc_result *r, const struct rs_model *sm,
                    const struct rp_model *gm, const struct rp_output_opts *oo,
                    const struct rp_sites_opts *so);

/* The name of group @gid of process @pid, or "#ID" in @buf. */
const char *rp_stacks_group_label(const struct rp_model *gm, int64_t pid, uint32_t gid,
                                  char *buf, size_t len);

#endif /* TA_REPORT_SITES_H */
