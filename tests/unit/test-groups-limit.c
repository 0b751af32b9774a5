/* SPDX-License-Identifier: MIT */
/*
 * The group capacity: TA_GROUPS_MAX groups, root included, then ENOSPC.
 * A program of its own, because a full group table would break every test
 * that runs after it in the same process (with CK_FORK=no).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>

#include "ta-check.h"

START_TEST(enospc_at_capacity)
{
	char name[32];
	ta_group *g, *first = NULL, *last = NULL;
	uint32_t n = 0;
	int err;

	/* Fill whatever room is left; ids are dense so the count is known. */
	for (;;) {
		snprintf(name, sizeof(name), "fill-%u", n);
		errno = 0;
		g = ta_group_register(name, NULL, 0);
		if (!g)
			break;
		if (!first)
			first = g;
		last = g;
		n++;
		if (n > TA_GROUPS_MAX)
			break; /* the limit is not enforced: fail below, do not spin */
	}
	err = errno;
	ck_assert_ptr_null(g);
	ck_assert_int_eq(err, ENOSPC);
	ck_assert_ptr_nonnull(last);
	ck_assert_uint_eq(ta_group_id(last), TA_GROUPS_MAX - 1);
	ck_assert_ptr_eq(ta_group_find(TA_GROUPS_MAX - 1), last);
	errno = 0;
	ck_assert_ptr_null(ta_group_find(TA_GROUPS_MAX));
	ck_assert_int_eq(errno, ENOENT);

	/* Full, but finding existing groups by name still works... */
	ck_assert_ptr_eq(ta_group_register("fill-0", NULL, 0), first);
	snprintf(name, sizeof(name), "fill-%u", n - 1);
	ck_assert_ptr_eq(ta_group_register(name, NULL, 0), last);
	ck_assert_ptr_eq(ta_group_register("root", NULL, 0), ta_group_root());
	/* ...and the other errors keep their precedence over ENOSPC */
	{
		const struct ta_tag t = { "k", "v" };

		errno = 0;
		ck_assert_ptr_null(ta_group_register("fill-0", &t, 1));
		ck_assert_int_eq(errno, EEXIST);
		errno = 0;
		ck_assert_ptr_null(ta_group_register("", NULL, 0));
		ck_assert_int_eq(errno, EINVAL);
	}
	/* a second new name fails the same way */
	errno = 0;
	ck_assert_ptr_null(ta_group_register("one-too-many", NULL, 0));
	ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

START_TEST(last_group_counts)
{
	/* The highest id has counter slots like any other group. */
	char name[32];
	ta_group *g;
	struct ta_stats before, after;
	ta_guard guard;
	void *p;
	uint32_t n;

	for (n = 0; n < TA_GROUPS_MAX; n++) {
		snprintf(name, sizeof(name), "top-%u", n);
		if (!ta_group_register(name, NULL, 0))
			break;
	}
	g = ta_group_find(TA_GROUPS_MAX - 1);
	ck_assert_ptr_nonnull(g);
	before = stats_of(g);
	guard = ta_group_enter(g);
	p = tw.malloc(100);
	ta_guard_exit(&guard);
	tw.free(p);
	after = stats_of(g);
	ck_assert_ptr_nonnull(p);
	ck_assert_stats_delta(before, after, 100, 1, 100, 1);
	ck_assert_uint_eq(after.wrapped_bytes_live, before.wrapped_bytes_live);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("groups-limit");
	TCase *tc = tcase_new("limit");

	/* Each test fills the table in its own forked process. */
	tcase_add_test(tc, enospc_at_capacity);
	tcase_add_test(tc, last_group_counts);
	suite_add_tcase(s, tc);
	return s;
}
