// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: the connection table's flow cache (tcp_lookup tries the TCB last found in a
// slot of a cheap hash before SipHash) finds exactly what the table holds: the very TCB of a
// tuple, nothing for a tuple no TCB holds, also after TCBs are freed and taken again for other
// tuples and when many tuples share a slot.
#include "tcp_harness.h"

#include <map>
#include <random>

using namespace tcpt;

namespace
{

class TcpLookup : public TcpTest
{
      protected:
	static const struct tcp_ops none; // every callback NULL: the TCBs stay in SYN_SENT

	struct tcp_conn *open(uint16_t lport)
	{
		return tcp_connect(&ts, 0, lport, net_addr(PEER_HOST), 8080, &none, nullptr);
	}
	struct tcp_tuple tuple(uint16_t lport)
	{
		return { net_addr(LOCAL_HOST), net_addr(PEER_HOST), lport, 8080 };
	}
};

const struct tcp_ops TcpLookup::none = {};

TEST_F(TcpLookup, FindsWhatTheTableHolds)
{
	conf.max_connections = 64;
	start();
	std::map<uint16_t, struct tcp_conn *> open_conns;
	std::mt19937 rng(12);
	const uint16_t first = 1000, ports = 400; // far more tuples than flow cache slots hit
	for (int round = 0; round < 40; round++) {
		SCOPED_TRACE("round " + std::to_string(round));
		// open up to the pool's size, close about half, at random
		for (int k = 0; k < 64; k++) {
			uint16_t p = (uint16_t)(first + rng() % ports);
			if (open_conns.count(p) || open_conns.size() >= 60)
				continue;
			struct tcp_conn *c = open(p);
			ASSERT_NE(c, nullptr);
			open_conns[p] = c;
		}
		for (uint16_t p = first; p < first + ports; p++) {
			struct tcp_tuple t = tuple(p);
			auto it = open_conns.find(p);
			struct tcp_conn *want = it == open_conns.end() ? nullptr : it->second;
			ASSERT_EQ(tcp_lookup(&ts, &t), want) << "port " << p;
			ASSERT_EQ(tcp_lookup(&ts, &t), want) << "port " << p << ", again";
		}
		for (auto it = open_conns.begin(); it != open_conns.end();) {
			if (rng() % 2) {
				tcp_abort(it->second);
				it = open_conns.erase(it);
			} else {
				++it;
			}
		}
		drain_tx();
	}
	for (auto &kv : open_conns)
		tcp_abort(kv.second);
	drain_tx();
	for (uint16_t p = first; p < first + ports; p++) {
		struct tcp_tuple t = tuple(p);
		EXPECT_EQ(tcp_lookup(&ts, &t), nullptr) << "port " << p << " after every abort";
	}
}

} // namespace
