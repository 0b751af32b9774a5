/* SPDX-License-Identifier: MIT */
/*
 * Decoding the trackalloc events of the report's sink. Per event there is
 * no name lookup: each event class is resolved once (cached by its address)
 * into a kind and the indexes of the payload and common-context members it
 * needs; unsigned integers are read directly.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "report-batch.h"
#include "report-decode.h"
#include "report-limits.h"
#include "report-merge.h"
#include "report-model.h"
#include "report-stacks-decode.h"

enum ec_kind {
	EK_NONE,      /* not a trackalloc event */
	EK_OTHER,     /* a trackalloc event the report does not use */
	EK_REGISTER,  /* group_id, name */
	EK_TAG,       /* group_id, key, value */
	EK_ALLOC,     /* ptr, size, group_id (alloc and alloc_aligned) */
	EK_FREE,      /* ptr, size, group_id */
	EK_REALLOC,   /* in_ptr, ptr, old_size, size, source_group_id, group_id */
	EK_STATS,     /* group_id, allocated_bytes, allocated_objects, freed_bytes, freed_objects,
	               * peak_bytes (optional: older traces lack it) */
	EK_LIMIT,     /* group_id, live_bytes, soft_limit, hard_limit */
	EK_BATCH,     /* tid, offset, length, tsc, ns, tsc_base, ns_base, data (enum rp_batch_field) */
	EK_STACKS,    /* sampled stacks and statedump (--stacks): report-stacks-decode.c */
};

#define EC_FIELDS_MAX 8
/* ec_info.field[] of an optional field the event class does not have */
#define EC_FIELD_ABSENT UINT64_MAX

struct ec_info {
	const bt_event_class *ec;
	enum ec_kind kind;
	bool provider; /* a trackalloc event */
	int sclass;    /* EK_STACKS: the stacks decoder's handle */
	bool has_clock;
	uint64_t field[EC_FIELDS_MAX];
	int64_t ctx_vpid, ctx_vtid, ctx_procname; /* member indexes, -1: absent */
	bool vpid_signed, vtid_signed;
	int64_t env_vpid; /* per-process buffers: the trace's own vpid */
	const char *env_procname;
};

struct ec_spec {
	const char *name;
	enum ec_kind kind;
	/* strings end with '$'; an optional unsigned integer with '?'; a
	 * sequence of unsigned integers with '*' */
	const char *fields[EC_FIELDS_MAX];
};

static const struct ec_spec ec_specs[] = {
	{ "trackalloc:group_register", EK_REGISTER, { "group_id", "name$" } },
	{ "trackalloc:group_tag", EK_TAG, { "group_id", "key$", "value$" } },
	{ "trackalloc:alloc", EK_ALLOC, { "ptr", "size", "group_id" } },
	{ "trackalloc:alloc_aligned", EK_ALLOC, { "ptr", "size", "group_id" } },
	{ "trackalloc:free", EK_FREE, { "ptr", "size", "group_id" } },
	{ "trackalloc:realloc", EK_REALLOC,
	  { "in_ptr", "ptr", "old_size", "size", "source_group_id", "group_id" } },
	{ "trackalloc:group_stats", EK_STATS,
	  { "group_id", "allocated_bytes", "allocated_objects", "freed_bytes", "freed_objects",
	    "peak_bytes?" } },
	{ "trackalloc:group_limit", EK_LIMIT,
	  { "group_id", "live_bytes", "soft_limit", "hard_limit" } },
	{ "trackalloc:batch", EK_BATCH,
	  { "tid", "offset", "length", "tsc", "ns", "tsc_base", "ns_base", "data*" } },
};

struct rp_reader {
	struct rp_model *m;
	struct rs_decoder *sd; /* --stacks: the stacks decoder, else NULL */
	struct rp_batcher *batch;
	/* event-class cache: open addressing by address */
	struct ec_info **ecs;
	size_t ecs_mask, ecs_count;
	struct ec_info *last_ec;
	char *fatal; /* why reading stopped early (allocated) */
	bool oom;
	/* progress */
	bool progress;
	uint64_t next_check;
	struct timespec last_report;
};

static void __attribute__((format(printf, 2, 3)))
set_fatal(struct rp_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->fatal)
		return;
	va_start(ap, fmt);
	if (vasprintf(&r->fatal, fmt, ap) < 0)
		r->fatal = NULL, r->oom = true;
	va_end(ap);
}

/* ---- event classes -------------------------------------------------------- */

int64_t rp_struct_member_index(const bt_field_class *sfc, const char *name,
                               bt_field_class_type *type)
{
	uint64_t n;

	if (!sfc || bt_field_class_get_type(sfc) != BT_FIELD_CLASS_TYPE_STRUCTURE)
		return -1;
	n = bt_field_class_structure_get_member_count(sfc);
	for (uint64_t i = 0; i < n; i++) {
		const bt_field_class_structure_member *mb =
			bt_field_class_structure_borrow_member_by_index_const(sfc, i);

		if (!strcmp(bt_field_class_structure_member_get_name(mb), name)) {
			*type = bt_field_class_get_type(
				bt_field_class_structure_member_borrow_field_class_const(mb));
			return (int64_t)i;
		}
	}
	return -1;
}

/* The element type of array member @idx of structure class @sfc, or
 * BT_FIELD_CLASS_TYPE_STRING (not an integer) when it is not an array. */
static bt_field_class_type seq_element_type(const bt_field_class *sfc, uint64_t idx)
{
	const bt_field_class *fc = bt_field_class_structure_member_borrow_field_class_const(
		bt_field_class_structure_borrow_member_by_index_const(sfc, idx));

	if (!bt_field_class_type_is(bt_field_class_get_type(fc), BT_FIELD_CLASS_TYPE_ARRAY))
		return BT_FIELD_CLASS_TYPE_STRING;
	return bt_field_class_get_type(bt_field_class_array_borrow_element_field_class_const(fc));
}

static bool fill_ec_info(struct rp_reader *r, struct ec_info *ci, const bt_event *ev)
{
	const bt_event_class *ec = ci->ec;
	const bt_stream_class *sc = bt_event_class_borrow_stream_class_const(ec);
	const bt_field_class *ctx = bt_stream_class_borrow_event_common_context_field_class_const(sc);
	const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(ec);
	const bt_trace *trace = bt_stream_borrow_trace_const(bt_event_borrow_stream_const(ev));
	const bt_clock_class *cc;
	const bt_value *v;
	const char *name = bt_event_class_get_name(ec);
	const struct ec_spec *spec = NULL;
	bt_field_class_type t;

	cc = bt_stream_class_borrow_default_clock_class_const(sc);
	ci->has_clock = cc != NULL;
	if (cc && bt_clock_class_origin_is_unix_epoch(cc))
		rp_model_set_unix_epoch(r->m);
	ci->ctx_vpid = rp_struct_member_index(ctx, "vpid", &t);
	ci->vpid_signed = ci->ctx_vpid >= 0 &&
	                  bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER);
	if (ci->ctx_vpid >= 0 && !bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_INTEGER))
		ci->ctx_vpid = -1;
	ci->ctx_vtid = rp_struct_member_index(ctx, "vtid", &t);
	ci->vtid_signed = ci->ctx_vtid >= 0 &&
	                  bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER);
	if (ci->ctx_vtid >= 0 && !bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_INTEGER))
		ci->ctx_vtid = -1;
	ci->ctx_procname = rp_struct_member_index(ctx, "procname", &t);
	if (ci->ctx_procname >= 0 && t != BT_FIELD_CLASS_TYPE_STRING)
		ci->ctx_procname = -1;
	/* per-process buffering: the process is the trace's, in its environment */
	v = bt_trace_borrow_environment_entry_value_by_name_const(trace, "vpid");
	ci->env_vpid = v && bt_value_get_type(v) == BT_VALUE_TYPE_SIGNED_INTEGER ?
	                       bt_value_integer_signed_get(v) : 0;
	v = bt_trace_borrow_environment_entry_value_by_name_const(trace, "procname");
	ci->env_procname = v && bt_value_get_type(v) == BT_VALUE_TYPE_STRING ?
	                           bt_value_string_get(v) : NULL;

	ci->kind = EK_NONE;
	ci->provider = name && !strncmp(name, "trackalloc:", 11);
	if (r->sd) {
		bool provider = false;
		int h = rs_decoder_class(r->sd, ec, name, &provider);

		if (h >= 0) {
			ci->kind = EK_STACKS;
			ci->sclass = h;
			return true;
		}
		if (h == RS_CLASS_BAD) {
			set_fatal(r, "%s", rs_decoder_failure(r->sd));
			return false;
		}
		if (h == RS_CLASS_OOM) {
			r->oom = true;
			return false;
		}
	}
	if (!ci->provider)
		return true;
	ci->kind = EK_OTHER;
	for (size_t i = 0; i < sizeof(ec_specs) / sizeof(ec_specs[0]); i++)
		if (!strcmp(name, ec_specs[i].name))
			spec = &ec_specs[i];
	if (!spec)
		return true;
	for (int i = 0; i < EC_FIELDS_MAX && spec->fields[i]; i++) {
		char want[64];
		size_t len = strlen(spec->fields[i]);
		bool is_string = spec->fields[i][len - 1] == '$';
		bool optional = spec->fields[i][len - 1] == '?';
		bool is_seq = spec->fields[i][len - 1] == '*';
		int64_t idx;

		snprintf(want, sizeof(want), "%.*s", (int)(len - (is_string || optional || is_seq)),
		         spec->fields[i]);
		idx = rp_struct_member_index(payload, want, &t);
		if (idx < 0 && optional) {
			ci->field[i] = EC_FIELD_ABSENT;
			continue;
		}
		if (idx >= 0 && is_seq)
			t = seq_element_type(payload, (uint64_t)idx);
		if (idx < 0 || (is_string ? t != BT_FIELD_CLASS_TYPE_STRING :
		                            !bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))) {
			set_fatal(r, "unsupported trace: event %s has no %s field `%s'", name,
			          is_string ? "string" : is_seq ? "sequence of unsigned integers" :
			          "unsigned integer", want);
			return false;
		}
		ci->field[i] = (uint64_t)idx;
	}
	ci->kind = spec->kind;
	return true;
}

static inline size_t ec_hash(const bt_event_class *ec, size_t mask)
{
	return (size_t)(((uintptr_t)ec >> 4) * 0x9E3779B97F4A7C15ull >> 20) & mask;
}

static bool ecs_grow(struct rp_reader *r)
{
	size_t nsize = r->ecs ? (r->ecs_mask + 1) * 2 : 64;
	struct ec_info **n = calloc(nsize, sizeof(*n));

	if (!n)
		return false;
	for (size_t i = 0; r->ecs && i <= r->ecs_mask; i++) {
		size_t s;

		if (!r->ecs[i])
			continue;
		for (s = ec_hash(r->ecs[i]->ec, nsize - 1); n[s]; s = (s + 1) & (nsize - 1))
			;
		n[s] = r->ecs[i];
	}
	free(r->ecs);
	r->ecs = n;
	r->ecs_mask = nsize - 1;
	return true;
}

static struct ec_info *ec_lookup(struct rp_reader *r, const bt_event_class *ec, const bt_event *ev)
{
	struct ec_info *ci;
	size_t s;

	if (r->last_ec && r->last_ec->ec == ec)
		return r->last_ec;
	if (r->ecs) {
		for (s = ec_hash(ec, r->ecs_mask); r->ecs[s]; s = (s + 1) & r->ecs_mask)
			if (r->ecs[s]->ec == ec)
				return r->last_ec = r->ecs[s];
	}
	if ((!r->ecs || (r->ecs_count + 1) * 2 > r->ecs_mask + 1) && !ecs_grow(r))
		goto oom;
	ci = calloc(1, sizeof(*ci));
	if (!ci)
		goto oom;
	ci->ec = ec;
	if (!fill_ec_info(r, ci, ev)) {
		free(ci);
		return NULL;
	}
	for (s = ec_hash(ec, r->ecs_mask); r->ecs[s]; s = (s + 1) & r->ecs_mask)
		;
	r->ecs[s] = ci;
	r->ecs_count++;
	return r->last_ec = ci;
oom:
	r->oom = true;
	return NULL;
}

/* ---- messages ------------------------------------------------------------- */

static inline uint64_t member_u64(const bt_field *s, uint64_t idx)
{
	return bt_field_integer_unsigned_get_value(
		bt_field_structure_borrow_member_field_by_index_const(s, idx));
}

static inline const char *member_str(const bt_field *s, uint64_t idx)
{
	return bt_field_string_get_value(bt_field_structure_borrow_member_field_by_index_const(s, idx));
}

static inline int64_t member_int(const bt_field *s, int64_t idx, bool is_signed)
{
	const bt_field *f = bt_field_structure_borrow_member_field_by_index_const(s, (uint64_t)idx);

	return is_signed ? bt_field_integer_signed_get_value(f) :
	                   (int64_t)bt_field_integer_unsigned_get_value(f);
}

static bool handle_event(struct rp_reader *r, const bt_message *msg)
{
	const bt_event *ev = bt_message_event_borrow_event_const(msg);
	const bt_event_class *ec = bt_event_borrow_class_const(ev);
	struct ec_info *ci = ec_lookup(r, ec, ev);
	struct rp_model *m = r->m;
	const bt_field *pl, *ctx = NULL;
	struct rp_proc *p;
	int64_t ts = 0, pid;
	uint64_t *f;

	rp_model_count_event(m, ci && ci->provider);
	if (!ci)
		return false;
	if (ci->kind == EK_NONE || ci->kind == EK_OTHER)
		return true;
	if (ci->has_clock)
		(void)bt_clock_snapshot_get_ns_from_origin(
			bt_message_event_borrow_default_clock_snapshot_const(msg), &ts);
	if (ci->ctx_vpid >= 0) {
		ctx = bt_event_borrow_common_context_field_const(ev);
		pid = member_int(ctx, ci->ctx_vpid, ci->vpid_signed);
	} else {
		pid = ci->env_vpid;
	}
	/* statedump events: no trackalloc process, no trace start */
	if (!ci->provider) {
		if (!rs_decoder_event(r->sd, ci->sclass, ev, pid, ts))
			goto oom;
		return true;
	}
	/* a batch's time is not its calls' (they are noted as they are applied) */
	if (ci->kind != EK_BATCH)
		rp_model_note_time(m, ts);
	p = rp_model_proc(m, pid);
	if (!p)
		goto oom;
	if (!rp_proc_has_main_procname(p)) {
		if (ci->ctx_procname >= 0 && ctx) {
			bool main_thread = ci->ctx_vtid >= 0 &&
			                   member_int(ctx, ci->ctx_vtid, ci->vtid_signed) == pid;

			rp_proc_set_procname(p, member_str(ctx, (uint64_t)ci->ctx_procname), main_thread);
		} else if (ci->env_procname) {
			rp_proc_set_procname(p, ci->env_procname, true);
		}
	}

	pl = bt_event_borrow_payload_field_const(ev);
	f = ci->field;
	if (ci->kind == EK_ALLOC || ci->kind == EK_FREE || ci->kind == EK_REALLOC) {
		bool cleared;

		if (p->form != RP_FORM_EVENTS && rp_proc_use_form(m, p, RP_FORM_EVENTS, &cleared) &&
		    cleared)
			rp_batcher_drop(r->batch, p);
	}
	switch (ci->kind) {
	case EK_ALLOC:
		if (!rp_on_alloc(p, ts, member_u64(pl, f[0]), member_u64(pl, f[1]),
		                 (uint32_t)member_u64(pl, f[2])))
			goto oom;
		break;
	case EK_FREE:
		if (!rp_on_free(p, ts, member_u64(pl, f[0]), member_u64(pl, f[1]),
		                (uint32_t)member_u64(pl, f[2])))
			goto oom;
		break;
	case EK_REALLOC:
		if (!rp_on_realloc(p, ts, member_u64(pl, f[0]), member_u64(pl, f[1]),
		                   member_u64(pl, f[2]), member_u64(pl, f[3]),
		                   (uint32_t)member_u64(pl, f[4]), (uint32_t)member_u64(pl, f[5])))
			goto oom;
		break;
	case EK_STATS:
		if (!rp_on_stats(p, ts, (uint32_t)member_u64(pl, f[0]), member_u64(pl, f[1]),
		                 member_u64(pl, f[2]), member_u64(pl, f[3]), member_u64(pl, f[4])))
			goto oom;
		if (f[5] != EC_FIELD_ABSENT &&
		    !rp_on_peak(p, (uint32_t)member_u64(pl, f[0]), member_u64(pl, f[5])))
			goto oom;
		break;
	case EK_LIMIT:
		if (!rp_on_limit(p, ts, (uint32_t)member_u64(pl, f[0]), member_u64(pl, f[1]),
		                 member_u64(pl, f[2]), member_u64(pl, f[3])))
			goto oom;
		break;
	case EK_REGISTER:
		if (!rp_on_register(p, (uint32_t)member_u64(pl, f[0]), member_str(pl, f[1])))
			goto oom;
		break;
	case EK_TAG:
		if (!rp_on_tag(p, (uint32_t)member_u64(pl, f[0]), member_str(pl, f[1]),
		               member_str(pl, f[2])))
			goto oom;
		break;
	case EK_STACKS:
		if (!rs_decoder_event(r->sd, ci->sclass, ev, pid, ts))
			goto oom;
		break;
	case EK_BATCH: {
		bool cleared;

		if (!rp_proc_use_form(m, p, RP_FORM_BATCHES, &cleared))
			break; /* its per-call events are read instead */
		if (!rp_batcher_event(r->batch, p, ts, pl, f))
			goto oom;
		break;
	}
	default:
		break;
	}
	return true;
oom:
	r->oom = true;
	return false;
}

/* Discarded events or packets: per-process buffers name their process in
 * the trace environment; per-user buffers mix processes, so then every
 * process is marked. */
static void handle_discarded(struct rp_reader *r, const bt_message *msg, bool packets)
{
	const bt_stream *stream;
	const bt_value *v;
	uint64_t n = 0;
	bt_property_availability avail;

	if (packets) {
		stream = bt_message_discarded_packets_borrow_stream_const(msg);
		avail = bt_message_discarded_packets_get_count(msg, &n);
		rp_model_on_discarded_packets(r->m, avail == BT_PROPERTY_AVAILABILITY_AVAILABLE, n);
	} else {
		stream = bt_message_discarded_events_borrow_stream_const(msg);
		avail = bt_message_discarded_events_get_count(msg, &n);
		rp_model_on_discarded_events(r->m, avail == BT_PROPERTY_AVAILABILITY_AVAILABLE, n);
	}
	v = bt_trace_borrow_environment_entry_value_by_name_const(bt_stream_borrow_trace_const(stream),
	                                                          "vpid");
	if (v && bt_value_get_type(v) == BT_VALUE_TYPE_SIGNED_INTEGER)
		rp_model_mark_lossy(r->m, bt_value_integer_signed_get(v));
	else
		rp_model_mark_all_lossy(r->m);
}

static void progress_tick(struct rp_reader *r)
{
	struct timespec now;

	r->next_check = r->m->events + 65536;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - r->last_report.tv_sec >= 5) {
		fprintf(stderr, RP_PREFIX "%.1fM events read\n", (double)r->m->events / 1e6);
		r->last_report = now;
	}
}

bt_graph_simple_sink_component_consume_func_status rp_reader_consume(bt_message_iterator *it,
                                                                     void *data)
{
	struct rp_reader *r = data;
	bt_message_array_const msgs;
	uint64_t count, i;
	bool ok = true;

	switch (bt_message_iterator_next(it, &msgs, &count)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_MEMORY_ERROR;
	default:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
	}
	for (i = 0; i < count; i++) {
		const bt_message *msg = msgs[i];

		if (ok) {
			switch (bt_message_get_type(msg)) {
			case BT_MESSAGE_TYPE_EVENT:
				ok = handle_event(r, msg);
				break;
			case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
				handle_discarded(r, msg, false);
				break;
			case BT_MESSAGE_TYPE_DISCARDED_PACKETS:
				handle_discarded(r, msg, true);
				break;
			default:
				break;
			}
		}
		bt_message_put_ref(msg);
	}
	/* Stop the graph cleanly: the caller reports r->fatal or r->oom. */
	if (!ok)
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
	if (r->progress && r->m->events >= r->next_check)
		progress_tick(r);
	return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK;
}

struct rp_reader *rp_reader_new(struct rp_model *m, bool progress, int64_t horizon_ns)
{
	struct rp_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->m = m;
	if (horizon_ns <= 0)
		horizon_ns = RP_MERGE_HORIZON_NS;
	rp_model_set_horizon(m, horizon_ns);
	r->batch = rp_batcher_new(m, horizon_ns);
	if (!r->batch) {
		free(r);
		return NULL;
	}
	r->progress = progress;
	r->next_check = 65536;
	clock_gettime(CLOCK_MONOTONIC, &r->last_report);
	return r;
}

void rp_reader_set_stacks(struct rp_reader *r, struct rs_decoder *sd)
{
	r->sd = sd;
}

bool rp_reader_finish(struct rp_reader *r)
{
	return rp_batcher_finish(r->batch);
}

const char *rp_reader_failure(const struct rp_reader *r, bool *oom)
{
	*oom = r->oom;
	return r->fatal;
}

void rp_reader_free(struct rp_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->ecs && i <= r->ecs_mask; i++)
		free(r->ecs[i]);
	free(r->ecs);
	rp_batcher_free(r->batch);
	free(r->fatal);
	free(r);
}
