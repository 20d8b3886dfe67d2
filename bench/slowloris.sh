#!/usr/bin/env bash
# Slowloris: what a normal client keeps of its throughput through sluice while slowhttptest
# holds thousands of slow connections open against the same listener.
#
#   sudo ./bench/slowloris.sh [DURATION_S] [SLOW_CONNS] [RATE]
#        (defaults: 10 s per wrk run; 5000 slow connections; opened at 1000 per second)
#
# SLUICE_BUILD_DIR picks the build (default build/). BENCH_LOG_DIR, when set, receives every
# raw file of the run. HEADER_MS is the listener's header_timeout_ms; its default, 60000,
# outlasts the ramp-up (slowhttptest opens 5000 in about 20 s here) and the wrk run, so that
# every slow connection stays open while wrk measures (slowhttptest, -i 1: one more header
# line a second, never reopens a connection sluice closed). wrk starts once sluice counts them
# all open; then the script waits for the deadline: each slow connection gets its 408 and
# slowhttptest ends by itself ("No open connections left").
#
# Pinning as in bench/proxy.sh: sluice's one worker lcore on CPU 1 (busy polling), its control
# lcore, wrk (-t1, CONNS keep-alive connections), slowhttptest and the backend nginx on CPU 0.
#
# Output: a table (phase, requests/s, errors, client connections open when wrk started, 408s
# sent by sluice during the phase; a baseline run before the attack and one after its slow
# connections are gone) and "kept: N %" (during / the mean of both baselines; target 80 %);
# "result: PASS" (exit 0) when the run worked: no errors, the slow connections all open while
# wrk ran, then each of them answered 408 at its deadline. Smoke (scripts/test.sh):
# HEADER_MS=10000 ./bench/slowloris.sh 3 300 300.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${1:-10}
SLOW=${2:-5000}
RATE=${3:-1000}
CONNS=${CONNS:-50}
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 600 ]] || {
	echo "usage: $0 [DURATION_S 1-600] [SLOW_CONNS] [RATE]" >&2
	exit 2
}
[[ $SLOW =~ ^[0-9]+$ && $SLOW -ge 1 && $SLOW -le 15000 ]] || {
	echo "usage: $0 [DURATION_S] [SLOW_CONNS 1-15000] [RATE]" >&2
	exit 2
}
[[ $RATE =~ ^[0-9]+$ && $RATE -ge 1 ]] || { echo "usage: $0 [DURATION_S] [SLOW_CONNS] [RATE]" >&2; exit 2; }
HEADER_MS=${HEADER_MS:-60000}
# dataplane.max_connections: its request-state pool (max_connections / 4) must hold every slow
# connection, as each holds a request state from the first byte of its head; with a smaller
# pool (MAXCONN=8192 for 5000 slow connections) normal requests wait for a slow one's 408
# (docs/ROBUSTNESS.md, "Slowloris").
MAXCONN=${MAXCONN:-$((4 * (SLOW + CONNS) + 4096))}
BUILD=${SLUICE_BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/app/sluice
SLUICECTL=$BUILD/app/sluicectl
BE_PORT=8080

[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces): sudo $0 $*" >&2; exit 2; }
[ -x "$SLUICE" ] || { echo "no $SLUICE: meson setup build && ninja -C build" >&2; exit 2; }
for t in wrk nginx slowhttptest ss taskset; do
	command -v $t >/dev/null || { echo "$t missing: sudo ./scripts/deps.sh" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((SLOW + CONNS + 100)) ] || {
	echo "open-file limit $(ulimit -n) too low for $SLOW slow connections" >&2
	exit 2
}
[ "$(nproc --all)" -ge 2 ] || { echo "needs 2 CPUs (0: clients and backend, 1: sluice)" >&2; exit 2; }

PROXY_PID=
BACKEND_PID=
ATTACK_PID=
BENCH_NAME=slowloris.sh
BENCH_PIDS="ATTACK_PID PROXY_PID BACKEND_PID"
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
bench_lab_up bs slowloris

# --- the backend: one nginx worker on CPU 0 ---
bench_hello_backend "$BE_PORT"

# --- sluice ---
cat >"$WORK/sluice.yaml" <<EOF
$(sluice_dataplane 65536 "$MAXCONN")
listeners:
  - name: web
    port: 80
    limits: { header_timeout_ms: $HEADER_MS, idle_timeout_ms: 60000 }
    routes:
      - match: { path_prefix: "/" }
        service: app
services:
  app:
    endpoints:
      - { name: be1, address: $BE1_ADDR:$BE_PORT }
    pool: { max_idle_per_endpoint: 256 }
control:
  socket: $WORK/sluice.sock
EOF
ip netns exec "$LAB_NS" "$SLUICE" -c "$WORK/sluice.yaml" </dev/null >"$WORK/sluice.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 300); do
	[ -S "$WORK/sluice.sock" ] && break
	kill -0 "$PROXY_PID" 2>/dev/null || die "sluice exited at start: $(tail -3 "$WORK/sluice.log")"
	sleep 0.1
done
[ -S "$WORK/sluice.sock" ] || die "sluice: no control socket after 30 s"
ctl() { "$SLUICECTL" -s "$WORK/sluice.sock" "$@"; }
counter() { ctl show ports | awk -v k="total.http.$1:" '$1 == k { print $2 }'; }

url=http://$APP_ADDR/
cli() { ip netns exec "$CLI_NS" taskset -c 0 "$@"; }
cli wrk -t1 -c"$CONNS" -d2s "$url" >"$WORK/wrk-warm.txt" 2>&1 || die "wrk warm-up failed"

wrk_run() { # NAME: one wrk run; prints "requests/s errors"
	cli wrk -t1 -c"$CONNS" -d"${DUR}s" --timeout 10s "$url" >"$WORK/wrk-$1.txt" 2>&1 ||
		die "wrk $1 failed: $(tail -3 "$WORK/wrk-$1.txt")"
	awk '/^Requests\/sec:/ { rps = $2 }
		/Non-2xx or 3xx responses:/ { err += $NF }
		/Socket errors:/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
		END { printf "%s %d\n", rps, err }' "$WORK/wrk-$1.txt"
}

open_conns() { ctl show info | awk '$1 == "CurrConns:" { print $2 }'; }

t0=$(counter header_timeouts)
read -r base_rps base_err < <(wrk_run baseline)
t1=$(counter header_timeouts)
base_open=$(open_conns)

# --- the attack: SLOW slow connections, until sluice's deadline ends them (-l: a bound) ---
attack_s=$((HEADER_MS / 1000 + SLOW / RATE + 60))
cli slowhttptest -H -c "$SLOW" -r "$RATE" -i 1 -x 16 -p 10 -l "$attack_s" -u "$url" \
	-g -o "$WORK/slowhttptest" >"$WORK/slowhttptest.txt" 2>&1 &
ATTACK_PID=$!
# wait until (nearly) every slow connection is open, as sluice counts them
# (at most until DURATION_S + 2 s before the first of them reaches its deadline)
ramp_end=$((SECONDS + HEADER_MS / 1000 - DUR - 2))
while [ $SECONDS -lt $ramp_end ]; do
	[ "$(open_conns)" -ge $((SLOW * 98 / 100)) ] && break
	kill -0 "$ATTACK_PID" 2>/dev/null || die "slowhttptest ended early: $(tail -5 "$WORK/slowhttptest.txt")"
	sleep 0.1
done
attack_open=$(open_conns)
t2=$(counter header_timeouts)
read -r att_rps att_err < <(wrk_run during)
t3=$(counter header_timeouts)
wait "$ATTACK_PID" || true
ATTACK_PID=
sleep 1
t4=$(counter header_timeouts)
grep -q "No open connections left" "$WORK/slowhttptest.txt" ||
	echo "note: slowhttptest ended at its time limit, not because sluice closed every connection"
read -r post_rps post_err < <(wrk_run baseline-after)

echo "slowloris: $SLOW slow connections (slowhttptest -H, $RATE/s, a header line a second)," \
	"header_timeout_ms $HEADER_MS, max_connections $MAXCONN, wrk -t1 -c$CONNS for ${DUR} s"
echo
echo "| phase | requests/s | errors | client conns open before wrk | 408s during wrk |"
echo "| --- | --- | --- | --- | --- |"
echo "| baseline | $base_rps | $base_err | $base_open | $((t1 - t0)) |"
echo "| slowloris | $att_rps | $att_err | $attack_open | $((t3 - t2)) |"
echo "| baseline after | $post_rps | $post_err | 0 | 0 |"
echo
echo "408s sent at the deadline in all: $((t4 - t1)) (slow connections: $SLOW)"
# against the mean of the baselines before and after: this machine is shared and noisy
kept=$(awk -v a="$att_rps" -v b="$base_rps" -v c="$post_rps" \
	'BEGIN { printf "%.1f", 200 * a / (b + c) }')
if awk -v k="$kept" 'BEGIN { exit !(k >= 80) }'; then
	echo "kept: $kept % of the mean baseline (target: at least 80 %): met"
else
	echo "kept: $kept % of the mean baseline (target: at least 80 %): NOT met"
fi
# The exit status says whether the run itself worked; the figure above is the measurement.
if [ "$base_err" -eq 0 ] && [ "$att_err" -eq 0 ] && [ "$post_err" -eq 0 ] && [ "$attack_open" -ge $((SLOW * 95 / 100)) ] &&
	[ $((t4 - t1)) -ge $((SLOW * 95 / 100)) ]; then
	echo "result: PASS"
else
	echo "result: FAIL (needs no errors, the slow connections open, then their 408s)"
	exit 1
fi
