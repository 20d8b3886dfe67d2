#!/usr/bin/env bash
# Active health checks at scale (issue 10): ENDPOINTS endpoints checked every second, what the
# probes cost sluice, and proxied throughput with and without them.
#
#   sudo ./bench/health.sh [DURATION_S] [ENDPOINTS]     (defaults: 10 s per phase; 1000)
#   smoke (scripts/test.sh): ./bench/health.sh 2 100
#
# SLUICE_BUILD_DIR picks the build (default build/). BENCH_LOG_DIR, when set, receives every
# raw file of the run. CHECK_TYPE=tcp checks with TCP connects instead of HTTP GETs.
# HEALTH_RUNS=off or =on makes only that run (default "off on").
#
# The probed endpoints: one nginx per lab backend namespace (three addresses, so the ARP table
# holds three entries whatever ENDPOINTS is), each listening on about ENDPOINTS/3 ports from
# 10000 up, answering GET /hc with 200 "ok" and logging each /hc request (its time) to its
# access log: the probes the backends really received. They form service `many`
# (health_check: http GET /hc, interval_ms 1000, timeout_ms 500), which no route sends traffic
# to. Traffic: wrk (-t1 -c50, keep-alive) through sluice to service `app`, one nginx on
# BE1:8080 answering "hello" (bench/proxy.sh's backend).
#
# Pinning as bench/proxy.sh: sluice's one worker lcore on CPU 1, its control lcore on CPU 0;
# wrk and every nginx on CPU 0.
#
# Two runs of sluice, identical but for `many`'s health_check (absent, then present); each
# has an idle phase (no traffic: what the probes alone cost) and a wrk phase, DURATION_S each.
# Columns:
#   probes/s        /hc requests the backends logged per second (HTTP checks; with
#                   CHECK_TYPE=tcp the backends log nothing: see sluice's counters)
#   control CPU %   utime+stime of sluice's main thread (the control lcore) over the phase,
#                   in % of one CPU; other threads % the rest of the process but the worker
#   worker busy %   the busy share of the worker loop (dp.cycles_busy / (busy + idle)): the
#                   worker busy-polls, so its utime is always ~100 % and tells nothing
#   us/probe        (control + worker busy CPU, checks on minus off) / probes: the cost of one
#   DOWN            endpoints of `many` not UP in show stat at the end of the phase (an
#                   overloaded appliance must not mark healthy backends down; any at the end
#                   of the idle phase with checks on fails the run)
#   probe counters  every `show ports` total.* counter whose name holds "probe" or "check",
#                   per second (sluice's own count of what it sent, skipped, failed)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${1:-10}
NEP=${2:-1000}
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 600 ]] || {
	echo "usage: $0 [DURATION_S 1-600] [ENDPOINTS 3-1020]" >&2
	exit 2
}
[[ $NEP =~ ^[0-9]+$ && $NEP -ge 3 && $NEP -le 1020 ]] || {
	echo "usage: $0 [DURATION_S] [ENDPOINTS 3-1020]" >&2
	exit 2
}
CHECK_TYPE=${CHECK_TYPE:-http}
RUNS=${HEALTH_RUNS:-off on}
[[ $RUNS == "off on" || $RUNS == off || $RUNS == on ]] || {
	echo "HEALTH_RUNS: \"off on\" (default), off or on" >&2
	exit 2
}
[[ $CHECK_TYPE == http || $CHECK_TYPE == tcp ]] || { echo "CHECK_TYPE: http or tcp" >&2; exit 2; }
BUILD=${SLUICE_BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLUICE=$BUILD/app/sluice
SLUICECTL=$BUILD/app/sluicectl
HZ_TICK=$(getconf CLK_TCK)
BE_PORT=8080
HC_BASE=10000
INTERVAL_MS=1000

[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces): sudo $0 $*" >&2; exit 2; }
[ -x "$SLUICE" ] || { echo "no $SLUICE: meson setup build && ninja -C build" >&2; exit 2; }
for t in wrk nginx curl ss taskset; do
	command -v $t >/dev/null || { echo "$t missing: sudo ./scripts/deps.sh" >&2; exit 2; }
done
[ "$(nproc --all)" -ge 2 ] || { echo "needs 2 CPUs (0: wrk and backends, 1: worker)" >&2; exit 2; }

SLUICE_PID=
BACKEND_PID=
# shellcheck disable=SC2034 # set with printf -v, read by bench_cleanup
HC1_PID=
# shellcheck disable=SC2034
HC2_PID=
# shellcheck disable=SC2034
HC3_PID=
BENCH_NAME=health.sh
BENCH_PIDS="SLUICE_PID BACKEND_PID HC1_PID HC2_PID HC3_PID"
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
bench_lab_up bh health

# Endpoint i (0-based) is on backend (i % 3) + 1, port HC_BASE + i / 3.
BE_NS=("$BE1_NS" "$BE2_NS" "$BE3_NS")
BE_ADDR=("$BE1_ADDR" "$BE2_ADDR" "$BE3_ADDR")
PER_BE=$(((NEP + 2) / 3))

# --- the traffic backend (bench/proxy.sh's) ---
bench_hello_backend "$BE_PORT"

# --- the probed backends: one nginx per namespace, PER_BE ports each ---
for b in 1 2 3; do
	d=$WORK/hc$b
	mkdir -p "$d"
	{
		printf 'daemon off;\nmaster_process off;\nworker_processes 1;\n'
		printf 'worker_rlimit_nofile 8192;\npid %s/nginx.pid;\nerror_log %s/error.log;\n' "$d" "$d"
		printf 'events { worker_connections 4096; }\nhttp {\n'
		nginx_http_common "$d"
		printf "\tlog_format hc '\$msec';\n\tserver {\n"
		for p in $(seq 0 $((PER_BE - 1))); do
			printf '\t\tlisten %s:%d;\n' "${BE_ADDR[$((b - 1))]}" $((HC_BASE + p))
		done
		printf '\t\tlocation = /hc { access_log %s/access.log hc; default_type text/plain;' "$d"
		printf ' return 200 "ok\\n"; }\n'
		printf '\t\tlocation / { return 404; }\n\t}\n}\n'
	} >"$d/nginx.conf"
	: >"$d/access.log"
	ip netns exec "${BE_NS[$((b - 1))]}" taskset -c 0 nginx -e "$d/error.log" -p "$d" \
		-c "$d/nginx.conf" </dev/null >"$d/stdout.log" 2>&1 &
	printf -v "HC${b}_PID" %s "$!"
done
for b in 1 2 3; do
	pid_var=HC${b}_PID
	wait_listen "${BE_NS[$((b - 1))]}" "${BE_ADDR[$((b - 1))]}" $((HC_BASE + PER_BE - 1)) \
		"${!pid_var}" "probed nginx $b"
done

# --- sluice ---
sluice_conf() { # CHECKS (on|off)
	sluice_dataplane 65536 16384
	cat <<EOF
listeners:
  - name: web
    port: 80
    routes:
      - match: { path_prefix: "/" }
        service: app
services:
  app:
    endpoints:
      - { name: be1, address: $BE1_ADDR:$BE_PORT }
  many:
    endpoints:
EOF
	local i
	for i in $(seq 0 $((NEP - 1))); do
		echo "      - { name: e$i, address: ${BE_ADDR[$((i % 3))]}:$((HC_BASE + i / 3)) }"
	done
	if [ "$1" = on ]; then
		echo "    health_check: { type: $CHECK_TYPE, path: /hc, interval_ms: $INTERVAL_MS," \
			"timeout_ms: 500, rise: 2, fall: 3 }"
	fi
	echo "control:"
	echo "  socket: $WORK/sluice.sock"
}

WORKER_TID=
start_sluice() { # CHECKS
	sluice_conf "$1" >"$WORK/sluice-$1.yaml"
	"$SLUICE" --check -c "$WORK/sluice-$1.yaml" >"$WORK/check-$1.log" 2>&1 ||
		die "checks $1: sluice --check refuses the configuration: $(head -3 "$WORK/check-$1.log")"
	rm -f "$WORK/sluice.sock"
	ip netns exec "$LAB_NS" "$SLUICE" -c "$WORK/sluice-$1.yaml" </dev/null \
		>>"$WORK/sluice.log" 2>&1 &
	SLUICE_PID=$!
	local tid
	for _ in $(seq 1 300); do
		[ -S "$WORK/sluice.sock" ] && break
		kill -0 "$SLUICE_PID" 2>/dev/null || die "sluice exited at start: $(tail -3 "$WORK/sluice.log")"
		sleep 0.1
	done
	[ -S "$WORK/sluice.sock" ] || die "sluice: no control socket after 30 s"
	WORKER_TID=
	for tid in /proc/"$SLUICE_PID"/task/*; do
		if grep -Eq '^(rte|lcore)-worker' "$tid/comm" 2>/dev/null; then
			WORKER_TID=${tid##*/}
		fi
	done
	[ -n "$WORKER_TID" ] || die "sluice: no rte-worker thread found"
	WHO="sluice worker" pinned "$SLUICE_PID/task/$WORKER_TID" 1
	WHO="sluice control" pinned "$SLUICE_PID" 0
}

# SIGTERM, and the exit status must be 0 (INTERFACES.md: a clean shutdown), probes in flight
# or not.
stop_sluice() { # CHECKS
	local rc=0
	kill "$SLUICE_PID"
	for _ in $(seq 1 150); do
		kill -0 "$SLUICE_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$SLUICE_PID" 2>/dev/null && die "checks $1: sluice still running 15 s after SIGTERM"
	wait "$SLUICE_PID" || rc=$?
	SLUICE_PID=
	[ "$rc" -eq 0 ] ||
		die "checks $1: sluice exited with status $rc after SIGTERM: $(tail -2 "$WORK/sluice.log")"
}

# snapshot FILE: "key value" lines.
snapshot() {
	local t
	{
		echo "wall $(date +%s.%N)"
		sed 's/.*) //' "/proc/$SLUICE_PID/task/$SLUICE_PID/stat" |
			awk '{ print "control_ticks", $12 + $13 }'
		for t in /proc/"$SLUICE_PID"/task/*; do
			[ "${t##*/}" = "$SLUICE_PID" ] && continue
			[ "${t##*/}" = "$WORKER_TID" ] && continue
			sed 's/.*) //' "$t/stat" | awk '{ print "other_ticks", $12 + $13 }'
		done
		cat "$WORK"/hc[123]/access.log | wc -l | awk '{ print "probes_logged", $1 }'
		"$SLUICECTL" -s "$WORK/sluice.sock" show ports | awk -F': ' '
			/^total\./ { sub(/^total\./, "", $1); print $1, $2 }'
	} >"$1"
}

# Endpoints of `many` whose show stat status is not UP.
down_count() {
	"$SLUICECTL" -s "$WORK/sluice.sock" show stat | awk -F, '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") s = i; next }
		$1 == "many" && $2 != "BACKEND" && $s != "UP" { n++ }
		END { print n + 0 }'
}

# phase CHECKS PHASE: one measured phase (idle: sleep; wrk: wrk -t1 -c50) between snapshots;
# writes WORK/CHECKS-PHASE.row ("key value" lines) and the raw files.
phase() {
	local tag=$1-$2
	snapshot "$WORK/$tag.before"
	if [ "$2" = wrk ]; then
		ip netns exec "$CLI_NS" taskset -c 0 timeout $((DUR + 30)) wrk -t1 -c50 \
			-d"${DUR}s" --latency "http://$APP_ADDR/" >"$WORK/$tag.wrk" 2>&1 ||
			die "wrk failed for $tag: $(tail -3 "$WORK/$tag.wrk")"
	else
		sleep "$DUR"
		: >"$WORK/$tag.wrk"
	fi
	snapshot "$WORK/$tag.after"
	echo "down $(down_count)" >"$WORK/$tag.extra"
	awk -v tick="$HZ_TICK" '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
				 if (v ~ /s$/) return v * 1000; return v }
		FILENAME ~ /\.wrk$/ {
			if ($0 ~ /Requests\/sec/) rps = $2
			if ($1 == "99%") p99 = ms($2)
			if ($0 ~ /Socket errors/) { gsub(/,/, ""); errs = $4 + $6 + $8 + $10 }
			if ($0 ~ /Non-2xx/) non2xx = $NF
			next
		}
		FILENAME ~ /\.before$/ { b[$1] += $2; next }
		FILENAME ~ /\.after$/ { a[$1] += $2; next }
		FILENAME ~ /\.extra$/ { x[$1] = $2; next }
		END {
			for (k in a) d[k] = a[k] - b[k]
			w = d["wall"]
			busy = d["dp.cycles_busy"] + d["dp.cycles_idle"]
			print "rps", rps + 0
			print "p99", p99 + 0
			print "errors", errs + non2xx
			print "probes_s", d["probes_logged"] / w
			print "control_pct", d["control_ticks"] / tick / w * 100
			print "other_pct", d["other_ticks"] / tick / w * 100
			print "busy_pct", (busy > 0 ? d["dp.cycles_busy"] / busy * 100 : 0)
			print "down", x["down"]
			print "wall", w
			pc = ""
			for (k in d)
				if (k ~ /probe|check/ && k != "probes_logged" && d[k] != 0)
					pc = pc sprintf("%s%s %.0f/s", pc == "" ? "" : ", ", k, d[k] / w)
			print "counters", (pc == "" ? "-" : pc)
		}' "$WORK/$tag.wrk" "$WORK/$tag.before" "$WORK/$tag.after" "$WORK/$tag.extra" \
		>"$WORK/$tag.row"
}

val() { awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$WORK/$1.row"; }

for checks in $RUNS; do
	start_sluice "$checks"
	# Let every endpoint be probed (and found UP) before measuring: rise intervals and then
	# some. Without checks, the same wait.
	sleep $((2 * INTERVAL_MS / 1000 + 1))
	ip netns exec "$CLI_NS" curl -sf --max-time 5 -o "$WORK/curl.out" "http://$APP_ADDR/" ||
		die "checks $checks: no answer through sluice"
	ip netns exec "$CLI_NS" taskset -c 0 timeout 30 wrk -t1 -c50 -d1s "http://$APP_ADDR/" \
		>/dev/null 2>&1 || true # warm up: connections, ARP, pools
	phase "$checks" idle
	phase "$checks" wrk
	stop_sluice "$checks"
done

# With checks on and no traffic, every endpoint (all healthy) must be UP.
if [ -f "$WORK/on-idle.row" ] && [ "$(val on-idle down)" != 0 ]; then
	die "checks on, idle: $(val on-idle down) of $NEP healthy endpoints not UP"
fi
# With checks on the backends must have seen about one probe per endpoint per second.
if [ "$CHECK_TYPE" = http ] && [ -f "$WORK/on-idle.row" ]; then
	awk -v got="$(val on-idle probes_s)" -v want="$NEP" -v ms="$INTERVAL_MS" 'BEGIN {
		exit !(got >= want * 1000 / ms * 0.5 && got <= want * 1000 / ms * 1.5) }' ||
		die "checks on: $(val on-idle probes_s) probes/s at the backends for $NEP endpoints" \
			"at ${INTERVAL_MS} ms (expected about $((NEP * 1000 / INTERVAL_MS)))"
fi

echo "## health checks, $NEP endpoints ($CHECK_TYPE, every $INTERVAL_MS ms), ${DUR} s per" \
	"phase, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average at start" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Idle (no traffic): what the probes alone cost."
echo
echo "| checks | endpoints | probes/s | control CPU % | other threads % | worker busy % | DOWN |" \
	"probe counters |"
echo "|---|---|---|---|---|---|---|---|"
for checks in $RUNS; do
	printf '| %s | %d | %.0f | %.1f | %.1f | %.2f | %s | %s |\n' "$checks" "$NEP" \
		"$(val "$checks-idle" probes_s)" "$(val "$checks-idle" control_pct)" \
		"$(val "$checks-idle" other_pct)" "$(val "$checks-idle" busy_pct)" \
		"$(val "$checks-idle" down)" "$(val "$checks-idle" counters)"
done
echo
echo "Proxied throughput (wrk -t1 -c50, keep-alive) with and without the probes."
echo
echo "| checks | wrk | requests/s | p99 ms | errors | probes/s | control CPU % |" \
	"other threads % | worker busy % | DOWN |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for checks in $RUNS; do
	printf '| %s | ka 50 | %.0f | %.2f | %d | %.0f | %.1f | %.1f | %.2f | %s |\n' "$checks" \
		"$(val "$checks-wrk" rps)" "$(val "$checks-wrk" p99)" "$(val "$checks-wrk" errors)" \
		"$(val "$checks-wrk" probes_s)" "$(val "$checks-wrk" control_pct)" \
		"$(val "$checks-wrk" other_pct)" "$(val "$checks-wrk" busy_pct)" \
		"$(val "$checks-wrk" down)"
done
echo
if [ "$RUNS" = "off on" ]; then
	awk -v c1="$(val on-idle control_pct)" -v c0="$(val off-idle control_pct)" \
		-v b1="$(val on-idle busy_pct)" -v b0="$(val off-idle busy_pct)" \
		-v p="$(val on-idle probes_s)" -v r1="$(val on-wrk rps)" -v r0="$(val off-wrk rps)" 'BEGIN {
		if (p > 0)
			printf "per probe (idle, on minus off): control %.1f us, worker %.1f us\n", \
				(c1 - c0) / 100 * 1e6 / p, (b1 - b0) / 100 * 1e6 / p
		else
			print "per probe: no probes logged at the backends (CHECK_TYPE=tcp: see the counters)"
		if (r0 > 0)
			printf "throughput with checks: %.1f %% of without\n", r1 / r0 * 100
	}'
fi
echo
echo "Reproduce: sudo ./bench/health.sh $DUR $NEP"
