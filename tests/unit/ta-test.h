/* SPDX-License-Identifier: MIT */
/*
 * Support shared by the unit tests and their helper programs.
 *
 * Tests never call malloc() and friends by name. Under ASan or TSan the
 * sanitizer runtime comes first in symbol order and owns the name "malloc",
 * so a plain call would never reach trackalloc. Instead tw_init() resolves
 * the wrapper's entry points from libtrackalloc.so itself; in an ordinary
 * build they are the same functions the name "malloc" binds to. Calling
 * through pointers also keeps GCC from eliding malloc/free pairs that a test
 * makes only to watch the counters move.
 */
#ifndef TA_TEST_H
#define TA_TEST_H

#include <stddef.h>
#include <stdint.h>

#include <trackalloc.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TA_TEST_SANITIZED 1
#else
#define TA_TEST_SANITIZED 0
#endif

/* The wrapper's malloc family, plus a few glibc functions reached directly. */
struct tw_fns {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*reallocarray)(void *, size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	void (*free_sized)(void *, size_t);
	void (*free_aligned_sized)(void *, size_t, size_t);

	/* glibc itself, the wrapper's inner allocator in every test build */
	void *(*libc_calloc)(size_t, size_t);
	size_t (*libc_usable)(void *);
	int (*libc_mallopt)(int, int);
};

extern struct tw_fns tw;

/* Resolve tw; exits the process with a message when that is impossible. */
void tw_init(void);

/* A group with a name no other call in this process used. */
ta_group *group_new(const char *prefix);

/* Counters of @g; the test fails outright if they cannot be read. */
struct ta_stats stats_of(const ta_group *g);
struct ta_diag diag_now(void);

/* The page size (valloc and pvalloc work in pages). */
size_t page_size(void);

/* glibc's scribbling of freed memory (MALLOC_PERTURB_, which meson sets by
 * default) destroys the freed mark in a trailer; tests about double frees
 * turn it off in their own process. */
void inner_perturb_off(void);

/* Run @argv with @extra_env ("NAME=value" strings, NULL-terminated) added to
 * the environment; stdout and stderr of the child go to the files named
 * (NULL: inherited). Return the wait status, or -1. */
int run_program(char *const argv[], char *const extra_env[], const char *out_path,
                const char *err_path);

/* Read a whole file into a NUL-terminated buffer from the wrapper (free it
 * with tw.free). NULL if it cannot be read. */
char *slurp(const char *path, size_t *len);

#endif /* TA_TEST_H */
