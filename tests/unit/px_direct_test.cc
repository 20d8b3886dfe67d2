// SPDX-License-Identifier: BSD-3-Clause
// HTTP sessions answered by sluice itself: direct responses, keep-alive, pipelining,
// 100-continue, HEAD, errors and the request pool (px_harness.h).
#include <time.h>

#include <string>
#include <vector>

#include "px_harness.h"

namespace pxt
{
namespace
{

class PxSessionDirect : public PxTest
{
};

const std::string GET_DIRECT = "GET /direct HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(PxSessionDirect, AnswersAndKeepsTheConnectionAlive)
{
	start();
	PeerConn *c = client();
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(mem().sessions_used, 1u);
	EXPECT_EQ(mem().reqs_used, 0u) << "an idle connection holds no px_req";

	c->send(GET_DIRECT);
	Msg r = c->response();
	EXPECT_EQ(r.start, "HTTP/1.1 200 OK");
	EXPECT_EQ(r.header("Server"), "sluice");
	EXPECT_TRUE(r.has("Date"));
	EXPECT_EQ(r.header("Content-Type"), "text/plain");
	EXPECT_EQ(r.body, "hello\n");
	EXPECT_FALSE(r.has("Connection"));
	EXPECT_FALSE(c->peer_fin);
	EXPECT_EQ(mem().reqs_used, 0u) << "the px_req goes back once the response is out";

	c->send(GET_DIRECT); // the same connection serves the next one
	EXPECT_EQ(c->response().body, "hello\n");
	EXPECT_EQ(cnt(PX_CNT_requests), 2u);
	EXPECT_EQ(cnt(PX_CNT_responses_2xx), 2u);
	EXPECT_EQ(cnt(PX_CNT_conns_accepted), 1u);

	c->shutdown(); // the client is done: sluice closes too
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(mem().sessions_used, 0u);
}

TEST_F(PxSessionDirect, ConnectionCloseEndsTheConnectionAfterTheResponse)
{
	start();
	PeerConn *c = client();
	c->send("GET /direct HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	Msg r = c->response();
	EXPECT_EQ(r.status, 200);
	EXPECT_EQ(r.header("Connection"), "close");
	EXPECT_TRUE(c->peer_fin);
}

TEST_F(PxSessionDirect, Http10WithoutKeepAliveIsClosed)
{
	start();
	PeerConn *c = client();
	c->send("GET /direct HTTP/1.0\r\n\r\n");
	EXPECT_EQ(c->response().status, 200);
	EXPECT_TRUE(c->peer_fin);
}

TEST_F(PxSessionDirect, HeadGetsTheHeadOnly)
{
	start();
	PeerConn *c = client();
	c->send("HEAD /direct HTTP/1.1\r\nHost: x\r\n\r\n");
	Msg r = c->response(true, true);
	EXPECT_EQ(r.status, 200);
	EXPECT_EQ(r.header("Content-Length"), "6");
	EXPECT_EQ(c->pending(), "") << "no body after a HEAD response";
}

TEST_F(PxSessionDirect, GeneratedBodyFlowsUnderBackpressure)
{
	Conf conf;
	conf.routes.insert(conf.routes.begin(),
			   "{ match: { path_prefix: \"/big\" }, respond: { bytes: 300000 } }");
	start(conf);
	PeerConn *c = client();
	c->hold = true; // a slow reader: its window closes
	c->send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
	size_t first = c->rx.size();
	EXPECT_LT(first, 300000u) << "sluice sent more than the client's window";
	EXPECT_EQ(mem().reqs_used, 1u) << "the response is still in progress";
	for (int i = 0; i < 200 && c->rx.find("\r\n\r\n") != std::string::npos &&
			c->rx.size() < c->rx.find("\r\n\r\n") + 4 + 300000;
	     i++) {
		c->release();
		c->hold = true;
		advance_ms(1);
	}
	c->release();
	Msg r = c->response();
	EXPECT_EQ(r.status, 200);
	ASSERT_EQ(r.body.size(), 300000u);
	std::string want(300000, '\0');
	for (size_t i = 0; i < want.size(); i++)
		want[i] = (char)px_body_byte(i);
	EXPECT_TRUE(r.body == want) << "generated body differs from the pattern";
	EXPECT_EQ(cnt(PX_CNT_body_bytes_generated), 300000u);
	EXPECT_EQ(mem().reqs_used, 0u);
}

TEST_F(PxSessionDirect, PipelinedRequestsAreAnsweredInOrder)
{
	Conf conf;
	conf.routes.insert(
		conf.routes.begin(),
		"{ match: { path_prefix: \"/two\" }, respond: { status: 201, body: \"2\" } }");
	start(conf);
	PeerConn *c = client();
	c->send(GET_DIRECT + "GET /two HTTP/1.1\r\nHost: x\r\n\r\n" + GET_DIRECT);
	Msg a = c->response(), b = c->response(), e = c->response();
	EXPECT_EQ(a.status, 200);
	EXPECT_EQ(b.status, 201);
	EXPECT_EQ(b.body, "2");
	EXPECT_EQ(e.status, 200);
	EXPECT_EQ(c->pending(), "");
	EXPECT_EQ(cnt(PX_CNT_requests), 3u);
}

TEST_F(PxSessionDirect, PipelinedRequestAfterConnectionCloseIsNotServed)
{
	start();
	PeerConn *c = client();
	c->send("GET /direct HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + GET_DIRECT);
	EXPECT_EQ(c->response().status, 200);
	EXPECT_TRUE(c->peer_fin);
	EXPECT_EQ(c->pending(), "") << "nothing after the response that closes";
	EXPECT_EQ(cnt(PX_CNT_requests), 1u);
}

TEST_F(PxSessionDirect, ExpectContinueGets100ThenTheAnswer)
{
	start();
	PeerConn *c = client();
	c->send("POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
		"Expect: 100-continue\r\n\r\n");
	Msg cont = c->response();
	EXPECT_EQ(cont.start, "HTTP/1.1 100 Continue");
	EXPECT_EQ(c->pending(), "") << "no final answer before the body";
	c->send("hello");
	Msg r = c->response();
	EXPECT_EQ(r.status, 200);
	EXPECT_EQ(cnt(PX_CNT_body_bytes_discarded), 5u);
}

TEST_F(PxSessionDirect, NoRouteIs404)
{
	Conf conf;
	conf.routes = { "{ match: { host: \"only.example\" }, respond: { status: 200 } }" };
	start(conf);
	PeerConn *c = client();
	c->send("GET / HTTP/1.1\r\nHost: other.example\r\n\r\n");
	Msg r = c->response();
	EXPECT_EQ(r.status, 404);
	EXPECT_EQ(r.body, "404 Not Found\n");
	EXPECT_EQ(cnt(PX_CNT_no_route), 1u);
	EXPECT_FALSE(c->peer_fin) << "a 404 keeps the connection";
}

// Content-Length is written in place, digit count first (px_put_u64): every length of decimal
// number, with the Date line (copied as a whole buffer) right before it, as text would write it.
TEST_F(PxSessionDirect, ContentLengthOfEveryNumberOfDigits)
{
	std::vector<int64_t> lens = { 0, 1, 9, 10, 99, 100, 999, 1000, 65535, 65536, 1234567 };
	for (int64_t v = 10000000; v <= 1000000000000; v *= 10)
		lens.push_back(v - 1), lens.push_back(v);
	lens.push_back(1099511627776); // the largest respond.bytes the configuration takes
	Conf conf;
	conf.routes.clear();
	for (size_t i = 0; i < lens.size(); i++) {
		std::string match = "{ match: { path_prefix: \"/n" + std::to_string(i) + "/\" }, ";

		conf.routes.push_back(match + "respond: { bytes: " + std::to_string(lens[i]) +
				      " } }");
	}
	start(conf);
	PeerConn *c = client();
	for (size_t i = 0; i < lens.size(); i++) {
		c->send("HEAD /n" + std::to_string(i) + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
		Msg r = c->response(true, true);
		EXPECT_EQ(r.status, 200);
		EXPECT_EQ(r.header("Content-Length"), std::to_string(lens[i]));
		EXPECT_EQ(r.header("Date").size(), 29u) << r.raw;
		// Server, Date, Content-Type, Content-Length
		EXPECT_EQ(r.headers.size(), 4u) << r.raw;
	}
}

// route_match reads Host and the path in place when they lie in the head's first segment, and
// through http_span_ptr otherwise: the same route either way, wherever the head is cut.
TEST_F(PxSessionDirect, RoutesTheSameWhetherTheHeadCameWholeOrInPieces)
{
	Conf conf;
	conf.routes = {
		"{ match: { host: \"a.x\", path_prefix: \"/one/\" }, respond: { status: 201 } }",
		"{ match: { host: \"*.x\", path_prefix: \"/two\" }, respond: { status: 202 } }",
		"{ match: { path_prefix: \"/\" }, respond: { status: 203 } }",
	};
	start(conf);
	const std::vector<std::pair<std::string, int>> cases = {
		{ "GET /one/x HTTP/1.1\r\nHost: a.x\r\n\r\n", 201 },
		{ "GET /two HTTP/1.1\r\nHost: b.x\r\n\r\n", 202 },
		{ "GET /one/x HTTP/1.1\r\nHost: b.x\r\n\r\n", 203 },
		{ "GET /tw HTTP/1.1\r\nHost: a.x\r\n\r\n", 203 },
		{ "GET /two HTTP/1.1\r\nHost: x\r\n\r\n", 203 },
	};
	PeerConn *c = client();
	for (const auto &[req, status] : cases) {
		for (size_t cut = 0; cut < req.size(); cut++) {
			if (cut == 0) {
				c->send(req);
			} else {
				c->send(req.substr(0, cut));
				c->send(req.substr(cut));
			}
			EXPECT_EQ(c->response().status, status) << req << " cut at " << cut;
		}
	}
}

// ---- requests refused by the parser: the status, the counter, and a close ----

struct Refusal {
	const char *name;
	std::string request;
	int status;
	const char *err; // px_error_names without "refused_"
};

void PrintTo(const Refusal &p, std::ostream *os)
{
	*os << p.name;
}

class PxSessionRefusals : public PxTest, public ::testing::WithParamInterface<Refusal>
{
};

TEST_P(PxSessionRefusals, AnswersTheStatusAndCloses)
{
	const Refusal &p = GetParam();
	Conf conf;
	conf.max_body_bytes = 10;
	conf.max_header_bytes = 1024;
	start(conf);
	PeerConn *c = client();
	c->send(p.request);
	Msg r = c->response();
	EXPECT_EQ(r.status, p.status) << r.raw;
	EXPECT_EQ(r.header("Connection"), "close");
	EXPECT_TRUE(c->peer_fin) << "the connection is closed after the refusal";
	EXPECT_EQ(err(p.err), 1u) << counters();
}

INSTANTIATE_TEST_SUITE_P(
	Table, PxSessionRefusals,
	::testing::Values(Refusal{ "ContentLengthAndChunked",
				   "POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
				   400, "CL_AND_TE" },
			  Refusal{ "MissingHost", "GET /direct HTTP/1.1\r\n\r\n", 400,
				   "HOST_MISSING" },
			  Refusal{ "BareLf", "GET /direct HTTP/1.1\nHost: x\n\n", 400, "BARE_LF" },
			  Refusal{ "BodyTooLarge",
				   "POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"
				   "01234567890",
				   413, "BODY_TOO_LARGE" },
			  Refusal{ "HeadTooLarge",
				   "GET /direct HTTP/1.1\r\nHost: x\r\nX-Big: " +
					   std::string(1100, 'b') + "\r\n\r\n",
				   431, "HEADERS_TOO_LARGE" },
			  Refusal{ "Connect", "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", 501,
				   "CONNECT" },
			  Refusal{ "Http2Version", "GET /direct HTTP/2.0\r\nHost: x\r\n\r\n", 505,
				   "VERSION_UNSUPPORTED" }),
	[](const ::testing::TestParamInfo<Refusal> &i) { return std::string(i.param.name); });

} // namespace
} // namespace pxt

// The Date line without libc's time functions (gmtime_r takes glibc's lock on the worker):
// the same text as strftime's IMF-fixdate for leap days, century years, both ends of a day,
// and a day every 97 over 1970..9999.
TEST(PxSessionDate, SameAsStrftime)
{
	std::vector<int64_t> secs = { 0,	  59,	      86399,	   86400,
				      951782399,  951782400,  951868800,   4107542399,
				      4107542400, 1796310906, 253402300799 };
	for (int64_t t = 0; t < 253402300799; t += 97 * 86400 + 3671)
		secs.push_back(t);
	for (int64_t t : secs) {
		char want[64], got[64];
		time_t tt = (time_t)t;
		struct tm tm;

		gmtime_r(&tt, &tm);
		size_t n = strftime(want, sizeof(want), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		size_t m = px_http_date(got, t);
		ASSERT_EQ(std::string(got, m), std::string(want, n)) << "t=" << t;
	}
}
