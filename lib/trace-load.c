/* SPDX-License-Identifier: MIT */
/*
 * Loading LTTng-UST, attach requests, and fork while it is loaded.
 *
 * TRACKALLOC_LTTNG=1 loads it at start, 0 never; auto (the default) loads
 * it at start unless the library came in through LD_PRELOAD. A deferred
 * process loads it on an attach request (TA_ATTACH_SIGNAL with
 * TA_ATTACH_COOKIE): the handler only arms the inner allocator's gate, and
 * the next malloc's cold path starts a short-lived thread that loads the
 * provider, outside the handler and outside any lock the allocating thread
 * holds. The tracepoints' own constructors are made no-ops while loading is
 * deferred and run by hand at load.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch-internal.h"
#include "ta-internal.h"
#include "trace-internal.h"

static void *ta_provider; /* dlopen handle of the probes */

/* LTTng-UST's fork hooks (lttng/ust-fork.h), called unless the program
 * already preloads liblttng-ust-fork.so, which calls them itself. */
static void (*ta_ust_before_fork)(sigset_t *);
static void (*ta_ust_after_fork_parent)(sigset_t *);
static void (*ta_ust_after_fork_child)(sigset_t *);
static sigset_t ta_fork_sigset;

enum ta_load {
	TA_LOAD_NONE,    /* not loaded; an attach request may load it */
	TA_LOAD_RUNNING, /* a load is under way (or was cut by a fork) */
	TA_LOAD_DONE,    /* the provider is loaded */
	TA_LOAD_FAILED,  /* it could not be loaded: no later attempt */
};
static int ta_load_state = TA_LOAD_NONE;

TA_START bool ta_trace_loaded(void)
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
		ta_trace_tracepoints_register();
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
		/* a session recording batches is already there (record): they
		 * start with the program, not at the watcher's first look */
		ta_batch_poll(false);
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
TA_START static void ta_attach_handler_install(void)
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
TA_START void ta_trace_setup(void)
{
	bool now = ta_config.lttng == TA_LTTNG_ON ||
	           (ta_config.lttng == TA_LTTNG_AUTO && !ta_config.preloaded);

	if (now) {
		__atomic_store_n(&ta_load_state, TA_LOAD_RUNNING, __ATOMIC_RELEASE);
		ta_trace_load(true);
		return;
	}
	/* the tracepoints' constructors and destructors become no-ops */
	ta_trace_tracepoints_defer();
	if (ta_config.lttng == TA_LTTNG_AUTO)
		ta_attach_handler_install();
}

/*
 * Fork. Nothing is locked across the fork here: a fork from a signal
 * handler that interrupted this very code must not wait for itself.
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
	ta_trace_threads_atfork_child();
	ta_batch_atfork_child();
	ta_exec_atfork_child();
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
