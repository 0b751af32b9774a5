#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The delay from an allocation to `trackalloc top` showing it.

  bench-delay.py TRACKALLOC PID INTERVAL_MS PROGRAM_OUT GO_FILE STEPS

Runs `TRACKALLOC top -p PID --batch --interval INTERVAL_MS`, reads its
tables as they arrive (each line timed with CLOCK_MONOTONIC), creates
GO_FILE once the first table is out (bench-delay then starts its steps),
and for each STEP line of PROGRAM_OUT (k, the allocation's time, the
group's live bytes after it) finds the first table line that shows the
group "probe" with at least those live bytes: the delay is its arrival
minus the allocation's time. Prints each delay, then median, min, max.
"""
import os
import selectors
import signal
import statistics
import subprocess
import sys
import time


def main():
    ta, pid, interval, prog_out, go, steps = sys.argv[1:7]
    steps = int(steps)
    err = open(prog_out + ".top.err", "w")
    p = subprocess.Popen([ta, "top", "-p", pid, "--batch", "--interval", interval],
                         stdout=subprocess.PIPE, stderr=err, start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    buf, shown, started = b"", [], False
    deadline = time.monotonic() + 30 + steps * 1.3 * 2
    last_live = None
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=0.5):
                if p.poll() is not None:
                    break
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            now = time.monotonic_ns()
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                if text.startswith("trackalloc top ") and not started:
                    open(go, "w").close()
                    started = True
                f = text.split()
                if len(f) >= 9 and f[0] == pid and "probe" in f:
                    live = int(f[-4])
                    shown.append((now, live))
                    last_live = live
            done = [l for l in open(prog_out) if l.startswith("STEP ")]
            if len(done) >= steps and last_live is not None and \
                    last_live >= int(done[steps - 1].split()[3]):
                break
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    delays = []
    for line in open(prog_out):
        f = line.split()
        if f and f[0] == "STEP":
            t, live = int(f[2]), int(f[3])
            hit = next((a for a, v in shown if v >= live and a >= t), None)
            if hit is None:
                print("step %s: never shown" % f[1])
                continue
            delays.append((hit - t) / 1e6)
    if not delays:
        print("no step was shown")
        return 1
    print("interval %s ms: %d steps, delays (ms): %s" % (
        interval, len(delays), " ".join("%.0f" % d for d in delays)))
    print("interval %s ms: delay from an allocation to top showing it: median %.0f ms, "
          "min %.0f, max %.0f" % (interval, statistics.median(delays), min(delays), max(delays)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
