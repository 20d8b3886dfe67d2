/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: the health-probe executor's counters and limits (types only, no tcpstack
 * header; hc.h has the functions, docs/health.md the design).
 */
#ifndef SLUICE_HC_TYPES_H
#define SLUICE_HC_TYPES_H

/* Per-worker probe counters (show ports: group "probe"). One of the result counters
 * (l4ok..skipped) counts every probe answered; the no_* counters say why a probe was answered
 * SOCKERR or L4CON without a connection. */
#define HC_COUNTERS(X)                                                                  \
	X(received) /* probes taken from the request ring */                            \
	X(started)  /* connections opened */                                            \
	X(l4ok)                                                                         \
	X(l4tout)                                                                       \
	X(l4con)                                                                        \
	X(l7ok)                                                                         \
	X(l7tout)                                                                       \
	X(l7rsp)                                                                        \
	X(l7sts)                                                                        \
	X(sockerr)                                                                      \
	X(skipped)   /* late_tsc had passed when the worker took it */                  \
	X(no_slot)   /* every probe slot in use */                                      \
	X(no_tcb)    /* the TCB reserve empty */                                        \
	X(no_port)   /* no free source port of this worker toward that address */       \
	X(no_route)  /* no interface routes to the address */                           \
	X(no_mbuf)   /* no mbuf for an HTTP request */                                  \
	X(bad_probe) /* a request part control filled inconsistently (type, req_len) */ \
	X(rep_full)  /* the reply ring was full (control broke its bound): answer held back */

enum hc_counter {
#define HC_CNT_ENUM(name) HC_CNT_##name,
	HC_COUNTERS(HC_CNT_ENUM)
#undef HC_CNT_ENUM
		HC_CNT_MAX
};

extern const char *const hc_counter_names[HC_CNT_MAX];

#define HC_BURST 16 /* probes taken from the request ring per loop iteration at most */

/* Probe TCBs and probe slots per worker: max(HC_RESERVE_MIN, max_connections / 64), at most
 * DP_PROBE_RING_SIZE - 1 (control never has more in flight on one worker). */
#define HC_RESERVE_MIN 16
#define HC_RESERVE_DIVISOR 64

#endif /* SLUICE_HC_TYPES_H */
