/* SPDX-License-Identifier: BSD-3-Clause
 * The probe executor of one worker (hc.h): probe slots, source ports, the probe's state
 * machine and its TCP callbacks, deadlines, answers.
 *
 * A probe in flight is a slot: the probe (control's block, owned by the worker until it is
 * answered), its connection, its deadline on the executor's own timer wheel and what it has
 * read. Its states:
 *
 *   CONNECTING  SYN sent               connected: TCP -> L4OK; HTTP -> request sent, SENT
 *                                      refused/reset -> L4CON; deadline -> L4TOUT
 *   SENT        request queued         first byte -> READING; FIN -> L7RSP; RST -> L4CON;
 *                                      deadline -> L7TOUT
 *   READING     head, then body bytes  verdict from the status and the body (L7OK, L7STS),
 *                                      L7RSP for what is not HTTP, FIN or RST before the end;
 *                                      deadline -> L7TOUT
 *   DONE        verdict known          on the done list: the loop aborts the connection
 *                                      (RST) and answers on the reply ring
 *
 * The TCP callbacks of a probe's connection run only that probe's machine. Slots are released
 * in one place, answer_done(), from the loop.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "dp_objs.h"
#include "dp_wheel.h"
#include "dp_worker.h"
#include "hc.h"
#include "http_parse.h"

/* Source ports: below the proxy's upstream range (32768-60999, px_upstream.c), so probes
 * never compete with traffic for a port, and like it port % workers == worker: replies to a
 * port outside every listener belong to that worker (dp_tcp_owner). */
#define HC_PORT_MIN 16384
#define HC_PORT_MAX 32767
#define HC_PORT_TRIES 8

#define HC_HEAD_MAX 8192 /* bytes of a response head (interim responses included) */
#define HC_HEAD_HEADERS 100
#define HC_IOV_MAX 32 /* segments a head may arrive in */

#define HC_NONE UINT32_MAX

enum hc_state {
	HC_FREE = 0,
	HC_CONNECTING,
	HC_SENT,
	HC_READING,
	HC_DONE,
};

struct hc_slot {
	struct dp_worker *w;
	struct dp_probe *p;
	struct tcp_conn *c; /* NULL once aborted or closed */
	struct tcp_timer timer;
	uint64_t start_tsc;
	struct rte_mbuf *rx; /* the response so far, while its head is incomplete */
	uint32_t head_off;   /* where the response being parsed starts in rx (after 1xx) */
	uint32_t next;	     /* free list or done list */
	uint32_t body_seen;  /* body payload bytes searched */
	uint16_t matched;    /* bytes of the needle matched so far (KMP) */
	uint8_t state;	     /* enum hc_state */
	bool head_done;
	struct http_msg msg;
	struct http_body body;
	uint8_t fail[DP_PROBE_NEEDLE_MAX]; /* KMP failure function of the needle */
};

/* 1023 slots (the largest reserve) stay within half a megabyte per worker. */
#define HC_SLOT_BUDGET 512
_Static_assert(sizeof(struct hc_slot) <= HC_SLOT_BUDGET, "struct hc_slot outgrew its budget");

const char *const hc_counter_names[HC_CNT_MAX] = {
#define HC_CNT_NAME(name) #name,
	HC_COUNTERS(HC_CNT_NAME)
#undef HC_CNT_NAME
};

/* The result counter of each status. */
static const uint8_t status_counter[DP_CHK_MAX] = {
	[DP_CHK_INI] = HC_CNT_sockerr,	   [DP_CHK_L4OK] = HC_CNT_l4ok,
	[DP_CHK_L4TOUT] = HC_CNT_l4tout,   [DP_CHK_L4CON] = HC_CNT_l4con,
	[DP_CHK_L7OK] = HC_CNT_l7ok,	   [DP_CHK_L7TOUT] = HC_CNT_l7tout,
	[DP_CHK_L7RSP] = HC_CNT_l7rsp,	   [DP_CHK_L7STS] = HC_CNT_l7sts,
	[DP_CHK_SOCKERR] = HC_CNT_sockerr, [DP_CHK_SKIPPED] = HC_CNT_skipped,
};

size_t hc_slot_size(void)
{
	return sizeof(struct hc_slot);
}

uint32_t hc_reserve_size(uint32_t max_connections)
{
	uint32_t n = max_connections / HC_RESERVE_DIVISOR;

	if (n < HC_RESERVE_MIN)
		n = HC_RESERVE_MIN;
	return n < DP_PROBE_RING_SIZE - 1 ? n : DP_PROBE_RING_SIZE - 1;
}

static inline struct hc_worker *hc_of(struct dp_worker *w)
{
	return &w->hc;
}

static inline uint32_t slot_idx(const struct hc_worker *hc, const struct hc_slot *s)
{
	return (uint32_t)(s - hc->slots);
}

int hc_init(struct dp_worker *w)
{
	struct hc_worker *hc = hc_of(w);
	uint32_t n = w->ts.conf.reserve_connections;
	uint64_t now = w->ns.now ? w->ns.now : rte_rdtsc();

	memset(hc, 0, sizeof(*hc));
	hc->free_head = hc->done_head = hc->done_tail = HC_NONE;
	hc->port_cursor = (uint32_t)rte_rand();
	tcp_wheel_init(&hc->wheel, now, w->dp->hz / 1000);
	if (n == 0)
		return 0;
	hc->slots = rte_zmalloc_socket("hc_slots", (size_t)n * sizeof(struct hc_slot),
				       RTE_CACHE_LINE_SIZE, w->socket);
	if (hc->slots == NULL)
		return -ENOMEM;
	hc->n_slots = n;
	for (uint32_t i = 0; i < n; i++) {
		hc->slots[i].next = i + 1 < n ? i + 1 : HC_NONE;
		tcp_timer_init(&hc->slots[i].timer);
	}
	hc->free_head = 0;
	return 0;
}

void hc_fini(struct dp_worker *w)
{
	struct hc_worker *hc = hc_of(w);

	for (uint32_t i = 0; i < hc->n_slots; i++) {
		struct hc_slot *s = &hc->slots[i];

		if (s->state == HC_FREE)
			continue;
		free(s->p);
		rte_pktmbuf_free(s->rx);
		memset(s, 0, sizeof(*s));
	}
	for (uint32_t i = 0; i < hc->n_held; i++)
		free(hc->held[i]);
	hc->n_held = 0;
	rte_free(hc->slots);
	hc->slots = NULL;
	hc->n_slots = hc->used = 0;
	hc->free_head = hc->done_head = hc->done_tail = HC_NONE;
}

/* ---- answers ---- */

static void fill(struct dp_worker *w, struct dp_probe *p, uint8_t status, uint64_t start,
		 const char *fmt, va_list ap)
{
	uint64_t us =
		start != 0 && w->ns.now > start ? (w->ns.now - start) * 1000000 / w->dp->hz : 0;

	p->status = status;
	p->worker = w->id;
	p->duration_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	w->hc.cnt[status_counter[status]]++;
}

/* Answer p, which never had a slot (or gave it back at once). Kept back when the reply ring
 * is full, which control's bound rules out; new probes are not taken meanwhile. */
static void __rte_format_printf(4, 5)
	answer_now(struct dp_worker *w, struct dp_probe *p, uint8_t status, const char *fmt, ...)
{
	struct hc_worker *hc = hc_of(w);
	va_list ap;

	va_start(ap, fmt);
	fill(w, p, status, 0, fmt, ap);
	va_end(ap);
	p->code = 0;
	if (hc->n_held == 0 && rte_ring_sp_enqueue(w->probe.rep, p) == 0)
		return;
	hc->cnt[HC_CNT_rep_full]++;
	hc->held[hc->n_held++] = p; /* room: at most HC_BURST are taken while none is held */
}

/* The verdict of slot s: fill its probe, put it on the done list, where answer_done() aborts
 * its connection (RST, no TIME_WAIT) and answers. Only the first verdict counts. The abort
 * waits for the loop rather than happening inside the callback that brought the verdict, so
 * that what the stack sends at the end of that callback goes first: for a TCP check, the ACK
 * of the SYN-ACK, so the backend sees a complete connection, then the RST. */
static void __rte_format_printf(3, 4)
	verdict(struct hc_slot *s, uint8_t status, const char *fmt, ...)
{
	struct dp_worker *w = s->w;
	struct hc_worker *hc = hc_of(w);
	va_list ap;

	if (s->state == HC_DONE || s->state == HC_FREE)
		return;
	va_start(ap, fmt);
	fill(w, s->p, status, s->start_tsc, fmt, ap);
	va_end(ap);
	tcp_wheel_cancel(&hc->wheel, &s->timer);
	rte_pktmbuf_free(s->rx);
	s->rx = NULL;
	s->state = HC_DONE;
	s->next = HC_NONE;
	if (hc->done_tail != HC_NONE)
		hc->slots[hc->done_tail].next = slot_idx(hc, s);
	else
		hc->done_head = slot_idx(hc, s);
	hc->done_tail = slot_idx(hc, s);
}

static void slot_release(struct hc_worker *hc, struct hc_slot *s)
{
	memset(s, 0, sizeof(*s));
	tcp_timer_init(&s->timer);
	s->next = hc->free_head;
	hc->free_head = slot_idx(hc, s);
	hc->used--;
}

static unsigned int answer_done(struct dp_worker *w)
{
	struct hc_worker *hc = hc_of(w);
	unsigned int n = 0;

	while (hc->n_held > 0) {
		if (rte_ring_sp_enqueue(w->probe.rep, hc->held[0]) != 0)
			return n;
		memmove(&hc->held[0], &hc->held[1], (hc->n_held - 1) * sizeof(hc->held[0]));
		hc->n_held--;
		n++;
	}
	while (hc->done_head != HC_NONE) {
		struct hc_slot *s = &hc->slots[hc->done_head];

		if (s->c != NULL) {
			struct tcp_conn *c = s->c;

			s->c = NULL;
			tcp_abort(c); /* no callback from here on */
		}
		if (rte_ring_sp_enqueue(w->probe.rep, s->p) != 0) {
			hc->cnt[HC_CNT_rep_full]++;
			break; /* offered again next iteration */
		}
		hc->done_head = s->next;
		if (hc->done_head == HC_NONE)
			hc->done_tail = HC_NONE;
		slot_release(hc, s);
		n++;
	}
	return n;
}

/* ---- the response ---- */

static bool status_expected(const struct dp_probe *p, uint16_t code)
{
	unsigned int n = p->n_expect < DP_PROBE_EXPECT_MAX ? p->n_expect : DP_PROBE_EXPECT_MAX;

	if (n == 0)
		return code >= 200 && code <= 399;
	for (unsigned int i = 0; i < n; i++)
		if (code >= p->expect[i].lo && code <= p->expect[i].hi)
			return true;
	return false;
}

static void needle_prepare(struct hc_slot *s)
{
	const char *nd = s->p->needle;
	uint16_t len = s->p->needle_len, k = 0;

	s->fail[0] = 0;
	for (uint16_t i = 1; i < len; i++) {
		while (k > 0 && nd[i] != nd[k])
			k = s->fail[k - 1];
		if (nd[i] == nd[k])
			k++;
		s->fail[i] = (uint8_t)k;
	}
	s->matched = 0;
}

/* Search body bytes for the needle, carrying a partial match across calls (so across
 * segments). True when it is found. */
static bool needle_feed(struct hc_slot *s, const uint8_t *b, uint32_t len)
{
	const char *nd = s->p->needle;
	uint16_t n = s->p->needle_len, q = s->matched;

	for (uint32_t i = 0; i < len; i++) {
		while (q > 0 && (uint8_t)nd[q] != b[i])
			q = s->fail[q - 1];
		if ((uint8_t)nd[q] == b[i])
			q++;
		if (q == n)
			return true;
	}
	s->matched = q;
	return false;
}

static void needle_missing(struct hc_slot *s)
{
	verdict(s, DP_CHK_L7STS, "body did not contain '%.*s'", (int)s->p->needle_len,
		s->p->needle);
}

/* Body bytes p[0..len) of the response (framing included). */
static void body_feed(struct hc_slot *s, const uint8_t *p, uint32_t len)
{
	while (len > 0 && s->state == HC_READING) {
		struct http_body_data d = { 0, 0 };
		int rc = http_body_parse(&s->body, p, len, &d);

		if (rc < 0) {
			verdict(s, DP_CHK_L7RSP, "invalid response body (%s)", http_error_str(rc));
			return;
		}
		if (d.len > 0) {
			uint32_t take = RTE_MIN(d.len, DP_PROBE_BODY_MAX - s->body_seen);

			if (needle_feed(s, p + d.off, take)) {
				verdict(s, DP_CHK_L7OK, "HTTP %u", s->p->code);
				return;
			}
			s->body_seen += take;
			if (s->body_seen >= DP_PROBE_BODY_MAX) {
				needle_missing(s);
				return;
			}
		}
		if (http_body_done(&s->body)) {
			needle_missing(s);
			return;
		}
		if (rc == 0)
			return;
		p += rc;
		len -= (uint32_t)rc;
	}
}

/* The head is complete: judge the status, then the body when there is a needle. */
static void head_done(struct hc_slot *s)
{
	struct dp_probe *p = s->p;
	struct http_iov iov[HC_IOV_MAX];
	unsigned int n;

	p->code = s->msg.status;
	if (!status_expected(p, p->code)) {
		verdict(s, DP_CHK_L7STS, "HTTP %u", p->code);
		return;
	}
	if (p->needle_len == 0) {
		verdict(s, DP_CHK_L7OK, "HTTP %u", p->code);
		return;
	}
	if (http_body_init(&s->body, &s->msg, 0) != 0) {
		verdict(s, DP_CHK_L7RSP, "invalid response body");
		return;
	}
	s->head_done = true;
	needle_prepare(s);
	if (http_body_done(&s->body)) {
		needle_missing(s);
		return;
	}
	/* what came with the head; verdict() frees rx, so stop as soon as there is one */
	n = http_iov_from_mbuf(s->rx, s->head_off + s->msg.head_len, iov, HC_IOV_MAX);
	for (unsigned int i = 0; i < n && s->state == HC_READING; i++)
		body_feed(s, iov[i].base, iov[i].len);
	if (s->state == HC_READING) {
		rte_pktmbuf_free(s->rx);
		s->rx = NULL;
	}
}

static void head_parse(struct hc_slot *s)
{
	struct http_iov iov[HC_IOV_MAX];

	for (;;) {
		unsigned int n = http_iov_from_mbuf(s->rx, s->head_off, iov, HC_IOV_MAX);
		int rc = http_resp_parse(&s->msg, iov, n);

		if (rc == -EAGAIN) {
			if (s->rx->nb_segs >= HC_IOV_MAX)
				verdict(s, DP_CHK_L7RSP, "response head in too many segments");
			return;
		}
		if (rc < 0) {
			verdict(s, DP_CHK_L7RSP, "invalid HTTP response (%s)", http_error_str(rc));
			return;
		}
		if (!(s->msg.flags & HTTP_F_INTERIM)) {
			head_done(s);
			return;
		}
		/* 1xx: the real response follows */
		s->head_off += (uint32_t)rc;
		http_resp_init(&s->msg, &(struct http_limits){ HC_HEAD_MAX, HC_HEAD_HEADERS, 0 },
			       NULL, HTTP_M_GET);
	}
}

/* ---- TCP callbacks: each runs its own probe's machine only ---- */

static void hc_on_connected(struct tcp_conn *c)
{
	struct hc_slot *s = tcp_conn_user(c);
	struct dp_probe *p = s->p;
	struct rte_mbuf *m;
	char *d;

	if (s->state != HC_CONNECTING)
		return;
	if (p->type == DP_CHECK_TCP) {
		verdict(s, DP_CHK_L4OK, "connected");
		return;
	}
	m = rte_pktmbuf_alloc(s->w->pool);
	d = m != NULL ? rte_pktmbuf_append(m, p->req_len) : NULL;
	if (d == NULL) {
		rte_pktmbuf_free(m);
		s->w->hc.cnt[HC_CNT_no_mbuf]++;
		verdict(s, DP_CHK_SOCKERR, "no mbuf for the request");
		return;
	}
	memcpy(d, p->req, p->req_len);
	if (tcp_send(c, m) != 0) { /* m is the stack's either way */
		verdict(s, DP_CHK_SOCKERR, "cannot send the request");
		return;
	}
	s->state = HC_SENT;
}

static void hc_on_data(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct hc_slot *s = tcp_conn_user(c);

	if (s->state != HC_SENT && s->state != HC_READING) {
		rte_pktmbuf_free(m);
		return;
	}
	s->state = HC_READING;
	if (s->head_done) {
		for (struct rte_mbuf *g = m; g != NULL && s->state == HC_READING; g = g->next)
			body_feed(s, rte_pktmbuf_mtod(g, const uint8_t *), g->data_len);
		tcp_recved(c, m->pkt_len);
		rte_pktmbuf_free(m);
		return;
	}
	if (s->rx == NULL) {
		s->rx = m;
	} else {
		rte_pktmbuf_lastseg(s->rx)->next = m;
		s->rx->nb_segs += m->nb_segs;
		s->rx->pkt_len += m->pkt_len;
	}
	head_parse(s);
}

static void hc_on_peer_fin(struct tcp_conn *c)
{
	struct hc_slot *s = tcp_conn_user(c);

	switch (s->state) {
	case HC_CONNECTING:
	case HC_SENT:
		verdict(s, DP_CHK_L7RSP, "connection closed before any response byte");
		return;
	case HC_READING:
		if (!s->head_done) {
			verdict(s, DP_CHK_L7RSP, "connection closed before the end of the head");
			return;
		}
		http_body_eof(&s->body);
		needle_missing(s);
		return;
	default:
		return;
	}
}

static void hc_on_closed(struct tcp_conn *c, enum tcp_close_reason reason)
{
	struct hc_slot *s = tcp_conn_user(c);
	const bool connecting = s->state == HC_CONNECTING;

	s->c = NULL; /* the TCB goes away after this callback: never abort it */
	switch (reason) {
	case TCP_CLOSE_REFUSED:
		verdict(s, DP_CHK_L4CON, "Connection refused");
		return;
	case TCP_CLOSE_TIMEOUT:
		verdict(s, connecting ? DP_CHK_L4TOUT : DP_CHK_L7TOUT,
			connecting ? "no answer to the SYN" : "retransmissions timed out");
		return;
	case TCP_CLOSE_RESET:
		if (connecting || s->state == HC_SENT)
			verdict(s, DP_CHK_L4CON, "Connection reset by peer");
		else
			verdict(s, DP_CHK_L7RSP, "Connection reset by peer");
		return;
	case TCP_CLOSE_NORMAL:
		verdict(s, DP_CHK_L7RSP, "connection closed");
		return;
	case TCP_CLOSE_ABORTED:
		verdict(s, DP_CHK_SOCKERR, "connection aborted by the stack");
		return;
	}
}

static const struct tcp_ops hc_ops = {
	.on_connected = hc_on_connected,
	.on_data = hc_on_data,
	.on_peer_fin = hc_on_peer_fin,
	.on_closed = hc_on_closed,
};

/* ---- starting a probe ---- */

static bool is_listen_port(const struct dp *dp, uint16_t port)
{
	return (dp->listen_ports[port / 64] >> (port % 64)) & 1;
}

/* Open s's connection from a port of this worker's. 0, or -errno (rte_errno's): ENOBUFS (no
 * reserve TCB), ENETUNREACH, EADDRINUSE (no free port among the tries), EINVAL. */
static int probe_connect(struct dp_worker *w, struct hc_slot *s)
{
	struct hc_worker *hc = hc_of(w);
	const struct dp_probe *p = s->p;
	const uint32_t n = w->dp->n_workers ? w->dp->n_workers : 1;
	const uint32_t span = (HC_PORT_MAX - HC_PORT_MIN + 1) / n;

	for (int i = 0; i < HC_PORT_TRIES; i++) {
		uint32_t k = hc->port_cursor++ % span;
		uint32_t port = HC_PORT_MIN - HC_PORT_MIN % n + k * n + w->id;

		if (port < HC_PORT_MIN || port > HC_PORT_MAX ||
		    is_listen_port(w->dp, (uint16_t)port))
			continue;
		if (tcp_tuple_state(&w->ts, 0, (uint16_t)port, p->addr, p->port) != TCP_CLOSED)
			continue;
		s->c = tcp_connect_reserved(&w->ts, 0, (uint16_t)port, p->addr, p->port, &hc_ops,
					    s);
		if (s->c != NULL)
			return 0;
		if (rte_errno != EADDRINUSE)
			return -rte_errno;
	}
	return -EADDRINUSE;
}

static struct hc_slot *slot_alloc(struct hc_worker *hc)
{
	struct hc_slot *s;

	if (hc->free_head == HC_NONE)
		return NULL;
	s = &hc->slots[hc->free_head];
	hc->free_head = s->next;
	s->next = HC_NONE;
	if (++hc->used > hc->hwm)
		hc->hwm = hc->used;
	return s;
}

static void probe_start(struct dp_worker *w, struct dp_probe *p)
{
	struct hc_worker *hc = hc_of(w);
	uint32_t timeout_ms = p->timeout_ms ? p->timeout_ms : 1;
	struct hc_slot *s;
	int rc;

	p->code = 0;
	p->detail[0] = '\0';
	if (p->late_tsc != 0 && w->ns.now > p->late_tsc) {
		answer_now(w, p, DP_CHK_SKIPPED, "not started in time");
		return;
	}
	if (p->type > DP_CHECK_HTTP ||
	    (p->type == DP_CHECK_HTTP && (p->req_len == 0 || p->req_len > DP_PROBE_REQ_MAX)) ||
	    p->needle_len > DP_PROBE_NEEDLE_MAX) {
		hc->cnt[HC_CNT_bad_probe]++;
		answer_now(w, p, DP_CHK_SOCKERR, "invalid probe");
		return;
	}
	s = slot_alloc(hc);
	if (s == NULL) {
		hc->cnt[HC_CNT_no_slot]++;
		answer_now(w, p, DP_CHK_SOCKERR, "no free probe slot (%u in flight)", hc->used);
		return;
	}
	s->w = w;
	s->p = p;
	s->state = HC_CONNECTING;
	s->start_tsc = w->ns.now;
	http_resp_init(&s->msg, &(struct http_limits){ HC_HEAD_MAX, HC_HEAD_HEADERS, 0 }, NULL,
		       HTTP_M_GET);
	rc = probe_connect(w, s);
	if (rc != 0) {
		s->state = HC_FREE;
		slot_release(hc, s);
		switch (rc) {
		case -ENOBUFS:
			hc->cnt[HC_CNT_no_tcb]++;
			answer_now(w, p, DP_CHK_SOCKERR, "no free TCB in the probe reserve (%u)",
				   w->ts.conf.reserve_connections);
			return;
		case -ENETUNREACH:
			hc->cnt[HC_CNT_no_route]++;
			answer_now(w, p, DP_CHK_L4CON, "No route to host");
			return;
		case -EADDRINUSE:
			hc->cnt[HC_CNT_no_port]++;
			answer_now(w, p, DP_CHK_SOCKERR, "no free source port");
			return;
		default:
			hc->cnt[HC_CNT_bad_probe]++;
			answer_now(w, p, DP_CHK_SOCKERR, "cannot connect: %s", strerror(-rc));
			return;
		}
	}
	hc->cnt[HC_CNT_started]++;
	/* RFC 6298's 1 s initial RTO would leave a 1 s probe a single SYN: fit a retry or two */
	tcp_conn_set_syn_rto(s->c, timeout_ms / 3);
	tcp_wheel_arm(&hc->wheel, &s->timer,
		      tcp_wheel_now(&hc->wheel) + tcp_wheel_ms_to_ticks(&hc->wheel, timeout_ms));
}

static void hc_timer_fire(void *arg, struct tcp_timer *t)
{
	struct hc_slot *s = container_of(t, struct hc_slot, timer);

	RTE_SET_USED(arg);
	if (s->state == HC_CONNECTING)
		verdict(s, DP_CHK_L4TOUT, "timeout after %u ms", s->p->timeout_ms);
	else
		verdict(s, DP_CHK_L7TOUT, "timeout after %u ms", s->p->timeout_ms);
}

unsigned int hc_poll(struct dp_worker *w)
{
	struct hc_worker *hc = hc_of(w);
	void *ps[HC_BURST];
	unsigned int work = 0, n = 0;

	if (w->probe.req == NULL || w->probe.rep == NULL)
		return 0;
	if (!dp_wheel_quiet(&hc->wheel, w->ns.now))
		work = tcp_wheel_run(&hc->wheel, w->ns.now, hc_timer_fire, w, HC_BURST * 4);
	if (hc->n_held == 0)
		n = rte_ring_sc_dequeue_burst(w->probe.req, ps, HC_BURST, NULL);
	hc->cnt[HC_CNT_received] += n;
	for (unsigned int i = 0; i < n; i++)
		probe_start(w, ps[i]);
	return work + n + answer_done(w);
}
