/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: the TCB and the declarations shared by the tcp_*.c files (not a public API).
 *
 * Everything here runs on the worker owning the struct tcp_stack.
 */
#ifndef SLUICE_TCP_IMPL_H
#define SLUICE_TCP_IMPL_H

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "tcp.h"

#define TCP_NIL UINT32_MAX /* end of an index list */

/* Wrap-safe sequence comparisons (RFC 9293 3.4: arithmetic modulo 2^32). */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

#define TCP_FIN RTE_TCP_FIN_FLAG
#define TCP_SYN RTE_TCP_SYN_FLAG
#define TCP_RST RTE_TCP_RST_FLAG
#define TCP_PSH RTE_TCP_PSH_FLAG
#define TCP_ACK RTE_TCP_ACK_FLAG
#define TCP_URG RTE_TCP_URG_FLAG

#define TCP_DEFAULT_MSS 536	 /* RFC 9293 3.7.1: when the peer sends no MSS option */
#define TCP_MAX_WSCALE 14	 /* RFC 7323 2.3 */
#define TCP_MAX_SACK_BLOCKS 4	 /* in a received segment */
#define TCP_OOO_COALESCE_AFTER 4 /* ooo mbufs held before small ones are merged */
#define TCP_SND_COALESCE_MAX 512 /* chains up to this size are copied into the queue's tail */
#define TCP_PAWS_IDLE_MS (24u * 24 * 3600 * 1000) /* RFC 7323 5.5: ts_recent too old */
#define TCP_TIMER_BUDGET 256			  /* timers fired per tcp_timers() call */
#define TCP_SYN_RTO_FALLBACK_MS 3000		  /* RFC 6298 5.7 */

/* Complemented TCP checksum over the pseudo header and m from l4_off (m's data at the IPv4
 * header ip): what goes into the header, or 0 when checking a received segment that is
 * intact. net_cksum_mbuf rather than rte_ipv4_udptcp_cksum_mbuf: the latter is experimental
 * and wrong over chains whose pieces start at odd offsets. */
static inline uint16_t tcp_cksum(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
				 uint32_t l4_off)
{
	uint32_t len = rte_be_to_cpu_16(ip->total_length) - l4_off;
	/* the pseudo header's words added straight into the 64-bit sum */
	uint64_t sum = (uint64_t)ip->src_addr + ip->dst_addr +
		       rte_cpu_to_be_16((uint16_t)ip->next_proto_id) +
		       rte_cpu_to_be_16((uint16_t)len);

	/* the usual case, a segment in one mbuf, without the walk over the chain */
	if ((uint64_t)l4_off + len <= m->data_len)
		sum = net_cksum_add(sum, rte_pktmbuf_mtod_offset(m, const uint8_t *, l4_off), len);
	else if (net_cksum_mbuf_add(m, l4_off, len, &sum) != 0)
		return 0xffff; /* shorter than the IP header says: never valid */
	return (uint16_t)~net_cksum_fold(sum);
}

/* Big-endian 32-bit load and store at any alignment (options sit at odd offsets). */
static inline uint32_t tcp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void tcp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Options of one segment, host order. */
struct tcp_opts {
	uint16_t mss;
	uint8_t wscale;
	uint8_t nsack;
	bool mss_ok, wscale_ok, sack_ok, ts_ok;
	uint32_t tsval, tsecr;
	uint32_t sack[TCP_MAX_SACK_BLOCKS][2];
};

/* A received segment after parsing: m's data at the payload (len bytes), seq/ack host order. */
struct tcp_seg {
	struct rte_mbuf *m;
	uint32_t seq, ack;
	uint32_t len;
	uint32_t wnd; /* raw 16-bit field */
	uint8_t flags;
	uint16_t ifindex;
	struct tcp_tuple t; /* local = destination of the segment */
	struct tcp_opts o;
};

/* Which deadline t_rtx stands for; exactly one at a time (see tcp_timer.c). */
enum tcp_rtx_kind {
	TCP_RTX_NONE = 0,
	TCP_RTX_RTO,	 /* SYN, SYN-ACK, data or FIN retransmission */
	TCP_RTX_PERSIST, /* zero window probe */
	TCP_RTX_KEEPALIVE,
	TCP_RTX_TIME_WAIT,
	TCP_RTX_FIN_WAIT_2, /* orphaned FIN_WAIT_2 */
};

/* TCB flag bits */
#define TCP_F_ATTACHED (1u << 0)       /* the user gets callbacks (and on_closed) */
#define TCP_F_ACTIVE (1u << 1)	       /* opened by tcp_connect */
#define TCP_F_TS (1u << 2)	       /* timestamps negotiated */
#define TCP_F_SACK (1u << 3)	       /* SACK-permitted negotiated */
#define TCP_F_WSCALE (1u << 4)	       /* window scaling negotiated */
#define TCP_F_FIN_QUEUED (1u << 5)     /* FIN after the queued data (shutdown / close) */
#define TCP_F_ORPHAN (1u << 6)	       /* tcp_close called: no user any more */
#define TCP_F_PEER_FIN (1u << 7)       /* the peer's FIN has been received (in order) */
#define TCP_F_OOO_FIN (1u << 8)	       /* the peer's FIN is known, but after a gap */
#define TCP_F_ACK_NOW (1u << 9)	       /* send an ACK at the end of input processing */
#define TCP_F_WANT_WRITE (1u << 10)    /* send queue was full: on_writable when it drains */
#define TCP_F_RECOVERY (1u << 11)      /* NewReno fast recovery */
#define TCP_F_RTT_TIMING (1u << 12)    /* rtt_seq is being timed (Karn) */
#define TCP_F_RETRANSMITTED (1u << 13) /* something was retransmitted: no Karn sample */
#define TCP_F_HASHED (1u << 14)	       /* in the connection table */
#define TCP_F_COOKIE (1u << 15)	       /* created from a SYN cookie */
#define TCP_F_SYN_ACKED (1u << 16)     /* our SYN has been acknowledged */
#define TCP_F_SYN_RESENT (1u << 17)    /* SYN resent at once after a bad ACK in SYN_SENT */
#define TCP_F_OUT_PENDING (1u << 18)   /* in ts->out_pending: tcp_output at the end of input */

/* The TCB. Kept small: an idle ESTABLISHED connection costs sizeof(struct tcp_conn) and no
 * mbuf. Sequence numbers in host order. */
struct tcp_conn {
	struct tcp_timer timer; /* one wheel timer: min(t_rtx, t_dack) */
	struct tcp_stack *ts;
	const struct tcp_ops *ops;
	void *user;

	struct tcp_tuple t;
	uint32_t hnext; /* next in hash chain; next free TCB while free */
	/* The initial sequence numbers matter only until the handshake is over (SYN and SYN-ACK
	 * checks and retransmissions); the TIME_WAIT list links only in TIME_WAIT, which a TCB
	 * reaches after its SYN was acknowledged. They share 8 bytes of every TCB. */
	union {
		struct {
			uint32_t iss;
			uint32_t irs;
		};
		struct {
			uint32_t tw_prev, tw_next;
		};
	};
	uint32_t flags;
	uint8_t state;	  /* enum tcp_state */
	uint8_t rtx_kind; /* enum tcp_rtx_kind */
	uint8_t busy;	  /* stack frames using this TCB: free is deferred until 0 */
	uint8_t ifindex;

	/* send sequence space (iss above) */
	uint32_t snd_una;
	uint32_t snd_nxt; /* next to send (rewound by RTO) */
	uint32_t snd_max; /* highest sequence number sent + 1 */
	uint32_t snd_wnd; /* scaled */
	uint32_t snd_wl1, snd_wl2;
	uint32_t max_snd_wnd;		    /* RFC 5961 5.2 */
	uint32_t sq_seq;		    /* sequence number of sq_head's first byte */
	uint32_t sq_bytes;		    /* bytes in the send queue (unacked, sent or not) */
	uint32_t sq_cur_seq;		    /* sequence number of sq_cur's first byte */
	struct rte_mbuf *sq_head, *sq_tail; /* linked through m->next, one mbuf at a time */
	struct rte_mbuf *sq_cur;	    /* output cursor: some mbuf of the queue */

	/* receive sequence space (irs above) */
	uint32_t rcv_nxt;
	uint32_t rcv_adv;	   /* right edge of the window we advertised */
	uint32_t last_ack_sent;	   /* RFC 7323 4.3 */
	uint32_t rcv_held;	   /* payload bytes delivered, not yet tcp_recved */
	uint32_t rcv_charge;	   /* their true mbuf size (window budget) */
	uint32_t ooo_fin_seq;	   /* sequence number of the out-of-order FIN */
	uint32_t ooo_charge;	   /* true size of the ooo queue */
	uint32_t sack_last;	   /* start of the most recent ooo block (first SACK block) */
	struct rte_mbuf *ooo_head; /* sorted, disjoint, one mbuf per range, seq in hash.usr */
	uint16_t ooo_n;

	/* options */
	uint16_t mss;	    /* our send MSS: min(peer's, ours), options not deducted */
	uint16_t adv_mss;   /* MSS we advertised */
	uint8_t snd_wscale; /* shift applied to windows the peer sends */
	uint8_t rcv_wscale; /* shift applied to windows we send */
	uint32_t ts_recent;
	uint32_t ts_recent_ms; /* when ts_recent was set (PAWS idle rule) */

	/* RTT, RTO (RFC 6298) and timers */
	uint32_t srtt_us, rttvar_us; /* 0 = no sample yet */
	uint32_t rto_ms;	     /* current, backed off */
	uint32_t rtt_seq, rtt_start_us;
	uint32_t t_rtx, t_dack; /* deadlines in wheel ticks (0 = off) */
	uint32_t last_rcv_ms;	/* keepalive idle reference */
	uint32_t last_snd_ms;	/* last data sent: restart window after idle */
	uint8_t retries;	/* consecutive retransmissions / probes of the current kind */
	uint8_t dack_segs;	/* full segments received and not acknowledged */
	uint8_t dupacks;
	uint8_t chal_count; /* challenge ACKs in the current second */
	uint32_t chal_start_ms;

	/* congestion control (RFC 5681, 6582, 6928) */
	uint32_t cwnd, ssthresh;
	uint32_t recover;
	uint32_t bytes_acked; /* congestion avoidance byte counting */

	struct net_nh nh; /* route and ARP slot of raddr, for ip4_output_nh */
};

/* ---- tcp_conn.c: pool, table, lifecycle ---- */
static inline uint32_t tcp_conn_idx(const struct tcp_stack *ts, const struct tcp_conn *c)
{
	return (uint32_t)(c - ts->conns);
}
struct tcp_conn *tcp_conn_alloc(struct tcp_stack *ts);
/* A free TCB of the reserve, zeroed; NULL when the reserve is empty. */
struct tcp_conn *tcp_conn_alloc_reserved(struct tcp_stack *ts);
void tcp_conn_hash_insert(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_conn_set_state(struct tcp_conn *c, enum tcp_state s);
/* End c: detach the user (calling on_closed(reason) when notify and attached), unhash it and
 * free it now or, when busy, when the last stack frame using it lets go. */
void tcp_conn_finish(struct tcp_conn *c, enum tcp_close_reason reason, bool notify);
/* Drop one stack frame's use of c (see busy); frees c if it was finished meanwhile. */
void tcp_conn_put(struct tcp_conn *c);
static inline void tcp_conn_get(struct tcp_conn *c)
{
	c->busy++;
}
void tcp_conn_enter_time_wait(struct tcp_conn *c);
const struct tcp_listener *tcp_listener_find(const struct tcp_stack *ts, uint32_t addr,
					     uint16_t port);
/* Negotiated parameters common to both opens, from the peer's SYN options. */
void tcp_conn_apply_syn_opts(struct tcp_conn *c, const struct tcp_opts *o);
void tcp_conn_init_cc(struct tcp_conn *c);
uint32_t tcp_initial_window(const struct tcp_conn *c);
uint16_t tcp_local_mss(const struct tcp_stack *ts, uint16_t ifindex);
uint8_t tcp_local_wscale(const struct tcp_stack *ts);

static inline void tcp_count(struct tcp_stack *ts, enum tcp_counter i)
{
	ts->cnt[i]++;
}

/* Refresh ts->now_ms from ns->now. */
void tcp_clock(struct tcp_stack *ts);
/* ns->now in microseconds; split so that now * 1e6 cannot overflow after a few hours. */
static inline uint64_t tcp_now_us64(const struct tcp_stack *ts)
{
	uint64_t now = ts->ns->now, hz = ts->ns->hz;

	return now / hz * 1000000 + now % hz * 1000000 / hz;
}
static inline uint32_t tcp_now_us(const struct tcp_stack *ts)
{
	return (uint32_t)tcp_now_us64(ts);
}
static inline uint32_t tcp_tsval(const struct tcp_stack *ts)
{
	return ts->now_ms + ts->ts_offset;
}

/* ---- tcp_input.c / tcp_reass.c ---- */
int tcp_parse_opts(const uint8_t *p, unsigned int len, struct tcp_opts *o);
/* Process a segment for an existing (non-LISTEN) connection. Consumes seg->m. */
void tcp_input_conn(struct tcp_conn *c, struct tcp_seg *seg);
/* Data and FIN of an acceptable in-window segment (seg->m consumed). */
void tcp_rcv_data(struct tcp_conn *c, struct tcp_seg *seg);
void tcp_ooo_purge(struct tcp_conn *c);
/* SACK blocks to report (pairs of seq), at most max; returns their number. */
unsigned int tcp_sack_blocks(const struct tcp_conn *c, uint32_t (*blk)[2], unsigned int max);
/* Receive window we can offer now (bytes, unscaled, before SWS rules). */
uint32_t tcp_rcv_space(const struct tcp_conn *c);
void tcp_mbuf_trim_tail(struct rte_mbuf *m, uint32_t n);
struct rte_mbuf *tcp_mbuf_adj(struct rte_mbuf *m, uint32_t n);

/* ---- tcp_syn.c: listeners, SYN, SYN cookies ---- */
void tcp_listen_input(struct tcp_stack *ts, const struct tcp_listener *l, struct tcp_seg *seg);
/* Handshake completed for a passive open: on_accept, ESTABLISHED. Returns false if the
 * connection was refused (and is finished). */
bool tcp_passive_established(struct tcp_conn *c);

/* ---- tcp_output.c ---- */
/* Send what the windows allow, FIN included, plus a pending ACK. */
void tcp_output(struct tcp_conn *c);
/* tcp_output now, or, inside tcp_input, once it is done (tcp_output_flush). */
void tcp_output_soon(struct tcp_conn *c);
/* Run the output deferred by tcp_output_soon. */
void tcp_output_flush(struct tcp_stack *ts);
/* Send one segment: flags, seq, payload [seq, seq+len) from the send queue. Returns 0 or <0. */
int tcp_send_segment(struct tcp_conn *c, uint8_t flags, uint32_t seq, uint32_t len);
void tcp_send_ack(struct tcp_conn *c);
/* Retransmit the first unacknowledged segment, whatever the windows say. */
void tcp_retransmit_head(struct tcp_conn *c);
void tcp_send_challenge_ack(struct tcp_conn *c);
void tcp_send_syn(struct tcp_conn *c); /* SYN or SYN-ACK by state */
void tcp_send_rst_conn(struct tcp_conn *c);
/* RST answering seg, which reached no connection (RFC 9293 3.10.7.1). */
void tcp_send_rst_reply(struct tcp_stack *ts, const struct tcp_seg *seg);
/* The same RST for seg, which reached c but is unacceptable there (a bad ACK in SYN_SENT):
 * not subject to the stack-wide rst_per_s limit, so the caller bounds it per connection. */
void tcp_send_rst_for(struct tcp_conn *c, const struct tcp_seg *seg);
/* Stateless SYN-ACK (cookie) for seg. */
void tcp_send_cookie_synack(struct tcp_stack *ts, const struct tcp_seg *seg, uint32_t iss,
			    uint16_t mss, uint32_t tsval, uint8_t wscale);
/* Window to advertise (scaled field value) and update rcv_adv. */
uint16_t tcp_window_field(struct tcp_conn *c);
/* Free acknowledged bytes at the head of the send queue. */
void tcp_sq_trim(struct tcp_conn *c, uint32_t acked);
void tcp_sq_purge(struct tcp_conn *c);

/* ---- tcp_timer.c ---- */
void tcp_timer_update(struct tcp_conn *c);
/* Recompute the retransmission/persist/keepalive deadline after sending or an ACK. */
void tcp_rtx_reset(struct tcp_conn *c, bool restart_rto);
void tcp_rtx_set(struct tcp_conn *c, enum tcp_rtx_kind kind, uint32_t ms);
void tcp_dack_schedule(struct tcp_conn *c);
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_us);
void tcp_rtt_sample_ts(struct tcp_conn *c, uint32_t tsecr);
void tcp_rto_compute(struct tcp_conn *c);
void tcp_rto_synced(struct tcp_conn *c);
void tcp_timer_fire(void *arg, struct tcp_timer *t);

/* ---- tcp_cc.c ---- */
/* ACK processing for the send side: new data acknowledged (acked > 0) or duplicate. */
void tcp_cc_ack(struct tcp_conn *c, const struct tcp_seg *seg, uint32_t acked);
void tcp_cc_dupack(struct tcp_conn *c);
void tcp_cc_rto(struct tcp_conn *c);

static inline uint32_t tcp_flight(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}
static inline bool tcp_fin_sent(const struct tcp_conn *c)
{
	return (c->flags & TCP_F_FIN_QUEUED) && SEQ_GT(c->snd_max, c->sq_seq + c->sq_bytes);
}

#endif /* SLUICE_TCP_IMPL_H */
