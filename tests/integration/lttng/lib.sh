# SPDX-License-Identifier: MIT
# Shared helpers of the LTTng integration tests and benchmarks (sourced).
# shellcheck shell=bash
#
#   . lib.sh
#   lt_init                        # tools or skip (77), temp dir, sessiond, trap
#   lt_session NAME_VAR [create options...]
#   lt_channel  SESSION [enable-channel options...]   # channel "ch"
#   lt_events   SESSION EVENT [enable-event options...]
#   lt_context  SESSION                # vtid, vpid, procname on "ch"
#   lt_start SESSION; lt_stop SESSION; lt_destroy SESSION
#   lt_check MODE ARGS...              # tests/integration/lttng/tacheck.py
#
# As root there is one lttng-sessiond per machine, shared with whoever else
# is tracing: a sessiond is started only when `lttng list` fails, and then
# only that process (its pid recorded right after it started) is stopped at
# exit. Every session has a unique name (ta-test-PID-RANDOM-N) and its own
# output directory under the temp dir; every session created here is
# destroyed at exit, also on failure or interruption.

LT_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LT_PY=/usr/bin/python3
LT_CHECK="$LT_HERE/tacheck.py"
LT_TMP=
LT_SESSIOND_PID=
LT_SESSIONS=()
LT_PIDS=()        # background processes started by the test (killed at exit)
LT_NSESS=0

lt_skip() {
	if [ "${TRACKALLOC_REQUIRE_ALL:-0}" = 1 ]; then
		echo "FAIL (TRACKALLOC_REQUIRE_ALL=1): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

lt_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

lt_log() {
	echo "[$(date +%T.%N | cut -c1-12)] $*"
}

lt_cleanup() {
	local status=$? s p i
	trap - EXIT INT TERM
	for p in "${LT_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for s in "${LT_SESSIONS[@]}"; do
		lttng destroy "$s" >/dev/null 2>&1
	done
	if [ -n "$LT_SESSIOND_PID" ]; then
		kill "$LT_SESSIOND_PID" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$LT_SESSIOND_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	if [ -n "$LT_TMP" ] && [ "${LT_KEEP:-0}" != 1 ]; then
		rm -rf "$LT_TMP"
	elif [ -n "$LT_TMP" ]; then
		echo "kept $LT_TMP" >&2
	fi
	exit "$status"
}

# lt_need_exe PATH|NAME: skip unless it is there.
lt_need_exe() {
	case $1 in
	*/*) [ -x "$1" ] || lt_skip "$1 is not installed" ;;
	*) command -v "$1" >/dev/null 2>&1 || lt_skip "$1 is not installed" ;;
	esac
}

# lt_descendants PID: PID and every process below it, one per line.
lt_descendants() {
	local p
	echo "$1"
	for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		lt_descendants "$p"
	done
}

# lt_show_stuck PID: what PID and its descendants are doing (for the log of
# a run that did not end): state, kernel wait channel, thread names, and
# each thread's stack when gdb is there; then the sessions and registered
# applications the session daemon knows.
lt_show_stuck() {
	local p
	for p in $(lt_descendants "$1"); do
		[ -d "/proc/$p" ] || continue
		echo "--- pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-200)"
		echo "    state $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null), wchan $(cat "/proc/$p/wchan" 2>/dev/null)," \
			"threads: $(cat /proc/"$p"/task/*/comm 2>/dev/null | paste -sd' ')"
		if command -v gdb >/dev/null 2>&1; then
			timeout 20 gdb -p "$p" -batch -ex 'thread apply all bt 16' 2>/dev/null |
				grep -E '^(Thread|#)' | sed 's/^/    /' | head -n 80
		fi
	done
	echo "--- lttng list:"
	timeout 10 lttng list 2>&1 | head -n 20
	echo "--- lttng list -u (registered applications):"
	timeout 10 lttng list -u 2>&1 | grep -E 'PID' | head -n 20
}

# lt_bounded SECS CMD...: run CMD, at most SECS seconds. A run that does not
# end gets SIGTERM (trackalloc record then stops its session) after the log
# has what its processes were doing, then SIGKILL 5 s later. Returns CMD's
# status, or 124 when it had to be stopped. CMD runs in the background, so
# its standard input is /dev/null.
lt_bounded() {
	local secs=$1 pid i
	shift
	"$@" &
	pid=$!
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			return
		fi
		sleep 0.1
	done
	echo "TIMEOUT: still running after ${secs} s: $*" >&2
	lt_show_stuck "$pid" >&2
	local all
	all=$(lt_descendants "$pid")
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	# shellcheck disable=SC2086 # a list of pids
	kill -KILL $all 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}

lt_init() {
	# what the caller's environment may hold must not change the tests
	unset LD_PRELOAD TRACKALLOC_LTTNG TRACKALLOC_SAMPLE_MS TRACKALLOC_REPORT
	lt_need_exe lttng
	lt_need_exe lttng-sessiond
	lt_need_exe babeltrace2
	lt_need_exe "$LT_PY"
	"$LT_PY" -c 'import bt2' 2>/dev/null || lt_skip "python3-bt2 is not installed for $LT_PY"
	LT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ta-lttng.XXXXXX")
	trap lt_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if ! lttng list >/dev/null 2>&1; then
		lttng-sessiond --daemonize --no-kernel >/dev/null 2>&1 ||
			lt_fail "cannot start lttng-sessiond"
		# the daemon's own pid file, else the newest lttng-sessiond
		local rundir=/var/run/lttng
		[ "$(id -u)" = 0 ] || rundir=${LTTNG_HOME:-$HOME}/.lttng
		LT_SESSIOND_PID=$(cat "$rundir/lttng-sessiond.pid" 2>/dev/null)
		if [ -z "$LT_SESSIOND_PID" ] ||
			[ "$(cat /proc/"$LT_SESSIOND_PID"/comm 2>/dev/null)" != lttng-sessiond ]; then
			LT_SESSIOND_PID=$(pgrep -n -x lttng-sessiond)
		fi
		lt_log "started lttng-sessiond (pid $LT_SESSIOND_PID)"
		local i
		for i in $(seq 50); do
			lttng list >/dev/null 2>&1 && break
			sleep 0.1
		done
		lttng list >/dev/null 2>&1 || lt_fail "lttng-sessiond does not answer"
	fi
}

# lt_session VAR [lttng create options...]: create a session with a unique
# name, stored in VAR; it writes into $LT_TMP/NAME unless the options give
# another output (--set-url=...).
lt_session() {
	local var=$1 name out
	shift
	LT_NSESS=$((LT_NSESS + 1))
	name="ta-test-$$-$RANDOM-$LT_NSESS"
	out=()
	case " $* " in
	*" --set-url="* | *" --output="* | *" --no-output "*) ;;
	*) out=(--output="$LT_TMP/$name") ;;
	esac
	lttng create "$name" "${out[@]}" "$@" >"$LT_TMP/$name.create.log" 2>&1 || {
		cat "$LT_TMP/$name.create.log" >&2
		lt_fail "lttng create $name failed"
	}
	LT_SESSIONS+=("$name")
	printf -v "$var" %s "$name"
}

lt_trace_dir() {
	echo "$LT_TMP/$1"
}

# lt_channel SESSION [options]: the user-space channel "ch" of SESSION, in
# discard mode. The checks filter events by vpid, so that other tracing on
# the machine (per-user buffers are shared) cannot disturb them.
lt_channel() {
	local s=$1
	shift
	lt_run lttng enable-channel -u -s "$s" --discard "$@" ch
}

lt_events() {
	local s=$1
	shift
	lt_run lttng enable-event -u -s "$s" -c ch "$@"
}

lt_context() {
	lt_run lttng add-context -u -s "$1" -c ch -t vtid -t vpid -t procname
}

lt_start() {
	lt_run lttng start "$1"
}

# lt_stop SESSION: stop and wait until the consumer has written everything.
lt_stop() {
	lt_run lttng stop "$1"
}

lt_destroy() {
	local s=$1 i keep=()
	lt_run lttng destroy "$s"
	for i in "${LT_SESSIONS[@]}"; do
		[ "$i" = "$s" ] || keep+=("$i")
	done
	LT_SESSIONS=("${keep[@]}")
}

# lt_run CMD...: run a command, fail the test with its output if it fails.
lt_run() {
	local out
	if ! out=$("$@" 2>&1); then
		echo "$out" >&2
		lt_fail "command failed: $*"
	fi
}

# lt_trackalloc_events SESSION: every trackalloc event at every loglevel,
# the calls in the form LT_FORM says: events (the per-call events, the
# default), batch (trackalloc:batch, as trackalloc record's full mode) or
# both. tacheck.py reads either form.
lt_trackalloc_events() {
	case ${LT_FORM:-events} in
	events) lt_events "$1" 'trackalloc:*' --exclude 'trackalloc:batch' ;;
	batch)
		lt_events "$1" 'trackalloc:*' \
			--exclude 'trackalloc:alloc,trackalloc:alloc_aligned,trackalloc:free,trackalloc:realloc'
		;;
	both) lt_events "$1" 'trackalloc:*' ;;
	*) lt_fail "LT_FORM must be events, batch or both, not '$LT_FORM'" ;;
	esac
}

# lt_full_session VAR [channel options]: the usual session: channel "ch"
# (per-process buffers unless LT_BUFFERS says --buffers-uid), every
# trackalloc event at every loglevel (lt_trackalloc_events),
# vtid/vpid/procname contexts.
lt_full_session() {
	local var=$1
	shift
	lt_session "$var"
	lt_channel "${!var}" "${LT_BUFFERS:---buffers-pid}" --subbuf-size=1M --num-subbuf=8 "$@"
	lt_trackalloc_events "${!var}"
	lt_context "${!var}"
}

# lt_bt_text TRACE...: the traces as babeltrace2 text (raw clock values),
# trackalloc:batch events replaced by the per-call events they hold
# (tabatch.py), for checks that grep per-call events.
lt_bt_text() {
	babeltrace2 --clock-cycles --no-delta "$@" 2>/dev/null | "$LT_PY" "$LT_HERE/tabatch.py"
}

# lt_check MODE ARGS...: read a trace back and check it (tacheck.py).
lt_check() {
	"$LT_PY" "$LT_CHECK" "$@"
}

# lt_wait_for FILE PATTERN [TIMEOUT_S]: until a line of FILE matches PATTERN.
lt_wait_for() {
	local file=$1 pat=$2 t=${3:-10} i
	for i in $(seq $((t * 50))); do
		grep -q -- "$pat" "$file" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

# lt_mono_ns: CLOCK_MONOTONIC in ns (the clock LTTng-UST timestamps use).
lt_mono_ns() {
	"$LT_PY" -c 'import time; print(time.monotonic_ns())'
}

# lt_bt_read TRACE_DIR[:TRACE_DIR...] [--lenient]: babeltrace2 reads the traces with no
# error and, unless --lenient, nothing on stderr (it warns there about
# discarded events or packets). Prints how many events it read.
lt_bt_read() {
	local dir=$1 err="$LT_TMP/bt.err.$RANDOM" n dirs
	IFS=: read -r -a dirs <<<"$dir"
	if ! n=$(babeltrace2 "${dirs[@]}" 2>"$err" | wc -l) || grep -q 'ERROR' "$err"; then
		head -c 3000 "$err" >&2
		lt_fail "babeltrace2 cannot read $dir"
	fi
	echo "babeltrace2 read $n events from $dir"
	if [ -s "$err" ]; then
		head -c 3000 "$err" >&2
		[ "${2:-}" = --lenient ] || lt_fail "babeltrace2 warned while reading $dir"
	fi
}

# lt_pid_trace TRACE_DIR PID...: the traces of processes PID... (joined with
# ':', as tacheck.py reads them) when the channel has per-process buffers
# (TRACE_DIR/ust/pid/PROCNAME-PID-DATE, one per registration with the
# session daemon, so several after an exec; a path that does not exist for a
# process that has none), else TRACE_DIR. Reading only the test's own
# processes keeps whatever else records trackalloc events on the machine
# out of the test.
lt_pid_trace() {
	local top=$1 d p out=
	shift
	if [ ! -d "$top/ust/pid" ]; then
		echo "$top"
		return
	fi
	for p in "$@"; do
		# several when the process exec'd: one per registration
		d=$(find "$top/ust/pid" -mindepth 1 -maxdepth 1 -type d -name "*-$p-*" | paste -sd:)
		out="$out${out:+:}${d:-$top/ust/pid/no-trace-of-pid-$p}"
	done
	echo "$out"
}

# lt_foreign_sessions [PATTERN]: the active sessions, not made by this test,
# that record events matching PATTERN (default: trackalloc events).
# Tracepoint state is process-wide: such a session (another test, someone
# tracing) enables the events in the test's programs too, which changes what
# some checks may expect and what tracing costs.
lt_foreign_sessions() {
	local s mine pat=${1:-trackalloc:}
	lttng list 2>/dev/null | sed -n 's/^ *[0-9]*) \(.*\) \[active\]$/\1/p' | while read -r s; do
		mine=0
		for m in "${LT_SESSIONS[@]}"; do
			[ "$m" = "$s" ] && mine=1
		done
		[ $mine = 1 ] && continue
		lttng list "$s" 2>/dev/null | grep -q -- "$pat" && echo "$s"
	done
}
