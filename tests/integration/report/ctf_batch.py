# SPDX-License-Identifier: MIT
"""An encoder of trackalloc:batch record streams, written from the text of
tracepoints/EVENTS.md ("Compact full traces: `trackalloc:batch`"), not
from the library's code, so that the report's decoder is checked against
the contract.

Encoder: one thread's stream. Records go into a buffer; flush() hands out
(offset, bytes) of a batch. Every stream position that is a multiple of
CHUNK starts a SYNC record; a record that would cross one is preceded by
PAD bytes up to it. A time delta is written when at least QUANTUM ticks
passed since the stream's time (the library's rule is 2^16; 1 writes one
whenever the time changed, so each record keeps its exact tick). Every
method returns the tick the record happened at, as a reader decodes it.
"""

CHUNK = 4096
PAD, ALLOC, FREE, REALLOC, GROUP, SYNC = 0, 1, 2, 3, 4, 7
T, G, A, S, U, V = 0x08, 0x10, 0x20, 0x20, 0x40, 0x80
STANDALONE = (1 << 64) - 1
MASK = (1 << 64) - 1


def varint(v, out):
    """Append unsigned LEB128 V to bytearray OUT."""
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def zigzag(d):
    """A signed 64-bit delta, zigzag: (d << 1) ^ (d >> 63)."""
    if d >= 1 << 63:
        d -= 1 << 64
    return ((d << 1) ^ (d >> 63)) & MASK


def delta(ptr, prev):
    """(zigzag value, in bytes?) of ptr - prev: 16-byte units when it can."""
    d = (ptr - prev) & MASK
    if d & 15 == 0:
        s = d if d < 1 << 63 else d - (1 << 64)
        return zigzag((s >> 4) & MASK), False
    return zigzag(d), True


class Encoder:
    def __init__(self, quantum=1 << 16, start_tick=0, track=False):
        self.quantum = quantum
        # where each record (SYNC and PAD left out) starts in buf
        self.starts = [] if track else None
        self.flushed_starts = []
        self.buf = bytearray()
        self.offset = 0       # stream position of buf[0]
        self.tsc = start_tick
        self.cur = 0
        self.prev = 0

    def pos(self):
        return self.offset + len(self.buf)

    def _sync(self):
        self.buf.append(SYNC)
        varint(self.tsc, self.buf)
        varint(self.cur, self.buf)
        self.prev = 0

    def _record(self, tick, build):
        """Append the record BUILD(rec, h_time_flag) makes from the state;
        SYNC and PAD as the chunk rule wants. Returns the record's tick."""
        if self.pos() % CHUNK == 0:
            self._sync()
        old_tsc = self.tsc
        for attempt in (0, 1):
            rec = bytearray()
            t_flag = 0
            d = tick - self.tsc
            if d >= self.quantum or (self.quantum <= 1 and d > 0):
                t_flag = T
            build(rec, t_flag, d)
            room = CHUNK - self.pos() % CHUNK
            if len(rec) <= room:
                break
            assert attempt == 0
            # pad to the chunk's end; the next chunk starts with SYNC
            self.buf.extend(b"\0" * room)
            self._sync()
        if self.starts is not None:
            self.starts.append(len(self.buf))
        self.buf.extend(rec)
        if rec[0] & T:
            self.tsc = tick
        else:
            self.tsc = old_tsc
        return self.tsc

    def alloc(self, tick, ptr, size, gid, align_log2=None):
        def build(rec, t_flag, d):
            z, in_bytes = delta(ptr, self.prev)
            h = ALLOC | t_flag | (G if gid != self.cur else 0) | (U if in_bytes else 0)
            h |= A if align_log2 is not None else 0
            rec.append(h)
            if t_flag:
                varint(d, rec)
            varint(z, rec)
            varint(size, rec)
            if h & G:
                varint(gid, rec)
            if align_log2 is not None:
                varint(align_log2, rec)
        t = self._record(tick, build)
        self.prev = ptr
        self.cur = gid
        return t

    def group(self, tick, gid):
        def build(rec, t_flag, d):
            rec.append(GROUP | t_flag)
            if t_flag:
                varint(d, rec)
            varint(gid, rec)
        t = self._record(tick, build)
        self.cur = gid
        return t

    def free(self, tick, ptr, size, src, current):
        t = None
        if current != self.cur:
            t = self.group(tick, current)

        def build(rec, t_flag, d):
            z, in_bytes = delta(ptr, self.prev)
            h = FREE | t_flag | (G if src != self.cur else 0) | (U if in_bytes else 0)
            rec.append(h)
            if t_flag:
                varint(d, rec)
            varint(z, rec)
            varint(size, rec)
            if h & G:
                varint(src, rec)
        t = self._record(tick, build)
        self.prev = ptr
        return t

    def realloc(self, tick, in_ptr, ptr, old_size, size, src, gid):
        def build(rec, t_flag, d):
            zin, in_bytes = delta(in_ptr, self.prev)
            zout, out_bytes = delta(ptr, in_ptr)
            h = REALLOC | t_flag | (U if in_bytes else 0) | (V if out_bytes else 0)
            h |= (S if src != self.cur else 0) | (G if gid != self.cur else 0)
            rec.append(h)
            if t_flag:
                varint(d, rec)
            varint(zin, rec)
            varint(zout, rec)
            varint(old_size, rec)
            varint(size, rec)
            if h & S:
                varint(src, rec)
            if h & G:
                varint(gid, rec)
        t = self._record(tick, build)
        self.prev = ptr
        self.cur = gid
        return t

    def flush(self):
        """(offset, bytes) of what was written since the last flush."""
        out = (self.offset, bytes(self.buf))
        self.offset += len(self.buf)
        self.buf = bytearray()
        if self.starts is not None:
            self.flushed_starts, self.starts = self.starts, []
        return out


def words(data):
    """The batch's data field: LENGTH bytes packed little-endian into u64s,
    the last one zero-padded."""
    padded = data + b"\0" * (-len(data) % 8)
    return [int.from_bytes(padded[i:i + 8], "little") for i in range(0, len(padded), 8)]
