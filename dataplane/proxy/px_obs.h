/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: per-request observability (module px_obs_): phase timestamps, latency
 * histograms per service, phase sums per endpoint, and access-log records handed to control.
 *
 * Phases of one request, from the TSC (rte_rdtsc) of the worker that serves it:
 *   t_recv   first byte of the request head received
 *   t_head   request head complete (parsed)
 *   t_fwd    request head queued to the upstream connection (proxied requests)
 *   t_conn   upstream handshake completed (new upstream connections only)
 *   t_resp   response head received from the upstream
 *   done     last byte of the response queued to the client connection
 * and the durations derived from them:
 *   header      t_head - t_recv
 *   connect     t_conn - t_fwd (the SYN leaves when the request is queued)
 *   first byte  t_resp - max(t_fwd, t_conn): from the moment the request could leave
 *   total       done - t_head
 *
 * Histograms (px_hist.h) are per worker and per service, written by their worker only and
 * summed by control: total (requests answered, whatever the status), connect (new upstream
 * connections), first byte (responses from an endpoint). Endpoints keep count, sum and max
 * of the same three phases (cheap enough per endpoint; enough for show stat's averages).
 *
 * Access log: when control.access_log is set, a request takes a fixed-size record from the
 * worker's pool when its head is parsed, fills it when it ends and queues a pointer to it
 * on the worker's single-producer/single-consumer ring to control, which writes the line
 * and puts the record back (the pool's only producer). The ring holds more entries than
 * the pool has records, so enqueueing never fails; when the pool is empty (control is
 * behind) the request is not logged and http.access_log_dropped counts it. Workers never
 * touch files.
 *
 * The storage lives in the stable service and endpoint objects (struct dp_svc_pw and
 * dp_ep_pw, one slot per worker), so it survives weight changes and reloads; readers reach it
 * through px_obs_service() / px_obs_endpoint(), by position in the published snapshot (as
 * px_service_counters()).
 */
#ifndef SLUICE_PX_OBS_H
#define SLUICE_PX_OBS_H

#include <stdbool.h>
#include <stdint.h>

#include "px_types.h"

struct dp_worker;
struct dp_snapshot;
struct px_session;
struct http_iov;
struct dp_endpoint;

/* Set-up (before the worker starts) and release (after it stopped). Returns 0 or -errno. */
int px_obs_init(struct dp_worker *w);
void px_obs_fini(struct dp_worker *w);

/* A new snapshot: follow control.access_log (on when not empty). Worker only. */
void px_obs_apply(struct dp_worker *w, const struct dp_snapshot *snap);

/* Hooks of the session code, worker only. */
void px_obs_reset(struct dp_worker *w, struct px_session *s, bool started);
void px_obs_rx(struct dp_worker *w, struct px_session *s);
void px_obs_head(struct dp_worker *w, struct px_session *s, const struct http_iov *iov,
		 unsigned int n, int route);
void px_obs_forwarded(struct dp_worker *w, struct px_session *s);
void px_obs_connected(struct dp_worker *w, struct px_session *s);
void px_obs_resp_head(struct dp_worker *w, struct px_session *s);
/* The response is complete (direct, error or proxied): histograms, log record. */
void px_obs_done(struct dp_worker *w, struct px_session *s);
/* The session ends: a request still in progress is logged as aborted. */
void px_obs_end(struct dp_worker *w, struct px_session *s);

/* Worker w's histograms of service svc, and phase sums of its endpoint ep; NULL when there
 * is no such object. Any thread: read every word relaxed. */
const struct px_obs_svc *px_obs_service(const struct dp_worker *w, uint32_t svc);
const struct px_obs_ep *px_obs_endpoint(const struct dp_worker *w, uint32_t svc, uint32_t ep);

/* Control only: take up to max records queued by worker w, call fn on each, give them back
 * to the worker's pool. Returns how many were taken. */
unsigned int px_obs_alog_drain(struct dp_worker *w,
			       void (*fn)(const struct px_alog_rec *r, void *arg), void *arg,
			       unsigned int max);

/* The PX_OBJ_MAX counters of listener l, service svc or its endpoint ep (indices in the
 * published snapshot, dp->snapshot) on worker w; NULL when there is no such object. The
 * counters are the stable objects' (they survive reloads). Control thread: it alone replaces
 * the snapshot; values are read relaxed. */
const uint64_t *px_listener_counters(const struct dp_worker *w, uint32_t l);
/* The 429s of route `route` (its index in the listener's routes) of listener l on worker w,
 * in the published snapshot. Any thread (relaxed load). */
uint64_t px_route_limited(const struct dp_worker *w, uint32_t l, uint32_t route);
const uint64_t *px_service_counters(const struct dp_worker *w, uint32_t svc);
const uint64_t *px_endpoint_counters(const struct dp_worker *w, uint32_t svc, uint32_t ep);

#endif /* SLUICE_PX_OBS_H */
