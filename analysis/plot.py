# SPDX-License-Identifier: MIT
"""Draw trackalloc-report's live-bytes timeline.

    /usr/bin/python3 plot.py TIMELINE.csv OUT.png|OUT.svg [--limit PID,GROUP_ID,soft|hard,BYTES]...

TIMELINE.csv is what `trackalloc-report --csv` writes (time_s, pid, group_id,
group_name, live_bytes). One line per group and process, labelled
"name (pid)", drawn as steps (a row holds until the next one); time in
seconds on x, live bytes on y in B, KiB, MiB or GiB. In an SVG, text stays
text and each series is a group with id "series-N", so both can be searched.

Each --limit (trackalloc-report passes the limits its trace's group_limit
events reported) is a dashed horizontal line in its group's colour over the
group's time span, labelled "name (pid) soft limit N UNIT" (or hard: longer
dashes, thicker); in an SVG, a group with id "limit-N". A limit of a group the CSV
does not have is left out.

Exit status: 0 success, 1 cannot plot (no matplotlib, unreadable or
malformed CSV, cannot write OUT), 2 usage.
"""
import csv
import sys

COLUMNS = ("time_s", "pid", "group_id", "group_name", "live_bytes")
USAGE = "usage: plot.py TIMELINE.csv OUT.png|OUT.svg [--limit PID,GROUP_ID,soft|hard,BYTES]..."
DASHES = {"soft": ((0, (4, 3)), 1.0), "hard": ((0, (8, 3)), 1.8)}
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


def parse_limits(args):
    """[((pid, group_id), kind, bytes)] from the --limit arguments (ValueError)."""
    limits = []
    if len(args) % 2:
        raise ValueError("--limit without its value")
    for opt, value in zip(args[::2], args[1::2]):
        fields = value.split(",")
        if opt != "--limit" or len(fields) != 4 or fields[2] not in DASHES:
            raise ValueError("%s %s" % (opt, value))
        limits.append(((int(fields[0]), int(fields[1])), fields[2], int(fields[3])))
    return limits


def main(argv):
    try:
        if len(argv) < 3 or not argv[2].lower().endswith((".png", ".svg")):
            raise ValueError("missing arguments")
        limits = parse_limits(argv[3:])
    except ValueError as e:
        print("plot.py: %s\n%s" % (e, USAGE), file=sys.stderr)
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

    limits = [lim for lim in limits if lim[0] in series and series[lim[0]][2]]
    top = max([max(s[2]) for s in series.values() if s[2]] + [lim[2] for lim in limits],
              default=0)
    scale, unit = next(u for u in UNITS if top >= u[0] or u[0] == 1)

    plt.rcParams["svg.fonttype"] = "none"  # keep labels as text
    fig, ax = plt.subplots(figsize=(11, 6), layout="constrained")
    colours = {}
    for i, (key, (label, times, values)) in enumerate(series.items()):
        (line,) = ax.step(times, [v / scale for v in values], where="post", label=label,
                          linewidth=1.4)
        line.set_gid("series-%d" % i)
        colours[key] = line.get_color()
    for i, (key, kind, value) in enumerate(limits):
        label, times, _ = series[key]
        style, width = DASHES[kind]
        lines = ax.hlines(value / scale, min(times), max(times), colors=colours[key],
                          linestyles=[style], linewidth=width,
                          label="%s %s limit %.4g %s" % (label, kind, value / scale, unit))
        lines.set_gid("limit-%d" % i)
    ax.set_title("trackalloc: live heap bytes per allocation group")
    ax.set_xlabel("time since trace start (s)")
    ax.set_ylabel("live bytes (%s)" % unit)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", handlelength=3,
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
