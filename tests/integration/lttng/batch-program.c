/* SPDX-License-Identifier: MIT */
/*
 * The moments a compact trace could lose records (batches.sh): each mode
 * makes a known number of allocations of one size nothing else uses, then
 * ends in the way under test, before its buffer has filled a chunk.
 *
 *   batch-program exec N SIZE        allocate, then exec /bin/true
 *   batch-program _exit N SIZE       allocate, then _exit(0)
 *   batch-program threads T N SIZE   T threads allocate N each and exit at
 *                                    once; the main thread joins them
 *   batch-program idle N SIZE DIR    a thread allocates N, then the process
 *                                    waits for DIR/stop (the session is
 *                                    stopped while it waits)
 *   batch-program fork N SIZE        a child of a threaded parent allocates
 *                                    N and exits; the parent allocates N
 *
 * Prints "PID <pid>" (and "CHILD <pid>" for fork) first.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long n_blocks;
static size_t size;

static void allocate(void)
{
	for (long i = 0; i < n_blocks; i++) {
		void *volatile p = malloc(size);

		(void)p; /* kept: the records are what is checked */
	}
}

static void *worker(void *arg)
{
	(void)arg;
	allocate();
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int arg = strcmp(mode, "threads") == 0 ? 3 : 2;

	if (argc < arg + 2) {
		fprintf(stderr, "usage: batch-program exec|_exit|threads T|idle|fork N SIZE [DIR]\n");
		return 2;
	}
	n_blocks = atol(argv[arg]);
	size = (size_t)atol(argv[arg + 1]);
	printf("PID %d\n", getpid());
	fflush(stdout);
	if (strcmp(mode, "exec") == 0) {
		allocate();
		execl("/bin/true", "true", (char *)NULL);
		perror("execl");
		return 1;
	}
	if (strcmp(mode, "_exit") == 0) {
		allocate();
		_exit(0);
	}
	if (strcmp(mode, "threads") == 0) {
		int t = atoi(argv[2]);
		pthread_t th[64];

		for (int i = 0; i < t && i < 64; i++)
			pthread_create(&th[i], NULL, worker, NULL);
		for (int i = 0; i < t && i < 64; i++)
			pthread_join(th[i], NULL);
		return 0;
	}
	if (strcmp(mode, "idle") == 0 && argc > 4) {
		char stop[4096];
		pthread_t th;
		struct stat st;

		pthread_create(&th, NULL, worker, NULL);
		pthread_join(th, NULL);
		allocate(); /* the main thread too, then both are quiet */
		printf("READY\n");
		fflush(stdout);
		snprintf(stop, sizeof(stop), "%s/stop", argv[4]);
		for (int i = 0; i < 3000 && stat(stop, &st) != 0; i++)
			sleep_ms(10);
		return 0;
	}
	if (strcmp(mode, "fork") == 0) {
		pthread_t th;
		pid_t child;
		int status;

		pthread_create(&th, NULL, worker, NULL); /* busy while the fork happens */
		child = fork();
		if (child == 0) {
			allocate();
			exit(0);
		}
		printf("CHILD %d\n", child);
		fflush(stdout);
		pthread_join(th, NULL);
		waitpid(child, &status, 0);
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
	}
	fprintf(stderr, "batch-program: unknown mode '%s'\n", mode);
	return 2;
}
