// SPDX-License-Identifier: MIT
//
// The C++ library of the C++ rules test (libta-rules-cxx.so, cxx.cpp): every
// allocation below is made by a new-expression or an operator new call in
// this library, or by a std::string member that libstdc++ compiles into
// itself (the rule looks through libstdc++). ta_rules_cxx_make():
//
//   new Blob                       100  operator new(size_t)
//   new char[300]                  300  operator new[](size_t)
//   new Aligned                    128  operator new(size_t, align_val_t 64)
//   new Aligned[3]                 384  operator new[](size_t, align_val_t)
//   new (nothrow) Small            200  operator new(size_t, nothrow_t)
//   new (nothrow) char[50]          50  operator new[](size_t, nothrow_t)
//   operator new(64, align 64,      64  the aligned nothrow form
//                nothrow)
//   std::string(1000, 'x')        1001  from inside libstdc++
//
// 2227 bytes in 8 objects; ta_rules_cxx_release() frees them all, with
// sized deletes of the right size where the language makes them.
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

#include "cxx-lib.hpp"

namespace {

struct Blob {
	char b[100];
};

struct alignas(64) Aligned {
	char b[128];
};

struct Small {
	char b[200];
};

} // namespace

struct ta_rules_cxx_set {
	Blob *blob;
	char *chars;
	Aligned *aligned;
	Aligned *aligned_array;
	Small *small;
	char *nothrow_chars;
	void *raw_aligned;
	std::string *text;
};

ta_rules_cxx_set *ta_rules_cxx_make()
{
	// the set itself comes from malloc-free static storage: only the
	// listed blocks are allocated
	static ta_rules_cxx_set s;

	s.blob = new Blob;
	s.chars = new char[300];
	s.aligned = new Aligned;
	s.aligned_array = new Aligned[3];
	s.small = new (std::nothrow) Small;
	s.nothrow_chars = new (std::nothrow) char[50];
	s.raw_aligned = ::operator new(64, std::align_val_t(64), std::nothrow);
	// placement into static storage: the string's buffer is the only
	// allocation
	alignas(std::string) static unsigned char text_space[sizeof(std::string)];
	s.text = new (text_space) std::string(1000, 'x');
	return &s;
}

bool ta_rules_cxx_check(const ta_rules_cxx_set *s)
{
	auto aligned = [](const void *p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; };

	return s->blob && s->chars && s->aligned && s->aligned_array && s->small &&
	       s->nothrow_chars && s->raw_aligned && s->text->size() == 1000 &&
	       aligned(s->aligned) && aligned(s->aligned_array) && aligned(s->raw_aligned);
}

void ta_rules_cxx_release(ta_rules_cxx_set *s)
{
	delete s->blob;              // sized: operator delete(void *, 100)
	delete[] s->chars;           // operator delete[](void *)
	delete s->aligned;           // sized aligned: (void *, 128, align 64)
	delete[] s->aligned_array;   // operator delete[](void *, align 64)
	delete s->small;             // sized: 200
	delete[] s->nothrow_chars;
	::operator delete(s->raw_aligned, std::align_val_t(64), std::nothrow);
	s->text->~basic_string();    // libstdc++'s deallocate: sized, 1001
}
