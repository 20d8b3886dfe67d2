// SPDX-License-Identifier: BSD-3-Clause
// Header spans owned by each request (px_req.hdrs) and the listener's max_headers, per
// request; the state machines' entry counters (http_state). px_harness.h.
#include <string>
#include <vector>

#include "px_harness.h"

extern "C" {
#include "dp_run.h"
#include "dp_worker.h"
}

namespace pxt
{
namespace
{

const std::string GET_ONE = "GET /one HTTP/1.1\r\nHost: x\r\n\r\n";

class PxSessionSpans : public PxTest
{
      public:
	uint64_t st(enum px_state_counter i) const
	{
		return w->px.st[i];
	}
};

// Send a and b to their connections step bytes at a time, alternating, so that every head is
// parsed in pieces with the other session's parse in between.
void interleave(PeerConn *ca, const std::string &a, PeerConn *cb, const std::string &b,
		size_t step = 1)
{
	for (size_t i = 0; i < a.size() || i < b.size(); i += step) {
		if (i < a.size())
			ca->send(a.substr(i, step));
		if (i < b.size())
			cb->send(b.substr(i, step));
	}
}

// With one span array per worker, B's header lines would land on A's spans (or A's head be
// parsed again): each request and response must come out with its own fields, its own
// Connection-named fields dropped and the other's kept.
TEST_F(PxSessionSpans, TwoSessionsInterleavingHeadsByteByByteParseCorrectly)
{
	start();
	Backend *be = backend();
	PeerConn *ca = client(), *cb = client();
	interleave(
		ca,
		"GET /one HTTP/1.1\r\nHost: a.example\r\nX-Who: alpha\r\n"
		"Connection: X-Drop-A\r\nX-Drop-A: 1\r\nX-Drop-B: kept\r\n\r\n",
		cb,
		"GET /two/longer HTTP/1.1\r\nHost: b.example\r\nUser-Agent: ub\r\nX-Who: beta\r\n"
		"X-Drop-A: kept\r\nConnection: X-Drop-B\r\nX-Drop-B: 1\r\nX-Last: z\r\n\r\n");
	ASSERT_EQ(be->n_conns(), 2u) << counters();
	Msg r0 = be->conn(0)->request(), r1 = be->conn(1)->request();
	ASSERT_TRUE(r0.ok && r1.ok);
	bool a_first = r0.header("X-Who") == "alpha";
	const Msg &ra = a_first ? r0 : r1, &rb = a_first ? r1 : r0;
	PeerConn *ba = be->conn(a_first ? 0 : 1), *bb = be->conn(a_first ? 1 : 0);

	EXPECT_EQ(ra.start, "GET /one HTTP/1.1");
	EXPECT_EQ(ra.header("Host"), "a.example");
	EXPECT_EQ(ra.header("X-Who"), "alpha");
	EXPECT_FALSE(ra.has("X-Drop-A")) << ra.raw;
	EXPECT_EQ(ra.header("X-Drop-B"), "kept") << ra.raw;
	EXPECT_FALSE(ra.has("User-Agent"));
	EXPECT_EQ(rb.start, "GET /two/longer HTTP/1.1");
	EXPECT_EQ(rb.header("Host"), "b.example");
	EXPECT_EQ(rb.header("X-Who"), "beta");
	EXPECT_EQ(rb.header("User-Agent"), "ub");
	EXPECT_EQ(rb.header("X-Drop-A"), "kept") << rb.raw;
	EXPECT_FALSE(rb.has("X-Drop-B")) << rb.raw;
	EXPECT_EQ(rb.header("X-Last"), "z");

	// the responses' heads, interleaved two bytes at a time (an upstream connection's head
	// parse looks at 64 segments at most and, unlike a session, does not coalesce them)
	interleave(ba,
		   "HTTP/1.1 200 OK\r\nX-Up: one\r\nConnection: X-Hop\r\nX-Hop: 1\r\n"
		   "Content-Length: 1\r\n\r\na",
		   bb,
		   "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-Hop: kept\r\nX-Up: two\r\n"
		   "X-More: m\r\n\r\nbb",
		   2);
	Msg pa = ca->response(), pb = cb->response();
	EXPECT_EQ(pa.status, 200);
	EXPECT_EQ(pa.header("X-Up"), "one");
	EXPECT_FALSE(pa.has("X-Hop")) << pa.raw;
	EXPECT_FALSE(pa.has("X-More"));
	EXPECT_EQ(pa.body, "a");
	EXPECT_EQ(pb.status, 201);
	EXPECT_EQ(pb.header("X-Up"), "two");
	EXPECT_EQ(pb.header("X-Hop"), "kept") << pb.raw;
	EXPECT_EQ(pb.header("X-More"), "m");
	EXPECT_EQ(pb.body, "bb");
	EXPECT_EQ(cnt(PX_CNT_proxied_requests), 2u);
	EXPECT_EQ(mem().reqs_used, 0u) << "both requests gave their px_req back";
}

std::string head_with(const std::string &target, unsigned int lines)
{
	std::string h = "GET " + target + " HTTP/1.1\r\nHost: x\r\n";

	for (unsigned int i = 1; i < lines; i++)
		h += "X-H" + std::to_string(i) + ": v\r\n";
	return h + "\r\n";
}

// The listener's max_headers bounds every request on its own: max lines pass, max + 1 is 431
// on the same connection.
TEST_F(PxSessionSpans, ListenersMaxHeadersIsEnforcedPerRequest)
{
	Conf conf;
	conf.max_headers = 5;
	start(conf);
	PeerConn *c = client();
	c->send(head_with("/direct", 5));
	EXPECT_EQ(c->response().status, 200);
	c->send(head_with("/direct", 5));
	EXPECT_EQ(c->response().status, 200);
	c->send(head_with("/direct", 6));
	Msg r = c->response();
	EXPECT_EQ(r.status, 431);
	EXPECT_EQ(r.header("Connection"), "close");
	EXPECT_EQ(err("TOO_MANY_HEADERS"), 1u) << counters();
	EXPECT_TRUE(c->peer_fin);
}

// Above the parser's default (100): each px_req's spans were sized for the largest
// max_headers at start, so 150 field lines all reach the backend; 151 are refused.
TEST_F(PxSessionSpans, SpansAreSizedForTheLargestMaxHeadersAtStart)
{
	Conf conf;
	conf.max_headers = 150;
	start(conf);
	EXPECT_EQ(w->px.n_hdrs, 150u);
	// show pools counts the spans in a request's size (sizeof(struct px_req) is under 512)
	EXPECT_GE(mem().req_bytes, 150 * sizeof(struct http_header));
	EXPECT_LT(mem().req_bytes, 150 * sizeof(struct http_header) + 512);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(head_with("/p", 150));
	ASSERT_EQ(be->n_conns(), 1u) << counters();
	PeerConn *bc = be->conn(0);
	Msg rq = bc->request();
	EXPECT_TRUE(rq.has("X-H1"));
	EXPECT_EQ(rq.header("X-H149"), "v");
	EXPECT_EQ(rq.count("Host"), 1);
	bc->send("HTTP/1.1 204 No Content\r\n\r\n");
	EXPECT_EQ(c->response().status, 204);

	c->send(head_with("/p", 151));
	EXPECT_EQ(c->response().status, 431);
	EXPECT_EQ(err("TOO_MANY_HEADERS"), 1u);
	EXPECT_EQ(be->conn(0)->pending(), "") << "the refused head went nowhere";
}

// The default configuration still gets spans for a response head (100).
TEST_F(PxSessionSpans, SmallMaxHeadersStillLeavesRoomForAResponseHead)
{
	Conf conf;
	conf.max_headers = 2;
	start(conf);
	EXPECT_EQ(w->px.n_hdrs, 100u);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(head_with("/p", 2));
	ASSERT_EQ(be->n_conns(), 1u);
	std::string resp = "HTTP/1.1 200 OK\r\n";
	for (int i = 0; i < 98; i++)
		resp += "X-R" + std::to_string(i) + ": r\r\n";
	be->conn(0)->request();
	be->conn(0)->send(resp + "Content-Length: 0\r\n\r\n");
	Msg r = c->response();
	EXPECT_EQ(r.status, 200);
	EXPECT_EQ(r.header("X-R97"), "r");
}

// A reload may lower max_headers (never raise it above the start's: cfg_diff_live); the next
// request is held to the new bound.
TEST_F(PxSessionSpans, ReloadLoweringMaxHeadersAppliesToTheNextRequest)
{
	Conf conf;
	conf.max_headers = 10;
	start(conf);
	PeerConn *c = client();
	c->send(head_with("/direct", 4));
	EXPECT_EQ(c->response().status, 200);
	conf.max_headers = 3;
	reload(conf);
	advance_ms(1);
	c->send(head_with("/direct", 4));
	EXPECT_EQ(c->response().status, 431);
	EXPECT_EQ(w->px.n_hdrs, 100u) << "the spans stay as sized at start";
}

// Every state entered is counted once per entry, in the http_state counter group.
TEST_F(PxSessionSpans, StateEntriesAreCounted)
{
	const struct dp_counter_group *g = dp_counter_group_find("http_state");
	ASSERT_NE(g, nullptr);
	ASSERT_EQ(g->count, (unsigned int)PX_ST_MAX);
	EXPECT_STREQ(g->names[PX_ST_head], "head");
	EXPECT_STREQ(g->names[PX_ST_wait_resp], "wait_resp");
	EXPECT_STREQ(g->names[PX_ST_up_idle], "up_idle");

	start();
	Backend *be = backend();
	PeerConn *c = client();
	EXPECT_EQ(st(PX_ST_head), 1u) << "accepted: waiting for a head";
	c->send(GET_ONE);
	ASSERT_EQ(be->n_conns(), 1u);
	EXPECT_EQ(st(PX_ST_wait_resp), 1u);
	EXPECT_EQ(st(PX_ST_up_connecting), 1u);
	EXPECT_EQ(st(PX_ST_up_busy), 1u);
	PeerConn *bc = be->conn(0);
	bc->request();
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(st(PX_ST_up_idle), 1u) << "back to its pool";
	EXPECT_EQ(st(PX_ST_wait_resp), 2u) << "request sent, then response done";
	EXPECT_EQ(st(PX_ST_head), 2u) << "the next request";
	EXPECT_EQ(st(PX_ST_fwd_body), 0u);

	c->send("POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n");
	EXPECT_EQ(st(PX_ST_body), 1u);
	c->send("abc");
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(st(PX_ST_respond), 1u);
	EXPECT_EQ(st(PX_ST_head), 3u);

	c->send(GET_ONE); // the pooled connection serves it
	EXPECT_EQ(st(PX_ST_up_busy), 2u);
	EXPECT_EQ(st(PX_ST_up_connecting), 1u);
	bc->request();
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(dp_counter_get(w, g, PX_ST_up_idle), 2u);
	EXPECT_EQ(st(PX_ST_done), 0u);
	EXPECT_EQ(st(PX_ST_tunnel), 0u);
}

} // namespace
} // namespace pxt
