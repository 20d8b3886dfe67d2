/* SPDX-License-Identifier: BSD-3-Clause
 * Runtime snapshots: the configuration workers read, plus the state of every endpoint.
 * Built and freed by control only; a worker sees a snapshot through dp->snapshot (one
 * acquire load per loop) and applies what changed when its epoch moves (px_apply).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane.h"

struct dp_snapshot *dp_snapshot_new(const struct dp_conf *conf, const struct dp_snapshot *prev,
				    uint64_t epoch)
{
	struct dp_snapshot *s = calloc(1, sizeof(*s));
	uint32_t n = 0;

	if (s == NULL)
		return NULL;
	s->epoch = epoch;
	s->conf = conf;
	s->svc_base = calloc(conf->n_services + 1, sizeof(*s->svc_base));
	for (uint32_t v = 0; s->svc_base != NULL && v < conf->n_services; v++) {
		s->svc_base[v] = n;
		n += conf->services[v].n_endpoints;
	}
	s->n_eps = n;
	s->eps = calloc(n + 1, sizeof(*s->eps));
	if (s->svc_base == NULL || s->eps == NULL) {
		dp_snapshot_free(s);
		return NULL;
	}
	if (prev != NULL && prev->n_eps == n) {
		memcpy(s->eps, prev->eps, n * sizeof(*s->eps));
		return s;
	}
	for (uint32_t v = 0; v < conf->n_services; v++)
		for (uint32_t e = 0; e < conf->services[v].n_endpoints; e++) {
			struct dp_ep_state *st = &s->eps[s->svc_base[v] + e];

			st->weight = conf->services[v].endpoints[e].weight;
			st->admin = DP_EP_READY;
			st->changed = (uint64_t)time(NULL);
		}
	return s;
}

void dp_snapshot_free(struct dp_snapshot *snap)
{
	if (snap == NULL)
		return;
	free(snap->eps);
	free(snap->svc_base);
	free(snap);
}

const struct dp_ep_state *dp_snapshot_ep(const struct dp_snapshot *snap, uint32_t svc, uint32_t ep)
{
	if (snap == NULL || svc >= snap->conf->n_services ||
	    ep >= snap->conf->services[svc].n_endpoints)
		return NULL;
	return &snap->eps[snap->svc_base[svc] + ep];
}
