// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: loss recovery: retransmission timer (RFC 6298: back-off, bounds, Karn, restart
// on ACK, 3 s after a lost SYN), retries exhausted, fast retransmit and NewReno recovery
// (RFC 5681, 6582), loss window after a timeout.
#include "tcp_harness.h"

#include <algorithm>

using namespace tcpt;

namespace
{

class TcpLoss : public TcpTest
{
      protected:
	static Seg plain_syn()
	{
		return peer_syn().no_ts().no_sackok();
	}
	// Highest sequence number sent + 1 among pkts, starting from `from`.
	static uint32_t max_end(const std::vector<Pkt> &pkts, uint32_t from)
	{
		for (const Pkt &p : pkts)
			if (seq_lt(from, p.seq + p.len()))
				from = p.seq + p.len();
		return from;
	}
};

TEST_F(TcpLoss, RtoBacksOffExponentially)
{
	conf.max_retries = 10;
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "lost data"), 0);
	EXPECT_TX(f->out().data("lost data"));
	uint32_t rto = info(f->c()).rto_ms;
	EXPECT_TRUE(rto == conf.rto_min_ms || rto == conf.rto_initial_ms) << rto;
	for (int i = 0; i < 5; i++) {
		uint64_t want = std::min<uint64_t>((uint64_t)rto << i, conf.rto_max_ms);
		EXPECT_NEAR(wait_tx(want + 50), want, 1) << "retransmission " << i + 1;
		EXPECT_TX(f->out().seq(f->iss + 1).data("lost data"));
		EXPECT_EQ(info(f->c()).rto_ms,
			  std::min<uint64_t>((uint64_t)rto << (i + 1), conf.rto_max_ms));
	}
	EXPECT_EQ(cnt(TCP_CNT_retransmits), 5u);
	EXPECT_EQ(cnt(TCP_CNT_rto_expiries), 5u);
}

TEST_F(TcpLoss, RtoCappedAtRtoMax)
{
	conf.max_retries = 10;
	conf.rto_max_ms = 3000;
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "x"), 0);
	EXPECT_TX(f->out().data("x"));
	uint64_t rto = info(f->c()).rto_ms;
	for (int i = 0; i < 8; i++) {
		uint64_t want = std::min<uint64_t>(rto << i, 3000);
		EXPECT_NEAR(wait_tx(want + 50), want, 1) << "retransmission " << i + 1;
		EXPECT_TX(f->out().data("x"));
	}
}

TEST_F(TcpLoss, RetriesExhaustedTimesOut)
{
	conf.max_retries = 3;
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "x"), 0);
	EXPECT_TX(f->out().data("x"));
	uint64_t rto = info(f->c()).rto_ms;
	int rexmit = 0;
	uint64_t t0 = now_ms();
	while (!f->u->closed && now_ms() - t0 < 100000) {
		advance_ms(1);
		for (Pkt &p : take_tx())
			if (!p.has(F_RST)) {
				EXPECT_EQ(p.data, "x");
				rexmit++;
			}
	}
	EXPECT_EQ(rexmit, 3);
	EXPECT_TRUE(f->u->closed);
	EXPECT_EQ(f->u->reason, TCP_CLOSE_TIMEOUT);
	EXPECT_NEAR((double)(now_ms() - t0), (double)(rto * 15), 4.0)
		<< "gives up when the RTO after the last retransmission expires";
	EXPECT_EQ(cnt(TCP_CNT_conns_timed_out), 1u);
	EXPECT_EQ(ts.conns_used, 0u);
}

TEST_F(TcpLoss, KarnNoSampleFromRetransmittedSegment)
{
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	Rfc6298 m = rtt_after_handshake(f->c());
	uint32_t srtt0 = info(f->c()).srtt_us;
	ASSERT_EQ(send(f->u, "a"), 0);
	EXPECT_TX(f->out().data("a"));
	uint32_t rto = info(f->c()).rto_ms;
	wait_tx(rto + 50);
	EXPECT_TX(f->out().data("a"));
	advance_ms(10);
	inject(f->seg().seq(1001).ack(f->iss + 2)); // ambiguous: original or retransmission?
	EXPECT_EQ(info(f->c()).srtt_us, srtt0) << "Karn: no RTT sample from a retransmission";
	EXPECT_EQ(info(f->c()).rto_ms, 2 * rto) << "RFC 6298 5.5: the backed-off RTO is kept";
	// a clean sample collapses the RTO again
	ASSERT_EQ(send(f->u, "b"), 0);
	EXPECT_TX(f->out().data("b"));
	advance_ms(50);
	inject(f->seg().seq(1001).ack(f->iss + 3));
	m.sample(50);
	EXPECT_NEAR((double)info(f->c()).srtt_us, m.srtt * 1000, 1000);
	EXPECT_NEAR((double)info(f->c()).rto_ms, m.rto(conf.rto_min_ms, conf.rto_max_ms, 1000), 2);
}

TEST_F(TcpLoss, RtoRestartsWhenAnAckArrives)
{
	hs_delay_ms = 1; // small first sample
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	Rfc6298 m = rtt_after_handshake(f->c());
	ASSERT_EQ(send(f->u, pattern(1000)), 0);
	EXPECT_TX(f->out().len(1000));
	advance_ms(100);
	ASSERT_EQ(send(f->u, pattern(1000, 1000)), 0);
	EXPECT_TX(f->out().len(1000));
	advance_ms(80);
	inject(f->seg().seq(1001).ack(f->iss + 1001)); // first segment, RTT 180 ms
	m.sample(180);
	double rto = m.rto(conf.rto_min_ms, conf.rto_max_ms, 1000);
	// RFC 6298 5.3: restart the timer so that it expires after RTO from now
	EXPECT_NEAR((double)wait_tx(5000), rto, 2.0);
	EXPECT_TX(f->out().seq(f->iss + 1001).data(pattern(1000, 1000)));
}

// The wheel entry is moved lazily (tcp_timer.c): a retransmission timer stopped by an ACK and
// started again later leaves the entry at the old deadline, where it must fire without effect;
// the retransmission comes one RTO after the second send, not at the first deadline.
TEST_F(TcpLoss, RestartedRtoFiresAtItsNewDeadlineNotTheOldEntry)
{
	hs_delay_ms = 1;
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	Rfc6298 m = rtt_after_handshake(f->c());
	double rto = m.rto(conf.rto_min_ms, conf.rto_max_ms, 1000);
	ASSERT_EQ(send(f->u, "abc"), 0);
	EXPECT_TX(f->out().data("abc"));
	advance_ms(1);
	inject(f->seg().seq(1001).ack(f->iss + 4)); // no sample: the first RTO stays what it was
	advance_ms(49);
	ASSERT_EQ(send(f->u, "def"), 0);
	EXPECT_TX(f->out().seq(f->iss + 4).data("def"));
	EXPECT_NEAR((double)wait_tx(5000), rto, 2.0) << "one RTO after the second send";
	EXPECT_TX(f->out().seq(f->iss + 4).data("def"));
	EXPECT_EQ(cnt(TCP_CNT_retransmits), 1u);
	EXPECT_EQ(cnt(TCP_CNT_rto_expiries), 1u);
}

// A deadline earlier than where the entry sits moves it: a delayed ACK due before the running
// retransmission timer goes out on time.
TEST_F(TcpLoss, DelayedAckBeforeTheRunningRtoGoesOutOnTime)
{
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "abc"), 0);
	EXPECT_TX(f->out().data("abc"));
	advance_ms(5);
	inject(f->seg().seq(1001).ack(f->iss + 1).data("xyz"));
	EXPECT_NEAR((double)wait_tx(5000), conf.delayed_ack_ms, 1.0);
	EXPECT_TX(f->out().flags(F_ACK).ack(1004));
	EXPECT_EQ(cnt(TCP_CNT_delayed_acks), 1u);
	EXPECT_EQ(cnt(TCP_CNT_retransmits), 0u);
}

// Stopped timers leave no entry behind for long: the stale one fires once and is gone.
TEST_F(TcpLoss, StaleTimerEntryGoesAwayAfterItsTick)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "abc"), 0);
	EXPECT_TX(f->out().data("abc"));
	inject(f->seg().seq(1001).ack(f->iss + 4));
	advance_ms(conf.rto_max_ms + 10);
	EXPECT_NO_TX();
	EXPECT_EQ(tcp_wheel_armed(&ts.wheel), 0u) << "no deadline left, no entry left";
}

TEST_F(TcpLoss, TimerStopsWhenEverythingIsAcked)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "abc"), 0);
	EXPECT_TX(f->out().data("abc"));
	inject(f->seg().seq(1001).ack(f->iss + 4));
	advance_ms(120000);
	EXPECT_NO_TX();
	EXPECT_EQ(cnt(TCP_CNT_retransmits), 0u);
}

TEST_F(TcpLoss, LostSynMakesDataRtoThreeSeconds)
{
	hs_delay_ms = 0;
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	EXPECT_NEAR(wait_tx(1100), 1000, 1);
	EXPECT_TX(seg().flags(F_SYN));
	advance_ms(20);
	inject(seg().sport(8080).dport(50000).syn().ack(syn.seq + 1).seq(9000).mss(1460));
	EXPECT_TX(seg().flags(F_ACK).ack(9001));
	ASSERT_TRUE(u->connected);
	ASSERT_EQ(send(u, "d"), 0);
	EXPECT_TX(seg().data("d"));
	// RFC 6298 5.7: the SYN timed out with RTO < 3 s, so data starts with RTO = 3 s
	EXPECT_NEAR(wait_tx(5000), 3000, 2);
	EXPECT_TX(seg().data("d"));
}

TEST_F(TcpLoss, FastRetransmitAndNewRenoRecovery)
{
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	const uint32_t S = 1460, b = f->iss + 1; // segment k starts at b + k * S
	ASSERT_EQ(send(f->u, pattern(40 * S)), 0);
	std::vector<Pkt> v = take_tx();
	ASSERT_EQ(v.size(), 10u);
	inject(f->seg().seq(1001).ack(b + S)); // segment 0 arrives; 1 is lost
	v = take_tx();
	uint32_t snd_max = max_end(v, b + 10 * S);
	// two duplicate ACKs: no retransmission (limited transmit may send new data)
	for (int i = 0; i < 2; i++) {
		inject(f->seg().seq(1001).ack(b + S));
		for (Pkt &p : take_tx()) {
			EXPECT_FALSE(seq_lt(p.seq, snd_max)) << "retransmitted after " << i + 1
							     << " dup ACK(s): " << p.describe();
			snd_max = p.seq + p.len();
		}
	}
	uint32_t flight = snd_max - (b + S);
	inject(f->seg().seq(1001).ack(b + S)); // third
	Pkt r = EXPECT_TX(f->out().seq(b + S).len(S));
	EXPECT_EQ(r.data, pattern(S, S)) << "the lost segment, byte for byte";
	EXPECT_EQ(cnt(TCP_CNT_fast_retransmits), 1u);
	struct tcp_conn_info i = info(f->c());
	uint32_t want_ss = std::max(flight / 2, 2 * S);
	EXPECT_LE(i.ssthresh, want_ss);
	EXPECT_GE(i.ssthresh, want_ss - S) << "RFC 5681 (4): max(FlightSize / 2, 2 SMSS)";
	EXPECT_EQ(i.cwnd, i.ssthresh + 3 * S) << "RFC 5681 (3)/RFC 6582: ssthresh + 3 SMSS";
	snd_max = max_end(take_tx(), snd_max);
	uint32_t recover = snd_max;

	// partial ACK: 1..4 arrived, 5 was lost too (RFC 6582 3.2 step 5)
	inject(f->seg().seq(1001).ack(b + 5 * S));
	v = take_tx();
	ASSERT_FALSE(v.empty()) << "a partial ACK retransmits the next hole at once";
	EXPECT_EQ(v[0].seq, b + 5 * S);
	EXPECT_EQ(v[0].data, pattern(S, 5 * S));
	snd_max = max_end(v, snd_max);
	uint32_t ss = info(f->c()).ssthresh;
	EXPECT_EQ(ss, i.ssthresh) << "ssthresh is not cut again inside one recovery";

	// full ACK of everything outstanding when recovery began: recovery ends
	inject(f->seg().seq(1001).ack(recover));
	i = info(f->c());
	EXPECT_LE(i.cwnd, i.ssthresh) << "RFC 6582 step 6: deflate to at most ssthresh";
	EXPECT_GE(i.cwnd, S);
	(void)snd_max;
}

TEST_F(TcpLoss, AcksThatAreNotDuplicatesDoNotTriggerFastRetransmit)
{
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	const uint32_t S = 1460, b = f->iss + 1;
	ASSERT_EQ(send(f->u, pattern(20 * S)), 0);
	drain_tx();
	inject(f->seg().seq(1001).ack(b + S));
	drain_tx();
	// RFC 5681 section 2: a window update is not a duplicate ACK ...
	for (uint16_t w : { 60000, 59000, 58000 })
		inject(f->seg().seq(1001).ack(b + S).win(w));
	// ... nor is an ACK carrying data
	for (int k = 0; k < 3; k++)
		inject(f->seg().seq(1001 + k * 10).ack(b + S).win(58000).data(pattern(10, k * 10)));
	for (Pkt &p : take_tx())
		EXPECT_FALSE(p.len() > 0 && p.seq == b + S) << "retransmitted: " << p.describe();
	EXPECT_EQ(cnt(TCP_CNT_fast_retransmits), 0u);
}

TEST_F(TcpLoss, TimeoutShrinksCwndToOneSegmentThenSlowStart)
{
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	const uint32_t S = 1460, b = f->iss + 1;
	ASSERT_EQ(send(f->u, pattern(10 * S)), 0);
	ASSERT_EQ(take_tx().size(), 10u);
	uint32_t rto = info(f->c()).rto_ms;
	EXPECT_NEAR(wait_tx(rto + 50), rto, 1);
	std::vector<Pkt> v = take_tx();
	ASSERT_EQ(v.size(), 1u) << "RFC 5681 3.1: after a timeout cwnd is one segment";
	EXPECT_EQ(v[0].seq, b);
	struct tcp_conn_info i = info(f->c());
	EXPECT_EQ(i.cwnd, S);
	EXPECT_EQ(i.ssthresh, 5 * S) << "max(FlightSize / 2, 2 SMSS) with 10 segments out";
	inject(f->seg().seq(1001).ack(b + S));
	v = take_tx();
	ASSERT_EQ(v.size(), 2u) << "slow start from one segment: two more";
	EXPECT_EQ(v[0].seq, b + S);
	EXPECT_EQ(v[1].seq, b + 2 * S);
	EXPECT_EQ(v[1].data, pattern(S, 2 * S));
}

TEST_F(TcpLoss, PeerSackBlocksDoNotDisturbAckProcessing)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	const uint32_t S = 1448, b = f->iss + 1;
	ASSERT_EQ(send(f->u, pattern(4 * S)), 0);
	ASSERT_EQ(take_tx().size(), 4u);
	inject(f->seg().seq(1001).ack(b + S).sack({ { b + 2 * S, b + 4 * S } }));
	EXPECT_EQ(info(f->c()).snd_una, b + S);
	inject(f->seg().seq(1001).ack(b + 4 * S));
	EXPECT_EQ(info(f->c()).snd_una, b + 4 * S);
	EXPECT_EQ(info(f->c()).snd_queued, 0u);
}

TEST_F(TcpLoss, FinAndDataRetransmittedTogether)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "abc"), 0);
	close(f->u);
	std::string got;
	for (Pkt &p : take_tx())
		got += p.data;
	EXPECT_EQ(got, "abc");
	// everything lost: the retransmission covers the data and the FIN
	uint32_t rto = info(lookup(LPORT, RPORT)).rto_ms;
	EXPECT_NEAR(wait_tx(rto + 50), rto, 1);
	got.clear();
	bool fin = false;
	for (Pkt &p : take_tx()) {
		if (p.seq == f->iss + 1 + got.size())
			got += p.data;
		fin |= p.has(F_FIN) && p.seq + p.len() == f->iss + 4;
	}
	EXPECT_EQ(got, "abc");
	if (!fin) { // FIN may follow in its own segment once the data is acknowledged
		inject(f->seg().seq(1001).ack(f->iss + 4));
		for (Pkt &p : take_tx())
			fin |= p.has(F_FIN) && p.seq == f->iss + 4;
		if (!fin)
			fin = wait_tx(5000) <= 5000 && next_tx().has(F_FIN);
	}
	EXPECT_TRUE(fin) << "the FIN is retransmitted too";
	inject(f->seg().seq(1001).ack(f->iss + 5));
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_FIN_WAIT_2);
}

TEST_F(TcpLoss, CwndRestartsAfterIdle)
{
	// RFC 5681 4.1: after an idle period longer than RTO, cwnd is reduced to the restart
	// window min(IW, cwnd) so a long-idle connection does not burst
	Flow *f = accept_conn(peer_syn().no_ts().no_sackok());
	ASSERT_TRUE(f);
	const uint32_t S = 1460;
	uint32_t una = f->iss + 1;
	ASSERT_EQ(send(f->u, pattern(40 * S)), 0);
	for (int i = 0; i < 40 && tx_pending(); i++) { // ack everything as it comes
		for (Pkt &p : take_tx())
			una = p.seq + p.len();
		inject(f->seg().seq(1001).ack(una));
	}
	ASSERT_EQ(info(f->c()).snd_queued, 0u);
	EXPECT_GT(info(f->c()).cwnd, 10 * S);
	advance_ms(5000);
	ASSERT_EQ(send(f->u, pattern(40 * S)), 0);
	EXPECT_EQ(take_tx().size(), 10u) << "restart window: IW10";
}

TEST_F(TcpLoss, RttSampleAcrossTheMicrosecondClockOverflow)
{
	// ns.now * 1e6 overflows 64 bits at this TSC value (with hz = 1e9): an RTT measured
	// across it must still be right
	const uint64_t edge = UINT64_MAX / 1000000;
	start();
	set_clock(edge - 150 * MS);
	hs_delay_ms = 100;
	Flow *f = accept_conn(plain_syn());
	ASSERT_TRUE(f);
	Rfc6298 m = rtt_after_handshake(f->c());
	ASSERT_EQ(send(f->u, "t"), 0);
	EXPECT_TX(f->out().data("t"));
	advance_ms(100); // crosses the edge 50 ms in
	inject(f->seg().seq(1001).ack(f->iss + 2));
	m.sample(100);
	EXPECT_NEAR((double)info(f->c()).srtt_us, m.srtt * 1000, 1500);
	EXPECT_NEAR((double)info(f->c()).rto_ms, m.rto(conf.rto_min_ms, conf.rto_max_ms, 1000), 3);
}

} // namespace
