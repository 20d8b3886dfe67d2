/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: rate limits shared by every worker, without a lock (module rl_).
 *
 * One table of token buckets for the whole appliance, sized at start. A bucket is one 64-bit
 * word: an 8-bit fingerprint of its key and a 56-bit theoretical arrival time (GCRA: the time
 * at which the bucket would be full again, in RL_UNIT_NS units since the table's start).
 * Taking tokens is one compare-and-swap on that word, so any worker may take from any bucket
 * and the total admitted is exact; refill is implicit in time (nothing refills, no control
 * tick). Keys hash to a group of RL_WAYS slots (one cache line); a key not in its group takes
 * the first slot whose bucket is full again (empty or idle: forgetting a full bucket loses
 * nothing), and when every slot of the group holds a bucket still refilling, the request is
 * admitted uncounted (rl_take returns RL_FULL): a flood of distinct keys costs accuracy, never
 * memory or time. docs/ratelimit.md states the bounds.
 *
 * Per-route buckets are taken in leases of up to RL_LEASE_MAX tokens that a worker keeps in a
 * small per-worker cache (rl_lease_take), so a busy route costs one atomic per RL_LEASE_MAX
 * requests; leased tokens are spent later, which shifts at most workers x RL_LEASE_MAX
 * admissions from one window into the next.
 */
#ifndef SLUICE_RL_H
#define SLUICE_RL_H

#include <stdbool.h>
#include <stdint.h>

#define RL_UNIT_NS 4		    /* time unit: 2^56 units = 9.1 years of uptime */
#define RL_UNITS_PER_S 250000000ull /* 1e9 / RL_UNIT_NS */
#define RL_WAYS 8		    /* slots per group: one 64-byte line */
#define RL_LEASE_MAX 8		    /* tokens a worker leases at once */
#define RL_LEASE_SLOTS 64	    /* per-worker lease cache, direct mapped */
#define RL_MAX_RPS 1000000u	    /* requests_per_second bound: interval >= 250 units */
#define RL_FULL UINT32_MAX	    /* rl_take: no slot for the key, admitted uncounted */

/* A bucket's parameters, derived once from requests_per_second R and burst B. */
struct rl_rate {
	uint64_t interval;  /* units per token: RL_UNITS_PER_S / R */
	uint64_t tolerance; /* capacity max(B, 1) tokens, in units */
};

struct rl_lease {
	uint64_t key;	 /* 0: empty */
	uint32_t tokens; /* leased, not spent yet */
	uint32_t pad;
};

struct rl_table {
	uint64_t *slots; /* n_groups * RL_WAYS words, 64-byte aligned */
	uint32_t group_mask;
	uint32_t n_workers;
	struct rl_lease *leases; /* n_workers * RL_LEASE_SLOTS; worker i's are its own */
	uint64_t bytes;		 /* memory held, for show pools */
};

/* Parameters for R requests per second (1..RL_MAX_RPS) and burst B. */
struct rl_rate rl_rate_make(uint32_t rps, uint32_t burst);

/* Allocate a table of at least n_slots buckets (rounded up to a power of two groups) and
 * n_workers lease caches, zeroed. Returns 0 or -ENOMEM/-EINVAL. Control only, at start. */
int rl_table_init(struct rl_table *t, uint32_t n_slots, uint32_t n_workers);
void rl_table_fini(struct rl_table *t);

/* Take up to want (1..RL_LEASE_MAX) tokens of key's bucket at time now (units since start, >
 * 0). Returns the tokens taken: 0 when the bucket is empty (then *wait is the units until one
 * token refills), or RL_FULL when the key has no slot (the caller admits and counts it). Any
 * thread: lock-free, at most RL_WAYS loads and a CAS retried only when another thread changed
 * the same word. */
uint32_t rl_take(struct rl_table *t, uint64_t key, const struct rl_rate *r, uint64_t now,
		 uint32_t want, uint64_t *wait);

/* One token for worker `worker` from key's bucket, through the worker's lease cache: spends a
 * leased token, else leases up to RL_LEASE_MAX with rl_take. Returns 1 admitted, 0 refused
 * (*wait set), RL_FULL as rl_take. Worker `worker` only (its lease cache is its own). */
uint32_t rl_lease_take(struct rl_table *t, uint32_t worker, uint64_t key, const struct rl_rate *r,
		       uint64_t now, uint64_t *wait);

/* 64-bit hash of len bytes mixed into seed (FNV-1a then a finalizer); never 0. */
uint64_t rl_hash(uint64_t seed, const void *p, uint32_t len);

#endif /* SLUICE_RL_H */
