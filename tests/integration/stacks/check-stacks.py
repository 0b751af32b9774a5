#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The sites trackalloc report found against what stacks-prog allocated.

    check-stacks.py exact|sampled TRUTH REPORT_TSV

TRUTH: stacks-prog's stdout (SITE lines). REPORT_TSV: `trackalloc report
--format tsv --top 0` of its profile or trace. Each SITE must be exactly one
row of its group, named by its function (C++: demangled, with parameters),
file and line, in the right module, inlined into the right function.
 exact:   (TRACKALLOC_STACKS=1) samples, bytes and estimates equal the
          truth; the two groups hold these four sites and nothing else.
 sampled: (mean 64 KiB) allocated estimates within 10% of the truth (every
          site allocates at least 8 MiB); live estimates within 10% where at
          least 32 MiB stay live, 25% where at least 8 MiB do; the live share
          (live / allocated estimate) within 0.1 of the true share, so frees
          show.
Exit status 0 when everything holds, 1 otherwise (each difference printed).
"""
import os
import sys

COLS = ("pid group_id group rank live_estimate live_bytes live_objects peak_estimate "
        "alloc_estimate alloc_bytes alloc_objects function file line module offset "
        "inlined_into caller").split()
NUMS = {"live_estimate", "live_bytes", "live_objects", "peak_estimate", "alloc_estimate",
        "alloc_bytes", "alloc_objects", "line"}
MODULE = {"stacks-lib.c": "libstackslib.so"}


def read_truth(path):
    sites = []
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] != "SITE":
                continue
            sites.append(dict(group=p[1], function=p[2], file=p[3], line=int(p[4]),
                              allocs=int(p[5]), bytes=int(p[6]), live_objects=int(p[7]),
                              live_bytes=int(p[8]), inlined_into=p[9]))
    return sites


def read_report(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                if line[1:].split() != COLS:
                    raise SystemExit("unexpected TSV header: " + line)
                continue
            p = line.rstrip("\n").split("\t")
            if len(p) != len(COLS):
                raise SystemExit("bad TSV line: %r" % line)
            r = dict(zip(COLS, p))
            for k in NUMS:
                r[k] = int(r[k])
            rows.append(r)
    return rows


def name_matches(reported, func):
    return reported == func or reported.startswith(func + "(")


def main(argv):
    if len(argv) != 4 or argv[1] not in ("exact", "sampled"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    mode, truth, rows = argv[1], read_truth(argv[2]), read_report(argv[3])
    bad = []
    if len(truth) != 4:
        bad.append("stacks-prog printed %d SITE lines, not 4" % len(truth))
    for t in truth:
        what = "%s/%s" % (t["group"], t["function"])
        m = [r for r in rows if r["group"] == t["group"] and name_matches(r["function"], t["function"])]
        if len(m) != 1:
            bad.append("%s: %d rows in the report (want 1)" % (what, len(m)))
            continue
        r = m[0]
        if os.path.basename(r["file"]) != t["file"] or r["line"] != t["line"]:
            bad.append("%s: at %s:%d, want %s:%d" % (what, r["file"], r["line"], t["file"],
                                                     t["line"]))
        if r["inlined_into"] != t["inlined_into"]:
            bad.append("%s: inlined into %s, want %s" % (what, r["inlined_into"],
                                                         t["inlined_into"]))
        want_mod = MODULE.get(t["file"], "stacks-prog")
        if r["module"] != want_mod:
            bad.append("%s: module %s, want %s" % (what, r["module"], want_mod))
        if mode == "exact":
            for rk, tk in (("alloc_objects", "allocs"), ("alloc_bytes", "bytes"),
                           ("alloc_estimate", "bytes"), ("live_objects", "live_objects"),
                           ("live_bytes", "live_bytes"), ("live_estimate", "live_bytes")):
                if r[rk] != t[tk]:
                    bad.append("%s: %s %d, want %d" % (what, rk, r[rk], t[tk]))
            continue
        if t["bytes"] >= 8 << 20 and abs(r["alloc_estimate"] - t["bytes"]) > 0.10 * t["bytes"]:
            bad.append("%s: allocated estimate %d, truth %d (more than 10%% off)"
                       % (what, r["alloc_estimate"], t["bytes"]))
        tol = 0.10 if t["live_bytes"] >= 32 << 20 else 0.25 if t["live_bytes"] >= 8 << 20 else None
        if tol and abs(r["live_estimate"] - t["live_bytes"]) > tol * t["live_bytes"]:
            bad.append("%s: live estimate %d, truth %d (more than %d%% off)"
                       % (what, r["live_estimate"], t["live_bytes"], tol * 100))
        share = r["live_estimate"] / r["alloc_estimate"] if r["alloc_estimate"] else 1
        true_share = t["live_bytes"] / t["bytes"]
        if abs(share - true_share) > 0.1:
            bad.append("%s: live share %.3f, truth %.3f: the frees do not show"
                       % (what, share, true_share))
        print("%-22s allocated %10d est %10d (%+.1f%%)  live %10d est %10d (%+.1f%%)"
              % (what, t["bytes"], r["alloc_estimate"],
                 100.0 * (r["alloc_estimate"] - t["bytes"]) / t["bytes"], t["live_bytes"],
                 r["live_estimate"],
                 100.0 * (r["live_estimate"] - t["live_bytes"]) / max(1, t["live_bytes"])))
    if mode == "exact":
        extra = [r for r in rows if r["group"] in ("parser", "cache")
                 and not any(r["group"] == t["group"] and name_matches(r["function"], t["function"])
                             for t in truth)]
        for r in extra:
            bad.append("unexpected site in %s: %s %s:%d (%s)" % (r["group"], r["function"],
                                                                 r["file"], r["line"], r["module"]))
    for b in bad:
        print("check-stacks: " + b, file=sys.stderr)
    if not bad:
        print("check-stacks: %s: %d sites as stacks-prog allocated them" % (mode, len(truth)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
