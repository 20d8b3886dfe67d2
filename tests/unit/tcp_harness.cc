// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: packet-script harness for tcpstack's TCP (see tcp_harness.h).
#include "tcp_harness.h"

#include <cstdio>
#include <cstring>
#include <sstream>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_tcp.h>

namespace tcpt
{

// ---- callbacks ----

static void *tr_accept(struct tcp_conn *c, void *lu)
{
	return static_cast<TcpTest *>(lu)->cb_accept(c, lu);
}

static ConnUser *tr_user(struct tcp_conn *c, const char *what)
{
	ConnUser *u = static_cast<ConnUser *>(tcp_conn_user(c));

	if (u == nullptr)
		ADD_FAILURE() << what << " on a connection with no user pointer";
	return u;
}

static void tr_connected(struct tcp_conn *c)
{
	if (ConnUser *u = tr_user(c, "on_connected"))
		u->t->cb_connected(c);
}
static void tr_data(struct tcp_conn *c, struct rte_mbuf *m)
{
	if (ConnUser *u = tr_user(c, "on_data"))
		u->t->cb_data(c, m);
	else
		rte_pktmbuf_free(m);
}
static void tr_writable(struct tcp_conn *c)
{
	if (ConnUser *u = tr_user(c, "on_writable"))
		u->t->cb_writable(c);
}
static void tr_peer_fin(struct tcp_conn *c)
{
	if (ConnUser *u = tr_user(c, "on_peer_fin"))
		u->t->cb_peer_fin(c);
}
static void tr_closed(struct tcp_conn *c, enum tcp_close_reason r)
{
	if (ConnUser *u = tr_user(c, "on_closed"))
		u->t->cb_closed(c, r);
}

const struct tcp_ops TcpTest::ops = {
	tr_accept, tr_connected, tr_data, tr_writable, tr_peer_fin, tr_closed,
};

static void tr_tx(struct net_stack *ns, uint16_t port_id, struct rte_mbuf *m)
{
	static_cast<TcpTest *>(ns->owner)->on_tx(m);
}

ConnUser *TcpTest::user_of(struct tcp_conn *c, const char *what)
{
	ConnUser *u = static_cast<ConnUser *>(tcp_conn_user(c));

	if (u->c != c)
		ADD_FAILURE() << what << ": user pointer of another connection";
	if (u->closed)
		ADD_FAILURE() << what << " on conn#" << u->id << " after on_closed";
	if (u->detached)
		ADD_FAILURE() << what << " on conn#" << u->id << " after tcp_close/tcp_abort";
	return u;
}

void *TcpTest::cb_accept(struct tcp_conn *c, void *listen_user)
{
	if (listen_user != this)
		ADD_FAILURE() << "on_accept: listen_user is not the listener's user pointer";
	if (refuse_accept) {
		log("refuse");
		return nullptr;
	}
	users.push_back(std::make_unique<ConnUser>());
	ConnUser *u = users.back().get();
	u->t = this;
	u->c = c;
	u->id = next_id++;
	u->accepted = true;
	last_accepted = u;
	if (tcp_conn_state(c) != TCP_ESTABLISHED)
		ADD_FAILURE() << "on_accept in state " << tcp_state_name(tcp_conn_state(c));
	log("accept#" + std::to_string(u->id));
	if (accept_fn)
		accept_fn(*u);
	return u;
}

void TcpTest::cb_connected(struct tcp_conn *c)
{
	ConnUser *u = user_of(c, "on_connected");

	if (u->connected)
		ADD_FAILURE() << "on_connected twice";
	u->connected = true;
	log("connected#" + std::to_string(u->id));
	if (u->on_connected_fn)
		u->on_connected_fn(*u);
}

void TcpTest::cb_data(struct tcp_conn *c, struct rte_mbuf *m)
{
	ConnUser *u = user_of(c, "on_data");
	uint32_t len = rte_pktmbuf_pkt_len(m), sum = 0;
	uint16_t n = 0;
	const char *reason = nullptr;

	if (rte_mbuf_check(m, 1, &reason) != 0)
		ADD_FAILURE() << "on_data: bad mbuf chain: " << reason;
	for (struct rte_mbuf *s = m; s != nullptr; s = s->next, n++)
		sum += s->data_len;
	if (sum != len || n != m->nb_segs)
		ADD_FAILURE() << "on_data: pkt_len " << len << " but segments hold " << sum;
	if (len == 0)
		ADD_FAILURE() << "on_data with an empty mbuf";
	if (u->peer_fin)
		ADD_FAILURE() << "on_data after on_peer_fin";
	std::string d(len, '\0');
	const void *p = rte_pktmbuf_read(m, 0, len, &d[0]);
	if (p != &d[0] && p != nullptr)
		memcpy(&d[0], p, len);
	u->rx += d;
	u->rx_bufs.push_back(m->buf_addr);
	log("data#" + std::to_string(u->id) + ":" + std::to_string(len));
	if (u->hold) {
		u->held.push_back(m);
		u->held_bytes += len;
	} else {
		rte_pktmbuf_free(m);
		tcp_recved(c, len);
	}
	if (u->on_data_fn)
		u->on_data_fn(*u);
}

void TcpTest::cb_writable(struct tcp_conn *c)
{
	ConnUser *u = user_of(c, "on_writable");

	u->writable++;
	log("writable#" + std::to_string(u->id));
	if (u->on_writable_fn)
		u->on_writable_fn(*u);
}

void TcpTest::cb_peer_fin(struct tcp_conn *c)
{
	ConnUser *u = user_of(c, "on_peer_fin");

	if (u->peer_fin)
		ADD_FAILURE() << "on_peer_fin twice";
	u->peer_fin = true;
	log("fin#" + std::to_string(u->id));
	if (u->on_fin_fn)
		u->on_fin_fn(*u);
}

void TcpTest::cb_closed(struct tcp_conn *c, enum tcp_close_reason r)
{
	ConnUser *u = user_of(c, "on_closed");

	u->closed = true;
	u->reason = r;
	log("closed#" + std::to_string(u->id) + ":" + reason_name(r));
}

Pkt TcpTest::next_tx()
{
	if (tx.empty())
		return Pkt();
	Pkt p = tx.front();
	tx.pop_front();
	return p;
}

std::vector<Pkt> TcpTest::take_tx()
{
	std::vector<Pkt> v(tx.begin(), tx.end());
	tx.clear();
	return v;
}

Pkt TcpTest::expect_at(const char *file, int line, const Seg &want)
{
	Pkt p = next_tx();

	if (!p.valid) {
		ADD_FAILURE_AT(file, line) << "expected " << want.describe() << "\n  but nothing "
					   << "was sent (t=" << now_ms() << "ms)";
		return p;
	}
	std::string why = seg_mismatch(want, p);
	if (!why.empty())
		ADD_FAILURE_AT(file, line) << "expected " << want.describe() << "\n       got "
					   << p.describe() << "\n  mismatch:" << why;
	return p;
}

void TcpTest::expect_none_at(const char *file, int line)
{
	if (tx.empty())
		return;
	std::ostringstream o;
	for (auto &p : tx)
		o << "\n  " << p.describe();
	ADD_FAILURE_AT(file, line) << "expected nothing sent, got " << tx.size() << ":" << o.str();
	tx.clear();
}

// ---- set-up and tear-down ----

void TcpTest::SetUp()
{
	conf.max_connections = 64;
	conf.syn_backlog = 16;
	conf.rto_min_ms = 200;
	conf.rto_max_ms = 60000;
	conf.rto_initial_ms = 1000;
	conf.max_retries = 6;
	conf.syn_retries = 3;
	conf.time_wait_ms = 1000;
	conf.fin_wait_2_ms = 2000;
	conf.delayed_ack_ms = 40;
	conf.keepalive_idle_ms = 0;
	conf.rcv_buf = 65536;
	conf.snd_buf = 65536;
	conf.ooo_max_segments = 64;
	conf.challenge_ack_per_s = 10;
	conf.rst_per_s = 1000;
	conf.socket_id = SOCKET_ID_ANY;
	secret.k0 = 0x0123456789abcdefull;
	secret.k1 = 0xfedcba9876543210ull;
	memset(&ns, 0, sizeof(ns));
	memset(&ts, 0, sizeof(ts));
}

void TcpTest::refresh_arp()
{
	for (uint8_t h : PEER_HOSTS) {
		struct rte_ether_addr mac = PEER_MAC;
		arp_learn(&ns, net_addr(h), &mac, 0);
	}
}

void TcpTest::start()
{
	static unsigned pool_seq;
	char name[RTE_MEMPOOL_NAMESIZE];

	if (started)
		return;
	snprintf(name, sizeof(name), "tcpt%u", pool_seq++);
	pool = rte_pktmbuf_pool_create(name, pool_size, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	ASSERT_NE(pool, nullptr) << "mbuf pool: " << rte_strerror(rte_errno);

	struct net_hooks hooks = {};
	hooks.tx = tr_tx;
	net_stack_init(&ns, pool, &hooks, HZ);
	ns.owner = this;
	ns.now = T0;
	struct net_if ifp = {};
	ifp.port_id = 0;
	ifp.mtu = mtu;
	ifp.mac = LOCAL_MAC;
	ifp.addr = net_addr(LOCAL_HOST);
	ifp.mask = rte_cpu_to_be_32(0xffffff00u);
	ifp.tx_offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS; /* a port that sends chains */
	ASSERT_EQ(net_stack_add_if(&ns, &ifp), 0);
	refresh_arp();
	ASSERT_EQ(tcp_stack_init(&ts, &ns, &conf, &secret), 0);
	started = true;
}

void TcpTest::TearDown()
{
	if (!started) {
		if (pool)
			rte_mempool_free(pool);
		return;
	}
	if (HasFailure()) {
		std::ostringstream o;
		for (int i = 0; i < TCP_CNT_MAX; i++)
			if (ts.cnt[i])
				o << " " << tcp_counter_names[i] << "=" << ts.cnt[i];
		printf("  tcp counters:%s\n", o.str().c_str());
	}
	for (auto &u : users) {
		if (!u->closed && !u->detached) {
			tcp_abort(u->c);
			u->detached = true;
		}
		for (struct rte_mbuf *m : u->held)
			rte_pktmbuf_free(m);
		u->held.clear();
	}
	// Orphans finish on their own: retransmissions give up, TIME_WAIT expires.
	for (int i = 0; i < 200000 && ts.conns_used > 0; i++) {
		ns.now += 10 * MS;
		refresh_arp();
		tcp_timers(&ts);
		tx.clear();
	}
	EXPECT_EQ(ts.conns_used, 0u) << "TCBs still in use after every timer expired";
	EXPECT_EQ(ts.time_wait, 0u);
	EXPECT_EQ(ts.syn_rcvd, 0u);
	EXPECT_EQ(ts.ooo_mbufs, 0u);
	EXPECT_EQ(tcp_wheel_armed(&ts.wheel), 0u) << "timers armed with no connection left";
	EXPECT_EQ(rte_mempool_in_use_count(pool), 0u) << "mbufs still held with no connection left";
	tcp_stack_fini(&ts);
	net_stack_fini(&ns);
	tx.clear();
	EXPECT_EQ(rte_mempool_in_use_count(pool), 0u) << "mbufs leaked";
	rte_mempool_free(pool);
	pool = nullptr;
}

void TcpTest::advance_ms(uint64_t ms)
{
	start();
	for (uint64_t i = 0; i < ms; i++) {
		ns.now += MS;
		refresh_arp();
		tcp_timers(&ts);
	}
}

uint64_t TcpTest::wait_tx(uint64_t max_ms)
{
	for (uint64_t i = 1; i <= max_ms; i++) {
		advance_ms(1);
		if (!tx.empty())
			return i;
	}
	return max_ms + 1;
}

void TcpTest::set_clock(uint64_t tsc)
{
	start();
	if (tsc > ns.now)
		ns.now = tsc;
	refresh_arp();
	tcp_timers(&ts);
}

Flow &TcpTest::flow(uint16_t lport, uint16_t rport)
{
	Flow &f = flows[{ lport, rport }];
	f.lport = lport;
	f.rport = rport;
	return f;
}

// ---- the user ----

void TcpTest::listen(uint16_t port, uint32_t addr)
{
	start();
	ASSERT_EQ(tcp_listen(&ts, addr, port, &ops, this), 0) << "tcp_listen port " << port;
}

ConnUser *TcpTest::connect(uint16_t lport, uint16_t rport, uint8_t peer_host)
{
	start();
	users.push_back(std::make_unique<ConnUser>());
	ConnUser *u = users.back().get();
	u->t = this;
	u->id = next_id++;
	u->c = tcp_connect(&ts, 0, lport, net_addr(peer_host), rport, &ops, u);
	if (u->c == nullptr) {
		users.pop_back();
		return nullptr;
	}
	return u;
}

struct rte_mbuf *TcpTest::make_mbuf(const std::string &data, unsigned nsegs)
{
	start();
	size_t per = nsegs > 1 ? (data.size() + nsegs - 1) / nsegs : data.size();
	size_t off = 0;
	struct rte_mbuf *head = rte_pktmbuf_alloc(pool), *last = head;

	if (head == nullptr)
		return nullptr;
	for (;;) {
		size_t k = std::min({ per, data.size() - off, (size_t)rte_pktmbuf_tailroom(last) });
		memcpy(rte_pktmbuf_mtod_offset(last, char *, last->data_len), data.data() + off, k);
		last->data_len = (uint16_t)(last->data_len + k);
		head->pkt_len += (uint32_t)k;
		off += k;
		if (off >= data.size())
			break;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (m == nullptr) {
			rte_pktmbuf_free(head);
			return nullptr;
		}
		last->next = m;
		head->nb_segs++;
		last = m;
	}
	return head;
}

int TcpTest::send_mbuf(ConnUser *u, struct rte_mbuf *m)
{
	if (u->closed || u->detached) {
		ADD_FAILURE() << "test bug: send on a closed connection";
		rte_pktmbuf_free(m);
		return -EBADF;
	}
	return tcp_send(u->c, m);
}

int TcpTest::send(ConnUser *u, const std::string &data, unsigned nsegs)
{
	struct rte_mbuf *m = make_mbuf(data, nsegs);

	if (m == nullptr) {
		ADD_FAILURE() << "send: mbuf pool empty";
		return -ENOMEM;
	}
	return send_mbuf(u, m);
}

void TcpTest::close(ConnUser *u)
{
	ASSERT_FALSE(u->closed || u->detached) << "test bug: close twice";
	u->detached = true;
	tcp_close(u->c);
}

void TcpTest::abort(ConnUser *u)
{
	ASSERT_FALSE(u->closed || u->detached) << "test bug: abort after close";
	u->detached = true;
	tcp_abort(u->c);
}

int TcpTest::shutdown(ConnUser *u)
{
	return tcp_shutdown(u->c);
}

void TcpTest::release(ConnUser *u)
{
	uint32_t n = u->held_bytes;

	for (struct rte_mbuf *m : u->held)
		rte_pktmbuf_free(m);
	u->held.clear();
	u->held_bytes = 0;
	if (!u->closed && !u->detached && n)
		tcp_recved(u->c, n);
}

struct tcp_conn_info TcpTest::info(struct tcp_conn *c)
{
	struct tcp_conn_info i;

	memset(&i, 0, sizeof(i));
	if (c != nullptr)
		tcp_conn_info(c, &i);
	return i;
}

struct tcp_conn *TcpTest::lookup(uint16_t lport, uint16_t rport, uint8_t peer_host)
{
	struct tcp_tuple t;

	start();
	t.laddr = net_addr(LOCAL_HOST);
	t.raddr = net_addr(peer_host);
	t.lport = lport;
	t.rport = rport;
	return tcp_lookup(&ts, &t);
}

enum tcp_state TcpTest::state_of(uint16_t lport, uint16_t rport, uint8_t peer_host)
{
	struct tcp_conn *c = lookup(lport, rport, peer_host);

	return c ? tcp_conn_state(c) : TCP_CLOSED;
}

std::string TcpTest::events() const
{
	std::string s;

	for (size_t i = ev_taken; i < ev.size(); i++)
		s += (s.empty() ? "" : " ") + ev[i];
	return s;
}

std::string TcpTest::take_events()
{
	std::string s = events();

	ev_taken = ev.size();
	return s;
}

// ---- scripts ----

Rfc6298 TcpTest::rtt_after_handshake(struct tcp_conn *c)
{
	Rfc6298 m;

	if (info(c).srtt_us != 0)
		m.sample(hs_delay_ms);
	return m;
}

Seg TcpTest::peer_syn(uint16_t rport, uint16_t lport)
{
	return seg()
		.sport(rport)
		.dport(lport)
		.syn()
		.seq(1000)
		.win(65535)
		.mss(1460)
		.wscale(7)
		.sackok()
		.ts(100, 0);
}

Flow *TcpTest::accept_conn(const Seg &syn)
{
	start();
	uint16_t lport = syn.dport_.value_or(LPORT), rport = syn.sport_.value_or(RPORT);
	uint32_t irs = syn.seq_.value_or(0);
	bool listening = false;

	for (uint32_t i = 0; i < TCP_MAX_LISTENERS; i++)
		if (ts.listeners[i].port == lport)
			listening = true;
	if (!listening)
		listen(lport);
	inject(syn);
	Pkt sa = EXPECT_TX(seg().syn().ack(irs + 1).sport(lport).dport(rport));
	if (!sa.valid || sa.flags != (F_SYN | F_ACK))
		return nullptr;
	Flow &f = flow(lport, rport);
	f.iss = sa.seq;
	f.irs = irs;
	ConnUser *before = last_accepted;
	advance_ms(hs_delay_ms);
	inject(f.seg().seq(irs + 1).ack(sa.seq + 1).win(syn.win_.value_or(65535)));
	if (last_accepted == before) {
		ADD_FAILURE() << "handshake ACK did not produce on_accept";
		return nullptr;
	}
	if (!accept_fn)
		EXPECT_NO_TX(); // the handshake's ACK draws nothing (accept_fn may send)
	f.u = last_accepted;
	return &f;
}

Flow *TcpTest::connect_conn(uint16_t lport, uint16_t rport, const Seg &synack)
{
	ConnUser *u = connect(lport, rport);

	if (u == nullptr) {
		ADD_FAILURE() << "tcp_connect failed: " << rte_strerror(rte_errno);
		return nullptr;
	}
	Pkt syn = EXPECT_TX(seg().flags(F_SYN).sport(lport).dport(rport));
	if (!syn.valid)
		return nullptr;
	Flow &f = flow(lport, rport);
	f.iss = syn.seq;
	f.u = u;
	Seg sa = synack;
	sa.sport(rport).dport(lport).syn().ack(syn.seq + 1);
	if (!sa.seq_)
		sa.seq(5000);
	if (!sa.mss_ && !sa.no_mss_)
		sa.mss(1460);
	if (!sa.wscale_ && !sa.no_wscale_)
		sa.wscale(7);
	if (!sa.sackok_)
		sa.sackok();
	if (!sa.tsval_ && !sa.no_ts_ && syn.has_ts)
		sa.ts(500, syn.tsval);
	if (!sa.win_)
		sa.win(65535);
	f.irs = *sa.seq_;
	advance_ms(hs_delay_ms);
	inject(sa);
	EXPECT_TX(seg().flags(F_ACK).seq(syn.seq + 1).ack(f.irs + 1).nodata());
	if (!u->connected) {
		ADD_FAILURE() << "no on_connected after the SYN-ACK";
		return nullptr;
	}
	return &f;
}

} // namespace tcpt
