/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: the health engine (module hc_, control side; dataplane/check/hc.h is the
 * workers' side). Active checks scheduled by control and executed by the workers, HAProxy's
 * rise/fall, passive outlier detection, and what operators see of them (show health, show
 * stat and show servers state columns, Prometheus, the transition log line). docs/health.md
 * says what it does and why.
 *
 * The engine keeps one record per endpoint object (struct hc_ep, a control table keyed by the
 * stable dp_endpoint), so health survives every snapshot rebuild and every reload that keeps
 * the endpoint. Each snapshot control builds gets its dp_ep_state.health and .ejected from
 * here (hc_sync, called by ctl_snapshot_build). hc_run, once per control tick, takes probe
 * results back, reads the workers' passive counters, sends the probes that are due, and says
 * when a state changed so that a new snapshot is due.
 *
 * Everything here is control only.
 */
#ifndef SLUICE_HC_CTL_H
#define SLUICE_HC_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_objs.h"
#include "dp_run.h"
#include "dp_types.h"

struct ctl_buf;

#define HC_HISTORY 8 /* probe results kept per endpoint for show health */

/* How probes reach the workers. The real one (hc_exec_dp) uses dp_probe_send/recv; unit
 * tests pass their own. send returns 0 when the probe left (the worker owns it until recv
 * hands it back) or a negative errno (ring full: it did not leave). */
struct hc_exec {
	int (*send)(void *ctx, uint16_t worker, struct dp_probe *p);
	struct dp_probe *(*recv)(void *ctx, uint16_t worker);
	void *ctx;
};

/* The time of one tick: monotonic and wall-clock ms, and the TSC (and its rate) for
 * dp_probe.late_tsc. */
struct hc_clock {
	uint64_t mono_ms;
	uint64_t wall_ms;
	uint64_t tsc;
	uint64_t hz;
};

struct hc_result {
	uint64_t wall_ms;
	uint32_t duration_us;
	uint16_t code;
	uint16_t worker;
	uint8_t status; /* enum dp_check_status */
	char detail[DP_PROBE_DETAIL];
};

enum hc_eject_reason { HC_EJECT_5XX = 0, HC_EJECT_GATEWAY };

/* One endpoint's health, for as long as a snapshot has its object (and while a probe of it
 * is out). */
struct hc_ep {
	struct hc_ep *next;
	const struct dp_endpoint *obj; /* the key; only compared once the endpoint left */
	char *svc, *name;	       /* copies, for logs */
	uint32_t v, e;		       /* its indices in the last snapshot synced */
	bool present;		       /* in the last snapshot synced */

	/* active checks: the service's health_check as of the last sync */
	bool checks;   /* health_check configured */
	bool disabled; /* "disable health" */
	uint32_t interval_ms, fast_ms, down_ms, rise, fall;
	uint32_t health; /* HAProxy's check.health: 0..rise+fall-1, UP from rise on */
	uint8_t state;	 /* enum dp_ep_health */
	uint64_t next_ms;
	bool inflight;
	uint64_t sent_ms;
	struct hc_result last; /* status DP_CHK_INI: none yet */
	struct hc_result hist[HC_HISTORY];
	uint64_t n_results; /* results ever taken (hist is a ring over them) */
	uint64_t sent, passed, failed, skipped;
	uint64_t chkfail, chkdown; /* HAProxy's failed_checks and down_trans */
	uint64_t lastchg_wall_ms;  /* last state change (start: creation) */
	uint64_t down_since_ms;	   /* mono, 0 when not DOWN */
	uint64_t downtime_ms;	   /* DOWN periods that ended */
	char why[160];		   /* the last transition, in the log's words */

	/* outlier detection */
	struct dp_outlier_conf od;
	uint32_t base5[DP_MAX_WORKERS], basegw[DP_MAX_WORKERS]; /* runs already acted upon */
	uint64_t seen_ok[DP_MAX_WORKERS], seen_5xx[DP_MAX_WORKERS];
	uint32_t run5, rungw; /* appliance-wide runs as of the last tick */
	bool ejected;
	bool wait_check; /* its time is over; it waits for a passing check */
	uint64_t eject_until_ms;
	uint32_t n_ejections;
	uint64_t eject_wall_ms, return_wall_ms;
	uint8_t eject_reason; /* enum hc_eject_reason */

	struct dp_probe tmpl; /* the request part, built at sync */
	/* The probe block, malloc'ed (dp_health.h: one block of control's, which the dataplane
	 * frees if it still holds it when the workers stop). Control's except while inflight. */
	struct dp_probe *probe;
};

struct hc {
	struct hc_exec exec;
	struct hc_ep *eps;
	uint16_t n_workers;
	uint16_t next_worker;
	uint32_t inflight[DP_MAX_WORKERS];
	uint64_t seq;
	uint64_t rng;
	uint64_t sent, skipped_ring, skipped_late, results, ejections;
	bool dirty; /* a state a snapshot carries changed */
};

/* A new engine sending over exec (copied), or over the workers' rings of dp when exec is
 * NULL. NULL when out of memory. */
struct hc *hc_new(const struct hc_exec *exec, struct dp *dp);
/* Free it, after the workers stopped. Probes still out are the dataplane's (dp_probe_fini
 * frees those its rings hold). NULL is fine. */
void hc_free(struct hc *hc);

/* Learn snap's endpoints (new ones start as HAProxy starts a server: UP, health at rise),
 * take their services' settings, and write every endpoint's health and ejected into snap.
 * Before snap is published. hc may be NULL (nothing written). */
void hc_sync(struct hc *hc, const struct dp *dp, struct dp_snapshot *snap, uint64_t now_ms);

/* One tick: results in, passive counters read, ejections decided, due probes out. Returns
 * true when a state a snapshot carries changed (the caller builds and publishes one). */
bool hc_run(struct hc *hc, const struct dp *dp, const struct hc_clock *clk);

/* Whether conf needs the 10 ms control tick (a service with checks or outlier detection). */
bool hc_wanted(const struct dp_conf *conf);

/* The engine's record of endpoint object obj; NULL when none. */
struct hc_ep *hc_find(const struct hc *hc, const struct dp_endpoint *obj);

/* set server S/E health up|stopping|down, enable/disable health (as HAProxy). Return 0, or
 * -EINVAL for an unknown word. The caller publishes a new snapshot when hc->dirty. */
int hc_set_health(struct hc *hc, const struct dp *dp, struct hc_ep *r, const char *word,
		  uint64_t now_ms, uint64_t wall_ms);
void hc_enable(struct hc *hc, const struct dp *dp, struct hc_ep *r, bool on, uint64_t now_ms,
	       uint64_t wall_ms);
/* Outlier detection's part of a tick (hc_outlier.c). */
void hc_outlier_run(struct hc *hc, const struct dp *dp, const struct hc_clock *clk);
/* Circuit breakers (hc_breaker.c): sum the workers' final outcomes per service, open,
 * half-open and close (dp_svc_shared.cb_state). Every tick. */
void hc_breaker_run(const struct dp *dp, const struct hc_clock *clk);
const char *hc_breaker_state_name(uint32_t state); /* "closed", "open", "half-open" */

/* HAProxy's texts and codes. */
const char *hc_check_status_name(uint8_t status); /* "L4OK", ... */
unsigned int hc_haproxy_status(uint8_t status);	  /* HCHK_STATUS_* value */
const char *hc_check_desc(uint8_t status);	  /* "Layer4 connection problem", ... */
/* show stat's status of a checked endpoint: "UP", "UP 1/3", "DOWN", "DOWN 1/2", "NOLB" */
void hc_status_text(const struct hc_ep *r, char *buf, size_t len);

/* Probes the engine took, sent, and skipped, for show info (sums over endpoints). */
uint64_t hc_skipped(const struct hc *hc);

/* Monotonic and wall-clock ms, and a full clock of now (TSC from rte_get_tsc_cycles). */
uint64_t hc_mono_ms(void);
void hc_clock_now(const struct dp *dp, struct hc_clock *clk);

/* Rendering (hc_view.c). */
struct ctl_env;
int hc_cmd_show_health(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
int hc_cmd_enable_health(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
int hc_cmd_disable_health(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
/* The Prometheus families of checks and ejections. */
void hc_prom_render(const struct hc *hc, const struct dp *dp, struct ctl_buf *b);

#endif /* SLUICE_HC_CTL_H */
