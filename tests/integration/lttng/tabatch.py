# SPDX-License-Identifier: MIT
"""Decode trackalloc:batch events (tracepoints/EVENTS.md, "Compact full
traces") back into the per-call events they stand for, written from the
EVENTS.md text alone, and check the writer kept every rule of the format:
streams without gaps, a SYNC at every chunk, no reserved kind, no truncated
record, records in time order within a thread.

tacheck.py reads both forms through this: a check written for per-call
events holds the same on a compact trace."""
import re

CHUNK = 4096
STANDALONE = 2**64 - 1
MASK = 2**64 - 1

_WORD = re.compile(r'\[\d+\] = (0x[0-9A-Fa-f]+|\d+)')


class FormatError(Exception):
    pass


def words_of(text):
    """The u64 words of a babeltrace2 text rendering of the data sequence."""
    return [int(w, 0) for w in _WORD.findall(text)]


def _varint(b, i):
    v = s = 0
    while True:
        if i >= len(b):
            raise FormatError('record runs past the end of the batch')
        c = b[i]
        i += 1
        v |= (c & 0x7f) << s
        if not c & 0x80:
            return v, i
        s += 7
        if s >= 70:
            raise FormatError('varint over 10 bytes')


def _signed(v, unscaled):
    d = (v >> 1) ^ -(v & 1)
    return d if unscaled else d * 16


class Stream:
    __slots__ = ('tsc', 'cur', 'prev', 'end', 'last_ns')

    def __init__(self):
        self.tsc = self.cur = self.prev = 0
        self.end = None
        self.last_ns = 0


def decode(data, st, offset, first_is_sync=True):
    """Yield (tsc, kind, fields) for the records of @data (bytes), updating
    the stream state @st. Raises FormatError on a rule broken."""
    i = 0
    n = len(data)
    while i < n:
        pos = (offset + i) if offset != STANDALONE else None
        h = data[i]
        i += 1
        k = h & 7
        at_chunk = pos is not None and pos % CHUNK == 0
        if (at_chunk or (pos is None and i == 1 and first_is_sync)) and h != 7:
            raise FormatError('no SYNC at stream position %s (header %#x)' % (pos, h))
        if k == 0:
            if h:
                raise FormatError('PAD with flags %#x' % h)
            continue
        if k in (5, 6):
            raise FormatError('reserved kind %d at %s' % (k, pos))
        if h & 8:
            d, i = _varint(data, i)
            st.tsc = (st.tsc + d) & MASK
        if k == 7:
            if h != 7:
                raise FormatError('SYNC with flags %#x' % h)
            st.tsc, i = _varint(data, i)
            st.cur, i = _varint(data, i)
            st.prev = 0
            continue
        if k == 1:
            d, i = _varint(data, i)
            ptr = (st.prev + _signed(d, h & 0x40)) & MASK
            st.prev = ptr
            size, i = _varint(data, i)
            g = st.cur
            if h & 0x10:
                g, i = _varint(data, i)
                st.cur = g
            if h & 0x20:
                a, i = _varint(data, i)
                yield st.tsc, 'alloc_aligned', {'ptr': ptr, 'size': size, 'alignment': 1 << a,
                                                'group_id': g}
            else:
                yield st.tsc, 'alloc', {'ptr': ptr, 'size': size, 'group_id': g}
        elif k == 2:
            d, i = _varint(data, i)
            ptr = (st.prev + _signed(d, h & 0x40)) & MASK
            st.prev = ptr
            size, i = _varint(data, i)
            src = st.cur
            if h & 0x10:
                src, i = _varint(data, i)
            yield st.tsc, 'free', {'ptr': ptr, 'size': size, 'group_id': src,
                                   'current_group_id': st.cur}
        elif k == 3:
            d, i = _varint(data, i)
            inp = (st.prev + _signed(d, h & 0x40)) & MASK
            d, i = _varint(data, i)
            out = (inp + _signed(d, h & 0x80)) & MASK
            st.prev = out
            old, i = _varint(data, i)
            size, i = _varint(data, i)
            src = g = st.cur
            if h & 0x20:
                src, i = _varint(data, i)
            if h & 0x10:
                g, i = _varint(data, i)
            st.cur = g
            yield st.tsc, 'realloc', {'in_ptr': inp, 'ptr': out, 'old_size': old, 'size': size,
                                      'source_group_id': src, 'group_id': g}
        elif k == 4:
            st.cur, i = _varint(data, i)


class Expander:
    """Turns batch events into per-call events, stream by stream; counts
    what it could not read (problems), which a test asserts is empty."""

    def __init__(self, make_event):
        self.make_event = make_event
        self.streams = {}
        self.problems = []
        self.batches = 0
        self.bytes = 0
        self.records = 0
        self.unread = 0  # bytes before a reader could start (late session)

    def expand(self, ev, fields, words):
        """@ev: the batch event (ts, vpid, procname); yields per-call events."""
        self.batches += 1
        length = fields['length']
        if length > 8 * len(words):
            self.problems.append('batch of %d bytes has %d words' % (length, len(words)))
            return
        data = b''.join(w.to_bytes(8, 'little') for w in words)[:length]
        self.bytes += length
        tid, off = fields['tid'], fields['offset']
        tsc, ns = fields['tsc'], fields['ns']
        tb, nb = fields['tsc_base'], fields['ns_base']
        key = (ev.vpid, tid)
        if off == STANDALONE:
            st = Stream()
        else:
            st = self.streams.get(key)
            if off == 0 or st is None:
                last = st.last_ns if st is not None and off != 0 else 0
                st = Stream()
                st.last_ns = last
                self.streams[key] = st
                if off != 0 and (not data or data[0] != 7):
                    # the session started mid-stream: read from the first
                    # batch that starts with a SYNC (or the next chunk)
                    skip = min(len(data), -off % CHUNK)
                    self.unread += skip
                    st.end = None
                    if skip == len(data):
                        return
                    data, off = data[skip:], off + skip
            elif st.end is None and data and data[0] != 7:
                self.unread += len(data)
                return
            elif st.end is not None and st.end != off:
                self.problems.append('stream %s: batch at %d, previous ended at %d'
                                     % (key, off, st.end))
                return
            st.end = off + len(data)
        try:
            for r_tsc, name, f in decode(data, st, off):
                if tsc == tb:
                    r_ns = ns
                else:
                    r_ns = ns - (tsc - r_tsc) * (ns - nb) // (tsc - tb)
                t = min(ev.ts - (ns - r_ns), ev.ts)
                t = max(t, st.last_ns)
                st.last_ns = t
                self.records += 1
                yield self.make_event(name, t, tid, ev.vpid, ev.procname, f)
        except FormatError as e:
            self.problems.append('stream %s at %d: %s' % (key, off, e))


def same_calls(events, per_call_names, slack_ns=1000000):
    """A trace recorded in both forms: each thread's batch records are its
    per-call events, one for one, in order, with the same fields. Times: a
    per-call event is stamped after its record's tick was read, and a
    thread preempted in between (a loaded machine) separates them, so at
    most 1% of the records may be more than @slack_ns (the format's 1 ms)
    from their event, and none more than 100 times that. Returns the
    differences (at most 40) and the largest time difference seen."""
    calls = {}
    for e in events:
        if e.name in per_call_names:
            calls.setdefault((e.vpid, e.vtid, e.from_batch), []).append(e)
    bad, worst, late, total = [], 0, 0, 0
    for (vpid, vtid, from_batch), mine in sorted(calls.items()):
        if from_batch:
            continue
        theirs = calls.get((vpid, vtid, True), [])
        if len(theirs) != len(mine):
            bad.append('thread %d/%d: %d per-call events, %d batch records'
                       % (vpid, vtid, len(mine), len(theirs)))
        for a, b in zip(mine, theirs):
            d = abs(a.ts - b.ts)
            worst = max(worst, d)
            total += 1
            late += d > slack_ns
            if a.name != b.name or a.f != b.f or d > 100 * slack_ns:
                bad.append('thread %d/%d: %s@%d %s, batch record %s@%d %s'
                           % (vpid, vtid, a.name, a.ts, a.f, b.name, b.ts, b.f))
                break
    if late * 100 > total:
        bad.append('%d of %d batch records more than %d ns from their per-call event'
                   % (late, total, slack_ns))
    for (vpid, vtid, from_batch) in calls:
        if from_batch and (vpid, vtid, False) not in calls:
            bad.append('thread %d/%d: batch records, no per-call events' % (vpid, vtid))
    return bad[:40], worst


def prefer_per_call(events, per_call_names):
    """Both forms of one process: keep its per-call events only (the rule
    trackalloc report follows too)."""
    has_calls = {e.vpid for e in events
                 if e.name in per_call_names and not getattr(e, 'from_batch', False)}
    return [e for e in events
            if not (getattr(e, 'from_batch', False) and e.vpid in has_calls)]


def summary(x):
    return ('batches: %d, %d bytes, %d records (%.2f bytes per call), %d bytes before a '
            'SYNC the reader could start at'
            % (x.batches, x.bytes, x.records, x.bytes / x.records if x.records else 0, x.unread))



_BATCH_LINE = re.compile(r'^\[(\d+)\] (.*?) trackalloc:batch: \{ (.*?) \}, \{ (.*?) \}, \{ (.*) \}$')
_CTX = re.compile(r'(\w+) = ("(?:[^"\\]|\\.)*"|[^,}\s]+)')


class _Ev:
    __slots__ = ('ts', 'vpid', 'procname')


def expand_text(lines, out):
    """babeltrace2 text (--clock-cycles --no-delta) in, the same text out with
    every trackalloc:batch line replaced by the per-call event lines it
    holds, as babeltrace2 would print them (tests that grep per-call events
    read compact traces through this). Returns the Expander."""

    def line_of(name, ts, tid, vpid, procname, f):
        body = ', '.join('%s = %s' % (k, hex(v) if k in ('ptr', 'in_ptr') else v)
                         for k, v in f.items())
        return '[%020d] %s trackalloc:%s: { cpu_id = 0 }, { vtid = %d, vpid = %s, ' \
               'procname = %s }, { %s }' % (ts, host, name, tid, vpid, procname, body)

    host = 'batch'
    x = Expander(line_of)
    for line in lines:
        m = _BATCH_LINE.match(line.rstrip('\n'))
        if not m:
            out.write(line)
            continue
        host = m.group(2)
        ctx = dict(_CTX.findall(m.group(4)))
        body, _, rest = m.group(5).partition('_data_length')
        fields = {k: int(v, 0) for k, v in _CTX.findall(body)}
        e = _Ev()
        e.ts, e.vpid, e.procname = int(m.group(1)), ctx.get('vpid'), ctx.get('procname', '""')
        for ln in x.expand(e, fields, words_of(rest)):
            out.write(ln + '\n')
    return x


if __name__ == '__main__':
    import sys
    xp = expand_text(sys.stdin, sys.stdout)
    for p in xp.problems[:20]:
        print('tabatch: %s' % p, file=sys.stderr)
    sys.exit(1 if xp.problems else 0)
