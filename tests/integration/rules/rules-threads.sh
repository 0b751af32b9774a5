#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Thread rules from TRACKALLOC_GROUPS on a program whose threads are named
# in every way (threads.c says who allocates what): exact counters for each
# rule group, the rule tag, an explicit group that beats the rules, a
# rename by another thread, a rename mid-run, a name inherited by a new
# thread, frees credited to the group that allocated.
#
#   rules-threads.sh PROGRAM LIBTRACKALLOC
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

# run NAME RULES: the program preloaded with RULES; its report in
# $TA_TMP/NAME.json. Nothing on stderr, the plain run's output.
run() {
	local name=$1 rules=$2
	env TRACKALLOC_GROUPS="$rules" TRACKALLOC_REPORT="$TA_TMP/$name.json" LD_PRELOAD="$lib" \
		"$prog" >"$TA_TMP/$name.out" 2>"$TA_TMP/$name.err" ||
		{ ta_show stderr "$TA_TMP/$name.err"; ta_fail "$name: the program failed"; }
	[ -s "$TA_TMP/$name.err" ] && { ta_show stderr "$TA_TMP/$name.err"; ta_fail "$name: stderr not empty"; }
	cmp -s "$TA_TMP/plain.out" "$TA_TMP/$name.out" ||
		{ ta_show plain "$TA_TMP/plain.out"; ta_show "$name" "$TA_TMP/$name.out"; ta_fail "$name: output differs"; }
}

"$prog" >"$TA_TMP/plain.out" 2>"$TA_TMP/plain.err" ||
	{ ta_show stderr "$TA_TMP/plain.err"; ta_fail "the program failed without the preload"; }

# 1. The issue's rules: two rule groups, exact; the explicit group wins.
rules='thread:worker-*=workers;thread:io=io'
run groups "$rules"
ta_check_report "$TA_TMP/groups.json" \
	--expect workers.allocated_bytes=18521 --expect workers.allocated_objects=13 \
	--expect workers.freed_bytes=18521 --expect workers.freed_objects=13 \
	--expect io.allocated_bytes=52416 --expect io.allocated_objects=9 \
	--expect io.freed_bytes=52416 --expect io.freed_objects=9 \
	--expect explicit.allocated_bytes=1250 --expect explicit.allocated_objects=3 \
	--expect explicit.freed_bytes=1250 --expect explicit.freed_objects=3 \
	--expect-tag "workers.rule=thread:worker-*=workers" --expect-tag "io.rule=thread:io=io"
# the rule groups have that one tag, the program's own groups none
ta_report_py "$TA_TMP/groups.json" '
for name, tags in (("workers", {"rule": "thread:worker-*=workers"}),
                   ("io", {"rule": "thread:io=io"}), ("explicit", {}), ("spawn", {})):
    if groups[name]["tags"] != tags:
        fail("%s has tags %r, expected %r" % (name, groups[name]["tags"], tags))
ruled = sorted(g["name"] for g in r["groups"] if "rule" in g["tags"])
if ruled != ["io", "workers"]:
    fail("groups made by rules: %r, expected io and workers" % ruled)'

# 2. %n: one group per thread name; the same io group.
rules='thread:worker-*=w-%n;thread:io=io'
run names "$rules"
ta_check_report "$TA_TMP/names.json" \
	--expect w-worker-1.allocated_bytes=3144 --expect w-worker-1.allocated_objects=6 \
	--expect w-worker-2.allocated_bytes=5200 --expect w-worker-2.allocated_objects=3 \
	--expect w-worker-3.allocated_bytes=10177 --expect w-worker-3.allocated_objects=4 \
	--expect w-worker-3.freed_bytes=10177 --expect w-worker-3.freed_objects=4 \
	--expect io.allocated_bytes=52416 --expect io.allocated_objects=9 \
	--expect explicit.allocated_bytes=1250 \
	--expect-tag "w-worker-1.rule=thread:worker-*=w-%n" \
	--expect-tag "w-worker-3.rule=thread:worker-*=w-%n" \
	--expect-tag "io.rule=thread:io=io"

# 3. First matching rule wins: io threads match the first rule here, the
#    workers the second (a glob of several characters' classes).
rules='thread:i?=first;thread:worker-[12]=early;thread:*o*=late'
run order "$rules"
ta_check_report "$TA_TMP/order.json" \
	--expect first.allocated_bytes=52416 --expect first.allocated_objects=9 \
	--expect early.allocated_bytes=8344 --expect early.allocated_objects=9 \
	--expect late.allocated_bytes=10177 --expect late.allocated_objects=4 \
	--expect-tag "late.rule=thread:*o*=late"
echo "thread rules: exact counters per rule group, tags, explicit group, renames, inheritance"
