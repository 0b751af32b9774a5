#!/usr/bin/env bash
# Install what trackalloc needs to build, record, report and test, and to
# build its man pages and Debian packages, from Debian 12's archive. Runs
# apt-get as root, or through sudo.
set -euo pipefail

packages=(
	gcc g++ meson ninja-build pkg-config
	liburcu-dev liblttng-ust-dev liblttng-ctl-dev lttng-tools check
	babeltrace2 libbabeltrace2-dev libdw-dev elfutils python3 python3-bt2 python3-matplotlib
	libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 libpython3.11-testsuite
	sqlite3 perl libxml2-utils procps tmux util-linux
	scdoc build-essential debhelper dpkg-dev libunwind-dev gdb valgrind
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "trackalloc: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
