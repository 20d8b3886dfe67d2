// SPDX-License-Identifier: BSD-3-Clause
// Stable identities: snapshots built from two configurations share the objects whose names
// stay, keep live endpoint states when asked, and objects that left are freed only once no
// worker references them. No EAL: a struct dp with two workers and no RCU.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>
#include <unistd.h>

extern "C" {
#include "control.h"
}

namespace
{

struct Conf {
	dp_conf *c = nullptr;
	explicit Conf(const std::string &eps,
		      const std::string &balance = "    balance: least_connections\n")
	{
		char path[] = "/tmp/dp_objs_test_XXXXXX";
		int fd = mkstemp(path);
		std::string text = "dataplane:\n  ports:\n    - { name: lan, device: net_null0, "
				   "address: 198.18.0.10/24 }\n"
				   "listeners:\n  - name: web\n    routes:\n      - service: app\n"
				   "services:\n  app:\n" +
				   balance + "    endpoints:\n" + eps;
		EXPECT_EQ(write(fd, text.data(), text.size()), (ssize_t)text.size());
		close(fd);
		cfg_errors errs = {};
		c = cfg_load(path, &errs);
		EXPECT_NE(c, nullptr) << (errs.n ? errs.lines[0] : "");
		cfg_errors_free(&errs);
		unlink(path);
	}
	~Conf()
	{
		cfg_free(c);
	}
};

const char *A = "      - { name: a, address: 198.18.0.21:80 }\n";
const char *B = "      - { name: b, address: 198.18.0.22:80, weight: 5 }\n";

unsigned count_eps(const dp &d)
{
	unsigned n = 0;
	for (dp_endpoint *e = d.objs.eps; e != nullptr; e = e->next)
		n++;
	return n;
}

struct Fixture : ::testing::Test {
	dp d = {};
	void SetUp() override
	{
		d.n_workers = 2;
	}
	void TearDown() override
	{
		dp_snapshot_free(d.snapshot);
		dp_objs_free(&d);
	}
	// publish s as control does (no workers: nothing to wait for)
	void publish(dp_snapshot *s)
	{
		dp_snapshot_free(d.snapshot);
		d.snapshot = s;
	}
};

TEST_F(Fixture, NamesThatStayKeepTheirObjectsAndCounters)
{
	Conf one(std::string(A) + B), two(std::string(B) + A);
	dp_snapshot *s1 = dp_snapshot_new(&d, one.c, nullptr, 1);
	ASSERT_NE(s1, nullptr);
	publish(s1);
	dp_endpoint *a = s1->svcs[0].eps[0].obj, *b = s1->svcs[0].eps[1].obj;
	dp_service *svc = s1->svcs[0].obj;
	dp_listener *web = s1->lsts[0];
	a->pw[1].cnt[PX_OBJ_requests] = 7;
	svc->pw[0].cnt[PX_OBJ_requests] = 3;

	dp_snapshot *s2 = dp_snapshot_new(&d, two.c, nullptr, 2); // reordered
	ASSERT_NE(s2, nullptr);
	EXPECT_EQ(s2->svcs[0].eps[0].obj, b);
	EXPECT_EQ(s2->svcs[0].eps[1].obj, a);
	EXPECT_EQ(s2->svcs[0].obj, svc);
	EXPECT_EQ(s2->lsts[0], web);
	publish(s2);
	EXPECT_EQ(dp_objs_gc(&d), 0u);
	EXPECT_EQ(count_eps(d), 2u);
	EXPECT_EQ(dp_ep_sum(&d, a, PX_OBJ_requests), 7u);
	EXPECT_EQ(dp_svc_sum(&d, svc, PX_OBJ_requests), 3u);
	// one balancer per worker, weights from the file
	EXPECT_NE(s2->svcs[0].lb[0], s2->svcs[0].lb[1]);
	EXPECT_EQ(s2->svcs[0].lb[1]->eps[0].weight, 5u);
}

TEST_F(Fixture, LiveStatesAreKeptOnlyWhenAsked)
{
	Conf one(std::string(A) + B);
	dp_snapshot *s1 = dp_snapshot_new(&d, one.c, nullptr, 1);
	ASSERT_NE(s1, nullptr);
	s1->svcs[0].eps[1].weight = 9;
	s1->svcs[0].eps[0].admin = DP_EP_MAINT;
	publish(s1);
	dp_snapshot *kept = dp_snapshot_new(&d, one.c, d.snapshot, 2);
	dp_snapshot *file = dp_snapshot_new(&d, one.c, nullptr, 2);
	ASSERT_TRUE(kept && file);
	EXPECT_EQ(kept->svcs[0].eps[1].weight, 9u);
	EXPECT_EQ(kept->svcs[0].eps[0].admin, (uint32_t)DP_EP_MAINT);
	EXPECT_EQ(kept->svcs[0].lb[0]->eps[1].weight, 9u);
	EXPECT_EQ(file->svcs[0].eps[1].weight, 5u);
	EXPECT_EQ(file->svcs[0].eps[0].admin, (uint32_t)DP_EP_READY);
	dp_snapshot_free(kept);
	dp_snapshot_free(file);
}

// What derives from endpoint states, as ctl_snapshot_publish seals a snapshot against the one
// it replaces: slow start's since_ms, and the Maglev table of the eligible endpoints shared by
// every worker's balancer, rebuilt only when the eligible set changes.
TEST_F(Fixture, SealStampsSinceAndBuildsMaglevFromEligibleEndpoints)
{
	Conf one(std::string(A) + B, "    balance: maglev\n    slow_start_ms: 1000\n");
	dp_snapshot *s1 = dp_snapshot_new(&d, one.c, nullptr, 1);
	ASSERT_NE(s1, nullptr);
	lb_maglev *t1 = s1->svcs[0].maglev;
	ASSERT_NE(t1, nullptr);
	EXPECT_EQ(t1->n_in, 2u);
	EXPECT_EQ(s1->svcs[0].lb[0]->shared, t1);
	EXPECT_EQ(s1->svcs[0].lb[1]->shared, t1);
	EXPECT_EQ(s1->svcs[0].lb[1]->slow_start_ms, 1000u);
	EXPECT_EQ(s1->svcs[0].eps[0].since_ms, 0u) << "the first snapshot ramps nothing";
	std::vector<uint16_t> first(t1->entry, t1->entry + t1->size);
	publish(s1);

	// set server app/a state maint: a leaves the table, b takes every entry
	dp_snapshot *s2 = dp_snapshot_new(&d, one.c, d.snapshot, 2);
	ASSERT_NE(s2, nullptr);
	s2->svcs[0].eps[0].admin = DP_EP_MAINT;
	ASSERT_EQ(dp_snapshot_seal(&d, s2, d.snapshot), 0);
	lb_maglev *t2 = s2->svcs[0].maglev;
	EXPECT_EQ(t2->n_in, 1u);
	for (uint32_t i = 0; i < t2->size; i++)
		ASSERT_EQ(t2->entry[i], 1u);
	EXPECT_EQ(s2->svcs[0].lb[0]->shared, t2);
	EXPECT_EQ(s2->svcs[0].eps[0].since_ms, 0u);
	EXPECT_EQ(s2->svcs[0].eps[1].since_ms, 0u) << "b stayed eligible: no ramp";
	publish(s2);

	// ready again: a ramps from now, and the table is the first one again
	dp_snapshot *s3 = dp_snapshot_new(&d, one.c, d.snapshot, 3);
	ASSERT_NE(s3, nullptr);
	s3->svcs[0].eps[0].admin = DP_EP_READY;
	uint64_t before = dp_clock_ms(&d);
	ASSERT_EQ(dp_snapshot_seal(&d, s3, d.snapshot), 0);
	EXPECT_GE(s3->svcs[0].eps[0].since_ms, before);
	EXPECT_EQ(s3->svcs[0].eps[1].since_ms, 0u);
	lb_maglev *t3 = s3->svcs[0].maglev;
	EXPECT_EQ(std::vector<uint16_t>(t3->entry, t3->entry + t3->size), first);
	uint64_t since = s3->svcs[0].eps[0].since_ms;
	ASSERT_EQ(dp_snapshot_seal(&d, s3, d.snapshot), 0); // sealed twice: nothing changes
	EXPECT_EQ(s3->svcs[0].maglev, t3) << "same eligible set: no rebuild";
	EXPECT_EQ(s3->svcs[0].eps[0].since_ms, since);
	publish(s3);

	// health DOWN and ejection leave the table too; what stays eligible keeps its since
	dp_snapshot *s4 = dp_snapshot_new(&d, one.c, d.snapshot, 4);
	ASSERT_NE(s4, nullptr);
	s4->svcs[0].eps[1].health = DP_HEALTH_DOWN;
	ASSERT_EQ(dp_snapshot_seal(&d, s4, d.snapshot), 0);
	EXPECT_EQ(s4->svcs[0].maglev->n_in, 1u);
	EXPECT_EQ(s4->svcs[0].eps[0].since_ms, since);
	s4->svcs[0].eps[1].health = DP_HEALTH_UP;
	s4->svcs[0].eps[0].ejected = true;
	ASSERT_EQ(dp_snapshot_seal(&d, s4, d.snapshot), 0);
	EXPECT_EQ(s4->svcs[0].maglev->n_in, 1u);
	EXPECT_EQ(s4->svcs[0].maglev->entry[0], 1u);
	publish(s4);
}

TEST_F(Fixture, RemovedEndpointIsFreedOnlyOnceNoWorkerReferencesIt)
{
	Conf both(std::string(A) + B), only_a(A);
	dp_snapshot *s1 = dp_snapshot_new(&d, both.c, nullptr, 1);
	ASSERT_NE(s1, nullptr);
	publish(s1);
	dp_endpoint *b = s1->svcs[0].eps[1].obj;
	b->pw[1].conns = 1; // worker 1 still has an upstream connection to b
	publish(dp_snapshot_new(&d, only_a.c, nullptr, 2));
	ASSERT_NE(d.snapshot, nullptr);
	EXPECT_EQ(dp_objs_gc(&d), 1u); // waiting for worker 1
	EXPECT_EQ(count_eps(d), 2u);
	b->pw[1].conns = 0;
	EXPECT_EQ(dp_objs_gc(&d), 0u);
	EXPECT_EQ(count_eps(d), 1u);
	EXPECT_EQ(d.objs.eps, d.snapshot->svcs[0].eps[0].obj);
}

TEST_F(Fixture, AnEndpointThatMovesToAnotherAddressIsANewOne)
{
	Conf one(A), moved("      - { name: a, address: 198.18.0.23:80 }\n");
	dp_snapshot *s1 = dp_snapshot_new(&d, one.c, nullptr, 1);
	ASSERT_NE(s1, nullptr);
	publish(s1);
	dp_endpoint *a = s1->svcs[0].eps[0].obj;
	dp_snapshot *s2 = dp_snapshot_new(&d, moved.c, nullptr, 2);
	ASSERT_NE(s2, nullptr);
	EXPECT_NE(s2->svcs[0].eps[0].obj, a);
	publish(s2);
	EXPECT_EQ(dp_objs_gc(&d), 0u);
	EXPECT_EQ(count_eps(d), 1u);
}

} // namespace
