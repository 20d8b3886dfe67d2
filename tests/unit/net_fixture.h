// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: fixture shared by the suites of tcpstack's Ethernet/ARP/IPv4/ICMP layer
// (net_eth_arp_test.cc, net_ip4_icmp_test.cc): frames are built byte by byte, fed to net_rx()
// in real mbufs, and what the stack sends is captured from its tx hook. Every test ends with
// every mbuf back in the pool.
//
// Everything here is in namespace nett and inline: googletest requires every test of suite
// NetTest, whichever file it is in, to use one and the same fixture class.
#ifndef SLUICE_NET_FIXTURE_H
#define SLUICE_NET_FIXTURE_H

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

extern "C" {
#include "net.h"
}

namespace nett
{

using Bytes = std::vector<uint8_t>;

inline constexpr uint64_t kHz = 1000000000ull; // fake TSC at 1 GHz
inline constexpr unsigned kPoolSize = 1023;
inline constexpr size_t kEth = 14;

inline uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return rte_cpu_to_be_32(RTE_IPV4(a, b, c, d));
}

inline const uint32_t kOurIp = ip4(198, 18, 0, 10);
inline const uint32_t kPeerIp = ip4(198, 18, 0, 20);
inline const uint32_t kGwIp = ip4(198, 18, 0, 1);
inline const uint32_t kMask = ip4(255, 255, 255, 0);
inline const rte_ether_addr kOurMac = { { 0x02, 0, 0, 0, 0, 0x0a } };
inline const rte_ether_addr kPeerMac = { { 0x02, 0, 0, 0, 0, 0x14 } };
inline const rte_ether_addr kPeerMac2 = { { 0x02, 0, 0, 0, 0, 0x15 } };
inline const rte_ether_addr kGwMac = { { 0x02, 0, 0, 0, 0, 0x01 } };
inline const rte_ether_addr kBcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
inline const rte_ether_addr kZeroMac = { { 0, 0, 0, 0, 0, 0 } };

// ---- byte builders, independent of the code under test ----

inline void put8(Bytes &b, uint8_t v)
{
	b.push_back(v);
}

inline void put16(Bytes &b, uint16_t v)
{
	b.push_back(v >> 8);
	b.push_back(v & 0xff);
}

inline void put_ip(Bytes &b, uint32_t net_order)
{
	const uint8_t *p = reinterpret_cast<const uint8_t *>(&net_order);
	b.insert(b.end(), p, p + 4);
}

inline void put_mac(Bytes &b, const rte_ether_addr &m)
{
	b.insert(b.end(), m.addr_bytes, m.addr_bytes + 6);
}

inline uint16_t get16(const Bytes &b, size_t off)
{
	return static_cast<uint16_t>(b.at(off) << 8 | b.at(off + 1));
}

inline uint32_t get_ip(const Bytes &b, size_t off)
{
	uint32_t v;
	(void)b.at(off + 3);
	memcpy(&v, b.data() + off, 4);
	return v;
}

inline rte_ether_addr get_mac(const Bytes &b, size_t off)
{
	rte_ether_addr m;
	(void)b.at(off + 5);
	memcpy(m.addr_bytes, b.data() + off, 6);
	return m;
}

// RFC 1071 checksum, written out so that it does not share code with the stack.
inline uint16_t ref_cksum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += static_cast<uint32_t>(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return static_cast<uint16_t>(~s);
}

inline void set_cksum(Bytes &b, size_t start, size_t len, size_t field)
{
	b[field] = b[field + 1] = 0;
	uint16_t c = ref_cksum(b.data() + start, len);
	b[field] = c >> 8;
	b[field + 1] = c & 0xff;
}

inline bool mac_eq(const rte_ether_addr &a, const rte_ether_addr &b)
{
	return memcmp(a.addr_bytes, b.addr_bytes, 6) == 0;
}

inline Bytes eth_hdr(const rte_ether_addr &dst, const rte_ether_addr &src, uint16_t type)
{
	Bytes b;
	put_mac(b, dst);
	put_mac(b, src);
	put16(b, type);
	return b;
}

struct ArpSpec {
	uint16_t op = 1;
	rte_ether_addr sha = kPeerMac;
	uint32_t sip = kPeerIp;
	rte_ether_addr tha = kZeroMac;
	uint32_t tip = kOurIp;
	rte_ether_addr eth_dst = kBcast;
	uint16_t hrd = 1, pro = 0x0800;
	uint8_t hln = 6, pln = 4;
	size_t pad_to = 60; // Ethernet minimum, as a NIC delivers it
};

inline Bytes arp_frame(const ArpSpec &a)
{
	Bytes b = eth_hdr(a.eth_dst, a.sha, 0x0806);
	put16(b, a.hrd);
	put16(b, a.pro);
	put8(b, a.hln);
	put8(b, a.pln);
	put16(b, a.op);
	put_mac(b, a.sha);
	put_ip(b, a.sip);
	put_mac(b, a.tha);
	put_ip(b, a.tip);
	while (b.size() < a.pad_to)
		b.push_back(0);
	return b;
}

struct IpSpec {
	uint8_t version = 4;
	int ihl = -1;  // -1: from the options
	int tlen = -1; // -1: header + payload
	uint8_t tos = 0;
	uint16_t id = 0x1234;
	uint16_t frag = 0;
	uint8_t ttl = 64;
	uint8_t proto = 17;
	uint32_t src = kPeerIp;
	uint32_t dst = kOurIp;
	Bytes options;
	bool bad_cksum = false;
};

inline Bytes ip_packet(const IpSpec &s, const Bytes &payload)
{
	Bytes b;
	size_t hlen = 20 + s.options.size();
	int ihl = s.ihl >= 0 ? s.ihl : static_cast<int>(hlen / 4);
	put8(b, static_cast<uint8_t>(s.version << 4 | (ihl & 0xf)));
	put8(b, s.tos);
	put16(b, static_cast<uint16_t>(s.tlen >= 0 ? s.tlen : hlen + payload.size()));
	put16(b, s.id);
	put16(b, s.frag);
	put8(b, s.ttl);
	put8(b, s.proto);
	put16(b, 0);
	put_ip(b, s.src);
	put_ip(b, s.dst);
	b.insert(b.end(), s.options.begin(), s.options.end());
	set_cksum(b, 0, hlen, 10);
	if (s.bad_cksum)
		b[10] ^= 0x01;
	b.insert(b.end(), payload.begin(), payload.end());
	return b;
}

inline Bytes icmp_msg(uint8_t type, uint8_t code, uint16_t id, uint16_t seq, const Bytes &data,
		      bool bad_cksum = false)
{
	Bytes b;
	put8(b, type);
	put8(b, code);
	put16(b, 0);
	put16(b, id);
	put16(b, seq);
	b.insert(b.end(), data.begin(), data.end());
	set_cksum(b, 0, b.size(), 2);
	if (bad_cksum)
		b[3] ^= 0x40;
	return b;
}

inline Bytes frame_ip(const IpSpec &s, const Bytes &payload,
		      const rte_ether_addr &src_mac = kPeerMac)
{
	Bytes f = eth_hdr(kOurMac, src_mac, 0x0800);
	Bytes ip = ip_packet(s, payload);
	f.insert(f.end(), ip.begin(), ip.end());
	return f;
}

inline Bytes pattern(size_t n, uint8_t seed = 0)
{
	Bytes b(n);
	for (size_t i = 0; i < n; i++)
		b[i] = static_cast<uint8_t>(i * 7 + seed);
	return b;
}

inline Bytes mbuf_bytes(const rte_mbuf *m)
{
	Bytes b(rte_pktmbuf_pkt_len(m));
	const void *p = rte_pktmbuf_read(m, 0, b.size(), b.data());
	if (p != b.data() && !b.empty())
		memcpy(b.data(), p, b.size());
	return b;
}

struct Sent {
	uint16_t port;
	uint16_t nb_segs;
	Bytes data;
};

struct Learnt {
	uint32_t ip;
	rte_ether_addr mac;
	uint16_t ifindex;
};

struct Delivered {
	uint16_t ifindex;
	uint16_t nb_segs;
	Bytes data;
};

class NetTest : public ::testing::Test
{
      protected:
	rte_mempool *pool = nullptr;
	std::unique_ptr<net_stack> ns;
	std::vector<Sent> sent;
	std::vector<Learnt> learnt;
	std::vector<Delivered> delivered;
	std::array<uint64_t, NET_CNT_MAX> snap{};

	static NetTest *self(net_stack *s)
	{
		return static_cast<NetTest *>(s->owner);
	}

	static void hook_tx(net_stack *s, uint16_t port, rte_mbuf *m)
	{
		self(s)->sent.push_back({ port, m->nb_segs, mbuf_bytes(m) });
		rte_pktmbuf_free(m);
	}

	static void hook_learnt(net_stack *s, uint32_t ip, const rte_ether_addr *mac,
				uint16_t ifindex)
	{
		self(s)->learnt.push_back({ ip, *mac, ifindex });
	}

	static void hook_deliver(net_stack *s, rte_mbuf *m, uint16_t ifindex)
	{
		self(s)->delivered.push_back({ ifindex, m->nb_segs, mbuf_bytes(m) });
		rte_pktmbuf_free(m);
	}

	void SetUp() override
	{
		pool = rte_pktmbuf_pool_create("net_test", kPoolSize, 0, 0,
					       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		ASSERT_NE(pool, nullptr) << rte_strerror(rte_errno);
		ns.reset(new net_stack);
		net_hooks hooks{};
		hooks.tx = hook_tx;
		hooks.arp_learnt = hook_learnt;
		hooks.ip_deliver = hook_deliver;
		net_stack_init(ns.get(), pool, &hooks, kHz);
		ns->owner = this;
		ns->now = 1000 * kHz; // so that a zero timestamp is long ago
		net_if ifc{};
		ifc.port_id = 0;
		ifc.mtu = 1500;
		ifc.mac = kOurMac;
		ifc.addr = kOurIp;
		ifc.mask = kMask;
		ifc.gateway = kGwIp;
		ifc.tx_offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS; // a port that sends chains
		ASSERT_EQ(net_stack_add_if(ns.get(), &ifc), 0);
		mark();
	}

	void TearDown() override
	{
		if (ns)
			net_stack_fini(ns.get());
		if (pool != nullptr) {
			EXPECT_EQ(rte_mempool_avail_count(pool), kPoolSize) << "mbufs leaked";
			rte_mempool_free(pool);
		}
	}

	// An mbuf holding f, split into segments of the given sizes (the last takes the rest).
	rte_mbuf *mk(const Bytes &f, std::vector<size_t> segs = {}, uint16_t port = 0)
	{
		rte_mbuf *head = nullptr;
		size_t off = 0;
		segs.push_back(SIZE_MAX);
		for (size_t i = 0; i < segs.size() && (off < f.size() || head == nullptr); i++) {
			size_t n = std::min(segs[i], f.size() - off);
			rte_mbuf *m = rte_pktmbuf_alloc(pool);
			EXPECT_NE(m, nullptr);
			char *p = rte_pktmbuf_append(m, static_cast<uint16_t>(n));
			EXPECT_NE(p, nullptr);
			if (n > 0)
				memcpy(p, f.data() + off, n);
			off += n;
			if (head == nullptr)
				head = m;
			else
				EXPECT_EQ(rte_pktmbuf_chain(head, m), 0);
		}
		head->port = port;
		return head;
	}

	void rx(const Bytes &f, std::vector<size_t> segs = {}, uint16_t port = 0)
	{
		net_rx(ns.get(), mk(f, std::move(segs), port));
	}

	void mark()
	{
		memcpy(snap.data(), ns->cnt, sizeof(ns->cnt));
		sent.clear();
		learnt.clear();
		delivered.clear();
	}

	uint64_t moved(net_counter c) const
	{
		return ns->cnt[c] - snap[c];
	}

	static bool is_drop(int c)
	{
		return strstr(net_counter_names[c], "_drop_") != nullptr;
	}

	// Since mark(): counter `c` moved by exactly one and no other drop counter moved.
	void expect_drop(net_counter c, uint64_t n = 1)
	{
		for (int i = 0; i < NET_CNT_MAX; i++) {
			if (is_drop(i) || i == c) {
				EXPECT_EQ(moved(static_cast<net_counter>(i)), i == c ? n : 0)
					<< "counter " << net_counter_names[i];
			}
		}
	}

	void expect_no_drop()
	{
		for (int i = 0; i < NET_CNT_MAX; i++) {
			if (is_drop(i)) {
				EXPECT_EQ(moved(static_cast<net_counter>(i)), 0u)
					<< "counter " << net_counter_names[i];
			}
		}
	}

	const arp_entry *entry(uint32_t ip) const
	{
		for (const auto &e : ns->arp)
			if (e.ip == ip)
				return &e;
		return nullptr;
	}

	void advance_ms(uint64_t ms)
	{
		ns->now += ms * kHz / 1000;
		net_timer(ns.get());
	}

	// A UDP-like packet from us to dst, data at the IPv4 header, as the TCP layer hands it.
	rte_mbuf *out_pkt(uint32_t dst, uint16_t id = 1)
	{
		IpSpec s;
		s.src = kOurIp;
		s.dst = dst;
		s.id = id;
		return mk(ip_packet(s, pattern(10)));
	}

	void learn_peer(uint32_t ip = kPeerIp, const rte_ether_addr &mac = kPeerMac)
	{
		arp_learn(ns.get(), ip, &mac, 0);
	}

	// Checks that s is our broadcast who-has for tip.
	void expect_request(const Sent &s, uint32_t tip, const rte_ether_addr &dst = kBcast)
	{
		Bytes want = eth_hdr(dst, kOurMac, 0x0806);
		put16(want, 1);
		put16(want, 0x0800);
		put8(want, 6);
		put8(want, 4);
		put16(want, 1);
		put_mac(want, kOurMac);
		put_ip(want, kOurIp);
		put_mac(want, kZeroMac);
		put_ip(want, tip);
		EXPECT_EQ(s.data, want);
		EXPECT_EQ(s.port, 0);
	}
};

} // namespace nett

#endif /* SLUICE_NET_FIXTURE_H */
