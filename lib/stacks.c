/* SPDX-License-Identifier: MIT */
/*
 * Capturing a sampled allocation's call stack with libunwind. libunwind is
 * loaded (RTLD_LOCAL: it defines a weak "backtrace" the program must not
 * see) only when sampling is first turned on, never from inside malloc, so
 * that a process that does not sample maps nothing more. Its per-thread
 * cache makes a capture take no lock of libunwind's; what libunwind
 * allocates (TLS of a dlopened library on a thread's first capture) comes
 * back through the wrapper inside the sample's library-internal section,
 * which counts it in root and samples nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "sampling-internal.h"

#if TA_WITH_STACKS
#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* A libunwind name as its header spells it (local-only variants). */
#define TA_UNW_NAME(x) TA_UNW_NAME2(x)
#define TA_UNW_NAME2(x) #x

static int (*ta_unw_backtrace)(void **, int);
#ifdef TA_TSAN
/* Under ThreadSanitizer, libunwind's per-thread caches (unw_backtrace's
 * trace cache, the per-thread caching policy) are freed by pthread key
 * destructors that run after TSan has retired the thread, and crash there:
 * the plain stepping API and the global cache instead. */
static int (*ta_unw_getcontext)(unw_context_t *);
static int (*ta_unw_init_local)(unw_cursor_t *, unw_context_t *);
static int (*ta_unw_step)(unw_cursor_t *);
static int (*ta_unw_get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);

static int ta_unw_walk(void **buf, int size)
{
	unw_context_t ctx;
	unw_cursor_t cur;
	int n = 0;

	if (ta_unw_getcontext(&ctx) != 0 || ta_unw_init_local(&cur, &ctx) != 0)
		return 0;
	while (n < size && ta_unw_step(&cur) > 0) {
		unw_word_t ip;

		if (ta_unw_get_reg(&cur, UNW_REG_IP, &ip) != 0)
			break;
		buf[n++] = (void *)ip;
	}
	return n;
}
#endif
/* libtrackalloc's own code: the frames a capture leaves out. */
static uintptr_t ta_self_lo, ta_self_hi;
static int ta_stacks_state; /* 0 not tried, 1 ready, -1 unavailable */
static pthread_mutex_t ta_stacks_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * libunwind takes locks of its own while it steps through frames, which a
 * fork child would inherit held if another thread was unwinding: captures
 * hold this lock shared, fork takes it exclusive (writers first, so that a
 * stream of captures cannot keep a fork waiting).
 */
static pthread_rwlock_t ta_capture_lock;

/* Writers first. Also in a fork child, as a fresh lock: glibc's rwlock
 * knows its writer by thread id, which the child's one thread does not
 * share with the parent's, so the child cannot unlock what prepare took. */
static void ta_capture_lock_init(void)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&ta_capture_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

double (*ta_log)(double);
double (*ta_expm1)(double);

/* The sampler's two functions of libm, loaded with libunwind: linking libm
 * would map it into every process, sampling or not. */
static void ta_math_load(void)
{
	void *m = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);

	*(void **)&ta_log = m ? dlsym(m, "log") : NULL;
	*(void **)&ta_expm1 = m ? dlsym(m, "expm1") : NULL;
}

static int ta_self_range(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t self = (uintptr_t)arg, lo, hi;

	(void)size;
	if (!ta_object_code(info, &lo, &hi) || self < lo || self >= hi)
		return 0;
	ta_self_lo = lo;
	ta_self_hi = hi;
	return 1;
}

bool ta_stacks_load(void)
{
	int state = __atomic_load_n(&ta_stacks_state, __ATOMIC_ACQUIRE);
	void *h, *policy, *space;

	if (state)
		return state > 0;
	pthread_mutex_lock(&ta_stacks_lock);
	if (!ta_stacks_state) {
		ta_capture_lock_init();
		ta_nest_enter(); /* what the loader allocates counts in root */
		ta_math_load();
		h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
		*(void **)&ta_unw_backtrace = h ? dlsym(h, "unw_backtrace") : NULL;
#ifdef TA_TSAN
		*(void **)&ta_unw_getcontext = h ? dlsym(h, TA_UNW_NAME(unw_tdep_getcontext)) : NULL;
		*(void **)&ta_unw_init_local = h ? dlsym(h, TA_UNW_NAME(unw_init_local)) : NULL;
		*(void **)&ta_unw_step = h ? dlsym(h, TA_UNW_NAME(unw_step)) : NULL;
		*(void **)&ta_unw_get_reg = h ? dlsym(h, TA_UNW_NAME(unw_get_reg)) : NULL;
		if (!ta_unw_getcontext || !ta_unw_init_local || !ta_unw_step || !ta_unw_get_reg)
			ta_unw_backtrace = NULL;
		else
			ta_unw_backtrace = ta_unw_walk;
#endif
		policy = h ? dlsym(h, TA_UNW_NAME(unw_set_caching_policy)) : NULL;
		space = h ? dlsym(h, TA_UNW_NAME(unw_local_addr_space)) : NULL;
#ifndef TA_TSAN /* the per-thread cache's key destructor, as above */
		if (policy && space)
			((int (*)(unw_addr_space_t, unw_caching_policy_t))policy)(
				*(unw_addr_space_t *)space, UNW_CACHE_PER_THREAD);
#else
		(void)policy, (void)space;
#endif
		dl_iterate_phdr(ta_self_range, (void *)(uintptr_t)ta_stacks_load);
		ta_nest_exit();
		__atomic_store_n(&ta_stacks_state,
		                 ta_unw_backtrace && ta_self_hi && ta_log && ta_expm1 ? 1 : -1,
		                 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&ta_stacks_lock);
	return __atomic_load_n(&ta_stacks_state, __ATOMIC_ACQUIRE) > 0;
}

int ta_stack_capture(uint64_t *ips, int max)
{
	return ta_stack_capture_within(ips, max, 24);
}

int ta_stack_capture_within(uint64_t *ips, int max, int own)
{
	void *buf[TA_STACK_MAX + 24];
	int n, i = 0, depth = 0;

	if (max > TA_STACK_MAX)
		max = TA_STACK_MAX;
	if (own > 24)
		own = 24;
	pthread_rwlock_rdlock(&ta_capture_lock);
	n = ta_unw_backtrace(buf, max + own);
	pthread_rwlock_unlock(&ta_capture_lock);
	/* leave out the library's frames on top: the wrapper, the sampler */
	while (i < n && (uintptr_t)buf[i] >= ta_self_lo && (uintptr_t)buf[i] < ta_self_hi)
		i++;
	for (; i < n && depth < max; i++)
		ips[depth++] = (uint64_t)(uintptr_t)buf[i];
	return depth;
}

void ta_stacks_atfork_prepare(void)
{
	if (__atomic_load_n(&ta_stacks_state, __ATOMIC_ACQUIRE) > 0)
		pthread_rwlock_wrlock(&ta_capture_lock);
}

void ta_stacks_atfork_parent(void)
{
	if (__atomic_load_n(&ta_stacks_state, __ATOMIC_ACQUIRE) > 0)
		pthread_rwlock_unlock(&ta_capture_lock);
}

void ta_stacks_atfork_child(bool locked)
{
	if (locked && __atomic_load_n(&ta_stacks_state, __ATOMIC_ACQUIRE) > 0)
		ta_capture_lock_init();
}

#else

double (*ta_log)(double);
double (*ta_expm1)(double);

void ta_stacks_atfork_prepare(void)
{
}

void ta_stacks_atfork_parent(void)
{
}

void ta_stacks_atfork_child(bool locked)
{
	(void)locked;
}

bool ta_stacks_load(void)
{
	return false;
}

int ta_stack_capture(uint64_t *ips, int max)
{
	(void)ips, (void)max;
	return 0;
}

int ta_stack_capture_within(uint64_t *ips, int max, int own)
{
	(void)ips, (void)max, (void)own;
	return 0;
}

#endif
