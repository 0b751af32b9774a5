/* SPDX-License-Identifier: MIT */
/*
 * C++ operator new and delete, every standard form (throwing, nothrow,
 * aligned, sized, array), so that the caller of new is the return address
 * the rules and the sampled stacks see, not a frame inside libstdc++.
 *
 * Written in C under their mangled names: the library does not link
 * libstdc++. The semantics stay exactly libstdc++'s because everything but
 * the successful first try is libstdc++'s own code: when the allocation
 * fails (or the alignment is not a power of two), the call goes on to the
 * next definition in symbol order (libstdc++'s), which tries again, runs
 * the new_handler loop, and throws std::bad_alloc or returns NULL as its
 * form requires. The exception passes through this file's frames, which
 * carry unwind tables like all of the library's code.
 *
 * Sized deletes check the size they are given against the block's
 * requested size (a mismatch counts in struct ta_diag_ext); the block is
 * freed either way. The alignment of an aligned delete is not needed: a
 * block knows its own.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ta-internal.h"

#define TA_CALLER __builtin_return_address(0)

/* Their prototypes, as <new> declares them, in C. */
TA_API void *_Znwm(size_t n);
TA_API void *_Znam(size_t n);
TA_API void *_ZnwmRKSt9nothrow_t(size_t n, const void *tag);
TA_API void *_ZnamRKSt9nothrow_t(size_t n, const void *tag);
TA_API void *_ZnwmSt11align_val_t(size_t n, size_t align);
TA_API void *_ZnamSt11align_val_t(size_t n, size_t align);
TA_API void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *tag);
TA_API void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *tag);
TA_API void _ZdlPv(void *p);
TA_API void _ZdaPv(void *p);
TA_API void _ZdlPvm(void *p, size_t n);
TA_API void _ZdaPvm(void *p, size_t n);
TA_API void _ZdlPvRKSt9nothrow_t(void *p, const void *tag);
TA_API void _ZdaPvRKSt9nothrow_t(void *p, const void *tag);
TA_API void _ZdlPvSt11align_val_t(void *p, size_t align);
TA_API void _ZdaPvSt11align_val_t(void *p, size_t align);
TA_API void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t align);
TA_API void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t align);
TA_API void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *tag);
TA_API void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *tag);

/* libstdc++'s own definition of @name, for what only it can do. */
static void *ta_next_new(void **cache, const char *name)
{
	void *f = __atomic_load_n(cache, __ATOMIC_ACQUIRE);

	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		if (!f) {
			/* new was called, so a C++ runtime is loaded; one that
			 * does not define it is a broken installation */
			char msg[160];
			int n = snprintf(msg, sizeof(msg),
			                 "trackalloc: %s has no definition after libtrackalloc "
			                 "(no C++ runtime loaded?)\n", name);
			ssize_t r = write(2, msg, n > 0 ? (size_t)n : 0);

			(void)r;
			abort();
		}
		__atomic_store_n(cache, f, __ATOMIC_RELEASE);
	}
	return f;
}

/* Each operator keeps its own next definition: one cache per name. */
#define TA_NEXT(fn_type, name) ((fn_type)ta_next_new(cache, name))

typedef void *(*ta_new_fn)(size_t);
typedef void *(*ta_new_nothrow_fn)(size_t, const void *);
typedef void *(*ta_new_aligned_fn)(size_t, size_t);
typedef void *(*ta_new_aligned_nothrow_fn)(size_t, size_t, const void *);

static inline bool ta_align_valid(size_t align)
{
	return align && !(align & (align - 1));
}

/* ---- new ----------------------------------------------------------------- */

static void *__attribute__((noinline, cold)) ta_new_failed(size_t n, void **cache,
                                                          const char *name)
{
	return TA_NEXT(ta_new_fn, name)(n);
}

static void *__attribute__((noinline, cold)) ta_new_nothrow_failed(size_t n, const void *tag,
                                                                   void **cache, const char *name)
{
	return TA_NEXT(ta_new_nothrow_fn, name)(n, tag);
}

static void *__attribute__((noinline, cold)) ta_new_aligned_failed(size_t n, size_t align,
                                                                   void **cache, const char *name)
{
	return TA_NEXT(ta_new_aligned_fn, name)(n, align);
}

static void *__attribute__((noinline, cold))
ta_new_aligned_nothrow_failed(size_t n, size_t align, const void *tag, void **cache,
                              const char *name)
{
	return TA_NEXT(ta_new_aligned_nothrow_fn, name)(n, align, tag);
}

/* operator new(size_t) */
TA_START TA_API void *_Znwm(size_t n)
{
	static void *next; /* libstdc++\'s own */
	void *p = ta_new_alloc(n, 0, TA_CALLER);

	return TA_LIKELY(p) ? p : ta_new_failed(n, &next, "_Znwm");
}

/* operator new[](size_t) */
TA_START TA_API void *_Znam(size_t n)
{
	static void *next; /* libstdc++\'s own */
	void *p = ta_new_alloc(n, 0, TA_CALLER);

	return TA_LIKELY(p) ? p : ta_new_failed(n, &next, "_Znam");
}

/* operator new(size_t, const std::nothrow_t &) */
TA_START TA_API void *_ZnwmRKSt9nothrow_t(size_t n, const void *tag)
{
	static void *next; /* libstdc++\'s own */
	void *p = ta_new_alloc(n, 0, TA_CALLER);

	return TA_LIKELY(p) ? p : ta_new_nothrow_failed(n, tag, &next, "_ZnwmRKSt9nothrow_t");
}

/* operator new[](size_t, const std::nothrow_t &) */
TA_START TA_API void *_ZnamRKSt9nothrow_t(size_t n, const void *tag)
{
	static void *next; /* libstdc++\'s own */
	void *p = ta_new_alloc(n, 0, TA_CALLER);

	return TA_LIKELY(p) ? p : ta_new_nothrow_failed(n, tag, &next, "_ZnamRKSt9nothrow_t");
}

/* operator new(size_t, std::align_val_t) */
TA_START TA_API void *_ZnwmSt11align_val_t(size_t n, size_t align)
{
	static void *next; /* libstdc++\'s own */
	void *p = ta_align_valid(align) ? ta_new_alloc(n, align, TA_CALLER) : NULL;

	return TA_LIKELY(p) ? p : ta_new_aligned_failed(n, align, &next, "_ZnwmSt11align_val_t");
}

/* operator new[](size_t, std::align_val_t) */
TA_START TA_API void *_ZnamSt11align_val_t(size_t n, size_t align)
{
	static void *next; /* libstdc++\'s own */
	void *p = ta_align_valid(align) ? ta_new_alloc(n, align, TA_CALLER) : NULL;

	return TA_LIKELY(p) ? p : ta_new_aligned_failed(n, align, &next, "_ZnamSt11align_val_t");
}

/* operator new(size_t, std::align_val_t, const std::nothrow_t &) */
TA_START TA_API void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *tag)
{
	static void *next; /* libstdc++\'s own */
	void *p = ta_align_valid(align) ? ta_new_alloc(n, align, TA_CALLER) : NULL;

	return TA_LIKELY(p) ? p
	                    : ta_new_aligned_nothrow_failed(n, align, tag, &next,
	                                                    "_ZnwmSt11align_val_tRKSt9nothrow_t");
}

/* operator new[](size_t, std::align_val_t, const std::nothrow_t &) */
TA_START TA_API void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *tag)
{
	static void *next; /* libstdc++\'s own */
	void *p = ta_align_valid(align) ? ta_new_alloc(n, align, TA_CALLER) : NULL;

	return TA_LIKELY(p) ? p
	                    : ta_new_aligned_nothrow_failed(n, align, tag, &next,
	                                                    "_ZnamSt11align_val_tRKSt9nothrow_t");
}

/* ---- delete --------------------------------------------------------------- */

/* operator delete(void *) and delete[](void *) */
TA_START TA_API void _ZdlPv(void *p)
{
	free(p);
}

TA_START TA_API void _ZdaPv(void *p)
{
	free(p);
}

/* operator delete(void *, size_t) and delete[](void *, size_t) */
TA_START TA_API void _ZdlPvm(void *p, size_t n)
{
	ta_free_sized(p, n);
}

TA_START TA_API void _ZdaPvm(void *p, size_t n)
{
	ta_free_sized(p, n);
}

/* operator delete(void *, const std::nothrow_t &) and the array form */
TA_START TA_API void _ZdlPvRKSt9nothrow_t(void *p, const void *tag)
{
	(void)tag;
	free(p);
}

TA_START TA_API void _ZdaPvRKSt9nothrow_t(void *p, const void *tag)
{
	(void)tag;
	free(p);
}

/* operator delete(void *, std::align_val_t) and the array form */
TA_START TA_API void _ZdlPvSt11align_val_t(void *p, size_t align)
{
	(void)align;
	free(p);
}

TA_START TA_API void _ZdaPvSt11align_val_t(void *p, size_t align)
{
	(void)align;
	free(p);
}

/* operator delete(void *, size_t, std::align_val_t) and the array form */
TA_START TA_API void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t align)
{
	(void)align;
	ta_free_sized(p, n);
}

TA_START TA_API void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t align)
{
	(void)align;
	ta_free_sized(p, n);
}

/* operator delete(void *, std::align_val_t, const std::nothrow_t &) and the
 * array form */
TA_START TA_API void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *tag)
{
	(void)align, (void)tag;
	free(p);
}

TA_START TA_API void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *tag)
{
	(void)align, (void)tag;
	free(p);
}
