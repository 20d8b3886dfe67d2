/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: SipHash-2-4 (and 1-3 for hash tables) and RFC 6528 initial sequence
 * numbers (see tcp_isn.h).
 *
 * SipHash rather than MD5 (RFC 6528's example) or a CRC: it is a PRF designed for short inputs
 * under a secret key, costs about as much as a few cache misses for the 24 bytes hashed here,
 * and is what Linux uses for the same job.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <rte_byteorder.h>
#include <rte_random.h>

#include "tcp_isn.h"

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return rte_le_to_cpu_64(v);
}

#define SIPROUND(v0, v1, v2, v3)     \
	do {                         \
		v0 += v1;            \
		v1 = rotl64(v1, 13); \
		v1 ^= v0;            \
		v0 = rotl64(v0, 32); \
		v2 += v3;            \
		v3 = rotl64(v3, 16); \
		v3 ^= v2;            \
		v0 += v3;            \
		v3 = rotl64(v3, 21); \
		v3 ^= v0;            \
		v2 += v1;            \
		v1 = rotl64(v1, 17); \
		v1 ^= v2;            \
		v2 = rotl64(v2, 32); \
	} while (0)

/* SipHash-c-d: c compression rounds per 8-byte block, d finalisation rounds. Inlined into its
 * two users with constant c and d, so the round loops unroll. */
static inline uint64_t siphash_cd(const struct tcp_secret *s, const void *data, size_t len,
				  unsigned int c, unsigned int d)
{
	const uint8_t *p = data;
	const uint8_t *end = p + (len & ~(size_t)7);
	uint64_t v0 = s->k0 ^ UINT64_C(0x736f6d6570736575);
	uint64_t v1 = s->k1 ^ UINT64_C(0x646f72616e646f6d);
	uint64_t v2 = s->k0 ^ UINT64_C(0x6c7967656e657261);
	uint64_t v3 = s->k1 ^ UINT64_C(0x7465646279746573);
	uint64_t m, b = (uint64_t)len << 56;
	unsigned int i;

	for (; p != end; p += 8) {
		m = load_le64(p);
		v3 ^= m;
		for (i = 0; i < c; i++)
			SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* last 0..7 bytes, little-endian, under the length byte */
	for (i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	for (i = 0; i < c; i++)
		SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (i = 0; i < d; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t tcp_siphash(const struct tcp_secret *s, const void *data, size_t len)
{
	return siphash_cd(s, data, len, 2, 4);
}

uint64_t tcp_siphash13(const struct tcp_secret *s, const void *data, size_t len)
{
	return siphash_cd(s, data, len, 1, 3);
}

uint64_t tcp_siphash13_12(const struct tcp_secret *s, const void *data)
{
	return siphash_cd(s, data, 12, 1, 3);
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

uint64_t tcp_tuple_hash(const struct tcp_secret *s, uint32_t tag, uint32_t laddr, uint16_t lport,
			uint32_t raddr, uint16_t rport, uint64_t extra)
{
	uint8_t buf[24];

	put_be32(buf, tag);
	memcpy(buf + 4, &laddr, 4); /* already in wire order */
	memcpy(buf + 8, &raddr, 4);
	put_be32(buf + 12, (uint32_t)lport << 16 | rport);
	put_be32(buf + 16, (uint32_t)(extra >> 32));
	put_be32(buf + 20, (uint32_t)extra);
	return tcp_siphash(s, buf, sizeof(buf));
}

uint32_t tcp_isn(const struct tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport, uint64_t now_us)
{
	/* M wraps every 2^32 * 4 us = 4.77 hours, RFC 793's ISN clock rate; F fixes the offset
	 * of the tuple's sequence space so that an off-path attacker cannot guess it. */
	uint32_t m = (uint32_t)(now_us >> 2);

	return m + (uint32_t)tcp_tuple_hash(s, TCP_HASH_ISN, laddr, lport, raddr, rport, 0);
}

int tcp_secret_init(struct tcp_secret *s)
{
	uint8_t buf[sizeof(*s)];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(buf)) {
		n = getrandom(buf + got, sizeof(buf) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == sizeof(buf)) {
		memcpy(&s->k0, buf, 8);
		memcpy(&s->k1, buf + 8, 8);
	} else {
		/* ENOSYS (old kernel, seccomp): rte_rand is seeded from the TSC and
		 * getentropy/rdseed where available, better than a fixed key. */
		s->k0 = rte_rand();
		s->k1 = rte_rand();
	}
	memset(buf, 0, sizeof(buf));
	return 0;
}
