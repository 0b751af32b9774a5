/* SPDX-License-Identifier: MIT */
/*
 * The live model of `trackalloc top`: the newest counters of every group of
 * every process, their names and tags, and the rates between refreshes.
 * Counters are cumulative (group_stats), so only the newest sample of a
 * group matters; a sample older than the one held (events of two CPUs a
 * little out of order) is ignored.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top-model.h"

void tm_init(struct tm_model *m)
{
	memset(m, 0, sizeof(*m));
}

static void group_fini(struct tm_group *g)
{
	free(g->name);
	for (uint32_t i = 0; i < g->ntags; i++) {
		free(g->tags[i].key);
		free(g->tags[i].value);
	}
	free(g->tags);
	free(g->tags_text);
}

void tm_fini(struct tm_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		struct tm_proc *p = m->procs[i];

		for (uint32_t g = 0; g < p->ngroups; g++)
			group_fini(&p->groups[g]);
		free(p->groups);
		free(p->procname);
		free(p);
	}
	free(m->procs);
	memset(m, 0, sizeof(*m));
}

struct tm_proc *tm_find_proc(const struct tm_model *m, int64_t pid)
{
	/* few processes: a scan, newest first */
	for (size_t i = m->nprocs; i-- > 0;)
		if (m->procs[i]->pid == pid)
			return m->procs[i];
	return NULL;
}

struct tm_proc *tm_proc(struct tm_model *m, int64_t pid)
{
	struct tm_proc *p = tm_find_proc(m, pid);

	if (p)
		return p;
	if (m->nprocs == m->procs_cap) {
		size_t cap = m->procs_cap ? m->procs_cap * 2 : 8;
		struct tm_proc **n = realloc(m->procs, cap * sizeof(*n));

		if (!n)
			goto oom;
		m->procs = n;
		m->procs_cap = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto oom;
	p->pid = pid;
	m->procs[m->nprocs++] = p;
	return p;
oom:
	m->oom = true;
	return NULL;
}

void tm_proc_set_procname(struct tm_model *m, struct tm_proc *p, const char *name)
{
	char *n;

	if (!name || (p->procname && !strcmp(p->procname, name)))
		return;
	n = strdup(name);
	if (!n) {
		m->oom = true;
		return;
	}
	free(p->procname);
	p->procname = n;
}

void tm_proc_set_state(struct tm_proc *p, enum tm_state st)
{
	p->state = st;
}

/* Group @gid of @p, the array grown to hold it (NULL: out of memory, or an
 * id no process could have). */
static struct tm_group *group_at(struct tm_model *m, struct tm_proc *p, uint32_t gid)
{
	if (gid >= p->ngroups) {
		uint32_t n = p->ngroups ? p->ngroups : 16;
		struct tm_group *g;

		if (gid >= (1u << 24))
			return NULL; /* ids are dense: not a real group */
		while (n <= gid)
			n *= 2;
		g = realloc(p->groups, n * sizeof(*g));
		if (!g) {
			m->oom = true;
			return NULL;
		}
		memset(g + p->ngroups, 0, (n - p->ngroups) * sizeof(*g));
		p->groups = g;
		p->ngroups = n;
	}
	p->groups[gid].present = true;
	return &p->groups[gid];
}

void tm_on_register(struct tm_model *m, struct tm_proc *p, uint32_t gid, const char *name)
{
	struct tm_group *g = group_at(m, p, gid);
	char *n;

	if (!g || !name || (g->name && !strcmp(g->name, name)))
		return;
	n = strdup(name);
	if (!n) {
		m->oom = true;
		return;
	}
	free(g->name);
	g->name = n;
}

static bool rebuild_tags_text(struct tm_group *g)
{
	size_t len = 1;
	char *t, *s;

	for (uint32_t i = 0; i < g->ntags; i++)
		len += strlen(g->tags[i].key) + strlen(g->tags[i].value) + 2;
	t = malloc(len);
	if (!t)
		return false;
	s = t;
	for (uint32_t i = 0; i < g->ntags; i++)
		s += sprintf(s, "%s%s=%s", i ? "," : "", g->tags[i].key, g->tags[i].value);
	*s = '\0';
	free(g->tags_text);
	g->tags_text = t;
	return true;
}

void tm_on_tag(struct tm_model *m, struct tm_proc *p, uint32_t gid, const char *key,
               const char *value)
{
	struct tm_group *g = group_at(m, p, gid);
	struct tm_tag *t;

	if (!g || !key || !value)
		return;
	/* late-session re-emissions repeat every tag: keep one per key */
	for (uint32_t i = 0; i < g->ntags; i++)
		if (!strcmp(g->tags[i].key, key))
			return;
	t = realloc(g->tags, (g->ntags + 1) * sizeof(*t));
	if (!t)
		goto oom;
	g->tags = t;
	t[g->ntags].key = strdup(key);
	t[g->ntags].value = strdup(value);
	if (!t[g->ntags].key || !t[g->ntags].value) {
		free(t[g->ntags].key);
		free(t[g->ntags].value);
		goto oom;
	}
	g->ntags++;
	if (!rebuild_tags_text(g))
		goto oom;
	return;
oom:
	m->oom = true;
}

void tm_on_stats(struct tm_model *m, struct tm_proc *p, uint32_t gid, const struct tm_sample *s)
{
	struct tm_group *g = group_at(m, p, gid);

	if (!g)
		return;
	if (s->ts > m->last_ts)
		m->last_ts = s->ts;
	if (g->sampled && s->ts < g->cur.ts)
		return;
	if (!g->sampled) {
		/* the first refresh's rates: since the first sample */
		g->snap = *s;
		g->snap_valid = true;
	}
	g->cur = *s;
	g->sampled = true;
}

void tm_tick(struct tm_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		struct tm_proc *p = m->procs[i];

		for (uint32_t k = 0; k < p->ngroups; k++) {
			struct tm_group *g = &p->groups[k];

			if (!g->sampled)
				continue;
			if (p->state == TM_EXITED) {
				g->change_per_s = g->allocs_per_s = 0;
			} else if (g->snap_valid && g->cur.ts > g->snap.ts) {
				double dt = (double)(g->cur.ts - g->snap.ts) / 1e9;
				double live = (double)tm_live(g), before;

				before = g->snap.alloc_bytes > g->snap.freed_bytes ?
				                 (double)(g->snap.alloc_bytes - g->snap.freed_bytes) : 0;
				g->change_per_s = (live - before) / dt;
				g->allocs_per_s =
					(double)(g->cur.alloc_objects - g->snap.alloc_objects) / dt;
			}
			if (!g->snap_valid || g->cur.ts > g->snap.ts) {
				g->snap = g->cur;
				g->snap_valid = true;
			}
		}
	}
}

/* ---- rows ------------------------------------------------------------------ */

static enum tm_sort sort_key; /* qsort has no context argument */

static int cmp_num(double a, double b)
{
	return (a < b) - (a > b); /* larger first */
}

static const char *group_label(const struct tm_row *r)
{
	return r->g->name ? r->g->name : "";
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct tm_row *a = pa, *b = pb;
	int c = 0;

	switch (sort_key) {
	case TM_SORT_LIVE:
		c = cmp_num((double)tm_live(a->g), (double)tm_live(b->g));
		break;
	case TM_SORT_CHANGE:
		c = cmp_num(a->g->change_per_s, b->g->change_per_s);
		break;
	case TM_SORT_PEAK:
		c = cmp_num((double)tm_peak(a->g), (double)tm_peak(b->g));
		break;
	case TM_SORT_ALLOCS:
		c = cmp_num(a->g->allocs_per_s, b->g->allocs_per_s);
		break;
	case TM_SORT_NAME:
		c = strcmp(a->p->procname ? a->p->procname : "", b->p->procname ? b->p->procname : "");
		if (!c)
			c = (a->p->pid > b->p->pid) - (a->p->pid < b->p->pid);
		if (!c)
			c = strcmp(group_label(a), group_label(b));
		break;
	case TM_SORT_COUNT:
		break;
	}
	if (!c)
		c = (a->p->pid > b->p->pid) - (a->p->pid < b->p->pid);
	if (!c)
		c = (a->gid > b->gid) - (a->gid < b->gid);
	return c;
}

size_t tm_rows(const struct tm_model *m, enum tm_sort sort, struct tm_row **rows)
{
	size_t n = 0, k = 0;
	struct tm_row *r;

	for (size_t i = 0; i < m->nprocs; i++)
		for (uint32_t g = 0; g < m->procs[i]->ngroups; g++)
			n += m->procs[i]->groups[g].sampled;
	r = malloc((n ? n : 1) * sizeof(*r));
	if (!r)
		return (size_t)-1;
	for (size_t i = 0; i < m->nprocs; i++)
		for (uint32_t g = 0; g < m->procs[i]->ngroups; g++)
			if (m->procs[i]->groups[g].sampled)
				r[k++] = (struct tm_row){ m->procs[i], &m->procs[i]->groups[g], g };
	sort_key = sort;
	qsort(r, n, sizeof(*r), cmp_rows);
	*rows = r;
	return n;
}

const char *tm_sort_label(enum tm_sort sort)
{
	static const char *const labels[TM_SORT_COUNT] = {
		[TM_SORT_LIVE] = "live bytes",   [TM_SORT_CHANGE] = "change/s",
		[TM_SORT_PEAK] = "peak",         [TM_SORT_ALLOCS] = "allocs/s",
		[TM_SORT_NAME] = "process, group",
	};

	return sort < TM_SORT_COUNT ? labels[sort] : "?";
}

void tm_count(const struct tm_model *m, size_t *running, size_t *exited, size_t *groups)
{
	*running = *exited = *groups = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct tm_proc *p = m->procs[i];
		size_t n = 0;

		for (uint32_t g = 0; g < p->ngroups; g++)
			n += p->groups[g].sampled;
		if (!n)
			continue; /* nothing to show of it yet */
		*groups += n;
		if (p->state == TM_EXITED)
			(*exited)++;
		else
			(*running)++;
	}
}
