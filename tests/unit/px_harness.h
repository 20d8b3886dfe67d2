// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: a harness for the proxy layer (dataplane/px_*.c), black box.
//
// One struct dp with one struct dp_worker is built in-process, as dp_init does it but with no
// port and no lcore: the worker's net_stack gets one interface (198.18.0.10/24) whose tx hook
// puts frames on a simulated wire instead of a port. The harness drives it only the way the
// worker loop (dp_worker_main) does: px_apply when a new snapshot is published, net_rx of
// frames, net_timer, tcp_timers, px_timers, once per iteration; snapshots come from YAML
// through control's cfg_load and dp_snapshot_new, as control builds them.
//
// The peers are real TCP endpoints: every peer host (a client 198.18.0.2, backends
// 198.18.0.21, ...) has a net_stack and tcp_stack of its own, so segments on the wire are the
// ones a kernel would send. Frames are copied between mbuf pools (sluice's and the peers'), as
// a NIC would, so each pool's use is checked apart. A test scripts HTTP bytes: a client sends a
// request, a backend connection reads the request sluice forwarded and answers, the client
// reads the response. Time is a fake clock: advance_ms() moves it one millisecond at a time
// and runs one worker-loop iteration (and the peers' timers) after each step; every action
// pumps frames until the wire is quiet. The wire can park a host's frames (hold/release) or
// drop them (blackhole), to script races and lost SYNs.
//
// TearDown closes what the test left open (clients and backends close gracefully), lets the
// clock run until every timer has expired, and checks that every pool is back to empty:
// sessions, px_req (used and waiting), upstream connections, TCBs (sluice's and the peers'),
// sluice's two timer wheels, and both mbuf pools (sluice's back to what an idle worker holds).
#ifndef SLUICE_PX_HARNESS_H
#define SLUICE_PX_HARNESS_H

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

extern "C" {
#include "control.h"
#include "dp_objs.h"
#include "dp_worker.h"
#include "hc.h"
#include "px.h"
}

namespace pxt
{

// 198.18.0.<host> in network order.
uint32_t addr(uint8_t host);

constexpr uint8_t SLUICE_HOST = 10;
constexpr uint8_t CLIENT_HOST = 2;
constexpr uint8_t BACKEND_A = 21, BACKEND_B = 22;
constexpr uint16_t LISTEN_PORT = 80, BACKEND_PORT = 8080;

// ---- HTTP messages as the peers see them (a parser of the harness's own) ----

struct Msg {
	bool ok = false;    // a complete message was parsed
	std::string start;  // "GET / HTTP/1.1" or "HTTP/1.1 200 OK"
	std::string method; // requests
	std::string target; // requests
	int status = 0;	    // responses
	std::vector<std::pair<std::string, std::string>> headers; // in order, as received
	std::string body; // decoded (chunked framing removed)
	std::string raw;  // the whole message as received
	bool chunked = false;

	// value of the first header called name (case-insensitive), "" when absent
	std::string header(const std::string &name) const;
	bool has(const std::string &name) const;
	int count(const std::string &name) const;
};

// Parse one message from the front of buf. Returns the bytes it takes, 0 when incomplete.
// head_only: a response to HEAD (no body). eof: the sender closed (ends a close-delimited
// body).
size_t parse_msg(const std::string &buf, bool response, Msg &out, bool head_only = false,
		 bool eof = false);

// ---- peers ----

class PxTest;
struct Host;

// One TCP connection of a peer (a client's, or one a backend accepted).
struct PeerConn {
	Host *h = nullptr;
	struct tcp_conn *c = nullptr;
	int id = 0;
	uint16_t lport = 0, rport = 0;
	std::string rx;	  // every byte received, in order
	size_t taken = 0; // bytes of rx consumed by request() / response() / take()
	bool connected = false;
	bool peer_fin = false; // sluice sent FIN
	bool closed = false;   // on_closed seen
	bool detached = false; // the script closed or aborted it
	enum tcp_close_reason reason = TCP_CLOSE_NORMAL;
	bool hold = false; // do not acknowledge received bytes to the window (slow reader)
	uint32_t held = 0; // bytes received and not given back to the window yet

	// The script's actions; each pumps the wire until it is quiet.
	void send(const std::string &bytes);
	void send_fin(const std::string &bytes); // the bytes, FIN right behind them
	void close();				 // FIN (graceful)
	void abort();				 // RST
	void shutdown();			 // FIN, still reading
	void release();				 // give held bytes back to the window
	// Received bytes not consumed yet.
	std::string pending() const
	{
		return rx.substr(taken);
	}
	std::string take(); // pending(), consumed
	// The next complete request (a backend) or response (a client) in what was received,
	// consumed; !ok (and a test failure when expect is true) if there is none yet.
	Msg request(bool expect = true);
	Msg response(bool expect = true, bool head_only = false);
	// sluice ended it: FIN or RST seen, or on_closed
	bool reset() const
	{
		return closed && reason != TCP_CLOSE_NORMAL;
	}
	std::string describe() const;
};

// A backend: listens on its host's address and port, keeps what it accepted.
struct Backend {
	Host *h = nullptr;
	uint16_t port = 0;
	bool refuse = false; // answer SYNs with RST (nothing listens)
	std::vector<PeerConn *> conns;
	// The i-th connection sluice opened to it (a test failure when there is none).
	PeerConn *conn(size_t i = 0);
	size_t n_conns() const
	{
		return conns.size();
	}
	// Connections opened and not closed yet.
	size_t n_open() const;
};

struct Host {
	PxTest *t = nullptr;
	uint8_t host = 0;
	uint32_t ip = 0; // network order
	struct rte_ether_addr mac;
	struct net_stack ns;
	struct tcp_stack ts;
	bool up = false;
	bool blackhole = false; // frames from and to it vanish
	bool hold = false;	// its frames toward sluice are parked until release
	std::vector<std::unique_ptr<PeerConn>> conns;
	std::map<uint16_t, Backend *> listeners;
};

// ---- configuration ----

// The pieces of a YAML configuration tests vary. to_yaml() writes a whole file.
struct Conf {
	uint32_t max_connections = 256; // dataplane, per worker: TCBs, sessions, upstreams
	// listener "web" on 198.18.0.10:80
	uint32_t header_timeout_ms = 2000;
	uint32_t idle_timeout_ms = 5000;
	uint64_t max_body_bytes = 0;
	uint32_t max_header_bytes = 16384;
	uint32_t max_headers = 100;
	// routes, in order: "- " lines under routes: (each one a YAML flow map)
	std::vector<std::string> routes = {
		"{ match: { path_prefix: \"/direct\" }, respond: { status: 200, body: \"hello\\n\" "
		"} }",
		"{ match: { path_prefix: \"/\" }, service: app }",
	};
	// service "app"
	std::string balance = "round_robin";
	std::vector<std::string> endpoints = { "{ name: a, address: 198.18.0.21:8080 }" };
	uint32_t pool_max_idle = 8;
	uint32_t pool_idle_timeout_ms = 4000;
	uint32_t connect_ms = 1000;
	uint32_t response_ms = 3000;
	uint32_t per_try_ms = 0; // 0: not written (none)
	std::string retries;	 // the value of the service's retries: key; "": not written
	std::string breaker;	 // the value of its circuit_breaker: key; "": not written
	std::string extra;	 // appended verbatim (more services)

	std::string to_yaml() const;
};

// ---- the fixture ----

class PxTest : public ::testing::Test
{
      protected:
	void SetUp() override;
	void TearDown() override;

      public:
	// Build the dataplane from conf and apply its first snapshot (one loop iteration).
	void start(const Conf &conf = Conf());
	void start_yaml(const std::string &yaml);
	// Publish a snapshot of a new configuration, as control's reload does (the file is the
	// truth again); the worker applies it at the top of its next loop iteration.
	void reload(const Conf &conf);
	void reload_yaml(const std::string &yaml);

	// ---- peers ----
	Host *host(uint8_t h);
	// A client connection to sluice's listener, established (a failure if not, unless
	// must is false: then see its connected and closed fields).
	PeerConn *client(uint8_t h = CLIENT_HOST, uint16_t port = LISTEN_PORT, bool must = true);
	// A backend listening on 198.18.0.<h>:port.
	Backend *backend(uint8_t h = BACKEND_A, uint16_t port = BACKEND_PORT);

	// ---- the clock and the loop ----
	// Run loop iterations until no frame is in flight (no time passes).
	void pump();
	// Move the clock ms milliseconds, 1 ms at a time, a loop iteration and a pump each.
	void advance_ms(uint64_t ms);
	uint64_t now_ms() const;
	// Let parked frames of host h go (in the order they were sent).
	void release(uint8_t h);

	// ---- observations (what sluice's counters and gauges say) ----
	uint64_t cnt(enum px_counter c) const;
	// refused requests by parser error, by name ("CL_AND_TE")
	uint64_t err(const std::string &name) const;
	struct dp_mem mem() const;
	std::string counters() const; // every non-zero px counter, for failure messages

	// ---- internals of the harness ----
	struct dp d = {};
	struct dp_worker *w = nullptr;
	struct rte_mempool *pool = nullptr;	 // sluice's mbufs
	struct rte_mempool *peer_pool = nullptr; // every peer's mbufs
	unsigned pool_baseline = 0;		 // mbufs an idle worker holds
	bool started = false;
	uint64_t now = 0; // TSC of the fake clock
	uint64_t applied_epoch = 0;
	std::vector<struct dp_conf *> confs;	   // every configuration loaded (freed at the end)
	std::vector<struct dp_snapshot *> retired; // replaced, freed once a newer one is applied
	std::map<uint8_t, std::unique_ptr<Host>> hosts;
	std::vector<std::unique_ptr<Backend>> backends;
	struct Frame {
		std::string bytes;
		uint8_t from, to; // hosts (255: broadcast)
	};
	std::deque<Frame> to_sluice, to_peers, parked;
	int next_conn_id = 1;
	uint16_t next_client_port = 40000;
	bool in_pump = false;
	std::vector<std::string> trace; // the last frames, for failure messages

	void on_sluice_tx(struct rte_mbuf *m);
	void on_peer_tx(Host *h, struct rte_mbuf *m);
	void loop_once();
	void peers_once();
	bool deliver();
	void publish(struct dp_snapshot *snap);
	struct dp_conf *load(const std::string &yaml);
	bool quiet() const;
	void drain_all(); // TearDown: close everything, run every timer out
};

} // namespace pxt

#endif // SLUICE_PX_HARNESS_H
