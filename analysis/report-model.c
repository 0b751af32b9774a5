/* SPDX-License-Identifier: MIT */
/*
 * Per-process, per-group accounting for trackalloc-report.
 *
 * Full traces: allocations, frees and bytes come from the events' own fields
 * (a free carries its size and source group). A per-process map of live
 * blocks (ptr -> size, group) gives live bytes and blocks, so memory grows
 * with the number of live blocks, never with the trace's length:
 *  - a free (or the old half of a realloc) of an address the map does not
 *    hold, a block allocated before recording started or whose alloc event
 *    was discarded, is counted in frees and bytes freed but not subtracted
 *    from live figures (they never go negative) and is counted as an
 *    "unknown free";
 *  - an alloc at an address the map still holds means the earlier block's
 *    free was lost: that block leaves the live figures ("inconsistent").
 * Counters-only traces: totals come from each group's latest group_stats
 * sample, the peak from the largest allocated_bytes - freed_bytes sampled.
 * Trace-wide: how many events were read and lost, and when the trace starts.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report-model.h"

/* Group ids below this use the dense table (the library's own limit is
 * 65,536); anything larger, only seen in a damaged trace, the list. */
#define RP_DENSE_MAX (1u << 18)

static void *grow(void *arr, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t ncap = *cap ? *cap : 8;
	void *n;

	while (ncap < need)
		ncap *= 2;
	n = realloc(arr, (size_t)ncap * elem);
	if (!n)
		return NULL;
	memset((char *)n + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
	*cap = ncap;
	return n;
}

/* ---- live-block map ------------------------------------------------------ */

static inline uint64_t block_slot(const struct rp_proc *p, uint64_t ptr)
{
	return ((ptr >> 4) * 0x9E3779B97F4A7C15ull) >> p->bshift;
}

static bool blocks_grow(struct rp_proc *p)
{
	unsigned bits = p->blocks ? 64 - p->bshift + 1 : 12;
	uint64_t size = 1ull << bits, i;
	struct rp_block *nb = calloc(size, sizeof(*nb));
	struct rp_block *old = p->blocks;
	uint64_t old_size = old ? p->bmask + 1 : 0;

	if (!nb)
		return false;
	p->blocks = nb;
	p->bmask = size - 1;
	p->bshift = 64 - bits;
	for (i = 0; i < old_size; i++) {
		uint64_t s;

		if (!old[i].ptr)
			continue;
		for (s = block_slot(p, old[i].ptr); nb[s].ptr; s = (s + 1) & p->bmask)
			;
		nb[s] = old[i];
	}
	free(old);
	return true;
}

/* The slot holding @ptr, or -1. */
static inline int64_t blocks_find(const struct rp_proc *p, uint64_t ptr)
{
	uint64_t s;

	if (!p->blocks)
		return -1;
	for (s = block_slot(p, ptr); p->blocks[s].ptr; s = (s + 1) & p->bmask)
		if (p->blocks[s].ptr == ptr)
			return (int64_t)s;
	return -1;
}

/* Remove slot @s, shifting later entries of its probe run back. */
static void blocks_remove_slot(struct rp_proc *p, uint64_t s)
{
	struct rp_block *b = p->blocks;
	uint64_t hole = s, i = s;

	for (;;) {
		uint64_t home;

		i = (i + 1) & p->bmask;
		if (!b[i].ptr)
			break;
		home = block_slot(p, b[i].ptr);
		/* b[i] may fill the hole unless its home lies cyclically in (hole, i] */
		if (((i - home) & p->bmask) >= ((i - hole) & p->bmask)) {
			b[hole] = b[i];
			hole = i;
		}
	}
	b[hole].ptr = 0;
	p->bcount--;
}

/* ---- processes and groups ------------------------------------------------ */

void rp_model_init(struct rp_model *m, int64_t gap_ns)
{
	memset(m, 0, sizeof(*m));
	m->gap_ns = gap_ns;
}

static void group_free(struct rp_group *g)
{
	for (uint32_t i = 0; i < g->ntags; i++) {
		free(g->tags[i].key);
		free(g->tags[i].value);
	}
	free(g->tags);
	free(g->name);
	free(g->tl_ev.pts);
	free(g->tl_st.pts);
	free(g);
}

static void proc_free(struct rp_proc *p)
{
	for (uint32_t i = 0; i < p->dense_cap; i++)
		if (p->dense[i])
			group_free(p->dense[i]);
	for (uint32_t i = 0; i < p->nsparse; i++)
		group_free(p->sparse[i]);
	free(p->dense);
	free(p->sparse);
	free(p->blocks);
	free(p->crossings);
	free(p->procname);
	free(p);
}

void rp_model_fini(struct rp_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		proc_free(m->procs[i]);
	free(m->procs);
	memset(m, 0, sizeof(*m));
}

struct rp_proc *rp_model_proc(struct rp_model *m, int64_t pid)
{
	struct rp_proc *p;

	if (m->last && m->last->pid == pid)
		return m->last;
	for (size_t i = 0; i < m->nprocs; i++) {
		if (m->procs[i]->pid == pid)
			return m->last = m->procs[i];
	}
	if (m->nprocs == m->procs_cap) {
		size_t ncap = m->procs_cap ? m->procs_cap * 2 : 8;
		void *n = realloc(m->procs, ncap * sizeof(*m->procs));

		if (!n)
			return NULL;
		m->procs = n;
		m->procs_cap = ncap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->first_ts = INT64_MAX;
	p->last_ts = INT64_MIN;
	p->gap_ns = m->gap_ns;
	m->procs[m->nprocs++] = p;
	return m->last = p;
}

void rp_proc_set_procname(struct rp_proc *p, const char *name, bool main_thread)
{
	char *copy;

	if (p->procname_main || (p->procname && !main_thread))
		return;
	copy = strdup(name);
	if (!copy)
		return; /* a name is cosmetic: keep going without it */
	free(p->procname);
	p->procname = copy;
	p->procname_main = main_thread;
}

bool rp_proc_has_main_procname(const struct rp_proc *p)
{
	return p->procname_main;
}

struct rp_group *rp_proc_find_group(const struct rp_proc *p, uint32_t gid)
{
	if (gid < RP_DENSE_MAX)
		return gid < p->dense_cap ? p->dense[gid] : NULL;
	for (uint32_t i = 0; i < p->nsparse; i++)
		if (p->sparse[i]->id == gid)
			return p->sparse[i];
	return NULL;
}

static struct rp_group *group_new(struct rp_proc *p, uint32_t gid)
{
	struct rp_group *g;

	if (gid < RP_DENSE_MAX && gid >= p->dense_cap) {
		void *n = grow(p->dense, &p->dense_cap, gid + 1, sizeof(*p->dense));

		if (!n)
			return NULL;
		p->dense = n;
	} else if (gid >= RP_DENSE_MAX && p->nsparse == p->sparse_cap) {
		void *n = grow(p->sparse, &p->sparse_cap, p->nsparse + 1, sizeof(*p->sparse));

		if (!n)
			return NULL;
		p->sparse = n;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->id = gid;
	g->tl_ev.gap_ns = g->tl_st.gap_ns = p->gap_ns;
	if (gid < RP_DENSE_MAX)
		p->dense[gid] = g;
	else
		p->sparse[p->nsparse++] = g;
	p->ngroups++;
	return g;
}

struct rp_group *rp_proc_group(struct rp_proc *p, uint32_t gid)
{
	struct rp_group *g;

	if (gid < p->dense_cap && (g = p->dense[gid]))
		return g;
	g = rp_proc_find_group(p, gid);
	return g ? g : group_new(p, gid);
}

static int group_cmp(const void *a, const void *b)
{
	const struct rp_group *x = *(struct rp_group *const *)a, *y = *(struct rp_group *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

struct rp_group **rp_proc_sorted_groups(const struct rp_proc *p)
{
	struct rp_group **v = malloc((p->ngroups + 1) * sizeof(*v));
	uint32_t n = 0;

	if (!v)
		return NULL;
	for (uint32_t i = 0; i < p->dense_cap; i++)
		if (p->dense[i])
			v[n++] = p->dense[i];
	for (uint32_t i = 0; i < p->nsparse; i++)
		v[n++] = p->sparse[i];
	qsort(v, n, sizeof(*v), group_cmp);
	return v;
}

enum rp_source rp_proc_source(const struct rp_proc *p)
{
	if (p->call_events)
		return RP_SOURCE_EVENTS;
	return p->stats_events ? RP_SOURCE_SAMPLES : RP_SOURCE_NONE;
}

/* ---- trace-wide ------------------------------------------------------------ */

void rp_model_count_event(struct rp_model *m, bool trackalloc)
{
	m->events++;
	if (trackalloc)
		m->ta_events++;
}

void rp_model_note_time(struct rp_model *m, int64_t ts)
{
	/* the earliest, not the first: batches come after their calls */
	if (!m->have_ts || ts < m->first_ts) {
		m->have_ts = true;
		m->first_ts = ts;
	}
	if (ts > m->last_ts)
		m->last_ts = ts;
}

void rp_model_set_unix_epoch(struct rp_model *m)
{
	m->unix_epoch = true;
}

void rp_model_on_discarded_events(struct rp_model *m, bool known, uint64_t count)
{
	if (known)
		m->discarded_events += count;
	else
		m->discarded_events_msgs_unknown++;
}

void rp_model_on_discarded_packets(struct rp_model *m, bool known, uint64_t count)
{
	if (known)
		m->discarded_packets += count;
	else
		m->discarded_packets_msgs_unknown++;
}

void rp_model_mark_lossy(struct rp_model *m, int64_t pid)
{
	struct rp_proc *p = rp_model_proc(m, pid);

	if (p)
		p->lossy = true;
	else
		m->lossy_all = true;
}

void rp_model_mark_all_lossy(struct rp_model *m)
{
	m->lossy_all = true;
}

void rp_model_count_skipped_trace(struct rp_model *m)
{
	m->skipped_traces++;
}

/* ---- metadata events ----------------------------------------------------- */

bool rp_on_register(struct rp_proc *p, uint32_t gid, const char *name)
{
	struct rp_group *g = rp_proc_group(p, gid);

	if (!g)
		return false;
	/* Names never change within a process: the first one stays (a later,
	 * different one can only come from a reused pid). */
	if (!g->name && !(g->name = strdup(name)))
		return false;
	return true;
}

bool rp_on_tag(struct rp_proc *p, uint32_t gid, const char *key, const char *value)
{
	struct rp_group *g = rp_proc_group(p, gid);
	struct rp_tag *t;

	if (!g)
		return false;
	for (uint32_t i = 0; i < g->ntags; i++)
		if (!strcmp(g->tags[i].key, key))
			return true; /* re-emitted */
	if (g->ntags == g->tags_cap) {
		void *n = grow(g->tags, &g->tags_cap, g->ntags + 1, sizeof(*g->tags));

		if (!n)
			return false;
		g->tags = n;
	}
	t = &g->tags[g->ntags];
	t->key = strdup(key);
	t->value = strdup(value);
	if (!t->key || !t->value) {
		free(t->key);
		free(t->value);
		return false;
	}
	g->ntags++;
	return true;
}

/* ---- alloc/free/realloc -------------------------------------------------- */

static inline void peak_note(struct rp_counts *c, int64_t ts)
{
	if (!c->peak_set || c->live_bytes > c->peak_bytes) {
		c->peak_bytes = c->live_bytes;
		c->peak_ts = ts;
		c->peak_set = true;
	}
}

static inline void proc_time(struct rp_proc *p, int64_t ts)
{
	if (ts < p->first_ts)
		p->first_ts = ts;
	if (ts > p->last_ts)
		p->last_ts = ts;
}

/* rp_proc_group's common case inline: a call costs tens of nanoseconds
 * in all, a batch trace reads ten million a second. */
static inline struct rp_group *group_of(struct rp_proc *p, uint32_t gid)
{
	struct rp_group *g;

	if (gid < p->dense_cap && (g = p->dense[gid]))
		return g;
	return rp_proc_group(p, gid);
}

/* Take slot @s's block out of the live figures of its group. */
static bool unlive_slot(struct rp_proc *p, int64_t ts, uint64_t s)
{
	struct rp_block b = p->blocks[s];
	struct rp_group *g = group_of(p, b.gid);

	if (!g)
		return false;
	blocks_remove_slot(p, s);
	g->ev.live_bytes -= b.size;
	g->ev.live_blocks--;
	p->tot_ev.live_bytes -= b.size;
	p->tot_ev.live_blocks--;
	return rp_timeline_update(&g->tl_ev, ts, g->ev.live_bytes);
}

static bool alloc_part(struct rp_proc *p, int64_t ts, uint64_t ptr, uint64_t size, uint32_t gid)
{
	struct rp_group *g = group_of(p, gid);
	uint64_t slot;

	if (!g)
		return false;
	g->ev.allocs++;
	g->ev.bytes_alloc += size;
	p->tot_ev.allocs++;
	p->tot_ev.bytes_alloc += size;
	if (!ptr)
		return true; /* nothing to track */
	/* at most half full: short probes, fewer cache lines per call */
	if ((p->bcount + 1) * 2 > (p->blocks ? p->bmask + 1 : 0) && !blocks_grow(p))
		return false;
	/* one probe finds the address or where it goes */
	for (slot = block_slot(p, ptr); p->blocks[slot].ptr && p->blocks[slot].ptr != ptr;
	     slot = (slot + 1) & p->bmask)
		;
	if (p->blocks[slot].ptr) {
		/* The block that had this address was freed without an event. */
		p->inconsistent++;
		if (!unlive_slot(p, ts, slot))
			return false;
		for (slot = block_slot(p, ptr); p->blocks[slot].ptr; slot = (slot + 1) & p->bmask)
			;
	}
	p->blocks[slot].ptr = ptr;
	p->blocks[slot].size = size;
	p->blocks[slot].gid = gid;
	p->bcount++;
	g->ev.live_bytes += size;
	g->ev.live_blocks++;
	p->tot_ev.live_bytes += size;
	p->tot_ev.live_blocks++;
	peak_note(&g->ev, ts);
	peak_note(&p->tot_ev, ts);
	return rp_timeline_update(&g->tl_ev, ts, g->ev.live_bytes);
}

/* The release of the block at @ptr, as the event describes it. @strict: the
 * map's block must match (size, group) to be the one released; realloc
 * needs this because its event is emitted after the inner realloc, when
 * another thread may already have been given the same address. */
static bool free_part(struct rp_proc *p, int64_t ts, uint64_t ptr, uint64_t size, uint32_t gid,
                      bool strict)
{
	struct rp_group *g = group_of(p, gid);
	int64_t s;

	if (!g)
		return false;
	g->ev.frees++;
	g->ev.bytes_freed += size;
	p->tot_ev.frees++;
	p->tot_ev.bytes_freed += size;
	s = ptr ? blocks_find(p, ptr) : -1;
	if (s >= 0 && strict &&
	    (p->blocks[s].size != size || p->blocks[s].gid != gid)) {
		p->inconsistent++;
		s = -1;
	}
	if (s < 0) {
		g->unknown_frees++;
		g->unknown_freed_bytes += size;
		p->unknown_frees++;
		return true;
	}
	if (p->blocks[s].size != size || p->blocks[s].gid != gid)
		p->inconsistent++;
	return unlive_slot(p, ts, (uint64_t)s);
}

bool rp_on_alloc(struct rp_proc *p, int64_t ts, uint64_t ptr, uint64_t size, uint32_t gid)
{
	p->call_events++;
	proc_time(p, ts);
	return alloc_part(p, ts, ptr, size, gid);
}

bool rp_on_free(struct rp_proc *p, int64_t ts, uint64_t ptr, uint64_t size, uint32_t gid)
{
	p->call_events++;
	proc_time(p, ts);
	return free_part(p, ts, ptr, size, gid, false);
}

bool rp_on_realloc(struct rp_proc *p, int64_t ts, uint64_t in_ptr, uint64_t ptr,
                   uint64_t old_size, uint64_t size, uint32_t src_gid, uint32_t gid)
{
	p->call_events++;
	proc_time(p, ts);
	return free_part(p, ts, in_ptr, old_size, src_gid, true) &&
	       alloc_part(p, ts, ptr, size, gid);
}

/* ---- group_stats --------------------------------------------------------- */

bool rp_on_stats(struct rp_proc *p, int64_t ts, uint32_t gid, uint64_t alloc_bytes,
                 uint64_t alloc_objects, uint64_t freed_bytes, uint64_t freed_objects)
{
	struct rp_group *g = rp_proc_group(p, gid);
	uint64_t live;

	if (!g)
		return false;
	p->stats_events++;
	proc_time(p, ts);
	live = alloc_bytes >= freed_bytes ? alloc_bytes - freed_bytes : 0;
	/* process-wide: replace this group's share with its new value */
	p->tot_st.allocs += alloc_objects - g->st.allocs;
	p->tot_st.frees += freed_objects - g->st.frees;
	p->tot_st.bytes_alloc += alloc_bytes - g->st.bytes_alloc;
	p->tot_st.bytes_freed += freed_bytes - g->st.bytes_freed;
	p->tot_st.live_bytes += live - g->st.live_bytes;
	g->sampled = true;
	g->st.allocs = alloc_objects;
	g->st.frees = freed_objects;
	g->st.bytes_alloc = alloc_bytes;
	g->st.bytes_freed = freed_bytes;
	g->st.live_bytes = live;
	p->tot_st.live_blocks -= g->st.live_blocks;
	g->st.live_blocks = alloc_objects >= freed_objects ? alloc_objects - freed_objects : 0;
	p->tot_st.live_blocks += g->st.live_blocks;
	peak_note(&g->st, ts);
	peak_note(&p->tot_st, ts);
	return rp_timeline_update(&g->tl_st, ts, live);
}

/* ---- end of trace -------------------------------------------------------- */

bool rp_model_finish(struct rp_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		struct rp_proc *p = m->procs[i];
		enum rp_source src = rp_proc_source(p);
		struct rp_group **v;

		if (src == RP_SOURCE_NONE)
			continue;
		v = rp_proc_sorted_groups(p);
		if (!v)
			return false;
		for (uint32_t j = 0; j < p->ngroups; j++) {
			struct rp_group *g = v[j];
			bool ok = src == RP_SOURCE_EVENTS ?
			                  rp_timeline_finish(&g->tl_ev, p->last_ts, g->ev.live_bytes) :
			                  !g->sampled || rp_timeline_finish(&g->tl_st, p->last_ts, g->st.live_bytes);

			if (!ok) {
				free(v);
				return false;
			}
		}
		free(v);
	}
	return true;
}
