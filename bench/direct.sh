#!/usr/bin/env bash
# Direct responses: sluice's userspace stack against nginx `return 200` in the same lab, the
# same run, the same pinning. wrk runs in the client namespace on CPU 0; the server under test
# gets CPU 1 (sluice: its one worker lcore; nginx: one worker process pinned there).
#
#   sudo ./bench/direct.sh [DURATION_S] [CONNECTIONS...]      (defaults: 10 s; 50 400)
#
# Prints a Markdown table (requests/s, latency p50/p99, sluice busy cycles per request) to be
# pasted into docs/BENCHMARKS.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${1:-10}
shift || true
CONNS=("$@")
[ ${#CONNS[@]} -gt 0 ] || CONNS=(50 400)
P=bd$((RANDOM % 90 + 10))
WORK=$(mktemp -d /tmp/sluice-bench-XXXXXX)
SLUICE=$ROOT/build/app/sluice
SLUICECTL=$ROOT/build/app/sluicectl
NGINX_PID=
SLUICE_PID=

eval "$("$ROOT/scripts/lab.sh" env "$P")"

cleanup() {
	[ -n "$SLUICE_PID" ] && kill "$SLUICE_PID" 2>/dev/null && wait "$SLUICE_PID" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
	"$ROOT/scripts/lab.sh" down "$P" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$SLUICE" ] || { echo "build first: meson setup build && meson compile -C build" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk missing: sudo ./scripts/deps.sh" >&2; exit 2; }
"$ROOT/scripts/lab.sh" up "$P" >/dev/null

# wrk: one thread pinned on CPU 0, in the client namespace. Prints "rps p50_ms p99_ms".
run_wrk() {
	local conns=$1 url=$2 out
	out=$(ip netns exec "$CLI_NS" taskset -c 0 wrk -t1 -c"$conns" -d"${DUR}s" --latency \
		-H "Host: bench" "$url")
	echo "$out" >"$WORK/wrk-last.txt"
	awk '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
				 if (v ~ /s$/) return v * 1000; return v }
		/Requests\/sec/ { rps = $2 }
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }' <<<"$out"
}

counter() { # total.GROUP.NAME from show ports
	"$SLUICECTL" -s "$WORK/s.sock" show ports | awk -F': ' -v k="total.$1" '$1 == k { print $2 }'
}

echo "## direct response, ${DUR}s per run, $(date -u +%Y-%m-%d)"
echo
echo "| server | connections | requests/s | p50 ms | p99 ms | busy cycles/request |"
echo "|---|---|---|---|---|---|"

# --- sluice ---
cat >"$WORK/sluice.yaml" <<EOF
dataplane:
  eal: ["--no-huge", "-m", "1024", "--no-pci", "--lcores=0@0,1@1"]
  workers: 1
  mbufs: 65536
  max_connections: 8192
  idle_sleep_us: 0
  ports:
    - name: lan
      device: "$APP_DEVICE,framecnt=4096"
      address: $APP_ADDR/$LAB_PREFIXLEN
listeners:
  - name: web
    port: 80
    routes:
      - match: { path_prefix: "/" }
        respond: { status: 200, body: "hello\n", content_type: "text/plain" }
control:
  socket: $WORK/s.sock
EOF
ip netns exec "$LAB_NS" "$SLUICE" -c "$WORK/sluice.yaml" >"$WORK/sluice.log" 2>&1 &
SLUICE_PID=$!
for _ in $(seq 1 100); do [ -S "$WORK/s.sock" ] && break; sleep 0.1; done
ip netns exec "$CLI_NS" curl -s --max-time 5 "http://$APP_ADDR/" >/dev/null
for c in "${CONNS[@]}"; do
	c0=$(counter dp.cycles_busy)
	r0=$(counter http.requests)
	read -r rps p50 p99 < <(run_wrk "$c" "http://$APP_ADDR/")
	c1=$(counter dp.cycles_busy)
	r1=$(counter http.requests)
	cpr=$(( (c1 - c0) / ((r1 - r0) > 0 ? (r1 - r0) : 1) ))
	echo "| sluice | $c | $rps | $p50 | $p99 | $cpr |"
done
kill "$SLUICE_PID"
wait "$SLUICE_PID" || true
SLUICE_PID=

# --- nginx in the appliance's place: the same veth, now a kernel interface ---
ip netns exec "$LAB_NS" ip addr add "$APP_ADDR/$LAB_PREFIXLEN" dev "$APP_IF"
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
worker_cpu_affinity 10;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 8192; }
http {
	access_log off;
	keepalive_requests 1000000;
	server {
		listen $APP_ADDR:80 reuseport backlog=4096;
		location / { default_type text/plain; return 200 "hello\n"; }
	}
}
EOF
ip netns exec "$LAB_NS" nginx -c "$WORK/nginx.conf" &
NGINX_PID=$!
sleep 1
for c in "${CONNS[@]}"; do
	read -r rps p50 p99 < <(run_wrk "$c" "http://$APP_ADDR/")
	echo "| nginx | $c | $rps | $p50 | $p99 | - |"
done
echo
echo "Reproduce: sudo ./bench/direct.sh $DUR ${CONNS[*]}"
