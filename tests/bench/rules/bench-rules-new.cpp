// SPDX-License-Identifier: MIT
//
// bench-rules's C++ loop: ::operator new(size) and the sized
// ::operator delete(p, size) that a delete-expression of a complete type
// calls (C++14), made from the program's own code, so that lib rules see the
// program as new's immediate caller.
#include <cstdio>
#include <new>

#include "bench-rules.h"

// the size of each ring slot's block, for the sized delete
static size_t held[BENCH_LIVE_MAX];

extern "C" void bench_new_loop(char **ring, size_t live, const uint32_t *size_seq,
                               const uint16_t *slot_seq, size_t pairs, size_t start)
{
	for (size_t i = 0; i < pairs; i++) {
		size_t k = (start + i) & (BENCH_SEQ - 1);
		size_t s = slot_seq[k] & (live - 1);

		if (ring[s])
			::operator delete(ring[s], held[s]);
		ring[s] = static_cast<char *>(::operator new(size_seq[k]));
		held[s] = size_seq[k];
		*ring[s] = static_cast<char>(k);
	}
}

extern "C" void bench_new_release(char **ring, size_t live)
{
	for (size_t s = 0; s < live; s++) {
		if (ring[s])
			::operator delete(ring[s], held[s]);
		ring[s] = nullptr;
	}
}
