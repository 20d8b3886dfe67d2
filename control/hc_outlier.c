/* SPDX-License-Identifier: BSD-3-Clause
 * Passive outlier detection: what real traffic saw, read from every worker's dp_ep_passive
 * slot once per control tick (10 ms), and the ejections decided from it.
 *
 * Appliance-wide runs. Each worker counts its own runs (run_5xx, run_gw, reset by an ok on
 * that worker). Control sums them over the workers, each worker's run counted from its last
 * ok (an ok seen on one worker does not reset another's run): the appliance's run is then the
 * failures every worker saw since its own last success. It is an approximation of "in a
 * row" (an ok on worker A between two failures on worker B does not break B's run), chosen
 * because nothing per request crosses cores; with traffic spread evenly it ejects after
 * about the configured count, never after fewer failures than the count.
 *
 * Runs already acted upon are remembered per worker (base5/basegw) so that an endpoint
 * coming back from an ejection starts from zero; a worker's ok (its n[ok] moved) or, for
 * gateway runs, its 5xx (n[status_5xx] moved) resets that worker's base, as it reset its run.
 *
 * Ejection: after consecutive_5xx or consecutive_gateway_failure (0 disables either), for
 * base_ejection_ms x times ejected, capped at max_ejection_ms; never more than
 * max_ejection_percent of the service's endpoints ejected at once, but always at least one
 * (a service of 3 at 10 % may still eject one). After its time the endpoint returns, or,
 * where active checks run on it, waits for its next check (scheduled at once) to pass.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "hc_ctl.h"

static uint64_t ld64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint32_t ld32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint16_t n_workers(const struct hc *hc, const struct dp *dp)
{
	uint16_t n = dp != NULL ? dp->n_workers : hc->n_workers;

	return n < DP_MAX_WORKERS ? n : DP_MAX_WORKERS;
}

/* r's appliance-wide runs now; with reset, every worker's current run becomes its base. */
static void runs(struct hc_ep *r, uint16_t nw, bool reset)
{
	uint32_t s5 = 0, sgw = 0;

	for (uint16_t w = 0; w < nw; w++) {
		const struct dp_ep_passive *pas = &r->obj->pw[w].pas;
		uint64_t ok = ld64(&pas->n[DP_OUT_ok]);
		uint64_t n5 = ld64(&pas->n[DP_OUT_status_5xx]);
		uint32_t run5 = ld32(&pas->run_5xx), rungw = ld32(&pas->run_gw);

		if (ok != r->seen_ok[w]) {
			r->seen_ok[w] = ok;
			r->base5[w] = 0;
			r->basegw[w] = 0;
		}
		if (n5 != r->seen_5xx[w]) {
			r->seen_5xx[w] = n5;
			r->basegw[w] = 0;
		}
		if (reset) {
			r->base5[w] = run5;
			r->basegw[w] = rungw;
		}
		s5 += run5 >= r->base5[w] ? run5 - r->base5[w] : run5;
		sgw += rungw >= r->basegw[w] ? rungw - r->basegw[w] : rungw;
	}
	r->run5 = s5;
	r->rungw = sgw;
}

/* Whether one more endpoint of r's service may be ejected. */
static bool room(const struct hc *hc, const struct hc_ep *r)
{
	uint32_t n = 0, ej = 0, allowed;

	for (const struct hc_ep *x = hc->eps; x != NULL; x = x->next) {
		if (!x->present || x->v != r->v || strcmp(x->svc, r->svc) != 0)
			continue;
		n++;
		ej += x->ejected;
	}
	allowed = n * r->od.max_ejection_percent / 100;
	if (allowed == 0)
		allowed = 1;
	return ej < allowed;
}

static void eject(struct hc *hc, struct hc_ep *r, uint8_t reason, uint16_t nw,
		  const struct hc_clock *clk)
{
	uint64_t dur = (uint64_t)r->od.base_ejection_ms * (r->n_ejections + 1);
	uint32_t run = reason == HC_EJECT_5XX ? r->run5 : r->rungw;

	if (r->od.max_ejection_ms != 0 && dur > r->od.max_ejection_ms)
		dur = r->od.max_ejection_ms;
	r->n_ejections++;
	r->ejected = true;
	r->wait_check = false;
	r->eject_reason = reason;
	r->eject_until_ms = clk->mono_ms + dur;
	r->eject_wall_ms = clk->wall_ms;
	hc->ejections++;
	hc->dirty = true;
	snprintf(r->why, sizeof(r->why), "ejected: %" PRIu32 " %s in a row, for %" PRIu64 " ms",
		 run, reason == HC_EJECT_5XX ? "5xx" : "gateway failures", dur);
	MET_LOG(WARNING,
		"Server %s/%s is ejected by outlier detection: %" PRIu32
		" %s in a row, for %" PRIu64 " ms (ejection %" PRIu32 ").",
		r->svc, r->name, run, reason == HC_EJECT_5XX ? "5xx responses" : "gateway failures",
		dur, r->n_ejections);
	runs(r, nw, true);
}

void hc_outlier_run(struct hc *hc, const struct dp *dp, const struct hc_clock *clk)
{
	uint16_t nw = n_workers(hc, dp);

	for (struct hc_ep *r = hc->eps; r != NULL; r = r->next) {
		const struct dp_outlier_conf *od = &r->od;

		if (!r->present)
			continue;
		runs(r, nw, false);
		if (r->ejected) {
			if (clk->mono_ms < r->eject_until_ms)
				continue;
			if (r->checks && !r->disabled) {
				if (!r->wait_check && !r->inflight)
					r->next_ms = clk->mono_ms;
				r->wait_check = true; /* hc_engine.c's verdict lets it in */
				continue;
			}
			/* no check (or checks disabled meanwhile): back after its time */
			r->wait_check = false;
			r->ejected = false;
			r->return_wall_ms = clk->wall_ms;
			hc->dirty = true;
			runs(r, nw, true);
			MET_LOG(NOTICE, "Server %s/%s is back from outlier ejection", r->svc,
				r->name);
			continue;
		}
		if (od->consecutive_5xx != 0 && r->run5 >= od->consecutive_5xx) {
			if (room(hc, r))
				eject(hc, r, HC_EJECT_5XX, nw, clk);
		} else if (od->consecutive_gateway_failure != 0 &&
			   r->rungw >= od->consecutive_gateway_failure) {
			if (room(hc, r))
				eject(hc, r, HC_EJECT_GATEWAY, nw, clk);
		}
	}
}
