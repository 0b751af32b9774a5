// SPDX-License-Identifier: MIT
//
// The C++ rules test program (rules-cxx.sh): libstdc++'s semantics of
// operator new, which must stay exactly the same with libtrackalloc
// preloaded, and, when it is, the sized-delete checks of struct
// ta_diag_ext. It does not link libtrackalloc: run plain, it shows what
// libstdc++ alone does (a size that cannot be allocated throws, the
// new_handler loop runs); preloaded, it finds ta_diag_ext_read with dlsym.
//
// It also has libta-rules-cxx.so allocate and free its set of blocks
// (cxx-lib.cpp), for the lib rule the script sets.
//
// Output: one line per check, "ok: ..." or "FAIL: ...", the same plain and
// preloaded; lines about trackalloc's own figures start "trackalloc:".
// Exit status 0, 1 if a check failed, 77 if a size meant to fail did not
// (the machine can allocate it: nothing to test).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <new>

#include <trackalloc.h> // struct ta_diag_ext only: nothing is linked

#include "cxx-lib.hpp"

namespace {

// Not allocatable: below PTRDIFF_MAX (glibc refuses more outright), far
// beyond any address space. Volatile: the compiler knows nothing of it.
volatile std::size_t huge = static_cast<std::size_t>(PTRDIFF_MAX) - 4095;
void *volatile sink;
int failures;
int handler_calls;

void check(bool ok, const char *what)
{
	std::printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	failures += !ok;
}

// Runs three times, then removes itself: the loop ends in std::bad_alloc.
void counting_handler()
{
	if (++handler_calls == 3)
		std::set_new_handler(nullptr);
}

struct handler_bad_alloc : std::bad_alloc {
};

void throwing_handler()
{
	++handler_calls;
	throw handler_bad_alloc();
}

// @fn throws std::bad_alloc (not a subclass of it thrown by a handler).
template <typename F> bool throws_bad_alloc(F fn)
{
	try {
		sink = fn();
	} catch (const handler_bad_alloc &) {
		return false;
	} catch (const std::bad_alloc &) {
		return true;
	}
	return false;
}

// @fn, with counting_handler installed, ends in bad_alloc after 3 calls.
template <typename F> bool handler_loop_throws(F fn)
{
	handler_calls = 0;
	std::set_new_handler(counting_handler);
	bool thrown = throws_bad_alloc(fn);
	bool removed = std::get_new_handler() == nullptr;
	std::set_new_handler(nullptr);
	return thrown && handler_calls == 3 && removed;
}

// A nothrow @fn, with counting_handler installed, returns NULL after 3 calls.
template <typename F> bool handler_loop_null(F fn)
{
	handler_calls = 0;
	std::set_new_handler(counting_handler);
	void *p = fn();
	std::set_new_handler(nullptr);
	return p == nullptr && handler_calls == 3;
}

} // namespace

int main()
{
	using diag_read_fn = int (*)(struct ta_diag_ext *, std::size_t);
	auto diag_read = reinterpret_cast<diag_read_fn>(dlsym(RTLD_DEFAULT, "ta_diag_ext_read"));
	const std::align_val_t a64{64};

	// The size fails: it must, for the rest to mean anything.
	void *p = std::malloc(huge);
	if (p) {
		std::printf("SKIP: malloc(%zu) succeeded\n", static_cast<std::size_t>(huge));
		return 77;
	}

	check(throws_bad_alloc([] { return ::operator new(huge); }),
	      "operator new(huge) throws std::bad_alloc");
	check(throws_bad_alloc([] { return ::operator new[](huge); }),
	      "operator new[](huge) throws std::bad_alloc");
	check(throws_bad_alloc([&] { return ::operator new(huge, a64); }),
	      "operator new(huge, align 64) throws std::bad_alloc");
	check(throws_bad_alloc([] { return new char[huge]; }),
	      "new char[huge] throws std::bad_alloc");
	check(handler_loop_throws([] { return ::operator new(huge); }),
	      "operator new(huge): the new_handler runs 3 times, then std::bad_alloc");
	check(handler_loop_throws([] { return ::operator new[](huge); }),
	      "operator new[](huge): the new_handler runs 3 times, then std::bad_alloc");
	check(handler_loop_throws([&] { return ::operator new(huge, a64); }),
	      "operator new(huge, align 64): the new_handler runs 3 times, then std::bad_alloc");
	check(handler_loop_null([] { return ::operator new(huge, std::nothrow); }),
	      "operator new(huge, nothrow): the new_handler runs 3 times, then NULL");
	check(handler_loop_null([] { return ::operator new[](huge, std::nothrow); }),
	      "operator new[](huge, nothrow): the new_handler runs 3 times, then NULL");
	check(handler_loop_null([&] { return ::operator new(huge, a64, std::nothrow); }),
	      "operator new(huge, align 64, nothrow): the new_handler runs 3 times, then NULL");

	// A handler that throws: its exception passes through operator new.
	handler_calls = 0;
	std::set_new_handler(throwing_handler);
	bool own = false;
	try {
		sink = ::operator new(huge);
	} catch (const handler_bad_alloc &) {
		own = true;
	}
	std::set_new_handler(nullptr);
	check(own && handler_calls == 1, "a new_handler's own std::bad_alloc reaches the caller");

	// No handler, nothrow: NULL at once.
	check(::operator new(huge, std::nothrow) == nullptr, "operator new(huge, nothrow) is NULL");

	// The library's blocks, for the lib rule; the deletes it makes are
	// sized with the right sizes.
	struct ta_diag_ext d0 = {}, d1 = {}, d2 = {};
	if (diag_read && diag_read(&d0, sizeof(d0)) != 0)
		check(false, "trackalloc: ta_diag_ext_read");
	ta_rules_cxx_set *s = ta_rules_cxx_make();
	check(ta_rules_cxx_check(s), "the library's new, new[], aligned and nothrow new");
	ta_rules_cxx_release(s);

	// Sized deletes with the right size.
	p = ::operator new(100);
	::operator delete(p, 100);
	p = ::operator new[](40);
	::operator delete[](p, 40);
	p = ::operator new(128, a64);
	::operator delete(p, 128, a64);
	p = ::operator new[](192, a64);
	::operator delete[](p, 192, a64);
	if (!diag_read) {
		check(failures == 0, "every check");
		return failures ? 1 : 0;
	}
	// The program's operator new and delete are libtrackalloc's.
	const void *ops[] = {
		reinterpret_cast<const void *>(static_cast<void *(*)(std::size_t)>(::operator new)),
		reinterpret_cast<const void *>(
			static_cast<void *(*)(std::size_t, std::align_val_t)>(::operator new[])),
		reinterpret_cast<const void *>(
			static_cast<void *(*)(std::size_t, const std::nothrow_t &) noexcept>(
				::operator new)),
		reinterpret_cast<const void *>(
			static_cast<void (*)(void *, std::size_t) noexcept>(::operator delete)),
	};
	int foreign = 0;
	for (const void *op : ops) {
		Dl_info info;
		foreign += !dladdr(op, &info) || !info.dli_fname ||
		           !std::strstr(info.dli_fname, "libtrackalloc");
	}
	std::printf("trackalloc: %d of 4 operators outside libtrackalloc\n", foreign);
	failures += foreign != 0;

	diag_read(&d1, sizeof(d1));
	std::printf("trackalloc: size_mismatches %+lld after the right sizes\n",
	            static_cast<long long>(d1.size_mismatches - d0.size_mismatches));
	failures += d1.size_mismatches != d0.size_mismatches;

	// One with the wrong size: counted once, the block freed all the same.
	p = ::operator new(100);
	::operator delete(p, 99);
	diag_read(&d2, sizeof(d2));
	std::printf("trackalloc: size_mismatches %+lld after one wrong size\n",
	            static_cast<long long>(d2.size_mismatches - d1.size_mismatches));
	failures += d2.size_mismatches != d1.size_mismatches + 1;
	check(failures == 0, "every check");
	return failures ? 1 : 0;
}
