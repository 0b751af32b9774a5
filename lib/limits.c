/* SPDX-License-Identifier: MIT */
/*
 * Peaks and limits per group (trackalloc.h, "Peaks and limits").
 *
 * A group's live requested bytes are the sum of every thread's balance in
 * it. Each thread keeps its own balance d since it last shared it (struct
 * ta_slot's rise and fall): the fast paths only add to it, and a thread
 * shares d with the group (one atomic add to the group's live) once it
 * leaves [-TA_PEAK_BATCH, TA_PEAK_BATCH]. A thread's allocation that takes
 * its own d to a new high since it last shared is the only one that looks
 * at the group: live (shared) + d against the peak and the limits. So a
 * thread alone in a group sees every high exactly; others' unshared
 * balances make the error, at most TA_PEAK_BATCH each, either way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "limits-internal.h"
#include "sampling-internal.h"
#include "trace-internal.h"

uint64_t ta_diag_limit;
/* Writers of a group's callback pair (readers use its sequence count). */
static pthread_mutex_t ta_limits_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t ta_slot_balance(const struct ta_slot *s)
{
	return TA_LOAD(&s->fall) - TA_LOAD(&s->bias);
}

static void ta_peak_max(struct ta_group *g, int64_t live)
{
	uint64_t peak = __atomic_load_n(&g->peak, __ATOMIC_RELAXED);

	while (live > 0 && (uint64_t)live > peak &&
	       !__atomic_compare_exchange_n(&g->peak, &peak, (uint64_t)live, true,
	                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Share @s's balance with its group @g. */
TA_START static int64_t ta_slot_share(struct ta_slot *s, struct ta_group *g)
{
	int64_t d = ta_slot_balance(s);
	int64_t live = __atomic_add_fetch(&g->live, d, __ATOMIC_RELAXED);

	TA_STORE(&s->fall, TA_PEAK_BATCH);
	TA_STORE(&s->bias, TA_PEAK_BATCH);
	TA_STORE(&s->rise, 0);
	return live;
}

/* The group is above its soft limit by @over bytes as this thread sees it:
 * make the thread's frees look at the group as soon as they take it back
 * to the limit, so that the next crossing is seen (when @over is less than
 * a batch). The balance d = fall - bias is kept. */
static void ta_slot_watch_soft(struct ta_slot *s, int64_t over)
{
	int64_t d = ta_slot_balance(s);

	if (over <= 0 || over > TA_LOAD(&s->fall))
		return;
	TA_STORE(&s->fall, over - 1);
	TA_STORE(&s->bias, over - 1 - d);
}

void ta_batches_rebase(struct ta_thread *th)
{
	uint32_t p, i;

	th->batch_seen = __atomic_load_n(&th->batch_gen, __ATOMIC_ACQUIRE);
	for (p = 0; p < TA_PAGES; p++) {
		struct ta_page *pg = th->pages[p];

		if (pg)
			for (i = 0; i < TA_PAGE_SLOTS; i++)
				TA_STORE(&pg->slot[i].rise, 0);
	}
}

/* Every other thread rebases its batches at its next allocation. */
static void ta_batches_poke_all(void)
{
	struct ta_thread *self = ta_tls.th, *th;

	ta_nest_enter();
	pthread_mutex_lock(&ta_registry_lock);
	cds_list_for_each_entry(th, &ta_threads, node) {
		if (th == self)
			continue;
		__atomic_add_fetch(&th->batch_gen, 1, __ATOMIC_RELEASE);
		ta_countdown_poke(th->tls);
	}
	pthread_mutex_unlock(&ta_registry_lock);
	ta_nest_exit();
}

TA_START enum ta_high ta_peak_high(struct ta_slot *s, uint32_t gid, size_t n, bool may_refuse)
{
	struct ta_group *g = ta_group_by_id(gid);
	int64_t d = ta_slot_balance(s), live;
	uint64_t hard, soft;

	if (!g)
		return TA_HIGH_OK;
	live = __atomic_load_n(&g->live, __ATOMIC_RELAXED) + d;
	hard = __atomic_load_n(&g->hard, __ATOMIC_RELAXED);
	if (TA_UNLIKELY(hard) && may_refuse && live > 0 && (uint64_t)live > hard) {
		/* the allocation is not made: take it off the batch again */
		TA_DROP(&s->rise, n);
		TA_DROP(&s->fall, n);
		TA_DIAG_INC(ta_diag_limit);
		return TA_HIGH_REFUSE;
	}
	TA_STORE(&s->rise, 0); /* d is the new high */
	if (d > TA_PEAK_BATCH)
		live = ta_slot_share(s, g);
	ta_peak_max(g, live);
	soft = __atomic_load_n(&g->soft, __ATOMIC_RELAXED);
	if (TA_LIKELY(!soft) || live <= 0 || (uint64_t)live <= soft)
		return TA_HIGH_OK;
	ta_slot_watch_soft(s, live - (int64_t)soft);
	if (!__atomic_load_n(&g->soft_over, __ATOMIC_RELAXED) &&
	    !__atomic_exchange_n(&g->soft_over, 1, __ATOMIC_ACQ_REL))
		return TA_HIGH_SOFT;
	return TA_HIGH_OK;
}

TA_START void ta_peak_low(struct ta_slot *s, uint32_t gid)
{
	struct ta_group *g = ta_group_by_id(gid);
	int64_t live;
	uint64_t soft;

	if (!g)
		return;
	live = ta_slot_share(s, g);
	soft = __atomic_load_n(&g->soft, __ATOMIC_RELAXED);
	/* below the soft limit again: the next crossing fires */
	if (soft && (live < 0 || (uint64_t)live <= soft) &&
	    __atomic_load_n(&g->soft_over, __ATOMIC_RELAXED))
		__atomic_store_n(&g->soft_over, 0, __ATOMIC_RELAXED);
}

void ta_peak_fold(uint32_t gid, const struct ta_slot *s)
{
	struct ta_group *g = ta_group_by_id(gid);

	if (g)
		__atomic_add_fetch(&g->live, ta_slot_balance(s), __ATOMIC_RELAXED);
}

void ta_peak_slow(uint32_t gid, int64_t delta)
{
	struct ta_group *g = ta_group_by_id(gid);

	if (g)
		ta_peak_max(g, __atomic_add_fetch(&g->live, delta, __ATOMIC_RELAXED));
}

bool ta_limit_refuses(struct ta_slot *s, uint32_t gid, int64_t growth)
{
	struct ta_group *g = ta_group_by_id(gid);
	uint64_t hard;
	int64_t live;

	if (!g || !s || growth <= 0) /* a shrink takes the group over nothing */
		return false;
	hard = __atomic_load_n(&g->hard, __ATOMIC_RELAXED);
	if (TA_LIKELY(!hard))
		return false;
	live = __atomic_load_n(&g->live, __ATOMIC_RELAXED) + ta_slot_balance(s) + growth;
	if (live <= 0 || (uint64_t)live <= hard)
		return false;
	TA_DIAG_INC(ta_diag_limit);
	return true;
}

/* The soft limit of @gid was crossed by this thread's allocation, which is
 * now complete: the callback (outside every library-internal section, so
 * it may allocate and call the API) and the event. */
void ta_limit_soft_fire(uint32_t gid)
{
	struct ta_group *g = ta_group_by_id(gid);
	void (*fn)(struct ta_group *, uint64_t, void *);
	struct ta_stats st;
	uint64_t live;
	void *ctx;

	if (!g)
		return;
	if (ta_tls.nesting) { /* cannot call back here: the next crossing will */
		__atomic_store_n(&g->soft_over, 0, __ATOMIC_RELAXED);
		return;
	}
	ta_nest_enter();
	(void)ta_group_stats(g, &st);
	live = st.allocated_bytes - st.freed_bytes;
	ta_trace_group_limit(g->id, live, __atomic_load_n(&g->soft, __ATOMIC_RELAXED),
	                     __atomic_load_n(&g->hard, __ATOMIC_RELAXED));
	ta_nest_exit();
	/* the pair as one ta_group_limit_set wrote it */
	for (;;) {
		uint32_t seq = __atomic_load_n(&g->on_soft_seq, __ATOMIC_ACQUIRE);

		fn = __atomic_load_n(&g->on_soft, __ATOMIC_RELAXED);
		ctx = __atomic_load_n(&g->on_soft_ctx, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(seq & 1) && __atomic_load_n(&g->on_soft_seq, __ATOMIC_RELAXED) == seq)
			break;
	}
	if (fn)
		fn(g, live, ctx);
}

/* ---- the API ------------------------------------------------------------ */

/* The group's exact live bytes now (every thread's slot summed). */
static int64_t ta_group_live_now(const struct ta_group *g)
{
	struct ta_stats st;

	if (ta_group_stats(g, &st) != 0)
		return 0;
	return (int64_t)(st.allocated_bytes - st.freed_bytes);
}

uint64_t ta_peak_get(const struct ta_group *g, int64_t live_now)
{
	uint64_t peak = __atomic_load_n(&g->peak, __ATOMIC_RELAXED);

	return live_now > 0 && (uint64_t)live_now > peak ? (uint64_t)live_now : peak;
}

TA_API int ta_group_peak(const ta_group *g, uint64_t *peak_live_bytes)
{
	if (!g || !peak_live_bytes)
		return -EINVAL;
	*peak_live_bytes = ta_peak_get(g, ta_group_live_now(g));
	return 0;
}

/* Share the calling thread's balance in @g, so that its next allocation
 * there looks at the group. */
static void ta_peak_share_own(struct ta_group *g)
{
	struct ta_thread *th = ta_tls.th;
	struct ta_page *pg;

	if (!th)
		return;
	pg = th->pages[g->id >> TA_PAGE_SHIFT];
	if (pg)
		(void)ta_slot_share(&pg->slot[g->id & (TA_PAGE_SLOTS - 1)], g);
}

TA_API int ta_group_peak_reset(ta_group *g)
{
	int64_t now;

	if (!g)
		return -EINVAL;
	ta_peak_share_own(g);
	now = ta_group_live_now(g);
	__atomic_store_n(&g->peak, now > 0 ? (uint64_t)now : 0, __ATOMIC_RELAXED);
	ta_batches_poke_all();
	return 0;
}

TA_API int ta_group_limit_set(ta_group *g, uint64_t soft, uint64_t hard,
                              void (*on_soft)(ta_group *g, uint64_t live, void *ctx), void *ctx)
{
	if (!g || g == &ta_root || (soft && hard && soft > hard) ||
	    soft > INT64_MAX || hard > INT64_MAX)
		return -EINVAL;
	/* the callback first, under its sequence count: a crossing that sees
	 * the new soft limit sees this callback with this context */
	pthread_mutex_lock(&ta_limits_lock);
	__atomic_add_fetch(&g->on_soft_seq, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&g->on_soft, on_soft, __ATOMIC_RELAXED);
	__atomic_store_n(&g->on_soft_ctx, ctx, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g->on_soft_seq, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ta_limits_lock);
	__atomic_store_n(&g->soft_over, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g->soft, soft, __ATOMIC_RELEASE);
	__atomic_store_n(&g->hard, hard, __ATOMIC_RELEASE);
	ta_peak_share_own(g);
	ta_batches_poke_all();
	return 0;
}

TA_API int ta_group_limit_get(const ta_group *g, uint64_t *soft, uint64_t *hard)
{
	if (!g)
		return -EINVAL;
	if (soft)
		*soft = __atomic_load_n(&g->soft, __ATOMIC_RELAXED);
	if (hard)
		*hard = __atomic_load_n(&g->hard, __ATOMIC_RELAXED);
	return 0;
}

/* ---- TRACKALLOC_LIMITS ---------------------------------------------------- */

#define TA_LIMITS_ENV_MAX 64

struct ta_limit_spec {
	char name[TA_GROUP_NAME_MAX + 1];
	uint64_t soft, hard;
};

/* Parsed once at start, read-only after: groups registered later (by the
 * program, or by the rules) look their name up here. */
static struct ta_limit_spec *ta_limit_specs;
static size_t ta_nlimit_specs;

/* One size of "SOFT:HARD", @len bytes at @s. */
static int ta_limits_size(const char *s, size_t len, uint64_t *out)
{
	char buf[32];

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (ta_parse_size(buf, out) < 0 || *out > INT64_MAX)
		return -EINVAL;
	return 0;
}

static int ta_limits_parse_one(const char *s, size_t len, struct ta_limit_spec *spec,
                               const char **why)
{
	const char *eq = memchr(s, '=', len), *colon;
	size_t name_len;

	if (!eq) {
		*why = "missing '=' (GROUP=SOFT:HARD)";
		return -EINVAL;
	}
	name_len = (size_t)(eq - s);
	colon = memchr(eq + 1, ':', len - name_len - 1);
	if (name_len == 0 || name_len > TA_GROUP_NAME_MAX) {
		*why = name_len ? "group name longer than 255 bytes" : "empty group name";
		return -EINVAL;
	}
	if (name_len == 4 && memcmp(s, "root", 4) == 0) {
		*why = "root cannot be limited";
		return -EINVAL;
	}
	if (!colon) {
		*why = "missing ':' (GROUP=SOFT:HARD)";
		return -EINVAL;
	}
	if (ta_limits_size(eq + 1, (size_t)(colon - eq - 1), &spec->soft) < 0 ||
	    ta_limits_size(colon + 1, len - (size_t)(colon + 1 - s), &spec->hard) < 0) {
		*why = "a limit is not a size (bytes, or with K, M or G; 0 for none)";
		return -EINVAL;
	}
	if (spec->soft && spec->hard && spec->soft > spec->hard) {
		*why = "the soft limit is above the hard one";
		return -EINVAL;
	}
	memcpy(spec->name, s, name_len);
	spec->name[name_len] = '\0';
	return 0;
}

void ta_limits_env(const char *value)
{
	size_t pos = 0, total = strlen(value), n = 0;
	struct ta_limit_spec *specs;
	const char *why = NULL;

	specs = ta_inner.calloc(TA_LIMITS_ENV_MAX, sizeof(*specs));
	if (!specs) {
		ta_warn("trackalloc: TRACKALLOC_LIMITS ignored: out of memory\n");
		return;
	}
	while (pos <= total) {
		const char *end = memchr(value + pos, ';', total - pos);
		size_t len = end ? (size_t)(end - value) - pos : total - pos;

		if (n == TA_LIMITS_ENV_MAX) {
			why = "more than 64 groups";
			break;
		}
		if (ta_limits_parse_one(value + pos, len, &specs[n], &why) < 0)
			break;
		n++;
		if (!end)
			break;
		pos += len + 1;
	}
	if (why) {
		ta_warn("trackalloc: TRACKALLOC_LIMITS ignored: byte %zu, entry %zu: %s\n", pos,
		        n + 1, why);
		ta_inner.free(specs);
		return;
	}
	ta_limit_specs = specs;
	__atomic_store_n(&ta_nlimit_specs, n, __ATOMIC_RELEASE);
}

void ta_limits_registered(struct ta_group *g)
{
	size_t i, n = __atomic_load_n(&ta_nlimit_specs, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++) {
		if (strcmp(ta_limit_specs[i].name, g->name) == 0) {
			(void)ta_group_limit_set(g, ta_limit_specs[i].soft, ta_limit_specs[i].hard,
			                         NULL, NULL);
			return;
		}
	}
}
