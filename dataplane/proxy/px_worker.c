/* SPDX-License-Identifier: BSD-3-Clause
 * The proxy of one worker as the worker loop sees it: set-up and teardown of its pools
 * (sessions, requests, upstream connections, run list, observation) and the timers, which
 * hand each expired timer to its session or upstream connection.
 */
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp_objs.h"
#include "dp_wheel.h"
#include "dp_worker.h"
#include "px.h"
#include "px_impl.h"

static inline struct px_worker *px_of(struct dp_worker *w)
{
	return &w->px;
}

/* A session's or upstream connection's timer: from the timer wheel, in the loop. */
static void px_timer_fire(void *arg, struct tcp_timer *t)
{
	struct dp_worker *w = arg;
	struct px_timer *pt = container_of(t, struct px_timer, t);
	struct px_session *s = container_of(pt, struct px_session, timer);
	struct px_worker *px = px_of(w);
	struct px_upstream *up;

	if (!px_timer_due(w, pt))
		return; /* an early entry (struct px_timer): armed again, or let go */
	if (px_is_upstream_timer(w, pt, &up)) {
		px_upstream_timer(w, up);
		return;
	}
	if (s->conn == NULL)
		return; /* closed by the stack: its posted event frees it */
	if (s->state == PX_QUEUED) {
		px_cb_timeout(w, s); /* queue_timeout_ms: 503 */
		px_session_run(w, s);
		return;
	}
	if (s->state == PX_DONE) {
		px_session_free(w, s, PX_END_CLOSE); /* lingering close: the client kept quiet */
		return;
	}
	if (s->state == PX_HEAD && (s->rx != NULL || (s->rq != NULL && s->rq->req.pos != 0))) {
		/* the head did not arrive in time (slowloris), or no px_req came free within the
		 * header timeout: 408 and close */
		px->cnt[PX_CNT_header_timeouts]++;
		if (s->rq == NULL)
			px_req_put(w, s); /* off the wait list */
		s->close_after = 1;
		s->route = -1;
		if (px_respond(w, s, 408) != 0 || s->resp_left == 0)
			px_session_free(w, s, PX_END_CLOSE);
		return;
	}
	if (s->state == PX_RESPOND && s->resp_left > 0 && tcp_send_space(s->conn) > 0) {
		px_session_run(w, s); /* an mbuf shortage stalled the body: try again */
		return;
	}
	px->cnt[PX_CNT_idle_timeouts]++;
	px_session_free(w, s, PX_END_CLOSE);
}

void px_timers(struct dp_worker *w)
{
	struct tcp_wheel *wh = &px_of(w)->wheel;

	px_run_posted(w); /* what RX recorded, before any timer can judge it stale */
	if (!dp_wheel_quiet(wh, w->ns.now))
		tcp_wheel_run(wh, w->ns.now, px_timer_fire, w, 64);
	px_req_wake(w);
	if (px_of(w)->q_head != PX_NONE)
		px_cb_wake(w);
	px_run_posted(w);
}

int px_init(struct dp_worker *w)
{
	const struct dp_conf *conf = w->dp->conf;
	struct px_worker *px = px_of(w);
	uint32_t n = conf->dataplane.max_connections;
	int rc;

	px->sessions = rte_zmalloc_socket("px_sessions", (size_t)n * sizeof(struct px_session),
					  RTE_CACHE_LINE_SIZE, w->socket);
	if (px->sessions == NULL)
		return -ENOMEM;
	px->n_sessions = n;
	for (uint32_t i = 0; i < n; i++)
		px->sessions[i].next_free = i + 1 < n ? i + 1 : UINT32_MAX;
	px->free_head = 0;
	px->q_head = px->q_tail = PX_NONE; /* circuit_breaker queue (px_breaker.c) */
	tcp_wheel_init(&px->wheel, rte_rdtsc(), w->dp->hz / 1000);
	rc = px_make_pattern(w);
	if (rc == 0)
		rc = px_req_init(w);
	if (rc == 0)
		rc = px_upstream_init(w);
	if (rc == 0)
		rc = px_run_init(w);
	if (rc == 0)
		rc = px_obs_init(w);
	return rc;
}

void px_fini(struct dp_worker *w)
{
	struct px_worker *px = px_of(w);

	for (uint32_t i = 0; px->sessions != NULL && i < px->n_sessions; i++) {
		struct px_session *s = &px->sessions[i];

		/* the TCP stack is torn down next and frees the connections itself */
		s->up = NULL;
		if (s->lst != NULL)
			px_session_free(w, s, PX_END_CLOSED_BY_STACK);
	}
	px_upstream_fini(w);
	px_run_fini(w);
	px_req_fini(w);
	px_obs_fini(w);
	rte_free(px->sessions);
	px->sessions = NULL;
	rte_pktmbuf_free(px->pattern);
	px->pattern = NULL;
}
