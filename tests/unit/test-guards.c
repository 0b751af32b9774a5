/* SPDX-License-Identifier: MIT */
/* Guards: nesting, scopes, LIFO and out-of-order exits, stale and foreign
 * guards, new threads. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>

#include "ta-check.h"

START_TEST(nested_lifo)
{
	ta_group *a = group_new("lifo-a"), *b = group_new("lifo-b"), *c = group_new("lifo-c");
	ta_guard ga, gb, gc, ga2;

	ga = ta_group_enter(a);
	ck_assert_ptr_eq(ta_group_current(), a);
	gb = ta_group_enter(b);
	ck_assert_ptr_eq(ta_group_current(), b);
	gc = ta_group_enter(c);
	ck_assert_ptr_eq(ta_group_current(), c);
	/* the same group twice nests like any other */
	ga2 = ta_group_enter(a);
	ck_assert_ptr_eq(ta_group_current(), a);

	ck_assert_int_eq(ta_guard_exit(&ga2), 0);
	ck_assert_ptr_eq(ta_group_current(), c);
	ck_assert_int_eq(ta_guard_exit(&gc), 0);
	ck_assert_ptr_eq(ta_group_current(), b);
	ck_assert_int_eq(ta_guard_exit(&gb), 0);
	ck_assert_ptr_eq(ta_group_current(), a);
	ck_assert_int_eq(ta_guard_exit(&ga), 0);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
}
END_TEST

START_TEST(enter_root_explicitly)
{
	ta_group *a = group_new("into-root");
	ta_guard ga = ta_group_enter(a), gr = ta_group_enter(ta_group_root());

	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
	ck_assert_int_eq(ta_guard_exit(&gr), 0);
	ck_assert_ptr_eq(ta_group_current(), a);
	ck_assert_int_eq(ta_guard_exit(&ga), 0);
}
END_TEST

static ta_group *scope_inner_seen, *scope_outer_seen, *scope_after_inner;

/* Scopes in their own function so that the cleanups have run when it returns. */
static void scoped(ta_group *a, ta_group *b)
{
	TA_GROUP_SCOPE(a);
	scope_outer_seen = ta_group_current();
	{
		TA_GROUP_SCOPE(b);
		TA_GROUP_SCOPE(a); /* twice in one block */
		scope_inner_seen = ta_group_current();
	}
	scope_after_inner = ta_group_current();
}

START_TEST(group_scope)
{
	ta_group *a = group_new("scope-a"), *b = group_new("scope-b");

	scoped(a, b);
	ck_assert_ptr_eq(scope_outer_seen, a);
	ck_assert_ptr_eq(scope_inner_seen, a);
	ck_assert_ptr_eq(scope_after_inner, a);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
	/* the scopes left the stack balanced: a new guard exits as innermost */
	{
		ta_guard g = ta_group_enter(b);

		ck_assert_int_eq(ta_guard_exit(&g), 0);
	}
}
END_TEST

START_TEST(out_of_order_exit)
{
	ta_group *a = group_new("ooo-a"), *b = group_new("ooo-b"), *c = group_new("ooo-c");
	ta_group *d = group_new("ooo-d");
	ta_guard ga, gb, gc, gd;
	struct ta_stats sa0, sa1, sc0, sc1;
	void *p;

	ga = ta_group_enter(a);
	gb = ta_group_enter(b);
	gc = ta_group_enter(c);

	/* b is not innermost: -EINVAL, and the thread goes back to a */
	ck_assert_int_eq(ta_guard_exit(&gb), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), a);

	/* allocations now go to a, not to the abandoned c */
	sa0 = stats_of(a);
	sc0 = stats_of(c);
	p = tw.malloc(100);
	tw.free(p);
	sa1 = stats_of(a);
	sc1 = stats_of(c);

	/* c was entered after b: stale, its exit changes nothing */
	ck_assert_int_eq(ta_guard_exit(&gc), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), a);

	/* a new guard takes b's old depth; b and c stay stale and must not
	 * unwind it */
	gd = ta_group_enter(d);
	ck_assert_ptr_eq(ta_group_current(), d);
	ck_assert_int_eq(ta_guard_exit(&gb), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), d);
	ck_assert_int_eq(ta_guard_exit(&gc), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), d);
	gc = ta_group_enter(c); /* c again, at the depth of its stale guard */
	ck_assert_ptr_eq(ta_group_current(), c);

	ck_assert_int_eq(ta_guard_exit(&gc), 0);
	ck_assert_ptr_eq(ta_group_current(), d);
	ck_assert_int_eq(ta_guard_exit(&gd), 0);
	ck_assert_ptr_eq(ta_group_current(), a);
	ck_assert_int_eq(ta_guard_exit(&ga), 0);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());

	ck_assert_ptr_nonnull(p);
	ck_assert_stats_delta(sa0, sa1, 100, 1, 100, 1);
	ck_assert_stats_same(sc0, sc1);
}
END_TEST

START_TEST(out_of_order_outermost)
{
	/* Exiting the outermost guard first unwinds everything to root. */
	ta_group *a = group_new("oom-a"), *b = group_new("oom-b");
	ta_guard ga = ta_group_enter(a), gb = ta_group_enter(b);

	ck_assert_int_eq(ta_guard_exit(&ga), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
	ck_assert_int_eq(ta_guard_exit(&gb), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
	ck_assert_int_eq(ta_guard_exit(&ga), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
}
END_TEST

START_TEST(double_exit_and_copies)
{
	ta_group *a = group_new("dbl-a"), *b = group_new("dbl-b");
	ta_guard ga = ta_group_enter(a), gb = ta_group_enter(b), copy = gb;

	ck_assert_int_eq(ta_guard_exit(&gb), 0);
	ck_assert_ptr_eq(ta_group_current(), a);
	ck_assert_int_eq(ta_guard_exit(&gb), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), a);
	/* a copy of an exited guard is exited too */
	ck_assert_int_eq(ta_guard_exit(&copy), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), a);
	ck_assert_int_eq(ta_guard_exit(&ga), 0);
	ck_assert_int_eq(ta_guard_exit(&ga), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
	ck_assert_int_eq(ta_guard_exit(NULL), -EINVAL);
}
END_TEST

START_TEST(null_group_inert)
{
	ta_group *a = group_new("inert-a");
	ta_guard ga = ta_group_enter(a), inert;

	errno = 0;
	inert = ta_group_enter(NULL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_eq(ta_group_current(), a);
	ck_assert_int_eq(ta_guard_exit(&inert), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), a);
	/* the inert guard took no place on the stack */
	ck_assert_int_eq(ta_guard_exit(&ga), 0);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
}
END_TEST

START_TEST(nest_max)
{
	static ta_guard guards[TA_NEST_MAX];
	ta_group *a = group_new("deep");
	ta_guard extra;
	int i, bad = 0;

	for (i = 0; i < TA_NEST_MAX; i++)
		guards[i] = ta_group_enter(a);
	errno = 0;
	extra = ta_group_enter(ta_group_root());
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_eq(ta_group_current(), a);
	ck_assert_int_eq(ta_guard_exit(&extra), -EINVAL);
	for (i = TA_NEST_MAX - 1; i >= 0; i--)
		bad += ta_guard_exit(&guards[i]) != 0;
	ck_assert_int_eq(bad, 0);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
}
END_TEST

/* ---- guards and threads ------------------------------------------------ */

struct foreign_exit {
	ta_guard *guard;
	ta_group *own;     /* if set, the thread enters it first */
	int ret;
	ta_group *before, *after;
	int own_exit;
};

static void *exit_foreign_guard(void *arg)
{
	struct foreign_exit *fe = arg;
	ta_guard own = { 0, 0, 0 };

	if (fe->own)
		own = ta_group_enter(fe->own);
	fe->before = ta_group_current();
	fe->ret = ta_guard_exit(fe->guard);
	fe->after = ta_group_current();
	fe->own_exit = fe->own ? ta_guard_exit(&own) : 0;
	return NULL;
}

START_TEST(guard_exit_on_other_thread)
{
	ta_group *a = group_new("xthr-a"), *b = group_new("xthr-b"), *t = group_new("xthr-t");
	struct foreign_exit fe[2] = { { 0 } };
	ta_guard ga = ta_group_enter(a), gb = ta_group_enter(b);
	pthread_t th;
	int i;

	/* once from a thread with an empty stack, once from a thread whose
	 * own guard sits at the same depth as ga */
	fe[0].guard = &gb;
	fe[1].guard = &ga;
	fe[1].own = t;
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_create(&th, NULL, exit_foreign_guard, &fe[i]), 0);
		ck_assert_int_eq(pthread_join(th, NULL), 0);
	}
	ck_assert_int_eq(fe[0].ret, -EINVAL);
	ck_assert_ptr_eq(fe[0].before, ta_group_root());
	ck_assert_ptr_eq(fe[0].after, ta_group_root());
	ck_assert_int_eq(fe[1].ret, -EINVAL);
	ck_assert_ptr_eq(fe[1].before, t);
	ck_assert_ptr_eq(fe[1].after, t);
	ck_assert_int_eq(fe[1].own_exit, 0);

	/* nothing changed here either: both guards are still good */
	ck_assert_ptr_eq(ta_group_current(), b);
	ck_assert_int_eq(ta_guard_exit(&gb), 0);
	ck_assert_int_eq(ta_guard_exit(&ga), 0);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
}
END_TEST

static void *report_current(void *arg)
{
	*(ta_group **)arg = ta_group_current();
	return NULL;
}

/* A thread that enters a group and exits without leaving it. */
static void *enter_and_quit(void *arg)
{
	ta_guard g = ta_group_enter(arg);

	(void)g;
	return NULL;
}

START_TEST(new_threads_start_in_root)
{
	ta_group *a = group_new("parent-group");
	ta_group *seen[2] = { NULL, NULL };
	ta_guard ga = ta_group_enter(a);
	pthread_t th;
	int ret[4];

	ret[0] = pthread_create(&th, NULL, report_current, &seen[0]);
	ret[1] = pthread_join(th, NULL);
	/* a thread that ended inside a group leaves nothing behind for the
	 * next thread (which may reuse its state) */
	pthread_create(&th, NULL, enter_and_quit, a);
	pthread_join(th, NULL);
	ret[2] = pthread_create(&th, NULL, report_current, &seen[1]);
	ret[3] = pthread_join(th, NULL);
	ta_guard_exit(&ga);

	ck_assert_int_eq(ret[0] | ret[1] | ret[2] | ret[3], 0);
	ck_assert_ptr_eq(seen[0], ta_group_root());
	ck_assert_ptr_eq(seen[1], ta_group_root());
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guards");
	TCase *tc = tcase_new("guards");

	tcase_add_test(tc, nested_lifo);
	tcase_add_test(tc, enter_root_explicitly);
	tcase_add_test(tc, group_scope);
	tcase_add_test(tc, out_of_order_exit);
	tcase_add_test(tc, out_of_order_outermost);
	tcase_add_test(tc, double_exit_and_copies);
	tcase_add_test(tc, null_group_inert);
	tcase_add_test(tc, nest_max);
	tcase_add_test(tc, guard_exit_on_other_thread);
	tcase_add_test(tc, new_threads_start_in_root);
	suite_add_tcase(s, tc);
	return s;
}
