/* SPDX-License-Identifier: MIT */
/*
 * The sampled-stacks model: modules, interned stacks, per (group, stack)
 * sites, and for traces the live sampled blocks.
 *
 * Live at the group's peak: each group counts its live estimate and keeps
 * an epoch that grows each time the estimate reaches a new high. A site
 * whose epoch is behind its group's has not changed since that peak, so its
 * live estimate then is its live estimate now: it catches up (peak_estimate
 * = live_estimate) before it changes and once at the end. O(1) per sample,
 * whatever the number of sites.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report-stacks.h"

struct rs_live {
	uint64_t ptr, weight, size;
	uint32_t site;
};

static void *grow_array(void *arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return arr;
	while (ncap < need)
		ncap *= 2;
	n = realloc(arr, ncap * elem);
	if (!n)
		return NULL;
	memset((char *)n + *cap * elem, 0, (ncap - *cap) * elem);
	*cap = ncap;
	return n;
}

/* grow_array for uint32_t capacities */
static void *grow32(void *arr, uint32_t *cap, size_t need, size_t elem)
{
	size_t c = *cap;
	void *n = grow_array(arr, &c, need, elem);

	if (n && c > UINT32_MAX)
		return NULL;
	if (n)
		*cap = (uint32_t)c;
	return n;
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

void rs_model_init(struct rs_model *m)
{
	memset(m, 0, sizeof(*m));
}

static void proc_free(struct rs_proc *p)
{
	for (uint32_t i = 0; i < p->nmodules; i++) {
		free(p->modules[i].path);
		free(p->modules[i].debug_link);
	}
	free(p->modules);
	free(p->frames);
	free(p->stacks);
	free(p->stack_index);
	free(p->sites);
	free(p->site_index);
	free(p->groups);
	free(p->live);
	free(p);
}

void rs_model_fini(struct rs_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		proc_free(m->procs[i]);
	free(m->procs);
	memset(m, 0, sizeof(*m));
}

struct rs_proc *rs_model_proc(struct rs_model *m, int64_t pid)
{
	struct rs_proc *p;
	void *n;

	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i]->pid == pid)
			return m->procs[i];
	n = grow_array(m->procs, &m->procs_cap, m->nprocs + 1, sizeof(*m->procs));
	if (!n)
		return NULL;
	m->procs = n;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	m->procs[m->nprocs++] = p;
	return p;
}

static void site_sync(struct rs_site *s, const struct rs_group_state *g);

/* ---- modules --------------------------------------------------------------- */

int32_t rs_proc_module_at_base(const struct rs_proc *p, uint64_t base)
{
	for (uint32_t i = p->nmodules; i-- > 0;)
		if (p->modules[i].base == base && !p->modules[i].unloaded)
			return (int32_t)i;
	for (uint32_t i = p->nmodules; i-- > 0;)
		if (p->modules[i].base == base)
			return (int32_t)i;
	return -1;
}

int32_t rs_proc_add_module(struct rs_proc *p, const char *path, uint64_t low, uint64_t high,
                           uint64_t base, enum rs_base kind)
{
	struct rs_module *mod;
	char *copy = path ? strdup(path) : NULL;
	void *n;

	if (path && !copy)
		return -1;
	n = grow32(p->modules, &p->modules_cap, (size_t)p->nmodules + 1, sizeof(*p->modules));
	if (!n || p->nmodules >= INT32_MAX) {
		free(copy);
		return -1;
	}
	p->modules = n;
	mod = &p->modules[p->nmodules];
	memset(mod, 0, sizeof(*mod));
	mod->path = copy;
	mod->low = low;
	mod->high = high > low ? high : low + 1;
	mod->base = base;
	mod->base_kind = kind;
	return (int32_t)p->nmodules++;
}

void rs_proc_unload_module(struct rs_proc *p, int32_t mod)
{
	p->modules[mod].unloaded = true;
}

void rs_proc_set_build_id(struct rs_proc *p, int32_t mod, const uint8_t *id, size_t len)
{
	struct rs_module *md = &p->modules[mod];

	if (len > RS_BUILD_ID_MAX)
		len = RS_BUILD_ID_MAX;
	memcpy(md->build_id, id, len);
	md->build_id_len = len;
}

bool rs_proc_set_debug_link(struct rs_proc *p, int32_t mod, const char *name)
{
	char *copy = strdup(name);

	if (!copy)
		return false;
	free(p->modules[mod].debug_link);
	p->modules[mod].debug_link = copy;
	return true;
}

uint64_t rs_module_file_address(const struct rs_module *mod, uint64_t addr, uint64_t vaddr0)
{
	switch (mod->base_kind) {
	case RS_BASE_BIAS:
		return addr - mod->base;
	case RS_BASE_SEGMENT:
		return addr - mod->base + vaddr0;
	default:
		return addr;
	}
}

/* The module holding @addr: the latest loaded of those whose range has it
 * (a library unloaded and another mapped in its place: the later wins). */
static int32_t module_of(const struct rs_proc *p, uint64_t addr)
{
	int32_t best = RS_NO_MODULE;

	for (uint32_t i = p->nmodules; i-- > 0;) {
		const struct rs_module *md = &p->modules[i];

		if (addr >= md->low && addr < md->high) {
			if (!md->unloaded)
				return (int32_t)i;
			if (best == RS_NO_MODULE)
				best = (int32_t)i;
		}
	}
	return best;
}

void rs_model_finish(struct rs_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		struct rs_proc *p = m->procs[i];
		int32_t last = RS_NO_MODULE;

		for (size_t f = 0; f < p->nframes; f++) {
			struct rs_frame *fr = &p->frames[f];
			const struct rs_module *md = last >= 0 ? &p->modules[last] : NULL;

			if (fr->module != RS_UNRESOLVED)
				continue;
			/* neighbouring frames are often in the same module */
			if (md && fr->addr >= md->low && fr->addr < md->high && !md->unloaded)
				fr->module = last;
			else
				fr->module = last = module_of(p, fr->addr);
		}
		for (uint32_t j = 0; j < p->nsites; j++)
			site_sync(&p->sites[j], &p->groups[p->sites[j].gid]);
	}
}

/* ---- stacks ---------------------------------------------------------------- */

static uint64_t stack_hash(const struct rs_frame *f, uint32_t n)
{
	uint64_t h = n;

	for (uint32_t i = 0; i < n; i++)
		h = mix(mix(h, (uint64_t)(int64_t)f[i].module), f[i].addr);
	return h;
}

static bool index_grow(uint32_t **index, size_t *mask, uint32_t count, uint64_t (*hash)(void *, uint32_t),
                       void *ctx)
{
	size_t size = *index ? (*mask + 1) * 2 : 256;
	uint32_t *n;

	if (*index && (size_t)count * 2 < *mask + 1)
		return true;
	n = calloc(size, sizeof(*n));
	if (!n)
		return false;
	for (uint32_t i = 0; i < count; i++) {
		size_t s = hash(ctx, i) & (size - 1);

		while (n[s])
			s = (s + 1) & (size - 1);
		n[s] = i + 1;
	}
	free(*index);
	*index = n;
	*mask = size - 1;
	return true;
}

static uint64_t stack_hash_of(void *ctx, uint32_t i)
{
	return ((struct rs_proc *)ctx)->stacks[i].hash;
}

/* Interned (@intern: an equal stack returns its id) or always new. */
static int64_t stack_add(struct rs_proc *p, const struct rs_frame *frames, uint32_t n, bool intern)
{
	uint64_t h = stack_hash(frames, n);
	struct rs_stack *st;
	size_t s;
	void *v;

	if (!p->stack_index || (size_t)(p->nstacks + 1) * 2 > p->stack_mask + 1) {
		if (!index_grow(&p->stack_index, &p->stack_mask, p->nstacks, stack_hash_of, p))
			return -1;
	}
	for (s = h & p->stack_mask; p->stack_index[s]; s = (s + 1) & p->stack_mask) {
		st = &p->stacks[p->stack_index[s] - 1];
		if (intern && st->hash == h && st->n == n &&
		    !memcmp(&p->frames[st->first], frames, n * sizeof(*frames)))
			return p->stack_index[s] - 1;
	}
	if (p->nstacks == UINT32_MAX - 1 || p->nframes + n > UINT32_MAX)
		return -1;
	v = grow32(p->stacks, &p->stacks_cap, (size_t)p->nstacks + 1, sizeof(*p->stacks));
	if (!v)
		return -1;
	p->stacks = v;
	v = grow_array(p->frames, &p->frames_cap, p->nframes + n, sizeof(*p->frames));
	if (!v)
		return -1;
	p->frames = v;
	memcpy(&p->frames[p->nframes], frames, n * sizeof(*frames));
	st = &p->stacks[p->nstacks];
	st->first = (uint32_t)p->nframes;
	st->n = n;
	st->hash = h;
	p->nframes += n;
	p->stack_index[s] = ++p->nstacks;
	return p->nstacks - 1;
}

int64_t rs_proc_stack(struct rs_proc *p, const struct rs_frame *frames, uint32_t n)
{
	return stack_add(p, frames, n, true);
}

int64_t rs_proc_stack_new(struct rs_proc *p, const struct rs_frame *frames, uint32_t n)
{
	return stack_add(p, frames, n, false);
}

int64_t rs_proc_stack_ips(struct rs_proc *p, const uint64_t *ips, uint32_t n)
{
	struct rs_frame f[RS_STACK_MAX];

	if (n > RS_STACK_MAX)
		n = RS_STACK_MAX;
	for (uint32_t i = 0; i < n; i++) {
		f[i].module = RS_UNRESOLVED;
		f[i].addr = ips[i];
	}
	return rs_proc_stack(p, f, n);
}

/* ---- sites ----------------------------------------------------------------- */

static uint64_t site_key_hash(uint32_t gid, uint32_t stack)
{
	return mix(mix(0, gid), stack);
}

static uint64_t site_hash_of(void *ctx, uint32_t i)
{
	const struct rs_site *s = &((struct rs_proc *)ctx)->sites[i];

	return site_key_hash(s->gid, s->stack);
}

static struct rs_group_state *group_state(struct rs_proc *p, uint32_t gid)
{
	if (gid >= p->groups_cap) {
		void *n = grow32(p->groups, &p->groups_cap, (size_t)gid + 1, sizeof(*p->groups));

		if (!n)
			return NULL;
		p->groups = n;
	}
	p->groups[gid].seen = true;
	return &p->groups[gid];
}

const struct rs_group_state *rs_proc_group_state(const struct rs_proc *p, uint32_t gid)
{
	return gid < p->groups_cap && p->groups[gid].seen ? &p->groups[gid] : NULL;
}

/* The site of (@gid, @stack), created when @create; NULL: OOM or absent.
 * *@created tells which. */
static struct rs_site *site_get(struct rs_proc *p, uint32_t gid, uint32_t stack, bool *created)
{
	uint64_t h = site_key_hash(gid, stack);
	struct rs_site *st;
	size_t s;
	void *v;

	*created = false;
	if (!group_state(p, gid))
		return NULL;
	if (!p->site_index || (size_t)(p->nsites + 1) * 2 > p->site_mask + 1) {
		if (!index_grow(&p->site_index, &p->site_mask, p->nsites, site_hash_of, p))
			return NULL;
	}
	for (s = h & p->site_mask; p->site_index[s]; s = (s + 1) & p->site_mask) {
		st = &p->sites[p->site_index[s] - 1];
		if (st->gid == gid && st->stack == stack)
			return st;
	}
	if (p->nsites == UINT32_MAX - 1)
		return NULL;
	v = grow32(p->sites, &p->sites_cap, (size_t)p->nsites + 1, sizeof(*p->sites));
	if (!v)
		return NULL;
	p->sites = v;
	st = &p->sites[p->nsites];
	memset(st, 0, sizeof(*st));
	st->gid = gid;
	st->stack = stack;
	st->epoch = p->groups[gid].epoch;
	p->site_index[s] = ++p->nsites;
	*created = true;
	return st;
}

bool rs_proc_add_site(struct rs_proc *p, uint32_t gid, uint32_t stack, const struct rs_counts *c,
                      bool *dup)
{
	bool created;
	struct rs_site *s = site_get(p, gid, stack, &created);

	*dup = s && !created;
	if (!s || !created)
		return false;
	s->c = *c;
	s->c.peak_estimate = 0;
	p->groups[gid].live_estimate += c->live_estimate;
	return true;
}

/* ---- trace samples --------------------------------------------------------- */

static inline uint64_t live_slot(const struct rs_proc *p, uint64_t ptr)
{
	return ((ptr >> 4) * 0x9E3779B97F4A7C15ull >> 20) & p->live_mask;
}

static bool live_grow(struct rs_proc *p)
{
	uint64_t size = p->live ? (p->live_mask + 1) * 2 : 4096, old = p->live ? p->live_mask + 1 : 0;
	struct rs_live *n = calloc(size, sizeof(*n)), *o = p->live;

	if (!n)
		return false;
	p->live = n;
	p->live_mask = size - 1;
	for (uint64_t i = 0; i < old; i++) {
		uint64_t s;

		if (!o[i].ptr)
			continue;
		for (s = live_slot(p, o[i].ptr); n[s].ptr; s = (s + 1) & p->live_mask)
			;
		n[s] = o[i];
	}
	free(o);
	return true;
}

static int64_t live_find(const struct rs_proc *p, uint64_t ptr)
{
	if (!p->live)
		return -1;
	for (uint64_t s = live_slot(p, ptr); p->live[s].ptr; s = (s + 1) & p->live_mask)
		if (p->live[s].ptr == ptr)
			return (int64_t)s;
	return -1;
}

static void live_remove(struct rs_proc *p, uint64_t s)
{
	struct rs_live *b = p->live;
	uint64_t hole = s, i = s;

	for (;;) {
		uint64_t home;

		i = (i + 1) & p->live_mask;
		if (!b[i].ptr)
			break;
		home = live_slot(p, b[i].ptr);
		if (((i - home) & p->live_mask) >= ((i - hole) & p->live_mask)) {
			b[hole] = b[i];
			hole = i;
		}
	}
	b[hole].ptr = 0;
	p->live_count--;
}

/* Bring @s's peak figure up to its group's latest peak before it changes. */
static void site_sync(struct rs_site *s, const struct rs_group_state *g)
{
	if (s->epoch != g->epoch) {
		s->c.peak_estimate = s->c.live_estimate;
		s->epoch = g->epoch;
	}
}

static void site_release(struct rs_proc *p, const struct rs_live *b)
{
	struct rs_site *s = &p->sites[b->site];
	struct rs_group_state *g = &p->groups[s->gid];

	site_sync(s, g);
	s->c.live_objects--;
	s->c.live_bytes -= b->size;
	s->c.live_estimate -= b->weight;
	g->live_estimate -= b->weight;
}

bool rs_on_alloc_sample(struct rs_proc *p, int64_t ts, uint64_t ptr, uint64_t size,
                        uint64_t weight, uint32_t gid, uint32_t stack)
{
	bool created;
	struct rs_site *s;
	struct rs_group_state *g;
	int64_t old;
	uint64_t slot;

	/* a block at a live address: its free_sample was lost */
	old = live_find(p, ptr);
	if (old >= 0) {
		site_release(p, &p->live[old]);
		live_remove(p, (uint64_t)old);
	}
	s = site_get(p, gid, stack, &created);
	if (!s)
		return false;
	if ((!p->live || (p->live_count + 1) * 2 > p->live_mask + 1) && !live_grow(p))
		return false;
	g = &p->groups[gid];
	site_sync(s, g);
	s->c.live_objects++;
	s->c.live_bytes += size;
	s->c.live_estimate += weight;
	s->c.alloc_objects++;
	s->c.alloc_bytes += size;
	s->c.alloc_estimate += weight;
	g->live_estimate += weight;
	if (g->live_estimate > g->peak_estimate) {
		g->peak_estimate = g->live_estimate;
		g->peak_ts = ts;
		g->epoch++;
	}
	for (slot = live_slot(p, ptr); p->live[slot].ptr; slot = (slot + 1) & p->live_mask)
		;
	p->live[slot] = (struct rs_live){ .ptr = ptr ? ptr : 1, .weight = weight, .size = size,
	                                  .site = (uint32_t)(s - p->sites) };
	p->live_count++;
	p->alloc_samples++;
	return true;
}

void rs_on_free_sample(struct rs_proc *p, int64_t ts, uint64_t ptr)
{
	int64_t s = live_find(p, ptr);

	(void)ts;
	p->free_samples++;
	if (s < 0) {
		p->unknown_frees++;
		return;
	}
	site_release(p, &p->live[s]);
	live_remove(p, (uint64_t)s);
}
