/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: IPv4 reassembly (RFC 791, RFC 1122 3.3.2: a host MUST reassemble) and
 * fragmentation of what we send above the MTU.
 *
 * Reassembly is DPDK's rte_ip_frag: one table per worker, created at start with a fixed
 * number of datagrams in progress and a timeout. Debian's DPDK 22.11 is built with
 * RTE_LIBRTE_IP_FRAG_MAX_FRAG = 8, so a datagram of more than 8 fragments is dropped. Around
 * the library we add what it lacks for hostile input:
 * - a memory budget: the table may hold at most max_mbufs mbufs (counted as segments, since
 *   a 28-byte fragment pins a whole buffer); a fragment over it is dropped, not the oldest.
 * - checks it does not make: a fragment that is not the last carries a multiple of 8 bytes,
 *   and no fragment reaches past the 65535 bytes of an IPv4 datagram.
 * - a named counter per drop. The library drops into a "death row" without saying why; we
 *   look at what it put there after each call (each entry is one fragment of ours, its IPv4
 *   header intact) and tell the reasons apart by what only that reason produces: the new
 *   fragment alone means no free entry (table full); fragments of the same datagram with
 *   more middle fragments than the table has slots for means too many; any other set of
 *   the same datagram is an overlap, a duplicate or a hole; fragments of other datagrams
 *   are ones that timed out (their entry was reclaimed).
 * The death row is freed once per loop (net_timer), or at once when nearly full.
 *
 * A duplicate of a fragment that arrives before its datagram is complete makes the library
 * discard the whole datagram (frag_drop_bad); one that arrives after it waits in a new
 * entry until the timeout (frag_drop_timeout). The sender's retransmission recovers.
 */
#define ALLOW_EXPERIMENTAL_API /* rte_ip_frag_table_del_expired_entries */

#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "net.h"
#include "net_priv.h"

#define FRAG_BUCKET_ENTRIES 8 /* associativity of the library's table (a power of two) */
/* Each new fragment adds at most a reclaimed stale datagram and a whole bad one. */
#define FRAG_DR_SLACK (2 * (RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1))
/* The library keeps the first and the last fragment apart: this many middle ones fit. */
#define FRAG_MAX_MIDDLE (RTE_LIBRTE_IP_FRAG_MAX_FRAG - 2)

int net_frag_init(struct net_stack *ns, const struct net_frag_conf *conf, int socket_id)
{
	struct net_frag *f = &ns->frag;
	uint32_t buckets;

	if (conf->max_datagrams == 0 || conf->max_mbufs == 0 || conf->timeout_ms == 0)
		return -EINVAL;
	/* Twice the slots the limit needs, so that a full bucket is rare before the limit. */
	buckets = RTE_MAX(1u, 2 * conf->max_datagrams / FRAG_BUCKET_ENTRIES);
	f->timeout_tsc = net_ms_to_tsc(ns, conf->timeout_ms);
	f->dr = rte_zmalloc_socket("net_frag_dr", sizeof(*f->dr), RTE_CACHE_LINE_SIZE, socket_id);
	if (f->dr == NULL)
		return -ENOMEM;
	f->tbl = rte_ip_frag_table_create(buckets, FRAG_BUCKET_ENTRIES, conf->max_datagrams,
					  f->timeout_tsc, socket_id);
	if (f->tbl == NULL) {
		rte_free(f->dr);
		f->dr = NULL;
		return -ENOMEM;
	}
	f->max_datagrams = conf->max_datagrams;
	f->max_mbufs = conf->max_mbufs;
	f->mbufs = 0;
	f->mbufs_hwm = 0;
	return 0;
}

struct frag_key {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
};

static inline void frag_key_of(const struct rte_ipv4_hdr *ip, struct frag_key *k)
{
	k->src = ip->src_addr;
	k->dst = ip->dst_addr;
	k->id = ip->packet_id;
	k->proto = ip->next_proto_id;
}

static inline bool frag_key_eq(const struct rte_ipv4_hdr *ip, const struct frag_key *k)
{
	return ip->src_addr == k->src && ip->dst_addr == k->dst && ip->packet_id == k->id &&
	       ip->next_proto_id == k->proto;
}

static void frag_unhold(struct net_frag *f, uint32_t segs)
{
	f->mbufs = segs > f->mbufs ? 0 : f->mbufs - segs;
}

/* Count the death-row entries from index from on, dropped while adding m (m == NULL: by
 * expiry), by reason; release them from the budget. */
static void frag_classify(struct net_stack *ns, uint32_t from, const struct rte_mbuf *m,
			  const struct frag_key *k)
{
	struct net_frag *f = &ns->frag;
	uint32_t same = 0, middle = 0, other = 0;
	bool m_dropped = false;

	for (uint32_t i = from; i < f->dr->cnt; i++) {
		const struct rte_mbuf *d = f->dr->row[i];
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(d, const struct rte_ipv4_hdr *);
		uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);

		frag_unhold(f, d->nb_segs);
		if (d == m)
			m_dropped = true;
		if (m == NULL || !frag_key_eq(ip, k)) {
			other++;
			continue;
		}
		same++;
		if ((fo & RTE_IPV4_HDR_MF_FLAG) && (fo & RTE_IPV4_HDR_OFFSET_MASK))
			middle++;
	}
	ns->cnt[NET_CNT_frag_drop_timeout] += other;
	if (!m_dropped) {
		/* m is held, or the datagram completed; its own earlier fragments counted
		 * above as "same" can only be an expired entry the library reused for it. */
		ns->cnt[NET_CNT_frag_drop_timeout] += same;
	} else if (same == 1) {
		ns->cnt[NET_CNT_frag_drop_table_full]++;
	} else if (middle > FRAG_MAX_MIDDLE) {
		ns->cnt[NET_CNT_frag_drop_too_many] += same;
	} else {
		ns->cnt[NET_CNT_frag_drop_bad] += same;
	}
}

static void frag_free_death_row(struct net_frag *f)
{
	if (f->dr->cnt != 0)
		rte_ip_frag_free_death_row(f->dr, 3);
}

/* The reassembled datagram as the rest of the stack expects a received one: a correct
 * header checksum, no receive offload verdict of the first fragment's, and in one buffer
 * when it fits there (the common case of a small datagram cut into tiny pieces, which
 * would otherwise pin several buffers for as long as TCP holds it). */
static void frag_finish(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	m->ol_flags &= ~(RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_RX_IP_CKSUM_MASK);
	if (m->nb_segs > 1 && rte_pktmbuf_pkt_len(m) <= rte_pktmbuf_tailroom(m) + m->data_len)
		rte_pktmbuf_linearize(m); /* cannot fail: it fits */
}

void net_frag_input(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex)
{
	struct net_frag *f = &ns->frag;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint16_t hlen = rte_ipv4_hdr_len(ip);
	uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
	uint32_t off = (uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * RTE_IPV4_HDR_OFFSET_UNITS;
	uint32_t len = rte_pktmbuf_pkt_len(m) - hlen; /* ip4_input trimmed m to total_length */
	uint16_t segs = m->nb_segs;
	struct frag_key k;
	struct rte_mbuf *done;
	uint32_t from;

	ns->cnt[NET_CNT_frag_rx]++;
	if (f->tbl == NULL) {
		net_drop(ns, m, NET_CNT_ip_drop_fragment);
		return;
	}
	/* Every fragment but the last carries a multiple of 8 bytes (RFC 791), none reaches
	 * past 65535 bytes, and an empty one means nothing. */
	if (len == 0 || ((fo & RTE_IPV4_HDR_MF_FLAG) && (len & 7) != 0) ||
	    off + len + hlen > UINT16_MAX) {
		net_drop(ns, m, NET_CNT_frag_drop_bad);
		return;
	}
	if (f->mbufs + segs > f->max_mbufs) {
		net_drop(ns, m, NET_CNT_frag_drop_budget);
		return;
	}
	if (f->dr->cnt > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN - FRAG_DR_SLACK)
		frag_free_death_row(f);

	frag_key_of(ip, &k);
	m->l2_len = 0; /* data starts at the IPv4 header */
	m->l3_len = hlen;
	f->mbufs += segs;
	if (f->mbufs > f->mbufs_hwm)
		f->mbufs_hwm = f->mbufs;
	from = f->dr->cnt;
	done = rte_ipv4_frag_reassemble_packet(f->tbl, f->dr, m, ns->now, ip);
	frag_classify(ns, from, m, &k);
	if (done == NULL)
		return;
	frag_unhold(f, done->nb_segs);
	ns->cnt[NET_CNT_frag_reassembled]++;
	frag_finish(done);
	ip = rte_pktmbuf_mtod(done, struct rte_ipv4_hdr *);
	ip4_local_deliver(ns, done, ifindex, rte_ipv4_hdr_len(ip));
}

void net_frag_timer(struct net_stack *ns)
{
	struct net_frag *f = &ns->frag;
	uint32_t from;

	if (f->tbl == NULL)
		return;
	frag_free_death_row(f);
	if (f->mbufs == 0)
		return;
	from = f->dr->cnt;
	rte_ip_frag_table_del_expired_entries(f->tbl, f->dr, ns->now);
	frag_classify(ns, from, NULL, NULL);
	frag_free_death_row(f);
}

void net_frag_fini(struct net_stack *ns)
{
	struct net_frag *f = &ns->frag;

	if (f->tbl == NULL)
		return;
	/* Everything is older than the end of time; the death row takes a few at a time. */
	for (int i = 0; f->mbufs != 0 && i < 1000000; i++) {
		uint32_t from = f->dr->cnt;

		rte_ip_frag_table_del_expired_entries(f->tbl, f->dr, UINT64_MAX / 2);
		if (f->dr->cnt == from)
			break;
		frag_classify(ns, from, NULL, NULL);
		frag_free_death_row(f);
	}
	frag_free_death_row(f);
	rte_ip_frag_table_destroy(f->tbl);
	rte_free(f->dr);
	f->tbl = NULL;
	f->dr = NULL;
}

/* ---- output ---- */

int ip4_frag_output(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex, uint32_t nexthop)
{
	const struct net_if *ifp = &ns->ifs[ifindex];
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint32_t hlen = rte_ipv4_hdr_len(ip);
	uint32_t total = rte_pktmbuf_pkt_len(m) - hlen;
	/* Payload per fragment: what the MTU leaves after a header without options, in whole
	 * 8-byte units. Our own packets carry no options; the first fragment keeps any. */
	uint32_t step = (uint32_t)(ifp->mtu - sizeof(*ip)) & ~7u;
	struct rte_ipv4_hdr hdr = *ip;
	uint32_t off = 0, n = 0;
	int rc = 0;

	if (hlen != sizeof(*ip) || step == 0 || ifp->mtu <= sizeof(*ip) ||
	    (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != 0) {
		/* Options, a tiny MTU or an offloaded L4 checksum: this stack builds none of
		 * them, so this is counted with the datagrams DF keeps whole. */
		net_drop(ns, m, NET_CNT_ip_drop_df_too_big);
		return -EMSGSIZE;
	}
	hdr.version_ihl = RTE_IPV4_VHL_DEF;
	while (off < total) {
		uint32_t len = RTE_MIN(step, total - off);
		struct rte_mbuf *fr = rte_pktmbuf_alloc(ns->pool);
		struct rte_ether_hdr *eth;
		struct rte_ipv4_hdr *fip;
		uint16_t fo = (uint16_t)(off / RTE_IPV4_HDR_OFFSET_UNITS);
		const void *src;
		char *p;

		if (fr == NULL || rte_pktmbuf_tailroom(fr) < sizeof(*eth) + sizeof(*ip) + len) {
			rte_pktmbuf_free(fr);
			ns->cnt[NET_CNT_tx_drop_no_mbuf]++;
			rc = -ENOBUFS;
			break;
		}
		p = rte_pktmbuf_append(fr, (uint16_t)(sizeof(*eth) + sizeof(*ip) + len));
		eth = (struct rte_ether_hdr *)p;
		fip = (struct rte_ipv4_hdr *)(eth + 1);
		*fip = hdr;
		if (off + len < total)
			fo |= RTE_IPV4_HDR_MF_FLAG;
		fip->fragment_offset = rte_cpu_to_be_16(fo);
		fip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + len));
		fip->hdr_checksum = 0;
		fip->hdr_checksum = rte_ipv4_cksum(fip);
		/* Cannot fail: off + len is within the packet. It copies when the bytes span
		 * segments, else points into m. */
		src = rte_pktmbuf_read(m, hlen + off, len, fip + 1);
		if (src != fip + 1)
			memcpy(fip + 1, src, len);
		rte_ether_addr_copy(&ifp->mac, &eth->src_addr);
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		fr->l2_len = sizeof(*eth);
		fr->port = ifp->port_id;
		n++;
		off += len;
		if (arp_output(ns, fr, ifindex, nexthop, NULL) != 0) {
			rc = -ENOBUFS; /* counted there; the rest would not help the receiver */
			break;
		}
	}
	ns->cnt[NET_CNT_frag_tx_fragments] += n;
	if (rc == 0)
		ns->cnt[NET_CNT_frag_tx_datagrams]++;
	rte_pktmbuf_free(m);
	return rc;
}
