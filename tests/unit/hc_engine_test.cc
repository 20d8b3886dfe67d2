// SPDX-License-Identifier: BSD-3-Clause
// The health engine (control/hc_*.c) against a fake probe executor: no EAL, no worker loop.
// A struct dp with two workers (zeroed, no ports), snapshots built and published as control
// does (ctl_snapshot_build / ctl_snapshot_publish; no RCU, so nothing to wait for), probes
// answered by hand, passive counters written into the endpoints' per-worker slots as a worker
// would. Time is a fake clock passed to hc_run.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" {
#include "control.h"
#include "hc_ctl.h"
#include "dp_worker.h"
}

namespace
{

struct Fake {
	std::deque<dp_probe *> out[DP_MAX_WORKERS]; // sent, not answered
	std::deque<dp_probe *> rep[DP_MAX_WORKERS]; // answered, not taken back
	bool full = false;
	unsigned sends[DP_MAX_WORKERS] = {};
};

int fake_send(void *ctx, uint16_t w, dp_probe *p)
{
	Fake *f = static_cast<Fake *>(ctx);

	if (f->full)
		return -ENOBUFS;
	f->out[w].push_back(p);
	f->sends[w]++;
	return 0;
}

dp_probe *fake_recv(void *ctx, uint16_t w)
{
	Fake *f = static_cast<Fake *>(ctx);

	if (f->rep[w].empty())
		return nullptr;
	dp_probe *p = f->rep[w].front();
	f->rep[w].pop_front();
	return p;
}

// The configuration: one service "app" with endpoints a, b, c... (198.18.0.21.., port 80).
dp_conf *make_conf(const std::vector<std::string> &eps)
{
	char path[] = "/tmp/hc_test_XXXXXX";
	int fd = mkstemp(path);
	std::string text = "dataplane:\n  ports:\n    - { name: lan, device: net_null0, "
			   "address: 198.18.0.10/24 }\n"
			   "listeners:\n  - name: web\n    routes:\n      - service: app\n"
			   "services:\n  app:\n    endpoints:\n";
	for (size_t i = 0; i < eps.size(); i++)
		text += "      - { name: " + eps[i] + ", address: 198.18.0." +
			std::to_string(21 + i) + ":80 }\n";
	EXPECT_EQ(write(fd, text.data(), text.size()), (ssize_t)text.size());
	close(fd);
	cfg_errors errs = {};
	dp_conf *c = cfg_load(path, &errs);
	EXPECT_NE(c, nullptr) << (errs.n ? errs.lines[0] : "");
	cfg_errors_free(&errs);
	unlink(path);
	return c;
}

// Checks on: http GET /health, interval 1000, fast 200, down 3000, rise 2, fall 3.
void set_checks(dp_conf *c)
{
	dp_health_conf *h = &c->services[0].health;
	h->enabled = true;
	h->type = DP_CHECK_HTTP;
	h->path = strdup("/health");
	h->host = strdup("");
	h->expect_body = strdup("");
	h->n_expect = 1;
	h->expect[0] = { 200, 399 };
	h->interval_ms = 1000;
	h->fast_interval_ms = 200;
	h->down_interval_ms = 3000;
	h->timeout_ms = 500;
	h->rise = 2;
	h->fall = 3;
}

void set_outlier(dp_conf *c, uint32_t c5, uint32_t cgw, uint32_t pct)
{
	c->services[0].outlier = { c5, cgw, 1000, 2500, pct };
}

struct Engine : ::testing::Test {
	std::unique_ptr<dp> d{ new dp() };
	std::vector<std::unique_ptr<dp_worker>> workers;
	Fake fake;
	ctl_env env = {};
	hc *h = nullptr;
	uint64_t t0 = 0, now = 0;

	void SetUp() override
	{
		for (uint16_t i = 0; i < 2; i++) {
			workers.emplace_back(new dp_worker());
			workers[i]->id = i;
			workers[i]->dp = d.get();
			d->workers[i] = workers[i].get();
		}
		d->n_workers = 2;
		hc_exec ex = { fake_send, fake_recv, &fake };
		h = hc_new(&ex, d.get());
		env.dp = d.get();
		env.hc = h;
		t0 = now = hc_mono_ms();
	}
	void TearDown() override
	{
		dp_snapshot *s = dp_publish(d.get(), nullptr);
		if (s != nullptr && s->conf != d->conf)
			cfg_free((dp_conf *)s->conf);
		dp_snapshot_free(s);
		cfg_free((dp_conf *)d->conf);
		hc_free(h);
		// what is still out is the executor's to free, as dp_probe_fini does
		for (unsigned w = 0; w < DP_MAX_WORKERS; w++) {
			for (dp_probe *p : fake.out[w])
				free(p);
			for (dp_probe *p : fake.rep[w])
				free(p);
		}
		dp_objs_free(d.get());
	}
	// Start with c (owned from here on), or reload to it.
	void load(dp_conf *c, bool first)
	{
		if (first)
			d->conf = c;
		dp_snapshot *s = ctl_snapshot_build(&env, c, false);
		ASSERT_NE(s, nullptr);
		ctl_snapshot_publish(&env, s);
	}
	// One control tick at now (ms since t0 advanced by adv), as ctl_tick does.
	bool tick(uint64_t adv = 0)
	{
		now += adv;
		hc_clock clk = { now, 1700000000000ull + (now - t0), now, 1000 };
		bool changed = hc_run(h, d.get(), &clk);
		if (changed) {
			dp_snapshot *s = ctl_snapshot_build(&env, d->snapshot->conf, true);
			EXPECT_NE(s, nullptr);
			ctl_snapshot_publish(&env, s);
		}
		return changed;
	}
	// Every probe out comes back with status (and code), as the worker would answer.
	unsigned answer(uint8_t status, uint16_t code = 0, const char *detail = "")
	{
		unsigned n = 0;
		for (unsigned w = 0; w < DP_MAX_WORKERS; w++)
			while (!fake.out[w].empty()) {
				dp_probe *p = fake.out[w].front();
				fake.out[w].pop_front();
				p->status = status;
				p->code = code;
				p->worker = (uint16_t)w;
				p->duration_us = 1500;
				snprintf(p->detail, sizeof(p->detail), "%s", detail);
				fake.rep[w].push_back(p);
				n++;
			}
		return n;
	}
	unsigned outstanding()
	{
		unsigned n = 0;
		for (unsigned w = 0; w < DP_MAX_WORKERS; w++)
			n += fake.out[w].size();
		return n;
	}
	// Advance until a probe is out (at most limit ms, 1 ms steps).
	bool until_probe(uint64_t limit = 10000)
	{
		for (uint64_t i = 0; i <= limit; i++) {
			tick(i == 0 ? 0 : 1);
			if (outstanding() > 0)
				return true;
		}
		return false;
	}
	// One full check: wait for the probe, answer it, take the verdict.
	void check(uint8_t status, uint16_t code = 0, const char *detail = "")
	{
		ASSERT_TRUE(until_probe());
		ASSERT_GE(answer(status, code, detail), 1u);
		tick();
	}
	hc_ep *rec(uint32_t e)
	{
		return hc_find(h, d->snapshot->svcs[0].eps[e].obj);
	}
	const dp_ep_state *st(uint32_t e)
	{
		return dp_snapshot_ep(d->snapshot, 0, e);
	}
	std::string status(uint32_t e)
	{
		char b[24];
		hc_status_text(rec(e), b, sizeof(b));
		return b;
	}
	std::string run(const std::string &line)
	{
		ctl_buf out = {};
		bool prompt = false;
		ctl_execute_line(&env, line.c_str(), &out, &prompt);
		std::string s(out.data ? out.data : "", out.len);
		ctl_buf_free(&out);
		return s;
	}
	dp_ep_passive &pas(uint32_t e, unsigned w)
	{
		return d->snapshot->svcs[0].eps[e].obj->pw[w].pas;
	}
};

TEST_F(Engine, RiseFallFollowHaproxyCountersAndStatusStrings)
{
	dp_conf *c = make_conf({ "a" });
	set_checks(c);
	load(c, true);
	// HAProxy 2.6 starts a checked server UP with health at rise (not full)
	EXPECT_EQ(rec(0)->health, 2u);
	EXPECT_EQ(status(0), "UP 1/3");
	EXPECT_EQ(st(0)->health, DP_HEALTH_UP);
	check(DP_CHK_L7OK, 200);
	EXPECT_EQ(rec(0)->health, 4u);
	EXPECT_EQ(status(0), "UP");
	check(DP_CHK_L4CON, 0, "Connection refused");
	EXPECT_EQ(status(0), "UP 2/3");
	check(DP_CHK_L4CON, 0, "Connection refused");
	EXPECT_EQ(status(0), "UP 1/3");
	EXPECT_EQ(st(0)->health, DP_HEALTH_UP);
	check(DP_CHK_L4CON, 0, "Connection refused");
	EXPECT_EQ(status(0), "DOWN");
	EXPECT_EQ(st(0)->health, DP_HEALTH_DOWN) << "the published snapshot carries DOWN";
	EXPECT_EQ(rec(0)->chkfail, 3u);
	EXPECT_EQ(rec(0)->chkdown, 1u);
	// failures while DOWN at 0 are not chkfail (HAProxy counts only while health > 0)
	check(DP_CHK_L4TOUT);
	EXPECT_EQ(rec(0)->chkfail, 3u);
	check(DP_CHK_L7OK, 200);
	EXPECT_EQ(status(0), "DOWN 1/2");
	EXPECT_EQ(st(0)->health, DP_HEALTH_DOWN);
	check(DP_CHK_L7OK, 200);
	EXPECT_EQ(status(0), "UP");
	EXPECT_EQ(st(0)->health, DP_HEALTH_UP);
	EXPECT_EQ(rec(0)->chkdown, 1u);
	EXPECT_NE(std::string(rec(0)->why).find("Layer7 check passed, code: 200"),
		  std::string::npos)
		<< rec(0)->why;
}

TEST_F(Engine, NewEndpointGoesDownAtItsFirstFailureAsHaproxyInitStateUp)
{
	dp_conf *c = make_conf({ "a" });
	set_checks(c);
	load(c, true);
	check(DP_CHK_L7STS, 500, "HTTP 500");
	EXPECT_EQ(status(0), "DOWN");
	EXPECT_EQ(st(0)->health, DP_HEALTH_DOWN);
	EXPECT_NE(std::string(rec(0)->why)
			  .find("reason: Layer7 wrong status, code: 500, info: "
				"\"HTTP 500\", check duration: 1ms"),
		  std::string::npos)
		<< rec(0)->why;
}

TEST_F(Engine, ProbeIsTheConfiguredHttpRequestWithTheEndpointAsHost)
{
	dp_conf *c = make_conf({ "a" });
	set_checks(c);
	load(c, true);
	ASSERT_TRUE(until_probe());
	dp_probe *p = fake.out[0].empty() ? fake.out[1].front() : fake.out[0].front();
	EXPECT_EQ(std::string(p->req, p->req_len),
		  "GET /health HTTP/1.1\r\nHost: 198.18.0.21:80\r\nConnection: close\r\n"
		  "User-Agent: sluice-check\r\n\r\n");
	EXPECT_EQ(p->type, DP_CHECK_HTTP);
	EXPECT_EQ(p->port, 80);
	EXPECT_EQ(p->timeout_ms, 500u);
	EXPECT_EQ(p->n_expect, 1u);
	EXPECT_EQ(p->tag, st(0)->obj);
	// late_tsc: the scheduled time plus half the interval (fast while at health rise)
	EXPECT_EQ(p->late_tsc, now + 100);
}

TEST_F(Engine, IntervalsFollowTheStateAndJitterStaysWithinTenPercent)
{
	dp_conf *c = make_conf({ "a" });
	set_checks(c);
	load(c, true);
	auto gap = [&](uint8_t status) {
		EXPECT_TRUE(until_probe());
		uint64_t sent = now;
		answer(status);
		tick();
		return rec(0)->next_ms - sent;
	};
	// health at rise after start, and rising/falling: fast_interval (200)
	uint64_t g = gap(DP_CHK_L4CON); // DOWN at health 0 now: down_interval (3000)
	EXPECT_GE(g, 2700u);
	EXPECT_LE(g, 3300u);
	g = gap(DP_CHK_L4OK); // DOWN 1/2: fast
	EXPECT_GE(g, 180u);
	EXPECT_LE(g, 220u);
	std::vector<uint64_t> full;
	for (int i = 0; i < 40; i++)
		full.push_back(gap(DP_CHK_L4OK)); // UP at full health: interval
	bool varied = false;
	for (uint64_t x : full) {
		EXPECT_GE(x, 900u);
		EXPECT_LE(x, 1100u);
		varied |= x != full[0];
	}
	EXPECT_TRUE(varied) << "jitter moves the probes";
}

TEST_F(Engine, OneProbePerEndpointPerIntervalSpreadOverWorkers)
{
	dp_conf *c = make_conf({ "a", "b", "c", "d" });
	set_checks(c);
	c->services[0].health.fast_interval_ms = 0; // every state at 1000
	c->services[0].health.down_interval_ms = 0;
	load(c, true);
	// every endpoint's first probe lands within its first interval; round-robin over workers
	unsigned total = 0;
	for (int i = 0; i < 1001 && total < 4; i++) {
		tick(1);
		total = fake.sends[0] + fake.sends[1];
	}
	EXPECT_EQ(total, 4u);
	EXPECT_EQ(fake.sends[0], 2u);
	EXPECT_EQ(fake.sends[1], 2u);
	answer(DP_CHK_L4OK);
	while (now - t0 < 11001) {
		tick(1);
		answer(DP_CHK_L4OK);
	}
	total = fake.sends[0] + fake.sends[1];
	// 11 s: each endpoint 1 + 9..12 probes at 900..1100 ms apart, never one per worker
	EXPECT_GE(total, 40u);
	EXPECT_LE(total, 52u);
	EXPECT_LE(fake.sends[0] > fake.sends[1] ? fake.sends[0] - fake.sends[1]
						: fake.sends[1] - fake.sends[0],
		  1u);
}

TEST_F(Engine, SkippedProbesChangeNothingAndAreCounted)
{
	dp_conf *c = make_conf({ "a" });
	set_checks(c);
	load(c, true);
	check(DP_CHK_L4OK);
	ASSERT_EQ(status(0), "UP");
	for (int i = 0; i < 5; i++)
		check(DP_CHK_SKIPPED, 0, "not started in time");
	EXPECT_EQ(status(0), "UP");
	EXPECT_EQ(rec(0)->chkfail, 0u);
	EXPECT_EQ(rec(0)->skipped, 5u);
	EXPECT_EQ(h->skipped_late, 5u);
	// a full ring: the probe does not leave, and that is no failure either
	fake.full = true;
	for (int i = 0; i < 5000; i++)
		tick(1);
	EXPECT_EQ(status(0), "UP");
	EXPECT_GE(h->skipped_ring, 4u);
	EXPECT_EQ(hc_skipped(h), h->skipped_ring + 5);
	EXPECT_NE(run("show health").find("skipped " + std::to_string(hc_skipped(h))),
		  std::string::npos);
}

TEST_F(Engine, OutlierEjectsAfterConsecutive5xxAndReturnsAfterItsTime)
{
	dp_conf *c = make_conf({ "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" });
	set_outlier(c, 5, 0, 10);
	load(c, true);
	tick();
	// 4 in a row over two workers (3 + 1): not yet
	pas(0, 0).run_5xx = 3;
	pas(0, 1).run_5xx = 1;
	EXPECT_FALSE(tick(10));
	EXPECT_FALSE(st(0)->ejected);
	pas(0, 1).run_5xx = 2;
	EXPECT_TRUE(tick(10));
	EXPECT_TRUE(st(0)->ejected) << "the published snapshot carries the ejection";
	EXPECT_EQ(rec(0)->n_ejections, 1u);
	// the same runs do not eject it again, and it stays out for base_ejection_ms
	EXPECT_FALSE(tick(990));
	EXPECT_TRUE(st(0)->ejected);
	EXPECT_TRUE(tick(10));
	EXPECT_FALSE(st(0)->ejected);
	// an ok on worker 0 resets its run; worker 1 goes on: 5 since then
	pas(0, 0).n[DP_OUT_ok] = 1;
	pas(0, 0).run_5xx = 0;
	pas(0, 1).run_5xx = 4;
	EXPECT_FALSE(tick(10));
	pas(0, 1).run_5xx = 7;
	EXPECT_TRUE(tick(10));
	EXPECT_TRUE(st(0)->ejected);
	// second ejection: 2 x base = 2000 ms
	EXPECT_FALSE(tick(1990));
	EXPECT_TRUE(tick(10));
	EXPECT_FALSE(st(0)->ejected);
	// third: 3000 capped at max_ejection_ms 2500
	pas(0, 1).run_5xx = 12;
	EXPECT_TRUE(tick(10));
	EXPECT_FALSE(tick(2490));
	EXPECT_TRUE(tick(10));
	EXPECT_FALSE(st(0)->ejected);
	EXPECT_EQ(rec(0)->n_ejections, 3u);
	EXPECT_EQ(h->ejections, 3u);
}

TEST_F(Engine, OutlierNeverEjectsMoreThanItsShareButAlwaysOne)
{
	dp_conf *c = make_conf({ "a", "b", "c" });
	set_outlier(c, 0, 3, 10); // 10 % of 3 is 0: one may still go
	load(c, true);
	tick();
	for (uint32_t e = 0; e < 3; e++)
		pas(e, 0).run_gw = 3;
	EXPECT_TRUE(tick(10));
	unsigned ej = 0;
	for (uint32_t e = 0; e < 3; e++)
		ej += st(e)->ejected;
	EXPECT_EQ(ej, 1u);
	EXPECT_FALSE(tick(10)) << "the others stay in while one is out";
	// a 5xx resets a gateway run (dp_health.h): that worker's base starts again
	EXPECT_EQ(rec(0)->eject_reason + rec(1)->eject_reason + rec(2)->eject_reason,
		  (unsigned)HC_EJECT_GATEWAY);
}

TEST_F(Engine, EjectedEndpointWithChecksWaitsForAPassingCheck)
{
	dp_conf *c = make_conf({ "a" });
	set_checks(c);
	set_outlier(c, 2, 0, 100);
	load(c, true);
	rec(0)->next_ms = now + 1000000; // no check before the ejection asks for one
	pas(0, 0).run_5xx = 2;
	EXPECT_TRUE(tick(10));
	EXPECT_TRUE(st(0)->ejected);
	tick(1000); // its time is over: a check is scheduled at once, it stays out until then
	EXPECT_TRUE(st(0)->ejected);
	EXPECT_TRUE(rec(0)->wait_check);
	ASSERT_TRUE(until_probe(20));
	answer(DP_CHK_L7OK, 200);
	EXPECT_TRUE(tick());
	EXPECT_FALSE(st(0)->ejected);
}

TEST_F(Engine, PanicBalancesOverEveryServingEndpointBelowTheThreshold)
{
	dp_conf *c = make_conf({ "a", "b", "c", "d" });
	set_checks(c);
	c->services[0].panic_threshold_percent = 50;
	load(c, true);
	EXPECT_FALSE(dp_snapshot_panic(d->snapshot, 0));
	for (uint32_t e = 0; e < 2; e++)
		EXPECT_EQ(hc_set_health(h, d.get(), rec(e), "down", now, 0), 0);
	tick();
	EXPECT_FALSE(dp_snapshot_panic(d->snapshot, 0)) << "2 of 4 healthy: at the threshold";
	hc_set_health(h, d.get(), rec(2), "down", now, 0);
	tick();
	EXPECT_TRUE(dp_snapshot_panic(d->snapshot, 0)) << "1 of 4 healthy";
	EXPECT_NE(run("show health app").find("panic ON"), std::string::npos);
	hc_set_health(h, d.get(), rec(3), "down", now, 0);
	tick();
	EXPECT_FALSE(dp_snapshot_panic(d->snapshot, 0)) << "none healthy: no panic, 503";
	EXPECT_NE(run("show health app").find("no healthy endpoint, requests get 503"),
		  std::string::npos);
	// maintenance does not count as serving: 1 healthy of 1 serving
	hc_set_health(h, d.get(), rec(3), "up", now, 0);
	tick();
	for (uint32_t e = 0; e < 3; e++)
		EXPECT_EQ(run("disable server app/" + std::string(1, (char)('a' + e))), "\n");
	EXPECT_FALSE(dp_snapshot_panic(d->snapshot, 0));
	// 0 = off
	EXPECT_EQ(run("enable server app/a"), "\n");
	c->services[0].panic_threshold_percent = 0;
	EXPECT_FALSE(dp_snapshot_panic(d->snapshot, 0));
}

TEST_F(Engine, SetServerHealthAndEnableDisableHealthAsHaproxy)
{
	dp_conf *c = make_conf({ "a", "b" });
	set_checks(c);
	load(c, true);
	EXPECT_EQ(run("set server app/a health down"), "\n");
	EXPECT_EQ(st(0)->health, DP_HEALTH_DOWN);
	EXPECT_EQ(rec(0)->health, 0u);
	EXPECT_EQ(run("set server app/a health stopping"), "\n");
	EXPECT_EQ(st(0)->health, DP_HEALTH_STOPPING);
	EXPECT_EQ(status(0), "NOLB");
	EXPECT_FALSE(dp_ep_serving(st(0)));
	EXPECT_EQ(run("set server app/a health up"), "\n");
	EXPECT_EQ(st(0)->health, DP_HEALTH_UP);
	EXPECT_EQ(rec(0)->health, 4u);
	EXPECT_EQ(run("set server app/a health sideways"),
		  "error: health: expected up, stopping or down, got 'sideways'\n\n");
	// disable health: unchecked, counts as UP; no probe leaves for it
	EXPECT_EQ(run("set server app/a health down"), "\n");
	EXPECT_EQ(run("disable health app/a"), "\n");
	EXPECT_EQ(st(0)->health, DP_HEALTH_UP);
	EXPECT_TRUE(rec(0)->disabled);
	for (int i = 0; i < 3000; i++) {
		tick(1);
		for (unsigned w = 0; w < 2; w++)
			for (dp_probe *p : fake.out[w])
				EXPECT_NE(p->tag, st(0)->obj);
		answer(DP_CHK_L4CON);
	}
	EXPECT_EQ(st(0)->health, DP_HEALTH_UP);
	EXPECT_NE(run("show servers state app").find(" 2 0 1 1 "), std::string::npos);
	EXPECT_EQ(run("enable health app/a"), "\n");
	check(DP_CHK_L4CON, 0, "Connection refused");
	EXPECT_EQ(st(0)->health, DP_HEALTH_DOWN);
	EXPECT_EQ(run("enable health app/zz"), "error: service 'app' has no endpoint 'zz'\n\n");
}

TEST_F(Engine, HealthSurvivesAReloadThatKeepsTheEndpoint)
{
	dp_conf *c = make_conf({ "a", "b" });
	set_checks(c);
	load(c, true);
	EXPECT_EQ(run("set server app/a health down"), "\n");
	hc_ep *before = rec(0);
	uint64_t chkdown = before->chkdown;
	dp_conf *c2 = make_conf({ "a", "b", "c" });
	set_checks(c2);
	load(c2, false); // a reload: keep = false, the file is the truth again
	EXPECT_EQ(st(0)->health, DP_HEALTH_DOWN);
	EXPECT_EQ(rec(0), before);
	EXPECT_EQ(rec(0)->chkdown, chkdown);
	EXPECT_EQ(st(2)->health, DP_HEALTH_UP);
	EXPECT_EQ(rec(2)->health, 2u) << "a new endpoint starts as HAProxy starts one";
	// a reload that drops b forgets it
	const dp_endpoint *b = st(1)->obj;
	dp_conf *c3 = make_conf({ "a" });
	set_checks(c3);
	load(c3, false);
	EXPECT_EQ(hc_find(h, b), nullptr);
	EXPECT_EQ(st(0)->health, DP_HEALTH_DOWN);
}

TEST_F(Engine, OperatorViewsSayWhy)
{
	dp_conf *c = make_conf({ "a", "b" });
	set_checks(c);
	load(c, true);
	rec(1)->next_ms = now + 1000000; // only a is probed
	check(DP_CHK_L4CON, 0, "Connection refused");
	pas(0, 1).n[DP_OUT_connect_refused] = 7;
	pas(0, 1).last_fail = DP_OUT_connect_refused;
	pas(0, 1).last_fail_ms = 1700000000000ull;
	std::string s = run("show health app/a");
	if (getenv("HC_SHOW") != nullptr) // a look at the answer: HC_SHOW=1 hc_engine_test
		printf("%s%s", s.c_str(), run("show health app/a json").c_str());
	EXPECT_NE(s.find("endpoint app/a 198.18.0.21:80"), std::string::npos) << s;
	EXPECT_NE(s.find("state: DOWN since"), std::string::npos) << s;
	EXPECT_NE(s.find("serving: no: DOWN"), std::string::npos) << s;
	EXPECT_NE(s.find("reason: Layer4 connection problem, info: \"Connection refused\""),
		  std::string::npos)
		<< s;
	EXPECT_NE(s.find("L4CON code 0 1 ms worker"), std::string::npos) << s;
	EXPECT_NE(s.find("connect_refused 7"), std::string::npos) << s;
	EXPECT_NE(s.find("last failure: connect_refused 2023-11-14T22:13:20.000Z"),
		  std::string::npos)
		<< s;
	EXPECT_EQ(s.find("app/b"), std::string::npos);
	EXPECT_EQ(s.find("\n\n"), s.size() - 2) << "no empty line before the end";
	std::string j = run("show health app/a json");
	EXPECT_NE(j.find("\"status\":\"DOWN\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"result\":\"L4CON\""), std::string::npos) << j;
	EXPECT_EQ(run("show health nope"), "error: no service 'nope'\n\n");

	// show stat: the check columns of HAProxy
	std::string stat = run("show stat");
	size_t row = stat.find("\napp,a,");
	ASSERT_NE(row, std::string::npos);
	std::string line = stat.substr(row + 1, stat.find('\n', row + 1) - row - 1);
	std::vector<std::string> cols;
	for (size_t p = 0, q; (q = line.find(',', p)) != std::string::npos; p = q + 1)
		cols.push_back(line.substr(p, q - p));
	std::string hdr = stat.substr(2, stat.find('\n') - 2);
	std::vector<std::string> names;
	for (size_t p = 0, q; (q = hdr.find(',', p)) != std::string::npos; p = q + 1)
		names.push_back(hdr.substr(p, q - p));
	auto col = [&](const std::string &n) {
		for (size_t i = 0; i < names.size(); i++)
			if (names[i] == n)
				return cols.at(i);
		return std::string("?");
	};
	EXPECT_EQ(col("status"), "DOWN");
	EXPECT_EQ(col("chkfail"), "1");
	EXPECT_EQ(col("chkdown"), "1");
	EXPECT_EQ(col("check_status"), "L4CON");
	EXPECT_EQ(col("check_code"), "");
	EXPECT_EQ(col("check_duration"), "1");
	EXPECT_EQ(col("last_chk"), "Connection refused");
	EXPECT_EQ(col("check_desc"), "Layer4 connection problem");
	EXPECT_EQ(col("check_rise"), "2");
	EXPECT_EQ(col("check_fall"), "3");
	EXPECT_EQ(col("check_health"), "0");
	EXPECT_EQ(col("downtime"), "0");

	// show servers state: op_state 0, check status HCHK_STATUS_L4CON (8), result failed
	// (2), health 0, state configured|enabled (6)
	std::string ss = run("show servers state app");
	EXPECT_NE(ss.find("app 1 a 198.18.0.21 0 0 1 1 "), std::string::npos) << ss;
	EXPECT_NE(ss.find(" 8 2 0 6 0 0 0 - 80 - 0 0 - - 0\n"), std::string::npos) << ss;

	// Prometheus
	ctl_buf b = {};
	hc_prom_render(h, d.get(), &b);
	std::string m(b.data, b.len);
	ctl_buf_free(&b);
	EXPECT_NE(m.find("sluice_server_check_status{service=\"app\",endpoint=\"a\",state="
			 "\"L4CON\"} 1"),
		  std::string::npos);
	EXPECT_NE(m.find("sluice_server_check_failures_total{service=\"app\",endpoint=\"a\"} 1"),
		  std::string::npos);
	EXPECT_NE(m.find("sluice_server_check_up_down_total{service=\"app\",endpoint=\"a\"} 1"),
		  std::string::npos);
	EXPECT_NE(m.find("sluice_server_downtime_seconds_total{service=\"app\",endpoint=\"a\"} "),
		  std::string::npos);
	EXPECT_NE(m.find("sluice_server_ejections_total{service=\"app\",endpoint=\"b\"} 0"),
		  std::string::npos);
	EXPECT_NE(m.find("sluice_server_status{service=\"app\",endpoint=\"a\",state=\"DOWN\"} 1"),
		  std::string::npos);
	EXPECT_NE(m.find("sluice_server_status{service=\"app\",endpoint=\"a\",state=\"UP\"} 0"),
		  std::string::npos);
}

} // namespace

namespace
{

TEST_F(Engine, EjectedEndpointWhoseChecksAreDisabledReturnsAfterItsTime)
{
	dp_conf *c = make_conf({ "a" });
	set_checks(c);
	set_outlier(c, 2, 0, 100);
	load(c, true);
	rec(0)->next_ms = now + 1000000;
	pas(0, 0).run_5xx = 2;
	EXPECT_TRUE(tick(10));
	tick(1000);
	EXPECT_TRUE(rec(0)->wait_check);
	answer(DP_CHK_SKIPPED); // its check could not start: it stays out
	tick();
	EXPECT_TRUE(st(0)->ejected);
	EXPECT_EQ(run("disable health app/a"), "\n");
	EXPECT_TRUE(tick(10)) << "no check will come: back after its time";
	EXPECT_FALSE(st(0)->ejected);
	EXPECT_NE(run("show info").find("Outlier_ejections: 1"), std::string::npos);
}

} // namespace

namespace
{

// The control loop's own tick (ctl_tick, real clock) runs the engine and publishes.
TEST_F(Engine, CtlTickPublishesTheEnginesDecision)
{
	dp_conf *c = make_conf({ "a", "b" });
	set_outlier(c, 0, 4, 50);
	load(c, true);
	uint64_t epoch = d->snapshot->epoch;
	ctl_tick(&env);
	EXPECT_EQ(d->snapshot->epoch, epoch) << "nothing changed: no new snapshot";
	pas(1, 0).run_gw = 4;
	ctl_tick(&env);
	EXPECT_EQ(d->snapshot->epoch, epoch + 1);
	EXPECT_TRUE(st(1)->ejected);
	EXPECT_FALSE(st(0)->ejected);
	EXPECT_TRUE(hc_wanted(d->snapshot->conf));
	set_outlier((dp_conf *)d->snapshot->conf, 0, 0, 50);
	EXPECT_FALSE(hc_wanted(d->snapshot->conf)) << "no checks, no outlier detection";
}

} // namespace
