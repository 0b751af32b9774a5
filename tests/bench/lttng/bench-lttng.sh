#!/bin/bash
# SPDX-License-Identifier: MIT
#
# LTTng benchmarks of issue 3 (never fail on timing: they print tables).
# Workload: bench-pairs, malloc/free pairs of mixed sizes 16..512 bytes.
#
#  (a) full tracing: trackalloc preloaded with a session recording every
#      call, in the compact form (trackalloc:batch; target: ratio <= 0.35,
#      at most 12 bytes of trace per call) and as per-call events (target:
#      ratio <= 1.0), against LTTng's libc wrapper
#      (liblttng-ust-libc-wrapper.so) with an identical session and channel
#      recording 'lttng_ust_libc:*'.
#  (b) counters mode: trackalloc preloaded with a session recording only
#      trackalloc:group_stats, against plain glibc. Target: ratio <= 1.8.
#
# Runs of the compared configurations alternate, so that drift in the
# machine's load hits both alike. Figures are ns per pair of the program's
# thread CPU time (what tracing costs the program, whatever else the machine
# runs; the consumer daemon's work is not in it), with wall time next to
# them: the median over runs of each run's fastest loop. Events recorded and
# discarded are read back from the benchmark processes' own traces with
# babeltrace2.
#
#   bench-lttng.sh LIBTRACKALLOC BENCH_PAIRS
#
# Environment: TA_BENCH_RUNS (default 5), TA_BENCH_TRACED_PAIRS (pairs per
# timed loop with per-call events, default 100000), TA_BENCH_PAIRS (pairs
# per timed loop otherwise, default 2000000), TA_BENCH_SUBBUF (default 4M),
# TA_BENCH_NSUBBUF (default 8).
set -uo pipefail
. "$(dirname "$0")/../../integration/lttng/lib.sh"
lib=${1:?usage: $0 LIBTRACKALLOC BENCH_PAIRS}
bench=${2:?usage: $0 LIBTRACKALLOC BENCH_PAIRS}
wrapper=${TA_LIBC_WRAPPER:-/usr/lib/x86_64-linux-gnu/liblttng-ust-libc-wrapper.so.1}
runs=${TA_BENCH_RUNS:-5}
traced_pairs=${TA_BENCH_TRACED_PAIRS:-100000}
pairs=${TA_BENCH_PAIRS:-2000000}
subbuf=${TA_BENCH_SUBBUF:-4M}
nsubbuf=${TA_BENCH_NSUBBUF:-8}
[ -e "$lib" ] || lt_fail "no library at $lib"
[ -e "$wrapper" ] || lt_skip "LTTng's libc wrapper ($wrapper) is not installed"
lt_init

# one_run NAME [VAR=VALUE...]: run bench-pairs, append its fastest loop's
# CPU and wall ns/pair to $LT_TMP/NAME.ns and NAME.wall.
one_run() {
	local name=$1 n=$pairs line
	shift
	case $name in a-*) n=$traced_pairs ;; esac
	line=$(env -u LD_PRELOAD -u TRACKALLOC_LTTNG -u TRACKALLOC_SAMPLE_MS -u TRACKALLOC_REPORT \
		"$@" timeout 120 "$bench" "$n" 3) || lt_fail "bench-pairs ($name) failed"
	echo "$line" | awk '{print $2}' >>"$LT_TMP/$name.ns"
	echo "$line" | awk '{print $4}' >>"$LT_TMP/$name.wall"
	echo "$line" | awk '{print $6}' >>"$LT_TMP/$name.pids"
	# another session recording the same events makes this run pay twice
	if [ -n "$(lt_foreign_sessions 'trackalloc:\|lttng_ust_libc:')" ]; then
		echo "$name" >>"$LT_TMP/foreign"
	fi
}

# foreign_note NAME...: how many runs of NAME... shared the events with
# sessions that are not the benchmark's.
foreign_note() {
	local n
	for n in "$@"; do
		local k
		k=$(grep -cx "$n" "$LT_TMP/foreign" 2>/dev/null)
		[ "${k:-0}" = 0 ] ||
			echo "    NOTE: $k of the $runs $n runs ran while another session recorded" \
				"trackalloc or lttng_ust_libc events (they pay for both sessions)"
	done
}

median() { # FILE
	sort -g "$1" | awk '{v[NR] = $1} END {printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

ratio() { # A B
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'
}

row() { # LABEL CPU WALL [RECORDED DISCARDED | NOTE]
	printf '    %-44s %12s %12s %10s %10s\n' "$1" "$2" "$3" "${4:-}" "${5:-}"
}

all() { # FILE: every run, for the log
	sort -g "$1" | tr '\n' ' '
}

# bench_session VAR EVENTS: a session with the channel both (a) sides use.
# Per-process buffers: the figures below count only the benchmark's own
# processes, whatever else records on the machine.
bench_session() {
	lt_session "$1"
	lt_channel "${!1}" --buffers-pid --subbuf-size="$subbuf" --num-subbuf="$nsubbuf"
	lt_events "${!1}" "$2"
	lt_start "${!1}"
}

# count SESSION NAME: "RECORDED DISCARDED" events of the runs NAME made.
# babeltrace2's counter sink counts events and discarded-events messages;
# only when there are such messages, its text sink's warnings give how many
# events they stand for.
count() {
	local dirs n
	# shellcheck disable=SC2046 # one argument per pid
	IFS=: read -r -a dirs <<<"$(lt_pid_trace "$(lt_trace_dir "$1")" $(cat "$LT_TMP/$2.pids"))"
	n=$(babeltrace2 -c sink.utils.counter "${dirs[@]}" 2>/dev/null |
		awk '/ Event messages/ {e = $1} / Discarded event messages/ {d = $1}
		     END {print e + 0, d + 0}')
	if [ "${n#* }" != 0 ]; then
		n="${n% *} $(babeltrace2 "${dirs[@]}" 2>&1 >/dev/null |
			grep -o 'discarded [0-9]* events' | awk '{s += $2} END {print s + 0}')"
	fi
	echo "$n"
}

echo "bench-pairs: mixed sizes 16..512 B; $runs runs per configuration, 3 timed loops each"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# ---- (a) ----------------------------------------------------------------
# Two trackalloc sessions, one at a time (a process pays for every event
# any active session enables): the compact form (trackalloc:batch, as
# `trackalloc record` records), then the per-call events; the wrapper's
# session stays active throughout and its runs alternate with both.
calls=$(((traced_pairs / 10 + 1 + 3 * traced_pairs) * 2))
bench_session SW 'lttng_ust_libc:*'
lt_session SB
lt_channel "$SB" --buffers-pid --subbuf-size="$subbuf" --num-subbuf="$nsubbuf"
lt_events "$SB" 'trackalloc:*' \
	--exclude 'trackalloc:alloc,trackalloc:alloc_aligned,trackalloc:free,trackalloc:realloc'
lt_start "$SB"
for _ in $(seq "$runs"); do
	# =1 as under trackalloc record: a preloaded library defers LTTng-UST
	one_run a-batch LD_PRELOAD="$lib" TRACKALLOC_LTTNG=1
	one_run a-wrapper LD_PRELOAD="$wrapper"
done
lt_stop "$SB"
lt_session SA
lt_channel "$SA" --buffers-pid --subbuf-size="$subbuf" --num-subbuf="$nsubbuf"
lt_events "$SA" 'trackalloc:*' --exclude 'trackalloc:batch'
lt_start "$SA"
for _ in $(seq "$runs"); do
	one_run a-trackalloc LD_PRELOAD="$lib" TRACKALLOC_LTTNG=1
	one_run a-wrapper LD_PRELOAD="$wrapper"
done
lt_stop "$SA"
lt_stop "$SW"
ta_ns=$(median "$LT_TMP/a-trackalloc.ns")
b_ns=$(median "$LT_TMP/a-batch.ns")
wr_ns=$(median "$LT_TMP/a-wrapper.ns")
read -r ta_rec ta_disc < <(count "$SA" a-trackalloc)
read -r b_rec b_disc < <(count "$SB" a-batch)
read -r wr_rec wr_disc < <(count "$SW" a-wrapper)
# the compact form: what the batches hold, and what the trace weighs
# shellcheck disable=SC2046 # one argument per pid
IFS=: read -r -a b_dirs <<<"$(lt_pid_trace "$(lt_trace_dir "$SB")" $(cat "$LT_TMP/a-batch.pids"))"
b_bytes=$(babeltrace2 "${b_dirs[@]}" 2>/dev/null | grep -o ' length = [0-9]*' |
	awk '{s += $3} END {print s + 0}')
b_trace=$(du -sb "${b_dirs[@]}" | awk '{s += $1} END {print s + 0}')
b_calls=$((calls * runs))
lt_destroy "$SA"
lt_destroy "$SB"
lt_destroy "$SW"
# a configuration that recorded nothing measured nothing
for c in "trackalloc:$ta_rec:$ta_disc" "libc wrapper:$wr_rec:$wr_disc"; do
	IFS=: read -r who rec disc <<<"$c"
	[ $((rec + disc)) -ge $((calls * runs)) ] ||
		lt_fail "(a) $who: $((rec + disc)) events recorded or discarded, $((calls * runs)) expected"
done
# at least 1 byte per call: a compact trace that holds less lost calls
[ "$b_bytes" -ge "$b_calls" ] ||
	lt_fail "(a) trackalloc batches: $b_bytes bytes of records for $b_calls calls"
echo "(a) full tracing, channel: per-process buffers, $nsubbuf x $subbuf sub-buffers per CPU, discard mode"
echo "    $traced_pairs pairs per timed loop; each run makes $calls calls"
row configuration "cpu ns/pair" "wall ns/pair" recorded discarded
row "trackalloc, compact (trackalloc:batch)" "$b_ns" "$(median "$LT_TMP/a-batch.wall")" \
	"$b_rec" "$b_disc"
row "trackalloc, per-call events" "$ta_ns" "$(median "$LT_TMP/a-trackalloc.wall")" \
	"$ta_rec" "$ta_disc"
row "libc wrapper, 'lttng_ust_libc:*'" "$wr_ns" "$(median "$LT_TMP/a-wrapper.wall")" \
	"$wr_rec" "$wr_disc"
row "ratio compact / libc wrapper" "$(ratio "$b_ns" "$wr_ns")" \
	"$(ratio "$(median "$LT_TMP/a-batch.wall")" "$(median "$LT_TMP/a-wrapper.wall")")" \
	"(target <= 0.35)"
row "ratio per-call events / libc wrapper" "$(ratio "$ta_ns" "$wr_ns")" \
	"$(ratio "$(median "$LT_TMP/a-trackalloc.wall")" "$(median "$LT_TMP/a-wrapper.wall")")" \
	"(target <= 1.0)"
echo "    compact: $(awk -v b="$b_bytes" -v c="$b_calls" 'BEGIN {printf "%.2f", b / c}') bytes" \
	"of records per call, $(awk -v b="$b_trace" -v c="$b_calls" 'BEGIN {printf "%.2f", b / c}')" \
	"bytes of trace per call (target <= 12), $b_disc events discarded"
echo "    runs (cpu ns/pair): compact: $(all "$LT_TMP/a-batch.ns")"
echo "                        per-call: $(all "$LT_TMP/a-trackalloc.ns")"
echo "                        libc wrapper: $(all "$LT_TMP/a-wrapper.ns")"
foreign_note a-batch a-trackalloc a-wrapper
echo

# ---- (b) ----------------------------------------------------------------
# First without any session (trackalloc's tracepoints all disabled), then
# with a session recording only group_stats; plain glibc alternates with
# both, so each ratio compares runs made under the same conditions.
for _ in $(seq "$runs"); do
	one_run b-plain0
	one_run b-idle LD_PRELOAD="$lib"
done
bench_session SC 'trackalloc:group_stats'
for _ in $(seq "$runs"); do
	one_run b-plain
	one_run b-counters LD_PRELOAD="$lib" TRACKALLOC_LTTNG=1
done
lt_stop "$SC"
read -r c_rec c_disc < <(count "$SC" b-counters)
lt_destroy "$SC"
p0_ns=$(median "$LT_TMP/b-plain0.ns")
idle_ns=$(median "$LT_TMP/b-idle.ns")
p_ns=$(median "$LT_TMP/b-plain.ns")
c_ns=$(median "$LT_TMP/b-counters.ns")
echo "(b) counters mode: only trackalloc:group_stats (TRACKALLOC_SAMPLE_MS default, 100 ms)"
echo "    $pairs pairs per timed loop"
row configuration "cpu ns/pair" "wall ns/pair" recorded discarded
row "plain glibc (no session)" "$p0_ns" "$(median "$LT_TMP/b-plain0.wall")" - -
row "trackalloc, no session (no LTTng-UST)" "$idle_ns" "$(median "$LT_TMP/b-idle.wall")" - -
row "plain glibc (counters session active)" "$p_ns" "$(median "$LT_TMP/b-plain.wall")" - -
row "trackalloc, counters session" "$c_ns" "$(median "$LT_TMP/b-counters.wall")" \
	"$c_rec" "$c_disc"
row "ratio counters mode / glibc" "$(ratio "$c_ns" "$p_ns")" \
	"$(ratio "$(median "$LT_TMP/b-counters.wall")" "$(median "$LT_TMP/b-plain.wall")")" \
	"(target <= 1.8)"
row "ratio trackalloc without session / glibc" "$(ratio "$idle_ns" "$p0_ns")" \
	"$(ratio "$(median "$LT_TMP/b-idle.wall")" "$(median "$LT_TMP/b-plain0.wall")")"
echo "    runs (cpu ns/pair): glibc: $(all "$LT_TMP/b-plain.ns")"
echo "                        counters: $(all "$LT_TMP/b-counters.ns")"
foreign_note b-idle b-counters
