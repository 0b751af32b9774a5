#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Full mode: a session records every trackalloc event while tp-program runs
# its tagged groups, nested enters, cross-thread frees and reallocs. Every
# allocation, free and realloc the program made is in the trace with its
# thread, pointer, exact size and groups (source and current for frees);
# per-group event sums equal the program's ta_group_stats; group_register and
# group_tag carry the names and tags; every guard the program entered and
# exited is a group_enter (group_id: the group entered, previous_group_id:
# the one active before) and a group_exit (group_id: the group left,
# restored_group_id: the one active after), thread by thread in the
# program's order; nothing is discarded.
#
#   full-events.sh TP_PROGRAM
set -uo pipefail
. "$(dirname "$0")/lib.sh"
prog=${1:?usage: $0 TP_PROGRAM}
lt_init

lt_full_session S
lt_start "$S"
lt_log "session $S started; running tp-program full"
timeout 20 "$prog" full >"$LT_TMP/prog.out" 2>"$LT_TMP/prog.err"
rc=$?
lt_stop "$S"
lt_destroy "$S"
[ $rc = 0 ] || { cat "$LT_TMP/prog.err" >&2; lt_fail "tp-program full exited with $rc"; }
pid=$(awk '$1 == "PID" {print $2}' "$LT_TMP/prog.out")
trace=$(lt_pid_trace "$(lt_trace_dir "$S")" "$pid")
lt_log "reading $trace"
lt_bt_read "$trace"
lt_check full "$trace" "$LT_TMP/prog.out" || lt_fail "the trace does not show what tp-program did"
echo "PASS: full-events"
