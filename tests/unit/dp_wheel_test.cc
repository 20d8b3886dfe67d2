/* SPDX-License-Identifier: BSD-3-Clause
 * dp_wheel_quiet() (dataplane/base/dp_wheel.h) holds to tcp_wheel_run(): two wheels get the
 * same arms, cancels and clock, one is always run, the other only when dp_wheel_quiet() says
 * it might fire something; every run must fire the same timers in the same order, and after
 * every step both wheels must be in the same state (now, cur, counts, bitmaps, every slot's
 * list and the due list, timer by timer).
 */
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "dp_wheel.h"

namespace
{

constexpr uint64_t kTscPerTick = 1000;
constexpr int kTimers = 96;

struct Side;

struct Timer {
	struct tcp_timer t; /* first: the fire callback casts back */
	Side *side;
	int id;
};

struct Side {
	struct tcp_wheel wheel;
	Timer timers[kTimers];
	std::vector<std::pair<int, uint64_t>> fired; /* id, now at the firing */
};

/* Fire: log it, and re-arm some timers from inside the callback (for now, the past, or
 * later), the same way on both sides since it depends only on the id and the tick. */
void fire(void *arg, struct tcp_timer *t)
{
	Side *side = static_cast<Side *>(arg);
	Timer *tm = reinterpret_cast<Timer *>(t);
	uint64_t now = tcp_wheel_now(&side->wheel);

	side->fired.emplace_back(tm->id, now);
	switch ((tm->id + now) % 7) {
	case 0:
		tcp_wheel_arm(&side->wheel, &tm->t, now); /* due: next run */
		break;
	case 1:
		tcp_wheel_arm(&side->wheel, &tm->t, now + 1 + (now % 90));
		break;
	case 2:
		tcp_wheel_arm(&side->wheel, &side->timers[(tm->id + 1) % kTimers].t, now + 3);
		break;
	default:
		break;
	}
}

/* The same timers, in the same order, on two lists. */
bool same_list(const struct tcp_timer *a, const struct tcp_timer *b)
{
	for (; a != nullptr && b != nullptr; a = a->next, b = b->next)
		if (reinterpret_cast<const Timer *>(a)->id !=
		    reinterpret_cast<const Timer *>(b)->id)
			return false;
	return a == nullptr && b == nullptr;
}

void expect_same(const Side &a, const Side &b)
{
	ASSERT_EQ(a.wheel.now, b.wheel.now);
	ASSERT_EQ(a.wheel.cur, b.wheel.cur);
	ASSERT_EQ(a.wheel.armed, b.wheel.armed);
	ASSERT_TRUE(same_list(a.wheel.due, b.wheel.due));
	for (unsigned l = 0; l < TCP_WHEEL_LEVELS; l++) {
		ASSERT_EQ(a.wheel.occupied[l], b.wheel.occupied[l]) << "level " << l;
		for (unsigned s = 0; s < TCP_WHEEL_SLOTS; s++)
			ASSERT_TRUE(same_list(a.wheel.slot[l][s], b.wheel.slot[l][s]))
				<< "level " << l << " slot " << s;
	}
	for (int i = 0; i < kTimers; i++) {
		ASSERT_EQ(tcp_timer_armed(&a.timers[i].t), tcp_timer_armed(&b.timers[i].t));
		ASSERT_EQ(a.timers[i].t.expire, b.timers[i].t.expire);
	}
	ASSERT_EQ(a.fired, b.fired);
}

void init(Side &s, uint64_t tsc)
{
	tcp_wheel_init(&s.wheel, tsc, kTscPerTick);
	for (int i = 0; i < kTimers; i++) {
		tcp_timer_init(&s.timers[i].t);
		s.timers[i].side = &s;
		s.timers[i].id = i;
	}
}

/* One random scenario; step_kind picks how the clock moves (small steps within a tick, a tick
 * or two, across 64-tick blocks, long jumps). Returns how often dp_wheel_quiet() was true. */
unsigned run_scenario(uint32_t seed, uint64_t start_tsc, unsigned steps)
{
	std::mt19937_64 rng(seed);
	static Side a, b;
	uint64_t tsc = start_tsc;
	unsigned quiet = 0;

	init(a, tsc);
	init(b, tsc);
	for (unsigned i = 0; i < steps; i++) {
		uint64_t r = rng();
		int id = (int)((r >> 8) % kTimers);
		uint64_t now = tcp_wheel_now(&a.wheel);

		switch (r % 16) {
		case 0:
		case 1:
		case 2: { /* arm near: level 0 or 1 */
			uint64_t e = now + (rng() % 80);
			tcp_wheel_arm(&a.wheel, &a.timers[id].t, e);
			tcp_wheel_arm(&b.wheel, &b.timers[id].t, e);
			break;
		}
		case 3: { /* arm far: upper levels, sometimes beyond the span */
			uint64_t e = now + (rng() % (rng() % 4 == 0 ? TCP_WHEEL_SPAN * 2 : 300000));
			tcp_wheel_arm(&a.wheel, &a.timers[id].t, e);
			tcp_wheel_arm(&b.wheel, &b.timers[id].t, e);
			break;
		}
		case 4: { /* arm in the past */
			uint64_t e = now - (rng() % 3);
			tcp_wheel_arm(&a.wheel, &a.timers[id].t, e);
			tcp_wheel_arm(&b.wheel, &b.timers[id].t, e);
			break;
		}
		case 5:
		case 6:
			tcp_wheel_cancel(&a.wheel, &a.timers[id].t);
			tcp_wheel_cancel(&b.wheel, &b.timers[id].t);
			break;
		default: { /* the loop: move the clock, run (budget sometimes small) */
			uint64_t k = rng() % 100;
			unsigned budget = rng() % 8 == 0 ? 1 + (unsigned)(rng() % 3) : 64;

			if (k < 40)
				tsc += rng() % kTscPerTick; /* often within the tick */
			else if (k < 85)
				tsc += kTscPerTick * (1 + rng() % 3);
			else if (k < 97)
				tsc += kTscPerTick * (rng() % 200);
			else
				tsc += kTscPerTick * (rng() % 100000);
			tcp_wheel_run(&a.wheel, tsc, fire, &a, budget);
			if (dp_wheel_quiet(&b.wheel, tsc))
				quiet++;
			else
				tcp_wheel_run(&b.wheel, tsc, fire, &b, budget);
			break;
		}
		}
		expect_same(a, b);
		a.fired.clear();
		b.fired.clear();
		if (::testing::Test::HasFatalFailure()) {
			ADD_FAILURE() << "seed " << seed << " step " << i;
			return quiet;
		}
	}
	return quiet;
}

TEST(DpWheel, QuietRunLeavesTheWheelAsTheRunWould)
{
	unsigned quiet = 0;

	for (uint32_t seed = 1; seed <= 400; seed++) {
		/* start anywhere in a block, and near a level-1 and a level-2 boundary */
		uint64_t start = (uint64_t)(seed * 7919u % 5000) * kTscPerTick + seed % kTscPerTick;

		quiet += run_scenario(seed, start, 4000);
		if (HasFailure())
			return;
	}
	EXPECT_GT(quiet, 100000u); /* the fast path is what was tested */
}

TEST(DpWheel, QuietOnlyWhenNothingIsDue)
{
	static Side s;

	init(s, 10 * kTscPerTick);				       /* tick 10 */
	EXPECT_TRUE(dp_wheel_quiet(&s.wheel, 10 * kTscPerTick + 999)); /* same tick */
	EXPECT_TRUE(dp_wheel_quiet(&s.wheel, 63 * kTscPerTick));       /* to the block's end */
	EXPECT_EQ(s.wheel.now, 63u);
	EXPECT_EQ(s.wheel.cur, 63u);
	EXPECT_FALSE(dp_wheel_quiet(&s.wheel, 64 * kTscPerTick)); /* next block */
	tcp_wheel_run(&s.wheel, 64 * kTscPerTick, fire, &s, 64);
	tcp_wheel_arm(&s.wheel, &s.timers[5].t, 70);
	EXPECT_TRUE(dp_wheel_quiet(&s.wheel, 69 * kTscPerTick));
	EXPECT_FALSE(dp_wheel_quiet(&s.wheel, 70 * kTscPerTick)); /* its tick */
	EXPECT_EQ(s.wheel.now, 69u);
	tcp_wheel_run(&s.wheel, 70 * kTscPerTick, fire, &s, 64);
	EXPECT_EQ(s.fired.size(), 1u);
	tcp_wheel_arm(&s.wheel, &s.timers[6].t, 60); /* the past: due */
	EXPECT_FALSE(dp_wheel_quiet(&s.wheel, 70 * kTscPerTick));
}

} // namespace
