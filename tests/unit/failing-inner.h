/* SPDX-License-Identifier: MIT */
/*
 * A failing inner allocator for the out-of-memory tests: a library linked
 * after libtrackalloc.so, so that the wrapper's dlsym(RTLD_NEXT, "malloc")
 * finds it. It passes every call to glibc's __libc_* functions, counts the
 * blocks it holds, and fails the calls it is told to fail (NULL and ENOMEM,
 * as glibc does when memory runs out). Only the library's inner calls reach
 * it: the program's own malloc calls go to the wrapper first.
 */
#ifndef TA_FAILING_INNER_H
#define TA_FAILING_INNER_H

#include <stdbool.h>

/* The @n-th inner allocation (malloc, calloc, realloc, memalign,
 * posix_memalign) the calling thread makes from now on fails (@n > 0). */
void fi_fail_nth(unsigned long n);
/* Stop the countdown: whether the failure set with fi_fail_nth happened. */
bool fi_fail_stop(void);
/* Every inner allocation of every thread fails while @on. */
void fi_fail_all(bool on);
/* Blocks the inner allocator holds now, process-wide. */
long fi_live(void);
/* Whether this library is the wrapper's inner allocator: it has served at
 * least one call. */
bool fi_active(void);

#endif
