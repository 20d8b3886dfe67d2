/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: listener, service and endpoint objects and the runtime snapshot (types and
 * functions; dp_objs.c, dp_snapshot.c). Types only from below: no tcpstack header, so control
 * includes it.
 */
#ifndef SLUICE_DP_OBJS_H
#define SLUICE_DP_OBJS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "dp_conf.h"
#include "dp_health.h"
#include "dp_types.h"
#include "lb.h"
#include "px_types.h"

/* ---- stable identities (dp_objs.c) ----
 *
 * Listeners, services and endpoints outlive snapshots: control allocates one object per name
 * (an endpoint per SERVICE/NAME and address), every snapshot that has the name points at the
 * same object, and the object keeps its counters across weight changes, add/del server and
 * reloads. Each object carries one slot per worker, written by that worker only (control and
 * readers load its words relaxed). An object no snapshot has any more is freed by control
 * (dp_objs_gc) once no worker references it and a grace period has passed. */

/* An endpoint as worker w sees it. */
struct dp_ep_pw {
	uint64_t cnt[PX_OBJ_MAX];
	uint32_t active;    /* requests in flight from this worker */
	uint32_t conns;	    /* upstream connections (any state) that point at the endpoint */
	uint32_t idle_head; /* most recently idled upstream connection, UINT32_MAX none */
	uint32_t n_idle;
	struct lb_state *lb;	  /* balancer of the applied snapshot holding it; NULL: none */
	int32_t lb_idx;		  /* its index there */
	uint64_t epoch;		  /* last snapshot epoch that had it, as this worker applied it */
	struct px_obs_ep obs;	  /* phase sums for show stat's ctime/rtime/ttime */
	struct dp_ep_passive pas; /* outcomes of real traffic's tries (dp_health.h) */
} __rte_cache_aligned;

struct dp_service;

/* What every worker shares about an endpoint for circuit_breaker.max_connections
 * (px_upstream.c): conns, its upstream connections of every worker in any state, idle in a
 * pool included (one atomic add when one is opened, one sub when it is freed); starved_tsc,
 * until when (rte_rdtsc) a worker has a request waiting because the endpoint is at its
 * limit, so that a worker finishing a request closes the connection instead of pooling it.
 * dp: atomic read-modify-write / relaxed stores; ctl: relaxed loads. */
struct dp_ep_shared {
	uint32_t conns;
	uint64_t starved_tsc;
} __rte_cache_aligned;

struct dp_endpoint {
	/* immutable after creation */
	char *name;
	struct dp_service *svc;
	uint32_t addr; /* network order */
	uint32_t port;
	/* ctl only */
	struct dp_endpoint *next;
	bool mark;
	struct dp_ep_shared sh;
	/* one per worker (dp->n_workers) */
	struct dp_ep_pw pw[];
};

/* A service as worker w sees it: its counters and the settings of the snapshot it applied
 * last that had it (upstream connections of a removed service still need timeouts). */
struct dp_svc_pw {
	uint64_t cnt[PX_OBJ_MAX];
	uint32_t connect_ms;
	uint32_t response_ms;
	uint32_t pool_max_idle;
	uint32_t pool_idle_timeout_ms;
	uint32_t per_try_ms; /* 0: none */
	/* retries (dp_retry_conf as applied; idempotent_methods are read from the snapshot when
	 * a request starts) */
	uint32_t retry_count;
	uint32_t retry_on; /* enum dp_retry_on */
	uint32_t retry_budget_percent;
	uint64_t retry_max_body;
	uint32_t max_conns; /* circuit_breaker.max_connections per endpoint; 0: none */
	uint32_t active;    /* proxied requests of the service in flight on this worker */
	uint32_t retrying;  /* of them, on a retry (the budget bounds it) */
	/* final outcomes of its requests after their retries (the breaker): dp wo relaxed,
	 * ctl ro. ok: a response below 500; fail: 5xx, sluice's 502/503/504 included. */
	uint64_t cb_ok, cb_fail;
	uint32_t cb_run;      /* fails in a row on this worker, reset by an ok */
	uint64_t cb_rejected; /* answered 503 by the open breaker */
	struct lb_state *lb;  /* the applied snapshot's balancer for it; NULL: none */
	uint64_t epoch;
	struct px_obs_svc obs; /* latency histograms (px_obs.h) */
} __rte_cache_aligned;

/* What every worker shares about a service for circuit_breaker's appliance-wide limits
 * (px_breaker.c): one atomic add when a request takes a slot or starts waiting, one sub
 * when it gives it back. dp: atomic read-modify-write; ctl: relaxed loads. */
enum dp_cb_state {
	DP_CB_CLOSED = 0,
	DP_CB_OPEN,	 /* 503 at once, no connection */
	DP_CB_HALF_OPEN, /* one trial request for the appliance (cb_trial) */
};

/* cb_trial while half-open: free, claimed by a worker (CAS 0 -> 1), or its result */
enum { DP_CB_TRIAL_FREE = 0, DP_CB_TRIAL_CLAIMED, DP_CB_TRIAL_OK, DP_CB_TRIAL_FAIL };

struct dp_svc_shared {
	uint32_t inflight; /* requests holding a max_requests slot, all workers */
	uint32_t pending;  /* requests waiting for a slot, all workers */
	uint32_t qmax;	   /* the highest pending seen (show stat qmax) */
	/* the breaker: ctl writes cb_state (release), dp reads it (acquire); cb_trial: ctl
	 * frees it on entering half-open, one worker claims it, the same worker writes the
	 * trial's result */
	uint32_t cb_state; /* enum dp_cb_state */
	uint32_t cb_trial;
	/* ctl only: the breaker's bookkeeping (hc_breaker.c) */
	uint64_t c_ok[DP_MAX_WORKERS], c_fail[DP_MAX_WORKERS]; /* each worker's, last tick */
	uint32_t c_run;	     /* failures in a row, appliance-wide (as the ticks see them) */
	uint64_t c_until_ms; /* open: until this mono ms */
	uint64_t c_opens;    /* times it opened */
} __rte_cache_aligned;

struct dp_service {
	char *name; /* immutable */
	/* ctl only */
	struct dp_service *next;
	uint32_t n_eps; /* endpoint objects alive that point here */
	bool mark;
	struct dp_svc_shared sh;
	struct dp_svc_pw pw[];
};

/* A listener: per worker, the tcp_listen user pointer (struct px_listener, px.h). */
struct dp_listener {
	char *name; /* immutable */
	/* ctl only */
	struct dp_listener *next;
	bool mark;
	struct px_listener pw[];
};

/* ---- the runtime snapshot (dp_snapshot.c) ----
 *
 * Everything a worker reads from configuration. Immutable once published; replaced as a
 * whole by control (one pointer store), freed after every worker has applied a newer one
 * (dp_wait_quiescent). Its per-worker balancers are each owned by one worker while the
 * snapshot is applied. */

/* The runtime state of an endpoint (set server weight/state, enable/disable server). */
struct dp_ep_state {
	struct dp_endpoint *obj;
	uint32_t weight;
	uint32_t admin;	  /* enum dp_ep_admin */
	uint64_t changed; /* time(NULL) of the last change */
	uint8_t health;	  /* enum dp_ep_health, as control decided it */
	bool ejected;	  /* by outlier detection, until control says otherwise */
	/* dp_clock_ms when it last became eligible (dp_ep_eligible) while the service ran, for
	 * slow start; 0: eligible since the first snapshot, or not eligible. Set by
	 * dp_snapshot_seal, copied to the balancers' lb_endpoint.since_ms. */
	uint64_t since_ms;
};

/* Whether the balancers may send new requests to it: ready, weight > 0, health UP (not DOWN,
 * not stopping) and not ejected. Maglev tables hold exactly these endpoints. Any thread. */
static inline bool dp_ep_eligible(const struct dp_ep_state *st)
{
	return st->admin == DP_EP_READY && st->weight > 0 && st->health == DP_HEALTH_UP &&
	       !st->ejected;
}

struct dp_snap_svc {
	struct dp_service *obj;
	struct dp_ep_state *eps; /* conf->services[v].endpoints order */
	uint32_t n_eps;
	struct lb_state **lb; /* one per worker */
	/* balance maglev: the table of the endpoints eligible in this snapshot, shared by every
	 * worker's lb (lb_state.shared); NULL otherwise. Owned by the snapshot. */
	struct lb_maglev *maglev;
};

struct dp_snapshot {
	uint64_t epoch;
	const struct dp_conf *conf; /* owned by whoever published the snapshot (control) */
	struct dp_snap_svc *svcs;   /* conf->services order */
	uint32_t n_svcs;
	struct dp_listener **lsts; /* conf->listeners order */
	uint32_t n_lsts;
	uint16_t n_workers;
};

struct dp;

/* A new snapshot of conf at epoch, its objects found by name in dp's registry (created when
 * missing). Endpoint states start from conf's weights, ready, except that with prev given
 * an endpoint prev also had (the same object) keeps prev's weight and state. NULL when out
 * of memory. Control only. */
struct dp_snapshot *dp_snapshot_new(struct dp *dp, const struct dp_conf *conf,
				    const struct dp_snapshot *prev, uint64_t epoch);
/* Derive what depends on the endpoint states of snap, once they are final and before it is
 * published: each endpoint's since_ms (now when it is eligible in snap and was not, or was
 * absent, in prev, unless a seal against the same prev stamped it already; prev's value when
 * it was eligible there too; prev NULL: 0, no ramp) and the Maglev tables (rebuilt only when
 * the eligible set or a weight changed). Sealing twice changes nothing. dp_snapshot_new
 * calls it; call it again after changing a state in a built snapshot (ctl_snapshot_publish
 * does, against the snapshot it replaces). 0, or -ENOMEM (a table kept its previous value).
 * Control only. */
int dp_snapshot_seal(struct dp *dp, struct dp_snapshot *snap, const struct dp_snapshot *prev);
/* Milliseconds since the dataplane started, from the TSC, never 0: the clock of since_ms and
 * of slow start. Any thread. */
uint64_t dp_clock_ms(const struct dp *dp);
/* Free a snapshot (not its conf, not its objects). Only after no worker can see it
 * (dp_wait_quiescent). */
void dp_snapshot_free(struct dp_snapshot *snap);
/* The state of endpoint ep of service svc in snap; NULL when out of range. Any thread. */
const struct dp_ep_state *dp_snapshot_ep(const struct dp_snapshot *snap, uint32_t svc, uint32_t ep);
/* Index of the service called name in snap, -1 when none. */
int dp_snapshot_service(const struct dp_snapshot *snap, const char *name);

/* An endpoint takes new requests as far as health goes: admin ready and not stopping. */
static inline bool dp_ep_serving(const struct dp_ep_state *st)
{
	return st->admin == DP_EP_READY && st->health != DP_HEALTH_STOPPING;
}

/* Serving, UP and not ejected. */
static inline bool dp_ep_healthy(const struct dp_ep_state *st)
{
	return dp_ep_serving(st) && st->health == DP_HEALTH_UP && !st->ejected;
}

/* Panic of service svc (panic_threshold_percent): fewer healthy endpoints than that share of
 * the serving ones, but at least one healthy. In panic the balancer takes every serving
 * endpoint, DOWN and ejected ones included, rather than pile everything onto the few left;
 * with none healthy it takes none (the proxy answers 503 at once). Any thread. */
bool dp_snapshot_panic(const struct dp_snapshot *snap, uint32_t svc);

/* Find the object called name, or create it (NULL when out of memory). Control only. */
struct dp_listener *dp_listener_get(struct dp *dp, const char *name);
struct dp_service *dp_service_get(struct dp *dp, const char *name);
struct dp_endpoint *dp_endpoint_get(struct dp *dp, struct dp_service *svc, const char *name,
				    uint32_t addr, uint32_t port);

/* Free every object no snapshot but dp->snapshot could have and that no worker references
 * any more (waiting for a grace period first when there is one). Returns how many objects
 * are left waiting for workers to let go. Control only, with the published snapshot applied
 * by every worker (after dp_wait_quiescent). */
unsigned int dp_objs_gc(struct dp *dp);
/* Free every object (after the workers stopped). */
void dp_objs_free(struct dp *dp);

/* Sum of per-worker counter i of an object over the dp's workers (relaxed loads). Any
 * thread, while the object is alive. */
uint64_t dp_ep_sum(const struct dp *dp, const struct dp_endpoint *ep, unsigned int i);
uint64_t dp_svc_sum(const struct dp *dp, const struct dp_service *svc, unsigned int i);
uint64_t dp_lst_sum(const struct dp *dp, const struct dp_listener *l, unsigned int i);
/* Requests in flight on ep, and sessions of listener l, over every worker. */
uint32_t dp_ep_active(const struct dp *dp, const struct dp_endpoint *ep);
uint32_t dp_lst_conns(const struct dp *dp, const struct dp_listener *l);

#endif /* SLUICE_DP_OBJS_H */
