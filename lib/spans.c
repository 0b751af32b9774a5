/* SPDX-License-Identifier: MIT */
/* Span binding: placeholder until issue 4 lands; every call reports ENOSYS. */
#include <errno.h>

#include "ta-internal.h"

TA_API int ta_span_bind(uint64_t span_id, ta_group *g)
{
	(void)span_id, (void)g;
	return -ENOSYS;
}

TA_API int ta_span_unbind(uint64_t span_id)
{
	(void)span_id;
	return -ENOSYS;
}

TA_API int ta_span_enter(uint64_t span_id)
{
	(void)span_id;
	return -ENOSYS;
}

TA_API int ta_span_exit(uint64_t span_id)
{
	(void)span_id;
	return -ENOSYS;
}

void ta_spans_atfork_prepare(void)
{
}

void ta_spans_atfork_parent(void)
{
}

void ta_spans_atfork_child(void)
{
}
