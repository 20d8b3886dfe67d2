// SPDX-License-Identifier: BSD-3-Clause
// show conns, worker side (dataplane/proxy/px_conns.c): what px_conns_fill says of real sessions in
// each state, driven through the proxy harness (px_harness.h).
#include <map>

#include "px_harness.h"

namespace pxt
{
namespace
{

class PxConns : public PxTest
{
      public:
	// Every session the worker describes, by client port.
	std::map<uint16_t, dp_conn_info> fill(unsigned max = 64)
	{
		std::vector<dp_conn_info> out(max);
		std::map<uint16_t, dp_conn_info> by_port;
		uint32_t cursor = 0;
		unsigned n = 0;

		while (!px_conns_done(w, cursor) && n < max)
			n += px_conns_fill(w, &cursor, out.data() + n, max - n);
		for (unsigned i = 0; i < n; i++) {
			EXPECT_EQ(by_port.count(out[i].client_port), 0u) << "listed twice";
			by_port[out[i].client_port] = out[i];
		}
		return by_port;
	}
};

std::string ip(uint32_t a)
{
	const uint8_t *b = reinterpret_cast<const uint8_t *>(&a);
	return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) +
	       "." + std::to_string(b[3]);
}

TEST_F(PxConns, EachSessionWithItsStateRequestAndUpstream)
{
	start();
	Backend *be = backend();

	PeerConn *idle = client();
	idle->send("GET /direct HTTP/1.1\r\nHost: x\r\n\r\n");
	ASSERT_EQ(idle->response().status, 200);

	PeerConn *head = client();
	head->send("GET /direct HT");

	PeerConn *body = client();
	body->send("POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");

	PeerConn *closing = client();
	closing->send("GET /direct HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ASSERT_EQ(closing->response().status, 200);

	PeerConn *wait = client();
	wait->send("PROPFIND /dav HTTP/1.1\r\nHost: x\r\n\r\n");
	ASSERT_EQ(be->n_conns(), 1u);
	ASSERT_TRUE(be->conn(0)->request().ok);
	advance_ms(7);

	auto conns = fill();
	ASSERT_EQ(conns.size(), 5u);
	EXPECT_EQ(mem().sessions_used, 5u);
	for (auto &[port, e] : conns) {
		EXPECT_EQ(ip(e.client_addr), "198.18.0.2");
		EXPECT_EQ(ip(e.local_addr), "198.18.0.10");
		EXPECT_EQ(e.local_port, LISTEN_PORT);
		EXPECT_STREQ(e.listener, "web");
		EXPECT_EQ(e.worker, 0);
	}

	const dp_conn_info &i = conns[idle->lport];
	EXPECT_STREQ(i.state, "idle");
	EXPECT_STREQ(i.tcp_state, "ESTABLISHED");
	EXPECT_EQ(i.req_age_ms, DP_CONN_NONE) << "an idle session holds no request";
	EXPECT_STREQ(i.method, "");
	EXPECT_EQ(i.up_port, 0);
	EXPECT_EQ(i.up_tcp_state, nullptr);
	EXPECT_STREQ(i.service, "");

	const dp_conn_info &h = conns[head->lport];
	EXPECT_STREQ(h.state, "head");
	EXPECT_STREQ(h.method, "") << "no method before the head is parsed";
	EXPECT_NE(h.req_age_ms, DP_CONN_NONE);

	const dp_conn_info &b = conns[body->lport];
	EXPECT_STREQ(b.state, "body");
	EXPECT_STREQ(b.method, "POST");

	const dp_conn_info &c = conns[closing->lport];
	EXPECT_STREQ(c.state, "closing");
	EXPECT_STREQ(c.tcp_state, "FIN_WAIT_2") << "sluice's FIN acknowledged, lingering";

	const dp_conn_info &p = conns[wait->lport];
	EXPECT_STREQ(p.state, "wait-response");
	EXPECT_STREQ(p.method, "OTHER") << "an extension method's name is in the log record only";
	EXPECT_STREQ(p.target, "") << "the access log is off: the head is not kept";
	EXPECT_NE(p.req_age_ms, DP_CONN_NONE); // the TSC's time, not the harness's clock
	EXPECT_GE(p.idle_ms, 7u) << "the TCP clock is the harness's: 7 ms without a segment";
	EXPECT_GT(p.req_in, 0u) << "the head was taken from the client";
	EXPECT_EQ(p.req_out, 0u);
	EXPECT_EQ(p.status, 0) << "no response yet";
	EXPECT_STREQ(p.service, "app");
	EXPECT_STREQ(p.endpoint, "a");
	EXPECT_EQ(ip(p.ep_addr), "198.18.0.21");
	EXPECT_EQ(p.ep_port, BACKEND_PORT);
	EXPECT_EQ(p.up_port, be->conn(0)->rport) << "the port the backend sees";
	EXPECT_STREQ(p.up_tcp_state, "ESTABLISHED");

	// max bounds the entries; the cursor stops right after the last one filled
	std::vector<dp_conn_info> one(1);
	uint32_t cursor = 0;
	EXPECT_EQ(px_conns_fill(w, &cursor, one.data(), 1), 1u);
	EXPECT_FALSE(px_conns_done(w, cursor));
	EXPECT_EQ(conns.count(one[0].client_port), 1u);

	// the response arrives: the same session, now idle again
	be->conn(0)->send("HTTP/1.1 207 Multi-Status\r\nContent-Length: 2\r\n\r\nok");
	ASSERT_EQ(wait->response().status, 207);
	conns = fill();
	EXPECT_STREQ(conns[wait->lport].state, "idle");
	EXPECT_EQ(conns[wait->lport].up_port, 0);
	closing->close();
	head->close();
	body->close();
	pump();
	EXPECT_EQ(fill().size(), 2u);
}

} // namespace
} // namespace pxt
