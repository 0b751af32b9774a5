/* SPDX-License-Identifier: MIT */
/*
 * The inner allocator: whatever malloc comes after libtrackalloc.so in symbol
 * order, found with dlsym(RTLD_NEXT). dlsym itself may allocate, so while the
 * lookup runs allocations come from a small static arena whose blocks free()
 * recognises and ignores.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "ta-internal.h"
#include "trailer.h"

struct ta_inner ta_inner;
int ta_inner_state;
int ta_glibc_layout;

#define TA_BOOT_HDR 16

unsigned char ta_boot_arena[TA_BOOT_SIZE] __attribute__((aligned(64)));
static size_t ta_boot_used;

size_t ta_boot_size(const void *p)
{
	size_t n;

	memcpy(&n, (const unsigned char *)p - TA_BOOT_HDR, sizeof(n));
	return n;
}

/*
 * Bump allocation with the size stored in a 16-byte header. Never freed: it
 * only serves the few calls dlsym makes before the inner allocator is known.
 */
void *ta_boot_alloc(size_t size, size_t align)
{
	size_t old, start, end;

	if (align < TA_BOOT_HDR)
		align = TA_BOOT_HDR;
	if (align & (align - 1) || size > TA_BOOT_SIZE) {
		errno = ENOMEM;
		return NULL;
	}
	old = __atomic_load_n(&ta_boot_used, __ATOMIC_RELAXED);
	do {
		start = (old + TA_BOOT_HDR + align - 1) & ~(align - 1);
		end = start + ((size + 15) & ~(size_t)15);
		if (end > TA_BOOT_SIZE) {
			errno = ENOMEM;
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&ta_boot_used, &old, end, false, __ATOMIC_RELAXED,
	                                      __ATOMIC_RELAXED));
	memcpy(ta_boot_arena + start - TA_BOOT_HDR, &size, sizeof(size));
	{
		/* A fake glibc chunk header with IS_MMAPPED set: free()'s fast
		 * path sends such blocks to its slow path, which knows the arena. */
		size_t head = (end - start + 16) | TA_CHUNK_IS_MMAPPED;

		memcpy(ta_boot_arena + start - 8, &head, sizeof(head));
	}
	return ta_boot_arena + start; /* static storage: already zero */
}

/*
 * Reading the block size from glibc's chunk header saves an indirect call per
 * free. It is only used when the inner malloc is glibc's own (not a debug
 * shim, not jemalloc) and the computed size matches malloc_usable_size for a
 * spread of sizes, alignments and an mmapped block.
 */
static void *ta_inner_real_malloc(void);

/*
 * The sizes leave the program's heap as they found it: small blocks only,
 * and one mmapped block above glibc's DEFAULT_MMAP_THRESHOLD_MAX (32 MiB on
 * 64-bit), whose free does not raise the dynamic mmap threshold. Freeing a
 * 1 MiB mmapped block would: the program's blocks between 128 KiB and 1 MiB
 * would then come from the heap, and its heap would be trimmed later. The
 * large block costs an mmap and a munmap and touches one page.
 */
TA_START static int ta_glibc_layout_verified(void)
{
	static const size_t sizes[] = { 0, 1, 8, 24, 25, 100, 1000, 40u << 20 };
	Dl_info info;
	size_t i;

	if (!dladdr(ta_inner_real_malloc(), &info) || !info.dli_fname ||
	    !strstr(info.dli_fname, "/libc.so"))
		return 0;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *plain = ta_inner.malloc(sizes[i]);
		void *aligned = ta_inner.memalign(256, sizes[i]);
		int ok = 1;

		if (plain)
			ok &= ta_glibc_usable(plain) == ta_inner.malloc_usable_size(plain);
		if (aligned)
			ok &= ta_glibc_usable(aligned) == ta_inner.malloc_usable_size(aligned);
		ta_inner.free(plain);
		ta_inner.free(aligned);
		if (!ok)
			return 0;
	}
	return 1;
}

/* Check-bit secrets from the 16 random bytes the kernel gives every process
 * (no syscall, available before anything else runs). */
TA_START static void ta_secrets_init(void)
{
	const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
	uint64_t a = 0x6a09e667f3bcc909ull, b = 0xbb67ae8584caa73bull;

	if (r) {
		memcpy(&a, r, 8);
		memcpy(&b, r + 8, 8);
	}
	a ^= (uintptr_t)&ta_inner;
	ta_secret = a | 1; /* the address multiplier: odd */
	/* the marks: their top 20 bits (the check bits) non-zero and
	 * distinct, so that no mark's trailer verifies under another */
	ta_mark_sampled = ((a * TA_HASH_MUL) ^ (b >> 7) ^ 0x5bd1e995ull) | (1ull << 63);
	ta_mark_ext = (b & ~(1ull << 63)) | (1ull << 62);
}

#if defined(__SANITIZE_THREAD__)
/*
 * TSan builds. The inner allocator (glibc's, not TSan's: the wrapper's
 * RTLD_NEXT is past the sanitizer) orders a free and a later allocation of
 * the same memory with its own locks, which TSan cannot see: memory that one
 * thread wrote (a trailer) and another thread then gets would be reported as
 * a race. Every inner call goes through these, which tell TSan about that
 * order (also for the chunk headers the glibc fast path reads).
 */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

static struct ta_inner ta_tsan_real;
static char ta_tsan_heap; /* the one sync object: the inner heap */

static void *ta_tsan_malloc(size_t n)
{
	void *p = ta_tsan_real.malloc(n);

	__tsan_acquire(&ta_tsan_heap);
	return p;
}

static void ta_tsan_free(void *p)
{
	__tsan_release(&ta_tsan_heap);
	ta_tsan_real.free(p);
}

static void *ta_tsan_calloc(size_t a, size_t b)
{
	void *p = ta_tsan_real.calloc(a, b);

	__tsan_acquire(&ta_tsan_heap);
	return p;
}

static void *ta_tsan_realloc(void *p, size_t n)
{
	void *q;

	__tsan_release(&ta_tsan_heap);
	q = ta_tsan_real.realloc(p, n);
	__tsan_acquire(&ta_tsan_heap);
	return q;
}

static int ta_tsan_posix_memalign(void **out, size_t align, size_t n)
{
	int err = ta_tsan_real.posix_memalign(out, align, n);

	__tsan_acquire(&ta_tsan_heap);
	return err;
}

static void *ta_tsan_memalign(size_t align, size_t n)
{
	void *p = ta_tsan_real.memalign(align, n);

	__tsan_acquire(&ta_tsan_heap);
	return p;
}

static void *ta_inner_real_malloc(void)
{
	return (void *)ta_tsan_real.malloc;
}

static void ta_tsan_wrap(struct ta_inner *in)
{
	ta_tsan_real = *in;
	in->malloc = ta_tsan_malloc;
	in->free = ta_tsan_free;
	in->calloc = ta_tsan_calloc;
	in->realloc = ta_tsan_realloc;
	in->posix_memalign = ta_tsan_posix_memalign;
	in->memalign = ta_tsan_memalign;
}
#else
static void *ta_inner_real_malloc(void)
{
	return (void *)ta_inner.malloc;
}

static void ta_tsan_wrap(struct ta_inner *in)
{
	(void)in;
}
#endif

#define TA_RESOLVE(field, name)                                                      \
	do {                                                                         \
		void *sym = dlsym(RTLD_NEXT, name);                                  \
		memcpy(&resolved.field, &sym, sizeof(sym));                          \
	} while (0)

TA_START void ta_inner_init(void)
{
	struct ta_inner resolved;
	int expected = TA_INNER_UNRESOLVED;

	if (__atomic_load_n(&ta_inner_state, __ATOMIC_ACQUIRE) >= TA_INNER_READY)
		return;
	if (!__atomic_compare_exchange_n(&ta_inner_state, &expected, TA_INNER_RESOLVING, false,
	                                 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* Another thread (or this one, re-entered through dlsym) is
		 * resolving: callers fall back to the arena until it is done. */
		return;
	}
	memset(&resolved, 0, sizeof(resolved));
	TA_RESOLVE(malloc, "malloc");
	TA_RESOLVE(free, "free");
	TA_RESOLVE(calloc, "calloc");
	TA_RESOLVE(realloc, "realloc");
	TA_RESOLVE(posix_memalign, "posix_memalign");
	TA_RESOLVE(memalign, "memalign");
	TA_RESOLVE(malloc_usable_size, "malloc_usable_size");
	if (!resolved.malloc || !resolved.free || !resolved.calloc || !resolved.realloc ||
	    !resolved.posix_memalign || !resolved.memalign || !resolved.malloc_usable_size) {
		/* Without a complete inner allocator nothing can work; this is
		 * a broken installation, not a caller's mistake. */
		static const char msg[] = "trackalloc: no inner allocator found after "
		                          "libtrackalloc.so (dlsym RTLD_NEXT failed)\n";
		ssize_t r = write(2, msg, sizeof(msg) - 1);
		(void)r;
		abort();
	}
	ta_tsan_wrap(&resolved);
	ta_inner = resolved;
	/* Warm the inner allocator's size query up while the arena still
	 * serves: tcmalloc's builds its MallocExtension with operator new on
	 * first use, which comes back into malloc. */
	{
		void *p = resolved.malloc(16);

		if (p) {
			(void)ta_inner_usable_call(p);
			resolved.free(p);
		}
	}
	ta_secrets_init();
	ta_glibc_layout = ta_glibc_layout_verified();
	__atomic_store_n(&ta_inner_state, TA_INNER_READY, __ATOMIC_RELEASE);
}

/*
 * The inner malloc_usable_size, for inner allocators other than glibc. It
 * may allocate (tcmalloc's does, once): ta_tls.in_usable tells the wrapper
 * that such an allocation cannot itself be sized (wrapper.c, ta_seal_slow).
 */
TA_START size_t ta_inner_usable_call(void *p)
{
	struct ta_tls *t = &ta_tls;
	size_t n;

	t->in_usable++;
	n = ta_inner.malloc_usable_size(p);
	t->in_usable--;
	return n;
}

/* The gate's flags change only while it is ready, by compare-and-swap
 * loops: lock-free, so arming from a signal handler is safe. */
static void ta_gate_flag(int flag, bool on)
{
	int s = __atomic_load_n(&ta_inner_state, __ATOMIC_ACQUIRE);

	while ((s & TA_INNER_STATE_MASK) == TA_INNER_READY &&
	       !__atomic_compare_exchange_n(&ta_inner_state, &s, on ? s | flag : s & ~flag, false,
	                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

void ta_inner_attach_arm(void)
{
	ta_gate_flag(TA_GATE_ATTACH, true);
}

bool ta_inner_attach_take(void)
{
	int s = __atomic_load_n(&ta_inner_state, __ATOMIC_ACQUIRE);

	do {
		if (!(s & TA_GATE_ATTACH))
			return false;
	} while (!__atomic_compare_exchange_n(&ta_inner_state, &s, s & ~TA_GATE_ATTACH, false,
	                                      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return true;
}

void ta_inner_rules_gate(bool on)
{
	ta_inner_init();
	ta_gate_flag(TA_GATE_RULES, on);
}
