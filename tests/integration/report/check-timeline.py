# SPDX-License-Identifier: MIT
"""Check `trackalloc-report --csv` (and the --plot pictures) against its TSV report.

    /usr/bin/python3 check-timeline.py --csv CSV --report TSV [--pid PID]...
        [--svg SVG] [--png PNG] [--max-rows N]

CSV: the header is time_s,pid,group_id,group_name,live_bytes; rows are in
time order; each group of the given pids (all pids without --pid) has at
most --max-rows rows, its largest value is its peak_live_bytes and its last
value its live_bytes, and its name is the report's. SVG: one series (an
element with id "series-N") per group of the CSV, and each legend label
"name (pid)" appears as text. PNG: the PNG signature and a sane IHDR.
Exit 0 when all holds, 1 otherwise.
"""
import argparse
import csv
import re
import struct
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--pid", type=int, action="append")
    ap.add_argument("--svg")
    ap.add_argument("--png")
    ap.add_argument("--max-rows", type=int, default=2003)  # 2000 + pending + peak + final
    args = ap.parse_args()
    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL: " + msg)

    report, header = {}, None
    with open(args.report, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if header is None:
                header = fields
                continue
            row = dict(zip(header, fields))
            if row["source"] != "none":
                report[(int(row["pid"]), int(row["group_id"]))] = row

    series, last_t = {}, None
    with open(args.csv, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        head = next(reader, None)
        if head != ["time_s", "pid", "group_id", "group_name", "live_bytes"]:
            fail("CSV header %r" % head)
            return 1
        for rec in reader:
            t, pid, gid, name, live = float(rec[0]), int(rec[1]), int(rec[2]), rec[3], int(rec[4])
            if last_t is not None and t < last_t:
                fail("CSV rows out of time order at t=%f" % t)
            last_t = t
            s = series.setdefault((pid, gid), {"name": name, "values": []})
            if s["name"] != name:
                fail("pid %d group %d: two names %r, %r" % (pid, gid, s["name"], name))
            s["values"].append(live)

    pids = set(args.pid) if args.pid else {pid for pid, _ in report}
    for key, row in sorted(report.items()):
        if key[0] not in pids:
            continue
        where = "pid %d group %d (%s)" % (key[0], key[1], row["group_name"])
        s = series.get(key)
        if s is None:
            fail("%s: no timeline rows" % where)
            continue
        values = s["values"]
        if len(values) > args.max_rows:
            fail("%s: %d rows, at most %d expected" % (where, len(values), args.max_rows))
        if s["name"] != row["group_name"]:
            fail("%s: CSV name %r" % (where, s["name"]))
        if values[-1] != int(row["live_bytes"]):
            fail("%s: last timeline value %d, live at end %s"
                 % (where, values[-1], row["live_bytes"]))
        if max(values) != int(row["peak_live_bytes"]):
            fail("%s: timeline maximum %d, peak %s" % (where, max(values), row["peak_live_bytes"]))
        print("%s: %d rows" % (where, len(values)))

    if args.svg:
        with open(args.svg, encoding="utf-8") as f:
            svg = f.read()
        ids = set(re.findall(r'id="(series-\d+)"', svg))
        if len(ids) != len(series):
            fail("SVG has %d series, the CSV %d groups" % (len(ids), len(series)))
        for (pid, _), s in series.items():
            label = "%s (%d)" % (s["name"], pid)
            if label.replace("&", "&amp;").replace("<", "&lt;") not in svg:
                fail("SVG lacks the legend label %r" % label)
    if args.png:
        with open(args.png, "rb") as f:
            data = f.read(33)
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
            fail("%s is not a PNG" % args.png)
        else:
            w, h = struct.unpack(">II", data[16:24])
            if not (200 <= w <= 10000 and 200 <= h <= 10000):
                fail("PNG size %dx%d" % (w, h))
    print("%d series checked, %d failures" % (len(series), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
