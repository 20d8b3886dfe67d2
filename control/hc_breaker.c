/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: circuit breakers (services.X.circuit_breaker.consecutive_failures,
 * open_ms), decided for the appliance once per control tick (10 ms).
 *
 * Each worker counts the final outcome of every request of a service after its retries in
 * its own slot (dp_svc_pw.cb_ok, cb_fail, and cb_run: fails in a row on that worker). Each
 * tick control reads the slots: with no ok since the last tick the appliance's run grows by
 * the new failures; with an ok, it restarts from the new failures that came after the ok
 * (per worker: those after its own last ok; another worker's new failures all count, since
 * the order across workers within one tick is not known). The run
 * reaching consecutive_failures opens the breaker: control stores DP_CB_OPEN in the
 * service's shared word, which workers read when a request is about to pick an endpoint
 * (503 at once, no connection). After open_ms control frees the trial word and stores
 * DP_CB_HALF_OPEN: the first worker to claim the trial (one CAS) sends one request, every
 * other request still gets 503; the trial's worker writes its result into the trial word,
 * and the next tick closes the breaker (success) or opens it again for open_ms (failure).
 *
 * Control core only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "hc_ctl.h"

const char *hc_breaker_state_name(uint32_t state)
{
	switch (state) {
	case DP_CB_OPEN:
		return "open";
	case DP_CB_HALF_OPEN:
		return "half-open";
	default:
		return "closed";
	}
}

static void set_state(struct dp_service *obj, uint32_t st)
{
	__atomic_store_n(&obj->sh.cb_state, st, __ATOMIC_RELEASE);
}

static void open_it(struct dp_service *obj, const struct dp_breaker_conf *b, uint64_t now,
		    const char *why)
{
	obj->sh.c_until_ms = now + b->open_ms;
	obj->sh.c_opens++;
	set_state(obj, DP_CB_OPEN);
	MET_LOG(WARNING, "Service %s: circuit breaker open for %" PRIu32 " ms (%s)", obj->name,
		b->open_ms, why);
}

void hc_breaker_run(const struct dp *dp, const struct hc_clock *clk)
{
	const struct dp_snapshot *snap = dp != NULL ? dp->snapshot : NULL;
	uint16_t nw;

	if (snap == NULL)
		return;
	nw = dp->n_workers < DP_MAX_WORKERS ? dp->n_workers : DP_MAX_WORKERS;
	for (uint32_t v = 0; v < snap->n_svcs; v++) {
		const struct dp_breaker_conf *b = &snap->conf->services[v].breaker;
		struct dp_service *obj = snap->svcs[v].obj;
		struct dp_svc_shared *sh = &obj->sh;
		uint64_t d_ok = 0, d_fail = 0, run = 0;
		uint32_t st = __atomic_load_n(&sh->cb_state, __ATOMIC_RELAXED), t;

		/* per worker: its new oks and failures since the last tick; the run after an ok
		 * is what followed that worker's last ok (at most its new failures: an ok of this
		 * tick broke anything older), plus every other worker's new failures (their order
		 * against the ok is unknown: counted, the cautious side) */
		for (uint16_t w = 0; w < nw; w++) {
			uint64_t ok = __atomic_load_n(&obj->pw[w].cb_ok, __ATOMIC_RELAXED);
			uint64_t fail = __atomic_load_n(&obj->pw[w].cb_fail, __ATOMIC_RELAXED);
			uint64_t r = __atomic_load_n(&obj->pw[w].cb_run, __ATOMIC_RELAXED);
			uint64_t dok = ok - sh->c_ok[w], dfail = fail - sh->c_fail[w];

			sh->c_ok[w] = ok;
			sh->c_fail[w] = fail;
			d_ok += dok;
			d_fail += dfail;
			run += dok > 0 ? RTE_MIN(r, dfail) : dfail;
		}
		if (b->consecutive_failures == 0) {
			if (st != DP_CB_CLOSED)
				set_state(obj, DP_CB_CLOSED); /* a reload turned it off */
			sh->c_run = 0;
			continue;
		}
		switch (st) {
		case DP_CB_CLOSED:
			if (d_ok > 0)
				sh->c_run = (uint32_t)RTE_MIN(run, (uint64_t)UINT32_MAX);
			else
				sh->c_run =
					(uint32_t)RTE_MIN(sh->c_run + d_fail, (uint64_t)UINT32_MAX);
			if (sh->c_run >= b->consecutive_failures)
				open_it(obj, b, clk->mono_ms, "consecutive failures");
			break;
		case DP_CB_OPEN:
			if (clk->mono_ms < sh->c_until_ms)
				break;
			__atomic_store_n(&sh->cb_trial, DP_CB_TRIAL_FREE, __ATOMIC_RELEASE);
			set_state(obj, DP_CB_HALF_OPEN);
			MET_LOG(NOTICE, "Service %s: circuit breaker half-open", obj->name);
			break;
		case DP_CB_HALF_OPEN:
			t = __atomic_load_n(&sh->cb_trial, __ATOMIC_ACQUIRE);
			if (t == DP_CB_TRIAL_OK) {
				sh->c_run = 0;
				set_state(obj, DP_CB_CLOSED);
				MET_LOG(NOTICE,
					"Service %s: circuit breaker closed (trial succeeded)",
					obj->name);
			} else if (t == DP_CB_TRIAL_FAIL) {
				open_it(obj, b, clk->mono_ms, "trial failed");
			}
			break;
		}
	}
}
