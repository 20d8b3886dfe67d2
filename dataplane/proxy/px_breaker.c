/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: circuit_breaker's appliance-wide limits (max_requests, max_pending,
 * queue_timeout_ms, and the queue of max_connections).
 *
 * Workers share two words per service (dp_service.sh): inflight, the requests holding a
 * max_requests slot, and pending, the requests waiting for one. A request takes a slot with
 * one atomic add (and gives it straight back with one sub when the add went past the limit),
 * and gives it back with one sub when it ends (px_retry_end). No lock: two workers racing for
 * the last slot both add, at most one stays within the limit, and the other subtracts and
 * waits, so inflight never holds more than max_requests admitted requests (exact; the word
 * itself may read up to workers - 1 above the limit for the instant of a failed add).
 *
 * A request that finds no slot waits in its worker's FIFO (PX_QUEUED) while pending stays
 * within max_pending (also one atomic add, exact the same way), else gets 503 at once. A new
 * request does not overtake: while anybody waits for the service it queues too. Once per
 * loop the worker walks its queue and runs again, oldest first, each session whose service
 * shows a free slot (px_cb_wake); a slot freed on another worker is seen there on this
 * worker's next loop. After queue_timeout_ms a waiting request gets 503 (px_cb_timeout).
 *
 * max_connections (counted per endpoint in px_upstream.c) uses the same queue: a request
 * that px_proxy_start finds no connection for gives its slot back and waits
 * (px_cb_wait_conn); a queued request px_cb_admit lets through stays queued until
 * px_proxy_start has its connection too, then leaves the queue (px_cb_dequeue), so a
 * request waiting for a connection keeps its place and its timer.
 */
#include "px_impl.h"

#define PX_CB_WAKE_MAX 64 /* queued sessions run per px_cb_wake call */

static inline struct px_session *sess(struct px_worker *px, uint32_t i)
{
	return &px->sessions[i];
}

static void enqueue(struct px_worker *px, struct px_session *s)
{
	uint32_t i = (uint32_t)(s - px->sessions);

	s->wait_next = PX_NONE;
	s->wait_prev = px->q_tail;
	if (px->q_tail == PX_NONE)
		px->q_head = i;
	else
		sess(px, px->q_tail)->wait_next = i;
	px->q_tail = i;
	px->n_queued++;
}

void px_cb_unqueue(struct dp_worker *w, struct px_session *s)
{
	struct px_worker *px = &w->px;

	if (s->state != PX_QUEUED)
		return;
	if (s->wait_prev == PX_NONE)
		px->q_head = s->wait_next;
	else
		sess(px, s->wait_prev)->wait_next = s->wait_next;
	if (s->wait_next == PX_NONE)
		px->q_tail = s->wait_prev;
	else
		sess(px, s->wait_next)->wait_prev = s->wait_prev;
	s->wait_next = s->wait_prev = PX_NONE;
	px->n_queued--;
	px_session_enter(w, s, PX_HEAD); /* the head is still in rx, not consumed */
	if (s->svc != NULL)
		__atomic_sub_fetch(&s->svc->sh.pending, 1, __ATOMIC_RELAXED);
}

static bool take_slot(struct dp_svc_shared *sh, uint32_t max)
{
	/* a plain load first: waiters retried every loop leave the line shared while full */
	if (__atomic_load_n(&sh->inflight, __ATOMIC_RELAXED) >= max)
		return false;
	if (__atomic_add_fetch(&sh->inflight, 1, __ATOMIC_RELAXED) <= max)
		return true;
	__atomic_sub_fetch(&sh->inflight, 1, __ATOMIC_RELAXED);
	return false;
}

void px_cb_release(struct dp_worker *w, struct dp_service *svc)
{
	(void)w;
	__atomic_sub_fetch(&svc->sh.inflight, 1, __ATOMIC_RELAXED);
}

/* s waits for a slot or a connection: in the queue while pending stays within max_pending
 * (PX_CB_QUEUED), else PX_CB_FULL. */
static int wait(struct dp_worker *w, struct px_session *s, const struct dp_snap_svc *ss,
		const struct dp_breaker_conf *b)
{
	struct px_worker *px = &w->px;
	struct dp_svc_shared *sh = &ss->obj->sh;
	uint32_t p, q;

	p = __atomic_add_fetch(&sh->pending, 1, __ATOMIC_RELAXED);
	if (b->max_pending != 0 && p > b->max_pending) {
		__atomic_sub_fetch(&sh->pending, 1, __ATOMIC_RELAXED);
		px->cnt[PX_CNT_queue_full]++;
		return PX_CB_FULL;
	}
	q = __atomic_load_n(&sh->qmax, __ATOMIC_RELAXED);
	while (p > q && !__atomic_compare_exchange_n(&sh->qmax, &q, p, true, __ATOMIC_RELAXED,
						     __ATOMIC_RELAXED))
		;
	px->cnt[PX_CNT_queue_waits]++;
	s->svc = ss->obj;
	px_session_enter(w, s, PX_QUEUED);
	enqueue(px, s);
	px_arm_timer(w, &s->timer, b->queue_timeout_ms);
	return PX_CB_QUEUED;
}

int px_cb_admit(struct dp_worker *w, struct px_session *s, const struct dp_snap_svc *ss,
		uint32_t svc)
{
	struct px_worker *px = &w->px;
	const struct dp_breaker_conf *b = &px->snap->conf->services[svc].breaker;
	struct dp_svc_shared *sh = &ss->obj->sh;

	if (s->state == PX_QUEUED) {
		if (s->svc != ss->obj || (b->max_requests == 0 && b->max_connections == 0)) {
			px_cb_unqueue(w, s); /* a reload changed its service or lifted the limit */
			return px_cb_admit(w, s, ss, svc);
		}
		/* still queued either way: it may wait for a connection next (px_cb_wait_conn),
		 * or the caller takes it off (px_cb_dequeue) */
		if (b->max_requests == 0)
			return PX_CB_GO;
		return take_slot(sh, b->max_requests) ? PX_CB_SLOT : PX_CB_QUEUED;
	}
	if (b->consecutive_failures != 0) {
		uint32_t st = __atomic_load_n(&sh->cb_state, __ATOMIC_ACQUIRE);
		uint32_t z = DP_CB_TRIAL_FREE;

		if (st == DP_CB_HALF_OPEN &&
		    __atomic_compare_exchange_n(&sh->cb_trial, &z, DP_CB_TRIAL_CLAIMED, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			px->cnt[PX_CNT_breaker_trials]++;
			return PX_CB_TRIAL; /* the one trial: past the limits too */
		}
		if (st != DP_CB_CLOSED) {
			px->cnt[PX_CNT_breaker_open]++;
			px_svc(w, ss->obj)->cb_rejected++;
			return PX_CB_OPEN;
		}
	}
	if (b->max_requests == 0 && b->max_connections == 0)
		return PX_CB_GO;
	/* a new request does not overtake those waiting, for a slot or a connection */
	if (__atomic_load_n(&sh->pending, __ATOMIC_RELAXED) == 0) {
		if (b->max_requests == 0)
			return PX_CB_GO;
		if (take_slot(sh, b->max_requests))
			return PX_CB_SLOT;
	}
	return wait(w, s, ss, b);
}

int px_cb_wait_conn(struct dp_worker *w, struct px_session *s, const struct dp_snap_svc *ss,
		    uint32_t svc, int adm)
{
	struct px_worker *px = &w->px;
	int r;

	if (adm == PX_CB_SLOT)
		px_cb_release(w, ss->obj);
	if (adm == PX_CB_TRIAL) /* never tried: the next request is the trial */
		__atomic_store_n(&ss->obj->sh.cb_trial, DP_CB_TRIAL_FREE, __ATOMIC_RELEASE);
	if (s->state == PX_QUEUED)
		return PX_CB_QUEUED; /* keeps its place and its timer */
	r = wait(w, s, ss, &px->snap->conf->services[svc].breaker);
	px->cnt[r == PX_CB_QUEUED ? PX_CNT_conn_limit_waits : PX_CNT_conn_limit_refused]++;
	return r;
}

void px_cb_dequeue(struct dp_worker *w, struct px_session *s)
{
	px_cb_unqueue(w, s);
	px_arm_timer(w, &s->timer, s->lst->limits.idle_timeout_ms); /* as if never queued */
}

void px_cb_end(struct dp_worker *w, struct px_session *s, bool trial)
{
	struct dp_svc_pw *spw = px_svc(w, s->svc);
	bool ok = s->status != 0 && s->status < 500;

	if (trial) /* its result for control; no answer at all: the next request tries */
		__atomic_store_n(&s->svc->sh.cb_trial,
				 s->status == 0 ? DP_CB_TRIAL_FREE
				 : ok		? DP_CB_TRIAL_OK
						: DP_CB_TRIAL_FAIL,
				 __ATOMIC_RELEASE);
	if (s->status == 0)
		return; /* the client left before any answer: neither */
	if (ok) {
		__atomic_store_n(&spw->cb_ok, spw->cb_ok + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&spw->cb_run, 0, __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&spw->cb_fail, spw->cb_fail + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&spw->cb_run, spw->cb_run + 1, __ATOMIC_RELAXED);
	}
}

bool px_cb_timeout(struct dp_worker *w, struct px_session *s)
{
	struct px_worker *px = &w->px;
	bool body = !(s->rq->body.kind == HTTP_BODY_NONE || http_body_done(&s->rq->body));

	px_cb_unqueue(w, s);
	px->cnt[PX_CNT_queue_timeouts]++;
	px_rx_consume(s, s->rq->req.head_len);
	if (body)
		s->close_after = 1; /* its body is still unread */
	px_respond_error(w, s, 503);
	return true;
}

void px_cb_wake(struct dp_worker *w)
{
	struct px_worker *px = &w->px;
	uint32_t i = px->q_head, n = 0;

	while (i != PX_NONE && n < PX_CB_WAKE_MAX) {
		struct px_session *s = sess(px, i);
		uint32_t next = s->wait_next;

		n++;
		/* posted: its run (px_run_posted, next) takes the slot itself (px_cb_admit) or
		 * stays queued; a session whose connection the stack ended waits for its posted
		 * PX_EV_CLOSED to free it */
		if (s->conn != NULL)
			px_post_session(px, s, 0);
		i = next;
	}
}
