/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: the calls a user of tcp.h makes on a connection: active open, send,
 * receive-window credit, half and full close, abort, and accessors.
 *
 * The send queue is the retransmission queue (tcp_output.c): tcp_send links the caller's
 * mbufs into it one by one and never copies them, except a small chain whose bytes fit in the
 * queue's last, private buffer, so that a stream of small writes cannot pin one buffer each.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>

#include "tcp_impl.h"

static struct tcp_conn *connect_from(struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
				     uint32_t raddr, uint16_t rport, const struct tcp_ops *ops,
				     void *user, bool reserved)
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
	c = reserved ? tcp_conn_alloc_reserved(ts) : tcp_conn_alloc(ts);
	if (c == NULL) {
		if (!reserved) /* the reserve's user counts its own failures */
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

struct tcp_conn *tcp_connect(struct tcp_stack *ts, uint32_t laddr, uint16_t lport, uint32_t raddr,
			     uint16_t rport, const struct tcp_ops *ops, void *user)
{
	return connect_from(ts, laddr, lport, raddr, rport, ops, user, false);
}

struct tcp_conn *tcp_connect_reserved(struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
				      uint32_t raddr, uint16_t rport, const struct tcp_ops *ops,
				      void *user)
{
	return connect_from(ts, laddr, lport, raddr, rport, ops, user, true);
}

void tcp_conn_set_syn_rto(struct tcp_conn *c, uint32_t ms)
{
	ms = RTE_MAX(ms, c->ts->conf.rto_min_ms);
	if (c->state != TCP_SYN_SENT || c->retries != 0 || ms >= c->rto_ms)
		return;
	tcp_clock(c->ts);
	c->rto_ms = ms;
	tcp_rtx_set(c, TCP_RTX_RTO, ms);
}

enum tcp_state tcp_tuple_state(struct tcp_stack *ts, uint32_t laddr, uint16_t lport, uint32_t raddr,
			       uint16_t rport)
{
	struct tcp_tuple t;
	struct tcp_conn *c;
	uint32_t nexthop;
	int ifindex;

	if (laddr == 0) {
		ifindex = net_route(ts->ns, raddr, &nexthop);
		if (ifindex < 0)
			return TCP_CLOSED;
		laddr = ts->ns->ifs[ifindex].addr;
	}
	t = (struct tcp_tuple){ .laddr = laddr, .raddr = raddr, .lport = lport, .rport = rport };
	c = tcp_lookup(ts, &t);
	return c == NULL ? TCP_CLOSED : (enum tcp_state)c->state;
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
		tcp_output_soon(c);
	return 0;
}

void tcp_batch_begin(struct tcp_stack *ts)
{
	ts->in_input++;
}

void tcp_batch_end(struct tcp_stack *ts)
{
	if (--ts->in_input == 0)
		tcp_output_flush(ts);
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
	info->idle_ms = c->ts->now_ms - c->last_rcv_ms;
}

void tcp_conn_marks(const struct tcp_conn *c, uint32_t *in, uint32_t *out)
{
	*in = c->rcv_nxt - c->rcv_held;
	*out = c->snd_una + c->sq_bytes;
}

void tcp_foreach_conn(struct tcp_stack *ts, void (*fn)(struct tcp_conn *c, void *arg), void *arg)
{
	uint32_t i;

	for (i = 0; i < ts->conf.max_connections; i++)
		if (ts->conns[i].state != TCP_CLOSED)
			fn(&ts->conns[i], arg);
}
