#!/bin/bash
# SPDX-License-Identifier: MIT
#
# LTTng-UST only where a recording wants it (TRACKALLOC_LTTNG=auto):
#   A. an unmodified program preloaded with no recording has the same
#      descriptors and threads as without the library, and maps nothing of
#      LTTng-UST or liburcu, while a session daemon is up;
#   B. `trackalloc record -p PID` attaches to a preloaded process that is
#      already running: the trace has its group's name and tags (the
#      late-session rule), its allocations in that group, and the process
#      labelled with its own name; a second preloaded process running
#      alongside is not in the trace;
#   C. `trackalloc record -- CMD` records CMD and its descendants only,
#      next to an attached process (LTTng-UST loaded) and an unattached one;
#   D. a process with TRACKALLOC_LTTNG=0 refuses the attach request with a
#      reason, and goes on running.
#
#   attach.sh TRACKALLOC LIBTRACKALLOC ATTACH_PROGRAM
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cmd=${1:?usage: $0 TRACKALLOC LIBTRACKALLOC ATTACH_PROGRAM}
lib=${2:?} prog=${3:?}
lt_init
failed=0

echo "== A. a preloaded process nobody records"
probe='import os
maps = open("/proc/self/maps").read()
print(len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task")), maps.count("lttng"),
      maps.count("liburcu"))'
plain=$(env -u LD_PRELOAD "$LT_PY" -c "$probe")
pre=$(LD_PRELOAD="$lib" "$LT_PY" -c "$probe")
forced=$(LD_PRELOAD="$lib" TRACKALLOC_LTTNG=1 "$LT_PY" -c "$probe")
echo "descriptors, threads, LTTng and liburcu mappings: plain ($plain), preloaded ($pre)," \
	"preloaded with TRACKALLOC_LTTNG=1 ($forced)"
read -r pfd pth _ <<<"$plain"
read -r fd th maps urcu <<<"$pre"
read -r ffd fth fmaps _ <<<"$forced"
# liburcu-cds comes with the first span bind (lib/spans.c), LTTng-UST with a
# recording
if [ "$fd" != "$pfd" ] || [ "$th" != "$pth" ] || [ "$maps" != 0 ] || [ "$urcu" != 0 ]; then
	echo "FAIL: the preloaded process is not as the plain one" >&2
	failed=1
fi
# the probe itself would miss a loaded LTTng-UST if it could not see one
if [ "$fmaps" = 0 ] || [ "$fth" -le "$pth" ] || [ "$ffd" -le "$pfd" ]; then
	echo "FAIL: with TRACKALLOC_LTTNG=1 LTTng-UST should be loaded at start" >&2
	failed=1
fi

echo "== B. trackalloc record -p PID"
# start_prog NAME [VAR=VALUE...]: a preloaded attach-program in the
# background, until $LT_TMP/NAME.ctl/exit exists (stop_prog NAME)
start_prog() {
	local name=$1
	shift
	mkdir -p "$LT_TMP/$name.ctl"
	env "$@" LD_PRELOAD="$lib" timeout 60 "$prog" 40 "$LT_TMP/$name.ctl" \
		>"$LT_TMP/$name.out" 2>"$LT_TMP/$name.err" &
	LT_PIDS+=($!)
	lt_wait_for "$LT_TMP/$name.out" '^READY' 10 || lt_fail "$name never got ready"
}
pid_of() { awk '$1 == "PID" {print $2; exit}' "$LT_TMP/$1.out"; }
stop_prog() { # NAME: it must end normally within 10 s
	local i
	touch "$LT_TMP/$1.ctl/exit"
	for i in $(seq 500); do
		grep -q '^DONE' "$LT_TMP/$1.out" && return 0
		sleep 0.02
	done
	echo "FAIL: $1 did not finish" >&2
	cat "$LT_TMP/$1.err" >&2
	failed=1
}
start_prog target
start_prog other
target=$(pid_of target) other=$(pid_of other)
grep -q lttng /proc/"$target"/maps && lt_fail "the target has LTTng-UST loaded before the attach"
"$cmd" record -p "$target" --duration 1.5 -o "$LT_TMP/rec-p" >"$LT_TMP/rec-p.out" \
	2>"$LT_TMP/rec-p.err"
rc=$?
cat "$LT_TMP/rec-p.err"
[ $rc = 0 ] || lt_fail "trackalloc record -p exited with $rc"
grep -q lttng /proc/"$other"/maps && {
	echo "FAIL: the other process loaded LTTng-UST" >&2
	failed=1
}
lt_bt_read "$LT_TMP/rec-p"
lt_bt_text "$LT_TMP/rec-p" >"$LT_TMP/rec-p.txt"
# check_trace TEXT ALLOWED NEEDED: every event comes from a pid in ALLOWED
# (comma-separated); each pid in NEEDED has its attach-worker group's name
# and tag, at least 50 allocations in it, and its events labelled
# attach-program (the process's own name), never with a library thread's.
check_trace() {
	"$LT_PY" - "$@" <<'PY'
import re, sys
text, allowed, needed = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
lines = open(text).read().splitlines()
bad, per = 0, {}
for line in lines:
    m = re.search(r'vpid = (\d+)', line)
    if not m:
        continue
    pid = m.group(1)
    if pid not in allowed:
        bad += 1
        continue
    st = per.setdefault(pid, {"names": set(), "gid": None, "tag": None, "allocs": {}})
    m = re.search(r'procname = "([^"]*)"', line)
    if m:
        st["names"].add(m.group(1))
    m = re.search(r'trackalloc:group_register: .*group_id = (\d+), name = "attach-worker"', line)
    if m:
        st["gid"] = m.group(1)
    m = re.search(r'trackalloc:group_tag: .*group_id = (\d+), key = "role", value = "([^"]*)"', line)
    if m:
        st["tag"] = m.group(2)
    m = re.search(r'trackalloc:alloc: .*group_id = (\d+)', line)
    if m:
        st["allocs"][m.group(1)] = st["allocs"].get(m.group(1), 0) + 1
ok = bad == 0
print("%d events, %d of them from processes outside %s" % (len(lines), bad, allowed))
for pid in needed:
    st = per.get(pid)
    if not st:
        print("pid %s: no events" % pid)
        ok = False
        continue
    n = st["allocs"].get(st["gid"], 0) if st["gid"] else 0
    print("pid %s: procnames %s, attach-worker id %s, tag role=%s, %d allocations in it"
          % (pid, sorted(st["names"]), st["gid"], st["tag"], n))
    # a forked child's events before its exec carry the parent's name
    ok = ok and "attach-program" in st["names"] and \
        not any(x.startswith("ta-") for x in st["names"]) and st["tag"] == "attached" and n >= 50
sys.exit(0 if ok else 1)
PY
}
if ! check_trace "$LT_TMP/rec-p.txt" "$target" "$target"; then
	echo "FAIL: the attached recording" >&2
	failed=1
fi
grep -q 'attach-worker' "$LT_TMP/rec-p.out" || {
	echo "FAIL: the report printed after record -p does not show the group" >&2
	cat "$LT_TMP/rec-p.out" >&2
	failed=1
}

echo "== C. trackalloc record -- CMD and its descendants only"
# CMD is a shell that runs the program twice (one of them from a forked
# subshell); the attached target (LTTng-UST loaded, recordable by any
# session) and the unattached other process run alongside
lt_bounded 60 "$cmd" record -o "$LT_TMP/rec-cmd" -- \
	bash -c 'echo "SHELL $$"; "$1" 0.4 & ("$1" 0.4); wait' \
	sh "$prog" >"$LT_TMP/rec-cmd.out" 2>"$LT_TMP/rec-cmd.err"
rc=$?
[ $rc = 0 ] || { cat "$LT_TMP/rec-cmd.err" >&2; lt_fail "trackalloc record -- CMD exited with $rc"; }
shell=$(awk '$1 == "SHELL" {print $2; exit}' "$LT_TMP/rec-cmd.out")
kids=$(awk '$1 == "PID" {print $2}' "$LT_TMP/rec-cmd.out" | paste -sd,)
echo "the shell $shell, its programs $kids; the target $target and the other $other run alongside"
lt_bt_text "$LT_TMP/rec-cmd" >"$LT_TMP/rec-cmd.txt"
# only the shell, its subshell and the two programs may be in the trace
procs=$(grep -o 'vpid = [0-9]*' "$LT_TMP/rec-cmd.txt" | awk '{print $3}' | sort -u | paste -sd,)
echo "processes in the trace: $procs"
if [ "$(echo "$kids" | tr , '\n' | wc -l)" != 2 ] ||
	echo ",$procs," | grep -qE ",($target|$other),"; then
	echo "FAIL: the trace of CMD holds a process that is not CMD's" >&2
	failed=1
fi
if [ "$(echo "$procs" | tr , '\n' | wc -l)" -gt 4 ] ||
	! check_trace "$LT_TMP/rec-cmd.txt" "$procs" "$kids"; then
	echo "FAIL: the recording of CMD" >&2
	failed=1
fi
stop_prog target

echo "== D. TRACKALLOC_LTTNG=0 refuses the attach request"
start_prog off TRACKALLOC_LTTNG=0
off=$(pid_of off)
if "$cmd" attach "$off" 2>"$LT_TMP/attach-off.err"; then
	echo "FAIL: trackalloc attach succeeded on a TRACKALLOC_LTTNG=0 process" >&2
	failed=1
fi
cat "$LT_TMP/attach-off.err"
grep -q 'does not accept attach requests' "$LT_TMP/attach-off.err" || failed=1
sleep 0.2
kill -0 "$off" 2>/dev/null || { echo "FAIL: the process died" >&2; failed=1; }
grep -q lttng /proc/"$off"/maps && { echo "FAIL: it loaded LTTng-UST" >&2; failed=1; }

stop_prog other
stop_prog off

[ $failed = 0 ] || lt_fail "attach"
echo "PASS: attach"
