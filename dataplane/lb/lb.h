/* SPDX-License-Identifier: BSD-3-Clause
 * sluice dataplane: load-balancing algorithms as small plug-ins (module lb_).
 *
 * A balancer picks one endpoint of a service for a new request and is told when that request
 * is over (release). Its state is per worker and per service, private to the worker, so no
 * pick ever takes a lock or touches another core's cache lines. Adding an algorithm means one
 * file with one struct lb_ops and one row in lb_algos[] (lb.c), never a branch elsewhere.
 */
#ifndef SLUICE_LB_H
#define SLUICE_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LB_MAX_ENDPOINTS 1024

/* What a balancer may know of an endpoint when it picks. The owner of the state (the worker)
 * may change weight and usable between picks, then calls lb_touch; the next pick honours
 * them. */
struct lb_endpoint {
	uint32_t weight; /* 0: never picked */
	uint32_t active; /* requests in flight from this worker (maintained by lb_pick/release) */
	bool usable;	 /* false: in maintenance, drained or down */
	/* When it last became eligible, on the clock of lb_state.now_ms (control sets it, see
	 * dp_ep_state.since_ms); 0: eligible since start, never ramped by slow start. */
	uint64_t since_ms;
};

/* Per worker, per service state: common part, then the algorithm's own words. */
struct lb_state {
	const struct lb_ops *ops;
	uint32_t n;		 /* endpoints */
	struct lb_endpoint *eps; /* n entries, owned by the state (same allocation) */
	/* services.X.slow_start_ms (0: off), set by whoever creates the state. With it on, the
	 * owner stores the time in now_ms before a pick (lb_weight_eff reads it). */
	uint32_t slow_start_ms;
	uint64_t now_ms;
	/* The owner moves it (lb_touch) after changing any endpoint's weight, usable or
	 * since_ms: algorithms that keep what they derive from them (random_two's cumulative
	 * weights) rebuild it on their next pick. active needs no touch. */
	uint32_t gen;
	/* Read-only data control built for the algorithm and shares between every worker's
	 * state of the service (maglev: its struct lb_maglev table); NULL: none. Not owned. */
	const void *shared;
	uint64_t algo[]; /* ops->words(n) words for the algorithm, zeroed, then init */
};

struct lb_ops {
	const char *name;		   /* the value of services.X.balance */
	size_t (*words)(uint32_t n);	   /* uint64_t words of algorithm state for n endpoints */
	void (*init)(struct lb_state *st); /* NULL: zeroed words are the initial state */
	/* Index of an endpoint that is usable with weight > 0 for a new request, or -1 when
	 * there is none. Must not touch eps[].active: the lb_pick wrapper counts it. */
	int (*pick)(struct lb_state *st);
	/* The same for a request whose key (client address, header, cookie) hashes to h, for
	 * algorithms that map keys to endpoints; NULL: pick, the key ignored. */
	int (*pick_hash)(struct lb_state *st, uint64_t h);
	/* Take over what from learnt, for a new endpoint set: map[i] is the index in from of
	 * to's endpoint i, or -1 for an endpoint from did not have. NULL: start afresh. */
	void (*carry)(struct lb_state *to, const struct lb_state *from, const int32_t *map);
};

/* The owner changed weights, usable flags or since_ms of st's endpoints. Worker (the
 * owner). */
static inline void lb_touch(struct lb_state *st)
{
	st->gen++;
}

/* Whether a pick may return this endpoint. */
static inline bool lb_eligible(const struct lb_endpoint *e)
{
	return e->usable && e->weight > 0;
}

/* Effective weights are in 1/LB_WEIGHT_ONE units, so slow start can ramp even a weight of 1. */
#define LB_WEIGHT_SHIFT 10
#define LB_WEIGHT_ONE (1u << LB_WEIGHT_SHIFT)
/* Slow start begins at this fraction of the weight (1/20th), never at zero. */
#define LB_SLOW_START_DIV 20

/* e's weight for this pick, in 1/LB_WEIGHT_ONE units: the full weight, except during the
 * slow_start_ms after e became eligible (since_ms), when it grows linearly from 1/20th of it
 * to all of it. Weight-proportional algorithms (weighted_round_robin, random_two) use it;
 * what only compares or ignores weights does not need it. */
static inline uint64_t lb_weight_eff(const struct lb_state *st, const struct lb_endpoint *e)
{
	uint64_t full = (uint64_t)e->weight << LB_WEIGHT_SHIFT;
	uint64_t age, w;

	if (st->slow_start_ms == 0 || e->since_ms == 0)
		return full;
	age = st->now_ms > e->since_ms ? st->now_ms - e->since_ms : 0;
	if (age >= st->slow_start_ms)
		return full;
	w = full * age / st->slow_start_ms;
	if (w < full / LB_SLOW_START_DIV)
		w = full / LB_SLOW_START_DIV;
	return w > 0 || full == 0 ? w : 1;
}

/* The algorithm called name (enum dp_balance order: round_robin, weighted_round_robin,
 * least_connections, random_two, maglev); NULL when unknown or not built. Any thread. */
const struct lb_ops *lb_find(const char *name);
const struct lb_ops *lb_by_balance(uint32_t balance);

/* Create the state for n endpoints (0..LB_MAX_ENDPOINTS) with the given weights (NULL: all 1),
 * all usable, none active. malloc'ed: call before the worker starts or from control. NULL
 * with errno set (EINVAL, ENOMEM) on error. */
struct lb_state *lb_create(const struct lb_ops *ops, uint32_t n, const uint32_t *weights);
void lb_destroy(struct lb_state *st);

/* Carry state over to to, the same service's balancer for a changed endpoint set (reload, add
 * or del server, a weight change): in-flight counts of endpoints present in both follow them
 * (map[i]: index in from of to's endpoint i, -1 when new), and so does the algorithm's own
 * state when both use the same algorithm. to's weights and usable flags are left alone.
 * Worker (the owner of both). */
void lb_carry(struct lb_state *to, const struct lb_state *from, const int32_t *map);

/* A carry op for algorithms whose state word 0 is 1 + the index of the endpoint last picked
 * (0: none): the next scan starts after that endpoint wherever it went, at 0 when it is
 * gone. */
void lb_carry_cursor(struct lb_state *to, const struct lb_state *from, const int32_t *map);

/* Pick an endpoint and count a request in flight on it; -1 when none is usable. Worker. */
int lb_pick(struct lb_state *st);

/* Count a request in flight on endpoint i, chosen by the caller instead of lb_pick (a retry
 * that skips endpoints already tried). Worker. */
void lb_take(struct lb_state *st, int i);

/* lb_pick for a request whose key hashes to h (lb_hash64): the algorithm's pick_hash, or
 * pick when it has none. Worker. */
int lb_pick_hash(struct lb_state *st, uint64_t h);

/* A 64-bit hash of len bytes with a fixed seed: the same on every machine and run (keys and
 * endpoint names in Maglev must map alike on two appliances). Any thread. */
uint64_t lb_hash64(const void *p, size_t len, uint64_t seed);

/* ---- Maglev (lb_maglev.c) ---- */

#define LB_MAGLEV_SIZE 65537 /* table entries: prime, about 64 per endpoint at the most */
#define LB_MAGLEV_NONE 0xffff

/* A Maglev lookup table: entry[h % size] is the endpoint index for key hash h. Built by
 * control, read-only afterwards, shared by every worker's state through lb_state.shared. */
struct lb_maglev {
	uint32_t size;	  /* prime, > the endpoints in it */
	uint32_t n_in;	  /* endpoints with entries (0: every entry is LB_MAGLEV_NONE) */
	uint64_t sig;	  /* the caller's summary of what it was built from */
	uint16_t entry[]; /* endpoint index, or LB_MAGLEV_NONE */
};

/* Build the table for n endpoints (n <= LB_MAX_ENDPOINTS) named names[i] with weights[i]; a
 * weight of 0 leaves the endpoint out (control passes 0 for every endpoint not eligible).
 * size must be a prime above n (0: LB_MAGLEV_SIZE). The order of the endpoints does not
 * matter: the same names and weights in any order give the same name in every entry.
 * malloc'ed (free with free()); NULL with errno set (EINVAL, ENOMEM). Control only. */
struct lb_maglev *lb_maglev_build(uint32_t n, const char *const *names, const uint32_t *weights,
				  uint32_t size);

/* The request picked on endpoint i is over (i < 0 or out of range is ignored, so a failed
 * pick's -1 may be passed back). Worker. */
void lb_release(struct lb_state *st, int i);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_LB_H */
