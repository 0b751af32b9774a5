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
import os
import struct
import sys
import uuid

import ctf_limits

METADATA = """/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;

trace {
	major = 1;
	minor = 8;
	uuid = "%(uuid)s";
	byte_order = le;
	packet.header := struct {
		uint32_t magic;
		uint8_t  uuid[16];
		uint32_t stream_id;
	};
};

clock {
	name = "monotonic";
	freq = 1000000000;
	offset_s = 1700000000;
};

typealias integer {
	size = 64; align = 8; signed = false; map = clock.monotonic.value;
} := clock64_t;

stream {
	id = 0;
	packet.context := struct {
		uint64_t content_size;
		uint64_t packet_size;
		clock64_t timestamp_begin;
		clock64_t timestamp_end;
	};
	event.header := struct {
		uint32_t id;
		clock64_t timestamp;
	};
};

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
    trace_uuid = uuid.uuid4()
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "metadata"), "w", encoding="ascii") as f:
        f.write(METADATA % {"uuid": str(trace_uuid)})
    times = [] if kind == "empty" else [1000, 2000, 3000]
    events = b"".join(struct.pack("<IQI", 0, t, i) for i, t in enumerate(times))
    header_len = 4 + 16 + 4 + 4 * 8
    size_bits = (header_len + len(events)) * 8
    packet = struct.pack("<I16sI", 0xC1FC1FC1, trace_uuid.bytes, 0)
    packet += struct.pack("<QQQQ", size_bits, size_bits, 1000, 3000)
    with open(os.path.join(out, "stream_0"), "wb") as f:
        f.write(packet + events)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
