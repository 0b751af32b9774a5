#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Streaming: a private lttng-relayd on 127.0.0.1 (its own output directory
# and free ports) receives a session created with --set-url=net://...; the
# relayd's output holds a complete trace of tp-program full: babeltrace2
# reads it without a warning, and it shows every allocation, free and
# realloc the program made, the groups' names and tags, and nothing lost.
#
#   streaming.sh TP_PROGRAM
set -uo pipefail
. "$(dirname "$0")/lib.sh"
prog=${1:?usage: $0 TP_PROGRAM}
lt_need_exe lttng-relayd
lt_init

read -r p_ctrl p_data p_live < <("$LT_PY" - <<'PY'
import socket
socks = []
for _ in range(3):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
PY
)
out="$LT_TMP/relayd"
mkdir "$out"
lttng-relayd -o "$out" -C "tcp://127.0.0.1:$p_ctrl" -D "tcp://127.0.0.1:$p_data" \
	-L "tcp://127.0.0.1:$p_live" >"$LT_TMP/relayd.log" 2>&1 &
relayd=$!
LT_PIDS+=("$relayd")
lt_log "lttng-relayd pid $relayd: control $p_ctrl, data $p_data, live $p_live; output $out"
for i in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$p_ctrl") 2>/dev/null && break
	kill -0 "$relayd" 2>/dev/null || { cat "$LT_TMP/relayd.log" >&2; lt_fail "lttng-relayd exited"; }
	sleep 0.05
done

lt_session S --set-url="net://127.0.0.1:$p_ctrl:$p_data"
lt_channel "$S" --buffers-pid --subbuf-size=1M --num-subbuf=8
lt_trackalloc_events "$S"
lt_context "$S"
lt_start "$S"
timeout 20 "$prog" full >"$LT_TMP/prog.out" 2>"$LT_TMP/prog.err"
rc=$?
lt_stop "$S"
lt_destroy "$S"
[ $rc = 0 ] || { cat "$LT_TMP/prog.err" >&2; lt_fail "tp-program full exited with $rc"; }
pid=$(awk '$1 == "PID" {print $2}' "$LT_TMP/prog.out")

# The relayd writes OUT/HOSTNAME/SESSION-DATE/...; give it a moment to close
# the trace after the session is destroyed.
sdir=
for i in $(seq 100); do
	sdir=$(find "$out" -mindepth 2 -maxdepth 2 -type d -name "$S-*" | head -n 1)
	[ -n "$sdir" ] && [ -d "$sdir/ust/pid" ] &&
		[ -n "$(find "$sdir/ust/pid" -maxdepth 1 -name "*-$pid-*")" ] && break
	sleep 0.05
done
if [ -z "$sdir" ] || [ ! -d "$sdir/ust/pid" ]; then
	find "$out" >&2
	lt_fail "no trace of session $S in the relayd's output"
fi
trace=$(lt_pid_trace "$sdir" "$pid")
lt_log "relayd wrote $trace"
sleep 0.2
kill "$relayd"
wait "$relayd" 2>/dev/null
lt_bt_read "$trace"
lt_check full "$trace" "$LT_TMP/prog.out" || lt_fail "the streamed trace is incomplete or wrong"
echo "PASS: streaming"
