// SPDX-License-Identifier: BSD-3-Clause
// circuit_breaker's limits (px_breaker.c): a request over max_requests waits (PX_QUEUED) and
// gets 503 after queue_timeout_ms; past max_pending it gets 503 at once; a slot freeing
// dequeues the waiters oldest first; slots held on other workers (the shared word) count.
// TearDown checks that every pool is empty again after each case.
#include "px_harness.h"

extern "C" {
#include "hc_ctl.h"
}

namespace pxt
{
namespace
{

const std::string GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string OK2 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

class PxQueue : public PxTest
{
      public:
	void start_cb(const std::string &cb)
	{
		Conf conf;
		conf.breaker = cb;
		start(conf);
	}
	struct dp_svc_shared &sh()
	{
		return dp_snapshot_ep(d.snapshot, 0, 0)->obj->svc->sh;
	}
};

TEST_F(PxQueue, OverMaxRequestsWaitsThen503AfterQueueTimeout)
{
	start_cb("{ max_requests: 1, max_pending: 4, queue_timeout_ms: 200 }");
	Backend *be = backend();
	PeerConn *c1 = client(), *c2 = client();
	c1->send(GET);
	ASSERT_EQ(be->n_conns(), 1u);
	EXPECT_EQ(sh().inflight, 1u);
	c2->send(GET);
	EXPECT_EQ(be->n_conns(), 1u) << "the second waits: no connection for it";
	EXPECT_EQ(sh().pending, 1u);
	EXPECT_EQ(cnt(PX_CNT_queue_waits), 1u);
	advance_ms(150);
	EXPECT_FALSE(c2->response(false).ok) << "still waiting before queue_timeout_ms";
	advance_ms(60);
	Msg r = c2->response();
	EXPECT_EQ(r.status, 503);
	EXPECT_EQ(cnt(PX_CNT_queue_timeouts), 1u);
	EXPECT_EQ(sh().pending, 0u);
	EXPECT_EQ(be->n_conns(), 1u) << "the timed-out request never went upstream";
	// the connection stays usable (a GET has no unread body)
	EXPECT_FALSE(c2->peer_fin);
	be->conn(0)->request();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c1->response().status, 200);
	EXPECT_EQ(sh().inflight, 0u);
	EXPECT_EQ(sh().qmax, 1u);
}

TEST_F(PxQueue, PastMaxPending503AtOnce)
{
	start_cb("{ max_requests: 1, max_pending: 1, queue_timeout_ms: 1000 }");
	Backend *be = backend();
	PeerConn *c1 = client(), *c2 = client(), *c3 = client();
	c1->send(GET);
	c2->send(GET);
	c3->send(GET);
	Msg r = c3->response();
	EXPECT_EQ(r.status, 503) << "no room to wait: at once, no time passed";
	EXPECT_EQ(cnt(PX_CNT_queue_full), 1u);
	EXPECT_EQ(be->n_conns(), 1u);
	EXPECT_EQ(sh().pending, 1u);
	be->conn(0)->request();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c1->response().status, 200);
	// c1's slot went to c2, on the pooled connection
	ASSERT_TRUE(be->conn(0)->request().ok);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c2->response().status, 200);
	EXPECT_EQ(sh().pending, 0u);
	EXPECT_EQ(sh().inflight, 0u);
}

TEST_F(PxQueue, FreedSlotDequeuesOldestFirst)
{
	start_cb("{ max_requests: 1, max_pending: 10, queue_timeout_ms: 2000 }");
	Backend *be = backend();
	PeerConn *c0 = client();
	std::vector<PeerConn *> q;
	c0->send(GET);
	for (int i = 0; i < 3; i++) {
		q.push_back(client());
		q.back()->send("GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n");
	}
	EXPECT_EQ(sh().pending, 3u);
	be->conn(0)->request();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c0->response().status, 200);
	for (int i = 0; i < 3; i++) {
		Msg req = be->conn(0)->request();
		ASSERT_TRUE(req.ok) << i;
		EXPECT_EQ(req.target, "/" + std::to_string(i)) << "FIFO";
		EXPECT_EQ(be->n_conns(), 1u) << "one at a time: max_requests 1";
		be->conn(0)->send(OK2);
		EXPECT_EQ(q[i]->response().status, 200);
	}
	EXPECT_EQ(cnt(PX_CNT_queue_timeouts), 0u);
	EXPECT_EQ(sh().inflight, 0u);
	EXPECT_EQ(sh().pending, 0u);
	EXPECT_EQ(sh().qmax, 3u);
}

// Slots another worker holds are in the shared word: this worker waits for them too, and
// takes one on its next loop once the other gives it back.
TEST_F(PxQueue, SlotsOfOtherWorkersCount)
{
	start_cb("{ max_requests: 2, max_pending: 4, queue_timeout_ms: 500 }");
	Backend *be = backend();
	__atomic_add_fetch(&sh().inflight, 2, __ATOMIC_RELAXED); // "another worker" holds both
	PeerConn *c = client();
	c->send(GET);
	EXPECT_EQ(be->n_conns(), 0u);
	EXPECT_EQ(sh().pending, 1u);
	__atomic_sub_fetch(&sh().inflight, 1, __ATOMIC_RELAXED); // one comes back
	advance_ms(1);
	ASSERT_EQ(be->n_conns(), 1u) << "seen on the next loop";
	be->conn(0)->request();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(sh().inflight, 1u) << "the other worker's slot is still out";
	__atomic_sub_fetch(&sh().inflight, 1, __ATOMIC_RELAXED);
}

// ---- max_connections: upstream connections per endpoint ----

class PxConnLimit : public PxQueue
{
      public:
	struct dp_ep_shared &ep_sh(uint32_t e = 0)
	{
		return dp_snapshot_ep(d.snapshot, 0, e)->obj->sh;
	}
	uint64_t ep_cnt(uint32_t e, enum px_obj_counter c)
	{
		return dp_snapshot_ep(d.snapshot, 0, e)->obj->pw[0].cnt[c];
	}
};

TEST_F(PxConnLimit, OverMaxConnectionsWaitsForAConnectionThenIsServed)
{
	start_cb("{ max_connections: 1, max_pending: 4, queue_timeout_ms: 500 }");
	Backend *be = backend();
	PeerConn *c1 = client(), *c2 = client();
	c1->send(GET);
	ASSERT_EQ(be->n_conns(), 1u);
	EXPECT_EQ(ep_sh().conns, 1u);
	c2->send(GET);
	advance_ms(5);
	EXPECT_EQ(be->n_conns(), 1u) << "the endpoint is at its limit: c2 waits";
	EXPECT_EQ(sh().pending, 1u);
	EXPECT_EQ(sh().inflight, 0u) << "no max_requests: no slot held";
	EXPECT_EQ(cnt(PX_CNT_conn_limit_waits), 1u);
	EXPECT_EQ(cnt(PX_CNT_queue_waits), 1u);
	EXPECT_EQ(ep_cnt(0, PX_OBJ_conn_limited), 1u) << "once, however long it waits";
	be->conn(0)->request();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c1->response().status, 200);
	// someone waits for the endpoint: the connection is closed, not pooled, and the waiter
	// opens its own
	advance_ms(1);
	ASSERT_EQ(be->n_conns(), 2u);
	EXPECT_TRUE(be->conn(0)->peer_fin);
	be->conn(1)->request();
	EXPECT_EQ(ep_sh().conns, 1u) << "never more than max_connections";
	be->conn(1)->send(OK2);
	EXPECT_EQ(c2->response().status, 200);
	EXPECT_EQ(sh().pending, 0u);
	EXPECT_EQ(cnt(PX_CNT_queue_timeouts), 0u);
	// with nobody waiting any more, the connection went to the pool, still counted, and
	// the next request reuses it
	c1->send(GET);
	EXPECT_EQ(be->n_conns(), 2u) << "reused, no new connection";
	be->conn(1)->request();
	be->conn(1)->send(OK2);
	EXPECT_EQ(c1->response().status, 200);
	EXPECT_EQ(ep_sh().conns, 1u) << "the idle pooled one counts";
	EXPECT_EQ(cnt(PX_CNT_upstream_reused), 1u);
}

// An idle pooled connection keeps its slot while nobody waits; once a request of another
// worker waits for the endpoint (its starved mark), it closes within PX_IDLE_CHECK_MS.
TEST_F(PxConnLimit, IdleConnectionGivesItsSlotToAnotherWorkersWaiter)
{
	start_cb("{ max_connections: 1, max_pending: 4, queue_timeout_ms: 500 }");
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->request();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	advance_ms(50);
	EXPECT_FALSE(be->conn(0)->peer_fin) << "pooled, kept: nobody waits";
	EXPECT_EQ(ep_sh().conns, 1u);
	__atomic_store_n(&ep_sh().starved_tsc, now + d.hz, __ATOMIC_RELAXED); // another worker's
	advance_ms(6);
	EXPECT_TRUE(be->conn(0)->peer_fin) << "closed for the waiter";
	EXPECT_EQ(ep_sh().conns, 0u);
	__atomic_store_n(&ep_sh().starved_tsc, 0, __ATOMIC_RELAXED);
}

TEST_F(PxConnLimit, WaiterGets503AfterQueueTimeout)
{
	start_cb("{ max_connections: 1, max_requests: 5, max_pending: 4, queue_timeout_ms: 200 }");
	Backend *be = backend();
	PeerConn *c1 = client(), *c2 = client();
	c1->send(GET);
	c2->send(GET);
	EXPECT_EQ(sh().inflight, 1u) << "the waiter gave its max_requests slot back";
	advance_ms(150);
	EXPECT_FALSE(c2->response(false).ok);
	advance_ms(60);
	EXPECT_EQ(c2->response().status, 503);
	EXPECT_EQ(cnt(PX_CNT_queue_timeouts), 1u);
	EXPECT_EQ(be->n_conns(), 1u) << "it never reached the endpoint";
	be->conn(0)->request();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c1->response().status, 200);
	EXPECT_EQ(sh().pending, 0u);
	EXPECT_EQ(sh().inflight, 0u);
}

TEST_F(PxConnLimit, PastMaxPending503AtOnce)
{
	start_cb("{ max_connections: 1, max_pending: 1, queue_timeout_ms: 1000 }");
	Backend *be = backend();
	PeerConn *c1 = client(), *c2 = client(), *c3 = client();
	c1->send(GET);
	c2->send(GET);
	c3->send(GET);
	EXPECT_EQ(c3->response().status, 503);
	EXPECT_EQ(cnt(PX_CNT_queue_full), 1u);
	be->conn(0)->request();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c1->response().status, 200);
	advance_ms(1);
	ASSERT_EQ(be->n_conns(), 2u);
	be->conn(1)->request();
	be->conn(1)->send(OK2);
	EXPECT_EQ(c2->response().status, 200);
}

// Connections other workers hold are in the shared word; an endpoint at its limit is passed
// over for the balancer's next pick.
TEST_F(PxConnLimit, FullEndpointPassedOverForAnother)
{
	Conf conf;
	conf.breaker = "{ max_connections: 1, max_pending: 4, queue_timeout_ms: 300 }";
	conf.endpoints = { "{ name: a, address: 198.18.0.21:8080 }",
			   "{ name: b, address: 198.18.0.22:8080 }" };
	start(conf);
	Backend *a = backend(BACKEND_A), *b = backend(BACKEND_B);
	__atomic_add_fetch(&ep_sh(0).conns, 1, __ATOMIC_RELAXED); // "another worker" holds a's
	for (int i = 0; i < 2; i++) {
		PeerConn *c = client();
		c->send(GET);
		ASSERT_EQ(b->n_conns(), 1u) << i;
		EXPECT_EQ(a->n_conns(), 0u) << "a is at its limit";
		b->conn(0)->request();
		b->conn(0)->send(OK2);
		EXPECT_EQ(c->response().status, 200);
	}
	EXPECT_EQ(ep_cnt(0, PX_OBJ_conn_limited), 2u) << "each request met a at its limit";
	EXPECT_EQ(cnt(PX_CNT_conn_limit_waits), 0u) << "nobody waited";
	__atomic_sub_fetch(&ep_sh(0).conns, 1, __ATOMIC_RELAXED);
}

// maglev: the key owns its endpoint, so a request whose endpoint is full waits for it.
TEST_F(PxConnLimit, MaglevWaitsForItsOwnEndpoint)
{
	Conf conf;
	conf.balance = "maglev";
	conf.breaker = "{ max_connections: 1, max_pending: 4, queue_timeout_ms: 100 }";
	conf.endpoints = { "{ name: a, address: 198.18.0.21:8080 }",
			   "{ name: b, address: 198.18.0.22:8080 }" };
	start(conf);
	Backend *a = backend(BACKEND_A), *b = backend(BACKEND_B);
	PeerConn *c1 = client();
	c1->send(GET);
	ASSERT_EQ(a->n_conns() + b->n_conns(), 1u);
	Backend *mine = a->n_conns() == 1 ? a : b, *other = mine == a ? b : a;
	PeerConn *c2 = client(); // same client address: the same key, the same endpoint
	c2->send(GET);
	advance_ms(120);
	EXPECT_EQ(c2->response().status, 503) << "waited for its endpoint, then the timeout";
	EXPECT_EQ(other->n_conns(), 0u) << "never sent elsewhere";
	mine->conn(0)->request();
	mine->conn(0)->send(OK2);
	EXPECT_EQ(c1->response().status, 200);
}

// A waiting client that goes away leaves the queue (and pending) with its session.
TEST_F(PxQueue, ClientResetWhileQueued)
{
	start_cb("{ max_requests: 1, max_pending: 4 }");
	Backend *be = backend();
	PeerConn *c1 = client(), *c2 = client();
	c1->send(GET);
	c2->send(GET);
	EXPECT_EQ(sh().pending, 1u);
	c2->abort();
	EXPECT_EQ(sh().pending, 0u);
	be->conn(0)->request();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c1->response().status, 200);
	EXPECT_EQ(sh().inflight, 0u);
}

// No circuit_breaker: no slot taken, the shared words stay 0.
TEST_F(PxQueue, NoLimitTakesNoSlot)
{
	start_cb("");
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	EXPECT_EQ(sh().inflight, 0u);
	be->conn(0)->request();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
}

} // namespace
} // namespace pxt

namespace pxt
{
namespace
{

const std::string E500 = "HTTP/1.1 500 Oops\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops";
const std::string OK2C = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";

// The breaker: the workers count final outcomes, control's tick (hc_breaker_run, called
// here as control would every 10 ms) opens, half-opens and closes it. Every backend
// response closes its connection, so the backend's connection count is its request count.
class PxBreaker : public PxTest
{
      public:
	uint64_t mono = 1000;
	void start_cb(const std::string &cb)
	{
		Conf conf;
		conf.breaker = cb;
		conf.retries = "0";
		start(conf);
	}
	struct dp_svc_shared &sh()
	{
		return dp_snapshot_ep(d.snapshot, 0, 0)->obj->svc->sh;
	}
	void tick(uint64_t ms = 10)
	{
		struct hc_clock clk = {};
		mono += ms;
		clk.mono_ms = mono;
		hc_breaker_run(&d, &clk);
		pump();
	}
	// one GET on a new client connection; the backend answers with resp (when the request
	// reaches it). Returns the status the client got.
	int one(Backend *be, const std::string &resp)
	{
		size_t n = be->n_conns();
		PeerConn *c = client();
		c->send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
		if (be->n_conns() > n) {
			EXPECT_TRUE(be->conn(n)->request().ok);
			be->conn(n)->send(resp);
		}
		Msg r = c->response();
		c->close();
		return r.status;
	}
};

TEST_F(PxBreaker, OpensAfterConsecutiveFailuresAnswers503WithoutConnecting)
{
	start_cb("{ consecutive_failures: 3, open_ms: 500 }");
	Backend *be = backend();
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(one(be, E500), 500);
	EXPECT_EQ(sh().cb_state, (uint32_t)DP_CB_CLOSED) << "control decides, at its tick";
	tick();
	EXPECT_EQ(sh().cb_state, (uint32_t)DP_CB_OPEN);
	EXPECT_EQ(one(be, OK2C), 503);
	EXPECT_EQ(be->n_conns(), 3u) << "open: no connection";
	EXPECT_EQ(cnt(PX_CNT_breaker_open), 1u);
	EXPECT_EQ(cnt(PX_CNT_upstream_connects), 3u);
	tick(480);
	EXPECT_EQ(sh().cb_state, (uint32_t)DP_CB_OPEN) << "open_ms not over";
	EXPECT_EQ(one(be, OK2C), 503);
	EXPECT_EQ(sh().c_opens, 1u);
}

TEST_F(PxBreaker, OkBreaksTheRun)
{
	start_cb("{ consecutive_failures: 3, open_ms: 500 }");
	Backend *be = backend();
	EXPECT_EQ(one(be, E500), 500);
	EXPECT_EQ(one(be, E500), 500);
	EXPECT_EQ(one(be, OK2C), 200);
	EXPECT_EQ(one(be, E500), 500);
	EXPECT_EQ(one(be, E500), 500);
	tick();
	EXPECT_EQ(sh().cb_state, (uint32_t)DP_CB_CLOSED);
	EXPECT_EQ(sh().c_run, 2u);
	EXPECT_EQ(one(be, E500), 500);
	tick();
	EXPECT_EQ(sh().cb_state, (uint32_t)DP_CB_OPEN) << "the third in a row";
}

// Half-open: one trial; the others still get 503 while it is out; its success closes.
TEST_F(PxBreaker, HalfOpenTrialSuccessCloses)
{
	start_cb("{ consecutive_failures: 2, open_ms: 100 }");
	Backend *be = backend();
	one(be, E500);
	one(be, E500);
	tick();
	ASSERT_EQ(sh().cb_state, (uint32_t)DP_CB_OPEN);
	tick(100);
	ASSERT_EQ(sh().cb_state, (uint32_t)DP_CB_HALF_OPEN);
	PeerConn *trial = client();
	trial->send("GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
	ASSERT_EQ(be->n_conns(), 3u) << "the trial goes through";
	EXPECT_EQ(sh().cb_trial, (uint32_t)DP_CB_TRIAL_CLAIMED);
	EXPECT_EQ(one(be, OK2C), 503) << "one trial for the appliance";
	EXPECT_EQ(be->n_conns(), 3u);
	EXPECT_TRUE(be->conn(2)->request().ok);
	be->conn(2)->send(OK2C);
	EXPECT_EQ(trial->response().status, 200);
	EXPECT_EQ(sh().cb_trial, (uint32_t)DP_CB_TRIAL_OK);
	tick();
	EXPECT_EQ(sh().cb_state, (uint32_t)DP_CB_CLOSED);
	EXPECT_EQ(one(be, OK2C), 200);
	EXPECT_EQ(be->n_conns(), 4u);
	EXPECT_EQ(cnt(PX_CNT_breaker_trials), 1u);
}

TEST_F(PxBreaker, HalfOpenTrialFailureReopens)
{
	start_cb("{ consecutive_failures: 2, open_ms: 100 }");
	Backend *be = backend();
	one(be, E500);
	one(be, E500);
	tick();
	tick(100);
	ASSERT_EQ(sh().cb_state, (uint32_t)DP_CB_HALF_OPEN);
	EXPECT_EQ(one(be, E500), 500) << "the trial";
	tick();
	EXPECT_EQ(sh().cb_state, (uint32_t)DP_CB_OPEN);
	EXPECT_EQ(sh().c_opens, 2u);
	EXPECT_EQ(one(be, OK2C), 503);
	EXPECT_EQ(be->n_conns(), 3u);
	tick(100);
	EXPECT_EQ(sh().cb_state, (uint32_t)DP_CB_HALF_OPEN);
	EXPECT_EQ(one(be, OK2C), 200);
	tick();
	EXPECT_EQ(sh().cb_state, (uint32_t)DP_CB_CLOSED);
}

// A connect failure after retries counts as a failure too (sluice's own 502).
TEST_F(PxBreaker, GatewayErrorsCount)
{
	start_cb("{ consecutive_failures: 2, open_ms: 100 }");
	host(BACKEND_A); // up, nothing listens: RST to the SYN
	for (int i = 0; i < 2; i++) {
		PeerConn *c = client();
		c->send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
		EXPECT_EQ(c->response().status, 502);
		c->close();
	}
	tick();
	EXPECT_EQ(sh().cb_state, (uint32_t)DP_CB_OPEN);
}

} // namespace
} // namespace pxt
