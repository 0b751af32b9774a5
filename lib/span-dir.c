/* SPDX-License-Identifier: MIT */
/*
 * The span directory's writer side (the structure and its read side are in
 * span-dir-internal.h). Every writer holds the span table's writer lock.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "span-dir-internal.h"

struct ta_span_dir *ta_span_dir_new(unsigned long sets)
{
	struct ta_span_dir *d = calloc(1, sizeof(*d) + sets * sizeof(d->way[0]));

	if (d)
		d->mask = sets - 1;
	return d;
}

/* Write @id and @gid into way @w. Writer lock held. */
static void ta_span_way_write(struct ta_span_way *w, uint64_t id, uint32_t gid)
{
	uint32_t seq = w->seq;

	__atomic_store_n(&w->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&w->id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&w->gid, gid, __ATOMIC_RELAXED);
	__atomic_store_n(&w->seq, seq + 2, __ATOMIC_RELEASE);
}

/*
 * Copy a binding into its set of @d: into an empty way, or else
 * first, where the previous first moves to the second way (the latest bound
 * id is likely the next entered; the one pushed out is still found in the
 * table). Writer lock held.
 */
void ta_span_dir_add(struct ta_span_dir *d, unsigned long hash, uint64_t id, uint32_t gid)
{
	struct ta_span_way *set;

	if (!d)
		return;
	set = ta_span_dir_set(d, hash);
	if (!set[0].id) {
		ta_span_way_write(&set[0], id, gid);
	} else if (!set[1].id) {
		ta_span_way_write(&set[1], id, gid);
	} else {
		ta_span_way_write(&set[1], set[0].id, set[0].gid);
		ta_span_way_write(&set[0], id, gid);
	}
}

/* Take the unbound @id out of the directory. Writer lock held. */
void ta_span_dir_del(struct ta_span_dir *d, unsigned long hash, uint64_t id)
{
	struct ta_span_way *set;

	if (!d)
		return;
	set = ta_span_dir_set(d, hash);
	for (int w = 0; w < 2; w++)
		if (set[w].id == id)
			ta_span_way_write(&set[w], 0, 0);
}
