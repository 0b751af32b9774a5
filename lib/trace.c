/* SPDX-License-Identifier: MIT */
/*
 * LTTng-UST emission (tracepoint dynamic linkage: the probes live in
 * libtrackalloc-lttng.so, which ta_trace_load dlopens).
 *
 * When LTTng-UST is loaded. TRACKALLOC_LTTNG=1 loads it at start, 0 never;
 * auto (the default) loads it at start unless the library came in through
 * LD_PRELOAD: a preloaded process that nobody records carries no LTTng-UST
 * thread, descriptor or mapping. Such a process loads it later on an attach
 * request (TA_ATTACH_SIGNAL, sent with sigqueue and TA_ATTACH_COOKIE): the
 * handler only arms the inner allocator's gate (ta_inner_attach_arm), the
 * next malloc on any thread sees it on its cold path and starts a
 * short-lived thread that loads the provider, outside the handler and
 * outside whatever lock the allocating thread holds.
 *
 * Deferred registration. The tracepoint definitions below come with
 * LTTng-UST's constructors, which would dlopen liblttng-ust-tracepoint.so at
 * start. ta_trace_setup (from the library's first constructor, before
 * those run) makes them no-ops when loading is deferred, and ta_trace_load
 * runs them by hand when the provider is loaded.
 *
 * Late sessions. LTTng-UST 2.13 has no "session started" hook, so a watcher
 * thread polls every TA_WATCH_MS: when a session that records group_register
 * becomes active, it re-emits every group's group_register/group_tag events
 * (a statedump). It also starts the sampler thread while group_stats is
 * enabled, and lets it end when the event is disabled. Both threads run as
 * library-internal code: what they allocate counts in root and emits nothing.
 */
#define _GNU_SOURCE
/* Must precede the first inclusion of the provider header (trace-internal.h). */
#if TA_WITH_LTTNG
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ta-internal.h"
#include "trace-internal.h"

#if TA_WITH_LTTNG

#include <lttng/ust-events.h>

#define TA_WATCH_MS 50

static void *ta_provider;          /* dlopen handle of the probes */
static int ta_watcher_running, ta_sampler_running;

/* LTTng-UST's fork hooks (lttng/ust-fork.h), called unless the program
 * already preloads liblttng-ust-fork.so, which calls them itself. */
static void (*ta_ust_before_fork)(sigset_t *);
static void (*ta_ust_after_fork_parent)(sigset_t *);
static void (*ta_ust_after_fork_child)(sigset_t *);
static sigset_t ta_fork_sigset;

/* ---- group and span events ---------------------------------------------- */

/* Group and span events come from library calls, not from the allocator:
 * they run as library-internal code so LTTng-UST's own allocations (the first
 * event of a thread, say) count in root and raise nothing. */
void ta_trace_group_enter_emit(uint32_t gid, uint32_t prev)
{
	ta_nest_enter();
	lttng_ust_do_tracepoint(trackalloc, group_enter, gid, prev);
	ta_nest_exit();
}

void ta_trace_group_exit_emit(uint32_t gid, uint32_t restored)
{
	ta_nest_enter();
	lttng_ust_do_tracepoint(trackalloc, group_exit, gid, restored);
	ta_nest_exit();
}

void ta_trace_span_emit(int what, uint64_t span_id, uint32_t gid)
{
	ta_nest_enter();
	switch (what) {
	case TA_SPAN_BIND:
		lttng_ust_do_tracepoint(trackalloc, span_bind, span_id, gid);
		break;
	case TA_SPAN_UNBIND:
		lttng_ust_do_tracepoint(trackalloc, span_unbind, span_id, gid);
		break;
	case TA_SPAN_ENTER:
		lttng_ust_do_tracepoint(trackalloc, span_enter, span_id, gid);
		break;
	case TA_SPAN_EXIT:
		lttng_ust_do_tracepoint(trackalloc, span_exit, span_id, gid);
		break;
	}
	ta_nest_exit();
}

void ta_trace_group_metadata(const struct ta_group *g)
{
	uint32_t i;

	if (!lttng_ust_tracepoint_enabled(trackalloc, group_register) &&
	    !lttng_ust_tracepoint_enabled(trackalloc, group_tag))
		return;
	ta_nest_enter();
	lttng_ust_do_tracepoint(trackalloc, group_register, g->id, g->name, g->ntags);
	for (i = 0; i < g->ntags; i++)
		lttng_ust_tracepoint(trackalloc, group_tag, g->id, g->tags[i].key,
		                     g->tags[i].value);
	ta_nest_exit();
}

static int ta_statedump_group(ta_group *g, void *arg)
{
	(void)arg;
	ta_trace_group_metadata(g);
	return 0;
}

TA_API int ta_statedump(void)
{
	if (!ta_trace_loaded())
		return -ENOSYS;
	ta_group_foreach(ta_statedump_group, NULL);
	return 0;
}

static int ta_sample_group(ta_group *g, void *arg)
{
	struct ta_stats st;

	(void)arg;
	ta_group_stats(g, &st);
	lttng_ust_tracepoint(trackalloc, group_stats, g->id, st.allocated_bytes,
	                     st.allocated_objects, st.freed_bytes, st.freed_objects,
	                     st.wrapped_bytes_live);
	return 0;
}

/* ---- is anyone recording? ------------------------------------------------ */

/*
 * The sessions that record @tp's event and are active, as opaque pointers
 * (at most @max); returns how many. Reads the probe list LTTng-UST attaches
 * to an enabled tracepoint, through the base ABI of lttng/ust-events.h (the
 * same path the generated probe takes).
 */
static int ta_tp_sessions(struct lttng_ust_tracepoint *tp, const void **out, int max)
{
	struct lttng_ust_tracepoint_probe *probes;
	int n = 0;

	if (!__atomic_load_n(&tp->state, __ATOMIC_RELAXED) ||
	    !lttng_ust_tracepoint_dlopen_ptr || !lttng_ust_tracepoint_dlopen_ptr->rcu_read_lock_sym)
		return 0;
	lttng_ust_tracepoint_dlopen_ptr->rcu_read_lock_sym();
	probes = lttng_ust_tp_rcu_dereference(tp->probes);
	for (; probes && probes->func && n < max; probes++) {
		struct lttng_ust_event_common *ev = probes->data;
		struct lttng_ust_event_recorder *rec;
		struct lttng_ust_session *session;

		if (!ev || ev->type != LTTNG_UST_EVENT_TYPE_RECORDER || !ev->enabled)
			continue;
		rec = ev->child;
		if (!rec || !rec->chan || !rec->chan->parent || !rec->chan->parent->session)
			continue;
		session = rec->chan->parent->session;
		if (__atomic_load_n(&session->active, __ATOMIC_RELAXED))
			out[n++] = session;
	}
	lttng_ust_tracepoint_dlopen_ptr->rcu_read_unlock_sym();
	return n;
}

/* True when some active session records @tp's event. */
static int ta_tp_recording(struct lttng_ust_tracepoint *tp)
{
	const void *one;

	return ta_tp_sessions(tp, &one, 1) > 0;
}

/* ---- watcher and sampler threads --------------------------------------- */

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
static void ta_internal_thread_start(void)
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
		if (ta_tp_recording(&lttng_ust_tracepoint_trackalloc___group_stats))
			ta_group_foreach(ta_sample_group, NULL);
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
static int ta_thread_detached(void *(*fn)(void *), int *running)
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

static void ta_watcher_start(void)
{
	ta_internal_thread_launch(ta_watcher_main, &ta_watcher_running);
}

/*
 * At exit: stop the watcher and the sampler (they must not emit while
 * LTTng-UST tears down), then a last sample so that counters-mode traces end
 * on the final values. Runs once: from an atexit handler when the provider
 * was loaded late, else from the destructor below.
 */
static void ta_trace_finish(void)
{
	static int finished;
	int i;

	if (!ta_trace_loaded() || __atomic_exchange_n(&finished, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_lock(&ta_sleep_lock);
	__atomic_store_n(&ta_trace_stopping, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&ta_sleep_cond);
	pthread_mutex_unlock(&ta_sleep_lock);
	/* bounded: a thread stuck elsewhere must not hold the exit up */
	for (i = 0; i < 2000 && (__atomic_load_n(&ta_watcher_running, __ATOMIC_ACQUIRE) ||
	                         __atomic_load_n(&ta_sampler_running, __ATOMIC_ACQUIRE));
	     i++) {
		struct timespec ts = { 0, 1000000L };

		nanosleep(&ts, NULL);
	}
	/* Left nested on purpose: what runs after this on the exiting thread is
	 * LTTng-UST and the loader tearing down (tracepoint unregistration frees
	 * memory), not the program. */
	ta_nest_enter();
	if (ta_tp_recording(&lttng_ust_tracepoint_trackalloc___group_stats))
		ta_group_foreach(ta_sample_group, NULL);
}

/*
 * Why a destructor here: an atexit handler registered from a library
 * constructor runs after _dl_fini (it was registered first), when nothing is
 * registered any more. This file holds the tracepoint definitions, whose own
 * destructor unregisters them; destructors of one file run in reverse order
 * of definition, so this one, defined after them, runs first. A provider
 * loaded inside our constructor is finalised after us, so its probes are
 * still there. A provider loaded later is finalised before us: for it,
 * ta_trace_load registers ta_trace_finish with atexit, which runs before
 * any destructor.
 */
static void __attribute__((destructor)) ta_trace_at_exit(void)
{
	ta_trace_finish();
}

/* ---- loading the provider ---------------------------------------------- */

enum ta_load {
	TA_LOAD_NONE,    /* not loaded; an attach request may load it */
	TA_LOAD_RUNNING, /* a load is under way (or was cut by a fork) */
	TA_LOAD_DONE,    /* the provider is loaded */
	TA_LOAD_FAILED,  /* it could not be loaded: no later attempt */
};
static int ta_load_state = TA_LOAD_NONE;

bool ta_trace_loaded(void)
{
	return __atomic_load_n(&ta_load_state, __ATOMIC_ACQUIRE) == TA_LOAD_DONE;
}

/* The probes sit next to libtrackalloc.so (installed, or in the build tree). */
static void *ta_provider_open(void)
{
	char path[4096];
	Dl_info info;
	void *h;

	if (dladdr((void *)ta_trace_setup, &info) && info.dli_fname) {
		const char *slash = strrchr(info.dli_fname, '/');

		if (slash && (size_t)(slash - info.dli_fname) + sizeof(TA_LTTNG_PROVIDER) + 1 <
		                     sizeof(path)) {
			memcpy(path, info.dli_fname, (size_t)(slash - info.dli_fname) + 1);
			strcpy(path + (slash - info.dli_fname) + 1, TA_LTTNG_PROVIDER);
			h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
			if (h)
				return h;
		}
	}
	return dlopen(TA_LTTNG_PROVIDER, RTLD_NOW | RTLD_GLOBAL);
}

/*
 * Load LTTng-UST: register the tracepoints, dlopen the provider (which
 * loads liblttng-ust.so and starts its threads), start the watcher. Called
 * with ta_load_state TA_LOAD_RUNNING. @at_start: from the library's first
 * constructor, before the tracepoints' own constructors, which then
 * register them as usual; otherwise those ran as no-ops (ta_trace_setup)
 * and are run again here.
 */
static void ta_trace_load(bool at_start)
{
	pid_t before[256];
	int nbefore;

	ta_nest_enter();
	if (ta_config.gate)
		ta_gate_join();
	if (!at_start) {
		lttng_ust_tracepoint_registered = 0;
		lttng_ust_tracepoint_ptrs_registered = 0;
		lttng_ust__tracepoints__init();
		lttng_ust__tracepoints__ptrs_init();
	}
	__atomic_store_n(&ta_ust_starting, 1, __ATOMIC_SEQ_CST);
	nbefore = ta_task_list(before, 256);
	ta_provider = ta_provider_open();
	ta_ust_tids_record(before, nbefore);
	__atomic_store_n(&ta_ust_starting, 0, __ATOMIC_RELEASE);
	if (ta_provider) {
		void *ust = dlopen("liblttng-ust.so.1", RTLD_NOW | RTLD_NOLOAD);
		void *fork_wrapper = dlopen("liblttng-ust-fork.so.1", RTLD_NOW | RTLD_NOLOAD);

		ta_fdguard_arm();
		/* LTTng-UST cancels its threads at exit, and glibc's
		 * pthread_cancel loads libgcc_s then, or aborts when it cannot
		 * (no address space left): load it now, for good. */
		(void)dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE);
		if (ust && !fork_wrapper) {
			*(void **)&ta_ust_before_fork = dlsym(ust, "lttng_ust_before_fork");
			*(void **)&ta_ust_after_fork_parent = dlsym(ust, "lttng_ust_after_fork_parent");
			*(void **)&ta_ust_after_fork_child = dlsym(ust, "lttng_ust_after_fork_child");
		}
		__atomic_store_n(&ta_load_state, TA_LOAD_DONE, __ATOMIC_RELEASE);
		if (!at_start)
			atexit(ta_trace_finish);
		ta_watcher_start();
	} else {
		__atomic_store_n(&ta_load_state, TA_LOAD_FAILED, __ATOMIC_RELEASE);
	}
	ta_nest_exit();
	if (at_start)
		ta_fdguard_thread_init();
}

/* ---- attach requests ------------------------------------------------------ */

/*
 * The handler does nothing but arm the allocator's gate (an atomic store),
 * for a request that carries the cookie. Anything else sent with this
 * signal is not ours: the signal then does what it would have done without
 * the library (terminate, as any real-time signal by default).
 */
static void ta_attach_handler(int sig, siginfo_t *si, void *uc)
{
	struct sigaction dfl;

	(void)uc;
	if (si && si->si_code == SI_QUEUE && si->si_value.sival_int == TA_ATTACH_COOKIE) {
		ta_inner_attach_arm();
		return;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	raise(sig); /* delivered when this handler returns */
}

/* Installed only where the program left the signal at its default. */
static void ta_attach_handler_install(void)
{
	struct sigaction old, sa;

	if (sigaction(TA_ATTACH_SIGNAL, NULL, &old) != 0 ||
	    (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = ta_attach_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(TA_ATTACH_SIGNAL, &sa, NULL);
}

static void *ta_attach_main(void *arg)
{
	(void)arg;
	ta_internal_thread_start();
	(void)pthread_setname_np(pthread_self(), "ta-attach");
	ta_trace_load(false);
	return NULL;
}

/*
 * The allocator's cold path saw an armed gate. Start the loader thread, at
 * most once: loading in the allocating thread itself could deadlock on
 * whatever it holds (the loader's lock inside a dlopen, say). A thread
 * inside the library's own code leaves the request for the next one.
 */
void ta_trace_attach(void)
{
	int expected = TA_LOAD_NONE;

	if (__atomic_load_n(&ta_load_state, __ATOMIC_ACQUIRE) != TA_LOAD_NONE)
		return;
	if (ta_tls.nesting) {
		ta_inner_attach_arm();
		return;
	}
	if (!__atomic_compare_exchange_n(&ta_load_state, &expected, TA_LOAD_RUNNING, false,
	                                 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	ta_nest_enter(); /* what thread creation allocates counts in root */
	if (ta_thread_detached(ta_attach_main, NULL) != 0)
		__atomic_store_n(&ta_load_state, TA_LOAD_NONE, __ATOMIC_RELEASE);
	ta_nest_exit();
}

/* From the library's first constructor, after the configuration is read. */
void ta_trace_setup(void)
{
	bool now = ta_config.lttng == TA_LTTNG_ON ||
	           (ta_config.lttng == TA_LTTNG_AUTO && !ta_config.preloaded);

	if (now) {
		__atomic_store_n(&ta_load_state, TA_LOAD_RUNNING, __ATOMIC_RELEASE);
		ta_trace_load(true);
		return;
	}
	/* the tracepoints' constructors and destructors become no-ops */
	lttng_ust_tracepoint_dlopen_ptr = &lttng_ust_tracepoint_dlopen;
	lttng_ust_tracepoint_registered = 1;
	lttng_ust_tracepoint_ptrs_registered = 1;
	if (ta_config.lttng == TA_LTTNG_AUTO)
		ta_attach_handler_install();
}

/*
 * Fork. Nothing is locked across the fork here: a fork from a signal
 * handler that interrupted this very code must not wait for itself. The
 * child, where only the forking thread runs, gets fresh sleep primitives.
 */
void ta_trace_atfork_prepare(void)
{
	if (ta_ust_before_fork && ta_ust_after_fork_parent && ta_ust_after_fork_child)
		ta_ust_before_fork(&ta_fork_sigset);
}

void ta_trace_atfork_parent(void)
{
	if (ta_ust_before_fork && ta_ust_after_fork_parent && ta_ust_after_fork_child)
		ta_ust_after_fork_parent(&ta_fork_sigset);
}

/* The child has neither the watcher nor the sampler: start a new watcher,
 * which restarts sampling if group_stats is still enabled. */
void ta_trace_atfork_child(void)
{
	ta_nest_enter();
	pthread_mutex_init(&ta_sleep_lock, NULL);
	pthread_cond_init(&ta_sleep_cond, NULL); /* the parent's waiters are not here */
	ta_sampler_running = 0;
	ta_watcher_running = 0;
	ta_ust_tids_clear();
	if (ta_ust_before_fork && ta_ust_after_fork_parent && ta_ust_after_fork_child) {
		pid_t self = gettid();

		if (ta_config.gate)
			ta_gate_join();
		__atomic_store_n(&ta_ust_starting, 1, __ATOMIC_SEQ_CST);
		ta_ust_after_fork_child(&ta_fork_sigset);
		ta_ust_tids_record(&self, 1);
		__atomic_store_n(&ta_ust_starting, 0, __ATOMIC_RELEASE);
	}
	if (ta_trace_loaded())
		ta_watcher_start();
	ta_nest_exit();
}

#else /* !TA_WITH_LTTNG */

TA_API int ta_statedump(void)
{
	return -ENOSYS;
}

#endif
