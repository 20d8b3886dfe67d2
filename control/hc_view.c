/* SPDX-License-Identifier: BSD-3-Clause
 * What operators see of health: "show health [SERVICE[/ENDPOINT]] [json]", "enable health"
 * and "disable health SERVICE/ENDPOINT", and the Prometheus families of checks and
 * ejections. show stat and show servers state fill their check columns in ctl_stat.c from
 * the same records (hc_ctl.h).
 *
 * show health answers "why is it down": per endpoint its state as the balancers use it
 * (serving, or why not), the last transition in the log's words, the check's settings and
 * counters, the last HC_HISTORY probes (wall time, result, code, duration, worker, detail),
 * what real traffic saw (tries by outcome, the last failure and its time, the runs), and
 * ejections (count, since, until). Text: "key: value" lines, two spaces per level; JSON:
 * docs/health.md.
 *
 * Control only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "control.h"
#include "hc_ctl.h"

static const char *const outcome_names[DP_OUT_MAX] = {
#define HC_OUT_NAME(n) #n,
	DP_OUTCOMES(HC_OUT_NAME)
#undef HC_OUT_NAME
};

/* "2026-12-04T01:20:03.120Z"; "-" for 0 */
static void iso(uint64_t wall_ms, char *buf, size_t len)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (wall_ms == 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned int)(wall_ms % 1000));
}

static uint64_t wall_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What the workers' passive slots of ep add up to. */
struct hc_passive {
	uint64_t n[DP_OUT_MAX];
	uint64_t last_fail_ms;
	uint8_t last_fail;
};

static void passive_sum(const struct dp *dp, const struct dp_endpoint *ep, struct hc_passive *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int w = 0; dp != NULL && w < dp->n_workers; w++) {
		const struct dp_ep_passive *p = &ep->pw[w].pas;
		uint64_t last = __atomic_load_n(&p->last_fail_ms, __ATOMIC_RELAXED);

		for (unsigned int i = 0; i < DP_OUT_MAX; i++)
			s->n[i] += __atomic_load_n(&p->n[i], __ATOMIC_RELAXED);
		if (last > s->last_fail_ms) {
			s->last_fail_ms = last;
			s->last_fail = __atomic_load_n(&p->last_fail, __ATOMIC_RELAXED);
		}
	}
}

/* Why an endpoint takes no new requests, or "serving". */
static const char *serving_words(const struct dp_snapshot *snap, uint32_t v,
				 const struct dp_ep_state *st, bool panic)
{
	(void)snap;
	(void)v;
	if (st->admin == DP_EP_MAINT)
		return "no: maintenance (admin)";
	if (st->admin == DP_EP_DRAIN)
		return "no: drain (admin)";
	if (st->health == DP_HEALTH_STOPPING)
		return "no: health stopping (set from CLI)";
	if (dp_ep_healthy(st))
		return "yes";
	if (panic)
		return st->ejected ? "yes (panic: ejected, balanced over anyway)"
				   : "yes (panic: down, balanced over anyway)";
	return st->ejected ? "no: ejected by outlier detection" : "no: DOWN";
}

static void text_endpoint(const struct ctl_env *env, uint32_t v, uint32_t e, struct ctl_buf *out)
{
	const struct dp *dp = env->dp;
	const struct dp_snapshot *snap = dp->snapshot;
	const struct dp_service_conf *sc = &snap->conf->services[v];
	const struct dp_endpoint_conf *ec = &sc->endpoints[e];
	const struct dp_ep_state *st = &snap->svcs[v].eps[e];
	const struct hc_ep *r = hc_find(env->hc, st->obj);
	uint64_t now = wall_now_ms(), mono = hc_mono_ms();
	char ip[INET_ADDRSTRLEN], t1[48], t2[48], status[24];
	struct in_addr a = { .s_addr = ec->addr };
	struct hc_passive ps;

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	ctl_printf(out, "endpoint %s/%s %s:%" PRIu32 "\n", sc->name, ec->name, ip, ec->port);
	if (r == NULL) {
		ctl_printf(out, "  state: UP (no record)\n");
		return;
	}
	hc_status_text(r, status, sizeof(status));
	iso(r->lastchg_wall_ms, t1, sizeof(t1));
	ctl_printf(out, "  state: %s since %s (%" PRIu64 " s)\n", status, t1,
		   now > r->lastchg_wall_ms ? (now - r->lastchg_wall_ms) / 1000 : 0);
	ctl_printf(out, "  serving: %s\n", serving_words(snap, v, st, dp_snapshot_panic(snap, v)));
	if (r->why[0] != '\0')
		ctl_printf(out, "  last change: %s\n", r->why);
	if (!r->checks) {
		ctl_printf(out, "  check: none configured\n");
	} else {
		ctl_printf(out,
			   "  check: %s%s every %" PRIu32 " ms (fast %" PRIu32 ", down %" PRIu32
			   "), rise %" PRIu32 " fall %" PRIu32 ", health %" PRIu32 "/%" PRIu32 "\n",
			   sc->health.type == DP_CHECK_HTTP ? "http GET " : "tcp",
			   sc->health.type == DP_CHECK_HTTP && sc->health.path ? sc->health.path
									       : "",
			   r->interval_ms, r->fast_ms ? r->fast_ms : r->interval_ms,
			   r->down_ms ? r->down_ms : r->interval_ms, r->rise, r->fall, r->health,
			   r->rise + r->fall - 1);
		if (r->disabled)
			ctl_printf(out, "  check disabled: yes (enable health %s/%s)\n", sc->name,
				   ec->name);
		ctl_printf(out,
			   "  checks: sent %" PRIu64 " passed %" PRIu64 " failed %" PRIu64
			   " skipped %" PRIu64 " chkfail %" PRIu64 " chkdown %" PRIu64
			   " downtime %" PRIu64 " s\n",
			   r->sent, r->passed, r->failed, r->skipped, r->chkfail, r->chkdown,
			   (r->downtime_ms + (r->down_since_ms && mono > r->down_since_ms
						      ? mono - r->down_since_ms
						      : 0)) /
				   1000);
		if (r->inflight)
			ctl_printf(out, "  probe out: since %" PRIu64 " ms\n", mono - r->sent_ms);
		else if (!r->disabled)
			ctl_printf(out, "  next probe: in %" PRIu64 " ms\n",
				   r->next_ms > mono ? r->next_ms - mono : 0);
	}
	for (uint64_t i = 0; i < HC_HISTORY && i < r->n_results; i++) {
		const struct hc_result *h = &r->hist[(r->n_results - 1 - i) % HC_HISTORY];

		if (i == 0)
			ctl_printf(out, "  last probes (newest first):\n");
		iso(h->wall_ms, t1, sizeof(t1));
		ctl_printf(out, "    %s %s code %u %" PRIu32 " ms worker %u %s\n", t1,
			   hc_check_status_name(h->status), h->code, h->duration_us / 1000,
			   h->worker, h->detail[0] ? h->detail : "-");
	}
	passive_sum(dp, st->obj, &ps);
	ctl_printf(out, "  traffic:");
	for (unsigned int i = 0; i < DP_OUT_MAX; i++)
		ctl_printf(out, " %s %" PRIu64, outcome_names[i], ps.n[i]);
	ctl_printf(out, "\n");
	iso(ps.last_fail_ms, t1, sizeof(t1));
	ctl_printf(out, "  last failure: %s %s; runs: 5xx %" PRIu32 " gateway %" PRIu32 "\n",
		   ps.last_fail_ms ? outcome_names[ps.last_fail < DP_OUT_MAX ? ps.last_fail : 0]
				   : "none",
		   t1, r->run5, r->rungw);
	iso(r->eject_wall_ms, t1, sizeof(t1));
	iso(r->return_wall_ms, t2, sizeof(t2));
	if (r->ejected)
		ctl_printf(out, "  ejected: yes since %s (%s), %s; ejections %" PRIu32 "\n", t1,
			   r->eject_reason == HC_EJECT_5XX ? "5xx" : "gateway failures",
			   r->wait_check	      ? "waiting for a passing check"
			   : r->eject_until_ms > mono ? "returns in a while"
						      : "returns now",
			   r->n_ejections);
	else
		ctl_printf(out, "  ejected: no; ejections %" PRIu32 " (last %s, back %s)\n",
			   r->n_ejections, t1, t2);
}

static void json_endpoint(const struct ctl_env *env, uint32_t v, uint32_t e, struct ctl_buf *out)
{
	const struct dp *dp = env->dp;
	const struct dp_snapshot *snap = dp->snapshot;
	const struct dp_service_conf *sc = &snap->conf->services[v];
	const struct dp_ep_state *st = &snap->svcs[v].eps[e];
	const struct hc_ep *r = hc_find(env->hc, st->obj);
	char status[24] = "UP";
	struct hc_passive ps;
	uint64_t mono = hc_mono_ms();

	if (r != NULL)
		hc_status_text(r, status, sizeof(status));
	ctl_printf(out, "{\"service\":");
	ctl_json_str(out, sc->name);
	ctl_printf(out, ",\"endpoint\":");
	ctl_json_str(out, sc->endpoints[e].name);
	ctl_printf(out, ",\"status\":\"%s\",\"serving\":", status);
	ctl_json_str(out, serving_words(snap, v, st, dp_snapshot_panic(snap, v)));
	if (r != NULL) {
		ctl_printf(out, ",\"last_change_ms\":%" PRIu64 ",\"why\":", r->lastchg_wall_ms);
		ctl_json_str(out, r->why);
		ctl_printf(out,
			   ",\"checks\":%s,\"check_disabled\":%s,\"health\":%" PRIu32
			   ",\"rise\":%" PRIu32 ",\"fall\":%" PRIu32 ",\"sent\":%" PRIu64
			   ",\"passed\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"skipped\":%" PRIu64
			   ",\"chkfail\":%" PRIu64 ",\"chkdown\":%" PRIu64
			   ",\"downtime_ms\":%" PRIu64 ",\"probes\":[",
			   r->checks ? "true" : "false", r->disabled ? "true" : "false", r->health,
			   r->rise, r->fall, r->sent, r->passed, r->failed, r->skipped, r->chkfail,
			   r->chkdown,
			   r->downtime_ms + (r->down_since_ms && mono > r->down_since_ms
						     ? mono - r->down_since_ms
						     : 0));
		for (uint64_t i = 0; i < HC_HISTORY && i < r->n_results; i++) {
			const struct hc_result *h = &r->hist[(r->n_results - 1 - i) % HC_HISTORY];

			ctl_printf(out,
				   "%s{\"time_ms\":%" PRIu64 ",\"result\":\"%s\",\"code\":%u,"
				   "\"duration_us\":%" PRIu32 ",\"worker\":%u,\"detail\":",
				   i ? "," : "", h->wall_ms, hc_check_status_name(h->status),
				   h->code, h->duration_us, h->worker);
			ctl_json_str(out, h->detail);
			ctl_printf(out, "}");
		}
		ctl_printf(out,
			   "],\"ejected\":%s,\"ejections\":%" PRIu32 ",\"ejected_at_ms\":%" PRIu64
			   ",\"returned_at_ms\":%" PRIu64 ",\"run_5xx\":%" PRIu32
			   ",\"run_gateway\":%" PRIu32,
			   r->ejected ? "true" : "false", r->n_ejections, r->eject_wall_ms,
			   r->return_wall_ms, r->run5, r->rungw);
	}
	passive_sum(dp, st->obj, &ps);
	ctl_printf(out, ",\"traffic\":{");
	for (unsigned int i = 0; i < DP_OUT_MAX; i++)
		ctl_printf(out, "%s\"%s\":%" PRIu64, i ? "," : "", outcome_names[i], ps.n[i]);
	ctl_printf(out, "},\"last_failure\":\"%s\",\"last_failure_ms\":%" PRIu64 "}",
		   ps.last_fail_ms ? outcome_names[ps.last_fail < DP_OUT_MAX ? ps.last_fail : 0]
				   : "",
		   ps.last_fail_ms);
}

static uint64_t svc_sum(const struct ctl_env *env, const struct dp_service *obj, size_t off)
{
	uint64_t n = 0;

	for (uint16_t w = 0; w < env->dp->n_workers && w < DP_MAX_WORKERS; w++)
		n += __atomic_load_n((const uint64_t *)((const char *)&obj->pw[w] + off),
				     __ATOMIC_RELAXED);
	return n;
}

/* circuit_breaker: the breaker's state and the limits' queue, when the service has them. */
static void text_breaker(const struct ctl_env *env, uint32_t v, struct ctl_buf *out)
{
	const struct dp_snapshot *snap = env->dp->snapshot;
	const struct dp_breaker_conf *b = &snap->conf->services[v].breaker;
	const struct dp_service *obj = snap->svcs[v].obj;
	const struct dp_svc_shared *sh = &obj->sh;

	if (b->consecutive_failures != 0)
		ctl_printf(out,
			   "  circuit breaker: %s (%" PRIu32 " failures in a row of %" PRIu32
			   ", open_ms %" PRIu32 "), opened %" PRIu64 " times, %" PRIu64
			   " requests refused while open\n",
			   hc_breaker_state_name(__atomic_load_n(&sh->cb_state, __ATOMIC_RELAXED)),
			   sh->c_run, b->consecutive_failures, b->open_ms, sh->c_opens,
			   svc_sum(env, obj, offsetof(struct dp_svc_pw, cb_rejected)));
	if (b->max_requests != 0)
		ctl_printf(out,
			   "  limits: %" PRIu32 " in flight of max_requests %" PRIu32 ", %" PRIu32
			   " waiting (max %" PRIu32 ", max_pending %" PRIu32 ")\n",
			   __atomic_load_n(&sh->inflight, __ATOMIC_RELAXED), b->max_requests,
			   __atomic_load_n(&sh->pending, __ATOMIC_RELAXED),
			   __atomic_load_n(&sh->qmax, __ATOMIC_RELAXED), b->max_pending);
}

static void text_service(const struct ctl_env *env, uint32_t v, struct ctl_buf *out)
{
	const struct dp_snapshot *snap = env->dp->snapshot;
	const struct dp_service_conf *sc = &snap->conf->services[v];
	uint32_t serving = 0, healthy = 0, ejected = 0;

	for (uint32_t e = 0; e < snap->svcs[v].n_eps; e++) {
		serving += dp_ep_serving(&snap->svcs[v].eps[e]);
		healthy += dp_ep_healthy(&snap->svcs[v].eps[e]);
		ejected += snap->svcs[v].eps[e].ejected;
	}
	ctl_printf(out,
		   "service %s: %" PRIu32 " healthy of %" PRIu32 " serving (%" PRIu32
		   " endpoints), %" PRIu32 " ejected, panic %s (threshold %" PRIu32 " %%)%s\n",
		   sc->name, healthy, serving, snap->svcs[v].n_eps, ejected,
		   dp_snapshot_panic(snap, v) ? "ON" : "off", sc->panic_threshold_percent,
		   healthy == 0 ? ": no healthy endpoint, requests get 503" : "");
	text_breaker(env, v, out);
}

/* "S", "S/E" or nothing -> the range of services and endpoints to show. */
static int scope(const struct dp_snapshot *snap, const char *arg, int *svc, int *ep,
		 struct ctl_buf *out)
{
	const char *slash = arg != NULL ? strchr(arg, '/') : NULL;
	char name[128];

	*svc = -1;
	*ep = -1;
	if (arg == NULL)
		return 0;
	snprintf(name, sizeof(name), "%.*s", slash ? (int)(slash - arg) : (int)strlen(arg), arg);
	*svc = dp_snapshot_service(snap, name);
	if (*svc < 0) {
		ctl_printf(out, "error: no service '%s'\n", name);
		return -1;
	}
	if (slash == NULL)
		return 0;
	for (uint32_t e = 0; e < snap->conf->services[*svc].n_endpoints; e++)
		if (strcmp(snap->conf->services[*svc].endpoints[e].name, slash + 1) == 0)
			*ep = (int)e;
	if (*ep < 0) {
		ctl_printf(out, "error: service '%s' has no endpoint '%s'\n", name, slash + 1);
		return -1;
	}
	return 0;
}

int hc_cmd_show_health(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	const struct dp_snapshot *snap;
	bool json = argc > 2 && strcmp(argv[argc - 1], "json") == 0;
	int n = argc - (json ? 1 : 0), svc, ep;
	bool first = true;

	if (n > 3) {
		ctl_printf(out, "error: usage: show health [SERVICE[/ENDPOINT]] [json]\n");
		return -1;
	}
	if (env->dp == NULL || env->dp->snapshot == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	snap = env->dp->snapshot;
	if (scope(snap, n == 3 ? argv[2] : NULL, &svc, &ep, out) != 0)
		return -1;
	if (json)
		ctl_printf(out,
			   "{\"probes_sent\":%" PRIu64 ",\"probes_skipped\":%" PRIu64
			   ",\"ejections\":%" PRIu64 ",\"endpoints\":[",
			   env->hc ? env->hc->sent : 0, hc_skipped(env->hc),
			   env->hc ? env->hc->ejections : 0);
	else
		ctl_printf(out,
			   "probes: sent %" PRIu64 " skipped %" PRIu64 " (ring full %" PRIu64
			   ", late %" PRIu64 "); ejections %" PRIu64 "\n",
			   env->hc ? env->hc->sent : 0, hc_skipped(env->hc),
			   env->hc ? env->hc->skipped_ring : 0, env->hc ? env->hc->skipped_late : 0,
			   env->hc ? env->hc->ejections : 0);
	for (uint32_t v = 0; v < snap->n_svcs; v++) {
		if (svc >= 0 && (uint32_t)svc != v)
			continue;
		if (!json)
			text_service(env, v, out);
		for (uint32_t e = 0; e < snap->svcs[v].n_eps; e++) {
			if (ep >= 0 && (uint32_t)ep != e)
				continue;
			if (json) {
				ctl_printf(out, "%s", first ? "" : ",");
				json_endpoint(env, v, e, out);
			} else {
				text_endpoint(env, v, e, out);
			}
			first = false;
		}
	}
	if (json) {
		ctl_printf(out, "],\"breakers\":[");
		first = true;
		for (uint32_t v = 0; v < snap->n_svcs; v++) {
			const struct dp_svc_shared *sh = &snap->svcs[v].obj->sh;

			if (svc >= 0 && (uint32_t)svc != v)
				continue;
			ctl_printf(out,
				   "%s{\"service\":\"%s\",\"state\":\"%s\",\"run\":%" PRIu32
				   ",\"opens\":%" PRIu64 ",\"inflight\":%" PRIu32
				   ",\"pending\":%" PRIu32 "}",
				   first ? "" : ",", snap->conf->services[v].name,
				   hc_breaker_state_name(
					   __atomic_load_n(&sh->cb_state, __ATOMIC_RELAXED)),
				   sh->c_run, sh->c_opens,
				   __atomic_load_n(&sh->inflight, __ATOMIC_RELAXED),
				   __atomic_load_n(&sh->pending, __ATOMIC_RELAXED));
			first = false;
		}
		ctl_printf(out, "]}\n");
	}
	return 0;
}

/* enable/disable health SERVICE/ENDPOINT */
static int enable_health(struct ctl_env *env, int argc, char **argv, bool on, struct ctl_buf *out)
{
	struct hc_clock clk;
	struct hc_ep *r;
	int svc, ep;

	if (argc != 3 || strchr(argv[2], '/') == NULL) {
		ctl_printf(out, "error: usage: %s health SERVICE/ENDPOINT\n", argv[0]);
		return -1;
	}
	if (env->dp == NULL || env->dp->snapshot == NULL || env->hc == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	if (scope(env->dp->snapshot, argv[2], &svc, &ep, out) != 0)
		return -1;
	r = hc_find(env->hc, env->dp->snapshot->svcs[svc].eps[ep].obj);
	if (r == NULL || !r->checks) {
		/* HAProxy's words for a server without checks */
		ctl_printf(out, "error: Health checks are not configured on this server, cannot "
				"enable.\n");
		return -1;
	}
	hc_clock_now(env->dp, &clk);
	hc_enable(env->hc, env->dp, r, on, clk.mono_ms, clk.wall_ms);
	if (env->hc->dirty) {
		struct dp_snapshot *next = ctl_snapshot_build(env, env->dp->snapshot->conf, true);

		if (next == NULL) {
			ctl_printf(out, "error: out of memory\n");
			return -1;
		}
		ctl_snapshot_publish(env, next);
	}
	return 0;
}

int hc_cmd_enable_health(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	return enable_health(env, argc, argv, true, out);
}

int hc_cmd_disable_health(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	return enable_health(env, argc, argv, false, out);
}

/* name{service="S",endpoint="E"[,state="X"]} value */
static void sample(struct ctl_buf *b, const char *name, const char *svc, const char *ep,
		   const char *state, const char *value)
{
	ctl_printf(b, "%s{service=\"", name);
	met_label_value(b, svc);
	ctl_printf(b, "\",endpoint=\"");
	met_label_value(b, ep);
	if (state != NULL)
		ctl_printf(b, "\",state=\"%s", state);
	ctl_printf(b, "\"} %s\n", value);
}

/* HAProxy exporter's haproxy_server_status: one sample per state, 1 for the current one. */
static void prom_status(const struct dp_snapshot *snap, struct ctl_buf *b)
{
	static const char *const names[] = { "DOWN", "UP", "MAINT", "DRAIN", "NOLB" };

	ctl_printf(b, "# HELP sluice_server_status Current state of the endpoint, one sample per "
		      "state (1: current)\n# TYPE sluice_server_status gauge\n");
	for (uint32_t v = 0; v < snap->n_svcs; v++) {
		const struct dp_service_conf *sc = &snap->conf->services[v];

		for (uint32_t e = 0; e < snap->svcs[v].n_eps; e++) {
			const struct dp_ep_state *st = &snap->svcs[v].eps[e];
			unsigned int cur = 1;

			if (st->admin == DP_EP_MAINT)
				cur = 2;
			else if (st->health == DP_HEALTH_DOWN)
				cur = 0;
			else if (st->health == DP_HEALTH_STOPPING)
				cur = 4;
			else if (st->admin == DP_EP_DRAIN || st->weight == 0)
				cur = 3;
			for (unsigned int s = 0; s < RTE_DIM(names); s++)
				sample(b, "sluice_server_status", sc->name, sc->endpoints[e].name,
				       names[s], s == cur ? "1" : "0");
		}
	}
}

/* Per service: the breaker's state (one sample per state), its openings, the requests it
 * refused, and the limits' gauges. */
static void prom_breakers(const struct dp *dp, struct ctl_buf *b)
{
	static const uint32_t states[] = { DP_CB_CLOSED, DP_CB_OPEN, DP_CB_HALF_OPEN };
	const struct dp_snapshot *snap = dp->snapshot;
	char val[32];

	ctl_printf(b, "# HELP sluice_service_breaker_state Circuit breaker state, one sample per "
		      "state (1: current)\n# TYPE sluice_service_breaker_state gauge\n");
	for (uint32_t v = 0; v < snap->n_svcs; v++) {
		uint32_t cur = __atomic_load_n(&snap->svcs[v].obj->sh.cb_state, __ATOMIC_RELAXED);

		for (unsigned int i = 0; i < RTE_DIM(states); i++) {
			ctl_printf(b, "sluice_service_breaker_state{service=\"");
			met_label_value(b, snap->conf->services[v].name);
			ctl_printf(b, "\",state=\"%s\"} %d\n", hc_breaker_state_name(states[i]),
				   cur == states[i]);
		}
	}
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "sluice_service_breaker_opens_total", "counter",
		  "Times the circuit breaker opened" },
		{ "sluice_service_breaker_rejected_total", "counter",
		  "Requests answered 503 by the open (or half-open) breaker" },
		{ "sluice_service_requests_limited", "gauge",
		  "Requests holding a circuit_breaker max_requests slot, all workers" },
		{ "sluice_service_queue_current", "gauge", "Requests waiting for a slot (qcur)" },
		{ "sluice_service_queue_max", "gauge", "Most requests seen waiting (qmax)" },
	};
	for (unsigned int f = 0; f < RTE_DIM(fam); f++) {
		ctl_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help, fam[f].name,
			   fam[f].type);
		for (uint32_t v = 0; v < snap->n_svcs; v++) {
			const struct dp_service *obj = snap->svcs[v].obj;
			uint64_t x = 0;

			switch (f) {
			case 0:
				x = obj->sh.c_opens;
				break;
			case 1:
				for (uint16_t w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++)
					x += __atomic_load_n(&obj->pw[w].cb_rejected,
							     __ATOMIC_RELAXED);
				break;
			case 2:
				x = __atomic_load_n(&obj->sh.inflight, __ATOMIC_RELAXED);
				break;
			case 3:
				x = __atomic_load_n(&obj->sh.pending, __ATOMIC_RELAXED);
				break;
			default:
				x = __atomic_load_n(&obj->sh.qmax, __ATOMIC_RELAXED);
				break;
			}
			snprintf(val, sizeof(val), "%" PRIu64, x);
			ctl_printf(b, "%s{service=\"", fam[f].name);
			met_label_value(b, snap->conf->services[v].name);
			ctl_printf(b, "\"} %s\n", val);
		}
	}
}

/* circuit_breaker.max_connections: each endpoint's upstream connections, all workers. */
static void prom_ep_conns(const struct dp *dp, struct ctl_buf *b)
{
	const struct dp_snapshot *snap = dp->snapshot;

	ctl_printf(b, "# HELP sluice_endpoint_connections_current Upstream connections to the "
		      "endpoint, all workers, idle pooled ones included (what "
		      "circuit_breaker.max_connections bounds)\n"
		      "# TYPE sluice_endpoint_connections_current gauge\n");
	for (uint32_t v = 0; v < snap->n_svcs; v++) {
		const struct dp_snap_svc *ss = &snap->svcs[v];

		for (uint32_t e = 0; e < ss->n_eps; e++) {
			ctl_printf(b, "sluice_endpoint_connections_current{service=\"");
			met_label_value(b, snap->conf->services[v].name);
			ctl_printf(b, "\",endpoint=\"");
			met_label_value(b, ss->eps[e].obj->name);
			ctl_printf(b, "\"} %u\n",
				   __atomic_load_n(&ss->eps[e].obj->sh.conns, __ATOMIC_RELAXED));
		}
	}
}

void hc_prom_render(const struct hc *hc, const struct dp *dp, struct ctl_buf *b)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "sluice_server_check_status", "gauge",
		  "Status of the last health check, one sample per state (1: current)" },
		{ "sluice_server_check_code", "gauge", "HTTP status of the last health check" },
		{ "sluice_server_check_duration_seconds", "gauge",
		  "Duration of the last health check" },
		{ "sluice_server_check_failures_total", "counter",
		  "Failed health checks while the endpoint was not DOWN (chkfail)" },
		{ "sluice_server_check_up_down_total", "counter", "Transitions to DOWN (chkdown)" },
		{ "sluice_server_downtime_seconds_total", "counter", "Time spent DOWN (downtime)" },
		{ "sluice_server_check_skipped_total", "counter",
		  "Probes that could not start on time: neither success nor failure" },
		{ "sluice_server_ejections_total", "counter", "Outlier-detection ejections" },
		{ "sluice_server_ejected", "gauge", "1 while ejected by outlier detection" },
	};
	static const uint8_t states[] = { DP_CHK_INI,	 DP_CHK_SOCKERR, DP_CHK_L4OK,
					  DP_CHK_L4TOUT, DP_CHK_L4CON,	 DP_CHK_L7TOUT,
					  DP_CHK_L7RSP,	 DP_CHK_L7OK,	 DP_CHK_L7STS };
	const struct dp_snapshot *snap = dp != NULL ? dp->snapshot : NULL;
	uint64_t mono = hc_mono_ms();
	char val[32];

	if (snap != NULL) {
		prom_breakers(dp, b);
		prom_ep_conns(dp, b);
	}
	if (hc == NULL || snap == NULL)
		return;
	prom_status(snap, b);
	for (unsigned int f = 0; f < RTE_DIM(fam); f++) {
		ctl_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help, fam[f].name,
			   fam[f].type);
		for (uint32_t v = 0; v < snap->n_svcs; v++) {
			const struct dp_service_conf *sc = &snap->conf->services[v];

			for (uint32_t e = 0; e < snap->svcs[v].n_eps; e++) {
				const struct hc_ep *r = hc_find(hc, snap->svcs[v].eps[e].obj);
				const char *ep = sc->endpoints[e].name;
				uint64_t x = 0;

				if (r == NULL || (f <= 6 && !r->checks))
					continue;
				switch (f) {
				case 0:
					for (unsigned int s = 0; s < RTE_DIM(states); s++)
						sample(b, fam[f].name, sc->name, ep,
						       hc_check_status_name(states[s]),
						       r->last.status == states[s] ? "1" : "0");
					continue;
				case 1:
					x = r->last.code;
					break;
				case 2:
					snprintf(val, sizeof(val), "%.3f",
						 r->last.duration_us / 1e6);
					sample(b, fam[f].name, sc->name, ep, NULL, val);
					continue;
				case 3:
					x = r->chkfail;
					break;
				case 4:
					x = r->chkdown;
					break;
				case 5:
					x = (r->downtime_ms +
					     (r->down_since_ms && mono > r->down_since_ms
						      ? mono - r->down_since_ms
						      : 0)) /
					    1000;
					break;
				case 6:
					x = r->skipped;
					break;
				case 7:
					x = r->n_ejections;
					break;
				default:
					x = r->ejected;
					break;
				}
				snprintf(val, sizeof(val), "%" PRIu64, x);
				sample(b, fam[f].name, sc->name, ep, NULL, val);
			}
		}
	}
}
