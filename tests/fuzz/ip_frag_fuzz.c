/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for IPv4 reassembly: each input is a sequence of fragments (and clock
 * steps) fed to a fresh stack with a small reassembly table, through net_rx as a port would
 * deliver them. Beyond "no crash" (ASan, UBSan), it checks the accounting the budget relies
 * on: after every loop (net_timer) the mbufs out of the pool are exactly those the table says
 * it holds, never more than its budget; after the last fragment and the timeout, none; and
 * after net_stack_fini the pool is full again.
 *
 * Input: records of 8 bytes of header and a payload.
 *   op     bit 0-1: 0 fragment, 1 clock step, 2 fragment in two segments, 3 raw IPv4 bytes
 *   id     datagram id (few values, so fragments meet)
 *   fo     2 bytes: flags and offset as on the wire (the offset is masked to stay small)
 *   proto  bit 0: ICMP (else UDP); bit 1: a first fragment carrying an echo request header
 *   len    2 bytes: payload length (bounded), taken from the input that follows
 *   split  where the two-segment variant cuts the frame
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "net.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

#define POOL_SIZE 1023
#define MAX_PAYLOAD 1480
#define HZ 1000000000ull
/* 198.18.0.d in host order (RTE_IPV4 shifts a signed int past its range for 198) */
#define LAB_IP(d) ((198u << 24) | (18u << 16) | (uint32_t)(d))

static struct rte_mempool *pool;
static const struct rte_ether_addr our_mac = { { 0x02, 0, 0, 0, 0, 0x0a } };
static const struct rte_ether_addr peer_mac = { { 0x02, 0, 0, 0, 0, 0x14 } };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *args[] = { "ip_frag_fuzz", "--no-huge",	"-m",	"128",
			 "--no-pci",	 "--no-shconf", prefix, "--log-level=lib.*:error",
			 "-l",		 "0",		NULL };

	snprintf(prefix, sizeof(prefix), "--file-prefix=sluice-fuzz-%d", (int)getpid());
	if (rte_eal_init(10, args) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("frag_fuzz", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	return 0;
}

static void hook_tx(struct net_stack *ns, uint16_t port, struct rte_mbuf *m)
{
	CHECK(rte_pktmbuf_pkt_len(m) <= RTE_ETHER_HDR_LEN + ns->ifs[0].mtu);
	rte_pktmbuf_free(m);
}

static void hook_deliver(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);

	/* A delivered datagram is whole and consistent with its header. */
	CHECK((ip->fragment_offset &
	       rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) == 0);
	CHECK(rte_be_to_cpu_16(ip->total_length) == rte_pktmbuf_pkt_len(m));
	CHECK(rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xffff);
	rte_pktmbuf_free(m);
}

static struct rte_mbuf *frame(const uint8_t *ipb, size_t iplen, size_t split)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *m2;
	size_t flen = RTE_ETHER_HDR_LEN + iplen, first;
	uint8_t buf[RTE_ETHER_HDR_LEN + 60 + MAX_PAYLOAD];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;

	if (m == NULL)
		return NULL;
	rte_ether_addr_copy(&our_mac, &eth->dst_addr);
	rte_ether_addr_copy(&peer_mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memcpy(buf + RTE_ETHER_HDR_LEN, ipb, iplen);
	first = split == 0 || split >= flen ? flen : split;
	memcpy(rte_pktmbuf_append(m, (uint16_t)first), buf, first);
	if (first < flen) {
		m2 = rte_pktmbuf_alloc(pool);
		if (m2 == NULL) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		memcpy(rte_pktmbuf_append(m2, (uint16_t)(flen - first)), buf + first, flen - first);
		CHECK(rte_pktmbuf_chain(m, m2) == 0);
	}
	m->port = 0;
	return m;
}

/* Mbufs out of the pool must be those the table holds and those waiting for ARP (a raw
 * packet from an unknown neighbour is answered that way); the death row is empty after
 * net_timer. */
static void check_accounting(const struct net_stack *ns)
{
	unsigned int pending = 0;

	for (uint16_t i = 0; i < ns->n_pending; i++)
		pending += ns->pending[i].m->nb_segs;
	CHECK(ns->frag.mbufs <= ns->frag.max_mbufs);
	CHECK(rte_mempool_in_use_count(pool) == ns->frag.mbufs + pending);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct net_stack ns;
	const struct net_hooks hooks = { .tx = hook_tx, .ip_deliver = hook_deliver };
	const struct net_frag_conf fc = { .max_datagrams = 4, .max_mbufs = 24, .timeout_ms = 50 };
	const struct net_if ifc = {
		.port_id = 0,
		.mtu = 1500,
		.mac = our_mac,
		.addr = rte_cpu_to_be_32(LAB_IP(10)),
		.mask = rte_cpu_to_be_32(0xffffff00),
	};
	size_t pos = 0;

	net_stack_init(&ns, pool, &hooks, HZ);
	ns.now = 1000 * HZ;
	CHECK(net_stack_add_if(&ns, &ifc) == 0);
	CHECK(net_frag_init(&ns, &fc, SOCKET_ID_ANY) == 0);
	arp_learn(&ns, rte_cpu_to_be_32(LAB_IP(20)), &peer_mac, 0);

	while (pos + 8 <= size) {
		const uint8_t *h = data + pos;
		uint8_t op = h[0] & 3;
		uint16_t fo = (uint16_t)(h[2] << 8 | h[3]);
		size_t len = (size_t)(h[5] << 8 | h[6]) % (MAX_PAYLOAD + 1);
		uint8_t ipb[60 + MAX_PAYLOAD];
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)ipb;
		struct rte_mbuf *m;

		pos += 8;
		if (op == 1) {
			ns.now += (uint64_t)h[1] * HZ / 100; /* up to 2.55 s */
			net_timer(&ns);
			check_accounting(&ns);
			continue;
		}
		if (len > size - pos)
			len = size - pos;
		if (op == 3) {
			/* Raw bytes as an IPv4 packet: ip4_input's checks before reassembly. */
			m = frame(data + pos, len, 0);
			pos += len;
			if (m != NULL)
				net_rx(&ns, m);
			continue;
		}
		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + len));
		ip->packet_id = rte_cpu_to_be_16(h[1] & 7);
		/* Keep offsets within a few kilobytes so that pieces can meet, sometimes far. */
		if ((fo & 0x1fff) > 0x400 && (fo & 0x1fff) != 0x1fff)
			fo = (uint16_t)((fo & 0xe000) | (fo & 0x3ff));
		ip->fragment_offset = rte_cpu_to_be_16(fo & 0x7fff); /* evil bit clear */
		ip->time_to_live = 64;
		ip->next_proto_id = (h[4] & 1) ? IPPROTO_ICMP : IPPROTO_UDP;
		ip->src_addr = rte_cpu_to_be_32(LAB_IP(20));
		ip->dst_addr = ifc.addr;
		memcpy(ip + 1, data + pos, len);
		pos += len;
		if ((h[4] & 2) && len >= 8 && (fo & 0x1fff) == 0) {
			uint8_t *ic = (uint8_t *)(ip + 1);

			ip->next_proto_id = IPPROTO_ICMP;
			ic[0] = 8; /* echo request; the checksum may or may not match */
			ic[1] = 0;
		}
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		m = frame(ipb, sizeof(*ip) + len, op == 2 ? h[7] : 0);
		if (m != NULL)
			net_rx(&ns, m);
		CHECK(ns.frag.mbufs <= ns.frag.max_mbufs);
	}
	net_timer(&ns);
	check_accounting(&ns);
	ns.now += 2 * (uint64_t)fc.timeout_ms * HZ / 1000;
	net_timer(&ns);
	CHECK(ns.frag.mbufs == 0);
	check_accounting(&ns);
	net_stack_fini(&ns);
	CHECK(rte_mempool_avail_count(pool) == POOL_SIZE);
	return 0;
}
