// SPDX-License-Identifier: MIT
/* Schoolbook arithmetic on 32-bit limbs; division is Knuth's algorithm D. */
#include "bignum.h"

#include "workload.h"

static struct bn bn_alloc(int n)
{
	/* at least one limb, so that zero is a malloc'd number like any other */
	struct bn a = { n, wl_xmalloc(sizeof(uint32_t) * (size_t)(n > 0 ? n : 1)) };

	return a;
}

static void bn_norm(struct bn *a)
{
	while (a->n > 0 && a->d[a->n - 1] == 0)
		a->n--;
}

struct bn bn_u64(uint64_t v)
{
	struct bn a = bn_alloc(2);

	a.d[0] = (uint32_t)v;
	a.d[1] = (uint32_t)(v >> 32);
	bn_norm(&a);
	return a;
}

struct bn bn_copy(struct bn a)
{
	struct bn c = bn_alloc(a.n);

	memcpy(c.d, a.d, sizeof(uint32_t) * (size_t)a.n);
	return c;
}

void bn_free(struct bn *a)
{
	free(a->d);
	a->d = NULL;
	a->n = 0;
}

int bn_cmp(struct bn a, struct bn b)
{
	if (a.n != b.n)
		return a.n < b.n ? -1 : 1;
	for (int i = a.n - 1; i >= 0; i--)
		if (a.d[i] != b.d[i])
			return a.d[i] < b.d[i] ? -1 : 1;
	return 0;
}

int bn_is_one(struct bn a)
{
	return a.n == 1 && a.d[0] == 1;
}

uint64_t bn_low64(struct bn a)
{
	return (a.n > 0 ? a.d[0] : 0) | (a.n > 1 ? (uint64_t)a.d[1] << 32 : 0);
}

struct bn bn_add(struct bn a, struct bn b)
{
	int n = a.n > b.n ? a.n : b.n;
	struct bn c = bn_alloc(n + 1);
	uint64_t carry = 0;

	for (int i = 0; i < n; i++) {
		carry += (uint64_t)(i < a.n ? a.d[i] : 0) + (i < b.n ? b.d[i] : 0);
		c.d[i] = (uint32_t)carry;
		carry >>= 32;
	}
	c.d[n] = (uint32_t)carry;
	bn_norm(&c);
	return c;
}

struct bn bn_sub(struct bn a, struct bn b)
{
	struct bn c = bn_alloc(a.n);
	int64_t borrow = 0;

	for (int i = 0; i < a.n; i++) {
		int64_t t = (int64_t)a.d[i] - (i < b.n ? b.d[i] : 0) - borrow;

		borrow = t < 0;
		c.d[i] = (uint32_t)(t + (borrow ? (int64_t)1 << 32 : 0));
	}
	bn_norm(&c);
	return c;
}

struct bn bn_mul(struct bn a, struct bn b)
{
	struct bn c = bn_alloc(a.n + b.n);

	memset(c.d, 0, sizeof(uint32_t) * (size_t)(a.n + b.n));
	for (int i = 0; i < a.n; i++) {
		uint64_t carry = 0;

		for (int j = 0; j < b.n; j++) {
			carry += (uint64_t)a.d[i] * b.d[j] + c.d[i + j];
			c.d[i + j] = (uint32_t)carry;
			carry >>= 32;
		}
		c.d[i + b.n] = (uint32_t)carry;
	}
	c.n = a.n + b.n;
	bn_norm(&c);
	return c;
}

struct bn bn_div_small(struct bn a, uint32_t m, uint32_t *rem)
{
	struct bn q = bn_alloc(a.n);
	uint64_t r = 0;

	for (int i = a.n - 1; i >= 0; i--) {
		r = (r << 32) | a.d[i];
		q.d[i] = (uint32_t)(r / m);
		r %= m;
	}
	bn_norm(&q);
	*rem = (uint32_t)r;
	return q;
}

uint32_t bn_mod_small(struct bn a, uint32_t m)
{
	uint64_t r = 0;

	for (int i = a.n - 1; i >= 0; i--)
		r = ((r << 32) | a.d[i]) % m;
	return (uint32_t)r;
}

void bn_divmod(struct bn a, struct bn b, struct bn *q, struct bn *r)
{
	int m = a.n, n = b.n;

	if (bn_cmp(a, b) < 0) {
		*q = bn_u64(0);
		*r = bn_copy(a);
		return;
	}
	if (n == 1) {
		uint32_t rem;

		*q = bn_div_small(a, b.d[0], &rem);
		*r = bn_u64(rem);
		return;
	}
	/* normalise so the divisor's top limb has its top bit set: then each
	 * estimated quotient limb is at most two too large */
	int s = __builtin_clz(b.d[n - 1]);
	uint32_t *vn = wl_xmalloc(sizeof(uint32_t) * (size_t)n);
	uint32_t *un = wl_xmalloc(sizeof(uint32_t) * (size_t)(m + 1));

	for (int i = n - 1; i > 0; i--)
		vn[i] = (uint32_t)(((uint64_t)b.d[i] << s) | ((uint64_t)b.d[i - 1] >> (32 - s)));
	vn[0] = b.d[0] << s;
	un[m] = (uint32_t)((uint64_t)a.d[m - 1] >> (32 - s));
	for (int i = m - 1; i > 0; i--)
		un[i] = (uint32_t)(((uint64_t)a.d[i] << s) | ((uint64_t)a.d[i - 1] >> (32 - s)));
	un[0] = a.d[0] << s;

	*q = bn_alloc(m - n + 1);
	for (int j = m - n; j >= 0; j--) {
		uint64_t num = ((uint64_t)un[j + n] << 32) | un[j + n - 1];
		uint64_t qhat = num / vn[n - 1], rhat = num % vn[n - 1];

		while (qhat >> 32 || qhat * vn[n - 2] > ((rhat << 32) | un[j + n - 2])) {
			qhat--;
			rhat += vn[n - 1];
			if (rhat >> 32)
				break;
		}
		int64_t k = 0, t;

		for (int i = 0; i < n; i++) {
			uint64_t p = qhat * vn[i];

			t = (int64_t)un[i + j] - k - (int64_t)(p & 0xffffffffU);
			un[i + j] = (uint32_t)t;
			k = (int64_t)(p >> 32) - (t >> 32);
		}
		t = (int64_t)un[j + n] - k;
		un[j + n] = (uint32_t)t;
		q->d[j] = (uint32_t)qhat;
		if (t < 0) { /* estimate one too large: add the divisor back */
			uint64_t c = 0;

			q->d[j]--;
			for (int i = 0; i < n; i++) {
				c += (uint64_t)un[i + j] + vn[i];
				un[i + j] = (uint32_t)c;
				c >>= 32;
			}
			un[j + n] += (uint32_t)c;
		}
	}
	bn_norm(q);
	*r = bn_alloc(n);
	for (int i = 0; i < n; i++)
		r->d[i] = (uint32_t)(((uint64_t)un[i] >> s) | ((uint64_t)un[i + 1] << (32 - s)));
	bn_norm(r);
	free(vn);
	free(un);
}

struct bn bn_mod(struct bn a, struct bn b)
{
	struct bn q, r;

	bn_divmod(a, b, &q, &r);
	bn_free(&q);
	return r;
}

struct bn bn_isqrt(struct bn a)
{
	if (a.n == 0)
		return bn_u64(0);
	/* Newton from above: start at a power of two at least sqrt(a) */
	int bits = 32 * (a.n - 1) + (32 - __builtin_clz(a.d[a.n - 1]));
	int half = (bits + 1) / 2;
	struct bn x = bn_alloc(half / 32 + 1);

	memset(x.d, 0, sizeof(uint32_t) * (size_t)x.n);
	x.d[half / 32] = 1U << (half % 32);
	bn_norm(&x);
	for (;;) {
		struct bn q, r, s, y;
		uint32_t rem;

		bn_divmod(a, x, &q, &r);
		s = bn_add(x, q);
		y = bn_div_small(s, 2, &rem);
		bn_free(&q);
		bn_free(&r);
		bn_free(&s);
		if (bn_cmp(y, x) >= 0) {
			bn_free(&y);
			return x;
		}
		bn_free(&x);
		x = y;
	}
}

struct bn bn_gcd(struct bn a, struct bn b)
{
	struct bn x = bn_copy(a), y = bn_copy(b);

	while (y.n != 0) {
		struct bn r = bn_mod(x, y);

		bn_free(&x);
		x = y;
		y = r;
	}
	bn_free(&y);
	return x;
}
