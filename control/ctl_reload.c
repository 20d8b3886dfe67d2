/* SPDX-License-Identifier: BSD-3-Clause
 * Live configuration changes: building and publishing snapshots, and reload (the "reload"
 * command and SIGHUP go through ctl_reload).
 *
 * Every change, a reload as much as "set server", is one new snapshot: built here with the
 * stable objects it names (dp_snapshot_new finds them by name, so counters and in-flight
 * counts carry over), published with one pointer swap, and the old one freed once every
 * worker has applied the new one. Objects that left are freed later, once no worker
 * references them (dp_objs_gc, also from ctl_tick). Control only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "hc_ctl.h"

struct dp_snapshot *ctl_snapshot_build(struct ctl_env *env, const struct dp_conf *conf, bool keep)
{
	struct dp *dp = env->dp;
	const struct dp_snapshot *cur = dp->snapshot;
	struct dp_snapshot *snap;

	snap = dp_snapshot_new(dp, conf, keep ? cur : NULL, cur != NULL ? cur->epoch + 1 : 1);
	/* health lives in the engine, keyed by endpoint object: every snapshot, a reload's
	 * included, carries it */
	if (snap != NULL)
		hc_sync(env->hc, dp, snap, hc_mono_ms());
	return snap;
}

void ctl_snapshot_publish(struct ctl_env *env, struct dp_snapshot *snap)
{
	struct dp *dp = env->dp;
	struct dp_snapshot *old;

	/* states may have changed since it was built (set server, health): slow start's since
	 * and the Maglev tables follow them; out of memory keeps a table as it was */
	(void)dp_snapshot_seal(dp, snap, dp->snapshot);
	/* new listener ports first: their segments must reach the worker that will own them */
	dp_listen_ports_add(dp, snap->conf);
	old = dp_publish(dp, snap);
	dp_wait_quiescent(dp); /* every worker applied snap: nobody reads old any more */
	if (old != NULL && old->conf != snap->conf && old->conf != dp->conf)
		cfg_free((struct dp_conf *)old->conf);
	dp_snapshot_free(old);
	env->conf = snap->conf;
	env->objs_waiting = dp_objs_gc(dp);
}

void ctl_tick(struct ctl_env *env)
{
	struct hc_clock clk;

	if (env->dp != NULL && env->objs_waiting > 0)
		env->objs_waiting = dp_objs_gc(env->dp);
	if (env->dp == NULL || env->dp->snapshot == NULL || env->hc == NULL)
		return;
	hc_clock_now(env->dp, &clk);
	if (hc_run(env->hc, env->dp, &clk)) {
		struct dp_snapshot *snap = ctl_snapshot_build(env, env->dp->snapshot->conf, true);

		if (snap != NULL)
			ctl_snapshot_publish(env, snap); /* the configuration is shared */
		else
			MET_LOG(ERR, "health: out of memory, state change not published yet");
	}
}

int ctl_reload(struct ctl_env *env, const char *file, struct cfg_errors *errs)
{
	struct dp *dp = env->dp;
	struct dp_conf *conf = cfg_load(file, errs);
	struct dp_snapshot *snap;
	unsigned int bad;

	if (conf == NULL)
		return -EINVAL;
	/* every refusal, not the first one */
	bad = cfg_diff_static(dp->conf, conf, errs);
	bad += cfg_diff_live(dp->conf, conf, errs);
	if (bad != 0) {
		cfg_free(conf);
		return -EINVAL;
	}
	/* the file is the truth again: live weights, states and added servers are not kept */
	snap = ctl_snapshot_build(env, conf, false);
	if (snap == NULL) {
		cfg_error(errs, "%s: out of memory", file);
		cfg_free(conf);
		return -ENOMEM;
	}
	/* file may belong to the configuration this replaces (SIGHUP, "reload"): log conf's */
	ctl_snapshot_publish(env, snap);
	met_log_set_level(conf->control.log_level);
	/* a new path, or the same one rotated */
	met_alog_reopen(env->alog, conf->control.access_log);
	MET_LOG(INFO, "sluice: reloaded %s (epoch %lu)", conf->file, (unsigned long)snap->epoch);
	return 0;
}

int ctl_cmd_reload(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	struct cfg_errors errs = { 0 };
	const char *file;
	int rc;

	if (argc > 2) {
		ctl_printf(out, "error: usage: reload [FILE]\n");
		return -1;
	}
	if (env->dp == NULL || env->dp->snapshot == NULL) {
		ctl_printf(out, "error: dataplane not running\n");
		return -1;
	}
	file = argc == 2 ? argv[1] : env->conf->file;
	rc = ctl_reload(env, file, &errs);
	if (rc != 0) {
		ctl_printf(out, "error: reload of %s refused, nothing changed:\n", file);
		for (unsigned int i = 0; i < errs.n; i++)
			ctl_printf(out, "%s\n", errs.lines[i]);
	}
	cfg_errors_free(&errs);
	return rc == 0 ? 0 : -1;
}
