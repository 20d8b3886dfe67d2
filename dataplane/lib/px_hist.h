/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: log-linear latency histograms (module px_hist_).
 *
 * HdrHistogram's layout with 4 linear sub-buckets per power of two, in microseconds: values
 * 0..8 µs get a bucket each, then every range (2^e, 2^(e+1)] is split into 4 equal buckets,
 * so a bucket's width is at most a quarter of its lower bound (relative error <= 25 %), up
 * to PX_HIST_MAX_US (2^32 µs, about 71 minutes: larger values land in the last bucket).
 * Every power of two is a bucket boundary, so the count of values <= 2^k µs is exact: that
 * is what the Prometheus exposition publishes (le="..." buckets).
 *
 * Upper bounds are inclusive (Prometheus' "le"): bucket b holds the values v with
 * px_hist_upper(b - 1) < v <= px_hist_upper(b).
 *
 * One writer (the worker that owns the histogram) and any number of readers that load each
 * word relaxed (control sums workers' histograms). Plain C, no DPDK: unit-tested alone.
 */
#ifndef SLUICE_PX_HIST_H
#define SLUICE_PX_HIST_H

#include <stdint.h>

#define PX_HIST_SUB_BITS 2
#define PX_HIST_SUB (1u << PX_HIST_SUB_BITS) /* linear sub-buckets per power of two */
#define PX_HIST_MAX_EXP 32		     /* values above 2^32 µs are clamped */
#define PX_HIST_BUCKETS ((PX_HIST_MAX_EXP - PX_HIST_SUB_BITS + 1) * PX_HIST_SUB)
#define PX_HIST_MAX_US (1ull << PX_HIST_MAX_EXP)

struct px_hist {
	uint64_t bucket[PX_HIST_BUCKETS];
	uint64_t count;
	uint64_t sum_us;
	uint64_t max_us;
};

/* The bucket holding v µs (v above PX_HIST_MAX_US: the last bucket). Inline, as px_hist_add:
 * every proxied request records two values. */
static inline unsigned int px_hist_index(uint64_t v)
{
	uint64_t w;
	unsigned int e;

	if (v == 0)
		return 0;
	if (v > PX_HIST_MAX_US)
		return PX_HIST_BUCKETS - 1;
	/* the exclusive bucket of w = v - 1 (w in [0, 2^32)): w < 2 * SUB gets bucket w;
	 * otherwise with e = floor(log2(w)), the range [2^e, 2^(e+1)) is split into SUB buckets
	 * of width 2^(e - SUB_BITS). Shifting by one (v - 1) turns exclusive bounds into
	 * inclusive ones. */
	w = v - 1;
	if (w < 2 * PX_HIST_SUB)
		return (unsigned int)w;
	e = 63u - (unsigned int)__builtin_clzll(w);
	return (e - PX_HIST_SUB_BITS + 1) * PX_HIST_SUB +
	       (unsigned int)((w >> (e - PX_HIST_SUB_BITS)) & (PX_HIST_SUB - 1));
}

/* The inclusive upper bound, in µs, of bucket b (b < PX_HIST_BUCKETS). */
uint64_t px_hist_upper(unsigned int b);

/* Record one value (µs). Owner only. */
static inline void px_hist_add(struct px_hist *h, uint64_t v)
{
	h->bucket[px_hist_index(v)]++;
	h->count++;
	h->sum_us += v;
	if (v > h->max_us)
		h->max_us = v;
}

/* dst += src, reading src relaxed (src may be a live worker's histogram). */
void px_hist_merge(struct px_hist *dst, const struct px_hist *src);

/* Values <= le µs (exact when le is a bucket bound, such as a power of two; otherwise the
 * buckets whose upper bound is <= le). */
uint64_t px_hist_count_le(const struct px_hist *h, uint64_t le);

/* The q-quantile (0 <= q <= 1) as the upper bound of the bucket holding it, in µs: at most
 * 25 % above the true value. 0 when h is empty. */
uint64_t px_hist_quantile(const struct px_hist *h, double q);

/* Mean in µs (sum / count), 0 when empty. */
uint64_t px_hist_mean(const struct px_hist *h);

#endif /* SLUICE_PX_HIST_H */
