/* SPDX-License-Identifier: MIT */
/*
 * TRACKALLOC_REPORT and the environment: run report-helper (path in
 * TA_REPORT_HELPER) with the variables set, parse the JSON it leaves, and
 * check every group's name, tags and counters and the diagnostics. Malformed
 * variables are reported once on stderr and ignored.
 *
 * The JSON is parsed for real (a small strict parser below), so a report that
 * is not valid JSON fails even when the expected substrings are in it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ta-check.h"

/* ---- a strict little JSON parser ---------------------------------------- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype type;
	char *s;          /* J_STR: decoded text; J_NUM: the literal; J_BOOL: "true"/"false" */
	size_t n;         /* J_ARR, J_OBJ: number of members */
	struct jv *items; /* J_ARR elements, J_OBJ values */
	char **keys;      /* J_OBJ keys */
};

struct jp {
	const char *p;
	int depth;
};

static int jparse_value(struct jp *jp, struct jv *out);

static void jskip_ws(struct jp *jp)
{
	while (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r')
		jp->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string starting at the opening quote; decodes escapes (\u below 0x80
 * only, which is all the report has reason to produce). */
static int jparse_string(struct jp *jp, char **out)
{
	size_t cap = 16, len = 0;
	char *buf = tw.malloc(cap);

	if (!buf || *jp->p != '"')
		return -1;
	jp->p++;
	for (;;) {
		char c = *jp->p++;

		if (c == '"')
			break;
		if (c == '\0' || (unsigned char)c < 0x20)
			return -1;
		if (c == '\\') {
			char e = *jp->p++;
			int i, v = 0;

			switch (e) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				for (i = 0; i < 4; i++) {
					int h = hexval(*jp->p++);

					if (h < 0)
						return -1;
					v = v * 16 + h;
				}
				if (v == 0 || v >= 0x80)
					return -1;
				c = (char)v;
				break;
			default:
				return -1;
			}
		}
		if (len + 2 > cap) {
			char *nb = tw.realloc(buf, cap *= 2);

			if (!nb)
				return -1;
			buf = nb;
		}
		buf[len++] = c;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static int jparse_number(struct jp *jp, struct jv *out)
{
	const char *start = jp->p;
	size_t len;

	if (*jp->p == '-')
		jp->p++;
	if (*jp->p == '0')
		jp->p++;
	else if (*jp->p >= '1' && *jp->p <= '9')
		while (*jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	else
		return -1;
	if (*jp->p == '.') {
		jp->p++;
		if (!(*jp->p >= '0' && *jp->p <= '9'))
			return -1;
		while (*jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	}
	if (*jp->p == 'e' || *jp->p == 'E') {
		jp->p++;
		if (*jp->p == '+' || *jp->p == '-')
			jp->p++;
		if (!(*jp->p >= '0' && *jp->p <= '9'))
			return -1;
		while (*jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	}
	len = (size_t)(jp->p - start);
	out->type = J_NUM;
	out->s = tw.malloc(len + 1);
	if (!out->s)
		return -1;
	memcpy(out->s, start, len);
	out->s[len] = '\0';
	return 0;
}

/* Append a member to an array or object under construction. */
static struct jv *jpush(struct jv *v, char *key)
{
	struct jv *items = tw.reallocarray(v->items, v->n + 1, sizeof(*items));
	char **keys;

	if (!items)
		return NULL;
	v->items = items;
	if (v->type == J_OBJ) {
		keys = tw.reallocarray(v->keys, v->n + 1, sizeof(*keys));
		if (!keys)
			return NULL;
		v->keys = keys;
		keys[v->n] = key;
	}
	memset(&items[v->n], 0, sizeof(items[v->n]));
	return &items[v->n++];
}

static int jparse_container(struct jp *jp, struct jv *out, char close)
{
	out->type = close == '}' ? J_OBJ : J_ARR;
	jp->p++;
	jskip_ws(jp);
	if (*jp->p == close) {
		jp->p++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		struct jv *slot;

		jskip_ws(jp);
		if (out->type == J_OBJ) {
			if (jparse_string(jp, &key) < 0)
				return -1;
			jskip_ws(jp);
			if (*jp->p++ != ':')
				return -1;
		}
		slot = jpush(out, key);
		if (!slot || jparse_value(jp, slot) < 0)
			return -1;
		jskip_ws(jp);
		if (*jp->p == ',') {
			jp->p++;
			continue;
		}
		if (*jp->p++ != close)
			return -1;
		return 0;
	}
}

static int jparse_value(struct jp *jp, struct jv *out)
{
	int ret;

	if (++jp->depth > 64)
		return -1;
	jskip_ws(jp);
	memset(out, 0, sizeof(*out));
	switch (*jp->p) {
	case '{':
		ret = jparse_container(jp, out, '}');
		break;
	case '[':
		ret = jparse_container(jp, out, ']');
		break;
	case '"':
		out->type = J_STR;
		ret = jparse_string(jp, &out->s);
		break;
	case 't':
	case 'f':
	case 'n': {
		static const char *const words[] = { "true", "false", "null" };
		size_t i;

		ret = -1;
		for (i = 0; i < 3; i++) {
			size_t len = strlen(words[i]);

			if (strncmp(jp->p, words[i], len) == 0) {
				out->type = i == 2 ? J_NULL : J_BOOL;
				out->s = (char *)words[i];
				jp->p += len;
				ret = 0;
			}
		}
		break;
	}
	default:
		ret = jparse_number(jp, out);
		break;
	}
	jp->depth--;
	return ret;
}

/* Parse a whole document: one value and nothing but white space after it. */
static int jparse(const char *text, struct jv *out)
{
	struct jp jp = { text, 0 };

	if (jparse_value(&jp, out) < 0)
		return -1;
	jskip_ws(&jp);
	return *jp.p == '\0' ? 0 : -1;
}

static const struct jv *jget(const struct jv *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	return NULL;
}

/* An unsigned integer member; fails the test when it is anything else. */
static unsigned long long jget_u64(const struct jv *obj, const char *key)
{
	const struct jv *v = jget(obj, key);
	unsigned long long n;
	char *end;

	ck_assert_msg(v && v->type == J_NUM, "no number \"%s\"", key);
	errno = 0;
	n = strtoull(v->s, &end, 10);
	ck_assert_msg(*end == '\0' && errno == 0 && v->s[0] != '-', "\"%s\": %s is not a count",
	              key, v->s);
	return n;
}

static const struct jv *jgroup(const struct jv *doc, const char *name)
{
	const struct jv *groups = jget(doc, "groups"), *found = NULL;
	size_t i;

	ck_assert_msg(groups && groups->type == J_ARR, "no \"groups\" array");
	for (i = 0; i < groups->n; i++) {
		const struct jv *n = jget(&groups->items[i], "name");

		ck_assert_msg(n && n->type == J_STR, "group %zu has no name", i);
		if (strcmp(n->s, name) == 0) {
			ck_assert_msg(!found, "group \"%s\" listed twice", name);
			found = &groups->items[i];
		}
	}
	ck_assert_msg(found, "group \"%s\" missing", name);
	return found;
}

/* ---- running the helper ------------------------------------------------- */

static const char *helper_path(void)
{
	const char *p = getenv("TA_REPORT_HELPER");

	ck_assert_msg(p && *p, "TA_REPORT_HELPER is not set (run through meson test)");
	return p;
}

struct run {
	char report[64], err[64];
	int status;
	char *report_text, *err_text;
};

static void make_temp(char *path, size_t len, const char *what)
{
	int fd;

	snprintf(path, len, "/tmp/ta-%s-XXXXXX", what);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

/* Run the helper with @env added; report_to is the TRACKALLOC_REPORT value,
 * "FILE" for a fresh temporary file, or NULL for none. */
static void run_helper(struct run *r, const char *report_to, char *const env[])
{
	char *argv[] = { (char *)helper_path(), NULL };
	char *full_env[16], report_var[128];
	size_t n = 0, i;
	int lttng_set = 0;

	make_temp(r->err, sizeof(r->err), "stderr");
	r->report[0] = '\0';
	if (report_to && strcmp(report_to, "FILE") == 0) {
		make_temp(r->report, sizeof(r->report), "report");
		report_to = r->report;
	}
	if (report_to) {
		snprintf(report_var, sizeof(report_var), "TRACKALLOC_REPORT=%s", report_to);
		full_env[n++] = report_var;
	}
	for (i = 0; env && env[i] && n < 14; i++) {
		full_env[n++] = env[i];
		lttng_set |= strncmp(env[i], "TRACKALLOC_LTTNG=", 17) == 0;
	}
	/* No LTTng unless a test asks for it: loading LTTng-UST (in builds
	 * that have it) costs start-up time and says nothing about reports. */
	if (!lttng_set)
		full_env[n++] = "TRACKALLOC_LTTNG=0";
	full_env[n] = NULL;
	r->status = run_program(argv, full_env, NULL, r->err);
	r->err_text = slurp(r->err, NULL);
	r->report_text = r->report[0] ? slurp(r->report, NULL) : NULL;
	unlink(r->err);
	if (r->report[0])
		unlink(r->report);
	ck_assert_msg(r->status == 0, "helper: wait status %#x, stderr:\n%s", r->status,
	              r->err_text ? r->err_text : "?");
	ck_assert_ptr_nonnull(r->err_text);
}

static unsigned count_substr(const char *hay, const char *needle)
{
	unsigned n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Everything the helper's report must say. */
static void check_report(const char *text)
{
	struct jv doc;
	const struct jv *g, *tags, *diag, *root;

	ck_assert_msg(jparse(text, &doc) == 0, "report is not valid JSON:\n%s", text);
	ck_assert_int_eq(doc.type, J_OBJ);

	root = jgroup(&doc, "root");
	tags = jget(root, "tags");
	ck_assert_msg(tags && tags->type == J_OBJ && tags->n == 0, "root has tags");

	g = jgroup(&doc, "rpt-alpha");
	tags = jget(g, "tags");
	ck_assert_msg(tags && tags->type == J_OBJ, "rpt-alpha: no tags object");
	ck_assert_uint_eq(tags->n, 2);
	ck_assert_str_eq(jget(tags, "team") ? jget(tags, "team")->s : "", "core");
	ck_assert_str_eq(jget(tags, "tier") ? jget(tags, "tier")->s : "", "1");
	ck_assert_uint_eq(jget_u64(g, "allocated_bytes"), 300);
	ck_assert_uint_eq(jget_u64(g, "allocated_objects"), 3);
	ck_assert_uint_eq(jget_u64(g, "freed_bytes"), 100);
	ck_assert_uint_eq(jget_u64(g, "freed_objects"), 1);

	g = jgroup(&doc, "rpt-beta");
	tags = jget(g, "tags");
	ck_assert_msg(tags && tags->type == J_OBJ && tags->n == 0, "rpt-beta: tags");
	ck_assert_uint_eq(jget_u64(g, "allocated_bytes"), 7);
	ck_assert_uint_eq(jget_u64(g, "allocated_objects"), 1);
	ck_assert_uint_eq(jget_u64(g, "freed_bytes"), 0);
	ck_assert_uint_eq(jget_u64(g, "freed_objects"), 0);

	/* escaped name and tag, decoded back to the registered strings */
	g = jgroup(&doc, "rpt-\"odd\"\\name\t");
	tags = jget(g, "tags");
	ck_assert_msg(tags && tags->type == J_OBJ && tags->n == 1, "odd group: tags");
	ck_assert_str_eq(tags->keys[0], "k\"ey");
	ck_assert_str_eq(tags->items[0].s, "va\\lue\n");
	ck_assert_uint_eq(jget_u64(g, "allocated_bytes"), 11);
	ck_assert_uint_eq(jget_u64(g, "freed_bytes"), 11);

	diag = jget(&doc, "diagnostics");
	ck_assert_msg(diag && diag->type == J_OBJ, "no \"diagnostics\" object");
	ck_assert_uint_eq(jget_u64(diag, "foreign_frees"), 1);
	ck_assert_uint_eq(jget_u64(diag, "double_frees"), 0);
	ck_assert_uint_eq(jget_u64(diag, "corrupt_trailers"), 0);
	(void)jget_u64(diag, "bootstrap_frees");
}

START_TEST(json_parser_self_test)
{
	/* the checker must itself reject what is not JSON */
	static const char *const bad[] = { "", "{", "{\"a\":}", "{\"a\":1,}", "[1 2]",
		                           "{\"a\":01}", "\"\\x\"", "{} x", "{'a':1}",
		                           "[\"tab\there\"]" };
	struct jv v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(jparse(bad[i], &v) < 0, "accepted: %s", bad[i]);
	ck_assert_int_eq(jparse(" {\"a\": [1, -2.5e3, true, null, \"x\\u0041\"], \"b\": {}} ",
	                        &v),
	                 0);
	ck_assert_str_eq(jget(&v, "a")->items[4].s, "xA");
	ck_assert_uint_eq(jget(&v, "a")->n, 5);
}
END_TEST

START_TEST(report_to_file)
{
	struct run r;

	run_helper(&r, "FILE", NULL);
	ck_assert_msg(r.report_text != NULL, "no report file written");
	check_report(r.report_text);
	/* the library writes nothing else */
	ck_assert_str_eq(r.err_text, "");
}
END_TEST

START_TEST(report_to_stderr)
{
	struct run r;

	run_helper(&r, "-", NULL);
	check_report(r.err_text);
}
END_TEST

START_TEST(no_report_without_variable)
{
	struct run r;

	run_helper(&r, NULL, NULL);
	ck_assert_str_eq(r.err_text, "");
}
END_TEST

/* _i: one malformed value of TRACKALLOC_SAMPLE_MS */
START_TEST(malformed_sample_ms)
{
	static char *const values[] = {
		"TRACKALLOC_SAMPLE_MS=abc", "TRACKALLOC_SAMPLE_MS=",
		"TRACKALLOC_SAMPLE_MS=0", "TRACKALLOC_SAMPLE_MS=-5",
		"TRACKALLOC_SAMPLE_MS=10ms", "TRACKALLOC_SAMPLE_MS= 10",
		"TRACKALLOC_SAMPLE_MS=99999999999999999999999",
	};
	char *env[] = { values[_i], NULL };
	struct run r;

	run_helper(&r, "FILE", env);
	ck_assert_msg(count_substr(r.err_text, "TRACKALLOC_SAMPLE_MS") == 1,
	              "%s: stderr should name the variable once:\n%s", values[_i], r.err_text);
	ck_assert_msg(count_substr(r.err_text, "\n") == 1, "%s: one line expected:\n%s",
	              values[_i], r.err_text);
	/* ignored: the program ran normally and still wrote its report */
	ck_assert_msg(r.report_text != NULL, "no report file written");
	check_report(r.report_text);
}
END_TEST

START_TEST(malformed_lttng_switch)
{
	char *env[] = { "TRACKALLOC_LTTNG=yes", "TRACKALLOC_SAMPLE_MS=abc", NULL };
	struct run r;

	run_helper(&r, "FILE", env);
	ck_assert_uint_eq(count_substr(r.err_text, "TRACKALLOC_LTTNG"), 1);
	ck_assert_uint_eq(count_substr(r.err_text, "TRACKALLOC_SAMPLE_MS"), 1);
	ck_assert_uint_eq(count_substr(r.err_text, "\n"), 2);
	check_report(r.report_text ? r.report_text : "");
}
END_TEST

START_TEST(valid_values_are_quiet)
{
	char *env[] = { "TRACKALLOC_LTTNG=0", "TRACKALLOC_SAMPLE_MS=250", NULL };
	struct run r;

	run_helper(&r, "FILE", env);
	ck_assert_str_eq(r.err_text, "");
	check_report(r.report_text ? r.report_text : "");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_new("report");

	tcase_add_test(tc, json_parser_self_test);
	tcase_add_test(tc, report_to_file);
	tcase_add_test(tc, report_to_stderr);
	tcase_add_test(tc, no_report_without_variable);
	tcase_add_loop_test(tc, malformed_sample_ms, 0, 7);
	tcase_add_test(tc, malformed_lttng_switch);
	tcase_add_test(tc, valid_values_are_quiet);
	suite_add_tcase(s, tc);
	return s;
}
