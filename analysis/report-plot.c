/* SPDX-License-Identifier: MIT */
/*
 * Running plot.py on the timeline CSV: drawing needs matplotlib, so it is
 * a Python child process rather than part of the report.
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

int rp_run_plot(const char *csv, const char *out)
{
	char *script = find_plot_script();
	char *argv[5];
	pid_t pid;
	int status, err;

	if (!script) {
		fprintf(stderr, RP_PREFIX "cannot find plot.py (next to the binary or installed)\n");
		return RP_EXIT_OUTPUT;
	}
	argv[0] = (char *)TA_REPORT_PYTHON;
	argv[1] = script;
	argv[2] = (char *)csv;
	argv[3] = (char *)out;
	argv[4] = NULL;
	fflush(stdout);
	err = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
	free(script);
	if (err) {
		fprintf(stderr, RP_PREFIX "cannot run %s: %s\n", argv[0], strerror(err));
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
