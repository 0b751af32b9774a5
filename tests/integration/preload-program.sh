#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Run a real Debian program on a workload twice, plain and with libtrackalloc
# preloaded, and check that trackalloc changed nothing the program shows
# (stdout and stderr byte for byte, exit status) and that its JSON report is
# consistent.
#
#   preload-program.sh LIBTRACKALLOC PROGRAM INNER WORKLOAD
#
# PROGRAM: python3 (pymalloc, Python's default), python3-malloc
#          (PYTHONMALLOC=malloc: every object through malloc), python3-fork
#          (PYTHONMALLOC=malloc, a workload that forks while threads
#          allocate; every child that exits normally writes its own report),
#          sqlite3, perl, gcc (compiles the workload: the driver and cc1,
#          whose own operator new calls malloc).
# INNER:   glibc, or jemalloc, tcmalloc or mimalloc (preloaded after
#          libtrackalloc.so, so that it is the allocator trackalloc wraps;
#          tcmalloc's malloc_usable_size allocates on first use and answers 0
#          until its constructor ran).
# TA_PRELOAD_STACKS=MEAN: the traced run also samples stacks (mean MEAN
#          bytes) and writes a profile per process, which must be complete
#          and hold samples; the program's output must still be the same.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"

[ $# -eq 4 ] || { echo "usage: $0 LIBTRACKALLOC PROGRAM INNER WORKLOAD" >&2; exit 2; }
lib=$1 program=$2 inner=$3 workload=$4

[ -e "$lib" ] || ta_fail "no library at $lib"
[ -r "$workload" ] || ta_fail "no workload at $workload"

# min_objects: the least number of allocations the program's report must
# count, a quarter or less of what it makes here on its workload and far
# above what its start-up alone makes: a wrapper that misses calls fails.
# min_reports: the reports expected, one per process that exits normally.
declare -a cmd
run_env=()
min_reports=1
case $program in
python3 | python3-malloc | python3-fork)
	ta_need_exe "$TA_PY"
	cmd=("$TA_PY" "$workload")
	own_code=/python3 # Debian's links libpython statically
	case $program in
	python3) min_objects=3000 ;;
	python3-malloc)
		run_env=(PYTHONMALLOC=malloc)
		min_objects=500000
		;;
	python3-fork)
		run_env=(PYTHONMALLOC=malloc)
		min_objects=500000
		min_reports=5
		;;
	esac
	;;
sqlite3)
	tool=$(command -v sqlite3 || true)
	ta_need_exe "${tool:-/usr/bin/sqlite3}"
	cmd=("$tool") # the database path is appended per run
	own_code=libsqlite3
	min_objects=40000
	;;
perl)
	tool=$(command -v perl || true)
	ta_need_exe "${tool:-/usr/bin/perl}"
	cmd=("$tool" "$workload")
	own_code='libperl|/perl$'
	min_objects=140000
	;;
gcc)
	tool=$(command -v gcc || true)
	ta_need_exe "${tool:-/usr/bin/gcc}"
	cmd=("$tool" -O2 -x c -S -o - -)
	own_code=/gcc
	min_objects=60 # the driver: cc1, a child, makes 100 times more
	min_reports=2 # the driver and cc1
	;;
*)
	echo "unknown program '$program'" >&2
	exit 2
	;;
esac

case $inner in
glibc)
	preload=$lib
	fast=1
	;;
jemalloc | tcmalloc | mimalloc)
	case $inner in
	jemalloc) so=$TA_JEMALLOC pkg=libjemalloc2 ;;
	tcmalloc) so=$TA_TCMALLOC pkg=libtcmalloc-minimal4 ;;
	mimalloc) so=$TA_MIMALLOC pkg=libmimalloc2.0 ;;
	esac
	[ -e "$so" ] || ta_skip "$inner ($so) is not installed ($pkg)"
	preload="$lib $so"
	fast=0
	;;
*)
	echo "unknown inner allocator '$inner'" >&2
	exit 2
	;;
esac

ta_tmpdir

# run NAME [VAR=VALUE...]: run the program with a clean environment for
# everything trackalloc, LD_PRELOAD and the hash seeds; outputs in $TA_TMP,
# and the program's pid (env execs it) in $TA_TMP/NAME.pid.
run() {
	local name=$1 status=0 pid
	shift
	local -a argv=("${cmd[@]}")
	if [ "$program" = sqlite3 ]; then
		argv+=("$TA_TMP/$name.db")
	fi
	env -u LD_PRELOAD -u TRACKALLOC_REPORT -u TRACKALLOC_LTTNG -u TRACKALLOC_SAMPLE_MS \
		-u TRACKALLOC_STACKS -u TRACKALLOC_STACKS_SEED -u TRACKALLOC_PROFILE \
		-u PYTHONMALLOC PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 LC_ALL=C.UTF-8 \
		"${run_env[@]}" "$@" "${argv[@]}" \
		<"$workload" >"$TA_TMP/$name.out" 2>"$TA_TMP/$name.err" &
	pid=$!
	wait "$pid" || status=$?
	echo "$pid" >"$TA_TMP/$name.pid"
	echo "$status" >"$TA_TMP/$name.status"
}

# %p: the library writes one report per process, named by its pid.
mkdir "$TA_TMP/reports"
stacks_env=()
if [ -n "${TA_PRELOAD_STACKS:-}" ]; then
	stacks_env=(TRACKALLOC_STACKS="$TA_PRELOAD_STACKS"
		TRACKALLOC_PROFILE="$TA_TMP/reports/profile.%p")
fi
run plain
run traced LD_PRELOAD="$preload" TRACKALLOC_REPORT="$TA_TMP/reports/report.%p.json" \
	"${stacks_env[@]}"
main_report=$TA_TMP/reports/report.$(cat "$TA_TMP/traced.pid").json

plain_status=$(cat "$TA_TMP/plain.status")
traced_status=$(cat "$TA_TMP/traced.status")
echo "$program ($inner): exit status plain $plain_status, with trackalloc $traced_status;" \
	"stdout $(wc -c <"$TA_TMP/plain.out") bytes"

failed=0
if [ "$plain_status" != 0 ]; then
	ta_show "plain stderr" "$TA_TMP/plain.err"
	ta_fail "the workload itself fails without trackalloc (status $plain_status)"
fi
if [ "$traced_status" != "$plain_status" ]; then
	echo "FAIL: exit status $traced_status with trackalloc, $plain_status without"
	failed=1
fi
for stream in out err; do
	if ! cmp -s "$TA_TMP/plain.$stream" "$TA_TMP/traced.$stream"; then
		echo "FAIL: std$stream differs with trackalloc:"
		diff -u "$TA_TMP/plain.$stream" "$TA_TMP/traced.$stream" | head -n 40 || true
		failed=1
	fi
done
if [ ! -s "$main_report" ]; then
	ta_show "stderr with trackalloc" "$TA_TMP/traced.err"
	ls -l "$TA_TMP/reports"
	ta_fail "no TRACKALLOC_REPORT written by the program (pid $(cat "$TA_TMP/traced.pid"))"
fi
reports=("$TA_TMP"/reports/report.*.json)
if [ "${#reports[@]}" -lt "$min_reports" ]; then
	echo "FAIL: ${#reports[@]} report(s), expected at least $min_reports (one per process)"
	failed=1
fi
for report in "${reports[@]}"; do
	min=1
	if [ "$report" = "$main_report" ]; then
		min=$min_objects
	fi
	if ! "$TA_PY" "$here/check-report.py" "$report" --min-objects "$min" \
		--fast-usable-size "$fast"; then
		ta_show "report" "$report"
		failed=1
	fi
done
if [ -n "${TA_PRELOAD_STACKS:-}" ]; then
	profile=$TA_TMP/reports/profile.$(cat "$TA_TMP/traced.pid")
	# complete: the first line, then "end N" with N the site records
	if [ ! -s "$profile" ] || [ "$(head -n 1 "$profile")" != "trackalloc-profile 1" ] ||
		[ "$(tail -n 1 "$profile")" != "end $(grep -c '^site ' "$profile")" ]; then
		echo "FAIL: the profile of the program is missing or incomplete"
		ls -l "$TA_TMP/reports"
		failed=1
	elif ! awk -v code="$own_code" '
		$1 == "module" && $5 ~ code { mine[$2] = 1 }
		$1 == "stack" { for (i = 3; i <= NF; i++) { split($i, f, "+"); if (f[1] in mine) found = 1 } }
		END { exit !found }' "$profile"; then
		echo "FAIL: no sampled stack has a frame in the program's code ($own_code)"
		head -n 20 "$profile"
		failed=1
	else
		echo "profile: $(grep -c '^site ' "$profile") sites, $(grep -c '^stack ' "$profile")" \
			"stacks, $(grep -c '^module ' "$profile") modules"
	fi
fi
if [ "$failed" != 0 ]; then
	ta_show "stderr with trackalloc" "$TA_TMP/traced.err"
	exit 1
fi
echo "PASS: $program ($inner)${TA_PRELOAD_STACKS:+, sampling every $TA_PRELOAD_STACKS bytes}"
