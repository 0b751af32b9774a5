/* SPDX-License-Identifier: MIT */
/*
 * LTTng-UST emission: the tracepoint definitions (dynamic linkage: the
 * probes live in libtrackalloc-lttng.so, which trace-load.c dlopens), the
 * group and span events, the statedump, and whether a session records an
 * event. The watcher and sampler threads are in trace-threads.c, loading,
 * attach requests and fork in trace-load.c.
 *
 * When LTTng-UST is loaded. TRACKALLOC_LTTNG=1 loads it at start, 0 never;
 * auto (the default) loads it at start unless the library came in through
 * LD_PRELOAD: a preloaded process that nobody records carries no LTTng-UST
 * thread, descriptor or mapping. Such a process loads it later on an attach
 * request (TA_ATTACH_SIGNAL, sent with sigqueue and TA_ATTACH_COOKIE): the
 * handler only arms the inner allocator's gate (ta_inner_attach_arm), the
 * next malloc on any thread sees it on its cold path and starts a
 * short-lived thread that loads the provider, outside the handler and
 * outside whatever lock the allocating thread holds.
 *
 * Deferred registration. The tracepoint definitions below come with
 * LTTng-UST's constructors, which would dlopen liblttng-ust-tracepoint.so at
 * start. ta_trace_setup (from the library's first constructor, before
 * those run) makes them no-ops when loading is deferred, and ta_trace_load
 * runs them by hand when the provider is loaded.
 *
 * Late sessions. LTTng-UST 2.13 has no "session started" hook, so a watcher
 * thread polls every TA_WATCH_MS: when a session that records group_register
 * becomes active, it re-emits every group's group_register/group_tag events
 * (a statedump). It also starts the sampler thread while group_stats is
 * enabled, and lets it end when the event is disabled. Both threads run as
 * library-internal code: what they allocate counts in root and emits nothing.
 */
#define _GNU_SOURCE
/* Must precede the first inclusion of the provider header (trace-internal.h). */
#if TA_WITH_LTTNG
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#endif
#include <errno.h>

#include "batch-internal.h"
#include "ta-internal.h"
#include "limits-internal.h"
#include "trace-internal.h"

#if TA_WITH_LTTNG

#include <lttng/ust-events.h>


/* ---- the tracepoints' registration -------------------------------------- */

/* The tracepoint definitions' constructors and destructors become no-ops:
 * they see themselves as having run already. */
TA_START void ta_trace_tracepoints_defer(void)
{
	lttng_ust_tracepoint_dlopen_ptr = &lttng_ust_tracepoint_dlopen;
	lttng_ust_tracepoint_registered = 1;
	lttng_ust_tracepoint_ptrs_registered = 1;
}

/* Run them by hand, as at start (the provider is being loaded). */
void ta_trace_tracepoints_register(void)
{
	lttng_ust_tracepoint_registered = 0;
	lttng_ust_tracepoint_ptrs_registered = 0;
	lttng_ust__tracepoints__init();
	lttng_ust__tracepoints__ptrs_init();
}

/* A provider loaded from the first constructor (ta_trace_load) met the
 * tracepoints unregistered: their own constructors, just above in this
 * file, run after it. Defined after them, this one runs after them too: a
 * session that records batches from the start (trackalloc record) sees
 * the program's first call. */
static void __attribute__((constructor)) ta_trace_after_tracepoints(void)
{
	if (ta_trace_loaded())
		ta_batch_poll(false);
}

/* ---- group and span events ---------------------------------------------- */

/* Group and span events come from library calls, not from the allocator:
 * they run as library-internal code so LTTng-UST's own allocations (the first
 * event of a thread, say) count in root and raise nothing. */
void ta_trace_group_enter_emit(uint32_t gid, uint32_t prev)
{
	ta_nest_enter();
	lttng_ust_do_tracepoint(trackalloc, group_enter, gid, prev);
	ta_batch_mark();
	ta_nest_exit();
}

void ta_trace_group_exit_emit(uint32_t gid, uint32_t restored)
{
	ta_nest_enter();
	lttng_ust_do_tracepoint(trackalloc, group_exit, gid, restored);
	ta_batch_mark();
	ta_nest_exit();
}

void ta_trace_span_emit(int what, uint64_t span_id, uint32_t gid)
{
	ta_nest_enter();
	switch (what) {
	case TA_SPAN_BIND:
		lttng_ust_do_tracepoint(trackalloc, span_bind, span_id, gid);
		break;
	case TA_SPAN_UNBIND:
		lttng_ust_do_tracepoint(trackalloc, span_unbind, span_id, gid);
		break;
	case TA_SPAN_ENTER:
		lttng_ust_do_tracepoint(trackalloc, span_enter, span_id, gid);
		break;
	case TA_SPAN_EXIT:
		lttng_ust_do_tracepoint(trackalloc, span_exit, span_id, gid);
		break;
	}
	ta_batch_mark();
	ta_nest_exit();
}

void ta_trace_group_metadata(const struct ta_group *g)
{
	uint32_t i;

	if (!lttng_ust_tracepoint_enabled(trackalloc, group_register) &&
	    !lttng_ust_tracepoint_enabled(trackalloc, group_tag))
		return;
	ta_nest_enter();
	lttng_ust_do_tracepoint(trackalloc, group_register, g->id, g->name, g->ntags);
	for (i = 0; i < g->ntags; i++)
		lttng_ust_tracepoint(trackalloc, group_tag, g->id, g->tags[i].key,
		                     g->tags[i].value);
	ta_nest_exit();
}

void ta_trace_group_limit(uint32_t gid, uint64_t live, uint64_t soft, uint64_t hard)
{
	ta_nest_enter();
	lttng_ust_tracepoint(trackalloc, group_limit, gid, live, soft, hard);
	ta_nest_exit();
}

static int ta_statedump_group(ta_group *g, void *arg)
{
	(void)arg;
	ta_trace_group_metadata(g);
	return 0;
}

TA_API int ta_statedump(void)
{
	if (!ta_trace_loaded())
		return -ENOSYS;
	ta_group_foreach(ta_statedump_group, NULL);
	return 0;
}

static int ta_sample_group(ta_group *g, void *arg)
{
	struct ta_stats st;
	uint64_t peak;

	(void)arg;
	ta_group_stats(g, &st);
	peak = ta_peak_get(g, (int64_t)(st.allocated_bytes - st.freed_bytes));
	lttng_ust_tracepoint(trackalloc, group_stats, g->id, st.allocated_bytes,
	                     st.allocated_objects, st.freed_bytes, st.freed_objects,
	                     st.wrapped_bytes_live, peak);
	return 0;
}

/* ---- is anyone recording? ------------------------------------------------ */

/*
 * The sessions that record @tp's event and are active, as opaque pointers
 * (at most @max); returns how many. Reads the probe list LTTng-UST attaches
 * to an enabled tracepoint, through the base ABI of lttng/ust-events.h (the
 * same path the generated probe takes).
 */
int ta_tp_sessions(struct lttng_ust_tracepoint *tp, const void **out, int max)
{
	struct lttng_ust_tracepoint_probe *probes;
	int n = 0;

	if (!__atomic_load_n(&tp->state, __ATOMIC_RELAXED) ||
	    !lttng_ust_tracepoint_dlopen_ptr || !lttng_ust_tracepoint_dlopen_ptr->rcu_read_lock_sym)
		return 0;
	lttng_ust_tracepoint_dlopen_ptr->rcu_read_lock_sym();
	probes = lttng_ust_tp_rcu_dereference(tp->probes);
	for (; probes && probes->func && n < max; probes++) {
		struct lttng_ust_event_common *ev = probes->data;
		struct lttng_ust_event_recorder *rec;
		struct lttng_ust_session *session;

		if (!ev || ev->type != LTTNG_UST_EVENT_TYPE_RECORDER || !ev->enabled)
			continue;
		rec = ev->child;
		if (!rec || !rec->chan || !rec->chan->parent || !rec->chan->parent->session)
			continue;
		session = rec->chan->parent->session;
		if (__atomic_load_n(&session->active, __ATOMIC_RELAXED))
			out[n++] = session;
	}
	lttng_ust_tracepoint_dlopen_ptr->rcu_read_unlock_sym();
	return n;
}

/* True when some active session records @tp's event. */
int ta_tp_recording(struct lttng_ust_tracepoint *tp)
{
	const void *one;

	return ta_tp_sessions(tp, &one, 1) > 0;
}

/* A group_stats sample of every group, when a session records them. */
void ta_trace_sample_all(void)
{
	if (ta_tp_recording(&lttng_ust_tracepoint_trackalloc___group_stats))
		ta_group_foreach(ta_sample_group, NULL);
}

/*
 * Why a destructor here: an atexit handler registered from a library
 * constructor runs after _dl_fini (it was registered first), when nothing is
 * registered any more. This file holds the tracepoint definitions, whose own
 * destructor unregisters them; destructors of one file run in reverse order
 * of definition, so this one, defined after them, runs first. A provider
 * loaded inside our constructor is finalised after us, so its probes are
 * still there. A provider loaded later is finalised before us: for it,
 * ta_trace_load registers ta_trace_finish with atexit, which runs before
 * any destructor.
 */
static void __attribute__((destructor)) ta_trace_at_exit(void)
{
	ta_trace_finish();
}

#else /* !TA_WITH_LTTNG */

TA_API int ta_statedump(void)
{
	return -ENOSYS;
}

#endif
