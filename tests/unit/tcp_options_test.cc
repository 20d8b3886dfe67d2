// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: TCP option negotiation and use: MSS (RFC 9293 3.7.1), window scale and
// timestamps (RFC 7323: scaling, echo rules, RTT measurement, PAWS), SACK (RFC 2018).
#include "tcp_harness.h"

extern "C" {
#include "tcp_impl.h"
}

using namespace tcpt;

namespace
{

class TcpOptions : public TcpTest
{
      protected:
	// Data bytes the stack sends in its segments, in order, until nothing more comes.
	std::vector<uint32_t> sizes_sent()
	{
		std::vector<uint32_t> v;
		for (Pkt &p : take_tx())
			if (p.len())
				v.push_back(p.len());
		return v;
	}
};

struct MssCase {
	uint16_t mtu;
	uint16_t conf_mss;
	uint16_t want;
};

class TcpMss : public TcpTest, public ::testing::WithParamInterface<MssCase>
{
};

TEST_P(TcpMss, AdvertisedMssFollowsMtuOrConf)
{
	mtu = GetParam().mtu;
	conf.mss = GetParam().conf_mss;
	listen();
	inject(peer_syn());
	EXPECT_TX(seg().flags(F_SYN | F_ACK).mss(GetParam().want));
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	EXPECT_TX(seg().flags(F_SYN).mss(GetParam().want));
}

INSTANTIATE_TEST_SUITE_P(Mtus, TcpMss,
			 ::testing::Values(MssCase{ 1500, 0, 1460 }, MssCase{ 9000, 0, 8960 },
					   MssCase{ 1280, 0, 1240 }, MssCase{ 1500, 1000, 1000 }));

// NOP, NOP, TS is read without the option loop; the result is the loop's: same values as the
// same option in another layout, and a near miss of the layout still goes through the loop.
TEST(TcpParseOpts, TimestampFastPathMatchesTheLoop)
{
	const uint8_t fast[12] = { 1, 1, 8, 10, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };
	const uint8_t loop[12] = { 8, 10, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 1 };
	struct tcp_opts a, b;
	memset(&a, 0xee, sizeof(a));
	memset(&b, 0x55, sizeof(b));
	ASSERT_EQ(tcp_parse_opts(fast, sizeof(fast), &a), 0);
	ASSERT_EQ(tcp_parse_opts(loop, sizeof(loop), &b), 0);
	EXPECT_EQ(memcmp(&a, &b, sizeof(a)), 0);
	EXPECT_TRUE(a.ts_ok);
	EXPECT_EQ(a.tsval, 0x12345678u);
	EXPECT_EQ(a.tsecr, 0x9abcdef0u);
	// a TS option of the wrong length after the two NOPs: skipped by the loop, not read
	const uint8_t bad[12] = { 1, 1, 8, 9, 0, 0, 0, 0, 0, 0, 0, 1 };
	ASSERT_EQ(tcp_parse_opts(bad, sizeof(bad), &a), 0);
	EXPECT_FALSE(a.ts_ok);
	// and a length running past the header is still an error
	const uint8_t over[12] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 10 };
	EXPECT_EQ(tcp_parse_opts(over, sizeof(over), &a), -EINVAL);
}

TEST_F(TcpOptions, PeerMssLimitsSegments)
{
	Flow *f = accept_conn(peer_syn().mss(536).no_ts());
	ASSERT_TRUE(f);
	std::string d = pattern(2000);
	ASSERT_EQ(send(f->u, d), 0);
	std::string got;
	std::vector<uint32_t> sz;
	for (Pkt &p : take_tx()) {
		got += p.data;
		sz.push_back(p.len());
	}
	EXPECT_TRUE(bytes_eq(got, d));
	EXPECT_EQ(sz, (std::vector<uint32_t>{ 536, 536, 536, 392 }));
}

TEST_F(TcpOptions, TimestampOptionIsDeductedFromMss)
{
	// RFC 9293 3.7.1: Eff.snd.MSS = SendMSS + 20 - TCP header size (options included)
	Flow *f = accept_conn(peer_syn().mss(1000));
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, pattern(3000)), 0);
	EXPECT_EQ(sizes_sent(), (std::vector<uint32_t>{ 988, 988, 988, 36 }));
}

TEST_F(TcpOptions, OurMtuCapsSegmentsWhenPeerMssIsLarger)
{
	Flow *f = accept_conn(peer_syn().mss(8960));
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, pattern(5000)), 0);
	EXPECT_EQ(sizes_sent(), (std::vector<uint32_t>{ 1448, 1448, 1448, 656 }));
}

TEST_F(TcpOptions, NoMssOptionMeans536)
{
	Flow *f = accept_conn(peer_syn().no_mss().no_ts());
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, pattern(1200)), 0);
	EXPECT_EQ(sizes_sent(), (std::vector<uint32_t>{ 536, 536, 128 }));
}

TEST_F(TcpOptions, PeerWindowScaleAppliedToItsWindows)
{
	Flow *f = accept_conn(peer_syn().wscale(2).no_ts());
	ASSERT_TRUE(f);
	// window 730 << 2 = 2920 bytes: two full segments (unscaled, 730 would be none)
	inject(f->seg().seq(1001).ack(f->iss + 1).win(730));
	EXPECT_EQ(info(f->c()).snd_wnd, 2920u);
	ASSERT_EQ(send(f->u, pattern(10000)), 0);
	std::vector<Pkt> v = take_tx();
	uint32_t sent = 0;
	for (Pkt &p : v)
		sent += p.len();
	EXPECT_EQ(sent, 2920u) << "the scaled window limits what is sent";
}

TEST_F(TcpOptions, OurWindowIsScaledWhenBufferExceeds64k)
{
	conf.rcv_buf = 1u << 20;
	Flow *f = accept_conn(peer_syn().no_ts());
	ASSERT_TRUE(f);
	uint8_t ws = info(f->c()).rcv_wscale;
	EXPECT_GE(ws, 4) << "a 1 MiB buffer needs a shift of at least 4";
	EXPECT_LE(ws, 14);
	inject(f->seg().seq(1001).ack(f->iss + 1).data("x"));
	advance_ms(conf.delayed_ack_ms + 1);
	Pkt a = EXPECT_TX(f->out().flags(F_ACK).ack(1002));
	uint64_t wnd = (uint64_t)a.win << ws;
	EXPECT_GT(wnd, 65535u) << "the scaled window must offer more than 64 KiB";
	EXPECT_LE(wnd, (uint64_t)conf.rcv_buf) << "never more than rcv_buf";
}

TEST_F(TcpOptions, NoScalingWhenPeerDidNotOffer)
{
	conf.rcv_buf = 1u << 20;
	listen();
	inject(peer_syn().no_wscale().no_ts());
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).no_wscale());
	inject(seg().seq(1001).ack(sa.seq + 1));
	ASSERT_NE(last_accepted, nullptr);
	EXPECT_EQ(info(last_accepted->c).rcv_wscale, 0);
	EXPECT_EQ(info(last_accepted->c).snd_wscale, 0);
	inject(seg().seq(1001).ack(sa.seq + 1).data("x"));
	advance_ms(conf.delayed_ack_ms + 1);
	Pkt a = EXPECT_TX(seg().flags(F_ACK).ack(1002));
	EXPECT_GE(a.win, 32768) << "an unscaled window must not be shifted down";
}

TEST_F(TcpOptions, PeerShiftAbove14IsClamped)
{
	Flow *f = accept_conn(peer_syn().wscale(15));
	ASSERT_TRUE(f);
	EXPECT_EQ(info(f->c()).snd_wscale, 14) << "RFC 7323 2.3: use 14 instead";
}

TEST_F(TcpOptions, SackPermittedOnlyWhenOfferedAndEnabled)
{
	listen();
	inject(peer_syn().no_sackok());
	Pkt a = EXPECT_TX(seg().flags(F_SYN | F_ACK));
	EXPECT_FALSE(a.sackok);
	inject(peer_syn(40001));
	Pkt b = EXPECT_TX(seg().flags(F_SYN | F_ACK).dport(40001));
	EXPECT_TRUE(b.sackok);
}

TEST_F(TcpOptions, ConfDisablesSackAndTimestamps)
{
	conf.no_sack = true;
	conf.no_timestamps = true;
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	EXPECT_FALSE(info(f->c()).sack_ok);
	EXPECT_FALSE(info(f->c()).ts_ok);
	ASSERT_EQ(send(f->u, "abc"), 0);
	EXPECT_TX(f->out().data("abc").no_ts());
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN).no_ts());
	EXPECT_FALSE(syn.sackok);
}

TEST_F(TcpOptions, SackBlocksDescribeOutOfOrderData)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	uint32_t a = f->iss + 1;
	auto piece = [&](uint32_t k) {
		return f->seg().seq(1001 + k * 100).ack(a).data(pattern(100, k * 100));
	};
	inject(piece(1)); // [1101,1201), hole at [1001,1101)
	EXPECT_TX(f->out().flags(F_ACK).ack(1001).sack({ { 1101, 1201 } }));
	inject(piece(3)); // most recent block first (RFC 2018 section 4)
	EXPECT_TX(f->out().flags(F_ACK).ack(1001).sack({ { 1301, 1401 }, { 1101, 1201 } }));
	inject(piece(2)); // joins both
	EXPECT_TX(f->out().flags(F_ACK).ack(1001).sack({ { 1101, 1401 } }));
	inject(piece(5));
	EXPECT_TX(f->out().flags(F_ACK).ack(1001).sack({ { 1501, 1601 }, { 1101, 1401 } }));
	inject(piece(0)); // fills the first hole
	EXPECT_TX(f->out().flags(F_ACK).ack(1401).sack({ { 1501, 1601 } }));
	inject(piece(4));
	EXPECT_TX(f->out().flags(F_ACK).ack(1601).no_sack());
	EXPECT_TRUE(bytes_eq(f->u->rx, pattern(600)));
}

TEST_F(TcpOptions, NoSackBlocksWithoutSackPermitted)
{
	Flow *f = accept_conn(peer_syn().no_sackok());
	ASSERT_TRUE(f);
	inject(f->seg().seq(1101).ack(f->iss + 1).data(pattern(100)));
	EXPECT_TX(f->out().flags(F_ACK).ack(1001).no_sack());
}

TEST_F(TcpOptions, TimestampEchoFollowsLastAckSent)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	// RFC 7323 4.3: TS.Recent is taken from the segment holding Last.ACK.sent, so a
	// delayed ACK covering two segments echoes the first one's TSval
	inject(f->seg().seq(1001).ack(f->iss + 1).data(pattern(1448)).tsval(5000));
	inject(f->seg().seq(1001 + 1448).ack(f->iss + 1).data(pattern(1448, 1448)).tsval(5001));
	advance_ms(conf.delayed_ack_ms + 1);
	EXPECT_TX(f->out().flags(F_ACK).ack(1001 + 2 * 1448).tsecr(5000));
	EXPECT_NO_TX();
	// the next in-order segment starts at Last.ACK.sent: its TSval is echoed
	inject(f->seg().seq(1001 + 2 * 1448).ack(f->iss + 1).data("z").tsval(6000));
	advance_ms(conf.delayed_ack_ms + 1);
	EXPECT_TX(f->out().flags(F_ACK).ack(1002 + 2 * 1448).tsecr(6000));
}

TEST_F(TcpOptions, TsvalFollowsTheClock)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ASSERT_EQ(send(f->u, "a"), 0);
	Pkt p1 = EXPECT_TX(f->out().data("a"));
	inject(f->seg().seq(1001).ack(f->iss + 2));
	advance_ms(250);
	ASSERT_EQ(send(f->u, "b"), 0);
	Pkt p2 = EXPECT_TX(f->out().data("b"));
	ASSERT_TRUE(p1.has_ts && p2.has_ts);
	uint32_t d = p2.tsval - p1.tsval;
	EXPECT_GE(d, 1u) << "RFC 7323 5.4: the clock ticks between 1 ms and 1 s";
	EXPECT_LE(d, 250u);
}

struct RttCase {
	bool ts;
	uint32_t rtt_ms;
};

class TcpRtt : public TcpTest, public ::testing::WithParamInterface<RttCase>
{
};

TEST_P(TcpRtt, SampleSetsSrttAndRto)
{
	// RFC 6298 2.2/2.3: SRTT = R, RTTVAR = R/2 (then smoothed), RTO = SRTT + max(G, 4 RTTVAR),
	// at least rto_min. The handshake takes as long as the data's round trip.
	const RttCase &k = GetParam();
	hs_delay_ms = k.rtt_ms;
	Seg syn = peer_syn();
	if (!k.ts)
		syn.no_ts();
	Flow *f = accept_conn(syn);
	ASSERT_TRUE(f);
	Rfc6298 m = rtt_after_handshake(f->c());
	ASSERT_EQ(send(f->u, "ping"), 0);
	Pkt d = EXPECT_TX(f->out().data("ping"));
	advance_ms(k.rtt_ms);
	Seg ack = f->seg().seq(1001).ack(f->iss + 5);
	if (k.ts)
		ack.tsecr(d.tsval);
	inject(ack);
	m.sample(k.rtt_ms);
	struct tcp_conn_info i = info(f->c());
	EXPECT_NEAR((double)i.srtt_us, m.srtt * 1000.0, 1000.0);
	EXPECT_NEAR((double)i.rto_ms, m.rto(conf.rto_min_ms, conf.rto_max_ms, 1000), 2.0);
}

INSTANTIATE_TEST_SUITE_P(Samples, TcpRtt,
			 ::testing::Values(RttCase{ true, 100 }, RttCase{ false, 100 },
					   RttCase{ true, 5 }, RttCase{ false, 400 },
					   RttCase{ true, 900 }));

TEST_F(TcpOptions, SamplesAreSmoothed)
{
	hs_delay_ms = 100;
	Flow *f = accept_conn(peer_syn().no_ts());
	ASSERT_TRUE(f);
	Rfc6298 m = rtt_after_handshake(f->c());
	const uint32_t rtts[] = { 100, 200, 50, 300 };
	uint32_t n = 0;
	for (uint32_t r : rtts) {
		ASSERT_EQ(send(f->u, "a"), 0);
		EXPECT_TX(f->out().data("a"));
		advance_ms(r);
		inject(f->seg().seq(1001).ack(f->iss + 2 + n++));
		m.sample(r);
		struct tcp_conn_info i = info(f->c());
		EXPECT_NEAR((double)i.srtt_us, m.srtt * 1000.0, 1500.0)
			<< "after a sample of " << r;
		EXPECT_NEAR((double)i.rto_ms, m.rto(conf.rto_min_ms, conf.rto_max_ms, 1000), 3.0);
	}
}

TEST_F(TcpOptions, PawsDropsOldTimestampAndAcks)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(f->seg().seq(1001).ack(f->iss + 1).data("new").tsval(9000));
	advance_ms(conf.delayed_ack_ms + 1);
	EXPECT_TX(f->out().flags(F_ACK).ack(1004).tsecr(9000));
	// a segment whose TSval is older than TS.Recent is an old duplicate (RFC 7323 5.3 R1)
	inject(f->seg().seq(1004).ack(f->iss + 1).data("old").tsval(8000));
	EXPECT_TX(f->out().flags(F_ACK).ack(1004).tsecr(9000));
	EXPECT_EQ(f->u->rx, "new");
	EXPECT_EQ(cnt(TCP_CNT_drop_paws), 1u);
	inject(f->seg().seq(1004).ack(f->iss + 1).data("ok").tsval(9001));
	EXPECT_EQ(f->u->rx, "newok");
}

TEST_F(TcpOptions, PawsDoesNotApplyToRst)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	inject(f->seg().seq(1001).ack(f->iss + 1).data("x").tsval(9000));
	// R1 applies only "if the RST bit is not set"
	inject(f->seg().flags(F_RST).seq(1002).ts(10, 0));
	EXPECT_TRUE(f->u->closed) << "an exact RST with an old TSval still resets";
	EXPECT_EQ(f->u->reason, TCP_CLOSE_RESET);
}

struct BadOpt {
	const char *name;
	std::string bytes;
};

class TcpBadOptions : public TcpTest, public ::testing::WithParamInterface<BadOpt>
{
};

TEST_P(TcpBadOptions, MalformedOptionsDropTheSegment)
{
	Flow *f = accept_conn(peer_syn().no_ts());
	ASSERT_TRUE(f);
	inject(f->seg().seq(1001).ack(f->iss + 1).raw_opts(GetParam().bytes).data("bad"));
	EXPECT_EQ(f->u->rx, "") << GetParam().name;
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_options), 1u);
	inject(f->seg().seq(1001).ack(f->iss + 1).data("good"));
	EXPECT_EQ(f->u->rx, "good");
}

INSTANTIATE_TEST_SUITE_P(
	Options, TcpBadOptions,
	::testing::Values(BadOpt{ "zero length", std::string("\x13\x00\x01\x01", 4) },
			  BadOpt{ "length one", std::string("\x13\x01\x01\x01", 4) },
			  BadOpt{ "past the header", std::string("\x01\x01\x13\x08", 4) }));

TEST_F(TcpOptions, UnknownOptionsAreSkipped)
{
	listen();
	inject(peer_syn().raw_opts(std::string("\x1e\x04\xab\xcd\x01\x00", 6)));
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK).ack(1001).mss(1460).tsecr(100));
	EXPECT_TRUE(sa.sackok);
	EXPECT_EQ(cnt(TCP_CNT_drop_bad_options), 0u);
}

} // namespace
