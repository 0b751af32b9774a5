/* SPDX-License-Identifier: MIT */
/*
 * What every Check-based unit test includes: Check, the test support, and
 * the one function each test program defines for the shared main().
 *
 * A rule for writing these tests: Check's assertions allocate (they report
 * each passed check point to the runner), and in an unsanitized build those
 * allocations are charged to whatever group is active. So a test never
 * asserts while one of its own groups is active; it records, leaves the
 * group, then asserts.
 */
#ifndef TA_CHECK_H
#define TA_CHECK_H

#include <check.h>

#include "ta-test.h"

/* Generous: TSan slows thread creation and locking by an order of magnitude. */
#define TA_TCASE_TIMEOUT 30

/* Each test program's suite; main() lives in ta-test-main.c. */
Suite *unit_suite(void);

/* The change of every counter of a group between two reads. */
#define ck_assert_stats_delta(before, after, d_ab, d_ao, d_fb, d_fo)                          \
	do {                                                                                   \
		ck_assert_uint_eq((after).allocated_bytes - (before).allocated_bytes, (d_ab));  \
		ck_assert_uint_eq((after).allocated_objects - (before).allocated_objects,       \
		                  (d_ao));                                                     \
		ck_assert_uint_eq((after).freed_bytes - (before).freed_bytes, (d_fb));          \
		ck_assert_uint_eq((after).freed_objects - (before).freed_objects, (d_fo));      \
	} while (0)

/* Every field, wrapped_bytes_live included, unchanged. */
#define ck_assert_stats_same(before, after)                                                  \
	do {                                                                                   \
		ck_assert_stats_delta(before, after, 0, 0, 0, 0);                              \
		ck_assert_uint_eq((after).wrapped_bytes_live, (before).wrapped_bytes_live);   \
	} while (0)

/* One test case holding every test of a small suite. */
TCase *tcase_new(const char *name);

#endif /* TA_CHECK_H */
