/* SPDX-License-Identifier: MIT */
/*
 * LTTng-UST's descriptors, protected from the program, the way
 * liblttng-ust-fd.so does it (LTTng's convention): once LTTng-UST is loaded,
 * a close, fclose, closefrom or close_range that would close one of its
 * sockets, pipes or shared-memory descriptors leaves it open (close and
 * fclose then fail with EBADF, as for a descriptor the program does not
 * have). Until then, and in a process that never loads it, each call goes
 * straight to the next definition (libc's), and so do the library's own
 * threads (ta_guard_close). LTTng-UST's threads go through the helpers, as
 * with liblttng-ust-fd.so: the helpers let LTTng-UST's own closes through
 * and keep its descriptor tracker consistent on its error paths.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "ta-internal.h"

/* The next definitions, resolved at start (ta_fdguard_init), or on first
 * use when a close comes from another library's constructor, before ours. */
static int (*ta_next_close)(int);
static int (*ta_next_fclose)(FILE *);
static void (*ta_next_closefrom)(int);
static int (*ta_next_close_range)(unsigned int, unsigned int, int);

/* liblttng-ust-common's helpers, set once LTTng-UST is loaded. */
static void (*ta_ust_alloc_tls)(void);
static int (*ta_ust_safe_close)(int, int (*)(int));
static int (*ta_ust_safe_fclose)(FILE *, int (*)(FILE *));
static int (*ta_ust_safe_closefrom)(int, int (*)(int));

/* LTTng-UST's close helper when the calling thread's closes are guarded:
 * every thread's but the library's own (watcher, sampler, loader), which
 * close only their own descriptors and would otherwise first touch the
 * helper's per-thread state (liblttng-ust-common's TLS, from malloc) late,
 * and die in the loader if memory had run out by then. */
static int (*ta_guard_close(void))(int, int (*)(int))
{
	int (*safe)(int, int (*)(int)) = __atomic_load_n(&ta_ust_safe_close, __ATOMIC_ACQUIRE);

	return safe && ta_tls.kind != TA_THREAD_LIBRARY ? safe : NULL;
}

#define TA_NEXT(var, name)                                                        \
	do {                                                                      \
		if (TA_UNLIKELY(!__atomic_load_n(&(var), __ATOMIC_ACQUIRE))) {    \
			void *sym = dlsym(RTLD_NEXT, name);                       \
			__atomic_store_n((void **)&(var), sym, __ATOMIC_RELEASE); \
		}                                                                 \
	} while (0)

/* From the library's first constructor: resolved while nothing else runs,
 * never later in a fork child, where a dlsym could wait forever for a lock
 * another thread of the parent held. */
TA_START void ta_fdguard_init(void)
{
	TA_NEXT(ta_next_close, "close");
	TA_NEXT(ta_next_fclose, "fclose");
	TA_NEXT(ta_next_closefrom, "closefrom");
	TA_NEXT(ta_next_close_range, "close_range");
}

void ta_fdguard_arm(void)
{
	void *common = dlopen("liblttng-ust-common.so.1", RTLD_NOW | RTLD_NOLOAD);

	if (!common || !ta_next_close || !ta_next_fclose)
		return; /* resolved by ta_fdguard_init, which ran first */
	*(void **)&ta_ust_alloc_tls = dlsym(common, "lttng_ust_common_alloc_tls");
	*(void **)&ta_ust_safe_fclose = dlsym(common, "lttng_ust_safe_fclose_stream");
	*(void **)&ta_ust_safe_closefrom = dlsym(common, "lttng_ust_safe_closefrom_fd");
	/* last: close is what the others are checked against */
	__atomic_store_n((void **)&ta_ust_safe_close, dlsym(common, "lttng_ust_safe_close_fd"),
	                 __ATOMIC_RELEASE);
}

/*
 * The helpers keep per-thread state in liblttng-ust-common's TLS, which a
 * dlopened library gets on first use, from malloc: a thread whose first
 * close came when memory has run out (at exit, say) would die in the
 * loader ("cannot allocate memory for thread-local data"). Each program
 * thread gets it up front: the thread that loaded LTTng-UST at start, and
 * later threads at their set-up. (Threads that ran before a late load get
 * it at their first close.)
 */
TA_START void ta_fdguard_thread_init(void)
{
	int (*safe)(int, int (*)(int)) = ta_guard_close();
	int saved = errno;

	if (!safe)
		return;
	ta_nest_enter();
	if (ta_ust_alloc_tls)
		ta_ust_alloc_tls();
	(void)safe(-1, ta_next_close); /* the fd tracker's own TLS: EBADF */
	ta_nest_exit();
	errno = saved;
}


TA_START TA_API int close(int fd)
{
	int (*safe)(int, int (*)(int)) = ta_guard_close();

	TA_NEXT(ta_next_close, "close");
	if (!ta_next_close) {
		errno = ENOSYS;
		return -1;
	}
	return safe ? safe(fd, ta_next_close) : ta_next_close(fd);
}

TA_START TA_API int fclose(FILE *stream)
{
	TA_NEXT(ta_next_fclose, "fclose");
	if (!ta_next_fclose) {
		errno = ENOSYS;
		return EOF;
	}
	if (ta_guard_close() && ta_ust_safe_fclose)
		return ta_ust_safe_fclose(stream, ta_next_fclose);
	return ta_next_fclose(stream);
}

TA_API void closefrom(int lowfd)
{
	if (ta_guard_close() && ta_ust_safe_closefrom) {
		(void)ta_ust_safe_closefrom(lowfd, ta_next_close);
		return;
	}
	TA_NEXT(ta_next_closefrom, "closefrom");
	if (ta_next_closefrom)
		ta_next_closefrom(lowfd);
}

/*
 * close_range: with LTTng-UST loaded, each descriptor of the range goes
 * through LTTng-UST's close helper (up to the highest one that can be
 * open); marking the range close-on-exec closes nothing and passes through.
 */
TA_API int close_range(unsigned int first, unsigned int last, int flags)
{
	int (*safe)(int, int (*)(int)) = ta_guard_close();
	long max;

	TA_NEXT(ta_next_close_range, "close_range");
	if (!safe || (flags & CLOSE_RANGE_CLOEXEC) || first > last) {
		if (!ta_next_close_range) {
			errno = ENOSYS;
			return -1;
		}
		return ta_next_close_range(first, last, flags);
	}
	if (flags & ~CLOSE_RANGE_UNSHARE) {
		errno = EINVAL;
		return -1;
	}
	if ((flags & CLOSE_RANGE_UNSHARE) && unshare(CLONE_FILES) != 0)
		return -1;
	max = sysconf(_SC_OPEN_MAX);
	if (max > 0 && last >= (unsigned long)max)
		last = (unsigned int)(max - 1);
	for (unsigned long fd = first; fd <= last; fd++)
		(void)safe((int)fd, ta_next_close);
	return 0;
}
