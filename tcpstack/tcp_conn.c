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

#include <rte_malloc.h>

#include "tcp_impl.h"

/* Issue 3's budget: an idle established connection costs at most 512 bytes, TCB + table
 * share (at most 8 bytes: fewer than 2 buckets per TCB) + HTTP session (dataplane/core/dp_mem.c).
 * A TCB that grows past its share fails the build, not a benchmark run months later. */
#define TCP_CONN_BUDGET 264
_Static_assert(sizeof(struct tcp_conn) <= TCP_CONN_BUDGET,
	       "struct tcp_conn outgrew its share of the 512-byte idle connection budget");

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
	uint32_t i, nb, total;

	if (ns == NULL || ns->hz < 1000 || secret == NULL)
		return -EINVAL;
	memset(ts, 0, sizeof(*ts));
	if (c != NULL)
		ts->conf = *c;
	conf_defaults(&ts->conf);
	total = ts->conf.max_connections + ts->conf.reserve_connections;
	if (ts->conf.max_connections >= TCP_NIL / 2 ||
	    ts->conf.reserve_connections >= TCP_NIL / 2 || total >= TCP_NIL / 2)
		return -EINVAL;
	ts->ns = ns;
	ts->secret = *secret;
	ts->tsc_per_ms = ns->hz / 1000;
	tcp_wheel_init(&ts->wheel, ns->now, ts->tsc_per_ms);
	tcp_clock(ts);
	/* RFC 7323 5.4 lets the TSval clock start anywhere; a keyed offset hides our uptime. */
	ts->ts_offset = (uint32_t)tcp_siphash(secret, &ns->now, sizeof(ns->now));

	/* Buckets follow the pool only: the reserve is small, and the connection table's share
	 * of an idle connection's cost stays what it was. */
	for (nb = 1; nb < ts->conf.max_connections; nb <<= 1)
		;
	ts->conns = rte_zmalloc_socket("tcp_conns", (size_t)total * sizeof(struct tcp_conn),
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
	/* odd, for the multiplicative hash; from the secret, so no peer can aim at a slot */
	ts->flow_key = tcp_siphash(secret, "flowslot", 8) | 1;
	for (i = 0; i < TCP_FLOW_CACHE; i++)
		ts->flow_cache[i] = TCP_NIL;
	for (i = 0; i < ts->conf.max_connections; i++) {
		ts->conns[i].hnext = i + 1 < ts->conf.max_connections ? i + 1 : TCP_NIL;
		tcp_timer_init(&ts->conns[i].timer);
	}
	for (i = ts->conf.max_connections; i < total; i++) {
		ts->conns[i].hnext = i + 1 < total ? i + 1 : TCP_NIL;
		tcp_timer_init(&ts->conns[i].timer);
	}
	ts->free_head = 0;
	ts->rsv_free_head = ts->conf.reserve_connections ? ts->conf.max_connections : TCP_NIL;
	ts->tw_head = ts->tw_tail = TCP_NIL;
	return 0;
}

void tcp_stack_fini(struct tcp_stack *ts)
{
	uint32_t i;

	if (ts->conns == NULL)
		return;
	for (i = 0; i < ts->conf.max_connections + ts->conf.reserve_connections; i++) {
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
	/* keyed, so no peer can aim its connections at one bucket; 1-3 rounds are enough for
	 * that and cost 5 rounds instead of 8 on every segment's lookup */
	RTE_BUILD_BUG_ON(sizeof(*t) != 12);
	return (uint32_t)tcp_siphash13_12(&ts->secret, t) & ts->bucket_mask;
}

static bool tuple_eq(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
	return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
	       a->rport == b->rport;
}

/* Slot of t in the flow cache: a multiplicative hash of the tuple folded to 64 bits, under a
 * key drawn from the secret. */
static uint32_t flow_slot(const struct tcp_stack *ts, const struct tcp_tuple *t)
{
	uint64_t x = ((uint64_t)t->raddr << 32 | t->laddr) ^ ((uint64_t)t->rport << 16 | t->lport);

	RTE_BUILD_BUG_ON((TCP_FLOW_CACHE & (TCP_FLOW_CACHE - 1)) != 0);
	return (uint32_t)((x * ts->flow_key) >> (64 - __builtin_ctz(TCP_FLOW_CACHE)));
}

/* Every segment looks its connection up, and SipHash is most of that cost; so the TCB last
 * found is kept in a slot of a cheap hash of the tuple and tried first, taken when it is still
 * in the table under that very tuple (a TCB freed and reused fails one test or the other).
 * The table stays the authority: a slot a flood keeps overwriting costs one extra compare
 * before SipHash, never a longer chain, so the table's resistance to chosen tuples is whole. */
struct tcp_conn *tcp_lookup(struct tcp_stack *ts, const struct tcp_tuple *t)
{
	uint32_t *slot = &ts->flow_cache[flow_slot(ts, t)];
	uint32_t i = *slot;
	struct tcp_conn *c;

	if (i != TCP_NIL) {
		c = &ts->conns[i];
		if ((c->flags & TCP_F_HASHED) && tuple_eq(&c->t, t))
			return c;
	}
	i = ts->buckets[tuple_bucket(ts, t)];
	while (i != TCP_NIL) {
		c = &ts->conns[i];
		if (tuple_eq(&c->t, t)) {
			*slot = i;
			return c;
		}
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
	uint32_t idx = tcp_conn_idx(ts, c);

	if (idx >= ts->conf.max_connections) {
		c->hnext = ts->rsv_free_head;
		ts->rsv_free_head = idx;
		ts->rsv_used--;
		return;
	}
	c->hnext = ts->free_head;
	ts->free_head = idx;
	ts->conns_used--;
}

static void conn_reset(struct tcp_stack *ts, struct tcp_conn *c)
{
	memset(c, 0, sizeof(*c));
	tcp_timer_init(&c->timer);
	c->ts = ts;
	c->hnext = TCP_NIL;
	c->tw_prev = c->tw_next = TCP_NIL;
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
	conn_reset(ts, c);
	if (++ts->conns_used > ts->conns_hwm)
		ts->conns_hwm = ts->conns_used;
	return c;
}

/* No TIME_WAIT reclaim here: reserve users close with RST and leave none, and reclaiming a
 * traffic TCB would not refill the reserve anyway. */
struct tcp_conn *tcp_conn_alloc_reserved(struct tcp_stack *ts)
{
	struct tcp_conn *c;

	if (ts->rsv_free_head == TCP_NIL)
		return NULL;
	c = &ts->conns[ts->rsv_free_head];
	ts->rsv_free_head = c->hnext;
	conn_reset(ts, c);
	if (++ts->rsv_used > ts->rsv_hwm)
		ts->rsv_hwm = ts->rsv_used;
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
