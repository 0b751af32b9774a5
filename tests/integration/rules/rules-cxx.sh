#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# C++ operator new and delete with libtrackalloc preloaded (cxx.cpp,
# cxx-lib.cpp): libstdc++'s semantics unchanged (std::bad_alloc, the
# new_handler loop, nothrow's NULL), the library's new, new[], aligned and
# nothrow new charged exactly to its lib-rule group (a std::string member
# inside libstdc++ too), sized deletes checked: a wrong size counted once
# in ta_diag_ext's size_mismatches, right sizes never.
#
#   rules-cxx.sh PROGRAM LIBTRACKALLOC stacks|no-stacks
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

prog=$1 lib=$2 stacks=$3
[ -x "$prog" ] || ta_fail "no program at $prog"
[ -e "$lib" ] || ta_fail "no library at $lib"
ta_rules_need_python
ta_tmpdir

# Plain: what libstdc++ alone does; every check must hold there first.
st=0
"$prog" >"$TA_TMP/plain.out" 2>"$TA_TMP/plain.err" || st=$?
cat "$TA_TMP/plain.out"
[ $st -eq 77 ] && ta_skip "the size meant to fail can be allocated here"
[ $st -eq 0 ] || { ta_show stderr "$TA_TMP/plain.err"; ta_fail "the program fails without the preload ($st)"; }

# run NAME RULES: preloaded; the same output but trackalloc's own lines.
run() {
	local name=$1 rules=$2 st=0
	env TRACKALLOC_GROUPS="$rules" TRACKALLOC_REPORT="$TA_TMP/$name.json" LD_PRELOAD="$lib" \
		"$prog" >"$TA_TMP/$name.out" 2>"$TA_TMP/$name.err" || st=$?
	cat "$TA_TMP/$name.out"
	[ $st -eq 0 ] || { ta_show stderr "$TA_TMP/$name.err"; ta_fail "$name: the program failed ($st)"; }
	[ -s "$TA_TMP/$name.err" ] && { ta_show stderr "$TA_TMP/$name.err"; ta_fail "$name: stderr not empty"; }
	grep -v '^trackalloc:' "$TA_TMP/$name.out" | cmp -s "$TA_TMP/plain.out" - ||
		ta_fail "$name: the output differs from the plain run's"
	grep -qx 'trackalloc: 0 of 4 operators outside libtrackalloc' "$TA_TMP/$name.out" ||
		ta_fail "$name: operator new or delete is not libtrackalloc's"
	grep -qx 'trackalloc: size_mismatches +0 after the right sizes' "$TA_TMP/$name.out" ||
		ta_fail "$name: right-sized deletes counted as mismatches"
	grep -qx 'trackalloc: size_mismatches +1 after one wrong size' "$TA_TMP/$name.out" ||
		ta_fail "$name: a wrong-sized delete not counted exactly once"
}

# 1. No rules: libstdc++'s semantics through the interposed operators.
run none ''

# 2. The library's group. Its std::string is allocated inside libstdc++:
#    charged to the library only with the stack walk (libunwind).
rules='lib:libta-rules-cxx*=cxx'
run cxx "$rules"
if [ "$stacks" = stacks ] && /sbin/ldconfig -p | grep 'libunwind\.so\.8 ' >/dev/null; then
	b=2227 o=8
else
	echo "no libunwind: the std::string's 1001 bytes are libstdc++'s own"
	b=1226 o=7
fi
ta_check_report "$TA_TMP/cxx.json" \
	--expect cxx.allocated_bytes=$b --expect cxx.allocated_objects=$o \
	--expect cxx.freed_bytes=$b --expect cxx.freed_objects=$o \
	--expect-tag "cxx.rule=$rules"

# 3. %n gives the same group its library's name.
rules='lib:libta-rules-cxx*=%n'
run names "$rules"
ta_check_report "$TA_TMP/names.json" \
	--expect libta-rules-cxx.allocated_bytes=$b --expect libta-rules-cxx.allocated_objects=$o \
	--expect-tag "libta-rules-cxx.rule=$rules"
echo "C++: libstdc++'s semantics kept, every form of new charged to its library, sized deletes checked"
