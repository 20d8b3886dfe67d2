// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: TCP data transfer: delivery (zero copy), delayed ACK (RFC 5681 4.2 / 9293
// 3.8.6.3), reassembly, receive window, segmentation, initial window (RFC 6928), slow start,
// send buffer limits, and sequence numbers wrapping on both sides.
#include "tcp_harness.h"

#include <algorithm>
#include <set>

using namespace tcpt;

namespace
{

class TcpData : public TcpTest
{
      protected:
	// The peer's data: bytes [off, off + len) of its stream, as a segment of flow f.
	Seg chunk(Flow *f, uint32_t off, uint32_t len)
	{
		return f->seg().seq(f->irs + 1 + off).ack(f->iss + 1).data(pattern(len, off));
	}
	static Seg plain_syn()
	{
		return peer_syn().no_ts().no_sackok();
	}
};

TEST_F(TcpData, OneSegmentGetsDelayedAck)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(chunk(f, 0, 1448));
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(1448)));
	EXPECT_NO_TX();
	EXPECT_NEAR(wait_tx(500), conf.delayed_ack_ms, 1);
	EXPECT_TX(f->out().flags(F_ACK).ack(1001 + 1448).nodata());
	EXPECT_EQ(cnt(TCP_CNT_delayed_acks), 1u);
	EXPECT_EQ(cnt(TCP_CNT_bytes_in), 1448u);
}

TEST_F(TcpData, SmallSegmentGetsDelayedAck)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(chunk(f, 0, 10));
	EXPECT_NO_TX();
	EXPECT_NEAR(wait_tx(500), conf.delayed_ack_ms, 1);
	EXPECT_TX(f->out().flags(F_ACK).ack(1011));
}

TEST_F(TcpData, EverySecondFullSegmentAckedAtOnce)
{
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	inject(chunk(f, 0, 1460));
	EXPECT_NO_TX();
	inject(chunk(f, 1460, 1460));
	EXPECT_TX(f->out().flags(F_ACK).ack(1001 + 2920));
	inject(chunk(f, 2920, 1460));
	EXPECT_NO_TX();
	inject(chunk(f, 4380, 1460));
	EXPECT_TX(f->out().flags(F_ACK).ack(1001 + 4 * 1460));
	advance_ms(100);
	EXPECT_NO_TX();
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(4 * 1460)));
}

TEST_F(TcpData, DelayedAckPiggybacksOnData)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(chunk(f, 0, 5));
	advance_ms(10);
	ASSERT_EQ(send(f->u, "reply"), 0);
	EXPECT_TX(f->out().flags(F_ACK).ack(1006).data("reply"));
	advance_ms(100);
	EXPECT_NO_TX(); // the ACK went with the data; no separate delayed ACK
}

TEST_F(TcpData, OutOfOrderAndGapFillAckedAtOnce)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(chunk(f, 100, 100));
	EXPECT_TX(f->out().flags(F_ACK).ack(1001)); // duplicate ACK at once
	EXPECT_EQ(f->u->rx, "");
	EXPECT_EQ(cnt(TCP_CNT_ooo_segments), 1u);
	EXPECT_EQ(info(f->c()).ooo_segments, 1);
	inject(chunk(f, 0, 100));
	EXPECT_TX(f->out().flags(F_ACK).ack(1201)); // filling a hole is acknowledged at once
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(200)));
	EXPECT_EQ(info(f->c()).ooo_segments, 0);
}

class TcpReassembly : public TcpData, public ::testing::WithParamInterface<std::vector<int>>
{
};

TEST_P(TcpReassembly, AnyArrivalOrderDeliversTheStream)
{
	// five pieces of different sizes
	const uint32_t off[] = { 0, 300, 1000, 1100, 2500, 2900 };
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	for (int k : GetParam())
		inject(chunk(f, off[k], off[k + 1] - off[k]));
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(2900)));
	advance_ms(conf.delayed_ack_ms + 1);
	std::vector<Pkt> v = take_tx();
	ASSERT_FALSE(v.empty());
	EXPECT_EQ(v.back().ack, 1001u + 2900) << v.back().describe();
	EXPECT_EQ(info(f->c()).ooo_segments, 0);
	EXPECT_EQ(ts.ooo_mbufs, 0u);
}

INSTANTIATE_TEST_SUITE_P(
	Orders, TcpReassembly,
	::testing::Values(std::vector<int>{ 0, 1, 2, 3, 4 }, std::vector<int>{ 1, 2, 3, 4, 0 },
			  std::vector<int>{ 4, 3, 2, 1, 0 }, std::vector<int>{ 2, 0, 4, 1, 3 },
			  std::vector<int>{ 0, 2, 1, 4, 3 }, std::vector<int>{ 3, 1, 4, 0, 2 },
			  std::vector<int>{ 4, 0, 3, 1, 2 }));

TEST_F(TcpData, DuplicatesAreNotDeliveredTwice)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(chunk(f, 0, 100));
	inject(chunk(f, 0, 100));		    // a retransmission of data already received
	EXPECT_TX(f->out().flags(F_ACK).ack(1101)); // RFC 9293 3.10.7.4: ACK an old segment
	inject(chunk(f, 300, 100));
	EXPECT_TX(f->out().flags(F_ACK).ack(1101));
	inject(chunk(f, 300, 100)); // out-of-order duplicate
	EXPECT_TX(f->out().flags(F_ACK).ack(1101));
	EXPECT_EQ(info(f->c()).ooo_segments, 1);
	inject(chunk(f, 100, 200));
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(400)));
	EXPECT_GE(cnt(TCP_CNT_drop_duplicate), 1u);
}

TEST_F(TcpData, OverlapsKeepOnlyNewBytes)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(chunk(f, 0, 100));
	inject(chunk(f, 50, 150)); // starts in old data
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(200)));
	inject(chunk(f, 300, 100)); // ooo [300,400)
	inject(chunk(f, 350, 150)); // ooo overlapping its tail [350,500)
	inject(chunk(f, 600, 50));  // ooo [600,650)
	inject(chunk(f, 550, 200)); // ooo covering [600,650) entirely
	inject(chunk(f, 250, 100)); // ooo overlapping the head of [300,...)
	inject(chunk(f, 150, 420)); // in order, overlapping old data and several blocks
	// The stack may discard the parts of an out-of-order segment that straddle data it
	// holds (never what it has SACKed): what it delivered must be exactly the stream's
	// prefix, and its ACK must say where that prefix ends.
	uint32_t have = (uint32_t)f->u->rx.size();
	EXPECT_GE(have, 650u);
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(have)));
	EXPECT_EQ(info(f->c()).rcv_nxt, 1001 + have);
	advance_ms(conf.delayed_ack_ms + 1);
	std::vector<Pkt> v = take_tx();
	ASSERT_FALSE(v.empty());
	EXPECT_EQ(v.back().ack, 1001u + have);
	if (have < 750)
		inject(chunk(f, have, 750 - have)); // the peer retransmits the rest
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(750)));
	EXPECT_EQ(info(f->c()).ooo_segments, 0);
}

TEST_F(TcpData, OutOfOrderQueueIsBounded)
{
	conf.ooo_max_segments = 3;
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	// ten pieces of 100 bytes; the even ones after the first arrive first, not adjacent
	for (int k : { 2, 4, 6, 8 })
		inject(chunk(f, k * 100, 100));
	EXPECT_EQ(cnt(TCP_CNT_drop_ooo_queue_full), 1u) << "the fourth block is one too many";
	EXPECT_EQ(info(f->c()).ooo_segments, 3);
	drain_tx();
	inject(chunk(f, 0, 100));
	inject(chunk(f, 100, 100));
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(300)));
	inject(chunk(f, 300, 100));
	inject(chunk(f, 500, 100));
	inject(chunk(f, 700, 100));
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(800)))
		<< "held blocks delivered, the dropped one missing";
	drain_tx();
	inject(chunk(f, 800, 200));
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(1000)));
	EXPECT_EQ(ts.ooo_mbufs, 0u);
}

TEST_F(TcpData, OutOfOrderFinWaitsForTheHole)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(chunk(f, 100, 100).fin());
	EXPECT_FALSE(f->u->peer_fin);
	EXPECT_EQ(tcp_conn_state(f->c()), TCP_ESTABLISHED);
	drain_tx();
	inject(chunk(f, 0, 100));
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(200)));
	EXPECT_TRUE(f->u->peer_fin);
	EXPECT_LE(wait_tx(conf.delayed_ack_ms + 1), conf.delayed_ack_ms + 1);
	EXPECT_TX(f->out().flags(F_ACK).ack(1202));
	EXPECT_EQ(tcp_conn_state(f->c()), TCP_CLOSE_WAIT);
}

TEST_F(TcpData, FinWithDataDeliversDataFirst)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(chunk(f, 0, 7).fin());
	EXPECT_EQ(take_events(), "accept#1 data#1:7 fin#1");
	EXPECT_LE(wait_tx(conf.delayed_ack_ms + 1), conf.delayed_ack_ms + 1);
	EXPECT_TX(f->out().flags(F_ACK).ack(1009));
}

TEST_F(TcpData, DataOnTheHandshakeAck)
{
	listen();
	inject(peer_syn());
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK));
	inject(seg().seq(1001).ack(sa.seq + 1).data("GET / HTTP/1.1\r\n\r\n"));
	EXPECT_EQ(take_events(), "accept#1 data#1:18");
	ASSERT_NE(last_accepted, nullptr);
	EXPECT_EQ(last_accepted->rx, "GET / HTTP/1.1\r\n\r\n");
}

TEST_F(TcpData, ZeroCopyDelivery)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(chunk(f, 0, 1000));
	ASSERT_EQ(f->u->rx_bufs.size(), 1u);
	EXPECT_EQ(f->u->rx_bufs[0], last_inject_buf) << "on_data must hand over the received mbuf";
	inject(chunk(f, 1000, 1400).chain(2));
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(2400))) << "a chained segment is delivered whole";
}

TEST_F(TcpData, ChainedSegmentWithOddPiecesPassesChecksum)
{
	// a scattered receive may split a segment anywhere: 467 + 467 + 466 bytes
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(chunk(f, 0, 1400).chain(3));
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(1400)));
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_cksum), 0u);
}

TEST_F(TcpData, SendOfOddSizedChainHasValidChecksums)
{
	// the harness verifies the TCP checksum of every emitted segment; payload mbufs of odd
	// length put segment boundaries at odd offsets of the checksummed data
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	std::string d = pattern(3 * 999, 0, 'o');
	ASSERT_EQ(send(f->u, d, 3), 0);
	std::string got;
	for (Pkt &p : take_tx())
		got += p.data;
	EXPECT_TRUE(bytes_eq(got, d));
}

TEST_F(TcpData, HeldDataShrinksTheWindowAndRecvedReopensIt)
{
	conf.rcv_buf = 32768;
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	f->u->hold = true;
	uint8_t ws = info(f->c()).rcv_wscale;
	uint32_t seq = 1001, right = 1001 + info(f->c()).rcv_wnd, prev_wnd = UINT32_MAX;
	// the peer sends whatever the advertised window allows, 1000 bytes at a time
	for (int i = 0; i < 64 && seq_lt(seq, right); i++) {
		uint32_t n = std::min<uint32_t>(1000, right - seq);
		inject(f->seg().seq(seq).ack(f->iss + 1).data(pattern(n, seq - 1001)));
		seq += n;
		advance_ms(conf.delayed_ack_ms + 1);
		std::vector<Pkt> v = take_tx();
		if (v.empty())
			continue;
		uint32_t wnd = (uint32_t)v.back().win << ws;
		EXPECT_EQ(v.back().ack, seq);
		EXPECT_LE(wnd, prev_wnd) << "the window only shrinks while data is held";
		EXPECT_TRUE(seq_leq(right, v.back().ack + wnd))
			<< "RFC 9293 3.8.6.2.2: the right window edge moved left";
		prev_wnd = wnd;
		right = v.back().ack + wnd;
	}
	ASSERT_EQ(f->u->held_bytes, seq - 1001);
	EXPECT_EQ(prev_wnd, 0u) << "held data must close the window entirely";
	EXPECT_EQ(info(f->c()).rcv_held, seq - 1001);
	EXPECT_LE(seq - 1001, conf.rcv_buf);
	// beyond the window: not accepted, acknowledged (RFC 9293 3.10.7.4)
	inject(f->seg().seq(seq).ack(f->iss + 1).data("overflow"));
	EXPECT_TX(f->out().flags(F_ACK).ack(seq).win(0));
	EXPECT_EQ(f->u->held_bytes, seq - 1001);
	EXPECT_EQ(cnt(TCP_CNT_drop_outside_window), 1u);
	// the user consumes: the window reopens and the peer is told without asking
	release(f->u);
	EXPECT_LE(wait_tx(conf.delayed_ack_ms + 1), conf.delayed_ack_ms + 1)
		<< "window update after tcp_recved";
	Pkt up = EXPECT_TX(f->out().flags(F_ACK).ack(seq));
	EXPECT_GE((uint32_t)up.win << ws, 1460u);
	EXPECT_EQ(info(f->c()).rcv_held, 0u);
}

TEST_F(TcpData, WindowNeverExceedsRcvBuf)
{
	conf.rcv_buf = 8192;
	listen();
	inject(plain_syn());
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK));
	EXPECT_LE(sa.win, 8192);
	inject(seg().seq(1001).ack(sa.seq + 1).data("x"));
	advance_ms(conf.delayed_ack_ms + 1);
	Pkt a = EXPECT_TX(seg().flags(F_ACK));
	EXPECT_LE((uint32_t)a.win << info(last_accepted->c).rcv_wscale, 8192u);
}

TEST_F(TcpData, LargeSendIsSegmentedByReference)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	std::string d = pattern(10000, 0, 'q');
	struct rte_mbuf *m = make_mbuf(d, 5);
	ASSERT_NE(m, nullptr);
	std::set<const void *> bufs;
	for (struct rte_mbuf *s = m; s; s = s->next)
		bufs.insert(s->buf_addr);
	ASSERT_EQ(send_mbuf(f->u, m), 0);
	std::string got;
	uint32_t seq = f->iss + 1;
	int segs = 0;
	for (Pkt &p : take_tx()) {
		EXPECT_EQ(p.seq, seq);
		EXPECT_LE(p.len(), 1448u) << "MSS 1460 less the timestamp option";
		seq += p.len();
		got += p.data;
		segs++;
		bool by_ref = false;
		for (const void *b : p.buf_addrs)
			by_ref |= bufs.count(b) > 0;
		EXPECT_TRUE(by_ref) << "segment " << segs << " does not reference the sent mbufs";
	}
	EXPECT_TRUE(bytes_eq(got, d));
	EXPECT_EQ(segs, 7);
	EXPECT_EQ(cnt(TCP_CNT_bytes_out), 10000u);
	EXPECT_EQ(info(f->c()).snd_queued, 10000u);
	inject(f->seg().seq(1001).ack(seq));
	EXPECT_EQ(info(f->c()).snd_queued, 0u);
}

TEST_F(TcpData, InitialWindowIsTenSegments)
{
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	EXPECT_EQ(info(f->c()).cwnd, 14600u) << "RFC 6928: min(10 MSS, max(2 MSS, 14600))";
	ASSERT_EQ(send(f->u, pattern(30000)), 0);
	std::vector<Pkt> v = take_tx();
	EXPECT_EQ(v.size(), 10u);
	for (Pkt &p : v)
		EXPECT_EQ(p.len(), 1460u);
	advance_ms(100);
	EXPECT_NO_TX(); // nothing more before an ACK
}

TEST_F(TcpData, SlowStartAddsOneMssPerAck)
{
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, pattern(60000)), 0);
	EXPECT_EQ(take_tx().size(), 10u);
	uint32_t una = f->iss + 1;
	for (int i = 0; i < 5; i++) {
		una += 1460;
		inject(f->seg().seq(1001).ack(una));
		std::vector<Pkt> v = take_tx();
		EXPECT_EQ(v.size(), 2u) << "ACK " << i << ": one segment replaces, one grows";
		EXPECT_EQ(info(f->c()).cwnd, 14600u + 1460u * (i + 1));
	}
	// one ACK for two segments still grows cwnd by at most one SMSS (RFC 5681 3.1)
	uint32_t before = info(f->c()).cwnd;
	una += 2920;
	inject(f->seg().seq(1001).ack(una));
	EXPECT_GT(info(f->c()).cwnd, before);
	EXPECT_LE(info(f->c()).cwnd, before + 1460);
}

TEST_F(TcpData, PeerWindowLimitsAndWindowUpdateResumes)
{
	listen();
	inject(plain_syn().win(2920).no_wscale());
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK));
	inject(seg().seq(1001).ack(sa.seq + 1).win(2920));
	ASSERT_NE(last_accepted, nullptr);
	std::string d = pattern(8000);
	ASSERT_EQ(send(last_accepted, d), 0);
	std::string got;
	for (Pkt &p : take_tx())
		got += p.data;
	EXPECT_TRUE(bytes_eq(got, d.substr(0, 2920)));
	// the peer reads: same ACK, bigger window
	inject(seg().seq(1001).ack(sa.seq + 1).win(20000));
	for (Pkt &p : take_tx())
		got += p.data;
	EXPECT_TRUE(bytes_eq(got, d));
}

TEST_F(TcpData, SendBufferFullThenWritable)
{
	conf.snd_buf = 8000;
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	ConnUser *u = f->u;
	u->on_writable_fn = [](ConnUser &cu) {
		EXPECT_GT(tcp_send_space(cu.c), 0u) << "on_writable with no space";
	};
	EXPECT_EQ(tcp_send_space(u->c), 8000u);
	ASSERT_EQ(send(u, pattern(5000)), 0);
	EXPECT_EQ(tcp_send_space(u->c), 3000u);
	ASSERT_EQ(send(u, pattern(5000, 5000)), 0) << "accepted while space > 0, whatever size";
	EXPECT_EQ(tcp_send_space(u->c), 0u);
	EXPECT_EQ(send(u, "x"), -ENOBUFS);
	drain_tx();
	inject(f->seg().seq(1001).ack(f->iss + 1 + 1460));
	EXPECT_EQ(u->writable, 0) << "still over snd_buf: no space yet";
	inject(f->seg().seq(1001).ack(f->iss + 1 + 4 * 1460));
	EXPECT_EQ(u->writable, 1);
	EXPECT_EQ(tcp_send_space(u->c), 8000u - (10000u - 4 * 1460));
	inject(f->seg().seq(1001).ack(f->iss + 1 + 10000));
	EXPECT_EQ(u->writable, 1) << "once per full period";
	EXPECT_EQ(tcp_send_space(u->c), 8000u);
}

TEST_F(TcpData, SendRejectsEmptyAndAfterShutdown)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	EXPECT_EQ(send(f->u, ""), -EINVAL);
	ASSERT_EQ(shutdown(f->u), 0);
	EXPECT_EQ(send(f->u, "x"), -EPIPE);
	EXPECT_EQ(shutdown(f->u), 0) << "a second shutdown is harmless";
}

TEST_F(TcpData, SendInSynSentGoesOutOnceConnected)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	ASSERT_EQ(send(u, "early"), 0);
	EXPECT_NO_TX(); // no data before the handshake
	inject(seg().sport(8080).dport(50000).syn().ack(syn.seq + 1).seq(9000).mss(1460));
	std::string got;
	for (Pkt &p : take_tx()) {
		EXPECT_TRUE(p.has(F_ACK));
		EXPECT_EQ(p.ack, 9001u);
		if (p.len()) {
			EXPECT_EQ(p.seq, syn.seq + 1);
		}
		got += p.data;
	}
	EXPECT_EQ(got, "early");
	EXPECT_TRUE(u->connected);
}

TEST_F(TcpData, PeerSequenceWrapsAround)
{
	Flow *f = accept_conn(peer_syn().seq(0xfffff000u - 1));
	ASSERT_TRUE(f);
	ASSERT_EQ(f->irs + 1, 0xfffff000u);
	// ten 1000-byte pieces across 2^32, pieces 3..6 in reverse order
	for (int k : { 0, 1, 2, 6, 5, 4, 3, 7, 8, 9 })
		inject(chunk(f, k * 1000u, 1000));
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(10000)));
	advance_ms(conf.delayed_ack_ms + 1);
	std::vector<Pkt> v = take_tx();
	ASSERT_FALSE(v.empty());
	EXPECT_EQ(v.back().ack, 0xfffff000u + 10000u);
	EXPECT_EQ(info(f->c()).rcv_nxt, 0xfffff000u + 10000u);
}

TEST_F(TcpData, OurSequenceWrapsAround)
{
	// Steer our ISN close to 2^32 through its RFC 6528 clock (4 us per step).
	const uint32_t target = 0xffffffffu - 4000;
	uint32_t isn = 0;
	for (int i = 0; i < 4; i++) {
		ConnUser *u = connect(50000, 8080);
		ASSERT_NE(u, nullptr);
		isn = EXPECT_TX(seg().flags(F_SYN)).seq;
		abort(u);
		if ((uint32_t)(target - isn) < 3000)
			break;
		set_clock(ns.now + (uint64_t)(uint32_t)(target - 1000 - isn) * 4000);
	}
	ASSERT_LT((uint32_t)(target - isn), 3000u) << "ISN does not follow a 4 us clock";
	Flow *f = connect_conn(50000, 8080, seg().no_ts());
	ASSERT_TRUE(f);
	std::string d = pattern(10000, 0, 'w');
	ASSERT_EQ(send(f->u, d), 0);
	std::string got;
	uint32_t end = f->iss + 1;
	for (int guard = 0; guard < 100 && tx_pending() > 0; guard++) {
		Pkt p = next_tx();
		EXPECT_EQ(p.seq, end);
		got += p.data;
		end += p.len();
		inject(f->seg().seq(f->irs + 1).ack(end)); // acked one by one, across the wrap
	}
	EXPECT_TRUE(bytes_eq(got, d));
	EXPECT_EQ(info(f->c()).snd_una, f->iss + 1 + 10000);
	EXPECT_EQ(info(f->c()).snd_queued, 0u);
	EXPECT_LT(f->iss + 1 + 10000, f->iss) << "the data really crossed 2^32";
}

} // namespace
