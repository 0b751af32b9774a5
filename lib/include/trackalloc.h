/* SPDX-License-Identifier: MIT */
/*
 * trackalloc.h - attribute every heap allocation of a program to allocation
 * groups, keep exact per-group counters, trace them with LTTng-UST.
 *
 * pkg-config: trackalloc          library: libtrackalloc.so
 *
 * Linking libtrackalloc.so into a program, or LD_PRELOADing it into an
 * unmodified one, makes it the process's allocator: every malloc-family call
 * is charged to the group active on the calling thread, then forwarded to the
 * next allocator in symbol order (glibc, or jemalloc/mimalloc when preloaded
 * after trackalloc).
 *
 * Conventions, for every function below:
 *  - Functions returning int return 0 on success or a negative errno value.
 *  - Functions returning a pointer return NULL and set errno on failure.
 *  - Nothing in the library prints or aborts because of a caller's mistake.
 *  - Every function is thread-safe and async-signal-unsafe, unless stated.
 *  - Every function may be called from inside a tracker callback
 *    (struct ta_tracker); allocations it makes there are counted in root.
 */
#ifndef TRACKALLOC_H
#define TRACKALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) || !defined(__GNUC__)
#define TA_API
#else
#define TA_API __attribute__((visibility("default")))
#endif

#define TA_VERSION_MAJOR 1
#define TA_VERSION_MINOR 0
#define TA_VERSION_PATCH 0

/* ---------------------------------------------------------------------- */
/* Limits, enforced with EINVAL (lengths, counts) or ENOSPC (capacity).    */
/* ---------------------------------------------------------------------- */

/** Longest group name, in bytes, without the terminating NUL. */
#define TA_GROUP_NAME_MAX 255
/** Longest tag key, in bytes, without the terminating NUL. */
#define TA_TAG_KEY_MAX 63
/** Longest tag value, in bytes, without the terminating NUL. */
#define TA_TAG_VALUE_MAX 255
/** Most tags one group may carry. */
#define TA_TAGS_MAX 16
/** Most groups in a process, root included: ids are 0 .. TA_GROUPS_MAX - 1. */
#define TA_GROUPS_MAX 65536
/** Deepest nesting of guards and spans on one thread. */
#define TA_NEST_MAX 4096

/* ---------------------------------------------------------------------- */
/* Groups                                                                  */
/* ---------------------------------------------------------------------- */

/** An allocation group. Opaque; lives until the process exits. */
typedef struct ta_group ta_group;

/** One key/value tag of a group. Both strings are NUL-terminated. */
struct ta_tag {
	const char *key;
	const char *value;
};

/**
 * ta_group_register - find or create the group called @name.
 * @name:  non-empty, at most TA_GROUP_NAME_MAX bytes. Copied.
 * @tags:  array of @ntags tags, or NULL when @ntags is 0. Copied. Keys are
 *         non-empty, at most TA_TAG_KEY_MAX bytes, and unique within the
 *         array; values are at most TA_TAG_VALUE_MAX bytes (may be empty).
 * @ntags: at most TA_TAGS_MAX.
 *
 * Idempotent: registering a name again with the same set of tags (in any
 * order) returns the existing group. Ids are dense: root is 0, the first
 * registered group is 1, and so on. "root" itself may be registered with no
 * tags, which returns ta_group_root().
 *
 * Return: the group, or NULL with errno set to
 *  EINVAL (bad name, bad tag, too many tags),
 *  EEXIST (the name exists with a different set of tags),
 *  ENOSPC (TA_GROUPS_MAX groups exist),
 *  ENOMEM.
 */
TA_API ta_group *ta_group_register(const char *name, const struct ta_tag *tags, size_t ntags);

/** ta_group_root - the root group: id 0, name "root", no tags. Never NULL. */
TA_API ta_group *ta_group_root(void);

/** ta_group_current - the group active on the calling thread. Never NULL. */
TA_API ta_group *ta_group_current(void);

/** ta_group_find - the group with id @id, or NULL with errno ENOENT. */
TA_API ta_group *ta_group_find(uint32_t id);

/** ta_group_id - @g's id. @g must be a group this library returned. */
TA_API uint32_t ta_group_id(const ta_group *g);

/** ta_group_name - @g's name; the string lives as long as the process. */
TA_API const char *ta_group_name(const ta_group *g);

/**
 * ta_group_tags - @g's tags, in registration order.
 * @tags: if not NULL, receives a pointer to the array (valid until exit).
 * Return: the number of tags.
 */
TA_API size_t ta_group_tags(const ta_group *g, const struct ta_tag **tags);

/* ---------------------------------------------------------------------- */
/* Entering groups                                                         */
/* ---------------------------------------------------------------------- */

/**
 * struct ta_guard - proof of one ta_group_enter(), kept on the caller's stack.
 * The fields are private; a guard may be copied, but only exited once.
 */
typedef struct ta_guard {
	uint64_t _ta_seq;      /* unique per enter; 0 for an inert guard */
	uint32_t _ta_depth;    /* position on the thread's nesting stack */
	uint32_t _ta_group_id; /* the group entered */
} ta_guard;

/**
 * ta_group_enter - make @g the active group of the calling thread.
 *
 * Enters nest: the matching ta_guard_exit() restores what was active before.
 * New threads start in root.
 *
 * Return: the guard. If @g is NULL, the thread is already TA_NEST_MAX deep, or
 * its state or nesting stack cannot be allocated, nothing is entered, errno
 * is set (EINVAL, ENOSPC, ENOMEM) and the guard returned is inert: its exit
 * returns -EINVAL.
 */
TA_API ta_guard ta_group_enter(ta_group *g);

/**
 * ta_guard_exit - leave the group that @guard entered.
 *
 * Exits are LIFO. Exiting a guard that is not the innermost one still leaves
 * the thread consistent: the thread returns to the group that was active
 * before @guard's enter, and every guard or span entered after @guard becomes
 * stale.
 *
 * Return: 0 for the innermost guard;
 *  -EINVAL if @guard is NULL, inert, stale, already exited, from another
 *          thread (nothing changes), or not the innermost (the thread is
 *          unwound as described above);
 */
TA_API int ta_guard_exit(ta_guard *guard);

/** @cond internal */
static inline void _ta_guard_cleanup(ta_guard *guard)
{
	(void)ta_guard_exit(guard);
}
#define _TA_CONCAT2(a, b) a##b
#define _TA_CONCAT(a, b) _TA_CONCAT2(a, b)
/** @endcond */

/**
 * TA_GROUP_SCOPE(g) - enter @g until the end of the enclosing block.
 * GCC/Clang only (cleanup attribute). Usable several times in one block.
 */
#define TA_GROUP_SCOPE(g)                                                            \
	ta_guard _TA_CONCAT(_ta_scope_guard_, __LINE__)                              \
		__attribute__((cleanup(_ta_guard_cleanup), unused)) = ta_group_enter(g)

/* ---------------------------------------------------------------------- */
/* Counters                                                                */
/* ---------------------------------------------------------------------- */

/**
 * struct ta_stats - a group's counters.
 * Sizes are the sizes the program asked for. A free counts in the group that
 * made the allocation, whichever thread frees it. realloc counts as a free of
 * the old block plus an allocation of the new one.
 */
struct ta_stats {
	uint64_t allocated_bytes, allocated_objects; /* requested sizes */
	uint64_t freed_bytes, freed_objects;
	uint64_t wrapped_bytes_live; /* bytes held from the inner allocator, trailers included */
};

/**
 * ta_group_stats - read @g's counters into @out.
 *
 * Exact once the threads that allocate or free in @g are quiescent; while
 * they run, each field is a value it held recently. Cumulative fields never
 * go backwards between two reads, also while threads exit, and a read never
 * shows more objects or bytes freed than allocated. Safe from any
 * thread at any time (takes a lock; not async-signal-safe).
 *
 * Return: 0, or -EINVAL if @g or @out is NULL.
 */
TA_API int ta_group_stats(const ta_group *g, struct ta_stats *out);

/**
 * ta_group_foreach - call @fn for every group, root first, in id order.
 *
 * Groups registered during the walk may or may not be visited. No lock is
 * held while @fn runs, so @fn may call any function of this library.
 *
 * Return: 0 after visiting every group; -EINVAL if @fn is NULL; or the first
 * non-zero value @fn returned, which stops the walk.
 */
TA_API int ta_group_foreach(int (*fn)(ta_group *g, void *arg), void *arg);

/**
 * struct ta_diag - process-wide diagnostic counters of the wrapper.
 */
struct ta_diag {
	/** free/realloc of a pointer whose trailer does not verify: a pointer
	 *  this wrapper did not produce (handed to the inner allocator
	 *  untouched) or a block whose trailer an overflow clobbered (the two
	 *  look alike). No group's counters change. */
	uint64_t foreign_frees;
	/** free/realloc of a block this wrapper already freed (its trailer
	 *  carries the freed mark, or glibc holds the chunk as free): ignored,
	 *  so the inner heap stays intact. Not caught once the memory is handed
	 *  out again, nor for mmapped chunks (unmapped at the first free). */
	uint64_t double_frees;
	/** trailers whose check bits verify but whose fields are impossible
	 *  (size beyond the block, unknown group): the block is treated as
	 *  foreign. Also counts a freed block, held in its thread's cache of
	 *  freed blocks, whose first word was overwritten after the free (a
	 *  use after free): that cache's list of the block's size is dropped,
	 *  its blocks leaked, where glibc's tcache would abort. */
	uint64_t corrupt_trailers;
	/** frees of blocks from the start-up arena (used while the inner
	 *  allocator is being looked up): ignored. */
	uint64_t bootstrap_frees;
	/** 1 when the wrapper reads block sizes from glibc's chunk headers
	 *  (verified at start), 0 when it asks the inner malloc_usable_size. */
	uint64_t fast_usable_size;
};

/** ta_diag_read - read the diagnostic counters. Return: 0 or -EINVAL. */
TA_API int ta_diag_read(struct ta_diag *out);

/**
 * struct ta_diag_ext - diagnostic counters added after SONAME 1 froze
 * struct ta_diag. New fields are only ever appended: a caller passes the
 * size of the struct it was compiled with and gets exactly that much.
 */
struct ta_diag_ext {
	/** sized deallocations (operator delete(void *, size_t) and its array
	 *  and aligned forms, free_sized, free_aligned_sized) given a size
	 *  other than the block's requested size. The block is freed all the
	 *  same, charged by its real size. */
	uint64_t size_mismatches;
	/** allocations refused because they would take a group over its hard
	 *  limit (ta_group_limit_set). */
	uint64_t limit_failures;
};

/**
 * ta_diag_ext_read - read the first @size bytes of struct ta_diag_ext.
 * @size: sizeof(struct ta_diag_ext) as the caller knows it; a multiple of 8,
 *        at least 8. Bytes beyond what this library knows are zeroed.
 * Return: 0 or -EINVAL.
 */
TA_API int ta_diag_ext_read(struct ta_diag_ext *out, size_t size);

/* ---------------------------------------------------------------------- */
/* Spans: let a program's own span ids drive groups                       */
/* ---------------------------------------------------------------------- */

/*
 * A span is identified by a non-zero 64-bit id of the program's choosing. Bind
 * it to a group once; from then on every ta_span_enter() of that id, on any
 * thread, makes the group active on the entering thread until the matching
 * ta_span_exit(). Spans and guards share one nesting stack per thread (at most
 * TA_NEST_MAX frames). The same span may be entered on many threads at once
 * and entered again on one thread while already inside it.
 *
 * ta_span_enter() and ta_span_exit() take no lock and make no allocation
 * through the wrapper (the thread's nesting stack grows like a guard's).
 * Binding and unbinding take a lock, are safe against concurrent enters and
 * exits, and affect later enters only: a thread inside a span keeps the group
 * it entered with until it exits, even if the span is unbound or bound anew
 * meanwhile. Binding and unbinding may wait for the threads that are looking
 * a span up at that moment (inside ta_span_enter(), never longer), so they
 * may be called anywhere, including from a tracker callback.
 */

/**
 * ta_span_bind - bind @span_id to @g.
 * @span_id: non-zero.
 * @g:       a group this library returned.
 *
 * Return: 0, also when @span_id is already bound to @g;
 *  -EEXIST if @span_id is bound to another group (the binding is unchanged);
 *  -EINVAL if @span_id is 0 or @g is NULL or not a group;
 *  -ENOMEM, also when liburcu-cds (the span table's hash table, which the
 *  first bind loads) cannot be loaded.
 */
TA_API int ta_span_bind(uint64_t span_id, ta_group *g);

/**
 * ta_span_unbind - remove @span_id's binding.
 *
 * Threads inside the span keep its group until they exit it; enters after the
 * return find the span unbound. The table entry is freed after an RCU grace
 * period (the unbinding thread waits for one every 64 unbinds).
 *
 * Return: 0; -ENOENT if @span_id is not bound; -EINVAL if @span_id is 0.
 */
TA_API int ta_span_unbind(uint64_t span_id);

/**
 * ta_span_enter - make the group bound to @span_id active on this thread.
 *
 * Pushes a frame recording the group @span_id is bound to now; it stays
 * active until the matching ta_span_exit(). An unbound span still pushes a
 * frame that changes nothing, so that enters and exits stay balanced.
 *
 * Return: 0;
 *  -ENOENT if @span_id is not bound (a no-op frame was pushed: exit it);
 *  -EINVAL if @span_id is 0 (nothing pushed);
 *  -ENOSPC if the thread is already TA_NEST_MAX deep (nothing pushed);
 *  -ENOMEM (nothing pushed).
 */
TA_API int ta_span_enter(uint64_t span_id);

/**
 * ta_span_exit - leave @span_id: the thread returns to the group that was
 * active before the matching ta_span_enter().
 *
 * Exits are LIFO. An exit that is not the innermost leaves the thread
 * consistent:
 *  - if the innermost frame is a guard, or this thread has no frame of
 *    @span_id, nothing changes;
 *  - otherwise (the innermost frame is another span and @span_id was entered
 *    below it) the thread unwinds to the innermost frame of @span_id, as an
 *    out-of-order ta_guard_exit() does: it returns to the group active before
 *    that enter, and every guard and span entered after it is gone (a stale
 *    guard's exit returns -EINVAL; a later exit of one of those spans is
 *    matched, by id, against the frames that remain).
 *
 * Return: 0 if the innermost frame is @span_id's;
 *  -ENOENT if the innermost frame is @span_id's no-op frame (its enter
 *          returned -ENOENT); the frame is popped;
 *  -EINVAL if @span_id is 0 or its frame is not the innermost (see above).
 */
TA_API int ta_span_exit(uint64_t span_id);

/* ---------------------------------------------------------------------- */
/* Tracker callbacks                                                       */
/* ---------------------------------------------------------------------- */

/**
 * struct ta_tracker - callbacks for every allocation and free.
 *
 * Called on the allocating/freeing thread, after the operation, for every
 * call the program makes; never for calls the library makes itself
 * (including from inside a callback). A callback may allocate: those
 * allocations are counted in root and raise no callback. Either function
 * pointer may be NULL.
 */
struct ta_tracker {
	void (*allocated)(void *ctx, const void *ptr, size_t size, size_t wrapped_size,
	                  uint32_t group_id);
	void (*freed)(void *ctx, const void *ptr, size_t size, size_t wrapped_size,
	              uint32_t source_group_id, uint32_t current_group_id);
	void *ctx;
};

/**
 * ta_tracker_set - install a copy of @tracker, or remove it (NULL).
 * When it returns, no thread is still running a callback of the previous
 * tracker (except the calling thread, if it calls this from a callback).
 * Return: 0 or -ENOMEM.
 */
TA_API int ta_tracker_set(const struct ta_tracker *tracker);

/* ---------------------------------------------------------------------- */
/* Peaks and limits                                                        */
/* ---------------------------------------------------------------------- */

/*
 * A group's live bytes are its requested bytes allocated minus freed, on
 * every thread. Each thread keeps its own balance in a group and adds it to
 * the group's shared figure only once it passes TA_PEAK_PRECISION bytes
 * either way (one atomic add per batch; no shared write per call). An
 * allocation that takes a thread's balance to a new high since it last
 * added compares the group's figure with the peak and the limits.
 *
 * Precision: exact while one thread allocates and frees in the group
 * (frees of its blocks by other threads included once those threads added
 * their balances). With several threads, each other thread's balance not
 * yet added, at most TA_PEAK_PRECISION bytes either way, makes the error: a
 * peak may read that much high or low, a hard limit may let the group pass
 * it or refuse that much early. A thread that exits adds its balance.
 */
#define TA_PEAK_PRECISION (256 * 1024)

/**
 * ta_group_peak - the highest live requested bytes @g has had since it was
 * registered or its peak was last reset, within TA_PEAK_PRECISION per
 * thread as above; never less than its exact live bytes now.
 * Return: 0 or -EINVAL (@g or @peak_live_bytes NULL).
 */
TA_API int ta_group_peak(const ta_group *g, uint64_t *peak_live_bytes);

/** ta_group_peak_reset - start @g's peak again from its live bytes now.
 *  Return: 0 or -EINVAL. */
TA_API int ta_group_peak_reset(ta_group *g);

/**
 * ta_group_limit_set - bound @g's live bytes; 0 means no limit.
 * @soft:    when an allocation takes @g above @soft, @on_soft (if not NULL)
 *           is called once, on that thread after the allocation completed,
 *           with @g's live bytes and @ctx, and the trackalloc:group_limit
 *           event is emitted; it fires again only after @g went back to
 *           @soft or below (seen by the free that takes it there on a
 *           thread that saw it above, within the precision below). The
 *           callback runs outside the allocator: it may allocate, free and
 *           call this API (its allocations count in the group active on the
 *           thread). A group already above @soft fires at its next
 *           allocation.
 * @hard:    an allocation that would take @g above @hard fails as if memory
 *           were exhausted: NULL and errno ENOMEM (malloc, calloc, realloc,
 *           which keeps the old block, memalign, aligned_alloc, valloc,
 *           pvalloc), ENOMEM returned (posix_memalign), std::bad_alloc
 *           (operator new, after the new_handler loop). Counted in
 *           ta_diag_ext.limit_failures.
 * Precision as above; the calling thread's own balance is added first, so
 * its next allocation in @g is checked exactly. Root cannot be limited (the
 * library's own allocations count there). Not async-signal-safe.
 * Return: 0; -EINVAL if @g is NULL or root, @soft > @hard (both non-zero),
 * or a limit above INT64_MAX.
 */
TA_API int ta_group_limit_set(ta_group *g, uint64_t soft, uint64_t hard,
                              void (*on_soft)(ta_group *g, uint64_t live, void *ctx), void *ctx);

/** ta_group_limit_get - @g's limits (either pointer may be NULL).
 *  Return: 0 or -EINVAL (@g NULL). */
TA_API int ta_group_limit_get(const ta_group *g, uint64_t *soft, uint64_t *hard);

/* ---------------------------------------------------------------------- */
/* Rules: groups for code nobody instrumented                              */
/* ---------------------------------------------------------------------- */

/*
 * A rule set is rules separated by ';' (none empty). Each rule is
 * KIND:GLOB=GROUP, at most TA_TAG_VALUE_MAX bytes (its text is its groups'
 * tag):
 *
 *   thread:GLOB=GROUP  the calling thread's name (pthread_setname_np,
 *                      prctl(PR_SET_NAME), or inherited from the thread
 *                      that created it, as Linux does) matches GLOB
 *   lib:GLOB=GROUP     the file name of the shared object that made the
 *                      call matches GLOB ("exe" for the main program)
 *
 * GLOB is an fnmatch(3) pattern (flags 0), non-empty. GROUP is a group name
 * in which "%n" stands for the thread's name, or the library's file name
 * without its ".so" suffix and version ("libsqlite3.so.0" -> "libsqlite3";
 * "exe" stays "exe"), and "%%" for '%'. The first matching rule wins, lib
 * rules before thread rules; an explicitly entered group or bound span
 * always wins over every rule. A rule's groups are registered with one tag,
 * "rule" = the rule's text; a name that already exists (with other tags) is
 * used as it is.
 *
 * Lib rules look at the return address of each allocation call: when it is
 * inside libc, ld.so, libstdc++ or libtrackalloc (fopen, getline, a
 * std::string member compiled into libstdc++), they look further up the
 * stack, at most TA_RULES_WALK frames, for the first other module (with
 * libunwind; without it, the call is charged to that module's own rule).
 * strdup, strndup and C++ operator new are the library's own, so their
 * callers are seen directly.
 * Frees always credit the group the block was charged to.
 *
 * Cost: with no rules, none. Thread rules: none per call, the thread's base
 * group changes when its name does. Lib rules: a per-thread cache lookup per
 * allocation (about 56 instructions per malloc/free pair); a stack walk per
 * allocation whose immediate caller is one of the modules above (about 1400
 * instructions).
 */
/** Most rules in one rule set. */
#define TA_RULES_MAX 32
/** Deepest look up the stack for a lib rule's caller. */
#define TA_RULES_WALK 16

/**
 * ta_rules_set - replace the process's rules with @rules (NULL or "": none).
 * Every thread uses the new rules from its next allocation (a thread blocked
 * elsewhere: from its first allocation after it wakes).
 * Return: 0; -EINVAL if @rules is malformed (the rules in force stay;
 * ta_rules_check says why); -ENOMEM.
 */
TA_API int ta_rules_set(const char *rules);

/**
 * ta_rules_check - parse @rules without applying them.
 * @err:  if not NULL and @size > 0, receives a NUL-terminated description of
 *        the first error: "byte P, rule K: REASON" (P counted from 0, K from
 *        1), or "" when @rules is valid.
 * Return: 0 or -EINVAL.
 */
TA_API int ta_rules_check(const char *rules, char *err, size_t size);

/* ---------------------------------------------------------------------- */
/* Sampled allocation stacks                                               */
/* ---------------------------------------------------------------------- */

/*
 * Poisson sampling by bytes, as tcmalloc and jemalloc do: each thread counts
 * down an exponentially distributed number of bytes of mean @mean_bytes, and
 * the allocation that crosses zero is sampled: its caller's stack is
 * captured (libunwind, at most TA_STACK_MAX frames, libtrackalloc's own left
 * out) with a weight, the bytes it stands for (size / (1 - exp(-size /
 * mean)); the size itself when the mean is 1), so that sums of weights
 * estimate bytes without bias, large allocations included. Sampled blocks
 * carry a trailer mark, so their frees are known. What sampling does with a
 * sample: the trackalloc:alloc_sample and free_sample events when LTTng
 * records them, and the live sampled heap that ta_profile_dump() and
 * TRACKALLOC_PROFILE write. Allocations made inside the library (and inside
 * LTTng-UST and the unwinder) are never sampled.
 *
 * Off by default (TRACKALLOC_STACKS=BYTES sets the mean at start;
 * TRACKALLOC_STACKS_SEED=N makes the sampling sequence reproducible). Off,
 * it costs the allocation fast path one thread-local decrement and branch.
 * Not for allocations made from signal handlers: one that interrupts a
 * sample on the same thread is not sampled; one that interrupts another
 * thread's sample waits for it.
 */
#define TA_STACK_MAX 64

/**
 * ta_sampling_set - sample one allocation per @mean_bytes bytes on average:
 * 0 turns sampling off, 1 samples every allocation.
 *
 * The calling thread uses the new mean from its next allocation; other
 * threads from their next sample, or at the latest after 64 MiB of their own
 * allocations. The first call that turns sampling on loads libunwind: do not
 * make it from inside an allocator callback or a signal handler.
 *
 * Return: 0; -ENOSYS when the library was built without stack support or
 * libunwind (libunwind.so.8) cannot be loaded (sampling stays off).
 */
TA_API int ta_sampling_set(uint64_t mean_bytes);

/** ta_sampling_get - the current mean in bytes, 0 when sampling is off. */
TA_API uint64_t ta_sampling_get(void);

/**
 * ta_profile_dump - write the live sampled heap to @path now, in the
 * profile format (doc/profile-format.md: per group and stack, the live and
 * allocated samples and their estimates; frames as module + offset, with
 * build ids). Safe from any thread; not from a signal handler or an
 * allocator callback.
 *
 * Return: 0; -EINVAL if @path is NULL or empty; -ENOMEM; or the negative
 * errno of the failed open or write.
 */
TA_API int ta_profile_dump(const char *path);

/* ---------------------------------------------------------------------- */
/* LTTng                                                                   */
/* ---------------------------------------------------------------------- */

/*
 * When LTTng-UST is loaded (TRACKALLOC_LTTNG): "1" at start; "0" never;
 * "auto" (the default) at start unless libtrackalloc came in through
 * LD_PRELOAD, so that a preloaded process nobody records carries no
 * LTTng-UST thread, descriptor or mapping.
 *
 * Attach request. A preloaded process in auto mode loads LTTng-UST when it
 * receives TA_ATTACH_SIGNAL sent with sigqueue(3) and the value
 * TA_ATTACH_COOKIE (sival_int): the handler only arms a flag, and the
 * process's next malloc starts a short-lived thread that loads the provider,
 * after which LTTng sessions see the process and get every group's name
 * and tags. `trackalloc attach PID` sends it and waits for the load. The
 * handler is installed only when the program left that signal at its
 * default disposition (see /proc/PID/status, SigCgt); the same signal
 * without the cookie does what it would do without the library (terminate).
 * Expand these macros where <signal.h> is included.
 */
#define TA_ATTACH_SIGNAL (SIGRTMAX - 5)
#define TA_ATTACH_COOKIE 0x74616174 /* "taat" */

/**
 * ta_statedump - emit every group's group_register and group_tag events
 * into the active LTTng sessions now.
 * Return: 0, or -ENOSYS when LTTng support is not built or not loaded.
 */
TA_API int ta_statedump(void);

#ifdef __cplusplus
}
#endif

#endif /* TRACKALLOC_H */
