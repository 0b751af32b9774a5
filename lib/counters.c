/* SPDX-License-Identifier: MIT */
/*
 * Reading counters: a group's value is its totals (folded from exited
 * threads, plus slow-path counts) plus the slot of every live thread.
 * Readers hold ta_registry_lock, which a thread's exit fold also takes, so a
 * read never sees a thread both folded and listed, or neither.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "limits-internal.h"
#include "ta-internal.h"
#include "trailer.h"

uint64_t ta_diag_foreign, ta_diag_double, ta_diag_corrupt, ta_diag_boot;

#define TA_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)

void ta_totals_add(uint32_t gid, const struct ta_slot *d)
{
	struct ta_group *g = ta_group_by_id(gid);

	if (!g)
		return;
	TA_ADD(&g->totals.allocated_bytes, d->allocated_bytes);
	TA_ADD(&g->totals.allocated_objects, d->allocated_objects);
	TA_ADD(&g->totals.freed_bytes, d->freed_bytes);
	TA_ADD(&g->totals.freed_objects, d->freed_objects);
	TA_ADD(&g->totals.held, d->held);
}

void ta_count_alloc_slow(uint32_t gid, size_t size, size_t wrapped)
{
	struct ta_slot d = { size, 1, 0, 0, wrapped + TA_TRAILER, 0, 0, 0 };

	ta_totals_add(gid, &d);
	ta_peak_slow(gid, (int64_t)size);
}

void ta_count_free_slow(uint32_t gid, size_t size, size_t wrapped)
{
	struct ta_slot d = { 0, 0, size, 1, -(uint64_t)(wrapped + TA_TRAILER), 0, 0, 0 };

	ta_totals_add(gid, &d);
	ta_peak_slow(gid, -(int64_t)size);
}

/*
 * A reader sums each counter over the group's totals and every live thread's
 * slot while the owners keep writing. Frees are read first, in a pass of
 * their own (acquire loads), and allocations after them: every free a reader
 * counts was preceded by its allocation (in the freeing thread, or in the
 * thread that handed the block over), so the allocations read later already
 * include it and a read never shows more frees than allocations. Reading
 * both in one pass, slot by slot, let a busy thread's frees outrun the
 * allocations read a moment earlier.
 */
static void ta_slot_sum_freed(struct ta_slot *acc, const struct ta_slot *s)
{
	/* acquire: no later load (the allocations) moves before these */
	acc->freed_bytes += __atomic_load_n(&s->freed_bytes, __ATOMIC_ACQUIRE);
	acc->freed_objects += __atomic_load_n(&s->freed_objects, __ATOMIC_ACQUIRE);
}

static void ta_slot_sum_allocated(struct ta_slot *acc, const struct ta_slot *s)
{
	acc->allocated_bytes += TA_LOAD(&s->allocated_bytes);
	acc->allocated_objects += TA_LOAD(&s->allocated_objects);
	acc->held += TA_LOAD(&s->held);
}

static void ta_group_sum(struct ta_slot *acc, const ta_group *g,
                         void (*sum)(struct ta_slot *, const struct ta_slot *))
{
	uint32_t page = g->id >> TA_PAGE_SHIFT, idx = g->id & (TA_PAGE_SLOTS - 1);
	struct ta_thread *th;

	sum(acc, &g->totals);
	cds_list_for_each_entry(th, &ta_threads, node) {
		struct ta_page *pg = __atomic_load_n(&th->pages[page], __ATOMIC_ACQUIRE);

		if (pg)
			sum(acc, &pg->slot[idx]);
	}
}

TA_API int ta_group_stats(const ta_group *g, struct ta_stats *out)
{
	struct ta_slot acc;

	if (!g || !out)
		return -EINVAL;
	memset(&acc, 0, sizeof(acc));
	pthread_mutex_lock(&ta_registry_lock);
	ta_group_sum(&acc, g, ta_slot_sum_freed);
	ta_group_sum(&acc, g, ta_slot_sum_allocated);
	pthread_mutex_unlock(&ta_registry_lock);
	out->allocated_bytes = acc.allocated_bytes;
	out->allocated_objects = acc.allocated_objects;
	out->freed_bytes = acc.freed_bytes;
	out->freed_objects = acc.freed_objects;
	out->wrapped_bytes_live =
		acc.held - TA_TRAILER * (acc.allocated_objects - acc.freed_objects);
	return 0;
}

TA_API int ta_diag_read(struct ta_diag *out)
{
	if (!out)
		return -EINVAL;
	out->foreign_frees = __atomic_load_n(&ta_diag_foreign, __ATOMIC_RELAXED);
	out->double_frees = __atomic_load_n(&ta_diag_double, __ATOMIC_RELAXED);
	out->corrupt_trailers = __atomic_load_n(&ta_diag_corrupt, __ATOMIC_RELAXED);
	out->bootstrap_frees = __atomic_load_n(&ta_diag_boot, __ATOMIC_RELAXED);
	out->fast_usable_size = (uint64_t)__atomic_load_n(&ta_glibc_layout, __ATOMIC_RELAXED);
	return 0;
}

uint64_t ta_diag_size_mismatch;

TA_API int ta_diag_ext_read(struct ta_diag_ext *out, size_t size)
{
	struct ta_diag_ext d;

	if (!out || size < 8 || size % 8)
		return -EINVAL;
	memset(&d, 0, sizeof(d));
	d.size_mismatches = __atomic_load_n(&ta_diag_size_mismatch, __ATOMIC_RELAXED);
	d.limit_failures = __atomic_load_n(&ta_diag_limit, __ATOMIC_RELAXED);
	if (size > sizeof(d)) {
		memset((char *)out + sizeof(d), 0, size - sizeof(d));
		size = sizeof(d);
	}
	memcpy(out, &d, size);
	return 0;
}
