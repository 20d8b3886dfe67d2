/* SPDX-License-Identifier: BSD-3-Clause
 * mbuf chains of the HTTP sessions: dropping, detaching and appending bytes without
 * copying payload (only appended header text is copied).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_mbuf.h>

#include "px_impl.h"

/* Drop n bytes from the front of *chain. */
void px_chain_drop(struct rte_mbuf **chain, uint32_t n)
{
	struct rte_mbuf *m = *chain;

	while (m != NULL && n > 0 && n >= rte_pktmbuf_data_len(m)) {
		struct rte_mbuf *next = m->next;
		uint32_t pkt_len = rte_pktmbuf_pkt_len(m) - rte_pktmbuf_data_len(m);
		uint16_t nb_segs = m->nb_segs;

		n -= rte_pktmbuf_data_len(m);
		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		rte_pktmbuf_free_seg(m);
		if (next != NULL) {
			next->pkt_len = pkt_len;
			next->nb_segs = nb_segs - 1;
		}
		m = next;
	}
	if (m != NULL && n > 0) {
		m->data_off += n;
		m->data_len -= n;
		m->pkt_len -= n;
	}
	if (m != NULL && m->pkt_len == 0) {
		rte_pktmbuf_free(m);
		m = NULL;
	}
	*chain = m;
}

struct rte_mbuf *px_chain_take(struct rte_mempool *pool, struct rte_mbuf **chain, uint32_t n)
{
	struct rte_mbuf *head = *chain, *m = head, *last = NULL, *part = NULL;
	uint32_t taken = 0;
	uint16_t segs = 0;

	if (n == 0 || head == NULL)
		return NULL;
	if (n >= rte_pktmbuf_pkt_len(head)) {
		*chain = NULL;
		return head;
	}
	/* whole segments first */
	while (taken + rte_pktmbuf_data_len(m) <= n) {
		taken += rte_pktmbuf_data_len(m);
		segs++;
		last = m;
		m = m->next;
	}
	if (taken < n) {
		/* m straddles: an indirect mbuf carries its first n - taken bytes */
		uint16_t k = (uint16_t)(n - taken);
		struct rte_mbuf *next = m->next;
		uint16_t nb = m->nb_segs;
		uint32_t pl = m->pkt_len;

		part = rte_pktmbuf_alloc(pool);
		if (part == NULL)
			return NULL;
		m->next = NULL; /* attach looks at this segment only */
		rte_pktmbuf_attach(part, m);
		m->next = next;
		m->nb_segs = nb;
		m->pkt_len = pl;
		part->data_len = k;
		part->pkt_len = k;
		m->data_off += k;
		m->data_len -= k;
	}
	/* m (advanced) heads the rest */
	m->pkt_len = rte_pktmbuf_pkt_len(head) - n;
	m->nb_segs = head->nb_segs - segs;
	if (last != NULL) {
		last->next = part;
		head->pkt_len = n;
		head->nb_segs = segs + (part != NULL);
	} else {
		head = part;
	}
	*chain = m;
	return head;
}

/* Append len bytes of data to chain head, allocating segments as needed. */
int px_chain_append(struct rte_mempool *pool, struct rte_mbuf *head, const void *data, uint32_t len)
{
	struct rte_mbuf *tail = rte_pktmbuf_lastseg(head);
	const uint8_t *p = data;

	while (len > 0) {
		uint16_t room = rte_pktmbuf_tailroom(tail);
		uint16_t n;

		if (room == 0) {
			struct rte_mbuf *seg = rte_pktmbuf_alloc(pool);

			if (seg == NULL || rte_pktmbuf_chain(head, seg) != 0) {
				rte_pktmbuf_free(seg);
				return -ENOMEM;
			}
			tail = seg;
			continue;
		}
		n = (uint16_t)RTE_MIN((uint32_t)room, len);
		memcpy(rte_pktmbuf_mtod_offset(tail, void *, tail->data_len), p, n);
		tail->data_len += n;
		head->pkt_len += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* Copy *chain into as few full mbufs from pool as its bytes need when it holds more than
 * PX_COALESCE_SEGS segments (a peer sending many small segments). Returns 1 when it copied,
 * 0 when the chain was short enough, -ENOMEM when an mbuf was missing (the chain is kept as it
 * was; the caller counts the drop). */
int px_chain_coalesce(struct rte_mempool *pool, struct rte_mbuf **chain)
{
	struct rte_mbuf *head = NULL, *seg;
	uint32_t len, off = 0;
	const void *src;
	void *dst;

	if (*chain == NULL || (*chain)->nb_segs <= PX_COALESCE_SEGS)
		return 0;
	len = rte_pktmbuf_pkt_len(*chain);
	while (off < len) {
		uint32_t n;

		seg = rte_pktmbuf_alloc(pool);
		if (seg == NULL) {
			rte_pktmbuf_free(head);
			return -ENOMEM;
		}
		n = RTE_MIN((uint32_t)rte_pktmbuf_tailroom(seg), len - off);
		dst = rte_pktmbuf_append(seg, (uint16_t)n);
		/* rte_pktmbuf_read copies only a range that spans segments; one that lies in a
		 * single segment it returns in place */
		src = rte_pktmbuf_read(*chain, off, n, dst);
		if (src != dst)
			memcpy(dst, src, n);
		off += n;
		if (head == NULL) {
			head = seg;
		} else if (rte_pktmbuf_chain(head, seg) != 0) {
			rte_pktmbuf_free(seg);
			rte_pktmbuf_free(head);
			return -ENOMEM;
		}
	}
	rte_pktmbuf_free(*chain);
	*chain = head;
	return 1;
}
