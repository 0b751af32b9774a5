#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Late session, second case: a session that starts while another session is
# already recording the program is just as late as the first one was, and
# must learn every group's name and tags within the documented delay
# (TA_LATE_DELAY_MS, default 1000 ms) without the program doing anything.
#
#   late-session-concurrent.sh TP_PROGRAM
set -uo pipefail
. "$(dirname "$0")/lib.sh"
prog=${1:?usage: $0 TP_PROGRAM}
delay_ms=${TA_LATE_DELAY_MS:-1000}
delay_s=$(awk -v ms="$delay_ms" 'BEGIN {printf "%.3f", ms / 1000}')
lt_init

ctl="$LT_TMP/ctl"
mkdir "$ctl"
out="$LT_TMP/prog.out"
timeout 25 "$prog" late "$ctl" >"$out" 2>"$LT_TMP/prog.err" &
ppid=$!
LT_PIDS+=("$ppid")
lt_wait_for "$out" '^READY' 10 || lt_fail "tp-program late never got ready"

# A first session starts and records; it learns the groups (late-session.sh
# checks that).
lt_full_session A
lt_start "$A"
sleep "$delay_s"

# B starts while A still records.
lt_full_session B
lt_start "$B"
tb=$(lt_mono_ns)
lt_log "session $B started while $A records; waiting ${delay_ms} ms"
sleep "$delay_s"
lt_stop "$B"

touch "$ctl/exit"
wait "$ppid"
rc=$?
lt_stop "$A"
lt_destroy "$A"
lt_destroy "$B"
[ $rc = 0 ] || { cat "$LT_TMP/prog.err" >&2; lt_fail "tp-program late exited with $rc"; }
pid=$(awk '$1 == "PID" {p = $2} END {print p}' "$out")
echo "== session B, started while session A records"
lt_check late "$(lt_pid_trace "$(lt_trace_dir "$B")" "$pid")" "$out" \
	--start-ns "$tb" --delay-ms "$delay_ms" ||
	lt_fail "a session started while another one records never learns the groups"
echo "PASS: late-session-concurrent"
