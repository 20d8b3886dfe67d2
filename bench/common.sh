# SPDX-License-Identifier: BSD-3-Clause
# Shared by the bench/*.sh scripts (sourced, not run). The caller sets BENCH_NAME (for
# messages), WORK (its scratch directory), P (its lab prefix), ROOT, BENCH_PIDS (names of the
# variables holding the PIDs to stop at exit) and WHO (what pinned() is checking), then calls
# bench_traps.

stop_pid() { # PID: TERM, up to 5 s, then KILL
	local pid=$1
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# Stop every process named by BENCH_PIDS, take the lab down, keep the logs when
# BENCH_LOG_DIR is set, remove WORK.
bench_cleanup() {
	set +e
	for var in $BENCH_PIDS; do
		stop_pid "${!var}"
	done
	"$ROOT/scripts/lab.sh" down "$P" >/dev/null 2>&1
	if [ -n "${BENCH_LOG_DIR:-}" ]; then
		mkdir -p "$BENCH_LOG_DIR" && cp -a "$WORK/." "$BENCH_LOG_DIR/"
	fi
	rm -rf "$WORK"
}

bench_traps() {
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

die() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

pinned() { # PID CPU: refuse to measure a process that is not where the table says it is
	local cpus
	cpus=$(awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$1/status")
	[ "$cpus" = "$2" ] || die "$WHO runs on CPUs $cpus, not $2"
}

# Which build a benchmark ran, for its report: "build DIR (buildtype T, optimization O, lto L)"
# from the build directory's meson-info (docs/BENCHMARKS.md, "The release build").
bench_build() { # BUILD_DIR
	local info=$1/meson-info/intro-buildoptions.json
	[ -r "$info" ] || { echo "build $1 (not a meson build directory)"; return 0; }
	/usr/bin/python3 - "$1" "$info" <<'PY'
import json, sys
opts = {o["name"]: o["value"] for o in json.load(open(sys.argv[2]))}
print("build %s (buildtype %s, optimization %s, lto %s)" % (sys.argv[1], opts.get("buildtype"),
      opts.get("optimization"), str(opts.get("b_lto")).lower()))
PY
}

# The lines every nginx of the benchmarks has in its http block: no access log, temporary
# files under DIR (nginx runs unprivileged there), keep-alive connections that outlive a run.
nginx_http_common() { # DIR
	printf '\taccess_log off;\n'
	for t in client_body proxy fastcgi uwsgi scgi; do
		printf '\t%s_temp_path %s/%s;\n' "$t" "$1" "${t#client_}"
	done
	printf '\tkeepalive_requests 100000000;\n\tkeepalive_timeout 300s;\n'
}

# sluice's dataplane section in every benchmark: one worker lcore on CPU 1 (control on CPU 0),
# busy polling, the lab's port with a large af_packet ring. Needs the lab's variables
# (scripts/lab.sh env).
sluice_dataplane() { # MBUFS MAX_CONNECTIONS
	cat <<DP
dataplane:
  eal: ["--no-huge", "-m", "1024", "--no-pci", "--lcores=0@0,1@1"]
  workers: 1
  mbufs: $1
  max_connections: $2
  idle_sleep_us: 0
  ports:
    - name: lan
      device: "$APP_DEVICE,framecnt=4096"
      address: $APP_ADDR/$LAB_PREFIXLEN
DP
}

# A lab of the benchmark's own: a prefix no other lab on this machine uses (TAG and 4 digits),
# WORK (/tmp/sluice-bench-NAME-*, readable by nginx's www-data workers), the lab's variables
# (scripts/lab.sh env), the exit traps, and the lab up. Call at top level after setting
# BENCH_NAME and BENCH_PIDS.
bench_lab_up() { # TAG NAME
	for _ in $(seq 1 50); do
		P=$1$((RANDOM % 9000 + 1000))
		[ -e "/run/netns/$P-lab" ] || break
	done
	WORK=$(mktemp -d "/tmp/sluice-bench-$2-XXXXXX")
	chmod 755 "$WORK"
	eval "$("$ROOT/scripts/lab.sh" env "$P")"
	bench_traps
	"$ROOT/scripts/lab.sh" up "$P" >/dev/null
}

wait_listen() { # NS ADDR PORT PID WHAT: until PID listens on ADDR:PORT in NS, at most 10 s
	for _ in $(seq 1 100); do
		kill -0 "$4" 2>/dev/null ||
			die "$5 exited at start: $(tail -3 "$WORK"/*/error.log 2>/dev/null)"
		[ -n "$(ip netns exec "$1" ss -Hltn "src $2:$3")" ] && return 0
		sleep 0.1
	done
	die "$5 not listening on $2:$3 after 10 s"
}

# One nginx worker on CPU 0 in BE1_NS answering "hello\n" on PORT; sets BACKEND_PID.
bench_hello_backend() { # PORT
	mkdir -p "$WORK/be"
	cat >"$WORK/be/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/be/nginx.pid;
error_log $WORK/be/error.log;
events { worker_connections 4096; }
http {
$(nginx_http_common "$WORK/be")
	server {
		listen $BE1_ADDR:$1 backlog=4096;
		location / { default_type text/plain; return 200 "hello\n"; }
	}
}
EOF
	ip netns exec "$BE1_NS" taskset -c 0 nginx -e "$WORK/be/error.log" -p "$WORK/be" \
		-c "$WORK/be/nginx.conf" </dev/null >"$WORK/be/stdout.log" 2>&1 &
	BACKEND_PID=$!
	wait_listen "$BE1_NS" "$BE1_ADDR" "$1" "$BACKEND_PID" "backend nginx"
}
