/* SPDX-License-Identifier: MIT */
/*
 * Peaks (trackalloc.h, "Peaks and limits") on one thread: ta_group_peak is
 * the exact high-water mark of a group's live requested bytes while one
 * thread allocates and frees in it, through every allocation function, big
 * (mmapped) blocks and frees made from another group included; reset starts
 * it again from the live bytes; and the API's bad input.
 *
 * As in every unit test, nothing is asserted while a test's group is
 * active (ta-check.h): figures are recorded into static arrays (no
 * allocation), the group left, then checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ta-check.h"

static uint64_t peak_of(const ta_group *g)
{
	uint64_t peak = UINT64_MAX;
	int ret = ta_group_peak(g, &peak);

	ck_assert_int_eq(ret, 0);
	return peak;
}

static uint64_t live_of(const ta_group *g)
{
	struct ta_stats s = stats_of(g);

	return s.allocated_bytes - s.freed_bytes;
}

/* A fixed pseudo-random sequence (no allocation, same on every run). */
static uint64_t lcg_state;

static uint32_t lcg(void)
{
	lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(lcg_state >> 33);
}

/* ---- single thread, exact ------------------------------------------------ */

#define STEPS 3000
#define SLOTS 3000

static void *blk[SLOTS];
static size_t blk_size[SLOTS];
static uint64_t want_peak[STEPS], got_peak[STEPS], got_live[STEPS];
static int step_errors;

/* One allocation of @n bytes through the function @kind selects; the block
 * goes to slot @i. Returns the bytes charged (pvalloc rounds up to pages). */
static size_t alloc_one(unsigned kind, size_t i, size_t n)
{
	void *p = NULL;
	size_t page = page_size(), charged = n;

	switch (kind % 7) {
	case 0: p = tw.malloc(n); break;
	case 1: p = tw.calloc(1, n); break;
	case 2: p = tw.realloc(NULL, n); break;
	case 3: p = tw.memalign(64, n); break;
	case 4:
		if (tw.posix_memalign(&p, 128, n) != 0)
			p = NULL;
		break;
	case 5: /* a multiple of the alignment, as C11 asks */
		charged = (n + 31) & ~(size_t)31;
		p = tw.aligned_alloc(32, charged);
		break;
	default:
		charged = (n + page - 1) / page * page;
		p = tw.pvalloc(n);
		break;
	}
	if (!p)
		step_errors++;
	blk[i] = p;
	blk_size[i] = charged;
	return charged;
}

START_TEST(single_thread_exact)
{
	ta_group *g = group_new("peak-exact");
	uint64_t live = 0, peak = 0, last_peak, final_peak;
	size_t nblk = 0, i, s;
	ta_guard guard;

	lcg_state = 12345;
	step_errors = 0;
	guard = ta_group_enter(g);
	for (s = 0; s < STEPS; s++) {
		/* three phases: mostly allocating, mostly freeing, even */
		unsigned alloc_pct = s < 1000 ? 70 : s < 2000 ? 35 : 50;
		uint32_t r = lcg();

		if (nblk == 0 || (nblk < SLOTS && r % 100 < alloc_pct)) {
			/* mostly small; one in 40 big enough to be mmapped */
			size_t n = r % 40 == 0 ? 140000 + lcg() % 200000 : 1 + lcg() % 9000;

			live += alloc_one(lcg(), nblk++, n);
		} else {
			i = lcg() % nblk;
			if (lcg() % 4 == 0) {
				/* realloc: a free of the old block, an allocation of the new */
				size_t n = 1 + lcg() % 20000;
				void *q = tw.realloc(blk[i], n);

				if (!q) {
					step_errors++;
				} else {
					live = live - blk_size[i] + n;
					blk[i] = q;
					blk_size[i] = n;
				}
			} else {
				tw.free(blk[i]);
				live -= blk_size[i];
				blk[i] = blk[--nblk];
				blk_size[i] = blk_size[nblk];
			}
		}
		if (live > peak)
			peak = live;
		want_peak[s] = peak;
		(void)ta_group_peak(g, &got_peak[s]);
		got_live[s] = live;
	}
	ta_guard_exit(&guard);
	last_peak = peak_of(g);
	/* freed from root: credited to g all the same, the peak unchanged */
	for (i = 0; i < nblk; i++)
		tw.free(blk[i]);
	final_peak = peak_of(g);

	ck_assert_int_eq(step_errors, 0);
	ck_assert_uint_gt(peak, 4 * TA_PEAK_PRECISION); /* the batch was shared, often */
	for (s = 0; s < STEPS; s++) {
		if (got_peak[s] != want_peak[s])
			ck_abort_msg("step %zu: ta_group_peak %llu, the true peak %llu (live %llu)", s,
			             (unsigned long long)got_peak[s], (unsigned long long)want_peak[s],
			             (unsigned long long)got_live[s]);
	}
	ck_assert_uint_eq(last_peak, peak);
	ck_assert_uint_eq(final_peak, peak);
	ck_assert_uint_eq(live_of(g), 0);
}
END_TEST

START_TEST(peak_of_fresh_group_is_zero)
{
	ta_group *g = group_new("peak-fresh");

	ck_assert_uint_eq(peak_of(g), 0);
	ck_assert_int_eq(ta_group_peak_reset(g), 0);
	ck_assert_uint_eq(peak_of(g), 0);
}
END_TEST

/* Small blocks, so that the thread's balance moves by small steps. */
static void fill(void **out, size_t count, size_t each)
{
	size_t i;

	for (i = 0; i < count; i++)
		out[i] = tw.malloc(each);
}

static void drain(void **blocks, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		tw.free(blocks[i]);
}

START_TEST(reset_starts_from_live)
{
	ta_group *g = group_new("peak-reset");
	static void *keep[256], *tmp[256];
	uint64_t p[8];
	int reset_ret[2];
	ta_guard guard;

	/* 1e6 kept, 5e5 more allocated and freed: the peak 1.5e6 */
	guard = ta_group_enter(g);
	fill(keep, 200, 5000);      /* 1 000 000 live */
	fill(tmp, 100, 5000);       /* 1 500 000 */
	drain(tmp, 100);            /* 1 000 000 */
	(void)ta_group_peak(g, &p[0]);
	reset_ret[0] = ta_group_peak_reset(g);
	(void)ta_group_peak(g, &p[1]);
	drain(keep + 140, 60);      /*   700 000: below the old peak */
	(void)ta_group_peak(g, &p[2]);
	fill(tmp, 20, 5000);        /*   800 000: below the reset's 1e6 */
	(void)ta_group_peak(g, &p[3]);
	drain(tmp, 20);             /*   700 000 */
	(void)ta_group_peak(g, &p[4]);
	fill(tmp, 10, 5000);        /*   750 000: below the high since the reset */
	(void)ta_group_peak(g, &p[5]);
	reset_ret[1] = ta_group_peak_reset(g); /* at 750 000, an unshared balance */
	(void)ta_group_peak(g, &p[6]);
	fill(tmp + 10, 60, 5000);   /* 1 050 000 */
	drain(tmp, 70);             /*   700 000 */
	(void)ta_group_peak(g, &p[7]);
	ta_guard_exit(&guard);
	drain(keep, 140);

	ck_assert_uint_eq(p[0], 1500000);
	ck_assert_int_eq(reset_ret[0], 0);
	ck_assert_uint_eq(p[1], 1000000);
	ck_assert_uint_eq(p[2], 1000000);
	ck_assert_uint_eq(p[3], 1000000);
	ck_assert_int_eq(reset_ret[1], 0);
	ck_assert_uint_eq(p[6], 750000);
	ck_assert_uint_eq(p[7], 1050000);
	/* p[3..5]: the first reset's figure, 1 000 000, held throughout */
	ck_assert_uint_eq(p[4], 1000000);
	ck_assert_uint_eq(p[5], 1000000);
	ck_assert_uint_eq(peak_of(g), 1050000);
	ck_assert_int_eq(ta_group_peak_reset(g), 0);
	ck_assert_uint_eq(peak_of(g), 0); /* nothing live */
}
END_TEST

START_TEST(reset_then_grow_exactly)
{
	/* After a reset below the old high, each new high counts exactly. */
	ta_group *g = group_new("peak-regrow");
	static void *b[400];
	uint64_t seen[4];
	ta_guard guard = ta_group_enter(g);

	fill(b, 300, 1000);        /* 300 000 */
	drain(b + 100, 200);       /* 100 000 */
	(void)ta_group_peak_reset(g);
	(void)ta_group_peak(g, &seen[0]);
	fill(b + 100, 50, 1000);   /* 150 000: below the thread's old high */
	drain(b + 100, 50);        /* 100 000 */
	(void)ta_group_peak(g, &seen[1]);
	fill(b + 100, 1, 777);     /* 100 777 */
	drain(b + 100, 1);
	(void)ta_group_peak(g, &seen[2]);
	(void)ta_group_peak_reset(g);
	(void)ta_group_peak(g, &seen[3]);
	ta_guard_exit(&guard);
	drain(b, 100);

	ck_assert_uint_eq(seen[0], 100000);
	ck_assert_uint_eq(seen[1], 150000);
	ck_assert_uint_eq(seen[2], 150000);
	ck_assert_uint_eq(seen[3], 100000);
}
END_TEST

START_TEST(peak_of_another_group_untouched)
{
	/* Allocations in one group never move another's peak. */
	ta_group *a = group_new("peak-a"), *b = group_new("peak-b");
	static void *blocks[100];
	ta_guard guard = ta_group_enter(a);

	fill(blocks, 100, 3000);
	ta_guard_exit(&guard);
	guard = ta_group_enter(b);
	tw.free(tw.malloc(12345));
	drain(blocks, 100); /* frees credited to a, made while b is active */
	ta_guard_exit(&guard);
	ck_assert_uint_eq(peak_of(a), 300000);
	ck_assert_uint_eq(peak_of(b), 12345);
	ck_assert_uint_eq(live_of(a), 0);
}
END_TEST

/* ---- bad input ------------------------------------------------------------ */

static void noop_cb(ta_group *g, uint64_t live, void *ctx)
{
	(void)g;
	(void)live;
	(void)ctx;
}

static void assert_limits(const ta_group *g, uint64_t soft, uint64_t hard)
{
	uint64_t s = 1234, h = 5678;

	ck_assert_int_eq(ta_group_limit_get(g, &s, &h), 0);
	ck_assert_uint_eq(s, soft);
	ck_assert_uint_eq(h, hard);
}

START_TEST(limit_set_bad_input)
{
	ta_group *g = group_new("limit-bad");
	uint64_t big = (uint64_t)INT64_MAX + 1;

	ck_assert_int_eq(ta_group_limit_set(g, 1000, 2000, noop_cb, NULL), 0);
	assert_limits(g, 1000, 2000);
	/* each refusal leaves the limits in force */
	ck_assert_int_eq(ta_group_limit_set(g, 2001, 2000, NULL, NULL), -EINVAL);
	ck_assert_int_eq(ta_group_limit_set(g, 2, 1, noop_cb, NULL), -EINVAL);
	ck_assert_int_eq(ta_group_limit_set(g, big, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(ta_group_limit_set(g, 0, big, NULL, NULL), -EINVAL);
	ck_assert_int_eq(ta_group_limit_set(g, UINT64_MAX, UINT64_MAX, NULL, NULL), -EINVAL);
	ck_assert_int_eq(ta_group_limit_set(g, 0, UINT64_MAX, NULL, NULL), -EINVAL);
	assert_limits(g, 1000, 2000);
	ck_assert_int_eq(ta_group_limit_set(NULL, 0, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(ta_group_limit_set(NULL, 1, 2, noop_cb, NULL), -EINVAL);
	/* root cannot be limited, not even with 0 0 */
	ck_assert_int_eq(ta_group_limit_set(ta_group_root(), 1, 2, NULL, NULL), -EINVAL);
	ck_assert_int_eq(ta_group_limit_set(ta_group_root(), 0, 1 << 20, NULL, NULL), -EINVAL);
	ck_assert_int_eq(ta_group_limit_set(ta_group_root(), 0, 0, NULL, NULL), -EINVAL);
	assert_limits(ta_group_root(), 0, 0);
	assert_limits(g, 1000, 2000);

	/* the edges that are valid */
	ck_assert_int_eq(ta_group_limit_set(g, INT64_MAX, INT64_MAX, NULL, NULL), 0);
	assert_limits(g, INT64_MAX, INT64_MAX);
	ck_assert_int_eq(ta_group_limit_set(g, 5000, 5000, NULL, NULL), 0); /* soft == hard */
	assert_limits(g, 5000, 5000);
	ck_assert_int_eq(ta_group_limit_set(g, 9000, 0, NULL, NULL), 0); /* soft, no hard */
	assert_limits(g, 9000, 0);
	ck_assert_int_eq(ta_group_limit_set(g, 0, 7, NULL, NULL), 0); /* hard, no soft */
	assert_limits(g, 0, 7);
	ck_assert_int_eq(ta_group_limit_set(g, 0, 0, NULL, NULL), 0);
	assert_limits(g, 0, 0);
}
END_TEST

START_TEST(limit_get_bad_input)
{
	ta_group *g = group_new("limit-get");
	uint64_t s = 77, h = 88;

	ck_assert_int_eq(ta_group_limit_get(NULL, &s, &h), -EINVAL);
	ck_assert_uint_eq(s, 77);
	ck_assert_uint_eq(h, 88);
	ck_assert_int_eq(ta_group_limit_get(NULL, NULL, NULL), -EINVAL);
	assert_limits(g, 0, 0); /* a new group has none */
	ck_assert_int_eq(ta_group_limit_set(g, 300, 400, NULL, NULL), 0);
	/* either pointer may be NULL */
	ck_assert_int_eq(ta_group_limit_get(g, NULL, NULL), 0);
	ck_assert_int_eq(ta_group_limit_get(g, &s, NULL), 0);
	ck_assert_uint_eq(s, 300);
	ck_assert_int_eq(ta_group_limit_get(g, NULL, &h), 0);
	ck_assert_uint_eq(h, 400);
	assert_limits(ta_group_root(), 0, 0);
}
END_TEST

START_TEST(peak_bad_input)
{
	ta_group *g = group_new("peak-bad");
	uint64_t v = 99;

	ck_assert_int_eq(ta_group_peak(NULL, &v), -EINVAL);
	ck_assert_uint_eq(v, 99);
	ck_assert_int_eq(ta_group_peak(g, NULL), -EINVAL);
	ck_assert_int_eq(ta_group_peak(NULL, NULL), -EINVAL);
	ck_assert_int_eq(ta_group_peak_reset(NULL), -EINVAL);
	/* root has a peak like any group */
	ck_assert_int_eq(ta_group_peak(ta_group_root(), &v), 0);
	ck_assert_int_eq(ta_group_peak_reset(ta_group_root()), 0);
}
END_TEST

START_TEST(diag_ext_limit_field)
{
	struct ta_diag_ext d;
	uint64_t words[4];

	memset(&d, 0xff, sizeof(d));
	ck_assert_int_eq(ta_diag_ext_read(&d, sizeof(d)), 0);
	ck_assert_uint_eq(d.limit_failures, 0); /* nothing refused in this process */
	/* a caller that knows only the first field gets only that */
	memset(words, 0xab, sizeof(words));
	ck_assert_int_eq(ta_diag_ext_read((struct ta_diag_ext *)words, 8), 0);
	ck_assert_uint_eq(words[1], 0xababababababababull);
	/* one that knows more gets zeros beyond */
	memset(words, 0xab, sizeof(words));
	ck_assert_int_eq(ta_diag_ext_read((struct ta_diag_ext *)words, sizeof(words)), 0);
	ck_assert_uint_eq(words[1], 0);
	ck_assert_uint_eq(words[2], 0);
	ck_assert_uint_eq(words[3], 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("limits-peak");
	TCase *tc = tcase_new("peak");

	tcase_add_test(tc, single_thread_exact);
	tcase_add_test(tc, peak_of_fresh_group_is_zero);
	tcase_add_test(tc, reset_starts_from_live);
	tcase_add_test(tc, reset_then_grow_exactly);
	tcase_add_test(tc, peak_of_another_group_untouched);
	suite_add_tcase(s, tc);
	tc = tcase_new("bad-input");
	tcase_add_test(tc, limit_set_bad_input);
	tcase_add_test(tc, limit_get_bad_input);
	tcase_add_test(tc, peak_bad_input);
	tcase_add_test(tc, diag_ext_limit_field);
	suite_add_tcase(s, tc);
	return s;
}
