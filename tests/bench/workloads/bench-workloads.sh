#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Real-workload benchmark (issue 16 item 3, issue 12 "Benchmarks"): the
# allocation-heavy programs of this directory under every contender, pinned
# to one CPU, contenders interleaved round by round so that load elsewhere on
# the machine hits all of them alike. Prints per workload the medians of wall
# time, CPU time (user + system of the child) and peak RSS, their ratios
# against plain glibc and against LTTng's libc wrapper, and the targets as
# informational "met"/"NOT met" lines. Timings never fail the benchmark; it
# fails only when a program fails or a contender's checksum line differs
# from plain glibc's.
#
#   bench-workloads.sh WORKLOAD-RUN LIBTRACKALLOC PROGRAM...
#
# Contenders: glibc; trackalloc preloaded, no session; LTTng's libc wrapper
# preloaded, no session; trackalloc sampling stacks (mean 512 KiB), no
# session; trackalloc in counters mode (TRACKALLOC_LTTNG=1, a session
# recording trackalloc:group_stats); the same sampling stacks (the session
# also records alloc_sample, free_sample); LTTng's libc wrapper with a
# session recording lttng_ust_libc:* (a snapshot session: its ring buffers
# stay in memory and nothing is written to disk, so the figure is the
# program's side of recording every call, not the disk's; a full trace of
# these programs is gigabytes per run); heaptrack, for contrast.
#
# With TA_BENCH_CONTENDERS (a space-separated list) only those run, in that
# order; two more are known there: ta-thread-rules and ta-lib-rules,
# trackalloc with TRACKALLOC_GROUPS='thread:*=%n' and 'lib:*=%n' (what
# trackalloc record --group-by=thread|lib sets), no session, compared with
# trackalloc with no rules (issue 13).
#
# Environment: TA_BENCH_ROUNDS (5), TA_BENCH_HEAPTRACK_ROUNDS (1, 0 skips
# heaptrack), TA_BENCH_QUICK=1 (1 round, the programs' quick inputs),
# TA_LTTNG_WRAPPER (path of liblttng-ust-libc-wrapper.so.1),
# TA_BENCH_CONTENDERS.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runner=${1:?usage: $0 WORKLOAD-RUN LIBTRACKALLOC PROGRAM...}
lib=${2:?usage: $0 WORKLOAD-RUN LIBTRACKALLOC PROGRAM...}
shift 2
programs=("$@")
[ ${#programs[@]} -gt 0 ] || { echo "usage: $0 WORKLOAD-RUN LIBTRACKALLOC PROGRAM..." >&2; exit 2; }
wrapper=${TA_LTTNG_WRAPPER:-/usr/lib/x86_64-linux-gnu/liblttng-ust-libc-wrapper.so.1}
rounds=${TA_BENCH_ROUNDS:-5}
ht_rounds=${TA_BENCH_HEAPTRACK_ROUNDS:-1}
input=
if [ "${TA_BENCH_QUICK:-0}" = 1 ]; then
	rounds=1 ht_rounds=$((ht_rounds > 0 ? 1 : 0)) input=quick
fi
stacks_mean=524288
target_ta=1.10     # issue 16: trackalloc / glibc, no session, wall and CPU
target_stacks=1.05 # issue 12: stacks at 512 KiB / no stacks

# The session helpers (unique names, own output directories, a session
# daemon started only when none answers and then stopped by its pid) are
# the integration tests'; their lt_init also wants babeltrace2 and bt2,
# which the session contenders do not need, so check before calling it.
. "$here/../../integration/lttng/lib.sh"
sessions=0
if command -v lttng >/dev/null && command -v lttng-sessiond >/dev/null &&
	command -v babeltrace2 >/dev/null && "$LT_PY" -c 'import bt2' 2>/dev/null &&
	[ -e "$(dirname "$(readlink -f "$lib")")/libtrackalloc-lttng.so.1" ]; then
	lt_init
	sessions=1
else
	LT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ta-wl-bench.XXXXXX")
	trap lt_cleanup EXIT
fi

contenders=(glibc trackalloc)
[ -e "$wrapper" ] && contenders+=(lttng-wrapper)
contenders+=(ta-stacks)
[ $sessions = 1 ] && contenders+=(ta-counters ta-stacks-counters)
[ $sessions = 1 ] && [ -e "$wrapper" ] && contenders+=(lttng-wrapper-session)
[ "$ht_rounds" -gt 0 ] && command -v heaptrack >/dev/null && contenders+=(heaptrack)
if [ -n "${TA_BENCH_CONTENDERS:-}" ]; then
	available=" ${contenders[*]} ta-thread-rules ta-lib-rules "
	contenders=()
	for c in $TA_BENCH_CONTENDERS; do
		case $available in
		*" $c "*) contenders+=("$c") ;;
		*) echo "note: contender $c is not available here: skipped" ;;
		esac
	done
	case " ${contenders[*]} " in
	*" glibc "*) ;;
	*) contenders=(glibc "${contenders[@]}") ;; # the reference checksum
	esac
fi
has() { # CONTENDER
	local c
	for c in "${contenders[@]}"; do [ "$c" = "$1" ] && return 0; done
	return 1
}

if [ $sessions = 1 ]; then
	lt_session SC
	lt_channel "$SC"
	lt_events "$SC" trackalloc:group_stats
	lt_session SS
	lt_channel "$SS"
	lt_events "$SS" trackalloc:group_stats,trackalloc:alloc_sample,trackalloc:free_sample
	if has lttng-wrapper-session; then
		# snapshot mode wants overwrite-mode channels; same sub-buffers
		# as lt_channel's defaults otherwise
		lt_session SW --snapshot
		lt_run lttng enable-channel -u -s "$SW" --overwrite ch
		lt_events "$SW" 'lttng_ust_libc:*'
	fi
fi

# run_one WORKLOAD PROGRAM CONTENDER: one pinned run; its figures appended to
# $LT_TMP/WORKLOAD.CONTENDER, its checksum line checked against glibc's.
failures=0
run_one() {
	local w=$1 prog=$2 c=$3 res=$LT_TMP/run.res out session=
	local -a vars=(LTTNG_UST_REGISTER_TIMEOUT=0) cmd=("$prog")
	[ -n "$input" ] && cmd+=("$input")
	case $c in
	trackalloc) vars+=(LD_PRELOAD="$lib") ;;
	lttng-wrapper) vars+=(LD_PRELOAD="$wrapper") ;;
	ta-stacks) vars+=(LD_PRELOAD="$lib" TRACKALLOC_STACKS="$stacks_mean") ;;
	ta-thread-rules) vars+=(LD_PRELOAD="$lib" TRACKALLOC_GROUPS='thread:*=%n') ;;
	ta-lib-rules) vars+=(LD_PRELOAD="$lib" TRACKALLOC_GROUPS='lib:*=%n') ;;
	# with a session, LTTng-UST's default registration wait applies, as
	# under trackalloc record, so the recording starts with the program
	ta-counters) vars=(LD_PRELOAD="$lib" TRACKALLOC_LTTNG=1) session=$SC ;;
	ta-stacks-counters)
		vars=(LD_PRELOAD="$lib" TRACKALLOC_LTTNG=1 TRACKALLOC_STACKS="$stacks_mean")
		session=$SS
		;;
	lttng-wrapper-session) vars=(LD_PRELOAD="$wrapper") session=$SW ;;
	heaptrack) cmd=(heaptrack -o "$LT_TMP/heaptrack.$w" "${cmd[@]}") ;;
	esac
	[ -n "$session" ] && lt_start "$session"
	# nothing of the caller's environment that changes malloc (meson sets
	# MALLOC_PERTURB_, which makes glibc fill every block)
	out=$(taskset -c 1 "$runner" "$res" env -u LD_PRELOAD -u MALLOC_PERTURB_ -u MALLOC_CHECK_ \
		-u MALLOC_ARENA_MAX -u GLIBC_TUNABLES -u TRACKALLOC_LTTNG -u TRACKALLOC_STACKS \
		-u TRACKALLOC_PROFILE -u TRACKALLOC_REPORT -u TRACKALLOC_SAMPLE_MS -u TRACKALLOC_GROUPS \
		"${vars[@]}" "${cmd[@]}" 2>"$LT_TMP/run.err")
	local status=$?
	[ -n "$session" ] && lt_stop "$session"
	rm -f "$LT_TMP/heaptrack.$w".*
	out=$(grep '^checksum ' <<<"$out")
	if [ $status != 0 ] || [ -z "$out" ]; then
		echo "FAIL: $w under $c: exit status $status, output '${out}'" >&2
		head -c 2000 "$LT_TMP/run.err" >&2
		failures=$((failures + 1))
		return
	fi
	if [ "$c" = glibc ] && [ -z "${reference[$w]:-}" ]; then
		reference[$w]=$out
	elif [ "$out" != "${reference[$w]}" ]; then
		echo "FAIL: $w under $c printed '$out', plain glibc '${reference[$w]}'" >&2
		failures=$((failures + 1))
		return
	fi
	cat "$res" >>"$LT_TMP/$w.$c"
}

median() { # FILE COLUMN
	[ -s "$1" ] || { echo "?"; return; }
	awk -v c="$2" '{print $c}' "$1" | sort -g |
		awk '{v[NR] = $1} END {printf "%.4f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
# spread FILE: (max - min) / median of the wall times, how far apart the runs
# of one contender were: a ratio smaller than it is within the noise
spread() {
	[ -s "$1" ] || { echo "?"; return; }
	awk '{print $1}' "$1" | sort -g | awk '{v[NR] = $1} END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f%%", 100 * (v[NR] - v[1]) / m }'
}
ratio() { # A B
	case "$1$2" in *'?'*) echo "?" ;; *) awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}' ;; esac
}
secs() { # VALUE: 3 decimals, or "?"
	case $1 in '?') echo "?" ;; *) printf '%.3f' "$1" ;; esac
}
# paired A-FILE B-FILE COLUMN: the ratios A/B of the runs of one round (line
# N of both files), as "median [min-max]": a ratio that load on the machine
# hits on both sides alike
paired() {
	{ [ -s "$1" ] && [ -s "$2" ]; } || { echo "?"; return; }
	paste -d' ' <(awk -v c="$3" '{print $c}' "$1") <(awk -v c="$3" '{print $c}' "$2") |
		awk '$2 > 0 {print $1 / $2}' | sort -g | awk '{v[NR] = $1} END {
			if (!NR) { print "?"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.2fx [%.2f-%.2f]", m, v[1], v[NR] }'
}
met() { # RATIO-WITH-x LIMIT
	case $1 in
	'?') echo "unknown" ;;
	*) awk -v r="${1%x}" -v l="$2" 'BEGIN {print (r <= l ? "met" : "NOT met")}' ;;
	esac
}

echo "workloads: ${#programs[@]} programs, $rounds rounds (heaptrack: $ht_rounds)," \
	"inputs ${input:-full}; pinned to CPU 1 (taskset -c 1); figures are medians;"
echo "cpu: user + system of the child (heaptrack: with its interpreter); rss: peak of the" \
	"largest process; spread: (max - min) / median of the wall times"
echo "machine: $(nproc) CPUs, $(ldd --version | head -n 1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "contenders: ${contenders[*]}"
[ $sessions = 1 ] || echo "note: no LTTng tools (or no provider library): session contenders skipped"
if [ $sessions = 1 ] && [ -n "$(lt_foreign_sessions 'trackalloc:\|lttng_ust_libc:')" ]; then
	echo "note: another active session records trackalloc or lttng_ust_libc events: the" \
		"preloaded contenders may pay for it"
fi

declare -A reference
for ((r = 1; r <= rounds; r++)); do
	for prog in "${programs[@]}"; do
		w=${prog##*/}
		w=${w#wl-}
		for c in "${contenders[@]}"; do
			[ "$c" = heaptrack ] && [ "$r" -gt "$ht_rounds" ] && continue
			run_one "$w" "$prog" "$c"
		done
	done
	echo "round $r of $rounds done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
done

declare -a summary
for prog in "${programs[@]}"; do
	w=${prog##*/}
	w=${w#wl-}
	echo
	echo "$w: ${reference[$w]:-no reference run}"
	printf '  %-22s %8s %8s %8s %9s %9s %9s %10s %10s %4s %6s\n' contender "wall s" "cpu s" \
		"rss MiB" "wall/gl" "cpu/gl" "rss/gl" "wall/lttng" "cpu/lttng" runs spread
	declare -A wall=() cpu=() rss=()
	for c in "${contenders[@]}"; do
		f=$LT_TMP/$w.$c
		wall[$c]=$(median "$f" 1) cpu[$c]=$(median "$f" 2) rss[$c]=$(median "$f" 3)
	done
	for c in "${contenders[@]}"; do
		f=$LT_TMP/$w.$c
		lw="-" lc="-"
		if has lttng-wrapper; then
			lw=$(ratio "${wall[$c]}" "${wall[lttng-wrapper]}")
			lc=$(ratio "${cpu[$c]}" "${cpu[lttng-wrapper]}")
		fi
		rss_mib="?"
		[ "${rss[$c]}" = "?" ] || rss_mib=$(awk -v k="${rss[$c]}" 'BEGIN {printf "%.1f", k / 1024}')
		printf '  %-22s %8s %8s %8s %9s %9s %9s %10s %10s %4s %6s\n' "$c" "$(secs "${wall[$c]}")" \
			"$(secs "${cpu[$c]}")" "$rss_mib" "$(ratio "${wall[$c]}" "${wall[glibc]}")" \
			"$(ratio "${cpu[$c]}" "${cpu[glibc]}")" "$(ratio "${rss[$c]}" "${rss[glibc]}")" \
			"$lw" "$lc" "$( [ -e "$f" ] && wc -l <"$f" || echo 0)" "$(spread "$f")"
	done
	if has trackalloc; then
		tw=$(ratio "${wall[trackalloc]}" "${wall[glibc]}") tc=$(ratio "${cpu[trackalloc]}" "${cpu[glibc]}")
		line="trackalloc/glibc no session <= ${target_ta}x: wall $tw, cpu $tc ->"
		if [ "$(met "$tw" $target_ta)" = met ] && [ "$(met "$tc" $target_ta)" = met ]; then
			line+=" met"
		else
			line+=" NOT met"
		fi
		echo "  issue 16: $line"
		summary+=("$w: $line")
	fi
	# with a session: trackalloc in counters mode against the wrapper
	# recording its events, and each against the same preload with none
	if has ta-counters && has lttng-wrapper-session; then
		line="with a session: counters mode/wrapper recording lttng_ust_libc:*: wall"
		line+=" $(ratio "${wall[ta-counters]}" "${wall[lttng-wrapper-session]}"), cpu"
		line+=" $(ratio "${cpu[ta-counters]}" "${cpu[lttng-wrapper-session]}"); against no"
		line+=" session: trackalloc cpu $(ratio "${cpu[ta-counters]}" "${cpu[trackalloc]}"),"
		line+=" wrapper cpu $(ratio "${cpu[lttng-wrapper-session]}" "${cpu[lttng-wrapper]}")"
		echo "  $line"
		summary+=("$w: $line")
	fi
	# issue 13: rules against trackalloc with no rules; no target on the
	# workloads, the figures only. Paired: the two runs of each round.
	for c in ta-thread-rules ta-lib-rules; do
		if ! has "$c" || ! has trackalloc; then
			continue
		fi
		line="${c#ta-}/no rules: wall $(ratio "${wall[$c]}" "${wall[trackalloc]}"), cpu"
		line+=" $(ratio "${cpu[$c]}" "${cpu[trackalloc]}") (paired by round: wall"
		line+=" $(paired "$LT_TMP/$w.$c" "$LT_TMP/$w.trackalloc" 1), cpu"
		line+=" $(paired "$LT_TMP/$w.$c" "$LT_TMP/$w.trackalloc" 2))"
		echo "  issue 13: $line"
		summary+=("$w: $line")
	done
	pairs=()
	has ta-stacks && has trackalloc && pairs+=("ta-stacks trackalloc no-session")
	has ta-counters && pairs+=("ta-stacks-counters ta-counters counters-mode")
	for p in "${pairs[@]}"; do
		read -r a b label <<<"$p"
		sw=$(ratio "${wall[$a]}" "${wall[$b]}") sc=$(ratio "${cpu[$a]}" "${cpu[$b]}")
		line="stacks 512 KiB/no stacks, $label <= ${target_stacks}x: wall $sw, cpu $sc ->"
		# issue 12 sets the target on cfrac and espresso; the others are shown
		case $w in
		cfrac | espresso)
			if [ "$(met "$sw" $target_stacks)" = met ] && [ "$(met "$sc" $target_stacks)" = met ]; then
				line+=" met"
			else
				line+=" NOT met"
			fi
			;;
		*) line+=" (no target on $w)" ;;
		esac
		echo "  issue 12: $line"
		summary+=("$w: $line")
	done
	unset wall cpu rss
done

echo
echo "targets (informational; timings never fail this benchmark):"
for s in "${summary[@]}"; do
	echo "  $s"
done
if [ $failures != 0 ]; then
	echo "FAIL: $failures run(s) failed or printed a checksum that differs from plain glibc's" >&2
	exit 1
fi
exit 0
