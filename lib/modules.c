/* SPDX-License-Identifier: MIT */
/*
 * The calling module of an allocation, for lib rules. A table of the loaded
 * objects' code ranges (dl_iterate_phdr), rebuilt when dl_iterate_phdr's
 * adds/subs counters say the set changed; each module's lib-rule group is
 * worked out on its first call under the rule set in force. A thread keeps
 * its last TA_MCACHE answers (a range and its group, gaps between modules
 * included), so a call from a module the thread called from lately costs a
 * few compares; the table and its lock are only for a miss.
 *
 * A call whose return address is inside libc, ld.so, libstdc++ or this
 * library (strdup, fopen, dlopen, a std::string member compiled into
 * libstdc++) is charged by the first other module up the stack, found with
 * libunwind within TA_RULES_WALK frames.
 *
 * dlclose is interposed only to bump ta_modules_gen after the real one
 * returns, so that no thread keeps an answer for a range that may now hold
 * another object. dlopen is not: glibc's dlopen resolves names with its
 * caller's RUNPATH, which an interposer would hide.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "rules-internal.h"
#include "sampling-internal.h"

struct ta_mod {
	uintptr_t lo, hi;  /* the span of its executable segments */
	uintptr_t base;    /* dlpi_addr: with the name, who it is */
	char file[64];     /* the file name ("exe" for the main program), cut */
	bool walk;         /* libc, ld.so, libstdc++, this library */
	uint32_t gid;      /* its lib-rule group, or TA_NO_RULE ... */
	uint64_t gid_gen;  /* ... under rule set ta_rules_gen == gid_gen */
};

static struct ta_mod *ta_mods; /* sorted by lo */
static size_t ta_nmods;
static unsigned long long ta_mods_adds, ta_mods_subs;
static bool ta_mods_built;
static uint64_t ta_mods_checked; /* ta_modules_gen when last refreshed */
static pthread_mutex_t ta_mods_lock = PTHREAD_MUTEX_INITIALIZER;
uint64_t ta_modules_gen;

/* ---- the table ----------------------------------------------------------- */

bool ta_object_code(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
	int i;

	*lo = UINTPTR_MAX;
	*hi = 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (start < *lo)
			*lo = start;
		if (start + ph->p_memsz > *hi)
			*hi = start + ph->p_memsz;
	}
	return *hi > *lo;
}

struct ta_scan {
	struct ta_mod *mods;
	size_t n, cap;
	bool overflow;
	unsigned long long adds, subs;
};

static bool ta_file_walks(const char *file, uintptr_t lo, uintptr_t hi)
{
	uintptr_t self = (uintptr_t)ta_modules_call_gid_slow;

	if (self >= lo && self < hi)
		return true;
	return strcmp(file, "libc.so.6") == 0 || strncmp(file, "ld-linux", 8) == 0 ||
	       strncmp(file, "libstdc++.so", 12) == 0 || strncmp(file, "libtrackalloc.so", 16) == 0;
}

static int ta_scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct ta_scan *sc = arg;
	uintptr_t lo, hi;
	const char *name = info->dlpi_name, *slash;
	struct ta_mod *m;

	(void)size;
	sc->adds = info->dlpi_adds;
	sc->subs = info->dlpi_subs;
	if (!ta_object_code(info, &lo, &hi))
		return 0;
	if (sc->n == sc->cap) {
		sc->overflow = true;
		return 0; /* count on: the caller grows the array and scans again */
	}
	m = &sc->mods[sc->n++];
	memset(m, 0, sizeof(*m));
	m->lo = lo;
	m->hi = hi;
	m->base = info->dlpi_addr;
	if (!name || !name[0]) {
		strcpy(m->file, sc->n == 1 ? "exe" : "");
	} else {
		slash = strrchr(name, '/');
		strncpy(m->file, slash ? slash + 1 : name, sizeof(m->file) - 1);
	}
	m->walk = ta_file_walks(m->file, lo, hi);
	m->gid = TA_NO_RULE;
	m->gid_gen = UINT64_MAX;
	return 0;
}

static int ta_counters_only(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct ta_scan *sc = arg;

	(void)size;
	sc->adds = info->dlpi_adds;
	sc->subs = info->dlpi_subs;
	return 1;
}

static int ta_mod_cmp(const void *a, const void *b)
{
	const struct ta_mod *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Bring the table up to date with the loaded objects. Table lock held. */
static void ta_mods_refresh(void)
{
	struct ta_scan sc = { 0 };
	size_t i, j;

	dl_iterate_phdr(ta_counters_only, &sc);
	if (ta_mods_built && sc.adds == ta_mods_adds && sc.subs == ta_mods_subs)
		return;
	for (sc.cap = ta_nmods + 16;; sc.cap *= 2) {
		sc.mods = ta_inner.malloc(sc.cap * sizeof(*sc.mods));
		if (!sc.mods)
			return; /* keep the old table */
		sc.n = 0;
		sc.overflow = false;
		dl_iterate_phdr(ta_scan_one, &sc);
		if (!sc.overflow)
			break;
		ta_inner.free(sc.mods);
	}
	qsort(sc.mods, sc.n, sizeof(*sc.mods), ta_mod_cmp);
	/* what the old table knew of a module still loaded stays known */
	for (i = 0, j = 0; i < sc.n && j < ta_nmods;) {
		if (ta_mods[j].lo < sc.mods[i].lo) {
			j++;
		} else if (ta_mods[j].lo > sc.mods[i].lo) {
			i++;
		} else {
			if (ta_mods[j].base == sc.mods[i].base &&
			    strcmp(ta_mods[j].file, sc.mods[i].file) == 0) {
				sc.mods[i].gid = ta_mods[j].gid;
				sc.mods[i].gid_gen = ta_mods[j].gid_gen;
			}
			i++, j++;
		}
	}
	ta_inner.free(ta_mods);
	ta_mods = sc.mods;
	ta_nmods = sc.n;
	ta_mods_adds = sc.adds;
	ta_mods_subs = sc.subs;
	ta_mods_built = true;
}

/* The module holding @ra, or NULL with the gap around @ra. Table lock held. */
static struct ta_mod *ta_mods_find(uintptr_t ra, uintptr_t *gap_lo, uintptr_t *gap_hi)
{
	size_t lo = 0, hi = ta_nmods;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ra < ta_mods[mid].lo)
			hi = mid;
		else if (ra >= ta_mods[mid].hi)
			lo = mid + 1;
		else
			return &ta_mods[mid];
	}
	*gap_lo = lo ? ta_mods[lo - 1].hi : 0;
	*gap_hi = lo < ta_nmods ? ta_mods[lo].lo : UINTPTR_MAX;
	return NULL;
}

/* Look @ra up in the table and put the answer in front of @th's cache. */
static struct ta_mcache *ta_mcache_fill(struct ta_thread *th, uintptr_t ra)
{
	struct ta_mcache e = { 0, 0, TA_NO_RULE, 0 };
	uint64_t rules_gen;
	uintptr_t gap_lo = 0, gap_hi = 0;
	uint64_t gen = __atomic_load_n(&ta_modules_gen, __ATOMIC_ACQUIRE);
	struct ta_mod *m;

	ta_nest_enter(); /* what qsort or the rules allocate: root, no rule */
	pthread_mutex_lock(&ta_mods_lock);
	if (!ta_mods_built || gen != ta_mods_checked) {
		ta_mods_refresh();
		ta_mods_checked = gen;
	}
	m = ta_mods_find(ra, &gap_lo, &gap_hi);
	if (!m) {
		ta_mods_refresh(); /* loaded since? */
		m = ta_mods_find(ra, &gap_lo, &gap_hi);
	}
	if (m) {
		rules_gen = __atomic_load_n(&ta_rules_gen, __ATOMIC_ACQUIRE);
		/* a module calls are looked through gets its group only when a
		 * walk finds nothing above it (ta_modules_fallback) */
		if (m->gid_gen != rules_gen && !m->walk) {
			m->gid = ta_rules_lib_gid(m->file);
			m->gid_gen = rules_gen;
		}
		e.lo = m->lo;
		e.len = m->hi - m->lo;
		e.gid = m->gid;
		e.walk = m->walk;
	} else {
		/* code outside any object (a JIT's): no rule, and the gap is
		 * cached so that the next call from there is a hit */
		e.lo = gap_lo;
		e.len = gap_hi - gap_lo;
	}
	pthread_mutex_unlock(&ta_mods_lock);
	ta_nest_exit();
	memmove(&th->mcache[1], &th->mcache[0], (TA_MCACHE - 1) * sizeof(th->mcache[0]));
	th->mcache[0] = e;
	return &th->mcache[0];
}

/* The cache entry for @ra: a hit moves one place forward. */
static struct ta_mcache *ta_mcache_get(struct ta_thread *th, uintptr_t ra)
{
	struct ta_mcache *c = th->mcache;
	int i;

	for (i = 0; i < TA_MCACHE; i++) {
		if (ra - c[i].lo < c[i].len) {
			if (i > 0) {
				struct ta_mcache tmp = c[i - 1];

				c[i - 1] = c[i];
				c[i] = tmp;
				return &c[i - 1];
			}
			return &c[i];
		}
	}
	return ta_mcache_fill(th, ra);
}

/* The lib-rule group of the walk-through module holding @ra itself. */
static uint32_t ta_modules_fallback(struct ta_thread *th, uintptr_t ra)
{
	uint64_t rules_gen = __atomic_load_n(&ta_rules_gen, __ATOMIC_ACQUIRE);
	uintptr_t gap_lo, gap_hi;
	struct ta_mod *m;
	uint32_t gid = TA_NO_RULE;

	(void)th;
	ta_nest_enter();
	pthread_mutex_lock(&ta_mods_lock);
	m = ta_mods_find(ra, &gap_lo, &gap_hi);
	if (m) {
		if (m->gid_gen != rules_gen) {
			m->gid = ta_rules_lib_gid(m->file);
			m->gid_gen = rules_gen;
		}
		gid = m->gid;
	}
	pthread_mutex_unlock(&ta_mods_lock);
	ta_nest_exit();
	return gid;
}

/* The first frame up the stack outside the walk-through modules: its group,
 * or the group of the module holding @ra when none is found within
 * TA_RULES_WALK frames (or libunwind cannot be loaded). */
static uint32_t ta_modules_walk(struct ta_thread *th, uintptr_t ra)
{
	/* most calls need a few frames (strdup, then its caller): a short
	 * unwind first, the whole window only when that finds nothing */
	static const int window[][2] = { { 4, 8 }, { TA_RULES_WALK, 24 } };
	uint64_t ips[TA_RULES_WALK];
	int n, i, w;

	if (!ta_stacks_load())
		return ta_modules_fallback(th, ra);
	for (w = 0; w < 2; w++) {
		ta_nest_enter(); /* the unwinder may allocate */
		n = ta_stack_capture_within(ips, window[w][0], window[w][1]);
		ta_nest_exit();
		for (i = 0; i < n; i++) {
			/* a return address: the call is the byte before it */
			struct ta_mcache *e = ta_mcache_get(th, (uintptr_t)ips[i] - 1);

			if (!e->walk)
				return e->gid;
		}
	}
	return ta_modules_fallback(th, ra);
}

uint32_t ta_modules_call_gid_slow(struct ta_thread *th, uintptr_t ra)
{
	uint64_t gen = __atomic_load_n(&ta_modules_gen, __ATOMIC_ACQUIRE);
	struct ta_mcache *e;

	if (th->mcache_gen != gen) {
		memset(th->mcache, 0, sizeof(th->mcache));
		th->mcache_gen = gen;
	}
	e = ta_mcache_get(th, ra);
	if (!e->walk)
		return e->gid;
	return ta_modules_walk(th, ra);
}

/* ---- dlclose ---------------------------------------------------------- */

static int (*ta_real_dlclose)(void *);

TA_API int dlclose(void *handle)
{
	int r;

	if (!ta_real_dlclose)
		*(void **)&ta_real_dlclose = dlsym(RTLD_NEXT, "dlclose");
	if (!ta_real_dlclose)
		return -1;
	r = ta_real_dlclose(handle);
	__atomic_add_fetch(&ta_modules_gen, 1, __ATOMIC_RELEASE);
	return r;
}

/* ---- fork ----------------------------------------------------------------- */

void ta_modules_atfork_prepare(void)
{
	pthread_mutex_lock(&ta_mods_lock);
}

void ta_modules_atfork_parent(void)
{
	pthread_mutex_unlock(&ta_mods_lock);
}

void ta_modules_atfork_child(void)
{
	pthread_mutex_unlock(&ta_mods_lock);
}
