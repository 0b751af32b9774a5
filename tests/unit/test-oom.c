/* SPDX-License-Identifier: MIT */
/*
 * Out of memory: with the failing inner allocator (failing-inner.h) linked
 * after the library, every allocation point of group registration, thread
 * set-up, span binding, tracker installation, rule sets and the exit report
 * is made to fail in turn (the n-th inner allocation, for n = 1, 2, ...
 * until the call makes no n-th one). Each failure must return the
 * documented error, leave the library as it was (the inner allocator holds
 * as many blocks as before: nothing leaked) and crash nothing; the call then
 * succeeds when memory is back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "failing-inner.h"
#include "ta-check.h"

/* Bound for the exhaustive loops: no call of the library makes this many
 * inner allocations. */
#define FI_MAX_POINTS 64

START_TEST(failing_inner_is_the_inner)
{
	void *p;

	/* the wrapper resolved this library as its inner allocator */
	p = tw.malloc(32);
	ck_assert_ptr_nonnull(p);
	tw.free(p);
	ck_assert(fi_active());
	fi_fail_nth(1);
	p = tw.malloc(32);
	ck_assert(fi_fail_stop());
	ck_assert_ptr_null(p);
	ck_assert_int_eq(errno, ENOMEM);
}
END_TEST

/* ---- group registration --------------------------------------------------- */

START_TEST(register_fails_cleanly)
{
	const struct ta_tag tags[] = { { "component", "storage" }, { "tier", "l1" } };
	unsigned points = 0;
	int i;

	/* 100 registrations: the name table grows on the way, at one of them */
	for (i = 0; i < 100; i++) {
		char name[32];
		ta_group *g = NULL;
		unsigned long n;
		uint32_t want_id;

		snprintf(name, sizeof(name), "oom-reg-%d", i);
		want_id = ta_group_id(group_new("oom-reg-probe")) + 1;
		for (n = 1; n <= FI_MAX_POINTS; n++) {
			long live = fi_live();
			int err;

			fi_fail_nth(n);
			g = ta_group_register(name, tags, 2);
			err = errno;
			if (!fi_fail_stop())
				break;
			points++;
			if (g)
				break; /* it did without the failed block */
			ck_assert_int_eq(err, ENOMEM);
			ck_assert_int_eq(fi_live(), live);
			ck_assert_ptr_null(ta_group_find(want_id));
		}
		ck_assert_uint_lt(n, FI_MAX_POINTS + 1);
		ck_assert_ptr_nonnull(g);
		/* no id was lost to the failures, and the copy is whole */
		ck_assert_uint_eq(ta_group_id(g), want_id);
		ck_assert_str_eq(ta_group_name(g), name);
		ck_assert_ptr_eq(ta_group_register(name, tags, 2), g);
	}
	/* every registration had allocation points to fail */
	ck_assert_uint_ge(points, 100 * 3);
}
END_TEST

/* ---- thread set-up ---------------------------------------------------------- */

struct setup_run {
	ta_group *g;
	unsigned long n;
	bool failed;     /* the n-th inner allocation failed */
	bool entered;    /* ta_group_enter worked */
	int err;
	bool in_root;    /* after a failed enter, root was still active */
	void *blocks[3];
};

/* A new thread's first call into the library is an enter: its set-up
 * (thread state, counter page, nesting stack) meets the failure. */
static void *setup_thread(void *arg)
{
	struct setup_run *r = arg;
	ta_guard gd;
	int i;

	fi_fail_nth(r->n);
	errno = 0;
	gd = ta_group_enter(r->g);
	r->err = errno;
	r->failed = fi_fail_stop();
	r->entered = gd._ta_seq != 0;
	r->in_root = ta_group_current() == ta_group_root();
	for (i = 0; i < 3; i++)
		r->blocks[i] = tw.malloc(100);
	for (i = 0; i < 3; i++)
		tw.free(r->blocks[i]);
	if (r->entered)
		ta_guard_exit(&gd);
	return NULL;
}

START_TEST(thread_setup_fails_cleanly)
{
	ta_group *g = group_new("oom-setup");
	unsigned points = 0;
	unsigned long n;

	for (n = 1; n <= FI_MAX_POINTS; n++) {
		struct setup_run r = { .g = g, .n = n };
		struct ta_stats s0 = stats_of(g), s1;
		pthread_t tid;

		ck_assert_int_eq(pthread_create(&tid, NULL, setup_thread, &r), 0);
		ck_assert_int_eq(pthread_join(tid, NULL), 0);
		s1 = stats_of(g);
		for (int i = 0; i < 3; i++)
			ck_assert_ptr_nonnull(r.blocks[i]);
		if (!r.failed) {
			ck_assert(r.entered);
			ck_assert_stats_delta(s0, s1, 300, 3, 300, 3);
			break;
		}
		points++;
		if (r.entered) {
			/* set-up did without the block: counts exact in the group */
			ck_assert_stats_delta(s0, s1, 300, 3, 300, 3);
		} else {
			/* the documented error, and the thread stayed in root:
			 * nothing charged to the group it could not enter */
			ck_assert_int_eq(r.err, ENOMEM);
			ck_assert(r.in_root);
			ck_assert_stats_same(s0, s1);
		}
	}
	ck_assert_uint_lt(n, FI_MAX_POINTS + 1);
	ck_assert_uint_ge(points, 1);
}
END_TEST

/* ---- span binding ----------------------------------------------------------- */

/* Bind @id to @g, failing each allocation point in turn; returns how many
 * points there were. @leak_check: the table exists, so a failure leaves
 * exactly the blocks there were (the first bind keeps the table it made). */
static unsigned bind_exhaustively(uint64_t id, ta_group *g, bool leak_check)
{
	unsigned points = 0;
	unsigned long n;
	int r = -1;

	for (n = 1; n <= FI_MAX_POINTS; n++) {
		long live = fi_live();

		fi_fail_nth(n);
		r = ta_span_bind(id, g);
		if (!fi_fail_stop())
			break;
		points++;
		if (r == 0)
			break;
		ck_assert_int_eq(r, -ENOMEM);
		if (leak_check)
			ck_assert_int_eq(fi_live(), live);
		/* not bound: an enter finds nothing (and pushes a no-op frame) */
		ck_assert_int_eq(ta_span_enter(id), -ENOENT);
		ck_assert_int_eq(ta_span_exit(id), -ENOENT);
	}
	ck_assert_uint_lt(n, FI_MAX_POINTS + 1);
	ck_assert_int_eq(r, 0);
	return points;
}

START_TEST(span_bind_fails_cleanly)
{
	ta_group *g = group_new("oom-span");
	unsigned points;
	uint64_t id;
	void *p;

	/* the first bind creates the table: liburcu's own allocations there
	 * cannot fail (it asserts), the library's reserve serves them */
	points = bind_exhaustively(1, g, false);
	ck_assert_uint_ge(points, 1);
	/* then 300 more: the directory and the table grow on the way */
	for (id = 2; id <= 300; id++)
		points += bind_exhaustively(id, g, true);
	/* Each bind allocates its entry through the library's own calloc. In
	 * a sanitized build that name binds to the sanitizer's allocator,
	 * which this test cannot fail: there only the table's creation (the
	 * inner calls liburcu makes through the wrapper) meets failures. */
	ck_assert_uint_ge(points, TA_TEST_SANITIZED ? 1 : 300);
	/* every binding works */
	for (id = 1; id <= 300; id++) {
		struct ta_stats s0 = stats_of(g), s1;
		int entered, exited;

		/* no assertion while the group is active (ta-check.h) */
		entered = ta_span_enter(id);
		p = tw.malloc(10);
		exited = ta_span_exit(id);
		tw.free(p);
		s1 = stats_of(g);
		ck_assert_int_eq(entered, 0);
		ck_assert_int_eq(exited, 0);
		ck_assert_stats_delta(s0, s1, 10, 1, 10, 1);
	}
	for (id = 1; id <= 300; id++)
		ck_assert_int_eq(ta_span_unbind(id), 0);
}
END_TEST

/* ---- tracker ---------------------------------------------------------------- */

static unsigned tracked;

static void count_alloc(void *ctx, const void *ptr, size_t size, size_t wrapped, uint32_t gid)
{
	(void)ctx, (void)ptr, (void)size, (void)wrapped, (void)gid;
	__atomic_add_fetch(&tracked, 1, __ATOMIC_RELAXED);
}

/*
 * Fail the 1st, 2nd, ... inner allocation of @call (which returns 0 or a
 * negative errno) until it makes no n-th one or succeeds. Each failure must
 * return -ENOMEM and leave the inner allocator holding what it held, and
 * @unchanged (if set) checks that the library's state did not change.
 * Returns how many allocation points failed; *@last is the final result.
 */
static unsigned exhaust(int (*call)(void *), void *arg, void (*unchanged)(void *), int *last)
{
	unsigned points = 0;
	unsigned long n;
	int r = -1;

	for (n = 1; n <= FI_MAX_POINTS; n++) {
		long live = fi_live();

		fi_fail_nth(n);
		r = call(arg);
		if (!fi_fail_stop())
			break;
		points++;
		if (r == 0)
			break;
		ck_assert_int_eq(r, -ENOMEM);
		ck_assert_int_eq(fi_live(), live);
		if (unchanged)
			unchanged(arg);
	}
	ck_assert_uint_lt(n, FI_MAX_POINTS + 1);
	*last = r;
	return points;
}

static int set_tracker(void *arg)
{
	return ta_tracker_set(arg);
}

/* no tracker was installed */
static void no_tracker(void *arg)
{
	void *p;

	(void)arg;
	tracked = 0;
	p = tw.malloc(8);
	tw.free(p);
	ck_assert_uint_eq(tracked, 0);
}

START_TEST(tracker_set_fails_cleanly)
{
	const struct ta_tracker t = { .allocated = count_alloc };
	void *p;
	int r;

	ck_assert_uint_ge(exhaust(set_tracker, (void *)&t, no_tracker, &r), 1);
	ck_assert_int_eq(r, 0);
	tracked = 0;
	p = tw.malloc(8);
	tw.free(p);
	ck_assert_uint_eq(tracked, 1);
	ck_assert_int_eq(ta_tracker_set(NULL), 0);
}
END_TEST

/* ---- rules ------------------------------------------------------------------- */

static int set_rules(void *arg)
{
	return ta_rules_set(arg);
}

/* no rule is in force: this thread still counts in root */
static void no_rules(void *arg)
{
	(void)arg;
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
}

START_TEST(rules_set_fails_cleanly)
{
	int r;

	ck_assert_int_eq(pthread_setname_np(pthread_self(), "oom-rules"), 0);
	ck_assert_uint_ge(exhaust(set_rules, "thread:oom-*=%n-group;lib:*=%n", no_rules, &r), 1);
	ck_assert_int_eq(r, 0);
	/* once memory is back, the rules work */
	ck_assert_int_eq(ta_rules_set("thread:oom-*=%n-group"), 0);
	ck_assert_str_eq(ta_group_name(ta_group_current()), "oom-rules-group");
	ck_assert_int_eq(ta_rules_set(NULL), 0);
	ck_assert_ptr_eq(ta_group_current(), ta_group_root());
}
END_TEST

/* ---- the exit report ---------------------------------------------------------- */

/* Run the helper with TRACKALLOC_REPORT=@path: it makes every inner
 * allocation fail before it returns from main. Returns its wait status;
 * its stderr goes to @err. */
static int run_report_helper(const char *path, const char *err)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(120);
		setenv("TRACKALLOC_REPORT", path, 1);
		execl(getenv("TA_OOM_HELPER"), "oom-helper", (char *)NULL);
		_exit(121);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

START_TEST(exit_report_fails_cleanly)
{
	char dir[] = "/tmp/ta-oom.XXXXXX", path[64], err[64], want[160], buf[512];
	ssize_t n;
	int status, fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report.json", dir);
	snprintf(err, sizeof(err), "%s/stderr", dir);
	status = run_report_helper(path, err);
	/* the process exits as it meant to, and says why there is no report */
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_ne(access(path, F_OK), 0); /* no half-made file */
	fd = open(err, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want),
	         "trackalloc: cannot write the TRACKALLOC_REPORT file '%s': %s\n", path,
	         strerror(ENOMEM));
	ck_assert_str_eq(buf, want);
	unlink(err);
	rmdir(dir);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("oom");
	TCase *tc = tcase_new("oom");

	tcase_add_test(tc, failing_inner_is_the_inner);
	tcase_add_test(tc, register_fails_cleanly);
	tcase_add_test(tc, thread_setup_fails_cleanly);
	tcase_add_test(tc, span_bind_fails_cleanly);
	tcase_add_test(tc, tracker_set_fails_cleanly);
	tcase_add_test(tc, rules_set_fails_cleanly);
	tcase_add_test(tc, exit_report_fails_cleanly);
	suite_add_tcase(s, tc);
	return s;
}
