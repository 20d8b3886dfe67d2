#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Many idle connections against one sluice, held by sluice-load over net_memif (no kernel
# client: a kernel socket costs about 4 KB of kernel memory, ours a few hundred bytes of the
# generator's pools).
#
#   bench/idle_memif.sh [CONNECTIONS] [HOLD_S]      (defaults 1000000 and 5)
#
# sluice (one worker, a direct-response route) is a memif server; sluice-load opens
# CONNECTIONS connections from ceil(CONNECTIONS / 64000) source addresses (16 for a million),
# each sends one keep-alive GET and reads the answer, then all are held idle for HOLD_S seconds
# and closed by the generator. Read from sluice's own pool accounting (sluicectl show pools):
# before, while held, and after the close. Prints "key value" lines and a last line
# "result: PASS" when sluice held every connection, spent at most BUDGET (512) bytes per idle
# connection (TCB, connection table share, HTTP session), held no mbuf for them, and its pools
# came back to the baseline after the close; "result: FAIL" (exit 1) otherwise.
#
# Memory: EAL's -m for both processes grows with CONNECTIONS (about 1.5 GiB each for a million);
# the machine needs room for both. Bounded: the open phase at OPEN_S (300) seconds, the return
# to baseline at 60 s; everything started is stopped on exit. SLUICE_BUILD_DIR picks the build.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-1000000}
HOLD=${2:-5}
OPEN_S=${OPEN_S:-300}
BUDGET=512
[[ $N =~ ^[0-9]+$ && $N -ge 1 && $N -le 2000000 ]] || {
	echo "usage: $0 [CONNECTIONS 1-2000000] [HOLD_S]" >&2
	exit 2
}
[[ $HOLD =~ ^[0-9]+$ && $HOLD -ge 1 && $HOLD -le 3600 ]] || {
	echo "usage: $0 [CONNECTIONS] [HOLD_S 1-3600]" >&2
	exit 2
}
BUILD=${SLUICE_BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/app/sluice
SLUICECTL=$BUILD/app/sluicectl
LOAD=$BUILD/app/sluice-load

BENCH_NAME=idle_memif.sh
BENCH_PIDS="LOAD_PID APP_PID"
P= # no lab
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
for f in "$SLUICE" "$SLUICECTL" "$LOAD"; do
	[ -x "$f" ] || die "$f not built (meson setup build && ninja -C build)"
done
[ "$(id -u)" = 0 ] || die "needs root (DPDK)"
WORK=$(mktemp -d /tmp/sluice-bench-idlememif-XXXXXX)
TAG=${WORK##*-}
EAL_DIRS="/var/run/dpdk/ld-$TAG"
idle_cleanup() {
	bench_cleanup
	# shellcheck disable=SC2086 # paths without spaces
	rm -rf $EAL_DIRS
}
bench_traps
trap idle_cleanup EXIT

ADDRS=$(((N + 63999) / 64000))
MAXC=$((N + N / 8 + 1024))
APP_MEM=$((512 + N / 1000))  # MiB: TCB, table and session of each connection, with room
LOAD_MEM=$((512 + N / 800)) # MiB: the generator's TCB and slot of each
APP_ADDR=198.18.1.1

cat >"$WORK/app.yaml" <<EOF
dataplane:
  eal: ["--no-huge", "-m", "$APP_MEM", "--no-pci", "--lcores=0@0,1@1"]
  workers: 1
  mbufs: 65536
  max_connections: $MAXC
  idle_sleep_us: 20
  ports:
    - name: lan
      device: "net_memif0,role=server,socket=$WORK/lan.memif,socket-abstract=no"
      address: $APP_ADDR/16
listeners:
  - name: web
    port: 80
    limits: { max_connections: $((2 * N + 1024)), header_timeout_ms: 60000,
              idle_timeout_ms: 3600000 }
    routes:
      - match: { path_prefix: "/" }
        respond: { status: 200, body: "hello\n", content_type: "text/plain" }
control:
  socket: $WORK/app.sock
  metrics: ""
EOF
"$SLUICE" -c "$WORK/app.yaml" </dev/null >"$WORK/app.log" 2>&1 &
APP_PID=$!
EAL_DIRS="$EAL_DIRS /var/run/dpdk/sluice-$APP_PID"
for _ in $(seq 1 600); do
	[ -S "$WORK/app.sock" ] && break
	kill -0 "$APP_PID" 2>/dev/null || die "sluice exited at start: $(tail -3 "$WORK/app.log")"
	sleep 0.1
done
[ -S "$WORK/app.sock" ] || die "sluice: no control socket after 60 s"

pools() { # FILE
	"$SLUICECTL" -s "$WORK/app.sock" show pools | awk -F': ' 'NF == 2 && $2 ~ /^[0-9]+$/ {
		print $1, $2 }' >"$1"
}
val() { # FILE KEY
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1"
}
pools "$WORK/base"

wait_line() { # REGEX SECONDS
	for _ in $(seq 1 $(($2 * 10))); do
		grep -Eqx "$1" "$WORK/load.out" && return 0
		kill -0 "$LOAD_PID" 2>/dev/null || die "sluice-load exited: $(tail -3 "$WORK/load.err")"
		sleep 0.1
	done
	die "sluice-load: no \"$1\" after $2 s"
}

taskset -c 0 "$LOAD" --no-huge -m "$LOAD_MEM" --no-pci --no-shconf "--file-prefix=ld-$TAG" -l 0 \
	--vdev "net_memif0,role=client,socket=$WORK/lan.memif,socket-abstract=no" -- \
	-a 198.18.100.1/16 -n "$ADDRS" -t "$APP_ADDR:80" -c "$N" --idle -w "$OPEN_S" -d "$HOLD" \
	--timeout-ms 5000 --connect-burst 128 --idle-sleep-us 20 </dev/null \
	>"$WORK/load.out" 2>"$WORK/load.err" &
LOAD_PID=$!
T0=$(date +%s.%N)
wait_line "phase hold" $((OPEN_S + 30))
T1=$(date +%s.%N)
# The last responses stay in sluice's send queue until the generator's delayed ACK (40 ms)
# frees them: read the pools once that has happened, still inside the hold.
if [ "$HOLD" -ge 2 ]; then sleep 1; else sleep 0.5; fi
pools "$WORK/held"
wait_line "phase end" $((HOLD + 60 + N / 10000))
for _ in $(seq 1 100); do
	kill -0 "$LOAD_PID" 2>/dev/null || break
	sleep 0.1
done
wait "$LOAD_PID" || die "sluice-load failed: $(tail -3 "$WORK/load.err")"
LOAD_PID=

# Back to baseline: sluice closes its side after the generator's FIN (no TIME_WAIT here).
END_WAIT=$((SECONDS + 60))
while [ $SECONDS -lt $END_WAIT ]; do
	pools "$WORK/after"
	[ "$(val "$WORK/after" mem.tcbs_used)" -le "$(val "$WORK/base" mem.tcbs_used)" ] &&
		[ "$(val "$WORK/after" mem.sessions_used)" -le "$(val "$WORK/base" mem.sessions_used)" ] &&
		break
	sleep 0.1
done

held=$(awk '$1 == "held" { h = $2 } END { print h + 0 }' "$WORK/load.out")
lost=$(awk '$1 == "hold_lost" { print $2 }' "$WORK/load.out")
errs=$(awk '$1 == "total_errors" { print $2 }' "$WORK/load.out")
idle_b=$(val "$WORK/held" mem.idle_conn_bytes)
echo "connections $N"
echo "source_addresses $ADDRS"
echo "held $held"
echo "hold_lost $lost"
echo "generator_errors $errs"
echo "open_s $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')"
for k in mem.tcbs_used mem.sessions_used mem.mbufs_in_use mem.reqs_used; do
	echo "$k $(val "$WORK/base" $k) $(val "$WORK/held" $k) $(val "$WORK/after" $k)"
done
echo "idle_conn_bytes $idle_b"
echo "tcb_bytes $(val "$WORK/held" mem.tcb_bytes)"
echo "session_bytes $(val "$WORK/held" mem.session_bytes)"
echo "conn_slot_bytes $(val "$WORK/held" mem.conn_slot_bytes)"
echo "pool_bytes $(val "$WORK/held" mem.pool_bytes)"
echo "generator_tcb_bytes $(awk '$1 == "tcb_bytes" { print $2 }' "$WORK/load.out")"
ok=1
[ "$held" = "$N" ] || ok=0
[ "$lost" = 0 ] || ok=0
[ "$((idle_b))" -gt 0 ] && [ "$idle_b" -le $BUDGET ] || ok=0
[ "$(($(val "$WORK/held" mem.tcbs_used) - $(val "$WORK/base" mem.tcbs_used)))" -ge "$N" ] || ok=0
# idle connections hold no mbuf: what is in use while held is what is in use at rest, within
# the port's receive ring and a burst
[ "$(($(val "$WORK/held" mem.mbufs_in_use) - $(val "$WORK/base" mem.mbufs_in_use)))" -le 2048 ] || ok=0
for k in mem.tcbs_used mem.sessions_used; do
	[ "$(val "$WORK/after" $k)" -le "$(val "$WORK/base" $k)" ] || ok=0
done
if [ $ok = 1 ]; then
	echo "result: PASS"
else
	echo "result: FAIL"
	exit 1
fi
