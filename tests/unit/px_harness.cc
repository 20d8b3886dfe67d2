// SPDX-License-Identifier: BSD-3-Clause
// sluice tests: the proxy-layer harness (see px_harness.h).
#include "px_harness.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <sstream>

#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

extern "C" {
#include "tcp_isn.h"
#include "tcp_wheel.h"
}

namespace pxt
{

uint32_t addr(uint8_t host)
{
	return rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, host));
}

static struct rte_ether_addr mac_of(uint8_t host)
{
	struct rte_ether_addr m = { { 0x02, 0, 0, 0, 0x18, host } };
	return m;
}

static const uint8_t BROADCAST = 255;
static const unsigned SLUICE_MBUFS = 4095, PEER_MBUFS = 4095;

// The tx hooks find the fixture from here: one test runs at a time.
static PxTest *g_cur;

// ---- HTTP messages ----

static std::string lower(std::string s)
{
	for (auto &ch : s)
		ch = (char)tolower((unsigned char)ch);
	return s;
}

static std::string trim(const std::string &s)
{
	size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
	return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string Msg::header(const std::string &name) const
{
	for (auto &h : headers)
		if (lower(h.first) == lower(name))
			return h.second;
	return "";
}

bool Msg::has(const std::string &name) const
{
	return count(name) > 0;
}

int Msg::count(const std::string &name) const
{
	int n = 0;
	for (auto &h : headers)
		n += lower(h.first) == lower(name);
	return n;
}

// Decode a chunked body starting at off; returns the offset after it, 0 when incomplete.
static size_t parse_chunked(const std::string &b, size_t off, std::string &body)
{
	for (;;) {
		size_t eol = b.find("\r\n", off);
		if (eol == std::string::npos)
			return 0;
		size_t n = strtoul(b.substr(off, eol - off).c_str(), nullptr, 16);
		off = eol + 2;
		if (n == 0) {
			// trailer fields, then an empty line
			for (;;) {
				eol = b.find("\r\n", off);
				if (eol == std::string::npos)
					return 0;
				bool empty = eol == off;
				off = eol + 2;
				if (empty)
					return off;
			}
		}
		if (b.size() < off + n + 2)
			return 0;
		body += b.substr(off, n);
		off += n + 2;
	}
}

size_t parse_msg(const std::string &buf, bool response, Msg &out, bool head_only, bool eof)
{
	size_t end = buf.find("\r\n\r\n");
	Msg m;

	if (end == std::string::npos)
		return 0;
	std::istringstream lines(buf.substr(0, end));
	std::string line;
	std::getline(lines, line);
	if (!line.empty() && line.back() == '\r')
		line.pop_back();
	m.start = line;
	while (std::getline(lines, line)) {
		if (!line.empty() && line.back() == '\r')
			line.pop_back();
		size_t colon = line.find(':');
		if (colon == std::string::npos)
			continue;
		m.headers.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
	}
	if (response) {
		m.status = m.start.size() >= 12 ? atoi(m.start.substr(9, 3).c_str()) : 0;
	} else {
		size_t sp1 = m.start.find(' '), sp2 = m.start.rfind(' ');
		m.method = m.start.substr(0, sp1);
		if (sp1 != std::string::npos && sp2 > sp1)
			m.target = m.start.substr(sp1 + 1, sp2 - sp1 - 1);
	}
	size_t off = end + 4;
	bool bodyless =
		response && (head_only || m.status < 200 || m.status == 204 || m.status == 304);
	if (!bodyless &&
	    lower(m.header("Transfer-Encoding")).find("chunked") != std::string::npos) {
		m.chunked = true;
		off = parse_chunked(buf, off, m.body);
		if (off == 0)
			return 0;
	} else if (!bodyless && m.has("Content-Length")) {
		size_t n = strtoul(m.header("Content-Length").c_str(), nullptr, 10);
		if (buf.size() < off + n)
			return 0;
		m.body = buf.substr(off, n);
		off += n;
	} else if (!bodyless && response) {
		if (!eof)
			return 0; // close-delimited: ends with the connection
		m.body = buf.substr(off);
		off = buf.size();
	}
	m.raw = buf.substr(0, off);
	m.ok = true;
	out = m;
	return off;
}

// ---- peers ----

static PeerConn *user(struct tcp_conn *c)
{
	return static_cast<PeerConn *>(tcp_conn_user(c));
}

static void *peer_accept(struct tcp_conn *c, void *lu)
{
	Backend *b = static_cast<Backend *>(lu);
	Host *h = b->h;

	h->conns.push_back(std::make_unique<PeerConn>());
	PeerConn *pc = h->conns.back().get();
	struct tcp_tuple t;
	tcp_conn_tuple(c, &t);
	pc->h = h;
	pc->c = c;
	pc->id = h->t->next_conn_id++;
	pc->lport = t.lport;
	pc->rport = t.rport;
	pc->connected = true;
	b->conns.push_back(pc);
	return pc;
}

static void peer_connected(struct tcp_conn *c)
{
	user(c)->connected = true;
}

static void peer_data(struct tcp_conn *c, struct rte_mbuf *m)
{
	PeerConn *pc = user(c);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	std::string d(len, '\0');
	const void *p = rte_pktmbuf_read(m, 0, len, &d[0]);

	if (p != nullptr && p != &d[0])
		memcpy(&d[0], p, len);
	pc->rx += d;
	rte_pktmbuf_free(m);
	if (pc->hold)
		pc->held += len;
	else
		tcp_recved(c, len);
}

static void peer_fin(struct tcp_conn *c)
{
	user(c)->peer_fin = true;
}

static void peer_closed(struct tcp_conn *c, enum tcp_close_reason r)
{
	PeerConn *pc = user(c);

	pc->closed = true;
	pc->reason = r;
}

static const struct tcp_ops peer_ops = {
	peer_accept, peer_connected, peer_data, nullptr, peer_fin, peer_closed,
};

static struct rte_mbuf *make_chain(struct rte_mempool *mp, const std::string &data)
{
	struct rte_mbuf *head = nullptr;
	size_t off = 0;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		if (m == nullptr) {
			rte_pktmbuf_free(head);
			return nullptr;
		}
		size_t n = std::min(data.size() - off, (size_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), data.data() + off, n);
		off += n;
		if (head == nullptr)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return nullptr;
		}
	} while (off < data.size());
	return head;
}

void PeerConn::send(const std::string &bytes)
{
	if (closed || detached) {
		ADD_FAILURE() << describe() << ": send on a closed connection (test bug)";
		return;
	}
	struct rte_mbuf *m = make_chain(h->t->peer_pool, bytes);
	ASSERT_NE(m, nullptr) << "peer mbuf pool empty";
	int rc = tcp_send(c, m);
	EXPECT_EQ(rc, 0) << describe() << ": tcp_send";
	h->t->pump();
}

void PeerConn::send_fin(const std::string &bytes)
{
	if (closed || detached) {
		ADD_FAILURE() << describe() << ": send on a closed connection (test bug)";
		return;
	}
	struct rte_mbuf *m = make_chain(h->t->peer_pool, bytes);
	ASSERT_NE(m, nullptr) << "peer mbuf pool empty";
	EXPECT_EQ(tcp_send(c, m), 0) << describe() << ": tcp_send";
	EXPECT_EQ(tcp_shutdown(c), 0) << describe();
	h->t->pump();
}

void PeerConn::close()
{
	if (closed || detached)
		return;
	detached = true;
	tcp_close(c);
	h->t->pump();
}

void PeerConn::abort()
{
	if (closed || detached)
		return;
	detached = true;
	tcp_abort(c);
	h->t->pump();
}

void PeerConn::shutdown()
{
	if (closed || detached)
		return;
	EXPECT_EQ(tcp_shutdown(c), 0) << describe();
	h->t->pump();
}

void PeerConn::release()
{
	uint32_t n = held;

	held = 0;
	hold = false;
	if (n > 0 && !closed && !detached)
		tcp_recved(c, n);
	h->t->pump();
}

std::string PeerConn::take()
{
	std::string s = pending();
	taken = rx.size();
	return s;
}

Msg PeerConn::request(bool expect)
{
	Msg m;
	size_t n = parse_msg(pending(), false, m);

	if (n == 0) {
		if (expect)
			ADD_FAILURE() << describe() << ": no complete request; received \""
				      << pending() << "\"";
		return Msg();
	}
	taken += n;
	return m;
}

Msg PeerConn::response(bool expect, bool head_only)
{
	Msg m;
	size_t n = parse_msg(pending(), true, m, head_only, peer_fin || closed);

	if (n == 0) {
		if (expect)
			ADD_FAILURE() << describe() << ": no complete response; received \""
				      << pending() << "\"" << (peer_fin ? " then FIN" : "")
				      << (closed ? " then closed" : "");
		return Msg();
	}
	taken += n;
	return m;
}

std::string PeerConn::describe() const
{
	std::ostringstream o;
	o << "conn#" << id << " (198.18.0." << (int)h->host << ":" << lport << ")";
	return o.str();
}

PeerConn *Backend::conn(size_t i)
{
	if (i >= conns.size()) {
		ADD_FAILURE() << "backend 198.18.0." << (int)h->host << ":" << port << " has "
			      << conns.size() << " connections, wanted #" << i;
		return nullptr;
	}
	return conns[i];
}

size_t Backend::n_open() const
{
	size_t n = 0;
	for (auto *c : conns)
		n += !c->closed && !c->detached && !c->peer_fin;
	return n;
}

// ---- configuration ----

std::string Conf::to_yaml() const
{
	std::ostringstream o;

	o << "dataplane:\n  max_connections: " << max_connections << "\n"
	  << "  ports:\n    - { name: lan, device: net_null0, address: 198.18.0.10/24 }\n"
	  << "listeners:\n  - name: web\n    port: 80\n"
	  << "    limits: { header_timeout_ms: " << header_timeout_ms
	  << ", idle_timeout_ms: " << idle_timeout_ms << ", max_body_bytes: " << max_body_bytes
	  << ", max_header_bytes: " << max_header_bytes << ", max_headers: " << max_headers
	  << " }\n    routes:\n";
	for (auto &r : routes)
		o << "      - " << r << "\n";
	o << "services:\n  app:\n    balance: " << balance << "\n    endpoints:\n";
	for (auto &e : endpoints)
		o << "      - " << e << "\n";
	o << "    pool: { max_idle_per_endpoint: " << pool_max_idle
	  << ", idle_timeout_ms: " << pool_idle_timeout_ms << " }\n"
	  << "    timeouts: { connect_ms: " << connect_ms << ", response_ms: " << response_ms;
	if (per_try_ms != 0)
		o << ", per_try_ms: " << per_try_ms;
	o << " }\n";
	if (!retries.empty())
		o << "    retries: " << retries << "\n";
	if (!breaker.empty())
		o << "    circuit_breaker: " << breaker << "\n";
	o << extra;
	return o.str();
}

// ---- the wire ----

static std::string mbuf_bytes(const struct rte_mbuf *m)
{
	std::string d(rte_pktmbuf_pkt_len(m), '\0');
	const void *p = rte_pktmbuf_read(m, 0, d.size(), &d[0]);

	if (p != nullptr && p != &d[0])
		memcpy(&d[0], p, d.size());
	return d;
}

// "2:40000 > 10:80 SA seq=1 ack=2 len=0" for the trace.
static std::string describe_frame(const std::string &f)
{
	std::ostringstream o;

	if (f.size() < 14)
		return "runt";
	uint16_t type = (uint16_t)((uint8_t)f[12] << 8 | (uint8_t)f[13]);
	if (type == 0x0806)
		return "arp";
	if (type != 0x0800 || f.size() < 34)
		return "other";
	const uint8_t *ip = (const uint8_t *)f.data() + 14;
	size_t ihl = (ip[0] & 0xf) * 4, tot = (size_t)(ip[2] << 8 | ip[3]);
	if (ip[9] != 6 || f.size() < 14 + ihl + 20)
		return "ip";
	const uint8_t *th = ip + ihl;
	size_t doff = (th[12] >> 4) * 4;
	uint8_t fl = th[13];
	o << (int)ip[15] << ":" << (th[0] << 8 | th[1]) << " > " << (int)ip[19] << ":"
	  << (th[2] << 8 | th[3]) << " ";
	o << ((fl & 0x02) ? "S" : "") << ((fl & 0x01) ? "F" : "") << ((fl & 0x04) ? "R" : "")
	  << ((fl & 0x08) ? "P" : "") << ((fl & 0x10) ? "." : "");
	o << " len=" << (tot - ihl - doff);
	return o.str();
}

static uint8_t host_of_mac(const std::string &f)
{
	const uint8_t *d = (const uint8_t *)f.data();

	if (d[0] == 0xff)
		return BROADCAST;
	return d[5];
}

static void sluice_tx(struct net_stack *ns, uint16_t port, struct rte_mbuf *m)
{
	g_cur->on_sluice_tx(m);
}

static void peer_tx(struct net_stack *ns, uint16_t port, struct rte_mbuf *m)
{
	g_cur->on_peer_tx(static_cast<Host *>(ns->owner), m);
}

static void peer_ip_deliver(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex)
{
	tcp_input(&static_cast<Host *>(ns->owner)->ts, m);
}

void PxTest::on_sluice_tx(struct rte_mbuf *m)
{
	Frame f;

	f.bytes = mbuf_bytes(m);
	rte_pktmbuf_free(m); // as a NIC does once it has sent the frame
	f.from = SLUICE_HOST;
	f.to = host_of_mac(f.bytes);
	to_peers.push_back(std::move(f));
}

void PxTest::on_peer_tx(Host *h, struct rte_mbuf *m)
{
	Frame f;

	f.bytes = mbuf_bytes(m);
	rte_pktmbuf_free(m);
	f.from = h->host;
	f.to = SLUICE_HOST;
	if (h->blackhole)
		return;
	if (h->hold)
		parked.push_back(std::move(f));
	else
		to_sluice.push_back(std::move(f));
}

static struct rte_mbuf *frame_mbuf(struct rte_mempool *mp, const std::string &bytes)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	if (m == nullptr)
		return nullptr;
	char *p = rte_pktmbuf_append(m, (uint16_t)bytes.size());
	if (p == nullptr) {
		rte_pktmbuf_free(m);
		return nullptr;
	}
	memcpy(p, bytes.data(), bytes.size());
	m->port = 0;
	return m;
}

void PxTest::release(uint8_t h)
{
	Host *hp = host(h);

	hp->hold = false;
	for (auto it = parked.begin(); it != parked.end();) {
		if (it->from == h) {
			to_sluice.push_back(std::move(*it));
			it = parked.erase(it);
		} else {
			++it;
		}
	}
	pump();
}

static void note(std::vector<std::string> &trace, uint64_t ms, const std::string &f)
{
	if (trace.size() >= 64)
		trace.erase(trace.begin());
	trace.push_back("t=" + std::to_string(ms) + " " + describe_frame(f));
}

// ---- the worker loop, as dp_worker_main runs it ----

void PxTest::loop_once()
{
	const struct dp_snapshot *snap = __atomic_load_n(&d.snapshot, __ATOMIC_ACQUIRE);

	if (snap != nullptr && snap->epoch != applied_epoch) {
		px_apply(w, snap);
		applied_epoch = snap->epoch;
	}
	w->ns.now = now;
	while (!to_sluice.empty()) {
		Frame f = std::move(to_sluice.front());
		to_sluice.pop_front();
		note(trace, now_ms(), f.bytes);
		struct rte_mbuf *m = frame_mbuf(w->pool, f.bytes);
		if (m == nullptr) {
			ADD_FAILURE() << "sluice's mbuf pool is empty";
			continue;
		}
		net_rx(&w->ns, m);
	}
	hc_poll(w); // health probes, where dp_worker_main runs them (no rings: nothing to do)
	net_timer(&w->ns);
	tcp_timers(&w->ts);
	px_timers(w);
	px_flushed(w); // what sluice sent is on the wire (on_sluice_tx)
	// the quiescent report: what control waited for to free the snapshots this replaced
	if (!retired.empty() && snap != nullptr && applied_epoch == snap->epoch) {
		for (auto *s : retired)
			dp_snapshot_free(s);
		retired.clear();
	}
	dp_objs_gc(&d);
}

void PxTest::peers_once()
{
	while (!to_peers.empty()) {
		Frame f = std::move(to_peers.front());
		to_peers.pop_front();
		note(trace, now_ms(), f.bytes);
		for (auto &kv : hosts) {
			Host *h = kv.second.get();
			if (h->blackhole || (f.to != BROADCAST && f.to != h->host))
				continue;
			h->ns.now = now;
			struct rte_mbuf *m = frame_mbuf(peer_pool, f.bytes);
			if (m == nullptr) {
				ADD_FAILURE() << "the peers' mbuf pool is empty";
				continue;
			}
			net_rx(&h->ns, m);
		}
	}
	for (auto &kv : hosts) {
		Host *h = kv.second.get();
		h->ns.now = now;
		net_timer(&h->ns);
		tcp_timers(&h->ts);
	}
}

void PxTest::pump()
{
	if (!started || in_pump)
		return;
	in_pump = true;
	for (int round = 0;; round++) {
		if (round == 10000) {
			ADD_FAILURE() << "the wire never went quiet (livelock?)";
			break;
		}
		bool had_in = !to_sluice.empty();
		loop_once();
		bool had_out = !to_peers.empty();
		peers_once();
		if (!had_in && !had_out && to_sluice.empty())
			break;
	}
	in_pump = false;
}

void PxTest::advance_ms(uint64_t ms)
{
	for (uint64_t i = 0; i < ms; i++) {
		now += d.hz / 1000;
		pump();
	}
}

uint64_t PxTest::now_ms() const
{
	return d.hz ? (now - d.started_tsc) / (d.hz / 1000) : 0;
}

// ---- set-up ----

void PxTest::SetUp()
{
	g_cur = this;
}

struct dp_conf *PxTest::load(const std::string &yaml)
{
	char path[] = "/tmp/px_test_XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0) {
		ADD_FAILURE() << "mkstemp";
		return nullptr;
	}
	EXPECT_EQ(write(fd, yaml.data(), yaml.size()), (ssize_t)yaml.size());
	::close(fd);
	struct cfg_errors errs = {};
	struct dp_conf *c = cfg_load(path, &errs);
	if (c == nullptr) {
		std::string e;
		for (unsigned i = 0; i < errs.n; i++)
			e += std::string("\n  ") + errs.lines[i];
		ADD_FAILURE() << "configuration refused:" << e << "\n" << yaml;
	}
	cfg_errors_free(&errs);
	unlink(path);
	if (c != nullptr)
		confs.push_back(c);
	return c;
}

void PxTest::start(const Conf &conf)
{
	start_yaml(conf.to_yaml());
}

void PxTest::start_yaml(const std::string &yaml)
{
	static unsigned seq;
	char name[RTE_MEMPOOL_NAMESIZE], err[256] = "";

	ASSERT_FALSE(started) << "test bug: start twice";
	struct dp_conf *conf = load(yaml);
	ASSERT_NE(conf, nullptr);
	ASSERT_EQ(conf->dataplane.workers, 1u);

	snprintf(name, sizeof(name), "pxs%u", seq);
	pool = rte_pktmbuf_pool_create(name, SLUICE_MBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	ASSERT_NE(pool, nullptr) << rte_strerror(rte_errno);
	snprintf(name, sizeof(name), "pxp%u", seq++);
	peer_pool = rte_pktmbuf_pool_create(name, PEER_MBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    SOCKET_ID_ANY);
	ASSERT_NE(peer_pool, nullptr) << rte_strerror(rte_errno);

	// What dp_init does, without ports and lcores.
	memset(&d, 0, sizeof(d));
	d.conf = conf;
	d.n_workers = 1;
	d.hz = rte_get_tsc_hz();
	d.started_tsc = rte_rdtsc();
	now = d.started_tsc;
	d.pools[0] = pool;
	w = static_cast<struct dp_worker *>(
		rte_zmalloc("px_test_worker", sizeof(*w), RTE_CACHE_LINE_SIZE));
	ASSERT_NE(w, nullptr);
	w->dp = &d;
	w->pool = pool;
	d.workers[0] = w;
	dp_worker_init(w);
	w->ns.hooks.tx = sluice_tx; // the wire instead of a port's TX queue
	w->ns.now = now;
	struct net_if nif = {};
	nif.port_id = 0;
	nif.mtu = 1500;
	nif.mac = mac_of(SLUICE_HOST);
	nif.addr = addr(SLUICE_HOST);
	nif.mask = rte_cpu_to_be_32(0xffffff00u);
	ASSERT_EQ(net_stack_add_if(&w->ns, &nif), 0);
	d.secret.k0 = 0x0123456789abcdefull;
	d.secret.k1 = 0xfedcba9876543210ull;
	dp_listen_ports_add(&d, conf);
	ASSERT_EQ(dp_tcp_init(w, err, sizeof(err)), 0) << err;
	started = true;

	struct dp_snapshot *snap = dp_snapshot_new(&d, conf, nullptr, 1);
	ASSERT_NE(snap, nullptr);
	publish(snap);
	pump();
	ASSERT_EQ(applied_epoch, 1u);
	pool_baseline = rte_mempool_in_use_count(pool);
}

void PxTest::publish(struct dp_snapshot *snap)
{
	dp_listen_ports_add(&d, snap->conf); // new listener ports first, as control does
	struct dp_snapshot *old = dp_publish(&d, snap);
	if (old != nullptr)
		retired.push_back(old);
}

void PxTest::reload(const Conf &conf)
{
	reload_yaml(conf.to_yaml());
}

void PxTest::reload_yaml(const std::string &yaml)
{
	struct dp_conf *conf = load(yaml);
	ASSERT_NE(conf, nullptr);
	struct dp_snapshot *snap = dp_snapshot_new(&d, conf, nullptr, d.snapshot->epoch + 1);
	ASSERT_NE(snap, nullptr);
	publish(snap);
	pump();
}

Host *PxTest::host(uint8_t hn)
{
	auto it = hosts.find(hn);
	if (it != hosts.end())
		return it->second.get();
	EXPECT_TRUE(started) << "test bug: start() before creating peers";
	auto h = std::make_unique<Host>();
	h->t = this;
	h->host = hn;
	h->ip = addr(hn);
	h->mac = mac_of(hn);
	struct net_hooks hooks = {};
	hooks.tx = peer_tx;
	hooks.ip_deliver = peer_ip_deliver;
	net_stack_init(&h->ns, peer_pool, &hooks, d.hz);
	h->ns.owner = h.get();
	h->ns.now = now;
	struct net_if nif = {};
	nif.port_id = 0;
	nif.mtu = 1500;
	nif.mac = h->mac;
	nif.addr = h->ip;
	nif.mask = rte_cpu_to_be_32(0xffffff00u);
	EXPECT_EQ(net_stack_add_if(&h->ns, &nif), 0);
	struct tcp_conf tc = {};
	tc.max_connections = 512;
	tc.time_wait_ms = 1000; // the peers' TIME_WAIT is not what is tested
	tc.fin_wait_2_ms = 2000;
	tc.socket_id = SOCKET_ID_ANY;
	struct tcp_secret sec = { 0x1111ull + hn, 0x2222ull + hn };
	EXPECT_EQ(tcp_stack_init(&h->ts, &h->ns, &tc, &sec), 0);
	h->up = true;
	// neighbours known on both sides: the first segment is not queued behind ARP
	struct rte_ether_addr sm = mac_of(SLUICE_HOST);
	arp_learn(&h->ns, addr(SLUICE_HOST), &sm, 0);
	arp_learn(&w->ns, h->ip, &h->mac, 0);
	Host *r = h.get();
	hosts[hn] = std::move(h);
	return r;
}

PeerConn *PxTest::client(uint8_t hn, uint16_t port, bool must)
{
	Host *h = host(hn);
	h->conns.push_back(std::make_unique<PeerConn>());
	PeerConn *pc = h->conns.back().get();
	pc->h = h;
	pc->id = next_conn_id++;
	pc->lport = next_client_port++;
	pc->rport = port;
	pc->c = tcp_connect(&h->ts, 0, pc->lport, addr(SLUICE_HOST), port, &peer_ops, pc);
	if (pc->c == nullptr) {
		ADD_FAILURE() << "client tcp_connect: " << rte_strerror(rte_errno);
		return nullptr;
	}
	pump();
	if (must) {
		EXPECT_TRUE(pc->connected)
			<< pc->describe() << ": handshake with sluice did not complete";
	}
	return pc;
}

Backend *PxTest::backend(uint8_t hn, uint16_t port)
{
	Host *h = host(hn);
	backends.push_back(std::make_unique<Backend>());
	Backend *b = backends.back().get();
	b->h = h;
	b->port = port;
	EXPECT_EQ(tcp_listen(&h->ts, 0, port, &peer_ops, b), 0);
	h->listeners[port] = b;
	return b;
}

// ---- observations ----

uint64_t PxTest::cnt(enum px_counter c) const
{
	return w->px.cnt[c];
}

uint64_t PxTest::err(const std::string &name) const
{
	for (int i = 0; i < PX_ERR_MAX; i++)
		if (px_error_names[i] == "refused_" + name)
			return w->px.err[i];
	ADD_FAILURE() << "no parser error called " << name;
	return 0;
}

struct dp_mem PxTest::mem() const
{
	struct dp_mem m;
	memset(&m, 0, sizeof(m));
	dp_mem_worker(w, &m);
	return m;
}

std::string PxTest::counters() const
{
	std::ostringstream o;
	for (int i = 0; i < PX_CNT_MAX; i++)
		if (w->px.cnt[i])
			o << " " << px_counter_names[i] << "=" << w->px.cnt[i];
	for (int i = 0; i < PX_ERR_MAX; i++)
		if (w->px.err[i])
			o << " " << px_error_names[i] << "=" << w->px.err[i];
	return o.str();
}

// ---- tear-down ----

bool PxTest::quiet() const
{
	struct dp_mem m = mem();

	if (m.sessions_used || m.upstreams_used || m.reqs_used || m.reqs_waiting || m.tcbs_used)
		return false;
	for (auto &kv : hosts)
		if (kv.second->ts.conns_used)
			return false;
	return true;
}

void PxTest::drain_all()
{
	for (auto &kv : hosts) {
		Host *h = kv.second.get();
		h->blackhole = false;
		h->hold = false;
		for (auto &pc : h->conns)
			if (!pc->closed && !pc->detached && pc->c != nullptr) {
				pc->detached = true;
				tcp_close(pc->c);
			}
	}
	for (auto &f : parked)
		to_sluice.push_back(std::move(f));
	parked.clear();
	pump();
	// Orphans finish on their own: timeouts, lingering closes, TIME_WAIT (60 s in sluice),
	// in 10 ms steps.
	for (int i = 0; i < 30000 && !quiet(); i++) {
		now += 10 * (d.hz / 1000);
		pump();
	}
}

void PxTest::TearDown()
{
	if (!started) {
		for (auto *c : confs)
			cfg_free(c);
		confs.clear();
		return;
	}
	if (HasFailure()) {
		printf("  px counters:%s\n  last frames:\n", counters().c_str());
		for (auto &t : trace)
			printf("    %s\n", t.c_str());
	}
	drain_all();

	// Every pool back to empty once every peer has gone.
	struct dp_mem m = mem();
	EXPECT_EQ(m.sessions_used, 0u) << "sessions left";
	EXPECT_EQ(m.reqs_used, 0u) << "px_req left";
	EXPECT_EQ(m.reqs_waiting, 0u) << "sessions still waiting for a px_req";
	EXPECT_EQ(m.upstreams_used, 0u) << "upstream connections left";
	EXPECT_EQ(m.tcbs_used, 0u) << "sluice TCBs left";
	EXPECT_EQ(m.tcbs_time_wait, 0u);
	EXPECT_EQ(m.ooo_mbufs, 0u);
	EXPECT_EQ(tcp_wheel_armed(&w->ts.wheel), 0u) << "TCP timers armed with no connection left";
	EXPECT_EQ(tcp_wheel_armed(&w->px.wheel), 0u) << "proxy timers armed with no session left";
	for (auto &kv : hosts)
		EXPECT_EQ(kv.second->ts.conns_used, 0u)
			<< "peer 198.18.0." << (int)kv.first << " TCBs left";
	EXPECT_EQ(rte_mempool_in_use_count(pool), pool_baseline)
		<< "sluice mbufs held with no connection left";

	dp_worker_fini(w); // px_fini, the probes, the TCP stack, the net stack
	dp_probe_fini(w);  // the probe rings, when a test created them
	rte_free(w);
	w = nullptr;
	for (auto *s : retired)
		dp_snapshot_free(s);
	retired.clear();
	dp_snapshot_free(d.snapshot);
	d.snapshot = nullptr;
	dp_objs_free(&d);
	for (auto &kv : hosts) {
		tcp_stack_fini(&kv.second->ts);
		net_stack_fini(&kv.second->ns);
	}
	hosts.clear();
	to_sluice.clear();
	to_peers.clear();
	EXPECT_EQ(rte_mempool_in_use_count(pool), 0u) << "sluice mbufs leaked";
	EXPECT_EQ(rte_mempool_in_use_count(peer_pool), 0u) << "peer mbufs leaked";
	rte_mempool_free(pool);
	rte_mempool_free(peer_pool);
	pool = peer_pool = nullptr;
	for (auto *c : confs)
		cfg_free(c);
	confs.clear();
	started = false;
	g_cur = nullptr;
}

} // namespace pxt
