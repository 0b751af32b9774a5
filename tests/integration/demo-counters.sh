#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The example program, linked against libtrackalloc (not preloaded): two
# worker threads allocate in the parser, cache and handler groups, free on
# either thread, and the program prints every group's ta_group_stats. Check
# the printed table against what the program's code does, exactly, and
# against the TRACKALLOC_REPORT written at exit.
#
#   demo-counters.sh TRACKALLOC-DEMO
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"

[ $# -eq 1 ] || { echo "usage: $0 TRACKALLOC-DEMO" >&2; exit 2; }
demo=$1
rounds=700  # per thread; at least 64 so that every cache slot is filled
threads=2

ta_need_exe "$TA_PY"
ta_tmpdir
env -u LD_PRELOAD TRACKALLOC_REPORT="$TA_TMP/report.json" "$demo" "$rounds" >"$TA_TMP/table" ||
	ta_fail "trackalloc-demo exited with status $?"
cat "$TA_TMP/table"

# field GROUP COLUMN: a column of the printed table (allocs, frees, bytes,
# freed, live). The tags column may be empty, so count from the right.
field() {
	awk -v g="$1" -v c="$2" '
		BEGIN { off["allocs"] = 4; off["frees"] = 3; off["bytes"] = 2; off["freed"] = 1; off["live"] = 0 }
		$1 == g { print $(NF - off[c]); found = 1 }
		END { if (!found) print "missing" }' "$TA_TMP/table"
}

# What demo.c does, per thread and round r:
#   parser:  16 mallocs of 16 + (r*7 + i*13) % 240 bytes, all freed;
#   cache:   1 malloc of 256 + (r*31) % 512 bytes into slot (r*31) % 64,
#            freeing the slot's previous block: 64 blocks stay live, the
#            last round r that wrote each slot (both threads write the same
#            sizes for the same r, so which thread wrote last does not matter);
#   handler: malloc(1024), realloc to 4096 (a free plus an allocation), free.
expected=$(awk -v rounds="$rounds" -v threads="$threads" 'BEGIN {
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < 16; i++) parser_bytes += 16 + (r * 7 + i * 13) % 240
		cache_bytes += 256 + (r * 31) % 512
		last[(r * 31) % 64] = 256 + (r * 31) % 512
	}
	for (s in last) cache_live += last[s]
	printf "parser_allocs=%d parser_bytes=%d ", threads * rounds * 16, threads * parser_bytes
	printf "cache_allocs=%d cache_frees=%d cache_bytes=%d cache_live=%d ", threads * rounds,
		threads * rounds - 64, threads * cache_bytes, cache_live
	printf "handler_allocs=%d handler_bytes=%d\n", threads * rounds * 2, threads * rounds * (1024 + 4096)
}')
echo "expected: $expected"
declare -A want
for kv in $expected; do
	want[${kv%%=*}]=${kv#*=}
done

failed=0
expect() { # GROUP COLUMN VALUE
	local got
	got=$(field "$1" "$2")
	if [ "$got" != "$3" ]; then
		echo "FAIL: $1 $2 is $got, expected $3"
		failed=1
	fi
}
expect parser allocs "${want[parser_allocs]}"
expect parser frees "${want[parser_allocs]}"
expect parser bytes "${want[parser_bytes]}"
expect parser live 0
expect cache allocs "${want[cache_allocs]}"
expect cache frees "${want[cache_frees]}"
expect cache bytes "${want[cache_bytes]}"
expect cache live "${want[cache_live]}"
expect handler allocs "${want[handler_allocs]}"
expect handler frees "${want[handler_allocs]}"
expect handler bytes "${want[handler_bytes]}"
expect handler live 0

# The report at exit: consistent, and the same counts for the named groups
# (nothing allocates in them after the table is printed).
report_args=()
for g in parser cache handler; do
	report_args+=(--expect "$g.allocated_objects=$(field "$g" allocs)"
		--expect "$g.freed_objects=$(field "$g" frees)"
		--expect "$g.allocated_bytes=$(field "$g" bytes)"
		--expect "$g.freed_bytes=$(field "$g" freed)")
done
report_args+=(--expect cache.live_objects=64 --expect parser.live_objects=0
	--expect handler.live_objects=0
	--expect-tag parser.component=frontend --expect-tag cache.component=storage
	--expect-tag cache.tier=l1)
"$TA_PY" "$here/check-report.py" "$TA_TMP/report.json" --fast-usable-size 1 \
	--min-objects "$((threads * rounds * 19))" "${report_args[@]}" || failed=1

if [ "$failed" != 0 ]; then
	ta_show report "$TA_TMP/report.json"
	exit 1
fi
echo "PASS: trackalloc-demo counters"
