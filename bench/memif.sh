#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The DPDK-only path: sluice-load <-> sluice (the proxy under test) <-> sluice (the origin, a
# direct-response route), connected by net_memif, so no kernel is on the packet path: what a
# user with a NIC gets, without the lab's veth and bridge.
#
#   bench/memif.sh [DURATION_S]
#
# The proxy's worker runs alone on CPU 1 (control on CPU 0); the generator and the origin share
# CPU 0 (both back off when idle, so neither starves the other). memif runs in copy mode
# (--no-huge; zero copy needs hugepages). After a warm-up (WARMUP_S, default 1 s) the generator
# measures DURATION_S (default 10) seconds; the proxy's own counters are read when its measured
# window starts and ends. Prints, as docs/BENCHMARKS.md and the contract (INTERFACES.md) say:
#   requests/s N             responses per second in the generator's measured window
#   errors N                 generator errors (connect, reset, timeout, closed, malformed) and
#                            non-2xx responses in that window
#   busy cycles/request N    the proxy worker's TSC cycles in busy loop iterations per request
#                            it counted (dp.cycles_busy / http.requests over the same window)
# then detail lines (latency percentiles, the error breakdown, the busy share, the TSC rate,
# the same cycles corrected for time other jobs took CPU 1 away from the worker).
#
# Knobs (environment): CONNS (50), MODE (keepalive | close), WARMUP_S (1), BENCH_LOG_DIR (keep
# the logs there), SLUICE_BUILD_DIR (build). Needs root (DPDK) and a build with sluice-load.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${1:-10}
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 600 ]] || {
	echo "usage: $0 [DURATION_S 1-600]" >&2
	exit 2
}
CONNS=${CONNS:-50}
MODE=${MODE:-keepalive}
WARMUP_S=${WARMUP_S:-1}
[[ $CONNS =~ ^[0-9]+$ && $CONNS -ge 1 && $CONNS -le 60000 ]] || {
	echo "memif.sh: CONNS must be 1-60000" >&2
	exit 2
}
case $MODE in keepalive) MODE_ARG= ;; close) MODE_ARG=--close ;; *)
	echo "memif.sh: MODE must be keepalive or close" >&2
	exit 2
	;;
esac
BUILD=${SLUICE_BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/app/sluice
SLUICECTL=$BUILD/app/sluicectl
LOAD=$BUILD/app/sluice-load

BENCH_NAME=memif.sh
BENCH_PIDS="LOAD_PID PROXY_PID ORIGIN_PID"
WHO="the proxy's worker"
P= # no lab: nothing here touches the kernel's network
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
for f in "$SLUICE" "$SLUICECTL" "$LOAD"; do
	[ -x "$f" ] || die "$f not built (meson setup build && ninja -C build)"
done
[ "$(id -u)" = 0 ] || die "needs root (DPDK)"
WORK=$(mktemp -d /tmp/sluice-bench-memif-XXXXXX)
TAG=${WORK##*-} # unique per run: memif sockets, file prefixes
EAL_DIRS="/var/run/dpdk/ld-$TAG" # EAL's runtime files, left behind by every DPDK process
memif_cleanup() {
	bench_cleanup
	# shellcheck disable=SC2086 # a list of paths without spaces
	rm -rf $EAL_DIRS
}
bench_traps
trap memif_cleanup EXIT
ORIGIN_ADDR=198.18.2.2
PROXY_UP_ADDR=198.18.2.1
PROXY_ADDR=198.18.1.1
LOAD_ADDR=198.18.1.10

memif_dev() { # INDEX ROLE SOCKET
	echo "net_memif$1,role=$2,socket=$3,socket-abstract=no"
}

# start_sluice NAME LCORES IDLE_SLEEP_US PORTS ROUTE_AND_SERVICES: sets the NAME_PID variable
start_sluice() {
	cat >"$WORK/$1.yaml" <<EOF
dataplane:
  eal: ["--no-huge", "-m", "512", "--no-pci", "--lcores=$2"]
  workers: 1
  mbufs: 32768
  max_connections: 16384
  idle_sleep_us: $3
  ports:
$4
listeners:
  - name: web
    port: 80
    limits: { idle_timeout_ms: 600000 }
    routes:
$5
control:
  socket: $WORK/$1.sock
  metrics: ""
EOF
	"$SLUICE" -c "$WORK/$1.yaml" </dev/null >"$WORK/$1.log" 2>&1 &
	local pid=$!
	printf -v "${1^^}_PID" %s "$pid"
	EAL_DIRS="$EAL_DIRS /var/run/dpdk/sluice-$pid" # sluice's --file-prefix=sluice-PID
	for _ in $(seq 1 300); do
		[ -S "$WORK/$1.sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || die "$1 exited at start: $(tail -3 "$WORK/$1.log")"
		sleep 0.1
	done
	die "$1: no control socket after 30 s"
}

# The origin: a memif server for the proxy's upstream port, sharing CPU 0 with the generator.
start_sluice origin "0@0,1@0" 20 "    - name: up
      device: \"$(memif_dev 0 server "$WORK/up.memif")\"
      address: $ORIGIN_ADDR/24" "      - match: { path_prefix: \"/\" }
        respond: { status: 200, body: \"hello\\n\", content_type: \"text/plain\" }"

# The proxy: its worker alone on CPU 1, busy polling; a memif server toward the generator, a
# client toward the origin.
start_sluice proxy "0@0,1@1" 0 "    - name: cli
      device: \"$(memif_dev 0 server "$WORK/cli.memif")\"
      address: $PROXY_ADDR/24
    - name: up
      device: \"$(memif_dev 1 client "$WORK/up.memif")\"
      address: $PROXY_UP_ADDR/24" "      - match: { path_prefix: \"/\" }
        service: origin
services:
  origin:
    endpoints:
      - { name: o1, address: $ORIGIN_ADDR:80 }
    pool: { max_idle_per_endpoint: 1024, idle_timeout_ms: 600000 }
    health_check: { type: tcp, interval_ms: 500, timeout_ms: 400, rise: 1, fall: 3 }"

# The upstream memif link comes up on its own time: traffic before it would fail and get the
# endpoint ejected. A passed TCP probe (two per second, a negligible share of the worker's
# cycles) says the path to the origin works.
for _ in $(seq 1 300); do
	"$SLUICECTL" -s "$WORK/proxy.sock" show ports |
		awk -F': ' '$1 == "total.probe.l4ok" && $2 > 0 { ok = 1 } END { exit !ok }' && break
	sleep 0.1
done
"$SLUICECTL" -s "$WORK/proxy.sock" show ports |
	awk -F': ' '$1 == "total.probe.l4ok" && $2 > 0 { ok = 1 } END { exit !ok }' ||
	die "proxy: no passed probe of the origin after 30 s: $(tail -3 "$WORK/proxy.log")"

WORKER_TID=
for tid in /proc/"$PROXY_PID"/task/*; do
	grep -Eq '^(rte|lcore)-worker' "$tid/comm" 2>/dev/null && WORKER_TID=${tid##*/}
done
[ -n "$WORKER_TID" ] || die "proxy: no rte-worker thread found"
pinned "$PROXY_PID/task/$WORKER_TID" 1

snapshot() { # FILE: the proxy's counters and its worker's run time, "key value" lines
	{
		echo "wall $(date +%s.%N)"
		"$SLUICECTL" -s "$WORK/proxy.sock" show ports | awk -F': ' '
			/^total\./ { sub(/^total\./, "", $1); print $1, $2 }'
		awk '{ printf "run_ns %.0f\n", $1 }' "/proc/$PROXY_PID/task/$WORKER_TID/schedstat"
	} >"$1"
}

wait_phase() { # PHASE SECONDS: until the generator's output has "phase PHASE"
	local n=$(($2 * 20))
	for _ in $(seq 1 "$n"); do
		grep -qx "phase $1" "$WORK/load.out" && return 0
		kill -0 "$LOAD_PID" 2>/dev/null || die "sluice-load exited: $(tail -3 "$WORK/load.err")"
		sleep 0.05
	done
	die "sluice-load: no \"phase $1\" after $2 s"
}

# shellcheck disable=SC2086 # MODE_ARG is empty or one word
taskset -c 0 "$LOAD" --no-huge -m 512 --no-pci --no-shconf "--file-prefix=ld-$TAG" -l 0 \
	--vdev "$(memif_dev 0 client "$WORK/cli.memif")" -- \
	-a "$LOAD_ADDR/24" -t "$PROXY_ADDR:80" -c "$CONNS" -w "$WARMUP_S" -d "$DUR" $MODE_ARG \
	--idle-sleep-us 20 --quiet </dev/null >"$WORK/load.out" 2>"$WORK/load.err" &
LOAD_PID=$!
wait_phase measure $((WARMUP_S + 30))
snapshot "$WORK/before"
wait_phase drain $((DUR + 30))
snapshot "$WORK/after"
for _ in $(seq 1 200); do
	kill -0 "$LOAD_PID" 2>/dev/null || break
	sleep 0.05
done
wait "$LOAD_PID" || die "sluice-load failed: $(tail -3 "$WORK/load.err")"
LOAD_PID=
grep -q '^requests/s ' "$WORK/load.out" || die "sluice-load printed no result"

awk '
	FILENAME ~ /before$/ { b[$1] = $2; next }
	FILENAME ~ /after$/ { a[$1] = $2; next }
	{ g[$1] = $2 }
	END {
		for (k in a) d[k] = a[k] - b[k]
		req = d["http.requests"] > 0 ? d["http.requests"] : 1
		errs = g["errors"] + g["responses"] - g["status_2xx"]
		cyc = d["dp.cycles_busy"] + d["dp.cycles_idle"]
		hz = d["wall"] > 0 ? cyc / d["wall"] : 0
		frac = cyc > 0 ? d["dp.cycles_busy"] / cyc : 0
		printf "requests/s %d\n", g["requests/s"]
		printf "errors %d\n", errs
		printf "busy cycles/request %d\n", d["dp.cycles_busy"] / req
		# Busy cycles also count time other jobs took CPU 1 away from the worker: the same
		# share of the time its thread really ran (schedstat), in TSC cycles.
		printf "ran busy cycles/request %d\n", frac * d["run_ns"] / 1e9 * hz / req
		printf "proxy requests %d\n", d["http.requests"]
		printf "proxy proxied_requests %d\n", d["http.proxied_requests"]
		printf "proxy busy share %.3f\n", frac
		# Below 1: other jobs took CPU 1 from the worker; busy cycles/request is then
		# inflated and ran busy cycles/request is the figure to read.
		printf "worker ran share %.3f\n", (d["wall"] > 0 ? d["run_ns"] / 1e9 / d["wall"] : 0)
		printf "proxy polls_busy %d\n", d["dp.polls_busy"]
		printf "tsc_hz %.0f\n", hz
		printf "mode %s\nconnections %d\nduration_s %s\n", g["mode"], g["connections"], \
			g["duration_s"]
		split("latency_p50_us latency_p90_us latency_p99_us latency_p99.9_us " \
			"latency_mean_us latency_max_us status_2xx status_4xx status_5xx " \
			"status_other error_connect_refused error_connect_timeout " \
			"error_connect_local error_reset error_closed error_timeout error_malformed",
			keys, " ")
		for (i = 1; i in keys; i++)
			printf "%s %s\n", keys[i], g[keys[i]]
	}' "$WORK/load.out" "$WORK/before" "$WORK/after"
