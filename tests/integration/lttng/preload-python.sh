#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A real, unmodified program: /usr/bin/python3 runs an allocation-heavy
# script (alloc-heavy.py) once plainly and once with libtrackalloc.so
# preloaded while a session records trackalloc:*. Same stdout, stderr and
# exit status; babeltrace2 reads the trace without error; the trace holds the
# interpreter's allocations.
#
#   preload-python.sh LIBTRACKALLOC
set -uo pipefail
. "$(dirname "$0")/lib.sh"
lib=${1:?usage: $0 LIBTRACKALLOC}
[ -e "$lib" ] || lt_fail "no library at $lib"
lt_init
script="$LT_HERE/alloc-heavy.py"

run() { # NAME [VAR=VALUE...]
	local name=$1
	shift
	timeout 25 env -u LD_PRELOAD -u TRACKALLOC_LTTNG -u TRACKALLOC_SAMPLE_MS \
		-u TRACKALLOC_REPORT -u PYTHONMALLOC PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 \
		LC_ALL=C.UTF-8 "$@" "$LT_PY" "$script" >"$LT_TMP/$name.out" 2>"$LT_TMP/$name.err"
	echo $? >"$LT_TMP/$name.status"
}

run plain
lt_full_session S --subbuf-size=4M
lt_start "$S"
# TRACKALLOC_LTTNG=1, as trackalloc record sets it: a preloaded process
# loads LTTng-UST only when a recording asks for it
run traced LD_PRELOAD="$lib" TRACKALLOC_LTTNG=1 TRACKALLOC_REPORT="$LT_TMP/report.json"
lt_stop "$S"
lt_destroy "$S"

failed=0
for f in status out err; do
	if ! cmp -s "$LT_TMP/plain.$f" "$LT_TMP/traced.$f"; then
		echo "FAIL: $f differs with trackalloc preloaded:" >&2
		diff -u "$LT_TMP/plain.$f" "$LT_TMP/traced.$f" | head -n 30 >&2
		failed=1
	fi
done
[ "$(cat "$LT_TMP/plain.status")" = 0 ] || lt_fail "the script fails even without trackalloc"
echo "python3: stdout $(wc -c <"$LT_TMP/plain.out") bytes, identical: $([ $failed = 0 ] && echo yes || echo no)"
pid=$("$LT_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["pid"])' \
	"$LT_TMP/report.json") || lt_fail "no TRACKALLOC_REPORT from the preloaded python3"
trace=$(lt_pid_trace "$(lt_trace_dir "$S")" "$pid")
lt_bt_read "$trace" --lenient
lt_check count "$trace" --vpid "$pid" --event alloc --min 3000 || failed=1
[ $failed = 0 ] || lt_fail "preload of python3 under a session"
echo "PASS: preload-python"
