/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: the layout of one worker's state (struct dp_worker: its network and TCP
 * stacks, the proxy's and the probe executor's per-worker state), for the dataplane's own
 * files. Control never includes it: it sees struct dp_worker as an opaque type (dp_types.h)
 * and reads it through the accessors there.
 *
 * Ownership of shared fields is written next to each one: "dp" is the worker that owns the
 * struct, "ctl" the control core. Nothing here takes a lock.
 */
#ifndef SLUICE_DP_WORKER_H
#define SLUICE_DP_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_ctl.h"
#include "dp_health.h"
#include "dp_types.h"
#include "hc_types.h"
#include "http_parse.h"
#include "net.h"
#include "px_types.h"
#include "tcp.h"
#include "tcp_wheel.h"

struct px_session;
struct px_upstream;
struct px_req;
struct px_obs;
struct dp_snapshot;
struct hc_slot;
struct dp_probe;

struct dp_endpoint;

struct px_worker {
	uint64_t cnt[PX_CNT_MAX];
	uint64_t err[PX_ERR_MAX]; /* requests refused, by parser error */
	uint64_t st[PX_ST_MAX];	  /* states entered (px_session_enter, px_up_enter) */

	struct px_session *sessions; /* pool of n_sessions, free list through next_free */
	uint32_t n_sessions;
	uint32_t free_head;
	uint32_t used;

	/* request state (struct px_req) of the requests in progress: pool of n_reqs, free list
	 * through next_free; sessions with bytes but no px_req wait on wait_head..wait_tail */
	struct px_req *reqs;
	uint32_t n_reqs;
	uint32_t req_free;
	uint32_t req_used;
	uint32_t req_hwm;
	uint32_t wait_head, wait_tail;
	uint32_t n_waiting;
	/* sessions holding a px_req whose head is not complete, oldest first; when sessions
	 * wait, the oldest of these past PX_EVICT_MIN_MS give theirs up (px_req.c) */
	uint32_t hd_head, hd_tail;
	uint32_t n_evicting; /* evictions posted, not run yet */
	/* sessions waiting for a circuit_breaker slot (PX_QUEUED), oldest first, through
	 * wait_next/wait_prev (px_breaker.c) */
	uint32_t q_head, q_tail;
	uint32_t n_queued;

	struct tcp_wheel wheel;	  /* header and idle timeouts */
	struct rte_mbuf *pattern; /* generated bodies: indirect mbufs attach to it */
	uint64_t date_until;	  /* TSC until which date[] is current */
	char date[40];		  /* "Date: ...\r\n" line, refreshed once a second */
	uint8_t date_len;

	/* reverse proxy: upstream connections (pool of n_upstreams, free list through next) */
	struct px_upstream *upstreams;
	uint32_t n_upstreams;
	uint32_t up_free;
	uint32_t up_used;
	uint32_t port_cursor; /* next local port to try for an upstream connection */
	/* the snapshot applied last: valid until the worker applies the next one (control frees
	 * a snapshot only after every worker applied a newer one) */
	const struct dp_snapshot *snap;
	uint8_t *scratch; /* a whole request or response head, to rebuild it */
	uint32_t scratch_len;
	/* the header spans of the px_reqs (px_req.c): n_hdrs per request, one array */
	struct http_header *req_hdrs;
	uint64_t epoch;	   /* snapshot epoch applied to the balancers (px_apply) */
	uint32_t conf_gen; /* configurations applied: a route index holds within one */
	uint32_t n_hdrs;
	struct px_obs *obs; /* histograms, access-log ring (px_obs.c) */

	/* the run list (px_run.c): posted sessions (index) and upstream connections (index |
	 * PX_RUN_UP), each at most once, in a ring sized for every object of the worker */
	uint32_t *runq;
	uint32_t runq_mask, runq_head, runq_tail;
	/* Retry-After seconds of the 429 being written now (px_ratelimit.c), else 0 */
	uint32_t retry_after;
	/* endpoints whose upstream connections were freed in this loop iteration: their
	 * max_connections slots (dp_ep_shared.conns) are given back once the iteration's TX
	 * went out (px_flushed), so a FIN or RST reaches the endpoint before another worker's
	 * SYN takes the slot */
	struct dp_endpoint *conn_rel[64];
	uint32_t n_conn_rel;
};

/* One worker's executor. dp: rw; ctl: ro (cnt and the gauges, relaxed). */
struct hc_worker {
	uint64_t cnt[HC_CNT_MAX];
	uint32_t n_slots; /* probe slots, as many as reserve TCBs */
	uint32_t used;	  /* slots in use (gauge) */
	uint32_t hwm;	  /* high-water mark of used */

	struct hc_slot *slots;
	uint32_t free_head;		 /* free slots, UINT32_MAX none */
	uint32_t done_head, done_tail;	 /* answered slots waiting for the reply ring */
	uint32_t port_cursor;		 /* next source port to try */
	uint32_t n_held;		 /* answers without a slot held back (rep full) */
	struct dp_probe *held[HC_BURST]; /* those answers */
	struct tcp_wheel wheel;		 /* each probe's deadline */
};

struct dp_worker {
	/* dp: rw; ctl: ro (counters, read relaxed) */
	struct net_stack ns;
	struct tcp_stack ts;
	struct px_worker px;
	struct hc_worker hc; /* health probes in flight (hc.h) */
	uint64_t cnt[DP_CNT_MAX];

	/* set before launch, read-only afterwards */
	struct dp *dp;
	uint16_t id;
	uint16_t lcore;
	uint16_t queue;	 /* RX/TX queue index on every port */
	uint16_t socket; /* NUMA socket of the lcore */
	struct rte_mempool *pool;
	struct rte_ring *ring_in[DP_MAX_WORKERS];  /* from worker i to this one (dp: consumer) */
	struct rte_ring *ring_out[DP_MAX_WORKERS]; /* from this one to worker i (dp: producer) */
	struct rte_eth_dev_tx_buffer *txb[DP_MAX_PORTS];
	struct dp_ctl_pw ctl;	  /* requests from control and replies (dp_ctl.h: who owns what) */
	struct dp_probe_pw probe; /* health probes from control and results (dp_health.h) */

	/* Flags between control and the worker, each written by one side and read by the other
	 * with __atomic loads and stores (dp_flag_get/dp_flag_set): no other ordering hangs on
	 * them. */
	bool stop; /* dp: ro, ctl: wo */

	/* graceful shutdown (dp_drain.c, px_drain.c): control sets drain; the worker stops
	 * accepting, closes idle connections, and sets drained once nothing is in flight */
	bool drain;	     /* dp: ro, ctl: wo */
	bool drained;	     /* dp: wo, ctl: ro */
	bool drain_begun;    /* dp: rw */
	uint64_t drain_next; /* dp: rw (TSC of the next look) */
} __rte_cache_aligned;

#endif /* SLUICE_DP_WORKER_H */
