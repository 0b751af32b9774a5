/* SPDX-License-Identifier: MIT */
/*
 * The exit report (TRACKALLOC_REPORT): every group's counters and the
 * diagnostics as JSON, written at exit to a file or to stderr. Formatted
 * into a buffer from the inner allocator: no stdio, nothing that allocates
 * through the wrapper while the counters are read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits-internal.h"
#include "ta-internal.h"

static int ta_report_group(ta_group *g, void *arg)
{
	struct ta_out *o = arg;
	const struct ta_tag *tags;
	size_t ntags = ta_group_tags(g, &tags), i;
	struct ta_stats st;
	uint64_t soft = 0, hard = 0;

	ta_group_stats(g, &st);
	ta_out_raw(o, g->id ? ",\n    {" : "\n    {", g->id ? 7 : 6);
	ta_out_fmt(o, "\"id\": %u, \"name\": ", g->id);
	ta_out_json_str(o, g->name);
	ta_out_raw(o, ", \"tags\": {", 11);
	for (i = 0; i < ntags; i++) {
		if (i)
			ta_out_raw(o, ", ", 2);
		ta_out_json_str(o, tags[i].key);
		ta_out_raw(o, ": ", 2);
		ta_out_json_str(o, tags[i].value);
	}
	ta_out_fmt(o,
	           "}, \"allocated_bytes\": %llu, \"allocated_objects\": %llu, "
	           "\"freed_bytes\": %llu, \"freed_objects\": %llu, ",
	           (unsigned long long)st.allocated_bytes, (unsigned long long)st.allocated_objects,
	           (unsigned long long)st.freed_bytes, (unsigned long long)st.freed_objects);
	ta_out_fmt(o, "\"live_bytes\": %lld, \"live_objects\": %lld, \"wrapped_bytes_live\": %lld, ",
	           (long long)(st.allocated_bytes - st.freed_bytes),
	           (long long)(st.allocated_objects - st.freed_objects),
	           (long long)st.wrapped_bytes_live);
	ta_group_limit_get(g, &soft, &hard);
	ta_out_fmt(o, "\"peak_bytes\": %llu, \"soft_limit\": %llu, \"hard_limit\": %llu}",
	           (unsigned long long)ta_peak_get(g, (int64_t)(st.allocated_bytes - st.freed_bytes)),
	           (unsigned long long)soft, (unsigned long long)hard);
	return 0;
}

/* Write the report to @fd through @o: 0, or the negative errno of a failed
 * write. */
static int ta_report_write(struct ta_out *o, int fd)
{
	struct ta_diag_ext x;
	struct ta_diag d;

	o->fd = fd;
	o->len = 0;
	o->failed = 0;
	ta_diag_read(&d);
	ta_diag_ext_read(&x, sizeof(x));
	ta_out_fmt(o, "{\n  \"pid\": %ld,\n  \"groups\": [", (long)getpid());
	ta_group_foreach(ta_report_group, o);
	ta_out_fmt(o,
	           "\n  ],\n  \"diagnostics\": {\"foreign_frees\": %llu, \"double_frees\": %llu, "
	           "\"corrupt_trailers\": %llu, \"bootstrap_frees\": %llu, "
	           "\"fast_usable_size\": %llu, \"size_mismatches\": %llu, "
	           "\"limit_failures\": %llu}\n}\n",
	           (unsigned long long)d.foreign_frees, (unsigned long long)d.double_frees,
	           (unsigned long long)d.corrupt_trailers, (unsigned long long)d.bootstrap_frees,
	           (unsigned long long)d.fast_usable_size, (unsigned long long)x.size_mismatches,
	           (unsigned long long)x.limit_failures);
	ta_out_flush(o);
	return o->failed ? -o->failed : 0;
}

static struct ta_exit_file ta_report_file;

static void ta_report_at_exit(void)
{
	struct ta_exit_file *f = &ta_report_file;
	char path[4096];
	struct ta_out *o;
	int fd, err;

	if (!ta_exit_file_path(f, path, sizeof(path)))
		return;
	ta_nest_enter();
	/* the buffer first: no memory, no half-made file */
	o = ta_inner.malloc(sizeof(*o));
	if (strcmp(path, "-") == 0) {
		if (o)
			(void)ta_report_write(o, ta_warn_fd >= 0 ? ta_warn_fd : 2);
		else
			ta_exit_file_failed(f, path, ENOMEM);
		goto out;
	}
	if (!o) {
		ta_exit_file_failed(f, path, ENOMEM);
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ta_exit_file_failed(f, path, errno);
		goto out;
	}
	err = ta_report_write(o, fd);
	if (close(fd) != 0 && !err)
		err = -errno;
	if (err)
		ta_exit_file_failed(f, path, -err);
out:
	ta_inner.free(o);
	ta_nest_exit();
}

TA_START void ta_exit_report_setup(void)
{
	if (!ta_config.report)
		return;
	ta_exit_file_init(&ta_report_file, "TRACKALLOC_REPORT", ta_config.report, true);
	atexit(ta_report_at_exit);
}
