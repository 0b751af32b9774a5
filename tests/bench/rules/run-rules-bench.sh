#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The cost of trackalloc's rules (issue 13, "Benchmarks"), measured in one
# run: bench-rules under plain glibc, LTTng-UST's libc wrapper (no session),
# trackalloc with no rules, with thread rules (TRACKALLOC_GROUPS='thread:*=%n')
# and with lib rules ('lib:*=%n', what trackalloc record --group-by=lib
# sets), on four pairs:
#
#   pairs    malloc + free from the program (bench-malloc's workload, but
#            outside any group): lib rules charge "exe", thread rules the
#            thread's name
#   peer     the same loop in a shared library of the program's own:
#            "libbench-rules-peer"
#   strdup   strdup + free from the program: malloc's caller is libc, so
#            each allocation walks up the stack (libunwind) to the program
#   new      ::operator new + sized delete from the program's C++ code
#   deep     strdup as above, 32 frames deeper in the program's stack: what
#            the walk costs with a stack like an interpreter's
#
# Every process is pinned to one CPU (TRACKALLOC_BENCH_CPU, 1 by default)
# and the contenders of a scenario run one after the other in each round, so
# that load elsewhere on the machine hits all of them alike. Per process,
# the best of REPS repetitions (thread CPU time); per contender, the median
# over the rounds and the spread ((max - min) / median). Ratios are given
# twice: of the medians, and paired (the median of the per-round ratios,
# with their range). Then instruction counts per pair from callgrind, which
# other load does not change. Timings are printed, never asserted: the exit
# status is 1 only when a run fails under glibc or trackalloc, or when a
# rule did not charge the group it should have.
#
#   run-rules-bench.sh LIBTRACKALLOC BENCH-RULES [BENCH-RULES-CXX]
#
# Environment (all optional):
#   TRACKALLOC_BENCH_PAIRS     pairs per repetition (2000000)
#   TRACKALLOC_BENCH_REPS      repetitions per process, the best is kept (5)
#   TRACKALLOC_BENCH_ROUNDS    interleaved rounds (7)
#   TRACKALLOC_BENCH_CPU       the CPU every run is pinned to (1; empty: none)
#   TRACKALLOC_BENCH_CALLGRIND 0 skips the instruction counts (valgrind)
#   TRACKALLOC_BENCH_BASE      a libtrackalloc.so of another build (say, the
#                              commit before the rules): one more contender,
#                              "ta-base", with no rules
#   TRACKALLOC_BENCH_SCENARIOS which scenarios (default "pairs peer strdup new deep")
#   TA_LTTNG_WRAPPER           path of liblttng-ust-libc-wrapper.so.1
set -uo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 LIBTRACKALLOC BENCH-RULES [BENCH-RULES-CXX]" >&2
	exit 2
fi
lib=$1 bench=$2 bench_cxx=${3:-}
lttng_wrapper=${TA_LTTNG_WRAPPER:-/usr/lib/x86_64-linux-gnu/liblttng-ust-libc-wrapper.so.1}
base_lib=${TRACKALLOC_BENCH_BASE:-}
pairs=${TRACKALLOC_BENCH_PAIRS:-2000000}
reps=${TRACKALLOC_BENCH_REPS:-5}
rounds=${TRACKALLOC_BENCH_ROUNDS:-7}
cpu=${TRACKALLOC_BENCH_CPU-1}
read -r -a scenarios <<<"${TRACKALLOC_BENCH_SCENARIOS:-pairs peer strdup new deep}"
target_lib=1.30    # issue 13: lib rules, direct callers / no rules
target_same=1.05   # "unchanged": within what this machine's noise allows

pin=()
[ -n "$cpu" ] && pin=(taskset -c "$cpu")
has_lttng=0
[ -e "$lttng_wrapper" ] && has_lttng=1
if [ -n "$base_lib" ] && [ ! -e "$base_lib" ]; then
	echo "note: TRACKALLOC_BENCH_BASE=$base_lib not found: no ta-base contender"
	base_lib=
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/trackalloc-rules-bench.XXXXXX")
# shellcheck disable=SC2064 # expand now: the path is fixed
trap "rm -rf '$tmp'" EXIT

# The scenarios: label, program, mode, callgrind function, contenders, and
# the group each rule contender must have charged.
declare -A label prog mode func conts want
label[pairs]="malloc+free, from the program"
label[peer]="malloc+free, from a library"
label[strdup]="strdup+free, from the program"
label[new]="new+sized delete, from C++"
label[deep]="strdup+free, 32 frames deeper"
for s in pairs peer strdup deep; do prog[$s]=$bench; done
prog[new]=$bench_cxx
for s in pairs peer strdup new deep; do mode[$s]=$s; done
func[pairs]=bench_pairs_loop func[peer]=bench_peer_loop
func[strdup]=bench_strdup_loop func[new]=bench_new_loop func[deep]=bench_strdup_loop
common="glibc"
[ $has_lttng = 1 ] && common+=" lttng"
conts[pairs]="$common${base_lib:+ ta-base} ta ta-thread ta-lib"
for s in peer strdup new deep; do conts[$s]="$common ta ta-lib"; done
# thread rules: the thread inherits the program's name (its comm)
want[pairs,ta-thread]=$(basename "$bench" | cut -c1-15)
want[pairs,ta-lib]=exe want[peer,ta-lib]=libbench-rules-peer
want[strdup,ta-lib]=exe want[new,ta-lib]=exe want[deep,ta-lib]=exe

active=()
for s in "${scenarios[@]}"; do
	if [ -z "${prog[$s]:-}" ]; then
		[ "$s" = new ] && echo "note: no BENCH-RULES-CXX (no C++ compiler): scenario new skipped"
		[ "$s" != new ] && echo "note: unknown scenario $s: skipped"
		continue
	fi
	active+=("$s")
done

# in_env CONTENDER COMMAND...: COMMAND with that contender's preload and
# rules, and nothing of the caller's environment that changes malloc (meson
# sets MALLOC_PERTURB_ for tests, which makes glibc fill every block).
in_env() {
	local c=$1
	shift
	local -a vars=()
	case $c in
	lttng) vars=(LD_PRELOAD="$lttng_wrapper") ;;
	ta-base) vars=(LD_PRELOAD="$base_lib") ;;
	ta) vars=(LD_PRELOAD="$lib") ;;
	ta-thread) vars=(LD_PRELOAD="$lib" TRACKALLOC_GROUPS='thread:*=%n') ;;
	ta-lib) vars=(LD_PRELOAD="$lib" TRACKALLOC_GROUPS='lib:*=%n') ;;
	esac
	env -u LD_PRELOAD -u MALLOC_PERTURB_ -u MALLOC_CHECK_ -u MALLOC_ARENA_MAX \
		-u GLIBC_TUNABLES -u TRACKALLOC_REPORT -u TRACKALLOC_LTTNG -u TRACKALLOC_SAMPLE_MS \
		-u TRACKALLOC_GROUPS -u TRACKALLOC_STACKS -u TRACKALLOC_PROFILE \
		LTTNG_UST_REGISTER_TIMEOUT=0 "${vars[@]}" "$@"
}

# field NAME LINE: the value of NAME=VALUE in a bench-rules output line.
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
is_num() { [[ $1 =~ ^-?[0-9]+(\.[0-9]*)?$ ]]; }
# stats FILE: "median spread" of the numbers in FILE (spread: (max - min) /
# median), "? ?" if none
stats() {
	[ -s "$1" ] || { echo "? ?"; return; }
	sort -g "$1" | awk '{v[NR] = $1} END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f %.0f%%\n", m, 100 * (v[NR] - v[1]) / m }'
}
# ratio A B [FORMAT]: A / B, "?" when either is not a number
ratio() {
	if is_num "$1" && is_num "$2"; then
		awk -v a="$1" -v b="$2" -v f="${3:-%.2fx}" 'BEGIN { printf f, a / b }'
	else
		echo "?"
	fi
}
# paired S A B: the per-round ratios A/B of scenario S, "median [min-max]"
paired() {
	local fa=$tmp/$1.$2 fb=$tmp/$1.$3
	{ [ -s "$fa" ] && [ -s "$fb" ]; } || { echo "?"; return; }
	paste -d' ' "$fa" "$fb" | awk '$1 > 0 && $2 > 0 {print $1 / $2}' | sort -g |
		awk '{v[NR] = $1} END {
			if (!NR) { print "?"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.2fx [%.2f-%.2f]", m, v[1], v[NR] }'
}
# median of paired ratios alone, a number
paired_median() { paired "$@" | awk '{ sub(/x$/, "", $1); print $1 }'; }
met() { # VALUE LIMIT
	if ! is_num "$1"; then
		echo "unknown"
	elif awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; then
		echo "met"
	else
		echo "NOT met"
	fi
}

# ---- timings ---------------------------------------------------------------

echo "trackalloc rules benchmark (issue 13)"
echo "machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(nproc) online CPUs, $(ldd --version | head -n 1), load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
echo "library: $lib${base_lib:+; ta-base: $base_lib}"
if command -v lttng >/dev/null && lttng list 2>/dev/null | grep -q '\[active\]'; then
	echo "warning: an LTTng session is active on this machine; if it enables userspace" \
		"events, the lttng and trackalloc figures include recording them"
fi
echo "workload: bench-malloc's pairs (sizes 16-512 B from a fixed sequence, a ring of 64" \
	"live blocks, a pseudo-random one freed and replaced each pair), one thread, no group" \
	"entered; $pairs pairs per repetition, best of $reps repetitions per process (thread" \
	"CPU time), $rounds rounds with the contenders interleaved${cpu:+, pinned to CPU $cpu}"
base_note=
[ -n "$base_lib" ] && base_note="; ta-base = the other build, no rules"
echo "contenders: glibc; lttng = liblttng-ust-libc-wrapper, no session; ta = trackalloc," \
	"no rules; ta-thread = TRACKALLOC_GROUPS='thread:*=%n'; ta-lib = 'lib:*=%n'$base_note"
echo

failures=0
for ((r = 1; r <= rounds; r++)); do
	for s in "${active[@]}"; do
		for c in ${conts[$s]}; do
			if ! out=$(in_env "$c" "${pin[@]}" "${prog[$s]}" "${mode[$s]}" "$pairs" "$reps" 2>&1); then
				echo "warning: ${prog[$s]##*/} ${mode[$s]} failed under $c: $out" >&2
				[ "$c" = lttng ] || failures=$((failures + 1))
				continue
			fi
			ns=$(field ns_per_pair "$out") wall=$(field wall_ns_per_pair "$out")
			is_num "$ns" && echo "$ns" >>"$tmp/$s.$c"
			is_num "$wall" && echo "$wall" >>"$tmp/$s.$c.wall"
			# the rules must have charged their group, every pair of it
			if [ "$r" = 1 ] && [ "${c#ta}" != "$c" ]; then
				top=$(field top_group "$out") n=$(field top_objects "$out")
				exp=${want[$s,$c]:-root}
				if [ "$(field trackalloc "$out")" != 1 ]; then
					echo "FAIL: $s under $c: trackalloc is not the allocator ($out)"
					failures=$((failures + 1))
				elif [ "$top" != "$exp" ] ||
					{ [ "$exp" != root ] && [ "$n" -lt "$((pairs * reps))" ]; }; then
					echo "FAIL: $s under $c: expected the pairs in group '$exp', the" \
						"busiest group is '$top' with $n allocations"
					failures=$((failures + 1))
				fi
			fi
		done
	done
	echo "round $r of $rounds done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo

# ---- tables ------------------------------------------------------------------

declare -A med
for s in "${active[@]}"; do
	for c in ${conts[$s]}; do
		read -r m sp <<<"$(stats "$tmp/$s.$c")"
		med[$s,$c]=$m med[$s,$c,spread]=$sp
		read -r m _ <<<"$(stats "$tmp/$s.$c.wall")"
		med[$s,$c,wall]=$m
	done
done

echo "ns per pair, thread CPU time: median over rounds of each process's best; spread ="
echo "(max - min) / median; /glibc, /lttng, /ta: ratios of the medians; paired: the"
echo "median [min-max] of the per-round ratios to ta (no rules)"
for s in "${active[@]}"; do
	echo
	echo "${label[$s]} (${func[$s]}):"
	printf '  %-10s %9s %7s %9s %8s %8s %8s  %s\n' contender "ns/pair" spread "wall ns" \
		"/glibc" "/lttng" "/ta" "paired /ta"
	for c in ${conts[$s]}; do
		l="-" t="-" p="-"
		[ $has_lttng = 1 ] && l=$(ratio "${med[$s,$c]}" "${med[$s,lttng]}")
		case $c in ta-*) t=$(ratio "${med[$s,$c]}" "${med[$s,ta]}") p=$(paired "$s" "$c" ta) ;; esac
		printf '  %-10s %9s %7s %9s %8s %8s %8s  %s\n' "$c" "${med[$s,$c]}" \
			"${med[$s,$c,spread]}" "${med[$s,$c,wall]}" "$(ratio "${med[$s,$c]}" "${med[$s,glibc]}")" \
			"$l" "$t" "$p"
	done
done
echo "(load average after the timings: $(cut -d' ' -f1-3 /proc/loadavg))"
echo

echo "targets (thread CPU time, paired ratios; informative: timings never fail the benchmark):"
has_s() { local x; for x in "${active[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }
if has_s pairs; then
	v=$(paired_median pairs ta-lib ta)
	echo "  lib rules, direct malloc callers (program) <= ${target_lib}x no rules:" \
		"$(paired pairs ta-lib ta) -> $(met "$v" $target_lib)"
fi
if has_s peer; then
	v=$(paired_median peer ta-lib ta)
	echo "  lib rules, direct malloc callers (library) <= ${target_lib}x no rules:" \
		"$(paired peer ta-lib ta) -> $(met "$v" $target_lib)"
fi
if has_s pairs; then
	v=$(paired_median pairs ta-thread ta)
	echo "  thread rules unchanged (<= ${target_same}x no rules): $(paired pairs ta-thread ta)" \
		"-> $(met "$v" $target_same)"
	if [ -n "$base_lib" ]; then
		v=$(paired_median pairs ta ta-base)
		echo "  no rules unchanged (<= ${target_same}x the other build): $(paired pairs ta ta-base)" \
			"-> $(met "$v" $target_same)"
	fi
fi
for s in strdup deep new; do
	has_s $s || continue
	echo "  lib rules, ${label[$s]}: $(paired $s ta-lib ta) no rules (no target: the figure)"
done
echo

# ---- instruction counts --------------------------------------------------------

# Instructions of the scenario's loop function (the calls and the loop
# itself) for two run lengths; the difference divided by the extra pairs is
# one steady-state pair, without start-up or warm-up.
short=100000 long=300000
callgrind_ir() { # SCENARIO CONTENDER PAIRS
	local f=$tmp/cg.$1.$2.$3 n
	if ! in_env "$2" valgrind --tool=callgrind --callgrind-out-file="$f" \
		--toggle-collect="${func[$1]}" "${prog[$1]}" "${mode[$1]}" "$3" 1 >/dev/null 2>&1; then
		echo "?"
		return
	fi
	n=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$f" | head -n 1)
	echo "${n:-?}"
}
if [ "${TRACKALLOC_BENCH_CALLGRIND:-1}" = 0 ]; then
	echo "instructions per pair: skipped (TRACKALLOC_BENCH_CALLGRIND=0)"
elif ! command -v valgrind >/dev/null; then
	echo "instructions per pair: valgrind not installed, skipped"
else
	echo "instructions per pair (callgrind, the loop function included; /ta: against no rules):"
	declare -A ir
	for s in "${active[@]}"; do
		for c in ${conts[$s]}; do
			a=$(callgrind_ir "$s" "$c" $short) b=$(callgrind_ir "$s" "$c" $long)
			ir[$s,$c]="?"
			is_num "$a" && is_num "$b" && ir[$s,$c]=$(ratio "$((b - a))" "$((long - short))" %.1f)
		done
		line=""
		for c in ${conts[$s]}; do
			line+="$c ${ir[$s,$c]}"
			case $c in ta-*) line+=" ($(ratio "${ir[$s,$c]}" "${ir[$s,ta]}"))" ;; esac
			line+="   "
		done
		printf '  %-32s %s\n' "${label[$s]}:" "${line%   }"
	done
fi

if [ "$failures" != 0 ]; then
	echo "$failures failure(s): runs that failed under glibc or trackalloc, or rules that" \
		"did not charge their group"
	exit 1
fi
exit 0
