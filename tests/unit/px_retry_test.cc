// SPDX-License-Identifier: BSD-3-Clause
// Retries of the proxy layer (px_retry.c) and the passive outcomes each try records
// (px_try_end): connect failures on another endpoint, response conditions for idempotent
// requests only, the keep-alive race, 5xx decided at the head, the held body and its bound,
// retries.count, the retry budget, per_try_ms within response_ms. The retry settings go in
// through the YAML loader (services.app.retries). TearDown checks that every pool is empty
// again after each case.
#include "px_harness.h"

extern "C" {
#include "dp_health.h"
}

namespace pxt
{
namespace
{

constexpr uint64_t MARGIN = 10; // ms

const std::string GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string OK2 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
const std::string E503 = "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy";

struct Retries {
	uint32_t count = 2;
	uint32_t on = DP_RETRY_CONNECT_FAILURE | DP_RETRY_EMPTY_RESPONSE | DP_RETRY_RESET;
	uint32_t budget_percent = 20;
	uint64_t max_body_bytes = 65536;
	uint32_t per_try_ms = 0;
	std::vector<const char *> idempotent_methods;

	// services.app.retries as YAML
	std::string yaml() const
	{
		static const std::pair<uint32_t, const char *> names[] = {
			{ DP_RETRY_CONNECT_FAILURE, "connect-failure" },
			{ DP_RETRY_EMPTY_RESPONSE, "empty-response" },
			{ DP_RETRY_RESET, "reset" },
			{ DP_RETRY_RESPONSE_TIMEOUT, "response-timeout" },
			{ DP_RETRY_500, "\"500\"" },
			{ DP_RETRY_502, "\"502\"" },
			{ DP_RETRY_503, "\"503\"" },
			{ DP_RETRY_504, "\"504\"" },
		};
		std::string y = "{ count: " + std::to_string(count) + ", on: [";
		const char *sep = "";
		for (auto &n : names)
			if (on & n.first) {
				y += std::string(sep) + n.second;
				sep = ", ";
			}
		y += "], budget_percent: " + std::to_string(budget_percent) +
		     ", max_body_bytes: " + std::to_string(max_body_bytes) +
		     ", idempotent_methods: [";
		sep = "";
		for (auto *m : idempotent_methods) {
			y += std::string(sep) + m;
			sep = ", ";
		}
		return y + "] }";
	}
};

class PxRetry : public PxTest
{
      public:
	// Two endpoints, a (198.18.0.21) then b (198.18.0.22): round robin picks a first.
	void start_two(const Retries &r, Conf conf = Conf())
	{
		conf.endpoints = { "{ name: a, address: 198.18.0.21:8080 }",
				   "{ name: b, address: 198.18.0.22:8080 }" };
		start_with(r, conf);
	}
	void start_with(const Retries &r, Conf conf = Conf())
	{
		conf.retries = r.yaml();
		conf.per_try_ms = r.per_try_ms;
		start(conf);
	}
	const uint64_t *svc_cnt()
	{
		return px_service_counters(w, 0);
	}
	const uint64_t *ep_cnt(uint32_t e)
	{
		return px_endpoint_counters(w, 0, e);
	}
	const struct dp_ep_passive &pas(uint32_t e)
	{
		return dp_snapshot_ep(d.snapshot, 0, e)->obj->pw[0].pas;
	}
};

// ---- connect failures: any method, another endpoint ----

struct ConnectCase {
	const char *name;
	std::string request;
};

class PxRetryConnect : public PxRetry, public ::testing::WithParamInterface<ConnectCase>
{
};

TEST_P(PxRetryConnect, RefusedEndpointIsRetriedOnTheOther)
{
	start_two(Retries());
	host(BACKEND_A); // up, nothing listens: RST to the SYN
	Backend *b = backend(BACKEND_B);
	PeerConn *c = client();
	c->send(GetParam().request);
	ASSERT_EQ(b->n_conns(), 1u);
	Msg req = b->conn(0)->request();
	EXPECT_TRUE(req.ok);
	if (req.method == "POST") {
		EXPECT_EQ(req.body, "hello");
	}
	b->conn(0)->send(OK2);
	Msg r = c->response();
	EXPECT_EQ(r.status, 200);
	EXPECT_FALSE(c->peer_fin);
	EXPECT_EQ(cnt(PX_CNT_retries), 1u);
	EXPECT_EQ(cnt(PX_CNT_retry_redispatches), 1u);
	EXPECT_EQ(svc_cnt()[PX_OBJ_retry_warnings], 1u);
	EXPECT_EQ(svc_cnt()[PX_OBJ_redispatch_warnings], 1u);
	EXPECT_EQ(ep_cnt(0)[PX_OBJ_retry_warnings], 1u)
		<< "counted on the endpoint retried away from";
	EXPECT_EQ(ep_cnt(0)[PX_OBJ_redispatch_warnings], 1u);
	EXPECT_EQ(ep_cnt(1)[PX_OBJ_retry_warnings], 0u);
	EXPECT_EQ(pas(0).n[DP_OUT_connect_refused], 1u);
	EXPECT_EQ(pas(0).run_gw, 1u);
	EXPECT_EQ(pas(0).run_5xx, 1u);
	EXPECT_EQ(pas(0).last_fail, DP_OUT_connect_refused);
	EXPECT_NE(pas(0).last_fail_ms, 0u);
	EXPECT_EQ(pas(1).n[DP_OUT_ok], 1u);
	EXPECT_EQ(pas(1).run_gw, 0u);
}

INSTANTIATE_TEST_SUITE_P(
	Table, PxRetryConnect,
	::testing::Values(ConnectCase{ "Get", GET },
			  ConnectCase{ "Post", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: "
					       "5\r\n\r\nhello" }),
	[](const ::testing::TestParamInfo<ConnectCase> &i) { return std::string(i.param.name); });

// idempotent_methods extends the list, compared case-sensitively.
struct MethodCase {
	const char *name;
	std::string method;
	bool retried;
};

class PxRetryMethods : public PxRetry, public ::testing::WithParamInterface<MethodCase>
{
};

TEST_P(PxRetryMethods, IdempotentMethodsAreRetriedOnReset)
{
	const MethodCase &p = GetParam();
	Retries r;
	r.idempotent_methods = { "PATCH", "PURGE" };
	start_with(r);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(p.method + " /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab");
	ASSERT_EQ(be->n_conns(), 1u);
	EXPECT_TRUE(be->conn(0)->request().ok);
	be->conn(0)->abort();
	if (p.retried) {
		ASSERT_EQ(be->n_conns(), 2u);
		Msg again = be->conn(1)->request();
		EXPECT_EQ(again.method, p.method);
		EXPECT_EQ(again.body, "ab");
		be->conn(1)->send(OK2);
		EXPECT_EQ(c->response().status, 200);
	} else {
		EXPECT_EQ(c->response().status, 502);
		EXPECT_EQ(be->n_conns(), 1u);
	}
}

INSTANTIATE_TEST_SUITE_P(Table, PxRetryMethods,
			 ::testing::Values(MethodCase{ "Patch", "PATCH", true },
					   MethodCase{ "Purge", "PURGE", true },
					   MethodCase{ "LowerCasePurge", "purge", false },
					   MethodCase{ "Post", "POST", false }),
			 [](const ::testing::TestParamInfo<MethodCase> &i) {
				 return std::string(i.param.name);
			 });

// ---- a reset before the head: idempotent requests only ----

struct ResetCase {
	const char *name;
	std::string request;
	bool retried;
};

class PxRetryReset : public PxRetry, public ::testing::WithParamInterface<ResetCase>
{
};

TEST_P(PxRetryReset, ResetBeforeTheHead)
{
	const ResetCase &p = GetParam();
	start_with(Retries());
	Backend *be = backend();
	PeerConn *c = client();
	c->send(p.request);
	ASSERT_EQ(be->n_conns(), 1u);
	EXPECT_TRUE(be->conn(0)->request().ok);
	be->conn(0)->abort(); // RST once the request is in
	EXPECT_EQ(pas(0).n[DP_OUT_reset], 1u);
	if (p.retried) {
		ASSERT_EQ(be->n_conns(), 2u) << "retried, on the only endpoint there is";
		Msg again = be->conn(1)->request();
		EXPECT_TRUE(again.ok);
		EXPECT_EQ(again.method, std::string(p.request.substr(0, p.request.find(' '))));
		be->conn(1)->send(OK2);
		EXPECT_EQ(c->response().status, 200);
		EXPECT_EQ(cnt(PX_CNT_retries), 1u);
		EXPECT_EQ(cnt(PX_CNT_retry_redispatches), 0u) << "the same endpoint";
		EXPECT_EQ(pas(0).n[DP_OUT_ok], 1u);
		EXPECT_EQ(pas(0).run_gw, 0u) << "an ok ends the run";
	} else {
		EXPECT_EQ(be->n_conns(), 1u);
		Msg r = c->response();
		EXPECT_EQ(r.status, 502);
		EXPECT_EQ(cnt(PX_CNT_retries), 0u);
		EXPECT_EQ(pas(0).run_gw, 1u);
	}
}

INSTANTIATE_TEST_SUITE_P(
	Table, PxRetryReset,
	::testing::Values(
		ResetCase{ "Get", GET, true },
		ResetCase{ "Put", "PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
			   true },
		ResetCase{ "Post", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
			   false },
		ResetCase{ "Patch", "PATCH /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
			   false }),
	[](const ::testing::TestParamInfo<ResetCase> &i) { return std::string(i.param.name); });

// ---- the keep-alive race ----

struct RaceCase {
	const char *name;
	std::string request;
	uint32_t count;
	bool retried;
};

class PxRetryRace : public PxRetry, public ::testing::WithParamInterface<RaceCase>
{
};

// The backend closes its idle pooled connection as sluice reuses it: FIN, no response byte.
// With retries.on empty, an idempotent request is still tried once more on a fresh
// connection; a POST, already sent, is not (the backend may have acted on it); retries: 0
// turns it off too.
TEST_P(PxRetryRace, EmptyResponseOnAReusedConnection)
{
	const RaceCase &p = GetParam();
	Retries r;
	r.count = p.count;
	r.on = 0;
	start_with(r);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);

	host(BACKEND_A)->hold = true;
	be->conn(0)->close(); // its FIN is on the wire
	c->send(p.request);   // sluice reuses the connection
	EXPECT_EQ(cnt(PX_CNT_upstream_reused), 1u);
	release(BACKEND_A);
	if (p.retried) {
		ASSERT_EQ(be->n_conns(), 2u);
		EXPECT_TRUE(be->conn(1)->request().ok);
		be->conn(1)->send(OK2);
		EXPECT_EQ(c->response().status, 200);
		EXPECT_EQ(cnt(PX_CNT_retry_keepalive_race), 1u);
		EXPECT_EQ(cnt(PX_CNT_retries), 1u);
		EXPECT_EQ(cnt(PX_CNT_upstream_connects), 2u) << "a fresh connection";
	} else {
		EXPECT_EQ(be->n_conns(), 1u);
		EXPECT_EQ(c->response().status, 502);
		EXPECT_EQ(cnt(PX_CNT_retries), 0u);
	}
}

INSTANTIATE_TEST_SUITE_P(
	Table, PxRetryRace,
	::testing::Values(RaceCase{ "Get", GET, 2, true },
			  RaceCase{ "Post",
				    "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab", 2,
				    false },
			  RaceCase{ "GetRetriesOff", GET, 0, false }),
	[](const ::testing::TestParamInfo<RaceCase> &i) { return std::string(i.param.name); });

// Once only: the fresh connection failing the same way is the client's 502 (on: []).
TEST_F(PxRetry, KeepAliveRaceIsRetriedOnceOnly)
{
	Retries r;
	r.on = 0;
	start_with(r);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	host(BACKEND_A)->hold = true;
	be->conn(0)->close();
	c->send(GET);
	release(BACKEND_A);
	ASSERT_EQ(be->n_conns(), 2u);
	EXPECT_TRUE(be->conn(1)->request().ok);
	be->conn(1)->close(); // empty response on the fresh connection too
	EXPECT_EQ(c->response().status, 502);
	EXPECT_EQ(be->n_conns(), 2u);
	EXPECT_EQ(cnt(PX_CNT_retries), 1u);
	EXPECT_EQ(pas(0).n[DP_OUT_empty_response], 2u);
}

// ---- 5xx: decided at the head ----

struct StatusCase {
	const char *name;
	uint32_t on;
	bool retried;
};

class PxRetryStatus : public PxRetry, public ::testing::WithParamInterface<StatusCase>
{
};

TEST_P(PxRetryStatus, Backend503)
{
	const StatusCase &p = GetParam();
	Retries r;
	r.on = p.on;
	start_two(r);
	Backend *a = backend(BACKEND_A), *b = backend(BACKEND_B);
	PeerConn *c = client();
	c->send(GET);
	EXPECT_TRUE(a->conn(0)->request().ok);
	a->conn(0)->send(E503);
	EXPECT_EQ(pas(0).n[DP_OUT_status_gateway], 1u);
	if (p.retried) {
		EXPECT_EQ(c->pending(), "") << "a retried 503 never reaches the client";
		EXPECT_TRUE(a->conn(0)->reset()) << "its connection is aborted, body unread";
		ASSERT_EQ(b->n_conns(), 1u);
		EXPECT_TRUE(b->conn(0)->request().ok);
		b->conn(0)->send(OK2);
		Msg m = c->response();
		EXPECT_EQ(m.status, 200);
		EXPECT_EQ(m.body, "hi");
		EXPECT_EQ(cnt(PX_CNT_retry_redispatches), 1u);
		EXPECT_EQ(cnt(PX_CNT_responses_5xx), 0u);
	} else {
		Msg m = c->response();
		EXPECT_EQ(m.status, 503);
		EXPECT_EQ(m.body, "busy");
		EXPECT_EQ(b->n_conns(), 0u);
		EXPECT_EQ(cnt(PX_CNT_retries), 0u);
	}
}

INSTANTIATE_TEST_SUITE_P(
	Table, PxRetryStatus,
	::testing::Values(StatusCase{ "Listed", DP_RETRY_503, true },
			  StatusCase{ "ListedWithOthers", DP_RETRY_500 | DP_RETRY_503, true },
			  StatusCase{ "NotListed", DP_RETRY_502 | DP_RETRY_504, false },
			  StatusCase{ "Defaults", Retries().on, false }),
	[](const ::testing::TestParamInfo<StatusCase> &i) { return std::string(i.param.name); });

// The next try sends what the first sent, byte for byte: the head is held as received (the
// segment it came in, split from the body that shares it) and rebuilt again from it.
TEST_F(PxRetry, RetriedRequestIsTheSameBytes)
{
	Retries r;
	r.on = DP_RETRY_503;
	start_two(r);
	Backend *a = backend(BACKEND_A), *b = backend(BACKEND_B);
	PeerConn *c = client();
	c->send("PUT /r?q=1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\n"
		"B:2\r\nX-Forwarded-For: 203.0.113.7\r\nContent-Length: 04\r\n\r\nbody");
	Msg first = a->conn(0)->request();
	ASSERT_TRUE(first.ok);
	EXPECT_EQ(first.raw, "PUT /r?q=1 HTTP/1.1\r\nHost: x\r\nB: 2\r\n"
			     "X-Forwarded-For: 203.0.113.7, 198.18.0.2\r\nContent-Length: 4\r\n"
			     "X-Forwarded-Proto: http\r\nVia: 1.1 sluice\r\n\r\nbody");
	a->conn(0)->send(E503);
	ASSERT_EQ(b->n_conns(), 1u);
	Msg again = b->conn(0)->request();
	EXPECT_EQ(again.raw, first.raw);
	b->conn(0)->send(OK2);
	EXPECT_EQ(c->response().status, 200);
	EXPECT_EQ(cnt(PX_CNT_retries), 1u);
}

// ---- the held body ----

struct BodyCase {
	const char *name;
	uint64_t max_body_bytes;
	bool retried;
};

class PxRetryBody : public PxRetry, public ::testing::WithParamInterface<BodyCase>
{
};

TEST_P(PxRetryBody, PutResetAfterItsBody)
{
	const BodyCase &p = GetParam();
	Retries r;
	r.max_body_bytes = p.max_body_bytes;
	start_with(r);
	Backend *be = backend();
	PeerConn *c = client();
	std::string body(3000, 'x'); // more than one segment
	for (size_t i = 0; i < body.size(); i++)
		body[i] = (char)('a' + i % 26);
	c->send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n" +
		body.substr(0, 1000));
	c->send(body.substr(1000));
	Msg first = be->conn(0)->request();
	EXPECT_EQ(first.body, body);
	be->conn(0)->abort();
	if (p.retried) {
		ASSERT_EQ(be->n_conns(), 2u);
		Msg again = be->conn(1)->request();
		EXPECT_EQ(again.body, body) << "the held body, sent again whole";
		be->conn(1)->send(OK2);
		EXPECT_EQ(c->response().status, 200);
		EXPECT_EQ(cnt(PX_CNT_retry_body_not_held), 0u);
	} else {
		EXPECT_EQ(c->response().status, 502);
		EXPECT_EQ(be->n_conns(), 1u);
		EXPECT_EQ(cnt(PX_CNT_retry_body_not_held), 1u);
	}
}

INSTANTIATE_TEST_SUITE_P(Table, PxRetryBody,
			 ::testing::Values(BodyCase{ "Held", 3000, true },
					   BodyCase{ "OverMaxBodyBytes", 2999, false }),
			 [](const ::testing::TestParamInfo<BodyCase> &i) {
				 return std::string(i.param.name);
			 });

// A body in many tiny segments pins a whole buffer per byte: what is held is bounded by the
// buffers, not the bytes, so such a body is let go however small it is.
TEST_F(PxRetry, BodyInTinySegmentsIsNotHeld)
{
	start_with(Retries());
	Backend *be = backend();
	PeerConn *c = client();
	c->send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n");
	for (int i = 0; i < 40; i++)
		c->send(std::string(1, (char)('a' + i % 26)));
	EXPECT_EQ(be->conn(0)->request().body.size(), 40u);
	EXPECT_EQ(cnt(PX_CNT_retry_body_not_held), 1u);
	be->conn(0)->abort();
	EXPECT_EQ(c->response().status, 502);
	EXPECT_EQ(be->n_conns(), 1u);
}

// ---- count ----

TEST_F(PxRetry, CountExhaustedGivesTheLastError)
{
	Retries r;
	r.count = 2;
	start_two(r);
	host(BACKEND_A);
	host(BACKEND_B); // neither listens
	PeerConn *c = client();
	c->send(GET);
	Msg m = c->response();
	EXPECT_EQ(m.status, 502);
	EXPECT_EQ(m.header("Connection"), "close");
	EXPECT_EQ(cnt(PX_CNT_retries), 2u);
	EXPECT_EQ(cnt(PX_CNT_upstream_connect_failures), 3u) << "three tries";
	EXPECT_EQ(pas(0).n[DP_OUT_connect_refused] + pas(1).n[DP_OUT_connect_refused], 3u);
	EXPECT_EQ(cnt(PX_CNT_retry_redispatches), 2u) << "a, b, then a again";
}

TEST_F(PxRetry, Count503ExhaustedForwardsTheLast503)
{
	Retries r;
	r.count = 1;
	r.on = DP_RETRY_503;
	start_with(r);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	be->conn(0)->send(E503);
	ASSERT_EQ(be->n_conns(), 2u);
	EXPECT_TRUE(be->conn(1)->request().ok);
	be->conn(1)->send("HTTP/1.1 503 Busy\r\nContent-Length: 5\r\n\r\nlast!");
	Msg m = c->response();
	EXPECT_EQ(m.status, 503);
	EXPECT_EQ(m.body, "last!");
	EXPECT_EQ(cnt(PX_CNT_retries), 1u);
	EXPECT_EQ(pas(0).run_5xx, 2u);
}

// ---- the budget ----

// budget_percent 20 of 4 active requests is 0: the floor of 3 retries in flight applies, so
// the fourth concurrent request's 503 is forwarded instead of retried.
TEST_F(PxRetry, BudgetBoundsRetriesInFlight)
{
	Retries r;
	r.count = 1;
	r.on = DP_RETRY_503;
	start_with(r);
	Backend *be = backend();
	std::vector<PeerConn *> cs;
	for (int i = 0; i < 4; i++) {
		PeerConn *c = client();
		cs.push_back(c);
		c->send(GET);
		size_t n = be->n_conns();
		ASSERT_GE(n, 1u);
		PeerConn *bc = be->conn(n - 1);
		EXPECT_TRUE(bc->request().ok);
		bc->send(E503);
	}
	EXPECT_EQ(cnt(PX_CNT_retries), 3u);
	EXPECT_EQ(cnt(PX_CNT_retry_budget_exhausted), 1u);
	EXPECT_EQ(cs[3]->response().status, 503);
	// the three retries are pending on connections 1, 3, 5: answer them
	ASSERT_EQ(be->n_conns(), 7u);
	for (size_t k : { 1u, 3u, 5u }) {
		EXPECT_TRUE(be->conn(k)->request().ok);
		be->conn(k)->send(OK2);
	}
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(cs[i]->response().status, 200) << i;
	EXPECT_EQ(dp_snapshot_ep(d.snapshot, 0, 0)->obj->svc->pw[0].retrying, 0u);
}

// ---- timeouts ----

struct PerTryCase {
	const char *name;
	uint32_t on;
	bool retried;
};

class PxRetryPerTry : public PxRetry, public ::testing::WithParamInterface<PerTryCase>
{
};

TEST_P(PxRetryPerTry, SilentTryEndsAtPerTryMs)
{
	const PerTryCase &p = GetParam();
	Retries r;
	r.on = p.on;
	r.per_try_ms = 200;
	Conf conf;
	conf.response_ms = 3000;
	start_two(r, conf);
	Backend *a = backend(BACKEND_A), *b = backend(BACKEND_B);
	PeerConn *c = client();
	c->send(GET);
	EXPECT_TRUE(a->conn(0)->request().ok);
	advance_ms(200 - MARGIN);
	EXPECT_EQ(b->n_conns(), 0u);
	EXPECT_EQ(c->pending(), "");
	advance_ms(2 * MARGIN);
	EXPECT_EQ(pas(0).n[DP_OUT_response_timeout], 1u);
	if (p.retried) {
		ASSERT_EQ(b->n_conns(), 1u);
		EXPECT_TRUE(b->conn(0)->request().ok);
		b->conn(0)->send(OK2);
		EXPECT_EQ(c->response().status, 200);
		EXPECT_TRUE(a->conn(0)->reset()) << "the silent try is aborted";
	} else {
		EXPECT_EQ(c->response().status, 504);
		EXPECT_EQ(b->n_conns(), 0u);
	}
}

INSTANTIATE_TEST_SUITE_P(Table, PxRetryPerTry,
			 ::testing::Values(PerTryCase{ "Listed", DP_RETRY_RESPONSE_TIMEOUT, true },
					   PerTryCase{ "NotListed", Retries().on, false }),
			 [](const ::testing::TestParamInfo<PerTryCase> &i) {
				 return std::string(i.param.name);
			 });

// response_ms runs from the first send across every try: per_try 200 and response 300 give
// the second try 100 ms, then 504.
TEST_F(PxRetry, ResponseMsBoundsEveryTryTogether)
{
	Retries r;
	r.on = DP_RETRY_RESPONSE_TIMEOUT;
	r.per_try_ms = 200;
	Conf conf;
	conf.response_ms = 300;
	start_two(r, conf);
	Backend *a = backend(BACKEND_A), *b = backend(BACKEND_B);
	PeerConn *c = client();
	c->send(GET);
	advance_ms(200 + MARGIN);
	ASSERT_EQ(b->n_conns(), 1u);
	EXPECT_TRUE(b->conn(0)->request().ok);
	advance_ms(100 - 2 * MARGIN);
	EXPECT_EQ(c->pending(), "");
	advance_ms(2 * MARGIN);
	EXPECT_EQ(c->response().status, 504);
	EXPECT_EQ(a->n_conns(), 1u);
	EXPECT_EQ(b->n_conns(), 1u) << "no third try once response_ms is spent";
	EXPECT_EQ(cnt(PX_CNT_retries), 1u);
}

// ---- passive outcomes of tries that are not retried ----

struct OutcomeCase {
	const char *name;
	std::string response; // "" : the backend resets; "FIN": it closes without a byte
	int status;	      // what the client gets
	enum dp_outcome outcome;
	uint32_t run_5xx, run_gw; // after a gateway failure (a refused try) and then this one
};

class PxRetryOutcome : public PxRetry, public ::testing::WithParamInterface<OutcomeCase>
{
};

TEST_P(PxRetryOutcome, RecordedOncePerTry)
{
	const OutcomeCase &p = GetParam();
	Retries r;
	r.count = 0;
	r.on = 0;
	Conf conf;
	conf.pool_max_idle = 0; // no reuse: no keep-alive race here
	start_with(r, conf);
	PeerConn *c0 = client();
	host(BACKEND_A);
	c0->send(GET); // nothing listens yet: refused
	EXPECT_EQ(c0->response().status, 502);
	EXPECT_EQ(pas(0).run_gw, 1u);
	Backend *be = backend();
	PeerConn *c = client();
	c->send(GET);
	if (p.response.empty())
		be->conn(0)->abort();
	else if (p.response == "FIN")
		be->conn(0)->close();
	else
		be->conn(0)->send(p.response);
	EXPECT_EQ(c->response().status, p.status);
	EXPECT_EQ(pas(0).n[p.outcome], 1u);
	uint64_t total = 0;
	for (int o = 0; o < DP_OUT_MAX; o++)
		total += pas(0).n[o];
	EXPECT_EQ(total, 2u) << "one outcome per try";
	EXPECT_EQ(pas(0).run_5xx, p.run_5xx);
	EXPECT_EQ(pas(0).run_gw, p.run_gw);
	// an ok leaves the last failure as it was
	EXPECT_EQ(pas(0).last_fail, p.outcome == DP_OUT_ok ? DP_OUT_connect_refused : p.outcome);
}

INSTANTIATE_TEST_SUITE_P(
	Table, PxRetryOutcome,
	::testing::Values(OutcomeCase{ "Ok", OK2, 200, DP_OUT_ok, 0, 0 },
			  OutcomeCase{ "NotFoundIsOk",
				       "HTTP/1.1 404 No\r\nContent-Length: 0\r\n\r\n", 404,
				       DP_OUT_ok, 0, 0 },
			  OutcomeCase{ "Status500", "HTTP/1.1 500 E\r\nContent-Length: 0\r\n\r\n",
				       500, DP_OUT_status_5xx, 2, 0 },
			  OutcomeCase{ "Status501", "HTTP/1.1 501 E\r\nContent-Length: 0\r\n\r\n",
				       501, DP_OUT_status_5xx, 2, 0 },
			  OutcomeCase{ "Status503", E503, 503, DP_OUT_status_gateway, 2, 2 },
			  OutcomeCase{ "Reset", "", 502, DP_OUT_reset, 2, 2 },
			  OutcomeCase{ "Empty", "FIN", 502, DP_OUT_empty_response, 2, 2 }),
	[](const ::testing::TestParamInfo<OutcomeCase> &i) { return std::string(i.param.name); });

// ---- no endpoint ----

TEST_F(PxRetry, NoUsableEndpointIs503AtOnce)
{
	Conf conf;
	conf.endpoints = { "{ name: a, address: 198.18.0.21:8080, weight: 0 }" };
	start_with(Retries(), conf);
	PeerConn *c = client();
	c->send(GET);
	EXPECT_EQ(c->response().status, 503) << "no time passed, no connect tried";
	EXPECT_EQ(cnt(PX_CNT_upstream_connects), 0u);
	EXPECT_EQ(cnt(PX_CNT_retries), 0u);
}

} // namespace
} // namespace pxt
