/* SPDX-License-Identifier: MIT */
/*
 * Start-up and fork: the library's first constructor, and the fork handlers
 * that keep every structure consistent across fork().
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/single_threaded.h>

#include "limits-internal.h"
#include "rules-internal.h"
#include "sampling-internal.h"
#include "batch-internal.h"
#include "ta-internal.h"
#include "trace-internal.h"

/*
 * Each handler runs as library code: what it (or liburcu, or LTTng-UST
 * through it) allocates or frees counts in root and raises no hook.
 *
 * The library's locks are held across a fork only while other threads
 * exist: then one of them may hold a lock, which the child could never
 * take. A single-threaded process takes none, as glibc does for its own:
 * the only holder could be the forking thread itself, interrupted by the
 * signal handler that forks (POSIX allows fork there), and waiting for
 * itself would never end. Its interrupted section then resumes in both
 * processes as it would have without the fork.
 */
static bool ta_fork_locked;

static void ta_atfork_prepare(void)
{
	ta_nest_enter();
	ta_trace_atfork_prepare();
	ta_fork_locked = !__libc_single_threaded;
	if (ta_fork_locked) {
		ta_spans_atfork_prepare();
		ta_stacks_atfork_prepare();
		ta_samples_atfork_prepare();
		ta_tracker_atfork_prepare();
		ta_modules_atfork_prepare();
		ta_rules_atfork_prepare();
		ta_groups_atfork_prepare();
		ta_threads_atfork_prepare();
	}
	ta_nest_exit();
}

static void ta_atfork_parent(void)
{
	ta_nest_enter();
	if (ta_fork_locked) {
		ta_threads_atfork_parent();
		ta_groups_atfork_parent();
		ta_rules_atfork_parent();
		ta_modules_atfork_parent();
		ta_tracker_atfork_parent();
		ta_samples_atfork_parent();
		ta_stacks_atfork_parent();
		ta_spans_atfork_parent();
	}
	ta_trace_atfork_parent();
	ta_nest_exit();
}

static void ta_atfork_child(void)
{
	ta_nest_enter();
	ta_threads_atfork_child(ta_fork_locked);
	if (ta_fork_locked) {
		ta_groups_atfork_child();
		ta_rules_atfork_child();
		ta_modules_atfork_child();
		ta_tracker_atfork_child();
	}
	ta_samples_atfork_child(ta_fork_locked);
	ta_stacks_atfork_child(ta_fork_locked);
	ta_spans_atfork_child(ta_fork_locked);
	ta_trace_atfork_child();
	ta_nest_exit();
}

/* ---- start ----------------------------------------------------------- */

/*
 * pthread_atfork itself, without its stub: glibc's pthread_atfork is a
 * two-line function in libc_nonshared.a that calls __register_atfork (an
 * exported symbol since 2.3.2, what every program's stub calls) with the
 * object's __dso_handle, so that the handlers go with the object at
 * dlclose. The stub would be linked at the end of the text, the only code
 * there that every process runs (TA_START).
 */
extern int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void),
                             void *dso_handle);
extern void *__dso_handle __attribute__((visibility("hidden")));

static void ta_register_atfork(void)
{
	(void)__register_atfork(ta_atfork_prepare, ta_atfork_parent, ta_atfork_child, __dso_handle);
}

__attribute__((constructor(101))) static void ta_init(void)
{
	ta_inner_init();
	ta_nest_enter();
	ta_fdguard_init();
	ta_exec_init();
	ta_names_init();
	ta_config_init();
	ta_register_atfork();
	ta_exit_report_setup();
	ta_profile_setup();
	if (ta_config.stacks && ta_sampling_set(ta_config.stacks) != 0)
		ta_warn("trackalloc: TRACKALLOC_STACKS ignored: stack capture is not available "
		        "(libunwind.so.8 cannot be loaded, or the library was built without it)\n");
	/* limits first: the rules' groups may be among their names */
	if (ta_config.limits && ta_config.limits[0])
		ta_limits_env(ta_config.limits);
	if (ta_config.groups && ta_config.groups[0])
		ta_rules_env(ta_config.groups);
	ta_nest_exit();
	ta_trace_setup();
}
