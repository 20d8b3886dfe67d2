/* SPDX-License-Identifier: BSD-3-Clause
 * Per-request observability: phase timestamps, per-service latency histograms, per-endpoint
 * phase sums, and access-log records queued to control (px_obs.h).
 *
 * Worker side only, except px_obs_alog_drain (control) and the accessors (any thread).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "px_impl.h"
#include "px_obs.h"

/* Records per worker. The ring has one slot more than there are records (an rte_ring of
 * size N holds N - 1), so a worker's enqueue never fails. 1023 records are 100 ms of
 * 10 000 requests/s per worker with control's 10 ms tick well within it. */
#define PX_ALOG_RECS 1023
#define PX_ALOG_RING 1024

struct px_obs {
	struct px_obs_svc *svcs; /* per service */
	uint32_t n_svcs;
	uint32_t *ep_base; /* endpoint e of service v is eps[ep_base[v] + e] */
	uint32_t *n_eps;
	struct px_obs_ep *eps;
	struct rte_ring *ring;	  /* dp: producer, ctl: consumer (struct px_alog_rec *) */
	struct rte_mempool *pool; /* dp: get, ctl: put */
	double us_per_tsc;
	bool log_on; /* control.access_log of the applied snapshot is set */
};

static inline uint64_t now_tsc(void)
{
	return rte_rdtsc();
}

static inline uint64_t us_between(const struct px_obs *o, uint64_t from, uint64_t to)
{
	return to > from ? (uint64_t)((double)(to - from) * o->us_per_tsc) : 0;
}

/* ---- set-up ---- */

int px_obs_init(struct dp_worker *w)
{
	const struct dp_conf *conf = w->dp->conf;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t n_eps = 0;
	struct px_obs *o;

	o = rte_zmalloc_socket("px_obs", sizeof(*o), RTE_CACHE_LINE_SIZE, w->socket);
	if (o == NULL)
		return -ENOMEM;
	w->px.obs = o;
	o->us_per_tsc = 1e6 / (double)w->dp->hz;
	o->n_svcs = conf->n_services;
	o->svcs = rte_zmalloc_socket("px_obs_svc", (o->n_svcs + 1) * sizeof(*o->svcs),
				     RTE_CACHE_LINE_SIZE, w->socket);
	o->ep_base =
		rte_zmalloc_socket("px_obs_base", (o->n_svcs + 1) * sizeof(uint32_t), 0, w->socket);
	o->n_eps =
		rte_zmalloc_socket("px_obs_neps", (o->n_svcs + 1) * sizeof(uint32_t), 0, w->socket);
	if (o->svcs == NULL || o->ep_base == NULL || o->n_eps == NULL)
		return -ENOMEM;
	for (uint32_t v = 0; v < o->n_svcs; v++) {
		o->ep_base[v] = n_eps;
		o->n_eps[v] = conf->services[v].n_endpoints;
		n_eps += conf->services[v].n_endpoints;
	}
	o->eps = rte_zmalloc_socket("px_obs_ep", (n_eps + 1) * sizeof(*o->eps), RTE_CACHE_LINE_SIZE,
				    w->socket);
	if (o->eps == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "px_alog_%u", w->id);
	o->ring =
		rte_ring_create(name, PX_ALOG_RING, (int)w->socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	/* no per-lcore cache: the worker is the only getter and control the only putter */
	o->pool = rte_mempool_create(name, PX_ALOG_RECS, sizeof(struct px_alog_rec), 0, 0, NULL,
				     NULL, NULL, NULL, (int)w->socket,
				     RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	if (o->ring == NULL || o->pool == NULL)
		return -ENOMEM;
	return 0;
}

void px_obs_fini(struct dp_worker *w)
{
	struct px_obs *o = w->px.obs;

	if (o == NULL)
		return;
	rte_ring_free(o->ring);
	rte_mempool_free(o->pool);
	rte_free(o->eps);
	rte_free(o->n_eps);
	rte_free(o->ep_base);
	rte_free(o->svcs);
	rte_free(o);
	w->px.obs = NULL;
}

void px_obs_apply(struct dp_worker *w, const struct dp_snapshot *snap)
{
	const char *path = snap->conf->control.access_log;

	if (w->px.obs != NULL)
		w->px.obs->log_on = path != NULL && path[0] != '\0';
}

/* ---- accessors ---- */

const struct px_obs_svc *px_obs_service(const struct dp_worker *w, uint32_t svc)
{
	const struct px_obs *o = w->px.obs;

	return o != NULL && svc < o->n_svcs ? &o->svcs[svc] : NULL;
}

const struct px_obs_ep *px_obs_endpoint(const struct dp_worker *w, uint32_t svc, uint32_t ep)
{
	const struct px_obs *o = w->px.obs;

	if (o == NULL || svc >= o->n_svcs || ep >= o->n_eps[svc])
		return NULL;
	return &o->eps[o->ep_base[svc] + ep];
}

static struct px_obs_ep *obs_ep(struct px_obs *o, const struct px_session *s)
{
	if (s->svc < 0 || s->ep < 0 || (uint32_t)s->svc >= o->n_svcs ||
	    (uint32_t)s->ep >= o->n_eps[s->svc])
		return NULL;
	return &o->eps[o->ep_base[s->svc] + (uint32_t)s->ep];
}

/* One phase of a request of service s->svc (and of its endpoint when one was picked). */
static void obs_record(struct px_obs *o, const struct px_session *s, enum px_phase ph, uint64_t us)
{
	struct px_obs_ep *ep = obs_ep(o, s);

	if (s->svc < 0 || (uint32_t)s->svc >= o->n_svcs)
		return;
	px_hist_add(&o->svcs[s->svc].h[ph], us);
	if (ep != NULL) {
		ep->count[ph]++;
		ep->sum_us[ph] += us;
		if (us > ep->max_us[ph])
			ep->max_us[ph] = us;
	}
}

/* ---- hooks ---- */

/* TCP sequence numbers just past the bytes consumed from the client and queued to it:
 * their advance over one request is its bytes in and out, whatever path they took. */
static void seq_marks(const struct px_session *s, uint32_t *in, uint32_t *out)
{
	struct tcp_conn_info ci;

	tcp_conn_info(s->conn, &ci);
	*in = ci.rcv_nxt - ci.rcv_held;
	*out = ci.snd_una + ci.snd_queued;
}

void px_obs_reset(struct dp_worker *w, struct px_session *s, bool started)
{
	struct px_obs_req *r = &s->obs;

	RTE_SET_USED(w);
	r->t_recv = started ? now_tsc() : 0;
	r->t_head = r->t_fwd = r->t_conn = r->t_resp = 0;
	seq_marks(s, &r->in_mark, &r->out_mark);
}

void px_obs_rx(struct dp_worker *w, struct px_session *s)
{
	RTE_SET_USED(w);
	if (s->state == PX_HEAD && s->obs.t_recv == 0)
		s->obs.t_recv = now_tsc();
}

/* Copy span sp of the head (at most cap bytes) into dst; returns the length copied. */
static uint8_t copy_span(const struct http_iov *iov, unsigned int n, struct http_span sp, char *dst,
			 uint32_t cap)
{
	const uint8_t *p;

	if (sp.len > cap)
		sp.len = cap;
	if (sp.len == 0)
		return 0;
	p = http_span_ptr(iov, n, sp, (uint8_t *)dst, cap);
	if (p == NULL)
		return 0;
	if (p != (const uint8_t *)dst)
		memcpy(dst, p, sp.len);
	return (uint8_t)sp.len;
}

static struct px_alog_rec *rec_take(struct dp_worker *w, struct px_session *s)
{
	struct px_obs *o = w->px.obs;
	void *rec;

	if (!o->log_on)
		return NULL;
	if (rte_mempool_get(o->pool, &rec) != 0) {
		w->px.cnt[PX_CNT_access_log_dropped]++;
		return NULL;
	}
	memset(rec, 0, offsetof(struct px_alog_rec, method));
	((struct px_alog_rec *)rec)->route = -1;
	s->obs.rec = rec;
	return rec;
}

void px_obs_head(struct dp_worker *w, struct px_session *s, const struct http_iov *iov,
		 unsigned int n, int route)
{
	struct px_obs_req *r = &s->obs;
	struct px_alog_rec *rec;

	r->t_head = now_tsc();
	if (r->t_recv == 0)
		r->t_recv = r->t_head;
	rec = r->rec != NULL ? r->rec : rec_take(w, s);
	if (rec == NULL)
		return;
	rec->route = route;
	rec->method_len = copy_span(iov, n, s->req.method_s, rec->method, PX_ALOG_METHOD);
	rec->host_len = copy_span(iov, n, s->req.host, rec->host, PX_ALOG_HOST);
	rec->target_len = copy_span(iov, n, s->req.target, rec->target, PX_ALOG_TARGET);
}

void px_obs_forwarded(struct dp_worker *w, struct px_session *s)
{
	RTE_SET_USED(w);
	s->obs.t_fwd = now_tsc();
}

void px_obs_connected(struct dp_worker *w, struct px_session *s)
{
	struct px_obs_req *r;

	if (s == NULL || s->obs.t_fwd == 0)
		return;
	r = &s->obs;
	r->t_conn = now_tsc();
	obs_record(w->px.obs, s, PX_PH_CONNECT, us_between(w->px.obs, r->t_fwd, r->t_conn));
}

void px_obs_resp_head(struct dp_worker *w, struct px_session *s)
{
	struct px_obs_req *r = &s->obs;
	uint64_t from = r->t_conn > r->t_fwd ? r->t_conn : r->t_fwd;

	r->t_resp = now_tsc();
	if (from != 0)
		obs_record(w->px.obs, s, PX_PH_FIRST_BYTE, us_between(w->px.obs, from, r->t_resp));
}

static uint32_t phase_us(const struct px_obs *o, uint64_t from, uint64_t to)
{
	uint64_t us;

	if (from == 0 || to == 0)
		return PX_ALOG_NONE;
	us = us_between(o, from, to);
	return us >= PX_ALOG_NONE ? PX_ALOG_NONE - 1 : (uint32_t)us;
}

/* Fill the record of the request ending now and queue it to control. */
static void obs_log(struct dp_worker *w, struct px_session *s, uint64_t now, bool aborted)
{
	struct px_obs *o = w->px.obs;
	struct px_obs_req *r = &s->obs;
	struct px_alog_rec *rec = r->rec != NULL ? r->rec : rec_take(w, s);
	uint64_t from = r->t_conn > r->t_fwd ? r->t_conn : r->t_fwd;
	struct tcp_tuple t;
	uint32_t in, out;

	r->rec = NULL;
	if (rec == NULL)
		return;
	tcp_conn_tuple(s->conn, &t);
	seq_marks(s, &in, &out);
	rec->tsc = now;
	rec->bytes_in = (uint32_t)(in - r->in_mark);
	rec->bytes_out = (uint32_t)(out - r->out_mark);
	rec->client_ip = t.raddr;
	rec->client_port = t.rport;
	rec->status = (s->head_sent || r->t_resp != 0) ? s->status : 0;
	rec->t_us[0] = phase_us(o, r->t_recv, r->t_head);
	rec->t_us[1] = phase_us(o, r->t_fwd, r->t_conn);
	rec->t_us[2] = r->t_resp != 0 ? phase_us(o, from, r->t_resp) : PX_ALOG_NONE;
	rec->t_us[3] = aborted ? phase_us(o, r->t_head != 0 ? r->t_head : r->t_recv, now)
			       : phase_us(o, r->t_head, now);
	rec->listener = (int32_t)s->lst->idx;
	rec->svc = s->svc;
	rec->ep = s->ep;
	rec->worker = w->id;
	rec->aborted = aborted;
	/* never full: the ring has more slots than the pool has records */
	rte_ring_sp_enqueue(o->ring, rec);
}

void px_obs_done(struct dp_worker *w, struct px_session *s)
{
	struct px_obs_req *r = &s->obs;
	uint64_t now = now_tsc();

	if (r->t_head != 0)
		obs_record(w->px.obs, s, PX_PH_TOTAL, us_between(w->px.obs, r->t_head, now));
	if (r->t_recv != 0 || r->rec != NULL)
		obs_log(w, s, now, false);
	r->t_recv = r->t_head = 0;
}

void px_obs_end(struct dp_worker *w, struct px_session *s)
{
	struct px_obs_req *r = &s->obs;

	if (w->px.obs == NULL || (r->t_recv == 0 && r->rec == NULL))
		return;
	if (w->stop) { /* torn down after the workers stopped: nobody will read it */
		r->rec = NULL;
		r->t_recv = r->t_head = 0;
		return;
	}
	/* a response queued whole (a 408, say) before the close is not an abort */
	obs_log(w, s, now_tsc(), !(s->state == PX_RESPOND && s->head_sent && s->resp_left == 0));
	r->t_recv = r->t_head = 0;
}

/* ---- control side ---- */

unsigned int px_obs_alog_drain(struct dp_worker *w,
			       void (*fn)(const struct px_alog_rec *r, void *arg), void *arg,
			       unsigned int max)
{
	struct px_obs *o = w->px.obs;
	void *recs[64];
	unsigned int total = 0;

	if (o == NULL)
		return 0;
	while (total < max) {
		unsigned int n = rte_ring_sc_dequeue_burst(o->ring, recs, RTE_DIM(recs), NULL);

		if (n == 0)
			break;
		for (unsigned int i = 0; i < n; i++)
			fn(recs[i], arg);
		rte_mempool_put_bulk(o->pool, recs, n);
		total += n;
	}
	return total;
}
