/* SPDX-License-Identifier: BSD-3-Clause
 * Log-linear latency histograms: bucket math, merge, quantiles (px_hist.h).
 */
#include "px_hist.h"

/* Exclusive bucket of w = v - 1 (w in [0, 2^32)): w < 2 * SUB gets bucket w; otherwise with
 * e = floor(log2(w)), the range [2^e, 2^(e+1)) is split into SUB buckets of width
 * 2^(e - SUB_BITS). Shifting by one (v - 1) turns exclusive bounds into inclusive ones. */
static unsigned int hist_index_excl(uint64_t w)
{
	unsigned int e;

	if (w < 2 * PX_HIST_SUB)
		return (unsigned int)w;
	e = 63u - (unsigned int)__builtin_clzll(w);
	return (e - PX_HIST_SUB_BITS + 1) * PX_HIST_SUB +
	       (unsigned int)((w >> (e - PX_HIST_SUB_BITS)) & (PX_HIST_SUB - 1));
}

unsigned int px_hist_index(uint64_t v)
{
	if (v == 0)
		return 0;
	if (v > PX_HIST_MAX_US)
		return PX_HIST_BUCKETS - 1;
	return hist_index_excl(v - 1);
}

uint64_t px_hist_upper(unsigned int b)
{
	unsigned int e, sub;

	if (b < 2 * PX_HIST_SUB)
		return b + 1;
	e = b / PX_HIST_SUB + PX_HIST_SUB_BITS - 1;
	sub = b % PX_HIST_SUB;
	/* exclusive upper bound of w's bucket == inclusive upper bound of v */
	return (uint64_t)(PX_HIST_SUB + sub + 1) << (e - PX_HIST_SUB_BITS);
}

void px_hist_add(struct px_hist *h, uint64_t v)
{
	h->bucket[px_hist_index(v)]++;
	h->count++;
	h->sum_us += v;
	if (v > h->max_us)
		h->max_us = v;
}

static inline uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void px_hist_merge(struct px_hist *dst, const struct px_hist *src)
{
	uint64_t n = 0, m;

	/* count is the sum of the buckets read, so +Inf and _count always agree */
	for (unsigned int b = 0; b < PX_HIST_BUCKETS; b++) {
		uint64_t v = ld(&src->bucket[b]);

		dst->bucket[b] += v;
		n += v;
	}
	dst->count += n;
	dst->sum_us += ld(&src->sum_us);
	m = ld(&src->max_us);
	if (m > dst->max_us)
		dst->max_us = m;
}

uint64_t px_hist_count_le(const struct px_hist *h, uint64_t le)
{
	uint64_t n = 0;

	for (unsigned int b = 0; b < PX_HIST_BUCKETS && px_hist_upper(b) <= le; b++)
		n += h->bucket[b];
	return n;
}

uint64_t px_hist_quantile(const struct px_hist *h, double q)
{
	uint64_t total = 0, rank, n = 0;

	for (unsigned int b = 0; b < PX_HIST_BUCKETS; b++)
		total += h->bucket[b];
	if (total == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)(q * (double)total + 0.999999999);
	if (rank == 0)
		rank = 1;
	for (unsigned int b = 0; b < PX_HIST_BUCKETS; b++) {
		n += h->bucket[b];
		if (n >= rank)
			return px_hist_upper(b);
	}
	return px_hist_upper(PX_HIST_BUCKETS - 1);
}

uint64_t px_hist_mean(const struct px_hist *h)
{
	return h->count == 0 ? 0 : h->sum_us / h->count;
}
