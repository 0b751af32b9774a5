# SPDX-License-Identifier: MIT
"""make-ctf.py's limits and limits-old traces: trackalloc events with known
in-process peaks and limit crossings (see make-ctf.py).

Two processes, in one stream (as with per-user buffers), times in
microseconds from the first event:

  4242 synth-full, alloc/free events (the report's source: events)
    cache (1): 600 + 600 B, live 1200 crosses its soft limit 1000 (hard 5000)
       at 1150 us; both freed (the crossing re-arms); 1500 B, live 1500
       crosses again at 3050 us. Its samples' peak_bytes: 4000 (4000 B
       allocated and freed before the trace), 4000, then 1500 after a
       ta_group_peak_reset: the in-process peak shown is 4000, the trace's
       own peak 1500.
    plain (2): 300 B, peak_bytes 300. root (0): peak_bytes 64.
  4343 synth-counters, group_stats samples only (source: samples)
    jobs (1): 3000 B sampled, a crossing of soft 2048 (no hard limit) at
       2600 us, then all freed; peak_bytes 3000. root (0): peak_bytes 0.

limits-old: the same without group_limit and without peak_bytes.
limits-many: limits with 45 more crossings of jobs (soft 2048), 100 us
apart from 8000 us on: more than the table shows of a process.
"""
import json
import struct

import ctf_writer

EVENTS = """event {
	name = "trackalloc:group_register";
	id = 0;
	stream_id = 0;
	loglevel = 6;
	fields := struct {
		uint32_t _group_id;
		string _name;
		uint32_t _ntags;
	};
};

event {
	name = "trackalloc:alloc";
	id = 1;
	stream_id = 0;
	loglevel = 13;
	fields := struct {
		ptr_t _ptr;
		uint64_t _size;
		uint32_t _group_id;
	};
};

event {
	name = "trackalloc:free";
	id = 2;
	stream_id = 0;
	loglevel = 13;
	fields := struct {
		ptr_t _ptr;
		uint64_t _size;
		uint32_t _group_id;
		uint32_t _current_group_id;
	};
};

event {
	name = "trackalloc:group_stats";
	id = 3;
	stream_id = 0;
	loglevel = 6;
	fields := struct {
		uint32_t _group_id;
		uint64_t _allocated_bytes;
		uint64_t _allocated_objects;
		uint64_t _freed_bytes;
		uint64_t _freed_objects;
		uint64_t _wrapped_bytes_live;%(peak_field)s
	};
};
%(limit_event)s"""

LIMIT_EVENT = """
event {
	name = "trackalloc:group_limit";
	id = 4;
	stream_id = 0;
	loglevel = 6;
	fields := struct {
		uint32_t _group_id;
		uint64_t _live_bytes;
		uint64_t _soft_limit;
		uint64_t _hard_limit;
	};
};
"""

FULL, COUNTERS = (4242, "synth-full"), (4343, "synth-counters")


MANY = [(8000 + 100 * i, 2049 + 16 * i) for i in range(45)]


def events(old, many):
    """(time_us, process, event id, payload bytes) in time order."""
    ev = []

    def register(t, proc, gid, name):
        ev.append((t, proc, 0, struct.pack("<I", gid) + name.encode() + b"\0" +
                   struct.pack("<I", 0)))

    def alloc(t, ptr, size, gid):
        ev.append((t, FULL, 1, struct.pack("<QQI", ptr, size, gid)))

    def free(t, ptr, size, gid):
        ev.append((t, FULL, 2, struct.pack("<QQII", ptr, size, gid, gid)))

    def stats(t, proc, gid, ab, ao, fb, fo, peak):
        payload = struct.pack("<IQQQQQ", gid, ab, ao, fb, fo, 0)
        if not old:
            payload += struct.pack("<Q", peak)
        ev.append((t, proc, 3, payload))

    def limit(t, proc, gid, live, soft, hard):
        if not old:
            ev.append((t, proc, 4, struct.pack("<IQQQ", gid, live, soft, hard)))

    register(1000, FULL, 0, "root")
    register(1100, FULL, 1, "cache")
    register(1200, FULL, 2, "plain")
    register(1500, COUNTERS, 0, "root")
    register(1600, COUNTERS, 1, "jobs")
    alloc(2000, 0x1000, 600, 1)
    alloc(2100, 0x2000, 600, 1)
    limit(2150, FULL, 1, 1200, 1000, 5000)
    alloc(2200, 0x3000, 300, 2)
    stats(2500, FULL, 1, 5200, 6, 4000, 4, 4000)
    free(3000, 0x1000, 600, 1)
    free(3100, 0x2000, 600, 1)
    stats(3500, COUNTERS, 1, 3000, 3, 0, 0, 3000)
    limit(3600, COUNTERS, 1, 3000, 2048, 0)
    alloc(4000, 0x4000, 1500, 1)
    limit(4050, FULL, 1, 1500, 1000, 5000)
    stats(5000, FULL, 0, 64, 1, 0, 0, 64)
    stats(5000, FULL, 1, 6700, 7, 5200, 6, 4000)
    stats(5000, FULL, 2, 300, 1, 0, 0, 300)
    stats(6000, FULL, 1, 6700, 7, 5200, 6, 1500)
    stats(7000, COUNTERS, 0, 0, 0, 0, 0, 0)
    stats(7000, COUNTERS, 1, 3000, 3, 3000, 3, 3000)
    for t, live in MANY if many else []:
        limit(t, COUNTERS, 1, live, 2048, 0)
    return sorted(ev, key=lambda e: e[0])


def expected(old, many):
    """What the report must show: per pid, per group id, and the crossings."""
    def peak(v):
        return None if old else v

    def crossing(t, gid, live, soft, hard):
        return {"group_id": gid, "time_s": (t - 1000) / 1e6, "live_bytes": live,
                "soft_limit": soft, "hard_limit": hard}

    return {
        "old": old,
        "procs": {
            str(FULL[0]): {
                "procname": FULL[1], "source": "events",
                "groups": {"0": {"name": "root", "peak": 0, "inproc_peak": peak(64)},
                           "1": {"name": "cache", "peak": 1500, "inproc_peak": peak(4000)},
                           "2": {"name": "plain", "peak": 300, "inproc_peak": peak(300)}},
                "crossings": [] if old else [crossing(2150, 1, 1200, 1000, 5000),
                                             crossing(4050, 1, 1500, 1000, 5000)],
            },
            str(COUNTERS[0]): {
                "procname": COUNTERS[1], "source": "samples",
                "groups": {"0": {"name": "root", "peak": 0, "inproc_peak": peak(0)},
                           "1": {"name": "jobs", "peak": 3000, "inproc_peak": peak(3000)}},
                "crossings": [] if old else [crossing(3600, 1, 3000, 2048, 0)] +
                [crossing(t, 1, live, 2048, 0) for t, live in (MANY if many else [])],
            },
        },
    }


def write(out, old, many=False):
    trace = ctf_writer.Trace(out, EVENTS % {
        "peak_field": "" if old else "\n\t\tuint64_t _peak_bytes;",
        "limit_event": "" if old else LIMIT_EVENT})
    ev = events(old, many)
    trace.stream("stream_0", [(t * 1000, eid, ctf_writer.context(pid, pid, procname) + payload)
                              for t, (pid, procname), eid, payload in ev])
    print(json.dumps(expected(old, many), indent=1, sort_keys=True))
    return 0
