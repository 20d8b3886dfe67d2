// SPDX-License-Identifier: BSD-3-Clause
// sluice-load's command line (load/ld_opts.c): defaults, every option, and what it refuses.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

extern "C" {
#include "ld.h"
}

namespace
{

int parse(std::vector<std::string> args, struct ld_conf *c, std::string *err = nullptr)
{
	std::vector<char *> argv;
	char buf[256];

	args.insert(args.begin(), "sluice-load");
	for (auto &a : args)
		argv.push_back(a.data());
	argv.push_back(nullptr);
	int rc = ld_opts_parse(c, (int)args.size(), argv.data(), buf, sizeof(buf));
	if (err != nullptr)
		*err = buf;
	return rc;
}

uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

TEST(LdOpts, Defaults)
{
	struct ld_conf c;

	ASSERT_EQ(parse({ "-a", "198.18.1.10", "-t", "198.18.1.1:80" }, &c), 0);
	EXPECT_EQ(c.addr, ip("198.18.1.10"));
	EXPECT_EQ(c.n_addrs, 1u);
	EXPECT_EQ(c.prefix, 24);
	EXPECT_EQ(c.target, ip("198.18.1.1"));
	EXPECT_EQ(c.tport, 80);
	EXPECT_EQ(c.conns, 10u);
	EXPECT_DOUBLE_EQ(c.duration_s, 10);
	EXPECT_DOUBLE_EQ(c.warmup_s, 0);
	EXPECT_EQ(c.timeout_ms, 2000u);
	EXPECT_EQ(c.mode, LD_KEEPALIVE);
	EXPECT_EQ(c.lport_lo, 1024);
	EXPECT_EQ(c.lport_hi, 65535);
	EXPECT_STREQ(c.path, "/");
	EXPECT_STREQ(c.host, "198.18.1.1"); // the target address when -H is not given
}

TEST(LdOpts, EveryOption)
{
	struct ld_conf c;

	ASSERT_EQ(parse({ "--address",	 "10.9.0.2/16",
			  "--addresses", "16",
			  "--gateway",	 "10.9.0.1",
			  "--target",	 "192.0.2.7:8080",
			  "-c",		 "1000000",
			  "-d",		 "2.5",
			  "-w",		 "1",
			  "-p",		 "/a?b=c",
			  "-H",		 "api.example",
			  "--idle",	 "--timeout-ms",
			  "300",	 "--max-requests",
			  "5",		 "--mbufs",
			  "4096",	 "--mtu",
			  "9000",	 "--local-ports",
			  "2000-3000",	 "--connect-burst",
			  "8",		 "--port",
			  "1",		 "--idle-sleep-us",
			  "20",		 "--quiet" },
			&c),
		  0);
	EXPECT_EQ(c.addr, ip("10.9.0.2"));
	EXPECT_EQ(c.prefix, 16);
	EXPECT_EQ(c.n_addrs, 16u);
	EXPECT_EQ(c.gateway, ip("10.9.0.1"));
	EXPECT_EQ(c.tport, 8080);
	EXPECT_EQ(c.conns, 1000000u);
	EXPECT_DOUBLE_EQ(c.duration_s, 2.5);
	EXPECT_DOUBLE_EQ(c.warmup_s, 1);
	EXPECT_STREQ(c.path, "/a?b=c");
	EXPECT_STREQ(c.host, "api.example");
	EXPECT_EQ(c.mode, LD_IDLE);
	EXPECT_EQ(c.timeout_ms, 300u);
	EXPECT_EQ(c.max_requests, 5u);
	EXPECT_EQ(c.mbufs, 4096u);
	EXPECT_EQ(c.mtu, 9000u);
	EXPECT_EQ(c.lport_lo, 2000);
	EXPECT_EQ(c.lport_hi, 3000);
	EXPECT_EQ(c.connect_burst, 8u);
	EXPECT_EQ(c.port_id, 1);
	EXPECT_EQ(c.idle_sleep_us, 20u);
	EXPECT_TRUE(c.quiet);

	ASSERT_EQ(parse({ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "--close" }, &c), 0);
	EXPECT_EQ(c.mode, LD_CLOSE);
}

TEST(LdOpts, Refused)
{
	const std::vector<std::vector<std::string>> bad = {
		{ "-t", "198.18.1.1:80" },				    // no --address
		{ "-a", "198.18.1.10" },				    // no --target
		{ "-a", "198.18.1", "-t", "198.18.1.1:80" },		    // not an address
		{ "-a", "198.18.1.10/33", "-t", "198.18.1.1:80" },	    // prefix
		{ "-a", "198.18.1.10", "-t", "198.18.1.1" },		    // no port
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:0" },		    // port 0
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "-n", "33" }, // > NET_MAX_IFS
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "-c", "0" },
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "-d", "-1" },
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "-p", "nopath" },
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "-p", "/a b" },
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "-H", "a\tb" },
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "--local-ports", "3000-2000" },
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "--mtu", "100" },
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "--bogus" },
		{ "-a", "198.18.1.10", "-t", "198.18.1.1:80", "extra" },
	};
	for (const auto &args : bad) {
		struct ld_conf c;
		std::string err;

		EXPECT_EQ(parse(args, &c, &err), -EINVAL) << args.back();
		EXPECT_FALSE(err.empty()) << args.back();
	}
}

} // namespace
