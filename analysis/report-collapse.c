/* SPDX-License-Identifier: MIT */
/*
 * Collapsing sampled stacks into sites. Per process: each distinct
 * (module, address) is symbolised once into a run of locations; a stack is
 * the concatenation of its frames' runs, cut at its first location that is
 * not the allocator's; equal cut stacks of a group merge, and their first
 * locations are the group's sites.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report-collapse.h"
#include "report-symbols.h"

#define INLINE_MAX 16 /* logical frames per address */

/* A hash index: slots of (hash, value + 1). */
struct hindex {
	struct { uint64_t h; uint32_t v; } *slot;
	size_t mask, n;
};

static bool hindex_reserve(struct hindex *x)
{
	size_t size;
	void *n;

	if (x->slot && (x->n + 1) * 2 <= x->mask + 1)
		return true;
	size = x->slot ? (x->mask + 1) * 2 : 1024;
	n = calloc(size, sizeof(*x->slot));
	if (!n)
		return false;
	for (size_t i = 0; x->slot && i <= x->mask; i++) {
		size_t s;

		if (!x->slot[i].v)
			continue;
		for (s = x->slot[i].h & (size - 1); ((typeof(x->slot))n)[s].v; s = (s + 1) & (size - 1))
			;
		((typeof(x->slot))n)[s] = x->slot[i];
	}
	free(x->slot);
	x->slot = n;
	x->mask = size - 1;
	return true;
}

/* The value under @h for which @eq(ctx, value) holds, or RC_NONE; *@at is
 * where to insert it otherwise. */
static uint32_t hindex_find(const struct hindex *x, uint64_t h, bool (*eq)(void *, uint32_t),
                            void *ctx, size_t *at)
{
	size_t s;

	for (s = h & x->mask; x->slot[s].v; s = (s + 1) & x->mask)
		if (x->slot[s].h == h && eq(ctx, x->slot[s].v - 1))
			return x->slot[s].v - 1;
	*at = s;
	return RC_NONE;
}

static void hindex_put(struct hindex *x, size_t at, uint64_t h, uint32_t v)
{
	x->slot[at].h = h;
	x->slot[at].v = v + 1;
	x->n++;
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static bool push(void **arr, uint32_t *n, uint32_t *cap, size_t elem, const void *item)
{
	if (*n == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 64;
		void *v = realloc(*arr, (size_t)ncap * elem);

		if (!v || ncap < *cap)
			return false;
		*arr = v;
		*cap = ncap;
	}
	memcpy((char *)*arr + (size_t)*n * elem, item, elem);
	(*n)++;
	return true;
}

/* ---- the allocator's frames ------------------------------------------------ */

bool rc_is_allocator_function(const char *f)
{
	static const char *const exact[] = {
		"malloc", "calloc", "realloc", "reallocarray", "free", "cfree", "posix_memalign",
		"aligned_alloc", "memalign", "valloc", "pvalloc", "strdup", "strndup", "__strdup",
		"__strndup", "wcsdup", "__wcsdup",
	};
	static const char *const prefix[] = {
		"__libc_", "__GI_", "operator new", "operator delete", "_Znw", "_Zna",
		"std::allocator<", "std::allocator_traits<", "std::__new_allocator<",
		"__gnu_cxx::new_allocator<", "__gnu_cxx::__alloc_traits<",
		"std::__allocator_traits_base", "std::__allocate_guarded",
	};

	if (!f)
		return false;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (!strcmp(f, exact[i]))
			return true;
	for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (!strncmp(f, prefix[i], strlen(prefix[i])))
			return true;
	return false;
}

static bool is_trackalloc_module(const struct rs_module *md)
{
	return md && !strncmp(rsym_basename(md->path), "libtrackalloc.so", 16);
}

/* ---- per process ----------------------------------------------------------- */

struct work {
	struct rc_result *res;
	struct rc_proc *out;
	const struct rs_proc *p;
	uint32_t locs_cap, seq_cap;
	bool *internal;          /* by loc */
	uint32_t internal_cap;
	/* (module, address) -> run of locs in runs[] */
	struct hindex addr_ix;
	struct { int32_t module; uint64_t addr; uint32_t first, n; } *addrs;
	uint32_t naddrs, addrs_cap;
	uint32_t *runs;
	uint32_t nruns, runs_cap;
	struct hindex loc_ix, cstack_ix, site_ix;
	/* lookup keys */
	const struct rc_loc *key_loc;
	int32_t key_module;
	uint64_t key_addr;
	const uint32_t *key_seq;
	uint32_t key_n, key_gid;
	/* per-group cstacks and sites, built flat then split */
	struct flat { uint32_t gid, idx; } *fc, *fs;
	struct rc_cstack *cs;
	uint32_t ncs, cs_cap, nfc, fc_cap;
	struct rc_site *ss;
	uint32_t nss, ss_cap, nfs, fs_cap;
	uint32_t *cs_gid, *ss_gid;
	uint32_t cs_gid_cap, ss_gid_cap;
};

static bool loc_eq(void *ctx, uint32_t v)
{
	const struct work *w = ctx;
	const struct rc_loc *a = &w->out->locs[v], *b = w->key_loc;

	if (a->func != b->func || a->module != b->module || a->inlined != b->inlined)
		return false;
	return a->func ? a->file == b->file && a->line == b->line : a->offset == b->offset;
}

static uint64_t loc_hash(const struct rc_loc *l)
{
	uint64_t h = mix(mix((uint64_t)(uintptr_t)l->func, (uint64_t)(int64_t)l->module), l->inlined);

	return l->func ? mix(mix(h, (uint64_t)(uintptr_t)l->file), l->line) : mix(h, l->offset);
}

static uint32_t intern_loc(struct work *w, struct rc_loc *l)
{
	uint64_t h = loc_hash(l);
	size_t at;
	uint32_t v;
	char buf[64];
	const struct rs_module *md = l->module >= 0 ? &w->p->modules[l->module] : NULL;

	if (!hindex_reserve(&w->loc_ix))
		return RC_NONE;
	w->key_loc = l;
	v = hindex_find(&w->loc_ix, h, loc_eq, w, &at);
	if (v != RC_NONE)
		return v;
	if (l->label) {
		/* a placeholder with its own label */
	} else if (l->func) {
		l->label = l->func;
	} else {
		char *s = NULL;

		if (md)
			l->label = asprintf(&s, "%s+0x%llx", rsym_basename(md->path),
			                    (unsigned long long)l->offset) < 0 ? NULL :
			           rsym_intern(w->res->sym, s);
		else
			l->label = (snprintf(buf, sizeof(buf), "?+0x%llx", (unsigned long long)l->offset),
			            rsym_intern(w->res->sym, buf));
		free(s);
		if (!l->label)
			return RC_NONE;
	}
	v = w->out->nlocs;
	if (!push((void **)&w->out->locs, &w->out->nlocs, &w->locs_cap, sizeof(*l), l))
		return RC_NONE;
	if (w->out->nlocs > w->internal_cap) {
		uint32_t ncap = w->locs_cap;
		bool *n = realloc(w->internal, ncap);

		if (!n)
			return RC_NONE;
		w->internal = n;
		w->internal_cap = ncap;
	}
	w->internal[v] = is_trackalloc_module(md) || rc_is_allocator_function(l->func);
	hindex_put(&w->loc_ix, at, h, v);
	return v;
}

static bool addr_eq(void *ctx, uint32_t v)
{
	const struct work *w = ctx;

	return w->addrs[v].module == w->key_module && w->addrs[v].addr == w->key_addr;
}

/* The run of locations of one frame (*@first, *@n into w->runs). */
static bool frame_run(struct work *w, const struct rs_frame *f, uint32_t *first, uint32_t *n)
{
	uint64_t h = mix(mix(7, (uint64_t)(int64_t)f->module), f->addr);
	struct rsym_frame sf[INLINE_MAX];
	size_t at;
	uint32_t v;
	int k = 0;
	uint64_t faddr = f->addr;

	if (!hindex_reserve(&w->addr_ix))
		return false;
	w->key_module = f->module;
	w->key_addr = f->addr;
	v = hindex_find(&w->addr_ix, h, addr_eq, w, &at);
	if (v == RC_NONE) {
		typeof(*w->addrs) a = { f->module, f->addr, w->nruns, 0 };

		if (f->module >= 0)
			k = rsym_lookup(w->res->sym, &w->p->modules[f->module], f->addr, sf, INLINE_MAX,
			                &faddr);
		w->res->addresses++;
		for (int i = 0; i < (k ? k : 1); i++) {
			struct rc_loc l = { .module = f->module, .offset = faddr };
			uint32_t id;

			if (k)
				l = (struct rc_loc){ sf[i].func, sf[i].file, sf[i].line, f->module, faddr,
				                     sf[i].inlined, NULL };
			id = intern_loc(w, &l);
			if (id == RC_NONE ||
			    !push((void **)&w->runs, &w->nruns, &w->runs_cap, sizeof(id), &id))
				return false;
		}
		a.n = w->nruns - a.first;
		v = w->naddrs;
		if (!push((void **)&w->addrs, &w->naddrs, &w->addrs_cap, sizeof(a), &a))
			return false;
		hindex_put(&w->addr_ix, at, h, v);
	}
	*first = w->addrs[v].first;
	*n = w->addrs[v].n;
	return true;
}

static bool cstack_eq(void *ctx, uint32_t v)
{
	const struct work *w = ctx;
	const struct rc_cstack *c = &w->cs[v];

	return w->cs_gid[v] == w->key_gid && c->n == w->key_n &&
	       !memcmp(&w->out->seq[c->first], w->key_seq, w->key_n * sizeof(uint32_t));
}

static bool site_eq(void *ctx, uint32_t v)
{
	const struct work *w = ctx;

	return w->ss_gid[v] == w->key_gid && w->ss[v].loc == w->key_seq[0];
}

static void counts_add(struct rs_counts *a, const struct rs_counts *b)
{
	a->live_objects += b->live_objects;
	a->live_bytes += b->live_bytes;
	a->live_estimate += b->live_estimate;
	a->alloc_objects += b->alloc_objects;
	a->alloc_bytes += b->alloc_bytes;
	a->alloc_estimate += b->alloc_estimate;
	a->peak_estimate += b->peak_estimate;
}

static bool grow_u32(uint32_t **arr, uint32_t *cap, uint32_t need)
{
	if (need <= *cap)
		return true;
	uint32_t ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	void *n = realloc(*arr, (size_t)ncap * sizeof(**arr));
	if (!n)
		return false;
	*arr = n;
	*cap = ncap;
	return true;
}

/* One site record of the model into its cut stack and site. */
static bool add_site(struct work *w, const struct rs_site *s)
{
	const struct rs_stack *st = &w->p->stacks[s->stack];
	uint32_t seq[RS_STACK_MAX * INLINE_MAX + 1], n = 0, cut, first = 0, cnt = 0;
	static const struct rc_loc none = { .module = RS_NO_MODULE, .offset = UINT64_MAX,
	                                    .label = "[no stack]" };
	uint64_t h;
	size_t at;
	uint32_t c;

	for (uint32_t i = 0; i < st->n; i++) {
		if (!frame_run(w, &w->p->frames[st->first + i], &first, &cnt))
			return false;
		memcpy(&seq[n], &w->runs[first], cnt * sizeof(uint32_t));
		n += cnt;
	}
	for (cut = 0; cut < n && w->internal[seq[cut]]; cut++)
		;
	if (cut == n) { /* nothing but the allocator (or no frames) */
		struct rc_loc l = none;
		uint32_t id = intern_loc(w, &l);

		if (id == RC_NONE)
			return false;
		seq[n] = id;
		cut = n++;
	}
	w->key_seq = &seq[cut];
	w->key_n = n - cut;
	w->key_gid = s->gid;
	h = mix((uint64_t)s->gid, w->key_n);
	for (uint32_t i = cut; i < n; i++)
		h = mix(h, seq[i]);
	if (!hindex_reserve(&w->cstack_ix) || !hindex_reserve(&w->site_ix))
		return false;
	c = hindex_find(&w->cstack_ix, h, cstack_eq, w, &at);
	if (c == RC_NONE) {
		struct rc_cstack cs = { w->out->nseq, w->key_n, { 0 } };

		if (!grow_u32(&w->out->seq, &w->seq_cap, w->out->nseq + w->key_n) ||
		    !grow_u32(&w->cs_gid, &w->cs_gid_cap, w->ncs + 1))
			return false;
		memcpy(&w->out->seq[w->out->nseq], w->key_seq, w->key_n * sizeof(uint32_t));
		w->out->nseq += w->key_n;
		c = w->ncs;
		w->cs_gid[c] = s->gid;
		if (!push((void **)&w->cs, &w->ncs, &w->cs_cap, sizeof(cs), &cs))
			return false;
		hindex_put(&w->cstack_ix, at, h, c);
	}
	counts_add(&w->cs[c].c, &s->c);

	h = mix(mix(11, s->gid), seq[cut]);
	uint32_t si = hindex_find(&w->site_ix, h, site_eq, w, &at);
	if (si == RC_NONE) {
		struct rc_site site = { .loc = seq[cut], .caller = RC_NONE, .best_stack = c };

		if (!grow_u32(&w->ss_gid, &w->ss_gid_cap, w->nss + 1))
			return false;
		si = w->nss;
		w->ss_gid[si] = s->gid;
		if (!push((void **)&w->ss, &w->nss, &w->ss_cap, sizeof(site), &site))
			return false;
		hindex_put(&w->site_ix, at, h, si);
	}
	counts_add(&w->ss[si].c, &s->c);
	return true;
}

static int site_cmp(const void *a, const void *b)
{
	const struct rc_site *x = a, *y = b;

	if (x->c.live_estimate != y->c.live_estimate)
		return x->c.live_estimate > y->c.live_estimate ? -1 : 1;
	if (x->c.alloc_estimate != y->c.alloc_estimate)
		return x->c.alloc_estimate > y->c.alloc_estimate ? -1 : 1;
	return x->loc < y->loc ? -1 : x->loc > y->loc;
}

/* Split the flat cstacks and sites by group; each site's caller and
 * number of stacks from the cstacks that start with it. */
static bool split_groups(struct work *w)
{
	struct rc_proc *o = w->out;
	uint32_t maxg = 0;

	for (uint32_t i = 0; i < w->nss; i++)
		maxg = w->ss_gid[i] > maxg ? w->ss_gid[i] : maxg;
	o->ngroups = w->nss ? maxg + 1 : 0;
	o->groups = calloc(o->ngroups ? o->ngroups : 1, sizeof(*o->groups));
	if (!o->groups)
		return false;
	for (uint32_t i = 0; i < w->ncs; i++)
		o->groups[w->cs_gid[i]].ncstacks++;
	for (uint32_t i = 0; i < w->nss; i++)
		o->groups[w->ss_gid[i]].nsites++;
	for (uint32_t gi = 0; gi < o->ngroups; gi++) {
		struct rc_group *g = &o->groups[gi];

		g->gid = gi;
		g->state = rs_proc_group_state(w->p, gi);
		g->cstacks = calloc(g->ncstacks + 1, sizeof(*g->cstacks));
		g->sites = calloc(g->nsites + 1, sizeof(*g->sites));
		if (!g->cstacks || !g->sites)
			return false;
		g->ncstacks = g->nsites = 0;
	}
	for (uint32_t i = 0; i < w->nss; i++)
		w->ss[i].best_stack = RC_NONE;
	for (uint32_t i = 0; i < w->ncs; i++) {
		struct rc_group *g = &o->groups[w->cs_gid[i]];
		const struct rc_cstack *cs = &w->cs[i], *best;
		uint32_t local = g->ncstacks++, si;
		struct rc_site *site;
		size_t at;

		g->cstacks[local] = *cs;
		counts_add(&g->total, &cs->c);
		w->key_gid = w->cs_gid[i];
		w->key_seq = &o->seq[cs->first];
		si = hindex_find(&w->site_ix, mix(mix(11, w->key_gid), w->key_seq[0]), site_eq, w, &at);
		if (si == RC_NONE)
			continue; /* cannot be: every cstack made its site */
		site = &w->ss[si];
		site->nstacks++;
		best = site->best_stack == RC_NONE ? NULL : &g->cstacks[site->best_stack];
		if (!best || cs->c.live_estimate > best->c.live_estimate ||
		    (cs->c.live_estimate == best->c.live_estimate &&
		     cs->c.alloc_estimate > best->c.alloc_estimate)) {
			site->best_stack = local;
			site->caller = cs->n > 1 ? o->seq[cs->first + 1] : RC_NONE;
		}
	}
	for (uint32_t i = 0; i < w->nss; i++) {
		struct rc_group *g = &o->groups[w->ss_gid[i]];

		g->sites[g->nsites++] = w->ss[i];
	}
	for (uint32_t gi = 0; gi < o->ngroups; gi++)
		qsort(o->groups[gi].sites, o->groups[gi].nsites, sizeof(struct rc_site), site_cmp);
	return true;
}

static bool collapse_proc(struct rc_result *res, const struct rs_proc *p, struct rc_proc *out)
{
	struct work w = { .res = res, .out = out, .p = p };
	bool ok = true;

	out->src = p;
	for (uint32_t i = 0; ok && i < p->nsites; i++)
		ok = add_site(&w, &p->sites[i]);
	ok = ok && split_groups(&w);
	free(w.internal);
	free(w.addr_ix.slot);
	free(w.addrs);
	free(w.runs);
	free(w.loc_ix.slot);
	free(w.cstack_ix.slot);
	free(w.site_ix.slot);
	free(w.cs);
	free(w.ss);
	free(w.cs_gid);
	free(w.ss_gid);
	return ok;
}

bool rc_collapse(const struct rs_model *m, struct rc_result *out, bool progress)
{
	return rc_collapse_with(m, NULL, out, progress);
}

bool rc_collapse_with(const struct rs_model *m, struct rsym *sym, struct rc_result *out,
                      bool progress)
{
	uint64_t frames = 0;

	memset(out, 0, sizeof(*out));
	out->sym = sym ? sym : rsym_new();
	out->sym_borrowed = sym != NULL;
	out->procs = calloc(m->nprocs + 1, sizeof(*out->procs));
	if (!out->sym || !out->procs)
		return false;
	for (size_t i = 0; i < m->nprocs; i++)
		frames += m->procs[i]->nframes;
	if (progress && frames >= 20000)
		fprintf(stderr, RP_PREFIX "symbolising %llu frames of %zu process(es)\n",
		        (unsigned long long)frames, m->nprocs);
	for (size_t i = 0; i < m->nprocs; i++) {
		out->nprocs++;
		if (!collapse_proc(out, m->procs[i], &out->procs[i]))
			return false;
	}
	return true;
}

void rc_free(struct rc_result *r)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		struct rc_proc *p = &r->procs[i];

		for (uint32_t g = 0; g < p->ngroups; g++) {
			free(p->groups[g].sites);
			free(p->groups[g].cstacks);
		}
		free(p->groups);
		free(p->locs);
		free(p->seq);
	}
	free(r->procs);
	if (!r->sym_borrowed)
		rsym_free(r->sym);
	memset(r, 0, sizeof(*r));
}
