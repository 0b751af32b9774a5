// SPDX-License-Identifier: MIT
/*
 * cfrac-shape workload: factor semiprimes with the continued-fraction method
 * (Morrison-Brillhart) on struct bn numbers whose limbs are malloc'd per
 * number. Trial division of each Q over the factor base makes a quotient
 * for every prime tried, as a naive bignum library does: many short-lived
 * allocations of one to three limbs, which is what makes the original
 * cfrac an allocator benchmark.
 *
 *   cfrac [quick]     prints one checksum line over the factors found
 */
#include "bignum.h"
#include "workload.h"

#define FB_SIZE 160      /* primes in the factor base, -1 excluded */
#define EXTRA_RELATIONS 12

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
	return (uint64_t)((unsigned __int128)a * b % m);
}

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m)
{
	uint64_t r = 1;

	for (b %= m; e; e >>= 1, b = mulmod(b, b, m))
		if (e & 1)
			r = mulmod(r, b, m);
	return r;
}

/* deterministic Miller-Rabin for 64-bit n (these bases suffice below 2^64) */
static int is_prime(uint64_t n)
{
	static const uint64_t bases[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37 };
	uint64_t d = n - 1;
	int s = 0;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (n % bases[i] == 0)
			return n == bases[i];
	while (!(d & 1)) {
		d >>= 1;
		s++;
	}
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint64_t x = powmod(bases[i], d, n);

		if (x == 1 || x == n - 1)
			continue;
		int r;
		for (r = 1; r < s; r++) {
			x = mulmod(x, x, n);
			if (x == n - 1)
				break;
		}
		if (r == s)
			return 0;
	}
	return 1;
}

static uint64_t random_prime(uint64_t *rng, int bits)
{
	for (;;) {
		uint64_t c = (wl_next(rng) >> (64 - bits)) | (1ULL << (bits - 1)) | 1;

		if (is_prime(c))
			return c;
	}
}

struct relation {
	struct bn a;         /* A_{i-1} mod N */
	uint8_t *exp;        /* exponent of each factor-base entry ([0] is -1) */
};

/* the primes p with N a quadratic residue mod p: only they divide a Q */
static int factor_base(struct bn n, uint32_t *fb)
{
	int k = 0;

	fb[k++] = 2;
	for (uint32_t p = 3; k < FB_SIZE; p += 2) {
		if (!is_prime(p))
			continue;
		uint32_t r = bn_mod_small(n, p);

		if (r != 0 && powmod(r, (p - 1) / 2, p) == 1)
			fb[k++] = p;
	}
	return k;
}

/* Divide q by the factor base; the exponents into exp[1..]. Returns whether
 * q was smooth. */
static int trial_divide(struct bn q, const uint32_t *fb, int nfb, uint8_t *exp)
{
	struct bn rest = bn_copy(q);

	for (int i = 0; i < nfb; i++) {
		exp[i + 1] = 0;
		for (;;) {
			uint32_t rem;
			struct bn t = bn_div_small(rest, fb[i], &rem);

			if (rem != 0) {
				bn_free(&t);
				break;
			}
			bn_free(&rest);
			rest = t;
			exp[i + 1]++;
		}
	}
	int smooth = bn_is_one(rest);

	bn_free(&rest);
	return smooth;
}

/* x * y mod n, freeing x */
static struct bn mulmod_bn(struct bn x, struct bn y, struct bn n)
{
	struct bn p = bn_mul(x, y), r = bn_mod(p, n);

	bn_free(&p);
	struct bn old = x;
	bn_free(&old);
	return r;
}

/* Gaussian elimination over GF(2) on the exponent parities; each
 * dependency tried in turn until one splits n. Returns the factor or 0. */
static uint64_t combine(struct relation *rel, int nrel, const uint32_t *fb, int nfb, struct bn n)
{
	int cols = nfb + 1, words = (cols + nrel + 63) / 64;
	uint64_t **row = wl_xmalloc(sizeof(*row) * (size_t)nrel);
	uint64_t found = 0;

	for (int i = 0; i < nrel; i++) {
		row[i] = calloc((size_t)words, sizeof(uint64_t));
		if (!row[i])
			exit(1);
		for (int c = 0; c < cols; c++)
			if (rel[i].exp[c] & 1)
				row[i][c / 64] |= 1ULL << (c % 64);
		/* the history bit: which relations a row is a sum of */
		row[i][(cols + i) / 64] |= 1ULL << ((cols + i) % 64);
	}
	int *used = calloc((size_t)nrel, sizeof(int));

	for (int c = 0; c < cols; c++) {
		int piv = -1;

		for (int i = 0; i < nrel && piv < 0; i++)
			if (!used[i] && (row[i][c / 64] >> (c % 64) & 1))
				piv = i;
		if (piv < 0)
			continue;
		used[piv] = 1;
		for (int i = 0; i < nrel; i++)
			if (i != piv && (row[i][c / 64] >> (c % 64) & 1))
				for (int w = 0; w < words; w++)
					row[i][w] ^= row[piv][w];
	}
	unsigned *sum = wl_xmalloc(sizeof(unsigned) * (size_t)cols);

	for (int i = 0; i < nrel && !found; i++) {
		if (used[i])
			continue;
		struct bn x = bn_u64(1), y = bn_u64(1);

		memset(sum, 0, sizeof(unsigned) * (size_t)cols);
		for (int j = 0; j < nrel; j++) {
			if (!(row[i][(cols + j) / 64] >> ((cols + j) % 64) & 1))
				continue;
			x = mulmod_bn(x, rel[j].a, n);
			for (int c = 0; c < cols; c++)
				sum[c] += rel[j].exp[c];
		}
		for (int c = 1; c < cols; c++) {
			struct bn p = bn_u64(fb[c - 1]);

			for (unsigned e = 0; e < sum[c] / 2; e++)
				y = mulmod_bn(y, p, n);
			bn_free(&p);
		}
		struct bn d = bn_cmp(x, y) >= 0 ? bn_sub(x, y) : bn_sub(y, x);
		struct bn g = bn_gcd(d, n);

		if (!bn_is_one(g) && bn_cmp(g, n) != 0 && g.n <= 2)
			found = bn_low64(g);
		bn_free(&g);
		bn_free(&d);
		bn_free(&x);
		bn_free(&y);
	}
	for (int i = 0; i < nrel; i++)
		free(row[i]);
	free(row);
	free(used);
	free(sum);
	return found;
}

/* Factor n; returns a nontrivial factor, or 0, and the steps taken. */
static uint64_t cfrac(struct bn n, long *steps)
{
	uint32_t fb[FB_SIZE];
	int nfb = factor_base(n, fb), want = nfb + 1 + EXTRA_RELATIONS, nrel = 0;
	struct relation *rel = wl_xmalloc(sizeof(*rel) * (size_t)want);
	struct bn a0 = bn_isqrt(n);
	/* P_0 = 0, Q_0 = 1, a_0; A_{-1} = 1, A_0 = a_0 */
	struct bn p = bn_u64(0), q = bn_u64(1), a = bn_copy(a0);
	struct bn aprev = bn_u64(1), acur = bn_copy(a0);
	uint8_t *exp = wl_xmalloc((size_t)nfb + 1);
	uint64_t factor = 0;

	for (long i = 1; nrel < want && i < 2000000; i++) {
		/* P_i = a_{i-1} Q_{i-1} - P_{i-1}; Q_i = (N - P_i^2) / Q_{i-1} */
		struct bn aq = bn_mul(a, q), pn = bn_sub(aq, p);
		struct bn pp = bn_mul(pn, pn), diff = bn_sub(n, pp), qn, r;

		bn_divmod(diff, q, &qn, &r);
		bn_free(&aq);
		bn_free(&pp);
		bn_free(&diff);
		bn_free(&r);
		bn_free(&p);
		bn_free(&q);
		p = pn;
		q = qn;
		/* A_{i-1}^2 = (-1)^i Q_i (mod N) */
		exp[0] = (uint8_t)(i & 1);
		if (trial_divide(q, fb, nfb, exp)) {
			rel[nrel].a = bn_copy(acur);
			rel[nrel].exp = wl_xmalloc((size_t)nfb + 1);
			memcpy(rel[nrel].exp, exp, (size_t)nfb + 1);
			nrel++;
		}
		/* a_i = floor((a_0 + P_i) / Q_i); A_i = a_i A_{i-1} + A_{i-2} mod N */
		struct bn s = bn_add(a0, p), an, rr;

		bn_divmod(s, q, &an, &rr);
		bn_free(&s);
		bn_free(&rr);
		bn_free(&a);
		a = an;
		struct bn t = bn_mul(a, acur), u = bn_add(t, aprev), anext = bn_mod(u, n);

		bn_free(&t);
		bn_free(&u);
		bn_free(&aprev);
		aprev = acur;
		acur = anext;
		*steps = i;
	}
	if (nrel == want)
		factor = combine(rel, nrel, fb, nfb, n);
	for (int i = 0; i < nrel; i++) {
		bn_free(&rel[i].a);
		free(rel[i].exp);
	}
	free(rel);
	free(exp);
	bn_free(&a0);
	bn_free(&p);
	bn_free(&q);
	bn_free(&a);
	bn_free(&aprev);
	bn_free(&acur);
	return factor;
}

int main(int argc, char **argv)
{
	int quick = wl_quick(argc, argv);
	int count = quick ? 2 : 12, bits = quick ? 30 : 42;
	uint64_t rng = 20261202, h = WL_HASH_INIT;
	long total_steps = 0;
	int factored = 0;
	char detail[96];

	for (int k = 0; k < count; k++) {
		uint64_t p1 = random_prime(&rng, bits), p2 = random_prime(&rng, bits);
		struct bn a = bn_u64(p1), b = bn_u64(p2), n = bn_mul(a, b);
		long steps = 0;
		uint64_t f = cfrac(n, &steps);

		/* a factor must be one of the two primes the number was made of */
		if (f != 0 && f != p1 && f != p2) {
			fprintf(stderr, "cfrac: %" PRIu64 " is not a factor of %" PRIu64 " * %" PRIu64 "\n",
				f, p1, p2);
			return 1;
		}
		factored += f != 0;
		total_steps += steps;
		h = wl_mix(h, f < (p1 ^ p2 ^ f) ? f : p1 ^ p2 ^ f);
		h = wl_mix(h, (uint64_t)steps);
		bn_free(&a);
		bn_free(&b);
		bn_free(&n);
	}
	snprintf(detail, sizeof(detail), "factored=%d/%d steps=%ld", factored, count, total_steps);
	wl_report("cfrac", h, detail);
	return 0;
}
