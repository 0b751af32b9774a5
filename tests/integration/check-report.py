# SPDX-License-Identifier: MIT
"""Check a TRACKALLOC_REPORT JSON file for internal consistency.

Run with Debian's interpreter (/usr/bin/python3): the python3 on PATH may be
another one. Exit status 0 when every check holds, 1 otherwise (each failed
check is printed), 2 for a usage error.

  check-report.py REPORT [--min-objects N] [--fast-usable-size 0|1]
                  [--expect GROUP.FIELD=VALUE]... [--expect-tag GROUP.KEY=VALUE]...
  check-report.py --self-test
"""
import argparse
import json
import sys

TRAILER = 8  # bytes of trailer every live block carries at least
COUNTERS = ("allocated_bytes", "allocated_objects", "freed_bytes", "freed_objects",
            "live_bytes", "live_objects", "wrapped_bytes_live")
LIMITS = ("peak_bytes", "soft_limit", "hard_limit")


def check_group(g, index, fail):
    where = "group %d (%s)" % (index, g.get("name"))
    if g.get("id") != index:
        fail("%s: id %r, expected the dense id %d" % (where, g.get("id"), index))
    if not isinstance(g.get("name"), str) or not g["name"]:
        fail("%s: missing name" % where)
    if not isinstance(g.get("tags"), dict):
        fail("%s: tags is not an object" % where)
    for field in COUNTERS:
        if not isinstance(g.get(field), int):
            fail("%s: %s missing or not an integer" % (where, field))
            return
    a_obj, f_obj, l_obj = g["allocated_objects"], g["freed_objects"], g["live_objects"]
    a_b, f_b, l_b = g["allocated_bytes"], g["freed_bytes"], g["live_bytes"]
    wrapped = g["wrapped_bytes_live"]
    if a_obj - f_obj != l_obj:
        fail("%s: allocated_objects %d - freed_objects %d != live_objects %d"
             % (where, a_obj, f_obj, l_obj))
    if a_b - f_b != l_b:
        fail("%s: allocated_bytes %d - freed_bytes %d != live_bytes %d" % (where, a_b, f_b, l_b))
    if l_obj < 0 or l_b < 0:
        fail("%s: negative live count (objects %d, bytes %d)" % (where, l_obj, l_b))
    if wrapped < l_b + TRAILER * l_obj:
        fail("%s: wrapped_bytes_live %d < live_bytes %d + %d-byte trailer x %d live objects"
             % (where, wrapped, l_b, TRAILER, l_obj))
    if l_obj == 0 and wrapped != 0:
        fail("%s: no live object but wrapped_bytes_live %d" % (where, wrapped))
    if l_obj == 0 and l_b != 0:
        fail("%s: no live object but live_bytes %d" % (where, l_b))
    # peaks and limits (trackalloc.h, "Peaks and limits")
    for field in LIMITS:
        if not isinstance(g.get(field), int) or g[field] < 0:
            fail("%s: %s missing or not a non-negative integer" % (where, field))
            return
    peak, soft, hard = g["peak_bytes"], g["soft_limit"], g["hard_limit"]
    # never below the live bytes; never above everything ever allocated
    # (each figure the peak takes is a sum of real allocations and frees)
    if peak < l_b:
        fail("%s: peak_bytes %d < live_bytes %d" % (where, peak, l_b))
    if peak > a_b:
        fail("%s: peak_bytes %d > allocated_bytes %d" % (where, peak, a_b))
    if soft and hard and soft > hard:
        fail("%s: soft_limit %d > hard_limit %d" % (where, soft, hard))
    if index == 0 and (soft or hard):
        fail("%s: root has limits (soft %d, hard %d); it cannot be limited" % (where, soft, hard))


def check_report(report, opts):
    """Return the list of failed checks of a parsed report."""
    failures = []
    fail = failures.append
    groups = report.get("groups")
    diag = report.get("diagnostics")
    if not isinstance(report.get("pid"), int):
        fail("pid missing")
    if not isinstance(groups, list) or not groups:
        fail("groups missing or empty")
        groups = []
    if not isinstance(diag, dict):
        fail("diagnostics missing")
        diag = {}
    if groups and groups[0].get("name") != "root":
        fail("group 0 is %r, expected root" % groups[0].get("name"))
    for i, g in enumerate(groups):
        check_group(g, i, fail)

    for name in ("foreign_frees", "double_frees", "corrupt_trailers"):
        if diag.get(name) != 0:
            fail("diagnostics.%s is %r, expected 0" % (name, diag.get(name)))
    if opts.fast_usable_size is not None and diag.get("fast_usable_size") != opts.fast_usable_size:
        fail("diagnostics.fast_usable_size is %r, expected %d"
             % (diag.get("fast_usable_size"), opts.fast_usable_size))

    total = sum(g.get("allocated_objects", 0) for g in groups)
    if total < opts.min_objects:
        fail("only %d allocations counted, expected at least %d: was the wrapper interposed?"
             % (total, opts.min_objects))

    by_name = {g.get("name"): g for g in groups}
    for spec in opts.expect:
        target, _, value = spec.partition("=")
        gname, _, field = target.rpartition(".")
        g = by_name.get(gname)
        if g is None:
            fail("expected group %r is not in the report" % gname)
        elif g.get(field) != int(value):
            fail("%s.%s is %r, expected %s" % (gname, field, g.get(field), value))
    for spec in opts.expect_tag:
        target, _, value = spec.partition("=")
        gname, _, key = target.rpartition(".")
        tags = by_name.get(gname, {}).get("tags", {})
        if tags.get(key) != value:
            fail("group %r: tag %s is %r, expected %r" % (gname, key, tags.get(key), value))
    return failures


def self_test(opts):
    """Check that every rule rejects a report that breaks it."""
    def group(gid, name, a_obj, f_obj, a_b, f_b, wrapped):
        return {"id": gid, "name": name, "tags": {"k": "v"} if gid else {},
                "allocated_bytes": a_b, "allocated_objects": a_obj, "freed_bytes": f_b,
                "freed_objects": f_obj, "live_bytes": a_b - f_b, "live_objects": a_obj - f_obj,
                "wrapped_bytes_live": wrapped, "peak_bytes": min(a_b, a_b - f_b + 50),
                "soft_limit": 0, "hard_limit": 0}

    def good():
        return {"pid": 1, "groups": [group(0, "root", 10, 8, 1000, 900, 120),
                                     group(1, "cache", 5, 5, 50, 50, 0)],
                "diagnostics": {"foreign_frees": 0, "double_frees": 0, "corrupt_trailers": 0,
                                "bootstrap_frees": 0, "fast_usable_size": 1}}

    def setter(path, value):
        def mutate(r):
            node = r
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        return mutate

    def both(*mutations):
        def mutate(r):
            for m in mutations:
                m(r)
        return mutate

    g1 = ("groups", 1)
    broken = {
        "objects do not balance": setter(g1 + ("live_objects",), 1),
        "bytes do not balance": setter(g1 + ("live_bytes",), 7),
        "negative live objects": both(setter(g1 + ("freed_objects",), 6),
                                      setter(g1 + ("live_objects",), -1)),
        "negative live bytes": both(setter(g1 + ("freed_bytes",), 60),
                                    setter(g1 + ("live_bytes",), -10)),
        "wrapped below live": setter(("groups", 0, "wrapped_bytes_live"), 100),
        "wrapped without trailers": setter(("groups", 0, "wrapped_bytes_live"), 110),
        "wrapped with nothing live": setter(g1 + ("wrapped_bytes_live",), 8),
        "ids not dense": setter(g1 + ("id",), 2),
        "root not first": setter(("groups", 0, "name"), "other"),
        "counter not an integer": setter(g1 + ("freed_bytes",), "50"),
        "foreign free": setter(("diagnostics", "foreign_frees"), 1),
        "double free": setter(("diagnostics", "double_frees"), 1),
        "corrupt trailer": setter(("diagnostics", "corrupt_trailers"), 1),
        "slow path": setter(("diagnostics", "fast_usable_size"), 0),
        "too few allocations": setter(("groups", 0, "allocated_objects"), 2),
        "expected value": setter(g1 + ("allocated_bytes",), 51),
        "expected tag": setter(g1 + ("tags",), {"k": "w"}),
        "peak missing": lambda r: r["groups"][1].pop("peak_bytes"),
        "limit missing": lambda r: r["groups"][1].pop("hard_limit"),
        "peak below live": setter(("groups", 0, "peak_bytes"), 99),
        "peak above allocated": setter(g1 + ("peak_bytes",), 51),
        "soft above hard": both(setter(g1 + ("soft_limit",), 100),
                                setter(g1 + ("hard_limit",), 99)),
        "negative limit": setter(g1 + ("soft_limit",), -1),
        "root limited": setter(("groups", 0, "hard_limit"), 1000),
    }
    opts.fast_usable_size = 1
    opts.min_objects = 15
    opts.expect = ["cache.allocated_bytes=50"]
    opts.expect_tag = ["cache.k=v"]
    errors = ["valid report rejected: %s" % f for f in check_report(good(), opts)]
    for what, mutate in broken.items():
        report = good()
        mutate(report)
        try:
            rejected = check_report(report, opts)
        except Exception as e:  # pylint: disable=broad-except
            errors.append("%s: the checker raised %r" % (what, e))
            continue
        if not rejected:
            errors.append("%s: not detected" % what)
    for e in errors:
        print("check-report self-test: FAIL:", e)
    print("check-report self-test: %d broken reports, %s"
          % (len(broken), "FAILED" if errors else "all rejected"))
    return 1 if errors else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report", nargs="?")
    ap.add_argument("--self-test", action="store_true",
                    help="check that broken reports are rejected, then exit")
    ap.add_argument("--min-objects", type=int, default=1,
                    help="least allocated_objects summed over all groups")
    ap.add_argument("--fast-usable-size", type=int, choices=(0, 1))
    ap.add_argument("--expect", action="append", default=[], metavar="GROUP.FIELD=VALUE")
    ap.add_argument("--expect-tag", action="append", default=[], metavar="GROUP.KEY=VALUE")
    opts = ap.parse_args()
    if opts.self_test:
        return self_test(opts)
    if not opts.report:
        ap.error("REPORT is required")

    try:
        with open(opts.report, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        print("check-report: cannot read %s: %s" % (opts.report, e))
        return 1
    if not isinstance(report, dict):
        print("check-report: %s is not a JSON object" % opts.report)
        return 1
    failures = check_report(report, opts)
    groups = report.get("groups") if isinstance(report.get("groups"), list) else []
    for line in failures:
        print("check-report: FAIL:", line)
    print("check-report: %s: %d group(s), %d allocations, %d frees, diagnostics %s: %s"
          % (opts.report, len(groups), sum(g.get("allocated_objects", 0) for g in groups),
             sum(g.get("freed_objects", 0) for g in groups),
             json.dumps(report.get("diagnostics"), sort_keys=True),
             "FAILED" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
