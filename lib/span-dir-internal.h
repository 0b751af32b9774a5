/* SPDX-License-Identifier: MIT */
#ifndef TA_SPAN_DIR_INTERNAL_H
#define TA_SPAN_DIR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ta-internal.h"

#pragma GCC visibility push(hidden)

/*
 * The directory: in front of the table, sets of two ways, each a copy of one
 * binding (id and group id), indexed by hash. A lookup that misses the
 * per-thread cache reads its id's set first, one cache line, and walks the
 * table only when neither way holds the id (another id took its place, or the
 * id is not bound). A way is a sequence lock: the writer makes its sequence
 * odd while it changes the way, and a reader takes the copy only when the
 * sequence was even and did not change around its reads. The directory is
 * replaced whole (the old one freed after a grace period) when the bound ids
 * outgrow it; NULL when it could not be allocated, and then every lookup
 * walks the table.
 */
struct ta_span_way {
	uint32_t seq; /* odd while the writer changes the way */
	uint32_t gid;
	uint64_t id; /* 0: empty */
};
struct ta_span_dir {
	unsigned long mask; /* sets - 1 */
	struct ta_span_way way[][2];
};

/* A directory of @sets sets (a power of two), every way empty; NULL when
 * memory is short. Freed with free(). */
struct ta_span_dir *ta_span_dir_new(unsigned long sets);
/* Copy the binding @id -> @gid into its set (@d may be NULL). Writer side. */
void ta_span_dir_add(struct ta_span_dir *d, unsigned long hash, uint64_t id, uint32_t gid);
/* Take the unbound @id out (@d may be NULL). Writer side. */
void ta_span_dir_del(struct ta_span_dir *d, unsigned long hash, uint64_t id);

static inline struct ta_span_way *ta_span_dir_set(struct ta_span_dir *d, unsigned long hash)
{
	return d->way[hash & d->mask];
}

/* Does way @w hold @id? Then its group id is in *@gid. */
static inline bool ta_span_way_read(struct ta_span_way *w, uint64_t id, uint32_t *gid)
{
	uint32_t seq = __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE), g;

	if (__atomic_load_n(&w->id, __ATOMIC_RELAXED) != id)
		return false;
	g = __atomic_load_n(&w->gid, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if ((seq & 1) || __atomic_load_n(&w->seq, __ATOMIC_RELAXED) != seq)
		return false;
	*gid = g;
	return true;
}

/* Does the set of @hash in @d hold @id? Then its group id is in *@gid. */
static inline bool ta_span_dir_read(struct ta_span_dir *d, unsigned long hash, uint64_t id,
                                    uint32_t *gid)
{
	struct ta_span_way *set = ta_span_dir_set(d, hash);

	return ta_span_way_read(&set[0], id, gid) || ta_span_way_read(&set[1], id, gid);
}

#pragma GCC visibility pop

#endif /* TA_SPAN_DIR_INTERNAL_H */
