// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: packet-script harness: parsing emitted frames, building injected ones.
#include "tcp_harness.h"

#include <cstdio>
#include <cstring>
#include <sstream>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_tcp.h>

namespace tcpt
{

// ---- emitted frames ----

void TcpTest::on_tx(struct rte_mbuf *m)
{
	const char *reason = nullptr;
	uint32_t plen = rte_pktmbuf_pkt_len(m);
	std::vector<uint8_t> b(plen);
	Pkt p;

	if (rte_mbuf_check(m, 1, &reason) != 0)
		ADD_FAILURE() << "emitted a bad mbuf chain: " << reason;
	if (plen && rte_pktmbuf_read(m, 0, plen, b.data()) != b.data())
		memcpy(b.data(), rte_pktmbuf_read(m, 0, plen, b.data()), plen);
	for (struct rte_mbuf *s = m; s != nullptr; s = s->next)
		p.buf_addrs.push_back(s->buf_addr);
	p.nb_segs = m->nb_segs;
	rte_pktmbuf_free(m);

	if (plen < 14) {
		ADD_FAILURE() << "emitted a runt frame of " << plen << " bytes";
		return;
	}
	uint16_t et = rd16(&b[12]);
	if (et == RTE_ETHER_TYPE_ARP) {
		arp_frames++;
		return;
	}
	if (et != RTE_ETHER_TYPE_IPV4) {
		ADD_FAILURE() << "emitted ethertype " << et;
		return;
	}
	if (memcmp(&b[0], PEER_MAC.addr_bytes, 6) != 0 || memcmp(&b[6], LOCAL_MAC.addr_bytes, 6))
		ADD_FAILURE() << "emitted frame with wrong MAC addresses";
	const uint8_t *ip = &b[14];
	if (plen < 14 + 20 || (ip[0] >> 4) != 4) {
		ADD_FAILURE() << "emitted a non-IPv4 or short IPv4 packet";
		return;
	}
	uint32_t ihl = (ip[0] & 15) * 4u, tot = rd16(ip + 2);
	if (ihl < 20 || tot != plen - 14 || ihl > tot) {
		ADD_FAILURE() << "emitted IPv4 with ihl " << ihl << " total length " << tot
			      << " in a frame of " << plen;
		return;
	}
	if (fold(sum16(ip, ihl)) != 0xffff)
		ADD_FAILURE() << "emitted IPv4 header with a bad checksum";
	if (rd16(ip + 6) & 0x3fff)
		ADD_FAILURE() << "emitted an IPv4 fragment";
	p.ttl = ip[8];
	if (p.ttl == 0)
		ADD_FAILURE() << "emitted TTL 0";
	if (ip[9] != IPPROTO_TCP) {
		ADD_FAILURE() << "emitted IP protocol " << (int)ip[9];
		return;
	}
	memcpy(&p.saddr, ip + 12, 4);
	memcpy(&p.daddr, ip + 16, 4);
	if (p.saddr != net_addr(LOCAL_HOST))
		ADD_FAILURE() << "emitted from " << addr_str(p.saddr);
	const uint8_t *th = ip + ihl;
	uint32_t tlen = tot - ihl;
	if (tlen < 20) {
		ADD_FAILURE() << "emitted a TCP segment of " << tlen << " bytes";
		return;
	}
	// a correct checksum makes the sum over pseudo header and segment fold to 0xffff
	if (tcp_cksum(p.saddr, p.daddr, th, tlen) != 0)
		ADD_FAILURE() << "emitted TCP segment with a bad checksum";
	p.sport = rd16(th);
	p.dport = rd16(th + 2);
	p.seq = rd32(th + 4);
	p.ack = rd32(th + 8);
	p.doff = th[12] >> 4;
	p.flags = th[13];
	p.win = rd16(th + 14);
	uint32_t hl = p.doff * 4u;
	if (hl < 20 || hl > tlen) {
		ADD_FAILURE() << "emitted TCP data offset " << (int)p.doff;
		return;
	}
	bool syn = p.flags & F_SYN;
	for (uint32_t i = 20; i < hl;) {
		uint8_t kind = th[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl || th[i + 1] < 2 || i + th[i + 1] > hl) {
			ADD_FAILURE() << "emitted malformed TCP options";
			break;
		}
		uint8_t ol = th[i + 1];
		const uint8_t *v = th + i + 2;
		bool ok = true;
		switch (kind) {
		case 2:
			ok = ol == 4 && syn;
			p.mss = rd16(v);
			break;
		case 3:
			ok = ol == 3 && syn;
			p.wscale = v[0];
			break;
		case 4:
			ok = ol == 2 && syn;
			p.sackok = true;
			break;
		case 5:
			ok = ol >= 10 && (ol - 2) % 8 == 0 && !syn;
			for (uint32_t k = 0; k + 8 <= (uint32_t)ol - 2; k += 8)
				p.sack.push_back({ rd32(v + k), rd32(v + k + 4) });
			break;
		case 8:
			ok = ol == 10;
			p.has_ts = true;
			p.tsval = rd32(v);
			p.tsecr = rd32(v + 4);
			break;
		default:
			ok = false;
		}
		if (!ok)
			ADD_FAILURE() << "emitted option kind " << (int)kind << " length "
				      << (int)ol << (syn ? " on a SYN" : " on a non-SYN");
		i += ol;
	}
	p.data.assign((const char *)th + hl, tlen - hl);
	p.at_ms = now_ms();
	p.valid = true;
	// RFC 9293 3.10.7: every segment but the initial SYN (and a RST answering a segment
	// without ACK... which carries ACK) has ACK set, except RST answering an ACK.
	if (!(p.flags & F_ACK) && !(p.flags & F_RST) && p.flags != F_SYN)
		ADD_FAILURE() << "emitted a segment without ACK: " << p.describe();
	if ((p.flags & F_RST) && !p.data.empty())
		ADD_FAILURE() << "emitted a RST carrying data";
	if ((p.flags & F_SYN) && (p.flags & (F_FIN | F_RST)))
		ADD_FAILURE() << "emitted SYN with FIN/RST";

	Flow &f = flow(p.sport, p.dport);
	if (p.has_ts) {
		if (syn)
			f.stack_ts = true;
		else if (f.last_tsval != 0 && seq_lt(p.tsval, f.last_tsval))
			ADD_FAILURE()
				<< "TSval went backwards: " << p.tsval << " after " << f.last_tsval;
		f.last_tsval = p.tsval;
	}
	tx.push_back(p);
}

// ---- injected frames ----

const struct rte_mbuf *TcpTest::inject(const Seg &s)
{
	start();
	uint32_t saddr = s.saddr_.value_or(net_addr(PEER_HOST));
	uint32_t daddr = s.daddr_.value_or(net_addr(LOCAL_HOST));
	uint16_t sport = s.sport_.value_or(RPORT), dport = s.dport_.value_or(LPORT);
	Flow &f = flow(dport, sport);
	bool syn = s.flags_ & F_SYN;

	// timestamps: explicit, or automatic once both sides' SYNs carried them (not on RST)
	bool use_ts = false;
	uint32_t tsval = 0, tsecr = 0;
	if (s.tsval_ || s.tsecr_) {
		use_ts = true;
		tsval = s.tsval_.value_or((uint32_t)(f.peer_ts_base + (int64_t)now_ms()));
		tsecr = s.tsecr_.value_or(f.last_tsval);
	} else if (!s.no_ts_ && f.ts_on() && !syn && !(s.flags_ & F_RST)) {
		use_ts = true;
		tsval = (uint32_t)(f.peer_ts_base + (int64_t)now_ms());
		tsecr = f.last_tsval;
	}
	if (syn && use_ts) {
		f.peer_ts = true;
		f.peer_ts_base = (int64_t)tsval - (int64_t)now_ms();
	} else if (s.tsval_ &&
		   (int32_t)(tsval - (uint32_t)(f.peer_ts_base + (int64_t)now_ms())) > 0) {
		// an explicit newer TSval moves the peer's clock forward (never back)
		f.peer_ts_base += (int32_t)(tsval - (uint32_t)(f.peer_ts_base + (int64_t)now_ms()));
	}

	std::string opt;
	if (s.mss_) {
		opt += (char)2;
		opt += (char)4;
		put16(opt, *s.mss_);
	}
	bool sackok = s.sackok_.value_or(false);
	if (sackok && use_ts) {
		opt += std::string("\x04\x02\x08\x0a", 4);
	} else if (sackok) {
		opt += std::string("\x01\x01\x04\x02", 4);
	} else if (use_ts) {
		opt += std::string("\x01\x01\x08\x0a", 4);
	}
	if (use_ts) {
		put32(opt, tsval);
		put32(opt, tsecr);
	}
	if (s.wscale_) {
		opt += std::string("\x01\x03\x03", 3);
		opt += (char)*s.wscale_;
	}
	if (s.sack_ && !s.sack_->empty()) {
		opt += std::string("\x01\x01\x05", 3);
		opt += (char)(2 + 8 * s.sack_->size());
		for (auto &b : *s.sack_) {
			put32(opt, b.left);
			put32(opt, b.right);
		}
	}
	opt += s.raw_opts_;
	while (opt.size() % 4)
		opt += (char)0;

	std::string payload = s.data_ ? *s.data_ : pattern(s.len_.value_or(0));
	std::string tcp;
	put16(tcp, sport);
	put16(tcp, dport);
	put32(tcp, s.seq_.value_or(0));
	put32(tcp, s.ack_.value_or(0));
	uint8_t doff = s.doff_.value_or((uint8_t)((20 + opt.size()) / 4));
	tcp += (char)(doff << 4);
	tcp += (char)s.flags_;
	put16(tcp, s.win_.value_or(65535));
	put16(tcp, 0); // checksum
	put16(tcp, 0); // urgent pointer
	tcp += opt;
	tcp += payload;
	if (s.truncate_ && *s.truncate_ < tcp.size())
		tcp.resize(*s.truncate_);
	if (tcp.size() >= 18) {
		uint16_t ck = tcp_cksum(saddr, daddr, (const uint8_t *)tcp.data(), tcp.size());
		if (s.bad_cksum_)
			ck ^= 0x5a5a;
		tcp[16] = (char)(ck >> 8);
		tcp[17] = (char)ck;
	}

	std::string ip;
	ip += (char)0x45;
	ip += (char)0;
	put16(ip, (uint16_t)(20 + tcp.size()));
	put16(ip, 0x1234);
	put16(ip, 0x4000); // DF
	ip += (char)64;
	ip += (char)IPPROTO_TCP;
	put16(ip, 0);
	ip.append((const char *)&saddr, 4);
	ip.append((const char *)&daddr, 4);
	uint16_t ick = (uint16_t)~fold(sum16((const uint8_t *)ip.data(), 20));
	ip[10] = (char)(ick >> 8);
	ip[11] = (char)ick;

	std::string eth((const char *)LOCAL_MAC.addr_bytes, 6);
	eth.append((const char *)PEER_MAC.addr_bytes, 6);
	put16(eth, RTE_ETHER_TYPE_IPV4);

	// headers in the first mbuf; the payload split over chain_ mbufs (more if they are full)
	size_t hlen = 14 + 20 + std::min<size_t>(tcp.size(), 20 + opt.size());
	std::string frame = eth + ip + tcp;
	struct rte_mbuf *head = rte_pktmbuf_alloc(pool), *last = head;
	if (head == nullptr) {
		ADD_FAILURE() << "inject: mbuf pool empty";
		return nullptr;
	}
	memcpy(rte_pktmbuf_append(head, (uint16_t)hlen), frame.data(), hlen);
	size_t rest = frame.size() - hlen, n = s.chain_;
	size_t per = n > 1 ? (rest + n - 1) / n : rest;
	for (size_t off = hlen; off < frame.size();) {
		size_t piece = std::min(per, frame.size() - off);
		bool fresh = n > 1; // each piece in mbufs of its own
		while (piece > 0) {
			if (fresh || rte_pktmbuf_tailroom(last) == 0) {
				struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
				if (m == nullptr) {
					ADD_FAILURE() << "inject: mbuf pool empty";
					rte_pktmbuf_free(head);
					return nullptr;
				}
				last->next = m;
				head->nb_segs++;
				last = m;
				fresh = false;
			}
			size_t k = std::min(piece, (size_t)rte_pktmbuf_tailroom(last));
			memcpy(rte_pktmbuf_mtod_offset(last, char *, last->data_len),
			       frame.data() + off, k);
			last->data_len = (uint16_t)(last->data_len + k);
			head->pkt_len += (uint32_t)k;
			off += k;
			piece -= k;
		}
	}
	rte_pktmbuf_adj(head, 14); // the IP layer hands TCP the packet at its IPv4 header
	{
		// harness self-check: the chain holds exactly the packet built above
		const char *why = nullptr;
		std::string back(head->pkt_len, '\0');
		const void *p = rte_pktmbuf_read(head, 0, head->pkt_len, &back[0]);
		if (p != nullptr && p != back.data())
			memcpy(&back[0], p, head->pkt_len);
		if (rte_mbuf_check(head, 1, &why) != 0 || back != frame.substr(14))
			ADD_FAILURE() << "harness bug: injected chain does not hold the packet";
	}
	head->port = 0;
	last_inject_buf = head->buf_addr;
	tcp_input(&ts, head);
	return head;
}

} // namespace tcpt
