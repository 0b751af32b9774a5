#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lib rules on an unmodified program: Debian's python3 (libpython linked
# statically: its own code is exe) running sqlite3 and json
# (python-workload.py) with lib:libsqlite3*=sqlite;lib:exe=python. Its
# output and exit status are those of a plain run; both groups count
# allocations and frees, carry their rule's tag, and every group of the
# report is balanced.
#
#   rules-python.sh LIBTRACKALLOC
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib=$1
workload=$TA_RULES_DIR/python-workload.py
[ -e "$lib" ] || ta_fail "no library at $lib"
ta_rules_need_python
"$TA_PY" -c 'import sqlite3' 2>/dev/null || ta_skip "$TA_PY has no sqlite3 module"
ta_tmpdir

st0=0 st1=0
"$TA_PY" "$workload" >"$TA_TMP/plain.out" 2>"$TA_TMP/plain.err" || st0=$?
[ $st0 -eq 0 ] || { ta_show stderr "$TA_TMP/plain.err"; ta_fail "the workload fails without the preload"; }
rules='lib:libsqlite3*=sqlite;lib:exe=python'
env TRACKALLOC_GROUPS="$rules" TRACKALLOC_REPORT="$TA_TMP/report.json" LD_PRELOAD="$lib" \
	"$TA_PY" "$workload" >"$TA_TMP/rules.out" 2>"$TA_TMP/rules.err" || st1=$?
[ $st1 -eq $st0 ] || { ta_show stderr "$TA_TMP/rules.err"; ta_fail "exit status $st1 preloaded, $st0 plain"; }
cmp -s "$TA_TMP/plain.out" "$TA_TMP/rules.out" ||
	{ ta_show plain "$TA_TMP/plain.out"; ta_show preloaded "$TA_TMP/rules.out"; ta_fail "stdout differs"; }
cmp -s "$TA_TMP/plain.err" "$TA_TMP/rules.err" ||
	{ ta_show preloaded-stderr "$TA_TMP/rules.err"; ta_fail "stderr differs"; }

# balanced: live = allocated - freed >= 0 in every group, objects likewise
ta_check_report "$TA_TMP/report.json" --min-objects 10000 \
	--expect-tag "sqlite.rule=lib:libsqlite3*=sqlite" --expect-tag "python.rule=lib:exe=python"
ta_report_py "$TA_TMP/report.json" '
for name in ("sqlite", "python"):
    g = groups.get(name)
    if g is None:
        fail("no group %s" % name)
    for f in ("allocated_bytes", "allocated_objects", "freed_bytes", "freed_objects"):
        if g[f] <= 0:
            fail("%s.%s is %d" % (name, f, g[f]))
    print("%s: %d bytes in %d objects allocated, %d live bytes"
          % (name, g["allocated_bytes"], g["allocated_objects"], g["live_bytes"]))
# sqlite holds thousands of rows and an index: far more than a handful
if groups["sqlite"]["allocated_objects"] < 1000:
    fail("sqlite made only %d allocations" % groups["sqlite"]["allocated_objects"])
ruled = sorted(g["name"] for g in r["groups"] if "rule" in g["tags"])
if ruled != ["python", "sqlite"]:
    fail("groups made by rules: %r" % ruled)'
echo "python3 + sqlite3 + json: same output, sqlite and python groups, balanced"
