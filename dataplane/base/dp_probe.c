/* SPDX-License-Identifier: BSD-3-Clause
 * Health probes between control and one worker (dp_health.h): the two rings per worker and
 * control's send and receive. The worker's side, which runs the probes, is dataplane/check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_ring.h>

#include "dp_objs.h"
#include "dp_worker.h"

int dp_probe_init(struct dp *dp, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = dp->workers[i];
		const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "dp_probe_req_%u", i);
		w->probe.req = rte_ring_create(name, DP_PROBE_RING_SIZE, (int)w->socket, flags);
		snprintf(name, sizeof(name), "dp_probe_rep_%u", i);
		if (w->probe.req != NULL)
			w->probe.rep =
				rte_ring_create(name, DP_PROBE_RING_SIZE, (int)w->socket, flags);
		if (w->probe.req == NULL || w->probe.rep == NULL) {
			snprintf(err, errlen, "cannot create ring %s: %s", name,
				 rte_strerror(rte_errno));
			return -ENOMEM;
		}
		w->probe.inflight = 0;
	}
	return 0;
}

void dp_probe_fini(struct dp_worker *w)
{
	void *p;

	while (w->probe.req != NULL && rte_ring_sc_dequeue(w->probe.req, &p) == 0)
		free(p);
	while (w->probe.rep != NULL && rte_ring_sc_dequeue(w->probe.rep, &p) == 0)
		free(p);
	rte_ring_free(w->probe.req);
	rte_ring_free(w->probe.rep);
	w->probe.req = w->probe.rep = NULL;
	w->probe.inflight = 0;
}

int dp_probe_send(struct dp_worker *w, struct dp_probe *p)
{
	if (w->probe.req == NULL || w->probe.rep == NULL)
		return -ENODEV;
	/* one fewer than the ring holds, so that the worker's answer never finds rep full */
	if (w->probe.inflight >= DP_PROBE_RING_SIZE - 1 ||
	    rte_ring_sp_enqueue(w->probe.req, p) != 0)
		return -ENOBUFS;
	w->probe.inflight++;
	return 0;
}

struct dp_probe *dp_probe_recv(struct dp_worker *w)
{
	void *p;

	if (w->probe.rep == NULL || rte_ring_sc_dequeue(w->probe.rep, &p) != 0)
		return NULL;
	w->probe.inflight--;
	return p;
}
