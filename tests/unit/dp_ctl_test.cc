// SPDX-License-Identifier: BSD-3-Clause
// Control-to-worker requests (dataplane/core/dp_ctl.h) and show conns (control/ctl_conns.c) on a
// dataplane of two workers with real rings (in-process EAL, test_main.cc) and a session pool
// of free slots: what the worker walk costs in loop iterations, that a worker that does not
// answer is reported and never hangs control, and that its late answer is collected.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

extern "C" {
#include "control.h"
#include "dp_worker.h"
size_t px_session_size(void);
}

namespace
{

constexpr uint32_t kSlots = 10000; // 3 slices of PX_CONNS_SLICE

struct Dp {
	std::unique_ptr<dp> d{ new dp() };
	std::unique_ptr<dp_worker> w[2];

	Dp()
	{
		char err[128] = "";

		d->n_workers = 2;
		d->hz = rte_get_tsc_hz();
		for (uint16_t i = 0; i < 2; i++) {
			w[i].reset(new dp_worker());
			w[i]->id = i;
			w[i]->dp = d.get();
			w[i]->px.n_sessions = kSlots;
			w[i]->px.sessions =
				static_cast<px_session *>(calloc(kSlots, px_session_size()));
			d->workers[i] = w[i].get();
		}
		EXPECT_EQ(dp_ctl_init(d.get(), err, sizeof(err)), 0) << err;
	}
	~Dp()
	{
		for (auto &wk : w) {
			dp_ctl_fini(wk.get());
			free(wk->px.sessions);
		}
	}
};

// Polls the given workers' rings, as their loops would, until stopped.
struct Loop {
	std::atomic<bool> stop{ false };
	std::thread t;

	Loop(Dp &dp, bool w0, bool w1)
	    : t([this, &dp, w0, w1] {
		      while (!stop.load()) {
			      if (w0)
				      dp_ctl_poll(dp.w[0].get());
			      if (w1)
				      dp_ctl_poll(dp.w[1].get());
			      std::this_thread::yield();
		      }
	      })
	{
	}
	~Loop()
	{
		stop = true;
		t.join();
	}
};

std::string run(Dp &dp, const std::string &line)
{
	ctl_env env = {};
	ctl_buf out = {};
	bool prompt = false;

	env.dp = dp.d.get();
	ctl_execute_line(&env, line.c_str(), &out, &prompt);
	std::string s(out.data ? out.data : "", out.len);
	ctl_buf_free(&out);
	return s;
}

TEST(DpCtl, WorkerWalksItsPoolInBoundedSlices)
{
	Dp dp;
	dp_ctl_msg *m = static_cast<dp_ctl_msg *>(calloc(1, sizeof(dp_ctl_msg)));

	m->type = DP_CTL_CONNS;
	m->conns.max = 5;
	m->conns.ent = static_cast<dp_conn_info *>(calloc(5, sizeof(dp_conn_info)));
	ASSERT_EQ(dp_ctl_send(dp.w[0].get(), m), 0);
	EXPECT_EQ(dp_ctl_recv(dp.w[0].get()), nullptr);
	// Free slots only: 4096 of them per loop iteration, the answer with the third.
	EXPECT_EQ(dp_ctl_poll(dp.w[0].get()), 1u);
	EXPECT_EQ(dp_ctl_recv(dp.w[0].get()), nullptr);
	EXPECT_EQ(dp_ctl_poll(dp.w[0].get()), 1u);
	EXPECT_EQ(dp_ctl_recv(dp.w[0].get()), nullptr);
	EXPECT_EQ(dp_ctl_poll(dp.w[0].get()), 1u);
	ASSERT_EQ(dp_ctl_recv(dp.w[0].get()), m);
	EXPECT_EQ(m->rc, 0);
	EXPECT_EQ(m->conns.n, 0u);
	EXPECT_EQ(m->conns.slices, 3u);
	EXPECT_EQ(m->conns.cursor, kSlots);
	EXPECT_EQ(dp_ctl_poll(dp.w[0].get()), 0u) << "nothing left to do";
	free(m->conns.ent);
	free(m);
}

TEST(DpCtl, UnknownTypeAndInFlightBound)
{
	Dp dp;
	dp_ctl_msg *msgs[DP_CTL_RING_SIZE + 1];

	for (auto &m : msgs) {
		m = static_cast<dp_ctl_msg *>(calloc(1, sizeof(dp_ctl_msg)));
		m->type = 999;
	}
	for (unsigned i = 0; i < DP_CTL_RING_SIZE; i++)
		ASSERT_EQ(dp_ctl_send(dp.w[1].get(), msgs[i]), 0) << i;
	EXPECT_EQ(dp_ctl_send(dp.w[1].get(), msgs[DP_CTL_RING_SIZE]), -ENOBUFS);
	// one message per loop iteration, each answered, in order
	for (unsigned i = 0; i < DP_CTL_RING_SIZE; i++)
		EXPECT_EQ(dp_ctl_poll(dp.w[1].get()), 1u);
	for (unsigned i = 0; i < DP_CTL_RING_SIZE; i++) {
		dp_ctl_msg *m = dp_ctl_recv(dp.w[1].get());
		ASSERT_EQ(m, msgs[i]);
		EXPECT_EQ(m->rc, -ENOTSUP);
		free(m);
	}
	EXPECT_EQ(dp_ctl_send(dp.w[1].get(), msgs[DP_CTL_RING_SIZE]), 0) << "room again";
	// left in flight: dp_ctl_fini frees it
}

TEST(DpCtl, ShowConnsEveryWorkerAnswers)
{
	Dp dp;
	Loop loop(dp, true, true);
	std::string out = run(dp, "show conns");

	EXPECT_EQ(out, "# conns sessions=0 listed=0 limit=100 answered=2 workers=2\n"
		       "# worker=0 sessions=0 listed=0 upstreams=0 slices=3\n"
		       "# worker=1 sessions=0 listed=0 upstreams=0 slices=3\n\n");
	out = run(dp, "show conns 7 json");
	EXPECT_EQ(out, "{\"sessions\":0,\"listed\":0,\"limit\":7,\"answered\":2,\"workers\":["
		       "{\"id\":0,\"answered\":true,\"sessions\":0,\"listed\":0,\"upstreams\":0,"
		       "\"slices\":3},"
		       "{\"id\":1,\"answered\":true,\"sessions\":0,\"listed\":0,\"upstreams\":0,"
		       "\"slices\":3}],\"conns\":[]}\n\n");
}

TEST(DpCtl, ShowConnsReportsAWorkerThatDoesNotAnswer)
{
	Dp dp;
	std::string out;

	{
		Loop loop(dp, true, false); // worker 1 is stuck
		out = run(dp, "show conns");
		EXPECT_NE(out.find("answered=1 workers=2\n"), std::string::npos) << out;
		EXPECT_NE(out.find("\n# worker=1 error=timeout\n"), std::string::npos) << out;
		EXPECT_NE(out.find("\n# worker=0 sessions=0 "), std::string::npos) << out;
		// still out: not asked again, said so
		out = run(dp, "show conns json");
		EXPECT_NE(out.find("{\"id\":1,\"answered\":false,\"error\":\"busy\"}"),
			  std::string::npos)
			<< out;
		EXPECT_EQ(dp.w[1]->ctl.inflight, 1u);
	}
	// worker 1 runs again and answers the first request late; the next command collects it
	while (rte_ring_count(dp.w[1]->ctl.rep) == 0)
		dp_ctl_poll(dp.w[1].get());
	{
		Loop loop(dp, true, true);
		out = run(dp, "show conns");
		EXPECT_NE(out.find("answered=2 workers=2\n"), std::string::npos) << out;
		EXPECT_EQ(dp.w[1]->ctl.inflight, 0u);
	}
}

TEST(DpCtl, ShowConnsArguments)
{
	Dp dp;
	Loop loop(dp, true, true);

	for (const char *bad :
	     { "show conns x", "show conns -1", "show conns 10001", "show conns 1.5",
	       "show conns 1 2", "show conns json json", "show conns 1 json x" })
		EXPECT_EQ(run(dp, bad).rfind("error: ", 0), 0u) << bad;
	EXPECT_EQ(run(dp, "show conns x"), "error: usage: show conns [N] [json]\n\n");
	EXPECT_EQ(run(dp, "show conns 10001"), "error: N must be a number from 0 to 10000\n\n");
	EXPECT_EQ(run(dp, "show conns 10000").rfind("# conns sessions=0 listed=0 limit=10000 ", 0),
		  0u);
	EXPECT_EQ(
		run(dp, "show conns json 3").rfind("{\"sessions\":0,\"listed\":0,\"limit\":3,", 0),
		0u);

	ctl_env env = {};
	ctl_buf out = {};
	bool prompt = false;
	ctl_execute_line(&env, "show conns", &out, &prompt);
	EXPECT_EQ(std::string(out.data, out.len), "error: dataplane not running\n\n");
	ctl_buf_free(&out);
}

} // namespace
