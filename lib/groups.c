/* SPDX-License-Identifier: MIT */
/*
 * Allocation groups: registration by name and tags, dense ids, lookup.
 *
 * Groups are never freed. ta_groups[] is append-only: a group is fully built
 * before ta_ngroups is raised with release semantics, so readers need no lock.
 * Registration takes ta_groups_lock and finds existing names through an
 * open-addressing hash table allocated from the inner allocator.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "limits-internal.h"
#include "ta-internal.h"
#include "trace-internal.h"

struct ta_group ta_root = { .id = 0, .ntags = 0, .name = (char *)"root" };

/* Slot 0 stays NULL (root is ta_root, see ta_group_by_id): with an
 * initializer the whole 512 KiB table would sit in the file's .data. */
struct ta_group *ta_groups[TA_GROUPS_MAX];
uint32_t ta_ngroups = 1;

static pthread_mutex_t ta_groups_lock = PTHREAD_MUTEX_INITIALIZER;

/* name -> group, linear probing; capacity a power of two, at most half full */
static struct ta_group **ta_names;
static size_t ta_names_cap;

static uint64_t ta_name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

static struct ta_group **ta_names_slot(struct ta_group **table, size_t cap, const char *name)
{
	size_t i = ta_name_hash(name) & (cap - 1);

	while (table[i] && strcmp(table[i]->name, name) != 0)
		i = (i + 1) & (cap - 1);
	return &table[i];
}

static int ta_names_grow(void)
{
	size_t cap = ta_names_cap ? ta_names_cap * 2 : 64;
	struct ta_group **table = ta_inner.calloc(cap, sizeof(*table));
	size_t i;

	if (!table)
		return -ENOMEM;
	for (i = 0; i < ta_names_cap; i++)
		if (ta_names[i])
			*ta_names_slot(table, cap, ta_names[i]->name) = ta_names[i];
	ta_inner.free(ta_names);
	ta_names = table;
	ta_names_cap = cap;
	return 0;
}

static int ta_tags_valid(const struct ta_tag *tags, size_t ntags)
{
	size_t i, j;

	if (ntags > TA_TAGS_MAX || (ntags && !tags))
		return 0;
	for (i = 0; i < ntags; i++) {
		if (!tags[i].key || !tags[i].value || !tags[i].key[0] ||
		    strnlen(tags[i].key, TA_TAG_KEY_MAX + 1) > TA_TAG_KEY_MAX ||
		    strnlen(tags[i].value, TA_TAG_VALUE_MAX + 1) > TA_TAG_VALUE_MAX)
			return 0;
		for (j = 0; j < i; j++)
			if (strcmp(tags[i].key, tags[j].key) == 0)
				return 0;
	}
	return 1;
}

/* Same set of tags, in any order (keys are unique on both sides). */
static int ta_tags_equal(const struct ta_group *g, const struct ta_tag *tags, size_t ntags)
{
	size_t i, j;

	if (g->ntags != ntags)
		return 0;
	for (i = 0; i < ntags; i++) {
		for (j = 0; j < ntags; j++)
			if (strcmp(g->tags[j].key, tags[i].key) == 0)
				break;
		if (j == ntags || strcmp(g->tags[j].value, tags[i].value) != 0)
			return 0;
	}
	return 1;
}

static char *ta_strdup_inner(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = ta_inner.malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

static struct ta_group *ta_group_create(uint32_t id, const char *name, const struct ta_tag *tags,
                                        size_t ntags)
{
	struct ta_group *g = ta_inner.calloc(1, sizeof(*g));
	size_t i;

	if (!g)
		return NULL;
	g->id = id;
	g->name = ta_strdup_inner(name);
	g->tags = ntags ? ta_inner.calloc(ntags, sizeof(*g->tags)) : NULL;
	if (!g->name || (ntags && !g->tags))
		goto fail;
	for (i = 0; i < ntags; i++) {
		g->tags[i].key = ta_strdup_inner(tags[i].key);
		g->tags[i].value = ta_strdup_inner(tags[i].value);
		g->ntags = (uint32_t)(i + 1);
		if (!g->tags[i].key || !g->tags[i].value)
			goto fail;
	}
	return g;
fail:
	for (i = 0; i < g->ntags; i++) {
		ta_inner.free((void *)g->tags[i].key);
		ta_inner.free((void *)g->tags[i].value);
	}
	ta_inner.free(g->tags);
	ta_inner.free(g->name);
	ta_inner.free(g);
	return NULL;
}

static struct ta_group *ta_group_register_locked(const char *name, const struct ta_tag *tags,
                                                 size_t ntags, int *err)
{
	struct ta_group **slot, *g;
	uint32_t id;

	if (strcmp(name, "root") == 0) {
		if (ntags && *err != EEXIST) {
			*err = EEXIST;
			return NULL;
		}
		return &ta_root;
	}
	if ((ta_ngroups + 1) * 2 > ta_names_cap && ta_names_grow() < 0) {
		*err = ENOMEM;
		return NULL;
	}
	slot = ta_names_slot(ta_names, ta_names_cap, name);
	if (*slot) {
		if (ta_tags_equal(*slot, tags, ntags) || *err == EEXIST)
			return *slot;
		*err = EEXIST;
		return NULL;
	}
	id = ta_ngroups;
	if (id >= TA_GROUPS_MAX) {
		*err = ENOSPC;
		return NULL;
	}
	g = ta_group_create(id, name, tags, ntags);
	if (!g) {
		*err = ENOMEM;
		return NULL;
	}
	*slot = g;
	ta_groups[id] = g;
	__atomic_store_n(&ta_ngroups, id + 1, __ATOMIC_RELEASE);
	return g;
}

/* Register, or (@any_tags) take the group of that name whatever its tags. */
static struct ta_group *ta_group_register_as(const char *name, const struct ta_tag *tags,
                                            size_t ntags, bool any_tags)
{
	struct ta_group *g;
	size_t before;
	int err = any_tags ? EEXIST : 0;

	if (!name || !name[0] || strnlen(name, TA_GROUP_NAME_MAX + 1) > TA_GROUP_NAME_MAX ||
	    !ta_tags_valid(tags, ntags)) {
		errno = EINVAL;
		return NULL;
	}
	ta_nest_enter();
	pthread_mutex_lock(&ta_groups_lock);
	before = ta_ngroups;
	g = ta_group_register_locked(name, tags, ntags, &err);
	pthread_mutex_unlock(&ta_groups_lock);
	if (g && g->id >= before) {
		ta_limits_registered(g);
		ta_trace_group_metadata(g);
	}
	ta_nest_exit();
	if (!g)
		errno = err;
	return g;
}

TA_API ta_group *ta_group_register(const char *name, const struct ta_tag *tags, size_t ntags)
{
	return ta_group_register_as(name, tags, ntags, false);
}

struct ta_group *ta_group_register_any(const char *name, const struct ta_tag *tags, size_t ntags)
{
	return ta_group_register_as(name, tags, ntags, true);
}

TA_API ta_group *ta_group_root(void)
{
	return &ta_root;
}

TA_API ta_group *ta_group_find(uint32_t id)
{
	struct ta_group *g = ta_group_by_id(id);

	if (!g)
		errno = ENOENT;
	return g;
}

TA_API uint32_t ta_group_id(const ta_group *g)
{
	return g ? g->id : 0;
}

TA_API const char *ta_group_name(const ta_group *g)
{
	return g ? g->name : NULL;
}

TA_API size_t ta_group_tags(const ta_group *g, const struct ta_tag **tags)
{
	if (!g) {
		if (tags)
			*tags = NULL;
		return 0;
	}
	if (tags)
		*tags = g->tags;
	return g->ntags;
}

TA_API int ta_group_foreach(int (*fn)(ta_group *g, void *arg), void *arg)
{
	uint32_t id;

	if (!fn)
		return -EINVAL;
	for (id = 0; id < __atomic_load_n(&ta_ngroups, __ATOMIC_ACQUIRE); id++) {
		int ret = fn(ta_group_by_id(id), arg);

		if (ret)
			return ret;
	}
	return 0;
}

void ta_groups_atfork_prepare(void)
{
	pthread_mutex_lock(&ta_groups_lock);
}

void ta_groups_atfork_parent(void)
{
	pthread_mutex_unlock(&ta_groups_lock);
}

void ta_groups_atfork_child(void)
{
	pthread_mutex_unlock(&ta_groups_lock);
}
