#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's source map names every source file of lib/, tracepoints/ and
# analysis/ (and nothing that is gone), and no C source or header there
# passes 600 lines.
#
#   source-layout.sh   (SRCDIR: the source tree)
set -uo pipefail
. "$(dirname "$0")/common.sh"

cd "${SRCDIR:?}" || ta_fail "no source tree at $SRCDIR"
status=0
map=$(sed -n '/^## Source map/,/^## /p' README.md)
[ -n "$map" ] || ta_fail "README.md has no '## Source map' section"

# (no pipe into grep -q: with pipefail, the writer's SIGPIPE when grep -q
# stops at its match would make a listed file "not listed")
listed() {
	local rows
	grep -q -e "\`$1\`" <<<"$map" && return 0
	rows=$(grep -E "\`[^\`]*/[^\`]*\`" <<<"$map")
	grep -q "\`${1##*/}\`" <<<"$rows"
}

files=$(find lib tracepoints analysis -type f \( -name '*.c' -o -name '*.h' -o -name '*.hpp' \
	-o -name '*.in' -o -name '*.py' -o -name '*.xml' -o -name '*.md' \) | sort)
for f in $files; do
	base=${f##*/}
	# a row names the file by its path, or by its name after a path on the
	# same row; a module's header goes with its .c
	if ! listed "$f" && ! { [ "${f%.h}" != "$f" ] && listed "${f%.h}.c"; }; then
		echo "source map: $f is not listed" >&2
		status=1
	fi
	case $f in
	*.c | *.h | *.hpp)
		n=$(wc -l <"$f")
		if [ "$n" -gt 600 ]; then
			echo "source layout: $f has $n lines (more than 600: split it by idea)" >&2
			status=1
		fi
		;;
	esac
done
# every path the map names exists
for p in $(grep -o '`\(lib\|tracepoints\|analysis\)/[^`]*`' <<<"$map" | tr -d '`'); do
	[ -e "$p" ] || { echo "source map: $p does not exist" >&2; status=1; }
done
[ $status -eq 0 ] && echo "source map and layout: every file listed, none over 600 lines"
exit $status
