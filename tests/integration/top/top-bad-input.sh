#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Bad input to `trackalloc top` and `trackalloc record -p`: a process that
# does not exist, one without libtrackalloc, one that refuses attach
# requests, no lttng (or no lttng-relayd) on PATH, an unreachable --url, a
# bad option or interval, a terminal too small (tmux). Each run says so in
# one line on stderr, exits non-zero, and leaves no session and no process
# behind (it runs in a session id of its own: setsid).
#
#   top-bad-input.sh TRACKALLOC LIBTRACKALLOC PHASES
set -uo pipefail
# shellcheck source=../lttng/lib.sh
. "$(dirname "$0")/../lttng/lib.sh"
# shellcheck source=top-lib.sh
. "$(dirname "$0")/top-lib.sh"
TA=${1:?usage: $0 TRACKALLOC LIBTRACKALLOC PHASES}
# shellcheck disable=SC2034 # LIB and PHASES: for top-lib.sh
LIB=${2:?} PHASES=${3:?}
lt_need_exe setsid
lt_need_exe tmux
lt_init
failed=0
bad() {
	echo "FAIL: $*" >&2
	failed=1
}

# refused NAME PATTERN [env VAR=VALUE... --] ARGS...: `trackalloc ARGS` exits
# non-zero with one line on stderr matching PATTERN; nothing left behind.
refused() {
	local name=$1 pat=$2 envs=() rc left
	shift 2
	if [ "${1:-}" = env ]; then
		shift
		while [ "$1" != -- ]; do envs+=("$1"); shift; done
		shift
	fi
	env "${envs[@]}" setsid "$TA" "$@" </dev/null >"$LT_TMP/$name.out" 2>"$LT_TMP/$name.err" &
	local run=$! i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$run" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$run" 2>/dev/null && { bad "$name: still running after 30 s"; kill "$run"; }
	wait "$run"
	rc=$?
	echo "$name: status $rc: $(cat "$LT_TMP/$name.err")"
	[ "$rc" != 0 ] || bad "$name: status 0"
	[ "$(wc -l <"$LT_TMP/$name.err")" = 1 ] || bad "$name: not one line on stderr"
	grep -qE "^trackalloc: (top|record): .*$pat" "$LT_TMP/$name.err" || bad "$name: not the message expected ($pat)"
	left=$(top_sessions "$run")
	[ -z "$left" ] || bad "$name: sessions left behind: $left"
	left=$(sid_procs "$run")
	[ -z "$left" ] || bad "$name: processes left behind: $left"
}

# a pid no process has: one that just ended
true &
gone=$!
wait "$gone"
while [ -d "/proc/$gone" ]; do gone=$((gone + 7919)); done
sleep 600 &
plain=$!
LT_PIDS+=("$plain")
ph_start ok
ph_start off TRACKALLOC_LTTNG=0
ok=$(ph_pid ok) off=$(ph_pid off)

# PATH without lttng (nolttng/) and without lttng-relayd (norelayd/)
for d in nolttng norelayd; do
	mkdir "$LT_TMP/$d"
	for b in /usr/local/bin /usr/bin /usr/sbin; do
		ln -s "$b"/* "$LT_TMP/$d/" 2>/dev/null # the first of each name
	done
done
rm -f "$LT_TMP"/nolttng/lttng* "$LT_TMP/norelayd/lttng-relayd"
read -r free1 free2 < <("$LT_PY" -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')

refused top-gone "no process $gone" top -p "$gone"
refused top-notnum "process id" top -p abc
refused top-plain "does not have libtrackalloc.so loaded" top -p "$plain"
refused top-off "does not accept attach requests" top -p "$off"
refused top-nolttng "'lttng' not found" env PATH="$LT_TMP/nolttng" -- top -p "$ok" --batch
refused top-norelayd "'lttng-relayd' not found" env PATH="$LT_TMP/norelayd" -- top -p "$ok" --batch
refused top-unreachable "cannot reach the relay daemon at 127.0.0.1 \\(control port $free1\\)" \
	top -p "$ok" --batch --url "net://127.0.0.1:$free1:$free2"
refused top-badurl "--url must be" top -p "$ok" --batch --url "http://example.org"
refused top-interval "--interval needs milliseconds" top -p "$ok" --batch --interval 5
refused top-option "unknown option" top --frobnicate
refused record-gone "no process $gone" record -p "$gone" --duration 1
refused record-plain "does not have libtrackalloc.so loaded" record -p "$plain" --duration 1
refused record-off "does not accept attach requests" record -p "$off" --duration 1

echo "== a terminal too small"
sock=ta-test-$$
tmx() { timeout 10 tmux -L "$sock" -f /dev/null "$@"; }
tmx new-session -d -s small -x 50 -y 10 \
	"setsid '$TA' top -p $ok 2>&1; echo TOP-EXIT=\$? >'$LT_TMP/small.exit'; exec sleep 600" ||
	lt_fail "tmux new-session failed"
LT_PIDS+=("$(tmx display -p '#{pid}')")
lt_wait_for "$LT_TMP/small.exit" 'TOP-EXIT=' 15 || bad "top on a small terminal did not end"
tmx capture-pane -J -p -t small | sed '/^$/d' >"$LT_TMP/small.cap"
cat "$LT_TMP/small.cap" "$LT_TMP/small.exit"
grep -q 'TOP-EXIT=0' "$LT_TMP/small.exit" && bad "top on a small terminal exited with 0"
[ "$(wc -l <"$LT_TMP/small.cap")" = 1 ] || bad "not one line on the small terminal"
grep -q 'the terminal is too small (50x10)' "$LT_TMP/small.cap" || bad "the small terminal is not said"
if timeout 10 lttng list 2>/dev/null | grep -qE 'trackalloc-top-'; then
	echo "note: a trackalloc-top session exists (another run on this machine?)"
fi
tmx kill-server 2>/dev/null

ph_stop ok
ph_stop off
[ $failed = 0 ] || lt_fail "top-bad-input"
echo "PASS: top-bad-input"
