/* SPDX-License-Identifier: MIT */
/*
 * The environment: TRACKALLOC_* variables, read once by the first
 * constructor (init.c). Parsed strictly: a malformed value is reported once
 * on stderr and ignored (the default applies). Warnings are the only thing
 * the library ever writes to stderr, and only at start and exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ta-internal.h"

struct ta_config ta_config = { .lttng = TA_LTTNG_AUTO, .sample_ms = 100, .report = NULL };

/* A private copy of stderr for what the library says at exit: programs such
 * as coreutils close fd 2 in their own atexit handlers, which run before the
 * library's. -1 until ta_warn_keep_stderr(). */
int ta_warn_fd = -1;

void ta_warn_keep_stderr(void)
{
	if (ta_warn_fd < 0)
		ta_warn_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
}

void ta_warn(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0) {
		size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
		ssize_t r = -1;

		if (ta_warn_fd >= 0)
			r = write(ta_warn_fd, buf, len);
		if (r < 0) /* no copy, or the program closed it too */
			r = write(2, buf, len);
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
		if ((unsigned long)(*p - '0') > max || v > (max - (unsigned long)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < min)
		return -ERANGE;
	*out = v;
	return 0;
}

/* A byte count: a decimal integer with an optional K, M or G (powers of
 * 1024), nothing else around it. */
int ta_parse_size(const char *s, uint64_t *out)
{
	char digits[32];
	size_t len = strlen(s);
	unsigned shift = 0;
	unsigned long v;

	if (len == 0 || len >= sizeof(digits))
		return -EINVAL;
	switch (s[len - 1]) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	default: break;
	}
	memcpy(digits, s, len - (shift ? 1 : 0));
	digits[len - (shift ? 1 : 0)] = '\0';
	if (ta_parse_uint(digits, 0, ULONG_MAX >> shift, &v) != 0)
		return -EINVAL;
	*out = (uint64_t)v << shift;
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

TA_START void ta_config_init(void)
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
	s = getenv("TRACKALLOC_STACKS");
	if (s) {
		uint64_t mean;

		if (ta_parse_size(s, &mean) == 0)
			ta_config.stacks = mean;
		else
			ta_warn("trackalloc: ignoring TRACKALLOC_STACKS='%.64s': expected a mean "
			        "in bytes (an integer, optionally with K, M or G), 0 for off, 1 "
			        "for every allocation\n",
			        s);
	}
	s = getenv("TRACKALLOC_STACKS_SEED");
	if (s) {
		if (ta_parse_uint(s, 0, ULONG_MAX, &v) == 0) {
			ta_config.stacks_seed = v;
			ta_config.stacks_seeded = true;
		} else {
			ta_warn("trackalloc: ignoring TRACKALLOC_STACKS_SEED='%.64s': expected a "
			        "non-negative integer\n",
			        s);
		}
	}
	s = getenv("TRACKALLOC_PROFILE");
	if (s) {
		if (s[0])
			ta_config.profile = s;
		else
			ta_warn("trackalloc: ignoring TRACKALLOC_PROFILE='': expected a file "
			        "name\n");
	}
	s = getenv("TRACKALLOC_CACHE");
	if (s) {
		if ((s[0] == '0' || s[0] == '1') && !s[1]) {
			ta_config.no_cache = s[0] == '0';
			if (ta_config.no_cache) /* this thread may have set up already */
				ta_cache_off(&ta_tls);
		} else {
			ta_warn("trackalloc: ignoring TRACKALLOC_CACHE='%.64s': expected 0 or 1\n",
			        s);
		}
	}
	/* parsed by the rules (rules.c) once the rest is set up: "" is none */
	ta_config.groups = getenv("TRACKALLOC_GROUPS");
	ta_config.limits = getenv("TRACKALLOC_LIMITS");
	s = getenv("TRACKALLOC_REPORT");
	if (s) {
		if (s[0])
			ta_config.report = s; /* environ outlives the atexit handler */
		else
			ta_warn("trackalloc: ignoring TRACKALLOC_REPORT='': expected a file "
			        "name or '-' for stderr\n");
	}
}
