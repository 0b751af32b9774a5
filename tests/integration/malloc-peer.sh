#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A peer suite: malloc-peer.c (cases in the spirit of glibc's own malloc
# tests) run on each inner allocator plainly and with libtrackalloc preloaded
# in front of it. Every case that passes plain must pass preloaded; on glibc
# every case must pass. A case may take 30 s at most.
#
# fork-signal is left out for jemalloc and tcmalloc: their own fork handlers
# lock their arenas, so a fork from a signal handler hangs there without
# trackalloc too.
#
#   malloc-peer.sh MALLOC_PEER LIBTRACKALLOC
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
prog=${1:?usage: $0 MALLOC_PEER LIBTRACKALLOC} lib=${2:?}
cases=(fork-signal thread-exit failure limit-errno alignment semantics mmap-threshold)

# result PRELOAD CASE: PASS, FAIL or TIMEOUT
result() {
	local out
	out=$(env -u LD_PRELOAD -u TRACKALLOC_REPORT -u TRACKALLOC_LTTNG LD_PRELOAD="$1" \
		timeout 30 "$prog" "$2" 2>&1)
	case $? in
	124) echo TIMEOUT ;;
	*) echo "${out%% *}" ;;
	esac
}

failed=0
printf '%-10s %-12s %-8s %-8s\n' inner case plain preloaded
for inner in glibc jemalloc tcmalloc mimalloc; do
	case $inner in
	glibc) so= ;;
	jemalloc) so=$TA_JEMALLOC ;;
	tcmalloc) so=$TA_TCMALLOC ;;
	mimalloc) so=$TA_MIMALLOC ;;
	esac
	[ -z "$so" ] || [ -e "$so" ] || ta_skip "$inner ($so) is not installed"
	for c in "${cases[@]}"; do
		if [ "$c" = fork-signal ] && { [ "$inner" = jemalloc ] || [ "$inner" = tcmalloc ]; }; then
			continue
		fi
		plain=$(result "$so" "$c")
		pre=$(result "$lib${so:+ $so}" "$c")
		printf '%-10s %-12s %-8s %-8s\n' "$inner" "$c" "$plain" "$pre"
		if [ "$plain" = PASS ] && [ "$pre" != PASS ]; then
			echo "FAIL: $c passes on $inner alone, not with trackalloc in front:"
			env LD_PRELOAD="$lib${so:+ $so}" timeout 30 "$prog" "$c"
			failed=1
		fi
		if [ "$inner" = glibc ] && [ "$pre" != PASS ]; then
			echo "FAIL: $c with trackalloc on glibc"
			failed=1
		fi
	done
done
[ $failed = 0 ] || exit 1
echo "PASS: malloc peer suite"
