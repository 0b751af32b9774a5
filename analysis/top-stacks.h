/* SPDX-License-Identifier: MIT */
/*
 * `trackalloc top --stacks` (top-stacks.c): the sampled stacks of the
 * watched processes (alloc_sample, free_sample and the LTTng-UST
 * statedump, decoded by the report's stacks decoder into the report's
 * stacks model), collapsed into allocation sites as `trackalloc report
 * --stacks` does (report-collapse.c, symbols by report-symbols.c), for the
 * selected group.
 */
#ifndef TA_TOP_STACKS_H
#define TA_TOP_STACKS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rs_decoder;
struct tm_model;
struct ts_stacks;

/* NULL: out of memory. */
struct ts_stacks *ts_new(void);
void ts_free(struct ts_stacks *t);

/* The decoder the live reader feeds. */
struct rs_decoder *ts_decoder(struct ts_stacks *t);

/* Collapse again when new samples arrived and at least @min_s seconds
 * passed since the last time (@now: CLOCK_MONOTONIC seconds). */
void ts_update(struct ts_stacks *t, double now, double min_s);

/*
 * Up to @max lines, each at most @width columns, on the top allocation
 * sites of group @gid of process @pid by estimated live bytes, into
 * @lines[i] (each 4 * @width + 1 bytes). Returns how many; with no samples for
 * the group, one line that says so.
 */
size_t ts_lines(const struct ts_stacks *t, int64_t pid, uint32_t gid, size_t max, size_t width,
                char **lines);

/* For --batch: the top @top sites of every group with samples, named as
 * @m names them. */
void ts_print_all(const struct ts_stacks *t, const struct tm_model *m, FILE *out, unsigned top);

#endif /* TA_TOP_STACKS_H */
