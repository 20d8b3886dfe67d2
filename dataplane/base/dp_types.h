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

#define DP_MAX_WORKERS 16
#define DP_MAX_PORTS 8 /* NET_MAX_IFS (dp_tcp.c checks) */
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
};

/* One named group of per-worker counters: count uint64_t starting at offset in dp_worker.
 * Every output (show ports, show tcp, show stat, Prometheus) walks this one registry. */
struct dp_counter_group {
	const char *name;
	const char *const *names;
	uint16_t count;
	size_t offset;
};

extern const struct dp_counter_group dp_counter_groups[];
extern const unsigned int dp_n_counter_groups;
extern const char *const dp_counter_names[DP_CNT_MAX];

/* Find a group by name; NULL when there is none. */
const struct dp_counter_group *dp_counter_group_find(const char *name);

/* Value of counter i of group g on worker w (relaxed read: any thread). */
static inline uint64_t dp_counter_get(const struct dp_worker *w, const struct dp_counter_group *g,
				      unsigned int i)
{
	const uint64_t *c = (const uint64_t *)((const char *)w + g->offset);
	return __atomic_load_n(&c[i], __ATOMIC_RELAXED);
}

/* Sum of counter i of group g over every worker. Any thread. */
uint64_t dp_counter_sum(const struct dp *dp, const struct dp_counter_group *g, unsigned int i);

/* Bring up the dataplane after EAL init: mempools, ports, queues, workers' state. On error
 * returns a negative errno and writes one line for the operator to err (size errlen).
 * Control only. */
int dp_init(struct dp *dp, const struct dp_conf *conf, char *err, size_t errlen);

/* Publish snap (control only): one release store. Returns the previous snapshot, which the
 * caller frees only after every worker has passed a quiescent state (dp_wait_quiescent). */
struct dp_snapshot *dp_publish(struct dp *dp, struct dp_snapshot *snap);

/* Block (control only) until every running worker has completed a loop iteration that
 * started after this call: two grace periods, so each worker has also applied the snapshot
 * published before the call (px_apply at the top of an iteration) and no longer reads the
 * one before it. */
void dp_wait_quiescent(struct dp *dp);

/* Launch one worker per configured worker lcore. Control only. */
int dp_start(struct dp *dp);

/* Ask workers to stop, wait for them, stop ports, free pools. Control only. */
void dp_stop(struct dp *dp);

/* Port statistics and mempool use, for show ports (control only). */
struct dp_port_stats {
	uint64_t ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rx_nombuf;
};
int dp_port_stats(const struct dp *dp, unsigned int idx, struct dp_port_stats *st);

/* Build EAL's argument vector: "sluice", dataplane.eal, then extra (arguments after "--"),
 * then what the configuration leaves out: an lcore map (control lcore plus one per worker on
 * the CPUs this process may use), a --file-prefix unique to the process, --vdev/-a for every
 * port, qpairs=<workers> on af_packet. Returns 0 and a malloc'ed vector (free with
 * dp_eal_args_free), or -EINVAL with one line in err. Control only, before EAL. */
int dp_eal_args(const struct dp_conf *conf, int extra_argc, char *const *extra_argv, int *out_argc,
		char ***out_argv, char *err, size_t errlen);
void dp_eal_args_free(int argc, char **argv);

/* Checks that turn EAL's noise into one line for the operator: privileges, hugepages when
 * --no-huge is absent, kernel interfaces named by iface= arguments. Returns 0 or -errno with
 * err filled. Control only, before EAL. */
int dp_preflight(const struct dp_conf *conf, int eal_argc, char *const *eal_argv, char *err,
		 size_t errlen);

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

/* Memory held by one worker's connection pools (dp_mem.c). Sizes in bytes; counts read
 * relaxed, so a gauge may be one update behind. */
struct dp_mem {
	size_t tcb_bytes; /* sizeof one TCB */
	uint32_t tcbs_max, tcbs_used, tcbs_hwm, tcbs_time_wait;
	uint32_t hash_buckets; /* connection table: one 32-bit TCB index per bucket */
	size_t hash_bytes;
	size_t session_bytes; /* sizeof one HTTP session */
	uint32_t sessions_max, sessions_used;
	size_t upstream_bytes; /* sizeof one upstream connection (reverse proxy) */
	uint32_t upstreams_max, upstreams_used;
	size_t req_bytes; /* sizeof one request state (struct px_req), held only mid-request */
	uint32_t reqs_max, reqs_used, reqs_hwm;
	uint32_t reqs_waiting; /* sessions whose request waits for a px_req (pool empty) */
	uint32_t ooo_mbufs;    /* mbufs held in out-of-order queues */

	/* health probes (dataplane/check): their TCB reserve, apart from tcbs_*, and their
	 * slots (one probe in flight each); neither is in dp_mem_pool_bytes */
	uint32_t probe_tcbs_max, probe_tcbs_used, probe_tcbs_hwm;
	size_t probe_slot_bytes;
	uint32_t probe_slots_max, probe_slots_used, probe_slots_hwm;

	/* IPv4 reassembly: datagrams in progress at most, mbufs it may hold (the budget),
	 * mbufs held now, their high-water mark */
	uint32_t frag_datagrams_max, frag_mbufs_max, frag_mbufs, frag_mbufs_hwm;
};

/* Fill m from w's pools. Any thread. */
void dp_mem_worker(const struct dp_worker *w, struct dp_mem *m);

/* What one idle established client connection costs: its TCB, its share of the connection
 * table (rounded up) and its HTTP session. It holds no mbuf and no request state. */
size_t dp_mem_idle_conn_bytes(const struct dp_mem *m);
/* Every connection pool and table of the worker, allocated at start. */
uint64_t dp_mem_pool_bytes(const struct dp_mem *m);
/* What one connection slot (dataplane.max_connections) reserves at start, whether used or
 * not: dp_mem_pool_bytes / tcbs_max, rounded up. */
size_t dp_mem_slot_bytes(const struct dp_mem *m);

/* Graceful shutdown. dp_drain: every worker stops accepting (SYNs answered by RST), closes
 * its idle keep-alive connections and closes the others after their current response;
 * returns once every running worker has stopped accepting. Idempotent. Control only. */
void dp_drain(struct dp *dp);
/* True once every worker has nothing in flight (sessions done, sent data acknowledged);
 * *sessions (may be NULL) gets the sessions still open, lingering closes included. Control. */
bool dp_drained(const struct dp *dp, uint32_t *sessions);
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
