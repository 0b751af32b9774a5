#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks of `trackalloc top` output against the figures the phases program
printed about itself (tests/integration/top/phases.c).

  check-top.py batch TOP_OUT PHASES_OUT [--exited] [--no-rates] [--pid PID]
      every phase the program printed appears in some --batch table, in
      order: cache and parser with exactly the program's live and peak
      bytes, churn's live bytes within one of its blocks of its own; the
      groups' tags as the program registered them; churn allocates (its
      allocations per second are above zero once a rate is known); cache
      grows at some point (change per second above zero); static groups
      show no change once settled (--no-rates: rates are not checked); with
      --exited, the last table marks the process X (exited).
  check-top.py screen CAPTURE PHASES_OUT PHASE [--pid PID]
      the captured screen shows phase PHASE's live bytes of cache, parser
      and churn (as the screen rounds them: four significant digits);
      prints the delay since the program printed the phase.
  check-top.py selected CAPTURE_WITH_ESCAPES
      prints the group on the row shown in reverse video.
  check-top.py record REPORT_TSV PHASES_OUT FROM TO (counters|window)
      a `trackalloc report --format tsv` of a `trackalloc record -p`: every
      group is named; counters: each group's figures are the program's at
      phase TO; window: each group's allocations and bytes allocated are
      what the program did between phases FROM and TO.
"""
import re
import sys
import time

GROUPS = ("cache", "parser", "churn")
TAGS = {"cache": "tier=hot,owner=phases", "parser": "lang=c", "churn": "-"}
CHURN_BLOCK = 1024


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def phases(path, pid=None):
    """{k: {"ts": ns, "groups": {name: {...}}}} from the program's output."""
    out, cur, k = {}, None, None
    for line in open(path):
        f = line.split()
        if not f:
            continue
        if f[0] == "PHASE":
            k = int(f[1])
            cur = {"ts": int(f[2]), "groups": {}}
        elif f[0] == "G" and cur is not None:
            live, ab, ao, fb, fo, pk = map(int, f[2:8])
            cur["groups"][f[1]] = {"live": live, "alloc_bytes": ab, "alloc_objects": ao,
                                   "freed_bytes": fb, "freed_objects": fo, "peak": pk}
        elif f[0] == "PHASE-END" and cur is not None:
            out[k] = cur
            cur = None
    if not out:
        fail("no phase in " + path)
    return out


def batch_tables(path):
    """[{"exited": n, "rows": [{column: text}]}] from --batch output. Text
    cells start where their label starts (PROCESS, GROUP, TAGS may hold
    spaces); the four numbers are the last four words of a row."""
    tables, lines = [], open(path).read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"trackalloc top \S+ \S+: (\d+) process\w* \((\d+) exited\)", lines[i])
        if not m:
            i += 1
            continue
        hdr = lines[i + 1]
        starts = {name: hdr.index(name) for name in ("PROCESS", "GROUP", "TAGS")}
        rows = []
        i += 2
        while i < len(lines) and lines[i].strip() and not lines[i].startswith(("sites of", "  ")):
            line = lines[i]
            nums = list(re.finditer(r"\S+", line))[-4:]
            text = line[:nums[0].start()]
            pid_s = text.split()
            rows.append({
                "PID": pid_s[0], "S": pid_s[1],
                "PROCESS": text[starts["PROCESS"]:starts["GROUP"]].strip(),
                "GROUP": text[starts["GROUP"]:starts["TAGS"]].strip(),
                "TAGS": text[starts["TAGS"]:].strip(),
                "LIVE_BYTES": nums[0].group(0), "CHANGE/S": nums[1].group(0),
                "PEAK_BYTES": nums[2].group(0), "ALLOCS/S": nums[3].group(0)})
            i += 1
        tables.append({"exited": int(m.group(2)), "rows": rows})
    return tables


def check_batch(args):
    top_out, ph_out = args[0], args[1]
    exited = "--exited" in args
    rates = "--no-rates" not in args  # one phase only: no growth to see
    pid = args[args.index("--pid") + 1] if "--pid" in args else None
    ph = phases(ph_out)
    tables = batch_tables(top_out)
    if not tables:
        fail("no table in " + top_out)
    print("%d tables, %d phases" % (len(tables), len(ph)))
    found, t0 = {}, 0
    grew = allocating = False
    settled_changes = []
    prev = None
    for ti, t in enumerate(tables):
        rows = {r["GROUP"]: r for r in t["rows"] if pid is None or r["PID"] == pid}
        for name in GROUPS:
            r = rows.get(name)
            if r and name in TAGS and r["TAGS"] != TAGS[name]:
                fail("table %d: group %s has tags %r, not %r" % (ti, name, r["TAGS"], TAGS[name]))
        if "cache" in rows and int(rows["cache"]["CHANGE/S"]) > 0:
            grew = True
        if "churn" in rows and int(rows["churn"]["ALLOCS/S"]) > 0:
            allocating = True
        # a group whose live bytes did not move since the previous table shows no change
        for name in ("cache", "parser"):
            if prev and name in rows and name in prev and \
                    rows[name]["LIVE_BYTES"] == prev[name]["LIVE_BYTES"]:
                settled_changes.append(int(rows[name]["CHANGE/S"]))
        prev = rows
        for k in sorted(ph):
            if k in found:
                continue
            g = ph[k]["groups"]
            ok = all(n in rows for n in GROUPS) and \
                int(rows["cache"]["LIVE_BYTES"]) == g["cache"]["live"] and \
                int(rows["parser"]["LIVE_BYTES"]) == g["parser"]["live"] and \
                int(rows["cache"]["PEAK_BYTES"]) == g["cache"]["peak"] and \
                int(rows["parser"]["PEAK_BYTES"]) == g["parser"]["peak"] and \
                g["churn"]["live"] <= int(rows["churn"]["LIVE_BYTES"]) <= g["churn"]["live"] + CHURN_BLOCK
            if ok:
                if ti < t0:
                    fail("phase %d shown before the phase before it" % k)
                found[k] = ti
                t0 = ti
                print("phase %d: table %d: cache %s, parser %s (peak %s), churn %s" % (
                    k, ti, rows["cache"]["LIVE_BYTES"], rows["parser"]["LIVE_BYTES"],
                    rows["parser"]["PEAK_BYTES"], rows["churn"]["LIVE_BYTES"]))
    missing = [k for k in sorted(ph) if k not in found]
    if missing:
        for t in tables[-3:]:
            print(t["rows"])
        fail("phases %s never shown with the program's figures" % missing)
    if rates and not allocating:
        fail("churn never shows allocations per second")
    if rates and not grew:
        fail("cache never shows a positive change per second")
    if any(c != 0 for c in settled_changes):
        fail("a settled group shows a change: %s" % settled_changes)
    if exited:
        last = tables[-1]
        if last["exited"] < 1 or not all(r["S"] == "X" for r in last["rows"]
                                         if pid is None or r["PID"] == pid):
            fail("the last table does not mark the process exited: %s" % last["rows"])
        print("the last table marks the process exited")
    print("PASS: batch tables agree with the program")


UNITS = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}


def human(v):
    """What the screen shows for @v bytes: four significant digits."""
    if v < 1024:
        return v, 0.5
    x, u = float(v), 0
    while x >= 1024:
        x /= 1024
        u += 1
    digits = 3 if x < 9.9995 else 2 if x < 99.995 else 1 if x < 999.95 else 0
    return v, 0.5 * 10 ** -digits * 1024 ** u


def shown_bytes(text):
    m = re.fullmatch(r"([0-9.]+) (B|KiB|MiB|GiB)", text.strip())
    if not m:
        return None
    return float(m.group(1)) * UNITS[m.group(2)]


def screen_rows(path):
    """{group: [cells]} of the rows of a captured screen."""
    rows = {}
    for line in open(path, errors="replace"):
        # PID S PROCESS GROUP [TAGS] LIVE CHANGE PEAK ALLOCS
        m = re.match(r"\s*(\d+) ([RX]) (\S+)\s+(\S+)\s+(.*?)\s*"
                     r"([0-9.]+ (?:B|KiB|MiB|GiB))\s+((?:[+-][0-9.]+ (?:B|KiB|MiB|GiB))|0 B)\s+"
                     r"([0-9.]+ (?:B|KiB|MiB|GiB))\s+(\S+)\s*$", line)
        if m:
            rows.setdefault(m.group(4), []).append({
                "pid": m.group(1), "state": m.group(2), "process": m.group(3),
                "tags": m.group(5), "live": m.group(6), "change": m.group(7),
                "peak": m.group(8), "allocs": m.group(9)})
    return rows


def check_screen(args):
    cap, ph_out, k = args[0], args[1], int(args[2])
    pid = args[args.index("--pid") + 1] if "--pid" in args else None
    now = time.monotonic_ns()
    ph = phases(ph_out)
    if k not in ph:
        fail("the program has not printed phase %d" % k)
    rows = screen_rows(cap)
    for name in GROUPS:
        rs = [r for r in rows.get(name, []) if pid is None or r["pid"] == pid]
        if not rs:
            print("group %s not on the screen" % name)
            sys.exit(1)
        got = shown_bytes(rs[0]["live"])
        want = ph[k]["groups"][name]["live"]
        _, tol = human(want)
        hi = want + (CHURN_BLOCK if name == "churn" else 0)
        if got is None or not (want - tol <= got <= hi + tol):
            print("group %s shows %s, phase %d has %d" % (name, rs[0]["live"], k, want))
            sys.exit(1)
    print("phase %d on the screen %.0f ms after the program printed it" %
          (k, (now - ph[k]["ts"]) / 1e6))


def check_selected(args):
    """tmux capture-pane -e writes attribute changes only: follow the
    reverse-video state through the escapes to the row it covers."""
    rev = False
    for line in open(args[0], errors="replace"):
        at_start, text = None, ""
        for part in re.split(r"(\x1b\[[0-9;]*m)", line):
            m = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
            if m:
                for code in (m.group(1) or "0").split(";"):
                    if code in ("0", ""):
                        rev = False
                    elif code == "7":
                        rev = True
                    elif code == "27":
                        rev = False
                continue
            if at_start is None and part.strip():
                at_start = rev
            text += part
        m = re.match(r"\s*(\d+) [RX] (\S+)\s+(\S+)", text)
        if m and at_start:
            print(m.group(3))
            return
    print("")


def check_record(args):
    tsv, ph_out, a, b, mode = args[0], args[1], int(args[2]), int(args[3]), args[4]
    ph = phases(ph_out)
    rows, cols = {}, None
    for line in open(tsv):
        f = line.rstrip("\n").split("\t")
        if line.startswith("#"):
            continue
        if cols is None:
            cols = f
        elif len(f) == len(cols):
            r = dict(zip(cols, f))
            rows[r["group_name"]] = r
    if not cols:
        fail("no header in the report's TSV")
    print("report groups: %s" % sorted(rows))
    for name in GROUPS:
        if name not in rows:
            fail("the report does not name group %s" % name)
    ok = True
    for name in ("cache", "parser"):
        r, pa, pb = rows[name], ph[a]["groups"][name], ph[b]["groups"][name]
        if mode == "counters":
            want = {"allocs": pb["alloc_objects"], "bytes_allocated": pb["alloc_bytes"],
                    "frees": pb["freed_objects"], "bytes_freed": pb["freed_bytes"],
                    "live_bytes": pb["live"]}
        else:
            want = {"allocs": pb["alloc_objects"] - pa["alloc_objects"],
                    "bytes_allocated": pb["alloc_bytes"] - pa["alloc_bytes"],
                    "frees": pb["freed_objects"] - pa["freed_objects"],
                    "bytes_freed": pb["freed_bytes"] - pa["freed_bytes"]}
        got = {c: int(r[c]) for c in want}
        want_src = "samples" if mode == "counters" else "events"
        if want_src not in r["source"]:
            fail("%s: the report's source is %r" % (name, r["source"]))
        print("%s: report %s, program %s" % (name, got, want))
        ok = ok and got == want
    if not ok:
        fail("the report's figures differ from the program's")
    print("PASS: the report agrees with the program (%s)" % mode)


if __name__ == "__main__":
    cmds = {"batch": check_batch, "screen": check_screen, "selected": check_selected,
            "record": check_record}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](sys.argv[2:])
