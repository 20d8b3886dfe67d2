/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: latency per service and endpoint, summed over workers (dataplane/proxy/px_obs.h):
 * Prometheus histograms for GET /metrics, and the averages and maxima of show stat.
 *
 * Prometheus buckets: the workers' histograms have 124 log-linear buckets; the exposition
 * publishes the cumulative counts at every power of two from 2^MET_LE_MIN to 2^MET_LE_MAX µs
 * (16 µs to 67.1 s: 23 buckets, exact since powers of two are bucket boundaries) and +Inf.
 * The count is the sum of the buckets read, so +Inf always equals _count.
 *
 * Control core (and any reader of the counters): words are read relaxed while workers write.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "px_obs.h"

_Static_assert(PX_PH_MAX == 3, "struct met_times holds three phases");

#define MET_LE_MIN 4
#define MET_LE_MAX 26

void met_service_hist(const struct dp *dp, uint32_t svc, unsigned int phase, struct px_hist *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
		const struct px_obs_svc *o =
			dp->workers[w] != NULL ? px_obs_service(dp->workers[w], svc) : NULL;

		if (o != NULL && phase < PX_PH_MAX)
			px_hist_merge(out, &o->h[phase]);
	}
}

void met_endpoint_times(const struct dp *dp, uint32_t svc, uint32_t ep, struct met_times *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
		const struct px_obs_ep *o =
			dp->workers[w] != NULL ? px_obs_endpoint(dp->workers[w], svc, ep) : NULL;

		for (unsigned int p = 0; o != NULL && p < PX_PH_MAX; p++) {
			uint64_t m = __atomic_load_n(&o->max_us[p], __ATOMIC_RELAXED);

			t->count[p] += __atomic_load_n(&o->count[p], __ATOMIC_RELAXED);
			t->sum_us[p] += __atomic_load_n(&o->sum_us[p], __ATOMIC_RELAXED);
			if (m > t->max_us[p])
				t->max_us[p] = m;
		}
	}
}

void met_service_times(const struct dp *dp, uint32_t svc, struct met_times *t)
{
	struct px_hist h;

	memset(t, 0, sizeof(*t));
	for (unsigned int p = 0; p < PX_PH_MAX; p++) {
		met_service_hist(dp, svc, p, &h);
		t->count[p] = h.count;
		t->sum_us[p] = h.sum_us;
		t->max_us[p] = h.max_us;
	}
}

/* ---- Prometheus ---- */

static const struct {
	const char *name, *help;
} met_lat_families[PX_PH_MAX] = {
	[PX_PH_TOTAL] = { "sluice_service_request_duration_seconds",
			  "Request head received to response complete, per service" },
	[PX_PH_CONNECT] = { "sluice_service_connect_duration_seconds",
			    "Upstream connection handshakes (new connections), per service" },
	[PX_PH_FIRST_BYTE] = { "sluice_service_first_byte_duration_seconds",
			       "Request sent upstream to response head received, per service" },
};

/* 2^k µs in seconds, exactly, without trailing zeros ("0.000016", "1.048576", "67.108864"). */
static void met_le(char *dst, size_t len, unsigned int k)
{
	uint64_t us = 1ull << k;
	size_t n;

	snprintf(dst, len, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
	n = strlen(dst);
	while (n > 0 && dst[n - 1] == '0' && dst[n - 2] != '.')
		dst[--n] = '\0';
}

void met_latency_render(const struct dp *dp, struct ctl_buf *b)
{
	/* the published snapshot's services: px_obs_service() reads by position in it (control
	 * is the only writer of dp->snapshot, so it stays put while this runs) */
	const struct dp_conf *c = dp->snapshot != NULL ? dp->snapshot->conf : dp->conf;
	struct px_hist h;
	char le[32];

	for (unsigned int p = 0; p < PX_PH_MAX; p++) {
		const char *name = met_lat_families[p].name;

		ctl_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, met_lat_families[p].help,
			   name);
		for (uint32_t v = 0; v < c->n_services; v++) {
			met_service_hist(dp, v, p, &h);
			for (unsigned int k = MET_LE_MIN; k <= MET_LE_MAX; k++) {
				met_le(le, sizeof(le), k);
				ctl_printf(b, "%s_bucket{service=\"", name);
				met_label_value(b, c->services[v].name);
				ctl_printf(b, "\",le=\"%s\"} %" PRIu64 "\n", le,
					   px_hist_count_le(&h, 1ull << k));
			}
			ctl_printf(b, "%s_bucket{service=\"", name);
			met_label_value(b, c->services[v].name);
			ctl_printf(b, "\",le=\"+Inf\"} %" PRIu64 "\n%s_sum{service=\"", h.count,
				   name);
			met_label_value(b, c->services[v].name);
			ctl_printf(b, "\"} %" PRIu64 ".%06" PRIu64 "\n%s_count{service=\"",
				   h.sum_us / 1000000, h.sum_us % 1000000, name);
			met_label_value(b, c->services[v].name);
			ctl_printf(b, "\"} %" PRIu64 "\n", h.count);
		}
	}
}
