/* SPDX-License-Identifier: MIT */
/*
 * A process seen through /proc for the attach request: its mappings (is
 * libtrackalloc.so there, is the LTTng-UST provider), its threads' names
 * (the library's loader thread, "ta-attach"), and its caught signals.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "trackalloc.h"

#include "attach-proc.h"

/* Does /proc/PID/maps map a file whose name contains @needle (or, with
 * @needle2, that one too: bit 1)? -1: no such process (or not ours to
 * read). */
static int maps_has(pid_t pid, const char *needle, const char *needle2)
{
	char path[64], line[4096];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (found != 3 && fgets(line, sizeof(line), f)) {
		if (strstr(line, needle))
			found |= 1;
		if (needle2 && strstr(line, needle2))
			found |= 2;
	}
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

/* LTTng-UST is loaded once the provider is mapped and the library's loader
 * thread, "ta-attach", has ended (after the provider's constructors, which
 * register the process with the session daemon, returned). */
enum ap_state ap_check(pid_t pid)
{
	int maps = maps_has(pid, "libtrackalloc.so", "libtrackalloc-lttng.so");

	if (maps < 0)
		return AP_NO_PROCESS;
	if (!(maps & 1))
		return AP_NO_LIBRARY;
	if (maps & 2)
		return has_thread(pid, "ta-attach") ? AP_LOADING : AP_LOADED;
	return catches(pid, TA_ATTACH_SIGNAL) ? AP_CAN_ATTACH : AP_REFUSES;
}

int ap_request(pid_t pid)
{
	union sigval v = { .sival_int = TA_ATTACH_COOKIE };

	return sigqueue(pid, TA_ATTACH_SIGNAL, v) ? -errno : 0;
}

const char *ap_refusal(enum ap_state st)
{
	switch (st) {
	case AP_NO_PROCESS:
		return "does not exist (or its maps are not readable)";
	case AP_NO_LIBRARY:
		return "does not have libtrackalloc.so loaded (run it with "
		       "LD_PRELOAD=libtrackalloc.so.1, or link it with -ltrackalloc)";
	case AP_REFUSES:
		return "does not accept attach requests (it runs with TRACKALLOC_LTTNG=0, "
		       "or the program handles the attach signal itself)";
	default:
		return NULL;
	}
}
