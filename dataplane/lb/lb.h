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
 * may change weight and usable between picks; the next pick honours them. */
struct lb_endpoint {
	uint32_t weight; /* 0: never picked */
	uint32_t active; /* requests in flight from this worker (maintained by lb_pick/release) */
	bool usable;	 /* false: in maintenance, drained or down */
};

/* Per worker, per service state: common part, then the algorithm's own words. */
struct lb_state {
	const struct lb_ops *ops;
	uint32_t n;		 /* endpoints */
	struct lb_endpoint *eps; /* n entries, owned by the state (same allocation) */
	uint64_t algo[];	 /* ops->words(n) words for the algorithm, zeroed, then init */
};

struct lb_ops {
	const char *name;		   /* the value of services.X.balance */
	size_t (*words)(uint32_t n);	   /* uint64_t words of algorithm state for n endpoints */
	void (*init)(struct lb_state *st); /* NULL: zeroed words are the initial state */
	/* Index of an endpoint that is usable with weight > 0 for a new request, or -1 when
	 * there is none. Must not touch eps[].active: the lb_pick wrapper counts it. */
	int (*pick)(struct lb_state *st);
	/* Take over what from learnt, for a new endpoint set: map[i] is the index in from of
	 * to's endpoint i, or -1 for an endpoint from did not have. NULL: start afresh. */
	void (*carry)(struct lb_state *to, const struct lb_state *from, const int32_t *map);
};

/* Whether a pick may return this endpoint. */
static inline bool lb_eligible(const struct lb_endpoint *e)
{
	return e->usable && e->weight > 0;
}

/* The algorithm called name (enum dp_balance order: round_robin, weighted_round_robin,
 * least_connections); NULL when unknown or not built. Any thread. */
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

/* The request picked on endpoint i is over (i < 0 or out of range is ignored, so a failed
 * pick's -1 may be passed back). Worker. */
void lb_release(struct lb_state *st, int i);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_LB_H */
