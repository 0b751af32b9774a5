/* SPDX-License-Identifier: MIT */
/*
 * What the library writes to files: a buffered writer on a descriptor (no
 * stdio, no allocation: the buffer comes from the caller), and the files
 * named by environment variables that are written at exit
 * (TRACKALLOC_REPORT, TRACKALLOC_PROFILE): "%p" in the name is replaced by
 * the pid, a path that cannot be written is said at start while stderr is
 * surely open, and a failure is said once, with the path and the reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ta-internal.h"

void ta_out_flush(struct ta_out *o)
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

void ta_out_raw(struct ta_out *o, const char *s, size_t n)
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

void ta_out_fmt(struct ta_out *o, const char *fmt, ...)
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

void ta_out_json_str(struct ta_out *o, const char *s)
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

/* ---- files written at exit ------------------------------------------- */

/* @f's name with "%p" replaced by the pid, into @path. */
static void ta_exit_file_expand(const struct ta_exit_file *f, char *path, size_t size)
{
	const char *spec = f->spec;
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

void ta_exit_file_failed(struct ta_exit_file *f, const char *path, int err)
{
	if (f->warned)
		return;
	f->warned = true;
	ta_warn("trackalloc: cannot write the %s file '%s': %s\n", f->var, path, strerror(err));
}

/*
 * Whether the file could be written now: its directory exists and takes
 * new files, and the file, if it exists, can be overwritten.
 */
static void ta_exit_file_check(struct ta_exit_file *f, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (access(path, W_OK) == 0)
		return;
	if (errno != ENOENT) {
		ta_exit_file_failed(f, path, errno);
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
		ta_exit_file_failed(f, path, errno);
}

void ta_exit_file_init(struct ta_exit_file *f, const char *var, const char *spec,
                       bool stderr_ok)
{
	char path[4096];

	f->var = var;
	f->spec = spec;
	f->pid = getpid();
	f->warned = false;
	ta_warn_keep_stderr();
	if (stderr_ok && strcmp(spec, "-") == 0)
		return;
	ta_exit_file_expand(f, path, sizeof(path));
	ta_exit_file_check(f, path);
}

bool ta_exit_file_path(const struct ta_exit_file *f, char *path, size_t size)
{
	if (!f->spec)
		return false;
	/* a forked child: its own file only when named by pid */
	if (getpid() != f->pid && (strcmp(f->spec, "-") == 0 || !strstr(f->spec, "%p")))
		return false;
	ta_exit_file_expand(f, path, size);
	return true;
}
