# SPDX-License-Identifier: MIT
"""Check `trackalloc report --format=tsv` of a `trackalloc record --group-by`
recording (group-by.sh).

    check-group-by.py TSV --proc PROCNAME [--group NAME=RULE]... [--every RULE]
        [--only] [--program OUT] [--main NAME] [--exact NAME --report-json FILE]

Rows of the processes named PROCNAME (there must be one) are checked:
 --group NAME=RULE  a group NAME exists, made by RULE: its rule column is
                    RULE and its tags are exactly rule=RULE; it allocated
                    (allocs and bytes allocated > 0)
 --every RULE       every group but root was made by RULE (rule column and
                    tags as above), and no name keeps a ".so" suffix
 --only             no group but root and the --group ones
 --program OUT      the lines "NT<TAB>name<TAB>allocs<TAB>frees<TAB>bytes<TAB>
                    freed<TAB>live" that named-threads printed: group "name"
                    has exactly those figures (allocs, frees, bytes allocated
                    and freed, live bytes)
 --main NAME        with --program, its NT-MAIN line "NT-MAIN<TAB>blocks<TAB>
                    bytes": group NAME (the main thread's) has at least those
                    allocations and bytes, and at least as much live
 --exact NAME       with --report-json (the process's TRACKALLOC_REPORT): the
                    trace has every allocation and free of group NAME that
                    the process counted (a group that allocates only after
                    the recording started): allocs, frees, bytes allocated
                    and freed equal
Prints the groups it saw. Exit 0 when all holds, 1 otherwise, 2 on usage.
"""
import argparse
import json
import sys


def read_tsv(path):
    header, rows = None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if header is None:
                header = line.split("\t")
                continue
            rows.append(dict(zip(header, line.split("\t"))))
    if header is None or "rule" not in header:
        raise SystemExit("%s: no TSV header with a rule column: %r" % (path, header))
    return rows


def read_program(path):
    groups, main = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] == "NT":
                groups[p[1]] = dict(zip(("allocs", "frees", "bytes_allocated", "bytes_freed",
                                         "live_bytes"), map(int, p[2:7])))
            elif p[0] == "NT-MAIN":
                main = (int(p[1]), int(p[2]))
    if not groups or main is None:
        raise SystemExit("%s: no complete named-threads output" % path)
    return groups, main


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("tsv")
    ap.add_argument("--proc", required=True)
    ap.add_argument("--group", action="append", default=[])
    ap.add_argument("--every")
    ap.add_argument("--only", action="store_true")
    ap.add_argument("--program")
    ap.add_argument("--main")
    ap.add_argument("--exact", action="append", default=[])
    ap.add_argument("--report-json")
    args = ap.parse_args(argv[1:])
    bad = []

    rows = [r for r in read_tsv(args.tsv) if r.get("procname") == args.proc]
    pids = sorted({r["pid"] for r in rows})
    if len(pids) != 1:
        print("FAIL: %d processes named %s in the report (%s), expected 1"
              % (len(pids), args.proc, ",".join(pids)), file=sys.stderr)
        return 1
    by_name = {}
    for r in rows:
        print("  group %s %-24s rule %-28r allocs %8s bytes %10s live %9s tags %r"
              % (r["group_id"], r["group_name"], r["rule"], r["allocs"], r["bytes_allocated"],
                 r["live_bytes"], r["tags"]))
        if r["group_name"] in by_name:
            bad.append("two groups named %r" % r["group_name"])
        by_name[r["group_name"]] = r

    def made_by(r, rule):
        if r["rule"] != rule:
            bad.append("group %r: rule column %r, expected %r" % (r["group_name"], r["rule"], rule))
        if r["tags"] != "rule=" + rule:
            bad.append("group %r: tags %r, expected 'rule=%s'" % (r["group_name"], r["tags"], rule))

    wanted = {}
    for spec in args.group:
        name, _, rule = spec.partition("=")
        wanted[name] = rule
        r = by_name.get(name)
        if r is None:
            bad.append("no group %r" % name)
            continue
        made_by(r, rule)
        if int(r["allocs"]) == 0 or int(r["bytes_allocated"]) == 0:
            bad.append("group %r allocated nothing" % name)
    for name, r in by_name.items():
        if name == "root" or r["group_id"] == "0":
            if r["rule"]:
                bad.append("root has the rule %r" % r["rule"])
            continue
        if args.every is not None:
            made_by(r, args.every)
            if ".so" in name:
                bad.append("group %r keeps its .so suffix" % name)
        if args.only and name not in wanted:
            bad.append("group %r (rule %r): only %s expected"
                       % (name, r["rule"], ", ".join(sorted(wanted))))
    if args.program:
        groups, (main_blocks, main_bytes) = read_program(args.program)
        for name, want in groups.items():
            r = by_name.get(name)
            if r is None:
                continue  # said above (--group)
            for k, v in want.items():
                if int(r[k]) != v:
                    bad.append("group %r: %s %s, the program made %d" % (name, k, r[k], v))
        r = by_name.get(args.main) if args.main else None
        if args.main and r is None:
            bad.append("no group %r for the main thread" % args.main)
        elif r is not None:
            if int(r["allocs"]) < main_blocks or int(r["bytes_allocated"]) < main_bytes:
                bad.append("main thread's group %r: %s allocs, %s bytes; it allocated at least "
                           "%d, %d" % (args.main, r["allocs"], r["bytes_allocated"], main_blocks,
                                       main_bytes))
            if int(r["live_bytes"]) < main_bytes:
                bad.append("main thread's group %r: %s live bytes, it keeps at least %d"
                           % (args.main, r["live_bytes"], main_bytes))
    if args.exact:
        with open(args.report_json, encoding="utf-8") as f:
            counted = {g["name"]: g for g in json.load(f)["groups"]}
        for name in args.exact:
            r, g = by_name.get(name), counted.get(name)
            if r is None or g is None:
                bad.append("group %r: not in the %s" % (name, "trace" if r is None else
                                                         "TRACKALLOC_REPORT"))
                continue
            before = len(bad)
            for mine, theirs in (("allocs", "allocated_objects"), ("frees", "freed_objects"),
                                 ("bytes_allocated", "allocated_bytes"),
                                 ("bytes_freed", "freed_bytes")):
                if int(r[mine]) != g[theirs]:
                    bad.append("group %r: %s %s in the trace, the process counted %s %d"
                               % (name, mine, r[mine], theirs, g[theirs]))
            if len(bad) == before:
                print("  group %s: the trace has all the process counted: %d allocations, %d "
                      "bytes" % (name, g["allocated_objects"], g["allocated_bytes"]))
    for b in bad:
        print("FAIL: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
