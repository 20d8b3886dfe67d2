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
 * lines. A draw is one pass over the endpoints (as every other algorithm makes).
 */
#include <stdint.h>

#include "lb.h"

/* algo[0]: the wyrand state. */
static size_t lb_p2c_words(uint32_t n)
{
	(void)n;
	return 1;
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
	st->algo[0] = z ^ (z >> 31);
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

static int lb_p2c_pick(struct lb_state *st)
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
	a = lb_p2c_at(st, lb_p2c_below(&st->algo[0], total), -1);
	if (n_ok == 1)
		return a;
	b = lb_p2c_at(st, lb_p2c_below(&st->algo[0], total - lb_weight_eff(st, &st->eps[a])), a);
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
