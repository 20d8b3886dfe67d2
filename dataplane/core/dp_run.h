/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: the runtime's functions (core/): init and teardown, starting and stopping
 * the workers, EAL arguments, port statistics, the counter registry, memory gauges, graceful
 * drain, and each worker's set-up. Declarations only, over the types of dp_types.h (struct
 * dp_worker opaque): control includes it, the layers below core/ never do.
 */
#ifndef SLUICE_DP_RUN_H
#define SLUICE_DP_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_conf.h"
#include "dp_types.h"

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
/* Set up / release a worker's stack state (dataplane internal, called by dp_init/dp_stop). */
void dp_worker_init(struct dp_worker *w);
void dp_worker_fini(struct dp_worker *w);

/* TCP in the dataplane (dp_tcp.c): the TCP stack and HTTP listeners of a worker. */
int dp_tcp_init(struct dp_worker *w, char *err, size_t errlen);
void dp_tcp_fini(struct dp_worker *w);

/* The worker lcore entry point (arg: struct dp_worker *). */
int dp_worker_main(void *arg);

#endif /* SLUICE_DP_RUN_H */
