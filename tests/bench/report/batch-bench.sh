#!/bin/bash
# SPDX-License-Identifier: MIT
#
# trackalloc-report on a trackalloc:batch trace of several million calls
# (tracepoints/EVENTS.md, "Compact full traces"): make-batch-ctf.py writes
# a synthetic one (four threads of one process, a glibc-like heap: chunks
# bumped from per-thread arenas and reused last-in first-out per size
# class, a 3 GHz TSC, the library's 2^16-tick time quantum, 16 KB
# buffers), then the report reads it end to end, RUNS times; each run's
# wall-clock and CPU call rates are printed (target: 10 M calls/s), and
# the trace's bytes per call (the library's target: 12 at most). Timing
# never fails the benchmark; a missing python3 skips it (77).
#
#   batch-bench.sh TRACKALLOC_REPORT MAKE_BATCH_CTF [CALLS [RUNS]]
set -uo pipefail

[ $# -ge 2 ] || { echo "usage: $0 TRACKALLOC_REPORT MAKE_BATCH_CTF [CALLS [RUNS]]" >&2; exit 2; }
report=$1 gen=$2 calls=${3:-4000000} runs=${4:-3}
PY=/usr/bin/python3

. "$(dirname "$0")/../../integration/common.sh"
ta_need_exe "$PY"
ta_need_exe /usr/bin/time

tmp=$(mktemp -d "${TMPDIR:-/tmp}/trackalloc-batch-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "writing a synthetic batch trace of $calls calls (python, about 10 s a million)..."
"$PY" "$gen" "$tmp/trace" --form batches --calls "$calls" --threads 4 --procs 1 \
	--quantum 65536 --ratio 3 --gap-ns 600 --bufsize 16000 >"$tmp/gen.json" ||
	{ echo "make-batch-ctf.py failed" >&2; exit 1; }
json() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$tmp/gen.json" "$1"; }

for i in $(seq "$runs"); do
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$report" --format tsv "$tmp/trace" \
		>"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; echo "trackalloc-report failed" >&2; exit 1; }
	read -r wall user sys rss <"$tmp/time"
	decoded=$(awk -F'\t' '$1 == "# batch_calls" { print $2 }' "$tmp/out")
	[ "$decoded" = "$calls" ] || echo "warning: the report decoded $decoded calls of $calls"
	awk -v n="$calls" -v w="$wall" -v u="$user" -v s="$sys" -v rss="$rss" -v i="$i" 'BEGIN {
		cpu = u + s
		printf "run %d: %.2f s wall, %.2f s CPU: %.2f M calls/s wall, %.2f M calls/s CPU (target >= 10), max RSS %d KiB\n",
			i, w, cpu, (w > 0 ? n / w / 1e6 : 0), (cpu > 0 ? n / cpu / 1e6 : 0), rss
	}'
done
awk -v n="$calls" -v t="$(json trace_bytes)" -v b="$(json batch_bytes)" -v nb="$(json batches)" 'BEGIN {
	printf "trace: %d calls in %d batches, %d bytes of stream files: %.2f bytes/call (%.2f in records; the library targets <= 12)\n",
		n, nb, t, t / n, b / n
}'
exit 0
