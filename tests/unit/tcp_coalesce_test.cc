// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: what a user queues in several tcp_send calls during one event (a callback of
// tcp_input) leaves in MSS-sized segments built from several queued mbufs, at the end of that
// event and never later: a proxy's rebuilt response head and the body behind it share one
// segment when they fit.
#include "tcp_harness.h"

using namespace tcpt;

namespace
{

class TcpCoalesce : public TcpTest
{
};

TEST_F(TcpCoalesce, TwoWritesInOneEventLeaveInOneSegment)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	f->u->on_data_fn = [this](ConnUser &u) {
		ASSERT_EQ(send(&u, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"), 0);
		ASSERT_EQ(send(&u, "hello\n"), 0);
	};
	inject(f->seg().seq(1001).ack(f->iss + 1).data("GET / HTTP/1.1\r\n\r\n"));
	// at once, without any time passing: one segment, the request's ACK riding on it
	Pkt p = EXPECT_TX(f->out().flags(F_ACK | F_PSH)
				  .seq(f->iss + 1)
				  .ack(1019)
				  .data("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"));
	EXPECT_NO_TX();
	EXPECT_EQ(now_ms(), p.at_ms) << "coalescing must not wait";
	// a write outside any event still goes out by itself, at once
	ASSERT_EQ(send(f->u, "more"), 0);
	EXPECT_TX(f->out().flags(F_ACK | F_PSH).seq(f->iss + 1 + 44).data("more"));
}

TEST_F(TcpCoalesce, ProxyWritesToAnotherConnectionShareASegment)
{
	// A response segment arrives on the upstream connection; its callback sends the head
	// and then the body (separate mbufs, the body a chain of its own, too large to be
	// copied into the head's buffer) to the client.
	Flow *client = accept_conn();
	ASSERT_TRUE(client);
	Flow *up = connect_conn(50000, 8080);
	ASSERT_TRUE(up);
	drain_tx();
	up->u->on_data_fn = [this, client](ConnUser &) {
		ASSERT_EQ(send(client->u, "HTTP/1.1 200 OK\r\nVia: 1.1 sluice\r\n\r\n"), 0);
		ASSERT_EQ(send(client->u, pattern(1000), 3), 0);
	};
	inject(up->seg().seq(5001).ack(up->iss + 1).data(pattern(40)));
	std::vector<Pkt> out;
	for (Pkt &p : take_tx())
		if (p.dport == client->rport)
			out.push_back(p);
	ASSERT_EQ(out.size(), 1u) << "head and body in one segment";
	EXPECT_EQ(out[0].data, "HTTP/1.1 200 OK\r\nVia: 1.1 sluice\r\n\r\n" + pattern(1000));
	EXPECT_GE(out[0].nb_segs, 3u) << "payload chained from the queued mbufs, not copied";
}

TEST_F(TcpCoalesce, WritesLargerThanOneSegmentFillEachToTheMss)
{
	Flow *f = accept_conn();
	ASSERT_TRUE(f);
	const std::string head(100, 'h'), body = pattern(3000);
	f->u->on_data_fn = [&](ConnUser &u) {
		ASSERT_EQ(send(&u, head), 0);
		ASSERT_EQ(send(&u, body), 0);
	};
	inject(f->seg().seq(1001).ack(f->iss + 1).data("GET"));
	std::vector<Pkt> v = take_tx();
	ASSERT_EQ(v.size(), 3u);
	const uint32_t maxseg = 1460 - 12; // MSS less the timestamps option
	EXPECT_EQ(v[0].len(), maxseg) << "the head's segment is filled with body bytes";
	EXPECT_EQ(v[1].len(), maxseg);
	EXPECT_EQ(v[2].len(), 3100 - 2 * maxseg);
	EXPECT_EQ(v[0].data + v[1].data + v[2].data, head + body);
}

} // namespace
