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

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "px_impl.h"

#define PX_PORT_MIN 32768
#define PX_PORT_MAX 60999
#define PX_PORT_TRIES 64
#define PX_PORT_TW_SKIPS 8 /* ports found in TIME_WAIT passed over before taking one over */

static const struct tcp_ops up_ops;

static inline uint32_t up_index(const struct px_worker *px, const struct px_upstream *up)
{
	return (uint32_t)(up - px->upstreams);
}

static const struct dp_service_conf *up_service(const struct dp_worker *w, uint32_t svc)
{
	return &w->dp->conf->services[svc];
}

bool px_is_upstream_timer(struct dp_worker *w, struct tcp_timer *t, struct px_upstream **up)
{
	struct px_worker *px = &w->px;
	const char *p = (const char *)t, *lo = (const char *)px->upstreams;

	if (px->upstreams == NULL || p < lo || p >= (const char *)(px->upstreams + px->n_upstreams))
		return false;
	*up = container_of(t, struct px_upstream, timer);
	return true;
}

/* ---- idle lists ---- */

static void idle_push(struct px_worker *px, struct px_upstream *up)
{
	struct px_service_rt *rt = &px->svcs[up->svc];
	uint32_t idx = up_index(px, up);

	up->prev = PX_NONE;
	up->next = rt->idle_head[up->ep];
	if (up->next != PX_NONE)
		px->upstreams[up->next].prev = idx;
	rt->idle_head[up->ep] = idx;
	rt->n_idle[up->ep]++;
	up->state = PX_UP_IDLE;
}

static void idle_unlink(struct px_worker *px, struct px_upstream *up)
{
	struct px_service_rt *rt = &px->svcs[up->svc];

	if (up->prev != PX_NONE)
		px->upstreams[up->prev].next = up->next;
	else
		rt->idle_head[up->ep] = up->next;
	if (up->next != PX_NONE)
		px->upstreams[up->next].prev = up->prev;
	rt->n_idle[up->ep]--;
	up->next = up->prev = PX_NONE;
}

/* ---- pool ---- */

static void up_free(struct dp_worker *w, struct px_upstream *up)
{
	struct px_worker *px = &w->px;

	tcp_wheel_cancel(&px->wheel, &up->timer);
	rte_pktmbuf_free(up->rx);
	memset(up, 0, sizeof(*up));
	tcp_timer_init(&up->timer);
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

/* Open a connection to endpoint ep of service svc from a port this worker owns. A port whose
 * 4-tuple our own TIME_WAIT TCB still guards is passed over for a free one: the peer may not
 * have finished with that connection yet (our last ACK lost, it in LAST_ACK). Under heavy churn
 * every port may be in TIME_WAIT (ports are fewer than connections per 2*MSL); then the oldest
 * one met is taken over, which RFC 6191 allows because our ISNs and timestamps grow, and
 * tcp_connect clears whatever the peer still holds (RST on its ACK, SYN again). */
static struct tcp_conn *up_connect(struct dp_worker *w, struct px_upstream *up,
				   const struct dp_endpoint_conf *e)
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

struct px_upstream *px_upstream_get(struct dp_worker *w, uint32_t svc, uint32_t ep)
{
	struct px_worker *px = &w->px;
	struct px_service_rt *rt = &px->svcs[svc];
	const struct dp_service_conf *sc = up_service(w, svc);
	struct px_upstream *up;

	if (rt->idle_head[ep] != PX_NONE) {
		up = &px->upstreams[rt->idle_head[ep]];
		idle_unlink(px, up);
		tcp_wheel_cancel(&px->wheel, &up->timer);
		up->state = PX_UP_BUSY;
		px->cnt[PX_CNT_upstream_reused]++;
		rt->ep_cnt[ep][PX_OBJ_conns_reused]++;
		return up;
	}
	up = up_alloc(px);
	if (up == NULL) {
		px->cnt[PX_CNT_upstream_pool_empty]++;
		return NULL;
	}
	up->svc = (uint16_t)svc;
	up->ep = (uint16_t)ep;
	up->conn = up_connect(w, up, &sc->endpoints[ep]);
	if (up->conn == NULL) {
		px->cnt[PX_CNT_upstream_connect_failures]++;
		rt->ep_cnt[ep][PX_OBJ_connect_failures]++;
		up_free(w, up);
		return NULL;
	}
	/* a lost SYN or SYN-ACK must not cost the request: SYNs at 0, 1/4 and 3/4 of connect_ms */
	tcp_conn_set_syn_rto(up->conn, sc->connect_ms / 4);
	up->state = PX_UP_CONNECTING;
	px->cnt[PX_CNT_upstream_connects]++;
	rt->ep_cnt[ep][PX_OBJ_conns]++;
	px_arm_timer(w, &up->timer, sc->connect_ms);
	return up;
}

/* The request on up is over. complete: the response was read whole, so the connection can be
 * closed gracefully (else it is aborted: it may still carry bytes nobody will read). reuse:
 * it may serve another request, and goes to its endpoint's idle list when there is room. */
void px_upstream_release(struct dp_worker *w, struct px_upstream *up, bool complete, bool reuse)
{
	struct px_worker *px = &w->px;
	const struct dp_service_conf *sc = up_service(w, up->svc);

	up->s = NULL;
	tcp_wheel_cancel(&px->wheel, &up->timer);
	/* an endpoint drained or in maintenance keeps no idle connection */
	if (reuse && up->rx == NULL && up->state == PX_UP_BUSY &&
	    px->svcs[up->svc].lb->eps[up->ep].usable &&
	    px->svcs[up->svc].n_idle[up->ep] < sc->pool_max_idle_per_endpoint) {
		idle_push(px, up);
		px_arm_timer(w, &up->timer, sc->pool_idle_timeout_ms);
		return;
	}
	if (complete)
		tcp_close(up->conn);
	else
		tcp_abort(up->conn);
	up_free(w, up);
}

void px_upstream_timer(struct dp_worker *w, struct px_upstream *up)
{
	struct px_worker *px = &w->px;
	struct px_session *s = up->s;

	if (up->state == PX_UP_IDLE) {
		px->cnt[PX_CNT_upstream_idle_closed]++;
		idle_unlink(px, up);
		tcp_close(up->conn);
		up_free(w, up);
		return;
	}
	if (up->state == PX_UP_CONNECTING)
		px->cnt[PX_CNT_upstream_connect_timeouts]++;
	else
		px->cnt[PX_CNT_upstream_response_timeouts]++;
	if (s == NULL) {
		tcp_abort(up->conn);
		up_free(w, up);
		return;
	}
	/* 504 while nothing of the response went out; otherwise the client connection cannot
	 * say anything useful any more and is aborted with the upstream one */
	if (!up->head_done) {
		px_proxy_detach(w, s);
		s->close_after = 1;
		if (px_respond_error(w, s, 504) != 0 || s->resp_left == 0)
			px_session_run(w, s);
		return;
	}
	px_session_free(w, s, PX_END_ABORT);
}

/* ---- TCP callbacks of upstream connections ---- */

static void up_on_connected(struct tcp_conn *c)
{
	struct px_upstream *up = tcp_conn_user(c);
	struct dp_worker *w = container_of(tcp_conn_stack(c), struct dp_worker, ts);

	up->state = PX_UP_BUSY;
	tcp_wheel_cancel(&w->px.wheel, &up->timer);
	if (up->s != NULL && up->s->state == PX_WAIT_RESP)
		px_arm_timer(w, &up->timer, up_service(w, up->svc)->response_ms);
}

static void up_on_data(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct px_upstream *up = tcp_conn_user(c);
	struct dp_worker *w = container_of(tcp_conn_stack(c), struct dp_worker, ts);

	if (up->state == PX_UP_IDLE || up->s == NULL) {
		/* bytes on an idle connection: the upstream broke the protocol; drop it */
		rte_pktmbuf_free(m);
		w->px.cnt[PX_CNT_upstream_bad_responses]++;
		if (up->state == PX_UP_IDLE)
			idle_unlink(&w->px, up);
		tcp_abort(c);
		up_free(w, up);
		return;
	}
	if (up->rx == NULL)
		up->rx = m;
	else if (rte_pktmbuf_chain(up->rx, m) != 0) {
		rte_pktmbuf_free(m);
		px_session_free(w, up->s, PX_END_ABORT);
		return;
	}
	/* progress: a response stalls for response_ms at most, a tunnel idles for the
	 * listener's idle_timeout_ms */
	if (up->tunnel)
		px_arm_timer(w, &up->s->timer, px_session_listener(up->s)->limits.idle_timeout_ms);
	else if (up->head_done)
		px_arm_timer(w, &up->timer, up_service(w, up->svc)->response_ms);
	px_proxy_response(w, up);
}

static void up_on_writable(struct tcp_conn *c)
{
	struct px_upstream *up = tcp_conn_user(c);
	struct dp_worker *w = container_of(tcp_conn_stack(c), struct dp_worker, ts);

	if (up->s != NULL && (up->s->state == PX_FWD_BODY || up->s->state == PX_TUNNEL))
		px_session_run(w, up->s);
}

static void up_on_peer_fin(struct tcp_conn *c)
{
	struct px_upstream *up = tcp_conn_user(c);
	struct dp_worker *w = container_of(tcp_conn_stack(c), struct dp_worker, ts);

	up->keep = 0;
	up->fin = 1;
	if (up->state == PX_UP_IDLE) {
		idle_unlink(&w->px, up);
		tcp_close(c);
		up_free(w, up);
		return;
	}
	/* the response may end here (close-delimited body) or be cut short */
	if (up->s != NULL)
		px_proxy_response(w, up); /* forwards what is left, then sees the end */
}

static void up_on_closed(struct tcp_conn *c, enum tcp_close_reason reason)
{
	struct px_upstream *up = tcp_conn_user(c);
	struct dp_worker *w = container_of(tcp_conn_stack(c), struct dp_worker, ts);
	struct px_worker *px = &w->px;
	struct px_session *s = up->s;

	if (reason == TCP_CLOSE_REFUSED || up->state == PX_UP_CONNECTING) {
		px->cnt[PX_CNT_upstream_connect_failures]++;
		px->svcs[up->svc].ep_cnt[up->ep][PX_OBJ_connect_failures]++;
	} else if (reason != TCP_CLOSE_NORMAL)
		px->cnt[PX_CNT_upstream_resets]++;
	if (up->state == PX_UP_IDLE)
		idle_unlink(px, up);
	if (s == NULL) {
		up_free(w, up);
		return;
	}
	s->up = NULL;
	up->s = NULL;
	lb_release(px->svcs[up->svc].lb, (int)up->ep);
	if (!up->head_done) {
		/* nothing reached the client yet: a real answer */
		up_free(w, up);
		s->close_after = 1;
		s->state = PX_WAIT_RESP;
		px_respond_error(w, s, 502);
		px_session_run(w, s);
		return;
	}
	up_free(w, up);
	px_session_free(w, s, PX_END_ABORT); /* the response was cut: so must the client be */
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
		tcp_timer_init(&px->upstreams[i].timer);
		px->upstreams[i].next = i + 1 < n ? i + 1 : PX_NONE;
	}
	px->up_free = 0;
	px->port_cursor = (uint32_t)rte_rand();

	px->n_svcs = conf->n_services;
	px->svcs = rte_zmalloc_socket("px_svcs", (conf->n_services + 1) * sizeof(*px->svcs), 0,
				      w->socket);
	if (px->svcs == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < conf->n_services; i++) {
		const struct dp_service_conf *sc = &conf->services[i];
		uint32_t weights[LB_MAX_ENDPOINTS];
		struct px_service_rt *rt = &px->svcs[i];

		for (uint32_t e = 0; e < sc->n_endpoints && e < LB_MAX_ENDPOINTS; e++)
			weights[e] = sc->endpoints[e].weight;
		rt->lb = lb_create(lb_by_balance(sc->balance), sc->n_endpoints, weights);
		rt->idle_head =
			rte_malloc_socket("px_idle", (sc->n_endpoints + 1) * 4, 0, w->socket);
		rt->n_idle = rte_zmalloc_socket("px_idle", (sc->n_endpoints + 1) * 4, 0, w->socket);
		rt->ep_cnt =
			rte_zmalloc_socket("px_ep_cnt", (sc->n_endpoints + 1) * sizeof(*rt->ep_cnt),
					   RTE_CACHE_LINE_SIZE, w->socket);
		if (rt->lb == NULL || rt->idle_head == NULL || rt->n_idle == NULL ||
		    rt->ep_cnt == NULL)
			return -ENOMEM;
		for (uint32_t e = 0; e < sc->n_endpoints; e++)
			rt->idle_head[e] = PX_NONE;
	}
	for (uint32_t i = 0; i < conf->n_listeners; i++)
		max_head = RTE_MAX(max_head, conf->listeners[i].limits.max_header_bytes);
	max_head = RTE_MAX(max_head, (uint32_t)HTTP_DEFAULT_MAX_HEADER_BYTES);
	px->scratch = rte_malloc_socket("px_scratch", max_head, 0, w->socket);
	px->scratch_len = max_head;
	px->n_hdrs = 1024;
	px->hdrs = rte_malloc_socket("px_hdrs", px->n_hdrs * sizeof(*px->hdrs), 0, w->socket);
	if (px->scratch == NULL || px->hdrs == NULL)
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
	for (uint32_t i = 0; px->svcs != NULL && i < px->n_svcs; i++) {
		lb_destroy(px->svcs[i].lb);
		rte_free(px->svcs[i].idle_head);
		rte_free(px->svcs[i].n_idle);
		rte_free(px->svcs[i].ep_cnt);
	}
	rte_free(px->svcs);
	px->svcs = NULL;
	rte_free(px->scratch);
	rte_free(px->hdrs);
	px->scratch = NULL;
	px->hdrs = NULL;
}

const uint64_t *px_service_counters(const struct dp_worker *w, uint32_t svc)
{
	return w->px.svcs != NULL && svc < w->px.n_svcs ? w->px.svcs[svc].cnt : NULL;
}

const uint64_t *px_endpoint_counters(const struct dp_worker *w, uint32_t svc, uint32_t ep)
{
	if (w->px.svcs == NULL || svc >= w->px.n_svcs ||
	    ep >= w->dp->conf->services[svc].n_endpoints)
		return NULL;
	return w->px.svcs[svc].ep_cnt[ep];
}

/* Apply the endpoint states of a new snapshot: weights and usability to the balancers, and
 * idle connections to endpoints that take no new requests closed. Requests in flight finish
 * where they are. Worker, once per snapshot epoch. */
void px_apply(struct dp_worker *w, const struct dp_snapshot *snap)
{
	struct px_worker *px = &w->px;

	for (uint32_t v = 0; v < px->n_svcs && v < snap->conf->n_services; v++) {
		struct px_service_rt *rt = &px->svcs[v];

		for (uint32_t e = 0; e < rt->lb->n; e++) {
			const struct dp_ep_state *st = dp_snapshot_ep(snap, v, e);

			if (st == NULL)
				continue;
			rt->lb->eps[e].weight = st->weight;
			rt->lb->eps[e].usable = st->admin == DP_EP_READY;
			while (st->admin != DP_EP_READY && rt->idle_head[e] != PX_NONE) {
				struct px_upstream *up = &px->upstreams[rt->idle_head[e]];

				idle_unlink(px, up);
				px->cnt[PX_CNT_upstream_idle_closed]++;
				tcp_close(up->conn);
				up_free(w, up);
			}
		}
	}
	px->epoch = snap->epoch;
}
