/* SPDX-License-Identifier: MIT */
/*
 * The live session of `trackalloc top`, read with libbabeltrace2: the
 * relay daemon's "sessions" query finds the session (and how many viewers
 * it has), then a graph of src.ctf.lttng-live and a simple sink is stepped
 * from top's loop. Each event class is resolved once into its kind and the
 * member indexes it needs (tracepoints/EVENTS.md); events of other
 * providers, and trackalloc's DEBUG events should a session record them,
 * are passed over.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <babeltrace2/babeltrace.h>

#include "report-decode.h"
#include "report-stacks-decode.h"
#include "top-live.h"
#include "top-model.h"

enum tl_kind {
	TK_NONE,     /* not used by top */
	TK_REGISTER, /* group_id, name */
	TK_TAG,      /* group_id, key, value */
	TK_STATS,    /* group_id, allocated_bytes, allocated_objects, freed_bytes,
	              * freed_objects, peak_bytes (optional) */
	TK_STACKS,   /* the stacks decoder's */
};

#define TL_FIELDS 6

struct tl_class {
	const bt_event_class *ec;
	enum tl_kind kind;
	int sclass;             /* TK_STACKS: the stacks decoder's handle */
	bool has_clock;
	int64_t field[TL_FIELDS]; /* payload member indexes, -1: absent */
	int64_t ctx_vpid, ctx_procname;
	bool vpid_signed;
	int64_t env_vpid;       /* per-process buffers: the trace's vpid */
};

struct tl_live {
	char *relay_url, *session;
	char *input;            /* the session's URL, from the sessions query */
	struct tm_model *m;
	struct rs_decoder *sd;
	const bt_plugin *ctf;
	const bt_component_class_source *src_cls;
	bt_graph *g;
	struct tl_class *classes;
	size_t nclasses, classes_cap;
	char *failure;
	bool consumed;          /* the sink's last call had messages */
	bool sink_failed;       /* the sink stopped the graph: failure says why */
	struct tm_proc *last;   /* the process of the previous event */
};

static void __attribute__((format(printf, 2, 3))) set_failure(struct tl_live *l, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(l->failure);
	l->failure = s;
}

/* babeltrace2's root cause of the current error, in one line (allocated;
 * NULL when there is none). */
static char *take_bt_error(void)
{
	const bt_error *err = bt_current_thread_take_error();
	char *msg = NULL;
	uint64_t n;

	if (!err)
		return NULL;
	n = bt_error_get_cause_count(err);
	/* the cause added first is the innermost: the most precise */
	if (n > 0) {
		const bt_error_cause *c = bt_error_borrow_cause_by_index(err, n - 1);

		msg = strdup(bt_error_cause_get_message(c));
		for (char *s = msg; s && *s; s++)
			if (*s == '\n' || *s == '\t')
				*s = ' ';
	}
	bt_error_release(err);
	return msg;
}

struct tl_live *tl_new(const char *relay_url, const char *session, struct tm_model *m,
                       struct rs_decoder *sd, const char **why)
{
	struct tl_live *l = calloc(1, sizeof(*l));

	*why = "out of memory";
	if (!l)
		return NULL;
	l->relay_url = strdup(relay_url);
	l->session = strdup(session);
	l->m = m;
	l->sd = sd;
	if (!l->relay_url || !l->session)
		goto fail;
	if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, &l->ctf) !=
	    BT_PLUGIN_FIND_STATUS_OK) {
		*why = "cannot load babeltrace2's ctf plugin";
		goto fail;
	}
	l->src_cls = bt_plugin_borrow_source_component_class_by_name_const(l->ctf, "lttng-live");
	if (!l->src_cls) {
		*why = "babeltrace2's ctf plugin has no lttng-live source";
		goto fail;
	}
	return l;
fail:
	bt_current_thread_clear_error();
	tl_free(l);
	return NULL;
}

void tl_free(struct tl_live *l)
{
	if (!l)
		return;
	bt_graph_put_ref(l->g);
	bt_plugin_put_ref(l->ctf);
	free(l->classes);
	free(l->relay_url);
	free(l->session);
	free(l->input);
	free(l->failure);
	free(l);
}

const char *tl_failure(const struct tl_live *l)
{
	return l->failure ? l->failure : "unknown failure";
}

/* ---- the sessions query ---------------------------------------------------- */

static const char *map_string(const bt_value *map, const char *key)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(map, key);

	return v && bt_value_get_type(v) == BT_VALUE_TYPE_STRING ? bt_value_string_get(v) : NULL;
}

int tl_session_clients(struct tl_live *l)
{
	bt_value *params = bt_value_map_create();
	bt_query_executor *q = NULL;
	const bt_value *res = NULL;
	bt_query_executor_query_status st;
	int ret = -2;

	if (!params || bt_value_map_insert_string_entry(params, "url", l->relay_url)) {
		set_failure(l, "out of memory");
		goto out;
	}
	q = bt_query_executor_create(bt_component_class_source_as_component_class_const(l->src_cls),
	                             "sessions", params);
	if (!q) {
		set_failure(l, "out of memory");
		goto out;
	}
	bt_query_executor_set_logging_level(q, BT_LOGGING_LEVEL_NONE);
	st = bt_query_executor_query(q, &res);
	if (st == BT_QUERY_EXECUTOR_QUERY_STATUS_AGAIN) {
		ret = -1;
		goto out;
	}
	if (st != BT_QUERY_EXECUTOR_QUERY_STATUS_OK || !res ||
	    bt_value_get_type(res) != BT_VALUE_TYPE_ARRAY) {
		char *cause = take_bt_error();

		set_failure(l, "cannot reach the relay daemon's live port at %s%s%s", l->relay_url,
		            cause ? ": " : "", cause ? cause : "");
		free(cause);
		goto out;
	}
	ret = -1;
	for (uint64_t i = 0; i < bt_value_array_get_length(res); i++) {
		const bt_value *s = bt_value_array_borrow_element_by_index_const(res, i);
		const char *name = map_string(s, "session-name"), *url = map_string(s, "url");
		const bt_value *c = bt_value_map_borrow_entry_value_const(s, "client-count");

		if (!name || !url || strcmp(name, l->session))
			continue;
		if (!l->input || strcmp(l->input, url)) {
			free(l->input);
			l->input = strdup(url);
		}
		ret = c && bt_value_get_type(c) == BT_VALUE_TYPE_UNSIGNED_INTEGER ?
		              (int)bt_value_integer_unsigned_get(c) : 0;
		break;
	}
out:
	bt_current_thread_clear_error();
	bt_value_put_ref(res);
	bt_query_executor_put_ref(q);
	bt_value_put_ref(params);
	return ret;
}

/* ---- event classes ---------------------------------------------------------- */

struct tl_spec {
	const char *name;
	enum tl_kind kind;
	/* 'u' unsigned, 's' string, then the member; '?' after: optional */
	const char *fields[TL_FIELDS];
};

static const struct tl_spec specs[] = {
	{ "trackalloc:group_register", TK_REGISTER, { "ugroup_id", "sname" } },
	{ "trackalloc:group_tag", TK_TAG, { "ugroup_id", "skey", "svalue" } },
	{ "trackalloc:group_stats", TK_STATS,
	  { "ugroup_id", "uallocated_bytes", "uallocated_objects", "ufreed_bytes",
	    "ufreed_objects", "upeak_bytes?" } },
};

static bool resolve_fields(struct tl_live *l, struct tl_class *c, const struct tl_spec *spec)
{
	const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(c->ec);

	for (int i = 0; i < TL_FIELDS; i++) {
		const char *f = spec->fields[i];
		char want[64];
		size_t len;
		bool optional;
		bt_field_class_type t;
		int64_t idx;

		c->field[i] = -1;
		if (!f)
			continue;
		len = strlen(f + 1);
		optional = f[len] == '?';
		snprintf(want, sizeof(want), "%.*s", (int)(len - optional), f + 1);
		idx = rp_struct_member_index(payload, want, &t);
		if (idx >= 0 && (f[0] == 's' ? t == BT_FIELD_CLASS_TYPE_STRING :
		                               bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)))
			c->field[i] = idx;
		else if (!optional) {
			set_failure(l, "unsupported trace: event %s has no %s field `%s'", spec->name,
			            f[0] == 's' ? "string" : "unsigned integer", want);
			return false;
		}
	}
	return true;
}

static bool fill_class(struct tl_live *l, struct tl_class *c, const bt_event *ev)
{
	const bt_stream_class *sc = bt_event_class_borrow_stream_class_const(c->ec);
	const bt_field_class *ctx = bt_stream_class_borrow_event_common_context_field_class_const(sc);
	const bt_trace *trace = bt_stream_borrow_trace_const(bt_event_borrow_stream_const(ev));
	const char *name = bt_event_class_get_name(c->ec);
	const bt_value *v;
	bt_field_class_type t;

	c->kind = TK_NONE;
	c->has_clock = bt_stream_class_borrow_default_clock_class_const(sc) != NULL;
	c->ctx_vpid = rp_struct_member_index(ctx, "vpid", &t);
	if (c->ctx_vpid >= 0 && !bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_INTEGER))
		c->ctx_vpid = -1;
	c->vpid_signed = c->ctx_vpid >= 0 &&
	                 bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER);
	c->ctx_procname = rp_struct_member_index(ctx, "procname", &t);
	if (c->ctx_procname >= 0 && t != BT_FIELD_CLASS_TYPE_STRING)
		c->ctx_procname = -1;
	v = bt_trace_borrow_environment_entry_value_by_name_const(trace, "vpid");
	c->env_vpid = v && bt_value_get_type(v) == BT_VALUE_TYPE_SIGNED_INTEGER ?
	                      bt_value_integer_signed_get(v) : 0;
	if (l->sd) {
		bool provider = false;
		int h = rs_decoder_class(l->sd, c->ec, name, &provider);

		if (h >= 0) {
			c->kind = TK_STACKS;
			c->sclass = h;
			return true;
		}
		if (h == RS_CLASS_BAD) {
			set_failure(l, "%s", rs_decoder_failure(l->sd));
			return false;
		}
		if (h == RS_CLASS_OOM) {
			set_failure(l, "out of memory");
			return false;
		}
	}
	for (size_t i = 0; name && i < sizeof(specs) / sizeof(specs[0]); i++) {
		if (strcmp(name, specs[i].name))
			continue;
		if (!resolve_fields(l, c, &specs[i]))
			return false;
		c->kind = specs[i].kind;
	}
	return true;
}

static struct tl_class *class_of(struct tl_live *l, const bt_event *ev)
{
	const bt_event_class *ec = bt_event_borrow_class_const(ev);
	struct tl_class *c;

	/* a session has a few dozen classes at most */
	for (size_t i = 0; i < l->nclasses; i++)
		if (l->classes[i].ec == ec)
			return &l->classes[i];
	if (l->nclasses == l->classes_cap) {
		size_t cap = l->classes_cap ? l->classes_cap * 2 : 32;
		struct tl_class *n = realloc(l->classes, cap * sizeof(*n));

		if (!n) {
			set_failure(l, "out of memory");
			return NULL;
		}
		l->classes = n;
		l->classes_cap = cap;
	}
	c = &l->classes[l->nclasses];
	memset(c, 0, sizeof(*c));
	c->ec = ec;
	if (!fill_class(l, c, ev))
		return NULL;
	l->nclasses++;
	return c;
}

/* ---- the sink ---------------------------------------------------------------- */

static inline uint64_t member_u64(const bt_field *s, int64_t idx)
{
	return bt_field_integer_unsigned_get_value(
		bt_field_structure_borrow_member_field_by_index_const(s, (uint64_t)idx));
}

static inline const char *member_str(const bt_field *s, int64_t idx)
{
	return bt_field_string_get_value(
		bt_field_structure_borrow_member_field_by_index_const(s, (uint64_t)idx));
}

static bool handle_event(struct tl_live *l, const bt_message *msg)
{
	const bt_event *ev = bt_message_event_borrow_event_const(msg);
	struct tl_class *c = class_of(l, ev);
	const bt_field *pl, *ctx = NULL;
	struct tm_proc *p;
	int64_t ts = 0, pid = 0;

	if (!c)
		return false;
	if (c->kind == TK_NONE)
		return true;
	if (c->has_clock)
		(void)bt_clock_snapshot_get_ns_from_origin(
			bt_message_event_borrow_default_clock_snapshot_const(msg), &ts);
	if (c->ctx_vpid >= 0 || c->ctx_procname >= 0)
		ctx = bt_event_borrow_common_context_field_const(ev);
	if (c->ctx_vpid >= 0) {
		const bt_field *f =
			bt_field_structure_borrow_member_field_by_index_const(ctx, (uint64_t)c->ctx_vpid);

		pid = c->vpid_signed ? bt_field_integer_signed_get_value(f) :
		                       (int64_t)bt_field_integer_unsigned_get_value(f);
	} else {
		pid = c->env_vpid;
	}
	if (c->kind == TK_STACKS) {
		if (!rs_decoder_event(l->sd, c->sclass, ev, pid, ts)) {
			set_failure(l, "out of memory");
			return false;
		}
		return true;
	}
	/* a process's events come in runs (per-CPU packets) */
	p = l->last && l->last->pid == pid ? l->last : tm_proc(l->m, pid);
	if (!p)
		return true; /* the model counts what it dropped */
	l->last = p;
	l->m->events++;
	if (c->ctx_procname >= 0)
		tm_proc_set_procname(l->m, p, member_str(ctx, c->ctx_procname));
	pl = bt_event_borrow_payload_field_const(ev);
	switch (c->kind) {
	case TK_REGISTER:
		tm_on_register(l->m, p, (uint32_t)member_u64(pl, c->field[0]),
		               member_str(pl, c->field[1]));
		break;
	case TK_TAG:
		tm_on_tag(l->m, p, (uint32_t)member_u64(pl, c->field[0]), member_str(pl, c->field[1]),
		          member_str(pl, c->field[2]));
		break;
	case TK_STATS: {
		struct tm_sample s = {
			.ts = ts,
			.alloc_bytes = member_u64(pl, c->field[1]),
			.alloc_objects = member_u64(pl, c->field[2]),
			.freed_bytes = member_u64(pl, c->field[3]),
			.freed_objects = member_u64(pl, c->field[4]),
			.peak = c->field[5] >= 0 ? member_u64(pl, c->field[5]) : 0,
		};

		tm_on_stats(l->m, p, (uint32_t)member_u64(pl, c->field[0]), &s);
		break;
	}
	default:
		break;
	}
	return true;
}

static bt_graph_simple_sink_component_consume_func_status consume(bt_message_iterator *it,
                                                                  void *data)
{
	struct tl_live *l = data;
	bt_message_array_const msgs;
	uint64_t count;
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
	l->consumed = true;
	for (uint64_t i = 0; i < count; i++) {
		const bt_message *msg = msgs[i];
		uint64_t n = 0;

		if (ok) {
			switch (bt_message_get_type(msg)) {
			case BT_MESSAGE_TYPE_EVENT:
				ok = handle_event(l, msg);
				break;
			case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
				if (bt_message_discarded_events_get_count(msg, &n) ==
				    BT_PROPERTY_AVAILABILITY_AVAILABLE)
					l->m->discarded += n;
				break;
			default:
				break;
			}
		}
		bt_message_put_ref(msg);
	}
	if (ok)
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK;
	l->sink_failed = true;
	return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
}

bool tl_connect(struct tl_live *l)
{
	const bt_component_source *src;
	const bt_component_sink *sink;
	bt_value *params = bt_value_map_create(), *inputs = NULL;
	bool ok = false;

	if (!l->input) {
		set_failure(l, "no session %s on the relay daemon at %s", l->session, l->relay_url);
		goto out;
	}
	l->g = bt_graph_create(0);
	/* the session is ours: once it is gone, the read ends */
	if (!l->g || !params || bt_value_map_insert_empty_array_entry(params, "inputs", &inputs) ||
	    bt_value_array_append_string_element(inputs, l->input) ||
	    bt_value_map_insert_string_entry(params, "session-not-found-action", "end")) {
		set_failure(l, "out of memory");
		goto out;
	}
	if (bt_graph_add_source_component(l->g, l->src_cls, "live", params, BT_LOGGING_LEVEL_NONE,
	                                  &src) != BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
	    bt_graph_add_simple_sink_component(l->g, "trackalloc-top", NULL, consume, NULL, l,
	                                       &sink) != BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
	    bt_graph_connect_ports(l->g, bt_component_source_borrow_output_port_by_index_const(src, 0),
	                           bt_component_sink_borrow_input_port_by_index_const(sink, 0),
	                           NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		char *cause = take_bt_error();

		set_failure(l, "cannot read session %s from %s%s%s", l->session, l->relay_url,
		            cause ? ": " : "", cause ? cause : "");
		free(cause);
		goto out;
	}
	ok = true;
out:
	bt_value_put_ref(params);
	return ok;
}

enum tl_status tl_step(struct tl_live *l)
{
	bt_graph_run_once_status st;

	l->consumed = false;
	st = bt_graph_run_once(l->g);
	switch (st) {
	case BT_GRAPH_RUN_ONCE_STATUS_OK:
		return l->consumed ? TL_BUSY : TL_IDLE;
	case BT_GRAPH_RUN_ONCE_STATUS_AGAIN:
		return TL_IDLE;
	case BT_GRAPH_RUN_ONCE_STATUS_END:
		return TL_END;
	default: {
		char *cause = take_bt_error();

		if (!l->sink_failed)
			set_failure(l, "lost session %s at %s%s%s", l->session, l->relay_url,
			            cause ? ": " : "", cause ? cause : "");
		free(cause);
		return TL_FAILED;
	}
	}
}
