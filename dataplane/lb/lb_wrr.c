/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: weighted_round_robin, nginx's smooth weighted round robin.
 *
 * Every pick adds each eligible endpoint's weight to its current value, takes the endpoint
 * with the largest current value (the first one on a tie) and subtracts the total weight from
 * it. Weights 5:1:1 give a a b a c a a: the heavy endpoint's picks are spread out, not
 * bunched, so a light backend is never left idle for a whole weight's worth of requests.
 */
#include "lb.h"

/* algo[i]: endpoint i's current value, as int64_t. */
static size_t lb_wrr_words(uint32_t n)
{
	return n;
}

static int lb_wrr_pick(struct lb_state *st)
{
	int64_t *cur = (int64_t *)(void *)st->algo;
	int64_t total = 0, w;
	int best = -1;
	uint32_t i;

	for (i = 0; i < st->n; i++) {
		const struct lb_endpoint *e = &st->eps[i];

		if (!lb_eligible(e)) {
			/* Out of the rotation: whatever it had banked is stale. Zero keeps the
			 * others' values summing to what they would without it, and lets it
			 * rejoin at an ordinary place when it comes back. */
			cur[i] = 0;
			continue;
		}
		/* slow start ramps the weight (lb_weight_eff); without it every weight is
		 * scaled alike, which leaves the sequence as it is */
		w = (int64_t)lb_weight_eff(st, e);
		cur[i] += w;
		total += w;
		if (best < 0 || cur[i] > cur[best])
			best = (int)i;
	}
	if (best >= 0)
		cur[best] -= total;
	return best;
}

/* Current values follow their endpoints; a new endpoint starts at 0, as if it had been out
 * of the rotation. */
static void lb_wrr_carry(struct lb_state *to, const struct lb_state *from, const int32_t *map)
{
	int64_t *cur = (int64_t *)(void *)to->algo;
	const int64_t *old = (const int64_t *)(const void *)from->algo;

	for (uint32_t i = 0; i < to->n; i++)
		cur[i] = map[i] >= 0 && (uint32_t)map[i] < from->n ? old[map[i]] : 0;
}

const struct lb_ops lb_wrr_ops = {
	.name = "weighted_round_robin",
	.words = lb_wrr_words,
	.init = NULL,
	.pick = lb_wrr_pick,
	.carry = lb_wrr_carry,
};
