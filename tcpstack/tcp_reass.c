/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: receiving data: in-order delivery, out-of-order reassembly, SACK blocks,
 * the receive window budget and delayed ACKs.
 *
 * In-order payload goes to the user at once, in the very mbufs it arrived in. Out-of-order
 * payload waits in a per-connection list of single mbufs, sorted and disjoint, each carrying
 * its starting sequence number in m->hash.usr (the RSS hash is of no use once the segment is
 * ours). The list is bounded twice: per connection (conf.ooo_max_segments) and per worker
 * (conf.ooo_max_mbufs), both in mbufs, because a 1-byte segment pins a whole buffer. For the
 * same reason the receive window is a budget of true buffer sizes (rcv_charge + ooo_charge),
 * and small out-of-order segments that extend a held one are copied into its tailroom once a
 * connection holds more than a few.
 */
#include <string.h>

#include "tcp_impl.h"

#define OOO_SEQ(m) ((m)->hash.usr)

static inline uint32_t truesize(const struct rte_mbuf *m)
{
	return m->buf_len;
}

/* ---- mbuf chain helpers ---- */

/* Remove n bytes from the front of chain m (n <= pkt_len); leading mbufs left empty are
 * freed, so the returned head may differ from m. */
struct rte_mbuf *tcp_mbuf_adj(struct rte_mbuf *m, uint32_t n)
{
	uint32_t pkt_len = m->pkt_len - n;
	uint16_t nb = m->nb_segs;

	while (n > 0 && n >= m->data_len && m->next != NULL) {
		struct rte_mbuf *next = m->next;

		n -= m->data_len;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
		nb--;
	}
	if (n > m->data_len)
		n = m->data_len;
	m->data_off += (uint16_t)n;
	m->data_len -= (uint16_t)n;
	m->pkt_len = pkt_len;
	m->nb_segs = nb;
	return m;
}

/* Remove n bytes from the end of chain m (n <= pkt_len); trailing mbufs left empty are freed
 * (except the first). */
void tcp_mbuf_trim_tail(struct rte_mbuf *m, uint32_t n)
{
	uint32_t keep = m->pkt_len - n, acc = 0;
	struct rte_mbuf *s = m;
	uint16_t nb = 1;

	while (acc + s->data_len < keep && s->next != NULL) {
		acc += s->data_len;
		s = s->next;
		nb++;
	}
	s->data_len = (uint16_t)(keep - acc);
	if (s->next != NULL) {
		rte_pktmbuf_free(s->next);
		s->next = NULL;
	}
	m->pkt_len = keep;
	m->nb_segs = nb;
}

/* ---- window budget ---- */

uint32_t tcp_rcv_space(const struct tcp_conn *c)
{
	uint32_t used = c->rcv_charge + c->ooo_charge, buf = c->ts->conf.rcv_buf;

	return used < buf ? buf - used : 0;
}

/* ---- out-of-order queue ---- */

void tcp_ooo_purge(struct tcp_conn *c)
{
	struct rte_mbuf *m = c->ooo_head, *next;

	while (m != NULL) {
		next = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	if (c->ts != NULL)
		c->ts->ooo_mbufs -= c->ooo_n;
	c->ooo_head = NULL;
	c->ooo_n = 0;
	c->ooo_charge = 0;
	c->flags &= ~TCP_F_OOO_FIN;
}

static void ooo_unlink_free(struct tcp_conn *c, struct rte_mbuf **link)
{
	struct rte_mbuf *m = *link;

	*link = m->next;
	m->next = NULL;
	c->ooo_n--;
	c->ts->ooo_mbufs--;
	c->ooo_charge -= truesize(m);
	rte_pktmbuf_free_seg(m);
}

/* Insert one mbuf m holding [s, s + m->data_len). Where m overlaps what is held, the held
 * bytes stay and m is trimmed, except that a held block m covers entirely is replaced by m (so
 * no byte m brings is lost without splitting m). Returns false when m was dropped for lack of
 * room (counted). */
static bool ooo_insert_one(struct tcp_conn *c, struct rte_mbuf *m, uint32_t s)
{
	struct tcp_stack *ts = c->ts;
	struct rte_mbuf **link = &c->ooo_head, *prev = NULL, *cur;
	uint32_t e = s + m->data_len, d;

	while ((cur = *link) != NULL) {
		uint32_t cs = OOO_SEQ(cur), ce = cs + cur->data_len;

		if (SEQ_LEQ(ce, s)) {
			prev = cur;
			link = &cur->next;
			continue;
		}
		if (SEQ_LEQ(cs, s)) { /* head of m already held */
			if (SEQ_LEQ(e, ce)) {
				rte_pktmbuf_free_seg(m);
				tcp_count(ts, TCP_CNT_drop_duplicate);
				return true;
			}
			d = ce - s;
			m->data_off += (uint16_t)d;
			m->data_len -= (uint16_t)d;
			s = ce;
			prev = cur;
			link = &cur->next;
			continue;
		}
		if (SEQ_GEQ(e, ce)) { /* m covers cur: m replaces it */
			ooo_unlink_free(c, link);
			continue;
		}
		if (SEQ_GT(e, cs)) { /* tail of m already held */
			m->data_len = (uint16_t)(cs - s);
			e = cs;
		}
		break;
	}
	m->pkt_len = m->data_len;
	/* merge into the previous block's buffer when it ends where m starts and has room */
	if (prev != NULL && OOO_SEQ(prev) + prev->data_len == s &&
	    c->ooo_n >= TCP_OOO_COALESCE_AFTER && RTE_MBUF_DIRECT(prev) &&
	    !RTE_MBUF_HAS_EXTBUF(prev) && rte_mbuf_refcnt_read(prev) == 1 &&
	    rte_pktmbuf_tailroom(prev) >= m->data_len) {
		memcpy(rte_pktmbuf_mtod_offset(prev, void *, prev->data_len),
		       rte_pktmbuf_mtod(m, void *), m->data_len);
		prev->data_len += m->data_len;
		prev->pkt_len = prev->data_len;
		rte_pktmbuf_free_seg(m);
		tcp_count(ts, TCP_CNT_ooo_coalesced);
		return true;
	}
	if (c->ooo_n >= ts->conf.ooo_max_segments) {
		rte_pktmbuf_free_seg(m);
		tcp_count(ts, TCP_CNT_drop_ooo_queue_full);
		return false;
	}
	if (ts->ooo_mbufs >= ts->conf.ooo_max_mbufs) {
		rte_pktmbuf_free_seg(m);
		tcp_count(ts, TCP_CNT_drop_ooo_worker_full);
		return false;
	}
	OOO_SEQ(m) = s;
	m->next = *link;
	*link = m;
	c->ooo_n++;
	ts->ooo_mbufs++;
	c->ooo_charge += truesize(m);
	return true;
}

/* Queue the payload of seg (seq > rcv_nxt) out of order; consumes seg->m. */
static void ooo_insert(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct rte_mbuf *m = seg->m, *next;
	uint32_t s = seg->seq;

	seg->m = NULL;
	tcp_count(c->ts, TCP_CNT_ooo_segments);
	c->sack_last = s;
	for (; m != NULL; m = next) {
		uint32_t l = m->data_len;

		next = m->next;
		m->next = NULL;
		m->nb_segs = 1;
		if (l == 0) {
			rte_pktmbuf_free_seg(m);
			continue;
		}
		if (!ooo_insert_one(c, m, s)) {
			if (next != NULL)
				rte_pktmbuf_free(next);
			break;
		}
		s += l;
	}
}

/* Move what the ooo queue holds at rcv_nxt onto chain tail *tailp; returns bytes moved. */
static uint32_t ooo_drain(struct tcp_conn *c, struct rte_mbuf **tailp, uint16_t *nb)
{
	struct rte_mbuf *m;
	uint32_t moved = 0, d;

	while ((m = c->ooo_head) != NULL && SEQ_LEQ(OOO_SEQ(m), c->rcv_nxt)) {
		uint32_t s = OOO_SEQ(m);

		if (SEQ_LEQ(s + m->data_len, c->rcv_nxt)) {
			ooo_unlink_free(c, &c->ooo_head);
			continue;
		}
		c->ooo_head = m->next;
		m->next = NULL;
		c->ooo_n--;
		c->ts->ooo_mbufs--;
		c->ooo_charge -= truesize(m);
		d = c->rcv_nxt - s;
		m->data_off += (uint16_t)d;
		m->data_len -= (uint16_t)d;
		m->pkt_len = m->data_len;
		c->rcv_nxt += m->data_len;
		moved += m->data_len;
		(*tailp)->next = m;
		*tailp = m;
		(*nb)++;
	}
	return moved;
}

/* SACK blocks (RFC 2018 4): the block holding the most recent arrival first, then the others
 * in sequence order. */
unsigned int tcp_sack_blocks(const struct tcp_conn *c, uint32_t (*blk)[2], unsigned int max)
{
	uint32_t runs[8][2];
	unsigned int n = 0, i, out = 0, first = 0;
	const struct rte_mbuf *m;

	for (m = c->ooo_head; m != NULL; m = m->next) {
		uint32_t s = OOO_SEQ(m), e = s + m->data_len;

		if (n > 0 && runs[n - 1][1] == s) {
			runs[n - 1][1] = e;
			continue;
		}
		if (n == RTE_DIM(runs))
			break;
		runs[n][0] = s;
		runs[n][1] = e;
		n++;
	}
	for (i = 0; i < n; i++)
		if (SEQ_GEQ(c->sack_last, runs[i][0]) && SEQ_LT(c->sack_last, runs[i][1]))
			first = i;
	if (n == 0 || max == 0)
		return 0;
	blk[out][0] = runs[first][0];
	blk[out][1] = runs[first][1];
	out++;
	for (i = 0; i < n && out < max; i++) {
		if (i == first)
			continue;
		blk[out][0] = runs[i][0];
		blk[out][1] = runs[i][1];
		out++;
	}
	return out;
}

/* ---- FIN ---- */

static void peer_fin(struct tcp_conn *c)
{
	bool to_time_wait = false;

	c->rcv_nxt++;
	c->flags |= TCP_F_PEER_FIN | TCP_F_ACK_NOW;
	c->flags &= ~TCP_F_OOO_FIN;
	tcp_ooo_purge(c);
	/* The state moves first, so that what on_peer_fin does (tcp_close, tcp_shutdown,
	 * tcp_send) applies to the state the connection is really in. */
	switch (c->state) {
	case TCP_ESTABLISHED:
		tcp_conn_set_state(c, TCP_CLOSE_WAIT);
		tcp_rtx_reset(c, false);
		break;
	case TCP_FIN_WAIT_1:
		/* our FIN is not acknowledged yet (or fin_acked would have moved us on):
		 * simultaneous close */
		tcp_conn_set_state(c, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		to_time_wait = true; /* after on_peer_fin: TIME_WAIT ends the user's part */
		break;
	default:
		break;
	}
	if ((c->flags & TCP_F_ATTACHED) && c->ops->on_peer_fin != NULL) {
		c->ops->on_peer_fin(c);
		if (c->state == TCP_CLOSED)
			return;
	}
	if (to_time_wait)
		tcp_conn_enter_time_wait(c);
}

/* ---- data ---- */

/* Hand an in-order chain to the user, charging its true size to the window budget, or free
 * it when the user has no on_data. */
static void deliver(struct tcp_conn *c, struct rte_mbuf *m, uint32_t len)
{
	const struct rte_mbuf *s;

	if (!(c->flags & TCP_F_ATTACHED) || c->ops->on_data == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	for (s = m; s != NULL; s = s->next)
		c->rcv_charge += truesize(s);
	c->rcv_held += len;
	c->ops->on_data(c, m);
}

/* Delayed ACK policy (RFC 9293 3.8.6.3, RFC 5681 4.2): at least every second full-sized
 * segment, and within delayed_ack_ms. */
static void ack_policy(struct tcp_conn *c, uint32_t len)
{
	uint32_t full = c->mss - ((c->flags & TCP_F_TS) ? 12u : 0u);

	if (len >= full && ++c->dack_segs >= 2) {
		c->flags |= TCP_F_ACK_NOW;
		return;
	}
	tcp_dack_schedule(c);
}

void tcp_rcv_data(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct rte_mbuf *m = seg->m, *tail;
	uint32_t len = seg->len, fin_seq = seg->seq + seg->len;
	bool had_ooo = c->ooo_head != NULL, fin = seg->flags & TCP_FIN;
	uint16_t nb;

	seg->m = NULL;
	if ((c->flags & TCP_F_ORPHAN) && len > 0) {
		/* Nobody will ever read it: tell the peer at once rather than let it believe the
		 * data arrived (RFC 9293 3.10.4 CLOSE with data pending; what Linux does) */
		rte_pktmbuf_free(m);
		tcp_count(c->ts, TCP_CNT_drop_after_close);
		tcp_send_rst_conn(c);
		tcp_conn_finish(c, TCP_CLOSE_ABORTED, false);
		return;
	}
	if (seg->seq != c->rcv_nxt) {
		/* a gap before it: keep it aside and tell the sender at once (dup ACK + SACK) */
		if (fin) {
			c->flags |= TCP_F_OOO_FIN;
			c->ooo_fin_seq = fin_seq;
		}
		if (len > 0) {
			seg->m = m;
			ooo_insert(c, seg);
		} else {
			rte_pktmbuf_free(m);
		}
		c->flags |= TCP_F_ACK_NOW;
		return;
	}
	if (len > 0) {
		c->rcv_nxt += len;
		for (tail = m, nb = 1; tail->next != NULL; tail = tail->next)
			nb++;
		if (had_ooo)
			len += ooo_drain(c, &tail, &nb);
		m->pkt_len = len;
		m->nb_segs = nb;
		if (had_ooo)
			c->flags |= TCP_F_ACK_NOW; /* a gap filled: the sender waits to hear it */
		else
			ack_policy(c, seg->len);
		deliver(c, m, len);
		if (c->state == TCP_CLOSED)
			return;
	} else {
		rte_pktmbuf_free(m);
	}
	if ((fin && fin_seq == c->rcv_nxt) ||
	    ((c->flags & TCP_F_OOO_FIN) && c->ooo_fin_seq == c->rcv_nxt))
		peer_fin(c);
}
