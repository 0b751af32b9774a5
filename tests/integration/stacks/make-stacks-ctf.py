#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write a CTF 1.8 trace of sampled stacks, as LTTng-UST would record it
(event names, payload fields, vpid/vtid/procname context), from a script.
It needs no LTTng, so trace mode is tested whatever the library emits.

    make-stacks-ctf.py OUTDIR SCRIPT

SCRIPT lines (numbers decimal or 0x hex; times in ns, increasing):
    group GID NAME                         trackalloc:group_register
    module BADDR MEMSZ PATH BUILD_ID|-     lttng_ust_statedump:bin_info (+ build_id)
    load BADDR MEMSZ PATH BUILD_ID|-       lttng_ust_lib:load (+ build_id)
    unload BADDR                           lttng_ust_lib:unload
    alloc TS PTR SIZE WEIGHT GID IP,IP...  trackalloc:alloc_sample
    free TS PTR SIZE GID                   trackalloc:free_sample
    bench N STACKS DEPTH SEED BASE SPAN    N alloc_sample events (a tenth of them
                                           freed) over STACKS random stacks of
                                           DEPTH addresses in [BASE, BASE+SPAN)
"""
import os
import random
import struct
import sys

# the CTF writer the report's synthetic traces share
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "report"))
import ctf_writer  # noqa: E402

PID = 4321

EVENTS = """event { name = "trackalloc:group_register"; id = 0; stream_id = 0; loglevel = 6;
	fields := struct { uint32_t group_id; string name; }; };
event { name = "lttng_ust_statedump:bin_info"; id = 1; stream_id = 0;
	fields := struct { uint64_t baddr; uint64_t memsz; string path; uint8_t is_pic;
	                   uint8_t has_build_id; uint8_t has_debug_link; }; };
event { name = "lttng_ust_statedump:build_id"; id = 2; stream_id = 0;
	fields := struct { uint64_t baddr; uint32_t _build_id_length;
	                   uint8_t build_id[_build_id_length]; }; };
event { name = "lttng_ust_lib:load"; id = 3; stream_id = 0;
	fields := struct { uint64_t baddr; uint64_t memsz; string path;
	                   uint8_t has_build_id; uint8_t has_debug_link; }; };
event { name = "lttng_ust_lib:build_id"; id = 4; stream_id = 0;
	fields := struct { uint64_t baddr; uint32_t _build_id_length;
	                   uint8_t build_id[_build_id_length]; }; };
event { name = "lttng_ust_lib:unload"; id = 5; stream_id = 0;
	fields := struct { uint64_t baddr; }; };
event { name = "trackalloc:alloc_sample"; id = 6; stream_id = 0; loglevel = 6;
	fields := struct { uint64_t ptr; uint64_t size; uint64_t weight; uint32_t group_id;
	                   uint32_t _stack_length; uint64_t stack[_stack_length]; }; };
event { name = "trackalloc:free_sample"; id = 7; stream_id = 0; loglevel = 6;
	fields := struct { uint64_t ptr; uint64_t size; uint32_t group_id; }; };
"""

CONTEXT = ctf_writer.context(PID, PID, "stacks-prog")


def num(s):
    return int(s, 0)


def cstr(s):
    return s.encode() + b"\0"


class Writer:
    def __init__(self):
        self.events = []
        self.ts = 1000

    def event(self, eid, payload, ts=None):
        if ts is not None:
            self.ts = max(self.ts, ts)
        self.ts += 1
        self.events.append((self.ts, eid, CONTEXT + payload))

    def build_id(self, eid, baddr, bid):
        if bid != "-":
            b = bytes.fromhex(bid)
            self.event(eid, struct.pack("<QI", baddr, len(b)) + b)

    def alloc(self, ts, ptr, size, weight, gid, ips):
        self.event(6, struct.pack("<QQQII", ptr, size, weight, gid, len(ips)) +
                   b"".join(struct.pack("<Q", ip) for ip in ips), ts)


def run(w, path):
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p or p[0].startswith("#"):
                continue
            k = p[0]
            if k == "group":
                w.event(0, struct.pack("<I", num(p[1])) + cstr(p[2]))
            elif k in ("module", "load"):
                baddr, memsz, bid = num(p[1]), num(p[2]), p[4]
                has = 1 if bid != "-" else 0
                if k == "module":
                    w.event(1, struct.pack("<QQ", baddr, memsz) + cstr(p[3]) + bytes([1, has, 0]))
                    w.build_id(2, baddr, bid)
                else:
                    w.event(3, struct.pack("<QQ", baddr, memsz) + cstr(p[3]) + bytes([has, 0]))
                    w.build_id(4, baddr, bid)
            elif k == "unload":
                w.event(5, struct.pack("<Q", num(p[1])))
            elif k == "alloc":
                w.alloc(num(p[1]), num(p[2]), num(p[3]), num(p[4]), num(p[5]),
                        [num(x) for x in p[6].split(",")] if len(p) > 6 else [])
            elif k == "free":
                w.event(7, struct.pack("<QQI", num(p[2]), num(p[3]), num(p[4])), num(p[1]))
            elif k == "bench":
                n, nstacks, depth, seed, base, span = (num(x) for x in p[1:7])
                rnd = random.Random(seed)
                stacks = [[base + rnd.randrange(span) for _ in range(depth)]
                          for _ in range(nstacks)]
                for i in range(n):
                    ptr = 0x10000000 + 64 * i
                    w.alloc(0, ptr, 64, 4096, 1 + i % 3, stacks[rnd.randrange(nstacks)])
                    if i % 10 == 9:
                        w.event(7, struct.pack("<QQI", ptr, 64, 1 + i % 3))
            else:
                raise SystemExit("make-stacks-ctf: unknown line: " + line)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[4].strip(), file=sys.stderr)
        return 2
    out = argv[1]
    w = Writer()
    run(w, argv[2])
    trace = ctf_writer.Trace(out, EVENTS, env=False, underscore=False)
    trace.stream("stream_0", w.events)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
