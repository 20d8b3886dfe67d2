/* SPDX-License-Identifier: BSD-3-Clause
 * sluice-load's result: one "key value" line each, in a fixed order (docs/load-generator.md),
 * so that scripts read it with awk and people with their eyes.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "ld.h"

static uint64_t errors_of(const struct ld_stats *s)
{
	uint64_t n = 0;

	for (unsigned int e = 0; e < LD_E_MAX; e++)
		n += s->err[e];
	return n;
}

static const char *mode_name(enum ld_mode m)
{
	return m == LD_CLOSE ? "close" : m == LD_IDLE ? "idle" : "keepalive";
}

void ld_report(FILE *f, const struct ld_conf *c, const struct ld_result *r)
{
	const struct ld_stats *m = &r->meas;
	char target[INET_ADDRSTRLEN];
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	static const char *const qn[] = { "p50", "p90", "p99", "p99.9" };
	uint64_t all_req = r->warm.requests + r->meas.requests + r->drain.requests;
	uint64_t all_resp = r->warm.responses + r->meas.responses + r->drain.responses;
	uint64_t all_err = errors_of(&r->warm) + errors_of(&r->meas) + errors_of(&r->drain);

	inet_ntop(AF_INET, &c->target, target, sizeof(target));
	fprintf(f, "target %s:%u\n", target, c->tport);
	fprintf(f, "mode %s\n", mode_name(c->mode));
	fprintf(f, "connections %u\n", c->conns);
	fprintf(f, "duration_s %.3f\n", r->meas_s);
	fprintf(f, "requests %lu\n", (unsigned long)m->requests);
	fprintf(f, "responses %lu\n", (unsigned long)m->responses);
	fprintf(f, "requests/s %.0f\n", r->meas_s > 0 ? (double)m->responses / r->meas_s : 0.0);
	for (unsigned int s = 1; s <= 5; s++)
		fprintf(f, "status_%uxx %lu\n", s, (unsigned long)m->status[s]);
	fprintf(f, "status_other %lu\n", (unsigned long)m->status[0]);
	fprintf(f, "errors %lu\n", (unsigned long)errors_of(m));
	for (unsigned int e = 0; e < LD_E_MAX; e++)
		fprintf(f, "error_%s %lu\n", ld_err_names[e], (unsigned long)m->err[e]);
	for (unsigned int q = 0; q < 4; q++)
		fprintf(f, "latency_%s_us %lu\n", qn[q],
			(unsigned long)px_hist_quantile(&m->lat, qs[q]));
	fprintf(f, "latency_mean_us %lu\n", (unsigned long)px_hist_mean(&m->lat));
	fprintf(f, "latency_max_us %lu\n", (unsigned long)m->lat.max_us);
	fprintf(f, "connects %lu\n", (unsigned long)m->connects);
	fprintf(f, "bytes_in %lu\n", (unsigned long)m->bytes_in);
	fprintf(f, "established_max %u\n", r->established_max);
	if (c->mode == LD_IDLE) {
		fprintf(f, "hold_s %.3f\n", r->hold_s);
		fprintf(f, "held %u\n", r->held);
		fprintf(f, "hold_lost %u\n", r->hold_lost);
	}
	/* The whole run, warm-up and drain included: what the target should have counted. */
	fprintf(f, "total_requests %lu\n", (unsigned long)all_req);
	fprintf(f, "total_responses %lu\n", (unsigned long)all_resp);
	fprintf(f, "total_errors %lu\n", (unsigned long)all_err);
	fprintf(f, "total_status_2xx %lu\n",
		(unsigned long)(r->warm.status[2] + r->meas.status[2] + r->drain.status[2]));
	fprintf(f, "total_connects %lu\n",
		(unsigned long)(r->warm.connects + r->meas.connects + r->drain.connects));
	fprintf(f, "tx_dropped %lu\n", (unsigned long)r->tx_dropped);
	fprintf(f, "tcb_bytes %u\n", r->tcb_bytes);
}
