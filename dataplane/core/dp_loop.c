/* SPDX-License-Identifier: BSD-3-Clause
 * The worker loop: RX bursts into the stack, messages from other workers, timers, TX flush,
 * one RCU quiescent report per iteration, optional back-off when idle.
 */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include "dp_objs.h"
#include "dp_run.h"
#include "dp_worker.h"
#include "hc.h"
#include "px.h"

static inline struct dp_worker *ns_worker(struct net_stack *ns)
{
	return container_of(ns, struct dp_worker, ns);
}

/* net_hooks.tx: buffer the frame on this worker's queue of the port; flushed once per loop
 * or when DP_BURST frames are waiting. Drops are counted by tx_drop(). */
static void worker_tx(struct net_stack *ns, uint16_t port_id, struct rte_mbuf *m)
{
	struct dp_worker *w = ns_worker(ns);

	for (unsigned int i = 0; i < ns->n_ifs; i++) {
		if (ns->ifs[i].port_id != port_id)
			continue;
		rte_eth_tx_buffer(port_id, w->queue, w->txb[i], m);
		return;
	}
	ns->cnt[NET_CNT_tx_drop_full]++;
	rte_pktmbuf_free(m);
}

/* net_hooks.arp_learnt: every worker keeps its own ARP cache, so tell the others. The
 * message is lost (and counted) only when a peer's ring is full; the peer then resolves the
 * neighbour itself when it needs it. */
static void worker_arp_learnt(struct net_stack *ns, uint32_t ip, const struct rte_ether_addr *mac,
			      uint16_t ifindex)
{
	struct dp_worker *w = ns_worker(ns);
	struct dp_msg msg = { .type = DP_MSG_ARP_LEARN, .ifindex = ifindex, .ip = ip };

	msg.mac = *mac;
	for (unsigned int i = 0; i < w->dp->n_workers; i++) {
		if (i == w->id)
			continue;
		if (rte_ring_sp_enqueue_elem(w->ring_out[i], &msg, sizeof(msg)) != 0)
			w->cnt[DP_CNT_ring_drop_full]++;
	}
}

void dp_worker_init(struct dp_worker *w)
{
	static const struct net_hooks hooks = {
		.tx = worker_tx,
		.arp_learnt = worker_arp_learnt,
		.ip_deliver = NULL,
	};

	net_stack_init(&w->ns, w->pool, &hooks, w->dp->hz);
	w->ns.owner = w;
}

static unsigned int drain_rings(struct dp_worker *w)
{
	struct dp_msg msgs[DP_BURST];
	unsigned int total = 0;

	for (unsigned int i = 0; i < w->dp->n_workers; i++) {
		unsigned int n;

		if (w->ring_in[i] == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst_elem(w->ring_in[i], msgs, sizeof(msgs[0]), DP_BURST,
						   NULL);
		for (unsigned int k = 0; k < n; k++) {
			switch (msgs[k].type) {
			case DP_MSG_ARP_LEARN:
				arp_learn(&w->ns, msgs[k].ip, &msgs[k].mac, msgs[k].ifindex);
				break;
			case DP_MSG_TCP:
				tcp_input(&w->ts, msgs[k].m);
				break;
			case DP_MSG_FRAG:
				net_frag_input(&w->ns, msgs[k].m, msgs[k].ifindex);
				break;
			}
		}
		w->cnt[DP_CNT_ring_msgs_in] += n;
		total += n;
	}
	return total;
}

void dp_worker_fini(struct dp_worker *w)
{
	struct dp_msg msg;

	for (unsigned int i = 0; i < DP_MAX_WORKERS; i++) {
		if (w->ring_in[i] == NULL)
			continue;
		while (rte_ring_sc_dequeue_elem(w->ring_in[i], &msg, sizeof(msg)) == 0)
			if (msg.type == DP_MSG_TCP || msg.type == DP_MSG_FRAG)
				rte_pktmbuf_free(msg.m);
	}
	dp_tcp_fini(w);
	net_stack_fini(&w->ns);
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;
	const uint32_t idle_sleep_us = dp->conf->dataplane.idle_sleep_us;
	struct rte_mbuf *pkts[DP_BURST];
	uint64_t t0 = rte_rdtsc();

	rte_rcu_qsbr_thread_register(dp->qsv, w->id);
	rte_rcu_qsbr_thread_online(dp->qsv, w->id);

	while (!dp_flag_get(&w->stop)) {
		/* Loaded once per iteration: a swap takes effect between iterations, and the
		 * quiescent report below tells control this worker no longer holds the old one. */
		const struct dp_snapshot *snap = __atomic_load_n(&dp->snapshot, __ATOMIC_ACQUIRE);
		unsigned int work = 0;
		uint64_t t1;

		if (snap != NULL && snap->epoch != w->px.epoch)
			px_apply(w, snap);
		w->ns.now = t0;
		if (dp_flag_get(&w->drain))
			px_drain_poll(w);
		for (unsigned int p = 0; p < dp->n_ports; p++) {
			uint16_t n =
				rte_eth_rx_burst(dp->ports[p].port_id, w->queue, pkts, DP_BURST);

			for (uint16_t k = 0; k < n; k++)
				net_rx(&w->ns, pkts[k]); /* counts rx_frames itself */
			work += n;
		}
		work += drain_rings(w);
		work += dp_ctl_poll(w);
		work += hc_poll(w);
		net_timer(&w->ns);
		tcp_timers(&w->ts);
		px_timers(w);
		for (unsigned int p = 0; p < dp->n_ports; p++)
			rte_eth_tx_buffer_flush(dp->ports[p].port_id, w->queue, w->txb[p]);
		px_flushed(w);
		rte_rcu_qsbr_quiescent(dp->qsv, w->id);

		if (work == 0 && idle_sleep_us > 0)
			rte_delay_us_sleep(idle_sleep_us);
		t1 = rte_rdtsc();
		if (work != 0) {
			w->cnt[DP_CNT_polls_busy]++;
			w->cnt[DP_CNT_cycles_busy] += t1 - t0;
		} else {
			w->cnt[DP_CNT_polls_idle]++;
			w->cnt[DP_CNT_cycles_idle] += t1 - t0;
		}
		t0 = t1;
	}
	rte_rcu_qsbr_thread_offline(dp->qsv, w->id);
	rte_rcu_qsbr_thread_unregister(dp->qsv, w->id);
	return 0;
}

int dp_start(struct dp *dp)
{
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = dp->workers[i];
		int rc = rte_eal_remote_launch(dp_worker_main, w, w->lcore);

		if (rc != 0)
			return rc;
	}
	return 0;
}
