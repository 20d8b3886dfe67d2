// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: tcpstack's Ethernet input and ARP (requests, replies, learning, resolution of
// outgoing packets, pending queue, retries, expiry, table limits).
#include "net_fixture.h"

using namespace nett;

namespace
{

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

} // namespace
