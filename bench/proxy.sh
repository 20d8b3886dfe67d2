#!/usr/bin/env bash
# Reverse proxy: sluice against nginx and HAProxy in the same lab, the same run, the same
# pinning, in front of one nginx backend (`return 200 "hello\n"`).
#
#   sudo ./bench/proxy.sh [DURATION_S] [ROUNDS]        (defaults: 10 s per wrk run; 2 rounds)
#
# SLUICE_BUILD_DIR picks the build (default build/, relative to the repository root).
# PROXIES picks which proxies run (default "sluice nginx haproxy"; e.g. PROXIES=sluice).
# PROXY_BALANCE sets sluice's balance (default round_robin; e.g. maglev) and
# PROXY_RATE_LIMIT=route|client_ip|header:NAME puts a rate limit on sluice's route, far above
# what wrk reaches, so every request pays the check and none is refused (as bench/callgrind.sh's
# CG_BALANCE and CG_RATE_LIMIT): what a balancer or a limited route costs per request. The
# peers have no such setting and run as always; the table's columns do not change.
# BENCH_LOG_DIR, when set, receives every raw file of the run (wrk outputs, snapshots, logs).
# BENCH_DEVICE picks the DPDK driver sluice opens its veth with: af_packet (default,
# framecnt=4096) or af_xdp (busy_budget=0): bench/common.sh, and docs/BENCHMARKS.md "The lab
# path: af_xdp against af_packet" for why the default stays.
#
# Pinning, identical for every proxy: the proxy runs on CPU 1 (sluice: its one worker lcore,
# control lcore on CPU 0; nginx: one worker process, worker_cpu_affinity 10; HAProxy: nbthread 1,
# cpu-map 1/all 1). wrk (-t1) and the backend nginx share CPU 0. Each round runs sluice, nginx,
# HAProxy one after the other, each at 50 and 400 keep-alive connections and at 50 connections
# with "Connection: close"; rounds repeat the whole sequence, so a slow moment on this shared
# machine hits one row, not one proxy.
#
# Columns (per wrk run, per request):
#   errors       wrk's socket errors plus non-2xx responses.
#   frames/req   frames received plus sent on the proxy's veth (kernel counters, so the same
#                count whether the kernel or af_packet drives it).
#   CPU1 us/req  the proxy's CPU time. Peers: utime+stime of the proxy process (which includes
#                the softirq work run in its context, i.e. most of the kernel network stack on
#                CPU 1) plus ksoftirqd/1. sluice: the busy share of its worker's loop
#                (cycles_busy / (cycles_busy + cycles_idle)) times the time the worker really ran
#                (schedstat); this includes the af_packet syscalls and the softirq they run.
#                Raw TSC busy cycles also count time other jobs took CPU 1 away from the worker;
#                the estimate is good while run-queue wait is small, and rows with a large
#                run-queue wait are not to be trusted, for any proxy.
#   kern         the kernel part of that: stime (peers: the proxy process plus ksoftirqd/1;
#                sluice: the worker thread), from /proc .../stat.
#   si1, si0     the softirq column of /proc/stat for CPU 1 and CPU 0 (tick-sampled). si1 mostly
#                runs inside the proxy's context and is therefore already in CPU1 us/req; si0 is
#                the receive half of every hop (client and backend to proxy), paid on CPU 0 in
#                the sender's context, for every proxy alike.
#   req/s/core   1e6 / CPU1 us/req: requests one proxy core would serve at 100 % busy.
#   CPU1 busy    CPU1 us/req * requests / wall time; run-queue wait: the share of the run the
#                proxy (sluice: its worker thread) was runnable but not running (schedstat),
#                i.e. how much other jobs on this shared machine interfered.
#   CPU0 busy    /proc/stat for CPU 0 (wrk, the backend, the receive half of the network):
#                near 100 % means the load generator, not the proxy, set requests/s.
#   upstream     distinct backend connections seen in the backend's access log ($connection)
#                / requests it logged in that run.
# The sluice detail table adds: TSC busy cycles/req as counted (total.dp.cycles_busy /
# total.http.requests), the same corrected for preemption (ran), its user part (minus the worker
# thread's stime), frames per busy second (af_packet throughput of one busy core), busy loop
# iterations per request, af_packet RX ring drops (port imissed), upstream connects / reuses and
# TIME_WAIT TCBs reclaimed for new connections.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${1:-10}
ROUNDS=${2:-2}
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 600 ]] || {
	echo "usage: $0 [DURATION_S 1-600] [ROUNDS]" >&2
	exit 2
}
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 10 ]] || {
	echo "usage: $0 [DURATION_S] [ROUNDS 1-10]" >&2
	exit 2
}
BUILD=${SLUICE_BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/app/sluice
SLUICECTL=$BUILD/app/sluicectl
HZ_TICK=$(getconf CLK_TCK)
BE_PORT=8080
# Idle upstream connections kept per endpoint, the same for sluice (pool.max_idle_per_endpoint)
# and nginx (keepalive): more than the 400-connection run needs, as HAProxy's http-reuse always
# keeps every one. With 64, both close and reopen upstream connections at 400 clients.
UPSTREAM_IDLE=${UPSTREAM_IDLE:-512}
CASES=("ka 50" "ka 400" "close 50")
PROXIES=${PROXIES:-sluice nginx haproxy}
for p in $PROXIES; do
	case $p in sluice | nginx | haproxy) ;; *)
		echo "PROXIES: sluice, nginx and/or haproxy, not $p" >&2
		exit 2
		;;
	esac
done

[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces): sudo $0 $*" >&2; exit 2; }
[ -x "$SLUICE" ] || { echo "no $SLUICE: meson setup build && ninja -C build" >&2; exit 2; }
for t in wrk nginx haproxy curl ss taskset; do
	command -v $t >/dev/null || { echo "$t missing: sudo ./scripts/deps.sh" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)" # HAProxy sizes its FD limit from maxconn (2 per connection)
[ "$(nproc --all)" -ge 2 ] || { echo "needs 2 CPUs (0: wrk and backend, 1: proxy)" >&2; exit 2; }

PROXY_PID=
BACKEND_PID=
BENCH_NAME=proxy.sh
BENCH_PIDS="PROXY_PID BACKEND_PID"
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
bench_lab_up bp proxy
# wrk with "Connection: close" closes each socket itself: let it reuse TIME_WAIT ports.
ip netns exec "$CLI_NS" sysctl -qw net.ipv4.tcp_tw_reuse=1 \
	net.ipv4.ip_local_port_range="1024 65535"
ip netns exec "$LAB_NS" sysctl -qw net.ipv4.tcp_tw_reuse=1 \
	net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=8192

# --- the backend: one nginx worker on CPU 0, logging the connection of every request ---
mkdir -p "$WORK/be"
cat >"$WORK/be/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/be/nginx.pid;
error_log $WORK/be/error.log;
events { worker_connections 16384; }
http {
	log_format bench '\$connection';
	access_log $WORK/be/access.log bench buffer=256k flush=1s;
	client_body_temp_path $WORK/be/body;
	proxy_temp_path $WORK/be/proxy;
	fastcgi_temp_path $WORK/be/fastcgi;
	uwsgi_temp_path $WORK/be/uwsgi;
	scgi_temp_path $WORK/be/scgi;
	keepalive_requests 100000000;
	keepalive_timeout 300s;
	server {
		listen $BE1_ADDR:$BE_PORT backlog=8192;
		location / { default_type text/plain; return 200 "hello\n"; }
	}
}
EOF
ip netns exec "$BE1_NS" taskset -c 0 nginx -e "$WORK/be/error.log" -p "$WORK/be" \
	-c "$WORK/be/nginx.conf" </dev/null >"$WORK/be/stdout.log" 2>&1 &
BACKEND_PID=$!
wait_listen "$BE1_NS" "$BE1_ADDR" "$BE_PORT" "$BACKEND_PID" "backend nginx"
WHO=backend pinned "$BACKEND_PID" 0

# --- the proxies; each start_X sets PROXY_PID (what to stop) and MEASURE_PIDS ---
sluice_conf() {
	cat <<EOF
$(sluice_dataplane 65536 16384)
listeners:
  - name: web
    port: 80
    routes:
      - match: { path_prefix: "/" }
        service: app$([ -n "${PROXY_RATE_LIMIT:-}" ] && printf '\n        %s' \
		"rate_limit: { requests_per_second: 1000000, burst: 1000000, per: $PROXY_RATE_LIMIT }")
services:
  app:
    balance: ${PROXY_BALANCE:-round_robin}
    endpoints:
      - { name: be1, address: $BE1_ADDR:$BE_PORT }
    pool: { max_idle_per_endpoint: $UPSTREAM_IDLE }
control:
  socket: $WORK/sluice.sock
EOF
}

start_sluice() {
	ip netns exec "$LAB_NS" ip addr flush dev "$APP_IF"
	bench_xdp_off
	sluice_conf >"$WORK/sluice.yaml"
	rm -f "$WORK/sluice.sock"
	ip netns exec "$LAB_NS" "$SLUICE" -c "$WORK/sluice.yaml" </dev/null \
		>>"$WORK/sluice.log" 2>&1 &
	PROXY_PID=$!
	local tid
	for _ in $(seq 1 300); do
		[ -S "$WORK/sluice.sock" ] && break
		kill -0 "$PROXY_PID" 2>/dev/null || die "sluice exited at start: $(tail -3 "$WORK/sluice.log")"
		sleep 0.1
	done
	[ -S "$WORK/sluice.sock" ] || die "sluice: no control socket after 30 s"
	# The worker lcore: the thread DPDK names rte-worker-1 (lcore-worker-1 before 22.11).
	MEASURE_PIDS=
	for tid in /proc/"$PROXY_PID"/task/*; do
		if grep -Eq '^(rte|lcore)-worker' "$tid/comm" 2>/dev/null; then
			MEASURE_PIDS="$PROXY_PID/task/${tid##*/}"
		fi
	done
	[ -n "$MEASURE_PIDS" ] || die "sluice: no rte-worker thread found"
}

start_nginx() {
	ip netns exec "$LAB_NS" ip addr replace "$APP_ADDR/$LAB_PREFIXLEN" dev "$APP_IF"
	mkdir -p "$WORK/nginx"
	cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
worker_cpu_affinity 10;
worker_rlimit_nofile 65536;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 16384; }
http {
$(nginx_http_common "$WORK/nginx")
	upstream app { server $BE1_ADDR:$BE_PORT; keepalive $UPSTREAM_IDLE; }
	server {
		listen $APP_ADDR:80 backlog=8192;
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
EOF
	ip netns exec "$LAB_NS" nginx -e "$WORK/nginx/error.log" -p "$WORK/nginx" \
		-c "$WORK/nginx/nginx.conf" </dev/null >>"$WORK/nginx/stdout.log" 2>&1 &
	PROXY_PID=$!
	wait_listen "$LAB_NS" "$APP_ADDR" 80 "$PROXY_PID" "nginx proxy"
	MEASURE_PIDS=$(pgrep -P "$PROXY_PID" | head -1)
	[ -n "$MEASURE_PIDS" ] || die "nginx proxy: no worker process"
}

start_haproxy() {
	ip netns exec "$LAB_NS" ip addr replace "$APP_ADDR/$LAB_PREFIXLEN" dev "$APP_IF"
	cat >"$WORK/haproxy.cfg" <<EOF
global
	nbthread 1
	# "1/1" leaves the thread unpinned in 2.6.12 with nbthread 1; "1/all" pins it.
	cpu-map 1/all 1
	maxconn 8000
defaults
	mode http
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	timeout http-keep-alive 60s
	http-reuse always
frontend web
	bind $APP_ADDR:80
	default_backend app
backend app
	server be1 $BE1_ADDR:$BE_PORT
EOF
	ip netns exec "$LAB_NS" haproxy -db -f "$WORK/haproxy.cfg" </dev/null \
		>>"$WORK/haproxy.log" 2>&1 &
	PROXY_PID=$!
	wait_listen "$LAB_NS" "$APP_ADDR" 80 "$PROXY_PID" "haproxy"
	MEASURE_PIDS=$PROXY_PID
}

# --- measurements ---
# snapshot FILE: "key value" lines for every number a row needs.
snapshot() {
	local f=$1 p
	{
		echo "wall $(date +%s.%N)"
		awk '/^cpu[01] / { print $1 "_nonidle", $2 + $3 + $4 + $7 + $8; print $1 "_softirq", $8 }' \
			/proc/stat
		for p in $MEASURE_PIDS; do
			# Fields after the ")" of comm: utime is 14th, stime 15th of the full line.
			sed 's/.*) //' "/proc/$p/stat" | awk '{ print "proxy_utime", $12; print "proxy_stime", $13 }'
			# Nanoseconds on the CPU, and waiting for it (run queue), exact.
			awk '{ printf "proxy_run_ns %.0f\nproxy_wait_ns %.0f\n", $1, $2 }' "/proc/$p/schedstat"
		done
		sed 's/.*) //' "/proc/$KSOFTIRQD1/stat" | awk '{ print "ksi1_ticks", $12 + $13 }'
		echo "be_lines $(wc -l <"$WORK/be/access.log" 2>/dev/null || echo 0)"
		# Frames on the proxy's veth, whoever drives it (kernel or af_packet).
		ip netns exec "$LAB_NS" sh -c "cd /sys/class/net/$APP_IF/statistics &&
			echo if_rx \$(cat rx_packets) && echo if_tx \$(cat tx_packets)"
		if [ "$PROXY" = sluice ]; then
			"$SLUICECTL" -s "$WORK/sluice.sock" show ports | awk -F': ' '
				/^total\./ { sub(/^total\./, "", $1); print $1, $2 }
				/^port\.[^.]*\.(imissed|ierrors|oerrors|rx_nombuf):/ {
					sub(/^port\.[^.]*\./, "port.", $1); print $1, $2 }'
		fi
	} >"$f"
}
KSOFTIRQD1=$(pgrep -x ksoftirqd/1 | head -1)
[ -n "$KSOFTIRQD1" ] || die "no ksoftirqd/1"

# run_case NAME MODE CONNS ROUND: one wrk run with snapshots around it; appends a row.
run_case() {
	local name=$1 mode=$2 conns=$3 round=$4 tag hdr=()
	tag="$name-$mode$conns-r$round"
	[ "$mode" = close ] && hdr=(-H "Connection: close")
	snapshot "$WORK/$tag.before"
	ip netns exec "$CLI_NS" taskset -c 0 timeout $((DUR + 30)) wrk -t1 -c"$conns" \
		-d"${DUR}s" --latency "${hdr[@]}" "http://$APP_ADDR/" >"$WORK/$tag.wrk" 2>&1 ||
		die "wrk failed for $tag: $(tail -3 "$WORK/$tag.wrk")"
	snapshot "$WORK/$tag.after"
	sleep 1.5 # the backend flushes its access log every second
	tail -n +"$(awk '$1 == "be_lines" { print $2 + 1 }' "$WORK/$tag.before")" \
		"$WORK/be/access.log" >"$WORK/$tag.be"
	row "$tag" "$name" "$mode" "$conns" "$round"
}

# row TAG ...: compute one Markdown row from the wrk output and the two snapshots.
row() {
	local tag=$1
	awk -v name="$2" -v mode="$3" -v conns="$4" -v round="$5" -v tick="$HZ_TICK" \
		-v tsc_hz="$TSC_HZ" -v dur="$DUR" '
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
		FILENAME ~ /\.before$/ { b[$1] += $2; next }
		FILENAME ~ /\.after$/ { a[$1] += $2; next }
		FILENAME ~ /\.be$/ { belines++; if (!($1 in seen)) { seen[$1] = 1; beconns++ } next }
		END {
			for (k in a) d[k] = a[k] - b[k]
			if (reqs == 0) reqs = 1
			if (name == "sluice") {
				# Busy share of the worker loop iterations, applied to the time it
				# really ran: TSC cycles also count time other jobs on this shared
				# machine took CPU 1 away from it (they land in busy and idle
				# iterations alike).
				frac = d["dp.cycles_busy"] / (d["dp.cycles_busy"] + d["dp.cycles_idle"])
				cpu_s = frac * d["proxy_run_ns"] / 1e9
				kern_s = d["proxy_stime"] / tick
			} else {
				cpu_s = (d["proxy_utime"] + d["proxy_stime"] + d["ksi1_ticks"]) / tick
				kern_s = (d["proxy_stime"] + d["ksi1_ticks"]) / tick
			}
			busy = cpu_s / d["wall"]
			rqwait = d["proxy_wait_ns"] / 1e9 / d["wall"]
			us = cpu_s * 1e6 / reqs
			fmt = "| %s | %s %s | %d | %.0f | %.2f | %.2f | %d | %.1f | %.1f | %.1f | %.1f |"
			fmt = fmt " %.1f | %.0f | %.0f%% | %.0f%% | %.0f%% | %d / %d |\n"
			printf fmt, \
				name, mode, conns, round, rps, p50, p99, errs + non2xx, \
				(d["if_rx"] + d["if_tx"]) / reqs, us, \
				kern_s * 1e6 / reqs, d["cpu1_softirq"] / tick * 1e6 / reqs, \
				d["cpu0_softirq"] / tick * 1e6 / reqs, 1e6 / us, busy * 100, \
				rqwait * 100, d["cpu0_nonidle"] / tick / d["wall"] * 100, beconns, belines
		}' "$WORK/$tag.wrk" "$WORK/$tag.before" "$WORK/$tag.after" "$WORK/$tag.be" |
		tee -a "$WORK/rows.md"
	if [ "$2" = sluice ]; then
		awk -v tag="$tag" -v tsc_hz="$TSC_HZ" -v tick="$HZ_TICK" '
			FILENAME ~ /\.before$/ { b[$1] += $2; next }
			{ a[$1] += $2 }
			END {
				for (k in a) d[k] = a[k] - b[k]
				req = d["http.requests"] > 0 ? d["http.requests"] : 1
				frames = d["net.rx_frames"] + d["net.tx_frames"]
				# Busy time the worker really ran (see the main table), and its user part.
				frac = d["dp.cycles_busy"] / (d["dp.cycles_busy"] + d["dp.cycles_idle"])
				busy_s = frac * d["proxy_run_ns"] / 1e9
				user_s = busy_s - d["proxy_stime"] / tick
				fmt = "| %s | %d | %.0f | %.0f | %.0f | %.1f | %.2f | %.0f | %.0f | %.0f |"
				fmt = fmt " %.0f | %d | %d / %d | %d |\n"
				printf fmt, \
					tag, d["http.requests"], d["dp.cycles_busy"] / req, \
					busy_s * tsc_hz / req, user_s * tsc_hz / req, frames / req, \
					d["dp.polls_busy"] / req, frames / d["wall"], frames / busy_s, \
					d["net.rx_frames"] / d["wall"], d["net.tx_frames"] / d["wall"], \
					d["port.imissed"], d["http.upstream_connects"], \
					d["http.upstream_reused"], d["tcp.time_wait_reclaimed"]
			}' "$WORK/$tag.before" "$WORK/$tag.after" >>"$WORK/sluice-rows.md"
	fi
}

# The TSC rate, measured with sluice's own counters: busy + idle cycles advance by exactly the
# TSC ticks elapsed, whatever the worker does.
measure_tsc_hz() {
	local c0 c1 t0 t1
	read -r t0 c0 < <(echo "$(date +%s.%N) $("$SLUICECTL" -s "$WORK/sluice.sock" show ports |
		awk -F': ' '$1 == "total.dp.cycles_busy" || $1 == "total.dp.cycles_idle" { s += $2 }
			    END { printf "%.0f\n", s }')")
	sleep 2
	read -r t1 c1 < <(echo "$(date +%s.%N) $("$SLUICECTL" -s "$WORK/sluice.sock" show ports |
		awk -F': ' '$1 == "total.dp.cycles_busy" || $1 == "total.dp.cycles_idle" { s += $2 }
			    END { printf "%.0f\n", s }')")
	awk -v c="$((c1 - c0))" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f\n", c / (t1 - t0) }'
}

warm_up() { # a short unmeasured run: connections, ARP, pools
	ip netns exec "$CLI_NS" curl -sf --max-time 5 "http://$APP_ADDR/" >"$WORK/curl.out" ||
		die "$PROXY: no answer through the proxy"
	[ "$(cat "$WORK/curl.out")" = hello ] ||
		die "$PROXY: unexpected body $(head -c 80 "$WORK/curl.out")"
	ip netns exec "$CLI_NS" taskset -c 0 timeout 30 wrk -t1 -c50 -d2s "http://$APP_ADDR/" \
		>/dev/null 2>&1 || true
}

TSC_HZ=
MEASURE_PIDS=
PROXY=
echo "## reverse proxy, ${DUR} s per run, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
	"load average at start $(cut -d' ' -f1-3 /proc/loadavg), sluice on $(bench_device | cut -d, -f1,3-)," \
	"sluice balance ${PROXY_BALANCE:-round_robin}, rate limit ${PROXY_RATE_LIMIT:-none}"
echo
echo "sluice: $(bench_build "$BUILD")"
echo
echo "| proxy | wrk | round | requests/s | p50 ms | p99 ms | errors | frames/req | CPU1 us/req |" \
	"kern us/req | si1 us/req | si0 us/req | req/s/core | CPU1 busy | run-queue wait |" \
	"CPU0 busy | upstream conns / requests |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
	for PROXY in $PROXIES; do
		"start_$PROXY"
		if [ "$PROXY" = sluice ] && [ -z "$TSC_HZ" ]; then
			TSC_HZ=$(measure_tsc_hz)
		fi
		WHO=$PROXY pinned "$MEASURE_PIDS" 1
		warm_up
		for c in "${CASES[@]}"; do
			read -r mode conns <<<"$c"
			run_case "$PROXY" "$mode" "$conns" "$round"
		done
		stop_pid "$PROXY_PID"
		PROXY_PID=
		bench_xdp_off
		if [ "$PROXY" != sluice ]; then
			ip netns exec "$LAB_NS" ip addr flush dev "$APP_IF"
		fi
	done
done
echo
echo "sluice detail (TSC $TSC_HZ Hz; frames = net.rx_frames + net.tx_frames):"
echo
echo "| run | requests | TSC busy cycles/req | ran busy cycles/req | user cycles/req |" \
	"frames/req | busy polls/req | frames/s | frames per busy s | rx frames/s | tx frames/s |" \
	"rx ring drops |" \
	"upstream connects / reused | TIME_WAIT reclaimed |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
cat "$WORK/sluice-rows.md"
echo
echo "Reproduce: sudo env BENCH_DEVICE=$BENCH_DEVICE PROXIES=\"$PROXIES\"" \
	"PROXY_BALANCE=${PROXY_BALANCE:-round_robin} PROXY_RATE_LIMIT=${PROXY_RATE_LIMIT:-}" \
	"./bench/proxy.sh $DUR $ROUNDS"
