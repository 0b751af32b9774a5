#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lib rules from TRACKALLOC_GROUPS: every library of the program's own
# (libs.c, lib-work.c) is charged exactly what it allocated, through strdup
# and fopen too (the rule looks through libc up the stack), a dlopened
# library at each of its addresses, a library loaded where a dlclosed one
# was gets its own group; the program's own calls go to exe; frees credit
# the group that allocated.
#
#   rules-libs.sh PROGRAM LIBTRACKALLOC LIBC LIBD stacks|no-stacks
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

prog=$1 lib=$2 libc=$3 libd=$4 stacks=$5
[ -x "$prog" ] || ta_fail "no program at $prog"
[ -e "$lib" ] || ta_fail "no library at $lib"
# Through libc the rule needs a stack walk: libunwind, at build and run time.
[ "$stacks" = stacks ] || ta_skip "libtrackalloc was built without libunwind (-Dstacks)"
# grep reads it all: with -q, ldconfig's SIGPIPE fails the pipe under pipefail
/sbin/ldconfig -p | grep 'libunwind\.so\.8 ' >/dev/null || ta_skip "libunwind.so.8 is not installed"
ta_rules_need_python
ta_tmpdir

# run NAME RULES: the program preloaded with RULES, report in NAME.json;
# sets fb/fo to what one fopen allocates.
run() {
	local name=$1 rules=$2 st=0 line
	env TRACKALLOC_GROUPS="$rules" TRACKALLOC_REPORT="$TA_TMP/$name.json" LD_PRELOAD="$lib" \
		"$prog" "$libc" "$libd" >"$TA_TMP/$name.out" 2>"$TA_TMP/$name.err" || st=$?
	cat "$TA_TMP/$name.out"
	case $st in
	0) ;;
	3) ta_fail "$name: the loader put c back at its old address in spite of the placeholder" ;;
	*) ta_show stderr "$TA_TMP/$name.err"; ta_fail "$name: the program failed ($st)" ;;
	esac
	[ -s "$TA_TMP/$name.err" ] && { ta_show stderr "$TA_TMP/$name.err"; ta_fail "$name: stderr not empty"; }
	line=$(grep '^fopen_bytes=' "$TA_TMP/$name.out") || ta_fail "$name: no fopen measure"
	fb=${line#fopen_bytes=}
	fb=${fb%% *}
	fo=${line##*fopen_objects=}
	[ "$fo" -ge 1 ] || ta_fail "$name: fopen allocated $fo objects"
}

# expect_lib GROUP K TIMES: lib-work.c's amounts for factor K, TIMES calls.
expect_lib() {
	local g=$1 k=$2 n=$3 b o
	b=$(((407 * k + 5 + fb) * n))
	o=$(((5 + fo) * n))
	echo "--expect=$g.allocated_bytes=$b --expect=$g.allocated_objects=$o" \
		"--expect=$g.freed_bytes=$b --expect=$g.freed_objects=$o"
}

# 1. %n: one group per library, its name without .so and version; exe.
rules='lib:*=%n'
run names "$rules"
exe_b=$((12541 + fb)) exe_o=$((4 + fo))
# shellcheck disable=SC2046 # expect_lib's words are separate arguments
ta_check_report "$TA_TMP/names.json" \
	$(expect_lib libta-rules-a 1 2) $(expect_lib libta-rules-b 2 2) \
	$(expect_lib libta-rules-c 3 2) $(expect_lib libta-rules-d 4 1) \
	--expect exe.allocated_bytes=$exe_b --expect exe.allocated_objects=$exe_o \
	--expect exe.freed_bytes=$exe_b --expect exe.freed_objects=$exe_o \
	--expect-tag "libta-rules-a.rule=$rules" --expect-tag "libta-rules-b.rule=$rules" \
	--expect-tag "exe.rule=$rules"
ta_report_py "$TA_TMP/names.json" '
for name in ("libta-rules-b.so", "libta-rules-b.so.3", "libta-rules-c.so"):
    if name in groups:
        fail("a group is named %r: %%n keeps the .so suffix" % name)'

# 2. Globs (a and b, twice each), first match, and libraries no rule matches: c and d stay in
#    the thread's group (root; no thread rule here).
rules='lib:libta-rules-[ab].so*=ab;lib:exe=main;lib:libta-rules-a*=never'
run globs "$rules"
ab_b=$((2 * (407 * 3 + 10 + 2 * fb))) ab_o=$((2 * (10 + 2 * fo)))
ta_check_report "$TA_TMP/globs.json" \
	--expect ab.allocated_bytes=$ab_b --expect ab.allocated_objects=$ab_o \
	--expect ab.freed_bytes=$ab_b --expect ab.freed_objects=$ab_o \
	--expect main.allocated_bytes=$exe_b --expect main.allocated_objects=$exe_o \
	--expect-tag "ab.rule=lib:libta-rules-[ab].so*=ab" --expect-tag "main.rule=lib:exe=main"
ta_report_py "$TA_TMP/globs.json" '
if "never" in groups:
    fail("a rule after the first match made its group")
root = groups["root"]
# c twice and d, through root
least = (407 * 3 + 5 + '"$fb"') * 2 + 407 * 4 + 5 + '"$fb"'
if root["allocated_bytes"] < least:
    fail("root has %d bytes, less than c and d allocated (%d)" % (root["allocated_bytes"], least))'

# 3. A lib rule and a thread rule: the lib rule is tried first (d), and
#    the thread rule catches every call no lib rule matches (the main
#    thread's name is the program's): exe's, a's, b's and c's, exactly.
rules='thread:ta-rules-*=thr;lib:libta-rules-d*=d'
run mixed "$rules"
c_b=$((2 * (407 * 3 + 5 + fb))) c_o=$((2 * (5 + fo)))
thr_b=$((exe_b + ab_b + c_b)) thr_o=$((exe_o + ab_o + c_o))
# shellcheck disable=SC2046
ta_check_report "$TA_TMP/mixed.json" $(expect_lib d 4 1) \
	--expect thr.allocated_bytes=$thr_b --expect thr.allocated_objects=$thr_o \
	--expect thr.freed_bytes=$thr_b --expect thr.freed_objects=$thr_o \
	--expect-tag "d.rule=lib:libta-rules-d*=d" --expect-tag "thr.rule=thread:ta-rules-*=thr"
echo "lib rules: exact counters per library, through libc, across dlclose and dlopen"
