#!/usr/bin/env bash
# The lab path: what one frame costs sluice's worker on each DPDK device that can drive the lab's
# veth (net_af_packet, net_af_xdp) and with each of their knobs, receive and transmit apart.
#
#   sudo ./bench/labpath.sh [DURATION_S] [ROUNDS]     (defaults: 5 s per load; 1 round)
#
# SLUICE_BUILD_DIR picks the build (default build/). LABPATH_DEVICES, a list of
# "NAME=DEVICE_ARGS" words (separated by spaces or ";"), replaces the default set below (DEVICE_ARGS is what follows
# "iface=<veth>" in the device string, e.g. "xdp-bb0=af_xdp:busy_budget=0", with ":" for ",").
#
# sluice runs with one worker on CPU 1 (control on CPU 0), a direct-response route, and each
# device in turn. Two loads, each bounded in count and time, from the client namespace on CPU 0:
#   rx      UDP datagrams of 60-byte frames (bench/udpflood.py): sluice drops UDP by name
#           (net.ip_drop_proto) and sends nothing back, so every frame is a received one.
#   direct  wrk -t1 -c50 (CONNS) keep-alive GETs answered by the direct-response route: one frame in,
#           one out per request (ACKs ride on the next request).
# Columns, per frame (received + sent, sluice's own counters net.rx_frames + net.tx_frames):
#   frames/s     frames per second of wall time.
#   kern ns      the worker thread's stime / frames (/proc/PID/task/TID/stat, tick-sampled):
#                the syscalls the PMD makes (sendto to kick TX; af_xdp also recvfrom or poll
#                on an empty RX ring when busy polling or a fill-ring wakeup asks for it) and the
#                softirq they run: the veth, the bridge, the receiver's stack.
#   busy ns      the busy share of the worker loop (cycles_busy / (busy + idle)) times the time
#                the worker really ran (schedstat), / frames: everything one frame costs on CPU 1
#                in the iterations that had work, user and kernel.
#   si0 ns       the softirq column of /proc/stat for CPU 0 / frames: the sender's side of the
#                hop into sluice, paid on the sender's CPU (the client's veth, the bridge, and the
#                delivery into sluice's socket: tpacket_rcv for af_packet, the veth's XDP NAPI
#                and the XSK copy for af_xdp). Tick-sampled; other jobs' softirq lands here too.
#   tx/sendto    frames sent per sendto() the worker made (the TX kick of both PMDs), counted
#                with perf's syscall tracepoints on the worker thread; without perf, frames sent
#                per busy loop iteration (the loop flushes TX once per iteration), marked "~".
#   rx sys/s     recvfrom() + poll() calls of the worker per second (af_xdp's RX wake-ups).
#   rq wait      the share of the run the worker was runnable but not running (other jobs).
# A direct row's TX cost per frame is (kern of direct - rx frames * kern per frame of rx) / tx
# frames: printed as "tx kern ns" (and the same for busy ns) when the device has an rx row.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${1:-5}
ROUNDS=${2:-1}
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 120 ]] || {
	echo "usage: $0 [DURATION_S 1-120] [ROUNDS 1-5]" >&2
	exit 2
}
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 5 ]] || {
	echo "usage: $0 [DURATION_S 1-120] [ROUNDS 1-5]" >&2
	exit 2
}
BUILD=${SLUICE_BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/app/sluice
SLUICECTL=$BUILD/app/sluicectl
HZ_TICK=$(getconf CLK_TCK)
RX_COUNT=${RX_COUNT:-2000000}
CONNS=${CONNS:-50}

[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces): sudo $0 $*" >&2; exit 2; }
[ -x "$SLUICE" ] || { echo "no $SLUICE: meson setup build && ninja -C build" >&2; exit 2; }
for t in wrk taskset; do
	command -v $t >/dev/null || { echo "$t missing: sudo ./scripts/deps.sh" >&2; exit 2; }
done
[ "$(nproc --all)" -ge 2 ] || { echo "needs 2 CPUs (0: load, 1: sluice)" >&2; exit 2; }

# The default set: the benchmarks' af_packet ring, DPDK's af_packet defaults, a larger ring in
# bigger blocks, af_xdp as DPDK 22.11 opens it (busy_budget=64: preferred busy polling), without
# busy polling, and with copy mode forced (the veth has no zero-copy AF_XDP: the same mode).
DEVICES=${LABPATH_DEVICES:-"pkt-4096=af_packet:framecnt=4096 pkt-dflt=af_packet
pkt-big=af_packet:blocksz=65536:framesz=2048:framecnt=8192 xdp=af_xdp
xdp-bb0=af_xdp:busy_budget=0 xdp-copy=af_xdp:force_copy=1:busy_budget=0"}
DEVICES=${DEVICES//;/ } # ";" separates specs too (a list that must stay one word)

PROXY_PID=
BENCH_NAME=labpath.sh
BENCH_PIDS="PERF_PID PROXY_PID"
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
bench_lab_up lp labpath

conf() { # DEVICE
	cat <<EOF
dataplane:
  eal: ["--no-huge", "-m", "1024", "--no-pci", "--lcores=0@0,1@1"]
  workers: 1
  mbufs: 16384
  max_connections: 4096
  idle_sleep_us: 0
  ports:
    - name: lan
      device: "$1"
      address: $APP_ADDR/$LAB_PREFIXLEN
listeners:
  - name: web
    port: 80
    routes:
      - match: { path_prefix: "/" }
        respond: { status: 200, body: "hello\n", content_type: "text/plain" }
control:
  socket: $WORK/sluice.sock
EOF
}

start_sluice() { # DEVICE
	ip netns exec "$LAB_NS" ip link set dev "$APP_IF" xdp off >/dev/null 2>&1 || true
	conf "$1" >"$WORK/sluice.yaml"
	rm -f "$WORK/sluice.sock"
	ip netns exec "$LAB_NS" "$SLUICE" -c "$WORK/sluice.yaml" </dev/null \
		>"$WORK/sluice.log" 2>&1 &
	PROXY_PID=$!
	for _ in $(seq 1 300); do
		[ -S "$WORK/sluice.sock" ] && break
		kill -0 "$PROXY_PID" 2>/dev/null || die "sluice exited at start: $(tail -3 "$WORK/sluice.log")"
		sleep 0.1
	done
	[ -S "$WORK/sluice.sock" ] || die "sluice: no control socket after 30 s"
	TID=
	for t in /proc/"$PROXY_PID"/task/*; do
		grep -Eq '^(rte|lcore)-worker' "$t/comm" 2>/dev/null && TID=${t##*/}
	done
	[ -n "$TID" ] || die "sluice: no rte-worker thread"
	WHO=sluice pinned "$PROXY_PID/task/$TID" 1
}

snapshot() { # FILE
	{
		echo "wall $(date +%s.%N)"
		awk '/^cpu0 / { print "cpu0_softirq", $8 }' /proc/stat
		sed 's/.*) //' "/proc/$PROXY_PID/task/$TID/stat" |
			awk '{ print "utime", $12; print "stime", $13 }'
		awk '{ printf "run_ns %.0f\nwait_ns %.0f\n", $1, $2 }' \
			"/proc/$PROXY_PID/task/$TID/schedstat"
		"$SLUICECTL" -s "$WORK/sluice.sock" show ports | awk -F': ' '
			/^total\./ { sub(/^total\./, "", $1); print $1, $2 }
			/^port\.[^.]*\.imissed:/ { print "imissed", $2 }'
	} >"$1"
}

# row NAME LOAD TAG: one table row from the snapshots around a load; keeps per-frame costs of
# the rx load to split the direct load's cost into its RX and TX parts.
row() {
	local perf=()
	[ -s "$WORK/$3.perf" ] && perf=("$WORK/$3.perf")
	awk -v name="$1" -v load="$2" -v tick="$HZ_TICK" -v rxk="${RXK[$1]:-}" \
		-v rxb="${RXB[$1]:-}" -v out="$WORK/$3.rx" '
		FILENAME ~ /\.before$/ { b[$1] = $2; next }
		FILENAME ~ /\.perf$/ { split($0, f, ","); if (f[3] ~ /sendto/) sendto += f[1]
			else if (f[3] ~ /syscalls/) rxsys += f[1]; have_perf = 1; next }
		{ d[$1] = $2 - b[$1] }
		END {
			rx = d["net.rx_frames"]; tx = d["net.tx_frames"]; fr = rx + tx
			if (fr == 0) fr = 1
			frac = d["dp.cycles_busy"] / (d["dp.cycles_busy"] + d["dp.cycles_idle"])
			busy_ns = frac * d["run_ns"]
			kern_ns = d["stime"] / tick * 1e9
			polls = d["dp.polls_busy"] > 0 ? d["dp.polls_busy"] : 1
			txk = "-"; txb = "-"
			if (load == "direct" && rxk != "" && tx > 0) {
				txk = sprintf("%.0f", (kern_ns - rx * rxk) / tx)
				txb = sprintf("%.0f", (busy_ns - rx * rxb) / tx)
			}
			if (load == "rx")
				printf "%.1f %.1f\n", kern_ns / fr, busy_ns / fr > out
			if (have_perf) {
				tpk = sendto > 0 ? sprintf("%.2f", tx / sendto) : "-"
				rxs = sprintf("%.0f", rxsys / d["wall"])
			} else {
				tpk = sprintf("~%.2f", tx / polls); rxs = "-"
			}
			printf "| %s | %s | %.0f k / %.0f k | %.0f | %.0f | %.0f | %s | %s | %s | %s | %d | %.0f%% |\n", \
				name, load, rx / d["wall"] / 1e3, tx / d["wall"] / 1e3, kern_ns / fr, \
				busy_ns / fr, d["cpu0_softirq"] / tick * 1e9 / fr, txk, txb, tpk, rxs, \
				d["imissed"], d["wait_ns"] / 1e9 / d["wall"] * 100
		}' "$WORK/$3.before" "$WORK/$3.after" "${perf[@]}"
}

# perf_start TAG: count the worker's syscalls while a load runs (perf's tracepoints), if perf
# can; perf_stop waits for it.
PERF_PID=
perf_start() {
	PERF_PID=
	command -v perf >/dev/null || return 0
	perf stat -x, -o "$WORK/$1.perf" -t "$TID" -e syscalls:sys_enter_sendto \
		-e syscalls:sys_enter_recvfrom -e syscalls:sys_enter_poll -e syscalls:sys_enter_ppoll \
		-- sleep $((DUR + 12)) >/dev/null 2>&1 &
	PERF_PID=$!
	sleep 0.2
}
perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null || true
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=
}

declare -A RXK RXB
echo "## lab path, ${DUR} s per load, $(date -u '+%Y-%m-%d %H:%M UTC'), load average at start" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| device | load | rx / tx frames/s | kern ns/frame | busy ns/frame | si0 ns/frame |" \
	"tx kern ns/frame | tx busy ns/frame | tx/sendto | rx sys/s | rx drops | rq wait |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
	for spec in $DEVICES; do
		name=${spec%%=*}
		args=${spec#*=}
		drv=${args%%:*}
		extra=
		[ "$drv" = "$args" ] || extra=,${args#*:}
		dev="net_${drv}0,iface=$APP_IF${extra//:/,}"
		start_sluice "$dev"
		ip netns exec "$CLI_NS" taskset -c 0 timeout 10 wrk -t1 -c50 -d1s \
			"http://$APP_ADDR/" >/dev/null 2>&1 || die "$name: warm-up failed"
		if [ "$round" = 1 ] && [ "$drv" = af_xdp ]; then
			mode=$(ip netns exec "$LAB_NS" ip -d link show dev "$APP_IF" |
				grep -Eo 'xdp(generic|drv|offload)?' | head -1 || true)
			echo "$name: XDP attach mode: ${mode:-none}; $(grep -Eo 'Zero copy[^.]*|Busy polling[^.]*|Preferred busy[^.]*' \
				"$WORK/sluice.log" | sort -u | tr '\n' ';')" >>"$WORK/notes"
		fi
		tag=$name-r$round-rx
		perf_start "$tag"
		snapshot "$WORK/$tag.before"
		ip netns exec "$CLI_NS" taskset -c 0 timeout $((DUR + 10)) /usr/bin/python3 \
			"$ROOT/bench/udpflood.py" "$APP_ADDR" 9 "$RX_COUNT" "$DUR" >"$WORK/$tag.out"
		snapshot "$WORK/$tag.after"
		perf_stop
		row "$name" rx "$tag"
		read -r "RXK[$name]" "RXB[$name]" <"$WORK/$tag.rx"
		tag=$name-r$round-direct
		perf_start "$tag"
		snapshot "$WORK/$tag.before"
		ip netns exec "$CLI_NS" taskset -c 0 timeout $((DUR + 30)) wrk -t1 -c"$CONNS" \
			-d"${DUR}s" "http://$APP_ADDR/" >"$WORK/$tag.wrk" 2>&1 || die "$name: wrk failed"
		snapshot "$WORK/$tag.after"
		perf_stop
		row "$name" direct "$tag"
		stop_pid "$PROXY_PID"
		PROXY_PID=
	done
done
echo
[ -f "$WORK/notes" ] && sed 's/^/- /' "$WORK/notes" && echo
echo "Reproduce: sudo ./bench/labpath.sh $DUR $ROUNDS"
