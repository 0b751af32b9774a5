/* SPDX-License-Identifier: MIT */
/*
 * Fork from a signal handler, in the spirit of glibc's tst-mallocfork2:
 * glibc makes fork async-signal-safe in a single-threaded process, so a
 * handler may fork while the interrupted code is anywhere, including inside
 * malloc, free or an outer fork's atfork handlers. A sender process signals
 * this one in a tight loop while it allocates, frees and forks; every fork
 * (the handler's and the loop's) must return. A deadlock shows up as the
 * test case's timeout.
 *
 * Run with TRACKALLOC_LTTNG=0 (tests/unit/meson.build): LTTng-UST's threads
 * would make the process multithreaded, where glibc itself takes its locks
 * across a fork and no handler may fork. Not in the sanitizer builds: a
 * fork of an ASan process (its shadow memory) is too slow for a storm of
 * them, and TSan's runtime runs a thread of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ta-check.h"

#define LOOP_ITERATIONS 512
#define LOOP_FORK_EVERY 16

static volatile sig_atomic_t handler_forks, handler_failures;

static void fork_in_handler(int sig)
{
	int saved = errno;
	pid_t pid;

	(void)sig;
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		handler_failures++;
	else
		handler_forks++;
	errno = saved;
}

/* Signals @target until killed, with a short pause so that both the
 * allocator and the loop's own forks are caught at every point. */
static void sender(pid_t target)
{
	struct timespec pause = { 0, 1000 * 1000 };

	for (;;) {
		if (kill(target, SIGUSR1) != 0)
			_exit(0);
		nanosleep(&pause, NULL);
	}
}

START_TEST(fork_from_signal_handler)
{
	struct sigaction sa;
	void *keep[32] = { NULL };
	unsigned long i, loop_forks = 0;
	pid_t self = getpid(), snd;
	int status;

	ck_assert_msg(__libc_single_threaded, "the test process must be single-threaded "
	                                      "(TRACKALLOC_LTTNG=0)");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fork_in_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);

	snd = fork();
	ck_assert_int_ge(snd, 0);
	if (snd == 0)
		sender(self);

	for (i = 0; i < LOOP_ITERATIONS; i++) {
		unsigned k = (unsigned)(i % 32);

		tw.free(keep[k]);
		keep[k] = (i % 5) ? tw.malloc(16 + (i * 37) % 3000) : tw.calloc(1, 100 + i % 900);
		if (i % LOOP_FORK_EVERY == 0) {
			pid_t c = fork();

			if (c == 0)
				_exit(0);
			ck_assert_int_gt(c, 0);
			while (waitpid(c, &status, 0) < 0)
				ck_assert_int_eq(errno, EINTR);
			ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
			loop_forks++;
		}
	}
	kill(snd, SIGKILL);
	while (waitpid(snd, NULL, 0) < 0 && errno == EINTR)
		;
	signal(SIGUSR1, SIG_IGN);
	for (i = 0; i < 32; i++)
		tw.free(keep[i]);
	printf("%lu forks in the loop, %d in the handler\n", loop_forks, (int)handler_forks);
	fflush(stdout);
	ck_assert_int_eq(handler_failures, 0);
	ck_assert_uint_gt(handler_forks, 0); /* the signals did come */
	ck_assert_uint_eq(loop_forks, LOOP_ITERATIONS / LOOP_FORK_EVERY);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("fork-signal");
	TCase *tc = tcase_new("fork-signal");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, fork_from_signal_handler);
	suite_add_tcase(s, tc);
	return s;
}
