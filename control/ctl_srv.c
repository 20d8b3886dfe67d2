/* SPDX-License-Identifier: BSD-3-Clause
 * Live endpoint changes, HAProxy's Runtime API: set server SERVICE/ENDPOINT weight N,
 * set server SERVICE/ENDPOINT state ready|drain|maint, enable server, disable server.
 *
 * Each change builds a new snapshot (the same configuration, the endpoint states copied and
 * one changed), publishes it with one pointer swap, waits until every worker has passed a
 * quiescent state (so none still reads the old one) and frees the old one. Workers apply the
 * new states at the top of their next loop (px_apply): requests in flight finish on the
 * endpoint they chose. A reload starts again from the file's weights, all ready.
 * Control only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"

static const char *const admin_names[] = { "ready", "drain", "maint" };

/* "SERVICE/ENDPOINT" -> indices in conf; -1 with the answer written when unknown. */
static int find_server(const struct dp_conf *conf, const char *arg, uint32_t *svc, uint32_t *ep,
		       struct ctl_buf *out)
{
	const char *slash = strchr(arg, '/');
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
		for (uint32_t e = 0; e < sc->n_endpoints; e++) {
			if (strcmp(sc->endpoints[e].name, slash + 1) == 0) {
				*svc = v;
				*ep = e;
				return 0;
			}
		}
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
	struct dp *dp = env->dp;
	struct dp_snapshot *cur = dp->snapshot, *next, *old;
	struct dp_ep_state *st;

	next = dp_snapshot_new(cur->conf, cur, cur->epoch + 1);
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
	old = dp_publish(dp, next);
	dp_wait_quiescent(dp);
	dp_snapshot_free(old); /* the configuration is shared with next: not freed */
	return 0;
}

static int server_args(struct ctl_env *env, int argc, char **argv, int need, uint32_t *svc,
		       uint32_t *ep, struct ctl_buf *out)
{
	if (env->dp == NULL || env->dp->snapshot == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	if (argc < need) {
		ctl_printf(out, "error: missing SERVICE/ENDPOINT\n");
		return -1;
	}
	return find_server(env->dp->snapshot->conf, argv[2], svc, ep, out);
}

int ctl_cmd_set_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	uint32_t svc, ep;
	char *end;

	if (server_args(env, argc, argv, 3, &svc, &ep, out) != 0)
		return -1;
	if (argc == 5 && strcmp(argv[3], "weight") == 0) {
		long w = strtol(argv[4], &end, 10);

		if (*end != '\0' || end == argv[4] || w < 0 || w > 256) {
			ctl_printf(out,
				   "error: weight: expected an integer from 0 to 256, got '%s'\n",
				   argv[4]);
			return -1;
		}
		return publish(env, svc, ep, w, -1, out);
	}
	if (argc == 5 && strcmp(argv[3], "state") == 0) {
		for (int a = 0; a < 3; a++)
			if (strcmp(argv[4], admin_names[a]) == 0)
				return publish(env, svc, ep, -1, a, out);
		ctl_printf(out, "error: state: expected ready, drain or maint, got '%s'\n",
			   argv[4]);
		return -1;
	}
	ctl_printf(out, "error: usage: set server SERVICE/ENDPOINT weight N | state "
			"ready|drain|maint\n");
	return -1;
}

int ctl_cmd_enable_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	uint32_t svc, ep;

	if (server_args(env, argc, argv, 3, &svc, &ep, out) != 0)
		return -1;
	return publish(env, svc, ep, -1, DP_EP_READY, out);
}

int ctl_cmd_disable_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	uint32_t svc, ep;

	if (server_args(env, argc, argv, 3, &svc, &ep, out) != 0)
		return -1;
	return publish(env, svc, ep, -1, DP_EP_MAINT, out);
}

const char *ctl_admin_name(uint32_t admin)
{
	return admin < 3 ? admin_names[admin] : "?";
}
