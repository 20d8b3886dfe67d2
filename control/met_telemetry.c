/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: DPDK telemetry commands (/sluice/info, /sluice/stats) and sluice's rte_log
 * types.
 *
 * Telemetry callbacks run on telemetry's own thread, at any time, possibly while control stops
 * the dataplane. They read only relaxed counters and fields fixed at start, through one
 * published pointer; met_telemetry_detach() clears it and waits for a callback that is still
 * using it, before the dataplane is freed (DPDK 22.11 cannot unregister a command).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_telemetry.h>

#include "control.h"

int met_log_dataplane = RTE_LOGTYPE_USER1;
int met_log_tcp = RTE_LOGTYPE_USER1;
int met_log_control = RTE_LOGTYPE_USER1;

/* What the callbacks may read: written by control (register / detach), read by telemetry's
 * thread. met_tel_busy counts callbacks between their load of met_tel_dp and their last read. */
static const struct dp *met_tel_dp;
static uint64_t met_tel_start;
static uint32_t met_tel_busy;
static bool met_tel_registered;

static const struct dp *met_tel_enter(void)
{
	const struct dp *dp;

	__atomic_fetch_add(&met_tel_busy, 1, __ATOMIC_SEQ_CST);
	dp = __atomic_load_n(&met_tel_dp, __ATOMIC_SEQ_CST);
	if (dp == NULL)
		__atomic_fetch_sub(&met_tel_busy, 1, __ATOMIC_RELEASE);
	return dp;
}

static void met_tel_leave(void)
{
	__atomic_fetch_sub(&met_tel_busy, 1, __ATOMIC_RELEASE);
}

/* /sluice/info: version, pid, uptime, workers, ports, mbuf pool and TCB use. */
static int met_tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct dp *dp = met_tel_enter();
	uint64_t now = (uint64_t)time(NULL), conns = 0, in_use = 0, size = 0;

	if (dp == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", SLUICE_VERSION);
	rte_tel_data_add_dict_int(d, "pid", (int)getpid());
	rte_tel_data_add_dict_u64(d, "uptime_seconds",
				  now > met_tel_start ? now - met_tel_start : 0);
	rte_tel_data_add_dict_int(d, "workers", dp->n_workers);
	rte_tel_data_add_dict_int(d, "ports", dp->n_ports);
	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++)
		if (dp->workers[w] != NULL) {
			struct dp_tcp_gauges tg;

			dp_worker_tcp_gauges(dp->workers[w], &tg);
			conns += tg.conns_used;
		}
	for (unsigned int i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		if (dp->pools[i] == NULL)
			continue;
		size += dp->pools[i]->size;
		in_use += rte_mempool_in_use_count(dp->pools[i]);
	}
	rte_tel_data_add_dict_u64(d, "tcp_conns_used", conns);
	rte_tel_data_add_dict_u64(d, "mbufs", size);
	rte_tel_data_add_dict_u64(d, "mbufs_in_use", in_use);
	met_tel_leave();
	return 0;
}

/* /sluice/stats[,GROUP]: every registry counter summed over workers, keyed "group/counter";
 * with GROUP ("tcp", "http", ...) only that group's. */
static int met_tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct dp_counter_group *only = NULL;
	const struct dp *dp;
	char key[RTE_TEL_MAX_STRING_LEN];
	int rc = 0;

	if (params != NULL && params[0] != '\0') {
		only = dp_counter_group_find(params);
		if (only == NULL)
			return -EINVAL;
	}
	dp = met_tel_enter();
	if (dp == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (unsigned int g = 0; g < dp_n_counter_groups && rc == 0; g++) {
		const struct dp_counter_group *grp = &dp_counter_groups[g];

		if (only != NULL && grp != only)
			continue;
		/* A full dict (RTE_TEL_MAX_DICT_ENTRIES) stops here rather than half a group
		 * later: ask for one group to see the rest. */
		for (unsigned int i = 0; i < grp->count && rc == 0; i++) {
			snprintf(key, sizeof(key), "%s/%s", grp->name, grp->names[i]);
			rc = rte_tel_data_add_dict_u64(d, key, dp_counter_sum(dp, grp, i));
		}
	}
	met_tel_leave();
	return 0;
}

int met_telemetry_register(const struct dp *dp, uint64_t start_time)
{
	int rc;

	met_tel_start = start_time;
	__atomic_store_n(&met_tel_dp, dp, __ATOMIC_SEQ_CST);
	if (met_tel_registered)
		return 0;
	/* help texts stay under RTE_TEL_MAX_STRING_LEN (128), or registering fails */
	rc = rte_telemetry_register_cmd("/sluice/info", met_tel_info,
					"sluice: version, pid, uptime, workers, ports, pool use");
	if (rc == 0)
		rc = rte_telemetry_register_cmd(
			"/sluice/stats", met_tel_stats,
			"sluice: counters summed over workers, as group/name. Parameter: "
			"optional group (dp, net, tcp, http, ...)");
	met_tel_registered = rc == 0;
	return rc;
}

void met_telemetry_detach(void)
{
	__atomic_store_n(&met_tel_dp, NULL, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&met_tel_busy, __ATOMIC_ACQUIRE) != 0)
		rte_pause();
}

/* ---- rte_log types ---- */

int met_log_init(uint32_t level)
{
	int t;

	t = rte_log_register_type_and_pick_level("sluice.dataplane", level);
	if (t < 0)
		return t;
	met_log_dataplane = t;
	t = rte_log_register_type_and_pick_level("sluice.tcp", level);
	if (t < 0)
		return t;
	met_log_tcp = t;
	t = rte_log_register_type_and_pick_level("sluice.control", level);
	if (t < 0)
		return t;
	met_log_control = t;
	return 0;
}

void met_log_set_level(uint32_t level)
{
	/* At start a --log-level=sluice.*:LEVEL given to EAL wins (pick_level above); a reload
	 * applies control.log_level to every sluice type. */
	rte_log_set_level(met_log_dataplane, level);
	rte_log_set_level(met_log_tcp, level);
	rte_log_set_level(met_log_control, level);
}
