// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: ip4_output_nh (a TCB's cached route and ARP slot, with its fast path for a
// fresh neighbour) sends what ip4_output sends: the same frames, in the same order, and the
// same counters, through resolution, refresh of a stale entry, expiry, an entry moving to
// another slot, fragmentation, DF and no route.
#include "net_fixture.h"

using namespace nett;

namespace
{

// One step's outcome: the frames sent and every counter.
struct Step {
	std::vector<Bytes> frames;
	std::vector<uint64_t> cnt;
	std::vector<int> rc;
};

// The home slot of ip in the ARP table (net_arp.c's Fibonacci hash).
uint32_t arp_home(uint32_t ip_be)
{
	return (rte_be_to_cpu_32(ip_be) * 2654435769u) >> (32 - __builtin_ctz(ARP_TABLE_SIZE));
}

class NetNh : public NetTest
{
      protected:
	bool use_nh = false;
	net_nh nh_peer{}, nh_far{}, nh_none{};

	int out(uint32_t dst, net_nh *nh, rte_mbuf *m)
	{
		(void)dst;
		return use_nh ? ip4_output_nh(ns.get(), m, nh) : ip4_output(ns.get(), m);
	}

	Step take(std::vector<int> rc)
	{
		Step s;
		for (const Sent &x : sent)
			s.frames.push_back(x.data);
		s.cnt.assign(ns->cnt, ns->cnt + NET_CNT_MAX);
		s.rc = std::move(rc);
		sent.clear();
		return s;
	}

	rte_mbuf *big(uint32_t dst, bool df)
	{
		IpSpec s;
		s.src = kOurIp;
		s.dst = dst;
		s.frag = df ? 0x4000 : 0;
		return mk(ip_packet(s, pattern(2000)));
	}

	std::vector<Step> script()
	{
		std::vector<Step> t;
		const uint32_t far = ip4(203, 0, 113, 7); // through the gateway
		ArpSpec peer_reply, gw_reply;
		peer_reply.op = 2;
		peer_reply.eth_dst = kOurMac;
		gw_reply = peer_reply;
		gw_reply.sha = kGwMac;
		gw_reply.sip = kGwIp;

		// unresolved: queued, one who-has each; then the replies flush them
		t.push_back(take({ out(kPeerIp, &nh_peer, out_pkt(kPeerIp, 1)),
				   out(far, &nh_far, out_pkt(far, 2)) }));
		rx(arp_frame(peer_reply));
		rx(arp_frame(gw_reply));
		t.push_back(take({}));
		// fresh: straight out
		t.push_back(take({ out(kPeerIp, &nh_peer, out_pkt(kPeerIp, 3)),
				   out(far, &nh_far, out_pkt(far, 4)) }));
		// stale: used, and polled once per retry period
		ns->now += ARP_REACHABLE_S * kHz;
		t.push_back(take({ out(kPeerIp, &nh_peer, out_pkt(kPeerIp, 5)),
				   out(kPeerIp, &nh_peer, out_pkt(kPeerIp, 6)),
				   out(far, &nh_far, out_pkt(far, 7)) }));
		ns->now += kHz * ARP_RETRY_MS / 1000;
		t.push_back(take({ out(kPeerIp, &nh_peer, out_pkt(kPeerIp, 8)) }));
		// the answer makes it fresh again
		rx(arp_frame(peer_reply));
		t.push_back(take({ out(kPeerIp, &nh_peer, out_pkt(kPeerIp, 9)) }));
		// expired before the timer saw it: resolved from scratch
		ns->now += ARP_EXPIRE_S * kHz;
		t.push_back(take({ out(kPeerIp, &nh_peer, out_pkt(kPeerIp, 10)),
				   out(far, &nh_far, out_pkt(far, 11)) }));
		rx(arp_frame(peer_reply));
		rx(arp_frame(gw_reply));
		t.push_back(take({ out(kPeerIp, &nh_peer, out_pkt(kPeerIp, 12)) }));
		// above the MTU: fragments, or a drop with DF
		t.push_back(take({ out(kPeerIp, &nh_peer, big(kPeerIp, false)),
				   out(kPeerIp, &nh_peer, big(kPeerIp, true)) }));
		return t;
	}
};

TEST_F(NetNh, SameFramesAndCountersAsIp4Output)
{
	std::vector<Step> want = script();
	TearDown();
	SetUp();
	use_nh = true;
	std::vector<Step> got = script();
	ASSERT_EQ(got.size(), want.size());
	for (size_t i = 0; i < got.size(); i++) {
		SCOPED_TRACE("step " + std::to_string(i));
		EXPECT_EQ(got[i].rc, want[i].rc);
		EXPECT_EQ(got[i].frames, want[i].frames);
		for (int c = 0; c < NET_CNT_MAX; c++)
			EXPECT_EQ(got[i].cnt[c], want[i].cnt[c]) << net_counter_names[c];
	}
	EXPECT_TRUE(nh_peer.known);
	EXPECT_FALSE(nh_peer.gw);
	EXPECT_TRUE(nh_far.gw);
}

TEST_F(NetNh, AnEntryThatMovedIsFoundAgain)
{
	// X shares the peer's home slot and comes first, so the peer sits one further on
	uint32_t x = 0;
	for (uint8_t h = 21; h < 255 && x == 0; h++)
		if (arp_home(ip4(198, 18, 0, h)) == arp_home(kPeerIp))
			x = ip4(198, 18, 0, h);
	if (x == 0) {
		for (uint8_t h = 21; h < 255 && x == 0; h++)
			if (arp_home(ip4(198, 18, 1, h)) == arp_home(kPeerIp))
				x = ip4(198, 18, 1, h);
	}
	ASSERT_NE(x, 0u) << "no address sharing the peer's home slot";
	learn_peer(x, kPeerMac2);
	learn_peer(kPeerIp, kPeerMac);
	net_nh nh{};
	ASSERT_EQ(ip4_output_nh(ns.get(), out_pkt(kPeerIp, 1), &nh), 0);
	EXPECT_EQ(nh.arp_slot, (arp_home(kPeerIp) + 1) % ARP_TABLE_SIZE);
	// X expires (the peer is confirmed later): the peer moves back to its home slot
	ns->now += (ARP_EXPIRE_S - 1) * kHz;
	learn_peer(kPeerIp, kPeerMac);
	advance_ms(1000 + 100); // past an ARP scan (every 100 ms)
	ASSERT_EQ(entry(x), nullptr);
	mark();
	ASSERT_EQ(ip4_output_nh(ns.get(), out_pkt(kPeerIp, 2), &nh), 0);
	EXPECT_EQ(nh.arp_slot, arp_home(kPeerIp));
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_TRUE(mac_eq(get_mac(sent[0].data, 0), kPeerMac));
	expect_no_drop();
}

TEST_F(NetNh, NoRouteIsDroppedEveryTimeAndNotRemembered)
{
	ns->ifs[0].gateway = 0;
	net_nh nh{};
	for (int i = 0; i < 3; i++) {
		mark();
		EXPECT_EQ(ip4_output_nh(ns.get(), out_pkt(ip4(203, 0, 113, 7)), &nh), -ENETUNREACH);
		expect_drop(NET_CNT_ip_drop_no_route);
		EXPECT_FALSE(nh.known);
	}
}

} // namespace
