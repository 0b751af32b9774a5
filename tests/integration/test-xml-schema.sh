#!/bin/bash
# SPDX-License-Identifier: MIT
#
# analysis/trackalloc.xml, the Trace Compass analysis, must
#  1. validate against Trace Compass's XML schema (../shared/tracecompass-xsd/,
#     kept next to the source tree; never copied into it), and
#  2. name only events, fields and contexts that tracepoints/EVENTS.md (the
#     provider's contract) defines: every eventHandler's eventName is an event
#     of the table, and every event field it reads, directly or through a
#     <location>, is a field of that event or a context EVENTS.md says
#     `trackalloc record` adds (Trace Compass calls context X "context._X");
#  3. attach its views to analyses the file defines.
# Skips (77) when xmllint or the schema is missing.
#
#   test-xml-schema.sh [XMLDEFINITION.XSD]
#
# SRCDIR (the source root) defaults to two levels above this script.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/common.sh
. "$here/common.sh"

[ $# -le 1 ] || { echo "usage: $0 [XMLDEFINITION.XSD]" >&2; exit 2; }
srcdir=${SRCDIR:-$(cd "$here/../.." && pwd)}
xsd=${1:-$srcdir/../shared/tracecompass-xsd/xmlDefinition.xsd}
xml=$srcdir/analysis/trackalloc.xml
events_md=$srcdir/tracepoints/EVENTS.md

command -v xmllint >/dev/null 2>&1 || ta_skip "xmllint is not installed (libxml2-utils)"
[ -r "$xsd" ] || ta_skip "no Trace Compass schema at $xsd"
xsd=$(cd "$(dirname "$xsd")" && pwd)/$(basename "$xsd")
[ -r "$xml" ] || ta_fail "$xml is missing"
[ -r "$events_md" ] || ta_fail "$events_md is missing"

# 1. The schema. xmldefinition.xsd includes its five siblings by relative path.
xmllint --noout --schema "$xsd" "$xml" || ta_fail "$xml does not validate against $xsd"

# 2. Events and fields against EVENTS.md.
#
# The table rows: "| `trackalloc:a` / `b` | `field` type, ... | LEVEL |".
# One line per event: "trackalloc:NAME FIELD...".
table=$(awk -F'|' '
	$2 ~ /`trackalloc:/ {
		nev = 0
		s = $2
		while (match(s, /`[^`]+`/)) {
			name = substr(s, RSTART + 1, RLENGTH - 2)
			if (name !~ /^trackalloc:/) name = "trackalloc:" name
			ev[++nev] = name
			s = substr(s, RSTART + RLENGTH)
		}
		fields = ""
		s = $3
		while (match(s, /`[^`]+`/)) {
			fields = fields " " substr(s, RSTART + 1, RLENGTH - 2)
			s = substr(s, RSTART + RLENGTH)
		}
		for (i = 1; i <= nev; i++) print ev[i] fields
	}' "$events_md")
[ -n "$table" ] || ta_fail "no event table found in $events_md"
# Contexts: backquoted in the prose, outside the table.
prose=$(grep -v '^|' "$events_md")

# xpath EXPR: the values of the attribute nodes EXPR selects, one per line.
xpath() {
	{ xmllint --xpath "$1" "$xml" 2>/dev/null || true; } |
		sed -n 's/^ *[A-Za-z]*="\([^"]*\)"$/\1/p'
}

# fields_read SCOPE: the event fields the elements under SCOPE (an XPath to
# one element) read, following <location> references within its provider.
fields_read() {
	local scope=$1 loc
	xpath "$scope//*[@type='eventField']/@value"
	xpath "$scope//field/@name"
	for loc in $(xpath "$scope//*[@type='location']/@value" | sort -u); do
		fields_read "$scope/ancestor-or-self::stateProvider/location[@id='$loc']"
	done
}

failures=0
complain() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

nproviders=$(xmllint --xpath 'count(//stateProvider)' "$xml")
nhandlers=0
for ((p = 1; p <= nproviders; p++)); do
	provider="(//stateProvider)[$p]"
	pid=$(xpath "$provider/@id")
	nh=$(xmllint --xpath "count($provider/eventHandler)" "$xml")
	for ((h = 1; h <= nh; h++)); do
		handler="$provider/eventHandler[$h]"
		name=$(xpath "$handler/@eventName")
		nhandlers=$((nhandlers + 1))
		# An eventName may hold '*' wildcards: check it against every event it matches.
		matched=0
		while read -r ev fields; do
			# shellcheck disable=SC2053 # $name is a pattern on purpose
			[[ $ev == $name ]] || continue
			matched=1
			for f in $(fields_read "$handler" | sort -u); do
				case $f in
				context._*)
					grep -q "\`${f#context._}\`" <<<"$prose" ||
						complain "$pid: $name reads $f, a context EVENTS.md does not mention" ;;
				*)
					[[ " $fields " == *" $f "* ]] ||
						complain "$pid: $name reads field '$f'; EVENTS.md gives it:$fields" ;;
				esac
			done
		done <<<"$table"
		[ "$matched" = 1 ] || complain "$pid: handler for '$name', which is not an event of EVENTS.md"
	done
done
[ "$nhandlers" -gt 0 ] || complain "no eventHandler in $xml"

# 3. Views name analyses of this file.
for id in $(xpath '//timeGraphView/head/analysis/@id | //xyView/head/analysis/@id' | sort -u); do
	[ -n "$(xpath "//stateProvider[@id='$id']/@id")" ] ||
		complain "a view is for analysis '$id', which $xml does not define"
done

[ "$failures" -eq 0 ] || ta_fail "$failures problem(s) in $xml"
echo "ok: $xml: valid against $xsd; $nhandlers event handlers in $nproviders analyses name only events, fields and contexts of EVENTS.md"
