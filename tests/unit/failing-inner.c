/* SPDX-License-Identifier: MIT */
/* The failing inner allocator: see failing-inner.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>

#include "failing-inner.h"

#define FI_API __attribute__((visibility("default")))
#define FI_TLS __thread __attribute__((tls_model("initial-exec")))

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t nmemb, size_t n);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

static FI_TLS unsigned long fi_countdown;
static FI_TLS bool fi_hit;
static bool fi_all;
static long fi_blocks;
static unsigned long fi_calls;

/* Whether this allocation must fail; counts the call. */
static bool fi_fail_now(void)
{
	__atomic_add_fetch(&fi_calls, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&fi_all, __ATOMIC_RELAXED))
		return true;
	if (fi_countdown && --fi_countdown == 0) {
		fi_hit = true;
		return true;
	}
	return false;
}

static void *fi_count(void *p)
{
	if (p)
		__atomic_add_fetch(&fi_blocks, 1, __ATOMIC_RELAXED);
	return p;
}

FI_API void fi_fail_nth(unsigned long n)
{
	fi_countdown = n;
	fi_hit = false;
}

FI_API bool fi_fail_stop(void)
{
	bool hit = fi_hit;

	fi_countdown = 0;
	fi_hit = false;
	return hit;
}

FI_API void fi_fail_all(bool on)
{
	__atomic_store_n(&fi_all, on, __ATOMIC_RELAXED);
}

FI_API long fi_live(void)
{
	return __atomic_load_n(&fi_blocks, __ATOMIC_RELAXED);
}

FI_API bool fi_active(void)
{
	return __atomic_load_n(&fi_calls, __ATOMIC_RELAXED) > 0;
}

/* Calls between these go to the static functions: the exported names bind
 * to the wrapper first. */
static void *fi_malloc(size_t n)
{
	if (fi_fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	return fi_count(__libc_malloc(n));
}

static void fi_free(void *p)
{
	if (p)
		__atomic_sub_fetch(&fi_blocks, 1, __ATOMIC_RELAXED);
	__libc_free(p);
}

FI_API void *malloc(size_t n)
{
	return fi_malloc(n);
}

FI_API void free(void *p)
{
	fi_free(p);
}

FI_API void *calloc(size_t nmemb, size_t n)
{
	if (fi_fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	return fi_count(__libc_calloc(nmemb, n));
}

FI_API void *realloc(void *p, size_t n)
{
	void *q;

	if (!p)
		return fi_malloc(n);
	if (n == 0) {
		fi_free(p);
		return NULL;
	}
	if (fi_fail_now()) {
		errno = ENOMEM;
		return NULL; /* the old block stays the caller's */
	}
	q = __libc_realloc(p, n);
	return q;
}

FI_API void *memalign(size_t align, size_t n)
{
	if (fi_fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	return fi_count(__libc_memalign(align, n));
}

FI_API int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	if (fi_fail_now())
		return ENOMEM;
	p = fi_count(__libc_memalign(align, n));
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}


