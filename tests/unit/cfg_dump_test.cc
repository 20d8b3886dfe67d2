// SPDX-License-Identifier: BSD-3-Clause
// cfg_dump ("show config"): every valid configuration dumps to YAML that loads again to the same
// configuration (the second dump equals the first), prints every key with its default, and
// holds no blank line (the control socket's framing ends an answer there).

#include <dirent.h>
#include <unistd.h>

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

const std::string kSrc = SLUICE_SRC_DIR;

std::string joined(const cfg_errors &e)
{
	std::string s;
	for (unsigned int i = 0; i < e.n; i++)
		s += std::string(e.lines[i]) + "\n";
	return s;
}

std::vector<std::string> yaml_files(const std::string &dir)
{
	std::vector<std::string> out;
	DIR *d = opendir(dir.c_str());

	if (d == nullptr)
		return out;
	while (struct dirent *e = readdir(d)) {
		std::string n = e->d_name;
		if (n.size() > 5 && n.compare(n.size() - 5, 5, ".yaml") == 0)
			out.push_back(dir + "/" + n);
	}
	closedir(d);
	return out;
}

std::string dump(const dp_conf *c)
{
	ctl_buf b = {};
	EXPECT_EQ(cfg_dump(c, &b), 0);
	std::string s(b.data ? b.data : "", b.len);
	ctl_buf_free(&b);
	return s;
}

struct TempFile {
	std::string path;
	explicit TempFile(const std::string &text)
	{
		char tmpl[] = "/tmp/cfg_dump_test_XXXXXX";
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

// Load path, dump, load the dump, dump again: returns both dumps (empty on a load failure,
// which is reported).
void round_trip(const std::string &path, std::string *first, std::string *second)
{
	cfg_errors errs = {};
	dp_conf *c = cfg_load(path.c_str(), &errs);

	ASSERT_NE(c, nullptr) << joined(errs);
	*first = dump(c);
	cfg_free(c);
	TempFile t(*first);
	dp_conf *c2 = cfg_load(t.path.c_str(), &errs);
	ASSERT_NE(c2, nullptr) << "the dump does not load:\n" << joined(errs) << "\n" << *first;
	*second = dump(c2);
	cfg_free(c2);
	cfg_errors_free(&errs);
}

TEST(CfgDump, EveryValidFixtureRoundTrips)
{
	std::vector<std::string> files = yaml_files(kSrc + "/tests/unit/cfg/valid");
	std::vector<std::string> shipped = yaml_files(kSrc + "/configs");

	files.insert(files.end(), shipped.begin(), shipped.end());
	ASSERT_GE(files.size(), 7u);
	for (const std::string &f : files) {
		SCOPED_TRACE(f);
		std::string a, b;
		round_trip(f, &a, &b);
		EXPECT_FALSE(a.empty());
		EXPECT_EQ(a, b);
		EXPECT_EQ(a.find("\n\n"), std::string::npos) << a;
		EXPECT_EQ(a.back(), '\n');
	}
}

TEST(CfgDump, EmptyFileDumpsEveryDefault)
{
	TempFile t("");
	dp_conf *c = cfg_load(t.path.c_str(), nullptr);

	ASSERT_NE(c, nullptr);
	std::string d = dump(c);
	cfg_free(c);
	for (const char *line :
	     { "dataplane:\n", "  eal: []\n", "  workers: 1\n", "  mbufs: 32768\n",
	       "  max_connections: 65536\n", "  idle_sleep_us: 0\n", "  ports: []\n",
	       "listeners: []\n", "services: {}\n", "control:\n",
	       "  socket: \"/run/sluice/sluice.sock\"\n", "  metrics: \"127.0.0.1:9190\"\n",
	       "  log_level: info\n", "  access_log: \"\"\n" })
		EXPECT_NE(d.find(line), std::string::npos) << line << " missing in:\n" << d;
	// Planned keys have no field behind them: not written.
	EXPECT_EQ(d.find("hash_key"), std::string::npos);
}

// Strings that YAML would read as something else, or that need escapes, come back unchanged;
// a route writes respond only when it has one; defaults nested in lists are written.
TEST(CfgDump, AwkwardValuesSurvive)
{
	TempFile t("dataplane:\n"
		   "  eal: [\"--no-huge\", \"-m\", \"512\"]\n"
		   "  ports:\n"
		   "    - device: \"net_af_packet0,iface=x\"\n"
		   "      address: 198.18.0.10/24\n"
		   "      gateway: 198.18.0.1\n"
		   "listeners:\n"
		   "  - port: 8080\n"
		   "    routes:\n"
		   "      - match: {path_prefix: \"/api\"}\n"
		   "        service: api\n"
		   "      - respond:\n"
		   "          status: 404\n"
		   "          body: \"say \\\"hi\\\"\\n\\tback\\\\slash true\"\n"
		   "      - respond: {bytes: 1000}\n"
		   "services:\n"
		   "  api:\n"
		   "    balance: least_connections\n"
		   "    endpoints:\n"
		   "      - address: 198.18.0.20:80\n"
		   "        weight: 0\n"
		   "control:\n"
		   "  access_log: \"true\"\n");
	cfg_errors errs = {};
	dp_conf *c = cfg_load(t.path.c_str(), &errs);
	ASSERT_NE(c, nullptr) << joined(errs);
	std::string d = dump(c);
	cfg_free(c);

	TempFile t2(d);
	dp_conf *c2 = cfg_load(t2.path.c_str(), &errs);
	ASSERT_NE(c2, nullptr) << joined(errs) << d;
	EXPECT_EQ(dump(c2), d);
	ASSERT_EQ(c2->n_listeners, 1u);
	ASSERT_EQ(c2->listeners[0].n_routes, 3u);
	const dp_route_conf *r = c2->listeners[0].routes;
	EXPECT_STREQ(r[0].service, "api");
	EXPECT_FALSE(r[0].has_respond);
	EXPECT_STREQ(r[0].match_path_prefix, "/api");
	EXPECT_TRUE(r[1].has_respond);
	EXPECT_EQ(r[1].respond.status, 404u);
	EXPECT_STREQ(r[1].respond.body, "say \"hi\"\n\tback\\slash true");
	EXPECT_EQ(r[1].respond.bytes, -1);
	EXPECT_EQ(r[2].respond.bytes, 1000);
	EXPECT_EQ(r[2].respond.body, nullptr);
	EXPECT_STREQ(c2->control.access_log, "true");
	EXPECT_STREQ(c2->listeners[0].name, "listener0");
	EXPECT_EQ(c2->services[0].balance, (uint32_t)DP_BALANCE_LEAST_CONNECTIONS);
	EXPECT_EQ(c2->services[0].endpoints[0].weight, 0u);
	EXPECT_STREQ(c2->services[0].endpoints[0].name, "198.18.0.20:80");
	EXPECT_EQ(c2->dataplane.n_eal, 3u);
	EXPECT_NE(c2->dataplane.ports[0].gateway, 0u);
	cfg_free(c2);
	cfg_errors_free(&errs);

	EXPECT_NE(d.find("        service: \"api\"\n"), std::string::npos) << d;
	EXPECT_NE(d.find("# host: not set"), std::string::npos) << d;
	EXPECT_NE(d.find("# bytes: -1 (default)"), std::string::npos) << d;
	EXPECT_NE(d.find("  \"api\":\n"), std::string::npos) << d;
	EXPECT_NE(d.find("  - name: \"listener0\"\n"), std::string::npos) << d;
	EXPECT_EQ(d.find("\n\n"), std::string::npos) << d;
}

// Failure handling: health_check written only when the file gave it; retries always in the long
// form (the short form "retries: 3" comes back as count 3); status ranges and retry conditions
// as strings the loader reads back.
TEST(CfgDump, FailureHandlingKeys)
{
	TempFile t("services:\n"
		   "  a:\n"
		   "    timeouts: { per_try_ms: 500 }\n"
		   "    health_check: { expect_status: [200, \"300-399\"], host: \"h.example\" }\n"
		   "    retries: { on: [504, response-timeout], idempotent_methods: [POST] }\n"
		   "  b:\n"
		   "    retries: 3\n");
	cfg_errors errs = {};
	dp_conf *c = cfg_load(t.path.c_str(), &errs);
	ASSERT_NE(c, nullptr) << joined(errs);
	std::string d = dump(c);
	cfg_free(c);

	size_t b = d.find("  \"b\":\n");
	ASSERT_NE(b, std::string::npos) << d;
	std::string da = d.substr(0, b), db = d.substr(b);
	for (const char *line :
	     { "      per_try_ms: 500\n", "    health_check:\n", "      type: http\n",
	       "      path: \"/\"\n", "      host: \"h.example\"\n",
	       "      expect_status: [\"200\", \"300-399\"]\n", "      expect_body: \"\"\n",
	       "      interval_ms: 2000\n", "      port: 0\n", "    outlier_detection:\n",
	       "      consecutive_5xx: 5\n", "      max_ejection_percent: 10\n",
	       "    panic_threshold_percent: 50\n", "    retries:\n",
	       "      on: [\"response-timeout\", \"504\"]\n",
	       "      idempotent_methods: [\"POST\"]\n" })
		EXPECT_NE(da.find(line), std::string::npos) << line << " missing in:\n" << da;
	EXPECT_EQ(db.find("health_check"), std::string::npos) << db;
	EXPECT_NE(db.find("      count: 3\n"), std::string::npos) << db;
	EXPECT_NE(db.find("      on: [\"connect-failure\", \"empty-response\", \"reset\"]\n"),
		  std::string::npos)
		<< db;
	EXPECT_NE(db.find("      max_body_bytes: 65536\n"), std::string::npos) << db;

	TempFile t2(d);
	dp_conf *c2 = cfg_load(t2.path.c_str(), &errs);
	ASSERT_NE(c2, nullptr) << joined(errs) << d;
	EXPECT_EQ(dump(c2), d);
	EXPECT_TRUE(c2->services[0].health.enabled);
	EXPECT_FALSE(c2->services[1].health.enabled);
	EXPECT_EQ(c2->services[0].retries.on, (uint32_t)(DP_RETRY_504 | DP_RETRY_RESPONSE_TIMEOUT));
	// cfg_dup copies the new strings, and cfg_free releases them (ASan builds check).
	dp_conf *c3 = cfg_dup(c2);
	ASSERT_NE(c3, nullptr);
	EXPECT_NE(c3->services[0].health.host, c2->services[0].health.host);
	EXPECT_NE(c3->services[0].retries.idempotent_methods,
		  c2->services[0].retries.idempotent_methods);
	EXPECT_EQ(dump(c3), d);
	cfg_free(c3);
	cfg_free(c2);
	cfg_errors_free(&errs);
}

// Through the command executor: one answer, framed (ends with its empty line, none before),
// naming the file it came from; without a dataplane, show stat refuses instead of crashing.
TEST(CfgDump, ShowConfigCommand)
{
	const std::string file = kSrc + "/configs/proxy-example.yaml";
	dp_conf *c = cfg_load(file.c_str(), nullptr);
	ASSERT_NE(c, nullptr);
	ctl_env env = {};
	env.conf = c;
	ctl_buf out = {};
	bool prompt = false;

	ctl_execute_line(&env, "show config", &out, &prompt);
	std::string a(out.data, out.len);
	EXPECT_EQ(a.rfind("# loaded from " + file + "\n", 0), 0u) << a;
	EXPECT_EQ(a.substr(a.size() - 2), "\n\n");
	EXPECT_EQ(a.find("\n\n"), a.size() - 2) << a;
	EXPECT_EQ(a.substr(a.find('\n') + 1, a.size() - a.find('\n') - 2), dump(c));

	out.len = 0;
	ctl_execute_line(&env, "show stat; show servers state", &out, &prompt);
	EXPECT_EQ(std::string(out.data, out.len),
		  "error: dataplane not running\n\nerror: dataplane not running\n\n");
	ctl_buf_free(&out);
	cfg_free(c);
}

TEST(CfgDump, NullConfigIsRefused)
{
	ctl_buf b = {};
	EXPECT_EQ(cfg_dump(nullptr, &b), -EINVAL);
	EXPECT_EQ(b.len, 0u);
	ctl_buf_free(&b);
}

} // namespace

// A reload applies listeners, routes and services live; cfg_diff_live refuses only what the
// workers sized at start (the head buffer).
TEST(CfgDump, DiffLiveRefusesOnlyWhatWorkersCannotApply)
{
	const std::string base =
		"dataplane:\n"
		"  ports:\n"
		"    - { name: lan, device: net_null0, address: 198.18.0.10/24 }\n";
	const std::string web = "listeners:\n"
				"  - name: web\n"
				"    routes:\n"
				"      - respond: { status: 200, body: \"%s\" }\n";
	auto with = [&](const char *body, const char *level, bool svc) {
		char buf[512];
		snprintf(buf, sizeof(buf), web.c_str(), body);
		std::string text = base + buf;
		if (svc)
			text += "services:\n  app:\n    endpoints:\n"
				"      - { address: 198.18.0.21:8080 }\n";
		text += std::string("control:\n  log_level: ") + level + "\n";
		return text;
	};
	TempFile a(with("one", "info", false)), b(with("one", "debug", false)),
		c(with("two", "info", false)), d(with("two", "info", true));
	cfg_errors errs = {};
	dp_conf *ca = cfg_load(a.path.c_str(), &errs), *cb = cfg_load(b.path.c_str(), &errs),
		*cc = cfg_load(c.path.c_str(), &errs), *cd = cfg_load(d.path.c_str(), &errs);
	ASSERT_TRUE(ca && cb && cc && cd) << (errs.n ? errs.lines[0] : "");

	// listeners, routes and services apply live now: nothing to refuse
	EXPECT_EQ(cfg_diff_live(ca, cb, &errs), 0u);
	EXPECT_EQ(cfg_diff_live(ca, cc, &errs), 0u);
	EXPECT_EQ(cfg_diff_live(ca, cd, &errs), 0u);
	EXPECT_EQ(errs.n, 0u);
	// except a head buffer larger than the workers allocated at start
	TempFile e(base + "listeners:\n  - name: web\n    limits: { max_header_bytes: 65536 }\n"
			  "    routes:\n      - respond: { status: 200 }\n");
	dp_conf *ce = cfg_load(e.path.c_str(), &errs);
	ASSERT_NE(ce, nullptr) << (errs.n ? errs.lines[0] : "");
	EXPECT_EQ(cfg_diff_live(ca, ce, &errs), 1u);
	ASSERT_EQ(errs.n, 1u);
	EXPECT_NE(std::string(errs.lines[0]).find("max_header_bytes"), std::string::npos)
		<< errs.lines[0];
	EXPECT_EQ(cfg_diff_live(ce, ca, &errs), 0u); // lowering it is fine
	cfg_errors_free(&errs);
	errs = {};
	// and more header spans per request than the workers allocated at start (the largest
	// max_headers then, at least the parser's default 100)
	auto hdrs = [&](unsigned int n) {
		return base + "listeners:\n  - name: web\n    limits: { max_headers: " +
		       std::to_string(n) + " }\n    routes:\n      - respond: { status: 200 }\n";
	};
	TempFile h50(hdrs(50)), h100(hdrs(100)), h101(hdrs(101)), h300(hdrs(300)), h200(hdrs(200));
	dp_conf *c50 = cfg_load(h50.path.c_str(), &errs),
		*c100 = cfg_load(h100.path.c_str(), &errs),
		*c101 = cfg_load(h101.path.c_str(), &errs),
		*c300 = cfg_load(h300.path.c_str(), &errs),
		*c200 = cfg_load(h200.path.c_str(), &errs);
	ASSERT_TRUE(c50 && c100 && c101 && c300 && c200) << (errs.n ? errs.lines[0] : "");
	EXPECT_EQ(cfg_diff_live(c50, c100, &errs), 0u); // up to the default: spans hold it
	EXPECT_EQ(errs.n, 0u);
	EXPECT_EQ(cfg_diff_live(c50, c101, &errs), 1u);
	ASSERT_EQ(errs.n, 1u);
	EXPECT_NE(std::string(errs.lines[0]).find("max_headers"), std::string::npos)
		<< errs.lines[0];
	EXPECT_EQ(cfg_diff_live(c300, c200, &errs), 0u); // below the start's largest
	EXPECT_EQ(cfg_diff_live(c300, c50, &errs), 0u);
	EXPECT_EQ(cfg_diff_live(c200, c300, &errs), 1u);
	EXPECT_EQ(errs.n, 2u);
	for (dp_conf *c : { c50, c100, c101, c300, c200 })
		cfg_free(c);
	cfg_errors_free(&errs);
	cfg_free(ce);
	cfg_free(ca);
	cfg_free(cb);
	cfg_free(cc);
	cfg_free(cd);
}

// cfg_dup: a deep copy dumps to the same text and survives the original being freed.
TEST(CfgDump, DupIsDeepAndEqual)
{
	TempFile f("dataplane:\n  ports:\n    - { name: lan, device: net_null0, address: "
		   "198.18.0.10/24 }\nlisteners:\n  - name: web\n    routes:\n"
		   "      - match: { host: a.example }\n        service: app\nservices:\n  app:\n"
		   "    endpoints:\n      - { name: a1, address: 198.18.0.21:8080, weight: 3 }\n");
	cfg_errors errs = {};
	dp_conf *c = cfg_load(f.path.c_str(), &errs);
	ASSERT_NE(c, nullptr) << (errs.n ? errs.lines[0] : "");
	ctl_buf a = {}, b = {};
	ASSERT_EQ(cfg_dump(c, &a), 0);
	dp_conf *d = cfg_dup(c);
	ASSERT_NE(d, nullptr);
	EXPECT_NE(d->services[0].endpoints, c->services[0].endpoints);
	EXPECT_NE(d->services[0].name, c->services[0].name);
	cfg_free(c);
	ASSERT_EQ(cfg_dump(d, &b), 0);
	EXPECT_EQ(std::string(a.data, a.len), std::string(b.data, b.len));
	EXPECT_EQ(d->listeners[0].routes[0].service_idx, 0);
	ctl_buf_free(&a);
	ctl_buf_free(&b);
	cfg_free(d);
}
