/* SPDX-License-Identifier: BSD-3-Clause
 * Log-linear latency histograms: bucket math, merge, quantiles (px_hist.h).
 */
#include "px_hist.h"

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
