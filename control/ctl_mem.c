/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: the memory part of show pools: per worker, what the connection pools hold
 * (dataplane/core/dp_mem.c), and what one idle connection costs.
 *
 * Text lines, after the pool.* (mbuf) lines:
 *   mem.tcb_bytes, mem.session_bytes, mem.upstream_bytes, mem.req_bytes   size of one object
 *   mem.idle_conn_bytes       TCB + connection table share + session (an idle connection holds
 *                             no mbuf and no request state)
 *   mem.conn_slot_bytes       what one connection slot reserves at start: every pool and table
 *                             of a worker / its max_connections
 *   mem.mbufs_in_use          every mbuf pool summed
 *   mem.tcbs_used, mem.sessions_used, mem.upstreams_used, mem.reqs_used, mem.reqs_waiting,
 *   mem.time_wait, mem.pool_bytes
 *                             summed over workers (pool_bytes: every connection pool and table)
 *   workerW.mem.tcbs_max, .tcbs_used, .tcbs_hwm, .time_wait, .tcb_pool_bytes, .hash_buckets,
 *   .hash_bytes, .sessions_max, .sessions_used, .session_pool_bytes, .upstreams_max,
 *   .upstreams_used, .upstream_pool_bytes, .reqs_max, .reqs_used, .reqs_hwm, .reqs_waiting,
 *   .req_pool_bytes, .ooo_mbufs, .frag_datagrams_max, .frag_mbufs_max, .frag_mbufs,
 *   .frag_mbufs_hwm (IPv4 reassembly: its table size, its mbuf budget, mbufs held now),
 *   .probe_tcbs_max, .probe_tcbs_used, .probe_tcbs_hwm, .probe_tcb_pool_bytes (the health
 *   probes' TCB reserve, not in tcbs_*), .probe_slots_max, .probe_slots_used,
 *   .probe_slots_hwm, .probe_slot_pool_bytes (probes in flight)
 * JSON: ,"mem":{ the mem.* keys ,"workers":[{"id":W, the workerW.mem.* keys}]} appended to the
 * show pools object.
 *
 * Control core only.
 */
#include <inttypes.h>
#include <stdio.h>

#include <rte_mempool.h>

#include "control.h"

struct ctl_mem_sum {
	struct dp_mem first; /* object sizes, table share */
	uint64_t tcbs_used, sessions_used, upstreams_used, reqs_used, reqs_waiting, time_wait;
	uint64_t pool_bytes;
	uint64_t mbufs_in_use;
	bool have;
};

static void ctl_mem_worker(unsigned int id, const struct dp_mem *m, bool json, const char *sep,
			   struct ctl_buf *out)
{
	const struct {
		const char *name;
		uint64_t v;
	} f[] = {
		{ "tcbs_max", m->tcbs_max },
		{ "tcbs_used", m->tcbs_used },
		{ "tcbs_hwm", m->tcbs_hwm },
		{ "time_wait", m->tcbs_time_wait },
		{ "tcb_pool_bytes", (uint64_t)m->tcbs_max * m->tcb_bytes },
		{ "hash_buckets", m->hash_buckets },
		{ "hash_bytes", m->hash_bytes },
		{ "sessions_max", m->sessions_max },
		{ "sessions_used", m->sessions_used },
		{ "session_pool_bytes", (uint64_t)m->sessions_max * m->session_bytes },
		{ "upstreams_max", m->upstreams_max },
		{ "upstreams_used", m->upstreams_used },
		{ "upstream_pool_bytes", (uint64_t)m->upstreams_max * m->upstream_bytes },
		{ "reqs_max", m->reqs_max },
		{ "reqs_used", m->reqs_used },
		{ "reqs_hwm", m->reqs_hwm },
		{ "reqs_waiting", m->reqs_waiting },
		{ "req_pool_bytes", (uint64_t)m->reqs_max * m->req_bytes },
		{ "ooo_mbufs", m->ooo_mbufs },
		{ "frag_datagrams_max", m->frag_datagrams_max },
		{ "frag_mbufs_max", m->frag_mbufs_max },
		{ "frag_mbufs", m->frag_mbufs },
		{ "frag_mbufs_hwm", m->frag_mbufs_hwm },
		{ "probe_tcbs_max", m->probe_tcbs_max },
		{ "probe_tcbs_used", m->probe_tcbs_used },
		{ "probe_tcbs_hwm", m->probe_tcbs_hwm },
		{ "probe_tcb_pool_bytes", (uint64_t)m->probe_tcbs_max * m->tcb_bytes },
		{ "probe_slots_max", m->probe_slots_max },
		{ "probe_slots_used", m->probe_slots_used },
		{ "probe_slots_hwm", m->probe_slots_hwm },
		{ "probe_slot_pool_bytes", (uint64_t)m->probe_slots_max * m->probe_slot_bytes },
	};

	if (json)
		ctl_printf(out, "%s{\"id\":%u", sep, id);
	for (unsigned int i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (json)
			ctl_printf(out, ",\"%s\":%" PRIu64, f[i].name, f[i].v);
		else
			ctl_printf(out, "worker%u.mem.%s: %" PRIu64 "\n", id, f[i].name, f[i].v);
	}
	if (json)
		ctl_printf(out, "}");
}

void ctl_mem_lines(const struct dp *dp, bool json, struct ctl_buf *out)
{
	struct ctl_mem_sum s = { 0 };
	struct ctl_buf wk = { 0 };
	struct dp_mem m;
	const char *sep = "";

	for (unsigned int i = 0; i < RTE_MAX_NUMA_NODES; i++)
		if (dp->pools[i] != NULL)
			s.mbufs_in_use += rte_mempool_in_use_count(dp->pools[i]);
	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
		if (dp->workers[w] == NULL)
			continue;
		dp_mem_worker(dp->workers[w], &m);
		if (!s.have)
			s.first = m;
		s.have = true;
		s.tcbs_used += m.tcbs_used;
		s.sessions_used += m.sessions_used;
		s.upstreams_used += m.upstreams_used;
		s.reqs_used += m.reqs_used;
		s.reqs_waiting += m.reqs_waiting;
		s.time_wait += m.tcbs_time_wait;
		s.pool_bytes += dp_mem_pool_bytes(&m);
		ctl_mem_worker(dp_worker_id(dp->workers[w]), &m, json, sep, &wk);
		sep = ",";
	}
	const struct {
		const char *name;
		uint64_t v;
	} f[] = {
		{ "tcb_bytes", s.first.tcb_bytes },
		{ "session_bytes", s.first.session_bytes },
		{ "upstream_bytes", s.first.upstream_bytes },
		{ "req_bytes", s.first.req_bytes },
		{ "idle_conn_bytes", s.have ? dp_mem_idle_conn_bytes(&s.first) : 0 },
		{ "conn_slot_bytes", s.have ? dp_mem_slot_bytes(&s.first) : 0 },
		{ "mbufs_in_use", s.mbufs_in_use },
		{ "tcbs_used", s.tcbs_used },
		{ "sessions_used", s.sessions_used },
		{ "upstreams_used", s.upstreams_used },
		{ "reqs_used", s.reqs_used },
		{ "reqs_waiting", s.reqs_waiting },
		{ "time_wait", s.time_wait },
		{ "pool_bytes", s.pool_bytes },
	};

	if (json)
		ctl_printf(out, ",\"mem\":{");
	for (unsigned int i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (json)
			ctl_printf(out, "%s\"%s\":%" PRIu64, i ? "," : "", f[i].name, f[i].v);
		else
			ctl_printf(out, "mem.%s: %" PRIu64 "\n", f[i].name, f[i].v);
	}
	if (json)
		ctl_printf(out, ",\"workers\":[");
	if (wk.len > 0)
		ctl_buf_append(out, wk.data, wk.len);
	if (json)
		ctl_printf(out, "]}");
	ctl_buf_free(&wk);
}
