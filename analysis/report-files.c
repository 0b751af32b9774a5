/* SPDX-License-Identifier: MIT */
/*
 * The --csv and --plot files: what must exist before the trace is read, and
 * what is left after, whether the run succeeded or not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "report-files.h"
#include "report-output.h"
#include "report-plot.h"

int rp_files_open(struct rp_files *files)
{
	if (files->csv) {
		files->csv_file = fopen(files->csv, "w");
		if (!files->csv_file) {
			fprintf(stderr, RP_PREFIX "cannot write %s: %s\n", files->csv, strerror(errno));
			files->csv = NULL;
			return RP_EXIT_OUTPUT;
		}
	}
	if (files->plot) {
		char *dir = strdup(files->plot), *slash = dir ? strrchr(dir, '/') : NULL;
		const char *d = !slash ? "." : slash == dir ? "/" : (*slash = 0, dir);
		int ok = dir && access(d, W_OK) == 0;

		if (!ok)
			fprintf(stderr, RP_PREFIX "cannot write %s: %s\n", files->plot,
			        dir ? strerror(errno) : "out of memory");
		free(dir);
		if (!ok)
			return RP_EXIT_OUTPUT;
	}
	if (files->plot && !files->csv) {
		const char *tmpdir = getenv("TMPDIR");
		int fd;

		snprintf(files->tmp, sizeof(files->tmp), "%s/trackalloc-report-XXXXXX.csv",
		         tmpdir && *tmpdir ? tmpdir : "/tmp");
		fd = mkstemps(files->tmp, 4);
		if (fd < 0 || !(files->csv_file = fdopen(fd, "w"))) {
			fprintf(stderr, RP_PREFIX "cannot create a temporary file: %s\n", strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(files->tmp);
			}
			files->tmp[0] = 0;
			return RP_EXIT_OUTPUT;
		}
		files->csv = files->tmp;
	}
	return RP_EXIT_OK;
}

int rp_files_close(struct rp_files *files, const struct rp_model *m,
                   const struct rp_output_opts *oo, bool write)
{
	bool csv_ok = write;

	if (files->csv_file) {
		if (write && !rp_write_csv(files->csv_file, files->csv, m, oo))
			csv_ok = false;
		if (fclose(files->csv_file) && csv_ok) {
			fprintf(stderr, RP_PREFIX "cannot write %s: %s\n", files->csv, strerror(errno));
			csv_ok = false;
		}
		files->csv_file = NULL;
		if (!csv_ok && !files->tmp[0])
			unlink(files->csv); /* no half-written timeline */
	}
	if (csv_ok && files->plot && rp_run_plot(files->csv, files->plot, m, oo) != RP_EXIT_OK)
		csv_ok = false;
	if (files->tmp[0])
		unlink(files->tmp);
	return csv_ok ? RP_EXIT_OK : RP_EXIT_OUTPUT;
}
