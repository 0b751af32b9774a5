/* SPDX-License-Identifier: MIT */
/*
 * Span binding: a program's own span ids (requests, tasks, transactions)
 * drive allocation groups.
 *
 * The span table maps a span id to a group id. It is a liburcu lock-free hash
 * table (cds_lfht) with an RCU flavor of this file's own, because urcu-bp's
 * read side cost more than the lookup: an out-of-line call and a
 * global-dynamic TLS access on each of lock and unlock, and a fence when
 * membarrier is not in use. Here a read-side section is two stores to the
 * calling thread's state (odd generation on entry, even on exit), reached
 * through initial-exec TLS; the writer makes them visible with membarrier
 * (private expedited) before it looks for threads inside a section, and waits
 * for each one it sees to leave (ta_threads_quiesce). Without membarrier the
 * reader issues a full fence on entry instead. Every thread that can enter a
 * span already has a registered state, so no registration with liburcu.
 *
 * ta_span_enter looks the id up inside an RCU read-side section, copies the
 * group id into a new frame of the thread's nesting stack (thread.c) and
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
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/membarrier.h>

#include <urcu/flavor.h>
#include <urcu/rculfhash.h>

#include "ta-internal.h"
#include "trace-internal.h"

/*
 * ThreadSanitizer cannot see the ordering liburcu (an uninstrumented
 * library) provides: tell it that publishing an entry happens before reading
 * it, and that every read-side section ends before the grace period that
 * precedes the entry's free.
 */
#if defined(__SANITIZE_THREAD__)
#define TA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TA_TSAN 1
#endif
#endif
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
 * The directory: in front of the table, sets of two ways, each a copy of one
 * binding (id and group id), indexed by hash. A lookup that misses the
 * per-thread cache reads its id's set first, one cache line, and walks the
 * table only when neither way holds the id (another id took its place, or the
 * id is not bound). A way is a sequence lock: the writer makes its sequence
 * odd while it changes the way, and a reader takes the copy only when the
 * sequence was even and did not change around its reads. The directory is
 * replaced whole (the old one freed after a grace period) when the bound ids
 * outgrow it; NULL when it could not be allocated, and then every lookup
 * walks the table.
 */
struct ta_span_way {
	uint32_t seq; /* odd while the writer changes the way */
	uint32_t gid;
	uint64_t id; /* 0: empty */
};
struct ta_span_dir {
	unsigned long mask; /* sets - 1 */
	struct ta_span_way way[][2];
};
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

static inline struct ta_span_way *ta_span_dir_set(struct ta_span_dir *d, unsigned long hash)
{
	return d->way[hash & d->mask];
}

/* Does way @w hold @id? Then its group id is in *@gid. */
static inline bool ta_span_way_read(struct ta_span_way *w, uint64_t id, uint32_t *gid)
{
	uint32_t seq = __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE), g;

	if (__atomic_load_n(&w->id, __ATOMIC_RELAXED) != id)
		return false;
	g = __atomic_load_n(&w->gid, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if ((seq & 1) || __atomic_load_n(&w->seq, __ATOMIC_RELAXED) != seq)
		return false;
	*gid = g;
	return true;
}

/* Is @id (of hash @hash) in the directory? Then its group id is in *@gid.
 * Inside a read-side section. */
static inline bool ta_span_dir_find(unsigned long hash, uint64_t id, uint32_t *gid)
{
	struct ta_span_dir *d = __atomic_load_n(&ta_spans_dir, __ATOMIC_ACQUIRE);
	struct ta_span_way *set;

	if (TA_UNLIKELY(!d))
		return false;
	set = ta_span_dir_set(d, hash);
	return ta_span_way_read(&set[0], id, gid) || ta_span_way_read(&set[1], id, gid);
}

/* The entry bound to @id (of hash @hash) in the table, or NULL. Inside a
 * read-side section. */
static inline struct ta_span *ta_span_lookup(struct cds_lfht *ht, unsigned long hash, uint64_t id)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	cds_lfht_lookup(ht, hash, ta_span_match, &id, &iter);
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

/* ---- the read side ------------------------------------------------------ */

/* Readers fence on entry (no membarrier; under ThreadSanitizer, which does
 * not know membarrier, always). Set before the table is published. */
static int ta_rcu_fences;
/* Read-side sections of liburcu's own resize code (through the flavor):
 * rare, and on threads that may have no state here. */
static uint64_t ta_rcu_anon;

/* Only the owner writes its generation; writers read it. */
static inline void ta_rcu_gen_bump(struct ta_thread *th, int order)
{
	__atomic_store_n(&th->rcu_gen, __atomic_load_n(&th->rcu_gen, __ATOMIC_RELAXED) + 1, order);
}

static inline void ta_rcu_read_lock(struct ta_thread *th)
{
	if (th->rcu_nest++ == 0) {
		ta_rcu_gen_bump(th, __ATOMIC_RELAXED);
		if (TA_UNLIKELY(ta_rcu_fences))
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
		else /* the writer's membarrier stands for the fence */
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
	}
}

static inline void ta_rcu_read_unlock(struct ta_thread *th)
{
	if (--th->rcu_nest == 0)
		ta_rcu_gen_bump(th, __ATOMIC_RELEASE);
}

static long ta_membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0);
}

/* Choose how readers publish their entry. No reader exists yet. */
static void ta_rcu_init(void)
{
#ifdef TA_TSAN
	ta_rcu_fences = 1;
#else
	long cmds = ta_membarrier(MEMBARRIER_CMD_QUERY);

	ta_rcu_fences = !(cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	                  ta_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0);
#endif
}

/*
 * Wait until every read-side section begun before the call has ended. The
 * caller is in none. A reader whose odd generation the scan below misses
 * began its section after the barrier, and so sees every change made to the
 * table before the call.
 */
static void ta_rcu_synchronize(void)
{
	if (ta_rcu_fences)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else if (ta_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
		(void)ta_membarrier(MEMBARRIER_CMD_GLOBAL); /* slower, never refused */
	ta_threads_quiesce(offsetof(struct ta_thread, rcu_gen));
	while (__atomic_load_n(&ta_rcu_anon, __ATOMIC_ACQUIRE))
		sched_yield();
}

/*
 * The flavor liburcu's hash table calls. It takes read-side sections only in
 * resize code, on the resizing thread or on helper threads it joins; those
 * count in ta_rcu_anon (a shared counter: a resize is rare). Nothing here
 * defers work: the table has no lazy resize, so call_rcu is never used and
 * waits in place if it ever is.
 */
static void ta_rcu_flavor_read_lock(void)
{
	__atomic_add_fetch(&ta_rcu_anon, 1, __ATOMIC_SEQ_CST);
}

static void ta_rcu_flavor_read_unlock(void)
{
	__atomic_sub_fetch(&ta_rcu_anon, 1, __ATOMIC_RELEASE);
}

static int ta_rcu_flavor_read_ongoing(void)
{
	struct ta_thread *th = ta_tls.th;

	return (th && th->rcu_nest) || __atomic_load_n(&ta_rcu_anon, __ATOMIC_RELAXED);
}

static void ta_rcu_flavor_nothing(void)
{
}

static void ta_rcu_flavor_call(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
	ta_rcu_synchronize();
	func(head);
}

static void ta_rcu_flavor_defer(void (*fct)(void *p), void *p)
{
	ta_rcu_synchronize();
	fct(p);
}

static void ta_rcu_flavor_atfork(struct urcu_atfork *atfork)
{
	(void)atfork; /* no resize worker: nothing to stop across fork */
}

static const struct rcu_flavor_struct ta_rcu_flavor = {
	.read_lock = ta_rcu_flavor_read_lock,
	.read_unlock = ta_rcu_flavor_read_unlock,
	.read_ongoing = ta_rcu_flavor_read_ongoing,
	.read_quiescent_state = ta_rcu_flavor_nothing,
	.update_call_rcu = ta_rcu_flavor_call,
	.update_synchronize_rcu = ta_rcu_synchronize,
	.update_defer_rcu = ta_rcu_flavor_defer,
	.thread_offline = ta_rcu_flavor_nothing,
	.thread_online = ta_rcu_flavor_nothing,
	.register_thread = ta_rcu_flavor_nothing,
	.unregister_thread = ta_rcu_flavor_nothing,
	.barrier = ta_rcu_flavor_nothing,
	.register_rculfhash_atfork = ta_rcu_flavor_atfork,
	.unregister_rculfhash_atfork = ta_rcu_flavor_atfork,
};

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
	ta_rcu_init();
	ht = cds_lfht_new_flavor(TA_SPAN_BUCKETS_MIN, TA_SPAN_BUCKETS_MIN, TA_SPAN_BUCKETS_MAX, 0,
	                         &ta_rcu_flavor, NULL);
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
	cds_lfht_resize(ht, want);
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

/* Write @id and @gid into way @w. Writer lock held. */
static void ta_span_way_write(struct ta_span_way *w, uint64_t id, uint32_t gid)
{
	uint32_t seq = w->seq;

	__atomic_store_n(&w->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&w->id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&w->gid, gid, __ATOMIC_RELAXED);
	__atomic_store_n(&w->seq, seq + 2, __ATOMIC_RELEASE);
}

/*
 * Copy the binding of @e into its set of @d: into an empty way, or else
 * first, where the previous first moves to the second way (the latest bound
 * id is likely the next entered; the one pushed out is still found in the
 * table). Writer lock held.
 */
static void ta_span_dir_add(struct ta_span_dir *d, unsigned long hash, const struct ta_span *e)
{
	struct ta_span_way *set;

	if (!d)
		return;
	set = ta_span_dir_set(d, hash);
	if (!set[0].id) {
		ta_span_way_write(&set[0], e->id, e->gid);
	} else if (!set[1].id) {
		ta_span_way_write(&set[1], e->id, e->gid);
	} else {
		ta_span_way_write(&set[1], set[0].id, set[0].gid);
		ta_span_way_write(&set[0], e->id, e->gid);
	}
}

/* Take the unbound @id out of the directory. Writer lock held. */
static void ta_span_dir_del(struct ta_span_dir *d, unsigned long hash, uint64_t id)
{
	struct ta_span_way *set;

	if (!d)
		return;
	set = ta_span_dir_set(d, hash);
	for (int w = 0; w < 2; w++)
		if (set[w].id == id)
			ta_span_way_write(&set[w], 0, 0);
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
	struct ta_span *e;

	while (want < ta_spans_count)
		want *= 2;
	while (want > TA_SPAN_DIR_MIN && ta_spans_count < want / 8)
		want /= 2;
	if (want == sets)
		return;
	d = calloc(1, sizeof(*d) + want * sizeof(d->way[0]));
	if (!d)
		return;
	d->mask = want - 1;
	ta_rcu_read_lock(th);
	cds_lfht_for_each_entry (ht, &iter, e, node)
		ta_span_dir_add(d, ta_span_hash(e->id), e);
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
	cds_lfht_add(ht, hash, &e->node);
	ta_rcu_read_unlock(th);
	ta_span_dir_add(ta_spans_dir, hash, e);
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
	ret = e ? cds_lfht_del(ht, &e->node) : -ENOENT;
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
	if (ta_spans_ht && !ta_rcu_fences &&
	    ta_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0)
		ta_rcu_fences = 1;
	if (locked)
		pthread_mutex_unlock(&ta_spans_lock);
}
