/* SPDX-License-Identifier: BSD-3-Clause
 * Live endpoint changes, HAProxy's Runtime API: set server SERVICE/ENDPOINT weight N,
 * set server SERVICE/ENDPOINT state ready|drain|maint, enable server, disable server,
 * add server SERVICE/NAME ADDRESS:PORT [weight N], del server SERVICE/NAME.
 *
 * Each change builds a new snapshot (ctl_reload.c): set/enable/disable share the running
 * configuration and change one endpoint's state; add and del publish a copy of the
 * configuration with the endpoint added or removed, so "show config" shows it. Endpoints are
 * stable objects: their counters and in-flight counts survive every change. Workers apply
 * the new snapshot at the top of their next loop (px_apply): requests in flight finish on
 * the endpoint they chose. A reload starts again from the file.
 * Control only.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "hc_ctl.h"

static const char *const admin_names[] = { "ready", "drain", "maint" };

/* "SERVICE/ENDPOINT" -> indices in the running snapshot; -1 with the answer written when
 * unknown. *ep is set to -1 (no error) when the service exists and want_missing is true. */
static int find_server(const struct dp_snapshot *snap, const char *arg, uint32_t *svc, int32_t *ep,
		       bool want_missing, struct ctl_buf *out)
{
	const char *slash = strchr(arg, '/');
	const struct dp_conf *conf = snap->conf;
	size_t sl;

	if (slash == NULL) {
		ctl_printf(out, "error: expected SERVICE/ENDPOINT, got '%s'\n", arg);
		return -1;
	}
	sl = (size_t)(slash - arg);
	for (uint32_t v = 0; v < conf->n_services; v++) {
		const struct dp_service_conf *sc = &conf->services[v];

		if (strlen(sc->name) != sl || strncmp(sc->name, arg, sl) != 0)
			continue;
		*svc = v;
		for (uint32_t e = 0; e < sc->n_endpoints; e++) {
			if (strcmp(sc->endpoints[e].name, slash + 1) == 0) {
				*ep = (int32_t)e;
				return 0;
			}
		}
		*ep = -1;
		if (want_missing)
			return 0;
		ctl_printf(out, "error: service '%s' has no endpoint '%s'\n", sc->name, slash + 1);
		return -1;
	}
	ctl_printf(out, "error: no service '%.*s'\n", (int)sl, arg);
	return -1;
}

/* Publish a copy of the running snapshot with endpoint (svc, ep) set to weight/admin
 * (negative: unchanged). */
static int publish(struct ctl_env *env, uint32_t svc, uint32_t ep, int64_t weight, int admin,
		   struct ctl_buf *out)
{
	struct dp_snapshot *next = ctl_snapshot_build(env, env->dp->snapshot->conf, true);
	struct dp_ep_state *st;

	if (next == NULL) {
		ctl_printf(out, "error: out of memory\n");
		return -1;
	}
	st = (struct dp_ep_state *)dp_snapshot_ep(next, svc, ep);
	if (weight >= 0)
		st->weight = (uint32_t)weight;
	if (admin >= 0)
		st->admin = (uint32_t)admin;
	st->changed = (uint64_t)time(NULL);
	ctl_snapshot_publish(env, next); /* the configuration is shared: not freed */
	return 0;
}

static bool running(struct ctl_env *env, struct ctl_buf *out)
{
	if (env->dp == NULL || env->dp->snapshot == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return false;
	}
	return true;
}

static int server_args(struct ctl_env *env, int argc, char **argv, uint32_t *svc, uint32_t *ep,
		       struct ctl_buf *out)
{
	int32_t e;

	if (!running(env, out))
		return -1;
	if (argc < 3) {
		ctl_printf(out, "error: missing SERVICE/ENDPOINT\n");
		return -1;
	}
	if (find_server(env->dp->snapshot, argv[2], svc, &e, false, out) != 0)
		return -1;
	*ep = (uint32_t)e;
	return 0;
}

/* A weight as HAProxy's "set server ... weight" takes it here: digits only (no sign, no
 * percentage), 0 to 256. -1 with the answer written otherwise. */
static long parse_weight(const char *s, struct ctl_buf *out)
{
	char *end;
	long w;

	if (!isdigit((unsigned char)s[0]))
		goto bad;
	w = strtol(s, &end, 10);
	if (*end != '\0' || w < 0 || w > 256)
		goto bad;
	return w;
bad:
	ctl_printf(out, "error: weight: expected an integer from 0 to 256, got '%s'\n", s);
	return -1;
}

/* set server S/E health up|stopping|down: the engine's state, then a new snapshot. As in
 * HAProxy it works with or without checks; with checks, the next check moves it again. */
static int set_health(struct ctl_env *env, uint32_t svc, uint32_t ep, const char *word,
		      struct ctl_buf *out)
{
	const struct dp_ep_state *st = dp_snapshot_ep(env->dp->snapshot, svc, ep);
	struct hc_ep *r = hc_find(env->hc, st->obj);
	struct hc_clock clk;

	if (r == NULL) {
		ctl_printf(out, "error: health engine not running\n");
		return -1;
	}
	hc_clock_now(env->dp, &clk);
	if (hc_set_health(env->hc, env->dp, r, word, clk.mono_ms, clk.wall_ms) != 0) {
		ctl_printf(out, "error: health: expected up, stopping or down, got '%s'\n", word);
		return -1;
	}
	return env->hc->dirty ? publish(env, svc, ep, -1, -1, out) : 0;
}

int ctl_cmd_set_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	uint32_t svc, ep;

	if (server_args(env, argc, argv, &svc, &ep, out) != 0)
		return -1;
	if (argc == 5 && strcmp(argv[3], "weight") == 0) {
		long w = parse_weight(argv[4], out);

		return w < 0 ? -1 : publish(env, svc, ep, w, -1, out);
	}
	if (argc == 5 && strcmp(argv[3], "state") == 0) {
		for (int a = 0; a < 3; a++)
			if (strcmp(argv[4], admin_names[a]) == 0)
				return publish(env, svc, ep, -1, a, out);
		ctl_printf(out, "error: state: expected ready, drain or maint, got '%s'\n",
			   argv[4]);
		return -1;
	}
	if (argc == 5 && strcmp(argv[3], "health") == 0)
		return set_health(env, svc, ep, argv[4], out);
	ctl_printf(out, "error: usage: set server SERVICE/ENDPOINT weight N | state "
			"ready|drain|maint | health up|stopping|down\n");
	return -1;
}

static int enable_disable(struct ctl_env *env, int argc, char **argv, int admin,
			  struct ctl_buf *out)
{
	uint32_t svc, ep;

	if (argc > 3) {
		ctl_printf(out, "error: usage: %s server SERVICE/ENDPOINT\n", argv[0]);
		return -1;
	}
	if (server_args(env, argc, argv, &svc, &ep, out) != 0)
		return -1;
	return publish(env, svc, ep, -1, admin, out);
}

int ctl_cmd_enable_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	return enable_disable(env, argc, argv, DP_EP_READY, out);
}

int ctl_cmd_disable_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	return enable_disable(env, argc, argv, DP_EP_MAINT, out);
}

static bool valid_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("._:-", *s) == NULL)
			return false;
	return true;
}

/* "A.B.C.D:PORT" -> network-order address and host-order port; -1 when malformed. */
static int parse_addrport(const char *s, uint32_t *addr, uint32_t *port)
{
	const char *colon = strrchr(s, ':');
	char ip[INET_ADDRSTRLEN];
	struct in_addr a;
	char *end;
	long p;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(ip) || !isdigit((unsigned char)colon[1]))
		return -1;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
		return -1;
	*addr = a.s_addr;
	*port = (uint32_t)p;
	return 0;
}

int ctl_cmd_add_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	struct dp_endpoint_conf *eps, *ec;
	struct dp_service_conf *sc;
	struct dp_snapshot *next;
	struct dp_conf *conf;
	uint32_t svc, addr, port;
	long weight = 1;
	int32_t ep;

	if (argc != 4 && !(argc == 6 && strcmp(argv[4], "weight") == 0)) {
		ctl_printf(out, "error: usage: add server SERVICE/NAME ADDRESS:PORT [weight N]\n");
		return -1;
	}
	if (!running(env, out) ||
	    find_server(env->dp->snapshot, argv[2], &svc, &ep, true, out) != 0)
		return -1;
	if (ep >= 0) {
		/* HAProxy: "Already exists a server with the same name in backend." */
		ctl_printf(out, "error: Already exists a server with the same name in backend.\n");
		return -1;
	}
	if (!valid_name(strchr(argv[2], '/') + 1)) {
		ctl_printf(out, "error: invalid server name '%s': use only A-Z a-z 0-9 . _ : -\n",
			   strchr(argv[2], '/') + 1);
		return -1;
	}
	if (parse_addrport(argv[3], &addr, &port) != 0) {
		ctl_printf(out, "error: expected ADDRESS:PORT (IPv4), got '%s'\n", argv[3]);
		return -1;
	}
	if (argc == 6 && (weight = parse_weight(argv[5], out)) < 0)
		return -1;
	if (env->dp->snapshot->conf->services[svc].n_endpoints >= LB_MAX_ENDPOINTS) {
		ctl_printf(out, "error: service already has %u endpoints\n", LB_MAX_ENDPOINTS);
		return -1;
	}
	conf = cfg_dup(env->dp->snapshot->conf);
	if (conf == NULL)
		goto nomem;
	sc = &conf->services[svc];
	eps = realloc(sc->endpoints, (sc->n_endpoints + 1) * sizeof(*eps));
	if (eps == NULL)
		goto nomem_conf;
	sc->endpoints = eps;
	ec = &eps[sc->n_endpoints];
	memset(ec, 0, sizeof(*ec));
	ec->name = strdup(strchr(argv[2], '/') + 1);
	if (ec->name == NULL)
		goto nomem_conf;
	ec->addr = addr;
	ec->port = port;
	ec->weight = (uint32_t)weight;
	sc->n_endpoints++;
	next = ctl_snapshot_build(env, conf, true);
	if (next == NULL)
		goto nomem_conf;
	/* HAProxy 2.6: a dynamic server starts in maintenance */
	next->svcs[svc].eps[sc->n_endpoints - 1].admin = DP_EP_MAINT;
	ctl_snapshot_publish(env, next);
	ctl_printf(out, "New server registered.\n");
	return 0;
nomem_conf:
	cfg_free(conf);
nomem:
	ctl_printf(out, "error: out of memory\n");
	return -1;
}

int ctl_cmd_del_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	const struct dp_ep_state *st;
	struct dp_service_conf *sc;
	struct dp_snapshot *next;
	struct dp_conf *conf;
	uint32_t svc, ep;

	if (argc != 3) {
		ctl_printf(out, "error: usage: del server SERVICE/NAME\n");
		return -1;
	}
	if (server_args(env, argc, argv, &svc, &ep, out) != 0)
		return -1;
	st = dp_snapshot_ep(env->dp->snapshot, svc, ep);
	if (st->admin != DP_EP_MAINT) {
		ctl_printf(out, "error: Only servers in maintenance mode can be deleted.\n");
		return -1;
	}
	if (dp_ep_active(env->dp, st->obj) != 0) {
		ctl_printf(out, "error: Server still has connections attached to it, cannot "
				"remove it.\n");
		return -1;
	}
	conf = cfg_dup(env->dp->snapshot->conf);
	if (conf == NULL)
		goto nomem;
	sc = &conf->services[svc];
	free(sc->endpoints[ep].name);
	memmove(&sc->endpoints[ep], &sc->endpoints[ep + 1],
		(sc->n_endpoints - ep - 1) * sizeof(sc->endpoints[0]));
	sc->n_endpoints--;
	next = ctl_snapshot_build(env, conf, true);
	if (next == NULL) {
		cfg_free(conf);
		goto nomem;
	}
	/* its idle connections close as workers apply next; the object goes once none is left */
	ctl_snapshot_publish(env, next);
	ctl_printf(out, "Server deleted.\n");
	return 0;
nomem:
	ctl_printf(out, "error: out of memory\n");
	return -1;
}

const char *ctl_admin_name(uint32_t admin)
{
	return admin < 3 ? admin_names[admin] : "?";
}
