#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Spans, recorded: the example span server (examples/span-server.c, linked
# with libtrackalloc) serves its requests while a session records every
# trackalloc event with vtid/vpid contexts. Each request is a span bound to
# its kind's group ("req:get", "req:put", "req:scan"), entered on the main
# thread and then on three worker threads in turn, and unbound after its
# reply. From the trace (tacheck.py spans):
#   - nothing is discarded; every group is described (group_register,
#     group_tag) as the program's TRACKALLOC_REPORT names it, and the
#     printed kinds are among them;
#   - span_bind/span_unbind bind and unbind each span once; span_enter names
#     the group its span is bound to; span_exit closes the innermost frame of
#     its thread (LIFO) and names the group the thread returns to;
#     group_enter/group_exit, if any, follow the same nesting;
#   - every allocation charges, and every free names as current, the group
#     of the innermost frame of its thread (root outside any frame);
#   - the spans are the ones span-server.c makes: request seq has span id
#     0x5e55000000000000 | seq and kind seq % 3 (get, put, scan), is entered
#     once on the main thread and once per stage on three different worker
#     threads, and the stage enters are the "stages" it prints;
#   - per group, the events add up to the counters at exit (TRACKALLOC_REPORT)
#     and, without the store frees that follow the printout, to the printed
#     allocs, frees, bytes and live bytes.
#
#   spans-recorded.sh SPAN_SERVER
set -uo pipefail
. "$(dirname "$0")/lib.sh"
server=${1:?usage: $0 SPAN_SERVER}
requests=600 # more than 3 x 64, so that every slot of the put store is used
lt_init

lt_full_session S --subbuf-size=2M
lt_start "$S"
lt_log "session $S started; running span-server $requests"
timeout 30 env TRACKALLOC_REPORT="$LT_TMP/report.json" "$server" "$requests" \
	>"$LT_TMP/server.out" 2>"$LT_TMP/server.err"
rc=$?
lt_stop "$S"
lt_destroy "$S"
cat "$LT_TMP/server.out"
[ $rc = 0 ] || { cat "$LT_TMP/server.err" >&2; lt_fail "span-server exited with $rc"; }
pid=$("$LT_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["pid"])' \
	"$LT_TMP/report.json") || lt_fail "no TRACKALLOC_REPORT from span-server"
trace=$(lt_pid_trace "$(lt_trace_dir "$S")" "$pid")
lt_log "reading $trace"
lt_bt_read "$trace"
# span ids and kinds as span-server.c's accept_request() makes them
lt_check spans "$trace" "$LT_TMP/server.out" "$LT_TMP/report.json" \
	--span-base 0x5e55000000000000 --kinds req:get,req:put,req:scan ||
	lt_fail "the trace does not show the spans span-server made"
echo "PASS: spans-recorded"
