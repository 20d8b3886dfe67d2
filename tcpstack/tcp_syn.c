/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: segments reaching a listener: SYNs (a SYN_RCVD TCB, or a SYN cookie when
 * the SYN backlog or the TCB pool is exhausted, RFC 4987) and the ACKs that complete cookie
 * handshakes; and the passive open's move to ESTABLISHED (on_accept).
 *
 * A cookie SYN-ACK keeps no state: tcp_cookie.h folds the tuple, the peer's ISN, a minutes
 * counter and the MSS into our ISN, and the peer's window scale and SACK-permitted into the
 * low bits of our TSval. The completing ACK is checked only while cookies were sent in the
 * last few minutes, so that an ACK flood to an unloaded listener cannot make guesses.
 */
#include "tcp_cookie.h"
#include "tcp_impl.h"

/* Cookies are accepted up to TCP_COOKIE_MAX_AGE periods after they were made. */
#define COOKIE_RECENT_MS ((uint32_t)TCP_COOKIE_MAX_AGE * TCP_COOKIE_PERIOD_S * 1000)

static uint32_t cookie_count(const struct tcp_stack *ts)
{
	return (uint32_t)(ts->ns->now / ts->ns->hz / TCP_COOKIE_PERIOD_S);
}

bool tcp_passive_established(struct tcp_conn *c)
{
	struct tcp_stack *ts = c->ts;
	const struct tcp_listener *l = tcp_listener_find(ts, c->t.laddr, c->t.lport);
	void *user;

	tcp_conn_set_state(c, (c->flags & TCP_F_FIN_QUEUED) ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED);
	if (l == NULL) { /* tcp_unlisten during the handshake */
		tcp_send_rst_conn(c);
		tcp_count(ts, TCP_CNT_drop_no_listener);
		tcp_conn_finish(c, TCP_CLOSE_ABORTED, false);
		return false;
	}
	c->ops = l->ops;
	user = l->user;
	tcp_count(ts, TCP_CNT_conns_opened_passive);
	if (l->ops->on_accept != NULL) {
		bool closed;

		tcp_conn_get(c);
		user = l->ops->on_accept(c, l->user);
		closed = c->state == TCP_CLOSED; /* tcp_abort from inside on_accept */
		tcp_conn_put(c);
		if (closed)
			return false;
		if (user == NULL) {
			tcp_count(ts, TCP_CNT_conns_refused_by_user);
			tcp_send_rst_conn(c);
			tcp_conn_finish(c, TCP_CLOSE_ABORTED, false);
			return false;
		}
	}
	c->user = user;
	if (!(c->flags & TCP_F_ORPHAN))
		c->flags |= TCP_F_ATTACHED;
	return true;
}

/* Options of a TCB created for a SYN: what we offer, intersected with what the SYN offered. */
static void passive_init(struct tcp_stack *ts, struct tcp_conn *c, const struct tcp_seg *seg,
			 int ifindex)
{
	c->t = seg->t;
	c->ifindex = (uint8_t)(ifindex < 0 ? 0 : ifindex);
	c->flags = TCP_F_WSCALE;
	if (!ts->conf.no_timestamps)
		c->flags |= TCP_F_TS;
	if (!ts->conf.no_sack)
		c->flags |= TCP_F_SACK;
	c->adv_mss = tcp_local_mss(ts, c->ifindex);
	c->rcv_wscale = tcp_local_wscale(ts);
	c->rto_ms = ts->conf.rto_initial_ms;
	c->last_rcv_ms = ts->now_ms;
}

static void syn_input(struct tcp_stack *ts, struct tcp_seg *seg)
{
	int ifindex = net_if_by_addr(ts->ns, seg->t.laddr);
	struct tcp_conn *c = NULL;

	if (ts->syn_rcvd < ts->conf.syn_backlog)
		c = tcp_conn_alloc(ts);
	if (c == NULL) {
		struct tcp_syn_opts so = { 0 };
		uint32_t iss, tsval = 0;
		uint16_t mss;

		if (ts->conf.no_syn_cookies) {
			tcp_count(ts, ts->syn_rcvd >= ts->conf.syn_backlog
					      ? TCP_CNT_drop_backlog_full
					      : TCP_CNT_drop_pool_empty);
			return;
		}
		mss = tcp_cookie_mss_round(seg->o.mss_ok ? seg->o.mss : TCP_DEFAULT_MSS);
		iss = tcp_cookie_make(&ts->secret, seg->t.laddr, seg->t.lport, seg->t.raddr,
				      seg->t.rport, seg->seq, cookie_count(ts), mss);
		if (seg->o.ts_ok && !ts->conf.no_timestamps) {
			so.mss = mss;
			so.ts_ok = true;
			so.wscale_ok = seg->o.wscale_ok;
			so.wscale = RTE_MIN(seg->o.wscale, TCP_MAX_WSCALE);
			so.sack_ok = seg->o.sack_ok && !ts->conf.no_sack;
			tsval = tcp_cookie_tsval(tcp_tsval(ts), &so);
		}
		/* without timestamps there is nowhere to keep window scaling: not offered */
		tcp_send_cookie_synack(ts, seg, iss, tcp_local_mss(ts, ifindex < 0 ? 0 : ifindex),
				       tsval,
				       so.ts_ok && seg->o.wscale_ok ? tcp_local_wscale(ts) : 0);
		tcp_count(ts, TCP_CNT_syn_cookies_sent);
		ts->last_cookie_ms = ts->now_ms;
		ts->cookies_sent = true;
		return;
	}
	passive_init(ts, c, seg, ifindex);
	tcp_conn_apply_syn_opts(c, &seg->o);
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = tcp_isn(&ts->secret, seg->t.laddr, seg->t.lport, seg->t.raddr, seg->t.rport,
			 tcp_now_us64(ts));
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->sq_seq = c->iss + 1;
	c->recover = c->iss;
	c->snd_wnd = seg->wnd; /* never scaled in a SYN */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	tcp_conn_set_state(c, TCP_SYN_RCVD);
	tcp_conn_hash_insert(ts, c);
	/* data in a SYN (no TFO here) is not kept: the peer sends it again once synchronized */
	tcp_send_syn(c);
	tcp_rtx_set(c, TCP_RTX_RTO, c->rto_ms);
}

/* An ACK reaching a listener: maybe the end of a cookie handshake. Returns true when it built
 * a connection (seg consumed), false when it is no cookie of ours. */
static bool cookie_ack(struct tcp_stack *ts, struct tcp_seg *seg)
{
	struct tcp_syn_opts so = { 0 };
	struct tcp_conn *c;
	int mss, ifindex;

	if (!ts->cookies_sent || ts->now_ms - ts->last_cookie_ms > COOKIE_RECENT_MS)
		return false;
	mss = tcp_cookie_check(&ts->secret, seg->t.laddr, seg->t.lport, seg->t.raddr, seg->t.rport,
			       seg->seq - 1, seg->ack - 1, cookie_count(ts));
	if (mss < 0) {
		tcp_count(ts, TCP_CNT_syn_cookies_rejected);
		return false;
	}
	if (seg->o.ts_ok && !ts->conf.no_timestamps)
		tcp_cookie_ts_decode(seg->o.tsecr, &so);
	c = tcp_conn_alloc(ts);
	if (c == NULL) {
		tcp_count(ts, TCP_CNT_drop_pool_empty);
		rte_pktmbuf_free(seg->m);
		seg->m = NULL;
		return true;
	}
	tcp_count(ts, TCP_CNT_syn_cookies_accepted);
	ifindex = net_if_by_addr(ts->ns, seg->t.laddr);
	passive_init(ts, c, seg, ifindex);
	c->flags |= TCP_F_COOKIE | TCP_F_SYN_ACKED;
	if (!so.ts_ok)
		c->flags &= ~TCP_F_TS;
	if (!(so.ts_ok && so.wscale_ok)) {
		c->flags &= ~TCP_F_WSCALE;
		c->rcv_wscale = 0;
	} else {
		c->snd_wscale = so.wscale;
	}
	if (!so.sack_ok)
		c->flags &= ~TCP_F_SACK;
	c->mss = RTE_MIN((uint16_t)mss, c->adv_mss);
	if (c->flags & TCP_F_TS) {
		c->ts_recent = seg->o.tsval;
		c->ts_recent_ms = ts->now_ms;
	}
	c->irs = seg->seq - 1;
	c->rcv_nxt = seg->seq;
	c->rcv_adv = c->rcv_nxt + RTE_MIN(ts->conf.rcv_buf, 65535u);
	c->last_ack_sent = c->rcv_nxt;
	c->iss = seg->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = seg->ack;
	c->sq_seq = seg->ack;
	c->snd_wnd = seg->wnd << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	tcp_conn_init_cc(c);
	tcp_conn_hash_insert(ts, c);
	if (!tcp_passive_established(c)) {
		rte_pktmbuf_free(seg->m);
		seg->m = NULL;
		return true;
	}
	/* the ACK may carry data (and FIN): process it as an ESTABLISHED segment */
	tcp_input_conn(c, seg);
	return true;
}

void tcp_listen_input(struct tcp_stack *ts, const struct tcp_listener *l, struct tcp_seg *seg)
{
	RTE_SET_USED(l);
	if (seg->flags & TCP_ACK) {
		if (!(seg->flags & (TCP_SYN | TCP_RST)) && cookie_ack(ts, seg))
			return;
		/* RFC 9293 3.10.7.2: an ACK to a listener gets <SEQ=SEG.ACK><CTL=RST> */
		tcp_send_rst_reply(ts, seg);
		tcp_count(ts, TCP_CNT_drop_listen_ack);
	} else if (seg->flags & TCP_SYN) {
		syn_input(ts, seg);
	} else {
		tcp_count(ts, TCP_CNT_drop_bad_flags);
	}
	rte_pktmbuf_free(seg->m);
	seg->m = NULL;
}
