/* SPDX-License-Identifier: MIT */
/*
 * model-check: trackalloc-report's accounting (analysis/report-model.c)
 * against a plain reference, on random alloc/free/realloc streams.
 *
 * Addresses are drawn from a small pool, so that the live-block map sees
 * long probe runs, wrap-around and many deletions; one stream also frees
 * blocks it never allocated and reuses addresses without a free (lost
 * events), and one replays the realloc race (another thread is given the
 * old address, and its alloc event comes before the realloc's). After every
 * event each group's live bytes and blocks, peak,
 * counts and unknown frees must equal the reference's. Also checks the
 * timeline bound (RP_TIMELINE_MAX) and that its last row is the final value.
 *
 *   model-check [SEED]        exit 0 when all holds
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-model.h"

#define POOL 5000
#define GROUPS 7
#define STEPS 400000

struct ref_block {
	uint64_t size;
	uint32_t gid;
	int live;
};

struct ref_group {
	uint64_t allocs, frees, bytes_alloc, bytes_freed, live, blocks, peak, unknown;
};

static struct ref_block pool[POOL];
static struct ref_group ref[GROUPS];
static int failures;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Addresses 16 apart with the same high bits: neighbours in the hash. */
static uint64_t addr(unsigned i)
{
	return 0x7f0000000000ull + (uint64_t)(i + 1) * 16;
}

static void ref_alloc(unsigned i, uint64_t size, uint32_t gid)
{
	struct ref_group *g = &ref[gid];

	if (pool[i].live) { /* reused without a free: the old block leaves */
		ref[pool[i].gid].live -= pool[i].size;
		ref[pool[i].gid].blocks--;
	}
	pool[i] = (struct ref_block){ size, gid, 1 };
	g->allocs++;
	g->bytes_alloc += size;
	g->live += size;
	g->blocks++;
	if (g->live > g->peak)
		g->peak = g->live;
}

static void ref_free(unsigned i, uint64_t size, uint32_t gid)
{
	ref[gid].frees++;
	ref[gid].bytes_freed += size;
	if (!pool[i].live) {
		ref[gid].unknown++;
		return;
	}
	ref[pool[i].gid].live -= pool[i].size;
	ref[pool[i].gid].blocks--;
	pool[i].live = 0;
}

static void compare(struct rp_proc *p, uint64_t step)
{
	for (uint32_t gid = 0; gid < GROUPS; gid++) {
		struct rp_group *g = rp_proc_find_group(p, gid);
		const struct ref_group *r = &ref[gid];

		if (!g) {
			if (r->allocs || r->frees) {
				printf("step %" PRIu64 ": group %u missing\n", step, gid);
				failures++;
			}
			continue;
		}
		if (g->ev.live_bytes != r->live || g->ev.live_blocks != r->blocks ||
		    g->ev.peak_bytes != r->peak || g->ev.allocs != r->allocs ||
		    g->ev.frees != r->frees || g->ev.bytes_alloc != r->bytes_alloc ||
		    g->ev.bytes_freed != r->bytes_freed || g->unknown_frees != r->unknown) {
			printf("step %" PRIu64 ": group %u: model live %" PRIu64 "/%" PRIu64
			       " peak %" PRIu64 " unknown %" PRIu64 ", reference live %" PRIu64
			       "/%" PRIu64 " peak %" PRIu64 " unknown %" PRIu64 "\n",
			       step, gid, g->ev.live_bytes, g->ev.live_blocks, g->ev.peak_bytes,
			       g->unknown_frees, r->live, r->blocks, r->peak, r->unknown);
			if (++failures > 10)
				exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 42;
	struct rp_model m;
	struct rp_proc *p;
	uint64_t bcount = 0;

	if (!seed)
		seed = 42;
	rp_model_init(&m, 0);
	p = rp_model_proc(&m, 1234);
	if (!p)
		return 1;
	for (uint64_t step = 0; step < STEPS; step++) {
		unsigned i = (unsigned)(rnd(&seed) % POOL);
		uint32_t gid = (uint32_t)(rnd(&seed) % GROUPS);
		uint64_t size = 1 + rnd(&seed) % 4096;
		int64_t ts = (int64_t)step * 10;
		unsigned op = (unsigned)(rnd(&seed) % 100);
		bool ok;

		if (op < 45 || (op < 90 && !pool[i].live)) {
			/* mostly fresh addresses; 1 in 20 reuses a live one */
			if (pool[i].live && op % 20)
				continue;
			ref_alloc(i, size, gid);
			ok = rp_on_alloc(p, ts, addr(i), size, gid);
		} else if (op < 90) {
			uint64_t sz = pool[i].size;
			uint32_t src = pool[i].gid;

			ref_free(i, sz, src);
			ok = rp_on_free(p, ts, addr(i), sz, src);
		} else if (op < 98 && pool[i].live) {
			unsigned j = (unsigned)(rnd(&seed) % POOL);
			uint64_t old = pool[i].size;
			uint32_t src = pool[i].gid;

			if (j != i && pool[j].live)
				j = i; /* in place */
			ref_free(i, old, src);
			ref_alloc(j, size, gid);
			ok = rp_on_realloc(p, ts, addr(i), addr(j), old, size, src, gid);
		} else if (op == 98 && pool[i].live) {
			/* realloc race: X is reused by another alloc before the
			 * realloc(X -> Y) event arrives; the new block at X stays */
			unsigned j = (unsigned)(rnd(&seed) % POOL);
			uint64_t old = pool[i].size;
			uint32_t src = pool[i].gid, other = (src + 1) % GROUPS; /* tells them apart */

			if (pool[j].live || j == i)
				continue;
			ref_alloc(i, 100, other);
			ref[src].frees++;
			ref[src].bytes_freed += old;
			ref[src].unknown++;
			ref_alloc(j, size, gid);
			ok = rp_on_alloc(p, ts, addr(i), 100, other) &&
			     rp_on_realloc(p, ts + 1, addr(i), addr(j), old, size, src, gid);
		} else {
			/* a free of a block never allocated in the trace */
			unsigned k = POOL + (unsigned)(rnd(&seed) % 1000);

			ref[gid].frees++;
			ref[gid].bytes_freed += size;
			ref[gid].unknown++;
			ok = rp_on_free(p, ts, addr(k), size, gid);
		}
		if (!ok) {
			puts("out of memory");
			return 1;
		}
		if (step % 997 == 0)
			compare(p, step);
	}
	compare(p, STEPS);
	for (unsigned i = 0; i < POOL; i++)
		bcount += pool[i].live;
	if (p->bcount != bcount) {
		printf("map holds %" PRIu64 " blocks, reference %" PRIu64 "\n", p->bcount, bcount);
		failures++;
	}
	if (!rp_model_finish(&m)) {
		puts("out of memory");
		return 1;
	}
	for (uint32_t gid = 0; gid < GROUPS; gid++) {
		struct rp_group *g = rp_proc_find_group(p, gid);

		if (!g)
			continue;
		if (g->tl_ev.n == 0 || g->tl_ev.n > RP_TIMELINE_MAX ||
		    g->tl_ev.pts[g->tl_ev.n - 1].live != g->ev.live_bytes) {
			printf("group %u: timeline of %u rows ending at %" PRIu64 ", live %" PRIu64 "\n",
			       gid, g->tl_ev.n, g->tl_ev.n ? g->tl_ev.pts[g->tl_ev.n - 1].live : 0,
			       g->ev.live_bytes);
			failures++;
		}
		for (uint32_t k = 1; k < g->tl_ev.n; k++) {
			if (g->tl_ev.pts[k].ts < g->tl_ev.pts[k - 1].ts) {
				printf("group %u: timeline out of order at row %u\n", gid, k);
				failures++;
				break;
			}
		}
	}
	rp_model_fini(&m);
	printf("%d steps, %d failures\n", STEPS, failures);
	return failures ? 1 : 0;
}
