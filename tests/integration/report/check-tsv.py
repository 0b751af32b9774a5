# SPDX-License-Identifier: MIT
"""Compare `trackalloc-report --format=tsv` with what known-pattern printed.

    /usr/bin/python3 check-tsv.py --report TSV --program OUT [--program OUT]...
        [--source events|samples] [--peak exact|sampled] [--exact-peak GROUP]...
        [--nameless] [--late GROUP] [--lossy] [--samples BABELTRACE_TEXT] [--inproc-peak]

Every group known-pattern printed (its KP lines; root is not among them, as
root also holds the library's own allocations, which emit no events) must
have a row for the same pid and group id whose figures equal the program's:
allocations, frees, bytes allocated and freed, live bytes and blocks, to the
byte; the peak equals the true peak (--peak exact) or, for group_stats
samples (--peak sampled), lies between the final live bytes and the true
peak, except for --exact-peak groups, held long enough to be sampled.
--late GROUP: allocated before the session started and freed after: its
frees are in the trace, its allocations are not. --lossy: the trace has
discarded events; every row must be marked as a lower bound, and the exact
comparisons are skipped. Rows of other processes (other programs traced by
the same user) are ignored. --samples: `babeltrace2 TRACE` text output, an
independent reading of the group_stats events: every group of the programs'
processes, root included, must show the figures of its last sample and the
largest allocated_bytes - freed_bytes sampled as its peak. --inproc-peak:
every group the program printed shows its true peak as in-process peak too
(the largest peak_bytes of its group_stats samples: known-pattern allocates
each group's blocks on one thread, so the library's peak is exact).
Exit 0 when all holds, 1 otherwise.
"""
import argparse
import re
import sys

STATS_RE = re.compile(r"trackalloc:group_stats:.*\bvpid = (\d+),.*\{ group_id = (\d+), "
                      r"allocated_bytes = (\d+), allocated_objects = (\d+), "
                      r"freed_bytes = (\d+), freed_objects = (\d+)")

KP_FIELDS = ("pid", "id", "name", "tags", "allocs", "frees", "bytes_allocated",
             "bytes_freed", "live_bytes", "live_blocks", "peak_live_bytes")
EXACT = (("allocs", "allocs"), ("frees", "frees"), ("bytes_allocated", "bytes_allocated"),
         ("bytes_freed", "bytes_freed"), ("live_bytes", "live_bytes"),
         ("live_blocks", "live_blocks"))


def read_program(path):
    groups = {}
    ended = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "KP-END":
                ended = True
            if not line.startswith("KP\t"):
                continue
            g = dict(zip(KP_FIELDS, line.split("\t")[1:]))
            for k in KP_FIELDS:
                if k not in ("name", "tags"):
                    g[k] = int(g[k])
            groups[(g["pid"], g["id"])] = g
    if not ended or not groups:
        raise ValueError("%s: no complete known-pattern output" % path)
    return groups


def read_report(path):
    meta, rows, header = {}, {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# "):
                key, _, value = line[2:].partition("\t")
                meta[key] = value
            elif header is None:
                header = line.split("\t")
            else:
                row = dict(zip(header, line.split("\t")))
                rows[(int(row["pid"]), int(row["group_id"]))] = row
    if header is None:
        raise ValueError("%s: no TSV header" % path)
    return meta, rows


def read_samples(path):
    """{(pid, group_id): (last sample fields, peak)} from babeltrace2's text output."""
    samples = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = STATS_RE.search(line)
            if not m:
                continue
            pid, gid, ab, ao, fb, fo = (int(x) for x in m.groups())
            peak = max(samples.get((pid, gid), (None, 0))[1], ab - fb)
            samples[(pid, gid)] = ({"allocs": ao, "frees": fo, "bytes_allocated": ab,
                                   "bytes_freed": fb, "live_bytes": ab - fb,
                                   "live_blocks": ao - fo}, peak)
    return samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", required=True)
    ap.add_argument("--program", action="append", required=True)
    ap.add_argument("--source", choices=("events", "samples"), default="events")
    ap.add_argument("--peak", choices=("exact", "sampled"), default="exact")
    ap.add_argument("--exact-peak", action="append", default=[])
    ap.add_argument("--nameless", action="store_true")
    ap.add_argument("--late")
    ap.add_argument("--lossy", action="store_true")
    ap.add_argument("--samples")
    ap.add_argument("--inproc-peak", action="store_true")
    args = ap.parse_args()

    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL: " + msg)

    expected = {}
    for p in args.program:
        expected.update(read_program(p))
    meta, rows = read_report(args.report)

    discarded = int(meta.get("discarded_events", "0")) + \
        int(meta.get("discarded_events_unknown_size", "0"))
    if args.lossy and discarded == 0:
        fail("expected discarded events, the report counts none")
    if not args.lossy and discarded:
        fail("the report counts %d discarded events (buffers too small?)" % discarded)

    pids = {pid for pid, _ in expected}
    others = sorted({pid for pid, _ in rows} - pids)
    if others:
        print("note: ignoring rows of other processes %s" % others)
    for (pid, gid), row in rows.items():
        if pid in pids and row["lower_bound"] != ("1" if args.lossy else "0"):
            fail("pid %d group %d: lower_bound %s" % (pid, gid, row["lower_bound"]))

    for (pid, gid), g in sorted(expected.items()):
        where = "pid %d group %d (%s)" % (pid, gid, g["name"])
        row = rows.get((pid, gid))
        if row is None:
            fail("%s: no row in the report" % where)
            continue
        if row["source"] != args.source:
            fail("%s: source %s, expected %s" % (where, row["source"], args.source))
        want_name = "#%d" % gid if args.nameless else g["name"]
        want_tags = "" if args.nameless else g["tags"]
        if row["group_name"] != want_name:
            fail("%s: name %r, expected %r" % (where, row["group_name"], want_name))
        if row["tags"] != want_tags:
            fail("%s: tags %r, expected %r" % (where, row["tags"], want_tags))
        if args.lossy:
            continue
        got = {k: int(row[k]) for k in ("allocs", "frees", "bytes_allocated", "bytes_freed",
                                        "live_bytes", "live_blocks", "peak_live_bytes",
                                        "unknown_frees")}
        if g["name"] == args.late:
            want = {"allocs": 0, "frees": g["frees"], "bytes_allocated": 0,
                    "bytes_freed": g["bytes_freed"], "live_bytes": 0, "live_blocks": 0,
                    "unknown_frees": g["frees"] if args.source == "events" else 0}
            for k, v in want.items():
                if got[k] != v:
                    fail("%s (allocated before the session): %s %d, expected %d"
                         % (where, k, got[k], v))
            continue
        for rk, pk in EXACT:
            if got[rk] != g[pk]:
                fail("%s: %s %d, the program says %d" % (where, rk, got[rk], g[pk]))
        if args.source == "events" and got["unknown_frees"]:
            fail("%s: %d unknown frees" % (where, got["unknown_frees"]))
        peak, true_peak = got["peak_live_bytes"], g["peak_live_bytes"]
        if args.peak == "exact" or g["name"] in args.exact_peak:
            if peak != true_peak:
                fail("%s: peak %d, the true peak is %d" % (where, peak, true_peak))
        elif not g["live_bytes"] <= peak <= true_peak:
            fail("%s: sampled peak %d outside [final live %d, true peak %d]"
                 % (where, peak, g["live_bytes"], true_peak))
        if args.inproc_peak and row.get("in_process_peak_bytes") != str(true_peak):
            fail("%s: in-process peak %s, the true peak is %d"
                 % (where, row.get("in_process_peak_bytes"), true_peak))
    if args.samples:
        samples = read_samples(args.samples)
        checked = 0
        for (pid, gid), (last, peak) in sorted(samples.items()):
            if pid not in pids:
                continue
            checked += 1
            where = "pid %d group %d" % (pid, gid)
            row = rows.get((pid, gid))
            if row is None:
                fail("%s: sampled, but no row in the report" % where)
                continue
            for k, v in last.items():
                if int(row[k]) != v:
                    fail("%s: %s %s, its last group_stats sample says %d" % (where, k, row[k], v))
            if int(row["peak_live_bytes"]) != peak:
                fail("%s: peak %s, the samples' largest live bytes are %d"
                     % (where, row["peak_live_bytes"], peak))
        if not checked:
            fail("no group_stats sample of the programs' processes in %s" % args.samples)
        print("%d sampled groups checked against babeltrace2's text output" % checked)
    print("%d groups checked, %d failures" % (len(expected), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
