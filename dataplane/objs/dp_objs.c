/* SPDX-License-Identifier: BSD-3-Clause
 * Stable identities: listener, service and endpoint objects that outlive snapshots.
 *
 * Control finds or creates them by name when it builds a snapshot (dp_snapshot.c) and frees
 * them here once they are out of the published snapshot and no worker references them: an
 * endpoint while an upstream connection of any worker points at it (pw[w].conns), a listener
 * while any worker has a session on it (pw[w].conns), a service while one of its endpoint
 * objects is alive. Workers stop creating references to an object when they apply a snapshot
 * without it, so once control has waited for that (dp_wait_quiescent after publishing), a
 * zero count stays zero; one more grace period covers a worker still finishing the iteration
 * in which it let go.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dp_objs.h"
#include "dp_worker.h"

/* A zeroed object of head bytes plus n per-worker slots of slot bytes, cache-line aligned,
 * with a copy of name in its char * at name_off. NULL when out of memory. */
static void *obj_new(size_t head, size_t slot, unsigned int n, const char *name, size_t name_off)
{
	size_t size = head + slot * n;
	char *copy = strdup(name);
	void *p = NULL;

	if (copy == NULL || posix_memalign(&p, RTE_CACHE_LINE_SIZE, size) != 0) {
		free(copy);
		return NULL;
	}
	memset(p, 0, size);
	*(char **)((char *)p + name_off) = copy;
	return p;
}

#define OBJ_NEW(dp, type, nm)                                                           \
	((struct type *)obj_new(sizeof(struct type), sizeof(((struct type *)0)->pw[0]), \
				(dp)->n_workers, (nm), offsetof(struct type, name)))

struct dp_listener *dp_listener_get(struct dp *dp, const char *name)
{
	struct dp_listener *l;

	for (l = dp->objs.lsts; l != NULL; l = l->next)
		if (strcmp(l->name, name) == 0)
			return l;
	l = OBJ_NEW(dp, dp_listener, name);
	if (l == NULL)
		return NULL;
	for (unsigned int w = 0; w < dp->n_workers; w++)
		l->pw[w].w = dp->workers[w];
	l->next = dp->objs.lsts;
	dp->objs.lsts = l;
	return l;
}

struct dp_service *dp_service_get(struct dp *dp, const char *name)
{
	struct dp_service *s;

	for (s = dp->objs.svcs; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	s = OBJ_NEW(dp, dp_service, name);
	if (s == NULL)
		return NULL;
	s->next = dp->objs.svcs;
	dp->objs.svcs = s;
	return s;
}

/* An endpoint is the same one while its service, name and address stay: a name that moves to
 * another address is a new endpoint (its connections to the old address must not be
 * reused). */
struct dp_endpoint *dp_endpoint_get(struct dp *dp, struct dp_service *svc, const char *name,
				    uint32_t addr, uint32_t port)
{
	struct dp_endpoint *e;

	for (e = dp->objs.eps; e != NULL; e = e->next)
		if (e->svc == svc && e->addr == addr && e->port == port &&
		    strcmp(e->name, name) == 0)
			return e;
	e = OBJ_NEW(dp, dp_endpoint, name);
	if (e == NULL)
		return NULL;
	e->svc = svc;
	e->addr = addr;
	e->port = port;
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		e->pw[w].idle_head = UINT32_MAX;
		e->pw[w].lb_idx = -1;
	}
	svc->n_eps++;
	e->next = dp->objs.eps;
	dp->objs.eps = e;
	return e;
}

static uint32_t ld32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

uint64_t dp_ep_sum(const struct dp *dp, const struct dp_endpoint *ep, unsigned int i)
{
	uint64_t sum = 0;

	for (unsigned int w = 0; w < dp->n_workers; w++)
		sum += __atomic_load_n(&ep->pw[w].cnt[i], __ATOMIC_RELAXED);
	return sum;
}

uint64_t dp_svc_sum(const struct dp *dp, const struct dp_service *svc, unsigned int i)
{
	uint64_t sum = 0;

	for (unsigned int w = 0; w < dp->n_workers; w++)
		sum += __atomic_load_n(&svc->pw[w].cnt[i], __ATOMIC_RELAXED);
	return sum;
}

uint64_t dp_lst_sum(const struct dp *dp, const struct dp_listener *l, unsigned int i)
{
	uint64_t sum = 0;

	for (unsigned int w = 0; w < dp->n_workers; w++)
		sum += __atomic_load_n(&l->pw[w].cnt[i], __ATOMIC_RELAXED);
	return sum;
}

uint32_t dp_ep_active(const struct dp *dp, const struct dp_endpoint *ep)
{
	uint32_t n = 0;

	for (unsigned int w = 0; w < dp->n_workers; w++)
		n += ld32(&ep->pw[w].active);
	return n;
}

uint32_t dp_lst_conns(const struct dp *dp, const struct dp_listener *l)
{
	uint32_t n = 0;

	for (unsigned int w = 0; w < dp->n_workers; w++)
		n += ld32(&l->pw[w].conns);
	return n;
}

static uint32_t ep_conns(const struct dp *dp, const struct dp_endpoint *ep)
{
	uint32_t n = 0;

	for (unsigned int w = 0; w < dp->n_workers; w++)
		n += ld32(&ep->pw[w].conns);
	return n;
}

static void mark(struct dp *dp)
{
	const struct dp_snapshot *s = dp->snapshot;

	for (struct dp_listener *l = dp->objs.lsts; l != NULL; l = l->next)
		l->mark = false;
	for (struct dp_service *v = dp->objs.svcs; v != NULL; v = v->next)
		v->mark = false;
	for (struct dp_endpoint *e = dp->objs.eps; e != NULL; e = e->next)
		e->mark = false;
	for (uint32_t i = 0; s != NULL && i < s->n_lsts; i++)
		s->lsts[i]->mark = true;
	for (uint32_t v = 0; s != NULL && v < s->n_svcs; v++) {
		s->svcs[v].obj->mark = true;
		for (uint32_t e = 0; e < s->svcs[v].n_eps; e++)
			s->svcs[v].eps[e].obj->mark = true;
	}
}

/* Requests that wait for a circuit_breaker slot (or hold one) point at their service
 * without any upstream connection keeping an endpoint, hence the service, alive. */
static bool svc_busy(const struct dp_service *v)
{
	return __atomic_load_n(&v->sh.pending, __ATOMIC_ACQUIRE) != 0 ||
	       __atomic_load_n(&v->sh.inflight, __ATOMIC_ACQUIRE) != 0;
}

unsigned int dp_objs_gc(struct dp *dp)
{
	unsigned int waiting = 0, n_free = 0;
	struct dp_endpoint **pe;
	struct dp_listener **pl;
	struct dp_service **ps;

	mark(dp);
	/* first pass: which unmarked objects are free of references (they stay so) */
	for (struct dp_endpoint *e = dp->objs.eps; e != NULL; e = e->next)
		if (!e->mark) {
			if (ep_conns(dp, e) == 0)
				n_free++;
			else
				waiting++;
		}
	for (struct dp_listener *l = dp->objs.lsts; l != NULL; l = l->next)
		if (!l->mark) {
			if (dp_lst_conns(dp, l) == 0)
				n_free++;
			else
				waiting++;
		}
	for (struct dp_service *v = dp->objs.svcs; v != NULL; v = v->next)
		if (!v->mark && v->n_eps == 0) {
			if (svc_busy(v))
				waiting++;
			else
				n_free++;
		}
	if (n_free == 0)
		return waiting;
	dp_wait_quiescent(dp);
	for (pe = &dp->objs.eps; *pe != NULL;) {
		struct dp_endpoint *e = *pe;

		if (e->mark || ep_conns(dp, e) != 0) {
			pe = &e->next;
			continue;
		}
		*pe = e->next;
		e->svc->n_eps--;
		free(e->name);
		free(e);
	}
	for (pl = &dp->objs.lsts; *pl != NULL;) {
		struct dp_listener *l = *pl;

		if (l->mark || dp_lst_conns(dp, l) != 0) {
			pl = &l->next;
			continue;
		}
		*pl = l->next;
		free(l->name);
		free(l);
	}
	for (ps = &dp->objs.svcs; *ps != NULL;) {
		struct dp_service *v = *ps;

		if (v->mark || v->n_eps != 0 || svc_busy(v)) {
			ps = &v->next;
			continue;
		}
		*ps = v->next;
		free(v->name);
		free(v);
	}
	return waiting;
}

void dp_objs_free(struct dp *dp)
{
	while (dp->objs.eps != NULL) {
		struct dp_endpoint *e = dp->objs.eps;

		dp->objs.eps = e->next;
		free(e->name);
		free(e);
	}
	while (dp->objs.lsts != NULL) {
		struct dp_listener *l = dp->objs.lsts;

		dp->objs.lsts = l->next;
		free(l->name);
		free(l);
	}
	while (dp->objs.svcs != NULL) {
		struct dp_service *v = dp->objs.svcs;

		dp->objs.svcs = v->next;
		free(v->name);
		free(v);
	}
}
