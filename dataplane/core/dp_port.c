/* SPDX-License-Identifier: BSD-3-Clause
 * Bring-up and tear-down of the dataplane: mempools, ports and queues, worker state, rings.
 * Control core only; nothing here runs on a worker.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp_objs.h"
#include "dp_run.h"
#include "dp_worker.h"
#include "hc.h"
#include "px.h"

#define DP_RX_DESC 1024
#define DP_TX_DESC 1024
#define DP_POOL_CACHE 256

/* Hash types we would like RSS to spread on; only those the device offers are requested,
 * because asking for more fails the configure call (af_packet offers none). */
#define DP_RSS_WANTED (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP)

static unsigned int lcore_socket(unsigned int lcore)
{
	int s = rte_lcore_to_socket_id(lcore);

	return s < 0 || s >= RTE_MAX_NUMA_NODES ? 0 : (unsigned int)s;
}

static uint32_t max_mtu(const struct dp_conf *conf)
{
	uint32_t mtu = RTE_ETHER_MTU;

	for (uint32_t i = 0; i < conf->dataplane.n_ports; i++)
		mtu = RTE_MAX(mtu, conf->dataplane.ports[i].mtu);
	return mtu;
}

static int create_pools(struct dp *dp, char *err, size_t errlen)
{
	uint32_t frame = max_mtu(dp->conf) + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 8;
	uint16_t room = RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_DATAROOM, frame) + RTE_PKTMBUF_HEADROOM;

	for (unsigned int i = 0; i < dp->n_workers; i++) {
		unsigned int s = dp->workers[i]->socket;
		char name[RTE_MEMPOOL_NAMESIZE];

		if (dp->pools[s] == NULL) {
			snprintf(name, sizeof(name), "mbuf_s%u", s);
			dp->pools[s] = rte_pktmbuf_pool_create(name, dp->conf->dataplane.mbufs,
							       DP_POOL_CACHE, 0, room, (int)s);
			if (dp->pools[s] == NULL) {
				snprintf(err, errlen,
					 "cannot create %u mbufs on NUMA socket %u: %s (lower "
					 "dataplane.mbufs or give EAL more memory with -m)",
					 dp->conf->dataplane.mbufs, s, rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
		dp->workers[i]->pool = dp->pools[s];
	}
	return 0;
}

static void tx_drop(struct rte_mbuf **pkts, uint16_t unsent, void *arg)
{
	struct dp_worker *w = arg;

	w->ns.cnt[NET_CNT_tx_drop_full] += unsent;
	rte_pktmbuf_free_bulk(pkts, unsent);
}

static int create_workers(struct dp *dp, char *err, size_t errlen)
{
	unsigned int lcore, i = 0;

	if (rte_lcore_count() < dp->n_workers + 1u) {
		snprintf(err, errlen,
			 "EAL has %u lcores; dataplane.workers: %u needs %u (control + workers): "
			 "fix -l/--lcores in dataplane.eal or leave them out",
			 rte_lcore_count(), dp->n_workers, dp->n_workers + 1);
		return -EINVAL;
	}
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		struct dp_worker *w;

		if (i == dp->n_workers)
			break;
		w = rte_zmalloc_socket("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
				       (int)lcore_socket(lcore));
		if (w == NULL) {
			snprintf(err, errlen, "cannot allocate worker state");
			return -ENOMEM;
		}
		w->dp = dp;
		w->id = i;
		w->queue = i;
		w->lcore = lcore;
		w->socket = lcore_socket(lcore);
		dp->workers[i++] = w;
	}
	return 0;
}

static int create_rings(struct dp *dp, char *err, size_t errlen)
{
	for (unsigned int from = 0; from < dp->n_workers; from++) {
		for (unsigned int to = 0; to < dp->n_workers; to++) {
			char name[RTE_RING_NAMESIZE];
			struct rte_ring *r;

			if (from == to)
				continue;
			snprintf(name, sizeof(name), "dp_%u_%u", from, to);
			r = rte_ring_create_elem(name, sizeof(struct dp_msg), DP_RING_SIZE,
						 (int)dp->workers[to]->socket,
						 RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (r == NULL) {
				snprintf(err, errlen, "cannot create ring %s: %s", name,
					 rte_strerror(rte_errno));
				return -ENOMEM;
			}
			dp->workers[from]->ring_out[to] = r;
			dp->workers[to]->ring_in[from] = r;
		}
	}
	return 0;
}

static int find_port(const struct dp_port_conf *pc, uint16_t *port_id, char *err, size_t errlen)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n = strcspn(pc->device, ",");

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, pc->device, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	snprintf(err, errlen,
		 "port %s: device \"%s\" was not probed (check the driver name, its arguments "
		 "and that the device exists)",
		 pc->name, pc->device);
	return -ENODEV;
}

static int setup_port(struct dp *dp, unsigned int idx, char *err, size_t errlen)
{
	const struct dp_port_conf *pc = &dp->conf->dataplane.ports[idx];
	struct dp_port *p = &dp->ports[idx];
	struct rte_eth_conf ec = { 0 };
	struct rte_eth_dev_info info;
	uint16_t nrx = DP_RX_DESC, ntx = DP_TX_DESC, mtu;
	int rc;

	rc = find_port(pc, &p->port_id, err, errlen);
	if (rc != 0)
		return rc;
	p->ifindex = idx;
	snprintf(p->name, sizeof(p->name), "%s", pc->name);
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: cannot read device info: %s", pc->name,
			 rte_strerror(-rc));
		return rc;
	}
	if (info.max_rx_queues < dp->n_workers || info.max_tx_queues < dp->n_workers) {
		snprintf(
			err, errlen,
			"port %s: device \"%s\" offers %u RX / %u TX queues; dataplane.workers: %u "
			"needs one pair per worker",
			pc->name, pc->device, info.max_rx_queues, info.max_tx_queues,
			dp->n_workers);
		return -EINVAL;
	}
	p->rss_hf = info.flow_type_rss_offloads & DP_RSS_WANTED;
	if (dp->n_workers > 1 && p->rss_hf != 0) {
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_hf = p->rss_hf;
	} else {
		p->rss_hf = 0;
	}
	/* Offloads the device does are used; the stack does the rest: TCP checksums in
	 * software, and a chain (headers in one mbuf, payload references after) is copied into
	 * one buffer for a device that cannot send chains (af_xdp advertises nothing, and its
	 * transmit reads pkt_len bytes from the first segment). Many NIC drivers pick a transmit
	 * path that ignores chains unless MULTI_SEGS is requested: it is. */
	p->tx_offloads = info.tx_offload_capa &
			 (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			  RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
	ec.txmode.offloads = p->tx_offloads;
	rc = rte_eth_dev_configure(p->port_id, dp->n_workers, dp->n_workers, &ec);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: configure with %u queue pairs failed: %s", pc->name,
			 dp->n_workers, rte_strerror(-rc));
		return rc;
	}
	if (rte_eth_dev_get_mtu(p->port_id, &mtu) != 0 || mtu != pc->mtu) {
		rc = rte_eth_dev_set_mtu(p->port_id, pc->mtu);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: cannot set MTU %u: %s", pc->name, pc->mtu,
				 rte_strerror(-rc));
			return rc;
		}
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nrx, &ntx);
	for (unsigned int q = 0; q < dp->n_workers; q++) {
		struct dp_worker *w = dp->workers[q];

		rc = rte_eth_rx_queue_setup(p->port_id, q, nrx, w->socket, NULL, w->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(p->port_id, q, ntx, w->socket, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: queue %u setup failed: %s", pc->name, q,
				 rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: start failed: %s", pc->name, rte_strerror(-rc));
		return rc;
	}
	rte_eth_macaddr_get(p->port_id, &p->mac);
	return 0;
}

/* Give every worker the port as an interface, with the same index everywhere, and a TX
 * buffer for its queue on that port. */
static int attach_port(struct dp *dp, unsigned int idx, char *err, size_t errlen)
{
	const struct dp_port_conf *pc = &dp->conf->dataplane.ports[idx];
	const struct dp_port *p = &dp->ports[idx];
	struct net_if nif = {
		.port_id = p->port_id,
		.mtu = (uint16_t)pc->mtu,
		.mac = p->mac,
		.addr = pc->addr,
		.mask = pc->prefix_len == 0 ? 0 : rte_cpu_to_be_32(~0u << (32 - pc->prefix_len)),
		.gateway = pc->gateway,
		.tx_offloads = p->tx_offloads,
	};

	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = dp->workers[i];
		struct rte_eth_dev_tx_buffer *txb;

		if (net_stack_add_if(&w->ns, &nif) != (int)idx) {
			snprintf(err, errlen, "port %s: too many ports", pc->name);
			return -ENOSPC;
		}
		txb = rte_zmalloc_socket("txb", RTE_ETH_TX_BUFFER_SIZE(DP_BURST), 0, w->socket);
		if (txb == NULL) {
			snprintf(err, errlen, "cannot allocate TX buffers");
			return -ENOMEM;
		}
		rte_eth_tx_buffer_init(txb, DP_BURST);
		rte_eth_tx_buffer_set_err_callback(txb, tx_drop, w);
		w->txb[idx] = txb;
	}
	return 0;
}

static int create_rcu(struct dp *dp, char *err, size_t errlen)
{
	size_t sz = rte_rcu_qsbr_get_memsize(dp->n_workers);

	dp->qsv = rte_zmalloc("dp_qsv", sz, RTE_CACHE_LINE_SIZE);
	if (dp->qsv == NULL || rte_rcu_qsbr_init(dp->qsv, dp->n_workers) != 0) {
		snprintf(err, errlen, "cannot set up RCU state");
		return -ENOMEM;
	}
	return 0;
}

int dp_init(struct dp *dp, const struct dp_conf *conf, char *err, size_t errlen)
{
	struct tcp_secret secret;
	int rc;

	memset(dp, 0, sizeof(*dp));
	dp->conf = conf;
	dp->n_workers = conf->dataplane.workers;
	dp->n_ports = conf->dataplane.n_ports;
	dp->hz = rte_get_tsc_hz();
	dp->started_tsc = rte_rdtsc();

	rc = create_workers(dp, err, errlen);
	if (rc == 0)
		rc = create_pools(dp, err, errlen);
	if (rc == 0)
		rc = create_rings(dp, err, errlen);
	if (rc == 0)
		rc = create_rcu(dp, err, errlen);
	if (rc == 0)
		rc = dp_ctl_init(dp, err, errlen);
	if (rc == 0)
		rc = dp_probe_init(dp, err, errlen);
	if (rc != 0)
		goto fail;
	for (unsigned int i = 0; i < dp->n_workers; i++)
		dp_worker_init(dp->workers[i]);
	for (unsigned int i = 0; i < dp->n_ports; i++) {
		rc = setup_port(dp, i, err, errlen);
		if (rc == 0)
			rc = attach_port(dp, i, err, errlen);
		if (rc != 0)
			goto fail;
	}
	/* TCP after the ports: the stack takes its MSS from the interfaces. */
	rc = tcp_secret_init(&secret);
	dp->secret.k0 = secret.k0;
	dp->secret.k1 = secret.k1;
	if (rc != 0) {
		snprintf(err, errlen, "cannot draw the TCP secret: %s", strerror(-rc));
		goto fail;
	}
	memset(dp->listen_ports, 0, sizeof(dp->listen_ports));
	dp_listen_ports_add(dp, conf);
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		rc = dp_tcp_init(dp->workers[i], err, errlen);
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	dp_stop(dp);
	return rc;
}

int dp_port_stats(const struct dp *dp, unsigned int idx, struct dp_port_stats *st)
{
	struct rte_eth_stats s;
	int rc;

	if (idx >= dp->n_ports)
		return -EINVAL;
	rc = rte_eth_stats_get(dp->ports[idx].port_id, &s);
	if (rc != 0)
		return rc;
	st->ipackets = s.ipackets;
	st->opackets = s.opackets;
	st->ibytes = s.ibytes;
	st->obytes = s.obytes;
	st->imissed = s.imissed;
	st->ierrors = s.ierrors;
	st->oerrors = s.oerrors;
	st->rx_nombuf = s.rx_nombuf;
	return 0;
}

void dp_stop(struct dp *dp)
{
	for (unsigned int i = 0; i < dp->n_workers; i++)
		if (dp->workers[i] != NULL)
			dp_flag_set(&dp->workers[i]->stop, true);
	rte_eal_mp_wait_lcore();

	for (unsigned int i = 0; i < dp->n_ports; i++) {
		if (dp->ports[i].name[0] == '\0')
			continue;
		rte_eth_dev_stop(dp->ports[i].port_id);
		rte_eth_dev_close(dp->ports[i].port_id);
	}
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = dp->workers[i];

		if (w == NULL)
			continue;
		dp_worker_fini(w);
		dp_ctl_fini(w);
		dp_probe_fini(w);
		for (unsigned int j = 0; j < DP_MAX_PORTS; j++)
			rte_free(w->txb[j]);
		for (unsigned int j = 0; j < DP_MAX_WORKERS; j++)
			rte_ring_free(w->ring_out[j]);
		rte_free(w);
		dp->workers[i] = NULL;
	}
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		rte_mempool_free(dp->pools[s]);
		dp->pools[s] = NULL;
	}
	rte_free(dp->qsv);
	dp->qsv = NULL;
	dp->n_ports = 0;
}
