#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The Debian packages, end to end: build libtrackalloc1, libtrackalloc-dev
# and trackalloc with `dpkg-buildpackage -b -us -uc` in a scratch copy of
# this tree (it writes ../*.deb: the tree stays clean), install them with
# apt-get, then use only what they installed: build examples/demo.c
# against libtrackalloc-dev with pkg-config, record it with the installed
# `trackalloc record`, read the trace with `trackalloc report` (table, CSV
# and plot), and remove the packages again.
#
#   bash tools/packages.sh        # as root, or with sudo for apt-get
#
# Exit status: 0 ok, 1 failed, 77 cannot run here (not root and no sudo,
# or the packages are installed already: they are not this script's to
# replace). With TRACKALLOC_REQUIRE_ALL=1 a 77 becomes 1, as in the test
# suite. tools/test.sh runs it after the suite and counts it as one test.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../tests/integration/common.sh
. tests/integration/common.sh

packages=(libtrackalloc1 libtrackalloc-dev trackalloc)
log() { echo "packages: $*" >&2; }

sudo=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null && sudo -n true 2>/dev/null ||
		ta_skip "installing packages needs root or sudo"
	sudo=sudo
fi
for p in dpkg-buildpackage dh apt-get pkg-config cc; do
	command -v "$p" >/dev/null || ta_skip "$p is not installed (bash tools/deps.sh)"
done
for p in "${packages[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		ta_skip "$p is installed already; remove it to run this test"
	fi
done

version=$(sed -n "s/^  version: '\([^']*\)',\$/\1/p" meson.build)
changelog_version=$(dpkg-parsechangelog -S Version)
[ "$version" = "$changelog_version" ] ||
	ta_fail "debian/changelog is at $changelog_version, meson.build at $version"

work=$(mktemp -d "${TMPDIR:-/tmp}/trackalloc-packages.XXXXXX")
installed=
cleanup() {
	local status=$?
	if [ -n "$installed" ]; then
		log "removing ${packages[*]}"
		DEBIAN_FRONTEND=noninteractive $sudo apt-get purge -y -qq "${packages[@]}" \
			>"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; status=1; }
	fi
	if [ "${TRACKALLOC_KEEP:-0}" = 1 ]; then
		log "kept $work"
	else
		rm -rf "$work"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- build, in a copy of the tree ------------------------------------------
src=$work/trackalloc-$version
mkdir "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# what git tracks or would track: the working tree as it is, no build dirs
	git ls-files -z --cached --others --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$src" -xf -
else
	tar --exclude='./build*' --exclude=./.git --exclude='./obj-*' -cf - . | tar -C "$src" -xf -
fi
[ -f "$src/debian/rules" ] || ta_fail "the copy of the tree has no debian/rules"
log "building the packages (log: $work/build.log)"
start=$SECONDS
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	ta_fail "dpkg-buildpackage failed"
}
log "built in $((SECONDS - start)) s: $(cd "$work" && echo *.deb)"
debs=()
for p in "${packages[@]}"; do
	f=$(echo "$work/${p}_${version}_"*.deb)
	[ -f "$f" ] || ta_fail "no ${p}_${version}_*.deb was built"
	debs+=("$f")
done

# ---- install ----------------------------------------------------------------
installed=1
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${debs[@]}" \
	>"$work/install.log" 2>&1 || {
	tail -n 20 "$work/install.log" >&2
	ta_fail "apt-get install of the packages failed"
}
for f in /usr/bin/trackalloc /usr/share/trackalloc/trackalloc.xml \
	/usr/share/trackalloc/plot.py /usr/libexec/trackalloc/trackalloc-report \
	/usr/libexec/trackalloc/trackalloc-attach /usr/libexec/trackalloc/trackalloc-gate \
	/usr/libexec/trackalloc/trackalloc-top \
	/usr/share/man/man1/trackalloc.1.gz /usr/share/man/man3/trackalloc.3.gz; do
	dpkg -S "$f" >/dev/null 2>&1 || ta_fail "no package installed $f"
done
for h in lib/include/*; do # the public headers
	dpkg -S "/usr/include/${h##*/}" >/dev/null 2>&1 || ta_fail "no package installed /usr/include/${h##*/}"
done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in libtrackalloc.so.1 libtrackalloc-lttng.so.1; do
	dpkg -S "/usr/lib/$multiarch/$f" >/dev/null 2>&1 || ta_fail "no package installed /usr/lib/$multiarch/$f"
done
log "installed: $(dpkg-query -W -f='${Package} ${Version}\n' "${packages[@]}" | paste -sd, | sed 's/,/, /g')"

# ---- the demo, from the installed files only ------------------------------
# A clean environment: no build tree on any path, nothing preloaded.
run() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="${HOME:-/root}" LANG=C.UTF-8 "$@"; }
mkdir "$work/run"
cp examples/demo.c "$work/run/"
cd "$work/run" || exit 1
[ "$(run pkg-config --variable=prefix trackalloc)" = /usr ] ||
	ta_fail "pkg-config does not find the installed trackalloc.pc"
# shellcheck disable=SC2046 # pkg-config's flags are words
run cc -O2 -o demo demo.c $(run pkg-config --cflags --libs trackalloc) 2>cc.log || {
	cat cc.log >&2
	ta_fail "examples/demo.c does not build against libtrackalloc-dev"
}
loaded=$(run ldd ./demo | sed -n 's/^[[:space:]]*libtrackalloc\.so\.1 => \([^ ]*\) .*/\1/p')
# (/lib is /usr/lib on a merged-/usr system)
[ -n "$loaded" ] && [ "$(readlink -f "$loaded")" = "$(readlink -f "/usr/lib/$multiarch/libtrackalloc.so.1")" ] ||
	ta_fail "the demo does not load the installed library: $(run ldd ./demo)"

# trackalloc record starts a session daemon only when none answers, stops
# only the one it started, and names its session uniquely.
start=$SECONDS
run trackalloc record -o trace -- ./demo 5000 >record.log 2>&1 || {
	ta_show "trackalloc record" record.log
	ta_fail "the installed trackalloc record failed"
}
run trackalloc report --csv live.csv --plot live.png trace >report.txt 2>report.err || {
	ta_show "trackalloc report" report.err
	ta_fail "the installed trackalloc report failed"
}
for row in 'parser +component=frontend' 'cache +component=storage,tier=l1' 'handler '; do
	grep -Eq "^ +[0-9]+ +$row" report.txt || {
		ta_show "trackalloc report" report.txt
		ta_fail "the report has no row for group ${row%% *}"
	}
done
grep -q '^time_s,pid,group_id,group_name,live_bytes$' live.csv || ta_fail "live.csv has no header"
[ "$(head -c 4 live.png | od -An -c | tr -d ' ')" = '211PNG' ] ||
	ta_fail "live.png is not a PNG (the installed plot.py)"
log "demo recorded and reported from the installed files in $((SECONDS - start)) s:"
sed -n '/^process/,/(all groups)/p' report.txt >&2
log "ok"
