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
                      [--no-discard]

TRACE is a trace directory, or several separated by ':' (read as one).
Every check prints what it compared and exits 1 on the first failing rule
(after printing every failure of that rule).
"""
import argparse
import collections
import os
import re
import subprocess
import sys

import bt2

PER_CALL = ('alloc', 'alloc_aligned', 'free', 'realloc')


class Fail(Exception):
    pass


def fail(msg, details=()):
    lines = [msg] + ['  ' + d for d in list(details)[:40]]
    if len(details) > 40:
        lines.append('  ... (%d more)' % (len(details) - 40))
    raise Fail('\n'.join(lines))


# ---- the trace ---------------------------------------------------------------


class Event:
    __slots__ = ('name', 'ts', 'vtid', 'vpid', 'procname', 'f')

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
        for line in proc.stdout.splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            e = Event()
            e.name = m.group(2)
            e.ts = int(m.group(1))
            fields = {k: _value(v) for k, v in _FIELD.findall(m.group(3))}
            e.vtid = fields.pop('vtid', None)
            e.vpid = fields.pop('vpid', None)
            e.procname = fields.pop('procname', None)
            fields.pop('cpu_id', None)
            e.f = fields
            self.events.append(e)
        self.events.sort(key=lambda e: e.ts)
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
                elif word == 'STATS':
                    v = [int(x) for x in rest.split()]
                    self.stats[v[0]] = tuple(v[1:])
        if self.pid is None:
            fail('the program printed no PID line (did it run to the end?)')


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
    p.set_defaults(fn=mode_count)
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
