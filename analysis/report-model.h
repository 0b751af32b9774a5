/* SPDX-License-Identifier: MIT */
/*
 * The report's model (report-model.c): per-process, per-group accounting of
 * what the trace says, and the trace-wide counts the outputs print. Decode
 * and input change it only through these functions; outputs read its
 * fields. Not thread-safe: one reader feeds it.
 *
 * Times are nanoseconds from the trace clock's origin (the Unix epoch for
 * LTTng traces).
 */
#ifndef TA_REPORT_MODEL_H
#define TA_REPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report-limits.h"
#include "report-timeline.h"

struct rp_tag {
	char *key, *value;
};

/* What one source (events or samples) says about a group or a process. */
struct rp_counts {
	uint64_t allocs, frees, bytes_alloc, bytes_freed;
	uint64_t live_bytes, live_blocks;
	uint64_t peak_bytes;
	int64_t peak_ts;
	bool peak_set;
};

struct rp_group {
	uint32_t id;
	char *name; /* NULL until a group_register names it */
	struct rp_tag *tags;
	uint32_t ntags, tags_cap;
	struct rp_counts ev;   /* from alloc/alloc_aligned/free/realloc */
	uint64_t unknown_frees, unknown_freed_bytes;
	struct rp_counts st;   /* from the latest group_stats sample */
	bool sampled;
	/* the largest peak_bytes of its group_stats samples (report-limits.c):
	 * the in-process peak, unknown in traces without the field */
	uint64_t inproc_peak;
	bool inproc_peak_set;
	struct rp_timeline tl_ev, tl_st;
};

/* A live block: an open-addressing slot (ptr 0 marks an empty slot). */
struct rp_block {
	uint64_t ptr, size;
	uint32_t gid;
};

enum rp_source { RP_SOURCE_NONE, RP_SOURCE_EVENTS, RP_SOURCE_SAMPLES };

/* Which form a process's calls are read from (tracepoints/EVENTS.md): its
 * per-call events when it has any, else its trackalloc:batch events. */
enum rp_form { RP_FORM_NONE, RP_FORM_EVENTS, RP_FORM_BATCHES };

/* What the trackalloc:batch events of a process (or the trace) said. */
struct rp_batch_counts {
	uint64_t batches;    /* batch events decoded */
	uint64_t ignored;    /* batch events of a process with per-call events */
	uint64_t calls;      /* calls decoded from them */
	uint64_t bytes;      /* record-stream bytes decoded */
	uint64_t lost_bytes; /* stream bytes of batches that never came (gaps) */
	uint64_t bad_bytes;  /* stream bytes that could not be decoded (truncated,
	                      * corrupt, reserved kinds, up to a SYNC after a gap) */
	uint64_t late;       /* calls older than the merge horizon when their batch
	                      * came: applied at the merge point */
};

struct rp_proc {
	int64_t pid;
	char *procname;
	bool procname_main; /* taken from the main thread (vtid == vpid) */
	/* groups by id: dense table for small ids, a list for the rest */
	struct rp_group **dense;
	uint32_t dense_cap;
	struct rp_group **sparse;
	uint32_t nsparse, sparse_cap;
	uint32_t ngroups;
	/* live blocks, by address */
	struct rp_block *blocks;
	uint64_t bmask, bcount;
	unsigned bshift;
	/* process-wide totals over all groups */
	struct rp_counts tot_ev, tot_st;
	uint64_t call_events, stats_events;
	uint64_t unknown_frees, inconsistent;
	int64_t first_ts, last_ts;
	int64_t gap_ns; /* initial timeline spacing of its groups */
	bool lossy;     /* discarded events may have hit this process */
	enum rp_form form;
	struct rp_batch_counts batch;
	/* its group_limit events in time order (report-limits.c) */
	struct rp_crossing *crossings;
	size_t ncrossings, crossings_cap;
};

struct rp_model {
	struct rp_proc **procs;
	size_t nprocs, procs_cap;
	struct rp_proc *last; /* the process of the previous event */
	int64_t gap_ns;       /* initial timeline spacing */
	bool have_ts, unix_epoch; /* unix_epoch: the clock counts from 1970 */
	int64_t first_ts, last_ts;
	uint64_t events, ta_events;
	uint64_t discarded_events, discarded_events_msgs_unknown;
	uint64_t discarded_packets, discarded_packets_msgs_unknown;
	bool lossy_all; /* discarded events not attributable to one process */
	uint64_t skipped_traces; /* --skip-unreadable */
	struct rp_batch_counts batch; /* over every process */
	int64_t batch_horizon_ns; /* how long batch calls wait (rp_model_set_horizon) */
};

/* An empty model whose timelines space rows at least @gap_ns apart. */
void rp_model_init(struct rp_model *m, int64_t gap_ns);
void rp_model_fini(struct rp_model *m);

/* ---- trace-wide ------------------------------------------------------------ */

/* One event read; @trackalloc: from the trackalloc provider. */
void rp_model_count_event(struct rp_model *m, bool trackalloc);
/* An event the model uses was emitted (or a call in a batch happened) at
 * @ts: the earliest is the trace start that outputs count time from. */
void rp_model_note_time(struct rp_model *m, int64_t ts);
/* The trace clock counts from the Unix epoch, so the start is wall time. */
void rp_model_set_unix_epoch(struct rp_model *m);
/* The tracer discarded @count events (packets), or an unknown number of
 * them when !@known. Which processes they hit: rp_model_mark_lossy(). */
void rp_model_on_discarded_events(struct rp_model *m, bool known, uint64_t count);
void rp_model_on_discarded_packets(struct rp_model *m, bool known, uint64_t count);
/* Discarded events may have hit process @pid (created if new; when memory
 * runs out, every process is marked instead). */
void rp_model_mark_lossy(struct rp_model *m, int64_t pid);
/* Discarded events that could have hit any process. */
void rp_model_mark_all_lossy(struct rp_model *m);
/* A trace left out by --skip-unreadable: its processes' figures are missing. */
void rp_model_count_skipped_trace(struct rp_model *m);

/* ---- processes and groups -------------------------------------------------- */

/* The process with id @pid, created on first use (NULL: out of memory). */
struct rp_proc *rp_model_proc(struct rp_model *m, int64_t pid);
/* A name for @p from a thread's context; the main thread's wins. Out of
 * memory leaves the name as it was (it is cosmetic). */
void rp_proc_set_procname(struct rp_proc *p, const char *name, bool main_thread);
/* Whether @p has its main thread's name, which no later name replaces (so a
 * caller may skip reading one). */
bool rp_proc_has_main_procname(const struct rp_proc *p);
/* The group @gid of @p, created on first use (NULL: out of memory). */
struct rp_group *rp_proc_group(struct rp_proc *p, uint32_t gid);
/* Look a group up without creating it. */
struct rp_group *rp_proc_find_group(const struct rp_proc *p, uint32_t gid);
/* Groups of @p sorted by id, in a fresh array of p->ngroups (NULL: OOM). */
struct rp_group **rp_proc_sorted_groups(const struct rp_proc *p);
/* Where @p's figures come from: its alloc/free events when it has any. */
enum rp_source rp_proc_source(const struct rp_proc *p);
/*
 * Whether @p's calls are read from @form. Per-call events win: a batch of
 * a process that has per-call events is not read (false, counted as
 * ignored); the first per-call event of a process whose batches were read
 * clears the figures they gave (*@cleared true: the caller forgets the
 * calls it still holds for @p), since both forms hold the same calls.
 */
bool rp_proc_use_form(struct rp_model *m, struct rp_proc *p, enum rp_form form, bool *cleared);
/* Batch calls wait @ns for older ones of other threads (the outputs say it). */
void rp_model_set_horizon(struct rp_model *m, int64_t ns);
/* One batch's counts @c of process @p, added to @p's and the trace's; lost
 * or undecodable bytes mark @p lossy. */
void rp_model_add_batch(struct rp_model *m, struct rp_proc *p, const struct rp_batch_counts *c);

/* ---- trackalloc events ----------------------------------------------------- */

/* Event handlers of process @p; they return false only when out of memory. */
bool rp_on_register(struct rp_proc *p, uint32_t gid, const char *name);
bool rp_on_tag(struct rp_proc *p, uint32_t gid, const char *key, const char *value);
bool rp_on_alloc(struct rp_proc *p, int64_t ts, uint64_t ptr, uint64_t size, uint32_t gid);
bool rp_on_free(struct rp_proc *p, int64_t ts, uint64_t ptr, uint64_t size, uint32_t gid);
bool rp_on_realloc(struct rp_proc *p, int64_t ts, uint64_t in_ptr, uint64_t ptr,
                   uint64_t old_size, uint64_t size, uint32_t src_gid, uint32_t gid);
bool rp_on_stats(struct rp_proc *p, int64_t ts, uint32_t gid, uint64_t alloc_bytes,
                 uint64_t alloc_objects, uint64_t freed_bytes, uint64_t freed_objects);
/* Close every timeline with its final value (call once, after the last
 * event). false: out of memory. */
bool rp_model_finish(struct rp_model *m);

#endif /* TA_REPORT_MODEL_H */
