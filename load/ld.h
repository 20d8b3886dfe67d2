/* SPDX-License-Identifier: BSD-3-Clause
 * sluice-load: an HTTP/1.1 load generator on sluice's own userspace TCP stack (module ld_).
 *
 * One process, one DPDK port, one lcore (the main one): the port's frames go through
 * tcpstack (ARP, IPv4, TCP) as in the appliance, and N client connections send HTTP/1.1
 * GETs, one at a time each (no pipelining), parse every response's status line and framing
 * with the dataplane's parser, and count every status class and every error kind. It is
 * built for the DPDK-only benchmark path (bench/memif.sh) and for operators who want to load
 * a sluice on a NIC without a kernel client in the way (docs/load-generator.md).
 *
 * Modes: keep-alive (each connection carries requests until the run ends), close (one request
 * per connection, Connection: close), idle (each connection sends one request, then is held
 * open without traffic, for holding many idle connections against one appliance).
 *
 * Everything runs on the calling thread; nothing here is shared with another thread except the
 * stop flag, which a signal handler may set.
 */
#ifndef SLUICE_LD_H
#define SLUICE_LD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "net.h"
#include "px_hist.h"
#include "tcp.h"

#define LD_MAX_ADDRS NET_MAX_IFS /* one tcpstack interface per local address */
#define LD_PATH_MAX 1024
#define LD_HOST_MAX 256

enum ld_mode {
	LD_KEEPALIVE = 0,
	LD_CLOSE,
	LD_IDLE,
};

/* What the command line asks for (ld_opts.c). Addresses in network order, ports in host
 * order, as in tcpstack. */
struct ld_conf {
	uint32_t addr;	   /* first local address */
	uint32_t n_addrs;  /* consecutive local addresses from addr (1..LD_MAX_ADDRS) */
	uint8_t prefix;	   /* prefix length of the link (24) */
	uint32_t gateway;  /* 0: the target is on the link */
	uint32_t target;   /* target address */
	uint16_t tport;	   /* target port */
	uint16_t port_id;  /* DPDK port (0: the first probed) */
	uint16_t lport_lo; /* local ports used, per local address (1024..65535) */
	uint16_t lport_hi;
	uint32_t conns;		/* connections (10) */
	double duration_s;	/* measured seconds (10); idle: seconds held */
	double warmup_s;	/* seconds before measuring (0) */
	uint32_t timeout_ms;	/* connect, and request to complete response (2000) */
	uint64_t max_requests;	/* stop after this many responses in the measured window; 0: none */
	uint32_t mbufs;		/* mbuf pool (0: sized from conns) */
	uint32_t mtu;		/* 1500 */
	uint32_t connect_burst; /* new connections started per loop iteration (64) */
	uint32_t idle_sleep_us; /* sleep when a poll found nothing (0: busy poll), to share a
				 * CPU with the target */
	enum ld_mode mode;
	bool quiet; /* no progress lines on stderr */
	char path[LD_PATH_MAX];
	char host[LD_HOST_MAX]; /* "" = the target address */
};

/* Error kinds, each counted by name. */
#define LD_ERRORS(X)                                                                        \
	X(connect_refused) /* RST to our SYN: nothing listens */                            \
	X(connect_timeout) /* no SYN-ACK within timeout_ms (or SYN retries ran out) */      \
	X(connect_local)   /* no local port or TCB free, no route */                        \
	X(reset)	   /* RST on an established connection before the response ended */ \
	X(closed)	   /* FIN before the response ended (or before any response) */     \
	X(timeout)	   /* no complete response within timeout_ms */                     \
	X(malformed)	   /* response the parser refuses, or bytes after it */

enum ld_err {
#define LD_ERR_ENUM(name) LD_E_##name,
	LD_ERRORS(LD_ERR_ENUM)
#undef LD_ERR_ENUM
		LD_E_MAX
};

extern const char *const ld_err_names[LD_E_MAX];

/* Counts of one window (warm-up, measured, drain). */
struct ld_stats {
	uint64_t requests;  /* requests sent */
	uint64_t responses; /* complete responses */
	uint64_t status[6]; /* by class: [1]..[5], [0] anything else */
	uint64_t err[LD_E_MAX];
	uint64_t connects;  /* connections established */
	uint64_t bytes_in;  /* response bytes (heads and bodies) */
	struct px_hist lat; /* request sent to response complete, µs */
};

/* What a run produced: the three windows and what idle mode held. */
struct ld_result {
	struct ld_stats warm, meas, drain;
	double meas_s; /* measured window as it really lasted (idle: open phase and hold) */
	double hold_s; /* idle: the hold as it really lasted */
	uint32_t established_max; /* connections open at once, highest */
	uint32_t held;		  /* idle: connections open when the hold ended */
	uint32_t hold_lost;	  /* idle: connections the peer closed while held */
	uint64_t tx_dropped;	  /* frames the port did not take */
	uint32_t tcb_bytes;	  /* sizeof one TCB of ours */
};

/* Parse the generator's own options (after EAL's). Returns 0, or -EINVAL with one line for
 * the user in err. */
int ld_opts_parse(struct ld_conf *c, int argc, char **argv, char *err, size_t errlen);
void ld_opts_usage(FILE *f, const char *prog);

/* Set up the port, the stacks and the connection slots, run the whole test, tear down.
 * *stop (set by a signal) ends the current phase early. Writes phase lines to out as the
 * run goes ("phase measure", ...). Returns 0 or a negative errno with err filled. Main lcore,
 * after rte_eal_init. */
int ld_run(const struct ld_conf *c, volatile sig_atomic_t *stop, FILE *out, struct ld_result *r,
	   char *err, size_t errlen);

/* Print the result in the fixed "key value" format of docs/load-generator.md. */
void ld_report(FILE *f, const struct ld_conf *c, const struct ld_result *r);

#endif /* SLUICE_LD_H */
