/* SPDX-License-Identifier: MIT */
/*
 * The profile reader: one record per line, checked field by field. Every
 * failure names the file and the line; nothing of a bad file is reported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"
#include "report-model.h"
#include "report-profile.h"
#include "report-stacks.h"

#define PROFILE_VERSION 1
#define FIELDS_MAX (RS_STACK_MAX + 2)

struct reader {
	const char *path;
	unsigned long line;
	struct rp_proc *gp;  /* the groups' process (rp_model) */
	struct rs_proc *sp;  /* the stacks' process (rs_model) */
	struct rs_model *sm;
	struct rp_model *gm;
	int64_t pid;
	bool have_pid, have_time, have_sampling;
	uint32_t ngroups;     /* group records read */
	bool *group_defined;  /* by id, ngroups of them */
	uint64_t nsites;
	uint64_t *stack_ids;  /* the file's id of each stack, increasing */
	size_t stack_ids_cap;
	char *err;            /* the first error, allocated */
	bool oom;
};

static bool __attribute__((format(printf, 2, 3))) bad(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->err)
		return false;
	va_start(ap, fmt);
	if (vasprintf(&r->err, fmt, ap) < 0) {
		r->err = NULL;
		r->oom = true;
	}
	va_end(ap);
	return false;
}

static bool oom(struct reader *r)
{
	r->oom = true;
	return false;
}

/* ---- fields ---------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode @s in place ("%" alone: the empty string). */
static bool decode_string(struct reader *r, char *s, const char *what)
{
	char *out = s;

	if (!strcmp(s, "%")) {
		*s = 0;
		return true;
	}
	for (char *in = s; *in; in++) {
		if (*in != '%') {
			if ((unsigned char)*in < 0x21 || (unsigned char)*in > 0x7e)
				return bad(r, "%s: byte 0x%02x is not percent-encoded", what,
				           (unsigned char)*in);
			*out++ = *in;
			continue;
		}
		if (hexval(in[1]) < 0 || hexval(in[2]) < 0)
			return bad(r, "%s: bad percent escape '%.3s'", what, in);
		*out++ = (char)(hexval(in[1]) * 16 + hexval(in[2]));
		in += 2;
	}
	*out = 0;
	return true;
}

static bool parse_u64(struct reader *r, const char *s, int base, uint64_t *v, const char *what)
{
	char *end;

	if (base == 16) {
		if (s[0] != '0' || s[1] != 'x' || !s[2])
			return bad(r, "%s '%s' is not a hexadecimal number 0x...", what, s);
		s += 2;
	}
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return bad(r, "%s '%s' is not a number", what, s);
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return bad(r, "%s '%s' is out of range", what, s);
	if (*end)
		return bad(r, "%s '%s' is not a number", what, s);
	return true;
}

static bool parse_id(struct reader *r, const char *s, uint32_t expect, const char *what)
{
	uint64_t v;

	if (!parse_u64(r, s, 10, &v, what))
		return false;
	if (v != expect)
		return bad(r, "%s %s out of sequence (expected %u: ids are dense from 0)", what, s,
		           expect);
	return true;
}

/* ---- records --------------------------------------------------------------- */

static bool rec_header(struct reader *r, char **f, int n)
{
	uint64_t v;
	bool *have = !strcmp(f[0], "pid") ? &r->have_pid :
	             !strcmp(f[0], "time") ? &r->have_time : &r->have_sampling;

	if (n != 2)
		return bad(r, "'%s' takes one number", f[0]);
	if (*have)
		return bad(r, "a second '%s' record", f[0]);
	if (r->sp->nmodules || r->ngroups || r->sp->nstacks || r->nsites)
		return bad(r, "'%s' after the module, group, stack or site records", f[0]);
	if (!parse_u64(r, f[1], 10, &v, f[0]))
		return false;
	*have = true;
	if (!strcmp(f[0], "pid")) {
		if (v > INT64_MAX)
			return bad(r, "pid %s is out of range", f[1]);
		r->pid = (int64_t)v;
		r->sp->pid = r->pid;
	} else if (!strcmp(f[0], "time")) {
		r->sm->profile_time = v > INT64_MAX ? INT64_MAX : (int64_t)v;
	} else {
		r->sm->sampling = v;
	}
	return true;
}

static bool parse_build_id(struct reader *r, const char *s, uint8_t *out, size_t *len)
{
	size_t n = strlen(s);

	*len = 0;
	if (!strcmp(s, "-"))
		return true;
	if (n % 2 || n / 2 > RS_BUILD_ID_MAX || !n)
		return bad(r, "build id '%s' is not '-' or an even number of hex digits (at most %d "
		              "bytes)", s, RS_BUILD_ID_MAX);
	for (size_t i = 0; i < n; i += 2) {
		if (hexval(s[i]) < 0 || hexval(s[i + 1]) < 0)
			return bad(r, "build id '%s' is not hexadecimal", s);
		out[i / 2] = (uint8_t)(hexval(s[i]) * 16 + hexval(s[i + 1]));
	}
	*len = n / 2;
	return true;
}

static bool rec_module(struct reader *r, char **f, int n)
{
	uint64_t start, end;
	uint8_t id[RS_BUILD_ID_MAX];
	size_t idlen;
	int32_t m;

	if (n != 6)
		return bad(r, "'module' takes ID START END PATH BUILD_ID (%d fields given)", n - 1);
	if (r->ngroups || r->sp->nstacks || r->nsites)
		return bad(r, "'module' after the group, stack or site records");
	if (!parse_id(r, f[1], r->sp->nmodules, "module id") ||
	    !parse_u64(r, f[2], 16, &start, "module start") ||
	    !parse_u64(r, f[3], 16, &end, "module end") ||
	    !decode_string(r, f[4], "module path") || !parse_build_id(r, f[5], id, &idlen))
		return false;
	if (end <= start)
		return bad(r, "module %s ends (%s) before it starts (%s)", f[1], f[3], f[2]);
	m = rs_proc_add_module(r->sp, f[4], start, end, start, RS_BASE_BIAS);
	if (m < 0)
		return oom(r);
	rs_proc_set_build_id(r->sp, m, id, idlen);
	return true;
}

static bool rec_group(struct reader *r, char **f, int n)
{
	uint64_t gid;
	void *v;

	if (n < 3)
		return bad(r, "'group' takes ID NAME [KEY=VALUE]...");
	if (r->sp->nstacks || r->nsites)
		return bad(r, "'group' after the stack or site records");
	if (!parse_u64(r, f[1], 10, &gid, "group id"))
		return false;
	if (gid > UINT32_MAX)
		return bad(r, "group id %s is out of range", f[1]);
	if (gid < r->ngroups && r->group_defined[gid])
		return bad(r, "group %s is defined twice", f[1]);
	if (!decode_string(r, f[2], "group name"))
		return false;
	if (!r->gp && !(r->gp = rp_model_proc(r->gm, r->pid)))
		return oom(r);
	if (!rp_on_register(r->gp, (uint32_t)gid, f[2]))
		return oom(r);
	for (int i = 3; i < n; i++) {
		char *eq = strchr(f[i], '=');

		if (!eq)
			return bad(r, "group %s: tag '%s' is not KEY=VALUE", f[1], f[i]);
		*eq = 0;
		if (!decode_string(r, f[i], "tag key") || !decode_string(r, eq + 1, "tag value"))
			return false;
		if (!rp_on_tag(r->gp, (uint32_t)gid, f[i], eq + 1))
			return oom(r);
	}
	/* group ids are the program's, not dense: remember which are defined */
	if (gid >= r->ngroups) {
		v = realloc(r->group_defined, (size_t)(gid + 1) * sizeof(bool));
		if (!v)
			return oom(r);
		r->group_defined = v;
		memset(r->group_defined + r->ngroups, 0, (size_t)(gid + 1 - r->ngroups));
		r->ngroups = (uint32_t)gid + 1;
	}
	r->group_defined[gid] = true;
	return true;
}

static bool rec_stack(struct reader *r, char **f, int n)
{
	struct rs_frame fr[RS_STACK_MAX];
	uint64_t fid;
	int64_t id;
	void *ids;

	if (n < 2)
		return bad(r, "'stack' takes ID FRAME...");
	if (n - 2 > RS_STACK_MAX)
		return bad(r, "stack %s has %d frames (at most %d)", f[1], n - 2, RS_STACK_MAX);
	if (!parse_u64(r, f[1], 10, &fid, "stack id"))
		return false;
	/* dense from 0 in the format; gaps are accepted, disorder is not */
	if (r->sp->nstacks && fid <= r->stack_ids[r->sp->nstacks - 1])
		return bad(r, "stack id %s is not above the previous one (%llu)", f[1],
		           (unsigned long long)r->stack_ids[r->sp->nstacks - 1]);
	for (int i = 2; i < n; i++) {
		char *plus = strchr(f[i], '+');
		uint64_t v, mod;

		if (!plus)
			return bad(r, "frame '%s' is not MODULE+0xOFFSET or ?+0xADDRESS", f[i]);
		*plus = 0;
		if (!parse_u64(r, plus + 1, 16, &v, "frame offset"))
			return false;
		if (!strcmp(f[i], "?")) {
			fr[i - 2] = (struct rs_frame){ RS_NO_MODULE, v };
			continue;
		}
		if (!parse_u64(r, f[i], 10, &mod, "frame module"))
			return false;
		if (mod >= r->sp->nmodules)
			return bad(r, "frame %s+%s names module %s, which no module record defines",
			           f[i], plus + 1, f[i]);
		fr[i - 2] = (struct rs_frame){ (int32_t)mod, r->sp->modules[mod].base + v };
	}
	if (r->sp->nstacks == r->stack_ids_cap) {
		size_t ncap = r->stack_ids_cap ? r->stack_ids_cap * 2 : 256;

		ids = realloc(r->stack_ids, ncap * sizeof(*r->stack_ids));
		if (!ids)
			return oom(r);
		r->stack_ids = ids;
		r->stack_ids_cap = ncap;
	}
	id = rs_proc_stack_new(r->sp, fr, (uint32_t)(n - 2));
	if (id < 0)
		return oom(r);
	r->stack_ids[id] = fid;
	return true;
}

/* The stack read with file id @fid, by binary search: into *@out. */
static bool stack_index(const struct reader *r, uint64_t fid, uint64_t *out)
{
	size_t lo = 0, hi = r->sp->nstacks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->stack_ids[mid] < fid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->sp->nstacks || r->stack_ids[lo] != fid)
		return false;
	*out = lo;
	return true;
}

static bool rec_site(struct reader *r, char **f, int n)
{
	static const char *const keys[] = { "live_objects", "live_bytes", "live_estimate",
	                                    "allocated_objects", "allocated_bytes",
	                                    "allocated_estimate" };
	struct rs_counts c = { 0 };
	uint64_t *slot[] = { &c.live_objects, &c.live_bytes, &c.live_estimate,
	                     &c.alloc_objects, &c.alloc_bytes, &c.alloc_estimate };
	unsigned seen = 0;
	uint64_t gid, stack;
	bool dup;

	if (n < 3)
		return bad(r, "'site' takes GROUP STACK KEY=VALUE...");
	if (!parse_u64(r, f[1], 10, &gid, "site group") || !parse_u64(r, f[2], 10, &stack, "site stack"))
		return false;
	if (gid >= r->ngroups || !r->group_defined[gid])
		return bad(r, "site names group %s, which no group record defines", f[1]);
	if (!stack_index(r, stack, &stack))
		return bad(r, "site names stack %s, which no stack record defines", f[2]);
	for (int i = 3; i < n; i++) {
		char *eq = strchr(f[i], '=');
		size_t k;

		if (!eq)
			return bad(r, "site field '%s' is not KEY=VALUE", f[i]);
		*eq = 0;
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k], f[i]); k++)
			;
		if (k == sizeof(keys) / sizeof(keys[0]))
			continue; /* a key of a later version */
		if (seen & (1u << k))
			return bad(r, "site field '%s' given twice", f[i]);
		seen |= 1u << k;
		if (!parse_u64(r, eq + 1, 10, slot[k], f[i]))
			return false;
	}
	if (!(seen & (1u << 2)))
		return bad(r, "site has no live_estimate");
	if (c.live_objects > c.alloc_objects && (seen & (1u << 3)))
		return bad(r, "site has more live_objects (%llu) than allocated_objects (%llu)",
		           (unsigned long long)c.live_objects, (unsigned long long)c.alloc_objects);
	if (!rs_proc_add_site(r->sp, (uint32_t)gid, (uint32_t)stack, &c, &dup))
		return dup ? bad(r, "a second site record for group %s, stack %s", f[1], f[2]) : oom(r);
	r->nsites++;
	return true;
}

/* ---- the file -------------------------------------------------------------- */

/* Split @line at single spaces into @f (at most FIELDS_MAX); -1: malformed. */
static int split(struct reader *r, char *line, char **f)
{
	int n = 0;

	if (!*line)
		return bad(r, "empty line"), -1;
	for (char *s = line;;) {
		char *sp = strchr(s, ' ');

		if (n == FIELDS_MAX)
			return bad(r, "too many fields"), -1;
		if (sp == s || (sp && !sp[1]))
			return bad(r, "fields must be separated by one space"), -1;
		f[n++] = s;
		if (!sp)
			break;
		*sp = 0;
		s = sp + 1;
	}
	return n;
}

static bool read_lines(struct reader *r, FILE *in)
{
	char *line = NULL, *f[FIELDS_MAX];
	size_t cap = 0;
	ssize_t len;
	bool ended = false, ok = true;
	uint64_t count;

	while (ok && (len = getline(&line, &cap, in)) >= 0) {
		int n;

		r->line++;
		if (ended) {
			ok = bad(r, "data after the 'end' line");
			break;
		}
		if (len == 0 || line[len - 1] != '\n') {
			ok = bad(r, "truncated (the last line has no newline, no 'end' line)");
			break;
		}
		line[len - 1] = 0;
		if ((size_t)len - 1 != strlen(line)) {
			ok = bad(r, "a NUL byte in the line");
			break;
		}
		n = split(r, line, f);
		if (n < 0) {
			ok = false;
		} else if (r->line == 1) {
			uint64_t v;

			if (strcmp(f[0], "trackalloc-profile") || n != 2)
				ok = bad(r, "not a trackalloc profile (the first line is not "
				            "'trackalloc-profile VERSION')");
			else if (!parse_u64(r, f[1], 10, &v, "version"))
				ok = false;
			else if (v != PROFILE_VERSION)
				ok = bad(r, "profile version %s is not supported (this report reads "
				            "version %d)", f[1], PROFILE_VERSION);
		} else if (!strcmp(f[0], "pid") || !strcmp(f[0], "time") || !strcmp(f[0], "sampling")) {
			ok = rec_header(r, f, n);
		} else if (!strcmp(f[0], "module")) {
			ok = rec_module(r, f, n);
		} else if (!strcmp(f[0], "group")) {
			ok = rec_group(r, f, n);
		} else if (!strcmp(f[0], "stack")) {
			ok = rec_stack(r, f, n);
		} else if (!strcmp(f[0], "site")) {
			ok = rec_site(r, f, n);
		} else if (!strcmp(f[0], "end")) {
			if (n != 2 || !parse_u64(r, f[1], 10, &count, "end count"))
				ok = n != 2 ? bad(r, "'end' takes the number of site records") : false;
			else if (count != r->nsites)
				ok = bad(r, "truncated or damaged: 'end %s' but %llu site records", f[1],
				         (unsigned long long)r->nsites);
			ended = true;
		} else {
			ok = bad(r, "unknown record '%.40s'", f[0]);
		}
	}
	free(line);
	if (ok && ferror(in))
		ok = bad(r, "read error: %s", strerror(errno));
	if (ok && r->line == 0)
		ok = bad(r, "empty file (not a trackalloc profile)");
	else if (ok && !ended)
		ok = bad(r, "truncated (no 'end' line after %llu site records)",
		         (unsigned long long)r->nsites);
	return ok;
}

int rp_read_profile(const char *path, struct rp_model *gm, struct rs_model *sm)
{
	struct reader r = { .path = path, .sm = sm, .gm = gm };
	struct stat st;
	FILE *in;
	int ret = RP_EXIT_OK;

	in = fopen(path, "r");
	if (!in) {
		fprintf(stderr, RP_PREFIX "%s: cannot open the profile: %s\n", path, strerror(errno));
		return RP_EXIT_INPUT;
	}
	if (fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, RP_PREFIX "%s: is a directory, not a profile file (a trace "
		                "directory goes without --profile)\n", path);
		fclose(in);
		return RP_EXIT_INPUT;
	}
	sm->from_profile = true;
	/* the pid is not known yet: one process, renumbered by the pid record */
	r.sp = rs_model_proc(sm, 0);
	if (!r.sp) {
		fclose(in);
		fprintf(stderr, RP_PREFIX "out of memory\n");
		return RP_EXIT_OUTPUT;
	}
	if (!read_lines(&r, in) || r.oom) {
		if (r.oom) {
			fprintf(stderr, RP_PREFIX "out of memory\n");
			ret = RP_EXIT_OUTPUT;
		} else {
			fprintf(stderr, RP_PREFIX "%s:%lu: %s\n", path, r.line, r.err);
			ret = RP_EXIT_INPUT;
		}
	}
	fclose(in);
	free(r.err);
	free(r.group_defined);
	free(r.stack_ids);
	return ret;
}
