/* SPDX-License-Identifier: MIT */
/*
 * Events of sampled stacks into the stacks model. Each class is resolved
 * once into the member indexes of the payload fields it needs; a process
 * is looked up once per run of its events.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-decode.h"
#include "report-stacks.h"
#include "report-stacks-decode.h"

enum sk_kind { SK_ALLOC, SK_FREE, SK_BIN_INFO, SK_LOAD, SK_BUILD_ID, SK_DEBUG_LINK, SK_UNLOAD };

#define SK_FIELDS_MAX 5

/* field types: 'u' unsigned integer, 's' string, 'a' array of unsigned
 * integers; a trailing '?' makes the field optional */
struct sk_spec {
	const char *name;
	enum sk_kind kind;
	bool provider;
	const char *fields[SK_FIELDS_MAX];
};

static const struct sk_spec specs[] = {
	{ "trackalloc:alloc_sample", SK_ALLOC, true,
	  { "ptr:u", "size:u", "weight:u", "group_id:u", "stack:a" } },
	{ "trackalloc:free_sample", SK_FREE, true, { "ptr:u" } },
	{ "lttng_ust_statedump:bin_info", SK_BIN_INFO, false,
	  { "baddr:u", "memsz:u", "path:s", "is_pic:u?" } },
	{ "lttng_ust_lib:load", SK_LOAD, false, { "baddr:u", "memsz:u", "path:s" } },
	{ "lttng_ust_statedump:build_id", SK_BUILD_ID, false, { "baddr:u", "build_id:a" } },
	{ "lttng_ust_lib:build_id", SK_BUILD_ID, false, { "baddr:u", "build_id:a" } },
	{ "lttng_ust_statedump:debug_link", SK_DEBUG_LINK, false, { "baddr:u", "filename:s" } },
	{ "lttng_ust_lib:debug_link", SK_DEBUG_LINK, false, { "baddr:u", "filename:s" } },
	{ "lttng_ust_lib:unload", SK_UNLOAD, false, { "baddr:u" } },
};

struct sk_class {
	enum sk_kind kind;
	int64_t field[SK_FIELDS_MAX]; /* member index, -1: absent (optional) */
};

struct rs_decoder {
	struct rs_model *m;
	struct sk_class *classes;
	int nclasses, cap;
	struct rs_proc *last;
	char *failure;
};

struct rs_decoder *rs_decoder_new(struct rs_model *m)
{
	struct rs_decoder *d = calloc(1, sizeof(*d));

	if (d)
		d->m = m;
	return d;
}

void rs_decoder_free(struct rs_decoder *d)
{
	if (!d)
		return;
	free(d->classes);
	free(d->failure);
	free(d);
}

const char *rs_decoder_failure(const struct rs_decoder *d)
{
	return d->failure;
}

static int64_t member(const bt_field_class *sfc, const char *name, size_t len, char type)
{
	const bt_field_class *fc;
	bt_field_class_type t;
	char want[64];
	int64_t i;

	if (len >= sizeof(want))
		return -1;
	memcpy(want, name, len);
	want[len] = '\0';
	i = rp_struct_member_index(sfc, want, &t);
	if (i < 0)
		return -1;
	if (type == 'u' && bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
		return i;
	if (type == 's' && t == BT_FIELD_CLASS_TYPE_STRING)
		return i;
	fc = bt_field_class_structure_member_borrow_field_class_const(
		bt_field_class_structure_borrow_member_by_index_const(sfc, (uint64_t)i));
	if (type == 'a' && bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_ARRAY) &&
	    bt_field_class_type_is(bt_field_class_get_type(
		    bt_field_class_array_borrow_element_field_class_const(fc)),
		    BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
		return i;
	return -1;
}

int rs_decoder_class(struct rs_decoder *d, const bt_event_class *ec, const char *name,
                     bool *provider)
{
	const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(ec);
	const struct sk_spec *spec = NULL;
	struct sk_class c;

	for (size_t i = 0; name && i < sizeof(specs) / sizeof(specs[0]); i++)
		if (!strcmp(name, specs[i].name))
			spec = &specs[i];
	if (!spec)
		return RS_CLASS_NONE;
	*provider = spec->provider;
	c.kind = spec->kind;
	for (int i = 0; i < SK_FIELDS_MAX; i++) {
		const char *f = spec->fields[i], *colon;

		c.field[i] = -1;
		if (!f)
			continue;
		colon = strchr(f, ':');
		c.field[i] = member(payload, f, (size_t)(colon - f), colon[1]);
		if (c.field[i] < 0 && colon[2] != '?') {
			free(d->failure);
			if (asprintf(&d->failure, "unsupported trace: event %s has no %s field `%.*s'",
			             name, colon[1] == 's' ? "string" : colon[1] == 'a' ?
			             "array of unsigned integers" : "unsigned integer",
			             (int)(colon - f), f) < 0)
				d->failure = NULL;
			return RS_CLASS_BAD;
		}
	}
	if (d->nclasses == d->cap) {
		int ncap = d->cap ? d->cap * 2 : 16;
		void *n = realloc(d->classes, (size_t)ncap * sizeof(*d->classes));

		if (!n)
			return RS_CLASS_OOM;
		d->classes = n;
		d->cap = ncap;
	}
	d->classes[d->nclasses] = c;
	return d->nclasses++;
}

static inline const bt_field *field(const bt_field *s, int64_t idx)
{
	return bt_field_structure_borrow_member_field_by_index_const(s, (uint64_t)idx);
}

static inline uint64_t u64(const bt_field *s, int64_t idx)
{
	return bt_field_integer_unsigned_get_value(field(s, idx));
}

/* The array member @idx of @s into @out (at most @max); its length. */
static uint32_t array_u64(const bt_field *s, int64_t idx, uint64_t *out, uint32_t max)
{
	const bt_field *a = field(s, idx);
	uint64_t n = bt_field_array_get_length(a);

	if (n > max)
		n = max;
	for (uint64_t i = 0; i < n; i++)
		out[i] = bt_field_integer_unsigned_get_value(
			bt_field_array_borrow_element_field_by_index_const(a, i));
	return (uint32_t)n;
}

static bool add_module(struct rs_proc *p, const bt_field *pl, const struct sk_class *c)
{
	uint64_t baddr = u64(pl, c->field[0]), memsz = u64(pl, c->field[1]);
	const char *path = bt_field_string_get_value(field(pl, c->field[2]));
	bool pic = c->kind == SK_LOAD || c->field[3] < 0 || u64(pl, c->field[3]);
	int32_t m = rs_proc_module_at_base(p, baddr);

	/* statedumps repeat (each session start, each fork) */
	if (m >= 0 && !p->modules[m].unloaded && p->modules[m].path && !strcmp(p->modules[m].path, path))
		return true;
	return rs_proc_add_module(p, path, baddr, baddr + (memsz ? memsz : 1), baddr,
	                          pic ? RS_BASE_SEGMENT : RS_BASE_FIXED) >= 0;
}

bool rs_decoder_event(struct rs_decoder *d, int handle, const bt_event *ev, int64_t pid,
                      int64_t ts)
{
	const struct sk_class *c = &d->classes[handle];
	const bt_field *pl = bt_event_borrow_payload_field_const(ev);
	struct rs_proc *p = d->last && d->last->pid == pid ? d->last : rs_model_proc(d->m, pid);
	uint64_t v[RS_STACK_MAX > RS_BUILD_ID_MAX ? RS_STACK_MAX : RS_BUILD_ID_MAX];
	int32_t m;

	if (!p)
		return false;
	d->last = p;
	switch (c->kind) {
	case SK_ALLOC: {
		uint32_t n = array_u64(pl, c->field[4], v, RS_STACK_MAX);
		int64_t stack = rs_proc_stack_ips(p, v, n);

		if (stack < 0 ||
		    !rs_on_alloc_sample(p, ts, u64(pl, c->field[0]), u64(pl, c->field[1]),
		                        u64(pl, c->field[2]), (uint32_t)u64(pl, c->field[3]),
		                        (uint32_t)stack))
			return false;
		d->m->alloc_samples++;
		break;
	}
	case SK_FREE:
		rs_on_free_sample(p, ts, u64(pl, c->field[0]));
		break;
	case SK_BIN_INFO:
	case SK_LOAD:
		return add_module(p, pl, c);
	case SK_BUILD_ID: {
		uint8_t id[RS_BUILD_ID_MAX];
		uint32_t n = array_u64(pl, c->field[1], v, RS_BUILD_ID_MAX);

		m = rs_proc_module_at_base(p, u64(pl, c->field[0]));
		for (uint32_t i = 0; i < n; i++)
			id[i] = (uint8_t)v[i];
		if (m >= 0)
			rs_proc_set_build_id(p, m, id, n);
		break;
	}
	case SK_DEBUG_LINK:
		m = rs_proc_module_at_base(p, u64(pl, c->field[0]));
		if (m >= 0)
			return rs_proc_set_debug_link(p, m,
			                              bt_field_string_get_value(field(pl, c->field[1])));
		break;
	case SK_UNLOAD:
		m = rs_proc_module_at_base(p, u64(pl, c->field[0]));
		if (m >= 0)
			rs_proc_unload_module(p, m);
		break;
	}
	return true;
}
