/* SPDX-License-Identifier: MIT */
/*
 * The malloc family. Every block the wrapper hands out is an inner block with
 * an 8-byte trailer at the end of its usable size (see trailer.h). The library
 * is built with -fno-builtin-malloc and friends (lib/meson.build) so that GCC
 * never rewrites one entry point into a call to another (malloc + memset into
 * calloc, say).
 *
 * Fast path (no tracker, no enabled tracepoint): a block of the thread's
 * cache of freed blocks (cache.h) or one inner call, two multiplies for the
 * trailer, plain stores into this thread's slot; free keeps the block in
 * that cache when its list has room. The trailer itself is described in
 * trailer.h.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "seal.h"

/* C23 free_sized and free_aligned_sized: glibc 2.36 does not declare them. */
void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t align, size_t size);

/*
 * A block the inner allocator cannot size: allocated by its own
 * malloc_usable_size (which would recurse), or while that query does not
 * work yet (tcmalloc's answers 0 until its constructor ran). It is served by
 * the start-up arena instead, like the allocations dlsym makes.
 */
static void *__attribute__((noinline, cold)) ta_seal_unsized(void *p, size_t n, size_t align)
{
	ta_inner.free(p);
	return ta_boot_alloc(n, align ? align : 16);
}

/* The general seal, out of line: first allocation of a thread (no slot
 * yet), an exited thread, an inner allocator other than glibc or an mmapped
 * glibc chunk, the sampling countdown crossing zero, a new high of the
 * group's batch (its peak and limits), hooks to run. @took: what ta_seal
 * already took this allocation into. A countdown poked by another thread (a
 * rename, new rules) is seen before the block is charged, so this very
 * allocation goes to the thread's new group. NULL (ENOMEM) when the group's
 * hard limit refuses the block, which goes back to the inner allocator. */
TA_START void *__attribute__((noinline)) ta_seal_slow(void *p, size_t n, size_t align, unsigned took)
{
	enum ta_high high = TA_HIGH_OK;
	struct ta_slot *s, *was;
	struct ta_tls *t;
	uint32_t gid;
	size_t usable;
	bool crossed;

	if (TA_UNLIKELY(ta_tls.in_usable))
		return ta_seal_unsized(p, n, align);
	usable = ta_inner_usable(p);
	if (TA_UNLIKELY(usable < n + TA_TRAILER))
		return ta_seal_unsized(p, n, align);
	t = ta_tls_ready();
	was = took & TA_TOOK_BATCH ? t->fast : NULL;
	crossed = took & TA_TOOK_COUNTDOWN ? TA_LOAD(&t->sample_left) < 0 : ta_countdown_take(t, n);
	if (TA_UNLIKELY(crossed) && ta_sample_poked(t))
		crossed = false;
	gid = ta_tls_charge_gid(t);
	s = ta_tls_charge_slot(t);
	if (TA_LIKELY(s)) {
		bool rose;

		if (was == s) {
			rose = TA_LOAD(&s->rise) > 0;
		} else {
			if (was) { /* the poke moved the thread to another group */
				TA_DROP(&was->rise, n);
				TA_DROP(&was->fall, n);
			}
			rose = ta_batch_alloc(s, n);
		}
		if (rose)
			high = ta_peak_high(s, gid, n, true);
		if (TA_UNLIKELY(high == TA_HIGH_REFUSE)) {
			ta_inner.free(p);
			errno = ENOMEM;
			return NULL;
		}
	}
	ta_stamp_usable(p, usable, n, gid);
	ta_count_alloc(t, n, usable);
	if (TA_UNLIKELY(crossed))
		ta_sample_cross(t, p, n, usable, gid);
	if (ta_hooks_alloc(align))
		ta_hook_alloc(p, n, usable, align, gid);
	if (TA_UNLIKELY(high == TA_HIGH_SOFT))
		ta_limit_soft_fire(gid);
	return p;
}

/* The gate is not TA_INNER_READY: resolve the inner allocator, or act on a
 * pending attach request. True when the inner allocator can be used. */
bool __attribute__((noinline, cold)) ta_ready_slow(void)
{
	if (ta_inner_attach_take())
		ta_trace_attach();
	else
		ta_inner_init();
	return __atomic_load_n(&ta_inner_state, __ATOMIC_ACQUIRE) >= TA_INNER_READY;
}

/* The inner allocator failed: NULL (its errno stays), or inside a reserve
 * section a block of the start-up arena. */
void *__attribute__((noinline, cold)) ta_inner_failed(size_t n)
{
	if (!ta_tls.reserve)
		return NULL;
	return ta_boot_alloc(n, 16); /* static storage, zero: also for calloc */
}

/* ---- entry points ------------------------------------------------------- */

/* Out of line on purpose: malloc tail-calls it, so only the size has to
 * survive the inner call in malloc's own frame. */
static void *__attribute__((noinline)) ta_seal_plain(void *p, size_t n)
{
	return ta_seal(p, n, 0);
}

/* malloc past a closed gate: before the inner allocator is resolved (or
 * while it is), an attach request, lib rules; or a size the trailer does not
 * hold (an ext block, or one the inner malloc fails). */
static void *__attribute__((noinline)) ta_malloc_gated(size_t n, const void *ra)
{
	struct ta_slot *slot;
	uint32_t gid;
	void *p;
	int rules = ta_gate_pass_rules();

	if (TA_UNLIKELY(rules < 0))
		return ta_boot_alloc(n, 16);
	if (!rules || !ta_rules_charge(&ta_tls, ra, &gid, &slot)) {
		p = ta_inner.malloc(ta_wrapped_request(n));
		return p ? ta_seal_plain(p, n) : ta_inner_failed(n);
	}
	/* a lib rule's group, charged straight: nothing to restore after; a
	 * block of the thread's cache first, as on the fast path */
	if (n < TA_SIZE_EXT && ta_cache_class(n) < TA_CACHE_CLASSES &&
	    (p = ta_cache_take(&ta_tls, ta_cache_class(n))) != NULL)
		return ta_seal_rule(p, n, 0, gid, slot);
	p = ta_inner.malloc(ta_wrapped_request(n));
	if (TA_UNLIKELY(!p))
		return ta_inner_failed(n);
	return ta_seal_rule(p, n, 0, gid, slot);
}

static void *__attribute__((noinline, cold)) ta_malloc_cold(size_t n)
{
	return ta_malloc_gated(n, TA_CALLER);
}

static TA_INLINE void *ta_malloc_at(size_t n, const void *ra)
{
	struct ta_tls *t = &ta_tls;
	size_t c = ta_cache_class(n);
	void *p;

	/* a closed gate, or a size the trailer does not hold (an ext block,
	 * or one that n + TA_TRAILER would overflow): the cold path */
	if (TA_UNLIKELY(!ta_gate_open() || n >= TA_SIZE_EXT))
		return ra ? ta_malloc_gated(n, ra) : ta_malloc_cold(n);
	/* a block of this thread's cache, if it has one of the size glibc
	 * would give: no inner call at all */
	if (TA_LIKELY(c < TA_CACHE_CLASSES) && (p = ta_cache_take(t, c)) != NULL)
		return ta_seal_chunk(p, n, 0, c * TA_CACHE_STEP);
	p = ta_inner.malloc(n + TA_TRAILER);
	if (TA_UNLIKELY(!p))
		return ta_inner_failed(n);
	return ta_seal(p, n, 0);
}

TA_START TA_API void *malloc(size_t n)
{
	return ta_malloc_at(n, TA_TAIL_CALLED);
}

static void __attribute__((noinline, cold)) ta_boot_free(void)
{
	TA_DIAG_INC(ta_diag_boot);
}

/* The free of a block whose trailer did not verify. */
static void __attribute__((noinline, cold)) ta_free_unverified(void *p, enum ta_verdict v)
{
	if (v == TA_FREED) {
		TA_DIAG_INC(ta_diag_double);
		return; /* leak it rather than corrupt the inner heap */
	}
	TA_DIAG_INC(ta_diag_foreign);
	ta_inner.free(p);
}

static TA_INLINE void ta_release(void *p, const struct ta_block *b)
{
	struct ta_tls *t = ta_tls_ready();

	if (TA_UNLIKELY(b->sampled))
		ta_sample_forget(p, b->size, b->gid);
	ta_flip_freed(p, b);
	ta_count_free(t, b->gid, b->size, b->usable);
	if (TA_UNLIKELY(ta_hooks_free()))
		ta_hook_free(p, b->size, b->usable, b->gid, t->gid);
	ta_inner.free(p);
}

/* Everything free() does not do inline: ext blocks, foreign and freed
 * blocks, impossible trailers. */
static void __attribute__((noinline, cold)) ta_free_slow(void *p, size_t want)
{
	struct ta_block b;
	enum ta_verdict v;

	if (ta_boot_owns(p))
		return ta_boot_free();
	v = ta_inspect(p, &b);

	if (v != TA_OWN) {
		ta_free_unverified(p, v);
	} else {
		if (want != TA_ANY_SIZE && want != b.size)
			TA_DIAG_INC(ta_diag_size_mismatch);
		ta_release(p, &b);
	}
}

static void __attribute__((noinline, cold)) ta_size_mismatch(void)
{
	TA_DIAG_INC(ta_diag_size_mismatch);
}

static void __attribute__((noinline)) ta_free_hooked(void *p, size_t size, size_t usable,
                                                    uint32_t gid)
{
	ta_hook_free(p, size, usable, gid, ta_tls.gid);
	ta_inner.free(p);
}

/* The rest of a fast free whose batch went below its bound: share it, then
 * as free would. A tail call with few arguments, so that free's own frame
 * saves nothing: the wrapped size comes back from the chunk. */
static void __attribute__((noinline)) ta_free_low(void *p, struct ta_slot *s, uint32_t gid,
                                                 size_t size)
{
	ta_peak_low(s, gid);
	if (TA_UNLIKELY(ta_hooks_free()))
		return ta_free_hooked(p, size, ta_chunk_size(ta_chunk_head(p)) - TA_TRAILER, gid);
	ta_inner.free(p);
}

/* free, and for the sized deallocations the size the caller says the block
 * has (@want; TA_ANY_SIZE from plain free, where the check compiles away). */
static TA_INLINE void ta_free_at(void *p, size_t want)
{
	struct ta_tls *t = &ta_tls;
	struct ta_slot *s;
	uint64_t tr, word;
	size_t csize, size, c;
	uint32_t gid;

	if (TA_UNLIKELY(!p))
		return;
	/*
	 * The common block: a non-mmapped glibc chunk with a trailer that
	 * verifies, and a slot on this thread; everything else leaves through
	 * a tail call to ta_free_slow. Arena blocks carry a fake header with
	 * IS_MMAPPED set, so they never reach the trailer read here. A trailer
	 * that verifies under the plain mark is neither an ext nor a sampled
	 * block (their marks differ in the check bits) and has a size within
	 * the block (we wrote it): the decoded word is the group and the size.
	 * No readiness check: a chunk that is not from the arena came from the
	 * inner allocator, which is therefore resolved.
	 */
	if (TA_UNLIKELY(!t->fast)) /* not set up, or not glibc's layout */
		return ta_free_slow(p, want);
	csize = ta_chunk_head(p);
	if (TA_UNLIKELY(csize & TA_CHUNK_IS_MMAPPED)) /* or the arena */
		return ta_free_slow(p, want);
	csize = ta_chunk_size(csize); /* usable = csize - 8: the trailer is at csize - 16 */
	tr = ta_trailer_load(p, csize - TA_TRAILER);
	word = ta_trailer_decode(p, tr, TA_MARK_PLAIN);
	if (TA_UNLIKELY(!ta_trailer_word_ok(word)))
		return ta_free_slow(p, want);
	gid = ta_trailer_gid(word);
	if (TA_LIKELY(gid == t->gid)) {
		s = t->fast;
	} else if (gid == t->rule_gid) { /* the last lib rule's group */
		s = t->rule_slot;
	} else {
		struct ta_page *pg = t->th ? t->th->pages[gid >> TA_PAGE_SHIFT] : NULL;

		s = pg ? &pg->slot[gid & (TA_PAGE_SLOTS - 1)] : NULL;
	}
	if (TA_UNLIKELY(!s))
		return ta_free_slow(p, want);
	size = word >> TA_SIZE_SHIFT; /* the check bits are zero */
	if (want != TA_ANY_SIZE && TA_UNLIKELY(want != size))
		ta_size_mismatch();
	ta_trailer_store(p, csize - TA_TRAILER, ta_trailer_flip(tr));
	TA_BUMP(&s->freed_bytes, size);
	TA_BUMP(&s->freed_objects, 1);
	TA_DROP(&s->held, csize);
	if (TA_UNLIKELY(ta_batch_free(s, size)))
		return ta_free_low(p, s, gid, size);
	if (TA_UNLIKELY(ta_hooks_free()))
		return ta_free_hooked(p, size, csize - TA_TRAILER, gid);
	c = csize / TA_CACHE_STEP;
	if (TA_LIKELY(c < TA_CACHE_CLASSES) && ta_cache_keep(t, c, p))
		return;
	ta_inner.free(p);
}

TA_START TA_API void free(void *p)
{
	ta_free_at(p, TA_ANY_SIZE);
}

/* C23: @size must be the size the block was allocated with. */
TA_API void free_sized(void *p, size_t size)
{
	ta_free_at(p, size);
}

TA_API void free_aligned_sized(void *p, size_t align, size_t size)
{
	(void)align;
	ta_free_at(p, size);
}



static TA_INLINE void *ta_calloc_ready(size_t n)
{
	void *p = ta_inner.calloc(1, ta_wrapped_request(n));

	if (TA_UNLIKELY(!p))
		return ta_inner_failed(n);
	return ta_seal(p, n, 0);
}

static void *__attribute__((noinline)) ta_calloc_gated(size_t n, const void *ra)
{
	struct ta_rules_call c;
	void *p;

	if (!ta_gate_pass())
		return ta_boot_alloc(n, 16); /* the arena is static storage: zero */
	ta_gate_rules_begin(&c, ra);
	p = ta_calloc_ready(n);
	ta_rules_call_end(&c);
	return p;
}

static void *__attribute__((noinline, cold)) ta_calloc_cold(size_t n)
{
	return ta_calloc_gated(n, TA_CALLER);
}

TA_START TA_API void *calloc(size_t nmemb, size_t size)
{
	size_t n;

	if (TA_UNLIKELY(__builtin_mul_overflow(nmemb, size, &n))) {
		errno = ENOMEM;
		return NULL;
	}
	if (TA_UNLIKELY(!ta_gate_open()))
		return ta_calloc_cold(n);
	return ta_calloc_ready(n);
}

static void __attribute__((noinline)) ta_realloc_hooked(void *p, void *q,
                                                       const struct ta_block *b, size_t n,
                                                       size_t usable, uint32_t cur)
{
	ta_hook_realloc(p, q, b->size, b->usable, n, usable, b->gid, cur);
}

/* realloc of a block that is not ours (arena or foreign): copy into a new one. */
static void *ta_realloc_copy(void *p, size_t old_usable, size_t n, bool inner_free)
{
	void *q = malloc(n);

	if (!q)
		return NULL;
	memcpy(q, p, old_usable < n ? old_usable : n);
	if (inner_free)
		ta_inner.free(p);
	return q;
}

/* realloc of one of our blocks, the gate passed. */
static TA_INLINE void *ta_realloc_ready(void *p, size_t n)
{
	enum ta_high high = TA_HIGH_OK;
	struct ta_block b;
	enum ta_verdict v;
	struct ta_slot *s;
	struct ta_tls *t;
	size_t usable;
	bool crossed;
	void *q;

	v = ta_inspect(p, &b);
	if (TA_UNLIKELY(v == TA_FREED)) {
		TA_DIAG_INC(ta_diag_double);
		errno = EINVAL;
		return NULL;
	}
	if (TA_UNLIKELY(v == TA_FOREIGN)) {
		TA_DIAG_INC(ta_diag_foreign);
		if (n == 0) {
			ta_inner.free(p);
			return NULL;
		}
		return ta_realloc_copy(p, b.usable, n, true);
	}
	if (n == 0) { /* glibc (REALLOC_ZERO_BYTES_FREES): free and return NULL */
		ta_release(p, &b);
		return NULL;
	}
	/* A hard limit refuses before anything moves: the old block stays. */
	t = ta_tls_ready();
	if (TA_UNLIKELY(ta_tls_charge_gid(t)) &&
	    ta_limit_refuses(ta_tls_charge_slot(t), ta_tls_charge_gid(t),
	                     (int64_t)n - (b.gid == ta_tls_charge_gid(t) ? (int64_t)b.size : 0))) {
		errno = ENOMEM;
		return NULL;
	}
	/* A sampled block leaves the sampled heap first: once the inner
	 * realloc ran, its address may be another thread's new block. */
	if (TA_UNLIKELY(b.sampled))
		ta_sample_forget(p, b.size, b.gid);
	/* Mark the old block freed before the inner realloc may release it;
	 * on failure it is still the caller's and gets its trailer back. */
	ta_flip_freed(p, &b); /* provisional: the flip is its own inverse */
	q = ta_inner.realloc(p, ta_wrapped_request(n));
	if (TA_UNLIKELY(!q)) {
		if (b.sampled) /* no longer in the sampled heap: a plain mark */
			ta_stamp_marked(p, b.usable, b.size, b.gid, TA_MARK_PLAIN);
		else
			ta_flip_freed(p, &b);
		return NULL;
	}
	crossed = ta_countdown_take(t, n);
	if (TA_UNLIKELY(crossed) && ta_sample_poked(t))
		crossed = false;
	ta_count_free(t, b.gid, b.size, b.usable);
	usable = ta_stamp(q, n, ta_tls_charge_gid(t));
	ta_count_alloc(t, n, usable);
	s = ta_tls_charge_slot(t);
	if (TA_LIKELY(s) && TA_UNLIKELY(ta_batch_alloc(s, n)))
		high = ta_peak_high(s, ta_tls_charge_gid(t), n, false);
	if (TA_UNLIKELY(crossed))
		ta_sample_cross(t, q, n, usable, ta_tls_charge_gid(t));
	if (TA_UNLIKELY(ta_hooks_realloc()))
		ta_realloc_hooked(p, q, &b, n, usable, t->gid);
	if (TA_UNLIKELY(high == TA_HIGH_SOFT))
		ta_limit_soft_fire(ta_tls_charge_gid(t));
	return q;
}

static void *__attribute__((noinline)) ta_realloc_gated(void *p, size_t n, const void *ra)
{
	struct ta_rules_call c;
	void *q;

	if (!ta_gate_pass())
		return NULL;
	ta_gate_rules_begin(&c, ra);
	q = ta_realloc_ready(p, n);
	ta_rules_call_end(&c);
	return q;
}

static void *__attribute__((noinline, cold)) ta_realloc_cold(void *p, size_t n)
{
	return ta_realloc_gated(p, n, TA_CALLER);
}

static TA_INLINE void *ta_realloc_at(void *p, size_t n, const void *ra)
{
	if (!p)
		return ta_malloc_at(n, ra);
	if (ta_boot_owns(p)) {
		TA_DIAG_INC(ta_diag_boot);
		if (n == 0)
			return NULL;
		return ta_realloc_copy(p, ta_boot_size(p), n, false);
	}
	if (TA_UNLIKELY(!ta_gate_open()))
		return ra ? ta_realloc_gated(p, n, ra) : ta_realloc_cold(p, n);
	return ta_realloc_ready(p, n);
}

TA_START TA_API void *realloc(void *p, size_t n)
{
	return ta_realloc_at(p, n, TA_TAIL_CALLED);
}

TA_START TA_API void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	return ta_realloc_at(p, n, TA_TAIL_CALLED);
}

/* ---- strdup and strndup ---------------------------------------------------- */

/*
 * The two string copies programs call most, defined here so that a lib rule
 * sees their caller directly instead of walking up from inside libc (what
 * glibc's own code calls is its internal copy, untouched). The semantics are
 * glibc's: NULL and ENOMEM when the copy cannot be allocated.
 */
static char *(*ta_next_strdup)(const char *);
static char *(*ta_next_strndup)(const char *, size_t);
static int ta_malloc_is_ours = -1; /* unknown until first asked */

/* Whether the process's malloc is this library's: not when something
 * earlier in symbol order defines it (a sanitizer's runtime, a program
 * with an allocator of its own), whose free would then get our blocks.
 * Then the copies go to the next strdup, which calls that malloc. */
static bool __attribute__((noinline, cold)) ta_strdup_forward(void)
{
	if (ta_malloc_is_ours < 0) {
		void *m = dlsym(RTLD_DEFAULT, "malloc");
		Dl_info theirs, ours;
		/* by object, not by address: &malloc here is the process's */
		bool same = m && dladdr(m, &theirs) && dladdr((void *)ta_strdup_forward, &ours) &&
		            theirs.dli_fbase == ours.dli_fbase;

		*(void **)&ta_next_strdup = dlsym(RTLD_NEXT, "strdup");
		*(void **)&ta_next_strndup = dlsym(RTLD_NEXT, "strndup");
		__atomic_store_n(&ta_malloc_is_ours, same || !ta_next_strdup || !ta_next_strndup,
		                 __ATOMIC_RELEASE);
	}
	return !ta_malloc_is_ours;
}

TA_START TA_API char *strdup(const char *s)
{
	size_t n;
	char *p;

	if (TA_UNLIKELY(__atomic_load_n(&ta_malloc_is_ours, __ATOMIC_ACQUIRE) != 1) &&
	    ta_strdup_forward())
		return ta_next_strdup(s);
	n = strlen(s) + 1;
	p = ta_malloc_at(n, __builtin_return_address(0));
	return p ? memcpy(p, s, n) : NULL;
}

TA_START TA_API char *strndup(const char *s, size_t max)
{
	size_t n;
	char *p;

	if (TA_UNLIKELY(__atomic_load_n(&ta_malloc_is_ours, __ATOMIC_ACQUIRE) != 1) &&
	    ta_strdup_forward())
		return ta_next_strndup(s, max);
	n = strnlen(s, max);
	p = ta_malloc_at(n + 1, __builtin_return_address(0));

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- for operator new and delete (new.c) ---------------------------------- */

TA_START void *ta_new_alloc(size_t n, size_t align, const void *ra)
{
	if (align <= 16)
		return ta_malloc_at(n, ra);
	return ta_memalign_from(align, n, ra);
}

TA_START void ta_free_sized(void *p, size_t size)
{
	ta_free_at(p, size);
}
