/* SPDX-License-Identifier: MIT */
/*
 * Decoding the events of sampled stacks for the stacks model
 * (report-stacks-decode.c): trackalloc:alloc_sample and free_sample, and
 * the LTTng-UST statedump and dl events that say which binary is mapped
 * where (lttng_ust_statedump:bin_info, build_id, debug_link;
 * lttng_ust_lib:load, build_id, debug_link, unload). Called by
 * report-decode.c, which resolves event classes once and finds each
 * event's process.
 */
#ifndef TA_REPORT_STACKS_DECODE_H
#define TA_REPORT_STACKS_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include <babeltrace2/babeltrace.h>

struct rs_model;
struct rs_decoder;

/* NULL: out of memory. */
struct rs_decoder *rs_decoder_new(struct rs_model *m);
void rs_decoder_free(struct rs_decoder *d);

enum { RS_CLASS_NONE = -1, RS_CLASS_BAD = -2, RS_CLASS_OOM = -3 };

/*
 * The handle of event class @ec named @name for rs_decoder_event(), or
 * RS_CLASS_NONE (not an event of sampled stacks), RS_CLASS_BAD (a known
 * event without the fields it needs: rs_decoder_failure() says which) or
 * RS_CLASS_OOM. *@provider tells whether it is a trackalloc event.
 */
int rs_decoder_class(struct rs_decoder *d, const bt_event_class *ec, const char *name,
                     bool *provider);
/* Feed one event of class @handle from process @pid at @ts. false: out of memory. */
bool rs_decoder_event(struct rs_decoder *d, int handle, const bt_event *ev, int64_t pid,
                      int64_t ts);
/* Why a class was refused (owned by @d), or NULL. */
const char *rs_decoder_failure(const struct rs_decoder *d);

#endif /* TA_REPORT_STACKS_DECODE_H */
