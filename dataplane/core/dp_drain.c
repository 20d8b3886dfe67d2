/* SPDX-License-Identifier: BSD-3-Clause
 * Graceful shutdown, control's side: ask every worker to drain (px_drain.c) and watch them.
 */
#include "dp_objs.h"
#include "dp_run.h"
#include "dp_worker.h"
#include "hc.h"
#include "px.h"

void dp_drain(struct dp *dp)
{
	bool already = true;

	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = dp->workers[i];

		if (w != NULL && !dp_flag_get(&w->drain)) {
			dp_flag_set(&w->drain, true);
			already = false;
		}
	}
	if (already)
		return;
	/* A quiescent report may end an iteration that began before the store: after two, every
	 * running worker has begun an iteration that saw drain, and stopped accepting. */
	dp_wait_quiescent(dp);
	dp_wait_quiescent(dp);
}

bool dp_drained(const struct dp *dp, uint32_t *sessions)
{
	bool all = true;
	uint32_t n = 0;

	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const struct dp_worker *w = dp->workers[i];

		if (w == NULL)
			continue;
		if (!dp_flag_get(&w->drained))
			all = false;
		n += __atomic_load_n(&w->px.used, __ATOMIC_RELAXED);
	}
	if (sessions != NULL)
		*sessions = n;
	return all;
}
