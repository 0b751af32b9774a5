#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A peer suite: CPython 3.11's own regression tests (Debian's
# libpython3.11-testsuite) on /usr/bin/python3, plain, with libtrackalloc
# preloaded (TRACKALLOC_LTTNG=auto: LTTng-UST not loaded), and preloaded with
# LTTng-UST loaded (TRACKALLOC_LTTNG=1, a session daemon up, no session).
# Every test that passes plain must pass in the other two runs.
#
# With LTTng-UST loaded, test_subprocess is left out: it starts thousands of
# processes, each of which then registers with the session daemon (minutes),
# and it counts descriptors, of which LTTng-UST holds some by design.
#
#   cpython-regrtest.sh LIBTRACKALLOC
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
lib=$(realpath "${1:?usage: $0 LIBTRACKALLOC}") # the tests change directory
ta_need_exe "$TA_PY"
"$TA_PY" -c 'import test.regrtest' 2>/dev/null ||
	ta_skip "CPython's test suite is not installed (libpython3.11-testsuite)"
command -v lttng >/dev/null 2>&1 || ta_skip "lttng is not installed (lttng-tools)"
ta_tmpdir

tests=(test_threading test_subprocess test_io test_gc test_mmap test_os test_signal
	test_fork1 test_dict test_list test_set test_bytes test_json test_re)

started=
if ! lttng list >/dev/null 2>&1; then
	lttng-sessiond --daemonize --no-kernel >/dev/null 2>&1 || ta_fail "cannot start lttng-sessiond"
	started=$(pgrep -n -x lttng-sessiond)
	for _ in $(seq 50); do lttng list >/dev/null 2>&1 && break; sleep 0.1; done
fi
trap '[ -n "$started" ] && kill "$started"; rm -rf "$TA_TMP"' EXIT

# regrtest NAME [VAR=VALUE...] -- TESTS...: the tests that passed, one a line
regrtest() {
	local name=$1 envs=()
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env -u LD_PRELOAD -u TRACKALLOC_LTTNG -u TRACKALLOC_REPORT -u PYTHONMALLOC \
		"${envs[@]}" "$TA_PY" -m test -j2 --timeout 300 "$@" \
		>"$TA_TMP/$name.log" 2>&1
	# "[ 3/14] test_gc passed" (also "passed (31.8 sec)", "-- running: ...")
	sed -n 's/^.*\] \(test_[a-z0-9_]*\) passed.*$/\1/p' "$TA_TMP/$name.log" | sort -u \
		>"$TA_TMP/$name.passed"
	echo "$name: $(wc -l <"$TA_TMP/$name.passed") of $# test modules passed;" \
		"$(grep -m1 '^Tests result:' "$TA_TMP/$name.log")"
}

regrtest plain -- "${tests[@]}"
regrtest preloaded LD_PRELOAD="$lib" -- "${tests[@]}"
with_lttng=()
for t in "${tests[@]}"; do [ "$t" = test_subprocess ] || with_lttng+=("$t"); done
regrtest lttng LD_PRELOAD="$lib" TRACKALLOC_LTTNG=1 -- "${with_lttng[@]}"

failed=0
[ -s "$TA_TMP/plain.passed" ] || { cat "$TA_TMP/plain.log"; ta_fail "no test passed plain"; }
for run in preloaded lttng; do
	missing=$(comm -23 "$TA_TMP/plain.passed" "$TA_TMP/$run.passed")
	[ "$run" = lttng ] && missing=$(echo "$missing" | grep -vx test_subprocess)
	if [ -n "$missing" ]; then
		echo "FAIL: passed plain, not $run: $missing"
		grep -B2 -A30 -E '^(FAIL|ERROR):' "$TA_TMP/$run.log" | head -n 80
		failed=1
	fi
done
[ $failed = 0 ] || exit 1
echo "PASS: CPython regrtest subset"
