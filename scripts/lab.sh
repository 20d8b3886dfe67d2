#!/usr/bin/env bash
# sluice network-namespace lab.
#
#   lab.sh up   [PREFIX]   create (or complete) the lab; idempotent
#   lab.sh down [PREFIX]   kill what runs in it and remove it; idempotent
#   lab.sh env  [PREFIX]   print the lab's names and addresses as shell variables
#
# LAB_DEVICE picks the DPDK driver sluice opens the appliance's veth with, printed as
# APP_DEVICE by `env`: af_packet (default) or af_xdp. af_xdp attaches an XDP program to <P>app
# (native XDP: veth has it) and reads its queue 0 only: DPDK 22.11's af_xdp counts combined
# channels, and a veth has none, so af_xdp here means `dataplane.workers: 1`.
#
# Every name derives from PREFIX (default "sl"), so several labs can exist side by side
# (the integration tests use a random prefix per run). Addresses are the same in every lab:
# each lab is its own set of namespaces.
#
#   <P>-cli  198.18.0.2  <P>c0 ──┐
#   <P>-be1  198.18.0.21 <P>b1 ──┤        <P>-lab
#   <P>-be2  198.18.0.22 <P>b2 ──┼── bridge <P>br ── <P>appb ═ <P>app ── sluice (af_packet)
#   <P>-be3  198.18.0.23 <P>b3 ──┘                            198.18.0.10 (owned by sluice,
#                                                              not configured in the kernel)
#
# sluice runs inside <P>-lab (`ip netns exec <P>-lab build/app/sluice -c ...`) with the
# device "net_af_packet0,iface=<P>app" (LAB_DEVICE=af_xdp: "net_af_xdp0,iface=<P>app").
set -euo pipefail

usage() {
	echo "usage: $0 up|down|env [PREFIX]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
CMD=$1
P=${2:-sl}

LAB_DEVICE=${LAB_DEVICE:-af_packet}
case "$LAB_DEVICE" in
af_packet | af_xdp) ;;
*)
	echo "lab: LAB_DEVICE must be af_packet or af_xdp, not '$LAB_DEVICE'" >&2
	exit 2
	;;
esac

# Longest derived interface name is "<P>appb": the kernel allows 15 characters.
if ! [[ $P =~ ^[a-z][a-z0-9]{0,10}$ ]]; then
	echo "lab: prefix '$P' must be 1-11 characters [a-z0-9], starting with a letter" >&2
	exit 2
fi

LAB_NS="$P-lab"
CLI_NS="$P-cli"
BE_NS=("$P-be1" "$P-be2" "$P-be3")
BR_IF="${P}br"
APP_IF="${P}app"
APP_PEER="${P}appb"
CLI_IF="${P}c0"
CLI_PEER="${P}c0b"
BE_IF=("${P}b1" "${P}b2" "${P}b3")
BE_PEER=("${P}b1b" "${P}b2b" "${P}b3b")
PREFIXLEN=24
APP_ADDR=198.18.0.10
CLI_ADDR=198.18.0.2
BE_ADDR=(198.18.0.21 198.18.0.22 198.18.0.23)

print_env() {
	cat <<EOF
LAB_PREFIX=$P
LAB_NS=$LAB_NS
CLI_NS=$CLI_NS
BE1_NS=${BE_NS[0]}
BE2_NS=${BE_NS[1]}
BE3_NS=${BE_NS[2]}
LAB_BR=$BR_IF
APP_IF=$APP_IF
APP_PEER=$APP_PEER
CLI_IF=$CLI_IF
CLI_PEER=$CLI_PEER
BE1_IF=${BE_IF[0]}
BE2_IF=${BE_IF[1]}
BE3_IF=${BE_IF[2]}
BE1_PEER=${BE_PEER[0]}
BE2_PEER=${BE_PEER[1]}
BE3_PEER=${BE_PEER[2]}
LAB_PREFIXLEN=$PREFIXLEN
APP_ADDR=$APP_ADDR
CLI_ADDR=$CLI_ADDR
BE1_ADDR=${BE_ADDR[0]}
BE2_ADDR=${BE_ADDR[1]}
BE3_ADDR=${BE_ADDR[2]}
LAB_DEVICE=$LAB_DEVICE
APP_DEVICE=net_${LAB_DEVICE}0,iface=$APP_IF
EOF
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "lab: '$CMD' needs root (network namespaces): sudo $0 $CMD $P" >&2
		exit 2
	fi
}

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

ns_exists() {
	[ -e "/run/netns/$1" ]
}

link_exists() {
	nsx "$1" ip link show dev "$2" >/dev/null 2>&1
}

ensure_ns() {
	local ns=$1
	ns_exists "$ns" || ip netns add "$ns"
	# New interfaces in this namespace start without IPv6: router solicitations and MLD
	# reports would otherwise reach sluice and count as drops.
	nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	nsx "$ns" ip link set lo up
}

# A kernel veth end as the lab wants it: no IPv6, no offloads (the kernel would otherwise hand
# af_packet frames with partial checksums, or coalesced), MTU 1500, up.
tune_if() {
	local ns=$1 ifname=$2
	nsx "$ns" sysctl -qw "net.ipv6.conf.$ifname.disable_ipv6=1"
	nsx "$ns" ethtool -K "$ifname" rx off tx off tso off gso off gro off >/dev/null 2>&1 ||
		nsx "$ns" ethtool -K "$ifname" tx off tso off gso off gro off >/dev/null 2>&1 || {
		echo "lab: warning: could not turn off offloads on $ifname" >&2
	}
	nsx "$ns" ip link set dev "$ifname" mtu 1500 up
}

# veth NAME in NS, its PEER in the lab namespace attached to the bridge.
ensure_veth() {
	local ns=$1 ifname=$2 peer=$3
	if ! link_exists "$ns" "$ifname" || ! link_exists "$LAB_NS" "$peer"; then
		nsx "$ns" ip link del "$ifname" >/dev/null 2>&1 || true
		nsx "$LAB_NS" ip link del "$peer" >/dev/null 2>&1 || true
		ip link add "$ifname" netns "$ns" type veth peer name "$peer" netns "$LAB_NS"
	fi
	tune_if "$ns" "$ifname"
	tune_if "$LAB_NS" "$peer"
	nsx "$LAB_NS" ip link set dev "$peer" master "$BR_IF"
}

ensure_addr() {
	local ns=$1 ifname=$2 addr=$3
	nsx "$ns" ip addr replace "$addr/$PREFIXLEN" dev "$ifname"
}

lab_up() {
	need_root
	ensure_ns "$LAB_NS"
	ensure_ns "$CLI_NS"
	for ns in "${BE_NS[@]}"; do
		ensure_ns "$ns"
	done

	if ! link_exists "$LAB_NS" "$BR_IF"; then
		# No STP: ports forward at once. No multicast snooping: nothing to learn here.
		nsx "$LAB_NS" ip link add "$BR_IF" type bridge stp_state 0 forward_delay 0 \
			mcast_snooping 0
	fi
	nsx "$LAB_NS" sysctl -qw "net.ipv6.conf.$BR_IF.disable_ipv6=1"
	# With br_netfilter loaded, bridged IPv4 goes through its header sanity checks, which
	# would drop the malformed frames the tests send before sluice can count them.
	if nsx "$LAB_NS" test -e /proc/sys/net/bridge/bridge-nf-call-iptables; then
		nsx "$LAB_NS" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
			net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0
	fi
	nsx "$LAB_NS" ip link set dev "$BR_IF" up

	# The appliance's end: both ends live in the lab namespace, sluice opens APP_IF with
	# af_packet or af_xdp. No address on it: sluice owns 198.18.0.10. One queue each way:
	# af_xdp reads queue 0 only, and XDP would hand what arrives on another queue to the
	# kernel (sluice refuses to start on an interface with more).
	if ! link_exists "$LAB_NS" "$APP_IF" || ! link_exists "$LAB_NS" "$APP_PEER"; then
		nsx "$LAB_NS" ip link del "$APP_IF" >/dev/null 2>&1 || true
		nsx "$LAB_NS" ip link del "$APP_PEER" >/dev/null 2>&1 || true
		nsx "$LAB_NS" ip link add "$APP_IF" numtxqueues 1 numrxqueues 1 type veth \
			peer name "$APP_PEER" numtxqueues 1 numrxqueues 1
	fi
	# An XDP program a killed sluice left on APP_IF would keep the next af_xdp start from
	# attaching its own.
	nsx "$LAB_NS" ip link set dev "$APP_IF" xdp off >/dev/null 2>&1 || true
	tune_if "$LAB_NS" "$APP_IF"
	tune_if "$LAB_NS" "$APP_PEER"
	nsx "$LAB_NS" ip link set dev "$APP_IF" promisc off
	nsx "$LAB_NS" ip link set dev "$APP_PEER" master "$BR_IF"

	ensure_veth "$CLI_NS" "$CLI_IF" "$CLI_PEER"
	ensure_addr "$CLI_NS" "$CLI_IF" "$CLI_ADDR"
	for i in 0 1 2; do
		ensure_veth "${BE_NS[$i]}" "${BE_IF[$i]}" "${BE_PEER[$i]}"
		ensure_addr "${BE_NS[$i]}" "${BE_IF[$i]}" "${BE_ADDR[$i]}"
	done
	echo "lab $P: up ($LAB_NS: $BR_IF, $APP_IF; $CLI_NS $CLI_ADDR; ${BE_NS[*]} ${BE_ADDR[*]})"
}

# Kill every process left in ns: TERM, a short wait, then KILL.
kill_ns_pids() {
	local ns=$1 pids i
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	for i in $(seq 1 30); do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
}

lab_down() {
	need_root
	local ns
	for ns in "$CLI_NS" "${BE_NS[@]}" "$LAB_NS"; do
		if ns_exists "$ns"; then
			kill_ns_pids "$ns"
			# Deleting the namespace deletes the veths in it, and so their peers.
			ip netns del "$ns" || true
		fi
	done
	echo "lab $P: down"
}

case "$CMD" in
up) lab_up ;;
down) lab_down ;;
env) print_env ;;
*) usage ;;
esac
