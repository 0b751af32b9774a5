/* SPDX-License-Identifier: MIT */
/*
 * Sampled allocation stacks, read back through ta_profile_dump: off by
 * default; with a mean of 1 every allocation is a sample and the profile's
 * per-group figures are exact; with a large mean the weights estimate
 * bytes without bias (seeded: deterministic); frees and reallocs of sampled
 * blocks leave the sampled heap and keep every diagnostic at zero; sampling
 * threads that exit and a fork while sampling stay consistent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ta-check.h"

struct figures {
	uint64_t live_objects, live_bytes, live_estimate;
	uint64_t allocated_objects, allocated_bytes, allocated_estimate;
	unsigned sites;
	int complete; /* the "end N" line matched the sites */
};

static uint64_t field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* Dump the profile and sum the sites of group @gid. */
static struct figures profile_of(uint32_t gid)
{
	char path[] = "/tmp/ta-sampling.XXXXXX", line[8192];
	struct figures f = { 0 };
	unsigned all = 0, end = 0;
	FILE *in;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(ta_profile_dump(path), 0);
	in = fopen(path, "r");
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), in));
	ck_assert_str_eq(line, "trackalloc-profile 1\n");
	while (fgets(line, sizeof(line), in)) {
		unsigned g, stack;

		if (sscanf(line, "site %u %u ", &g, &stack) == 2) {
			all++;
			if (g != gid)
				continue;
			f.sites++;
			f.live_objects += field(line, "live_objects=");
			f.live_bytes += field(line, "live_bytes=");
			f.live_estimate += field(line, "live_estimate=");
			f.allocated_objects += field(line, "allocated_objects=");
			f.allocated_bytes += field(line, "allocated_bytes=");
			f.allocated_estimate += field(line, "allocated_estimate=");
		} else if (sscanf(line, "end %u", &end) == 1) {
			f.complete = end == all;
		}
	}
	fclose(in);
	unlink(path);
	return f;
}

static void sampling_or_skip(uint64_t mean)
{
	int r = ta_sampling_set(mean);

	ck_assert_msg(r == 0, "ta_sampling_set(%llu) = %d: no stack support",
	              (unsigned long long)mean, r);
}

START_TEST(off_by_default)
{
	ta_group *g = group_new("smp-off");
	struct figures f;
	ta_guard gd;
	void *p;

	ck_assert_uint_eq(ta_sampling_get(), 0);
	gd = ta_group_enter(g);
	p = tw.malloc(100);
	ta_guard_exit(&gd);
	tw.free(p);
	f = profile_of(ta_group_id(g));
	ck_assert(f.complete);
	ck_assert_uint_eq(f.sites, 0);
	ck_assert_int_eq(ta_profile_dump(NULL), -EINVAL);
	ck_assert_int_eq(ta_profile_dump(""), -EINVAL);
	ck_assert_int_eq(ta_profile_dump("/no/such/dir/p"), -ENOENT);
}
END_TEST

static __attribute__((noinline)) void *site_one(size_t n)
{
	return tw.malloc(n);
}

static __attribute__((noinline)) void *site_two(size_t n)
{
	return tw.calloc(1, n);
}

START_TEST(every_allocation_exact)
{
	ta_group *g = group_new("smp-exact");
	void *a[300], *b[100];
	struct figures f;
	struct ta_diag d0 = diag_now(), d1;
	ta_guard gd;
	int i;

	sampling_or_skip(1);
	ck_assert_uint_eq(ta_sampling_get(), 1);
	gd = ta_group_enter(g);
	for (i = 0; i < 300; i++)
		a[i] = site_one(100 + (size_t)i);
	for (i = 0; i < 100; i++)
		b[i] = site_two(4096);
	b[0] = tw.realloc(b[0], 8192); /* a sampled block moves: free + sample */
	ta_guard_exit(&gd);
	f = profile_of(ta_group_id(g));
	ck_assert(f.complete);
	ck_assert_uint_ge(f.sites, 2); /* two call sites at least */
	ck_assert_uint_eq(f.live_objects, 400);
	ck_assert_uint_eq(f.live_bytes, 300 * 100 + 299 * 300 / 2 + 99 * 4096 + 8192);
	ck_assert_uint_eq(f.live_estimate, f.live_bytes); /* mean 1: weight = size */
	ck_assert_uint_eq(f.allocated_objects, 401);
	ck_assert_uint_eq(f.allocated_bytes, f.live_bytes + 4096);
	/* frees make the live figures drop, not the allocated ones */
	for (i = 0; i < 300; i += 2)
		tw.free(a[i]);
	f = profile_of(ta_group_id(g));
	ck_assert_uint_eq(f.live_objects, 250);
	ck_assert_uint_eq(f.allocated_objects, 401);
	for (i = 1; i < 300; i += 2) {
		ck_assert_uint_ge(tw.malloc_usable_size(a[i]), 100 + (size_t)i);
		tw.free(a[i]);
	}
	for (i = 0; i < 100; i++)
		tw.free(b[i]);
	ck_assert_int_eq(ta_sampling_set(0), 0);
	f = profile_of(ta_group_id(g));
	ck_assert_uint_eq(f.live_objects, 0);
	ck_assert_uint_eq(f.live_bytes, 0);
	/* sampled blocks are ours: no free was taken for foreign or double */
	d1 = diag_now();
	ck_assert_uint_eq(d1.foreign_frees, d0.foreign_frees);
	ck_assert_uint_eq(d1.double_frees, d0.double_frees);
	ck_assert_uint_eq(d1.corrupt_trailers, d0.corrupt_trailers);
}
END_TEST

START_TEST(double_free_of_sampled_block)
{
	struct ta_diag d0, d1;
	void *p;

	sampling_or_skip(1);
	p = tw.malloc(64);
	ck_assert_int_eq(ta_sampling_set(0), 0);
	d0 = diag_now();
	tw.free(p);
	tw.free(p); /* the freed mark of a sampled block is known too */
	d1 = diag_now();
	ck_assert_uint_eq(d1.double_frees, d0.double_frees + 1);
	ck_assert_uint_eq(d1.foreign_frees, d0.foreign_frees);
}
END_TEST

/* Mean 64 KiB, seeded: the estimates of 80 MB of small blocks, and of 40
 * blocks of 1 MiB (larger than the mean), lie within 10% of the truth. */
START_TEST(estimates_unbiased)
{
	ta_group *small = group_new("smp-small"), *large = group_new("smp-large");
	enum { NSMALL = 80000, NLARGE = 40 };
	static void *s[NSMALL], *l[NLARGE];
	struct figures fs, fl;
	ta_guard gd;
	int i;

	sampling_or_skip(65536);
	gd = ta_group_enter(small);
	for (i = 0; i < NSMALL; i++)
		s[i] = tw.malloc(1000);
	ta_guard_exit(&gd);
	gd = ta_group_enter(large);
	for (i = 0; i < NLARGE; i++)
		l[i] = tw.malloc(1 << 20);
	ta_guard_exit(&gd);
	ck_assert_int_eq(ta_sampling_set(0), 0);
	fs = profile_of(ta_group_id(small));
	fl = profile_of(ta_group_id(large));
	/* about 80e6 / 65536 = 1220 samples, each weighing about 66 KB: the
	 * estimate's spread is about 3%, so 10% holds for any seed */
	ck_assert_uint_gt(fs.live_objects, 150);
	ck_assert_uint_lt(fs.live_objects, NSMALL / 10);
	ck_assert_uint_gt(fs.live_estimate, NSMALL * 1000ull * 9 / 10);
	ck_assert_uint_lt(fs.live_estimate, NSMALL * 1000ull * 11 / 10);
	ck_assert_uint_gt(fl.live_estimate, (uint64_t)NLARGE * (1 << 20) * 9 / 10);
	ck_assert_uint_lt(fl.live_estimate, (uint64_t)NLARGE * (1 << 20) * 11 / 10);
	for (i = 0; i < NSMALL; i++)
		tw.free(s[i]);
	for (i = 0; i < NLARGE; i++)
		tw.free(l[i]);
	fs = profile_of(ta_group_id(small));
	ck_assert_uint_eq(fs.live_estimate, 0);
}
END_TEST

static void *sampling_thread(void *arg)
{
	ta_group *g = arg;
	ta_guard gd = ta_group_enter(g);
	void *keep[200];
	int i;

	for (i = 0; i < 200; i++)
		keep[i] = tw.malloc(32);
	for (i = 0; i < 100; i++)
		tw.free(keep[i]);
	ta_guard_exit(&gd);
	/* the other 100 outlive the thread */
	return keep[100] ? NULL : arg;
}

START_TEST(threads_and_fork)
{
	ta_group *g = group_new("smp-threads");
	pthread_t t[4];
	struct figures f;
	pid_t pid;
	int i, status;

	sampling_or_skip(1);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, sampling_thread, g), 0);
	/* fork while they sample: the child's sampled heap is consistent */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		void *p = tw.malloc(10);
		struct figures cf = profile_of(ta_group_id(g));

		tw.free(p);
		/* each thread had at most its 200 blocks live at the fork */
		_exit(cf.complete && cf.live_objects <= 800 ? 0 : 1);
	}
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(ta_sampling_set(0), 0);
	f = profile_of(ta_group_id(g));
	ck_assert(f.complete);
	ck_assert_uint_eq(f.allocated_objects, 800);
	ck_assert_uint_eq(f.live_objects, 400);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("sampling");
	TCase *tc = tcase_new("sampling");

	tcase_add_test(tc, off_by_default);
	tcase_add_test(tc, every_allocation_exact);
	tcase_add_test(tc, double_free_of_sampled_block);
	tcase_add_test(tc, estimates_unbiased);
	tcase_add_test(tc, threads_and_fork);
	suite_add_tcase(s, tc);
	return s;
}
