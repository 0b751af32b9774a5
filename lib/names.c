/* SPDX-License-Identifier: MIT */
/*
 * Thread names and the thread's base group: the group a thread counts in
 * when no guard or bound span is entered. Root, unless a thread rule gives
 * its name a group. A thread reads its own name (it inherited its creator's,
 * as Linux does) at set-up, and again when it is renamed:
 *
 *   by itself      pthread_setname_np(pthread_self(), ...) or
 *                  prctl(PR_SET_NAME): at once, in the interposed call
 *   by another     pthread_setname_np(other, ...), or a new rule set: the
 *                  renamer bumps the target's name_gen and pokes its
 *                  sampling countdown below zero, so the target's next
 *                  allocation takes the countdown's slow path, which looks
 *                  at name_gen. The poke is a plain store racing with the
 *                  owner's own update of its countdown: a lost poke is seen
 *                  at the next real crossing (at most TA_SAMPLE_RECHECK
 *                  bytes later).
 *
 * Nothing here runs per allocation.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rules-internal.h"
#include "sampling-internal.h"
#include "trace-internal.h"

/* Make @gid the thread's base group: the frames that recorded the old base
 * as the group to restore get the new one, and if no bound frame is on the
 * stack it is active now. */
static void ta_thread_set_base(struct ta_tls *t, uint32_t gid)
{
	struct ta_thread *th = t->th;
	uint32_t old = th->base_gid, i;

	if (old == gid)
		return;
	th->base_gid = gid;
	for (i = 0; i < th->depth; i++) {
		struct ta_frame *f = &th->stack[i];

		if (f->prev_gid == old)
			f->prev_gid = gid;
		if (!f->unbound)
			break;
		f->gid = gid;
	}
	/* not during a lib rule's call: its end makes the new base active */
	if (th->bound == 0 && !th->lib_call)
		ta_thread_make_active(t, gid);
}

void ta_names_refresh(struct ta_tls *t)
{
	struct ta_thread *th = t->th;
	char name[17] = "";
	uint32_t gid;

	if (!th || t->state != TA_TLS_LIVE)
		return;
	th->name_seen = __atomic_load_n(&th->name_gen, __ATOMIC_ACQUIRE);
	/* Not known yet whose thread it is: inside the library's own start-up
	 * (nested), or while LTTng-UST starts its threads. Look again at the
	 * next allocation. */
	if (t->kind == TA_THREAD_UNKNOWN &&
	    (t->nesting || (ta_trace_thread_classify(t) && t->kind == TA_THREAD_UNKNOWN))) {
		th->name_seen--;
		ta_countdown_set(t, -1);
		return;
	}
	if (t->kind != TA_THREAD_PROGRAM)
		return; /* LTTng-UST's and the library's threads stay in root */
	ta_nest_enter();
	if (syscall(SYS_prctl, PR_GET_NAME, name, 0, 0, 0) != 0)
		name[0] = '\0';
	gid = ta_rules_thread_gid(name);
	ta_thread_set_base(t, gid == TA_NO_RULE ? 0 : gid);
	ta_nest_exit();
}

/* Ask @th (not the caller) to refresh. Registry lock held: @th is live. */
static void ta_names_poke(struct ta_thread *th)
{
	__atomic_add_fetch(&th->name_gen, 1, __ATOMIC_RELEASE);
	ta_countdown_poke(th->tls);
}

void ta_names_poke_all(void)
{
	struct ta_thread *self = ta_tls.th, *th;

	ta_nest_enter();
	pthread_mutex_lock(&ta_registry_lock);
	cds_list_for_each_entry(th, &ta_threads, node)
		if (th != self)
			ta_names_poke(th);
	pthread_mutex_unlock(&ta_registry_lock);
	ta_nest_exit();
}

/* @target was renamed. */
static void ta_names_renamed(pthread_t target)
{
	struct ta_thread *th;

	if (!__atomic_load_n(&ta_rules_thread_on, __ATOMIC_RELAXED))
		return;
	if (pthread_equal(target, pthread_self())) {
		if (!ta_tls.th)
			return; /* its set-up reads the name */
		ta_names_refresh(&ta_tls);
		return;
	}
	/* A thread not registered yet reads its name at set-up, which comes
	 * after its registration: either it is in the list now or it will
	 * read the new name. */
	ta_nest_enter();
	pthread_mutex_lock(&ta_registry_lock);
	cds_list_for_each_entry(th, &ta_threads, node)
		if (pthread_equal(th->self, target))
			ta_names_poke(th);
	pthread_mutex_unlock(&ta_registry_lock);
	ta_nest_exit();
}

/* ---- the interposed calls ------------------------------------------------ */

static int (*ta_real_setname)(pthread_t, const char *);
static int (*ta_real_prctl)(int, ...);

/* From the first constructor: LTTng-UST's listener threads name themselves
 * while the provider loads, with the loader's lock held, and a dlsym there
 * would wait for it. */
TA_START void ta_names_init(void)
{
	*(void **)&ta_real_setname = dlsym(RTLD_NEXT, "pthread_setname_np");
	*(void **)&ta_real_prctl = dlsym(RTLD_NEXT, "prctl");
}

TA_API int pthread_setname_np(pthread_t target, const char *name)
{
	int r;

	if (!ta_real_setname)
		*(void **)&ta_real_setname = dlsym(RTLD_NEXT, "pthread_setname_np");
	if (!ta_real_setname)
		return ENOSYS;
	r = ta_real_setname(target, name);
	if (r == 0)
		ta_names_renamed(target);
	return r;
}

TA_API int prctl(int option, ...)
{
	unsigned long a2, a3, a4, a5;
	va_list ap;
	int r;

	/* prctl takes up to four more arguments, each an unsigned long or a
	 * pointer: pass on whatever the caller put there, as glibc reads them */
	va_start(ap, option);
	a2 = va_arg(ap, unsigned long);
	a3 = va_arg(ap, unsigned long);
	a4 = va_arg(ap, unsigned long);
	a5 = va_arg(ap, unsigned long);
	va_end(ap);
	if (!ta_real_prctl)
		*(void **)&ta_real_prctl = dlsym(RTLD_NEXT, "prctl");
	if (ta_real_prctl)
		r = ta_real_prctl(option, a2, a3, a4, a5);
	else
		r = (int)syscall(SYS_prctl, option, a2, a3, a4, a5);
	if (r == 0 && option == PR_SET_NAME)
		ta_names_renamed(pthread_self());
	return r;
}
