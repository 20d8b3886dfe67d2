// SPDX-License-Identifier: BSD-3-Clause
// Control socket: framing and commands (ctl_execute_line) and the real Unix socket server.
// Runs without EAL: the dataplane is NULL or a fake struct dp with workers and no ports.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

extern "C" {
#include "control.h"
#include "dp_worker.h"
}

namespace
{

// ---- ctl_execute_line ----

struct Exec {
	bool quit = false;
	struct ctl_env env = {};
	bool prompt = false;

	Exec()
	{
		env.quit = &quit;
		env.start_time = (uint64_t)time(nullptr);
	}
	std::string run(const std::string &line)
	{
		struct ctl_buf out = {};
		ctl_execute_line(&env, line.c_str(), &out, &prompt);
		std::string s(out.data ? out.data : "", out.len);
		ctl_buf_free(&out);
		return s;
	}
};

// Split a reply into answers, checking the framing: each ends with exactly one empty line
// and holds none before it.
std::vector<std::string> answers(const std::string &s)
{
	std::vector<std::string> v;
	size_t p = 0;

	while (p < s.size()) {
		if (s[p] == '\n') { // an answer without text is its empty line alone
			v.push_back("");
			p++;
			continue;
		}
		size_t e = s.find("\n\n", p);
		EXPECT_NE(e, std::string::npos) << "answer without its empty line: " << s.substr(p);
		if (e == std::string::npos)
			break;
		v.push_back(s.substr(p, e + 1 - p));
		p = e + 2;
	}
	return v;
}

bool printable(const std::string &s)
{
	for (unsigned char c : s)
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return false;
	return true;
}

TEST(CtlExec, SeveralCommandsGiveSeveralFramedAnswers)
{
	Exec x;
	std::string out = x.run("help; show info ;help");
	auto v = answers(out);

	ASSERT_EQ(v.size(), 3u) << out;
	EXPECT_NE(v[0].find("show info"), std::string::npos);
	EXPECT_EQ(v[1].rfind("Name: sluice\n", 0), 0u) << v[1];
	EXPECT_EQ(v[0], v[2]);
	EXPECT_EQ(out.substr(out.size() - 2), "\n\n");
	EXPECT_EQ(out.find("\n\n\n"), std::string::npos);
}

TEST(CtlExec, UnknownCommand)
{
	Exec x;

	EXPECT_EQ(x.run("foo"), "error: unknown command 'foo'. Try 'help'.\n\n");
	EXPECT_EQ(x.run("show nothing"), "error: unknown command 'show nothing'. Try 'help'.\n\n");
	EXPECT_EQ(x.run("show"), "error: unknown command 'show'. Try 'help'.\n\n");
	// Words are matched whole: "showinfo" or "show infox" is not "show info".
	EXPECT_EQ(x.run("showinfo").rfind("error: unknown command", 0), 0u);
	EXPECT_EQ(x.run("show infox").rfind("error: unknown command", 0), 0u);
}

TEST(CtlExec, EmptyLinesAndEmptyCommandsAnswerNothing)
{
	Exec x;

	EXPECT_EQ(x.run(""), "");
	EXPECT_EQ(x.run("  \t "), "");
	EXPECT_EQ(x.run(";;  ; "), "");
	EXPECT_EQ(answers(x.run(";help;;")).size(), 1u);
	EXPECT_FALSE(x.prompt);
}

TEST(CtlExec, PromptToggles)
{
	Exec x;

	EXPECT_EQ(x.run("prompt"), "\n");
	EXPECT_TRUE(x.prompt);
	EXPECT_EQ(x.run("prompt"), "\n");
	EXPECT_FALSE(x.prompt);
	x.run("prompt;help");
	EXPECT_TRUE(x.prompt);
}

TEST(CtlExec, QuitStopsTheLine)
{
	bool q = false;
	struct ctl_env env = {};
	struct ctl_buf out = {};
	bool prompt = false, quit = false;

	env.quit = &q;
	ctl_execute(&env, "help; quit; shutdown", &out, &prompt, &quit);
	EXPECT_TRUE(quit);
	EXPECT_FALSE(q) << "a command after quit ran";
	EXPECT_EQ(answers(std::string(out.data, out.len)).size(), 1u);
	ctl_buf_free(&out);
}

TEST(CtlExec, VeryLongLine)
{
	Exec x;
	std::string out = x.run(std::string(200000, 'a') + " b;help");
	auto v = answers(out);

	ASSERT_EQ(v.size(), 2u);
	EXPECT_EQ(v[0].rfind("error: unknown command 'aaaa", 0), 0u);
	EXPECT_LT(v[0].size(), 200u) << "the unknown command is echoed back whole";
	EXPECT_NE(v[1].find("show info"), std::string::npos);

	std::string words;
	for (int i = 0; i < 1000; i++)
		words += "w ";
	EXPECT_EQ(x.run(words).rfind("error: ", 0), 0u);
}

TEST(CtlExec, BinaryBytesGiveAnErrorNeverRawBytes)
{
	Exec x;
	std::string line;

	for (int c = 1; c < 256; c++)
		if (c != ';')
			line.push_back((char)c);
	std::string out = x.run(line);
	auto v = answers(out);
	ASSERT_EQ(v.size(), 1u) << out;
	EXPECT_EQ(v[0].rfind("error: unknown command", 0), 0u);
	EXPECT_TRUE(printable(out)) << out;

	out = x.run("\x01\x02\x1b[2J;\x7f");
	EXPECT_EQ(answers(out).size(), 2u);
	EXPECT_TRUE(printable(out));
}

TEST(CtlExec, HelpListsCommandsWithUsage)
{
	Exec x;
	std::string out = x.run("help");

	for (const char *cmd : { "help", "prompt", "quit", "show info [json|typed]",
				 "show ports [json]", "show pools", "shutdown [GRACE_MS]" })
		EXPECT_NE(out.find(cmd), std::string::npos) << cmd << " missing from\n" << out;
	EXPECT_EQ(answers(out).size(), 1u);
}

// Two columns, syntax then " : " and what it does, the separator at the same place on every
// line: a colon inside a syntax (ADDRESS:PORT) does not split it.
TEST(CtlExec, HelpAlignsSyntaxAndMeaning)
{
	Exec x;
	std::string out = x.run("help");
	std::vector<std::string> lines;
	size_t col = std::string::npos;

	for (size_t p = 0, e; (e = out.find('\n', p)) != std::string::npos; p = e + 1)
		lines.push_back(out.substr(p, e - p));
	ASSERT_GT(lines.size(), 3u);
	for (size_t i = 1; i < lines.size() && !lines[i].empty(); i++) {
		size_t c = lines[i].find(" : ");
		ASSERT_NE(c, std::string::npos) << lines[i];
		if (col == std::string::npos)
			col = c;
		EXPECT_EQ(c, col) << "misaligned: " << lines[i];
	}
	EXPECT_NE(out.find("  add server SERVICE/NAME ADDRESS:PORT [weight N] "), std::string::npos)
		<< out;
	EXPECT_NE(out.find(" : new endpoint, in maintenance until enable server"),
		  std::string::npos)
		<< out;
}

// HAProxy 2.6's info fields in order (positions 0..71), as haproxy 2.6.12's "show info
// typed" numbers them; 45, 46 and 51 are left out by a haproxy built without zlib and
// without "description".
const std::vector<std::string> haproxy26_info = { "Name",
						  "Version",
						  "Release_date",
						  "Nbthread",
						  "Nbproc",
						  "Process_num",
						  "Pid",
						  "Uptime",
						  "Uptime_sec",
						  "Memmax_MB",
						  "PoolAlloc_MB",
						  "PoolUsed_MB",
						  "PoolFailed",
						  "Ulimit-n",
						  "Maxsock",
						  "Maxconn",
						  "Hard_maxconn",
						  "CurrConns",
						  "CumConns",
						  "CumReq",
						  "MaxSslConns",
						  "CurrSslConns",
						  "CumSslConns",
						  "Maxpipes",
						  "PipesUsed",
						  "PipesFree",
						  "ConnRate",
						  "ConnRateLimit",
						  "MaxConnRate",
						  "SessRate",
						  "SessRateLimit",
						  "MaxSessRate",
						  "SslRate",
						  "SslRateLimit",
						  "MaxSslRate",
						  "SslFrontendKeyRate",
						  "SslFrontendMaxKeyRate",
						  "SslFrontendSessionReuse_pct",
						  "SslBackendKeyRate",
						  "SslBackendMaxKeyRate",
						  "SslCacheLookups",
						  "SslCacheMisses",
						  "CompressBpsIn",
						  "CompressBpsOut",
						  "CompressBpsRateLim",
						  "ZlibMemUsage",
						  "MaxZlibMemUsage",
						  "Tasks",
						  "Run_queue",
						  "Idle_pct",
						  "node",
						  "description",
						  "Stopping",
						  "Jobs",
						  "Unstoppable Jobs",
						  "Listeners",
						  "ActivePeers",
						  "ConnectedPeers",
						  "DroppedLogs",
						  "BusyPolling",
						  "FailedResolutions",
						  "TotalBytesOut",
						  "TotalSplicdedBytesOut",
						  "BytesOutRate",
						  "DebugCommandsIssued",
						  "CumRecvLogs",
						  "Build info",
						  "Memmax_bytes",
						  "PoolAlloc_bytes",
						  "PoolUsed_bytes",
						  "Start_time_sec",
						  "Tainted" };
const std::vector<std::string> sluice_info = {
	"Workers",	    "Ports",	 "Config_file",	       "Config_epoch",
	"Rx_frames",	    "Tx_frames", "Health_probes_sent", "Health_probes_skipped",
	"Outlier_ejections"
};

// "Name: value" lines of a show info answer, in order.
std::vector<std::pair<std::string, std::string>> info_lines(const std::string &out)
{
	std::vector<std::pair<std::string, std::string>> v;
	size_t p = 0, e;

	while ((e = out.find('\n', p)) != std::string::npos && e > p) {
		std::string line = out.substr(p, e - p);
		size_t c = line.find(": ");
		v.emplace_back(line.substr(0, c), c == std::string::npos ? "" : line.substr(c + 2));
		p = e + 1;
	}
	return v;
}

std::string info_value(const std::string &out, const std::string &name)
{
	for (auto &kv : info_lines(out))
		if (kv.first == name)
			return kv.second;
	return "<absent>";
}

TEST(CtlExec, ShowInfoIsHaproxy26s)
{
	Exec x;
	struct dp_conf conf = {};
	char file[] = "/etc/sluice/a.yaml";

	conf.file = file;
	conf.dataplane.workers = 3;
	conf.dataplane.n_ports = 1;
	conf.dataplane.max_connections = 100;
	conf.dataplane.idle_sleep_us = 0;
	x.env.conf = &conf;
	x.env.start_time -= 3725;

	std::string out = x.run("show info");
	ASSERT_EQ(answers(out).size(), 1u) << out;
	auto lines = info_lines(out);
	// Every field in HAProxy 2.6's order, then sluice's own in theirs.
	std::vector<std::string> order(haproxy26_info);
	order.insert(order.end(), sluice_info.begin(), sluice_info.end());
	size_t at = 0;
	for (auto &kv : lines) {
		size_t i = at;
		while (i < order.size() && order[i] != kv.first)
			i++;
		ASSERT_LT(i, order.size()) << kv.first << " unknown or out of order\n" << out;
		at = i + 1;
	}
	// The first twenty are printed (Release_date: sluice has none, left out as HAProxy
	// leaves out fields without a value).
	std::vector<std::string> first;
	for (size_t i = 0; i < 19; i++)
		first.push_back(lines[i].first);
	std::vector<std::string> want(haproxy26_info.begin(), haproxy26_info.begin() + 20);
	want.erase(want.begin() + 2);
	EXPECT_EQ(first, want) << out;
	// Left out: Release_date, ConnRate, MaxConnRate, SessRate, MaxSessRate, ZlibMemUsage,
	// MaxZlibMemUsage, Tasks, Run_queue, description, BytesOutRate.
	EXPECT_EQ(lines.size(), 72u - 11u + sluice_info.size()) << out;
	EXPECT_EQ(lines.back().first, "Outlier_ejections");

	EXPECT_EQ(info_value(out, "Name"), "sluice");
	EXPECT_EQ(info_value(out, "Version"), SLUICE_VERSION);
	EXPECT_EQ(info_value(out, "Release_date"), "<absent>");
	EXPECT_EQ(info_value(out, "description"), "<absent>");
	EXPECT_EQ(info_value(out, "ConnRate"), "<absent>"); // not measured
	EXPECT_EQ(info_value(out, "SslRate"), "0");	    // no TLS: truly 0
	EXPECT_EQ(info_value(out, "Nbthread"), "3");
	EXPECT_EQ(info_value(out, "Nbproc"), "1");
	EXPECT_EQ(info_value(out, "Pid"), std::to_string(getpid()));
	EXPECT_EQ(info_value(out, "Uptime"), "0d 1h02m05s");
	EXPECT_EQ(info_value(out, "Uptime_sec"), "3725");
	EXPECT_EQ(info_value(out, "Start_time_sec"), std::to_string(x.env.start_time));
	EXPECT_EQ(info_value(out, "Maxconn"), "300");
	EXPECT_EQ(info_value(out, "Hard_maxconn"), "300");
	EXPECT_EQ(info_value(out, "CumReq"), "0");
	EXPECT_EQ(info_value(out, "Idle_pct"), "100");
	EXPECT_EQ(info_value(out, "BusyPolling"), "1");
	EXPECT_EQ(info_value(out, "Stopping"), "0");
	EXPECT_EQ(info_value(out, "Tainted"), "0");
	EXPECT_EQ(info_value(out, "Workers"), "3");
	EXPECT_EQ(info_value(out, "Ports"), "1");
	EXPECT_EQ(info_value(out, "Config_file"), file);
	EXPECT_EQ(info_value(out, "Config_epoch"), "0");

	x.quit = true; // "shutdown" or a signal: graceful shutdown has begun
	conf.dataplane.idle_sleep_us = 50;
	out = x.run("show info");
	EXPECT_EQ(info_value(out, "Stopping"), "1");
	EXPECT_EQ(info_value(out, "BusyPolling"), "0");
}

TEST(CtlExec, ShowInfoJsonAndTyped)
{
	Exec x;
	struct dp_conf conf = {};
	char file[] = "/etc/sluice/a\"b\n\nc.yaml"; // a blank line must not end the answer

	conf.file = file;
	conf.dataplane.workers = 3;
	x.env.conf = &conf;
	x.env.start_time -= 3725;

	std::string out = x.run("show info");
	EXPECT_EQ(answers(out).size(), 1u) << "a newline in the file name broke the framing";

	// HAProxy 2.6's typed JSON, byte for byte in shape: one list on one line.
	out = x.run("show info json");
	EXPECT_EQ(out.rfind("[{\"field\":{\"pos\":0,\"name\":\"Name\"},\"processNum\":1,\"tags\":"
			    "{\"origin\":\"Product\",\"nature\":\"Output\",\"scope\":\"Service\"},"
			    "\"value\":{\"type\":\"str\",\"value\":\"sluice\"}},"
			    "{\"field\":{\"pos\":1,\"name\":\"Version\"}",
			    0),
		  0u)
		<< out;
	EXPECT_NE(out.find(",{\"field\":{\"pos\":8,\"name\":\"Uptime_sec\"},\"processNum\":1,"
			   "\"tags\":{\"origin\":\"Metric\",\"nature\":\"Duration\",\"scope\":"
			   "\"Process\"},\"value\":{\"type\":\"u32\",\"value\":3725}},"),
		  std::string::npos)
		<< out;
	EXPECT_NE(out.find("{\"field\":{\"pos\":49,\"name\":\"Idle_pct\"},\"processNum\":1,"
			   "\"tags\":{\"origin\":\"Metric\",\"nature\":\"Avg\",\"scope\":"
			   "\"Process\"},\"value\":{\"type\":\"u32\",\"value\":100}}"),
		  std::string::npos)
		<< out;
	EXPECT_NE(out.find("{\"field\":{\"pos\":61,\"name\":\"TotalBytesOut\"},\"processNum\":1,"
			   "\"tags\":{\"origin\":\"Metric\",\"nature\":\"Gauge\",\"scope\":"
			   "\"Process\"},\"value\":{\"type\":\"u64\",\"value\":0}}"),
		  std::string::npos)
		<< out;
	EXPECT_EQ(out.find("\"pos\":2,"), std::string::npos) << "Release_date has no value";
	EXPECT_NE(out.find("{\"field\":{\"pos\":74,\"name\":\"Config_file\"},\"processNum\":1,"
			   "\"tags\":{\"origin\":\"Config\",\"nature\":\"Output\",\"scope\":"
			   "\"Service\"},\"value\":{\"type\":\"str\",\"value\":"
			   "\"/etc/sluice/a\\\"b\\n\\nc.yaml\"}}"),
		  std::string::npos)
		<< out;
	EXPECT_EQ(answers(out).size(), 1u);
	EXPECT_EQ(out.find('\n'), out.size() - 2);
	EXPECT_EQ(out.substr(out.size() - 5), "}}]\n\n");

	// HAProxy's "show info typed": POS.NAME.PROCESS:TAGS:TYPE:VALUE
	out = x.run("show info typed");
	EXPECT_EQ(out.rfind("0.Name.1:POS:str:sluice\n1.Version.1:POS:str:" SLUICE_VERSION
			    "\n3.Nbthread.1:CGS:u32:3\n4.Nbproc.1:CGS:u32:1\n",
			    0),
		  0u)
		<< out;
	EXPECT_NE(out.find("\n8.Uptime_sec.1:MDP:u32:3725\n"), std::string::npos) << out;
	EXPECT_NE(out.find("\n54.Unstoppable Jobs.1:MGP:u32:0\n"), std::string::npos) << out;
	EXPECT_NE(out.find("\n71.Tainted.1:SGP:str:0\n72.Workers.1:CGS:u32:3\n"), std::string::npos)
		<< out;

	EXPECT_EQ(x.run("show info xml"), "error: usage: show info [json|typed]\n\n");
	EXPECT_EQ(x.run("show info json x"), "error: usage: show info [json|typed]\n\n");
}

TEST(CtlExec, ShowPortsAndPoolsNeedTheDataplane)
{
	Exec x;

	EXPECT_EQ(x.run("show ports"), "error: dataplane not running\n\n");
	EXPECT_EQ(x.run("show ports json"), "error: dataplane not running\n\n");
	EXPECT_EQ(x.run("show pools"), "error: dataplane not running\n\n");
}

TEST(CtlExec, Shutdown)
{
	Exec x;

	EXPECT_EQ(x.run("shutdown abc"), "error: GRACE_MS must be a number of milliseconds\n\n");
	EXPECT_EQ(x.run("shutdown -5"), "error: GRACE_MS must be a number of milliseconds\n\n");
	EXPECT_FALSE(x.quit);
	EXPECT_EQ(x.run("shutdown 2500"), "shutting down\n\n");
	EXPECT_TRUE(x.quit);
	EXPECT_EQ(x.env.shutdown_grace_ms, 2500u);
}

// A dataplane with two workers and no port or pool: enough for the counter registry.
struct FakeDp {
	std::unique_ptr<struct dp> dp{ new struct dp() };
	std::vector<std::unique_ptr<struct dp_worker>> workers;
	struct dp_snapshot snap = {};

	FakeDp()
	{
		for (uint16_t i = 0; i < 2; i++) {
			workers.emplace_back(new struct dp_worker());
			workers[i]->id = i;
			workers[i]->dp = dp.get();
			dp->workers[i] = workers[i].get();
		}
		dp->n_workers = 2;
		snap.epoch = 7;
		dp->snapshot = &snap;
		workers[0]->ns.cnt[NET_CNT_ip_drop_bad_cksum] = 3;
		workers[1]->ns.cnt[NET_CNT_ip_drop_bad_cksum] = 4;
		workers[0]->ns.cnt[NET_CNT_rx_frames] = 100;
		workers[1]->ns.cnt[NET_CNT_rx_frames] = 23;
		workers[1]->ns.cnt[NET_CNT_tx_frames] = 5;
		workers[1]->cnt[DP_CNT_redirects] = 9;
	}
};

// The first line naming a counter is its total; "KEY: N" reads with cut -d' ' -f2.
uint64_t first_value(const std::string &out, const std::string &name)
{
	size_t p = out.find(name);
	if (p == std::string::npos)
		return UINT64_MAX;
	size_t colon = out.find(": ", p);
	return std::strtoull(out.c_str() + colon + 2, nullptr, 10);
}

TEST(CtlExec, ShowPortsPrintsEveryCounterTotalFirst)
{
	Exec x;
	FakeDp f;

	x.env.dp = f.dp.get();
	std::string out = x.run("show ports");
	ASSERT_EQ(answers(out).size(), 1u) << out;
	EXPECT_EQ(first_value(out, "ip_drop_bad_cksum"), 7u) << out;
	EXPECT_NE(out.find("\ntotal.net.ip_drop_bad_cksum: 7\n"), std::string::npos);
	EXPECT_NE(out.find("\nworker0.net.ip_drop_bad_cksum: 3\n"), std::string::npos);
	EXPECT_NE(out.find("\nworker1.net.ip_drop_bad_cksum: 4\n"), std::string::npos);
	EXPECT_NE(out.find("\nworker1.dp.redirects: 9\n"), std::string::npos);
	EXPECT_NE(out.find("\nworker0.net.icmp_echo_replies: 0\n"), std::string::npos)
		<< "zero counters are printed too";
	// One total line and one line per worker for every counter of every group.
	size_t lines = 0;
	for (char c : out)
		lines += c == '\n';
	size_t counters = 0;
	for (unsigned int g = 0; g < dp_n_counter_groups; g++)
		counters += dp_counter_groups[g].count;
	EXPECT_EQ(lines - 1, 3 * counters);

	out = x.run("show info");
	EXPECT_EQ(info_value(out, "Workers"), "2");
	EXPECT_EQ(info_value(out, "Nbthread"), "2");
	EXPECT_EQ(info_value(out, "Config_epoch"), "7");
	EXPECT_EQ(info_value(out, "Rx_frames"), "123");
	EXPECT_EQ(info_value(out, "Tx_frames"), "5");

	out = x.run("show ports json");
	EXPECT_EQ(answers(out).size(), 1u);
	EXPECT_EQ(out.rfind("{\"ports\":[],\"total\":{\"dp\":{", 0), 0u) << out;
	EXPECT_NE(out.find("\"ip_drop_bad_cksum\":7"), std::string::npos);
	EXPECT_NE(out.find("\"workers\":[{\"id\":0,\"dp\":{"), std::string::npos);
	EXPECT_NE(out.find("\"pools\":[]}\n"), std::string::npos);

	// No mbuf pool in the fake: only the connection pools' lines (zero-sized pools).
	out = x.run("show pools");
	EXPECT_EQ(out.rfind("mem.tcb_bytes: ", 0), 0u) << out;
	EXPECT_NE(out.find("\nmem.idle_conn_bytes: "), std::string::npos);
	EXPECT_NE(out.find("\nmem.mbufs_in_use: 0\n"), std::string::npos);
	EXPECT_NE(out.find("\nworker1.mem.sessions_used: 0\n"), std::string::npos);
	out = x.run("show pools json");
	EXPECT_EQ(out.rfind("{\"pools\":[],\"mem\":{\"tcb_bytes\":", 0), 0u) << out;
	EXPECT_NE(out.find(",\"workers\":[{\"id\":0,\"tcbs_max\":0,"), std::string::npos) << out;
	EXPECT_NE(out.find("]}}\n\n"), std::string::npos) << out;
}

TEST(CtlExec, ShowInfoSumsTheWorkers)
{
	Exec x;
	FakeDp f;

	x.env.dp = f.dp.get();
	f.workers[0]->px.cnt[PX_CNT_requests] = 5;
	f.workers[1]->px.cnt[PX_CNT_requests] = (1ull << 32) + 6; // u32, as HAProxy's: wraps
	f.workers[0]->px.cnt[PX_CNT_conns_accepted] = 2;
	f.workers[1]->px.cnt[PX_CNT_conns_accepted] = 3;
	f.workers[0]->px.cnt[PX_CNT_access_log_dropped] = 4;
	f.workers[1]->px.cnt[PX_CNT_refused_pool_empty] = 1;
	f.workers[0]->ts.cnt[TCP_CNT_drop_pool_empty] = 2;
	f.workers[1]->ts.cnt[TCP_CNT_bytes_out] = 1ull << 33; // u64: does not wrap
	f.workers[0]->cnt[DP_CNT_cycles_busy] = 30;
	f.workers[0]->cnt[DP_CNT_cycles_idle] = 60;
	f.workers[1]->cnt[DP_CNT_cycles_busy] = 10;
	f.workers[1]->cnt[DP_CNT_cycles_idle] = 100;

	std::string out = x.run("show info");
	EXPECT_EQ(info_value(out, "CumReq"), "11") << out;
	EXPECT_EQ(info_value(out, "CumConns"), "5");
	EXPECT_EQ(info_value(out, "CurrConns"), "0");
	EXPECT_EQ(info_value(out, "DroppedLogs"), "4");
	EXPECT_EQ(info_value(out, "PoolFailed"), "3");
	EXPECT_EQ(info_value(out, "TotalBytesOut"), std::to_string(1ull << 33));
	EXPECT_EQ(info_value(out, "Idle_pct"), "80"); // 160 idle of 200
	EXPECT_EQ(info_value(out, "Stopping"), "0");
	EXPECT_NE(x.run("show info json")
			  .find("\"name\":\"CumReq\"},\"processNum\":1,\"tags\":{"
				"\"origin\":\"Metric\",\"nature\":\"Counter\","
				"\"scope\":\"Process\"},\"value\":{\"type\":\"u32\","
				"\"value\":11}}"),
		  std::string::npos);

	f.workers[1]->drain = true; // graceful shutdown: workers drain
	out = x.run("show info");
	EXPECT_EQ(info_value(out, "Stopping"), "1");
	EXPECT_EQ(info_value(out, "Listeners"), "0");
}

TEST(CtlBuf, JsonEscaping)
{
	struct ctl_buf b = {};

	ctl_json_str(&b, "a\"b\\c\n\t\x01 caf\xc3\xa9 \xff\xc3 \xed\xa0\x80 \xf0\x9f\x98\x80");
	EXPECT_EQ(std::string(b.data, b.len),
		  "\"a\\\"b\\\\c\\n\\t\\u0001 caf\xc3\xa9 \\ufffd\\ufffd "
		  "\\ufffd\\ufffd\\ufffd \xf0\x9f\x98\x80\"");
	b.len = 0;
	ctl_json_str(&b, nullptr);
	EXPECT_EQ(std::string(b.data, b.len), "\"\"");
	b.len = 0;
	ctl_printf(&b, "%s-%d", std::string(1000, 'x').c_str(), 5);
	EXPECT_EQ(b.len, 1002u);
	EXPECT_EQ(std::string(b.data + 998), "xx-5");
	ctl_buf_free(&b);
}

// ---- the server ----

struct TmpDir {
	std::string path;
	TmpDir()
	{
		char t[] = "/tmp/ctl_test.XXXXXX";
		EXPECT_NE(mkdtemp(t), nullptr);
		path = t;
	}
	~TmpDir()
	{
		std::string cmd = "rm -rf '" + path + "'";
		EXPECT_EQ(system(cmd.c_str()), 0);
	}
};

int connect_to(const std::string &path)
{
	struct sockaddr_un sa = {};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	sa.sun_family = AF_UNIX;
	strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

// Read until the peer closes (or until `until` is seen); 5 s bound.
std::string read_all(int fd, const std::string &until = "")
{
	std::string s;
	char buf[4096];
	auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);

	while (std::chrono::steady_clock::now() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return s;
		s.append(buf, (size_t)n);
		if (!until.empty() && s.size() >= until.size() &&
		    s.compare(s.size() - until.size(), until.size(), until) == 0)
			return s;
	}
	ADD_FAILURE() << "no EOF within 5 s, got: " << s;
	return s;
}

struct Server {
	TmpDir dir;
	std::string path;
	bool quit = false;
	struct ctl_env env = {};
	struct ctl_server *srv = nullptr;
	char err[256] = "";

	Server()
	{
		path = dir.path + "/run/sluice/ctl.sock"; // parents created on open
		env.quit = &quit;
		srv = ctl_server_open(path.c_str(), &env, err, sizeof(err));
		EXPECT_NE(srv, nullptr) << err;
	}
	~Server()
	{
		ctl_server_close(srv);
	}
	// Serve while client runs in a thread; returns what it returned.
	std::string with_client(const std::function<std::string()> &client)
	{
		std::atomic<bool> done{ false };
		std::string result;
		std::thread t([&] {
			result = client();
			done = true;
		});
		auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
		while (!done && std::chrono::steady_clock::now() < end)
			ctl_server_poll(srv, 20);
		t.join();
		return result;
	}
	std::string ask(const std::string &bytes, bool shut = false)
	{
		return with_client([&] {
			int fd = connect_to(path);
			if (fd < 0)
				return std::string("connect failed");
			// The server may close before reading it all (a turned-away client, a line
			// too long): no SIGPIPE, and what it answered is what the test checks.
			(void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
			if (shut)
				shutdown(fd, SHUT_WR);
			std::string s = read_all(fd);
			close(fd);
			return s;
		});
	}
};

TEST(CtlServer, OpenModeAndHelp)
{
	Server s;
	struct stat st;

	ASSERT_NE(s.srv, nullptr);
	ASSERT_EQ(stat(s.path.c_str(), &st), 0);
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	EXPECT_EQ(st.st_mode & 0777, 0600u);
	ASSERT_EQ(stat((s.dir.path + "/run/sluice").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0700u);

	std::string out = s.ask("help\n");
	EXPECT_NE(out.find("show info"), std::string::npos);
	EXPECT_EQ(answers(out).size(), 1u);

	// Outside prompt mode only the first line is answered, then the server closes.
	out = s.ask("show info\nhelp\n");
	EXPECT_EQ(out.rfind("Name: sluice\n", 0), 0u) << out;
	EXPECT_EQ(answers(out).size(), 1u);

	// A line without its newline is still run at EOF; an empty line answers nothing.
	EXPECT_EQ(s.ask("foo", true), "error: unknown command 'foo'. Try 'help'.\n\n");
	EXPECT_EQ(s.ask("\n"), "");
	EXPECT_EQ(s.ask("foo\r\n"), "error: unknown command 'foo'. Try 'help'.\n\n");

	EXPECT_EQ(s.ask("shutdown\n"), "shutting down\n\n");
	EXPECT_TRUE(s.quit);

	ctl_server_close(s.srv);
	s.srv = nullptr;
	EXPECT_NE(stat(s.path.c_str(), &st), 0) << "socket file left behind";
}

TEST(CtlServer, PromptMode)
{
	Server s;
	std::string out = s.with_client([&] {
		int fd = connect_to(s.path);
		std::string all;
		EXPECT_EQ(write(fd, "prompt\n", 7), 7);
		all += read_all(fd, "> ");
		EXPECT_EQ(write(fd, "foo; foo\n", 9), 9);
		all += read_all(fd, "> ");
		EXPECT_EQ(write(fd, "\n", 1), 1);
		all += read_all(fd, "> ");
		EXPECT_EQ(write(fd, "quit\n", 5), 5);
		all += read_all(fd);
		close(fd);
		return all;
	});
	const std::string err = "error: unknown command 'foo'. Try 'help'.\n\n";
	EXPECT_EQ(out, "\n> " + err + err + "> > ");
}

TEST(CtlServer, LongLineNulAndBinary)
{
	Server s;

	EXPECT_EQ(s.ask(std::string(70000, 'x')), "error: line too long\n\n");
	EXPECT_EQ(s.ask(std::string("help\0x\n", 7)), "error: NUL byte in command line\n\n");
	std::string bin;
	for (int i = 1; i < 256; i++)
		bin.push_back((char)(i == '\n' ? 'n' : i));
	std::string out = s.ask(bin + "\n");
	EXPECT_TRUE(printable(out));
	EXPECT_EQ(out.rfind("error: ", 0), 0u) << out;
	// The server is still alive and answering.
	EXPECT_NE(s.ask("help\n").find("show info"), std::string::npos);
}

TEST(CtlServer, TooManyClientsAreTurnedAway)
{
	Server s;
	std::vector<int> fds;

	for (int i = 0; i < 64; i++) {
		fds.push_back(connect_to(s.path));
		ASSERT_GE(fds.back(), 0);
		ctl_server_poll(s.srv, 0);
	}
	for (int i = 0; i < 5; i++)
		ctl_server_poll(s.srv, 0);
	std::string out = s.ask("help\n");
	EXPECT_EQ(out.rfind("error: too many control clients", 0), 0u) << out;
	for (int fd : fds)
		close(fd);
	for (int i = 0; i < 5; i++)
		ctl_server_poll(s.srv, 0);
	EXPECT_NE(s.ask("help\n").find("show info"), std::string::npos);
}

bool hung_up(int fd)
{
	struct pollfd p = { fd, 0, 0 };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

// A client that never sends its line and one that never reads its answers are closed after
// their 10 s bounds, and meanwhile the server keeps answering everyone else at once.
TEST(CtlServer, SilentAndNonReadingClientsAreClosed)
{
	Server s;
	using clock = std::chrono::steady_clock;
	auto t0 = clock::now();
	int silent = connect_to(s.path), slow = connect_to(s.path);
	std::string flood = "prompt\n";

	ASSERT_GE(silent, 0);
	ASSERT_GE(slow, 0);
	for (int i = 0; i < 4000; i++)
		flood += "help\n";
	size_t sent = 0;
	while (clock::now() - t0 < std::chrono::seconds(2)) {
		ssize_t n = send(slow, flood.data() + sent, flood.size() - sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			sent += (size_t)n;
		ctl_server_poll(s.srv, 10);
	}
	EXPECT_FALSE(hung_up(silent));
	EXPECT_FALSE(hung_up(slow));

	auto t1 = clock::now();
	EXPECT_NE(s.ask("help\n").find("show info"), std::string::npos);
	EXPECT_LT(clock::now() - t1, std::chrono::seconds(1)) << "a stuck client held up the loop";

	while ((!hung_up(silent) || !hung_up(slow)) && clock::now() - t0 < std::chrono::seconds(15))
		ctl_server_poll(s.srv, 100);
	auto waited = clock::now() - t0;
	EXPECT_TRUE(hung_up(silent));
	EXPECT_TRUE(hung_up(slow));
	EXPECT_GE(waited, std::chrono::milliseconds(9900));
	EXPECT_LT(waited, std::chrono::seconds(13));
	close(silent);
	close(slow);
}

TEST(CtlServer, StaleSocketReplacedLiveOneRefused)
{
	TmpDir dir;
	std::string path = dir.path + "/ctl.sock";
	struct sockaddr_un sa = {};
	char err[256] = "";
	struct ctl_env env = {};

	// A socket file whose process is gone: bound, then closed without unlink.
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	sa.sun_family = AF_UNIX;
	strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);

	struct ctl_server *a = ctl_server_open(path.c_str(), &env, err, sizeof(err));
	ASSERT_NE(a, nullptr) << err;

	struct ctl_server *b = ctl_server_open(path.c_str(), &env, err, sizeof(err));
	EXPECT_EQ(b, nullptr);
	EXPECT_NE(std::string(err).find("already in use"), std::string::npos) << err;
	ctl_server_close(b);
	ctl_server_close(a);

	// Not a socket: refused, left alone.
	FILE *f = fopen(path.c_str(), "w");
	ASSERT_NE(f, nullptr);
	fclose(f);
	EXPECT_EQ(ctl_server_open(path.c_str(), &env, err, sizeof(err)), nullptr);
	EXPECT_NE(std::string(err).find("not a socket"), std::string::npos) << err;
	EXPECT_EQ(access(path.c_str(), F_OK), 0);

	std::string longp = "/tmp/" + std::string(200, 'x');
	EXPECT_EQ(ctl_server_open(longp.c_str(), &env, err, sizeof(err)), nullptr);
}

} // namespace
