// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: a segment with a small payload is one mbuf, the payload copied from the send
// queue behind the headers, and carries exactly the bytes the queue holds (from any offset of
// any of its mbufs, first sent or retransmitted); a larger one still references the queue. The
// TCP checksum of a segment in one mbuf (the fast path, without the chain walk) is the chain
// walk's, whatever the lengths and offsets.
#include "tcp_harness.h"

extern "C" {
#include "tcp_impl.h"
}

using namespace tcpt;

namespace
{

class TcpSegCopy : public TcpTest
{
};

constexpr uint32_t COPY_MAX = 512; // tcp_output.c's TCP_SEG_COPY_MAX

TEST_F(TcpSegCopy, SmallPayloadIsCopiedIntoOneMbuf)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	uint32_t seq = f->iss + 1;
	size_t off = 0;
	const uint32_t sizes[] = { 1, 2, 7, 8, 9, 63, 64, 65, 200, 511, 512 };
	for (uint32_t n : sizes) {
		for (unsigned nsegs : { 1u, 2u, 5u }) {
			if (nsegs > n)
				continue;
			std::string d = pattern(n, off, 'c');
			ASSERT_EQ(send(f->u, d, nsegs), 0);
			Pkt p = EXPECT_TX(f->out().seq(seq).data(d));
			EXPECT_EQ(p.nb_segs, 1u) << n << " bytes from " << nsegs << " mbufs";
			seq += n;
			off += n;
			inject(f->seg().seq(1001).ack(seq));
			EXPECT_NO_TX();
		}
	}
	EXPECT_EQ(cnt(TCP_CNT_bytes_out), off);
}

TEST_F(TcpSegCopy, LargerPayloadStillReferencesTheQueue)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	std::string d = pattern(COPY_MAX + 1, 0, 'r');
	struct rte_mbuf *m = make_mbuf(d, 1);
	ASSERT_NE(m, nullptr);
	const void *buf = m->buf_addr;
	ASSERT_EQ(send_mbuf(f->u, m), 0);
	Pkt p = EXPECT_TX(f->out().seq(f->iss + 1).data(d));
	EXPECT_GE(p.nb_segs, 2u);
	EXPECT_NE(std::find(p.buf_addrs.begin(), p.buf_addrs.end(), buf), p.buf_addrs.end())
		<< "a payload above the copy limit is chained from the queued mbuf";
}

TEST_F(TcpSegCopy, RetransmissionFromTheMiddleOfAnMbufCopiesTheSameBytes)
{
	Flow *f = accept_conn(peer_syn().no_ts().no_sackok());
	ASSERT_TRUE(f);
	// 300 bytes queued in 3 mbufs of 100, sent in one segment; the peer takes 150 of them
	const std::string d = pattern(300, 0, 'x');
	ASSERT_EQ(send(f->u, d, 3), 0);
	Pkt first = EXPECT_TX(f->out().seq(f->iss + 1).data(d));
	EXPECT_EQ(first.nb_segs, 1u);
	inject(f->seg().seq(1001).ack(f->iss + 1 + 150).no_ts());
	EXPECT_NO_TX();
	// the rest goes again on the RTO: from byte 50 of the second mbuf
	EXPECT_LE(wait_tx(5000), 5000u);
	Pkt again = EXPECT_TX(f->out().seq(f->iss + 1 + 150).data(d.substr(150)));
	EXPECT_EQ(again.nb_segs, 1u);
	EXPECT_EQ(cnt(TCP_CNT_retransmits), 1u);
	inject(f->seg().seq(1001).ack(f->iss + 1 + 300).no_ts());
	EXPECT_EQ(info(f->c()).snd_queued, 0u);
}

// The stack's checksum of the segment in `pkt` (IPv4 header first): in one mbuf when split is
// 0, else in two, the first holding split bytes.
uint16_t cksum_in(struct rte_mempool *pool, const std::string &pkt, size_t split)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(pool), *tail = nullptr;
	size_t k = split != 0 ? split : pkt.size();

	EXPECT_NE(head, nullptr);
	memcpy(rte_pktmbuf_append(head, (uint16_t)k), pkt.data(), k);
	if (split != 0) {
		tail = rte_pktmbuf_alloc(pool);
		EXPECT_NE(tail, nullptr);
		memcpy(rte_pktmbuf_append(tail, (uint16_t)(pkt.size() - k)), pkt.data() + k,
		       pkt.size() - k);
		EXPECT_EQ(rte_pktmbuf_chain(head, tail), 0);
	}
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(head, const struct rte_ipv4_hdr *);
	uint16_t s = tcp_cksum(head, ip, sizeof(*ip));
	rte_pktmbuf_free(head);
	return s;
}

TEST_F(TcpSegCopy, ChecksumOfOneMbufIsTheChainWalks)
{
	start();
	for (size_t tcp_len = 20; tcp_len <= 600; tcp_len += (tcp_len < 100 ? 1 : 37)) {
		std::string pkt(20 + tcp_len, '\0');
		for (size_t i = 0; i < pkt.size(); i++)
			pkt[i] = (char)(i * 131 + tcp_len * 7 + 0x5a);
		pkt[0] = 0x45;
		pkt[2] = (char)(pkt.size() >> 8);
		pkt[3] = (char)pkt.size();
		pkt[9] = IPPROTO_TCP;
		pkt[36] = pkt[37] = 0; // the TCP checksum field, to fill below
		uint16_t whole = cksum_in(pool, pkt, 0);
		// the chain walk: the first mbuf ends at the IPv4 header or inside the TCP
		// bytes, at odd and even offsets
		for (size_t split : { (size_t)20, (size_t)21, (size_t)34, pkt.size() - 1 }) {
			if (split >= pkt.size())
				continue;
			EXPECT_EQ(cksum_in(pool, pkt, split), whole)
				<< tcp_len << " TCP bytes, first mbuf " << split;
		}
		// stored in its field, it verifies (0) both ways
		pkt[36] = (char)(whole & 0xff);
		pkt[37] = (char)(whole >> 8);
		EXPECT_EQ(cksum_in(pool, pkt, 0), 0u) << tcp_len;
		EXPECT_EQ(cksum_in(pool, pkt, 21), 0u) << tcp_len;
	}
}

} // namespace
