/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: per-worker memory accounting (show pools, docs/BENCHMARKS.md "Idle
 * connections").
 *
 * Every per-connection object comes from a pool sized at start, so what a connection costs is
 * the size of the objects it holds, read here from the pools themselves rather than estimated:
 * an idle keep-alive client connection holds one TCB, one link in the connection table and one
 * HTTP session, and no mbuf.
 */
#include <stddef.h>

#include "dp_objs.h"
#include "dp_run.h"
#include "dp_worker.h"
#include "hc.h"
#include "px.h"
#include "px_impl.h"

/* Issue 3's budget: an idle established connection costs at most 512 bytes, with its HTTP
 * state. The transport's part (TCB 264 + table share 4) is checked in tcp_conn.c; the session
 * an idle connection holds is checked here. What a request in progress needs (parser state,
 * body framing, per-request timing: struct px_req, px_req.c) is not in the session but in a
 * pool of its own, taken on a request's first byte. Growing either fails the build rather
 * than the benchmark. */
#define DP_MEM_TCP_IDLE 268 /* TCP_CONN_BUDGET + 4 bytes of connection table per TCB */
#define DP_MEM_SESSION_BUDGET 104
_Static_assert(sizeof(struct px_session) <= DP_MEM_SESSION_BUDGET,
	       "struct px_session outgrew its budget (docs/BENCHMARKS.md, Idle connections)");
_Static_assert(DP_MEM_TCP_IDLE + DP_MEM_SESSION_BUDGET <= 512,
	       "an idle connection with its HTTP session must stay within 512 bytes (issue 3)");

void dp_mem_worker(const struct dp_worker *w, struct dp_mem *m)
{
	const struct tcp_stack *ts = &w->ts;
	const struct px_worker *px = &w->px;

	m->tcb_bytes = tcp_conn_size();
	m->tcbs_max = ts->conf.max_connections;
	m->tcbs_used = __atomic_load_n(&ts->conns_used, __ATOMIC_RELAXED);
	m->tcbs_hwm = __atomic_load_n(&ts->conns_hwm, __ATOMIC_RELAXED);
	m->tcbs_time_wait = __atomic_load_n(&ts->time_wait, __ATOMIC_RELAXED);
	m->hash_buckets = ts->buckets != NULL ? ts->bucket_mask + 1 : 0;
	m->hash_bytes = (size_t)m->hash_buckets * sizeof(ts->buckets[0]);
	m->session_bytes = sizeof(struct px_session);
	m->sessions_max = px->n_sessions;
	m->sessions_used = __atomic_load_n(&px->used, __ATOMIC_RELAXED);
	m->upstream_bytes = sizeof(struct px_upstream);
	m->upstreams_max = px->n_upstreams;
	m->upstreams_used = __atomic_load_n(&px->up_used, __ATOMIC_RELAXED);
	m->req_bytes = sizeof(struct px_req) + (size_t)px->n_hdrs * sizeof(struct http_header);
	m->reqs_max = px->n_reqs;
	m->reqs_used = __atomic_load_n(&px->req_used, __ATOMIC_RELAXED);
	m->reqs_hwm = __atomic_load_n(&px->req_hwm, __ATOMIC_RELAXED);
	m->reqs_waiting = __atomic_load_n(&px->n_waiting, __ATOMIC_RELAXED);
	m->ooo_mbufs = __atomic_load_n(&ts->ooo_mbufs, __ATOMIC_RELAXED);
	m->probe_tcbs_max = ts->conf.reserve_connections;
	m->probe_tcbs_used = __atomic_load_n(&ts->rsv_used, __ATOMIC_RELAXED);
	m->probe_tcbs_hwm = __atomic_load_n(&ts->rsv_hwm, __ATOMIC_RELAXED);
	m->probe_slot_bytes = hc_slot_size();
	m->probe_slots_max = w->hc.n_slots;
	m->probe_slots_used = __atomic_load_n(&w->hc.used, __ATOMIC_RELAXED);
	m->probe_slots_hwm = __atomic_load_n(&w->hc.hwm, __ATOMIC_RELAXED);
	m->frag_datagrams_max = w->ns.frag.max_datagrams;
	m->frag_mbufs_max = w->ns.frag.max_mbufs;
	m->frag_mbufs = __atomic_load_n(&w->ns.frag.mbufs, __ATOMIC_RELAXED);
	m->frag_mbufs_hwm = __atomic_load_n(&w->ns.frag.mbufs_hwm, __ATOMIC_RELAXED);
}

size_t dp_mem_idle_conn_bytes(const struct dp_mem *m)
{
	size_t hash_share = m->tcbs_max ? (m->hash_bytes + m->tcbs_max - 1) / m->tcbs_max : 0;

	return m->tcb_bytes + hash_share + m->session_bytes;
}

uint64_t dp_mem_pool_bytes(const struct dp_mem *m)
{
	return (uint64_t)m->tcbs_max * m->tcb_bytes + m->hash_bytes +
	       (uint64_t)m->sessions_max * m->session_bytes +
	       (uint64_t)m->upstreams_max * m->upstream_bytes +
	       (uint64_t)m->reqs_max * m->req_bytes;
}

size_t dp_mem_slot_bytes(const struct dp_mem *m)
{
	return m->tcbs_max ? (size_t)((dp_mem_pool_bytes(m) + m->tcbs_max - 1) / m->tcbs_max) : 0;
}
