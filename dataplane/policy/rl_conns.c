/* SPDX-License-Identifier: BSD-3-Clause
 * Client connections per source address (rl_conns.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rl.h"
#include "rl_conns.h"

static inline uint32_t w_addr(uint64_t w)
{
	return (uint32_t)(w >> 32);
}

static inline uint32_t w_count(uint64_t w)
{
	return (uint32_t)w;
}

int rl_conns_init(struct rl_conns *t, uint64_t max_conns)
{
	uint64_t n = RL_CONNS_PROBE;

	memset(t, 0, sizeof(*t));
	if (max_conns == 0)
		return -EINVAL;
	while (n < 2 * max_conns && n < (1ull << 31))
		n <<= 1;
	t->slots = aligned_alloc(64, n * sizeof(uint64_t));
	if (t->slots == NULL)
		return -ENOMEM;
	memset(t->slots, 0, n * sizeof(uint64_t));
	t->mask = (uint32_t)(n - 1);
	t->bytes = n * sizeof(uint64_t);
	return 0;
}

void rl_conns_fini(struct rl_conns *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static uint64_t first_slot(const struct rl_conns *t, uint32_t addr)
{
	return rl_hash(0x636f6e6e73ull, &addr, sizeof(addr)) & t->mask;
}

/* Add one to slot i if it holds addr with a count below limit. 1 done, 0 at the limit, -1 the
 * slot no longer holds addr. */
static int slot_inc(struct rl_conns *t, uint64_t i, uint32_t addr, uint32_t limit)
{
	uint64_t w = __atomic_load_n(&t->slots[i], __ATOMIC_RELAXED);

	for (;;) {
		if (w_addr(w) != addr || w_count(w) == 0)
			return -1;
		if (w_count(w) >= limit)
			return 0;
		if (__atomic_compare_exchange_n(&t->slots[i], &w, w + 1, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return 1;
	}
}

int64_t rl_conns_acquire(struct rl_conns *t, uint32_t addr, uint32_t limit)
{
	uint64_t base = first_slot(t, addr);

	for (;;) {
		uint64_t free_i = UINT64_MAX, free_w = 0;
		int rc;

		/* the address where it is: the earliest slot holding it */
		for (uint64_t j = 0; j < RL_CONNS_PROBE; j++) {
			uint64_t i = (base + j) & t->mask;
			uint64_t w = __atomic_load_n(&t->slots[i], __ATOMIC_RELAXED);

			if (w_count(w) > 0 && w_addr(w) == addr) {
				rc = slot_inc(t, i, addr, limit);
				if (rc == 1)
					return (int64_t)i;
				if (rc == 0)
					return -EBUSY;
				free_i = UINT64_MAX; /* it just left: look again */
				break;
			}
			if (w_count(w) == 0 && free_i == UINT64_MAX) {
				free_i = i;
				free_w = w;
			}
		}
		if (free_i == UINT64_MAX) {
			bool full = true;

			for (uint64_t j = 0; j < RL_CONNS_PROBE && full; j++)
				full = w_count(t->slots[(base + j) & t->mask]) > 0;
			if (full)
				return -ENOSPC;
			continue;
		}
		if (!__atomic_compare_exchange_n(&t->slots[free_i], &free_w,
						 ((uint64_t)addr << 32) | 1, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		/* Another worker may have claimed an earlier free slot for the same address at the
		 * same time: the earlier one wins, and ours moves there (under the limit). */
		for (uint64_t j = 0; j < RL_CONNS_PROBE; j++) {
			uint64_t i = (base + j) & t->mask;
			uint64_t w;

			if (i == free_i)
				return (int64_t)free_i;
			w = __atomic_load_n(&t->slots[i], __ATOMIC_RELAXED);
			if (w_count(w) > 0 && w_addr(w) == addr) {
				__atomic_fetch_sub(&t->slots[free_i], 1, __ATOMIC_ACQ_REL);
				rc = slot_inc(t, i, addr, limit);
				if (rc == 1)
					return (int64_t)i;
				if (rc == 0)
					return -EBUSY;
				break; /* it left meanwhile: start over */
			}
		}
	}
}

void rl_conns_release(struct rl_conns *t, uint32_t addr)
{
	uint64_t base = first_slot(t, addr);

	/* the earliest slot that counts it: a count only moves to an earlier slot */
	for (uint64_t j = 0; j < RL_CONNS_PROBE; j++) {
		uint64_t i = (base + j) & t->mask;
		uint64_t w = __atomic_load_n(&t->slots[i], __ATOMIC_RELAXED);

		while (w_count(w) > 0 && w_addr(w) == addr) {
			if (__atomic_compare_exchange_n(&t->slots[i], &w, w - 1, false,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				return;
		}
	}
}

uint32_t rl_conns_count(const struct rl_conns *t, uint32_t addr)
{
	uint64_t base = first_slot(t, addr);
	uint32_t n = 0;

	for (uint64_t j = 0; j < RL_CONNS_PROBE; j++) {
		uint64_t w = __atomic_load_n(&t->slots[(base + j) & t->mask], __ATOMIC_RELAXED);

		if (w_count(w) > 0 && w_addr(w) == addr)
			n += w_count(w);
	}
	return n;
}
