/* SPDX-License-Identifier: MIT */
/*
 * The public header compiles alone, first and only, as strict ISO C11 with
 * every warning an error (see tests/unit/meson.build), and what it declares
 * links and behaves as documented for the simplest calls.
 */
#include <trackalloc.h>

/* Every type and macro the header promises, used once. */
static int visit(ta_group *g, void *arg)
{
	(void)g;
	++*(int *)arg;
	return 0;
}

static int scoped(ta_group *g)
{
	TA_GROUP_SCOPE(g);
	return ta_group_current() == g;
}

int main(void)
{
	const struct ta_tag tags[] = { { "lang", "c11" } };
	const struct ta_tag *got = 0;
	struct ta_stats st;
	struct ta_diag diag;
	struct ta_tracker tracker = { 0, 0, 0 };
	ta_group *g = ta_group_register("header-c", tags, 1);
	ta_guard guard;
	int groups = 0;

	if (!g || ta_group_id(ta_group_root()) != 0 || ta_group_find(ta_group_id(g)) != g)
		return 1;
	if (ta_group_tags(g, &got) != 1 || !got || ta_group_name(g)[0] != 'h')
		return 2;
	guard = ta_group_enter(g);
	if (ta_guard_exit(&guard) != 0 || !scoped(g) || ta_group_current() != ta_group_root())
		return 3;
	if (ta_group_stats(g, &st) != 0 || ta_diag_read(&diag) != 0)
		return 4;
	if (ta_group_foreach(visit, &groups) != 0 || groups < 2)
		return 5;
	if (ta_tracker_set(&tracker) != 0 || ta_tracker_set(0) != 0)
		return 6;
	(void)ta_span_bind;
	(void)ta_span_unbind;
	(void)ta_span_enter;
	(void)ta_span_exit;
	(void)ta_statedump;
	return TA_VERSION_MAJOR >= 1 && TA_GROUPS_MAX >= 65535 ? 0 : 7;
}
