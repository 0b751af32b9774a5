/* SPDX-License-Identifier: MIT */
/*
 * One of the shared libraries of the lib-rules test (libs.c): built four
 * times, as libta-rules-a.so, libta-rules-b.so.3, libta-rules-c.so and
 * libta-rules-d.so, with TA_LIB the letter and TA_K a factor that makes
 * each library's amounts its own. ta_rules_work_<letter>() allocates, by
 * calls made from this library:
 *
 *   malloc(100 K + 1)            then realloc'd to 200 K + 3 (a free of
 *                                the first block, an allocation of the
 *                                second), returned: the caller frees it
 *   calloc(K, 33)                freed here
 *   aligned_alloc(64, 64 K)      freed here
 *   strdup(10 K 'x')             10 K + 1 bytes, through libc, freed here
 *   fopen("/dev/null")/fclose    what glibc's fopen allocates (the caller
 *                                measures it), through libc
 *
 * so 100K+1 + 200K+3 + 33K + 64K + 10K+1 = 407 K + 5 bytes in 5 objects,
 * plus one fopen's, all freed once the caller frees the block it is given.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TA_CAT2(a, b) a##b
#define TA_CAT(a, b) TA_CAT2(a, b)
#define TA_WORK TA_CAT(ta_rules_work_, TA_LIB)

void *TA_WORK(void);

/* The compiler cannot drop an allocation whose pointer is stored here. */
static void *volatile sink;
static char text[10 * TA_K + 1];

void *TA_WORK(void)
{
	void *m = malloc(100 * TA_K + 1), *c = calloc(TA_K, 33), *al = aligned_alloc(64, 64 * TA_K);
	char *s;
	FILE *f;

	sink = m;
	sink = c;
	sink = al;
	if (!m || !c || !al)
		return NULL;
	m = realloc(m, 200 * TA_K + 3);
	sink = m;
	memset(text, 'x', sizeof(text) - 1);
	s = strdup(text);
	sink = s;
	f = fopen("/dev/null", "r");
	if (!m || !s || !f)
		return NULL;
	fclose(f);
	free(s);
	free(al);
	free(c);
	return m;
}
