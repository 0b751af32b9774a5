#!/bin/bash
# SPDX-License-Identifier: MIT
#
# trackalloc-report on traces recorded here, from known-pattern (a program
# whose allocations and counters are known), and on bad inputs.
#
#   report-test.sh SCENARIO TRACKALLOC_REPORT KNOWN_PATTERN
#
# SCENARIO:
#   full          two runs in one session (per-user buffers), all events:
#                 every figure equals the program's own, to the byte, and so
#                 does each group's in-process peak (group_stats peak_bytes);
#                 the table, --group, --csv and --plot (PNG and SVG) too
#   per-process   the same with per-process buffers (one trace per process)
#   counters      only INFO events (group_register/group_tag/group_stats):
#                 totals equal the last samples, in-process peaks the true ones
#   nameless      only alloc/free/realloc events: groups shown as #ID
#   late-session  the session starts after the program registered its groups
#                 and allocated some blocks
#   discarded     tiny buffers: discarded events reported, figures marked
#   bad-input     missing directory, not a directory, no CTF metadata, a CTF
#                 trace without trackalloc events, an empty trace, usage errors
#   truncated     stream files cut at a packet boundary and inside a packet,
#                 without their index, a truncated metadata file; with one
#                 trace per process, --skip-unreadable reads the others
#
# Needs lttng and lttng-sessiond (except bad-input): when no session daemon
# answers, one is started and stopped at the end. A missing tool skips (77),
# or fails when TRACKALLOC_REQUIRE_ALL=1.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

[ $# -eq 3 ] || { echo "usage: $0 SCENARIO TRACKALLOC_REPORT KNOWN_PATTERN" >&2; exit 2; }
scenario=$1 report=$2 kp=$3

session="" sessiond_pid="" failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trackalloc-report-test.XXXXXX")

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

skip() {
	if [ "${TRACKALLOC_REQUIRE_ALL:-0}" = 1 ]; then
		echo "FAIL (TRACKALLOC_REQUIRE_ALL=1): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	failed=1
}

show() {
	echo "---- $1 ----"
	head -c 6000 "$2"
	echo
}

[ -x "$report" ] || { echo "no trackalloc-report at $report" >&2; exit 1; }
[ -x "$PY" ] || skip "$PY is not installed"

need_lttng() {
	if ! command -v lttng >/dev/null || ! command -v lttng-sessiond >/dev/null; then
		skip "lttng and lttng-sessiond are not installed"
	fi
	if ! lttng list >/dev/null 2>&1; then
		lttng-sessiond --daemonize --no-kernel >/dev/null 2>&1 ||
			skip "cannot start lttng-sessiond"
		sessiond_pid=$(pgrep -n lttng-sessiond)
		lttng list >/dev/null 2>&1 || skip "lttng-sessiond does not answer"
	fi
}

# session_begin DIR CHANNEL_OPTIONS EVENT_OPTIONS: a started session (every
# command names it: other tests may change the current session meanwhile).
# Every event ('trackalloc:*') holds the calls in the form REPORT_FORM says:
# events (per-call events, the default) or batch (trackalloc:batch, as
# trackalloc record records them); the figures must be the same.
session_begin() {
	local events=$3
	session=report-$scenario-$$-$RANDOM
	if [ "$events" = 'trackalloc:*' ]; then
		case ${REPORT_FORM:-events} in
		events) events="$events --exclude trackalloc:batch" ;;
		batch) events="$events --exclude trackalloc:alloc,trackalloc:alloc_aligned,trackalloc:free,trackalloc:realloc" ;;
		*) echo "REPORT_FORM must be events or batch" >&2; exit 2 ;;
		esac
	fi
	# shellcheck disable=SC2086 # option lists
	if ! lttng create "$session" -o "$1" >/dev/null ||
		! lttng enable-channel -s "$session" -u c0 $2 >/dev/null ||
		! lttng enable-event -s "$session" -u -c c0 $events >/dev/null ||
		! lttng add-context -s "$session" -u -c c0 -t vtid -t vpid -t procname >/dev/null ||
		! lttng start "$session" >/dev/null; then
		echo "cannot set up LTTng session $session" >&2
		exit 1
	fi
}

session_end() {
	if ! lttng stop "$session" >/dev/null || ! lttng destroy "$session" >/dev/null; then
		echo "cannot stop LTTng session $session" >&2
		exit 1
	fi
	session=""
}

# run_kp OUT ARGS...: known-pattern, its output in OUT.
run_kp() {
	local out=$1 status
	shift
	"$kp" "$@" >"$out" 2>"$out.err"
	status=$?
	[ "$status" -eq 0 ] && return
	show "known-pattern stdout" "$out"
	show "known-pattern stderr" "$out.err"
	if [ "$status" -gt 128 ]; then
		echo "known-pattern died of signal $((status - 128))" \
			"$(grep -q KP-END "$out" && echo "after printing its figures (at exit)")" >&2
	else
		echo "known-pattern exited with status $status" >&2
	fi
	exit 1
}

# report_tsv TRACE OUT [OPTIONS...]: the TSV report, exit status 0 required.
report_tsv() {
	local trace=$1 out=$2 status
	shift 2
	"$report" --format=tsv "$@" "$trace" >"$out" 2>"$out.err"
	status=$?
	[ -s "$out.err" ] && show "report stderr" "$out.err"
	[ "$status" -eq 0 ] || fail "trackalloc-report --format=tsv $* $trace exited with $status"
}

check_tsv() {
	"$PY" "$here/check-tsv.py" "$@" || fail "check-tsv.py $*"
}

# expect_error WANT_STATUS PATTERN ARGS...: a one-line error matching PATTERN.
expect_error() {
	local want=$1 pattern=$2 status
	shift 2
	"$report" "$@" >"$tmp/err.out" 2>"$tmp/err.err"
	status=$?
	echo "trackalloc-report $*: exit $status: $(cat "$tmp/err.err")"
	[ "$status" -eq "$want" ] || fail "$*: exit status $status, expected $want"
	[ "$(wc -l <"$tmp/err.err")" -eq 1 ] || fail "$*: not exactly one line on stderr"
	grep -q "^trackalloc report: .*$pattern" "$tmp/err.err" ||
		fail "$*: the error does not say '$pattern'"
	[ ! -s "$tmp/err.out" ] || fail "$*: wrote to stdout"
}

case $scenario in
full | per-process)
	need_lttng
	buffers=""
	skip_opt=""
	if [ "$scenario" = per-process ]; then
		# Other programs traced meanwhile may leave an incomplete trace of
		# their own; this run's traces must still be read whole (checked).
		buffers=--buffers-pid skip_opt=--skip-unreadable
	fi
	session_begin "$tmp/trace" "$buffers --subbuf-size=8M --num-subbuf=8" 'trackalloc:*'
	run_kp "$tmp/kp1" --hold-ms 0 --churn 5000 --statedump # group metadata twice
	run_kp "$tmp/kp2" --hold-ms 0
	session_end
	report_tsv "$tmp/trace" "$tmp/report.tsv" $skip_opt
	show report "$tmp/report.tsv"
	check_tsv --report "$tmp/report.tsv" --program "$tmp/kp1" --program "$tmp/kp2" --inproc-peak
	pid1=$(awk -F'\t' '$1 == "KP" { print $2; exit }' "$tmp/kp1")
	pid2=$(awk -F'\t' '$1 == "KP" { print $2; exit }' "$tmp/kp2")
	[ "$pid1" != "$pid2" ] || fail "both runs have pid $pid1"
	# every group named in both processes, root included: the second run
	# is shorter than the watcher's period, its names come at exit
	for pid in "$pid1" "$pid2"; do
		awk -F'\t' -v p="$pid" '$1 == p && $4 == 0 { found = 1; if ($5 != "root") bad = 1 }
			END { exit !(found && !bad) }' "$tmp/report.tsv" ||
			fail "process $pid: group 0 is not named root in the report"
	done

	# the table: both processes, their source, the program's figures
	"$report" $skip_opt "$tmp/trace" >"$tmp/table" 2>"$tmp/table.err" ||
		fail "table: exit status $?"
	show table "$tmp/table"
	for pid in "$pid1" "$pid2"; do
		grep -q "^process $pid (known-pattern), source: alloc/free events" "$tmp/table" ||
			fail "the table has no header for process $pid"
	done
	grep -Eq '^ +1 +alpha +team=core,tier=hot +100 +61 +100000 +61000 +100000 ' "$tmp/table" ||
		fail "the table's alpha row is not 100 allocs, 61 frees (one by realloc)," \
			"100000 B, 61000 B freed, peak 100000"

	# --group: only the groups named (by name or #ID)
	"$report" $skip_opt --format=tsv --group beta --group '#3' "$tmp/trace" >"$tmp/sel.tsv" ||
		fail "--group: exit status $?"
	sel=$(awk -F'\t' -v a="$pid1" -v b="$pid2" \
		'!/^#/ && NR > 1 && ($1 == a || $1 == b) { print $5 }' "$tmp/sel.tsv" | sort | uniq -c |
		awk '{ printf "%s:%s ", $2, $1 }')
	[ "$sel" = "beta:2 gamma:2 " ] || fail "--group beta --group '#3' selected: $sel"
	"$report" $skip_opt --group nosuchgroup "$tmp/trace" >/dev/null 2>"$tmp/nogroup.err" ||
		fail "--group nosuchgroup: exit status $?"
	grep -q "no group nosuchgroup" "$tmp/nogroup.err" || fail "--group nosuchgroup: no warning"

	# --csv and --plot (PNG, SVG)
	"$report" $skip_opt --csv "$tmp/timeline.csv" --plot "$tmp/timeline.png" "$tmp/trace" \
		>/dev/null || fail "--csv --plot PNG: exit status $?"
	"$report" $skip_opt --plot "$tmp/timeline.svg" "$tmp/trace" >/dev/null ||
		fail "--plot SVG: exit status $?"
	if command -v xmllint >/dev/null; then
		xmllint --noout "$tmp/timeline.svg" || fail "the SVG is not well-formed XML"
	elif [ "${TRACKALLOC_REQUIRE_ALL:-0}" = 1 ]; then
		fail "xmllint is not installed"
	else
		echo "note: xmllint is not installed, SVG well-formedness not checked"
	fi
	"$PY" "$here/check-timeline.py" --csv "$tmp/timeline.csv" --report "$tmp/report.tsv" \
		--pid "$pid1" --pid "$pid2" --png "$tmp/timeline.png" --svg "$tmp/timeline.svg" ||
		fail "check-timeline.py"
	expect_error 3 "cannot write" --csv /nonexistent-dir/t.csv "$tmp/trace"
	;;
counters)
	need_lttng
	session_begin "$tmp/trace" "--subbuf-size=8M --num-subbuf=8" "trackalloc:* --loglevel=INFO"
	# held and lingering long enough (samples every 100 ms) for the samples
	# to catch alpha's peak and every group's final counters
	run_kp "$tmp/kp" --hold-ms 400 --linger-ms 400
	session_end
	report_tsv "$tmp/trace" "$tmp/report.tsv"
	show report "$tmp/report.tsv"
	command -v babeltrace2 >/dev/null || skip "babeltrace2 (the command) is not installed"
	babeltrace2 "$tmp/trace" >"$tmp/trace.txt" || fail "babeltrace2 cannot read the trace"
	check_tsv --report "$tmp/report.tsv" --program "$tmp/kp" --source samples --peak sampled \
		--exact-peak alpha --samples "$tmp/trace.txt" --inproc-peak
	pid=$(awk -F'\t' '$1 == "KP" { print $2; exit }' "$tmp/kp")
	# grep -q may stop reading early: no pipe, so that pipefail never sees
	# the writer's SIGPIPE
	grep -q "^process $pid (known-pattern), source: group_stats samples" <<<"$("$report" "$tmp/trace")" ||
		fail "the table does not say it used group_stats samples for process $pid"
	"$report" --csv "$tmp/timeline.csv" "$tmp/trace" >/dev/null || fail "--csv: exit status $?"
	"$PY" "$here/check-timeline.py" --csv "$tmp/timeline.csv" --report "$tmp/report.tsv" \
		--pid "$pid" || fail "check-timeline.py"
	;;
nameless)
	need_lttng
	session_begin "$tmp/trace" "--subbuf-size=8M --num-subbuf=8" \
		"trackalloc:alloc,trackalloc:alloc_aligned,trackalloc:free,trackalloc:realloc"
	run_kp "$tmp/kp" --hold-ms 0
	session_end
	report_tsv "$tmp/trace" "$tmp/report.tsv"
	show report "$tmp/report.tsv"
	check_tsv --report "$tmp/report.tsv" --program "$tmp/kp" --nameless
	pid=$(awk -F'\t' '$1 == "KP" { print $2; exit }' "$tmp/kp")
	"$report" --group '#1' "$tmp/trace" >"$tmp/table" || fail "--group '#1': exit status $?"
	show table "$tmp/table"
	# this process's section: exactly one group row, #1 with its figures
	awk -v pid="$pid" '/^process / { on = ($2 == pid) } on' "$tmp/table" >"$tmp/section"
	[ -s "$tmp/section" ] || fail "no process $pid in the table"
	grep -Eq '^ +1 +#1 +100 +61 +100000 +61000 +100000 ' "$tmp/section" ||
		fail "the table does not show group 1 as #1 with its figures"
	[ "$(grep -Ec '^ +[0-9]+ +#[0-9]+ ' "$tmp/section")" -eq 1 ] ||
		fail "--group '#1' shows more than one group"
	;;
late-session)
	need_lttng
	"$kp" --hold-ms 0 --wait-file "$tmp/go" >"$tmp/kp" 2>"$tmp/kp.err" &
	kp_pid=$!
	for _ in $(seq 500); do
		grep -q KP-READY "$tmp/kp" 2>/dev/null && break
		sleep 0.02
	done
	grep -q KP-READY "$tmp/kp" || { kill "$kp_pid"; echo "known-pattern never got ready" >&2; exit 1; }
	session_begin "$tmp/trace" "--subbuf-size=8M --num-subbuf=8" 'trackalloc:*'
	# a running process starts writing batches at its watcher's next look
	# (every 50 ms), per-call events at once
	[ "${REPORT_FORM:-events}" = events ] || sleep 0.2
	touch "$tmp/go"
	wait "$kp_pid" || { show "known-pattern stderr" "$tmp/kp.err"; exit 1; }
	session_end
	report_tsv "$tmp/trace" "$tmp/report.tsv"
	show report "$tmp/report.tsv"
	check_tsv --report "$tmp/report.tsv" --program "$tmp/kp" --late early
	"$report" "$tmp/trace" >"$tmp/table" || fail "table: exit status $?"
	show table "$tmp/table"
	pid=$(awk -F'\t' '$1 == "KP" { print $2; exit }' "$tmp/kp")
	awk -v pid="$pid" '/^process / { on = ($2 == pid) } on' "$tmp/table" |
		grep -q "frees of blocks allocated before the trace started" ||
		fail "the table does not mention the frees of blocks allocated before the trace"
	;;
discarded)
	need_lttng
	session_begin "$tmp/trace" "--subbuf-size=4096 --num-subbuf=2" 'trackalloc:*'
	run_kp "$tmp/kp" --hold-ms 0 --churn 300000
	session_end
	report_tsv "$tmp/trace" "$tmp/report.tsv"
	show report "$tmp/report.tsv"
	check_tsv --report "$tmp/report.tsv" --program "$tmp/kp" --lossy
	"$report" "$tmp/trace" >"$tmp/table" || fail "table: exit status $?"
	show table "$tmp/table"
	grep -Eq "discarded: [1-9][0-9]* events" "$tmp/table" ||
		fail "the table reports no discarded events"
	grep -q "≥" "$tmp/table" || fail "the table marks no figure as a lower bound"
	grep -q "^≥ lower bound" "$tmp/table" || fail "the table does not explain its marks"
	"$report" --csv "$tmp/timeline.csv" "$tmp/trace" >/dev/null || fail "--csv: exit status $?"
	"$PY" "$here/check-timeline.py" --csv "$tmp/timeline.csv" --report "$tmp/report.tsv" \
		--pid "$(awk -F'\t' '$1 == "KP" { print $2; exit }' "$tmp/kp")" || fail "check-timeline.py"
	;;
bad-input)
	mkdir -p "$tmp/nometa/sub" "$tmp/emptydir"
	echo "not a trace" >"$tmp/nometa/sub/data"
	"$PY" "$here/make-ctf.py" "$tmp/other" other || exit 1
	"$PY" "$here/make-ctf.py" "$tmp/empty" empty || exit 1
	expect_error 2 "no such directory" "$tmp/does-not-exist"
	expect_error 2 "not a directory" "$tmp/nometa/sub/data"
	expect_error 2 "not a CTF trace" "$tmp/nometa"
	expect_error 2 "not a CTF trace" "$tmp/emptydir"
	expect_error 2 "not a trackalloc trace" "$tmp/other"
	expect_error 2 "empty trace" "$tmp/empty"
	expect_error 1 "no trace directory" --format=tsv
	expect_error 1 "exactly one trace directory" "$tmp/other" "$tmp/empty"
	expect_error 1 "unknown or incomplete option" --no-such-option "$tmp/other"
	expect_error 1 "png or .svg" --plot "$tmp/x.pdf" "$tmp/other"
	expect_error 1 "table or tsv" --format=xml "$tmp/other"
	expect_error 1 "microseconds" --interval-us=-5 "$tmp/other"
	grep -q "^Exit status: 0 success; 1 usage error; 2 bad input" <<<"$("$report" --help)" ||
		fail "--help does not document the exit status"
	;;
truncated)
	need_lttng
	session_begin "$tmp/trace" "--subbuf-size=16384 --num-subbuf=64" 'trackalloc:*'
	run_kp "$tmp/kp" --hold-ms 0 --churn 20000
	session_end
	"$report" "$tmp/trace" >/dev/null 2>"$tmp/ok.err" || {
		show stderr "$tmp/ok.err"
		fail "the intact trace: exit status $?"
	}
	# the largest stream file, and the end of its first packet (from its index)
	stream=$(find "$tmp/trace" -type f -name 'c0_*' ! -name '*.idx' -printf '%s %p\n' |
		sort -n | tail -1 | cut -d' ' -f2)
	[ -n "$stream" ] || { echo "no stream file in the trace" >&2; exit 1; }
	size=$(stat -c %s "$stream")
	first=$(od -An -t u1 -j 24 -N 8 "$(dirname "$stream")/index/$(basename "$stream").idx" |
		awk '{ v = 0; for (i = 1; i <= NF; i++) v = v * 256 + $i; print v / 8 }')
	[ "$size" -gt "$first" ] || { echo "the stream has a single packet" >&2; exit 1; }
	cp -r "$tmp/trace" "$tmp/cut"
	cut_stream=$tmp/cut/${stream#"$tmp/trace/"}
	truncate -s "$first" "$cut_stream"
	expect_error 2 "truncated stream file" "$tmp/cut"
	truncate -s $((first + 100)) "$cut_stream"
	expect_error 2 "truncated stream file" "$tmp/cut"
	rm -r "$(dirname "$cut_stream")/index" # no index: babeltrace2's own error
	expect_error 2 "truncated or corrupt" "$tmp/cut"
	rm -rf "$tmp/cut"
	cp -r "$tmp/trace" "$tmp/cut"
	meta=$(find "$tmp/cut" -name metadata | head -1)
	truncate -s $(($(stat -c %s "$meta") - 100)) "$meta"
	expect_error 2 "truncated metadata file" "$tmp/cut"

	# One trace per process: a truncated one fails the run, or with
	# --skip-unreadable is skipped while the others are read whole.
	session_begin "$tmp/pp" "--buffers-pid --subbuf-size=16384 --num-subbuf=64" 'trackalloc:*'
	run_kp "$tmp/kp1" --hold-ms 0 --churn 20000
	run_kp "$tmp/kp2" --hold-ms 0
	session_end
	cp -r "$tmp/pp" "$tmp/pp2" # whole, for the corruption below
	pid1=$(awk -F'\t' '$1 == "KP" { print $2; exit }' "$tmp/kp1")
	stream=$(find "$tmp/pp" -path "*-$pid1-*" -type f -name 'c0_*' -printf '%s %p\n' |
		sort -n | tail -1 | cut -d' ' -f2)
	[ -n "$stream" ] || { echo "no stream file of process $pid1" >&2; exit 1; }
	truncate -s $(($(stat -c %s "$stream") - 100)) "$stream"
	expect_error 2 "truncated stream file" "$tmp/pp"
	report_tsv "$tmp/pp" "$tmp/pp.tsv" --skip-unreadable
	show report "$tmp/pp.tsv"
	grep -q "warning: skipping .*-$pid1-" "$tmp/pp.tsv.err" ||
		fail "--skip-unreadable: no warning about the trace of process $pid1"
	awk -F'\t' '$1 == "# skipped_traces" && $2 >= 1 { ok = 1 } END { exit !ok }' "$tmp/pp.tsv" ||
		fail "--skip-unreadable: the TSV does not count the skipped trace"
	awk -F'\t' -v p="$pid1" '$1 == p { bad = 1 } END { exit bad }' "$tmp/pp.tsv" ||
		fail "--skip-unreadable: rows of the skipped process $pid1"
	check_tsv --report "$tmp/pp.tsv" --program "$tmp/kp2"
	# A corruption only babeltrace2 sees, when the source is created: a
	# packet header naming a stream class the metadata does not have. The
	# graph cannot take another component after that: a skip rebuilds it.
	for f in $(find "$tmp/pp2" -path "*-$pid1-*" -type f -name 'c*_*' ! -name '*.idx'); do
		printf '\x09\x00\x00\x00' | dd of="$f" bs=1 seek=20 conv=notrunc 2>/dev/null
	done
	expect_error 2 "truncated or corrupt" "$tmp/pp2"
	report_tsv "$tmp/pp2" "$tmp/pp2.tsv" --skip-unreadable
	grep -q "warning: skipping .*-$pid1-.*stream class" "$tmp/pp2.tsv.err" ||
		fail "--skip-unreadable: no warning about the corrupt trace of process $pid1"
	check_tsv --report "$tmp/pp2.tsv" --program "$tmp/kp2"
	;;
*)
	echo "unknown scenario $scenario" >&2
	exit 2
	;;
esac

[ "$failed" = 0 ] && echo "PASS: $scenario" || echo "FAILED: $scenario"
exit "$failed"
