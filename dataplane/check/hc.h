/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: the worker side of active health checks (docs/health.md, "Probes on the
 * workers").
 *
 * Control hands a worker probes (struct dp_probe, dp_health.h) on its probe ring; once per
 * loop iteration the worker takes a bounded burst of them and runs each through its own TCP
 * stack: a TCP connect from a source port that steers replies back to it, from a TCB reserve
 * the traffic never uses (tcp_conf.reserve_connections), then for HTTP one request and the
 * response's status line, headers and at most DP_PROBE_BODY_MAX body bytes. Once the verdict
 * is known the connection is aborted (RST: no TIME_WAIT), and the probe goes back to control
 * on the reply ring with its result filled. A probe is its own small object with its own state
 * machine; its TCP callbacks run that machine and nothing else. Probes never touch the
 * proxy's sessions, upstream pools or counters.
 *
 * Every function here runs on the worker that owns w unless its comment says otherwise.
 */
#ifndef SLUICE_HC_H
#define SLUICE_HC_H

#include <stddef.h>
#include <stdint.h>

#include "tcp_wheel.h"

struct dp_worker;

/* Per-worker probe counters (show ports: group "probe"). One of the result counters
 * (l4ok..skipped) counts every probe answered; the no_* counters say why a probe was answered
 * SOCKERR or L4CON without a connection. */
#define HC_COUNTERS(X)                                                                  \
	X(received) /* probes taken from the request ring */                            \
	X(started)  /* connections opened */                                            \
	X(l4ok)                                                                         \
	X(l4tout)                                                                       \
	X(l4con)                                                                        \
	X(l7ok)                                                                         \
	X(l7tout)                                                                       \
	X(l7rsp)                                                                        \
	X(l7sts)                                                                        \
	X(sockerr)                                                                      \
	X(skipped)   /* late_tsc had passed when the worker took it */                  \
	X(no_slot)   /* every probe slot in use */                                      \
	X(no_tcb)    /* the TCB reserve empty */                                        \
	X(no_port)   /* no free source port of this worker toward that address */       \
	X(no_route)  /* no interface routes to the address */                           \
	X(no_mbuf)   /* no mbuf for an HTTP request */                                  \
	X(bad_probe) /* a request part control filled inconsistently (type, req_len) */ \
	X(rep_full)  /* the reply ring was full (control broke its bound): answer held back */

enum hc_counter {
#define HC_CNT_ENUM(name) HC_CNT_##name,
	HC_COUNTERS(HC_CNT_ENUM)
#undef HC_CNT_ENUM
		HC_CNT_MAX
};

extern const char *const hc_counter_names[HC_CNT_MAX];

#define HC_BURST 16 /* probes taken from the request ring per loop iteration at most */

/* Probe TCBs and probe slots per worker: max(HC_RESERVE_MIN, max_connections / 64), at most
 * DP_PROBE_RING_SIZE - 1 (control never has more in flight on one worker). */
#define HC_RESERVE_MIN 16
#define HC_RESERVE_DIVISOR 64

struct hc_slot; /* one probe in flight, private to hc_probe.c */
struct dp_probe;

/* One worker's executor. dp: rw; ctl: ro (cnt and the gauges, relaxed). */
struct hc_worker {
	uint64_t cnt[HC_CNT_MAX];
	uint32_t n_slots; /* probe slots, as many as reserve TCBs */
	uint32_t used;	  /* slots in use (gauge) */
	uint32_t hwm;	  /* high-water mark of used */

	struct hc_slot *slots;
	uint32_t free_head;		 /* free slots, UINT32_MAX none */
	uint32_t done_head, done_tail;	 /* answered slots waiting for the reply ring */
	uint32_t port_cursor;		 /* next source port to try */
	uint32_t n_held;		 /* answers without a slot held back (rep full) */
	struct dp_probe *held[HC_BURST]; /* those answers */
	struct tcp_wheel wheel;		 /* each probe's deadline */
};

/* TCBs to reserve for probes on a worker whose pool has max_connections. Any thread. */
uint32_t hc_reserve_size(uint32_t max_connections);

/* Allocate w's probe slots (as many as w->ts's reserve TCBs). 0 or -ENOMEM. Before the worker
 * starts, after tcp_stack_init. */
int hc_init(struct dp_worker *w);

/* Drop every probe in flight: free() each (control's blocks), release the slots. No callback
 * and no packet: for after the worker stopped, before or after tcp_stack_fini. */
void hc_fini(struct dp_worker *w);

/* Once per loop iteration: run due deadlines, take at most HC_BURST new probes and start or
 * skip each, and answer the probes that have their verdict. Returns the work done (probes
 * taken, timed out or answered), 0 when idle. Worker only. */
unsigned int hc_poll(struct dp_worker *w);

/* sizeof(struct hc_slot), for the memory report. Any thread. */
size_t hc_slot_size(void);

#endif /* SLUICE_HC_H */
