/* SPDX-License-Identifier: MIT */
/*
 * The aligned members of the malloc family (memalign, aligned_alloc,
 * posix_memalign, valloc, pvalloc) and malloc_usable_size. They seal their
 * blocks as malloc does (seal.h); an alignment above what glibc's malloc
 * gives already makes the inner allocator's own memalign do the work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "seal.h"

TA_START static void *ta_aligned(size_t align, size_t n)
{
	void *p = ta_inner.memalign(align, ta_wrapped_request(n));

	if (TA_UNLIKELY(!p))
		return NULL;
	return ta_seal(p, n, align);
}

static void *__attribute__((noinline)) ta_memalign_gated(size_t align, size_t n,
                                                               const void *ra)
{
	struct ta_rules_call c;
	void *p;

	if (!ta_gate_pass())
		return ta_boot_alloc(n, align);
	ta_gate_rules_begin(&c, ra);
	p = ta_aligned(align, n);
	ta_rules_call_end(&c);
	return p;
}

static void *__attribute__((noinline, cold)) ta_memalign_cold(size_t align, size_t n)
{
	return ta_memalign_gated(align, n, TA_CALLER);
}

static TA_INLINE void *ta_memalign_at(size_t align, size_t n, const void *ra)
{
	if (TA_UNLIKELY(!ta_gate_open()))
		return ra ? ta_memalign_gated(align, n, ra) : ta_memalign_cold(align, n);
	return ta_aligned(align, n);
}

TA_START TA_API void *memalign(size_t align, size_t n)
{
	return ta_memalign_at(align, n, TA_TAIL_CALLED);
}

/* glibc 2.36 makes aligned_alloc an alias of memalign: same semantics here. */
TA_START TA_API void *aligned_alloc(size_t align, size_t n)
{
	return ta_memalign_at(align, n, TA_TAIL_CALLED);
}

static TA_INLINE int ta_posix_memalign_ready(void **out, size_t align, size_t n)
{
	void *p;
	int err;

	err = ta_inner.posix_memalign(&p, align, ta_wrapped_request(n));
	if (err)
		return err;
	p = ta_seal(p, n, align);
	if (TA_UNLIKELY(!p))
		return ENOMEM; /* a hard limit */
	*out = p;
	return 0;
}

static int __attribute__((noinline)) ta_posix_memalign_gated(void **out, size_t align,
                                                                   size_t n, const void *ra)
{
	struct ta_rules_call c;
	void *p;
	int err;

	if (!ta_gate_pass()) {
		p = ta_boot_alloc(n, align);
		if (!p)
			return ENOMEM;
		*out = p;
		return 0;
	}
	ta_gate_rules_begin(&c, ra);
	err = ta_posix_memalign_ready(out, align, n);
	ta_rules_call_end(&c);
	return err;
}

static int __attribute__((noinline, cold)) ta_posix_memalign_cold(void **out, size_t align,
                                                                  size_t n)
{
	return ta_posix_memalign_gated(out, align, n, TA_CALLER);
}

TA_START TA_API int posix_memalign(void **out, size_t align, size_t n)
{
	if (TA_UNLIKELY(!ta_gate_open()))
		return ta_posix_memalign_cold(out, align, n);
	return ta_posix_memalign_ready(out, align, n);
}

TA_START TA_API void *valloc(size_t n)
{
	return ta_memalign_at((size_t)sysconf(_SC_PAGESIZE), n, TA_TAIL_CALLED);
}

TA_START TA_API void *pvalloc(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t rounded;

	if (TA_UNLIKELY(n > SIZE_MAX - page)) {
		errno = ENOMEM;
		return NULL;
	}
	rounded = (n + page - 1) & ~(page - 1);
	return ta_memalign_at(page, rounded ? rounded : page, TA_TAIL_CALLED);
}

void *ta_memalign_from(size_t align, size_t n, const void *ra)
{
	return ta_memalign_at(align, n, ra);
}

TA_START TA_API size_t malloc_usable_size(void *p)
{
	struct ta_block b;
	enum ta_verdict v;

	if (!p)
		return 0;
	if (ta_boot_owns(p))
		return ta_boot_size(p);
	if (!ta_gate_open() && !ta_ready_slow())
		return 0;
	v = ta_inspect(p, &b);
	if (v == TA_OWN)
		return ta_block_usable(&b);
	return v == TA_FREED ? 0 : ta_inner.malloc_usable_size(p);
}
