/* SPDX-License-Identifier: BSD-3-Clause
 * Upstream connections of the reverse proxy: a per-worker pool, idle lists per endpoint
 * (keep-alive reuse), local ports chosen so that replies reach this worker, timeouts.
 *
 * Worker w opens upstream connections only from local ports with port % workers == w: a
 * reply carries that port, so any worker can tell who owns it (dp_tcp_owner) and hand it
 * over. Listener ports are never used.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "px_impl.h"

#define PX_PORT_MIN 32768
#define PX_PORT_MAX 60999
#define PX_PORT_TRIES 64
#define PX_PORT_TW_SKIPS 8 /* ports found in TIME_WAIT passed over before taking one over */
/* An idle connection to an endpoint with max_connections looks this often whether a request
 * of another worker waits for the endpoint (then it closes and gives its slot up). */
#define PX_IDLE_CHECK_MS 5

static const struct tcp_ops up_ops;
static void idle_drop(struct dp_worker *w, struct px_upstream *up);

static inline uint32_t up_index(const struct px_worker *px, const struct px_upstream *up)
{
	return (uint32_t)(up - px->upstreams);
}

/* The settings of the endpoint's service, as the worker last applied them. */
static const struct dp_svc_pw *up_service(const struct dp_worker *w, const struct px_upstream *up)
{
	return &up->ep->svc->pw[w->id];
}

bool px_is_upstream_timer(struct dp_worker *w, struct px_timer *t, struct px_upstream **up)
{
	struct px_worker *px = &w->px;
	const char *p = (const char *)t, *lo = (const char *)px->upstreams;

	if (px->upstreams == NULL || p < lo || p >= (const char *)(px->upstreams + px->n_upstreams))
		return false;
	*up = container_of(t, struct px_upstream, timer);
	return true;
}

/* ---- idle lists ---- */

static void idle_push(struct dp_worker *w, struct px_upstream *up)
{
	struct px_worker *px = &w->px;
	struct dp_ep_pw *pw = px_ep(w, up->ep);
	uint32_t idx = up_index(px, up);

	up->prev = PX_NONE;
	up->next = pw->idle_head;
	if (up->next != PX_NONE)
		px->upstreams[up->next].prev = idx;
	pw->idle_head = idx;
	pw->n_idle++;
	px_up_enter(w, up, PX_UP_IDLE);
}

static void idle_unlink(struct dp_worker *w, struct px_upstream *up)
{
	struct px_worker *px = &w->px;
	struct dp_ep_pw *pw = px_ep(w, up->ep);

	if (up->prev != PX_NONE)
		px->upstreams[up->prev].next = up->next;
	else
		pw->idle_head = up->next;
	if (up->next != PX_NONE)
		px->upstreams[up->next].prev = up->prev;
	pw->n_idle--;
	up->next = up->prev = PX_NONE;
}

/* ---- pool ---- */

static void up_free(struct dp_worker *w, struct px_upstream *up)
{
	struct px_worker *px = &w->px;

	px_timer_off(w, &up->timer);
	rte_pktmbuf_free(up->rx);
	uint8_t posted = up->posted;

	/* its circuit_breaker.max_connections slot (px_upstream_new), given back after this
	 * iteration's TX (px_flushed), or now when too many wait for that */
	if (up->ep != NULL && px->n_conn_rel < RTE_DIM(px->conn_rel))
		px->conn_rel[px->n_conn_rel++] = up->ep;
	else if (up->ep != NULL)
		__atomic_sub_fetch(&up->ep->sh.conns, 1, __ATOMIC_RELAXED);
	if (up->ep != NULL) /* the last touch: control may free the endpoint once it reads 0 */
		__atomic_store_n(&px_ep(w, up->ep)->conns, px_ep(w, up->ep)->conns - 1,
				 __ATOMIC_RELEASE);
	memset(up, 0, sizeof(*up));
	up->posted = posted; /* a stale run-list entry may still name it (px_run.c) */
	tcp_timer_init(&up->timer.t);
	up->next = px->up_free;
	px->up_free = up_index(px, up);
	px->up_used--;
}

static struct px_upstream *up_alloc(struct px_worker *px)
{
	struct px_upstream *up;

	if (px->up_free == PX_NONE)
		return NULL;
	up = &px->upstreams[px->up_free];
	px->up_free = up->next;
	px->up_used++;
	up->next = up->prev = PX_NONE;
	return up;
}

static int is_listen_port(const struct dp *dp, uint16_t port)
{
	return (dp->listen_ports[port / 64] >> (port % 64)) & 1;
}

/* Open a connection to endpoint e from a port this worker owns. A port whose
 * 4-tuple our own TIME_WAIT TCB still guards is passed over for a free one: the peer may not
 * have finished with that connection yet (our last ACK lost, it in LAST_ACK). Under heavy churn
 * every port may be in TIME_WAIT (ports are fewer than connections per 2*MSL); then the oldest
 * one met is taken over, which RFC 6191 allows because our ISNs and timestamps grow, and
 * tcp_connect clears whatever the peer still holds (RST on its ACK, SYN again). */
static struct tcp_conn *up_connect(struct dp_worker *w, struct px_upstream *up,
				   const struct dp_endpoint *e)
{
	struct px_worker *px = &w->px;
	const uint32_t n = w->dp->n_workers;
	const uint32_t span = (PX_PORT_MAX - PX_PORT_MIN + 1) / n;
	uint16_t tw_port = 0;
	int tw_seen = 0;

	for (int i = 0; i < PX_PORT_TRIES; i++) {
		uint32_t k = px->port_cursor++ % span;
		uint16_t port = (uint16_t)(PX_PORT_MIN - PX_PORT_MIN % n + k * n + w->id);
		enum tcp_state st;
		struct tcp_conn *c;

		if (port < PX_PORT_MIN || is_listen_port(w->dp, port))
			continue;
		st = tcp_tuple_state(&w->ts, 0, port, e->addr, (uint16_t)e->port);
		if (st == TCP_TIME_WAIT) {
			if (tw_port == 0)
				tw_port = port;
			if (++tw_seen < PX_PORT_TW_SKIPS)
				continue;
			port = tw_port;
		} else if (st != TCP_CLOSED) {
			continue;
		}
		c = tcp_connect(&w->ts, 0, port, e->addr, (uint16_t)e->port, &up_ops, up);
		if (c != NULL || rte_errno != EADDRINUSE)
			return c;
	}
	if (tw_port != 0)
		return tcp_connect(&w->ts, 0, tw_port, e->addr, (uint16_t)e->port, &up_ops, up);
	return NULL;
}

struct px_upstream *px_upstream_get(struct dp_worker *w, struct dp_endpoint *ep)
{
	struct px_worker *px = &w->px;
	struct dp_ep_pw *pw = px_ep(w, ep);
	struct px_upstream *up;

	while (pw->idle_head != PX_NONE) {
		up = &px->upstreams[pw->idle_head];
		idle_unlink(w, up);
		if (up->conn == NULL || up->fin || up->rx != NULL) {
			/* closed, or bytes came, since it went idle: its event has not run yet */
			idle_drop(w, up);
			continue;
		}
		px_arm_timer(w, &up->timer, 0);
		px_up_enter(w, up, PX_UP_BUSY);
		up->reused = 1;
		px->cnt[PX_CNT_upstream_reused]++;
		pw->cnt[PX_OBJ_conns_reused]++;
		return up;
	}
	return px_upstream_new(w, ep);
}

/* One of ep's circuit_breaker.max_connections (max; 0: no limit, counted all the same so
 * that a limit set by a reload starts from the truth). The same race as max_requests'
 * slots (px_breaker.c): two workers adding for the last one, at most one stays within max. */
static bool conn_take(struct dp_ep_shared *sh, uint32_t max)
{
	if (max == 0) {
		__atomic_add_fetch(&sh->conns, 1, __ATOMIC_RELAXED);
		return true;
	}
	if (__atomic_load_n(&sh->conns, __ATOMIC_RELAXED) >= max)
		return false;
	if (__atomic_add_fetch(&sh->conns, 1, __ATOMIC_RELAXED) <= max)
		return true;
	__atomic_sub_fetch(&sh->conns, 1, __ATOMIC_RELAXED);
	return false;
}

void px_flushed(struct dp_worker *w)
{
	struct px_worker *px = &w->px;

	/* before the iteration's quiescent report: control frees an endpoint only after one
	 * that follows its last connection's free (dp_objs_gc) */
	for (uint32_t i = 0; i < px->n_conn_rel; i++)
		__atomic_sub_fetch(&px->conn_rel[i]->sh.conns, 1, __ATOMIC_RELAXED);
	px->n_conn_rel = 0;
}

bool px_upstream_ready(const struct dp_worker *w, const struct dp_endpoint *ep)
{
	const struct dp_ep_pw *pw = &ep->pw[w->id];
	uint32_t max = ep->svc->pw[w->id].max_conns;

	return max == 0 || pw->idle_head != PX_NONE ||
	       __atomic_load_n(&ep->sh.conns, __ATOMIC_RELAXED) < max;
}

void px_upstream_starved(struct dp_worker *w, struct dp_endpoint *ep)
{
	/* a waiter re-runs every loop and renews it; 50 ms outlives a loop by far, even one
	 * whose thread the host preempted (the TSC now, not the loop's start) */
	uint64_t until = RTE_MAX(rte_rdtsc(), w->ns.now) + w->dp->hz / 20;

	if (__atomic_load_n(&ep->sh.starved_tsc, __ATOMIC_RELAXED) + w->dp->hz / 1000 < until)
		__atomic_store_n(&ep->sh.starved_tsc, until, __ATOMIC_RELAXED);
}

struct px_upstream *px_upstream_new(struct dp_worker *w, struct dp_endpoint *ep)
{
	struct px_worker *px = &w->px;
	struct dp_ep_pw *pw = px_ep(w, ep);
	struct px_upstream *up;

	if (!conn_take(&ep->sh, ep->svc->pw[w->id].max_conns)) {
		rte_errno = EBUSY; /* at its limit: the caller may wait (px_proxy_start) */
		return NULL;
	}
	up = up_alloc(px);
	if (up == NULL) {
		__atomic_sub_fetch(&ep->sh.conns, 1, __ATOMIC_RELAXED);
		px->cnt[PX_CNT_upstream_pool_empty]++;
		rte_errno = ENOBUFS;
		return NULL;
	}
	up->ep = ep;
	pw->conns++;
	up->conn = up_connect(w, up, ep);
	if (up->conn == NULL) {
		px->cnt[PX_CNT_upstream_connect_failures]++;
		pw->cnt[PX_OBJ_connect_failures]++;
		up_free(w, up);
		rte_errno = ECONNREFUSED;
		return NULL;
	}
	/* a lost SYN or SYN-ACK must not cost the request: SYNs at 0, 1/4 and 3/4 of connect_ms */
	tcp_conn_set_syn_rto(up->conn, up_service(w, up)->connect_ms / 4);
	px_up_enter(w, up, PX_UP_CONNECTING);
	px->cnt[PX_CNT_upstream_connects]++;
	pw->cnt[PX_OBJ_conns]++;
	px_arm_timer(w, &up->timer, up_service(w, up)->connect_ms);
	return up;
}

static inline void store_u64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void store_u32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

void px_try_end(struct dp_worker *w, struct px_upstream *up, enum dp_outcome o)
{
	struct dp_ep_passive *p;
	struct timespec ts;

	if (up->try_done || up->ep == NULL || up->s == NULL)
		return;
	up->try_done = 1;
	/* written by this worker only; control reads the slot every tick from its own core */
	p = &px_ep(w, up->ep)->pas;
	store_u64(&p->n[o], p->n[o] + 1);
	if (o == DP_OUT_ok) {
		store_u32(&p->run_5xx, 0);
		store_u32(&p->run_gw, 0);
		return;
	}
	/* every failure counts in run_5xx (the client of a failed try sees a 5xx: Envoy's
	 * consecutive_5xx does the same with local-origin errors); a 500, 501, 505.. ends a run
	 * of gateway failures */
	store_u32(&p->run_5xx, p->run_5xx + 1);
	store_u32(&p->run_gw, dp_outcome_gateway(o) ? p->run_gw + 1 : 0);
	clock_gettime(CLOCK_REALTIME, &ts); /* vDSO, failures only */
	store_u64(&p->last_fail_ms, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
	__atomic_store_n(&p->last_fail, (uint8_t)o, __ATOMIC_RELAXED);
}

void px_try_fail(struct dp_worker *w, struct px_upstream *up, enum dp_outcome o, uint32_t cond,
		 unsigned int status)
{
	struct px_session *s = up->s;

	px_try_end(w, up, o);
	s->status = (uint16_t)status;
	px_post_up_ev(&w->px, s, px_retry_allowed(w, s, up, cond) ? PX_UPEV_RETRY : PX_UPEV_FAIL);
}

void px_ep_done(struct dp_worker *w, struct dp_endpoint *ep)
{
	struct dp_ep_pw *pw = px_ep(w, ep);

	if (pw->active > 0)
		__atomic_store_n(&pw->active, pw->active - 1, __ATOMIC_RELAXED);
	if (pw->lb != NULL)
		lb_release(pw->lb, pw->lb_idx);
}

/* The request on up is over. complete: the response was read whole, so the connection can be
 * closed gracefully (else it is aborted: it may still carry bytes nobody will read). reuse:
 * it may serve another request, and goes to its endpoint's idle list when there is room. */
void px_upstream_release(struct dp_worker *w, struct px_upstream *up, bool complete, bool reuse)
{
	struct px_worker *px = &w->px;
	const struct dp_svc_pw *sc = up_service(w, up);
	const struct dp_ep_pw *pw = px_ep(w, up->ep);

	up->s = NULL;
	px_arm_timer(w, &up->timer, 0);
	if (reuse && up->rx != NULL) {
		/* bytes beyond the response we framed: nobody asked for them */
		px->cnt[PX_CNT_upstream_not_reused]++;
		reuse = false;
	}
	/* an endpoint drained, in maintenance or out of the snapshot keeps no idle connection;
	 * nor one at its max_connections that a request of some worker waits for (its slot goes
	 * to whoever takes it first) */
	if (reuse && sc->max_conns != 0 &&
	    __atomic_load_n(&up->ep->sh.starved_tsc, __ATOMIC_RELAXED) > w->ns.now)
		reuse = false;
	if (reuse && up->state == PX_UP_BUSY && pw->lb != NULL && pw->lb->eps[pw->lb_idx].usable &&
	    pw->n_idle < sc->pool_max_idle) {
		idle_push(w, up);
		if (sc->max_conns != 0) {
			up->idle_until =
				w->ns.now + (uint64_t)sc->pool_idle_timeout_ms * w->dp->hz / 1000;
			px_arm_timer(w, &up->timer,
				     RTE_MIN(sc->pool_idle_timeout_ms, (uint32_t)PX_IDLE_CHECK_MS));
		} else {
			px_arm_timer(w, &up->timer, sc->pool_idle_timeout_ms);
		}
		return;
	}
	if (up->conn != NULL) { /* NULL: the stack ended it already */
		if (complete)
			tcp_close(up->conn);
		else
			tcp_abort(up->conn);
	}
	up_free(w, up);
}

/* The connection's timer (connect, response, or pool idle timeout): from the worker's
 * timer wheel, in the loop. A session still waiting is told the outcome. */
void px_upstream_timer(struct dp_worker *w, struct px_upstream *up)
{
	struct px_worker *px = &w->px;
	struct px_session *s = up->s;

	if (up->state == PX_UP_IDLE) {
		const struct dp_svc_pw *sc = up_service(w, up);

		/* under max_connections: kept while nobody waits for its endpoint */
		if (sc->max_conns != 0 && w->ns.now < up->idle_until &&
		    __atomic_load_n(&up->ep->sh.starved_tsc, __ATOMIC_RELAXED) <= w->ns.now) {
			uint64_t left = (up->idle_until - w->ns.now) * 1000 / w->dp->hz + 1;

			px_arm_timer(w, &up->timer,
				     (uint32_t)RTE_MIN(left, (uint64_t)PX_IDLE_CHECK_MS));
			return;
		}
		px->cnt[PX_CNT_upstream_idle_closed]++;
		idle_unlink(w, up);
		if (up->conn != NULL)
			tcp_close(up->conn);
		up_free(w, up);
		return;
	}
	if (s != NULL && s->up_ev != PX_UPEV_NONE)
		return; /* the outcome is decided already: the session acts on it */
	if (up->state == PX_UP_CONNECTING)
		px->cnt[PX_CNT_upstream_connect_timeouts]++;
	else
		px->cnt[PX_CNT_upstream_response_timeouts]++;
	if (s == NULL) {
		if (up->conn != NULL)
			tcp_abort(up->conn);
		up_free(w, up);
		return;
	}
	/* 504 while nothing of the response went out (or another try when a connect failure or,
	 * past per_try_ms, a response timeout may be retried); otherwise the client connection
	 * cannot say anything useful any more and is aborted with the upstream one */
	if (up->state == PX_UP_CONNECTING) {
		px_try_fail(w, up, DP_OUT_connect_timeout, DP_RETRY_CONNECT_FAILURE, 504);
	} else if (!up->head_done) {
		px_try_fail(w, up, DP_OUT_response_timeout,
			    s->rq != NULL && s->rq->rt.per_try ? DP_RETRY_RESPONSE_TIMEOUT : 0,
			    504);
	} else {
		px_post_up_ev(px, s, PX_UPEV_ABORT);
	}
}

/* An idle connection that can serve no more: closed (it said FIN) or aborted (it broke the
 * protocol, or is gone), and freed. */
static void idle_drop(struct dp_worker *w, struct px_upstream *up)
{
	if (up->conn != NULL && up->rx != NULL)
		w->px.cnt[PX_CNT_upstream_bad_responses]++; /* bytes nobody asked for */
	if (up->conn != NULL) {
		if (up->rx == NULL && up->fin)
			tcp_close(up->conn);
		else
			tcp_abort(up->conn);
	}
	up_free(w, up);
}

void px_upstream_closed(struct dp_worker *w, struct px_upstream *up)
{
	struct px_worker *px = &w->px;
	struct px_session *s = up->s;

	if (up->reason == TCP_CLOSE_REFUSED || up->state == PX_UP_CONNECTING) {
		px->cnt[PX_CNT_upstream_connect_failures]++;
		px_ep(w, up->ep)->cnt[PX_OBJ_connect_failures]++;
	} else if (up->reason != TCP_CLOSE_NORMAL) {
		px->cnt[PX_CNT_upstream_resets]++;
	}
	up->keep = 0;
	if (up->state == PX_UP_IDLE)
		idle_unlink(w, up);
	if (s == NULL) {
		up_free(w, up);
		return;
	}
	if (s->up_ev != PX_UPEV_NONE)
		return; /* the session acts on its outcome first and releases this one */
	if (!up->head_done) {
		/* nothing reached the client yet: a real answer, or another try */
		if (up->reason == TCP_CLOSE_REFUSED || up->state == PX_UP_CONNECTING)
			px_try_fail(w, up, DP_OUT_connect_refused, DP_RETRY_CONNECT_FAILURE, 502);
		else if (up->reason == TCP_CLOSE_NORMAL && !up->rx_any)
			px_try_fail(w, up, DP_OUT_empty_response, DP_RETRY_EMPTY_RESPONSE, 502);
		else
			px_try_fail(w, up, DP_OUT_reset, DP_RETRY_RESET, 502);
	} else {
		px_post_up_ev(px, s, PX_UPEV_ABORT); /* the response was cut: so is the client */
	}
	s->up = NULL;
	up->s = NULL;
	px_ep_done(w, up->ep);
	up_free(w, up);
}

bool px_upstream_idle_step(struct dp_worker *w, struct px_upstream *up, unsigned int ev)
{
	if (up->state != PX_UP_IDLE)
		return false;
	if (ev & PX_EV_CLOSED) {
		px_upstream_closed(w, up);
	} else if (up->fin || up->rx != NULL) {
		idle_unlink(w, up);
		idle_drop(w, up);
	}
	return true;
}

/* ---- TCP callbacks of upstream connections: they record, the run list acts ---- */

static inline struct px_worker *up_px(struct tcp_conn *c)
{
	return &container_of(tcp_conn_stack(c), struct dp_worker, ts)->px;
}

static void up_on_connected(struct tcp_conn *c)
{
	px_post_upstream(up_px(c), tcp_conn_user(c), PX_EV_CONNECTED);
}

static void up_on_data(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct px_upstream *up = tcp_conn_user(c);

	up->rx_any = 1;
	if (up->rx == NULL) {
		up->rx = m;
	} else if (rte_pktmbuf_chain(up->rx, m) != 0) {
		rte_pktmbuf_free(m);
		up->broken = 1;
	}
	px_post_upstream(up_px(c), up, PX_EV_READ);
}

static void up_on_writable(struct tcp_conn *c)
{
	px_post_upstream(up_px(c), tcp_conn_user(c), PX_EV_WRITE);
}

static void up_on_peer_fin(struct tcp_conn *c)
{
	struct px_upstream *up = tcp_conn_user(c);

	/* the response may end here (close-delimited body) or be cut short */
	up->keep = 0;
	up->fin = 1;
	px_post_upstream(up_px(c), up, PX_EV_READ);
}

static void up_on_closed(struct tcp_conn *c, enum tcp_close_reason reason)
{
	struct px_upstream *up = tcp_conn_user(c);

	up->conn = NULL; /* the TCB is gone once this returns */
	up->reason = (uint8_t)reason;
	px_post_upstream(up_px(c), up, PX_EV_CLOSED);
}

static const struct tcp_ops up_ops = {
	.on_connected = up_on_connected,
	.on_data = up_on_data,
	.on_writable = up_on_writable,
	.on_peer_fin = up_on_peer_fin,
	.on_closed = up_on_closed,
};

/* ---- set-up ---- */

int px_upstream_init(struct dp_worker *w)
{
	const struct dp_conf *conf = w->dp->conf;
	struct px_worker *px = &w->px;
	uint32_t n = conf->dataplane.max_connections, max_head = 0;

	px->upstreams = rte_zmalloc_socket("px_upstreams", (size_t)n * sizeof(struct px_upstream),
					   RTE_CACHE_LINE_SIZE, w->socket);
	if (px->upstreams == NULL)
		return -ENOMEM;
	px->n_upstreams = n;
	for (uint32_t i = 0; i < n; i++) {
		tcp_timer_init(&px->upstreams[i].timer.t);
		px->upstreams[i].next = i + 1 < n ? i + 1 : PX_NONE;
	}
	px->up_free = 0;
	px->port_cursor = (uint32_t)rte_rand();

	for (uint32_t i = 0; i < conf->n_listeners; i++)
		max_head = RTE_MAX(max_head, conf->listeners[i].limits.max_header_bytes);
	max_head = RTE_MAX(max_head, (uint32_t)HTTP_DEFAULT_MAX_HEADER_BYTES);
	px->scratch = rte_malloc_socket("px_scratch", max_head, 0, w->socket);
	px->scratch_len = max_head;
	if (px->scratch == NULL)
		return -ENOMEM;
	return 0;
}

void px_upstream_fini(struct dp_worker *w)
{
	struct px_worker *px = &w->px;

	for (uint32_t i = 0; px->upstreams != NULL && i < px->n_upstreams; i++)
		rte_pktmbuf_free(px->upstreams[i].rx); /* connections go with the TCP stack */
	rte_free(px->upstreams);
	px->upstreams = NULL;
	rte_free(px->scratch);
	px->scratch = NULL;
}

const uint64_t *px_listener_counters(const struct dp_worker *w, uint32_t l)
{
	const struct dp_snapshot *s = w->dp->snapshot;

	return s != NULL && l < s->n_lsts ? s->lsts[l]->pw[w->id].cnt : NULL;
}

const uint64_t *px_service_counters(const struct dp_worker *w, uint32_t svc)
{
	const struct dp_snapshot *s = w->dp->snapshot;

	return s != NULL && svc < s->n_svcs ? s->svcs[svc].obj->pw[w->id].cnt : NULL;
}

const uint64_t *px_endpoint_counters(const struct dp_worker *w, uint32_t svc, uint32_t ep)
{
	const struct dp_ep_state *st = dp_snapshot_ep(w->dp->snapshot, svc, ep);

	return st != NULL ? st->obj->pw[w->id].cnt : NULL;
}

static void close_idle(struct dp_worker *w, struct dp_ep_pw *pw)
{
	struct px_worker *px = &w->px;

	while (pw->idle_head != PX_NONE) {
		struct px_upstream *up = &px->upstreams[pw->idle_head];

		idle_unlink(w, up);
		px->cnt[PX_CNT_upstream_idle_closed]++;
		if (up->conn != NULL)
			tcp_close(up->conn);
		up_free(w, up);
	}
}

/* Apply the services of a new snapshot: each service's balancer of this worker takes over
 * from the one of old (in-flight counts and rotation follow their endpoints by identity, so
 * least_connections stays right across reloads and weight changes), endpoint states go to
 * the balancers, and idle connections of endpoints that take no new requests or left the
 * snapshot are closed. Requests in flight finish where they are; their release finds the
 * endpoint's current balancer through its per-worker slot (none once it left). Worker. */
void px_apply_services(struct dp_worker *w, const struct dp_snapshot *old,
		       const struct dp_snapshot *snap)
{
	int32_t map[LB_MAX_ENDPOINTS];
	const uint16_t id = w->id;

	for (uint32_t v = 0; v < snap->n_svcs; v++) {
		const struct dp_snap_svc *ss = &snap->svcs[v];
		const struct dp_service_conf *sc = &snap->conf->services[v];
		struct dp_svc_pw *spw = px_svc(w, ss->obj);
		struct lb_state *lb = ss->lb[id];
		struct lb_state *old_lb = old != NULL && spw->epoch == old->epoch ? spw->lb : NULL;
		bool panic;

		for (uint32_t e = 0; e < ss->n_eps; e++) {
			const struct dp_ep_pw *pw = px_ep(w, ss->eps[e].obj);

			map[e] = old_lb != NULL && pw->lb == old_lb ? pw->lb_idx : -1;
		}
		lb_carry(lb, old_lb, map);
		/* healthy endpoints only; in panic every serving one (dp_snapshot_panic) */
		panic = dp_snapshot_panic(snap, v);
		for (uint32_t e = 0; e < ss->n_eps; e++) {
			const struct dp_ep_state *st = &ss->eps[e];
			struct dp_ep_pw *pw = px_ep(w, st->obj);

			lb->eps[e].weight = st->weight;
			lb->eps[e].usable = panic ? dp_ep_serving(st) : dp_ep_healthy(st);
			lb->eps[e].active = pw->active;
			lb->eps[e].since_ms = st->since_ms;
			pw->lb = lb;
			pw->lb_idx = (int32_t)e;
			pw->epoch = snap->epoch;
			if (st->admin != DP_EP_READY)
				close_idle(w, pw);
		}
		lb_touch(lb);
		spw->lb = lb;
		spw->epoch = snap->epoch;
		spw->connect_ms = sc->connect_ms;
		spw->response_ms = sc->response_ms;
		spw->pool_max_idle = sc->pool_max_idle_per_endpoint;
		spw->pool_idle_timeout_ms = sc->pool_idle_timeout_ms;
		spw->per_try_ms = sc->per_try_ms;
		spw->retry_count = sc->retries.count;
		spw->retry_on = sc->retries.on;
		spw->retry_budget_percent = sc->retries.budget_percent;
		spw->retry_max_body = sc->retries.max_body_bytes;
		spw->max_conns = sc->breaker.max_connections;
	}
	/* what old had and snap has not */
	for (uint32_t v = 0; old != NULL && v < old->n_svcs; v++) {
		const struct dp_snap_svc *os = &old->svcs[v];
		struct dp_svc_pw *spw = px_svc(w, os->obj);

		if (spw->epoch != snap->epoch)
			spw->lb = NULL;
		for (uint32_t e = 0; e < os->n_eps; e++) {
			struct dp_ep_pw *pw = px_ep(w, os->eps[e].obj);

			if (pw->epoch == snap->epoch)
				continue;
			pw->lb = NULL;
			pw->lb_idx = -1;
			close_idle(w, pw);
		}
	}
}
