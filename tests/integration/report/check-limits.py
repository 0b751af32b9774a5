# SPDX-License-Identifier: MIT
"""Check the in-process peaks and limit crossings of `trackalloc report`.

    /usr/bin/python3 check-limits.py synthetic --expected JSON --tsv TSV --table TABLE
    /usr/bin/python3 check-limits.py recorded --program OUT --tsv TSV --table TABLE [--svg SVG]
        [--counters]

TSV: `trackalloc report --format=tsv`; TABLE: the table of the same trace.
Both modes check that the TSV's last column is in_process_peak_bytes, that
'# limit_crossings' counts the '# limit' lines, which follow a
'# limit_columns' line naming their columns, and that the table shows the
same figures: each group's 'in-process peak' cell, and a section after the
process's table, "N limit crossing(s) ...", one row per crossing (time,
group, live bytes, soft and hard limit, '-' for none; of more than 40,
the first and last 20 and a line "... N more").

synthetic: JSON is what make-ctf.py printed for its limits or limits-old
trace: per process and group the trace's peak and the in-process peak
(null: the trace has no peak_bytes, so '-'), and every crossing, exactly.

recorded: OUT is limits-prog's output (LIM lines). Its group must show the
peak it printed (ta_group_peak) both as in-process peak and as the trace's
own peak (one thread: exact; --counters, a trace of group_stats samples
only: at most that), and exactly its crossings, in order, with the
live bytes its callback was given and its limits, at increasing times. SVG
(`--plot`): a dashed line (id limit-N) for its soft and for its hard limit,
labelled "NAME (PID) soft limit ..." and "... hard limit ...".
Exit 0 when all holds, 1 otherwise.
"""
import argparse
import json
import re
import sys

LIMIT_COLUMNS = ["pid", "procname", "group_id", "group_name", "time_s", "live_bytes",
                 "soft_limit", "hard_limit"]
SHOWN = 40  # RP_CROSSINGS_SHOWN: crossings of a process in the table
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def read_tsv(path):
    """meta, header, {(pid, gid): row}, limit_columns, [limit dicts]"""
    meta, header, rows, columns, limits = {}, None, {}, None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if fields[0] == "# limit_columns":
                columns = fields[1:]
            elif fields[0] == "# limit":
                if columns is None:
                    fail("a '# limit' line before '# limit_columns'")
                    columns = LIMIT_COLUMNS
                limits.append(dict(zip(columns, fields[1:])))
            elif fields[0].startswith("# "):
                meta[fields[0][2:]] = fields[1] if len(fields) > 1 else ""
            elif header is None:
                header = fields
            else:
                row = dict(zip(header, fields))
                rows[(int(row["pid"]), int(row["group_id"]))] = row
    if header is None:
        raise SystemExit("%s: no TSV header" % path)
    return meta, header, rows, columns, limits


def read_table(path):
    """{pid: {"head": header line, "rows": {gid: line}, "count": N or None,
    "crossings": [[at, group, live, soft, hard]]}}"""
    procs, cur, mode = {}, None, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"process (\d+) \(", line)
            if m:
                cur = procs[int(m.group(1))] = {"head": None, "rows": {}, "count": None,
                                               "crossings": [], "more": None}
                mode = "groups"
                continue
            if cur is None:
                continue
            m = re.match(r"  (\d+) limit crossings? \(group_limit", line)
            if m:
                cur["count"], mode = int(m.group(1)), "crossings-head"
            elif mode == "groups" and cur["head"] is None and re.match(r" +id +group", line):
                cur["head"] = line
            elif mode == "groups" and re.match(r" +\d+ ", line):
                cur["rows"][int(line.split()[0])] = line
            elif mode == "crossings-head":
                mode = "crossings"
            elif mode == "crossings" and re.match(r" +\.\.\. \d+ more \(", line):
                cur["more"] = int(line.split()[1])
            elif mode == "crossings" and line.startswith("     "):
                cur["crossings"].append(line.split())
            elif mode == "crossings":
                mode = None
    return procs


def cell(head, line, column):
    """The right-aligned cell of @column in a row of the table."""
    end = head.index(column) + len(column)
    return line[:end].split()[-1]


def check_tsv_common(meta, header, columns, limits):
    if header[-2:] != ["rule", "in_process_peak_bytes"]:
        fail("TSV header does not end with rule, in_process_peak_bytes: %r" % header[-3:])
    if int(meta.get("limit_crossings", "-1")) != len(limits):
        fail("# limit_crossings %s, %d '# limit' lines" % (meta.get("limit_crossings"),
                                                           len(limits)))
    if limits and columns != LIMIT_COLUMNS:
        fail("# limit_columns %r, expected %r" % (columns, LIMIT_COLUMNS))
    if not limits and columns is not None:
        fail("# limit_columns without any crossing")


def check_table_crossings(table, pid, want):
    """@want: [(time_s, name, live, soft, hard)] in order."""
    sec = table.get(pid)
    if sec is None:
        fail("no section of process %d in the table" % pid)
        return
    if not want:
        if sec["count"] is not None:
            fail("process %d: the table shows %s crossings, the trace has none"
                 % (pid, sec["count"]))
        return
    if sec["count"] != len(want):
        fail("process %d: the table says %s limit crossings, expected %d"
             % (pid, sec["count"], len(want)))
    shown = [tuple(r) for r in sec["crossings"]]
    more = None
    if len(want) > SHOWN:
        want, more = want[:SHOWN // 2] + want[-(SHOWN // 2):], len(want) - SHOWN
    if sec["more"] != more:
        fail("process %d: the table says %s more crossings, expected %s"
             % (pid, sec["more"], more))
    expect = [("%.6f" % t if t is not None else None, name, str(live),
               str(soft) if soft else "-", str(hard) if hard else "-")
              for t, name, live, soft, hard in want]
    if len(shown) != len(expect):
        fail("process %d: %d crossing rows in the table, expected %d: %r"
             % (pid, len(shown), len(expect), shown))
        return
    for i, (got, exp) in enumerate(zip(shown, expect)):
        if exp[0] is None:
            got, exp = got[1:], exp[1:]
        if got != exp:
            fail("process %d: table crossing %d is %r, expected %r" % (pid, i + 1, got, exp))


def synthetic(args):
    with open(args.expected, encoding="utf-8") as f:
        exp = json.load(f)
    meta, header, rows, columns, limits = read_tsv(args.tsv)
    table = read_table(args.table)
    check_tsv_common(meta, header, columns, limits)
    want_limits = []
    for pid_s, proc in sorted(exp["procs"].items()):
        pid = int(pid_s)
        sec = table.get(pid, {"head": None, "rows": {}})
        for gid_s, g in sorted(proc["groups"].items()):
            gid = int(gid_s)
            where = "pid %d group %d (%s)" % (pid, gid, g["name"])
            want_in = "-" if g["inproc_peak"] is None else str(g["inproc_peak"])
            row = rows.get((pid, gid))
            if row is None:
                fail("%s: no TSV row" % where)
                continue
            if row["source"] != proc["source"] or row["group_name"] != g["name"]:
                fail("%s: source %s, name %s" % (where, row["source"], row["group_name"]))
            if row["peak_live_bytes"] != str(g["peak"]):
                fail("%s: TSV peak_live_bytes %s, expected %d" % (where, row["peak_live_bytes"],
                                                                 g["peak"]))
            if row["in_process_peak_bytes"] != want_in:
                fail("%s: TSV in_process_peak_bytes %s, expected %s"
                     % (where, row["in_process_peak_bytes"], want_in))
            line = sec["rows"].get(gid)
            if line is None or sec["head"] is None:
                fail("%s: no table row" % where)
                continue
            for column, want in (("in-process peak", want_in), ("peak live", str(g["peak"]))):
                if cell(sec["head"], line, column) != want:
                    fail("%s: table %s %s, expected %s"
                         % (where, column, cell(sec["head"], line, column), want))
        crossings = [(c["time_s"], proc["groups"][str(c["group_id"])]["name"], c["live_bytes"],
                      c["soft_limit"], c["hard_limit"]) for c in proc["crossings"]]
        check_table_crossings(table, pid, crossings)
        for c in proc["crossings"]:
            want_limits.append([pid_s, proc["procname"], str(c["group_id"]),
                                proc["groups"][str(c["group_id"])]["name"],
                                "%.9f" % c["time_s"], str(c["live_bytes"]),
                                str(c["soft_limit"]), str(c["hard_limit"])])
    got_limits = [[lim.get(k) for k in LIMIT_COLUMNS] for lim in limits]
    if got_limits != want_limits:
        fail("TSV crossings %r, expected %r" % (got_limits, want_limits))
    print("%d crossings and %d groups checked" % (len(want_limits),
                                                 sum(len(p["groups"]) for p in exp["procs"].values())))


def read_program(path):
    prog = {"cross": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] == "LIM-END":
                prog["end"] = True
            elif p[0] == "LIM" and p[1] == "PID":
                prog["pid"] = int(p[2])
            elif p[0] == "LIM" and p[1] == "GROUP":
                prog["gid"], prog["name"] = int(p[2]), p[3]
            elif p[0] == "LIM" and p[1] == "LIMITS":
                prog["soft"], prog["hard"] = int(p[2]), int(p[3])
            elif p[0] == "LIM" and p[1] == "CROSS":
                prog["cross"].append(int(p[3]))
            elif p[0] == "LIM" and p[1] == "PEAK":
                prog["peak"] = int(p[2])
    if not prog.get("end"):
        raise SystemExit("%s: no complete limits-prog output" % path)
    return prog


def recorded(args):
    prog = read_program(args.program)
    pid, gid, name = prog["pid"], prog["gid"], prog["name"]
    meta, header, rows, columns, limits = read_tsv(args.tsv)
    check_tsv_common(meta, header, columns, limits)
    row = rows.get((pid, gid))
    where = "pid %d group %d (%s)" % (pid, gid, name)
    if row is None:
        fail("%s: no TSV row" % where)
    else:
        if row["in_process_peak_bytes"] != str(prog["peak"]):
            fail("%s: TSV in_process_peak_bytes %s, ta_group_peak said %d"
                 % (where, row["in_process_peak_bytes"], prog["peak"]))
        if (int(row["peak_live_bytes"]) > prog["peak"] if args.counters else
                row["peak_live_bytes"] != str(prog["peak"])):
            fail("%s: TSV peak_live_bytes %s, ta_group_peak said %d"
                 % (where, row["peak_live_bytes"], prog["peak"]))
        source = "samples" if args.counters else "events"
        if row["source"] != source:
            fail("%s: source %s, expected %s" % (where, row["source"], source))
    mine = [lim for lim in limits if lim["pid"] == str(pid)]
    got = [(int(lim["group_id"]), lim["group_name"], int(lim["live_bytes"]),
            int(lim["soft_limit"]), int(lim["hard_limit"])) for lim in mine]
    want = [(gid, name, live, prog["soft"], prog["hard"]) for live in prog["cross"]]
    if got != want:
        fail("TSV crossings of pid %d: %r, the program's: %r" % (pid, got, want))
    times = [float(lim["time_s"]) for lim in mine]
    if times != sorted(times) or any(t < 0 for t in times) or len(set(times)) != len(times):
        fail("crossing times are not increasing from 0: %r" % times)
    table = read_table(args.table)
    sec = table.get(pid)
    if sec and sec["head"] and gid in sec["rows"]:
        for column in ("in-process peak",) + (() if args.counters else ("peak live",)):
            if cell(sec["head"], sec["rows"][gid], column) != str(prog["peak"]):
                fail("%s: table %s %s, ta_group_peak said %d"
                     % (where, column, cell(sec["head"], sec["rows"][gid], column),
                        prog["peak"]))
    else:
        fail("%s: no table row" % where)
    check_table_crossings(table, pid, [(t, name, live, prog["soft"], prog["hard"])
                                       for t, live in zip(times, prog["cross"])])
    if args.svg:
        with open(args.svg, encoding="utf-8") as f:
            svg = f.read()
        groups = re.findall(r'<g id="(limit-\d+)">(.*?)</g>', svg, re.S)
        if len(groups) != 2:
            fail("SVG: %d limit lines (id limit-N), expected 2 (soft, hard)" % len(groups))
        for gid_, body in groups:
            if "stroke-dasharray" not in body:
                fail("SVG: %s is not dashed" % gid_)
        for kind in ("soft", "hard"):
            if "%s (%d) %s limit" % (name, pid, kind) not in svg:
                fail("SVG: no legend label '%s (%d) %s limit'" % (name, pid, kind))
    print("%s: %d crossings, peak %d checked" % (where, len(prog["cross"]), prog["peak"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("synthetic", "recorded"))
    ap.add_argument("--expected")
    ap.add_argument("--program")
    ap.add_argument("--tsv", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--svg")
    ap.add_argument("--counters", action="store_true")
    args = ap.parse_args()
    if args.mode == "synthetic":
        synthetic(args)
    else:
        recorded(args)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
