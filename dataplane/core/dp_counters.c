/* SPDX-License-Identifier: BSD-3-Clause
 * The registry of per-worker counters. Each layer declares its counters once (an X-macro in
 * its header); this table is the only place that lists the groups, and every output walks it.
 */
#include <stddef.h>
#include <string.h>

#include "dp_objs.h"
#include "dp_run.h"
#include "dp_worker.h"
#include "hc.h"
#include "px.h"

const char *const dp_counter_names[DP_CNT_MAX] = {
#define DP_CNT_NAME(name) #name,
	DP_COUNTERS(DP_CNT_NAME)
#undef DP_CNT_NAME
};

const struct dp_counter_group dp_counter_groups[] = {
	{ "dp", dp_counter_names, DP_CNT_MAX, offsetof(struct dp_worker, cnt) },
	{ "net", net_counter_names, NET_CNT_MAX, offsetof(struct dp_worker, ns.cnt) },
	{ "tcp", tcp_counter_names, TCP_CNT_MAX, offsetof(struct dp_worker, ts.cnt) },
	{ "http", px_counter_names, PX_CNT_MAX, offsetof(struct dp_worker, px.cnt) },
	{ "http_err", px_error_names, PX_ERR_MAX, offsetof(struct dp_worker, px.err) },
	{ "http_state", px_state_names, PX_ST_MAX, offsetof(struct dp_worker, px.st) },
	{ "probe", hc_counter_names, HC_CNT_MAX, offsetof(struct dp_worker, hc.cnt) },
};

const unsigned int dp_n_counter_groups = RTE_DIM(dp_counter_groups);

const struct dp_counter_group *dp_counter_group_find(const char *name)
{
	for (unsigned int i = 0; i < dp_n_counter_groups; i++)
		if (strcmp(dp_counter_groups[i].name, name) == 0)
			return &dp_counter_groups[i];
	return NULL;
}

uint64_t dp_counter_sum(const struct dp *dp, const struct dp_counter_group *g, unsigned int i)
{
	uint64_t sum = 0;

	for (unsigned int w = 0; w < dp->n_workers; w++)
		if (dp->workers[w] != NULL)
			sum += dp_counter_get(dp->workers[w], g, i);
	return sum;
}
