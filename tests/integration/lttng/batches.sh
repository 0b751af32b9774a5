#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Compact traces lose nothing where a process or thread ends before its
# buffer filled a chunk (batch-program.c): each case records, in batch form
# only, a known number of allocations of a size nothing else uses, and the
# trace must hold exactly that many records of it, none discarded:
#   exec     allocations, then exec (no exit handler runs)
#   _exit    allocations, then _exit
#   threads  8 threads allocate and exit at once (their last records go out
#            at thread exit)
#   fork     a child of a threaded parent, and the parent
#   idle     two threads allocate and go quiet; the session is stopped while
#            they wait: the watcher wrote their buffers out within
#            TA_BATCH_MAX_AGE_MS (250 ms)
#
#   batches.sh BATCH_PROGRAM
set -uo pipefail
. "$(dirname "$0")/lib.sh"
prog=${1:?usage: $0 BATCH_PROGRAM}
lt_init
export LT_FORM=batch
n=100
size=777
failed=0

# expect LABEL TRACE PID COUNT
expect() {
	lt_log "$1: $4 allocations of $size B expected from pid $3"
	lt_check count "$2" --vpid "$3" --event alloc --size "$size" --min "$4" --max "$4" \
		--no-discard || {
		echo "FAIL: $1"
		failed=1
	}
}

# run_case LABEL ARGS...: a session around one run of the program
run_case() {
	local label=$1 out rc pid
	shift
	out="$LT_TMP/$label.out"
	lt_full_session S
	lt_start "$S"
	timeout 20 "$prog" "$@" >"$out" 2>"$LT_TMP/$label.err"
	rc=$?
	lt_stop "$S"
	lt_destroy "$S"
	[ $rc = 0 ] || {
		cat "$LT_TMP/$label.err" >&2
		lt_fail "batch-program $* exited with $rc"
	}
	pid=$(awk '$1 == "PID" {print $2}' "$out")
	CASE_TRACE=$(lt_pid_trace "$(lt_trace_dir "$S")" "$pid")
	CASE_PID=$pid
	CASE_OUT=$out
}

for how in exec _exit; do
	run_case "$how" "$how" "$n" "$size"
	expect "$how" "$CASE_TRACE" "$CASE_PID" "$n"
done

run_case threads threads 8 "$n" "$size"
expect threads "$CASE_TRACE" "$CASE_PID" $((8 * n))

run_case fork fork "$n" "$size"
child=$(awk '$1 == "CHILD" {print $2}' "$CASE_OUT")
expect fork-parent "$CASE_TRACE" "$CASE_PID" "$n"
expect fork-child "$(lt_pid_trace "$(lt_trace_dir "$S")" "$child")" "$child" "$n"

# idle: the session stops while both threads wait
ctl="$LT_TMP/ctl"
mkdir -p "$ctl"
lt_full_session S
lt_start "$S"
timeout 40 "$prog" idle "$n" "$size" "$ctl" >"$LT_TMP/idle.out" 2>"$LT_TMP/idle.err" &
ppid=$!
LT_PIDS+=("$ppid")
lt_wait_for "$LT_TMP/idle.out" '^READY' 10 || lt_fail "batch-program idle never got ready"
sleep 0.6 # > TA_BATCH_MAX_AGE_MS: the watcher has written the buffers out
lt_stop "$S"
touch "$ctl/stop"
wait "$ppid" || lt_fail "batch-program idle failed"
pid=$(awk '$1 == "PID" {print $2}' "$LT_TMP/idle.out")
expect idle "$(lt_pid_trace "$(lt_trace_dir "$S")" "$pid")" "$pid" $((2 * n))
lt_destroy "$S"

[ $failed = 0 ] || lt_fail "some records were lost"
echo "PASS: batches"
