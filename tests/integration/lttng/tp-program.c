/* SPDX-License-Identifier: MIT */
/*
 * tp-program: the workloads of the LTTng integration tests. It prints what
 * its trace must show, so that tacheck.py can compare the two:
 *
 *   PID <pid>
 *   TID <tid> <role>                      every thread the program made
 *   GROUP <id> <ntags> <name>             name: rest of the line
 *   TAG <id> <key> <value>                value: rest of the line (may be empty)
 *   ALLOC <tid> <gid> <ptr> <size> <align>        align 0: alloc, else alloc_aligned
 *   FREE <tid> <ptr> <size> <source gid> <current gid>
 *   REALLOC <tid> <in> <out> <old size> <size> <source gid> <gid>
 *   ENTER <tid> <gid> <previous gid>      a guard entered: the group entered, the one before
 *   EXIT <tid> <gid> <restored gid>       a guard exited: the group left, the one after
 *   STATS <gid> <alloc bytes> <alloc objs> <freed bytes> <freed objs> <wrapped live>
 *
 * Expected groups come from the program's own bookkeeping (its own stack of
 * entered groups per thread), not from ta_group_current(), so that a wrong
 * attribution in the library cannot hide behind the same wrong answer here.
 * Records are kept in static memory and printed at the end, from root, so
 * that printing allocates nothing in the program's groups.
 *
 *   tp-program full            tagged groups, nested enters, cross-thread
 *                              frees and reallocs
 *   tp-program late DIR        register + enter, print READY, keep allocating;
 *                              DIR/dump -> ta_statedump(); DIR/exit -> exit
 *   tp-program counters MS     threads allocate for MS ms; final STATS
 *   tp-program threads N       N short-lived threads (waves of 8)
 *   tp-program fork SELF       fork (multithreaded parent), fork+exec /bin/true,
 *                              fork+exec SELF child, posix_spawn /bin/true
 *   tp-program child           what the exec'd child runs
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <trackalloc.h>

extern char **environ;

/* ---- expectations --------------------------------------------------------- */

enum { R_ALLOC, R_FREE, R_REALLOC, R_ENTER, R_EXIT };

struct rec {
	int kind;
	pid_t tid;
	uintptr_t in, ptr;
	size_t old, size, align;
	uint32_t src, gid;
};

#define MAX_RECS 65536
static struct rec recs[MAX_RECS];
static unsigned nrecs;
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_TIDS 256
static struct {
	pid_t tid;
	const char *role;
} tids[MAX_TIDS];
static unsigned ntids;

static void die(const char *what)
{
	fprintf(stderr, "tp-program: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void add_rec(const struct rec *r)
{
	pthread_mutex_lock(&rec_lock);
	if (nrecs < MAX_RECS)
		recs[nrecs++] = *r;
	pthread_mutex_unlock(&rec_lock);
}

static void note_thread(const char *role)
{
	pthread_mutex_lock(&rec_lock);
	if (ntids < MAX_TIDS) {
		tids[ntids].tid = gettid();
		tids[ntids++].role = role;
	}
	pthread_mutex_unlock(&rec_lock);
}

/* The program's own idea of the active group, per thread. */
static __thread uint32_t my_stack[64];
static __thread unsigned my_depth;

static uint32_t my_gid(void)
{
	return my_depth ? my_stack[my_depth - 1] : 0;
}

/* Guards are recorded too (ENTER, EXIT), with the groups of the program's
 * own stack: the trace's group_enter must name the group entered and the one
 * active before, group_exit the group left and the one active after. */
static ta_guard enter(ta_group *g)
{
	struct rec r = { .kind = R_ENTER, .tid = gettid(), .gid = ta_group_id(g),
	                 .src = my_gid() };

	add_rec(&r);
	my_stack[my_depth++] = r.gid;
	return ta_group_enter(g);
}

static void leave(ta_guard *guard)
{
	struct rec r = { .kind = R_EXIT, .tid = gettid(), .gid = my_gid() };

	if (ta_guard_exit(guard) != 0) {
		fprintf(stderr, "tp-program: ta_guard_exit failed\n");
		exit(2);
	}
	my_depth--;
	r.src = my_gid();
	add_rec(&r);
}

/* Block bookkeeping: which group each live block of ours belongs to. */
struct blk {
	void *p;
	size_t n;
	uint32_t gid;
};

static struct blk A(size_t n)
{
	struct blk b = { malloc(n), n, my_gid() };
	struct rec r = { .kind = R_ALLOC, .tid = gettid(), .ptr = (uintptr_t)b.p, .size = n,
	                 .gid = b.gid };

	if (!b.p && n)
		die("malloc");
	if (b.p)
		memset(b.p, 0x5a, n);
	add_rec(&r);
	return b;
}

static struct blk C(size_t nmemb, size_t size)
{
	struct blk b = { calloc(nmemb, size), nmemb * size, my_gid() };
	struct rec r = { .kind = R_ALLOC, .tid = gettid(), .ptr = (uintptr_t)b.p,
	                 .size = b.n, .gid = b.gid };

	if (!b.p)
		die("calloc");
	add_rec(&r);
	return b;
}

static struct blk AL(size_t align, size_t n, int posix)
{
	struct blk b = { NULL, n, my_gid() };
	struct rec r = { .kind = R_ALLOC, .tid = gettid(), .size = n, .align = align,
	                 .gid = b.gid };

	if (posix) {
		if (posix_memalign(&b.p, align, n) != 0)
			die("posix_memalign");
	} else {
		b.p = aligned_alloc(align, n);
		if (!b.p)
			die("aligned_alloc");
	}
	r.ptr = (uintptr_t)b.p;
	add_rec(&r);
	return b;
}

static void F(struct blk *b)
{
	struct rec r = { .kind = R_FREE, .tid = gettid(), .ptr = (uintptr_t)b->p, .size = b->n,
	                 .src = b->gid, .gid = my_gid() };

	free(b->p);
	add_rec(&r);
	b->p = NULL;
}

/* realloc(p, n > 0) of a live block: one realloc event. */
static void R(struct blk *b, size_t n)
{
	struct rec r = { .kind = R_REALLOC, .tid = gettid(), .in = (uintptr_t)b->p,
	                 .old = b->n, .size = n, .src = b->gid, .gid = my_gid() };
	void *q = realloc(b->p, n);

	if (!q)
		die("realloc");
	r.ptr = (uintptr_t)q;
	add_rec(&r);
	b->p = q;
	b->n = n;
	b->gid = r.gid;
}

/* realloc(NULL, n): reported as alloc. */
static struct blk RN(size_t n)
{
	struct blk b = { realloc(NULL, n), n, my_gid() };
	struct rec r = { .kind = R_ALLOC, .tid = gettid(), .ptr = (uintptr_t)b.p, .size = n,
	                 .gid = b.gid };

	if (!b.p)
		die("realloc(NULL)");
	add_rec(&r);
	return b;
}

/* realloc(p, 0): reported as free. */
static void R0(struct blk *b)
{
	struct rec r = { .kind = R_FREE, .tid = gettid(), .ptr = (uintptr_t)b->p, .size = b->n,
	                 .src = b->gid, .gid = my_gid() };

	(void)!realloc(b->p, 0);
	add_rec(&r);
	b->p = NULL;
}

/* ---- output ------------------------------------------------------------------ */

static ta_group *reg(const char *name, const struct ta_tag *tags, size_t ntags)
{
	ta_group *g = ta_group_register(name, tags, ntags);

	if (!g)
		die(name);
	return g;
}

static int print_group(ta_group *g, void *arg)
{
	const struct ta_tag *tags;
	size_t n = ta_group_tags(g, &tags), i;

	(void)arg;
	if (ta_group_id(g) == 0)
		return 0;
	printf("GROUP %u %zu %s\n", ta_group_id(g), n, ta_group_name(g));
	for (i = 0; i < n; i++)
		printf("TAG %u %s %s\n", ta_group_id(g), tags[i].key, tags[i].value);
	return 0;
}

/* Read every group's counters now (the caller is quiescent), print later. */
#define MAX_GROUPS 64
static struct {
	uint32_t id;
	struct ta_stats st;
} stats[MAX_GROUPS];
static unsigned nstats;

static int read_stats(ta_group *g, void *arg)
{
	(void)arg;
	if (nstats < MAX_GROUPS) {
		stats[nstats].id = ta_group_id(g);
		ta_group_stats(g, &stats[nstats++].st);
	}
	return 0;
}

static void print_all(void)
{
	unsigned i;

	printf("PID %d\n", getpid());
	for (i = 0; i < ntids; i++)
		printf("TID %d %s\n", tids[i].tid, tids[i].role);
	ta_group_foreach(print_group, NULL);
	for (i = 0; i < nrecs; i++) {
		const struct rec *r = &recs[i];

		switch (r->kind) {
		case R_ALLOC:
			printf("ALLOC %d %u %#" PRIxPTR " %zu %zu\n", r->tid, r->gid, r->ptr,
			       r->size, r->align);
			break;
		case R_FREE:
			printf("FREE %d %#" PRIxPTR " %zu %u %u\n", r->tid, r->ptr, r->size, r->src,
			       r->gid);
			break;
		case R_REALLOC:
			printf("REALLOC %d %#" PRIxPTR " %#" PRIxPTR " %zu %zu %u %u\n", r->tid,
			       r->in, r->ptr, r->old, r->size, r->src, r->gid);
			break;
		case R_ENTER:
			printf("ENTER %d %u %u\n", r->tid, r->gid, r->src);
			break;
		case R_EXIT:
			printf("EXIT %d %u %u\n", r->tid, r->gid, r->src);
			break;
		}
	}
	for (i = 0; i < nstats; i++)
		printf("STATS %u %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		       stats[i].id, stats[i].st.allocated_bytes, stats[i].st.allocated_objects,
		       stats[i].st.freed_bytes, stats[i].st.freed_objects,
		       stats[i].st.wrapped_bytes_live);
	fflush(stdout);
}

/* Keep the compiler from eliding a malloc/free pair whose block is unused. */
static void *escape(void *p)
{
	__asm__ volatile("" : : "g"(p) : "memory");
	return p;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

/* ---- full ------------------------------------------------------------------ */

static ta_group *g_alpha, *g_beta, *g_gamma, *g_req;
static pthread_barrier_t bar;

struct handoff {
	struct blk alpha_block;   /* allocated by main in alpha, freed by t2 in beta */
	struct blk alpha_block2;  /* allocated by main in alpha, realloc'ed by t3 in gamma */
	struct blk req_blocks[8]; /* allocated by t2 in req, freed by main */
};

static void *full_t2(void *arg)
{
	struct handoff *h = arg;

	note_thread("t2");
	pthread_barrier_wait(&bar); /* 1: main is in alpha */
	{
		ta_guard gb = enter(g_beta);

		F(&h->alpha_block); /* source alpha, current beta, main still in alpha */
		{
			ta_guard gr = enter(g_req);

			for (int i = 0; i < 8; i++)
				h->req_blocks[i] = A(24 + (size_t)i * 100);
			leave(&gr);
		}
		leave(&gb);
	}
	pthread_barrier_wait(&bar); /* 2 */
	return NULL;
}

static void *full_t3(void *arg)
{
	struct handoff *h = arg;

	note_thread("t3");
	pthread_barrier_wait(&bar); /* 1 */
	{
		ta_guard gg = enter(g_gamma);

		R(&h->alpha_block2, 9000); /* source alpha, now gamma, on t3 */
		{
			ta_guard gr = enter(g_req);
			struct blk b = A(4096);

			R(&b, 8192);
			F(&b);
			leave(&gr);
		}
		F(&h->alpha_block2); /* gamma block freed in gamma */
		leave(&gg);
	}
	pthread_barrier_wait(&bar); /* 2 */
	return NULL;
}

static int run_full(void)
{
	static const struct ta_tag alpha_tags[] = { { "component", "parser" }, { "tier", "l1" } };
	static const struct ta_tag beta_tags[] = { { "component", "cache" } };
	static const struct ta_tag req_tags[] = {
		{ "method", "GET" }, { "path", "/api/v1/items?id=42" }, { "note", "" }
	};
	static struct handoff h;
	static struct blk keep[400];
	unsigned nkeep = 0;
	pthread_t t2, t3;

	note_thread("main");
	g_alpha = reg("alpha", alpha_tags, 2);
	g_beta = reg("beta", beta_tags, 1);
	g_gamma = reg("gamma", NULL, 0);
	g_req = reg("request 42 (GET)", req_tags, 3);

	pthread_barrier_init(&bar, NULL, 3);
	if (pthread_create(&t2, NULL, full_t2, &h) || pthread_create(&t3, NULL, full_t3, &h))
		die("pthread_create");
	{
		ta_guard ga = enter(g_alpha);
		struct blk a1 = A(1), a100 = A(100), a4k = A(4000), a0 = A(0);
		struct blk big = A(300000); /* above glibc's mmap threshold */
		struct blk c = C(3, 40), r77 = RN(77);

		h.alpha_block = A(512);
		h.alpha_block2 = A(640);
		{
			ta_guard gb = enter(g_beta);
			struct blk b1 = A(64), b2 = A(200);
			struct blk g1;

			{
				ta_guard gg = enter(g_gamma);
				struct blk al, pm;

				g1 = A(33);
				R(&a100, 5000); /* source alpha -> gamma */
				al = AL(64, 256, 0);
				pm = AL(128, 300, 1);
				F(&pm);
				F(&al);
				leave(&gg);
			}
			F(&c);      /* source alpha, current beta */
			R(&b1, 32); /* beta -> beta */
			R0(&b2);    /* realloc(p, 0): free */
			F(&b1);
			F(&a100); /* source gamma, current beta */
			leave(&gb);
			F(&g1); /* source gamma, current alpha */
		}
		/* The cross-thread part: main stays in alpha while t2 (in beta)
		 * frees an alpha block and t3 (in gamma) reallocs one. */
		pthread_barrier_wait(&bar); /* 1 */
		pthread_barrier_wait(&bar); /* 2 */
		for (unsigned i = 0; i < 300; i++) {
			struct blk b = A(16 + (i * 37) % 497);

			if (i % 3 == 0)
				keep[nkeep++] = b;
			else
				F(&b);
		}
		F(&a1);
		F(&a4k);
		F(&a0);
		F(&big);
		F(&r77);
		leave(&ga);
	}
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	/* In root: free what others allocated (source group, current root),
	 * one of them inside gamma. */
	for (int i = 0; i < 7; i++)
		F(&h.req_blocks[i]);
	{
		ta_guard gg = enter(g_gamma);

		F(&h.req_blocks[7]);
		leave(&gg);
	}
	for (unsigned i = 0; i < nkeep; i++)
		F(&keep[i]);
	ta_group_foreach(read_stats, NULL);
	print_all();
	return 0;
}

/* ---- late ------------------------------------------------------------------ */

static volatile int late_stop;

static void *late_bg(void *arg)
{
	(void)arg;
	note_thread("bg");
	{
		ta_guard gb = enter(g_beta);

		while (!__atomic_load_n(&late_stop, __ATOMIC_RELAXED)) {
			struct blk b = A(48);

			F(&b);
			sleep_ms(5);
		}
		leave(&gb);
	}
	return NULL;
}

static int run_late(const char *dir)
{
	static const struct ta_tag alpha_tags[] = { { "component", "parser" }, { "tier", "l1" } };
	static const struct ta_tag beta_tags[] = { { "component", "cache" } };
	static const struct ta_tag many_tags[] = {
		{ "k0", "v0" }, { "k1", "v1" }, { "k2", "v2" }, { "k3", "v3" },
		{ "k4", "v4" }, { "k5", "with space" }, { "k6", "" }, { "k7", "v7" },
	};
	uint64_t deadline = mono_ns() + 25000000000ull;
	pthread_t bg;
	int dumped = 0;

	note_thread("main");
	g_alpha = reg("alpha", alpha_tags, 2);
	g_beta = reg("beta", beta_tags, 1);
	g_gamma = reg("gamma", NULL, 0);
	g_req = reg("many tags", many_tags, 8);
	if (pthread_create(&bg, NULL, late_bg, NULL))
		die("pthread_create");
	{
		ta_guard ga = enter(g_alpha);
		ta_guard gg = enter(g_gamma);

		/* the records are not kept: this mode runs for an unknown time */
		printf("PID %d\nREADY\n", getpid());
		fflush(stdout);
		while (!exists(dir, "exit")) {
			free(escape(malloc(100)));
			if (!dumped && exists(dir, "dump")) {
				int rc;

				printf("DUMP_START %" PRIu64 "\n", mono_ns());
				rc = ta_statedump();
				printf("DUMPED %d %" PRIu64 "\n", rc, mono_ns());
				fflush(stdout);
				dumped = 1;
			}
			if (mono_ns() > deadline) {
				fprintf(stderr, "tp-program: %s/exit never appeared\n", dir);
				return 3;
			}
			sleep_ms(5);
		}
		leave(&gg);
		leave(&ga);
	}
	__atomic_store_n(&late_stop, 1, __ATOMIC_RELAXED);
	pthread_join(bg, NULL);
	nrecs = 0; /* TIDs and groups only */
	print_all();
	return 0;
}

/* ---- counters -------------------------------------------------------------- */

static uint64_t counters_end;

static void *counters_worker(void *arg)
{
	ta_group *g = arg;
	static __thread struct blk live[64];
	unsigned i = 0;

	note_thread("worker");
	{
		ta_guard gg = enter(g);

		while (mono_ns() < counters_end) {
			struct blk *b = &live[i % 64];

			if (b->p)
				F(b);
			*b = A(16 + (i * 53) % 1000);
			if (i % 7 == 0)
				R(b, b->n + 10);
			if (++i % 256 == 0)
				sleep_ms(1);
		}
		/* leave a third of the blocks live: the counters end unbalanced */
		for (i = 0; i < 64; i++)
			if (live[i].p && i % 3)
				F(&live[i]);
		leave(&gg);
	}
	return NULL;
}

static int run_counters(unsigned ms)
{
	static const struct ta_tag t1[] = { { "mode", "counters" } };
	ta_group *g[3];
	pthread_t th[3];

	note_thread("main");
	g[0] = reg("sampled-a", t1, 1);
	g[1] = reg("sampled-b", NULL, 0);
	g[2] = reg("sampled-c", NULL, 0);
	nrecs = 0;
	counters_end = mono_ns() + (uint64_t)ms * 1000000u;
	for (int i = 0; i < 3; i++)
		if (pthread_create(&th[i], NULL, counters_worker, g[i]))
			die("pthread_create");
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	ta_group_foreach(read_stats, NULL);
	nrecs = 0; /* too many to print; the STATS lines are what counts */
	print_all();
	return 0;
}

/* ---- threads ------------------------------------------------------------------ */

static ta_group *thr_groups[3];
static struct blk pool[4096];
static unsigned npool;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

static void *churn(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	struct blk mine[40];

	note_thread("churn");
	{
		ta_guard gg = enter(thr_groups[k % 3]);

		/* free blocks of threads that have already exited */
		pthread_mutex_lock(&pool_lock);
		for (int i = 0; i < 10 && npool; i++)
			F(&pool[--npool]);
		pthread_mutex_unlock(&pool_lock);
		for (int i = 0; i < 40; i++)
			mine[i] = A(8 + (size_t)((k * 31 + (unsigned)i * 17) % 700));
		for (int i = 0; i < 40; i += 2)
			F(&mine[i]);
		for (int i = 1; i < 40; i += 4)
			R(&mine[i], mine[i].n * 2);
		pthread_mutex_lock(&pool_lock);
		for (int i = 1; i < 40; i += 2)
			if (npool < 4096)
				pool[npool++] = mine[i];
		pthread_mutex_unlock(&pool_lock);
		leave(&gg);
	}
	return NULL;
}

static int run_threads(unsigned n)
{
	static const struct ta_tag tt[] = { { "kind", "churn" } };
	pthread_t th[8];
	unsigned k = 0;

	note_thread("main");
	thr_groups[0] = reg("churn-0", tt, 1);
	thr_groups[1] = reg("churn-1", NULL, 0);
	thr_groups[2] = reg("churn-2", NULL, 0);
	while (k < n) {
		unsigned w = 0;

		for (; w < 8 && k < n; w++, k++)
			if (pthread_create(&th[w], NULL, churn, (void *)(uintptr_t)k))
				die("pthread_create");
		while (w)
			pthread_join(th[--w], NULL);
	}
	while (npool)
		F(&pool[--npool]);
	ta_group_foreach(read_stats, NULL);
	print_all();
	return 0;
}

/* ---- fork and exec -------------------------------------------------------------- */

static volatile int spin_stop;

static void *spinner(void *arg)
{
	ta_group *g = arg;
	ta_guard gg;

	note_thread("spinner");
	gg = ta_group_enter(g);
	for (unsigned i = 0; !__atomic_load_n(&spin_stop, __ATOMIC_RELAXED); i++) {
		void *p = escape(malloc(40));

		p = escape(realloc(p, 80));
		free(p);
		if (i % 8 == 7)
			sleep_ms(1); /* busy, but a trace the test can read quickly */
	}
	ta_guard_exit(&gg);
	return NULL;
}

/* A child reports with write(): stdio would allocate its buffer in the
 * child's current group, and the test wants every allocation a child makes
 * to be one it made on purpose. */
static void say_child(const char *kind, uint32_t gid)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "CHILD %s %d %u\n", kind, getpid(), gid);

	if (n > 0 && write(1, line, (size_t)n) != n)
		_exit(14);
}

static pid_t spawn_child(int how, const char *self)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid)
		return pid;
	switch (how) {
	case 0: { /* stay: allocate, register, trace, exit. The child allocates
		   * nothing but the 100 blocks in its own group. */
		static const struct ta_tag ct[] = { { "origin", "fork" } };
		ta_group *g = ta_group_register("forked-child", ct, 1);
		struct ta_stats st;

		if (!g)
			_exit(10);
		{
			ta_guard gg = ta_group_enter(g);

			for (int i = 0; i < 100; i++)
				free(escape(malloc(100 + (size_t)i)));
			ta_guard_exit(&gg);
		}
		if (ta_group_stats(g, &st) || st.allocated_objects != 100 ||
		    st.freed_objects != 100)
			_exit(11);
		/* give the new watcher time to see the session (late metadata) */
		sleep_ms(300);
		say_child("fork", ta_group_id(g));
		exit(0);
	}
	case 1:
		execl("/bin/true", "true", (char *)NULL);
		_exit(12);
	default:
		execl(self, self, "child", (char *)NULL);
		_exit(13);
	}
}

static int run_fork(const char *self)
{
	static const struct ta_tag pt[] = { { "role", "parent" } };
	ta_group *gp = reg("parent", pt, 1), *gs = reg("spinner", NULL, 0);
	pthread_t th[2];
	pid_t pids[4];
	int status, failed = 0;
	char *argv[] = { "true", NULL };

	note_thread("main");
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, spinner, gs))
			die("pthread_create");
	{
		ta_guard gg = enter(gp);
		struct blk b = A(1000);

		for (int round = 0; round < 2; round++) {
			pids[0] = spawn_child(0, self);
			pids[1] = spawn_child(1, self);
			pids[2] = spawn_child(2, self);
			if (posix_spawn(&pids[3], "/bin/true", NULL, NULL, argv, environ))
				die("posix_spawn");
			for (int i = 0; i < 4; i++) {
				if (waitpid(pids[i], &status, 0) != pids[i])
					die("waitpid");
				if (!WIFEXITED(status) || WEXITSTATUS(status)) {
					fprintf(stderr, "tp-program: child %d (kind %d) status %#x\n",
					        pids[i], i, status);
					failed = 1;
				}
			}
		}
		F(&b);
		leave(&gg);
	}
	__atomic_store_n(&spin_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ta_group_foreach(read_stats, NULL);
	print_all();
	return failed;
}

static int run_child(void)
{
	static const struct ta_tag ct[] = { { "origin", "exec" } };
	ta_group *g;

	/* ids 1..3 are taken, so that exec-child (4) is no group the image
	 * before the exec (the parent's copy: 1 parent, 2 spinner) had */
	reg("exec-pad-1", NULL, 0);
	reg("exec-pad-2", NULL, 0);
	reg("exec-pad-3", NULL, 0);
	g = reg("exec-child", ct, 1);

	note_thread("main");
	{
		ta_guard gg = enter(g);

		for (int i = 0; i < 50; i++) {
			struct blk b = A(64 + (size_t)i);

			F(&b);
		}
		leave(&gg);
	}
	sleep_ms(300); /* as the forked child: let the watcher see the session */
	say_child("exec", ta_group_id(g));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "full") == 0)
		return run_full();
	if (argc >= 3 && strcmp(argv[1], "late") == 0)
		return run_late(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "counters") == 0)
		return run_counters((unsigned)atoi(argv[2]));
	if (argc >= 3 && strcmp(argv[1], "threads") == 0)
		return run_threads((unsigned)atoi(argv[2]));
	if (argc >= 3 && strcmp(argv[1], "fork") == 0)
		return run_fork(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "child") == 0)
		return run_child();
	fprintf(stderr, "usage: tp-program full | late DIR | counters MS | threads N | "
	                "fork SELF | child\n");
	return 2;
}
