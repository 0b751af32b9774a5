/* SPDX-License-Identifier: MIT */
/*
 * bench-spans: the cost of ta_span_enter + ta_span_exit with 1, 1,000 and
 * 100,000 bound spans, against ta_group_enter + ta_guard_exit, in one run.
 *
 * Three access patterns per table size:
 *  - "same span":    one span entered and exited again and again (a task
 *                    entered on every poll by the worker that runs it);
 *  - "1000 in turn": every enter picks the next of 1,000 bound spans (or of
 *                    all, when fewer are bound) in a shuffled order: 1,000
 *                    requests in flight, each enter another one's, so every
 *                    enter looks the table up, while the spans in use stay
 *                    as many as the table grows;
 *  - "next span":    every enter picks the next of all the bound spans in a
 *                    shuffled order, so the table's memory is touched as a
 *                    whole (at 100,000 spans, misses in every cache level).
 * Each figure is the best of several rounds (ns of thread CPU time per
 * enter+exit pair). The
 * targets of issue 4 are printed as verdicts; timings never fail the run.
 *
 *   bench-spans [PAIRS_PER_ROUND]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <trackalloc.h>

#define ROUNDS 7
#define GROUPS 3
#define IN_FLIGHT 1000u

static const unsigned sizes[] = { 1, 1000, 100000 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* This thread's CPU time: a loaded machine descheduling the benchmark does
 * not count against it. */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Span ids look like a tracer's: well spread over 64 bits, never 0. */
static uint64_t span_id(uint64_t i)
{
	uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

static int failed;

static void check(int got, int want, const char *what)
{
	if (got != want && !failed++)
		fprintf(stderr, "bench-spans: %s returned %d, expected %d\n", what, got, want);
}

static double bench_guards(ta_group *g, unsigned long pairs)
{
	double best = 0;

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_ns(), t;
		int bad = 0;

		for (unsigned long i = 0; i < pairs; i++) {
			ta_guard guard = ta_group_enter(g);

			bad |= ta_guard_exit(&guard);
		}
		t = (now_ns() - t0) / (double)pairs;
		check(bad, 0, "ta_guard_exit");
		if (r == 0 || t < best)
			best = t;
	}
	return best;
}

/* Enter and exit @ids[0..n) in turn (n == 1: one span over and over). */
static double bench_spans(const uint64_t *ids, unsigned n, unsigned long pairs, int want)
{
	double best = 0;

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_ns(), t;
		unsigned k = 0;
		int bad = 0;

		for (unsigned long i = 0; i < pairs; i++) {
			bad |= ta_span_enter(ids[k]) != want;
			bad |= ta_span_exit(ids[k]) != want;
			if (++k == n)
				k = 0;
		}
		t = (now_ns() - t0) / (double)pairs;
		check(bad, 0, "ta_span_enter/exit");
		if (r == 0 || t < best)
			best = t;
	}
	return best;
}

static void shuffle(uint64_t *v, unsigned n)
{
	uint64_t s = 88172645463325252ull;

	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j;
		uint64_t tmp;

		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		j = (unsigned)(s % (i + 1));
		tmp = v[i], v[i] = v[j], v[j] = tmp;
	}
}

static const char *yes_no(int ok)
{
	return ok ? "yes" : "NO";
}

int main(int argc, char **argv)
{
	unsigned long pairs = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	double guard, one[NSIZES], few[NSIZES], all[NSIZES], unbound;
	uint64_t *ids = malloc(sizeof(*ids) * sizes[NSIZES - 1]);
	ta_group *groups[GROUPS];
	unsigned bound = 0;
	uint64_t nobody;

	if (!ids || pairs == 0) {
		fprintf(stderr, "usage: bench-spans [PAIRS_PER_ROUND > 0]\n");
		return 2;
	}
	for (int i = 0; i < GROUPS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "bench-spans-%d", i);
		groups[i] = ta_group_register(name, NULL, 0);
		if (!groups[i]) {
			perror("ta_group_register");
			return 1;
		}
	}

	/* Warm up: the first bind creates the table, the first enter sets the
	 * thread up. */
	ta_span_bind(span_id(~0ull - 1), groups[0]);
	ta_span_enter(span_id(~0ull - 1));
	ta_span_exit(span_id(~0ull - 1));
	ta_span_unbind(span_id(~0ull - 1));

	guard = bench_guards(groups[0], pairs);
	nobody = span_id(~0ull);
	for (unsigned s = 0; s < NSIZES; s++) {
		for (; bound < sizes[s]; bound++) {
			ids[bound] = span_id(bound);
			check(ta_span_bind(ids[bound], groups[bound % GROUPS]), 0, "ta_span_bind");
		}
		one[s] = bench_spans(&ids[sizes[s] / 2], 1, pairs, 0);
		shuffle(ids, bound);
		few[s] = bench_spans(ids, bound < IN_FLIGHT ? bound : IN_FLIGHT, pairs, 0);
		all[s] = bench_spans(ids, bound, pairs, 0);
	}
	unbound = bench_spans(&nobody, 1, pairs, -ENOENT);
	for (unsigned i = 0; i < bound; i++)
		check(ta_span_unbind(ids[i]), 0, "ta_span_unbind");
	/* the guard pair again, after the table has been built and emptied */
	{
		double again = bench_guards(groups[0], pairs);

		if (again < guard)
			guard = again;
	}

	printf("bench-spans: ns (thread CPU time) per enter+exit pair, best of %d rounds of %lu "
	       "pairs\n\n",
	       ROUNDS, pairs);
	printf("%-36s %10s %14s\n", "", "ns/pair", "x guard pair");
	printf("%-36s %10.2f %14.2f\n", "ta_group_enter + ta_guard_exit", guard, 1.0);
	for (unsigned s = 0; s < NSIZES; s++) {
		char label[64];

		snprintf(label, sizeof(label), "span pair, %u bound, same span", sizes[s]);
		printf("%-36s %10.2f %14.2f\n", label, one[s], one[s] / guard);
		snprintf(label, sizeof(label), "span pair, %u bound, %u in turn", sizes[s],
		         sizes[s] < IN_FLIGHT ? sizes[s] : IN_FLIGHT);
		printf("%-36s %10.2f %14.2f\n", label, few[s], few[s] / guard);
		snprintf(label, sizeof(label), "span pair, %u bound, next span", sizes[s]);
		printf("%-36s %10.2f %14.2f\n", label, all[s], all[s] / guard);
	}
	printf("%-36s %10.2f %14.2f\n", "span pair, unbound span (-ENOENT)", unbound,
	       unbound / guard);

	{
		double worst_one = 0, worst_few = 0, worst_all = 0;

		for (unsigned s = 0; s < NSIZES; s++) {
			if (one[s] / guard > worst_one)
				worst_one = one[s] / guard;
			if (few[s] / guard > worst_few)
				worst_few = few[s] / guard;
			if (all[s] / guard > worst_all)
				worst_all = all[s] / guard;
		}
		printf("\nwithin 2x of guard pair:  same span %s (worst %.2fx), 1000 in turn %s "
		       "(worst %.2fx), next span %s (worst %.2fx)\n",
		       yes_no(worst_one <= 2.0), worst_one, yes_no(worst_few <= 2.0), worst_few,
		       yes_no(worst_all <= 2.0), worst_all);
		/* flat: the largest table costs at most 1.5x the smallest. With
		 * 1,000 in turn, the smallest table that has them is 1,000. */
		printf("flat as spans grow:       same span %s (100000/1 = %.2fx), 1000 in turn %s "
		       "(100000/1000 = %.2fx), next span %s (100000/1 = %.2fx)\n",
		       yes_no(one[NSIZES - 1] <= 1.5 * one[0]), one[NSIZES - 1] / one[0],
		       yes_no(few[NSIZES - 1] <= 1.5 * few[1]), few[NSIZES - 1] / few[1],
		       yes_no(all[NSIZES - 1] <= 1.5 * all[0]), all[NSIZES - 1] / all[0]);
	}
	free(ids);
	return failed ? 1 : 0;
}
