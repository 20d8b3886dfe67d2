#!/usr/bin/env bash
# The instruction budget's gate: instructions per request of this build against bench/budget.
#
#   sudo ./bench/budget.sh [DURATION_S]        (default 8 s per mode)
#
# For each mode of bench/budget (proxy: one nginx backend; direct: a respond route), runs
# `IDLE_SLEEP_US=500 bench/callgrind.sh MODE DURATION_S` (whole process, wrk -t1 -c10; idle polls
# are rare at 500 us, so the count repeats to about 0.1 %) and prints one line per mode:
#   budget MODE N instructions/request (budget B, limit L = B + 5 %, target T): ok|OVER
# Exits 1 when a mode is over its limit or its run failed. SLUICE_BUILD_DIR picks the build
# (default build/); BENCH_LOG_DIR keeps each run's output under MODE/; BUDGET_FILE reads another
# budget file (to see the gate fail: a line `direct 1000 1000`).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${1:-8}
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 2 && $DUR -le 120 ]] || { echo "DURATION_S: 2-120" >&2; exit 2; }

status=0
while read -r mode budget target; do
	case $mode in '' | '#'*) continue ;; esac
	log=$(mktemp)
	logdir=
	[ -n "${BENCH_LOG_DIR:-}" ] && logdir=$BENCH_LOG_DIR/$mode && mkdir -p "$logdir"
	if ! BENCH_LOG_DIR=$logdir IDLE_SLEEP_US=500 "$ROOT/bench/callgrind.sh" "$mode" "$DUR" \
		>"$log" 2>&1; then
		tail -n 20 "$log"
		echo "budget $mode: run FAILED"
		status=1
		rm -f "$log"
		continue
	fi
	n=$(sed -n 's/^instructions\/request \([0-9][0-9]*\)$/\1/p' "$log")
	grep -q 'non-2xx: 0)' "$log" || { grep '^mode' "$log"; n=; }
	if [ -z "$n" ]; then
		tail -n 20 "$log"
		echo "budget $mode: no count (or non-2xx responses)"
		status=1
	else
		limit=$((budget + budget / 20))
		verdict=ok
		[ "$n" -gt "$limit" ] && verdict=OVER && status=1
		grep '^mode' "$log"
		echo "budget $mode $n instructions/request (budget $budget, limit $limit = budget + 5 %, target $target): $verdict"
	fi
	rm -f "$log"
done <"${BUDGET_FILE:-$ROOT/bench/budget}"
exit $status
