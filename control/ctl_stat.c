/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: HAProxy-compatible statistics: "show stat [json]", "show servers state
 * [SERVICE]", and "show config".
 *
 * show stat prints HAProxy 2.6's CSV: the header line of its stats fields (ST_F_* of
 * include/haproxy/stats-t.h, doc/management.txt 9.1), in order, every line ending with a
 * comma. The real haproxy 2.6 binary appends a "-" column and its stats modules' columns
 * (ssl_*, h2_*, h1_*) after agg_check_status; sluice has no such modules and stops at
 * agg_check_status, which is what tools reading columns by name need. Rows:
 *   pxname=LISTENER svname=FRONTEND type 0, one per listener;
 *   pxname=SERVICE  svname=ENDPOINT type 2, one per endpoint, then
 *   pxname=SERVICE  svname=BACKEND  type 1.
 * iid numbers listeners 1..L then services L+1..L+S (HAProxy's proxy ids); sid is the
 * endpoint's 1-based index (0 on FRONTEND and BACKEND rows). Columns sluice does not measure
 * are left empty, as HAProxy does for columns that do not apply.
 *
 * show stat json: HAProxy's shape, a list of rows, each a list of field objects, one per
 * non-empty column:
 *   {"objType":"Frontend|Backend|Server","proxyId":IID,"id":SID,"field":{"pos":N,"name":..},
 *    "processNum":1,"value":{"type":"str|u32|u64","value":..}}
 * without HAProxy's "tags" member.
 *
 * Counters are the per-worker PX_OBJ counters summed over workers, for the objects of the
 * running snapshot (stable objects: their counters survive reloads and live changes).
 * FRONTEND: stot = conn_tot = accepted connections, req_tot = requests, dcon = refused.
 * Server: stot = lbtot = requests sent to it (HAProxy counts a stream per request, reused
 * connection or not), connect = new upstream connections, reuse, econ = connect failures,
 * wretr = retries away from it, wredis = those that went to another server.
 * BACKEND wretr, wredis: the service's retries, and those that changed server.
 * Server, with circuit_breaker.max_connections: scur = its upstream connections of every
 * worker (idle pooled ones included), slim = max_connections (both empty without it).
 * BACKEND: requests and responses as the service counted them, bytes and connections summed
 * over its endpoints; with circuit_breaker.max_requests or max_connections, qcur, qmax:
 * requests waiting for a slot or a connection (now, most seen); slim: max_requests (each
 * empty without its key). bin is always the request direction, bout the response direction.
 *
 * Control core only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "control.h"
#include "hc_ctl.h"

/* HAProxy 2.6's stats fields, in ST_F_* order (copied from haproxy 2.6.12's own header). */
/* clang-format off */
#define ST_FIELDS(X) \
	X(pxname) X(svname) X(qcur) X(qmax) X(scur) X(smax) X(slim) X(stot) X(bin) X(bout) \
	X(dreq) X(dresp) X(ereq) X(econ) X(eresp) X(wretr) X(wredis) X(status) X(weight) \
	X(act) X(bck) X(chkfail) X(chkdown) X(lastchg) X(downtime) X(qlimit) X(pid) X(iid) \
	X(sid) X(throttle) X(lbtot) X(tracked) X(type) X(rate) X(rate_lim) X(rate_max) \
	X(check_status) X(check_code) X(check_duration) X(hrsp_1xx) X(hrsp_2xx) X(hrsp_3xx) \
	X(hrsp_4xx) X(hrsp_5xx) X(hrsp_other) X(hanafail) X(req_rate) X(req_rate_max) \
	X(req_tot) X(cli_abrt) X(srv_abrt) X(comp_in) X(comp_out) X(comp_byp) X(comp_rsp) \
	X(lastsess) X(last_chk) X(last_agt) X(qtime) X(ctime) X(rtime) X(ttime) \
	X(agent_status) X(agent_code) X(agent_duration) X(check_desc) X(agent_desc) \
	X(check_rise) X(check_fall) X(check_health) X(agent_rise) X(agent_fall) \
	X(agent_health) X(addr) X(cookie) X(mode) X(algo) X(conn_rate) X(conn_rate_max) \
	X(conn_tot) X(intercepted) X(dcon) X(dses) X(wrew) X(connect) X(reuse) \
	X(cache_lookups) X(cache_hits) X(srv_icur) X(src_ilim) X(qtime_max) X(ctime_max) \
	X(rtime_max) X(ttime_max) X(eint) X(idle_conn_cur) X(safe_conn_cur) X(used_conn_cur) \
	X(need_conn_est) X(uweight) X(agg_server_status) X(agg_server_check_status) \
	X(agg_check_status)
/* clang-format on */

enum st_field {
#define ST_ENUM(n) ST_F_##n,
	ST_FIELDS(ST_ENUM)
#undef ST_ENUM
		ST_F_MAX
};

static const char *const st_names[ST_F_MAX] = {
#define ST_NAME(n) #n,
	ST_FIELDS(ST_NAME)
#undef ST_NAME
};

enum st_type { ST_EMPTY = 0, ST_STR, ST_U32, ST_U64 };

/* One row being built: every cell as text, and its JSON type. */
struct st_row {
	const char *obj_type; /* "Frontend", "Backend", "Server" */
	uint32_t iid, sid;
	uint8_t type[ST_F_MAX];
	char val[ST_F_MAX][72];
};

static void st_str(struct st_row *r, enum st_field f, const char *s)
{
	snprintf(r->val[f], sizeof(r->val[f]), "%s", s);
	r->type[f] = ST_STR;
}

static void st_u64(struct st_row *r, enum st_field f, uint64_t v)
{
	snprintf(r->val[f], sizeof(r->val[f]), "%" PRIu64, v);
	r->type[f] = ST_U64;
}

static void st_u32(struct st_row *r, enum st_field f, uint32_t v)
{
	snprintf(r->val[f], sizeof(r->val[f]), "%" PRIu32, v);
	r->type[f] = ST_U32;
}

static void st_row_init(struct st_row *r, const char *obj_type, const char *px, const char *sv,
			uint32_t iid, uint32_t sid, uint32_t type)
{
	memset(r->type, 0, sizeof(r->type));
	r->obj_type = obj_type;
	r->iid = iid;
	r->sid = sid;
	st_str(r, ST_F_pxname, px);
	st_str(r, ST_F_svname, sv);
	st_u32(r, ST_F_pid, 1);
	st_u32(r, ST_F_iid, iid);
	st_u32(r, ST_F_sid, sid);
	st_u32(r, ST_F_type, type);
	st_str(r, ST_F_mode, "http");
}

/* Counters every row shows the same way. bin/bout are HAProxy's request and response
 * directions: a listener's bytes_in come from clients, an endpoint's bytes_out go to it. */
static void st_counters(struct st_row *r, const uint64_t *c, uint64_t bin, uint64_t bout)
{
	st_u64(r, ST_F_bin, bin);
	st_u64(r, ST_F_bout, bout);
	st_u64(r, ST_F_hrsp_1xx, c[PX_OBJ_responses_1xx]);
	st_u64(r, ST_F_hrsp_2xx, c[PX_OBJ_responses_2xx]);
	st_u64(r, ST_F_hrsp_3xx, c[PX_OBJ_responses_3xx]);
	st_u64(r, ST_F_hrsp_4xx, c[PX_OBJ_responses_4xx]);
	st_u64(r, ST_F_hrsp_5xx, c[PX_OBJ_responses_5xx]);
	st_u64(r, ST_F_hrsp_other, 0);
}

static void st_row_write(const struct st_row *r, bool json, bool first_row, struct ctl_buf *out)
{
	bool first = true;

	if (!json) {
		for (unsigned int f = 0; f < ST_F_MAX; f++)
			ctl_printf(out, "%s,", r->type[f] ? r->val[f] : "");
		ctl_buf_append(out, "\n", 1);
		return;
	}
	ctl_printf(out, "%s[", first_row ? "" : ",");
	for (unsigned int f = 0; f < ST_F_MAX; f++) {
		if (r->type[f] == ST_EMPTY)
			continue;
		ctl_printf(out,
			   "%s{\"objType\":\"%s\",\"proxyId\":%" PRIu32 ",\"id\":%" PRIu32
			   ",\"field\":{\"pos\":%u,\"name\":\"%s\"},\"processNum\":1,"
			   "\"value\":{\"type\":\"%s\",\"value\":",
			   first ? "" : ",", r->obj_type, r->iid, r->sid, f, st_names[f],
			   r->type[f] == ST_STR	  ? "str"
			   : r->type[f] == ST_U32 ? "u32"
						  : "u64");
		if (r->type[f] == ST_STR)
			ctl_json_str(out, r->val[f]);
		else
			ctl_printf(out, "%s", r->val[f]);
		ctl_printf(out, "}}");
		first = false;
	}
	ctl_printf(out, "]");
}

/* PX_OBJ counters of one object summed over workers; get(w, a, b) gives a worker's array
 * (NULL: none). */
typedef const uint64_t *(*st_get_fn)(const struct dp_worker *w, uint32_t a, uint32_t b);

static void st_sum(const struct dp *dp, st_get_fn get, uint32_t a, uint32_t b, uint64_t *sum)
{
	memset(sum, 0, sizeof(uint64_t) * PX_OBJ_MAX);
	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
		const uint64_t *c = dp->workers[w] != NULL ? get(dp->workers[w], a, b) : NULL;

		for (unsigned int i = 0; c != NULL && i < PX_OBJ_MAX; i++)
			sum[i] += __atomic_load_n(&c[i], __ATOMIC_RELAXED);
	}
}

static const uint64_t *st_listener(const struct dp_worker *w, uint32_t l, uint32_t unused)
{
	(void)unused;
	return px_listener_counters(w, l);
}

static const uint64_t *st_service(const struct dp_worker *w, uint32_t svc, uint32_t unused)
{
	(void)unused;
	return px_service_counters(w, svc);
}

static const uint64_t *st_endpoint(const struct dp_worker *w, uint32_t svc, uint32_t ep)
{
	return px_endpoint_counters(w, svc, ep);
}

/* HAProxy's name of a balance algorithm (smooth weighted round robin is its roundrobin). */
static const char *st_algo(uint32_t balance)
{
	switch (balance) {
	case DP_BALANCE_LEAST_CONNECTIONS:
		return "leastconn";
	case DP_BALANCE_RANDOM_TWO:
		return "random";
	default:
		return "roundrobin";
	}
}

static void st_frontend(const struct dp *dp, uint32_t l, struct st_row *r)
{
	const struct dp_listener_conf *lc = &dp->snapshot->conf->listeners[l];
	uint64_t c[PX_OBJ_MAX];
	uint32_t cur = 0;

	st_sum(dp, st_listener, l, 0, c);
	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++)
		if (dp->workers[w] != NULL)
			cur += __atomic_load_n(&dp->snapshot->lsts[l]->pw[w].conns,
					       __ATOMIC_RELAXED);
	st_row_init(r, "Frontend", lc->name, "FRONTEND", l + 1, 0, 0);
	st_counters(r, c, c[PX_OBJ_bytes_in], c[PX_OBJ_bytes_out]);
	st_u32(r, ST_F_scur, cur);
	st_u32(r, ST_F_slim, lc->limits.max_connections);
	st_u64(r, ST_F_stot, c[PX_OBJ_conns]);
	st_u64(r, ST_F_dcon, c[PX_OBJ_refused]);
	st_str(r, ST_F_status, "OPEN");
	st_u64(r, ST_F_req_tot, c[PX_OBJ_requests]);
	st_u64(r, ST_F_conn_tot, c[PX_OBJ_conns]);
}

/* ctime, rtime, ttime (and their _max): HAProxy averages the last 1024 requests; sluice
 * gives the mean over every request since start (met_lat.c), in ms. ctime counts new
 * upstream connections only, rtime is the time to the response head, ttime the whole
 * request. ep < 0: the service (BACKEND row). */
static void st_times(struct st_row *r, const struct dp *dp, uint32_t v, int32_t ep)
{
	static const enum st_field avg[3] = { ST_F_ttime, ST_F_ctime, ST_F_rtime };
	static const enum st_field max[3] = { ST_F_ttime_max, ST_F_ctime_max, ST_F_rtime_max };
	struct met_times t;

	if (ep < 0)
		met_service_times(dp, v, &t);
	else
		met_endpoint_times(dp, v, (uint32_t)ep, &t);
	for (unsigned int p = 0; p < 3; p++) {
		st_u32(r, avg[p], t.count[p] ? (uint32_t)(t.sum_us[p] / t.count[p] / 1000) : 0);
		st_u32(r, max[p], (uint32_t)(t.max_us[p] / 1000));
	}
}

/* An endpoint's runtime state (the published snapshot: live changes included). */
static struct dp_ep_state st_state(const struct dp *dp, uint32_t v, uint32_t e)
{
	const struct dp_ep_state *st = dp_snapshot_ep(dp->snapshot, v, e);
	struct dp_ep_state none = { .weight = dp->snapshot->conf->services[v].endpoints[e].weight };

	return st != NULL ? *st : none;
}

/* HAProxy's status of a server: MAINT; then DOWN, "DOWN 1/2", NOLB as its health says;
 * DRAIN (drain state or weight 0) while up; else UP or "UP 1/3" (hc_status_text). */
static void st_srv_status(const struct dp_ep_state *st, const struct hc_ep *r, char *buf,
			  size_t len)
{
	if (st->admin == DP_EP_MAINT) {
		snprintf(buf, len, "MAINT");
		return;
	}
	if (r != NULL)
		hc_status_text(r, buf, len);
	else
		snprintf(buf, len, "UP");
	if ((st->admin == DP_EP_DRAIN || st->weight == 0) && strncmp(buf, "UP", 2) == 0)
		snprintf(buf, len, "DRAIN");
}

/* The check columns of a server row, as HAProxy fills them for a checked server (an
 * unchecked one leaves them empty, as HAProxy does). */
static void st_checks(struct st_row *r, const struct hc_ep *h)
{
	uint64_t now_ms, mono = hc_mono_ms();
	char detail[64];
	struct timespec ts;

	if (h == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	st_u64(r, ST_F_lastchg,
	       now_ms > h->lastchg_wall_ms ? (now_ms - h->lastchg_wall_ms) / 1000 : 0);
	if (!h->checks)
		return;
	st_u64(r, ST_F_chkfail, h->chkfail);
	st_u64(r, ST_F_chkdown, h->chkdown);
	st_u64(r, ST_F_downtime,
	       (h->downtime_ms +
		(h->down_since_ms && mono > h->down_since_ms ? mono - h->down_since_ms : 0)) /
		       1000);
	st_str(r, ST_F_check_status, hc_check_status_name(h->last.status));
	if (h->last.status >= DP_CHK_L7OK && h->last.status <= DP_CHK_L7STS && h->last.code)
		st_u32(r, ST_F_check_code, h->last.code);
	if (h->last.status != DP_CHK_INI)
		st_u64(r, ST_F_check_duration, h->last.duration_us / 1000);
	snprintf(detail, sizeof(detail), "%.*s", (int)sizeof(detail) - 1, h->last.detail);
	st_str(r, ST_F_last_chk, detail);
	st_str(r, ST_F_check_desc, hc_check_desc(h->last.status));
	st_u32(r, ST_F_check_rise, h->rise);
	st_u32(r, ST_F_check_fall, h->fall);
	st_u32(r, ST_F_check_health, h->health);
}

static void st_server(const struct dp *dp, const struct hc *hc, uint32_t v, uint32_t e,
		      uint32_t iid, struct st_row *r)
{
	const struct dp_service_conf *sc = &dp->snapshot->conf->services[v];
	const struct dp_endpoint_conf *ec = &sc->endpoints[e];
	char addr[INET_ADDRSTRLEN + 8], ip[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = ec->addr };
	struct dp_ep_state st = st_state(dp, v, e);
	const struct hc_ep *h = hc_find(hc, st.obj);
	uint64_t c[PX_OBJ_MAX];
	char status[24];

	st_sum(dp, st_endpoint, v, e, c);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(addr, sizeof(addr), "%s:%" PRIu32, ip, ec->port);
	st_row_init(r, "Server", sc->name, ec->name, iid, e + 1, 2);
	st_counters(r, c, c[PX_OBJ_bytes_out], c[PX_OBJ_bytes_in]);
	/* HAProxy counts a stream per request as a server session, reused connection or not. */
	st_u64(r, ST_F_stot, c[PX_OBJ_requests]);
	st_u64(r, ST_F_lbtot, c[PX_OBJ_requests]);
	st_u64(r, ST_F_econ, c[PX_OBJ_connect_failures]);
	/* retries away from this server, and those of them that went to another one */
	st_u64(r, ST_F_wretr, c[PX_OBJ_retry_warnings]);
	st_u64(r, ST_F_wredis, c[PX_OBJ_redispatch_warnings]);
	st_srv_status(&st, h, status, sizeof(status));
	st_str(r, ST_F_status, status);
	st_checks(r, h);
	st_u32(r, ST_F_weight, st.weight);
	st_u32(r, ST_F_act, 1);
	st_u32(r, ST_F_bck, 0);
	st_str(r, ST_F_addr, addr);
	st_u64(r, ST_F_connect, c[PX_OBJ_conns]);
	st_u64(r, ST_F_reuse, c[PX_OBJ_conns_reused]);
	st_u32(r, ST_F_uweight, st.weight);
	st_times(r, dp, v, (int32_t)e);
	/* circuit_breaker.max_connections: HAProxy fills a server's slim from its maxconn;
	 * scur is its upstream connections appliance-wide, idle pooled ones included */
	if (sc->breaker.max_connections != 0 && st.obj != NULL) {
		st_u32(r, ST_F_scur, __atomic_load_n(&st.obj->sh.conns, __ATOMIC_RELAXED));
		st_u32(r, ST_F_slim, sc->breaker.max_connections);
	}
}

/* A service counts requests, refusals and responses itself; bytes and connections are its
 * endpoints' sums. */
static void st_backend(const struct dp *dp, uint32_t v, uint32_t iid, struct st_row *r)
{
	const struct dp_service_conf *sc = &dp->snapshot->conf->services[v];
	const struct dp_svc_shared *sh = &dp->snapshot->svcs[v].obj->sh;
	uint64_t c[PX_OBJ_MAX], ep[PX_OBJ_MAX], eps[PX_OBJ_MAX] = { 0 };
	uint32_t weight = 0, act = 0;

	for (uint32_t e = 0; e < sc->n_endpoints; e++) {
		struct dp_ep_state st = st_state(dp, v, e);
		bool up = dp_ep_healthy(&st) && st.weight > 0;

		weight += up ? st.weight : 0;
		act += up;
		st_sum(dp, st_endpoint, v, e, ep);
		for (unsigned int i = 0; i < PX_OBJ_MAX; i++)
			eps[i] += ep[i];
	}
	st_sum(dp, st_service, v, 0, c);
	st_row_init(r, "Backend", sc->name, "BACKEND", iid, 0, 1);
	st_counters(r, c, eps[PX_OBJ_bytes_out], eps[PX_OBJ_bytes_in]);
	st_u64(r, ST_F_stot, c[PX_OBJ_requests]);
	st_u64(r, ST_F_lbtot, c[PX_OBJ_requests]);
	st_u64(r, ST_F_econ, eps[PX_OBJ_connect_failures]);
	st_u64(r, ST_F_wretr, c[PX_OBJ_retry_warnings]);
	st_u64(r, ST_F_wredis, c[PX_OBJ_redispatch_warnings]);
	/* circuit_breaker: requests waiting for a slot appliance-wide (HAProxy's backend
	 * queue), the most seen, and max_requests as the limit; without max_requests there is
	 * no queue and the columns are left empty */
	if (sc->breaker.max_requests != 0 || sc->breaker.max_connections != 0) {
		st_u32(r, ST_F_qcur, __atomic_load_n(&sh->pending, __ATOMIC_RELAXED));
		st_u32(r, ST_F_qmax, __atomic_load_n(&sh->qmax, __ATOMIC_RELAXED));
	}
	if (sc->breaker.max_requests != 0)
		st_u32(r, ST_F_slim, sc->breaker.max_requests);
	st_str(r, ST_F_status, act > 0 ? "UP" : "DOWN");
	st_u32(r, ST_F_weight, weight);
	st_u32(r, ST_F_act, act);
	st_u32(r, ST_F_bck, 0);
	st_u64(r, ST_F_req_tot, c[PX_OBJ_requests]);
	st_str(r, ST_F_algo, st_algo(sc->balance));
	st_u64(r, ST_F_connect, eps[PX_OBJ_conns]);
	st_u64(r, ST_F_reuse, eps[PX_OBJ_conns_reused]);
	st_u32(r, ST_F_uweight, weight);
	st_times(r, dp, v, -1);
}

int ctl_cmd_show_stat(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	const struct dp *dp = env->dp;
	struct st_row row;
	const struct dp_conf *c;
	bool json, first = true;
	uint32_t l, n_l, v;

	if (argc > 3 || (argc == 3 && strcmp(argv[2], "json") != 0)) {
		ctl_printf(out, "error: usage: show stat [json]\n");
		return -1;
	}
	json = argc == 3;
	if (dp == NULL || dp->snapshot == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	c = dp->snapshot->conf;
	if (json) {
		ctl_printf(out, "[");
	} else {
		ctl_printf(out, "# ");
		for (unsigned int f = 0; f < ST_F_MAX; f++)
			ctl_printf(out, "%s,", st_names[f]);
		ctl_buf_append(out, "\n", 1);
	}
	n_l = c->n_listeners < PX_MAX_LISTENERS ? c->n_listeners : PX_MAX_LISTENERS;
	for (l = 0; l < n_l; l++, first = false) {
		st_frontend(dp, l, &row);
		st_row_write(&row, json, first, out);
	}
	for (v = 0; v < c->n_services; v++) {
		for (uint32_t e = 0; e < c->services[v].n_endpoints; e++, first = false) {
			st_server(dp, env->hc, v, e, n_l + v + 1, &row);
			st_row_write(&row, json, first, out);
		}
		st_backend(dp, v, n_l + v + 1, &row);
		st_row_write(&row, json, first, out);
		first = false;
	}
	if (json)
		ctl_printf(out, "]\n");
	return 0;
}

/* ---- show servers state ---- */

int ctl_cmd_show_servers_state(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	const struct dp *dp = env->dp;
	const struct dp_conf *c;
	char ip[INET_ADDRSTRLEN];
	uint64_t since;
	uint32_t n_l, v;
	int only = -1;

	if (argc > 4) {
		ctl_printf(out, "error: usage: show servers state [SERVICE]\n");
		return -1;
	}
	if (dp == NULL || dp->snapshot == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	c = dp->snapshot->conf;
	if (argc == 4) {
		for (v = 0; v < c->n_services; v++)
			if (strcmp(c->services[v].name, argv[3]) == 0)
				only = (int)v;
		if (only < 0) {
			/* HAProxy answers "Can't find backend." */
			ctl_printf(out, "error: no service named '%s'\n", argv[3]);
			return -1;
		}
	}
	n_l = c->n_listeners < PX_MAX_LISTENERS ? c->n_listeners : PX_MAX_LISTENERS;
	since = env->start_time != 0 ? (uint64_t)time(NULL) - env->start_time : 0;
	ctl_printf(out, "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state "
			"srv_admin_state srv_uweight srv_iweight srv_time_since_last_change "
			"srv_check_status srv_check_result srv_check_health srv_check_state "
			"srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port "
			"srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
			"srv_agent_port\n");
	for (v = 0; v < c->n_services; v++) {
		const struct dp_service_conf *sc = &c->services[v];

		if (only >= 0 && (uint32_t)only != v)
			continue;
		for (uint32_t e = 0; e < sc->n_endpoints; e++) {
			const struct dp_endpoint_conf *ec = &sc->endpoints[e];
			struct in_addr a = { .s_addr = ec->addr };

			struct dp_ep_state st = st_state(dp, v, e);
			const struct hc_ep *h = hc_find(env->hc, st.obj);
			uint64_t now = (uint64_t)time(NULL);
			unsigned int op, chk_status = 1, chk_result = 0, chk_health = 2;
			unsigned int chk_state = 0, chk_port = 0;
			/* the last live change: admin (set server) or health */
			uint64_t changed = st.changed;

			if (h != NULL && h->lastchg_wall_ms / 1000 > changed && st.changed != 0)
				changed = h->lastchg_wall_ms / 1000;

			inet_ntop(AF_INET, &a, ip, sizeof(ip));
			/* op_state HAProxy's cur_state: 0 stopped (DOWN, or maintenance), 2
			 * running, 3 stopping; admin_state HAProxy's flags: 0x01 forced
			 * maintenance, 0x08 forced drain; uweight the live weight, iweight the
			 * configured one. Check fields: check.status (HCHK_STATUS_*), result
			 * (0 none yet, 2 failed, 3 passed), health, state & 0x0F (0x02
			 * configured, 0x04 enabled), check port; without checks as HAProxy
			 * writes them for an unchecked server (1 0 2 0, port 0). */
			op = st.admin == DP_EP_MAINT || st.health == DP_HEALTH_DOWN ? 0u
			     : st.health == DP_HEALTH_STOPPING			    ? 3u
										    : 2u;
			if (h != NULL && h->checks) {
				chk_status = hc_haproxy_status(h->last.status);
				chk_result = h->last.status == DP_CHK_INI ? 0u
					     : h->last.status == DP_CHK_L4OK ||
							     h->last.status == DP_CHK_L7OK
						     ? 3u
						     : 2u;
				chk_health = h->health;
				chk_state = h->disabled ? 0x02u : 0x06u;
				chk_port = sc->health.port;
			}
			ctl_printf(out,
				   "%" PRIu32 " %s %" PRIu32 " %s %s %u %u %" PRIu32 " %" PRIu32
				   " %" PRIu64 " %u %u %u %u 0 0 0 - %" PRIu32 " - 0 %u - - 0\n",
				   n_l + v + 1, sc->name, e + 1, ec->name, ip, op,
				   st.admin == DP_EP_MAINT   ? 1u
				   : st.admin == DP_EP_DRAIN ? 8u
							     : 0u,
				   st.weight, ec->weight,
				   changed != 0 && now >= changed ? now - changed : since,
				   chk_status, chk_result, chk_health, chk_state, ec->port,
				   chk_port);
		}
	}
	return 0;
}

/* ---- show config ---- */

int ctl_cmd_show_config(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	const struct dp_snapshot *snap = env->dp != NULL ? env->dp->snapshot : NULL;
	struct dp_conf *c;
	int rc;

	(void)argv;
	if (argc != 2) {
		ctl_printf(out, "error: usage: show config\n");
		return -1;
	}
	if (env->conf == NULL) {
		ctl_printf(out, "error: no configuration loaded\n");
		return -1;
	}
	/* A comma in that first line would make sluicectl --table take it for CSV. */
	if (env->conf->file != NULL && strpbrk(env->conf->file, "\n\r,") == NULL)
		ctl_printf(out, "# loaded from %s\n", env->conf->file);
	if (snap == NULL || snap->conf != env->conf)
		return cfg_dump(env->conf, out) < 0 ? -1 : 0;
	/* live weights are written as the endpoints' weights; states have no key in the file
	 * format, so they follow as comments */
	c = cfg_dup(snap->conf);
	if (c == NULL) {
		ctl_printf(out, "error: out of memory\n");
		return -1;
	}
	for (uint32_t v = 0; v < c->n_services && v < snap->n_svcs; v++)
		for (uint32_t e = 0; e < c->services[v].n_endpoints && e < snap->svcs[v].n_eps; e++)
			c->services[v].endpoints[e].weight = snap->svcs[v].eps[e].weight;
	rc = cfg_dump(c, out);
	for (uint32_t v = 0; rc == 0 && v < snap->n_svcs; v++)
		for (uint32_t e = 0; e < snap->svcs[v].n_eps; e++)
			if (snap->svcs[v].eps[e].admin != DP_EP_READY)
				ctl_printf(out, "# state of %s/%s: %s (not kept by the file)\n",
					   c->services[v].name, c->services[v].endpoints[e].name,
					   ctl_admin_name(snap->svcs[v].eps[e].admin));
	cfg_free(c);
	return rc < 0 ? -1 : 0;
}
