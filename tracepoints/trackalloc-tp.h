/* SPDX-License-Identifier: MIT */
/*
 * The trackalloc LTTng-UST provider. Events and fields are documented in
 * EVENTS.md beside this file; analyses depend on them, so change both
 * together. The per-call events (alloc, free, realloc) carry only what an
 * analysis cannot derive: each extra field costs on every call.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER trackalloc

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./trackalloc-tp.h"

#if !defined(TRACKALLOC_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define TRACKALLOC_TP_H

#include <stdint.h>
#include <lttng/tracepoint.h>
#include <lttng/ust-arch.h>
#include <lttng/ust-version.h>

/*
 * One write per event. LTTng-UST's probe writes an event field by field,
 * each through an indirect call into its ring buffer (about 27 instructions
 * a field), and an event's fields are packed with no padding on
 * architectures with efficient unaligned access. So in the probe body the
 * all-integer events below write their fields as one packed record, byte
 * for byte what the separate writes would produce, while every other stage
 * (metadata, event size, filter and notifier captures) sees the fields one
 * by one. The probe body is the only stage in which LTTng-UST 2.13 defines
 * lttng_ust__get_dynamic_len, which is how TA_TP_FIELDS tells it apart.
 * With another LTTng-UST version, or without unaligned access, the plain
 * fields are written; the trace is the same either way, which the LTTng
 * tests check by reading every field back.
 */
#ifndef TRACKALLOC_TP_RECORDS
#define TRACKALLOC_TP_RECORDS
#define TA_TP_RECORD(name, ...) struct ta_tp_##name { __VA_ARGS__ } __attribute__((packed))
TA_TP_RECORD(enter_exit, uint32_t a; uint32_t b;);
TA_TP_RECORD(alloc, uint64_t ptr; uint64_t size; uint32_t group_id;);
TA_TP_RECORD(alloc_aligned, uint64_t ptr; uint64_t size; uint64_t alignment; uint32_t group_id;);
TA_TP_RECORD(free, uint64_t ptr; uint64_t size; uint32_t group_id; uint32_t current_group_id;);
TA_TP_RECORD(realloc, uint64_t in_ptr; uint64_t ptr; uint64_t old_size; uint64_t size;
	     uint32_t source_group_id; uint32_t group_id;);
TA_TP_RECORD(span, uint64_t span_id; uint32_t group_id;);
TA_TP_RECORD(group_stats, uint32_t group_id; uint64_t allocated_bytes; uint64_t allocated_objects;
	     uint64_t freed_bytes; uint64_t freed_objects; uint64_t wrapped_bytes_live;
	     uint64_t peak_bytes;);
#define TA_TP_UNPAREN(...) __VA_ARGS__
#endif

/* TA_TP_FIELDS(record, (values in field order), fields...) */
#undef TA_TP_FIELDS
#if defined(lttng_ust__get_dynamic_len) && defined(LTTNG_UST_ARCH_HAS_EFFICIENT_UNALIGNED_ACCESS) && \
	LTTNG_UST_MAJOR_VERSION == 2 && LTTNG_UST_MINOR_VERSION == 13
#define TA_TP_FIELDS(record, values, ...)                                                   \
	LTTNG_UST_TP_FIELDS(lttng_ust_field_array(char, record,                              \
		((const char *)&(struct ta_tp_##record){ TA_TP_UNPAREN values }),           \
		sizeof(struct ta_tp_##record)))
#else
#define TA_TP_FIELDS(record, values, ...) LTTNG_UST_TP_FIELDS(__VA_ARGS__)
#endif

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, group_register,
	LTTNG_UST_TP_ARGS(uint32_t, group_id, const char *, name, uint32_t, ntags),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_string(name, name)
		lttng_ust_field_integer(uint32_t, ntags, ntags)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, group_register, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, group_tag,
	LTTNG_UST_TP_ARGS(uint32_t, group_id, const char *, key, const char *, value),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_string(key, key)
		lttng_ust_field_string(value, value)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, group_tag, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, group_enter,
	LTTNG_UST_TP_ARGS(uint32_t, group_id, uint32_t, previous_group_id),
	TA_TP_FIELDS(enter_exit, (group_id, previous_group_id),
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_integer(uint32_t, previous_group_id, previous_group_id)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, group_enter, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_LINE)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, group_exit,
	LTTNG_UST_TP_ARGS(uint32_t, group_id, uint32_t, restored_group_id),
	TA_TP_FIELDS(enter_exit, (group_id, restored_group_id),
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_integer(uint32_t, restored_group_id, restored_group_id)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, group_exit, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_LINE)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, alloc,
	LTTNG_UST_TP_ARGS(const void *, ptr, uint64_t, size, uint32_t, group_id),
	TA_TP_FIELDS(alloc, ((uintptr_t)ptr, size, group_id),
		lttng_ust_field_integer_hex(uint64_t, ptr, (uintptr_t)ptr)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer(uint32_t, group_id, group_id)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, alloc, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, alloc_aligned,
	LTTNG_UST_TP_ARGS(const void *, ptr, uint64_t, size, uint64_t, alignment, uint32_t, group_id),
	TA_TP_FIELDS(alloc_aligned, ((uintptr_t)ptr, size, alignment, group_id),
		lttng_ust_field_integer_hex(uint64_t, ptr, (uintptr_t)ptr)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer(uint64_t, alignment, alignment)
		lttng_ust_field_integer(uint32_t, group_id, group_id)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, alloc_aligned, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, free,
	LTTNG_UST_TP_ARGS(const void *, ptr, uint64_t, size, uint32_t, group_id,
	                  uint32_t, current_group_id),
	TA_TP_FIELDS(free, ((uintptr_t)ptr, size, group_id, current_group_id),
		lttng_ust_field_integer_hex(uint64_t, ptr, (uintptr_t)ptr)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_integer(uint32_t, current_group_id, current_group_id)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, free, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, realloc,
	LTTNG_UST_TP_ARGS(const void *, in_ptr, const void *, ptr, uint64_t, old_size,
	                  uint64_t, size, uint32_t, source_group_id, uint32_t, group_id),
	TA_TP_FIELDS(realloc, ((uintptr_t)in_ptr, (uintptr_t)ptr, old_size, size, source_group_id, group_id),
		lttng_ust_field_integer_hex(uint64_t, in_ptr, (uintptr_t)in_ptr)
		lttng_ust_field_integer_hex(uint64_t, ptr, (uintptr_t)ptr)
		lttng_ust_field_integer(uint64_t, old_size, old_size)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer(uint32_t, source_group_id, source_group_id)
		lttng_ust_field_integer(uint32_t, group_id, group_id)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, realloc, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG)

LTTNG_UST_TRACEPOINT_EVENT_CLASS(trackalloc, span_class,
	LTTNG_UST_TP_ARGS(uint64_t, span_id, uint32_t, group_id),
	TA_TP_FIELDS(span, (span_id, group_id),
		lttng_ust_field_integer(uint64_t, span_id, span_id)
		lttng_ust_field_integer(uint32_t, group_id, group_id)
	)
)
#define TA_SPAN_EVENT(name)                                                                \
	LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(trackalloc, span_class, trackalloc, name,       \
		LTTNG_UST_TP_ARGS(uint64_t, span_id, uint32_t, group_id))                   \
	LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, name, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_LINE)
TA_SPAN_EVENT(span_bind)
TA_SPAN_EVENT(span_unbind)
TA_SPAN_EVENT(span_enter)
TA_SPAN_EVENT(span_exit)

/* Sampled stacks (see EVENTS.md): rare by design, written field by field. */
LTTNG_UST_TRACEPOINT_EVENT(trackalloc, alloc_sample,
	LTTNG_UST_TP_ARGS(const void *, ptr, uint64_t, size, uint64_t, weight, uint32_t, group_id,
	                  const uint64_t *, ips, uint32_t, depth),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer_hex(uint64_t, ptr, (uintptr_t)ptr)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer(uint64_t, weight, weight)
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_sequence_hex(uint64_t, stack, ips, uint32_t, depth)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, alloc_sample, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, free_sample,
	LTTNG_UST_TP_ARGS(const void *, ptr, uint64_t, size, uint32_t, group_id),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer_hex(uint64_t, ptr, (uintptr_t)ptr)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer(uint32_t, group_id, group_id)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, free_sample, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, group_stats,
	LTTNG_UST_TP_ARGS(uint32_t, group_id, uint64_t, allocated_bytes, uint64_t, allocated_objects,
	                  uint64_t, freed_bytes, uint64_t, freed_objects, uint64_t, wrapped_bytes_live,
	                  uint64_t, peak_bytes),
	TA_TP_FIELDS(group_stats, (group_id, allocated_bytes, allocated_objects, freed_bytes, freed_objects, wrapped_bytes_live, peak_bytes),
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_integer(uint64_t, allocated_bytes, allocated_bytes)
		lttng_ust_field_integer(uint64_t, allocated_objects, allocated_objects)
		lttng_ust_field_integer(uint64_t, freed_bytes, freed_bytes)
		lttng_ust_field_integer(uint64_t, freed_objects, freed_objects)
		lttng_ust_field_integer(uint64_t, wrapped_bytes_live, wrapped_bytes_live)
		lttng_ust_field_integer(uint64_t, peak_bytes, peak_bytes)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, group_stats, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* A group's live bytes crossed its soft limit (limits.c). */
LTTNG_UST_TRACEPOINT_EVENT(trackalloc, group_limit,
	LTTNG_UST_TP_ARGS(uint32_t, group_id, uint64_t, live_bytes, uint64_t, soft_limit,
	                  uint64_t, hard_limit),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_integer(uint64_t, live_bytes, live_bytes)
		lttng_ust_field_integer(uint64_t, soft_limit, soft_limit)
		lttng_ust_field_integer(uint64_t, hard_limit, hard_limit)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, group_limit, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* Compact full traces (lib/batch.c, EVENTS.md): a piece of one thread's
 * record stream, written once per 4 KiB of records at most. */
LTTNG_UST_TRACEPOINT_EVENT(trackalloc, batch,
	LTTNG_UST_TP_ARGS(uint32_t, tid, uint64_t, offset, uint32_t, length, uint64_t, tsc,
	                  uint64_t, ns, uint64_t, tsc_base, uint64_t, ns_base,
	                  const uint64_t *, words, uint32_t, nwords),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, tid, tid)
		lttng_ust_field_integer(uint64_t, offset, offset)
		lttng_ust_field_integer(uint32_t, length, length)
		lttng_ust_field_integer(uint64_t, tsc, tsc)
		lttng_ust_field_integer(uint64_t, ns, ns)
		lttng_ust_field_integer(uint64_t, tsc_base, tsc_base)
		lttng_ust_field_integer(uint64_t, ns_base, ns_base)
		lttng_ust_field_sequence_hex(uint64_t, data, words, uint32_t, nwords)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, batch, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG)

#endif /* TRACKALLOC_TP_H */

#include <lttng/tracepoint-event.h>
