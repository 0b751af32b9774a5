// SPDX-License-Identifier: MIT
// The C++ library of the C++ rules test (cxx-lib.cpp says what it allocates).
#ifndef TA_RULES_CXX_LIB_HPP
#define TA_RULES_CXX_LIB_HPP

struct ta_rules_cxx_set;

// Allocate the set's blocks (2227 bytes in 8 objects), from this library.
ta_rules_cxx_set *ta_rules_cxx_make();
// Every block is there and aligned as asked.
bool ta_rules_cxx_check(const ta_rules_cxx_set *s);
// Free them all.
void ta_rules_cxx_release(ta_rules_cxx_set *s);

#endif
