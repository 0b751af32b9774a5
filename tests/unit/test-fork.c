/* SPDX-License-Identifier: MIT */
/*
 * Fork: the child of a multithreaded parent, forked while the other threads
 * allocate, register and read counters, can register and enter groups and
 * allocate with exact counts.
 *
 * The children report through their exit status (an assertion there would
 * talk to the runner on the parent's behalf); each child arms an alarm so
 * that a deadlock shows up as SIGALRM instead of a hung test.
 *
 * TSan refuses to start threads in the child of a multithreaded process
 * (die_after_fork), so the checks that need one are left out under TSan.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ta-check.h"

/* No threads in a child forked from a multithreaded parent under a
 * sanitizer: GCC 12's ASan and TSan runtimes keep their own allocator locks
 * across fork, and a child whose parent had a thread inside that allocator
 * deadlocks creating a thread (seen in ASan's AsanThread::Init; not this
 * library's code, which the sanitizer's malloc bypasses). */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define CHILD_THREADS 0
#else
#define CHILD_THREADS 1
#endif

#define WORKERS 3
#define FORKS 8
#define CHILD_WATCHDOG_S 10

struct worker {
	ta_group *g;
	int index;
	int stop;
	unsigned long rounds;
};

/* Allocate, free, register and read counters until told to stop. */
static void *fork_worker(void *arg)
{
	struct worker *w = arg;
	ta_guard g = ta_group_enter(w->g);
	void *keep[16] = { NULL };
	unsigned long r;

	for (r = 0; !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE); r++) {
		size_t n = 8 + (r * 29) % 700;
		unsigned k = (unsigned)(r % 16);

		tw.free(keep[k]);
		keep[k] = (r % 3) ? tw.malloc(n) : tw.calloc(1, n);
		if (r % 64 == 0) {
			char name[32];
			struct ta_stats st;

			snprintf(name, sizeof(name), "fork-worker-%d-%lu", w->index, r % 256);
			(void)ta_group_register(name, NULL, 0);
			(void)ta_group_stats(w->g, &st);
		}
		if (r % 7 == 0)
			sched_yield();
	}
	w->rounds = r;
	for (r = 0; r < 16; r++)
		tw.free(keep[r]);
	ta_guard_exit(&g);
	return NULL;
}

/* A deadlock in a child ends it with SIGALRM. The default action must be
 * restored first: the child inherits the runner's handler, which kills the
 * whole test. */
static void arm_watchdog(unsigned seconds)
{
	signal(SIGALRM, SIG_DFL);
	alarm(seconds);
}

static int count_groups(ta_group *g, void *arg)
{
	(void)g;
	++*(unsigned *)arg;
	return 0;
}

#if CHILD_THREADS
static void *child_thread(void *arg)
{
	ta_guard g = ta_group_enter(arg);

	tw.free(tw.malloc(50));
	ta_guard_exit(&g);
	return NULL;
}
#endif

/* Everything the child checks; the return value is its exit status. */
static int child_main(int i, ta_group *worker_group)
{
	char name[64], pid[24];
	struct ta_tag tag = { "pid", pid };
	struct ta_stats st;
	ta_group *g;
	ta_guard guard;
	void *a, *b, *c;
	size_t wrapped;
	unsigned ngroups = 0;

	arm_watchdog(CHILD_WATCHDOG_S);
	snprintf(name, sizeof(name), "fork-child-%d", i);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	g = ta_group_register(name, &tag, 1);
	if (!g)
		return 10;
	if (ta_group_current() != ta_group_root())
		return 11;
	guard = ta_group_enter(g);
	a = tw.malloc(100);
	b = tw.malloc(200);
	c = tw.malloc(300);
	tw.free(b);
	if (ta_guard_exit(&guard) != 0 || !a || !b || !c)
		return 12;
	if (ta_group_stats(g, &st) != 0)
		return 13;
	wrapped = tw.libc_usable(a) + tw.libc_usable(c);
	if (st.allocated_bytes != 600 || st.allocated_objects != 3 || st.freed_bytes != 200 ||
	    st.freed_objects != 1 || st.wrapped_bytes_live != wrapped)
		return 14;
	tw.free(a);
	tw.free(c);
	if (ta_group_stats(g, &st) != 0 || st.freed_bytes != 600 || st.freed_objects != 3 ||
	    st.wrapped_bytes_live != 0)
		return 15;
	/* the registry and the parent's groups are usable */
	if (ta_group_foreach(count_groups, &ngroups) != 0 || ngroups < 2)
		return 16;
	if (ta_group_stats(worker_group, &st) != 0)
		return 17;
	if (ta_group_register(name, &tag, 1) != g)
		return 18;
#if CHILD_THREADS
	{
		pthread_t th;

		if (pthread_create(&th, NULL, child_thread, g) != 0 ||
		    pthread_join(th, NULL) != 0)
			return 19;
		if (ta_group_stats(g, &st) != 0 || st.allocated_bytes != 650 ||
		    st.freed_bytes != 650 || st.wrapped_bytes_live != 0)
			return 20;
	}
#endif
	return 0;
}

/* "exit 0", or what went wrong, for an assertion message. */
static const char *describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d%s", WTERMSIG(status),
		         WTERMSIG(status) == SIGALRM ? " (watchdog: deadlock?)" : "");
	else
		snprintf(buf, len, "status %#x", status);
	return buf;
}

START_TEST(fork_multithreaded_parent)
{
	struct worker w[WORKERS];
	pthread_t th[WORKERS];
	int status[FORKS], i;
	char buf[64];

	for (i = 0; i < WORKERS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "fork-worker-%d", i);
		w[i].g = ta_group_register(name, NULL, 0);
		w[i].index = i;
		w[i].stop = 0;
		ck_assert_ptr_nonnull(w[i].g);
		ck_assert_int_eq(pthread_create(&th[i], NULL, fork_worker, &w[i]), 0);
	}
	for (i = 0; i < FORKS; i++) {
		pid_t pid;

		usleep(2000); /* let the workers get going between forks */
		pid = fork();
		if (pid == 0)
			_exit(child_main(i, w[i % WORKERS].g));
		status[i] = -1;
		if (pid > 0)
			while (waitpid(pid, &status[i], 0) < 0 && errno == EINTR)
				;
	}
	for (i = 0; i < WORKERS; i++) {
		__atomic_store_n(&w[i].stop, 1, __ATOMIC_RELEASE);
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	}
	for (i = 0; i < FORKS; i++)
		ck_assert_msg(status[i] == 0, "child %d: %s", i,
		              describe(status[i], buf, sizeof(buf)));
	for (i = 0; i < WORKERS; i++)
		ck_assert_uint_gt(w[i].rounds, 0);
}
END_TEST

START_TEST(parent_counts_unaffected_by_child)
{
	/* The child's frees of inherited blocks happen in its own copy: the
	 * parent's counters do not move. */
	ta_group *g = group_new("fork-parent");
	ta_guard guard = ta_group_enter(g);
	void *p = tw.malloc(123);
	struct ta_stats s0, s1;
	pid_t pid;
	int status = -1;
	char buf[64];

	ta_guard_exit(&guard);
	s0 = stats_of(g);
	pid = fork();
	if (pid == 0) {
		struct ta_stats st;

		arm_watchdog(CHILD_WATCHDOG_S);
		/* the inherited block is still charged to g in the child */
		if (ta_group_stats(g, &st) != 0 || st.allocated_bytes - st.freed_bytes != 123)
			_exit(10);
		tw.free(p);
		if (ta_group_stats(g, &st) != 0 || st.allocated_bytes != st.freed_bytes)
			_exit(11);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	s1 = stats_of(g);
	ck_assert_msg(status == 0, "child: %s", describe(status, buf, sizeof(buf)));
	ck_assert_stats_same(s0, s1);
	tw.free(p);
}
END_TEST

#if CHILD_THREADS
/* ---- fork while another thread is inside a tracker callback ------------ */

static __thread int am_blocker;
static int blocker_inside, blocker_release;

static void on_alloc_blocking(void *ctx, const void *ptr, size_t size, size_t wrapped,
                              uint32_t gid)
{
	(void)ctx, (void)ptr, (void)size, (void)wrapped, (void)gid;
	if (!am_blocker)
		return;
	am_blocker = 0;
	__atomic_store_n(&blocker_inside, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&blocker_release, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void *blocker(void *arg)
{
	(void)arg;
	am_blocker = 1;
	tw.free(tw.malloc(10));
	return NULL;
}

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static int idle_ready, idle_quit;

/* A child thread that allocates once, then idles until told to quit. */
static void *idler(void *arg)
{
	(void)arg;
	tw.free(tw.malloc(10));
	pthread_mutex_lock(&idle_lock);
	idle_ready = 1;
	pthread_cond_broadcast(&idle_cond);
	while (!idle_quit)
		pthread_cond_wait(&idle_cond, &idle_lock);
	pthread_mutex_unlock(&idle_lock);
	return NULL;
}

static int child_after_callback_fork(void)
{
	pthread_t th;

	arm_watchdog(5);
	/* This thread may take over the state of the thread that was inside
	 * a callback when the parent forked. */
	if (pthread_create(&th, NULL, idler, NULL) != 0)
		return 10;
	pthread_mutex_lock(&idle_lock);
	while (!idle_ready)
		pthread_cond_wait(&idle_cond, &idle_lock);
	pthread_mutex_unlock(&idle_lock);
	/* Nobody in this process is inside a callback: this must return. */
	if (ta_tracker_set(NULL) != 0)
		return 11;
	pthread_mutex_lock(&idle_lock);
	idle_quit = 1;
	pthread_cond_broadcast(&idle_cond);
	pthread_mutex_unlock(&idle_lock);
	pthread_join(th, NULL);
	return 0;
}

START_TEST(fork_during_callback)
{
	const struct ta_tracker blocking = { on_alloc_blocking, NULL, NULL };
	pthread_t th;
	pid_t pid;
	int status = -1;
	char buf[64];

	ck_assert_int_eq(ta_tracker_set(&blocking), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, blocker, NULL), 0);
	while (!__atomic_load_n(&blocker_inside, __ATOMIC_ACQUIRE))
		sched_yield();
	pid = fork();
	if (pid == 0)
		_exit(child_after_callback_fork());
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	__atomic_store_n(&blocker_release, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(ta_tracker_set(NULL), 0);
	ck_assert_int_gt(pid, 0);
	ck_assert_msg(status == 0, "child: %s", describe(status, buf, sizeof(buf)));
}
END_TEST
#endif

Suite *unit_suite(void)
{
	Suite *s = suite_create("fork");
	TCase *tc = tcase_new("fork");

	tcase_add_test(tc, fork_multithreaded_parent);
	tcase_add_test(tc, parent_counts_unaffected_by_child);
#if CHILD_THREADS
	tcase_add_test(tc, fork_during_callback);
#endif
	suite_add_tcase(s, tc);
	return s;
}
