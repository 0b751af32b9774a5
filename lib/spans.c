/* SPDX-License-Identifier: MIT */
/*
 * Span binding: a program's own span ids (requests, tasks, transactions)
 * drive allocation groups.
 *
 * The span table maps a span id to a group id. It is a liburcu lock-free hash
 * table (cds_lfht) with the library's own RCU flavor (rcu.c), because
 * urcu-bp's read side cost more than the lookup.
 *
 * ta_span_enter looks the id up inside an RCU read-side section, copies the
 * group id into a new frame of the thread's nesting stack (guards.c) and
 * leaves: no lock, no allocation through the wrapper. ta_span_exit never reads
 * the table: the frame says what to restore, so binding or unbinding a span
 * while threads are inside it changes later enters only.
 *
 * A span is typically entered many times on one thread (an asynchronous task
 * is entered on every poll), and the read-side section plus the lookup cost
 * more than a guard. So each thread remembers its last lookups in a small cache,
 * validated by a stamp: the table is split into stripes by hash, every bind
 * or unbind bumps its id's stripe after changing the table, and a cached
 * lookup counts only while its stripe still holds the value read before the
 * lookup. A hit takes neither the read-side section nor the lookup; changes
 * to other spans invalidate a cached one only when they share its stripe.
 *
 * A lookup that misses the cache (many spans in flight on one thread) reads
 * the directory before the table: a copy of the bindings, two per set and one
 * cache line per lookup, that the writers keep in step with the table. It
 * costs a third of a cds_lfht_lookup, which reverses the hash's bits, calls
 * through pointers and walks a list. An id that lost its set to others (the
 * directory keeps at least one set per bound id) is found in the table.
 *
 * Writers (bind, unbind) are serialized by ta_spans_lock and run as a
 * library-internal section, so that the entries and what liburcu allocates
 * for the table through this library's own malloc count in root and raise no
 * hook (the buckets themselves are mapped memory, not heap). The table is
 * resized by the writer itself, not by liburcu's lazy resize worker (for
 * large tables liburcu splits the work over short-lived threads it joins
 * before returning). An unbound entry is retired, and retired entries are
 * freed in batches after a grace period, so that a program unbinding one span
 * per request does not wait for a grace period each time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>

#include <urcu/rculfhash.h>

#include "rcu-internal.h"
#include "span-dir-internal.h"
#include "ta-internal.h"
#include "trace-internal.h"

/*
 * ThreadSanitizer cannot see the ordering liburcu (an uninstrumented
 * library) provides: tell it that publishing an entry happens before reading
 * it, and that every read-side section ends before the grace period that
 * precedes the entry's free.
 */
#ifdef TA_TSAN
#include <sanitizer/tsan_interface.h>
#define TA_TSAN_RELEASE(p) __tsan_release((void *)(p))
#define TA_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#else
#define TA_TSAN_RELEASE(p) ((void)(p))
#define TA_TSAN_ACQUIRE(p) ((void)(p))
#endif

/*
 * Initial (and smallest) and largest bucket counts, and how many unbound
 * entries wait for one grace period before they are freed together. With a
 * largest count, liburcu keeps the buckets in one reserved range of address
 * space (16 MiB here, mapped in as the table grows) instead of one array per
 * size order, which makes a lookup a quarter cheaper at 1,000 spans. Past a
 * million bound spans, lookups walk longer chains.
 */
#define TA_SPAN_BUCKETS_MIN 64ul
#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer does not scan mapped memory: with the buckets there, every
 * span still bound at exit would show as leaked. Heap bucket arrays. */
#define TA_SPAN_BUCKETS_MAX 0ul
#else
#define TA_SPAN_BUCKETS_MAX (1ul << 20)
#endif
#define TA_SPAN_RETIRE_BATCH 64u
/* Smallest directory (sets of two ways). */
#define TA_SPAN_DIR_MIN 64ul
/* Stripes of the lookup stamps, and lookups each thread remembers. */
#define TA_SPAN_STRIPES 1024u
#define TA_SPAN_CACHED 16u

struct ta_span {
	struct cds_lfht_node node;
	uint64_t id;
	uint32_t gid;
};

/* Published with release once, on the first bind; never freed. */
static struct cds_lfht *ta_spans_ht;

/*
 * liburcu's hash table is loaded with the first bind, not with the library:
 * a process that binds no span maps none of it (about 36 KiB of RSS and one
 * more object to load and relocate at every start). The table is published
 * after these, so whoever sees the table sees them. Filled once, under the
 * writer lock.
 */
static struct {
	__typeof__(_cds_lfht_new) *table_new;
	__typeof__(cds_lfht_lookup) *lookup;
	__typeof__(cds_lfht_add) *add;
	__typeof__(cds_lfht_del) *del;
	__typeof__(cds_lfht_first) *first;
	__typeof__(cds_lfht_next) *next;
	__typeof__(cds_lfht_resize) *resize;
} ta_cds;

static bool ta_cds_load(void)
{
	void *h;

	if (ta_cds.table_new)
		return true;
	h = dlopen(TA_URCU_CDS_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return false;
	*(void **)&ta_cds.lookup = dlsym(h, "cds_lfht_lookup");
	*(void **)&ta_cds.add = dlsym(h, "cds_lfht_add");
	*(void **)&ta_cds.del = dlsym(h, "cds_lfht_del");
	*(void **)&ta_cds.first = dlsym(h, "cds_lfht_first");
	*(void **)&ta_cds.next = dlsym(h, "cds_lfht_next");
	*(void **)&ta_cds.resize = dlsym(h, "cds_lfht_resize");
	if (!ta_cds.lookup || !ta_cds.add || !ta_cds.del || !ta_cds.first || !ta_cds.next ||
	    !ta_cds.resize)
		return false; /* not the liburcu we were built against: stays loaded */
	*(void **)&ta_cds.table_new = dlsym(h, "_cds_lfht_new");
	return ta_cds.table_new != NULL;
}

static struct ta_span_dir *ta_spans_dir;

/* Writer state, under ta_spans_lock. */
static pthread_mutex_t ta_spans_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long ta_spans_count;   /* bound ids */
static unsigned long ta_spans_buckets; /* the size last asked of the table */
static struct ta_span *ta_spans_retired[TA_SPAN_RETIRE_BATCH];
static unsigned ta_spans_nretired;

/* Bumped (release) by the writer after each change to an id of the stripe. */
static uint64_t ta_spans_stamp[TA_SPAN_STRIPES] __attribute__((aligned(64)));

/* One remembered lookup: @id was bound to @gid (or not, !@bound) when the
 * stamp of its stripe was @stamp. An id of 0 never matches. */
struct ta_span_cached {
	uint64_t id;
	uint64_t stamp;
	uint32_t gid;
	uint32_t bound;
};

static TA_TLS struct ta_span_cached ta_span_cache[TA_SPAN_CACHED];

/* Stands for "every read-side section so far" in the TSan annotations. */
static char ta_spans_grace;

/*
 * ids may be sequential, or differ only in their high bits: a multiply
 * spreads every bit of the id over the high half, which is folded into the
 * low half (the bucket index, the stripe) and stays in the high half (the
 * per-thread cache index). One multiply: the hash is on every enter.
 */
static inline unsigned long ta_span_hash(uint64_t id)
{
	id *= 0x9e3779b97f4a7c15ull;
	return (unsigned long)(id ^ (id >> 32));
}

static int ta_span_match(struct cds_lfht_node *node, const void *key)
{
	struct ta_span *e = caa_container_of(node, struct ta_span, node);

	TA_TSAN_ACQUIRE(e);
	return e->id == *(const uint64_t *)key;
}

static inline uint64_t *ta_span_stripe(unsigned long hash)
{
	return &ta_spans_stamp[hash % TA_SPAN_STRIPES];
}

static inline struct ta_span_cached *ta_span_cached(unsigned long hash)
{
	return &ta_span_cache[(hash >> 32) % TA_SPAN_CACHED];
}

/* Is @id (of hash @hash) in the directory? Then its group id is in *@gid.
 * Inside a read-side section. */
static inline bool ta_span_dir_find(unsigned long hash, uint64_t id, uint32_t *gid)
{
	struct ta_span_dir *d = __atomic_load_n(&ta_spans_dir, __ATOMIC_ACQUIRE);

	if (TA_UNLIKELY(!d))
		return false;
	return ta_span_dir_read(d, hash, id, gid);
}

/* The entry bound to @id (of hash @hash) in the table, or NULL. Inside a
 * read-side section. */
static inline struct ta_span *ta_span_lookup(struct cds_lfht *ht, unsigned long hash, uint64_t id)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	ta_cds.lookup(ht, hash, ta_span_match, &id, &iter);
	node = cds_lfht_iter_get_node(&iter);
	return node ? caa_container_of(node, struct ta_span, node) : NULL;
}

/* Is @id (of hash @hash) bound? Then its group id is in *@gid. The
 * directory first, the table when the directory does not hold it. Inside a
 * read-side section. */
static inline bool ta_span_find(struct cds_lfht *ht, unsigned long hash, uint64_t id,
                                uint32_t *gid)
{
	struct ta_span *e;

	if (ta_span_dir_find(hash, id, gid))
		return true;
	e = ta_span_lookup(ht, hash, id);
	if (e)
		*gid = e->gid;
	return e != NULL;
}

/* This thread's state, set up on its first use; NULL when memory is short. */
static inline struct ta_thread *ta_rcu_reader(void)
{
	struct ta_tls *t = &ta_tls;

	if (TA_UNLIKELY(!t->th))
		ta_thread_setup(t);
	return t->th;
}

/* ---- writers ------------------------------------------------------------ */

/* Create the table on the first bind. Writer lock held. */
static struct cds_lfht *ta_spans_table(void)
{
	struct cds_lfht *ht = ta_spans_ht;

	if (ht)
		return ht;
	if (!ta_cds_load())
		return NULL;
	ta_rcu_init();
	ta_reserve_enter(); /* liburcu asserts on a failed calloc */
	ht = ta_cds.table_new(TA_SPAN_BUCKETS_MIN, TA_SPAN_BUCKETS_MIN, TA_SPAN_BUCKETS_MAX, 0,
	                      NULL, &ta_rcu_flavor, NULL);
	ta_reserve_exit();
	if (!ht)
		return NULL;
	ta_spans_buckets = TA_SPAN_BUCKETS_MIN;
	__atomic_store_n(&ta_spans_ht, ht, __ATOMIC_RELEASE);
	return ht;
}

/*
 * Keep about one bucket per bound id: double when the ids outnumber the
 * buckets, halve when they fill less than an eighth. Resizing waits for
 * grace periods: never from inside a read-side section. Writer lock held.
 */
static void ta_spans_resize(struct cds_lfht *ht)
{
	unsigned long want = ta_spans_buckets;

	if (ta_spans_count > want && (!TA_SPAN_BUCKETS_MAX || want < TA_SPAN_BUCKETS_MAX))
		want *= 2;
	else if (want > TA_SPAN_BUCKETS_MIN && ta_spans_count < want / 8)
		want /= 2;
	if (want == ta_spans_buckets)
		return;
	ta_spans_buckets = want;
	ta_reserve_enter(); /* as for the table's creation */
	ta_cds.resize(ht, want);
	ta_reserve_exit();
}

/* Free the retired entries once no reader can still see them. Writer lock
 * held, outside any read-side section. */
static void ta_spans_reclaim(void)
{
	unsigned i;

	ta_rcu_synchronize();
	TA_TSAN_ACQUIRE(&ta_spans_grace);
	for (i = 0; i < ta_spans_nretired; i++)
		free(ta_spans_retired[i]);
	ta_spans_nretired = 0;
}

/*
 * Keep at least one set per bound id: double when the ids outnumber the
 * sets, halve when they fill less than an eighth. The new directory is
 * filled from the table and published whole; the old one is freed after a
 * grace period. Without memory for a new one, the old one stays: it misses
 * more often, it is never wrong. Writer lock held, outside any read-side
 * section.
 */
static void ta_spans_dir_fit(struct cds_lfht *ht, struct ta_thread *th)
{
	struct ta_span_dir *old = ta_spans_dir, *d;
	unsigned long sets = old ? old->mask + 1 : 0, want = sets ? sets : TA_SPAN_DIR_MIN;
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	struct ta_span *e;

	while (want < ta_spans_count)
		want *= 2;
	while (want > TA_SPAN_DIR_MIN && ta_spans_count < want / 8)
		want /= 2;
	if (want == sets)
		return;
	d = ta_span_dir_new(want);
	if (!d)
		return;
	ta_rcu_read_lock(th);
	for (ta_cds.first(ht, &iter); (node = cds_lfht_iter_get_node(&iter)); ta_cds.next(ht, &iter)) {
		e = caa_container_of(node, struct ta_span, node);
		ta_span_dir_add(d, ta_span_hash(e->id), e->id, e->gid);
	}
	ta_rcu_read_unlock(th);
	__atomic_store_n(&ta_spans_dir, d, __ATOMIC_RELEASE);
	if (old) {
		ta_rcu_synchronize();
		TA_TSAN_ACQUIRE(&ta_spans_grace);
		free(old);
	}
}

/* Invalidate the cached lookups of the ids sharing @hash's stripe. Writer
 * lock held, after the table changed. */
static void ta_span_stripe_bump(unsigned long hash)
{
	uint64_t *stamp = ta_span_stripe(hash);

	__atomic_store_n(stamp, __atomic_load_n(stamp, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

static int ta_span_bind_locked(uint64_t span_id, uint32_t gid)
{
	struct ta_thread *th = ta_rcu_reader();
	struct cds_lfht *ht = th ? ta_spans_table() : NULL;
	unsigned long hash = ta_span_hash(span_id);
	struct ta_span *e;

	if (!ht)
		return -ENOMEM;
	ta_rcu_read_lock(th);
	e = ta_span_lookup(ht, hash, span_id);
	ta_rcu_read_unlock(th);
	if (e) /* stable: only writers change the table, and we are the one */
		return e->gid == gid ? 0 : -EEXIST;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	cds_lfht_node_init(&e->node);
	e->id = span_id;
	e->gid = gid;
	TA_TSAN_RELEASE(e);
	ta_rcu_read_lock(th);
	ta_cds.add(ht, hash, &e->node);
	ta_rcu_read_unlock(th);
	ta_span_dir_add(ta_spans_dir, hash, e->id, e->gid);
	ta_span_stripe_bump(hash);
	ta_spans_count++;
	ta_trace_span(TA_SPAN_BIND, span_id, gid);
	ta_spans_resize(ht);
	ta_spans_dir_fit(ht, th);
	return 0;
}

TA_API int ta_span_bind(uint64_t span_id, ta_group *g)
{
	int ret;

	if (!span_id || !g || ta_group_by_id(g->id) != g)
		return -EINVAL;
	ta_nest_enter();
	pthread_mutex_lock(&ta_spans_lock);
	ret = ta_span_bind_locked(span_id, g->id);
	pthread_mutex_unlock(&ta_spans_lock);
	ta_nest_exit();
	return ret;
}

static int ta_span_unbind_locked(uint64_t span_id)
{
	struct cds_lfht *ht = ta_spans_ht;
	unsigned long hash = ta_span_hash(span_id);
	struct ta_thread *th;
	struct ta_span *e;
	int ret;

	if (!ht)
		return -ENOENT;
	th = ta_rcu_reader();
	if (!th)
		return -ENOMEM;
	ta_rcu_read_lock(th);
	e = ta_span_lookup(ht, hash, span_id);
	ret = e ? ta_cds.del(ht, &e->node) : -ENOENT;
	ta_rcu_read_unlock(th);
	if (ret)
		return -ENOENT; /* del cannot fail with writers serialized */
	ta_span_dir_del(ta_spans_dir, hash, span_id);
	ta_span_stripe_bump(hash);
	ta_spans_count--;
	ta_trace_span(TA_SPAN_UNBIND, span_id, e->gid);
	ta_spans_retired[ta_spans_nretired++] = e;
	if (ta_spans_nretired == TA_SPAN_RETIRE_BATCH)
		ta_spans_reclaim();
	ta_spans_resize(ht);
	ta_spans_dir_fit(ht, th);
	return 0;
}

TA_API int ta_span_unbind(uint64_t span_id)
{
	int ret;

	if (!span_id)
		return -EINVAL;
	ta_nest_enter();
	pthread_mutex_lock(&ta_spans_lock);
	ret = ta_span_unbind_locked(span_id);
	pthread_mutex_unlock(&ta_spans_lock);
	ta_nest_exit();
	return ret;
}

/* ---- readers: enter and exit -------------------------------------------- */

/*
 * Look @span_id up in the table and remember the answer, stamped with
 * @stamp: the value of its stripe read before the lookup. A writer changes
 * the table before it bumps the stripe, so if the stripe still holds @stamp
 * at a later enter, no bind or unbind of this id has completed since the
 * lookup, and the answer still stands.
 */
static struct ta_span_cached *ta_span_resolve(struct ta_span_cached *c, unsigned long hash,
                                              uint64_t span_id, uint64_t stamp)
{
	struct cds_lfht *ht = __atomic_load_n(&ta_spans_ht, __ATOMIC_ACQUIRE);
	struct ta_thread *th;
	bool bound = false;

	c->gid = 0;
	if (ht) {
		th = ta_rcu_reader();
		if (TA_UNLIKELY(!th)) { /* no memory: remember nothing */
			c->bound = 0;
			c->id = 0;
			return c;
		}
		ta_rcu_read_lock(th);
		bound = ta_span_find(ht, hash, span_id, &c->gid);
		TA_TSAN_RELEASE(&ta_spans_grace);
		ta_rcu_read_unlock(th);
	}
	c->bound = bound;
	c->stamp = stamp;
	c->id = span_id;
	return c;
}

TA_API int ta_span_enter(uint64_t span_id)
{
	unsigned long hash = ta_span_hash(span_id);
	uint64_t stamp = __atomic_load_n(ta_span_stripe(hash), __ATOMIC_ACQUIRE);
	struct ta_span_cached *c = ta_span_cached(hash);
	struct ta_frame *f;

	if (TA_UNLIKELY(!span_id))
		return -EINVAL;
	if (TA_UNLIKELY(c->id != span_id || c->stamp != stamp))
		c = ta_span_resolve(c, hash, span_id, stamp);
	/* An unbound span still gets a frame, so that its exit balances. */
	f = ta_frame_push(c->gid, span_id, !c->bound);
	if (TA_UNLIKELY(!f))
		return -errno; /* ENOSPC (TA_NEST_MAX) or ENOMEM */
	if (TA_UNLIKELY(!c->bound))
		return -ENOENT;
	ta_trace_span(TA_SPAN_ENTER, span_id, f->gid);
	return 0;
}

/* The span_exit event carries the group the thread returns to. */
static void ta_span_trace_exit(const struct ta_frame *f)
{
	if (!f->unbound)
		ta_trace_span(TA_SPAN_EXIT, f->span_id, f->prev_gid);
}

/*
 * Exits are LIFO. When @span_id is not the innermost frame:
 *  - the innermost frame is a guard, or @span_id is nowhere on this thread's
 *    stack: -EINVAL, nothing changes (a span exit never closes the scope of
 *    a guard that is still the innermost);
 *  - otherwise the innermost frame is another span and @span_id is found
 *    lower: the thread unwinds to the nearest frame of @span_id, exactly like
 *    an out-of-order guard exit, returns to the group that was active before
 *    that enter, every frame above it becomes stale, and the call returns
 *    -EINVAL.
 */
TA_API int ta_span_exit(uint64_t span_id)
{
	uint32_t depth = ta_frame_depth(), d;
	struct ta_frame *f = ta_frame_at(depth);

	if (TA_UNLIKELY(!span_id || !f || !f->span_id))
		return -EINVAL;
	if (TA_LIKELY(f->span_id == span_id)) {
		int ret = f->unbound ? -ENOENT : 0;

		ta_span_trace_exit(f);
		ta_frame_unwind(depth);
		return ret;
	}
	for (d = depth - 1; d > 0; d--)
		if (ta_frame_at(d)->span_id == span_id)
			break;
	if (!d)
		return -EINVAL;
	/* Close the spans above it in the trace too, innermost first. */
	for (; depth >= d; depth--) {
		f = ta_frame_at(depth);
		if (f->span_id)
			ta_span_trace_exit(f);
	}
	ta_frame_unwind(d);
	return -EINVAL;
}

/* ---- fork --------------------------------------------------------------- */

/*
 * The child's only thread is the one that took the lock in prepare: it
 * unlocks it rather than initializing a locked mutex anew, which
 * ThreadSanitizer would take for a lock still held (and report every later
 * lock as a double lock). The other threads' states left the registry
 * (thread.c), so no grace period waits for them. A membarrier registration
 * belongs to the parent's address space: the child registers again, or its
 * readers fence from now on (it has no other thread yet to disagree).
 */
void ta_spans_atfork_prepare(void)
{
	pthread_mutex_lock(&ta_spans_lock);
}

void ta_spans_atfork_parent(void)
{
	pthread_mutex_unlock(&ta_spans_lock);
}

void ta_spans_atfork_child(bool locked)
{
	if (ta_spans_ht)
		ta_rcu_atfork_child();
	if (locked)
		pthread_mutex_unlock(&ta_spans_lock);
}
