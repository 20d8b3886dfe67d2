/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: client connections per source address for the appliance (module rl_).
 *
 * listeners[].limits.max_connections_per_client: one table of (address, count) words shared
 * by every worker, sized at start for every connection the appliance can hold, updated with
 * compare-and-swap only. A count is exact: a connection is admitted by the CAS that takes the
 * count from n to n + 1 <= limit, so workers racing on one address never pass the limit
 * together. An address lives in the first slot of its probe sequence that held it or was free
 * (count 0); a race that puts one address in two slots is settled towards the earlier one
 * before the connection is admitted (rl_conns_acquire). docs/ratelimit.md.
 */
#ifndef SLUICE_RL_CONNS_H
#define SLUICE_RL_CONNS_H

#include <stdint.h>

#define RL_CONNS_PROBE 64 /* slots an address may be found in, from its hash */

struct rl_conns {
	uint64_t *slots; /* (addr << 32) | count */
	uint32_t mask;
	uint64_t bytes;
};

/* A table for at least max_conns connections (twice as many slots, a power of two). Returns
 * 0 or -ENOMEM / -EINVAL. Control only, at start. */
int rl_conns_init(struct rl_conns *t, uint64_t max_conns);
void rl_conns_fini(struct rl_conns *t);

/* Count one more connection of addr (network order, not 0) if it has fewer than limit (> 0).
 * Returns the slot index, -EBUSY at the limit, -ENOSPC when the address has no slot among
 * its RL_CONNS_PROBE. Any thread: lock-free. */
int64_t rl_conns_acquire(struct rl_conns *t, uint32_t addr, uint32_t limit);

/* One connection of addr less (one rl_conns_acquire admitted it). Any thread. */
void rl_conns_release(struct rl_conns *t, uint32_t addr);

/* The connections counted for addr now (tests, show commands). Any thread. */
uint32_t rl_conns_count(const struct rl_conns *t, uint32_t addr);

#endif /* SLUICE_RL_CONNS_H */
