#!/bin/bash
# SPDX-License-Identifier: MIT
#
# trackalloc-report on trackalloc:batch traces (tracepoints/EVENTS.md,
# "Compact full traces"), written by make-batch-ctf.py from one synthetic
# workload in both forms (no LTTng needed).
#
#   batch-test.sh SCENARIO TRACKALLOC_REPORT
#
# SCENARIO:
#   same        the workload as per-call events and as batches (several
#               threads and processes, interleaved batches, flushes by the
#               watcher's vtid, frees and reallocs of other groups, group
#               changes): the table, the TSV and the CSV timeline (default
#               and --interval-us) are byte-identical, peaks included, but
#               for the lines that count events; twice, with other shapes
#   both        process 5001 in both forms, 5002 in batches: the same as
#               the per-call trace (per-call events win, batches ignored)
#   restart     a thread ends half-way and a new one takes its tid (a batch
#               at offset 0): the same as the per-call trace
#   standalone  some calls in standalone batches: the same
#   gaps        every 4th batch of a thread lost: one line says how many
#               stream bytes were lost (exactly those of the batches
#               dropped), figures are marked as bounds, nothing else breaks
#   garbage     damaged batches (bytes overwritten, a reserved kind, data
#               shorter than its length, a record cut): one line per
#               process, exit 0, nothing on stderr
#   late        a thread's batches 800 ms late: a line says how many calls
#               came late; counts and bytes are still exact; with
#               --horizon-ms 1000 none is late and all is the same again
#   midstream   the first 3 batches of a thread never recorded (a session
#               that started while it ran): nothing said lost or
#               undecodable, no line about it, figures still sane
#   fuzz        random bytes overwritten in a third of the batches, five
#               seeds: exit 0, nothing on stderr, the damage counted (run
#               it with an ASan build of the report too)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

[ $# -eq 2 ] || { echo "usage: $0 SCENARIO TRACKALLOC_REPORT" >&2; exit 2; }
scenario=$1 report=$2
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trackalloc-batch-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

[ -x "$report" ] || { echo "no trackalloc-report at $report" >&2; exit 1; }
if [ ! -x "$PY" ]; then
	if [ "${TRACKALLOC_REQUIRE_ALL:-0}" = 1 ]; then
		echo "FAIL (TRACKALLOC_REQUIRE_ALL=1): $PY is not installed" >&2
		exit 1
	fi
	echo "SKIP: $PY is not installed" >&2
	exit 77
fi

fail() {
	echo "FAIL: $*" >&2
	failed=1
}

# make NAME ARGS...: a trace $tmp/NAME, its JSON in $tmp/NAME.json
make() {
	local name=$1
	shift
	"$PY" "$here/make-batch-ctf.py" "$tmp/$name" "$@" >"$tmp/$name.json" ||
		{ echo "make-batch-ctf.py $* failed" >&2; exit 1; }
}

json() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# outputs NAME [OPTIONS]: table, TSV and CSVs of trace NAME, the lines that
# count events or batches left out (they differ between the forms)
outputs() {
	local name=$1 t=$tmp/$1
	shift
	"$report" "$@" --csv "$t.csv" "$t" >"$t.table" 2>"$t.err"
	status=$?
	[ "$status" -eq 0 ] || { cat "$t.err" >&2; fail "report $name: exit $status"; }
	"$report" "$@" --format tsv --interval-us 1000 --csv "$t.csv1000" "$t" >"$t.tsv" 2>>"$t.err" ||
		fail "report --format tsv $name"
	[ -s "$t.err" ] && { cat "$t.err" >&2; fail "report $name wrote on stderr"; }
	sed -e 1d -e '/ events read, /d' -e '/ trackalloc:batch events holding /d' "$t.table" >"$t.table.cmp"
	grep -v -e '^# trace	' -e '^# events	' -e '^# trackalloc_events	' -e '^# batch' \
		"$t.tsv" >"$t.tsv.cmp"
}

# same A B: every output of A equals B's
same() {
	local what
	for what in table.cmp tsv.cmp csv csv1000; do
		if ! cmp -s "$tmp/$1.$what" "$tmp/$2.$what"; then
			fail "$1 and $2 differ ($what):"
			diff "$tmp/$1.$what" "$tmp/$2.$what" | head -20 >&2
		fi
	done
	# a comparison of nothing proves nothing
	grep -q 'request:2' "$tmp/$1.table.cmp" || fail "$1: no group table"
	[ "$(wc -l <"$tmp/$1.csv")" -gt 1000 ] || fail "$1: a timeline of fewer than 1000 rows"
}

tsv_meta() { awk -F'\t' -v k="# $2" '$1 == k { print $2 }' "$tmp/$1.tsv"; }

# column COL of the "(all groups)" row of process PID in NAME's table
all_groups() {
	awk -v pid="$2" -v col="$3" '
		/^process / { inproc = ($2 == pid) }
		inproc && /\(all groups\)/ { print $col; exit }' "$tmp/$1.table"
}

case $scenario in
same)
	make calls --form calls
	make batches --form batches
	outputs calls
	outputs batches
	same calls batches
	[ "$(tsv_meta batches batch_calls)" = "$(json "$tmp/batches.json" calls)" ] ||
		fail "batches: $(tsv_meta batches batch_calls) calls decoded, $(json "$tmp/batches.json" calls) written"
	grep -q 'trackalloc:batch events holding' "$tmp/batches.table" || fail "no line about batches"
	# more threads, small buffers (batches of tens of calls), one process
	make calls2 --form calls --seed 7 --threads 6 --procs 1 --calls 15000
	make batches2 --form batches --seed 7 --threads 6 --procs 1 --calls 15000 --bufsize 300
	outputs calls2
	outputs batches2
	same calls2 batches2
	;;
both | restart | standalone)
	make calls --form calls
	case $scenario in
	both) make batches --form both ;;
	restart) make batches --restart ;;
	standalone) make batches --standalone 0.05 ;;
	esac
	outputs calls
	outputs batches
	same calls batches
	if [ "$scenario" = both ]; then
		ignored=$(tsv_meta batches batches_ignored)
		[ "${ignored:-0}" -gt 0 ] || fail "both: no batch counted as ignored"
		grep -q 'more not read: their processes have per-call events' "$tmp/batches.table" ||
			fail "both: the table does not say batches were not read"
	fi
	;;
gaps | garbage | late)
	make calls --form calls
	case $scenario in
	gaps) make batches --drop 4 ;;
	garbage) make batches --garbage ;;
	late) make batches --late ;;
	esac
	outputs calls
	outputs batches
	if [ "$scenario" = late ]; then
		n=$(grep -c 'came in a batch more than 500 ms after' "$tmp/batches.table")
		[ "$n" -ge 1 ] || fail "late: no line about late calls"
		[ "$(tsv_meta batches batch_late_calls)" -gt 1000 ] || fail "late: too few late calls"
		for col in 3 4 5 6; do
			for pid in 5001 5002; do
				[ "$(all_groups calls $pid $col)" = "$(all_groups batches $pid $col)" ] ||
					fail "late: process $pid column $col differs"
			done
		done
		cp -r "$tmp/batches" "$tmp/waiting"
		outputs waiting --horizon-ms 1000
		same calls waiting
		[ "$(tsv_meta waiting batch_late_calls)" = 0 ] || fail "late: calls late at 1000 ms"
	else
		n=$(grep -c '^  batches lost or unreadable: ' "$tmp/batches.table")
		[ "$n" = 2 ] || fail "$scenario: $n lines about lost batches (want one per process)"
		grep -q '≥' "$tmp/batches.table" || fail "$scenario: figures not marked as bounds"
		for pid in 5001 5002; do
			a=$(all_groups calls $pid 3) b=$(all_groups batches $pid 3)
			b=${b#≥}
			if [ "$b" -ge "$a" ] || [ "$b" -le $((a / 2)) ]; then
				fail "$scenario: process $pid has $b allocations (all calls: $a)"
			fi
		done
	fi
	if [ "$scenario" = gaps ]; then
		[ "$(tsv_meta batches batch_lost_bytes)" = "$(json "$tmp/batches.json" lost_bytes)" ] ||
			fail "gaps: $(tsv_meta batches batch_lost_bytes) bytes said lost, $(json "$tmp/batches.json" lost_bytes) dropped"
	fi
	;;
midstream)
	make calls --form calls
	make batches --unseen 3
	outputs calls
	outputs batches
	[ "$(tsv_meta batches batch_lost_bytes)" = 0 ] || fail "midstream: bytes said lost"
	[ "$(tsv_meta batches batch_unreadable_bytes)" = 0 ] || fail "midstream: bytes said undecodable"
	grep -q 'batches lost or unreadable' "$tmp/batches.table" && fail "midstream: a line about lost batches"
	for pid in 5001 5002; do
		a=$(all_groups calls $pid 3) b=$(all_groups batches $pid 3)
		b=${b#≥}
		if [ "$b" -ge "$a" ] || [ "$b" -le $((a * 3 / 4)) ]; then
			fail "midstream: process $pid has $b allocations (all calls: $a)"
		fi
	done
	;;
fuzz)
	for seed in 11 12 13 14 15; do
		make "fuzz$seed" --seed "$seed" --fuzz 0.3 --calls 8000
		"$report" --format tsv "$tmp/fuzz$seed" >"$tmp/fuzz$seed.tsv" 2>"$tmp/fuzz$seed.err"
		status=$?
		[ "$status" -eq 0 ] || { cat "$tmp/fuzz$seed.err" >&2; fail "fuzz seed $seed: exit $status"; }
		[ -s "$tmp/fuzz$seed.err" ] && { cat "$tmp/fuzz$seed.err" >&2; fail "fuzz seed $seed: stderr"; }
		[ "$(tsv_meta "fuzz$seed" batch_unreadable_bytes)" -gt 0 ] ||
			fail "fuzz seed $seed: no undecodable bytes counted"
	done
	;;
*)
	echo "unknown scenario $scenario" >&2
	exit 2
	;;
esac

if [ "$failed" -ne 0 ]; then
	if [ -e "$tmp/batches.table" ]; then
		echo "---- the batch trace's table ----"
		head -c 5000 "$tmp/batches.table"
	fi
	exit 1
fi
echo "batch $scenario: ok"
