/* SPDX-License-Identifier: BSD-3-Clause
 * Graceful shutdown, the worker's side: stop accepting, close idle keep-alive connections,
 * let requests in flight finish (each connection closes after its current response), and
 * say when nothing is left in flight (dp_worker.drained).
 *
 * Runs from the worker loop while dp_worker.drain is set (dp_drain.c sets it). The first
 * call walks the session pool once; later calls look again at most once per
 * PX_DRAIN_CHECK_MS, walking the sessions and the TCP table only then: a shutdown is rare and
 * bounded by the grace period, so this is the one place a worker loops over connections.
 */
#include <rte_cycles.h>

#include "px_impl.h"

#define PX_DRAIN_CHECK_MS 1

static void drain_begin(struct dp_worker *w)
{
	struct px_worker *px = &w->px;

	/* SYNs to these ports are now answered by RST (tcp.drop_no_listener), and handshakes
	 * completing after this are reset by the stack */
	px_unlisten_all(w);
	for (uint32_t i = 0; i < px->n_sessions; i++) {
		struct px_session *s = &px->sessions[i];

		if (s->lst == NULL || s->conn == NULL || s->state == PX_DONE)
			continue; /* free, closed by the stack (its event frees it), lingering */
		if (s->state == PX_HEAD && s->rx == NULL)
			px_session_free(w, s, PX_END_CLOSE); /* idle between requests */
		else
			s->close_after = 1; /* Connection: close, then close after the response */
	}
}

struct drain_tcp {
	bool busy;
};

/* Is anything still to deliver on c? Connections that finished sending (everything
 * acknowledged, our FIN too) do not hold the shutdown back, whatever the peer does next. */
static void drain_tcp_check(struct tcp_conn *c, void *arg)
{
	struct drain_tcp *d = arg;
	struct tcp_conn_info ci;

	tcp_conn_info(c, &ci);
	switch (ci.state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RCVD:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		d->busy = true;
		break;
	default:
		if (ci.snd_queued > 0)
			d->busy = true;
	}
}

static bool drain_idle(struct dp_worker *w)
{
	struct px_worker *px = &w->px;
	struct drain_tcp d = { .busy = false };

	for (uint32_t i = 0; i < px->n_sessions; i++) {
		const struct px_session *s = &px->sessions[i];

		if (s->lst != NULL && s->state != PX_DONE)
			return false; /* lingering closes (PX_DONE) only read and drop */
	}
	tcp_foreach_conn(&w->ts, drain_tcp_check, &d);
	return !d.busy;
}

void px_drain_poll(struct dp_worker *w)
{
	uint64_t now = rte_rdtsc();

	if (!w->drain_begun) {
		w->drain_begun = true;
		drain_begin(w);
	}
	if (w->drained || now < w->drain_next)
		return;
	w->drain_next = now + w->dp->hz / 1000 * PX_DRAIN_CHECK_MS;
	if (drain_idle(w))
		dp_flag_set(&w->drained, true);
}
