#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Sampled allocation stacks through trackalloc report.
#
#   stacks-test.sh SCENARIO TRACKALLOC TRACKALLOC_REPORT STACKS_PROG
#
# SCENARIO:
#   profile-bad      bad profiles (missing, a directory, empty, truncated,
#                    wrong end count, unknown version, garbage lines, bad
#                    references): exit 2, one line on stderr naming the file
#                    and line; a real binary with a wrong build id: one
#                    warning line, its frames as module+offset; with the
#                    right build id: symbolised
#   flame            a profile with known stacks: --folded gives the expected
#                    lines; the SVG is well-formed XML with the title, one
#                    rect per frame, widths proportional to bytes
#   profile-exact    TRACKALLOC_STACKS=1 TRACKALLOC_PROFILE: every site of
#                    stacks-prog exactly (check-stacks.py exact)
#   profile-sampled  mean 64 KiB, seeded: estimates within 10% (sampled)
#   trace-exact      the same as profile-exact through trackalloc record
#                    --stacks=1 and trackalloc report --stacks
#   trace-sampled    the same as profile-sampled through LTTng
#   trace-without-stacks  a trace recorded without --stacks given --stacks:
#                    exit 2, one line
#   trace-synthetic  a CTF trace written by make-stacks-ctf.py (no LTTng):
#                    statedump and dlopen events map addresses of stacks-prog
#                    and its library (unloaded at the end) to their sites;
#                    live at the end, at the group's peak and allocated
#   bench            100,000 alloc_sample events over 2,000 stacks of 16 libc
#                    addresses: prints how long the report takes
# A missing tool skips (77), or fails with TRACKALLOC_REQUIRE_ALL=1.
set -uo pipefail
. "$(dirname "$0")/../common.sh"

[ $# -eq 4 ] || { echo "usage: $0 SCENARIO TRACKALLOC TRACKALLOC_REPORT STACKS_PROG" >&2; exit 2; }
scenario=$1 cmd=$2 report=$(readlink -f "$3") prog=$(readlink -f "$4")
here=$(cd "$(dirname "$0")" && pwd)
ta_tmpdir
failed=0
fail() {
	echo "FAIL: $*" >&2
	failed=1
}
unset LD_PRELOAD TRACKALLOC_STACKS TRACKALLOC_PROFILE TRACKALLOC_STACKS_SEED TRACKALLOC_LTTNG
seed=4242

# expect_error NAME STATUS PATTERN FILE [report args...]: the report fails
# with STATUS and one stderr line matching PATTERN.
expect_error() {
	local name=$1 want=$2 pat=$3 status lines
	shift 3
	"$report" "$@" >"$TA_TMP/out" 2>"$TA_TMP/err"
	status=$?
	lines=$(wc -l <"$TA_TMP/err")
	if [ "$status" -ne "$want" ] || [ "$lines" -ne 1 ] || ! grep -q -- "$pat" "$TA_TMP/err"; then
		fail "$name: exit $status (want $want), $lines stderr line(s) (want 1 matching '$pat')"
		ta_show stderr "$TA_TMP/err"
	else
		echo "ok: $name: $(cat "$TA_TMP/err")"
	fi
}

# A profile header naming the report binary itself (a real ELF with a build id).
real_id=$(readelf -n "$report" 2>/dev/null | awk '/Build ID/ { print $3 }')
main_addr=$(nm "$report" 2>/dev/null | awk '$3 == "main" { print $1 }')

profile_bad() {
	command -v readelf >/dev/null && command -v nm >/dev/null || ta_skip "readelf and nm (binutils) are needed"
	[ -n "$real_id" ] && [ -n "$main_addr" ] || ta_fail "no build id or main in $report"
	local p=$TA_TMP/p ret
	ret=$(printf '0x%x' $((0x$main_addr + 0x10)))
	good() { # BUILD_ID
		printf 'trackalloc-profile 1\npid 7\ntime 1\nsampling 1\n'
		printf 'module 0 0x555555554000 0x555555600000 %s %s\n' "$report" "$1"
		printf 'group 0 root\ngroup 3 work%%20queue k=v%%3Dw\n'
		printf 'stack 0 0+%s ?+0x1234\n' "$ret"
		printf 'site 3 0 live_objects=1 live_bytes=10 live_estimate=10 allocated_objects=2 allocated_bytes=20 allocated_estimate=20\n'
		printf 'end 1\n'
	}
	expect_error missing 2 "$p.none: cannot open the profile" --profile "$p.none"
	expect_error directory 2 "is a directory" --profile "$TA_TMP"
	: >"$p.empty"
	expect_error empty 2 "$p.empty:0: empty file" --profile "$p.empty"
	good "$real_id" | head -n 8 >"$p.trunc"
	expect_error truncated 2 "$p.trunc:8: truncated (no 'end' line" --profile "$p.trunc"
	good "$real_id" | head -c -3 >"$p.cut"
	expect_error cut-line 2 "$p.cut:10: truncated" --profile "$p.cut"
	good "$real_id" | sed 's/^end 1$/end 2/' >"$p.count"
	expect_error end-count 2 "$p.count:10: truncated or damaged: 'end 2' but 1 site" --profile "$p.count"
	good "$real_id" | sed '1s/ 1$/ 2/' >"$p.version"
	expect_error version 2 "$p.version:1: profile version 2 is not supported" --profile "$p.version"
	printf 'GIF89a\x01\x02\n' >"$p.gif"
	expect_error not-profile 2 "$p.gif:1: not a trackalloc profile" --profile "$p.gif"
	good "$real_id" | sed '5a hello world' >"$p.garbage"
	expect_error garbage 2 "$p.garbage:6: unknown record 'hello'" --profile "$p.garbage"
	good "$real_id" | sed 's/^stack 0 0+/stack 0 5+/' >"$p.ref"
	expect_error bad-module 2 "$p.ref:8: frame 5+.* names module 5" --profile "$p.ref"
	good "$real_id" | sed 's/^site 3 0/site 3 9/' >"$p.stack"
	expect_error bad-stack 2 "$p.stack:9: site names stack 9" --profile "$p.stack"
	good "$real_id" | sed 's/^stack 0 \(.*\)/stack 5 \1\nstack 2 \1/' >"$p.order"
	expect_error stack-order 2 "$p.order:9: stack id 2 is not above the previous one (5)" --profile "$p.order"
	good "$real_id" | sed 's/^stack 0 /stack 5 /; s/^site 3 0 /site 3 5 /' >"$p.gap"
	if ! "$report" --profile "$p.gap" >"$TA_TMP/gap.out" 2>&1 || ! grep -q " main report.c" "$TA_TMP/gap.out"; then
		fail "stack ids with a gap: not read"
		ta_show output "$TA_TMP/gap.out"
	fi
	good "$real_id" | sed 's/live_estimate=10/live_estimate=x/' >"$p.num"
	expect_error bad-number 2 "$p.num:9: live_estimate 'x' is not a number" --profile "$p.num"
	good "$real_id" | sed 's/work%20queue/work%2queue/' >"$p.esc"
	expect_error bad-escape 2 "$p.esc:7: group name: bad percent escape" --profile "$p.esc"
	good "$real_id" | sed 's/^site .*/&\n&/; s/^end 1/end 2/' >"$p.dup"
	expect_error dup-site 2 "$p.dup:10: a second site record" --profile "$p.dup"

	# the right build id: the frame is main in report.c
	good "$real_id" >"$p.ok"
	if ! "$report" --profile "$p.ok" >"$TA_TMP/ok.out" 2>"$TA_TMP/ok.err"; then
		fail "a good profile: exit $?"
	elif ! grep -q " main report.c:[0-9]* (trackalloc-report)" "$TA_TMP/ok.out" ||
		! grep -q "work queue (k=v=w)" "$TA_TMP/ok.out" || [ -s "$TA_TMP/ok.err" ]; then
		fail "a good profile: site not symbolised as main in report.c, or names not decoded"
		ta_show stdout "$TA_TMP/ok.out"
		ta_show stderr "$TA_TMP/ok.err"
	else
		echo "ok: right build id: $(grep ' main report.c' "$TA_TMP/ok.out" | sed 's/^ *//')"
	fi
	# a wrong one: one warning, module+offset, exit 0
	good 0123456789abcdef0123456789abcdef01234567 >"$p.mismatch"
	"$report" --profile "$p.mismatch" >"$TA_TMP/mm.out" 2>"$TA_TMP/mm.err"
	local st=$?
	if [ $st -ne 0 ] || [ "$(wc -l <"$TA_TMP/mm.err")" -ne 1 ] ||
		! grep -q "build id mismatch (recorded 0123456789abcdef" "$TA_TMP/mm.err" ||
		! grep -q " trackalloc-report+$ret\$" "$TA_TMP/mm.out" || grep -q " main " "$TA_TMP/mm.out" ||
		! grep -q "BUILD ID MISMATCH" "$TA_TMP/mm.out"; then
		fail "build id mismatch: exit $st, want 0, one warning and the frame as trackalloc-report+$ret"
		ta_show stdout "$TA_TMP/mm.out"
		ta_show stderr "$TA_TMP/mm.err"
	else
		echo "ok: build id mismatch: $(cat "$TA_TMP/mm.err")"
	fi
}

# ---- flame graph ------------------------------------------------------------

flame() {
	local p=$TA_TMP/f.prof
	cat >"$p" <<'EOF'
trackalloc-profile 1
pid 9
sampling 1
module 0 0x1000 0x9000 /nonexistent/app -
module 1 0x10000 0x20000 /nonexistent/libx.so.1 -
group 0 root
group 1 parser
group 2 cache
stack 0 0+0x100 0+0x200 0+0x300
stack 1 0+0x110 0+0x200 0+0x300
stack 2 1+0x400 0+0x300
stack 3 ?+0x77
site 1 0 live_objects=3 live_bytes=3000 live_estimate=3000000 allocated_objects=3 allocated_bytes=3000 allocated_estimate=3000000
site 1 1 live_objects=1 live_bytes=1000 live_estimate=1000000 allocated_objects=1 allocated_bytes=1000 allocated_estimate=1000000
site 2 2 live_objects=2 live_bytes=2000 live_estimate=2000000 allocated_objects=2 allocated_bytes=2000 allocated_estimate=2000000
site 2 3 live_objects=0 live_bytes=0 live_estimate=0 allocated_objects=5 allocated_bytes=5000 allocated_estimate=5000000
site 0 3 live_objects=1 live_bytes=1 live_estimate=500000 allocated_objects=1 allocated_bytes=1 allocated_estimate=500000
end 5
EOF
	if ! "$report" --profile "$p" --flamegraph "$TA_TMP/f.svg" --folded "$TA_TMP/f.folded" \
		>"$TA_TMP/f.out" 2>"$TA_TMP/f.err"; then
		ta_show stderr "$TA_TMP/f.err"
		ta_fail "the report failed"
	fi
	cat >"$TA_TMP/f.want" <<'EOF'
cache;app+0x300;libx.so.1+0x400 2000000
parser;app+0x300;app+0x200;app+0x100 3000000
parser;app+0x300;app+0x200;app+0x110 1000000
root;?+0x77 500000
EOF
	# module+offset is the recorded return address's file address
	if ! diff -u "$TA_TMP/f.want" "$TA_TMP/f.folded"; then
		fail "folded stacks differ from the expected lines"
	else
		echo "ok: folded stacks as expected"
	fi
	# weighed by bytes allocated: the freed stack of cache shows
	"$report" --profile "$p" --flame-weight allocated --folded "$TA_TMP/f.alloc" 2>/dev/null ||
		fail "--flame-weight allocated failed"
	grep -qx 'cache;?+0x77 5000000' "$TA_TMP/f.alloc" && grep -qx 'root;?+0x77 500000' "$TA_TMP/f.alloc" ||
		fail "--flame-weight allocated: the freed stack is missing"
	command -v xmllint >/dev/null || ta_skip "xmllint (libxml2-utils) is not installed"
	if ! xmllint --noout "$TA_TMP/f.svg"; then
		fail "the flame graph is not well-formed XML"
	fi
	"$TA_PY" - "$TA_TMP/f.svg" <<'EOF' || failed=1
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
bad = []
texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
if not any("Live heap by group and stack" in t for t in texts):
    bad.append("no title")
frames = {}
for g in root.iter("{http://www.w3.org/2000/svg}g"):
    title = g.find("s:title", ns).text
    rects = g.findall("s:rect", ns)
    if len(rects) != 1:
        bad.append("frame %r has %d rects" % (title, len(rects)))
        continue
    frames.setdefault(title.split(" (")[0], []).append(float(rects[0].get("width")))
nrect = len(list(root.iter("{http://www.w3.org/2000/svg}rect")))
# distinct frames of the folded paths: cache, parser, root; app+0x300 twice
# (cache, parser); libx; app+0x200; app+0x100; app+0x110; ?+0x77
if nrect != 10:
    bad.append("%d rects, want 10 (one per frame)" % nrect)
a, b = frames.get("app+0x100", [0])[0], frames.get("app+0x110", [0])[0]
if not b or abs(a / b - 3.0) > 0.01:
    bad.append("widths app+0x100 %.2f, app+0x110 %.2f: ratio not 3" % (a, b))
c = frames.get("cache", [0])[0]
if not b or abs(c / b - 2.0) > 0.01:
    bad.append("widths cache %.2f, app+0x110 %.2f: ratio not 2" % (c, b))
total = sum(frames.get(k, [0])[0] for k in ("cache", "parser", "root"))
if abs(total - 1180) > 0.5:
    bad.append("root frames span %.2f px, want 1180" % total)
for m in bad:
    print("FAIL: flame graph: " + m, file=sys.stderr)
if not bad:
    print("ok: flame graph: title, %d rects, widths 3:1 and 2:1 as the bytes" % nrect)
sys.exit(1 if bad else 0)
EOF
	[ "$(wc -l <"$TA_TMP/f.err")" -eq 2 ] || fail "want one warning per missing binary on stderr"
}

# ---- stacks-prog ------------------------------------------------------------

need_prog() {
	[ -x "$prog" ] || ta_skip "stacks-prog was not built (C++ is needed)"
	[ -x "$TA_PY" ] || ta_skip "$TA_PY is not installed"
}

# check MODE TRUTH SOURCE...: the report's TSV of SOURCE against TRUTH.
check() {
	local mode=$1 truth=$2
	shift 2
	if ! "$report" "$@" --format tsv --top 0 >"$TA_TMP/sites.tsv" 2>"$TA_TMP/sites.err"; then
		ta_show stderr "$TA_TMP/sites.err"
		fail "trackalloc report $* failed"
		return
	fi
	"$report" "$@" --top 5 >"$TA_TMP/sites.txt" 2>&1
	sed -n '/^Sampled/,$p' "$TA_TMP/sites.txt" | head -n 60
	"$TA_PY" "$here/check-stacks.py" "$mode" "$truth" "$TA_TMP/sites.tsv" || {
		ta_show truth "$truth"
		ta_show tsv "$TA_TMP/sites.tsv"
		fail "the sites differ from what stacks-prog allocated"
	}
}

profile_run() { # MEAN SCALE
	need_prog
	local t0 t1
	t0=$(date +%s%N)
	if ! TRACKALLOC_STACKS=$1 TRACKALLOC_STACKS_SEED=$seed TRACKALLOC_PROFILE="$TA_TMP/prog.prof" \
		TRACKALLOC_LTTNG=0 "$prog" "$2" >"$TA_TMP/truth" 2>"$TA_TMP/prog.err"; then
		ta_show stderr "$TA_TMP/prog.err"
		ta_fail "stacks-prog failed"
	fi
	t1=$(date +%s%N)
	echo "stacks-prog $2 with TRACKALLOC_STACKS=$1: $(((t1 - t0) / 1000000)) ms"
	[ -s "$TA_TMP/prog.prof" ] || ta_fail "TRACKALLOC_PROFILE wrote no profile"
	check "$3" "$TA_TMP/truth" --profile "$TA_TMP/prog.prof"
}

trace_run() { # RECORD_STACKS_OPTION SCALE MODE
	need_prog
	command -v lttng >/dev/null && command -v lttng-sessiond >/dev/null ||
		ta_skip "lttng and lttng-sessiond are not installed"
	if ! TRACKALLOC_STACKS_SEED=$seed "$cmd" record $1 -o "$TA_TMP/trace" -- "$prog" "$2" \
		>"$TA_TMP/truth" 2>"$TA_TMP/record.err"; then
		ta_show stderr "$TA_TMP/record.err"
		ta_fail "trackalloc record $1 failed"
	fi
	[ -z "$3" ] && return
	check "$3" "$TA_TMP/truth" --stacks "$TA_TMP/trace"
}

# ret_after FILE FUNCTION CALLEE: the return address of FUNCTION's first
# call of CALLEE (a file address, 0x...).
ret_after() {
	objdump -d --no-show-raw-insn "$1" | awk -v f="<$2>:" -v c="<$3" '
		$2 == f { inside = 1; next }
		inside && /^$/ { exit }
		inside && found { sub(":", "", $1); print "0x" $1; exit }
		inside && index($0, c) { found = 1 }'
}

# stacks-prog's real return addresses, mapped at made-up bases, in a
# synthetic trace: its sites, their lines and inlining, as the program says.
trace_synthetic() {
	need_prog
	command -v objdump >/dev/null && command -v readelf >/dev/null || ta_skip "binutils is needed"
	local lib pb=0x555555554000 lb=0x7ffff7f00000 tok names fill m_tok m_names m_cache
	lib=$(dirname "$prog")/libstackslib.so
	bid() { readelf -n "$1" | awk '/Build ID/ { print $3 }'; }
	tok=$(ret_after "$prog" parse_tokens malloc@plt) names=$(ret_after "$prog" parse_names strdup@plt)
	fill=$(ret_after "$lib" stackslib_fill malloc@plt)
	m_tok=$(ret_after "$prog" main parse_tokens) m_names=$(ret_after "$prog" main parse_names)
	m_cache=$(ret_after "$prog" main stackslib_fill@plt)
	[ -n "$tok" ] && [ -n "$names" ] && [ -n "$fill" ] && [ -n "$m_tok" ] && [ -n "$m_names" ] &&
		[ -n "$m_cache" ] || ta_fail "call sites not found in $prog (objdump)"
	"$prog" 64 >"$TA_TMP/truth" || ta_fail "stacks-prog failed"
	a() { printf '0x%x' $(($1 + $2)); }
	cat >"$TA_TMP/syn.script" <<EOF
group 1 parser
group 2 cache
module $pb 0x5000 $prog $(bid "$prog")
load $lb 0x4000 $lib $(bid "$lib")
alloc 2000 0x1000 100 100 1 $(a $pb $tok),$(a $pb $m_tok)
alloc 3000 0x2000 200 200 1 $(a $pb $names),$(a $pb $m_names)
free 4000 0x1000 100 1
alloc 5000 0x3000 50 50 1 $(a $pb $names),$(a $pb $m_names)
alloc 6000 0x4000 1000 1000 2 $(a $lb $fill),$(a $pb $m_cache)
unload $lb
free 7000 0x9999 10 2
EOF
	"$TA_PY" "$here/make-stacks-ctf.py" "$TA_TMP/syn" "$TA_TMP/syn.script" || ta_fail "make-stacks-ctf.py failed"
	"$report" --stacks "$TA_TMP/syn" >"$TA_TMP/syn.txt" 2>&1 || fail "report --stacks failed"
	"$report" --stacks --format tsv "$TA_TMP/syn" >"$TA_TMP/syn.tsv" 2>&1 || fail "report --stacks --format tsv failed"
	cat "$TA_TMP/syn.txt"
	# group live_estimate peak_estimate alloc_estimate alloc_objects function
	# file line module inlined_into caller
	grep -v '^#' "$TA_TMP/syn.tsv" | cut -f3,5,8,9,11,12,13,14,15,17,18 |
		sed 's|\t[^\t]*/\([^/\t]*\.c[p]*\)\t|\t\1\t|' | sort >"$TA_TMP/syn.got"
	line() { awk -F'\t' -v f="$1" '$3 == f { print $5 }' "$TA_TMP/truth"; }
	printf '%s\n' \
		"parser	0	100	100	1	token_block	stacks-prog.c	$(line token_block)	stacks-prog	parse_tokens	parse_tokens" \
		"parser	250	200	250	2	parse_names	stacks-prog.c	$(line parse_names)	stacks-prog	-	main" \
		"cache	1000	1000	1000	1	stackslib_fill	stacks-lib.c	$(line stackslib_fill)	libstackslib.so	-	main" |
		sort >"$TA_TMP/syn.want"
	diff -u "$TA_TMP/syn.want" "$TA_TMP/syn.got" || fail "synthetic trace: sites differ"
	grep -q "parser: live ~250 bytes (estimate), allocated ~350 bytes, 2 site(s), 2 stack(s); peak ~300 bytes at 0.000002 s" \
		"$TA_TMP/syn.txt" || fail "synthetic trace: parser's peak not 300 bytes at 2 us"
	grep -q "2 free_sample events (1 frees of blocks sampled before the recording)" "$TA_TMP/syn.txt" ||
		fail "a free of an unknown block not reported"
	grep -q "inlined into parse_tokens stacks-prog.c:" "$TA_TMP/syn.txt" ||
		fail "the inlined site does not say what it is inlined into"
	grep -q "libstackslib.so  at 0x7ffff7f00000 (unloaded)  debug info" "$TA_TMP/syn.txt" ||
		fail "the unloaded library not listed"
}

bench() {
	local libc=/usr/lib/x86_64-linux-gnu/libc.so.6 t0 t1
	[ -r "$libc" ] && command -v readelf >/dev/null || ta_skip "$libc or readelf missing"
	cat >"$TA_TMP/bench.script" <<EOF
group 1 a
group 2 b
group 3 c
module 0x7f0000000000 0x1e2000 $libc $(readelf -n "$libc" | awk '/Build ID/ { print $3 }')
bench 100000 2000 16 7 0x7f0000026000 0x155000
EOF
	"$TA_PY" "$here/make-stacks-ctf.py" "$TA_TMP/bench" "$TA_TMP/bench.script" || ta_fail "make-stacks-ctf.py failed"
	t0=$(date +%s%N)
	"$report" --stacks --top 3 "$TA_TMP/bench" >"$TA_TMP/bench.out" 2>&1 || ta_fail "the report failed"
	t1=$(date +%s%N)
	grep -q "100000 alloc_sample, 10000 free_sample events" "$TA_TMP/bench.out" || ta_fail "not every sample read"
	echo "trackalloc report --stacks on 100000 samples (16 frames, 2000 stacks, libc debug info): $(((t1 - t0) / 1000000)) ms"
}

case $scenario in
profile-bad) profile_bad ;;
trace-synthetic) trace_synthetic ;;
bench) bench ;;
flame) flame ;;
profile-exact) profile_run 1 16 exact ;;
profile-sampled) profile_run 65536 1 sampled ;;
trace-exact) trace_run --stacks=1 16 exact ;;
trace-sampled) trace_run --stacks=65536 1 sampled ;;
trace-without-stacks)
	trace_run "" 64 ""
	expect_error without-stacks 2 "no trackalloc:alloc_sample events" --stacks "$TA_TMP/trace"
	;;
*) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
[ $failed -eq 0 ] && echo "PASS: $scenario"
exit $failed
