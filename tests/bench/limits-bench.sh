#!/bin/bash
# SPDX-License-Identifier: MIT
#
# What peaks and limits cost (issue 14): malloc/free pairs under plain glibc,
# LTTng-UST's libc wrapper (no session) and trackalloc with no limit (peaks
# are always kept, so this is their whole cost) and with soft and hard
# limits on the active group (TRACKALLOC_LIMITS, never reached), one thread
# pinned to CPU 1 and two threads in the same group; contenders alternate
# in every round. Prints medians of ns per pair and the ratios; asserts
# nothing about time (exit status 0 unless a run fails).
#
#   limits-bench.sh BENCH-MALLOC LIBTRACKALLOC
#
# Environment: TRACKALLOC_BENCH_PAIRS (2000000), TRACKALLOC_BENCH_REPS (3),
# TRACKALLOC_BENCH_ROUNDS (7), TA_LTTNG_WRAPPER.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BENCH-MALLOC LIBTRACKALLOC" >&2; exit 2; }
bench=$1 lib=$2
wrapper=${TA_LTTNG_WRAPPER:-/usr/lib/x86_64-linux-gnu/liblttng-ust-libc-wrapper.so.1}
pairs=${TRACKALLOC_BENCH_PAIRS:-2000000}
reps=${TRACKALLOC_BENCH_REPS:-3}
rounds=${TRACKALLOC_BENCH_ROUNDS:-7}

contenders=(glibc lttng none limited)
[ -e "$wrapper" ] || contenders=(glibc none limited)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trackalloc-limits-bench.XXXXXX")
# shellcheck disable=SC2064 # expand now: the path is fixed
trap "rm -rf '$tmp'" EXIT

# run CONTENDER THREADS: one bench-malloc run, its ns per pair on stdout
run() {
	local who=$1 threads=$2 pin=(taskset -c 1)
	local -a env=(env -u LD_PRELOAD -u MALLOC_PERTURB_ -u TRACKALLOC_GROUPS
		-u TRACKALLOC_LIMITS -u TRACKALLOC_REPORT LTTNG_UST_REGISTER_TIMEOUT=0
		TRACKALLOC_LTTNG=0)
	[ "$threads" -gt 1 ] && pin=()
	case $who in
	lttng) env+=(LD_PRELOAD="$wrapper") ;;
	none) env+=(LD_PRELOAD="$lib") ;;
	limited) env+=(LD_PRELOAD="$lib" TRACKALLOC_LIMITS='bench-0=1G:2G') ;;
	esac
	"${env[@]}" "${pin[@]}" "$bench" pairs "$threads" same "$pairs" "$reps" |
		sed -n 's/.* ns_per_pair=\([0-9.]*\).*/\1/p'
}

for threads in 1 2; do
	for ((r = 0; r < rounds; r++)); do
		for who in "${contenders[@]}"; do
			v=$(run "$who" "$threads")
			[ -n "$v" ] || { echo "limits-bench: $who, $threads thread(s): no result" >&2; exit 1; }
			echo "$v" >>"$tmp/$who-$threads"
		done
	done
done

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "malloc/free pairs, ns per pair (median of $rounds interleaved rounds, best of $reps each):"
printf '  %-28s %10s %10s\n' contender "1 thread" "2 threads"
for who in "${contenders[@]}"; do
	case $who in
	glibc) label="glibc" ;;
	lttng) label="liblttng-ust-libc-wrapper" ;;
	none) label="trackalloc, no limit" ;;
	limited) label="trackalloc, limit on group" ;;
	esac
	printf '  %-28s %10s %10s\n' "$label" "$(median "$tmp/$who-1")" "$(median "$tmp/$who-2")"
done
ratio() { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN { printf "%.3f", a / b }'; }
echo "ratios:"
echo "  no limit / glibc:                 1 thread $(ratio "$tmp/none-1" "$tmp/glibc-1"), 2 threads $(ratio "$tmp/none-2" "$tmp/glibc-2")"
[ -e "$tmp/lttng-1" ] &&
	echo "  no limit / lttng wrapper:         1 thread $(ratio "$tmp/none-1" "$tmp/lttng-1"), 2 threads $(ratio "$tmp/none-2" "$tmp/lttng-2")"
echo "  limit / no limit:                 1 thread $(ratio "$tmp/limited-1" "$tmp/none-1") (target 1.10), 2 threads $(ratio "$tmp/limited-2" "$tmp/none-2")"
echo "  limit, 2 threads / 1 thread:      $(ratio "$tmp/limited-2" "$tmp/limited-1") (target: at most 1.10 x no limit's $(ratio "$tmp/none-2" "$tmp/none-1"))"
