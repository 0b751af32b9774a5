/* SPDX-License-Identifier: MIT */
/*
 * libbench-rules-peer.so: bench-rules's malloc/free loop compiled into a
 * shared library of the program's own, so that the immediate caller of
 * malloc is a module other than the executable (lib:*=%n charges it to
 * "libbench-rules-peer").
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench-rules.h"

void bench_peer_loop(char **ring, size_t live, const uint32_t *size_seq, const uint16_t *slot_seq,
                     size_t pairs, size_t start)
{
	for (size_t i = 0; i < pairs; i++) {
		size_t k = (start + i) & (BENCH_SEQ - 1);
		char **slot = &ring[slot_seq[k] & (live - 1)];

		free(*slot);
		*slot = malloc(size_seq[k]);
		if (__builtin_expect(!*slot, 0)) {
			perror("bench-rules: malloc");
			exit(1);
		}
		**slot = (char)k;
	}
}
