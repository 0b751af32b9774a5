#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The README's limits example (examples/limits.c), linked against
# libtrackalloc: the cache group trims itself each time it passes its soft
# limit (4 MiB of 4 KiB entries: the 1025th entry), and the one request in
# 250 that asks for 64 MiB meets the request group's 16 MiB hard limit and
# fails with ENOMEM while every other request is served. Check the printed
# counts against that, and the exit report's peak and limits.
#
#   limits-example.sh TRACKALLOC-LIMITS
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"

[ $# -eq 1 ] || { echo "usage: $0 TRACKALLOC-LIMITS" >&2; exit 2; }
prog=$1
requests=2000

ta_need_exe "$TA_PY"
ta_tmpdir
env -u LD_PRELOAD TRACKALLOC_LTTNG=0 TRACKALLOC_REPORT="$TA_TMP/report.json" \
	"$prog" "$requests" >"$TA_TMP/out" || ta_fail "trackalloc-limits exited with status $?"
cat "$TA_TMP/out"

refused=$(grep -c 'bytes refused (Cannot allocate memory)' "$TA_TMP/out" || true)
[ "$refused" -eq $((requests / 250)) ] ||
	ta_fail "$refused requests refused, expected $((requests / 250))"
trims=$(grep -c '^  cache over its soft limit at 4198400 bytes: trimmed to 512 entries$' \
	"$TA_TMP/out" || true)
# 1025 entries cross 4 MiB; a trim keeps 512, so 513 more cross again
want_trims=$(( (requests - 1025) / 513 + 1 ))
[ "$trims" -eq "$want_trims" ] || ta_fail "$trims trims, expected $want_trims"
grep -qx "$((requests - requests / 250)) of $requests requests served; cache: [0-9]* entries, $want_trims trims, peak 4198400 bytes" \
	"$TA_TMP/out" || ta_fail "unexpected summary line"

"$TA_PY" - "$TA_TMP/report.json" <<'PY'
import json, sys
groups = {g["name"]: g for g in json.load(open(sys.argv[1]))["groups"]}
c, r = groups["cache"], groups["request"]
assert (c["soft_limit"], c["hard_limit"]) == (4 << 20, 8 << 20), c
assert (r["soft_limit"], r["hard_limit"]) == (0, 16 << 20), r
assert c["peak_bytes"] == 4198400, c["peak_bytes"]
# a request's 64 KiB scratch, plus stdout's buffer: the first refusal's
# printf allocates it inside the request group, where it stays live
assert r["peak_bytes"] == (64 << 10) + r["live_bytes"], r
assert c["live_bytes"] == 0 and 0 < r["live_bytes"] <= 8192, (c, r)
PY
echo "ok: $refused refusals, $trims trims, peaks and limits in the report"
