#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The code a preloaded process runs when it only starts, allocates and
# exits lies together at the start of the library's text (TA_START,
# lib/ta-internal.h), so that the process keeps few of the library's pages
# resident (the kernel maps a file's pages in around each fault, 64 KiB at a
# time by default). callgrind lists the library's functions that unmodified
# programs (cat, sort) execute: together they must span at most 48 KiB of
# the text (the text is about 90 KiB). Those that lie apart are named.
#
#   startup-layout.sh LIBTRACKALLOC
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
lib=$(readlink -f "${1:?usage: $0 LIBTRACKALLOC}")
command -v valgrind >/dev/null 2>&1 || ta_skip "valgrind is not installed"
command -v readelf >/dev/null 2>&1 || ta_skip "readelf is not installed"
ta_tmpdir

seq 2000 | sort -R > "$TA_TMP/numbers"
n=0
for prog in "cat /proc/self/status" "sort -n $TA_TMP/numbers"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	env LD_PRELOAD="$lib" valgrind -q --tool=callgrind \
		--callgrind-out-file="$TA_TMP/cg.$n" $prog > /dev/null 2> "$TA_TMP/vg.$n" || {
		echo "FAIL: $prog under callgrind:" >&2
		cat "$TA_TMP/vg.$n" >&2
		exit 1
	}
done
# the library's functions that ran, as callgrind_annotate names them
for f in "$TA_TMP"/cg.*; do
	callgrind_annotate --threshold=100 --inclusive=no "$f" 2>/dev/null
done | sed -n 's/.*:\([A-Za-z_][A-Za-z_0-9.]*\) \[\(.*libtrackalloc[^]]*\)\]$/\1/p' | sort -u > "$TA_TMP/ran"
"${TA_PYTHON:-python3}" - "$lib" "$TA_TMP/ran" <<'PY'
import subprocess, sys

LIMIT = 48 << 10
lib, ran = sys.argv[1], sorted(set(open(sys.argv[2]).read().split()))
syms = {}
for line in subprocess.run(["readelf", "-sW", lib], capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if len(f) >= 8 and f[3] == "FUNC" and f[6] != "UND" and f[2] != "0":
        # readelf prints sizes over 99999 in hex
        syms.setdefault(f[7].split("@")[0], []).append((int(f[1], 16), int(f[2], 0)))
if len(ran) < 10:
    sys.exit(f"FAIL: callgrind shows only {ran} of the library running")
spans = sorted((a, a + n, f) for f in ran if f in syms for a, n in syms[f])
lo, hi = spans[0][0], max(e for _, e, _ in spans)
print(f"{len(ran)} functions of the library ran, over {hi - lo} bytes of its text "
      f"({lo:#x}-{hi:#x}; at most {LIMIT})")
if hi - lo > LIMIT:
    far = [f for a, e, f in spans if e > lo + LIMIT]
    sys.exit("FAIL: these run in every process and lie apart from the others: "
             + " ".join(far) + " (mark them TA_START, lib/ta-internal.h)")
PY
