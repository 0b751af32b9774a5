// SPDX-License-Identifier: MIT
/*
 * espresso-shape workload: two-level minimisation of random boolean
 * functions with the expand / irredundant / reduce loop of espresso. Cubes
 * are malloc'd bit-sets (two bits per variable: may be 0, may be 1), covers
 * are arrays of them grown with realloc, and every containment question
 * goes through a recursive tautology check that builds cofactor covers:
 * many small allocations of varied sizes and covers that grow.
 *
 *   espresso [quick]   prints one checksum line over the minimised covers
 */
#include "workload.h"

#define MAX_WORDS 2      /* up to 32 variables */

struct cube {
	int nwords;   /* what it was allocated for: the function's `words` */
	uint64_t w[]; /* bit 2v: v may be 0, bit 2v+1: v may be 1 */
};

struct cover {
	int n, cap;
	struct cube **c;
};

/* the current function's shape: set once per function, read everywhere */
static int nvars, words;
static uint64_t full[MAX_WORDS]; /* every variable's two bits */

static struct cube *cube_new(void)
{
	struct cube *c = wl_xmalloc(sizeof(struct cube) + sizeof(uint64_t) * (size_t)words);

	c->nwords = words;
	return c;
}

static struct cube *cube_dup(const struct cube *a)
{
	struct cube *c = cube_new();

	memcpy(c->w, a->w, sizeof(uint64_t) * (size_t)words);
	return c;
}

static int var_bits(const struct cube *c, int v)
{
	return (int)(c->w[v / 32] >> (2 * (v % 32)) & 3);
}

static void var_set(struct cube *c, int v, int bits)
{
	uint64_t *w = &c->w[v / 32];

	*w = (*w & ~(3ULL << (2 * (v % 32)))) | ((uint64_t)bits << (2 * (v % 32)));
}

static int cube_literals(const struct cube *c)
{
	int n = 0;

	for (int v = 0; v < nvars; v++)
		n += var_bits(c, v) != 3;
	return n;
}

static int cubes_intersect(const struct cube *a, const struct cube *b)
{
	for (int i = 0; i < words; i++) {
		uint64_t x = a->w[i] & b->w[i];
		/* a variable whose two bits are both clear: empty intersection */
		if (((x | x >> 1) & 0x5555555555555555ULL & full[i]) != (full[i] & 0x5555555555555555ULL))
			return 0;
	}
	return 1;
}

static int cube_contains(const struct cube *a, const struct cube *b)
{
	for (int i = 0; i < words; i++)
		if (b->w[i] & ~a->w[i])
			return 0;
	return 1;
}

static void cover_add(struct cover *f, struct cube *c)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 2;
		f->c = wl_xrealloc(f->c, sizeof(*f->c) * (size_t)f->cap);
	}
	f->c[f->n++] = c;
}

static void cover_free(struct cover *f)
{
	for (int i = 0; i < f->n; i++)
		free(f->c[i]);
	free(f->c);
	f->c = NULL;
	f->n = f->cap = 0;
}

static void cover_remove(struct cover *f, int i)
{
	free(f->c[i]);
	memmove(&f->c[i], &f->c[i + 1], sizeof(*f->c) * (size_t)(f->n - i - 1));
	f->n--;
}

/* f cofactored by d, skipping cube `skip` of f (-1: none) */
static struct cover cofactor(const struct cover *f, const struct cube *d, int skip)
{
	struct cover r = { 0, 0, NULL };

	for (int i = 0; i < f->n; i++) {
		if (i == skip || !cubes_intersect(f->c[i], d))
			continue;
		struct cube *c = cube_new();

		for (int k = 0; k < words; k++)
			c->w[k] = (f->c[i]->w[k] | ~d->w[k]) & full[k];
		cover_add(&r, c);
	}
	return r;
}

static int tautology(const struct cover *f)
{
	double minterms = 0, space = 1;
	int best = -1, best_count = 0, best_pol = 0;

	if (f->n == 0)
		return 0;
	for (int v = 0; v < nvars; v++)
		space *= 2;
	for (int i = 0; i < f->n; i++) {
		int lits = cube_literals(f->c[i]);

		if (lits == 0)
			return 1;
		minterms += space / (double)(1ULL << lits);
	}
	if (minterms < space) /* the cubes cannot even cover the space */
		return 0;
	/* split on the variable most cubes depend on; note its polarities */
	for (int v = 0; v < nvars; v++) {
		int count = 0, pol = 0;

		for (int i = 0; i < f->n; i++) {
			int b = var_bits(f->c[i], v);

			if (b != 3) {
				count++;
				pol |= b;
			}
		}
		if (count > best_count) {
			best = v;
			best_count = count;
			best_pol = pol;
		}
	}
	struct cube *half = cube_new();
	int taut = 1;

	for (int k = 0; k < words; k++)
		half->w[k] = full[k];
	/* unate in the split variable: the side without the literal decides */
	for (int side = 1; side <= 2 && taut; side++) {
		if (best_pol != 3 && side == best_pol)
			continue;
		var_set(half, best, side);
		struct cover g = cofactor(f, half, -1);

		taut = tautology(&g);
		cover_free(&g);
	}
	free(half);
	return taut;
}

/* whether the cubes of f other than `skip` cover c */
static int covers(const struct cover *f, const struct cube *c, int skip)
{
	struct cover g = cofactor(f, c, skip);
	int r = tautology(&g);

	cover_free(&g);
	return r;
}

/* raise each literal of each cube while the cube stays inside the function
 * (given by the fixed cover `on`); drop the cubes a raised one contains */
static void expand(struct cover *f, const struct cover *on)
{
	for (int i = 0; i < f->n; i++) {
		for (int v = 0; v < nvars; v++) {
			if (var_bits(f->c[i], v) == 3)
				continue;
			struct cube *t = cube_dup(f->c[i]);

			var_set(t, v, 3);
			if (covers(on, t, -1)) {
				free(f->c[i]);
				f->c[i] = t;
			} else {
				free(t);
			}
		}
		for (int j = f->n - 1; j >= 0; j--)
			if (j != i && cube_contains(f->c[i], f->c[j])) {
				cover_remove(f, j);
				if (j < i)
					i--;
			}
	}
}

static void irredundant(struct cover *f)
{
	for (int i = f->n - 1; i >= 0; i--)
		if (covers(f, f->c[i], i))
			cover_remove(f, i);
}

/* lower a free variable of a cube when the rest of the cover holds the half
 * given up: the next expand may then reach other primes */
static void reduce(struct cover *f)
{
	for (int i = 0; i < f->n; i++)
		for (int v = 0; v < nvars; v++) {
			if (var_bits(f->c[i], v) != 3)
				continue;
			for (int keep = 1; keep <= 2; keep++) {
				struct cube *gone = cube_dup(f->c[i]);

				var_set(gone, v, 3 - keep);
				int ok = covers(f, gone, i);

				free(gone);
				if (ok) {
					var_set(f->c[i], v, keep);
					break;
				}
			}
		}
}

static long cover_cost(const struct cover *f)
{
	long lits = 0;

	for (int i = 0; i < f->n; i++)
		lits += cube_literals(f->c[i]);
	return (long)f->n * 1000 + lits;
}

static int cube_order(const void *pa, const void *pb)
{
	const struct cube *a = *(struct cube *const *)pa, *b = *(struct cube *const *)pb;

	for (int i = words - 1; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

/* a function of nv variables as a union of random cubes, each split into
 * pieces on a few of its free variables: a redundant cover to minimise */
static struct cover random_function(uint64_t *rng, int nv, int ncubes)
{
	struct cover f = { 0, 0, NULL };

	for (int k = 0; k < ncubes; k++) {
		struct cube *c = cube_new();
		int splits = (int)wl_range(rng, 0, 3);

		for (int i = 0; i < words; i++)
			c->w[i] = full[i];
		for (int v = 0; v < nv; v++)
			if (wl_range(rng, 0, 99) < 45)
				var_set(c, v, (int)wl_range(rng, 1, 2));
		struct cover parts = { 0, 0, NULL };

		cover_add(&parts, c);
		for (int s = 0; s < splits; s++) {
			int v = (int)wl_range(rng, 0, (uint64_t)nv - 1), n = parts.n;

			if (var_bits(parts.c[0], v) != 3)
				continue;
			for (int p = 0; p < n; p++) {
				struct cube *other = cube_dup(parts.c[p]);

				var_set(parts.c[p], v, 1);
				var_set(other, v, 2);
				cover_add(&parts, other);
			}
		}
		for (int p = 0; p < parts.n; p++)
			cover_add(&f, parts.c[p]);
		free(parts.c);
	}
	return f;
}

int main(int argc, char **argv)
{
	int quick = wl_quick(argc, argv), count = quick ? 3 : 300;
	uint64_t rng = 1984, h = WL_HASH_INIT;
	long cubes_in = 0, cubes_out = 0;
	char detail[96];

	for (int k = 0; k < count; k++) {
		nvars = 12 + (int)wl_range(&rng, 0, 20);
		words = (2 * nvars + 63) / 64;
		for (int i = 0; i < MAX_WORDS; i++) {
			int bits = 2 * nvars - 64 * i;

			full[i] = bits >= 64 ? ~0ULL : bits <= 0 ? 0 : (1ULL << bits) - 1;
		}
		struct cover on = random_function(&rng, nvars, 20 + (int)wl_range(&rng, 0, 40));
		struct cover f = { 0, 0, NULL };

		for (int i = 0; i < on.n; i++)
			cover_add(&f, cube_dup(on.c[i]));
		cubes_in += on.n;
		long cost = cover_cost(&f) + 1;

		for (int iter = 0; iter < 6 && cover_cost(&f) < cost; iter++) {
			cost = cover_cost(&f);
			expand(&f, &on);
			irredundant(&f);
			if (iter < 5)
				reduce(&f);
		}
		expand(&f, &on);
		irredundant(&f);
		/* the result must be the same function: each side covers the other */
		for (int i = 0; i < f.n; i++)
			if (!covers(&on, f.c[i], -1)) {
				fprintf(stderr, "espresso: function %d: a cube of the result is not in it\n", k);
				return 1;
			}
		for (int i = 0; i < on.n; i++)
			if (!covers(&f, on.c[i], -1)) {
				fprintf(stderr, "espresso: function %d: the result lost a cube\n", k);
				return 1;
			}
		qsort(f.c, (size_t)f.n, sizeof(*f.c), cube_order);
		for (int i = 0; i < f.n; i++)
			for (int w = 0; w < words; w++)
				h = wl_mix(h, f.c[i]->w[w]);
		h = wl_mix(h, (uint64_t)cover_cost(&f));
		cubes_out += f.n;
		cover_free(&f);
		cover_free(&on);
	}
	snprintf(detail, sizeof(detail), "functions=%d cubes_in=%ld cubes_out=%ld", count, cubes_in,
		cubes_out);
	wl_report("espresso", h, detail);
	return 0;
}
