/* SPDX-License-Identifier: MIT */
/*
 * Start-up, environment and the exit report.
 *
 * Environment variables are parsed strictly: a malformed value is reported
 * once on stderr and ignored (the default applies). This is the only place
 * the library writes to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <unistd.h>

#include "ta-internal.h"
#include "trace-internal.h"

struct ta_config ta_config = { .lttng = TA_LTTNG_AUTO, .sample_ms = 100, .report = NULL };

static void ta_warn(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0) {
		ssize_t r = write(2, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
		(void)r;
	}
}

/* A decimal integer in [min, max] with nothing around it. */
int ta_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *p = s;

	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v > (max - (unsigned long)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < min)
		return -ERANGE;
	*out = v;
	return 0;
}

/*
 * Whether LD_PRELOAD names this library: an entry (separated by spaces or
 * colons, as ld.so reads them) whose file name starts with
 * "libtrackalloc.so".
 */
static bool ta_preloaded(const char *list)
{
	static const char name[] = "libtrackalloc.so";
	const char *p = list, *start, *base;

	if (!p)
		return false;
	while (*p) {
		while (*p == ' ' || *p == ':')
			p++;
		start = base = p;
		while (*p && *p != ' ' && *p != ':') {
			if (*p == '/')
				base = p + 1;
			p++;
		}
		if (p > start && (size_t)(p - base) >= sizeof(name) - 1 &&
		    memcmp(base, name, sizeof(name) - 1) == 0)
			return true;
	}
	return false;
}

static void ta_config_init(void)
{
	const char *s;
	unsigned long v;

	s = getenv("TRACKALLOC_LTTNG");
	if (s) {
		if (strcmp(s, "0") == 0)
			ta_config.lttng = TA_LTTNG_OFF;
		else if (strcmp(s, "1") == 0)
			ta_config.lttng = TA_LTTNG_ON;
		else if (strcmp(s, "auto") == 0)
			ta_config.lttng = TA_LTTNG_AUTO;
		else
			ta_warn("trackalloc: ignoring TRACKALLOC_LTTNG='%.64s': expected 0, 1 or "
			        "auto\n",
			        s);
	}
	ta_config.preloaded = ta_preloaded(getenv("LD_PRELOAD"));
	s = getenv("TRACKALLOC_SAMPLE_MS");
	if (s) {
		if (ta_parse_uint(s, 1, TA_SAMPLE_MS_MAX, &v) == 0)
			ta_config.sample_ms = (unsigned)v;
		else
			ta_warn("trackalloc: ignoring TRACKALLOC_SAMPLE_MS='%.64s': expected an "
			        "integer from 1 to %u (milliseconds)\n",
			        s, TA_SAMPLE_MS_MAX);
	}
	s = getenv("TRACKALLOC_RECORD_GATE");
	if (s) {
		if (s[0] == '/' && strlen(s) < 108)
			ta_config.gate = s; /* environ outlives every use */
		else
			ta_warn("trackalloc: ignoring TRACKALLOC_RECORD_GATE='%.64s': expected "
			        "the absolute path of trackalloc record's socket\n",
			        s);
	}
	s = getenv("TRACKALLOC_REPORT");
	if (s) {
		if (s[0])
			ta_config.report = s; /* environ outlives the atexit handler */
		else
			ta_warn("trackalloc: ignoring TRACKALLOC_REPORT='': expected a file "
			        "name or '-' for stderr\n");
	}
}

/* ---- the JSON report ------------------------------------------------- */

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
			o->failed = 1;
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

int ta_report_to_fd(int fd)
{
	struct ta_out *o = ta_inner.malloc(sizeof(*o));
	struct ta_diag d;
	int failed;

	if (!o)
		return -ENOMEM;
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
	failed = o->failed;
	ta_inner.free(o);
	return failed ? -EIO : 0;
}

/*
 * At exit. A forked child that exits writes its own report only when the
 * path contains "%p", which is replaced by the pid (otherwise parent and
 * child would overwrite each other's file).
 */
static pid_t ta_report_pid;
/* A private copy of stderr: programs such as coreutils close fd 2 in their
 * own atexit handlers, which run before this one. */
static int ta_report_stderr = -1;

static void ta_report_at_exit(void)
{
	char path[4096];
	const char *spec = ta_config.report;
	size_t o = 0;
	int fd;

	if (!spec)
		return;
	if (strcmp(spec, "-") == 0) {
		if (getpid() == ta_report_pid)
			ta_report_to_fd(ta_report_stderr >= 0 ? ta_report_stderr : 2);
		return;
	}
	if (!strstr(spec, "%p") && getpid() != ta_report_pid)
		return;
	for (; *spec && o + 24 < sizeof(path); spec++) {
		if (spec[0] == '%' && spec[1] == 'p') {
			o += (size_t)snprintf(path + o, sizeof(path) - o, "%ld", (long)getpid());
			spec++;
		} else {
			path[o++] = *spec;
		}
	}
	path[o] = '\0';
	ta_nest_enter();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ta_warn("trackalloc: cannot write TRACKALLOC_REPORT file '%s': %s\n", path,
		        strerror(errno));
	} else {
		if (ta_report_to_fd(fd) < 0)
			ta_warn("trackalloc: writing TRACKALLOC_REPORT file '%s' failed\n", path);
		close(fd);
	}
	ta_nest_exit();
}

/* ---- fork --------------------------------------------------------------- */

/*
 * Each handler runs as library code: what it (or liburcu, or LTTng-UST
 * through it) allocates or frees counts in root and raises no hook.
 *
 * The library's locks are held across a fork only while other threads
 * exist: then one of them may hold a lock, which the child could never
 * take. A single-threaded process takes none, as glibc does for its own:
 * the only holder could be the forking thread itself, interrupted by the
 * signal handler that forks (POSIX allows fork there), and waiting for
 * itself would never end. Its interrupted section then resumes in both
 * processes as it would have without the fork.
 */
static bool ta_fork_locked;

static void ta_atfork_prepare(void)
{
	ta_nest_enter();
	ta_trace_atfork_prepare();
	ta_fork_locked = !__libc_single_threaded;
	if (ta_fork_locked) {
		ta_spans_atfork_prepare();
		ta_tracker_atfork_prepare();
		ta_groups_atfork_prepare();
		ta_threads_atfork_prepare();
	}
	ta_nest_exit();
}

static void ta_atfork_parent(void)
{
	ta_nest_enter();
	if (ta_fork_locked) {
		ta_threads_atfork_parent();
		ta_groups_atfork_parent();
		ta_tracker_atfork_parent();
		ta_spans_atfork_parent();
	}
	ta_trace_atfork_parent();
	ta_nest_exit();
}

static void ta_atfork_child(void)
{
	ta_nest_enter();
	ta_threads_atfork_child(ta_fork_locked);
	if (ta_fork_locked) {
		ta_groups_atfork_child();
		ta_tracker_atfork_child();
	}
	ta_spans_atfork_child(ta_fork_locked);
	ta_trace_atfork_child();
	ta_nest_exit();
}

/* ---- start ----------------------------------------------------------- */

__attribute__((constructor(101))) static void ta_init(void)
{
	ta_inner_init();
	ta_nest_enter();
	ta_fdguard_init();
	ta_config_init();
	ta_report_pid = getpid();
	pthread_atfork(ta_atfork_prepare, ta_atfork_parent, ta_atfork_child);
	if (ta_config.report) {
		if (strcmp(ta_config.report, "-") == 0)
			ta_report_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
		atexit(ta_report_at_exit);
	}
	ta_nest_exit();
	ta_trace_setup();
}
