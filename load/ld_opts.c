/* SPDX-License-Identifier: BSD-3-Clause
 * sluice-load's command line (the options after EAL's "--").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ld.h"

enum {
	OPT_CLOSE = 256,
	OPT_IDLE,
	OPT_TIMEOUT,
	OPT_MAX_REQ,
	OPT_MBUFS,
	OPT_MTU,
	OPT_LPORTS,
	OPT_BURST,
	OPT_PORT,
	OPT_IDLE_SLEEP,
	OPT_QUIET,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "address", required_argument, NULL, 'a' },
	{ "addresses", required_argument, NULL, 'n' },
	{ "gateway", required_argument, NULL, 'g' },
	{ "target", required_argument, NULL, 't' },
	{ "connections", required_argument, NULL, 'c' },
	{ "duration", required_argument, NULL, 'd' },
	{ "warmup", required_argument, NULL, 'w' },
	{ "path", required_argument, NULL, 'p' },
	{ "host", required_argument, NULL, 'H' },
	{ "close", no_argument, NULL, OPT_CLOSE },
	{ "idle", no_argument, NULL, OPT_IDLE },
	{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
	{ "max-requests", required_argument, NULL, OPT_MAX_REQ },
	{ "mbufs", required_argument, NULL, OPT_MBUFS },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "local-ports", required_argument, NULL, OPT_LPORTS },
	{ "connect-burst", required_argument, NULL, OPT_BURST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "idle-sleep-us", required_argument, NULL, OPT_IDLE_SLEEP },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void ld_opts_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [EAL options] -- -a ADDR[/LEN] -t ADDR:PORT [options]\n"
		"  -a, --address ADDR[/LEN]   local address and link prefix length (24)\n"
		"  -n, --addresses N          N consecutive local addresses from ADDR (1..%u)\n"
		"  -g, --gateway ADDR         next hop when the target is off the link\n"
		"  -t, --target ADDR:PORT     the HTTP server to load\n"
		"  -c, --connections N        concurrent connections (10)\n"
		"  -d, --duration S           measured seconds (10); --idle: seconds held\n"
		"  -w, --warmup S             seconds of load before measuring (0)\n"
		"  -p, --path PATH            request-target (/)\n"
		"  -H, --host HOST            Host header (the target address)\n"
		"      --close                one request per connection (Connection: close)\n"
		"      --idle                 one request per connection, then hold it idle\n"
		"      --timeout-ms MS        connect and response timeout (2000)\n"
		"      --max-requests N       end the measured window after N responses\n"
		"      --mbufs N              mbuf pool size (from the connection count)\n"
		"      --mtu N                link MTU (1500)\n"
		"      --local-ports LO-HI    local ports per address (1024-65535)\n"
		"      --connect-burst N      connections started per loop iteration (64)\n"
		"      --port N               DPDK port id (0)\n"
		"      --idle-sleep-us N      sleep N us after a poll that found nothing (0)\n"
		"      --quiet                no progress on stderr\n",
		prog, LD_MAX_ADDRS);
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_secs(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v >= 0) || v > 86400 * 7)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_addr(const char *s, uint32_t *addr, uint8_t *prefix)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	struct in_addr a;
	uint64_t len;

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	if (slash != NULL) {
		if (prefix == NULL || parse_u64(slash + 1, 1, 32, &len) != 0)
			return -EINVAL;
		*prefix = (uint8_t)len;
	}
	return 0;
}

static int parse_target(const char *s, uint32_t *addr, uint16_t *port)
{
	char buf[64];
	const char *colon = strrchr(s, ':');
	uint64_t p;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	if (parse_addr(buf, addr, NULL) != 0 || parse_u64(colon + 1, 1, 65535, &p) != 0)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[32];
	const char *dash = strchr(s, '-');
	uint64_t a, b;

	if (dash == NULL || (size_t)(dash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (parse_u64(buf, 1, 65535, &a) != 0 || parse_u64(dash + 1, a, 65535, &b) != 0)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* Printable characters without spaces: what a request-target and a Host may hold here. */
static bool token_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return false;
	return true;
}

static int opt_one(struct ld_conf *c, int opt, const char *arg, char *err, size_t errlen)
{
	uint64_t v;

	switch (opt) {
	case 'a':
		if (parse_addr(arg, &c->addr, &c->prefix) != 0)
			goto bad;
		return 0;
	case 'n':
		if (parse_u64(arg, 1, LD_MAX_ADDRS, &v) != 0)
			goto bad;
		c->n_addrs = (uint32_t)v;
		return 0;
	case 'g':
		return parse_addr(arg, &c->gateway, NULL) == 0 ? 0 : -EINVAL;
	case 't':
		if (parse_target(arg, &c->target, &c->tport) != 0)
			goto bad;
		return 0;
	case 'c':
		if (parse_u64(arg, 1, 16u << 20, &v) != 0)
			goto bad;
		c->conns = (uint32_t)v;
		return 0;
	case 'd':
		return parse_secs(arg, &c->duration_s) == 0 ? 0 : -EINVAL;
	case 'w':
		return parse_secs(arg, &c->warmup_s) == 0 ? 0 : -EINVAL;
	case 'p':
		if (arg[0] != '/' || strlen(arg) >= sizeof(c->path) || !token_ok(arg))
			goto bad;
		strcpy(c->path, arg);
		return 0;
	case 'H':
		if (strlen(arg) >= sizeof(c->host) || !token_ok(arg))
			goto bad;
		strcpy(c->host, arg);
		return 0;
	case OPT_CLOSE:
		c->mode = LD_CLOSE;
		return 0;
	case OPT_IDLE:
		c->mode = LD_IDLE;
		return 0;
	case OPT_TIMEOUT:
		if (parse_u64(arg, 1, 3600 * 1000, &v) != 0)
			goto bad;
		c->timeout_ms = (uint32_t)v;
		return 0;
	case OPT_MAX_REQ:
		return parse_u64(arg, 1, UINT64_MAX, &c->max_requests) == 0 ? 0 : -EINVAL;
	case OPT_MBUFS:
		if (parse_u64(arg, 1024, 1u << 26, &v) != 0)
			goto bad;
		c->mbufs = (uint32_t)v;
		return 0;
	case OPT_MTU:
		if (parse_u64(arg, 576, 9000, &v) != 0)
			goto bad;
		c->mtu = (uint32_t)v;
		return 0;
	case OPT_LPORTS:
		return parse_range(arg, &c->lport_lo, &c->lport_hi) == 0 ? 0 : -EINVAL;
	case OPT_BURST:
		if (parse_u64(arg, 1, 4096, &v) != 0)
			goto bad;
		c->connect_burst = (uint32_t)v;
		return 0;
	case OPT_PORT:
		if (parse_u64(arg, 0, RTE_MAX_ETHPORTS - 1, &v) != 0)
			goto bad;
		c->port_id = (uint16_t)v;
		return 0;
	case OPT_IDLE_SLEEP:
		if (parse_u64(arg, 0, 100000, &v) != 0)
			goto bad;
		c->idle_sleep_us = (uint32_t)v;
		return 0;
	case OPT_QUIET:
		c->quiet = true;
		return 0;
	}
bad:
	snprintf(err, errlen, "invalid value \"%s\"", arg);
	return -EINVAL;
}

int ld_opts_parse(struct ld_conf *c, int argc, char **argv, char *err, size_t errlen)
{
	int opt;

	err[0] = '\0';
	memset(c, 0, sizeof(*c));
	c->n_addrs = 1;
	c->prefix = 24;
	c->conns = 10;
	c->duration_s = 10;
	c->timeout_ms = 2000;
	c->mtu = 1500;
	c->lport_lo = 1024;
	c->lport_hi = 65535;
	c->connect_burst = 64;
	strcpy(c->path, "/");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "a:n:g:t:c:d:w:p:H:", long_opts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			snprintf(err, errlen, "help");
			return -EINVAL;
		}
		if (opt == '?') {
			snprintf(err, errlen, "unknown option (see --help)");
			return -EINVAL;
		}
		if (opt_one(c, opt, optarg, err, errlen) != 0) {
			if (err[0] == '\0')
				snprintf(err, errlen, "invalid value \"%s\"", optarg);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
		return -EINVAL;
	}
	if (c->addr == 0 || c->target == 0) {
		snprintf(err, errlen, "--address and --target are required");
		return -EINVAL;
	}
	if (c->host[0] == '\0')
		inet_ntop(AF_INET, &c->target, c->host, sizeof(c->host));
	return 0;
}
