// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: TCP edge cases: hostile option values, data on SYN, stale window updates
// (RFC 9293 SND.WL1/WL2), repeated SYNs, FIN on the handshake ACK, RST in TIME_WAIT and
// SYN_SENT corner cases, and a table-full of connections opened and closed together.
#include "tcp_harness.h"

using namespace tcpt;

namespace
{

class TcpEdge : public TcpTest
{
};

class TcpTinyMss : public TcpTest, public ::testing::WithParamInterface<uint16_t>
{
};

TEST_P(TcpTinyMss, HostileMssStillMovesDataSanely)
{
	// With timestamps a tiny MSS leaves no room for payload: the stack must neither
	// underflow (huge segments) nor stall (empty ones).
	Flow *f = accept_conn(peer_syn().mss(GetParam()));
	ASSERT_TRUE(f);
	std::string d = pattern(300);
	ASSERT_EQ(send(f->u, d), 0);
	std::string got;
	for (int i = 0; i < 400 && got.size() < d.size(); i++) {
		std::vector<Pkt> v = take_tx();
		if (v.empty())
			advance_ms(1);
		for (Pkt &p : v) {
			EXPECT_GE(p.len(), 1u) << p.describe();
			EXPECT_LE(p.len(), 536u) << "segment larger than any MSS would allow";
			if (p.seq == f->iss + 1 + got.size())
				got += p.data;
		}
		inject(f->seg().seq(1001).ack(f->iss + 1 + (uint32_t)got.size()));
	}
	EXPECT_TRUE(bytes_eq(got, d));
}

INSTANTIATE_TEST_SUITE_P(Values, TcpTinyMss, ::testing::Values(0, 1, 8, 12, 13, 64));

TEST_F(TcpEdge, DataOnSynIsNotAcknowledgedUnlessKept)
{
	listen();
	inject(peer_syn().data("early"));
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK));
	// acknowledging the data and then dropping it would lose it for good
	EXPECT_TRUE(sa.ack == 1001 || sa.ack == 1006) << sa.describe();
	inject(seg().seq(1001).ack(sa.seq + 1));
	ASSERT_NE(last_accepted, nullptr);
	if (sa.ack == 1001)
		inject(seg().seq(1001).ack(sa.seq + 1).data("early")); // the peer retransmits
	EXPECT_EQ(last_accepted->rx, "early");
}

TEST_F(TcpEdge, RepeatedSynInSynRcvdRepeatsSynAck)
{
	listen();
	inject(peer_syn());
	Pkt a = EXPECT_TX(seg().flags(F_SYN | F_ACK).ack(1001));
	inject(peer_syn());
	Pkt b = EXPECT_TX(seg().flags(F_SYN | F_ACK).ack(1001));
	EXPECT_EQ(a.seq, b.seq) << "same ISS: one connection, not two";
	EXPECT_EQ(ts.conns_used, 1u);
	inject(seg().seq(1001).ack(a.seq + 1));
	EXPECT_EQ(events(), "accept#1");
}

TEST_F(TcpEdge, FinOnTheHandshakeAck)
{
	listen();
	inject(peer_syn());
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK));
	inject(seg().fin().seq(1001).ack(sa.seq + 1).data("q"));
	EXPECT_EQ(events(), "accept#1 data#1:1 fin#1");
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_CLOSE_WAIT);
	EXPECT_LE(wait_tx(conf.delayed_ack_ms + 1), conf.delayed_ack_ms + 1u);
	EXPECT_TX(seg().flags(F_ACK).ack(1003));
}

TEST_F(TcpEdge, StaleWindowUpdateIsIgnored)
{
	Flow *f = accept_conn(peer_syn().no_ts().no_wscale());
	ASSERT_TRUE(f);
	inject(f->seg().seq(1001).ack(f->iss + 1).win(60000).data(pattern(10)));
	EXPECT_EQ(info(f->c()).snd_wnd, 60000u);
	// a reordered older segment (SEG.SEQ < SND.WL1) must not update the window
	inject(f->seg().seq(1001).ack(f->iss + 1).win(0));
	EXPECT_EQ(info(f->c()).snd_wnd, 60000u) << "RFC 9293 3.10.7.4: SND.WL1/SND.WL2 check";
	ASSERT_EQ(send(f->u, "go"), 0);
	std::vector<Pkt> v = take_tx();
	bool sent = false;
	for (Pkt &p : v)
		sent |= p.data == "go";
	EXPECT_TRUE(sent) << "data must not wait behind a stale zero window";
}

TEST_F(TcpEdge, RstInTimeWaitDoesNotResurrect)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	close(f->u);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK));
	inject(f->seg().fin().seq(1001).ack(f->iss + 2));
	EXPECT_TX(f->out().flags(F_ACK).ack(1002));
	inject(seg().flags(F_RST).seq(1002)); // RFC 9293 closes, RFC 1337 ignores: both fine
	EXPECT_NO_TX();
	EXPECT_TRUE(state_of(LPORT, RPORT) == TCP_TIME_WAIT ||
		    state_of(LPORT, RPORT) == TCP_CLOSED);
	EXPECT_EQ(events(), "accept#1");
}

TEST_F(TcpEdge, SynSentAcceptsRstAckOnlyForItsSyn)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	// ACK == ISS (not ISS + 1) is unacceptable: RST dropped
	inject(seg().sport(8080).dport(50000).flags(F_RST | F_ACK).seq(0).ack(syn.seq));
	EXPECT_EQ(tcp_conn_state(u->c), TCP_SYN_SENT);
	EXPECT_EQ(events(), "");
	// a plain ACK in SYN-SENT: <SEQ=SEG.ACK><CTL=RST>, and the SYN again
	inject(seg().sport(8080).dport(50000).flags(F_ACK).seq(77).ack(syn.seq + 9));
	EXPECT_TX(seg().flags(F_RST).seq(syn.seq + 9));
	EXPECT_TX(seg().flags(F_SYN).seq(syn.seq));
	EXPECT_EQ(tcp_conn_state(u->c), TCP_SYN_SENT);
}

TEST_F(TcpEdge, SynAckWithDataDeliversIt)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	inject(seg().sport(8080).dport(50000).syn().ack(syn.seq + 1).seq(9000).data("banner"));
	EXPECT_EQ(events(), "connected#1 data#1:6");
	std::vector<Pkt> v = take_tx();
	advance_ms(conf.delayed_ack_ms + 1);
	for (Pkt &p : take_tx())
		v.push_back(p);
	ASSERT_FALSE(v.empty());
	EXPECT_EQ(v.back().ack, 9007u);
}

TEST_F(TcpEdge, FullTableOfConnectionsOpensAndClosesCleanly)
{
	conf.max_connections = 48;
	conf.syn_backlog = 48;
	std::vector<Flow *> fs;
	for (uint16_t i = 0; i < 48; i++) {
		Flow *f = accept_conn(peer_syn(41000 + i));
		ASSERT_TRUE(f) << i;
		fs.push_back(f);
	}
	EXPECT_EQ(ts.conns_used, 48u);
	EXPECT_EQ(ts.conns_hwm, 48u);
	for (Flow *f : fs) {
		inject(f->seg().seq(1001).ack(f->iss + 1).data(pattern(20, f->rport)));
		EXPECT_EQ(f->u->rx, pattern(20, f->rport));
	}
	// every second one closes actively, the others passively
	for (size_t i = 0; i < fs.size(); i++) {
		Flow *f = fs[i];
		if (i % 2 == 0) {
			close(f->u);
			inject(f->seg().fin().seq(1021).ack(f->iss + 2));
		} else {
			inject(f->seg().fin().seq(1021).ack(f->iss + 1));
			ASSERT_EQ(shutdown(f->u), 0);
			inject(f->seg().seq(1022).ack(f->iss + 2));
		}
	}
	drain_tx();
	EXPECT_EQ(ts.time_wait, 24u);
	EXPECT_EQ(ts.conns_used, 24u);
	advance_ms(conf.time_wait_ms + 10);
	EXPECT_EQ(ts.conns_used, 0u);
	int n = 0;
	tcp_foreach_conn(
		&ts, [](struct tcp_conn *, void *arg) { (*static_cast<int *>(arg))++; }, &n);
	EXPECT_EQ(n, 0);
}

} // namespace
