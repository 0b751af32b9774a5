#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Late session: tp-program registers tagged groups, enters them (main thread
# and a second thread) and keeps allocating; only then a session recording
# trackalloc:* is created and started. Without the program doing anything,
# every group's group_register and group_tag events (names and tags) must be
# in the trace within the documented delay (TA_LATE_DELAY_MS, default 1000 ms;
# the library's watcher polls every 50 ms). Then the program calls
# ta_statedump(): the trace must hold every group's metadata again, emitted
# by the calling thread between the call's start and return.
#
#   late-session.sh TP_PROGRAM
set -uo pipefail
. "$(dirname "$0")/lib.sh"
prog=${1:?usage: $0 TP_PROGRAM}
delay_ms=${TA_LATE_DELAY_MS:-1000}
lt_init

ctl="$LT_TMP/ctl"
mkdir "$ctl"
out="$LT_TMP/prog.out"
timeout 25 "$prog" late "$ctl" >"$out" 2>"$LT_TMP/prog.err" &
ppid=$!
LT_PIDS+=("$ppid")
lt_wait_for "$out" '^READY' 10 || lt_fail "tp-program late never got ready"
sleep 0.3 # the program has been running, groups registered, with no session
foreign=$(lt_foreign_sessions trackalloc:)
[ -z "$foreign" ] || echo "NOTE: other sessions record trackalloc events (for the" \
	"library, this session then starts while another records; see" \
	"late-session-concurrent.sh): ${foreign//$'\n'/ }"

lt_full_session S
lt_start "$S"
t0=$(lt_mono_ns)
lt_log "session $S started (monotonic $t0 ns); waiting ${delay_ms} ms"
sleep "$(awk -v ms="$delay_ms" 'BEGIN {printf "%.3f", ms / 1000}')"
touch "$ctl/dump"
lt_wait_for "$out" '^DUMPED' 10 || lt_fail "tp-program never reported its ta_statedump()"
touch "$ctl/exit"
wait "$ppid"
rc=$?
lt_stop "$S"
lt_destroy "$S"
[ $rc = 0 ] || { cat "$LT_TMP/prog.err" >&2; lt_fail "tp-program late exited with $rc"; }
pid=$(awk '$1 == "PID" {p = $2} END {print p}' "$out")
trace=$(lt_pid_trace "$(lt_trace_dir "$S")" "$pid")
lt_bt_read "$trace"
lt_check late "$trace" "$out" --start-ns "$t0" --delay-ms "$delay_ms" --statedump ||
	lt_fail "a late session does not learn the groups' names and tags"
echo "PASS: late-session"
