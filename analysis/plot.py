# SPDX-License-Identifier: MIT
"""Draw trackalloc-report's live-bytes timeline.

    /usr/bin/python3 plot.py TIMELINE.csv OUT.png|OUT.svg

TIMELINE.csv is what `trackalloc-report --csv` writes (time_s, pid, group_id,
group_name, live_bytes). One line per group and process, labelled
"name (pid)", drawn as steps (a row holds until the next one); time in
seconds on x, live bytes on y in B, KiB, MiB or GiB. In an SVG, text stays
text and each series is a group with id "series-N", so both can be searched.

Exit status: 0 success, 1 cannot plot (no matplotlib, unreadable or
malformed CSV, cannot write OUT), 2 usage.
"""
import csv
import sys

COLUMNS = ("time_s", "pid", "group_id", "group_name", "live_bytes")
UNITS = ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"), (1, "B"))


def fail(msg):
    print("trackalloc plot: " + msg, file=sys.stderr)
    return 1


def read_series(path):
    """{(pid, group_id): [label, times, values]} in order of first row."""
    series = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError("%s: expected columns %s" % (path, ",".join(COLUMNS)))
        for row in reader:
            key = (int(row["pid"]), int(row["group_id"]))
            if key not in series:
                series[key] = ["%s (%s)" % (row["group_name"], row["pid"]), [], []]
            series[key][1].append(float(row["time_s"]))
            series[key][2].append(int(row["live_bytes"]))
    return series


def main(argv):
    if len(argv) != 3 or not argv[2].lower().endswith((".png", ".svg")):
        print("usage: plot.py TIMELINE.csv OUT.png|OUT.svg", file=sys.stderr)
        return 2
    csv_path, out = argv[1], argv[2]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return fail("matplotlib is not installed for %s" % sys.executable)
    try:
        series = read_series(csv_path)
    except (OSError, ValueError, KeyError) as e:
        return fail("cannot read the timeline: %s" % e)

    top = max((max(s[2]) for s in series.values() if s[2]), default=0)
    scale, unit = next(u for u in UNITS if top >= u[0] or u[0] == 1)

    plt.rcParams["svg.fonttype"] = "none"  # keep labels as text
    fig, ax = plt.subplots(figsize=(11, 6), layout="constrained")
    for i, (label, times, values) in enumerate(series.values()):
        (line,) = ax.step(times, [v / scale for v in values], where="post", label=label,
                          linewidth=1.4)
        line.set_gid("series-%d" % i)
    ax.set_title("trackalloc: live heap bytes per allocation group")
    ax.set_xlabel("time since trace start (s)")
    ax.set_ylabel("live bytes (%s)" % unit)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                  ncol=1 if len(series) <= 25 else 2, title="group (pid)")
    else:
        ax.text(0.5, 0.5, "no timeline data", ha="center", va="center",
                transform=ax.transAxes)
    try:
        fig.savefig(out)
    except (OSError, ValueError) as e:
        return fail("cannot write %s: %s" % (out, e))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
