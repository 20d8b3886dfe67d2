// SPDX-License-Identifier: BSD-3-Clause
// Configuration loader: every fixture under tests/unit/cfg/invalid must fail with exactly the
// errors its "# expect: LINE:COL: message" lines name (position compared exactly, message as a
// substring), every valid fixture must load, and the values and defaults must be what
// INTERFACES.md says.
#include <arpa/inet.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
#include "cfg_internal.h"
}

namespace
{

const std::string kCfgDir = std::string(SLUICE_SRC_DIR) + "/tests/unit/cfg";

uint32_t ip(const char *s)
{
	struct in_addr a;
	EXPECT_EQ(inet_pton(AF_INET, s, &a), 1) << s;
	return a.s_addr;
}

std::vector<std::string> lines_of(const cfg_errors &e)
{
	return std::vector<std::string>(e.lines, e.lines + e.n);
}

std::string joined(const cfg_errors &e)
{
	std::string s;
	for (unsigned int i = 0; i < e.n; i++)
		s += std::string(e.lines[i]) + "\n";
	return s;
}

// The override is process-wide: every test that turns it on turns it off again.
struct ProxyOverride {
	ProxyOverride()
	{
		cfg_set_planned_override(true);
	}
	~ProxyOverride()
	{
		cfg_set_planned_override(false);
	}
};

// Loads a file and expects no error; the conf is freed with the object.
struct Loaded {
	dp_conf *conf = nullptr;
	cfg_errors errs = {};
	explicit Loaded(const std::string &path)
	{
		conf = cfg_load(path.c_str(), &errs);
	}
	~Loaded()
	{
		cfg_free(conf);
		cfg_errors_free(&errs);
	}
};

std::vector<std::string> list_dir(const std::string &dir)
{
	std::vector<std::string> out;
	DIR *d = opendir(dir.c_str());
	if (d == nullptr)
		return out;
	while (struct dirent *de = readdir(d)) {
		std::string n = de->d_name;
		if (n.size() > 5 && n.compare(n.size() - 5, 5, ".yaml") == 0)
			out.push_back(n);
	}
	closedir(d);
	std::sort(out.begin(), out.end());
	return out;
}

// A scratch file, removed at the end of the test.
struct TempFile {
	std::string path;
	explicit TempFile(const std::string &text)
	{
		char tmpl[] = "/tmp/sluice-cfg-test-XXXXXX";
		int fd = mkstemp(tmpl);
		EXPECT_GE(fd, 0);
		path = tmpl;
		EXPECT_EQ(write(fd, text.data(), text.size()), (ssize_t)text.size());
		close(fd);
	}
	~TempFile()
	{
		unlink(path.c_str());
	}
};

struct Expect {
	std::string pos; // "LINE:COL"
	std::string msg; // substring of the message
};

// ---- invalid fixtures ----

// One fixture: its "# expect:" lines against what cfg_load reports, in order.
void check_invalid_fixture(const std::string &path)
{
	std::ifstream in(path);
	std::vector<Expect> want;
	bool proxy = false;
	std::string l;

	while (std::getline(in, l) && l.rfind("# ", 0) == 0) {
		if (l.rfind("# expect: ", 0) == 0) {
			std::string rest = l.substr(10);
			size_t c1 = rest.find(':'), c2 = rest.find(": ", c1 + 1);
			ASSERT_NE(c2, std::string::npos) << l;
			want.push_back({ rest.substr(0, c2), rest.substr(c2 + 2) });
		} else if (l == "# options: proxy") {
			proxy = true;
		}
	}
	ASSERT_FALSE(want.empty()) << "no '# expect:' line";

	cfg_set_planned_override(proxy);
	cfg_errors errs = {};
	dp_conf *conf = cfg_load(path.c_str(), &errs);
	cfg_set_planned_override(false);

	EXPECT_EQ(conf, nullptr);
	cfg_free(conf);
	EXPECT_EQ(errs.n, want.size()) << joined(errs);
	for (size_t i = 0; i < want.size() && i < errs.n; i++) {
		const std::string got = errs.lines[i];
		const std::string prefix = path + ":" + want[i].pos + ": ";

		EXPECT_EQ(got.substr(0, prefix.size()), prefix) << got;
		EXPECT_NE(got.find(want[i].msg, prefix.size()), std::string::npos)
			<< "got:  " << got << "\nwant: " << want[i].msg;
	}
	cfg_errors_free(&errs);
}

TEST(CfgInvalid, EveryFixtureFailsWithExactlyItsExpectedErrors)
{
	const std::string dir = kCfgDir + "/invalid";
	std::vector<std::string> files = list_dir(dir);

	ASSERT_GE(files.size(), 45u) << "fixtures missing in " << dir;
	for (const std::string &name : files) {
		SCOPED_TRACE(name);
		check_invalid_fixture(dir + "/" + name);
	}
}

TEST(CfgInvalid, UnreadableFileNamesTheReason)
{
	cfg_errors errs = {};

	EXPECT_EQ(cfg_load("/nonexistent/sluice.yaml", &errs), nullptr);
	ASSERT_EQ(errs.n, 1u);
	EXPECT_STREQ(errs.lines[0],
		     "/nonexistent/sluice.yaml: cannot read: No such file or directory");
	cfg_errors_free(&errs);

	EXPECT_EQ(cfg_load("/tmp", &errs), nullptr);
	ASSERT_EQ(errs.n, 1u);
	EXPECT_STREQ(errs.lines[0], "/tmp: cannot read: Is a directory");
	cfg_errors_free(&errs);
	EXPECT_EQ(errs.n, 0u);
	EXPECT_EQ(errs.lines, nullptr);
}

TEST(CfgInvalid, InvalidUtf8IsReportedAtItsPosition)
{
	TempFile f("control:\n  access_log: ab\xc3\x28\n");
	cfg_errors errs = {};

	EXPECT_EQ(cfg_load(f.path.c_str(), &errs), nullptr);
	ASSERT_EQ(errs.n, 1u) << joined(errs);
	// At the offending octet (the second of the sequence), not at its lead byte.
	EXPECT_EQ(std::string(errs.lines[0]),
		  f.path + ":2:18: invalid input: invalid trailing UTF-8 octet");
	cfg_errors_free(&errs);
}

TEST(CfgValid, ProxyExampleLoadsWithoutTheOverride)
{
	cfg_errors errs = {};
	const std::string path = std::string(SLUICE_SRC_DIR) + "/configs/proxy-example.yaml";

	// Services and routes to them are built: the example loads as shipped.
	dp_conf *conf = cfg_load(path.c_str(), &errs);
	ASSERT_NE(conf, nullptr) << joined(errs);
	ASSERT_GE(conf->n_services, 1u);
	ASSERT_GE(conf->n_listeners, 1u);
	bool routed = false;
	for (uint32_t l = 0; l < conf->n_listeners; l++)
		for (uint32_t r = 0; r < conf->listeners[l].n_routes; r++)
			if (conf->listeners[l].routes[r].service != nullptr) {
				routed = true;
				EXPECT_GE(conf->listeners[l].routes[r].service_idx, 0);
			}
	EXPECT_TRUE(routed);
	cfg_free(conf);
}

TEST(CfgInvalid, NullErrorListIsAllowed)
{
	TempFile f("dataplane: { workers: 99 }\n");

	EXPECT_EQ(cfg_load(f.path.c_str(), nullptr), nullptr);
}

// ---- valid fixtures ----

TEST(CfgValid, EveryValidFixtureLoads)
{
	const std::string dir = kCfgDir + "/valid";
	std::vector<std::string> files = list_dir(dir);
	ProxyOverride px;

	ASSERT_GE(files.size(), 4u);
	for (const std::string &name : files) {
		SCOPED_TRACE(name);
		Loaded l(dir + "/" + name);
		EXPECT_NE(l.conf, nullptr) << joined(l.errs);
		EXPECT_EQ(l.errs.n, 0u);
	}
}

TEST(CfgValid, ShippedConfigsLoad)
{
	for (const char *name : { "example.yaml", "lab.yaml" }) {
		SCOPED_TRACE(name);
		Loaded l(std::string(SLUICE_SRC_DIR) + "/configs/" + name);
		EXPECT_NE(l.conf, nullptr) << joined(l.errs);
	}
	ProxyOverride px;
	Loaded l(std::string(SLUICE_SRC_DIR) + "/configs/proxy-example.yaml");
	ASSERT_NE(l.conf, nullptr) << joined(l.errs);
	EXPECT_GE(l.conf->n_listeners, 1u);
	EXPECT_GE(l.conf->n_services, 1u);
}

TEST(CfgValid, EmptyFileGivesEveryDefault)
{
	Loaded l(kCfgDir + "/valid/empty.yaml");
	ASSERT_NE(l.conf, nullptr) << joined(l.errs);
	const dp_conf *c = l.conf;

	EXPECT_EQ(std::string(c->file), kCfgDir + "/valid/empty.yaml");
	EXPECT_EQ(c->dataplane.eal, nullptr);
	EXPECT_EQ(c->dataplane.n_eal, 0u);
	EXPECT_EQ(c->dataplane.workers, 1u);
	EXPECT_EQ(c->dataplane.mbufs, 32768u);
	EXPECT_EQ(c->dataplane.max_connections, 65536u);
	EXPECT_EQ(c->dataplane.idle_sleep_us, 0u);
	EXPECT_EQ(c->dataplane.ports, nullptr);
	EXPECT_EQ(c->dataplane.n_ports, 0u);
	EXPECT_EQ(c->listeners, nullptr);
	EXPECT_EQ(c->n_listeners, 0u);
	EXPECT_EQ(c->services, nullptr);
	EXPECT_EQ(c->n_services, 0u);
	EXPECT_STREQ(c->control.socket, "/run/sluice/sluice.sock");
	EXPECT_STREQ(c->control.metrics, "127.0.0.1:9190");
	EXPECT_EQ(c->control.log_level, (uint32_t)DP_LOG_INFO);
	EXPECT_STREQ(c->control.access_log, "");
}

TEST(CfgValid, EmptySectionsAndCommentsOnlyGiveDefaults)
{
	for (const char *text :
	     { "", "# nothing\n", "~\n", "dataplane:\ncontrol:\n", "dataplane: {}\ncontrol: {}\n",
	       "dataplane:\n  ports: []\n  eal:\n" }) {
		SCOPED_TRACE(text);
		TempFile f(text);
		Loaded l(f.path);
		ASSERT_NE(l.conf, nullptr) << joined(l.errs);
		EXPECT_EQ(l.conf->dataplane.workers, 1u);
		EXPECT_EQ(l.conf->dataplane.n_ports, 0u);
		EXPECT_STREQ(l.conf->control.socket, "/run/sluice/sluice.sock");
	}
}

TEST(CfgValid, EveryDataplaneAndControlKey)
{
	Loaded l(kCfgDir + "/valid/full.yaml");
	ASSERT_NE(l.conf, nullptr) << joined(l.errs);
	const dp_dataplane_conf &d = l.conf->dataplane;

	ASSERT_EQ(d.n_eal, 4u);
	EXPECT_STREQ(d.eal[0], "--no-huge");
	EXPECT_STREQ(d.eal[1], "-m");
	EXPECT_STREQ(d.eal[2], "512");
	EXPECT_STREQ(d.eal[3], "--no-pci");
	EXPECT_EQ(d.workers, 16u);
	EXPECT_EQ(d.mbufs, 1024u);
	EXPECT_EQ(d.max_connections, 1u);
	EXPECT_EQ(d.idle_sleep_us, 100u);
	ASSERT_EQ(d.n_ports, 3u);

	EXPECT_STREQ(d.ports[0].name, "lan");
	EXPECT_STREQ(d.ports[0].device, "net_af_packet0,iface=sl-lan");
	EXPECT_EQ(d.ports[0].addr, ip("198.18.0.10"));
	EXPECT_EQ(d.ports[0].prefix_len, 24u);
	EXPECT_EQ(d.ports[0].gateway, ip("198.18.0.1"));
	EXPECT_EQ(d.ports[0].mtu, 9000u);

	// No name: "port<index>"; no gateway: 0; no mtu: 1500.
	EXPECT_STREQ(d.ports[1].name, "port1");
	EXPECT_STREQ(d.ports[1].device, "0000:03:00.0");
	EXPECT_EQ(d.ports[1].addr, ip("198.19.255.254"));
	EXPECT_EQ(d.ports[1].prefix_len, 32u);
	EXPECT_EQ(d.ports[1].gateway, 0u);
	EXPECT_EQ(d.ports[1].mtu, 1500u);

	EXPECT_STREQ(d.ports[2].name, "wan.2:x-y_z");
	EXPECT_EQ(d.ports[2].prefix_len, 31u);
	EXPECT_EQ(d.ports[2].mtu, 576u);

	EXPECT_STREQ(l.conf->control.socket, "/tmp/sluice-test.sock");
	EXPECT_STREQ(l.conf->control.metrics, "");
	EXPECT_EQ(l.conf->control.log_level, (uint32_t)DP_LOG_DEBUG);
	EXPECT_STREQ(l.conf->control.access_log, "/var/log/sluice/access.log");
}

TEST(CfgValid, FlowStyleAndQuotingLoadTheSame)
{
	Loaded l(kCfgDir + "/valid/flow.yaml");
	ASSERT_NE(l.conf, nullptr) << joined(l.errs);
	const dp_dataplane_conf &d = l.conf->dataplane;

	EXPECT_EQ(d.workers, 2u); // written "2", quoted
	ASSERT_EQ(d.n_ports, 2u);
	EXPECT_STREQ(d.ports[0].name, "a");
	EXPECT_EQ(d.ports[0].addr, ip("198.18.0.10"));
	EXPECT_EQ(d.ports[0].mtu, 1500u);
	EXPECT_STREQ(d.ports[1].name, "b");
	EXPECT_EQ(d.ports[1].gateway, ip("198.18.1.1"));
	ASSERT_EQ(d.n_eal, 1u);
	EXPECT_STREQ(d.eal[0], "--no-huge");
	EXPECT_EQ(l.conf->control.log_level, (uint32_t)DP_LOG_EMERG);
}

TEST(CfgValid, LogLevelsMapToRteLogValues)
{
	const char *names[] = { "emerg",   "alert",  "crit", "err",
				"warning", "notice", "info", "debug" };
	for (uint32_t i = 0; i < 8; i++) {
		TempFile f(std::string("control: { log_level: ") + names[i] + " }\n");
		Loaded l(f.path);
		ASSERT_NE(l.conf, nullptr) << joined(l.errs);
		EXPECT_EQ(l.conf->control.log_level, i + 1) << names[i]; // RTE_LOG_EMERG is 1
	}
}

TEST(CfgValid, BalancersHashKeyAndSlowStart)
{
	ProxyOverride px;
	Loaded l(kCfgDir + "/valid/balance.yaml");
	ASSERT_NE(l.conf, nullptr) << joined(l.errs);
	const dp_conf *c = l.conf;
	ASSERT_EQ(c->n_services, 5u);
	auto name = [](const dp_service_conf &s) {
		return std::string(s.hash_key + s.hash_name_off, s.hash_name_len);
	};

	EXPECT_EQ(c->services[0].balance, (uint32_t)DP_BALANCE_RANDOM_TWO);
	EXPECT_EQ(c->services[0].slow_start_ms, 30000u);
	EXPECT_EQ(c->services[0].hash_key, nullptr);
	EXPECT_EQ(c->services[0].hash_kind, (uint32_t)DP_HASH_CLIENT_IP);
	EXPECT_EQ(c->services[1].balance, (uint32_t)DP_BALANCE_MAGLEV);
	EXPECT_EQ(c->services[1].hash_kind, (uint32_t)DP_HASH_CLIENT_IP); // the default
	EXPECT_EQ(c->services[1].slow_start_ms, 0u);
	EXPECT_EQ(c->services[2].hash_kind, (uint32_t)DP_HASH_HEADER);
	EXPECT_EQ(name(c->services[2]), "X-User");
	EXPECT_EQ(c->services[3].hash_kind, (uint32_t)DP_HASH_COOKIE);
	EXPECT_EQ(name(c->services[3]), "session");
	EXPECT_EQ(c->services[3].slow_start_ms, 5000u);
	EXPECT_EQ(c->services[4].hash_kind, (uint32_t)DP_HASH_CLIENT_IP);
	EXPECT_STREQ(c->services[4].hash_key, "client_ip");
}

TEST(CfgValid, ProxyListenersRoutesAndServices)
{
	ProxyOverride px;
	Loaded l(kCfgDir + "/valid/proxy.yaml");
	ASSERT_NE(l.conf, nullptr) << joined(l.errs);
	const dp_conf *c = l.conf;

	ASSERT_EQ(c->n_listeners, 2u);
	const dp_listener_conf &w = c->listeners[0];
	EXPECT_STREQ(w.name, "web");
	EXPECT_EQ(w.port, 8080u);
	EXPECT_EQ(w.addr, ip("198.18.0.10"));
	EXPECT_EQ(w.limits.max_connections, 5000u);
	EXPECT_EQ(w.limits.header_timeout_ms, 2000u);
	EXPECT_EQ(w.limits.idle_timeout_ms, 3000u);
	EXPECT_EQ(w.limits.max_header_bytes, 8192u);
	EXPECT_EQ(w.limits.max_headers, 50u);
	EXPECT_EQ(w.limits.max_body_bytes, 10000000000ull);
	EXPECT_EQ(w.limits.max_connections_per_client, 0u); /* off by default */
	ASSERT_EQ(w.n_routes, 4u);

	EXPECT_STREQ(w.routes[0].match_host, "api.example");
	EXPECT_STREQ(w.routes[0].match_path_prefix, "/v1/");
	EXPECT_STREQ(w.routes[0].service, "api");
	EXPECT_EQ(w.routes[0].service_idx, 1);
	EXPECT_FALSE(w.routes[0].has_respond);
	EXPECT_EQ(w.routes[0].rate_limit.requests_per_second, 1000u);
	EXPECT_EQ(w.routes[0].rate_limit.burst, 200u);
	EXPECT_EQ(w.routes[0].rate_limit.per_kind, (uint32_t)DP_RL_CLIENT_IP);

	EXPECT_STREQ(w.routes[1].match_host, "*.static.example");
	EXPECT_EQ(w.routes[1].rate_limit.requests_per_second, 0u); /* off */
	EXPECT_EQ(w.routes[1].match_path_prefix, nullptr);
	EXPECT_EQ(w.routes[1].service_idx, 0);

	EXPECT_EQ(w.routes[2].match_host, nullptr);
	EXPECT_STREQ(w.routes[2].match_path_prefix, "/big");
	EXPECT_TRUE(w.routes[2].has_respond);
	EXPECT_EQ(w.routes[2].service, nullptr);
	EXPECT_EQ(w.routes[2].service_idx, -1);
	EXPECT_EQ(w.routes[2].respond.status, 200u);
	EXPECT_EQ(w.routes[2].respond.body, nullptr);
	EXPECT_EQ(w.routes[2].respond.bytes, 1048576);
	EXPECT_STREQ(w.routes[2].respond.content_type, "application/octet-stream");
	EXPECT_EQ(w.routes[2].rate_limit.requests_per_second, 5u);
	EXPECT_EQ(w.routes[2].rate_limit.burst, 0u);
	EXPECT_EQ(w.routes[2].rate_limit.per_kind, (uint32_t)DP_RL_HEADER);
	EXPECT_STREQ(w.routes[2].rate_limit.per, "header:X-Api-Key");

	EXPECT_TRUE(w.routes[3].has_respond);
	EXPECT_EQ(w.routes[3].respond.status, 404u);
	EXPECT_STREQ(w.routes[3].respond.body, "not here\n");
	EXPECT_EQ(w.routes[3].respond.bytes, -1);
	EXPECT_STREQ(w.routes[3].respond.content_type, "text/plain");

	// Second listener: defaults everywhere but the port.
	const dp_listener_conf &d = c->listeners[1];
	EXPECT_STREQ(d.name, "listener1");
	EXPECT_EQ(d.port, 80u);
	EXPECT_EQ(d.addr, 0u);
	EXPECT_EQ(d.limits.max_connections, 100000u);
	EXPECT_EQ(d.limits.header_timeout_ms, 10000u);
	EXPECT_EQ(d.limits.idle_timeout_ms, 60000u);
	EXPECT_EQ(d.limits.max_header_bytes, 16384u);
	EXPECT_EQ(d.limits.max_headers, 100u);
	EXPECT_EQ(d.limits.max_body_bytes, 0u);
	ASSERT_EQ(d.n_routes, 1u);
	EXPECT_TRUE(d.routes[0].has_respond);
	EXPECT_EQ(d.routes[0].respond.status, 200u);
	EXPECT_STREQ(d.routes[0].respond.body, ""); // neither body nor bytes: empty body
	EXPECT_EQ(d.routes[0].respond.bytes, -1);

	ASSERT_EQ(c->n_services, 2u);
	const dp_service_conf &s = c->services[0];
	EXPECT_STREQ(s.name, "static");
	EXPECT_EQ(s.balance, (uint32_t)DP_BALANCE_ROUND_ROBIN);
	EXPECT_EQ(s.pool_max_idle_per_endpoint, 64u);
	EXPECT_EQ(s.pool_idle_timeout_ms, 30000u);
	EXPECT_EQ(s.connect_ms, 1000u);
	EXPECT_EQ(s.response_ms, 30000u);
	ASSERT_EQ(s.n_endpoints, 1u);
	EXPECT_STREQ(s.endpoints[0].name, "198.18.0.31:80"); // default name
	EXPECT_EQ(s.endpoints[0].addr, ip("198.18.0.31"));
	EXPECT_EQ(s.endpoints[0].port, 80u);
	EXPECT_EQ(s.endpoints[0].weight, 1u);

	const dp_service_conf &a = c->services[1];
	EXPECT_STREQ(a.name, "api");
	EXPECT_EQ(a.balance, (uint32_t)DP_BALANCE_WEIGHTED_ROUND_ROBIN);
	EXPECT_EQ(a.pool_max_idle_per_endpoint, 0u);
	EXPECT_EQ(a.pool_idle_timeout_ms, 5000u);
	EXPECT_EQ(a.connect_ms, 250u);
	EXPECT_EQ(a.response_ms, 60000u);
	ASSERT_EQ(a.n_endpoints, 3u);
	EXPECT_STREQ(a.endpoints[0].name, "a1");
	EXPECT_EQ(a.endpoints[0].addr, ip("198.18.0.21"));
	EXPECT_EQ(a.endpoints[0].port, 8080u);
	EXPECT_EQ(a.endpoints[0].weight, 256u);
	EXPECT_STREQ(a.endpoints[1].name, "a2");
	EXPECT_EQ(a.endpoints[1].weight, 0u);
	EXPECT_STREQ(a.endpoints[2].name, "198.18.0.23:65535");
	EXPECT_EQ(a.endpoints[2].port, 65535u);
}

TEST(CfgValid, EmptyServiceAndBalanceNames)
{
	ProxyOverride px;
	TempFile f("services:\n  a: {}\n  b:\n  c: { balance: least_connections, endpoints: [] }\n"
		   "listeners: []\n");
	Loaded l(f.path);
	ASSERT_NE(l.conf, nullptr) << joined(l.errs);
	ASSERT_EQ(l.conf->n_services, 3u);
	EXPECT_STREQ(l.conf->services[1].name, "b");
	EXPECT_EQ(l.conf->services[1].n_endpoints, 0u);
	EXPECT_EQ(l.conf->services[1].connect_ms, 1000u);
	EXPECT_EQ(l.conf->services[2].balance, (uint32_t)DP_BALANCE_LEAST_CONNECTIONS);
	EXPECT_EQ(l.conf->n_listeners, 0u);
}

// ---- failure handling: health_check, outlier_detection, panic, retries ----

// Absent keys: no active checks (defaults still filled in), outlier detection on, panic at 50 %,
// two retries on connect-failure, empty-response and reset.
TEST(CfgFailure, DefaultsWhenAbsent)
{
	TempFile f("services:\n  a: {}\n");
	Loaded l(f.path);
	ASSERT_NE(l.conf, nullptr) << joined(l.errs);
	const dp_service_conf &s = l.conf->services[0];

	EXPECT_EQ(s.per_try_ms, 0u);
	EXPECT_FALSE(s.health.enabled);
	EXPECT_EQ(s.health.type, (uint32_t)DP_CHECK_HTTP);
	EXPECT_STREQ(s.health.path, "/");
	EXPECT_STREQ(s.health.host, "");
	ASSERT_EQ(s.health.n_expect, 1u);
	EXPECT_EQ(s.health.expect[0].lo, 200);
	EXPECT_EQ(s.health.expect[0].hi, 399);
	EXPECT_STREQ(s.health.expect_body, "");
	EXPECT_EQ(s.health.interval_ms, 2000u);
	EXPECT_EQ(s.health.fast_interval_ms, 0u);
	EXPECT_EQ(s.health.down_interval_ms, 0u);
	EXPECT_EQ(s.health.timeout_ms, 1000u);
	EXPECT_EQ(s.health.rise, 2u);
	EXPECT_EQ(s.health.fall, 3u);
	EXPECT_EQ(s.health.port, 0u);
	EXPECT_EQ(s.outlier.consecutive_5xx, 5u);
	EXPECT_EQ(s.outlier.consecutive_gateway_failure, 5u);
	EXPECT_EQ(s.outlier.base_ejection_ms, 30000u);
	EXPECT_EQ(s.outlier.max_ejection_ms, 300000u);
	EXPECT_EQ(s.outlier.max_ejection_percent, 10u);
	EXPECT_EQ(s.panic_threshold_percent, 50u);
	EXPECT_EQ(s.retries.count, 2u);
	EXPECT_EQ(s.retries.on,
		  (uint32_t)(DP_RETRY_CONNECT_FAILURE | DP_RETRY_EMPTY_RESPONSE | DP_RETRY_RESET));
	EXPECT_EQ(s.retries.budget_percent, 20u);
	EXPECT_EQ(s.retries.max_body_bytes, 65536u);
	EXPECT_EQ(s.retries.n_idempotent_methods, 0u);
	EXPECT_EQ(s.retries.idempotent_methods, nullptr);
}

TEST(CfgFailure, EveryKeyAndTheShortForms)
{
	Loaded l(kCfgDir + "/valid/failure.yaml");
	ASSERT_NE(l.conf, nullptr) << joined(l.errs);
	ASSERT_EQ(l.conf->n_services, 4u);
	const dp_service_conf &a = l.conf->services[0];

	EXPECT_EQ(a.per_try_ms, 2000u);
	EXPECT_TRUE(a.health.enabled);
	EXPECT_EQ(a.health.type, (uint32_t)DP_CHECK_HTTP);
	EXPECT_STREQ(a.health.path, "/healthz?full=1");
	EXPECT_STREQ(a.health.host, "api.example:8080");
	ASSERT_EQ(a.health.n_expect, 3u);
	EXPECT_EQ(a.health.expect[0].lo, 200);
	EXPECT_EQ(a.health.expect[0].hi, 200);
	EXPECT_EQ(a.health.expect[1].lo, 204);
	EXPECT_EQ(a.health.expect[1].hi, 299);
	EXPECT_EQ(a.health.expect[2].lo, 404);
	EXPECT_EQ(a.health.expect[2].hi, 404);
	EXPECT_STREQ(a.health.expect_body, "\"ok\": true");
	EXPECT_EQ(a.health.interval_ms, 1000u);
	EXPECT_EQ(a.health.fast_interval_ms, 200u);
	EXPECT_EQ(a.health.down_interval_ms, 5000u);
	EXPECT_EQ(a.health.timeout_ms, 150u);
	EXPECT_EQ(a.health.rise, 1u);
	EXPECT_EQ(a.health.fall, 1000u);
	EXPECT_EQ(a.health.port, 9000u);
	EXPECT_EQ(a.outlier.consecutive_5xx, 0u);
	EXPECT_EQ(a.outlier.consecutive_gateway_failure, 3u);
	EXPECT_EQ(a.outlier.base_ejection_ms, 1000u);
	EXPECT_EQ(a.outlier.max_ejection_ms, 1000u);
	EXPECT_EQ(a.outlier.max_ejection_percent, 100u);
	EXPECT_EQ(a.panic_threshold_percent, 0u);
	EXPECT_EQ(a.retries.count, 10u);
	EXPECT_EQ(a.retries.on, 0xffu); // all eight conditions
	EXPECT_EQ(a.retries.budget_percent, 0u);
	EXPECT_EQ(a.retries.max_body_bytes, 0u);
	ASSERT_EQ(a.retries.n_idempotent_methods, 3u);
	EXPECT_STREQ(a.retries.idempotent_methods[0], "POST");
	EXPECT_STREQ(a.retries.idempotent_methods[2], "X-My_Method~");

	// type tcp, a lone expect_status scalar, retries: 0 (the count; the rest default)
	const dp_service_conf &t = l.conf->services[1];
	EXPECT_TRUE(t.health.enabled);
	EXPECT_EQ(t.health.type, (uint32_t)DP_CHECK_TCP);
	ASSERT_EQ(t.health.n_expect, 1u);
	EXPECT_EQ(t.health.expect[0].lo, 200);
	EXPECT_EQ(t.health.expect[0].hi, 200);
	EXPECT_EQ(t.retries.count, 0u);
	EXPECT_EQ(t.retries.on,
		  (uint32_t)(DP_RETRY_CONNECT_FAILURE | DP_RETRY_EMPTY_RESPONSE | DP_RETRY_RESET));
	EXPECT_EQ(t.retries.budget_percent, 20u);

	const dp_service_conf &sh = l.conf->services[2];
	EXPECT_FALSE(sh.health.enabled);
	EXPECT_EQ(sh.retries.count, 5u);
	EXPECT_EQ(sh.retries.max_body_bytes, 65536u);

	// "health_check:" with nothing after it: on, every default; "on: []": no condition
	const dp_service_conf &n = l.conf->services[3];
	EXPECT_TRUE(n.health.enabled);
	EXPECT_EQ(n.health.interval_ms, 2000u);
	EXPECT_EQ(n.health.n_expect, 1u);
	EXPECT_EQ(n.retries.on, 0u);
	EXPECT_EQ(n.retries.count, 2u);
}

// The request a probe builds must fit DP_PROBE_REQ_MAX: path + host up to the bound pass, one
// byte more does not (host "" counts as the 21 bytes of the longest A.B.C.D:PORT).
TEST(CfgFailure, ProbeRequestBound)
{
	const size_t room = DP_PROBE_REQ_MAX - DP_PROBE_REQ_OVERHEAD;
	auto errors = [](const std::string &path, const std::string &host) {
		TempFile f("services:\n  a:\n    health_check: { path: \"" + path + "\", host: \"" +
			   host + "\" }\n");
		Loaded l(f.path);
		return l.errs.n;
	};

	EXPECT_EQ(errors("/" + std::string(room - 1 - 21, 'p'), ""), 0u);
	EXPECT_EQ(errors("/" + std::string(room - 21, 'p'), ""), 1u);
	EXPECT_EQ(errors("/" + std::string(room - 1 - 100, 'p'), std::string(100, 'h')), 0u);
	EXPECT_EQ(errors("/" + std::string(room - 100, 'p'), std::string(100, 'h')), 1u);
	EXPECT_EQ(errors("/a\\tb", ""), 1u);  // a tab
	EXPECT_EQ(errors("/\\x7f", ""), 1u);  // DEL
	EXPECT_EQ(errors("/", "h\\x01"), 1u); // control character in host
}

// Services reload as a whole: changing any failure-handling key is not a static change.
TEST(CfgFailure, EveryNewKeyReloadsLive)
{
	TempFile fa("dataplane:\n  ports:\n"
		    "    - { name: lan, device: net_null0, address: 198.18.0.10/24 }\n"
		    "services:\n  api: {}\n  tcp: {}\n");
	Loaded a(fa.path), b(kCfgDir + "/valid/failure.yaml");
	ASSERT_NE(a.conf, nullptr) << joined(a.errs);
	ASSERT_NE(b.conf, nullptr) << joined(b.errs);
	cfg_errors errs = {};

	EXPECT_EQ(cfg_diff_static(a.conf, b.conf, &errs), 0u) << joined(errs);
	EXPECT_EQ(cfg_diff_live(a.conf, b.conf, &errs), 0u) << joined(errs);
	cfg_errors_free(&errs);
}

// ---- reload rules ----

TEST(CfgDiff, IdenticalFilesDiffer_Nowhere)
{
	Loaded a(kCfgDir + "/valid/full.yaml"), b(kCfgDir + "/valid/full.yaml");
	ASSERT_NE(a.conf, nullptr);
	ASSERT_NE(b.conf, nullptr);
	cfg_errors errs = {};

	EXPECT_EQ(cfg_diff_static(a.conf, b.conf, &errs), 0u);
	EXPECT_EQ(errs.n, 0u);
}

TEST(CfgDiff, NamesEveryStaticKeyThatChangedAndNoReloadableOne)
{
	TempFile fa("dataplane:\n  eal: [a]\n  workers: 2\n  ports:\n"
		    "    - { name: lan, device: d0, address: 198.18.0.10/24 }\n"
		    "    - { name: wan, device: d1, address: 198.18.1.10/24 }\n"
		    "control: { socket: /run/a.sock, log_level: info, metrics: \"\" }\n");
	TempFile fb(
		"dataplane:\n  eal: [b]\n  workers: 3\n  ports:\n"
		"    - { name: lan, device: d0, address: 198.18.0.10/24, mtu: 9000 }\n"
		"    - { name: wan, device: d1, address: 198.18.1.11/24, gateway: 198.18.1.1 }\n"
		"control: { socket: /run/b.sock, log_level: debug, access_log: /x }\n");
	Loaded a(fa.path), b(fb.path);
	ASSERT_NE(a.conf, nullptr) << joined(a.errs);
	ASSERT_NE(b.conf, nullptr) << joined(b.errs);
	cfg_errors errs = {};
	const std::string p = fb.path + ": cannot change ";

	EXPECT_EQ(cfg_diff_static(a.conf, b.conf, &errs), 6u);
	std::vector<std::string> want = {
		p + "dataplane.eal on reload",
		p + "dataplane.workers on reload",
		p + "dataplane.ports[0].mtu on reload",
		p + "dataplane.ports[1].address on reload",
		p + "dataplane.ports[1].gateway on reload",
		p + "control.socket on reload",
	};
	EXPECT_EQ(lines_of(errs), want);
	cfg_errors_free(&errs);
}

TEST(CfgDiff, PortCountChangeIsOneError)
{
	TempFile fa("dataplane:\n  ports: [{ device: d0, address: 198.18.0.10/24 }]\n");
	TempFile fb("dataplane:\n  mbufs: 4096\n");
	Loaded a(fa.path), b(fb.path);
	ASSERT_NE(a.conf, nullptr);
	ASSERT_NE(b.conf, nullptr);
	cfg_errors errs = {};

	EXPECT_EQ(cfg_diff_static(a.conf, b.conf, &errs), 2u);
	ASSERT_EQ(errs.n, 2u);
	EXPECT_EQ(std::string(errs.lines[0]),
		  fb.path + ": cannot change dataplane.mbufs on reload");
	EXPECT_EQ(std::string(errs.lines[1]),
		  fb.path + ": cannot change dataplane.ports on reload");
	cfg_errors_free(&errs);
}

TEST(CfgDiff, ListenersServicesAndLoggingMayChange)
{
	ProxyOverride px;
	TempFile fa("services: { a: { endpoints: [{ address: 198.18.0.21:80 }] } }\n"
		    "listeners: [{ port: 80, routes: [{ service: a }] }]\n");
	TempFile fb("services: { b: {} }\nlisteners: []\n"
		    "control: { log_level: err, metrics: 127.0.0.1:1, access_log: /y }\n");
	Loaded a(fa.path), b(fb.path);
	ASSERT_NE(a.conf, nullptr) << joined(a.errs);
	ASSERT_NE(b.conf, nullptr) << joined(b.errs);
	cfg_errors errs = {};

	EXPECT_EQ(cfg_diff_static(a.conf, b.conf, &errs), 0u) << joined(errs);
	cfg_errors_free(&errs);
}

// ---- the generic machinery, on a table of its own ----

struct toy {
	bool flag;
	uint64_t big;
	uint32_t level;
	char *s;
};

const cfg_enum toy_levels[] = {
	{ "low", 10, false }, { "high", 20, false }, { "max", 30, true }, { nullptr, 0, false }
};

const cfg_key toy_keys[] = {
	{ "flag", CFG_BOOL, 0, offsetof(toy, flag), 0, "true" },
	{ "big", CFG_U64, 0, offsetof(toy, big), 0, "18446744073709551615", 5, UINT64_MAX },
	{ "level", CFG_ENUM, 0, offsetof(toy, level), 0, "high", 0, 0, toy_levels },
	{ "s", CFG_STR, CFG_REQUIRED, offsetof(toy, s), 0, nullptr, 2, 3 },
};

const cfg_table toy_table = { toy_keys, 4, 0, nullptr };

TEST(CfgGeneric, BoolU64EnumAndStringBounds)
{
	{
		TempFile f("s: ab\n");
		toy t = {};
		cfg_errors errs = {};
		EXPECT_EQ(cfg_parse_file(f.path.c_str(), &toy_table, &t, &errs), 0u)
			<< joined(errs);
		EXPECT_TRUE(t.flag);
		EXPECT_EQ(t.big, UINT64_MAX);
		EXPECT_EQ(t.level, 20u);
		EXPECT_STREQ(t.s, "ab");
		cfg_free_obj(&toy_table, &t);
		EXPECT_EQ(t.s, nullptr);
	}
	{
		TempFile f("flag: false\nbig: 18446744073709551615\nlevel: low\ns: abc\n");
		toy t = {};
		cfg_errors errs = {};
		EXPECT_EQ(cfg_parse_file(f.path.c_str(), &toy_table, &t, &errs), 0u)
			<< joined(errs);
		EXPECT_FALSE(t.flag);
		EXPECT_EQ(t.level, 10u);
		cfg_free_obj(&toy_table, &t);
	}
	{
		TempFile f("flag: yes\nbig: 18446744073709551616\nlevel: max\ns: abcd\nflg: 1\n");
		toy t = {};
		cfg_errors errs = {};
		EXPECT_EQ(cfg_parse_file(f.path.c_str(), &toy_table, &t, &errs), 5u);
		std::vector<std::string> want = {
			f.path + ":1:7: flag: expected true or false, got \"yes\"",
			f.path + ":2:6: big: expected an integer of at least 5, got "
				 "\"18446744073709551616\"",
			f.path + ":3:8: level: 'max' is not supported yet",
			f.path + ":4:4: s: expected a string of 2 to 3 characters, got \"abcd\"",
			f.path + ":5:1: unknown key 'flg' (did you mean 'flag'?)",
		};
		EXPECT_EQ(lines_of(errs), want);
		cfg_errors_free(&errs);
		cfg_free_obj(&toy_table, &t);
	}
	{
		TempFile f("{}\n");
		toy t = {};
		cfg_errors errs = {};
		EXPECT_EQ(cfg_parse_file(f.path.c_str(), &toy_table, &t, &errs), 1u);
		ASSERT_EQ(errs.n, 1u);
		EXPECT_EQ(std::string(errs.lines[0]), f.path + ":1:1: missing required key 's'");
		cfg_errors_free(&errs);
		cfg_free_obj(&toy_table, &t);
	}
}

TEST(CfgGeneric, ClosestSuggestsOnlyLikelyTypos)
{
	const char *names[] = { "workers", "mbufs", "max_connections", "idle_sleep_us", "ports" };
	auto closest = [&](const char *w) {
		const char *r = cfg_closest(w, names, 5, sizeof(names[0]), 0);
		return std::string(r ? r : "(none)");
	};

	EXPECT_EQ(closest("wrokers"), "workers"); // a swap is one edit
	EXPECT_EQ(closest("Workers"), "workers"); // case does not count
	EXPECT_EQ(closest("worker"), "workers");
	EXPECT_EQ(closest("mbuf"), "mbufs");
	EXPECT_EQ(closest("max_conections"), "max_connections");
	EXPECT_EQ(closest("port"), "ports");
	EXPECT_EQ(closest("colour"), "(none)");
	EXPECT_EQ(closest("mtu"), "(none)");
	EXPECT_EQ(closest("x"), "(none)");
}

TEST(CfgGeneric, ErrorListGrowsAndFrees)
{
	cfg_errors errs = {};

	for (int i = 0; i < 100; i++)
		cfg_error(&errs, "f:%d:1: e%d", i + 1, i);
	ASSERT_EQ(errs.n, 100u);
	EXPECT_STREQ(errs.lines[0], "f:1:1: e0");
	EXPECT_STREQ(errs.lines[99], "f:100:1: e99");
	cfg_errors_free(&errs);
	EXPECT_EQ(errs.n, 0u);
	cfg_free(nullptr);
}

} // namespace
