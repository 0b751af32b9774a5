/* SPDX-License-Identifier: MIT */
/*
 * Programs that do what real programs do and that LTTng-UST, loaded into
 * them, must survive (misbehave.sh runs each plain and under trackalloc
 * record):
 *
 *   misbehave closeall      close every descriptor above 2 (close, closefrom,
 *                           close_range), then allocate in a group and fork
 *   misbehave pthread-exit  main calls pthread_exit while a thread works
 *   misbehave fork-thread   a thread forks; in the child, that thread (the
 *                           child's only one) calls pthread_exit
 *   misbehave exhaust       map the address space until nothing is left
 *                           (run under ulimit -v), then exit
 *
 * Every mode prints what it did and exits 0 when it went as it should.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trackalloc.h>

static void work(const char *group, int n)
{
	ta_group *g = ta_group_register(group, NULL, 0);
	void *keep[16] = { NULL };
	int i;

	if (!g) {
		perror("ta_group_register");
		exit(3);
	}
	for (i = 0; i < n; i++) {
		TA_GROUP_SCOPE(g);
		free(keep[i % 16]);
		keep[i % 16] = malloc(64 + (size_t)i % 200);
	}
	for (i = 0; i < 16; i++)
		free(keep[i]);
}

static int closeall(void)
{
	pid_t pid;
	int status, fd;

	work("before-close", 500);
	for (fd = 3; fd < 64; fd++)
		close(fd);
	closefrom(3);
	close_range(3, ~0u, 0);
	work("after-close", 500);
	pid = fork();
	if (pid == 0) {
		work("child-after-close", 500);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return 1;
	printf("closed every descriptor above 2, then allocated and forked\n");
	return 0;
}

static void *worker(void *arg)
{
	(void)arg;
	usleep(200 * 1000);
	work("worker", 1000);
	printf("worker done\n");
	fflush(stdout);
	return NULL;
}

static int pthread_exit_main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, worker, NULL))
		return 1;
	printf("main calls pthread_exit\n");
	fflush(stdout);
	pthread_exit(NULL);
}

static void *forker(void *arg)
{
	pid_t pid = fork();
	int status;

	(void)arg;
	if (pid == 0) {
		work("child", 200);
		pthread_exit(NULL); /* the child's only thread */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		printf("the child did not end normally\n");
		exit(1);
	}
	printf("the child forked from a thread ended with status 0\n");
	return NULL;
}

static int fork_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, forker, NULL) || pthread_join(t, NULL))
		return 1;
	return 0;
}

static int exhaust(void)
{
	size_t sz = (size_t)1 << 30;
	unsigned long maps = 0;

	work("before-exhaustion", 200);
	while (sz >= 4096) {
		if (mmap(NULL, sz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			sz /= 2;
		else
			maps++;
	}
	/* how many mappings it took differs with what else the process maps */
	printf("address space exhausted (%s)\n", maps ? "mappings made" : "no mapping made");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "closeall"))
		return closeall();
	if (!strcmp(mode, "pthread-exit"))
		return pthread_exit_main();
	if (!strcmp(mode, "fork-thread"))
		return fork_thread();
	if (!strcmp(mode, "exhaust"))
		return exhaust();
	fprintf(stderr, "usage: misbehave closeall|pthread-exit|fork-thread|exhaust\n");
	return 2;
}
