/* SPDX-License-Identifier: BSD-3-Clause
 * Helpers shared by the HTTP libFuzzer targets (http_req_fuzz.c, http_resp_fuzz.c,
 * http_chunk_fuzz.c): a checking macro that aborts (libFuzzer then saves the input), a small
 * PRNG, and input segmentation into separately allocated exact-size segments, so that ASan
 * reports any read past a segment.
 *
 * Every target's input starts with the same three control bytes:
 *   byte 0: target-specific flags (limits, kind of body, ...)
 *   byte 1: number of segments the rest is cut into, 1 + byte % FZ_MAX_SEGS
 *   byte 2: seed of the cut points (empty segments included)
 * and the rest is the message.
 */
#ifndef SLUICE_FUZZ_UTIL_H
#define SLUICE_FUZZ_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "http_parse.h"

#define FZ_MAX_SEGS 64
#define FZ_PREFIX 3

/* A failed invariant: say which, then abort so that libFuzzer keeps the input. */
#define FZ_CHECK(cond)                                                                       \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

static inline uint32_t fz_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The input split into n exact-size heap segments (empty ones have base NULL). */
struct fz_segs {
	struct http_iov iov[FZ_MAX_SEGS];
	unsigned int n;
};

static inline int fz_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Cut data[0..len) into n segments at pseudo-random points chosen by seed. */
static inline void fz_cut(struct fz_segs *s, const uint8_t *data, size_t len, unsigned int n,
			  uint32_t seed)
{
	uint32_t cuts[FZ_MAX_SEGS + 1];
	unsigned int i;

	if (n == 0 || n > FZ_MAX_SEGS)
		n = 1;
	seed |= 1;
	cuts[0] = 0;
	cuts[n] = (uint32_t)len;
	for (i = 1; i < n; i++)
		cuts[i] = len ? fz_rand(&seed) % (uint32_t)(len + 1) : 0;
	qsort(cuts + 1, n - 1, sizeof(cuts[0]), fz_cmp_u32);
	for (i = 0; i < n; i++) {
		uint32_t k = cuts[i + 1] - cuts[i];
		uint8_t *p = NULL;

		if (k > 0) {
			p = malloc(k);
			FZ_CHECK(p != NULL);
			memcpy(p, data + cuts[i], k);
		}
		s->iov[i].base = p;
		s->iov[i].len = k;
	}
	s->n = n;
}

static inline void fz_release(struct fz_segs *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		free((void *)s->iov[i].base);
	s->n = 0;
}

/* The first segments of s holding exactly len bytes, the last one cut short, into out
 * (pointing into s). Returns how many. */
static inline unsigned int fz_prefix(const struct fz_segs *s, uint32_t len, struct http_iov *out)
{
	unsigned int i, k = 0;

	for (i = 0; i < s->n && len > 0; i++) {
		out[k] = s->iov[i];
		if (out[k].len > len)
			out[k].len = len;
		len -= out[k].len;
		k++;
	}
	return k;
}

/* One exact-size copy of data whose bytes at and after len are poisoned for ASan: a parser
 * given (buf, len) that reads beyond len is reported. fz_grow() unpoisons one more byte. */
struct fz_grow {
	uint8_t *buf;
	size_t size;
	size_t len;
};

static inline void fz_grow_init(struct fz_grow *g, const uint8_t *data, size_t size)
{
	g->buf = malloc(size ? size : 1);
	FZ_CHECK(g->buf != NULL);
	memcpy(g->buf, data, size);
	g->size = size;
	g->len = 0;
	ASAN_POISON_MEMORY_REGION(g->buf, size);
}

static inline void fz_grow_to(struct fz_grow *g, size_t len)
{
	if (len > g->size)
		len = g->size;
	if (len > g->len)
		ASAN_UNPOISON_MEMORY_REGION(g->buf + g->len, len - g->len);
	g->len = len;
}

static inline void fz_grow_free(struct fz_grow *g)
{
	ASAN_UNPOISON_MEMORY_REGION(g->buf, g->size);
	free(g->buf);
}

/* A return value a head parser may give: bytes consumed (within the input), -EAGAIN or
 * one of the errors it documents. */
static inline int fz_valid_rc(int rc, size_t size)
{
	if (rc > 0)
		return (size_t)rc <= size;
	return rc == -EAGAIN || (rc < -HTTP_E_BASE && rc > -HTTP_E_END);
}

#endif /* SLUICE_FUZZ_UTIL_H */
