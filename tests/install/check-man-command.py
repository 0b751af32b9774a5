#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""trackalloc(1) against the command: the man page cannot drift from it.

    check-man-command.py MAN_SOURCE TRACKALLOC [--helper PROGRAM]... [--env-source PATH]...

Runs `TRACKALLOC help` and each helper's --help (trackalloc-report,
trackalloc-attach: what `trackalloc report` and `trackalloc attach` run) and
checks MAN_SOURCE, the scdoc source of trackalloc(1):
 - every subcommand the usage lists has an entry, a line starting *name*;
 - every option any of these usages shows is documented in bold, *-x*;
 - every TRACKALLOC_ variable the sources read (--env-source: a file, or a
   directory's *.c, *.h and *.in files) is documented in bold, and every one
   the page names is still read somewhere;
 - every subcommand the page has an entry for is one the command accepts.

Exit status: 0 they agree, 1 they do not (each difference on stderr), 2 usage.
"""
import glob
import os
import re
import subprocess
import sys

OPTION = r"(?<![\w-])(--?[A-Za-z][\w-]*)"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def section(text, name):
    """The lines of scdoc section '# NAME' (up to the next '# ')."""
    m = re.search(r"^# " + name + r"\n(.*?)(?=^# |\Z)", text, re.M | re.S)
    return m.group(1) if m else ""


def main(argv):
    args = argv[1:]
    if len(args) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    man, cmd = args[0], args[1]
    helpers, env_sources = [], []
    rest = args[2:]
    while rest:
        if len(rest) < 2 or rest[0] not in ("--helper", "--env-source"):
            print("check-man-command: unexpected %r" % rest[0], file=sys.stderr)
            return 2
        (helpers if rest[0] == "--helper" else env_sources).append(rest[1])
        rest = rest[2:]
    with open(man, encoding="utf-8") as f:
        text = "".join(l for l in f if not l.startswith(";"))  # scdoc comments
    bad = []

    status, usage = run([cmd, "help"])
    if status != 0 or "usage:" not in usage:
        print("check-man-command: '%s help' failed (%d):\n%s" % (cmd, status, usage),
              file=sys.stderr)
        return 2
    subcommands = set()
    for line in usage.splitlines():
        m = re.match(r"^(?:usage:)?\s+\S*trackalloc\s+(\S+)", line)
        if m:
            subcommands.add(m.group(1))
        m = re.match(r"^([a-z]+)\s{2,}\S", line)  # a subcommand's paragraph
        if m:
            subcommands.add(m.group(1))
    if not {"record", "report"} <= subcommands:
        print("check-man-command: no subcommands found in the usage:\n" + usage,
              file=sys.stderr)
        return 2
    commands = section(text, "COMMANDS")
    for sub in sorted(subcommands):
        if not re.search(r"^(?:\*[^*\n]+\*, )*\*" + re.escape(sub) + r"\*", commands, re.M):
            bad.append("subcommand %s has no entry in COMMANDS (a line starting *%s*)"
                       % (sub, sub))

    usages = [usage]
    for helper in helpers:
        status, out = run([helper, "--help"])
        if status != 0 or "usage:" not in out:
            print("check-man-command: '%s --help' failed (%d):\n%s" % (helper, status, out),
                  file=sys.stderr)
            return 2
        usages.append(out)
    options = set()
    for u in usages:
        options.update(re.findall(OPTION, u))
    for opt in sorted(options):
        if "*" + opt + "*" not in text:
            bad.append("option %s is not documented (as *%s*)" % (opt, opt))

    read = set()
    files = []
    for path in env_sources:
        if os.path.isdir(path):
            files += sorted(f for pattern in ("*.c", "*.h", "*.in")
                            for f in glob.glob(os.path.join(path, pattern)))
        else:
            files.append(path)
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            read.update(re.findall(r"\bTRACKALLOC_[A-Z0-9_]+", f.read()))
    read = {v for v in read if not v.endswith("_H")}  # include guards
    if env_sources and not read:
        print("check-man-command: no TRACKALLOC_ variable in the sources", file=sys.stderr)
        return 2
    for var in sorted(read):
        if "*" + var + "*" not in text:
            bad.append("environment variable %s is not documented (as *%s*)" % (var, var))
    if env_sources:
        for var in sorted(set(re.findall(r"\bTRACKALLOC_[A-Z0-9_]+", text)) - read):
            bad.append("names %s, which no source reads" % var)

    # Entries of COMMANDS the command does not know.
    for sub in sorted(set(re.findall(r"^\*([a-z][a-z-]*)\*", commands, re.M)) - subcommands):
        status, out = run([cmd, sub])
        if "unknown command" in out:
            bad.append("COMMANDS has an entry for %s, which %s rejects: %s"
                       % (sub, cmd, out.strip()))

    for b in bad:
        print("%s: %s" % (man, b), file=sys.stderr)
    if bad:
        return 1
    print("trackalloc(1) documents %d subcommands, %d options, %d variables"
          % (len(subcommands), len(options), len(read)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
