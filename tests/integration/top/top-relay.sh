#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Across machines: a relay daemon of the test's own on 127.0.0.1 (free
# ports, its own output directory) stands for the remote one.
#   A. trackalloc top -p PID --batch --url net://127.0.0.1:CTRL:DATA
#      --live-port LIVE: the tables show the phases program's figures, read
#      live through that relay daemon; top starts no relay daemon of its own
#      and leaves the test's running; no session left;
#   B. trackalloc record -p PID --mode=counters --url ...: the trace is in
#      the relay daemon's output, and its report agrees with the program.
#
#   top-relay.sh TRACKALLOC LIBTRACKALLOC PHASES
set -uo pipefail
# shellcheck source=../lttng/lib.sh
. "$(dirname "$0")/../lttng/lib.sh"
# shellcheck source=top-lib.sh
. "$(dirname "$0")/top-lib.sh"
TA=${1:?usage: $0 TRACKALLOC LIBTRACKALLOC PHASES}
# shellcheck disable=SC2034 # LIB and PHASES: for top-lib.sh
LIB=${2:?} PHASES=${3:?}
lt_need_exe lttng-relayd
lt_need_exe setsid
lt_init
failed=0
bad() {
	echo "FAIL: $*" >&2
	failed=1
}

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
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$p_live") 2>/dev/null && break
	kill -0 "$relayd" 2>/dev/null || { cat "$LT_TMP/relayd.log" >&2; lt_fail "lttng-relayd exited"; }
	sleep 0.05
done
url=net://127.0.0.1:$p_ctrl:$p_data

echo "== A. top --url"
ph_start a
pid=$(ph_pid a)
setsid "$TA" top -p "$pid" --batch --interval 500 -n 6 --url "$url" --live-port "$p_live" \
	>"$LT_TMP/a.top" 2>"$LT_TMP/a.err" &
run=$!
LT_PIDS+=("$run")
lt_wait_for "$LT_TMP/a.top" '^ *[0-9]* R phases *cache' 15 || {
	cat "$LT_TMP/a.err" >&2
	lt_fail "no table through the relay daemon"
}
procs=$(sid_procs "$run")
echo "$procs" | grep -q ' lttng-relayd$' && bad "top started a relay daemon of its own"
for _ in $(seq 100); do
	kill -0 "$run" 2>/dev/null || break
	sleep 0.1
done
wait "$run"
rc=$?
cat "$LT_TMP/a.err"
[ $rc = 0 ] || bad "top --url exited with $rc"
tail -n 7 "$LT_TMP/a.top"
top_check batch "$LT_TMP/a.top" "$LT_TMP/a.out" --no-rates --pid "$pid" || bad "the tables"
kill -0 "$relayd" 2>/dev/null || bad "the test's relay daemon is gone"
left=$(top_sessions "$run")
[ -z "$left" ] || bad "sessions left behind: $left"
left=$(sid_procs "$run")
[ -z "$left" ] || bad "processes left behind: $left"
ph_stop a

echo "== B. record -p --url"
ph_start b
setsid "$TA" record -p "$(ph_pid b)" --mode=counters --duration 1.5 --url "$url" \
	>"$LT_TMP/b.rep" 2>"$LT_TMP/b.err" &
run=$!
LT_PIDS+=("$run")
for _ in $(seq 300); do
	kill -0 "$run" 2>/dev/null || break
	sleep 0.1
done
wait "$run"
rc=$?
cat "$LT_TMP/b.err"
[ $rc = 0 ] || bad "record -p --url exited with $rc"
grep -q "trace streamed to $url" "$LT_TMP/b.err" || bad "record -p --url does not say where the trace went"
# OUT/HOSTNAME/SESSION-DATE: the session's name holds the command's pid
trace=
for _ in $(seq 100); do
	trace=$(find "$out" -mindepth 2 -maxdepth 2 -type d -name "trackalloc-$run-*" | head -n 1)
	[ -n "$trace" ] && [ -n "$(find "$trace" -name metadata)" ] && break
	sleep 0.05
done
[ -n "$trace" ] || { find "$out" >&2; lt_fail "no trace of record -p in the relay daemon's output"; }
sleep 0.3
lt_bounded 60 "$TA" report --format tsv "$trace" >"$LT_TMP/b.tsv" || bad "report of the streamed trace failed"
top_check record "$LT_TMP/b.tsv" "$LT_TMP/b.out" 1 1 counters || bad "the streamed trace's report"
ph_stop b

[ $failed = 0 ] || lt_fail "top-relay"
echo "PASS: top-relay"
