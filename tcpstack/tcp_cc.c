/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: congestion control: slow start and congestion avoidance (RFC 5681), the
 * initial window of RFC 6928 (tcp_conn_init_cc), fast retransmit and NewReno fast recovery
 * (RFC 6582).
 *
 * `recover` holds snd_max at the time recovery (or an RTO) started, so "the ACK covers more
 * than recover" of RFC 6582, whose recover is the highest sequence number sent, reads
 * SEQ_GEQ(ack, recover) here. SACK-based recovery (RFC 6675) is a later step: received SACK
 * blocks are parsed but not used yet.
 */
#include "tcp_impl.h"

#define CWND_MAX (1u << 30)

static uint32_t loss_ssthresh(const struct tcp_conn *c)
{
	return RTE_MAX(tcp_flight(c) / 2, 2u * c->mss);
}

void tcp_cc_ack(struct tcp_conn *c, const struct tcp_seg *seg, uint32_t acked)
{
	if (c->flags & TCP_F_RECOVERY) {
		if (SEQ_GEQ(seg->ack, c->recover)) {
			/* full ACK: deflate (RFC 6582 3.2 step 3, option 1 with the
			 * burst protection of 3.3) */
			c->cwnd = RTE_MIN(c->ssthresh,
					  RTE_MAX(tcp_flight(c), (uint32_t)c->mss) + c->mss);
			c->flags &= ~TCP_F_RECOVERY;
			c->dupacks = 0;
			c->bytes_acked = 0;
		} else {
			/* partial ACK: the next hole is lost too; resend it at once and
			 * deflate by what was acknowledged, adding back one segment */
			tcp_retransmit_head(c);
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			if (acked >= c->mss)
				c->cwnd += c->mss;
			if (c->cwnd < c->mss)
				c->cwnd = c->mss;
		}
		return;
	}
	c->dupacks = 0;
	if (c->cwnd < c->ssthresh) {
		/* slow start, byte counting limited to one segment per ACK (RFC 5681 3.1) */
		c->cwnd += RTE_MIN(acked, (uint32_t)c->mss);
	} else {
		/* congestion avoidance: one segment per window's worth of ACKed bytes */
		c->bytes_acked += acked;
		if (c->bytes_acked >= c->cwnd) {
			c->bytes_acked -= c->cwnd;
			c->cwnd += c->mss;
		}
	}
	if (c->cwnd > CWND_MAX)
		c->cwnd = CWND_MAX;
}

void tcp_cc_dupack(struct tcp_conn *c)
{
	if (c->dupacks < UINT8_MAX)
		c->dupacks++;
	if (c->flags & TCP_F_RECOVERY) {
		/* each further duplicate means a segment left the network */
		c->cwnd += c->mss;
		return;
	}
	if (c->dupacks != 3 || !SEQ_GEQ(c->snd_una, c->recover))
		return;
	c->ssthresh = loss_ssthresh(c);
	c->recover = c->snd_max;
	c->flags |= TCP_F_RECOVERY;
	tcp_count(c->ts, TCP_CNT_fast_retransmits);
	tcp_retransmit_head(c);
	c->cwnd = c->ssthresh + 3u * c->mss;
	c->bytes_acked = 0;
}

void tcp_cc_rto(struct tcp_conn *c)
{
	c->ssthresh = loss_ssthresh(c);
	c->cwnd = c->mss; /* loss window (RFC 5681 3.1) */
	c->recover = c->snd_max;
	c->flags &= ~TCP_F_RECOVERY;
	c->dupacks = 0;
	c->bytes_acked = 0;
}
