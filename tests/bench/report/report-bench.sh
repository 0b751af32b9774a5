#!/bin/bash
# SPDX-License-Identifier: MIT
#
# trackalloc-report against `babeltrace2 TRACE -c sink.utils.counter` on the
# same full trace, in the same run: records trackalloc-demo under a session
# with every trackalloc event (blocking channel, so nothing is discarded and
# the trace holds at least MIN_EVENTS events), then runs each reader REPS
# times, alternating, and prints the best wall-clock and CPU event rates of
# each and their ratios (target: the report at 0.7x babeltrace2 or better).
# Timing never fails the benchmark; a missing tool skips it (77).
#
#   report-bench.sh TRACKALLOC_REPORT TRACKALLOC_DEMO [MIN_EVENTS [REPS]]
set -uo pipefail

[ $# -ge 2 ] || {
	echo "usage: $0 TRACKALLOC_REPORT TRACKALLOC_DEMO [MIN_EVENTS [REPS]]" >&2
	exit 2
}
report=$1 demo=$2 min_events=${3:-5000000} reps=${4:-3}

skip() {
	if [ "${TRACKALLOC_REQUIRE_ALL:-0}" = 1 ]; then
		echo "FAIL (TRACKALLOC_REQUIRE_ALL=1): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

for tool in lttng lttng-sessiond babeltrace2; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed"

session="" sessiond_pid=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trackalloc-report-bench.XXXXXX")
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if [ -n "$session" ]; then
		lttng destroy "$session" >/dev/null 2>&1
	fi
	if [ -n "$sessiond_pid" ]; then
		kill "$sessiond_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! lttng list >/dev/null 2>&1; then
	lttng-sessiond --daemonize --no-kernel >/dev/null 2>&1 || skip "cannot start lttng-sessiond"
	sessiond_pid=$(pgrep -n lttng-sessiond)
fi

# About 86 events per demo round (two threads); a margin on top.
rounds=$((min_events / 80 + 1000))
session=report-bench-$$-$RANDOM
if ! lttng create "$session" -o "$tmp/trace" >/dev/null ||
	! lttng enable-channel -s "$session" -u c0 --subbuf-size=8M --num-subbuf=16 \
		--blocking-timeout=inf >/dev/null ||
	! lttng enable-event -s "$session" -u -c c0 'trackalloc:*' >/dev/null ||
	! lttng add-context -s "$session" -u -c c0 -t vtid -t vpid -t procname >/dev/null ||
	! lttng start "$session" >/dev/null; then
	echo "cannot set up the LTTng session" >&2
	exit 1
fi
LTTNG_UST_ALLOW_BLOCKING=1 "$demo" "$rounds" >/dev/null ||
	{ echo "trackalloc-demo failed" >&2; exit 1; }
lttng stop "$session" >/dev/null && lttng destroy "$session" >/dev/null
session=""

# run NAME CMD...: one timed run; "wall cpu" seconds appended to $tmp/NAME.times
run() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" ||
		{ cat "$tmp/$name.err" >&2; echo "$name failed" >&2; exit 1; }
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$tmp/time" >>"$tmp/$name.times"
}

for _ in $(seq "$reps"); do
	run counter babeltrace2 "$tmp/trace" -c sink.utils.counter
	run report "$report" --format=tsv "$tmp/trace"
done

events_bt=$(awk '/Event messages/ { n = $1 } END { print n + 0 }' "$tmp/counter.out")
events_rp=$(awk -F'\t' '$1 == "# events" { print $2 }' "$tmp/report.out")
discarded=$(awk -F'\t' '$1 == "# discarded_events" { print $2 }' "$tmp/report.out")
[ "$events_bt" = "$events_rp" ] ||
	echo "warning: babeltrace2 counted $events_bt events, trackalloc-report $events_rp"
[ "$events_rp" -ge "$min_events" ] ||
	echo "warning: the trace holds $events_rp events, fewer than $min_events"

best() { sort -n -k"$2" "$tmp/$1.times" | head -1 | cut -d' ' -f"$2"; }
bt_wall=$(best counter 1) bt_cpu=$(best counter 2)
rp_wall=$(best report 1) rp_cpu=$(best report 2)
rss=$(/usr/bin/time -f "%M" "$report" --format=tsv "$tmp/trace" 2>&1 >/dev/null | tail -1)

awk -v n="$events_rp" -v bw="$bt_wall" -v bc="$bt_cpu" -v rw="$rp_wall" -v rc="$rp_cpu" \
	-v d="$discarded" -v reps="$reps" -v rss="$rss" -v size="$(du -sh "$tmp/trace" | cut -f1)" '
	function rate(t) { return t > 0 ? n / t / 1e6 : 0 }
	BEGIN {
		printf "trace: %d events (%d discarded), %s on disk; best of %d runs each\n", n, d, size, reps
		printf "%-40s %8.2f s wall %6.2f M events/s   %8.2f s CPU %6.2f M events/s\n",
			"babeltrace2 -c sink.utils.counter", bw, rate(bw), bc, rate(bc)
		printf "%-40s %8.2f s wall %6.2f M events/s   %8.2f s CPU %6.2f M events/s\n",
			"trackalloc-report", rw, rate(rw), rc, rate(rc)
		printf "ratio (report / babeltrace2 event rate): %.2fx wall, %.2fx CPU (target >= 0.70x)\n",
			(rw > 0 ? bw / rw : 0), (rc > 0 ? bc / rc : 0)
		printf "trackalloc-report max RSS: %d KiB\n", rss
	}'
exit 0
