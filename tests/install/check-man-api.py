#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""trackalloc(3) against the header: the man page cannot drift from the API.

    check-man-api.py HEADER MAN_SOURCE [CC...]

Every public name of HEADER (functions, types, structs and their public
fields, macros) must be documented in MAN_SOURCE (the scdoc source of
trackalloc(3)) in bold, *name* (or *struct name*); every ta_/TA_ identifier MAN_SOURCE names
must still be in HEADER. The header goes through the C preprocessor (CC,
default cc), so comments and conditionals are read as a compiler reads them.
Names starting with an underscore are private; the export macro (the one
whose value sets symbol visibility) is not API.

Exit status: 0 both agree, 1 they do not (each difference on stderr),
2 usage or a tool failed.
"""
import re
import subprocess
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def preprocess(cc, header, *flags):
    return subprocess.run(cc + ["-E", "-P", *flags, "-x", "c", header],
                          check=True, capture_output=True, text=True).stdout


def struct_fields(body):
    """Public member names of a struct body (no nested structs in this API)."""
    fields = []
    for decl in body.split(";"):
        pointer = re.search(r"\(\s*\*\s*(" + IDENT + r")\s*\)\s*\(", decl)
        if pointer:  # a function pointer: its name, not its parameters'
            fields.append(pointer.group(1))
            continue
        for part in decl.split(","):
            names = re.findall(IDENT, part)
            if names:
                fields.append(names[-1])
    return [f for f in fields if not f.startswith("_")]


def header_names(cc, header):
    code = preprocess(cc, header)
    names = {}  # name -> what it is
    for m in re.finditer(r"\b(ta_" + r"[A-Za-z0-9_]+)\s*\(", code):
        names.setdefault(m.group(1), "function")
    for m in re.finditer(r"\bstruct\s+(ta_[A-Za-z0-9_]+)\s*\{([^}]*)\}", code):
        names[m.group(1)] = "struct"
        for field in struct_fields(m.group(2)):
            names.setdefault(field, "field of struct " + m.group(1))
    for m in re.finditer(r"\bstruct\s+(ta_[A-Za-z0-9_]+)", code):
        names.setdefault(m.group(1), "struct")
    for m in re.finditer(r"\btypedef\b[^;]*?\b(ta_[A-Za-z0-9_]+)\s*;", code):
        names.setdefault(m.group(1), "type")
    for line in preprocess(cc, header, "-dM").splitlines():
        m = re.match(r"#define\s+(TA_[A-Za-z0-9_]*)(\([^)]*\))?\s*(.*)", line)
        if m and "visibility" not in m.group(3):
            names[m.group(1)] = "macro"
    return names


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    header, man = argv[1], argv[2]
    cc = argv[3:] or ["cc"]
    try:
        names = header_names(cc, header)
    except (OSError, subprocess.CalledProcessError) as e:
        print("check-man-api: cannot preprocess %s: %s" % (header, e), file=sys.stderr)
        return 2
    functions = [n for n, kind in names.items() if kind == "function"]
    if len(functions) < 10:
        print("check-man-api: found only %d functions in %s: the extraction is broken"
              % (len(functions), header), file=sys.stderr)
        return 2
    with open(man, encoding="utf-8") as f:
        text = "".join(l for l in f if not l.startswith(";"))  # scdoc comments
    bad = 0
    for name in sorted(names):
        if "*" + name + "*" not in text and "*struct " + name + "*" not in text:
            print("%s: %s %s is not documented (as *%s*)" % (man, names[name], name, name),
                  file=sys.stderr)
            bad += 1
    public = {n for n in names if n.startswith(("ta_", "TA_"))}
    for name in sorted(set(re.findall(r"(?<![A-Za-z0-9_])(?:ta|TA)_[A-Za-z0-9_]+", text))):
        if name not in public:
            print("%s: names %s, which %s does not declare" % (man, name, header),
                  file=sys.stderr)
            bad += 1
    if bad:
        return 1
    print("trackalloc(3) documents all %d names of %s (%d functions)"
          % (len(names), header, len(functions)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
