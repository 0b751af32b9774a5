/* SPDX-License-Identifier: MIT */
/* The shared library of stacks-prog: one allocation site outside the main
 * program (stacks-lib.c), and where it is. */
#ifndef STACKS_LIB_H
#define STACKS_LIB_H

#include <stddef.h>

/* Allocate @n blocks of @size bytes into @out, with one malloc call; its
 * line in stacks-lib.c is returned by stackslib_site_line(). */
void stackslib_fill(void **out, size_t n, size_t size);
int stackslib_site_line(void);

#endif
