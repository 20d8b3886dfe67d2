/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: Prometheus text exposition (format 0.0.4) at GET /metrics.
 *
 * A kernel TCP socket on the management side (control.metrics, loopback by default), served
 * by the control core without blocking: a tiny HTTP/1.0 server that reads one request head of
 * at most MET_REQ_MAX bytes, answers it and closes. Everything it reports is read relaxed from
 * the workers' counters, the same numbers "show ports" / "show proxy" sum.
 *
 * Naming (docs/observability.md): every registry counter is one family
 * sluice_<group>_<counter>_total with one sample per worker (label worker="N"; sum() in
 * PromQL gives the total, and a summed sample in the same family would count twice); the five
 * responses_Nxx counters of a group become one family sluice_<group>_responses_total with a
 * class="Nxx" label. Listener / service / endpoint counters are summed over workers and
 * labelled by object name. Label sets are bounded: workers, ports, pools and configured objects.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_mempool.h>

#include "control.h"
#include "hc_ctl.h"

#define MET_REQ_MAX 4096   /* request head, request line and headers */
#define MET_MAX_CLIENTS 16 /* more wait in the listen backlog */
#define MET_CLIENT_MS 5000 /* a scrape must be sent and read within this */
#define MET_NAME_MAX 160
#define MET_EVENTS 16

struct met_client {
	int fd;
	unsigned int slot;
	bool answering; /* the head is read: only writing remains */
	uint64_t deadline;
	size_t in_len;
	char in[MET_REQ_MAX];
	struct ctl_buf out;
	size_t out_off;
};

struct met_prom {
	int lfd;
	int epfd;
	struct ctl_env *env;
	struct met_client *clients[MET_MAX_CLIENTS];
};

static uint64_t met_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the exposition ---- */

/* Metric names allow [a-zA-Z0-9_:] only: anything else a counter name might hold becomes '_',
 * and upper case (http_err's refused_BAD_METHOD) becomes lower case, Prometheus's convention. */
static void met_name(char *dst, size_t len, const char *a, const char *b, const char *suffix)
{
	size_t i;

	snprintf(dst, len, "sluice_%s%s%s%s", a, b[0] ? "_" : "", b, suffix);
	for (i = 0; dst[i] != '\0'; i++) {
		char c = dst[i];

		if (c >= 'A' && c <= 'Z')
			dst[i] = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
			   c == ':'))
			dst[i] = '_';
	}
}

static void met_family(struct ctl_buf *b, const char *name, const char *type, const char *help)
{
	ctl_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped as the format requires. */
void met_label_value(struct ctl_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			ctl_printf(b, "\\%c", *s);
		else if (*s == '\n')
			ctl_printf(b, "\\n");
		else
			ctl_buf_append(b, s, 1);
	}
}

/* name{k1="v1",k2="v2"} value: k2 may be NULL. */
static void met_sample(struct ctl_buf *b, const char *name, const char *k1, const char *v1,
		       const char *k2, const char *v2, uint64_t value)
{
	ctl_printf(b, "%s", name);
	if (k1 != NULL) {
		ctl_printf(b, "{%s=\"", k1);
		met_label_value(b, v1);
		if (k2 != NULL) {
			ctl_printf(b, "\",%s=\"", k2);
			met_label_value(b, v2);
		}
		ctl_printf(b, "\"}");
	}
	ctl_printf(b, " %" PRIu64 "\n", value);
}

/* "responses_2xx" -> true: such counters are one family with a class label. */
static bool met_is_class(const char *name)
{
	return strlen(name) == 13 && strncmp(name, "responses_", 10) == 0 && name[10] >= '1' &&
	       name[10] <= '5' && strcmp(name + 11, "xx") == 0;
}

/* Every counter of the registry, one sample per worker. */
static void met_registry(const struct dp *dp, struct ctl_buf *b)
{
	char name[MET_NAME_MAX], help[MET_NAME_MAX], wid[8];

	for (unsigned int g = 0; g < dp_n_counter_groups; g++) {
		const struct dp_counter_group *grp = &dp_counter_groups[g];

		for (unsigned int i = 0; i < grp->count; i++) {
			unsigned int j, end = i + 1;

			if (met_is_class(grp->names[i])) {
				while (end < grp->count && met_is_class(grp->names[end]))
					end++;
				met_name(name, sizeof(name), grp->name, "responses", "_total");
				snprintf(help, sizeof(help),
					 "Responses sent by status class (%s.responses_Nxx), per "
					 "worker",
					 grp->name);
			} else {
				met_name(name, sizeof(name), grp->name, grp->names[i], "_total");
				snprintf(help, sizeof(help), "Counter %s.%s, per worker", grp->name,
					 grp->names[i]);
			}
			met_family(b, name, "counter", help);
			for (j = i; j < end; j++) {
				for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS;
				     w++) {
					const struct dp_worker *wk = dp->workers[w];

					if (wk == NULL)
						continue;
					snprintf(wid, sizeof(wid), "%u", dp_worker_id(wk));
					if (end > i + 1)
						met_sample(b, name, "worker", wid, "class",
							   grp->names[j] + 10,
							   dp_counter_get(wk, grp, j));
					else
						met_sample(b, name, "worker", wid, NULL, NULL,
							   dp_counter_get(wk, grp, j));
				}
			}
			i = end - 1;
		}
	}
}

/* ---- listeners, services, endpoints ---- */

typedef const uint64_t *(*met_obj_get)(const struct dp_worker *w, uint32_t a, uint32_t b);

static const uint64_t *met_get_listener(const struct dp_worker *w, uint32_t l, uint32_t unused)
{
	return px_listener_counters(w, l);
}

static const uint64_t *met_get_service(const struct dp_worker *w, uint32_t svc, uint32_t unused)
{
	return px_service_counters(w, svc);
}

static const uint64_t *met_get_endpoint(const struct dp_worker *w, uint32_t svc, uint32_t ep)
{
	return px_endpoint_counters(w, svc, ep);
}

static uint64_t met_obj_sum(const struct dp *dp, met_obj_get get, uint32_t a, uint32_t b,
			    unsigned int i)
{
	uint64_t sum = 0;

	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
		const uint64_t *c = dp->workers[w] != NULL ? get(dp->workers[w], a, b) : NULL;

		if (c != NULL)
			sum += __atomic_load_n(&c[i], __ATOMIC_RELAXED);
	}
	return sum;
}

/* The samples of object counter i (or of the class family starting at i, up to end). */
static void met_obj_samples(const struct dp *dp, const char *kind, const char *name, unsigned int i,
			    unsigned int end, struct ctl_buf *b)
{
	const struct dp_conf *c = dp->snapshot->conf;

	for (unsigned int j = i; j < end; j++) {
		const char *cls = end > i + 1 ? px_obj_counter_names[j] + 10 : NULL;
		const char *ck = cls ? "class" : NULL;

		if (strcmp(kind, "listener") == 0) {
			for (uint32_t l = 0; l < c->n_listeners && l < PX_MAX_LISTENERS; l++)
				met_sample(b, name, "listener", c->listeners[l].name, ck, cls,
					   met_obj_sum(dp, met_get_listener, l, 0, j));
			continue;
		}
		for (uint32_t v = 0; v < c->n_services; v++) {
			const struct dp_service_conf *sc = &c->services[v];

			if (strcmp(kind, "service") == 0) {
				met_sample(b, name, "service", sc->name, ck, cls,
					   met_obj_sum(dp, met_get_service, v, 0, j));
				continue;
			}
			for (uint32_t e = 0; e < sc->n_endpoints; e++) {
				/* Three labels: written here rather than through met_sample. */
				ctl_printf(b, "%s{service=\"", name);
				met_label_value(b, sc->name);
				ctl_printf(b, "\",endpoint=\"");
				met_label_value(b, sc->endpoints[e].name);
				if (cls != NULL)
					ctl_printf(b, "\",class=\"%s", cls);
				ctl_printf(b, "\"} %" PRIu64 "\n",
					   met_obj_sum(dp, met_get_endpoint, v, e, j));
			}
		}
	}
}

/* Counters of every listener, service and endpoint of the start-up configuration (the
 * workers' runtime objects are built from it, as for "show proxy"), summed over workers. */
static void met_objects(const struct dp *dp, struct ctl_buf *b)
{
	static const char *const kinds[] = { "listener", "service", "endpoint" };
	char name[MET_NAME_MAX], help[MET_NAME_MAX];

	for (unsigned int k = 0; k < RTE_DIM(kinds); k++) {
		for (unsigned int i = 0; i < PX_OBJ_MAX; i++) {
			unsigned int end = i + 1;

			if (met_is_class(px_obj_counter_names[i])) {
				while (end < PX_OBJ_MAX && met_is_class(px_obj_counter_names[end]))
					end++;
				met_name(name, sizeof(name), kinds[k], "responses", "_total");
				snprintf(help, sizeof(help), "Responses by status class, per %s",
					 kinds[k]);
			} else {
				met_name(name, sizeof(name), kinds[k], px_obj_counter_names[i],
					 "_total");
				snprintf(help, sizeof(help), "Counter %s of each %s (all workers)",
					 px_obj_counter_names[i], kinds[k]);
			}
			met_family(b, name, "counter", help);
			met_obj_samples(dp, kinds[k], name, i, end, b);
			i = end - 1;
		}
	}
}

/* 429s of each rate-limited route (routes have no object: labelled by listener and index in
 * its routes, host and path_prefix as matched). */
static void met_routes(const struct dp *dp, struct ctl_buf *b)
{
	const struct dp_conf *c = dp->snapshot->conf;
	const char *name = "sluice_route_rate_limited_total";

	met_family(b, name, "counter",
		   "Requests answered 429 by the route's rate_limit (all workers)");
	for (uint32_t l = 0; l < c->n_listeners && l < PX_MAX_LISTENERS; l++) {
		const struct dp_listener_conf *lc = &c->listeners[l];

		for (uint32_t r = 0; r < lc->n_routes && r < PX_MAX_ROUTES; r++) {
			const struct dp_route_conf *rc = &lc->routes[r];
			uint64_t n = 0;

			if (rc->rate_limit.requests_per_second == 0)
				continue;
			for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++)
				if (dp->workers[w] != NULL)
					n += px_route_limited(dp->workers[w], l, r);
			ctl_printf(b, "%s{listener=\"", name);
			met_label_value(b, lc->name);
			ctl_printf(b, "\",route=\"%" PRIu32 "\",host=\"", r);
			met_label_value(b, rc->match_host != NULL ? rc->match_host : "");
			ctl_printf(b, "\",path_prefix=\"");
			met_label_value(b, rc->match_path_prefix != NULL ? rc->match_path_prefix
									 : "/");
			ctl_printf(b, "\"} %" PRIu64 "\n", n);
		}
	}
}

/* ---- gauges and port statistics ---- */

static const struct {
	const char *name;
	size_t offset;
	const char *help;
} met_port_fields[] = {
	{ "sluice_port_rx_packets_total", offsetof(struct dp_port_stats, ipackets),
	  "Packets received by the port" },
	{ "sluice_port_tx_packets_total", offsetof(struct dp_port_stats, opackets),
	  "Packets sent by the port" },
	{ "sluice_port_rx_bytes_total", offsetof(struct dp_port_stats, ibytes),
	  "Bytes received by the port" },
	{ "sluice_port_tx_bytes_total", offsetof(struct dp_port_stats, obytes),
	  "Bytes sent by the port" },
	{ "sluice_port_rx_missed_total", offsetof(struct dp_port_stats, imissed),
	  "Packets the device dropped for lack of room in an RX queue" },
	{ "sluice_port_rx_errors_total", offsetof(struct dp_port_stats, ierrors),
	  "Erroneous received packets" },
	{ "sluice_port_tx_errors_total", offsetof(struct dp_port_stats, oerrors),
	  "Packets the device failed to send" },
	{ "sluice_port_rx_nombuf_total", offsetof(struct dp_port_stats, rx_nombuf),
	  "RX mbuf allocation failures" },
};

static void met_ports(const struct dp *dp, struct ctl_buf *b)
{
	struct dp_port_stats st[DP_MAX_PORTS];
	bool ok[DP_MAX_PORTS];
	unsigned int p, f;

	for (p = 0; p < dp->n_ports && p < DP_MAX_PORTS; p++)
		ok[p] = dp_port_stats(dp, p, &st[p]) == 0;
	for (f = 0; f < RTE_DIM(met_port_fields); f++) {
		met_family(b, met_port_fields[f].name, "counter", met_port_fields[f].help);
		for (p = 0; p < dp->n_ports && p < DP_MAX_PORTS; p++)
			if (ok[p])
				met_sample(b, met_port_fields[f].name, "port", dp->ports[p].name,
					   NULL, NULL,
					   *(const uint64_t *)((const char *)&st[p] +
							       met_port_fields[f].offset));
	}
}

/* Per-worker TCB pool gauges: read relaxed, a value may be one update behind. */
static void met_tcp_gauges(const struct dp *dp, struct ctl_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t offset;
	} g[] = {
		{ "sluice_tcp_conns_used", "TCBs in use, per worker",
		  offsetof(struct dp_tcp_gauges, conns_used) },
		{ "sluice_tcp_conns_hwm", "High-water mark of TCBs in use, per worker",
		  offsetof(struct dp_tcp_gauges, conns_hwm) },
		{ "sluice_tcp_syn_rcvd", "Connections in SYN-RECEIVED, per worker",
		  offsetof(struct dp_tcp_gauges, syn_rcvd) },
		{ "sluice_tcp_time_wait", "Connections in TIME-WAIT, per worker",
		  offsetof(struct dp_tcp_gauges, time_wait) },
		{ "sluice_tcp_conns_max", "TCB pool size (dataplane.max_connections), per worker",
		  offsetof(struct dp_tcp_gauges, conns_max) },
		{ "sluice_tcp_probe_conns_used",
		  "Health probe TCBs (the reserve) in use, per worker",
		  offsetof(struct dp_tcp_gauges, rsv_used) },
		{ "sluice_tcp_probe_conns_hwm", "High-water mark of probe TCBs in use, per worker",
		  offsetof(struct dp_tcp_gauges, rsv_hwm) },
		{ "sluice_tcp_probe_conns_max", "Health probe TCB reserve size, per worker",
		  offsetof(struct dp_tcp_gauges, rsv_max) },
	};
	char wid[8];

	for (unsigned int k = 0; k < RTE_DIM(g); k++) {
		met_family(b, g[k].name, "gauge", g[k].help);
		for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
			const struct dp_worker *wk = dp->workers[w];
			struct dp_tcp_gauges tg;
			uint32_t v;

			if (wk == NULL)
				continue;
			dp_worker_tcp_gauges(wk, &tg);
			memcpy(&v, (const char *)&tg + g[k].offset, sizeof(v));
			snprintf(wid, sizeof(wid), "%u", dp_worker_id(wk));
			met_sample(b, g[k].name, "worker", wid, NULL, NULL, v);
		}
	}
}

static void met_gauges(const struct ctl_env *env, struct ctl_buf *b)
{
	const struct dp *dp = env->dp;
	uint64_t now = (uint64_t)time(NULL);
	const struct dp_snapshot *snap = __atomic_load_n(&dp->snapshot, __ATOMIC_ACQUIRE);
	unsigned int i;

	met_family(b, "sluice_info", "gauge", "Always 1; the version in a label");
	met_sample(b, "sluice_info", "version", SLUICE_VERSION, NULL, NULL, 1);
	met_family(b, "sluice_start_time_seconds", "gauge", "Start time, seconds since the epoch");
	met_sample(b, "sluice_start_time_seconds", NULL, NULL, NULL, NULL, env->start_time);
	met_family(b, "sluice_uptime_seconds", "gauge", "Seconds since start");
	met_sample(b, "sluice_uptime_seconds", NULL, NULL, NULL, NULL,
		   now > env->start_time ? now - env->start_time : 0);
	met_family(b, "sluice_workers", "gauge", "Worker lcores");
	met_sample(b, "sluice_workers", NULL, NULL, NULL, NULL, dp->n_workers);
	met_family(b, "sluice_config_epoch", "gauge",
		   "Epoch of the running configuration (1 at start, +1 per reload)");
	met_sample(b, "sluice_config_epoch", NULL, NULL, NULL, NULL, snap ? snap->epoch : 0);

	met_family(b, "sluice_mbuf_pool_size", "gauge", "Mbufs in the pool");
	for (i = 0; i < RTE_MAX_NUMA_NODES; i++)
		if (dp->pools[i] != NULL)
			met_sample(b, "sluice_mbuf_pool_size", "pool", dp->pools[i]->name, NULL,
				   NULL, dp->pools[i]->size);
	met_family(b, "sluice_mbuf_pool_in_use", "gauge",
		   "Mbufs of the pool in use (per-lcore caches count as in use)");
	for (i = 0; i < RTE_MAX_NUMA_NODES; i++)
		if (dp->pools[i] != NULL)
			met_sample(b, "sluice_mbuf_pool_in_use", "pool", dp->pools[i]->name, NULL,
				   NULL, rte_mempool_in_use_count(dp->pools[i]));
	met_tcp_gauges(dp, b);
}

void met_prom_render(const struct ctl_env *env, struct ctl_buf *out)
{
	if (env->dp == NULL)
		return;
	met_gauges(env, out);
	met_ports(env->dp, out);
	met_registry(env->dp, out);
	met_objects(env->dp, out);
	met_routes(env->dp, out);
	met_latency_render(env->dp, out);
	hc_prom_render(env->hc, env->dp, out);
}

/* ---- the HTTP side ---- */

static int met_parse_addr(const char *addr, struct sockaddr_in *sa)
{
	const char *colon = strrchr(addr, ':');
	char ip[INET_ADDRSTRLEN];
	unsigned long port;
	char *end;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, addr, colon - addr);
	ip[colon - addr] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port == 0 ||
	    port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

struct met_prom *met_prom_open(const char *addr, struct ctl_env *env, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct sockaddr_in sa;
	struct met_prom *m;
	int one = 1;

	if (addr == NULL || met_parse_addr(addr, &sa) < 0) {
		snprintf(err, errlen, "'%s' is not an IPv4 address and port A.B.C.D:PORT",
			 addr ? addr : "");
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->env = env;
	m->epfd = -1;
	m->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0)
		goto fail;
	/* A restart must not wait for the previous process's TIME_WAIT connections. */
	setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(m->lfd, 16) < 0)
		goto fail;
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->epfd < 0 || epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->lfd, &ev) < 0)
		goto fail;
	return m;

fail:
	snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
	if (m->epfd >= 0)
		close(m->epfd);
	if (m->lfd >= 0)
		close(m->lfd);
	free(m);
	return NULL;
}

static void met_client_close(struct met_prom *m, struct met_client *c)
{
	char scratch[1024];

	/* Unread bytes at close() turn into a RST that may destroy the answer in flight. */
	for (int i = 0; i < 4 && recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0; i++)
		;
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	m->clients[c->slot] = NULL;
	ctl_buf_free(&c->out);
	free(c);
}

static void met_accept(struct met_prom *m)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct met_client *c;
	unsigned int slot;
	int fd;

	for (;;) {
		for (slot = 0; slot < MET_MAX_CLIENTS && m->clients[slot] != NULL; slot++)
			;
		if (slot == MET_MAX_CLIENTS)
			return; /* the rest waits in the backlog until a client is done */
		fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->slot = slot;
		c->deadline = met_now_ms() + MET_CLIENT_MS;
		ev.data.ptr = c;
		if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		m->clients[slot] = c;
	}
}

static void met_status(struct ctl_buf *out, const char *status, const char *body)
{
	ctl_printf(out,
		   "HTTP/1.0 %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		   status, strlen(body), body);
}

/* The head is complete (or over MET_REQ_MAX): build the whole answer. Only "GET /metrics"
 * (a query string is ignored) is served; HTTP/1.0 semantics, the connection closes after. */
static void met_answer(struct met_prom *m, struct met_client *c, bool complete)
{
	struct ctl_buf body = { 0 };
	char *line = c->in, *sp1, *sp2, *eol;

	c->answering = true;
	if (!complete) {
		met_status(&c->out, "431 Request Header Fields Too Large", "request too large\n");
		return;
	}
	eol = memchr(line, '\n', c->in_len);
	if (eol != NULL && eol > line && eol[-1] == '\r')
		eol--;
	sp1 = eol ? memchr(line, ' ', eol - line) : NULL;
	sp2 = sp1 ? memchr(sp1 + 1, ' ', eol - sp1 - 1) : NULL;
	if (sp2 == NULL || eol - sp2 < 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		met_status(&c->out, "400 Bad Request", "bad request\n");
		return;
	}
	*sp2 = '\0';
	if (sp1 - line != 3 || memcmp(line, "GET", 3) != 0 ||
	    (strcmp(sp1 + 1, "/metrics") != 0 && strncmp(sp1 + 1, "/metrics?", 9) != 0)) {
		met_status(&c->out, "404 Not Found",
			   "not found: only GET /metrics is served here\n");
		return;
	}
	met_prom_render(m->env, &body);
	ctl_printf(&c->out,
		   "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		   "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		   body.len);
	if (body.len > 0)
		ctl_buf_append(&c->out, body.data, body.len);
	ctl_buf_free(&body);
}

/* Move the client forward without blocking. Returns false when it is finished or gone. */
static bool met_client_run(struct met_prom *m, struct met_client *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	ssize_t n;

	while (!c->answering) {
		n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		if (n == 0)
			return false; /* closed before a complete head: nothing to answer */
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
		if (strstr(c->in, "\r\n\r\n") != NULL || strstr(c->in, "\n\n") != NULL)
			met_answer(m, c, true);
		else if (c->in_len == sizeof(c->in) - 1)
			met_answer(m, c, false);
	}
	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0;
		if (n < 0)
			return false;
		c->out_off += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	return false;
}

void met_prom_poll(struct met_prom *m, int timeout_ms)
{
	struct epoll_event evs[MET_EVENTS];
	struct met_client *c;
	uint64_t now;
	int n, k;

	if (m == NULL)
		return;
	n = epoll_wait(m->epfd, evs, MET_EVENTS, timeout_ms);
	for (k = 0; k < n; k++) {
		c = evs[k].data.ptr;
		if (c == NULL)
			met_accept(m);
		else if (!met_client_run(m, c))
			met_client_close(m, c);
	}
	now = met_now_ms();
	for (unsigned int i = 0; i < MET_MAX_CLIENTS; i++) {
		c = m->clients[i];
		if (c != NULL && c->deadline <= now)
			met_client_close(m, c);
	}
}

void met_prom_close(struct met_prom *m)
{
	if (m == NULL)
		return;
	for (unsigned int i = 0; i < MET_MAX_CLIENTS; i++)
		if (m->clients[i] != NULL)
			met_client_close(m, m->clients[i]);
	close(m->epfd);
	close(m->lfd);
	free(m);
}
