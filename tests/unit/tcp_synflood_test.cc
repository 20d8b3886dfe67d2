// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: resource exhaustion: SYN cookies when the backlog or the TCB pool is full
// (RFC 4987; options through timestamps, forged and expired cookies), TIME_WAIT reclaim,
// pool exhaustion and recovery, the per-worker out-of-order budget.
#include "tcp_harness.h"

#include <rte_errno.h>

using namespace tcpt;

namespace
{

class TcpSynFlood : public TcpTest
{
      protected:
	// Fill the SYN backlog (conf.syn_backlog) with half-open connections from 40001...;
	// returns the ISNs of their SYN-ACKs.
	std::vector<uint32_t> fill_backlog()
	{
		std::vector<uint32_t> iss;
		listen();
		for (uint32_t i = 0; i < conf.syn_backlog; i++) {
			inject(peer_syn(40001 + i));
			iss.push_back(EXPECT_TX(seg().flags(F_SYN | F_ACK).dport(40001 + i)).seq);
		}
		EXPECT_EQ(ts.syn_rcvd, conf.syn_backlog);
		EXPECT_EQ(cnt(TCP_CNT_syn_cookies_sent), 0u);
		return iss;
	}
	// Active-close a connection on rport all the way into TIME_WAIT.
	void into_time_wait(uint16_t rport)
	{
		Flow *f = accept_conn(peer_syn(rport));
		ASSERT_TRUE(f);
		close(f->u);
		EXPECT_TX(f->out().flags(F_FIN | F_ACK));
		inject(f->seg().fin().seq(1001).ack(f->iss + 2));
		EXPECT_TX(f->out().flags(F_ACK).ack(1002));
		ASSERT_EQ(state_of(LPORT, rport), TCP_TIME_WAIT);
	}
};

TEST_F(TcpSynFlood, CookieRoundTripKeepsOptionsThroughTimestamps)
{
	conf.syn_backlog = 2;
	fill_backlog();
	uint32_t used = ts.conns_used;
	inject(peer_syn(40100).mss(1400).wscale(5).ts(700, 0));
	Pkt sa = EXPECT_TX(
		seg().flags(F_SYN | F_ACK).dport(40100).ack(1001).mss(1460).sackok().tsecr(700));
	EXPECT_TRUE(sa.wscale.has_value());
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_sent), 1u);
	EXPECT_EQ(ts.conns_used, used) << "a cookie keeps no state";
	EXPECT_EQ(state_of(LPORT, 40100), TCP_CLOSED);
	advance_ms(20);
	inject(seg().sport(40100).seq(1001).ack(sa.seq + 1).win(1000).data("GET /"));
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_accepted), 1u);
	ASSERT_NE(last_accepted, nullptr);
	ASSERT_EQ(lookup(LPORT, 40100), last_accepted->c);
	EXPECT_EQ(last_accepted->rx, "GET /") << "data on the cookie ACK is delivered";
	struct tcp_conn_info i = info(last_accepted->c);
	EXPECT_EQ(i.state, TCP_ESTABLISHED);
	EXPECT_EQ(i.mss, tcp_cookie_mss_round(1400));
	EXPECT_EQ(i.snd_wscale, 5);
	EXPECT_EQ(i.rcv_wscale, *sa.wscale);
	EXPECT_TRUE(i.sack_ok);
	EXPECT_TRUE(i.ts_ok);
	EXPECT_EQ(i.snd_wnd, 1000u << 5);
	EXPECT_EQ(i.snd_una, sa.seq + 1);
	EXPECT_EQ(i.rcv_nxt, 1006u);
	ASSERT_EQ(send(last_accepted, pattern(2000)), 0);
	for (Pkt &p : take_tx())
		EXPECT_LE(p.len(), 1400u - 12) << "the cookie's MSS, less the timestamp option";
}

TEST_F(TcpSynFlood, CookieWithoutTimestampsOffersNoScaleNorSack)
{
	conf.syn_backlog = 2;
	fill_backlog();
	inject(peer_syn(40100).no_ts());
	// without timestamps the cookie cannot carry the peer's shift: offering our own would
	// make the two sides disagree about every window (RFC 7323 2.2 needs both or neither)
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).dport(40100).ack(1001).no_wscale().no_ts());
	EXPECT_FALSE(sa.sackok);
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_sent), 1u);
	inject(seg().sport(40100).seq(1001).ack(sa.seq + 1).win(1000));
	ASSERT_NE(last_accepted, nullptr);
	struct tcp_conn_info i = info(last_accepted->c);
	EXPECT_EQ(i.snd_wscale, 0);
	EXPECT_EQ(i.rcv_wscale, 0);
	EXPECT_FALSE(i.sack_ok);
	EXPECT_FALSE(i.ts_ok);
	EXPECT_EQ(i.snd_wnd, 1000u);
	EXPECT_EQ(i.mss, 1460u);
}

TEST_F(TcpSynFlood, ForgedCookieRejected)
{
	conf.syn_backlog = 2;
	fill_backlog();
	inject(peer_syn(40100));
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).dport(40100));
	inject(seg().sport(40100).seq(1001).ack(sa.seq + 1 + 12345).ts(800, sa.tsval));
	EXPECT_TX(seg().flags(F_RST).seq(sa.seq + 1 + 12345).dport(40100));
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_rejected), 1u);
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_accepted), 0u);
	EXPECT_EQ(state_of(LPORT, 40100), TCP_CLOSED);
	// right cookie, wrong peer ISN: also rejected
	inject(seg().sport(40100).seq(1002).ack(sa.seq + 1).ts(801, sa.tsval));
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_rejected), 2u);
	EXPECT_EQ(events(), "");
}

TEST_F(TcpSynFlood, ExpiredCookieRejected)
{
	conf.syn_backlog = 2;
	fill_backlog();
	inject(peer_syn(40100));
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).dport(40100));
	drain_tx();
	set_clock(ns.now + (uint64_t)TCP_COOKIE_PERIOD_S * (TCP_COOKIE_MAX_AGE + 1) * 1000 * MS);
	drain_tx();
	inject(seg().sport(40100).seq(1001).ack(sa.seq + 1));
	EXPECT_TX(seg().flags(F_RST).seq(sa.seq + 1).dport(40100));
	// rejected as a cookie, or (no cookie sent for minutes) as a stray ACK to a listener
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_rejected) + cnt(TCP_CNT_drop_listen_ack), 1u);
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_accepted), 0u);
	EXPECT_EQ(state_of(LPORT, 40100), TCP_CLOSED);
}

TEST_F(TcpSynFlood, NoSynCookiesDropsWhenBacklogFull)
{
	conf.syn_backlog = 2;
	conf.no_syn_cookies = true;
	fill_backlog();
	inject(peer_syn(40100));
	EXPECT_NO_TX();
	EXPECT_EQ(cnt(TCP_CNT_drop_backlog_full), 1u);
	EXPECT_EQ(ts.conns_used, 2u);
}

TEST_F(TcpSynFlood, BacklogFreesAsHandshakesCompleteOrExpire)
{
	conf.syn_backlog = 2;
	std::vector<uint32_t> iss = fill_backlog();
	ASSERT_EQ(iss.size(), 2u);
	// completing one handshake leaves the backlog
	inject(seg().sport(40001).seq(1001).ack(iss[0] + 1));
	EXPECT_EQ(ts.syn_rcvd, 1u);
	inject(peer_syn(40200));
	EXPECT_TX(seg().flags(F_SYN | F_ACK).dport(40200));
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_sent), 0u);
	EXPECT_EQ(ts.syn_rcvd, 2u);
	// the others expire after syn_retries (1 + 2 + 4 + 8 s)
	advance_ms(16000);
	drain_tx();
	EXPECT_EQ(ts.syn_rcvd, 0u);
	inject(peer_syn(40300));
	EXPECT_TX(seg().flags(F_SYN | F_ACK).dport(40300));
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_sent), 0u);
}

TEST_F(TcpSynFlood, FullPoolAnswersWithCookiesAndRecovers)
{
	conf.max_connections = 3;
	Flow *a = accept_conn(peer_syn(40001));
	ASSERT_TRUE(a);
	ASSERT_TRUE(accept_conn(peer_syn(40002)));
	ASSERT_TRUE(accept_conn(peer_syn(40003)));
	EXPECT_EQ(ts.conns_used, 3u);
	inject(peer_syn(40004));
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).dport(40004).ack(1001));
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_sent), 1u);
	inject(seg().sport(40004).seq(1001).ack(sa.seq + 1));
	EXPECT_EQ(state_of(LPORT, 40004), TCP_CLOSED) << "no TCB to build it in";
	EXPECT_GE(cnt(TCP_CNT_drop_pool_empty), 1u);
	drain_tx();
	abort(a->u);
	drain_tx();
	// the peer believes it is connected and sends data: the cookie still opens it
	inject(seg().sport(40004).seq(1001).ack(sa.seq + 1).data("late"));
	ASSERT_EQ(state_of(LPORT, 40004), TCP_ESTABLISHED);
	EXPECT_EQ(last_accepted->rx, "late");
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_accepted), 1u);
	EXPECT_EQ(ts.conns_used, 3u);
	EXPECT_EQ(ts.conns_hwm, 3u);
}

TEST_F(TcpSynFlood, FullPoolReclaimsOldestTimeWait)
{
	conf.max_connections = 2;
	into_time_wait(40001);
	advance_ms(10);
	into_time_wait(40002);
	EXPECT_EQ(ts.time_wait, 2u);
	inject(peer_syn(40003));
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).dport(40003));
	EXPECT_EQ(cnt(TCP_CNT_time_wait_reclaimed), 1u);
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_sent), 0u) << "reclaim TIME_WAIT before cookies";
	EXPECT_EQ(state_of(LPORT, 40001), TCP_CLOSED) << "the oldest goes first";
	EXPECT_EQ(state_of(LPORT, 40002), TCP_TIME_WAIT);
	inject(seg().sport(40003).seq(1001).ack(sa.seq + 1));
	EXPECT_EQ(state_of(LPORT, 40003), TCP_ESTABLISHED);
}

TEST_F(TcpSynFlood, ConnectFailsOnFullPoolThenRecovers)
{
	conf.max_connections = 2;
	Flow *a = accept_conn(peer_syn(40001));
	ASSERT_TRUE(a);
	ASSERT_TRUE(accept_conn(peer_syn(40002)));
	rte_errno = 0;
	EXPECT_EQ(connect(50000, 8080), nullptr);
	EXPECT_EQ(rte_errno, ENOBUFS);
	EXPECT_NO_TX();
	abort(a->u);
	drain_tx();
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	EXPECT_TX(seg().flags(F_SYN).sport(50000));
}

TEST_F(TcpSynFlood, ConnectReclaimsTimeWait)
{
	conf.max_connections = 1;
	into_time_wait(40001);
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr) << "STYLE.md: reclaim TIME_WAIT before refusing";
	EXPECT_TX(seg().flags(F_SYN).sport(50000));
	EXPECT_EQ(cnt(TCP_CNT_time_wait_reclaimed), 1u);
}

TEST_F(TcpSynFlood, WorkerOutOfOrderBudget)
{
	conf.ooo_max_mbufs = 4;
	Flow *a = accept_conn(peer_syn(40001));
	Flow *b = accept_conn(peer_syn(40002));
	ASSERT_TRUE(a && b);
	for (uint32_t k : { 2, 4, 6 })
		inject(a->seg().seq(1001 + k * 100).ack(a->iss + 1).data(pattern(100, k * 100)));
	for (uint32_t k : { 2, 4, 6 })
		inject(b->seg().seq(1001 + k * 100).ack(b->iss + 1).data(pattern(100, k * 100)));
	EXPECT_EQ(ts.ooo_mbufs, 4u);
	EXPECT_EQ(cnt(TCP_CNT_drop_ooo_worker_full), 2u);
	// a's holes fill: its mbufs return to the budget
	for (uint32_t k : { 0, 1, 3, 5 })
		inject(a->seg().seq(1001 + k * 100).ack(a->iss + 1).data(pattern(100, k * 100)));
	EXPECT_TRUE(bytes_eq(a->u->rx, pattern(700)));
	EXPECT_EQ(ts.ooo_mbufs, 1u);
	inject(b->seg().seq(1001 + 600).ack(b->iss + 1).data(pattern(100, 600)));
	EXPECT_EQ(ts.ooo_mbufs, 2u) << "room again for b's dropped block";
}

} // namespace
