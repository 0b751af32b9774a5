/* SPDX-License-Identifier: MIT */
/*
 * Arbitrary-precision unsigned integers for the cfrac workload. Every
 * operation returns a new number whose limbs are a fresh malloc'd array and
 * the caller frees what it no longer needs: that, not speed, is the point,
 * since it gives the workload its many short-lived allocations of a few
 * sizes (one to a handful of limbs).
 */
#ifndef TA_BIGNUM_H
#define TA_BIGNUM_H

#include <stdint.h>

struct bn {
	int n;        /* limbs in use; 0 is the number zero */
	uint32_t *d;  /* least significant limb first, never NULL */
};

struct bn bn_u64(uint64_t v);
struct bn bn_copy(struct bn a);
void bn_free(struct bn *a);
int bn_cmp(struct bn a, struct bn b);
int bn_is_one(struct bn a);
struct bn bn_add(struct bn a, struct bn b);
struct bn bn_sub(struct bn a, struct bn b);            /* a >= b */
struct bn bn_mul(struct bn a, struct bn b);
/* quotient and remainder; b nonzero */
void bn_divmod(struct bn a, struct bn b, struct bn *q, struct bn *r);
struct bn bn_mod(struct bn a, struct bn b);
/* quotient of a by m, remainder in *rem */
struct bn bn_div_small(struct bn a, uint32_t m, uint32_t *rem);
uint32_t bn_mod_small(struct bn a, uint32_t m);
struct bn bn_isqrt(struct bn a);
struct bn bn_gcd(struct bn a, struct bn b);
uint64_t bn_low64(struct bn a);

#endif
