/* SPDX-License-Identifier: MIT */
/* A shared library with one allocation site (see stacks-lib.h). */
#include <stdlib.h>

#include "stacks-lib.h"

static int site_line;

__attribute__((noinline)) void stackslib_fill(void **out, size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		out[i] = malloc(size); site_line = __LINE__;
	}
}

int stackslib_site_line(void)
{
	return site_line;
}
