/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: what control reads of one worker, through functions, so that control sees
 * struct dp_worker as an opaque type and includes no tcpstack header (dp_types.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_types.h"
#include "dp_worker.h"

uint16_t dp_worker_id(const struct dp_worker *w)
{
	return w->id;
}

uint32_t dp_worker_sessions_max(const struct dp_worker *w)
{
	return w->px.n_sessions;
}

uint32_t dp_worker_ctl_inflight(const struct dp_worker *w)
{
	return w->ctl.inflight;
}

bool dp_worker_draining(const struct dp_worker *w)
{
	return dp_flag_get(&w->drain);
}

static uint32_t rd(const uint32_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

void dp_worker_tcp_gauges(const struct dp_worker *w, struct dp_tcp_gauges *g)
{
	const struct tcp_stack *ts = &w->ts;

	g->conns_max = ts->conf.max_connections;
	g->conns_used = rd(&ts->conns_used);
	g->conns_hwm = rd(&ts->conns_hwm);
	g->syn_rcvd = rd(&ts->syn_rcvd);
	g->time_wait = rd(&ts->time_wait);
	g->ooo_mbufs = rd(&ts->ooo_mbufs);
	g->rsv_max = ts->conf.reserve_connections;
	g->rsv_used = rd(&ts->rsv_used);
	g->rsv_hwm = rd(&ts->rsv_hwm);
}

size_t dp_tcp_conn_bytes(void)
{
	return tcp_conn_size();
}
