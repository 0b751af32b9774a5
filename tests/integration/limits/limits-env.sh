#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TRACKALLOC_LIMITS='GROUP=SOFT:HARD;...' on an unmodified program
# (limits-prog.c), preloaded, its allocations charged to the rule group
# "app" (TRACKALLOC_GROUPS='lib:exe=app'):
#  - app=20K:50K refuses exactly what would take app over 51200 bytes, in
#    every allocation function with its own error contract, and the
#    TRACKALLOC_REPORT shows app's peak_bytes, soft_limit and hard_limit;
#  - K, M and G suffixes, 0 for none, several entries, 64 entries;
#  - a malformed value prints exactly one line, "trackalloc:
#    TRACKALLOC_LIMITS ignored: byte P, entry K: REASON", and no limit
#    applies: the program's output and exit status are a plain run's.
#
#   limits-env.sh PROGRAM LIBTRACKALLOC     (PROGRAM: ta-limits-prog)
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source-path=SCRIPTDIR source=../rules/lib.sh
. "$(dirname "$0")/../rules/lib.sh"

prog=$1
lib=$2
[ -x "$prog" ] || ta_fail "no program at $prog"
[ -e "$lib" ] || ta_fail "no library at $lib"
ta_rules_need_python
ta_tmpdir

status=3 # the program exits with what it is given
st=0
"$prog" $status >"$TA_TMP/plain.out" 2>"$TA_TMP/plain.err" || st=$?
[ $st -eq $status ] || { ta_show stderr "$TA_TMP/plain.err"; ta_fail "the plain run exited $st"; }
[ -s "$TA_TMP/plain.err" ] && { ta_show stderr "$TA_TMP/plain.err"; ta_fail "the plain run wrote to stderr"; }
grep -qx 'malloc: 60 blocks of 1024 bytes' "$TA_TMP/plain.out" ||
	{ ta_show plain "$TA_TMP/plain.out"; ta_fail "the plain run was refused something"; }

n=0
# run LIMITS: the program preloaded with the app rule and LIMITS; output,
# stderr and report in $TA_TMP/$n.{out,err,json}. Fails unless it exits
# with $status. With $explicit set, the program registers app itself.
explicit=
run() {
	local st=0 rules='lib:exe=app'
	n=$((n + 1))
	[ -n "$explicit" ] && rules=
	env TRACKALLOC_GROUPS="$rules" TRACKALLOC_LIMITS="$1" TRACKALLOC_REPORT="$TA_TMP/$n.json" \
		LD_PRELOAD="$lib" "$prog" $status $explicit >"$TA_TMP/$n.out" 2>"$TA_TMP/$n.err" || st=$?
	[ $st -eq $status ] || { ta_show stderr "$TA_TMP/$n.err"; ta_fail "case $n (${1:0:60}): exit status $st"; }
}

# app_is SOFT HARD PEAK: app's limits and peak in the last run's report.
app_is() {
	local tag=(--expect-tag "app.rule=lib:exe=app")
	[ -n "$explicit" ] && tag=()
	ta_check_report "$TA_TMP/$n.json" --expect "app.soft_limit=$1" --expect "app.hard_limit=$2" \
		--expect "app.peak_bytes=$3" "${tag[@]}"
}

# ---- limits that apply ------------------------------------------------------

cat >"$TA_TMP/limited.want" <<'EOT'
malloc: 50 blocks of 1024 bytes, then ENOMEM
calloc: ENOMEM
realloc: ENOMEM, the old block intact
posix_memalign: returned ENOMEM, *out untouched
aligned_alloc: ENOMEM
memalign: ENOMEM
valloc: ENOMEM
pvalloc: ENOMEM
after a free: malloc(1024) ok, malloc(1) ENOMEM
EOT

# limited LIMITS SOFT: app's hard limit is 50 KiB: 50 blocks exactly, each
# function refused at the limit, one block freed and allocated again.
limited() {
	run "$1"
	[ -s "$TA_TMP/$n.err" ] && { ta_show stderr "$TA_TMP/$n.err"; ta_fail "case $n ($1): a message"; }
	cmp -s "$TA_TMP/limited.want" "$TA_TMP/$n.out" ||
		{ ta_show expected "$TA_TMP/limited.want"; ta_show got "$TA_TMP/$n.out"; ta_fail "case $n ($1): not refused as expected"; }
	# one thread: the peak is exact, 50 blocks
	app_is "$2" 51200 51200
	echo "limited as expected${explicit:+ (app registered by the program)}: ${1:0:60}"
}

limited 'app=20K:50K' 20480
limited 'app=0:50K' 0
limited 'other=1K:2K;app=20K:50K;third=1M:1G' 20480
limited 'app=20480:51200' 20480
# a group the program registers itself (through the API) is limited the same
explicit=explicit
limited 'app=20K:50K' 20480
explicit=
# 64 entries, the most: taken, the last one applies
many=$(for i in $(seq 63); do printf 'g%d=1K:2K;' "$i"; done)
limited "${many}app=20K:50K" 20480

# unlimited LIMITS SOFT HARD: accepted silently, nothing refused.
unlimited() {
	run "$1"
	[ -s "$TA_TMP/$n.err" ] && { ta_show stderr "$TA_TMP/$n.err"; ta_fail "case $n ($1): a message"; }
	cmp -s "$TA_TMP/plain.out" "$TA_TMP/$n.out" ||
		{ ta_show plain "$TA_TMP/plain.out"; ta_show got "$TA_TMP/$n.out"; ta_fail "case $n ($1): output differs"; }
	app_is "$2" "$3" "$4"
	echo "accepted, nothing refused: $1"
}

# the plain run's peak: 60 blocks, the realloc's growth by a block, and
# the largest of the single allocations made (and freed) while those are
# held, pvalloc's page
page=$(getconf PAGESIZE)
peak=$((61 * 1024 + page))
unlimited 'app=20K:0' 20480 0 $peak
unlimited 'app=0:0' 0 0 $peak
unlimited 'app=1M:2G' 1048576 2147483648 $peak
unlimited 'app=1G:8G' 1073741824 8589934592 $peak
unlimited 'other=1:1' 0 0 $peak
unlimited '' 0 0 $peak

# ---- malformed values: one line, no limit -----------------------------------

prefix='trackalloc: TRACKALLOC_LIMITS ignored: '
notsize="a limit is not a size (bytes, or with K, M or G; 0 for none)"
g256=$(printf 'g%.0s' $(seq 256))

# refused LIMITS LINE: one line on stderr, the prefix and LINE; the plain
# run's output; app without limits.
refused() {
	local got
	run "$1"
	cmp -s "$TA_TMP/plain.out" "$TA_TMP/$n.out" ||
		{ ta_show plain "$TA_TMP/plain.out"; ta_show got "$TA_TMP/$n.out"; ta_fail "case $n (${1:0:60}): output differs: a limit applied"; }
	[ "$(wc -l <"$TA_TMP/$n.err")" -eq 1 ] ||
		{ ta_show stderr "$TA_TMP/$n.err"; ta_fail "case $n (${1:0:60}): not exactly one line on stderr"; }
	got=$(cat "$TA_TMP/$n.err")
	[ "$got" = "$prefix$2" ] || ta_fail "case $n (${1:0:60}): stderr is '$got', expected '$prefix$2'"
	app_is 0 0 $peak
	echo "refused as expected: $got"
}

refused 'app20K:50K' "byte 0, entry 1: missing '=' (GROUP=SOFT:HARD)"
refused 'app=20K' "byte 0, entry 1: missing ':' (GROUP=SOFT:HARD)"
refused 'app=1X:50K' "byte 0, entry 1: $notsize"
refused 'app=20K:1X' "byte 0, entry 1: $notsize"
refused 'app=20k:50k' "byte 0, entry 1: $notsize"
refused 'app=:50K' "byte 0, entry 1: $notsize"
refused 'app=20K:' "byte 0, entry 1: $notsize"
refused 'app=-1:50K' "byte 0, entry 1: $notsize"
refused 'app=20K:50K:60K' "byte 0, entry 1: $notsize"
refused 'app=0:8589934592G' "byte 0, entry 1: $notsize" # 2^63, above INT64_MAX
refused 'app=60K:50K' "byte 0, entry 1: the soft limit is above the hard one"
refused 'root=1K:2K' "byte 0, entry 1: root cannot be limited"
refused '=1K:2K' "byte 0, entry 1: empty group name"
refused "$g256=1K:2K" "byte 0, entry 1: group name longer than 255 bytes"
# refused whole: the good entry before the bad one does not apply either
refused 'app=20K:50K;x=1:' "byte 12, entry 2: $notsize"
refused 'app=20K:50K;other=2K:1K' "byte 12, entry 2: the soft limit is above the hard one"
refused 'app=20K:50K;;x=1:2' "byte 12, entry 2: missing '=' (GROUP=SOFT:HARD)"
refused 'app=20K:50K;' "byte 12, entry 2: missing '=' (GROUP=SOFT:HARD)"
# the first error is the one reported
refused 'x=1:2;root=1:2;=1:2' "byte 6, entry 2: root cannot be limited"
# 65 entries, one too many
refused "${many}x=1:2;app=20K:50K" "byte $((${#many} + 6)), entry 65: more than 64 groups"

echo "TRACKALLOC_LIMITS: $n runs, limits exact, every malformed value refused with one line"
