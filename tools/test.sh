#!/usr/bin/env bash
# Every test: install dependencies, then build and run the whole suite
# (unit, integration with real programs and real LTTng sessions), the unit
# tests again under ASan+UBSan and under TSan, and the Debian packages
# (tools/packages.sh: built, installed, the demo run from the installed
# files, removed; one test). Ends with one line
# "N passed, N failed". With TRACKALLOC_REQUIRE_ALL=1 (CI), a test skipped
# for a missing tool counts as failed.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0

# run_suite BUILDDIR MESON_SETUP_OPTIONS -- MESON_TEST_OPTIONS
run_suite() {
	local dir=$1 setup=() testopts=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do setup+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	testopts=("$@")
	echo "=== $dir: meson setup ${setup[*]}" >&2
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "${setup[@]}" >/dev/null || { failed=$((failed + 1)); return; }
	else
		meson setup "$dir" "${setup[@]}" >/dev/null || { failed=$((failed + 1)); return; }
	fi
	meson compile -C "$dir" >/dev/null || { echo "build failed: $dir" >&2; failed=$((failed + 1)); return; }
	meson test -C "$dir" --print-errorlogs "${testopts[@]}"
	local log=$dir/meson-logs/testlog.json
	[ -f "$log" ] || { failed=$((failed + 1)); return; }
	local ok bad skip
	ok=$(grep -c '"result": "OK"' "$log")
	bad=$(grep -Ec '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log")
	skip=$(grep -c '"result": "SKIP"' "$log")
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$skip" -gt 0 ]; then
		if [ "${TRACKALLOC_REQUIRE_ALL:-0}" = 1 ]; then
			echo "$dir: $skip test(s) skipped for a missing tool; TRACKALLOC_REQUIRE_ALL=1 makes that a failure" >&2
			failed=$((failed + skip))
		else
			echo "$dir: $skip test(s) skipped" >&2
		fi
	fi
}

run_suite build -- --num-processes 2
run_suite build-asan -Dlttng=disabled -Db_sanitize=address,undefined -Db_lundef=false -- --suite unit
run_suite build-tsan -Dlttng=disabled -Db_sanitize=thread -Db_lundef=false -- --suite unit

# Counted here rather than as a meson test: it installs system packages
# (root), which no test of one build directory should do.
echo "=== packages: bash tools/packages.sh" >&2
bash tools/packages.sh
case $? in
0) passed=$((passed + 1)) ;;
77) echo "packages: skipped" >&2 ;; # with TRACKALLOC_REQUIRE_ALL=1 a skip exits 1
*) failed=$((failed + 1)) ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
