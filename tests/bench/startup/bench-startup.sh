#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Start-up cost and fixed RSS of a preloaded process, with a session daemon
# up and no session: /bin/true started TA_BENCH_EXECS times per round, the
# contenders interleaved round by round and pinned to one CPU; medians over
# TA_BENCH_ROUNDS rounds. RSS: VmRSS and RssAnon of `cat /proc/self/status`,
# the median difference over pairs of runs, plain then the contender.
#
#   bench-startup.sh LIBTRACKALLOC
#
# Contenders: plain; trackalloc preloaded with TRACKALLOC_LTTNG=auto (no
# recording: LTTng-UST is not loaded), =0, =1, and =1 with the environment
# trackalloc record gives its command (no base-address statedump unless
# --stacks); LTTng's own liblttng-ust-libc-wrapper preloaded.
set -uo pipefail
lib=${1:?usage: $0 LIBTRACKALLOC}
execs=${TA_BENCH_EXECS:-200}
rounds=${TA_BENCH_ROUNDS:-7}
wrapper=/usr/lib/x86_64-linux-gnu/liblttng-ust-libc-wrapper.so.1
unset LD_PRELOAD TRACKALLOC_LTTNG TRACKALLOC_REPORT TRACKALLOC_SAMPLE_MS
pin=()
command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ] && pin=(taskset -c 1)

started=
if command -v lttng >/dev/null 2>&1 && ! lttng list >/dev/null 2>&1; then
	lttng-sessiond --daemonize --no-kernel >/dev/null 2>&1 && started=$(pgrep -n -x lttng-sessiond)
	for _ in $(seq 50); do lttng list >/dev/null 2>&1 && break; sleep 0.1; done
fi
trap '[ -n "$started" ] && kill "$started"' EXIT
lttng list >/dev/null 2>&1 && echo "session daemon: up" || echo "session daemon: none"

names=(plain auto off on record wrapper)
envs=("" "LD_PRELOAD=$lib" "LD_PRELOAD=$lib TRACKALLOC_LTTNG=0"
	"LD_PRELOAD=$lib TRACKALLOC_LTTNG=1"
	"LD_PRELOAD=$lib TRACKALLOC_LTTNG=1 LTTNG_UST_WITHOUT_BADDR_STATEDUMP=1"
	"LD_PRELOAD=$wrapper")
[ -e "$wrapper" ] || { names=("${names[@]:0:5}"); envs=("${envs[@]:0:5}"); }

# one round of one contender: ms per exec. The loop's shell is not
# preloaded: each /bin/true gets the contender's environment for itself
# (exported inside the loop), so this is the cost of starting one process.
round() {
	local e=$1 t0 t1
	t0=$(date +%s%N)
	env -i PATH=/usr/bin:/bin E="$e" N="$execs" "${pin[@]}" /bin/bash -c \
		'for ((i = 0; i < N; i++)); do env $E /bin/true; done'
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" -v n="$execs" 'BEGIN { printf "%.4f\n", (b - a) / 1e6 / n }'
}

declare -A samples
for ((r = 0; r < rounds; r++)); do
	for i in "${!names[@]}"; do
		samples[${names[$i]}]+="$(round "${envs[$i]}") "
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# VmRSS and RssAnon of one `cat /proc/self/status` under ENV, kB
status() {
	# shellcheck disable=SC2086
	env -i PATH=/usr/bin:/bin $1 cat /proc/self/status |
		awk '/^VmRSS/ { r = $2 } /^RssAnon/ { a = $2 } END { print r, a }'
}
# rss ENV: the median over TA_BENCH_RSS_PAIRS pairs (plain, then ENV) of
# the pair's difference in VmRSS, and in RssAnon (the process's private
# memory). Each pair's two processes run back to back: the page cache and
# the address-space layout, which move the file-backed part of the RSS by
# 100 KiB between runs, move both alike.
rss() {
	local i p q
	for i in $(seq "${TA_BENCH_RSS_PAIRS:-41}"); do
		p=$(status "")
		q=$(status "$1")
		echo "$p $q"
	done | awk '{ print $3 - $1, $4 - $2 }' > "$rss_tmp"
	echo "$(cut -d' ' -f1 "$rss_tmp" | median) $(cut -d' ' -f2 "$rss_tmp" | median)"
}
rss_tmp=$(mktemp)

plain=$(echo "${samples[plain]}" | median)
printf '%-28s %10s %12s %14s %14s\n' contender "ms/exec" "vs plain" "RSS vs plain" "anon vs plain"
for i in "${!names[@]}"; do
	n=${names[$i]}
	m=$(echo "${samples[$n]}" | median)
	read -r k a < <(rss "${envs[$i]}")
	label=$n
	case $n in
	auto) label="trackalloc (auto, no rec.)" ;;
	off) label="trackalloc LTTNG=0" ;;
	on) label="trackalloc LTTNG=1" ;;
	record) label="as trackalloc record runs it" ;;
	wrapper) label="LTTng libc wrapper" ;;
	esac
	printf '%-28s %10.3f %+11.3f %+10d kB %+10d kB\n' "$label" "$m" \
		"$(awk -v a="$m" -v b="$plain" 'BEGIN { print a - b }')" "$k" "$a"
done
rm -f "$rss_tmp"
echo "(median of $rounds rounds of $execs starts of 'env VARS /bin/true' from a plain bash loop;"
echo " the env exec is in every figure, plain's included)"
echo "'as trackalloc record runs it': LTTNG=1 and LTTNG_UST_WITHOUT_BADDR_STATEDUMP=1, which"
echo "record sets without --stacks; target: at most the LTTng libc wrapper's start-up"
