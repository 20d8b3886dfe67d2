/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: IPv4 input validation and output (routing, Ethernet, next-hop resolution).
 *
 * We are an end host, not a router: every accepted packet is addressed to one of our
 * interfaces and nothing is forwarded. Fragments go to reassembly (net_frag.c, after the
 * dataplane's hook has had a chance to hand them to the worker that reassembles their
 * datagram); what we send above the MTU leaves in fragments unless DF is set.
 */
#include <errno.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "net.h"
#include "net_priv.h"

/* Keep the first len bytes of m and free the rest (Ethernet padding, possibly in a trailing
 * segment of its own). len must not exceed the packet length. */
static void ip4_trim(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *seg = m;
	uint32_t left = len;
	uint16_t nb = 1;

	if (rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - len) == 0)
		return;
	while (left > seg->data_len) {
		left -= seg->data_len;
		seg = seg->next;
		nb++;
	}
	seg->data_len = left;
	if (seg->next != NULL) {
		rte_pktmbuf_free(seg->next);
		seg->next = NULL;
	}
	m->nb_segs = nb;
	m->pkt_len = len;
}

/* Options are ignored, but a malformed list hints at a crafted packet: refuse it. */
static bool ip4_options_ok(const uint8_t *opt, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		if (opt[i] == RTE_IPV4_HDR_OPT_EOL)
			return true;
		if (opt[i] == RTE_IPV4_HDR_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || opt[i + 1] > len - i)
			return false;
		i += opt[i + 1];
	}
	return true;
}

static bool ip4_bad_src(const struct net_stack *ns, uint32_t src)
{
	uint16_t i;

	if (net_ip_is_martian(src))
		return true;
	/* Our own address, or a directed broadcast of one of our subnets, is spoofed. */
	for (i = 0; i < ns->n_ifs; i++) {
		const struct net_if *ifp = &ns->ifs[i];

		if (src == ifp->addr || (ifp->mask != 0 && src == (ifp->addr | ~ifp->mask)))
			return true;
	}
	return false;
}

void ip4_input(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex)
{
	const struct rte_ipv4_hdr *ip;
	enum net_counter why;
	uint32_t hlen, tlen, plen;
	uint16_t frag;
	int local;

	ns->cnt[NET_CNT_ip_rx]++;
	if (rte_pktmbuf_data_len(m) < sizeof(*ip)) {
		why = NET_CNT_ip_drop_short;
		goto drop;
	}
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	if ((ip->version_ihl >> 4) != IPVERSION) {
		why = NET_CNT_ip_drop_version;
		goto drop;
	}
	hlen = rte_ipv4_hdr_len(ip);
	plen = rte_pktmbuf_pkt_len(m);
	if (hlen < sizeof(*ip) || hlen > plen) {
		why = NET_CNT_ip_drop_bad_ihl;
		goto drop;
	}
	if (hlen > rte_pktmbuf_data_len(m)) {
		why = NET_CNT_ip_drop_short; /* options not contiguous with the header */
		goto drop;
	}
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	     net_cksum(ip, hlen) != 0xffff)) {
		why = NET_CNT_ip_drop_bad_cksum;
		goto drop;
	}
	/* A datagram larger than the link's MTU is accepted: a kernel in front of us may have
	 * reassembled it (af_packet's fanout group defragments), and what we answer above the
	 * MTU leaves in fragments. */
	tlen = rte_be_to_cpu_16(ip->total_length);
	if (tlen < hlen || tlen > plen) {
		why = NET_CNT_ip_drop_bad_len;
		goto drop;
	}
	if (ip->time_to_live == 0) {
		why = NET_CNT_ip_drop_ttl;
		goto drop;
	}
	if (hlen > sizeof(*ip) && !ip4_options_ok((const uint8_t *)(ip + 1), hlen - sizeof(*ip))) {
		why = NET_CNT_ip_drop_options;
		goto drop;
	}
	if (ip4_bad_src(ns, ip->src_addr)) {
		why = NET_CNT_ip_drop_bad_src;
		goto drop;
	}
	local = net_if_by_addr(ns, ip->dst_addr);
	if (local < 0) {
		why = NET_CNT_ip_drop_not_for_us;
		goto drop;
	}
	if (tlen < plen)
		ip4_trim(m, tlen); /* Ethernet padding of short frames */

	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		if (ns->frag.tbl == NULL) {
			why = NET_CNT_ip_drop_fragment; /* no reassembly table */
			goto drop;
		}
		if (ns->hooks.frag_steer != NULL && ns->hooks.frag_steer(ns, m, local))
			return;
		net_frag_input(ns, m, local);
		return;
	}
	ip4_local_deliver(ns, m, local, hlen);
	return;
drop:
	net_drop(ns, m, why);
}

void ip4_local_deliver(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex, uint16_t hlen)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);

	if (ip->next_proto_id == IPPROTO_ICMP) {
		icmp_input(ns, m, ifindex, hlen);
		return;
	}
	if (ns->hooks.ip_deliver == NULL) {
		net_drop(ns, m, NET_CNT_ip_drop_proto);
		return;
	}
	ns->hooks.ip_deliver(ns, m, ifindex);
}

/* Send m (data at its IPv4 header) on ifindex to nexthop: fragmented above the MTU unless DF
 * says not to, else behind its Ethernet header to the neighbour. arp_slot: the caller's hint
 * of the next hop's ARP entry, or NULL. */
static int ip4_send(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex, uint32_t nexthop,
		    uint8_t *arp_slot)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	const struct net_if *ifp = &ns->ifs[ifindex];
	struct rte_ether_hdr *eth;

	if (ifp->mtu != 0 && rte_pktmbuf_pkt_len(m) > ifp->mtu) {
		/* Our TCP sets DF and never exceeds its MSS; DF asks us not to fragment. */
		if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) {
			net_drop(ns, m, NET_CNT_ip_drop_df_too_big);
			return -EMSGSIZE;
		}
		return ip4_frag_output(ns, m, ifindex, nexthop);
	}
	/* Every mbuf we send was received or allocated with headroom; lacking it is a bug of
	 * the caller, counted as a buffer we could not get. */
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (eth == NULL) {
		net_drop(ns, m, NET_CNT_tx_drop_no_mbuf);
		return -ENOBUFS;
	}
	rte_ether_addr_copy(&ifp->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	m->l2_len = sizeof(*eth);
	m->port = ifp->port_id;
	return arp_output(ns, m, ifindex, nexthop, arp_slot);
}

int ip4_output(struct net_stack *ns, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;
	uint32_t nexthop = 0;
	int ifindex;

	if (rte_pktmbuf_data_len(m) < sizeof(*ip)) {
		net_drop(ns, m, NET_CNT_ip_drop_short);
		return -EINVAL;
	}
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	ifindex = net_route(ns, ip->dst_addr, &nexthop);
	if (ifindex < 0 || nexthop == 0) {
		net_drop(ns, m, NET_CNT_ip_drop_no_route);
		return -ENETUNREACH;
	}
	return ip4_send(ns, m, (uint16_t)ifindex, nexthop, NULL);
}

int ip4_output_nh(struct net_stack *ns, struct rte_mbuf *m, struct net_nh *nh)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	const struct arp_entry *e = &ns->arp[nh->arp_slot];
	const struct net_if *ifp = &ns->ifs[nh->ifindex];
	struct rte_ether_hdr *eth;
	uint32_t nexthop = 0;
	int ifindex;

	/* The usual case in one piece: the route known, no fragmenting, the next hop's entry at
	 * its slot and fresh (arp_output would neither probe nor expire it), the headroom there.
	 * What ip4_send and arp_output would do, without their lookups and calls. */
	if (nh->known && rte_pktmbuf_data_len(m) >= sizeof(*ip) &&
	    e->ip == (nh->gw ? ifp->gateway : ip->dst_addr) && e->state == ARP_REACHABLE &&
	    ns->now - e->confirmed < ARP_REACHABLE_S * ns->hz &&
	    (ifp->mtu == 0 || rte_pktmbuf_pkt_len(m) <= ifp->mtu) &&
	    rte_pktmbuf_headroom(m) >= sizeof(*eth)) {
		eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
		rte_ether_addr_copy(&e->mac, &eth->dst_addr);
		rte_ether_addr_copy(&ifp->mac, &eth->src_addr);
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		m->l2_len = sizeof(*eth);
		m->port = ifp->port_id;
		net_tx(ns, nh->ifindex, m);
		return 0;
	}
	if (rte_pktmbuf_data_len(m) < sizeof(*ip)) {
		net_drop(ns, m, NET_CNT_ip_drop_short);
		return -EINVAL;
	}
	if (!nh->known) {
		/* no route is not remembered: every packet is dropped and counted alike */
		ifindex = net_route(ns, ip->dst_addr, &nexthop);
		if (ifindex < 0 || nexthop == 0) {
			net_drop(ns, m, NET_CNT_ip_drop_no_route);
			return -ENETUNREACH;
		}
		nh->known = 1;
		nh->ifindex = (uint8_t)ifindex;
		nh->gw = nexthop != ip->dst_addr;
	}
	nexthop = nh->gw ? ns->ifs[nh->ifindex].gateway : ip->dst_addr;
	return ip4_send(ns, m, nh->ifindex, nexthop, &nh->arp_slot);
}
