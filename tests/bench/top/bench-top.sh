#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Benchmarks of `trackalloc top` (issue 15; tables, never a failure on
# timing):
#  (a) the cost of being watched: bench-watched's malloc/free pairs (the
#      malloc-pairs workload, preloaded, in a group) with no session (no
#      LTTng-UST in the process), attached but with no session (LTTng-UST
#      loaded), and while `trackalloc top -p PID --batch` watches it at the
#      default interval (1 s); the modes alternate, each round starting
#      with the next one. Figures: the median over
#      rounds of each round's median loop, in ns per pair of the loop
#      thread's CPU time, of the whole process's (the library's sampler
#      thread and LTTng-UST's included) and of wall time, with ratios to
#      no session; and
#      the CPU that watching costs outside the program (the viewer and its
#      relay daemon, in % of one CPU);
#  (b) the delay from an allocation to top showing it: bench-delay makes a
#      group's live bytes take a new value every 1.3 s (a period that no
#      interval divides, so the phases drift); bench-delay.py reads top's
#      --batch tables as they come and times the first one that shows each
#      value: median, min and max over the steps, at the default interval
#      and at 200 ms.
#
#   bench-top.sh TRACKALLOC LIBTRACKALLOC BENCH_WATCHED BENCH_DELAY
#
# Environment: TA_BENCH_RUNS (rounds, default 5), TA_BENCH_PAIRS (pairs per
# timed loop, default 50000000: about 0.6 s, so that every loop spans the
# watching's periodic work), TA_BENCH_STEPS (delay steps, default 15).
set -uo pipefail
. "$(dirname "$0")/../../integration/lttng/lib.sh"
TA=${1:?usage: $0 TRACKALLOC LIBTRACKALLOC BENCH_WATCHED BENCH_DELAY}
LIB=${2:?} WATCHED=${3:?} DELAY=${4:?}
runs=${TA_BENCH_RUNS:-5}
pairs=${TA_BENCH_PAIRS:-50000000}
steps=${TA_BENCH_STEPS:-15}
lt_need_exe lttng-relayd
lt_init
HERE=$(cd "$(dirname "$0")" && pwd)

median() { # FILE
	sort -g "$1" | awk '{v[NR] = $1} END {printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

cpu_ticks() { # PID: utime + stime, in clock ticks
	awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# one_round MODE N: bench-watched in MODE (plain, attached, watched);
# appends its figures to $LT_TMP/MODE.{cpu,wall}, and for watched the CPU
# share of top's viewer and relay daemon to $LT_TMP/watch.cpu.
one_round() {
	local mode=$1 n=$2 ctl out pid line top=""
	ctl="$LT_TMP/ctl-$mode-$n" out="$LT_TMP/$mode-$n.out"
	mkdir -p "$ctl"
	env LD_PRELOAD="$LIB" timeout 300 "$WATCHED" "$pairs" 5 "$ctl" >"$out" 2>"$out.err" &
	LT_PIDS+=($!)
	lt_wait_for "$out" '^PID ' 10 || lt_fail "bench-watched did not start"
	pid=$(awk '$1 == "PID" {print $2}' "$out")
	case $mode in
	attached)
		lt_bounded 30 "$TA" attach "$pid" || lt_fail "attach failed"
		;;
	watched)
		setsid "$TA" top -p "$pid" --batch >"$LT_TMP/top-$n.out" 2>"$LT_TMP/top-$n.err" &
		top=$!
		LT_PIDS+=("$top")
		lt_wait_for "$LT_TMP/top-$n.out" '^trackalloc top ' 20 || {
			cat "$LT_TMP/top-$n.err" >&2
			lt_fail "top printed no table"
		}
		;;
	esac
	local procs t0 t1 w0 w1
	procs=$( [ -n "$top" ] && ps -eo sid=,pid=,comm= | awk -v s="$top" '$1 == s && ($3 == "trackalloc-top" || $3 == "lttng-relayd") {print $2}')
	t0=0
	for p in $procs; do t0=$((t0 + $(cpu_ticks "$p"))); done
	w0=$(date +%s%N)
	touch "$ctl/go"
	lt_wait_for "$out" '^cpu_ns_per_pair' 300 || lt_fail "bench-watched ($mode) did not finish"
	w1=$(date +%s%N)
	t1=0
	for p in $procs; do t1=$((t1 + $(cpu_ticks "$p"))); done
	line=$(grep '^cpu_ns_per_pair' "$out")
	echo "$line" | awk '{print $4}' >>"$LT_TMP/$mode.cpu"
	echo "$line" | awk '{print $8}' >>"$LT_TMP/$mode.wall"
	echo "$line" | awk '{print $10}' >>"$LT_TMP/$mode.proc"
	if [ -n "$top" ]; then
		awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v w=$((w1 - w0)) \
			'BEGIN {printf "%.2f\n", 100 * t / hz / (w / 1e9)}' >>"$LT_TMP/watch.cpu"
		kill -TERM "$top" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$top" 2>/dev/null || break; sleep 0.1; done
		wait "$top" 2>/dev/null
	fi
	wait 2>/dev/null
}

echo "== (a) the cost of being watched: $runs rounds of 5 loops of $pairs pairs"
modes=(plain attached watched)
for ((r = 1; r <= runs; r++)); do
	# each round starts with another mode: none always runs first
	for ((m = 0; m < 3; m++)); do
		one_round "${modes[(r + m) % 3]}" "$r"
	done
	echo "round $r: plain $(tail -n1 "$LT_TMP/plain.cpu"), attached $(tail -n1 "$LT_TMP/attached.cpu")," \
		"watched $(tail -n1 "$LT_TMP/watched.cpu") ns/pair (CPU)"
done
p_cpu=$(median "$LT_TMP/plain.cpu") p_wall=$(median "$LT_TMP/plain.wall")
p_proc=$(median "$LT_TMP/plain.proc")
printf '%-44s %8s %8s %8s %7s %7s %7s\n' "" "thread" "process" "wall" "thr x" "proc x" "wall x"
for mode in plain attached watched; do
	c=$(median "$LT_TMP/$mode.cpu") w=$(median "$LT_TMP/$mode.wall") pr=$(median "$LT_TMP/$mode.proc")
	case $mode in
	plain) label="preloaded, no session (no LTTng-UST)" ;;
	attached) label="attached (LTTng-UST loaded), no session" ;;
	watched) label="watched by trackalloc top (1 s interval)" ;;
	esac
	printf '%-44s %8s %8s %8s %7s %7s %7s\n' "$label" "$c" "$pr" "$w" \
		"$(awk -v a="$c" -v b="$p_cpu" 'BEGIN {printf "%.3f", a / b}')" \
		"$(awk -v a="$pr" -v b="$p_proc" 'BEGIN {printf "%.3f", a / b}')" \
		"$(awk -v a="$w" -v b="$p_wall" 'BEGIN {printf "%.3f", a / b}')"
done
echo "viewer and relay daemon while watching: $(median "$LT_TMP/watch.cpu") % of one CPU (median)"

echo "== (b) the delay from an allocation to top showing it: $steps steps, 1.3 s apart"
for interval in 1000 200; do
	ctl="$LT_TMP/delay-$interval"
	mkdir -p "$ctl"
	env LD_PRELOAD="$LIB" timeout 300 "$DELAY" "$steps" 1300 "$ctl" >"$ctl.out" 2>"$ctl.err" &
	LT_PIDS+=($!)
	lt_wait_for "$ctl.out" '^PID ' 10 || lt_fail "bench-delay did not start"
	pid=$(awk '$1 == "PID" {print $2}' "$ctl.out")
	"$LT_PY" "$HERE/bench-delay.py" "$TA" "$pid" "$interval" "$ctl.out" "$ctl/go" "$steps" ||
		lt_fail "bench-delay.py failed (interval $interval ms)"
	wait 2>/dev/null
done
echo "PASS: bench-top (figures above; timings are never a failure)"
