// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: the worker side of active health checks (dataplane/check, hc.h), black box.
//
// The proxy harness's in-process worker (px_harness.h) runs the executor where the worker loop
// does (hc_poll). The test plays control: it sends probes over the worker's probe ring
// (dp_probe_send) and takes the answers back (dp_probe_recv); the backends are the harness's
// peer hosts with TCP stacks of their own, scripted by the test.
#include <cstdlib>
#include <cstring>
#include <string>

#include <rte_errno.h>

#include "px_harness.h"

using namespace pxt;

namespace
{

class HcTest : public PxTest
{
      protected:
	// Start the worker with probe rings (max_connections 256: a reserve of 16 TCBs).
	void start_probes(const Conf &conf = Conf())
	{
		char err[256] = "";

		start(conf);
		ASSERT_EQ(dp_probe_init(&d, err, sizeof(err)), 0) << err;
	}

	static struct dp_probe *tcp_probe(uint8_t host = BACKEND_A, uint16_t port = BACKEND_PORT,
					  uint32_t timeout_ms = 500)
	{
		auto *p = static_cast<struct dp_probe *>(calloc(1, sizeof(struct dp_probe)));
		p->addr = addr(host);
		p->port = port;
		p->type = DP_CHECK_TCP;
		p->timeout_ms = timeout_ms;
		p->seq = 42;
		return p;
	}

	static struct dp_probe *http_probe(const std::string &needle = "",
					   uint32_t timeout_ms = 500)
	{
		struct dp_probe *p = tcp_probe(BACKEND_A, BACKEND_PORT, timeout_ms);
		std::string req = "GET /health HTTP/1.1\r\nHost: 198.18.0.21:8080\r\n"
				  "Connection: close\r\n\r\n";
		p->type = DP_CHECK_HTTP;
		p->req_len = (uint16_t)req.size();
		memcpy(p->req, req.data(), req.size());
		p->needle_len = (uint16_t)needle.size();
		memcpy(p->needle, needle.data(), needle.size());
		return p;
	}

	void send(struct dp_probe *p)
	{
		ASSERT_EQ(dp_probe_send(w, p), 0);
		pump();
	}

	// The next answer, waiting up to max_ms of fake time (1 ms steps); nullptr when none.
	// *at_ms: when it came, counted from the call.
	struct dp_probe *answer(uint64_t max_ms = 0, uint64_t *at_ms = nullptr)
	{
		uint64_t t0 = now_ms();

		for (uint64_t i = 0;; i++) {
			struct dp_probe *p = dp_probe_recv(w);
			if (p != nullptr) {
				if (at_ms != nullptr)
					*at_ms = now_ms() - t0;
				answers.emplace_back(p, &free);
				return p;
			}
			if (i >= max_ms)
				return nullptr;
			advance_ms(1);
		}
	}

	uint64_t probe_cnt(enum hc_counter c) const
	{
		return w->hc.cnt[c];
	}

	// What a probe must never disturb: the traffic TCB pool, the proxy's objects and
	// counters (show stat reads those).
	void expect_traffic_untouched()
	{
		struct dp_mem m = mem();
		EXPECT_EQ(m.tcbs_hwm, 0u) << "a probe took a traffic TCB";
		EXPECT_EQ(m.sessions_used, 0u);
		EXPECT_EQ(m.upstreams_used, 0u);
		EXPECT_EQ(counters(), "") << "a probe moved proxy counters";
		struct dp_endpoint *ep = d.objs.eps;
		ASSERT_NE(ep, nullptr);
		for (int i = 0; i < PX_OBJ_MAX; i++)
			EXPECT_EQ(ep->pw[0].cnt[i], 0u) << "endpoint counter " << i;
	}

	void TearDown() override
	{
		if (started) {
			// every probe answered, every reserve TCB and slot back
			EXPECT_EQ(w->hc.used, 0u) << "probe slots left";
			EXPECT_EQ(w->ts.rsv_used, 0u) << "probe TCBs left";
			EXPECT_EQ(w->ts.time_wait, 0u) << "a probe left TIME_WAIT behind";
			EXPECT_EQ(w->probe.inflight, 0u) << "probes not answered";
		}
		answers.clear();
		PxTest::TearDown();
	}

	std::vector<std::unique_ptr<struct dp_probe, void (*)(void *)>> answers;
};

TEST_F(HcTest, ReserveSize)
{
	EXPECT_EQ(hc_reserve_size(256), 16u);
	EXPECT_EQ(hc_reserve_size(65536), 1023u); // never more than control may have in flight
	EXPECT_EQ(hc_reserve_size(16384), 256u);
}

TEST_F(HcTest, TcpConnectIsL4okThenRst)
{
	start_probes();
	Backend *b = backend();
	uint64_t rsts = w->ts.cnt[TCP_CNT_rsts_sent];

	send(tcp_probe());
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L4OK) << p->detail;
	EXPECT_EQ(p->seq, 42u);
	EXPECT_EQ(p->worker, 0u);
	EXPECT_EQ(p->code, 0u);
	ASSERT_EQ(b->n_conns(), 1u);
	EXPECT_TRUE(b->conn(0)->reset()) << "the probe must close with RST";
	EXPECT_EQ(w->ts.cnt[TCP_CNT_rsts_sent], rsts + 1);
	EXPECT_EQ(w->ts.rsv_used, 0u);
	EXPECT_EQ(w->ts.time_wait, 0u);
	EXPECT_EQ(probe_cnt(HC_CNT_started), 1u);
	EXPECT_EQ(probe_cnt(HC_CNT_l4ok), 1u);
	// the source port steers back to this worker and lies outside the proxy's range
	EXPECT_GE(b->conn(0)->rport, 16384);
	EXPECT_LE(b->conn(0)->rport, 32767);
	expect_traffic_untouched();
}

TEST_F(HcTest, RstToSynIsL4con)
{
	start_probes();
	host(BACKEND_A); // up, nothing listens on 8080: RST to the SYN

	send(tcp_probe());
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L4CON);
	EXPECT_STREQ(p->detail, "Connection refused");
	EXPECT_EQ(probe_cnt(HC_CNT_l4con), 1u);
	expect_traffic_untouched();
}

TEST_F(HcTest, SilenceIsL4toutAfterTheTimeout)
{
	start_probes();
	host(BACKEND_A)->blackhole = true;

	send(tcp_probe(BACKEND_A, BACKEND_PORT, 300));
	uint64_t at = 0;
	struct dp_probe *p = answer(1500, &at);
	ASSERT_NE(p, nullptr) << "no verdict within 1.5 s for a 300 ms probe";
	EXPECT_EQ(p->status, DP_CHK_L4TOUT);
	EXPECT_STREQ(p->detail, "timeout after 300 ms");
	EXPECT_GE(at, 300u) << "timed out early";
	EXPECT_LE(at, 305u);
	EXPECT_GE(p->duration_us, 300000u);
	EXPECT_LT(p->duration_us, 306000u);
	EXPECT_GE(w->ts.cnt[TCP_CNT_syn_retransmits], 1u) << "the SYN RTO fits the probe's timeout";
	expect_traffic_untouched();
}

TEST_F(HcTest, Http200IsL7okAndTheRequestGoesAsItIs)
{
	start_probes();
	Backend *b = backend();
	struct dp_probe *sent = http_probe();
	std::string req(sent->req, sent->req_len);

	send(sent);
	ASSERT_EQ(b->n_conns(), 1u);
	PeerConn *bc = b->conn(0);
	EXPECT_EQ(bc->pending(), req);
	advance_ms(7);
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7OK) << p->detail;
	EXPECT_EQ(p->code, 200u);
	EXPECT_STREQ(p->detail, "HTTP 200");
	EXPECT_GE(p->duration_us, 7000u);
	EXPECT_LT(p->duration_us, 9000u);
	EXPECT_TRUE(bc->reset()) << "closed with RST once the verdict is known";
	EXPECT_EQ(probe_cnt(HC_CNT_l7ok), 1u);
	expect_traffic_untouched();
}

TEST_F(HcTest, Http500IsL7sts)
{
	start_probes();
	Backend *b = backend();

	send(http_probe());
	b->conn(0)->send("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7STS);
	EXPECT_EQ(p->code, 500u);
	EXPECT_STREQ(p->detail, "HTTP 500");
	EXPECT_TRUE(b->conn(0)->reset());
}

TEST_F(HcTest, ExpectRanges)
{
	start_probes();
	Backend *b = backend();
	struct dp_probe *q = http_probe();
	q->n_expect = 2;
	q->expect[0] = { 204, 204 };
	q->expect[1] = { 500, 503 };

	send(q);
	b->conn(0)->send("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7OK) << p->detail;

	q = http_probe();
	q->n_expect = 1;
	q->expect[0] = { 204, 204 };
	send(q);
	b->conn(1)->send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7STS);
	EXPECT_STREQ(p->detail, "HTTP 200");
}

TEST_F(HcTest, NeedleFoundAcrossTwoSegments)
{
	start_probes();
	Backend *b = backend();

	send(http_probe("world"));
	PeerConn *bc = b->conn(0);
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\nhello wo");
	EXPECT_EQ(dp_probe_recv(w), nullptr) << "no verdict before the needle is complete";
	bc->send("rld, all ok");
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7OK) << p->detail;
	EXPECT_TRUE(bc->reset());
}

TEST_F(HcTest, NeedleFoundInAChunkedBody)
{
	start_probes();
	Backend *b = backend();

	send(http_probe("status=up"));
	PeerConn *bc = b->conn(0);
	bc->send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nstatus=\r\n");
	bc->send("2\r\nup\r\n0\r\n\r\n");
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7OK) << p->detail;
}

TEST_F(HcTest, NeedleMissingIsL7sts)
{
	start_probes();
	Backend *b = backend();

	send(http_probe("ok"));
	PeerConn *bc = b->conn(0);
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nall ");
	bc->send("is fine!");
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7STS);
	EXPECT_EQ(p->code, 200u);
	EXPECT_STREQ(p->detail, "body did not contain 'ok'");
}

TEST_F(HcTest, NeedleAfterTheFirst4KiBIsNotSeen)
{
	start_probes();
	Backend *b = backend();
	std::string body(DP_PROBE_BODY_MAX, 'x');
	body += "ok";

	send(http_probe("ok"));
	PeerConn *bc = b->conn(0);
	bc->send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
		 body.substr(0, 1000));
	EXPECT_EQ(dp_probe_recv(w), nullptr);
	bc->send(body.substr(1000));
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7STS);
	EXPECT_STREQ(p->detail, "body did not contain 'ok'");
}

TEST_F(HcTest, NeedleAtTheEndOfACloseDelimitedBody)
{
	start_probes();
	Backend *b = backend();

	send(http_probe("ok"));
	PeerConn *bc = b->conn(0);
	bc->send("HTTP/1.1 200 OK\r\n\r\nit is o"); // no length: the body ends with the FIN
	EXPECT_EQ(dp_probe_recv(w), nullptr);
	bc->send_fin("k");
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7OK) << p->detail;
}

TEST_F(HcTest, NeedleMissingInACloseDelimitedBody)
{
	start_probes();
	Backend *b = backend();

	send(http_probe("ok"));
	PeerConn *bc = b->conn(0);
	bc->send("HTTP/1.1 200 OK\r\n\r\nnothing ");
	bc->send_fin("here");
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7STS) << p->detail;
	EXPECT_STREQ(p->detail, "body did not contain 'ok'");
}

TEST_F(HcTest, InvalidResponseIsL7rsp)
{
	start_probes();
	Backend *b = backend();

	send(http_probe());
	b->conn(0)->send("SSH-2.0-OpenSSH_9.2\r\n\r\n");
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7RSP) << p->detail;
	EXPECT_TRUE(b->conn(0)->reset());
}

TEST_F(HcTest, ClosedBeforeTheStatusLineIsL7rsp)
{
	start_probes();
	Backend *b = backend();

	send(http_probe());
	b->conn(0)->close();
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7RSP) << p->detail;
	EXPECT_STREQ(p->detail, "connection closed before any response byte");

	send(http_probe());
	b->conn(1)->send_fin("HTTP/1.1 200 OK\r\nContent-");
	p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7RSP) << p->detail;
}

TEST_F(HcTest, ResetAfterConnectBeforeAnyByteIsL4con)
{
	start_probes();
	Backend *b = backend();

	send(http_probe());
	b->conn(0)->abort();
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L4CON) << p->detail;
	EXPECT_STREQ(p->detail, "Connection reset by peer");
}

TEST_F(HcTest, ConnectedButNoAnswerIsL7tout)
{
	start_probes();
	Backend *b = backend();

	send(http_probe("", 200));
	uint64_t at = 0;
	struct dp_probe *p = answer(1000, &at);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L7TOUT);
	EXPECT_STREQ(p->detail, "timeout after 200 ms");
	EXPECT_GE(at, 199u); // the request's round trip took no fake time: ~200 ms after send
	EXPECT_LE(at, 205u);
	EXPECT_TRUE(b->conn(0)->reset());
}

TEST_F(HcTest, LateProbeIsSkippedWithoutAConnection)
{
	start_probes();
	Backend *b = backend();
	struct dp_probe *q = tcp_probe();
	q->late_tsc = now - 1;

	send(q);
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_SKIPPED);
	EXPECT_EQ(p->duration_us, 0u);
	EXPECT_EQ(b->n_conns(), 0u);
	EXPECT_EQ(probe_cnt(HC_CNT_skipped), 1u);
	EXPECT_EQ(probe_cnt(HC_CNT_started), 0u);

	q = tcp_probe();
	q->late_tsc = now + d.hz; // in time
	send(q);
	p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L4OK);
}

TEST_F(HcTest, ReserveExhaustedIsSockerrAndTrafficStillFlows)
{
	start_probes();
	host(BACKEND_B)->blackhole = true;
	const uint32_t n = w->ts.conf.reserve_connections;
	ASSERT_EQ(n, 16u);

	for (uint32_t i = 0; i < n; i++)
		ASSERT_EQ(dp_probe_send(w, tcp_probe(BACKEND_B, BACKEND_PORT, 300)), 0);
	pump();
	EXPECT_EQ(w->ts.rsv_used, n);
	EXPECT_EQ(mem().probe_tcbs_used, n);
	EXPECT_EQ(mem().probe_slots_used, n);
	send(tcp_probe(BACKEND_B, BACKEND_PORT, 300));
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_SOCKERR);
	EXPECT_EQ(std::string(p->detail).find("no free probe slot"), 0u) << p->detail;
	EXPECT_EQ(probe_cnt(HC_CNT_no_slot), 1u);
	EXPECT_EQ(mem().tcbs_hwm, 0u) << "a probe fell back on the traffic pool";

	// proxied traffic does not notice the full reserve
	Backend *a = backend();
	PeerConn *cl = client();
	cl->send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
	a->conn(0)->request();
	a->conn(0)->send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	EXPECT_EQ(cl->response().status, 200);
	EXPECT_EQ(w->ts.rsv_used, n) << "traffic took a probe TCB";
	cl->close();

	for (uint32_t i = 0; i < n; i++) {
		p = answer(1500);
		ASSERT_NE(p, nullptr) << i;
		EXPECT_EQ(p->status, DP_CHK_L4TOUT);
	}
	EXPECT_EQ(w->ts.rsv_used, 0u);
	EXPECT_EQ(mem().probe_tcbs_hwm, n);
}

TEST_F(HcTest, NoReserveTcbIsSockerr)
{
	start_probes();
	host(BACKEND_B)->blackhole = true;
	backend();
	static const struct tcp_ops none = {};
	std::vector<struct tcp_conn *> taken;
	// someone else took the whole reserve: the slot is free, the TCB is not
	for (uint16_t port = 1000;; port++) {
		struct tcp_conn *c =
			tcp_connect_reserved(&w->ts, 0, port, addr(BACKEND_B), 9, &none, nullptr);
		if (c == nullptr) {
			EXPECT_EQ(rte_errno, ENOBUFS);
			break;
		}
		taken.push_back(c);
	}
	ASSERT_EQ(taken.size(), w->ts.conf.reserve_connections);
	EXPECT_EQ(w->ts.cnt[TCP_CNT_drop_pool_empty], 0u) << "the reserve is not the pool";
	EXPECT_EQ(mem().tcbs_used, 0u);

	send(tcp_probe());
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_SOCKERR);
	EXPECT_STREQ(p->detail, "no free TCB in the probe reserve (16)");
	EXPECT_EQ(probe_cnt(HC_CNT_no_tcb), 1u);
	EXPECT_EQ(w->hc.used, 0u) << "the slot went back";
	for (auto *c : taken)
		tcp_abort(c);
	EXPECT_EQ(w->ts.rsv_used, 0u);

	send(tcp_probe());
	p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L4OK) << p->detail;
}

TEST_F(HcTest, FullTrafficPoolDoesNotStopProbes)
{
	Conf c;
	c.max_connections = 64;
	start_probes(c);
	Backend *b = backend();
	// take every traffic TCB from sluice's side: open connections to a listener-less port
	// of the blackholed host, as a proxy under a connect storm would
	host(BACKEND_B)->blackhole = true;
	std::vector<struct tcp_conn *> hogs;
	static const struct tcp_ops none = {};
	for (uint16_t port = 40000; hogs.size() < w->ts.conf.max_connections; port++) {
		struct tcp_conn *h =
			tcp_connect(&w->ts, 0, port, addr(BACKEND_B), 9, &none, nullptr);
		ASSERT_NE(h, nullptr);
		hogs.push_back(h);
	}
	ASSERT_EQ(mem().tcbs_used, w->ts.conf.max_connections);
	EXPECT_EQ(tcp_connect(&w->ts, 0, 39999, addr(BACKEND_B), 9, &none, nullptr), nullptr)
		<< "traffic took a reserve TCB";
	EXPECT_EQ(w->ts.rsv_used, 0u);

	send(tcp_probe());
	struct dp_probe *p = answer();
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->status, DP_CHK_L4OK) << p->detail;
	EXPECT_EQ(b->n_conns(), 1u);
	for (auto *h : hogs)
		tcp_abort(h);
}

TEST_F(HcTest, SourcePortsSteerBackToTheWorker)
{
	start_probes();
	Backend *b = backend();
	// pose as worker 2 of 3: replies must come to a port that dp_tcp_owner gives worker 2
	d.n_workers = 3;
	w->id = 2;
	for (int i = 0; i < 8; i++) {
		send(tcp_probe());
		struct dp_probe *p = answer();
		ASSERT_NE(p, nullptr);
		EXPECT_EQ(p->status, DP_CHK_L4OK) << p->detail;
		EXPECT_EQ(p->worker, 2u);
	}
	ASSERT_EQ(b->n_conns(), 8u);
	for (size_t i = 0; i < b->n_conns(); i++) {
		uint16_t port = b->conn(i)->rport;
		EXPECT_EQ(dp_tcp_owner(&d, addr(BACKEND_A), addr(SLUICE_HOST), BACKEND_PORT, port),
			  2u)
			<< port;
		EXPECT_TRUE(port >= 16384 && port <= 32767) << port;
		EXPECT_NE(port, LISTEN_PORT);
	}
	d.n_workers = 1;
	w->id = 0;
}

TEST_F(HcTest, ProbeCountersAreInTheRegistry)
{
	const struct dp_counter_group *g = dp_counter_group_find("probe");
	ASSERT_NE(g, nullptr);
	ASSERT_EQ(g->count, (uint16_t)HC_CNT_MAX);
	start_probes();
	backend();
	send(tcp_probe());
	ASSERT_NE(answer(), nullptr);
	for (unsigned i = 0; i < g->count; i++) {
		if (std::string(g->names[i]) == "l4ok") {
			EXPECT_EQ(dp_counter_get(w, g, i), 1u);
		}
	}
}

TEST_F(HcTest, ProbeApiBounds)
{
	start();
	struct dp_probe *q = tcp_probe();
	EXPECT_EQ(dp_probe_send(w, q), -ENODEV) << "no rings yet";
	EXPECT_EQ(dp_probe_recv(w), nullptr);
	char err[128];
	ASSERT_EQ(dp_probe_init(&d, err, sizeof(err)), 0) << err;
	// control's bound: DP_PROBE_RING_SIZE - 1 in flight (the worker is not polled here)
	std::vector<struct dp_probe *> sent;
	sent.push_back(q);
	ASSERT_EQ(dp_probe_send(w, q), 0);
	for (unsigned i = 1; i < DP_PROBE_RING_SIZE - 1; i++) {
		sent.push_back(tcp_probe());
		ASSERT_EQ(dp_probe_send(w, sent.back()), 0) << i;
	}
	struct dp_probe *extra = tcp_probe();
	EXPECT_EQ(dp_probe_send(w, extra), -ENOBUFS);
	free(extra);
	EXPECT_EQ(w->probe.inflight, DP_PROBE_RING_SIZE - 1u);
	// stop: every probe still on the ring is free()d, none was started
	dp_probe_fini(w);
	EXPECT_EQ(w->probe.req, nullptr);
	EXPECT_EQ(probe_cnt(HC_CNT_received), 0u);
}

} // namespace
