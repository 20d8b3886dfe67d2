/* SPDX-License-Identifier: BSD-3-Clause
 * sluice-load's client connections: one slot per connection of --connections, each a small
 * state machine over tcpstack's callbacks.
 *
 *   FREE        no connection        on the start list: tcp_connect -> CONNECTING (no port or
 *                                    TCB: connect_local, retried after LD_RETRY_MS)
 *   CONNECTING  SYN sent             connected -> request sent, SENT; RST -> connect_refused;
 *                                    deadline -> connect_timeout
 *   SENT        request in flight    response complete -> next request (keep-alive), WAIT_FIN
 *                                    (close), HELD (idle); RST -> reset; FIN -> closed;
 *                                    refused by the parser -> malformed; deadline -> timeout
 *   WAIT_FIN    close mode           the server's FIN -> our close, FREE; deadline -> close
 *   HELD        idle mode            the peer closing it counts as hold_lost
 *
 * Every error ends the connection (abort) and, while the run still starts requests, the slot
 * goes back on the start list: like wrk, a failing target is hit again at once, so error
 * counts measure how often it fails, not how long. Idle mode retries while it opens, not once
 * the hold began (a connection lost then is counted as hold_lost).
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "ld_impl.h"

#define LD_RETRY_MS 10 /* before a slot whose connect failed locally tries again */

const char *const ld_err_names[LD_E_MAX] = {
#define LD_ERR_NAME(name) #name,
	LD_ERRORS(LD_ERR_NAME)
#undef LD_ERR_NAME
};

static const struct tcp_ops ld_ops;

static void start_push(struct ld_gen *g, struct ld_conn *k)
{
	if (k->on_list)
		return;
	k->on_list = true;
	k->next = LD_NONE;
	if (g->start_tail == LD_NONE)
		g->start_head = k->idx;
	else
		g->conns[g->start_tail].next = k->idx;
	g->start_tail = k->idx;
}

static void arm(struct ld_gen *g, struct ld_conn *k, uint64_t ms)
{
	tcp_wheel_arm(&g->wheel, &k->timer,
		      tcp_wheel_now(&g->wheel) + tcp_wheel_ms_to_ticks(&g->wheel, ms));
}

/* The slot has no connection any more: start again while the run wants requests. */
static void slot_again(struct ld_gen *g, struct ld_conn *k)
{
	k->state = LD_S_FREE;
	tcp_wheel_cancel(&g->wheel, &k->timer);
	if (g->conf->mode == LD_IDLE && g->phase != LD_P_WARM) {
		g->idle_failed++; /* lost while held: not opened again */
		return;
	}
	if (g->phase < LD_P_DRAIN)
		start_push(g, k);
}

enum ld_end { LD_END_CLOSE, LD_END_ABORT, LD_END_GONE };

/* Forget k's connection: close it gracefully, abort it, or note that the stack ended it. */
static void conn_end(struct ld_gen *g, struct ld_conn *k, enum ld_end how)
{
	if (k->rx != NULL) {
		rte_pktmbuf_free(k->rx);
		k->rx = NULL;
	}
	if (k->state == LD_S_SENT)
		g->in_flight--;
	if (k->state == LD_S_CONNECTING)
		g->connecting--;
	else
		g->established--;
	if (k->state == LD_S_HELD)
		g->held--;
	g->open--;
	if (how == LD_END_CLOSE)
		tcp_close(k->c);
	else if (how == LD_END_ABORT)
		tcp_abort(k->c);
	k->c = NULL;
}

static void fail(struct ld_gen *g, struct ld_conn *k, enum ld_err e, enum ld_end how)
{
	g->cur->err[e]++;
	conn_end(g, k, how);
	slot_again(g, k);
}

static int send_request(struct ld_gen *g, struct ld_conn *k)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
	char *p;

	if (m == NULL)
		return -ENOBUFS;
	p = rte_pktmbuf_append(m, (uint16_t)g->req_len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	memcpy(p, g->req, g->req_len);
	if (tcp_send(k->c, m) != 0)
		return -EPIPE;
	http_resp_init(&k->msg, NULL, NULL, HTTP_M_GET);
	k->head_off = 0;
	k->head_done = false;
	k->state = LD_S_SENT;
	k->start_tsc = rte_rdtsc();
	g->in_flight++;
	g->cur->requests++;
	arm(g, k, g->conf->timeout_ms);
	return 0;
}

/* Send the request, or end the slot with a local failure (no mbuf, send refused). */
static void request_or_fail(struct ld_gen *g, struct ld_conn *k)
{
	if (send_request(g, k) != 0)
		fail(g, k, LD_E_connect_local, LD_END_ABORT);
}

static void response_done(struct ld_gen *g, struct ld_conn *k)
{
	struct ld_stats *s = g->cur;
	uint16_t status = k->msg.status;
	uint64_t us = (rte_rdtsc() - k->start_tsc) * 1000000 / g->hz;
	bool keep = (k->msg.flags & HTTP_F_KEEP_ALIVE) != 0 && !k->peer_fin;

	s->responses++;
	s->status[status >= 100 && status < 600 ? status / 100 : 0]++;
	px_hist_add(&s->lat, us);
	g->in_flight--;
	k->state = LD_S_FREE; /* between requests */
	if (g->conf->max_requests != 0 && g->phase == LD_P_MEAS &&
	    g->res->meas.responses >= g->conf->max_requests)
		g->max_reached = true;
	switch (g->conf->mode) {
	case LD_KEEPALIVE:
		if (keep && g->phase < LD_P_DRAIN && !g->max_reached) {
			k->state = LD_S_FREE;
			request_or_fail(g, k);
			return;
		}
		k->state = LD_S_WAIT_FIN; /* not in flight any more */
		conn_end(g, k, LD_END_CLOSE);
		slot_again(g, k);
		return;
	case LD_CLOSE:
		k->state = LD_S_WAIT_FIN;
		if (k->peer_fin) {
			conn_end(g, k, LD_END_CLOSE);
			slot_again(g, k);
			return;
		}
		arm(g, k, g->conf->timeout_ms);
		return;
	case LD_IDLE:
		tcp_wheel_cancel(&g->wheel, &k->timer);
		k->state = LD_S_HELD;
		g->held++;
		return;
	}
}

/* Feed body bytes iov[0..n) (total bytes len). Returns 0, 1 once the response is complete, or
 * a negative error (malformed, including bytes after the response: no pipelining here). */
static int body_feed(struct ld_conn *k, const struct http_iov *iov, unsigned int n, uint32_t len)
{
	int rc = 0;

	if (!http_body_done(&k->body) && len > 0) {
		rc = http_body_skip(&k->body, iov, n);
		if (rc < 0)
			return rc;
	}
	if (!http_body_done(&k->body))
		return 0;
	return (uint32_t)rc == len ? 1 : -EPROTO;
}

/* The head is in k->rx: parse it (and the interim responses before it), then the body bytes
 * that came with it. Returns as body_feed, or -EAGAIN for a head not complete yet. */
static int head_parse(struct ld_conn *k)
{
	struct http_iov iov[LD_IOV_MAX];
	uint32_t total = rte_pktmbuf_pkt_len(k->rx);
	unsigned int n;
	int rc;

	for (;;) {
		n = http_iov_from_mbuf(k->rx, k->head_off, iov, LD_IOV_MAX);
		rc = http_resp_parse(&k->msg, iov, n);
		if (rc == -EAGAIN)
			return n == LD_IOV_MAX ? -E2BIG : -EAGAIN;
		if (rc < 0)
			return rc;
		k->head_off += (uint32_t)rc;
		if (!(k->msg.flags & HTTP_F_INTERIM))
			break;
		http_resp_init(&k->msg, NULL, NULL, HTTP_M_GET);
	}
	k->head_done = true;
	if (http_body_init(&k->body, &k->msg, 0) != 0)
		return -EPROTO;
	n = http_iov_from_mbuf(k->rx, k->head_off, iov, LD_IOV_MAX);
	return body_feed(k, iov, n, total - k->head_off);
}

static void ld_on_data(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct ld_conn *k = tcp_conn_user(c);
	struct ld_gen *g = k->g;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	int rc;

	g->cur->bytes_in += len;
	if (k->state != LD_S_SENT) {
		rte_pktmbuf_free(m);
		tcp_recved(c, len);
		fail(g, k, LD_E_malformed, LD_END_ABORT); /* bytes nobody asked for */
		return;
	}
	if (!k->head_done) {
		if (k->rx == NULL) {
			k->rx = m;
		} else if (rte_pktmbuf_chain(k->rx, m) != 0) {
			rte_pktmbuf_free(m);
			fail(g, k, LD_E_malformed, LD_END_ABORT);
			return;
		}
		rc = head_parse(k);
		if (rc == -EAGAIN)
			return;
		len = rte_pktmbuf_pkt_len(k->rx);
		rte_pktmbuf_free(k->rx);
		k->rx = NULL;
	} else {
		struct http_iov iov[LD_IOV_MAX];
		unsigned int n = http_iov_from_mbuf(m, 0, iov, LD_IOV_MAX);

		rc = n == LD_IOV_MAX && m->nb_segs > LD_IOV_MAX ? -E2BIG
								: body_feed(k, iov, n, len);
		rte_pktmbuf_free(m);
	}
	tcp_recved(c, len);
	if (rc < 0)
		fail(g, k, LD_E_malformed, LD_END_ABORT);
	else if (rc == 1)
		response_done(g, k);
}

static void ld_on_connected(struct tcp_conn *c)
{
	struct ld_conn *k = tcp_conn_user(c);
	struct ld_gen *g = k->g;

	g->connecting--;
	g->established++;
	g->cur->connects++;
	if (g->established > g->res->established_max)
		g->res->established_max = g->established;
	k->state = LD_S_FREE;
	request_or_fail(g, k);
}

static void ld_on_peer_fin(struct tcp_conn *c)
{
	struct ld_conn *k = tcp_conn_user(c);
	struct ld_gen *g = k->g;

	k->peer_fin = true;
	switch (k->state) {
	case LD_S_SENT:
		if (k->head_done && http_body_eof(&k->body) == 0) {
			response_done(g, k); /* a body delimited by the close */
			if (k->c != NULL && k->state != LD_S_SENT) {
				if (k->state == LD_S_HELD)
					g->res->hold_lost++;
				conn_end(g, k, LD_END_CLOSE);
				slot_again(g, k);
			}
			return;
		}
		fail(g, k, LD_E_closed, LD_END_CLOSE);
		return;
	case LD_S_WAIT_FIN:
		conn_end(g, k, LD_END_CLOSE);
		slot_again(g, k);
		return;
	case LD_S_HELD:
		g->res->hold_lost++;
		conn_end(g, k, LD_END_CLOSE);
		slot_again(g, k);
		return;
	default:
		return;
	}
}

static void ld_on_closed(struct tcp_conn *c, enum tcp_close_reason why)
{
	struct ld_conn *k = tcp_conn_user(c);
	struct ld_gen *g = k->g;
	enum ld_err e;

	if (k->state == LD_S_CONNECTING) {
		e = why == TCP_CLOSE_REFUSED   ? LD_E_connect_refused
		    : why == TCP_CLOSE_TIMEOUT ? LD_E_connect_timeout
					       : LD_E_connect_local;
		fail(g, k, e, LD_END_GONE);
		return;
	}
	if (k->state == LD_S_SENT) {
		fail(g, k, why == TCP_CLOSE_TIMEOUT ? LD_E_timeout : LD_E_reset, LD_END_GONE);
		return;
	}
	if (k->state == LD_S_HELD)
		g->res->hold_lost++;
	conn_end(g, k, LD_END_GONE);
	slot_again(g, k);
}

static const struct tcp_ops ld_ops = {
	.on_connected = ld_on_connected,
	.on_data = ld_on_data,
	.on_peer_fin = ld_on_peer_fin,
	.on_closed = ld_on_closed,
};

/* Next local port of address a, in lo..hi, wrapping. */
static uint16_t next_port(struct ld_gen *g, unsigned int a)
{
	uint16_t p = g->next_port[a];

	g->next_port[a] = p >= g->conf->lport_hi ? g->conf->lport_lo : (uint16_t)(p + 1);
	return p;
}

static int connect_one(struct ld_gen *g, struct ld_conn *k)
{
	const struct ld_conf *cf = g->conf;
	uint32_t laddr = g->ns.ifs[k->addr_i].addr;

	for (unsigned int t = 0; t < LD_PORT_TRIES; t++) {
		uint16_t lport = next_port(g, k->addr_i);
		struct tcp_conn *c;

		if (tcp_tuple_state(&g->ts, laddr, lport, cf->target, cf->tport) != TCP_CLOSED)
			continue;
		c = tcp_connect(&g->ts, laddr, lport, cf->target, cf->tport, &ld_ops, k);
		if (c == NULL) {
			if (rte_errno == EADDRINUSE)
				continue;
			return -rte_errno;
		}
		/* a lost SYN is retried within the connect timeout, not after RFC 6298's 1 s */
		tcp_conn_set_syn_rto(c, RTE_MAX(cf->timeout_ms / 4, 1u));
		k->c = c;
		k->state = LD_S_CONNECTING;
		k->peer_fin = false;
		g->open++;
		g->connecting++;
		arm(g, k, cf->timeout_ms);
		return 0;
	}
	return -EADDRINUSE;
}

unsigned int ld_conns_start(struct ld_gen *g)
{
	unsigned int n = 0;

	/* Handshakes (and, in idle mode, first requests) in progress are bounded: a burst of
	 * thousands of SYNs would overflow the rings between us and the target. */
	uint32_t busy = g->connecting + (g->conf->mode == LD_IDLE ? g->in_flight : 0);

	while (g->start_head != LD_NONE && n < g->conf->connect_burst &&
	       busy + n < LD_CONNECT_WINDOW) {
		struct ld_conn *k = &g->conns[g->start_head];

		g->start_head = k->next;
		if (g->start_head == LD_NONE)
			g->start_tail = LD_NONE;
		k->on_list = false;
		n++;
		if (connect_one(g, k) != 0) {
			g->cur->err[LD_E_connect_local]++;
			arm(g, k, LD_RETRY_MS);
		}
	}
	return n;
}

static void ld_fire(void *arg, struct tcp_timer *t)
{
	struct ld_gen *g = arg;
	struct ld_conn *k = container_of(t, struct ld_conn, timer);

	switch (k->state) {
	case LD_S_FREE:
		if (g->phase < LD_P_DRAIN)
			start_push(g, k); /* local failure's retry delay is over */
		return;
	case LD_S_CONNECTING:
		fail(g, k, LD_E_connect_timeout, LD_END_ABORT);
		return;
	case LD_S_SENT:
		fail(g, k, LD_E_timeout, LD_END_ABORT);
		return;
	case LD_S_WAIT_FIN:
		conn_end(g, k, LD_END_CLOSE);
		slot_again(g, k);
		return;
	default:
		return;
	}
}

void ld_conns_timers(struct ld_gen *g, uint64_t now)
{
	tcp_wheel_run(&g->wheel, now, ld_fire, g, 4096);
}

bool ld_conns_close_some(struct ld_gen *g, uint32_t max)
{
	uint32_t n = 0;

	g->start_head = g->start_tail = LD_NONE;
	for (; g->close_pos < g->conf->conns && n < max; g->close_pos++) {
		struct ld_conn *k = &g->conns[g->close_pos];

		tcp_wheel_cancel(&g->wheel, &k->timer);
		k->on_list = false;
		if (k->c != NULL) {
			conn_end(g, k, LD_END_CLOSE);
			n++;
		}
		k->state = LD_S_FREE;
	}
	return g->close_pos >= g->conf->conns;
}

int ld_conns_init(struct ld_gen *g)
{
	const struct ld_conf *cf = g->conf;

	g->conns = rte_zmalloc("ld_conns", sizeof(*g->conns) * cf->conns, RTE_CACHE_LINE_SIZE);
	if (g->conns == NULL)
		return -ENOMEM;
	tcp_wheel_init(&g->wheel, rte_rdtsc(), g->hz / 1000);
	g->start_head = g->start_tail = LD_NONE;
	for (unsigned int a = 0; a < cf->n_addrs; a++)
		g->next_port[a] = cf->lport_lo;
	for (uint32_t i = 0; i < cf->conns; i++) {
		struct ld_conn *k = &g->conns[i];

		k->g = g;
		k->idx = i;
		k->addr_i = (uint8_t)(i % cf->n_addrs);
		tcp_timer_init(&k->timer);
		start_push(g, k);
	}
	return 0;
}

void ld_conns_fini(struct ld_gen *g)
{
	if (g->conns == NULL)
		return;
	for (uint32_t i = 0; i < g->conf->conns; i++)
		if (g->conns[i].rx != NULL)
			rte_pktmbuf_free(g->conns[i].rx);
	rte_free(g->conns);
	g->conns = NULL;
}
