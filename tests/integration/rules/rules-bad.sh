#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Malformed TRACKALLOC_GROUPS values: each is refused whole with one line
# on stderr, "trackalloc: TRACKALLOC_GROUPS ignored: byte P, rule K:
# REASON", and the program runs on as without rules: the same output and
# exit status as a plain run, no group made by a rule (the program's own
# explicit groups only). The longest valid rule set (TA_RULES_MAX rules)
# is taken, silently.
#
#   rules-bad.sh PROGRAM LIBTRACKALLOC     (PROGRAM: ta-rules-threads)
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

prog=$1
lib=$2
[ -x "$prog" ] || ta_fail "no program at $prog"
[ -e "$lib" ] || ta_fail "no library at $lib"
ta_rules_need_python
ta_tmpdir

status=5 # the program exits with what it is given
st=0
"$prog" $status >"$TA_TMP/plain.out" 2>"$TA_TMP/plain.err" || st=$?
[ $st -eq $status ] || { ta_show stderr "$TA_TMP/plain.err"; ta_fail "the plain run exited $st"; }

prefix='trackalloc: TRACKALLOC_GROUPS ignored: '
g256=$(printf 'g%.0s' $(seq 256))
many=$(printf 'thread:a=b;%.0s' $(seq 32))thread:a=b
n=0

# refused RULES LINE [LINE2]: RULES refused with the one line LINE (or
# LINE2: two wordings the contract allows), after the prefix.
refused() {
	local rules=$1 want=$2 alt=${3:-} st=0 got
	n=$((n + 1))
	env TRACKALLOC_GROUPS="$rules" TRACKALLOC_REPORT="$TA_TMP/$n.json" LD_PRELOAD="$lib" \
		"$prog" $status >"$TA_TMP/$n.out" 2>"$TA_TMP/$n.err" || st=$?
	[ $st -eq $status ] || { ta_show stderr "$TA_TMP/$n.err"; ta_fail "case $n ($rules): exit status $st"; }
	cmp -s "$TA_TMP/plain.out" "$TA_TMP/$n.out" || ta_fail "case $n ($rules): stdout differs"
	[ "$(wc -l <"$TA_TMP/$n.err")" -eq 1 ] ||
		{ ta_show stderr "$TA_TMP/$n.err"; ta_fail "case $n ($rules): not exactly one line on stderr"; }
	got=$(cat "$TA_TMP/$n.err")
	if [ "$got" != "$prefix$want" ] && { [ -z "$alt" ] || [ "$got" != "$prefix$alt" ]; }; then
		[ -n "$alt" ] && want="$want' or '$alt"
		ta_fail "case $n (${rules:0:60}): stderr is '$got', expected '$prefix$want'"
	fi
	ta_report_py "$TA_TMP/$n.json" '
names = [g["name"] for g in r["groups"]]
if names != ["root", "explicit", "spawn"]:
    fail("groups %r: a rule made a group although the rule set was refused" % names)'
	echo "refused as expected: $got"
}

refused 'thread:=x' "byte 7, rule 1: empty glob"
refused 'lib:foo' "byte 7, rule 1: missing '=' (KIND:GLOB=GROUP)"
refused 'thread:io' "byte 9, rule 1: missing '=' (KIND:GLOB=GROUP)"
refused 'proc:x=y' "byte 0, rule 1: unknown kind 'proc' (thread or lib)"
refused 'threadio=io' "byte 0, rule 1: missing ':' (KIND:GLOB=GROUP)"
# a group name over TA_GROUP_NAME_MAX (255) bytes: the rule, the "rule"
# tag's value, is over its limit too
refused "thread:io=io;lib:*=$g256" "byte 13, rule 2: rule longer than 255 bytes" \
	"byte 19, rule 2: group name longer than 255 bytes"
refused "$many" "byte 352, rule 33: more than 32 rules"
refused 'lib:*=%q' "byte 6, rule 1: unknown escape '%q' (%n: the name, %%: '%')"
refused 'lib:*=a%' "byte 7, rule 1: '%' at the end of the group name (%n: the name, %%: '%')"
refused 'lib:*=' "byte 6, rule 1: empty group name"
# refused whole: a good rule before the bad one is not applied either
refused 'thread:io=io;proc:x=y' "byte 13, rule 2: unknown kind 'proc' (thread or lib)"
refused 'thread:io=io;' "byte 13, rule 2: empty rule"
refused ';thread:io=io' "byte 0, rule 1: empty rule"
# the first error is the one reported
refused 'thread:io=io;lib:*=%q;proc:x=y' "byte 19, rule 2: unknown escape '%q' (%n: the name, %%: '%')"

# TA_RULES_MAX rules exactly: taken, the last one applies.
rules=$(printf 'thread:nomatch=x;%.0s' $(seq 31))thread:io=io
st=0
env TRACKALLOC_GROUPS="$rules" TRACKALLOC_REPORT="$TA_TMP/max.json" LD_PRELOAD="$lib" \
	"$prog" $status >"$TA_TMP/max.out" 2>"$TA_TMP/max.err" || st=$?
[ $st -eq $status ] || ta_fail "32 rules: exit status $st"
[ -s "$TA_TMP/max.err" ] && { ta_show stderr "$TA_TMP/max.err"; ta_fail "32 rules: a message"; }
ta_check_report "$TA_TMP/max.json" --expect io.allocated_bytes=52416 --expect io.allocated_objects=9 \
	--expect-tag "io.rule=thread:io=io"
# An empty value is no rules, silently.
st=0
env TRACKALLOC_GROUPS= LD_PRELOAD="$lib" "$prog" $status >"$TA_TMP/empty.out" 2>"$TA_TMP/empty.err" || st=$?
if [ $st -ne $status ] || [ -s "$TA_TMP/empty.err" ]; then
	ta_fail "TRACKALLOC_GROUPS='': exit status $st, or a message"
fi
echo "bad rules: $n refused with their reason and position, the program unchanged"
