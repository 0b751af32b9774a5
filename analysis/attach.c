/* SPDX-License-Identifier: MIT */
/*
 * trackalloc-attach: ask running processes that have libtrackalloc loaded
 * (preloaded, TRACKALLOC_LTTNG=auto) to load LTTng-UST, and wait until each
 * has done it, so that LTTng sessions see them. The protocol is the one
 * trackalloc.h states: TA_ATTACH_SIGNAL with TA_ATTACH_COOKIE, through
 * sigqueue (attach-proc.c). Used by `trackalloc attach`, `trackalloc record
 * -p` and `trackalloc top -p`.
 *
 *   trackalloc-attach [--timeout SECONDS] PID...
 *   trackalloc-attach --check PID...
 *
 * --check sends nothing: it says, for each process, why an attach would
 * fail (no such process, no libtrackalloc, requests refused).
 *
 * Exit status: 0 when every process has loaded LTTng-UST (with --check:
 * could), 1 when one could not (the reason is printed, one line per
 * process), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach-proc.h"

static const char *prog = "trackalloc-attach";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 0, or 1 with the reason printed, when @st stops an attach. */
static int refused(pid_t pid, enum ap_state st)
{
	const char *why = ap_refusal(st);

	if (!why)
		return 0;
	fprintf(stderr, "%s: process %d %s\n", prog, (int)pid, why);
	return 1;
}

static int attach_one(pid_t pid, double timeout)
{
	enum ap_state st = ap_check(pid);
	double deadline;

	if (st == AP_LOADED)
		return 0;
	if (refused(pid, st))
		return 1;
	deadline = now_s() + timeout;
	/* resent now and then: a request reaches the process only at its next
	 * allocation, and a process that was loading may have forked */
	while (now_s() < deadline) {
		int err = st == AP_LOADING ? 0 : ap_request(pid);

		if (err) {
			fprintf(stderr, "%s: cannot signal process %d: %s\n", prog, (int)pid,
			        strerror(-err));
			return 1;
		}
		for (int i = 0; i < 20 && now_s() < deadline; i++) {
			struct timespec ts = { 0, 25 * 1000000L };

			st = ap_check(pid);
			if (st == AP_LOADED)
				return 0;
			if (st == AP_NO_PROCESS) {
				fprintf(stderr, "%s: process %d exited before it loaded LTTng-UST\n",
				        prog, (int)pid);
				return 1;
			}
			nanosleep(&ts, NULL);
		}
	}
	if (st == AP_LOADING)
		fprintf(stderr, "%s: process %d is still loading LTTng-UST after %.0f s\n", prog,
		        (int)pid, timeout);
	else
		fprintf(stderr,
		        "%s: process %d did not load LTTng-UST within %.0f s (it acts on the "
		        "request at its next malloc)\n",
		        prog, (int)pid, timeout);
	return 1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: %s [--timeout SECONDS] PID...\n       %s --check PID...\n", prog,
	        prog);
}

int main(int argc, char **argv)
{
	double timeout = 10;
	bool check = false;
	int i = 1, status = 0;

	if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (i < argc && !strcmp(argv[i], "--check")) {
		check = true;
		i++;
	} else if (i + 1 < argc && !strcmp(argv[i], "--timeout")) {
		char *end;

		timeout = strtod(argv[i + 1], &end);
		if (*end || !(timeout > 0)) {
			fprintf(stderr, "%s: --timeout needs a positive number of seconds\n", prog);
			return 2;
		}
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (; i < argc; i++) {
		char *end;
		long pid;

		errno = 0;
		pid = strtol(argv[i], &end, 10);
		if (errno || end == argv[i] || *end || pid <= 0 || pid > 0x7fffffff) {
			fprintf(stderr, "%s: '%s' is not a process id\n", prog, argv[i]);
			return 2;
		}
		if (check)
			status |= refused((pid_t)pid, ap_check((pid_t)pid));
		else
			status |= attach_one((pid_t)pid, timeout);
	}
	return status;
}
