/* SPDX-License-Identifier: BSD-3-Clause
 * The health engine: the per-endpoint table, the probe scheduler and HAProxy's rise/fall.
 *
 * Scheduling. One probe per endpoint per interval for the whole appliance: control keeps the
 * clock of every endpoint and hands each due probe to one worker, round-robin over the
 * workers (skipping one whose rings hold DP_PROBE_RING_SIZE - 1 probes already). The
 * interval is HAProxy's srv_getinter: interval_ms at full health, down_interval_ms when DOWN
 * at health 0, fast_interval_ms otherwise (rising, falling, and a new endpoint, which starts
 * at health rise). The first probe of an endpoint fires at a random point of its first
 * interval, so endpoints loaded together spread over it; every later one at the previous
 * send time plus the interval, moved by a random jitter of at most 10 % of it either way.
 * One probe per endpoint is out at a time: a probe still out when the next is due delays it.
 *
 * A probe that cannot start on time counts as neither success nor failure: refused by a full
 * ring (skipped_ring) or answered DP_CHK_SKIPPED by the worker because it could not start it
 * before late_tsc (skipped_late). late_tsc is the scheduled time plus half the interval: a
 * worker that is that late is overloaded, and its verdict would say so rather than say
 * anything of the endpoint.
 *
 * Rise/fall. HAProxy's counter (check.health, 0..rise+fall-1; UP from rise on): a failure
 * while health > 0 counts in chkfail and takes one off, and below rise drops to 0 (DOWN); a
 * pass adds one, and from rise on jumps to rise+fall-1 (UP). A new endpoint starts as HAProxy
 * 2.6 starts a server with checks (init-state up, its default): UP with health at rise, so
 * its first failure takes it DOWN and its first pass to full health.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <rte_cycles.h>

#include "control.h"
#include "hc_ctl.h"

uint64_t hc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void hc_clock_now(const struct dp *dp, struct hc_clock *clk)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	clk->mono_ms = hc_mono_ms();
	clk->wall_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	clk->tsc = rte_get_tsc_cycles();
	clk->hz = dp != NULL && dp->hz != 0 ? dp->hz : rte_get_tsc_hz();
}

/* xorshift64*: jitter only, nothing secret */
static uint64_t rnd(struct hc *hc)
{
	hc->rng ^= hc->rng >> 12;
	hc->rng ^= hc->rng << 25;
	hc->rng ^= hc->rng >> 27;
	return hc->rng * 0x2545F4914F6CDD1DULL;
}

static int dp_send(void *ctx, uint16_t worker, struct dp_probe *p)
{
	struct dp *dp = ctx;

	return dp_probe_send(dp->workers[worker], p);
}

static struct dp_probe *dp_recv(void *ctx, uint16_t worker)
{
	struct dp *dp = ctx;

	return dp_probe_recv(dp->workers[worker]);
}

struct hc *hc_new(const struct hc_exec *exec, struct dp *dp)
{
	struct hc *hc = calloc(1, sizeof(*hc));

	if (hc == NULL)
		return NULL;
	if (exec != NULL)
		hc->exec = *exec;
	else
		hc->exec = (struct hc_exec){ .send = dp_send, .recv = dp_recv, .ctx = dp };
	hc->n_workers = dp != NULL && dp->n_workers > 0 ? dp->n_workers : 1;
	hc->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)hc;
	return hc;
}

/* A probe still out belongs to the dataplane (dp_probe_fini frees what its rings hold). */
static void rec_free(struct hc_ep *r)
{
	if (!r->inflight)
		free(r->probe);
	free(r->svc);
	free(r->name);
	free(r);
}

void hc_free(struct hc *hc)
{
	if (hc == NULL)
		return;
	while (hc->eps != NULL) {
		struct hc_ep *r = hc->eps;

		hc->eps = r->next;
		rec_free(r);
	}
	free(hc);
}

struct hc_ep *hc_find(const struct hc *hc, const struct dp_endpoint *obj)
{
	for (struct hc_ep *r = hc != NULL ? hc->eps : NULL; r != NULL; r = r->next)
		if (r->obj == obj && r->present)
			return r;
	return NULL;
}

bool hc_wanted(const struct dp_conf *conf)
{
	for (uint32_t v = 0; conf != NULL && v < conf->n_services; v++) {
		const struct dp_service_conf *sc = &conf->services[v];

		if (sc->health.enabled || sc->outlier.consecutive_5xx != 0 ||
		    sc->outlier.consecutive_gateway_failure != 0 ||
		    sc->breaker.consecutive_failures != 0)
			return true;
	}
	return false;
}

static uint32_t full(const struct hc_ep *r)
{
	return r->rise + r->fall - 1;
}

/* HAProxy's srv_getinter */
static uint32_t cur_interval(const struct hc_ep *r)
{
	if (r->health >= full(r))
		return r->interval_ms;
	if (r->state == DP_HEALTH_DOWN && r->health == 0)
		return r->down_ms != 0 ? r->down_ms : r->interval_ms;
	return r->fast_ms != 0 ? r->fast_ms : r->interval_ms;
}

/* ival moved by at most 10 % of it, either way */
static uint64_t jittered(struct hc *hc, uint32_t ival)
{
	uint64_t span = ival / 10;

	if (span == 0)
		return ival;
	return ival - span + rnd(hc) % (2 * span + 1);
}

/* The request part of r's probes, from the service's settings. */
static void build_tmpl(struct hc_ep *r, const struct dp_service_conf *sc,
		       const struct dp_endpoint_conf *ec)
{
	const struct dp_health_conf *h = &sc->health;
	struct dp_probe *p = &r->tmpl;
	char host[INET_ADDRSTRLEN + 8], ip[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = ec->addr };
	int n;

	memset(p, 0, sizeof(*p));
	p->tag = r->obj;
	p->addr = ec->addr;
	p->port = (uint16_t)(h->port != 0 ? h->port : ec->port);
	p->type = (uint8_t)h->type;
	p->timeout_ms = h->timeout_ms;
	p->n_expect =
		(uint8_t)(h->n_expect < DP_PROBE_EXPECT_MAX ? h->n_expect : DP_PROBE_EXPECT_MAX);
	memcpy(p->expect, h->expect, sizeof(p->expect[0]) * p->n_expect);
	if (h->type != DP_CHECK_HTTP)
		return;
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	/* Host "" = the endpoint's address:port (the port probed) */
	snprintf(host, sizeof(host), "%s:%u", ip, (unsigned int)p->port);
	n = snprintf(p->req, sizeof(p->req),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
		     "User-Agent: sluice-check\r\n\r\n",
		     h->path != NULL && h->path[0] ? h->path : "/",
		     h->host != NULL && h->host[0] ? h->host : host);
	if (n < 0 || (size_t)n >= sizeof(p->req)) {
		MET_LOG(WARNING, "health: %s/%s: check request longer than %u bytes, truncated",
			sc->name, ec->name, DP_PROBE_REQ_MAX);
		n = sizeof(p->req) - 1;
	}
	p->req_len = (uint16_t)n;
	if (h->expect_body != NULL) {
		size_t l = strlen(h->expect_body);

		l = l < sizeof(p->needle) ? l : sizeof(p->needle);
		memcpy(p->needle, h->expect_body, l);
		p->needle_len = (uint16_t)l;
	}
}

/* A new record for obj, or the existing one; takes the service's settings. */
static struct hc_ep *rec_get(struct hc *hc, const struct dp_endpoint *obj,
			     const struct dp_service_conf *sc, const struct dp_endpoint_conf *ec,
			     uint64_t now_ms, uint64_t wall_ms)
{
	const struct dp_health_conf *h = &sc->health;
	struct hc_ep *r = NULL;
	bool had_checks;

	for (struct hc_ep *x = hc->eps; x != NULL; x = x->next)
		if (x->obj == obj && x->svc != NULL && strcmp(x->name, ec->name) == 0 &&
		    strcmp(x->svc, sc->name) == 0)
			r = x;
	if (r == NULL) {
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return NULL;
		r->svc = strdup(sc->name);
		r->name = strdup(ec->name);
		r->probe = malloc(sizeof(*r->probe));
		if (r->svc == NULL || r->name == NULL || r->probe == NULL) {
			rec_free(r);
			return NULL;
		}
		r->obj = obj;
		r->state = DP_HEALTH_UP;
		r->lastchg_wall_ms = wall_ms;
		r->next = hc->eps;
		hc->eps = r;
	}
	had_checks = r->checks && r->rise != 0;
	r->checks = h->enabled;
	r->interval_ms = h->interval_ms != 0 ? h->interval_ms : 2000;
	r->fast_ms = h->fast_interval_ms;
	r->down_ms = h->down_interval_ms;
	r->rise = h->rise != 0 ? h->rise : 1;
	r->fall = h->fall != 0 ? h->fall : 1;
	r->od = sc->outlier;
	if (r->checks && !had_checks) {
		/* HAProxy 2.6: a checked server starts UP with health at rise */
		r->health = r->rise;
		if (r->state == DP_HEALTH_DOWN)
			r->state = DP_HEALTH_UP;
		r->next_ms = now_ms + rnd(hc) % r->interval_ms;
	} else if (!r->checks) {
		r->health = r->rise;
		if (had_checks && r->state == DP_HEALTH_DOWN) {
			r->state = DP_HEALTH_UP; /* nothing will ever bring it back otherwise */
			hc->dirty = true;
		}
	} else if (r->health > full(r)) {
		r->health = full(r);
	}
	build_tmpl(r, sc, ec);
	return r;
}

void hc_sync(struct hc *hc, const struct dp *dp, struct dp_snapshot *snap, uint64_t now_ms)
{
	struct timespec ts;
	uint64_t wall_ms;

	(void)dp;
	if (hc == NULL || snap == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	wall_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (struct hc_ep *r = hc->eps; r != NULL; r = r->next)
		r->present = false;
	for (uint32_t v = 0; v < snap->n_svcs; v++) {
		const struct dp_service_conf *sc = &snap->conf->services[v];

		for (uint32_t e = 0; e < snap->svcs[v].n_eps; e++) {
			struct dp_ep_state *st = &snap->svcs[v].eps[e];
			struct hc_ep *r =
				rec_get(hc, st->obj, sc, &sc->endpoints[e], now_ms, wall_ms);

			if (r == NULL) {
				st->health = DP_HEALTH_UP; /* out of memory: unchecked */
				continue;
			}
			r->present = true;
			r->v = v;
			r->e = e;
			st->health = r->state;
			st->ejected = r->ejected;
		}
	}
	/* records of endpoints that left: freed once no probe of theirs is out */
	for (struct hc_ep **pr = &hc->eps; *pr != NULL;) {
		struct hc_ep *r = *pr;

		if (r->present || r->inflight) {
			pr = &r->next;
			continue;
		}
		*pr = r->next;
		rec_free(r);
	}
	hc->dirty = false;
}

static const char *const status_names[DP_CHK_MAX] = {
	[DP_CHK_INI] = "INI",	      [DP_CHK_L4OK] = "L4OK",	[DP_CHK_L4TOUT] = "L4TOUT",
	[DP_CHK_L4CON] = "L4CON",     [DP_CHK_L7OK] = "L7OK",	[DP_CHK_L7TOUT] = "L7TOUT",
	[DP_CHK_L7RSP] = "L7RSP",     [DP_CHK_L7STS] = "L7STS", [DP_CHK_SOCKERR] = "SOCKERR",
	[DP_CHK_SKIPPED] = "SKIPPED",
};

const char *hc_check_status_name(uint8_t status)
{
	return status < DP_CHK_MAX ? status_names[status] : "UNK";
}

/* HAProxy 2.6's enum healthcheck_status (include/haproxy/check-t.h) */
unsigned int hc_haproxy_status(uint8_t status)
{
	static const unsigned int map[DP_CHK_MAX] = {
		[DP_CHK_INI] = 1,     [DP_CHK_L4OK] = 6,   [DP_CHK_L4TOUT] = 7,
		[DP_CHK_L4CON] = 8,   [DP_CHK_L7OK] = 15,  [DP_CHK_L7TOUT] = 12,
		[DP_CHK_L7RSP] = 13,  [DP_CHK_L7STS] = 17, [DP_CHK_SOCKERR] = 5,
		[DP_CHK_SKIPPED] = 1,
	};
	return status < DP_CHK_MAX ? map[status] : 0;
}

/* HAProxy's get_check_status_description */
const char *hc_check_desc(uint8_t status)
{
	switch (status) {
	case DP_CHK_L4OK:
		return "Layer4 check passed";
	case DP_CHK_L4TOUT:
		return "Layer4 timeout";
	case DP_CHK_L4CON:
		return "Layer4 connection problem";
	case DP_CHK_L7OK:
		return "Layer7 check passed";
	case DP_CHK_L7TOUT:
		return "Layer7 timeout";
	case DP_CHK_L7RSP:
		return "Layer7 invalid response";
	case DP_CHK_L7STS:
		return "Layer7 wrong status";
	case DP_CHK_SOCKERR:
		return "Socket error";
	default:
		return "Initializing";
	}
}

void hc_status_text(const struct hc_ep *r, char *buf, size_t len)
{
	if (r->state == DP_HEALTH_STOPPING)
		snprintf(buf, len, "NOLB");
	else if (!r->checks || r->disabled)
		snprintf(buf, len, r->state == DP_HEALTH_DOWN ? "DOWN" : "UP");
	else if (r->state != DP_HEALTH_DOWN && r->health < full(r))
		snprintf(buf, len, "UP %u/%u", r->health - r->rise + 1, r->fall);
	else if (r->state == DP_HEALTH_DOWN && r->health > 0)
		snprintf(buf, len, "DOWN %u/%u", r->health, r->rise);
	else
		snprintf(buf, len, r->state == DP_HEALTH_DOWN ? "DOWN" : "UP");
}

uint64_t hc_skipped(const struct hc *hc)
{
	return hc != NULL ? hc->skipped_ring + hc->skipped_late : 0;
}

/* Endpoints of r's service still taking traffic after a change, as the log line counts
 * them ("N active and 0 backup servers left"). */
static unsigned int active_left(const struct hc *hc, const struct dp *dp, const struct hc_ep *r)
{
	const struct dp_snapshot *snap = dp != NULL ? dp->snapshot : NULL;
	unsigned int n = 0;

	for (const struct hc_ep *x = hc->eps; x != NULL; x = x->next) {
		const struct dp_ep_state *st;

		if (!x->present || x->v != r->v || strcmp(x->svc, r->svc) != 0)
			continue;
		st = dp_snapshot_ep(snap, x->v, x->e);
		if (st != NULL && st->obj == x->obj && st->admin != DP_EP_READY)
			continue;
		n += (x->disabled || x->state == DP_HEALTH_UP) && !x->ejected;
	}
	return n;
}

/* The transition log line, HAProxy's words (srv_append_status, srv_append_more). cause is
 * NULL for a check's verdict (r->last), else the words of the cause ("changed from CLI"). */
static void log_transition(struct hc *hc, const struct dp *dp, struct hc_ep *r, const char *cause)
{
	unsigned int left = active_left(hc, dp, r);
	uint32_t active = dp != NULL && r->present ? dp_ep_active(dp, r->obj) : 0;
	const char *to = r->state == DP_HEALTH_UP	  ? "UP"
			 : r->state == DP_HEALTH_STOPPING ? "NOLB"
							  : "DOWN";
	char why[sizeof(r->why)], code[24] = "", info[DP_PROBE_DETAIL + 16] = "";
	int n;

	if (cause != NULL) {
		snprintf(why, sizeof(why), "%s", cause);
	} else {
		if (r->last.status >= DP_CHK_L7OK && r->last.status <= DP_CHK_L7STS &&
		    r->last.code != 0)
			snprintf(code, sizeof(code), ", code: %u", r->last.code);
		if (r->last.detail[0] != '\0' && r->last.status != DP_CHK_L7OK &&
		    r->last.status != DP_CHK_L4OK)
			snprintf(info, sizeof(info), ", info: \"%s\"", r->last.detail);
		snprintf(why, sizeof(why), "reason: %s%s%s, check duration: %" PRIu32 "ms",
			 hc_check_desc(r->last.status), code, info, r->last.duration_us / 1000);
	}
	n = snprintf(r->why, sizeof(r->why), "%s", why);
	(void)n;
	if (r->state == DP_HEALTH_UP)
		MET_LOG(NOTICE,
			"Server %s/%s is %s, %s. %u active and 0 backup servers online. 0 "
			"sessions requeued, 0 total in queue.",
			r->svc, r->name, to, why, left);
	else
		MET_LOG(WARNING,
			"Server %s/%s is %s, %s. %u active and 0 backup servers left. %" PRIu32
			" sessions active, 0 requeued, 0 remaining in queue.",
			r->svc, r->name, to, why, left, active);
}

/* r goes to state to: counters, downtime, the log line, a new snapshot due. */
static void transition(struct hc *hc, const struct dp *dp, struct hc_ep *r, uint8_t to,
		       const char *cause, uint64_t now_ms, uint64_t wall_ms)
{
	if (r->state == to)
		return;
	if (r->state == DP_HEALTH_DOWN && r->down_since_ms != 0) {
		r->downtime_ms += now_ms - r->down_since_ms;
		r->down_since_ms = 0;
	}
	if (to == DP_HEALTH_DOWN) {
		r->chkdown++;
		r->down_since_ms = now_ms != 0 ? now_ms : 1;
	}
	r->state = to;
	r->lastchg_wall_ms = wall_ms;
	hc->dirty = true;
	log_transition(hc, dp, r, cause);
}

/* One verdict of r's check (not skipped). */
static void verdict(struct hc *hc, const struct dp *dp, struct hc_ep *r, bool pass, uint64_t now_ms,
		    uint64_t wall_ms)
{
	if (!pass) {
		r->failed++;
		if (r->health > 0) {
			r->chkfail++;
			r->health--;
			if (r->health < r->rise)
				r->health = 0;
		}
		if (r->health == 0)
			transition(hc, dp, r, DP_HEALTH_DOWN, NULL, now_ms, wall_ms);
		return;
	}
	r->passed++;
	if (r->health < full(r)) {
		r->health++;
		if (r->health >= r->rise)
			r->health = full(r);
	}
	if (r->health >= r->rise)
		transition(hc, dp, r, DP_HEALTH_UP, NULL, now_ms, wall_ms);
	if (r->ejected && r->wait_check) {
		/* back from ejection: its first passing check lets it in */
		r->ejected = false;
		r->wait_check = false;
		r->return_wall_ms = wall_ms;
		hc->dirty = true;
		MET_LOG(NOTICE, "Server %s/%s is back from outlier ejection (check passed)", r->svc,
			r->name);
	}
}

static void take_result(struct hc *hc, const struct dp *dp, struct hc_ep *r, struct dp_probe *p,
			const struct hc_clock *clk)
{
	struct hc_result *res = &r->hist[r->n_results % HC_HISTORY];

	r->inflight = false;
	hc->results++;
	res->wall_ms = clk->wall_ms;
	res->duration_us = p->duration_us;
	res->code = p->code;
	res->worker = p->worker;
	res->status = p->status < DP_CHK_MAX ? p->status : DP_CHK_SOCKERR;
	memcpy(res->detail, p->detail, sizeof(res->detail));
	res->detail[sizeof(res->detail) - 1] = '\0';
	r->n_results++;
	if (!r->present)
		return;
	if (res->status == DP_CHK_SKIPPED || res->status == DP_CHK_INI) {
		r->skipped++;
		hc->skipped_late++;
	} else if (r->checks && !r->disabled) {
		r->last = *res;
		verdict(hc, dp, r, res->status == DP_CHK_L4OK || res->status == DP_CHK_L7OK,
			clk->mono_ms, clk->wall_ms);
	}
	/* the next one: one interval (of the new state) after this one left */
	r->next_ms = r->sent_ms + jittered(hc, cur_interval(r));
}

/* The record whose probe p is (a record stays while its probe is out); NULL: not ours. */
static struct hc_ep *owner(struct hc *hc, const struct dp_probe *p)
{
	for (struct hc_ep *r = hc->eps; r != NULL; r = r->next)
		if (r->probe == p)
			return r;
	return NULL;
}

static void collect(struct hc *hc, const struct dp *dp, const struct hc_clock *clk)
{
	for (uint16_t w = 0; w < hc->n_workers; w++) {
		struct dp_probe *p;

		while ((p = hc->exec.recv(hc->exec.ctx, w)) != NULL) {
			if (hc->inflight[w] > 0)
				hc->inflight[w]--;
			struct hc_ep *r = owner(hc, p);

			if (r != NULL && r->inflight)
				take_result(hc, dp, r, p, clk);
		}
	}
}

/* Send r's probe to the next worker with room; false when none took it. */
static bool send_probe(struct hc *hc, struct hc_ep *r, uint64_t sched_ms,
		       const struct hc_clock *clk)
{
	uint64_t late_ms = sched_ms + cur_interval(r) / 2;
	uint64_t ahead = late_ms > clk->mono_ms ? late_ms - clk->mono_ms : 0;

	*r->probe = r->tmpl;
	r->probe->seq = ++hc->seq;
	r->probe->late_tsc = clk->tsc + ahead * clk->hz / 1000;
	for (uint16_t i = 0; i < hc->n_workers; i++) {
		uint16_t w = (uint16_t)((hc->next_worker + i) % hc->n_workers);

		if (hc->inflight[w] >= DP_PROBE_RING_SIZE - 1)
			continue;
		if (hc->exec.send(hc->exec.ctx, w, r->probe) != 0)
			continue;
		hc->inflight[w]++;
		hc->next_worker = (uint16_t)((w + 1) % hc->n_workers);
		return true;
	}
	return false;
}

static void schedule(struct hc *hc, const struct hc_clock *clk)
{
	for (struct hc_ep *r = hc->eps; r != NULL; r = r->next) {
		uint64_t sched = r->next_ms;

		if (!r->present || !r->checks || r->disabled || r->inflight || sched > clk->mono_ms)
			continue;
		r->sent_ms = clk->mono_ms;
		if (send_probe(hc, r, sched, clk)) {
			r->inflight = true;
			r->sent++;
			hc->sent++;
			continue;
		}
		/* neither success nor failure: try again one interval later */
		r->skipped++;
		hc->skipped_ring++;
		r->next_ms = clk->mono_ms + jittered(hc, cur_interval(r));
	}
}

bool hc_run(struct hc *hc, const struct dp *dp, const struct hc_clock *clk)
{
	if (hc == NULL)
		return false;
	collect(hc, dp, clk);
	for (struct hc_ep **pr = &hc->eps; *pr != NULL;) {
		struct hc_ep *r = *pr;

		if (r->present || r->inflight) {
			pr = &r->next;
			continue;
		}
		*pr = r->next; /* it left while its probe was out */
		rec_free(r);
	}
	hc_outlier_run(hc, dp, clk);
	hc_breaker_run(dp, clk);
	schedule(hc, clk);
	return hc->dirty;
}

int hc_set_health(struct hc *hc, const struct dp *dp, struct hc_ep *r, const char *word,
		  uint64_t now_ms, uint64_t wall_ms)
{
	/* HAProxy's cli_parse_set_server: up and stopping at full health, down at 0 */
	if (strcmp(word, "up") == 0) {
		r->health = full(r);
		transition(hc, dp, r, DP_HEALTH_UP, "changed from CLI", now_ms, wall_ms);
	} else if (strcmp(word, "stopping") == 0) {
		r->health = full(r);
		transition(hc, dp, r, DP_HEALTH_STOPPING, "changed from CLI", now_ms, wall_ms);
	} else if (strcmp(word, "down") == 0) {
		r->health = 0;
		transition(hc, dp, r, DP_HEALTH_DOWN, "changed from CLI", now_ms, wall_ms);
	} else {
		return -EINVAL;
	}
	return 0;
}

void hc_enable(struct hc *hc, const struct dp *dp, struct hc_ep *r, bool on, uint64_t now_ms,
	       uint64_t wall_ms)
{
	if (r->disabled == !on)
		return;
	r->disabled = !on;
	MET_LOG(NOTICE, "Server %s/%s: health check %s from CLI", r->svc, r->name,
		on ? "enabled" : "disabled");
	if (on) {
		/* its state stays until its next check, which is now; UP, it goes down at its
		 * first failure, as a new endpoint does */
		r->next_ms = now_ms;
		if (r->state == DP_HEALTH_UP && r->health < r->rise)
			r->health = r->rise;
		return;
	}
	/* HAProxy's "disable health": unchecked, the endpoint counts as UP */
	if (r->state == DP_HEALTH_DOWN)
		transition(hc, dp, r, DP_HEALTH_UP, "health check disabled from CLI", now_ms,
			   wall_ms);
}
