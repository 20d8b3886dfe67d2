/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: per-worker stack state, interfaces, routing, checksum and timer.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "net.h"
#include "net_priv.h"

const char *const net_counter_names[NET_CNT_MAX] = {
#define NET_CNT_NAME(name) [NET_CNT_##name] = #name,
	NET_COUNTERS(NET_CNT_NAME)
#undef NET_CNT_NAME
};

void net_stack_init(struct net_stack *ns, struct rte_mempool *pool, const struct net_hooks *hooks,
		    uint64_t hz)
{
	memset(ns, 0, sizeof(*ns));
	ns->pool = pool;
	if (hooks != NULL)
		ns->hooks = *hooks;
	ns->hz = hz;
}

void net_stack_fini(struct net_stack *ns)
{
	uint16_t i;

	for (i = 0; i < ns->n_pending; i++) {
		rte_pktmbuf_free(ns->pending[i].m);
		ns->pending[i].m = NULL;
	}
	ns->n_pending = 0;
	net_frag_fini(ns);
}

int net_stack_add_if(struct net_stack *ns, const struct net_if *ifp)
{
	if (ns->n_ifs >= NET_MAX_IFS)
		return -ENOSPC;
	ns->ifs[ns->n_ifs] = *ifp;
	return ns->n_ifs++;
}

int net_if_by_addr(const struct net_stack *ns, uint32_t ip)
{
	uint16_t i;

	for (i = 0; i < ns->n_ifs; i++)
		if (ns->ifs[i].addr == ip)
			return i;
	return -1;
}

int net_if_by_port(const struct net_stack *ns, uint16_t port_id)
{
	uint16_t i;

	for (i = 0; i < ns->n_ifs; i++)
		if (ns->ifs[i].port_id == port_id)
			return i;
	return -1;
}

int net_route(const struct net_stack *ns, uint32_t ip, uint32_t *nexthop)
{
	uint16_t i;

	/* Connected subnets first, in interface order; then the first default route. */
	for (i = 0; i < ns->n_ifs; i++) {
		const struct net_if *ifp = &ns->ifs[i];

		if (ifp->mask != 0 && ((ip ^ ifp->addr) & ifp->mask) == 0) {
			*nexthop = ip;
			return i;
		}
	}
	for (i = 0; i < ns->n_ifs; i++) {
		if (ns->ifs[i].gateway != 0) {
			*nexthop = ns->ifs[i].gateway;
			return i;
		}
	}
	return -1;
}

struct rte_mbuf *net_tx_linearize(struct net_stack *ns, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_mbuf *n = NULL;
	const void *src;
	char *dst = NULL;

	ns->cnt[NET_CNT_tx_linearized]++;
	if (RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 && rte_pktmbuf_linearize(m) == 0)
		return m;
	if (len <= UINT16_MAX)
		n = rte_pktmbuf_alloc(ns->pool);
	if (n != NULL)
		dst = rte_pktmbuf_append(n, (uint16_t)len);
	if (dst == NULL) {
		ns->cnt[NET_CNT_tx_drop_linearize_no_mbuf]++;
		rte_pktmbuf_free(n);
		rte_pktmbuf_free(m);
		return NULL;
	}
	src = rte_pktmbuf_read(m, 0, len, dst); /* copies unless the bytes are contiguous */
	if (src != dst)
		memcpy(dst, src, len);
	n->port = m->port;
	n->ol_flags = m->ol_flags;
	n->tx_offload = m->tx_offload;
	rte_pktmbuf_free(m);
	return n;
}

void net_timer(struct net_stack *ns)
{
	net_frag_timer(ns);
	if (ns->now < ns->next_arp_scan)
		return;
	ns->next_arp_scan = ns->now + net_ms_to_tsc(ns, NET_ARP_SCAN_MS);
	arp_timer(ns);
}
