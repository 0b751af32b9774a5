/* SPDX-License-Identifier: MIT */
/* Groups: registration rules, limits, ids, lookup, copies, foreach. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ta-check.h"

/* A string of @n copies of 'x' in @buf (which holds n + 1 bytes). */
static const char *xs(char *buf, size_t n)
{
	memset(buf, 'x', n);
	buf[n] = '\0';
	return buf;
}

/* Register and expect failure with @err. */
#define ck_assert_register_fails(err, name, tags, ntags)                                    \
	do {                                                                                 \
		errno = 0;                                                                   \
		ck_assert_ptr_null(ta_group_register((name), (tags), (ntags)));             \
		ck_assert_int_eq(errno, (err));                                              \
	} while (0)

/* The id the next registered group will get: probes with a fresh name. */
static uint32_t next_id(void)
{
	return ta_group_id(group_new("probe")) + 1;
}

START_TEST(root_group)
{
	ta_group *root = ta_group_root();

	ck_assert_ptr_nonnull(root);
	ck_assert_uint_eq(ta_group_id(root), 0);
	ck_assert_str_eq(ta_group_name(root), "root");
	ck_assert_uint_eq(ta_group_tags(root, NULL), 0);
	ck_assert_ptr_eq(ta_group_find(0), root);
	ck_assert_ptr_eq(ta_group_current(), root);
	/* "root" with no tags is root itself, not a second group */
	ck_assert_ptr_eq(ta_group_register("root", NULL, 0), root);
}
END_TEST

START_TEST(register_idempotent_any_order)
{
	const struct ta_tag ab[] = { { "a", "1" }, { "b", "2" }, { "c", "" } };
	const struct ta_tag ba[] = { { "c", "" }, { "b", "2" }, { "a", "1" } };
	ta_group *g = ta_group_register("idem", ab, 3);
	const struct ta_tag *tags;

	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_eq(ta_group_register("idem", ab, 3), g);
	ck_assert_ptr_eq(ta_group_register("idem", ba, 3), g);
	/* tags come back in the order of the first registration */
	ck_assert_uint_eq(ta_group_tags(g, &tags), 3);
	ck_assert_str_eq(tags[0].key, "a");
	ck_assert_str_eq(tags[0].value, "1");
	ck_assert_str_eq(tags[1].key, "b");
	ck_assert_str_eq(tags[2].key, "c");
	ck_assert_str_eq(tags[2].value, "");
	ck_assert_str_eq(ta_group_name(g), "idem");

	/* no tags: the NULL and the empty array are the same set */
	ck_assert_ptr_nonnull(g = ta_group_register("idem-notags", NULL, 0));
	ck_assert_ptr_eq(ta_group_register("idem-notags", ab, 0), g);
}
END_TEST

START_TEST(register_eexist)
{
	const struct ta_tag ab[] = { { "a", "1" }, { "b", "2" } };
	const struct ta_tag a_only[] = { { "a", "1" } };
	const struct ta_tag ab_other[] = { { "a", "1" }, { "b", "3" } };
	const struct ta_tag ac[] = { { "a", "1" }, { "c", "2" } };
	const struct ta_tag abc[] = { { "a", "1" }, { "b", "2" }, { "c", "3" } };
	uint32_t id;

	ck_assert_ptr_nonnull(ta_group_register("exists", ab, 2));
	id = next_id();
	ck_assert_register_fails(EEXIST, "exists", NULL, 0);
	ck_assert_register_fails(EEXIST, "exists", a_only, 1);
	ck_assert_register_fails(EEXIST, "exists", ab_other, 2);
	ck_assert_register_fails(EEXIST, "exists", ac, 2);
	ck_assert_register_fails(EEXIST, "exists", abc, 3);
	/* root has no tags */
	ck_assert_register_fails(EEXIST, "root", a_only, 1);
	/* and the reverse: untagged first, tagged later */
	ck_assert_ptr_nonnull(ta_group_register("exists-plain", NULL, 0));
	ck_assert_register_fails(EEXIST, "exists-plain", a_only, 1);
	/* failures used no id: one group was created since the probe */
	ck_assert_uint_eq(next_id(), id + 2);
}
END_TEST

START_TEST(register_einval)
{
	char name[TA_GROUP_NAME_MAX + 2], key[TA_TAG_KEY_MAX + 2], val[TA_TAG_VALUE_MAX + 2];
	struct ta_tag many[TA_TAGS_MAX + 1];
	char keys[TA_TAGS_MAX + 1][8];
	struct ta_tag t[2];
	uint32_t id = next_id();
	size_t i;

	ck_assert_register_fails(EINVAL, NULL, NULL, 0);
	ck_assert_register_fails(EINVAL, "", NULL, 0);
	ck_assert_register_fails(EINVAL, xs(name, TA_GROUP_NAME_MAX + 1), NULL, 0);

	for (i = 0; i <= TA_TAGS_MAX; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		many[i].key = keys[i];
		many[i].value = "v";
	}
	ck_assert_register_fails(EINVAL, "too-many-tags", many, TA_TAGS_MAX + 1);

	t[0].value = "v";
	t[0].key = NULL;
	ck_assert_register_fails(EINVAL, "bad-key", t, 1);
	t[0].key = "";
	ck_assert_register_fails(EINVAL, "bad-key", t, 1);
	t[0].key = xs(key, TA_TAG_KEY_MAX + 1);
	ck_assert_register_fails(EINVAL, "bad-key", t, 1);

	t[0].key = "k";
	t[0].value = xs(val, TA_TAG_VALUE_MAX + 1);
	ck_assert_register_fails(EINVAL, "bad-value", t, 1);
	t[0].value = NULL;
	ck_assert_register_fails(EINVAL, "bad-value", t, 1);

	t[0].key = "dup";
	t[0].value = "1";
	t[1].key = "dup";
	t[1].value = "2";
	ck_assert_register_fails(EINVAL, "dup-keys", t, 2);
	t[1].value = "1"; /* even with equal values */
	ck_assert_register_fails(EINVAL, "dup-keys", t, 2);

	ck_assert_register_fails(EINVAL, "null-tags", NULL, 1);

	/* a bad registration of an existing name is still EINVAL, not EEXIST */
	ck_assert_ptr_nonnull(ta_group_register("einval-existing", NULL, 0));
	ck_assert_register_fails(EINVAL, "einval-existing", NULL, 1);

	/* none of the failures used an id */
	ck_assert_uint_eq(next_id(), id + 2);
}
END_TEST

START_TEST(register_at_limits)
{
	char name[TA_GROUP_NAME_MAX + 1], key[TA_TAG_KEY_MAX + 1], val[TA_TAG_VALUE_MAX + 1];
	struct ta_tag many[TA_TAGS_MAX];
	char keys[TA_TAGS_MAX][8];
	struct ta_tag t;
	const struct ta_tag *got;
	ta_group *g;
	size_t i;

	g = ta_group_register(xs(name, TA_GROUP_NAME_MAX), NULL, 0);
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(strlen(ta_group_name(g)), TA_GROUP_NAME_MAX);

	for (i = 0; i < TA_TAGS_MAX; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		many[i].key = keys[i];
		many[i].value = "v";
	}
	ck_assert_ptr_nonnull(g = ta_group_register("max-tags", many, TA_TAGS_MAX));
	ck_assert_uint_eq(ta_group_tags(g, &got), TA_TAGS_MAX);
	for (i = 0; i < TA_TAGS_MAX; i++)
		ck_assert_str_eq(got[i].key, keys[i]);

	t.key = xs(key, TA_TAG_KEY_MAX);
	t.value = xs(val, TA_TAG_VALUE_MAX);
	ck_assert_ptr_nonnull(g = ta_group_register("max-lengths", &t, 1));
	ck_assert_uint_eq(ta_group_tags(g, &got), 1);
	ck_assert_uint_eq(strlen(got[0].key), TA_TAG_KEY_MAX);
	ck_assert_uint_eq(strlen(got[0].value), TA_TAG_VALUE_MAX);
}
END_TEST

START_TEST(dense_ids_and_find)
{
	ta_group *g[5];
	uint32_t first = next_id(), i;

	for (i = 0; i < 5; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dense-%u", i);
		g[i] = ta_group_register(name, NULL, 0);
		ck_assert_ptr_nonnull(g[i]);
		ck_assert_uint_eq(ta_group_id(g[i]), first + i);
	}
	for (i = 0; i < 5; i++)
		ck_assert_ptr_eq(ta_group_find(first + i), g[i]);
	/* re-registering does not move ids */
	ck_assert_ptr_eq(ta_group_register("dense-2", NULL, 0), g[2]);

	errno = 0;
	ck_assert_ptr_null(ta_group_find(first + 5));
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_ptr_null(ta_group_find(TA_GROUPS_MAX));
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_ptr_null(ta_group_find(UINT32_MAX));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(name_and_tags_copied)
{
	char name[] = "copied";
	char k0[] = "key0", v0[] = "value0", k1[] = "key1", v1[] = "value1";
	struct ta_tag tags[] = { { k0, v0 }, { k1, v1 } };
	const struct ta_tag *got;
	ta_group *g = ta_group_register(name, tags, 2);

	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_ne(ta_group_name(g), name);
	/* the caller reuses every buffer */
	memset(name, '#', sizeof(name) - 1);
	memset(k0, '#', sizeof(k0) - 1);
	memset(v0, '#', sizeof(v0) - 1);
	memset(k1, '#', sizeof(k1) - 1);
	memset(v1, '#', sizeof(v1) - 1);
	tags[0].key = "swapped";

	ck_assert_str_eq(ta_group_name(g), "copied");
	ck_assert_uint_eq(ta_group_tags(g, &got), 2);
	ck_assert_ptr_ne(got, tags);
	ck_assert_str_eq(got[0].key, "key0");
	ck_assert_str_eq(got[0].value, "value0");
	ck_assert_str_eq(got[1].key, "key1");
	ck_assert_str_eq(got[1].value, "value1");
	/* and it is still found by its original name and tags */
	{
		const struct ta_tag again[] = { { "key1", "value1" }, { "key0", "value0" } };

		ck_assert_ptr_eq(ta_group_register("copied", again, 2), g);
	}
}
END_TEST

START_TEST(registration_not_charged_to_group)
{
	/* Registering while a group is active copies name and tags: those
	 * copies must not appear in the active group's counters. */
	ta_group *g = group_new("reg-active");
	const struct ta_tag tags[] = { { "k", "a fairly long tag value to copy" } };
	struct ta_stats before = stats_of(g), after;
	ta_guard guard = ta_group_enter(g);
	ta_group *made = ta_group_register("made-inside", tags, 1);
	int ret = ta_guard_exit(&guard);

	after = stats_of(g);
	ck_assert_ptr_nonnull(made);
	ck_assert_int_eq(ret, 0);
	ck_assert_stats_same(before, after);
}
END_TEST

struct walk {
	uint32_t count, last_id, stop_at;
	int ordered;
};

static int walk_fn(ta_group *g, void *arg)
{
	struct walk *w = arg;
	uint32_t id = ta_group_id(g);

	if (w->count == 0)
		w->ordered = id == 0 && g == ta_group_root();
	else
		w->ordered &= id == w->last_id + 1;
	w->count++;
	w->last_id = id;
	return w->count == w->stop_at ? 42 : 0;
}

START_TEST(foreach_walks_in_order)
{
	struct walk w = { 0, 0, 0, 0 };
	uint32_t last;

	group_new("walk-a");
	last = ta_group_id(group_new("walk-b"));
	ck_assert_int_eq(ta_group_foreach(walk_fn, &w), 0);
	ck_assert_int_eq(w.ordered, 1);
	ck_assert_uint_eq(w.count, last + 1);
	ck_assert_uint_eq(w.last_id, last);

	/* a non-zero return stops the walk and comes back */
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	ck_assert_int_eq(ta_group_foreach(walk_fn, &w), 42);
	ck_assert_uint_eq(w.count, 2);

	ck_assert_int_eq(ta_group_foreach(NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(stats_and_diag_einval)
{
	struct ta_stats s;

	ck_assert_int_eq(ta_group_stats(NULL, &s), -EINVAL);
	ck_assert_int_eq(ta_group_stats(ta_group_root(), NULL), -EINVAL);
	ck_assert_int_eq(ta_diag_read(NULL), -EINVAL);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("groups");
	TCase *tc = tcase_new("groups");

	tcase_add_test(tc, root_group);
	tcase_add_test(tc, register_idempotent_any_order);
	tcase_add_test(tc, register_eexist);
	tcase_add_test(tc, register_einval);
	tcase_add_test(tc, register_at_limits);
	tcase_add_test(tc, dense_ids_and_find);
	tcase_add_test(tc, name_and_tags_copied);
	tcase_add_test(tc, registration_not_charged_to_group);
	tcase_add_test(tc, foreach_walks_in_order);
	tcase_add_test(tc, stats_and_diag_einval);
	suite_add_tcase(s, tc);
	return s;
}
