// SPDX-License-Identifier: BSD-3-Clause
// Smoke tests of the TCP stack against hand-built segments: passive and active open, data both
// ways, out-of-order reassembly with SACK, retransmission, close, SYN cookies. Each test ends
// by checking that every TCB and every mbuf went back to its pool. The exhaustive packet-script
// scenarios live in tcp_test (tcp_harness.cc); these only prove the basics.
#define ALLOW_EXPERIMENTAL_API 1 // rte_ipv4_udptcp_cksum_verify

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

extern "C" {
#include "net.h"
#include "tcp.h"
}

namespace
{

constexpr uint64_t HZ = 1000000; // fake TSC: 1 tick = 1 us
const uint32_t LOCAL = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 1));
const uint32_t PEER = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 2));
constexpr uint16_t PORT = 80, PEER_PORT = 40000;

uint32_t be32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return rte_be_to_cpu_32(v);
}

struct Out {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	std::string data;
	bool mss = false, ts = false, sackok = false, ws = false;
	uint32_t tsval = 0, tsecr = 0;
	std::vector<std::pair<uint32_t, uint32_t>> sack;
};

struct Events {
	std::vector<std::string> log;
	std::string data;
	struct tcp_conn *conn = nullptr;
	bool refuse = false;
	enum tcp_close_reason reason = TCP_CLOSE_NORMAL;
};

void *ev_accept(struct tcp_conn *c, void *u)
{
	auto *e = static_cast<Events *>(u);
	e->log.push_back("accept");
	e->conn = c;
	return e->refuse ? nullptr : e;
}
void ev_connected(struct tcp_conn *c)
{
	static_cast<Events *>(tcp_conn_user(c))->log.push_back("connected");
}
void ev_data(struct tcp_conn *c, struct rte_mbuf *m)
{
	auto *e = static_cast<Events *>(tcp_conn_user(c));
	uint32_t n = m->pkt_len;
	for (struct rte_mbuf *s = m; s != nullptr; s = s->next)
		e->data.append(rte_pktmbuf_mtod(s, const char *), s->data_len);
	e->log.push_back("data");
	rte_pktmbuf_free(m);
	tcp_recved(c, n);
}
void ev_writable(struct tcp_conn *c)
{
	static_cast<Events *>(tcp_conn_user(c))->log.push_back("writable");
}
void ev_peer_fin(struct tcp_conn *c)
{
	static_cast<Events *>(tcp_conn_user(c))->log.push_back("peer_fin");
}
void ev_closed(struct tcp_conn *c, enum tcp_close_reason r)
{
	auto *e = static_cast<Events *>(tcp_conn_user(c));
	e->log.push_back("closed");
	e->reason = r;
	e->conn = nullptr;
}

const struct tcp_ops OPS = {
	ev_accept, ev_connected, ev_data, ev_writable, ev_peer_fin, ev_closed,
};

class TcpSmoke : public ::testing::Test
{
      protected:
	static std::vector<struct rte_mbuf *> *sent_;
	struct rte_mempool *pool = nullptr;
	struct net_stack ns;
	struct tcp_stack *ts = nullptr;
	struct tcp_conf conf;
	std::vector<struct rte_mbuf *> sent;
	Events ev;
	uint16_t local_port = PORT; // destination of injected segments

	static void tx(struct net_stack *, uint16_t, struct rte_mbuf *m)
	{
		sent_->push_back(m);
	}

	void SetUp() override
	{
		static int n;
		std::string name = "smoke" + std::to_string(n++);
		pool = rte_pktmbuf_pool_create(name.c_str(), 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					       0);
		ASSERT_NE(pool, nullptr);
		sent_ = &sent;
		struct net_hooks hooks = {};
		hooks.tx = tx;
		net_stack_init(&ns, pool, &hooks, HZ);
		ns.now = 5 * HZ;
		struct net_if ifc = {};
		ifc.mtu = 1500;
		ifc.addr = LOCAL;
		ifc.mask = rte_cpu_to_be_32(0xffffff00);
		ifc.mac = { { 2, 0, 0, 0, 0, 1 } };
		ASSERT_EQ(net_stack_add_if(&ns, &ifc), 0);
		struct rte_ether_addr pmac = { { 2, 0, 0, 0, 0, 2 } };
		arp_learn(&ns, PEER, &pmac, 0);
		memset(&conf, 0, sizeof(conf));
		conf.max_connections = 8;
		conf.time_wait_ms = 100;
		ts = new struct tcp_stack;
	}

	void init()
	{
		struct tcp_secret s = { 1, 2 };
		ASSERT_EQ(tcp_stack_init(ts, &ns, &conf, &s), 0);
	}

	void TearDown() override
	{
		flush();
		tcp_stack_fini(ts);
		delete ts;
		net_stack_fini(&ns);
		rte_mempool_free(pool);
	}

	void flush()
	{
		for (auto *m : sent)
			rte_pktmbuf_free(m);
		sent.clear();
	}

	// Run the clock forward ms milliseconds, 1 ms at a time.
	void advance(uint32_t ms)
	{
		for (uint32_t i = 0; i < ms; i++) {
			ns.now += HZ / 1000;
			tcp_timers(ts);
		}
	}

	// Check the pools are back to empty (after a flush).
	void expect_clean()
	{
		flush();
		EXPECT_EQ(ts->conns_used, 0u);
		EXPECT_EQ(ts->ooo_mbufs, 0u);
		EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
	}

	// Inject a segment from the peer.
	void in(uint32_t seq, uint32_t ack, uint8_t flags, const std::string &data = "",
		uint16_t win = 65535, bool syn_opts = false, int tsval = -1, uint32_t tsecr = 0,
		uint16_t sport = PEER_PORT)
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		ASSERT_NE(m, nullptr);
		uint8_t opt[40];
		unsigned ol = 0;
		if (syn_opts) {
			uint8_t o[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2 };
			memcpy(opt, o, sizeof(o));
			ol = sizeof(o);
		}
		if (tsval >= 0) {
			uint8_t o[] = { 1, 1, 8, 10 };
			memcpy(opt + ol, o, 4);
			uint32_t v = rte_cpu_to_be_32((uint32_t)tsval), e = rte_cpu_to_be_32(tsecr);
			memcpy(opt + ol + 4, &v, 4);
			memcpy(opt + ol + 8, &e, 4);
			ol += 12;
		}
		unsigned thl = 20 + ol;
		auto *ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(
			m, (uint16_t)(20 + thl + data.size()));
		memset(ip, 0, 20 + thl);
		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + thl + data.size()));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = PEER;
		ip->dst_addr = LOCAL;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		auto *th = (struct rte_tcp_hdr *)(ip + 1);
		th->src_port = rte_cpu_to_be_16(sport);
		th->dst_port = rte_cpu_to_be_16(local_port);
		th->sent_seq = rte_cpu_to_be_32(seq);
		th->recv_ack = rte_cpu_to_be_32(ack);
		th->data_off = (uint8_t)((thl / 4) << 4);
		th->tcp_flags = flags;
		th->rx_win = rte_cpu_to_be_16(win);
		memcpy(th + 1, opt, ol);
		memcpy((char *)th + thl, data.data(), data.size());
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
		tcp_input(ts, m);
	}

	// Parse the frames sent so far and forget them.
	std::vector<Out> out()
	{
		std::vector<Out> v;
		for (auto *m : sent) {
			std::vector<uint8_t> b(m->pkt_len);
			const uint8_t *p =
				(const uint8_t *)rte_pktmbuf_read(m, 0, m->pkt_len, b.data());
			auto *ip = (const struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
			auto *th = (const struct rte_tcp_hdr *)(ip + 1);
			EXPECT_EQ(rte_ipv4_cksum(ip), 0) << "IPv4 checksum";
			EXPECT_EQ(rte_ipv4_udptcp_cksum_verify(ip, th), 0) << "TCP checksum";
			Out o;
			o.seq = rte_be_to_cpu_32(th->sent_seq);
			o.ack = rte_be_to_cpu_32(th->recv_ack);
			o.flags = th->tcp_flags;
			o.win = rte_be_to_cpu_16(th->rx_win);
			unsigned thl = (th->data_off >> 4) * 4;
			unsigned len = rte_be_to_cpu_16(ip->total_length) - 20 - thl;
			o.data.assign((const char *)th + thl, len);
			const uint8_t *q = (const uint8_t *)(th + 1);
			for (unsigned i = 0; i < thl - 20;) {
				if (q[i] == 0)
					break;
				if (q[i] == 1) {
					i++;
					continue;
				}
				if (q[i] == 2)
					o.mss = true;
				if (q[i] == 3)
					o.ws = true;
				if (q[i] == 4)
					o.sackok = true;
				if (q[i] == 8) {
					o.ts = true;
					o.tsval = be32(q + i + 2);
					o.tsecr = be32(q + i + 6);
				}
				for (unsigned k = 0; q[i] == 5 && k < (q[i + 1] - 2u) / 8; k++)
					o.sack.emplace_back(be32(q + i + 2 + 8 * k),
							    be32(q + i + 6 + 8 * k));
				i += q[i + 1];
			}
			v.push_back(o);
		}
		flush();
		return v;
	}

	uint64_t cnt(enum tcp_counter c)
	{
		return ts->cnt[c];
	}

	// Passive handshake (with MSS, window scale 7, SACK and timestamps when opts); returns
	// our ISN + 1.
	uint32_t handshake(uint32_t peer_isn, bool opts = false)
	{
		EXPECT_EQ(tcp_listen(ts, 0, PORT, &OPS, &ev), 0);
		in(peer_isn, 0, RTE_TCP_SYN_FLAG, "", 65535, opts, opts ? 1 : -1, 0);
		auto o = out();
		EXPECT_EQ(o.size(), 1u);
		if (o.empty())
			return 0;
		EXPECT_EQ(o[0].flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
		EXPECT_EQ(o[0].ack, peer_isn + 1);
		in(peer_isn + 1, o[0].seq + 1, RTE_TCP_ACK_FLAG, "", opts ? 512 : 65535, false,
		   opts ? 2 : -1, o[0].tsval);
		EXPECT_EQ(ev.log, std::vector<std::string>{ "accept" });
		EXPECT_EQ(out().size(), 0u);
		return o[0].seq + 1;
	}
};

std::vector<struct rte_mbuf *> *TcpSmoke::sent_;

// A chain holding s, 1000 bytes per mbuf (so that segments straddle mbufs).
struct rte_mbuf *mk(struct rte_mempool *pool, const std::string &s)
{
	struct rte_mbuf *head = nullptr;
	for (size_t off = 0; off < s.size(); off += 1000) {
		size_t n = std::min<size_t>(1000, s.size() - off);
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), s.data() + off, n);
		if (head == nullptr)
			head = m;
		else
			rte_pktmbuf_chain(head, m);
	}
	return head;
}

TEST_F(TcpSmoke, PassiveOpenDataAndClose)
{
	init();
	EXPECT_EQ(tcp_listen(ts, 0, PORT, &OPS, &ev), 0);
	in(1000, 0, RTE_TCP_SYN_FLAG, "", 65535, true, 77, 0);
	auto o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	EXPECT_EQ(o[0].ack, 1001u);
	EXPECT_TRUE(o[0].mss && o[0].ws && o[0].sackok && o[0].ts);
	EXPECT_EQ(o[0].tsecr, 77u);
	uint32_t iss = o[0].seq;
	EXPECT_EQ(ts->syn_rcvd, 1u);

	in(1001, iss + 1, RTE_TCP_ACK_FLAG, "", 512, false, 78, o[0].tsval);
	ASSERT_EQ(ev.log.size(), 1u);
	EXPECT_EQ(ev.log[0], "accept");
	ASSERT_NE(ev.conn, nullptr);
	EXPECT_EQ(tcp_conn_state(ev.conn), TCP_ESTABLISHED);
	EXPECT_EQ(ts->syn_rcvd, 0u);
	struct tcp_conn_info info;
	tcp_conn_info(ev.conn, &info);
	EXPECT_EQ(info.snd_wnd, 512u << 7);
	EXPECT_EQ(info.mss, 1460u);
	EXPECT_TRUE(info.ts_ok);

	// data in: delivered, ACK delayed
	in(1001, iss + 1, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, "hello", 512, false, 79, 0);
	EXPECT_EQ(ev.data, "hello");
	EXPECT_EQ(out().size(), 0u);
	advance(41);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].ack, 1006u);
	EXPECT_EQ(o[0].tsecr, 79u);
	EXPECT_EQ(cnt(TCP_CNT_delayed_acks), 1u);

	// data out
	ASSERT_EQ(tcp_send(ev.conn, mk(pool, "world")), 0);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].data, "world");
	EXPECT_EQ(o[0].seq, iss + 1);
	EXPECT_TRUE(o[0].flags & RTE_TCP_PSH_FLAG);
	in(1006, iss + 6, RTE_TCP_ACK_FLAG, "", 512, false, 80, 0);
	EXPECT_EQ(out().size(), 0u);

	// peer closes, we close
	in(1006, iss + 6, RTE_TCP_ACK_FLAG | RTE_TCP_FIN_FLAG, "", 512, false, 81, 0);
	EXPECT_EQ(ev.log.back(), "peer_fin");
	EXPECT_EQ(tcp_conn_state(ev.conn), TCP_CLOSE_WAIT);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].ack, 1007u);
	struct tcp_conn *c = ev.conn;
	tcp_close(c);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].flags, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	EXPECT_EQ(o[0].seq, iss + 6);
	EXPECT_EQ(tcp_conn_state(c), TCP_LAST_ACK);
	in(1007, iss + 7, RTE_TCP_ACK_FLAG, "", 512, false, 82, 0);
	EXPECT_EQ(ts->conns_used, 0u);
	EXPECT_EQ(cnt(TCP_CNT_conns_closed), 1u);
	EXPECT_EQ(ev.log.back(), "peer_fin"); // closed by the user: no on_closed
	expect_clean();
}

TEST_F(TcpSmoke, ActiveOpenAndReset)
{
	init();
	struct tcp_conn *c = tcp_connect(ts, 0, 5555, PEER, PORT, &OPS, &ev);
	ASSERT_NE(c, nullptr);
	auto o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].flags, RTE_TCP_SYN_FLAG);
	EXPECT_TRUE(o[0].mss && o[0].ws && o[0].sackok && o[0].ts);
	// SYN retransmitted after the initial RTO
	advance(1001);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].flags, RTE_TCP_SYN_FLAG);
	EXPECT_EQ(cnt(TCP_CNT_syn_retransmits), 1u);
	uint32_t iss = o[0].seq;

	// SYN-ACK without options: no scaling, no timestamps, MSS 536
	local_port = 5555;
	in(7000, iss + 1, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, "", 1000, false, -1, 0, PORT);
	EXPECT_EQ(tcp_conn_state(c), TCP_ESTABLISHED);
	EXPECT_EQ(ev.log, std::vector<std::string>{ "connected" });
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].flags, RTE_TCP_ACK_FLAG);
	EXPECT_EQ(o[0].ack, 7001u);
	EXPECT_FALSE(o[0].ts);
	struct tcp_conn_info info;
	tcp_conn_info(c, &info);
	EXPECT_EQ(info.mss, 536u);
	EXPECT_EQ(info.snd_wnd, 1000u);

	// 2000 bytes into a window of 1000: one full segment; the 464 bytes left would be a
	// small segment while data is in flight (sender SWS avoidance)
	std::string big(2000, 'z');
	ASSERT_EQ(tcp_send(c, mk(pool, big)), 0);
	o = out();
	ASSERT_EQ(o.size(), 1u) << "536 fits, the 464 left would be a small segment";
	EXPECT_EQ(o[0].data.size(), 536u);
	in(7001, iss + 1 + 536, RTE_TCP_ACK_FLAG, "", 4000, false, -1, 0, PORT);
	o = out();
	ASSERT_EQ(o.size(), 3u);
	EXPECT_EQ(o[2].seq + o[2].data.size(), iss + 1 + 2000);

	// a RST out of sequence is challenged, an exact one resets
	in(7500, 0, RTE_TCP_RST_FLAG, "", 0, false, -1, 0, PORT);
	EXPECT_EQ(cnt(TCP_CNT_challenge_acks), 1u);
	EXPECT_EQ(tcp_conn_state(c), TCP_ESTABLISHED);
	in(7001, 0, RTE_TCP_RST_FLAG, "", 0, false, -1, 0, PORT);
	EXPECT_EQ(ev.log.back(), "closed");
	EXPECT_EQ(ev.reason, TCP_CLOSE_RESET);
	EXPECT_EQ(cnt(TCP_CNT_conns_reset), 1u);
	expect_clean();
}

TEST_F(TcpSmoke, OutOfOrderSackAndRetransmit)
{
	init();
	uint32_t iss = handshake(5000, true);
	ASSERT_NE(ev.conn, nullptr);
	// segments 2 and 3 before 1
	in(5001 + 100, iss, RTE_TCP_ACK_FLAG, std::string(100, 'b'));
	auto o = out();
	ASSERT_EQ(o.size(), 1u) << "out of order: immediate duplicate ACK";
	EXPECT_EQ(o[0].ack, 5001u);
	ASSERT_EQ(o[0].sack.size(), 1u);
	EXPECT_EQ(o[0].sack[0], std::make_pair(5101u, 5201u));
	in(5001 + 300, iss, RTE_TCP_ACK_FLAG, std::string(100, 'd'));
	o = out();
	ASSERT_EQ(o.size(), 1u);
	ASSERT_EQ(o[0].sack.size(), 2u);
	EXPECT_EQ(o[0].sack[0], std::make_pair(5301u, 5401u)) << "most recent block first";
	EXPECT_EQ(o[0].sack[1], std::make_pair(5101u, 5201u));
	in(5001 + 200, iss, RTE_TCP_ACK_FLAG, std::string(100, 'c'));
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].ack, 5001u);
	ASSERT_EQ(o[0].sack.size(), 1u);
	EXPECT_EQ(o[0].sack[0], std::make_pair(5101u, 5401u)) << "blocks merged";
	EXPECT_EQ(cnt(TCP_CNT_ooo_segments), 3u);
	EXPECT_EQ(ev.data, "");
	in(5001, iss, RTE_TCP_ACK_FLAG, std::string(100, 'a'));
	EXPECT_EQ(ev.data, std::string(100, 'a') + std::string(100, 'b') + std::string(100, 'c') +
				   std::string(100, 'd'));
	o = out();
	ASSERT_EQ(o.size(), 1u) << "gap fill is acknowledged at once";
	EXPECT_EQ(o[0].ack, 5401u);
	EXPECT_TRUE(o[0].sack.empty());
	EXPECT_EQ(ts->ooo_mbufs, 0u);

	// our data lost: RTO retransmits, then the ACK stops it
	ASSERT_EQ(tcp_send(ev.conn, mk(pool, "xyz")), 0);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	// the handshake's timestamps gave an RTT sample of ~0: RTO is rto_min (200 ms)
	advance(199);
	EXPECT_EQ(out().size(), 0u);
	advance(2);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].data, "xyz");
	EXPECT_EQ(cnt(TCP_CNT_retransmits), 1u);
	EXPECT_EQ(cnt(TCP_CNT_rto_expiries), 1u);
	in(5401, iss + 3, RTE_TCP_ACK_FLAG);
	advance(5000);
	EXPECT_EQ(out().size(), 0u);
	tcp_abort(ev.conn);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_TRUE(o[0].flags & RTE_TCP_RST_FLAG);
	expect_clean();
}

TEST_F(TcpSmoke, SynCookieWhenBacklogFull)
{
	conf.syn_backlog = 1;
	init();
	EXPECT_EQ(tcp_listen(ts, 0, PORT, &OPS, &ev), 0);
	in(100, 0, RTE_TCP_SYN_FLAG, "", 65535, true, 10, 0, 1111);
	in(200, 0, RTE_TCP_SYN_FLAG, "", 65535, true, 20, 0, 2222);
	auto o = out();
	ASSERT_EQ(o.size(), 2u);
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_sent), 1u);
	EXPECT_EQ(ts->conns_used, 1u);
	// the cookie's ACK creates the connection, with data on it
	in(201, o[1].seq + 1, RTE_TCP_ACK_FLAG, "GET", 100, false, 21, o[1].tsval, 2222);
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_accepted), 1u);
	EXPECT_EQ(ev.data, "GET");
	ASSERT_NE(ev.conn, nullptr);
	struct tcp_conn_info info;
	tcp_conn_info(ev.conn, &info);
	EXPECT_EQ(info.snd_wscale, 7);
	EXPECT_TRUE(info.sack_ok);
	EXPECT_EQ(info.snd_wnd, 100u << 7);
	// a forged cookie gets a RST
	in(301, 12345, RTE_TCP_ACK_FLAG, "", 100, false, -1, 0, 3333);
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_rejected), 1u);
	EXPECT_EQ(cnt(TCP_CNT_rsts_sent), 1u);
	flush();
	tcp_abort(ev.conn);
	advance(64 * 1000); // SYN_RCVD gives up after 5 retries: 1+2+4+8+16+32 s
	EXPECT_EQ(cnt(TCP_CNT_syn_retransmits), 5u);
	expect_clean();
}

TEST_F(TcpSmoke, FastRetransmitNewReno)
{
	init();
	uint32_t iss = handshake(100); // no options: MSS 536, no SACK, no timestamps
	struct tcp_conn *c = ev.conn;
	ASSERT_NE(c, nullptr);
	ASSERT_EQ(tcp_send(c, mk(pool, std::string(5 * 536, 'q'))), 0);
	auto o = out();
	ASSERT_EQ(o.size(), 5u);
	// segment 2 lost; 3, 4, 5 bring duplicate ACKs
	in(101, iss + 536, RTE_TCP_ACK_FLAG);
	EXPECT_EQ(out().size(), 0u);
	in(101, iss + 536, RTE_TCP_ACK_FLAG);
	in(101, iss + 536, RTE_TCP_ACK_FLAG);
	EXPECT_EQ(out().size(), 0u);
	in(101, iss + 536, RTE_TCP_ACK_FLAG);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].seq, iss + 536);
	EXPECT_EQ(o[0].data.size(), 536u);
	EXPECT_EQ(cnt(TCP_CNT_fast_retransmits), 1u);
	struct tcp_conn_info info;
	tcp_conn_info(c, &info);
	EXPECT_EQ(info.ssthresh, 2u * 536);	  // max(flight/2 = 1072, 2 * MSS)
	EXPECT_EQ(info.cwnd, 2u * 536 + 3 * 536); // ssthresh + 3 * MSS
	// partial ACK (segment 3 lost too): retransmit it at once
	in(101, iss + 2 * 536, RTE_TCP_ACK_FLAG);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].seq, iss + 2 * 536);
	// full ACK ends recovery with cwnd = min(ssthresh, flight + MSS)
	in(101, iss + 5 * 536, RTE_TCP_ACK_FLAG);
	tcp_conn_info(c, &info);
	EXPECT_EQ(info.cwnd, 2u * 536);
	EXPECT_EQ(cnt(TCP_CNT_retransmits), 2u);
	tcp_abort(c);
	expect_clean();
}

TEST_F(TcpSmoke, ZeroWindowPersist)
{
	init();
	uint32_t iss = handshake(100);
	struct tcp_conn *c = ev.conn;
	in(101, iss, RTE_TCP_ACK_FLAG, "", 0); // window shut
	ASSERT_EQ(tcp_send(c, mk(pool, "abc")), 0);
	EXPECT_EQ(out().size(), 0u);
	advance(200); // RTO from the handshake sample: rto_min
	auto o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].seq, iss - 1) << "probe with an old sequence number";
	EXPECT_EQ(o[0].data.size(), 0u);
	EXPECT_EQ(cnt(TCP_CNT_zero_window_probes), 1u);
	in(101, iss, RTE_TCP_ACK_FLAG, "", 1000); // opens
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].data, "abc");
	tcp_abort(c);
	expect_clean();
}

TEST_F(TcpSmoke, SimultaneousCloseAndTimeWait)
{
	init();
	uint32_t iss = handshake(100);
	struct tcp_conn *c = ev.conn;
	ASSERT_EQ(tcp_shutdown(c), 0);
	auto o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].flags, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	EXPECT_EQ(tcp_conn_state(c), TCP_FIN_WAIT_1);
	// the peer's FIN crosses ours
	in(101, iss, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	EXPECT_EQ(tcp_conn_state(c), TCP_CLOSING);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].ack, 102u);
	in(102, iss + 1, RTE_TCP_ACK_FLAG);
	EXPECT_EQ(tcp_conn_state(c), TCP_TIME_WAIT);
	EXPECT_EQ(ev.log.back(), "closed");
	EXPECT_EQ(ev.reason, TCP_CLOSE_NORMAL);
	// a retransmitted FIN is acknowledged again
	in(101, iss + 1, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].ack, 102u);
	EXPECT_EQ(ts->time_wait, 1u);
	advance(101);
	EXPECT_EQ(ts->time_wait, 0u);
	expect_clean();
}

TEST_F(TcpSmoke, TimeWaitReclaimedWhenPoolEmpty)
{
	conf.max_connections = 1;
	conf.time_wait_ms = 60000;
	init();
	uint32_t iss = handshake(100);
	struct tcp_conn *c = ev.conn;
	in(101, iss, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	tcp_close(c);
	in(102, iss + 1, RTE_TCP_ACK_FLAG);
	EXPECT_EQ(ts->conns_used, 0u) << "LAST_ACK acknowledged: freed";
	flush();
	// now a connection we close first ends in TIME_WAIT
	in(900, 0, RTE_TCP_SYN_FLAG, "", 65535, false, -1, 0, 4000);
	auto o = out();
	ASSERT_EQ(o.size(), 1u);
	uint32_t iss2 = o[0].seq + 1;
	in(901, iss2, RTE_TCP_ACK_FLAG, "", 65535, false, -1, 0, 4000);
	c = ev.conn;
	tcp_close(c);
	in(901, iss2 + 1, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, "", 65535, false, -1, 0, 4000);
	EXPECT_EQ(ts->time_wait, 1u);
	flush();
	in(5000, 0, RTE_TCP_SYN_FLAG, "", 65535, false, -1, 0, 4001);
	EXPECT_EQ(cnt(TCP_CNT_time_wait_reclaimed), 1u);
	EXPECT_EQ(ts->syn_rcvd, 1u);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	EXPECT_EQ(cnt(TCP_CNT_syn_cookies_sent), 0u);
	advance(64000); // the half-open connection gives up
	expect_clean();
}

TEST_F(TcpSmoke, KeepaliveTimesOut)
{
	conf.keepalive_idle_ms = 1000;
	conf.keepalive_intvl_ms = 100;
	conf.keepalive_probes = 2;
	init();
	uint32_t iss = handshake(100);
	advance(999);
	EXPECT_EQ(out().size(), 0u);
	advance(1);
	auto o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].seq, iss - 1);
	in(101, iss, RTE_TCP_ACK_FLAG); // answered: idle again
	advance(999);
	EXPECT_EQ(out().size(), 0u);
	advance(1 + 100 + 100);
	o = out();
	ASSERT_EQ(o.size(), 3u); // two probes, then RST
	EXPECT_TRUE(o[2].flags & RTE_TCP_RST_FLAG);
	EXPECT_EQ(ev.log.back(), "closed");
	EXPECT_EQ(ev.reason, TCP_CLOSE_TIMEOUT);
	EXPECT_EQ(cnt(TCP_CNT_keepalive_probes), 3u);
	expect_clean();
}

TEST_F(TcpSmoke, PawsAndDataAfterClose)
{
	conf.fin_wait_2_ms = 500;
	init();
	uint32_t iss = handshake(100, true);
	struct tcp_conn *c = ev.conn;
	in(101, iss, RTE_TCP_ACK_FLAG, "new", 512, false, 100, 0);
	EXPECT_EQ(ev.data, "new");
	in(104, iss, RTE_TCP_ACK_FLAG, "old", 512, false, 50, 0);
	EXPECT_EQ(ev.data, "new");
	EXPECT_EQ(cnt(TCP_CNT_drop_paws), 1u);
	flush();
	tcp_close(c);
	auto o = out();
	ASSERT_EQ(o.size(), 1u);
	in(104, iss + 1, RTE_TCP_ACK_FLAG, "", 512, false, 101, 0);
	EXPECT_EQ(tcp_conn_state(c), TCP_FIN_WAIT_2);
	// data nobody will read: RST, and the connection is gone (tcp.h, tcp_close)
	in(104, iss + 1, RTE_TCP_ACK_FLAG, "more", 512, false, 102, 0);
	EXPECT_EQ(ev.data, "new");
	EXPECT_EQ(cnt(TCP_CNT_drop_after_close), 1u);
	o = out();
	ASSERT_EQ(o.size(), 1u);
	EXPECT_TRUE(o[0].flags & RTE_TCP_RST_FLAG);
	EXPECT_EQ(o[0].seq, iss + 1);
	expect_clean();
}

TEST_F(TcpSmoke, OrphanedFinWait2TimesOut)
{
	conf.fin_wait_2_ms = 500;
	init();
	uint32_t iss = handshake(100);
	tcp_close(ev.conn);
	in(101, iss + 1, RTE_TCP_ACK_FLAG);
	EXPECT_EQ(ts->conns_used, 1u);
	advance(499);
	EXPECT_EQ(ts->conns_used, 1u);
	advance(1);
	EXPECT_EQ(ts->conns_used, 0u);
	EXPECT_EQ(cnt(TCP_CNT_conns_timed_out), 1u);
	expect_clean();
}

} // namespace
