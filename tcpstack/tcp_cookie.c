/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: SYN cookies (see tcp_cookie.h).
 */
#include <errno.h>

#include "tcp_cookie.h"

#define COOKIE_BITS 24
#define COOKIE_MASK ((UINT32_C(1) << COOKIE_BITS) - 1)
#define COUNT_MASK (UINT32_MAX >> COOKIE_BITS) /* the counter bits the cookie keeps */

#define TS_OPT_BITS 6
#define TS_OPT_MASK ((UINT32_C(1) << TS_OPT_BITS) - 1)
#define TS_OPT_WSCALE_MASK 0xfu /* 15: the SYN had no window scale option */
#define TS_OPT_SACK (1u << 4)

const uint16_t tcp_cookie_mss_table[TCP_COOKIE_MSS_N] = {
	536, 1220, 1300, 1360, 1400, 1440, 1460, 8960,
};

static inline uint64_t cookie_extra(uint32_t count, uint32_t peer_isn)
{
	return (uint64_t)count << 32 | peer_isn;
}

static unsigned mss_index(uint16_t mss)
{
	unsigned i;

	for (i = TCP_COOKIE_MSS_N - 1; i > 0; i--)
		if (mss >= tcp_cookie_mss_table[i])
			break;
	return i;
}

uint16_t tcp_cookie_mss_round(uint16_t mss)
{
	return tcp_cookie_mss_table[mss_index(mss)];
}

uint32_t tcp_cookie_make(const struct tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
			 uint16_t rport, uint32_t peer_isn, uint32_t count, uint16_t mss)
{
	uint32_t h1 =
		(uint32_t)tcp_tuple_hash(s, TCP_HASH_COOKIE_BASE, laddr, lport, raddr, rport, 0);
	uint32_t h2 = (uint32_t)tcp_tuple_hash(s, TCP_HASH_COOKIE_COUNT, laddr, lport, raddr, rport,
					       cookie_extra(count, peer_isn));

	/* Linux's layout; h2 also covers peer_isn (Linux's does not), so an ACK whose seq is off
	 * by a few does not decode to a neighbouring MSS index but fails to authenticate */
	return h1 + peer_isn + (count << COOKIE_BITS) + ((h2 + mss_index(mss)) & COOKIE_MASK);
}

int tcp_cookie_check(const struct tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		     uint16_t rport, uint32_t peer_isn, uint32_t cookie, uint32_t count)
{
	uint32_t h1 =
		(uint32_t)tcp_tuple_hash(s, TCP_HASH_COOKIE_BASE, laddr, lport, raddr, rport, 0);
	uint32_t c, diff, h2, idx;

	/* what is left: (count << 24) + ((h2 + index) & mask), no carry into the top byte */
	c = cookie - h1 - peer_isn;
	diff = (count - (c >> COOKIE_BITS)) & COUNT_MASK;
	if (diff >= TCP_COOKIE_MAX_AGE)
		return -ETIMEDOUT;
	h2 = (uint32_t)tcp_tuple_hash(s, TCP_HASH_COOKIE_COUNT, laddr, lport, raddr, rport,
				      cookie_extra(count - diff, peer_isn));
	idx = (c - h2) & COOKIE_MASK;
	if (idx >= TCP_COOKIE_MSS_N)
		return -EINVAL;
	return tcp_cookie_mss_table[idx];
}

uint32_t tcp_cookie_tsval(uint32_t now_ts, const struct tcp_syn_opts *o)
{
	uint32_t opts, ts;

	if (o->wscale_ok)
		opts = o->wscale < TCP_COOKIE_WSCALE_MAX ? o->wscale : TCP_COOKIE_WSCALE_MAX;
	else
		opts = TS_OPT_WSCALE_MASK;
	if (o->sack_ok)
		opts |= TS_OPT_SACK;
	ts = (now_ts & ~TS_OPT_MASK) | opts;
	/* same high bits as now_ts, so this compares the low 6 bits only */
	if (ts > now_ts)
		ts -= UINT32_C(1) << TS_OPT_BITS;
	return ts;
}

void tcp_cookie_ts_decode(uint32_t tsecr, struct tcp_syn_opts *o)
{
	uint32_t ws = tsecr & TS_OPT_WSCALE_MASK;

	o->ts_ok = true;
	o->sack_ok = (tsecr & TS_OPT_SACK) != 0;
	o->wscale_ok = ws != TS_OPT_WSCALE_MASK;
	/* RFC 7323: a shift above 14 is treated as 14 */
	o->wscale = o->wscale_ok ? (ws < TCP_COOKIE_WSCALE_MAX ? ws : TCP_COOKIE_WSCALE_MAX) : 0;
}
