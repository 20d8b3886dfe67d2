/* SPDX-License-Identifier: BSD-3-Clause
 * The appliance-wide table of token buckets (rl.h): GCRA on one 64-bit word per bucket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rl.h"

#define RL_TAT_BITS 56
#define RL_TAT_MASK ((1ull << RL_TAT_BITS) - 1)

static inline uint64_t slot_tat(uint64_t w)
{
	return w & RL_TAT_MASK;
}

static inline uint64_t slot_fp(uint64_t w)
{
	return w >> RL_TAT_BITS;
}

struct rl_rate rl_rate_make(uint32_t rps, uint32_t burst)
{
	struct rl_rate r;

	if (rps == 0)
		rps = 1;
	if (rps > RL_MAX_RPS)
		rps = RL_MAX_RPS;
	/* rounded up: the rounding error admits less, never more (at most 0.4 % at the bound) */
	r.interval = (RL_UNITS_PER_S + rps - 1) / rps;
	/* capacity at least one token: a burst of 0 still lets requests through at R */
	r.tolerance = r.interval * (burst > 0 ? burst : 1);
	return r;
}

int rl_table_init(struct rl_table *t, uint32_t n_slots, uint32_t n_workers)
{
	uint64_t groups = 1;
	size_t sz, lsz;

	memset(t, 0, sizeof(*t));
	if (n_slots == 0 || n_workers == 0)
		return -EINVAL;
	while (groups * RL_WAYS < n_slots && groups < (1ull << 31))
		groups <<= 1;
	sz = groups * RL_WAYS * sizeof(uint64_t);
	lsz = (size_t)n_workers * RL_LEASE_SLOTS * sizeof(struct rl_lease);
	t->slots = aligned_alloc(64, sz);
	t->leases = aligned_alloc(64, (lsz + 63) / 64 * 64);
	if (t->slots == NULL || t->leases == NULL) {
		rl_table_fini(t);
		return -ENOMEM;
	}
	memset(t->slots, 0, sz);
	memset(t->leases, 0, lsz);
	t->group_mask = (uint32_t)(groups - 1);
	t->n_workers = n_workers;
	t->bytes = sz + lsz;
	return 0;
}

void rl_table_fini(struct rl_table *t)
{
	free(t->slots);
	free(t->leases);
	memset(t, 0, sizeof(*t));
}

uint64_t rl_hash(uint64_t seed, const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	/* splitmix64's finalizer: the group index and the fingerprint come from every bit */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h != 0 ? h : 1;
}

/* The slot of key in its group: the one with its fingerprint, else the first whose bucket is
 * full again at now (empty words are full: their time is 0). NULL when neither exists. *w is
 * the slot's word as loaded. */
static uint64_t *find_slot(struct rl_table *t, uint64_t key, uint64_t now, uint64_t *w)
{
	uint64_t fp = slot_fp(key) != 0 ? slot_fp(key) : 1;
	uint64_t *g = &t->slots[(uint64_t)(key & t->group_mask) * RL_WAYS];
	uint64_t *free_slot = NULL, free_w = 0;

	for (unsigned int i = 0; i < RL_WAYS; i++) {
		uint64_t v = __atomic_load_n(&g[i], __ATOMIC_RELAXED);

		if (slot_fp(v) == fp) {
			*w = v;
			return &g[i];
		}
		if (free_slot == NULL && slot_tat(v) <= now) {
			free_slot = &g[i];
			free_w = v;
		}
	}
	*w = free_w;
	return free_slot;
}

uint32_t rl_take(struct rl_table *t, uint64_t key, const struct rl_rate *r, uint64_t now,
		 uint32_t want, uint64_t *wait)
{
	uint64_t fp = slot_fp(key) != 0 ? slot_fp(key) : 1;
	uint64_t w, *slot;

	now &= RL_TAT_MASK;
again:
	slot = find_slot(t, key, now, &w);
	if (slot == NULL)
		return RL_FULL;
	for (;;) {
		/* another key's word (a full bucket we claim) counts as full: start from now */
		uint64_t tat = slot_fp(w) == fp && slot_tat(w) > now ? slot_tat(w) : now;
		/* a worker whose clock read lags another's may see tat past now + tolerance */
		uint64_t room = tat <= now + r->tolerance ? now + r->tolerance - tat : 0;
		uint64_t n = room / r->interval;

		if (n > want)
			n = want;
		if (n == 0) {
			/* the next token: when tat + interval - tolerance is reached */
			*wait = tat + r->interval - (now + r->tolerance);
			return 0;
		}
		uint64_t nw = (fp << RL_TAT_BITS) | ((tat + n * r->interval) & RL_TAT_MASK);

		if (__atomic_compare_exchange_n(slot, &w, nw, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return (uint32_t)n;
		/* w reloaded: still ours (or still claimable) retries here, else look again */
		if (slot_fp(w) != fp && slot_tat(w) > now)
			goto again;
	}
}

uint32_t rl_lease_take(struct rl_table *t, uint32_t worker, uint64_t key, const struct rl_rate *r,
		       uint64_t now, uint64_t *wait)
{
	struct rl_lease *l =
		&t->leases[(uint64_t)worker * RL_LEASE_SLOTS + (key >> 32) % RL_LEASE_SLOTS];
	uint32_t n;

	if (l->key == key && l->tokens > 0) {
		l->tokens--;
		return 1;
	}
	/* another key's leftover tokens are dropped: at most RL_LEASE_MAX - 1 admitted less */
	n = rl_take(t, key, r, now, RL_LEASE_MAX, wait);
	if (n == RL_FULL || n == 0)
		return n;
	l->key = key;
	l->tokens = n - 1;
	return 1;
}
