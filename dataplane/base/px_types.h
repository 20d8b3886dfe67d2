/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: the proxy's types that other layers and control see (types only, no
 * tcpstack header): the per-worker and per-object counter lists, a listener object's per-worker
 * slot, and the observation records (phase sums, histograms, access-log records; the functions
 * that fill and read them are px_obs.h's). The proxy's functions are px.h's.
 */
#ifndef SLUICE_PX_TYPES_H
#define SLUICE_PX_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "dp_conf.h"
#include "http_parse.h"
#include "px_hist.h"

#define PX_MAX_LISTENERS 32
#define PX_MAX_ROUTES 1024 /* per listener (CFG_MAX_ROUTES) */

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
	X(rate_limited)               \
	X(rate_limit_untracked)       \
	X(refused_per_client)         \
	X(per_client_untracked)       \
	X(queue_waits)                \
	X(queue_timeouts)             \
	X(queue_full)                 \
	X(breaker_open)               \
	X(breaker_trials)             \
	X(conn_limit_waits)           \
	X(conn_limit_refused)

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
#define PX_OBJ_COUNTERS(X)     \
	X(requests)            \
	X(responses_1xx)       \
	X(responses_2xx)       \
	X(responses_3xx)       \
	X(responses_4xx)       \
	X(responses_5xx)       \
	X(bytes_in)            \
	X(bytes_out)           \
	X(conns)               \
	X(conns_reused)        \
	X(connect_failures)    \
	X(no_endpoint)         \
	X(refused)             \
	X(rate_limited)        \
	X(retry_warnings)      \
	X(redispatch_warnings) \
	X(conn_limited)

enum px_obj_counter {
#define PX_OBJ_ENUM(name) PX_OBJ_##name,
	PX_OBJ_COUNTERS(PX_OBJ_ENUM)
#undef PX_OBJ_ENUM
		PX_OBJ_MAX
};

extern const char *const px_obj_counter_names[PX_OBJ_MAX];

/* Entries into each state of the two state machines (docs/session-engine.md), a debug table
 * of one increment per state change (px_session_enter, px_up_enter): the session's states in
 * enum px_state's order, then the upstream connection's (enum px_up_state, from CONNECTING). */
#define PX_STATE_COUNTERS(X) \
	X(head)              \
	X(body)              \
	X(respond)           \
	X(done)              \
	X(fwd_body)          \
	X(wait_resp)         \
	X(tunnel)            \
	X(retry)             \
	X(queued)            \
	X(up_connecting)     \
	X(up_busy)           \
	X(up_idle)

enum px_state_counter {
#define PX_ST_ENUM(name) PX_ST_##name,
	PX_STATE_COUNTERS(PX_ST_ENUM)
#undef PX_ST_ENUM
		PX_ST_MAX
};

extern const char *const px_state_names[PX_ST_MAX];

#define PX_ERR_MAX (HTTP_E_END - HTTP_E_BASE - 1)

extern const char *const px_counter_names[PX_CNT_MAX];
extern const char *const px_error_names[PX_ERR_MAX];

struct dp_worker;
struct dp_endpoint;

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
	/* 429s of each route, by its position in the listener's routes (a reload that moves
	 * a route leaves its count at the old position) */
	uint64_t route_limited[PX_MAX_ROUTES];
} __rte_cache_aligned;

enum px_phase {
	PX_PH_TOTAL = 0,
	PX_PH_CONNECT,
	PX_PH_FIRST_BYTE,
	PX_PH_MAX,
};

/* Per service, per worker. */
struct px_obs_svc {
	struct px_hist h[PX_PH_MAX];
};

/* Per endpoint, per worker: what show stat's ctime/rtime/ttime need. */
struct px_obs_ep {
	uint64_t count[PX_PH_MAX];
	uint64_t sum_us[PX_PH_MAX];
	uint64_t max_us[PX_PH_MAX];
};

#define PX_ALOG_HOST 64	   /* bytes of Host kept in a log record */
#define PX_ALOG_TARGET 128 /* bytes of the request target kept */
#define PX_ALOG_METHOD 16
#define PX_ALOG_NAME 48
#define PX_ALOG_NONE UINT32_MAX /* a phase that did not happen */

/* One access-log record (one request). */
struct px_alog_rec {
	uint64_t tsc; /* when the request ended */
	uint64_t bytes_in, bytes_out;
	uint32_t client_ip; /* network order */
	uint16_t client_port;
	uint16_t status;  /* 0: no response sent */
	uint32_t t_us[4]; /* header, connect, first byte, total; PX_ALOG_NONE */
	int32_t route;	  /* -1: none matched (404) or refused request */
	uint16_t worker;
	uint8_t aborted; /* the session ended before the response was complete */
	uint8_t host_len, target_len, method_len;
	char method[PX_ALOG_METHOD];
	char host[PX_ALOG_HOST];
	char target[PX_ALOG_TARGET];
	/* names, copied when the request ends ("-": none; cut at PX_ALOG_NAME - 1 bytes):
	 * objects may be gone by the time control writes the line */
	char listener[PX_ALOG_NAME];
	char svc[PX_ALOG_NAME];
	char ep[PX_ALOG_NAME];
};

/* Per request, in its request state (struct px_req, px_req.c). */
struct px_obs_req {
	uint64_t t_recv, t_head, t_fwd, t_conn, t_resp; /* TSC; 0: not (yet) */
	uint32_t in_mark, out_mark;			/* TCP sequence marks at the start */
	struct px_alog_rec *rec;			/* NULL: not logged */
	struct dp_endpoint *ep; /* the endpoint the request went to, NULL: none (yet) */
};

#endif /* SLUICE_PX_TYPES_H */
