#!/usr/bin/env bash
# Install the Debian 12 packages sluice needs to build, test and benchmark.
# Idempotent: installs only what is missing, runs `apt-get update` at most once.
set -euo pipefail

PKGS=(
	build-essential pkg-config meson ninja-build
	dpdk dpdk-dev libdpdk-dev libnuma-dev libyaml-dev libgtest-dev libpcap-dev libbsd-dev
	python3 python3-pytest python3-scapy python3-websockets
	nginx-light haproxy wrk curl hping3 slowhttptest tcpdump ethtool iproute2 iptables
	socat arping iputils-ping clang clang-format libclang-rt-14-dev valgrind procps kmod git
	gnuplot-nox
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages (${missing[*]}); run as root: sudo $0" >&2
	exit 2
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# nginx-light and haproxy start services on install; the lab runs its own instances.
for svc in nginx haproxy; do
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now "$svc" >/dev/null 2>&1 || true
	fi
	service "$svc" stop >/dev/null 2>&1 || true
done
echo "deps: done"
