#!/usr/bin/env bash
# sluice quickstart: install what is missing, build, bring up the network-namespace lab, run
# the appliance in it, send it real traffic and show its counters.
#
#   sudo ./scripts/quickstart.sh          set up and start (again: restarts it)
#   sudo ./scripts/quickstart.sh down     stop sluice and remove the lab
#
# SLUICE_LAB_PREFIX picks another lab prefix (default "sl", see scripts/lab.sh).
# SLUICE_LAB_DEVICE=af_xdp runs sluice on DPDK's af_xdp instead of af_packet.
# Run it again at any time: it stops the sluice and the backends of the previous run first.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

P=${SLUICE_LAB_PREFIX:-sl}
export LAB_DEVICE=${SLUICE_LAB_DEVICE:-af_packet}
RUN=/run/sluice
CONFDIR=/run/sluice-$P
CONF=$CONFDIR/lab.yaml
LOG=$RUN/sluice.log
PIDFILE=$RUN/sluice.pid
SOCK=$RUN/sluice.sock
SLUICE=$ROOT/build/app/sluice
SLUICECTL=$ROOT/build/app/sluicectl

step() { printf '==> %s\n' "$*"; }

die() {
	printf 'quickstart: %s\n' "$*" >&2
	exit 1
}

show_log() {
	if [ -s "$LOG" ]; then
		echo "--- last lines of $LOG ---" >&2
		tail -n 20 "$LOG" >&2
		echo "---" >&2
	fi
}

running_pid() {
	local pid
	[ -f "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop_sluice() {
	local pid i
	pid=$(running_pid) || {
		rm -f "$PIDFILE"
		return 0
	}
	step "stopping sluice (pid $pid, SIGTERM)"
	kill -TERM "$pid"
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "quickstart: sluice did not stop within 10 s; sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	rm -f "$PIDFILE"
	# EAL's runtime files for this process (sluice's --file-prefix is sluice-PID): several
	# MiB of tmpfs each, left behind by EAL.
	kill -0 "$pid" 2>/dev/null || rm -rf "/var/run/dpdk/sluice-$pid"
}

# The nginx backends of an earlier run (each writes CONFDIR/beN/nginx.pid): stopped, so that
# this run can bind their addresses again. Whatever still holds a backend's port after that
# (an nginx whose pid file is gone) is stopped with everything else in that namespace, which
# belongs to this lab.
stop_backends() {
	local i pid ns_var addr_var
	for i in 1 2 3; do
		pid=$(cat "$CONFDIR/be$i/nginx.pid" 2>/dev/null || true)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			step "stopping nginx be$i (pid $pid)"
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$CONFDIR/be$i/nginx.pid"
	done
	[ -n "${BE1_NS:-}" ] || return 0
	for i in 1 2 3; do
		ns_var=BE${i}_NS addr_var=BE${i}_ADDR
		[ -e "/run/netns/${!ns_var}" ] || continue
		if ip netns exec "${!ns_var}" ss -Hltn "src ${!addr_var}:8080" 2>/dev/null | grep -q .; then
			step "something still listens on ${!addr_var}:8080 in ${!ns_var}: stopping it"
			# shellcheck disable=SC2046
			kill -TERM $(ip netns pids "${!ns_var}") 2>/dev/null || true
			sleep 0.5
			# shellcheck disable=SC2046
			kill -KILL $(ip netns pids "${!ns_var}") 2>/dev/null || true
		fi
	done
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, af_packet): sudo $0 $*"

if [ "${1:-}" = "down" ]; then
	stop_sluice
	eval "$("$ROOT/scripts/lab.sh" env "$P")"
	stop_backends
	step "removing the lab ($P)"
	"$ROOT/scripts/lab.sh" down "$P"
	rm -rf "$CONFDIR"
	echo "done"
	exit 0
elif [ $# -gt 0 ]; then
	echo "usage: $0 [down]" >&2
	exit 2
fi

step "installing dependencies (scripts/deps.sh)"
"$ROOT/scripts/deps.sh" || die "installing dependencies failed"

step "building (meson, build/)"
if [ ! -f build/build.ninja ]; then
	if [ -d build ]; then
		meson setup --wipe build >/dev/null || die "meson setup failed"
	else
		meson setup build >/dev/null || die "meson setup failed"
	fi
fi
meson compile -C build >/dev/null || {
	meson compile -C build 2>&1 | tail -n 30 >&2 || true
	die "build failed"
}
[ -x "$SLUICE" ] && [ -x "$SLUICECTL" ] || die "build produced no $SLUICE / $SLUICECTL"

stop_sluice
eval "$("$ROOT/scripts/lab.sh" env "$P")"
stop_backends

step "bringing up the lab (scripts/lab.sh up $P)"
"$ROOT/scripts/lab.sh" up "$P" || die "lab.sh up failed"

step "writing $CONF"
mkdir -p "$CONFDIR" "$RUN"
sed -e "s|\"net_af_packet0,iface=slapp\"|\"$APP_DEVICE\"|" -e "s|socket: .*|socket: $SOCK|" \
	"$ROOT/configs/lab.yaml" >"$CONF"
"$SLUICE" --check -c "$CONF" || die "the generated configuration is invalid (see above)"

step "starting nginx backends on $BE1_ADDR, $BE2_ADDR, $BE3_ADDR (port 8080)"
for i in 1 2 3; do
	ns_var=BE${i}_NS addr_var=BE${i}_ADDR
	dir=$CONFDIR/be$i
	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<NGINX
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
	access_log $dir/access.log;
	client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
	uwsgi_temp_path $dir; scgi_temp_path $dir;
	server {
		listen ${!addr_var}:8080;
		location / { default_type text/plain; return 200 "backend $i answered \$request_uri\n"; }
	}
}
NGINX
	ip netns exec "${!ns_var}" nginx -c "$dir/nginx.conf" || die "nginx in ${!ns_var} failed"
done

step "starting sluice in namespace $LAB_NS (log: $LOG)"
rm -f "$SOCK"
nohup ip netns exec "$LAB_NS" "$SLUICE" -c "$CONF" </dev/null >"$LOG" 2>&1 &
echo $! >"$PIDFILE"
pid=$(cat "$PIDFILE")

step "waiting for the control socket $SOCK"
for i in $(seq 1 150); do
	[ -S "$SOCK" ] && "$SLUICECTL" -s "$SOCK" show info >/dev/null 2>&1 && break
	if ! kill -0 "$pid" 2>/dev/null; then
		rc=0
		wait "$pid" || rc=$?
		rm -f "$PIDFILE"
		show_log
		die "sluice exited with status $rc before opening its control socket"
	fi
	sleep 0.2
done
if ! "$SLUICECTL" -s "$SOCK" show info >/dev/null 2>&1; then
	show_log
	die "no answer on $SOCK after 30 s (sluice is still running: pid $pid)"
fi

step "ping -c 3 $APP_ADDR from the client namespace $CLI_NS"
if ! ip netns exec "$CLI_NS" ping -c 3 -i 0.2 -W 1 "$APP_ADDR"; then
	show_log
	die "sluice did not answer ping"
fi

step "HTTP from the client namespace: a direct response, then 6 requests through the proxy"
ip netns exec "$CLI_NS" curl -sS --max-time 5 "http://$APP_ADDR/hello" || die "curl /hello failed"
for i in 1 2 3 4 5 6; do
	ip netns exec "$CLI_NS" curl -sS --max-time 5 "http://$APP_ADDR/demo/$i" ||
		die "curl through the proxy failed"
done

step "sluicectl show info"
"$SLUICECTL" -s "$SOCK" show info || die "show info failed"

step "sluicectl show ports (port lines and non-zero totals)"
ports=$("$SLUICECTL" -s "$SOCK" show ports) || die "show ports failed"
grep -E '^port\.' <<<"$ports" || true
grep -E '^total\.' <<<"$ports" | grep -v ': 0$' || true
step "sluicectl show tcp (non-zero totals)"
"$SLUICECTL" -s "$SOCK" show tcp | grep -E '^(total|tcp)\.' | grep -v ': 0$' || true
echo "(every counter, per worker too: sudo $SLUICECTL show ports)"

cat <<EOF

sluice is running (pid $pid) in namespace $LAB_NS, serving $APP_ADDR on $APP_IF.
  log:        $LOG
  control:    sudo $SLUICECTL show info      (socket $SOCK)
  client:     sudo ip netns exec $CLI_NS ping $APP_ADDR
              sudo ip netns exec $CLI_NS curl http://$APP_ADDR/hello      (answered by sluice)
              sudo ip netns exec $CLI_NS curl http://$APP_ADDR/anything   (proxied to nginx)
Stop it and remove the lab:
  sudo ./scripts/quickstart.sh down
EOF
