/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: ICMP. We answer echo requests and ignore everything else: errors about
 * our own TCP segments are not acted upon (RFC 5927 recommends caution with them anyway).
 */
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "net.h"
#include "net_priv.h"

#define ICMP_REPLY_TTL 64

/* Turn the echo request in m into the reply in place, keeping the payload (which may span
 * several segments) untouched and writing a fresh option-less IPv4 header. */
static void icmp_echo_reply(struct net_stack *ns, struct rte_mbuf *m, uint16_t hlen,
			    uint32_t icmp_len)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t src = ip->src_addr, dst = ip->dst_addr;
	uint8_t tos = ip->type_of_service;
	uint16_t id = ip->packet_id;
	struct rte_icmp_hdr *ic;
	uint16_t sum;

	/* Options of the request (record route and the like) are not echoed: drop them by
	 * moving the start of the packet up to just before the ICMP message. */
	if (hlen > sizeof(*ip))
		ip = (struct rte_ipv4_hdr *)rte_pktmbuf_adj(m, hlen - sizeof(*ip));

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = tos;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + icmp_len);
	ip->packet_id = id;
	ip->fragment_offset = 0;
	ip->time_to_live = ICMP_REPLY_TTL;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = dst;
	ip->dst_addr = src;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	ic = (struct rte_icmp_hdr *)(ip + 1);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_code = 0;
	ic->icmp_cksum = 0;
	/* Cannot fail: the length was checked against the packet by the caller. */
	net_cksum_mbuf(m, sizeof(*ip), icmp_len, &sum);
	ic->icmp_cksum = (uint16_t)~sum;

	net_mbuf_reset_flags(m);
	ns->cnt[NET_CNT_icmp_echo_replies]++;
	ip4_output(ns, m); /* routed like any packet of ours; a drop there is counted there */
}

void icmp_input(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex, uint16_t hlen)
{
	const struct rte_icmp_hdr *ic;
	enum net_counter why;
	uint32_t len;
	uint16_t sum;

	ns->cnt[NET_CNT_icmp_rx]++;
	len = rte_pktmbuf_pkt_len(m) - hlen; /* ip4_input trimmed m to the IPv4 total length */
	if (len < sizeof(*ic) || hlen + sizeof(*ic) > rte_pktmbuf_data_len(m)) {
		why = NET_CNT_icmp_drop_short;
		goto drop;
	}
	/* In software: NICs validate TCP and UDP checksums, not ICMP ones. */
	if (net_cksum_mbuf(m, hlen, len, &sum) != 0 || sum != 0xffff) {
		why = NET_CNT_icmp_drop_bad_cksum;
		goto drop;
	}
	ic = rte_pktmbuf_mtod_offset(m, const struct rte_icmp_hdr *, hlen);
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		why = NET_CNT_icmp_drop_type;
		goto drop;
	}
	icmp_echo_reply(ns, m, hlen, len);
	return;
drop:
	net_drop(ns, m, why);
}
