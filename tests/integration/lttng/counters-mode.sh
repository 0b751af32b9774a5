#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Counters mode (the production setting): per-call events off, group_stats
# sampled every TRACKALLOC_SAMPLE_MS (20 ms here).
#   A. a session enabling only trackalloc:group_stats;
#   B. a session enabling 'trackalloc:*' --loglevel=INFO (metadata + counters).
# In both: no alloc/free/realloc (or other DEBUG) events; several samples per
# group, about TRACKALLOC_SAMPLE_MS apart, never going backwards; the last
# sample of every non-root group equals the counters the program printed
# right before exiting. B also has every group's names and tags.
#   C. no sampling thread ("ta-sampler") exists while no session enables
#      group_stats; one appears when a session does, and goes away when it
#      is destroyed.
#
#   counters-mode.sh TP_PROGRAM
set -uo pipefail
. "$(dirname "$0")/lib.sh"
prog=${1:?usage: $0 TP_PROGRAM}
lt_init
export TRACKALLOC_SAMPLE_MS=20
failed=0

run_counters() { # SESSION NAME
	timeout 20 "$prog" counters 400 >"$LT_TMP/$2.out" 2>"$LT_TMP/$2.err"
	local rc=$?
	lt_stop "$1"
	lt_destroy "$1"
	[ $rc = 0 ] || { cat "$LT_TMP/$2.err" >&2; lt_fail "tp-program counters exited with $rc"; }
	awk '$1 == "PID" {print $2}' "$LT_TMP/$2.out"
}

echo "== A. only trackalloc:group_stats"
lt_session S
lt_channel "$S" --buffers-pid --subbuf-size=256K --num-subbuf=4
lt_events "$S" 'trackalloc:group_stats'
lt_context "$S"
lt_start "$S"
pid=$(run_counters "$S" a)
lt_check counters "$(lt_pid_trace "$(lt_trace_dir "$S")" "$pid")" "$LT_TMP/a.out" \
	--min-samples 8 --period-ms 20 --metadata no || failed=1

echo "== B. 'trackalloc:*' --loglevel=INFO"
lt_session S
lt_channel "$S" --buffers-pid --subbuf-size=256K --num-subbuf=4
lt_events "$S" 'trackalloc:*' --loglevel=INFO
lt_context "$S"
lt_start "$S"
pid=$(run_counters "$S" b)
lt_check counters "$(lt_pid_trace "$(lt_trace_dir "$S")" "$pid")" "$LT_TMP/b.out" \
	--min-samples 8 --period-ms 20 --metadata yes || failed=1

echo "== C. the sampling thread exists only while group_stats is enabled"
# The watcher and the sampler take the process's name (so that traces label
# the process as the program): threads of that name beyond tp-program late's
# own two (main, late_bg) and the watcher are samplers.
samplers() { # PID: how many sampling threads
	local name n
	name=$(cat /proc/"$1"/comm 2>/dev/null)
	n=$(grep -cxF -- "$name" /proc/"$1"/task/*/comm 2>/dev/null | awk -F: '{s += $NF} END {print s + 0}')
	echo $((n - 3))
}
wait_samplers() { # PID WANT: up to 2 s
	local i
	for i in $(seq 100); do
		[ "$(samplers "$1")" = "$2" ] && return 0
		sleep 0.02
	done
	return 1
}
ctl="$LT_TMP/ctl"
mkdir "$ctl"
timeout 25 "$prog" late "$ctl" >"$LT_TMP/c.out" 2>"$LT_TMP/c.err" &
ppid=$!
LT_PIDS+=("$ppid")
lt_wait_for "$LT_TMP/c.out" '^READY' 10 || lt_fail "tp-program late never got ready"
cpid=$(awk '$1 == "PID" {print $2; exit}' "$LT_TMP/c.out")
[ -d /proc/"$cpid"/task ] || lt_fail "no /proc/$cpid/task"
sleep 0.2
n0=$(samplers "$cpid")
lt_session S
lt_channel "$S" --buffers-pid --subbuf-size=256K --num-subbuf=4
lt_events "$S" 'trackalloc:group_stats'
lt_start "$S"
wait_samplers "$cpid" 1
n1=$(samplers "$cpid")
lt_destroy "$S"
wait_samplers "$cpid" 0
n2=$(samplers "$cpid")
touch "$ctl/exit"
wait "$ppid" || lt_fail "tp-program late failed"
echo "sampling threads: $n0 before any session, $n1 while group_stats is recorded," \
	"$n2 after the session is destroyed"
foreign=$(lt_foreign_sessions trackalloc:)
if [ -n "$foreign" ]; then
	# another session enables group_stats in every process: no verdict
	echo "NOTE: not judged, other sessions record trackalloc events: ${foreign//$'\n'/ }"
elif [ "$n0" != 0 ] || [ "$n1" != 1 ] || [ "$n2" != 0 ]; then
	echo "FAIL: expected 0, 1, 0 sampling threads" >&2
	failed=1
fi

[ $failed = 0 ] || lt_fail "counters mode"
echo "PASS: counters-mode"
