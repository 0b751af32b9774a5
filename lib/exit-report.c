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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ta-internal.h"

struct ta_out {
	int fd;
	size_t len;
	int failed;
	char buf[8192];
};

static void ta_out_flush(struct ta_out *o)
{
	size_t off = 0;

	while (off < o->len) {
		ssize_t w = write(o->fd, o->buf + off, o->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->failed = w < 0 ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	o->len = 0;
}

static void ta_out_raw(struct ta_out *o, const char *s, size_t n)
{
	while (n) {
		size_t room = sizeof(o->buf) - o->len;
		size_t k = n < room ? n : room;

		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == sizeof(o->buf))
			ta_out_flush(o);
	}
}

static void __attribute__((format(printf, 2, 3))) ta_out_fmt(struct ta_out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		ta_out_raw(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void ta_out_str(struct ta_out *o, const char *s)
{
	ta_out_raw(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			ta_out_raw(o, esc, 2);
		} else if (c < 0x20) {
			ta_out_fmt(o, "\\u%04x", c);
		} else {
			ta_out_raw(o, (const char *)&c, 1);
		}
	}
	ta_out_raw(o, "\"", 1);
}

static int ta_report_group(ta_group *g, void *arg)
{
	struct ta_out *o = arg;
	const struct ta_tag *tags;
	size_t ntags = ta_group_tags(g, &tags), i;
	struct ta_stats st;

	ta_group_stats(g, &st);
	ta_out_raw(o, g->id ? ",\n    {" : "\n    {", g->id ? 7 : 6);
	ta_out_fmt(o, "\"id\": %u, \"name\": ", g->id);
	ta_out_str(o, g->name);
	ta_out_raw(o, ", \"tags\": {", 11);
	for (i = 0; i < ntags; i++) {
		if (i)
			ta_out_raw(o, ", ", 2);
		ta_out_str(o, tags[i].key);
		ta_out_raw(o, ": ", 2);
		ta_out_str(o, tags[i].value);
	}
	ta_out_fmt(o,
	           "}, \"allocated_bytes\": %llu, \"allocated_objects\": %llu, "
	           "\"freed_bytes\": %llu, \"freed_objects\": %llu, ",
	           (unsigned long long)st.allocated_bytes, (unsigned long long)st.allocated_objects,
	           (unsigned long long)st.freed_bytes, (unsigned long long)st.freed_objects);
	ta_out_fmt(o, "\"live_bytes\": %lld, \"live_objects\": %lld, \"wrapped_bytes_live\": %lld}",
	           (long long)(st.allocated_bytes - st.freed_bytes),
	           (long long)(st.allocated_objects - st.freed_objects),
	           (long long)st.wrapped_bytes_live);
	return 0;
}

/* Write the report to @fd through @o: 0, or the negative errno of a failed
 * write. */
static int ta_report_write(struct ta_out *o, int fd)
{
	struct ta_diag d;

	o->fd = fd;
	o->len = 0;
	o->failed = 0;
	ta_diag_read(&d);
	ta_out_fmt(o, "{\n  \"pid\": %ld,\n  \"groups\": [", (long)getpid());
	ta_group_foreach(ta_report_group, o);
	ta_out_fmt(o,
	           "\n  ],\n  \"diagnostics\": {\"foreign_frees\": %llu, \"double_frees\": %llu, "
	           "\"corrupt_trailers\": %llu, \"bootstrap_frees\": %llu, "
	           "\"fast_usable_size\": %llu}\n}\n",
	           (unsigned long long)d.foreign_frees, (unsigned long long)d.double_frees,
	           (unsigned long long)d.corrupt_trailers, (unsigned long long)d.bootstrap_frees,
	           (unsigned long long)d.fast_usable_size);
	ta_out_flush(o);
	return o->failed ? -o->failed : 0;
}

/*
 * At exit. A forked child that exits writes its own report only when the
 * path contains "%p", which is replaced by the pid (otherwise parent and
 * child would overwrite each other's file).
 */
static pid_t ta_report_pid;
/* A failure to write the report is said once per process tree: at start
 * when the file cannot be written then, or at exit. */
static bool ta_report_warned;

/* @spec with "%p" replaced by the pid, into @path. */
static void ta_report_path(const char *spec, char *path, size_t size)
{
	size_t o = 0;

	for (; *spec && o + 24 < size; spec++) {
		if (spec[0] == '%' && spec[1] == 'p') {
			o += (size_t)snprintf(path + o, size - o, "%ld", (long)getpid());
			spec++;
		} else {
			path[o++] = *spec;
		}
	}
	path[o] = '\0';
}

static void ta_report_failed(const char *path, int err)
{
	if (ta_report_warned)
		return;
	ta_report_warned = true;
	ta_warn("trackalloc: cannot write the TRACKALLOC_REPORT file '%s': %s\n", path,
	        strerror(err));
}

/*
 * Whether the report could be written now: its directory exists and takes
 * new files, and the file, if it exists, can be overwritten. Checked at
 * start, while the program's stderr is surely open, so that a mistyped path
 * is said before the program runs rather than lost at its exit.
 */
static void ta_report_check(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (access(path, W_OK) == 0)
		return;
	if (errno != ENOENT) {
		ta_report_failed(path, errno);
		return;
	}
	if (!slash) {
		memcpy(dir, ".", 2);
	} else {
		if (n == 0)
			n = 1; /* "/x.json": the root directory */
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if (access(dir, W_OK | X_OK) != 0)
		ta_report_failed(path, errno);
}

static void ta_report_at_exit(void)
{
	char path[4096];
	const char *spec = ta_config.report;
	struct ta_out *o;
	int fd, err;

	if (!spec)
		return;
	/* a forked child: its own report only into a file named by pid */
	if (getpid() != ta_report_pid && (strcmp(spec, "-") == 0 || !strstr(spec, "%p")))
		return;
	ta_nest_enter();
	/* the buffer first: no memory, no half-made file */
	o = ta_inner.malloc(sizeof(*o));
	if (strcmp(spec, "-") == 0) {
		if (o)
			(void)ta_report_write(o, ta_warn_fd >= 0 ? ta_warn_fd : 2);
		else
			ta_report_failed("-", ENOMEM);
		goto out;
	}
	ta_report_path(spec, path, sizeof(path));
	if (!o) {
		ta_report_failed(path, ENOMEM);
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ta_report_failed(path, errno);
		goto out;
	}
	err = ta_report_write(o, fd);
	if (close(fd) != 0 && !err)
		err = -errno;
	if (err)
		ta_report_failed(path, -err);
out:
	ta_inner.free(o);
	ta_nest_exit();
}

void ta_exit_report_setup(void)
{
	char path[4096];

	if (!ta_config.report)
		return;
	ta_report_pid = getpid();
	ta_warn_keep_stderr();
	if (strcmp(ta_config.report, "-") != 0) {
		ta_report_path(ta_config.report, path, sizeof(path));
		ta_report_check(path);
	}
	atexit(ta_report_at_exit);
}
