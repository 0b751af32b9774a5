/* SPDX-License-Identifier: MIT */
/*
 * The malloc family. Every block the wrapper hands out is an inner block with
 * an 8-byte trailer at the end of its usable size (see ta-internal.h). This
 * file is built with -fno-builtin so that GCC never rewrites one entry point
 * into a call to another (malloc + memset into calloc, say).
 *
 * Fast path (no tracker, no enabled tracepoint): one inner call, one header
 * read, a multiply for the check bits, plain stores into this thread's slot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ta-internal.h"
#include "trace-internal.h"

#define TA_EXPORT __attribute__((visibility("default")))

/* C23 free_sized and free_aligned_sized: glibc 2.36 does not declare them. */
void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t align, size_t size);

uint64_t ta_secret, ta_secret_freed, ta_freed_flip;

#define TA_CHECK_MASK (~0ull << TA_CHECK_SHIFT)
/* A 64-bit odd constant: a flip of any input bit, the lowest included, moves
 * the top bits of the product (a 32-bit one would leave them unchanged for
 * flips in the low bits, such as the group id's). */
#define TA_HASH_MUL 0x9e3779b97f4a7c15ull

/*
 * A double free outside glibc's tcache. Once glibc bins a freed chunk
 * anywhere but the tcache or a fastbin, it writes the chunk size over the
 * block's last word (the next chunk's prev_size), which is where the trailer
 * and its freed mark were, and clears PREV_INUSE in the next chunk's header.
 * That pair is glibc's own mark of a free chunk: recognise it, so the second
 * free is ignored instead of reaching glibc's abort.
 */
static bool ta_glibc_chunk_is_free(const void *p, uint64_t tr)
{
	size_t head = ((const size_t *)p)[-1];
	size_t csize = head & ~(size_t)7;
	size_t next_head;

	if (!ta_glibc_layout || (head & 2) || csize < 32 || tr != csize)
		return false;
	memcpy(&next_head, (const char *)p - 8 + csize, sizeof(next_head));
	return !(next_head & 1); /* PREV_INUSE clear: this chunk is free */
}

/* ---- trailer ------------------------------------------------------------ */

#define TA_GID_MASK 0xffffu
#define TA_CHECK_SHIFT (16 + TA_SLACK_BITS)

static TA_INLINE uint64_t ta_trailer_make(const void *p, uint64_t fields, uint64_t mark)
{
	uint64_t h = ((uintptr_t)p ^ fields ^ mark) * TA_HASH_MUL;

	return fields | ((h >> TA_CHECK_SHIFT) << TA_CHECK_SHIFT);
}

static TA_INLINE uint64_t ta_trailer_load(const void *p, size_t usable)
{
	uint64_t tr;

	memcpy(&tr, (const char *)p + usable - TA_TRAILER, sizeof(tr));
	return tr;
}

static TA_INLINE void ta_trailer_store(void *p, size_t usable, uint64_t tr)
{
	memcpy((char *)p + usable - TA_TRAILER, &tr, sizeof(tr));
}

/*
 * A block whose slack does not fit in TA_SLACK_BITS (only huge blocks from an
 * inner allocator with coarse size classes) keeps its requested size in the
 * word before the trailer; its slack field holds TA_SLACK_MAX.
 */
static size_t ta_ext_size(const void *p, size_t usable)
{
	uint64_t n;

	memcpy(&n, (const char *)p + usable - 2 * TA_TRAILER, sizeof(n));
	return n;
}

static TA_INLINE uint64_t ta_fields(uint32_t gid, size_t slack)
{
	return gid | ((uint64_t)slack << 16);
}

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
	struct ta_slot *s = t->slot;

	if (TA_LIKELY(s)) {
		TA_BUMP(&s->allocated_bytes, n);
		TA_BUMP(&s->allocated_objects, 1);
		TA_BUMP(&s->wrapped, usable);
	} else {
		ta_count_alloc_slow(t->gid, n, usable);
	}
}

static TA_INLINE void ta_count_free(struct ta_tls *t, uint32_t gid, size_t n, size_t usable)
{
	struct ta_slot *s = NULL;

	if (TA_LIKELY(gid == t->gid))
		s = t->slot;
	else if (TA_LIKELY(t->th) && t->th->pages[gid >> TA_PAGE_SHIFT])
		s = &t->th->pages[gid >> TA_PAGE_SHIFT]->slot[gid & (TA_PAGE_SLOTS - 1)];
	else if (t->th)
		s = ta_thread_slot(t->th, gid);
	if (TA_LIKELY(s)) {
		TA_BUMP(&s->freed_bytes, n);
		TA_BUMP(&s->freed_objects, 1);
		TA_BUMP(&s->wrapped, -(uint64_t)usable);
	} else {
		ta_count_free_slow(gid, n, usable);
	}
}

/* Write the trailer of a fresh inner block holding @n requested bytes for
 * group @gid; return the block's usable size. */
static TA_INLINE void ta_stamp_usable(void *p, size_t usable, size_t n, uint32_t gid)
{
	size_t slack = usable - TA_TRAILER - n;

	if (TA_LIKELY(slack < TA_SLACK_MAX)) {
		ta_trailer_store(p, usable, ta_trailer_make(p, ta_fields(gid, slack), ta_secret));
	} else {
		uint64_t ext = n;

		memcpy((char *)p + usable - 2 * TA_TRAILER, &ext, sizeof(ext));
		ta_trailer_store(p, usable,
		                 ta_trailer_make(p, ta_fields(gid, TA_SLACK_MAX), ta_secret ^ ext));
	}

}

static TA_INLINE size_t ta_stamp(void *p, size_t n, uint32_t gid)
{
	size_t usable = ta_inner_usable(p);

	ta_stamp_usable(p, usable, n, gid);
	return usable;
}

static void *__attribute__((noinline)) ta_seal_slow_hooks(void *p, size_t n, size_t usable,
                                                          size_t align, uint32_t gid)
{
	ta_hook_alloc(p, n, usable, align, gid);
	return p;
}

/* The general seal, out of line: first allocation of a thread (no slot
 * yet), an exited thread, an inner allocator other than glibc or an mmapped
 * glibc chunk, hooks to run. */
static void *__attribute__((noinline)) ta_seal_slow(void *p, size_t n, size_t align)
{
	struct ta_tls *t = ta_tls_ready();
	uint32_t gid = t->gid;
	size_t usable = ta_stamp(p, n, gid);

	ta_count_alloc(t, n, usable);
	if (ta_hooks_alloc(align))
		ta_hook_alloc(p, n, usable, align, gid);
	return p;
}

/*
 * Seal a fresh inner block: trailer, charge to the active group, hooks. The
 * inline part handles the common case, a non-mmapped glibc chunk on a thread
 * with a slot and no hooks, without a single call: everything else goes to
 * ta_seal_slow through a tail call.
 */
static TA_INLINE void *ta_seal(void *p, size_t n, size_t align)
{
	struct ta_tls *t = &ta_tls;
	struct ta_slot *s = t->fast; /* NULL unless glibc's layout is verified */
	size_t head, usable;
	uint32_t gid;

	if (TA_UNLIKELY(!s))
		return ta_seal_slow(p, n, align);
	head = ((const size_t *)p)[-1];
	if (TA_UNLIKELY(head & 2)) /* IS_MMAPPED: no borrowed next-size word */
		return ta_seal_slow(p, n, align);
	usable = (head & ~(size_t)7) - 8;
	gid = t->gid;
	/* glibc splits what it does not need off a chunk: the slack of a
	 * non-mmapped chunk always fits, no ext block here */
	ta_trailer_store(p, usable,
	                 ta_trailer_make(p, ta_fields(gid, usable - TA_TRAILER - n), ta_secret));
	TA_BUMP(&s->allocated_bytes, n);
	TA_BUMP(&s->allocated_objects, 1);
	TA_BUMP(&s->wrapped, usable);
	if (TA_UNLIKELY(ta_hooks_alloc(align)))
		return ta_seal_slow_hooks(p, n, usable, align, gid);
	return p;
}

/* What a verified trailer says about a block. */
struct ta_block {
	size_t usable, size;
	uint64_t fields; /* the trailer without its check bits */
	uint64_t ext;    /* requested size mixed into the check of an ext block */
	uint32_t gid;
};

enum ta_verdict { TA_OWN, TA_FOREIGN, TA_FREED };

/* The rare shapes of ta_inspect, out of line: a trailer that does not
 * verify, an ext block, impossible fields. */
static enum ta_verdict __attribute__((noinline, cold))
ta_inspect_slow(void *p, struct ta_block *b, uint64_t tr)
{
	uint64_t fields = tr & ~TA_CHECK_MASK;
	size_t slack = (size_t)(fields >> 16);

	b->fields = fields;
	b->gid = (uint32_t)(tr & TA_GID_MASK);
	b->ext = 0;
	if (b->usable < TA_TRAILER)
		return TA_FOREIGN;
	if (ta_glibc_chunk_is_free(p, tr))
		return TA_FREED;
	if (slack < TA_SLACK_MAX) {
		if (tr == (ta_trailer_make(p, fields, ta_secret) ^ ta_freed_flip))
			return TA_FREED;
		if (tr != ta_trailer_make(p, fields, ta_secret))
			return TA_FOREIGN;
		/* verified, but the slack does not fit in the block */
		TA_DIAG_INC(ta_diag_corrupt);
		return TA_FOREIGN;
	}
	if (b->usable < 2 * TA_TRAILER)
		return TA_FOREIGN;
	b->ext = ta_ext_size(p, b->usable);
	if (tr == (ta_trailer_make(p, fields, ta_secret ^ b->ext) ^ ta_freed_flip))
		return TA_FREED;
	if (tr != ta_trailer_make(p, fields, ta_secret ^ b->ext))
		return TA_FOREIGN;
	if (b->ext > b->usable - 2 * TA_TRAILER) {
		TA_DIAG_INC(ta_diag_corrupt);
		return TA_FOREIGN;
	}
	b->size = (size_t)b->ext;
	return TA_OWN;
}

/*
 * Read and verify a block's trailer. The check bits cover the address, the
 * group and the slack, so a verified trailer needs no further lookup.
 */
static TA_INLINE enum ta_verdict ta_inspect(void *p, struct ta_block *b)
{
	uint64_t tr, fields;

	b->usable = ta_inner_usable(p);
	if (TA_UNLIKELY(b->usable < TA_TRAILER))
		return ta_inspect_slow(p, b, 0);
	tr = ta_trailer_load(p, b->usable);
	fields = tr & ~TA_CHECK_MASK;
	if (TA_UNLIKELY(tr != ta_trailer_make(p, fields, ta_secret)))
		return ta_inspect_slow(p, b, tr);
	b->fields = fields;
	b->ext = 0;
	b->gid = (uint32_t)(tr & TA_GID_MASK);
	b->size = b->usable - TA_TRAILER - (size_t)(fields >> 16);
	/* a slack of TA_SLACK_MAX marks an ext block; > usable is impossible */
	if (TA_UNLIKELY((size_t)(fields >> 16) >= TA_SLACK_MAX ||
	                (size_t)(fields >> 16) > b->usable - TA_TRAILER))
		return ta_inspect_slow(p, b, tr); /* re-verified there */
	return TA_OWN;
}

/* Mark a block freed (flip its check bits with a per-process constant), so
 * that a second free of it is recognised; unmark it when an inner realloc
 * failed and the block is still the caller's. */
static TA_INLINE void ta_flip_freed(void *p, const struct ta_block *b)
{
	uint64_t tr = ta_trailer_load(p, b->usable);

	ta_trailer_store(p, b->usable, tr ^ ta_freed_flip);
}

static TA_INLINE void ta_mark_freed(void *p, const struct ta_block *b)
{
	ta_flip_freed(p, b);
}

static TA_INLINE bool ta_ready(void)
{
	if (TA_LIKELY(__atomic_load_n(&ta_inner_state, __ATOMIC_ACQUIRE) == 2))
		return true;
	ta_inner_init();
	return __atomic_load_n(&ta_inner_state, __ATOMIC_ACQUIRE) == 2;
}

/* Request size for the inner allocator; SIZE_MAX when n + trailer overflows,
 * which makes the inner allocator fail with its own errno (ENOMEM, or EINVAL
 * first for a bad alignment), exactly as it would without us. */
static TA_INLINE size_t ta_wrapped_request(size_t n)
{
	return TA_LIKELY(n <= SIZE_MAX - 2 * TA_TRAILER) ? n + TA_TRAILER : SIZE_MAX;
}

/* ---- entry points ------------------------------------------------------- */

/* Out of line on purpose: malloc tail-calls it, so only the size has to
 * survive the inner call in malloc's own frame. */
static void *__attribute__((noinline)) ta_seal_plain(void *p, size_t n)
{
	return ta_seal(p, n, 0);
}

/* malloc before the inner allocator is resolved (or while it is), or of a
 * size that cannot take a trailer (the inner malloc fails it). */
static void *__attribute__((noinline, cold)) ta_malloc_unready(size_t n)
{
	void *p;

	if (!ta_ready())
		return ta_boot_alloc(n, 16);
	p = ta_inner.malloc(ta_wrapped_request(n));
	return p ? ta_seal_plain(p, n) : NULL;
}

TA_EXPORT void *malloc(size_t n)
{
	void *p;

	/* unready, or a size the trailer would overflow: the cold path */
	if (TA_UNLIKELY(__atomic_load_n(&ta_inner_state, __ATOMIC_ACQUIRE) != 2 ||
	                n > SIZE_MAX - 2 * TA_TRAILER))
		return ta_malloc_unready(n);
	p = ta_inner.malloc(n + TA_TRAILER);
	if (TA_UNLIKELY(!p))
		return NULL;
	return ta_seal_plain(p, n);
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

	ta_mark_freed(p, b);
	ta_count_free(t, b->gid, b->size, b->usable);
	if (TA_UNLIKELY(ta_hooks_free()))
		ta_hook_free(p, b->size, b->usable, b->gid, t->gid);
	ta_inner.free(p);
}

/* Everything free() does not do inline: ext blocks, foreign and freed
 * blocks, impossible trailers. */
static void __attribute__((noinline, cold)) ta_free_slow(void *p)
{
	struct ta_block b;
	enum ta_verdict v;

	if (ta_boot_owns(p))
		return ta_boot_free();
	v = ta_inspect(p, &b);

	if (v != TA_OWN)
		ta_free_unverified(p, v);
	else
		ta_release(p, &b);
}

static void __attribute__((noinline)) ta_free_hooked(void *p, size_t size, size_t usable,
                                                    uint32_t gid)
{
	ta_hook_free(p, size, usable, gid, ta_tls.gid);
	ta_inner.free(p);
}

TA_EXPORT void free(void *p)
{
	struct ta_tls *t = &ta_tls;
	struct ta_slot *s;
	uint64_t tr, fields;
	size_t usable, slack, size;
	uint32_t gid;

	if (TA_UNLIKELY(!p))
		return;
	/*
	 * The common block: a non-mmapped glibc chunk with a trailer that
	 * verifies, and a slot on this thread; everything else leaves through
	 * a tail call to ta_free_slow. Arena blocks carry a fake header with
	 * IS_MMAPPED set, so they never reach the trailer read here. A trailer
	 * that verifies against the plain secret is not an ext block (those
	 * mix in their size) and has a slack within the block (we wrote it).
	 * No readiness check: a chunk that is not from the arena came from the
	 * inner allocator, which is therefore resolved.
	 */
	if (TA_UNLIKELY(!t->fast)) /* not set up, or not glibc's layout */
		return ta_free_slow(p);
	usable = ((const size_t *)p)[-1];
	if (TA_UNLIKELY(usable & 2)) /* IS_MMAPPED, or the arena */
		return ta_free_slow(p);
	usable = (usable & ~(size_t)7) - 8;
	tr = ta_trailer_load(p, usable);
	fields = tr & ~TA_CHECK_MASK;
	slack = (size_t)(fields >> 16);
	/* the check bits are the top bits of the hash: compare only those */
	if (TA_UNLIKELY(((((uintptr_t)p ^ fields ^ ta_secret) * TA_HASH_MUL) ^ tr) >>
	                TA_CHECK_SHIFT))
		return ta_free_slow(p);
	gid = (uint32_t)(tr & TA_GID_MASK);
	if (TA_LIKELY(gid == t->gid)) {
		s = t->fast;
	} else {
		struct ta_page *pg = t->th ? t->th->pages[gid >> TA_PAGE_SHIFT] : NULL;

		s = pg ? &pg->slot[gid & (TA_PAGE_SLOTS - 1)] : NULL;
	}
	if (TA_UNLIKELY(!s))
		return ta_free_slow(p);
	size = usable - TA_TRAILER - slack;
	ta_trailer_store(p, usable, tr ^ ta_freed_flip);
	TA_BUMP(&s->freed_bytes, size);
	TA_BUMP(&s->freed_objects, 1);
	TA_BUMP(&s->wrapped, -(uint64_t)usable);
	if (TA_UNLIKELY(ta_hooks_free()))
		return ta_free_hooked(p, size, usable, gid);
	ta_inner.free(p);
}

TA_EXPORT void free_sized(void *p, size_t size)
{
	(void)size;
	free(p);
}

TA_EXPORT void free_aligned_sized(void *p, size_t align, size_t size)
{
	(void)align;
	(void)size;
	free(p);
}

TA_EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t n;
	void *p;

	if (TA_UNLIKELY(__builtin_mul_overflow(nmemb, size, &n))) {
		errno = ENOMEM;
		return NULL;
	}
	if (TA_UNLIKELY(!ta_ready()))
		return ta_boot_alloc(n, 16); /* the arena is static storage: zero */
	p = ta_inner.calloc(1, ta_wrapped_request(n));
	if (TA_UNLIKELY(!p))
		return NULL;
	return ta_seal(p, n, 0);
}

static void *ta_aligned(size_t align, size_t n)
{
	void *p = ta_inner.memalign(align, ta_wrapped_request(n));

	if (TA_UNLIKELY(!p))
		return NULL;
	return ta_seal(p, n, align);
}

TA_EXPORT void *memalign(size_t align, size_t n)
{
	if (TA_UNLIKELY(!ta_ready()))
		return ta_boot_alloc(n, align);
	return ta_aligned(align, n);
}

/* glibc 2.36 makes aligned_alloc an alias of memalign: same semantics here. */
TA_EXPORT void *aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

TA_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;
	int err;

	if (TA_UNLIKELY(!ta_ready())) {
		p = ta_boot_alloc(n, align);
		if (!p)
			return ENOMEM;
		*out = p;
		return 0;
	}
	err = ta_inner.posix_memalign(&p, align, ta_wrapped_request(n));
	if (err)
		return err;
	*out = ta_seal(p, n, align);
	return 0;
}

TA_EXPORT void *valloc(size_t n)
{
	return memalign((size_t)sysconf(_SC_PAGESIZE), n);
}

TA_EXPORT void *pvalloc(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t rounded;

	if (TA_UNLIKELY(n > SIZE_MAX - page)) {
		errno = ENOMEM;
		return NULL;
	}
	rounded = (n + page - 1) & ~(page - 1);
	return memalign(page, rounded ? rounded : page);
}

TA_EXPORT size_t malloc_usable_size(void *p)
{
	struct ta_block b;
	enum ta_verdict v;

	if (!p)
		return 0;
	if (ta_boot_owns(p))
		return ta_boot_size(p);
	if (!ta_ready())
		return 0;
	v = ta_inspect(p, &b);
	if (v == TA_OWN)
		return b.usable - ((b.fields >> 16) == TA_SLACK_MAX ? 2 : 1) * TA_TRAILER;
	return v == TA_FREED ? 0 : ta_inner.malloc_usable_size(p);
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

TA_EXPORT void *realloc(void *p, size_t n)
{
	struct ta_block b;
	enum ta_verdict v;
	struct ta_tls *t;
	size_t usable;
	void *q;

	if (!p)
		return malloc(n);
	if (ta_boot_owns(p)) {
		TA_DIAG_INC(ta_diag_boot);
		if (n == 0)
			return NULL;
		return ta_realloc_copy(p, ta_boot_size(p), n, false);
	}
	if (TA_UNLIKELY(!ta_ready()))
		return NULL;
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
	/* Mark the old block freed before the inner realloc may release it;
	 * on failure it is still the caller's and gets its trailer back. */
	ta_flip_freed(p, &b); /* provisional: the flip is its own inverse */
	q = ta_inner.realloc(p, ta_wrapped_request(n));
	if (TA_UNLIKELY(!q)) {
		ta_flip_freed(p, &b);
		return NULL;
	}
	t = ta_tls_ready();
	ta_count_free(t, b.gid, b.size, b.usable);
	usable = ta_stamp(q, n, t->gid);
	ta_count_alloc(t, n, usable);
	if (TA_UNLIKELY(ta_hooks_realloc()))
		ta_hook_realloc(p, q, b.size, b.usable, n, usable, b.gid, t->gid);
	return q;
}

TA_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n);
}
