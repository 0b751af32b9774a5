#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `trackalloc top --batch`, its tables parsed (check-top.py batch):
#   A. -p PID --batch through three phases of the phases program: every
#      phase's figures (live bytes and peaks exactly; the churn within a
#      block), tags, rates; the process's exit is marked X and ends the
#      run (status 0); nothing is left: no session, no process of the run's
#      own session id (setsid);
#   B. on a pipe, without --batch, the same plain tables (no escapes), -n;
#   C. --stacks: a process sampling every allocation (TRACKALLOC_STACKS=1)
#      shows the top sites of what its groups allocated since top started,
#      symbolised (phases.c's push), the estimates exact;
#   D. no -p, -u USER: a process of USER that starts after top with the
#      library preloaded is attached and appears; another user's does not;
#      SIGTERM ends the run (143), nothing left.
#
#   top-batch.sh TRACKALLOC LIBTRACKALLOC PHASES
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

# nothing_left NAME PID: no session of the run PID, no process of its session id.
nothing_left() {
	local left
	left=$(top_sessions "$2")
	[ -z "$left" ] || bad "$1: sessions left behind: $left"
	left=$(sid_procs "$2")
	[ -z "$left" ] || bad "$1: processes left behind: $left"
}

echo "== A. -p PID --batch through three phases, then the exit"
ph_start a
pid=$(ph_pid a)
setsid "$TA" top -p "$pid" --batch --interval 500 >"$LT_TMP/a.top" 2>"$LT_TMP/a.err" &
run=$!
LT_PIDS+=("$run")
lt_wait_for "$LT_TMP/a.top" '^ *[0-9]* R phases *cache' 15 || {
	cat "$LT_TMP/a.err" >&2
	lt_fail "no table shows the program"
}
sleep 1.2
ph_next a 2
sleep 1.2
ph_next a 3
sleep 1.2
ph_stop a
for _ in $(seq 100); do
	kill -0 "$run" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$run" 2>/dev/null && bad "top --batch -p did not end when the process exited"
wait "$run"
rc=$?
cat "$LT_TMP/a.err"
[ $rc = 0 ] || bad "top --batch exited with $rc"
[ -s "$LT_TMP/a.err" ] && bad "top --batch wrote on stderr"
tail -n 7 "$LT_TMP/a.top"
top_check batch "$LT_TMP/a.top" "$LT_TMP/a.out" --exited --pid "$pid" || bad "the batch tables"
nothing_left A "$run"

echo "== B. on a pipe: plain tables, -n"
ph_start b
pid=$(ph_pid b)
lt_bounded 30 setsid "$TA" top -p "$pid" --interval 300 -n 3 2>"$LT_TMP/b.err" | cat >"$LT_TMP/b.top"
n=$(grep -c '^trackalloc top ' "$LT_TMP/b.top")
echo "$n tables"
[ "$n" = 3 ] || bad "-n 3 printed $n tables"
grep -q $'\033' "$LT_TMP/b.top" && bad "escape sequences on a pipe"
if ! grep -qE "^ *$pid R phases +parser +lang=c +716800 +0 +716800 +0$" "$LT_TMP/b.top" ||
	! grep -qE "^ *$pid R phases +cache +tier=hot,owner=phases +307200 +0 +307200 +0$" "$LT_TMP/b.top"; then
	bad "the piped tables do not show phase 1"
fi
ph_stop b

echo "== C. --stacks"
# samples are events: top knows the blocks sampled since it started, so
# the program's phase 2 (300 blocks of 1 KiB more in cache) runs under it
ph_start c TRACKALLOC_STACKS=1
pid=$(ph_pid c)
setsid "$TA" top -p "$pid" --batch --stacks --interval 500 -n 8 >"$LT_TMP/c.top" 2>"$LT_TMP/c.err" &
run=$!
LT_PIDS+=("$run")
lt_wait_for "$LT_TMP/c.top" '^ *[0-9]* R phases *cache' 15 || bad "no table with --stacks"
ph_next c 2
for _ in $(seq 150); do
	kill -0 "$run" 2>/dev/null || break
	sleep 0.1
done
wait "$run"
rc=$?
cat "$LT_TMP/c.err"
[ $rc = 0 ] || bad "top --stacks exited with $rc"
grep -A2 '^sites of .*group cache' "$LT_TMP/c.top" | tail -n 3
# every allocation sampled: the estimates are exact
grep -A3 "^sites of phases\[$pid\] group cache: live ~307200 bytes" "$LT_TMP/c.top" |
	grep -qE '^ +307200 +307200 +push phases\.c:[0-9]+ \(phases\)' ||
	bad "--stacks does not show cache's site (push, phases.c) with its 300 KiB"
ph_stop c

echo "== D. every process of a user, one that starts later"
user=nobody
uid=$(id -u "$user" 2>/dev/null) || lt_skip "no user $user"
setsid "$TA" top -u "$user" --batch --interval 500 >"$LT_TMP/d.top" 2>"$LT_TMP/d.err" &
run=$!
LT_PIDS+=("$run")
lt_wait_for "$LT_TMP/d.top" '^trackalloc top ' 15 || {
	cat "$LT_TMP/d.err" >&2
	lt_fail "top -u printed no table"
}
ph_start d-root
mkdir -p "$LT_TMP/d.ctl"
chmod 755 "$LT_TMP" "$LT_TMP/d.ctl"
setpriv --reuid="$uid" --regid="$(id -g "$user")" --clear-groups \
	env LD_PRELOAD="$LIB" timeout 120 "$PHASES" "$LT_TMP/d.ctl" >"$LT_TMP/d.out" 2>"$LT_TMP/d.perr" &
LT_PIDS+=($!)
lt_wait_for "$LT_TMP/d.out" '^PHASE-END 1' 10 || lt_fail "the $user program never reached phase 1"
dpid=$(ph_pid d) rpid=$(ph_pid d-root)
lt_wait_for "$LT_TMP/d.top" "^ *$dpid R phases *cache" 15 ||
	bad "the process of $user that started later never appears"
touch "$LT_TMP/d.ctl/exit"
lt_wait_for "$LT_TMP/d.top" "^ *$dpid X phases *cache" 10 || bad "its exit is not marked"
grep -qE "^ *$rpid " "$LT_TMP/d.top" && bad "a process of another user appears"
grep -q lttng "/proc/$rpid/maps" && bad "the process of another user was attached"
kill -TERM "$run"
for _ in $(seq 100); do
	kill -0 "$run" 2>/dev/null || break
	sleep 0.1
done
wait "$run"
rc=$?
[ $rc = 143 ] || bad "top ended by SIGTERM exited with $rc, not 143"
grep -E "^ *$dpid [RX] " "$LT_TMP/d.top" | tail -n 4
nothing_left D "$run"
ph_stop d-root

[ $failed = 0 ] || lt_fail "top-batch"
echo "PASS: top-batch"
