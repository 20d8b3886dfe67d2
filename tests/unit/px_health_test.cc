// SPDX-License-Identifier: BSD-3-Clause
// The balancers as health leaves them (px_apply_services, px_harness.h): control's decision
// reaches the workers as dp_ep_state.health and .ejected in a snapshot; a DOWN, stopping or
// ejected endpoint gets no new request; in panic every serving endpoint does; with none
// healthy the proxy answers 503 at once, without connecting anywhere.
#include "px_harness.h"

namespace pxt
{
namespace
{

const std::string GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string OK2 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

class ProxyHealth : public PxTest
{
      public:
	Backend *a = nullptr, *b = nullptr, *cc = nullptr;

	void start3(uint32_t panic_pct)
	{
		Conf conf;
		conf.endpoints = { "{ name: a, address: 198.18.0.21:8080 }",
				   "{ name: b, address: 198.18.0.22:8080 }",
				   "{ name: c, address: 198.18.0.23:8080 }" };
		start(conf);
		((dp_conf *)d.snapshot->conf)->services[0].panic_threshold_percent = panic_pct;
		a = backend(BACKEND_A);
		b = backend(BACKEND_B);
		cc = backend(23);
	}
	// Publish the running configuration with endpoint states set, as control does after a
	// health decision (ctl_snapshot_build with keep, then the engine's fields).
	void set(const std::vector<uint8_t> &health, const std::vector<bool> &ejected)
	{
		dp_snapshot *s =
			dp_snapshot_new(&d, d.snapshot->conf, d.snapshot, d.snapshot->epoch + 1);
		ASSERT_NE(s, nullptr);
		for (size_t e = 0; e < health.size(); e++) {
			s->svcs[0].eps[e].health = health[e];
			s->svcs[0].eps[e].ejected = ejected[e];
		}
		publish(s);
		pump();
	}
	// n requests on one keep-alive client, each answered by whichever backend got it;
	// returns how many each of a, b, c served.
	std::vector<unsigned> spread(unsigned n)
	{
		std::vector<unsigned> got(3, 0);
		PeerConn *c = client();
		Backend *bs[3] = { a, b, cc };
		for (unsigned i = 0; i < n; i++) {
			c->send(GET);
			bool served = false;
			for (unsigned k = 0; k < 3 && !served; k++)
				for (size_t j = 0; j < bs[k]->n_conns() && !served; j++) {
					PeerConn *bc = bs[k]->conn(j);
					if (bc->closed || bc->pending().empty() ||
					    !bc->request().ok)
						continue;
					bc->send(OK2);
					got[k]++;
					served = true;
				}
			EXPECT_TRUE(served);
			EXPECT_EQ(c->response().status, 200);
		}
		return got;
	}
};

TEST_F(ProxyHealth, DownStoppingAndEjectedEndpointsGetNoNewRequest)
{
	start3(0);
	set({ DP_HEALTH_DOWN, DP_HEALTH_UP, DP_HEALTH_UP }, { false, false, false });
	std::vector<unsigned> got = spread(6);
	EXPECT_EQ(got[0], 0u);
	EXPECT_EQ(got[1] + got[2], 6u);
	set({ DP_HEALTH_UP, DP_HEALTH_STOPPING, DP_HEALTH_UP }, { false, false, true });
	got = spread(4);
	EXPECT_EQ(got[0], 4u) << "stopping and ejected endpoints take nothing new";
}

TEST_F(ProxyHealth, PanicBalancesOverEveryServingEndpoint)
{
	start3(50);
	// one healthy of three: below 50 %, so all three take requests again
	set({ DP_HEALTH_DOWN, DP_HEALTH_UP, DP_HEALTH_UP }, { false, false, true });
	std::vector<unsigned> got = spread(6);
	EXPECT_EQ(got[0], 2u);
	EXPECT_EQ(got[1], 2u);
	EXPECT_EQ(got[2], 2u);
}

TEST_F(ProxyHealth, NoneHealthyAnswers503AtOnceWithoutConnecting)
{
	start3(50);
	set({ DP_HEALTH_DOWN, DP_HEALTH_DOWN, DP_HEALTH_DOWN }, { false, false, false });
	PeerConn *c = client();
	uint64_t t = now_ms();
	c->send(GET);
	EXPECT_EQ(c->response().status, 503);
	EXPECT_EQ(now_ms(), t) << "no connect timeout waited for";
	EXPECT_EQ(a->n_conns() + b->n_conns() + cc->n_conns(), 0u);
	EXPECT_EQ(cnt(PX_CNT_no_endpoint), 1u);
}

} // namespace
} // namespace pxt
