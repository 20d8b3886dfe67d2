/* SPDX-License-Identifier: BSD-3-Clause
 * show conns, worker side: describe client sessions (struct dp_conn_info, dp_ctl.h) for
 * control. Only reads the sessions; called from dp_ctl_poll in bounded slices.
 *
 * What a session holds is all there is to show: an idle keep-alive connection has no request
 * state, and the request target is kept only in the access-log record of a request being
 * logged (control.access_log set); a head already forwarded or consumed is gone.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dp_objs.h"
#include "dp_worker.h"
#include "px_impl.h"

static const char *const px_method_names[] = {
	[HTTP_M_NONE] = "",	      [HTTP_M_GET] = "GET",	    [HTTP_M_HEAD] = "HEAD",
	[HTTP_M_POST] = "POST",	      [HTTP_M_PUT] = "PUT",	    [HTTP_M_DELETE] = "DELETE",
	[HTTP_M_CONNECT] = "CONNECT", [HTTP_M_OPTIONS] = "OPTIONS", [HTTP_M_TRACE] = "TRACE",
	[HTTP_M_PATCH] = "PATCH",     [HTTP_M_OTHER] = "OTHER",
};

static const char *state_name(const struct px_session *s)
{
	switch (s->state) {
	case PX_HEAD:
		/* no byte of a next request yet: an idle keep-alive connection */
		if (s->rx == NULL && (s->rq == NULL || s->rq->req.scan == 0))
			return "idle";
		return "head";
	case PX_BODY:
		return "body";
	case PX_RESPOND:
		return "respond";
	case PX_DONE:
		return "closing";
	case PX_FWD_BODY:
		return "forward";
	case PX_WAIT_RESP:
		return "wait-response";
	case PX_TUNNEL:
		return "tunnel";
	case PX_RETRY: /* between two tries, within one run of the session: never seen here */
		return "retry";
	case PX_QUEUED:
		return "queued"; /* waiting for a circuit_breaker slot */
	}
	return "?";
}

/* NUL-terminated copy of len bytes of src, cut to fit cap. */
static void copy_str(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void copy_name(char *dst, const char *name)
{
	copy_str(dst, DP_CONN_NAME, name != NULL ? name : "", name != NULL ? strlen(name) : 0);
}

static const char *listener_name(const struct dp_worker *w, const struct px_listener *lst)
{
	const struct dp_listener *obj;

	if (lst == NULL)
		return NULL;
	/* lst is slot w->id of its stable object's pw[] */
	obj = (const struct dp_listener *)((const char *)(lst - w->id) -
					   offsetof(struct dp_listener, pw));
	return obj->name;
}

static uint64_t ms_between(const struct dp_worker *w, uint64_t from, uint64_t to)
{
	return to > from ? (to - from) * 1000 / w->dp->hz : 0;
}

/* The request in progress: method, target, age and bytes, as far as the session holds them. */
static void fill_request(const struct dp_worker *w, const struct px_session *s, uint64_t now,
			 struct dp_conn_info *e)
{
	const struct px_req *rq = s->rq;
	const struct px_alog_rec *rec;
	uint32_t in, out;

	if (rq == NULL)
		return;
	if (rq->obs.t_recv != 0)
		e->req_age_ms = ms_between(w, rq->obs.t_recv, now);
	tcp_conn_marks(s->conn, &in, &out);
	e->req_in = (uint32_t)(in - rq->obs.in_mark);
	e->req_out = (uint32_t)(out - rq->obs.out_mark);
	if (s->state == PX_HEAD)
		return; /* the head is not parsed yet: no method, no target */
	rec = rq->obs.rec;
	if (rq->req.method == HTTP_M_OTHER && rec != NULL && rec->method_len > 0)
		copy_str(e->method, sizeof(e->method), rec->method, rec->method_len);
	else if (rq->req.method < RTE_DIM(px_method_names))
		copy_name(e->method, px_method_names[rq->req.method]);
	if (rec != NULL && rec->target_len > 0)
		copy_str(e->target, sizeof(e->target), rec->target, rec->target_len);
}

static void fill_upstream(const struct px_session *s, struct dp_conn_info *e)
{
	const struct px_upstream *up = s->up;
	const struct dp_service *svc = s->svc;
	struct tcp_tuple t;

	if (up != NULL && up->conn != NULL) {
		tcp_conn_tuple(up->conn, &t);
		e->up_port = t.lport;
		e->up_tcp_state = tcp_state_name(tcp_conn_state(up->conn));
	}
	if (up != NULL && up->ep != NULL) {
		copy_name(e->endpoint, up->ep->name);
		e->ep_addr = up->ep->addr;
		e->ep_port = (uint16_t)up->ep->port;
		if (svc == NULL)
			svc = up->ep->svc;
	}
	if (svc != NULL)
		copy_name(e->service, svc->name);
}

static void fill_one(const struct dp_worker *w, const struct px_session *s, uint64_t now,
		     struct dp_conn_info *e)
{
	struct tcp_conn_info ti;

	memset(e, 0, offsetof(struct dp_conn_info, listener));
	e->listener[0] = e->method[0] = e->target[0] = e->service[0] = e->endpoint[0] = '\0';
	e->req_age_ms = e->req_in = e->req_out = DP_CONN_NONE;
	tcp_conn_info(s->conn, &ti);
	e->worker = w->id;
	e->client_addr = ti.tuple.raddr;
	e->client_port = ti.tuple.rport;
	e->local_addr = ti.tuple.laddr;
	e->local_port = ti.tuple.lport;
	e->tcp_state = tcp_state_name(ti.state);
	e->idle_ms = ti.idle_ms;
	e->rtt_us = ti.srtt_us;
	e->sendq = ti.snd_queued;
	e->state = state_name(s);
	e->status = s->head_sent || (s->rq != NULL && s->rq->obs.t_resp != 0) ? s->status : 0;
	copy_name(e->listener, listener_name(w, s->lst));
	fill_request(w, s, now, e);
	fill_upstream(s, e);
}

unsigned int px_conns_fill(struct dp_worker *w, uint32_t *cursor, struct dp_conn_info *out,
			   unsigned int max)
{
	const struct px_worker *px = &w->px;
	uint32_t i = *cursor, end;
	uint64_t now = rte_rdtsc();
	unsigned int n = 0;

	end = i < px->n_sessions ? RTE_MIN(px->n_sessions, i + PX_CONNS_SLICE) : i;
	for (; i < end && n < max; i++) {
		const struct px_session *s = &px->sessions[i];

		if (s->conn != NULL)
			fill_one(w, s, now, &out[n++]);
	}
	*cursor = i;
	return n;
}

bool px_conns_done(const struct dp_worker *w, uint32_t cursor)
{
	return cursor >= w->px.n_sessions;
}
