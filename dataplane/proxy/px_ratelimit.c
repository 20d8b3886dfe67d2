/* SPDX-License-Identifier: BSD-3-Clause
 * Route rate limits (routes[].rate_limit): a request's bucket in the appliance-wide table
 * (dataplane/policy/rl.h), and its 429 with Retry-After. docs/ratelimit.md.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "px_impl.h"

/* Now in the table's units: since the appliance started, plus one second so that 0 (an empty
 * slot's time) is always in the past. */
static uint64_t rl_now(const struct dp_worker *w)
{
	const struct dp *dp = w->dp;
	uint64_t d = w->ns.now - dp->started_tsc;

	return (uint64_t)(((unsigned __int128)d * dp->rl_mult) >> 32) + RL_UNITS_PER_S;
}

/* The value of header name (the first field of that name) in the head parsed as m, from iov;
 * NULL when absent, or when it straddles segments and is longer than buf. */
static const uint8_t *header_value(const struct http_msg *m, const struct http_iov *iov,
				   unsigned int n, const char *name, uint8_t *buf, size_t len,
				   uint32_t *vlen)
{
	size_t nlen = strlen(name);
	uint8_t nbuf[64];

	for (uint32_t i = 0; m->headers != NULL && i < m->n_headers; i++) {
		const struct http_header *hd = &m->headers[i];
		const uint8_t *p;

		if (hd->name.len != nlen || nlen > sizeof(nbuf))
			continue;
		p = http_span_ptr(iov, n, http_name_span(hd->name), nbuf, sizeof(nbuf));
		if (p == NULL || strncasecmp((const char *)p, name, nlen) != 0)
			continue;
		*vlen = hd->value.len;
		return http_span_ptr(iov, n, hd->value, buf, len);
	}
	return NULL;
}

/* The bucket's key: the listener's name and the route's index (stable across workers, and
 * across a reload that keeps them), the kind, and for per-client limits the address, for
 * per-header ones the header's value (the address when the request has no such header). */
static uint64_t rl_key(const struct px_session *s, const struct dp_listener_conf *l, uint32_t route,
		       const struct dp_rate_limit_conf *c, const struct http_iov *iov,
		       unsigned int n)
{
	uint64_t k =
		rl_hash(((uint64_t)c->per_kind << 32) | route, l->name, (uint32_t)strlen(l->name));
	struct tcp_tuple t;

	if (c->per_kind == DP_RL_HEADER) {
		uint8_t buf[256];
		uint32_t vlen = 0;
		const uint8_t *v =
			header_value(&s->rq->req, iov, n, c->per + 7, buf, sizeof(buf), &vlen);

		if (v != NULL)
			return rl_hash(k, v, vlen);
	}
	if (c->per_kind != DP_RL_ROUTE) {
		tcp_conn_tuple(s->conn, &t);
		k = rl_hash(k ^ 0x6970, &t.raddr, sizeof(t.raddr));
	}
	return k;
}

int px_rate_limit(struct dp_worker *w, struct px_session *s, const struct dp_listener_conf *l,
		  uint32_t route, const struct http_iov *iov, unsigned int n_iov)
{
	const struct dp_rate_limit_conf *c = &l->routes[route].rate_limit;
	struct px_worker *px = &w->px;
	struct rl_rate r = rl_rate_make(c->requests_per_second, c->burst);
	uint64_t key = rl_key(s, l, route, c, iov, n_iov), wait = 0;
	uint64_t now = rl_now(w);
	uint32_t n;

	/* per route: one hot bucket, leased in batches; per client: one take, exact */
	if (c->per_kind == DP_RL_ROUTE)
		n = rl_lease_take(&w->dp->rl, w->id, key, &r, now, &wait);
	else
		n = rl_take(&w->dp->rl, key, &r, now, 1, &wait);
	if (n == RL_FULL) {
		px->cnt[PX_CNT_rate_limit_untracked]++; /* admitted: no slot for the key */
		return 0;
	}
	if (n > 0)
		return 0;
	px->cnt[PX_CNT_rate_limited]++;
	s->lst->cnt[PX_OBJ_rate_limited]++;
	if (route < PX_MAX_ROUTES)
		s->lst->route_limited[route]++;
	/* whole seconds, rounded up, at least 1 (RFC 9110 10.2.3) */
	return (int)RTE_MAX((uint64_t)1, (wait + RL_UNITS_PER_S - 1) / RL_UNITS_PER_S);
}

int px_rate_refuse(struct dp_worker *w, struct px_session *s, uint32_t head_len,
		   uint32_t retry_after)
{
	struct px_worker *px = &w->px;
	int rc;

	px_rx_consume(s, head_len);
	/* a body we do not read: the lingering close drains it after the answer */
	if (s->rq->body.kind != HTTP_BODY_NONE && !http_body_done(&s->rq->body))
		s->close_after = 1;
	s->route = -1;
	px->retry_after = retry_after;
	rc = px_respond(w, s, 429);
	px->retry_after = 0;
	return rc;
}

int px_client_conn_acquire(struct dp_worker *w, struct px_listener *lst, struct tcp_conn *c,
			   bool *counted)
{
	struct px_worker *px = &w->px;
	struct tcp_tuple t;
	int64_t i;

	tcp_conn_tuple(c, &t);
	i = rl_conns_acquire(&w->dp->rl_conns, t.raddr, lst->limits.max_connections_per_client);
	if (i == -EBUSY) {
		px->cnt[PX_CNT_refused_per_client]++;
		lst->cnt[PX_OBJ_refused]++;
		return -EBUSY;
	}
	if (i < 0) {
		/* every slot of its probe sequence busy: cannot happen with fewer distinct
		 * addresses than half the table, which holds twice every connection */
		px->cnt[PX_CNT_per_client_untracked]++;
		*counted = false;
		return 0;
	}
	*counted = true;
	return 0;
}

void px_client_conn_release(struct dp_worker *w, struct px_session *s)
{
	struct tcp_tuple t;

	if (!s->counted)
		return;
	tcp_conn_tuple(s->conn, &t);
	rl_conns_release(&w->dp->rl_conns, t.raddr);
	s->counted = 0;
}

uint64_t px_route_limited(const struct dp_worker *w, uint32_t l, uint32_t route)
{
	const struct dp_snapshot *s = w->dp->snapshot;

	if (s == NULL || l >= s->n_lsts || route >= PX_MAX_ROUTES)
		return 0;
	return __atomic_load_n(&s->lsts[l]->pw[w->id].route_limited[route], __ATOMIC_RELAXED);
}
