/* SPDX-License-Identifier: MIT */
/*
 * Compact full traces: each thread packs its calls into a record stream of
 * its own (the format is tracepoints/EVENTS.md's), held in a ring of
 * TA_BATCH_RING bytes and written out as trackalloc:batch events.
 *
 * Who writes what. The owner thread alone appends, and publishes how far
 * it got (head, a release store: a plain store on x86). A buffer is written
 * out under its lock, by the owner when it starts a new chunk, by the
 * watcher every period (a thread that went quiet, a session about to stop),
 * and by exec, _exit and process exit; the lock keeps a stream's events in
 * stream order. So an append takes no lock, makes no syscall and no atomic
 * read-modify-write: a TSC read, a few bytes, one store.
 *
 * Chunks. A record never crosses a multiple of TA_BATCH_CHUNK of its
 * stream, and each chunk starts with a SYNC (the full decoder state), so
 * a reader that lost an event picks the stream up at the next chunk. A
 * record that follows a complete write-out (a quiet thread, the watcher's
 * last look) gets a SYNC too: a batch that starts with one reads alone. The
 * ring holds several chunks: the owner goes on while another thread writes
 * its buffer out, and waits for the lock only when the ring is full.
 *
 * Where the buffer cannot be used (the thread has not got one yet and
 * cannot, it is past its exit, or a signal handler interrupted the append)
 * the record is written out alone, as a standalone batch.
 *
 * Life cycle. Buffers are never freed: a thread's exit writes its buffer out
 * and leaves it for the next new thread, so the watcher never reads freed
 * memory. Each time trackalloc:batch turns enabled the epoch moves, and
 * every stream goes on with a SYNC: its state is not one a new session's
 * reader could know. A fork child keeps the forking thread's
 * buffer as a new stream (offset 0) and drops the others: their records
 * are the parent's to write.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "batch-enc.h"
#include "batch-internal.h"
#include "trace-internal.h"

#define TA_BATCH_RING (4 * TA_BATCH_CHUNK)

struct ta_batch {
	struct ta_batch *next; /* in ta_batches, for good */
	pthread_mutex_t lock;  /* writing out */
	uint64_t head;         /* stream bytes appended (owner; release) */
	uint64_t tail;         /* stream bytes written out (under lock) */
	uint32_t tid;
	int owned;             /* a live thread has it (under ta_batches_lock) */
	/* the owner's: the encoder's state, and "inside an append" */
	struct ta_enc e;
	uint64_t epoch;
	uint32_t busy;
	uint64_t out[TA_BATCH_CHUNK / 8 + 1]; /* an event's words (under lock) */
	/* the clock pair of the stream's last event (under lock; 0: none yet):
	 * the next event's base, so that its records' times are interpolated
	 * over the interval they were made in, not since the start (this
	 * machine's TSC and CLOCK_MONOTONIC drift apart by tens of
	 * microseconds over 100 ms) */
	uint64_t pair[2];
	unsigned char ring[TA_BATCH_RING];
};

static pthread_mutex_t ta_batches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ta_batch *ta_batches;
static pthread_key_t ta_batch_key;
static pthread_once_t ta_batch_key_once = PTHREAD_ONCE_INIT;

enum { TA_BATCH_NONE, TA_BATCH_OWN, TA_BATCH_BUSY, TA_BATCH_GONE };
static TA_TLS struct ta_batch *ta_batch_self;
static TA_TLS int ta_batch_state;

static uint64_t ta_batch_epoch;     /* moves when the event turns enabled */
static int ta_batch_final;          /* past the exit's last write-out */
static uint64_t ta_tsc_base, ta_ns_base;

static inline uint64_t ta_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static uint64_t ta_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A (ticks, CLOCK_MONOTONIC ns) pair read as close together as it can be:
 * the ticks halfway through the clock read, the tightest of a few tries
 * (a read the scheduler cut in two would skew every record's time). */
static void ta_clock_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t t1 = ta_ticks(), n = ta_mono_ns(), t2 = ta_ticks();

		if (t2 - t1 < best) {
			best = t2 - t1;
			*tsc = t1 + (t2 - t1) / 2;
			*ns = n;
		}
	}
}

/* ---- writing out ----------------------------------------------------------- */

static void ta_batch_emit(uint32_t tid, uint64_t offset, const void *bytes, uint32_t len,
                          uint64_t *words, uint64_t *pair)
{
	uint32_t nwords = (len + 7) / 8;
	uint64_t tsc, ns, base_tsc = ta_tsc_base, base_ns = ta_ns_base;

	if (words != bytes) {
		words[nwords - 1] = 0;
		memcpy(words, bytes, len);
	}
	ta_nest_enter();
	ta_clock_pair(&tsc, &ns);
	if (pair && pair[0] && tsc - pair[0] < tsc - base_tsc) {
		base_tsc = pair[0];
		base_ns = pair[1];
	}
	lttng_ust_tracepoint(trackalloc, batch, tid, offset, len, tsc, ns, base_tsc, base_ns, words,
	                     nwords);
	if (pair) {
		pair[0] = tsc;
		pair[1] = ns;
	}
	ta_nest_exit();
}

/* Write out @b's stream up to @limit, one event per piece of a chunk. The
 * buffer's lock is held. */
static void ta_batch_write_out(struct ta_batch *b, uint64_t limit)
{
	uint64_t tail = b->tail;

	while (tail < limit) {
		uint64_t end = (tail | (TA_BATCH_CHUNK - 1)) + 1;

		if (end > limit)
			end = limit;
		ta_batch_emit(b->tid, tail, b->ring + (tail & (TA_BATCH_RING - 1)),
		              (uint32_t)(end - tail), b->out, b->pair);
		tail = end;
		__atomic_store_n(&b->tail, tail, __ATOMIC_RELEASE);
	}
}

static void ta_batch_flush(struct ta_batch *b)
{
	pthread_mutex_lock(&b->lock);
	ta_batch_write_out(b, __atomic_load_n(&b->head, __ATOMIC_ACQUIRE));
	pthread_mutex_unlock(&b->lock);
}

/* The owner is about to write a record that needs a SYNC before it: the
 * first of a chunk, one that would cross into the next chunk (pad to it,
 * make room for it in the ring, writing out what is complete), one after
 * the buffer was written out completely, or the first of a new epoch (a
 * batch that starts with a SYNC reads without the batches before it: a
 * session that starts while another one records, or a reader that lost
 * some). Returns where the record goes. */
static uint64_t __attribute__((noinline, cold)) ta_batch_turn(struct ta_batch *b, uint64_t pos,
                                                              uint64_t now, uint32_t cur)
{
	uint64_t in = pos & (TA_BATCH_CHUNK - 1);

	if (in && in + TA_REC_MAX > TA_BATCH_CHUNK) {
		memset(b->ring + (pos & (TA_BATCH_RING - 1)), 0, TA_BATCH_CHUNK - in);
		pos += TA_BATCH_CHUNK - in;
		__atomic_store_n(&b->head, pos, __ATOMIC_RELEASE);
		in = 0;
	}
	if (!in && pos > b->tail) {
		/* the chunks before this one are complete: out they go, unless
		 * another thread is at it and the ring still has room */
		if (pos + TA_BATCH_CHUNK - __atomic_load_n(&b->tail, __ATOMIC_ACQUIRE) >
		    TA_BATCH_RING) {
			pthread_mutex_lock(&b->lock);
			ta_batch_write_out(b, pos);
			pthread_mutex_unlock(&b->lock);
		} else if (pthread_mutex_trylock(&b->lock) == 0) {
			ta_batch_write_out(b, pos);
			pthread_mutex_unlock(&b->lock);
		}
	}
	b->epoch = __atomic_load_n(&ta_batch_epoch, __ATOMIC_RELAXED);
	pos += (uint64_t)(ta_put_sync(b->ring + (pos & (TA_BATCH_RING - 1)), &b->e, now, cur) -
	                  (b->ring + (pos & (TA_BATCH_RING - 1))));
	return pos;
}

/* ---- the thread's buffer ---------------------------------------------------- */

static void ta_batch_thread_exit(void *arg)
{
	struct ta_batch *b = arg;

	/* later records (other destructors, TLS teardown) go out alone */
	ta_batch_state = TA_BATCH_GONE;
	ta_batch_self = NULL;
	ta_batch_flush(b);
	pthread_mutex_lock(&ta_batches_lock);
	b->owned = 0;
	pthread_mutex_unlock(&ta_batches_lock);
}

static void ta_batch_key_create(void)
{
	(void)pthread_key_create(&ta_batch_key, ta_batch_thread_exit);
}

static void ta_batch_reset(struct ta_batch *b, uint32_t tid)
{
	b->head = b->tail = 0;
	b->tid = tid;
	b->e.tsc = b->e.prev = 0;
	b->e.step = TA_TICK_STEP;
	b->e.cur = 0;
	b->busy = 0;
	b->pair[0] = b->pair[1] = 0;
	b->epoch = __atomic_load_n(&ta_batch_epoch, __ATOMIC_RELAXED);
}

/* A thread's first record: take a buffer left by an exited thread, or make
 * one. NULL when memory is short (its records then go out alone). */
static struct ta_batch *__attribute__((noinline, cold)) ta_batch_take(void)
{
	struct ta_batch *b;

	ta_batch_state = TA_BATCH_BUSY; /* a nested call goes out alone */
	ta_nest_enter();
	pthread_mutex_lock(&ta_batches_lock);
	for (b = ta_batches; b && b->owned; b = b->next)
		;
	if (!b) {
		b = ta_inner.malloc(sizeof(*b));
		if (b) {
			pthread_mutex_init(&b->lock, NULL);
			b->next = ta_batches;
			__atomic_store_n(&ta_batches, b, __ATOMIC_RELEASE);
		}
	}
	if (b) {
		pthread_mutex_lock(&b->lock);
		ta_batch_reset(b, (uint32_t)gettid());
		pthread_mutex_unlock(&b->lock);
		b->owned = 1;
	}
	pthread_mutex_unlock(&ta_batches_lock);
	if (b) {
		pthread_once(&ta_batch_key_once, ta_batch_key_create);
		if (pthread_setspecific(ta_batch_key, b) != 0) {
			/* no exit hook: give it back, go out alone */
			pthread_mutex_lock(&ta_batches_lock);
			b->owned = 0;
			pthread_mutex_unlock(&ta_batches_lock);
			b = NULL;
		}
	}
	ta_nest_exit();
	ta_batch_self = b;
	ta_batch_state = b ? TA_BATCH_OWN : TA_BATCH_GONE;
	return b;
}

/* The record cannot go into the thread's buffer: out it goes alone. */
static void __attribute__((noinline, cold)) ta_batch_alone(int kind, void *a, void *c, size_t s1,
                                                           size_t s2, uint32_t g1, uint32_t g2)
{
	uint64_t words[(TA_REC_MAX + 16) / 8 + 1];
	unsigned char *p = (unsigned char *)words, *end;
	uint64_t now = ta_ticks();
	struct ta_enc e;

	memset(words, 0, sizeof(words));
	end = ta_put_sync(p, &e, now, kind == TA_REC_FREE ? g2 : g1);
	if (kind == TA_REC_ALLOC)
		end = ta_enc_alloc(end, &e, now, a, s1, s2, g1);
	else if (kind == TA_REC_FREE)
		end = ta_enc_free(end, &e, now, a, s1, g1, g2);
	else
		end = ta_enc_realloc(end, &e, now, a, c, s1, s2, g1, g2);
	ta_batch_emit((uint32_t)gettid(), UINT64_MAX, words, (uint32_t)(end - p), words, NULL);
}

/* The buffer to append to, busy, and where the record goes; NULL: alone. */
static TA_INLINE struct ta_batch *ta_batch_open(uint64_t now, uint32_t cur, uint64_t *pos)
{
	struct ta_batch *b = ta_batch_self;
	uint64_t at;

	if (TA_UNLIKELY(!b)) {
		if (ta_batch_state != TA_BATCH_NONE ||
		    __atomic_load_n(&ta_batch_final, __ATOMIC_RELAXED) || !(b = ta_batch_take()))
			return NULL;
	}
	if (TA_UNLIKELY(b->busy))
		return NULL; /* a signal handler interrupted the append */
	b->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	at = b->head;
	/* a chunk's first record, one that would cross into the next chunk,
	 * the first after a complete write-out, or of a new epoch */
	if (TA_UNLIKELY((((at - 1) ^ (at + TA_REC_MAX - 1)) & ~(uint64_t)(TA_BATCH_CHUNK - 1)) ||
	                at == __atomic_load_n(&b->tail, __ATOMIC_RELAXED) ||
	                b->epoch != __atomic_load_n(&ta_batch_epoch, __ATOMIC_RELAXED)))
		at = ta_batch_turn(b, at, now, cur);
	*pos = at;
	return b;
}

static TA_INLINE void ta_batch_close(struct ta_batch *b, uint64_t pos, unsigned char *start,
                                     unsigned char *end)
{
	__atomic_store_n(&b->head, pos + (uint64_t)(end - start), __ATOMIC_RELEASE);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	b->busy = 0;
}

#define TA_RING_AT(b, pos) ((b)->ring + ((pos) & (TA_BATCH_RING - 1)))

void ta_pack_alloc(void *ptr, size_t size, size_t align, uint32_t gid)
{
	uint64_t now = ta_ticks(), pos;
	struct ta_batch *b = ta_batch_open(now, gid, &pos);
	unsigned char *p;

	if (TA_UNLIKELY(!b))
		return ta_batch_alone(TA_REC_ALLOC, ptr, NULL, size, align, gid, 0);
	p = TA_RING_AT(b, pos);
	ta_batch_close(b, pos, p, ta_enc_alloc(p, &b->e, now, ptr, size, align, gid));
}

void ta_pack_free(void *ptr, size_t size, uint32_t src, uint32_t cur)
{
	uint64_t now = ta_ticks(), pos;
	struct ta_batch *b = ta_batch_open(now, cur, &pos);
	unsigned char *p;

	if (TA_UNLIKELY(!b))
		return ta_batch_alone(TA_REC_FREE, ptr, NULL, size, 0, src, cur);
	p = TA_RING_AT(b, pos);
	ta_batch_close(b, pos, p, ta_enc_free(p, &b->e, now, ptr, size, src, cur));
}

void ta_pack_realloc(void *in, void *out, size_t old_size, size_t size, uint32_t src,
                      uint32_t gid)
{
	uint64_t now = ta_ticks(), pos;
	struct ta_batch *b = ta_batch_open(now, gid, &pos);
	unsigned char *p;

	if (TA_UNLIKELY(!b))
		return ta_batch_alone(TA_REC_REALLOC, in, out, old_size, size, src, gid);
	p = TA_RING_AT(b, pos);
	ta_batch_close(b, pos, p,
	               ta_enc_realloc(p, &b->e, now, in, out, old_size, size, src, gid));
}

/* The thread emits an event of its own (a guard, a span): its next record
 * carries its exact time, so that it reads after that event. */
void ta_batch_mark(void)
{
	struct ta_batch *b = ta_batch_self;

	if (b)
		b->e.step = 0;
}

/* ---- the watcher, exit, exec, fork ----------------------------------------- */

static void ta_batch_each(void (*fn)(struct ta_batch *))
{
	struct ta_batch *b;

	pthread_mutex_lock(&ta_batches_lock);
	for (b = ta_batches; b; b = b->next)
		if (b->owned)
			fn(b);
	pthread_mutex_unlock(&ta_batches_lock);
}

/* Drop what a buffer holds: the event is off, nobody records it. */
static void ta_batch_drop(struct ta_batch *b)
{
	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->tail, __atomic_load_n(&b->head, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&b->lock);
}

void ta_batch_poll(bool flush)
{
	int on = ta_tp_state(batch) != 0;
	int was = (__atomic_load_n(&ta_tracker_active, __ATOMIC_RELAXED) & TA_HOOK_BATCH) != 0;

	if (on && !was) {
		if (!ta_tsc_base) {
			uint64_t tsc, ns;

			ta_clock_pair(&tsc, &ns);
			ta_ns_base = ns;
			__atomic_store_n(&ta_tsc_base, tsc, __ATOMIC_RELEASE);
		}
		__atomic_add_fetch(&ta_batch_epoch, 1, __ATOMIC_RELAXED);
		__atomic_or_fetch(&ta_tracker_active, TA_HOOK_BATCH, __ATOMIC_SEQ_CST);
	} else if (!on && was) {
		__atomic_and_fetch(&ta_tracker_active, ~TA_HOOK_BATCH, __ATOMIC_SEQ_CST);
		ta_batch_each(ta_batch_drop);
	}
	if (on && flush)
		ta_batch_each(ta_batch_flush);
}

void ta_batch_flush_all(bool final)
{
	if (!(__atomic_load_n(&ta_tracker_active, __ATOMIC_RELAXED) & TA_HOOK_BATCH))
		return;
	if (final)
		__atomic_store_n(&ta_batch_final, 1, __ATOMIC_RELEASE);
	ta_batch_each(ta_batch_flush);
	if (final) {
		/* this thread's next records go out alone */
		ta_batch_self = NULL;
		ta_batch_state = TA_BATCH_GONE;
	}
}

/* Only the forking thread is left; its stream starts again (new process,
 * new thread id). The other buffers' records were the parent's. */
void ta_batch_atfork_child(void)
{
	struct ta_batch *b;

	pthread_mutex_init(&ta_batches_lock, NULL);
	for (b = ta_batches; b; b = b->next) {
		pthread_mutex_init(&b->lock, NULL);
		if (b == ta_batch_self) {
			ta_batch_reset(b, (uint32_t)gettid());
			b->owned = 1;
		} else {
			b->owned = 0;
		}
	}
}
