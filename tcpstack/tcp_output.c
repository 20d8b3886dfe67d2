/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: building and sending segments.
 *
 * A segment is a fresh mbuf from ns->pool holding the IPv4 and TCP headers, followed by
 * indirect mbufs attached to the send queue's buffers for the payload: the send queue is the
 * retransmission queue, and neither sending nor retransmitting copies payload. The send queue
 * is a list of single mbufs (linked through m->next) starting at sequence number sq_seq;
 * acknowledged bytes are trimmed from its head.
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>

#include "tcp_impl.h"

#define TCP_OPT_MAX 40
/* IPv4 and TCP headers with the longest options */
#define TCP_SEG_HDR_MAX (sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr) + TCP_OPT_MAX)
/* Payload up to this size is copied into the segment's mbuf (see tcp_send_segment). */
#define TCP_SEG_COPY_MAX 512

/* ---- send queue ---- */

void tcp_sq_trim(struct tcp_conn *c, uint32_t acked)
{
	struct rte_mbuf *m;

	c->sq_seq += acked;
	c->sq_bytes -= acked;
	while (acked > 0 && (m = c->sq_head) != NULL) {
		if (acked < m->data_len) {
			m->data_off += (uint16_t)acked;
			m->data_len -= (uint16_t)acked;
			m->pkt_len = m->data_len;
			break;
		}
		acked -= m->data_len;
		c->sq_head = m->next;
		if (c->sq_cur == m)
			c->sq_cur = NULL;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	if (c->sq_head == NULL)
		c->sq_tail = NULL;
	if (c->sq_cur == c->sq_head)
		c->sq_cur = NULL; /* its first byte moved: restart from the head */
}

void tcp_sq_purge(struct tcp_conn *c)
{
	struct rte_mbuf *m = c->sq_head, *next;

	while (m != NULL) {
		next = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	c->sq_head = c->sq_tail = c->sq_cur = NULL;
	c->sq_seq += c->sq_bytes;
	c->sq_bytes = 0;
}

/* The send queue mbuf holding seq, searched from the output cursor when it is not past seq,
 * and in *s_seq the sequence number of its first byte; NULL when the queue ends before seq. */
static struct rte_mbuf *sq_seek(const struct tcp_conn *c, uint32_t seq, uint32_t *s_seq)
{
	struct rte_mbuf *s = c->sq_head;
	uint32_t q = c->sq_seq;

	if (c->sq_cur != NULL && SEQ_LEQ(c->sq_cur_seq, seq)) {
		s = c->sq_cur;
		q = c->sq_cur_seq;
	}
	while (s != NULL && SEQ_GEQ(seq, q + s->data_len)) {
		q += s->data_len;
		s = s->next;
	}
	*s_seq = q;
	return s;
}

/* Chain indirect mbufs covering [seq, seq + len) of the send queue behind h. */
static int attach_payload(struct tcp_conn *c, struct rte_mbuf *h, uint32_t seq, uint32_t len)
{
	struct rte_mempool *pool = c->ts->ns->pool;
	struct rte_mbuf *s, *tail = h, *mi;
	uint32_t s_seq, off;

	s = sq_seek(c, seq, &s_seq);
	while (len > 0 && s != NULL) {
		uint32_t piece;

		off = seq - s_seq;
		piece = RTE_MIN(len, (uint32_t)s->data_len - off);
		mi = rte_pktmbuf_alloc(pool);
		if (mi == NULL)
			return -ENOBUFS;
		rte_pktmbuf_attach(mi, s);
		mi->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
		mi->data_off += (uint16_t)off;
		mi->data_len = (uint16_t)piece;
		mi->pkt_len = piece;
		tail->next = mi;
		tail = mi;
		h->nb_segs++;
		h->pkt_len += piece;
		seq += piece;
		len -= piece;
		c->sq_cur = s;
		c->sq_cur_seq = s_seq;
		if (off + piece == s->data_len) {
			s_seq += s->data_len;
			s = s->next;
		}
	}
	return len == 0 ? 0 : -EINVAL;
}

/* Copy [seq, seq + len) of the send queue to dst (the cursor moves as attach_payload moves
 * it). */
static int copy_payload(struct tcp_conn *c, uint8_t *dst, uint32_t seq, uint32_t len)
{
	struct rte_mbuf *s;
	uint32_t s_seq, off, piece;

	s = sq_seek(c, seq, &s_seq);
	while (len > 0 && s != NULL) {
		off = seq - s_seq;
		piece = RTE_MIN(len, (uint32_t)s->data_len - off);
		memcpy(dst, rte_pktmbuf_mtod_offset(s, const uint8_t *, off), piece);
		dst += piece;
		seq += piece;
		len -= piece;
		c->sq_cur = s;
		c->sq_cur_seq = s_seq;
		if (off + piece == s->data_len) {
			s_seq += s->data_len;
			s = s->next;
		}
	}
	return len == 0 ? 0 : -EINVAL;
}

/* ---- headers ---- */

/* The IPv4 and TCP headers of a segment of tuple t (t->laddr is our address) at ip, the TCP
 * header thl bytes long with its options already in place after it. Lengths and checksums are
 * seg_xmit's. */
static inline void hdr_fill(struct rte_ipv4_hdr *ip, const struct tcp_tuple *t, uint32_t seq,
			    uint32_t ack, uint8_t flags, uint16_t wnd, unsigned int thl)
{
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = t->laddr;
	ip->dst_addr = t->raddr;
	th->src_port = rte_cpu_to_be_16(t->lport);
	th->dst_port = rte_cpu_to_be_16(t->rport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32((flags & TCP_ACK) ? ack : 0);
	th->data_off = (uint8_t)((thl / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
}

/* A header-only segment for tuple t (t->laddr is our address). Returns NULL when no mbuf. */
static struct rte_mbuf *hdr_build(struct tcp_stack *ts, const struct tcp_tuple *t, uint32_t seq,
				  uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opt,
				  unsigned int optlen)
{
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *h;
	unsigned int thl = sizeof(struct rte_tcp_hdr) + optlen;

	h = rte_pktmbuf_alloc(ts->ns->pool);
	if (h == NULL) {
		tcp_count(ts, TCP_CNT_drop_no_mbuf);
		return NULL;
	}
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(h, (uint16_t)(sizeof(*ip) + thl));
	if (ip == NULL) {
		rte_pktmbuf_free(h);
		tcp_count(ts, TCP_CNT_drop_no_mbuf);
		return NULL;
	}
	hdr_fill(ip, t, seq, ack, flags, wnd, thl);
	if (optlen > 0)
		memcpy((struct rte_tcp_hdr *)(ip + 1) + 1, opt, optlen);
	return h;
}

/* Fill lengths and checksums (software, or offloaded when the port does it) and send: through
 * the connection's route cache nh, or NULL when the segment has no connection. */
static int seg_xmit(struct tcp_stack *ts, struct rte_mbuf *h, int ifindex, uint32_t paylen,
		    struct net_nh *nh)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(h, struct rte_ipv4_hdr *);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	ip->total_length = rte_cpu_to_be_16((uint16_t)h->pkt_len);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~net_cksum(ip, sizeof(*ip));
	if (ifindex >= 0 && ifindex < ts->ns->n_ifs &&
	    (ts->ns->ifs[ifindex].tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) {
		h->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		h->l3_len = sizeof(*ip);
		h->l4_len = (th->data_off >> 4) * 4;
		th->cksum = rte_ipv4_phdr_cksum(ip, h->ol_flags);
	} else {
		th->cksum = tcp_cksum(h, ip, sizeof(*ip));
		tcp_count(ts, TCP_CNT_tx_sw_cksum);
	}
	tcp_count(ts, TCP_CNT_segs_out);
	ts->cnt[TCP_CNT_bytes_out] += paylen;
	return nh != NULL ? ip4_output_nh(ts->ns, h, nh) : ip4_output(ts->ns, h);
}

/* ---- options ---- */

static unsigned int put_ts(uint8_t *p, uint32_t tsval, uint32_t tsecr)
{
	p[0] = 1;
	p[1] = 1;
	p[2] = 8;
	p[3] = 10;
	tcp_put32(p + 4, tsval);
	tcp_put32(p + 8, tsecr);
	return 12;
}

/* SYN options: MSS, timestamps, window scale, SACK-permitted (each padded to 4 bytes). */
static unsigned int syn_opts(uint8_t *p, uint16_t mss, bool ts, uint32_t tsval, uint32_t tsecr,
			     bool ws, uint8_t wscale, bool sack)
{
	unsigned int n = 0;

	p[n++] = 2;
	p[n++] = 4;
	p[n++] = (uint8_t)(mss >> 8);
	p[n++] = (uint8_t)mss;
	if (ts)
		n += put_ts(p + n, tsval, tsecr);
	if (ws) {
		p[n++] = 1;
		p[n++] = 3;
		p[n++] = 3;
		p[n++] = wscale;
	}
	if (sack) {
		p[n++] = 1;
		p[n++] = 1;
		p[n++] = 4;
		p[n++] = 2;
	}
	return n;
}

/* Options of a non-SYN segment of c: timestamps, then SACK blocks while data is held out of
 * order. */
static unsigned int conn_opts(const struct tcp_conn *c, uint8_t *p)
{
	uint32_t blk[4][2];
	unsigned int n = 0, nb, i;

	if (c->flags & TCP_F_TS)
		n += put_ts(p, tcp_tsval(c->ts), c->ts_recent);
	if ((c->flags & TCP_F_SACK) && c->ooo_head != NULL) {
		nb = tcp_sack_blocks(c, blk, (TCP_OPT_MAX - n - 4) / 8);
		if (nb > 0) {
			p[n++] = 1;
			p[n++] = 1;
			p[n++] = 5;
			p[n++] = (uint8_t)(2 + nb * 8);
			for (i = 0; i < nb; i++) {
				tcp_put32(p + n, blk[i][0]);
				tcp_put32(p + n + 4, blk[i][1]);
				n += 8;
			}
		}
	}
	return n;
}

/* ---- window ---- */

uint16_t tcp_window_field(struct tcp_conn *c)
{
	uint32_t space = tcp_rcv_space(c), cur, field, ws = c->rcv_wscale;
	uint32_t sws = RTE_MIN(c->ts->conf.rcv_buf / 2, (uint32_t)c->mss);

	cur = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/* receiver SWS avoidance (RFC 9293 3.8.6.2.2): no small openings */
	if (space > cur && space - cur < sws)
		space = cur;
	/* never move the right edge back (RFC 9293 3.8.6.2.2, 7323 2.4) */
	if (space < cur)
		space = cur;
	space = RTE_MIN(space, (uint32_t)65535 << ws);
	field = space >> ws;
	if ((field << ws) < cur)
		field++;
	field = RTE_MIN(field, 65535u);
	c->rcv_adv = c->rcv_nxt + (field << ws);
	return (uint16_t)field;
}

/* ---- connection segments ---- */

int tcp_send_segment(struct tcp_conn *c, uint8_t flags, uint32_t seq, uint32_t len)
{
	struct tcp_stack *ts = c->ts;
	unsigned int optlen, thl;
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *h;
	uint8_t *opt;
	uint16_t wnd;
	uint32_t end;
	int rc;

	/* the window first: it moves rcv_adv even when no mbuf is left */
	if (flags & TCP_SYN) {
		/* the window of a SYN is never scaled (RFC 7323 2.2) */
		wnd = (uint16_t)RTE_MIN(tcp_rcv_space(c), 65535u);
		if (c->state != TCP_SYN_SENT)
			c->rcv_adv = c->rcv_nxt + wnd;
	} else {
		wnd = tcp_window_field(c);
	}
	h = rte_pktmbuf_alloc(ts->ns->pool);
	if (h == NULL || rte_pktmbuf_tailroom(h) < TCP_SEG_HDR_MAX) {
		rte_pktmbuf_free(h);
		tcp_count(ts, TCP_CNT_drop_no_mbuf);
		return -ENOBUFS;
	}
	/* headers and options written in place, in the one mbuf */
	ip = rte_pktmbuf_mtod(h, struct rte_ipv4_hdr *);
	opt = (uint8_t *)ip + sizeof(*ip) + sizeof(struct rte_tcp_hdr);
	if (flags & TCP_SYN)
		optlen = syn_opts(opt, c->adv_mss, c->flags & TCP_F_TS, tcp_tsval(ts),
				  c->state == TCP_SYN_SENT ? 0 : c->ts_recent,
				  c->flags & TCP_F_WSCALE, c->rcv_wscale, c->flags & TCP_F_SACK);
	else
		optlen = conn_opts(c, opt);
	thl = sizeof(struct rte_tcp_hdr) + optlen;
	hdr_fill(ip, &c->t, seq, c->rcv_nxt, flags, wnd, thl);
	h->data_len = (uint16_t)(sizeof(*ip) + thl);
	h->pkt_len = h->data_len;
	if (len > 0) {
		/* A small payload is copied behind the headers: one buffer instead of a header
		 * mbuf and an indirect mbuf per piece of the queue (two allocations, a reference
		 * taken and dropped, a chain to checksum and transmit). A larger one is sent by
		 * reference, as the queue is the retransmission queue. */
		if (len <= TCP_SEG_COPY_MAX && rte_pktmbuf_tailroom(h) >= len) {
			rc = copy_payload(c, (uint8_t *)ip + h->data_len, seq, len);
			h->data_len = (uint16_t)(h->data_len + len);
			h->pkt_len = h->data_len;
		} else {
			rc = attach_payload(c, h, seq, len);
		}
		if (rc < 0) {
			rte_pktmbuf_free(h);
			tcp_count(ts, TCP_CNT_drop_no_mbuf);
			return -ENOBUFS;
		}
	}
	if (flags & TCP_ACK) {
		c->last_ack_sent = c->rcv_nxt;
		c->flags &= ~TCP_F_ACK_NOW;
		c->dack_segs = 0;
		c->t_dack = 0;
	}
	if (len > 0)
		c->last_snd_ms = ts->now_ms;
	end = seq + len + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
	if (end != seq) {
		if (SEQ_LT(seq, c->snd_max)) {
			if (!(flags & TCP_SYN))
				tcp_count(ts, TCP_CNT_retransmits);
			c->flags |= TCP_F_RETRANSMITTED;
			c->flags &= ~TCP_F_RTT_TIMING; /* Karn: no sample from ambiguous ACKs */
		} else if (!(c->flags & (TCP_F_RTT_TIMING | TCP_F_TS))) {
			c->flags |= TCP_F_RTT_TIMING;
			c->rtt_seq = seq;
			c->rtt_start_us = tcp_now_us(ts);
		}
		if (SEQ_GT(end, c->snd_nxt))
			c->snd_nxt = end;
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
	}
	return seg_xmit(ts, h, c->ifindex, len, &c->nh);
}

void tcp_send_ack(struct tcp_conn *c)
{
	tcp_send_segment(c, TCP_ACK, c->snd_nxt, 0);
}

/* RFC 5961 7: challenge ACKs are rate limited per connection so that a flood of spoofed
 * segments cannot turn us into an amplifier, nor reveal the limit's state across
 * connections. */
void tcp_send_challenge_ack(struct tcp_conn *c)
{
	struct tcp_stack *ts = c->ts;

	if (ts->now_ms - c->chal_start_ms >= 1000) {
		c->chal_start_ms = ts->now_ms;
		c->chal_count = 0;
	}
	if (c->chal_count >= ts->conf.challenge_ack_per_s) {
		tcp_count(ts, TCP_CNT_challenge_acks_limited);
		return;
	}
	c->chal_count++;
	tcp_count(ts, TCP_CNT_challenge_acks);
	tcp_send_ack(c);
}

void tcp_send_syn(struct tcp_conn *c)
{
	uint8_t flags = c->state == TCP_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;

	tcp_send_segment(c, flags, c->iss, 0);
}

void tcp_send_rst_conn(struct tcp_conn *c)
{
	struct tcp_stack *ts = c->ts;
	struct rte_mbuf *h;

	h = hdr_build(ts, &c->t, c->snd_nxt, c->rcv_nxt, TCP_RST | TCP_ACK, 0, NULL, 0);
	if (h == NULL)
		return;
	tcp_count(ts, TCP_CNT_rsts_sent);
	seg_xmit(ts, h, c->ifindex, 0, &c->nh);
}

/* RFC 9293 3.10.7.1: the RST that answers seg, whatever reached it. */
static void rst_answer(struct tcp_stack *ts, const struct tcp_seg *seg)
{
	struct rte_mbuf *h;
	uint32_t seq = 0, ack = 0;
	uint8_t flags = TCP_RST;

	/* take the sequence number from the ACK, else ACK what came */
	if (seg->flags & TCP_ACK) {
		seq = seg->ack;
	} else {
		flags |= TCP_ACK;
		ack = seg->seq + seg->len + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);
	}
	h = hdr_build(ts, &seg->t, seq, ack, flags, 0, NULL, 0);
	if (h == NULL)
		return;
	tcp_count(ts, TCP_CNT_rsts_sent);
	seg_xmit(ts, h, net_if_by_addr(ts->ns, seg->t.laddr), 0, NULL);
}

void tcp_send_rst_reply(struct tcp_stack *ts, const struct tcp_seg *seg)
{
	if (seg->flags & TCP_RST)
		return;
	if (ts->now_ms - ts->rst_window_ms >= 1000) {
		ts->rst_window_ms = ts->now_ms;
		ts->rst_in_window = 0;
	}
	if (ts->rst_in_window >= ts->conf.rst_per_s) {
		tcp_count(ts, TCP_CNT_rsts_rate_limited);
		return;
	}
	ts->rst_in_window++;
	rst_answer(ts, seg);
}

void tcp_send_rst_for(struct tcp_conn *c, const struct tcp_seg *seg)
{
	if (!(seg->flags & TCP_RST))
		rst_answer(c->ts, seg);
}

void tcp_send_cookie_synack(struct tcp_stack *ts, const struct tcp_seg *seg, uint32_t iss,
			    uint16_t mss, uint32_t tsval, uint8_t wscale)
{
	const struct tcp_opts *o = &seg->o;
	uint8_t opt[TCP_OPT_MAX];
	unsigned int optlen;
	struct rte_mbuf *h;
	bool ts_ok = o->ts_ok && !ts->conf.no_timestamps;

	optlen = syn_opts(opt, mss, ts_ok, tsval, o->tsval, o->wscale_ok && ts_ok, wscale,
			  o->sack_ok && !ts->conf.no_sack && ts_ok);
	h = hdr_build(ts, &seg->t, iss, seg->seq + 1, TCP_SYN | TCP_ACK,
		      (uint16_t)RTE_MIN(ts->conf.rcv_buf, 65535u), opt, optlen);
	if (h == NULL)
		return;
	seg_xmit(ts, h, net_if_by_addr(ts->ns, seg->t.laddr), 0, NULL);
}

/* ---- the output engine ---- */

static bool output_state(const struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

/* Payload bytes that fit in one segment besides the options it will carry. */
static uint32_t seg_payload_max(const struct tcp_conn *c)
{
	uint32_t opt = (c->flags & TCP_F_TS) ? 12 : 0;

	if ((c->flags & TCP_F_SACK) && c->ooo_head != NULL)
		opt = TCP_OPT_MAX;
	return c->mss > opt + 8 ? c->mss - opt : 8;
}

/* Retransmit the first unacknowledged segment (RTO, fast retransmit, NewReno partial ACK),
 * whatever the windows say. */
void tcp_retransmit_head(struct tcp_conn *c)
{
	uint32_t fin_seq = c->sq_seq + c->sq_bytes, len = 0;
	uint8_t flags = TCP_ACK;

	if (SEQ_LT(c->snd_una, fin_seq))
		len = RTE_MIN(fin_seq - c->snd_una, seg_payload_max(c));
	if ((c->flags & TCP_F_FIN_QUEUED) && c->snd_una + len == fin_seq &&
	    SEQ_GT(c->snd_max, fin_seq))
		flags |= TCP_FIN;
	if (len == 0 && !(flags & TCP_FIN))
		return;
	if (len > 0 && c->snd_una + len == fin_seq)
		flags |= TCP_PSH;
	tcp_send_segment(c, flags, c->snd_una, len);
}

void tcp_output_soon(struct tcp_conn *c)
{
	struct tcp_stack *ts = c->ts;

	if (ts->in_input == 0 ||
	    (!(c->flags & TCP_F_OUT_PENDING) && ts->n_out_pending == TCP_OUT_PENDING_MAX)) {
		tcp_output(c);
		return;
	}
	if (!(c->flags & TCP_F_OUT_PENDING)) {
		c->flags |= TCP_F_OUT_PENDING;
		ts->out_pending[ts->n_out_pending++] = tcp_conn_idx(ts, c);
	}
}

void tcp_output_flush(struct tcp_stack *ts)
{
	for (uint32_t i = 0; i < ts->n_out_pending; i++) {
		struct tcp_conn *c = &ts->conns[ts->out_pending[i]];

		/* finished meanwhile (CLOSED), or freed and taken again (flags cleared) */
		if (!(c->flags & TCP_F_OUT_PENDING) || c->state == TCP_CLOSED)
			continue;
		tcp_output(c);
		tcp_timer_update(c);
	}
	ts->n_out_pending = 0;
}

void tcp_output(struct tcp_conn *c)
{
	uint32_t fin_seq, win, inflight, usable, avail, len, maxseg;
	bool sent = false;
	uint8_t flags;

	c->flags &= ~TCP_F_OUT_PENDING;

	if (output_state(c)) {
		/* RFC 5681 4.1: after an idle period longer than an RTO the ACK clock is gone;
		 * start again from the restart window instead of bursting a stale cwnd */
		if (tcp_flight(c) == 0 && c->ts->now_ms - c->last_snd_ms > c->rto_ms)
			c->cwnd = RTE_MIN(c->cwnd, tcp_initial_window(c));
		for (;;) {
			fin_seq = c->sq_seq + c->sq_bytes;
			if (!SEQ_LT(c->snd_nxt, fin_seq)) {
				if ((c->flags & TCP_F_FIN_QUEUED) && c->snd_nxt == fin_seq) {
					if (tcp_send_segment(c, TCP_ACK | TCP_FIN, fin_seq, 0) == 0)
						sent = true;
				}
				break;
			}
			win = RTE_MIN(c->snd_wnd, c->cwnd);
			inflight = c->snd_nxt - c->snd_una;
			usable = win > inflight ? win - inflight : 0;
			avail = fin_seq - c->snd_nxt;
			maxseg = seg_payload_max(c);
			len = RTE_MIN(RTE_MIN(avail, maxseg), usable);
			if (len == 0)
				break;
			/* sender SWS avoidance: no small segment into a small window while
			 * something is in flight to bring the next ACK */
			if (len < maxseg && len < avail && inflight > 0)
				break;
			flags = TCP_ACK;
			if (len == avail) {
				flags |= TCP_PSH;
				if (c->flags & TCP_F_FIN_QUEUED)
					flags |= TCP_FIN;
			}
			{
				uint32_t before = c->snd_nxt;
				int rc = tcp_send_segment(c, flags, c->snd_nxt, len);

				if (c->snd_nxt != before)
					sent = true;
				/* a failed send is lost like a dropped packet would be; the
				 * retransmission timer recovers it */
				if (rc != 0 || (flags & TCP_FIN))
					break;
			}
		}
	}
	if (!sent && (c->flags & TCP_F_ACK_NOW) && c->state != TCP_SYN_SENT)
		tcp_send_ack(c);
	tcp_rtx_reset(c, false);
}
