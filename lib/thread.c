/* SPDX-License-Identifier: MIT */
/*
 * Per-thread state: the counter slots the fast path writes and the thread
 * registry that counter readers walk (the nesting stack that guards and
 * spans push onto is in guards.c).
 *
 * The registry is a liburcu list under ta_registry_lock. Only slow paths take
 * the lock: thread set-up and exit, counter reads, the waits for threads
 * inside a tracker callback or a span-table section, fork. A
 * thread's state is never freed: when the thread exits its counts are folded
 * into the group totals and the state is kept for the next new thread, so a
 * reader or a tracker change never touches freed memory.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>

#include "limits-internal.h"
#include "rules-internal.h"
#include "ta-internal.h"

TA_TLS struct ta_tls ta_tls = { .rule_gid = UINT32_MAX };

CDS_LIST_HEAD(ta_threads);
static CDS_LIST_HEAD(ta_threads_free);
pthread_mutex_t ta_registry_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_key_t ta_thread_key;
static pthread_once_t ta_thread_key_once = PTHREAD_ONCE_INIT;
static uint64_t ta_thread_serial;

static void ta_thread_exit(void *arg);

TA_START static void ta_thread_key_create(void)
{
	(void)pthread_key_create(&ta_thread_key, ta_thread_exit);
}

/* The page of @gid's slot is missing: allocate it. NULL when memory is short. */
TA_START struct ta_slot *ta_thread_slot_alloc(struct ta_thread *th, uint32_t gid)
{
	struct ta_page **pp = &th->pages[gid >> TA_PAGE_SHIFT];
	struct ta_page *pg = ta_inner.calloc(1, sizeof(*pg));

	if (!pg)
		return NULL; /* the caller counts through the totals */
	ta_page_reset(pg);
	/* readers may see the page as soon as it is published */
	__atomic_store_n(pp, pg, __ATOMIC_RELEASE);
	return &pg->slot[gid & (TA_PAGE_SLOTS - 1)];
}

TA_START static struct ta_thread *ta_thread_alloc(struct ta_tls *t)
{
	struct ta_thread *th = NULL;

	pthread_mutex_lock(&ta_registry_lock);
	if (!cds_list_empty(&ta_threads_free)) {
		th = cds_list_entry(ta_threads_free.next, struct ta_thread, node);
		cds_list_del(&th->node);
	}
	pthread_mutex_unlock(&ta_registry_lock);
	if (!th) {
		th = ta_inner.calloc(1, sizeof(*th));
		if (!th)
			return NULL;
	}
	th->serial = __atomic_add_fetch(&ta_thread_serial, 1, __ATOMIC_RELAXED);
	/* a state reused in a fork child may have been left mid-callback */
	th->hook_gen = 0;
	th->rcu_gen = 0;
	th->rcu_nest = 0;
	th->next_seq = 0;
	th->depth = 0;
	th->bound = 0;
	th->lib_call = 0;
	th->base_gid = 0;
	th->name_gen = th->name_seen = 0;
	th->batch_gen = th->batch_seen = 0;
	th->mcache_gen = 0;
	th->self = pthread_self();
	th->tls = t; /* before it is listed: a renamer pokes it through this */
	pthread_mutex_lock(&ta_registry_lock);
	cds_list_add_tail(&th->node, &ta_threads);
	pthread_mutex_unlock(&ta_registry_lock);
	return th;
}

/*
 * First allocation (or enter) of a thread: attach its state. Leaves t->slot
 * NULL when the thread has exited or memory is short; its counts then go
 * straight into the group totals.
 */
TA_START void ta_thread_setup(struct ta_tls *t)
{
	if (t->state == TA_TLS_EXITED)
		return;
	if (t->state == TA_TLS_NEW) {
		struct ta_thread *th = ta_thread_alloc(t);

		if (!th)
			return;
		t->th = th;
		t->state = TA_TLS_LIVE;
		if (TA_UNLIKELY(ta_config.no_cache))
			ta_cache_off(t);
		t->root_slot = ta_thread_slot(th, 0);
		/* The slot must be valid before pthread_setspecific, which may
		 * allocate and come back here. */
		ta_tls_set_slot(t, ta_thread_slot(th, t->gid));
		pthread_once(&ta_thread_key_once, ta_thread_key_create);
		(void)pthread_setspecific(ta_thread_key, th);
		ta_fdguard_thread_init();
		/* the name it inherited may give it a base group */
		if (TA_UNLIKELY(__atomic_load_n(&ta_rules_thread_on, __ATOMIC_RELAXED)))
			ta_names_refresh(t);
	}
	if (!t->slot && t->th)
		ta_tls_set_slot(t, ta_thread_slot(t->th, t->gid));
}

/* Add the counts of @th into the group totals and zero them. Registry lock held. */
static void ta_thread_fold(struct ta_thread *th)
{
	uint32_t p, i;

	for (p = 0; p < TA_PAGES; p++) {
		struct ta_page *pg = th->pages[p];

		if (!pg)
			continue;
		for (i = 0; i < TA_PAGE_SLOTS; i++) {
			struct ta_slot *s = &pg->slot[i];

			if (s->allocated_objects | s->freed_objects | s->held) {
				ta_totals_add((p << TA_PAGE_SHIFT) | i, s);
				ta_peak_fold((p << TA_PAGE_SHIFT) | i, s);
			}
		}
		ta_page_reset(pg);
	}
}

/* pthread key destructor: the thread is going away. */
static void ta_thread_exit(void *arg)
{
	struct ta_thread *th = arg;
	struct ta_tls *t = &ta_tls;

	/* Counts made from here on (later destructors, TLS teardown) go to
	 * the totals. The fold and the unlink happen under the lock that
	 * readers take, so no read sees them half done. */
	t->state = TA_TLS_EXITED;
	t->root_slot = NULL;
	ta_tls_set_slot(t, NULL);
	t->saved_slot = NULL;
	ta_cache_flush(t); /* nothing fills it any more: the fast path is off */
	pthread_mutex_lock(&ta_registry_lock);
	ta_thread_fold(th);
	cds_list_del(&th->node);
	th->depth = 0;
	th->bound = 0;
	cds_list_add(&th->node, &ta_threads_free);
	pthread_mutex_unlock(&ta_registry_lock);
	t->th = NULL;
}

struct ta_waiter {
	uint64_t *gen;
	uint64_t seen;
};

/* Thread states are never freed, so reading one after its thread exited is
 * safe. Each thread seen odd is waited for on its own: a stream of other
 * threads entering sections does not hold the waiter up. */
void ta_threads_quiesce(size_t offset)
{
	struct ta_thread *self = ta_tls.th, *th;
	struct ta_waiter *w;
	size_t n = 0, i = 0;

#define TA_GEN(th) ((uint64_t *)((char *)(th) + offset))
	pthread_mutex_lock(&ta_registry_lock);
	cds_list_for_each_entry(th, &ta_threads, node)
		n++;
	w = ta_inner.malloc((n ? n : 1) * sizeof(*w));
	if (w) {
		cds_list_for_each_entry(th, &ta_threads, node) {
			uint64_t gen = __atomic_load_n(TA_GEN(th), __ATOMIC_SEQ_CST);

			if (th != self && (gen & 1)) {
				w[i].gen = TA_GEN(th);
				w[i++].seen = gen;
			}
		}
	}
	pthread_mutex_unlock(&ta_registry_lock);
	if (!w) {
		/* No room for the list: wait until no other thread is odd. */
		for (;;) {
			int busy = 0;

			pthread_mutex_lock(&ta_registry_lock);
			cds_list_for_each_entry(th, &ta_threads, node)
				busy |= th != self &&
				        (__atomic_load_n(TA_GEN(th), __ATOMIC_SEQ_CST) & 1);
			pthread_mutex_unlock(&ta_registry_lock);
			if (!busy)
				return;
			sched_yield();
		}
	}
#undef TA_GEN
	for (n = i, i = 0; i < n; i++)
		while (__atomic_load_n(w[i].gen, __ATOMIC_ACQUIRE) == w[i].seen)
			sched_yield();
	ta_inner.free(w);
}

/* ---- fork ------------------------------------------------------------- */

void ta_threads_atfork_prepare(void)
{
	pthread_mutex_lock(&ta_registry_lock);
}

void ta_threads_atfork_parent(void)
{
	pthread_mutex_unlock(&ta_registry_lock);
}

/* In the child only the forking thread survives: the others' counts are
 * folded (their live blocks are in the child's memory too) and their states
 * kept for reuse. */
void ta_threads_atfork_child(bool locked)
{
	struct ta_thread *th, *tmp;
	struct ta_thread *self = ta_tls.th;

	if (!locked)
		return; /* single-threaded: no other thread to fold */
	pthread_mutex_unlock(&ta_registry_lock);
	cds_list_for_each_entry_safe(th, tmp, &ta_threads, node) {
		if (th == self)
			continue;
		ta_thread_fold(th);
		cds_list_del(&th->node);
		th->depth = 0;
		th->bound = 0;
		cds_list_add(&th->node, &ta_threads_free);
	}
}
