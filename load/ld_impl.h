/* SPDX-License-Identifier: BSD-3-Clause
 * sluice-load internals shared by ld_run.c (port, stacks, loop, phases) and ld_conn.c (the
 * client connections' state machine). Not a public header.
 */
#ifndef SLUICE_LD_IMPL_H
#define SLUICE_LD_IMPL_H

#include <rte_ethdev.h>

#include "http_parse.h"
#include "ld.h"
#include "tcp_wheel.h"

#define LD_BURST 32
#define LD_IOV_MAX 64
#define LD_NONE UINT32_MAX
#define LD_PORT_TRIES 64      /* local ports tried for one connect before giving up */
#define LD_CONNECT_WINDOW 512 /* handshakes in progress at most */
#define LD_TXQ 65536	      /* frames waiting for the TX ring, at most (power of two) */

/* A slot's state; see ld_conn.c's header comment for the transitions. */
enum ld_state {
	LD_S_FREE = 0, /* no connection; on the start list or parked */
	LD_S_CONNECTING,
	LD_S_SENT,     /* request sent, response not complete */
	LD_S_WAIT_FIN, /* close mode: response complete, waiting for the server's FIN */
	LD_S_HELD,     /* idle mode: response complete, connection held */
};

/* The run's phases, in order. Requests are only started in WARM and MEAS (and OPEN/HOLD in
 * idle mode); DRAIN waits for the requests in flight, then every connection is closed. */
enum ld_phase {
	LD_P_WARM = 0,
	LD_P_MEAS,
	LD_P_DRAIN,
	LD_P_END,
};

struct ld_gen;

struct ld_conn {
	struct ld_gen *g;
	struct tcp_conn *c; /* NULL when none */
	struct tcp_timer timer;
	struct rte_mbuf *rx; /* response bytes while its head is incomplete */
	uint64_t start_tsc;  /* request sent */
	uint32_t idx;
	uint32_t next; /* start list */
	uint32_t head_off;
	uint8_t state;
	uint8_t addr_i; /* which local address */
	bool head_done;
	bool peer_fin;
	bool on_list;
	struct http_msg msg;
	struct http_body body;
};

struct ld_gen {
	const struct ld_conf *conf;
	struct ld_result *res;
	struct ld_stats *cur; /* the window counts go to */
	struct rte_mempool *pool;
	struct rte_eth_dev_tx_buffer *txb;
	uint16_t port_id;
	enum ld_phase phase;
	uint64_t hz;
	uint64_t timeout_tsc;

	struct net_stack ns;
	struct tcp_stack ts;
	struct tcp_wheel wheel; /* connect / response deadlines */

	struct ld_conn *conns;
	uint32_t start_head, start_tail; /* slots waiting for a connection */
	uint32_t established;		 /* connections open now (after the handshake) */
	uint32_t in_flight;		 /* requests sent and not ended */
	uint32_t connecting;		 /* connections in SYN_SENT */
	uint32_t open;			 /* slots with a connection (any state) */
	uint32_t held;			 /* idle mode: connections held now */
	uint32_t idle_failed;		 /* idle mode: slots that ended without being held */
	bool max_reached;		 /* --max-requests responses in the measured window */
	uint64_t last_rx_tsc;		 /* when a poll last received frames */
	uint32_t close_pos;		 /* next slot ld_conns_close_some looks at */
	uint32_t next_addr;
	uint16_t next_port[LD_MAX_ADDRS];
	char req[LD_PATH_MAX + LD_HOST_MAX + 128];
	uint32_t req_len;

	/* frames the TX ring did not take yet (ld_run.c), a FIFO of LD_TXQ */
	uint32_t txq_head, txq_tail;
	struct rte_mbuf *txq[LD_TXQ];
};

/* ld_conn.c */
int ld_conns_init(struct ld_gen *g);
void ld_conns_fini(struct ld_gen *g);
/* Start up to connect_burst connections from the start list. */
unsigned int ld_conns_start(struct ld_gen *g);
/* Fire due deadlines. */
void ld_conns_timers(struct ld_gen *g, uint64_t now);
/* Close up to max more connections (graceful FIN), walking the slots once; true once every
 * slot was passed. In steps, so that a million FINs do not overflow the TX ring at once. */
bool ld_conns_close_some(struct ld_gen *g, uint32_t max);

#endif /* SLUICE_LD_IMPL_H */
