/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: TCP for one worker (RFC 9293, 5961, 6298, 5681, 6582, 6928, 7323, 2018,
 * 6528, 4987).
 *
 * One struct tcp_stack per worker; every function here runs on the worker that owns it
 * ("worker only") unless its comment says otherwise. Nothing blocks, nothing allocates after
 * tcp_stack_init, nothing is shared between workers.
 *
 * The API is event driven, not a socket emulation. A listener or an active connection is given
 * a struct tcp_ops (callbacks) and a user pointer; the stack calls back from inside
 * tcp_input() and tcp_timers(). Callbacks may call any function of this header on the
 * connection they are given (tcp_send, tcp_close, ...): the stack never frees a connection
 * while one of its callbacks is running.
 *
 * Lifecycle seen by the user:
 *   passive: tcp_listen -> (handshake completes) on_accept -> on_data* / on_writable* ->
 *            on_peer_fin? -> on_closed
 *   active:  tcp_connect -> on_connected | on_closed(REFUSED/TIMEOUT/RESET) -> ... as above
 * on_closed is called exactly once for every connection the user was given (on_accept
 * returned non-NULL, or tcp_connect returned it), UNLESS the user ended the connection first
 * with tcp_close() or tcp_abort(): after either returns, the user gets no further callback for
 * that connection and must not touch it again. After on_closed returns the connection is
 * likewise gone for the user.
 *
 * Addresses are in network byte order, ports in host byte order, everywhere in this header.
 */
#ifndef SLUICE_TCP_H
#define SLUICE_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "net.h"
#include "tcp_isn.h"
#include "tcp_wheel.h"

/* Per-worker TCP counters, each one named. Every dropped segment increments exactly one
 * drop_* counter; every refused connection one refused_* or drop_* counter. */
#define TCP_COUNTERS(X)           \
	X(segs_in)                \
	X(segs_out)               \
	X(bytes_in)               \
	X(bytes_out)              \
	X(retransmits)            \
	X(fast_retransmits)       \
	X(rto_expiries)           \
	X(syn_retransmits)        \
	X(zero_window_probes)     \
	X(keepalive_probes)       \
	X(delayed_acks)           \
	X(ooo_segments)           \
	X(ooo_coalesced)          \
	X(snd_coalesced)          \
	X(challenge_acks)         \
	X(challenge_acks_limited) \
	X(syn_cookies_sent)       \
	X(syn_cookies_accepted)   \
	X(syn_cookies_rejected)   \
	X(rsts_sent)              \
	X(rsts_received)          \
	X(conns_opened_passive)   \
	X(conns_opened_active)    \
	X(conns_closed)           \
	X(conns_reset)            \
	X(conns_timed_out)        \
	X(conns_aborted)          \
	X(conns_refused_by_user)  \
	X(time_wait_reclaimed)    \
	X(time_wait_reused)       \
	X(drop_short)             \
	X(drop_bad_cksum)         \
	X(drop_bad_offset)        \
	X(drop_bad_flags)         \
	X(drop_bad_options)       \
	X(drop_no_listener)       \
	X(drop_no_conn)           \
	X(drop_outside_window)    \
	X(drop_bad_ack)           \
	X(drop_bad_rst)           \
	X(drop_bad_syn)           \
	X(drop_paws)              \
	X(drop_pool_empty)        \
	X(drop_backlog_full)      \
	X(drop_ooo_queue_full)    \
	X(drop_ooo_worker_full)   \
	X(drop_after_close)       \
	X(drop_no_mbuf)           \
	X(drop_duplicate)         \
	X(drop_listen_ack)        \
	X(rsts_rate_limited)      \
	X(tx_sw_cksum)

enum tcp_counter {
#define TCP_CNT_ENUM(name) TCP_CNT_##name,
	TCP_COUNTERS(TCP_CNT_ENUM)
#undef TCP_CNT_ENUM
		TCP_CNT_MAX
};

/* Names of the counters above, indexed by enum tcp_counter. */
extern const char *const tcp_counter_names[TCP_CNT_MAX];

/* Connection states of RFC 9293 section 3.3.2. CLOSED is the state of a free TCB. */
enum tcp_state {
	TCP_CLOSED = 0,
	TCP_LISTEN, /* only listeners; never a struct tcp_conn */
	TCP_SYN_SENT,
	TCP_SYN_RCVD,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSING,
	TCP_TIME_WAIT,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
	TCP_STATE_MAX
};

/* "ESTABLISHED", ... for logs and show conns. Any thread. */
const char *tcp_state_name(enum tcp_state s);

/* Why a connection ended, given to on_closed. */
enum tcp_close_reason {
	TCP_CLOSE_NORMAL = 0, /* both FINs exchanged and ours acknowledged */
	TCP_CLOSE_RESET,      /* the peer sent an acceptable RST */
	TCP_CLOSE_REFUSED,    /* active open answered by RST (nothing listens there) */
	TCP_CLOSE_TIMEOUT,    /* retransmissions, SYN retries or keepalive probes exhausted */
	TCP_CLOSE_ABORTED,    /* the stack gave up on it: tcp_stack_fini, resource exhaustion */
};

/* Configuration, copied by tcp_stack_init. Zero fields take the default shown. */
struct tcp_conf {
	uint32_t max_connections;    /* TCB pool size: every state but LISTEN uses one (1024) */
	uint32_t syn_backlog;	     /* SYN_RCVD TCBs per worker before SYN cookies (max_conn/4) */
	uint32_t rto_min_ms;	     /* 200 */
	uint32_t rto_max_ms;	     /* 60000 */
	uint32_t rto_initial_ms;     /* 1000 (RFC 6298 2.1) */
	uint32_t max_retries;	     /* data retransmissions before TIMEOUT (15) */
	uint32_t syn_retries;	     /* SYN / SYN-ACK retransmissions before TIMEOUT (5) */
	uint32_t time_wait_ms;	     /* 2*MSL, 60000; tests set it small */
	uint32_t fin_wait_2_ms;	     /* orphaned FIN_WAIT_2 after tcp_close, 60000 */
	uint32_t delayed_ack_ms;     /* 40 */
	uint32_t keepalive_idle_ms;  /* 0 = keepalive off */
	uint32_t keepalive_intvl_ms; /* 75000 */
	uint32_t keepalive_probes;   /* 9 */
	uint32_t rcv_buf;	     /* receive budget per connection, bytes of true mbuf size
				    * (65536); the advertised window never exceeds it */
	uint32_t snd_buf;	     /* send queue limit per connection, bytes (65536) */
	uint32_t ooo_max_segments;   /* out-of-order segments held per connection (64) */
	uint32_t ooo_max_mbufs;	     /* out-of-order mbufs held per worker (max_conn * 4) */
	uint32_t initial_cwnd_segments; /* 10 (RFC 6928) */
	uint16_t mss;			/* MSS we advertise; 0 = interface MTU - 40 */
	uint8_t wscale;			/* our window scale shift; 0 = derived from rcv_buf */
	bool no_timestamps;		/* don't offer/accept RFC 7323 timestamps */
	bool no_sack;			/* don't offer/accept SACK-permitted */
	bool no_syn_cookies;		/* drop SYNs instead when the backlog/pool is full */
	uint32_t challenge_ack_per_s;	/* challenge ACKs per connection per second (10) */
	uint32_t rst_per_s; /* RSTs for segments reaching no connection, per worker (1000) */
	uint32_t reserve_connections; /* TCBs apart from the pool, only for tcp_connect_reserved
				       * (health probes); 0 = none */
	int socket_id; /* NUMA socket of the TCB pool (0 in tests; SOCKET_ID_ANY ok) */
};

struct tcp_conn; /* opaque; defined in tcp_impl.h, private to tcpstack */

/* Callbacks. Every one runs on the worker, from inside tcp_input() or tcp_timers(). NULL
 * members are allowed (the event is then ignored; a NULL on_accept accepts with the
 * listener's user pointer; a NULL on_data frees the data, as if delivered and recved). */
struct tcp_ops {
	/* Passive open completed (the handshake's ACK arrived). listen_user is tcp_listen's
	 * user pointer. Return the connection's user pointer, or NULL to refuse: the stack
	 * then sends RST and the connection is gone (no on_closed). */
	void *(*on_accept)(struct tcp_conn *c, void *listen_user);
	/* Active open completed (SYN-ACK received and acknowledged). */
	void (*on_connected)(struct tcp_conn *c);
	/* In-order payload: m is an mbuf chain (pkt_len bytes, headers removed; the very mbufs
	 * received, zero copy). Ownership of m passes to the user. Bytes delivered count against
	 * the receive window until the user calls tcp_recved() for them. */
	void (*on_data)(struct tcp_conn *c, struct rte_mbuf *m);
	/* Acknowledgements freed send space after the send queue had been full (tcp_send_space()
	 * reached 0, or tcp_send returned -ENOBUFS) since the last call. */
	void (*on_writable)(struct tcp_conn *c);
	/* The peer sent FIN: no more on_data. The user may keep sending, then tcp_close() or
	 * tcp_shutdown(). */
	void (*on_peer_fin)(struct tcp_conn *c);
	/* The connection ended (see the header comment for when this is not called). The user
	 * must not touch c after this returns. */
	void (*on_closed)(struct tcp_conn *c, enum tcp_close_reason reason);
};

#define TCP_MAX_LISTENERS 32
#define TCP_FLOW_CACHE 1024    /* slots of the connection table's cache (power of two) */
#define TCP_OUT_PENDING_MAX 64 /* connections whose output waits for the end of a tcp_input */

struct tcp_listener {
	uint32_t addr; /* 0: any local address */
	uint16_t port; /* 0: free slot */
	const struct tcp_ops *ops;
	void *user;
};

/* Per-worker TCP state: embed it in the worker. Written by its worker only; control reads cnt
 * (relaxed) and the pool gauges. Every other field is private to tcpstack. */
struct tcp_stack {
	uint64_t cnt[TCP_CNT_MAX];
	uint32_t conns_used; /* TCBs in use (gauge) */
	uint32_t conns_hwm;  /* high-water mark of conns_used */
	uint32_t syn_rcvd;   /* TCBs in SYN_RCVD (compared to conf.syn_backlog) */
	uint32_t time_wait;  /* TCBs in TIME_WAIT */
	uint32_t ooo_mbufs;  /* mbufs held in out-of-order queues */
	uint32_t rsv_used;   /* reserve TCBs in use (gauge; not in conns_used) */
	uint32_t rsv_hwm;    /* high-water mark of rsv_used */

	struct net_stack *ns;
	struct tcp_conf conf;
	struct tcp_secret secret;
	struct tcp_wheel wheel;

	/* TCB pool: conns[0..max_connections), free list threaded through the TCBs; the
	 * reserve follows it, conns[max_connections..+reserve_connections), with its own list */
	struct tcp_conn *conns;
	uint32_t free_head;
	uint32_t rsv_free_head;

	/* Connection table: chained hash of TCB indices keyed by the 4-tuple (see tcp_conn.c) */
	uint32_t *buckets;
	uint32_t bucket_mask;
	/* In front of it, the TCB last found for each slot of a cheaper keyed hash (TCP_NIL:
	 * none), checked against the tuple on every use (see tcp_lookup) */
	uint64_t flow_key;
	uint32_t flow_cache[TCP_FLOW_CACHE];

	/* TIME_WAIT TCBs, oldest first, so an empty pool can reclaim the oldest */
	uint32_t tw_head, tw_tail;

	/* RST rate limit for segments reaching no connection */
	uint32_t rst_window_ms;
	uint32_t rst_in_window;
	uint32_t last_cookie_ms; /* when a SYN cookie was last sent (0: never) */
	bool cookies_sent;

	uint32_t n_listeners;
	struct tcp_listener listeners[TCP_MAX_LISTENERS];

	uint64_t tsc_per_ms;
	uint32_t now_ms;    /* ns->now in milliseconds, refreshed by tcp_input / tcp_timers */
	uint32_t ts_offset; /* random offset of our TSval clock */

	/* Data queued by callbacks during one tcp_input goes out when it returns, so that what
	 * a user queues in several tcp_send calls for one event (a proxy's rebuilt head, then
	 * the body) leaves in as few segments as the MSS allows: TCB indices, marked
	 * TCP_F_OUT_PENDING. */
	uint32_t in_input; /* tcp_input nesting depth */
	uint32_t n_out_pending;
	uint32_t out_pending[TCP_OUT_PENDING_MAX];
};

/* Initialise ts for the worker owning ns: copies c (NULL = all defaults) and secret, allocates
 * the TCB pool and the connection table once (rte_zmalloc_socket on c->socket_id). Returns 0
 * or -ENOMEM / -EINVAL. Any thread, before the worker starts; ns->hz must be set. */
int tcp_stack_init(struct tcp_stack *ts, struct net_stack *ns, const struct tcp_conf *c,
		   const struct tcp_secret *secret);

/* Free every mbuf the connections still hold and the pool and table. No callback is called.
 * Worker, or any thread after the worker stopped. */
void tcp_stack_fini(struct tcp_stack *ts);

/* Process one received TCP segment. m's data starts at the IPv4 header, already validated by
 * the IP layer (header checksum, lengths, destination is ours). Takes ownership of m in every
 * case: payload is delivered (on_data) or queued out of order; the rest is freed and counted.
 * What callbacks queue with tcp_send, on any connection, is sent before it returns.
 * Worker only (suitable as the body of net_hooks.ip_deliver for IPPROTO_TCP). */
void tcp_input(struct tcp_stack *ts, struct rte_mbuf *m);

/* Run due timers (retransmission, delayed ACK, persist, keepalive, TIME_WAIT), a bounded
 * number per call. Call once per loop iteration after ns->now was refreshed. Worker only. */
void tcp_timers(struct tcp_stack *ts);

/* Accept connections to addr:port (addr 0: any local address). ops and user are kept by
 * reference (ops must outlive the listener). Returns 0, -EADDRINUSE or -ENOSPC. Worker only
 * (or before the worker starts). */
int tcp_listen(struct tcp_stack *ts, uint32_t addr, uint16_t port, const struct tcp_ops *ops,
	       void *user);

/* Stop accepting on addr:port. Established connections are not affected; handshakes in
 * progress are reset when they complete. Returns 0 or -ENOENT. Worker only. */
int tcp_unlisten(struct tcp_stack *ts, uint32_t addr, uint16_t port);

/* Open a connection from laddr:lport (lport chosen by the caller, see DESIGN.md "Sharding";
 * laddr 0: the address of the interface routing to raddr) to raddr:rport. Sends SYN. Returns
 * the connection in SYN_SENT; on_connected or on_closed follows. NULL on error with rte_errno
 * set: EADDRINUSE (4-tuple in use), ENOBUFS (TCB pool empty), ENETUNREACH (no route),
 * EINVAL. Worker only. */
struct tcp_conn *tcp_connect(struct tcp_stack *ts, uint32_t laddr, uint16_t lport, uint32_t raddr,
			     uint16_t rport, const struct tcp_ops *ops, void *user);

/* tcp_connect from the reserve (tcp_conf.reserve_connections) instead of the pool: for
 * connections that must neither take a traffic TCB nor be refused when traffic has taken
 * them all (health probes). ENOBUFS when the reserve is empty; never reclaims TIME_WAIT.
 * Otherwise exactly tcp_connect. Worker only. */
struct tcp_conn *tcp_connect_reserved(struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
				      uint32_t raddr, uint16_t rport, const struct tcp_ops *ops,
				      void *user);

/* Shorten the retransmission timeout of c's SYN to ms (never below rto_min_ms) while c is in
 * SYN_SENT and has not retransmitted yet. RFC 6298's initial RTO of 1 s leaves a caller who
 * gives up on the handshake after about 1 s (a proxy's connect timeout) one SYN: one lost SYN
 * or SYN-ACK would then fail the connection. Bounding it by a fraction of the caller's timeout
 * fits a retransmission or two; backoff and the 3 s fallback after the handshake are as usual.
 * Worker only. */
void tcp_conn_set_syn_rto(struct tcp_conn *c, uint32_t ms);

/* Queue the chain m for sending (segmented to the MSS at output time, retransmitted by
 * reference, never copied except small chains appended to a not-yet-sent tail mbuf). Ownership
 * of m passes to the stack in EVERY case: on success it is queued; on failure it has already
 * been freed. Accepted whenever tcp_send_space(c) > 0 before the call, whatever m's length
 * (the limit is soft by one chain, so a proxy can forward what it received without splitting
 * it). Allowed from SYN_SENT / SYN_RCVD on (sent once established), until tcp_shutdown.
 * Returns 0, -ENOBUFS (send queue full: wait for on_writable), -EPIPE (after tcp_shutdown,
 * or the peer reset the connection), -EINVAL (empty m). Data are pushed at once (Nagle off);
 * from inside a callback of tcp_input, at the end of that tcp_input, so that several sends of
 * one event share segments. Worker only. */
int tcp_send(struct tcp_conn *c, struct rte_mbuf *m);

/* Between tcp_batch_begin and tcp_batch_end, what tcp_send and tcp_recved queue is sent at
 * tcp_batch_end, as from inside a callback of tcp_input: several sends to one connection
 * share segments. For a user that acts on its connections outside the callbacks (the
 * proxy's run list). Pairs nest. Worker only. */
void tcp_batch_begin(struct tcp_stack *ts);
void tcp_batch_end(struct tcp_stack *ts);

/* Bytes tcp_send would still accept before reaching snd_buf (0: wait for on_writable). */
uint32_t tcp_send_space(const struct tcp_conn *c);

/* Tell the stack the user has consumed (freed or forwarded) n bytes delivered by on_data, so
 * the receive window can open again. Worker only. */
void tcp_recved(struct tcp_conn *c, uint32_t n);

/* Half close: FIN after the queued data. on_data continues until on_peer_fin; on_closed
 * (NORMAL) when both directions are closed. Returns 0 or -ENOTCONN. Worker only. */
int tcp_shutdown(struct tcp_conn *c);

/* Full close: queued data is still sent, then FIN; data arriving afterwards is answered by
 * RST (RFC 9293 3.10.4). The user gets no further callback and must not touch c after this
 * returns; the stack finishes the close (retransmissions, TIME_WAIT) on its own. Worker only. */
void tcp_close(struct tcp_conn *c);

/* Abortive close: RST to the peer (unless still in SYN_SENT), queued data dropped, TCB freed.
 * No further callback; c must not be touched after this returns. Worker only. */
void tcp_abort(struct tcp_conn *c);

/* The user pointer (from on_accept, tcp_connect or tcp_conn_set_user). */
void *tcp_conn_user(const struct tcp_conn *c);
void tcp_conn_set_user(struct tcp_conn *c, void *user);

/* Replace the callbacks of one connection (e.g. once a proxy session takes it over). */
void tcp_conn_set_ops(struct tcp_conn *c, const struct tcp_ops *ops);

struct tcp_tuple {
	uint32_t laddr, raddr; /* network order */
	uint16_t lport, rport; /* host order */
};

/* The connection's 4-tuple, its state, and the stack that owns it. */
void tcp_conn_tuple(const struct tcp_conn *c, struct tcp_tuple *t);
enum tcp_state tcp_conn_state(const struct tcp_conn *c);
struct tcp_stack *tcp_conn_stack(const struct tcp_conn *c);

/* Find the connection for a 4-tuple (NULL when none). Worker only. */
struct tcp_conn *tcp_lookup(struct tcp_stack *ts, const struct tcp_tuple *t);

/* State of the TCB holding the 4-tuple tcp_connect would use for these arguments (laddr 0:
 * the address of the interface routing to raddr), TCP_CLOSED when none does (or there is no
 * route). Lets a caller choosing a local port prefer one that no TIME_WAIT TCB still guards.
 * Worker only. */
enum tcp_state tcp_tuple_state(struct tcp_stack *ts, uint32_t laddr, uint16_t lport, uint32_t raddr,
			       uint16_t rport);

/* A snapshot of one connection for show conns and tests. */
struct tcp_conn_info {
	struct tcp_tuple tuple;
	enum tcp_state state;
	uint32_t snd_una, snd_nxt, snd_wnd, rcv_nxt, rcv_wnd;
	uint32_t cwnd, ssthresh, srtt_us, rto_ms, mss;
	uint32_t snd_queued; /* bytes in the send queue, sent or not */
	uint32_t rcv_held;   /* bytes delivered and not yet tcp_recved */
	uint16_t ooo_segments;
	uint8_t snd_wscale, rcv_wscale;
	bool ts_ok, sack_ok;
	uint32_t idle_ms; /* since the last segment received (as of the stack's last clock tick) */
};
void tcp_conn_info(const struct tcp_conn *c, struct tcp_conn_info *info);

/* Stream positions of c for counting bytes per request: *in just past the bytes the user has
 * consumed (tcp_recved), *out just past the bytes it has queued with tcp_send. Their advance
 * between two calls is what the user read and wrote in between. Worker only; cheap enough for
 * every request (tcp_conn_info fills a whole snapshot). */
void tcp_conn_marks(const struct tcp_conn *c, uint32_t *in, uint32_t *out);

/* Call fn for each connection of the pool (not the reserve) not in CLOSED (bounded by
 * max_connections: control-requested show conns only, not the packet path). Worker only. */
void tcp_foreach_conn(struct tcp_stack *ts, void (*fn)(struct tcp_conn *c, void *arg), void *arg);

/* sizeof(struct tcp_conn), for the memory report. */
size_t tcp_conn_size(void);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_TCP_H */
