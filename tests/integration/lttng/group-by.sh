#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `trackalloc record --group-by` on programs nobody instrumented, and the
# report's rule column (check-group-by.py reads the TSV):
#  1. a bad rule set fails with status 2 and the library's reason ("byte P,
#     rule K: REASON"), before anything starts: the command never runs, no
#     output directory is made; --group-by with -p is refused (status 2);
#  2. --group-by=lib on Debian's /usr/bin/python3 running sqlite-json.py
#     (sqlite3, json): the program prints what it prints unrecorded and exits
#     0; the report lists the groups exe (the interpreter: libpython is
#     linked in statically) and libsqlite3, both non-zero, and every group
#     but root carries the rule lib:*=%n, in the TSV's rule column, its tags,
#     and the table's rule column (which then leaves it out of the tags);
#     libsqlite3, loaded after the recording started, has in the trace
#     exactly the allocations and frees the process counted
#     (TRACKALLOC_REPORT);
#  3. --group-by='lib:libsqlite3*=sqlite;lib:exe=python' --stacks on the
#     same: groups sqlite and python, each with its own rule, non-zero, and
#     no other group but root; sqlite's figures exact as in 2; report --stacks heads sqlite's sites with
#     "group N sqlite [rule lib:libsqlite3*=sqlite]";
#  4. --group-by=thread on named-threads (threads named worker-1, worker-2
#     and io, two named pool, by pthread_setname_np and prctl): one group per
#     thread name, pool's holding both threads, each with exactly the
#     figures the program made, the rule thread:*=%n; the main thread's group
#     named-threads holds at least its own blocks; no other group (LTTng-UST's
#     threads, named PROC-ust, stay out of the rules).
#
#   group-by.sh TRACKALLOC NAMED_THREADS
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cmd=${1:?usage: $0 TRACKALLOC NAMED_THREADS} nt=${2:?usage: $0 TRACKALLOC NAMED_THREADS}
lt_init
"$LT_PY" -c 'import sqlite3, json' 2>/dev/null || lt_skip "$LT_PY has no sqlite3 module"
script="$LT_HERE/sqlite-json.py"
check() { "$LT_PY" "$LT_HERE/check-group-by.py" "$@"; }
failed=0
fail() {
	echo "FAIL: $*" >&2
	failed=1
}

# record NAME ARGS...: `trackalloc record ARGS...`, its stdout, stderr and
# status in $LT_TMP/NAME.*, at most 120 s
record() {
	local name=$1
	shift
	lt_bounded 120 "$cmd" record "$@" >"$LT_TMP/$name.out" 2>"$LT_TMP/$name.err"
	echo $? >"$LT_TMP/$name.status"
}

# report_tsv NAME: the TSV report of trace $LT_TMP/NAME.trace in NAME.tsv
report_tsv() {
	"$cmd" report --format=tsv "$LT_TMP/$1.trace" >"$LT_TMP/$1.tsv" 2>"$LT_TMP/$1.tsv.err" || {
		cat "$LT_TMP/$1.tsv.err" >&2
		fail "$1: trackalloc report --format=tsv failed"
	}
}

# recorded NAME: the recording exited 0 and wrote a trace
recorded() {
	local status
	status=$(cat "$LT_TMP/$1.status")
	if [ "$status" != 0 ]; then
		cat "$LT_TMP/$1.err" >&2
		fail "$1: trackalloc record exited with status $status"
		return 1
	fi
	echo "$1: $(grep -m1 'exited with status' "$LT_TMP/$1.err")"
}

echo "== 1. bad rule sets: status 2, the library's reason, nothing run"
n=0
while IFS='|' read -r rules reason; do
	n=$((n + 1))
	record "bad$n" --group-by="$rules" -o "$LT_TMP/bad$n.trace" -- touch "$LT_TMP/bad$n.ran"
	echo "--group-by='$rules': status $(cat "$LT_TMP/bad$n.status"): $(cat "$LT_TMP/bad$n.err")"
	[ "$(cat "$LT_TMP/bad$n.status")" = 2 ] || fail "--group-by='$rules': status not 2"
	grep -qF -- "$reason" "$LT_TMP/bad$n.err" || fail "--group-by='$rules': the reason '$reason' is not said"
	[ "$(wc -l <"$LT_TMP/bad$n.err")" = 1 ] || fail "--group-by='$rules': not one line on stderr"
	[ ! -e "$LT_TMP/bad$n.ran" ] || fail "--group-by='$rules': the command ran"
	[ ! -e "$LT_TMP/bad$n.trace" ] || fail "--group-by='$rules': an output directory was made"
done <<'EOF'
lib:=x|byte 4, rule 1: empty glob
thread:*|byte 8, rule 1: missing '=' (KIND:GLOB=GROUP)
proc:*=x|byte 0, rule 1: unknown kind 'proc' (thread or lib)
lib:*=%n;thread:a=%x|byte 18, rule 2: unknown escape '%x'
lib:*=%n;;thread:*=t|byte 9, rule 2: empty rule
|--group-by needs thread, lib or a rule set
EOF
record with-p --group-by=lib -p $$
if [ "$(cat "$LT_TMP/with-p.status")" != 2 ] ||
	! grep -q -- "--group-by does not go with -p" "$LT_TMP/with-p.err"; then
	fail "--group-by with -p: status $(cat "$LT_TMP/with-p.status"), $(cat "$LT_TMP/with-p.err")"
fi
echo "--group-by=lib -p: $(cat "$LT_TMP/with-p.err")"

echo "== 2. --group-by=lib: $LT_PY sqlite-json.py"
"$LT_PY" "$script" >"$LT_TMP/plain.out" 2>"$LT_TMP/plain.err" || lt_fail "the script fails unrecorded"
TRACKALLOC_REPORT="$LT_TMP/py-lib.json" \
	record py-lib --group-by=lib -o "$LT_TMP/py-lib.trace" -- "$LT_PY" "$script"
if recorded py-lib; then
	# the program's output first, then record's report
	head -n "$(wc -l <"$LT_TMP/plain.out")" "$LT_TMP/py-lib.out" | cmp -s - "$LT_TMP/plain.out" ||
		fail "--group-by=lib: the program printed something else when recorded"
	report_tsv py-lib
	check "$LT_TMP/py-lib.tsv" --proc python3 --every 'lib:*=%n' \
		--group 'exe=lib:*=%n' --group 'libsqlite3=lib:*=%n' \
		--exact libsqlite3 --report-json "$LT_TMP/py-lib.json" || fail "--group-by=lib: the report"
	"$cmd" report "$LT_TMP/py-lib.trace" >"$LT_TMP/py-lib.table" 2>&1 || fail "the table: status $?"
	sed -n '/^process /,$p' "$LT_TMP/py-lib.table" | head -n 20
	grep -Eq '^ +id +group +rule +tags +allocs ' "$LT_TMP/py-lib.table" ||
		fail "the table has no rule column between group and tags"
	for g in exe libsqlite3; do
		# rule, then an empty tags column (the rule tag is in its own)
		grep -Eq "^ +[0-9]+ +$g +lib:\\*=%n +[1-9][0-9]* +[0-9]+ +[1-9]" "$LT_TMP/py-lib.table" ||
			fail "the table's row of $g does not show the rule lib:*=%n and its figures"
		grep -Eq "^ +[0-9]+ +$g +lib:\\*=%n " "$LT_TMP/py-lib.out" ||
			fail "the report record printed does not show $g with its rule"
	done
	! grep -q 'rule=' "$LT_TMP/py-lib.table" || fail "the table repeats the rule among the tags"
fi

echo "== 3. --group-by=RULES: 'lib:libsqlite3*=sqlite;lib:exe=python'"
TRACKALLOC_REPORT="$LT_TMP/py-rules.json" \
	record py-rules --group-by='lib:libsqlite3*=sqlite;lib:exe=python' --stacks=65536 \
	-o "$LT_TMP/py-rules.trace" -- "$LT_PY" "$script"
if recorded py-rules; then
	report_tsv py-rules
	check "$LT_TMP/py-rules.tsv" --proc python3 --only \
		--group 'sqlite=lib:libsqlite3*=sqlite' --group 'python=lib:exe=python' \
		--exact sqlite --report-json "$LT_TMP/py-rules.json" || fail "--group-by=RULES: the report"
	# the sites of each group under a header that names its rule
	"$cmd" report --stacks "$LT_TMP/py-rules.trace" >"$LT_TMP/py-rules.sites" 2>&1 ||
		fail "report --stacks: status $?"
	grep '^  group ' "$LT_TMP/py-rules.sites"
	grep -Eq '^  group [0-9]+ sqlite \[rule lib:libsqlite3\*=sqlite\]: ' "$LT_TMP/py-rules.sites" ||
		fail "report --stacks: no sites of sqlite under 'group N sqlite [rule lib:libsqlite3*=sqlite]'"
fi

echo "== 4. --group-by=thread: named-threads"
record threads --group-by=thread -o "$LT_TMP/threads.trace" -- "$nt"
if recorded threads; then
	report_tsv threads
	grep "^NT" "$LT_TMP/threads.out"
	check "$LT_TMP/threads.tsv" --proc named-threads --every 'thread:*=%n' --only \
		--group 'worker-1=thread:*=%n' --group 'worker-2=thread:*=%n' \
		--group 'io=thread:*=%n' --group 'pool=thread:*=%n' \
		--group 'named-threads=thread:*=%n' \
		--program "$LT_TMP/threads.out" --main named-threads || fail "--group-by=thread: the report"
fi

[ $failed = 0 ] || lt_fail "trackalloc record --group-by"
echo "PASS: group-by"
