/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: maglev, consistent hashing after Eisenbud et al., "Maglev: A Fast and
 * Reliable Software Network Load Balancer" (NSDI 2016), section 3.4.
 *
 * Control builds one lookup table per service and snapshot from the endpoints eligible in it
 * (lb_maglev_build, called by dp_snapshot_seal); workers only read entry[h % size] for the
 * hash h of a request's key. Each endpoint has a permutation of the table's slots, offset +
 * j * skip (mod size), offset and skip from two hashes of its NAME with fixed seeds, and the
 * endpoints take turns claiming their next free preferred slot until the table is full. The
 * size is prime so that every skip visits every slot.
 *
 * Weights: Envoy's weighted variant of the fill. In round r an endpoint of weight w takes a
 * turn when r * w >= its turns so far * max_weight, so it claims slots in proportion to w
 * (an endpoint with the largest weight takes a turn in every round, one with half of it in
 * every other round). With equal weights this is the paper's algorithm exactly.
 *
 * Independence from configuration order: the endpoints take their turns in the order of
 * their names (strcmp), not in the order the file lists them, so the same names and weights
 * in any order build the same table, on any appliance.
 *
 * When the entry's endpoint is not usable on this worker at that moment (the worker learnt
 * of a change the table does not reflect yet), the pick walks on to the next entries (at
 * most LB_MAGLEV_PROBES), which hold other endpoints in proportion to their share, so those
 * keys spread instead of piling onto one neighbour; past that, or when the service has no
 * table, it takes the first eligible endpoint from h % n on.
 *
 * Slow start does not apply: a key's endpoint must not depend on the time of the pick, and
 * the table changes only when a snapshot is built (docs/configuration.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

#define LB_MAGLEV_SEED_OFFSET 0x6d61676c65762d6full /* "maglev-o" */
#define LB_MAGLEV_SEED_SKIP 0x6d61676c65762d73ull   /* "maglev-s" */
#define LB_MAGLEV_PROBES 8

/* algo[0]: a counter, hashed for a pick without a key (lb_pick) so those spread too. */
static size_t lb_maglev_words(uint32_t n)
{
	(void)n;
	return 1;
}

/* The first eligible endpoint from h % n on; -1 when none. */
static int lb_maglev_scan(const struct lb_state *st, uint64_t h)
{
	uint32_t start, i;

	if (st->n == 0)
		return -1;
	start = (uint32_t)(h % st->n);
	for (uint32_t k = 0; k < st->n; k++) {
		i = start + k;
		if (i >= st->n)
			i -= st->n;
		if (lb_eligible(&st->eps[i]))
			return (int)i;
	}
	return -1;
}

static int lb_maglev_pick_hash(struct lb_state *st, uint64_t h)
{
	const struct lb_maglev *t = st->shared;
	uint32_t slot, e;

	if (t != NULL && t->n_in > 0) {
		slot = (uint32_t)(h % t->size);
		for (uint32_t k = 0; k < LB_MAGLEV_PROBES; k++) {
			e = t->entry[slot];
			if (e < st->n && lb_eligible(&st->eps[e]))
				return (int)e;
			if (++slot == t->size)
				slot = 0;
		}
	}
	return lb_maglev_scan(st, h);
}

static int lb_maglev_pick(struct lb_state *st)
{
	uint64_t c = ++st->algo[0];

	return lb_maglev_pick_hash(st, lb_hash64(&c, sizeof(c), 0));
}

/* Build scratch: one per endpoint in the table. */
struct mg_ent {
	const char *name;
	uint16_t idx;	 /* the endpoint's index in the caller's arrays */
	uint32_t weight; /* > 0 */
	uint32_t next;	 /* its next preferred slot */
	uint32_t skip;
	uint64_t target; /* turns taken so far * max weight */
};

static int mg_by_name(const void *a, const void *b)
{
	const struct mg_ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool mg_prime(uint32_t m)
{
	if (m < 2)
		return false;
	for (uint32_t d = 2; (uint64_t)d * d <= m; d++)
		if (m % d == 0)
			return false;
	return true;
}

struct lb_maglev *lb_maglev_build(uint32_t n, const char *const *names, const uint32_t *weights,
				  uint32_t size)
{
	struct lb_maglev *t;
	struct mg_ent *ents;
	uint32_t n_in = 0, maxw = 0, filled = 0;

	if (size == 0)
		size = LB_MAGLEV_SIZE;
	if (n > LB_MAX_ENDPOINTS || (n > 0 && (names == NULL || weights == NULL)) ||
	    !mg_prime(size) || size <= n) {
		errno = EINVAL;
		return NULL;
	}
	t = malloc(sizeof(*t) + (size_t)size * sizeof(t->entry[0]));
	ents = calloc(n + 1, sizeof(*ents));
	if (t == NULL || ents == NULL) {
		free(t);
		free(ents);
		errno = ENOMEM;
		return NULL;
	}
	t->size = size;
	t->sig = 0;
	memset(t->entry, 0xff, (size_t)size * sizeof(t->entry[0])); /* LB_MAGLEV_NONE */
	for (uint32_t i = 0; i < n; i++) {
		struct mg_ent *m = &ents[n_in];
		size_t len;

		if (weights[i] == 0)
			continue;
		m->name = names[i] != NULL ? names[i] : "";
		len = strlen(m->name);
		m->idx = (uint16_t)i;
		m->weight = weights[i];
		m->next = (uint32_t)(lb_hash64(m->name, len, LB_MAGLEV_SEED_OFFSET) % size);
		m->skip = (uint32_t)(lb_hash64(m->name, len, LB_MAGLEV_SEED_SKIP) % (size - 1)) + 1;
		if (m->weight > maxw)
			maxw = m->weight;
		n_in++;
	}
	t->n_in = n_in;
	qsort(ents, n_in, sizeof(*ents), mg_by_name);
	for (uint64_t round = 1; n_in > 0 && filled < size; round++) {
		for (uint32_t k = 0; k < n_in && filled < size; k++) {
			struct mg_ent *m = &ents[k];
			uint32_t c;

			if (round * m->weight < m->target)
				continue;
			m->target += maxw;
			/* Its permutation visits every slot (size is prime): a free one comes. */
			do {
				c = m->next;
				m->next += m->skip;
				if (m->next >= size)
					m->next -= size;
			} while (t->entry[c] != LB_MAGLEV_NONE);
			t->entry[c] = m->idx;
			filled++;
		}
	}
	free(ents);
	return t;
}

const struct lb_ops lb_maglev_ops = {
	.name = "maglev",
	.words = lb_maglev_words,
	.init = NULL,
	.pick = lb_maglev_pick,
	.pick_hash = lb_maglev_pick_hash,
	.carry = NULL,
};
