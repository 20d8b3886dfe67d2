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

/* The bucket holding v µs (v above PX_HIST_MAX_US: the last bucket). */
unsigned int px_hist_index(uint64_t v);

/* The inclusive upper bound, in µs, of bucket b (b < PX_HIST_BUCKETS). */
uint64_t px_hist_upper(unsigned int b);

/* Record one value (µs). Owner only. */
void px_hist_add(struct px_hist *h, uint64_t v);

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
