/* SPDX-License-Identifier: MIT */
/*
 * The live model of `trackalloc top` (top-model.c): per process, per group,
 * the latest group_stats sample, names and tags from group_register and
 * group_tag, and the rates between two refreshes. The decoder
 * (top-live.c) feeds it through these functions; the views (top-view.c)
 * read it through tm_rows(). Not thread-safe: one loop owns it.
 */
#ifndef TA_TOP_MODEL_H
#define TA_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One group_stats sample: cumulative counters at @ts (ns from the trace
 * clock's origin). */
struct tm_sample {
	int64_t ts;
	uint64_t alloc_bytes, alloc_objects, freed_bytes, freed_objects;
	uint64_t peak; /* peak_bytes; 0 when the trace lacks the field */
};

struct tm_tag {
	char *key, *value;
};

/* What a process is, as the views show it. */
enum tm_state {
	TM_RUNNING,
	TM_EXITED, /* gone: its last figures stay */
};

struct tm_group {
	bool present;      /* registered or sampled (groups are indexed by id) */
	char *name;        /* NULL: no group_register seen yet (shown as #ID) */
	struct tm_tag *tags;
	uint32_t ntags;
	char *tags_text;   /* "key=value,key=value" ("" without tags) */
	bool sampled;      /* cur holds a sample */
	struct tm_sample cur;
	struct tm_sample snap; /* cur at the previous refresh (the first sample before one) */
	bool snap_valid;
	double change_per_s; /* live bytes per second between the last two refreshes */
	double allocs_per_s;
};

struct tm_proc {
	int64_t pid;
	char *procname;    /* NULL until an event says */
	enum tm_state state;
	struct tm_group *groups; /* by group id */
	uint32_t ngroups;
};

struct tm_model {
	struct tm_proc **procs;
	size_t nprocs, procs_cap;
	uint64_t events;     /* trackalloc events decoded */
	uint64_t discarded;  /* events the tracer discarded (ring buffer full) */
	int64_t last_ts;     /* newest event timestamp */
	bool oom;            /* an update was dropped for want of memory */
};

/* The orders the 's' key cycles through. */
enum tm_sort {
	TM_SORT_LIVE,   /* live bytes, largest first (the default) */
	TM_SORT_CHANGE, /* change per second, largest growth first */
	TM_SORT_PEAK,
	TM_SORT_ALLOCS, /* allocations per second */
	TM_SORT_NAME,   /* process, then group name */
	TM_SORT_COUNT,
};

struct tm_row {
	const struct tm_proc *p;
	const struct tm_group *g;
	uint32_t gid;
};

void tm_init(struct tm_model *m);
void tm_fini(struct tm_model *m);

/* Process @pid, created on first use (NULL: out of memory). */
struct tm_proc *tm_proc(struct tm_model *m, int64_t pid);
/* The process @pid or NULL. */
struct tm_proc *tm_find_proc(const struct tm_model *m, int64_t pid);
void tm_proc_set_procname(struct tm_model *m, struct tm_proc *p, const char *name);
void tm_proc_set_state(struct tm_proc *p, enum tm_state st);

/* group_register, group_tag (repeats of either change nothing), group_stats. */
void tm_on_register(struct tm_model *m, struct tm_proc *p, uint32_t gid, const char *name);
void tm_on_tag(struct tm_model *m, struct tm_proc *p, uint32_t gid, const char *key,
               const char *value);
void tm_on_stats(struct tm_model *m, struct tm_proc *p, uint32_t gid, const struct tm_sample *s);

/*
 * A refresh: each group's rates become the change between its sample at
 * the previous refresh and its newest one (unchanged when no new sample
 * arrived; 0 for an exited process), and the newest sample becomes the
 * reference for the next refresh.
 */
void tm_tick(struct tm_model *m);

static inline uint64_t tm_live(const struct tm_group *g)
{
	return g->cur.alloc_bytes > g->cur.freed_bytes ? g->cur.alloc_bytes - g->cur.freed_bytes : 0;
}

/* The peak the views show: the in-process peak, never below the live bytes. */
static inline uint64_t tm_peak(const struct tm_group *g)
{
	uint64_t live = tm_live(g);

	return g->cur.peak > live ? g->cur.peak : live;
}

/*
 * Every (process, group) that has a sample, sorted by @sort (ties: pid,
 * then group id), into *@rows (allocated; the caller frees it). Returns
 * how many, or (size_t)-1 when out of memory.
 */
size_t tm_rows(const struct tm_model *m, enum tm_sort sort, struct tm_row **rows);

/* "live bytes", "change/s"... */
const char *tm_sort_label(enum tm_sort sort);

/* Processes by state, for the header. */
void tm_count(const struct tm_model *m, size_t *running, size_t *exited, size_t *groups);

#endif /* TA_TOP_MODEL_H */
