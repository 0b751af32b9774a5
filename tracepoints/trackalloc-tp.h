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
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_integer(uint32_t, previous_group_id, previous_group_id)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, group_enter, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_LINE)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, group_exit,
	LTTNG_UST_TP_ARGS(uint32_t, group_id, uint32_t, restored_group_id),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_integer(uint32_t, restored_group_id, restored_group_id)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, group_exit, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_LINE)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, alloc,
	LTTNG_UST_TP_ARGS(const void *, ptr, uint64_t, size, uint32_t, group_id),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer_hex(uint64_t, ptr, (uintptr_t)ptr)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer(uint32_t, group_id, group_id)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, alloc, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG)

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, alloc_aligned,
	LTTNG_UST_TP_ARGS(const void *, ptr, uint64_t, size, uint64_t, alignment, uint32_t, group_id),
	LTTNG_UST_TP_FIELDS(
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
	LTTNG_UST_TP_FIELDS(
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
	LTTNG_UST_TP_FIELDS(
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
	LTTNG_UST_TP_FIELDS(
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

LTTNG_UST_TRACEPOINT_EVENT(trackalloc, group_stats,
	LTTNG_UST_TP_ARGS(uint32_t, group_id, uint64_t, allocated_bytes, uint64_t, allocated_objects,
	                  uint64_t, freed_bytes, uint64_t, freed_objects, uint64_t, wrapped_bytes_live),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, group_id, group_id)
		lttng_ust_field_integer(uint64_t, allocated_bytes, allocated_bytes)
		lttng_ust_field_integer(uint64_t, allocated_objects, allocated_objects)
		lttng_ust_field_integer(uint64_t, freed_bytes, freed_bytes)
		lttng_ust_field_integer(uint64_t, freed_objects, freed_objects)
		lttng_ust_field_integer(uint64_t, wrapped_bytes_live, wrapped_bytes_live)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(trackalloc, group_stats, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

#endif /* TRACKALLOC_TP_H */

#include <lttng/tracepoint-event.h>
