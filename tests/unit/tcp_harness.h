// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: packet-script harness for the userspace TCP stack (tcpstack/tcp.h).
//
// A test plays the peer: it builds segments with seg()...., hands them to tcp_input(), and
// asserts, one by one, the segments the stack emits (EXPECT_TX / EXPECT_NO_TX). Every emitted
// frame is parsed completely (Ethernet, IPv4, TCP, options) and its IPv4 and TCP checksums are
// verified. Time is a fake clock: advance_ms() moves ns.now forward one millisecond at a time
// and runs tcp_timers() after each step. Callbacks of tcp.h are recorded per connection and in
// one ordered event log. TearDown closes what is left, lets every timer expire, and asserts
// that the TCB pool, the timer wheel and the mbuf pool are all empty again.
#ifndef SLUICE_TCP_HARNESS_H
#define SLUICE_TCP_HARNESS_H

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

extern "C" {
#include "net.h"
#include "tcp.h"
}
#include "tcp_cookie.h"
#include "tcp_isn.h"

namespace tcpt
{

enum : uint8_t {
	F_FIN = 0x01,
	F_SYN = 0x02,
	F_RST = 0x04,
	F_PSH = 0x08,
	F_ACK = 0x10,
	F_URG = 0x20,
};
// Flags compared exactly once a script names any of them (PSH is compared only if named).
constexpr uint8_t F_CTL = F_FIN | F_SYN | F_RST | F_ACK | F_URG;

// 198.18.0.<host> in network order.
uint32_t net_addr(uint8_t host);
std::string addr_str(uint32_t addr_be);

// Wrap-safe sequence arithmetic.
inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
inline bool seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

// Deterministic payload bytes: the content of byte at stream offset off of stream `salt`.
std::string pattern(size_t len, size_t off = 0, char salt = 'a');

struct SackBlock {
	uint32_t left, right;
	bool operator==(const SackBlock &o) const
	{
		return left == o.left && right == o.right;
	}
};

// One TCP segment as seen on the wire (parsed from an emitted frame).
struct Pkt {
	bool valid = false;
	uint32_t saddr = 0, daddr = 0; // network order
	uint16_t sport = 0, dport = 0;
	uint32_t seq = 0, ack = 0;
	uint8_t flags = 0;
	uint16_t win = 0;
	uint8_t doff = 0; // 32-bit words
	uint8_t ttl = 0;
	std::optional<uint16_t> mss;
	std::optional<uint8_t> wscale;
	bool sackok = false;
	bool has_ts = false;
	uint32_t tsval = 0, tsecr = 0;
	std::vector<SackBlock> sack;
	std::string data;
	uint16_t nb_segs = 0;		     // mbufs in the emitted chain
	std::vector<const void *> buf_addrs; // buf_addr of every mbuf of the chain
	uint64_t at_ms = 0;		     // fake clock when it was emitted

	uint32_t len() const
	{
		return (uint32_t)data.size();
	}
	// Sequence space used: payload plus SYN and FIN.
	uint32_t end_seq() const
	{
		return seq + len() + ((flags & F_SYN) ? 1 : 0) + ((flags & F_FIN) ? 1 : 0);
	}
	bool has(uint8_t f) const
	{
		return (flags & f) == f;
	}
	std::string describe() const;
};

// A segment description: a builder for inject() and a pattern for EXPECT_TX(). Everything not
// named is filled with defaults on injection and is a wildcard on matching.
class Seg
{
      public:
	// addresses: host is the last octet of 198.18.0.0/24
	Seg &from(uint8_t host, uint16_t port);
	Seg &to(uint8_t host, uint16_t port);
	Seg &sport(uint16_t p);
	Seg &dport(uint16_t p);
	Seg &src_addr(uint32_t be);
	Seg &dst_addr(uint32_t be);

	Seg &seq(uint32_t s);
	Seg &syn();
	Seg &fin();
	Seg &rst();
	Seg &psh();
	Seg &urg();
	Seg &ack(); // ACK flag, any acknowledgment number
	Seg &ack(uint32_t a);
	Seg &flags(uint8_t f); // exact control bits
	Seg &win(uint16_t w);

	Seg &mss(uint16_t v);
	Seg &no_mss();
	Seg &wscale(uint8_t v);
	Seg &no_wscale();
	Seg &sackok();
	Seg &no_sackok();
	Seg &ts(uint32_t val, uint32_t ecr);
	Seg &tsval(uint32_t v);
	Seg &tsecr(uint32_t v);
	Seg &no_ts();
	Seg &sack(std::vector<SackBlock> blocks);
	Seg &no_sack();

	Seg &data(const std::string &d);
	Seg &len(uint32_t n); // inject: n pattern bytes; match: payload of n bytes
	Seg &nodata()
	{
		return len(0);
	}

	// injection only
	Seg &bad_cksum();
	Seg &doff(uint8_t words);		 // override the data offset field
	Seg &raw_opts(const std::string &bytes); // options appended verbatim (after the others)
	Seg &chain(unsigned n);			 // split the frame over n mbufs
	Seg &truncate(uint32_t tcp_bytes);	 // cut the TCP part to this many bytes

	std::string describe() const;

	// Fields, public for the harness.
	std::optional<uint32_t> saddr_, daddr_;
	std::optional<uint16_t> sport_, dport_;
	std::optional<uint32_t> seq_, ack_;
	uint8_t flags_ = 0;
	uint8_t flags_mask_ = 0; // bits compared
	std::optional<uint16_t> win_;
	std::optional<uint16_t> mss_;
	bool no_mss_ = false;
	std::optional<uint8_t> wscale_;
	bool no_wscale_ = false;
	std::optional<bool> sackok_;
	std::optional<uint32_t> tsval_, tsecr_;
	bool no_ts_ = false;
	std::optional<std::vector<SackBlock>> sack_;
	bool no_sack_ = false;
	std::optional<std::string> data_;
	std::optional<uint32_t> len_;
	bool bad_cksum_ = false;
	std::optional<uint8_t> doff_;
	std::string raw_opts_;
	unsigned chain_ = 1;
	std::optional<uint32_t> truncate_;
};

inline Seg seg()
{
	return Seg();
}

// Wire helpers shared by the harness files (big-endian fields, Internet checksum).
extern const struct rte_ether_addr LOCAL_MAC, PEER_MAC;
extern const uint8_t PEER_HOSTS[4]; // peers with a pre-learnt ARP entry
uint32_t sum16(const uint8_t *p, size_t n, uint32_t s = 0);
uint16_t fold(uint32_t s);
// TCP checksum over pseudo header + segment: the value to store, or 0 when verifying an
// intact segment.
uint16_t tcp_cksum(uint32_t saddr_be, uint32_t daddr_be, const uint8_t *tcp, size_t len);
uint32_t rd32(const uint8_t *p);
uint16_t rd16(const uint8_t *p);
void put16(std::string &s, uint16_t v);
void put32(std::string &s, uint32_t v);

// Byte strings compared with a short report: lengths and the first differing offset.
::testing::AssertionResult bytes_eq(const std::string &got, const std::string &want);

// Why a parsed segment does not match a pattern ("" when it does).
std::string seg_mismatch(const Seg &want, const Pkt &got);

// RFC 6298 section 2 in floating point, to compute what SRTT and RTO must be after samples.
struct Rfc6298 {
	double srtt = 0, rttvar = 0; // ms
	bool have = false;
	void sample(double r)
	{
		if (!have) {
			srtt = r;
			rttvar = r / 2;
			have = true;
		} else {
			rttvar = 0.75 * rttvar + 0.25 * (srtt > r ? srtt - r : r - srtt);
			srtt = 0.875 * srtt + 0.125 * r;
		}
	}
	// RTO in ms with clock granularity g, bounded like the stack's conf
	double rto(double min_ms, double max_ms, double initial_ms, double g = 1) const
	{
		double v = have ? srtt + (4 * rttvar > g ? 4 * rttvar : g) : initial_ms;
		return v < min_ms ? min_ms : v > max_ms ? max_ms : v;
	}
};

class TcpTest;

// What the test, acting as the user of tcp.h, knows about one connection.
struct ConnUser {
	TcpTest *t = nullptr;
	struct tcp_conn *c = nullptr;
	int id = 0;
	bool accepted = false, connected = false;
	bool peer_fin = false;
	bool closed = false;   // on_closed seen
	bool detached = false; // the test called tcp_close / tcp_abort
	enum tcp_close_reason reason = TCP_CLOSE_NORMAL;
	int writable = 0;
	std::string rx;			     // every byte delivered by on_data, in order
	std::vector<const void *> rx_bufs;   // buf_addr of the first mbuf of each on_data
	std::vector<struct rte_mbuf *> held; // delivered, not yet freed (hold == true)
	uint32_t held_bytes = 0;
	bool hold = false; // keep on_data mbufs (no tcp_recved) until release()
	std::function<void(ConnUser &)> on_data_fn, on_writable_fn, on_fin_fn, on_connected_fn;
};

// The peer's view of one connection, used to fill timestamps of injected segments.
struct Flow {
	uint16_t lport = 0, rport = 0; // the stack's port, the peer's port
	uint32_t iss = 0;	       // the stack's ISN
	uint32_t irs = 0;	       // the peer's ISN
	bool peer_ts = false;	       // the peer's SYN carried timestamps
	bool stack_ts = false;	       // the stack's SYN / SYN-ACK did
	int64_t peer_ts_base = 0;      // peer TSval = base + fake ms
	uint32_t last_tsval = 0;       // newest TSval the stack sent
	ConnUser *u = nullptr;
	bool ts_on() const
	{
		return peer_ts && stack_ts;
	}
	// seg() with this flow's ports, peer -> stack
	Seg seg() const
	{
		return tcpt::seg().sport(rport).dport(lport);
	}
	// pattern with this flow's ports, stack -> peer
	Seg out() const
	{
		return tcpt::seg().sport(lport).dport(rport);
	}
	struct tcp_conn *c() const
	{
		return u ? u->c : nullptr;
	}
};

class TcpTest : public ::testing::Test
{
      public:
	static constexpr uint64_t HZ = 1000000000ull; // fake TSC: 1 tick = 1 ns
	static constexpr uint64_t MS = HZ / 1000;
	static constexpr uint64_t T0 = 10 * HZ; // clock at start
	static constexpr uint8_t LOCAL_HOST = 10, PEER_HOST = 2;
	static constexpr uint16_t LPORT = 80, RPORT = 40000;

      protected:
	void SetUp() override;
	void TearDown() override;

      public:
	// ---- set-up (tests may change conf, mtu, pool_size before the first use) ----
	struct tcp_conf conf = {};
	uint16_t mtu = 1500;
	unsigned pool_size = 8191;
	uint32_t hs_delay_ms = 10; // handshake RTT the helpers below play
	void start();		   // done implicitly by every call below
	bool started = false;

	// ---- the peer's actions ----
	// Build seg and give it to tcp_input. Returns the head mbuf (identity only; do not touch).
	const struct rte_mbuf *inject(const Seg &s);
	void advance_ms(uint64_t ms); // 1 ms steps, tcp_timers() after each
	void set_clock(uint64_t tsc); // jump (only forward), one tcp_timers() call
	// Advance 1 ms at a time until the stack emits something; returns the ms waited, or
	// max_ms + 1 when nothing came.
	uint64_t wait_tx(uint64_t max_ms);
	uint64_t now_ms() const
	{
		return (ns.now - T0) / MS;
	}

	// ---- the stack's output ----
	Pkt expect_at(const char *file, int line, const Seg &want);
	void expect_none_at(const char *file, int line);
	Pkt next_tx(); // next emitted segment, or !valid
	size_t tx_pending() const
	{
		return tx.size();
	}
	void drain_tx()
	{
		tx.clear();
	}
	std::vector<Pkt> take_tx(); // everything emitted and not consumed yet

	// ---- the user's actions ----
	void listen(uint16_t port = LPORT, uint32_t addr = 0);
	ConnUser *connect(uint16_t lport, uint16_t rport, uint8_t peer_host = PEER_HOST);
	int send(ConnUser *u, const std::string &data, unsigned nsegs = 1);
	int send_mbuf(ConnUser *u, struct rte_mbuf *m);
	struct rte_mbuf *make_mbuf(const std::string &data, unsigned nsegs = 1);
	void close(ConnUser *u);
	void abort(ConnUser *u);
	int shutdown(ConnUser *u);
	void release(ConnUser *u); // free held mbufs, tcp_recved them
	struct tcp_conn_info info(struct tcp_conn *c);
	enum tcp_state state_of(uint16_t lport, uint16_t rport, uint8_t peer_host = PEER_HOST);
	struct tcp_conn *lookup(uint16_t lport, uint16_t rport, uint8_t peer_host = PEER_HOST);

	// ---- script helpers ----
	// The RFC 6298 state after a helper's handshake: one sample of hs_delay_ms if the stack
	// took one (srtt_us != 0), none otherwise.
	Rfc6298 rtt_after_handshake(struct tcp_conn *c);
	// Default peer SYN: seq 1000, win 65535, MSS 1460, wscale 7, SACK-permitted, TS (100, 0).
	static Seg peer_syn(uint16_t rport = RPORT, uint16_t lport = LPORT);
	// Full passive open (listens on syn's port if needed). nullptr on failure (reported).
	Flow *accept_conn(const Seg &syn = peer_syn());
	// Full active open: tcp_connect, SYN-ACK from the peer (options from synack; seq 5000
	// unless set), ACK. nullptr on failure.
	Flow *connect_conn(uint16_t lport = 50000, uint16_t rport = 8080,
			   const Seg &synack = Seg());
	Flow &flow(uint16_t lport, uint16_t rport);

	// ---- observations ----
	uint64_t cnt(enum tcp_counter c) const
	{
		return ts.cnt[c];
	}
	std::string events() const; // "accept#1 data#1:5 fin#1 closed#1:RESET" since last take
	std::string take_events();
	ConnUser *last_accepted = nullptr;
	std::vector<std::unique_ptr<ConnUser>> users;

	// callbacks (static trampolines call these)
	void *cb_accept(struct tcp_conn *c, void *listen_user);
	void cb_connected(struct tcp_conn *c);
	void cb_data(struct tcp_conn *c, struct rte_mbuf *m);
	void cb_writable(struct tcp_conn *c);
	void cb_peer_fin(struct tcp_conn *c);
	void cb_closed(struct tcp_conn *c, enum tcp_close_reason r);
	void on_tx(struct rte_mbuf *m);
	bool refuse_accept = false;		   // on_accept returns NULL
	std::function<void(ConnUser &)> accept_fn; // runs inside on_accept (u is returned after)
	const void *last_inject_buf = nullptr;	   // buf_addr of the last injected head mbuf

	struct rte_mempool *pool = nullptr;
	struct net_stack ns;
	struct tcp_stack ts;
	struct tcp_secret secret;
	static const struct tcp_ops ops;

      private:
	ConnUser *user_of(struct tcp_conn *c, const char *what);
	void log(const std::string &e)
	{
		ev.push_back(e);
	}
	void refresh_arp();
	std::deque<Pkt> tx;
	std::vector<std::string> ev;
	size_t ev_taken = 0;
	std::map<std::pair<uint16_t, uint16_t>, Flow> flows;
	int next_id = 1;
	uint64_t arp_frames = 0;
};

#define EXPECT_TX(s) expect_at(__FILE__, __LINE__, (s))
#define EXPECT_NO_TX() expect_none_at(__FILE__, __LINE__)

const char *reason_name(enum tcp_close_reason r);

} // namespace tcpt

#endif // SLUICE_TCP_HARNESS_H
