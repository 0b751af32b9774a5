#!/bin/bash
# SPDX-License-Identifier: MIT
#
# TRACKALLOC_LTTNG=0: the provider is not loaded (neither
# libtrackalloc-lttng.so nor liblttng-ust.so, the tracer with its listener
# threads, is mapped in the process, while without the variable both are;
# the small liblttng-ust-tracepoint.so that libtrackalloc's tracepoint
# definitions open may be), ta_statedump() returns -ENOSYS, the demo
# still works, and a session recording trackalloc:* gets no event from such
# a process (while it does from the same program run without the variable).
#
#   without-lttng.sh TP_PROGRAM DEMO
set -uo pipefail
. "$(dirname "$0")/lib.sh"
prog=${1:?usage: $0 TP_PROGRAM DEMO}
demo=${2:?usage: $0 TP_PROGRAM DEMO}
lt_init
failed=0

# maps_of NAME [VAR=VALUE...]: start tp-program late with the environment,
# print which LTTng libraries it maps, ask for a statedump, let it exit.
maps_of() {
	local name=$1 ctl="$LT_TMP/ctl-$1" out="$LT_TMP/$1.out" ppid pid
	shift
	mkdir "$ctl"
	env "$@" timeout 20 "$prog" late "$ctl" >"$out" 2>"$LT_TMP/$name.err" &
	ppid=$!
	LT_PIDS+=("$ppid")
	lt_wait_for "$out" '^READY' 10 || lt_fail "tp-program late ($name) never got ready"
	pid=$(awk '$1 == "PID" {print $2; exit}' "$out")
	grep -oE '(libtrackalloc-lttng|liblttng-ust)[^/ ]*\.so[.0-9]*' /proc/"$pid"/maps |
		sort -u >"$LT_TMP/$name.maps"
	touch "$ctl/dump"
	lt_wait_for "$out" '^DUMPED' 10 || lt_fail "tp-program late ($name) did not dump"
	touch "$ctl/exit"
	wait "$ppid" || lt_fail "tp-program late ($name) failed"
	echo "$name: maps [$(tr '\n' ' ' <"$LT_TMP/$name.maps")]," \
		"ta_statedump() = $(awk '$1 == "DUMPED" {print $2}' "$out")"
}

echo "== 1. the provider is not loaded"
maps_of default
maps_of off TRACKALLOC_LTTNG=0
if ! grep -q libtrackalloc-lttng "$LT_TMP/default.maps" ||
	! grep -q 'liblttng-ust\.so' "$LT_TMP/default.maps"; then
	echo "FAIL: without TRACKALLOC_LTTNG the provider and liblttng-ust.so should be mapped" >&2
	failed=1
fi
# nothing of LTTng-UST at all: the tracepoints' own constructors, which
# would open liblttng-ust-tracepoint.so, are deferred too
if grep -qE 'libtrackalloc-lttng|liblttng-ust' "$LT_TMP/off.maps"; then
	echo "FAIL: with TRACKALLOC_LTTNG=0 the process maps $(tr '\n' ' ' <"$LT_TMP/off.maps")" >&2
	failed=1
fi
[ "$(awk '$1 == "DUMPED" {print $2}' "$LT_TMP/off.out")" = -38 ] || {
	echo "FAIL: ta_statedump() should return -ENOSYS (-38) with TRACKALLOC_LTTNG=0" >&2
	failed=1
}
[ "$(awk '$1 == "DUMPED" {print $2}' "$LT_TMP/default.out")" = 0 ] || {
	echo "FAIL: ta_statedump() should return 0 with the provider loaded" >&2
	failed=1
}

echo "== 2. the demo works"
TRACKALLOC_LTTNG=0 timeout 20 "$demo" >"$LT_TMP/demo.out" 2>"$LT_TMP/demo.err"
rc=$?
cat "$LT_TMP/demo.out"
if [ $rc != 0 ] || [ -s "$LT_TMP/demo.err" ] || ! grep -q '^parser ' "$LT_TMP/demo.out" ||
	! grep -q '^cache ' "$LT_TMP/demo.out"; then
	cat "$LT_TMP/demo.err" >&2
	echo "FAIL: the demo with TRACKALLOC_LTTNG=0 (exit $rc)" >&2
	failed=1
fi

echo "== 3. a recording session gets nothing from such a process"
lt_full_session S
lt_start "$S"
TRACKALLOC_LTTNG=0 timeout 20 "$prog" full >"$LT_TMP/off-full.out" 2>&1 ||
	lt_fail "tp-program full with TRACKALLOC_LTTNG=0 failed"
timeout 20 "$prog" full >"$LT_TMP/on-full.out" 2>&1 || lt_fail "tp-program full failed"
lt_stop "$S"
lt_destroy "$S"
off_pid=$(awk '$1 == "PID" {print $2}' "$LT_TMP/off-full.out")
on_pid=$(awk '$1 == "PID" {print $2}' "$LT_TMP/on-full.out")
# per-process buffers: a process that never registered with the session
# daemon has no trace directory at all
off_trace=$(lt_pid_trace "$(lt_trace_dir "$S")" "$off_pid")
if [ -e "$off_trace" ]; then
	echo "FAIL: the process with TRACKALLOC_LTTNG=0 registered with LTTng ($off_trace)" >&2
	failed=1
fi
lt_check count "$off_trace" --vpid "$off_pid" --max 0 || failed=1
lt_check count "$(lt_pid_trace "$(lt_trace_dir "$S")" "$on_pid")" --vpid "$on_pid" --min 600 ||
	failed=1

[ $failed = 0 ] || lt_fail "TRACKALLOC_LTTNG=0"
echo "PASS: without-lttng"
