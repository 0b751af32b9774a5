# SPDX-License-Identifier: MIT
"""Write a small, valid CTF 1.8 trace.

    /usr/bin/python3 make-ctf.py OUTDIR other|empty|limits|limits-old|limits-many

other: three events of a made-up provider ("other:hello");
empty: the same metadata and one packet with no event in it.
Used by the report's bad-input tests, which need no LTTng for these cases.

limits: a trackalloc trace as LTTng-UST writes it (the payload fields of
tracepoints/EVENTS.md with LTTng's leading underscore, the vpid, vtid and
procname contexts), made up with known figures (ctf_limits.py) for the report's
in-process peaks and limit crossings: group_stats with peak_bytes and
group_limit events, in a process with alloc/free events and in one with
group_stats samples only. limits-old: the same events as a release from
before peak_bytes and group_limit existed writes them (no such field, no
such event); limits-many: limits with 45 more crossings. Prints what the
report must show, as JSON, on stdout.
"""
import struct
import sys

import ctf_limits
import ctf_writer

OTHER_EVENT = """
event {
	name = "other:hello";
	id = 0;
	stream_id = 0;
	fields := struct {
		uint32_t value;
	};
};
"""


def main(argv):
    kinds = ("other", "empty", "limits", "limits-old", "limits-many")
    if len(argv) != 3 or argv[2] not in kinds:
        print("usage: make-ctf.py OUTDIR " + "|".join(kinds), file=sys.stderr)
        return 2
    out, kind = argv[1], argv[2]
    if kind.startswith("limits"):
        return ctf_limits.write(out, kind == "limits-old", kind == "limits-many")
    trace = ctf_writer.Trace(out, OTHER_EVENT, context=False, env=False)
    times = [] if kind == "empty" else [1000, 2000, 3000]
    trace.stream("stream_0", [(t, 0, struct.pack("<I", i)) for i, t in enumerate(times)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
