/* SPDX-License-Identifier: BSD-3-Clause
 * HTTP/1.1 sessions on client connections: receive queue, request parsing, routing, direct
 * responses, keep-alive and pipelining, header and idle timeouts.
 *
 * One close path: every way a session ends goes through px_session_free(), which either closes
 * the TCP connection (we end it) or not (the stack already ended it: on_closed).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp_objs.h"
#include "dp_worker.h"
#include "px.h"
#include "px_impl.h"

#define PX_IOV_MAX 64	  /* segments the head parser looks at in one call */
#define PX_LINGER_MS 5000 /* how long a closing connection's late bytes are read and dropped */

const char *const px_counter_names[PX_CNT_MAX] = {
#define PX_CNT_NAME(name) #name,
	PX_COUNTERS(PX_CNT_NAME)
#undef PX_CNT_NAME
};

const char *const px_obj_counter_names[PX_OBJ_MAX] = {
#define PX_OBJ_NAME(name) #name,
	PX_OBJ_COUNTERS(PX_OBJ_NAME)
#undef PX_OBJ_NAME
};

const char *const px_state_names[PX_ST_MAX] = {
#define PX_ST_NAME(name) #name,
	PX_STATE_COUNTERS(PX_ST_NAME)
#undef PX_ST_NAME
};

const char *const px_error_names[PX_ERR_MAX] = {
#define PX_ERR_NAME(name, status, desc) "refused_" #name,
	HTTP_ERRORS(PX_ERR_NAME)
#undef PX_ERR_NAME
};

static const struct tcp_ops px_ops;

static inline struct px_worker *px_of(struct dp_worker *w)
{
	return &w->px;
}

/* ---- receive queue ---- */

static uint32_t rx_len(const struct px_session *s)
{
	return s->rx == NULL ? 0 : rte_pktmbuf_pkt_len(s->rx);
}

/* Queue m (ownership passes in every case). -E2BIG when the chain cannot take more segments,
 * which rx_coalesce keeps from happening to any client that sends whole requests. */
static int rx_append(struct px_session *s, struct rte_mbuf *m)
{
	if (s->rx == NULL) {
		s->rx = m;
		return 0;
	}
	if (rte_pktmbuf_chain(s->rx, m) != 0) {
		rte_pktmbuf_free(m);
		return -E2BIG;
	}
	return 0;
}

/* Many small segments pin many buffers and slow the head parser (which maps at most
 * PX_IOV_MAX of them): copy them into as few full mbufs as needed (DESIGN.md, Memory). */
static void rx_coalesce(struct dp_worker *w, struct px_session *s)
{
	int rc = px_chain_coalesce(w->pool, &s->rx);

	if (rc > 0)
		px_of(w)->cnt[PX_CNT_rx_coalesced]++;
	else if (rc < 0)
		px_of(w)->cnt[PX_CNT_drop_no_mbuf]++; /* the original chain is kept */
}

/* ---- timers ---- */

static void arm_timer(struct dp_worker *w, struct px_session *s, uint32_t ms)
{
	px_arm_timer(w, &s->timer, ms);
}

/* ---- session lifecycle ---- */

static struct px_session *session_alloc(struct px_worker *px)
{
	struct px_session *s;

	if (px->free_head == UINT32_MAX)
		return NULL;
	s = &px->sessions[px->free_head];
	px->free_head = s->next_free;
	px->used++;
	return s;
}

/* The one close path. how: we end the TCP connection (graceful close after what is queued,
 * or abort), or the stack already ended it. A request still on an upstream connection is
 * abandoned with it. */
void px_session_free(struct dp_worker *w, struct px_session *s, enum px_end how)
{
	struct px_worker *px = px_of(w);
	uint32_t idx = (uint32_t)(s - px->sessions);
	uint8_t posted;

	px_timer_off(w, &s->timer);
	if (s->conn != NULL)
		px_client_conn_release(w, s);
	px_obs_end(w, s);
	if (s->ev & PX_EV_EVICT)
		px->n_evicting--; /* posted, never to run */
	if (s->up != NULL)
		px_proxy_detach(w, s);
	px_cb_unqueue(w, s);
	px_retry_end(w, s);
	px_req_put(w, s); /* the request is over, whatever it was doing */
	if (s->conn == NULL)
		how = PX_END_CLOSED_BY_STACK; /* its TCB is gone already */
	if (how == PX_END_CLOSE && !s->peer_fin && s->state != PX_DONE) {
		/* Lingering close: data the client is still sending (a body we refused, pipelined
		 * requests) would draw a RST after tcp_close, and a RST can destroy our answer in
		 * the client's receive buffer before it is read. So: FIN after the answer, read
		 * and drop until the client's FIN or PX_LINGER_MS, then close. */
		rte_pktmbuf_free(s->rx);
		s->rx = NULL;
		px_session_enter(w, s, PX_DONE);
		if (tcp_shutdown(s->conn) == 0) {
			px_arm_timer(w, &s->timer, PX_LINGER_MS);
			return;
		}
	}
	if (how == PX_END_CLOSE)
		tcp_close(s->conn);
	else if (how == PX_END_ABORT)
		tcp_abort(s->conn);
	rte_pktmbuf_free(s->rx);
	/* the last touch of the listener: control may free it once every worker's count is 0 */
	__atomic_store_n(&s->lst->conns, s->lst->conns - 1, __ATOMIC_RELEASE);
	px->cnt[PX_CNT_conns_closed]++;
	posted = s->posted;
	memset(s, 0, sizeof(*s));
	s->posted = posted; /* a stale run-list entry may still name it (px_run.c) */
	s->next_free = px->free_head;
	px->free_head = idx;
	px->used--;
}

void px_request_reset(struct dp_worker *w, struct px_session *s)
{
	const struct dp_limits_conf *l = &s->lst->limits;

	px_retry_end(w, s);
	px_session_enter(w, s, PX_HEAD);
	s->head_sent = 0;
	s->route = -1;
	s->svc = NULL;
	s->resp_left = 0;
	if (rx_len(s) > 0 && s->rq != NULL)
		px_req_begin(w, s); /* pipelined: the next request is here, it keeps the state */
	else
		px_req_put(w, s); /* idle: an idle session holds no px_req */
	/* Idle until the first byte of the next request, then the header timeout. */
	arm_timer(w, s, rx_len(s) > 0 ? l->header_timeout_ms : l->idle_timeout_ms);
}

/* ---- routing ---- */

static bool host_matches(const char *pattern, const uint8_t *host, uint32_t len)
{
	size_t plen = strlen(pattern);

	if (pattern[0] == '*' && pattern[1] == '.') {
		/* "*.example.com": one or more labels before ".example.com" */
		size_t slen = plen - 1; /* ".example.com" */

		return len > slen &&
		       strncasecmp((const char *)host + len - slen, pattern + 1, slen) == 0;
	}
	return len == plen && strncasecmp((const char *)host, pattern, plen) == 0;
}

/* Span s of a head parsed from iov: in place when it lies in the first segment (a head that
 * came in one segment, the common case), else as http_span_ptr finds it. */
static inline const uint8_t *head_span(const struct http_iov *iov, unsigned int n,
				       struct http_span s, uint8_t *buf, uint32_t cap)
{
	if (n > 0 && s.len <= cap && (uint64_t)s.off + s.len <= iov[0].len)
		return iov[0].base + s.off;
	return http_span_ptr(iov, n, s, buf, cap);
}

static int route_match(const struct dp_listener_conf *l, const struct http_msg *req,
		       const struct http_iov *iov, unsigned int n)
{
	uint8_t host_buf[256], path_buf[1024]; /* path_prefix is at most 1024 bytes */
	struct http_span hs = { req->host.off, req->host_name_len };
	const uint8_t *host = NULL;
	bool host_read = false; /* looked up once, for the first route that matches on it */

	for (uint32_t i = 0; i < l->n_routes; i++) {
		const struct dp_route_conf *r = &l->routes[i];

		if (r->match_host != NULL && !host_read) {
			host_read = true;
			host = hs.len <= sizeof(host_buf)
				       ? head_span(iov, n, hs, host_buf, sizeof(host_buf))
				       : NULL;
		}
		if (r->match_host != NULL &&
		    (host == NULL || !host_matches(r->match_host, host, hs.len)))
			continue;
		if (r->match_path_prefix != NULL) {
			size_t plen = strlen(r->match_path_prefix);
			struct http_span ps = { req->path.off, (uint32_t)plen };
			const uint8_t *p;

			if (plen > req->path.len || plen > sizeof(path_buf))
				continue;
			p = head_span(iov, n, ps, path_buf, sizeof(path_buf));
			if (p == NULL || memcmp(p, r->match_path_prefix, plen) != 0)
				continue;
		}
		return (int)i;
	}
	return -1;
}

/* ---- the request state machine ---- */

static int start_request(struct dp_worker *w, struct px_session *s)
{
	const struct dp_listener_conf *l = s->lst->conf;
	struct px_worker *px = px_of(w);
	struct http_iov iov[PX_IOV_MAX];
	unsigned int n;
	int rc, route;

	n = http_iov_from_mbuf(s->rx, 0, iov, PX_IOV_MAX);
	rc = http_req_parse(&s->rq->req, iov, n);
	if (rc == -EAGAIN) {
		px_req_heading(w, s); /* a head in pieces: evictable once old (px_req.c) */
		return -EAGAIN;
	}
	px_req_head_done(w, s);
	if (rc < 0)
		return px_refuse(w, s, rc);
	px->cnt[PX_CNT_requests]++;
	s->lst->cnt[PX_OBJ_requests]++;
	if (!(s->rq->req.flags & HTTP_F_KEEP_ALIVE))
		s->close_after = 1;
	if (s->rq->req.method == HTTP_M_CONNECT) {
		/* a reverse proxy: no tunnel to offer, and half of one would hang the client */
		px_rx_consume(s, (uint32_t)rc);
		return px_refuse(w, s, -HTTP_E_CONNECT);
	}
	if (l == NULL) {
		/* a reload removed the listener: its connections end with the request they
		 * carry (503, close) instead of being served by routes it no longer has */
		px->cnt[PX_CNT_listener_gone]++;
		px_rx_consume(s, (uint32_t)rc);
		s->close_after = 1;
		s->route = -1;
		return px_respond(w, s, 503);
	}
	route = route_match(l, &s->rq->req, iov, n);
	px_obs_head(w, s, iov, n, route);
	if (http_body_init(&s->rq->body, &s->rq->req, l->limits.max_body_bytes) < 0) {
		arm_timer(w, s, l->limits.idle_timeout_ms);
		px_rx_consume(s, (uint32_t)rc);
		return px_refuse(w, s, -HTTP_E_BODY_TOO_LARGE);
	}
	/* Body and response: the idle bound. Not for a request without a body that goes to a
	 * service unlimited: its upstream's timers bound it from here, and px_proxy_start arms
	 * the idle bound itself when it answers instead (the arm it would cancel is saved). */
	if (route < 0 || l->routes[route].has_respond || l->routes[route].service_idx < 0 ||
	    l->routes[route].rate_limit.requests_per_second > 0 ||
	    !(s->rq->body.kind == HTTP_BODY_NONE || http_body_done(&s->rq->body)))
		arm_timer(w, s, l->limits.idle_timeout_ms);
	if (route >= 0 && l->routes[route].rate_limit.requests_per_second > 0) {
		int ra = px_rate_limit(w, s, l, (uint32_t)route, iov, n);

		if (ra > 0)
			return px_rate_refuse(w, s, (uint32_t)rc, (uint32_t)ra);
	}
	if (route >= 0 && !l->routes[route].has_respond && l->routes[route].service_idx >= 0) {
		s->route = route; /* the head is still in rx: the proxy rebuilds it from there */
		return px_proxy_start(w, s, (uint32_t)l->routes[route].service_idx);
	}
	px_rx_consume(s, (uint32_t)rc);
	s->rq->conf_gen = px->conf_gen;
	if (route < 0 || !l->routes[route].has_respond) {
		px->cnt[PX_CNT_no_route]++;
		s->route = -1;
		s->status = 404;
	} else {
		s->route = route;
	}
	if (s->rq->body.kind == HTTP_BODY_NONE || http_body_done(&s->rq->body))
		return px_respond(w, s, s->status);
	if (s->rq->req.flags & HTTP_F_EXPECT_CONTINUE) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);

		if (m == NULL || px_chain_append(w->pool, m, cont, sizeof(cont) - 1) != 0) {
			rte_pktmbuf_free(m);
			px->cnt[PX_CNT_drop_continue]++; /* the client sends its body after a pause */
		} else if (tcp_send(s->conn, m) != 0) {
			px->cnt[PX_CNT_drop_continue]++;
		}
	}
	px_session_enter(w, s, PX_BODY);
	return 0;
}

/* Discard request body bytes from the receive queue. */
static int discard_body(struct dp_worker *w, struct px_session *s)
{
	int rc;

	while (s->rx != NULL && !http_body_done(&s->rq->body)) {
		struct http_body_data d;

		rc = http_body_parse(&s->rq->body, rte_pktmbuf_mtod(s->rx, const uint8_t *),
				     rte_pktmbuf_data_len(s->rx), &d);

		if (rc < 0)
			return px_refuse(w, s, rc);
		px_of(w)->cnt[PX_CNT_body_bytes_discarded] += d.len;
		px_rx_consume(s, (uint32_t)rc);
	}
	if (!http_body_done(&s->rq->body)) {
		/* a client that ends its side inside the body will send no more of it */
		if (s->peer_fin && s->rx == NULL && (rc = http_body_eof(&s->rq->body)) < 0)
			return px_refuse(w, s, rc);
		if (!http_body_done(&s->rq->body))
			return -EAGAIN;
	}
	return px_respond(w, s, s->status);
}

/* s is queued (PX_QUEUED, px_breaker.c) and runs again: px_proxy_start admits it or keeps it
 * waiting (-EAGAIN); its route, as the listener's configuration now has it, names
 * the service to try again (a reload may have removed the route: 503). */
static int queued_resume(struct dp_worker *w, struct px_session *s)
{
	const struct dp_listener_conf *l = s->lst->conf;

	if (l == NULL || s->route < 0 || l->routes[s->route].has_respond ||
	    l->routes[s->route].service_idx < 0) {
		bool body = !(s->rq->body.kind == HTTP_BODY_NONE || http_body_done(&s->rq->body));

		px_cb_unqueue(w, s);
		w->px.cnt[PX_CNT_route_gone]++;
		px_rx_consume(s, s->rq->req.head_len);
		if (body)
			s->close_after = 1;
		return px_respond_error(w, s, 503);
	}
	return px_proxy_start(w, s, (uint32_t)l->routes[s->route].service_idx);
}

/* Run the session as far as the received bytes and the send queue allow. Returns false when
 * the session is gone. Its client connection is alive (conn not NULL). */
bool px_session_run(struct dp_worker *w, struct px_session *s)
{
	int rc = 0;

	for (;;) {
		switch (s->state) {
		case PX_HEAD:
			if (s->rx == NULL) {
				if (s->peer_fin) {
					px_session_free(w, s, PX_END_CLOSE);
					return false;
				}
				return true;
			}
			rx_coalesce(w, s);
			if (!px_req_get(w, s))
				return true; /* no px_req free: px_req_wake runs it again */
			rc = start_request(w, s);
			break;
		case PX_BODY:
			rc = discard_body(w, s);
			break;
		case PX_RESPOND:
			rc = px_send_generated(w, s);
			if (rc == 0 && s->resp_left == 0) {
				px_obs_done(w, s);
				if (s->close_after) {
					px_session_free(w, s, PX_END_CLOSE);
					return false;
				}
				px_request_reset(w, s);
				continue;
			}
			break;
		case PX_FWD_BODY:
			rc = px_proxy_body(w, s);
			break;
		case PX_RETRY:
			rc = px_retry_start(w, s);
			break;
		case PX_QUEUED:
			rc = queued_resume(w, s);
			break;
		case PX_TUNNEL:
			rc = px_proxy_tunnel_up(w, s);
			if (rc == 0 && s->state == PX_TUNNEL)
				return true;
			break;
		case PX_WAIT_RESP:
			if (s->up != NULL)
				return true; /* the upstream's events drive the session */
			px_obs_done(w, s);
			if (s->resp_left == 0 && s->close_after) {
				px_session_free(w, s, PX_END_CLOSE);
				return false;
			}
			px_request_reset(w, s);
			continue;
		case PX_DONE:
			return true;
		}
		if (rc == -EAGAIN) {
			if (s->state == PX_HEAD && s->peer_fin) {
				px_session_free(w, s, PX_END_CLOSE); /* half a request, then FIN */
				return false;
			}
			return true;
		}
		if (rc == -EPIPE) {
			px_session_free(w, s, PX_END_ABORT);
			return false;
		}
		if (rc != 0 || (s->state == PX_RESPOND && s->resp_left > 0))
			return true; /* wait for on_writable (or a timer after -ENOMEM) */
	}
}

/* What its upstream connection reported (px_proxy.c, px_upstream.c). Returns false when
 * the session is gone. */
static bool up_event(struct dp_worker *w, struct px_session *s, enum px_up_ev uev)
{
	switch (uev) {
	case PX_UPEV_NONE:
		break;
	case PX_UPEV_DONE:
		px_proxy_done(w, s);
		break;
	case PX_UPEV_FAIL: /* nothing of the response reached the client: say why */
		px_proxy_detach(w, s);
		s->close_after = 1;
		px_respond_error(w, s, s->status);
		break;
	case PX_UPEV_RETRY: /* nothing reached the client: another try (px_session_run) */
		px_proxy_detach(w, s);
		px_session_enter(w, s, PX_RETRY);
		break;
	case PX_UPEV_ABORT:
		px_session_free(w, s, PX_END_ABORT);
		return false;
	case PX_UPEV_TUNNEL:
		px_session_enter(w, s, PX_TUNNEL);
		arm_timer(w, s, s->lst->limits.idle_timeout_ms);
		break;
	case PX_UPEV_TUNNEL_END: /* either side closing ends the tunnel */
		px_proxy_close(w, s);
		s->close_after = 1;
		px_session_enter(w, s, PX_WAIT_RESP);
		break;
	}
	return true;
}

bool px_req_evicted(struct dp_worker *w, struct px_session *s)
{
	if (s->state != PX_HEAD || s->rq == NULL)
		return true; /* its head completed meanwhile: it keeps its request */
	w->px.cnt[PX_CNT_header_evicted]++;
	s->close_after = 1;
	s->route = -1;
	if (px_respond(w, s, 408) != 0 || s->resp_left == 0) {
		px_session_free(w, s, PX_END_CLOSE);
		return false;
	}
	return true;
}

void px_session_step(struct dp_worker *w, struct px_session *s, unsigned int ev)
{
	enum px_up_ev uev = (enum px_up_ev)s->up_ev;

	if (ev & PX_EV_EVICT)
		px_of(w)->n_evicting--;
	if (s->conn == NULL) { /* PX_EV_CLOSED: the stack ended the connection */
		px_session_free(w, s, PX_END_CLOSED_BY_STACK);
		return;
	}
	if (uev != PX_UPEV_NONE) {
		s->up_ev = PX_UPEV_NONE;
		if (!up_event(w, s, uev))
			return;
	}
	if ((ev & PX_EV_EVICT) && !px_req_evicted(w, s))
		return;
	if (ev & PX_EV_WRITE) {
		/* the peer acknowledged data: the response is progressing, not idle */
		if (s->state == PX_RESPOND || s->state == PX_TUNNEL)
			arm_timer(w, s, s->lst->limits.idle_timeout_ms);
		/* the response the upstream forwards can move on */
		if ((s->state == PX_WAIT_RESP || s->state == PX_TUNNEL) && s->up != NULL)
			px_post_upstream(px_of(w), s->up, PX_EV_PEER);
	}
	if (s->state == PX_DONE && s->peer_fin) {
		px_session_free(w, s, PX_END_CLOSE); /* the lingering close is over */
		return;
	}
	px_session_run(w, s);
}

/* ---- TCP callbacks: they record what happened and post the session ---- */

static void *px_on_accept(struct tcp_conn *c, void *listen_user)
{
	struct px_listener *lst = listen_user;
	struct dp_worker *w = lst->w;
	struct px_worker *px = px_of(w);
	struct px_session *s;
	bool counted = false;

	if (lst->conns >= lst->max_conns) {
		px->cnt[PX_CNT_refused_listener_limit]++;
		lst->cnt[PX_OBJ_refused]++;
		return NULL;
	}
	if (lst->limits.max_connections_per_client > 0 &&
	    px_client_conn_acquire(w, lst, c, &counted) != 0)
		return NULL; /* counted */
	s = session_alloc(px);
	if (s == NULL) {
		px->cnt[PX_CNT_refused_pool_empty]++;
		if (counted) {
			struct tcp_tuple t;

			tcp_conn_tuple(c, &t);
			rl_conns_release(&w->dp->rl_conns, t.raddr);
		}
		return NULL;
	}
	s->conn = c;
	s->counted = counted;
	s->lst = lst;
	lst->conns++;
	px->cnt[PX_CNT_conns_accepted]++;
	lst->cnt[PX_OBJ_conns]++;
	tcp_timer_init(&s->timer.t);
	s->timer.due = 0;
	px_request_reset(w, s);
	arm_timer(w, s, s->lst->limits.header_timeout_ms);
	return s;
}

static void px_on_data(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct px_session *s = tcp_conn_user(c);
	struct dp_worker *w = s->lst->w;

	bool first = s->rx == NULL && (s->rq == NULL || s->rq->req.scan == 0);

	if (s->state == PX_DONE) { /* lingering: read and drop */
		tcp_recved(c, rte_pktmbuf_pkt_len(m));
		rte_pktmbuf_free(m);
		return;
	}

	s->lst->cnt[PX_OBJ_bytes_in] += rte_pktmbuf_pkt_len(m);
	px_obs_rx(w, s);
	if (rx_append(s, m) != 0) {
		/* more segments than a chain takes: end it here, the session goes in the loop */
		px_obs_end(w, s);
		px_client_conn_release(w, s);
		tcp_abort(c);
		s->conn = NULL;
		px_post_session(px_of(w), s, PX_EV_CLOSED);
		return;
	}
	/* The first byte of a request starts its header timeout: the whole head must arrive
	 * within it however slowly it trickles in (slowloris). */
	if (s->state == PX_HEAD && first)
		arm_timer(w, s, s->lst->limits.header_timeout_ms);
	else if (s->state != PX_HEAD && s->state != PX_WAIT_RESP)
		arm_timer(w, s, s->lst->limits.idle_timeout_ms); /* progress */
	px_post_session(px_of(w), s, 0);
}

static void px_on_writable(struct tcp_conn *c)
{
	struct px_session *s = tcp_conn_user(c);

	px_post_session(px_of(s->lst->w), s, PX_EV_WRITE);
}

static void px_on_peer_fin(struct tcp_conn *c)
{
	struct px_session *s = tcp_conn_user(c);

	s->peer_fin = 1;
	px_post_session(px_of(s->lst->w), s, 0);
}

static void px_on_closed(struct tcp_conn *c, enum tcp_close_reason reason)
{
	struct px_session *s = tcp_conn_user(c);
	struct dp_worker *w = s->lst->w;

	if (reason != TCP_CLOSE_NORMAL)
		px_of(w)->cnt[PX_CNT_client_resets]++;
	px_obs_end(w, s); /* its log line needs the TCB, which is gone once this returns */
	px_client_conn_release(w, s); /* so does its address */
	s->conn = NULL;
	px_post_session(px_of(w), s, PX_EV_CLOSED);
}

static const struct tcp_ops px_ops = {
	.on_accept = px_on_accept,
	.on_data = px_on_data,
	.on_writable = px_on_writable,
	.on_peer_fin = px_on_peer_fin,
	.on_closed = px_on_closed,
};

/* ---- set-up ---- */

static void unlisten(struct dp_worker *w, struct px_listener *lst)
{
	if (lst->listening)
		tcp_unlisten(&w->ts, lst->l_addr, lst->l_port);
	lst->listening = 0;
}

/* Listeners of a new snapshot: closed first (removed, or moved to another address or port),
 * so that a port one listener leaves another may take in the same reload; then opened. A
 * removed listener's sessions keep their limits and end with their current request. */
static void apply_listeners(struct dp_worker *w, const struct dp_snapshot *old,
			    const struct dp_snapshot *snap)
{
	const uint16_t id = w->id;

	for (uint32_t i = 0; old != NULL && i < old->n_lsts; i++) {
		struct px_listener *lst = &old->lsts[i]->pw[id];
		bool kept = false;

		for (uint32_t k = 0; k < snap->n_lsts && !kept; k++)
			kept = snap->lsts[k] == old->lsts[i];
		if (!kept) {
			unlisten(w, lst);
			lst->conf = NULL;
		}
	}
	for (uint32_t i = 0; i < snap->n_lsts; i++) {
		const struct dp_listener_conf *l = &snap->conf->listeners[i];
		struct px_listener *lst = &snap->lsts[i]->pw[id];

		if (lst->listening && (lst->l_addr != l->addr || lst->l_port != l->port))
			unlisten(w, lst);
	}
	for (uint32_t i = 0; i < snap->n_lsts; i++) {
		const struct dp_listener_conf *l = &snap->conf->listeners[i];
		struct px_listener *lst = &snap->lsts[i]->pw[id];

		lst->w = w;
		lst->conf = l;
		lst->limits = l->limits;
		lst->max_conns =
			(l->limits.max_connections + w->dp->n_workers - 1) / w->dp->n_workers;
		lst->epoch = snap->epoch;
		if (lst->listening || dp_flag_get(&w->drain))
			continue; /* a graceful shutdown does not listen again */
		if (tcp_listen(&w->ts, l->addr, (uint16_t)l->port, &px_ops, lst) != 0) {
			w->px.cnt[PX_CNT_listen_failures]++;
			continue;
		}
		lst->listening = 1;
		lst->l_addr = l->addr;
		lst->l_port = (uint16_t)l->port;
	}
}

void px_unlisten_all(struct dp_worker *w)
{
	const struct dp_snapshot *snap = px_of(w)->snap;

	for (uint32_t i = 0; snap != NULL && i < snap->n_lsts; i++)
		unlisten(w, &snap->lsts[i]->pw[w->id]);
}

void px_apply(struct dp_worker *w, const struct dp_snapshot *snap)
{
	struct px_worker *px = px_of(w);

	/* a route index picked under the configuration before is no longer one (px_respond) */
	if (px->snap != NULL && px->snap->conf != snap->conf)
		px->conf_gen++;
	apply_listeners(w, px->snap, snap);
	px_apply_services(w, px->snap, snap);
	px_obs_apply(w, snap);
	px->snap = snap;
	px->epoch = snap->epoch;
}

size_t px_session_size(void)
{
	return sizeof(struct px_session);
}
