/* SPDX-License-Identifier: MIT */
/*
 * The loops of bench-rules, one per translation unit that makes the calls:
 * the program itself (bench-rules.c), a shared library of its own
 * (bench-rules-peer.c) and C++ (bench-rules-new.cpp). Each is noinline with
 * a stable name, so that run-rules-bench.sh counts its instructions with
 * valgrind --tool=callgrind --toggle-collect=NAME.
 *
 * Every loop has the shape of bench-malloc's pairs: a ring of @live blocks
 * (a power of two); pair i frees the block in slot slot_seq[k] & (live - 1),
 * k = (start + i) & (BENCH_SEQ - 1), allocates a block of size_seq[k] bytes
 * into it and writes its first byte.
 */
#ifndef BENCH_RULES_H
#define BENCH_RULES_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_SEQ 8192 /* length of the size and slot sequences (power of 2) */
#define BENCH_MIN_SIZE 16
#define BENCH_MAX_SIZE 512
#define BENCH_LIVE_MAX 1024

#ifdef __cplusplus
extern "C" {
#endif

/* malloc + free, called from the shared library libbench-rules-peer.so. */
__attribute__((visibility("default"), noinline)) void
bench_peer_loop(char **ring, size_t live, const uint32_t *size_seq, const uint16_t *slot_seq,
                size_t pairs, size_t start);

/* ::operator new(size) + sized ::operator delete(p, size), from C++ code of
 * the program (bench-rules-cxx only; a weak reference in bench-rules.c). */
__attribute__((noinline)) void bench_new_loop(char **ring, size_t live, const uint32_t *size_seq,
                                              const uint16_t *slot_seq, size_t pairs, size_t start);
/* Delete what bench_new_loop left in the ring. */
void bench_new_release(char **ring, size_t live);

#ifdef __cplusplus
}
#endif

#endif /* BENCH_RULES_H */
