#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write one synthetic heap workload as a trackalloc trace, in either form
of full traces (tracepoints/EVENTS.md), so that the report's outputs on
both can be compared.

    make-batch-ctf.py OUTDIR [--form calls|batches|both] [--calls N]
                      [--seed S] [--threads T] [--procs P] [--quantum Q]
                      [--ratio R] [--bufsize B] [--live L] [--drop K]
                      [--garbage] [--restart] [--standalone F] [--late]
                      [--fuzz P] [--unseen K]

Processes 5001, 5002... each with T threads (tids pid+1...) and a watcher
thread (pid+900), on one time line: every call at its own nanosecond, a
thread's live set wandering around L blocks (default 1000). The heap
mimics glibc's: 16-byte aligned chunks bumped from an arena per
thread, freed chunks reused last-in first-out per size class; frees of
other threads' blocks (other groups), reallocs in place and moving,
aligned allocations, threads changing group, one-off calls charged to
another group.

--form calls: the per-call events (alloc, alloc_aligned, free, realloc);
batches: trackalloc:batch events only, flushed when a thread's buffer
passes B bytes (default 3000), by the watcher (another vtid) when its
oldest record is 100 ms old, and at the end; both: process 5001's calls
in both forms, the others' in batches. Q: the encoder's time quantum in
ticks (default 1: every record its exact time; the library's is 65536);
R: ticks per nanosecond (default 1, exact conversion).
Batch-form damage: --drop K drops every K-th batch of the first thread;
--garbage damages some of its batches (bytes overwritten, a reserved
kind, data shorter than the length, a record cut); --restart ends the
first thread half-way and starts a new one with the same tid (offset 0);
--standalone F writes a fraction F of the second thread's calls as
standalone batches; --late writes the second thread's batches 800 ms
after they were due; --fuzz P overwrites 1 to 8 random bytes of a
fraction P of every thread's batches; --unseen K leaves out the first K
batches of the first thread, as a session started while it ran would.

Prints JSON: calls, batches, batch_bytes (record-stream bytes),
lost_bytes (--drop), trace_bytes (stream files), bytes_per_call.
"""
import argparse
import json
import os
import random
import struct
import sys

import ctf_batch
import ctf_writer

EVENTS = """
event { name = "trackalloc:group_register"; id = 0; stream_id = 0; loglevel = 6;
	fields := struct { uint32_t _group_id; string _name; uint32_t _ntags; }; };
event { name = "trackalloc:alloc"; id = 1; stream_id = 0; loglevel = 13;
	fields := struct { ptr_t _ptr; uint64_t _size; uint32_t _group_id; }; };
event { name = "trackalloc:alloc_aligned"; id = 2; stream_id = 0; loglevel = 13;
	fields := struct { ptr_t _ptr; uint64_t _size; uint64_t _alignment; uint32_t _group_id; }; };
event { name = "trackalloc:free"; id = 3; stream_id = 0; loglevel = 13;
	fields := struct { ptr_t _ptr; uint64_t _size; uint32_t _group_id;
	                   uint32_t _current_group_id; }; };
event { name = "trackalloc:realloc"; id = 4; stream_id = 0; loglevel = 13;
	fields := struct { ptr_t _in_ptr; ptr_t _ptr; uint64_t _old_size; uint64_t _size;
	                   uint32_t _source_group_id; uint32_t _group_id; }; };
event { name = "trackalloc:batch"; id = 5; stream_id = 0; loglevel = 13;
	fields := struct { uint32_t _tid; uint64_t _offset; uint32_t _length; uint64_t _tsc;
	                   uint64_t _ns; uint64_t _tsc_base; uint64_t _ns_base;
	                   uint32_t __data_length; uint64_t _data[__data_length]; }; };
"""

GROUPS = ["root", "parser", "cache", "io", "request:1", "request:2"]
START_NS = 10 ** 9        # the first call, on the trace clock's raw value
TSC_BASE = 7 * 10 ** 11   # ticks when recording started
WATCH_NS = 50 * 10 ** 6   # the watcher's period
AGE_NS = 100 * 10 ** 6    # it flushes a buffer whose oldest record is this old
# a few sizes whose varints take 6 to 10 bytes, at these call numbers
WIDE = {101: (1 << 40) + 3, 202: (1 << 50) + 5, 303: (1 << 57) + 7, 404: (1 << 62) + 9,
        505: (1 << 63) + 11}


class Heap:
    """A glibc-like heap of one process: per-thread arenas, LIFO reuse."""

    def __init__(self, rnd, pid):
        self.rnd = rnd
        self.top = {}
        self.bins = {}
        self.base = 0x55D000000000 + (pid % 64) * 0x100000000

    def malloc(self, tid, size, align=16):
        chunk = max(32, (size + 8 + 15) & ~15)
        free = self.bins.get((tid, chunk))
        if free and align == 16:
            return free.pop(), chunk
        top = self.top.get(tid, self.base + (tid % 16) * 0x40000000)
        top = (top + align - 1) & ~(align - 1)
        self.top[tid] = top + chunk
        return top, chunk

    def free(self, tid, ptr, chunk):
        self.bins.setdefault((tid, chunk), []).append(ptr)


def workload(args, rnd):
    """[(t, pid, tid, op, ...)] in time order, every call at its own ns."""
    procs = []
    for i in range(args.procs):
        pid = 5001 + i
        procs.append({"pid": pid, "tids": [pid + 1 + j for j in range(args.threads)],
                      "heap": Heap(rnd, pid), "live": {}, "group": {}})
        for tid in procs[-1]["tids"]:
            procs[-1]["live"][tid] = []
            procs[-1]["group"][tid] = 1 + (tid % (len(GROUPS) - 1))
    calls = []
    t = START_NS
    for n in range(args.calls):
        t += rnd.randint(1, 2 * args.gap_ns)
        pr = procs[n % len(procs)] if len(procs) > 1 and rnd.random() < 0.5 else procs[0]
        tid = rnd.choice(pr["tids"])
        live, heap = pr["live"], pr["heap"]
        if rnd.random() < 0.02:
            pr["group"][tid] = rnd.randrange(len(GROUPS))
        cur = pr["group"][tid]
        r = rnd.random()
        mine = live[tid]
        # a live set that wanders around args.live blocks a thread
        if mine and r < (0.44 if len(mine) < args.live else 0.52):
            # mostly the newest block; sometimes another thread's
            owner = tid if rnd.random() < 0.9 else rnd.choice(pr["tids"])
            blocks = live[owner] or mine
            owner = owner if live[owner] else tid
            k = len(blocks) - 1 - min(int(rnd.expovariate(0.5)), len(blocks) - 1)
            ptr, size, chunk, gid = blocks.pop(k)
            heap.free(owner, ptr, chunk)
            calls.append((t, pr["pid"], tid, "free", ptr, size, gid, cur))
        elif mine and r < (0.49 if len(mine) < args.live else 0.57):
            k = rnd.randrange(len(mine))
            in_ptr, old, chunk, src = mine[k]
            size = max(1, int(old * rnd.uniform(0.5, 3)))
            if (size + 8 + 15) & ~15 <= chunk:
                ptr = in_ptr
            else:
                heap.free(tid, in_ptr, chunk)
                ptr, chunk = heap.malloc(tid, size)
            mine[k] = (ptr, size, chunk, cur)
            calls.append((t, pr["pid"], tid, "realloc", in_ptr, ptr, old, size, src, cur))
        else:
            size = int(rnd.paretovariate(1.3) * 16) if rnd.random() < 0.97 else \
                rnd.randint(4096, 65536)
            if n in WIDE:  # varints of 6 to 10 bytes
                size = WIDE[n]
            gid = cur if rnd.random() < 0.95 else rnd.randrange(len(GROUPS))
            align = 64 if rnd.random() < 0.02 else 16
            ptr, chunk = heap.malloc(tid, size, align)
            mine.append((ptr, size, chunk, gid))
            calls.append((t, pr["pid"], tid, "alloc", ptr, size, gid, align))
    return procs, calls, t


class Out:
    """The trace's events, per CTF stream file (two, as two CPUs)."""

    def __init__(self):
        self.streams = ([], [])

    def event(self, t, pid, vtid, eid, payload):
        self.streams[vtid % 2].append((t, eid, ctf_writer.context(pid, vtid, "synth-%d" % pid) +
                                       payload))


def call_event(out, t, pid, tid, c):
    op = c[3]
    if op == "alloc":
        ptr, size, gid, align = c[4:8]
        if align != 16:
            out.event(t, pid, tid, 2, struct.pack("<QQQI", ptr, size, align, gid))
        else:
            out.event(t, pid, tid, 1, struct.pack("<QQI", ptr, size, gid))
    elif op == "free":
        out.event(t, pid, tid, 3, struct.pack("<QQII", *c[4:8]))
    else:
        out.event(t, pid, tid, 4, struct.pack("<QQQQII", *c[4:10]))


def encode(enc, tick, c):
    op = c[3]
    if op == "alloc":
        ptr, size, gid, align = c[4:8]
        return enc.alloc(tick, ptr, size, gid, None if align == 16 else align.bit_length() - 1)
    if op == "free":
        return enc.free(tick, *c[4:8])
    return enc.realloc(tick, *c[4:10])


class Batches:
    """Each thread's encoder, flushes, and the damage asked for."""

    def __init__(self, args, out, rnd):
        self.args, self.out, self.rnd = args, out, rnd
        self.enc, self.oldest, self.count = {}, {}, {}
        self.batches = self.batch_bytes = self.lost = 0

    def tick(self, t):
        return TSC_BASE + (t - START_NS) * self.args.ratio

    def emit(self, t, pid, vtid, tid, offset, data, length=None):
        self.batches += 1
        if offset != ctf_batch.STANDALONE:
            self.batch_bytes += len(data)
        w = ctf_batch.words(data)
        payload = struct.pack("<IQIQQQQI", tid, offset, len(data) if length is None else length,
                              self.tick(t), t, TSC_BASE, START_NS, len(w))
        self.out.event(t, pid, vtid, 5, payload + b"".join(struct.pack("<Q", x) for x in w))

    def damage(self, data, starts, n):
        kind = n % 4
        if kind == 0:     # garbage bytes in the middle
            mid = len(data) // 2
            return data[:mid] + b"\xff" * 24 + data[mid + 24:], None
        if kind == 1:     # a reserved kind where a record starts
            k = starts[len(starts) // 3]
            return data[:k] + b"\x05" + data[k + 1:], None
        if kind == 2:     # the length says more than the data holds
            return data, len(data) + 100
        return data[:-3], None  # the last record cut

    def flush(self, t, pid, vtid, tid, first=False):
        enc = self.enc[(pid, tid)]
        offset, data = enc.flush()
        self.oldest.pop((pid, tid), None)
        if not data:
            return
        n = self.count[(pid, tid)] = self.count.get((pid, tid), 0) + 1
        when = t + (800 * 10 ** 6 if self.args.late and tid == pid + 2 else 0)
        if first and n <= self.args.unseen:
            return  # not recorded: the session started later
        if first and self.args.drop and n % self.args.drop == 0:
            self.batch_bytes += len(data)
            self.lost += len(data)
            return
        length = None
        if first and self.args.garbage and n % 3 == 2:
            data, length = self.damage(data, enc.flushed_starts, n // 3)
        if self.args.fuzz and data and self.rnd.random() < self.args.fuzz:
            b = bytearray(data)
            for _ in range(self.rnd.randint(1, 8)):
                b[self.rnd.randrange(len(b))] = self.rnd.randrange(256)
            data = bytes(b)
        self.emit(when, pid, vtid, tid, offset, data, length)

    def call(self, t, pid, tid, c):
        key = (pid, tid)
        if key not in self.enc:
            self.enc[key] = ctf_batch.Encoder(self.args.quantum, self.tick(START_NS),
                                              self.args.garbage)
        if self.args.standalone and tid == pid + 2 and self.rnd.random() < self.args.standalone:
            enc = ctf_batch.Encoder(self.args.quantum, self.tick(t))
            tick = encode(enc, self.tick(t), c)
            self.emit(t + 1, pid, tid, tid, ctf_batch.STANDALONE, enc.flush()[1])
            return tick
        enc = self.enc[key]
        tick = encode(enc, self.tick(t), c)
        self.oldest.setdefault(key, t)
        if len(enc.buf) >= self.args.bufsize:
            self.flush(t + 1, pid, tid, tid, tid == pid + 1)
        return tick

    def watch(self, now):
        for (pid, tid), since in list(self.oldest.items()):
            if now - since >= AGE_NS:
                self.flush(now, pid, pid + 900, tid, tid == pid + 1)

    def restart(self, t, pid, tid):
        self.flush(t, pid, tid, tid, True)
        self.enc[(pid, tid)] = ctf_batch.Encoder(self.args.quantum, self.tick(t), self.args.garbage)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--form", choices=("calls", "batches", "both"), default="batches")
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=3)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--gap-ns", type=int, default=50000)
    ap.add_argument("--quantum", type=int, default=1)
    ap.add_argument("--ratio", type=int, default=1)
    ap.add_argument("--bufsize", type=int, default=3000)
    ap.add_argument("--live", type=int, default=1000)
    ap.add_argument("--drop", type=int, default=0)
    ap.add_argument("--garbage", action="store_true")
    ap.add_argument("--restart", action="store_true")
    ap.add_argument("--standalone", type=float, default=0)
    ap.add_argument("--late", action="store_true")
    ap.add_argument("--fuzz", type=float, default=0)
    ap.add_argument("--unseen", type=int, default=0)
    args = ap.parse_args()
    if args.form != "batches" and (args.quantum != 1 or args.ratio != 1):
        sys.exit("make-batch-ctf: per-call events need --quantum 1 --ratio 1 (exact times)")
    rnd = random.Random(args.seed)
    procs, calls, end = workload(args, rnd)
    out = Out()
    for pr in procs:
        for gid, name in enumerate(GROUPS):
            out.event(START_NS - 1000 + gid, pr["pid"], pr["pid"], 0,
                      struct.pack("<I", gid) + name.encode() + b"\0" + struct.pack("<I", 0))
    bt = Batches(args, out, rnd)
    next_watch = START_NS + WATCH_NS
    restart_at = calls[len(calls) // 2][0] if args.restart else None
    for c in calls:
        t, pid, tid = c[0], c[1], c[2]
        while t >= next_watch and args.form != "calls":
            bt.watch(next_watch)
            next_watch += WATCH_NS
        if restart_at is not None and t >= restart_at:
            bt.restart(t - 1, procs[0]["pid"], procs[0]["tids"][0])
            restart_at = None
        if args.form == "calls" or (args.form == "both" and pid == procs[0]["pid"]):
            call_event(out, t, pid, tid, c)
        if args.form != "calls":
            bt.call(t, pid, tid, c)
    if args.form != "calls":
        for pid, tid in list(bt.enc):
            bt.flush(end + 10, pid, tid, tid, tid == pid + 1)
    trace = ctf_writer.Trace(args.out, EVENTS)
    size = 0
    for i, ev in enumerate(out.streams):
        ev.sort(key=lambda e: e[0])
        trace.stream("stream_%d" % i, ev)
        size += os.path.getsize(os.path.join(args.out, "stream_%d" % i))
    print(json.dumps({"calls": len(calls), "batches": bt.batches, "batch_bytes": bt.batch_bytes,
                      "lost_bytes": bt.lost, "trace_bytes": size,
                      "bytes_per_call": size / max(1, len(calls))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
