# SPDX-License-Identifier: MIT
# Helpers shared by the integration test scripts (sourced, not run).
# shellcheck shell=bash

# Debian's interpreter, never whatever python3 comes first on PATH.
# shellcheck disable=SC2034 # used by the scripts that source this file
TA_PY=/usr/bin/python3
TA_JEMALLOC=${TA_JEMALLOC:-/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}
TA_TCMALLOC=${TA_TCMALLOC:-/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4}
TA_MIMALLOC=${TA_MIMALLOC:-/usr/lib/x86_64-linux-gnu/libmimalloc.so.2}

# A missing prerequisite: skip (77), or fail where CI demands everything.
ta_skip() {
	if [ "${TRACKALLOC_REQUIRE_ALL:-0}" = 1 ]; then
		echo "FAIL (TRACKALLOC_REQUIRE_ALL=1): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

ta_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ta_need_exe PATH: skip unless PATH is an executable file.
ta_need_exe() {
	[ -x "$1" ] || ta_skip "$1 is not installed"
}

# ta_tmpdir: a private directory in $TA_TMP, removed when the script exits.
ta_tmpdir() {
	TA_TMP=$(mktemp -d "${TMPDIR:-/tmp}/trackalloc-integ.XXXXXX")
	# shellcheck disable=SC2064 # expand now: the path is fixed
	trap "rm -rf '$TA_TMP'" EXIT
}

# ta_show NAME FILE: print a captured file, for the test log.
ta_show() {
	echo "---- $1 ($2) ----"
	head -c 4000 "$2"
	echo
}
