# SPDX-License-Identifier: MIT
# Shared helpers of the `trackalloc top` and `trackalloc record -p` tests
# (sourced after tests/integration/lttng/lib.sh, whose rules they follow:
# the machine's one session daemon, unique session names, every command
# bounded in time).
# shellcheck shell=bash
#
#   ph_start NAME [VAR=VALUE...]   the phases program, preloaded, in the
#                                  background; waits for its phase 1
#   ph_pid NAME; ph_next NAME K; ph_stop NAME
#   top_sessions PID               sessions of the trackalloc run PID
#   sid_procs SID                  processes of session SID (setsid runs)

TOP_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_CHECK="$TOP_HERE/check-top.py"

# ph_start NAME [VAR=VALUE...]: $PHASES preloaded with $LIB in the
# background (until $LT_TMP/NAME.ctl/exit, 120 s at most), output in
# $LT_TMP/NAME.out; returns when it has printed phase 1.
ph_start() {
	local name=$1
	shift
	mkdir -p "$LT_TMP/$name.ctl"
	env "$@" LD_PRELOAD="$LIB" timeout 120 "$PHASES" "$LT_TMP/$name.ctl" \
		>"$LT_TMP/$name.out" 2>"$LT_TMP/$name.err" &
	LT_PIDS+=($!)
	lt_wait_for "$LT_TMP/$name.out" '^PHASE-END 1' 10 || {
		cat "$LT_TMP/$name.err" >&2
		lt_fail "$name never reached its phase 1"
	}
}

ph_pid() {
	awk '$1 == "PID" {print $2; exit}' "$LT_TMP/$1.out"
}

# ph_next NAME K: phase K, once the program has printed it.
ph_next() {
	touch "$LT_TMP/$1.ctl/next-$2"
	lt_wait_for "$LT_TMP/$1.out" "^PHASE-END $2\$" 10 || lt_fail "$1 never reached its phase $2"
}

# ph_stop NAME: the program ends (within 10 s).
ph_stop() {
	touch "$LT_TMP/$1.ctl/exit"
	lt_wait_for "$LT_TMP/$1.out" '^DONE' 10 || lt_fail "$1 did not end"
}

# top_sessions PID: the LTTng sessions that the trackalloc command whose
# pid is PID created (their names hold its pid) and still exist.
top_sessions() {
	timeout 10 lttng list 2>/dev/null | sed -n 's/^ *[0-9]*) \([^ ]*\) .*/\1/p' |
		grep -E "^trackalloc(-top)?-$1-" || true
}

# sid_procs SID: the processes whose session id is SID, one "pid comm" a
# line (a run started with setsid is its own session: whatever it starts,
# and does not daemonize, stays in it).
sid_procs() {
	ps -eo sid=,pid=,comm= | awk -v s="$1" '$1 == s {print $2, $3}'
}

# top_check MODE ARGS...: check-top.py.
top_check() {
	"$LT_PY" "$TOP_CHECK" "$@"
}
