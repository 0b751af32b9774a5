/* SPDX-License-Identifier: MIT */
/*
 * The sampled-stacks model (report-stacks.c): per process, the mapped
 * modules, the distinct call stacks, and per (group, stack) the sampled
 * figures of a profile file (report-profile.c) or of a trace's
 * alloc_sample/free_sample events (report-stacks-decode.c). Readers change
 * it only through these functions; report-collapse.c reads its fields.
 * Not thread-safe: one reader feeds it.
 *
 * Addresses are what the process saw. A frame names its module by index
 * (RS_NO_MODULE: an address in no module; RS_UNRESOLVED: a trace's
 * address, mapped to a module by rs_model_finish()).
 */
#ifndef TA_REPORT_STACKS_H
#define TA_REPORT_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RS_STACK_MAX 64 /* TA_STACK_MAX: frames per sample */
#define RS_BUILD_ID_MAX 64
#define RS_NO_MODULE (-1)
#define RS_UNRESOLVED (-2)

/* How a module's addresses become file addresses. */
enum rs_base {
	RS_BASE_BIAS,    /* profile: base is the load bias, file address = addr - base */
	RS_BASE_SEGMENT, /* trace, PIC: base is where the first PT_LOAD segment is
	                  * mapped (statedump's baddr), file address = addr - base +
	                  * that segment's p_vaddr */
	RS_BASE_FIXED,   /* trace, not PIC: file address = addr */
};

struct rs_module {
	char *path;
	uint8_t build_id[RS_BUILD_ID_MAX];
	size_t build_id_len; /* 0: none recorded */
	uint64_t low, high;  /* mapped addresses [low, high) */
	uint64_t base;
	enum rs_base base_kind;
	char *debug_link;    /* the .gnu_debuglink name, or NULL */
	bool unloaded;       /* lttng_ust_lib:unload seen */
};

struct rs_frame {
	int32_t module;
	uint64_t addr; /* a return address, as the process saw it */
};

/* Sampled figures of one site or group (see doc/profile-format.md). */
struct rs_counts {
	uint64_t live_objects, live_bytes, live_estimate;
	uint64_t alloc_objects, alloc_bytes, alloc_estimate;
	uint64_t peak_estimate; /* live estimate when its group's was highest */
};

struct rs_site {
	uint32_t gid, stack;
	struct rs_counts c;
	uint64_t epoch; /* the group peak its peak_estimate is up to date with */
};

struct rs_group_state {
	uint64_t live_estimate, peak_estimate, epoch;
	int64_t peak_ts;
	bool seen;
};

struct rs_stack {
	uint32_t first, n; /* frames[first .. first + n) */
	uint64_t hash;
};

struct rs_live; /* a live sampled block (report-stacks.c) */

struct rs_proc {
	int64_t pid;
	struct rs_module *modules;
	uint32_t nmodules, modules_cap;
	struct rs_frame *frames;
	size_t nframes, frames_cap;
	struct rs_stack *stacks;
	uint32_t nstacks, stacks_cap;
	uint32_t *stack_index; /* open addressing: stack id + 1, 0 empty */
	size_t stack_mask;
	struct rs_site *sites;
	uint32_t nsites, sites_cap;
	uint32_t *site_index;  /* open addressing: site index + 1 */
	size_t site_mask;
	struct rs_group_state *groups; /* by group id */
	uint32_t groups_cap;
	struct rs_live *live;  /* live sampled blocks, by address */
	uint64_t live_mask, live_count;
	uint64_t alloc_samples, free_samples, unknown_frees;
};

struct rs_model {
	struct rs_proc **procs;
	size_t nprocs, procs_cap;
	/* a profile's header: sampling mean (0: unknown) and dump time */
	uint64_t sampling;
	int64_t profile_time;
	bool from_profile;
	uint64_t alloc_samples; /* over every process */
};

void rs_model_init(struct rs_model *m);
void rs_model_fini(struct rs_model *m);
/* The process @pid, created on first use (NULL: out of memory). */
struct rs_proc *rs_model_proc(struct rs_model *m, int64_t pid);
/* Map every RS_UNRESOLVED frame to its module, bring every site's
 * peak_estimate up to date (call once, after the read). */
void rs_model_finish(struct rs_model *m);

/*
 * A module mapped at [@low, @high) (@path and @debug_link copied; either may
 * be NULL). Returns its index, or -1 when out of memory. A trace's module
 * mapped again at the same base replaces the earlier one.
 */
int32_t rs_proc_add_module(struct rs_proc *p, const char *path, uint64_t low, uint64_t high,
                           uint64_t base, enum rs_base kind);
/* The module whose base is @base (the statedump's key), or -1. */
int32_t rs_proc_module_at_base(const struct rs_proc *p, uint64_t base);
/* lttng_ust_lib:unload of module @mod. */
void rs_proc_unload_module(struct rs_proc *p, int32_t mod);
void rs_proc_set_build_id(struct rs_proc *p, int32_t mod, const uint8_t *id, size_t len);
/* false: out of memory */
bool rs_proc_set_debug_link(struct rs_proc *p, int32_t mod, const char *name);

/* The id of the stack @frames[0 .. @n) (innermost first; @n at most
 * RS_STACK_MAX), interned. Returns -1 when out of memory. */
int64_t rs_proc_stack(struct rs_proc *p, const struct rs_frame *frames, uint32_t n);
/* A new stack, even when an equal one exists (a profile's stacks keep the
 * file's numbering; equal ones merge later, in report-collapse.c). */
int64_t rs_proc_stack_new(struct rs_proc *p, const struct rs_frame *frames, uint32_t n);
/* The same for a trace's addresses (modules resolved by rs_model_finish). */
int64_t rs_proc_stack_ips(struct rs_proc *p, const uint64_t *ips, uint32_t n);

/* A profile's site record: figures of (@gid, @stack). false: out of memory,
 * or *@dup set when the pair was already given. */
bool rs_proc_add_site(struct rs_proc *p, uint32_t gid, uint32_t stack, const struct rs_counts *c,
                      bool *dup);

/* A trace's alloc_sample at @ts; false: out of memory. */
bool rs_on_alloc_sample(struct rs_proc *p, int64_t ts, uint64_t ptr, uint64_t size,
                        uint64_t weight, uint32_t gid, uint32_t stack);
/* A trace's free_sample; a block never seen allocated is counted in
 * unknown_frees. */
void rs_on_free_sample(struct rs_proc *p, int64_t ts, uint64_t ptr);

/* The group state of @gid, or NULL when no sample was charged to it. */
const struct rs_group_state *rs_proc_group_state(const struct rs_proc *p, uint32_t gid);
/* The file address of @addr in module @mod for display and lookup, given the
 * first loadable segment's p_vaddr (only RS_BASE_SEGMENT uses it). */
uint64_t rs_module_file_address(const struct rs_module *mod, uint64_t addr, uint64_t vaddr0);

#endif /* TA_REPORT_STACKS_H */
