#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Smoke test of the workload programs (no timing): each runs once plain and
# once with libtrackalloc preloaded and sampling stacks every 64 KiB on
# average, on its quick inputs; both must exit 0 and print the same
# checksum line.
#
#   workloads-smoke.sh LIBTRACKALLOC PROGRAM...
set -uo pipefail

lib=${1:?usage: $0 LIBTRACKALLOC PROGRAM...}
shift
[ -e "$lib" ] || { echo "FAIL: no library at $lib" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ta-wl-smoke.XXXXXX")
# shellcheck disable=SC2064 # expand now: the path is fixed
trap "rm -rf '$tmp'" EXIT
status=0

# run NAME PROGRAM [VAR=VALUE...]: the program's checksum line, or a failure
run() {
	local name=$1 prog=$2 out
	shift 2
	# nothing of the caller's environment that changes malloc
	if ! out=$(env -u LD_PRELOAD -u MALLOC_PERTURB_ -u MALLOC_CHECK_ -u GLIBC_TUNABLES \
		-u TRACKALLOC_LTTNG -u TRACKALLOC_STACKS -u TRACKALLOC_PROFILE -u TRACKALLOC_REPORT \
		"$@" timeout 120 "$prog" quick 2>"$tmp/err"); then
		echo "FAIL: ${prog##*/} ($name) exited with an error:" >&2
		head -c 2000 "$tmp/err" >&2
		return 1
	fi
	grep '^checksum ' <<<"$out" || { echo "FAIL: ${prog##*/} ($name) printed no checksum" >&2; return 1; }
}

for prog in "$@"; do
	plain=$(run plain "$prog") || { status=1; continue; }
	traced=$(run "trackalloc, stacks" "$prog" LD_PRELOAD="$lib" TRACKALLOC_STACKS=65536) ||
		{ status=1; continue; }
	if [ "$plain" != "$traced" ]; then
		echo "FAIL: ${prog##*/}: checksums differ: plain '$plain', trackalloc '$traced'" >&2
		status=1
	else
		echo "ok ${prog##*/}: $plain"
	fi
done
exit $status
