// SPDX-License-Identifier: BSD-3-Clause
// Log-linear latency histograms (dataplane/lib/px_hist.c): bucket index and bounds, merge,
// cumulative counts at powers of two, quantiles. Plain C under test, no EAL.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

extern "C" {
#include "px_hist.h"
}

namespace
{

std::unique_ptr<px_hist> empty()
{
	auto h = std::make_unique<px_hist>();
	std::memset(h.get(), 0, sizeof(px_hist));
	return h;
}

TEST(PxHist, UpperBoundsStrictlyIncrease)
{
	for (unsigned int b = 1; b < PX_HIST_BUCKETS; b++)
		EXPECT_LT(px_hist_upper(b - 1), px_hist_upper(b)) << "bucket " << b;
	EXPECT_EQ(px_hist_upper(PX_HIST_BUCKETS - 1), PX_HIST_MAX_US);
}

TEST(PxHist, IndexIsMonotoneAndBoundsHoldTheValue)
{
	std::vector<uint64_t> vs;
	for (uint64_t v = 0; v < 5000; v++)
		vs.push_back(v);
	for (unsigned int k = 3; k < PX_HIST_MAX_EXP; k++)
		for (int64_t d = -1; d <= 1; d++)
			vs.push_back((1ull << k) + d);
	std::sort(vs.begin(), vs.end());
	unsigned int prev = 0;
	for (uint64_t v : vs) {
		unsigned int b = px_hist_index(v);
		ASSERT_LT(b, PX_HIST_BUCKETS);
		EXPECT_LE(v, px_hist_upper(b)) << v;
		if (b > 0) {
			EXPECT_GT(v, px_hist_upper(b - 1)) << v;
		}
		EXPECT_GE(b, prev) << v;
		prev = b;
	}
}

TEST(PxHist, RelativeWidthAtMostAQuarter)
{
	for (unsigned int b = 8; b < PX_HIST_BUCKETS; b++) {
		uint64_t lo = px_hist_upper(b - 1), hi = px_hist_upper(b);
		EXPECT_LE((hi - lo) * 4, lo) << "bucket " << b;
	}
}

TEST(PxHist, PowersOfTwoAreBoundaries)
{
	for (unsigned int k = 0; k <= PX_HIST_MAX_EXP; k++) {
		uint64_t p = 1ull << k;
		EXPECT_EQ(px_hist_upper(px_hist_index(p)), p) << k;
	}
}

TEST(PxHist, HugeValuesClampToTheLastBucket)
{
	EXPECT_EQ(px_hist_index(PX_HIST_MAX_US + 1), PX_HIST_BUCKETS - 1);
	EXPECT_EQ(px_hist_index(UINT64_MAX), PX_HIST_BUCKETS - 1);
}

TEST(PxHist, AddCountsSumMaxAndCumulative)
{
	auto h = empty();
	const uint64_t vals[] = { 0, 1, 5, 16, 17, 100, 1000, 1000000 };
	uint64_t sum = 0;
	for (uint64_t v : vals) {
		px_hist_add(h.get(), v);
		sum += v;
	}
	EXPECT_EQ(h->count, 8u);
	EXPECT_EQ(h->sum_us, sum);
	EXPECT_EQ(h->max_us, 1000000u);
	EXPECT_EQ(px_hist_mean(h.get()), sum / 8);
	EXPECT_EQ(px_hist_count_le(h.get(), 16), 4u);
	EXPECT_EQ(px_hist_count_le(h.get(), 32), 5u);
	EXPECT_EQ(px_hist_count_le(h.get(), 1 << 20), 8u);
	uint64_t prev = 0;
	for (unsigned int k = 0; k <= PX_HIST_MAX_EXP; k++) {
		uint64_t c = px_hist_count_le(h.get(), 1ull << k);
		EXPECT_GE(c, prev);
		prev = c;
	}
	EXPECT_EQ(prev, h->count);
}

TEST(PxHist, MergeAddsBucketsAndKeepsTheMax)
{
	auto a = empty(), b = empty(), m = empty();
	std::mt19937_64 rng(7);
	for (int i = 0; i < 1000; i++) {
		uint64_t v = rng() % 100000;
		px_hist_add(i % 2 ? a.get() : b.get(), v);
	}
	px_hist_merge(m.get(), a.get());
	px_hist_merge(m.get(), b.get());
	EXPECT_EQ(m->count, 1000u);
	EXPECT_EQ(m->sum_us, a->sum_us + b->sum_us);
	EXPECT_EQ(m->max_us, std::max(a->max_us, b->max_us));
	for (unsigned int i = 0; i < PX_HIST_BUCKETS; i++)
		EXPECT_EQ(m->bucket[i], a->bucket[i] + b->bucket[i]);
}

TEST(PxHist, QuantilesWithinABucket)
{
	auto h = empty();
	EXPECT_EQ(px_hist_quantile(h.get(), 0.5), 0u);
	for (uint64_t v = 1; v <= 10000; v++)
		px_hist_add(h.get(), v);
	const double qs[] = { 0.01, 0.5, 0.9, 0.99, 1.0 };
	uint64_t prev = 0;
	for (double q : qs) {
		uint64_t want = (uint64_t)(q * 10000), got = px_hist_quantile(h.get(), q);
		EXPECT_GE(got, want) << q;
		EXPECT_LE(got, want + want / 4 + 1) << q;
		EXPECT_GE(got, prev);
		prev = got;
	}
	EXPECT_EQ(px_hist_quantile(h.get(), 0.0), 1u);
}

} // namespace
