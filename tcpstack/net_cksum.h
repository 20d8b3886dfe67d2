/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: the Internet checksum (RFC 1071), in software.
 *
 * Sums are kept unfolded in 64 bits with the end-around carry (a ones'-complement sum modulo
 * 2^64 - 1), which is congruent modulo 2^16 - 1 to the sum of the 16-bit words: the 64-bit
 * loop adds 8 bytes per instruction instead of 2 and folds once at the end. Because 2^16 - 1
 * divides 2^64 - 1, rotating a 64-bit partial sum by 8 bits is the byte swap of its folded
 * value (RFC 1071 byte order independence), which is how a piece starting at an odd offset of
 * the message is added. Values are in memory byte order, like rte_raw_cksum: a received header
 * with a valid checksum folds to 0xffff; a checksum field to fill is ~net_cksum(...).
 *
 * x86-64 (any, baseline ISA) adds 64 bytes per loop with an add-with-carry chain (then 32, 16
 * and 8 bytes of what is left, each a short chain of its own); other
 * architectures, and the tests, use the portable C loop (net_cksum_add_generic), which gives
 * the same folded result. Pure functions: any thread.
 */
#ifndef SLUICE_NET_CKSUM_H
#define SLUICE_NET_CKSUM_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* a + b modulo 2^64 - 1 (end-around carry). */
static inline uint64_t net_cksum_add64(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;

	return s + (s < b);
}

/* Fold a 64-bit partial sum to the 16-bit ones'-complement sum (not inverted). */
static inline uint16_t net_cksum_fold(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/* The last len < 8 bytes at p, as the sum of 16-bit words with an odd last byte padded with
 * zero (in memory order, so the byte is the low half on a little-endian CPU). */
static inline uint64_t net_cksum_tail(const uint8_t *p, uint32_t len)
{
	uint64_t s = 0;
	uint32_t v32;
	uint16_t v16;

	if (len & 4) {
		memcpy(&v32, p, 4);
		s += v32;
		p += 4;
	}
	if (len & 2) {
		memcpy(&v16, p, 2);
		s += v16;
		p += 2;
	}
	if (len & 1) {
		v16 = 0;
		memcpy(&v16, p, 1);
		s += v16;
	}
	return s;
}

/* Portable loop: 8 bytes per step, each split in two 32-bit halves added to a 64-bit
 * accumulator, which cannot overflow below 2^32 steps (a 32 GiB buffer). */
static inline uint64_t net_cksum_add_generic(uint64_t sum, const void *buf, uint32_t len)
{
	const uint8_t *p = (const uint8_t *)buf;
	uint64_t s = 0, v;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&v, p, 8);
		s += (v & 0xffffffffu) + (v >> 32);
	}
	s += net_cksum_tail(p, len);
	return net_cksum_add64(sum, s);
}

#if defined(__x86_64__)
/* 64 bytes per iteration: eight add-with-carry of memory operands; lea and dec leave the carry
 * flag alone, so the chain runs across iterations and is closed once. Then 8 bytes a step. */
static inline uint64_t net_cksum_add_x86(uint64_t sum, const void *buf, uint32_t len)
{
	const uint8_t *p = (const uint8_t *)buf;
	uint64_t n = len / 64, v;

	if (n != 0) {
		__asm__("clc\n\t"
			"1:\n\t"
			"adcq 0(%[p]), %[s]\n\t"
			"adcq 8(%[p]), %[s]\n\t"
			"adcq 16(%[p]), %[s]\n\t"
			"adcq 24(%[p]), %[s]\n\t"
			"adcq 32(%[p]), %[s]\n\t"
			"adcq 40(%[p]), %[s]\n\t"
			"adcq 48(%[p]), %[s]\n\t"
			"adcq 56(%[p]), %[s]\n\t"
			"leaq 64(%[p]), %[p]\n\t"
			"decq %[n]\n\t"
			"jnz 1b\n\t"
			"adcq $0, %[s]"
			: [s] "+r"(sum), [p] "+r"(p), [n] "+r"(n)
			:
			: "cc", "memory");
		len &= 63;
	}
	/* the rest, 32, 16 and 8 bytes at a time, each its own short chain */
	if (len & 32) {
		__asm__("addq 0(%[p]), %[s]\n\t"
			"adcq 8(%[p]), %[s]\n\t"
			"adcq 16(%[p]), %[s]\n\t"
			"adcq 24(%[p]), %[s]\n\t"
			"adcq $0, %[s]"
			: [s] "+r"(sum)
			: [p] "r"(p)
			: "cc", "memory");
		p += 32;
	}
	if (len & 16) {
		__asm__("addq 0(%[p]), %[s]\n\t"
			"adcq 8(%[p]), %[s]\n\t"
			"adcq $0, %[s]"
			: [s] "+r"(sum)
			: [p] "r"(p)
			: "cc", "memory");
		p += 16;
	}
	if (len & 8) {
		memcpy(&v, p, 8);
		sum = net_cksum_add64(sum, v);
		p += 8;
	}
	return net_cksum_add64(sum, net_cksum_tail(p, len & 7));
}
#endif

/* sum plus the 16-bit words of len bytes at buf (any alignment), unfolded. */
static inline uint64_t net_cksum_add(uint64_t sum, const void *buf, uint32_t len)
{
#if defined(__x86_64__)
	return net_cksum_add_x86(sum, buf, len);
#else
	return net_cksum_add_generic(sum, buf, len);
#endif
}

/* Folded, not inverted, ones'-complement sum of len bytes at buf. */
static inline uint16_t net_cksum(const void *buf, uint32_t len)
{
	return net_cksum_fold(net_cksum_add(0, buf, len));
}

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_NET_CKSUM_H */
