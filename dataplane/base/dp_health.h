/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: what control and the workers exchange about endpoint health (types only).
 *
 * Control decides health; workers only execute probes and count what real traffic saw.
 *
 * Active checks. Control schedules one probe per endpoint per interval for the appliance and
 * hands each to one worker over that worker's probe rings (struct dp_probe_pw): req, control
 * produces and the worker consumes; rep, the worker produces and control consumes. A probe
 * (struct dp_probe) is one block of control's: control fills the request part and sends it;
 * from then until control takes it back from rep the worker owns it, and control neither
 * reads nor frees it. The worker answers every probe exactly once, by putting the same
 * pointer on rep with the result part filled. Control keeps at most DP_PROBE_RING_SIZE - 1
 * probes in flight per worker, so the worker's answer never finds rep full.
 *
 * Passive detection. Each worker counts the outcome of every try it made on an endpoint in
 * struct dp_ep_passive, its own slot of the endpoint object (dp_ep_pw.pas, written by that
 * worker only with relaxed stores); control reads every worker's slot once per tick (10 ms)
 * and decides ejections from them. Nothing per request crosses cores.
 *
 * This header includes no tcpstack header: control reads everything below.
 */
#ifndef SLUICE_DP_HEALTH_H
#define SLUICE_DP_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

struct rte_ring;

#define DP_PROBE_RING_SIZE 1024 /* per worker, both rings (exact size) */
#define DP_PROBE_REQ_MAX 512	/* bytes of a prebuilt HTTP probe request */
#define DP_PROBE_EXPECT_MAX 8	/* expect_status ranges */
#define DP_PROBE_BODY_MAX 4096	/* bytes of a response body a probe reads at most */
#define DP_PROBE_NEEDLE_MAX 256 /* bytes of expect_body */
#define DP_PROBE_DETAIL 80	/* bytes of a result's words, NUL included */

enum dp_check_type {
	DP_CHECK_TCP = 0, /* connect, then close */
	DP_CHECK_HTTP,	  /* send req, match the status line and the body */
};

/* A check's result, HAProxy's check_status codes (show stat, show servers state). */
enum dp_check_status {
	DP_CHK_INI = 0, /* no check yet */
	DP_CHK_L4OK,	/* tcp: connected */
	DP_CHK_L4TOUT,	/* no answer to the SYN within the timeout */
	DP_CHK_L4CON,	/* refused (RST to the SYN), unreachable, or reset before any byte */
	DP_CHK_L7OK,	/* http: status and body as expected */
	DP_CHK_L7TOUT,	/* connected, no full verdict within the timeout */
	DP_CHK_L7RSP,	/* not a valid HTTP response, or closed before the status line */
	DP_CHK_L7STS,	/* a status outside expect_status, or a body without expect_body */
	DP_CHK_SOCKERR, /* the worker could not open a connection (no TCB, no source port) */
	DP_CHK_SKIPPED, /* not started in time (ring full, worker late): neither success nor
			 * failure; control counts it and moves on */
	DP_CHK_MAX
};

struct dp_status_range {
	uint16_t lo, hi; /* inclusive */
};

/* One probe. Request part: ctl writes before dp_probe_send. Result part: dp writes before
 * answering. */
struct dp_probe {
	/* ctl: request */
	const void *tag;     /* control's (the endpoint object); the worker never reads it */
	uint64_t seq;	     /* control's own number, left as it is */
	uint32_t addr;	     /* network order */
	uint16_t port;	     /* host order */
	uint8_t type;	     /* enum dp_check_type */
	uint8_t n_expect;    /* http: ranges in expect[]; 0 means 200-399 */
	uint32_t timeout_ms; /* from the start of the connect to the verdict */
	uint64_t late_tsc;   /* TSC after which a probe not yet started is DP_CHK_SKIPPED */
	struct dp_status_range expect[DP_PROBE_EXPECT_MAX];
	uint16_t req_len;		  /* http: bytes of req */
	uint16_t needle_len;		  /* http: bytes of needle; 0 = any body */
	char req[DP_PROBE_REQ_MAX];	  /* http: the whole request, sent as it is */
	char needle[DP_PROBE_NEEDLE_MAX]; /* http: expect_body */

	/* dp: result */
	uint8_t status;		      /* enum dp_check_status */
	uint16_t code;		      /* http: the response's status code, 0 when none */
	uint16_t worker;	      /* the worker that ran it */
	uint32_t duration_us;	      /* connect start to verdict (0 when skipped) */
	char detail[DP_PROBE_DETAIL]; /* "Connection refused", "timeout after 200 ms", "HTTP 500",
				       * "body did not contain 'ok'", ... */
};

/* One worker's probe rings; set up before the workers start. */
struct dp_probe_pw {
	struct rte_ring *req; /* ctl: producer, dp: consumer */
	struct rte_ring *rep; /* dp: producer, ctl: consumer */
	uint32_t inflight;    /* ctl only: probes sent and not back yet */
};

/* Outcome of one try of a request on an endpoint, as the worker saw it. */
#define DP_OUTCOMES(X)                                                                 \
	X(ok)		    /* a response head that is not 5xx */                      \
	X(connect_refused)  /* RST to our SYN, or no route */                          \
	X(connect_timeout)  /* no SYN-ACK within connect_ms */                         \
	X(reset)	    /* RST after connecting, before the whole response head */ \
	X(empty_response)   /* FIN before any response byte */                         \
	X(response_timeout) /* no response head within per_try_ms / response_ms */     \
	X(status_5xx)	    /* 500, 501, 505.. (not a gateway failure) */              \
	X(status_gateway)   /* 502, 503, 504 */

enum dp_outcome {
#define DP_OUT_ENUM(name) DP_OUT_##name,
	DP_OUTCOMES(DP_OUT_ENUM)
#undef DP_OUT_ENUM
		DP_OUT_MAX
};

/* A gateway failure in outlier detection's sense (consecutive_gateway_failure). */
static inline bool dp_outcome_gateway(unsigned int o)
{
	return o != DP_OUT_ok && o != DP_OUT_status_5xx;
}

/* One worker's view of one endpoint's real traffic. dp: wo (relaxed stores), ctl: ro. */
struct dp_ep_passive {
	uint64_t n[DP_OUT_MAX]; /* tries per outcome, since the object was created */
	uint32_t run_5xx;	/* 5xx (any) in a row on this worker, reset by an ok */
	uint32_t run_gw;       /* gateway failures in a row on this worker, reset by an ok or 5xx */
	uint64_t last_fail_ms; /* wall-clock ms (CLOCK_REALTIME) of the last failure, 0 none */
	uint8_t last_fail;     /* enum dp_outcome of the last failure */
};

/* Health of an endpoint as control decided it and a snapshot carries it (dp_ep_state). */
enum dp_ep_health {
	DP_HEALTH_UP = 0,   /* no checks, or checks passing (also "UP 1/3" while falling) */
	DP_HEALTH_DOWN,	    /* checks failed fall times (also "DOWN 1/2" while rising) */
	DP_HEALTH_STOPPING, /* set server health stopping: takes no new requests (NOLB) */
};

#endif /* SLUICE_DP_HEALTH_H */
