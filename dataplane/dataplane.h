/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: ports, mempools, worker lcores, counters and the published snapshot.
 *
 * Ownership of shared fields is written next to each one: "dp" is the worker that owns the
 * struct, "ctl" the control core. Nothing here takes a lock.
 */
#ifndef SLUICE_DATAPLANE_H
#define SLUICE_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_conf.h"
#include "net.h"
#include "px.h"
#include "tcp.h"

#define DP_MAX_WORKERS 16
#define DP_MAX_PORTS NET_MAX_IFS
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
	X(redirect_drop_full)

enum dp_counter {
#define DP_CNT_ENUM(name) DP_CNT_##name,
	DP_COUNTERS(DP_CNT_ENUM)
#undef DP_CNT_ENUM
		DP_CNT_MAX
};

/* The runtime snapshot: everything a worker reads from configuration. Immutable once
 * published; replaced as a whole by control (one pointer store), freed after every worker has
 * reported a quiescent state. */
struct dp_snapshot {
	uint64_t epoch;
	const struct dp_conf *conf;
	/* Runtime state of every endpoint (set server weight/state, enable/disable server),
	 * services one after the other: endpoint e of service v is eps[svc_base[v] + e]. */
	struct dp_ep_state *eps;
	uint32_t *svc_base;
	uint32_t n_eps;
};

/* Administrative state of an endpoint, HAProxy's: ready takes requests; drain takes none
 * new while requests in flight finish; maint takes none at all (in flight still finish). */
enum dp_ep_admin {
	DP_EP_READY = 0,
	DP_EP_DRAIN,
	DP_EP_MAINT,
};

struct dp_ep_state {
	uint32_t weight;
	uint32_t admin;	  /* enum dp_ep_admin */
	uint64_t changed; /* time(NULL) of the last change */
};

/* A new snapshot of conf at epoch. Endpoint states start from conf's weights, ready, unless
 * prev (same service and endpoint layout) is given: then they are copied from it. NULL when
 * out of memory. Control only. */
struct dp_snapshot *dp_snapshot_new(const struct dp_conf *conf, const struct dp_snapshot *prev,
				    uint64_t epoch);
/* Free a snapshot (not its conf). Only after no worker can see it (dp_wait_quiescent). */
void dp_snapshot_free(struct dp_snapshot *snap);
/* The state of endpoint ep of service svc in snap; NULL when out of range. Any thread. */
const struct dp_ep_state *dp_snapshot_ep(const struct dp_snapshot *snap, uint32_t svc, uint32_t ep);

/* Messages between workers, over one single-producer/single-consumer ring per ordered pair. */
enum dp_msg_type {
	DP_MSG_ARP_LEARN = 1, /* a neighbour the sender learnt */
	DP_MSG_TCP,	      /* a TCP segment (data at the IPv4 header) the receiver owns */
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

struct dp;

struct dp_worker {
	/* dp: rw; ctl: ro (counters, read relaxed) */
	struct net_stack ns;
	struct tcp_stack ts;
	struct px_worker px;
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

	/* dp: ro, ctl: wo */
	volatile bool stop;

	/* graceful shutdown (dp_drain.c, px_drain.c): control sets drain; the worker stops
	 * accepting, closes idle connections, and sets drained once nothing is in flight */
	volatile bool drain;   /* dp: ro, ctl: wo */
	volatile bool drained; /* dp: wo, ctl: ro */
	bool drain_begun;      /* dp: rw */
	uint64_t drain_next;   /* dp: rw (TSC of the next look) */
} __rte_cache_aligned;

struct dp_port {
	uint16_t port_id;
	uint16_t ifindex; /* index in every worker's net_stack */
	char name[32];
	struct rte_ether_addr mac;
	uint64_t rss_hf; /* hash types requested (0: none) */
	uint32_t tx_offloads;
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
	struct tcp_secret secret; /* one ISN / SYN-cookie key for every worker */

	/* ctl: wo (release store), dp: ro (acquire load once per loop) */
	struct dp_snapshot *snapshot;
	/* workers report a quiescent state once per loop; control waits on it before freeing */
	struct rte_rcu_qsbr *qsv;
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
 * started after this call. */
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

/* Set up / release a worker's stack state (dataplane internal, called by dp_init/dp_stop). */
void dp_worker_init(struct dp_worker *w);
void dp_worker_fini(struct dp_worker *w);

/* TCP in the dataplane (dp_tcp.c): the TCP stack and HTTP listeners of a worker, and which
 * worker owns a segment (any thread; addresses network order, ports host order). */
int dp_tcp_init(struct dp_worker *w, char *err, size_t errlen);
void dp_tcp_fini(struct dp_worker *w);
void dp_tcp_listen_ports(struct dp *dp);
unsigned int dp_tcp_owner(const struct dp *dp, uint32_t saddr, uint32_t daddr, uint16_t sport,
			  uint16_t dport);

/* Graceful shutdown. dp_drain: every worker stops accepting (SYNs answered by RST), closes
 * its idle keep-alive connections and closes the others after their current response;
 * returns once every running worker has stopped accepting. Idempotent. Control only. */
void dp_drain(struct dp *dp);
/* True once every worker has nothing in flight (sessions done, sent data acknowledged);
 * *sessions (may be NULL) gets the sessions still open, lingering closes included. Control. */
bool dp_drained(const struct dp *dp, uint32_t *sessions);
/* Worker side of dp_drain, from the worker loop while drain is set (px_drain.c). */
void px_drain_poll(struct dp_worker *w);

/* The worker lcore entry point (arg: struct dp_worker *). */
int dp_worker_main(void *arg);

#endif /* SLUICE_DATAPLANE_H */
