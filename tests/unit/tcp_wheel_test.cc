/* SPDX-License-Identifier: BSD-3-Clause
 * Timer wheel: a timer fires on the first run whose tick has reached its expiry, never before,
 * across every level boundary, under re-arm/cancel from callbacks, budgets and large jumps; and
 * a randomized comparison against a std::multimap reference.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <string>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "tcp_wheel.h"

namespace
{

constexpr uint64_t kTscPerTick = 1000;

struct Timer {
	struct tcp_timer t; /* first: the fire callback casts back */
	int id;
	uint64_t fired_at = 0; /* run tick of the last firing */
	int fired = 0;
};

struct Fired {
	int id;
	uint64_t expire;
	uint64_t now;
};

class Wheel : public ::testing::Test
{
      protected:
	struct tcp_wheel w;
	uint64_t tick = 0; /* tick of the latest run */
	std::vector<Fired> log;
	/* optional per-test hook run from inside fire(), after logging */
	std::function<void(Timer *)> on_fire;

	void Start(uint64_t start_tick)
	{
		tick = start_tick;
		tcp_wheel_init(&w, start_tick * kTscPerTick + kTscPerTick / 2, kTscPerTick);
		log.clear();
	}

	void SetUp() override
	{
		Start(0);
	}

	static void Fire(void *arg, struct tcp_timer *t)
	{
		auto *self = static_cast<Wheel *>(arg);
		auto *tm = reinterpret_cast<Timer *>(t);

		EXPECT_FALSE(tcp_timer_armed(t)) << "fired timer must be disarmed";
		tm->fired++;
		tm->fired_at = tcp_wheel_now(&self->w);
		self->log.push_back({ tm->id, t->expire, tcp_wheel_now(&self->w) });
		if (self->on_fire)
			self->on_fire(tm);
	}

	/* Run at `to` (a tick); the TSC is put mid-tick so rounding cannot hide an off-by-one. */
	unsigned RunTo(uint64_t to, unsigned budget = 0)
	{
		tick = to;
		return tcp_wheel_run(&w, to * kTscPerTick + kTscPerTick / 3, Fire, this, budget);
	}

	void Arm(Timer &tm, uint64_t expire)
	{
		tcp_wheel_arm(&w, &tm.t, expire);
	}
};

TEST_F(Wheel, InitialState)
{
	Start(12345);
	EXPECT_EQ(tcp_wheel_now(&w), 12345u);
	EXPECT_EQ(tcp_wheel_next(&w), UINT64_MAX);
	EXPECT_EQ(tcp_wheel_armed(&w), 0u);
	EXPECT_EQ(RunTo(20000), 0u);
	EXPECT_EQ(tcp_wheel_now(&w), 20000u);

	Timer tm{};
	tcp_timer_init(&tm.t);
	EXPECT_FALSE(tcp_timer_armed(&tm.t));
	tcp_wheel_cancel(&w, &tm.t); /* not armed: no-op */
	EXPECT_EQ(tcp_wheel_armed(&w), 0u);
}

TEST_F(Wheel, MsToTicks)
{
	EXPECT_EQ(tcp_wheel_ms_to_ticks(&w, 0), 0u);
	EXPECT_EQ(tcp_wheel_ms_to_ticks(&w, 1), 1u);
	EXPECT_EQ(tcp_wheel_ms_to_ticks(&w, 200), 200u);

	struct tcp_wheel fine, coarse;
	tcp_wheel_init_tick(&fine, 0, 250, 250);
	EXPECT_EQ(tcp_wheel_ms_to_ticks(&fine, 1), 4u);
	EXPECT_EQ(tcp_wheel_ms_to_ticks(&fine, 3), 12u);
	tcp_wheel_init_tick(&coarse, 0, 1500, 1500);
	EXPECT_EQ(tcp_wheel_ms_to_ticks(&coarse, 1), 1u); /* rounded up, never shorter */
	EXPECT_EQ(tcp_wheel_ms_to_ticks(&coarse, 2), 2u);
	EXPECT_EQ(tcp_wheel_ms_to_ticks(&coarse, 3), 2u);
	/* saturates: now + ticks stays representable */
	uint64_t big = tcp_wheel_ms_to_ticks(&w, UINT64_MAX);
	EXPECT_GT(big, UINT64_C(1) << 40);
	EXPECT_LT(big, UINT64_MAX - (UINT64_C(1) << 62));
}

TEST_F(Wheel, FiresInExpiryOrder)
{
	std::mt19937_64 rng(1);
	std::vector<Timer> tms(2000);
	Start(777);
	for (size_t i = 0; i < tms.size(); i++) {
		tms[i].id = (int)i;
		tcp_timer_init(&tms[i].t);
		Arm(tms[i], 778 + rng() % 300000);
	}
	EXPECT_EQ(tcp_wheel_armed(&w), tms.size());
	uint64_t prev = tick;
	while (tcp_wheel_armed(&w) > 0) {
		uint64_t to = tick + 1 + rng() % 97;
		size_t before = log.size();
		RunTo(to);
		for (size_t k = before; k < log.size(); k++) {
			/* fired on the first run that reached its tick */
			EXPECT_LE(log[k].expire, to);
			EXPECT_GT(log[k].expire, prev);
			if (k > 0) {
				EXPECT_LE(log[k - 1].expire, log[k].expire);
			}
		}
		prev = to;
	}
	EXPECT_EQ(log.size(), tms.size());
	for (auto &tm : tms)
		EXPECT_EQ(tm.fired, 1);
}

/* Delays around every level boundary, from start ticks placed at and around boundaries, run
 * one tick at a time near the expiry after a jump: fires exactly at its tick. */
TEST_F(Wheel, ExactTickAcrossLevelBoundaries)
{
	/* clang-format off */
	const uint64_t starts[] = {
		0, 1, 62, 63, 64, 65, 4095, 4096, 4097 + 64 * 5, (1u << 18) - 1, 1u << 18,
		(UINT64_C(1) << 24) - 2, (UINT64_C(1) << 24) * 3 + 5, (UINT64_C(1) << 40) - 1
	};
	/* clang-format on */
	std::vector<uint64_t> deltas = { 1, 2, 3 };
	for (unsigned l = 1; l <= TCP_WHEEL_LEVELS; l++) {
		uint64_t b = UINT64_C(1) << (TCP_WHEEL_BITS * l);
		for (int64_t d = -2; d <= 2; d++)
			deltas.push_back(b + d);
		deltas.push_back(b * 3 / 2 + 7);
	}
	for (uint64_t start : starts) {
		for (uint64_t delta : deltas) {
			SCOPED_TRACE("start " + std::to_string(start) + " delta " +
				     std::to_string(delta));
			Start(start);
			Timer tm{};
			tcp_timer_init(&tm.t);
			Arm(tm, start + delta);
			uint64_t e = start + delta;
			if (delta > 3) {
				EXPECT_EQ(RunTo(e - 3), 0u);
			}
			for (uint64_t to = tick + 1; to < e; to++)
				EXPECT_EQ(RunTo(to), 0u) << "early at " << to;
			EXPECT_GT(tcp_wheel_next(&w), 0u);
			EXPECT_LE(tcp_wheel_next(&w), e - tick);
			EXPECT_EQ(RunTo(e), 1u);
			EXPECT_EQ(tm.fired_at, e);
			EXPECT_FALSE(tcp_timer_armed(&tm.t));
			EXPECT_EQ(tcp_wheel_armed(&w), 0u);
		}
	}
}

/* Single steps over a full wheel span and a bit: every timer fires on its tick, including
 * ones cascaded from each level and the first one clamped beyond the span. */
TEST_F(Wheel, SingleStepOverWholeSpan)
{
	Start(5);
	std::vector<uint64_t> delays;
	for (unsigned l = 0; l <= TCP_WHEEL_LEVELS; l++) {
		uint64_t b = UINT64_C(1) << (TCP_WHEEL_BITS * l);
		delays.push_back(b);
		delays.push_back(b + 1);
		delays.push_back(b * 2 - 1);
	}
	delays.push_back(TCP_WHEEL_SPAN + (UINT64_C(1) << 19) + 3);
	std::vector<Timer> tms(delays.size());
	for (size_t i = 0; i < tms.size(); i++) {
		tms[i].id = (int)i;
		tcp_timer_init(&tms[i].t);
		Arm(tms[i], 5 + delays[i]);
	}
	uint64_t end = 5 + *std::max_element(delays.begin(), delays.end());
	for (uint64_t to = 6; to <= end; to++)
		RunTo(to);
	ASSERT_EQ(log.size(), tms.size());
	for (auto &f : log)
		EXPECT_EQ(f.now, f.expire) << "timer " << f.id;
}

TEST_F(Wheel, PastAndNowFireOnNextRun)
{
	Start(1000);
	Timer past{}, now{}, next{};
	past.id = 1;
	now.id = 2;
	next.id = 3;
	tcp_timer_init(&past.t);
	tcp_timer_init(&now.t);
	tcp_timer_init(&next.t);
	Arm(past, 10);
	Arm(now, 1000);
	Arm(next, 1001);
	EXPECT_EQ(tcp_wheel_next(&w), 0u);
	EXPECT_EQ(RunTo(1000), 2u); /* same tick: the due ones still fire */
	EXPECT_EQ(past.fired, 1);
	EXPECT_EQ(now.fired, 1);
	EXPECT_EQ(next.fired, 0);
	EXPECT_EQ(tcp_wheel_next(&w), 1u);
	EXPECT_EQ(RunTo(1001), 1u);
	EXPECT_EQ(next.fired, 1);
}

TEST_F(Wheel, RearmMovesTimer)
{
	Timer tm{};
	tcp_timer_init(&tm.t);
	Arm(tm, 100);
	Arm(tm, 50); /* earlier */
	EXPECT_EQ(tcp_wheel_armed(&w), 1u);
	EXPECT_EQ(RunTo(49), 0u);
	EXPECT_EQ(RunTo(50), 1u);
	EXPECT_EQ(RunTo(200), 0u) << "the first arming must be gone";

	Arm(tm, 300);
	Arm(tm, 5000); /* later, other level */
	EXPECT_EQ(RunTo(4999), 0u);
	EXPECT_EQ(RunTo(5000), 1u);
	EXPECT_EQ(tm.fired, 2);
	EXPECT_EQ(tcp_wheel_armed(&w), 0u);
	EXPECT_EQ(tcp_wheel_next(&w), UINT64_MAX);
}

TEST_F(Wheel, CancelAndSlotReuse)
{
	Timer a{}, b{}, c{};
	tcp_timer_init(&a.t);
	tcp_timer_init(&b.t);
	tcp_timer_init(&c.t);
	/* a and b share a slot: cancelling one must keep the other (and the slot's bit) */
	Arm(a, 10);
	Arm(b, 10);
	Arm(c, 70000);
	tcp_wheel_cancel(&w, &a.t);
	EXPECT_FALSE(tcp_timer_armed(&a.t));
	EXPECT_EQ(tcp_wheel_next(&w), 10u);
	tcp_wheel_cancel(&w, &b.t);
	EXPECT_GT(tcp_wheel_next(&w), 10u) << "emptied slot still marked occupied";
	tcp_wheel_cancel(&w, &c.t);
	EXPECT_EQ(tcp_wheel_next(&w), UINT64_MAX);
	EXPECT_EQ(RunTo(100000), 0u);
	EXPECT_EQ(tcp_wheel_armed(&w), 0u);
}

TEST_F(Wheel, CancelFromInsideFire)
{
	Timer a{}, b{}, later{};
	a.id = 1;
	b.id = 2;
	later.id = 3;
	tcp_timer_init(&a.t);
	tcp_timer_init(&b.t);
	tcp_timer_init(&later.t);
	Arm(a, 20);
	Arm(b, 20);	/* same tick: whichever fires first cancels the other */
	Arm(later, 30); /* a later tick reached in the same run */
	on_fire = [&](Timer *tm) {
		tcp_wheel_cancel(&w, &tm->t); /* self, already disarmed: no-op */
		tcp_wheel_cancel(&w, tm == &a ? &b.t : &a.t);
		tcp_wheel_cancel(&w, &later.t);
	};
	EXPECT_EQ(RunTo(1000), 1u);
	EXPECT_EQ(a.fired + b.fired, 1);
	EXPECT_EQ(later.fired, 0);
	EXPECT_EQ(tcp_wheel_armed(&w), 0u);
}

TEST_F(Wheel, ArmFromInsideFire)
{
	Timer periodic{}, other{}, past{};
	periodic.id = 1;
	other.id = 2;
	past.id = 3;
	tcp_timer_init(&periodic.t);
	tcp_timer_init(&other.t);
	tcp_timer_init(&past.t);
	on_fire = [&](Timer *tm) {
		if (tm == &periodic)
			Arm(periodic, tcp_wheel_now(&w) + 10);
	};
	Arm(periodic, 10);
	for (uint64_t to = 1; to <= 1000; to++)
		RunTo(to);
	EXPECT_EQ(periodic.fired, 100);
	EXPECT_TRUE(tcp_timer_armed(&periodic.t));

	/* a jump fires it once and re-arms from the run's now, not from the missed tick */
	EXPECT_EQ(RunTo(5000), 1u);
	EXPECT_EQ(periodic.t.expire, 5010u);

	/* from fire, a timer armed at a tick the run is catching up on (<= now) or in the past
	 * waits for the next run; one armed after now fires when its tick comes */
	Timer ahead{};
	ahead.id = 4;
	tcp_timer_init(&ahead.t);
	tcp_wheel_cancel(&w, &periodic.t);
	on_fire = [&](Timer *tm) {
		if (tm == &periodic) {
			Arm(other, tm->t.expire + 5);
			Arm(past, 1);
			Arm(ahead, tcp_wheel_now(&w) + 5);
		}
	};
	Arm(periodic, 5100);
	log.clear();
	EXPECT_EQ(RunTo(6000), 1u);
	EXPECT_EQ(periodic.fired, 102);
	EXPECT_EQ(other.fired + past.fired + ahead.fired, 0);
	EXPECT_EQ(tcp_wheel_next(&w), 0u);
	EXPECT_EQ(RunTo(6000), 2u);
	EXPECT_EQ(other.fired, 1);
	EXPECT_EQ(past.fired, 1);
	EXPECT_EQ(tcp_wheel_next(&w), 5u);
	EXPECT_EQ(RunTo(6004), 0u);
	EXPECT_EQ(RunTo(6005), 1u);
	EXPECT_EQ(ahead.fired, 1);
}

TEST_F(Wheel, RearmSelfForNowDoesNotLoop)
{
	Timer tm{};
	tcp_timer_init(&tm.t);
	on_fire = [&](Timer *t) { Arm(*t, tcp_wheel_now(&w)); };
	Arm(tm, 5);
	EXPECT_EQ(RunTo(5), 1u);
	EXPECT_EQ(RunTo(5), 1u);
	EXPECT_EQ(RunTo(6), 1u);
	EXPECT_TRUE(tcp_timer_armed(&tm.t));
}

TEST_F(Wheel, LongTimersBeyondTopLevel)
{
	const uint64_t far[] = { TCP_WHEEL_SPAN - 1, TCP_WHEEL_SPAN, TCP_WHEEL_SPAN + 1,
				 TCP_WHEEL_SPAN * 5 + 7, UINT64_C(1) << 33 };
	Start(3);
	std::vector<Timer> tms(std::size(far));
	for (size_t i = 0; i < tms.size(); i++) {
		tms[i].id = (int)i;
		tcp_timer_init(&tms[i].t);
		Arm(tms[i], 3 + far[i]);
	}
	/* big steps, then single ticks right before each expiry */
	for (size_t i = 0; i < tms.size(); i++) {
		uint64_t e = 3 + far[i];
		while (tick + (UINT64_C(1) << 20) < e - 2) {
			RunTo(tick + (UINT64_C(1) << 20));
			ASSERT_EQ(tms[i].fired, 0) << "early at " << tick;
		}
		RunTo(e - 2);
		RunTo(e - 1);
		ASSERT_EQ(tms[i].fired, 0);
		RunTo(e);
		EXPECT_EQ(tms[i].fired, 1);
		EXPECT_EQ(tms[i].fired_at, e);
	}
	EXPECT_EQ(log.size(), tms.size());
}

TEST_F(Wheel, BudgetBoundsEachRun)
{
	std::vector<Timer> tms(100);
	for (size_t i = 0; i < tms.size(); i++) {
		tms[i].id = (int)i;
		tcp_timer_init(&tms[i].t);
		Arm(tms[i], 10 + i / 10); /* 10 ticks, 10 timers each */
	}
	unsigned runs = 0, total = 0;
	for (;;) {
		unsigned n = RunTo(1000, 7);
		EXPECT_LE(n, 7u);
		total += n;
		runs++;
		if (n < 7)
			break;
	}
	EXPECT_EQ(total, 100u);
	EXPECT_EQ(runs, 15u); /* 14 full runs of 7, then 2 */
	for (size_t k = 1; k < log.size(); k++)
		EXPECT_LE(log[k - 1].expire, log[k].expire) << "order lost across budget";
	EXPECT_EQ(tcp_wheel_armed(&w), 0u);

	/* leftovers stay cancellable */
	for (auto &tm : tms)
		Arm(tm, 2000);
	EXPECT_EQ(RunTo(2000, 10), 10u);
	EXPECT_EQ(tcp_wheel_next(&w), 0u);
	for (auto &tm : tms)
		tcp_wheel_cancel(&w, &tm.t);
	EXPECT_EQ(tcp_wheel_armed(&w), 0u);
	EXPECT_EQ(RunTo(2001), 0u);
	EXPECT_EQ(tcp_wheel_next(&w), UINT64_MAX);
}

TEST_F(Wheel, LargeJumps)
{
	/* an empty wheel crosses 2^40 ticks at once (no per-tick loop) */
	EXPECT_EQ(RunTo(UINT64_C(1) << 40), 0u);

	std::mt19937_64 rng(7);
	std::vector<Timer> tms(20000);
	uint64_t base = tick;
	for (size_t i = 0; i < tms.size(); i++) {
		tms[i].id = (int)i;
		tcp_timer_init(&tms[i].t);
		Arm(tms[i], base + 1 + rng() % (UINT64_C(1) << 26));
	}
	uint64_t mid = base + (UINT64_C(1) << 25);
	auto due_mid = (unsigned)std::count_if(tms.begin(), tms.end(),
					       [&](const Timer &tm) { return tm.t.expire <= mid; });
	EXPECT_EQ(RunTo(mid), due_mid);
	EXPECT_EQ(RunTo(base + (UINT64_C(1) << 27)), tms.size() - due_mid);
	EXPECT_EQ(log.size(), tms.size());
	for (size_t k = 1; k < log.size(); k++)
		ASSERT_LE(log[k - 1].expire, log[k].expire);

	/* one timer 2^38 ticks out, reached by one jump: re-cascaded until due */
	Timer far{};
	tcp_timer_init(&far.t);
	Arm(far, tick + (UINT64_C(1) << 38));
	EXPECT_EQ(RunTo(tick + (UINT64_C(1) << 38) - 1), 0u);
	EXPECT_EQ(RunTo(tick + 1), 1u);
}

/* 100k random operations against a std::multimap reference. After every run, exactly the
 * reference timers due by then have fired. */
TEST_F(Wheel, RandomizedAgainstReference)
{
	std::mt19937_64 rng(42);
	const size_t n = 4096;
	std::vector<Timer> tms(n);
	std::multimap<uint64_t, int> ref;
	std::vector<std::multimap<uint64_t, int>::iterator> where(n);
	std::vector<bool> in_ref(n, false);
	Start(1 + rng() % 1000000);

	for (size_t i = 0; i < n; i++) {
		tms[i].id = (int)i;
		tcp_timer_init(&tms[i].t);
	}
	auto random_delay = [&]() -> uint64_t {
		switch (rng() % 8) {
		case 0:
			return 0; /* now */
		case 1:
		case 2:
			return rng() % 64;
		case 3:
		case 4:
			return rng() % 5000;
		case 5:
			return rng() % 300000;
		case 6:
			return rng() % (UINT64_C(1) << 24);
		default:
			return rng() % (UINT64_C(1) << 27);
		}
	};
	auto ref_arm = [&](int id, uint64_t e) {
		if (in_ref[id])
			ref.erase(where[id]);
		where[id] = ref.emplace(e, id);
		in_ref[id] = true;
	};
	std::set<int> fired_now;
	std::map<int, uint64_t> rearmed;
	on_fire = [&](Timer *tm) {
		EXPECT_TRUE(in_ref[tm->id]) << "fired a cancelled timer " << tm->id;
		EXPECT_TRUE(fired_now.insert(tm->id).second) << "fired twice " << tm->id;
		/* sometimes re-arm from the callback, strictly after now: not due in this run */
		if (rng() % 4 == 0) {
			uint64_t e = tcp_wheel_now(&w) + 1 + random_delay();
			Arm(*tm, e);
			rearmed[tm->id] = e;
		}
	};

	for (int op = 0; op < 100000; op++) {
		unsigned r = rng() % 100;
		int id = (int)(rng() % n);
		if (r < 45) {
			uint64_t e = tcp_wheel_now(&w) + random_delay();
			if (rng() % 16 == 0)
				e = tcp_wheel_now(&w) - rng() % 100; /* past */
			Arm(tms[id], e);
			ref_arm(id, e);
		} else if (r < 65) {
			tcp_wheel_cancel(&w, &tms[id].t);
			if (in_ref[id]) {
				ref.erase(where[id]);
				in_ref[id] = false;
			}
		} else {
			uint64_t step;
			switch (rng() % 6) {
			case 0:
				step = 0;
				break;
			case 1:
			case 2:
				step = 1;
				break;
			case 3:
				step = rng() % 100;
				break;
			case 4:
				step = rng() % 10000;
				break;
			default:
				step = rng() % (UINT64_C(1) << 22);
				break;
			}
			fired_now.clear();
			rearmed.clear();
			uint64_t to = tick + step;
			RunTo(to);
			/* expected: exactly the reference timers with expire <= to */
			std::set<int> expect;
			for (auto it = ref.begin(); it != ref.end() && it->first <= to;) {
				expect.insert(it->second);
				in_ref[it->second] = false;
				it = ref.erase(it);
			}
			for (auto &kv : rearmed)
				ref_arm(kv.first, kv.second);
			ASSERT_EQ(fired_now, expect) << "op " << op << " run to " << to;
		}
		ASSERT_EQ(tcp_wheel_armed(&w), ref.size()) << "op " << op;
		if (ref.empty()) {
			ASSERT_EQ(tcp_wheel_next(&w), UINT64_MAX);
		} else {
			uint64_t first = ref.begin()->first;
			uint64_t bound = first > tcp_wheel_now(&w) ? first - tcp_wheel_now(&w) : 0;
			ASSERT_LE(tcp_wheel_next(&w), bound) << "op " << op;
		}
	}
}

} // namespace
