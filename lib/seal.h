/* SPDX-License-Identifier: MIT */
/*
 * The seal: what every allocating entry point of the malloc family shares
 * (wrapper.c: malloc, free, calloc, realloc; aligned.c: the aligned family
 * and malloc_usable_size). Counting a call into this thread's slot, sealing
 * a fresh inner block (trailer, charge, countdown, batch, hooks: inline for
 * the common case, ta_seal_slow for the rest), and the allocator's gate.
 * Only those two files include it.
 */
#ifndef TA_SEAL_H
#define TA_SEAL_H

#include "hooks-internal.h"
#include "limits-internal.h"
#include "rules-internal.h"
#include "sampling-internal.h"
#include "ta-internal.h"
#include "trace-internal.h"
#include "trailer.h"

#pragma GCC visibility push(hidden)

/* The size a plain free does not know. */
#define TA_ANY_SIZE SIZE_MAX

/* ---- counting ------------------------------------------------------------ */

static TA_INLINE struct ta_tls *ta_tls_ready(void)
{
	struct ta_tls *t = &ta_tls;

	if (TA_UNLIKELY(!t->slot))
		ta_thread_setup(t);
	return t;
}

static TA_INLINE void ta_count_alloc(struct ta_tls *t, size_t n, size_t usable)
{
	struct ta_slot *s = ta_tls_charge_slot(t);

	if (TA_LIKELY(s)) {
		TA_BUMP(&s->allocated_bytes, n);
		TA_BUMP(&s->allocated_objects, 1);
		TA_BUMP(&s->held, usable + TA_TRAILER);
	} else {
		ta_count_alloc_slow(ta_tls_charge_gid(t), n, usable);
	}
}

static TA_INLINE void ta_count_free(struct ta_tls *t, uint32_t gid, size_t n, size_t usable)
{
	struct ta_slot *s = gid == t->gid ? t->slot : t->th ? ta_thread_slot(t->th, gid) : NULL;

	if (TA_LIKELY(s)) {
		TA_BUMP(&s->freed_bytes, n);
		TA_BUMP(&s->freed_objects, 1);
		TA_DROP(&s->held, usable + TA_TRAILER);
		if (TA_UNLIKELY(ta_batch_free(s, n)))
			ta_peak_low(s, gid);
	} else {
		ta_count_free_slow(gid, n, usable);
	}
}

/* What the seal took off the countdown and the batch before it went slow. */
#define TA_TOOK_COUNTDOWN 1u
#define TA_TOOK_BATCH 2u

/* The general seal (seal in wrapper.c, out of line). */
void *ta_seal_slow(void *p, size_t n, size_t align, unsigned took);

/*
 * Seal a non-mmapped glibc chunk of @csize bytes at @p (a fresh inner block,
 * or one of the thread's cache): trailer, charge to the active group. The
 * common case, a thread with a slot, a size the trailer holds, no hooks, a
 * countdown that does not cross zero and no new high of the batch, takes
 * no call: everything else goes to ta_seal_slow through a tail call.
 */
static TA_INLINE void *ta_seal_chunk(void *p, size_t n, size_t align, size_t csize)
{
	struct ta_tls *t = &ta_tls;
	struct ta_slot *s = t->fast; /* NULL unless glibc's layout is verified */

	/* a size the trailer holds (malloc's entry has checked it, so
	 * there the test folds away) */
	if (TA_UNLIKELY(!s || n >= TA_SIZE_EXT))
		return ta_seal_slow(p, n, align, 0);
	/* the sampler's countdown: one subtraction, the same branch as hooks */
	if (TA_UNLIKELY(ta_countdown_take(t, n) || ta_hooks_alloc(align)))
		return ta_seal_slow(p, n, align, TA_TOOK_COUNTDOWN);
	/* the peak's batch: one add, its own branch */
	if (TA_UNLIKELY(ta_batch_alloc(s, n)))
		return ta_seal_slow(p, n, align, TA_TOOK_COUNTDOWN | TA_TOOK_BATCH);
	/* usable = csize - 8 */
	ta_trailer_store(p, csize - TA_TRAILER,
	                 ta_trailer_make(p, ta_trailer_pack(t->gid, n), TA_MARK_PLAIN));
	TA_BUMP(&s->allocated_bytes, n);
	TA_BUMP(&s->allocated_objects, 1);
	TA_BUMP(&s->held, csize);
	return p;
}

/* Seal a fresh inner block: ta_seal_chunk once its header says it is a
 * glibc chunk that is not mmapped (glibc's layout is what t->fast says;
 * without it the header is not read). */
static TA_INLINE void *ta_seal(void *p, size_t n, size_t align)
{
	size_t head;

	if (TA_UNLIKELY(!ta_tls.fast))
		return ta_seal_slow(p, n, align, 0);
	head = ta_chunk_head(p);
	if (TA_UNLIKELY(head & TA_CHUNK_IS_MMAPPED))
		return ta_seal_slow(p, n, align, 0);
	return ta_seal_chunk(p, n, align, ta_chunk_size(head));
}

/*
 * Seal a fresh inner block charged to @gid (slot @s of this thread), the
 * group a lib rule gave the call (ta_rules_charge): ta_seal with the group
 * given instead of the active one. Anything but the common case goes to
 * ta_seal_slow with the group made active for that call.
 */
static void *__attribute__((noinline)) ta_seal_rule_slow(void *p, size_t n, size_t align,
                                                         unsigned took, uint32_t gid,
                                                         struct ta_slot *s)
{
	struct ta_rules_call c;

	ta_rules_swap(&c, gid, s);
	p = ta_seal_slow(p, n, align, took);
	ta_rules_call_end(&c);
	return p;
}

static TA_INLINE void *ta_seal_rule(void *p, size_t n, size_t align, uint32_t gid,
                                    struct ta_slot *s)
{
	struct ta_tls *t = &ta_tls;
	size_t head, csize;

	/* not glibc's layout, a quiet section, or an ext block */
	if (TA_UNLIKELY(!t->fast || n >= TA_SIZE_EXT))
		return ta_seal_rule_slow(p, n, align, 0, gid, s);
	head = ta_chunk_head(p);
	if (TA_UNLIKELY(head & TA_CHUNK_IS_MMAPPED))
		return ta_seal_rule_slow(p, n, align, 0, gid, s);
	if (TA_UNLIKELY(ta_countdown_take(t, n) || ta_hooks_alloc(align)))
		return ta_seal_rule_slow(p, n, align, TA_TOOK_COUNTDOWN, gid, s);
	if (TA_UNLIKELY(ta_batch_alloc(s, n)))
		return ta_seal_rule_slow(p, n, align, TA_TOOK_COUNTDOWN | TA_TOOK_BATCH, gid, s);
	csize = ta_chunk_size(head);
	ta_trailer_store(p, csize - TA_TRAILER,
	                 ta_trailer_make(p, ta_trailer_pack(gid, n), TA_MARK_PLAIN));
	TA_BUMP(&s->allocated_bytes, n);
	TA_BUMP(&s->allocated_objects, 1);
	TA_BUMP(&s->held, csize);
	t->rule_gid = gid;
	t->rule_slot = s;
	return p;
}

/* The gate is not TA_INNER_READY: resolve the inner allocator, or act on a
 * pending attach request. True when the inner allocator can be used. */
bool ta_ready_slow(void);

/* The gate's one load: true when it is plain TA_INNER_READY. */
static TA_INLINE bool ta_gate_open(void)
{
	return TA_LIKELY(__atomic_load_n(&ta_inner_state, __ATOMIC_ACQUIRE) == TA_INNER_READY);
}

/* A closed gate's code: true when the allocator can be used. Lib rules
 * alone (the gate's resting state while they are in force) cost one
 * compare; anything else goes to ta_ready_slow. */
static TA_INLINE bool ta_gate_pass(void)
{
	if (TA_LIKELY(__atomic_load_n(&ta_inner_state, __ATOMIC_ACQUIRE) ==
	              (TA_INNER_READY | TA_GATE_RULES)))
		return true;
	return ta_ready_slow();
}

/* ta_gate_pass, and whether lib rules are in force: 1 yes, 0 no, -1 the
 * allocator cannot be used yet. */
static TA_INLINE int ta_gate_pass_rules(void)
{
	int s = __atomic_load_n(&ta_inner_state, __ATOMIC_ACQUIRE);

	if (TA_LIKELY(s == (TA_INNER_READY | TA_GATE_RULES)))
		return 1;
	if (!ta_ready_slow())
		return -1;
	return !!(__atomic_load_n(&ta_inner_state, __ATOMIC_RELAXED) & TA_GATE_RULES);
}

/* Past a closed gate, ready: a rules call for the call returning to @ra if
 * lib rules are in force. */
static TA_INLINE void ta_gate_rules_begin(struct ta_rules_call *c, const void *ra)
{
	c->gid = UINT32_MAX;
	if (__atomic_load_n(&ta_inner_state, __ATOMIC_RELAXED) & TA_GATE_RULES)
		ta_rules_call_begin(c, ra);
}

#define TA_CALLER __builtin_return_address(0)

/*
 * The return address costs the fast path nothing: the public entry points
 * reach a closed gate's code through a tail call (TA_TAIL_CALLED as @ra),
 * so the cold function's own return address is the program's call. Built
 * without tail calls (-O0), it is an address in this library, and the lib
 * rules look up the stack past it (modules.c): slower, same answer.
 */
#define TA_TAIL_CALLED NULL

/* Request size for the inner allocator; SIZE_MAX when n + trailer overflows,
 * which makes the inner allocator fail with its own errno (ENOMEM, or EINVAL
 * first for a bad alignment), exactly as it would without us. */
static TA_INLINE size_t ta_wrapped_request(size_t n)
{
	return TA_LIKELY(n <= SIZE_MAX - 2 * TA_TRAILER) ? n + TA_TRAILER : SIZE_MAX;
}

/* The inner allocator failed: NULL (its errno stays), or inside a reserve
 * section a block of the start-up arena. */
void *ta_inner_failed(size_t n);

/* memalign as if called from @ra (aligned.c), for operator new. */
void *ta_memalign_from(size_t align, size_t n, const void *ra);

#pragma GCC visibility pop

#endif /* TA_SEAL_H */
