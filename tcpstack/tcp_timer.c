/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: per-connection timers on the worker's wheel.
 *
 * A TCB carries one wheel timer armed at the earlier of two deadlines: t_dack (delayed ACK)
 * and t_rtx, whose meaning rtx_kind names. The kinds of t_rtx never overlap: retransmission
 * runs while something is unacknowledged, the persist timer while data waits for a window of
 * zero with nothing in flight, keepalive while the connection is idle, TIME_WAIT and the
 * orphaned FIN_WAIT_2 timeout at the end. One timer per TCB (24 bytes) rather than one per
 * purpose keeps an idle TCB small, and re-arming it is O(1) on the wheel anyway.
 *
 * RTO per RFC 6298: SRTT/RTTVAR from timestamps (every ACK of new data) or from one timed
 * segment at a time (Karn: never from a retransmitted one), RTO = SRTT + max(G, 4*RTTVAR)
 * bounded by conf.rto_min_ms and conf.rto_max_ms, doubled on each expiry.
 */
#include <stddef.h>

#include "tcp_impl.h"

#define G_US 1000 /* clock granularity: one wheel tick */

/* The current tick from the clock itself: the wheel's own "now" lags until tcp_timers() runs,
 * and a deadline computed from it would come early by that lag. Ticks are 1 ms, absolute
 * (now_tsc / tsc_per_tick), as the wheel counts them. */
static uint64_t now_tick64(const struct tcp_conn *c)
{
	return c->ts->ns->now / c->ts->wheel.tsc_per_tick;
}

static uint32_t now_tick(const struct tcp_conn *c)
{
	return (uint32_t)now_tick64(c);
}

/* Deadlines are kept as the low 32 bits of a tick (49 days of 1 ms ticks, far beyond any
 * timer here), compared wrap-safely; the wheel wants the full 64-bit tick back.
 *
 * Lazily: the wheel entry only has to fire no later than the earliest deadline, so it moves
 * only when a deadline comes earlier than the tick it is armed for (or it is not armed). A
 * deadline moved later, or switched off, leaves the entry where it is; when it fires early
 * tcp_timer_fire() finds nothing due and arms it again for what the TCB holds by then. A
 * keep-alive connection restarts its retransmission timer on every request and stops it on
 * every ACK: this way that costs two comparisons instead of an unlink and a relink each
 * time, and the entry moves about once per RTO. Only a closed TCB takes its entry off. */
void tcp_timer_update(struct tcp_conn *c)
{
	struct tcp_wheel *w = &c->ts->wheel;
	uint64_t exp, now;
	uint32_t d = 0;

	if (c->state == TCP_CLOSED) {
		tcp_wheel_cancel(w, &c->timer);
		return;
	}
	if (c->t_rtx != 0)
		d = c->t_rtx;
	if (c->t_dack != 0 && (d == 0 || SEQ_LT(c->t_dack, d)))
		d = c->t_dack;
	if (d == 0)
		return; /* nothing to wait for: an entry still armed fires once, finds nothing */
	/* The usual case, without the clock: the entry is due no later than d. Both lie within
	 * 2^31 ticks of now, so the 32-bit comparison is the 64-bit one below. */
	if (tcp_timer_armed(&c->timer) && SEQ_LEQ((uint32_t)c->timer.expire, d))
		return;
	now = now_tick64(c);
	exp = SEQ_GT(d, (uint32_t)now) ? now + (uint32_t)(d - (uint32_t)now) : now;
	if (tcp_timer_armed(&c->timer) && c->timer.expire <= exp)
		return; /* fires on time or early, and is re-armed then */
	tcp_wheel_arm(w, &c->timer, exp);
}

/* The same, eagerly: the entry exactly at the earliest deadline, or off when there is none
 * (after a fire, where the entry is disarmed anyway). */
static void timer_rearm(struct tcp_conn *c)
{
	uint32_t d = 0;
	uint64_t now;

	if (c->t_rtx != 0)
		d = c->t_rtx;
	if (c->t_dack != 0 && (d == 0 || SEQ_LT(c->t_dack, d)))
		d = c->t_dack;
	if (d == 0) {
		tcp_wheel_cancel(&c->ts->wheel, &c->timer);
		return;
	}
	now = now_tick64(c);
	tcp_wheel_arm(&c->ts->wheel, &c->timer,
		      SEQ_GT(d, (uint32_t)now) ? now + (uint32_t)(d - (uint32_t)now) : now);
}

static uint32_t deadline(const struct tcp_conn *c, uint32_t ms)
{
	uint32_t d = now_tick(c) + (uint32_t)tcp_wheel_ms_to_ticks(&c->ts->wheel, ms);

	return d != 0 ? d : 1; /* 0 means off */
}

void tcp_rtx_set(struct tcp_conn *c, enum tcp_rtx_kind kind, uint32_t ms)
{
	c->rtx_kind = (uint8_t)kind;
	c->t_rtx = kind != TCP_RTX_NONE ? deadline(c, ms) : 0;
	tcp_timer_update(c);
}

void tcp_dack_schedule(struct tcp_conn *c)
{
	if (c->t_dack != 0)
		return;
	c->t_dack = deadline(c, c->ts->conf.delayed_ack_ms);
	tcp_timer_update(c);
}

static bool unsent(const struct tcp_conn *c)
{
	uint32_t fin_seq = c->sq_seq + c->sq_bytes;

	return SEQ_LT(c->snd_nxt, fin_seq) ||
	       ((c->flags & TCP_F_FIN_QUEUED) && c->snd_nxt == fin_seq);
}

void tcp_rtx_reset(struct tcp_conn *c, bool restart_rto)
{
	const struct tcp_conf *cf = &c->ts->conf;

	switch (c->state) {
	case TCP_CLOSED:
	case TCP_TIME_WAIT:
		return;
	case TCP_SYN_SENT:
	case TCP_SYN_RCVD:
		if (restart_rto || c->rtx_kind != TCP_RTX_RTO)
			tcp_rtx_set(c, TCP_RTX_RTO, c->rto_ms);
		return;
	default:
		break;
	}
	if (tcp_flight(c) > 0) {
		if (restart_rto || c->rtx_kind != TCP_RTX_RTO)
			tcp_rtx_set(c, TCP_RTX_RTO, c->rto_ms);
		return;
	}
	if (unsent(c)) {
		/* nothing in flight and yet something to send: the window is shut */
		if (c->rtx_kind != TCP_RTX_PERSIST) {
			c->retries = 0;
			tcp_rtx_set(c, TCP_RTX_PERSIST, c->rto_ms);
		}
		return;
	}
	if (c->state == TCP_FIN_WAIT_2 && (c->flags & TCP_F_ORPHAN)) {
		if (c->rtx_kind != TCP_RTX_FIN_WAIT_2)
			tcp_rtx_set(c, TCP_RTX_FIN_WAIT_2, cf->fin_wait_2_ms);
		return;
	}
	if (cf->keepalive_idle_ms != 0 &&
	    (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT)) {
		if (c->rtx_kind != TCP_RTX_KEEPALIVE) {
			c->retries = 0;
			tcp_rtx_set(c, TCP_RTX_KEEPALIVE, cf->keepalive_idle_ms);
		}
		return;
	}
	if (c->rtx_kind != TCP_RTX_NONE)
		tcp_rtx_set(c, TCP_RTX_NONE, 0);
}

/* ---- RTT and RTO (RFC 6298) ---- */

void tcp_rto_compute(struct tcp_conn *c)
{
	const struct tcp_conf *cf = &c->ts->conf;
	uint64_t rto_us;
	uint32_t ms;

	if (c->srtt_us == 0)
		return; /* no sample yet: keep the initial (possibly backed-off) RTO */
	rto_us = (uint64_t)c->srtt_us + RTE_MAX((uint64_t)G_US, 4ull * c->rttvar_us);
	ms = (uint32_t)RTE_MIN((rto_us + 999) / 1000, (uint64_t)UINT32_MAX);
	c->rto_ms = RTE_MIN(RTE_MAX(ms, cf->rto_min_ms), cf->rto_max_ms);
}

void tcp_rtt_sample(struct tcp_conn *c, uint32_t r)
{
	uint32_t delta;

	if ((int32_t)r < 0 || r > 3600u * 1000000) /* a bogus echo; ignore it */
		return;
	if (r == 0)
		r = 1;
	if (c->srtt_us == 0) {
		c->srtt_us = r;
		c->rttvar_us = r / 2;
	} else {
		delta = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
		c->rttvar_us = (3 * c->rttvar_us + delta) / 4;
		c->srtt_us = (7 * c->srtt_us + r) / 8;
		if (c->srtt_us == 0)
			c->srtt_us = 1;
	}
	tcp_rto_compute(c);
}

/* A sample from the echo of one of our TSvals (ms clock). An echo more than an hour old, or
 * from the future, is no RTT: the peer is broken or lying. */
void tcp_rtt_sample_ts(struct tcp_conn *c, uint32_t tsecr)
{
	uint32_t ms = tcp_tsval(c->ts) - tsecr;

	if (ms <= 3600u * 1000)
		tcp_rtt_sample(c, ms * 1000u);
}

/* RTO once the handshake is over: from the RTT sample if there was one; else the initial
 * value, or 3 s if the SYN had to be retransmitted (RFC 6298 5.7). */
void tcp_rto_synced(struct tcp_conn *c)
{
	const struct tcp_conf *cf = &c->ts->conf;

	if (c->srtt_us != 0)
		return;
	c->rto_ms = cf->rto_initial_ms;
	if (c->retries > 0 && c->rto_ms < TCP_SYN_RTO_FALLBACK_MS)
		c->rto_ms = RTE_MIN((uint32_t)TCP_SYN_RTO_FALLBACK_MS, cf->rto_max_ms);
}

static void backoff(struct tcp_conn *c)
{
	uint32_t max = c->ts->conf.rto_max_ms;

	c->rto_ms = c->rto_ms > max / 2 ? max : c->rto_ms * 2;
}

/* ---- expiries ---- */

static void rto_expired(struct tcp_conn *c)
{
	struct tcp_stack *ts = c->ts;

	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD) {
		if (c->retries >= ts->conf.syn_retries) {
			/* a passive SYN_RCVD TCB never reached the user: nothing to tell */
			tcp_conn_finish(c, TCP_CLOSE_TIMEOUT, true);
			return;
		}
		c->retries++;
		tcp_count(ts, TCP_CNT_syn_retransmits);
		backoff(c);
		tcp_send_syn(c);
		tcp_rtx_set(c, TCP_RTX_RTO, c->rto_ms);
		return;
	}
	if (tcp_flight(c) == 0) {
		tcp_rtx_reset(c, false);
		return;
	}
	if (c->retries >= ts->conf.max_retries) {
		tcp_send_rst_conn(c);
		tcp_conn_finish(c, TCP_CLOSE_TIMEOUT, true);
		return;
	}
	c->retries++;
	tcp_count(ts, TCP_CNT_rto_expiries);
	tcp_cc_rto(c);
	/* go back N: everything after snd_una is resent as the window reopens */
	c->snd_nxt = c->snd_una;
	c->flags &= ~TCP_F_RTT_TIMING;
	backoff(c);
	tcp_retransmit_head(c);
	tcp_rtx_set(c, TCP_RTX_RTO, c->rto_ms);
}

static void persist_expired(struct tcp_conn *c)
{
	struct tcp_stack *ts = c->ts;
	uint32_t ms;

	if (tcp_flight(c) > 0 || !unsent(c)) {
		tcp_rtx_reset(c, false);
		return;
	}
	if (c->snd_wnd > 0) {
		tcp_output(c);
		return;
	}
	/* A peer may keep a window shut for as long as it answers probes, unless nobody
	 * is left to care about the data: orphans give up like retransmissions do. */
	if ((c->flags & TCP_F_ORPHAN) && c->retries >= ts->conf.max_retries) {
		tcp_send_rst_conn(c);
		tcp_conn_finish(c, TCP_CLOSE_TIMEOUT, true);
		return;
	}
	if (c->retries < 255)
		c->retries++;
	tcp_count(ts, TCP_CNT_zero_window_probes);
	/* an old sequence number makes the peer answer with its current window */
	tcp_send_segment(c, TCP_ACK, c->snd_una - 1, 0);
	ms = c->rto_ms << RTE_MIN(c->retries, (uint8_t)10);
	tcp_rtx_set(c, TCP_RTX_PERSIST, RTE_MIN(ms, ts->conf.rto_max_ms));
}

static void keepalive_expired(struct tcp_conn *c)
{
	struct tcp_stack *ts = c->ts;
	const struct tcp_conf *cf = &ts->conf;
	uint32_t idle = ts->now_ms - c->last_rcv_ms;
	uint32_t wait = c->retries ? cf->keepalive_intvl_ms : cf->keepalive_idle_ms;

	if (idle < wait) {
		/* heard from the peer since: start over from its last segment */
		c->retries = 0;
		tcp_rtx_set(c, TCP_RTX_KEEPALIVE,
			    cf->keepalive_idle_ms - RTE_MIN(idle, cf->keepalive_idle_ms - 1));
		return;
	}
	if (c->retries >= cf->keepalive_probes) {
		tcp_send_rst_conn(c);
		tcp_conn_finish(c, TCP_CLOSE_TIMEOUT, true);
		return;
	}
	c->retries++;
	tcp_count(ts, TCP_CNT_keepalive_probes);
	tcp_send_segment(c, TCP_ACK, c->snd_una - 1, 0);
	tcp_rtx_set(c, TCP_RTX_KEEPALIVE, cf->keepalive_intvl_ms);
}

void tcp_timer_fire(void *arg, struct tcp_timer *t)
{
	struct tcp_conn *c = (struct tcp_conn *)((char *)t - offsetof(struct tcp_conn, timer));
	uint32_t now = now_tick(c);
	bool due = false;
	uint8_t kind;

	RTE_SET_USED(arg);
	tcp_conn_get(c);
	if (c->t_dack != 0 && SEQ_LEQ(c->t_dack, now)) {
		due = true;
		c->t_dack = 0;
		if (c->state != TCP_CLOSED && c->state != TCP_SYN_SENT &&
		    c->state != TCP_TIME_WAIT) {
			tcp_count(c->ts, TCP_CNT_delayed_acks);
			tcp_send_ack(c);
		}
	}
	if (c->t_rtx != 0 && SEQ_LEQ(c->t_rtx, now)) {
		due = true;
		kind = c->rtx_kind;
		c->t_rtx = 0;
		c->rtx_kind = TCP_RTX_NONE;
		switch (kind) {
		case TCP_RTX_RTO:
			rto_expired(c);
			break;
		case TCP_RTX_PERSIST:
			persist_expired(c);
			break;
		case TCP_RTX_KEEPALIVE:
			keepalive_expired(c);
			break;
		case TCP_RTX_TIME_WAIT:
			tcp_conn_finish(c, TCP_CLOSE_NORMAL, false);
			break;
		case TCP_RTX_FIN_WAIT_2:
			tcp_conn_finish(c, TCP_CLOSE_TIMEOUT, false);
			break;
		default:
			break;
		}
	}
	if (c->state != TCP_CLOSED) {
		/* an early (lazy) entry is no expiry: it only moves to the real deadline */
		if (due && (c->flags & TCP_F_ACK_NOW))
			tcp_send_ack(c);
		timer_rearm(c);
	}
	tcp_conn_put(c);
}

void tcp_timers(struct tcp_stack *ts)
{
	tcp_clock(ts);
	tcp_wheel_run(&ts->wheel, ts->ns->now, tcp_timer_fire, ts, TCP_TIMER_BUDGET);
}
