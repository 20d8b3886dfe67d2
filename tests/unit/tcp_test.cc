// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: TCP connection states (RFC 9293 section 3.3.2 and 3.10): passive, active and
// simultaneous open, every close path, TIME_WAIT, and the API's error returns.
#include "tcp_harness.h"

#include <rte_errno.h>

using namespace tcpt;

namespace
{

class TcpStates : public TcpTest
{
};

TEST_F(TcpStates, PassiveOpenNegotiatesEveryOption)
{
	listen();
	inject(peer_syn());
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).ack(1001).mss(1460).sackok().tsecr(100));
	EXPECT_TRUE(sa.wscale.has_value()) << "peer offered wscale: ours must be in the SYN-ACK";
	EXPECT_GT(sa.win, 0);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_SYN_RCVD);
	EXPECT_EQ(ts.syn_rcvd, 1u);
	EXPECT_EQ(ts.conns_used, 1u);
	EXPECT_EQ(events(), "") << "no on_accept before the handshake completes";

	inject(seg().seq(1001).ack(sa.seq + 1));
	EXPECT_NO_TX();
	EXPECT_EQ(take_events(), "accept#1");
	ASSERT_NE(last_accepted, nullptr);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_ESTABLISHED);
	EXPECT_EQ(ts.syn_rcvd, 0u);
	EXPECT_EQ(cnt(TCP_CNT_conns_opened_passive), 1u);
	struct tcp_conn_info i = info(last_accepted->c);
	EXPECT_EQ(i.snd_wscale, 7);
	EXPECT_EQ(i.rcv_wscale, sa.wscale.value_or(255));
	EXPECT_TRUE(i.ts_ok);
	EXPECT_TRUE(i.sack_ok);
	EXPECT_EQ(i.mss, 1460u);
	EXPECT_EQ(i.snd_una, sa.seq + 1);
	EXPECT_EQ(i.snd_nxt, sa.seq + 1);
	EXPECT_EQ(i.rcv_nxt, 1001u);
	EXPECT_EQ(i.snd_wnd, 65535u << 7) << "the handshake ACK's window is scaled by 2^7";
	struct tcp_tuple t;
	tcp_conn_tuple(last_accepted->c, &t);
	EXPECT_EQ(t.laddr, net_addr(LOCAL_HOST));
	EXPECT_EQ(t.raddr, net_addr(PEER_HOST));
	EXPECT_EQ(t.lport, LPORT);
	EXPECT_EQ(t.rport, RPORT);
	EXPECT_EQ(tcp_conn_stack(last_accepted->c), &ts);
	EXPECT_EQ(lookup(LPORT, RPORT), last_accepted->c);
}

TEST_F(TcpStates, PassiveOpenWithoutPeerOptions)
{
	listen();
	inject(seg().syn().seq(77).win(8192));
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).ack(78).mss(1460).no_wscale().no_ts());
	EXPECT_FALSE(sa.sackok) << "SACK-permitted only when the peer sent it";
	inject(seg().seq(78).ack(sa.seq + 1).win(8192));
	ASSERT_NE(last_accepted, nullptr);
	struct tcp_conn_info i = info(last_accepted->c);
	EXPECT_EQ(i.snd_wscale, 0);
	EXPECT_EQ(i.rcv_wscale, 0);
	EXPECT_FALSE(i.ts_ok);
	EXPECT_FALSE(i.sack_ok);
	EXPECT_EQ(i.mss, 536u) << "RFC 9293 3.7.1: 536 when the peer sends no MSS option";
	EXPECT_EQ(i.snd_wnd, 8192u);
}

TEST_F(TcpStates, SynAckRetransmittedWithBackoffThenDropped)
{
	conf.syn_retries = 3;
	listen();
	inject(peer_syn());
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).ack(1001));
	const uint64_t gaps[] = { 1000, 2000, 4000 };
	for (uint64_t g : gaps) {
		EXPECT_NEAR(wait_tx(g + 10), g, 1) << "SYN-ACK retransmission interval";
		EXPECT_TX(seg().flags(F_SYN | F_ACK).seq(sa.seq).ack(1001).mss(1460));
	}
	EXPECT_EQ(cnt(TCP_CNT_syn_retransmits), 3u);
	advance_ms(8000 + 10);
	for (Pkt &p : take_tx())
		EXPECT_TRUE(p.has(F_RST))
			<< "after the last retry only a RST may go out: " << p.describe();
	EXPECT_EQ(ts.conns_used, 0u) << "SYN_RCVD TCB freed after syn_retries";
	EXPECT_EQ(ts.syn_rcvd, 0u);
	EXPECT_EQ(events(), "") << "the user never saw this connection";
}

TEST_F(TcpStates, ActiveOpen)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	EXPECT_EQ(tcp_conn_state(u->c), TCP_SYN_SENT);
	Pkt syn =
		EXPECT_TX(seg().flags(F_SYN).sport(50000).dport(8080).mss(1460).sackok().tsecr(0));
	EXPECT_TRUE(syn.wscale.has_value());
	EXPECT_TRUE(syn.has_ts);
	EXPECT_EQ(syn.daddr, net_addr(PEER_HOST));
	EXPECT_EQ(events(), "");

	inject(seg().sport(8080)
		       .dport(50000)
		       .syn()
		       .ack(syn.seq + 1)
		       .seq(9000)
		       .mss(1200)
		       .wscale(3)
		       .sackok()
		       .ts(777, syn.tsval)
		       .win(1000));
	EXPECT_TX(seg().flags(F_ACK).seq(syn.seq + 1).ack(9001).tsecr(777).nodata());
	EXPECT_EQ(take_events(), "connected#1");
	EXPECT_EQ(tcp_conn_state(u->c), TCP_ESTABLISHED);
	EXPECT_EQ(cnt(TCP_CNT_conns_opened_active), 1u);
	struct tcp_conn_info i = info(u->c);
	EXPECT_EQ(i.snd_wscale, 3);
	EXPECT_EQ(i.rcv_wscale, *syn.wscale);
	EXPECT_EQ(i.mss, 1200u);
	EXPECT_EQ(i.snd_wnd, 1000u) << "RFC 7323 2.2: the SYN-ACK's window is not scaled";
	EXPECT_TRUE(i.ts_ok);
	EXPECT_TRUE(i.sack_ok);
}

TEST_F(TcpStates, ActiveOpenRefusedByRst)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	inject(seg().sport(8080).dport(50000).flags(F_RST | F_ACK).seq(0).ack(syn.seq + 1).win(0));
	EXPECT_NO_TX();
	EXPECT_EQ(events(), "closed#1:REFUSED");
	EXPECT_EQ(ts.conns_used, 0u);
}

TEST_F(TcpStates, SynSentDropsRstWithUnacceptableAck)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	// RFC 9293 3.10.7.3: ACK outside (ISS, SND.NXT] on a RST -> drop it
	inject(seg().sport(8080).dport(50000).flags(F_RST | F_ACK).seq(0).ack(syn.seq + 7));
	// and a RST without ACK in SYN-SENT is dropped as well
	inject(seg().sport(8080).dport(50000).flags(F_RST).seq(0));
	EXPECT_NO_TX();
	EXPECT_EQ(events(), "");
	EXPECT_EQ(tcp_conn_state(u->c), TCP_SYN_SENT);
}

TEST_F(TcpStates, SynSentAnswersBadAckWithRstAndStillConnects)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	inject(seg().sport(8080).dport(50000).syn().seq(4000).ack(syn.seq + 100).mss(1460));
	EXPECT_TX(seg().flags(F_RST).seq(syn.seq + 100)); // <SEQ=SEG.ACK><CTL=RST>
	EXPECT_TX(seg().flags(F_SYN).seq(syn.seq));	  // and the SYN again at once
	EXPECT_EQ(tcp_conn_state(u->c), TCP_SYN_SENT);
	inject(seg().sport(8080).dport(50000).syn().seq(4000).ack(syn.seq + 1).mss(1460));
	EXPECT_TX(seg().flags(F_ACK).seq(syn.seq + 1).ack(4001));
	EXPECT_EQ(events(), "connected#1");
}

TEST_F(TcpStates, ActiveOpenSynRetriesThenTimeout)
{
	conf.syn_retries = 3;
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	const uint64_t gaps[] = { 1000, 2000, 4000 };
	for (uint64_t g : gaps) {
		EXPECT_NEAR(wait_tx(g + 10), g, 1);
		EXPECT_TX(seg().flags(F_SYN).seq(syn.seq).mss(1460));
	}
	advance_ms(7990);
	EXPECT_EQ(events(), "") << "gave up before the last RTO ran out";
	advance_ms(20);
	EXPECT_EQ(events(), "closed#1:TIMEOUT");
	EXPECT_NO_TX();
	EXPECT_EQ(cnt(TCP_CNT_syn_retransmits), 3u);
	EXPECT_EQ(cnt(TCP_CNT_conns_timed_out), 1u);
	EXPECT_EQ(ts.conns_used, 0u);
}

TEST_F(TcpStates, SimultaneousOpen)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	// the peer's SYN crosses ours
	inject(seg().sport(8080).dport(50000).syn().seq(7000).mss(1400).win(4096));
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).seq(syn.seq).ack(7001));
	EXPECT_EQ(tcp_conn_state(u->c), TCP_SYN_RCVD);
	EXPECT_EQ(events(), "");
	// the peer's SYN-ACK answering our SYN (RFC 9293 figure 8)
	inject(seg().sport(8080).dport(50000).syn().ack(syn.seq + 1).seq(7000).mss(1400).win(4096));
	for (Pkt &p : take_tx())
		EXPECT_EQ(seg_mismatch(seg().flags(F_ACK).seq(syn.seq + 1).ack(7001), p), "")
			<< p.describe();
	// and its ACK of our SYN-ACK
	inject(seg().sport(8080).dport(50000).ack(syn.seq + 1).seq(7001).win(4096));
	EXPECT_NO_TX();
	EXPECT_EQ(tcp_conn_state(u->c), TCP_ESTABLISHED);
	EXPECT_EQ(events(), "connected#1") << "an active open reports on_connected, once";
	EXPECT_EQ(info(u->c).mss, 1400u);
	(void)sa;
}

TEST_F(TcpStates, ActiveCloseThroughFinWait2AndTimeWait)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	close(f->u);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK).seq(f->iss + 1).ack(1001).nodata());
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_FIN_WAIT_1);
	inject(f->seg().seq(1001).ack(f->iss + 2));
	EXPECT_NO_TX();
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_FIN_WAIT_2);
	inject(f->seg().fin().seq(1001).ack(f->iss + 2));
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 2).ack(1002));
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_TIME_WAIT);
	EXPECT_EQ(ts.time_wait, 1u);
	EXPECT_EQ(events(), "accept#1") << "no callback after tcp_close";
	advance_ms(conf.time_wait_ms - 5);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_TIME_WAIT) << "TIME_WAIT ended early";
	advance_ms(10);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_CLOSED);
	EXPECT_EQ(ts.time_wait, 0u);
	EXPECT_EQ(ts.conns_used, 0u);
	EXPECT_NO_TX();
}

TEST_F(TcpStates, HalfCloseKeepsReceivingData)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ConnUser *u = f->u;
	ASSERT_EQ(shutdown(u), 0);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK).seq(f->iss + 1).ack(1001));
	EXPECT_EQ(send(u, "late"), -EPIPE) << "tcp_send after tcp_shutdown";
	inject(f->seg().seq(1001).ack(f->iss + 2));
	EXPECT_EQ(tcp_conn_state(u->c), TCP_FIN_WAIT_2);
	inject(f->seg().seq(1001).ack(f->iss + 2).data("hello"));
	inject(f->seg().seq(1006).ack(f->iss + 2).data(" world"));
	EXPECT_EQ(u->rx, "hello world");
	drain_tx();
	inject(f->seg().fin().seq(1012).ack(f->iss + 2));
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 2).ack(1013));
	EXPECT_EQ(take_events(), "accept#1 data#1:5 data#1:6 fin#1 closed#1:NORMAL");
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_TIME_WAIT);
}

TEST_F(TcpStates, PassiveCloseThroughCloseWaitAndLastAck)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ConnUser *u = f->u;
	inject(f->seg().fin().seq(1001).ack(f->iss + 1));
	EXPECT_LE(wait_tx(conf.delayed_ack_ms + 1), conf.delayed_ack_ms + 1);
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 1).ack(1002));
	EXPECT_EQ(take_events(), "accept#1 fin#1");
	EXPECT_EQ(tcp_conn_state(u->c), TCP_CLOSE_WAIT);
	// the other direction still works
	ASSERT_EQ(send(u, "bye"), 0);
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 1).ack(1002).data("bye"));
	inject(f->seg().seq(1002).ack(f->iss + 4));
	ASSERT_EQ(shutdown(u), 0);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK).seq(f->iss + 4).ack(1002));
	EXPECT_EQ(tcp_conn_state(u->c), TCP_LAST_ACK);
	inject(f->seg().seq(1002).ack(f->iss + 5));
	EXPECT_NO_TX();
	EXPECT_EQ(take_events(), "closed#1:NORMAL");
	EXPECT_EQ(ts.conns_used, 0u) << "the passive closer has no TIME_WAIT";
	EXPECT_EQ(ts.time_wait, 0u);
}

TEST_F(TcpStates, SimultaneousCloseThroughClosing)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ConnUser *u = f->u;
	ASSERT_EQ(shutdown(u), 0);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK).seq(f->iss + 1).ack(1001));
	// the peer's FIN crosses ours: it does not acknowledge our FIN
	inject(f->seg().fin().seq(1001).ack(f->iss + 1));
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 2).ack(1002));
	EXPECT_EQ(tcp_conn_state(u->c), TCP_CLOSING);
	inject(f->seg().seq(1002).ack(f->iss + 2));
	EXPECT_NO_TX();
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_TIME_WAIT);
	EXPECT_EQ(take_events(), "accept#1 fin#1 closed#1:NORMAL");
}

TEST_F(TcpStates, FinWait1ToTimeWaitOnFinAck)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	close(f->u);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK).seq(f->iss + 1));
	inject(f->seg().fin().seq(1001).ack(f->iss + 2));
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 2).ack(1002));
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_TIME_WAIT);
}

TEST_F(TcpStates, TimeWaitAcksRetransmittedFinAndRestarts)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	close(f->u);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK));
	inject(f->seg().fin().seq(1001).ack(f->iss + 2));
	EXPECT_TX(f->out().flags(F_ACK).ack(1002));
	advance_ms(600);
	// our ACK was lost: the peer retransmits its FIN
	inject(f->seg().fin().seq(1001).ack(f->iss + 2));
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 2).ack(1002));
	advance_ms(500);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_TIME_WAIT)
		<< "RFC 9293 3.10.7.4: a FIN in TIME-WAIT restarts the 2 MSL timeout";
	advance_ms(conf.time_wait_ms);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_CLOSED);
}

TEST_F(TcpStates, OrphanedFinWait2TimesOut)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	close(f->u);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK));
	inject(f->seg().seq(1001).ack(f->iss + 2));
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_FIN_WAIT_2);
	advance_ms(conf.fin_wait_2_ms - 10);
	EXPECT_NE(state_of(LPORT, RPORT), TCP_CLOSED) << "freed before fin_wait_2_ms";
	advance_ms(20 + conf.time_wait_ms);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_CLOSED);
	for (Pkt &p : take_tx())
		EXPECT_TRUE(p.has(F_RST)) << p.describe();
}

TEST_F(TcpStates, HalfClosedFinWait2IsNotTimedOut)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ASSERT_EQ(shutdown(f->u), 0);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK));
	inject(f->seg().seq(1001).ack(f->iss + 2));
	advance_ms(3 * conf.fin_wait_2_ms);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_FIN_WAIT_2)
		<< "fin_wait_2_ms applies to orphans only; this user still reads";
	EXPECT_EQ(events(), "accept#1");
	inject(f->seg().seq(1001).ack(f->iss + 2).data("still here"));
	EXPECT_EQ(f->u->rx, "still here");
}

TEST_F(TcpStates, LastAckRetransmitsFin)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(f->seg().fin().seq(1001).ack(f->iss + 1));
	advance_ms(conf.delayed_ack_ms + 1);
	drain_tx();
	ASSERT_EQ(shutdown(f->u), 0);
	Pkt fin = EXPECT_TX(f->out().flags(F_FIN | F_ACK).seq(f->iss + 1).ack(1002));
	uint32_t rto = info(f->c()).rto_ms;
	EXPECT_NEAR(wait_tx(rto + 100), rto, 1);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK).seq(f->iss + 1).ack(1002));
	inject(f->seg().seq(1002).ack(f->iss + 2));
	EXPECT_EQ(take_events(), "accept#1 fin#1 closed#1:NORMAL");
	(void)fin;
}

TEST_F(TcpStates, CloseSendsQueuedDataBeforeFin)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	std::string d = pattern(3000);
	ASSERT_EQ(send(f->u, d), 0);
	close(f->u);
	std::string got;
	uint32_t fin_seq = 0;
	int fins = 0;
	for (Pkt &p : take_tx()) {
		EXPECT_EQ(p.seq, f->iss + 1 + got.size()) << p.describe();
		got += p.data;
		if (p.has(F_FIN)) {
			fins++;
			fin_seq = p.seq + p.len();
		}
	}
	EXPECT_TRUE(bytes_eq(got, d));
	EXPECT_EQ(fins, 1);
	EXPECT_EQ(fin_seq, f->iss + 1 + 3000) << "FIN follows the queued data";
}

TEST_F(TcpStates, DataAfterFullCloseDrawsRst)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	close(f->u);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK).seq(f->iss + 1));
	inject(f->seg().seq(1001).ack(f->iss + 2));
	inject(f->seg().seq(1001).ack(f->iss + 2).data("nobody reads this"));
	Pkt r = EXPECT_TX(f->out().seq(f->iss + 2));
	EXPECT_TRUE(r.has(F_RST)) << "tcp.h: data after tcp_close is answered by RST";
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_CLOSED);
	EXPECT_EQ(cnt(TCP_CNT_drop_after_close), 1u);
}

TEST_F(TcpStates, AbortSendsRstAndFreesAtOnce)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "queued"), 0);
	EXPECT_TX(f->out().data("queued"));
	abort(f->u);
	Pkt r = EXPECT_TX(f->out().seq(f->iss + 7));
	EXPECT_TRUE(r.has(F_RST)) << r.describe();
	EXPECT_EQ(ts.conns_used, 0u);
	EXPECT_EQ(cnt(TCP_CNT_conns_aborted), 1u);
	EXPECT_EQ(events(), "accept#1");
	EXPECT_EQ(rte_mempool_in_use_count(pool), 0u) << "queued data freed by tcp_abort";
}

TEST_F(TcpStates, AbortInSynSentSendsNothing)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	EXPECT_TX(seg().flags(F_SYN));
	abort(u);
	EXPECT_NO_TX();
	EXPECT_EQ(ts.conns_used, 0u);
	advance_ms(5000);
	EXPECT_NO_TX();
}

TEST_F(TcpStates, AcceptRefusedByUserResets)
{
	refuse_accept = true;
	listen();
	inject(peer_syn());
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK));
	inject(seg().seq(1001).ack(sa.seq + 1).ts(101, sa.tsval));
	Pkt r = EXPECT_TX(seg().seq(sa.seq + 1));
	EXPECT_TRUE(r.has(F_RST));
	EXPECT_EQ(events(), "refuse") << "no on_closed for a refused connection";
	EXPECT_EQ(cnt(TCP_CNT_conns_refused_by_user), 1u);
	EXPECT_EQ(ts.conns_used, 0u);
}

TEST_F(TcpStates, UnlistenResetsHandshakeInProgress)
{
	listen();
	inject(peer_syn());
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK));
	ASSERT_EQ(tcp_unlisten(&ts, 0, LPORT), 0);
	inject(seg().seq(1001).ack(sa.seq + 1).ts(101, sa.tsval));
	Pkt r = EXPECT_TX(seg().seq(sa.seq + 1));
	EXPECT_TRUE(r.has(F_RST));
	EXPECT_EQ(events(), "");
	EXPECT_EQ(ts.conns_used, 0u);
	// and new SYNs find no listener
	inject(peer_syn(40001));
	EXPECT_TX(seg().flags(F_RST | F_ACK).ack(1001).dport(40001));
}

TEST_F(TcpStates, ListenErrors)
{
	listen(80);
	EXPECT_EQ(tcp_listen(&ts, 0, 80, &ops, this), -EADDRINUSE);
	EXPECT_EQ(tcp_unlisten(&ts, 0, 81), -ENOENT);
	int rc = 0;
	for (uint16_t p = 1000; p < 1000 + TCP_MAX_LISTENERS && rc == 0; p++)
		rc = tcp_listen(&ts, 0, p, &ops, this);
	EXPECT_EQ(rc, -ENOSPC);
	EXPECT_EQ(tcp_unlisten(&ts, 0, 80), 0);
	EXPECT_EQ(tcp_listen(&ts, 0, 80, &ops, this), 0) << "a freed slot is reusable";
}

TEST_F(TcpStates, ListenerBoundToOtherAddressDoesNotMatch)
{
	listen(80, net_addr(99)); // not our address: never matches 198.18.0.10
	inject(peer_syn());
	EXPECT_TX(seg().flags(F_RST | F_ACK).ack(1001));
}

TEST_F(TcpStates, ConnectErrors)
{
	ASSERT_NE(connect(50000, 8080), nullptr);
	EXPECT_TX(seg().flags(F_SYN));
	rte_errno = 0;
	EXPECT_EQ(connect(50000, 8080), nullptr);
	EXPECT_EQ(rte_errno, EADDRINUSE);
	rte_errno = 0;
	EXPECT_EQ(tcp_connect(&ts, 0, 50001, rte_cpu_to_be_32(0xcb007101), 80, &ops, nullptr),
		  nullptr)
		<< "203.0.113.1 has no route (no gateway configured)";
	EXPECT_EQ(rte_errno, ENETUNREACH);
	EXPECT_NO_TX();
}

TEST_F(TcpStates, TimeWaitAcceptsNewerSyn)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	close(f->u);
	EXPECT_TX(f->out().flags(F_FIN | F_ACK));
	inject(f->seg().fin().seq(1001).ack(f->iss + 2));
	EXPECT_TX(f->out().flags(F_ACK).ack(1002));
	ASSERT_EQ(state_of(LPORT, RPORT), TCP_TIME_WAIT);
	advance_ms(100);
	// RFC 9293 3.6.1 / RFC 6191: a SYN above RCV.NXT with a newer timestamp may reopen
	inject(peer_syn().seq(500000).ts(100000, 0));
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).ack(500001));
	inject(seg().seq(500001).ack(sa.seq + 1).ts(100001, sa.tsval));
	EXPECT_EQ(events(), "accept#1 accept#2");
	EXPECT_EQ(cnt(TCP_CNT_time_wait_reused), 1u);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_ESTABLISHED);
}

TEST_F(TcpStates, StateNames)
{
	EXPECT_STREQ(tcp_state_name(TCP_ESTABLISHED), "ESTABLISHED");
	EXPECT_STREQ(tcp_state_name(TCP_TIME_WAIT), "TIME_WAIT");
	for (int s = 0; s < TCP_STATE_MAX; s++)
		EXPECT_NE(tcp_state_name((enum tcp_state)s), nullptr);
	for (int i = 0; i < TCP_CNT_MAX; i++)
		EXPECT_NE(tcp_counter_names[i], nullptr);
	EXPECT_STREQ(tcp_counter_names[TCP_CNT_drop_bad_cksum], "drop_bad_cksum");
}

TEST_F(TcpStates, ForeachVisitsLiveConnections)
{
	ASSERT_TRUE(accept_conn(peer_syn(40001)));
	ASSERT_TRUE(accept_conn(peer_syn(40002)));
	int n = 0;
	tcp_foreach_conn(
		&ts, [](struct tcp_conn *, void *arg) { (*static_cast<int *>(arg))++; }, &n);
	EXPECT_EQ(n, 2);
	EXPECT_EQ(ts.conns_used, 2u);
	EXPECT_GE(ts.conns_hwm, 2u);
	EXPECT_GT(tcp_conn_size(), 0u);
	EXPECT_LT(tcp_conn_size(), 1024u) << "DESIGN.md: well under 1 KiB per idle connection";
}

} // namespace
