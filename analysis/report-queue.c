/* SPDX-License-Identifier: MIT */
/*
 * Queues of decoded batch calls: block lists over a pool of spare blocks.
 */
#include <stdlib.h>

#include "report-queue.h"

struct rp_rec *rp_queue_push_slow(struct rp_queue *q, unsigned k)
{
	struct rp_qblock *b = q->pool->spare;

	if (b)
		q->pool->spare = b->next;
	else if (!(b = malloc(sizeof(*b))))
		return NULL;
	b->next = NULL;
	b->head = 0;
	b->n = k;
	if (q->last)
		q->last->next = b;
	else
		q->first = b;
	q->last = b;
	return b->v;
}

void rp_queue_next_block(struct rp_queue *q)
{
	struct rp_qblock *b = q->first;

	if (!b->next) {
		b->head = b->n = 0;
		return;
	}
	q->first = b->next;
	b->next = q->pool->spare;
	q->pool->spare = b;
}

void rp_queue_clear(struct rp_queue *q)
{
	while (q->first && q->first->next)
		rp_queue_next_block(q);
	if (q->first)
		q->first->head = q->first->n = 0;
}

void rp_queue_fini(struct rp_queue *q)
{
	while (q->first) {
		struct rp_qblock *b = q->first;

		q->first = b->next;
		free(b);
	}
	q->last = NULL;
}

void rp_qpool_fini(struct rp_qpool *pool)
{
	while (pool->spare) {
		struct rp_qblock *b = pool->spare;

		pool->spare = b->next;
		free(b);
	}
}
