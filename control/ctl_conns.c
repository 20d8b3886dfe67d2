/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: show conns [N] [json]. Control asks every worker, over its request ring
 * (dataplane/core/dp_ctl.h), for at most N of its client sessions, waits for the answers at most
 * CTL_CONNS_WAIT_MS in all, and prints what came back: a header line per worker (its totals,
 * or why it did not answer) and a line per connection, at most N over all workers, in worker
 * order. Formats: docs/control.md, "show conns".
 *
 * A worker that does not answer in time keeps the message (dp_ctl.h: it owns it until it
 * answers); the next show conns collects it and, while it is still out, reports the worker
 * busy instead of sending another. So a stuck worker costs one message, never a hang.
 *
 * Control core only: it waits (sleeping) for the workers, the wait bounded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "dp_ctl.h"

#define CTL_CONNS_DEFAULT 100
#define CTL_CONNS_MAX 10000
#define CTL_CONNS_WAIT_MS 500
#define CTL_CONNS_POLL_NS 100000 /* between two looks at the reply rings */

enum ctl_conns_state {
	CTL_CONNS_NONE = 0, /* no worker (or no rings) */
	CTL_CONNS_SENT,
	CTL_CONNS_DONE,
	CTL_CONNS_BUSY,	   /* an earlier request is still out */
	CTL_CONNS_TIMEOUT, /* no answer within CTL_CONNS_WAIT_MS */
	CTL_CONNS_NOMEM,
};

static const char *const ctl_conns_errors[] = {
	[CTL_CONNS_NONE] = "not-running",
	[CTL_CONNS_BUSY] = "busy",
	[CTL_CONNS_TIMEOUT] = "timeout",
	[CTL_CONNS_NOMEM] = "no-memory",
};

struct ctl_conns_worker {
	enum ctl_conns_state state;
	struct dp_ctl_msg *sent; /* while SENT or TIMEOUT: the worker's */
	struct dp_ctl_msg *m;	 /* DONE: the answer, control's again */
	uint32_t shown;		 /* entries printed */
};

static uint64_t ctl_conns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* "show conns [N] [json]": returns 0 with *n and *json set, or -1 with the answer written. */
static int ctl_conns_args(int argc, char **argv, uint32_t *n, bool *json, struct ctl_buf *out)
{
	bool have_n = false;

	*n = CTL_CONNS_DEFAULT;
	*json = false;
	for (int i = 2; i < argc; i++) {
		unsigned long v;
		char *end;

		if (strcmp(argv[i], "json") == 0 && !*json) {
			*json = true;
			continue;
		}
		if (have_n || argv[i][0] < '0' || argv[i][0] > '9') {
			ctl_printf(out, "error: usage: show conns [N] [json]\n");
			return -1;
		}
		errno = 0;
		v = strtoul(argv[i], &end, 10);
		if (*end != '\0' || errno != 0 || v > CTL_CONNS_MAX) {
			ctl_printf(out, "error: N must be a number from 0 to %u\n", CTL_CONNS_MAX);
			return -1;
		}
		*n = (uint32_t)v;
		have_n = true;
	}
	return 0;
}

/* Send one request to worker w asking for up to n entries. */
static void ctl_conns_send(struct dp_worker *w, uint32_t n, struct ctl_conns_worker *cw)
{
	struct dp_ctl_msg *m;

	/* answers to requests a previous command stopped waiting for */
	while ((m = dp_ctl_recv(w)) != NULL)
		free(m);
	if (dp_worker_ctl_inflight(w) > 0) {
		cw->state = CTL_CONNS_BUSY;
		return;
	}
	if (n > dp_worker_sessions_max(w))
		n = dp_worker_sessions_max(w); /* immutable after start: no more can be open */
	m = calloc(1, sizeof(*m) + (size_t)n * sizeof(struct dp_conn_info));
	if (m == NULL) {
		cw->state = CTL_CONNS_NOMEM;
		return;
	}
	m->type = DP_CTL_CONNS;
	m->conns.ent = (struct dp_conn_info *)(m + 1);
	m->conns.max = n;
	if (dp_ctl_send(w, m) != 0) {
		free(m);
		cw->state = CTL_CONNS_NONE;
		return;
	}
	cw->sent = m;
	cw->state = CTL_CONNS_SENT;
}

/* Collect the answers until every worker answered or the deadline passed. */
static void ctl_conns_wait(struct dp *dp, struct ctl_conns_worker *cw)
{
	const uint64_t deadline = ctl_conns_now_ms() + CTL_CONNS_WAIT_MS;
	const struct timespec pause = { 0, CTL_CONNS_POLL_NS };

	for (;;) {
		unsigned int waiting = 0;

		for (unsigned int i = 0; i < dp->n_workers; i++) {
			struct dp_ctl_msg *m;

			if (cw[i].state != CTL_CONNS_SENT)
				continue;
			while ((m = dp_ctl_recv(dp->workers[i])) != NULL) {
				if (m == cw[i].sent) {
					cw[i].m = m;
					cw[i].state = CTL_CONNS_DONE;
				} else {
					free(m);
				}
			}
			waiting += cw[i].state == CTL_CONNS_SENT;
		}
		if (waiting == 0)
			return;
		if (ctl_conns_now_ms() >= deadline)
			break;
		nanosleep(&pause, NULL);
	}
	for (unsigned int i = 0; i < dp->n_workers; i++)
		if (cw[i].state == CTL_CONNS_SENT)
			cw[i].state = CTL_CONNS_TIMEOUT; /* the worker keeps the message */
}

static void ctl_conns_addr(char *s, size_t len, uint32_t addr, uint16_t port)
{
	const uint8_t *a = (const uint8_t *)&addr; /* network order */

	snprintf(s, len, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], port);
}

/* A string field: text "key=value" ("-" when empty), JSON "key":"value" or null. */
static void ctl_conns_str(struct ctl_buf *out, bool json, const char *key, const char *v)
{
	bool none = v == NULL || v[0] == '\0';

	if (!json) {
		ctl_printf(out, " %s=%s", key, none ? "-" : v);
		return;
	}
	ctl_printf(out, ",\"%s\":", key);
	if (none)
		ctl_printf(out, "null");
	else
		ctl_json_str(out, v);
}

/* A number field; none (DP_CONN_NONE) prints "-" / null. */
static void ctl_conns_num(struct ctl_buf *out, bool json, const char *key, uint64_t v, bool none)
{
	if (none)
		ctl_printf(out, json ? ",\"%s\":null" : " %s=-", key);
	else
		ctl_printf(out, json ? ",\"%s\":%" PRIu64 : " %s=%" PRIu64, key, v);
}

static void ctl_conns_entry(struct ctl_buf *out, bool json, bool first,
			    const struct dp_conn_info *e)
{
	char src[32], dst[32], srv[32];

	ctl_conns_addr(src, sizeof(src), e->client_addr, e->client_port);
	ctl_conns_addr(dst, sizeof(dst), e->local_addr, e->local_port);
	srv[0] = '\0';
	if (e->ep_addr != 0 || e->ep_port != 0)
		ctl_conns_addr(srv, sizeof(srv), e->ep_addr, e->ep_port);
	if (json)
		ctl_printf(out, "%s{\"worker\":%u", first ? "" : ",", e->worker);
	else
		ctl_printf(out, "worker=%u", e->worker);
	ctl_conns_str(out, json, "src", src);
	ctl_conns_str(out, json, "dst", dst);
	ctl_conns_str(out, json, "fe", e->listener);
	ctl_conns_str(out, json, "tcp_state", e->tcp_state);
	ctl_conns_str(out, json, "state", e->state);
	ctl_conns_num(out, json, "idle_ms", e->idle_ms, false);
	ctl_conns_num(out, json, "rtt_us", e->rtt_us, false);
	ctl_conns_num(out, json, "sendq", e->sendq, false);
	ctl_conns_num(out, json, "req_age_ms", e->req_age_ms, e->req_age_ms == DP_CONN_NONE);
	ctl_conns_num(out, json, "req_in", e->req_in, e->req_in == DP_CONN_NONE);
	ctl_conns_num(out, json, "req_out", e->req_out, e->req_out == DP_CONN_NONE);
	ctl_conns_str(out, json, "method", e->method);
	ctl_conns_str(out, json, "target", e->target);
	ctl_conns_num(out, json, "status", e->status, e->status == 0);
	ctl_conns_str(out, json, "be", e->service);
	ctl_conns_str(out, json, "srv", e->endpoint);
	ctl_conns_str(out, json, "srv_addr", srv);
	ctl_conns_num(out, json, "up_port", e->up_port, e->up_port == 0);
	ctl_conns_str(out, json, "up_tcp_state", e->up_tcp_state);
	ctl_printf(out, json ? "}" : "\n");
}

static void ctl_conns_print(const struct dp *dp, struct ctl_conns_worker *cw, uint32_t limit,
			    bool json, struct ctl_buf *out)
{
	uint32_t sessions = 0, listed = 0, left = limit;
	unsigned int answered = 0;
	bool first = true;

	for (unsigned int i = 0; i < dp->n_workers; i++) {
		if (cw[i].state != CTL_CONNS_DONE)
			continue;
		cw[i].shown = RTE_MIN(cw[i].m->conns.n, left);
		left -= cw[i].shown;
		listed += cw[i].shown;
		sessions += cw[i].m->conns.sessions;
		answered++;
	}
	if (json)
		ctl_printf(out,
			   "{\"sessions\":%u,\"listed\":%u,\"limit\":%u,\"answered\":%u,"
			   "\"workers\":[",
			   sessions, listed, limit, answered);
	else
		ctl_printf(out, "# conns sessions=%u listed=%u limit=%u answered=%u workers=%u\n",
			   sessions, listed, limit, answered, dp->n_workers);
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const struct dp_ctl_conns *c = cw[i].m != NULL ? &cw[i].m->conns : NULL;

		if (json)
			ctl_printf(out, "%s{\"id\":%u,\"answered\":%s", i ? "," : "", i,
				   c ? "true" : "false");
		else
			ctl_printf(out, "# worker=%u", i);
		if (c == NULL) {
			ctl_conns_str(out, json, "error", ctl_conns_errors[cw[i].state]);
		} else {
			ctl_conns_num(out, json, "sessions", c->sessions, false);
			ctl_conns_num(out, json, "listed", cw[i].shown, false);
			ctl_conns_num(out, json, "upstreams", c->upstreams, false);
			ctl_conns_num(out, json, "slices", c->slices, false);
		}
		ctl_printf(out, json ? "}" : "\n");
	}
	if (json)
		ctl_printf(out, "],\"conns\":[");
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		for (uint32_t k = 0; k < cw[i].shown; k++, first = false)
			ctl_conns_entry(out, json, first, &cw[i].m->conns.ent[k]);
	}
	if (json)
		ctl_printf(out, "]}\n");
}

int ctl_cmd_show_conns(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	struct ctl_conns_worker cw[DP_MAX_WORKERS] = { 0 };
	struct dp *dp = env->dp;
	uint32_t n;
	bool json;

	if (ctl_conns_args(argc, argv, &n, &json, out) < 0)
		return -1;
	if (dp == NULL || dp->n_workers == 0) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	for (unsigned int i = 0; i < dp->n_workers && i < DP_MAX_WORKERS; i++)
		if (dp->workers[i] != NULL)
			ctl_conns_send(dp->workers[i], n, &cw[i]);
	ctl_conns_wait(dp, cw);
	ctl_conns_print(dp, cw, n, json, out);
	for (unsigned int i = 0; i < dp->n_workers; i++)
		free(cw[i].m);
	return 0;
}
