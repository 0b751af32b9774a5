#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Process and thread life cycle while a session records trackalloc:* (the
# session is active before each program starts):
#   1. fork: a multithreaded parent (two threads allocating in a group the
#      whole time) forks a child that allocates, registers a group and exits;
#      a child that execs /bin/true; a child that execs tp-program itself;
#      and posix_spawn()s /bin/true; twice. Nothing hangs (timeout), every
#      child exits 0, the children's groups and allocations are in the
#      trace under their own pids, the parent's trace is exact. (That a
#      child emits nothing else is ust-internal.sh's rule.)
#   2. threads: 48 short-lived threads in waves of 8 allocate in groups,
#      free blocks of threads that already exited, and exit while the
#      session records: no hang, and the trace adds up to the counters.
#
#   lifecycle.sh TP_PROGRAM
set -uo pipefail
. "$(dirname "$0")/lib.sh"
prog=${1:?usage: $0 TP_PROGRAM}
prog=$(cd "$(dirname "$prog")" && pwd)/$(basename "$prog")
lt_init
failed=0

echo "== 1. fork, fork + exec, posix_spawn"
lt_full_session S --subbuf-size=2M
lt_start "$S"
timeout 25 "$prog" fork "$prog" >"$LT_TMP/fork.out" 2>"$LT_TMP/fork.err"
rc=$?
lt_stop "$S"
lt_destroy "$S"
if [ $rc != 0 ]; then
	cat "$LT_TMP/fork.err" >&2
	[ $rc = 124 ] && lt_fail "tp-program fork hung (killed after 25 s)"
	lt_fail "tp-program fork exited with $rc"
fi
# the parent's trace and its children's (each has its own buffers)
pids=$(awk '$1 == "PID" || $1 == "CHILD" {print ($1 == "PID" ? $2 : $3)}' "$LT_TMP/fork.out")
# shellcheck disable=SC2086 # one argument per pid
trace=$(lt_pid_trace "$(lt_trace_dir "$S")" $pids)
lt_bt_read "$trace"
lt_check fork "$trace" "$LT_TMP/fork.out" --rounds 2 || failed=1

echo "== 2. threads exiting while the session records"
lt_full_session S
lt_start "$S"
timeout 25 "$prog" threads 48 >"$LT_TMP/threads.out" 2>"$LT_TMP/threads.err"
rc=$?
lt_stop "$S"
lt_destroy "$S"
if [ $rc != 0 ]; then
	cat "$LT_TMP/threads.err" >&2
	[ $rc = 124 ] && lt_fail "tp-program threads hung (killed after 25 s)"
	lt_fail "tp-program threads exited with $rc"
fi
pid=$(awk '$1 == "PID" {print $2}' "$LT_TMP/threads.out")
trace=$(lt_pid_trace "$(lt_trace_dir "$S")" "$pid")
lt_bt_read "$trace"
lt_check full "$trace" "$LT_TMP/threads.out" || failed=1

[ $failed = 0 ] || lt_fail "life cycle under a recording session"
echo "PASS: lifecycle"
