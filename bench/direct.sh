#!/usr/bin/env bash
# Direct responses: sluice's userspace stack against nginx `return 200` in the same lab, the
# same run, the same pinning. wrk (-t1) runs in the client namespace on CPU 0; the server under
# test gets CPU 1 (sluice: its one worker lcore, control lcore on CPU 0; nginx: one worker
# process, worker_cpu_affinity 10) on the same veth (for nginx a kernel interface holding the
# address sluice owns otherwise).
#
#   sudo ./bench/direct.sh [DURATION_S] [CONNECTIONS...]      (defaults: 10 s; 50 400)
#
# SLUICE_BUILD_DIR picks the build (default build/, relative to the repository root). RUNS
# (default 2) repeats the whole sluice-then-nginx sequence, so a slow moment on a shared machine
# hits one row, not one server. BENCH_LOG_DIR, when set, receives every raw file.
#
# Prints Markdown tables for docs/BENCHMARKS.md. Per request:
#   errors       wrk's socket errors plus non-2xx responses.
#   frames/req   frames received plus sent on the server's veth (kernel counters).
#   CPU1 us/req  the server's CPU time. nginx: utime+stime of its worker (which includes the
#                softirq work run in its context) plus ksoftirqd/1. sluice: the busy share of its
#                worker's loop (busy / (busy + idle) TSC cycles) times the time the worker really
#                ran (schedstat): TSC cycles alone also count time other jobs took CPU 1 away.
#   kern         the kernel part of it (stime), si1/si0 the softirq column of /proc/stat for
#                CPU 1 and CPU 0 (see bench/proxy.sh), req/s/core = 1e6 / CPU1 us/req.
#   sluice also: total.dp.cycles_busy / total.http.requests as counted (TSC busy cycles/req),
#                the same corrected for preemption (ran busy cycles/req) and without the
#                worker's kernel time (user cycles/req), frames (rx + tx) per busy second
#                (af_packet throughput of one busy core) and af_packet RX ring drops.
#   run-queue wait: the share of the run the server was runnable but not running (schedstat):
#                other jobs on a shared machine; rows where it is large are not to be trusted.
#   CPU0 busy    /proc/stat for CPU 0 (wrk and the receive half of the network): near 100 %
#                means the load generator, not the server, set requests/s.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${1:-10}
shift || true
CONNS=("$@")
[ ${#CONNS[@]} -gt 0 ] || CONNS=(50 400)
RUNS=${RUNS:-2}
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 600 ]] ||
	{ echo "usage: $0 [DURATION_S 1-600] [CONNECTIONS...]" >&2; exit 2; }
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 10 ]] || { echo "RUNS: 1-10" >&2; exit 2; }
for c in "${CONNS[@]}"; do
	[[ $c =~ ^[0-9]+$ && $c -ge 1 && $c -le 8000 ]] || { echo "connections: 1-8000" >&2; exit 2; }
done
BUILD=${SLUICE_BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/app/sluice
SLUICECTL=$BUILD/app/sluicectl
HZ_TICK=$(getconf CLK_TCK)

[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces): sudo $0 $*" >&2; exit 2; }
[ -x "$SLUICE" ] || { echo "no $SLUICE: meson setup build && ninja -C build" >&2; exit 2; }
for t in wrk nginx curl ss taskset; do
	command -v $t >/dev/null || { echo "$t missing: sudo ./scripts/deps.sh" >&2; exit 2; }
done
[ "$(nproc --all)" -ge 2 ] || { echo "needs 2 CPUs (0: wrk, 1: server)" >&2; exit 2; }

SERVER_PID=
SERVER=
BENCH_NAME=direct.sh
BENCH_PIDS="SERVER_PID"
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
bench_lab_up bd direct

start_sluice() {
	ip netns exec "$LAB_NS" ip addr flush dev "$APP_IF"
	cat >"$WORK/sluice.yaml" <<EOF
$(sluice_dataplane 65536 8192)
listeners:
  - name: web
    port: 80
    routes:
      - match: { path_prefix: "/" }
        respond: { status: 200, body: "hello\n", content_type: "text/plain" }
control:
  socket: $WORK/s.sock
EOF
	rm -f "$WORK/s.sock"
	ip netns exec "$LAB_NS" "$SLUICE" -c "$WORK/sluice.yaml" </dev/null >>"$WORK/sluice.log" 2>&1 &
	SERVER_PID=$!
	local tid
	for _ in $(seq 1 300); do
		[ -S "$WORK/s.sock" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || die "sluice exited at start: $(tail -3 "$WORK/sluice.log")"
		sleep 0.1
	done
	[ -S "$WORK/s.sock" ] || die "sluice: no control socket after 30 s"
	MEASURE_PID= # the worker lcore: rte-worker-1 (lcore-worker-1 before DPDK 22.11)
	for tid in /proc/"$SERVER_PID"/task/*; do
		grep -Eq '^(rte|lcore)-worker' "$tid/comm" 2>/dev/null &&
			MEASURE_PID="$SERVER_PID/task/${tid##*/}"
	done
	[ -n "$MEASURE_PID" ] || die "sluice: no rte-worker thread found"
}

start_nginx() {
	ip netns exec "$LAB_NS" ip addr replace "$APP_ADDR/$LAB_PREFIXLEN" dev "$APP_IF"
	mkdir -p "$WORK/nginx"
	cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
worker_cpu_affinity 10;
worker_rlimit_nofile 20000;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 16384; }
http {
$(nginx_http_common "$WORK/nginx")
	server {
		listen $APP_ADDR:80 backlog=8192;
		location / { default_type text/plain; return 200 "hello\n"; }
	}
}
EOF
	# -e: the error log before the config is read (else /var/log/nginx, maybe unwritable).
	ip netns exec "$LAB_NS" nginx -e "$WORK/nginx/error.log" -p "$WORK/nginx" \
		-c "$WORK/nginx/nginx.conf" </dev/null >>"$WORK/nginx/stdout.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 100); do
		kill -0 "$SERVER_PID" 2>/dev/null ||
			die "nginx exited at start: $(tail -3 "$WORK/nginx/error.log")"
		[ -n "$(ip netns exec "$LAB_NS" ss -Hltn "src $APP_ADDR:80")" ] && break
		sleep 0.1
	done
	[ -n "$(ip netns exec "$LAB_NS" ss -Hltn "src $APP_ADDR:80")" ] ||
		die "nginx not listening on $APP_ADDR:80 after 10 s"
	MEASURE_PID=$(pgrep -P "$SERVER_PID" | head -1)
	[ -n "$MEASURE_PID" ] || die "nginx: no worker process"
}

KSOFTIRQD1=$(pgrep -x ksoftirqd/1 | head -1)
[ -n "$KSOFTIRQD1" ] || die "no ksoftirqd/1"

snapshot() { # FILE: "key value" lines
	{
		echo "wall $(date +%s.%N)"
		awk '/^cpu[01] / { print $1 "_nonidle", $2 + $3 + $4 + $7 + $8; print $1 "_softirq", $8 }' \
			/proc/stat
		sed 's/.*) //' "/proc/$MEASURE_PID/stat" | awk '{ print "utime", $12; print "stime", $13 }'
		awk '{ printf "run_ns %.0f\nwait_ns %.0f\n", $1, $2 }' "/proc/$MEASURE_PID/schedstat"
		sed 's/.*) //' "/proc/$KSOFTIRQD1/stat" | awk '{ print "ksi1_ticks", $12 + $13 }'
		ip netns exec "$LAB_NS" sh -c "cd /sys/class/net/$APP_IF/statistics &&
			echo if_rx \$(cat rx_packets) && echo if_tx \$(cat tx_packets)"
		if [ "$SERVER" = sluice ]; then
			"$SLUICECTL" -s "$WORK/s.sock" show ports | awk -F': ' '
				/^total\./ { sub(/^total\./, "", $1); print $1, $2 }
				/^port\.[^.]*\.(imissed|ierrors|oerrors|rx_nombuf):/ {
					sub(/^port\.[^.]*\./, "port.", $1); print $1, $2 }'
		fi
	} >"$1"
}

# The TSC rate from sluice's own counters: busy + idle cycles advance by the TSC ticks elapsed.
measure_tsc_hz() {
	local t0 c0 t1 c1
	cycles() {
		"$SLUICECTL" -s "$WORK/s.sock" show ports | awk -F': ' '
			$1 == "total.dp.cycles_busy" || $1 == "total.dp.cycles_idle" { s += $2 }
			END { printf "%.0f\n", s }'
	}
	t0=$(date +%s.%N) c0=$(cycles)
	sleep 2
	t1=$(date +%s.%N) c1=$(cycles)
	awk -v c="$((c1 - c0))" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f\n", c / (t1 - t0) }'
}

run_case() { # CONNS ROUND
	local tag="$SERVER-c$1-r$2"
	snapshot "$WORK/$tag.before"
	ip netns exec "$CLI_NS" taskset -c 0 timeout $((DUR + 30)) wrk -t1 -c"$1" -d"${DUR}s" \
		--latency "http://$APP_ADDR/" >"$WORK/$tag.wrk" 2>&1 ||
		die "wrk failed for $tag: $(tail -3 "$WORK/$tag.wrk")"
	snapshot "$WORK/$tag.after"
	awk -v server="$SERVER" -v conns="$1" -v round="$2" -v tick="$HZ_TICK" -v tsc_hz="$TSC_HZ" '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
				 if (v ~ /s$/) return v * 1000; return v }
		FILENAME ~ /\.wrk$/ {
			if ($0 ~ /Requests\/sec/) rps = $2
			if ($1 == "50%") p50 = ms($2)
			if ($1 == "99%") p99 = ms($2)
			if ($2 == "requests" && $3 == "in") reqs = $1
			if ($0 ~ /Socket errors/) { gsub(/,/, ""); errs = $4 + $6 + $8 + $10 }
			if ($0 ~ /Non-2xx/) non2xx = $NF
			next
		}
		FILENAME ~ /\.before$/ { b[$1] = $2; next }
		{ a[$1] = $2 }
		END {
			for (k in a) d[k] = a[k] - b[k]
			if (reqs == 0) reqs = 1
			kern_s = d["stime"] / tick
			if (server == "sluice") {
				frac = d["dp.cycles_busy"] / (d["dp.cycles_busy"] + d["dp.cycles_idle"])
				cpu_s = frac * d["run_ns"] / 1e9
				sreq = d["http.requests"] > 0 ? d["http.requests"] : 1
				cyc = sprintf("%.0f | %.0f | %.0f | %.0f | %d", d["dp.cycles_busy"] / sreq,
					      cpu_s * tsc_hz / sreq, (cpu_s - kern_s) * tsc_hz / sreq,
					      (d["net.rx_frames"] + d["net.tx_frames"]) / cpu_s,
					      d["port.imissed"])
			} else {
				cpu_s = (d["utime"] + d["stime"] + d["ksi1_ticks"]) / tick
				kern_s += d["ksi1_ticks"] / tick
				cyc = "- | - | - | - | -"
			}
			us = cpu_s * 1e6 / reqs
			fmt = "| %s | %s | %d | %.0f | %.2f | %.2f | %d | %.1f | %.1f | %.1f | %.1f |"
			fmt = fmt " %.1f | %.0f | %.0f%% | %.0f%% | %.0f%% | %s |\n"
			printf fmt, \
				server, conns, round, rps, p50, p99, errs + non2xx, \
				(d["if_rx"] + d["if_tx"]) / reqs, us, kern_s * 1e6 / reqs, \
				d["cpu1_softirq"] / tick * 1e6 / reqs, d["cpu0_softirq"] / tick * 1e6 / reqs, \
				1e6 / us, cpu_s / d["wall"] * 100, d["wait_ns"] / 1e9 / d["wall"] * 100, \
				d["cpu0_nonidle"] / tick / d["wall"] * 100, cyc
		}' "$WORK/$tag.wrk" "$WORK/$tag.before" "$WORK/$tag.after"
}

TSC_HZ=
MEASURE_PID=
echo "## direct response, ${DUR} s per run, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
	"load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "sluice: $(bench_build "$BUILD")"
echo
echo "| server | connections | round | requests/s | p50 ms | p99 ms | errors | frames/req |" \
	"CPU1 us/req | kern us/req | si1 us/req | si0 us/req | req/s/core | CPU1 busy |" \
	"run-queue wait | CPU0 busy | TSC busy cycles/req | ran busy cycles/req | user cycles/req |" \
	"frames per busy s | rx ring drops |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$RUNS"); do
	for SERVER in sluice nginx; do
		"start_$SERVER"
		WHO=$SERVER pinned "$MEASURE_PID" 1
		[ "$SERVER" = sluice ] && [ -z "$TSC_HZ" ] && TSC_HZ=$(measure_tsc_hz)
		ip netns exec "$CLI_NS" curl -sf --max-time 5 "http://$APP_ADDR/" >"$WORK/curl.out" ||
			die "$SERVER: no answer"
		[ "$(cat "$WORK/curl.out")" = hello ] || die "$SERVER: unexpected body"
		for c in "${CONNS[@]}"; do
			run_case "$c" "$round"
		done
		stop_pid "$SERVER_PID"
		SERVER_PID=
	done
done
echo
echo "TSC: $TSC_HZ Hz (measured from sluice's cycle counters over 2 s)."
echo
echo "Reproduce: sudo env RUNS=$RUNS ./bench/direct.sh $DUR ${CONNS[*]}"
