/* SPDX-License-Identifier: MIT */
/*
 * For test-oom: a program with a group and live blocks that makes every
 * inner allocation fail before it returns from main, so that the exit
 * report (TRACKALLOC_REPORT) meets an exhausted allocator.
 */
#include "failing-inner.h"
#include "ta-test.h"

int main(void)
{
	ta_group *g;
	ta_guard gd;
	void *p;

	tw_init();
	g = ta_group_register("oom-helper", NULL, 0);
	if (!g)
		return 2;
	gd = ta_group_enter(g);
	p = tw.malloc(100);
	ta_guard_exit(&gd);
	if (!p)
		return 3;
	fi_fail_all(true);
	return 0;
}
