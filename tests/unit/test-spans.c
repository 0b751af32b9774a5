/* SPDX-License-Identifier: MIT */
/*
 * Spans: bind/unbind rules, enter/exit and their nesting with each other and
 * with guards, out-of-order exits, re-entry, binding changes while inside a
 * span, many threads in one span, the depth limit, what bind and enter
 * allocate, reclaiming unbound entries, fork, and a bounded stress run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ta-check.h"

/* Span ids: each test gets a range of its own (a fresh one per test, also
 * when Check runs every test in one process, CK_FORK=no). */
static uint64_t span_base = 0x5a00000000000000ull;
#define SPAN(n) (span_base + (uint64_t)(n))

static void span_range_next(void)
{
	span_base += 1ull << 32;
}

/* Every test leaves its thread as it found it: in root, nothing to exit. */
static void stack_balanced(void)
{
	ta_guard g = ta_group_enter(ta_group_root());

	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
	ck_assert_uint_eq(g._ta_depth, 1);
	ck_assert_int_eq(ta_guard_exit(&g), 0);
}

static ta_group *root(void)
{
	return ta_group_root();
}

/* ---- bind and unbind -------------------------------------------------- */

static bool urcu_cds_mapped(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, "/liburcu-cds.so") != NULL;
	fclose(f);
	return found;
}

/* liburcu's hash table is loaded by the first bind, not at start (the
 * first test of the case: nothing bound before it, also with CK_FORK=no) */
START_TEST(first_bind_loads_the_table)
{
	ta_group *g = group_new("first-bind");

	ck_assert_ptr_nonnull(g);
	ck_assert_msg(!urcu_cds_mapped(), "liburcu-cds is mapped before any span is bound");
	ck_assert_int_eq(ta_span_bind(SPAN(1), g), 0);
	ck_assert_msg(urcu_cds_mapped(), "liburcu-cds is not mapped after a bind");
	ck_assert_int_eq(ta_span_unbind(SPAN(1)), 0);
}
END_TEST

START_TEST(bind_einval)
{
	ta_group *g = group_new("bind-einval");

	ck_assert_int_eq(ta_span_bind(0, g), -EINVAL);
	ck_assert_int_eq(ta_span_bind(SPAN(1), NULL), -EINVAL);
	ck_assert_int_eq(ta_span_unbind(0), -EINVAL);
	ck_assert_int_eq(ta_span_enter(0), -EINVAL);
	ck_assert_int_eq(ta_span_exit(0), -EINVAL);
	/* none of them bound SPAN(1) or pushed a frame */
	ck_assert_int_eq(ta_span_unbind(SPAN(1)), -ENOENT);
	ck_assert_ptr_eq(ta_group_current(), root());
	ck_assert_int_eq(ta_span_exit(SPAN(1)), -EINVAL);
}
END_TEST

START_TEST(bind_eexist_and_idempotent)
{
	ta_group *a = group_new("bind-a"), *b = group_new("bind-b");
	ta_group *seen;

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	ck_assert_int_eq(ta_span_bind(SPAN(1), b), -EEXIST);
	/* the refused bind left the first binding alone */
	ck_assert_int_eq(ta_span_enter(SPAN(1)), 0);
	seen = ta_group_current();
	ck_assert_int_eq(ta_span_exit(SPAN(1)), 0);
	ck_assert_ptr_eq(seen, a);
	/* one unbind undoes the binding, however often it was bound */
	ck_assert_int_eq(ta_span_unbind(SPAN(1)), 0);
	ck_assert_int_eq(ta_span_unbind(SPAN(1)), -ENOENT);
	ck_assert_int_eq(ta_span_bind(SPAN(1), b), 0);
	ck_assert_int_eq(ta_span_enter(SPAN(1)), 0);
	seen = ta_group_current();
	ck_assert_int_eq(ta_span_exit(SPAN(1)), 0);
	ck_assert_ptr_eq(seen, b);
	/* root is a group like any other */
	ck_assert_int_eq(ta_span_bind(SPAN(2), root()), 0);
	ck_assert_int_eq(ta_span_bind(SPAN(2), a), -EEXIST);
}
END_TEST

START_TEST(unbind_enoent)
{
	ta_group *a = group_new("unbind");

	/* before any table exists, and after */
	ck_assert_int_eq(ta_span_unbind(SPAN(7)), -ENOENT);
	ck_assert_int_eq(ta_span_bind(SPAN(8), a), 0);
	ck_assert_int_eq(ta_span_unbind(SPAN(7)), -ENOENT);
	ck_assert_int_eq(ta_span_unbind(SPAN(8)), 0);
	ck_assert_int_eq(ta_span_unbind(SPAN(8)), -ENOENT);
}
END_TEST

/* ---- enter and exit ------------------------------------------------------ */

START_TEST(enter_charges_bound_group)
{
	ta_group *g = group_new("span-charged");
	struct ta_stats g0, g1, g2;
	ta_group *inside, *after;
	int r_enter, r_exit;
	void *p, *q;

	ck_assert_int_eq(ta_span_bind(SPAN(1), g), 0);
	g0 = stats_of(g);
	r_enter = ta_span_enter(SPAN(1));
	inside = ta_group_current();
	p = tw.malloc(123);
	r_exit = ta_span_exit(SPAN(1));
	after = ta_group_current();
	g1 = stats_of(g);
	/* outside the span: a new block is not g's, freeing p is */
	q = tw.malloc(77);
	tw.free(p);
	tw.free(q);
	g2 = stats_of(g);

	ck_assert_int_eq(r_enter, 0);
	ck_assert_int_eq(r_exit, 0);
	ck_assert_ptr_eq(inside, g);
	ck_assert_ptr_eq(after, root());
	ck_assert_ptr_nonnull(p);
	ck_assert_stats_delta(g0, g1, 123, 1, 0, 0);
	ck_assert_stats_delta(g1, g2, 0, 0, 123, 1);
}
END_TEST

START_TEST(unbound_enter_exit_balanced)
{
	ta_group *a = group_new("unbound-outer");
	struct ta_stats a0, a1;
	ta_group *seen[3];
	int r[6];
	void *p;

	/* no table at all yet in this process */
	r[0] = ta_span_enter(SPAN(1));
	seen[0] = ta_group_current();
	r[1] = ta_span_exit(SPAN(1));
	ck_assert_int_eq(r[0], -ENOENT);
	ck_assert_int_eq(r[1], -ENOENT);
	ck_assert_ptr_eq(seen[0], root());
	/* the pair was balanced: nothing is left to exit */
	ck_assert_int_eq(ta_span_exit(SPAN(1)), -EINVAL);
	/* bound now: the next enter sees it */
	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	r[0] = ta_span_enter(SPAN(1));
	seen[0] = ta_group_current();
	r[1] = ta_span_exit(SPAN(1));
	ck_assert_int_eq(r[0], 0);
	ck_assert_int_eq(r[1], 0);
	ck_assert_ptr_eq(seen[0], a);

	/* inside a bound span, an unbound one changes nothing */
	ck_assert_int_eq(ta_span_bind(SPAN(2), a), 0);
	a0 = stats_of(a);
	r[0] = ta_span_enter(SPAN(2));
	r[1] = ta_span_enter(SPAN(3));
	seen[0] = ta_group_current();
	p = tw.malloc(10);
	r[2] = ta_span_exit(SPAN(3));
	seen[1] = ta_group_current();
	/* and again: each unbound enter pushes one no-op frame */
	r[3] = ta_span_enter(SPAN(3));
	r[4] = ta_span_exit(SPAN(3));
	r[5] = ta_span_exit(SPAN(2));
	seen[2] = ta_group_current();
	tw.free(p);
	a1 = stats_of(a);

	ck_assert_int_eq(r[0], 0);
	ck_assert_int_eq(r[1], -ENOENT);
	ck_assert_int_eq(r[2], -ENOENT);
	ck_assert_int_eq(r[3], -ENOENT);
	ck_assert_int_eq(r[4], -ENOENT);
	ck_assert_int_eq(r[5], 0);
	ck_assert_ptr_eq(seen[0], a);
	ck_assert_ptr_eq(seen[1], a);
	ck_assert_ptr_eq(seen[2], root());
	ck_assert_stats_delta(a0, a1, 10, 1, 10, 1);
}
END_TEST

START_TEST(spans_nest)
{
	ta_group *a = group_new("nest-a"), *b = group_new("nest-b"), *c = group_new("nest-c");
	ta_group *seen[6];
	int r[6];

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	ck_assert_int_eq(ta_span_bind(SPAN(2), b), 0);
	ck_assert_int_eq(ta_span_bind(SPAN(3), c), 0);
	r[0] = ta_span_enter(SPAN(1));
	seen[0] = ta_group_current();
	r[1] = ta_span_enter(SPAN(2));
	seen[1] = ta_group_current();
	r[2] = ta_span_enter(SPAN(3));
	seen[2] = ta_group_current();
	r[3] = ta_span_exit(SPAN(3));
	seen[3] = ta_group_current();
	r[4] = ta_span_exit(SPAN(2));
	seen[4] = ta_group_current();
	r[5] = ta_span_exit(SPAN(1));
	seen[5] = ta_group_current();

	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(r[i], 0);
	ck_assert_ptr_eq(seen[0], a);
	ck_assert_ptr_eq(seen[1], b);
	ck_assert_ptr_eq(seen[2], c);
	ck_assert_ptr_eq(seen[3], b);
	ck_assert_ptr_eq(seen[4], a);
	ck_assert_ptr_eq(seen[5], root());
}
END_TEST

START_TEST(spans_nest_with_guards)
{
	ta_group *a = group_new("mix-a"), *b = group_new("mix-b"), *c = group_new("mix-c");
	ta_group *seen[5];
	ta_guard gb, gb2;
	int r[4], rg[2];

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	ck_assert_int_eq(ta_span_bind(SPAN(3), c), 0);
	/* span, guard, span; LIFO exits restore each level */
	r[0] = ta_span_enter(SPAN(1));
	gb = ta_group_enter(b);
	r[1] = ta_span_enter(SPAN(3));
	seen[0] = ta_group_current();
	r[2] = ta_span_exit(SPAN(3));
	seen[1] = ta_group_current();
	rg[0] = ta_guard_exit(&gb);
	seen[2] = ta_group_current();
	r[3] = ta_span_exit(SPAN(1));
	seen[3] = ta_group_current();

	ck_assert_int_eq(r[0] | r[1] | r[2] | r[3] | rg[0], 0);
	ck_assert_ptr_eq(seen[0], c);
	ck_assert_ptr_eq(seen[1], b);
	ck_assert_ptr_eq(seen[2], a);
	ck_assert_ptr_eq(seen[3], root());

	/* a guard exited out of order unwinds the spans above it, which then
	 * have no frame left to exit */
	gb2 = ta_group_enter(b);
	r[0] = ta_span_enter(SPAN(3));
	rg[1] = ta_guard_exit(&gb2);
	seen[4] = ta_group_current();
	r[1] = ta_span_exit(SPAN(3));
	ck_assert_int_eq(r[0], 0);
	ck_assert_int_eq(rg[1], -EINVAL);
	ck_assert_ptr_eq(seen[4], root());
	ck_assert_int_eq(r[1], -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), root());
}
END_TEST

START_TEST(exit_not_innermost_unwinds)
{
	ta_group *a = group_new("ooo-a"), *b = group_new("ooo-b"), *c = group_new("ooo-c");
	struct ta_stats b0, b1, c0, c1;
	ta_group *seen[4];
	int r[5];
	void *p;

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	ck_assert_int_eq(ta_span_bind(SPAN(2), b), 0);
	ck_assert_int_eq(ta_span_bind(SPAN(3), c), 0);

	/* the middle span: back to a, and c's frame is gone */
	ta_span_enter(SPAN(1));
	ta_span_enter(SPAN(2));
	ta_span_enter(SPAN(3));
	r[0] = ta_span_exit(SPAN(2));
	seen[0] = ta_group_current();
	b0 = stats_of(b);
	c0 = stats_of(c);
	p = tw.malloc(50);
	tw.free(p);
	b1 = stats_of(b);
	c1 = stats_of(c);
	r[1] = ta_span_exit(SPAN(3)); /* no frame of 3 left: nothing changes */
	seen[1] = ta_group_current();
	r[2] = ta_span_exit(SPAN(1));
	seen[2] = ta_group_current();

	ck_assert_int_eq(r[0], -EINVAL);
	ck_assert_ptr_eq(seen[0], a);
	ck_assert_int_eq(r[1], -EINVAL);
	ck_assert_ptr_eq(seen[1], a);
	ck_assert_int_eq(r[2], 0);
	ck_assert_ptr_eq(seen[2], root());
	ck_assert_stats_same(b0, b1);
	ck_assert_stats_same(c0, c1);

	/* the outermost span: everything unwinds to where it started */
	ta_span_enter(SPAN(1));
	ta_span_enter(SPAN(2));
	ta_span_enter(SPAN(3));
	r[0] = ta_span_exit(SPAN(1));
	seen[3] = ta_group_current();
	r[1] = ta_span_exit(SPAN(3));
	r[2] = ta_span_exit(SPAN(2));
	r[3] = ta_span_exit(SPAN(1));
	ck_assert_int_eq(r[0], -EINVAL);
	ck_assert_ptr_eq(seen[3], root());
	ck_assert_int_eq(r[1], -EINVAL);
	ck_assert_int_eq(r[2], -EINVAL);
	ck_assert_int_eq(r[3], -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), root());

	/* a guard between the target span and the innermost span is unwound
	 * with them and becomes stale */
	{
		ta_guard gb;

		ta_span_enter(SPAN(1));
		gb = ta_group_enter(b);
		ta_span_enter(SPAN(3));
		r[0] = ta_span_exit(SPAN(1));
		seen[0] = ta_group_current();
		r[1] = ta_guard_exit(&gb);
		seen[1] = ta_group_current();
		ck_assert_int_eq(r[0], -EINVAL);
		ck_assert_ptr_eq(seen[0], root());
		ck_assert_int_eq(r[1], -EINVAL);
		ck_assert_ptr_eq(seen[1], root());
	}

	/* an exit of an unbound span found lower is out of order too */
	ta_span_enter(SPAN(9));
	ta_span_enter(SPAN(2));
	r[4] = ta_span_exit(SPAN(9));
	ck_assert_int_eq(r[4], -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), root());
	ck_assert_int_eq(ta_span_exit(SPAN(2)), -EINVAL);
}
END_TEST

START_TEST(exit_under_guard_changes_nothing)
{
	ta_group *a = group_new("ug-a"), *b = group_new("ug-b");
	ta_group *seen[3];
	ta_guard gb;
	int r[4];

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	r[0] = ta_span_enter(SPAN(1));
	gb = ta_group_enter(b);
	/* the guard is innermost: the span exit is refused, the guard's scope
	 * keeps its group */
	r[1] = ta_span_exit(SPAN(1));
	seen[0] = ta_group_current();
	r[2] = ta_guard_exit(&gb);
	seen[1] = ta_group_current();
	r[3] = ta_span_exit(SPAN(1));
	seen[2] = ta_group_current();

	ck_assert_int_eq(r[0], 0);
	ck_assert_int_eq(r[1], -EINVAL);
	ck_assert_ptr_eq(seen[0], b);
	ck_assert_int_eq(r[2], 0);
	ck_assert_ptr_eq(seen[1], a);
	ck_assert_int_eq(r[3], 0);
	ck_assert_ptr_eq(seen[2], root());
}
END_TEST

START_TEST(exit_not_entered_changes_nothing)
{
	ta_group *a = group_new("ne-a"), *b = group_new("ne-b");
	ta_group *seen;
	int r[3];

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	ck_assert_int_eq(ta_span_bind(SPAN(2), b), 0);
	/* empty stack */
	ck_assert_int_eq(ta_span_exit(SPAN(1)), -EINVAL);
	ck_assert_ptr_eq(ta_group_current(), root());
	/* bound but not entered on this thread */
	r[0] = ta_span_enter(SPAN(1));
	r[1] = ta_span_exit(SPAN(2));
	seen = ta_group_current();
	r[2] = ta_span_exit(SPAN(1));
	ck_assert_int_eq(r[0], 0);
	ck_assert_int_eq(r[1], -EINVAL);
	ck_assert_ptr_eq(seen, a);
	ck_assert_int_eq(r[2], 0);
	ck_assert_ptr_eq(ta_group_current(), root());
}
END_TEST

START_TEST(reenter_same_span)
{
	ta_group *a = group_new("re-a"), *b = group_new("re-b");
	ta_group *seen[6];
	int r[6], i;

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	ck_assert_int_eq(ta_span_bind(SPAN(2), b), 0);
	for (i = 0; i < 3; i++)
		r[i] = ta_span_enter(SPAN(1));
	for (i = 0; i < 3; i++) {
		r[3 + i] = ta_span_exit(SPAN(1));
		seen[i] = ta_group_current();
	}
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(r[i], 0);
	ck_assert_ptr_eq(seen[0], a);
	ck_assert_ptr_eq(seen[1], a);
	ck_assert_ptr_eq(seen[2], root());

	/* 1, 2, 1: exiting 2 unwinds to it, the outer 1 is what remains */
	r[0] = ta_span_enter(SPAN(1));
	r[1] = ta_span_enter(SPAN(2));
	r[2] = ta_span_enter(SPAN(1));
	r[3] = ta_span_exit(SPAN(2));
	seen[3] = ta_group_current();
	r[4] = ta_span_exit(SPAN(1));
	seen[4] = ta_group_current();
	r[5] = ta_span_exit(SPAN(1));
	seen[5] = ta_group_current();
	ck_assert_int_eq(r[0] | r[1] | r[2], 0);
	ck_assert_int_eq(r[3], -EINVAL);
	ck_assert_ptr_eq(seen[3], a);
	ck_assert_int_eq(r[4], 0);
	ck_assert_ptr_eq(seen[4], root());
	ck_assert_int_eq(r[5], -EINVAL);
	ck_assert_ptr_eq(seen[5], root());
}
END_TEST

/* Enter and exit SPAN(1..n), each expected in want[i % 4] (NULL: unbound).
 * Returns how many enters saw another binding than expected. */
static int spans_check(int n, ta_group *const want[4])
{
	int bad = 0, i;

	for (i = 1; i <= n; i++) {
		ta_group *w = want[i % 4];
		int r = ta_span_enter(SPAN(i));

		bad += r != (w ? 0 : -ENOENT);
		bad += ta_group_current() != (w ? w : root());
		bad += ta_span_exit(SPAN(i)) != r;
	}
	return bad;
}

/*
 * Many bound spans: lookups that miss the per-thread cache go through the
 * directory in front of the table, which grows and shrinks with the bound
 * ids and whose sets several ids share. Every enter sees its own id's
 * binding, never another id's, never one that was undone.
 */
START_TEST(many_spans_each_own_binding)
{
	enum { N = 20000 };
	ta_group *g[4] = { group_new("many-0"), group_new("many-1"), group_new("many-2"),
		           group_new("many-3") };
	ta_group *odd_unbound[4] = { g[0], NULL, g[2], NULL };
	ta_group *rebound[4] = { g[0], g[2], g[2], g[0] };
	ta_group *none[4] = { NULL, NULL, NULL, NULL };
	int bad[5] = { 0 }, i;

	for (i = 1; i <= N; i++)
		bad[0] += ta_span_bind(SPAN(i), g[i % 4]) != 0;
	bad[1] = spans_check(N, g);
	for (i = 1; i <= N; i += 2)
		bad[0] += ta_span_unbind(SPAN(i)) != 0;
	bad[2] = spans_check(N, odd_unbound);
	/* bound again, to another group than before */
	for (i = 1; i <= N; i += 2)
		bad[0] += ta_span_bind(SPAN(i), g[(i + 1) % 4]) != 0;
	bad[3] = spans_check(N, rebound);
	for (i = 1; i <= N; i++)
		bad[0] += ta_span_unbind(SPAN(i)) != 0;
	bad[4] = spans_check(N, none);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(bad[i], 0);
}
END_TEST

START_TEST(rebind_while_inside)
{
	ta_group *a = group_new("rb-a"), *b = group_new("rb-b");
	struct ta_stats a0, a1, b0, b1;
	ta_group *seen[5];
	int r[8];
	void *p[3];

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	a0 = stats_of(a);
	b0 = stats_of(b);
	r[0] = ta_span_enter(SPAN(1));
	/* unbinding while inside: the thread keeps a */
	r[1] = ta_span_unbind(SPAN(1));
	seen[0] = ta_group_current();
	p[0] = tw.malloc(11);
	/* an enter now finds it unbound */
	r[2] = ta_span_enter(SPAN(1));
	seen[1] = ta_group_current();
	r[3] = ta_span_exit(SPAN(1));
	/* bound anew to b: still a here, b for the next enter */
	r[4] = ta_span_bind(SPAN(1), b);
	seen[2] = ta_group_current();
	p[1] = tw.malloc(22);
	r[5] = ta_span_enter(SPAN(1));
	seen[3] = ta_group_current();
	p[2] = tw.malloc(33);
	r[6] = ta_span_exit(SPAN(1));
	seen[4] = ta_group_current();
	/* the first enter's exit still works, after all of that */
	r[7] = ta_span_exit(SPAN(1));
	a1 = stats_of(a);
	b1 = stats_of(b);

	ck_assert_int_eq(r[0], 0);
	ck_assert_int_eq(r[1], 0);
	ck_assert_ptr_eq(seen[0], a);
	ck_assert_int_eq(r[2], -ENOENT);
	ck_assert_ptr_eq(seen[1], a);
	ck_assert_int_eq(r[3], -ENOENT);
	ck_assert_int_eq(r[4], 0);
	ck_assert_ptr_eq(seen[2], a);
	ck_assert_int_eq(r[5], 0);
	ck_assert_ptr_eq(seen[3], b);
	ck_assert_int_eq(r[6], 0);
	ck_assert_ptr_eq(seen[4], a);
	ck_assert_int_eq(r[7], 0);
	ck_assert_ptr_eq(ta_group_current(), root());
	ck_assert_stats_delta(a0, a1, 11 + 22, 2, 0, 0);
	ck_assert_stats_delta(b0, b1, 33, 1, 0, 0);
	for (int i = 0; i < 3; i++)
		tw.free(p[i]);
}
END_TEST

/* ---- threads ----------------------------------------------------------- */

#define CROWD 4

struct crowd {
	pthread_barrier_t inside;
	uint64_t span;
	int r_enter[CROWD], r_exit[CROWD];
	ta_group *seen[CROWD];
	void *block[CROWD];
};

struct crowd_arg {
	struct crowd *c;
	int me;
};

static void *crowd_run(void *arg)
{
	struct crowd_arg *ca = arg;
	struct crowd *c = ca->c;
	int me = ca->me;

	c->r_enter[me] = ta_span_enter(c->span);
	c->seen[me] = ta_group_current();
	c->block[me] = tw.malloc(100 + (size_t)me);
	/* every member is inside the span at once */
	pthread_barrier_wait(&c->inside);
	c->r_exit[me] = ta_span_exit(c->span);
	return NULL;
}

START_TEST(one_span_many_threads)
{
	ta_group *g = group_new("crowd");
	struct crowd c;
	struct crowd_arg args[CROWD];
	pthread_t th[CROWD];
	struct ta_stats g0, g1;
	size_t bytes = 0;
	int i;

	memset(&c, 0, sizeof(c));
	c.span = SPAN(1);
	ck_assert_int_eq(ta_span_bind(c.span, g), 0);
	ck_assert_int_eq(pthread_barrier_init(&c.inside, NULL, CROWD), 0);
	g0 = stats_of(g);
	for (i = 0; i < CROWD; i++) {
		args[i].c = &c;
		args[i].me = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, crowd_run, &args[i]), 0);
	}
	for (i = 0; i < CROWD; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	g1 = stats_of(g);
	pthread_barrier_destroy(&c.inside);

	for (i = 0; i < CROWD; i++) {
		ck_assert_int_eq(c.r_enter[i], 0);
		ck_assert_int_eq(c.r_exit[i], 0);
		ck_assert_ptr_eq(c.seen[i], g);
		bytes += 100 + (size_t)i;
		tw.free(c.block[i]);
	}
	ck_assert_stats_delta(g0, g1, bytes, CROWD, 0, 0);
	/* the main thread was never inside */
	ck_assert_ptr_eq(ta_group_current(), root());
}
END_TEST

struct xexit {
	uint64_t span;
	int r;
	ta_group *before, *after;
};

static void *exit_elsewhere(void *arg)
{
	struct xexit *x = arg;

	x->before = ta_group_current();
	x->r = ta_span_exit(x->span);
	x->after = ta_group_current();
	return NULL;
}

START_TEST(exit_on_other_thread)
{
	ta_group *a = group_new("xexit");
	struct xexit x = { SPAN(1), 0, NULL, NULL };
	pthread_t th;
	ta_group *seen;

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	ck_assert_int_eq(ta_span_enter(SPAN(1)), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, exit_elsewhere, &x), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	seen = ta_group_current();
	ck_assert_int_eq(ta_span_exit(SPAN(1)), 0);
	ck_assert_int_eq(x.r, -EINVAL);
	ck_assert_ptr_eq(x.before, root());
	ck_assert_ptr_eq(x.after, root());
	ck_assert_ptr_eq(seen, a);
}
END_TEST

/* A thread that enters a span, then again after each change the main thread
 * makes to its binding: every change shows at its next enter. */
struct watcher {
	pthread_barrier_t step;
	uint64_t span;
	int r[4];
	ta_group *seen[4];
};

static void *watch_binding(void *arg)
{
	struct watcher *w = arg;

	for (int i = 0; i < 4; i++) {
		/* twice per step: the second enter may answer from this thread's
		 * memory of the first */
		ta_span_enter(w->span);
		ta_span_exit(w->span);
		w->r[i] = ta_span_enter(w->span);
		w->seen[i] = ta_group_current();
		ta_span_exit(w->span);
		pthread_barrier_wait(&w->step); /* main changes the binding */
		pthread_barrier_wait(&w->step);
	}
	return NULL;
}

START_TEST(binding_changes_seen_by_other_threads)
{
	ta_group *a = group_new("watch-a"), *b = group_new("watch-b");
	struct watcher w;
	pthread_t th;

	memset(&w, 0, sizeof(w));
	w.span = SPAN(1);
	ck_assert_int_eq(pthread_barrier_init(&w.step, NULL, 2), 0);
	ck_assert_int_eq(ta_span_bind(w.span, a), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, watch_binding, &w), 0);
	pthread_barrier_wait(&w.step);
	ta_span_unbind(w.span);
	pthread_barrier_wait(&w.step);
	pthread_barrier_wait(&w.step);
	ta_span_bind(w.span, b);
	pthread_barrier_wait(&w.step);
	pthread_barrier_wait(&w.step);
	/* a change to another span leaves this one alone */
	ta_span_bind(SPAN(2), a);
	ta_span_unbind(SPAN(2));
	pthread_barrier_wait(&w.step);
	pthread_barrier_wait(&w.step);
	pthread_barrier_wait(&w.step);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&w.step);

	ck_assert_int_eq(w.r[0], 0);
	ck_assert_ptr_eq(w.seen[0], a);
	ck_assert_int_eq(w.r[1], -ENOENT);
	ck_assert_ptr_eq(w.seen[1], root());
	ck_assert_int_eq(w.r[2], 0);
	ck_assert_ptr_eq(w.seen[2], b);
	ck_assert_int_eq(w.r[3], 0);
	ck_assert_ptr_eq(w.seen[3], b);
}
END_TEST

/* ---- the depth limit ---------------------------------------------------- */

START_TEST(nest_max_enospc)
{
	static ta_guard guards[TA_NEST_MAX - 1];
	ta_group *a = group_new("deep-span"), *seen[2];
	int bad = 0, r[3], i;
	ta_guard g;

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	for (i = 0; i < TA_NEST_MAX; i++)
		bad += ta_span_enter(SPAN(1)) != 0;
	r[0] = ta_span_enter(SPAN(1));
	r[1] = ta_span_enter(SPAN(2)); /* unbound: no room for its frame either */
	seen[0] = ta_group_current();
	for (i = 0; i < TA_NEST_MAX; i++)
		bad += ta_span_exit(SPAN(1)) != 0;
	seen[1] = ta_group_current();
	r[2] = ta_span_exit(SPAN(1));
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(r[0], -ENOSPC);
	ck_assert_int_eq(r[1], -ENOSPC);
	ck_assert_ptr_eq(seen[0], a);
	ck_assert_ptr_eq(seen[1], root());
	ck_assert_int_eq(r[2], -EINVAL);

	/* guards and spans share the limit */
	for (i = 0; i < TA_NEST_MAX - 1; i++)
		guards[i] = ta_group_enter(a);
	r[0] = ta_span_enter(SPAN(1));
	r[1] = ta_span_enter(SPAN(1));
	errno = 0;
	g = ta_group_enter(a);
	r[2] = errno;
	bad += ta_span_exit(SPAN(1)) != 0;
	for (i = TA_NEST_MAX - 2; i >= 0; i--)
		bad += ta_guard_exit(&guards[i]) != 0;
	ck_assert_int_eq(r[0], 0);
	ck_assert_int_eq(r[1], -ENOSPC);
	ck_assert_int_eq(r[2], ENOSPC);
	ck_assert_int_eq(ta_guard_exit(&g), -EINVAL);
	ck_assert_int_eq(bad, 0);
	ck_assert_ptr_eq(ta_group_current(), root());
}
END_TEST

/* ---- what bind, unbind, enter and exit allocate -------------------------- */

static unsigned long hook_calls;

static void count_alloc(void *ctx, const void *ptr, size_t size, size_t wrapped, uint32_t gid)
{
	(void)ctx, (void)ptr, (void)size, (void)wrapped, (void)gid;
	__atomic_add_fetch(&hook_calls, 1, __ATOMIC_RELAXED);
}

static void count_free(void *ctx, const void *ptr, size_t size, size_t wrapped, uint32_t src,
                       uint32_t cur)
{
	(void)ctx, (void)ptr, (void)size, (void)wrapped, (void)src, (void)cur;
	__atomic_add_fetch(&hook_calls, 1, __ATOMIC_RELAXED);
}

START_TEST(bind_charges_root_and_raises_no_hook)
{
	/* Thousands of binds grow the table (liburcu allocates buckets
	 * through this library's malloc): none of it is the active group's,
	 * and no tracker callback sees it. */
	const struct ta_tracker tracker = { count_alloc, count_free, NULL };
	ta_group *g = group_new("bind-active"), *target = group_new("bind-target");
	struct ta_stats g0, g1;
	unsigned long calls;
	ta_guard guard;
	int bad = 0, i;

	ck_assert_int_eq(ta_tracker_set(&tracker), 0);
	g0 = stats_of(g);
	guard = ta_group_enter(g);
	hook_calls = 0;
	for (i = 1; i <= 5000; i++)
		bad += ta_span_bind(SPAN(i), target) != 0;
	for (i = 1; i <= 5000; i++)
		bad += ta_span_unbind(SPAN(i)) != 0;
	calls = __atomic_load_n(&hook_calls, __ATOMIC_RELAXED);
	ta_guard_exit(&guard);
	g1 = stats_of(g);
	ck_assert_int_eq(ta_tracker_set(NULL), 0);

	ck_assert_int_eq(bad, 0);
	ck_assert_uint_eq(calls, 0);
	ck_assert_stats_same(g0, g1);
}
END_TEST

START_TEST(enter_exit_allocate_nothing)
{
	const struct ta_tracker tracker = { count_alloc, count_free, NULL };
	ta_group *a = group_new("noalloc");
	struct ta_stats r0, r1, a0, a1;
	unsigned long calls;
	int bad = 0, i;

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	/* the first enter of a thread registers it with liburcu, once */
	ck_assert_int_eq(ta_span_enter(SPAN(1)), 0);
	ck_assert_int_eq(ta_span_exit(SPAN(1)), 0);
	ck_assert_int_eq(ta_tracker_set(&tracker), 0);
	hook_calls = 0;
	r0 = stats_of(root());
	a0 = stats_of(a);
	for (i = 0; i < 100000; i++) {
		bad += ta_span_enter(SPAN(1)) != 0;
		bad += ta_span_enter(SPAN(2)) != -ENOENT;
		bad += ta_span_exit(SPAN(2)) != -ENOENT;
		bad += ta_span_exit(SPAN(1)) != 0;
	}
	r1 = stats_of(root());
	a1 = stats_of(a);
	calls = __atomic_load_n(&hook_calls, __ATOMIC_RELAXED);
	ck_assert_int_eq(ta_tracker_set(NULL), 0);

	ck_assert_int_eq(bad, 0);
	ck_assert_uint_eq(calls, 0);
	ck_assert_stats_same(r0, r1);
	ck_assert_stats_same(a0, a1);
}
END_TEST

/* A tracker whose callback uses every span function. */
static uint64_t cb_span;
static int cb_bad;

static void spans_in_callback(void *ctx, const void *ptr, size_t size, size_t wrapped,
                              uint32_t gid)
{
	ta_group *g = ctx;

	(void)ptr, (void)size, (void)wrapped, (void)gid;
	cb_bad += ta_span_bind(cb_span, g) != 0;
	cb_bad += ta_span_enter(cb_span) != 0;
	/* inside a callback the thread counts in root whatever it enters */
	cb_bad += ta_group_current() != g;
	cb_bad += ta_span_exit(cb_span) != 0;
	cb_bad += ta_span_unbind(cb_span) != 0;
	cb_span++;
}

static void *first_alloc_of_thread(void *arg)
{
	tw.free(tw.malloc(16));
	return arg;
}

START_TEST(spans_from_tracker_callback)
{
	ta_group *g = group_new("cb-span"), *outer = group_new("cb-outer");
	const struct ta_tracker tracker = { spans_in_callback, NULL, g };
	struct ta_stats g0, g1, o0, o1;
	pthread_t th;
	ta_guard guard;
	void *p;

	cb_span = SPAN(100);
	cb_bad = 0;
	g0 = stats_of(g);
	o0 = stats_of(outer);
	ck_assert_int_eq(ta_tracker_set(&tracker), 0);
	guard = ta_group_enter(outer);
	p = tw.malloc(64);
	ta_guard_exit(&guard);
	/* a new thread whose first span call comes from a callback */
	pthread_create(&th, NULL, first_alloc_of_thread, NULL);
	pthread_join(th, NULL);
	ck_assert_int_eq(ta_tracker_set(NULL), 0);
	o1 = stats_of(outer);
	g1 = stats_of(g);
	tw.free(p);

	ck_assert_int_eq(cb_bad, 0);
	ck_assert_uint_ge(cb_span, SPAN(102));
	/* the callbacks' spans charged nothing to g; outer got its block */
	ck_assert_stats_same(g0, g1);
	ck_assert_stats_delta(o0, o1, 64, 1, 0, 0);
}
END_TEST

/* ---- reclaiming unbound entries ----------------------------------------- */

/* Bytes the library holds in root: span entries and the table's buckets. */
static int64_t root_live(void)
{
	struct ta_stats s = stats_of(ta_group_root());

	return (int64_t)(s.allocated_bytes - s.freed_bytes);
}

START_TEST(unbound_entries_reclaimed)
{
	/* Entries and buckets are allocated in root (in a sanitized build the
	 * library's own calls reach the sanitizer's malloc instead, whose leak
	 * checker then stands in for this test). */
	ta_group *a = group_new("reclaim");
	int64_t base, full = 0, after;
	int bad = 0, round, i;

	/* warm up: table, its first resizes, this thread's registration */
	for (i = 1; i <= 4000; i++)
		bad += ta_span_bind(SPAN(i), a) != 0;
	for (i = 1; i <= 4000; i++)
		bad += ta_span_unbind(SPAN(i)) != 0;
	base = root_live();
	for (round = 0; round < 3; round++) {
		for (i = 1; i <= 4000; i++)
			bad += ta_span_bind(SPAN(i), a) != 0;
		if (!full)
			full = root_live();
		for (i = 1; i <= 4000; i++)
			bad += ta_span_unbind(SPAN(i)) != 0;
	}
	after = root_live();
	ck_assert_int_eq(bad, 0);
	if (TA_TEST_SANITIZED)
		return;
	/* 4000 bound entries of at least 24 bytes show ... */
	ck_assert_int_gt(full, base + 4000 * 24);
	/* ... and once unbound, three times over, at most one batch of
	 * retired entries (64) remains */
	ck_assert_int_le(after, base + 64 * 64);
}
END_TEST

/* ---- fork ------------------------------------------------------------- */

static int hammer_stop;

/* Enter spans that are never bound, each a different one, so that every
 * enter looks the table up (no remembered answer): the thread spends much of
 * its time inside liburcu read-side sections. */
static void *hammer(void *arg)
{
	uint64_t base = *(uint64_t *)arg, k = 0;

	while (!__atomic_load_n(&hammer_stop, __ATOMIC_RELAXED)) {
		ta_span_enter(base + k % 4096);
		ta_span_exit(base + k % 4096);
		k++;
	}
	return NULL;
}

/* In a child forked while another thread was entering spans: bind, unbind
 * (enough to wait for grace periods), enter. 0 if all went as it should. A
 * grace period stuck on the parent's reader hangs with every signal blocked:
 * the parent gives up on it. */
static int child_uses_spans(ta_group *a, ta_group *b)
{
	int bad = 0, i;

	for (i = 0; i < 3 * 64; i++) {
		bad += ta_span_bind(SPAN(1000 + i), b) != 0;
		bad += ta_span_unbind(SPAN(1000 + i)) != 0;
	}
	bad += ta_span_enter(SPAN(1)) != 0;
	bad += ta_group_current() != a;
	bad += ta_span_exit(SPAN(1)) != 0;
	return bad ? 1 : 0;
}

/* The child's wait status, or -1 after killing it when it ran too long. */
static int wait_child(pid_t pid, int seconds)
{
	int status, i;

	for (i = 0; i < seconds * 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

START_TEST(fork_while_entering)
{
	ta_group *a = group_new("fork-a"), *b = group_new("fork-b");
	uint64_t unbound = SPAN(1u << 20);
	int status = 0, n;
	pthread_t th;

	ck_assert_int_eq(ta_span_bind(SPAN(1), a), 0);
	hammer_stop = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, hammer, &unbound), 0);
	for (n = 0; n < 10; n++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(child_uses_spans(a, b));
		status = pid > 0 ? wait_child(pid, 5) : -1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			break;
		usleep(1000);
	}
	__atomic_store_n(&hammer_stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ck_assert_msg(n == 10, "child %d: wait status %#x", n, (unsigned)status);
}
END_TEST

/* ---- stress ------------------------------------------------------------- */

#define ST_GROUPS 4
#define ST_IDS 24
#define ST_WORKERS 4
/* ids the resizer binds and unbinds in bulk: the span directory grows and
 * shrinks, and its sets change hands, while the workers enter */
#define ST_BULK_FIRST 1000u
#define ST_BULK 3000u
#define ST_RING 32

struct stress {
	ta_group *group[ST_GROUPS];
	int stop;
};

struct stress_worker {
	struct stress *st;
	unsigned seed;
	int binder, resizer;
	/* what this thread charged to each group, and freed from it */
	uint64_t alloc_bytes[ST_GROUPS], alloc_objs[ST_GROUPS];
	uint64_t freed_bytes[ST_GROUPS], freed_objs[ST_GROUPS];
	unsigned long rounds, errors;
	char first_error[128];
	/* blocks held across rounds, freed later inside other spans */
	void *ring[ST_RING];
	size_t ring_size[ST_RING];
	int ring_group[ST_RING];
	unsigned ring_next;
};

static unsigned st_rand(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* Span k is only ever bound to group k % ST_GROUPS. */
static uint64_t st_span(unsigned k)
{
	return SPAN(5000 + k);
}

static void st_error(struct stress_worker *w, const char *what, long got)
{
	if (!w->errors++)
		snprintf(w->first_error, sizeof(w->first_error), "%s: %ld", what, got);
}

/* Enter span k from a thread in group @outer (-1: root). Return the group
 * index the thread must now be in; *@bound tells whether k was bound. */
static int st_enter(struct stress_worker *w, unsigned k, int outer, int *bound)
{
	struct stress *st = w->st;
	int r = ta_span_enter(st_span(k));
	int expect = r == 0 ? (int)(k % ST_GROUPS) : outer;
	ta_group *want = expect < 0 ? ta_group_root() : st->group[expect];

	if (r != 0 && r != -ENOENT)
		st_error(w, "enter", r);
	if (ta_group_current() != want)
		st_error(w, "current after enter", (long)k);
	*bound = r == 0;
	return expect;
}

/* Exit span k, entered bound or not; the thread must return to @outer. */
static void st_exit(struct stress_worker *w, unsigned k, int bound, int outer)
{
	struct stress *st = w->st;
	int r = ta_span_exit(st_span(k));
	ta_group *want = outer < 0 ? ta_group_root() : st->group[outer];

	if (r != (bound ? 0 : -ENOENT))
		st_error(w, "exit", r);
	if (ta_group_current() != want)
		st_error(w, "current after exit", (long)k);
}

static void st_alloc(struct stress_worker *w, int gi)
{
	unsigned slot = w->ring_next++ % ST_RING;
	size_t n = 1 + st_rand(&w->seed) % 300;
	void *p;

	if (w->ring[slot]) {
		int src = w->ring_group[slot];

		tw.free(w->ring[slot]);
		if (src >= 0) {
			w->freed_bytes[src] += w->ring_size[slot];
			w->freed_objs[src]++;
		}
	}
	p = tw.malloc(n);
	if (!p) {
		st_error(w, "malloc", (long)n);
		w->ring[slot] = NULL;
		return;
	}
	w->ring[slot] = p;
	w->ring_size[slot] = n;
	w->ring_group[slot] = gi;
	if (gi >= 0) {
		w->alloc_bytes[gi] += n;
		w->alloc_objs[gi]++;
	}
}

static void *stress_run(void *arg)
{
	struct stress_worker *w = arg;
	struct stress *st = w->st;

	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		unsigned k1 = st_rand(&w->seed) % ST_IDS, k2 = st_rand(&w->seed) % ST_IDS;
		unsigned op = st_rand(&w->seed) % 16;
		int g1, g2, b1, b2;

		if (w->resizer) {
			unsigned k;

			for (k = ST_BULK_FIRST; k < ST_BULK_FIRST + ST_BULK; k++) {
				int r = ta_span_bind(st_span(k), st->group[k % ST_GROUPS]);

				if (r != 0)
					st_error(w, "bulk bind", r);
			}
			for (k = ST_BULK_FIRST; k < ST_BULK_FIRST + ST_BULK; k++) {
				int r = ta_span_unbind(st_span(k));

				if (r != 0)
					st_error(w, "bulk unbind", r);
			}
			w->rounds++;
			continue;
		}
		if (op >= 12 && !w->binder) /* the inner span is one of the bulk ids */
			k2 = ST_BULK_FIRST + st_rand(&w->seed) % ST_BULK;
		if (w->binder || op == 0) {
			/* bind and unbind, racing with every enter */
			int r = ta_span_bind(st_span(k1), st->group[k1 % ST_GROUPS]);

			if (r != 0)
				st_error(w, "bind", r);
			r = ta_span_unbind(st_span(k2));
			if (r != 0 && r != -ENOENT)
				st_error(w, "unbind", r);
			if (w->binder) {
				w->rounds++;
				continue;
			}
		}
		g1 = st_enter(w, k1, -1, &b1);
		st_alloc(w, g1);
		if (op & 1) {
			/* nested: another span, sometimes a guard inside it */
			g2 = st_enter(w, k2, g1, &b2);
			st_alloc(w, g2);
			if (op & 2) {
				int gi = (int)(op >> 2) % ST_GROUPS;
				ta_guard guard = ta_group_enter(st->group[gi]);

				st_alloc(w, gi);
				if (ta_guard_exit(&guard) != 0)
					st_error(w, "guard exit", (long)gi);
			}
			st_exit(w, k2, b2, g1);
		}
		st_exit(w, k1, b1, -1);
		w->rounds++;
	}
	return NULL;
}

START_TEST(stress_bounded)
{
	struct stress st;
	struct stress_worker w[ST_WORKERS + 2];
	struct ta_stats before[ST_GROUPS], after[ST_GROUPS];
	pthread_t th[ST_WORKERS + 2];
	unsigned long errors = 0, rounds = 0;
	int i, j, gi;

	memset(&st, 0, sizeof(st));
	memset(w, 0, sizeof(w));
	for (gi = 0; gi < ST_GROUPS; gi++) {
		st.group[gi] = group_new("stress");
		before[gi] = stats_of(st.group[gi]);
	}
	for (i = 0; i < ST_IDS; i += 2)
		ck_assert_int_eq(ta_span_bind(st_span((unsigned)i), st.group[i % ST_GROUPS]), 0);
	for (i = 0; i <= ST_WORKERS + 1; i++) {
		w[i].st = &st;
		w[i].seed = 7919u * (unsigned)(i + 1);
		w[i].binder = i == ST_WORKERS;
		w[i].resizer = i == ST_WORKERS + 1;
		ck_assert_int_eq(pthread_create(&th[i], NULL, stress_run, &w[i]), 0);
	}
	usleep(1000 * 1000);
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i <= ST_WORKERS + 1; i++)
		pthread_join(th[i], NULL);

	/* free what the threads still hold, from this thread and outside
	 * any span: still credited to the groups that allocated them */
	for (i = 0; i <= ST_WORKERS + 1; i++) {
		for (j = 0; j < ST_RING; j++) {
			if (!w[i].ring[j])
				continue;
			tw.free(w[i].ring[j]);
			if (w[i].ring_group[j] >= 0) {
				w[i].freed_bytes[w[i].ring_group[j]] += w[i].ring_size[j];
				w[i].freed_objs[w[i].ring_group[j]]++;
			}
		}
	}
	for (gi = 0; gi < ST_GROUPS; gi++)
		after[gi] = stats_of(st.group[gi]);

	for (i = 0; i <= ST_WORKERS + 1; i++) {
		ck_assert_msg(w[i].errors == 0, "thread %d: %lu errors, first: %s", i,
		              w[i].errors, w[i].first_error);
		errors += w[i].errors;
		rounds += w[i].rounds;
	}
	ck_assert_uint_eq(errors, 0);
	ck_assert_uint_gt(rounds, 100);
	for (gi = 0; gi < ST_GROUPS; gi++) {
		uint64_t ab = 0, ao = 0, fb = 0, fo = 0;

		for (i = 0; i <= ST_WORKERS + 1; i++) {
			ab += w[i].alloc_bytes[gi];
			ao += w[i].alloc_objs[gi];
			fb += w[i].freed_bytes[gi];
			fo += w[i].freed_objs[gi];
		}
		ck_assert_uint_eq(ab, fb);
		ck_assert_uint_gt(ao, 0);
		ck_assert_stats_delta(before[gi], after[gi], ab, ao, fb, fo);
		ck_assert_uint_eq(after[gi].wrapped_bytes_live, before[gi].wrapped_bytes_live);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("spans");
	TCase *tc = tcase_new("spans");

	tcase_add_checked_fixture(tc, span_range_next, stack_balanced);

	tcase_add_test(tc, first_bind_loads_the_table);
	tcase_add_test(tc, bind_einval);
	tcase_add_test(tc, bind_eexist_and_idempotent);
	tcase_add_test(tc, unbind_enoent);
	tcase_add_test(tc, enter_charges_bound_group);
	tcase_add_test(tc, unbound_enter_exit_balanced);
	tcase_add_test(tc, spans_nest);
	tcase_add_test(tc, spans_nest_with_guards);
	tcase_add_test(tc, exit_not_innermost_unwinds);
	tcase_add_test(tc, exit_under_guard_changes_nothing);
	tcase_add_test(tc, exit_not_entered_changes_nothing);
	tcase_add_test(tc, reenter_same_span);
	tcase_add_test(tc, many_spans_each_own_binding);
	tcase_add_test(tc, rebind_while_inside);
	tcase_add_test(tc, one_span_many_threads);
	tcase_add_test(tc, exit_on_other_thread);
	tcase_add_test(tc, binding_changes_seen_by_other_threads);
	tcase_add_test(tc, nest_max_enospc);
	tcase_add_test(tc, bind_charges_root_and_raises_no_hook);
	tcase_add_test(tc, enter_exit_allocate_nothing);
	tcase_add_test(tc, spans_from_tracker_callback);
	tcase_add_test(tc, unbound_entries_reclaimed);
	tcase_add_test(tc, fork_while_entering);
	tcase_add_test(tc, stress_bounded);
	suite_add_tcase(s, tc);
	return s;
}
