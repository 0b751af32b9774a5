/* SPDX-License-Identifier: MIT */
/*
 * Reading the traces under a directory into the model, through a
 * libbabeltrace2 graph (report-input.c). Used by report.c.
 */
#ifndef TA_REPORT_INPUT_H
#define TA_REPORT_INPUT_H

#include <stdbool.h>

struct rp_model;
struct rs_decoder;

struct rp_input_opts {
	bool progress;
	/* a trace that cannot be opened (truncated, corrupt, incomplete
	 * metadata) is skipped with a warning rather than failing the run */
	bool skip_unreadable;
	/* --stacks: where the sampled-stacks events go (NULL: ignored) */
	struct rs_decoder *stacks;
	/* --horizon-ms: how long batch calls wait (0: the default) */
	int64_t horizon_ns;
};

/*
 * Read the trace(s) under @dir into @m. Returns RP_EXIT_OK, or prints one
 * line on stderr and returns RP_EXIT_INPUT / RP_EXIT_OUTPUT.
 */
int rp_read_trace(const char *dir, struct rp_model *m, const struct rp_input_opts *opts);

#endif /* TA_REPORT_INPUT_H */
