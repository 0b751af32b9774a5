/* SPDX-License-Identifier: MIT */
/*
 * The sampled heap: every live sample by address, every distinct stack, and
 * per site (group, stack) the live and cumulative counts that a profile
 * dump writes. Only sampled allocations and their frees come here (one in
 * mean/size on average), so one mutex serialises them; everything is
 * allocated from the inner allocator, never through the wrapper.
 *
 * Three open-addressing tables with linear probing, sized in powers of two
 * and grown at half full: stacks by hash, sites by (group, stack), and live
 * samples by address (deleted by shifting the following entries back, so
 * there are no tombstones). A table that cannot grow refuses the sample:
 * the block then simply is not sampled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "sampling-internal.h"

struct ta_stack_rec {
	uint64_t hash;
	uint32_t depth;
	uint64_t ips[];
};

struct ta_site_rec {
	uint32_t gid, stack;
	struct ta_site_counts c;
};

struct ta_live {
	uintptr_t ptr; /* 0: empty */
	uint32_t site;
	uint64_t size, weight;
};

static pthread_mutex_t ta_samples_mutex = PTHREAD_MUTEX_INITIALIZER;

static struct ta_stack_rec **ta_stacks;
static uint32_t ta_nstacks, ta_stacks_cap;
static uint32_t *ta_stack_index; /* id + 1, 0 empty */
static uint32_t ta_stack_index_cap;

static struct ta_site_rec *ta_sites;
static uint32_t ta_nsites, ta_sites_cap;
static uint32_t *ta_site_index;
static uint32_t ta_site_index_cap;

static struct ta_live *ta_lives;
static size_t ta_nlives, ta_lives_cap;

static uint64_t ta_hash_word(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x100000001b3ull;
	return h ^ (h >> 29);
}

static size_t ta_ptr_slot(uintptr_t p, size_t cap)
{
	return (size_t)(((uint64_t)p * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

/* Grow an index of @cap slots to @ncap, rehashing with @hash_of. */
static int ta_index_grow(uint32_t **index, uint32_t *cap, uint32_t ncap,
                         uint64_t (*hash_of)(uint32_t id))
{
	uint32_t *fresh = ta_inner.calloc(ncap, sizeof(*fresh)), i;

	if (!fresh)
		return -ENOMEM;
	for (i = 0; i < *cap; i++) {
		uint32_t id = (*index)[i], j;

		if (!id)
			continue;
		for (j = (uint32_t)hash_of(id - 1) & (ncap - 1); fresh[j]; j = (j + 1) & (ncap - 1))
			;
		fresh[j] = id;
	}
	ta_inner.free(*index);
	*index = fresh;
	*cap = ncap;
	return 0;
}

static uint64_t ta_stack_hash_of(uint32_t id)
{
	return ta_stacks[id]->hash;
}

static uint64_t ta_site_key(uint32_t gid, uint32_t stack)
{
	return ta_hash_word(ta_hash_word(0xcbf29ce484222325ull, gid), stack);
}

static uint64_t ta_site_hash_of(uint32_t id)
{
	return ta_site_key(ta_sites[id].gid, ta_sites[id].stack);
}

/* The id of the stack @ips[@depth], added if new; -1 when memory is short. */
static int64_t ta_stack_id(const uint64_t *ips, int depth)
{
	uint64_t h = 0xcbf29ce484222325ull;
	struct ta_stack_rec *rec;
	uint32_t j;
	int i;

	for (i = 0; i < depth; i++)
		h = ta_hash_word(h, ips[i]);
	h = ta_hash_word(h, (uint64_t)depth);
	if ((ta_nstacks + 1) * 2 > ta_stack_index_cap &&
	    ta_index_grow(&ta_stack_index, &ta_stack_index_cap,
	                  ta_stack_index_cap ? ta_stack_index_cap * 2 : 256, ta_stack_hash_of) < 0)
		return -1;
	for (j = (uint32_t)h & (ta_stack_index_cap - 1); ta_stack_index[j];
	     j = (j + 1) & (ta_stack_index_cap - 1)) {
		rec = ta_stacks[ta_stack_index[j] - 1];
		if (rec->hash == h && rec->depth == (uint32_t)depth &&
		    memcmp(rec->ips, ips, (size_t)depth * sizeof(*ips)) == 0)
			return ta_stack_index[j] - 1;
	}
	if (ta_nstacks == ta_stacks_cap) {
		uint32_t ncap = ta_stacks_cap ? ta_stacks_cap * 2 : 128;
		struct ta_stack_rec **grown = ta_inner.realloc(ta_stacks, ncap * sizeof(*grown));

		if (!grown)
			return -1;
		ta_stacks = grown;
		ta_stacks_cap = ncap;
	}
	rec = ta_inner.malloc(sizeof(*rec) + (size_t)depth * sizeof(*ips));
	if (!rec)
		return -1;
	rec->hash = h;
	rec->depth = (uint32_t)depth;
	memcpy(rec->ips, ips, (size_t)depth * sizeof(*ips));
	ta_stacks[ta_nstacks] = rec;
	ta_stack_index[j] = ++ta_nstacks;
	return ta_nstacks - 1;
}

/* The id of site (@gid, @stack), added if new; -1 when memory is short. */
static int64_t ta_site_id(uint32_t gid, uint32_t stack)
{
	uint64_t h = ta_site_key(gid, stack);
	uint32_t j;

	if ((ta_nsites + 1) * 2 > ta_site_index_cap &&
	    ta_index_grow(&ta_site_index, &ta_site_index_cap,
	                  ta_site_index_cap ? ta_site_index_cap * 2 : 256, ta_site_hash_of) < 0)
		return -1;
	for (j = (uint32_t)h & (ta_site_index_cap - 1); ta_site_index[j];
	     j = (j + 1) & (ta_site_index_cap - 1)) {
		struct ta_site_rec *s = &ta_sites[ta_site_index[j] - 1];

		if (s->gid == gid && s->stack == stack)
			return ta_site_index[j] - 1;
	}
	if (ta_nsites == ta_sites_cap) {
		uint32_t ncap = ta_sites_cap ? ta_sites_cap * 2 : 128;
		struct ta_site_rec *grown = ta_inner.realloc(ta_sites, ncap * sizeof(*grown));

		if (!grown)
			return -1;
		ta_sites = grown;
		ta_sites_cap = ncap;
	}
	memset(&ta_sites[ta_nsites], 0, sizeof(ta_sites[0]));
	ta_sites[ta_nsites].gid = gid;
	ta_sites[ta_nsites].stack = stack;
	ta_site_index[j] = ++ta_nsites;
	return ta_nsites - 1;
}

static int ta_lives_grow(void)
{
	size_t ncap = ta_lives_cap ? ta_lives_cap * 2 : 1024, i;
	struct ta_live *fresh = ta_inner.calloc(ncap, sizeof(*fresh));

	if (!fresh)
		return -ENOMEM;
	for (i = 0; i < ta_lives_cap; i++) {
		size_t j;

		if (!ta_lives[i].ptr)
			continue;
		for (j = ta_ptr_slot(ta_lives[i].ptr, ncap); fresh[j].ptr; j = (j + 1) & (ncap - 1))
			;
		fresh[j] = ta_lives[i];
	}
	ta_inner.free(ta_lives);
	ta_lives = fresh;
	ta_lives_cap = ncap;
	return 0;
}

int ta_samples_add(uintptr_t ptr, uint64_t size, uint64_t weight, uint32_t gid,
                   const uint64_t *ips, int depth)
{
	struct ta_site_rec *site;
	int64_t stack, sid;
	size_t j;
	int err = -ENOMEM;

	pthread_mutex_lock(&ta_samples_mutex);
	if ((ta_nlives + 1) * 2 > ta_lives_cap && ta_lives_grow() < 0)
		goto out;
	stack = ta_stack_id(ips, depth);
	if (stack < 0)
		goto out;
	sid = ta_site_id(gid, (uint32_t)stack);
	if (sid < 0)
		goto out;
	for (j = ta_ptr_slot(ptr, ta_lives_cap); ta_lives[j].ptr; j = (j + 1) & (ta_lives_cap - 1))
		;
	ta_lives[j].ptr = ptr;
	ta_lives[j].site = (uint32_t)sid;
	ta_lives[j].size = size;
	ta_lives[j].weight = weight;
	ta_nlives++;
	site = &ta_sites[sid];
	site->c.live_objects++;
	site->c.live_bytes += size;
	site->c.live_estimate += weight;
	site->c.allocated_objects++;
	site->c.allocated_bytes += size;
	site->c.allocated_estimate += weight;
	err = 0;
out:
	pthread_mutex_unlock(&ta_samples_mutex);
	return err;
}

bool ta_samples_remove(uintptr_t ptr)
{
	size_t j, k, mask;
	bool found = false;

	pthread_mutex_lock(&ta_samples_mutex);
	if (!ta_lives_cap)
		goto out;
	mask = ta_lives_cap - 1;
	for (j = ta_ptr_slot(ptr, ta_lives_cap); ta_lives[j].ptr; j = (j + 1) & mask) {
		struct ta_site_counts *c;

		if (ta_lives[j].ptr != ptr)
			continue;
		c = &ta_sites[ta_lives[j].site].c;
		c->live_objects--;
		c->live_bytes -= ta_lives[j].size;
		c->live_estimate -= ta_lives[j].weight;
		ta_nlives--;
		found = true;
		/* shift back the entries of the run that hash at or before j */
		for (k = (j + 1) & mask; ta_lives[k].ptr; k = (k + 1) & mask) {
			size_t home = ta_ptr_slot(ta_lives[k].ptr, ta_lives_cap);

			if (((k - home) & mask) >= ((k - j) & mask)) {
				ta_lives[j] = ta_lives[k];
				j = k;
			}
		}
		ta_lives[j].ptr = 0;
		break;
	}
out:
	pthread_mutex_unlock(&ta_samples_mutex);
	return found;
}

void ta_samples_lock(void)
{
	pthread_mutex_lock(&ta_samples_mutex);
}

void ta_samples_unlock(void)
{
	pthread_mutex_unlock(&ta_samples_mutex);
}

int ta_samples_foreach_site(ta_site_fn fn, void *arg)
{
	uint32_t i;

	for (i = 0; i < ta_nsites; i++) {
		int r = fn(ta_sites[i].gid, ta_sites[i].stack, &ta_sites[i].c, arg);

		if (r)
			return r;
	}
	return 0;
}

uint32_t ta_samples_nstacks(void)
{
	return ta_nstacks;
}

int ta_samples_stack(uint32_t id, const uint64_t **ips)
{
	if (id >= ta_nstacks)
		return -1;
	*ips = ta_stacks[id]->ips;
	return (int)ta_stacks[id]->depth;
}

void ta_samples_atfork_prepare(void)
{
	pthread_mutex_lock(&ta_samples_mutex);
}

void ta_samples_atfork_parent(void)
{
	pthread_mutex_unlock(&ta_samples_mutex);
}

void ta_samples_atfork_child(bool locked)
{
	if (locked)
		pthread_mutex_unlock(&ta_samples_mutex);
}
