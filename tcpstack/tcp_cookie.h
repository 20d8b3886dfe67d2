/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: SYN cookies (RFC 4987), in the style of Linux.
 *
 * When the SYN backlog or the TCB pool is exhausted, a listener answers a SYN without keeping
 * any state: everything it needs later is folded into the ISN of its SYN-ACK (the cookie) and,
 * when the peer uses timestamps, into the low bits of its TSval. The ACK that completes the
 * handshake returns both (ack_seq - 1 and TSecr), and the TCB is built from them.
 *
 * Cookie layout, all arithmetic modulo 2^32 (hashes are keyed SipHash, tcp_isn.h):
 *   cookie = H1(tuple) + peer_isn + (count << 24)
 *            + ((H2(tuple, count, peer_isn) + mss_index) & 0xffffff)
 * count is a minutes counter (now_s / 64); its low 8 bits in the top byte tell the check which
 * H2 to recompute, and the 24 bits under it authenticate the cookie: a forgery passes with
 * probability 8 / 2^24 per guess, and only within the age window. What is lost with cookies:
 * the MSS is rounded down to a table entry, and without timestamps window scaling and SACK are
 * off for the connection.
 *
 * All functions are pure (no state, any thread); the worker calls them.
 */
#ifndef SLUICE_TCP_COOKIE_H
#define SLUICE_TCP_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_isn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TCP_COOKIE_PERIOD_S 64 /* count = now_s / TCP_COOKIE_PERIOD_S */
#define TCP_COOKIE_MAX_AGE 3   /* counts accepted: count, count - 1, count - 2 */
#define TCP_COOKIE_MSS_N 8     /* 3-bit MSS index */
#define TCP_COOKIE_WSCALE_MAX 14

/* MSS values a cookie can carry, ascending; a peer's MSS is rounded down to one of them:
 *   536  RFC 9293 default, also what a peer below it gets (as on Linux);
 *   1220 IPv6 minimum MTU (1280) less IPv6 + TCP headers, seen behind v6 tunnels;
 *   1300 common clamp on PPPoE / VPN paths;
 *   1360 and 1400 IPsec and GRE/VXLAN overlays;
 *   1440 PPPoE paths (MTU 1492 leaves 1452, rounded down here; also in Linux's table);
 *   1460 Ethernet 1500;
 *   8960 jumbo frames (9000). */
extern const uint16_t tcp_cookie_mss_table[TCP_COOKIE_MSS_N];

/* The options a SYN carried that a connection opened from a cookie must honour. */
struct tcp_syn_opts {
	uint16_t mss;
	uint8_t wscale; /* peer's shift count, valid if wscale_ok */
	bool wscale_ok;
	bool sack_ok;
	bool ts_ok;
};

/* The MSS a cookie made for a SYN advertising `mss` will decode to. */
uint16_t tcp_cookie_mss_round(uint16_t mss);

/* Cookie ISN for a SYN (peer_isn = the SYN's seq). count = minutes counter (now_s / 64). mss is
 * the peer's MSS option (536 if absent), rounded down to tcp_cookie_mss_table. Addresses in
 * network order, ports in host order. */
uint32_t tcp_cookie_make(const struct tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
			 uint16_t rport, uint32_t peer_isn, uint32_t count, uint16_t mss);

/* Check the ACK that completes the handshake: cookie = ack_seq - 1, peer_isn = seq - 1,
 * count = the current minutes counter. Accepts cookies made at count, count - 1 and count - 2
 * (2 to 3 minutes old at most), across counter wrap. Returns the decoded MSS (> 0), -ETIMEDOUT
 * if the cookie is too old (or from the future, or forged in its count byte), -EINVAL if it
 * does not authenticate. */
int tcp_cookie_check(const struct tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		     uint16_t rport, uint32_t peer_isn, uint32_t cookie, uint32_t count);

/* TSval for the SYN-ACK when the SYN carried timestamps: now_ts with its low 6 bits replaced by
 * the peer's window scale (4 bits, 15 = none) and SACK-permitted (bit 4); bit 5 stays 0 (Linux
 * uses it for ECN, which we do not negotiate). Rounded down so it never exceeds now_ts (mod
 * 2^32), keeping our timestamps monotonic. */
uint32_t tcp_cookie_tsval(uint32_t now_ts, const struct tcp_syn_opts *o);

/* Recover wscale/wscale_ok/sack_ok from the TSecr of the handshake-completing ACK, and set
 * ts_ok. Leaves o->mss alone (it comes from tcp_cookie_check()). These bits are not
 * authenticated: a peer can only choose options for a connection it could open anyway. */
void tcp_cookie_ts_decode(uint32_t tsecr, struct tcp_syn_opts *o);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_TCP_COOKIE_H */
