#!/usr/bin/env bash
# Instructions per request: sluice under valgrind --tool=callgrind in the lab (docs/BENCHMARKS.md,
# "What the appliance itself costs per request").
#
#   sudo ./bench/callgrind.sh direct|proxy [DURATION_S]       (default 15 s)
#
# sluice runs with --no-huge and af_packet under callgrind (slowly: a few thousand requests/s);
# wrk -t1 -c10 warms it up for 3 s, the counters are zeroed (callgrind_control -z), wrk -t1 -c10
# runs DURATION_S, the counters are dumped (callgrind_control -d) and divided by wrk's request
# count. User space only, every thread, idle polls included. Also prints the inclusive cost per
# request of the HTTP functions the head path calls. SLUICE_BUILD_DIR picks the build (default
# build/); BENCH_LOG_DIR keeps the callgrind dump and the wrk output. IDLE_SLEEP_US (default 0)
# sets dataplane.idle_sleep_us: 500 keeps idle polls rare, so that the whole-process count is
# repeatable and may be compared between builds (idle polls vary with timing). In proxy mode
# CG_BALANCE picks the service's balance and CG_RATE_LIMIT=route|client_ip|header:NAME puts a
# (never reached) rate limit on the route.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=${1:-}
DUR=${2:-15}
[[ $MODE == direct || $MODE == proxy ]] || { echo "usage: $0 direct|proxy [DURATION_S]" >&2; exit 2; }
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 600 ]] || { echo "DURATION_S: 1-600" >&2; exit 2; }
BUILD=${SLUICE_BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/app/sluice
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
[ -x "$SLUICE" ] || { echo "no $SLUICE" >&2; exit 2; }
for t in valgrind callgrind_control callgrind_annotate wrk nginx; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 2; }
done

PROXY_PID=
BACKEND_PID=
BENCH_NAME=callgrind.sh
BENCH_PIDS="PROXY_PID BACKEND_PID"
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
bench_lab_up bc cg

if [ "$MODE" = proxy ]; then
	mkdir -p "$WORK/be"
	cat >"$WORK/be/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/be/nginx.pid;
error_log $WORK/be/error.log;
events { worker_connections 1024; }
http {
$(nginx_http_common "$WORK/be")
	server {
		listen $BE1_ADDR:8080;
		location / { default_type text/plain; return 200 "hello\n"; }
	}
}
EOF
	ip netns exec "$BE1_NS" nginx -e "$WORK/be/error.log" -p "$WORK/be" \
		-c "$WORK/be/nginx.conf" </dev/null >"$WORK/be/stdout.log" 2>&1 &
	BACKEND_PID=$!
	ROUTE="service: app"
	# CG_BALANCE (e.g. maglev) and CG_RATE_LIMIT (a rate_limit's "per", with a limit far above
	# what wrk reaches under callgrind, so every request pays the check and none is refused)
	# measure what a balancer or a limited route adds per request
	[ -n "${CG_RATE_LIMIT:-}" ] && ROUTE="$ROUTE
        rate_limit: { requests_per_second: 1000000, burst: 1000000, per: $CG_RATE_LIMIT }"
	SERVICES="services:
  app:
    balance: ${CG_BALANCE:-round_robin}
    endpoints:
      - { name: be1, address: $BE1_ADDR:8080 }"
else
	ROUTE='respond: { status: 200, body: "hello\n", content_type: "text/plain" }'
	SERVICES=
fi

cat >"$WORK/sluice.yaml" <<EOF
$(sluice_dataplane 16384 4096 | sed "s/idle_sleep_us: 0/idle_sleep_us: ${IDLE_SLEEP_US:-0}/")
listeners:
  - name: web
    port: 80
    routes:
      - match: { path_prefix: "/" }
        $ROUTE
$SERVICES
control:
  socket: $WORK/s.sock
EOF

ip netns exec "$LAB_NS" valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
	"$SLUICE" -c "$WORK/sluice.yaml" </dev/null >"$WORK/sluice.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 1200); do
	[ -S "$WORK/s.sock" ] && break
	kill -0 "$PROXY_PID" 2>/dev/null || die "sluice exited at start: $(tail -5 "$WORK/sluice.log")"
	sleep 0.1
done
[ -S "$WORK/s.sock" ] || die "sluice: no control socket after 120 s"
sleep 2

wrk_run() { # SECONDS OUT
	ip netns exec "$CLI_NS" timeout $(($1 + 60)) wrk -t1 -c10 -d"$1s" "http://$APP_ADDR/" >"$2" 2>&1 ||
		die "wrk failed: $(tail -3 "$2")"
}
wrk_run 3 "$WORK/warmup.wrk"
callgrind_control -z "$PROXY_PID" >/dev/null
wrk_run "$DUR" "$WORK/run.wrk"
callgrind_control -d "$PROXY_PID" >/dev/null
sleep 1
DUMP=$(ls -t "$WORK"/cg.out.* | head -1)
REQS=$(awk '/requests in/ { print $1 }' "$WORK/run.wrk")
NON2XX=$(awk '/Non-2xx/ { print $NF }' "$WORK/run.wrk")
FUNCS="net_rx px_timers px_run_posted start_request px_proxy_start forward_head head_load build_request build_response http_req_parse http_resp_parse send_head snprintf"
TOTAL=$(awk '/^(summary|totals):/ { print $2 }' "$DUMP" | head -1)
bench_build "$BUILD"
echo "mode $MODE, $REQS requests (non-2xx: ${NON2XX:-0}), $TOTAL instructions"
awk -v t="$TOTAL" -v r="$REQS" 'BEGIN { printf "instructions/request %.0f\n", t / r }'
callgrind_annotate --inclusive=yes "$DUMP" 2>/dev/null |
	awk -v r="$REQS" -v want="$FUNCS" '
		BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) f[w[i]] = 1 }
		/ \[[^]]*\]$/ { fn = $0; sub(/ \[[^]]*\]$/, "", fn); sub(/.*:/, "", fn); gsub(",", "", $1)
			if (fn in f) printf "  %-24s %7.0f /req (inclusive)\n", fn, $1 / r }'
