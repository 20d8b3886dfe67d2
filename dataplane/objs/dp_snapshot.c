/* SPDX-License-Identifier: BSD-3-Clause
 * Runtime snapshots: the configuration workers read, the stable objects it names, the state
 * of every endpoint and one balancer per service and worker. Built and freed by control
 * only; a worker sees a snapshot through dp->snapshot (one acquire load per loop) and applies
 * it when its epoch moves (px_apply), taking over the previous balancers' state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "dp_objs.h"
#include "dp_worker.h"

uint64_t dp_clock_ms(const struct dp *dp)
{
	uint64_t khz = dp->hz >= 1000 ? dp->hz / 1000 : 1000000; /* no EAL (tests): 1 GHz */

	return 1 + (rte_rdtsc() - dp->started_tsc) / khz;
}

/* prev's state of endpoint object ep, NULL when prev does not have it. */
static const struct dp_ep_state *prev_state(const struct dp_snapshot *prev,
					    const struct dp_endpoint *ep)
{
	for (uint32_t v = 0; prev != NULL && v < prev->n_svcs; v++) {
		if (prev->svcs[v].obj != ep->svc)
			continue;
		for (uint32_t e = 0; e < prev->svcs[v].n_eps; e++)
			if (prev->svcs[v].eps[e].obj == ep)
				return &prev->svcs[v].eps[e];
	}
	return NULL;
}

static int build_service(struct dp *dp, struct dp_snapshot *s, uint32_t v,
			 const struct dp_snapshot *prev)
{
	const struct dp_service_conf *sc = &s->conf->services[v];
	struct dp_snap_svc *ss = &s->svcs[v];
	uint32_t weights[LB_MAX_ENDPOINTS];
	uint64_t now = (uint64_t)time(NULL);

	if (sc->n_endpoints > LB_MAX_ENDPOINTS)
		return -1;
	ss->obj = dp_service_get(dp, sc->name);
	ss->eps = calloc(sc->n_endpoints + 1, sizeof(*ss->eps));
	ss->lb = calloc(s->n_workers + 1, sizeof(*ss->lb));
	if (ss->obj == NULL || ss->eps == NULL || ss->lb == NULL)
		return -1;
	ss->n_eps = sc->n_endpoints;
	for (uint32_t e = 0; e < sc->n_endpoints; e++) {
		const struct dp_endpoint_conf *ec = &sc->endpoints[e];
		struct dp_ep_state *st = &ss->eps[e];
		const struct dp_ep_state *p;

		st->obj = dp_endpoint_get(dp, ss->obj, ec->name, ec->addr, ec->port);
		if (st->obj == NULL)
			return -1;
		p = prev_state(prev, st->obj);
		if (p != NULL) {
			st->weight = p->weight;
			st->admin = p->admin;
			st->changed = p->changed;
			st->health = p->health; /* control's health engine may set them again */
			st->ejected = p->ejected;
		} else {
			st->weight = ec->weight;
			st->admin = DP_EP_READY;
			st->changed = now;
		}
		weights[e] = st->weight;
	}
	for (uint16_t w = 0; w < s->n_workers; w++) {
		ss->lb[w] = lb_create(lb_by_balance(sc->balance), sc->n_endpoints, weights);
		if (ss->lb[w] == NULL)
			return -1;
		ss->lb[w]->slow_start_ms = sc->slow_start_ms;
	}
	return 0;
}

/* ---- what derives from the endpoint states (slow start, Maglev) ---- */

/* What a Maglev table of ss is built from: which endpoints are in it, with what weight. */
static uint64_t maglev_sig(const struct dp_snap_svc *ss)
{
	uint64_t h = lb_hash64(&ss->n_eps, sizeof(ss->n_eps), 0);

	for (uint32_t e = 0; e < ss->n_eps; e++) {
		uint64_t x[2] = { h, dp_ep_eligible(&ss->eps[e]) ? ss->eps[e].weight : 0 };

		h = lb_hash64(x, sizeof(x), 0);
	}
	return h;
}

/* Rebuild ss's table from its eligible endpoints unless it already matches them. */
static int seal_maglev(struct dp_snapshot *s, struct dp_snap_svc *ss,
		       const struct dp_service_conf *sc)
{
	const char *names[LB_MAX_ENDPOINTS];
	uint32_t weights[LB_MAX_ENDPOINTS];
	uint64_t sig = maglev_sig(ss);
	struct lb_maglev *t;

	if (ss->maglev == NULL || ss->maglev->sig != sig) {
		for (uint32_t e = 0; e < ss->n_eps; e++) {
			names[e] = sc->endpoints[e].name;
			weights[e] = dp_ep_eligible(&ss->eps[e]) ? ss->eps[e].weight : 0;
		}
		t = lb_maglev_build(ss->n_eps, names, weights, 0);
		if (t == NULL)
			return -ENOMEM;
		t->sig = sig;
		free(ss->maglev);
		ss->maglev = t;
	}
	for (uint16_t w = 0; w < s->n_workers; w++)
		ss->lb[w]->shared = ss->maglev;
	return 0;
}

int dp_snapshot_seal(struct dp *dp, struct dp_snapshot *s, const struct dp_snapshot *prev)
{
	uint64_t now = dp_clock_ms(dp);
	int rc = 0;

	for (uint32_t v = 0; v < s->n_svcs; v++) {
		struct dp_snap_svc *ss = &s->svcs[v];
		const struct dp_service_conf *sc = &s->conf->services[v];

		for (uint32_t e = 0; e < ss->n_eps; e++) {
			struct dp_ep_state *st = &ss->eps[e];
			const struct dp_ep_state *p = prev_state(prev, st->obj);

			if (!dp_ep_eligible(st))
				st->since_ms = 0;
			else if (prev == NULL)
				st->since_ms = 0; /* the first snapshot: nothing to ramp against */
			else if (p != NULL && dp_ep_eligible(p))
				st->since_ms = p->since_ms;
			else if (st->since_ms == 0)
				st->since_ms = now; /* came (back) up, or was added */
			/* else: stamped by an earlier seal of this snapshot against the same prev */
		}
		if (sc->balance == DP_BALANCE_MAGLEV && seal_maglev(s, ss, sc) != 0)
			rc = -ENOMEM;
	}
	return rc;
}

struct dp_snapshot *dp_snapshot_new(struct dp *dp, const struct dp_conf *conf,
				    const struct dp_snapshot *prev, uint64_t epoch)
{
	struct dp_snapshot *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->epoch = epoch;
	s->conf = conf;
	s->n_workers = dp->n_workers;
	s->svcs = calloc(conf->n_services + 1, sizeof(*s->svcs));
	s->lsts = calloc(conf->n_listeners + 1, sizeof(*s->lsts));
	if (s->svcs == NULL || s->lsts == NULL)
		goto fail;
	for (uint32_t i = 0; i < conf->n_listeners; i++) {
		s->lsts[i] = dp_listener_get(dp, conf->listeners[i].name);
		if (s->lsts[i] == NULL)
			goto fail;
		s->n_lsts++;
	}
	for (uint32_t v = 0; v < conf->n_services; v++) {
		s->n_svcs++;
		if (build_service(dp, s, v, prev) != 0)
			goto fail;
	}
	if (dp_snapshot_seal(dp, s, prev) != 0)
		goto fail;
	return s;
fail:
	dp_snapshot_free(s); /* objects it created are freed by the next dp_objs_gc */
	return NULL;
}

void dp_snapshot_free(struct dp_snapshot *snap)
{
	if (snap == NULL)
		return;
	for (uint32_t v = 0; snap->svcs != NULL && v < snap->n_svcs; v++) {
		for (uint16_t w = 0; snap->svcs[v].lb != NULL && w < snap->n_workers; w++)
			lb_destroy(snap->svcs[v].lb[w]);
		free(snap->svcs[v].lb);
		free(snap->svcs[v].eps);
		free(snap->svcs[v].maglev);
	}
	free(snap->svcs);
	free(snap->lsts);
	free(snap);
}

const struct dp_ep_state *dp_snapshot_ep(const struct dp_snapshot *snap, uint32_t svc, uint32_t ep)
{
	if (snap == NULL || svc >= snap->n_svcs || ep >= snap->svcs[svc].n_eps)
		return NULL;
	return &snap->svcs[svc].eps[ep];
}

int dp_snapshot_service(const struct dp_snapshot *snap, const char *name)
{
	for (uint32_t v = 0; snap != NULL && v < snap->n_svcs; v++)
		if (strcmp(snap->conf->services[v].name, name) == 0)
			return (int)v;
	return -1;
}

bool dp_snapshot_panic(const struct dp_snapshot *snap, uint32_t svc)
{
	uint32_t pct, serving = 0, healthy = 0;

	if (snap == NULL || svc >= snap->n_svcs)
		return false;
	pct = snap->conf->services[svc].panic_threshold_percent;
	for (uint32_t e = 0; e < snap->svcs[svc].n_eps; e++) {
		serving += dp_ep_serving(&snap->svcs[svc].eps[e]);
		healthy += dp_ep_healthy(&snap->svcs[svc].eps[e]);
	}
	return pct != 0 && healthy > 0 && (uint64_t)healthy * 100 < (uint64_t)pct * serving;
}
