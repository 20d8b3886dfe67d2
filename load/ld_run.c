/* SPDX-License-Identifier: BSD-3-Clause
 * sluice-load's run: the port and its queue pair, tcpstack's net and TCP layers on it (one
 * interface per local address), the poll loop, and the phases of a run (warm-up, measured
 * window, drain; idle mode: open, hold, close).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "ld_impl.h"

#define LD_RX_DESC 1024
#define LD_TX_DESC 1024
#define LD_LINK_WAIT_S 10 /* for the link (a memif peer) to come up */
#define LD_CLOSE_WAIT_S 2 /* for our FINs to be acknowledged at the end */
#define LD_LINGER_MS 1500 /* at the end, quiet time before leaving (a retransmitted FIN) */
#define LD_CLOSE_STEP 256 /* connections closed per loop iteration at the end */
#define LD_OPEN_MAX_S 120 /* idle mode: bound of the open phase when --warmup is 0 */

/* Frames the TX ring did not take wait in g->txq, in order, and go first at the next poll;
 * while any wait, new connections and closes are not started (ld_tx_backlog), so a target
 * slower than we are (or not scheduled for a while: a shared CPU) slows us down instead of
 * losing segments that TCP would only retransmit after a timeout. */
static void txq_push(struct ld_gen *g, struct rte_mbuf *m)
{
	if (g->txq_tail - g->txq_head >= LD_TXQ) {
		g->res->tx_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	g->txq[g->txq_tail++ & (LD_TXQ - 1)] = m;
}

static void ld_tx(struct net_stack *ns, uint16_t port_id, struct rte_mbuf *m)
{
	struct ld_gen *g = ns->owner;

	if (g->txq_tail != g->txq_head) {
		txq_push(g, m);
		return;
	}
	rte_eth_tx_buffer(port_id, 0, g->txb, m);
}

static void ld_tx_unsent(struct rte_mbuf **pkts, uint16_t unsent, void *arg)
{
	struct ld_gen *g = arg;

	for (uint16_t i = 0; i < unsent; i++)
		txq_push(g, pkts[i]);
}

/* Send what waits in g->txq, as much as the ring takes. */
static void txq_drain(struct ld_gen *g)
{
	while (g->txq_head != g->txq_tail) {
		uint32_t at = g->txq_head & (LD_TXQ - 1);
		uint32_t n = RTE_MIN(g->txq_tail - g->txq_head, LD_TXQ - at);
		uint16_t sent = rte_eth_tx_burst(g->port_id, 0, &g->txq[at],
						 (uint16_t)RTE_MIN(n, (uint32_t)LD_BURST));

		g->txq_head += sent;
		if (sent == 0)
			return;
	}
}

static void ld_ip_deliver(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex)
{
	struct ld_gen *g = ns->owner;
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);

	if (ip->next_proto_id != IPPROTO_TCP) {
		ns->cnt[NET_CNT_ip_drop_proto]++;
		rte_pktmbuf_free(m);
		return;
	}
	tcp_input(&g->ts, m);
}

static int port_setup(struct ld_gen *g, char *err, size_t errlen)
{
	const struct ld_conf *cf = g->conf;
	struct rte_eth_conf ec = { 0 };
	struct rte_eth_dev_info info;
	struct rte_eth_link link = { 0 };
	uint16_t nrx = LD_RX_DESC, ntx = LD_TX_DESC, mtu;
	uint32_t tx_offloads;
	int rc;

	if (!rte_eth_dev_is_valid_port(cf->port_id)) {
		snprintf(err, errlen, "no DPDK port %u (give one with --vdev or -a)", cf->port_id);
		return -ENODEV;
	}
	g->port_id = cf->port_id;
	rc = rte_eth_dev_info_get(g->port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: cannot read device info", g->port_id);
		return rc;
	}
	tx_offloads = info.tx_offload_capa &
		      (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
		       RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
	ec.txmode.offloads = tx_offloads;
	rc = rte_eth_dev_configure(g->port_id, 1, 1, &ec);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: configure failed: %s", g->port_id,
			 rte_strerror(-rc));
		return rc;
	}
	if (rte_eth_dev_get_mtu(g->port_id, &mtu) != 0 || mtu != cf->mtu)
		rte_eth_dev_set_mtu(g->port_id, (uint16_t)cf->mtu); /* best effort (memif) */
	rte_eth_dev_adjust_nb_rx_tx_desc(g->port_id, &nrx, &ntx);
	rc = rte_eth_rx_queue_setup(g->port_id, 0, nrx, rte_socket_id(), NULL, g->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(g->port_id, 0, ntx, rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(g->port_id);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: queue setup or start failed: %s", g->port_id,
			 rte_strerror(-rc));
		return rc;
	}
	g->txb = rte_zmalloc("ld_txb", RTE_ETH_TX_BUFFER_SIZE(LD_BURST), 0);
	if (g->txb == NULL) {
		snprintf(err, errlen, "cannot allocate the TX buffer");
		return -ENOMEM;
	}
	rte_eth_tx_buffer_init(g->txb, LD_BURST);
	rte_eth_tx_buffer_set_err_callback(g->txb, ld_tx_unsent, g);

	for (unsigned int i = 0; i < LD_LINK_WAIT_S * 100; i++) {
		if (rte_eth_link_get_nowait(g->port_id, &link) == 0 && link.link_status)
			break;
		rte_delay_us_sleep(10000);
	}
	if (!link.link_status) {
		snprintf(err, errlen, "port %u: link still down after %u s", g->port_id,
			 LD_LINK_WAIT_S);
		return -ENETDOWN;
	}

	struct net_if nif = {
		.port_id = g->port_id,
		.mtu = (uint16_t)cf->mtu,
		.mask = rte_cpu_to_be_32(~0u << (32 - cf->prefix)),
		.gateway = cf->gateway,
		.tx_offloads = tx_offloads,
	};
	rte_eth_macaddr_get(g->port_id, &nif.mac);
	for (unsigned int a = 0; a < cf->n_addrs; a++) {
		nif.addr = rte_cpu_to_be_32(rte_be_to_cpu_32(cf->addr) + a);
		if (net_stack_add_if(&g->ns, &nif) < 0) {
			snprintf(err, errlen, "too many local addresses");
			return -ENOSPC;
		}
		nif.gateway = 0; /* one default route */
	}
	return 0;
}

static int stacks_init(struct ld_gen *g, char *err, size_t errlen)
{
	static const struct net_hooks hooks = { .tx = ld_tx, .ip_deliver = ld_ip_deliver };
	const struct ld_conf *cf = g->conf;
	struct tcp_secret sec;
	/* TIME_WAIT is ours only when we close first (keep-alive's end); 1 s is plenty for a
	 * generator and keeps the TCBs it pins few. */
	struct tcp_conf tc = {
		.max_connections = cf->conns * 2 + 64,
		.time_wait_ms = 1000,
		.socket_id = SOCKET_ID_ANY,
	};
	/* Idle connections hold no mbuf; only those being opened or answered do. */
	uint32_t nmbufs =
		cf->mbufs != 0 ? cf->mbufs : RTE_MAX(8192u, RTE_MIN(cf->conns * 4 + 4096, 131072u));
	int rc;

	/* Idle mode closes only at the end: one TCB per connection, and some room for the
	 * TIME_WAIT of connections the server closed while they were opening. */
	if (cf->mode == LD_IDLE)
		tc.max_connections = cf->conns + cf->conns / 16 + 64;
	g->pool = rte_pktmbuf_pool_create("ld_mbufs", nmbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  rte_socket_id());
	if (g->pool == NULL) {
		snprintf(err, errlen, "cannot create %u mbufs (give EAL more memory with -m)",
			 nmbufs);
		return -ENOMEM;
	}
	net_stack_init(&g->ns, g->pool, &hooks, g->hz);
	g->ns.owner = g;
	g->ns.now = rte_rdtsc();
	rc = port_setup(g, err, errlen);
	if (rc != 0)
		return rc;
	sec.k0 = rte_rand();
	sec.k1 = rte_rand();
	rc = tcp_stack_init(&g->ts, &g->ns, &tc, &sec);
	if (rc != 0) {
		snprintf(err, errlen, "cannot allocate %u TCBs (give EAL more memory with -m)",
			 tc.max_connections);
		return rc;
	}
	g->res->tcb_bytes = (uint32_t)tcp_conn_size();
	return 0;
}

static void poll_once(struct ld_gen *g)
{
	struct rte_mbuf *pkts[LD_BURST];
	uint64_t now = rte_rdtsc();
	uint16_t n;

	g->ns.now = now;
	txq_drain(g);
	n = rte_eth_rx_burst(g->port_id, 0, pkts, LD_BURST);
	for (uint16_t i = 0; i < n; i++)
		net_rx(&g->ns, pkts[i]);
	if (n != 0)
		g->last_rx_tsc = now;
	net_timer(&g->ns);
	tcp_timers(&g->ts);
	ld_conns_timers(g, now);
	if (g->phase < LD_P_DRAIN && g->txq_head == g->txq_tail && ld_conns_start(g) != 0)
		n++;
	rte_eth_tx_buffer_flush(g->port_id, 0, g->txb);
	if (g->txq_head != g->txq_tail)
		n++; /* not idle: frames wait */
	if (n == 0 && g->conf->idle_sleep_us != 0)
		rte_delay_us_sleep(g->conf->idle_sleep_us);
}

static void phase_line(struct ld_gen *g, FILE *out, const char *name)
{
	fprintf(out, "phase %s\n", name);
	fflush(out);
}

static void progress(struct ld_gen *g, uint64_t *last_tsc, uint64_t *last_resp, uint64_t now)
{
	uint64_t resp = g->res->meas.responses;
	uint64_t errs = 0;

	if (g->conf->quiet || now - *last_tsc < g->hz)
		return;
	for (unsigned int e = 0; e < LD_E_MAX; e++)
		errs += g->res->meas.err[e];
	fprintf(stderr, "sluice-load: %lu req/s, %u open, %lu errors\n",
		(unsigned long)((resp - *last_resp) * g->hz / (now - *last_tsc)), g->established,
		(unsigned long)errs);
	*last_tsc = now;
	*last_resp = resp;
}

/* Keep-alive and close modes: warm-up, measured window, drain of the requests in flight. */
static void run_load(struct ld_gen *g, volatile sig_atomic_t *stop, FILE *out)
{
	const struct ld_conf *cf = g->conf;
	uint64_t t0 = rte_rdtsc(), warm_end = t0 + (uint64_t)(cf->warmup_s * g->hz), meas_start = 0;
	uint64_t meas_end = UINT64_MAX, last = 0, last_resp = 0, drain_end = UINT64_MAX, now;

	g->phase = LD_P_WARM;
	g->cur = &g->res->warm;
	phase_line(g, out, "warmup");
	for (;;) {
		poll_once(g);
		now = rte_rdtsc();
		if (g->phase == LD_P_WARM && (now >= warm_end || *stop)) {
			g->phase = LD_P_MEAS;
			g->cur = &g->res->meas;
			meas_start = last = now;
			meas_end = now + (uint64_t)(cf->duration_s * g->hz);
			phase_line(g, out, "measure");
		}
		if (g->phase == LD_P_MEAS) {
			progress(g, &last, &last_resp, now);
			if (now >= meas_end || *stop || g->max_reached) {
				g->res->meas_s = (double)(now - meas_start) / g->hz;
				g->phase = LD_P_DRAIN;
				g->cur = &g->res->drain;
				drain_end = now + g->timeout_tsc;
				phase_line(g, out, "drain");
			}
		}
		if (g->phase == LD_P_DRAIN && (g->in_flight == 0 || now >= drain_end))
			break;
	}
}

/* Idle mode: open every connection (one request each), hold them for the duration, end. */
static void run_idle(struct ld_gen *g, volatile sig_atomic_t *stop, FILE *out)
{
	const struct ld_conf *cf = g->conf;
	double open_s = cf->warmup_s > 0 ? cf->warmup_s : LD_OPEN_MAX_S;
	uint64_t t0 = rte_rdtsc(), open_end = t0 + (uint64_t)(open_s * g->hz);
	uint64_t hold_start = 0, hold_end = UINT64_MAX, now;

	g->phase = LD_P_WARM;
	g->cur = &g->res->meas; /* idle mode reports the open phase and the hold together */
	phase_line(g, out, "open");
	for (;;) {
		poll_once(g);
		now = rte_rdtsc();
		if (g->phase == LD_P_WARM &&
		    (g->held + g->idle_failed >= cf->conns || now >= open_end || *stop)) {
			g->phase = LD_P_MEAS;
			hold_start = now;
			hold_end = now + (uint64_t)(cf->duration_s * g->hz);
			fprintf(out, "held %u\n", g->held);
			phase_line(g, out, "hold");
		}
		if (g->phase == LD_P_MEAS && (now >= hold_end || *stop)) {
			/* the window is the open phase and the hold: its responses are the first
			 * requests of the connections */
			g->res->meas_s = (double)(now - t0) / g->hz;
			g->res->hold_s = (double)(now - hold_start) / g->hz;
			g->res->held = g->held;
			g->phase = LD_P_DRAIN;
			g->cur = &g->res->drain;
			break;
		}
	}
}

int ld_run(const struct ld_conf *c, volatile sig_atomic_t *stop, FILE *out, struct ld_result *r,
	   char *err, size_t errlen)
{
	struct ld_gen *g;
	uint64_t end;
	int rc;

	memset(r, 0, sizeof(*r));
	g = rte_zmalloc("ld_gen", sizeof(*g), RTE_CACHE_LINE_SIZE);
	if (g == NULL) {
		snprintf(err, errlen,
			 "cannot allocate the generator (give EAL more memory with -m)");
		return -ENOMEM;
	}
	g->conf = c;
	g->res = r;
	g->cur = &r->warm;
	g->hz = rte_get_tsc_hz();
	g->timeout_tsc = (uint64_t)c->timeout_ms * g->hz / 1000;
	g->req_len = (uint32_t)snprintf(
		g->req, sizeof(g->req),
		"GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sluice-load\r\n%s\r\n", c->path,
		c->host, c->mode == LD_CLOSE ? "Connection: close\r\n" : "");
	rc = stacks_init(g, err, errlen);
	if (rc == 0) {
		rc = ld_conns_init(g);
		if (rc != 0)
			snprintf(err, errlen, "cannot allocate %u connection slots", c->conns);
	}
	if (rc == 0) {
		if (c->mode == LD_IDLE)
			run_idle(g, stop, out);
		else
			run_load(g, stop, out);
		phase_line(g, out, "close");
		/* closes in progress (FIN sent, not yet in TIME_WAIT) are bounded like handshakes */
		for (bool done = false; !done;) {
			uint32_t closing = g->ts.conns_used - g->ts.time_wait - g->open;

			if (g->txq_head == g->txq_tail && closing < LD_CONNECT_WINDOW)
				done = ld_conns_close_some(g, LD_CLOSE_STEP);
			poll_once(g);
		}
		/* FINs lost to a full ring are retransmitted: give them time in proportion */
		end = rte_rdtsc() + (LD_CLOSE_WAIT_S + c->conns / 50000) * g->hz;
		/* and stay while the target still sends: a FIN it retransmits because our last
		 * ACK was lost is answered from TIME_WAIT only while we run */
		while ((g->ts.conns_used > g->ts.time_wait || g->txq_head != g->txq_tail ||
			rte_rdtsc() - g->last_rx_tsc < LD_LINGER_MS * g->hz / 1000) &&
		       rte_rdtsc() < end)
			poll_once(g);
		phase_line(g, out, "end");
	}
	while (g->txq_head != g->txq_tail)
		rte_pktmbuf_free(g->txq[g->txq_head++ & (LD_TXQ - 1)]);
	ld_conns_fini(g);
	if (g->ts.conns != NULL)
		tcp_stack_fini(&g->ts);
	net_stack_fini(&g->ns);
	if (g->txb != NULL) {
		rte_eth_dev_stop(g->port_id);
		rte_eth_dev_close(g->port_id);
	}
	rte_free(g->txb);
	rte_mempool_free(g->pool);
	rte_free(g);
	return rc;
}
