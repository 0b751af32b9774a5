/* SPDX-License-Identifier: MIT */
/*
 * trackalloc-attach: ask running processes that have libtrackalloc loaded
 * (preloaded, TRACKALLOC_LTTNG=auto) to load LTTng-UST, and wait until each
 * has done it, so that LTTng sessions see them. The protocol is the one
 * trackalloc.h states: TA_ATTACH_SIGNAL with TA_ATTACH_COOKIE, through
 * sigqueue. Used by `trackalloc attach` and `trackalloc record -p`.
 *
 *   trackalloc-attach [--timeout SECONDS] PID...
 *
 * Exit status: 0 when every process has loaded LTTng-UST, 1 when one could
 * not (the reason is printed), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trackalloc.h"

static const char *prog = "trackalloc-attach";

/* Does /proc/PID/maps map a file whose name contains @needle? -1: no such
 * process (or not ours to read). */
static int maps_has(pid_t pid, const char *needle)
{
	char path[64], line[4096];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

/* Is a thread of PID named @name? */
static bool has_thread(pid_t pid, const char *name)
{
	char path[320], comm[64];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			found = strcmp(comm, name) == 0;
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Does PID catch signal @sig (SigCgt in /proc/PID/status)? */
static bool catches(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigCgt: %llx", &mask) == 1)
			break;
	fclose(f);
	return sig >= 1 && sig <= 64 && (mask >> (sig - 1)) & 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* LTTng-UST is loaded once the provider is mapped and the library's loader
 * thread, "ta-attach", has ended (after the provider's constructors, which
 * register the process with the session daemon, returned). */
static bool loaded(pid_t pid)
{
	return maps_has(pid, "libtrackalloc-lttng.so") == 1 && !has_thread(pid, "ta-attach");
}

static int attach_one(pid_t pid, double timeout)
{
	union sigval v = { .sival_int = TA_ATTACH_COOKIE };
	double deadline;
	int lib = maps_has(pid, "libtrackalloc.so");

	if (lib < 0) {
		fprintf(stderr, "%s: no process %d (or its maps are not readable)\n", prog, (int)pid);
		return 1;
	}
	if (!lib) {
		fprintf(stderr, "%s: process %d does not have libtrackalloc.so loaded\n", prog,
		        (int)pid);
		return 1;
	}
	if (loaded(pid))
		return 0;
	if (!catches(pid, TA_ATTACH_SIGNAL)) {
		fprintf(stderr,
		        "%s: process %d does not accept attach requests (it runs with "
		        "TRACKALLOC_LTTNG=0, or the program handles signal %d itself)\n",
		        prog, (int)pid, TA_ATTACH_SIGNAL);
		return 1;
	}
	deadline = now_s() + timeout;
	/* resent now and then: a request reaches the process only at its next
	 * allocation, and a process that was loading may have forked */
	while (now_s() < deadline) {
		if (sigqueue(pid, TA_ATTACH_SIGNAL, v) != 0) {
			fprintf(stderr, "%s: cannot signal process %d: %s\n", prog, (int)pid,
			        strerror(errno));
			return 1;
		}
		for (int i = 0; i < 20 && now_s() < deadline; i++) {
			struct timespec ts = { 0, 25 * 1000000L };

			if (loaded(pid))
				return 0;
			nanosleep(&ts, NULL);
		}
	}
	if (maps_has(pid, "libtrackalloc-lttng.so") == 1)
		fprintf(stderr, "%s: process %d is still loading LTTng-UST after %.0f s\n", prog,
		        (int)pid, timeout);
	else
		fprintf(stderr,
		        "%s: process %d did not load LTTng-UST within %.0f s (it acts on the "
		        "request at its next malloc)\n",
		        prog, (int)pid, timeout);
	return 1;
}

int main(int argc, char **argv)
{
	double timeout = 10;
	int i = 1, status = 0;

	if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
		printf("usage: %s [--timeout SECONDS] PID...\n", prog);
		return 0;
	}
	if (i + 1 < argc && !strcmp(argv[i], "--timeout")) {
		char *end;

		timeout = strtod(argv[i + 1], &end);
		if (*end || !(timeout > 0)) {
			fprintf(stderr, "%s: --timeout needs a positive number of seconds\n", prog);
			return 2;
		}
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s [--timeout SECONDS] PID...\n", prog);
		return 2;
	}
	for (; i < argc; i++) {
		char *end;
		long pid = strtol(argv[i], &end, 10);

		if (*end || pid <= 0 || pid > 0x7fffffff) {
			fprintf(stderr, "%s: '%s' is not a process id\n", prog, argv[i]);
			return 2;
		}
		status |= attach_one((pid_t)pid, timeout);
	}
	return status;
}
