// SPDX-License-Identifier: BSD-3-Clause
// WebSocket upgrades (101, then a byte tunnel both ways), reloads (a new snapshot) while
// requests are in flight, and the request pool running empty (px_harness.h).
#include "px_harness.h"

namespace pxt
{
namespace
{

const std::string GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string GET_DIRECT = "GET /direct HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string OK2 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
const std::string UPGRADE = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\nSec-WebSocket-Key: k\r\n\r\n";
const std::string SWITCHING = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			      "Connection: Upgrade\r\n\r\n";

class ProxyTunnel : public PxTest
{
      public:
	Backend *be = nullptr;
	PeerConn *c = nullptr, *bc = nullptr;

	// A client and a backend joined by a tunnel, the 101 checked.
	void open(const Conf &conf = Conf(), const std::string &early = "")
	{
		start(conf);
		be = backend();
		c = client();
		c->send(UPGRADE + early);
		bc = be->conn(0);
		ASSERT_NE(bc, nullptr);
		Msg rq = bc->request();
		EXPECT_EQ(rq.header("Upgrade"), "websocket");
		EXPECT_EQ(rq.header("Connection"), "upgrade");
		bc->send(SWITCHING);
		Msg r = c->response();
		EXPECT_EQ(r.status, 101);
		EXPECT_EQ(r.header("Upgrade"), "websocket");
		EXPECT_EQ(r.header("Connection"), "upgrade");
		EXPECT_EQ(cnt(PX_CNT_tunnels), 1u);
	}
};

TEST_F(ProxyTunnel, BytesFlowBothWaysUntilTheBackendCloses)
{
	open();
	c->send("ping");
	EXPECT_EQ(bc->take(), "ping");
	bc->send("pong");
	EXPECT_EQ(c->take(), "pong");
	std::string big(50000, 'z'); // more than one window's worth of segments each way
	c->send(big);
	advance_ms(100);
	EXPECT_EQ(bc->take(), big);
	bc->send(big + "!");
	advance_ms(100);
	EXPECT_EQ(c->take(), big + "!");
	bc->shutdown(); // either side closing ends the tunnel
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(mem().upstreams_used, 0u) << "a tunnel's upstream is never pooled";
}

// Known bug (reported to the lead, issue 9): a client FIN inside a tunnel aborts the upstream
// connection (px_proxy_tunnel_up -> px_proxy_detach -> tcp_abort): the backend gets a RST
// instead of a FIN, and since the posted events (a6dd2d7) the bytes the client sent just before
// its FIN are still queued when the abort drops them, so the backend never gets them. The client
// session is left in PX_WAIT_RESP without an upstream and gets its FIN only at the listener's
// idle timeout. Enable once the tunnel's close path is fixed.
TEST_F(ProxyTunnel, ClientFinEndsTheTunnelGracefully)
{
	open();
	c->send_fin("last words");
	EXPECT_EQ(bc->take(), "last words");
	EXPECT_TRUE(bc->peer_fin) << "backend: FIN expected";
	EXPECT_FALSE(bc->reset()) << "backend: RST";
	EXPECT_TRUE(c->peer_fin) << "client: no FIN from sluice";
}

TEST_F(ProxyTunnel, BackendClosingEndsTheTunnel)
{
	open();
	bc->send("bye");
	bc->shutdown();
	EXPECT_EQ(c->take(), "bye");
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(mem().upstreams_used, 0u);
}

TEST_F(ProxyTunnel, ClientBytesSentWithTheRequestReachTheBackendAfter101)
{
	open(Conf(), "early");
	EXPECT_EQ(bc->take(), "early");
}

TEST_F(ProxyTunnel, IdleTunnelIsClosedAtTheIdleTimeout)
{
	Conf conf;
	open(conf);
	c->send("x");
	advance_ms(conf.idle_timeout_ms - 10);
	EXPECT_FALSE(c->peer_fin || c->reset());
	advance_ms(20);
	EXPECT_TRUE(c->peer_fin || c->reset());
	EXPECT_TRUE(bc->peer_fin || bc->reset());
}

TEST_F(ProxyTunnel, UpgradeTheBackendDeclinesStaysHttp)
{
	start();
	be = backend();
	c = client();
	c->send(UPGRADE);
	bc = be->conn(0);
	ASSERT_NE(bc, nullptr);
	EXPECT_TRUE(bc->request().ok);
	bc->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(cnt(PX_CNT_tunnels), 0u);
	c->send(GET);
	EXPECT_TRUE(bc->request().ok) << "the connections still speak HTTP";
	bc->send(OK2);
	EXPECT_EQ(c->response().status, 200);
}

// ---- reload ----

class ProxyReload : public PxTest
{
};

Conf only_b()
{
	Conf conf;
	conf.endpoints = { "{ name: b, address: 198.18.0.22:8080 }" };
	return conf;
}

TEST_F(ProxyReload, InFlightRequestFinishesOnTheEndpointItChose)
{
	start();
	Backend *a = backend(BACKEND_A), *b = backend(BACKEND_B);
	PeerConn *c = client();
	c->send(GET);
	ASSERT_EQ(a->n_conns(), 1u);
	EXPECT_TRUE(a->conn(0)->request().ok);
	reload(only_b()); // a leaves the configuration while its request is in flight
	a->conn(0)->send(OK2);
	EXPECT_EQ(c->response().body, "hi");
	EXPECT_TRUE(a->conn(0)->peer_fin) << "an endpoint that left keeps no idle connection";
	c->send(GET); // new requests see the new snapshot
	ASSERT_EQ(b->n_conns(), 1u);
	EXPECT_TRUE(b->conn(0)->request().ok);
	b->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(a->n_conns(), 1u);
}

TEST_F(ProxyReload, IdleConnectionsOfARemovedEndpointAreClosed)
{
	start();
	Backend *a = backend(BACKEND_A);
	PeerConn *c = client();
	c->send(GET);
	a->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(mem().upstreams_used, 1u);
	reload(only_b());
	EXPECT_TRUE(a->conn(0)->peer_fin);
	EXPECT_EQ(mem().upstreams_used, 0u);
	EXPECT_EQ(cnt(PX_CNT_upstream_idle_closed), 1u);
}

TEST_F(ProxyReload, EndpointThatStaysKeepsItsPooledConnection)
{
	start();
	Backend *a = backend(BACKEND_A);
	PeerConn *c = client();
	c->send(GET);
	a->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	Conf conf;
	conf.response_ms = 2000; // a change elsewhere in the service
	reload(conf);
	c->send(GET);
	EXPECT_EQ(a->n_conns(), 1u);
	EXPECT_EQ(cnt(PX_CNT_upstream_reused), 1u);
	a->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
}

TEST_F(ProxyReload, DirectRouteWithItsBodyStillComingIsAnswered503)
{
	start();
	PeerConn *c = client();
	c->send("POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234");
	reload(Conf()); // the same text, but a new configuration: route indices may differ
	c->send("56789");
	Msg r = c->response();
	EXPECT_EQ(r.status, 503);
	EXPECT_EQ(r.header("Connection"), "close");
	EXPECT_EQ(cnt(PX_CNT_route_gone), 1u);
}

TEST_F(ProxyReload, RemovedListenerEndsItsConnectionsWith503)
{
	start();
	PeerConn *c = client();
	c->send(GET_DIRECT);
	EXPECT_EQ(c->response().status, 200);
	std::string moved = Conf().to_yaml();
	moved.replace(moved.find("name: web\n    port: 80"), 22, "name: web2\n    port: 81");
	reload_yaml(moved);
	c->send(GET_DIRECT); // a connection the removed listener accepted
	Msg r = c->response();
	EXPECT_EQ(r.status, 503);
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(cnt(PX_CNT_listener_gone), 1u);
	PeerConn *old = client(CLIENT_HOST, LISTEN_PORT, false);
	EXPECT_FALSE(old->connected) << "nothing listens on port 80 any more";
	PeerConn *c81 = client(CLIENT_HOST, 81);
	c81->send(GET_DIRECT);
	EXPECT_EQ(c81->response().status, 200);
}

// ---- the request pool running empty ----

class PxSessionReqPool : public PxTest
{
      public:
	std::vector<PeerConn *> holders; // each holds a px_req with half a head

	void fill()
	{
		start();
		uint32_t n = mem().reqs_max;
		ASSERT_GT(n, 0u);
		ASSERT_LT(n, Conf().max_connections) << "the pool would not run empty";
		// a head read, its body still coming: a px_req held up to idle_timeout_ms
		for (uint32_t i = 0; i < n; i++) {
			holders.push_back(client());
			holders.back()->send(
				"POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n");
		}
		EXPECT_EQ(mem().reqs_used, n);
	}
};

TEST_F(PxSessionReqPool, RequestWaitsForAPxReqThenIsServed)
{
	fill();
	PeerConn *late = client();
	late->send(GET_DIRECT);
	EXPECT_EQ(late->pending(), "") << "no px_req free: the request waits";
	EXPECT_EQ(mem().reqs_waiting, 1u);
	EXPECT_EQ(cnt(PX_CNT_req_pool_empty), 1u);
	holders[0]->send("body"); // one request completes and gives its px_req back
	EXPECT_EQ(holders[0]->response().status, 200);
	EXPECT_EQ(late->response().status, 200) << "the waiting request got the px_req";
	EXPECT_EQ(mem().reqs_waiting, 0u);
	for (size_t i = 1; i < holders.size(); i++) {
		holders[i]->send("body");
		EXPECT_EQ(holders[i]->response().status, 200) << i;
	}
	EXPECT_EQ(mem().reqs_used, 0u);
}

TEST_F(PxSessionReqPool, WaitingRequestGets408AtTheHeaderTimeout)
{
	fill();
	Conf conf;
	PeerConn *late = client();
	late->send(GET_DIRECT);
	EXPECT_EQ(mem().reqs_waiting, 1u);
	advance_ms(conf.header_timeout_ms + 10);
	EXPECT_EQ(late->response().status, 408);
	EXPECT_EQ(mem().reqs_waiting, 0u);
	EXPECT_EQ(holders[0]->pending(), "") << "still within its idle timeout";
}

TEST_F(PxSessionReqPool, WaitingClientThatLeavesIsTakenOffTheList)
{
	fill();
	PeerConn *late = client();
	late->send(GET_DIRECT);
	EXPECT_EQ(mem().reqs_waiting, 1u);
	late->abort();
	EXPECT_EQ(mem().reqs_waiting, 0u);
	holders[0]->send("body");
	EXPECT_EQ(holders[0]->response().status, 200);
}

} // namespace
} // namespace pxt
