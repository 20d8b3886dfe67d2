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
#include "dp_ctl.h"
#include "dp_health.h"
#include "hc.h"
#include "net.h"
#include "lb.h"
#include "px.h"
#include "px_obs.h"
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

/* ---- stable identities (dp_objs.c) ----
 *
 * Listeners, services and endpoints outlive snapshots: control allocates one object per name
 * (an endpoint per SERVICE/NAME and address), every snapshot that has the name points at the
 * same object, and the object keeps its counters across weight changes, add/del server and
 * reloads. Each object carries one slot per worker, written by that worker only (control and
 * readers load its words relaxed). An object no snapshot has any more is freed by control
 * (dp_objs_gc) once no worker references it and a grace period has passed. */

/* An endpoint as worker w sees it. */
struct dp_ep_pw {
	uint64_t cnt[PX_OBJ_MAX];
	uint32_t active;    /* requests in flight from this worker */
	uint32_t conns;	    /* upstream connections (any state) that point at the endpoint */
	uint32_t idle_head; /* most recently idled upstream connection, UINT32_MAX none */
	uint32_t n_idle;
	struct lb_state *lb;	  /* balancer of the applied snapshot holding it; NULL: none */
	int32_t lb_idx;		  /* its index there */
	uint64_t epoch;		  /* last snapshot epoch that had it, as this worker applied it */
	struct px_obs_ep obs;	  /* phase sums for show stat's ctime/rtime/ttime */
	struct dp_ep_passive pas; /* outcomes of real traffic's tries (dp_health.h) */
} __rte_cache_aligned;

struct dp_service;

struct dp_endpoint {
	/* immutable after creation */
	char *name;
	struct dp_service *svc;
	uint32_t addr; /* network order */
	uint32_t port;
	/* ctl only */
	struct dp_endpoint *next;
	bool mark;
	/* one per worker (dp->n_workers) */
	struct dp_ep_pw pw[];
};

/* A service as worker w sees it: its counters and the settings of the snapshot it applied
 * last that had it (upstream connections of a removed service still need timeouts). */
struct dp_svc_pw {
	uint64_t cnt[PX_OBJ_MAX];
	uint32_t connect_ms;
	uint32_t response_ms;
	uint32_t pool_max_idle;
	uint32_t pool_idle_timeout_ms;
	uint32_t per_try_ms; /* 0: none */
	/* retries (dp_retry_conf as applied; idempotent_methods are read from the snapshot when
	 * a request starts) */
	uint32_t retry_count;
	uint32_t retry_on; /* enum dp_retry_on */
	uint32_t retry_budget_percent;
	uint64_t retry_max_body;
	uint32_t active;   /* proxied requests of the service in flight on this worker */
	uint32_t retrying; /* of them, on a retry (the budget bounds it) */
	/* final outcomes of its requests after their retries (the breaker): dp wo relaxed,
	 * ctl ro. ok: a response below 500; fail: 5xx, sluice's 502/503/504 included. */
	uint64_t cb_ok, cb_fail;
	uint32_t cb_run;      /* fails in a row on this worker, reset by an ok */
	uint64_t cb_rejected; /* answered 503 by the open breaker */
	struct lb_state *lb;  /* the applied snapshot's balancer for it; NULL: none */
	uint64_t epoch;
	struct px_obs_svc obs; /* latency histograms (px_obs.h) */
} __rte_cache_aligned;

/* What every worker shares about a service for circuit_breaker's appliance-wide limits
 * (px_breaker.c): one atomic add when a request takes a slot or starts waiting, one sub
 * when it gives it back. dp: atomic read-modify-write; ctl: relaxed loads. */
enum dp_cb_state {
	DP_CB_CLOSED = 0,
	DP_CB_OPEN,	 /* 503 at once, no connection */
	DP_CB_HALF_OPEN, /* one trial request for the appliance (cb_trial) */
};

/* cb_trial while half-open: free, claimed by a worker (CAS 0 -> 1), or its result */
enum { DP_CB_TRIAL_FREE = 0, DP_CB_TRIAL_CLAIMED, DP_CB_TRIAL_OK, DP_CB_TRIAL_FAIL };

struct dp_svc_shared {
	uint32_t inflight; /* requests holding a max_requests slot, all workers */
	uint32_t pending;  /* requests waiting for a slot, all workers */
	uint32_t qmax;	   /* the highest pending seen (show stat qmax) */
	/* the breaker: ctl writes cb_state (release), dp reads it (acquire); cb_trial: ctl
	 * frees it on entering half-open, one worker claims it, the same worker writes the
	 * trial's result */
	uint32_t cb_state; /* enum dp_cb_state */
	uint32_t cb_trial;
	/* ctl only: the breaker's bookkeeping (hc_breaker.c) */
	uint64_t c_ok, c_fail; /* the workers' sums at the last tick */
	uint32_t c_run;	       /* failures in a row, appliance-wide (as the ticks see them) */
	uint64_t c_until_ms;   /* open: until this mono ms */
	uint64_t c_opens;      /* times it opened */
} __rte_cache_aligned;

struct dp_service {
	char *name; /* immutable */
	/* ctl only */
	struct dp_service *next;
	uint32_t n_eps; /* endpoint objects alive that point here */
	bool mark;
	struct dp_svc_shared sh;
	struct dp_svc_pw pw[];
};

/* A listener: per worker, the tcp_listen user pointer (struct px_listener, px.h). */
struct dp_listener {
	char *name; /* immutable */
	/* ctl only */
	struct dp_listener *next;
	bool mark;
	struct px_listener pw[];
};

/* The objects control has allocated (ctl only). */
struct dp_objs {
	struct dp_listener *lsts;
	struct dp_service *svcs;
	struct dp_endpoint *eps;
};

/* ---- the runtime snapshot (dp_snapshot.c) ----
 *
 * Everything a worker reads from configuration. Immutable once published; replaced as a
 * whole by control (one pointer store), freed after every worker has applied a newer one
 * (dp_wait_quiescent). Its per-worker balancers are each owned by one worker while the
 * snapshot is applied. */

/* The runtime state of an endpoint (set server weight/state, enable/disable server). */
struct dp_ep_state {
	struct dp_endpoint *obj;
	uint32_t weight;
	uint32_t admin;	  /* enum dp_ep_admin */
	uint64_t changed; /* time(NULL) of the last change */
	uint8_t health;	  /* enum dp_ep_health, as control decided it */
	bool ejected;	  /* by outlier detection, until control says otherwise */
	/* dp_clock_ms when it last became eligible (dp_ep_eligible) while the service ran, for
	 * slow start; 0: eligible since the first snapshot, or not eligible. Set by
	 * dp_snapshot_seal, copied to the balancers' lb_endpoint.since_ms. */
	uint64_t since_ms;
};

/* Whether the balancers may send new requests to it: ready, weight > 0, health UP (not DOWN,
 * not stopping) and not ejected. Maglev tables hold exactly these endpoints. Any thread. */
static inline bool dp_ep_eligible(const struct dp_ep_state *st)
{
	return st->admin == DP_EP_READY && st->weight > 0 && st->health == DP_HEALTH_UP &&
	       !st->ejected;
}

struct dp_snap_svc {
	struct dp_service *obj;
	struct dp_ep_state *eps; /* conf->services[v].endpoints order */
	uint32_t n_eps;
	struct lb_state **lb; /* one per worker */
	/* balance maglev: the table of the endpoints eligible in this snapshot, shared by every
	 * worker's lb (lb_state.shared); NULL otherwise. Owned by the snapshot. */
	struct lb_maglev *maglev;
};

struct dp_snapshot {
	uint64_t epoch;
	const struct dp_conf *conf; /* owned by whoever published the snapshot (control) */
	struct dp_snap_svc *svcs;   /* conf->services order */
	uint32_t n_svcs;
	struct dp_listener **lsts; /* conf->listeners order */
	uint32_t n_lsts;
	uint16_t n_workers;
};

struct dp;

/* A new snapshot of conf at epoch, its objects found by name in dp's registry (created when
 * missing). Endpoint states start from conf's weights, ready, except that with prev given
 * an endpoint prev also had (the same object) keeps prev's weight and state. NULL when out
 * of memory. Control only. */
struct dp_snapshot *dp_snapshot_new(struct dp *dp, const struct dp_conf *conf,
				    const struct dp_snapshot *prev, uint64_t epoch);
/* Derive what depends on the endpoint states of snap, once they are final and before it is
 * published: each endpoint's since_ms (now when it is eligible in snap and was not, or was
 * absent, in prev, unless a seal against the same prev stamped it already; prev's value when
 * it was eligible there too; prev NULL: 0, no ramp) and the Maglev tables (rebuilt only when
 * the eligible set or a weight changed). Sealing twice changes nothing. dp_snapshot_new
 * calls it; call it again after changing a state in a built snapshot (ctl_snapshot_publish
 * does, against the snapshot it replaces). 0, or -ENOMEM (a table kept its previous value).
 * Control only. */
int dp_snapshot_seal(struct dp *dp, struct dp_snapshot *snap, const struct dp_snapshot *prev);
/* Milliseconds since the dataplane started, from the TSC, never 0: the clock of since_ms and
 * of slow start. Any thread. */
uint64_t dp_clock_ms(const struct dp *dp);
/* Free a snapshot (not its conf, not its objects). Only after no worker can see it
 * (dp_wait_quiescent). */
void dp_snapshot_free(struct dp_snapshot *snap);
/* The state of endpoint ep of service svc in snap; NULL when out of range. Any thread. */
const struct dp_ep_state *dp_snapshot_ep(const struct dp_snapshot *snap, uint32_t svc, uint32_t ep);
/* Index of the service called name in snap, -1 when none. */
int dp_snapshot_service(const struct dp_snapshot *snap, const char *name);

/* An endpoint takes new requests as far as health goes: admin ready and not stopping. */
static inline bool dp_ep_serving(const struct dp_ep_state *st)
{
	return st->admin == DP_EP_READY && st->health != DP_HEALTH_STOPPING;
}

/* Serving, UP and not ejected. */
static inline bool dp_ep_healthy(const struct dp_ep_state *st)
{
	return dp_ep_serving(st) && st->health == DP_HEALTH_UP && !st->ejected;
}

/* Panic of service svc (panic_threshold_percent): fewer healthy endpoints than that share of
 * the serving ones, but at least one healthy. In panic the balancer takes every serving
 * endpoint, DOWN and ejected ones included, rather than pile everything onto the few left;
 * with none healthy it takes none (the proxy answers 503 at once). Any thread. */
bool dp_snapshot_panic(const struct dp_snapshot *snap, uint32_t svc);

/* Find the object called name, or create it (NULL when out of memory). Control only. */
struct dp_listener *dp_listener_get(struct dp *dp, const char *name);
struct dp_service *dp_service_get(struct dp *dp, const char *name);
struct dp_endpoint *dp_endpoint_get(struct dp *dp, struct dp_service *svc, const char *name,
				    uint32_t addr, uint32_t port);

/* Free every object no snapshot but dp->snapshot could have and that no worker references
 * any more (waiting for a grace period first when there is one). Returns how many objects
 * are left waiting for workers to let go. Control only, with the published snapshot applied
 * by every worker (after dp_wait_quiescent). */
unsigned int dp_objs_gc(struct dp *dp);
/* Free every object (after the workers stopped). */
void dp_objs_free(struct dp *dp);

/* Sum of per-worker counter i of an object over the dp's workers (relaxed loads). Any
 * thread, while the object is alive. */
uint64_t dp_ep_sum(const struct dp *dp, const struct dp_endpoint *ep, unsigned int i);
uint64_t dp_svc_sum(const struct dp *dp, const struct dp_service *svc, unsigned int i);
uint64_t dp_lst_sum(const struct dp *dp, const struct dp_listener *l, unsigned int i);
/* Requests in flight on ep, and sessions of listener l, over every worker. */
uint32_t dp_ep_active(const struct dp *dp, const struct dp_endpoint *ep);
uint32_t dp_lst_conns(const struct dp *dp, const struct dp_listener *l);

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

struct dp;

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

/* Set up / release a worker's stack state (dataplane internal, called by dp_init/dp_stop). */
void dp_worker_init(struct dp_worker *w);
void dp_worker_fini(struct dp_worker *w);

/* TCP in the dataplane (dp_tcp.c): the TCP stack and HTTP listeners of a worker, and which
 * worker owns a segment (any thread; addresses network order, ports host order). */
int dp_tcp_init(struct dp_worker *w, char *err, size_t errlen);
void dp_tcp_fini(struct dp_worker *w);
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
/* Worker side of dp_drain, from the worker loop while drain is set (px_drain.c). */
void px_drain_poll(struct dp_worker *w);

/* The worker lcore entry point (arg: struct dp_worker *). */
int dp_worker_main(void *arg);

#endif /* SLUICE_DATAPLANE_H */
