/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: the Internet checksum over mbuf chains (see net_cksum.h).
 */
#include <errno.h>

#include <rte_mbuf.h>

#include "net.h"

int net_cksum_mbuf_add(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint64_t *sum)
{
	uint64_t acc = 0, part;
	uint32_t done = 0, n;

	if ((uint64_t)off + len > rte_pktmbuf_pkt_len(m))
		return -EINVAL;
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (done < len) {
		if (m == NULL)
			return -EINVAL; /* pkt_len disagrees with the chain */
		n = RTE_MIN((uint32_t)m->data_len - off, len - done);
		part = net_cksum_add(0, rte_pktmbuf_mtod_offset(m, const char *, off), n);
		/* A piece that starts at an odd offset of the message has its bytes in the other
		 * halves of the 16-bit words: rotating the unfolded sum by 8 bits swaps the bytes
		 * of its folded value (2^16 - 1 divides 2^64 - 1) and keeps every carry. */
		if (done & 1)
			part = (part << 8) | (part >> 56);
		acc = net_cksum_add64(acc, part);
		done += n;
		off = 0;
		m = m->next;
	}
	*sum = net_cksum_add64(*sum, acc);
	return 0;
}

int net_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *sum)
{
	uint64_t s = 0;
	int rc = net_cksum_mbuf_add(m, off, len, &s);

	if (rc == 0)
		*sum = net_cksum_fold(s);
	return rc;
}
