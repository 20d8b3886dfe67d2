/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: round_robin. Each eligible endpoint in turn, weights ignored except that
 * weight 0 is never picked.
 */
#include "lb.h"

/* algo[0]: index the next scan starts at. */
static size_t lb_rr_words(uint32_t n)
{
	(void)n;
	return 1;
}

static int lb_rr_pick(struct lb_state *st)
{
	uint32_t start = (uint32_t)st->algo[0];
	uint32_t k, i;

	if (start >= st->n)
		start = 0;
	for (k = 0; k < st->n; k++) {
		i = start + k;
		if (i >= st->n)
			i -= st->n;
		if (lb_eligible(&st->eps[i])) {
			st->algo[0] = i + 1;
			return (int)i;
		}
	}
	return -1;
}

const struct lb_ops lb_rr_ops = {
	.name = "round_robin",
	.words = lb_rr_words,
	.init = NULL,
	.pick = lb_rr_pick,
	.carry = lb_carry_cursor,
};
