/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: TCB pool, connection table and connection lifecycle.
 *
 * The connection table is a chained hash of our own rather than rte_hash: the key (the 4-tuple)
 * already lives in the TCB, so a bucket is one 32-bit TCB index and a chain link is one more
 * index in the TCB (8 bytes per connection in all, no separate key store, no EAL allocation, no
 * locks: only the owning worker reads or writes it). Buckets are keyed with SipHash under the
 * per-boot secret so that a remote peer cannot aim its 4-tuples at one chain. The table has at
 * least as many buckets as TCBs, so chains stay short.
 *
 * TCBs are freed in one place, tcp_conn_finish(). Because callbacks may end a connection while
 * the stack is still working on it (on_data calling tcp_abort), a TCB counts the stack frames
 * using it (busy) and goes back to the pool only when the last one lets go.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "tcp_impl.h"

const char *const tcp_counter_names[TCP_CNT_MAX] = {
#define TCP_CNT_NAME(name) #name,
	TCP_COUNTERS(TCP_CNT_NAME)
#undef TCP_CNT_NAME
};

static const char *const state_names[TCP_STATE_MAX] = {
	[TCP_CLOSED] = "CLOSED",	   [TCP_LISTEN] = "LISTEN",
	[TCP_SYN_SENT] = "SYN_SENT",	   [TCP_SYN_RCVD] = "SYN_RCVD",
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_FIN_WAIT_1] = "FIN_WAIT_1",
	[TCP_FIN_WAIT_2] = "FIN_WAIT_2",   [TCP_CLOSING] = "CLOSING",
	[TCP_TIME_WAIT] = "TIME_WAIT",	   [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK",
};

const char *tcp_state_name(enum tcp_state s)
{
	return (unsigned)s < TCP_STATE_MAX ? state_names[s] : "?";
}

size_t tcp_conn_size(void)
{
	return sizeof(struct tcp_conn);
}

static void conf_defaults(struct tcp_conf *c)
{
#define DEF(f, v)                   \
	do {                        \
		if (c->f == 0)      \
			c->f = (v); \
	} while (0)
	DEF(max_connections, 1024);
	DEF(syn_backlog, c->max_connections / 4 ? c->max_connections / 4 : 1);
	DEF(rto_min_ms, 200);
	DEF(rto_max_ms, 60000);
	DEF(rto_initial_ms, 1000);
	DEF(max_retries, 15);
	DEF(syn_retries, 5);
	DEF(time_wait_ms, 60000);
	DEF(fin_wait_2_ms, 60000);
	DEF(delayed_ack_ms, 40);
	DEF(keepalive_intvl_ms, 75000);
	DEF(keepalive_probes, 9);
	DEF(rcv_buf, 65536);
	DEF(snd_buf, 65536);
	DEF(ooo_max_segments, 64);
	DEF(ooo_max_mbufs, c->max_connections * 4);
	DEF(initial_cwnd_segments, 10);
	DEF(challenge_ack_per_s, 10);
	DEF(rst_per_s, 1000);
#undef DEF
	if (c->rto_min_ms > c->rto_max_ms)
		c->rto_min_ms = c->rto_max_ms;
	if (c->max_retries > 255)
		c->max_retries = 255;
	if (c->syn_retries > 255)
		c->syn_retries = 255;
}

int tcp_stack_init(struct tcp_stack *ts, struct net_stack *ns, const struct tcp_conf *c,
		   const struct tcp_secret *secret)
{
	uint32_t i, nb;

	if (ns == NULL || ns->hz < 1000 || secret == NULL)
		return -EINVAL;
	memset(ts, 0, sizeof(*ts));
	if (c != NULL)
		ts->conf = *c;
	conf_defaults(&ts->conf);
	if (ts->conf.max_connections >= TCP_NIL / 2)
		return -EINVAL;
	ts->ns = ns;
	ts->secret = *secret;
	ts->tsc_per_ms = ns->hz / 1000;
	tcp_wheel_init(&ts->wheel, ns->now, ts->tsc_per_ms);
	tcp_clock(ts);
	/* RFC 7323 5.4 lets the TSval clock start anywhere; a keyed offset hides our uptime. */
	ts->ts_offset = (uint32_t)tcp_siphash(secret, &ns->now, sizeof(ns->now));

	for (nb = 1; nb < ts->conf.max_connections; nb <<= 1)
		;
	ts->conns = rte_zmalloc_socket("tcp_conns",
				       (size_t)ts->conf.max_connections * sizeof(struct tcp_conn),
				       RTE_CACHE_LINE_SIZE, ts->conf.socket_id);
	ts->buckets = rte_malloc_socket("tcp_buckets", (size_t)nb * sizeof(uint32_t),
					RTE_CACHE_LINE_SIZE, ts->conf.socket_id);
	if (ts->conns == NULL || ts->buckets == NULL) {
		rte_free(ts->conns);
		rte_free(ts->buckets);
		ts->conns = NULL;
		ts->buckets = NULL;
		return -ENOMEM;
	}
	ts->bucket_mask = nb - 1;
	for (i = 0; i < nb; i++)
		ts->buckets[i] = TCP_NIL;
	for (i = 0; i < ts->conf.max_connections; i++) {
		ts->conns[i].hnext = i + 1 < ts->conf.max_connections ? i + 1 : TCP_NIL;
		tcp_timer_init(&ts->conns[i].timer);
	}
	ts->free_head = 0;
	ts->tw_head = ts->tw_tail = TCP_NIL;
	return 0;
}

void tcp_stack_fini(struct tcp_stack *ts)
{
	uint32_t i;

	if (ts->conns == NULL)
		return;
	for (i = 0; i < ts->conf.max_connections; i++) {
		struct tcp_conn *c = &ts->conns[i];

		tcp_sq_purge(c);
		tcp_ooo_purge(c);
		tcp_wheel_cancel(&ts->wheel, &c->timer);
	}
	rte_free(ts->conns);
	rte_free(ts->buckets);
	ts->conns = NULL;
	ts->buckets = NULL;
}

void tcp_clock(struct tcp_stack *ts)
{
	ts->now_ms = (uint32_t)(ts->ns->now / ts->tsc_per_ms);
}

/* ---- connection table ---- */

static uint32_t tuple_bucket(const struct tcp_stack *ts, const struct tcp_tuple *t)
{
	return (uint32_t)tcp_siphash(&ts->secret, t, sizeof(*t)) & ts->bucket_mask;
}

static bool tuple_eq(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
	return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
	       a->rport == b->rport;
}

struct tcp_conn *tcp_lookup(struct tcp_stack *ts, const struct tcp_tuple *t)
{
	uint32_t i = ts->buckets[tuple_bucket(ts, t)];

	while (i != TCP_NIL) {
		struct tcp_conn *c = &ts->conns[i];

		if (tuple_eq(&c->t, t))
			return c;
		i = c->hnext;
	}
	return NULL;
}

void tcp_conn_hash_insert(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t *b = &ts->buckets[tuple_bucket(ts, &c->t)];

	c->hnext = *b;
	*b = tcp_conn_idx(ts, c);
	c->flags |= TCP_F_HASHED;
}

static void hash_remove(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t *p = &ts->buckets[tuple_bucket(ts, &c->t)];
	uint32_t idx = tcp_conn_idx(ts, c);

	while (*p != TCP_NIL) {
		if (*p == idx) {
			*p = c->hnext;
			break;
		}
		p = &ts->conns[*p].hnext;
	}
	c->hnext = TCP_NIL;
	c->flags &= ~TCP_F_HASHED;
}

/* ---- TIME_WAIT list (oldest first) ---- */

static void tw_unlink(struct tcp_stack *ts, struct tcp_conn *c)
{
	if (c->tw_prev != TCP_NIL)
		ts->conns[c->tw_prev].tw_next = c->tw_next;
	else
		ts->tw_head = c->tw_next;
	if (c->tw_next != TCP_NIL)
		ts->conns[c->tw_next].tw_prev = c->tw_prev;
	else
		ts->tw_tail = c->tw_prev;
	c->tw_prev = c->tw_next = TCP_NIL;
}

static void tw_append(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t idx = tcp_conn_idx(ts, c);

	c->tw_next = TCP_NIL;
	c->tw_prev = ts->tw_tail;
	if (ts->tw_tail != TCP_NIL)
		ts->conns[ts->tw_tail].tw_next = idx;
	else
		ts->tw_head = idx;
	ts->tw_tail = idx;
}

/* ---- pool ---- */

static void release(struct tcp_conn *c)
{
	struct tcp_stack *ts = c->ts;

	c->hnext = ts->free_head;
	ts->free_head = tcp_conn_idx(ts, c);
	ts->conns_used--;
}

/* A free TCB, zeroed; when the pool is empty, the oldest TIME_WAIT TCB is reclaimed first
 * (it only protects against stray duplicates of a finished connection, which matters less
 * than accepting a new one). NULL when there is neither. */
struct tcp_conn *tcp_conn_alloc(struct tcp_stack *ts)
{
	struct tcp_conn *c;

	if (ts->free_head == TCP_NIL && ts->tw_head != TCP_NIL) {
		tcp_conn_finish(&ts->conns[ts->tw_head], TCP_CLOSE_NORMAL, false);
		tcp_count(ts, TCP_CNT_time_wait_reclaimed);
	}
	if (ts->free_head == TCP_NIL)
		return NULL;
	c = &ts->conns[ts->free_head];
	ts->free_head = c->hnext;
	memset(c, 0, sizeof(*c));
	tcp_timer_init(&c->timer);
	c->ts = ts;
	c->hnext = TCP_NIL;
	c->tw_prev = c->tw_next = TCP_NIL;
	if (++ts->conns_used > ts->conns_hwm)
		ts->conns_hwm = ts->conns_used;
	return c;
}

void tcp_conn_set_state(struct tcp_conn *c, enum tcp_state s)
{
	struct tcp_stack *ts = c->ts;

	if (c->state == TCP_SYN_RCVD)
		ts->syn_rcvd--;
	else if (c->state == TCP_TIME_WAIT) {
		ts->time_wait--;
		tw_unlink(ts, c);
	}
	c->state = s;
	if (s == TCP_SYN_RCVD)
		ts->syn_rcvd++;
	else if (s == TCP_TIME_WAIT) {
		ts->time_wait++;
		tw_append(ts, c);
	}
}

static const enum tcp_counter close_counter[] = {
	[TCP_CLOSE_NORMAL] = TCP_CNT_conns_closed,   [TCP_CLOSE_RESET] = TCP_CNT_conns_reset,
	[TCP_CLOSE_REFUSED] = TCP_CNT_conns_reset,   [TCP_CLOSE_TIMEOUT] = TCP_CNT_conns_timed_out,
	[TCP_CLOSE_ABORTED] = TCP_CNT_conns_aborted,
};

void tcp_conn_finish(struct tcp_conn *c, enum tcp_close_reason reason, bool notify)
{
	struct tcp_stack *ts = c->ts;

	if (c->state == TCP_CLOSED)
		return;
	if (notify && (c->flags & TCP_F_ATTACHED)) {
		c->flags &= ~TCP_F_ATTACHED;
		if (c->ops != NULL && c->ops->on_closed != NULL) {
			bool closed;

			tcp_conn_get(c);
			c->ops->on_closed(c, reason);
			closed = c->state == TCP_CLOSED; /* finished from inside on_closed */
			tcp_conn_put(c);
			if (closed)
				return;
		}
	}
	c->flags &= ~TCP_F_ATTACHED;
	tcp_count(ts, close_counter[reason]);
	if (c->flags & TCP_F_HASHED)
		hash_remove(ts, c);
	tcp_conn_set_state(c, TCP_CLOSED);
	tcp_wheel_cancel(&ts->wheel, &c->timer);
	c->t_rtx = c->t_dack = 0;
	c->rtx_kind = TCP_RTX_NONE;
	tcp_sq_purge(c);
	tcp_ooo_purge(c);
	if (c->busy == 0)
		release(c);
}

void tcp_conn_put(struct tcp_conn *c)
{
	if (--c->busy == 0 && c->state == TCP_CLOSED)
		release(c);
}

/* Our FIN is acknowledged and the peer's received: the user's part is over (on_closed), the
 * TCB lingers 2*MSL to absorb stray duplicates (RFC 9293 3.6). */
void tcp_conn_enter_time_wait(struct tcp_conn *c)
{
	if (c->flags & TCP_F_ATTACHED) {
		c->flags &= ~TCP_F_ATTACHED;
		if (c->ops != NULL && c->ops->on_closed != NULL) {
			tcp_conn_get(c);
			c->ops->on_closed(c, TCP_CLOSE_NORMAL);
			c->busy--; /* the caller holds c too: never the last user */
			if (c->state == TCP_CLOSED)
				return;
		}
	}
	tcp_sq_purge(c);
	tcp_ooo_purge(c);
	tcp_conn_set_state(c, TCP_TIME_WAIT);
	c->t_dack = 0;
	tcp_rtx_set(c, TCP_RTX_TIME_WAIT, c->ts->conf.time_wait_ms);
}

/* ---- listeners ---- */

const struct tcp_listener *tcp_listener_find(const struct tcp_stack *ts, uint32_t addr,
					     uint16_t port)
{
	const struct tcp_listener *any = NULL;
	uint32_t i;

	for (i = 0; i < ts->n_listeners; i++) {
		const struct tcp_listener *l = &ts->listeners[i];

		if (l->port != port)
			continue;
		if (l->addr == addr)
			return l;
		if (l->addr == 0)
			any = l;
	}
	return any;
}

int tcp_listen(struct tcp_stack *ts, uint32_t addr, uint16_t port, const struct tcp_ops *ops,
	       void *user)
{
	struct tcp_listener *l;
	uint32_t i;

	if (port == 0 || ops == NULL)
		return -EINVAL;
	for (i = 0; i < ts->n_listeners; i++)
		if (ts->listeners[i].port == port && ts->listeners[i].addr == addr)
			return -EADDRINUSE;
	if (ts->n_listeners == TCP_MAX_LISTENERS)
		return -ENOSPC;
	l = &ts->listeners[ts->n_listeners++];
	l->addr = addr;
	l->port = port;
	l->ops = ops;
	l->user = user;
	return 0;
}

int tcp_unlisten(struct tcp_stack *ts, uint32_t addr, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < ts->n_listeners; i++) {
		if (ts->listeners[i].port == port && ts->listeners[i].addr == addr) {
			ts->listeners[i] = ts->listeners[--ts->n_listeners];
			memset(&ts->listeners[ts->n_listeners], 0, sizeof(ts->listeners[0]));
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- negotiated parameters ---- */

uint16_t tcp_local_mss(const struct tcp_stack *ts, uint16_t ifindex)
{
	uint32_t mtu = ifindex < ts->ns->n_ifs ? ts->ns->ifs[ifindex].mtu : 0;
	uint32_t mss = (mtu ? mtu : RTE_ETHER_MTU) - 40;

	if (ts->conf.mss != 0 && ts->conf.mss < mss)
		mss = ts->conf.mss;
	return (uint16_t)RTE_MAX(mss, 64u);
}

uint8_t tcp_local_wscale(const struct tcp_stack *ts)
{
	uint8_t s = 0;

	if (ts->conf.wscale != 0)
		return RTE_MIN(ts->conf.wscale, TCP_MAX_WSCALE);
	while (s < TCP_MAX_WSCALE && (ts->conf.rcv_buf >> s) > 65535)
		s++;
	return s;
}

void tcp_conn_apply_syn_opts(struct tcp_conn *c, const struct tcp_opts *o)
{
	const struct tcp_conf *cf = &c->ts->conf;
	uint16_t peer_mss = o->mss_ok ? o->mss : TCP_DEFAULT_MSS;

	c->mss = RTE_MIN(peer_mss, c->adv_mss);
	if (c->mss < 64)
		c->mss = 64; /* a peer advertising less would make us send header-only floods */
	if (o->wscale_ok && (c->flags & TCP_F_WSCALE)) {
		c->snd_wscale = RTE_MIN(o->wscale, TCP_MAX_WSCALE);
	} else {
		c->flags &= ~TCP_F_WSCALE;
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	if (!(o->sack_ok && !cf->no_sack))
		c->flags &= ~TCP_F_SACK;
	if (o->ts_ok && !cf->no_timestamps && (c->flags & TCP_F_TS)) {
		c->ts_recent = o->tsval;
		c->ts_recent_ms = c->ts->now_ms;
	} else {
		c->flags &= ~TCP_F_TS;
	}
}

/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)) for the default of 10 segments. */
uint32_t tcp_initial_window(const struct tcp_conn *c)
{
	uint32_t n = c->ts->conf.initial_cwnd_segments;

	if (n == 10)
		return RTE_MIN(10u * c->mss, RTE_MAX(2u * c->mss, 14600u));
	return n * c->mss;
}

void tcp_conn_init_cc(struct tcp_conn *c)
{
	c->cwnd = tcp_initial_window(c);
	c->ssthresh = UINT32_MAX / 2;
	c->recover = c->iss;
}

/* ---- user API ---- */

struct tcp_conn *tcp_connect(struct tcp_stack *ts, uint32_t laddr, uint16_t lport, uint32_t raddr,
			     uint16_t rport, const struct tcp_ops *ops, void *user)
{
	struct tcp_tuple t;
	struct tcp_conn *c;
	uint32_t nexthop;
	int ifindex;

	if (lport == 0 || rport == 0 || raddr == 0 || ops == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	tcp_clock(ts);
	ifindex = net_route(ts->ns, raddr, &nexthop);
	if (ifindex < 0) {
		rte_errno = ENETUNREACH;
		return NULL;
	}
	if (laddr == 0)
		laddr = ts->ns->ifs[ifindex].addr;
	else if ((ifindex = net_if_by_addr(ts->ns, laddr)) < 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	t = (struct tcp_tuple){ .laddr = laddr, .raddr = raddr, .lport = lport, .rport = rport };
	c = tcp_lookup(ts, &t);
	if (c != NULL) {
		if (c->state != TCP_TIME_WAIT) {
			rte_errno = EADDRINUSE;
			return NULL;
		}
		/* Our ISNs grow with the clock, so the new incarnation's sequence numbers are
		 * above the old one's and stray duplicates fall outside its window. */
		tcp_conn_finish(c, TCP_CLOSE_NORMAL, false);
		tcp_count(ts, TCP_CNT_time_wait_reused);
	}
	c = tcp_conn_alloc(ts);
	if (c == NULL) {
		tcp_count(ts, TCP_CNT_drop_pool_empty);
		rte_errno = ENOBUFS;
		return NULL;
	}
	c->t = t;
	c->ifindex = (uint8_t)ifindex;
	c->ops = ops;
	c->user = user;
	c->flags = TCP_F_ATTACHED | TCP_F_ACTIVE | TCP_F_WSCALE;
	if (!ts->conf.no_timestamps)
		c->flags |= TCP_F_TS;
	if (!ts->conf.no_sack)
		c->flags |= TCP_F_SACK;
	c->iss = tcp_isn(&ts->secret, laddr, lport, raddr, rport, tcp_now_us64(ts));
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->sq_seq = c->iss + 1;
	c->adv_mss = tcp_local_mss(ts, ifindex);
	c->mss = RTE_MIN(c->adv_mss, (uint16_t)TCP_DEFAULT_MSS);
	c->rcv_wscale = tcp_local_wscale(ts);
	c->rto_ms = ts->conf.rto_initial_ms;
	c->last_rcv_ms = ts->now_ms;
	tcp_conn_set_state(c, TCP_SYN_SENT);
	tcp_conn_hash_insert(ts, c);
	tcp_send_syn(c);
	tcp_rtx_set(c, TCP_RTX_RTO, c->rto_ms);
	return c;
}

static bool can_send(const struct tcp_conn *c)
{
	if (c->flags & (TCP_F_FIN_QUEUED | TCP_F_ORPHAN))
		return false;
	return c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD ||
	       c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT;
}

uint32_t tcp_send_space(const struct tcp_conn *c)
{
	uint32_t lim = c->ts->conf.snd_buf;

	if (!can_send(c))
		return 0;
	return c->sq_bytes < lim ? lim - c->sq_bytes : 0;
}

/* Copy a small chain into the tail of the send queue when the tail is our own private buffer
 * with room: many small writes then pin one mbuf instead of one each. Clones made for
 * segments already sent only see the bytes they were given, so appending is safe; refcnt 1
 * means no such clone is still in flight anyway. */
static bool sq_coalesce(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct rte_mbuf *tail = c->sq_tail, *s;
	char *dst;

	if (tail == NULL || m->pkt_len > TCP_SND_COALESCE_MAX || !RTE_MBUF_DIRECT(tail) ||
	    rte_mbuf_refcnt_read(tail) != 1 || rte_pktmbuf_tailroom(tail) < m->pkt_len)
		return false;
	dst = rte_pktmbuf_mtod_offset(tail, char *, tail->data_len);
	for (s = m; s != NULL; s = s->next) {
		memcpy(dst, rte_pktmbuf_mtod(s, const char *), s->data_len);
		dst += s->data_len;
	}
	tail->data_len += m->pkt_len;
	tail->pkt_len = tail->data_len;
	rte_pktmbuf_free(m);
	tcp_count(c->ts, TCP_CNT_snd_coalesced);
	return true;
}

static void sq_append(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct rte_mbuf *s, *next;

	for (s = m; s != NULL; s = next) {
		next = s->next;
		if (s->data_len == 0) {
			s->next = NULL;
			rte_pktmbuf_free_seg(s);
			continue;
		}
		s->next = NULL;
		s->nb_segs = 1;
		s->pkt_len = s->data_len;
		if (c->sq_tail != NULL)
			c->sq_tail->next = s;
		else
			c->sq_head = s;
		c->sq_tail = s;
	}
}

int tcp_send(struct tcp_conn *c, struct rte_mbuf *m)
{
	uint32_t len;

	tcp_clock(c->ts);
	if (m == NULL)
		return -EINVAL;
	len = m->pkt_len;
	if (len == 0) {
		rte_pktmbuf_free(m);
		return -EINVAL;
	}
	if (!can_send(c)) {
		rte_pktmbuf_free(m);
		return -EPIPE;
	}
	if (tcp_send_space(c) == 0) {
		c->flags |= TCP_F_WANT_WRITE;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	if (!sq_coalesce(c, m))
		sq_append(c, m);
	c->sq_bytes += len;
	if (tcp_send_space(c) == 0)
		c->flags |= TCP_F_WANT_WRITE;
	if (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT)
		tcp_output(c);
	return 0;
}

void tcp_recved(struct tcp_conn *c, uint32_t n)
{
	uint32_t before, after;

	tcp_clock(c->ts);
	if (n > c->rcv_held)
		n = c->rcv_held;
	if (n == 0)
		return;
	before = c->rcv_adv - c->rcv_nxt;
	/* The charge is refunded in proportion: the user counts payload, the budget true size. */
	c->rcv_charge -= (uint32_t)((uint64_t)c->rcv_charge * n / c->rcv_held);
	c->rcv_held -= n;
	if (c->rcv_held == 0)
		c->rcv_charge = 0;
	if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 && c->state != TCP_FIN_WAIT_2)
		return;
	after = tcp_rcv_space(c);
	/* Window update only when it matters to the sender (receiver SWS avoidance, RFC 9293
	 * 3.8.6.2.2): it at least doubles and grows by a segment. */
	if (after >= 2 * before && after - before >= c->mss) {
		if (c->busy)
			c->flags |= TCP_F_ACK_NOW;
		else
			tcp_send_ack(c);
	}
}

/* Move to the state that follows queueing our FIN. */
static void queue_fin(struct tcp_conn *c)
{
	c->flags |= TCP_F_FIN_QUEUED;
	if (c->state == TCP_ESTABLISHED)
		tcp_conn_set_state(c, TCP_FIN_WAIT_1);
	else if (c->state == TCP_CLOSE_WAIT)
		tcp_conn_set_state(c, TCP_LAST_ACK);
	/* SYN_SENT / SYN_RCVD: the FIN waits for the handshake (tcp_input moves on then) */
	if (c->state == TCP_FIN_WAIT_1 || c->state == TCP_LAST_ACK)
		tcp_output(c);
}

int tcp_shutdown(struct tcp_conn *c)
{
	tcp_clock(c->ts);
	switch (c->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RCVD:
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		if (!(c->flags & TCP_F_FIN_QUEUED))
			queue_fin(c);
		return 0;
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return 0;
	default:
		return -ENOTCONN;
	}
}

void tcp_close(struct tcp_conn *c)
{
	tcp_clock(c->ts);
	c->flags &= ~TCP_F_ATTACHED;
	c->flags |= TCP_F_ORPHAN;
	if (c->state == TCP_CLOSED)
		return;
	if (c->state == TCP_SYN_SENT) {
		tcp_conn_finish(c, TCP_CLOSE_NORMAL, false);
		return;
	}
	/* nobody will read what is still out of order */
	tcp_ooo_purge(c);
	if (!(c->flags & TCP_F_FIN_QUEUED))
		queue_fin(c);
	else if (c->state == TCP_FIN_WAIT_2)
		tcp_rtx_reset(c, false); /* arm the orphan timeout */
}

void tcp_abort(struct tcp_conn *c)
{
	tcp_clock(c->ts);
	c->flags &= ~TCP_F_ATTACHED;
	if (c->state == TCP_CLOSED)
		return;
	if (c->state != TCP_SYN_SENT && c->state != TCP_TIME_WAIT)
		tcp_send_rst_conn(c);
	tcp_conn_finish(c, TCP_CLOSE_ABORTED, false);
}

void *tcp_conn_user(const struct tcp_conn *c)
{
	return c->user;
}

void tcp_conn_set_user(struct tcp_conn *c, void *user)
{
	c->user = user;
}

void tcp_conn_set_ops(struct tcp_conn *c, const struct tcp_ops *ops)
{
	c->ops = ops;
}

void tcp_conn_tuple(const struct tcp_conn *c, struct tcp_tuple *t)
{
	*t = c->t;
}

enum tcp_state tcp_conn_state(const struct tcp_conn *c)
{
	return (enum tcp_state)c->state;
}

struct tcp_stack *tcp_conn_stack(const struct tcp_conn *c)
{
	return c->ts;
}

void tcp_conn_info(const struct tcp_conn *c, struct tcp_conn_info *info)
{
	memset(info, 0, sizeof(*info));
	info->tuple = c->t;
	info->state = (enum tcp_state)c->state;
	info->snd_una = c->snd_una;
	info->snd_nxt = c->snd_nxt;
	info->snd_wnd = c->snd_wnd;
	info->rcv_nxt = c->rcv_nxt;
	info->rcv_wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	info->cwnd = c->cwnd;
	info->ssthresh = c->ssthresh;
	info->srtt_us = c->srtt_us;
	info->rto_ms = c->rto_ms;
	info->mss = c->mss;
	info->snd_queued = c->sq_bytes;
	info->rcv_held = c->rcv_held;
	info->ooo_segments = c->ooo_n;
	info->snd_wscale = c->snd_wscale;
	info->rcv_wscale = c->rcv_wscale;
	info->ts_ok = !!(c->flags & TCP_F_TS);
	info->sack_ok = !!(c->flags & TCP_F_SACK);
}

void tcp_foreach_conn(struct tcp_stack *ts, void (*fn)(struct tcp_conn *c, void *arg), void *arg)
{
	uint32_t i;

	for (i = 0; i < ts->conf.max_connections; i++)
		if (ts->conns[i].state != TCP_CLOSED)
			fn(&ts->conns[i], arg);
}
