/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: Ethernet input, the entry point of every received frame.
 */
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "net.h"
#include "net_priv.h"

void net_rx(struct net_stack *ns, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth;
	const struct net_if *ifp;
	enum net_counter why;
	uint16_t type;
	int ifindex;

	ns->cnt[NET_CNT_rx_frames]++;
	ns->cnt[NET_CNT_rx_bytes] += rte_pktmbuf_pkt_len(m);

	/* The header must sit in the first segment: we never gather headers across segments. */
	if (rte_pktmbuf_data_len(m) < sizeof(*eth)) {
		why = NET_CNT_eth_drop_short;
		goto drop;
	}

	ifindex = net_if_by_port(ns, m->port);
	if (ifindex < 0) {
		why = NET_CNT_eth_drop_not_for_us;
		goto drop;
	}
	ifp = &ns->ifs[ifindex];

	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (!rte_is_broadcast_ether_addr(&eth->dst_addr) &&
	    !rte_is_same_ether_addr(&eth->dst_addr, &ifp->mac)) {
		why = NET_CNT_eth_drop_not_for_us;
		goto drop;
	}
	/* A group address as source is forged or looped; answering it would flood the segment. */
	if (rte_is_multicast_ether_addr(&eth->src_addr)) {
		why = NET_CNT_eth_drop_bad_src;
		goto drop;
	}

	type = rte_be_to_cpu_16(eth->ether_type);
	switch (type) {
	case RTE_ETHER_TYPE_IPV4:
		rte_pktmbuf_adj(m, sizeof(*eth));
		ip4_input(ns, m, ifindex);
		return;
	case RTE_ETHER_TYPE_ARP:
		arp_input(ns, m, ifindex);
		return;
	default:
		/* VLAN tags included: the ports are configured without VLANs. */
		why = NET_CNT_eth_drop_ethertype;
		goto drop;
	}
drop:
	net_drop(ns, m, why);
}
