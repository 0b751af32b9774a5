#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `trackalloc record -p PID` on the phases program, started (and its
# groups registered) before the recording:
#   A. --duration 2.5 (full mode) while the program does its phase 2: the
#      report printed at the end names every group with its tags; the
#      trace's allocations, frees and bytes of cache and parser are what the
#      program did in the recording (its phase 2); status 0; nothing left;
#   B. --mode=counters --duration 1.5: the report's figures are the
#      program's own cumulative counters;
#   C. no --duration, Ctrl-C (SIGINT): the recording stops, the report is
#      printed, status 0, no session left.
#
#   top-record-pid.sh TRACKALLOC LIBTRACKALLOC PHASES
set -uo pipefail
# shellcheck source=../lttng/lib.sh
. "$(dirname "$0")/../lttng/lib.sh"
# shellcheck source=top-lib.sh
. "$(dirname "$0")/top-lib.sh"
TA=${1:?usage: $0 TRACKALLOC LIBTRACKALLOC PHASES}
# shellcheck disable=SC2034 # LIB and PHASES: for top-lib.sh
LIB=${2:?} PHASES=${3:?}
lt_need_exe setsid
lt_init
failed=0
bad() {
	echo "FAIL: $*" >&2
	failed=1
}

# ends NAME RUN: the record run RUN ends within 30 s with status 0, left
# nothing behind, and printed a report naming the three groups.
ends() {
	local name=$1 run=$2 rc left
	for _ in $(seq 300); do
		kill -0 "$run" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$run" 2>/dev/null && { bad "$name: record -p did not end"; kill "$run"; }
	wait "$run"
	rc=$?
	cat "$LT_TMP/$name.err"
	[ $rc = 0 ] || bad "$name: record -p exited with $rc"
	left=$(top_sessions "$run")
	[ -z "$left" ] || bad "$name: sessions left behind: $left"
	left=$(sid_procs "$run")
	[ -z "$left" ] || bad "$name: processes left behind: $left"
	for g in 'cache +tier=hot,owner=phases' 'parser +lang=c' 'churn'; do
		grep -qE "^ +[0-9]+ +$g " "$LT_TMP/$name.rep" || bad "$name: the report has no group $g"
	done
}

# record NAME ARGS...: trackalloc record ARGS -o $LT_TMP/NAME in the
# background, its own session id; sets run. SIGINT is given back its
# default disposition first (a background command of a script ignores it,
# and a shell cannot trap what it ignored at entry), so that SIGINT is
# what Ctrl-C is to a foreground run.
record() {
	local name=$1
	shift
	"$LT_PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' setsid "$TA" record "$@" -o "$LT_TMP/$name" \
		>"$LT_TMP/$name.rep" 2>"$LT_TMP/$name.err" &
	run=$!
	LT_PIDS+=("$run")
	lt_wait_for "$LT_TMP/$name.err" 'recording process' 15 || {
		cat "$LT_TMP/$name.err" >&2
		lt_fail "$name: record -p never started recording"
	}
}

echo "== A. record -p PID --duration 2.5, phase 2 during the recording"
ph_start a
record a -p "$(ph_pid a)" --duration 2.5
sleep 0.5
ph_next a 2
ends a "$run"
sed -n '/^process /,$p' "$LT_TMP/a.rep"
lt_bounded 60 "$TA" report --format tsv "$LT_TMP/a" >"$LT_TMP/a.tsv" || bad "A: report --format tsv failed"
top_check record "$LT_TMP/a.tsv" "$LT_TMP/a.out" 1 2 window || bad "A: the report"
ph_stop a

echo "== B. --mode=counters"
ph_start b
ph_next b 2
record b -p "$(ph_pid b)" --duration 1.5 --mode=counters
ends b "$run"
sed -n '/^process /,$p' "$LT_TMP/b.rep"
lt_bounded 60 "$TA" report --format tsv "$LT_TMP/b" >"$LT_TMP/b.tsv" || bad "B: report --format tsv failed"
top_check record "$LT_TMP/b.tsv" "$LT_TMP/b.out" 1 2 counters || bad "B: the report"
ph_stop b

echo "== C. Ctrl-C ends a recording without --duration"
ph_start c
record c -p "$(ph_pid c)" --mode=counters
sleep 1
kill -INT "$run"
ends c "$run"
grep -q 'stopped recording process' "$LT_TMP/c.err" || bad "C: no 'stopped recording'"
ph_stop c

[ $failed = 0 ] || lt_fail "top-record-pid"
echo "PASS: top-record-pid"
