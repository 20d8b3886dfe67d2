// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: TCP robustness: RST and SYN validation (RFC 5961: exact RST, challenge ACK,
// rate limit), ACK validation (RFC 5961 5.2), segments reaching no connection (RFC 9293
// 3.10.7.1), malformed segments and their counters, RST rate limit, ISNs (RFC 6528).
#include "tcp_harness.h"

#include <rte_errno.h>

using namespace tcpt;

namespace
{

class TcpSecurity : public TcpTest
{
};

enum class St { SYN_RCVD, ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1, FIN_WAIT_2, CLOSING, LAST_ACK };

static const char *st_name(St s)
{
	static const char *n[] = { "SYN_RCVD",	 "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1",
				   "FIN_WAIT_2", "CLOSING",	"LAST_ACK" };
	return n[(int)s];
}

// Where a connection stands after reach(): what the peer must send to be exact.
struct Reached {
	ConnUser *u = nullptr; // nullptr in SYN_RCVD (the user has not seen it)
	uint32_t iss = 0;
	uint32_t rcv_nxt = 0, snd_nxt = 0;
	enum tcp_state state = TCP_CLOSED;
};

class TcpStateMachine : public TcpTest
{
      protected:
	Reached reach(St s)
	{
		Reached r;
		if (s == St::SYN_RCVD) {
			listen();
			inject(peer_syn());
			r.iss = EXPECT_TX(seg().flags(F_SYN | F_ACK)).seq;
			r.rcv_nxt = 1001;
			r.snd_nxt = r.iss + 1;
			r.state = TCP_SYN_RCVD;
			return r;
		}
		Flow *f = accept_conn();
		if (f == nullptr)
			return r;
		r.u = f->u;
		r.iss = f->iss;
		r.rcv_nxt = 1001;
		r.snd_nxt = f->iss + 1;
		r.state = TCP_ESTABLISHED;
		if (s == St::CLOSE_WAIT || s == St::LAST_ACK) {
			inject(f->seg().fin().seq(1001).ack(r.snd_nxt));
			advance_ms(conf.delayed_ack_ms + 1);
			r.rcv_nxt = 1002;
			r.state = TCP_CLOSE_WAIT;
		}
		if (s == St::FIN_WAIT_1 || s == St::FIN_WAIT_2 || s == St::CLOSING ||
		    s == St::LAST_ACK) {
			EXPECT_EQ(shutdown(r.u), 0);
			r.snd_nxt++;
			r.state = s == St::LAST_ACK ? TCP_LAST_ACK : TCP_FIN_WAIT_1;
		}
		if (s == St::FIN_WAIT_2) {
			inject(f->seg().seq(1001).ack(r.snd_nxt));
			r.state = TCP_FIN_WAIT_2;
		}
		if (s == St::CLOSING) {
			inject(f->seg().fin().seq(1001).ack(r.snd_nxt - 1));
			r.rcv_nxt = 1002;
			r.state = TCP_CLOSING;
		}
		drain_tx();
		take_events();
		EXPECT_EQ(tcp_conn_state(r.u->c), r.state) << "setting up " << st_name(s);
		return r;
	}
};

enum class Rst { EXACT, IN_WINDOW, ABOVE_WINDOW, BELOW_WINDOW };

class TcpRstCase : public TcpStateMachine, public ::testing::WithParamInterface<std::tuple<St, Rst>>
{
};

TEST_P(TcpRstCase, Rfc5961RstValidation)
{
	St s = std::get<0>(GetParam());
	Rst k = std::get<1>(GetParam());
	Reached r = reach(s);
	ASSERT_NE(r.state, TCP_CLOSED);
	uint32_t seq = r.rcv_nxt;
	switch (k) {
	case Rst::EXACT:
		break;
	case Rst::IN_WINDOW:
		seq += 1000;
		break;
	case Rst::ABOVE_WINDOW:
		seq += 0x40000000u;
		break;
	case Rst::BELOW_WINDOW:
		seq -= 70000;
		break;
	}
	inject(seg().flags(F_RST).seq(seq));
	switch (k) {
	case Rst::EXACT:
		EXPECT_NO_TX();
		EXPECT_EQ(state_of(LPORT, RPORT), TCP_CLOSED);
		EXPECT_EQ(ts.conns_used, 0u);
		if (r.u) {
			EXPECT_EQ(events(), "closed#1:RESET");
			EXPECT_EQ(cnt(TCP_CNT_conns_reset), 1u);
		} else {
			EXPECT_EQ(events(), "") << "the user never saw a SYN_RCVD connection";
		}
		EXPECT_EQ(cnt(TCP_CNT_rsts_received), 1u);
		break;
	case Rst::IN_WINDOW:
		// challenge ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
		EXPECT_TX(seg().flags(F_ACK).seq(r.snd_nxt).ack(r.rcv_nxt).nodata());
		EXPECT_EQ(state_of(LPORT, RPORT), r.state);
		EXPECT_EQ(events(), "");
		EXPECT_EQ(cnt(TCP_CNT_challenge_acks), 1u);
		break;
	default:
		EXPECT_NO_TX(); // an out-of-window RST is dropped silently
		EXPECT_EQ(state_of(LPORT, RPORT), r.state);
		EXPECT_EQ(events(), "");
		break;
	}
}

static std::string rst_case_name(const ::testing::TestParamInfo<std::tuple<St, Rst>> &i)
{
	static const char *k[] = { "Exact", "InWindow", "AboveWindow", "BelowWindow" };
	return std::string(st_name(std::get<0>(i.param))) + "_" + k[(int)std::get<1>(i.param)];
}

INSTANTIATE_TEST_SUITE_P(
	States, TcpRstCase,
	::testing::Combine(::testing::Values(St::SYN_RCVD, St::ESTABLISHED, St::CLOSE_WAIT,
					     St::FIN_WAIT_1, St::FIN_WAIT_2, St::CLOSING,
					     St::LAST_ACK),
			   ::testing::Values(Rst::EXACT, Rst::IN_WINDOW, Rst::ABOVE_WINDOW,
					     Rst::BELOW_WINDOW)),
	rst_case_name);

class TcpSynCase : public TcpStateMachine, public ::testing::WithParamInterface<St>
{
};

TEST_P(TcpSynCase, SynInSynchronizedStateDrawsChallengeAck)
{
	Reached r = reach(GetParam());
	ASSERT_NE(r.u, nullptr);
	// RFC 5961 4.2: whatever its sequence number
	for (uint32_t seq : { r.rcv_nxt + 10, r.rcv_nxt - 5000, r.rcv_nxt }) {
		inject(seg().syn().seq(seq).mss(1460));
		EXPECT_TX(seg().flags(F_ACK).seq(r.snd_nxt).ack(r.rcv_nxt).nodata());
	}
	EXPECT_EQ(tcp_conn_state(r.u->c), r.state);
	EXPECT_EQ(events(), "");
	// an old SYN may be answered by the sequence check's ACK (same segment) instead
	EXPECT_GE(cnt(TCP_CNT_challenge_acks), 2u);
}

INSTANTIATE_TEST_SUITE_P(States, TcpSynCase,
			 ::testing::Values(St::ESTABLISHED, St::CLOSE_WAIT, St::FIN_WAIT_2),
			 [](const ::testing::TestParamInfo<St> &i) {
				 return std::string(st_name(i.param));
			 });

TEST_F(TcpSecurity, ChallengeAcksAreRateLimited)
{
	conf.challenge_ack_per_s = 10;
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	for (int i = 0; i < 15; i++)
		inject(seg().flags(F_RST).seq(1001 + 100 + i));
	EXPECT_EQ(take_tx().size(), 10u);
	EXPECT_EQ(cnt(TCP_CNT_challenge_acks), 10u);
	EXPECT_EQ(cnt(TCP_CNT_challenge_acks_limited), 5u);
	inject(seg().syn().seq(5000)); // SYNs share the budget (RFC 5961 section 7)
	EXPECT_NO_TX();
	advance_ms(1001);
	inject(seg().flags(F_RST).seq(1001 + 100));
	EXPECT_TX(seg().flags(F_ACK).ack(1001));
	EXPECT_EQ(tcp_conn_state(f->c()), TCP_ESTABLISHED);
}

TEST_F(TcpSecurity, AckOfUnsentDataIsDroppedWithAck)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(f->seg().seq(1001).ack(f->iss + 1 + 5000).data("zz"));
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 1).ack(1001));
	EXPECT_EQ(f->u->rx, "");
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_ack), 1u);
	EXPECT_EQ(info(f->c()).snd_una, f->iss + 1);
}

TEST_F(TcpSecurity, AckBelowMaxSndWndIsDroppedWithAck)
{
	Flow *f = accept_conn(peer_syn().no_wscale().no_ts());
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "abc"), 0);
	drain_tx();
	inject(f->seg().seq(1001).ack(f->iss + 4));
	// RFC 5961 5.2: acceptable only within [SND.UNA - MAX.SND.WND, SND.NXT]
	inject(f->seg().seq(1001).ack(f->iss + 4 - 70000).data("old"));
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 4).ack(1001));
	EXPECT_EQ(f->u->rx, "");
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_ack), 1u);
	// an old ACK within that range is merely ignored: its data is taken
	inject(f->seg().seq(1001).ack(f->iss + 2).data("fine"));
	EXPECT_EQ(f->u->rx, "fine");
}

TEST_F(TcpSecurity, OutOfWindowDataDrawsAck)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(f->seg().seq(1001 + 0x10000000u).ack(f->iss + 1).data("far"));
	EXPECT_TX(f->out().flags(F_ACK).ack(1001).nodata());
	EXPECT_EQ(f->u->rx, "");
	EXPECT_EQ(cnt(TCP_CNT_drop_outside_window), 1u);
	EXPECT_EQ(info(f->c()).ooo_segments, 0);
}

TEST_F(TcpSecurity, DataWithoutAckFlagIsDropped)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(f->seg().seq(1001).data("noack")); // RFC 9293: ACK bit off -> drop
	EXPECT_EQ(f->u->rx, "");
	EXPECT_EQ(tcp_conn_state(f->c()), TCP_ESTABLISHED);
}

struct NoConnCase {
	const char *name;
	uint8_t flags;
	uint32_t seq, ack, len;
	bool rst_expected;
	uint8_t rst_flags;
	uint32_t rst_seq, rst_ack;
};

class TcpNoConn : public TcpTest, public ::testing::WithParamInterface<NoConnCase>
{
};

TEST_P(TcpNoConn, ClosedPortAnswersPerRfc9293)
{
	const NoConnCase &k = GetParam();
	listen(80); // a listener elsewhere must not matter
	Seg s = seg().dport(81).flags(k.flags).seq(k.seq).len(k.len);
	if (k.flags & F_ACK)
		s.ack(k.ack);
	inject(s);
	if (!k.rst_expected) {
		EXPECT_NO_TX();
		EXPECT_EQ(cnt(TCP_CNT_rsts_sent), 0u);
		return;
	}
	Pkt r = EXPECT_TX(seg().flags(k.rst_flags).seq(k.rst_seq).dport(RPORT).sport(81).nodata());
	if (k.rst_flags & F_ACK) {
		EXPECT_EQ(r.ack, k.rst_ack) << k.name;
	}
	EXPECT_EQ(cnt(TCP_CNT_rsts_sent), 1u);
	EXPECT_EQ(ts.conns_used, 0u);
}

INSTANTIATE_TEST_SUITE_P(
	Segments, TcpNoConn,
	::testing::Values(
		// ACK off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN count in SEG.LEN
		NoConnCase{ "syn", F_SYN, 1000, 0, 0, true, F_RST | F_ACK, 0, 1001 },
		NoConnCase{ "data", 0, 5000, 0, 10, true, F_RST | F_ACK, 0, 5010 },
		NoConnCase{ "fin+data", F_FIN, 500, 0, 3, true, F_RST | F_ACK, 0, 504 },
		// ACK on: <SEQ=SEG.ACK><CTL=RST>
		NoConnCase{ "ack", F_ACK, 5000, 777, 0, true, F_RST, 777, 0 },
		NoConnCase{ "ack+data", F_ACK | F_PSH, 5000, 0xfffffff0u, 20, true, F_RST,
			    0xfffffff0u, 0 },
		NoConnCase{ "syn+ack", F_SYN | F_ACK, 5000, 4242, 0, true, F_RST, 4242, 0 },
		// a RST is never answered
		NoConnCase{ "rst", F_RST, 5000, 0, 0, false, 0, 0, 0 },
		NoConnCase{ "rst+ack", F_RST | F_ACK, 5000, 9, 0, false, 0, 0, 0 }),
	[](const ::testing::TestParamInfo<NoConnCase> &i) {
		std::string n = i.param.name;
		for (char &c : n)
			if (c == '+')
				c = '_';
		return n;
	});

TEST_F(TcpSecurity, SynToClosedPortCounted)
{
	inject(peer_syn().dport(81));
	EXPECT_TX(seg().flags(F_RST | F_ACK).seq(0).ack(1001));
	EXPECT_EQ(cnt(TCP_CNT_drop_no_listener), 1u);
}

TEST_F(TcpSecurity, AckToListenerDrawsRst)
{
	listen();
	inject(seg().flags(F_ACK).seq(1001).ack(123456));
	EXPECT_TX(seg().flags(F_RST).seq(123456));
	EXPECT_EQ(ts.conns_used, 0u);
	EXPECT_EQ(events(), "");
}

TEST_F(TcpSecurity, NonSynWithoutAckToListenerIsDropped)
{
	listen();
	inject(seg().seq(1001).data("hello")); // RFC 9293 LISTEN, "fourth": drop
	EXPECT_NO_TX();
	inject(seg().flags(F_RST).seq(1001)); // a RST to a listener is ignored
	EXPECT_NO_TX();
	EXPECT_EQ(ts.conns_used, 0u);
}

TEST_F(TcpSecurity, BadChecksumDroppedAndCounted)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(f->seg().seq(1001).ack(f->iss + 1).data("corrupt").bad_cksum());
	EXPECT_EQ(f->u->rx, "");
	EXPECT_NO_TX();
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_cksum), 1u);
	inject(peer_syn(40001).bad_cksum());
	EXPECT_NO_TX(); // a SYN with a bad checksum gets no SYN-ACK
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_cksum), 2u);
	inject(seg().flags(F_RST).seq(1001).bad_cksum());
	EXPECT_EQ(tcp_conn_state(f->c()), TCP_ESTABLISHED) << "nor does a RST reset anything";
}

TEST_F(TcpSecurity, BadDataOffsetDroppedAndCounted)
{
	Flow *f = accept_conn(peer_syn().no_ts());
	ASSERT_TRUE(f);
	inject(f->seg().seq(1001).ack(f->iss + 1).data("abcd").doff(4));  // below 5
	inject(f->seg().seq(1001).ack(f->iss + 1).data("abcd").doff(15)); // past the end
	EXPECT_EQ(f->u->rx, "");
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_offset), 2u);
	EXPECT_NO_TX();
	listen(81);
	inject(peer_syn(40001, 81).doff(4));
	EXPECT_NO_TX();
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_offset), 3u);
}

TEST_F(TcpSecurity, ShortSegmentDroppedAndCounted)
{
	listen();
	inject(peer_syn().truncate(12));
	EXPECT_NO_TX();
	EXPECT_EQ(cnt(TCP_CNT_drop_short), 1u);
	EXPECT_EQ(ts.conns_used, 0u);
}

TEST_F(TcpSecurity, BadFlagCombinationsDropped)
{
	listen();
	inject(peer_syn().fin());
	inject(peer_syn(40001).rst());
	EXPECT_NO_TX();
	EXPECT_EQ(ts.conns_used, 0u);
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_flags), 2u);
}

TEST_F(TcpSecurity, RstsToStrayTrafficAreRateLimited)
{
	conf.rst_per_s = 5;
	for (uint16_t p = 0; p < 8; p++)
		inject(peer_syn(40000 + p, 81));
	EXPECT_EQ(take_tx().size(), 5u);
	EXPECT_EQ(cnt(TCP_CNT_rsts_sent), 5u);
	EXPECT_EQ(cnt(TCP_CNT_rsts_rate_limited), 3u);
	advance_ms(1001);
	inject(peer_syn(40100, 81));
	EXPECT_TX(seg().flags(F_RST | F_ACK).dport(40100));
}

TEST_F(TcpSecurity, IsnsAreUnrelatedAcrossTuplesAndGrowWithTime)
{
	ConnUser *a = connect(50000, 8080);
	ConnUser *b = connect(50001, 8080);
	ASSERT_TRUE(a && b);
	uint32_t isa = EXPECT_TX(seg().flags(F_SYN).sport(50000)).seq;
	uint32_t isb = EXPECT_TX(seg().flags(F_SYN).sport(50001)).seq;
	uint32_t d = isb - isa;
	EXPECT_TRUE(d > 0x10000u && d < 0xffff0000u) << "neighbouring tuples, close ISNs";
	abort(a);
	abort(b);
	advance_ms(1000);
	a = connect(50000, 8080);
	ASSERT_NE(a, nullptr);
	uint32_t isa2 = EXPECT_TX(seg().flags(F_SYN).sport(50000)).seq;
	EXPECT_NEAR((double)(int32_t)(isa2 - isa), 250000.0, 1000.0)
		<< "RFC 6528: M ticks every 4 microseconds";
}

class TcpIsnEdge : public TcpTest, public ::testing::WithParamInterface<uint64_t>
{
};

TEST_P(TcpIsnEdge, IsnKeepsGrowingAcrossClockEdges)
{
	start();
	set_clock(GetParam() - 2 * MS);
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	uint32_t i1 = EXPECT_TX(seg().flags(F_SYN)).seq;
	abort(u);
	advance_ms(4);
	u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	uint32_t i2 = EXPECT_TX(seg().flags(F_SYN)).seq;
	EXPECT_NEAR((double)(int32_t)(i2 - i1), 1000.0, 10.0)
		<< "4 ms later on the same tuple the ISN must be 1000 steps of 4 us further";
}

INSTANTIATE_TEST_SUITE_P(Edges, TcpIsnEdge,
			 ::testing::Values(UINT64_C(4294967296000),    // 2^32 us in ns
					   UINT64_MAX / 1000000,       // ns * 1e6 overflows
					   UINT64_C(17179869184000))); // 2^34 us: M's wrap

} // namespace
