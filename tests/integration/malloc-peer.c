/* SPDX-License-Identifier: MIT */
/*
 * A peer suite in the spirit of glibc's own malloc tests (tst-mallocfork2,
 * tst-free-errno, tst-memalign, tst-calloc, tst-malloc-thread-exit, ...),
 * written here against the public API only, so that it runs the same on
 * the plain allocator and under the preload (malloc-peer.sh compares).
 * Each case prints "PASS name" or "FAIL name: why"; the exit status is the
 * number of failed cases.
 *
 *   malloc-peer [CASE...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
static char why[256];

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			snprintf(why, sizeof(why), __VA_ARGS__);          \
			return false;                                     \
		}                                                         \
	} while (0)

/* Calls through volatile pointers: the compiler may not fold them away. */
static void *(*volatile p_malloc)(size_t) = malloc;
static void (*volatile p_free)(void *) = free;
static void *(*volatile p_calloc)(size_t, size_t) = calloc;
static void *(*volatile p_realloc)(void *, size_t) = realloc;

/* ---- fork from a signal handler (tst-mallocfork2) ----------------------- */

static volatile sig_atomic_t handler_forks, handler_errors;

static void fork_handler(int sig)
{
	int saved = errno;
	pid_t pid = fork();

	(void)sig;
	if (pid == 0)
		_exit(0);
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		handler_errors++;
	else
		handler_forks++;
	errno = saved;
}

static bool case_fork_signal(void)
{
	struct sigaction sa = { .sa_handler = fork_handler, .sa_flags = SA_RESTART };
	pid_t self = getpid(), sender;
	void *keep[32] = { NULL };
	int i, status;

	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
	sender = fork();
	CHECK(sender >= 0, "fork");
	if (sender == 0) {
		struct timespec pause = { 0, 1000 * 1000 };

		while (kill(self, SIGUSR1) == 0)
			nanosleep(&pause, NULL);
		_exit(0);
	}
	for (i = 0; i < 512; i++) {
		p_free(keep[i % 32]);
		keep[i % 32] = p_malloc(16 + (size_t)(i * 37) % 5000);
		if (i % 16 == 0) {
			pid_t c = fork();

			if (c == 0)
				_exit(0);
			CHECK(c > 0, "fork in the loop");
			while (waitpid(c, &status, 0) < 0)
				CHECK(errno == EINTR, "waitpid");
		}
	}
	kill(sender, SIGKILL);
	while (waitpid(sender, NULL, 0) < 0 && errno == EINTR)
		;
	signal(SIGUSR1, SIG_IGN);
	for (i = 0; i < 32; i++)
		p_free(keep[i]);
	CHECK(handler_errors == 0, "%d forks in the handler failed", (int)handler_errors);
	CHECK(handler_forks > 0, "no signal came");
	return true;
}

/* ---- threads exit with live blocks (tst-malloc-thread-exit) ------------- */

#define LIVE_THREADS 8
#define LIVE_BLOCKS 500

static void *leave_blocks(void *arg)
{
	void **out = arg;
	int i;

	for (i = 0; i < LIVE_BLOCKS; i++) {
		out[i] = p_malloc(8 + (size_t)i * 3);
		if (!out[i])
			return (void *)1;
		memset(out[i], i & 0xff, 8 + (size_t)i * 3);
	}
	return NULL;
}

static bool case_thread_exit(void)
{
	static void *blocks[3][LIVE_THREADS][LIVE_BLOCKS];
	int round, t, i;

	/* three generations: each frees the blocks the last one left behind */
	for (round = 0; round < 3; round++) {
		pthread_t th[LIVE_THREADS];
		void *ret;

		for (t = 0; t < LIVE_THREADS; t++)
			CHECK(pthread_create(&th[t], NULL, leave_blocks, blocks[round][t]) == 0,
			      "pthread_create");
		for (t = 0; t < LIVE_THREADS; t++) {
			CHECK(pthread_join(th[t], &ret) == 0 && ret == NULL, "a thread failed");
		}
		if (round > 0)
			for (t = 0; t < LIVE_THREADS; t++)
				for (i = 0; i < LIVE_BLOCKS; i++)
					p_free(blocks[round - 1][t][i]);
	}
	for (t = 0; t < LIVE_THREADS; t++)
		for (i = 0; i < LIVE_BLOCKS; i++) {
			unsigned char *b = blocks[2][t][i];

			CHECK(b[0] == (i & 0xff) && b[7 + i * 3] == (i & 0xff),
			      "a block left by an exited thread changed");
			p_free(b);
		}
	return true;
}

/* ---- allocation failure ----------------------------------------------- */

static bool case_failure(void)
{
	void *p;
	int err;

	errno = 0;
	CHECK(p_malloc(SIZE_MAX) == NULL && errno == ENOMEM, "malloc(SIZE_MAX)");
	errno = 0;
	CHECK(p_malloc(PTRDIFF_MAX + (size_t)1) == NULL && errno == ENOMEM, "malloc(PTRDIFF_MAX+1)");
	errno = 0;
	CHECK(p_calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM, "calloc overflow");
	errno = 0;
	CHECK(reallocarray(NULL, SIZE_MAX / 2, p_malloc == malloc ? 3 : 2) == NULL &&
	          errno == ENOMEM,
	      "reallocarray overflow");
	p = p_malloc(100);
	CHECK(p, "malloc(100)");
	memset(p, 7, 100);
	errno = 0;
	CHECK(p_realloc(p, SIZE_MAX - 4096) == NULL && errno == ENOMEM, "realloc huge");
	CHECK(((unsigned char *)p)[99] == 7, "a failed realloc changed the block");
	p_free(p);
	err = posix_memalign(&p, 3, 64);
	CHECK(err == EINVAL, "posix_memalign(3): %d", err);
	err = posix_memalign(&p, sizeof(void *) / 2, 64);
	CHECK(err == EINVAL, "posix_memalign(4): %d", err);
	err = posix_memalign(&p, 64, SIZE_MAX - 32);
	CHECK(err == ENOMEM, "posix_memalign huge: %d", err);
	errno = 0;
	CHECK(memalign(64, SIZE_MAX - 32) == NULL && errno == ENOMEM, "memalign huge");
	return true;
}

/* Under an address-space limit (tst-free-errno): allocations fail with
 * ENOMEM, and free keeps errno, also for blocks that were mmapped. */
static bool case_limit_errno(void)
{
	struct rlimit old, lim;
	void *big[64] = { NULL }, *small;
	int i, n = 0;

	CHECK(getrlimit(RLIMIT_AS, &old) == 0, "getrlimit");
	lim = old;
	lim.rlim_cur = 512ul << 20;
	CHECK(setrlimit(RLIMIT_AS, &lim) == 0, "setrlimit");
	for (i = 0; i < 64; i++) {
		errno = 0;
		big[i] = p_malloc(32u << 20);
		if (!big[i]) {
			CHECK(errno == ENOMEM, "a failing malloc set errno %d", errno);
			break;
		}
		n++;
	}
	small = p_malloc(100);
	for (i = 0; i < 64; i++) {
		errno = ENOENT;
		p_free(big[i]);
		CHECK(errno == ENOENT, "free changed errno to %d", errno);
	}
	errno = ENOENT;
	p_free(small);
	CHECK(errno == ENOENT, "free changed errno");
	setrlimit(RLIMIT_AS, &old);
	CHECK(n > 0 && n < 64, "%d allocations of 32 MiB under a 512 MiB limit", n);
	return true;
}

/* ---- every alignment entry point (tst-memalign, tst-posix_memalign, ...) */

static bool aligned_ok(void *p, size_t align, size_t n)
{
	if (!p || ((uintptr_t)p & (align - 1)))
		return false;
	memset(p, 0x5a, n);
	return malloc_usable_size(p) >= n;
}

static bool case_alignment(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), align, n;

	for (align = 1; align <= ((size_t)1 << 20); align <<= 1)
		for (n = 0; n <= 3 * align && n <= 70000; n += align / 2 + 1) {
			void *p = memalign(align, n), *q = NULL;
			int err = posix_memalign(&q, align < sizeof(void *) ? sizeof(void *) : align, n);
			void *r = aligned_alloc(align, n);

			CHECK(aligned_ok(p, align, n), "memalign(%zu, %zu)", align, n);
			CHECK(err == 0 && aligned_ok(q, align < sizeof(void *) ? sizeof(void *) : align, n),
			      "posix_memalign(%zu, %zu)", align, n);
			CHECK(aligned_ok(r, align, n), "aligned_alloc(%zu, %zu)", align, n);
			/* realloc keeps the contents of an aligned block */
			p = p_realloc(p, n + 100);
			CHECK(p && (n == 0 || ((unsigned char *)p)[n - 1] == 0x5a),
			      "realloc of an aligned block");
			p_free(p);
			p_free(q);
			p_free(r);
		}
	for (n = 0; n < 5 * page; n += page / 3) {
		void *v = valloc(n), *pv = pvalloc(n);

		CHECK(aligned_ok(v, page, n), "valloc(%zu)", n);
		CHECK(aligned_ok(pv, page, n), "pvalloc(%zu)", n);
		p_free(v);
		p_free(pv);
	}
	return true;
}

/* ---- semantics of the rest (tst-calloc, tst-realloc, tst-malloc-usable) -- */

static bool case_semantics(void)
{
	unsigned char *p;
	size_t i, n;

	/* calloc zeroes, also memory that held something before */
	for (n = 1; n < 300000; n = n * 3 + 7) {
		p = p_malloc(n);
		CHECK(p, "malloc(%zu)", n);
		memset(p, 0xff, n);
		p_free(p);
		p = p_calloc(1, n);
		CHECK(p, "calloc(%zu)", n);
		for (i = 0; i < n; i++)
			CHECK(p[i] == 0, "calloc(%zu) not zero at %zu", n, i);
		p_free(p);
	}
	/* realloc grows and shrinks keeping the contents; NULL acts as malloc */
	p = p_realloc(NULL, 10);
	CHECK(p, "realloc(NULL)");
	for (i = 0; i < 10; i++)
		p[i] = (unsigned char)i;
	for (n = 10; n < 1000000; n = n * 2 + 1) {
		p = p_realloc(p, n);
		CHECK(p && p[9] == 9 && p[0] == 0, "realloc to %zu lost the contents", n);
	}
	p = p_realloc(p, 5);
	CHECK(p && p[4] == 4, "shrinking realloc");
	/* glibc: realloc(p, 0) frees p and returns NULL */
	errno = 0;
	CHECK(p_realloc(p, 0) == NULL, "realloc(p, 0) returned a block");
	/* usable size covers the request; free(NULL) is a no-op */
	for (n = 0; n < 5000; n += 17) {
		p = p_malloc(n);
		CHECK(p && malloc_usable_size(p) >= n, "malloc_usable_size(malloc(%zu))", n);
		memset(p, 1, malloc_usable_size(p)); /* all of it is the caller's */
		p_free(p);
	}
	CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL)");
	p_free(NULL);
	return true;
}

/* ---- the allocator's own state (tst-mallopt, tst-malloc-trim) ----------- */

/*
 * A preload must leave glibc's tuning where the program would find it: a
 * first block of 300 KB (over the 128 KiB default mmap threshold) is
 * mmapped. glibc raises the threshold to the size of each mmapped block it
 * frees (up to 32 MiB): a preload that freed an mmapped megabyte at start-up
 * would have sent this block to the heap.
 * Only meaningful where mallinfo2 describes the allocator in use: glibc.
 */
static bool case_mmap_threshold(void)
{
	struct mallinfo2 before = mallinfo2(), after;
	void *p = p_malloc(300000);

	CHECK(p, "malloc(300000)");
	after = mallinfo2();
	CHECK(after.hblks == before.hblks + 1,
	      "malloc(300000) came from the heap (mmapped blocks %zu -> %zu): "
	      "the mmap threshold is not glibc's default", before.hblks, after.hblks);
	p_free(p);
	return true;
}

static const struct {
	const char *name;
	bool (*fn)(void);
} cases[] = {
	{ "fork-signal", case_fork_signal },   { "thread-exit", case_thread_exit },
	{ "failure", case_failure },           { "limit-errno", case_limit_errno },
	{ "alignment", case_alignment },       { "semantics", case_semantics },
	{ "mmap-threshold", case_mmap_threshold },
};

int main(int argc, char **argv)
{
	size_t i;
	int a;

	setvbuf(stdout, NULL, _IONBF, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool wanted = argc < 2;

		for (a = 1; a < argc; a++)
			wanted |= strcmp(argv[a], cases[i].name) == 0;
		if (!wanted)
			continue;
		why[0] = '\0';
		if (cases[i].fn()) {
			printf("PASS %s\n", cases[i].name);
		} else {
			printf("FAIL %s: %s\n", cases[i].name, why);
			failures++;
		}
	}
	return failures;
}
