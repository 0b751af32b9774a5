// SPDX-License-Identifier: MIT
//
// The C++ header compiles alone, first and only, as C++17 with every warning
// an error (see tests/unit/meson.build), once with exceptions and once with
// -fno-exceptions, and what it declares links and behaves as documented for
// the simplest calls. The full behaviour is tests/unit/test-cxx.cpp's.
#include <trackalloc.hpp>

namespace {

bool scoped(ta::group g)
{
	ta::scope in{g};
	return in.active() && ta::group::current() == g;
}

} // namespace

int main()
{
	std::error_code ec;
	ta::group g = ta::group::try_register("header-hpp", {{"lang", "c++17"}}, ec);

	if (!g || ec || ta::group::find(g.id()) != g || ta::group::root().id() != 0)
		return 1;
	if (g.tags().size() != 1 || g.tags()[0].key[0] != 'l' || g.name()[0] != 'h')
		return 2;
	if (!scoped(g) || ta::group::current() != ta::group::root())
		return 3;
	{
		ta::span_scope span{0};

		if (span.active() || span.exit() != -EINVAL)
			return 4;
	}
	if (g.stats().allocated_objects < g.stats().freed_objects)
		return 5;
	int groups = 0;
	if (ta::for_each_group([&groups](ta::group) { ++groups; }) != 0 || groups < 2)
		return 6;
	if (ta::group::try_register("", ec) || ec != std::errc::invalid_argument)
		return 7;
#if TA_CXX_EXCEPTIONS
	try {
		ta::group bad{""};
		return 8;
	} catch (const std::system_error &e) {
		if (e.code() != std::errc::invalid_argument)
			return 9;
	}
	if (ta::group{"header-hpp", {{"lang", "c++17"}}} != g)
		return 10;
#endif
	return 0;
}
