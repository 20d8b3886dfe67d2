// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: TCP timers other than retransmission: keepalive (RFC 9293 3.8.4) and the
// persist timer with zero window probes (RFC 9293 3.8.6.1).
#include "tcp_harness.h"

#include <algorithm>

using namespace tcpt;

namespace
{

class TcpTimers : public TcpTest
{
      protected:
	void keepalive_conf()
	{
		conf.keepalive_idle_ms = 1000;
		conf.keepalive_intvl_ms = 500;
		conf.keepalive_probes = 3;
	}
	// A keepalive probe: SEG.SEQ = SND.NXT - 1, no data or one garbage octet.
	void expect_probe(Flow *f, const char *what)
	{
		Pkt p = next_tx();
		ASSERT_TRUE(p.valid) << what << ": no keepalive probe";
		EXPECT_EQ(p.flags & (F_SYN | F_FIN | F_RST | F_ACK), F_ACK) << p.describe();
		EXPECT_EQ(p.seq, f->iss) << what << ": probe seq must be SND.NXT - 1";
		EXPECT_EQ(p.ack, 1001u);
		EXPECT_LE(p.len(), 1u);
	}
};

TEST_F(TcpTimers, KeepaliveProbesThenTimeout)
{
	keepalive_conf();
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	EXPECT_NEAR(wait_tx(5000), 1000, 1) << "first probe after keepalive_idle_ms";
	expect_probe(f, "probe 1");
	EXPECT_NEAR(wait_tx(5000), 500, 1) << "then every keepalive_intvl_ms";
	expect_probe(f, "probe 2");
	EXPECT_NEAR(wait_tx(5000), 500, 1);
	expect_probe(f, "probe 3");
	EXPECT_EQ(cnt(TCP_CNT_keepalive_probes), 3u);
	advance_ms(490);
	EXPECT_FALSE(f->u->closed) << "the last probe gets its interval to be answered";
	advance_ms(20);
	EXPECT_TRUE(f->u->closed);
	EXPECT_EQ(f->u->reason, TCP_CLOSE_TIMEOUT);
	for (Pkt &p : take_tx())
		EXPECT_TRUE(p.has(F_RST)) << p.describe();
	EXPECT_EQ(ts.conns_used, 0u);
}

TEST_F(TcpTimers, AnsweredKeepaliveKeepsTheConnection)
{
	keepalive_conf();
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	for (int round = 0; round < 5; round++) {
		EXPECT_NEAR(wait_tx(5000), 1000, 1) << "round " << round;
		expect_probe(f, "probe");
		advance_ms(5);
		inject(f->seg().seq(1001).ack(f->iss + 1));
	}
	EXPECT_FALSE(f->u->closed);
	EXPECT_EQ(tcp_conn_state(f->c()), TCP_ESTABLISHED);
	EXPECT_EQ(cnt(TCP_CNT_keepalive_probes), 5u);
}

TEST_F(TcpTimers, ReceivedDataDefersKeepalive)
{
	keepalive_conf();
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	advance_ms(800);
	inject(f->seg().seq(1001).ack(f->iss + 1).data("tick"));
	EXPECT_NEAR(wait_tx(500), conf.delayed_ack_ms, 1);
	EXPECT_TX(f->out().flags(F_ACK).ack(1005));
	uint64_t t = wait_tx(5000) + conf.delayed_ack_ms;
	EXPECT_NEAR((double)t, 1000.0, 2.0) << "idle counts from the last segment received";
	Pkt p = EXPECT_TX(f->out().flags(F_ACK).seq(f->iss).ack(1005));
	EXPECT_LE(p.len(), 1u);
}

TEST_F(TcpTimers, KeepaliveOffByDefault)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	advance_ms(600000);
	EXPECT_NO_TX();
	EXPECT_EQ(tcp_conn_state(f->c()), TCP_ESTABLISHED);
	EXPECT_EQ(cnt(TCP_CNT_keepalive_probes), 0u);
}

TEST_F(TcpTimers, ZeroWindowProbesBackOffAndNeverGiveUp)
{
	conf.rto_max_ms = 4000;
	conf.max_retries = 4;
	Flow *f = accept_conn(peer_syn().no_ts().no_wscale());
	ASSERT_TRUE(f);
	const uint32_t una = f->iss + 1;
	inject(f->seg().seq(1001).ack(una).win(0)); // the peer's buffer is full
	std::string d = pattern(1000);
	ASSERT_EQ(send(f->u, d), 0);
	EXPECT_NO_TX(); // nothing may be sent into a zero window
	std::vector<uint64_t> gaps;
	for (int i = 0; i < 8; i++) {
		uint64_t g = wait_tx(10000);
		ASSERT_LE(g, 10000u) << "no zero window probe " << i + 1;
		gaps.push_back(g);
		Pkt p = next_tx();
		EXPECT_TRUE(p.has(F_ACK));
		// a probe carries one new octet at SND.UNA, or none at SND.UNA - 1
		EXPECT_TRUE((p.seq == una && p.len() == 1 && p.data == d.substr(0, 1)) ||
			    (p.seq == una - 1 && p.len() == 0))
			<< p.describe();
		EXPECT_NO_TX();
		inject(f->seg().seq(1001).ack(una).win(0)); // still full
	}
	for (size_t i = 1; i < gaps.size(); i++) {
		EXPECT_GE(gaps[i] + 1, gaps[i - 1]) << "probe intervals never shrink";
		EXPECT_LE(gaps[i], conf.rto_max_ms + 1u);
	}
	EXPECT_NEAR((double)gaps[1], 2.0 * gaps[0], 2.0) << "exponential back-off";
	EXPECT_EQ(gaps.back(), conf.rto_max_ms);
	EXPECT_EQ(cnt(TCP_CNT_zero_window_probes), 8u);
	EXPECT_EQ(tcp_conn_state(f->c()), TCP_ESTABLISHED)
		<< "RFC 9293 3.8.6.1: never close while probes are acknowledged";
	// the window opens: everything goes out
	inject(f->seg().seq(1001).ack(una).win(65535));
	std::string got;
	for (Pkt &p : take_tx()) {
		EXPECT_EQ(p.seq, una + got.size());
		got += p.data;
	}
	EXPECT_TRUE(bytes_eq(got, d));
}

TEST_F(TcpTimers, WindowShrinkingToZeroWithDataInFlightStartsProbes)
{
	Flow *f = accept_conn(peer_syn().no_ts().no_wscale().win(2920));
	ASSERT_TRUE(f);
	const uint32_t una = f->iss + 1, W = 2920;
	ASSERT_EQ(send(f->u, pattern(5000)), 0);
	std::string got;
	for (Pkt &p : take_tx())
		got += p.data;
	EXPECT_TRUE(bytes_eq(got, pattern(W)));
	inject(f->seg().seq(1001).ack(una + W).win(0)); // all received, buffer full
	EXPECT_NO_TX();
	uint64_t g = wait_tx(10000);
	EXPECT_LE(g, 10000u) << "a zero window with data queued needs the persist timer";
	Pkt p = next_tx();
	EXPECT_TRUE((p.seq == una + W && p.len() == 1) || (p.seq == una + W - 1 && p.len() == 0))
		<< p.describe();
	inject(f->seg().seq(1001).ack(una + W).win(8000));
	for (Pkt &q : take_tx()) {
		EXPECT_EQ(q.seq, una + got.size()) << q.describe();
		if (q.seq == una + got.size())
			got += q.data;
	}
	EXPECT_TRUE(bytes_eq(got, pattern(5000)));
}

} // namespace
