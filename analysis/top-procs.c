/* SPDX-License-Identifier: MIT */
/*
 * /proc for `trackalloc top`. A scan lists the processes, keeps what it
 * learnt of each (by pid and start time, so that a recycled pid is a new
 * process), and looks at a process's mappings only once unless it was sent
 * a request: a process does not gain libtrackalloc later.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach-proc.h"
#include "top-procs.h"

#define TP_RETRY_S 2.0 /* between two requests to the same process */
#define TP_TRIES 5

bool tp_alive(int64_t pid, const char *procname)
{
	char path[64], comm[64];
	FILE *f;
	bool same;

	snprintf(path, sizeof(path), "/proc/%lld/comm", (long long)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f)) {
		fclose(f);
		return false; /* a zombie's comm reads, an exited one's does not */
	}
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	/* the procname context is the comm (at most 15 bytes) */
	same = !procname || !strncmp(comm, procname, 15);
	if (same) {
		/* a zombie has exited: /proc/PID/stat says 'Z' */
		char line[512], *p;

		snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) && p[1] == ' ' &&
			    (p[2] == 'Z' || p[2] == 'X'))
				same = false;
			fclose(f);
		}
	}
	return same;
}

enum tp_verdict {
	TPV_NEW,       /* not looked at yet */
	TPV_IGNORED,   /* not a candidate: no library, another user, refuses */
	TPV_ASKED,     /* requests sent, not loaded yet */
	TPV_DONE,      /* LTTng-UST loaded (by us or before) */
};

struct tp_entry {
	pid_t pid;
	unsigned long long start; /* start time (clock ticks since boot) */
	enum tp_verdict v;
	unsigned tries;
	double last;
};

struct tp_scan {
	uid_t uid;
	struct tp_entry *e; /* sorted by pid */
	size_t n;
};

struct tp_scan *tp_scan_new(uid_t uid)
{
	struct tp_scan *s = calloc(1, sizeof(*s));

	if (s)
		s->uid = uid;
	return s;
}

void tp_scan_free(struct tp_scan *s)
{
	if (!s)
		return;
	free(s->e);
	free(s);
}

/* The start time of @pid (0: gone) and its real uid. */
static unsigned long long start_time(pid_t pid, uid_t *uid)
{
	char path[64], line[1024], *p;
	unsigned long long start = 0;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st))
		return 0;
	*uid = st.st_uid;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* field 22, counting from the one after the name's ')' as field 3 */
	if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')'))) {
		int field = 2;

		for (p++; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		start = strtoull(p, NULL, 10);
	}
	fclose(f);
	return start;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct tp_entry *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Decide about, or ask again, process @e. */
static unsigned visit(struct tp_scan *s, struct tp_entry *e, uid_t uid, double now)
{
	enum ap_state st;

	if (e->v == TPV_IGNORED || e->v == TPV_DONE)
		return 0;
	if (e->v == TPV_ASKED && now - e->last < TP_RETRY_S)
		return 0;
	if (e->v == TPV_NEW && s->uid != (uid_t)-1 && uid != s->uid) {
		e->v = TPV_IGNORED;
		return 0;
	}
	st = ap_check(e->pid);
	switch (st) {
	case AP_LOADED:
		e->v = TPV_DONE;
		return 0;
	case AP_LOADING:
		return 0;
	case AP_CAN_ATTACH:
		if (e->tries >= TP_TRIES || ap_request(e->pid) != 0) {
			e->v = TPV_IGNORED;
			return 0;
		}
		e->v = TPV_ASKED;
		e->tries++;
		e->last = now;
		return 1;
	default:
		e->v = TPV_IGNORED;
		return 0;
	}
}

unsigned tp_scan_attach(struct tp_scan *s, double now)
{
	struct tp_entry *next = NULL;
	size_t n = 0, cap = 0;
	unsigned sent = 0;
	struct dirent *d;
	pid_t self = getpid();
	DIR *dir = opendir("/proc");

	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		struct tp_entry key, *old;
		uid_t uid = 0;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		key = (struct tp_entry){ .pid = (pid_t)atoi(d->d_name) };
		if (key.pid == self || !(key.start = start_time(key.pid, &uid)))
			continue;
		if (n == cap) {
			struct tp_entry *g = realloc(next, (cap = cap ? cap * 2 : 256) * sizeof(*g));

			if (!g)
				break;
			next = g;
		}
		old = s->e ? bsearch(&key, s->e, s->n, sizeof(key), cmp_entry) : NULL;
		next[n] = old && old->start == key.start ? *old : key;
		sent += visit(s, &next[n], uid, now);
		n++;
	}
	closedir(dir);
	if (next)
		qsort(next, n, sizeof(*next), cmp_entry);
	free(s->e);
	s->e = next;
	s->n = n;
	return sent;
}
