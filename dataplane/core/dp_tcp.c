/* SPDX-License-Identifier: BSD-3-Clause
 * TCP in the dataplane: hand-over of a segment or fragment to the worker that owns it (which
 * one is dp_steer.c's), and the TCP stack of each worker with the listeners of the
 * configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "dp_objs.h"
#include "dp_run.h"
#include "dp_worker.h"
#include "hc.h"
#include "px.h"

_Static_assert(DP_MAX_PORTS <= NET_MAX_IFS, "one net_if per port");

/* net_hooks.frag_steer: fragments of one datagram may arrive on different queues (af_packet
 * rolls over, RSS hashes fragments on addresses only, since only the first carries ports),
 * so each goes to the worker its datagram's identity names; that worker reassembles it and
 * hands the datagram to its connection's owner like any segment (a second redirect). */
static bool worker_frag_steer(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex)
{
	struct dp_worker *w = container_of(ns, struct dp_worker, ns);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	struct dp_msg msg = { .type = DP_MSG_FRAG, .ifindex = ifindex };
	unsigned int owner;

	if (w->dp->n_workers == 1)
		return false;
	owner = dp_frag_owner(w->dp, ip->src_addr, ip->dst_addr, ip->next_proto_id, ip->packet_id);
	if (owner == w->id)
		return false;
	msg.m = m;
	if (rte_ring_sp_enqueue_elem(w->ring_out[owner], &msg, sizeof(msg)) != 0) {
		w->cnt[DP_CNT_redirect_drop_full]++;
		rte_pktmbuf_free(m);
		return true;
	}
	w->cnt[DP_CNT_frag_redirects]++;
	return true;
}

/* net_hooks.ip_deliver: TCP to its owner, anything else dropped and counted. */
static void worker_ip_deliver(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex)
{
	struct dp_worker *w = container_of(ns, struct dp_worker, ns);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	const struct rte_tcp_hdr *th;
	uint32_t hlen = rte_ipv4_hdr_len(ip);
	struct dp_msg msg = { .type = DP_MSG_TCP };
	unsigned int owner;

	if (ip->next_proto_id != IPPROTO_TCP) {
		ns->cnt[NET_CNT_ip_drop_proto]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (w->dp->n_workers == 1 || rte_pktmbuf_data_len(m) < hlen + 4) {
		tcp_input(&w->ts, m); /* too short to route: the stack drops and counts it */
		return;
	}
	th = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, hlen);
	owner = dp_tcp_owner(w->dp, ip->src_addr, ip->dst_addr, rte_be_to_cpu_16(th->src_port),
			     rte_be_to_cpu_16(th->dst_port));
	if (owner == w->id) {
		tcp_input(&w->ts, m);
		return;
	}
	msg.m = m;
	if (rte_ring_sp_enqueue_elem(w->ring_out[owner], &msg, sizeof(msg)) != 0) {
		w->cnt[DP_CNT_redirect_drop_full]++;
		rte_pktmbuf_free(m);
		return;
	}
	w->cnt[DP_CNT_redirects]++;
}

/* IPv4 reassembly budget: fragments may pin at most an eighth of the mbufs, shared equally
 * among the workers (at least two full-size datagrams' worth each). */
#define DP_FRAG_POOL_SHARE 8
#define DP_FRAG_MIN_MBUFS (2 * RTE_LIBRTE_IP_FRAG_MAX_FRAG)

int dp_tcp_init(struct dp_worker *w, char *err, size_t errlen)
{
	const struct dp_conf *conf = w->dp->conf;
	struct tcp_secret sec;
	struct tcp_conf tc = {
		.max_connections = conf->dataplane.max_connections,
		.reserve_connections = hc_reserve_size(conf->dataplane.max_connections),
		.socket_id = w->socket,
	};
	struct net_frag_conf fc = {
		.max_datagrams = NET_FRAG_MAX_DATAGRAMS,
		.max_mbufs = RTE_MAX((uint32_t)DP_FRAG_MIN_MBUFS,
				     conf->dataplane.mbufs / DP_FRAG_POOL_SHARE / w->dp->n_workers),
		.timeout_ms = NET_FRAG_TIMEOUT_MS,
	};
	int rc;

	w->ns.hooks.ip_deliver = worker_ip_deliver;
	w->ns.hooks.frag_steer = worker_frag_steer;
	rc = net_frag_init(&w->ns, &fc, w->socket);
	if (rc != 0) {
		snprintf(err, errlen,
			 "worker %u: cannot allocate the IPv4 reassembly table: %s (give EAL more "
			 "memory with -m)",
			 w->id, strerror(-rc));
		return rc;
	}
	sec.k0 = w->dp->secret.k0;
	sec.k1 = w->dp->secret.k1;
	rc = tcp_stack_init(&w->ts, &w->ns, &tc, &sec);
	if (rc != 0) {
		snprintf(err, errlen,
			 "worker %u: cannot allocate %u TCP connections: %s (lower "
			 "dataplane.max_connections or give EAL more memory with -m)",
			 w->id, tc.max_connections, strerror(-rc));
		return rc;
	}
	rc = hc_init(w);
	if (rc != 0) {
		snprintf(err, errlen, "worker %u: cannot allocate %u probe slots: %s", w->id,
			 tc.reserve_connections, strerror(-rc));
		return rc;
	}
	rc = px_init(w);
	if (rc != 0)
		snprintf(err, errlen, "worker %u: cannot set up HTTP listeners: %s", w->id,
			 strerror(-rc));
	return rc;
}

void dp_tcp_fini(struct dp_worker *w)
{
	hc_fini(w);
	px_fini(w);
	if (w->ts.conns != NULL)
		tcp_stack_fini(&w->ts);
}
