/* SPDX-License-Identifier: MIT */
/*
 * span-server: a small worker-pool "server" whose requests are spans.
 *
 * The main thread accepts requests of three kinds (get, put, scan). Each
 * request gets a span id of its own, bound to the group of its kind
 * ("req:get", "req:put", "req:scan"). Its work then moves across three
 * worker threads, one stage each: parse, execute, reply. Every stage enters
 * the request's span, allocates or frees, and exits it, so whatever thread
 * runs the stage, its memory is charged to the request's kind. When the reply
 * is sent the span is unbound. At the end the program prints each kind's
 * counters; under `trackalloc record` the trace shows the same spans.
 *
 *   trackalloc-span-server [REQUESTS]     (default 300)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trackalloc.h>

enum kind { GET, PUT, SCAN, KINDS };

static const char *const kind_name[KINDS] = { "get", "put", "scan" };
static ta_group *kind_group[KINDS];

struct request {
	struct request *next; /* in a stage's queue */
	uint64_t span;
	enum kind kind;
	unsigned seq;
	char *key;      /* parse -> execute */
	char *value;    /* put: parse -> the store */
	char *response; /* execute -> reply */
};

/* A stage's input: a FIFO of requests; NULL tells the stage to stop. */
struct queue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct request *head, **tail;
	int closed;
};

static void queue_init(struct queue *q)
{
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->ready, NULL);
	q->head = NULL;
	q->tail = &q->head;
	q->closed = 0;
}

static void queue_push(struct queue *q, struct request *r)
{
	pthread_mutex_lock(&q->lock);
	if (r) {
		r->next = NULL;
		*q->tail = r;
		q->tail = &r->next;
	} else {
		q->closed = 1;
	}
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

static struct request *queue_pop(struct queue *q)
{
	struct request *r;

	pthread_mutex_lock(&q->lock);
	while (!q->head && !q->closed)
		pthread_cond_wait(&q->ready, &q->lock);
	r = q->head;
	if (r) {
		q->head = r->next;
		if (!q->head)
			q->tail = &q->head;
	}
	pthread_mutex_unlock(&q->lock);
	return r;
}

static struct queue parse_q, execute_q, reply_q;

/* What put requests store outlives them: it stays charged to "req:put". */
#define STORE_SLOTS 64
static char *store[STORE_SLOTS];
static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;

/* Stages that found the wrong group active, and stages run. */
static unsigned long misplaced, stages;

static void fail(const char *what, int err)
{
	fprintf(stderr, "span-server: %s: %s\n", what, strerror(err));
	exit(1);
}

/* Enter @r's span on this thread; every stage starts here. */
static void stage_enter(struct request *r)
{
	int ret = ta_span_enter(r->span);

	if (ret)
		fail("ta_span_enter", -ret);
	if (ta_group_current() != kind_group[r->kind])
		__atomic_add_fetch(&misplaced, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stages, 1, __ATOMIC_RELAXED);
}

static void stage_exit(uint64_t span)
{
	int ret = ta_span_exit(span);

	if (ret)
		fail("ta_span_exit", -ret);
}

/* A block of @size bytes holding "@what @n". */
static char *alloc_text(size_t size, const char *what, unsigned n)
{
	char *p = malloc(size);

	if (!p)
		fail("malloc", ENOMEM);
	snprintf(p, size, "%s %u", what, n);
	return p;
}

/* Stage 1: parse the request line into a key (and a value for put). */
static void *parse_stage(void *arg)
{
	struct request *r;

	(void)arg;
	while ((r = queue_pop(&parse_q))) {
		stage_enter(r);
		r->key = alloc_text(32, "key", r->seq % 50);
		if (r->kind == PUT)
			r->value = alloc_text(512, "value", r->seq);
		stage_exit(r->span);
		queue_push(&execute_q, r);
	}
	queue_push(&execute_q, NULL);
	return NULL;
}

/* Stage 2: run it. A scan needs scratch space; a put keeps its value. */
static void *execute_stage(void *arg)
{
	struct request *r;

	(void)arg;
	while ((r = queue_pop(&execute_q))) {
		char *old = NULL;

		stage_enter(r);
		switch (r->kind) {
		case GET:
			r->response = alloc_text(256, "found", r->seq);
			break;
		case PUT:
			pthread_mutex_lock(&store_lock);
			old = store[r->seq % STORE_SLOTS];
			store[r->seq % STORE_SLOTS] = r->value;
			pthread_mutex_unlock(&store_lock);
			r->value = NULL;
			free(old); /* an older put's value: credited to req:put */
			r->response = alloc_text(64, "stored", r->seq);
			break;
		case SCAN:
			for (int i = 0; i < 4; i++)
				free(alloc_text(4096, "page", (unsigned)i));
			r->response = alloc_text(1024, "rows", r->seq);
			break;
		default:
			break;
		}
		free(r->key);
		r->key = NULL;
		stage_exit(r->span);
		queue_push(&reply_q, r);
	}
	queue_push(&reply_q, NULL);
	return NULL;
}

/* Stage 3: send the reply, retire the request and its span. */
static void *reply_stage(void *arg)
{
	struct request *r;
	int ret;

	(void)arg;
	while ((r = queue_pop(&reply_q))) {
		uint64_t span = r->span;

		stage_enter(r);
		free(r->response);
		free(r);
		stage_exit(span);
		ret = ta_span_unbind(span);
		if (ret)
			fail("ta_span_unbind", -ret);
	}
	return NULL;
}

/* The main thread accepts a request: a new span, bound to its kind's group;
 * the request itself is allocated inside the span. */
static void accept_request(unsigned seq)
{
	enum kind kind = (enum kind)(seq % KINDS);
	uint64_t span = 0x5e55000000000000ull | seq;
	struct request *r;
	int ret;

	ret = ta_span_bind(span, kind_group[kind]);
	if (ret)
		fail("ta_span_bind", -ret);
	ret = ta_span_enter(span);
	if (ret)
		fail("ta_span_enter", -ret);
	r = calloc(1, sizeof(*r));
	ret = ta_span_exit(span);
	if (!r)
		fail("calloc", ENOMEM);
	if (ret)
		fail("ta_span_exit", -ret);
	r->span = span;
	r->kind = kind;
	r->seq = seq;
	queue_push(&parse_q, r);
}

int main(int argc, char **argv)
{
	unsigned requests = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 300;
	void *(*const stage_fn[3])(void *) = { parse_stage, execute_stage, reply_stage };
	pthread_t worker[3];
	int i;

	for (i = 0; i < KINDS; i++) {
		char name[16];
		const struct ta_tag tag = { "kind", kind_name[i] };

		snprintf(name, sizeof(name), "req:%s", kind_name[i]);
		kind_group[i] = ta_group_register(name, &tag, 1);
		if (!kind_group[i])
			fail("ta_group_register", errno);
	}
	queue_init(&parse_q);
	queue_init(&execute_q);
	queue_init(&reply_q);
	for (i = 0; i < 3; i++)
		if (pthread_create(&worker[i], NULL, stage_fn[i], NULL))
			fail("pthread_create", EAGAIN);

	for (unsigned seq = 0; seq < requests; seq++)
		accept_request(seq);
	queue_push(&parse_q, NULL);
	for (i = 0; i < 3; i++)
		pthread_join(worker[i], NULL);

	printf("span-server: %u requests, 3 stages on 3 worker threads, one span per request\n\n",
	       requests);
	printf("%-10s %8s %8s %10s %10s\n", "group", "allocs", "frees", "bytes", "live");
	for (i = 0; i < KINDS; i++) {
		struct ta_stats s;

		if (ta_group_stats(kind_group[i], &s))
			fail("ta_group_stats", EINVAL);
		printf("%-10s %8llu %8llu %10llu %10llu\n", ta_group_name(kind_group[i]),
		       (unsigned long long)s.allocated_objects, (unsigned long long)s.freed_objects,
		       (unsigned long long)s.allocated_bytes,
		       (unsigned long long)(s.allocated_bytes - s.freed_bytes));
	}
	printf("\n%lu stages entered their request's span; %lu found another group active\n",
	       stages, misplaced);

	for (i = 0; i < STORE_SLOTS; i++)
		free(store[i]);
	return misplaced ? 1 : 0;
}
