/* SPDX-License-Identifier: MIT */
/*
 * From sampled stacks to allocation sites (report-collapse.c): each stack
 * symbolised (report-symbols.c) into logical frames, inlined ones included;
 * the allocator's own frames (the malloc family, strdup/strndup, operator
 * new and its variants, __libc_*, std::allocator internals, anything in
 * libtrackalloc.so) cut off the inner end, so that a site is the first frame
 * of the program's own code; stacks equal after that are merged. Read by
 * the outputs (report-sites.c, report-flame.c).
 */
#ifndef TA_REPORT_COLLAPSE_H
#define TA_REPORT_COLLAPSE_H

#include <stdbool.h>
#include <stdint.h>

#include "report-stacks.h"

#define RC_NONE UINT32_MAX

/* A logical frame. Two frames are the same location when they have the
 * same function, file, line and module, or, without symbols, the same
 * module and address. */
struct rc_loc {
	const char *func;  /* NULL: no symbol (shown as module+offset) */
	const char *file;  /* NULL: no line information */
	unsigned line;
	int32_t module;    /* index in the process's modules, or RS_NO_MODULE */
	uint64_t offset;   /* the file address (module+offset), or the address */
	bool inlined;      /* inlined into the frame that follows it in a stack */
	const char *label; /* for flame graphs: the function, or module+0xoffset */
};

struct rc_site {
	uint32_t loc;      /* the site's frame */
	uint32_t caller;   /* its caller in its heaviest stack, or RC_NONE */
	struct rs_counts c;
	uint32_t nstacks;  /* merged stacks reaching it */
	uint32_t best_stack;
};

/* A collapsed stack: locs seq[first .. first + n), innermost first. */
struct rc_cstack {
	uint32_t first, n;
	struct rs_counts c;
};

struct rc_group {
	uint32_t gid;
	struct rc_site *sites;       /* by live estimate, largest first */
	uint32_t nsites;
	struct rc_cstack *cstacks;
	uint32_t ncstacks;
	struct rs_counts total;
	const struct rs_group_state *state;
};

struct rc_proc {
	const struct rs_proc *src;
	struct rc_loc *locs;
	uint32_t nlocs;
	uint32_t *seq;
	uint32_t nseq;
	struct rc_group *groups;     /* by group id */
	uint32_t ngroups;
};

struct rc_result {
	struct rc_proc *procs;       /* as in the model */
	size_t nprocs;
	struct rsym *sym;
	bool sym_borrowed;           /* rc_collapse_with(): the caller owns sym */
	uint64_t addresses;          /* distinct addresses symbolised */
};

/*
 * Collapse every process of @m (finished: rs_model_finish()). @progress:
 * say on stderr what takes long. Returns false when out of memory (then
 * call rc_free() anyway).
 */
bool rc_collapse(const struct rs_model *m, struct rc_result *out, bool progress);
/* The same with the caller's symboliser @sym, which rc_free() leaves alone:
 * a caller that collapses the same processes again and again (trackalloc
 * top) opens each binary once. */
bool rc_collapse_with(const struct rs_model *m, struct rsym *sym, struct rc_result *out,
                      bool progress);
void rc_free(struct rc_result *r);

/* Whether a function name is the allocator's own (exposed for tests). */
bool rc_is_allocator_function(const char *func);

#endif /* TA_REPORT_COLLAPSE_H */
