/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: segment validation and arrival processing (RFC 9293 3.10.7), with the RFC
 * 5961 checks on RST, SYN and ACK and RFC 7323 PAWS.
 *
 * Every rejection leaves through drop() with its own counter. Data and FIN of acceptable
 * segments are handed to tcp_rcv_data() (tcp_reass.c); what must be sent in answer is left to
 * tcp_output() at the end of processing, so one segment produces at most one ACK.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>

#include "tcp_impl.h"

static void drop(struct tcp_stack *ts, struct tcp_seg *seg, enum tcp_counter why)
{
	tcp_count(ts, why);
	rte_pktmbuf_free(seg->m);
	seg->m = NULL;
}

/* ---- parsing ---- */

int tcp_parse_opts(const uint8_t *p, unsigned int len, struct tcp_opts *o)
{
	unsigned int i = 0, n;
	uint32_t head;

	memset(o, 0, sizeof(*o));
	/* Every segment of a connection with timestamps carries NOP, NOP, TS (RFC 7323 appendix
	 * A's layout, what Linux and we send): read it without the loop. Same result. */
	if (len == 12) {
		memcpy(&head, p, 4);
		if (head == rte_cpu_to_be_32(0x0101080a)) {
			o->tsval = tcp_get32(p + 4);
			o->tsecr = tcp_get32(p + 8);
			o->ts_ok = true;
			return 0;
		}
	}
	while (i < len) {
		uint8_t kind = p[i];

		if (kind == 0) /* end of option list */
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -EINVAL;
		n = p[i + 1];
		if (n < 2 || i + n > len)
			return -EINVAL;
		switch (kind) {
		case 2:
			if (n == 4) {
				o->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
				o->mss_ok = true;
			}
			break;
		case 3:
			if (n == 3) {
				o->wscale = p[i + 2];
				o->wscale_ok = true;
			}
			break;
		case 4:
			if (n == 2)
				o->sack_ok = true;
			break;
		case 5:
			if (n >= 10 && (n - 2) % 8 == 0) {
				unsigned int b,
					nb = RTE_MIN((n - 2) / 8, (unsigned)TCP_MAX_SACK_BLOCKS);

				for (b = 0; b < nb; b++) {
					const uint8_t *q = p + i + 2 + b * 8;

					o->sack[b][0] = tcp_get32(q);
					o->sack[b][1] = tcp_get32(q + 4);
				}
				o->nsack = (uint8_t)nb;
			}
			break;
		case 8:
			if (n == 10) {
				o->tsval = tcp_get32(p + i + 2);
				o->tsecr = tcp_get32(p + i + 6);
				o->ts_ok = true;
			}
			break;
		default: /* unknown options are skipped (RFC 9293 3.2) */
			break;
		}
		i += n;
	}
	return 0;
}

/* Validate the IPv4 + TCP headers of m and fill seg; m's data is moved to the payload.
 * Returns 0 or the counter of the reason to drop. */
static int parse(struct tcp_stack *ts, struct rte_mbuf *m, struct tcp_seg *seg)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	uint32_t iphl, iplen, thl;

	if (m->data_len < sizeof(*ip))
		return TCP_CNT_drop_short;
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	iphl = (ip->version_ihl & 0xf) * 4u;
	iplen = rte_be_to_cpu_16(ip->total_length);
	if (iplen > m->pkt_len || iplen < iphl + sizeof(*th) || m->data_len < iphl + sizeof(*th))
		return TCP_CNT_drop_short;
	if (m->pkt_len > iplen) /* Ethernet padding */
		tcp_mbuf_trim_tail(m, m->pkt_len - iplen);
	th = (const struct rte_tcp_hdr *)((const uint8_t *)ip + iphl);
	thl = (th->data_off >> 4) * 4u;
	if (thl < sizeof(*th) || thl > iplen - iphl)
		return TCP_CNT_drop_bad_offset;
	if (m->data_len < iphl + thl)
		return TCP_CNT_drop_short; /* options split across mbufs: never seen in practice */

	switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
		break;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		return TCP_CNT_drop_bad_cksum;
	default:
		if (tcp_cksum(m, ip, iphl) != 0)
			return TCP_CNT_drop_bad_cksum;
	}
	if (tcp_parse_opts((const uint8_t *)(th + 1), thl - sizeof(*th), &seg->o) < 0)
		return TCP_CNT_drop_bad_options;

	seg->flags = th->tcp_flags & (TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG);
	if ((seg->flags & TCP_SYN) && (seg->flags & (TCP_RST | TCP_FIN)))
		return TCP_CNT_drop_bad_flags;
	seg->seq = rte_be_to_cpu_32(th->sent_seq);
	seg->ack = rte_be_to_cpu_32(th->recv_ack);
	seg->wnd = rte_be_to_cpu_16(th->rx_win);
	seg->len = iplen - iphl - thl;
	seg->t.laddr = ip->dst_addr;
	seg->t.raddr = ip->src_addr;
	seg->t.lport = rte_be_to_cpu_16(th->dst_port);
	seg->t.rport = rte_be_to_cpu_16(th->src_port);
	if (seg->t.lport == 0 || seg->t.rport == 0)
		return TCP_CNT_drop_bad_flags;
	rte_pktmbuf_adj(m, (uint16_t)(iphl + thl));
	seg->m = m;
	ts->cnt[TCP_CNT_bytes_in] += seg->len;
	return 0;
}

/* RFC 9293 3.10.7.4 / RFC 6191: a new SYN may take over a TIME_WAIT connection when its
 * sequence number (or timestamp) shows it cannot be confused with the old one. */
static bool time_wait_reusable(const struct tcp_conn *c, const struct tcp_seg *seg)
{
	if ((seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return false;
	if ((c->flags & TCP_F_TS) && seg->o.ts_ok)
		return SEQ_GT(seg->o.tsval, c->ts_recent);
	return SEQ_GT(seg->seq, c->rcv_nxt);
}

static void input_one(struct tcp_stack *ts, struct rte_mbuf *m);

void tcp_input(struct tcp_stack *ts, struct rte_mbuf *m)
{
	ts->in_input++;
	input_one(ts, m);
	if (--ts->in_input == 0)
		tcp_output_flush(ts);
}

static void input_one(struct tcp_stack *ts, struct rte_mbuf *m)
{
	const struct tcp_listener *l;
	struct tcp_seg seg;
	struct tcp_conn *c;
	int why;

	tcp_clock(ts);
	tcp_count(ts, TCP_CNT_segs_in);
	seg.m = m;
	why = parse(ts, m, &seg);
	if (why != 0) {
		drop(ts, &seg, (enum tcp_counter)why);
		return;
	}
	c = tcp_lookup(ts, &seg.t);
	if (c != NULL && c->state == TCP_TIME_WAIT && time_wait_reusable(c, &seg) &&
	    tcp_listener_find(ts, seg.t.laddr, seg.t.lport) != NULL) {
		tcp_conn_finish(c, TCP_CLOSE_NORMAL, false);
		tcp_count(ts, TCP_CNT_time_wait_reused);
		c = NULL;
	}
	if (c != NULL) {
		tcp_input_conn(c, &seg);
		return;
	}
	if (seg.flags & TCP_RST) {
		drop(ts, &seg, TCP_CNT_drop_no_conn);
		return;
	}
	l = tcp_listener_find(ts, seg.t.laddr, seg.t.lport);
	if (l == NULL) {
		tcp_send_rst_reply(ts, &seg);
		drop(ts, &seg,
		     (seg.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN ? TCP_CNT_drop_no_listener
								  : TCP_CNT_drop_no_conn);
		return;
	}
	tcp_listen_input(ts, l, &seg);
}

/* ---- SYN_SENT (RFC 9293 3.10.7.3) ---- */

static void syn_sent_input(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct tcp_stack *ts = c->ts;

	if ((seg->flags & TCP_ACK) && (SEQ_LEQ(seg->ack, c->iss) || SEQ_GT(seg->ack, c->snd_max))) {
		if (seg->flags & TCP_RST) {
			drop(ts, seg, TCP_CNT_drop_bad_ack);
			return;
		}
		/* The peer still holds an older connection of this 4-tuple: one it refuses to
		 * end for our SYN (TIME_WAIT under PAWS, LAST_ACK) or the half-open end of an
		 * attempt we gave up. RFC 9293 3.10.7.3: RST it, and keep this TCB. The RST
		 * clears that state, so the SYN goes again now rather than after a whole RTO,
		 * which may be as long as the user's connect timeout. Once per connection, so
		 * forged ACKs cannot make us send more than one RST and one SYN each; later
		 * ones get rate-limited RSTs and the retransmission timer. */
		if (!(c->flags & TCP_F_SYN_RESENT)) {
			c->flags |= TCP_F_SYN_RESENT;
			tcp_send_rst_for(c, seg);
			tcp_count(ts, TCP_CNT_syn_retransmits);
			tcp_send_syn(c);
		} else {
			tcp_send_rst_reply(ts, seg);
		}
		drop(ts, seg, TCP_CNT_drop_bad_ack);
		return;
	}
	if (seg->flags & TCP_RST) {
		if (!(seg->flags & TCP_ACK)) {
			drop(ts, seg, TCP_CNT_drop_bad_rst);
			return;
		}
		tcp_count(ts, TCP_CNT_rsts_received);
		tcp_conn_finish(c, TCP_CLOSE_REFUSED, true);
		return;
	}
	if (!(seg->flags & TCP_SYN)) {
		drop(ts, seg, TCP_CNT_drop_bad_flags);
		return;
	}
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->last_rcv_ms = ts->now_ms;
	tcp_conn_apply_syn_opts(c, &seg->o);
	c->snd_wnd = seg->wnd; /* never scaled in a SYN (RFC 7323 2.2) */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	if (!(seg->flags & TCP_ACK)) {
		/* simultaneous open: both SYNs crossed; answer SYN-ACK (RFC 9293 3.5) */
		tcp_conn_set_state(c, TCP_SYN_RCVD);
		tcp_send_syn(c);
		tcp_rtx_set(c, TCP_RTX_RTO, c->rto_ms);
		/* any data in the SYN comes again once synchronized */
		if (seg->len > 0)
			drop(ts, seg, TCP_CNT_drop_duplicate);
		return;
	}
	if (c->flags & TCP_F_TS && seg->o.ts_ok && seg->o.tsecr != 0)
		tcp_rtt_sample_ts(c, seg->o.tsecr);
	else if (c->flags & TCP_F_RTT_TIMING)
		tcp_rtt_sample(c, tcp_now_us(ts) - c->rtt_start_us);
	c->flags &= ~TCP_F_RTT_TIMING;
	tcp_rto_synced(c);
	c->snd_una = seg->ack;
	c->snd_wl2 = seg->ack;
	c->flags |= TCP_F_SYN_ACKED | TCP_F_ACK_NOW;
	c->retries = 0;
	tcp_conn_init_cc(c);
	tcp_conn_set_state(c, (c->flags & TCP_F_FIN_QUEUED) ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED);
	tcp_count(ts, TCP_CNT_conns_opened_active);
	tcp_rtx_reset(c, false);
	if ((c->flags & TCP_F_ATTACHED) && c->ops->on_connected != NULL) {
		c->ops->on_connected(c);
		if (c->state == TCP_CLOSED)
			return;
	}
	seg->seq++; /* the SYN */
	seg->flags &= ~TCP_SYN;
	if (seg->len > 0 || (seg->flags & TCP_FIN))
		tcp_rcv_data(c, seg);
}

/* ---- synchronized states ---- */

/* RFC 9293 3.10.7.4 first check, with the zero window allowance: returns true when the
 * segment is acceptable, after trimming it to the receive window. */
static bool seq_check(struct tcp_conn *c, struct tcp_seg *seg)
{
	uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t slen = seg->len + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);
	uint32_t d;

	if (slen == 0) {
		if (wnd == 0)
			return seg->seq == c->rcv_nxt;
		return SEQ_GEQ(seg->seq, c->rcv_nxt) && SEQ_LT(seg->seq, c->rcv_nxt + wnd);
	}
	if (wnd == 0) {
		/* The ACK (and RST) of a segment at rcv_nxt still count; its data cannot. */
		if (seg->seq != c->rcv_nxt)
			return false;
		if (seg->len > 0) {
			/* tell the sender the window is still shut */
			tcp_count(c->ts, TCP_CNT_drop_outside_window);
			c->flags |= TCP_F_ACK_NOW;
		}
		rte_pktmbuf_free(seg->m);
		seg->m = NULL;
		seg->len = 0;
		seg->flags &= ~(TCP_FIN | TCP_SYN);
		return true;
	}
	if (!(SEQ_GEQ(seg->seq, c->rcv_nxt) && SEQ_LT(seg->seq, c->rcv_nxt + wnd)) &&
	    !(SEQ_GEQ(seg->seq + slen - 1, c->rcv_nxt) &&
	      SEQ_LT(seg->seq + slen - 1, c->rcv_nxt + wnd)))
		return false;
	/* trim what precedes rcv_nxt ... */
	if (SEQ_LT(seg->seq, c->rcv_nxt)) {
		d = c->rcv_nxt - seg->seq;
		if (seg->flags & TCP_SYN) {
			seg->flags &= ~TCP_SYN;
			seg->seq++;
			d--;
		}
		if (d >= seg->len) {
			d = seg->len;
		}
		seg->m = tcp_mbuf_adj(seg->m, d);
		seg->len -= d;
		seg->seq += d;
	}
	/* ... and what exceeds the window (a FIN beyond it is not received either) */
	if (SEQ_GT(seg->seq + seg->len, c->rcv_nxt + wnd)) {
		d = seg->seq + seg->len - (c->rcv_nxt + wnd);
		tcp_mbuf_trim_tail(seg->m, d);
		seg->len -= d;
		seg->flags &= ~TCP_FIN;
	}
	return true;
}

static void rst_input(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct tcp_stack *ts = c->ts;

	if (seg->seq != c->rcv_nxt) {
		/* in window but not exact: maybe a blind attack (RFC 5961 3.2) */
		tcp_send_challenge_ack(c);
		drop(ts, seg, TCP_CNT_drop_bad_rst);
		return;
	}
	if (c->state == TCP_TIME_WAIT) {
		/* RFC 1337: a RST must not cut TIME_WAIT short */
		drop(ts, seg, TCP_CNT_drop_bad_rst);
		return;
	}
	tcp_count(ts, TCP_CNT_rsts_received);
	if (c->state == TCP_SYN_RCVD && (c->flags & TCP_F_ACTIVE))
		tcp_conn_finish(c, TCP_CLOSE_REFUSED, true);
	else
		tcp_conn_finish(c, TCP_CLOSE_RESET, true);
}

/* FIN acknowledged: the state moves on (RFC 9293 3.10.7.4, fifth check). Returns false when c
 * was finished. */
static bool fin_acked(struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_FIN_WAIT_1:
		tcp_conn_set_state(c, TCP_FIN_WAIT_2);
		return true;
	case TCP_CLOSING:
		tcp_conn_enter_time_wait(c);
		return c->state != TCP_CLOSED;
	case TCP_LAST_ACK:
		tcp_conn_finish(c, TCP_CLOSE_NORMAL, true);
		return false;
	default:
		return true;
	}
}

/* ACK field processing. Returns false when the segment must not be processed further. */
static bool ack_input(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct tcp_stack *ts = c->ts;
	uint32_t wnd = seg->wnd << c->snd_wscale, acked, n;
	bool window_update = SEQ_LT(c->snd_wl1, seg->seq) ||
			     (c->snd_wl1 == seg->seq && SEQ_LEQ(c->snd_wl2, seg->ack));

	/* RFC 5961 5.2: acceptable ACKs lie in [snd_una - max_snd_wnd, snd_max] */
	if (SEQ_GT(seg->ack, c->snd_max) || SEQ_LT(seg->ack, c->snd_una - c->max_snd_wnd)) {
		tcp_send_challenge_ack(c);
		drop(ts, seg, TCP_CNT_drop_bad_ack);
		return false;
	}
	if (SEQ_LEQ(seg->ack, c->snd_una)) {
		if (seg->ack == c->snd_una && seg->len == 0 && !(seg->flags & TCP_FIN) &&
		    wnd == c->snd_wnd && tcp_flight(c) > 0)
			tcp_cc_dupack(c);
		else if (seg->ack != c->snd_una || seg->len > 0)
			c->dupacks = 0;
	} else {
		acked = seg->ack - c->snd_una;
		if ((c->flags & TCP_F_TS) && seg->o.ts_ok && seg->o.tsecr != 0)
			tcp_rtt_sample_ts(c, seg->o.tsecr);
		else if ((c->flags & TCP_F_RTT_TIMING) && SEQ_GT(seg->ack, c->rtt_seq))
			tcp_rtt_sample(c, tcp_now_us(ts) - c->rtt_start_us);
		if (SEQ_GT(seg->ack, c->rtt_seq))
			c->flags &= ~TCP_F_RTT_TIMING;
		if (SEQ_GT(seg->ack, c->sq_seq)) {
			n = RTE_MIN(seg->ack - c->sq_seq, c->sq_bytes);
			tcp_sq_trim(c, n);
		}
		c->snd_una = seg->ack;
		if (SEQ_LT(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		/* the RTO stays backed off until a new sample (RFC 6298 5.5, Karn) */
		c->retries = 0;
		tcp_cc_ack(c, seg, acked);
		tcp_rtx_reset(c, true);
	}
	if (window_update) {
		bool opened = c->snd_wnd == 0 && wnd > 0;

		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		if (opened && c->rtx_kind == TCP_RTX_PERSIST)
			tcp_rtx_reset(c, false);
	}
	if ((c->flags & TCP_F_FIN_QUEUED) && SEQ_GT(c->snd_una, c->sq_seq + c->sq_bytes) &&
	    !fin_acked(c))
		return false;
	/* last, so that what the user sends from on_writable sees the new window */
	if ((c->flags & TCP_F_WANT_WRITE) && tcp_send_space(c) > 0) {
		c->flags &= ~TCP_F_WANT_WRITE;
		if ((c->flags & TCP_F_ATTACHED) && c->ops->on_writable != NULL) {
			c->ops->on_writable(c);
			if (c->state == TCP_CLOSED)
				return false;
		}
	}
	return true;
}

/* SYN_RCVD + acceptable ACK of our SYN: the connection is established. */
static bool syn_rcvd_ack(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct tcp_stack *ts = c->ts;

	if (!(SEQ_GT(seg->ack, c->snd_una) && SEQ_LEQ(seg->ack, c->snd_max))) {
		tcp_send_rst_reply(ts, seg);
		drop(ts, seg, TCP_CNT_drop_bad_ack);
		return false;
	}
	if ((c->flags & TCP_F_TS) && seg->o.ts_ok && seg->o.tsecr != 0)
		tcp_rtt_sample_ts(c, seg->o.tsecr);
	else if (c->flags & TCP_F_RTT_TIMING)
		tcp_rtt_sample(c, tcp_now_us(ts) - c->rtt_start_us);
	c->flags &= ~TCP_F_RTT_TIMING;
	tcp_rto_synced(c);
	c->flags |= TCP_F_SYN_ACKED;
	c->snd_una = seg->ack;
	c->snd_wnd = seg->wnd << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	c->retries = 0;
	tcp_conn_init_cc(c);
	tcp_rtx_reset(c, false);
	if (!(c->flags & TCP_F_ACTIVE))
		return tcp_passive_established(c);
	tcp_conn_set_state(c, (c->flags & TCP_F_FIN_QUEUED) ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED);
	tcp_count(ts, TCP_CNT_conns_opened_active);
	if ((c->flags & TCP_F_ATTACHED) && c->ops->on_connected != NULL)
		c->ops->on_connected(c);
	return c->state != TCP_CLOSED;
}

static void synced_input(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct tcp_stack *ts = c->ts;

	/* SYN_RCVD: the peer did not see our SYN-ACK and repeats its SYN */
	if (c->state == TCP_SYN_RCVD && (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
	    seg->seq == c->irs) {
		tcp_send_syn(c);
		drop(ts, seg, TCP_CNT_drop_duplicate);
		return;
	}
	/* PAWS (RFC 7323 5.3): an old timestamp marks an old duplicate */
	if ((c->flags & TCP_F_TS) && seg->o.ts_ok && !(seg->flags & TCP_RST) &&
	    SEQ_LT(seg->o.tsval, c->ts_recent) && ts->now_ms - c->ts_recent_ms < TCP_PAWS_IDLE_MS) {
		c->flags |= TCP_F_ACK_NOW;
		drop(ts, seg, TCP_CNT_drop_paws);
		return;
	}
	if (!seq_check(c, seg)) {
		if (seg->flags & TCP_RST) {
			drop(ts, seg, TCP_CNT_drop_bad_rst);
			return;
		}
		if (c->state == TCP_TIME_WAIT && (seg->flags & TCP_FIN))
			tcp_rtx_set(c, TCP_RTX_TIME_WAIT, ts->conf.time_wait_ms);
		c->flags |= TCP_F_ACK_NOW;
		drop(ts, seg,
		     SEQ_LEQ(seg->seq + seg->len, c->rcv_nxt) ? TCP_CNT_drop_duplicate
							      : TCP_CNT_drop_outside_window);
		return;
	}
	/* RFC 7323 4.3: remember the timestamp to echo */
	if ((c->flags & TCP_F_TS) && seg->o.ts_ok && SEQ_LEQ(seg->seq, c->last_ack_sent) &&
	    SEQ_GEQ(seg->o.tsval, c->ts_recent)) {
		c->ts_recent = seg->o.tsval;
		c->ts_recent_ms = ts->now_ms;
	}
	if (seg->flags & TCP_RST) {
		rst_input(c, seg);
		return;
	}
	if (seg->flags & TCP_SYN) {
		/* RFC 5961 4.2: any SYN in a synchronized state gets a challenge ACK */
		tcp_send_challenge_ack(c);
		drop(ts, seg, TCP_CNT_drop_bad_syn);
		return;
	}
	if (!(seg->flags & TCP_ACK)) {
		drop(ts, seg, TCP_CNT_drop_bad_flags);
		return;
	}
	if (c->state == TCP_SYN_RCVD && !syn_rcvd_ack(c, seg))
		return;
	if (!ack_input(c, seg))
		return;
	if (seg->len == 0 && !(seg->flags & TCP_FIN))
		return;
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		tcp_rcv_data(c, seg);
		break;
	default:
		/* CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT: the peer's FIN came already, so
		 * anything in sequence after it is bogus; answer with our current ACK */
		c->flags |= TCP_F_ACK_NOW;
		if (c->state == TCP_TIME_WAIT)
			tcp_rtx_set(c, TCP_RTX_TIME_WAIT, ts->conf.time_wait_ms);
		if (seg->len > 0)
			drop(ts, seg, TCP_CNT_drop_after_close);
	}
}

void tcp_input_conn(struct tcp_conn *c, struct tcp_seg *seg)
{
	tcp_conn_get(c);
	c->last_rcv_ms = c->ts->now_ms;
	if (c->rtx_kind == TCP_RTX_KEEPALIVE && c->retries > 0) {
		/* the peer is alive: back to a full idle period */
		c->retries = 0;
		tcp_rtx_set(c, TCP_RTX_KEEPALIVE, c->ts->conf.keepalive_idle_ms);
	}
	if (c->state == TCP_SYN_SENT)
		syn_sent_input(c, seg);
	else
		synced_input(c, seg);
	rte_pktmbuf_free(seg->m); /* fully processed (no payload left) */
	seg->m = NULL;
	if (c->state != TCP_CLOSED && c->state != TCP_SYN_SENT) {
		tcp_output(c);
		tcp_timer_update(c);
	}
	tcp_conn_put(c);
}
