/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: requests from control to one worker and their replies (module dp_ctl_).
 *
 * Each worker has two single-producer/single-consumer rings of pointers: req (control
 * produces, the worker consumes) and rep (the worker produces, control consumes). A message
 * (struct dp_ctl_msg) is one malloc block of control's: control fills it and sends it on req;
 * from then until control takes it back from rep, the worker owns it and everything it
 * points to, and control neither reads nor frees it. The worker answers every message,
 * unknown types with rc -ENOTSUP, by putting the same pointer on rep. A message whose answer
 * control stopped waiting for (a worker that did not answer in time) stays the worker's until
 * it comes back, and control collects it then (or dp_stop frees it).
 *
 * Control keeps at most DP_CTL_RING_SIZE messages in flight per worker (dp_ctl_send refuses
 * more), and both rings hold that many, so the worker's reply never finds rep full.
 *
 * Workers look at req once per loop iteration (one dequeue: a read of a cache line control
 * writes only when it sends) and work on one message at a time; a long one (show conns over
 * a large session pool) is served in bounded slices over several iterations, so a command
 * never stalls a worker's packets.
 *
 * This header includes no tcpstack header: control reads everything below.
 */
#ifndef SLUICE_DP_CTL_H
#define SLUICE_DP_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_ring;
struct dp;
struct dp_worker;

#define DP_CTL_RING_SIZE 8 /* messages in flight per worker (ring sizes: exact) */

enum dp_ctl_type {
	DP_CTL_CONNS = 1, /* list client sessions: struct dp_ctl_conns */
};

#define DP_CONN_NAME 48	   /* bytes of a listener, service or endpoint name kept (cut) */
#define DP_CONN_METHOD 16  /* bytes of a method kept */
#define DP_CONN_TARGET 128 /* bytes of a request target kept */
#define DP_CONN_NONE UINT64_MAX

/* One client session as its worker saw it while answering DP_CTL_CONNS. Strings are
 * NUL-terminated ("" when there is none); state strings point at static text. */
struct dp_conn_info {
	const char *tcp_state;	  /* the client connection's: "ESTABLISHED", "CLOSE_WAIT", ... */
	const char *state;	  /* the session's: "idle", "head", "body", "respond", "forward",
				* "wait-response", "tunnel", "closing" (docs/control.md) */
	const char *up_tcp_state; /* the upstream connection's, NULL when none */
	uint64_t req_age_ms;	  /* since the first byte of the request in progress; NONE */
	uint64_t req_in;	  /* bytes of it read from the client so far; NONE */
	uint64_t req_out;	  /* bytes sent to the client for it so far; NONE */
	uint32_t idle_ms;	  /* since the last segment from the client */
	uint32_t rtt_us;	  /* smoothed RTT of the client connection, 0: no sample */
	uint32_t sendq;		  /* bytes queued to the client, sent or not, unacknowledged */
	uint32_t client_addr;	  /* network order */
	uint32_t local_addr;	  /* network order */
	uint32_t ep_addr;	  /* the endpoint's, network order; 0: no upstream */
	uint16_t client_port, local_port;
	uint16_t ep_port;
	uint16_t up_port; /* local port of the upstream connection; 0: none */
	uint16_t worker;
	uint16_t status; /* response status being sent, 0: none yet */
	char listener[DP_CONN_NAME];
	char method[DP_CONN_METHOD];
	char target[DP_CONN_TARGET]; /* only while the session holds it (docs/control.md) */
	char service[DP_CONN_NAME];
	char endpoint[DP_CONN_NAME];
};

/* DP_CTL_CONNS: control sets ent (max entries, in the same malloc block as the message) and
 * max; the worker fills the rest. */
struct dp_ctl_conns {
	struct dp_conn_info *ent;
	uint32_t max;
	uint32_t n;	    /* dp: entries filled */
	uint32_t sessions;  /* dp: client sessions open when the walk ended */
	uint32_t upstreams; /* dp: upstream connections open then (busy, connecting or idle) */
	uint32_t cursor;    /* dp: next session slot to look at */
	uint32_t slices;    /* dp: loop iterations the walk took */
};

struct dp_ctl_msg {
	uint16_t type; /* ctl: enum dp_ctl_type */
	int16_t rc;    /* dp: 0, or -ENOTSUP for a type the worker does not know */
	uint32_t seq;  /* ctl: its own tag, left as it is */
	union {
		struct dp_ctl_conns conns;
	};
};

/* One worker's side: set up by dp_ctl_init before the workers start. */
struct dp_ctl_pw {
	struct rte_ring *req;	/* ctl: producer, dp: consumer */
	struct rte_ring *rep;	/* dp: producer, ctl: consumer */
	struct dp_ctl_msg *cur; /* dp only: the request being served */
	uint32_t inflight;	/* ctl only: messages sent and not back yet */
};

/* Create every worker's rings. Control only, in dp_init. Returns 0 or -ENOMEM with one line
 * in err. */
int dp_ctl_init(struct dp *dp, char *err, size_t errlen);

/* After w stopped (dp_stop): free (free()) every message it still holds, free its rings. */
void dp_ctl_fini(struct dp_worker *w);

/* Worker only, once per loop: take the next request if none is being served, serve a bounded
 * slice of it, answer it when done. Returns 0 when there was nothing to do. */
unsigned int dp_ctl_poll(struct dp_worker *w);

/* Control only. Send m to w: -ENOBUFS when DP_CTL_RING_SIZE messages are in flight already,
 * -ENODEV when w has no rings; ownership passes to w only on 0. */
int dp_ctl_send(struct dp_worker *w, struct dp_ctl_msg *m);

/* Control only. The next message w answered (ownership back to control), NULL when none. */
struct dp_ctl_msg *dp_ctl_recv(struct dp_worker *w);

/* Worker side of DP_CTL_CONNS (px_conns.c): fill up to max entries at out from w's session
 * slots starting at *cursor, looking at no more than PX_CONNS_SLICE slots; *cursor moves past
 * the slots looked at and reaches the pool size when the walk is over. Returns the entries
 * filled. Worker only. */
#define PX_CONNS_SLICE 4096
unsigned int px_conns_fill(struct dp_worker *w, uint32_t *cursor, struct dp_conn_info *out,
			   unsigned int max);
/* True once *cursor went past every session slot of w. */
bool px_conns_done(const struct dp_worker *w, uint32_t cursor);

#endif /* SLUICE_DP_CTL_H */
