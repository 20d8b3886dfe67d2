/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: keyed hash (SipHash-2-4) and initial sequence numbers per RFC 6528.
 *
 * One struct tcp_secret is drawn at start by control and then only read, by every worker: it
 * keys both ISNs and SYN cookies (tcp_cookie.h), each hashing its own input format so the two
 * uses never collide.
 */
#ifndef SLUICE_TCP_ISN_H
#define SLUICE_TCP_ISN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tcp_secret {
	uint64_t k0, k1;
};

/* Fill s with random bytes from getrandom(2), falling back to rte_rand() if the kernel will not
 * give any (no EAL needed for the fallback, though it is weaker before rte_srand). Returns 0 or
 * a negative errno. Control only, once at start (getrandom may block early at boot). */
int tcp_secret_init(struct tcp_secret *s);

/* SipHash-2-4 of data[0..len) keyed with (k0, k1); the key bytes are k0 then k1 in little-endian
 * order, as in the reference implementation. Any thread. */
uint64_t tcp_siphash(const struct tcp_secret *s, const void *data, size_t len);
/* SipHash-1-3 (one compression round, three finalisation rounds): for hash tables, where an
 * attacker must not be able to aim many keys at one bucket but the output is never seen, as
 * in Python's and Rust's hash tables. ISNs and SYN cookies keep SipHash-2-4. */
uint64_t tcp_siphash13(const struct tcp_secret *s, const void *data, size_t len);
/* The same for exactly 12 bytes (a struct tcp_tuple, on every segment's lookup): the length a
 * constant, so the last block is one load instead of a byte loop. Same value. Any thread. */
uint64_t tcp_siphash13_12(const struct tcp_secret *s, const void *data);

/* Domain separation for tcp_tuple_hash(): one tag per use of the secret. */
enum tcp_hash_tag {
	TCP_HASH_ISN = 1,
	TCP_HASH_COOKIE_BASE = 2,  /* per-tuple offset of a SYN cookie */
	TCP_HASH_COOKIE_COUNT = 3, /* per-tuple, per-minute MAC of a SYN cookie */
};

/* Keyed hash of a 4-tuple, a tag and a 64-bit word: `tag` separates the uses of one secret
 * (ISN, each SYN cookie hash) and `extra` is use-specific (the cookie's minute counter and the
 * peer's ISN). Hashed in wire byte order, so results do not depend on the host's endianness.
 * Addresses in network order, ports in host order. Any thread. */
uint64_t tcp_tuple_hash(const struct tcp_secret *s, uint32_t tag, uint32_t laddr, uint16_t lport,
			uint32_t raddr, uint16_t rport, uint64_t extra);

/* ISN = M + F(localip, localport, remoteip, remoteport, secret) where M counts 4 microsecond
 * steps of now_us (RFC 6528 section 3) and F is SipHash of the 4-tuple. Addresses in network
 * order, ports in host order. Consecutive connections on one 4-tuple get increasing ISNs (modulo
 * 2^32) while different tuples' sequence spaces are unpredictable. Any thread. */
uint32_t tcp_isn(const struct tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport, uint64_t now_us);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_TCP_ISN_H */
