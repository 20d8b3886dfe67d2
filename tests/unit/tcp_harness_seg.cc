// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: packet-script harness: segment descriptions, matching, wire helpers.
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

const struct rte_ether_addr LOCAL_MAC = { { 0x02, 0, 0, 0, 0, 0x10 } };
const struct rte_ether_addr PEER_MAC = { { 0x02, 0, 0, 0, 0, 0x02 } };
const uint8_t PEER_HOSTS[4] = { 2, 3, 4, 5 };

uint32_t net_addr(uint8_t host)
{
	return rte_cpu_to_be_32((198u << 24) | (18u << 16) | host);
}

std::string addr_str(uint32_t be)
{
	uint32_t h = rte_be_to_cpu_32(be);
	char b[32];

	snprintf(b, sizeof(b), "%u.%u.%u.%u", h >> 24, (h >> 16) & 255, (h >> 8) & 255, h & 255);
	return b;
}

std::string pattern(size_t len, size_t off, char salt)
{
	std::string s(len, '\0');

	for (size_t i = 0; i < len; i++) {
		size_t k = off + i;
		s[i] = (char)('A' + (k * 7 + (k >> 8) * 13 + (size_t)salt) % 58);
	}
	return s;
}

const char *reason_name(enum tcp_close_reason r)
{
	switch (r) {
	case TCP_CLOSE_NORMAL:
		return "NORMAL";
	case TCP_CLOSE_RESET:
		return "RESET";
	case TCP_CLOSE_REFUSED:
		return "REFUSED";
	case TCP_CLOSE_TIMEOUT:
		return "TIMEOUT";
	case TCP_CLOSE_ABORTED:
		return "ABORTED";
	}
	return "?";
}

static std::string flag_str(uint8_t f)
{
	std::string s;

	if (f & F_SYN)
		s += 'S';
	if (f & F_FIN)
		s += 'F';
	if (f & F_RST)
		s += 'R';
	if (f & F_PSH)
		s += 'P';
	if (f & F_URG)
		s += 'U';
	if (f & F_ACK)
		s += '.';
	return s.empty() ? "none" : s;
}

static std::string short_data(const std::string &d)
{
	if (d.size() <= 16)
		return "\"" + d + "\"";
	return "\"" + d.substr(0, 12) + "...\"(" + std::to_string(d.size()) + ")";
}

std::string Pkt::describe() const
{
	std::ostringstream o;

	if (!valid)
		return "<nothing>";
	o << sport << ">" << dport << " [" << flag_str(flags) << "] seq=" << seq;
	if (flags & F_ACK)
		o << " ack=" << ack;
	o << " win=" << win << " len=" << data.size();
	if (mss)
		o << " mss=" << *mss;
	if (wscale)
		o << " ws=" << (int)*wscale;
	if (sackok)
		o << " sackok";
	if (has_ts)
		o << " ts=" << tsval << "/" << tsecr;
	for (auto &b : sack)
		o << " sack[" << b.left << "," << b.right << ")";
	o << " t=" << at_ms << "ms";
	return o.str();
}

// ---- Seg builder ----

Seg &Seg::from(uint8_t host, uint16_t port)
{
	saddr_ = net_addr(host);
	sport_ = port;
	return *this;
}
Seg &Seg::to(uint8_t host, uint16_t port)
{
	daddr_ = net_addr(host);
	dport_ = port;
	return *this;
}
Seg &Seg::sport(uint16_t p)
{
	sport_ = p;
	return *this;
}
Seg &Seg::dport(uint16_t p)
{
	dport_ = p;
	return *this;
}
Seg &Seg::src_addr(uint32_t be)
{
	saddr_ = be;
	return *this;
}
Seg &Seg::dst_addr(uint32_t be)
{
	daddr_ = be;
	return *this;
}
Seg &Seg::seq(uint32_t s)
{
	seq_ = s;
	return *this;
}
Seg &Seg::flags(uint8_t f)
{
	flags_ = f;
	flags_mask_ = F_CTL | (f & F_PSH);
	return *this;
}
static Seg &set_flag(Seg &s, uint8_t f)
{
	s.flags_ |= f;
	s.flags_mask_ |= F_CTL | (f & F_PSH);
	return s;
}
Seg &Seg::syn()
{
	return set_flag(*this, F_SYN);
}
Seg &Seg::fin()
{
	return set_flag(*this, F_FIN);
}
Seg &Seg::rst()
{
	return set_flag(*this, F_RST);
}
Seg &Seg::psh()
{
	return set_flag(*this, F_PSH);
}
Seg &Seg::urg()
{
	return set_flag(*this, F_URG);
}
Seg &Seg::ack()
{
	return set_flag(*this, F_ACK);
}
Seg &Seg::ack(uint32_t a)
{
	ack_ = a;
	return set_flag(*this, F_ACK);
}
Seg &Seg::win(uint16_t w)
{
	win_ = w;
	return *this;
}
Seg &Seg::mss(uint16_t v)
{
	mss_ = v;
	no_mss_ = false;
	return *this;
}
Seg &Seg::no_mss()
{
	mss_.reset();
	no_mss_ = true;
	return *this;
}
Seg &Seg::wscale(uint8_t v)
{
	wscale_ = v;
	no_wscale_ = false;
	return *this;
}
Seg &Seg::no_wscale()
{
	wscale_.reset();
	no_wscale_ = true;
	return *this;
}
Seg &Seg::sackok()
{
	sackok_ = true;
	return *this;
}
Seg &Seg::no_sackok()
{
	sackok_ = false;
	return *this;
}
Seg &Seg::ts(uint32_t val, uint32_t ecr)
{
	tsval_ = val;
	tsecr_ = ecr;
	no_ts_ = false;
	return *this;
}
Seg &Seg::tsval(uint32_t v)
{
	tsval_ = v;
	no_ts_ = false;
	return *this;
}
Seg &Seg::tsecr(uint32_t v)
{
	tsecr_ = v;
	no_ts_ = false;
	return *this;
}
Seg &Seg::no_ts()
{
	tsval_.reset();
	tsecr_.reset();
	no_ts_ = true;
	return *this;
}
Seg &Seg::sack(std::vector<SackBlock> blocks)
{
	sack_ = std::move(blocks);
	no_sack_ = false;
	return *this;
}
Seg &Seg::no_sack()
{
	sack_.reset();
	no_sack_ = true;
	return *this;
}
Seg &Seg::data(const std::string &d)
{
	data_ = d;
	len_ = (uint32_t)d.size();
	return *this;
}
Seg &Seg::len(uint32_t n)
{
	data_.reset();
	len_ = n;
	return *this;
}
Seg &Seg::bad_cksum()
{
	bad_cksum_ = true;
	return *this;
}
Seg &Seg::doff(uint8_t words)
{
	doff_ = words;
	return *this;
}
Seg &Seg::raw_opts(const std::string &bytes)
{
	raw_opts_ = bytes;
	return *this;
}
Seg &Seg::chain(unsigned n)
{
	chain_ = n ? n : 1;
	return *this;
}
Seg &Seg::truncate(uint32_t tcp_bytes)
{
	truncate_ = tcp_bytes;
	return *this;
}

std::string Seg::describe() const
{
	std::ostringstream o;

	o << (sport_ ? std::to_string(*sport_) : "*") << ">"
	  << (dport_ ? std::to_string(*dport_) : "*");
	o << " [" << (flags_mask_ ? flag_str(flags_) : "any") << "]";
	if (seq_)
		o << " seq=" << *seq_;
	if (ack_)
		o << " ack=" << *ack_;
	if (win_)
		o << " win=" << *win_;
	if (data_)
		o << " data=" << short_data(*data_);
	else if (len_)
		o << " len=" << *len_;
	if (mss_)
		o << " mss=" << *mss_;
	if (no_mss_)
		o << " !mss";
	if (wscale_)
		o << " ws=" << (int)*wscale_;
	if (no_wscale_)
		o << " !ws";
	if (sackok_)
		o << (*sackok_ ? " sackok" : " !sackok");
	if (tsval_ || tsecr_)
		o << " ts=" << (tsval_ ? std::to_string(*tsval_) : "*") << "/"
		  << (tsecr_ ? std::to_string(*tsecr_) : "*");
	if (no_ts_)
		o << " !ts";
	if (sack_) {
		o << " sack";
		for (auto &b : *sack_)
			o << "[" << b.left << "," << b.right << ")";
	}
	if (no_sack_)
		o << " !sack";
	return o.str();
}

::testing::AssertionResult bytes_eq(const std::string &got, const std::string &want)
{
	if (got == want)
		return ::testing::AssertionSuccess();
	size_t i = 0;
	while (i < got.size() && i < want.size() && got[i] == want[i])
		i++;
	return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want "
					     << want.size() << ", first difference at offset " << i;
}

std::string seg_mismatch(const Seg &w, const Pkt &g)
{
	std::ostringstream o;

	if (w.saddr_ && *w.saddr_ != g.saddr)
		o << " saddr " << addr_str(g.saddr);
	if (w.daddr_ && *w.daddr_ != g.daddr)
		o << " daddr " << addr_str(g.daddr);
	if (w.sport_ && *w.sport_ != g.sport)
		o << " sport";
	if (w.dport_ && *w.dport_ != g.dport)
		o << " dport";
	if ((g.flags & w.flags_mask_) != (w.flags_ & w.flags_mask_))
		o << " flags";
	if (w.seq_ && *w.seq_ != g.seq)
		o << " seq (off by " << (int32_t)(g.seq - *w.seq_) << ")";
	if (w.ack_ && *w.ack_ != g.ack)
		o << " ack (off by " << (int32_t)(g.ack - *w.ack_) << ")";
	if (w.win_ && *w.win_ != g.win)
		o << " win";
	if (w.data_ && *w.data_ != g.data) {
		size_t i = 0;
		while (i < w.data_->size() && i < g.data.size() && (*w.data_)[i] == g.data[i])
			i++;
		o << " data (differs at byte " << i << ")";
	} else if (w.len_ && *w.len_ != g.len()) {
		o << " len";
	}
	if (w.mss_ && g.mss != w.mss_)
		o << " mss";
	if (w.no_mss_ && g.mss)
		o << " mss present";
	if (w.wscale_ && g.wscale != w.wscale_)
		o << " wscale";
	if (w.no_wscale_ && g.wscale)
		o << " wscale present";
	if (w.sackok_ && *w.sackok_ != g.sackok)
		o << " sackok";
	if ((w.tsval_ || w.tsecr_) && !g.has_ts)
		o << " no timestamps";
	if (w.tsval_ && g.has_ts && *w.tsval_ != g.tsval)
		o << " tsval";
	if (w.tsecr_ && g.has_ts && *w.tsecr_ != g.tsecr)
		o << " tsecr";
	if (w.no_ts_ && g.has_ts)
		o << " timestamps present";
	if (w.sack_ && *w.sack_ != g.sack)
		o << " sack blocks";
	if (w.no_sack_ && !g.sack.empty())
		o << " sack blocks present";
	return o.str();
}

// ---- wire helpers ----

uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

// TCP checksum (host order value to store big-endian) over pseudo header + segment.
uint16_t tcp_cksum(uint32_t saddr_be, uint32_t daddr_be, const uint8_t *tcp, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, &saddr_be, 4);
	memcpy(ph + 4, &daddr_be, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return (uint16_t)~fold(sum16(tcp, len, sum16(ph, 12)));
}

uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void put16(std::string &s, uint16_t v)
{
	s += (char)(v >> 8);
	s += (char)v;
}
void put32(std::string &s, uint32_t v)
{
	put16(s, (uint16_t)(v >> 16));
	put16(s, (uint16_t)v);
}

} // namespace tcpt
