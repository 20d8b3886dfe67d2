/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: HTTP/1.1 sessions on client connections (module px_).
 *
 * A session is the HTTP side of one accepted TCP connection: it parses requests with
 * http_parse, matches a route, and answers. Today a route answers directly from the appliance
 * (respond: status/body or a generated body of N bytes); the reverse proxy adds upstream
 * connections to the same session. Sessions come from a per-worker pool sized at start
 * (dataplane.max_connections), are touched only by their worker, and hold no pointer into a
 * snapshot across loop iterations: they point at stable objects (listener, endpoint) that
 * outlive snapshots (dataplane.h, dp_objs.c).
 */
#ifndef SLUICE_PX_H
#define SLUICE_PX_H

#include <stdint.h>

#include <rte_common.h>

#include "dp_conf.h"
#include "http_parse.h"
#include "tcp.h"
#include "tcp_wheel.h"

#define PX_MAX_LISTENERS 32

/* Per-worker counters of HTTP sessions, each one named. */
#define PX_COUNTERS(X)                \
	X(conns_accepted)             \
	X(conns_closed)               \
	X(refused_pool_empty)         \
	X(refused_listener_limit)     \
	X(requests)                   \
	X(responses_1xx)              \
	X(responses_2xx)              \
	X(responses_3xx)              \
	X(responses_4xx)              \
	X(responses_5xx)              \
	X(no_route)                   \
	X(body_bytes_discarded)       \
	X(body_bytes_generated)       \
	X(header_timeouts)            \
	X(idle_timeouts)              \
	X(rx_coalesced)               \
	X(drop_no_mbuf)               \
	X(client_resets)              \
	X(proxied_requests)           \
	X(no_endpoint)                \
	X(upstream_connects)          \
	X(upstream_reused)            \
	X(upstream_connect_failures)  \
	X(upstream_pool_empty)        \
	X(upstream_connect_timeouts)  \
	X(upstream_response_timeouts) \
	X(upstream_resets)            \
	X(upstream_bad_responses)     \
	X(upstream_idle_closed)       \
	X(tunnels)                    \
	X(listen_failures)            \
	X(listener_gone)              \
	X(route_gone)                 \
	X(access_log_dropped)         \
	X(req_pool_empty)             \
	X(conn_token_ignored)         \
	X(drop_continue)              \
	X(drop_interim)               \
	X(interim_withheld)           \
	X(upstream_not_reused)        \
	X(header_evicted)             \
	X(runs)                       \
	X(run_deferred)               \
	X(retries)                    \
	X(retry_redispatches)         \
	X(retry_keepalive_race)       \
	X(retry_budget_exhausted)     \
	X(retry_body_not_held)        \
	X(retry_no_endpoint)          \
	X(queue_waits)                \
	X(queue_timeouts)             \
	X(queue_full)                 \
	X(breaker_open)               \
	X(breaker_trials)

enum px_counter {
#define PX_CNT_ENUM(name) PX_CNT_##name,
	PX_COUNTERS(PX_CNT_ENUM)
#undef PX_CNT_ENUM
		PX_CNT_MAX
};

/* Counters of one listener, service or endpoint (per worker, summed by control). Not every
 * object uses every counter: a listener has no connect failures, an endpoint no refusals.
 * retry_warnings, redispatch_warnings: show stat's wretr and wredis, named as HAProxy's
 * exporter names them (a service's retries; an endpoint's: retries away from it). */
#define PX_OBJ_COUNTERS(X)  \
	X(requests)         \
	X(responses_1xx)    \
	X(responses_2xx)    \
	X(responses_3xx)    \
	X(responses_4xx)    \
	X(responses_5xx)    \
	X(bytes_in)         \
	X(bytes_out)        \
	X(conns)            \
	X(conns_reused)     \
	X(connect_failures) \
	X(no_endpoint)      \
	X(refused)          \
	X(retry_warnings)   \
	X(redispatch_warnings)

enum px_obj_counter {
#define PX_OBJ_ENUM(name) PX_OBJ_##name,
	PX_OBJ_COUNTERS(PX_OBJ_ENUM)
#undef PX_OBJ_ENUM
		PX_OBJ_MAX
};

extern const char *const px_obj_counter_names[PX_OBJ_MAX];

#define PX_ERR_MAX (HTTP_E_END - HTTP_E_BASE - 1)

extern const char *const px_counter_names[PX_CNT_MAX];
extern const char *const px_error_names[PX_ERR_MAX];

struct dp_worker;
struct dp_listener_conf;
struct px_session;
struct px_upstream;
struct dp_snapshot;
struct px_obs;

/* A listener as one worker sees it: the tcp_listen user pointer, one slot of a stable
 * listener object (struct dp_listener). Written by its worker only. */
struct px_listener {
	struct dp_worker *w;
	const struct dp_listener_conf *conf; /* in the applied snapshot; NULL: listener removed */
	struct dp_limits_conf limits;	     /* as last applied (sessions outlive a removal) */
	uint32_t conns;			     /* sessions of this listener on this worker */
	uint32_t max_conns; /* limits.max_connections shared equally among workers */
	uint32_t l_addr;    /* what tcp_listen was given, when listening */
	uint16_t l_port;
	uint8_t listening;
	uint64_t epoch; /* last snapshot epoch that had it, as this worker applied it */
	uint64_t cnt[PX_OBJ_MAX];
} __rte_cache_aligned;

struct px_worker {
	uint64_t cnt[PX_CNT_MAX];
	uint64_t err[PX_ERR_MAX]; /* requests refused, by parser error */

	struct px_session *sessions; /* pool of n_sessions, free list through next_free */
	uint32_t n_sessions;
	uint32_t free_head;
	uint32_t used;

	/* request state (struct px_req) of the requests in progress: pool of n_reqs, free list
	 * through next_free; sessions with bytes but no px_req wait on wait_head..wait_tail */
	struct px_req *reqs;
	uint32_t n_reqs;
	uint32_t req_free;
	uint32_t req_used;
	uint32_t req_hwm;
	uint32_t wait_head, wait_tail;
	uint32_t n_waiting;
	/* sessions holding a px_req whose head is not complete, oldest first; when sessions
	 * wait, the oldest of these past PX_EVICT_MIN_MS give theirs up (px_req.c) */
	uint32_t hd_head, hd_tail;
	uint32_t n_evicting; /* evictions posted, not run yet */
	/* sessions waiting for a circuit_breaker slot (PX_QUEUED), oldest first, through
	 * wait_next/wait_prev (px_breaker.c) */
	uint32_t q_head, q_tail;
	uint32_t n_queued;

	struct tcp_wheel wheel;	  /* header and idle timeouts */
	struct rte_mbuf *pattern; /* generated bodies: indirect mbufs attach to it */
	uint64_t date_until;	  /* TSC until which date[] is current */
	char date[40];		  /* "Date: ...\r\n" line, refreshed once a second */
	uint8_t date_len;

	/* reverse proxy: upstream connections (pool of n_upstreams, free list through next) */
	struct px_upstream *upstreams;
	uint32_t n_upstreams;
	uint32_t up_free;
	uint32_t up_used;
	uint32_t port_cursor; /* next local port to try for an upstream connection */
	/* the snapshot applied last: valid until the worker applies the next one (control frees
	 * a snapshot only after every worker applied a newer one) */
	const struct dp_snapshot *snap;
	uint8_t *scratch; /* a whole request or response head, to rebuild it */
	uint32_t scratch_len;
	/* header spans of the heads the worker parses (px_head_parse): one array for every
	 * session, holding the spans of hdrs_msg's head */
	struct http_header *hdrs;
	const struct http_msg *hdrs_msg;
	uint64_t epoch;	   /* snapshot epoch applied to the balancers (px_apply) */
	uint32_t conf_gen; /* configurations applied: a route index holds within one */
	uint32_t n_hdrs;
	struct px_obs *obs; /* histograms, access-log ring (px_obs.c) */

	/* the run list (px_run.c): posted sessions (index) and upstream connections (index |
	 * PX_RUN_UP), each at most once, in a ring sized for every object of the worker */
	uint32_t *runq;
	uint32_t runq_mask, runq_head, runq_tail;
};

/* "Date: Thu, 03 Dec 2026 14:55:06 GMT\r\n" (RFC 9110 5.6.7 IMF-fixdate) for secs since the
 * epoch, years 0 to 9999, into out (at least 40 bytes). Returns its length. Any thread: no
 * lock, no libc time function. */
size_t px_http_date(char *out, int64_t secs);

/* Allocate the session pool. Before the worker starts (it listens when it applies its first
 * snapshot). Returns 0 or -errno. */
int px_init(struct dp_worker *w);

/* Close every session (abort its connection) and free the pool. After the worker stopped. */
void px_fini(struct dp_worker *w);

/* Run due session timers; once per loop. Worker only. */
void px_timers(struct dp_worker *w);

/* The PX_OBJ_MAX counters of listener l, service svc or its endpoint ep (indices in the
 * published snapshot, dp->snapshot) on worker w; NULL when there is no such object. The
 * counters are the stable objects' (they survive reloads). Control thread: it alone replaces
 * the snapshot; values are read relaxed. */
const uint64_t *px_listener_counters(const struct dp_worker *w, uint32_t l);
const uint64_t *px_service_counters(const struct dp_worker *w, uint32_t svc);
const uint64_t *px_endpoint_counters(const struct dp_worker *w, uint32_t svc, uint32_t ep);

/* Apply a new snapshot: listeners opened, closed or moved; per service balancers taken over
 * from the previous snapshot (in-flight counts and rotation follow their endpoints);
 * endpoint states (weights, drain, maintenance); idle connections of endpoints that left
 * the snapshot or take no new requests closed; the access log on or off. Worker only, at
 * the top of its loop. */
void px_apply(struct dp_worker *w, const struct dp_snapshot *snap);

/* The byte at offset i of a generated body (respond: {bytes: N}): 'a' + i % 26. Tests and
 * benchmarks compute the same pattern to check what they received. */
static inline uint8_t px_body_byte(uint64_t i)
{
	return (uint8_t)('a' + i % 26);
}

#endif /* SLUICE_PX_H */
