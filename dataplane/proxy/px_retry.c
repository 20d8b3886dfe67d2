/* SPDX-License-Identifier: BSD-3-Clause
 * Retries of the reverse proxy (services.X.retries, timeouts.per_try_ms; docs/configuration.md,
 * "Retries"; docs/session-engine.md for the states).
 *
 * A try ends in px_try_end (px_upstream.c), which records its outcome; a failed try that
 * nothing of reached the client reports PX_UPEV_RETRY when px_retry_allowed says so, and the
 * session, in PX_RETRY, starts the next try (px_retry_start, px_proxy.c) with the request held
 * here: the head as received (its mbufs, taken off the receive queue: the next try rebuilds
 * the same head from them, so the common request that is never retried pays no clone), and
 * the body sent so far, as clones of the mbufs that went upstream (no copy). This file is the policy and the held request; it calls no other px file (it sits
 * with px_obs.c at the bottom of docs/layout.md's order). What may be retried:
 * - a connect failure (nothing was sent) whatever the method;
 * - an idempotent request on the other conditions `on` lists;
 * - an idempotent request whose try on a reused pooled connection got FIN or RST before any
 *   response byte (the keep-alive race): once, on a fresh connection to the same endpoint,
 *   whatever `on` and the budget say, and beyond count (count 0 alone turns it off). A non-idempotent one is not retried once its
 *   bytes went out (HAProxy's rule): the backend may have acted on it.
 * In every case only while the whole request is held (its body within max_body_bytes), with
 * retries.count retries at most, and while the service's retries in flight on this worker stay
 * within budget_percent of its active requests (at least 3). Per worker: no counter crosses
 * cores.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "px_impl.h"

#define PX_RETRY_BUDGET_MIN 3
/* buffer bytes held beyond twice the body's bytes: a few partial segments, and the head (up to
 * twice the longest head a listener takes, px->scratch_len) */
#define PX_RETRY_TRUE_SLACK 8192

static bool method_idempotent(const struct dp_retry_conf *rc, unsigned int method,
			      const uint8_t *name, uint32_t len)
{
	switch (method) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
	case HTTP_M_OPTIONS:
	case HTTP_M_TRACE:
	case HTTP_M_PUT:
	case HTTP_M_DELETE:
		return true;
	default:
		break;
	}
	for (uint32_t i = 0; name != NULL && i < rc->n_idempotent_methods; i++) {
		const char *m = rc->idempotent_methods[i];

		if (strlen(m) == len && memcmp(m, name, len) == 0)
			return true; /* method tokens are case-sensitive (RFC 9110 9.1) */
	}
	return false;
}

void px_retry_begin(struct dp_worker *w, struct px_session *s, uint32_t svc, const uint8_t *method,
		    uint32_t len)
{
	const struct dp_service_conf *sc = &w->px.snap->conf->services[svc];
	struct dp_svc_pw *spw = px_svc(w, s->svc);
	struct px_retry *rt = &s->rq->rt;

	memset(rt, 0, sizeof(*rt));
	rt->svc_idx = svc;
	rt->idempotent = method_idempotent(&sc->retries, s->rq->req.method, method, len);
	/* nothing to hold when no retry can ever happen */
	rt->holding = spw->retry_count > 0;
	rt->counted = 1;
	spw->active++;
	s->status = 0; /* this request's answer, when it has one (px_cb_end) */
}

static void drop_held(struct px_retry *rt)
{
	/* twice per request, holding nothing most times: no call for nothing to free */
	if (rt->head != NULL) {
		rte_pktmbuf_free(rt->head);
		rt->head = NULL;
	}
	if (rt->held != NULL) {
		rte_pktmbuf_free(rt->held);
		rt->held = NULL;
	}
	rt->held_body = 0;
	rt->held_true = 0;
	rt->holding = 0;
}

void px_retry_hold_head(struct dp_worker *w, struct px_session *s, struct rte_mbuf *head)
{
	struct px_retry *rt = &s->rq->rt;

	RTE_SET_USED(w);
	if (rt->head != NULL)
		rte_pktmbuf_free(rt->head);
	rt->head = head;
	for (const struct rte_mbuf *seg = head; seg != NULL; seg = seg->next)
		rt->held_true += seg->buf_len;
}

void px_retry_hold(struct dp_worker *w, struct px_session *s, struct rte_mbuf *m)
{
	struct px_retry *rt = &s->rq->rt;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_mbuf *c;

	if (!rt->holding)
		return;
	if ((uint64_t)rt->held_body + len >
	    RTE_MIN(px_svc(w, s->svc)->retry_max_body, (uint64_t)UINT32_MAX)) {
		/* too big to keep: from now on the request is tried once more only when its
		 * connect fails before anything went out, which no longer holds either */
		w->px.cnt[PX_CNT_retry_body_not_held]++;
		drop_held(rt);
		return;
	}
	c = rte_pktmbuf_clone(m, w->pool);
	if (c == NULL) {
		w->px.cnt[PX_CNT_drop_no_mbuf]++;
		drop_held(rt);
		return;
	}
	for (const struct rte_mbuf *seg = c; seg != NULL; seg = seg->next)
		rt->held_true += seg->buf_len;
	if (rt->held_true >
	    2 * (rt->held_body + len) + 2 * w->px.scratch_len + PX_RETRY_TRUE_SLACK) {
		/* many small segments: the buffers they pin, not their bytes, bound what is held
		 * (DESIGN.md, Memory): about twice the body's bytes at most */
		w->px.cnt[PX_CNT_retry_body_not_held]++;
		rte_pktmbuf_free(c);
		drop_held(rt);
		return;
	}
	if (rt->held == NULL) {
		rt->held = c;
	} else if (rte_pktmbuf_chain(rt->held, c) != 0) {
		rte_pktmbuf_free(c);
		drop_held(rt);
		return;
	}
	rt->held_body += len;
}

void px_retry_head(struct dp_worker *w, struct px_session *s)
{
	struct px_retry *rt = &s->rq->rt;

	drop_held(rt);
	if (rt->retrying) {
		rt->retrying = 0;
		px_svc(w, s->svc)->retrying--;
	}
}

void px_retry_end(struct dp_worker *w, struct px_session *s)
{
	struct px_retry *rt;

	if (s->rq == NULL || s->svc == NULL)
		return;
	rt = &s->rq->rt;
	px_retry_head(w, s);
	if (rt->counted) {
		rt->counted = 0;
		px_svc(w, s->svc)->active--;
		px_cb_end(w, s, rt->trial);
		rt->trial = 0;
	}
	if (rt->slot) {
		rt->slot = 0;
		px_cb_release(w, s->svc);
	}
}

bool px_retry_allowed(struct dp_worker *w, struct px_session *s, const struct px_upstream *up,
		      uint32_t cond)
{
	struct px_worker *px = &w->px;
	const struct dp_svc_pw *spw;
	struct px_retry *rt;
	bool nothing_sent = up->state == PX_UP_CONNECTING;
	uint32_t budget;

	if (s == NULL || s->rq == NULL || s->svc == NULL || cond == 0)
		return false;
	rt = &s->rq->rt;
	spw = px_svc(w, s->svc);
	if (!rt->holding || rt->head == NULL)
		return false;
	if (spw->retry_count == 0)
		return false; /* retries: 0 turns every retry off, the keep-alive race's too */
	if (up->reused && !up->rx_any && !rt->ka_race && rt->idempotent &&
	    (cond == DP_RETRY_RESET || cond == DP_RETRY_EMPTY_RESPONSE)) {
		/* the keep-alive race: the backend closed the pooled connection as the request
		 * went out; not the endpoint's failure, and never the client's problem */
		rt->ka_race = 1;
		rt->fresh = 1;
		px->cnt[PX_CNT_retry_keepalive_race]++;
		return true;
	}
	if (!(spw->retry_on & cond) || (!nothing_sent && !rt->idempotent))
		return false;
	if (rt->retries >= spw->retry_count)
		return false;
	budget = RTE_MAX((uint32_t)PX_RETRY_BUDGET_MIN,
			 (uint32_t)((uint64_t)spw->active * spw->retry_budget_percent / 100));
	if (!rt->retrying && spw->retrying >= budget) {
		px->cnt[PX_CNT_retry_budget_exhausted]++;
		return false;
	}
	return true;
}

uint32_t px_retry_timeout(struct dp_worker *w, struct px_session *s)
{
	const struct dp_svc_pw *spw = px_svc(w, s->svc);
	struct px_retry *rt = &s->rq->rt;
	uint64_t now = w->ns.now, elapsed;
	uint32_t left = UINT32_MAX;

	if (rt->t_first == 0)
		rt->t_first = now;
	rt->per_try = 0;
	if (spw->response_ms != 0) {
		elapsed = (now - rt->t_first) * 1000 / w->dp->hz;
		left = elapsed >= spw->response_ms ? 1 : spw->response_ms - (uint32_t)elapsed;
	}
	if (spw->per_try_ms != 0 && spw->per_try_ms < left) {
		rt->per_try = 1;
		return spw->per_try_ms;
	}
	return left == UINT32_MAX ? 0 : left;
}
