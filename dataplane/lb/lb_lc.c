/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: least_connections, weighted like HAProxy's leastconn.
 *
 * An endpoint's load is 0 when it has nothing in flight and (active + 1) / weight otherwise:
 * the load it would carry with this request, per unit of weight. So an idle endpoint always
 * wins, and under sustained load in-flight counts settle in proportion to the weights. Ties
 * are broken round robin (the scan starts after the last pick), so equal loads, e.g. a
 * sequence of short requests that each end before the next one starts, spread over all
 * endpoints instead of all landing on the first.
 */
#include "lb.h"

/* algo[0]: index the next scan starts at. */
static size_t lb_lc_words(uint32_t n)
{
	(void)n;
	return 1;
}

/* Whether a's load is strictly below b's. Cross-multiplied to stay in integers: (active + 1)
 * < 2^32 and weight < 2^32, so each product fits in 64 bits. */
static bool lb_lc_less(const struct lb_endpoint *a, const struct lb_endpoint *b)
{
	if (a->active == 0 || b->active == 0)
		return a->active == 0 && b->active != 0;
	return ((uint64_t)a->active + 1) * b->weight < ((uint64_t)b->active + 1) * a->weight;
}

static int lb_lc_pick(struct lb_state *st)
{
	uint32_t start = (uint32_t)st->algo[0];
	uint32_t k, i;
	int best = -1;

	if (start >= st->n)
		start = 0;
	for (k = 0; k < st->n; k++) {
		i = start + k;
		if (i >= st->n)
			i -= st->n;
		if (!lb_eligible(&st->eps[i]))
			continue;
		if (best < 0 || lb_lc_less(&st->eps[i], &st->eps[best]))
			best = (int)i;
	}
	if (best >= 0)
		st->algo[0] = (uint32_t)best + 1;
	return best;
}

const struct lb_ops lb_lc_ops = {
	.name = "least_connections",
	.words = lb_lc_words,
	.init = NULL,
	.pick = lb_lc_pick,
	.carry = lb_carry_cursor,
};
