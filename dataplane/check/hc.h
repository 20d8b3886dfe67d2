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

struct dp_worker;

#include "hc_types.h"

struct hc_slot; /* one probe in flight, private to hc_probe.c */
struct dp_probe;

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
