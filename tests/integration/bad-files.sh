#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every file the library or the command is asked to write reports a failure
# once, with the path and the reason, also when the program closes its
# standard streams at exit (coreutils' echo does, in its own atexit handler,
# before the library's runs).
#
#   bad-files.sh LIBTRACKALLOC TRACKALLOC_CMD
set -uo pipefail
. "$(dirname "$0")/common.sh"

lib=$1
cmd=$2
ta_tmpdir
ta_need_exe /bin/echo
ta_need_exe /usr/bin/perl

# expect_once FILE PATTERN: FILE has exactly one line matching PATTERN.
expect_once() {
	local n
	n=$(grep -c -- "$2" "$1")
	[ "$n" -eq 1 ] || { ta_show stderr "$1"; ta_fail "expected one line matching '$2' in stderr, saw $n"; }
}

# 1. The issue's case: a missing directory, a program that closes stderr at exit.
out=$(env TRACKALLOC_REPORT=/no/such/dir/x.json LD_PRELOAD="$lib" /bin/echo hi 2>"$TA_TMP/e1")
[ "$out" = hi ] || ta_fail "echo printed '$out' under the preload"
expect_once "$TA_TMP/e1" "cannot write the TRACKALLOC_REPORT file '/no/such/dir/x.json': No such file or directory"
[ "$(wc -l <"$TA_TMP/e1")" -eq 1 ] || { ta_show stderr "$TA_TMP/e1"; ta_fail "more than the one message"; }

# 2. A file that opens but cannot be written (the device is full): found at
#    exit only, said through the library's own copy of stderr.
env TRACKALLOC_REPORT=/dev/full LD_PRELOAD="$lib" /bin/echo hi >/dev/null 2>"$TA_TMP/e2"
expect_once "$TA_TMP/e2" "cannot write the TRACKALLOC_REPORT file '/dev/full': No space left on device"

# 3. The path names a directory.
mkdir "$TA_TMP/adir"
env TRACKALLOC_REPORT="$TA_TMP/adir" LD_PRELOAD="$lib" /bin/echo hi >/dev/null 2>"$TA_TMP/e3"
expect_once "$TA_TMP/e3" "cannot write the TRACKALLOC_REPORT file '$TA_TMP/adir': Is a directory"

# 4. Once per process tree: forked children (one report each with %p)
#    inherit the warning said at start, and do not say it again.
env TRACKALLOC_REPORT=/no/such/dir/r-%p.json LD_PRELOAD="$lib" \
	/usr/bin/perl -e 'for (1..3) { my $p = fork; exit 0 if !$p; waitpid($p, 0) }' 2>"$TA_TMP/e4"
expect_once "$TA_TMP/e4" "cannot write the TRACKALLOC_REPORT file '/no/such/dir/r-[0-9]*.json': No such file or directory"
[ "$(wc -l <"$TA_TMP/e4")" -eq 1 ] || { ta_show stderr "$TA_TMP/e4"; ta_fail "children repeated the message"; }

# 5. A good path still gets its report, and nothing is said.
env TRACKALLOC_REPORT="$TA_TMP/ok.json" LD_PRELOAD="$lib" /bin/echo hi >/dev/null 2>"$TA_TMP/e5"
[ -s "$TA_TMP/ok.json" ] || ta_fail "no report at a writable path"
[ ! -s "$TA_TMP/e5" ] || { ta_show stderr "$TA_TMP/e5"; ta_fail "a message for a good path"; }

# 6. The command: record's output directory cannot be made.
if "$cmd" record -o /proc/no/such/dir -- /bin/true >/dev/null 2>"$TA_TMP/e6"; then
	ta_fail "record succeeded with an output directory it cannot create"
fi
grep -q "/proc/no/such/dir" "$TA_TMP/e6" || { ta_show stderr "$TA_TMP/e6"; ta_fail "record's error does not name the directory"; }
echo "bad files: every failure said once, with its path and reason"
