// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: IPv4 reassembly (rte_ip_frag with sluice's budget and named drops) and the
// fragmentation of what the stack sends above the MTU. Fragments are built byte by byte; every
// case ends with the table empty and every mbuf back in the pool.
#include "net_fixture.h"

extern "C" {
#include <rte_config.h> // RTE_LIBRTE_IP_FRAG_MAX_FRAG
}

using namespace nett;

namespace
{

constexpr uint32_t kTimeoutMs = 1000;

class NetFragTest : public NetTest
{
      protected:
	uint32_t max_datagrams = 4;
	uint32_t max_mbufs = 64;

	void SetUp() override
	{
		NetTest::SetUp();
		init_table();
	}

	void init_table()
	{
		net_frag_fini_for_test();
		net_frag_conf c{};
		c.max_datagrams = max_datagrams;
		c.max_mbufs = max_mbufs;
		c.timeout_ms = kTimeoutMs;
		ASSERT_EQ(net_frag_init(ns.get(), &c, SOCKET_ID_ANY), 0);
		mark();
	}

	// net_stack_fini releases the table; re-create the stack's table with other sizes.
	void net_frag_fini_for_test()
	{
		if (ns->frag.tbl != nullptr) {
			net_stack_fini(ns.get());
			ASSERT_EQ(ns->frag.tbl, nullptr);
		}
	}

	// One fragment of the datagram (header s, payload) holding payload[off, off + len).
	static Bytes frag_frame(IpSpec s, const Bytes &payload, size_t off, size_t len, bool mf)
	{
		s.frag = static_cast<uint16_t>((mf ? 0x2000 : 0) | (off / 8));
		Bytes piece(payload.begin() + off, payload.begin() + off + len);
		return frame_ip(s, piece);
	}

	// payload cut into pieces of `step` bytes (the last takes the rest), in that order.
	static std::vector<Bytes> cut(const IpSpec &s, const Bytes &payload, size_t step)
	{
		std::vector<Bytes> v;
		for (size_t off = 0; off < payload.size(); off += step) {
			size_t len = std::min(step, payload.size() - off);
			v.push_back(frag_frame(s, payload, off, len, off + len < payload.size()));
		}
		return v;
	}

	static IpSpec icmp_spec(uint16_t id)
	{
		IpSpec s;
		s.proto = IPPROTO_ICMP;
		s.id = id;
		return s;
	}

	// Expire whatever the table holds; then nothing is held and the pool is full again.
	void expect_baseline()
	{
		advance_ms(kTimeoutMs + 1);
		advance_ms(1);
		EXPECT_EQ(ns->frag.mbufs, 0u);
		EXPECT_EQ(rte_mempool_avail_count(pool), kPoolSize) << "mbufs held";
	}

	// Reassemble the fragments the stack sent (Ethernet frames) into one IPv4 datagram.
	static Bytes join_sent(const std::vector<Sent> &frames)
	{
		Bytes payload;
		Bytes head;
		for (const Sent &f : frames) {
			const Bytes &d = f.data;
			uint16_t fo = get16(d, kEth + 6);
			size_t off = (fo & 0x1fff) * 8u;
			size_t len = get16(d, kEth + 2) - 20u;
			if (payload.size() < off + len)
				payload.resize(off + len);
			std::copy(d.begin() + kEth + 20, d.begin() + kEth + 20 + len,
				  payload.begin() + off);
			if (off == 0)
				head.assign(d.begin() + kEth, d.begin() + kEth + 20);
		}
		head.insert(head.end(), payload.begin(), payload.end());
		return head;
	}
};

// ---------------------------------------------------------------- reassembly

TEST_F(NetFragTest, InOrderEchoReassembledAndReplyFragmented)
{
	learn_peer();
	mark();
	const Bytes data = pattern(3000, 9);
	const Bytes icmp = icmp_msg(8, 0, 0x77, 3, data);
	const auto frames = cut(icmp_spec(0x1111), icmp, 1480);
	ASSERT_EQ(frames.size(), 3u);
	for (const auto &f : frames)
		rx(f);
	expect_no_drop();
	EXPECT_EQ(moved(NET_CNT_frag_rx), 3u);
	EXPECT_EQ(moved(NET_CNT_frag_reassembled), 1u);
	EXPECT_EQ(moved(NET_CNT_icmp_echo_replies), 1u);
	// The 3028-byte reply leaves as three fragments of at most 1500 bytes, each a frame in
	// one segment, and they put together the echo of the request.
	ASSERT_EQ(sent.size(), 3u);
	EXPECT_EQ(moved(NET_CNT_frag_tx_datagrams), 1u);
	EXPECT_EQ(moved(NET_CNT_frag_tx_fragments), 3u);
	for (size_t i = 0; i < sent.size(); i++) {
		const Bytes &d = sent[i].data;
		SCOPED_TRACE(i);
		EXPECT_EQ(sent[i].nb_segs, 1);
		EXPECT_LE(d.size(), kEth + 1500);
		EXPECT_EQ(get16(d, kEth + 2), d.size() - kEth);
		EXPECT_EQ(ref_cksum(d.data() + kEth, 20), 0) << "fragment header checksum";
		EXPECT_EQ(get16(d, kEth + 4), 0x1111); // one id for the three
		uint16_t fo = get16(d, kEth + 6);
		EXPECT_EQ((fo & 0x2000) != 0, i + 1 < sent.size()) << "MF";
		EXPECT_EQ(fo & 0x4000, 0) << "DF";
	}
	const Bytes reply = join_sent(sent);
	ASSERT_EQ(reply.size(), 20 + 8 + data.size());
	EXPECT_EQ(get_ip(reply, 12), kOurIp);
	EXPECT_EQ(get_ip(reply, 16), kPeerIp);
	EXPECT_EQ(reply[20], 0); // echo reply
	EXPECT_EQ(ref_cksum(reply.data() + 20, reply.size() - 20), 0) << "ICMP checksum";
	EXPECT_EQ(Bytes(reply.begin() + 28, reply.end()), data);
	expect_baseline();
}

TEST_F(NetFragTest, OutOfOrderDeliveredWhole)
{
	const Bytes payload = pattern(2400, 1);
	IpSpec s;
	s.id = 0x2222;
	auto frames = cut(s, payload, 800);
	ASSERT_EQ(frames.size(), 3u);
	for (size_t i : { 2, 0, 1 }) {
		rx(frames[i]);
		if (i != 1) {
			EXPECT_TRUE(delivered.empty());
		}
	}
	expect_no_drop();
	EXPECT_EQ(moved(NET_CNT_frag_reassembled), 1u);
	ASSERT_EQ(delivered.size(), 1u);
	const Bytes &d = delivered[0].data;
	ASSERT_EQ(d.size(), 20 + payload.size());
	EXPECT_EQ(get16(d, 2), d.size()) << "total length of the datagram";
	EXPECT_EQ(get16(d, 6) & 0x3fff, 0) << "no longer a fragment";
	EXPECT_EQ(get16(d, 4), 0x2222);
	EXPECT_EQ(ref_cksum(d.data(), 20), 0) << "header checksum recomputed";
	EXPECT_EQ(Bytes(d.begin() + 20, d.end()), payload);
	EXPECT_EQ(ns->frag.mbufs, 0u);
	expect_baseline();
}

TEST_F(NetFragTest, SmallDatagramInTinyPiecesDeliveredInOneBuffer)
{
	const Bytes payload = pattern(100, 4);
	for (const auto &f : cut(IpSpec(), payload, 16))
		rx(f);
	expect_no_drop();
	ASSERT_EQ(delivered.size(), 1u);
	EXPECT_EQ(delivered[0].nb_segs, 1) << "linearised: 7 fragments would pin 7 buffers";
	EXPECT_EQ(Bytes(delivered[0].data.begin() + 20, delivered[0].data.end()), payload);
	expect_baseline();
}

TEST_F(NetFragTest, InterleavedDatagramsBothComplete)
{
	const Bytes a = pattern(1600, 1), b = pattern(1600, 2);
	IpSpec sa, sb;
	sa.id = 1;
	sb.id = 2;
	auto fa = cut(sa, a, 800), fb = cut(sb, b, 800);
	rx(fa[0]);
	rx(fb[1]);
	rx(fb[0]);
	rx(fa[1]);
	expect_no_drop();
	ASSERT_EQ(delivered.size(), 2u);
	EXPECT_EQ(Bytes(delivered[0].data.begin() + 20, delivered[0].data.end()), b);
	EXPECT_EQ(Bytes(delivered[1].data.begin() + 20, delivered[1].data.end()), a);
	expect_baseline();
}

TEST_F(NetFragTest, DuplicateBeforeCompletionDropsTheDatagram)
{
	const Bytes payload = pattern(2400);
	auto frames = cut(IpSpec(), payload, 800);
	rx(frames[0]);
	rx(frames[1]);
	rx(frames[1]); // duplicate middle: rte_ip_frag counts its bytes twice
	rx(frames[2]);
	EXPECT_TRUE(delivered.empty());
	expect_drop(NET_CNT_frag_drop_bad, 4);
	EXPECT_EQ(ns->frag.mbufs, 0u);
	expect_baseline();
}

TEST_F(NetFragTest, DuplicateAfterCompletionWaitsForTheTimeout)
{
	const Bytes payload = pattern(1600);
	auto frames = cut(IpSpec(), payload, 800);
	rx(frames[0]);
	rx(frames[1]);
	ASSERT_EQ(delivered.size(), 1u);
	rx(frames[1]);
	expect_no_drop();
	EXPECT_EQ(ns->frag.mbufs, 1u);
	advance_ms(kTimeoutMs + 1);
	expect_drop(NET_CNT_frag_drop_timeout, 1);
	expect_baseline();
}

TEST_F(NetFragTest, OverlappingFragmentsDropTheDatagram)
{
	const Bytes payload = pattern(2400);
	IpSpec s;
	rx(frag_frame(s, payload, 0, 1200, true));
	rx(frag_frame(s, payload, 800, 800, true)); // overlaps the first by 400 bytes
	rx(frag_frame(s, payload, 1600, 800, false));
	EXPECT_TRUE(delivered.empty());
	expect_drop(NET_CNT_frag_drop_bad, 3);
	expect_baseline();
}

TEST_F(NetFragTest, HoleWithMatchingSizeDropsTheDatagram)
{
	// 0-800 twice in different cuts and nothing at 800-1600: the sizes add up to the total,
	// the pieces do not.
	const Bytes payload = pattern(2400);
	IpSpec s;
	rx(frag_frame(s, payload, 0, 800, true));
	rx(frag_frame(s, payload, 400, 800, true));
	rx(frag_frame(s, payload, 1600, 800, false));
	EXPECT_TRUE(delivered.empty());
	expect_drop(NET_CNT_frag_drop_bad, 3);
	expect_baseline();
}

TEST_F(NetFragTest, MalformedFragmentsDroppedAsBad)
{
	IpSpec s;
	// A fragment that is not the last must carry a multiple of 8 bytes.
	rx(frame_ip(
		[&] {
			IpSpec t = s;
			t.frag = 0x2000;
			return t;
		}(),
		pattern(100)));
	expect_drop(NET_CNT_frag_drop_bad);
	// Offset 65528 plus 16 bytes ends past 65535.
	mark();
	IpSpec far = s;
	far.frag = 0x1fff;
	rx(frame_ip(far, pattern(16)));
	expect_drop(NET_CNT_frag_drop_bad);
	// An empty fragment.
	mark();
	IpSpec empty = s;
	empty.frag = 0x2001;
	rx(frame_ip(empty, {}));
	expect_drop(NET_CNT_frag_drop_bad);
	EXPECT_EQ(ns->frag.mbufs, 0u);
	expect_baseline();
}

TEST_F(NetFragTest, TimeoutDropsAnIncompleteDatagram)
{
	const Bytes payload = pattern(2400);
	auto frames = cut(IpSpec(), payload, 800);
	rx(frames[0]);
	rx(frames[2]);
	EXPECT_EQ(ns->frag.mbufs, 2u);
	EXPECT_EQ(ns->frag.mbufs_hwm, 2u);
	advance_ms(kTimeoutMs / 2);
	expect_no_drop();
	advance_ms(kTimeoutMs / 2 + 1);
	expect_drop(NET_CNT_frag_drop_timeout, 2);
	EXPECT_EQ(ns->frag.mbufs, 0u);
	// The missing middle, late, starts a new datagram that times out in turn.
	mark();
	rx(frames[1]);
	EXPECT_TRUE(delivered.empty());
	advance_ms(kTimeoutMs + 1);
	expect_drop(NET_CNT_frag_drop_timeout, 1);
	expect_baseline();
}

TEST_F(NetFragTest, ExpiredEntryReusedByItsOwnNextFragment)
{
	// No loop ran between: the library finds the old entry expired when the next fragment
	// of the same datagram arrives, frees it and starts again.
	const Bytes payload = pattern(1600);
	auto frames = cut(IpSpec(), payload, 800);
	rx(frames[0]);
	ns->now += (kTimeoutMs + 1) * kHz / 1000;
	rx(frames[1]);
	expect_drop(NET_CNT_frag_drop_timeout, 1);
	EXPECT_TRUE(delivered.empty());
	EXPECT_EQ(ns->frag.mbufs, 1u);
	expect_baseline();
}

TEST_F(NetFragTest, TableFullDropsTheNewDatagram)
{
	const Bytes payload = pattern(1600);
	for (uint16_t id = 1; id <= max_datagrams; id++) {
		IpSpec s;
		s.id = id;
		rx(cut(s, payload, 800)[0]);
	}
	expect_no_drop();
	IpSpec extra;
	extra.id = 100;
	auto fx = cut(extra, payload, 800);
	rx(fx[0]);
	expect_drop(NET_CNT_frag_drop_table_full);
	// A datagram already in the table still completes.
	mark();
	IpSpec first;
	first.id = 1;
	rx(cut(first, payload, 800)[1]);
	expect_no_drop();
	EXPECT_EQ(delivered.size(), 1u);
	// Once the others time out, there is room again.
	advance_ms(kTimeoutMs + 1);
	mark();
	rx(fx[0]);
	rx(fx[1]);
	expect_no_drop();
	EXPECT_EQ(delivered.size(), 1u);
	expect_baseline();
}

TEST_F(NetFragTest, TooManyFragmentsDropTheDatagram)
{
	// Debian's DPDK keeps at most RTE_LIBRTE_IP_FRAG_MAX_FRAG (8) fragments per datagram.
	ASSERT_EQ(RTE_LIBRTE_IP_FRAG_MAX_FRAG, 8);
	const Bytes payload = pattern(80, 5);
	auto frames = cut(IpSpec(), payload, 8); // 10 fragments
	ASSERT_EQ(frames.size(), 10u);
	// Exactly 8 reassemble.
	auto eight = cut(IpSpec(), pattern(64, 5), 8);
	for (const auto &f : eight)
		rx(f);
	expect_no_drop();
	EXPECT_EQ(delivered.size(), 1u);
	mark();
	for (size_t i = 0; i < 8;
	     i++) // the first and 7 middle ones: the 7th middle is one too many
		rx(frames[i]);
	expect_drop(NET_CNT_frag_drop_too_many, 8);
	EXPECT_EQ(ns->frag.mbufs, 0u);
	// What follows of it starts a new entry, which only times out.
	mark();
	rx(frames[8]);
	rx(frames[9]);
	EXPECT_TRUE(delivered.empty());
	advance_ms(kTimeoutMs + 1);
	expect_drop(NET_CNT_frag_drop_timeout, 2);
	expect_baseline();
}

TEST_F(NetFragTest, BudgetBoundsTheMbufsHeld)
{
	max_mbufs = 3;
	max_datagrams = 16;
	init_table();
	const Bytes payload = pattern(2400);
	for (uint16_t id = 1; id <= 3; id++) {
		IpSpec s;
		s.id = id;
		rx(cut(s, payload, 800)[0]);
	}
	expect_no_drop();
	EXPECT_EQ(ns->frag.mbufs, 3u);
	IpSpec s4;
	s4.id = 4;
	rx(cut(s4, payload, 800)[0]);
	expect_drop(NET_CNT_frag_drop_budget);
	// A fragment whose datagram is in the table is refused too: the budget is the bound.
	mark();
	IpSpec s1;
	s1.id = 1;
	rx(cut(s1, payload, 800)[1]);
	expect_drop(NET_CNT_frag_drop_budget);
	EXPECT_EQ(ns->frag.mbufs, 3u);
	EXPECT_EQ(ns->frag.mbufs_hwm, 3u);
	mark();
	advance_ms(kTimeoutMs + 1);
	expect_drop(NET_CNT_frag_drop_timeout, 3);
	EXPECT_EQ(ns->frag.mbufs, 0u);
	// Then room again: a whole datagram passes.
	mark();
	for (const auto &f : cut(s4, pattern(1200), 800))
		rx(f);
	expect_no_drop();
	EXPECT_EQ(delivered.size(), 1u);
	expect_baseline();
}

TEST_F(NetFragTest, MultiSegmentFragmentsCountEveryBuffer)
{
	const Bytes payload = pattern(1600);
	auto frames = cut(IpSpec(), payload, 800);
	rx(frames[0], { 100, 300 }); // three segments
	EXPECT_EQ(ns->frag.mbufs, 3u);
	rx(frames[1], { 400 });
	expect_no_drop();
	ASSERT_EQ(delivered.size(), 1u);
	EXPECT_EQ(Bytes(delivered[0].data.begin() + 20, delivered[0].data.end()), payload);
	EXPECT_EQ(ns->frag.mbufs, 0u);
	expect_baseline();
}

TEST_F(NetFragTest, SteeringHookTakesFragmentsBeforeReassembly)
{
	static std::vector<rte_mbuf *> taken;
	taken.clear();
	ns->hooks.frag_steer = [](net_stack *, rte_mbuf *m, uint16_t) {
		taken.push_back(m);
		return true;
	};
	const Bytes payload = pattern(1600);
	auto frames = cut(IpSpec(), payload, 800);
	rx(frames[0]);
	rx(frames[1]);
	rx(frame_ip(IpSpec(), pattern(20))); // not a fragment: not steered
	expect_no_drop();
	ASSERT_EQ(taken.size(), 2u);
	EXPECT_EQ(ns->frag.mbufs, 0u);
	EXPECT_EQ(delivered.size(), 1u);
	// What the owner does with them: net_frag_input, data at the IPv4 header.
	for (rte_mbuf *m : taken)
		net_frag_input(ns.get(), m, 0);
	ASSERT_EQ(delivered.size(), 2u);
	EXPECT_EQ(Bytes(delivered[1].data.begin() + 20, delivered[1].data.end()), payload);
	expect_baseline();
}

TEST_F(NetFragTest, WholeDatagramAboveTheMtuAnsweredInFragments)
{
	// What af_packet hands over after the kernel reassembled a fragmented echo.
	learn_peer();
	mark();
	const Bytes data = pattern(1800, 2);
	IpSpec s;
	s.proto = IPPROTO_ICMP;
	rx(frame_ip(s, icmp_msg(8, 0, 1, 1, data)));
	expect_no_drop();
	EXPECT_EQ(moved(NET_CNT_icmp_echo_replies), 1u);
	ASSERT_EQ(sent.size(), 2u);
	const Bytes reply = join_sent(sent);
	EXPECT_EQ(Bytes(reply.begin() + 28, reply.end()), data);
	expect_baseline();
}

// ---------------------------------------------------------------- output

TEST_F(NetFragTest, OutputAboveMtuWithDfDroppedAndCounted)
{
	learn_peer();
	mark();
	IpSpec s;
	s.src = kOurIp;
	s.dst = kPeerIp;
	s.frag = 0x4000; // DF
	EXPECT_EQ(ip4_output(ns.get(), mk(ip_packet(s, pattern(2000)))), -EMSGSIZE);
	expect_drop(NET_CNT_ip_drop_df_too_big);
	EXPECT_TRUE(sent.empty());
	// Without DF, the same datagram leaves in two fragments.
	mark();
	s.frag = 0;
	const Bytes dgram = ip_packet(s, pattern(2000));
	EXPECT_EQ(ip4_output(ns.get(), mk(dgram, { 700, 700 })), 0);
	expect_no_drop();
	ASSERT_EQ(sent.size(), 2u);
	EXPECT_EQ(get16(sent[0].data, kEth + 2), 1500);
	EXPECT_EQ(get16(sent[1].data, kEth + 2), 20 + 2000 - 1480);
	Bytes joined = join_sent(sent);
	EXPECT_EQ(Bytes(joined.begin() + 20, joined.end()), Bytes(dgram.begin() + 20, dgram.end()));
	// At exactly the MTU: one frame, no fragmentation.
	mark();
	s.frag = 0x4000;
	EXPECT_EQ(ip4_output(ns.get(), mk(ip_packet(s, pattern(1480)))), 0);
	expect_no_drop();
	ASSERT_EQ(sent.size(), 1u);
	EXPECT_EQ(moved(NET_CNT_frag_tx_datagrams), 0u);
	expect_baseline();
}

TEST_F(NetFragTest, OutputFragmentsWaitForArpTogether)
{
	mark();
	IpSpec s;
	s.src = kOurIp;
	s.dst = kPeerIp;
	EXPECT_EQ(ip4_output(ns.get(), mk(ip_packet(s, pattern(4000)), { 2000 })), 0);
	ASSERT_EQ(sent.size(), 1u); // the ARP request; three fragments wait
	EXPECT_EQ(get16(sent[0].data, 12), 0x0806);
	ArpSpec reply;
	reply.op = 2;
	reply.tha = kOurMac;
	reply.eth_dst = kOurMac;
	sent.clear();
	rx(arp_frame(reply));
	ASSERT_EQ(sent.size(), 3u);
	Bytes joined = join_sent(sent);
	EXPECT_EQ(Bytes(joined.begin() + 20, joined.end()), pattern(4000));
	expect_no_drop();
	expect_baseline();
}

} // namespace
