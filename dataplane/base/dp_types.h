/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: what control and every layer may see (types only: no tcpstack header).
 * struct dp (ports, mempools, workers, the published snapshot), the counter registry, flags,
 * ring messages, memory gauges, and the functions control calls: init and teardown, publishing,
 * drain, steering, probe rings and the per-worker accessors. struct dp_worker is opaque here
 * (its layout is dp_worker.h's, for the dataplane's own files).
 *
 * Ownership of shared fields is written next to each one: "dp" is the worker that owns the
 * struct, "ctl" the control core. Nothing here takes a lock.
 */
#ifndef SLUICE_DP_TYPES_H
#define SLUICE_DP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_conf.h"
#include "dp_ctl.h"
#include "dp_health.h"
#include "hc_types.h"
#include "px_types.h"
#include "rl.h"
#include "rl_conns.h"

#define DP_MAX_WORKERS 16
/* rate-limit buckets for the appliance (8 bytes each: 512 KiB), keys hash into groups of 8 */
#define DP_RL_SLOTS 65536
#define DP_MAX_PORTS 8 /* at most NET_MAX_IFS (dp_tcp.c checks) */
#define DP_BURST 32
#define DP_RING_SIZE 1024 /* per ordered pair of workers */

/* Per-worker counters of the dataplane itself (the loop, rings, idle back-off). */
#define DP_COUNTERS(X)    \
	X(polls_busy)     \
	X(polls_idle)     \
	X(cycles_busy)    \
	X(cycles_idle)    \
	X(ring_msgs_in)   \
	X(ring_drop_full) \
	X(redirects)      \
	X(frag_redirects) \
	X(redirect_drop_full)

enum dp_counter {
#define DP_CNT_ENUM(name) DP_CNT_##name,
	DP_COUNTERS(DP_CNT_ENUM)
#undef DP_CNT_ENUM
		DP_CNT_MAX
};

/* Administrative state of an endpoint, HAProxy's: ready takes requests; drain takes none
 * new while requests in flight finish; maint takes none at all (in flight still finish). */
enum dp_ep_admin {
	DP_EP_READY = 0,
	DP_EP_DRAIN,
	DP_EP_MAINT,
};

/* The objects control has allocated (ctl only). */
struct dp_objs {
	struct dp_listener *lsts;
	struct dp_service *svcs;
	struct dp_endpoint *eps;
};

/* Messages between workers, over one single-producer/single-consumer ring per ordered pair. */
enum dp_msg_type {
	DP_MSG_ARP_LEARN = 1, /* a neighbour the sender learnt */
	DP_MSG_TCP,	      /* a TCP segment (data at the IPv4 header) the receiver owns */
	DP_MSG_FRAG,	      /* an IPv4 fragment the receiver reassembles (ifindex: local if) */
};

struct dp_msg {
	uint16_t type;
	uint16_t ifindex;
	uint32_t ip;
	union {
		struct rte_ether_addr mac;
		struct rte_mbuf *m;
	};
};

/* The state of one worker: opaque here, its layout is dp_worker.h's (for the dataplane's own
 * files); control reads it through the accessors below. */
struct dp_worker;
struct dp_snapshot;

/* ---- health probes (dp_probe.c; the types and ownership rules are dp_health.h's) ---- */

/* Create every worker's two probe rings (DP_PROBE_RING_SIZE, single producer and single
 * consumer). 0, or -ENOMEM with one line in err. Control only, before the workers start. */
int dp_probe_init(struct dp *dp, char *err, size_t errlen);
/* Free w's probe rings and every probe still on them (free()). After the worker stopped. */
void dp_probe_fini(struct dp_worker *w);

/* Hand probe p to worker w. 0: w owns p until dp_probe_recv gives it back, answered.
 * -ENOBUFS: DP_PROBE_RING_SIZE - 1 probes in flight on w already, or the ring is full;
 * -ENODEV: w has no probe rings. On any error p stays the caller's. Control only. */
int dp_probe_send(struct dp_worker *w, struct dp_probe *p);
/* The next probe w answered (its result part filled; ownership back to the caller), NULL when
 * there is none. Control only. */
struct dp_probe *dp_probe_recv(struct dp_worker *w);

static inline bool dp_flag_get(const bool *f)
{
	return __atomic_load_n(f, __ATOMIC_ACQUIRE);
}

static inline void dp_flag_set(bool *f, bool v)
{
	__atomic_store_n(f, v, __ATOMIC_RELEASE);
}

struct dp_port {
	uint16_t port_id;
	uint16_t ifindex; /* index in every worker's net_stack */
	char name[32];
	struct rte_ether_addr mac;
	uint64_t rss_hf; /* hash types requested (0: none) */
	uint32_t tx_offloads;
};

/* The TCP stack's ISN / SYN-cookie key (struct tcp_secret's words, which dp_tcp_init copies). */
struct dp_secret {
	uint64_t k0, k1;
};

struct dp {
	const struct dp_conf *conf; /* start-up configuration (dataplane.* cannot change) */
	uint16_t n_workers;
	uint16_t n_ports;
	uint64_t hz;
	uint64_t started_tsc;
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES]; /* one per NUMA socket in use */
	struct dp_port ports[DP_MAX_PORTS];
	struct dp_worker *workers[DP_MAX_WORKERS];

	/* TCP ports some listener accepts on: segments to them belong to the worker chosen by a
	 * symmetric hash of the 4-tuple; segments to any other port belong to worker
	 * port % n_workers (upstream connections pick their local ports that way). */
	uint64_t listen_ports[65536 / 64];
	struct dp_secret secret; /* one ISN / SYN-cookie key for every worker */

	/* ctl: wo (release store), dp: ro (acquire load once per loop) */
	struct dp_snapshot *snapshot;
	/* workers report a quiescent state once per loop; control waits on it before freeing */
	struct rte_rcu_qsbr *qsv;
	struct dp_objs objs; /* ctl only */
	/* rate limits (routes[].rate_limit): buckets shared by every worker, lock-free (rl.h);
	 * sized at start, dp: rw (atomics, own lease cache), ctl: ro (show pools) */
	struct rl_table rl;
	uint64_t rl_mult; /* rl units per TSC tick, << 32 */
	/* limits.max_connections_per_client: connections per source address (rl_conns.h),
	 * sized for every connection of every worker; dp: rw (atomics), ctl: ro */
	struct rl_conns rl_conns;
};

/* Publish snap (control only): one release store. Returns the previous snapshot, which the
 * caller frees only after every worker has passed a quiescent state (dp_wait_quiescent). */
struct dp_snapshot *dp_publish(struct dp *dp, struct dp_snapshot *snap);

/* Block (control only) until every running worker has completed a loop iteration that
 * started after this call: two grace periods, so each worker has also applied the snapshot
 * published before the call (px_apply at the top of an iteration) and no longer reads the
 * one before it. */
void dp_wait_quiescent(struct dp *dp);

/* Which worker owns a segment (dp_steer.c; any thread; addresses network order, ports host
 * order). */
unsigned int dp_tcp_owner(const struct dp *dp, uint32_t saddr, uint32_t daddr, uint16_t sport,
			  uint16_t dport);
/* Set the listen_ports bits of conf's listener ports (bits are never cleared: connections
 * a removed listener accepted stay owned by the same worker until they end). Control only,
 * before publishing a snapshot of conf. */
void dp_listen_ports_add(struct dp *dp, const struct dp_conf *conf);
/* Which worker reassembles the IPv4 datagram a fragment belongs to: a function of (source,
 * destination, protocol, id) alone, the fields every fragment of it carries (addresses and id
 * as in the header, network order). Any thread. */
unsigned int dp_frag_owner(const struct dp *dp, uint32_t saddr, uint32_t daddr, uint8_t proto,
			   uint16_t id);

/* ---- per-worker accessors for control (dp_view.c): struct dp_worker stays opaque ---- */

/* Worker w's index (dp->workers[id] == w). Any thread. */
uint16_t dp_worker_id(const struct dp_worker *w);
/* Size of w's session pool (fixed at start). Any thread. */
uint32_t dp_worker_sessions_max(const struct dp_worker *w);
/* Requests control handed w and w has not answered yet (dp_ctl.h). Control only. */
uint32_t dp_worker_ctl_inflight(const struct dp_worker *w);
/* Whether control asked w to drain (dp_drain). Any thread. */
bool dp_worker_draining(const struct dp_worker *w);

/* The TCP stack's gauges of one worker (relaxed loads: a gauge may be one update behind). */
struct dp_tcp_gauges {
	uint32_t conns_max; /* TCB pool (dataplane.max_connections) */
	uint32_t conns_used, conns_hwm, syn_rcvd, time_wait, ooo_mbufs;
	uint32_t rsv_max; /* health-probe TCB reserve */
	uint32_t rsv_used, rsv_hwm;
};

/* Fill g from w's TCP stack. Any thread. */
void dp_worker_tcp_gauges(const struct dp_worker *w, struct dp_tcp_gauges *g);
/* sizeof one TCB. Any thread. */
size_t dp_tcp_conn_bytes(void);

#endif /* SLUICE_DP_TYPES_H */
