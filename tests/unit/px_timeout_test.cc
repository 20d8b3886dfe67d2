// SPDX-License-Identifier: BSD-3-Clause
// Every timeout of the proxy layer on the fake clock: header, idle, lingering close (client
// sessions), connect, response, pool idle (upstream connections). Each case checks that
// nothing happens shortly before the bound and that the right thing happens shortly after it
// (MARGIN either side, so the wheel's rounding is not what is tested).
#include "px_harness.h"

namespace pxt
{
namespace
{

constexpr uint64_t MARGIN = 10; // ms

const std::string GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string GET_DIRECT = "GET /direct HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string OK2 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

class PxSessionTimeouts : public PxTest
{
};

TEST_F(PxSessionTimeouts, IncompleteHeadGets408AtTheHeaderTimeout)
{
	Conf conf;
	start(conf);
	PeerConn *c = client();
	c->send("GET /direct HTTP/1.1\r\nHo");
	advance_ms(conf.header_timeout_ms - MARGIN);
	EXPECT_EQ(c->pending(), "");
	advance_ms(2 * MARGIN);
	Msg r = c->response();
	EXPECT_EQ(r.status, 408);
	EXPECT_EQ(r.header("Connection"), "close");
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(cnt(PX_CNT_header_timeouts), 1u);
}

TEST_F(PxSessionTimeouts, TricklingHeadStillTimesOutFromItsFirstByte)
{
	Conf conf;
	start(conf);
	PeerConn *c = client();
	std::string head = "GET /direct HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	c->send(head);
	uint64_t t = 0;
	while (t + 400 < conf.header_timeout_ms - MARGIN) {
		advance_ms(400);
		t += 400;
		c->send("a"); // progress, but the head never ends (slowloris)
	}
	advance_ms(conf.header_timeout_ms - MARGIN - t);
	EXPECT_EQ(c->pending(), "");
	advance_ms(2 * MARGIN);
	EXPECT_EQ(c->response().status, 408);
	EXPECT_EQ(cnt(PX_CNT_header_timeouts), 1u);
}

TEST_F(PxSessionTimeouts, ConnectionThatSendsNothingIsClosedAtTheHeaderTimeout)
{
	Conf conf;
	start(conf);
	PeerConn *c = client();
	advance_ms(conf.header_timeout_ms - MARGIN);
	EXPECT_FALSE(c->peer_fin);
	advance_ms(2 * MARGIN);
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(c->pending(), "") << "no 408 for a request that never began";
	EXPECT_EQ(cnt(PX_CNT_header_timeouts), 0u);
	EXPECT_EQ(cnt(PX_CNT_idle_timeouts), 1u);
}

TEST_F(PxSessionTimeouts, IdleKeepAliveConnectionIsClosedAtTheIdleTimeout)
{
	Conf conf;
	start(conf);
	PeerConn *c = client();
	c->send(GET_DIRECT);
	EXPECT_EQ(c->response().status, 200);
	advance_ms(conf.idle_timeout_ms - MARGIN);
	EXPECT_FALSE(c->peer_fin);
	c->send(GET_DIRECT); // a request restarts the clock
	EXPECT_EQ(c->response().status, 200);
	advance_ms(conf.idle_timeout_ms - MARGIN);
	EXPECT_FALSE(c->peer_fin);
	advance_ms(2 * MARGIN);
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(c->pending(), "");
	EXPECT_EQ(cnt(PX_CNT_idle_timeouts), 1u);
}

TEST_F(PxSessionTimeouts, StalledRequestBodyIsClosedAtTheIdleTimeout)
{
	Conf conf;
	start(conf);
	PeerConn *c = client();
	c->send("POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234");
	advance_ms(conf.idle_timeout_ms - MARGIN);
	EXPECT_FALSE(c->peer_fin);
	advance_ms(2 * MARGIN);
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(c->pending(), "");
	EXPECT_EQ(cnt(PX_CNT_idle_timeouts), 1u);
}

// The bounds are kept lazily (struct px_timer): a bound moved later leaves the wheel entry where
// it was, which fires early, finds nothing due and is armed again. These hold the lazy entries
// to the bounds themselves, at the bound that is due whichever way it moved.
TEST_F(PxSessionTimeouts, HeadBegunAfterAnIdlePauseGets408AtItsOwnHeaderTimeout)
{
	Conf conf;
	start(conf);
	PeerConn *c = client();
	c->send(GET_DIRECT); // the entry goes to its header bound, the idle bound comes later
	EXPECT_EQ(c->response().status, 200);
	advance_ms(conf.header_timeout_ms + 500); // the early entry fired: idle bound now
	EXPECT_FALSE(c->peer_fin);
	c->send("GET /direct HTTP/1.1\r\nHo"); // a header bound earlier than the idle one
	advance_ms(conf.header_timeout_ms - MARGIN);
	EXPECT_EQ(c->pending(), "");
	advance_ms(2 * MARGIN);
	EXPECT_EQ(c->response().status, 408);
	EXPECT_EQ(cnt(PX_CNT_header_timeouts), 1u);
	EXPECT_EQ(cnt(PX_CNT_idle_timeouts), 0u);
}

TEST_F(PxSessionTimeouts, ManyKeepAliveRequestsThenIdleCloseAtTheIdleTimeoutOfTheLast)
{
	Conf conf;
	start(conf);
	PeerConn *c = client();
	for (int i = 0; i < 12; i++) { // past several header and idle bounds of earlier requests
		c->send(GET_DIRECT);
		EXPECT_EQ(c->response().status, 200);
		advance_ms(conf.header_timeout_ms / 2);
	}
	c->send(GET_DIRECT);
	EXPECT_EQ(c->response().status, 200);
	advance_ms(conf.idle_timeout_ms - MARGIN);
	EXPECT_FALSE(c->peer_fin);
	advance_ms(2 * MARGIN);
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(cnt(PX_CNT_idle_timeouts), 1u);
	EXPECT_EQ(cnt(PX_CNT_header_timeouts), 0u);
}

// After a refusal sluice closes its side but keeps reading (and dropping) what the client
// still sends, so that a RST does not destroy the answer in the client's receive buffer.
TEST_F(PxSessionTimeouts, LingeringCloseReadsAndDropsThenEnds)
{
	start();
	PeerConn *c = client();
	c->send("POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n");
	EXPECT_EQ(c->response().status, 400);
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(mem().sessions_used, 1u) << "lingering";
	advance_ms(1000);
	c->send("late body bytes");
	EXPECT_FALSE(c->reset()) << "late bytes are read and dropped, not reset";
	advance_ms(4000 - MARGIN);
	EXPECT_EQ(mem().sessions_used, 1u);
	advance_ms(2 * MARGIN);
	EXPECT_EQ(mem().sessions_used, 0u) << "the lingering close ends after 5 s";
	EXPECT_FALSE(c->reset());
}

TEST_F(PxSessionTimeouts, LingeringCloseEndsWithTheClientsFin)
{
	start();
	PeerConn *c = client();
	c->send("GET /direct HTTP/1.1\r\n\r\n"); // no Host: 400
	EXPECT_EQ(c->response().status, 400);
	EXPECT_EQ(mem().sessions_used, 1u);
	c->shutdown();
	EXPECT_EQ(mem().sessions_used, 0u);
	EXPECT_FALSE(c->reset());
}

class ProxyTimeouts : public PxTest
{
};

TEST_F(ProxyTimeouts, UnansweredConnectIs504AtConnectMs)
{
	Conf conf;
	conf.retries = "0"; // one try
	start(conf);
	host(BACKEND_A)->blackhole = true; // SYNs vanish
	PeerConn *c = client();
	c->send(GET);
	advance_ms(conf.connect_ms - MARGIN);
	EXPECT_EQ(c->pending(), "");
	advance_ms(2 * MARGIN);
	Msg r = c->response();
	EXPECT_EQ(r.status, 504);
	EXPECT_EQ(r.header("Connection"), "close");
	EXPECT_EQ(cnt(PX_CNT_upstream_connect_timeouts), 1u);
	EXPECT_EQ(mem().upstreams_used, 0u);
}

TEST_F(ProxyTimeouts, LostSynIsSentAgainWithinConnectMs)
{
	Conf conf;
	start(conf);
	Backend *be = backend();
	host(BACKEND_A)->blackhole = true;
	PeerConn *c = client();
	c->send(GET); // the first SYN is lost
	advance_ms(conf.connect_ms / 8);
	host(BACKEND_A)->blackhole = false;
	advance_ms(conf.connect_ms / 2);
	ASSERT_EQ(be->n_conns(), 1u) << "a SYN sent again before connect_ms";
	EXPECT_TRUE(be->conn(0)->request().ok);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(cnt(PX_CNT_upstream_connect_timeouts), 0u);
}

TEST_F(ProxyTimeouts, SilentBackendIs504AtResponseMs)
{
	Conf conf;
	conf.idle_timeout_ms = 1000; // shorter: the listener's idle bound does not apply here
	start(conf);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	EXPECT_TRUE(be->conn(0)->request().ok);
	advance_ms(conf.response_ms - MARGIN);
	EXPECT_EQ(c->pending(), "");
	EXPECT_FALSE(c->peer_fin);
	advance_ms(2 * MARGIN);
	EXPECT_EQ(c->response().status, 504);
	EXPECT_TRUE(be->conn(0)->reset()) << "the upstream connection is aborted";
	EXPECT_EQ(cnt(PX_CNT_upstream_response_timeouts), 1u);
}

TEST_F(ProxyTimeouts, ResponseSlowerThanTheIdleTimeoutIsServed)
{
	Conf conf;
	conf.idle_timeout_ms = 1000;
	start(conf);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	advance_ms(conf.response_ms - 500);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
}

TEST_F(ProxyTimeouts, BackendStallingMidBodyResetsTheClientAtResponseMs)
{
	Conf conf;
	start(conf);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	PeerConn *bc = be->conn(0);
	ASSERT_NE(bc, nullptr);
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n123");
	// progress re-arms the bound: each silence is shorter than response_ms
	for (int i = 0; i < 3; i++) {
		advance_ms(conf.response_ms - 500);
		bc->send("4");
	}
	advance_ms(conf.response_ms - MARGIN);
	EXPECT_FALSE(c->reset());
	advance_ms(2 * MARGIN);
	EXPECT_TRUE(c->reset()) << "half a response: the client is aborted";
	EXPECT_TRUE(bc->reset());
	EXPECT_EQ(cnt(PX_CNT_upstream_response_timeouts), 1u);
}

TEST_F(ProxyTimeouts, IdlePooledConnectionIsClosedAtThePoolIdleTimeout)
{
	Conf conf;
	start(conf);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	advance_ms(conf.pool_idle_timeout_ms - MARGIN);
	EXPECT_EQ(mem().upstreams_used, 1u);
	EXPECT_FALSE(be->conn(0)->peer_fin);
	advance_ms(2 * MARGIN);
	EXPECT_TRUE(be->conn(0)->peer_fin) << "closed gracefully";
	EXPECT_FALSE(be->conn(0)->reset());
	EXPECT_EQ(mem().upstreams_used, 0u);
	EXPECT_EQ(cnt(PX_CNT_upstream_idle_closed), 1u);
}

TEST_F(ProxyTimeouts, ReusedPooledConnectionIsClosedAtThePoolIdleTimeoutOfItsLastUse)
{
	Conf conf;
	start(conf);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	advance_ms(conf.pool_idle_timeout_ms - 1000); // the first idle bound's entry stays
	c->send(GET);
	ASSERT_EQ(be->n_conns(), 1u) << "reused";
	EXPECT_TRUE(be->conn(0)->request().ok);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	advance_ms(conf.pool_idle_timeout_ms - MARGIN);
	EXPECT_FALSE(be->conn(0)->peer_fin);
	EXPECT_EQ(mem().upstreams_used, 1u);
	advance_ms(2 * MARGIN);
	EXPECT_TRUE(be->conn(0)->peer_fin);
	EXPECT_EQ(mem().upstreams_used, 0u);
	EXPECT_EQ(cnt(PX_CNT_upstream_idle_closed), 1u);
}

TEST_F(ProxyTimeouts, SilentBackendOnAReusedConnectionIs504AtResponseMs)
{
	Conf conf;
	conf.idle_timeout_ms = 1000;
	start(conf);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	// the pool idle bound's entry is due before the response bound set next
	advance_ms(conf.pool_idle_timeout_ms - conf.response_ms / 2);
	c = client();
	c->send(GET);
	ASSERT_EQ(be->n_conns(), 1u) << "reused";
	EXPECT_TRUE(be->conn(0)->request().ok);
	advance_ms(conf.response_ms - MARGIN);
	EXPECT_EQ(c->pending(), "");
	advance_ms(2 * MARGIN);
	EXPECT_EQ(c->response().status, 504);
	EXPECT_EQ(cnt(PX_CNT_upstream_response_timeouts), 1u);
	EXPECT_EQ(cnt(PX_CNT_upstream_idle_closed), 0u);
}

TEST_F(ProxyTimeouts, PoolKeepsAtMostMaxIdlePerEndpoint)
{
	Conf conf;
	conf.pool_max_idle = 1;
	start(conf);
	Backend *be = backend();
	PeerConn *c1 = client(), *c2 = client();
	c1->send(GET);
	c2->send(GET);
	ASSERT_EQ(be->n_conns(), 2u);
	be->conn(0)->send(OK2);
	be->conn(1)->send(OK2);
	EXPECT_EQ(c1->response().status, 200);
	EXPECT_EQ(c2->response().status, 200);
	EXPECT_EQ(mem().upstreams_used, 1u) << "one idle, the other closed";
	EXPECT_EQ(be->n_open(), 1u);
}

} // namespace
} // namespace pxt
