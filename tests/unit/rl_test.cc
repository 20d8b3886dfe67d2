// The rate-limit table (dataplane/policy/rl_table.c) with a deterministic clock: exact totals,
// refill, Retry-After waits, leases, eviction of full buckets and a flood of distinct keys.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

extern "C" {
#include "rl.h"
}

namespace
{

constexpr uint64_t kSec = RL_UNITS_PER_S;

struct Table {
	rl_table t;
	explicit Table(uint32_t slots = 1024, uint32_t workers = 2)
	{
		EXPECT_EQ(rl_table_init(&t, slots, workers), 0);
	}
	~Table()
	{
		rl_table_fini(&t);
	}
};

// Admitted by one-token takes of key, one request every step units over [start, end).
uint64_t flood(rl_table *t, uint64_t key, const rl_rate &r, uint64_t start, uint64_t end,
	       uint64_t step)
{
	uint64_t ok = 0, wait;
	for (uint64_t now = start; now < end; now += step)
		ok += rl_take(t, key, &r, now, 1, &wait) == 1;
	return ok;
}

TEST(Rl, BurstThenRate)
{
	Table tb;
	rl_rate r = rl_rate_make(100, 20);
	uint64_t wait = 0;

	// a full bucket: burst at once, then nothing until a token refills
	for (int i = 0; i < 20; i++)
		ASSERT_EQ(rl_take(&tb.t, 42, &r, kSec, 1, &wait), 1u) << i;
	EXPECT_EQ(rl_take(&tb.t, 42, &r, kSec, 1, &wait), 0u);
	EXPECT_EQ(wait, kSec / 100); // one token per 10 ms
	EXPECT_EQ(rl_take(&tb.t, 42, &r, kSec + kSec / 100 - 1, 1, &wait), 0u);
	EXPECT_EQ(wait, 1u);
	EXPECT_EQ(rl_take(&tb.t, 42, &r, kSec + kSec / 100, 1, &wait), 1u);
}

TEST(Rl, FloodAdmitsRateTimesSecondsPlusBurst)
{
	Table tb;
	rl_rate r = rl_rate_make(1000, 200);
	// 10 s of 10,000 req/s (both ends included): exactly R*T + burst
	uint64_t ok = flood(&tb.t, 7, r, kSec, 11 * kSec + 1, kSec / 10000);
	EXPECT_EQ(ok, 1000u * 10 + 200);
}

TEST(Rl, BurstZeroStillAdmitsAtRate)
{
	Table tb;
	rl_rate r = rl_rate_make(50, 0);
	uint64_t ok = flood(&tb.t, 7, r, kSec, 3 * kSec, kSec / 1000);
	EXPECT_GE(ok, 100u);
	EXPECT_LE(ok, 101u);
}

TEST(Rl, KeysAreIndependent)
{
	Table tb;
	rl_rate r = rl_rate_make(10, 5);
	uint64_t a = rl_hash(1, "a", 1), b = rl_hash(1, "b", 1), wait;

	EXPECT_EQ(flood(&tb.t, a, r, kSec, kSec + 100, 1), 5u);
	EXPECT_EQ(rl_take(&tb.t, b, &r, kSec + 100, 5, &wait), 5u);
	EXPECT_EQ(rl_take(&tb.t, a, &r, kSec + 100, 1, &wait), 0u);
}

TEST(Rl, TakeSeveralIsBoundedByBucket)
{
	Table tb;
	rl_rate r = rl_rate_make(100, 3);
	uint64_t wait;

	EXPECT_EQ(rl_take(&tb.t, 9, &r, kSec, 8, &wait), 3u);
	EXPECT_EQ(rl_take(&tb.t, 9, &r, kSec, 8, &wait), 0u);
}

TEST(Rl, LeasesKeepTheTotalAndBoundTheShift)
{
	Table tb(1024, 2);
	rl_rate r = rl_rate_make(1000, 100);
	uint64_t ok = 0, wait, step = kSec / 20000;

	// two workers alternate requests for 5 s: the bucket's total holds, leased tokens not
	// yet spent at the end are at most workers x RL_LEASE_MAX
	for (uint64_t now = kSec, i = 0; now < 6 * kSec; now += step, i++)
		ok += rl_lease_take(&tb.t, (uint32_t)(i % 2), 5, &r, now, &wait) == 1;
	EXPECT_LE(ok, 1000u * 5 + 100);
	EXPECT_GE(ok, 1000u * 5 + 100 - 2 * RL_LEASE_MAX);
}

TEST(Rl, FullBucketsAreEvictedAndAFloodOfKeysFailsOpen)
{
	Table tb(RL_WAYS, 1); // one group
	rl_rate r = rl_rate_make(1, 1);
	uint64_t wait;
	std::vector<uint64_t> keys;

	for (uint64_t i = 0; i < RL_WAYS + 1; i++)
		keys.push_back(rl_hash(0, &i, sizeof(i)));
	// each key empties its bucket: every slot refills for 1 s
	for (unsigned i = 0; i < RL_WAYS; i++)
		ASSERT_EQ(rl_take(&tb.t, keys[i], &r, kSec, 1, &wait), 1u);
	EXPECT_EQ(rl_take(&tb.t, keys[RL_WAYS], &r, kSec, 1, &wait), RL_FULL);
	// the old keys are still limited
	EXPECT_EQ(rl_take(&tb.t, keys[0], &r, kSec, 1, &wait), 0u);
	// once full again, a slot is taken by the new key
	EXPECT_EQ(rl_take(&tb.t, keys[RL_WAYS], &r, 2 * kSec, 1, &wait), 1u);
	EXPECT_EQ(rl_take(&tb.t, keys[RL_WAYS], &r, 2 * kSec, 1, &wait), 0u);
}

TEST(Rl, ThreadsTogetherAdmitExactly)
{
	Table tb(1024, 2);
	rl_rate r = rl_rate_make(1000, 500);
	uint64_t got[2] = { 0, 0 };
	// both threads at the same instants: no time passes, so exactly the burst
	auto run = [&](int id) {
		uint64_t wait;
		for (int i = 0; i < 20000; i++)
			got[id] += rl_take(&tb.t, 3, &r, kSec + (uint64_t)i, 1, &wait) == 1;
	};
	std::thread a(run, 0), b(run, 1);
	a.join();
	b.join();
	EXPECT_LE(got[0] + got[1], 500u + 20000u * 1000 / kSec + 1);
	EXPECT_GE(got[0] + got[1], 500u);
}

} // namespace

extern "C" {
#include "rl_conns.h"
}

namespace
{

TEST(RlConns, ExactPerAddressAndReleased)
{
	rl_conns t;
	ASSERT_EQ(rl_conns_init(&t, 16), 0);
	for (int i = 0; i < 3; i++)
		ASSERT_GE(rl_conns_acquire(&t, 0x0a000001, 3), 0) << i;
	EXPECT_EQ(rl_conns_acquire(&t, 0x0a000001, 3), -EBUSY);
	EXPECT_GE(rl_conns_acquire(&t, 0x0a000002, 3), 0); // another address still connects
	EXPECT_EQ(rl_conns_count(&t, 0x0a000001), 3u);
	rl_conns_release(&t, 0x0a000001);
	EXPECT_EQ(rl_conns_count(&t, 0x0a000001), 2u);
	EXPECT_GE(rl_conns_acquire(&t, 0x0a000001, 3), 0);
	EXPECT_EQ(rl_conns_acquire(&t, 0x0a000001, 3), -EBUSY);
	rl_conns_fini(&t);
}

TEST(RlConns, ThreadsNeverPassTheLimit)
{
	rl_conns t;
	ASSERT_EQ(rl_conns_init(&t, 1024), 0);
	std::atomic<int> peak{ 0 };
	// four threads open and close connections of 8 addresses with limit 5: the count of one
	// address never exceeds 5, and all is released at the end
	auto run = [&](int id) {
		std::vector<uint32_t> mine;
		for (int i = 0; i < 20000; i++) {
			uint32_t a = 0x0a000000u + (uint32_t)((i + id) % 8);
			if (rl_conns_acquire(&t, a, 5) >= 0)
				mine.push_back(a);
			if (mine.size() > 3) {
				rl_conns_release(&t, mine.front());
				mine.erase(mine.begin());
			}
			for (uint32_t b = 0; b < 8; b++) {
				int c = (int)rl_conns_count(&t, 0x0a000000u + b);
				int p = peak.load();
				while (c > p && !peak.compare_exchange_weak(p, c)) {
				}
			}
		}
		for (uint32_t a : mine)
			rl_conns_release(&t, a);
	};
	std::vector<std::thread> ts;
	for (int i = 0; i < 4; i++)
		ts.emplace_back(run, i);
	for (auto &th : ts)
		th.join();
	EXPECT_LE(peak.load(), 5);
	for (uint32_t b = 0; b < 8; b++)
		EXPECT_EQ(rl_conns_count(&t, 0x0a000000u + b), 0u);
	rl_conns_fini(&t);
}

} // namespace
