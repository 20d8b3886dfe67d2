/* SPDX-License-Identifier: BSD-3-Clause
 * Requests from control to one worker and their replies (dp_ctl.h): the rings, the worker's
 * once-per-loop poll, and control's send and receive.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_ring.h>

#include "dp_objs.h"
#include "dp_run.h"
#include "dp_worker.h"
#include "hc.h"
#include "px.h"

/* Entries filled per loop iteration at most: each costs a few hundred nanoseconds (names
 * copied, TCP state read), so a slice stays well under 100 us. */
#define DP_CTL_CONNS_PER_SLICE 256u

int dp_ctl_init(struct dp *dp, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = dp->workers[i];
		const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "dp_ctl_req_%u", i);
		w->ctl.req = rte_ring_create(name, DP_CTL_RING_SIZE, (int)w->socket, flags);
		snprintf(name, sizeof(name), "dp_ctl_rep_%u", i);
		if (w->ctl.req != NULL)
			w->ctl.rep = rte_ring_create(name, DP_CTL_RING_SIZE, (int)w->socket, flags);
		if (w->ctl.req == NULL || w->ctl.rep == NULL) {
			snprintf(err, errlen, "cannot create ring %s: %s", name,
				 rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	return 0;
}

void dp_ctl_fini(struct dp_worker *w)
{
	void *m;

	free(w->ctl.cur);
	w->ctl.cur = NULL;
	while (w->ctl.req != NULL && rte_ring_sc_dequeue(w->ctl.req, &m) == 0)
		free(m);
	while (w->ctl.rep != NULL && rte_ring_sc_dequeue(w->ctl.rep, &m) == 0)
		free(m);
	rte_ring_free(w->ctl.req);
	rte_ring_free(w->ctl.rep);
	w->ctl.req = w->ctl.rep = NULL;
}

/* Start serving m. Returns true when it is answered already. */
static bool ctl_start(struct dp_worker *w, struct dp_ctl_msg *m)
{
	RTE_SET_USED(w);
	m->rc = 0;
	switch (m->type) {
	case DP_CTL_CONNS:
		m->conns.n = 0;
		m->conns.cursor = 0;
		m->conns.slices = 0;
		return false;
	}
	m->rc = -ENOTSUP;
	return true;
}

/* One slice of m. Returns true when it is answered. */
static bool ctl_serve(struct dp_worker *w, struct dp_ctl_msg *m)
{
	struct dp_ctl_conns *c = &m->conns;

	switch (m->type) {
	case DP_CTL_CONNS:
		c->n += px_conns_fill(w, &c->cursor, c->ent + c->n,
				      RTE_MIN(c->max - c->n, DP_CTL_CONNS_PER_SLICE));
		c->slices++;
		if (c->n < c->max && !px_conns_done(w, c->cursor))
			return false;
		c->sessions = w->px.used;
		c->upstreams = w->px.up_used;
		return true;
	}
	return true;
}

unsigned int dp_ctl_poll(struct dp_worker *w)
{
	struct dp_ctl_pw *c = &w->ctl;
	void *p;

	if (c->cur == NULL) {
		if (c->req == NULL || rte_ring_sc_dequeue(c->req, &p) != 0)
			return 0;
		c->cur = p;
		if (!ctl_start(w, c->cur) && !ctl_serve(w, c->cur))
			return 1;
	} else if (!ctl_serve(w, c->cur)) {
		return 1;
	}
	/* Cannot fail: control keeps at most DP_CTL_RING_SIZE messages in flight. Should it
	 * ever, the answer is kept and offered again next iteration rather than lost. */
	if (rte_ring_sp_enqueue(c->rep, c->cur) == 0)
		c->cur = NULL;
	return 1;
}

int dp_ctl_send(struct dp_worker *w, struct dp_ctl_msg *m)
{
	if (w->ctl.req == NULL)
		return -ENODEV;
	if (w->ctl.inflight >= DP_CTL_RING_SIZE || rte_ring_sp_enqueue(w->ctl.req, m) != 0)
		return -ENOBUFS;
	w->ctl.inflight++;
	return 0;
}

struct dp_ctl_msg *dp_ctl_recv(struct dp_worker *w)
{
	void *m;

	if (w->ctl.rep == NULL || rte_ring_sc_dequeue(w->ctl.rep, &m) != 0)
		return NULL;
	w->ctl.inflight--;
	return m;
}
