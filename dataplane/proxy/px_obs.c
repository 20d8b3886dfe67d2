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
	char name[RTE_MEMPOOL_NAMESIZE];
	struct px_obs *o;

	o = rte_zmalloc_socket("px_obs", sizeof(*o), RTE_CACHE_LINE_SIZE, w->socket);
	if (o == NULL)
		return -ENOMEM;
	w->px.obs = o;
	o->us_per_tsc = 1e6 / (double)w->dp->hz;
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
	const struct dp_snapshot *s = w->dp->snapshot;

	return s != NULL && svc < s->n_svcs ? &s->svcs[svc].obj->pw[w->id].obs : NULL;
}

const struct px_obs_ep *px_obs_endpoint(const struct dp_worker *w, uint32_t svc, uint32_t ep)
{
	const struct dp_ep_state *st = dp_snapshot_ep(w->dp->snapshot, svc, ep);

	return st != NULL ? &st->obj->pw[w->id].obs : NULL;
}

/* One phase of a request of service s->svc, and of endpoint ep when one was picked. Both
 * objects are alive: the request holds them within this loop iteration. */
static void obs_record(struct dp_worker *w, const struct px_session *s, struct dp_endpoint *ep,
		       enum px_phase ph, uint64_t us)
{
	if (s->svc == NULL)
		return;
	px_hist_add(&px_svc(w, s->svc)->obs.h[ph], us);
	if (ep != NULL) {
		struct px_obs_ep *e = &px_ep(w, ep)->obs;

		e->count[ph]++;
		e->sum_us[ph] += us;
		if (us > e->max_us[ph])
			e->max_us[ph] = us;
	}
}

/* ---- hooks ---- */

void px_obs_reset(struct dp_worker *w, struct px_session *s, bool started)
{
	struct px_obs_req *r = &s->rq->obs;

	RTE_SET_USED(w);
	r->t_recv = started ? now_tsc() : 0;
	r->t_head = r->t_fwd = r->t_conn = r->t_resp = 0;
	r->ep = NULL;
	r->rec = NULL; /* the last request's record went to control with its line */
	tcp_conn_marks(s->conn, &r->in_mark, &r->out_mark);
}

void px_obs_rx(struct dp_worker *w, struct px_session *s)
{
	RTE_SET_USED(w);
	if (s->rq != NULL && s->state == PX_HEAD && s->rq->obs.t_recv == 0)
		s->rq->obs.t_recv = now_tsc();
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
	strcpy(((struct px_alog_rec *)rec)->svc, "-");
	strcpy(((struct px_alog_rec *)rec)->ep, "-");
	((struct px_alog_rec *)rec)->route = -1;
	s->rq->obs.rec = rec;
	return rec;
}

void px_obs_head(struct dp_worker *w, struct px_session *s, const struct http_iov *iov,
		 unsigned int n, int route)
{
	struct px_obs_req *r = &s->rq->obs;
	struct px_alog_rec *rec;

	r->t_head = now_tsc();
	if (r->t_recv == 0)
		r->t_recv = r->t_head;
	if (r->rec == NULL && !w->px.obs->log_on)
		return; /* no access log: no record to take */
	rec = r->rec != NULL ? r->rec : rec_take(w, s);
	if (rec == NULL)
		return;
	rec->route = route;
	rec->method_len = copy_span(iov, n, s->rq->req.method_s, rec->method, PX_ALOG_METHOD);
	rec->host_len = copy_span(iov, n, s->rq->req.host, rec->host, PX_ALOG_HOST);
	rec->target_len = copy_span(iov, n, s->rq->req.target, rec->target, PX_ALOG_TARGET);
}

/* Copy a name into a record field of PX_ALOG_NAME bytes, cut if longer. */
static void copy_name(char *dst, const char *name)
{
	snprintf(dst, PX_ALOG_NAME, "%s", name != NULL ? name : "-");
}

void px_obs_forwarded(struct dp_worker *w, struct px_session *s)
{
	RTE_SET_USED(w);
	s->rq->obs.t_fwd = now_tsc();
	s->rq->obs.ep = s->up != NULL ? s->up->ep : NULL;
	if (s->rq->obs.rec != NULL && s->rq->obs.ep != NULL)
		copy_name(s->rq->obs.rec->ep, s->rq->obs.ep->name);
}

void px_obs_connected(struct dp_worker *w, struct px_session *s)
{
	struct px_obs_req *r;

	if (s == NULL || s->rq == NULL || s->rq->obs.t_fwd == 0)
		return;
	r = &s->rq->obs;
	r->t_conn = now_tsc();
	obs_record(w, s, r->ep, PX_PH_CONNECT, us_between(w->px.obs, r->t_fwd, r->t_conn));
}

void px_obs_resp_head(struct dp_worker *w, struct px_session *s)
{
	struct px_obs_req *r = &s->rq->obs;
	uint64_t from = r->t_conn > r->t_fwd ? r->t_conn : r->t_fwd;

	r->t_resp = now_tsc();
	if (from != 0)
		obs_record(w, s, r->ep, PX_PH_FIRST_BYTE, us_between(w->px.obs, from, r->t_resp));
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
	struct px_obs_req *r = &s->rq->obs;
	struct px_alog_rec *rec = r->rec != NULL ? r->rec : rec_take(w, s);
	uint64_t from = r->t_conn > r->t_fwd ? r->t_conn : r->t_fwd;
	struct tcp_tuple t;
	uint32_t in, out;

	r->rec = NULL;
	if (rec == NULL || s->conn == NULL)
		return;
	tcp_conn_tuple(s->conn, &t);
	tcp_conn_marks(s->conn, &in, &out);
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
	copy_name(rec->listener, s->lst->conf != NULL ? s->lst->conf->name : NULL);
	if (s->svc != NULL)
		copy_name(rec->svc, s->svc->name);
	rec->worker = w->id;
	rec->aborted = aborted;
	/* never full: the ring has more slots than the pool has records */
	rte_ring_sp_enqueue(o->ring, rec);
}

void px_obs_done(struct dp_worker *w, struct px_session *s)
{
	struct px_obs_req *r;
	uint64_t now = now_tsc();

	if (s->rq == NULL)
		return; /* answered before it had request state (408 while waiting for one) */
	r = &s->rq->obs;
	if (r->t_head != 0)
		obs_record(w, s, r->ep, PX_PH_TOTAL, us_between(w->px.obs, r->t_head, now));
	/* without an access log (and so without a record) obs_log would find nothing to fill */
	if (r->rec != NULL || (r->t_recv != 0 && w->px.obs->log_on))
		obs_log(w, s, now, false);
	r->t_recv = r->t_head = 0;
}

void px_obs_end(struct dp_worker *w, struct px_session *s)
{
	struct px_obs_req *r;

	if (s->rq == NULL)
		return; /* idle, or waiting for request state: nothing begun to log */
	r = &s->rq->obs;
	if (w->px.obs == NULL || (r->t_recv == 0 && r->rec == NULL))
		return;
	if (dp_flag_get(&w->stop)) { /* torn down after the workers stopped: nobody will read it */
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
