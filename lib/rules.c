/* SPDX-License-Identifier: MIT */
/*
 * The rule set (trackalloc.h, "Rules"): parsing, ta_rules_set and
 * TRACKALLOC_GROUPS, and the match of a thread's or a module's name to a
 * group. A rule set is parsed whole before anything changes; the one in
 * force is read under ta_rules_lock, only on rare events (a thread's set-up
 * or rename, a module's first call): never per allocation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules-internal.h"
#include "sampling-internal.h"

enum ta_rule_kind { TA_RULE_THREAD, TA_RULE_LIB };

struct ta_rule {
	int kind;
	char glob[TA_TAG_VALUE_MAX + 1];
	char group[TA_GROUP_NAME_MAX + 1]; /* the template, %n unexpanded */
	char text[TA_TAG_VALUE_MAX + 1];   /* the rule as written: the tag */
};

struct ta_rule_set {
	uint32_t n;
	struct ta_rule rule[TA_RULES_MAX];
};

static struct ta_rule_set *ta_rules; /* NULL: no rules; under ta_rules_lock */
static pthread_mutex_t ta_rules_lock = PTHREAD_MUTEX_INITIALIZER;
uint64_t ta_rules_gen;
int ta_rules_thread_on, ta_rules_lib_on;

/* ---- parsing ------------------------------------------------------------ */

struct ta_rules_error {
	size_t pos;
	uint32_t rule;
	char reason[96];
};

static int ta_rules_fail(struct ta_rules_error *e, size_t pos, uint32_t rule, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));

static int ta_rules_fail(struct ta_rules_error *e, size_t pos, uint32_t rule, const char *fmt, ...)
{
	va_list ap;

	e->pos = pos;
	e->rule = rule;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Check a group template: non-empty, only %n and %% escapes, and short
 * enough that the longest expansion (a library stem can be long; thread
 * names are at most 15 bytes) is cut, not refused: see ta_rules_expand. */
static int ta_rules_parse_group(const char *g, size_t len, size_t pos, uint32_t k,
                                struct ta_rules_error *e)
{
	size_t i;

	if (len == 0)
		return ta_rules_fail(e, pos, k, "empty group name");
	if (len > TA_GROUP_NAME_MAX)
		return ta_rules_fail(e, pos, k, "group name longer than %d bytes",
		                     TA_GROUP_NAME_MAX);
	for (i = 0; i < len; i++) {
		if (g[i] != '%')
			continue;
		if (i + 1 < len && (g[i + 1] == 'n' || g[i + 1] == '%')) {
			i++;
			continue;
		}
		if (i + 1 == len)
			return ta_rules_fail(e, pos + i, k, "'%%' at the end of the group name "
			                     "(%%n: the name, %%%%: '%%')");
		return ta_rules_fail(e, pos + i, k, "unknown escape '%%%c' (%%n: the name, "
		                     "%%%%: '%%')", g[i + 1]);
	}
	return 0;
}

/* One rule, @len bytes at @s (position @pos in the whole text). */
static int ta_rules_parse_one(const char *s, size_t len, size_t pos, uint32_t k,
                              struct ta_rule *r, struct ta_rules_error *e)
{
	const char *colon = memchr(s, ':', len), *eq;
	size_t kind_len, glob_len, group_len;

	if (len == 0)
		return ta_rules_fail(e, pos, k, "empty rule");
	if (len > TA_TAG_VALUE_MAX)
		return ta_rules_fail(e, pos, k, "rule longer than %d bytes", TA_TAG_VALUE_MAX);
	kind_len = colon ? (size_t)(colon - s) : len;
	if (kind_len == 6 && memcmp(s, "thread", 6) == 0)
		r->kind = TA_RULE_THREAD;
	else if (kind_len == 3 && memcmp(s, "lib", 3) == 0)
		r->kind = TA_RULE_LIB;
	else if (!colon)
		return ta_rules_fail(e, pos, k, "missing ':' (KIND:GLOB=GROUP)");
	else
		return ta_rules_fail(e, pos, k, "unknown kind '%.*s' (thread or lib)",
		                     (int)(kind_len < 32 ? kind_len : 32), s);
	if (!colon)
		return ta_rules_fail(e, pos + len, k, "missing ':' after '%.*s'", (int)kind_len, s);
	eq = memchr(colon + 1, '=', len - kind_len - 1);
	if (!eq)
		return ta_rules_fail(e, pos + len, k, "missing '=' (KIND:GLOB=GROUP)");
	glob_len = (size_t)(eq - colon - 1);
	if (glob_len == 0)
		return ta_rules_fail(e, pos + kind_len + 1, k, "empty glob");
	group_len = len - kind_len - 1 - glob_len - 1;
	if (ta_rules_parse_group(eq + 1, group_len, pos + (size_t)(eq + 1 - s), k, e) < 0)
		return -EINVAL;
	memcpy(r->glob, colon + 1, glob_len);
	r->glob[glob_len] = '\0';
	memcpy(r->group, eq + 1, group_len);
	r->group[group_len] = '\0';
	memcpy(r->text, s, len);
	r->text[len] = '\0';
	return 0;
}

/* Parse @text into @set (which may be NULL: check only). "" has no rules. */
static int ta_rules_parse(const char *text, struct ta_rule_set *set, struct ta_rules_error *e)
{
	struct ta_rule scratch;
	size_t pos = 0, total = strlen(text);
	uint32_t k = 0;

	if (set)
		set->n = 0;
	if (total == 0)
		return 0;
	for (;;) {
		const char *end = memchr(text + pos, ';', total - pos);
		size_t len = end ? (size_t)(end - text) - pos : total - pos;

		if (k == TA_RULES_MAX)
			return ta_rules_fail(e, pos, k + 1, "more than %d rules", TA_RULES_MAX);
		if (ta_rules_parse_one(text + pos, len, pos, k + 1,
		                       set ? &set->rule[k] : &scratch, e) < 0)
			return -EINVAL;
		k++;
		if (!end)
			break;
		pos += len + 1;
	}
	if (set)
		set->n = k;
	return 0;
}

static void ta_rules_describe(const struct ta_rules_error *e, char *buf, size_t size)
{
	snprintf(buf, size, "byte %zu, rule %u: %s", e->pos, e->rule, e->reason);
}

TA_API int ta_rules_check(const char *rules, char *err, size_t size)
{
	struct ta_rules_error e;
	int r;

	if (err && size)
		err[0] = '\0';
	if (!rules)
		return 0;
	r = ta_rules_parse(rules, NULL, &e);
	if (r < 0 && err && size)
		ta_rules_describe(&e, err, size);
	return r;
}

/* ---- applying ----------------------------------------------------------- */

static int ta_rules_apply(struct ta_rule_set *set)
{
	struct ta_rule_set *old;
	int thread_on = 0, lib_on = 0;
	uint32_t i;

	for (i = 0; set && i < set->n; i++) {
		thread_on |= set->rule[i].kind == TA_RULE_THREAD;
		lib_on |= set->rule[i].kind == TA_RULE_LIB;
	}
	if (set && set->n == 0) {
		ta_inner.free(set);
		set = NULL;
	}
	pthread_mutex_lock(&ta_rules_lock);
	old = ta_rules;
	ta_rules = set;
	__atomic_store_n(&ta_rules_thread_on, thread_on, __ATOMIC_RELAXED);
	__atomic_store_n(&ta_rules_lib_on, lib_on, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ta_rules_gen, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&ta_modules_gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ta_rules_lock);
	ta_inner.free(old);
	/* the unwinder lib rules look up the stack with: now, not from
	 * inside an allocation */
	if (lib_on)
		(void)ta_stacks_load();
	ta_inner_rules_gate(lib_on);
	/* every thread's base group may change: the caller's now, the
	 * others' at their next allocation */
	ta_names_refresh(&ta_tls);
	ta_names_poke_all();
	return 0;
}

TA_API int ta_rules_set(const char *rules)
{
	struct ta_rules_error e;
	struct ta_rule_set *set;
	int r;

	if (!rules || !rules[0])
		return ta_rules_apply(NULL);
	if (ta_rules_parse(rules, NULL, &e) < 0)
		return -EINVAL;
	set = ta_inner.malloc(sizeof(*set));
	if (!set)
		return -ENOMEM;
	r = ta_rules_parse(rules, set, &e);
	if (r < 0) { /* cannot happen: the text was just checked */
		ta_inner.free(set);
		return r;
	}
	return ta_rules_apply(set);
}

void ta_rules_env(const char *value)
{
	struct ta_rules_error e;
	char why[160];

	if (ta_rules_parse(value, NULL, &e) < 0) {
		ta_rules_describe(&e, why, sizeof(why));
		ta_warn("trackalloc: TRACKALLOC_GROUPS ignored: %s\n", why);
		return;
	}
	if (ta_rules_set(value) == -ENOMEM)
		ta_warn("trackalloc: TRACKALLOC_GROUPS ignored: out of memory\n");
}

/* ---- matching ------------------------------------------------------------ */

/* @file without its ".so" suffix and version: "libz.so.1.2.13" -> "libz". */
static size_t ta_rules_stem(const char *file)
{
	const char *so = strstr(file, ".so");

	while (so && so[3] != '\0' && so[3] != '.')
		so = strstr(so + 3, ".so");
	return so ? (size_t)(so - file) : strlen(file);
}

/* @tmpl with %n replaced by @name (@name_len bytes), cut at the limit. */
static void ta_rules_expand(const char *tmpl, const char *name, size_t name_len, char *out)
{
	size_t o = 0;

	for (; *tmpl && o < TA_GROUP_NAME_MAX; tmpl++) {
		if (*tmpl != '%') {
			out[o++] = *tmpl;
			continue;
		}
		tmpl++;
		if (*tmpl == '%') {
			out[o++] = '%';
			continue;
		}
		for (size_t i = 0; i < name_len && o < TA_GROUP_NAME_MAX; i++)
			out[o++] = name[i];
	}
	out[o] = '\0';
}

static uint32_t ta_rules_match(int kind, const char *name, size_t name_len)
{
	char group[TA_GROUP_NAME_MAX + 1];
	struct ta_tag tag = { "rule", NULL };
	struct ta_group *g = NULL;
	uint32_t i;

	if (!name || !name[0])
		return TA_NO_RULE;
	ta_nest_enter(); /* fnmatch and the registration may allocate */
	pthread_mutex_lock(&ta_rules_lock);
	for (i = 0; ta_rules && i < ta_rules->n; i++) {
		const struct ta_rule *r = &ta_rules->rule[i];

		if (r->kind != kind || fnmatch(r->glob, name, 0) != 0)
			continue;
		ta_rules_expand(r->group, name, name_len, group);
		tag.value = r->text;
		g = group[0] ? ta_group_register_any(group, &tag, 1) : NULL;
		break;
	}
	pthread_mutex_unlock(&ta_rules_lock);
	ta_nest_exit();
	return g ? g->id : TA_NO_RULE;
}

uint32_t ta_rules_thread_gid(const char *name)
{
	if (!__atomic_load_n(&ta_rules_thread_on, __ATOMIC_RELAXED))
		return TA_NO_RULE;
	return ta_rules_match(TA_RULE_THREAD, name, name ? strlen(name) : 0);
}

uint32_t ta_rules_lib_gid(const char *file)
{
	if (!__atomic_load_n(&ta_rules_lib_on, __ATOMIC_RELAXED))
		return TA_NO_RULE;
	return ta_rules_match(TA_RULE_LIB, file, ta_rules_stem(file));
}

/* ---- fork ----------------------------------------------------------------- */

void ta_rules_atfork_prepare(void)
{
	pthread_mutex_lock(&ta_rules_lock);
}

void ta_rules_atfork_parent(void)
{
	pthread_mutex_unlock(&ta_rules_lock);
}

void ta_rules_atfork_child(void)
{
	pthread_mutex_unlock(&ta_rules_lock);
}
