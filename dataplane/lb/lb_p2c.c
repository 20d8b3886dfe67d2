/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: random_two, the power of two choices (Mitzenmacher), weighted.
 *
 * Two distinct eligible endpoints are drawn at random, each with probability proportional to
 * its effective weight (lb_weight_eff: the weight, ramped by slow start), and the one with
 * fewer requests in flight from this worker wins. A tie goes to the lower load per unit of
 * weight, active / weight, so the heavier endpoint; a tie on that too (nothing in flight on
 * either) goes to the first draw. So with no load at all the picks follow the weights;
 * under load an endpoint that answers slowly keeps requests in flight and loses most of its
 * duels, without the herd effect of everyone choosing the single least loaded endpoint.
 *
 * The random numbers come from wyrand (Wang Yi's generator: one add and one 64x64->128
 * multiply) in the state's own word, seeded per state, so no worker touches another's cache
 * lines.
 *
 * A draw is a binary search (O(log N) per pick, no pass over the endpoints) in the state's own
 * cumulative array of the eligible endpoints' weights, rebuilt in one pass on the first pick
 * after the owner changed weights or usable flags (lb_touch moves st->gen). While slow start
 * ramps an endpoint its weight changes with the clock, so until the last ramp ends the draws
 * walk the endpoints as before (two passes plus the sum). Both ways map the same random
 * number to the same endpoint: the picks do not depend on which one ran.
 */
#include <stdint.h>

#include "lb.h"

/* algo[]: the wyrand state, then the cache: the st->gen it was built at + 1 (0: never),
 * eligible endpoints, their total weight, when the last slow-start ramp ends (ms on
 * st->now_ms's clock; 0: none), n cumulative weights, n endpoint indices (uint32_t, packed
 * two a word). */
enum { P2C_RNG, P2C_BUILT, P2C_N_OK, P2C_TOTAL, P2C_RAMP_END, P2C_CUM };

static size_t lb_p2c_words(uint32_t n)
{
	return P2C_CUM + (size_t)n + ((size_t)n + 1) / 2;
}

static inline uint64_t *p2c_cum(struct lb_state *st)
{
	return &st->algo[P2C_CUM];
}

static inline uint32_t *p2c_idx(struct lb_state *st)
{
	return (uint32_t *)(void *)&st->algo[P2C_CUM + st->n];
}

/* One pass: the eligible endpoints in index order with their full weights summed up (a
 * ramping one's weight is not used from here: see lb_p2c_pick). */
static void lb_p2c_build(struct lb_state *st)
{
	uint64_t *cum = p2c_cum(st), total = 0, ramp_end = 0;
	uint32_t *idx = p2c_idx(st), k = 0;

	for (uint32_t i = 0; i < st->n; i++) {
		const struct lb_endpoint *e = &st->eps[i];

		if (!lb_eligible(e))
			continue;
		total += (uint64_t)e->weight << LB_WEIGHT_SHIFT;
		cum[k] = total;
		idx[k++] = i;
		if (st->slow_start_ms != 0 && e->since_ms != 0 &&
		    e->since_ms + st->slow_start_ms > ramp_end)
			ramp_end = e->since_ms + st->slow_start_ms;
	}
	st->algo[P2C_N_OK] = k;
	st->algo[P2C_TOTAL] = total;
	st->algo[P2C_RAMP_END] = ramp_end;
	st->algo[P2C_BUILT] = (uint64_t)st->gen + 1;
}

/* The first k in cum[0..n) with cum[k] > r (r below cum[n - 1]). */
static uint32_t lb_p2c_search(const uint64_t *cum, uint32_t n, uint64_t r)
{
	uint32_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cum[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static uint64_t lb_p2c_next(uint64_t *s)
{
	__uint128_t t;

	*s += 0xa0761d6478bd642full;
	t = (__uint128_t)*s * (*s ^ 0xe7037ed1a0b428dbull);
	return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

/* A uniform number in [0, bound) (Lemire's multiply-shift; the bias is below 2^-40 for the
 * bounds a service has). */
static uint64_t lb_p2c_below(uint64_t *s, uint64_t bound)
{
	return (uint64_t)(((__uint128_t)lb_p2c_next(s) * bound) >> 64);
}

/* Seeded from the state's address through splitmix64: every state of every worker and
 * service draws its own sequence, and nothing global is written. */
static void lb_p2c_init(struct lb_state *st)
{
	uint64_t z = (uint64_t)(uintptr_t)st + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	st->algo[P2C_RNG] = z ^ (z >> 31);
}

/* The eligible endpoint, other than skip, at which the running sum of effective weights
 * passes r. */
static int lb_p2c_at(const struct lb_state *st, uint64_t r, int skip)
{
	int last = -1;

	for (uint32_t i = 0; i < st->n; i++) {
		const struct lb_endpoint *e = &st->eps[i];
		uint64_t w;

		if ((int)i == skip || !lb_eligible(e))
			continue;
		w = lb_weight_eff(st, e);
		last = (int)i;
		if (r < w)
			return (int)i;
		r -= w;
	}
	return last;
}

/* Whether a beats b: fewer in flight, then a lower active / weight (so on equal counts the
 * heavier one; with nothing in flight neither, and the first draw keeps its place, which
 * leaves idle picks in proportion to the weights). */
static bool lb_p2c_better(const struct lb_state *st, const struct lb_endpoint *a,
			  const struct lb_endpoint *b)
{
	if (a->active != b->active)
		return a->active < b->active;
	return (uint64_t)a->active * lb_weight_eff(st, b) <
	       (uint64_t)b->active * lb_weight_eff(st, a);
}

/* The draws walking the endpoints, for while slow start ramps one. */
static int lb_p2c_pick_walk(struct lb_state *st)
{
	uint64_t total = 0;
	uint32_t n_ok = 0;
	int a, b;

	for (uint32_t i = 0; i < st->n; i++)
		if (lb_eligible(&st->eps[i])) {
			total += lb_weight_eff(st, &st->eps[i]);
			n_ok++;
		}
	if (n_ok == 0)
		return -1;
	a = lb_p2c_at(st, lb_p2c_below(&st->algo[P2C_RNG], total), -1);
	if (n_ok == 1)
		return a;
	b = lb_p2c_at(st, lb_p2c_below(&st->algo[P2C_RNG], total - lb_weight_eff(st, &st->eps[a])),
		      a);
	return lb_p2c_better(st, &st->eps[b], &st->eps[a]) ? b : a;
}

static int lb_p2c_pick(struct lb_state *st)
{
	const uint64_t *cum;
	uint64_t r, lo_a, w_a;
	uint32_t n_ok, ka, kb;
	int a, b;

	if (st->algo[P2C_BUILT] != (uint64_t)st->gen + 1)
		lb_p2c_build(st);
	n_ok = (uint32_t)st->algo[P2C_N_OK];
	if (n_ok == 0)
		return -1;
	if (st->algo[P2C_RAMP_END] != 0 && st->now_ms < st->algo[P2C_RAMP_END])
		return lb_p2c_pick_walk(st);
	cum = p2c_cum(st);
	ka = lb_p2c_search(cum, n_ok, lb_p2c_below(&st->algo[P2C_RNG], st->algo[P2C_TOTAL]));
	a = (int)p2c_idx(st)[ka];
	if (n_ok == 1)
		return a;
	/* the second among the others: a's stretch of the sum is cut out */
	lo_a = ka > 0 ? cum[ka - 1] : 0;
	w_a = cum[ka] - lo_a;
	r = lb_p2c_below(&st->algo[P2C_RNG], st->algo[P2C_TOTAL] - w_a);
	kb = lb_p2c_search(cum, n_ok, r >= lo_a ? r + w_a : r);
	b = (int)p2c_idx(st)[kb];
	return lb_p2c_better(st, &st->eps[b], &st->eps[a]) ? b : a;
}

const struct lb_ops lb_p2c_ops = {
	.name = "random_two",
	.words = lb_p2c_words,
	.init = lb_p2c_init,
	.pick = lb_p2c_pick,
	.pick_hash = NULL,
	.carry = NULL, /* a fresh seed is as good as the old sequence */
};
