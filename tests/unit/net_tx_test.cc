// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: what reaches a port's transmit hook honours the port's TX capabilities. A port
// without RTE_ETH_TX_OFFLOAD_MULTI_SEGS (af_xdp in DPDK 22.11 sends pkt_len bytes from the
// first segment) gets every chain as one segment with the same bytes, counted; a port with it
// gets chains as they are (zero copy).
#include "net_fixture.h"

#include <rte_ethdev.h>

using namespace nett;

namespace
{

class NetTxTest : public NetTest
{
      protected:
	// An IPv4 packet to the (resolved) peer: a 40-byte header segment, then payload
	// segments, as the TCP layer builds a data segment.
	Bytes packet(size_t payload)
	{
		IpSpec s;
		s.src = kOurIp;
		s.dst = kPeerIp;
		s.proto = 6;
		return ip_packet(s, pattern(payload, 3));
	}

	Bytes on_wire(const Bytes &ip)
	{
		Bytes f = eth_hdr(kPeerMac, kOurMac, 0x0800);
		f.insert(f.end(), ip.begin(), ip.end());
		return f;
	}

	void SetUp() override
	{
		NetTest::SetUp();
		learn_peer();
		mark();
	}
};

TEST_F(NetTxTest, ChainIsLinearisedForAPortWithoutMultiSegs)
{
	ns->ifs[0].tx_offloads = 0;
	const Bytes ip = packet(1400);
	ASSERT_EQ(ip4_output(ns.get(), mk(ip, { 40, 700, 300 })), 0);
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_EQ(sent[0].nb_segs, 1);
	EXPECT_EQ(sent[0].data, on_wire(ip));
	EXPECT_EQ(moved(NET_CNT_tx_linearized), 1u);
	EXPECT_EQ(moved(NET_CNT_tx_frames), 1u);
	expect_no_drop();
}

TEST_F(NetTxTest, SingleSegmentIsNotTouched)
{
	ns->ifs[0].tx_offloads = 0;
	const Bytes ip = packet(100);
	ASSERT_EQ(ip4_output(ns.get(), mk(ip)), 0);
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_EQ(sent[0].data, on_wire(ip));
	EXPECT_EQ(moved(NET_CNT_tx_linearized), 0u);
}

TEST_F(NetTxTest, ChainGoesAsItIsToAPortWithMultiSegs)
{
	ns->ifs[0].tx_offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	const Bytes ip = packet(1400);
	ASSERT_EQ(ip4_output(ns.get(), mk(ip, { 40, 700 })), 0);
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_EQ(sent[0].nb_segs, 3);
	EXPECT_EQ(sent[0].data, on_wire(ip));
	EXPECT_EQ(moved(NET_CNT_tx_linearized), 0u);
	expect_no_drop();
}

// A head that is not ours alone (a clone: its buffer is shared with the original chain) is
// copied into a new buffer; the original is left as it was.
TEST_F(NetTxTest, SharedHeadIsCopiedAndTheOriginalKept)
{
	ns->ifs[0].tx_offloads = 0;
	const Bytes ip = packet(1000);
	rte_mbuf *orig = mk(ip, { 40, 500 });
	rte_mbuf *clone = rte_pktmbuf_clone(orig, pool);
	ASSERT_NE(clone, nullptr);
	ASSERT_EQ(ip4_output(ns.get(), clone), 0);
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_EQ(sent[0].nb_segs, 1);
	EXPECT_EQ(sent[0].data, on_wire(ip));
	EXPECT_EQ(moved(NET_CNT_tx_linearized), 1u);
	EXPECT_EQ(orig->nb_segs, 3);
	EXPECT_EQ(mbuf_bytes(orig), ip);
	rte_pktmbuf_free(orig);
	expect_no_drop();
}

TEST_F(NetTxTest, NoBufferForTheCopyIsADropCountedByName)
{
	ns->ifs[0].tx_offloads = 0;
	const Bytes ip = packet(1000);
	rte_mbuf *orig = mk(ip, { 40, 500 });
	rte_mbuf *clone = rte_pktmbuf_clone(orig, pool);
	ASSERT_NE(clone, nullptr);
	std::vector<rte_mbuf *> hog;
	for (rte_mbuf *m; (m = rte_pktmbuf_alloc(pool)) != nullptr;)
		hog.push_back(m);
	ip4_output(ns.get(), clone); /* 0: dropped after routing, like a full queue */
	EXPECT_TRUE(sent.empty());
	expect_drop(NET_CNT_tx_drop_linearize_no_mbuf);
	for (rte_mbuf *m : hog)
		rte_pktmbuf_free(m);
	EXPECT_EQ(mbuf_bytes(orig), ip);
	rte_pktmbuf_free(orig);
}

} // namespace
