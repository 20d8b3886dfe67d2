// SPDX-License-Identifier: BSD-3-Clause
// Balancer tests: the sequences and proportions a user of each algorithm relies on. The lb
// sources are compiled in directly; no EAL.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dp_conf.h"
#include "lb.h"

namespace
{

struct LbDeleter {
	void operator()(lb_state *st) const
	{
		lb_destroy(st);
	}
};
using LbPtr = std::unique_ptr<lb_state, LbDeleter>;

LbPtr make(const char *algo, std::vector<uint32_t> weights)
{
	const lb_ops *ops = lb_find(algo);
	EXPECT_NE(ops, nullptr) << algo;
	if (ops == nullptr)
		return LbPtr();
	return LbPtr(lb_create(ops, (uint32_t)weights.size(), weights.data()));
}

// n picks, each released at once (short requests one after the other).
std::vector<int> picks(lb_state *st, int n)
{
	std::vector<int> out;
	for (int k = 0; k < n; k++) {
		int i = lb_pick(st);
		out.push_back(i);
		lb_release(st, i);
	}
	return out;
}

std::string letters(const std::vector<int> &v)
{
	std::string s;
	for (int i : v)
		s += i < 0 ? '-' : (char)('a' + i);
	return s;
}

std::vector<int> counts(const std::vector<int> &v, size_t n)
{
	std::vector<int> c(n, 0);
	for (int i : v) {
		EXPECT_GE(i, 0);
		EXPECT_LT(i, (int)n);
		if (i >= 0 && i < (int)n)
			c[i]++;
	}
	return c;
}

const char *const all_algos[] = { "round_robin", "weighted_round_robin", "least_connections" };

TEST(LbRegistry, NamesAndBalanceEnumAgree)
{
	EXPECT_EQ(lb_by_balance(DP_BALANCE_ROUND_ROBIN), lb_find("round_robin"));
	EXPECT_EQ(lb_by_balance(DP_BALANCE_WEIGHTED_ROUND_ROBIN), lb_find("weighted_round_robin"));
	EXPECT_EQ(lb_by_balance(DP_BALANCE_LEAST_CONNECTIONS), lb_find("least_connections"));
	for (const char *a : all_algos) {
		ASSERT_NE(lb_find(a), nullptr) << a;
		EXPECT_STREQ(lb_find(a)->name, a);
	}
	EXPECT_EQ(lb_find("roundrobin"), nullptr);
	EXPECT_EQ(lb_find(""), nullptr);
	EXPECT_EQ(lb_find(nullptr), nullptr);
	EXPECT_EQ(lb_by_balance(DP_BALANCE_MAGLEV), nullptr); // planned, not built
	EXPECT_EQ(lb_by_balance(1000), nullptr);
}

TEST(LbRegistry, CreateValidates)
{
	EXPECT_EQ(lb_create(nullptr, 1, nullptr), nullptr);
	EXPECT_EQ(lb_create(lb_find("round_robin"), LB_MAX_ENDPOINTS + 1, nullptr), nullptr);
	LbPtr st(lb_create(lb_find("round_robin"), 3, nullptr));
	ASSERT_TRUE(st);
	for (uint32_t i = 0; i < 3; i++) {
		EXPECT_EQ(st->eps[i].weight, 1u); // NULL weights: all 1
		EXPECT_EQ(st->eps[i].active, 0u);
		EXPECT_TRUE(st->eps[i].usable);
	}
}

TEST(LbAll, NoEndpointsOrNoneUsableGivesMinusOne)
{
	for (const char *a : all_algos) {
		LbPtr empty(lb_create(lb_find(a), 0, nullptr));
		ASSERT_TRUE(empty) << a;
		EXPECT_EQ(lb_pick(empty.get()), -1) << a;

		LbPtr st = make(a, { 1, 2, 3 });
		ASSERT_TRUE(st);
		for (uint32_t i = 0; i < 3; i++)
			st->eps[i].usable = false;
		for (int k = 0; k < 5; k++)
			EXPECT_EQ(lb_pick(st.get()), -1) << a;
		for (uint32_t i = 0; i < 3; i++)
			EXPECT_EQ(st->eps[i].active, 0u) << a << " counted a failed pick";
		lb_release(st.get(), -1); // a failed pick handed back is harmless

		LbPtr zero = make(a, { 0, 0 });
		EXPECT_EQ(lb_pick(zero.get()), -1) << a;
	}
}

TEST(LbAll, WeightZeroNeverPicked)
{
	for (const char *a : all_algos) {
		LbPtr st = make(a, { 1, 0, 2 });
		ASSERT_TRUE(st);
		// Released and held picks alike: least_connections would otherwise eventually
		// prefer the idle weight-0 endpoint.
		for (int i : picks(st.get(), 300))
			EXPECT_NE(i, 1) << a;
		for (int k = 0; k < 300; k++)
			EXPECT_NE(lb_pick(st.get()), 1) << a;
		EXPECT_EQ(st->eps[1].active, 0u);
	}
}

TEST(LbAll, UsableFlagTakesEffectAtOnce)
{
	for (const char *a : all_algos) {
		LbPtr st = make(a, { 1, 1, 1 });
		ASSERT_TRUE(st);
		picks(st.get(), 7); // somewhere mid-rotation
		st->eps[1].usable = false;
		for (int i : picks(st.get(), 30))
			EXPECT_NE(i, 1) << a;
		st->eps[1].usable = true;
		std::vector<int> c = counts(picks(st.get(), 30), 3);
		EXPECT_EQ(c[0], 10) << a;
		EXPECT_EQ(c[1], 10) << a << " back in rotation at once";
		EXPECT_EQ(c[2], 10) << a;
	}
}

TEST(LbAll, PickCountsActiveAndReleaseDecrements)
{
	for (const char *a : all_algos) {
		LbPtr st = make(a, { 1, 1 });
		ASSERT_TRUE(st);
		int i = lb_pick(st.get());
		int j = lb_pick(st.get());
		ASSERT_GE(i, 0);
		ASSERT_GE(j, 0);
		EXPECT_EQ(st->eps[0].active + st->eps[1].active, 2u) << a;
		lb_release(st.get(), i);
		EXPECT_EQ(st->eps[0].active + st->eps[1].active, 1u) << a;
		lb_release(st.get(), j);
		EXPECT_EQ(st->eps[0].active, 0u) << a;
		EXPECT_EQ(st->eps[1].active, 0u) << a;
		// An unmatched release must not wrap the count.
		lb_release(st.get(), 0);
		lb_release(st.get(), 7);
		EXPECT_EQ(st->eps[0].active, 0u) << a;
	}
}

TEST(LbRoundRobin, CyclesInOrderAndEvenly)
{
	LbPtr st = make("round_robin", { 1, 5, 1 }); // weights other than 0 do not matter
	ASSERT_TRUE(st);
	EXPECT_EQ(letters(picks(st.get(), 7)), "abcabca");
	std::vector<int> c = counts(picks(st.get(), 2999), 3);
	// 7 + 2999 = 3006 picks in all: the first seven were a b c a b c a.
	EXPECT_EQ(c[0], 999);
	EXPECT_EQ(c[1], 1000);
	EXPECT_EQ(c[2], 1000);
}

TEST(LbRoundRobin, SkipsUnusable)
{
	LbPtr st = make("round_robin", { 1, 1, 1, 1 });
	ASSERT_TRUE(st);
	st->eps[1].usable = false;
	st->eps[3].usable = false;
	EXPECT_EQ(letters(picks(st.get(), 6)), "acacac");
	// The last usable endpoint wraps to the first.
	st->eps[0].usable = false;
	EXPECT_EQ(letters(picks(st.get(), 3)), "ccc");
}

TEST(LbRoundRobin, IgnoresInFlightCounts)
{
	LbPtr st = make("round_robin", { 1, 1 });
	ASSERT_TRUE(st);
	std::string s;
	for (int k = 0; k < 6; k++)
		s += (char)('a' + lb_pick(st.get())); // held, never released
	EXPECT_EQ(s, "ababab");
	EXPECT_EQ(st->eps[0].active, 3u);
	EXPECT_EQ(st->eps[1].active, 3u);
}

TEST(LbSmoothWrr, NginxDocumentedSequence)
{
	// nginx's ngx_http_upstream_round_robin.c: weights 5 1 1 give a a b a c a a.
	LbPtr st = make("weighted_round_robin", { 5, 1, 1 });
	ASSERT_TRUE(st);
	EXPECT_EQ(letters(picks(st.get(), 7)), "aabacaa");
	EXPECT_EQ(letters(picks(st.get(), 7)), "aabacaa") << "the cycle repeats";
}

TEST(LbSmoothWrr, ExactProportions)
{
	LbPtr st = make("weighted_round_robin", { 3, 1 });
	ASSERT_TRUE(st);
	std::vector<int> v = picks(st.get(), 10000);
	std::vector<int> c = counts(v, 2);
	EXPECT_EQ(c[0], 7500);
	EXPECT_EQ(c[1], 2500);
	// Smooth: every window of 4 consecutive picks holds exactly one b.
	for (size_t k = 0; k + 4 <= v.size(); k++) {
		int b = 0;
		for (size_t j = k; j < k + 4; j++)
			b += v[j] == 1;
		ASSERT_EQ(b, 1) << "at pick " << k;
	}

	LbPtr st3 = make("weighted_round_robin", { 2, 3, 5 });
	ASSERT_TRUE(st3);
	c = counts(picks(st3.get(), 10000), 3);
	EXPECT_EQ(c[0], 2000);
	EXPECT_EQ(c[1], 3000);
	EXPECT_EQ(c[2], 5000);
}

TEST(LbSmoothWrr, UnusableDropsOutAndProportionsHoldAmongTheRest)
{
	LbPtr st = make("weighted_round_robin", { 3, 1, 2 });
	ASSERT_TRUE(st);
	picks(st.get(), 5);
	st->eps[2].usable = false;
	std::vector<int> c = counts(picks(st.get(), 400), 3);
	EXPECT_EQ(c[2], 0);
	// Within one cycle of exact: whatever was banked before the change is bounded.
	EXPECT_NEAR(c[0], 300, 3);
	EXPECT_NEAR(c[1], 100, 3);
	st->eps[2].usable = true;
	c = counts(picks(st.get(), 600), 3);
	EXPECT_NEAR(c[0], 300, 3);
	EXPECT_NEAR(c[1], 100, 3);
	EXPECT_NEAR(c[2], 200, 3);
}

TEST(LbSmoothWrr, WeightChangeTakesEffect)
{
	LbPtr st = make("weighted_round_robin", { 1, 1 });
	ASSERT_TRUE(st);
	picks(st.get(), 3);
	st->eps[0].weight = 4;
	std::vector<int> c = counts(picks(st.get(), 500), 2);
	EXPECT_NEAR(c[0], 400, 2);
	EXPECT_NEAR(c[1], 100, 2);
}

TEST(LbLeastConn, PrefersTheIdleEndpoint)
{
	LbPtr st = make("least_connections", { 1, 1, 1 });
	ASSERT_TRUE(st);
	// Two long requests occupy a and b; every short request then goes to c.
	st->eps[0].active = 4;
	st->eps[1].active = 1;
	for (int i : picks(st.get(), 20))
		EXPECT_EQ(i, 2);
	// With c busy too, the least loaded of the three wins.
	st->eps[2].active = 3;
	EXPECT_EQ(lb_pick(st.get()), 1);
}

TEST(LbLeastConn, SpreadsTiesRoundRobin)
{
	LbPtr st = make("least_connections", { 1, 1, 1 });
	ASSERT_TRUE(st);
	// Sequential short requests: every pick is a three-way tie at zero.
	EXPECT_EQ(letters(picks(st.get(), 6)), "abcabc");
	// Held requests fill all endpoints evenly.
	for (int k = 0; k < 30; k++)
		lb_pick(st.get());
	EXPECT_EQ(st->eps[0].active, 10u);
	EXPECT_EQ(st->eps[1].active, 10u);
	EXPECT_EQ(st->eps[2].active, 10u);
}

TEST(LbLeastConn, ReleaseMakesTheEndpointPreferredAgain)
{
	LbPtr st = make("least_connections", { 1, 1, 1 });
	ASSERT_TRUE(st);
	int held[6];
	for (int &h : held)
		h = lb_pick(st.get()); // 2 in flight on each
	lb_release(st.get(), held[4]); // b finishes one
	EXPECT_EQ(st->eps[held[4]].active, 1u);
	EXPECT_EQ(lb_pick(st.get()), held[4]);
}

TEST(LbLeastConn, InFlightFollowsWeights)
{
	LbPtr st = make("least_connections", { 3, 1 });
	ASSERT_TRUE(st);
	for (int k = 0; k < 400; k++)
		ASSERT_GE(lb_pick(st.get()), 0);
	EXPECT_NEAR((double)st->eps[0].active, 300.0, 2.0);
	EXPECT_NEAR((double)st->eps[1].active, 100.0, 2.0);

	// Steady state: release one request at random-ish places, pick one; the ratio holds.
	for (int k = 0; k < 1000; k++) {
		lb_release(st.get(), k % 4 == 0 ? 1 : 0);
		ASSERT_GE(lb_pick(st.get()), 0);
	}
	EXPECT_NEAR((double)st->eps[0].active, 300.0, 2.0);
	EXPECT_NEAR((double)st->eps[1].active, 100.0, 2.0);
}

} // namespace

// A changed endpoint set (reload, add/del server): in-flight counts and the rotation follow
// their endpoints, a new endpoint starts fresh, a removed one is forgotten.
namespace
{

TEST(LbCarry, LeastConnectionsKeepsInFlightCountsByEndpoint)
{
	LbPtr from = make("least_connections", { 1, 1 });
	ASSERT_TRUE(from);
	// a busy with 2 requests, b with 1
	from->eps[0].active = 2;
	from->eps[1].active = 1;
	// new set: c (new), b, a
	LbPtr to = make("least_connections", { 1, 1, 1 });
	const int32_t map[] = { -1, 1, 0 };
	lb_carry(to.get(), from.get(), map);
	EXPECT_EQ(to->eps[0].active, 0u);
	EXPECT_EQ(to->eps[1].active, 1u);
	EXPECT_EQ(to->eps[2].active, 2u);
	// the idle newcomer wins, then b (1 + 1 < 2 + 1)
	EXPECT_EQ(lb_pick(to.get()), 0);
	EXPECT_EQ(lb_pick(to.get()), 1);
}

TEST(LbCarry, RoundRobinContinuesAfterTheLastPickWhereverItMoved)
{
	LbPtr from = make("round_robin", { 1, 1, 1 });
	ASSERT_TRUE(from);
	EXPECT_EQ(lb_pick(from.get()), 0);
	EXPECT_EQ(lb_pick(from.get()), 1); // b was last
	// new set: b, c, d (a removed, d new)
	LbPtr to = make("round_robin", { 1, 1, 1 });
	const int32_t map[] = { 1, 2, -1 };
	lb_carry(to.get(), from.get(), map);
	EXPECT_EQ(letters(picks(to.get(), 4)), "bcab"); // c after b, then d, then around
}

TEST(LbCarry, SmoothWeightedKeepsCurrentValuesOfPersistingEndpoints)
{
	LbPtr from = make("weighted_round_robin", { 5, 1, 1 });
	ASSERT_TRUE(from);
	std::string seq = letters(picks(from.get(), 3)); // "aab"... part of a a b a c a a
	// the same set, e.g. after a reload that changed nothing else: the sequence goes on
	// exactly as if nothing happened
	LbPtr same = make("weighted_round_robin", { 5, 1, 1 });
	const int32_t id[] = { 0, 1, 2 };
	lb_carry(same.get(), from.get(), id);
	seq += letters(picks(same.get(), 4));
	EXPECT_EQ(seq, "aabacaa");
}

TEST(LbCarry, DifferentAlgorithmsCarryOnlyInFlightCounts)
{
	LbPtr from = make("weighted_round_robin", { 1, 1 });
	LbPtr to = make("round_robin", { 1, 1 });
	from->eps[1].active = 3;
	const int32_t id[] = { 0, 1 };
	lb_carry(to.get(), from.get(), id);
	EXPECT_EQ(to->eps[1].active, 3u);
	EXPECT_EQ(to->algo[0], 0u);
}

} // namespace
