/* SPDX-License-Identifier: BSD-3-Clause
 * SYN cookies: MSS round trip through the table, rejection of anything not made for this
 * SYN, the 3-count age window across counter wrap, and the options carried in TSval.
 */
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstdint>
#include <random>

#include "tcp_cookie.h"

namespace
{

const struct tcp_secret kKey = { UINT64_C(0x8badf00ddeadbeef), UINT64_C(0x0ddba11cafef00d5) };
const uint32_t kLocal = htonl(0xc6120001);  /* 198.18.0.1 */
const uint32_t kRemote = htonl(0xc6130063); /* 198.19.0.99 */
const uint16_t kLport = 80, kRport = 50123;
const uint32_t kPeerIsn = 0xfffffff0u; /* wraps when the cookie adds to it */
const uint32_t kCount = 1700000000u / TCP_COOKIE_PERIOD_S;

uint32_t Make(uint32_t count, uint16_t mss, uint32_t peer_isn = kPeerIsn)
{
	return tcp_cookie_make(&kKey, kLocal, kLport, kRemote, kRport, peer_isn, count, mss);
}

int Check(uint32_t cookie, uint32_t count, uint32_t peer_isn = kPeerIsn)
{
	return tcp_cookie_check(&kKey, kLocal, kLport, kRemote, kRport, peer_isn, cookie, count);
}

/* Independent statement of the rounding rule: the largest entry <= mss, 536 below all. */
int ExpectedMss(unsigned mss)
{
	static const int table[] = { 536, 1220, 1300, 1360, 1400, 1440, 1460, 8960 };
	int best = 536;
	for (int v : table)
		if ((int)mss >= v)
			best = v;
	return best;
}

TEST(Cookie, TableIsAscendingAndDocumented)
{
	EXPECT_EQ(tcp_cookie_mss_table[0], 536);
	EXPECT_EQ(tcp_cookie_mss_table[6], 1460);
	EXPECT_EQ(tcp_cookie_mss_table[7], 8960);
	for (int i = 1; i < TCP_COOKIE_MSS_N; i++)
		EXPECT_LT(tcp_cookie_mss_table[i - 1], tcp_cookie_mss_table[i]);
}

TEST(Cookie, RoundTripEveryTableEntry)
{
	for (int i = 0; i < TCP_COOKIE_MSS_N; i++) {
		uint16_t mss = tcp_cookie_mss_table[i];
		uint32_t c = Make(kCount, mss);
		EXPECT_EQ(Check(c, kCount), mss);
		EXPECT_EQ(tcp_cookie_mss_round(mss), mss);
	}
}

TEST(Cookie, RoundTripInBetweenValuesRoundsDown)
{
	const unsigned odd[] = { 0,    1,    88,   535,	 537,  1219, 1221, 1299, 1359, 1399,
				 1439, 1452, 1459, 1461, 4000, 8959, 8961, 9000, 65535 };
	for (unsigned mss : odd) {
		EXPECT_EQ(Check(Make(kCount, (uint16_t)mss), kCount), ExpectedMss(mss)) << mss;
		EXPECT_EQ(tcp_cookie_mss_round((uint16_t)mss), ExpectedMss(mss)) << mss;
	}
	for (unsigned mss = 0; mss <= 65535; mss += 37)
		ASSERT_EQ(Check(Make(kCount + mss, (uint16_t)mss, mss * 2654435761u), kCount + mss,
				mss * 2654435761u),
			  ExpectedMss(mss))
			<< mss;
}

TEST(Cookie, WrongTupleOrPeerIsnRejected)
{
	uint32_t c = Make(kCount, 1460);
	ASSERT_EQ(Check(c, kCount), 1460);
	EXPECT_LT(tcp_cookie_check(&kKey, kLocal ^ htonl(1), kLport, kRemote, kRport, kPeerIsn, c,
				   kCount),
		  0);
	EXPECT_LT(tcp_cookie_check(&kKey, kLocal, kLport + 1, kRemote, kRport, kPeerIsn, c, kCount),
		  0);
	EXPECT_LT(tcp_cookie_check(&kKey, kLocal, kLport, kRemote ^ htonl(0x100), kRport, kPeerIsn,
				   c, kCount),
		  0);
	EXPECT_LT(tcp_cookie_check(&kKey, kLocal, kLport, kRemote, kRport + 1, kPeerIsn, c, kCount),
		  0);
	const struct tcp_secret other = { kKey.k0, kKey.k1 ^ 1 };
	EXPECT_LT(tcp_cookie_check(&other, kLocal, kLport, kRemote, kRport, kPeerIsn, c, kCount),
		  0);
	/* a peer ISN off by a little must not decode to a neighbouring MSS */
	for (uint32_t d = 1; d <= 16; d++) {
		EXPECT_LT(Check(c, kCount, kPeerIsn + d), 0) << d;
		EXPECT_LT(Check(c, kCount, kPeerIsn - d), 0) << d;
	}
	EXPECT_EQ(Check(c, kCount, kPeerIsn + (1u << 20)), -EINVAL);
}

TEST(Cookie, ForgedCookiesRejected)
{
	uint32_t c = Make(kCount, 1300);
	/* any bit flip above the MSS index is caught, as too old (count byte) or as not
	 * authentic; a flip in the low 3 bits may land on another valid index, as on Linux,
	 * which only lets a peer choose another MSS for its own connection */
	int einval = 0;
	for (int bit = 3; bit < 32; bit++) {
		int r = Check(c ^ (1u << bit), kCount);
		EXPECT_LT(r, 0) << bit;
		einval += r == -EINVAL;
	}
	EXPECT_GE(einval, 18);

	/* blind guessing: a forgery passes with probability 3 * 8 / 2^24 per try */
	std::mt19937 rng(3);
	int accepted = 0;
	for (int i = 0; i < 200000; i++)
		if (Check((uint32_t)rng(), kCount) > 0)
			accepted++;
	EXPECT_LE(accepted, 3); /* ~0.3 expected; an unchecked cookie would pass always */
}

TEST(Cookie, AgeWindow)
{
	uint32_t c = Make(kCount, 1440);
	EXPECT_EQ(Check(c, kCount), 1440);
	EXPECT_EQ(Check(c, kCount + 1), 1440);
	EXPECT_EQ(Check(c, kCount + 2), 1440);
	EXPECT_EQ(Check(c, kCount + 3), -ETIMEDOUT);
	EXPECT_EQ(Check(c, kCount + 200), -ETIMEDOUT);
	/* 256 minutes later the count byte aliases: the hash of the full counter catches it */
	EXPECT_EQ(Check(c, kCount + 256), -EINVAL);
	EXPECT_EQ(Check(c, kCount - 1), -ETIMEDOUT) << "a cookie from the future";
}

TEST(Cookie, CounterWrap)
{
	/* the cookie keeps 8 bits of the counter: crossing 255 -> 256 */
	uint32_t c = Make(255, 536);
	EXPECT_EQ(Check(c, 256), 536);
	EXPECT_EQ(Check(c, 257), 536);
	EXPECT_EQ(Check(c, 258), -ETIMEDOUT);
	/* and the full 32-bit counter wrapping */
	c = Make(UINT32_MAX, 8960);
	EXPECT_EQ(Check(c, UINT32_MAX), 8960);
	EXPECT_EQ(Check(c, 0), 8960);
	EXPECT_EQ(Check(c, 1), 8960);
	EXPECT_EQ(Check(c, 2), -ETIMEDOUT);
	c = Make(UINT32_MAX - 1, 1400);
	EXPECT_EQ(Check(c, 0), 1400);
	EXPECT_EQ(Check(c, 1), -ETIMEDOUT);
}

TEST(CookieTs, RoundTripOptions)
{
	const uint32_t nows[] = { 0, 5, 63, 64, 1000003, 0x7fffffff, 0xffffffc5u, 0xffffffffu };
	for (uint32_t now : nows) {
		for (int ws = -1; ws <= 16; ws++) {
			for (int sack = 0; sack <= 1; sack++) {
				struct tcp_syn_opts in = {};
				in.mss = 1460;
				in.wscale_ok = ws >= 0;
				in.wscale = (uint8_t)(ws >= 0 ? ws : 0);
				in.sack_ok = sack;
				in.ts_ok = true;
				uint32_t tsval = tcp_cookie_tsval(now, &in);
				SCOPED_TRACE("now " + std::to_string(now) + " ws " +
					     std::to_string(ws) + " sack " + std::to_string(sack));
				/* never ahead of our clock, less than 64 behind it */
				EXPECT_LT(now - tsval, 64u);
				struct tcp_syn_opts out = {};
				out.mss = 1234;
				tcp_cookie_ts_decode(tsval, &out);
				EXPECT_TRUE(out.ts_ok);
				EXPECT_EQ(out.mss, 1234) << "decode must leave mss alone";
				EXPECT_EQ(out.sack_ok, (bool)sack);
				EXPECT_EQ(out.wscale_ok, ws >= 0);
				EXPECT_EQ(out.wscale, ws < 0 ? 0 : ws > 14 ? 14 : ws);
				EXPECT_EQ(tsval & 0x20u, 0u) << "bit 5 stays free";
			}
		}
	}
}

TEST(CookieTs, KeepsHighBitsOfClock)
{
	struct tcp_syn_opts o = {};
	o.wscale_ok = true;
	o.wscale = 7;
	o.sack_ok = true;
	/* low bits 0x17 = wscale 7 | sack; now's low bits 0x3f are above them: same block */
	EXPECT_EQ(tcp_cookie_tsval(0x12345fffu, &o), 0x12345fd7u);
	/* now's low bits below the options: previous 64 block */
	EXPECT_EQ(tcp_cookie_tsval(0x12345fc0u, &o), 0x12345f97u);
}

} // namespace
