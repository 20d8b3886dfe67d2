// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: tcpstack's stack helpers (counters, checksums, interfaces and routes, teardown),
// IPv4 input and ICMP echo.
#include <random>

#include "net_fixture.h"

using namespace nett;

namespace
{

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

// The 64-bit loops (x86-64 add-with-carry and the portable one) against the plain 16-bit
// reference, at every length class and alignment, and over carry-heavy data (all 0xff).
TEST_F(NetTest, FastChecksumMatchesReferenceOverRandomLengthsAndAlignments)
{
	std::mt19937 rng(12);
	std::vector<uint8_t> buf(9000 + 64);
	for (int round = 0; round < 3000; round++) {
		const uint32_t len = round < 200 ? static_cast<uint32_t>(round) : rng() % 9001;
		const uint32_t align = rng() % 16;
		const int kind = round % 3;
		for (auto &b : buf)
			b = kind == 0 ? static_cast<uint8_t>(rng()) : kind == 1 ? 0xff : 0x00;
		const uint8_t *p = buf.data() + align;
		SCOPED_TRACE("len " + std::to_string(len) + " align " + std::to_string(align) +
			     " kind " + std::to_string(kind));
		const uint16_t want = ref_cksum(p, len);
		const uint16_t fast = net_cksum(p, len);
		const uint16_t gen = net_cksum_fold(net_cksum_add_generic(0, p, len));
		ASSERT_EQ(static_cast<uint16_t>(~rte_be_to_cpu_16(fast)), want);
		ASSERT_EQ(gen, fast);
		ASSERT_EQ(rte_raw_cksum(p, len), fast) << "the DPDK sum it replaces";
		// a nonzero sum of words folds to 0xffff, never 0, as the 16-bit sum does
		if (len > 1 && len % 2 == 0 && kind == 1) {
			ASSERT_EQ(fast, 0xffff);
		}
	}
}

TEST_F(NetTest, FastChecksumOverRandomChainsMatchesReference)
{
	std::mt19937 rng(7);
	for (int round = 0; round < 300; round++) {
		const size_t len = rng() % (round % 2 ? 2001 : 9001);
		Bytes data(len);
		for (auto &b : data)
			b = round % 4 == 0 ? 0xff : static_cast<uint8_t>(rng());
		std::vector<size_t> splits;
		for (size_t left = len; left > 0;) {
			size_t n = 1 + rng() % std::min<size_t>(left, round % 2 ? 7 : 1400);
			splits.push_back(n);
			left -= n;
		}
		rte_mbuf *m = mk(data, splits);
		ASSERT_NE(m, nullptr);
		const uint32_t off = len ? static_cast<uint32_t>(rng() % (len + 1)) : 0;
		const uint32_t n = static_cast<uint32_t>(rng() % (len - off + 1));
		SCOPED_TRACE("len " + std::to_string(len) + " off " + std::to_string(off) + " n " +
			     std::to_string(n) + " segs " + std::to_string(splits.size()));
		uint16_t sum = 0;
		ASSERT_EQ(net_cksum_mbuf(m, off, n, &sum), 0);
		EXPECT_EQ(static_cast<uint16_t>(~rte_be_to_cpu_16(sum)),
			  ref_cksum(data.data() + off, n));
		// net_cksum_mbuf_add adds to what is there (a pseudo header)
		uint64_t acc = 0x1234;
		ASSERT_EQ(net_cksum_mbuf_add(m, off, n, &acc), 0);
		uint64_t one = net_cksum_add(0, data.data() + off, n);
		EXPECT_EQ(net_cksum_fold(acc), net_cksum_fold(net_cksum_add64(one, 0x1234)));
		rte_pktmbuf_free(m);
	}
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
