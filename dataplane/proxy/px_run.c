/* SPDX-License-Identifier: BSD-3-Clause
 * The worker's run list: posted events, as nginx's ngx_post_event and HAProxy's tasklets.
 *
 * TCP callbacks and timers never run a state machine: they record what happened on their own
 * object (px_session.ev, px_upstream.ev) and post it. Once per loop iteration, after RX and
 * the timers, px_run_posted runs each posted object's transition function once; objects
 * posted while it runs wait for the next round, and after PX_RUN_ROUNDS rounds for the next
 * loop iteration (http.run_deferred), so one busy pair can never starve the loop. Sending
 * from here is batched like sending from inside tcp_input (tcp_batch_begin/end): what one
 * round queues on a connection leaves in as few segments as possible.
 *
 * The ring holds indices, sessions as they are and upstream connections with PX_RUN_UP set,
 * and has room for every object of the worker, since each is on it at most once (its posted
 * bit). An object freed while posted keeps its posted bit (its slot holds nothing else): the
 * stale entry finds no event, or the events of the object that took the slot meanwhile, and
 * either way nothing is on the ring twice.
 */
#include <errno.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "px_impl.h"

#define PX_RUN_ROUNDS 4 /* rounds per loop iteration while new events are posted */

int px_run_init(struct dp_worker *w)
{
	struct px_worker *px = &w->px;
	uint32_t n = rte_align32pow2(px->n_sessions + px->n_upstreams + 1);

	px->runq = rte_malloc_socket("px_runq", (size_t)n * sizeof(*px->runq), 0, w->socket);
	if (px->runq == NULL)
		return -ENOMEM;
	px->runq_mask = n - 1;
	px->runq_head = px->runq_tail = 0;
	return 0;
}

void px_run_fini(struct dp_worker *w)
{
	rte_free(w->px.runq);
	w->px.runq = NULL;
}

void px_run_posted(struct dp_worker *w)
{
	struct px_worker *px = &w->px;
	unsigned int round;

	if (px->runq_head == px->runq_tail)
		return;
	tcp_batch_begin(&w->ts);
	for (round = 0; round < PX_RUN_ROUNDS && px->runq_head != px->runq_tail; round++) {
		const uint32_t end = px->runq_tail; /* what this round runs */

		px->cnt[PX_CNT_runs] += end - px->runq_head;
		while (px->runq_head != end) {
			uint32_t e = px->runq[px->runq_head++ & px->runq_mask];
			unsigned int ev;

			if (e & PX_RUN_UP) {
				struct px_upstream *up = &px->upstreams[e & ~PX_RUN_UP];

				up->posted = 0;
				ev = up->ev;
				up->ev = 0;
				if (up->state != PX_UP_FREE)
					px_upstream_step(w, up, ev);
			} else {
				struct px_session *s = &px->sessions[e];

				s->posted = 0;
				ev = s->ev;
				s->ev = 0;
				if (s->lst != NULL)
					px_session_step(w, s, ev);
			}
		}
	}
	if (px->runq_head != px->runq_tail)
		px->cnt[PX_CNT_run_deferred]++;
	tcp_batch_end(&w->ts);
}
