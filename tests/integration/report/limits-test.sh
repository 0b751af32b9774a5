#!/bin/bash
# SPDX-License-Identifier: MIT
#
# trackalloc report's in-process peaks (group_stats peak_bytes) and limit
# crossings (group_limit), checked by check-limits.py.
#
#   limits-test.sh synthetic TRACKALLOC_REPORT
#   limits-test.sh recorded TRACKALLOC LIMITS_PROG
#
# synthetic: make-ctf.py's limits trace (two processes: one with alloc/free
#   events, one with group_stats samples only) and its limits-old twin
#   (a release without peak_bytes and group_limit), and limits-many (45
#   more crossings: the table shows 40, the TSV all): the table and the TSV
#   show every crossing with its time, group, live bytes and limits, and
#   each group's in-process peak, the largest peak_bytes sampled ('-' in
#   the old trace, which has no crossing section); --group keeps only the
#   selected groups' crossings; --plot draws one dashed line per limit seen
#   (cache: soft and hard; jobs: soft only, it has no hard limit). No LTTng.
# recorded: limits-prog (a soft limit crossed twice, re-armed in between)
#   recorded by `trackalloc record` (tests/integration/lttng/lib.sh's rules:
#   a session daemon started only when none answers): the report record
#   prints has the crossings section; the table, TSV and --plot SVG show
#   both crossings with the live bytes the program's callback was given,
#   the group's in-process and trace peaks equal to its ta_group_peak, and
#   its soft and hard limits as dashed lines; and the same crossings and
#   in-process peak with record --mode=counters (group_stats samples only).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
mode=${1:-}
failed=0
fail() {
	echo "FAIL: $*" >&2
	failed=1
}
check() { "$PY" "$here/check-limits.py" "$@" || fail "check-limits.py $1"; }

# report OUT ARGS...: the report (${report[@]}) of ARGS into OUT, exit
# status 0 required
report=()
report() {
	local out=$1
	shift
	"${report[@]}" "$@" >"$out" 2>"$out.err" || {
		cat "$out.err" >&2
		fail "${report[*]} $*: exit status $?"
	}
}

case $mode in
synthetic)
	report=("${2:?usage: $0 synthetic TRACKALLOC_REPORT}")
	[ -x "$PY" ] || { echo "SKIP: $PY is not installed" >&2; exit 77; }
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/trackalloc-limits-test.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	for kind in limits limits-old limits-many; do
		"$PY" "$here/make-ctf.py" "$tmp/$kind" "$kind" >"$tmp/$kind.json" || exit 1
		report "$tmp/$kind.table" "$tmp/$kind"
		report "$tmp/$kind.tsv" --format=tsv "$tmp/$kind"
		echo "---- $kind: table"
		head -n 40 "$tmp/$kind.table"
		echo "---- $kind: TSV"
		head -n 30 "$tmp/$kind.tsv"
		check synthetic --expected "$tmp/$kind.json" --tsv "$tmp/$kind.tsv" \
			--table "$tmp/$kind.table"
	done
	! grep -q "limit crossing" "$tmp/limits-old.table" ||
		fail "the old trace's table has a crossings section"
	# --group: only the selected groups' crossings, in both outputs
	report "$tmp/cache.tsv" --format=tsv --group cache "$tmp/limits"
	report "$tmp/cache.table" --group cache "$tmp/limits"
	if [ "$(grep -c '^# limit	' "$tmp/cache.tsv")" != 2 ] ||
		! grep -q '^# limit_crossings	2$' "$tmp/cache.tsv"; then
		fail "--group cache: not cache's 2 crossings in the TSV"
	fi
	if ! grep -q '^  2 limit crossings' "$tmp/cache.table" ||
		[ "$(grep -c 'limit crossing' "$tmp/cache.table")" != 1 ]; then
		fail "--group cache: the table does not show cache's 2 crossings alone"
	fi
	report "$tmp/plain.tsv" --format=tsv --group plain "$tmp/limits"
	if ! grep -q '^# limit_crossings	0$' "$tmp/plain.tsv" || grep -q '^# limit	' "$tmp/plain.tsv"; then
		fail "--group plain: crossings of other groups in the TSV"
	fi
	# --plot: cache's soft and hard limits, jobs' soft limit (hard 0: none)
	report "$tmp/plot.out" --plot "$tmp/limits.svg" "$tmp/limits"
	n=$(grep -c '<g id="limit-[0-9]*">' "$tmp/limits.svg")
	[ "$n" = 3 ] || fail "--plot: $n limit lines, expected 3"
	for label in "cache (4242) soft limit" "cache (4242) hard limit" "jobs (4343) soft limit"; do
		grep -qF "$label" "$tmp/limits.svg" || fail "--plot: no '$label' in the legend"
	done
	! grep -qF "jobs (4343) hard limit" "$tmp/limits.svg" || fail "--plot: a hard limit of 0 drawn"
	report "$tmp/plot-old.out" --plot "$tmp/old.svg" "$tmp/limits-old"
	! grep -q 'id="limit-' "$tmp/old.svg" || fail "--plot: limit lines without group_limit events"
	;;
recorded)
	cmd=${2:?usage: $0 recorded TRACKALLOC LIMITS_PROG}
	prog=${3:?usage: $0 recorded TRACKALLOC LIMITS_PROG}
	# shellcheck source=tests/integration/lttng/lib.sh
	. "$here/../lttng/lib.sh"
	lt_init
	report=("$cmd" report)
	lt_bounded 120 "$cmd" record -o "$LT_TMP/trace" -- "$prog" >"$LT_TMP/rec.out" 2>"$LT_TMP/rec.err"
	status=$?
	cat "$LT_TMP/rec.out"
	if [ "$status" != 0 ]; then
		cat "$LT_TMP/rec.err" >&2
		lt_fail "trackalloc record limits-prog: exit status $status"
	fi
	grep -q '^  2 limit crossings (group_limit' "$LT_TMP/rec.out" ||
		fail "the report trackalloc record printed has no section of 2 crossings"
	report "$LT_TMP/table" "$LT_TMP/trace"
	report "$LT_TMP/tsv" --format=tsv "$LT_TMP/trace"
	report "$LT_TMP/plot.out" --plot "$LT_TMP/plot.svg" "$LT_TMP/trace"
	grep '^# limit' "$LT_TMP/tsv"
	check recorded --program "$LT_TMP/rec.out" --tsv "$LT_TMP/tsv" --table "$LT_TMP/table" \
		--svg "$LT_TMP/plot.svg"
	lt_bounded 120 "$cmd" record --mode=counters -o "$LT_TMP/counters" -- "$prog" \
		>"$LT_TMP/counters.out" 2>"$LT_TMP/counters.err"
	status=$?
	if [ "$status" != 0 ]; then
		cat "$LT_TMP/counters.err" >&2
		lt_fail "trackalloc record --mode=counters limits-prog: exit status $status"
	fi
	sed -n '/^process /,$p' "$LT_TMP/counters.out"
	report "$LT_TMP/counters.table" "$LT_TMP/counters"
	report "$LT_TMP/counters.tsv" --format=tsv "$LT_TMP/counters"
	check recorded --counters --program "$LT_TMP/counters.out" --tsv "$LT_TMP/counters.tsv" \
		--table "$LT_TMP/counters.table"
	;;
*)
	echo "usage: $0 synthetic TRACKALLOC_REPORT | recorded TRACKALLOC LIMITS_PROG" >&2
	exit 2
	;;
esac

[ "$failed" = 0 ] && echo "PASS: $mode" || echo "FAILED: $mode"
exit "$failed"
