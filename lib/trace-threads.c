/* SPDX-License-Identifier: MIT */
/*
 * The library's own threads while LTTng-UST is loaded. LTTng-UST 2.13 has
 * no "session started" hook, so a watcher thread polls every TA_WATCH_MS:
 * when a session that records group_register becomes active, it re-emits
 * every group's group_register/group_tag events (a statedump). It also
 * starts the sampler thread while group_stats is enabled, and lets it end
 * when the event is disabled. Both run as library-internal code: what they
 * allocate counts in root and emits nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch-internal.h"
#include "ta-internal.h"
#include "trace-internal.h"

#define TA_WATCH_MS 50

static int ta_watcher_running, ta_sampler_running;

/* Set at exit: the watcher and the sampler leave their loops. */
static int ta_trace_stopping;
static pthread_mutex_t ta_sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ta_sleep_cond = PTHREAD_COND_INITIALIZER;

/* Sleep @ms, or less when the process is exiting. Returns false then. */
static bool ta_sleep_ms(unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts); /* the condition variable's clock */
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ta_sleep_lock);
	while (!ta_trace_stopping &&
	       pthread_cond_timedwait(&ta_sleep_cond, &ta_sleep_lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&ta_sleep_lock);
	return !__atomic_load_n(&ta_trace_stopping, __ATOMIC_ACQUIRE);
}

/* The library's own threads now running (watcher, sampler): not the
 * program's, when the watcher asks whether the program has threads left. */
static pid_t ta_watcher_tid, ta_sampler_tid;
/* Set by the watcher and the sampler once their TLS is warm. */
static int ta_internal_ready;

/* Internal threads: block signals (the program's handlers are not for us),
 * count in root, emit nothing through the allocation hooks. */
void ta_internal_thread_start(void)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	ta_tls.kind = TA_THREAD_LIBRARY;
	ta_nest_enter();
}

/*
 * The watcher and the sampler read the tracepoints' probe lists under
 * LTTng-UST's RCU read lock, whose state is in liblttng-ust-tracepoint's
 * TLS: a dlopened library's TLS comes from malloc on first use, and a
 * thread that first touched it when memory has run out would die in the
 * loader. Touch it while the thread starts.
 */
static void ta_internal_thread_tls_warm(void)
{
	if (lttng_ust_tracepoint_dlopen_ptr && lttng_ust_tracepoint_dlopen_ptr->rcu_read_lock_sym &&
	    lttng_ust_tracepoint_dlopen_ptr->rcu_read_unlock_sym) {
		lttng_ust_tracepoint_dlopen_ptr->rcu_read_lock_sym();
		lttng_ust_tracepoint_dlopen_ptr->rcu_read_unlock_sym();
	}
	__atomic_store_n(&ta_internal_ready, 1, __ATOMIC_RELEASE);
}

/* Is thread @tid of this process the library's or LTTng-UST's? */
static bool ta_task_is_internal(pid_t tid)
{
	if (tid == __atomic_load_n(&ta_watcher_tid, __ATOMIC_RELAXED) ||
	    tid == __atomic_load_n(&ta_sampler_tid, __ATOMIC_RELAXED))
		return true;
	return ta_ust_tid_listed(tid);
}

/*
 * A main thread that called pthread_exit ends the process when the last
 * of the program's own threads ends: glibc calls exit(0) then, but it
 * counts LTTng-UST's and the library's threads too, which never end. The
 * watcher sees the main thread a zombie and no program thread left, and
 * does what glibc would have done.
 */
static bool ta_program_gone(void)
{
	char path[64], stat[256], *paren;
	pid_t tids[256];
	ssize_t n;
	int fd, i, ntids;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	paren = strrchr(stat, ')');
	if (!paren || paren[1] != ' ' || paren[2] != 'Z')
		return false; /* the main thread runs */
	ntids = ta_task_list(tids, 256);
	for (i = 0; i < ntids; i++)
		if (tids[i] != getpid() && !ta_task_is_internal(tids[i]))
			return false;
	return true;
}

/*
 * The watcher and the sampler emit the process's metadata and counter
 * samples, whose procname context is the emitting thread's name: they take
 * the process's own name (its main thread's), so that a trace labels the
 * process as the program, never as a library thread.
 */
static void ta_internal_thread_name_as_process(void)
{
	char name[32];
	ssize_t n;
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, name, sizeof(name) - 1);
	close(fd);
	if (n <= 0)
		return;
	while (n > 0 && name[n - 1] == '\n')
		n--;
	name[n < 16 ? n : 15] = '\0';
	(void)pthread_setname_np(pthread_self(), name);
}

/* Runs while group_stats is enabled, then clears ta_sampler_running and
 * ends: no sampling thread exists while the event is disabled. */
static void *ta_sampler_main(void *arg)
{
	(void)arg;
	ta_internal_thread_start();
	ta_internal_thread_name_as_process();
	__atomic_store_n(&ta_sampler_tid, gettid(), __ATOMIC_RELAXED);
	ta_internal_thread_tls_warm();
	while (lttng_ust_tracepoint_enabled(trackalloc, group_stats) &&
	       !__atomic_load_n(&ta_trace_stopping, __ATOMIC_ACQUIRE)) {
		ta_trace_sample_all();
		if (!ta_sleep_ms(ta_config.sample_ms))
			break;
	}
	__atomic_store_n(&ta_sampler_running, 0, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Start @fn on a detached thread; *@running (when given) is 1 while it
 * runs. Returns 0 or pthread_create's error.
 */
int ta_thread_detached(void *(*fn)(void *), int *running)
{
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	if (running)
		__atomic_store_n(running, 1, __ATOMIC_RELEASE);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&tid, &attr, fn, NULL);
	if (err && running)
		__atomic_store_n(running, 0, __ATOMIC_RELEASE);
	pthread_attr_destroy(&attr);
	return err;
}

#define TA_SESSIONS_MAX 32

/* Is @s in @set? */
static int ta_session_in(const void *s, const void *const *set, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (set[i] == s)
			return 1;
	return 0;
}

/*
 * Every TA_WATCH_MS: when a session recording group_register appears among
 * the active ones, re-emit every group's metadata (it goes to every active
 * session; the others see duplicates, which analyses tolerate), and keep a
 * sampler running while group_stats is enabled.
 */
static void ta_internal_thread_launch(void *(*fn)(void *), int *running);

static void *ta_watcher_main(void *arg)
{
	const void *seen[TA_SESSIONS_MAX], *now[TA_SESSIONS_MAX];
	int nseen = 0;

	(void)arg;
	ta_internal_thread_start();
	ta_internal_thread_name_as_process();
	__atomic_store_n(&ta_watcher_tid, gettid(), __ATOMIC_RELAXED);
	ta_internal_thread_tls_warm();
	while (!__atomic_load_n(&ta_trace_stopping, __ATOMIC_ACQUIRE)) {
		int n = ta_tp_sessions(&lttng_ust_tracepoint_trackalloc___group_register, now,
		                       TA_SESSIONS_MAX);
		int i, fresh = 0;

		for (i = 0; i < n; i++)
			fresh |= !ta_session_in(now[i], seen, nseen);
		if (fresh)
			ta_statedump();
		memcpy(seen, now, (size_t)n * sizeof(now[0]));
		nseen = n;
		ta_batch_poll(true);
		if (lttng_ust_tracepoint_enabled(trackalloc, group_stats) &&
		    !__atomic_load_n(&ta_sampler_running, __ATOMIC_ACQUIRE))
			ta_internal_thread_launch(ta_sampler_main, &ta_sampler_running);
		if (ta_program_gone()) {
			__atomic_store_n(&ta_watcher_running, 0, __ATOMIC_RELEASE);
			exit(0);
		}
		ta_sleep_ms(TA_WATCH_MS);
	}
	__atomic_store_n(&ta_watcher_running, 0, __ATOMIC_RELEASE);
	return NULL;
}

/* Start the watcher or the sampler, and wait (1 s at most) until its TLS
 * is warm: a thread that first runs when the program has already taken
 * all memory could not get it. */
static void ta_internal_thread_launch(void *(*fn)(void *), int *running)
{
	int i;

	__atomic_store_n(&ta_internal_ready, 0, __ATOMIC_RELEASE);
	if (ta_thread_detached(fn, running) != 0)
		return;
	/* in 20 us steps: the thread is usually ready in well under 1 ms */
	for (i = 0; i < 50000 && !__atomic_load_n(&ta_internal_ready, __ATOMIC_ACQUIRE); i++) {
		struct timespec ts = { 0, 20000L };

		nanosleep(&ts, NULL);
	}
}

void ta_watcher_start(void)
{
	ta_internal_thread_launch(ta_watcher_main, &ta_watcher_running);
}

/*
 * At exit: stop the watcher and the sampler (they must not emit while
 * LTTng-UST tears down), then the groups' names and a last sample, so that
 * counters-mode traces end on the final values. Runs once: from an atexit handler when the provider
 * was loaded late, else from the destructor below.
 */
TA_START void ta_trace_finish(void)
{
	static int finished;
	int i;

	if (!ta_trace_loaded() || __atomic_exchange_n(&finished, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_lock(&ta_sleep_lock);
	__atomic_store_n(&ta_trace_stopping, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&ta_sleep_cond);
	pthread_mutex_unlock(&ta_sleep_lock);
	/* Bounded (2 s): a thread stuck elsewhere must not hold the exit up.
	 * In 20 us steps: a woken thread leaves in well under a millisecond,
	 * and every process exit pays this wait. */
	for (i = 0; i < 100000 && (__atomic_load_n(&ta_watcher_running, __ATOMIC_ACQUIRE) ||
	                           __atomic_load_n(&ta_sampler_running, __ATOMIC_ACQUIRE));
	     i++) {
		struct timespec ts = { 0, 20000L };

		nanosleep(&ts, NULL);
	}
	/* Left nested on purpose: what runs after this on the exiting thread is
	 * LTTng-UST and the loader tearing down (tracepoint unregistration frees
	 * memory), not the program. */
	ta_nest_enter();
	ta_batch_flush_all(true);
	/* A process shorter than the watcher's period may end before its
	 * first statedump: groups registered before LTTng-UST was (root, at
	 * least) would have no name in the trace. Names once more, then. */
	if (ta_tp_recording(&lttng_ust_tracepoint_trackalloc___group_register))
		ta_statedump();
	ta_trace_sample_all();
}

/* The child has neither the watcher nor the sampler, and gets fresh sleep
 * primitives (nothing here is locked across a fork). */
void ta_trace_threads_atfork_child(void)
{
	pthread_mutex_init(&ta_sleep_lock, NULL);
	pthread_cond_init(&ta_sleep_cond, NULL); /* the parent's waiters are not here */
	ta_sampler_running = 0;
	ta_watcher_running = 0;
}
