/* SPDX-License-Identifier: BSD-3-Clause
 * The per-worker request pool: the state only a request in progress needs (struct px_req:
 * parser state, body framing, per-request timing and log record), taken on the first byte of
 * a request and given back when the session goes idle or ends.
 *
 * Why a pool of its own: a keep-alive connection is idle most of its life, and an idle one
 * then costs its TCB, its table share and a small session only (docs/BENCHMARKS.md, "Idle
 * connections"). nginx allocates its request on the first byte for the same reason.
 *
 * Header spans: each px_req owns px->n_hdrs of them (one array, allocated at start with the
 * pool), the largest limits.max_headers of the start-up configuration and at least a
 * response head's limit. The request head's parse records them, the proxy rebuilds the head
 * from them, then the response head of the upstream connection serving the request reuses
 * them (one head at a time). Why not one array per worker: a head parsed in pieces would find
 * its spans overwritten by another session's parse in between and need parsing again.
 *
 * Sizing: dataplane.max_connections / 4 per worker, at least PX_REQ_MIN, at most
 * max_connections (px_req_pool_size). When the pool is empty, a session whose request has
 * begun waits on a FIFO list with its bytes left in its receive queue (nothing is dropped,
 * the window closes on the client as usual); counted in http.req_pool_empty. Requests given
 * back go to the waiting sessions first, oldest first, from the worker loop (px_req_wake,
 * which posts them on the run list), so a session never runs inside another one's. The header timeout keeps running
 * while a session waits: a client whose head is not served within it gets its 408.
 */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "px_impl.h"

#define PX_REQ_MIN 64	   /* smallest pool, whatever max_connections says */
#define PX_REQ_DIVISOR 4   /* one px_req per this many sessions */
#define PX_REQ_WAKE_MAX 64 /* waiting sessions run per px_req_wake call */
/* A head in progress for this long may be evicted when complete requests wait: no client on
 * a working network needs a second to send a head, and a slowloris holds them for minutes. */
#define PX_EVICT_MIN_MS 1000

/* parser state 112 + spans pointer 8 + body framing 48 + timing 64 + retry state 64 +
 * free-list link, rounded up (the spans themselves: px_req_hdrs) */
#define PX_REQ_BUDGET 304
_Static_assert(sizeof(struct px_req) <= PX_REQ_BUDGET, "struct px_req outgrew its budget");

static uint32_t px_req_pool_size(uint32_t max_connections)
{
	uint32_t n = max_connections / PX_REQ_DIVISOR;

	if (n < PX_REQ_MIN)
		n = PX_REQ_MIN;
	return n < max_connections ? n : max_connections;
}

uint32_t px_req_hdrs(const struct dp_conf *conf)
{
	uint32_t n = HTTP_DEFAULT_MAX_HEADERS; /* a response head's limit (px_proxy.c) */

	for (uint32_t i = 0; i < conf->n_listeners; i++)
		n = RTE_MAX(n, conf->listeners[i].limits.max_headers);
	return RTE_MIN(n, (uint32_t)HTTP_MAX_HEADERS);
}

int px_req_init(struct dp_worker *w)
{
	struct px_worker *px = &w->px;
	uint32_t n = px_req_pool_size(w->dp->conf->dataplane.max_connections);
	uint32_t nh = px_req_hdrs(w->dp->conf);

	px->reqs = rte_zmalloc_socket("px_reqs", (size_t)n * sizeof(struct px_req),
				      RTE_CACHE_LINE_SIZE, w->socket);
	px->req_hdrs = rte_malloc_socket("px_req_hdrs", (size_t)n * nh * sizeof(struct http_header),
					 RTE_CACHE_LINE_SIZE, w->socket);
	if (px->reqs == NULL || px->req_hdrs == NULL) {
		px_req_fini(w);
		return -ENOMEM;
	}
	px->n_reqs = n;
	px->n_hdrs = nh;
	for (uint32_t i = 0; i < n; i++) {
		px->reqs[i].next_free = i + 1 < n ? i + 1 : PX_NONE;
		px->reqs[i].hdrs = &px->req_hdrs[(size_t)i * nh]; /* for its whole life */
	}
	px->req_free = 0;
	px->req_used = px->req_hwm = 0;
	px->wait_head = px->wait_tail = PX_NONE;
	px->n_waiting = 0;
	px->hd_head = px->hd_tail = PX_NONE;
	px->n_evicting = 0;
	return 0;
}

void px_req_fini(struct dp_worker *w)
{
	rte_free(w->px.reqs);
	rte_free(w->px.req_hdrs);
	w->px.reqs = NULL;
	w->px.req_hdrs = NULL;
	w->px.n_reqs = 0;
}

static inline uint32_t session_index(const struct px_worker *px, const struct px_session *s)
{
	return (uint32_t)(s - px->sessions);
}

/* The wait list and the heading list share the sessions' links (a session is on one at
 * most): head and tail of either are passed in. */
static void list_push(struct px_worker *px, struct px_session *s, uint32_t *head, uint32_t *tail)
{
	uint32_t idx = session_index(px, s);

	s->wait_next = PX_NONE;
	s->wait_prev = *tail;
	if (*tail != PX_NONE)
		px->sessions[*tail].wait_next = idx;
	else
		*head = idx;
	*tail = idx;
}

static void list_unlink(struct px_worker *px, struct px_session *s, uint32_t *head, uint32_t *tail)
{
	if (s->wait_prev != PX_NONE)
		px->sessions[s->wait_prev].wait_next = s->wait_next;
	else
		*head = s->wait_next;
	if (s->wait_next != PX_NONE)
		px->sessions[s->wait_next].wait_prev = s->wait_prev;
	else
		*tail = s->wait_prev;
	s->wait_next = s->wait_prev = PX_NONE;
}

static void wait_push(struct px_worker *px, struct px_session *s)
{
	list_push(px, s, &px->wait_head, &px->wait_tail);
	px->n_waiting++;
	s->waiting = 1;
}

static void wait_unlink(struct px_worker *px, struct px_session *s)
{
	list_unlink(px, s, &px->wait_head, &px->wait_tail);
	px->n_waiting--;
	s->waiting = 0;
}

void px_req_head_done(struct dp_worker *w, struct px_session *s)
{
	if (!s->heading)
		return;
	list_unlink(&w->px, s, &w->px.hd_head, &w->px.hd_tail);
	s->heading = 0;
}

void px_req_begin(struct dp_worker *w, struct px_session *s)
{
	const struct dp_limits_conf *l = &s->lst->limits;
	struct http_limits lim = {
		.max_header_bytes = l->max_header_bytes,
		.max_headers = RTE_MIN(l->max_headers, w->px.n_hdrs), /* never past the spans */
		.max_target = HTTP_DEFAULT_MAX_TARGET,
	};

	/* a reload cannot raise max_headers above every one at start (cfg_diff_live) */
	http_req_init(&s->rq->req, &lim, s->rq->hdrs);
	memset(&s->rq->body, 0, sizeof(s->rq->body));
	memset(&s->rq->rt, 0, sizeof(s->rq->rt));
	px_obs_reset(w, s, true);
}

/* Give s the first free request and start it. The caller checked that one is free. */
static void req_take(struct dp_worker *w, struct px_session *s)
{
	struct px_worker *px = &w->px;
	struct px_req *r = &px->reqs[px->req_free];

	px->req_free = r->next_free;
	px->req_used++;
	if (px->req_used > px->req_hwm)
		px->req_hwm = px->req_used;
	s->rq = r;
	px_req_begin(w, s); /* initialises every field a request uses, heading from now */
	if (s->t_wait != 0) {
		/* the request began when its first byte came, not when it got its state */
		r->obs.t_recv = s->t_wait;
		s->t_wait = 0;
	}
}

bool px_req_get(struct dp_worker *w, struct px_session *s)
{
	struct px_worker *px = &w->px;

	if (s->rq != NULL)
		return true;
	if (s->waiting)
		return false;
	/* requests given back go to the sessions already waiting first */
	if (px->req_free != PX_NONE && px->wait_head == PX_NONE) {
		req_take(w, s);
		return true;
	}
	px->cnt[PX_CNT_req_pool_empty]++;
	s->t_wait = rte_rdtsc();
	wait_push(px, s);
	return false;
}

void px_req_put(struct dp_worker *w, struct px_session *s)
{
	struct px_worker *px = &w->px;
	struct px_req *r = s->rq;

	if (s->waiting)
		wait_unlink(px, s);
	px_req_head_done(w, s);
	s->t_wait = 0;
	if (r == NULL)
		return;
	s->rq = NULL;
	r->next_free = px->req_free;
	px->req_free = (uint32_t)(r - px->reqs);
	px->req_used--;
}

void px_req_heading(struct dp_worker *w, struct px_session *s)
{
	if (s->heading)
		return;
	list_push(&w->px, s, &w->px.hd_head, &w->px.hd_tail);
	s->heading = 1;
}

/* Sessions wait and no px_req is free: the heads in progress for longest give theirs up, one
 * per waiting session, while they are older than PX_EVICT_MIN_MS (oldest first: the list is
 * in the order their heads were first found incomplete). A slowloris thus cannot starve complete requests by holding every
 * request state; without one it costs nothing but this check. */
static void evict_old_heads(struct dp_worker *w)
{
	struct px_worker *px = &w->px;
	const uint64_t min_age = w->dp->hz / 1000 * PX_EVICT_MIN_MS;
	const uint64_t now = rte_rdtsc();

	while (px->n_evicting < px->n_waiting && px->hd_head != PX_NONE) {
		struct px_session *v = &px->sessions[px->hd_head];

		if (now - v->rq->obs.t_recv < min_age)
			return;
		px_req_head_done(w, v);
		px->n_evicting++;
		px_post_session(px, v, PX_EV_EVICT);
	}
}

void px_req_wake(struct dp_worker *w)
{
	struct px_worker *px = &w->px;

	if (px->wait_head != PX_NONE && px->req_free == PX_NONE)
		evict_old_heads(w);
	for (unsigned int i = 0; i < PX_REQ_WAKE_MAX; i++) {
		struct px_session *s;

		if (px->wait_head == PX_NONE || px->req_free == PX_NONE)
			return;
		s = &px->sessions[px->wait_head];
		wait_unlink(px, s);
		req_take(w, s);
		px_post_session(px, s, 0);
	}
}
