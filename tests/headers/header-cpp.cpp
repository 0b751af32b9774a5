// SPDX-License-Identifier: MIT
//
// The public header compiles alone, first and only, as C++ with every
// warning an error (see tests/unit/meson.build): extern "C" linkage, no C-only
// constructs, TA_GROUP_SCOPE usable in C++ code.
#include <trackalloc.h>

namespace {

int visit(ta_group *, void *arg)
{
	++*static_cast<int *>(arg);
	return 0;
}

bool scoped(ta_group *g)
{
	TA_GROUP_SCOPE(g);
	return ta_group_current() == g;
}

} // namespace

int main()
{
	const ta_tag tags[] = { { "lang", "c++" } };
	const ta_tag *got = nullptr;
	ta_stats st;
	ta_diag diag;
	ta_tracker tracker = { nullptr, nullptr, nullptr };
	ta_group *g = ta_group_register("header-cpp", tags, 1);
	int groups = 0;

	if (!g || ta_group_id(ta_group_root()) != 0 || ta_group_find(ta_group_id(g)) != g)
		return 1;
	if (ta_group_tags(g, &got) != 1 || !got || ta_group_name(g)[0] != 'h')
		return 2;
	ta_guard guard = ta_group_enter(g);
	if (ta_guard_exit(&guard) != 0 || !scoped(g) || ta_group_current() != ta_group_root())
		return 3;
	if (ta_group_stats(g, &st) != 0 || ta_diag_read(&diag) != 0)
		return 4;
	if (ta_group_foreach(visit, &groups) != 0 || groups < 2)
		return 5;
	if (ta_tracker_set(&tracker) != 0 || ta_tracker_set(nullptr) != 0)
		return 6;
	return TA_VERSION_MAJOR >= 1 && TA_GROUPS_MAX >= 65535 ? 0 : 7;
}
