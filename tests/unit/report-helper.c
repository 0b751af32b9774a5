/* SPDX-License-Identifier: MIT */
/*
 * A small program for test-report: it makes a known set of groups and
 * allocations, one foreign free, and exits with blocks still live, so that
 * the TRACKALLOC_REPORT written at exit can be checked to the byte.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ta-test.h"

int main(void)
{
	const struct ta_tag alpha_tags[] = { { "team", "core" }, { "tier", "1" } };
	const struct ta_tag odd_tags[] = { { "k\"ey", "va\\lue\n" } };
	ta_group *alpha, *beta, *odd;
	ta_guard g;
	void *a1, *a2, *a3, *b1, *o1, *foreign;

	tw_init();
	alpha = ta_group_register("rpt-alpha", alpha_tags, 2);
	beta = ta_group_register("rpt-beta", NULL, 0);
	/* a name and a tag that JSON must escape */
	odd = ta_group_register("rpt-\"odd\"\\name\t", odd_tags, 1);
	if (!alpha || !beta || !odd)
		return 2;

	g = ta_group_enter(alpha);
	a1 = tw.malloc(100);
	a2 = tw.malloc(100);
	a3 = tw.malloc(100);
	tw.free(a2);
	ta_guard_exit(&g);

	g = ta_group_enter(beta);
	b1 = tw.calloc(7, 1);
	ta_guard_exit(&g);

	g = ta_group_enter(odd);
	o1 = tw.malloc(11);
	tw.free(o1);
	ta_guard_exit(&g);

	/* one pointer the wrapper did not produce */
	foreign = tw.libc_calloc(1, 32);
	tw.free(foreign);

	if (!a1 || !a2 || !a3 || !b1 || !o1 || !foreign)
		return 3;
	/* a1, a3 and b1 stay live: the report shows them as not freed */
	return 0;
}
