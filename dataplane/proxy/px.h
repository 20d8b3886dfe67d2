/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: HTTP/1.1 sessions on client connections (module px_).
 *
 * A session is the HTTP side of one accepted TCP connection: it parses requests with
 * http_parse, matches a route, and answers. Today a route answers directly from the appliance
 * (respond: status/body or a generated body of N bytes); the reverse proxy adds upstream
 * connections to the same session. Sessions come from a per-worker pool sized at start
 * (dataplane.max_connections), are touched only by their worker, and hold no pointer into a
 * snapshot across loop iterations: they point at stable objects (listener, endpoint) that
 * outlive snapshots (dp_objs.h, dp_objs.c). Its types (counters, struct px_worker) are
 * px_types.h's and dp_worker.h's.
 */
#ifndef SLUICE_PX_H
#define SLUICE_PX_H

#include <stdint.h>

#include <rte_common.h>

#include "px_types.h"

struct dp_worker;
struct dp_listener_conf;
struct px_session;
struct px_upstream;
struct dp_snapshot;
struct px_obs;

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

/* The loop iteration's TX buffers went out: what waited for that (the max_connections slots
 * of upstream connections freed in the iteration) is done. Once per loop, after the flush
 * and before the quiescent report. Worker only. */
void px_flushed(struct dp_worker *w);

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

/* Worker side of dp_drain, from the worker loop while drain is set (px_drain.c). */
void px_drain_poll(struct dp_worker *w);

#endif /* SLUICE_PX_H */
