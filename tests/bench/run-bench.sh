#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Compare malloc/free costs under plain glibc, LTTng-UST's libc wrapper (no
# session) and trackalloc, measured in the same run, and print the table the
# README quotes. Timings are reported, never asserted: the exit status is 0
# unless a run of the benchmark program crashes or fails under glibc or
# trackalloc (a failure under LTTng's wrapper is reported and ignored).
#
#   run-bench.sh BENCH-MALLOC LIBTRACKALLOC
#
# Environment (all optional):
#   TRACKALLOC_BENCH_PAIRS     pairs per repetition and thread (2000000)
#   TRACKALLOC_BENCH_REPS      repetitions per process, the best is kept (5)
#   TRACKALLOC_BENCH_ROUNDS    rounds over all allocators, interleaved so that
#                              a burst of load elsewhere hits all of them (3)
#   TRACKALLOC_BENCH_BLOCKS    live blocks of the memory measurement (1000000)
#   TRACKALLOC_BENCH_CALLGRIND 0 skips the instruction counts (valgrind)
#   TA_LTTNG_WRAPPER           path of liblttng-ust-libc-wrapper.so.1
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BENCH-MALLOC LIBTRACKALLOC" >&2; exit 2; }
bench=$1 lib=$2
lttng_wrapper=${TA_LTTNG_WRAPPER:-/usr/lib/x86_64-linux-gnu/liblttng-ust-libc-wrapper.so.1}
pairs=${TRACKALLOC_BENCH_PAIRS:-2000000}
reps=${TRACKALLOC_BENCH_REPS:-5}
rounds=${TRACKALLOC_BENCH_ROUNDS:-3}
blocks=${TRACKALLOC_BENCH_BLOCKS:-1000000}
target_1t=1.40     # issue 16: trackalloc / glibc, one thread
target_2t_rel=1.10 # 2-thread same-group ratio / 1-thread ratio

allocators=(glibc lttng trackalloc)
if [ ! -e "$lttng_wrapper" ]; then
	echo "note: $lttng_wrapper not found (liblttng-ust-dev / liblttng-ust1):" \
		"the lttng-wrapper column is skipped"
	allocators=(glibc trackalloc)
fi
has_lttng() { [ "${allocators[1]}" = lttng ]; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/trackalloc-bench.XXXXXX")
# shellcheck disable=SC2064 # expand now: the path is fixed
trap "rm -rf '$tmp'" EXIT

# in_env ALLOCATOR COMMAND...: run COMMAND with that allocator preloaded and
# nothing else that changes malloc: meson sets MALLOC_PERTURB_ for tests,
# which makes glibc fill every block, and any LD_PRELOAD of the caller goes.
# LTTNG_UST_REGISTER_TIMEOUT=0: LTTng-UST does not wait for a session daemon.
in_env() {
	local alloc=$1
	shift
	local -a preload=()
	case $alloc in
	lttng) preload=(LD_PRELOAD="$lttng_wrapper") ;;
	trackalloc) preload=(LD_PRELOAD="$lib") ;;
	esac
	env -u LD_PRELOAD -u MALLOC_PERTURB_ -u MALLOC_CHECK_ -u MALLOC_ARENA_MAX \
		-u GLIBC_TUNABLES -u TRACKALLOC_REPORT -u TRACKALLOC_LTTNG -u TRACKALLOC_SAMPLE_MS \
		LTTNG_UST_REGISTER_TIMEOUT=0 "${preload[@]}" "$@"
}

# field NAME LINE: the value of NAME=VALUE in a bench-malloc output line.
field() {
	local kv
	for kv in $2; do
		if [ "${kv%%=*}" = "$1" ]; then
			echo "${kv#*=}"
			return
		fi
	done
	echo "?"
}

# calc EXPRESSION: floating-point arithmetic through awk; "?" when an operand
# is unknown or the expression cannot be computed.
calc() {
	case $1 in
	*'?'* | '') echo "?" ;;
	*) awk "BEGIN { printf \"%.4f\", $1 }" 2>/dev/null || echo "?" ;;
	esac
}
# is_num VALUE: true when VALUE is a decimal number.
is_num() { [[ $1 =~ ^-?[0-9]+(\.[0-9]*)?$ ]]; }
# less A B: true when A < B (floating point).
less() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

# bench ALLOCATOR ARGS...: run bench-malloc under ALLOCATOR; its output, or
# nothing (and a note) when it fails.
failures=0
bench() {
	local alloc=$1 out
	shift
	if ! out=$(in_env "$alloc" "$bench" "$@"); then
		echo "warning: bench-malloc $* failed under $alloc" >&2
		[ "$alloc" = lttng ] || failures=$((failures + 1))
		out=""
	fi
	echo "$out"
}
# fmt VALUE PRINTF-FORMAT: VALUE formatted, or "?" when it is not a number.
fmt() {
	awk -v v="$1" -v f="$2" 'BEGIN {
		if (v ~ /^-?[0-9]+(\.[0-9]*)?$/) printf f, v; else printf "?" }'
}

# ---- machine ------------------------------------------------------------

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "trackalloc malloc benchmark"
echo "machine: ${cpu:-unknown CPU}, $(nproc) online CPUs, $(ldd --version | head -n 1)," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "library: $lib"
# "No session" is what the comparison assumes; a session that another user of
# the machine left active would make LTTng-UST record these processes.
if command -v lttng >/dev/null && lttng list 2>/dev/null | grep -q '\[active\]'; then
	echo "warning: an LTTng session is active on this machine; if it enables userspace" \
		"events, the lttng-wrapper and trackalloc figures include recording them"
fi
echo "workload: malloc/free pairs, sizes 16-512 B uniform from a fixed pseudo-random" \
	"sequence, 64 live blocks per thread (a pseudo-random one is freed and replaced" \
	"each pair), first byte written; the last row, for reference only: malloc(64)," \
	"write, free"
echo "timing: $pairs pairs per thread per repetition; best of $reps repetitions x" \
	"$rounds rounds, allocators interleaved; ns per pair = time of the slowest thread" \
	"/ pairs per thread, as thread CPU time (robust to other load) and as wall time"
echo

# ---- pairs ---------------------------------------------------------------

# threads, groups, live blocks per thread, block size (0: mixed). The last
# one is for reference only: malloc(64) then free, the loop of the
# calibration figures in DESIGN.md.
scenarios=("1 same 64 0" "2 same 64 0" "2 different 64 0" "1 same 1 64")
labels=("1 thread" "2 threads, same group" "2 threads, diff. groups" "1 thread, malloc(64)+free")
declare -A best # [clock,scenario,allocator] -> ns per pair
for ((round = 1; round <= rounds; round++)); do
	for s in "${!scenarios[@]}"; do
		read -r nthreads groups live size <<<"${scenarios[$s]}"
		for alloc in "${allocators[@]}"; do
			out=$(bench "$alloc" pairs "$nthreads" "$groups" "$pairs" "$reps" "$live" "$size")
			if [ "$alloc" = trackalloc ] && [ -n "$out" ]; then
				if [ "$(field trackalloc "$out")" != 1 ]; then
					echo "warning: trackalloc is not the allocator of the benchmark ($out)"
				elif [ "$(field counted "$out")" -lt "$((pairs * reps))" ]; then
					echo "warning: trackalloc counted fewer allocations than made ($out)"
				fi
			fi
			for clock in cpu wall; do
				if [ "$clock" = cpu ]; then
					ns=$(field ns_per_pair "$out")
				else
					ns=$(field wall_ns_per_pair "$out")
				fi
				prev=${best[$clock,$s,$alloc]:-?}
				if is_num "$ns" && { [ "$prev" = "?" ] || less "$ns" "$prev"; }; then
					best[$clock,$s,$alloc]=$ns
				fi
				best[$clock,$s,$alloc]=${best[$clock,$s,$alloc]:-?}
			done
		done
	done
done

declare -A ratio # [clock,scenario] -> trackalloc / glibc
# print_table CLOCK TITLE
print_table() {
	local clock=$1 s g t l line header
	header=$(printf '%-26s %9s' "$2" glibc)
	if has_lttng; then
		header+=$(printf ' %13s' lttng-wrapper)
	fi
	header+=$(printf ' %11s %9s' trackalloc "ta/glibc")
	if has_lttng; then
		header+=$(printf ' %9s %12s' "ta/lttng" "lttng/glibc")
	fi
	echo "$header"
	for s in "${!scenarios[@]}"; do
		g=${best[$clock,$s,glibc]} t=${best[$clock,$s,trackalloc]}
		ratio[$clock,$s]=$(calc "$t / $g")
		line=$(printf '%-26s %9s' "${labels[$s]}" "$(fmt "$g" %.2f)")
		if has_lttng; then
			l=${best[$clock,$s,lttng]}
			line+=$(printf ' %13s' "$(fmt "$l" %.2f)")
		fi
		line+=$(printf ' %11s %9s' "$(fmt "$t" %.2f)" "$(fmt "${ratio[$clock,$s]}" %.2fx)")
		if has_lttng; then
			line+=$(printf ' %9s %12s' "$(fmt "$(calc "$t / $l")" %.2fx)" \
				"$(fmt "$(calc "$l / $g")" %.2fx)")
		fi
		echo "$line"
	done
}
print_table cpu "ns/pair (thread CPU time)"
echo
print_table wall "ns/pair (wall clock)"
echo "(load average after the timings: $(cut -d' ' -f1-3 /proc/loadavg); other work on" \
	"the machine inflates the wall-clock figures first)"
echo

# met VALUE LIMIT: whether VALUE <= LIMIT.
met() {
	if ! is_num "$1"; then
		echo "unknown"
	elif less "$2" "$1"; then
		echo "NOT met"
	else
		echo "met"
	fi
}
echo "targets (thread CPU time; informative: timings never fail the benchmark):"
echo "  1 thread, trackalloc <= ${target_1t}x glibc: $(fmt "${ratio[cpu,0]}" %.2fx)" \
	"-> $(met "${ratio[cpu,0]}" "$target_1t")"
rel=$(calc "${ratio[cpu,1]} / ${ratio[cpu,0]}")
echo "  2 threads same group, ratio no worse than the 1-thread ratio by more than 10%:" \
	"$(fmt "${ratio[cpu,1]}" %.2fx) vs $(fmt "${ratio[cpu,0]}" %.2fx)" \
	"($(fmt "$(calc "($rel - 1) * 100")" %+.1f)%) -> $(met "$rel" "$target_2t_rel")"
echo

# ---- memory ---------------------------------------------------------------

echo "memory: $blocks live blocks, every byte written; per block: bytes the program asks" \
	"for, bytes asked of the inner allocator, its usable size, growth of the resident" \
	"anonymous memory (RssAnon)"
printf '%-12s %-11s %10s %14s %13s %10s\n' "block size" allocator requested "inner request" \
	"inner usable" "RSS"
for size in 32 24 mixed; do
	for alloc in glibc trackalloc; do
		out=$(bench "$alloc" memory "$size" "$blocks")
		label=$size
		[ "$size" = mixed ] && label="16-512"
		printf '%-12s %-11s %10s %14s %13s %10s\n' "$label" "$alloc" \
			"$(fmt "$(field requested_per_block "$out")" %.1f)" \
			"$(fmt "$(field inner_request_per_block "$out")" %.1f)" \
			"$(fmt "$(field inner_usable_per_block "$out")" %.1f)" \
			"$(fmt "$(field rss_per_block "$out")" %.1f)"
	done
done
echo

# ---- instruction counts ------------------------------------------------

# Instructions of bench_pairs_loop (malloc, free and the loop itself) for two
# run lengths; the difference divided by the extra pairs is the cost of one
# steady-state pair, without start-up or warm-up. Deterministic: unlike the
# timings, other load on the machine does not change them.
short=100000 long=300000
# callgrind_ir ALLOCATOR PAIRS: instructions collected inside the loop.
callgrind_ir() {
	local file=$tmp/callgrind.$1.$2 n
	if ! in_env "$1" valgrind --tool=callgrind --callgrind-out-file="$file" \
		--toggle-collect=bench_pairs_loop "$bench" pairs 1 same "$2" 1 >/dev/null 2>&1; then
		echo "?"
		return
	fi
	n=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$file" | head -n 1)
	echo "${n:-?}"
}
instruction_counts() {
	local alloc a b line=""
	declare -A ir
	echo "instructions per malloc/free pair (callgrind, 1 thread, loop included):"
	for alloc in "${allocators[@]}"; do
		a=$(callgrind_ir "$alloc" "$short")
		b=$(callgrind_ir "$alloc" "$long")
		ir[$alloc]=$(calc "($b - $a) / ($long - $short)")
		line+=$(printf '%s %s   ' "$alloc" "$(fmt "${ir[$alloc]}" %.1f)")
	done
	echo "  $line"
	echo "  trackalloc adds $(fmt "$(calc "${ir[trackalloc]} - ${ir[glibc]}")" %.1f)" \
		"instructions per pair ($(fmt "$(calc "${ir[trackalloc]} / ${ir[glibc]}")" %.2fx)" \
		"glibc)"
}

if [ "${TRACKALLOC_BENCH_CALLGRIND:-1}" = 0 ]; then
	echo "instructions per pair: skipped (TRACKALLOC_BENCH_CALLGRIND=0)"
elif ! command -v valgrind >/dev/null; then
	echo "instructions per pair: valgrind not installed, skipped"
else
	instruction_counts
fi

if [ "$failures" != 0 ]; then
	echo "$failures run(s) of bench-malloc failed under glibc or trackalloc"
	exit 1
fi
exit 0
