/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: what the HTTP session files share (px_session.c, px_proxy.c,
 * px_upstream.c). Private to dataplane/px_*.c.
 */
#ifndef SLUICE_PX_IMPL_H
#define SLUICE_PX_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dp_objs.h"
#include "dp_worker.h"
#include "http_parse.h"
#include "lb.h"
#include "px.h"
#include "px_obs.h"

enum px_state {
	PX_HEAD = 0,  /* waiting for a complete request head */
	PX_BODY,      /* discarding the request body (direct response) */
	PX_RESPOND,   /* direct response queued; a generated body may still be flowing */
	PX_DONE,      /* answered with Connection: close, waiting for nothing */
	PX_FWD_BODY,  /* proxy: forwarding the request body upstream */
	PX_WAIT_RESP, /* proxy: request sent; the upstream's response drives the session */
	PX_TUNNEL,    /* proxy: after 101, bytes both ways */
	PX_RETRY,     /* proxy: a try failed and may be tried again (px_retry.c) */
	PX_QUEUED,    /* proxy: waiting for a circuit_breaker slot (px_breaker.c) */
};

struct px_upstream;

/* A bound of a session or an upstream connection (header, idle, lingering close, queue;
 * connect, response, pool idle) on the worker's proxy wheel, kept lazily as TCP keeps its
 * own (tcpstack/tcp_timer.c): due is the deadline (a tick of the proxy wheel, 0: none), and
 * the wheel entry only has to fire no later than it. Moving a deadline earlier moves the
 * entry; a later one, or none, leaves the entry where it is, and when it fires early
 * px_timers finds nothing due and arms it again for what due holds by then (or lets it go).
 * A keep-alive request sets about five bounds (the session's header and idle bounds, the
 * upstream's response bound twice, its pool idle bound): this way each costs a comparison
 * instead of an unlink and a relink, and an entry moves about once per header timeout. Only
 * the object's free takes its entry off (px_timer_off). */
struct px_timer {
	struct tcp_timer t;
	uint64_t due;
};

/* Posted events (px_run.c). A TCP callback or a timer only records what happened on its own
 * object (ev) and posts the object on the worker's run list; once per loop, after RX, the
 * worker runs each posted object's transition function once (px_session_step,
 * px_upstream_step), for a bounded number of rounds while new events are posted. Timers run
 * from the loop too (px_timers). That loop is the only place sessions and upstream
 * connections are freed, and no callback runs another object's state machine: an upstream
 * connection reports its outcome to its session (px_session.up_ev) and posts it. */
enum px_ev {
	PX_EV_CLOSED = 1u << 0,	   /* the stack ended the connection (conn is NULL now) */
	PX_EV_WRITE = 1u << 1,	   /* send space on its connection */
	PX_EV_READ = 1u << 2,	   /* upstream: bytes or FIN from the endpoint */
	PX_EV_CONNECTED = 1u << 3, /* upstream: handshake done */
	PX_EV_PEER = 1u << 4,	   /* upstream: the client side can take more (send space) */
	PX_EV_EVICT = 1u << 2,	   /* session: give its px_req up, 408 (px_req.c) */
};

/* What an upstream connection reports to its session (px_session.up_ev): one at a time. */
enum px_up_ev {
	PX_UPEV_NONE = 0,
	PX_UPEV_DONE,	    /* the response is complete: release the pair, next request */
	PX_UPEV_FAIL,	    /* nothing reached the client: answer s->status, close after */
	PX_UPEV_ABORT,	    /* the response was cut after its head: abort the client too */
	PX_UPEV_TUNNEL,	    /* 101 went out: bytes both ways from now on */
	PX_UPEV_TUNNEL_END, /* the endpoint closed the tunnel */
	PX_UPEV_RETRY,	    /* the try failed, nothing reached the client, and the request
			     * may be tried again (px_retry.c); else answer s->status */
};

#define PX_RETRY_TRIED 3 /* endpoints a request remembers having tried */

/* A request's retry state (px_retry.c). The request is held so that another try can send it
 * again: its head as received (the mbufs it came in, taken off the receive queue instead of
 * freed: another try rebuilds the same head from them), and the body sent so far as clones of
 * the mbufs that went upstream. It is let go at the response head, when the body passes the
 * service's retries.max_body_bytes, or when the request ends. */
struct px_retry {
	struct rte_mbuf *head; /* the request head as received, while holding; else NULL */
	struct rte_mbuf *held; /* the body as sent, while holding and some was sent; else NULL */
	uint64_t t_first;      /* TSC of the first try's send complete (response_ms), 0 not yet */
	uint32_t held_body;    /* body bytes in held (max_body_bytes above 4 GiB holds none) */
	uint32_t held_true;    /* buffer bytes held pins (a 1-byte segment pins a whole mbuf) */
	struct dp_endpoint *tried[PX_RETRY_TRIED]; /* the last endpoints tried, current first */
	uint32_t svc_idx;			   /* the service's index in px->snap at start */
	uint8_t retries;			   /* retries made (retries.count bounds them) */
	uint8_t trial;		/* the breaker's half-open trial (px_breaker.c) */
	uint8_t idempotent : 1; /* may be retried on response conditions */
	uint8_t holding : 1;	/* every byte sent upstream is in held */
	uint8_t counted : 1;	/* counted in its service's active */
	uint8_t retrying : 1;	/* counted in its service's retrying */
	uint8_t ka_race : 1;	/* the keep-alive race retry was used */
	uint8_t fresh : 1;	/* the next try opens a new connection (keep-alive race) */
	uint8_t per_try : 1;	/* the try's timer is the per-try bound (not response_ms) */
	uint8_t slot : 1;	/* holds a max_requests slot of its service (px_breaker.c) */
};

/* What only a request in progress needs: parser state and timing, from the first byte of a
 * request head to the end of its response. Taken from the worker's request pool (px_req.c)
 * on a request's first byte and given back when the session goes idle or ends, so an idle
 * keep-alive connection holds none (docs/BENCHMARKS.md, "Idle connections"). */
struct px_req {
	struct http_msg req;
	/* px->n_hdrs header spans, this request's own (px_req.c): the request head's, then,
	 * once that head went upstream rebuilt (its spans are dead then), the response head's */
	struct http_header *hdrs;
	struct http_body body;
	struct px_obs_req obs; /* phase times, access-log record (px_obs.c) */
	struct px_retry rt;    /* retries (px_retry.c) */
	union {
		uint32_t next_free; /* while in the pool */
		uint32_t conf_gen;  /* px_worker.conf_gen its route was picked in */
	};
};

/* Laid out without holes: an idle keep-alive connection costs sizeof(struct px_session) here,
 * plus its TCB (docs/BENCHMARKS.md, "Idle connections"). */
struct px_session {
	struct tcp_conn *conn;
	struct px_listener *lst;
	struct rte_mbuf *rx;	/* received bytes not consumed yet, one chain */
	struct px_upstream *up; /* proxy: the upstream connection serving this request */
	struct dp_service *svc; /* proxy: the request's service while it has one, else NULL */
	struct px_req *rq;	/* the request in progress; NULL while idle or waiting for one */
	/* Never both at once: a generated body is queued in PX_RESPOND only, a session waits
	 * for a px_req in PX_HEAD only (px_req_get), and each is 0 outside of that. */
	union {
		uint64_t resp_left; /* generated body bytes still to queue */
		uint64_t t_wait;    /* TSC of the first byte of a request waiting for a px_req */
	};
	struct px_timer timer;
	union {
		uint32_t next_free; /* while free (px_request_reset sets route on accept) */
		int32_t route;	    /* index in the listener's routes, -1: error response; a
				     * reload that replaces the configuration resets it (px_apply) */
	};
	uint16_t status : 15;	 /* response being sent (PX_UPEV_FAIL: to send) */
	uint16_t counted : 1;	 /* in max_connections_per_client's table (px_ratelimit.c) */
	uint8_t state : 4;	 /* enum px_state */
	uint8_t close_after : 1; /* Connection: close once the response is out */
	uint8_t peer_fin : 1;
	uint8_t head_sent : 1;
	uint8_t waiting : 1; /* on the worker's list of sessions waiting for a px_req */
	uint8_t ev : 3;	     /* PX_EV_CLOSED, _WRITE, _EVICT not run yet */
	uint8_t up_ev : 3;   /* enum px_up_ev from its upstream, not run yet */
	uint8_t heading : 1; /* holds a px_req, its head not complete: on the heading list */
	uint8_t posted : 1;  /* on the run list (kept across free: px_run.c) */
	/* the wait list while waiting, the heading list while heading, the breaker queue while
	 * PX_QUEUED (never two: a waiting session has no px_req, a queued one has its whole
	 * head); session indices, PX_NONE at the ends */
	uint32_t wait_next, wait_prev;
};

enum px_up_state {
	PX_UP_FREE = 0,
	PX_UP_CONNECTING, /* SYN sent, request may already be queued */
	PX_UP_BUSY,	  /* serving a session */
	PX_UP_IDLE,	  /* in its endpoint's idle pool */
};

struct px_upstream {
	struct tcp_conn *conn;
	struct px_session *s;	/* NULL unless BUSY/CONNECTING */
	struct rte_mbuf *rx;	/* response bytes not forwarded yet */
	uint32_t next, prev;	/* free list, or the endpoint's idle list (indices) */
	struct dp_endpoint *ep; /* counted in ep->pw[worker].conns while set */
	uint8_t state;
	uint8_t ev;	/* enum px_ev not run yet */
	uint8_t posted; /* on the run list (kept across free: px_run.c) */
	uint8_t reason; /* PX_EV_CLOSED: enum tcp_close_reason */
	/* flags in bits, so that the timer's deadline takes no room of its own */
	uint16_t head_done : 1; /* the response head went to the client */
	uint16_t keep : 1;	/* the upstream may serve another request */
	uint16_t tunnel : 1;
	uint16_t broken : 1;	/* its receive queue could take no more segments */
	uint16_t fin : 1;	/* the upstream sent FIN */
	uint16_t resp_done : 1; /* response complete while the request body is still flowing:
				 * the connection is not reused (the backend may answer the rest
				 * too) */
	uint16_t reused : 1;	/* this try runs on a connection taken from the idle pool */
	uint16_t rx_any : 1;	/* a byte of this try's response arrived */
	uint16_t try_done : 1;	/* this try's outcome is recorded (px_try_end) */
	struct px_timer timer;	/* connect, response, or idle timeout */
	uint64_t idle_until;	/* IDLE under max_connections: TSC its pool idle timeout ends */
	struct http_msg resp;
	struct http_body body;
};

#define PX_NONE UINT32_MAX

_Static_assert((int)PX_ST_head == (int)PX_HEAD && (int)PX_ST_retry == (int)PX_RETRY &&
		       (int)PX_ST_queued == (int)PX_QUEUED &&
		       (int)PX_ST_up_idle - (int)PX_ST_up_connecting ==
			       (int)PX_UP_IDLE - (int)PX_UP_CONNECTING,
	       "PX_STATE_COUNTERS follows enum px_state and enum px_up_state");

/* Every state change of a session goes through here (docs/session-engine.md's table), counted
 * by the state entered (http_state counters; entering the state it is in counts too). */
static inline void px_session_enter(struct dp_worker *w, struct px_session *s, enum px_state st)
{
	w->px.st[st]++;
	s->state = st;
}

/* Every state change of an upstream connection but its free (the pool's memset) goes through
 * here, counted like px_session_enter's. */
static inline void px_up_enter(struct dp_worker *w, struct px_upstream *up, enum px_up_state st)
{
	w->px.st[PX_ST_up_connecting + (st - PX_UP_CONNECTING)]++;
	up->state = st;
}

/* px_req.c: the per-worker request pool. px_req_get gives s a request (s->rq) or, when the
 * pool is empty, queues s to get one as soon as one comes back (px_req_wake) and returns
 * false. px_req_put gives s's request back (none: nothing) and takes s off the wait list. */
int px_req_init(struct dp_worker *w);
/* Header spans per px_req for configuration conf: its largest max_headers, at least a
 * response head's HTTP_DEFAULT_MAX_HEADERS. Any thread. */
uint32_t px_req_hdrs(const struct dp_conf *conf);
void px_req_fini(struct dp_worker *w);
bool px_req_get(struct dp_worker *w, struct px_session *s);
void px_req_put(struct dp_worker *w, struct px_session *s);
/* s's request head came in pieces: on the heading list, oldest first (once). */
void px_req_heading(struct dp_worker *w, struct px_session *s);
/* s's head is complete (or refused): off the heading list, never evicted. */
void px_req_head_done(struct dp_worker *w, struct px_session *s);
/* A heading session to evict (PX_EV_EVICT) runs: 408 and close if its head is still
 * incomplete. Returns false when the session is gone. */
bool px_req_evicted(struct dp_worker *w, struct px_session *s);
/* Hand requests given back to the sessions waiting for one, oldest first, and run them. Once
 * per loop (px_timers): never from inside another session's callbacks. */
void px_req_wake(struct dp_worker *w);

/* px_breaker.c: circuit_breaker's limits. px_cb_admit decides a request about to go to
 * service svc: PX_CB_SLOT (it took a slot: *slot set, give it back with px_cb_release),
 * PX_CB_GO (no limit), PX_CB_QUEUED (s waits, PX_QUEUED: px_cb_wake posts it again) or
 * PX_CB_FULL (answer 503 now). A queued session it lets through (SLOT or GO) stays queued:
 * the caller takes it off with px_cb_dequeue once it has its connection too, or puts it
 * back to waiting with px_cb_wait_conn. px_cb_unqueue takes a queued session off the queue
 * (its end, a timeout). px_cb_wake, once per loop, posts the queued sessions: their runs take the slots that fit. */
enum { PX_CB_GO = 0, PX_CB_SLOT, PX_CB_QUEUED, PX_CB_FULL, PX_CB_TRIAL, PX_CB_OPEN };
/* A request that px_cb_admit let through (adm) finds no connection within max_connections:
 * its slot is given back and it waits in the queue (PX_CB_QUEUED; it stays there when it was
 * queued already), or gets 503 now when the queue is full (PX_CB_FULL). */
int px_cb_wait_conn(struct dp_worker *w, struct px_session *s, const struct dp_snap_svc *ss,
		    uint32_t svc, int adm);
/* A request px_cb_admit let through while queued got everything it waited for: off the
 * queue. */
void px_cb_dequeue(struct dp_worker *w, struct px_session *s);
int px_cb_admit(struct dp_worker *w, struct px_session *s, const struct dp_snap_svc *ss,
		uint32_t svc);
void px_cb_release(struct dp_worker *w, struct dp_service *svc);
/* The request of s ends (px_retry_end, counted requests only): its final status for the
 * breaker; trial: it was the half-open trial. */
void px_cb_end(struct dp_worker *w, struct px_session *s, bool trial);
void px_cb_unqueue(struct dp_worker *w, struct px_session *s);
void px_cb_wake(struct dp_worker *w);
/* A queued session's timer fired (queue_timeout_ms): off the queue, its 503 started; the caller
 * runs the session on. Returns true. */
bool px_cb_timeout(struct dp_worker *w, struct px_session *s);

/* px_run.c: the run list. post_* record ev on the object and put it on the list once. */
int px_run_init(struct dp_worker *w);
void px_run_fini(struct dp_worker *w);
#define PX_RUN_UP (1u << 31) /* a run-list entry naming an upstream connection */

static inline void px_runq_push(struct px_worker *px, uint32_t e)
{
	px->runq[px->runq_tail++ & px->runq_mask] = e;
}

static inline void px_post_session(struct px_worker *px, struct px_session *s, unsigned int ev)
{
	s->ev |= ev;
	if (!s->posted) {
		s->posted = 1;
		px_runq_push(px, (uint32_t)(s - px->sessions));
	}
}

static inline void px_post_upstream(struct px_worker *px, struct px_upstream *up, unsigned int ev)
{
	up->ev |= ev;
	if (!up->posted) {
		up->posted = 1;
		px_runq_push(px, (uint32_t)(up - px->upstreams) | PX_RUN_UP);
	}
}

/* Report outcome uev of s's upstream to s and post s. */
static inline void px_post_up_ev(struct px_worker *px, struct px_session *s, enum px_up_ev uev)
{
	s->up_ev = uev;
	px_post_session(px, s, 0);
}
/* Run what is posted: bounded rounds while new events come. Worker loop only. */
void px_run_posted(struct dp_worker *w);

/* px_session.c */
enum px_end { PX_END_CLOSED_BY_STACK, PX_END_CLOSE, PX_END_ABORT };
void px_session_free(struct dp_worker *w, struct px_session *s, enum px_end how);
/* The session's transition function: its events (ev), its upstream's report (up_ev), then
 * its state machine as far as the bytes and the send queue allow. From px_run_posted only. */
void px_session_step(struct dp_worker *w, struct px_session *s, unsigned int ev);
bool px_session_run(struct dp_worker *w, struct px_session *s);
int px_respond_error(struct dp_worker *w, struct px_session *s, unsigned int status);
/* Refuse the current request for parser error err (-HTTP_E_*): counted in http_err, answered
 * with its status, the connection closed after the answer. */
int px_refuse(struct dp_worker *w, struct px_session *s, int err);
/* Answer the current request: its route's respond (s->route >= 0), or status with a short
 * text body. px_respond.c. */
int px_respond(struct dp_worker *w, struct px_session *s, unsigned int status);
/* Generated bodies (respond: {bytes: N}) attach to this buffer; allocate it. px_respond.c. */
int px_make_pattern(struct dp_worker *w);
/* Queue more of a generated body while the send queue has room. px_respond.c. */
int px_send_generated(struct dp_worker *w, struct px_session *s);
/* The response is complete: s goes back to waiting for a request head, keeping its px_req only
 * when the next request's bytes are already here (pipelining), else giving it back. */
void px_request_reset(struct dp_worker *w, struct px_session *s);
/* Start the request state s->rq (not NULL) for a new request. */
void px_req_begin(struct dp_worker *w, struct px_session *s);
/* Stop listening on every listener of the applied snapshot (graceful shutdown). */
void px_unlisten_all(struct dp_worker *w);
const char *px_reason(unsigned int status);
void px_count_status(struct px_worker *px, unsigned int status);
/* Count a response by class in an object's counters. */
static inline void px_obj_status(uint64_t *cnt, unsigned int status)
{
	unsigned int c = status / 100;

	if (c >= 1 && c <= 5)
		cnt[PX_OBJ_responses_1xx + c - 1]++;
}

/* Chain helpers (px_session.c). rx_take detaches the first n bytes of *chain as a chain of
 * their own, without copying (a straddling segment is split with an indirect mbuf); NULL
 * when out of mbufs. */
struct rte_mbuf *px_chain_take(struct rte_mempool *pool, struct rte_mbuf **chain, uint32_t n);
void px_chain_drop(struct rte_mbuf **chain, uint32_t n);
/* more segments than this in a receive queue: px_chain_coalesce copies them */
#define PX_COALESCE_SEGS 16
int px_chain_coalesce(struct rte_mempool *pool, struct rte_mbuf **chain);
int px_chain_append(struct rte_mempool *pool, struct rte_mbuf *head, const void *data,
		    uint32_t len);

/* Drop n bytes from the front of s's receive queue and give them back to the window. */
static inline void px_rx_consume(struct px_session *s, uint32_t n)
{
	px_chain_drop(&s->rx, n);
	tcp_recved(s->conn, n);
}

/* Set t's bound to ms from now on the worker's proxy wheel; 0 stops it. Shared by sessions
 * and upstream connections (header, idle, connect, response, pool timeouts). The entry moves
 * only when the bound comes earlier than the tick it is armed for (struct px_timer). */
static inline void px_arm_timer(struct dp_worker *w, struct px_timer *t, uint32_t ms)
{
	struct tcp_wheel *wh = &w->px.wheel;
	uint64_t due;

	if (ms == 0) {
		t->due = 0; /* an entry still armed fires once and finds nothing due */
		return;
	}
	due = wh->now + tcp_wheel_ms_to_ticks(wh, ms); /* tcp_wheel_now(), inline */
	t->due = due;
	if (!tcp_timer_armed(&t->t) || t->t.expire > due)
		tcp_wheel_arm(wh, &t->t, due);
}

/* Stop t and take its entry off the wheel: its object is freed. */
static inline void px_timer_off(struct dp_worker *w, struct px_timer *t)
{
	t->due = 0;
	tcp_wheel_cancel(&w->px.wheel, &t->t);
}

/* t's wheel entry fired (px_timers): true when its bound is due, and then it is stopped;
 * false when nothing is due (stopped, or moved later: the entry is armed again for it). */
static inline bool px_timer_due(struct dp_worker *w, struct px_timer *t)
{
	struct tcp_wheel *wh = &w->px.wheel;

	if (t->due == 0)
		return false;
	if (t->due > wh->now) {
		tcp_wheel_arm(wh, &t->t, t->due);
		return false;
	}
	t->due = 0;
	return true;
}

/* The state of stable objects as this worker sees them. */
static inline struct dp_ep_pw *px_ep(const struct dp_worker *w, struct dp_endpoint *ep)
{
	return &ep->pw[w->id];
}
static inline struct dp_svc_pw *px_svc(const struct dp_worker *w, struct dp_service *svc)
{
	return &svc->pw[w->id];
}

/* Appenders for heads sluice writes (instead of snprintf, 2.4 k instructions per response:
 * docs/BENCHMARKS.md). Each writes at p, returns the end; the caller sized the buffer. */
static inline char *px_put(char *p, const void *src, size_t len)
{
	memcpy(p, src, len);
	return p + len;
}

#define PX_PUT_LIT(p, lit) px_put(p, lit, sizeof(lit) - 1)

static inline char *px_put_str(char *p, const char *str)
{
	return px_put(p, str, strlen(str));
}

/* v in decimal, at most 20 digits: counted first, then written from the last one back, in
 * place (no copy of a length known only at run time: a memcpy call for two digits). */
static inline char *px_put_u64(char *p, uint64_t v)
{
	unsigned int n = 1;
	char *e;

	for (uint64_t x = v; x >= 10; x /= 10)
		n++;
	e = p + n;
	do {
		*--e = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p + n;
}

/* px_lbkey.c: lb_pick of service svc's balancer for the request whose head lies at base,
 * parsed as m: sets the time for slow start, hashes the key for maglev. */
int px_lb_pick(struct dp_worker *w, struct px_session *s, uint32_t svc, const uint8_t *base,
	       const struct http_msg *m);

/* px_ratelimit.c: take a token of route's rate_limit (on) for the current request, its head
 * parsed from iov. Returns 0 admitted, or the Retry-After seconds (>= 1) of a refusal,
 * counted. Worker only. */
int px_rate_limit(struct dp_worker *w, struct px_session *s, const struct dp_listener_conf *l,
		  uint32_t route, const struct http_iov *iov, unsigned int n_iov);
/* max_connections_per_client of listener lst for the new connection c: 0 admitted, with
 * *counted set when the table counts it; -EBUSY over the limit (counted; the caller refuses). */
int px_client_conn_acquire(struct dp_worker *w, struct px_listener *lst, struct tcp_conn *c,
			   bool *counted);
/* The session's connection ends (s->conn still set): its source address counts one less. */
void px_client_conn_release(struct dp_worker *w, struct px_session *s);
/* Answer the current request (head of head_len bytes in rx) 429 with Retry-After. */
int px_rate_refuse(struct dp_worker *w, struct px_session *s, uint32_t head_len,
		   uint32_t retry_after);

/* px_proxy.c: a request routed to a service (index in the applied snapshot). */
int px_proxy_start(struct dp_worker *w, struct px_session *s, uint32_t svc);
int px_proxy_body(struct dp_worker *w, struct px_session *s);
int px_proxy_tunnel_up(struct dp_worker *w, struct px_session *s);
void px_proxy_response(struct dp_worker *w, struct px_upstream *up);
void px_proxy_detach(struct dp_worker *w, struct px_session *s);
/* Give it up gracefully (closed after what is queued): a tunnel that one side ended. */
void px_proxy_close(struct dp_worker *w, struct px_session *s);
/* The response is complete (PX_UPEV_DONE): release the pair, the upstream to its pool. */
void px_proxy_done(struct dp_worker *w, struct px_session *s);

/* px_retry.c: the retry policy and the held request (docs/configuration.md, "Retries"). */
/* A proxied request starts on service svc (index in px->snap): counted in the service's
 * active requests, idempotence decided (method as received: method/len). */
void px_retry_begin(struct dp_worker *w, struct px_session *s, uint32_t svc, const uint8_t *method,
		    uint32_t len);
/* Hold head, the request head as received (ownership passes in every case), for another try.
 * Only while holding (the caller checked). */
void px_retry_hold_head(struct dp_worker *w, struct px_session *s, struct rte_mbuf *head);
/* Hold m (body bytes about to go upstream) for another try: a clone of it joins the held
 * request while the body stays within max_body_bytes. */
void px_retry_hold(struct dp_worker *w, struct px_session *s, struct rte_mbuf *m);
/* The response head arrived: no more tries, the held request is let go. */
void px_retry_head(struct dp_worker *w, struct px_session *s);
/* May s's failed try on up be tried again? cond: the dp_retry_on condition the failure meets
 * (0 none). A try on a connection still CONNECTING sent nothing. A keep-alive race marks the
 * next try as one on a fresh connection. */
bool px_retry_allowed(struct dp_worker *w, struct px_session *s, const struct px_upstream *up,
		      uint32_t cond);
/* The request is over: what it holds and counts is given back. */
void px_retry_end(struct dp_worker *w, struct px_session *s);
/* The bound of the try's wait for its response head, from now: per_try_ms and what is left
 * of response_ms since the first try's send, whichever comes first (the first send now when
 * it has not been). Sets rt.per_try when per_try_ms is the nearer bound. */
uint32_t px_retry_timeout(struct dp_worker *w, struct px_session *s);
/* Attach up (to ep) to s for a new try: the session's upstream from now. */
void px_proxy_attach(struct dp_worker *w, struct px_session *s, struct px_upstream *up);
/* PX_RETRY (px_proxy.c): start the next try (another endpoint when one is usable) with the
 * held request, or answer s->status when it cannot start. Returns as px_session_run's steps
 * do. */
int px_retry_start(struct dp_worker *w, struct px_session *s);

/* px_upstream.c */
int px_upstream_init(struct dp_worker *w);
void px_upstream_fini(struct dp_worker *w);
struct px_upstream *px_upstream_get(struct dp_worker *w, struct dp_endpoint *ep);
/* A new connection to ep, never one from its idle pool (a retry after a keep-alive race).
 * NULL with rte_errno EBUSY when ep is at its circuit_breaker.max_connections, else ENOBUFS
 * or ECONNREFUSED (px_upstream_get's NULL says the same). */
struct px_upstream *px_upstream_new(struct dp_worker *w, struct dp_endpoint *ep);
/* Whether a request of this worker could have a connection to ep now: ep has no
 * max_connections, has an idle one here, or is below its limit (a hint: px_upstream_new
 * decides). Worker. */
bool px_upstream_ready(const struct dp_worker *w, const struct dp_endpoint *ep);
/* A request of this worker waits because ep is at its limit: for the next 50 ms, connections
 * to ep that end their request on any worker close instead of going idle, and idle ones close
 * within 5 ms, so the waiter can open one. Worker. */
void px_upstream_starved(struct dp_worker *w, struct dp_endpoint *ep);
/* The try on up (BUSY or CONNECTING, serving a session) ended with outcome o: the one place an
 * outcome is recorded, once per try, in the endpoint's passive slot (dp_health.h). */
void px_try_end(struct dp_worker *w, struct px_upstream *up, enum dp_outcome o);
/* The try on up failed with outcome o before anything reached the client: recorded, and the
 * session told to retry (cond: the enum dp_retry_on condition it meets, 0 none) or to answer
 * status. */
void px_try_fail(struct dp_worker *w, struct px_upstream *up, enum dp_outcome o, uint32_t cond,
		 unsigned int status);
/* The request picked on ep is over: one in flight less, for the balancer too when ep is still
 * in the applied snapshot. */
void px_ep_done(struct dp_worker *w, struct dp_endpoint *ep);
void px_apply_services(struct dp_worker *w, const struct dp_snapshot *old,
		       const struct dp_snapshot *snap);
void px_upstream_release(struct dp_worker *w, struct px_upstream *up, bool complete, bool reuse);
/* The upstream connection's transition function (px_run_posted only): an idle one's events
 * are the pool's (px_upstream_idle_step, px_upstream.c), a busy one's the proxy's
 * (px_proxy.c). */
void px_upstream_step(struct dp_worker *w, struct px_upstream *up, unsigned int ev);
/* up is idle: its events handled (closed or unusable: dropped); false when it is not idle. */
bool px_upstream_idle_step(struct dp_worker *w, struct px_upstream *up, unsigned int ev);
/* The stack ended the connection (up->conn is NULL already): counted, and what it means for
 * its session posted to it; up is freed. */
void px_upstream_closed(struct dp_worker *w, struct px_upstream *up);
/* Its timer expired (the worker's timer wheel, in the loop). */
void px_upstream_timer(struct dp_worker *w, struct px_upstream *up);
bool px_is_upstream_timer(struct dp_worker *w, struct px_timer *t, struct px_upstream **up);

#endif /* SLUICE_PX_IMPL_H */
