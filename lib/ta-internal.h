/* SPDX-License-Identifier: MIT */
/*
 * Internal declarations shared by the library's sources. Nothing here is
 * exported: the build uses hidden visibility, and only what is marked TA_API
 * (trackalloc.h's macro: the API, the malloc family, the descriptor guard's
 * close family) leaves libtrackalloc.so.
 */
#ifndef TA_INTERNAL_H
#define TA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include <urcu/list.h>

#include "trackalloc.h"

/* Everything declared below lives in this library: hidden, so the compiler
 * addresses it directly instead of through the GOT. */
#pragma GCC visibility push(hidden)

#define TA_LIKELY(x) __builtin_expect(!!(x), 1)
#define TA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TA_INLINE inline __attribute__((always_inline))
/*
 * Code every preloaded process runs: its start-up, the malloc family and a
 * thread's first allocation. GNU ld puts .text.hot.* at the start of the
 * text, after the constructors and the cold parts of functions, so these
 * lie together in a few pages; the kernel maps a file's pages in around
 * each fault (64 KiB at a time by default), and code spread over the whole
 * text would keep all of it resident in every process. A function that
 * runs in every process without it only costs pages (tests/integration/
 * startup-layout.sh names it).
 */
#define TA_START __attribute__((section(".text.hot.ta_start")))
#define TA_TLS __thread __attribute__((tls_model("initial-exec")))

#if defined(__SANITIZE_THREAD__)
#define TA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TA_TSAN 1
#endif
#endif

/* Owner-written, reader-summed counters: plain relaxed loads and stores, never
 * a read-modify-write instruction on shared memory. */
#define TA_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define TA_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
/* One non-locked add: only the owner writes, and the store half is a single
 * aligned 8-byte write, so a reader sees the old or the new value. */
#define TA_BUMP(p, v) __asm__("addq %1, %0" : "+m"(*(p)) : "er"((uint64_t)(v)))
#define TA_DROP(p, v) __asm__("subq %1, %0" : "+m"(*(p)) : "er"((uint64_t)(v)))
#else
#define TA_BUMP(p, v) TA_STORE((p), TA_LOAD(p) + (v))
#define TA_DROP(p, v) TA_STORE((p), TA_LOAD(p) - (v))
#endif

/* ---- inner allocator (inner.c) ---------------------------------------- */

struct ta_inner {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*memalign)(size_t, size_t);
	size_t (*malloc_usable_size)(void *);
};

extern struct ta_inner ta_inner;

/*
 * The allocator's gate: malloc's fast path reads it, and anything but
 * TA_INNER_READY sends the call to the cold path. Once ready, flags may be
 * added: an attach request arms TA_GATE_ATTACH from a signal handler, so the
 * next malloc on any thread acts on the request at no cost to the fast
 * path; lib rules set TA_GATE_RULES for as long as they are in force, so
 * that every allocating call goes where its return address is known.
 */
enum ta_inner_state {
	TA_INNER_UNRESOLVED, /* the inner allocator is not looked up yet */
	TA_INNER_RESOLVING,  /* dlsym is running: the start-up arena serves */
	TA_INNER_READY,
};
#define TA_INNER_STATE_MASK 3
#define TA_GATE_ATTACH 4 /* ready, and an attach request is pending */
#define TA_GATE_RULES 8  /* ready, and lib rules are in force */
extern int ta_inner_state;
/* Non-zero when block sizes can be read from glibc's chunk header. */
extern int ta_glibc_layout;

void ta_inner_init(void);
/* Arm the gate for an attach request (async-signal-safe). */
void ta_inner_attach_arm(void);
/* Disarm it: true when this caller took the pending request. */
bool ta_inner_attach_take(void);
/* Set or clear TA_GATE_RULES (resolving the inner allocator first). */
void ta_inner_rules_gate(bool on);
void *ta_boot_alloc(size_t size, size_t align);
size_t ta_boot_size(const void *p);

/* The start-up arena serves dlsym's allocations before the inner allocator
 * is known (inner.c). */
#define TA_BOOT_SIZE (256 * 1024)
extern unsigned char ta_boot_arena[TA_BOOT_SIZE];

static inline bool ta_boot_owns(const void *p)
{
	return (uintptr_t)p - (uintptr_t)ta_boot_arena < TA_BOOT_SIZE;
}

/*
 * glibc's chunk header: the word before a block holds the chunk size with
 * flags in its low bits. A non-mmapped chunk lends the next chunk's first
 * word (its prev_size) to the block, so its usable size is size - 8; an
 * mmapped one has no next chunk, so size - 16. Used only when ta_glibc_layout
 * says the layout was verified at start (inner.c).
 */
#define TA_CHUNK_PREV_INUSE 1u
#define TA_CHUNK_IS_MMAPPED 2u
#define TA_CHUNK_FLAGS 7u

static inline size_t ta_chunk_head(const void *p)
{
	return ((const size_t *)p)[-1];
}

static inline size_t ta_chunk_size(size_t head)
{
	return head & ~(size_t)TA_CHUNK_FLAGS;
}

static inline size_t ta_glibc_usable(const void *p)
{
	size_t head = ta_chunk_head(p);

	return ta_chunk_size(head) - ((head & TA_CHUNK_IS_MMAPPED) ? 16 : 8);
}

size_t ta_inner_usable_call(void *p);

/* Usable size of a block the inner allocator returned. */
TA_START static inline size_t ta_inner_usable(void *p)
{
	if (TA_LIKELY(ta_glibc_layout))
		return ta_glibc_usable(p);
	return ta_inner_usable_call(p);
}

/* For operator new and delete (new.c; wrapper.c has them): an allocation
 * charged as if the call returned to @ra, and a sized deallocation. */
void *ta_new_alloc(size_t n, size_t align, const void *ra);
void ta_free_sized(void *p, size_t size);

/* ---- per-thread counters (thread.c, counters.c) -------------------------- */

struct ta_slot {
	uint64_t allocated_bytes, allocated_objects;
	uint64_t freed_bytes, freed_objects;
	/* wrapped bytes allocated minus freed plus TA_TRAILER per block, mod
	 * 2^64: on glibc that is the chunk size, which the fast paths read
	 * straight from the header. Readers subtract TA_TRAILER per live block. */
	uint64_t held;
	/* The peak's batch (limits.c): with d the requested bytes this thread
	 * allocated minus freed in the group since it last added d to the
	 * group's shared live figure, and hwm the highest d since then,
	 * rise = d - hwm (an allocation that makes it positive is a new local
	 * high) and fall = d + TA_PEAK_BATCH (a free that makes it negative
	 * adds d to the group; d = fall - bias, bias being TA_PEAK_BATCH unless
	 * a soft limit asks for an earlier look). Owner-written, like the
	 * counters. */
	int64_t rise, fall, bias;
};

/* How far a thread's unshared balance in a group may go: the precision of
 * peaks and limits with several threads (trackalloc.h). */
#define TA_PEAK_BATCH TA_PEAK_PRECISION

#define TA_PAGE_SHIFT 8
#define TA_PAGE_SLOTS (1u << TA_PAGE_SHIFT)
#define TA_PAGES (TA_GROUPS_MAX / TA_PAGE_SLOTS)

struct ta_page {
	struct ta_slot slot[TA_PAGE_SLOTS];
};

/* One entry of a thread's nesting stack: a guard or a span. */
struct ta_frame {
	uint64_t seq;      /* the guard's seq; spans use it too */
	uint64_t span_id;  /* 0 for a guard */
	uint32_t prev_gid; /* group active before this frame */
	uint32_t gid;      /* group this frame made active */
	uint32_t unbound;  /* span enter of an unbound span: a no-op frame */
	uint32_t nbound;   /* bound frames (guards, bound spans) up to this one */
};

/* One entry of a thread's cache of calling modules (modules.c): calls
 * returning into [lo, lo + len) go to @gid (TA_NO_RULE: no lib rule), or
 * look further up the stack (@walk). */
struct ta_mcache {
	uintptr_t lo, len;
	uint32_t gid;
	uint32_t walk;
};
#define TA_MCACHE 8

/* Heap part of a thread's state, registered in the thread registry. */
struct ta_thread {
	struct cds_list_head node;   /* in ta_threads, under ta_registry_lock */
	struct ta_page *pages[TA_PAGES]; /* written by owner, read by summers */
	struct ta_frame *stack;
	uint32_t depth, stack_cap;
	uint64_t serial;   /* unique per thread, high bits of guard seqs */
	uint64_t next_seq;
	/* odd while inside a tracker callback; see tracker.c */
	uint64_t hook_gen;
	/* odd while inside a read-side section of the span table; see spans.c */
	uint64_t rcu_gen;
	uint32_t rcu_nest;
	/* bound frames on the stack: lib rules apply only where it is 0 */
	uint32_t bound;
	/* a lib rule's group is active for one call (rules-internal.h) */
	uint32_t lib_call;
	/* the group the thread counts in outside any frame: root, or what a
	 * thread rule gives its name (names.c) */
	uint32_t base_gid;
	/* bumped by another thread (a rename of this one, a rule change) to
	 * ask for a new base; name_seen is the owner's last look */
	uint64_t name_gen, name_seen;
	struct ta_tls *tls; /* the owner's TLS, for such a request */
	pthread_t self;
	/* bumped by another thread's ta_group_limit_set or peak reset: this
	 * thread's next allocation makes every batch's high its balance now,
	 * so that its next allocation in any group is looked at (limits.c) */
	uint64_t batch_gen, batch_seen;
	/* calling modules (modules.c), valid while mcache_gen is current */
	uint64_t mcache_gen;
	struct ta_mcache mcache[TA_MCACHE];
};

/* Whose thread it is, learnt at its first hook (or when the library starts
 * one of its own). */
enum ta_thread_kind {
	TA_THREAD_UNKNOWN,
	TA_THREAD_PROGRAM,
	TA_THREAD_UST,     /* LTTng-UST's own (listener threads) */
	TA_THREAD_LIBRARY, /* the library's (watcher, sampler, loader) */
};

/* The wrapper's per-thread cache of freed blocks (cache.h): glibc chunks of 32 to
 * 16 * (TA_CACHE_CLASSES - 1) bytes (requests up to 992 bytes), at most
 * TA_CACHE_DEPTH of each size: as many as glibc's own tcache holds, one
 * more each. */
#define TA_CACHE_CLASSES 64
#define TA_CACHE_DEPTH 8

/* Where a thread is in its life, as its TLS sees it. */
enum ta_tls_state {
	TA_TLS_NEW,    /* no allocation or enter yet: no state attached */
	TA_TLS_LIVE,   /* attached to a struct ta_thread in the registry */
	TA_TLS_EXITED, /* its pthread key destructor ran: counts go to totals */
};

/* Initial-exec TLS: the fast path reads only this. */
struct ta_tls {
	struct ta_slot *slot;   /* slot of the active group; NULL: not set up */
	struct ta_slot *fast;   /* = slot when glibc's layout is verified, else NULL:
	                         * the malloc/free fast paths test only this */
	int64_t sample_left;    /* bytes to allocate before the next sample
	                         * (sampling.c): the seal subtracts each size */
	struct ta_thread *th;
	uint32_t gid;           /* active group id */
	uint32_t nesting;       /* > 0 while the library itself runs */
	int state;              /* enum ta_tls_state */
	int kind;               /* enum ta_thread_kind */
	struct ta_slot *root_slot; /* this thread's slot of root */
	uint32_t saved_gid;     /* active group before the outermost nesting */
	struct ta_slot *saved_slot;
	uint32_t in_usable;     /* > 0 inside the inner malloc_usable_size */
	uint32_t reserve;       /* > 0: a failed inner malloc or calloc is served
	                         * by the start-up arena (see ta_reserve_enter) */
	uint32_t in_sample;     /* > 0 while this thread takes a sample */
	uint32_t sample_armed;  /* sample_left was drawn with sampling on */
	uint64_t sample_rng;    /* the sampler's generator; 0 until seeded */
	/* the group (and this thread's slot of it) the last lib-rule call was
	 * charged to: free's fast path looks here when a block is not in the
	 * active group (rules-internal.h); UINT32_MAX: none */
	uint32_t rule_gid;
	struct ta_slot *rule_slot;
	/* The wrapper's cache of freed glibc chunks (cache.h): per chunk
	 * size (16 bytes per class), a list linked through the blocks' first
	 * word, and its length. */
	uint8_t cache_count[TA_CACHE_CLASSES];
	void *cache[TA_CACHE_CLASSES];
};

extern TA_TLS struct ta_tls ta_tls;

/* Give the inner allocator back every block of this thread's cache (its
 * exit; cache.c). */
void ta_cache_flush(struct ta_tls *t);
/* The same, and keep nothing from now on (TRACKALLOC_CACHE=0). */
void ta_cache_off(struct ta_tls *t);

extern struct cds_list_head ta_threads;
extern pthread_mutex_t ta_registry_lock;

void ta_thread_setup(struct ta_tls *t);
/* Wait until every other live thread whose generation counter at @offset in
 * struct ta_thread was odd has changed it (left the section it was in). */
void ta_threads_quiesce(size_t offset);

/* Set the active slot (and the fast-path copy). */
static inline void ta_tls_set_slot(struct ta_tls *t, struct ta_slot *s)
{
	t->slot = s;
	t->fast = ta_glibc_layout ? s : NULL;
}
struct ta_slot *ta_thread_slot_alloc(struct ta_thread *th, uint32_t gid);

/* @th's counter slot of group @gid; NULL when its page cannot be made.
 * Inline: every enter and exit looks one up. */
static inline struct ta_slot *ta_thread_slot(struct ta_thread *th, uint32_t gid)
{
	struct ta_page *pg = th->pages[gid >> TA_PAGE_SHIFT];

	if (TA_LIKELY(pg))
		return &pg->slot[gid & (TA_PAGE_SLOTS - 1)];
	return ta_thread_slot_alloc(th, gid);
}

/* Make @gid the thread's active group (guards.c, spans.c). */
static inline void ta_thread_make_active(struct ta_tls *t, uint32_t gid)
{
	struct ta_slot *s = t->th ? ta_thread_slot(t->th, gid) : NULL;

	if (t->nesting) {
		/* Inside the library (a tracker callback, say) the thread
		 * counts in root; the change shows once the nesting ends. */
		t->saved_gid = gid;
		t->saved_slot = s;
	} else {
		t->gid = gid;
		ta_tls_set_slot(t, s);
	}
}

/* Library-internal section: allocations in it count in root, raise no hook.
 * Inline: every hook (tracker call, per-call event) runs inside one. */
static inline void ta_nest_enter(void)
{
	struct ta_tls *t = &ta_tls;

	if (t->nesting++ == 0) {
		t->saved_gid = t->gid;
		t->saved_slot = t->slot;
		t->gid = 0;
		ta_tls_set_slot(t, t->root_slot);
	}
}

static inline void ta_nest_exit(void)
{
	struct ta_tls *t = &ta_tls;

	if (--t->nesting == 0) {
		t->gid = t->saved_gid;
		ta_tls_set_slot(t, t->state == TA_TLS_LIVE ? t->saved_slot : NULL);
	}
}

/*
 * A quiet section: the light library-internal section of the per-call events
 * when no tracker is set, for code that only calls into LTTng-UST. It leaves
 * the active group as it is and clears the fast-path slot, so that what
 * LTTng-UST allocates in it takes the slow path, which charges root while
 * the thread is nested (ta_tls_charge_*). Code that may read the active group
 * or run the program's callbacks uses ta_nest_enter instead.
 */
static inline struct ta_slot *ta_quiet_enter(struct ta_tls *t)
{
	struct ta_slot *fast = t->fast;

	t->nesting++;
	t->fast = NULL;
	return fast;
}

static inline void ta_quiet_exit(struct ta_tls *t, struct ta_slot *fast)
{
	t->fast = fast;
	t->nesting--;
}

/* What this thread's allocations are charged to: root inside a
 * library-internal section (of either kind), else the active group. */
static inline uint32_t ta_tls_charge_gid(const struct ta_tls *t)
{
	return t->nesting ? 0 : t->gid;
}

static inline struct ta_slot *ta_tls_charge_slot(const struct ta_tls *t)
{
	return t->nesting ? t->root_slot : t->slot;
}

/*
 * A reserve section: around calls into liburcu that allocate and cannot
 * fail (cds_lfht_new and cds_lfht_resize assert on a NULL calloc), a failed
 * inner malloc or calloc is served by the start-up arena while it has room,
 * so that the caller sees its own error path instead of an abort.
 */
static inline void ta_reserve_enter(void)
{
	ta_tls.reserve++;
}

static inline void ta_reserve_exit(void)
{
	ta_tls.reserve--;
}

/* Counters of a dead thread, or of the slow path when a thread has no slot. */
void ta_totals_add(uint32_t gid, const struct ta_slot *delta);
void ta_count_alloc_slow(uint32_t gid, size_t size, size_t wrapped);
void ta_count_free_slow(uint32_t gid, size_t size, size_t wrapped);

/* ---- groups (groups.c) ------------------------------------------------- */

struct ta_group {
	uint32_t id;
	uint32_t ntags;
	char *name;
	struct ta_tag *tags;
	/* counts folded from exited threads and slow-path counts */
	struct ta_slot totals;
	/* peaks and limits (limits.c) */
	int64_t live;       /* the threads' shared balances, atomic adds */
	uint64_t peak;      /* highest live seen, atomic max */
	uint64_t soft, hard; /* 0: none */
	int soft_over;      /* a soft crossing fired and live has not dropped back */
	uint32_t on_soft_seq; /* odd while the pair below changes */
	void (*on_soft)(struct ta_group *g, uint64_t live, void *ctx);
	void *on_soft_ctx;
};

extern struct ta_group ta_root;
extern struct ta_group *ta_groups[TA_GROUPS_MAX]; /* [0] unused: root is ta_root */
extern uint32_t ta_ngroups; /* published with release */

static inline struct ta_group *ta_group_by_id(uint32_t id)
{
	if (id >= __atomic_load_n(&ta_ngroups, __ATOMIC_ACQUIRE))
		return NULL;
	return id ? ta_groups[id] : &ta_root;
}

/* ta_group_register, except that a name registered with other tags gives
 * that group (the rules' groups: the first rule to name it tags it). */
struct ta_group *ta_group_register_any(const char *name, const struct ta_tag *tags,
                                       size_t ntags);

void ta_groups_atfork_prepare(void);
void ta_groups_atfork_parent(void);
void ta_groups_atfork_child(void);

/* ---- diagnostics ------------------------------------------------------- */

extern uint64_t ta_diag_foreign, ta_diag_double, ta_diag_corrupt, ta_diag_boot;
extern uint64_t ta_diag_size_mismatch, ta_diag_limit; /* struct ta_diag_ext */
#define TA_DIAG_INC(x) __atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)

/* ---- tracker (tracker.c; the hooks calling it are in hooks-internal.h) -- */

/* Non-zero when a tracker is installed: the wrapper then takes the hook path. */
extern int ta_tracker_active;

void ta_tracker_call_alloc(const void *ptr, size_t size, size_t wrapped, uint32_t gid);
void ta_tracker_call_free(const void *ptr, size_t size, size_t wrapped, uint32_t src,
                          uint32_t cur);
void ta_tracker_call_realloc(const void *in, const void *out, size_t old_size,
                             size_t old_wrapped, size_t size, size_t wrapped, uint32_t src,
                             uint32_t cur);

/* ---- nesting stack (guards.c) ------------------------------------------ */

struct ta_frame *ta_frame_push(uint32_t gid, uint64_t span_id, bool unbound);
void ta_frame_unwind(uint32_t depth);

/* The frame at @depth (1-based) on this thread's stack, or NULL. */
static inline struct ta_frame *ta_frame_at(uint32_t depth)
{
	struct ta_thread *th = ta_tls.th;

	if (!th || depth == 0 || depth > th->depth)
		return NULL;
	return &th->stack[depth - 1];
}

static inline uint32_t ta_frame_depth(void)
{
	struct ta_thread *th = ta_tls.th;

	return th ? th->depth : 0;
}

/* ---- configuration (options.c, exit-report.c) -------------------------- */

#define TA_SAMPLE_MS_MAX 3600000u

enum ta_lttng_mode { TA_LTTNG_OFF, TA_LTTNG_ON, TA_LTTNG_AUTO };

struct ta_config {
	int lttng;           /* TRACKALLOC_LTTNG: enum ta_lttng_mode */
	bool preloaded;      /* the library came in through LD_PRELOAD */
	unsigned sample_ms;  /* TRACKALLOC_SAMPLE_MS */
	const char *report;  /* TRACKALLOC_REPORT */
	const char *gate;    /* TRACKALLOC_RECORD_GATE: trackalloc record's socket */
	uint64_t stacks;     /* TRACKALLOC_STACKS: the sampling mean, 0 off */
	uint64_t stacks_seed; /* TRACKALLOC_STACKS_SEED */
	bool stacks_seeded;
	const char *profile; /* TRACKALLOC_PROFILE */
	const char *groups;  /* TRACKALLOC_GROUPS */
	const char *limits;  /* TRACKALLOC_LIMITS */
	bool no_cache;       /* TRACKALLOC_CACHE=0: no cache of freed blocks */
};

extern struct ta_config ta_config;

/* The environment (options.c) */
void ta_config_init(void);
int ta_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);
int ta_parse_size(const char *s, uint64_t *out);
/* Say something on stderr (start and exit only), through a private copy of
 * it once ta_warn_keep_stderr() made one. */
void ta_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ta_warn_keep_stderr(void);
extern int ta_warn_fd;

/* Buffered writes to a descriptor, no stdio (out.c). */
struct ta_out {
	int fd;
	size_t len;
	int failed; /* errno of the first failed write, or 0 */
	char buf[8192];
};
void ta_out_flush(struct ta_out *o);
void ta_out_raw(struct ta_out *o, const char *s, size_t n);
void ta_out_fmt(struct ta_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ta_out_json_str(struct ta_out *o, const char *s);

/* A file named by an environment variable, written at exit (out.c). */
struct ta_exit_file {
	const char *var;  /* the variable, for messages */
	const char *spec; /* its value; "%p" stands for the pid */
	pid_t pid;        /* the process that read it */
	bool warned;      /* a failure was said */
};
/* Check at start that the file can be written (say so once if not);
 * @stderr_ok: "-" means stderr. */
void ta_exit_file_init(struct ta_exit_file *f, const char *var, const char *spec,
                       bool stderr_ok);
/* The path for this process; false when it must not write one (a forked
 * child, unless the name has "%p"). */
bool ta_exit_file_path(const struct ta_exit_file *f, char *path, size_t size);
/* Say once that the file could not be written, and why. */
void ta_exit_file_failed(struct ta_exit_file *f, const char *path, int err);

/* The exit report (exit-report.c): TRACKALLOC_REPORT. */
void ta_exit_report_setup(void);

/* ---- LTTng-UST's descriptors (fdguard.c) -------------------------------- */

/* From now on close, fclose, closefrom and close_range leave LTTng-UST's
 * descriptors open. Called once LTTng-UST is loaded. */
void ta_fdguard_init(void);
void ta_fdguard_arm(void);
/* Give this thread what the guard needs (LTTng-UST's TLS), if armed. */
void ta_fdguard_thread_init(void);

/* ---- fork handlers ------------------------------------------------------ */

void ta_threads_atfork_prepare(void);
void ta_threads_atfork_parent(void);
void ta_threads_atfork_child(bool locked);
void ta_spans_atfork_prepare(void);
void ta_spans_atfork_parent(void);
void ta_spans_atfork_child(bool locked);
void ta_tracker_atfork_prepare(void);
void ta_tracker_atfork_parent(void);
void ta_tracker_atfork_child(void);

#pragma GCC visibility pop

#endif /* TA_INTERNAL_H */
