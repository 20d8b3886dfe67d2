// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of tcpstack's Ethernet/ARP/IPv4/ICMP layer: frames are built byte by byte, fed to
// net_rx() in real mbufs, and what the stack sends is captured from its tx hook. Every test
// ends with every mbuf back in the pool.
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
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

extern "C" {
#include "net.h"
}

namespace
{

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kHz = 1000000000ull; // fake TSC at 1 GHz
constexpr unsigned kPoolSize = 1023;
constexpr size_t kEth = 14;

uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return rte_cpu_to_be_32(RTE_IPV4(a, b, c, d));
}

const uint32_t kOurIp = ip4(198, 18, 0, 10);
const uint32_t kPeerIp = ip4(198, 18, 0, 20);
const uint32_t kGwIp = ip4(198, 18, 0, 1);
const uint32_t kMask = ip4(255, 255, 255, 0);
const rte_ether_addr kOurMac = { { 0x02, 0, 0, 0, 0, 0x0a } };
const rte_ether_addr kPeerMac = { { 0x02, 0, 0, 0, 0, 0x14 } };
const rte_ether_addr kPeerMac2 = { { 0x02, 0, 0, 0, 0, 0x15 } };
const rte_ether_addr kGwMac = { { 0x02, 0, 0, 0, 0, 0x01 } };
const rte_ether_addr kBcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
const rte_ether_addr kZeroMac = { { 0, 0, 0, 0, 0, 0 } };

// ---- byte builders, independent of the code under test ----

void put8(Bytes &b, uint8_t v)
{
	b.push_back(v);
}

void put16(Bytes &b, uint16_t v)
{
	b.push_back(v >> 8);
	b.push_back(v & 0xff);
}

void put_ip(Bytes &b, uint32_t net_order)
{
	const uint8_t *p = reinterpret_cast<const uint8_t *>(&net_order);
	b.insert(b.end(), p, p + 4);
}

void put_mac(Bytes &b, const rte_ether_addr &m)
{
	b.insert(b.end(), m.addr_bytes, m.addr_bytes + 6);
}

uint16_t get16(const Bytes &b, size_t off)
{
	return static_cast<uint16_t>(b.at(off) << 8 | b.at(off + 1));
}

uint32_t get_ip(const Bytes &b, size_t off)
{
	uint32_t v;
	(void)b.at(off + 3);
	memcpy(&v, b.data() + off, 4);
	return v;
}

rte_ether_addr get_mac(const Bytes &b, size_t off)
{
	rte_ether_addr m;
	(void)b.at(off + 5);
	memcpy(m.addr_bytes, b.data() + off, 6);
	return m;
}

// RFC 1071 checksum, written out so that it does not share code with the stack.
uint16_t ref_cksum(const uint8_t *p, size_t n)
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

void set_cksum(Bytes &b, size_t start, size_t len, size_t field)
{
	b[field] = b[field + 1] = 0;
	uint16_t c = ref_cksum(b.data() + start, len);
	b[field] = c >> 8;
	b[field + 1] = c & 0xff;
}

bool mac_eq(const rte_ether_addr &a, const rte_ether_addr &b)
{
	return memcmp(a.addr_bytes, b.addr_bytes, 6) == 0;
}

Bytes eth_hdr(const rte_ether_addr &dst, const rte_ether_addr &src, uint16_t type)
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

Bytes arp_frame(const ArpSpec &a)
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

Bytes ip_packet(const IpSpec &s, const Bytes &payload)
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

Bytes icmp_msg(uint8_t type, uint8_t code, uint16_t id, uint16_t seq, const Bytes &data,
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

Bytes frame_ip(const IpSpec &s, const Bytes &payload, const rte_ether_addr &src_mac = kPeerMac)
{
	Bytes f = eth_hdr(kOurMac, src_mac, 0x0800);
	Bytes ip = ip_packet(s, payload);
	f.insert(f.end(), ip.begin(), ip.end());
	return f;
}

Bytes pattern(size_t n, uint8_t seed = 0)
{
	Bytes b(n);
	for (size_t i = 0; i < n; i++)
		b[i] = static_cast<uint8_t>(i * 7 + seed);
	return b;
}

Bytes mbuf_bytes(const rte_mbuf *m)
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

// ---------------------------------------------------------------- stack basics

TEST_F(NetTest, CounterNamesMatchTheXMacro)
{
	EXPECT_STREQ(net_counter_names[NET_CNT_rx_frames], "rx_frames");
	EXPECT_STREQ(net_counter_names[NET_CNT_ip_drop_ttl], "ip_drop_ttl");
	EXPECT_STREQ(net_counter_names[NET_CNT_tx_drop_full], "tx_drop_full");
	for (int i = 0; i < NET_CNT_MAX; i++) {
		ASSERT_NE(net_counter_names[i], nullptr) << i;
		for (int j = 0; j < i; j++)
			EXPECT_STRNE(net_counter_names[i], net_counter_names[j]);
	}
}

TEST_F(NetTest, ChecksumMatchesRfc1071Example)
{
	const uint8_t v[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	EXPECT_EQ(rte_be_to_cpu_16(net_cksum(v, sizeof(v))), 0xddf2);
	const uint8_t odd[] = { 0x12, 0x34, 0x56 };
	EXPECT_EQ(rte_be_to_cpu_16(net_cksum(odd, sizeof(odd))), 0x1234 + 0x5600);
	EXPECT_EQ(net_cksum(v, 0), 0);
}

TEST_F(NetTest, ChecksumOverMbufChainsMatchesFlatChecksum)
{
	const Bytes data = pattern(1001, 0x5a);
	const std::vector<std::vector<size_t>> splits = {
		{}, { 1 }, { 2 }, { 3, 500 }, { 7, 1, 1, 1 }, { 500, 1, 250 }, { 999 }, { 1000 },
	};
	const struct {
		uint32_t off, len;
	} ranges[] = { { 0, 1001 }, { 1, 1000 }, { 20, 981 }, { 33, 400 }, { 1001, 0 } };
	for (const auto &sp : splits) {
		rte_mbuf *m = mk(data, sp);
		for (const auto &r : ranges) {
			SCOPED_TRACE(std::to_string(sp.size()) + " segments, off " +
				     std::to_string(r.off));
			uint16_t sum = 0;
			ASSERT_EQ(net_cksum_mbuf(m, r.off, r.len, &sum), 0);
			// ref_cksum returns the complement in host order; sum is in memory order.
			EXPECT_EQ(static_cast<uint16_t>(~rte_be_to_cpu_16(sum)),
				  ref_cksum(data.data() + r.off, r.len));
		}
		uint16_t sum;
		EXPECT_EQ(net_cksum_mbuf(m, 1, 1001, &sum), -EINVAL);
		EXPECT_EQ(net_cksum_mbuf(m, 1002, 0, &sum), -EINVAL);
		rte_pktmbuf_free(m);
	}
}

TEST_F(NetTest, InterfacesAndRoutes)
{
	net_if second{};
	second.port_id = 1;
	second.mac = kPeerMac2;
	second.addr = ip4(10, 1, 0, 1);
	second.mask = ip4(255, 255, 0, 0);
	ASSERT_EQ(net_stack_add_if(ns.get(), &second), 1);

	EXPECT_EQ(net_if_by_addr(ns.get(), kOurIp), 0);
	EXPECT_EQ(net_if_by_addr(ns.get(), ip4(10, 1, 0, 1)), 1);
	EXPECT_EQ(net_if_by_addr(ns.get(), kPeerIp), -1);

	uint32_t nh = 0;
	EXPECT_EQ(net_route(ns.get(), kPeerIp, &nh), 0);
	EXPECT_EQ(nh, kPeerIp);
	EXPECT_EQ(net_route(ns.get(), ip4(10, 1, 200, 3), &nh), 1);
	EXPECT_EQ(nh, ip4(10, 1, 200, 3));
	EXPECT_EQ(net_route(ns.get(), ip4(8, 8, 8, 8), &nh), 0);
	EXPECT_EQ(nh, kGwIp);
	ns->ifs[0].gateway = 0;
	EXPECT_EQ(net_route(ns.get(), ip4(8, 8, 8, 8), &nh), -1);

	for (int i = 2; i < NET_MAX_IFS; i++)
		EXPECT_EQ(net_stack_add_if(ns.get(), &second), i);
	EXPECT_EQ(net_stack_add_if(ns.get(), &second), -ENOSPC);
}

// ---------------------------------------------------------------- Ethernet

TEST_F(NetTest, EthShortFramesDropped)
{
	Bytes full = arp_frame(ArpSpec());
	for (size_t len = 0; len < kEth; len++) {
		SCOPED_TRACE("length " + std::to_string(len));
		mark();
		rx(Bytes(full.begin(), full.begin() + len));
		expect_drop(NET_CNT_eth_drop_short);
		EXPECT_EQ(moved(NET_CNT_rx_frames), 1u);
		EXPECT_TRUE(sent.empty());
	}
}

TEST_F(NetTest, EthHeaderSplitAcrossSegmentsDropped)
{
	rx(arp_frame(ArpSpec()), { 10 });
	expect_drop(NET_CNT_eth_drop_short);
}

TEST_F(NetTest, EthOtherDestinationsDropped)
{
	const rte_ether_addr others[] = {
		{ { 0x02, 0, 0, 0, 0, 0x0b } },	      // another host
		{ { 0x01, 0x00, 0x5e, 0, 0, 0x01 } }, // IPv4 multicast
		{ { 0x33, 0x33, 0, 0, 0, 0x01 } },    // IPv6 multicast
	};
	for (const auto &dst : others) {
		SCOPED_TRACE(dst.addr_bytes[0]);
		ArpSpec a;
		a.eth_dst = dst;
		mark();
		rx(arp_frame(a));
		expect_drop(NET_CNT_eth_drop_not_for_us);
		EXPECT_TRUE(sent.empty());
	}
}

TEST_F(NetTest, EthUnknownPortDropped)
{
	mark();
	rx(arp_frame(ArpSpec()), {}, 7);
	expect_drop(NET_CNT_eth_drop_not_for_us);
}

TEST_F(NetTest, EthGroupSourceDropped)
{
	const rte_ether_addr srcs[] = { kBcast, { { 0x01, 0x00, 0x5e, 0, 0, 0x05 } } };
	for (const auto &src : srcs) {
		Bytes f = frame_ip(IpSpec(), pattern(8), src);
		mark();
		rx(f);
		expect_drop(NET_CNT_eth_drop_bad_src);
		EXPECT_TRUE(delivered.empty());
	}
}

TEST_F(NetTest, EthUnknownEthertypesDropped)
{
	// IPv6, 802.1Q and 802.1ad tags (we configure no VLAN), LLDP, a length field.
	const uint16_t types[] = { 0x86dd, 0x8100, 0x88a8, 0x88cc, 0x0040 };
	for (uint16_t t : types) {
		SCOPED_TRACE(t);
		Bytes f = eth_hdr(kOurMac, kPeerMac, t);
		Bytes ip = ip_packet(IpSpec(), pattern(8));
		f.insert(f.end(), ip.begin(), ip.end());
		mark();
		rx(f);
		expect_drop(NET_CNT_eth_drop_ethertype);
		EXPECT_TRUE(delivered.empty());
	}
}

TEST_F(NetTest, RxCountersCountFramesAndBytes)
{
	rx(arp_frame(ArpSpec()));
	rx(Bytes(5, 0));
	EXPECT_EQ(moved(NET_CNT_rx_frames), 2u);
	EXPECT_EQ(moved(NET_CNT_rx_bytes), 65u);
	EXPECT_EQ(moved(NET_CNT_tx_frames), 1u); // the ARP reply
	EXPECT_EQ(moved(NET_CNT_tx_bytes), 42u);
}

// ---------------------------------------------------------------- ARP input

TEST_F(NetTest, ArpRequestAnsweredWithExactReply)
{
	rx(arp_frame(ArpSpec()));
	expect_no_drop();
	EXPECT_EQ(moved(NET_CNT_arp_rx), 1u);
	EXPECT_EQ(moved(NET_CNT_arp_requests_answered), 1u);
	ASSERT_EQ(sent.size(), 1u);
	// clang-format off
	const Bytes want = {
		0x02, 0, 0, 0, 0, 0x14,			// Ethernet destination: the asker
		0x02, 0, 0, 0, 0, 0x0a,			// Ethernet source: us
		0x08, 0x06,				// ARP
		0x00, 0x01, 0x08, 0x00, 6, 4,		// Ethernet/IPv4
		0x00, 0x02,				// reply
		0x02, 0, 0, 0, 0, 0x0a, 198, 18, 0, 10, // sender: us
		0x02, 0, 0, 0, 0, 0x14, 198, 18, 0, 20, // target: the asker
	};
	// clang-format on
	EXPECT_EQ(sent[0].data, want);
	EXPECT_EQ(sent[0].port, 0);
	EXPECT_EQ(sent[0].nb_segs, 1);
}

TEST_F(NetTest, ArpRequestLearnsTheAsker)
{
	rx(arp_frame(ArpSpec()));
	const arp_entry *e = entry(kPeerIp);
	ASSERT_NE(e, nullptr);
	EXPECT_EQ(e->state, ARP_REACHABLE);
	EXPECT_TRUE(mac_eq(e->mac, kPeerMac));
	EXPECT_EQ(e->confirmed, ns->now);
	EXPECT_EQ(moved(NET_CNT_arp_entries_learnt), 1u);
	ASSERT_EQ(learnt.size(), 1u);
	EXPECT_EQ(learnt[0].ip, kPeerIp);
	EXPECT_TRUE(mac_eq(learnt[0].mac, kPeerMac));
	EXPECT_EQ(learnt[0].ifindex, 0);

	// Asking again with the same MAC refreshes the entry but is no news for the dataplane.
	ns->now += kHz;
	mark();
	rx(arp_frame(ArpSpec()));
	EXPECT_TRUE(learnt.empty());
	EXPECT_EQ(moved(NET_CNT_arp_entries_learnt), 0u);
	EXPECT_EQ(entry(kPeerIp)->confirmed, ns->now);
	EXPECT_EQ(sent.size(), 1u);
}

TEST_F(NetTest, ArpUnicastRequestAnswered)
{
	ArpSpec a;
	a.eth_dst = kOurMac;
	a.pad_to = 0; // no padding: a 42-byte frame from a kernel veth
	rx(arp_frame(a));
	expect_no_drop();
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_EQ(sent[0].data.size(), 42u);
}

TEST_F(NetTest, ArpRequestInChainedMbufAnswered)
{
	rx(arp_frame(ArpSpec()), { 42 });
	expect_no_drop();
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_EQ(sent[0].nb_segs, 1);
	EXPECT_EQ(sent[0].data.size(), 42u);
}

TEST_F(NetTest, ArpRequestForOtherIpDroppedNotLearnt)
{
	ArpSpec a;
	a.tip = ip4(198, 18, 0, 99);
	rx(arp_frame(a));
	expect_drop(NET_CNT_arp_drop_not_for_us);
	EXPECT_TRUE(sent.empty());
	EXPECT_EQ(entry(kPeerIp), nullptr);
	EXPECT_TRUE(learnt.empty());
}

TEST_F(NetTest, ArpRequestForOtherIpUpdatesKnownSender)
{
	learn_peer();
	ns->now += 5 * kHz;
	ArpSpec a;
	a.tip = ip4(198, 18, 0, 99);
	a.sha = kPeerMac2;
	rx(arp_frame(a));
	expect_drop(NET_CNT_arp_drop_not_for_us);
	ASSERT_NE(entry(kPeerIp), nullptr);
	EXPECT_TRUE(mac_eq(entry(kPeerIp)->mac, kPeerMac2));
	EXPECT_EQ(entry(kPeerIp)->confirmed, ns->now);
	ASSERT_EQ(learnt.size(), 1u);
	EXPECT_TRUE(mac_eq(learnt[0].mac, kPeerMac2));
}

TEST_F(NetTest, ArpReplyLearnt)
{
	ArpSpec a;
	a.op = 2;
	a.eth_dst = kOurMac;
	a.tha = kOurMac;
	rx(arp_frame(a));
	expect_no_drop();
	EXPECT_TRUE(sent.empty());
	ASSERT_NE(entry(kPeerIp), nullptr);
	EXPECT_TRUE(mac_eq(entry(kPeerIp)->mac, kPeerMac));
	EXPECT_EQ(moved(NET_CNT_arp_entries_learnt), 1u);
	ASSERT_EQ(learnt.size(), 1u);
	EXPECT_EQ(learnt[0].ip, kPeerIp);
}

TEST_F(NetTest, GratuitousArpUpdatesOnlyKnownEntries)
{
	ArpSpec g;
	g.tip = g.sip = kPeerIp;
	g.sha = kPeerMac2;

	// Unknown sender: nothing learnt, nothing dropped, nothing answered.
	rx(arp_frame(g));
	expect_no_drop();
	EXPECT_EQ(entry(kPeerIp), nullptr);
	EXPECT_TRUE(sent.empty());

	learn_peer();
	mark();
	rx(arp_frame(g));
	expect_no_drop();
	ASSERT_NE(entry(kPeerIp), nullptr);
	EXPECT_TRUE(mac_eq(entry(kPeerIp)->mac, kPeerMac2));
	ASSERT_EQ(learnt.size(), 1u);
	EXPECT_TRUE(mac_eq(learnt[0].mac, kPeerMac2));

	// Gratuitous reply (the other common form) moves it back.
	g.op = 2;
	g.sha = kPeerMac;
	mark();
	rx(arp_frame(g));
	expect_no_drop();
	EXPECT_TRUE(mac_eq(entry(kPeerIp)->mac, kPeerMac));
	EXPECT_EQ(learnt.size(), 1u);
}

TEST_F(NetTest, ArpProbeAnsweredWithoutLearning)
{
	ArpSpec a;
	a.sip = 0; // RFC 5227 probe for our address
	rx(arp_frame(a));
	expect_no_drop();
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_TRUE(mac_eq(get_mac(sent[0].data, 0), kPeerMac));
	EXPECT_EQ(get16(sent[0].data, 20), 2);
	EXPECT_EQ(get_ip(sent[0].data, 28), kOurIp);
	EXPECT_EQ(get_ip(sent[0].data, 38), 0u);
	for (const auto &e : ns->arp)
		EXPECT_EQ(e.ip, 0u);
	EXPECT_TRUE(learnt.empty());

	a.tip = kPeerIp; // somebody else's probe
	mark();
	rx(arp_frame(a));
	expect_drop(NET_CNT_arp_drop_not_for_us);
}

TEST_F(NetTest, ArpShortDropped)
{
	Bytes full = arp_frame(ArpSpec());
	for (size_t len = kEth; len < 42; len++) {
		SCOPED_TRACE("length " + std::to_string(len));
		mark();
		rx(Bytes(full.begin(), full.begin() + len));
		expect_drop(NET_CNT_arp_drop_short);
		EXPECT_TRUE(sent.empty());
	}
	mark();
	rx(full, { 30 }); // whole but not contiguous
	expect_drop(NET_CNT_arp_drop_short);
}

TEST_F(NetTest, ArpBadFormatDropped)
{
	struct {
		uint16_t hrd, pro;
		uint8_t hln, pln;
	} cases[] = {
		{ 6, 0x0800, 6, 4 }, { 1, 0x86dd, 6, 4 }, { 1, 0x0800, 8, 4 }, { 1, 0x0800, 6, 16 }
	};
	for (const auto &c : cases) {
		ArpSpec a;
		a.hrd = c.hrd;
		a.pro = c.pro;
		a.hln = c.hln;
		a.pln = c.pln;
		mark();
		rx(arp_frame(a));
		expect_drop(NET_CNT_arp_drop_bad_format);
		EXPECT_TRUE(sent.empty());
	}
}

TEST_F(NetTest, ArpBadOpDropped)
{
	for (uint16_t op : { 0, 3, 4, 8, 9, 0x100 }) {
		SCOPED_TRACE(op);
		ArpSpec a;
		a.op = op;
		mark();
		rx(arp_frame(a));
		expect_drop(NET_CNT_arp_drop_bad_op);
		EXPECT_TRUE(sent.empty());
	}
}

TEST_F(NetTest, ArpBadSenderDropped)
{
	struct {
		const char *what;
		rte_ether_addr sha;
		uint32_t sip;
	} cases[] = {
		{ "multicast mac", { { 0x01, 0, 0x5e, 0, 0, 1 } }, kPeerIp },
		{ "zero mac", kZeroMac, kPeerIp },
		{ "loopback", kPeerMac, ip4(127, 0, 0, 1) },
		{ "multicast ip", kPeerMac, ip4(224, 0, 0, 1) },
		{ "broadcast ip", kPeerMac, ip4(255, 255, 255, 255) },
		{ "subnet broadcast", kPeerMac, ip4(198, 18, 0, 255) },
		{ "our own address", kPeerMac, kOurIp },
	};
	for (const auto &c : cases) {
		SCOPED_TRACE(c.what);
		ArpSpec a;
		a.sha = c.sha;
		a.sip = c.sip;
		Bytes f = arp_frame(a);
		memcpy(&f[6], kPeerMac.addr_bytes, 6); // a valid Ethernet source: only ARP is bad
		mark();
		rx(f);
		expect_drop(NET_CNT_arp_drop_bad_sender);
		EXPECT_TRUE(sent.empty());
		EXPECT_TRUE(learnt.empty());
	}
	EXPECT_EQ(entry(kOurIp), nullptr);
}

TEST_F(NetTest, ArpLearnFromOtherWorkerDoesNotNotify)
{
	learn_peer();
	ASSERT_NE(entry(kPeerIp), nullptr);
	EXPECT_TRUE(learnt.empty());
	EXPECT_EQ(moved(NET_CNT_arp_entries_learnt), 0u);

	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_TRUE(mac_eq(get_mac(sent[0].data, 0), kPeerMac));
	EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 0u);
}

// ---------------------------------------------------------------- ARP resolution

TEST_F(NetTest, OutputToKnownNeighbourBuildsEthernet)
{
	learn_peer();
	mark();
	IpSpec s;
	s.src = kOurIp;
	s.dst = kPeerIp;
	Bytes ip = ip_packet(s, pattern(10));
	ASSERT_EQ(ip4_output(ns.get(), mk(ip)), 0);
	ASSERT_EQ(sent.size(), 1u);
	Bytes want = eth_hdr(kPeerMac, kOurMac, 0x0800);
	want.insert(want.end(), ip.begin(), ip.end());
	EXPECT_EQ(sent[0].data, want);
	EXPECT_EQ(moved(NET_CNT_tx_frames), 1u);
	EXPECT_EQ(moved(NET_CNT_tx_bytes), want.size());
	expect_no_drop();
}

TEST_F(NetTest, UnresolvedPacketQueuedThenFlushedByReply)
{
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp, 1)), 0);
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp, 2)), 0);
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp, 3)), 0);
	ASSERT_EQ(sent.size(), 1u); // one request for the three packets
	expect_request(sent[0], kPeerIp);
	EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 1u);
	EXPECT_EQ(ns->n_pending, 3);
	ASSERT_NE(entry(kPeerIp), nullptr);
	EXPECT_EQ(entry(kPeerIp)->state, ARP_INCOMPLETE);

	mark();
	ArpSpec r;
	r.op = 2;
	r.eth_dst = kOurMac;
	r.tha = kOurMac;
	rx(arp_frame(r));
	expect_no_drop();
	EXPECT_EQ(ns->n_pending, 0);
	ASSERT_EQ(sent.size(), 3u);
	for (uint16_t i = 0; i < 3; i++) {
		EXPECT_TRUE(mac_eq(get_mac(sent[i].data, 0), kPeerMac));
		EXPECT_TRUE(mac_eq(get_mac(sent[i].data, 6), kOurMac));
		EXPECT_EQ(get16(sent[i].data, 12), 0x0800);
		EXPECT_EQ(get16(sent[i].data, kEth + 4), i + 1) << "packets out of order";
	}
	ASSERT_EQ(learnt.size(), 1u); // incomplete -> reachable is news
	EXPECT_EQ(entry(kPeerIp)->state, ARP_REACHABLE);
}

TEST_F(NetTest, OffSubnetOutputResolvesTheGateway)
{
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(ip4(203, 0, 113, 7))), 0);
	ASSERT_EQ(sent.size(), 1u);
	expect_request(sent[0], kGwIp);

	mark();
	ArpSpec r;
	r.op = 2;
	r.sha = kGwMac;
	r.sip = kGwIp;
	r.eth_dst = kOurMac;
	rx(arp_frame(r));
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_TRUE(mac_eq(get_mac(sent[0].data, 0), kGwMac));
	EXPECT_EQ(get_ip(sent[0].data, kEth + 16), ip4(203, 0, 113, 7));
}

TEST_F(NetTest, NoRouteDropped)
{
	ns->ifs[0].gateway = 0;
	EXPECT_EQ(ip4_output(ns.get(), out_pkt(ip4(203, 0, 113, 7))), -ENETUNREACH);
	expect_drop(NET_CNT_ip_drop_no_route);
	EXPECT_TRUE(sent.empty());
}

TEST_F(NetTest, ReplyFlushesOnlyItsNextHop)
{
	const uint32_t other = ip4(198, 18, 0, 30);
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp, 1)), 0);
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(other, 2)), 0);
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp, 3)), 0);
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(other, 4)), 0);
	EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 2u);

	mark();
	ArpSpec r;
	r.op = 2;
	r.eth_dst = kOurMac;
	rx(arp_frame(r));
	ASSERT_EQ(sent.size(), 2u);
	EXPECT_EQ(get16(sent[0].data, kEth + 4), 1);
	EXPECT_EQ(get16(sent[1].data, kEth + 4), 3);
	ASSERT_EQ(ns->n_pending, 2);
	EXPECT_EQ(ns->pending[0].nexthop, other);
	EXPECT_EQ(ns->pending[1].nexthop, other);
	// The remaining two go at net_stack_fini (TearDown checks they are freed).
}

TEST_F(NetTest, RetriesThenDropUnresolved)
{
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 1u);

	advance_ms(ARP_RETRY_MS / 2);
	EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 1u) << "retried too early";
	advance_ms(ARP_RETRY_MS / 2);
	for (int r = 1; r <= ARP_RETRIES; r++) {
		SCOPED_TRACE(r);
		EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 1u + r);
		EXPECT_EQ(ns->n_pending, 1);
		EXPECT_EQ(moved(NET_CNT_arp_drop_unresolved), 0u);
		advance_ms(ARP_RETRY_MS);
	}
	EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 1u + ARP_RETRIES);
	expect_drop(NET_CNT_arp_drop_unresolved);
	EXPECT_EQ(ns->n_pending, 0);
	EXPECT_EQ(entry(kPeerIp), nullptr);
	ASSERT_EQ(sent.size(), 1u + ARP_RETRIES);
	for (const auto &s : sent)
		expect_request(s, kPeerIp);

	// A new packet starts a new resolution.
	mark();
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 1u);
	EXPECT_EQ(ns->n_pending, 1);
}

TEST_F(NetTest, PendingQueueFull)
{
	for (int i = 0; i < ARP_PENDING_MAX; i++)
		ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp, static_cast<uint16_t>(i))), 0);
	EXPECT_EQ(ns->n_pending, ARP_PENDING_MAX);
	mark();
	EXPECT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp, 999)), -ENOBUFS);
	expect_drop(NET_CNT_arp_drop_queue_full);

	mark();
	ArpSpec r;
	r.op = 2;
	r.eth_dst = kOurMac;
	rx(arp_frame(r));
	ASSERT_EQ(sent.size(), static_cast<size_t>(ARP_PENDING_MAX));
	for (int i = 0; i < ARP_PENDING_MAX; i++)
		EXPECT_EQ(get16(sent[i].data, kEth + 4), i);
	EXPECT_EQ(ns->n_pending, 0);
}

TEST_F(NetTest, StaleEntryUsedAndRefreshedRateLimited)
{
	ArpSpec r;
	r.op = 2;
	r.eth_dst = kOurMac;
	rx(arp_frame(r));
	const uint64_t t0 = ns->now;

	ns->now = t0 + (ARP_REACHABLE_S - 1) * kHz;
	mark();
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	EXPECT_EQ(sent.size(), 1u) << "fresh entry refreshed";

	ns->now = t0 + ARP_REACHABLE_S * kHz;
	mark();
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	ASSERT_EQ(sent.size(), 2u);
	expect_request(sent[0], kPeerIp, kPeerMac); // unicast poll
	EXPECT_TRUE(mac_eq(get_mac(sent[1].data, 0), kPeerMac));
	EXPECT_EQ(get16(sent[1].data, 12), 0x0800);

	mark();
	ns->now += kHz * ARP_RETRY_MS / 1000 - 1;
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	EXPECT_EQ(sent.size(), 1u) << "refresh not rate limited";
	ns->now += 1;
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 1u);

	// The answer makes it fresh again, without news for the dataplane.
	rx(arp_frame(r));
	EXPECT_TRUE(learnt.empty());
	mark();
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	EXPECT_EQ(sent.size(), 1u);
	expect_no_drop();
}

TEST_F(NetTest, EntryExpiresAfterTimeout)
{
	learn_peer();
	const uint64_t t0 = ns->now;
	advance_ms((ARP_EXPIRE_S - 1) * 1000ull);
	ASSERT_NE(entry(kPeerIp), nullptr);
	EXPECT_EQ(moved(NET_CNT_arp_entries_expired), 0u);

	ns->now = t0 + ARP_EXPIRE_S * kHz;
	net_timer(ns.get());
	EXPECT_EQ(entry(kPeerIp), nullptr);
	EXPECT_EQ(moved(NET_CNT_arp_entries_expired), 1u);

	mark();
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	ASSERT_EQ(sent.size(), 1u);
	expect_request(sent[0], kPeerIp);
	EXPECT_EQ(ns->n_pending, 1);
}

TEST_F(NetTest, ExpiredEntryNotUsedBeforeTimerRuns)
{
	learn_peer();
	ns->now += ARP_EXPIRE_S * kHz; // no net_timer call
	mark();
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	ASSERT_EQ(sent.size(), 1u);
	expect_request(sent[0], kPeerIp);
	EXPECT_EQ(moved(NET_CNT_arp_entries_expired), 1u);
	EXPECT_EQ(ns->n_pending, 1);
}

TEST_F(NetTest, TimerIsCheapWhenNotDue)
{
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(kPeerIp)), 0);
	net_timer(ns.get());
	uint64_t next = ns->next_arp_scan;
	EXPECT_GT(next, ns->now);
	ns->now += 2 * kHz; // a retry is due, but the scan is not yet ...
	ns->next_arp_scan = ns->now + 1;
	mark();
	net_timer(ns.get());
	EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 0u);
	ns->now += 1; // ... now it is
	net_timer(ns.get());
	EXPECT_EQ(moved(NET_CNT_arp_requests_sent), 1u);
}

// Two interfaces so that hundreds of neighbours are on a connected subnet.
class NetTableTest : public NetTest
{
      protected:
	void SetUp() override
	{
		NetTest::SetUp();
		net_if big{};
		big.port_id = 1;
		big.mac = kPeerMac2;
		big.addr = ip4(10, 1, 0, 1);
		big.mask = ip4(255, 255, 0, 0);
		ASSERT_EQ(net_stack_add_if(ns.get(), &big), 1);
	}

	static uint32_t host(int i)
	{
		return ip4(10, 1, static_cast<uint8_t>(1 + i / 250),
			   static_cast<uint8_t>(1 + i % 250));
	}

	rte_ether_addr mac_of(int i)
	{
		return { { 0x02, 0x10, 0, 0, static_cast<uint8_t>(i >> 8),
			   static_cast<uint8_t>(i) } };
	}
};

TEST_F(NetTableTest, ExpiryKeepsRemainingEntriesReachable)
{
	// A full table (so every probe run is long), a third of it learnt long ago: expiring
	// that third removes entries from the middle of runs, which must not hide the others.
	const int n = ARP_TABLE_SIZE;
	auto old = [](int i) { return i % 3 == 0; };
	for (int i = 0; i < n; i++) {
		if (old(i)) {
			rte_ether_addr m = mac_of(i);
			arp_learn(ns.get(), host(i), &m, 1);
		}
	}
	const uint64_t t0 = ns->now;
	ns->now += (ARP_EXPIRE_S - 10) * kHz; // still fresh when the first ones expire
	for (int i = 0; i < n; i++) {
		if (!old(i)) {
			rte_ether_addr m = mac_of(i);
			arp_learn(ns.get(), host(i), &m, 1);
		}
	}
	ASSERT_EQ(entry(0), nullptr) << "table not full";
	ns->now = t0 + ARP_EXPIRE_S * kHz;
	net_timer(ns.get());
	EXPECT_EQ(moved(NET_CNT_arp_entries_expired), static_cast<uint64_t>((n + 2) / 3));

	for (int i = 0; i < n; i++) {
		if (old(i)) {
			EXPECT_EQ(entry(host(i)), nullptr) << i;
			continue;
		}
		SCOPED_TRACE(i);
		mark();
		ASSERT_EQ(ip4_output(ns.get(), out_pkt(host(i))), 0);
		ASSERT_EQ(sent.size(), 1u) << "resolving a neighbour we know";
		EXPECT_EQ(sent[0].port, 1);
		EXPECT_TRUE(mac_eq(get_mac(sent[0].data, 0), mac_of(i)));
	}
	// The expired ones resolve from scratch.
	mark();
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(host(0))), 0);
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_EQ(get16(sent[0].data, 12), 0x0806);
	EXPECT_EQ(ns->n_pending, 1);
}

TEST_F(NetTableTest, NeighboursOfOneSubnetSpreadOverTheTable)
{
	// 128 consecutive hosts in a 256-slot table: a hash that ignored the host part would
	// store them as one run that every lookup walks.
	for (int i = 0; i < 128; i++) {
		rte_ether_addr m = mac_of(i);
		arp_learn(ns.get(), host(i), &m, 1);
	}
	int longest = 0, run = 0;
	for (int i = 0; i < 2 * ARP_TABLE_SIZE; i++) {
		run = ns->arp[i % ARP_TABLE_SIZE].ip != 0 ? run + 1 : 0;
		longest = std::max(longest, run);
	}
	EXPECT_LE(longest, 16);
}

TEST_F(NetTableTest, TableFull)
{
	for (int i = 0; i < ARP_TABLE_SIZE; i++) {
		rte_ether_addr m = mac_of(i);
		arp_learn(ns.get(), host(i), &m, 1);
	}
	EXPECT_EQ(moved(NET_CNT_arp_drop_table_full), 0u);
	for (int i = 0; i < ARP_TABLE_SIZE; i++)
		ASSERT_NE(entry(host(i)), nullptr) << i;

	mark();
	EXPECT_EQ(ip4_output(ns.get(), out_pkt(host(ARP_TABLE_SIZE))), -ENOSPC);
	expect_drop(NET_CNT_arp_drop_table_full);
	EXPECT_TRUE(sent.empty());

	// Known neighbours still resolve, including the one stored last.
	mark();
	ASSERT_EQ(ip4_output(ns.get(), out_pkt(host(ARP_TABLE_SIZE - 1))), 0);
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_TRUE(mac_eq(get_mac(sent[0].data, 0), mac_of(ARP_TABLE_SIZE - 1)));
}

// ---------------------------------------------------------------- IPv4 input

TEST_F(NetTest, IpDeliveredToHookAtIpHeader)
{
	IpSpec s;
	Bytes payload = pattern(30);
	Bytes f = frame_ip(s, payload);
	rx(f);
	expect_no_drop();
	EXPECT_EQ(moved(NET_CNT_ip_rx), 1u);
	ASSERT_EQ(delivered.size(), 1u);
	EXPECT_EQ(delivered[0].ifindex, 0);
	EXPECT_EQ(delivered[0].data, Bytes(f.begin() + kEth, f.end()));
}

TEST_F(NetTest, IpUnknownProtocolWithoutHookDropped)
{
	ns->hooks.ip_deliver = nullptr;
	rx(frame_ip(IpSpec(), pattern(30)));
	expect_drop(NET_CNT_ip_drop_proto);
}

TEST_F(NetTest, IpTruncatedHeadersDropped)
{
	Bytes f = frame_ip(IpSpec(), {});
	ASSERT_EQ(f.size(), kEth + 20);
	for (size_t len = kEth; len < f.size(); len++) {
		SCOPED_TRACE("length " + std::to_string(len));
		mark();
		rx(Bytes(f.begin(), f.begin() + len));
		expect_drop(NET_CNT_ip_drop_short);
		EXPECT_TRUE(delivered.empty());
	}
	mark();
	rx(f); // the full header alone is a valid empty datagram
	expect_no_drop();
	EXPECT_EQ(delivered.size(), 1u);
}

TEST_F(NetTest, IpHeaderSplitAcrossSegmentsDropped)
{
	IpSpec s;
	s.options = { 1, 1, 1, 0 };
	rx(frame_ip(s, pattern(40)), { kEth + 10 });
	expect_drop(NET_CNT_ip_drop_short);
	mark();
	rx(frame_ip(s, pattern(40)), { kEth + 22 }); // fixed header in, options not
	expect_drop(NET_CNT_ip_drop_short);
}

TEST_F(NetTest, IpWrongVersionDropped)
{
	for (uint8_t v : { 0, 5, 6, 15 }) {
		SCOPED_TRACE(static_cast<int>(v));
		IpSpec s;
		s.version = v;
		mark();
		rx(frame_ip(s, pattern(8)));
		expect_drop(NET_CNT_ip_drop_version);
	}
}

TEST_F(NetTest, IpBadIhlDropped)
{
	for (int ihl : { 0, 1, 4 }) {
		SCOPED_TRACE(ihl);
		IpSpec s;
		s.ihl = ihl;
		mark();
		rx(frame_ip(s, pattern(8)));
		expect_drop(NET_CNT_ip_drop_bad_ihl);
	}
	// 60 bytes of header claimed in a 28-byte packet.
	IpSpec s;
	s.ihl = 15;
	mark();
	rx(frame_ip(s, pattern(8)));
	expect_drop(NET_CNT_ip_drop_bad_ihl);
}

TEST_F(NetTest, IpBadChecksumDropped)
{
	IpSpec s;
	s.bad_cksum = true;
	rx(frame_ip(s, pattern(8)));
	expect_drop(NET_CNT_ip_drop_bad_cksum);
	EXPECT_TRUE(delivered.empty());
}

TEST_F(NetTest, IpNicChecksumVerdictTrusted)
{
	rte_mbuf *m = mk(frame_ip(IpSpec(), pattern(8)));
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	net_rx(ns.get(), m);
	expect_drop(NET_CNT_ip_drop_bad_cksum);

	IpSpec s;
	s.bad_cksum = true;
	m = mk(frame_ip(s, pattern(8)));
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	mark();
	net_rx(ns.get(), m);
	expect_no_drop();
	EXPECT_EQ(delivered.size(), 1u);
}

TEST_F(NetTest, IpBadTotalLengthDropped)
{
	struct {
		int tlen;
		const char *what;
	} cases[] = { { 29, "one byte past the frame" },
		      { 1500, "far past" },
		      { 19, "below the header" },
		      { 0, "zero" } };
	for (const auto &c : cases) {
		SCOPED_TRACE(c.what);
		IpSpec s;
		s.tlen = c.tlen;
		mark();
		rx(frame_ip(s, pattern(8)));
		expect_drop(NET_CNT_ip_drop_bad_len);
		EXPECT_TRUE(delivered.empty());
	}
}

TEST_F(NetTest, IpEthernetPaddingTrimmed)
{
	Bytes f = frame_ip(IpSpec(), pattern(6));
	const Bytes ip(f.begin() + kEth, f.end());
	while (f.size() < 60)
		f.push_back(0xee);
	rx(f);
	expect_no_drop();
	ASSERT_EQ(delivered.size(), 1u);
	EXPECT_EQ(delivered[0].data, ip);
}

TEST_F(NetTest, IpPaddingInTrailingSegmentsTrimmed)
{
	Bytes f = frame_ip(IpSpec(), pattern(6)); // 40 bytes
	const Bytes ip(f.begin() + kEth, f.end());
	while (f.size() < 60)
		f.push_back(0xee);
	rx(f, { 36, 14 }); // padding spread over the last two segments
	expect_no_drop();
	ASSERT_EQ(delivered.size(), 1u);
	EXPECT_EQ(delivered[0].data, ip);
	EXPECT_EQ(delivered[0].nb_segs, 2);

	mark();
	rx(f, { 40 }); // padding alone in the second segment
	ASSERT_EQ(delivered.size(), 1u);
	EXPECT_EQ(delivered[0].data, ip);
}

TEST_F(NetTest, IpFragmentsDropped)
{
	const uint16_t frags[] = { 0x2000, 0x0001, 0x2010, 0x1fff, 0x6000 };
	for (uint16_t fr : frags) {
		SCOPED_TRACE(fr);
		IpSpec s;
		s.frag = fr;
		mark();
		rx(frame_ip(s, pattern(8)));
		expect_drop(NET_CNT_ip_drop_fragment);
	}
	IpSpec df;
	df.frag = 0x4000; // DF alone is a whole datagram
	mark();
	rx(frame_ip(df, pattern(8)));
	expect_no_drop();
	EXPECT_EQ(delivered.size(), 1u);
}

TEST_F(NetTest, IpTtl)
{
	IpSpec s;
	s.ttl = 0;
	rx(frame_ip(s, pattern(8)));
	expect_drop(NET_CNT_ip_drop_ttl);

	s.ttl = 1; // we are the destination: fine
	mark();
	rx(frame_ip(s, pattern(8)));
	expect_no_drop();
	EXPECT_EQ(delivered.size(), 1u);
}

TEST_F(NetTest, IpNotForUsDropped)
{
	const uint32_t dsts[] = { ip4(198, 18, 0, 11), ip4(198, 18, 0, 255),
				  ip4(255, 255, 255, 255), ip4(224, 0, 0, 1), ip4(0, 0, 0, 0) };
	for (uint32_t d : dsts) {
		SCOPED_TRACE(rte_be_to_cpu_32(d));
		IpSpec s;
		s.dst = d;
		mark();
		rx(frame_ip(s, pattern(8)));
		expect_drop(NET_CNT_ip_drop_not_for_us);
		EXPECT_TRUE(delivered.empty());
	}
}

TEST_F(NetTest, IpBadSourceDropped)
{
	const uint32_t srcs[] = { ip4(0, 0, 0, 0),
				  ip4(127, 0, 0, 1),
				  ip4(224, 0, 0, 5),
				  ip4(239, 1, 2, 3),
				  ip4(255, 255, 255, 255),
				  ip4(198, 18, 0, 255),
				  kOurIp };
	for (uint32_t src : srcs) {
		SCOPED_TRACE(rte_be_to_cpu_32(src));
		IpSpec s;
		s.src = src;
		mark();
		rx(frame_ip(s, pattern(8)));
		expect_drop(NET_CNT_ip_drop_bad_src);
		EXPECT_TRUE(delivered.empty());
	}
}

TEST_F(NetTest, IpOptionsAcceptedAndKept)
{
	IpSpec s;
	s.options = { 0x01, 0x01, 0x94, 0x04, 0x00, 0x00, 0x01, 0x00 }; // NOP NOP RA NOP EOL
	Bytes f = frame_ip(s, pattern(12));
	rx(f);
	expect_no_drop();
	ASSERT_EQ(delivered.size(), 1u);
	EXPECT_EQ(delivered[0].data, Bytes(f.begin() + kEth, f.end()));
}

TEST_F(NetTest, IpMalformedOptionsDropped)
{
	const Bytes bad[] = {
		{ 0x94, 0x00, 0x00, 0x00 }, // length 0
		{ 0x94, 0x01, 0x00, 0x00 }, // length 1
		{ 0x01, 0x94, 0x08, 0x00 }, // runs past the header
		{ 0x01, 0x01, 0x01, 0x07 }, // type without its length byte
	};
	for (const auto &o : bad) {
		IpSpec s;
		s.options = o;
		mark();
		rx(frame_ip(s, pattern(8)));
		expect_drop(NET_CNT_ip_drop_options);
	}
}

// ---------------------------------------------------------------- ICMP

class NetIcmpTest : public NetTest
{
      protected:
	Bytes echo_frame(uint16_t id, uint16_t seq, const Bytes &data, IpSpec s = IpSpec())
	{
		s.proto = IPPROTO_ICMP;
		return frame_ip(s, icmp_msg(8, 0, id, seq, data));
	}

	// Checks sent frame r is our echo reply to peer with id, seq and data.
	void expect_reply(const Bytes &r, uint16_t id, uint16_t seq, const Bytes &data,
			  const rte_ether_addr &dst_mac = kPeerMac, uint32_t dst_ip = kPeerIp)
	{
		ASSERT_EQ(r.size(), kEth + 20 + 8 + data.size());
		EXPECT_TRUE(mac_eq(get_mac(r, 0), dst_mac));
		EXPECT_TRUE(mac_eq(get_mac(r, 6), kOurMac));
		EXPECT_EQ(get16(r, 12), 0x0800);
		const uint8_t *ip = r.data() + kEth;
		EXPECT_EQ(ip[0], 0x45);
		EXPECT_EQ(get16(r, kEth + 2), 20 + 8 + data.size());
		EXPECT_EQ(get16(r, kEth + 6) & 0x3fff, 0); // not a fragment
		EXPECT_EQ(ip[8], 64);
		EXPECT_EQ(ip[9], IPPROTO_ICMP);
		EXPECT_EQ(ref_cksum(ip, 20), 0) << "IPv4 header checksum";
		EXPECT_EQ(get_ip(r, kEth + 12), kOurIp);
		EXPECT_EQ(get_ip(r, kEth + 16), dst_ip);
		const uint8_t *ic = ip + 20;
		EXPECT_EQ(ic[0], 0);
		EXPECT_EQ(ic[1], 0);
		EXPECT_EQ(ref_cksum(ic, 8 + data.size()), 0) << "ICMP checksum";
		EXPECT_EQ(get16(r, kEth + 24), id);
		EXPECT_EQ(get16(r, kEth + 26), seq);
		EXPECT_EQ(Bytes(r.begin() + kEth + 28, r.end()), data);
	}
};

TEST_F(NetIcmpTest, EchoRequestAnswered)
{
	learn_peer();
	mark();
	Bytes data = pattern(56, 3);
	rx(echo_frame(0xbeef, 7, data));
	expect_no_drop();
	EXPECT_EQ(moved(NET_CNT_icmp_rx), 1u);
	EXPECT_EQ(moved(NET_CNT_icmp_echo_replies), 1u);
	ASSERT_EQ(sent.size(), 1u);
	expect_reply(sent[0].data, 0xbeef, 7, data);
}

TEST_F(NetIcmpTest, EchoReplyExactIpHeader)
{
	learn_peer();
	mark();
	IpSpec s;
	s.tos = 0x10;
	s.id = 0x4321;
	s.ttl = 3;
	rx(echo_frame(1, 2, pattern(4), s));
	ASSERT_EQ(sent.size(), 1u);
	const Bytes &r = sent[0].data;
	// clang-format off
	Bytes want_ip = {
		0x45, 0x10, 0, 32,	// version 4, IHL 5, TOS kept, total length
		0x43, 0x21, 0, 0,	// id kept, no fragment flags
		64, 1, 0, 0,		// TTL 64, ICMP, checksum (below)
		198, 18, 0, 10,		// from us
		198, 18, 0, 20,		// to the peer
	};
	// clang-format on
	set_cksum(want_ip, 0, 20, 10);
	EXPECT_EQ(Bytes(r.begin() + kEth, r.begin() + kEth + 20), want_ip);
}

TEST_F(NetIcmpTest, EchoPaddingNotEchoed)
{
	learn_peer();
	mark();
	Bytes data = pattern(4);
	Bytes f = echo_frame(9, 9, data);
	while (f.size() < 60)
		f.push_back(0xee);
	rx(f);
	expect_no_drop();
	ASSERT_EQ(sent.size(), 1u);
	expect_reply(sent[0].data, 9, 9, data);
}

TEST_F(NetIcmpTest, EchoWithOptionsAnsweredWithoutThem)
{
	learn_peer();
	mark();
	IpSpec s;
	s.options = { 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 };
	Bytes data = pattern(20);
	rx(echo_frame(5, 6, data, s));
	expect_no_drop();
	ASSERT_EQ(sent.size(), 1u);
	expect_reply(sent[0].data, 5, 6, data);
}

TEST_F(NetIcmpTest, EchoFromUnresolvedPeerWaitsForArp)
{
	Bytes data = pattern(16);
	rx(echo_frame(1, 1, data));
	ASSERT_EQ(sent.size(), 1u);
	expect_request(sent[0], kPeerIp);
	EXPECT_EQ(ns->n_pending, 1);

	mark();
	ArpSpec r;
	r.op = 2;
	r.eth_dst = kOurMac;
	rx(arp_frame(r));
	ASSERT_EQ(sent.size(), 1u);
	expect_reply(sent[0].data, 1, 1, data);
}

TEST_F(NetIcmpTest, EchoFromOffSubnetGoesToGateway)
{
	learn_peer(kGwIp, kGwMac);
	mark();
	IpSpec s;
	s.src = ip4(203, 0, 113, 9);
	Bytes data = pattern(8);
	rx(echo_frame(3, 4, data, s), {}, 0);
	ASSERT_EQ(sent.size(), 1u);
	expect_reply(sent[0].data, 3, 4, data, kGwMac, ip4(203, 0, 113, 9));
}

TEST_F(NetIcmpTest, MultiSegmentEchoAnswered)
{
	learn_peer();
	mark();
	Bytes data = pattern(1401, 11); // odd length, odd segment boundaries
	rx(echo_frame(0x1111, 0x2222, data), { kEth + 20 + 8 + 3, 501, 333 });
	expect_no_drop();
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_EQ(sent[0].nb_segs, 4);
	expect_reply(sent[0].data, 0x1111, 0x2222, data);
}

TEST_F(NetIcmpTest, IcmpHeaderNotContiguousDropped)
{
	learn_peer();
	mark();
	rx(echo_frame(1, 1, pattern(40)), { kEth + 20 + 4 });
	expect_drop(NET_CNT_icmp_drop_short);
	EXPECT_TRUE(sent.empty());
}

TEST_F(NetIcmpTest, ShortIcmpDropped)
{
	Bytes msg = icmp_msg(8, 0, 1, 1, {});
	for (size_t len = 0; len < 8; len++) {
		SCOPED_TRACE(len);
		IpSpec s;
		s.proto = IPPROTO_ICMP;
		mark();
		rx(frame_ip(s, Bytes(msg.begin(), msg.begin() + len)));
		expect_drop(NET_CNT_icmp_drop_short);
		EXPECT_TRUE(sent.empty());
	}
}

TEST_F(NetIcmpTest, BadChecksumDropped)
{
	learn_peer();
	mark();
	IpSpec s;
	s.proto = IPPROTO_ICMP;
	rx(frame_ip(s, icmp_msg(8, 0, 1, 1, pattern(32), true)));
	expect_drop(NET_CNT_icmp_drop_bad_cksum);
	EXPECT_TRUE(sent.empty());

	// Corrupted in a later segment: the whole message is verified.
	Bytes f = echo_frame(1, 1, pattern(300));
	f.back() ^= 0x01;
	mark();
	rx(f, { 100 });
	expect_drop(NET_CNT_icmp_drop_bad_cksum);
}

TEST_F(NetIcmpTest, OtherTypesDropped)
{
	learn_peer();
	struct {
		uint8_t type, code;
	} cases[] = { { 0, 0 }, { 3, 3 }, { 5, 1 }, { 11, 0 }, { 13, 0 }, { 8, 1 } };
	for (const auto &c : cases) {
		SCOPED_TRACE(static_cast<int>(c.type));
		IpSpec s;
		s.proto = IPPROTO_ICMP;
		mark();
		rx(frame_ip(s, icmp_msg(c.type, c.code, 1, 1, pattern(28))));
		expect_drop(NET_CNT_icmp_drop_type);
		EXPECT_TRUE(sent.empty());
	}
}

TEST_F(NetTest, FiniFreesPendingPackets)
{
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(ip4_output(ns.get(), out_pkt(ip4(198, 18, 0, 50 + i))), 0);
	EXPECT_EQ(ns->n_pending, 5);
	EXPECT_LT(rte_mempool_avail_count(pool), kPoolSize);
	net_stack_fini(ns.get());
	EXPECT_EQ(ns->n_pending, 0);
	EXPECT_EQ(rte_mempool_avail_count(pool), kPoolSize);
}

} // namespace
