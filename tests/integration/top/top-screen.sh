#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `trackalloc top -p PID` on a terminal (tmux, its own server socket):
#   A. the screen shows the phases program's groups (process, tags) with the
#      live bytes the program printed for its phase 1, then for its phase 2
#      once it moves on (the delay is logged); rows sorted by live bytes;
#      g, j/k and the arrows move the selection (reverse video), s cycles the
#      order through every sort and back; a process that exits is marked X;
#      q quits with status 0, the terminal gets its screen back, no session
#      of top's is left and no process it started (viewer, relay daemon)
#      remains;
#   B. the same end with Ctrl-C (status 0), and C. with SIGTERM to the
#      command (status 143).
#
#   top-screen.sh TRACKALLOC LIBTRACKALLOC PHASES
set -uo pipefail
# shellcheck source=../lttng/lib.sh
. "$(dirname "$0")/../lttng/lib.sh"
# shellcheck source=top-lib.sh
. "$(dirname "$0")/top-lib.sh"
TA=${1:?usage: $0 TRACKALLOC LIBTRACKALLOC PHASES}
# shellcheck disable=SC2034 # LIB and PHASES: for top-lib.sh
LIB=${2:?} PHASES=${3:?}
lt_need_exe tmux
lt_need_exe lttng-relayd
lt_init
interval=500
sock=ta-test-$$
tmx() { timeout 10 tmux -L "$sock" -f /dev/null "$@"; }
failed=0
bad() {
	echo "FAIL: $*" >&2
	failed=1
}

# start_top NAME PID: trackalloc top -p PID in a new tmux session NAME (120x30)
# whose pane runs it, then records its status in $LT_TMP/NAME.exit and waits.
# Sets pane (the pane's pid: the session id of everything top starts).
start_top() {
	local name=$1 pid=$2
	tmx new-session -d -s "$name" -x 120 -y 30 \
		"'$TA' top -p $pid --interval $interval; echo TOP-EXIT=\$? >'$LT_TMP/$name.exit'; exec sleep 600" ||
		lt_fail "tmux new-session failed"
	[ -n "${server:-}" ] || { server=$(tmx display -p '#{pid}') && LT_PIDS+=("$server"); }
	pane=$(tmx display -p -t "$name" '#{pane_pid}')
}

# screen_shows NAME PHASE PROG [SECONDS]: until the screen of NAME shows the
# figures of PROG's phase PHASE (logged: the delay since the program printed it).
screen_shows() {
	local name=$1 k=$2 prog=$3 t=${4:-10} i
	for ((i = 0; i < t * 5; i++)); do
		tmx capture-pane -p -t "$name" >"$LT_TMP/$name.cap" 2>/dev/null
		if top_check screen "$LT_TMP/$name.cap" "$LT_TMP/$prog.out" "$k" --pid "$(ph_pid "$prog")" \
			>"$LT_TMP/$name.check" 2>&1; then
			lt_log "$(cat "$LT_TMP/$name.check")"
			return 0
		fi
		sleep 0.2
	done
	cat "$LT_TMP/$name.check" "$LT_TMP/$name.cap" >&2
	return 1
}

selected() { # NAME: the group on the selected row
	tmx capture-pane -e -p -t "$1" >"$LT_TMP/$1.ecap"
	top_check selected "$LT_TMP/$1.ecap"
}

title() { # NAME: the screen's first line
	tmx capture-pane -p -t "$1" | head -n 1
}

# ends NAME STATUS TPID: the pane's command ended with STATUS; no session of
# the trackalloc run TPID is left, and no process of the pane's session but
# the pane's own.
ends() {
	local name=$1 want=$2 tpid=$3 left
	lt_wait_for "$LT_TMP/$name.exit" 'TOP-EXIT=' 15 || { bad "$name: top did not end"; return; }
	grep -qx "TOP-EXIT=$want" "$LT_TMP/$name.exit" || bad "$name: $(cat "$LT_TMP/$name.exit"), not $want"
	left=$(top_sessions "$tpid")
	[ -z "$left" ] || bad "$name: sessions left behind: $left"
	left=$(sid_procs "$pane" | awk -v p="$pane" '$1 != p')
	[ -z "$left" ] || bad "$name: processes left behind: $left"
	lt_log "$name: ended with $want; no session, no process left"
}

echo "== A. the screen, keys, q"
ph_start prog
pid=$(ph_pid prog)
start_top a "$pid"
screen_shows a 1 prog 15 || lt_fail "the screen never showed phase 1"
tpid=$(pgrep -P "$pane" | head -n 1)
started=$(sid_procs "$pane")
echo "processes of top's run: $(echo "$started" | awk '{print $2}' | sort | uniq -c | paste -sd' ')"
echo "$started" | grep -q ' lttng-relayd$' || bad "no lttng-relayd of top's"
echo "$started" | grep -q ' trackalloc-top$' || bad "no trackalloc-top viewer"
[ -n "$(top_sessions "$tpid")" ] || bad "no session of top's while it runs"
tmx capture-pane -p -t a | sed -n '1,8p'
ph_next prog 2
screen_shows a 2 prog 10 || bad "the screen never showed phase 2"
# by live bytes: cache 600 KiB, parser 350 KiB, (root), churn 64 KiB
order=$(grep -oE ' (cache|parser|churn) ' "$LT_TMP/a.cap" | tr -d ' ' | paste -sd,)
[ "$order" = cache,parser,churn ] || bad "rows not sorted by live bytes: $order"
grep -q 'tier=hot,owner=phases' "$LT_TMP/a.cap" || bad "cache's tags are not shown"
# the selection stays with its group when the order changes: g selects
# the first row
tmx send-keys -t a g
sleep 0.3
s0=$(selected a)
tmx send-keys -t a j
sleep 0.3
s1=$(selected a)
tmx send-keys -t a Down
sleep 0.3
s2=$(selected a)
tmx send-keys -t a k Up
sleep 0.3
s3=$(selected a)
echo "selected after g: $s0, after j $s1, after Down $s2, after k Up $s3"
if [ "$s0" != cache ] || [ "$s1" != parser ] || [ "$s2" != root ] || [ "$s3" != cache ]; then
	bad "the selection does not follow g, j/k and the arrows"
fi
sorts=$(title a | sed -n 's/.*sort: //p')
for _ in 1 2 3 4 5; do
	tmx send-keys -t a s
	sleep 0.3
	sorts="$sorts|$(title a | sed -n 's/.*sort: //p')"
done
echo "sorts: $sorts"
[ "$sorts" = "live bytes|change/s|peak|allocs/s|process, group|live bytes" ] ||
	bad "s does not cycle through the orders"
ph_stop prog
for _ in $(seq 50); do
	tmx capture-pane -p -t a >"$LT_TMP/a.cap"
	grep -qE "^ *$pid X phases +cache" "$LT_TMP/a.cap" && break
	sleep 0.2
done
grep -qE "^ *$pid X phases +cache" "$LT_TMP/a.cap" || bad "the exited process is not marked X"
tmx capture-pane -p -t a | sed -n '1,8p'
tmx send-keys -t a q
ends a 0 "$tpid"
tmx capture-pane -p -t a >"$LT_TMP/a.after"
grep -q 'trackalloc top -' "$LT_TMP/a.after" && bad "the screen was not given back after q"

echo "== B. Ctrl-C"
ph_start prog-b
start_top b "$(ph_pid prog-b)"
screen_shows b 1 prog-b 15 || lt_fail "the screen never showed phase 1 (B)"
tpid=$(pgrep -P "$pane" | head -n 1)
tmx send-keys -t b C-c
ends b 0 "$tpid"
ph_stop prog-b

echo "== C. SIGTERM"
ph_start prog-c
start_top c "$(ph_pid prog-c)"
screen_shows c 1 prog-c 15 || lt_fail "the screen never showed phase 1 (C)"
tpid=$(pgrep -P "$pane" | head -n 1)
kill -TERM "$tpid"
ends c 143 "$tpid"
ph_stop prog-c

tmx kill-server 2>/dev/null
[ $failed = 0 ] || lt_fail "top-screen"
echo "PASS: top-screen"
