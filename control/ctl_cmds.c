/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: the command table, the line executor and the first commands.
 *
 * Framing (INTERFACES.md, "Control socket"): a line holds commands separated by ';'; each
 * command's answer ends with exactly one empty line and holds no empty line before that. The
 * executor enforces it whatever a handler writes: blank lines are collapsed, '\r' dropped,
 * other control characters shown as '?', and a missing final newline added.
 *
 * Text formats. Every line is "key: value" so that `grep KEY | cut -d' ' -f2` reads a value:
 *
 *   show info    HAProxy 2.6's format (ctl_info.c).
 *   show ports   port.NAME.id, .mac, .address (A.B.C.D/LEN), .rss_hf (hex), then one line
 *                per dp_port_stats field: port.NAME.ipackets, .opackets, .ibytes, .obytes,
 *                .imissed, .ierrors, .oerrors, .rx_nombuf.
 *                total.GROUP.COUNTER: every counter of the registry summed over workers,
 *                then workerW.GROUP.COUNTER: the same per worker. Totals come first, so the
 *                first line that matches a counter name (grep -m1 ip_drop_bad_cksum) is the
 *                total. Every counter is printed, zero or not.
 *                pool.NAME.size, .in_use, .available: every mbuf pool.
 *   show pools   the pool.* lines, then the mem.* lines of ctl_mem.c.
 *
 * JSON forms (a trailing "json" word) are one compact object on one line:
 *   show ports json  {"ports":[{"name","id","mac","address","rss_hf","stats":{FIELD:N}}],
 *                     "total":{GROUP:{COUNTER:N}},"workers":[{"id":W,GROUP:{COUNTER:N}}],
 *                     "pools":[{"name","size","in_use","available"}]}
 *   show pools json  {"pools":[...]} as above.
 *
 * Control core only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mempool.h>

#include "control.h"
#include "hc_ctl.h"

#define CTL_MAX_WORDS 64
#define CTL_SHOWN_MAX 64 /* bytes of an unknown command echoed back */
#define CTL_SPACES " \t\r\v\f"

static int ctl_cmd_help(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
static int ctl_cmd_show_ports(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
static int ctl_cmd_show_pools(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
static int ctl_cmd_shutdown(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
static int ctl_cmd_show_tcp(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
static int ctl_cmd_show_proxy(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);

/* fn == NULL marks a session command ("prompt", "quit") that the executor handles itself,
 * because it changes the connection rather than the appliance. usage is "SYNTAX: what". */
static const struct ctl_cmd ctl_cmds[] = {
	{ "help", ctl_cmd_help, "help: list the commands" },
	{ "prompt", NULL, "prompt: toggle interactive mode (keep the connection, print '> ')" },
	{ "quit", NULL, "quit: close the connection" },
	{ "show info", ctl_cmd_show_info,
	  "show info [json|typed]: HAProxy 2.6's process information, then workers, ports, "
	  "config epoch, frame totals" },
	{ "show ports", ctl_cmd_show_ports,
	  "show ports [json]: port statistics, every per-worker counter, mbuf pools" },
	{ "show tcp", ctl_cmd_show_tcp,
	  "show tcp [json]: TCP counters per worker, connection pool use, TCB size" },
	{ "set server", ctl_cmd_set_server,
	  "set server SERVICE/ENDPOINT weight N | state ready|drain|maint | health "
	  "up|stopping|down: change an endpoint for new requests" },
	{ "enable server", ctl_cmd_enable_server,
	  "enable server SERVICE/ENDPOINT: back to ready (as HAProxy)" },
	{ "disable server", ctl_cmd_disable_server,
	  "disable server SERVICE/ENDPOINT: maintenance: no new requests (as HAProxy)" },
	{ "enable health", hc_cmd_enable_health,
	  "enable health SERVICE/ENDPOINT: resume active checks of an endpoint (as HAProxy)" },
	{ "disable health", hc_cmd_disable_health,
	  "disable health SERVICE/ENDPOINT: stop active checks; the endpoint counts as UP" },
	{ "show health", hc_cmd_show_health,
	  "show health [SERVICE[/ENDPOINT]] [json]: state and why: last probes, traffic "
	  "failures, ejections" },
	{ "add server", ctl_cmd_add_server,
	  "add server SERVICE/NAME ADDRESS:PORT [weight N]: new endpoint, in maintenance until "
	  "enable server (as HAProxy 2.6)" },
	{ "del server", ctl_cmd_del_server,
	  "del server SERVICE/NAME: remove an endpoint in maintenance with nothing in flight" },
	{ "reload", ctl_cmd_reload,
	  "reload [FILE]: load the configuration file again (or FILE) and apply it live" },
	{ "show proxy", ctl_cmd_show_proxy,
	  "show proxy [json]: counters per listener, service and endpoint (sum over workers)" },
	{ "show stat", ctl_cmd_show_stat,
	  "show stat [json]: HAProxy 2.6 CSV statistics per listener, service and endpoint" },
	{ "show servers state", ctl_cmd_show_servers_state,
	  "show servers state [SERVICE]: HAProxy 2.6 server state lines (version 1)" },
	{ "show config", ctl_cmd_show_config,
	  "show config: the running configuration as YAML (every key, defaults included)" },
	{ "show pools", ctl_cmd_show_pools,
	  "show pools [json]: mbuf pools, per-worker connection pools, bytes per idle connection" },
	{ "show conns", ctl_cmd_show_conns,
	  "show conns [N] [json]: up to N client connections (default 100), each worker's answer" },
	{ "shutdown", ctl_cmd_shutdown,
	  "shutdown [GRACE_MS]: stop accepting, let requests finish within GRACE_MS, exit" },
};

#define CTL_N_CMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

/* ---- helpers ---- */

/* Two-word "show X [json]" commands: returns 1 for json, 0 for text, -1 (answer written) otherwise. */
static int ctl_want_json(int argc, char **argv, int nwords, struct ctl_buf *out)
{
	if (argc == nwords)
		return 0;
	if (argc == nwords + 1 && strcmp(argv[nwords], "json") == 0)
		return 1;
	ctl_printf(out, "error: usage: %s %s [json]\n", argv[0], argv[1]);
	return -1;
}

static const struct dp_port_conf *ctl_port_conf(const struct dp *dp, const char *name)
{
	uint32_t i;

	if (dp->conf == NULL)
		return NULL;
	for (i = 0; i < dp->conf->dataplane.n_ports; i++) {
		if (dp->conf->dataplane.ports[i].name != NULL &&
		    strcmp(dp->conf->dataplane.ports[i].name, name) == 0)
			return &dp->conf->dataplane.ports[i];
	}
	return NULL;
}

static void ctl_fmt_addr(char *s, size_t len, const struct dp_port_conf *pc)
{
	const uint8_t *a;

	if (pc == NULL) {
		snprintf(s, len, "-");
		return;
	}
	a = (const uint8_t *)&pc->addr; /* network order: first byte first */
	snprintf(s, len, "%u.%u.%u.%u/%u", a[0], a[1], a[2], a[3], pc->prefix_len);
}

static void ctl_fmt_mac(char *s, size_t len, const struct rte_ether_addr *m)
{
	snprintf(s, len, "%02x:%02x:%02x:%02x:%02x:%02x", m->addr_bytes[0], m->addr_bytes[1],
		 m->addr_bytes[2], m->addr_bytes[3], m->addr_bytes[4], m->addr_bytes[5]);
}

static const struct {
	const char *name;
	size_t offset;
} ctl_port_fields[] = {
	{ "ipackets", offsetof(struct dp_port_stats, ipackets) },
	{ "opackets", offsetof(struct dp_port_stats, opackets) },
	{ "ibytes", offsetof(struct dp_port_stats, ibytes) },
	{ "obytes", offsetof(struct dp_port_stats, obytes) },
	{ "imissed", offsetof(struct dp_port_stats, imissed) },
	{ "ierrors", offsetof(struct dp_port_stats, ierrors) },
	{ "oerrors", offsetof(struct dp_port_stats, oerrors) },
	{ "rx_nombuf", offsetof(struct dp_port_stats, rx_nombuf) },
};

#define CTL_N_PORT_FIELDS (sizeof(ctl_port_fields) / sizeof(ctl_port_fields[0]))

static uint64_t ctl_port_field(const struct dp_port_stats *st, unsigned int f)
{
	return *(const uint64_t *)((const char *)st + ctl_port_fields[f].offset);
}

/* ---- help ---- */

/* Length of a usage's syntax: up to its first ": " (a syntax may hold a colon, as in
 * ADDRESS:PORT). */
static size_t ctl_usage_syntax_len(const char *u)
{
	const char *sep = strstr(u, ": ");

	return sep != NULL ? (size_t)(sep - u) : strlen(u);
}

static int ctl_cmd_help(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	size_t w = 0, n;
	unsigned int i;

	for (i = 0; i < CTL_N_CMDS; i++) {
		n = ctl_usage_syntax_len(ctl_cmds[i].usage);
		if (n > w)
			w = n;
	}
	ctl_printf(out, "The following commands are valid:\n");
	for (i = 0; i < CTL_N_CMDS; i++) {
		const char *u = ctl_cmds[i].usage;

		n = ctl_usage_syntax_len(u);
		ctl_printf(out, "  %-*.*s :%s\n", (int)w, (int)n, u, u[n] ? u + n + 1 : "");
	}
	return 0;
}

/* ---- show ports / show pools ---- */

static void ctl_pools(const struct dp *dp, bool json, struct ctl_buf *out)
{
	const char *sep = "";
	unsigned int i;

	if (json)
		ctl_printf(out, "\"pools\":[");
	for (i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		const struct rte_mempool *mp = dp->pools[i];

		if (mp == NULL)
			continue;
		if (json) {
			ctl_printf(out, "%s{\"name\":", sep);
			ctl_json_str(out, mp->name);
			ctl_printf(out, ",\"size\":%u,\"in_use\":%u,\"available\":%u}", mp->size,
				   rte_mempool_in_use_count(mp), rte_mempool_avail_count(mp));
			sep = ",";
		} else {
			ctl_printf(out,
				   "pool.%s.size: %u\npool.%s.in_use: %u\npool.%s.available: %u\n",
				   mp->name, mp->size, mp->name, rte_mempool_in_use_count(mp),
				   mp->name, rte_mempool_avail_count(mp));
		}
	}
	if (json)
		ctl_printf(out, "]");
}

static void ctl_port_lines(const struct dp *dp, bool json, struct ctl_buf *out)
{
	struct dp_port_stats st;
	char mac[32], addr[32];
	unsigned int i, f;
	int rc;

	if (json)
		ctl_printf(out, "\"ports\":[");
	for (i = 0; i < dp->n_ports; i++) {
		const struct dp_port *p = &dp->ports[i];

		ctl_fmt_mac(mac, sizeof(mac), &p->mac);
		ctl_fmt_addr(addr, sizeof(addr), ctl_port_conf(dp, p->name));
		rc = dp_port_stats(dp, i, &st);
		if (json) {
			ctl_printf(out, "%s{\"name\":", i ? "," : "");
			ctl_json_str(out, p->name);
			ctl_printf(
				out,
				",\"id\":%u,\"mac\":\"%s\",\"address\":\"%s\",\"rss_hf\":%" PRIu64
				",\"stats\":{",
				p->port_id, mac, addr, p->rss_hf);
			for (f = 0; rc == 0 && f < CTL_N_PORT_FIELDS; f++)
				ctl_printf(out, "%s\"%s\":%" PRIu64, f ? "," : "",
					   ctl_port_fields[f].name, ctl_port_field(&st, f));
			ctl_printf(out, "}}");
			continue;
		}
		ctl_printf(out, "port.%s.id: %u\nport.%s.mac: %s\nport.%s.address: %s\n", p->name,
			   p->port_id, p->name, mac, p->name, addr);
		ctl_printf(out, "port.%s.rss_hf: 0x%" PRIx64 "\n", p->name, p->rss_hf);
		if (rc < 0) {
			ctl_printf(out, "port.%s.stats: unavailable (%s)\n", p->name,
				   strerror(-rc));
			continue;
		}
		for (f = 0; f < CTL_N_PORT_FIELDS; f++)
			ctl_printf(out, "port.%s.%s: %" PRIu64 "\n", p->name,
				   ctl_port_fields[f].name, ctl_port_field(&st, f));
	}
	if (json)
		ctl_printf(out, "]");
}

/* One group's counters of one worker (w != NULL) or summed over workers (w == NULL). */
static void ctl_group_lines(const struct dp *dp, const struct dp_counter_group *grp,
			    const struct dp_worker *w, bool json, struct ctl_buf *out)
{
	for (unsigned int i = 0; i < grp->count; i++) {
		uint64_t v = w ? dp_counter_get(w, grp, i) : dp_counter_sum(dp, grp, i);

		if (json)
			ctl_printf(out, "%s\"%s\":%" PRIu64, i ? "," : "", grp->names[i], v);
		else if (w)
			ctl_printf(out, "worker%u.%s.%s: %" PRIu64 "\n", dp_worker_id(w), grp->name,
				   grp->names[i], v);
		else
			ctl_printf(out, "total.%s.%s: %" PRIu64 "\n", grp->name, grp->names[i], v);
	}
}

/* Every group of one worker (w != NULL) or of the sum over workers (w == NULL). */
static void ctl_counter_lines(const struct dp *dp, const struct dp_worker *w, bool json,
			      struct ctl_buf *out)
{
	for (unsigned int g = 0; g < dp_n_counter_groups; g++) {
		const struct dp_counter_group *grp = &dp_counter_groups[g];

		if (json)
			ctl_printf(out, "%s\"%s\":{", g ? "," : "", grp->name);
		ctl_group_lines(dp, grp, w, json, out);
		if (json)
			ctl_printf(out, "}");
	}
}

/* Counters of one listener / service / endpoint summed over workers; get(w) points at a
 * worker's PX_OBJ_MAX counters of that object. */
static void ctl_obj_lines(const struct dp *dp, const char *kind, const char *name, bool json,
			  bool first,
			  const uint64_t *(*get)(const struct dp_worker *, uint32_t, uint32_t),
			  uint32_t a, uint32_t b, struct ctl_buf *out)
{
	uint64_t sum[PX_OBJ_MAX] = { 0 };

	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
		const uint64_t *c = dp->workers[w] != NULL ? get(dp->workers[w], a, b) : NULL;

		for (unsigned int i = 0; c != NULL && i < PX_OBJ_MAX; i++)
			sum[i] += __atomic_load_n(&c[i], __ATOMIC_RELAXED);
	}
	if (json) {
		ctl_printf(out, "%s{\"%s\":", first ? "" : ",", kind);
		ctl_json_str(out, name);
	}
	for (unsigned int i = 0; i < PX_OBJ_MAX; i++) {
		if (json)
			ctl_printf(out, ",\"%s\":%" PRIu64, px_obj_counter_names[i], sum[i]);
		else
			ctl_printf(out, "%s.%s.%s: %" PRIu64 "\n", kind, name,
				   px_obj_counter_names[i], sum[i]);
	}
	if (json)
		ctl_printf(out, "}");
}

static const uint64_t *get_listener(const struct dp_worker *w, uint32_t l, uint32_t unused)
{
	return px_listener_counters(w, l);
}

static const uint64_t *get_service(const struct dp_worker *w, uint32_t svc, uint32_t unused)
{
	return px_service_counters(w, svc);
}

static const uint64_t *get_endpoint(const struct dp_worker *w, uint32_t svc, uint32_t ep)
{
	return px_endpoint_counters(w, svc, ep);
}

/* show proxy: the objects of the running snapshot; their counters are the stable objects'
 * (they survive reloads and live changes). */
static int ctl_cmd_show_proxy(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	const struct dp *dp = env->dp;
	int json = ctl_want_json(argc, argv, 2, out);
	const struct dp_conf *c;
	bool first = true;
	char name[160];

	if (json < 0)
		return -1;
	if (dp == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	if (dp->snapshot == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	c = dp->snapshot->conf;
	if (json)
		ctl_printf(out, "{\"objects\":[");
	for (uint32_t l = 0; l < c->n_listeners && l < PX_MAX_LISTENERS; l++, first = false)
		ctl_obj_lines(dp, "listener", c->listeners[l].name, json, first, get_listener, l, 0,
			      out);
	for (uint32_t v = 0; v < c->n_services; v++) {
		const struct dp_service_conf *sc = &c->services[v];

		ctl_obj_lines(dp, "service", sc->name, json, first, get_service, v, 0, out);
		first = false;
		for (uint32_t e = 0; e < sc->n_endpoints; e++) {
			snprintf(name, sizeof(name), "%s/%s", sc->name, sc->endpoints[e].name);
			ctl_obj_lines(dp, "endpoint", name, json, false, get_endpoint, v, e, out);
		}
	}
	/* routes have no object: those with a rate_limit get their 429s, by position */
	for (uint32_t l = 0; l < c->n_listeners && l < PX_MAX_LISTENERS; l++) {
		const struct dp_listener_conf *lc = &c->listeners[l];

		for (uint32_t r = 0; r < lc->n_routes && r < PX_MAX_ROUTES; r++) {
			uint64_t n = 0;

			if (lc->routes[r].rate_limit.requests_per_second == 0)
				continue;
			for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++)
				if (dp->workers[w] != NULL)
					n += px_route_limited(dp->workers[w], l, r);
			snprintf(name, sizeof(name), "%s/%" PRIu32, lc->name, r);
			if (json) {
				ctl_printf(out, "%s{\"route\":", first ? "" : ",");
				ctl_json_str(out, name);
				ctl_printf(out, ",\"rate_limited\":%" PRIu64 "}", n);
			} else {
				ctl_printf(out, "route.%s.rate_limited: %" PRIu64 "\n", name, n);
			}
			first = false;
		}
	}
	if (json)
		ctl_printf(out, "]}\n");
	return 0;
}

/* show tcp: the "tcp" group (totals first, as in show ports), then each worker's counters
 * and TCB pool gauges (read relaxed: a gauge may be one update behind). */
static int ctl_cmd_show_tcp(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	const struct dp *dp = env->dp;
	const struct dp_counter_group *grp = dp_counter_group_find("tcp");
	int json = ctl_want_json(argc, argv, 2, out);

	if (json < 0)
		return -1;
	if (dp == NULL || grp == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	ctl_printf(out, json ? "{\"conn_bytes\":%zu,\"total\":{" : "tcp.conn_bytes: %zu\n",
		   dp_tcp_conn_bytes());
	ctl_group_lines(dp, grp, NULL, json, out);
	ctl_printf(out, json ? "},\"workers\":[" : "");
	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
		const struct dp_worker *wk = dp->workers[w];
		struct dp_tcp_gauges tg;

		if (wk == NULL)
			continue;
		dp_worker_tcp_gauges(wk, &tg);
		if (json)
			ctl_printf(out, "%s{\"id\":%u,", w ? "," : "", dp_worker_id(wk));
		ctl_group_lines(dp, grp, wk, json, out);
		ctl_printf(
			out,
			json ? ",\"conns_max\":%u,\"conns_used\":%u,\"conns_hwm\":%u,"
			       "\"syn_rcvd\":%u,\"time_wait\":%u,\"ooo_mbufs\":%u}"
			     : "worker%1$u.tcp.conns_max: %2$u\nworker%1$u.tcp.conns_used: %3$u\n"
			       "worker%1$u.tcp.conns_hwm: %4$u\nworker%1$u.tcp.syn_rcvd: %5$u\n"
			       "worker%1$u.tcp.time_wait: %6$u\nworker%1$u.tcp.ooo_mbufs: %7$u\n",
			dp_worker_id(wk), tg.conns_max, tg.conns_used, tg.conns_hwm, tg.syn_rcvd,
			tg.time_wait, tg.ooo_mbufs);
	}
	if (json)
		ctl_printf(out, "]}\n");
	return 0;
}

static int ctl_cmd_show_ports(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	const struct dp *dp = env->dp;
	int json = ctl_want_json(argc, argv, 2, out);
	const char *sep = "";
	unsigned int w;

	if (json < 0)
		return -1;
	if (dp == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	if (json)
		ctl_printf(out, "{");
	ctl_port_lines(dp, json, out);
	if (json)
		ctl_printf(out, ",\"total\":{");
	ctl_counter_lines(dp, NULL, json, out);
	if (json)
		ctl_printf(out, "},\"workers\":[");
	for (w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
		if (dp->workers[w] == NULL)
			continue;
		if (json)
			ctl_printf(out, "%s{\"id\":%u,", sep, dp_worker_id(dp->workers[w]));
		ctl_counter_lines(dp, dp->workers[w], json, out);
		if (json)
			ctl_printf(out, "}");
		sep = ",";
	}
	if (json)
		ctl_printf(out, "],");
	ctl_pools(dp, json, out);
	if (json)
		ctl_printf(out, "}\n");
	return 0;
}

static int ctl_cmd_show_pools(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	int json = ctl_want_json(argc, argv, 2, out);

	if (json < 0)
		return -1;
	if (env->dp == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	if (json)
		ctl_printf(out, "{");
	ctl_pools(env->dp, json, out);
	ctl_mem_lines(env->dp, json, out);
	if (json)
		ctl_printf(out, "}\n");
	return 0;
}

/* ---- shutdown ---- */

static int ctl_cmd_shutdown(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	unsigned long grace = 0;
	char *end;

	if (argc > 2) {
		ctl_printf(out, "error: usage: shutdown [GRACE_MS]\n");
		return -1;
	}
	if (argc == 2) {
		errno = 0;
		grace = strtoul(argv[1], &end, 10);
		if (argv[1][0] < '0' || argv[1][0] > '9' || *end != '\0' || errno != 0 ||
		    grace > UINT32_MAX) {
			ctl_printf(out, "error: GRACE_MS must be a number of milliseconds\n");
			return -1;
		}
	}
	if (env->quit == NULL) {
		ctl_printf(out, "error: shutdown is not available here\n");
		return -1;
	}
	if (argc == 2)
		env->shutdown_grace_ms = (uint32_t)grace;
	*env->quit = true;
	if (env->dp != NULL)
		dp_drain(env->dp); /* refuse new connections before answering */
	ctl_printf(out, "shutting down\n");
	return 0;
}

/* ---- executor ---- */

/* Number of words of cmd matched by argv, or 0 when one of them differs. */
static int ctl_match_words(const char *words, int argc, char **argv)
{
	int n = 0;
	size_t l;

	while (*words != '\0') {
		l = strcspn(words, " ");
		if (n >= argc || strlen(argv[n]) != l || memcmp(argv[n], words, l) != 0)
			return 0;
		n++;
		words += l;
		words += strspn(words, " ");
	}
	return n;
}

static const struct ctl_cmd *ctl_lookup(int argc, char **argv)
{
	const struct ctl_cmd *best = NULL;
	int best_n = 0, n;
	unsigned int i;

	for (i = 0; i < CTL_N_CMDS; i++) {
		n = ctl_match_words(ctl_cmds[i].words, argc, argv);
		if (n > best_n) {
			best_n = n;
			best = &ctl_cmds[i];
		}
	}
	return best;
}

/* Append one answer (s, len) to out in the framing the protocol promises. */
static void ctl_answer(struct ctl_buf *out, const char *s, size_t len, bool error)
{
	char last = '\n'; /* so that leading newlines are dropped */
	size_t i;
	char c;

	if (error && (len < 7 || memcmp(s, "error: ", 7) != 0))
		ctl_buf_append(out, "error: ", 7);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '\r' || (c == '\n' && last == '\n'))
			continue;
		if ((unsigned char)c < 0x20 && c != '\n' && c != '\t')
			c = '?';
		else if (c == 0x7f)
			c = '?';
		ctl_buf_append(out, &c, 1);
		last = c;
	}
	if (error && len == 0) {
		ctl_buf_append(out, "command failed", 14);
		last = 'd';
	}
	if (last != '\n')
		ctl_buf_append(out, "\n", 1);
	ctl_buf_append(out, "\n", 1);
}

static void ctl_unknown(int argc, char **argv, struct ctl_buf *out)
{
	struct ctl_buf msg = { 0 };
	size_t start;
	int i;

	ctl_printf(&msg, "error: unknown command '");
	start = msg.len;
	for (i = 0; i < argc && msg.len - start <= CTL_SHOWN_MAX; i++)
		ctl_printf(&msg, "%s%s", i ? " " : "", argv[i]);
	if (msg.len - start > CTL_SHOWN_MAX) {
		msg.len = start + CTL_SHOWN_MAX;
		ctl_printf(&msg, "...");
	}
	ctl_printf(&msg, "'. Try 'help'.");
	ctl_answer(out, msg.data, msg.len, true);
	ctl_buf_free(&msg);
}

/* Run one ';'-separated command: cmd (len bytes, not NUL-terminated). */
static void ctl_run_one(struct ctl_env *env, const char *cmd, size_t len, struct ctl_buf *out,
			bool *prompt, bool *quit)
{
	char *argv[CTL_MAX_WORDS + 1];
	struct ctl_buf ans = { 0 };
	const struct ctl_cmd *c;
	int argc = 0, rc;
	char *copy, *p, *save;

	copy = malloc(len + 1);
	if (copy == NULL) {
		ctl_answer(out, "error: out of memory", 20, true);
		return;
	}
	memcpy(copy, cmd, len);
	copy[len] = '\0';
	for (p = strtok_r(copy, CTL_SPACES, &save); p; p = strtok_r(NULL, CTL_SPACES, &save)) {
		if (argc == CTL_MAX_WORDS) {
			ctl_answer(out, "error: too many words in one command", 36, true);
			goto done;
		}
		argv[argc++] = p;
	}
	argv[argc] = NULL;
	if (argc == 0)
		goto done; /* nothing between two ';': no answer */

	c = ctl_lookup(argc, argv);
	if (c == NULL) {
		ctl_unknown(argc, argv, out);
	} else if (c->fn == NULL && strcmp(c->words, "quit") == 0) {
		*quit = true; /* HAProxy answers nothing to quit */
	} else if (c->fn == NULL) {
		*prompt = !*prompt;
		ctl_answer(out, "", 0, false);
	} else {
		rc = c->fn(env, argc, argv, &ans);
		ctl_answer(out, ans.data ? ans.data : "", ans.len, rc < 0);
	}
done:
	ctl_buf_free(&ans);
	free(copy);
}

void ctl_execute(struct ctl_env *env, const char *line, struct ctl_buf *out, bool *prompt,
		 bool *quit)
{
	const char *end;

	*quit = false;
	for (;;) {
		end = strchr(line, ';');
		ctl_run_one(env, line, end ? (size_t)(end - line) : strlen(line), out, prompt,
			    quit);
		if (*quit || end == NULL)
			return;
		line = end + 1;
	}
}

void ctl_execute_line(struct ctl_env *env, const char *line, struct ctl_buf *out, bool *prompt)
{
	bool quit;

	ctl_execute(env, line, out, prompt, &quit);
}
