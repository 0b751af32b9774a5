/* SPDX-License-Identifier: MIT */
/*
 * Rules: groups for code nobody instrumented (trackalloc.h, "Rules").
 *
 *   rules.c    the rule set: parsing, ta_rules_set, TRACKALLOC_GROUPS, and
 *              matching a thread's or a module's name to a group
 *   names.c    thread names: pthread_setname_np and prctl interposed, the
 *              thread's base group (what it counts in outside any guard)
 *   modules.c  the calling module of an allocation, for lib rules: a table
 *              of loaded objects, a per-thread cache, the look up the stack
 *
 * The wrapper's only part: while lib rules are in force the allocator's gate
 * carries TA_GATE_RULES, so every allocating entry point leaves its fast
 * path for one that knows its return address (ta_rules_call_begin/end).
 * Thread rules cost the fast path nothing: a thread's base group is its
 * active group whenever no guard or bound span is entered.
 */
#ifndef TA_RULES_INTERNAL_H
#define TA_RULES_INTERNAL_H

#include "ta-internal.h"
#include "trace-internal.h"

#pragma GCC visibility push(hidden)

/* A module or thread name no rule matched. */
#define TA_NO_RULE UINT32_MAX

/* ---- rules.c ------------------------------------------------------------ */

/* Bumped (odd while a change is under way) by every ta_rules_set. */
extern uint64_t ta_rules_gen;
/* Non-zero while the rule set in force has thread (resp. lib) rules. */
extern int ta_rules_thread_on, ta_rules_lib_on;

/* TRACKALLOC_GROUPS (options.c calls it with the value). */
void ta_rules_env(const char *value);
/* The group of the first thread rule matching @name, or TA_NO_RULE. Made
 * inside a library-internal section; may register the group. */
uint32_t ta_rules_thread_gid(const char *name);
/* The same for the first lib rule matching the module file name @file
 * ("exe" for the main program). */
uint32_t ta_rules_lib_gid(const char *file);
void ta_rules_atfork_prepare(void);
void ta_rules_atfork_parent(void);
void ta_rules_atfork_child(void);

/* ---- names.c ------------------------------------------------------------ */

/* Compute the calling thread's base group from its name and the thread
 * rules, and make it the base (ta_thread_set_base). Thread set-up and the
 * countdown's crossing call it when a rename or a rule change is pending. */
void ta_names_refresh(struct ta_tls *t);
/* Look up the interposed functions' next definitions (first constructor). */
void ta_names_init(void);
/* Ask every registered thread but the caller to refresh its base group at
 * its next allocation. */
void ta_names_poke_all(void);

/* A refresh is pending for the calling thread. */
static inline bool ta_names_pending(const struct ta_thread *th)
{
	return __atomic_load_n(&th->name_gen, __ATOMIC_ACQUIRE) != th->name_seen;
}

/* ---- modules.c ---------------------------------------------------------- */

/* Bumped whenever a cached module answer may be stale: dlclose, a new rule
 * set. */
extern uint64_t ta_modules_gen;

uint32_t ta_modules_call_gid_slow(struct ta_thread *th, uintptr_t ra);

/* The group a lib rule gives the allocation whose call returns to @ra, or
 * TA_NO_RULE. Inline: a call from the module the thread called from last. */
static TA_INLINE uint32_t ta_modules_call_gid(struct ta_thread *th, uintptr_t ra)
{
	const struct ta_mcache *c = &th->mcache[0];

	if (TA_LIKELY(th->mcache_gen == TA_LOAD(&ta_modules_gen) && ra - c->lo < c->len &&
	              !c->walk))
		return c->gid;
	return ta_modules_call_gid_slow(th, ra);
}
void ta_modules_atfork_prepare(void);
void ta_modules_atfork_parent(void);
void ta_modules_atfork_child(void);

/* ---- the wrapper's part ------------------------------------------------- */

/*
 * The group a lib rule gives the call returning to @ra, and this thread's
 * slot of it, when that is not the active group (true); false when no rule
 * applies: inside the library, inside a guard or a bound span, on a thread
 * that is not the program's, no rule matching, or the slot cannot be made.
 */
static TA_INLINE bool ta_rules_charge(struct ta_tls *t, const void *ra, uint32_t *gid,
                                      struct ta_slot **slot)
{
	struct ta_thread *th = t->th;
	uint32_t g;

	if (TA_UNLIKELY(!th)) { /* the thread's first allocation */
		ta_thread_setup(t);
		th = t->th;
		if (!th)
			return false;
	}
	if (t->nesting || th->bound)
		return false;
	/* LTTng-UST's and the library's threads get no rule; a thread's first
	 * call says whose it is (none while LTTng-UST starts its threads) */
	if (TA_UNLIKELY(t->kind != TA_THREAD_PROGRAM) &&
	    (t->kind != TA_THREAD_UNKNOWN || ta_trace_thread_classify(t)))
		return false;
	g = ta_modules_call_gid(th, (uintptr_t)ra);
	if (g == TA_NO_RULE || g == t->gid)
		return false;
	*gid = g;
	*slot = g == t->rule_gid ? t->rule_slot : ta_thread_slot(th, g);
	return *slot != NULL;
}

/* What ta_rules_call_begin changed, for ta_rules_call_end. */
struct ta_rules_call {
	uint32_t gid; /* the active group before; UINT32_MAX: none changed */
};

/*
 * Around one allocating call while lib rules are in force: make the group a
 * lib rule gives the call (by its return address @ra) active for its
 * duration. Nothing happens inside the library, inside a guard or a bound
 * span, or when no lib rule matches (the thread's base group stays).
 */
/* Make @gid (slot @slot) the thread's active group for one call. */
static TA_INLINE void ta_rules_swap(struct ta_rules_call *c, uint32_t gid, struct ta_slot *slot)
{
	struct ta_tls *t = &ta_tls;

	c->gid = t->gid;
	t->th->lib_call = 1;
	t->gid = gid;
	ta_tls_set_slot(t, slot);
	t->rule_gid = gid;
	t->rule_slot = slot;
}

static TA_INLINE void ta_rules_call_begin(struct ta_rules_call *c, const void *ra)
{
	struct ta_slot *slot;
	uint32_t gid;

	c->gid = UINT32_MAX;
	if (ta_rules_charge(&ta_tls, ra, &gid, &slot))
		ta_rules_swap(c, gid, slot);
}

static TA_INLINE void ta_rules_call_end(const struct ta_rules_call *c)
{
	struct ta_tls *t = &ta_tls;

	if (c->gid == UINT32_MAX)
		return;
	/* back to the base group, which a rename during the call may have
	 * changed: no bound frame is on the stack (begin checked) */
	t->th->lib_call = 0;
	t->gid = t->th->base_gid;
	ta_tls_set_slot(t, ta_thread_slot(t->th, t->gid));
}

#pragma GCC visibility pop

#endif /* TA_RULES_INTERNAL_H */
