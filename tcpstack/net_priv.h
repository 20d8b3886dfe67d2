/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: declarations shared by the net_*.c files only (not a public API).
 *
 * Everything here runs on the worker owning the struct net_stack.
 */
#ifndef SLUICE_NET_PRIV_H
#define SLUICE_NET_PRIV_H

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "net.h"

/* How often net_timer() walks the ARP table. Retries and ageing are at least this late. */
#define NET_ARP_SCAN_MS 100

/* Free m and count why: every drop goes through here so that it increments exactly one counter. */
static inline void net_drop(struct net_stack *ns, struct rte_mbuf *m, enum net_counter why)
{
	ns->cnt[why]++;
	rte_pktmbuf_free(m);
}

static inline uint64_t net_ms_to_tsc(const struct net_stack *ns, uint64_t ms)
{
	return ns->hz * ms / 1000;
}

/* Drop offload requests and rx status left in a received mbuf we turn into a frame to send,
 * keeping the bits that describe the buffer itself. */
static inline void net_mbuf_reset_flags(struct rte_mbuf *m)
{
	m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
	m->tx_offload = 0;
}

/* 0.0.0.0/8, 127.0.0.0/8, multicast, class E and limited broadcast: never a valid neighbour
 * or source address. ip in network order. */
static inline bool net_ip_is_martian(uint32_t ip)
{
	uint32_t h = rte_be_to_cpu_32(ip);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 0xe;
}

/* Index of the first interface on DPDK port port_id, or -1. */
int net_if_by_port(const struct net_stack *ns, uint16_t port_id);

/* m as one segment, for a port that cannot transmit a chain (af_xdp in DPDK 22.11 sends
 * pkt_len bytes from the first segment's buffer: the head's headers followed by whatever lies
 * after them). In place when the head is ours alone and has the room (a fresh header mbuf
 * followed by payload references, the usual case), else copied into a new buffer. Returns
 * NULL when m was dropped (counted). */
struct rte_mbuf *net_tx_linearize(struct net_stack *ns, struct rte_mbuf *m);

/* Hand a complete frame to hooks.tx on interface ifindex and count it. Takes ownership. */
static inline void net_tx(struct net_stack *ns, uint16_t ifindex, struct rte_mbuf *m)
{
	if (m->nb_segs > 1 && !(ns->ifs[ifindex].tx_offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)) {
		m = net_tx_linearize(ns, m);
		if (m == NULL)
			return;
	}
	ns->cnt[NET_CNT_tx_frames]++;
	ns->cnt[NET_CNT_tx_bytes] += rte_pktmbuf_pkt_len(m);
	ns->hooks.tx(ns, ns->ifs[ifindex].port_id, m);
}

/* Input handlers. Each takes ownership of m. arp_input gets the whole frame (the reply reuses
 * the Ethernet header); ip4_input gets m with data at the IPv4 header; icmp_input gets a
 * validated IPv4 packet (padding trimmed) whose header is hlen bytes long. */
void arp_input(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex);
void ip4_input(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex);
void icmp_input(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex, uint16_t hlen);

/* Deliver a complete datagram addressed to interface ifindex (validated, trimmed, not a
 * fragment, header hlen bytes and contiguous): ICMP here, anything else to hooks.ip_deliver.
 * Takes ownership of m. */
void ip4_local_deliver(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex, uint16_t hlen);

/* Send m (data at its IPv4 header, larger than the MTU of ifindex, DF clear) as fragments of
 * at most that MTU, each a fresh single-segment mbuf, to nexthop. Takes ownership of m;
 * returns 0 or a negative errno when it was dropped (counted). */
int ip4_frag_output(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex, uint32_t nexthop);

/* Reassembly upkeep, from net_timer(): expire old datagrams, free the death row. */
void net_frag_timer(struct net_stack *ns);
/* Release the reassembly table and every mbuf it holds. */
void net_frag_fini(struct net_stack *ns);

/* Send m (data at a filled Ethernet header whose destination is left to fill) to nexthop on
 * ifindex: now if the neighbour is known, else queued while ARP resolves. slot: where the
 * caller last found nexthop's entry (checked, and updated when it moved), or NULL. Takes
 * ownership; returns 0 or a negative errno when m was dropped (counted). */
int arp_output(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex, uint32_t nexthop,
	       uint8_t *slot);

/* ARP retries and ageing, called by net_timer() when a scan is due. */
void arp_timer(struct net_stack *ns);

#endif /* SLUICE_NET_PRIV_H */
