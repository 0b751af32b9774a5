/* SPDX-License-Identifier: MIT */
/*
 * Running plot.py on the timeline CSV: drawing needs matplotlib, so it is
 * a Python child process rather than part of the report. The limits the
 * group_limit events reported go along as arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"
#include "report-limits.h"
#include "report-model.h"
#include "report-output.h"
#include "report-plot.h"

extern char **environ;

/* plot.py: next to the binary, then (binary in its build directory) the
 * source tree's, then the installed one. */
static char *find_plot_script(void)
{
	char exe[PATH_MAX], *slash, *path = NULL, *build;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			if (asprintf(&path, "%s/plot.py", exe) >= 0 && access(path, R_OK) == 0)
				return path;
			free(path);
			path = NULL;
#ifdef TA_REPORT_BUILD_DIR
			build = realpath(TA_REPORT_BUILD_DIR, NULL);
			if (build && !strcmp(build, exe) && access(TA_REPORT_PLOT_SOURCE, R_OK) == 0) {
				free(build);
				return strdup(TA_REPORT_PLOT_SOURCE);
			}
			free(build);
#else
			(void)build;
#endif
		}
	}
#ifdef TA_REPORT_PLOT_INSTALLED
	if (access(TA_REPORT_PLOT_INSTALLED, R_OK) == 0)
		return strdup(TA_REPORT_PLOT_INSTALLED);
#endif
	return NULL;
}

/* One limit line: a distinct soft or hard limit of a group of a process. */
struct plot_limit {
	int64_t pid;
	uint32_t gid;
	bool hard;
	uint64_t bytes;
};

static int limit_cmp(const void *a, const void *b)
{
	const struct plot_limit *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->gid != y->gid)
		return x->gid < y->gid ? -1 : 1;
	if (x->hard != y->hard)
		return x->hard ? 1 : -1;
	return x->bytes < y->bytes ? -1 : x->bytes > y->bytes;
}

/* The distinct non-zero limits the crossings of @m's selected groups
 * reported, as plot.py arguments "--limit PID,GROUP_ID,soft|hard,BYTES"
 * appended to @argv from index *@argc (NULL-terminated). false: out of
 * memory (what was appended is freed by the caller). */
static bool limit_args(char ***argv, size_t *argc, const struct rp_model *m,
                       const struct rp_output_opts *oo)
{
	struct plot_limit *v = NULL;
	size_t n = 0, cap = 0;
	bool ok = true;

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct rp_proc *p = m->procs[i];

		if (rp_proc_source(p) == RP_SOURCE_NONE)
			continue; /* no timeline in the CSV */
		for (size_t j = 0; j < p->ncrossings; j++) {
			const struct rp_crossing *c = &p->crossings[j];
			const struct rp_group *g = rp_proc_find_group(p, c->gid);
			uint64_t lim[2] = { c->soft, c->hard };

			if (!g || !rp_group_selected(oo, g))
				continue;
			for (int k = 0; k < 2; k++) {
				if (!lim[k])
					continue;
				if (n == cap) {
					size_t ncap = cap ? cap * 2 : 16;
					void *nv = realloc(v, ncap * sizeof(*v));

					if (!nv)
						goto oom;
					v = nv;
					cap = ncap;
				}
				v[n++] = (struct plot_limit){ p->pid, c->gid, k == 1, lim[k] };
			}
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), limit_cmp);
	for (size_t i = 0; i < n; i++) {
		char **na;

		if (i && !limit_cmp(&v[i - 1], &v[i]))
			continue;
		na = realloc(*argv, (*argc + 3) * sizeof(**argv));
		if (!na)
			goto oom;
		*argv = na;
		na[*argc] = strdup("--limit");
		na[*argc + 2] = NULL;
		if (!na[*argc] || asprintf(&na[*argc + 1], "%lld,%u,%s,%llu", (long long)v[i].pid,
		                           v[i].gid, v[i].hard ? "hard" : "soft",
		                           (unsigned long long)v[i].bytes) < 0) {
			free(na[*argc]);
			na[*argc] = NULL;
			goto oom;
		}
		*argc += 2;
	}
	goto out;
oom:
	ok = false;
out:
	free(v);
	return ok;
}

int rp_run_plot(const char *csv, const char *out, const struct rp_model *m,
                const struct rp_output_opts *oo)
{
	char *script = find_plot_script();
	char **argv = calloc(5, sizeof(*argv));
	size_t argc = 4;
	pid_t pid;
	int status, err;

	if (!script || !argv) {
		if (!argv)
			fprintf(stderr, RP_PREFIX "out of memory\n");
		else
			fprintf(stderr, RP_PREFIX "cannot find plot.py (next to the binary or installed)\n");
		free(script);
		free(argv);
		return RP_EXIT_OUTPUT;
	}
	argv[0] = (char *)TA_REPORT_PYTHON;
	argv[1] = script;
	argv[2] = (char *)csv;
	argv[3] = (char *)out;
	if (!limit_args(&argv, &argc, m, oo)) {
		fprintf(stderr, RP_PREFIX "out of memory\n");
		err = -1;
	} else {
		fflush(stdout);
		err = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
	}
	for (size_t i = 4; i < argc; i++)
		free(argv[i]);
	free(argv);
	free(script);
	if (err < 0)
		return RP_EXIT_OUTPUT;
	if (err) {
		fprintf(stderr, RP_PREFIX "cannot run %s: %s\n", TA_REPORT_PYTHON, strerror(err));
		return RP_EXIT_OUTPUT;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, RP_PREFIX "waiting for the plotter: %s\n", strerror(errno));
			return RP_EXIT_OUTPUT;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, RP_PREFIX "plotting %s failed (plot.py exit status %d)\n", out,
		        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return RP_EXIT_OUTPUT;
	}
	return RP_EXIT_OK;
}
