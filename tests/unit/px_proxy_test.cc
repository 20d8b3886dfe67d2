// SPDX-License-Identifier: BSD-3-Clause
// The reverse proxy: requests forwarded to a backend and responses back, pooled upstream
// connections and their races, upstreams and clients that go away mid-message, errors
// (px_harness.h).
#include "px_harness.h"

namespace pxt
{
namespace
{

const std::string GET = "GET /a HTTP/1.1\r\nHost: app.example\r\n\r\n";
const std::string OK2 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

class ProxyForward : public PxTest
{
};

TEST_F(ProxyForward, RequestGetsForwardingHeadersAndLosesHopByHopOnes)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send("GET /a?b=1 HTTP/1.1\r\nHost: app.example\r\nConnection: keep-alive, X-Drop\r\n"
		"X-Drop: 1\r\nKeep-Alive: timeout=5\r\nX-Forwarded-For: 203.0.113.7\r\n"
		"User-Agent: t\r\n\r\n");
	ASSERT_EQ(be->n_conns(), 1u);
	PeerConn *bc = be->conn(0);
	Msg rq = bc->request();
	EXPECT_EQ(rq.start, "GET /a?b=1 HTTP/1.1");
	EXPECT_EQ(rq.header("Host"), "app.example");
	EXPECT_EQ(rq.header("X-Forwarded-For"), "203.0.113.7, 198.18.0.2");
	EXPECT_EQ(rq.header("X-Forwarded-Proto"), "http");
	EXPECT_EQ(rq.header("Via"), "1.1 sluice");
	EXPECT_EQ(rq.header("User-Agent"), "t");
	EXPECT_FALSE(rq.has("Connection"));
	EXPECT_FALSE(rq.has("Keep-Alive"));
	EXPECT_FALSE(rq.has("X-Drop")) << "named by Connection: hop-by-hop";

	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nX-Up: "
		 "1\r\n\r\nhi");
	Msg r = c->response();
	EXPECT_EQ(r.start, "HTTP/1.1 200 OK");
	EXPECT_EQ(r.body, "hi");
	EXPECT_EQ(r.header("X-Up"), "1");
	EXPECT_EQ(r.header("Via"), "1.1 sluice");
	EXPECT_FALSE(r.has("Connection"));
	EXPECT_FALSE(c->peer_fin);
	EXPECT_EQ(cnt(PX_CNT_proxied_requests), 1u);
	EXPECT_EQ(cnt(PX_CNT_upstream_connects), 1u);
	EXPECT_EQ(mem().reqs_used, 0u);
}

// The heads go on in runs of the received bytes where a line is already what sluice would write
// (px_proxy.c): every other form is rewritten field by field, so the bytes on the wire are the
// same either way. Both kinds in one head, byte for byte.
TEST_F(ProxyForward, HeadsAreRewrittenByteForByteWhateverTheirSpacing)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send("GET /r HTTP/1.1\r\nHost: app.example\r\nA: 1\r\nB:2\r\nC:  3  \r\nD: \r\n"
		"Content-Length: 02\r\nX-Forwarded-For:203.0.113.7\r\nE: 5\r\nTE: x\r\n"
		"F: 6\r\n\r\nok");
	ASSERT_EQ(be->n_conns(), 1u);
	PeerConn *bc = be->conn(0);
	Msg rq = bc->request();
	EXPECT_EQ(rq.raw, "GET /r HTTP/1.1\r\nHost: app.example\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: \r\n"
			  "Content-Length: 2\r\nX-Forwarded-For: 203.0.113.7, 198.18.0.2\r\n"
			  "E: 5\r\nF: 6\r\nX-Forwarded-Proto: http\r\nVia: 1.1 sluice\r\n\r\nok");

	bc->send("HTTP/1.1 200 OK\r\nG: 7\r\nContent-Length:  2\r\nConnection: keep-alive\r\n"
		 "H:8\r\nContent-Length: 2\r\n\r\nhi");
	Msg r = c->response();
	EXPECT_EQ(r.raw, "HTTP/1.1 200 OK\r\nG: 7\r\nContent-Length: 2\r\nH: 8\r\n"
			 "Via: 1.1 sluice\r\n\r\nhi");

	c->send("GET /s HTTP/1.1\r\nHost: app.example\r\n\r\n");
	rq = bc->request();
	EXPECT_EQ(rq.raw, "GET /s HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-For: 198.18.0.2\r\n"
			  "X-Forwarded-Proto: http\r\nVia: 1.1 sluice\r\n\r\n");
	bc->send("HTTP/1.0 204 \r\nI: 9\r\nConnection: keep-alive\r\n\r\n");
	r = c->response();
	EXPECT_EQ(r.raw, "HTTP/1.1 204 \r\nI: 9\r\nVia: 1.1 sluice\r\n\r\n");
}

// The head builders drop and rewrite fields by the kind the parser recorded for each (struct
// http_name.kind), not by comparing names again: every hop-by-hop field (names in any case) is
// dropped, a field Connection names too, X-Forwarded-For appended to, X-Forwarded-Proto
// replaced, a second Content-Length dropped, whether a line was parsed by the parser's fast
// path (the head in one piece), by its careful path (the request byte by byte) or either (cut
// in two at every byte: the line cut goes to the careful path): the same bytes go on each time.
TEST_F(ProxyForward, HopByHopAndRewrittenFieldsByKindWhicheverPathParsedThem)
{
	const std::string req =
		"GET /r HTTP/1.1\r\nHost: app.example\r\ncOnNeCtIoN: keep-alive, X-Drop\r\n"
		"User-Agent: t\r\nX-Drop: 1\r\nKEEP-ALIVE: timeout=5\r\n"
		"Proxy-Connection: keep-alive\r\nte: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\n"
		"Content-Length: 2\r\nx-forwarded-proto: https\r\nX-Forwarded-For: 203.0.113.7\r\n"
		"Content-Length: 2\r\nX-Keep: 1\r\nConnection: X-Gone\r\nX-Gone: 2\r\n\r\nok";
	const std::string want_req =
		"GET /r HTTP/1.1\r\nHost: app.example\r\nUser-Agent: t\r\nContent-Length: 2\r\n"
		"X-Forwarded-For: 203.0.113.7, 198.18.0.2\r\nX-Keep: 1\r\n"
		"X-Forwarded-Proto: http\r\nVia: 1.1 sluice\r\n\r\nok";
	const std::string resp =
		"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nContent-Length: "
		"2\r\n"
		"Keep-Alive: timeout=5\r\nPROXY-CONNECTION: keep-alive\r\nTe: x\r\n"
		"trailer: X-T\r\nUpgrade: h2c\r\nX-Forwarded-For: 1.2.3.4\r\nContent-Length: 2\r\n"
		"X-Up: 1\r\n\r\nhi";
	const std::string want_resp =
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		"X-Forwarded-For: 1.2.3.4\r\nX-Up: 1\r\nVia: 1.1 sluice\r\n\r\nhi";
	// how: 0 whole, 1 byte by byte, 1 + k cut at byte k (k >= 1: no empty send)
	auto deliver = [](PeerConn *to, const std::string &bytes, size_t how) {
		if (how == 0) {
			to->send(bytes);
		} else if (how == 1) {
			for (char b : bytes)
				to->send(std::string(1, b));
		} else {
			to->send(bytes.substr(0, how - 1));
			to->send(bytes.substr(how - 1));
		}
	};

	start();
	Backend *be = backend();
	PeerConn *c = client();
	size_t head = req.size() - 2, rhead = resp.size() - 2, n = 0;
	for (size_t how = 0; how < 1 + (head > rhead ? head : rhead); how++) {
		deliver(c, req, how < 1 + head ? how : 0);
		ASSERT_EQ(be->n_conns(), 1u);
		PeerConn *bc = be->conn(0);
		EXPECT_EQ(bc->request().raw, want_req) << "request, how " << how;
		deliver(bc, resp, how < 1 + rhead ? how : 0);
		Msg r = c->response();
		EXPECT_EQ(r.raw, want_resp) << "response, how " << how;
		n++;
		if (HasFailure())
			return;
	}
	EXPECT_EQ(cnt(PX_CNT_proxied_requests), n);
}

// A backend that writes its response head a byte at a time (more segments than the head parser
// maps at once, PX_IOV_MAX): the proxy copies its receive queue into fewer buffers, as it does
// for a client's, and the response goes through whole instead of waiting for response_ms.
TEST_F(ProxyForward, ResponseHeadInOneByteSegmentsIsForwarded)
{
	const std::string resp =
		"HTTP/1.1 200 OK\r\nServer: trickle/1.0\r\n"
		"Date: Fri, 04 Dec 2026 20:30:00 GMT\r\nContent-Type: text/plain\r\n"
		"X-Padding: 0123456789012345678901234567890123456789\r\n"
		"Content-Length: 2\r\n\r\nhi";

	start();
	Backend *be = backend();
	PeerConn *c = client();
	for (int i = 0; i < 2; i++) {
		c->send("GET /t HTTP/1.1\r\nHost: app.example\r\n\r\n");
		ASSERT_EQ(be->n_conns(), 1u);
		PeerConn *bc = be->conn(0);
		EXPECT_EQ(bc->request().start, "GET /t HTTP/1.1");
		for (char b : resp)
			bc->send(std::string(1, b));
		Msg r = c->response();
		EXPECT_EQ(r.status, 200) << "request " << i;
		EXPECT_EQ(r.header("X-Padding"), "0123456789012345678901234567890123456789");
		EXPECT_EQ(r.body, "hi");
	}
	EXPECT_EQ(cnt(PX_CNT_proxied_requests), 2u);
	EXPECT_GE(cnt(PX_CNT_rx_coalesced), 2u);
}

// px_chain_coalesce copies every byte, the ranges that lie inside one segment too (which
// rte_pktmbuf_read returns in place instead of copying): 17 segments of 1,000 bytes into
// buffers of 2,048, whose last range (616 bytes) lies in the last segment.
extern "C" int px_chain_coalesce(struct rte_mempool *pool, struct rte_mbuf **chain); // px_impl.h

TEST_F(ProxyForward, CoalescedQueueHoldsEveryByte)
{
	start();
	struct rte_mbuf *chain = nullptr;
	std::string want;
	for (int i = 0; i < 17; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		ASSERT_NE(m, nullptr);
		char *p = rte_pktmbuf_append(m, 1000);
		for (int k = 0; k < 1000; k++)
			p[k] = (char)('a' + (i * 7 + k) % 26);
		want.append(p, 1000);
		if (chain == nullptr)
			chain = m;
		else
			ASSERT_EQ(rte_pktmbuf_chain(chain, m), 0);
	}
	ASSERT_EQ(px_chain_coalesce(pool, &chain), 1);
	ASSERT_NE(chain, nullptr);
	EXPECT_LT(chain->nb_segs, 17);
	ASSERT_EQ(rte_pktmbuf_pkt_len(chain), want.size());
	std::string got(want.size(), '\0');
	const void *p = rte_pktmbuf_read(chain, 0, (uint32_t)want.size(), &got[0]);
	if (p != got.data())
		memcpy(&got[0], p, want.size());
	EXPECT_EQ(got, want);
	EXPECT_EQ(px_chain_coalesce(pool, &chain), 0) << "a short chain is left as it is";
	rte_pktmbuf_free(chain);
}

TEST_F(ProxyForward, HttpTenRequestWithoutHostGetsOne)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send("GET /a HTTP/1.0\r\n\r\n");
	Msg rq = be->conn(0)->request();
	EXPECT_EQ(rq.start, "GET /a HTTP/1.1");
	EXPECT_EQ(rq.header("Host"), "198.18.0.10");
	EXPECT_EQ(rq.header("Via"), "1.0 sluice");
	be->conn(0)->send(OK2);
	Msg r = c->response();
	EXPECT_EQ(r.status, 200);
	EXPECT_TRUE(c->peer_fin) << "an HTTP/1.0 client without keep-alive is closed";
}

TEST_F(ProxyForward, PooledConnectionServesTheNextRequest)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	for (int i = 0; i < 3; i++) {
		c->send(GET);
		ASSERT_EQ(be->n_conns(), 1u) << "request " << i;
		EXPECT_TRUE(be->conn(0)->request().ok);
		be->conn(0)->send(OK2);
		EXPECT_EQ(c->response().body, "hi");
		EXPECT_EQ(mem().upstreams_used, 1u) << "idle in the pool";
	}
	EXPECT_EQ(cnt(PX_CNT_upstream_connects), 1u);
	EXPECT_EQ(cnt(PX_CNT_upstream_reused), 2u);
	// a second client uses the same pooled connection too
	PeerConn *c2 = client();
	c2->send(GET);
	EXPECT_EQ(be->n_conns(), 1u);
	EXPECT_TRUE(be->conn(0)->request().ok);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c2->response().status, 200);
}

TEST_F(ProxyForward, TwoClientsAtOnceGetTwoUpstreamConnections)
{
	start();
	Backend *be = backend();
	PeerConn *c1 = client(), *c2 = client();
	c1->send(GET);
	c2->send(GET);
	ASSERT_EQ(be->n_conns(), 2u);
	EXPECT_TRUE(be->conn(1)->request().ok);
	be->conn(1)->send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2");
	EXPECT_TRUE(be->conn(0)->request().ok);
	be->conn(0)->send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1");
	EXPECT_EQ(c1->response().body, "1");
	EXPECT_EQ(c2->response().body, "2");
	EXPECT_EQ(mem().upstreams_used, 2u);
}

TEST_F(ProxyForward, RequestBodyAndChunkedResponseAreForwardedAsFramed)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234");
	c->send("56789");
	Msg rq = be->conn(0)->request();
	EXPECT_EQ(rq.method, "POST");
	EXPECT_EQ(rq.header("Content-Length"), "10");
	EXPECT_EQ(rq.body, "0123456789");
	be->conn(0)->send("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
	be->conn(0)->send("lo\r\n0\r\n\r\n");
	Msg r = c->response();
	EXPECT_EQ(r.status, 201);
	EXPECT_TRUE(r.chunked);
	EXPECT_EQ(r.body, "hello");
	EXPECT_EQ(mem().upstreams_used, 1u) << "complete on both sides: pooled";
}

TEST_F(ProxyForward, ChunkedRequestBodyIsForwardedAsFramed)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
	c->send("0\r\n\r\n");
	Msg rq = be->conn(0)->request();
	EXPECT_TRUE(rq.chunked);
	EXPECT_EQ(rq.body, "abc");
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
}

TEST_F(ProxyForward, ExpectContinueComesFromTheBackend)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send("PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
	PeerConn *bc = be->conn(0);
	ASSERT_NE(bc, nullptr);
	EXPECT_NE(bc->pending().find("Expect: 100-continue"), std::string::npos) << bc->pending();
	EXPECT_EQ(c->pending(), "") << "sluice does not answer 100 for the backend";
	bc->send("HTTP/1.1 100 Continue\r\n\r\n");
	EXPECT_EQ(c->response().start, "HTTP/1.1 100 Continue");
	c->send("data");
	Msg rq = bc->request();
	EXPECT_EQ(rq.body, "data");
	bc->send(OK2);
	Msg r = c->response();
	EXPECT_EQ(r.status, 200);
	EXPECT_EQ(cnt(PX_CNT_responses_1xx), 0u) << "an interim response is not a response";
}

TEST_F(ProxyForward, PipelinedRequestsGoUpstreamOneAtATime)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
	PeerConn *bc = be->conn(0);
	ASSERT_NE(bc, nullptr);
	EXPECT_EQ(bc->request().target, "/1");
	EXPECT_FALSE(bc->request(false).ok) << "the second waits for the first response";
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1");
	EXPECT_EQ(bc->request().target, "/2");
	EXPECT_EQ(be->n_conns(), 1u) << "the pooled connection serves the second";
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2");
	EXPECT_EQ(c->response().body, "1");
	EXPECT_EQ(c->response().body, "2");
}

TEST_F(ProxyForward, EarlyResponseBeforeTheBodyEndsIsNotPooled)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234");
	PeerConn *bc = be->conn(0);
	ASSERT_NE(bc, nullptr);
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	EXPECT_EQ(c->response().status, 200);
	c->send("56789"); // the body still goes upstream, then the connection is not reused
	EXPECT_EQ(bc->take().find("56789") != std::string::npos, true);
	EXPECT_EQ(cnt(PX_CNT_upstream_not_reused), 1u);
	EXPECT_TRUE(bc->peer_fin) << "closed by sluice instead of pooled";
	c->send(GET);
	EXPECT_EQ(be->n_conns(), 2u);
	be->conn(1)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
}

TEST_F(ProxyForward, ClientHalfCloseStillGetsTheResponse)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	c->shutdown();
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().body, "hi");
	EXPECT_TRUE(c->peer_fin);
}

// ---- the upstream ends the exchange early ----

struct UpstreamEnd {
	const char *name;
	std::function<void(PeerConn *)> backend; // after it read the request
	int status;		 // the client's answer, 0: the client is reset instead
	std::string partial;	 // bytes of the response the client got before the reset
	enum px_counter counter; // moves by one (PX_CNT_MAX: none in particular)
};

void PrintTo(const UpstreamEnd &p, std::ostream *os)
{
	*os << p.name;
}

class ProxyUpstreamEnds : public PxTest, public ::testing::WithParamInterface<UpstreamEnd>
{
};

TEST_P(ProxyUpstreamEnds, ClientIsToldOrReset)
{
	const UpstreamEnd &p = GetParam();
	Conf conf;
	conf.retries = "0"; // what one try's end does to the client (retries: px_retry_test.cc)
	start(conf);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	PeerConn *bc = be->conn(0);
	ASSERT_NE(bc, nullptr);
	EXPECT_TRUE(bc->request().ok);
	uint64_t before = p.counter == PX_CNT_MAX ? 0 : cnt(p.counter);
	p.backend(bc);
	advance_ms(1);
	if (p.status != 0) {
		Msg r = c->response();
		EXPECT_EQ(r.status, p.status) << r.raw;
		EXPECT_EQ(r.header("Connection"), "close");
		EXPECT_TRUE(c->peer_fin);
		EXPECT_FALSE(c->reset());
	} else {
		EXPECT_TRUE(c->reset()) << "a response cut short cuts the client short";
		EXPECT_EQ(c->pending().substr(c->pending().find("\r\n\r\n") + 4), p.partial);
	}
	if (p.counter != PX_CNT_MAX) {
		EXPECT_EQ(cnt(p.counter), before + 1) << counters();
	}
	EXPECT_EQ(mem().upstreams_used, 0u);
}

INSTANTIATE_TEST_SUITE_P(
	Table, ProxyUpstreamEnds,
	::testing::Values(
		UpstreamEnd{ "ResetBeforeTheHead", [](PeerConn *b) { b->abort(); }, 502, "",
			     PX_CNT_upstream_resets },
		UpstreamEnd{ "FinBeforeTheHead", [](PeerConn *b) { b->close(); }, 502, "",
			     PX_CNT_upstream_bad_responses },
		UpstreamEnd{ "FinMidHead",
			     [](PeerConn *b) {
				     b->send("HTTP/1.1 200 OK\r\nContent-Le");
				     b->close();
			     },
			     502, "", PX_CNT_upstream_bad_responses },
		UpstreamEnd{ "GarbageHead", [](PeerConn *b) { b->send("SMTP ready\r\n\r\n"); }, 502,
			     "", PX_CNT_upstream_bad_responses },
		UpstreamEnd{ "FinMidBody",
			     [](PeerConn *b) {
				     b->send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
				     b->close();
			     },
			     0, "12345", PX_CNT_MAX },
		UpstreamEnd{ "ResetMidBody",
			     [](PeerConn *b) {
				     b->send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
				     b->abort();
			     },
			     0, "12345", PX_CNT_upstream_resets },
		UpstreamEnd{ "FinMidChunk",
			     [](PeerConn *b) {
				     b->send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
					     "a\r\n12345");
				     b->close();
			     },
			     0, "a\r\n12345", PX_CNT_MAX }),
	[](const ::testing::TestParamInfo<UpstreamEnd> &i) { return std::string(i.param.name); });

TEST_F(ProxyForward, CloseDelimitedResponseEndsWithTheConnection)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send("HTTP/1.1 200 OK\r\n\r\nabc");
	be->conn(0)->send("def");
	EXPECT_FALSE(c->peer_fin);
	be->conn(0)->close();
	Msg r = c->response();
	EXPECT_EQ(r.header("Connection"), "close") << "the client learns the end from our close";
	EXPECT_EQ(r.body, "abcdef");
	EXPECT_TRUE(c->peer_fin);
	EXPECT_FALSE(c->reset());
}

TEST_F(ProxyForward, ClientResetMidResponseAbortsTheUpstream)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	PeerConn *bc = be->conn(0);
	ASSERT_NE(bc, nullptr);
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(3000, 'x'));
	EXPECT_NE(c->pending().find(std::string(3000, 'x')), std::string::npos);
	c->abort();
	EXPECT_TRUE(bc->reset()) << "an upstream carrying half a response is not pooled";
	EXPECT_EQ(cnt(PX_CNT_client_resets), 1u);
	EXPECT_EQ(mem().sessions_used, 0u);
	EXPECT_EQ(mem().upstreams_used, 0u);
}

TEST_F(ProxyForward, ClientResetWhileWaitingForTheHeadAbortsTheUpstream)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	PeerConn *bc = be->conn(0);
	ASSERT_NE(bc, nullptr);
	c->abort();
	EXPECT_TRUE(bc->reset());
	EXPECT_EQ(mem().upstreams_used, 0u);
}

// ---- pooled connections and the backend closing them ----

TEST_F(ProxyForward, BackendClosingAnIdlePooledConnectionTakesItOutOfThePool)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(mem().upstreams_used, 1u);
	be->conn(0)->close();
	EXPECT_EQ(mem().upstreams_used, 0u);
	c->send(GET);
	ASSERT_EQ(be->n_conns(), 2u) << "a new connection, not the closed one";
	be->conn(1)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(cnt(PX_CNT_upstream_reused), 0u);
}

TEST_F(ProxyForward, BytesOnAnIdlePooledConnectionDropIt)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	be->conn(0)->send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); // nobody asked
	EXPECT_TRUE(be->conn(0)->reset());
	EXPECT_EQ(mem().upstreams_used, 0u);
	EXPECT_EQ(cnt(PX_CNT_upstream_bad_responses), 1u);
}

TEST_F(ProxyForward, ResponseWithBytesBeyondItIsNotPooled)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send(OK2 + "HTTP/1.1 200 OK\r\n"); // one response and the start of another
	EXPECT_EQ(c->response().body, "hi");
	EXPECT_EQ(c->pending(), "");
	EXPECT_EQ(cnt(PX_CNT_upstream_not_reused), 1u);
	EXPECT_EQ(mem().upstreams_used, 0u);
}

// The race of every keep-alive pool: the backend closes an idle connection while sluice
// sends a request on it. The FIN (and the RST the request draws) are still on the wire when
// the request leaves; the client must get an answer, not a hang.
TEST_F(ProxyForward, BackendFinRacingARequestOnAPooledConnection)
{
	start();
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);

	host(BACKEND_A)->hold = true; // what the backend sends is parked on the wire
	be->conn(0)->close();	      // its FIN is in flight
	c->send(GET);		      // sluice reuses the connection it believes idle
	EXPECT_EQ(cnt(PX_CNT_upstream_reused), 1u);
	EXPECT_EQ(be->n_conns(), 1u);
	release(BACKEND_A); // the FIN arrives, then the RST answering the request
	// retried once on a fresh connection (whatever retries.on lists: the race is not the
	// endpoint's failure), so the client never sees it
	ASSERT_EQ(be->n_conns(), 2u);
	EXPECT_TRUE(be->conn(1)->request().ok);
	be->conn(1)->send(OK2);
	Msg r = c->response();
	EXPECT_EQ(r.status, 200);
	EXPECT_FALSE(c->peer_fin);
	EXPECT_EQ(cnt(PX_CNT_retry_keepalive_race), 1u);
	EXPECT_EQ(cnt(PX_CNT_retries), 1u);
}

// ---- errors ----

TEST_F(ProxyForward, RefusedConnectionIs502)
{
	Conf conf;
	conf.retries = "0"; // one try (px_retry_test.cc retries it)
	start(conf);
	host(BACKEND_A); // up, but nothing listens: RST to the SYN
	PeerConn *c = client();
	c->send(GET);
	Msg r = c->response();
	EXPECT_EQ(r.status, 502);
	EXPECT_EQ(r.header("Connection"), "close");
	EXPECT_EQ(cnt(PX_CNT_upstream_connect_failures), 1u);
	EXPECT_EQ(cnt(PX_CNT_responses_5xx), 1u);
}

TEST_F(ProxyForward, NoUsableEndpointIs503)
{
	Conf conf;
	conf.endpoints = { "{ name: a, address: 198.18.0.21:8080, weight: 0 }" };
	start(conf);
	PeerConn *c = client();
	c->send(GET);
	Msg r = c->response();
	EXPECT_EQ(r.status, 503);
	EXPECT_EQ(cnt(PX_CNT_no_endpoint), 1u);
	EXPECT_FALSE(c->peer_fin) << "nothing was left unread: the connection stays";
	c->send(GET);
	EXPECT_EQ(c->response().status, 503);
}

TEST_F(ProxyForward, RoundRobinSpreadsOverTwoBackends)
{
	Conf conf;
	conf.endpoints = { "{ name: a, address: 198.18.0.21:8080 }",
			   "{ name: b, address: 198.18.0.22:8080 }" };
	start(conf);
	Backend *a = backend(BACKEND_A), *b = backend(BACKEND_B);
	PeerConn *c = client();
	for (int i = 0; i < 4; i++) {
		c->send(GET);
		PeerConn *bc = nullptr;
		for (Backend *x : { a, b })
			for (PeerConn *pc : x->conns)
				if (!pc->pending().empty())
					bc = pc;
		ASSERT_NE(bc, nullptr) << "request " << i << " reached no backend";
		EXPECT_TRUE(bc->request().ok);
		bc->send(OK2);
		EXPECT_EQ(c->response().status, 200);
	}
	EXPECT_EQ(a->n_conns(), 1u);
	EXPECT_EQ(b->n_conns(), 1u);
	EXPECT_EQ(cnt(PX_CNT_upstream_reused), 2u);
}

} // namespace
} // namespace pxt
