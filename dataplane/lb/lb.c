/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: the balancer registry and the pick/release wrappers every algorithm
 * shares (in-flight counting lives here so no algorithm can get it wrong).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_conf.h"
#include "lb.h"

extern const struct lb_ops lb_rr_ops;
extern const struct lb_ops lb_wrr_ops;
extern const struct lb_ops lb_lc_ops;
extern const struct lb_ops lb_p2c_ops;
extern const struct lb_ops lb_maglev_ops;

/* Indexed by enum dp_balance. */
static const struct lb_ops *const lb_algos[] = {
	[DP_BALANCE_ROUND_ROBIN] = &lb_rr_ops,
	[DP_BALANCE_WEIGHTED_ROUND_ROBIN] = &lb_wrr_ops,
	[DP_BALANCE_LEAST_CONNECTIONS] = &lb_lc_ops,
	[DP_BALANCE_RANDOM_TWO] = &lb_p2c_ops,
	[DP_BALANCE_MAGLEV] = &lb_maglev_ops,
};

#define LB_N_ALGOS (sizeof(lb_algos) / sizeof(lb_algos[0]))

const struct lb_ops *lb_by_balance(uint32_t balance)
{
	if (balance >= LB_N_ALGOS)
		return NULL;
	return lb_algos[balance];
}

const struct lb_ops *lb_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < LB_N_ALGOS; i++)
		if (lb_algos[i] != NULL && strcmp(lb_algos[i]->name, name) == 0)
			return lb_algos[i];
	return NULL;
}

struct lb_state *lb_create(const struct lb_ops *ops, uint32_t n, const uint32_t *weights)
{
	struct lb_state *st;
	size_t words, size;
	uint32_t i;

	if (ops == NULL || ops->pick == NULL || n > LB_MAX_ENDPOINTS) {
		errno = EINVAL;
		return NULL;
	}
	words = ops->words != NULL ? ops->words(n) : 0;
	/* One block: header, algorithm words, then the endpoints (uint64_t words keep the
	 * endpoint array naturally aligned). */
	size = sizeof(*st) + words * sizeof(uint64_t) + (size_t)n * sizeof(struct lb_endpoint);
	st = calloc(1, size);
	if (st == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	st->ops = ops;
	st->n = n;
	st->eps = (struct lb_endpoint *)(void *)&st->algo[words];
	for (i = 0; i < n; i++) {
		st->eps[i].weight = weights != NULL ? weights[i] : 1;
		st->eps[i].active = 0;
		st->eps[i].usable = true;
	}
	if (ops->init != NULL)
		ops->init(st);
	return st;
}

void lb_destroy(struct lb_state *st)
{
	free(st);
}

void lb_carry(struct lb_state *to, const struct lb_state *from, const int32_t *map)
{
	if (to == NULL || from == NULL || map == NULL)
		return;
	for (uint32_t i = 0; i < to->n; i++)
		if (map[i] >= 0 && (uint32_t)map[i] < from->n)
			to->eps[i].active = from->eps[map[i]].active;
	if (to->ops == from->ops && to->ops->carry != NULL)
		to->ops->carry(to, from, map);
}

int lb_pick(struct lb_state *st)
{
	int i = st->ops->pick(st);

	if (i >= 0)
		st->eps[i].active++;
	return i;
}

void lb_take(struct lb_state *st, int i)
{
	if (i >= 0 && (uint32_t)i < st->n)
		st->eps[i].active++;
}

int lb_pick_hash(struct lb_state *st, uint64_t h)
{
	int i = st->ops->pick_hash != NULL ? st->ops->pick_hash(st, h) : st->ops->pick(st);

	if (i >= 0)
		st->eps[i].active++;
	return i;
}

/* FNV-1a over the bytes, then MurmurHash3's 64-bit finaliser so that every input bit reaches
 * every output bit (FNV alone leaves the low bits weak for short keys such as addresses).
 * Byte by byte: no dependency on the machine's byte order. */
uint64_t lb_hash64(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

void lb_release(struct lb_state *st, int i)
{
	if (i < 0 || (uint32_t)i >= st->n)
		return;
	/* A release without its pick is a caller bug; never wrap to 4 billion in flight, which
	 * would starve the endpoint under least_connections forever. */
	if (st->eps[i].active > 0)
		st->eps[i].active--;
}

void lb_carry_cursor(struct lb_state *to, const struct lb_state *from, const int32_t *map)
{
	uint32_t last = (uint32_t)from->algo[0];

	to->algo[0] = 0;
	if (last == 0)
		return;
	for (uint32_t i = 0; i < to->n; i++)
		if (map[i] >= 0 && (uint32_t)map[i] == last - 1) {
			to->algo[0] = i + 1;
			return;
		}
}
