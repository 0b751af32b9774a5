#!/bin/bash
# SPDX-License-Identifier: MIT
#
# With LTTng-UST loaded, the program stays itself (misbehave.c): a program
# that closes every descriptor above 2, a main thread that calls
# pthread_exit and a child forked from a thread whose only thread calls
# pthread_exit each exit with status 0 and print the same under `trackalloc
# record` as with TRACKALLOC_LTTNG=0, with nothing from LTTng-UST on stderr;
# the recordings hold the allocations made after the descriptors were
# closed. A program that exhausts its address space (ulimit -v) exits
# cleanly with LTTng-UST loaded and no session, ten times out of ten. (With
# a session recording it, LTTng-UST 2.13.5 itself may abort on an
# assertion of its descriptor tracker: see the README's known limits.)
#
#   misbehave.sh TRACKALLOC MISBEHAVE
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cmd=${1:?usage: $0 TRACKALLOC MISBEHAVE} prog=${2:?}
lt_init
failed=0

# run NAME CMD...: stdout, stderr and status in $LT_TMP/NAME.*
run() {
	local name=$1
	shift
	lt_bounded 60 "$@" >"$LT_TMP/$name.out" 2>"$LT_TMP/$name.err"
	echo $? >"$LT_TMP/$name.status"
}

for mode in closeall pthread-exit fork-thread exhaust; do
	echo "== $mode"
	argv=("$prog" "$mode")
	run "$mode-plain" env TRACKALLOC_LTTNG=0 "${argv[@]}"
	if [ "$mode" = exhaust ]; then
		# the exit path: LTTng-UST cancels its threads (glibc's
		# pthread_cancel loads libgcc_s), and a thread that first
		# touches a dlopened library's TLS then gets it from malloc
		for i in $(seq 10); do
			run "$mode-rec" bash -c 'ulimit -v 300000 && exec "$@"' sh \
				env TRACKALLOC_LTTNG=1 "${argv[@]}"
			[ "$(cat "$LT_TMP/$mode-rec.status")" = 0 ] || break
			grep -qE 'ABORT|abort|libgcc_s|Assertion' "$LT_TMP/$mode-rec.err" && break
		done
	else
		run "$mode-rec" "$cmd" record -o "$LT_TMP/trace-$mode" -- "${argv[@]}"
	fi
	ps=$(cat "$LT_TMP/$mode-plain.status") rs=$(cat "$LT_TMP/$mode-rec.status")
	echo "status: $ps with TRACKALLOC_LTTNG=0, $rs recorded"
	if [ "$ps" != 0 ] || [ "$rs" != 0 ]; then
		echo "FAIL: $mode: exit status $ps / $rs (124: it never ended)" >&2
		cat "$LT_TMP/$mode-rec.err" >&2
		failed=1
		continue
	fi
	# the recorded run prints the report after the program's own output
	if ! diff <(sort "$LT_TMP/$mode-plain.out") \
		<(grep -Fx -f "$LT_TMP/$mode-plain.out" "$LT_TMP/$mode-rec.out" | sort) >/dev/null; then
		echo "FAIL: $mode: the program printed something else when recorded" >&2
		diff "$LT_TMP/$mode-plain.out" "$LT_TMP/$mode-rec.out" >&2
		failed=1
	fi
	if grep -E 'Assertion|ABORT|abort|libgcc_s|Error|cannot' "$LT_TMP/$mode-rec.err"; then
		echo "FAIL: $mode: errors on stderr when recorded" >&2
		failed=1
	fi
done

echo "== the recordings"
lt_bt_read "$LT_TMP/trace-closeall"
lt_bt_text "$LT_TMP/trace-closeall" >"$LT_TMP/closeall.txt"
for g in before-close after-close child-after-close; do
	n=$("$LT_PY" - "$LT_TMP/closeall.txt" "$g" <<'PY'
import re, sys
ids, n = set(), 0
lines = open(sys.argv[1]).read().splitlines()
for l in lines:
    m = re.search(r'group_register: .*vpid = (\d+).*group_id = (\d+), name = "%s"' % re.escape(sys.argv[2]), l)
    if m:
        ids.add((m.group(1), m.group(2)))
for l in lines:
    m = re.search(r'trackalloc:alloc: .*vpid = (\d+).*group_id = (\d+)', l)
    if m and (m.group(1), m.group(2)) in ids:
        n += 1
print(n)
PY
)
	echo "closeall: $n allocations recorded in $g"
	[ "$n" -ge 400 ] || { echo "FAIL: closeall: the trace misses $g's allocations" >&2; failed=1; }
done
n=$(lt_bt_text "$LT_TMP/trace-pthread-exit" | grep -c 'trackalloc:alloc:')
echo "pthread-exit: $n allocations recorded"
[ "$n" -ge 1000 ] || { echo "FAIL: pthread-exit: the worker's allocations are not all there" >&2; failed=1; }

[ $failed = 0 ] || lt_fail "misbehave"
echo "PASS: misbehave"
