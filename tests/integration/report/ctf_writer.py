# SPDX-License-Identifier: MIT
"""The one CTF 1.8 writer of the synthetic traces (make-ctf.py, ctf_limits.py,
make-batch-ctf.py, ../stacks/make-stacks-ctf.py): the metadata around a
list of event declarations, and stream files of packets.

Every trace has one stream class (id 0): a packet header (magic, UUID,
stream id), a packet context (content and packet sizes, first and last
timestamps), an event header (id, 64-bit timestamp of the "monotonic" clock,
offset 1700000000 s, so times count from the Unix epoch as LTTng's do) and,
when asked, the vpid/vtid/procname event context of `trackalloc record`.
"""
import os
import struct
import uuid

TYPES = """/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 32; align = 8; signed = true; } := int32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
typealias integer { size = 64; align = 8; signed = false; base = 16; } := ptr_t;
"""

TRACE = """
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
%(env)s
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
	};%(context)s
};
"""

ENV = """
env {
	domain = "ust";
	tracer_name = "lttng-ust";
};
"""

# LTTng-UST's names (a leading underscore, which babeltrace2 drops), or
# plain ones.
CONTEXT = """
	event.context := struct {
		int32_t %(u)svpid;
		int32_t %(u)svtid;
		string %(u)sprocname;
	};"""

HEADER_LEN = 4 + 16 + 4 + 4 * 8


class Trace:
    """A trace directory: metadata written at once, streams with stream()."""

    def __init__(self, out, events, context=True, env=True, underscore=True):
        self.out = out
        self.uuid = uuid.uuid4()
        os.makedirs(out, exist_ok=True)
        ctx = CONTEXT % {"u": "_" if underscore else ""} if context else ""
        with open(os.path.join(out, "metadata"), "w", encoding="ascii") as f:
            f.write(TYPES + TRACE % {"uuid": str(self.uuid), "env": ENV if env else "",
                                     "context": ctx} + events)

    def stream(self, name, events, packet_max=1 << 20, empty_ts=1000):
        """Write stream file NAME of EVENTS, (ts, event id, bytes after the
        header) in time order, in packets of about PACKET_MAX bytes; no
        event: one empty packet at EMPTY_TS."""
        with open(os.path.join(self.out, name), "wb") as f:
            i = 0
            while True:
                chunk, size = [], 0
                while i < len(events) and size < packet_max:
                    ts, eid, body = events[i]
                    chunk.append(struct.pack("<IQ", eid, ts) + body)
                    size += len(chunk[-1])
                    i += 1
                data = b"".join(chunk)
                bits = (HEADER_LEN + len(data)) * 8
                t0 = events[i - len(chunk)][0] if chunk else empty_ts
                t1 = events[i - 1][0] if chunk else empty_ts
                f.write(struct.pack("<I16sI", 0xC1FC1FC1, self.uuid.bytes, 0) +
                        struct.pack("<QQQQ", bits, bits, t0, t1) + data)
                if i >= len(events):
                    break


def context(pid, tid, procname):
    """The event context of `trackalloc record` (vpid, vtid, procname)."""
    return struct.pack("<ii", pid, tid) + procname.encode() + b"\0"
