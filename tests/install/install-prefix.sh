#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install like a C library: configure the source tree into a scratch build
# with --prefix in a scratch directory, `meson install` it, then use only
# what is installed there:
#  - the files are where the manual says (bin/trackalloc, the helpers in
#    libexec/trackalloc, share/trackalloc/trackalloc.xml and plot.py, the
#    man pages, the header, the library and its LTTng provider, the .pc);
#  - an outside program (outside.c, copied away from the tree) builds with
#    `pkg-config --cflags --libs trackalloc` alone and runs with exact
#    counters;
#  - the installed trackalloc finds its helpers (--version, report --help,
#    attach --help) and, with LTTng, records the outside program and reports
#    its group (the library loads the installed provider).
#
#   install-prefix.sh SRCDIR OUTSIDE_C LTTNG ANALYSIS GATE MAN
#
# LTTNG, ANALYSIS, GATE, MAN: true or false, as the calling build has them
# (the scratch build gets the same features). Without scdoc (MAN false) the
# rest is checked and the test then skips (77).
set -uo pipefail
# shellcheck source=../integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

[ $# -eq 6 ] || { echo "usage: $0 SRCDIR OUTSIDE_C LTTNG ANALYSIS GATE MAN" >&2; exit 2; }
src=$1 outside_c=$2 lttng=$3 analysis=$4 gate=$5 man=$6
feature() { [ "$1" = true ] && echo enabled || echo disabled; }

command -v meson >/dev/null || ta_skip "meson is not installed"
command -v pkg-config >/dev/null || ta_skip "pkg-config is not installed"
command -v cc >/dev/null || ta_skip "cc is not installed"

ta_tmpdir
prefix=$TA_TMP/prefix
log=$TA_TMP/build.log

# The library only: the unit and integration tests are not installed.
if ! { meson setup "$TA_TMP/build" "$src" --prefix="$prefix" -Dtests=disabled \
		-Dlttng="$(feature "$lttng")" -Danalysis="$(feature "$analysis")" \
		-Dman="$(feature "$man")" &&
	meson compile -C "$TA_TMP/build" &&
	meson install -C "$TA_TMP/build" --no-rebuild; } >"$log" 2>&1; then
	tail -n 40 "$log"
	ta_fail "scratch build or install failed"
fi

# ---- the files -------------------------------------------------------------
pc=$(find "$prefix" -name trackalloc.pc -path '*/pkgconfig/*' | head -n1)
[ -n "$pc" ] || ta_fail "no pkgconfig/trackalloc.pc under $prefix"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")

need_file() { # PATH [x]: exists (and is executable with x)
	[ -f "$1" ] || ta_fail "not installed: ${1#"$prefix"/}"
	[ "${2:-}" != x ] || [ -x "$1" ] || ta_fail "not executable: ${1#"$prefix"/}"
}
need_file "$prefix/bin/trackalloc" x
for h in "$src"/lib/include/*; do # the public headers
	need_file "$prefix/include/${h##*/}"
done
need_file "$libdir/libtrackalloc.so.1"
[ -L "$libdir/libtrackalloc.so" ] || ta_fail "no libtrackalloc.so development link"
need_file "$prefix/share/trackalloc/trackalloc.xml"
if [ "$analysis" = true ]; then
	need_file "$prefix/share/trackalloc/plot.py"
	need_file "$prefix/libexec/trackalloc/trackalloc-report" x
fi
if [ "$lttng" = true ]; then
	need_file "$libdir/libtrackalloc-lttng.so.1"
	need_file "$prefix/libexec/trackalloc/trackalloc-attach" x
	[ "$analysis" != true ] || need_file "$prefix/libexec/trackalloc/trackalloc-top" x
fi
[ "$gate" != true ] || need_file "$prefix/libexec/trackalloc/trackalloc-gate" x
if [ "$man" = true ]; then
	for page in man1/trackalloc.1 man3/trackalloc.3; do
		need_file "$prefix/share/man/$page"
		grep -q '^\.TH "trackalloc"' "$prefix/share/man/$page" ||
			ta_fail "share/man/$page is not a man page"
		# the paths were filled in
		! grep -q '@[A-Z_]*@' "$prefix/share/man/$page" ||
			ta_fail "share/man/$page has unconfigured @...@ placeholders"
	done
	# (scdoc writes a '.' inside a word as '.\&')
	sed 's/\\&//g' "$prefix/share/man/man1/trackalloc.1" |
		grep -qF "$prefix/libexec/trackalloc/trackalloc-report" ||
		ta_fail "trackalloc(1) does not name the installed helpers' directory"
fi
# nothing under its build-time name, no helper on PATH
for stray in bin/trackalloc.installed bin/trackalloc-report bin/trackalloc-attach bin/trackalloc-gate bin/trackalloc-top; do
	[ ! -e "$prefix/$stray" ] || ta_fail "$stray is installed"
done
echo "installed files: ok ($(find "$prefix" -type f | wc -l) files)"

# ---- an outside program, with pkg-config only ------------------------------
mkdir "$TA_TMP/outside"
cp "$outside_c" "$TA_TMP/outside/outside.c"
cd "$TA_TMP/outside" || exit 1
export PKG_CONFIG_PATH=$pcdir
[ "$(pkg-config --variable=prefix trackalloc)" = "$prefix" ] ||
	ta_fail "pkg-config finds another trackalloc: $(pkg-config --variable=prefix trackalloc)"
flags=$(pkg-config --cflags --libs trackalloc) || ta_fail "pkg-config --cflags --libs trackalloc failed"
# shellcheck disable=SC2086 # pkg-config's flags are words
cc -std=c11 -o outside outside.c $flags 2>"$TA_TMP/cc.log" || {
	cat "$TA_TMP/cc.log"
	ta_fail "outside.c does not build with: $flags"
}
libs=$(LD_LIBRARY_PATH=$libdir ldd ./outside) || ta_fail "ldd ./outside failed: $libs"
grep -q "libtrackalloc.so.1 => $libdir/libtrackalloc.so.1" <<<"$libs" ||
	ta_fail "outside does not load $libdir/libtrackalloc.so.1: $libs"
out=$(LD_LIBRARY_PATH=$libdir TRACKALLOC_LTTNG=0 ./outside) || ta_fail "outside failed: $out"
echo "$out"
grep -q '^outside: ok' <<<"$out" || ta_fail "outside printed: $out"

# ---- the installed command and its helpers ----------------------------------
cmd=$prefix/bin/trackalloc
[ "$("$cmd" --version)" = "trackalloc $(pkg-config --modversion trackalloc)" ] ||
	ta_fail "installed trackalloc --version: $("$cmd" --version 2>&1)"
for var in LIBTRACKALLOC REPORT_BIN ATTACH_BIN GATE_BIN; do
	grep -q "^$var='$prefix/" "$cmd" || ta_fail "installed trackalloc: $var is not under $prefix: $(grep "^$var=" "$cmd")"
done
if [ "$analysis" = true ]; then
	# into a variable first: grep -q may stop reading before a long help
	# text ends, and pipefail would take the writer's SIGPIPE for a failure
	help=$("$cmd" report --help 2>&1) || true
	grep -q '^usage: trackalloc-report' <<<"$help" ||
		ta_fail "installed 'trackalloc report --help' does not reach trackalloc-report: $(head -n3 <<<"$help")"
fi
if [ "$lttng" = true ]; then
	grep -q '^usage: trackalloc-attach' <<<"$("$cmd" attach --help 2>&1)" ||
		ta_fail "installed 'trackalloc attach --help' does not reach trackalloc-attach: $("$cmd" attach --help 2>&1 | head -n3)"
fi
echo "installed trackalloc finds its helpers: ok"

# ---- a recording, from the installed files ----------------------------------
if [ "$lttng" = true ] && [ "$analysis" = true ]; then
	command -v lttng >/dev/null || ta_skip "lttng is not installed"
	# trackalloc record starts a session daemon only when none answers, and
	# stops only that one; its session name is unique.
	"$cmd" record -o "$TA_TMP/trace" -- env LD_LIBRARY_PATH="$libdir" ./outside >"$TA_TMP/record.log" 2>&1 || {
		ta_show record "$TA_TMP/record.log"
		ta_fail "installed trackalloc record failed"
	}
	# the report's table: the group, its tag, its three allocations
	grep -Eq '^ +[0-9]+ +outside +origin=installed +3 ' "$TA_TMP/record.log" || {
		ta_show record "$TA_TMP/record.log"
		ta_fail "the installed trackalloc's report has no 'outside' group with 3 allocations"
	}
	echo "installed trackalloc record + report: ok"
fi

if [ "$man" != true ]; then
	ta_skip "scdoc not found (-Dman=disabled): the man pages were not checked"
fi
echo "install into a scratch prefix: ok"
