// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: the user calling back into the stack from inside its callbacks (tcp.h: "the
// stack never frees a connection while one of its callbacks is running"): send, close and
// abort from on_accept, on_connected, on_data, on_writable and on_peer_fin. The harness fails
// any callback that arrives after tcp_close/tcp_abort, and TearDown any leaked TCB or mbuf.
#include "tcp_harness.h"

using namespace tcpt;

namespace
{

class TcpCallbacks : public TcpTest
{
};

TEST_F(TcpCallbacks, SendFromOnAccept)
{
	accept_fn = [this](ConnUser &u) { EXPECT_EQ(send(&u, "220 ready\r\n"), 0); };
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 1).ack(1001).data("220 ready\r\n"));
}

TEST_F(TcpCallbacks, AbortFromOnAccept)
{
	accept_fn = [this](ConnUser &u) { abort(&u); };
	listen();
	inject(peer_syn());
	Pkt sa = EXPECT_TX(seg().flags(F_SYN | F_ACK));
	inject(seg().seq(1001).ack(sa.seq + 1).data("x"));
	Pkt r = EXPECT_TX(seg().seq(sa.seq + 1));
	EXPECT_TRUE(r.has(F_RST)) << r.describe();
	EXPECT_NO_TX();
	EXPECT_EQ(events(), "accept#1");
	EXPECT_EQ(ts.conns_used, 0u);
}

TEST_F(TcpCallbacks, SendFromOnConnected)
{
	ConnUser *u = connect(50000, 8080);
	ASSERT_NE(u, nullptr);
	u->on_connected_fn = [this](ConnUser &cu) { EXPECT_EQ(send(&cu, "GET /"), 0); };
	Pkt syn = EXPECT_TX(seg().flags(F_SYN));
	inject(seg().sport(8080).dport(50000).syn().ack(syn.seq + 1).seq(9000).mss(1460));
	std::string got;
	for (Pkt &p : take_tx()) {
		EXPECT_EQ(p.ack, 9001u);
		got += p.data;
	}
	EXPECT_EQ(got, "GET /");
}

TEST_F(TcpCallbacks, EchoFromOnData)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	f->u->on_data_fn = [this](ConnUser &u) {
		std::string d = u.rx.substr(u.rx.size() - 4);
		EXPECT_EQ(send(&u, d), 0);
	};
	inject(f->seg().seq(1001).ack(f->iss + 1).data("ping"));
	EXPECT_TX(f->out().flags(F_ACK).seq(f->iss + 1).ack(1005).data("ping"));
	advance_ms(100);
	EXPECT_NO_TX(); // the reply carried the ACK: no separate delayed ACK
}

TEST_F(TcpCallbacks, AbortFromOnDataBeforeFin)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	f->u->on_data_fn = [this](ConnUser &u) { abort(&u); };
	inject(f->seg().fin().seq(1001).ack(f->iss + 1).data("bye"));
	Pkt r = EXPECT_TX(f->out().seq(f->iss + 1));
	EXPECT_TRUE(r.has(F_RST)) << r.describe();
	EXPECT_NO_TX();
	EXPECT_EQ(events(), "accept#1 data#1:3"); // no fin#1 after the abort
	EXPECT_EQ(ts.conns_used, 0u);
	EXPECT_EQ(cnt(TCP_CNT_conns_aborted), 1u);
}

TEST_F(TcpCallbacks, AbortFromOnDataWhileReassembling)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	for (uint32_t k : { 1, 2, 3, 5 })
		inject(f->seg().seq(1001 + k * 100).ack(f->iss + 1).data(pattern(100, k * 100)));
	drain_tx();
	f->u->on_data_fn = [this](ConnUser &u) { abort(&u); };
	inject(f->seg().seq(1001).ack(f->iss + 1).data(pattern(100)));
	EXPECT_EQ(ts.conns_used, 0u);
	EXPECT_EQ(ts.ooo_mbufs, 0u) << "the out-of-order queue is freed with the TCB";
	EXPECT_EQ(f->u->rx_bufs.size(), 1u) << "one delivery, then nothing after the abort";
}

TEST_F(TcpCallbacks, CloseFromOnData)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	f->u->on_data_fn = [this](ConnUser &u) {
		EXPECT_EQ(send(&u, "HTTP/1.0 200 OK\r\n\r\n"), 0);
		close(&u);
	};
	inject(f->seg().seq(1001).ack(f->iss + 1).data("GET /\r\n"));
	std::string got;
	bool fin = false;
	for (Pkt &p : take_tx()) {
		got += p.data;
		fin |= p.has(F_FIN);
		EXPECT_EQ(p.ack, 1008u);
	}
	EXPECT_EQ(got, "HTTP/1.0 200 OK\r\n\r\n");
	EXPECT_TRUE(fin);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_FIN_WAIT_1);
	inject(f->seg().fin().seq(1008).ack(f->iss + 1 + 19 + 1));
	EXPECT_TX(f->out().flags(F_ACK).ack(1009));
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_TIME_WAIT);
}

TEST_F(TcpCallbacks, CloseFromOnPeerFin)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	f->u->on_fin_fn = [this](ConnUser &u) { close(&u); };
	inject(f->seg().fin().seq(1001).ack(f->iss + 1));
	std::vector<Pkt> v = take_tx();
	ASSERT_FALSE(v.empty());
	EXPECT_TRUE(v.back().has(F_FIN | F_ACK)) << v.back().describe();
	EXPECT_EQ(v.back().ack, 1002u);
	EXPECT_EQ(state_of(LPORT, RPORT), TCP_LAST_ACK);
	inject(f->seg().seq(1002).ack(f->iss + 2));
	EXPECT_EQ(ts.conns_used, 0u);
	EXPECT_EQ(events(), "accept#1 fin#1"); // closed by the user: no on_closed
}

TEST_F(TcpCallbacks, ShutdownFromOnPeerFin)
{
	// the proxy pattern: the client's FIN is forwarded as our own FIN at once
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	f->u->on_fin_fn = [this](ConnUser &u) { EXPECT_EQ(shutdown(&u), 0); };
	inject(f->seg().fin().seq(1001).ack(f->iss + 1));
	std::vector<Pkt> v = take_tx();
	ASSERT_FALSE(v.empty());
	EXPECT_TRUE(v.back().has(F_FIN | F_ACK)) << v.back().describe();
	EXPECT_EQ(v.back().ack, 1002u);
	EXPECT_EQ(tcp_conn_state(f->c()), TCP_LAST_ACK)
		<< "their FIN came first: we are the passive closer";
	inject(f->seg().seq(1002).ack(f->iss + 2));
	EXPECT_EQ(events(), "accept#1 fin#1 closed#1:NORMAL");
	EXPECT_EQ(ts.conns_used, 0u) << "no TIME_WAIT for the passive closer";
}

TEST_F(TcpCallbacks, SendMoreFromOnWritable)
{
	conf.snd_buf = 4000;
	Flow *f = accept_conn(peer_syn().no_ts());
	ASSERT_TRUE(f);
	ConnUser *u = f->u;
	std::string all = pattern(12000);
	size_t queued = 0;
	auto fill = [&](ConnUser &cu) {
		while (queued < all.size() && tcp_send_space(cu.c) > 0) {
			size_t n = std::min<size_t>(1000, all.size() - queued);
			ASSERT_EQ(send(&cu, all.substr(queued, n)), 0);
			queued += n;
		}
	};
	u->on_writable_fn = fill;
	fill(*u);
	std::string got;
	for (int i = 0; i < 100 && got.size() < all.size(); i++) {
		std::vector<Pkt> v = take_tx();
		if (v.empty())
			break;
		for (Pkt &p : v)
			got += p.data;
		inject(f->seg().seq(1001).ack(f->iss + 1 + (uint32_t)got.size()));
	}
	EXPECT_TRUE(bytes_eq(got, all));
	EXPECT_GE(u->writable, 2);
}

TEST_F(TcpCallbacks, AbortFromOnWritable)
{
	conf.snd_buf = 2000;
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ConnUser *u = f->u;
	ASSERT_EQ(send(u, pattern(2000)), 0);
	EXPECT_EQ(send(u, "x"), -ENOBUFS);
	drain_tx();
	u->on_writable_fn = [this](ConnUser &cu) { abort(&cu); };
	inject(f->seg().seq(1001).ack(f->iss + 1 + 2000));
	EXPECT_EQ(u->writable, 1);
	std::vector<Pkt> v = take_tx();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_TRUE(v[0].has(F_RST));
	EXPECT_EQ(ts.conns_used, 0u);
}

TEST_F(TcpCallbacks, ConnectFromOnAccept)
{
	// a proxy opens its upstream connection while accepting the client
	ConnUser *up = nullptr;
	accept_fn = [&](ConnUser &) { up = connect(50000, 8080, 3); };
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	ASSERT_NE(up, nullptr);
	Pkt syn = EXPECT_TX(seg().flags(F_SYN).sport(50000).dport(8080));
	EXPECT_EQ(syn.daddr, net_addr(3));
	EXPECT_EQ(ts.conns_used, 2u);
}

} // namespace
