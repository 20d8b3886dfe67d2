/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: ARP (RFC 826) for IPv4 over Ethernet.
 *
 * The cache is an open-addressed table with linear probing and backward-shift deletion, so
 * lookups stop at the first free slot and need no tombstones. Packets waiting for a
 * resolution sit, in arrival order, in one bounded array shared by all next hops.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "net.h"
#include "net_priv.h"

#define ARP_MASK (ARP_TABLE_SIZE - 1)
#define ARP_TABLE_BITS __builtin_ctz(ARP_TABLE_SIZE)
#define ARP_FRAME_LEN (sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr))

_Static_assert((ARP_TABLE_SIZE & ARP_MASK) == 0, "ARP_TABLE_SIZE must be a power of two");
_Static_assert(ARP_TABLE_SIZE <= 256, "a slot hint (struct net_nh) is 8 bits");

static uint32_t arp_home(uint32_t ip)
{
	/* Fibonacci hashing: the top bits of the product depend on every bit of the address,
	 * and neighbours of one subnet (consecutive host numbers) land far apart. */
	uint32_t h = rte_be_to_cpu_32(ip) * 2654435769u;

	return h >> (32 - ARP_TABLE_BITS);
}

static struct arp_entry *arp_lookup(struct net_stack *ns, uint32_t ip)
{
	uint32_t i, n;

	for (n = 0, i = arp_home(ip); n < ARP_TABLE_SIZE; n++, i = (i + 1) & ARP_MASK) {
		if (ns->arp[i].ip == ip)
			return &ns->arp[i];
		if (ns->arp[i].ip == 0)
			return NULL;
	}
	return NULL;
}

/* Claim a free slot for ip, which must not be in the table; NULL when the table is full. */
static struct arp_entry *arp_insert(struct net_stack *ns, uint32_t ip, uint16_t ifindex)
{
	uint32_t i, n;

	for (n = 0, i = arp_home(ip); n < ARP_TABLE_SIZE; n++, i = (i + 1) & ARP_MASK) {
		struct arp_entry *e = &ns->arp[i];

		if (e->ip != 0)
			continue;
		memset(e, 0, sizeof(*e));
		e->ip = ip;
		e->ifindex = ifindex;
		return e;
	}
	ns->cnt[NET_CNT_arp_drop_table_full]++;
	return NULL;
}

/* Free slot i and pull back the entries of its probe run so that lookups stay correct. */
static void arp_remove(struct net_stack *ns, uint32_t i)
{
	uint32_t j, k;

	for (;;) {
		memset(&ns->arp[i], 0, sizeof(ns->arp[i]));
		for (j = (i + 1) & ARP_MASK;; j = (j + 1) & ARP_MASK) {
			if (ns->arp[j].ip == 0)
				return;
			k = arp_home(ns->arp[j].ip);
			/* The entry at j stays when its home lies cyclically in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		ns->arp[i] = ns->arp[j];
		i = j;
	}
}

/* Build and send a who-has for tip on ifindex: broadcast, or unicast to dst when refreshing a
 * known neighbour (RFC 1122 2.3.2.1). */
static void arp_send_request(struct net_stack *ns, uint16_t ifindex, uint32_t tip,
			     const struct rte_ether_addr *dst)
{
	const struct net_if *ifp = &ns->ifs[ifindex];
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *ah;
	struct rte_mbuf *m;

	m = rte_pktmbuf_alloc(ns->pool);
	if (m == NULL) {
		ns->cnt[NET_CNT_tx_drop_no_mbuf]++;
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, ARP_FRAME_LEN);
	if (eth == NULL) {
		net_drop(ns, m, NET_CNT_tx_drop_no_mbuf);
		return;
	}
	if (dst != NULL)
		rte_ether_addr_copy(dst, &eth->dst_addr);
	else
		memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	rte_ether_addr_copy(&ifp->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);

	ah = (struct rte_arp_hdr *)(eth + 1);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = sizeof(uint32_t);
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&ifp->mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = ifp->addr;
	memset(&ah->arp_data.arp_tha, 0, sizeof(ah->arp_data.arp_tha));
	ah->arp_data.arp_tip = tip;

	m->port = ifp->port_id;
	ns->cnt[NET_CNT_arp_requests_sent]++;
	net_tx(ns, ifindex, m);
}

/* Take the pending packets for ip out of the queue, keeping the others in order. Works on a
 * copy so that a tx hook re-entering ip4_output cannot disturb the walk. */
static uint16_t arp_pending_take(struct net_stack *ns, uint32_t ip, struct arp_pending *out)
{
	uint16_t i, kept = 0, n = 0;

	for (i = 0; i < ns->n_pending; i++) {
		if (ns->pending[i].nexthop == ip)
			out[n++] = ns->pending[i];
		else
			ns->pending[kept++] = ns->pending[i];
	}
	ns->n_pending = kept;
	return n;
}

static void arp_pending_flush(struct net_stack *ns, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct arp_pending out[ARP_PENDING_MAX];
	uint16_t i, n;

	n = arp_pending_take(ns, ip, out);
	for (i = 0; i < n; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(out[i].m, struct rte_ether_hdr *);

		rte_ether_addr_copy(mac, &eth->dst_addr);
		net_tx(ns, out[i].ifindex, out[i].m);
	}
}

static void arp_pending_drop(struct net_stack *ns, uint32_t ip)
{
	struct arp_pending out[ARP_PENDING_MAX];
	uint16_t i, n;

	n = arp_pending_take(ns, ip, out);
	for (i = 0; i < n; i++)
		net_drop(ns, out[i].m, NET_CNT_arp_drop_unresolved);
}

/* Record ip -> mac. An existing entry is always updated (RFC 826's merge); a new one is made
 * only when create is set. from_wire: learnt from a received frame, so tell the dataplane. */
static void arp_update(struct net_stack *ns, uint32_t ip, const struct rte_ether_addr *mac,
		       uint16_t ifindex, bool create, bool from_wire)
{
	struct arp_entry *e;
	bool changed, was_incomplete;

	e = arp_lookup(ns, ip);
	if (e == NULL) {
		if (!create)
			return;
		e = arp_insert(ns, ip, ifindex);
		if (e == NULL)
			return;
	}
	changed = e->state != ARP_REACHABLE || !rte_is_same_ether_addr(&e->mac, mac);
	was_incomplete = e->state == ARP_INCOMPLETE;

	rte_ether_addr_copy(mac, &e->mac);
	e->state = ARP_REACHABLE;
	e->ifindex = ifindex;
	e->retries = 0;
	e->confirmed = ns->now;

	if (was_incomplete)
		arp_pending_flush(ns, ip, mac);
	if (changed && from_wire) {
		ns->cnt[NET_CNT_arp_entries_learnt]++;
		if (ns->hooks.arp_learnt != NULL)
			ns->hooks.arp_learnt(ns, ip, mac, ifindex);
	}
}

/* Interface on the receiving port that owns tip, or -1. */
static int arp_local_if(const struct net_stack *ns, uint16_t rx_ifindex, uint32_t tip)
{
	uint16_t port = ns->ifs[rx_ifindex].port_id;
	uint16_t i;

	for (i = 0; i < ns->n_ifs; i++)
		if (ns->ifs[i].addr == tip && ns->ifs[i].port_id == port)
			return i;
	return -1;
}

static bool arp_bad_sender(const struct net_stack *ns, uint16_t ifindex, uint32_t sip)
{
	const struct net_if *ifp = &ns->ifs[ifindex];

	/* Someone claiming one of our addresses is a conflict, not a neighbour to learn. */
	return net_ip_is_martian(sip) || net_if_by_addr(ns, sip) >= 0 ||
	       (ifp->mask != 0 && sip == (ifp->addr | ~ifp->mask));
}

/* Turn the request in m into our reply in place: no allocation on the answer path. */
static void arp_reply(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex)
{
	const struct net_if *ifp = &ns->ifs[ifindex];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *d = &ah->arp_data;

	rte_ether_addr_copy(&d->arp_sha, &eth->dst_addr);
	rte_ether_addr_copy(&ifp->mac, &eth->src_addr);
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&d->arp_sha, &d->arp_tha);
	d->arp_tip = d->arp_sip; /* 0 for an RFC 5227 probe, as Linux answers it */
	rte_ether_addr_copy(&ifp->mac, &d->arp_sha);
	d->arp_sip = ifp->addr;

	/* Drop Ethernet padding and any further segment: the reply is exactly 42 bytes. */
	if (m->next != NULL) {
		rte_pktmbuf_free(m->next);
		m->next = NULL;
		m->nb_segs = 1;
	}
	m->data_len = ARP_FRAME_LEN;
	m->pkt_len = ARP_FRAME_LEN;
	net_mbuf_reset_flags(m);

	ns->cnt[NET_CNT_arp_requests_answered]++;
	net_tx(ns, ifindex, m);
}

void arp_input(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex)
{
	const struct rte_arp_hdr *ah;
	const struct rte_arp_ipv4 *d;
	enum net_counter why;
	uint32_t sip, tip;
	uint16_t op;
	int local;

	ns->cnt[NET_CNT_arp_rx]++;
	if (rte_pktmbuf_data_len(m) < ARP_FRAME_LEN) {
		why = NET_CNT_arp_drop_short;
		goto drop;
	}
	ah = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	d = &ah->arp_data;
	if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != sizeof(uint32_t)) {
		why = NET_CNT_arp_drop_bad_format;
		goto drop;
	}
	op = rte_be_to_cpu_16(ah->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) {
		why = NET_CNT_arp_drop_bad_op;
		goto drop;
	}
	sip = d->arp_sip;
	tip = d->arp_tip;
	if (!rte_is_valid_assigned_ether_addr(&d->arp_sha)) {
		why = NET_CNT_arp_drop_bad_sender;
		goto drop;
	}
	local = arp_local_if(ns, ifindex, tip);

	/* RFC 5227 probe: the sender has no address yet. Answer if it is ours, learn nothing. */
	if (sip == 0 && op == RTE_ARP_OP_REQUEST) {
		if (local < 0) {
			why = NET_CNT_arp_drop_not_for_us;
			goto drop;
		}
		arp_reply(ns, m, local);
		return;
	}
	if (arp_bad_sender(ns, ifindex, sip)) {
		why = NET_CNT_arp_drop_bad_sender;
		goto drop;
	}

	/* RFC 826: update the sender if known (gratuitous ARP lands here), add it if we are the
	 * target. */
	arp_update(ns, sip, &d->arp_sha, ifindex, local >= 0, true);

	if (local < 0) {
		if (sip == tip) {
			/* Gratuitous ARP: consumed by the update above. */
			rte_pktmbuf_free(m);
			return;
		}
		why = NET_CNT_arp_drop_not_for_us;
		goto drop;
	}
	if (op == RTE_ARP_OP_REPLY) {
		rte_pktmbuf_free(m);
		return;
	}
	arp_reply(ns, m, local);
	return;
drop:
	net_drop(ns, m, why);
}

/* arp_lookup, first at the caller's slot: an address has one entry at most, so the entry
 * found there is the one the probe would find. */
static struct arp_entry *arp_lookup_hint(struct net_stack *ns, uint32_t ip, uint8_t *slot)
{
	struct arp_entry *e = &ns->arp[*slot];

	if (e->ip == ip)
		return e;
	e = arp_lookup(ns, ip);
	if (e != NULL)
		*slot = (uint8_t)(e - ns->arp);
	return e;
}

int arp_output(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex, uint32_t nexthop,
	       uint8_t *slot)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct arp_entry *e;
	uint64_t age;

	e = slot != NULL ? arp_lookup_hint(ns, nexthop, slot) : arp_lookup(ns, nexthop);
	if (e != NULL && e->state == ARP_REACHABLE) {
		age = ns->now - e->confirmed;
		if (age < ARP_EXPIRE_S * ns->hz) {
			/* Stale: keep using it, but ask again (at most once per retry period). */
			if (age >= ARP_REACHABLE_S * ns->hz &&
			    ns->now - e->probed >= net_ms_to_tsc(ns, ARP_RETRY_MS)) {
				e->probed = ns->now;
				arp_send_request(ns, ifindex, nexthop, &e->mac);
			}
			rte_ether_addr_copy(&e->mac, &eth->dst_addr);
			net_tx(ns, ifindex, m);
			return 0;
		}
		/* Expired before the timer saw it: resolve from scratch. */
		ns->cnt[NET_CNT_arp_entries_expired]++;
		e->state = ARP_INCOMPLETE;
		e->retries = 0;
		e->ifindex = ifindex;
	}
	if (e == NULL) {
		e = arp_insert(ns, nexthop, ifindex);
		if (e == NULL) {
			/* arp_drop_table_full counted by arp_insert */
			rte_pktmbuf_free(m);
			return -ENOSPC;
		}
		e->state = ARP_INCOMPLETE;
	}
	if (e->retries == 0) {
		e->retries = 1;
		e->probed = ns->now;
		arp_send_request(ns, e->ifindex, nexthop, NULL);
	}
	if (ns->n_pending >= ARP_PENDING_MAX) {
		net_drop(ns, m, NET_CNT_arp_drop_queue_full);
		return -ENOBUFS;
	}
	ns->pending[ns->n_pending].m = m;
	ns->pending[ns->n_pending].nexthop = nexthop;
	ns->pending[ns->n_pending].ifindex = ifindex;
	ns->n_pending++;
	return 0;
}

void arp_timer(struct net_stack *ns)
{
	uint64_t retry = net_ms_to_tsc(ns, ARP_RETRY_MS);
	uint64_t expire = ARP_EXPIRE_S * ns->hz;
	uint32_t i = 0, ip;

	/* After a removal, slot i holds an entry pulled back from later in its run: look at i
	 * again. An entry pulled across the end of the table may be seen twice, which is harmless
	 * because each action below makes the entry not due any more. */
	while (i < ARP_TABLE_SIZE) {
		struct arp_entry *e = &ns->arp[i];

		if (e->ip == 0) {
			i++;
			continue;
		}
		if (e->state == ARP_INCOMPLETE) {
			if (ns->now - e->probed < retry) {
				i++;
				continue;
			}
			/* The first request plus ARP_RETRIES retries, then give up. */
			if (e->retries <= ARP_RETRIES) {
				e->retries++;
				e->probed = ns->now;
				arp_send_request(ns, e->ifindex, e->ip, NULL);
				i++;
				continue;
			}
			ip = e->ip;
			arp_remove(ns, i);
			arp_pending_drop(ns, ip);
			continue;
		}
		if (ns->now - e->confirmed >= expire) {
			ns->cnt[NET_CNT_arp_entries_expired]++;
			arp_remove(ns, i);
			continue;
		}
		i++;
	}
}

void arp_learn(struct net_stack *ns, uint32_t ip, const struct rte_ether_addr *mac,
	       uint16_t ifindex)
{
	if (ip == 0 || ifindex >= ns->n_ifs || !rte_is_valid_assigned_ether_addr(mac))
		return;
	arp_update(ns, ip, mac, ifindex, true, false);
}
