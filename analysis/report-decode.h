/* SPDX-License-Identifier: MIT */
/*
 * The report's sink: decodes trackalloc events from babeltrace2 messages
 * and hands them to the model (report-decode.c). Used by report-input.c.
 */
#ifndef TA_REPORT_DECODE_H
#define TA_REPORT_DECODE_H

#include <stdbool.h>

#include <babeltrace2/babeltrace.h>

struct rp_model;
struct rp_reader;

/* A reader feeding @m; @progress: print progress on stderr every ~5 s;
 * batch calls wait @horizon_ns for older ones of other threads (0: the
 * default, RP_MERGE_HORIZON_NS). */
struct rp_reader *rp_reader_new(struct rp_model *m, bool progress, int64_t horizon_ns);
void rp_reader_free(struct rp_reader *r);
/* Also feed the sampled-stacks and statedump events to @sd (--stacks). */
struct rs_decoder;
void rp_reader_set_stacks(struct rp_reader *r, struct rs_decoder *sd);

/*
 * The simple sink's consume function (user data: the reader). It ends the
 * graph early, with status END, when it cannot go on: then
 * rp_reader_failure() says why.
 */
bt_graph_simple_sink_component_consume_func_status rp_reader_consume(bt_message_iterator *it,
                                                                     void *reader);

/* After the last message: apply the calls still queued from batches
 * (report-batch.c). false: out of memory. */
bool rp_reader_finish(struct rp_reader *r);

/* Why decoding stopped early (a one-line message owned by @r), or NULL;
 * *@oom tells whether memory ran out. */
const char *rp_reader_failure(const struct rp_reader *r, bool *oom);

/* The index of member @name of structure field class @sfc, its type in
 * *@type; -1 when @sfc is not a structure or has no such member. */
int64_t rp_struct_member_index(const bt_field_class *sfc, const char *name,
                               bt_field_class_type *type);

#endif /* TA_REPORT_DECODE_H */
