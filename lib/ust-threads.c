/* SPDX-License-Identifier: MIT */
/*
 * LTTng-UST's own threads, and the list they are recognised by. What they
 * allocate counts in root and emits nothing, like any allocation made by
 * the library itself; their closes are not the program's (fdguard.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ta-internal.h"
#include "trace-internal.h"

/*
 * LTTng-UST starts its listener threads while its constructor runs, inside
 * our dlopen of the provider (and again in lttng_ust_after_fork_child). The
 * threads that appear across those calls are LTTng-UST's: what they allocate
 * counts in root and emits nothing, like any allocation made by the library
 * itself. A name alone would not do (a program may name its threads
 * anything), nor the window alone once the provider loads late, while the
 * program's own threads start: a listed thread is new across the load and
 * carries LTTng-UST's name.
 */
#define TA_UST_TIDS_MAX 16
static pid_t ta_ust_tids[TA_UST_TIDS_MAX];
static int ta_ust_ntids;
/* Non-zero while LTTng-UST may be starting threads we have not listed yet:
 * every hook is muted and no thread is classified meanwhile. */
int ta_ust_starting;

int ta_task_list(pid_t *tids, int max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (e->d_name[0] != '.')
			tids[n++] = (pid_t)atoi(e->d_name);
	closedir(d);
	return n;
}

/*
 * LTTng-UST 2.13 names its threads after the process with "-ust" appended
 * (truncated to 15 characters). A loaded-late provider starts them while
 * the program's own threads run, so a new thread must also carry that name.
 */
static bool ta_task_is_ust(pid_t tid)
{
	char path[64], name[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true; /* gone or unreadable: the window alone decides */
	n = read(fd, name, sizeof(name) - 1);
	close(fd);
	if (n <= 0)
		return true;
	while (n > 0 && name[n - 1] == '\n')
		n--;
	return n >= 4 && memcmp(name + n - 4, "-ust", 4) == 0;
}

/* Remember the LTTng-UST threads in the current task list that were not in
 * @before. */
void ta_ust_tids_record(const pid_t *before, int nbefore)
{
	pid_t after[256];
	int nafter = ta_task_list(after, 256), i, j;

	for (i = 0; i < nafter && ta_ust_ntids < TA_UST_TIDS_MAX; i++) {
		for (j = 0; j < nbefore && before[j] != after[i]; j++)
			;
		if (j == nbefore && ta_task_is_ust(after[i]))
			ta_ust_tids[ta_ust_ntids++] = after[i];
	}
}

bool ta_ust_tid_listed(pid_t tid)
{
	int i;

	for (i = 0; i < ta_ust_ntids; i++)
		if (ta_ust_tids[i] == tid)
			return true;
	return false;
}

/*
 * A thread's first hook classifies it: LTTng-UST's own threads are treated
 * as library code for good from then on (they enter a library-internal
 * section they never leave, so they count in root). Returns whether the
 * hook is muted.
 */
bool ta_trace_thread_classify(struct ta_tls *t)
{
	if (__atomic_load_n(&ta_ust_starting, __ATOMIC_ACQUIRE))
		return true; /* classify once LTTng-UST's threads are listed */
	if (!ta_ust_tid_listed(gettid())) {
		t->kind = TA_THREAD_PROGRAM;
		return false;
	}
	t->kind = TA_THREAD_UST;
	ta_nest_enter();
	return true;
}

/* In a fork child: the parent's threads are gone. */
void ta_ust_tids_clear(void)
{
	ta_ust_ntids = 0;
}
