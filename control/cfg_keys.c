/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: every configuration key, one row each, and the rules that span several keys.
 *
 * The contract is the Configuration section of INTERFACES.md: names, defaults and the planned
 * keys here must match it. To add a key: add the field to dp_conf.h and one row below (and a
 * line to configs/example.yaml). cfg_load.c does the rest.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"
#include "http_parse.h"

/* Services (and routes to them) wait for the reverse proxy; listeners with respond routes are
 * served. When the proxy lands, change this to 0 (the unit tests already load services
 * through cfg_set_planned_override). */
#define CFG_PROXY_PLANNED 0

#define KEY(nm, ty, fl, st, field) .name = nm, .type = ty, .flags = fl, .off = offsetof(st, field)
/* A key that INTERFACES.md lists as planned: no field yet, rejected when present. */
#define PLANNED(nm)                                                                \
	{                                                                          \
		.name = nm, .type = CFG_U32, .flags = CFG_PLANNED | CFG_RELOADABLE \
	}
#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

/* Bounds on lists. Besides sizing the dataplane's tables they keep a file of YAML aliases
 * (a list of a thousand references to a list of a thousand...) from blowing up the walk. */
#define CFG_MAX_LISTENERS 32 /* PX_MAX_LISTENERS (dataplane/proxy/px.h) */
#define CFG_MAX_ROUTES 1024  /* per listener */
#define CFG_MAX_SERVICES 1024
#define CFG_MAX_ENDPOINTS 1024 /* per service */

/* ---- helpers of the check functions ---- */

static const char *ip_str(uint32_t addr, char *buf)
{
	struct in_addr a = { .s_addr = addr };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static uint32_t prefix_mask(uint32_t len)
{
	return len == 0 ? 0 : htonl(~0u << (32 - len));
}

/* 0.0.0.0/8, 127/8, multicast and above: no interface address or backend lives there. */
static bool host_usable(uint32_t addr)
{
	uint32_t h = ntohl(addr);

	return (h >> 24) != 0 && (h >> 24) != 127 && h < 0xe0000000u;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* ---- dataplane ---- */

static void port_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	struct dp_port_conf *p = rec->obj;
	uint32_t mask = prefix_mask(p->prefix_len);
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	if (p->name == NULL)
		p->name = cfg_strdupf("port%u", rec->index);
	if (!cfg_rec_ok(rec, "address"))
		return;
	ip_str(p->addr, a);
	if (!host_usable(p->addr)) {
		cfg_rec_error(ctx, rec, "address", "%s is not a usable host address", a);
		return;
	}
	/* /31 and /32 have no network or broadcast address (RFC 3021). */
	if (p->prefix_len <= 30 && ((p->addr & ~mask) == 0 || (p->addr & ~mask) == ~mask)) {
		cfg_rec_error(ctx, rec, "address",
			      "%s/%u is the network or broadcast address of its subnet", a,
			      p->prefix_len);
		return;
	}
	if (p->gateway == 0)
		return;
	ip_str(p->gateway, g);
	if ((p->gateway & mask) != (p->addr & mask))
		cfg_rec_error(ctx, rec, "gateway", "%s is not inside the port's subnet %s/%u", g, a,
			      p->prefix_len);
	else if (p->gateway == p->addr)
		cfg_rec_error(ctx, rec, "gateway", "%s is the port's own address", g);
}

static const struct cfg_key port_keys[] = {
	{ KEY("name", CFG_STR, CFG_NAME | CFG_UNIQUE, struct dp_port_conf, name) },
	{ KEY("device", CFG_STR, CFG_REQUIRED, struct dp_port_conf, device), .min = 1, .max = 256 },
	{ KEY("address", CFG_PREFIX, CFG_REQUIRED, struct dp_port_conf, addr),
	  .off2 = offsetof(struct dp_port_conf, prefix_len), .min = 1, .max = 32 },
	{ KEY("gateway", CFG_IPV4, 0, struct dp_port_conf, gateway) },
	{ KEY("mtu", CFG_U32, 0, struct dp_port_conf, mtu), .def = "1500", .min = 576,
	  .max = 9000 },
};

static const struct cfg_table port_table = {
	.keys = port_keys,
	.n_keys = NKEYS(port_keys),
	.check = port_check,
};

static const struct cfg_key dataplane_keys[] = {
	{ KEY("eal", CFG_STRLIST, 0, struct dp_dataplane_conf, eal),
	  .off2 = offsetof(struct dp_dataplane_conf, n_eal) },
	{ KEY("workers", CFG_U32, 0, struct dp_dataplane_conf, workers), .def = "1", .min = 1,
	  .max = DP_MAX_WORKERS },
	{ KEY("mbufs", CFG_U32, 0, struct dp_dataplane_conf, mbufs), .def = "32768", .min = 1024,
	  .max = UINT32_MAX },
	{ KEY("max_connections", CFG_U32, 0, struct dp_dataplane_conf, max_connections),
	  .def = "65536", .min = 1, .max = UINT32_MAX },
	/* Above a second the appliance would look dead to a client. */
	{ KEY("idle_sleep_us", CFG_U32, 0, struct dp_dataplane_conf, idle_sleep_us), .def = "0",
	  .min = 0, .max = 1000000 },
	/* May be empty for --check; the appliance refuses to start without a port. */
	{ KEY("ports", CFG_LIST, 0, struct dp_dataplane_conf, ports),
	  .off2 = offsetof(struct dp_dataplane_conf, n_ports), .max = DP_MAX_PORTS,
	  .sub = &port_table, .elem_size = sizeof(struct dp_port_conf) },
};

static const struct cfg_table dataplane_table = {
	.keys = dataplane_keys,
	.n_keys = NKEYS(dataplane_keys),
};

/* ---- listeners ---- */

static const struct cfg_key limits_keys[] = {
	{ KEY("max_connections", CFG_U32, 0, struct dp_limits_conf, max_connections),
	  .def = "100000", .min = 1, .max = UINT32_MAX },
	{ KEY("header_timeout_ms", CFG_U32, 0, struct dp_limits_conf, header_timeout_ms),
	  .def = "10000", .min = 1, .max = UINT32_MAX },
	{ KEY("idle_timeout_ms", CFG_U32, 0, struct dp_limits_conf, idle_timeout_ms),
	  .def = "60000", .min = 1, .max = UINT32_MAX },
	{ KEY("max_header_bytes", CFG_U32, 0, struct dp_limits_conf, max_header_bytes),
	  .def = "16384", .min = 1024, .max = 1048576 },
	{ KEY("max_headers", CFG_U32, 0, struct dp_limits_conf, max_headers), .def = "100",
	  .min = 1, .max = HTTP_MAX_HEADERS },
	{ KEY("max_body_bytes", CFG_U64, 0, struct dp_limits_conf, max_body_bytes), .def = "0",
	  .min = 0, .max = UINT64_MAX },
	{ KEY("max_connections_per_client", CFG_U32, 0, struct dp_limits_conf,
	      max_connections_per_client),
	  .def = "0", .min = 0, .max = UINT32_MAX },
};

static const struct cfg_table limits_table = {
	.keys = limits_keys,
	.n_keys = NKEYS(limits_keys),
};

static void match_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	const struct dp_route_conf *r = rec->obj;
	const char *h = r->match_host;

	if (r->match_path_prefix != NULL && r->match_path_prefix[0] != '/')
		cfg_rec_error(ctx, rec, "path_prefix",
			      "expected a path beginning with '/', got \"%s\"",
			      r->match_path_prefix);
	if (h == NULL)
		return;
	if (strncmp(h, "*.", 2) == 0)
		h += 2;
	if (h[0] == '\0' || h[0] == '.' ||
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
		    strlen(h))
		cfg_rec_error(ctx, rec, "host",
			      "expected a host name (api.example, *.example.com), got \"%s\"",
			      r->match_host);
}

static const struct cfg_key match_keys[] = {
	{ KEY("host", CFG_STR, 0, struct dp_route_conf, match_host), .min = 1, .max = 253 },
	{ KEY("path_prefix", CFG_STR, 0, struct dp_route_conf, match_path_prefix), .min = 1,
	  .max = 1024 },
};

static const struct cfg_table match_table = {
	.keys = match_keys,
	.n_keys = NKEYS(match_keys),
	.check = match_check,
};

static void respond_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	struct dp_respond_conf *r = rec->obj;

	if (r->bytes >= 0 && r->body != NULL)
		cfg_rec_error(ctx, rec, "bytes", "expected either 'body' or 'bytes', not both");
	else if (r->bytes < 0 && r->body == NULL)
		r->body = strdup("");
	/* It becomes a header line: a CR or LF would let it inject headers. */
	if (r->content_type != NULL && has_ctl(r->content_type))
		cfg_rec_error(ctx, rec, "content_type", "expected no control characters");
}

static const struct cfg_key respond_keys[] = {
	{ KEY("status", CFG_U32, 0, struct dp_respond_conf, status), .def = "200", .min = 100,
	  .max = 599 },
	{ KEY("body", CFG_STR, 0, struct dp_respond_conf, body) },
	{ KEY("content_type", CFG_STR, 0, struct dp_respond_conf, content_type),
	  .def = "text/plain", .min = 1, .max = 255 },
	/* A generated body of this many bytes (benchmarks); -1 (default): use body. */
	{ KEY("bytes", CFG_I64, 0, struct dp_respond_conf, bytes), .def = "-1", .min = 0,
	  .max = 1ull << 40 },
};

static const struct cfg_table respond_table = {
	.keys = respond_keys,
	.n_keys = NKEYS(respond_keys),
	.check = respond_check,
};

static void rate_limit_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	struct dp_rate_limit_conf *r = rec->obj;

	if (r->per == NULL || strcmp(r->per, "route") == 0) {
		r->per_kind = DP_RL_ROUTE;
	} else if (strcmp(r->per, "client_ip") == 0) {
		r->per_kind = DP_RL_CLIENT_IP;
	} else if (strncmp(r->per, "header:", 7) == 0) {
		const char *n = r->per + 7;

		r->per_kind = DP_RL_HEADER;
		/* a field name is a token (RFC 9110 5.1) */
		if (n[0] == '\0' ||
		    strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			      "!#$%&'*+-.^_`|~") != strlen(n))
			cfg_rec_error(ctx, rec, "per",
				      "expected a header name after 'header:', got \"%s\"", n);
	} else {
		cfg_rec_error(ctx, rec, "per",
			      "expected route, client_ip or header:NAME, got \"%s\"", r->per);
	}
}

/* Appliance-wide token buckets (dataplane/policy/rl.h, docs/ratelimit.md). */
static const struct cfg_key rate_limit_keys[] = {
	{ KEY("requests_per_second", CFG_U32, 0, struct dp_rate_limit_conf, requests_per_second),
	  .def = "0", .min = 0, .max = 1000000 },
	{ KEY("burst", CFG_U32, 0, struct dp_rate_limit_conf, burst), .def = "0", .min = 0,
	  .max = 100000000 },
	{ KEY("per", CFG_STR, 0, struct dp_rate_limit_conf, per), .def = "route", .min = 1,
	  .max = 64 },
};

static const struct cfg_table rate_limit_table = {
	.keys = rate_limit_keys,
	.n_keys = NKEYS(rate_limit_keys),
	.check = rate_limit_check,
};

static void route_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	const struct dp_conf *conf = cfg_ctx_root(ctx);
	struct dp_route_conf *r = rec->obj;
	bool svc = cfg_rec_has(rec, "service");
	const char *hint;

	r->has_respond = cfg_rec_has(rec, "respond");
	r->service_idx = -1;
	if (svc == r->has_respond) {
		cfg_rec_error(ctx, rec, NULL, "expected exactly one of 'service' or 'respond'%s",
			      svc ? ", got both" : "");
		return;
	}
	if (!svc || r->service == NULL)
		return;
	for (uint32_t i = 0; i < conf->n_services; i++) {
		if (strcmp(conf->services[i].name, r->service) == 0) {
			r->service_idx = (int32_t)i;
			return;
		}
	}
	hint = cfg_closest(r->service, conf->services, conf->n_services, sizeof(*conf->services),
			   offsetof(struct dp_service_conf, name));
	cfg_rec_error(ctx, rec, "service", "no service named '%s'%s%s%s", r->service,
		      hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
}

static const struct cfg_key route_keys[] = {
	/* match's keys live in the route itself: match_host, match_path_prefix. */
	{ .name = "match", .type = CFG_MAP, .off = 0, .sub = &match_table },
	{ KEY("service", CFG_STR, CFG_PROXY_PLANNED, struct dp_route_conf, service), .min = 1 },
	{ KEY("respond", CFG_MAP, 0, struct dp_route_conf, respond), .sub = &respond_table },
	{ KEY("rate_limit", CFG_MAP, 0, struct dp_route_conf, rate_limit),
	  .sub = &rate_limit_table },
};

static const struct cfg_table route_table = {
	.keys = route_keys,
	.n_keys = NKEYS(route_keys),
	.check = route_check,
};

static void listener_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	const struct dp_conf *conf = cfg_ctx_root(ctx);
	struct dp_listener_conf *l = rec->obj;
	char a[INET_ADDRSTRLEN];
	uint32_t i;

	if (l->name == NULL)
		l->name = cfg_strdupf("listener%u", rec->index);
	if (l->addr != 0) {
		for (i = 0; i < conf->dataplane.n_ports; i++)
			if (conf->dataplane.ports[i].addr == l->addr)
				break;
		if (i == conf->dataplane.n_ports)
			cfg_rec_error(ctx, rec, "address", "%s is not the address of any port",
				      ip_str(l->addr, a));
	}
	/* 0 means every address, so it clashes with any listener on the same port. */
	for (i = 0; i < rec->index; i++) {
		const struct dp_listener_conf *o = &conf->listeners[i];

		if (o->port == l->port && (o->addr == l->addr || !o->addr || !l->addr)) {
			cfg_rec_error(ctx, rec, "port", "port %u is already used by listeners[%u]",
				      l->port, i);
			break;
		}
	}
}

static const struct cfg_key listener_keys[] = {
	{ KEY("name", CFG_STR, CFG_NAME | CFG_UNIQUE, struct dp_listener_conf, name) },
	{ KEY("port", CFG_U32, 0, struct dp_listener_conf, port), .def = "80", .min = 1,
	  .max = 65535 },
	{ KEY("address", CFG_IPV4, 0, struct dp_listener_conf, addr) },
	{ KEY("limits", CFG_MAP, 0, struct dp_listener_conf, limits), .sub = &limits_table },
	{ KEY("routes", CFG_LIST, 0, struct dp_listener_conf, routes),
	  .off2 = offsetof(struct dp_listener_conf, n_routes), .max = CFG_MAX_ROUTES,
	  .sub = &route_table, .elem_size = sizeof(struct dp_route_conf) },
};

static const struct cfg_table listener_table = {
	.keys = listener_keys,
	.n_keys = NKEYS(listener_keys),
	.check = listener_check,
};

/* ---- services ---- */

static void endpoint_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	struct dp_endpoint_conf *e = rec->obj;
	char a[INET_ADDRSTRLEN];

	if (!cfg_rec_ok(rec, "address"))
		return;
	ip_str(e->addr, a);
	if (e->name == NULL)
		e->name = cfg_strdupf("%s:%u", a, e->port);
	if (!host_usable(e->addr))
		cfg_rec_error(ctx, rec, "address", "%s is not a usable host address", a);
}

static const struct cfg_key endpoint_keys[] = {
	{ KEY("name", CFG_STR, CFG_NAME | CFG_UNIQUE, struct dp_endpoint_conf, name) },
	{ KEY("address", CFG_ADDRPORT, CFG_REQUIRED, struct dp_endpoint_conf, addr),
	  .off2 = offsetof(struct dp_endpoint_conf, port) },
	/* HAProxy's range: 0 takes no new requests, 256 is the most. */
	{ KEY("weight", CFG_U32, 0, struct dp_endpoint_conf, weight), .def = "1", .min = 0,
	  .max = 256 },
};

static const struct cfg_table endpoint_table = {
	.keys = endpoint_keys,
	.n_keys = NKEYS(endpoint_keys),
	.check = endpoint_check,
};

static const struct cfg_key pool_keys[] = {
	{ KEY("max_idle_per_endpoint", CFG_U32, 0, struct dp_service_conf,
	      pool_max_idle_per_endpoint),
	  .def = "64", .min = 0, .max = 65535 },
	{ KEY("idle_timeout_ms", CFG_U32, 0, struct dp_service_conf, pool_idle_timeout_ms),
	  .def = "30000", .min = 1, .max = UINT32_MAX },
};

static const struct cfg_table pool_table = {
	.keys = pool_keys,
	.n_keys = NKEYS(pool_keys),
};

/* per_try_ms bounds one try inside response_ms, which bounds them all. */
static void timeouts_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	const struct dp_service_conf *s = rec->obj;

	if (s->per_try_ms > 0 && s->per_try_ms > s->response_ms)
		cfg_rec_error(ctx, rec,
			      cfg_rec_has(rec, "per_try_ms") ? "per_try_ms" : "response_ms",
			      "per_try_ms (%u) must not exceed response_ms (%u)", s->per_try_ms,
			      s->response_ms);
}

static const struct cfg_key timeouts_keys[] = {
	{ KEY("connect_ms", CFG_U32, 0, struct dp_service_conf, connect_ms), .def = "1000",
	  .min = 1, .max = UINT32_MAX },
	{ KEY("response_ms", CFG_U32, 0, struct dp_service_conf, response_ms), .def = "30000",
	  .min = 1, .max = UINT32_MAX },
	{ KEY("per_try_ms", CFG_U32, 0, struct dp_service_conf, per_try_ms), .def = "0", .min = 0,
	  .max = UINT32_MAX },
};

static const struct cfg_table timeouts_table = {
	.keys = timeouts_keys,
	.n_keys = NKEYS(timeouts_keys),
	.check = timeouts_check,
};

/* ---- services: health_check ---- */

/* Probes are scheduled on the control core's 10 ms tick: below 100 ms an interval would be
 * mostly jitter, and a thousand endpoints would cost ten thousand probes a second. */
#define CFG_HC_MIN_INTERVAL_MS 100
#define CFG_HC_MAX_INTERVAL_MS 3600000 /* an hour */
/* host "" stands for the endpoint's "A.B.C.D:PORT", at most this long. */
#define CFG_HC_ADDR_HOST_MAX 21

/* A request target or Host value goes on the wire as it is: a space, CR, LF or any control
 * character would split the request line or inject a header. */
static bool wire_token_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Given and accepted, or not given (its default is then valid): a check may judge it. */
static bool usable(const struct cfg_rec *rec, const char *key)
{
	return cfg_rec_ok(rec, key) || !cfg_rec_has(rec, key);
}

/* fast_interval_ms, down_interval_ms: 0 (interval_ms), or an interval longer than timeout_ms. */
static void health_interval_check(struct cfg_ctx *ctx, const struct cfg_rec *rec, const char *key,
				  uint32_t v, uint32_t timeout)
{
	if (!cfg_rec_ok(rec, key) || v == 0)
		return;
	if (v < CFG_HC_MIN_INTERVAL_MS)
		cfg_rec_error(ctx, rec, key, "expected 0 (interval_ms) or at least %u, got %u",
			      CFG_HC_MIN_INTERVAL_MS, v);
	else if (usable(rec, "timeout_ms") && timeout >= v)
		cfg_rec_error(ctx, rec, key, "must be greater than timeout_ms (%u), got %u",
			      timeout, v);
}

static void health_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	struct dp_health_conf *h = rec->obj;
	size_t req;

	/* Runs only when the file gives health_check: that is what turns checks on. */
	h->enabled = true;
	if (cfg_rec_ok(rec, "path") && h->path[0] != '/')
		cfg_rec_error(ctx, rec, "path", "expected a path beginning with '/', got \"%s\"",
			      h->path);
	else if (cfg_rec_ok(rec, "path") && !wire_token_ok(h->path))
		cfg_rec_error(ctx, rec, "path", "expected no space or control characters");
	if (cfg_rec_ok(rec, "host") && !wire_token_ok(h->host))
		cfg_rec_error(ctx, rec, "host", "expected no space or control characters");
	if (h->path != NULL && h->host != NULL) {
		req = strlen(h->path) + (h->host[0] ? strlen(h->host) : CFG_HC_ADDR_HOST_MAX);
		if (req > DP_PROBE_REQ_MAX - DP_PROBE_REQ_OVERHEAD)
			cfg_rec_error(ctx, rec, cfg_rec_has(rec, "path") ? "path" : "host",
				      "path and host make a probe request too long: %zu bytes of "
				      "path and host, at most %u",
				      req, DP_PROBE_REQ_MAX - DP_PROBE_REQ_OVERHEAD);
	}
	/* A probe still running when the next is due would overlap it. */
	if (usable(rec, "interval_ms") && usable(rec, "timeout_ms") &&
	    h->timeout_ms >= h->interval_ms) {
		if (cfg_rec_has(rec, "timeout_ms"))
			cfg_rec_error(ctx, rec, "timeout_ms",
				      "must be less than interval_ms (%u), got %u", h->interval_ms,
				      h->timeout_ms);
		else
			cfg_rec_error(ctx, rec, "interval_ms",
				      "must be greater than timeout_ms (%u, the default), got %u",
				      h->timeout_ms, h->interval_ms);
	}
	health_interval_check(ctx, rec, "fast_interval_ms", h->fast_interval_ms, h->timeout_ms);
	health_interval_check(ctx, rec, "down_interval_ms", h->down_interval_ms, h->timeout_ms);
}

static const struct cfg_enum check_type_names[] = {
	{ "tcp", DP_CHECK_TCP, false },
	{ "http", DP_CHECK_HTTP, false },
	{ NULL, 0, false },
};

static const struct cfg_key health_keys[] = {
	{ KEY("type", CFG_ENUM, 0, struct dp_health_conf, type), .def = "http",
	  .enums = check_type_names },
	{ KEY("path", CFG_STR, 0, struct dp_health_conf, path), .def = "/", .min = 1,
	  .max = DP_PROBE_REQ_MAX - DP_PROBE_REQ_OVERHEAD },
	/* 255: a DNS name (253) with room for ":PORT" is rarely longer; the request bound below
	 * still applies. */
	{ KEY("host", CFG_STR, 0, struct dp_health_conf, host), .def = "", .min = 0, .max = 255 },
	{ KEY("expect_status", CFG_STATUS, 0, struct dp_health_conf, expect),
	  .off2 = offsetof(struct dp_health_conf, n_expect), .def = "200-399", .min = 1,
	  .max = DP_PROBE_EXPECT_MAX },
	{ KEY("expect_body", CFG_STR, 0, struct dp_health_conf, expect_body), .def = "", .min = 0,
	  .max = DP_PROBE_NEEDLE_MAX - 1 },
	{ KEY("interval_ms", CFG_U32, 0, struct dp_health_conf, interval_ms), .def = "2000",
	  .min = CFG_HC_MIN_INTERVAL_MS, .max = CFG_HC_MAX_INTERVAL_MS },
	{ KEY("fast_interval_ms", CFG_U32, 0, struct dp_health_conf, fast_interval_ms), .def = "0",
	  .min = 0, .max = CFG_HC_MAX_INTERVAL_MS },
	{ KEY("down_interval_ms", CFG_U32, 0, struct dp_health_conf, down_interval_ms), .def = "0",
	  .min = 0, .max = CFG_HC_MAX_INTERVAL_MS },
	{ KEY("timeout_ms", CFG_U32, 0, struct dp_health_conf, timeout_ms), .def = "1000", .min = 1,
	  .max = CFG_HC_MAX_INTERVAL_MS },
	{ KEY("rise", CFG_U32, 0, struct dp_health_conf, rise), .def = "2", .min = 1, .max = 1000 },
	{ KEY("fall", CFG_U32, 0, struct dp_health_conf, fall), .def = "3", .min = 1, .max = 1000 },
	{ KEY("port", CFG_U32, 0, struct dp_health_conf, port), .def = "0", .min = 0,
	  .max = 65535 },
};

static const struct cfg_table health_table = {
	.keys = health_keys,
	.n_keys = NKEYS(health_keys),
	.check = health_check,
};

/* ---- services: outlier_detection ---- */

static void outlier_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	const struct dp_outlier_conf *o = rec->obj;

	if (o->base_ejection_ms > o->max_ejection_ms)
		cfg_rec_error(ctx, rec,
			      cfg_rec_has(rec, "base_ejection_ms") ? "base_ejection_ms"
								   : "max_ejection_ms",
			      "base_ejection_ms (%u) must not exceed max_ejection_ms (%u)",
			      o->base_ejection_ms, o->max_ejection_ms);
}

static const struct cfg_key outlier_keys[] = {
	{ KEY("consecutive_5xx", CFG_U32, 0, struct dp_outlier_conf, consecutive_5xx), .def = "5",
	  .min = 0, .max = UINT32_MAX },
	{ KEY("consecutive_gateway_failure", CFG_U32, 0, struct dp_outlier_conf,
	      consecutive_gateway_failure),
	  .def = "5", .min = 0, .max = UINT32_MAX },
	{ KEY("base_ejection_ms", CFG_U32, 0, struct dp_outlier_conf, base_ejection_ms),
	  .def = "30000", .min = 1, .max = UINT32_MAX },
	{ KEY("max_ejection_ms", CFG_U32, 0, struct dp_outlier_conf, max_ejection_ms),
	  .def = "300000", .min = 1, .max = UINT32_MAX },
	{ KEY("max_ejection_percent", CFG_U32, 0, struct dp_outlier_conf, max_ejection_percent),
	  .def = "10", .min = 0, .max = 100 },
};

static const struct cfg_table outlier_table = {
	.keys = outlier_keys,
	.n_keys = NKEYS(outlier_keys),
	.check = outlier_check,
};

/* ---- services: retries ---- */

#define CFG_RETRY_MAX 10	       /* tries after the first: more only multiplies load */
#define CFG_RETRY_BODY_MAX (16u << 20) /* a held request body, per request */
#define CFG_RETRY_METHODS_MAX 16       /* extra idempotent methods */
#define CFG_METHOD_MAX 32	       /* characters of one method name */

/* An HTTP method is a token (RFC 9110 5.6.2). */
static bool method_ok(const char *m)
{
	size_t n = strlen(m);

	return n >= 1 && n <= CFG_METHOD_MAX &&
	       strspn(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			 "!#$%&'*+-.^_`|~") == n;
}

static void retries_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	const struct dp_retry_conf *r = rec->obj;
	/* retries lives only inside a service. */
	const struct dp_service_conf *s =
		(const void *)((const char *)r - offsetof(struct dp_service_conf, retries));

	if (cfg_rec_ok(rec, "on") && (r->on & DP_RETRY_RESPONSE_TIMEOUT) && s->per_try_ms == 0)
		cfg_rec_error(ctx, rec, "on",
			      "'response-timeout' needs timeouts.per_try_ms > 0 (a try that "
			      "times out at response_ms leaves no time for another)");
	for (uint32_t i = 0; i < r->n_idempotent_methods; i++) {
		const char *m = r->idempotent_methods[i];

		if (m != NULL && !method_ok(m))
			cfg_rec_error(ctx, rec, "idempotent_methods",
				      "entry %u: expected an HTTP method (1 to %u token "
				      "characters), got \"%s\"",
				      i, CFG_METHOD_MAX, m);
	}
}

static const struct cfg_enum retry_on_names[] = {
	{ "connect-failure", DP_RETRY_CONNECT_FAILURE, false },
	{ "empty-response", DP_RETRY_EMPTY_RESPONSE, false },
	{ "reset", DP_RETRY_RESET, false },
	{ "response-timeout", DP_RETRY_RESPONSE_TIMEOUT, false },
	{ "500", DP_RETRY_500, false },
	{ "502", DP_RETRY_502, false },
	{ "503", DP_RETRY_503, false },
	{ "504", DP_RETRY_504, false },
	{ NULL, 0, false },
};

static const struct cfg_key retries_keys[] = {
	/* First: the short form "retries: N" gives it. */
	{ KEY("count", CFG_U32, 0, struct dp_retry_conf, count), .def = "2", .min = 0,
	  .max = CFG_RETRY_MAX },
	{ KEY("on", CFG_FLAGS, 0, struct dp_retry_conf, on),
	  .def = "connect-failure,empty-response,reset", .enums = retry_on_names },
	{ KEY("budget_percent", CFG_U32, 0, struct dp_retry_conf, budget_percent), .def = "20",
	  .min = 0, .max = 100 },
	{ KEY("max_body_bytes", CFG_U64, 0, struct dp_retry_conf, max_body_bytes), .def = "65536",
	  .min = 0, .max = CFG_RETRY_BODY_MAX },
	{ KEY("idempotent_methods", CFG_STRLIST, 0, struct dp_retry_conf, idempotent_methods),
	  .off2 = offsetof(struct dp_retry_conf, n_idempotent_methods), .min = 0,
	  .max = CFG_RETRY_METHODS_MAX },
};

static const struct cfg_table retries_table = {
	.keys = retries_keys,
	.n_keys = NKEYS(retries_keys),
	.check = retries_check,
};

/* ---- services: circuit_breaker ---- */

static const struct cfg_key breaker_keys[] = {
	{ KEY("max_connections", CFG_U32, 0, struct dp_breaker_conf, max_connections), .def = "0",
	  .min = 0, .max = 10000000 },
	{ KEY("max_requests", CFG_U32, 0, struct dp_breaker_conf, max_requests), .def = "0",
	  .min = 0, .max = 10000000 },
	{ KEY("max_pending", CFG_U32, 0, struct dp_breaker_conf, max_pending), .def = "0", .min = 0,
	  .max = 10000000 },
	{ KEY("queue_timeout_ms", CFG_U32, 0, struct dp_breaker_conf, queue_timeout_ms),
	  .def = "1000", .min = 1, .max = 3600000 },
	{ KEY("consecutive_failures", CFG_U32, 0, struct dp_breaker_conf, consecutive_failures),
	  .def = "0", .min = 0, .max = 1000000 },
	{ KEY("open_ms", CFG_U32, 0, struct dp_breaker_conf, open_ms), .def = "10000", .min = 1,
	  .max = 3600000 },
};

static const struct cfg_table breaker_table = {
	.keys = breaker_keys,
	.n_keys = NKEYS(breaker_keys),
};

static const struct cfg_enum balance_names[] = {
	{ "round_robin", DP_BALANCE_ROUND_ROBIN, false },
	{ "weighted_round_robin", DP_BALANCE_WEIGHTED_ROUND_ROBIN, false },
	{ "least_connections", DP_BALANCE_LEAST_CONNECTIONS, false },
	{ "random_two", DP_BALANCE_RANDOM_TWO, false },
	{ "maglev", DP_BALANCE_MAGLEV, false },
	{ NULL, 0, false },
};

/* ---- services: balancing (balance, hash_key, slow_start_ms) ---- */

/* hash_key: client_ip | header:NAME | cookie:NAME, maglev only (another balance would ignore
 * it, which is a mistake worth saying). */
static void service_balance_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	struct dp_service_conf *sc = rec->obj;
	const char *k = sc->hash_key;
	const char *name = NULL;

	sc->hash_kind = DP_HASH_CLIENT_IP;
	sc->hash_name_off = 0;
	sc->hash_name_len = 0;
	if (k == NULL || !cfg_rec_ok(rec, "hash_key"))
		return;
	/* (a refused balance holds the default: judge only a balance given and accepted, or
	 * not given) */
	if (sc->balance != DP_BALANCE_MAGLEV &&
	    (!cfg_rec_has(rec, "balance") || cfg_rec_ok(rec, "balance"))) {
		cfg_rec_error(ctx, rec, "hash_key", "only with balance: maglev");
		return;
	}
	if (strcmp(k, "client_ip") == 0)
		return;
	if (strncmp(k, "header:", 7) == 0) {
		sc->hash_kind = DP_HASH_HEADER;
		name = k + 7;
	} else if (strncmp(k, "cookie:", 7) == 0) {
		sc->hash_kind = DP_HASH_COOKIE;
		name = k + 7;
	}
	if (name == NULL || name[0] == '\0' || strpbrk(name, " \t:;=,\"") != NULL) {
		cfg_rec_error(ctx, rec, "hash_key",
			      "expected client_ip, header:NAME or cookie:NAME, got \"%s\"", k);
		sc->hash_kind = DP_HASH_CLIENT_IP;
		return;
	}
	sc->hash_name_off = (uint32_t)(name - k);
	sc->hash_name_len = (uint32_t)strlen(name);
}

#define SERVICE_BALANCE_KEYS                                                                     \
	{ KEY("hash_key", CFG_STR, 0, struct dp_service_conf, hash_key), .min = 1, .max = 200 }, \
	{                                                                                        \
		KEY("slow_start_ms", CFG_U32, 0, struct dp_service_conf, slow_start_ms),         \
			.def = "0", .min = 0, .max = 3600000                                     \
	}

static const struct cfg_key service_keys[] = {
	{ KEY("balance", CFG_ENUM, 0, struct dp_service_conf, balance), .def = "round_robin",
	  .enums = balance_names },
	SERVICE_BALANCE_KEYS,
	{ KEY("endpoints", CFG_LIST, 0, struct dp_service_conf, endpoints),
	  .off2 = offsetof(struct dp_service_conf, n_endpoints), .max = CFG_MAX_ENDPOINTS,
	  .sub = &endpoint_table, .elem_size = sizeof(struct dp_endpoint_conf) },
	/* pool and timeouts are written nested but stored flat in the service. */
	{ .name = "pool", .type = CFG_MAP, .off = 0, .sub = &pool_table },
	{ .name = "timeouts", .type = CFG_MAP, .off = 0, .sub = &timeouts_table },
	{ KEY("health_check", CFG_MAP, 0, struct dp_service_conf, health), .sub = &health_table },
	{ KEY("outlier_detection", CFG_MAP, 0, struct dp_service_conf, outlier),
	  .sub = &outlier_table },
	{ KEY("panic_threshold_percent", CFG_U32, 0, struct dp_service_conf,
	      panic_threshold_percent),
	  .def = "50", .min = 0, .max = 100 },
	{ KEY("retries", CFG_MAP, CFG_SHORT, struct dp_service_conf, retries),
	  .sub = &retries_table },
	{ KEY("circuit_breaker", CFG_MAP, 0, struct dp_service_conf, breaker),
	  .sub = &breaker_table },
};

static const struct cfg_table service_table = {
	.keys = service_keys,
	.n_keys = NKEYS(service_keys),
	.name_off = offsetof(struct dp_service_conf, name),
	.check = service_balance_check,
};

/* ---- control ---- */

static void control_check(struct cfg_ctx *ctx, const struct cfg_rec *rec)
{
	const struct dp_control_conf *c = rec->obj;
	const char *colon = c->metrics ? strrchr(c->metrics, ':') : NULL;
	char ip[INET_ADDRSTRLEN];
	struct in_addr a;
	char *end;
	unsigned long port;

	if (c->metrics == NULL || c->metrics[0] == '\0')
		return;
	if (colon != NULL && (size_t)(colon - c->metrics) < sizeof(ip)) {
		memcpy(ip, c->metrics, colon - c->metrics);
		ip[colon - c->metrics] = '\0';
		port = strtoul(colon + 1, &end, 10);
		if (inet_pton(AF_INET, ip, &a) == 1 && colon[1] >= '0' && colon[1] <= '9' &&
		    *end == '\0' && port >= 1 && port <= 65535)
			return;
	}
	cfg_rec_error(ctx, rec, "metrics",
		      "expected \"\" (off) or an IPv4 address and port A.B.C.D:PORT, got \"%s\"",
		      c->metrics);
}

static const struct cfg_enum log_level_names[] = {
	{ "emerg", DP_LOG_EMERG, false },
	{ "alert", DP_LOG_ALERT, false },
	{ "crit", DP_LOG_CRIT, false },
	{ "err", DP_LOG_ERR, false },
	{ "warning", DP_LOG_WARNING, false },
	{ "notice", DP_LOG_NOTICE, false },
	{ "info", DP_LOG_INFO, false },
	{ "debug", DP_LOG_DEBUG, false },
	{ NULL, 0, false },
};

static const struct cfg_key control_keys[] = {
	/* 107: the room in sockaddr_un.sun_path. */
	{ KEY("socket", CFG_STR, 0, struct dp_control_conf, socket),
	  .def = "/run/sluice/sluice.sock", .min = 1, .max = 107 },
	{ KEY("metrics", CFG_STR, CFG_RELOADABLE, struct dp_control_conf, metrics),
	  .def = "127.0.0.1:9190" },
	{ KEY("log_level", CFG_ENUM, CFG_RELOADABLE, struct dp_control_conf, log_level),
	  .def = "info", .enums = log_level_names },
	{ KEY("access_log", CFG_STR, CFG_RELOADABLE, struct dp_control_conf, access_log),
	  .def = "" },
};

static const struct cfg_table control_table = {
	.keys = control_keys,
	.n_keys = NKEYS(control_keys),
	.check = control_check,
};

/* ---- the whole file ---- */

static const struct cfg_key root_keys[] = {
	{ KEY("dataplane", CFG_MAP, 0, struct dp_conf, dataplane), .sub = &dataplane_table },
	{ KEY("listeners", CFG_LIST, CFG_RELOADABLE, struct dp_conf, listeners),
	  .off2 = offsetof(struct dp_conf, n_listeners), .max = CFG_MAX_LISTENERS,
	  .sub = &listener_table, .elem_size = sizeof(struct dp_listener_conf) },
	{ KEY("services", CFG_DICT, CFG_RELOADABLE | CFG_PROXY_PLANNED | CFG_NAME, struct dp_conf,
	      services),
	  .off2 = offsetof(struct dp_conf, n_services), .max = CFG_MAX_SERVICES,
	  .sub = &service_table, .elem_size = sizeof(struct dp_service_conf) },
	{ KEY("control", CFG_MAP, 0, struct dp_conf, control), .sub = &control_table },
};

const struct cfg_table cfg_root_table = {
	.keys = root_keys,
	.n_keys = NKEYS(root_keys),
};
