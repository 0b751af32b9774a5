#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Read LTTng traces back (babeltrace2, python3-bt2) and check them against what
tp-program printed (see tp-program.c for the line format).

  tacheck.py full     TRACE PROGOUT [--tids]
  tacheck.py late     TRACE PROGOUT --start-ns NS [--delay-ms MS] [--statedump] [--tids]
  tacheck.py counters TRACE PROGOUT [--min-samples N] [--period-ms MS]
                      [--metadata yes|no|any]
  tacheck.py fork     TRACE PROGOUT [--rounds N] [--foreign]
  tacheck.py tids     TRACE PROGOUT [--min-per-call N]
  tacheck.py count    TRACE [--vpid PID] [--min N] [--max N] [--event NAME]
                      [--size BYTES] [--no-discard]
  tacheck.py spans    TRACE SERVEROUT REPORT --span-base ID --kinds NAME,NAME...

TRACE is a trace directory, or several separated by ':' (read as one). The
spans mode checks a trace of examples/span-server.c against what it printed
(SERVEROUT) and its TRACKALLOC_REPORT (REPORT).
Every check prints what it compared and exits 1 on the first failing rule
(after printing every failure of that rule).
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import types

import bt2

import tabatch

PER_CALL = ('alloc', 'alloc_aligned', 'free', 'realloc')
SPAN_EVENTS = ('span_bind', 'span_unbind', 'span_enter', 'span_exit')


class Fail(Exception):
    pass


def fail(msg, details=()):
    lines = [msg] + ['  ' + d for d in list(details)[:40]]
    if len(details) > 40:
        lines.append('  ... (%d more)' % (len(details) - 40))
    raise Fail('\n'.join(lines))


# ---- the trace ---------------------------------------------------------------


class Event:
    __slots__ = ('name', 'ts', 'vtid', 'vpid', 'procname', 'f', 'from_batch')

    def __repr__(self):
        return '%s@%d[vpid=%s vtid=%s %s] %s' % (self.name, self.ts, self.vpid, self.vtid,
                                                self.procname, self.f)


_LINE = re.compile(r'^\[(\d+)\] .*? trackalloc:(\w+): \{ (.*) \}$')
_FIELD = re.compile(r'(\w+) = ("(?:[^"\\]|\\.)*"|[^,}\s]+)')
_ESC = {'n': '\n', 't': '\t', 'r': '\r', 'v': '\v', 'f': '\f', 'a': '\a', 'b': '\b'}


def _bt_version():
    out = subprocess.run(['babeltrace2', '--version'], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, encoding='utf-8', check=False).stdout
    m = re.search(r'(\d+)\.(\d+)\.(\d+)', out)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


# Babeltrace 2.0.x's CTF reader can decode an empty string field as the
# value of an earlier string field of the stream (the bytes in the trace are
# right: LTTng-UST writes the lone NUL). Upstream fix:
# https://review.lttng.org/c/babeltrace/+/4528. With such a reader, a tag
# registered with an empty value cannot be checked.
BT_EMPTY_STRING_BUG = _bt_version() < (2, 1, 0)


def _value(v):
    if v.startswith('"'):
        return re.sub(r'\\(.)', lambda m: _ESC.get(m.group(1), m.group(1)), v[1:-1])
    try:
        return int(v, 0)
    except ValueError:
        return v


class Trace:
    """Every trackalloc event of trace directories, with contexts, and the
    discarded events/packets reported by the tracer.

    The events come from the babeltrace2 command's text output (raw clock
    values: CLOCK_MONOTONIC nanoseconds), which is much faster than reading
    every field through python3-bt2; discarded events and packets come from
    python3-bt2, which attributes them to a process (per-process buffers)."""

    def __init__(self, paths):
        self.events = []
        self.discarded_events = collections.Counter()   # vpid (or None) -> count
        self.discarded_packets = collections.Counter()
        path = ' '.join(paths)
        paths = [p for p in paths if self._has_metadata(p)]
        if not paths:
            return
        proc = subprocess.run(['babeltrace2', '--clock-cycles', '--no-delta'] + paths,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                              encoding='utf-8', errors='replace')
        if proc.returncode != 0:
            fail('babeltrace2 cannot read %s (exit %d)' % (path, proc.returncode),
                 proc.stderr.splitlines()[-20:])
        # batches are expanded into the per-call events they hold, in
        # trace order (a stream's batches must be read in order)
        self.batches = tabatch.Expander(_batch_event)
        for line in proc.stdout.splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            e = Event()
            e.name = m.group(2)
            e.ts = int(m.group(1))
            e.from_batch = False
            body, words = m.group(3), None
            if e.name == 'batch':
                body, _, rest = body.partition('_data_length')
                words = tabatch.words_of(rest)
            fields = {k: _value(v) for k, v in _FIELD.findall(body)}
            e.vtid = fields.pop('vtid', None)
            e.vpid = fields.pop('vpid', None)
            e.procname = fields.pop('procname', None)
            fields.pop('cpu_id', None)
            e.f = fields
            if words is not None:
                self.events.extend(self.batches.expand(e, fields, words))
            else:
                self.events.append(e)
        self.events.sort(key=lambda e: e.ts)
        if os.environ.get('LT_FORM') == 'both':
            # recorded in both forms: the batches must hold the same calls
            bad, worst = tabatch.same_calls(self.events, PER_CALL)
            print('both forms: batch records against per-call events, largest time '
                  'difference %d ns' % worst)
            if bad:
                fail('the batches do not hold the calls the per-call events show', bad)
        self.events = tabatch.prefer_per_call(self.events, PER_CALL)
        if self.batches.batches:
            print(tabatch.summary(self.batches))
        if self.batches.problems:
            fail('trackalloc:batch events that break the format (EVENTS.md)',
                 self.batches.problems)
        for msg in bt2.TraceCollectionMessageIterator(paths):
            t = type(msg)
            if t is bt2._EventMessageConst:  # pylint: disable=protected-access
                continue
            if t is bt2._DiscardedEventsMessageConst:  # pylint: disable=protected-access
                self.discarded_events[self._stream_vpid(msg.stream)] += (
                    msg.count if msg.count is not None else 1)
            elif t is bt2._DiscardedPacketsMessageConst:  # pylint: disable=protected-access
                self.discarded_packets[self._stream_vpid(msg.stream)] += (
                    msg.count if msg.count is not None else 1)

    @staticmethod
    def _has_metadata(path):
        for _root, _dirs, files in os.walk(path):
            if 'metadata' in files:
                return True
        return False

    @staticmethod
    def _stream_vpid(stream):
        # per-process buffers: the trace's environment names the process
        env = stream.trace.environment
        return int(env['vpid']) if 'vpid' in env else None

    def of(self, vpid=None, names=None):
        return [e for e in self.events
                if (vpid is None or e.vpid == vpid) and (names is None or e.name in names)]

    def discarded(self, vpid):
        """Events and packets lost for @vpid (or in shared per-user buffers)."""
        ev = self.discarded_events[vpid] + self.discarded_events[None]
        pk = self.discarded_packets[vpid] + self.discarded_packets[None]
        return ev, pk


# ---- the program's output ------------------------------------------------------------


class Prog:
    def __init__(self, path):
        self.pid = None
        self.tids = {}
        self.groups = {}    # id -> [name, ntags, [(key, value)]]
        self.recs = []
        self.guards = collections.defaultdict(list)  # tid -> [(event, gid, other gid)]
        self.stats = {}
        self.lines = collections.defaultdict(list)
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.rstrip('\n')
                word, _, rest = line.partition(' ')
                self.lines[word].append(rest)
                if word == 'PID':
                    self.pid = int(rest)
                elif word == 'TID':
                    tid, role = rest.split(' ', 1)
                    self.tids[int(tid)] = role
                elif word == 'GROUP':
                    gid, ntags, name = rest.split(' ', 2)
                    self.groups[int(gid)] = [name, int(ntags), []]
                elif word == 'TAG':
                    gid, key, value = rest.split(' ', 2)
                    self.groups[int(gid)][2].append((key, value))
                elif word == 'ALLOC':
                    t, g, p, n, a = rest.split()
                    self.recs.append(('A', int(t), int(g), int(p, 0), int(n), int(a)))
                elif word == 'FREE':
                    t, p, n, s, c = rest.split()
                    self.recs.append(('F', int(t), int(p, 0), int(n), int(s), int(c)))
                elif word == 'REALLOC':
                    t, i, o, old, n, s, g = rest.split()
                    self.recs.append(('R', int(t), int(i, 0), int(o, 0), int(old), int(n),
                                      int(s), int(g)))
                elif word in ('ENTER', 'EXIT'):
                    t, g, o = (int(x) for x in rest.split())
                    self.guards[t].append(('group_' + word.lower(), g, o))
                elif word == 'STATS':
                    v = [int(x) for x in rest.split()]
                    self.stats[v[0]] = tuple(v[1:])
        if self.pid is None:
            fail('the program printed no PID line (did it run to the end?)')


def _batch_event(name, ts, tid, vpid, procname, fields):
    e = Event()
    e.name, e.ts, e.vtid, e.vpid, e.procname, e.f = name, ts, tid, vpid, procname, fields
    e.from_batch = True
    return e


def rec_of(e):
    f = e.f
    if e.name == 'alloc':
        return ('A', e.vtid, f['group_id'], f['ptr'], f['size'], 0)
    if e.name == 'alloc_aligned':
        return ('A', e.vtid, f['group_id'], f['ptr'], f['size'], f['alignment'])
    if e.name == 'free':
        return ('F', e.vtid, f['ptr'], f['size'], f['group_id'], f['current_group_id'])
    if e.name == 'realloc':
        return ('R', e.vtid, f['in_ptr'], f['ptr'], f['old_size'], f['size'],
                f['source_group_id'], f['group_id'])
    return None


def fmt_rec(r):
    if r[0] == 'A':
        return 'alloc tid=%d group=%d ptr=%#x size=%d align=%d' % r[1:]
    if r[0] == 'F':
        return 'free tid=%d ptr=%#x size=%d source=%d current=%d' % r[1:]
    return 'realloc tid=%d in=%#x out=%#x old=%d size=%d source=%d group=%d' % r[1:]


# ---- rules -----------------------------------------------------------------------


def check_no_discard(trace, pid):
    ev, pk = trace.discarded(pid)
    print('discarded: %d events, %d packets' % (ev, pk))
    if ev or pk:
        fail('the tracer discarded %d events and %d packets (the channel is big enough '
             'for this workload: nothing may be lost)' % (ev, pk))


def check_metadata(trace, prog, pid, before_ns=None, vtid=None, after_ns=None, what='trace'):
    """Every group the program registered has its group_register (name,
    ntags) and one group_tag per tag, in the window and from the thread asked."""
    def ok(e):
        return ((before_ns is None or e.ts <= before_ns) and
                (after_ns is None or e.ts >= after_ns) and (vtid is None or e.vtid == vtid))

    regs = collections.defaultdict(list)
    tags = collections.defaultdict(set)
    for e in trace.of(pid, ('group_register',)):
        if ok(e):
            regs[e.f['group_id']].append(e)
    empty = {(gid, k) for gid, g in prog.groups.items() for k, v in g[2] if v == ''}
    for e in trace.of(pid, ('group_tag',)):
        if ok(e):
            value = e.f['value']
            if BT_EMPTY_STRING_BUG and (e.f['group_id'], e.f['key']) in empty and value:
                value = ''  # unreadable with this babeltrace2, see above
            tags[e.f['group_id']].add((e.f['key'], value))
    bad = []
    for gid, (name, ntags, tlist) in sorted(prog.groups.items()):
        rs = regs.get(gid, [])
        if not rs:
            bad.append('group %d "%s": no group_register' % (gid, name))
            continue
        for e in rs:
            if e.f['name'] != name or e.f['ntags'] != ntags:
                bad.append('group %d: group_register says name="%s" ntags=%d, the program '
                           'registered "%s" with %d tags' % (gid, e.f['name'], e.f['ntags'],
                                                           name, ntags))
        missing = set(tlist) - tags.get(gid, set())
        if missing:
            bad.append('group %d "%s": no group_tag for %s' % (gid, name, sorted(missing)))
        extra = tags.get(gid, set()) - set(tlist)
        if extra:
            bad.append('group %d "%s": group_tag events the program never registered: %s'
                       % (gid, name, sorted(extra)))
    # every id the trace names must be a group of the program, or root
    # (a statedump may describe it: id 0, "root", no tags)
    for gid in regs:
        if gid == 0:
            bad += ['root described as %s' % e for e in regs[0]
                    if (e.f['name'], e.f['ntags']) != ('root', 0)]
        elif gid not in prog.groups:
            bad.append('group_register for unknown group id %d (%s)' % (gid, regs[gid][0]))
    print('%s: group_register/group_tag for %d groups checked' % (what, len(prog.groups)))
    if bad:
        fail('%s: group metadata is wrong or missing' % what, bad)


def check_records(trace, prog, pid):
    """Every allocation, free and realloc the program made is in the trace
    with its thread, group(s), pointer(s) and exact size(s)."""
    have = collections.Counter(rec_of(e) for e in trace.of(pid, PER_CALL))
    want = collections.Counter(prog.recs)
    missing = want - have
    print('records: %d expected, %d per-call events of pid %d in the trace, %d missing'
          % (sum(want.values()), sum(have.values()), pid, sum(missing.values())))
    if missing:
        details = []
        for r in list(missing)[:40]:
            ptr = r[2] if r[0] != 'A' else r[3]
            near = [e for e in trace.of(pid, PER_CALL)
                    if ptr in (e.f.get('ptr'), e.f.get('in_ptr'))][:3]
            details.append('missing %s; events with that pointer: %s' % (fmt_rec(r), near))
        fail('allocations the program made are not in the trace as made', details)


def sums(trace, pid):
    s = collections.defaultdict(lambda: [0, 0, 0, 0])
    for e in trace.of(pid, PER_CALL):
        f = e.f
        if e.name in ('alloc', 'alloc_aligned'):
            s[f['group_id']][0] += f['size']
            s[f['group_id']][1] += 1
        elif e.name == 'free':
            s[f['group_id']][2] += f['size']
            s[f['group_id']][3] += 1
        else:  # a realloc is a free of the old block plus an allocation
            s[f['source_group_id']][2] += f['old_size']
            s[f['source_group_id']][3] += 1
            s[f['group_id']][0] += f['size']
            s[f['group_id']][1] += 1
    return s


def check_sums(trace, prog, pid):
    """Per non-root group, the events add up to the program's ta_group_stats."""
    s = sums(trace, pid)
    bad = []
    for gid, st in sorted(prog.stats.items()):
        if gid == 0:
            continue
        got = tuple(s.get(gid, [0, 0, 0, 0]))
        print('group %d: ta_group_stats alloc %d B/%d, freed %d B/%d; trace alloc %d B/%d, '
              'freed %d B/%d' % ((gid,) + st[:4] + got))
        if got != st[:4]:
            bad.append('group %d: trace %s != ta_group_stats %s' % (gid, got, st[:4]))
    for gid in s:
        if gid not in prog.stats:
            bad.append('events charge group %d, which the program does not know' % gid)
    if bad:
        fail('per-group event sums differ from the counters', bad)


def check_guards(trace, prog, pid):
    """Every guard the program entered and exited is in the trace, thread by
    thread in the program's order, with the values it knew: group_enter
    names the group entered (group_id) and the one active before
    (previous_group_id); group_exit the group left (group_id) and the one
    active after (restored_group_id). Nothing else emits these events."""
    other = {'group_enter': 'previous_group_id', 'group_exit': 'restored_group_id'}
    have = collections.defaultdict(list)
    for e in trace.of(pid, tuple(other)):
        have[e.vtid].append((e.name, e.f['group_id'], e.f[other[e.name]]))

    def at(seq, i):
        if i >= len(seq):
            return 'nothing'
        name, gid, other_gid = seq[i]
        return '%s group_id=%d %s=%d' % (name, gid, other[name], other_gid)

    bad = []
    for tid in sorted(set(have) | set(prog.guards)):
        got, want = have.get(tid, []), prog.guards.get(tid, [])
        if got == want:
            continue
        # report the first difference of the thread's sequence
        i = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y),
                 min(len(got), len(want)))
        bad.append('thread %d: %d guard events in the trace, %d entered/exited by the '
                   'program; first difference at #%d: trace %s, program %s'
                   % (tid, len(got), len(want), i, at(got, i), at(want, i)))
    print('guards: %d group_enter/group_exit events expected on %d threads, %d in the trace'
          % (sum(len(v) for v in prog.guards.values()), len(prog.guards),
             sum(len(v) for v in have.values())))
    if bad:
        fail('group_enter/group_exit events do not show the guards the program used', bad)


def check_tids(trace, prog, pid):
    """Per-call events come only from threads the program made itself (not
    from LTTng-UST's listener threads nor the library's own threads)."""
    evs = trace.of(pid, PER_CALL)
    foreign = collections.Counter((e.vtid, e.procname, e.name) for e in evs
                                  if e.vtid not in prog.tids)
    print('threads: %d per-call events from %d threads, program threads %s'
          % (len(evs), len({e.vtid for e in evs}), sorted(prog.tids)))
    if foreign:
        fail('per-call events from threads the program did not make (LTTng-UST or '
             'library-internal allocations must emit nothing)',
             ['vtid=%s procname=%s %s x%d' % (k + (v,)) for k, v in foreign.items()])


# ---- modes -----------------------------------------------------------------------


def mode_full(a):
    prog = Prog(a.progout)
    trace = Trace(a.trace.split(':'))
    pid = prog.pid
    print('pid %d: %d trackalloc events in the trace (all processes: %d)'
          % (pid, len(trace.of(pid)), len(trace.events)))
    check_no_discard(trace, pid)
    check_metadata(trace, prog, pid)
    check_records(trace, prog, pid)
    check_sums(trace, prog, pid)
    check_guards(trace, prog, pid)
    if a.tids:
        check_tids(trace, prog, pid)


def mode_late(a):
    prog = Prog(a.progout)
    trace = Trace(a.trace.split(':'))
    pid = prog.pid
    main = [t for t, r in prog.tids.items() if r == 'main'][0]
    deadline = a.start_ns + a.delay_ms * 1000000
    regs = trace.of(pid, ('group_register',))
    print('pid %d: %d events, %d group_register; session started at %d'
          % (pid, len(trace.of(pid)), len(regs), a.start_ns))
    for e in regs:
        print('  group_register id=%d at start%+.1f ms from vtid %d (%s)'
              % (e.f['group_id'], (e.ts - a.start_ns) / 1e6, e.vtid, e.procname))
    check_no_discard(trace, pid)
    if a.statedump:
        start = [int(x.split()[0]) for x in prog.lines['DUMP_START']]
        done = [x.split() for x in prog.lines['DUMPED']]
        if not done or not start:
            fail('the program never called ta_statedump()')
        if int(done[0][0]) != 0:
            fail('ta_statedump() returned %s' % done[0][0])
        # metadata from the late-session machinery, before the dump
        check_metadata(trace, prog, pid, before_ns=min(deadline, start[0]),
                       what='late session (within %d ms of lttng start)' % a.delay_ms)
        # and the dump itself, from the thread that called it
        check_metadata(trace, prog, pid, after_ns=start[0], before_ns=int(done[0][1]),
                       vtid=main, what='ta_statedump() on the main thread')
    else:
        check_metadata(trace, prog, pid, before_ns=deadline,
                       what='late session (within %d ms of lttng start)' % a.delay_ms)
    # the alloc events of the session name groups the trace has described
    described = {e.f['group_id'] for e in regs} | {0}
    named = collections.Counter(e.f['group_id'] for e in trace.of(pid, ('alloc', 'free')))
    print('per-call events by group: %s' % dict(named))
    unknown = set(named) - described
    if unknown:
        fail('alloc/free events of groups the trace never describes: %s' % sorted(unknown))
    if a.tids:
        check_tids(trace, prog, pid)


def mode_counters(a):
    prog = Prog(a.progout)
    trace = Trace(a.trace.split(':'))
    pid = prog.pid
    mine = trace.of(pid)
    names = collections.Counter(e.name for e in mine)
    print('pid %d: events %s' % (pid, dict(names)))
    check_no_discard(trace, pid)
    verbose = {n: c for n, c in names.items()
               if n not in ('group_register', 'group_tag', 'group_stats')}
    if verbose:
        fail('counters mode recorded per-call or DEBUG events: %s' % verbose)
    if a.metadata == 'yes':
        check_metadata(trace, prog, pid)
    elif a.metadata == 'no' and (names['group_register'] or names['group_tag']):
        fail('group_register/group_tag recorded although only group_stats is enabled')
    samples = collections.defaultdict(list)
    for e in trace.of(pid, ('group_stats',)):
        f = e.f
        samples[f['group_id']].append((e.ts, (f['allocated_bytes'], f['allocated_objects'],
                                              f['freed_bytes'], f['freed_objects'],
                                              f['wrapped_bytes_live'])))
    bad = []
    for gid, st in sorted(prog.stats.items()):
        if gid == 0:
            continue
        ss = samples.get(gid, [])
        print('group %d: %d samples; last %s; program final %s'
              % (gid, len(ss), ss[-1][1] if ss else None, st))
        if len(ss) < a.min_samples:
            bad.append('group %d: %d group_stats samples, expected at least %d'
                       % (gid, len(ss), a.min_samples))
            continue
        if ss[-1][1] != st:
            bad.append('group %d: last sample %s != final counters %s' % (gid, ss[-1][1], st))
        for (t0, v0), (t1, v1) in zip(ss, ss[1:]):
            if any(y < x for x, y in zip(v0[:4], v1[:4])):
                bad.append('group %d: cumulative counters went backwards: %s -> %s'
                           % (gid, v0, v1))
                break
        if a.period_ms and len(ss) >= 3:
            gaps = sorted(t1 - t0 for (t0, _), (t1, _) in zip(ss, ss[1:]))
            med = gaps[len(gaps) // 2] / 1e6
            print('  median sampling interval %.1f ms (TRACKALLOC_SAMPLE_MS=%d)'
                  % (med, a.period_ms))
            if not a.period_ms * 0.5 <= med <= a.period_ms * 3 + 20:
                bad.append('group %d: samples every %.1f ms, asked for %d ms'
                           % (gid, med, a.period_ms))
    if bad:
        fail('group_stats samples do not match the counters', bad)


def mode_fork(a):
    prog = Prog(a.progout)
    trace = Trace(a.trace.split(':'))
    pid = prog.pid
    check_no_discard(trace, pid)
    check_metadata(trace, prog, pid)
    check_records(trace, prog, pid)
    check_sums(trace, prog, pid)
    bad = []
    children = [x.split() for x in prog.lines['CHILD']]
    print('children: %s' % children)
    kinds = collections.Counter(k for k, _, _ in children)
    if kinds['fork'] != a.rounds or kinds['exec'] != a.rounds:
        bad.append('expected %d forked and %d exec\'d children to report, got %s'
                   % (a.rounds, a.rounds, dict(kinds)))
    for kind, cpid, cgid in children:
        cpid, cgid = int(cpid), int(cgid)
        name, n_expected = ('forked-child', 100) if kind == 'fork' else ('exec-child', 50)
        regs = [e for e in trace.of(cpid, ('group_register',))
                if e.f['group_id'] == cgid and e.f['name'] == name]
        allocs = [e for e in trace.of(cpid, ('alloc',)) if e.f['group_id'] == cgid]
        frees = [e for e in trace.of(cpid, ('free',)) if e.f['group_id'] == cgid]
        print('%s child %d: group %d registered %d times, %d allocs, %d frees'
              % (kind, cpid, cgid, len(regs), len(allocs), len(frees)))
        if not regs:
            bad.append('%s child %d: no group_register for its group "%s" (%d)'
                       % (kind, cpid, name, cgid))
        if len(allocs) != n_expected or len(frees) != n_expected:
            bad.append('%s child %d: %d alloc and %d free events in its group, expected %d'
                       % (kind, cpid, len(allocs), len(frees), n_expected))
        d = trace.discarded(cpid)
        if d != (0, 0):
            bad.append('%s child %d: discarded %s' % (kind, cpid, d))
        # The child runs on one thread and allocates nothing but those
        # blocks (before an exec it does nothing at all), while the group
        # it inherited from the parent is active until it enters its own.
        # A per-call event from another thread (LTTng-UST's listener
        # threads, restarted in the child) or naming another group than
        # the child's own or root (the fork handlers and LTTng-UST's
        # after-fork work, running in the inherited group) comes from code
        # that is not the program's, which must count in root and emit
        # nothing. (Root frees at exit are glibc's, on the program's behalf.)
        others = [e for e in trace.of(cpid, PER_CALL)
                  if e.vtid != cpid or
                  {v for k, v in e.f.items() if k.endswith('group_id')} - {cgid, 0}]
        if others and a.foreign:
            summary = collections.Counter(
                (e.name, 'main thread' if e.vtid == cpid else 'thread "%s"' % e.procname,
                 ' '.join('%s=%d' % kv for kv in sorted(e.f.items())
                          if kv[0].endswith('group_id')))
                for e in others)
            bad.append('%s child %d: %d per-call events the child did not make (the '
                       'library\'s or LTTng-UST\'s own allocations): %s; first: %s'
                       % (kind, cpid, len(others),
                          '; '.join('%s from %s with %s: %d' % (k + (n,))
                                    for k, n in summary.most_common()), others[0]))
    if bad:
        fail('children of a traced process are not traced as expected', bad)


def mode_tids(a):
    prog = Prog(a.progout)
    trace = Trace(a.trace.split(':'))
    pid = prog.pid
    names = collections.Counter(e.name for e in trace.of(pid))
    print('pid %d: events %s' % (pid, dict(names)))
    check_no_discard(trace, pid)
    if sum(names[n] for n in PER_CALL) < a.min_per_call:
        fail('%d per-call events, expected at least %d (is the session recording them?)'
             % (sum(names[n] for n in PER_CALL), a.min_per_call))
    check_tids(trace, prog, pid)


def mode_count(a):
    trace = Trace(a.trace.split(':'))
    evs = trace.of(a.vpid, (a.event,) if a.event else None)
    if a.size is not None:
        evs = [e for e in evs if e.f.get('size') == a.size]
    names = collections.Counter(e.name for e in evs)
    vpids = collections.Counter(e.vpid for e in trace.events)
    print('events%s: %d %s; by vpid (all processes): %s'
          % (' of vpid %d' % a.vpid if a.vpid is not None else '', len(evs), dict(names),
             dict(vpids)))
    if a.no_discard:
        check_no_discard(trace, a.vpid)
    if a.min is not None and len(evs) < a.min:
        fail('%d events, expected at least %d' % (len(evs), a.min))
    if a.max is not None and len(evs) > a.max:
        fail('%d events, expected at most %d' % (len(evs), a.max))


# ---- spans: examples/span-server.c ---------------------------------------------------


class ServerOut:
    """What span-server printed: how many requests, stages and workers, one
    row of counters per request kind (ta_group_stats after the workers are
    joined, before the main thread frees the put store), and how many stages
    found another group active."""

    def __init__(self, path):
        self.requests = self.stages = None
        self.rows = {}  # group name -> (allocs, frees, bytes, live)
        with open(path, encoding='utf-8') as f:
            for line in f:
                m = re.match(r'span-server: (\d+) requests, (\d+) stages on (\d+) worker '
                             r'threads', line)
                if m:
                    self.requests, self.per_request, self.workers = map(int, m.groups())
                    continue
                m = re.match(r'(\S+) +(\d+) +(\d+) +(\d+) +(\d+)$', line)
                if m:
                    self.rows[m.group(1)] = tuple(map(int, m.groups()[1:]))
                    continue
                m = re.match(r"(\d+) stages entered their request's span; (\d+) found "
                             r'another group active', line)
                if m:
                    self.stages, self.misplaced = map(int, m.groups())
        if self.requests is None or self.stages is None or not self.rows:
            fail('%s: span-server did not print its summary' % path)


def read_report(path):
    """TRACKALLOC_REPORT: the pid, and every group (name, tags, counters at
    exit) by id."""
    with open(path, encoding='utf-8') as f:
        rep = json.load(f)
    return rep['pid'], {g['id']: g for g in rep['groups']}


def replay_spans(trace, pid):
    """Replay the nesting stack of every thread from the trace, in time order,
    and the span table from span_bind/span_unbind. A thread starts in root
    with an empty stack (the session records before the program starts), so
    the group active on a thread at any event is the innermost frame's, or
    root. Checks, rule by rule:
      bind:   a span_bind binds an unbound span; a span_unbind names the
              group the span is bound to; every span is unbound at the end
              (span-server unbinds each request's span after its reply);
      enter:  span_enter names a bound span and the group it is bound to;
      lifo:   every span_exit closes the innermost frame of its thread, which
              is that span's; it names the group the thread returns to; no
              thread ends the trace inside a span;
      guards: group_enter's previous_group_id is the group active before, its
              group_id the group active after; group_exit closes the innermost
              frame, a guard of its group_id, and restored_group_id is the
              group active after;
      charge: every alloc, alloc_aligned and realloc charges the group active
              on its thread (inside a span: the innermost frame's group; a
              guard nested in a span wins), and every free names it as
              current_group_id.
    Returns the group of each span's first bind, the threads that entered
    each span (in order) and the number of allocations made inside a span,
    by group."""
    bound = {}                                 # span id -> group, while bound
    first_bind = {}                            # span id -> group of its first bind
    stacks = collections.defaultdict(list)     # vtid -> [(span id or None, group)]
    entered = collections.defaultdict(list)    # span id -> [vtid of each enter]
    in_span = collections.Counter()            # group -> allocations made inside a span
    bad = collections.defaultdict(list)        # rule -> details
    checked = collections.Counter()

    def active(st):
        return st[-1][1] if st else 0

    for e in trace.of(pid):
        f, st = e.f, stacks[e.vtid]
        cur = active(st)
        if e.name in SPAN_EVENTS:
            sid, gid = f['span_id'], f['group_id']
        if e.name == 'span_bind':
            if sid in bound:
                bad['bind'].append('%s: the span is already bound to group %d'
                                   % (e, bound[sid]))
            bound[sid] = gid
            first_bind.setdefault(sid, gid)
        elif e.name == 'span_unbind':
            if bound.get(sid) != gid:
                bad['bind'].append('%s: the span is bound to %s' % (e, bound.get(sid)))
            bound.pop(sid, None)
        elif e.name == 'span_enter':
            checked['span_enter'] += 1
            if bound.get(sid) != gid:
                bad['enter'].append('%s: the span is bound to %s' % (e, bound.get(sid)))
            st.append((sid, gid))
            entered[sid].append(e.vtid)
        elif e.name == 'span_exit':
            checked['span_exit'] += 1
            if not st or st[-1][0] != sid:
                bad['lifo'].append('%s: the innermost frame of thread %d is %s'
                                   % (e, e.vtid, 'span %#x' % st[-1][0] if st and st[-1][0]
                                      else 'a guard' if st else 'none'))
                # carry on from the span's frame, if the thread has one
                frames = [i for i, fr in enumerate(st) if fr[0] == sid]
                if frames:
                    del st[frames[-1]:]
                continue
            st.pop()
            if gid != active(st):
                bad['lifo'].append('%s: the thread returns to group %d' % (e, active(st)))
        elif e.name == 'group_enter':
            checked['group_enter'] += 1
            if f['previous_group_id'] != cur:
                bad['guards'].append('%s: group %d was active' % (e, cur))
            st.append((None, f['group_id']))
        elif e.name == 'group_exit':
            checked['group_exit'] += 1
            if not st or st[-1] != (None, f['group_id']):
                bad['guards'].append('%s: the innermost frame of thread %d is %s'
                                     % (e, e.vtid, st[-1] if st else 'none'))
                frames = [i for i, fr in enumerate(st) if fr == (None, f['group_id'])]
                if frames:
                    del st[frames[-1]:]
            else:
                st.pop()
            if f['restored_group_id'] != active(st):
                bad['guards'].append('%s: group %d is active after it' % (e, active(st)))
        elif e.name in ('alloc', 'alloc_aligned', 'realloc'):
            checked['allocations'] += 1
            if f['group_id'] != cur:
                bad['charge'].append('%s: group %d is active on the thread%s'
                                     % (e, cur, ' (in span %#x)' % st[-1][0]
                                        if st and st[-1][0] else ''))
            elif any(fr[0] for fr in st):
                in_span[cur] += 1
        elif e.name == 'free':
            checked['free'] += 1
            if f['current_group_id'] != cur:
                bad['charge'].append('%s: group %d is active on the thread' % (e, cur))
    for vtid, st in sorted(stacks.items()):
        if st:
            bad['lifo'].append('thread %d ends the trace inside %s' % (vtid, st))
    if bound:
        bad['bind'].append('%d spans are still bound at the end: %s'
                           % (len(bound), ['%#x' % s for s in sorted(bound)][:10]))
    print('replayed %d threads: %s; %d allocations inside spans, by group %s'
          % (len(stacks), dict(checked), sum(in_span.values()), dict(in_span)))
    for rule, what in (('bind', 'span_bind/span_unbind do not bind and unbind spans once'),
                       ('enter', 'span_enter does not name the group its span is bound to'),
                       ('lifo', 'span_enter/span_exit are not matched LIFO on each thread'),
                       ('guards', 'group_enter/group_exit do not follow the nesting'),
                       ('charge', 'allocations and frees do not name the group active on '
                                  'their thread')):
        if bad[rule]:
            fail(what, bad[rule])
    return first_bind, entered, in_span


def mode_spans(a):
    out = ServerOut(a.serverout)
    pid, groups = read_report(a.report)
    trace = Trace(a.trace.split(':'))
    mine = trace.of(pid)
    print('pid %d: %d trackalloc events %s (all processes: %d)'
          % (pid, len(mine), dict(collections.Counter(e.name for e in mine)),
             len(trace.events)))
    check_no_discard(trace, pid)
    if out.misplaced:
        fail('span-server says %d stages found another group active' % out.misplaced)

    # Groups: every group of the process is described as TRACKALLOC_REPORT
    # names it, and the kinds span-server prints are among them.
    described = types.SimpleNamespace(groups={
        gid: [g['name'], len(g['tags']), list(g['tags'].items())]
        for gid, g in groups.items() if gid != 0})
    check_metadata(trace, described, pid, what='span-server')
    ids = {g['name']: gid for gid, g in groups.items()}
    missing = [k for k in a.kinds + list(out.rows) if k not in ids]
    if missing or sorted(out.rows) != sorted(a.kinds):
        fail('span-server printed groups %s, its request kinds are %s, the process has %s'
             % (sorted(out.rows), a.kinds, sorted(ids)))
    kind_ids = [ids[k] for k in a.kinds]

    first_bind, entered, in_span = replay_spans(trace, pid)

    # Spans, as span-server.c makes them: request seq (0 .. requests-1) has
    # span id base|seq, bound to kind seq % kinds; it is entered once on the
    # main thread (to allocate the request) and once per stage, each stage
    # on another worker thread; every stage's span_enter counts in "stages".
    bad = []
    want = {a.span_base | seq: kind_ids[seq % len(kind_ids)] for seq in range(out.requests)}
    for sid in sorted(set(want) | set(first_bind)):
        if sid not in first_bind:
            bad.append('span %#x (request %d) is never bound' % (sid, sid - a.span_base))
        elif sid not in want:
            bad.append('span %#x is bound (to group %d) but span-server makes no such span'
                       % (sid, first_bind[sid]))
        elif first_bind[sid] != want[sid]:
            bad.append('span %#x (request %d) is bound to group %d, span-server binds it to '
                       '%d (%s)' % (sid, sid - a.span_base, first_bind[sid], want[sid],
                                    a.kinds[(sid - a.span_base) % len(a.kinds)]))
    workers = set()
    for sid in sorted(want):
        threads = entered.get(sid, [])
        stages = [t for t in threads if t != pid]
        workers.update(stages)
        if (len(threads) - len(stages) != 1 or len(stages) != out.per_request or
                len(set(stages)) != len(stages)):
            bad.append('span %#x entered on threads %s: expected once on the main thread '
                       '%d, then on %d different worker threads'
                       % (sid, threads, pid, out.per_request))
    stage_enters = sum(1 for sid in entered for t in entered[sid] if t != pid)
    print('spans: %d bound, %d entered; %d stage enters on %d worker threads; span-server '
          'printed %d requests, %d stages, %d workers'
          % (len(first_bind), len(entered), stage_enters, len(workers), out.requests,
             out.stages, out.workers))
    if stage_enters != out.stages or len(workers) != out.workers:
        bad.append('the trace has %d stage enters on %d worker threads, span-server printed '
                   '%d stages on %d workers'
                   % (stage_enters, len(workers), out.stages, out.workers))
    for k, gid in zip(a.kinds, kind_ids):
        if not in_span[gid]:
            bad.append('no allocation inside a span of %s (group %d)' % (k, gid))
    if bad:
        fail('the spans in the trace are not the ones span-server made', bad)

    # Counters. The events of the whole trace add up to the counters at exit
    # (TRACKALLOC_REPORT). span-server prints its table after joining the
    # workers, then frees the put store on the main thread: those frees are
    # the last ones, after the last span event, and are taken out of the
    # trace's figures before comparing with the printed table.
    s = sums(trace, pid)
    last_span = max((e.ts for e in trace.of(pid, SPAN_EVENTS)), default=0)
    after = collections.defaultdict(lambda: [0, 0])
    for e in trace.of(pid, ('free', 'realloc')):
        src = e.f['group_id'] if e.name == 'free' else e.f['source_group_id']
        if e.ts <= last_span or src not in kind_ids:
            continue
        if e.vtid != pid or e.name != 'free' or e.f['current_group_id'] != 0:
            bad.append('%s: after the last span event, span-server only frees its store, '
                       'in root on the main thread' % e)
        after[src][0] += e.f['size']
        after[src][1] += 1
    for gid, g in sorted(groups.items()):
        if gid == 0:
            continue
        got = tuple(s.get(gid, [0, 0, 0, 0]))
        exp = (g['allocated_bytes'], g['allocated_objects'], g['freed_bytes'],
               g['freed_objects'])
        print('group %d %s: trace alloc %d B/%d, freed %d B/%d; at exit %d B/%d, %d B/%d'
              % ((gid, g['name']) + got + exp))
        if got != exp:
            bad.append('group %d %s: trace %s != counters at exit %s'
                       % (gid, g['name'], got, exp))
    for k, gid in zip(a.kinds, kind_ids):
        ab, ao, fb, fo = s.get(gid, [0, 0, 0, 0])
        fb, fo = fb - after[gid][0], fo - after[gid][1]
        got = (ao, fo, ab, ab - fb)
        print('%s: printed allocs %d, frees %d, bytes %d, live %d; trace (without the %d '
              'frees after the last span) %d, %d, %d, %d'
              % ((k,) + out.rows[k] + (after[gid][1],) + got))
        if got != out.rows[k]:
            bad.append('%s: span-server printed allocs/frees/bytes/live %s, the trace says %s'
                       % (k, out.rows[k], got))
    if bad:
        fail('the allocations in the trace do not add up to what span-server counted', bad)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='mode', required=True)
    p = sub.add_parser('full')
    p.add_argument('trace')
    p.add_argument('progout')
    p.add_argument('--tids', action='store_true')
    p.set_defaults(fn=mode_full)
    p = sub.add_parser('late')
    p.add_argument('trace')
    p.add_argument('progout')
    p.add_argument('--start-ns', type=int, required=True)
    p.add_argument('--delay-ms', type=int, default=1000)
    p.add_argument('--statedump', action='store_true')
    p.add_argument('--tids', action='store_true')
    p.set_defaults(fn=mode_late)
    p = sub.add_parser('counters')
    p.add_argument('trace')
    p.add_argument('progout')
    p.add_argument('--min-samples', type=int, default=5)
    p.add_argument('--period-ms', type=int, default=0)
    p.add_argument('--metadata', choices=('yes', 'no', 'any'), default='any')
    p.set_defaults(fn=mode_counters)
    p = sub.add_parser('fork')
    p.add_argument('trace')
    p.add_argument('progout')
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--foreign', action='store_true',
                   help='fail on per-call events in a child that the child did not make')
    p.set_defaults(fn=mode_fork)
    p = sub.add_parser('tids')
    p.add_argument('trace')
    p.add_argument('progout')
    p.add_argument('--min-per-call', type=int, default=1)
    p.set_defaults(fn=mode_tids)
    p = sub.add_parser('count')
    p.add_argument('trace')
    p.add_argument('--vpid', type=int)
    p.add_argument('--event')
    p.add_argument('--min', type=int)
    p.add_argument('--max', type=int)
    p.add_argument('--no-discard', action='store_true')
    p.add_argument('--size', type=int, help='only events with this size field')
    p.set_defaults(fn=mode_count)
    p = sub.add_parser('spans')
    p.add_argument('trace')
    p.add_argument('serverout')
    p.add_argument('report')
    p.add_argument('--span-base', type=lambda x: int(x, 0), required=True,
                   help='span id of request 0 (request seq has span-base | seq)')
    p.add_argument('--kinds', type=lambda x: x.split(','), required=True,
                   help='group names of the request kinds, kind seq %% N first')
    p.set_defaults(fn=mode_spans)
    a = ap.parse_args()
    try:
        a.fn(a)
    except Fail as e:
        sys.stdout.flush()
        print('FAIL: %s' % e, file=sys.stderr)
        return 1
    except bt2._Error as e:  # pylint: disable=protected-access
        sys.stdout.flush()
        print('FAIL: cannot read the trace %s: %s' % (a.trace, e), file=sys.stderr)
        return 1
    print('OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
