/* SPDX-License-Identifier: MIT */
/*
 * Rules through the API (trackalloc.h, "Rules"): ta_rules_check's messages
 * and positions, ta_rules_set's refusals (the rules in force stay) and
 * clearing, lib rules on this program's own calls (exe), thread rules on
 * renames by the thread itself and by another, precedence (lib before
 * thread, first match, explicit groups and spans over all), the groups'
 * tags; and the sized-free checks of struct ta_diag_ext.
 *
 * Check runs each test in a process of its own, so rules and thread names
 * set by one test do not reach the next; each still clears its rules. No
 * assertion runs between two reads of counters a test compares (Check's
 * assertions allocate, from exe, in the thread's group).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "ta-check.h"

struct find {
	const char *name;
	ta_group *g;
};

static int find_one(ta_group *g, void *arg)
{
	struct find *f = arg;

	if (strcmp(ta_group_name(g), f->name) != 0)
		return 0;
	f->g = g;
	return 1;
}

/* The group called @name, or NULL: never creates one. */
static ta_group *find_group(const char *name)
{
	struct find f = { name, NULL };

	ta_group_foreach(find_one, &f);
	return f.g;
}

/* @g has exactly the one tag rule=@rule. */
static void assert_rule_tag(const ta_group *g, const char *rule)
{
	const struct ta_tag *tags;

	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(ta_group_tags(g, &tags), 1);
	ck_assert_str_eq(tags[0].key, "rule");
	ck_assert_str_eq(tags[0].value, rule);
}

/* The thread's first allocation through the wrapper sets it up, and its
 * base group with it. Before that (under a sanitizer, whose malloc comes
 * first, a test thread may not have made one) ta_group_current() is root
 * whatever the rules say: the tests of thread rules begin with this. */
static void thread_ready(void)
{
	tw.free(tw.malloc(1));
}

static void set_name(const char *name)
{
	ck_assert_int_eq(pthread_setname_np(pthread_self(), name), 0);
}

/* ---- ta_rules_check ---------------------------------------------------- */

static const struct bad_case {
	const char *rules, *err;
} bad_cases[] = {
	{ "thread:=x", "byte 7, rule 1: empty glob" },
	{ "lib:foo", "byte 7, rule 1: missing '=' (KIND:GLOB=GROUP)" },
	{ "proc:x=y", "byte 0, rule 1: unknown kind 'proc' (thread or lib)" },
	{ "threadio=io", "byte 0, rule 1: missing ':' (KIND:GLOB=GROUP)" },
	{ "thread", "byte 6, rule 1: missing ':' after 'thread'" },
	{ "lib:*=%q", "byte 6, rule 1: unknown escape '%q' (%n: the name, %%: '%')" },
	{ "lib:*=a%", "byte 7, rule 1: '%' at the end of the group name (%n: the name, %%: '%')" },
	{ "lib:*=", "byte 6, rule 1: empty group name" },
	{ "thread:a=b;", "byte 11, rule 2: empty rule" },
	{ ";thread:a=b", "byte 0, rule 1: empty rule" },
	{ "thread:a=b;proc:x=y", "byte 11, rule 2: unknown kind 'proc' (thread or lib)" },
	{ "thread:a=b;lib:*=%q;proc:x=y",
	  "byte 17, rule 2: unknown escape '%q' (%n: the name, %%: '%')" },
};

/* "thread:a=b;" @n times, the last without its ';'. */
static void many_rules(char *buf, size_t size, int n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, size - o, "%sthread:a=b", i ? ";" : "");
}

START_TEST(check_errors)
{
	char err[256], rules[1024];
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		memset(err, 'Z', sizeof(err));
		ck_assert_int_eq(ta_rules_check(bad_cases[i].rules, err, sizeof(err)), -EINVAL);
		ck_assert_str_eq(err, bad_cases[i].err);
	}
	many_rules(rules, sizeof(rules), TA_RULES_MAX + 1);
	ck_assert_int_eq(ta_rules_check(rules, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "byte 352, rule 33: more than 32 rules");

	/* a group name over TA_GROUP_NAME_MAX: the rule (the tag's value) is
	 * over TA_TAG_VALUE_MAX as well; either is the reason */
	memset(rules, 'g', sizeof(rules));
	memcpy(rules, "thread:a=b;lib:*=", 17);
	rules[17 + TA_GROUP_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(ta_rules_check(rules, err, sizeof(err)), -EINVAL);
	if (strcmp(err, "byte 11, rule 2: rule longer than 255 bytes") != 0)
		ck_assert_str_eq(err, "byte 17, rule 2: group name longer than 255 bytes");
}
END_TEST

START_TEST(check_valid)
{
	static const char *const good[] = {
		"thread:*=%n",
		"lib:*=%n",
		"thread:worker-*=workers;thread:io=io",
		"lib:libsqlite3*=sqlite;lib:exe=python",
		"lib:lib[a-c]?.so*=abc-%n;thread:w?=w",
		"thread:*=100%%-%n",
		"",
	};
	char err[128], rules[1024];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(err, 'Z', sizeof(err));
		ck_assert_int_eq(ta_rules_check(good[i], err, sizeof(err)), 0);
		ck_assert_str_eq(err, "");
	}
	many_rules(rules, sizeof(rules), TA_RULES_MAX);
	ck_assert_int_eq(ta_rules_check(rules, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	memset(err, 'Z', sizeof(err));
	ck_assert_int_eq(ta_rules_check(NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	/* checking changes nothing */
	ck_assert_ptr_null(find_group("workers"));
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
}
END_TEST

START_TEST(check_err_buffer)
{
	char err[8];

	ck_assert_int_eq(ta_rules_check("proc:x=y", NULL, 0), -EINVAL);
	ck_assert_int_eq(ta_rules_check("proc:x=y", NULL, 100), -EINVAL);
	memset(err, 'Z', sizeof(err));
	ck_assert_int_eq(ta_rules_check("proc:x=y", err, 0), -EINVAL);
	ck_assert_int_eq(err[0], 'Z'); /* size 0: not written */
	ck_assert_int_eq(ta_rules_check("proc:x=y", err, 5), -EINVAL);
	ck_assert_str_eq(err, "byte"); /* cut, NUL-terminated */
	ck_assert_int_eq(err[5], 'Z');
}
END_TEST

/* ---- ta_rules_set -------------------------------------------------------- */

START_TEST(set_bad_keeps_old)
{
	ta_group *old;
	struct ta_stats s0, s1;
	size_t i;
	void *p;

	thread_ready();
	ck_assert_int_eq(ta_rules_set("thread:*=ur-old"), 0);
	old = find_group("ur-old");
	ck_assert_ptr_eq(ta_group_current(), old);
	assert_rule_tag(old, "thread:*=ur-old");
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		ck_assert_int_eq(ta_rules_set(bad_cases[i].rules), -EINVAL);
	ck_assert_int_eq(ta_rules_set("thread:*=ur-new;proc:x=y"), -EINVAL);
	s0 = stats_of(old);
	p = tw.malloc(500);
	tw.free(p);
	s1 = stats_of(old);
	ck_assert_ptr_nonnull(p);
	ck_assert_stats_delta(s0, s1, 500, 1, 500, 1);
	ck_assert_ptr_eq(ta_group_current(), old);
	ck_assert_ptr_null(find_group("ur-new"));
	ck_assert_int_eq(ta_rules_set(NULL), 0);
}
END_TEST

START_TEST(set_clears)
{
	ta_group *g, *root = ta_group_root();
	struct ta_stats r0, r1, g0, g1;
	void *p;
	int pass;

	thread_ready();
	for (pass = 0; pass < 2; pass++) {
		ck_assert_int_eq(ta_rules_set("thread:*=ur-clear"), 0);
		g = find_group("ur-clear");
		ck_assert_ptr_eq(ta_group_current(), g);
		ck_assert_int_eq(ta_rules_set(pass ? "" : NULL), 0);
		ck_assert_ptr_eq(ta_group_current(), root);
		r0 = stats_of(root);
		g0 = stats_of(g);
		p = tw.malloc(4321);
		tw.free(p);
		r1 = stats_of(root);
		g1 = stats_of(g);
		ck_assert_ptr_nonnull(p);
		ck_assert_stats_delta(r0, r1, 4321, 1, 4321, 1);
		ck_assert_stats_same(g0, g1);
	}
}
END_TEST

START_TEST(lib_rule_exe)
{
	const char *rules = "lib:*=%n";
	struct ta_stats e0, e1, r0, r1;
	ta_group *exe, *root = ta_group_root();
	void *p, *q;

	ck_assert_int_eq(ta_rules_set(rules), 0);
	tw.free(tw.malloc(1)); /* the first call from exe makes its group */
	exe = find_group("exe");
	assert_rule_tag(exe, rules);
	/* a lib rule changes the group of a call, not the thread's */
	ck_assert_ptr_eq(ta_group_current(), root);
	e0 = stats_of(exe);
	r0 = stats_of(root);
	p = tw.malloc(1234);
	q = tw.calloc(3, 100);
	p = tw.realloc(p, 2000);
	tw.free(q);
	tw.free(p);
	e1 = stats_of(exe);
	r1 = stats_of(root);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_stats_delta(e0, e1, 3534, 3, 3534, 3);
	ck_assert_stats_same(r0, r1);
#if !TA_TEST_SANITIZED && TA_TEST_STACKS /* tests/unit/meson.build: -Dstacks */
	{
		/* through libc: the rule looks up the stack, finds exe */
		char *s;

		e0 = stats_of(exe);
		s = strdup("twelve bytes");
		tw.free(s);
		e1 = stats_of(exe);
		ck_assert_ptr_nonnull(s);
		ck_assert_stats_delta(e0, e1, 13, 1, 13, 1);
	}
#endif
	ck_assert_int_eq(ta_rules_set(NULL), 0);
}
END_TEST

/* Which group a malloc from here lands in under @rules. */
static ta_group *landing(const char *rules, const char *expect)
{
	struct ta_stats s0, s1;
	ta_group *g;
	void *p;

	ck_assert_int_eq(ta_rules_set(rules), 0);
	tw.free(tw.malloc(1)); /* makes the group */
	g = find_group(expect);
	ck_assert_ptr_nonnull(g);
	s0 = stats_of(g);
	p = tw.malloc(99);
	tw.free(p);
	s1 = stats_of(g);
	ck_assert_ptr_nonnull(p);
	ck_assert_stats_delta(s0, s1, 99, 1, 99, 1);
	return g;
}

START_TEST(precedence)
{
	ta_group *thr;

	/* lib rules before thread rules, in either order of writing */
	landing("thread:*=ur-thr;lib:exe=ur-lib", "ur-lib");
	thr = find_group("ur-thr");
	ck_assert_ptr_eq(ta_group_current(), thr); /* the thread's base group */
	landing("lib:exe=ur-lib2;thread:*=ur-thr", "ur-lib2");
	/* no lib rule matches: the thread rule */
	landing("lib:nomatch*=ur-x;thread:*=ur-thr2", "ur-thr2");
	ck_assert_ptr_null(find_group("ur-x"));
	/* first match wins */
	landing("lib:ex?=ur-first;lib:*=ur-second", "ur-first");
	ck_assert_ptr_null(find_group("ur-second"));
	landing("thread:*=ur-t1;thread:*=ur-t2", "ur-t1");
	ck_assert_ptr_null(find_group("ur-t2"));
	ck_assert_int_eq(ta_rules_set(NULL), 0);
}
END_TEST

START_TEST(explicit_wins)
{
	ta_group *g = group_new("ur-explicit"), *s = group_new("ur-span"), *exe, *thr;
	struct ta_stats g0, g1, s0, s1, e0, e1, t0, t1;
	ta_guard guard;
	void *p, *q;

	ck_assert_int_eq(ta_span_bind(0x5eed, s), 0);
	ck_assert_int_eq(ta_rules_set("lib:*=%n;thread:*=ur-thread-%n"), 0);
	tw.free(tw.malloc(1));
	exe = find_group("exe");
	thr = ta_group_current();
	ck_assert_ptr_nonnull(exe);
	ck_assert_int_eq(strncmp(ta_group_name(thr), "ur-thread-", 10), 0);
	g0 = stats_of(g);
	s0 = stats_of(s);
	e0 = stats_of(exe);
	t0 = stats_of(thr);
	guard = ta_group_enter(g);
	p = tw.malloc(77);
	ta_guard_exit(&guard);
	ta_span_enter(0x5eed);
	q = tw.malloc(88);
	ta_span_exit(0x5eed);
	tw.free(p);
	tw.free(q);
	g1 = stats_of(g);
	s1 = stats_of(s);
	e1 = stats_of(exe);
	t1 = stats_of(thr);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_stats_delta(g0, g1, 77, 1, 77, 1);
	ck_assert_stats_delta(s0, s1, 88, 1, 88, 1);
	ck_assert_stats_same(e0, e1);
	ck_assert_stats_same(t0, t1);
	ck_assert_ptr_eq(ta_group_current(), thr);
	ck_assert_int_eq(ta_rules_set(NULL), 0);
}
END_TEST

START_TEST(tags_and_names)
{
	struct ta_tag kv = { "k", "v" };
	const struct ta_tag *tags;
	ta_group *pre = ta_group_register("ur-pre", &kv, 1), *g;

	thread_ready();
	/* a name that exists with other tags is used as it is */
	ck_assert_ptr_nonnull(pre);
	ck_assert_int_eq(ta_rules_set("thread:*=ur-pre"), 0);
	ck_assert_ptr_eq(ta_group_current(), pre);
	ck_assert_uint_eq(ta_group_tags(pre, &tags), 1);
	ck_assert_str_eq(tags[0].key, "k");
	/* %% is '%', %n the thread's name */
	set_name("ur-pct");
	ck_assert_int_eq(ta_rules_set("thread:*=100%%-%n"), 0);
	g = find_group("100%-ur-pct");
	ck_assert_ptr_eq(ta_group_current(), g);
	assert_rule_tag(g, "thread:*=100%%-%n");
	ck_assert_int_eq(ta_rules_set(NULL), 0);
}
END_TEST

/* ---- thread rules ----------------------------------------------------- */

/* @n bytes malloc'd and freed here land in @g, exactly. */
static void lands_in(ta_group *g, size_t n)
{
	struct ta_stats s0, s1;
	void *p;

	ck_assert_ptr_nonnull(g);
	s0 = stats_of(g);
	p = tw.malloc(n);
	tw.free(p);
	s1 = stats_of(g);
	ck_assert_ptr_nonnull(p);
	ck_assert_stats_delta(s0, s1, n, 1, n, 1);
}

START_TEST(thread_rename_self)
{
	const char *rules = "thread:ur-*=g-%n";

	thread_ready();
	/* a name given before the rules: the rule set applies at once */
	set_name("ur-early");
	ck_assert_int_eq(ta_rules_set(rules), 0);
	ck_assert_ptr_eq(ta_group_current(), find_group("g-ur-early"));
	assert_rule_tag(find_group("g-ur-early"), rules);
	/* renames move the base group at once, by either call */
	set_name("ur-one");
	ck_assert_ptr_eq(ta_group_current(), find_group("g-ur-one"));
	lands_in(find_group("g-ur-one"), 321);
	ck_assert_int_eq(prctl(PR_SET_NAME, (unsigned long)"ur-two", 0UL, 0UL, 0UL), 0);
	ck_assert_ptr_eq(ta_group_current(), find_group("g-ur-two"));
	lands_in(find_group("g-ur-two"), 654);
	/* a name no rule matches: root again */
	set_name("other");
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
	lands_in(ta_group_root(), 987);
	/* inside a guard the rename waits for the guard's exit */
	{
		ta_group *g = group_new("ur-guard");
		ta_guard guard = ta_group_enter(g);

		set_name("ur-three");
		ck_assert_ptr_eq(ta_group_current(), g);
		ta_guard_exit(&guard);
		ck_assert_ptr_eq(ta_group_current(), find_group("g-ur-three"));
	}
	ck_assert_int_eq(ta_rules_set(NULL), 0);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
}
END_TEST

struct peer {
	sem_t ready, go, done;
	size_t n;           /* what to allocate after each go */
	ta_group *seen[2];  /* ta_group_current() after each allocation */
	struct ta_stats before[2], after[2];
	ta_group *watch[2]; /* whose counters to read around it */
};

static void *peer_main(void *arg)
{
	struct peer *pr = arg;
	void *p;

	(void)pthread_setname_np(pthread_self(), "ur-peer");
	tw.free(tw.malloc(1)); /* set up before the changes below */
	sem_post(&pr->ready);
	for (int i = 0; i < 2; i++) {
		while (sem_wait(&pr->go) != 0)
			;
		pr->before[i] = stats_of(pr->watch[i]);
		p = tw.malloc(pr->n + (size_t)i);
		tw.free(p);
		pr->after[i] = stats_of(pr->watch[i]);
		pr->seen[i] = ta_group_current();
		sem_post(&pr->done);
	}
	return NULL;
}

START_TEST(thread_changed_by_other)
{
	struct peer pr;
	pthread_t th;

	memset(&pr, 0, sizeof(pr));
	pr.n = 111;
	sem_init(&pr.ready, 0, 0);
	sem_init(&pr.go, 0, 0);
	sem_init(&pr.done, 0, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, peer_main, &pr), 0);
	while (sem_wait(&pr.ready) != 0)
		;
	/* 1. a rule set made while the peer waits: its next allocation */
	pr.watch[0] = ta_group_register("ur-peer-g", (const struct ta_tag[]){
		{ "rule", "thread:ur-peer=ur-peer-g" } }, 1);
	pr.watch[1] = ta_group_register("ur-renamed-g", (const struct ta_tag[]){
		{ "rule", "thread:ur-renamed=ur-renamed-g" } }, 1);
	ck_assert_int_eq(ta_rules_set("thread:ur-peer=ur-peer-g;thread:ur-renamed=ur-renamed-g"), 0);
	/* not the caller's: its name matches neither rule */
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
	sem_post(&pr.go);
	while (sem_wait(&pr.done) != 0)
		;
	/* 2. renamed by this thread while it waits: its next allocation */
	ck_assert_int_eq(pthread_setname_np(th, "ur-renamed"), 0);
	sem_post(&pr.go);
	ck_assert_int_eq(pthread_join(th, NULL), 0);

	ck_assert_ptr_eq(pr.seen[0], pr.watch[0]);
	ck_assert_stats_delta(pr.before[0], pr.after[0], 111, 1, 111, 1);
	ck_assert_ptr_eq(pr.seen[1], pr.watch[1]);
	ck_assert_stats_delta(pr.before[1], pr.after[1], 112, 1, 112, 1);
	ck_assert_int_eq(ta_rules_set(NULL), 0);
}
END_TEST

/* ---- struct ta_diag_ext and sized frees ---------------------------------- */

START_TEST(diag_ext_sizes)
{
	unsigned char buf[64];
	struct ta_diag_ext d;
	size_t i;

	ck_assert_int_eq(ta_diag_ext_read(NULL, sizeof(d)), -EINVAL);
	ck_assert_int_eq(ta_diag_ext_read(&d, 0), -EINVAL);
	ck_assert_int_eq(ta_diag_ext_read(&d, 4), -EINVAL);
	ck_assert_int_eq(ta_diag_ext_read(&d, 12), -EINVAL);
	ck_assert_int_eq(ta_diag_ext_read(&d, sizeof(d) - 1), -EINVAL);
	ck_assert_int_eq(ta_diag_ext_read(&d, sizeof(d)), 0);
	/* 8: the first field only, nothing written beyond */
	memset(buf, 0xab, sizeof(buf));
	ck_assert_int_eq(ta_diag_ext_read((struct ta_diag_ext *)buf, 8), 0);
	for (i = 8; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0xab);
	/* a newer caller's bigger struct: zeros past what the library knows */
	memset(buf, 0xab, sizeof(buf));
	ck_assert_int_eq(ta_diag_ext_read((struct ta_diag_ext *)buf, sizeof(buf)), 0);
	for (i = sizeof(d); i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_int_eq(memcmp(buf, &d, sizeof(d)), 0); /* nothing mismatched meanwhile */
}
END_TEST

static uint64_t mismatches(void)
{
	struct ta_diag_ext d;

	if (ta_diag_ext_read(&d, sizeof(d)) != 0)
		return UINT64_MAX;
	return d.size_mismatches;
}

START_TEST(sized_frees)
{
	ta_group *g = group_new("ur-sized");
	uint64_t m0, m1, m2, m3;
	struct ta_stats s0, s1;
	ta_guard guard;
	void *p[6];

	m0 = mismatches();
	guard = ta_group_enter(g);
	s0 = stats_of(g);
	/* the right sizes: requested sizes, after realloc and calloc too */
	p[0] = tw.malloc(100);
	tw.free_sized(p[0], 100);
	p[1] = tw.realloc(tw.malloc(10), 1000);
	tw.free_sized(p[1], 1000);
	p[2] = tw.calloc(10, 10);
	tw.free_sized(p[2], 100);
	p[3] = tw.aligned_alloc(64, 128);
	tw.free_aligned_sized(p[3], 64, 128);
	tw.free_sized(NULL, 5);
	m1 = mismatches();
	/* a wrong size each: counted, the block freed by its real size */
	p[4] = tw.malloc(100);
	tw.free_sized(p[4], 101);
	m2 = mismatches();
	p[5] = tw.aligned_alloc(64, 256);
	tw.free_aligned_sized(p[5], 64, 64);
	m3 = mismatches();
	s1 = stats_of(g);
	ta_guard_exit(&guard);

	for (int i = 0; i < 6; i++)
		ck_assert_ptr_nonnull(p[i]);
	ck_assert_uint_eq(m1, m0);
	ck_assert_uint_eq(m2, m0 + 1);
	ck_assert_uint_eq(m3, m0 + 2);
	/* 100 + 10 + 1000 + 100 + 128 + 100 + 256 */
	ck_assert_stats_delta(s0, s1, 1694, 7, 1694, 7);
	ck_assert_uint_eq(s1.wrapped_bytes_live, s0.wrapped_bytes_live);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_new("rules");

	tcase_add_test(tc, check_errors);
	tcase_add_test(tc, check_valid);
	tcase_add_test(tc, check_err_buffer);
	tcase_add_test(tc, set_bad_keeps_old);
	tcase_add_test(tc, set_clears);
	tcase_add_test(tc, lib_rule_exe);
	tcase_add_test(tc, precedence);
	tcase_add_test(tc, explicit_wins);
	tcase_add_test(tc, tags_and_names);
	tcase_add_test(tc, thread_rename_self);
	tcase_add_test(tc, thread_changed_by_other);
	tcase_add_test(tc, diag_ext_sizes);
	tcase_add_test(tc, sized_frees);
	suite_add_tcase(s, tc);
	return s;
}
