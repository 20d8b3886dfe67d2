// SPDX-License-Identifier: BSD-3-Clause
// Balancer tests: the sequences and proportions a user of each algorithm relies on. The lb
// sources are compiled in directly; no EAL.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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
// Also the random and hashing ones, for what holds whatever the order of picks.
const char *const every_algo[] = { "round_robin", "weighted_round_robin", "least_connections",
				   "random_two", "maglev" };

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
	EXPECT_EQ(lb_by_balance(DP_BALANCE_RANDOM_TWO), lb_find("random_two"));
	EXPECT_EQ(lb_by_balance(DP_BALANCE_MAGLEV), lb_find("maglev"));
	for (const char *a : every_algo)
		EXPECT_NE(lb_find(a), nullptr) << a;
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
	for (const char *a : every_algo) {
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
	for (const char *a : every_algo) {
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
	for (const char *a : every_algo) {
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

// ---- random_two ----

TEST(LbRandomTwo, IdlePicksFollowTheWeights)
{
	LbPtr st = make("random_two", { 1, 2, 3, 4 });
	ASSERT_TRUE(st);
	const int n = 100000;
	std::vector<int> c = counts(picks(st.get(), n), 4);
	// nothing in flight: the first draw wins every duel, and draws follow the weights
	for (int i = 0; i < 4; i++)
		EXPECT_NEAR(c[i], n * (i + 1) / 10, n / 100) << i; // within 1 % of all picks
}

TEST(LbRandomTwo, TheLessLoadedOfTheTwoWins)
{
	LbPtr two = make("random_two", { 1, 1 });
	ASSERT_TRUE(two);
	two->eps[0].active = 5; // both are always drawn: 1 must win every time
	for (int i : picks(two.get(), 200))
		EXPECT_EQ(i, 1);

	LbPtr three = make("random_two", { 1, 1, 1 });
	ASSERT_TRUE(three);
	three->eps[0].active = 1; // loses every duel it is in, and never duels itself
	std::vector<int> c = counts(picks(three.get(), 3000), 3);
	EXPECT_EQ(c[0], 0);
	EXPECT_NEAR(c[1], 1500, 150);
}

TEST(LbRandomTwo, EqualCountsGoToTheHeavierEndpoint)
{
	LbPtr st = make("random_two", { 1, 4 });
	ASSERT_TRUE(st);
	st->eps[0].active = 2;
	st->eps[1].active = 2; // same count: 1 carries less per unit of weight
	for (int i : picks(st.get(), 100))
		EXPECT_EQ(i, 1);
}

// A slow endpoint (its requests last 20 ticks, the others' 1) keeps requests in flight and
// so loses most of its duels: it gets far less than its third.
TEST(LbRandomTwo, ASlowEndpointGetsLessThanItsShare)
{
	LbPtr st = make("random_two", { 1, 1, 1 });
	ASSERT_TRUE(st);
	std::vector<std::pair<int, int>> inflight; // (endpoint, tick it ends)
	std::vector<int> c(3, 0);
	for (int tick = 0; tick < 30000; tick++) {
		for (size_t k = 0; k < inflight.size();) {
			if (inflight[k].second <= tick) {
				lb_release(st.get(), inflight[k].first);
				inflight[k] = inflight.back();
				inflight.pop_back();
			} else
				k++;
		}
		for (int r = 0; r < 2; r++) { // two new requests a tick
			int i = lb_pick(st.get());
			ASSERT_GE(i, 0);
			c[i]++;
			inflight.push_back({ i, tick + (i == 0 ? 20 : 1) });
		}
	}
	EXPECT_LT(c[0], 60000 / 3 / 2) << c[0] << " " << c[1] << " " << c[2];
	EXPECT_NEAR(c[1], c[2], 60000 / 50);
}

TEST(LbRandomTwo, OneEligibleEndpointAndSeedsPerState)
{
	LbPtr st = make("random_two", { 1, 1, 1 });
	ASSERT_TRUE(st);
	st->eps[0].usable = false;
	st->eps[2].weight = 0;
	for (int i : picks(st.get(), 50))
		EXPECT_EQ(i, 1);

	LbPtr a = make("random_two", { 1, 1, 1, 1 });
	LbPtr b = make("random_two", { 1, 1, 1, 1 });
	EXPECT_NE(a->algo[0], b->algo[0]); // each worker's state draws its own sequence
	EXPECT_NE(letters(picks(a.get(), 32)), letters(picks(b.get(), 32)));
}

// The cumulative weights are the state's own: a change of weights or usable flags reaches
// the picks once the owner says so (lb_touch), as px_apply_services does.
TEST(LbRandomTwo, WeightChangesAfterTouch)
{
	LbPtr st = make("random_two", { 1, 1, 1 });
	ASSERT_TRUE(st);
	const int n = 30000;
	std::vector<int> c = counts(picks(st.get(), n), 3);
	EXPECT_NEAR(c[0], n / 3, n / 100);
	st->eps[0].weight = 4;
	st->eps[2].usable = false;
	lb_touch(st.get());
	c = counts(picks(st.get(), n), 3);
	EXPECT_NEAR(c[0], n * 4 / 5, n / 100);
	EXPECT_EQ(c[2], 0);
	st->eps[2].usable = true;
	st->eps[0].weight = 0;
	lb_touch(st.get());
	c = counts(picks(st.get(), n), 3);
	EXPECT_EQ(c[0], 0);
	EXPECT_NEAR(c[1], n / 2, n / 100);
}

// Many endpoints, uneven weights: the binary search over the cumulative weights draws each
// in proportion to its weight (first endpoint, last, and the heavy one in the middle).
TEST(LbRandomTwo, ManyEndpointsFollowTheWeights)
{
	std::vector<uint32_t> w(100, 1);
	w[50] = 100;
	LbPtr st = make("random_two", w);
	ASSERT_TRUE(st);
	const int n = 200000;
	std::vector<int> c = counts(picks(st.get(), n), 100);
	EXPECT_NEAR(c[50], n * 100 / 199, n / 100);
	EXPECT_NEAR(c[0], n / 199, n / 400);
	EXPECT_NEAR(c[99], n / 199, n / 400);
}

// ---- maglev ----

struct MgDeleter {
	void operator()(lb_maglev *t) const
	{
		free(t);
	}
};
using MgPtr = std::unique_ptr<lb_maglev, MgDeleter>;

MgPtr mg_build(const std::vector<std::string> &names, const std::vector<uint32_t> &weights,
	       uint32_t size = 0)
{
	std::vector<const char *> p;
	for (const std::string &n : names)
		p.push_back(n.c_str());
	return MgPtr(lb_maglev_build((uint32_t)names.size(), p.data(), weights.data(), size));
}

std::vector<std::string> mg_names(int n)
{
	std::vector<std::string> v;
	for (int i = 0; i < n; i++)
		v.push_back("backend-" + std::to_string(i));
	return v;
}

uint64_t key(uint64_t i)
{
	return lb_hash64(&i, sizeof(i), 42);
}

// The endpoint NAME each of nkeys keys maps to (names by index), "" for none.
std::vector<std::string> mg_map(const lb_maglev *t, const std::vector<std::string> &names,
				int nkeys)
{
	std::vector<std::string> out;
	for (int k = 0; k < nkeys; k++) {
		uint16_t e = t->entry[key((uint64_t)k) % t->size];
		out.push_back(e == LB_MAGLEV_NONE ? "" : names[e]);
	}
	return out;
}

TEST(LbMaglev, BuildValidates)
{
	std::vector<uint32_t> w(3, 1);
	EXPECT_FALSE(mg_build(mg_names(3), w, 12)); // not prime
	EXPECT_FALSE(mg_build(mg_names(3), w, 3));  // not above n
	MgPtr t = mg_build(mg_names(3), w);
	ASSERT_TRUE(t);
	EXPECT_EQ(t->size, (uint32_t)LB_MAGLEV_SIZE);
	EXPECT_EQ(t->n_in, 3u);
	MgPtr none = mg_build(mg_names(3), { 0, 0, 0 }, 13);
	ASSERT_TRUE(none);
	EXPECT_EQ(none->n_in, 0u);
	for (uint32_t s = 0; s < 13; s++)
		EXPECT_EQ(none->entry[s], LB_MAGLEV_NONE);
}

TEST(LbMaglev, EqualWeightsShareTheTableEvenly)
{
	for (int n : { 3, 10, 100 }) {
		MgPtr t = mg_build(mg_names(n), std::vector<uint32_t>(n, 1));
		ASSERT_TRUE(t);
		std::vector<int> c(n, 0);
		for (uint32_t s = 0; s < t->size; s++) {
			ASSERT_LT(t->entry[s], n); // full
			c[t->entry[s]]++;
		}
		for (int i = 0; i < n; i++) // one turn each per round: a slot apart at most
			EXPECT_NEAR(c[i], (int)t->size / n, 1) << n << " " << i;
	}
}

TEST(LbMaglev, WeightsShareTheTableInProportion)
{
	MgPtr t = mg_build(mg_names(4), { 1, 2, 3, 0 });
	ASSERT_TRUE(t);
	std::vector<int> c(4, 0);
	for (uint32_t s = 0; s < t->size; s++)
		c[t->entry[s]]++;
	for (int i = 0; i < 3; i++)
		EXPECT_NEAR(c[i], (int)t->size * (i + 1) / 6, (int)t->size / 200) << i;
	EXPECT_EQ(c[3], 0); // weight 0 (control's "not eligible") is out
}

// Two appliances, or one whose file lists the endpoints in another order, map every key the
// same way: only names and weights count.
TEST(LbMaglev, SameNamesInAnyOrderGiveTheSameMapping)
{
	std::vector<std::string> names = mg_names(50);
	std::vector<uint32_t> w;
	for (int i = 0; i < 50; i++)
		w.push_back(1 + i % 3);
	MgPtr t1 = mg_build(names, w);
	std::vector<std::string> rn(names.rbegin(), names.rend());
	std::vector<uint32_t> rw(w.rbegin(), w.rend());
	std::swap(rn[3], rn[17]);
	std::swap(rw[3], rw[17]);
	MgPtr t2 = mg_build(rn, rw);
	ASSERT_TRUE(t1);
	ASSERT_TRUE(t2);
	EXPECT_EQ(mg_map(t1.get(), names, 100000), mg_map(t2.get(), rn, 100000));
}

// The seeds are part of the contract (scale-out across machines and versions relies on
// them): a change of hash or seed shows here.
TEST(LbMaglev, FixedSeedGolden)
{
	MgPtr t = mg_build({ "a1", "a2", "a3" }, { 1, 1, 1 }, 13);
	ASSERT_TRUE(t);
	std::string s;
	for (uint32_t i = 0; i < 13; i++)
		s += (char)('0' + t->entry[i]);
	EXPECT_EQ(s, "2121012100020");
	EXPECT_EQ(lb_hash64("a1", 2, 0), 0x54eafd9b324887beull);
}

// Removing one of N endpoints moves its own keys and at most 1 % of the others.
TEST(LbMaglev, RemovalMovesItsKeysAndAtMostOnePercentOfTheOthers)
{
	const int nkeys = 100000;
	for (int n : { 10, 100 }) {
		std::vector<std::string> names = mg_names(n);
		std::vector<uint32_t> w(n, 1);
		MgPtr before = mg_build(names, w);
		ASSERT_TRUE(before);
		std::vector<std::string> m0 = mg_map(before.get(), names, nkeys);
		for (int gone : { 0, n / 2, n - 1 }) {
			std::vector<uint32_t> w2 = w;
			w2[gone] = 0;
			MgPtr after = mg_build(names, w2);
			ASSERT_TRUE(after);
			std::vector<std::string> m1 = mg_map(after.get(), names, nkeys);
			int others = 0, moved = 0;
			for (int k = 0; k < nkeys; k++) {
				ASSERT_NE(m1[k], names[gone]);
				if (m0[k] == names[gone])
					continue; // its own keys must move, and did
				others++;
				moved += m0[k] != m1[k];
			}
			EXPECT_LE(moved * 100, others) << n << " removed " << gone << ": " << moved
						       << " of " << others << " moved";
			printf("maglev n=%d remove %d: %d of %d other keys moved (%.3f %%)\n", n,
			       gone, moved, others, 100.0 * moved / others);
		}
	}
}

TEST(LbMaglev, PickFollowsTheTableAndFallsBackWhenTheEntryIsNotUsable)
{
	std::vector<std::string> names = mg_names(5);
	MgPtr t = mg_build(names, std::vector<uint32_t>(5, 1));
	LbPtr st = make("maglev", { 1, 1, 1, 1, 1 });
	ASSERT_TRUE(t);
	ASSERT_TRUE(st);
	st->shared = t.get();
	std::vector<int> moved(5, 0);
	for (uint64_t k = 0; k < 20000; k++) {
		uint64_t h = key(k);
		int want = t->entry[h % t->size];
		int i = lb_pick_hash(st.get(), h);
		EXPECT_EQ(i, want);
		lb_release(st.get(), i);
		EXPECT_EQ(lb_pick_hash(st.get(), h), want) << "the same key, the same endpoint";
		lb_release(st.get(), want);
	}
	// the worker learnt 2 is not usable before control rebuilt the table: 2's keys go
	// elsewhere, spread; every other key stays
	st->eps[2].usable = false;
	for (uint64_t k = 0; k < 20000; k++) {
		uint64_t h = key(k);
		int want = t->entry[h % t->size];
		int i = lb_pick_hash(st.get(), h);
		lb_release(st.get(), i);
		ASSERT_GE(i, 0);
		ASSERT_NE(i, 2);
		if (want != 2)
			EXPECT_EQ(i, want);
		else
			moved[i]++;
	}
	for (int i : { 0, 1, 3, 4 })
		EXPECT_GT(moved[i], 400) << i; // about 1000 each
	// no table at all (or an empty one): still an eligible endpoint, the same per key
	st->shared = nullptr;
	int a = lb_pick_hash(st.get(), 12345);
	EXPECT_GE(a, 0);
	EXPECT_NE(a, 2);
	lb_release(st.get(), a);
	EXPECT_EQ(lb_pick_hash(st.get(), 12345), a);
}

TEST(LbMaglev, BuildTimeForAThousandEndpoints)
{
	std::vector<std::string> names = mg_names(1000);
	std::vector<uint32_t> w(1000, 1);
	for (int i = 0; i < 1000; i++)
		w[i] = 1 + (uint32_t)(i % 4);
	auto t0 = std::chrono::steady_clock::now();
	MgPtr t = mg_build(names, w);
	auto t1 = std::chrono::steady_clock::now();
	ASSERT_TRUE(t);
	double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
	printf("maglev build: 1000 endpoints, %u entries: %.2f ms\n", t->size, ms);
	RecordProperty("build_ms_1000", std::to_string(ms));
}

// ---- slow start ----

TEST(LbSlowStart, EffectiveWeightRampsFromATwentiethToFull)
{
	LbPtr st = make("weighted_round_robin", { 10, 1 });
	ASSERT_TRUE(st);
	lb_endpoint *e = &st->eps[0];
	const uint64_t full = 10ull << LB_WEIGHT_SHIFT;
	e->since_ms = 1000;
	st->now_ms = 1000;
	EXPECT_EQ(lb_weight_eff(st.get(), e), full) << "slow start off";
	st->slow_start_ms = 1000;
	EXPECT_EQ(lb_weight_eff(st.get(), e), full / 20);
	st->now_ms = 1025;
	EXPECT_EQ(lb_weight_eff(st.get(), e), full / 20) << "never below a twentieth";
	st->now_ms = 1500;
	EXPECT_EQ(lb_weight_eff(st.get(), e), full / 2);
	st->now_ms = 1900;
	EXPECT_EQ(lb_weight_eff(st.get(), e), full * 9 / 10);
	st->now_ms = 2000;
	EXPECT_EQ(lb_weight_eff(st.get(), e), full);
	st->now_ms = 500; // a clock read before control's stamp: the start of the ramp
	EXPECT_EQ(lb_weight_eff(st.get(), e), full / 20);
	e->since_ms = 0; // eligible from the start: never ramped
	EXPECT_EQ(lb_weight_eff(st.get(), e), full);
	st->eps[1].since_ms = 500; // weight 1 ramps too, in 1/1024ths
	EXPECT_EQ(lb_weight_eff(st.get(), &st->eps[1]), (uint64_t)LB_WEIGHT_ONE / 20);
}

TEST(LbSlowStart, WeightedRoundRobinRamps)
{
	LbPtr st = make("weighted_round_robin", { 1, 1 });
	ASSERT_TRUE(st);
	st->slow_start_ms = 10000;
	st->eps[1].since_ms = 5000; // came back at 5 s
	st->now_ms = 5000;
	// 1024 : 51 (a twentieth): exact for smooth weighted round robin
	std::vector<int> c = counts(picks(st.get(), 1075), 2);
	EXPECT_EQ(c[1], 51);
	st->now_ms = 10000; // half way: 1024 : 512
	c = counts(picks(st.get(), 1536), 2);
	EXPECT_EQ(c[1], 512);
	st->now_ms = 15000; // done: even
	c = counts(picks(st.get(), 1000), 2);
	EXPECT_EQ(c[1], 500);
}

TEST(LbSlowStart, RandomTwoRamps)
{
	LbPtr st = make("random_two", { 1, 1, 1, 1 });
	ASSERT_TRUE(st);
	st->slow_start_ms = 1000;
	st->eps[3].since_ms = 100;
	const int n = 40000;
	st->now_ms = 100;
	std::vector<int> c = counts(picks(st.get(), n), 4);
	EXPECT_NEAR(c[3], n * 0.05 / 3.05, n / 200); // idle: the first draw, by weight
	st->now_ms = 600;
	c = counts(picks(st.get(), n), 4);
	EXPECT_NEAR(c[3], n * 0.5 / 3.5, n / 100);
	st->now_ms = 1100;
	c = counts(picks(st.get(), n), 4);
	EXPECT_NEAR(c[3], n / 4, n / 100);
}

TEST(LbSlowStart, MaglevIgnoresIt)
{
	std::vector<std::string> names = mg_names(3);
	MgPtr t = mg_build(names, { 1, 1, 1 });
	LbPtr st = make("maglev", { 1, 1, 1 });
	ASSERT_TRUE(t);
	st->shared = t.get();
	st->slow_start_ms = 1000;
	st->eps[1].since_ms = 100;
	st->now_ms = 100;
	for (uint64_t k = 0; k < 3000; k++) {
		uint64_t h = key(k);
		int i = lb_pick_hash(st.get(), h);
		EXPECT_EQ(i, t->entry[h % t->size]);
		lb_release(st.get(), i);
	}
}

} // namespace
