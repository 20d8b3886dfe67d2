// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: active opens that meet what is left of an earlier connection on the same
// 4-tuple (a peer in TIME_WAIT or LAST_ACK, a half-open end of an attempt we gave up), and the
// handshake timing a proxy with a short connect timeout needs: the RST and immediate SYN after
// a bad ACK in SYN_SENT, a 4-tuple taken over from our own TIME_WAIT with a higher ISN and
// timestamp, tcp_tuple_state, and a shortened SYN retransmission timeout.
#include "tcp_harness.h"

using namespace tcpt;

namespace
{

class TcpConnect : public TcpTest
{
      public:
	// The peer's answer to our SYN from a connection it still holds: a bare ACK of
	// sequence numbers of that older connection.
	Seg stale_ack(uint32_t ack) const
	{
		return seg().sport(8080).dport(50000).flags(F_ACK).seq(123456).ack(ack);
	}
};

TEST_F(TcpConnect, BadAckInSynSentDrawsRstAndTheSynAgainAtOnce)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN).sport(50000).dport(8080));
	advance_ms(1);
	inject(stale_ack(syn.seq - 5000));
	// RFC 9293 3.10.7.3: <SEQ=SEG.ACK><CTL=RST>, the TCB stays in SYN_SENT ...
	EXPECT_TX(seg().flags(F_RST).seq(syn.seq - 5000).nodata());
	// ... and, the stale state cleared, our SYN goes again now, not after an RTO
	Pkt again = EXPECT_TX(seg().flags(F_SYN).seq(syn.seq).sport(50000).dport(8080));
	EXPECT_EQ(again.mss, syn.mss);
	EXPECT_NO_TX();
	EXPECT_EQ(tcp_conn_state(u->c), TCP_SYN_SENT);
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_ack), 1u);
	EXPECT_EQ(cnt(TCP_CNT_syn_retransmits), 1u);
	EXPECT_EQ(events(), "");

	// the peer, its old connection gone, accepts the SYN
	inject(seg().sport(8080).dport(50000).syn().seq(7000).ack(syn.seq + 1).mss(1460));
	EXPECT_TX(seg().flags(F_ACK).seq(syn.seq + 1).ack(7001));
	EXPECT_EQ(events(), "connected#1");
}

TEST_F(TcpConnect, OnlyTheFirstBadAckResendsTheSyn)
{
	// Forged ACKs cannot turn a SYN_SENT TCB into a SYN generator: the second bad ACK gets
	// the RST alone, and the SYN waits for its retransmission timer.
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	inject(stale_ack(syn.seq - 5000));
	EXPECT_TX(seg().flags(F_RST).seq(syn.seq - 5000));
	EXPECT_TX(seg().flags(F_SYN).seq(syn.seq));
	for (uint32_t i = 0; i < 3; i++) {
		inject(stale_ack(syn.seq + 1000 + i));
		EXPECT_TX(seg().flags(F_RST).seq(syn.seq + 1000 + i));
		EXPECT_NO_TX();
	}
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_ack), 4u);
	EXPECT_EQ(cnt(TCP_CNT_syn_retransmits), 1u);
	// a RST carrying a bad ACK is only dropped (RFC 9293 3.10.7.3)
	inject(seg().sport(8080).dport(50000).flags(F_RST | F_ACK).seq(0).ack(syn.seq + 50));
	EXPECT_NO_TX();
	EXPECT_EQ(tcp_conn_state(u->c), TCP_SYN_SENT);
	// the retransmission timer still runs
	uint64_t waited = wait_tx(conf.rto_initial_ms + 10);
	EXPECT_LE(waited, (uint64_t)conf.rto_initial_ms + 1);
	EXPECT_TX(seg().flags(F_SYN).seq(syn.seq));
}

TEST_F(TcpConnect, TimeWaitTupleIsTakenOverWithHigherIsnAndTimestamp)
{
	conf.time_wait_ms = 60000;
	Flow *f = connect_conn(50000, 8080);
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "GET / HTTP/1.1\r\n\r\n"), 0);
	Pkt req = EXPECT_TX(f->out().flags(F_ACK | F_PSH).len(18));
	inject(f->seg().seq(5001).ack(f->iss + 19).data("HTTP/1.1 200 OK\r\n\r\n").tsval(600));
	close(f->u);
	Pkt fin = EXPECT_TX(f->out().flags(F_FIN | F_ACK).seq(f->iss + 19));
	inject(f->seg().fin().seq(5020).ack(f->iss + 20).tsval(601));
	EXPECT_TX(f->out().flags(F_ACK).ack(5021));
	ASSERT_EQ(state_of(50000, 8080), TCP_TIME_WAIT);
	EXPECT_EQ(tcp_tuple_state(&ts, 0, 50000, net_addr(PEER_HOST), 8080), TCP_TIME_WAIT);
	EXPECT_EQ(tcp_tuple_state(&ts, 0, 50001, net_addr(PEER_HOST), 8080), TCP_CLOSED);
	EXPECT_EQ(tcp_tuple_state(&ts, net_addr(LOCAL_HOST), 50000, net_addr(PEER_HOST), 8080),
		  TCP_TIME_WAIT);

	// One millisecond later the same 4-tuple again. A Linux peer still in TIME_WAIT takes
	// a SYN only if its sequence number or timestamp is above the old connection's.
	advance_ms(1);
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	EXPECT_EQ(cnt(TCP_CNT_time_wait_reused), 1u);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN).sport(50000).dport(8080));
	EXPECT_TRUE(seq_lt(fin.end_seq(), syn.seq))
		<< "ISN " << syn.seq << " not above the old connection's " << fin.end_seq();
	ASSERT_TRUE(syn.has_ts && fin.has_ts);
	EXPECT_TRUE(seq_lt(fin.tsval, syn.tsval)) << "TSval did not grow: " << syn.tsval;
	EXPECT_TRUE(seq_lt(req.tsval, syn.tsval));
	EXPECT_EQ(tcp_conn_state(u->c), TCP_SYN_SENT);
}

TEST_F(TcpConnect, SynRtoCanBeShortenedForAShortConnectTimeout)
{
	conf.rto_min_ms = 200;
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	tcp_conn_set_syn_rto(u->c, 250);
	EXPECT_EQ(wait_tx(2000), 250u);
	EXPECT_TX(seg().flags(F_SYN).seq(syn.seq));
	EXPECT_EQ(wait_tx(2000), 500u) << "exponential backoff from the shortened RTO";
	EXPECT_TX(seg().flags(F_SYN).seq(syn.seq));
	// after a retransmission it no longer applies, and never below rto_min_ms
	tcp_conn_set_syn_rto(u->c, 10);
	EXPECT_EQ(wait_tx(2000), 1000u);
	EXPECT_TX(seg().flags(F_SYN).seq(syn.seq));

	ConnUser *v = connect(50001, 8080);
	ASSERT_NE(v, nullptr);
	EXPECT_TX(seg().flags(F_SYN).sport(50001));
	tcp_conn_set_syn_rto(v->c, 10);
	drain_tx();
	abort(u);
	EXPECT_EQ(wait_tx(2000), 200u) << "rto_min_ms bounds it";
	EXPECT_TX(seg().flags(F_SYN).sport(50001));
}

} // namespace
