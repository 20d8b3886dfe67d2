/* SPDX-License-Identifier: BSD-3-Clause
 * Stand-ins for the worker-side executor's control API (dp_probe_send, dp_probe_recv), so
 * that control builds and runs before the executor is merged: weak, so the dataplane's own
 * definitions replace them once they exist. They move probes over the rings of dp_health.h
 * when the rings are there, and refuse every probe otherwise (each refusal is counted as a
 * skipped probe, neither success nor failure). To be deleted with the executor's merge.
 * Control only.
 */
#include <errno.h>

#include "control.h"

__attribute__((weak)) int dp_probe_send(struct dp_worker *w, struct dp_probe *p)
{
	if (w == NULL || w->probe.req == NULL)
		return -ENOTSUP;
	return rte_ring_sp_enqueue(w->probe.req, p) == 0 ? 0 : -ENOBUFS;
}

__attribute__((weak)) struct dp_probe *dp_probe_recv(struct dp_worker *w)
{
	void *p = NULL;

	if (w == NULL || w->probe.rep == NULL || rte_ring_sc_dequeue(w->probe.rep, &p) != 0)
		return NULL;
	return p;
}
