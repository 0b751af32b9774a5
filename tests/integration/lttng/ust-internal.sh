#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Allocations made by LTTng-UST itself emit nothing: every alloc, free and
# realloc event of the program comes from a thread the program made (it
# prints their ids), never from LTTng-UST's listener threads ("PROC-ust") nor
# from the library's own threads; and nothing hangs. LTTng-UST allocates in
# its listener threads when it registers the application, when a session
# starts (its base-address statedump), on every command (enable-event on a
# running session), and in a forked child (it restarts its threads there
# from the fork handlers), so four situations are covered:
#   1. the session is active before the program starts (tp-program full);
#   2. a session starts while the program runs and allocates (tp-program late);
#   3. per-call events are enabled on that session while it is active;
#   4. children of a traced multithreaded program (tp-program fork): a child
#      makes no allocation but its own blocks (and none at all before an
#      exec), so every other per-call event in a child (from LTTng-UST's new
#      listener threads, or charged to the group the child inherited, from
#      the fork handlers) is one that should not exist.
#
#   ust-internal.sh TP_PROGRAM
set -uo pipefail
. "$(dirname "$0")/lib.sh"
prog=${1:?usage: $0 TP_PROGRAM}
lt_init
failed=0

# 1. session first, then the program
lt_full_session S
lt_start "$S"
timeout 20 "$prog" full >"$LT_TMP/full.out" 2>"$LT_TMP/full.err"
rc=$?
lt_stop "$S"
lt_destroy "$S"
[ $rc = 0 ] || { cat "$LT_TMP/full.err" >&2; lt_fail "tp-program full exited with $rc (hang or crash)"; }
pid=$(awk '$1 == "PID" {print $2}' "$LT_TMP/full.out")
echo "== 1. session active before the program starts"
lt_check tids "$(lt_pid_trace "$(lt_trace_dir "$S")" "$pid")" "$LT_TMP/full.out" --min-per-call 600 ||
	failed=1

# 2 and 3. the program first; then a session starts; then per-call events
# are enabled while it records.
ctl="$LT_TMP/ctl"
mkdir "$ctl"
out="$LT_TMP/late.out"
timeout 25 "$prog" late "$ctl" >"$out" 2>"$LT_TMP/late.err" &
ppid=$!
LT_PIDS+=("$ppid")
lt_wait_for "$out" '^READY' 10 || lt_fail "tp-program late never got ready"

lt_full_session S2
lt_start "$S2"
sleep 0.5
lt_session S3
lt_channel "$S3" --buffers-pid --subbuf-size=1M --num-subbuf=8
lt_events "$S3" 'trackalloc:group_register'
lt_context "$S3"
lt_start "$S3"
sleep 0.3
lt_events "$S3" 'trackalloc:alloc,trackalloc:free,trackalloc:realloc'
sleep 0.3
lt_events "$S3" 'trackalloc:group_stats'
sleep 0.3
touch "$ctl/exit"
wait "$ppid"
rc=$?
lt_stop "$S2"
lt_stop "$S3"
lt_destroy "$S2"
lt_destroy "$S3"
[ $rc = 0 ] || { cat "$LT_TMP/late.err" >&2; lt_fail "tp-program late exited with $rc (hang or crash)"; }
pid=$(awk '$1 == "PID" {p = $2} END {print p}' "$out")
echo "== 2. session started while the program runs"
lt_check tids "$(lt_pid_trace "$(lt_trace_dir "$S2")" "$pid")" "$out" --min-per-call 100 || failed=1
echo "== 3. per-call events enabled on a running session"
lt_check tids "$(lt_pid_trace "$(lt_trace_dir "$S3")" "$pid")" "$out" --min-per-call 50 || failed=1

# 4. fork
prog_abs=$(cd "$(dirname "$prog")" && pwd)/$(basename "$prog")
lt_full_session S4 --subbuf-size=2M
lt_start "$S4"
timeout 25 "$prog_abs" fork "$prog_abs" >"$LT_TMP/fork.out" 2>"$LT_TMP/fork.err"
rc=$?
lt_stop "$S4"
lt_destroy "$S4"
[ $rc = 0 ] || { cat "$LT_TMP/fork.err" >&2; lt_fail "tp-program fork exited with $rc (hang or crash)"; }
pids=$(awk '$1 == "PID" || $1 == "CHILD" {print ($1 == "PID" ? $2 : $3)}' "$LT_TMP/fork.out")
echo "== 4. children of a traced program"
# shellcheck disable=SC2086 # one argument per pid
lt_check fork "$(lt_pid_trace "$(lt_trace_dir "$S4")" $pids)" "$LT_TMP/fork.out" --foreign ||
	failed=1

[ $failed = 0 ] || lt_fail "LTTng-UST's or the library's own allocations emit events"
echo "PASS: ust-internal"
