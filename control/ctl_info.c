/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: "show info [json|typed]" in HAProxy 2.6's format.
 *
 * The fields are HAProxy 2.6's info fields (INF_* of include/haproxy/stats-t.h, 72 of them,
 * Name .. Tainted), in its order and with its names, tags and types, checked against the
 * output of the haproxy 2.6.12 binary; sluice's own fields (Workers .. Outlier_ejections) follow at
 * positions 72 and up. As HAProxy does, a field without a value is left out of every form
 * (its position is then missing from the JSON and typed forms): here Release_date, the rates
 * sluice does not measure (ConnRate, MaxConnRate, SessRate, MaxSessRate, BytesOutRate),
 * Tasks, Run_queue, ZlibMemUsage, MaxZlibMemUsage and description. Fields of features sluice
 * does not have (SSL, pipes, compression, peers, resolvers) are 0, which is what HAProxy
 * prints when they are unused.
 *
 *   show info         "Name: value" lines.
 *   show info json    HAProxy's typed JSON: one list on one line, an object per field,
 *                     {"field":{"pos":N,"name":..},"processNum":1,"tags":{"origin":..,
 *                     "nature":..,"scope":..},"value":{"type":"u32|u64|str","value":..}}
 *   show info typed   HAProxy's typed lines: "POS.NAME.1:ONS:TYPE:VALUE" (tag letters).
 *
 * u32 fields are truncated to 32 bits, as HAProxy's own counters are (CumReq wraps at 2^32).
 * Totals are the per-worker counters summed over workers (dp_counters.c). Control core only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>

#include <rte_mempool.h>

#include "control.h"
#include "hc_ctl.h"

enum inf_type { INF_EMPTY = 0, INF_U32, INF_U64, INF_STR };

/* id, name, tags (origin, nature, scope letters as HAProxy's "show info typed"), type. */
/* clang-format off */
#define INF_FIELDS(X) \
	X(NAME, "Name", "POS", STR) \
	X(VERSION, "Version", "POS", STR) \
	X(RELEASE_DATE, "Release_date", "POS", STR) \
	X(NBTHREAD, "Nbthread", "CGS", U32) \
	X(NBPROC, "Nbproc", "CGS", U32) \
	X(PROCESS_NUM, "Process_num", "KGP", U32) \
	X(PID, "Pid", "SGP", U32) \
	X(UPTIME, "Uptime", "MDP", STR) \
	X(UPTIME_SEC, "Uptime_sec", "MDP", U32) \
	X(MEMMAX_MB, "Memmax_MB", "CLP", U32) \
	X(POOL_ALLOC_MB, "PoolAlloc_MB", "MGP", U32) \
	X(POOL_USED_MB, "PoolUsed_MB", "MGP", U32) \
	X(POOL_FAILED, "PoolFailed", "MCP", U32) \
	X(ULIMIT_N, "Ulimit-n", "CLP", U32) \
	X(MAXSOCK, "Maxsock", "CLP", U32) \
	X(MAXCONN, "Maxconn", "CLP", U32) \
	X(HARD_MAXCONN, "Hard_maxconn", "CLP", U32) \
	X(CURR_CONN, "CurrConns", "MGP", U32) \
	X(CUM_CONN, "CumConns", "MCP", U32) \
	X(CUM_REQ, "CumReq", "MCP", U32) \
	X(MAX_SSL_CONNS, "MaxSslConns", "MMP", U32) \
	X(CURR_SSL_CONNS, "CurrSslConns", "MGP", U32) \
	X(CUM_SSL_CONNS, "CumSslConns", "MCP", U32) \
	X(MAXPIPES, "Maxpipes", "CLP", U32) \
	X(PIPES_USED, "PipesUsed", "MGP", U32) \
	X(PIPES_FREE, "PipesFree", "MGP", U32) \
	X(CONN_RATE, "ConnRate", "MRP", U32) \
	X(CONN_RATE_LIMIT, "ConnRateLimit", "CLP", U32) \
	X(MAX_CONN_RATE, "MaxConnRate", "MMP", U32) \
	X(SESS_RATE, "SessRate", "MRP", U32) \
	X(SESS_RATE_LIMIT, "SessRateLimit", "CLP", U32) \
	X(MAX_SESS_RATE, "MaxSessRate", "MRP", U32) \
	X(SSL_RATE, "SslRate", "MRP", U32) \
	X(SSL_RATE_LIMIT, "SslRateLimit", "CLP", U32) \
	X(MAX_SSL_RATE, "MaxSslRate", "MMP", U32) \
	X(SSL_FRONTEND_KEY_RATE, "SslFrontendKeyRate", "MGP", U32) \
	X(SSL_FRONTEND_MAX_KEY_RATE, "SslFrontendMaxKeyRate", "MMP", U32) \
	X(SSL_FRONTEND_SESSION_REUSE_PCT, "SslFrontendSessionReuse_pct", "MGP", U32) \
	X(SSL_BACKEND_KEY_RATE, "SslBackendKeyRate", "MRP", U32) \
	X(SSL_BACKEND_MAX_KEY_RATE, "SslBackendMaxKeyRate", "MMP", U32) \
	X(SSL_CACHE_LOOKUPS, "SslCacheLookups", "MCP", U32) \
	X(SSL_CACHE_MISSES, "SslCacheMisses", "MCP", U32) \
	X(COMPRESS_BPS_IN, "CompressBpsIn", "MRP", U32) \
	X(COMPRESS_BPS_OUT, "CompressBpsOut", "MRP", U32) \
	X(COMPRESS_BPS_RATE_LIM, "CompressBpsRateLim", "CLP", U32) \
	X(ZLIB_MEM_USAGE, "ZlibMemUsage", "MGP", U32) \
	X(MAX_ZLIB_MEM_USAGE, "MaxZlibMemUsage", "CLP", U32) \
	X(TASKS, "Tasks", "MGP", U32) \
	X(RUN_QUEUE, "Run_queue", "MGP", U32) \
	X(IDLE_PCT, "Idle_pct", "MaP", U32) \
	X(NODE, "node", "COS", STR) \
	X(DESCRIPTION, "description", "COS", STR) \
	X(STOPPING, "Stopping", "MGP", U32) \
	X(JOBS, "Jobs", "MGP", U32) \
	X(UNSTOPPABLE_JOBS, "Unstoppable Jobs", "MGP", U32) \
	X(LISTENERS, "Listeners", "MGP", U32) \
	X(ACTIVE_PEERS, "ActivePeers", "MGP", U32) \
	X(CONNECTED_PEERS, "ConnectedPeers", "MGP", U32) \
	X(DROPPED_LOGS, "DroppedLogs", "MGP", U32) \
	X(BUSY_POLLING, "BusyPolling", "MGP", U32) \
	X(FAILED_RESOLUTIONS, "FailedResolutions", "MGP", U32) \
	X(TOTAL_BYTES_OUT, "TotalBytesOut", "MGP", U64) \
	X(TOTAL_SPLICED_BYTES_OUT, "TotalSplicdedBytesOut", "MGP", U64) \
	X(BYTES_OUT_RATE, "BytesOutRate", "MRP", U64) \
	X(DEBUG_COMMANDS_ISSUED, "DebugCommandsIssued", "MGP", U32) \
	X(CUM_LOG_MSGS, "CumRecvLogs", "MCP", U32) \
	X(BUILD_INFO, "Build info", "POS", STR) \
	X(MEMMAX_BYTES, "Memmax_bytes", "CLP", U32) \
	X(POOL_ALLOC_BYTES, "PoolAlloc_bytes", "MGP", U64) \
	X(POOL_USED_BYTES, "PoolUsed_bytes", "MGP", U64) \
	X(START_TIME_SEC, "Start_time_sec", "MDP", U32) \
	X(TAINTED, "Tainted", "SGP", STR) \
	/* sluice's own, after HAProxy's */ \
	X(WORKERS, "Workers", "CGS", U32) \
	X(PORTS, "Ports", "CGS", U32) \
	X(CONFIG_FILE, "Config_file", "COS", STR) \
	X(CONFIG_EPOCH, "Config_epoch", "MCP", U64) \
	X(RX_FRAMES, "Rx_frames", "MCP", U64) \
	X(TX_FRAMES, "Tx_frames", "MCP", U64) \
	X(HEALTH_PROBES_SENT, "Health_probes_sent", "MCP", U64) \
	X(HEALTH_PROBES_SKIPPED, "Health_probes_skipped", "MCP", U64) \
	X(OUTLIER_EJECTIONS, "Outlier_ejections", "MCP", U64)
/* clang-format on */

enum inf_field {
#define INF_ENUM(id, name, tags, type) INF_##id,
	INF_FIELDS(INF_ENUM)
#undef INF_ENUM
		INF_MAX
};

_Static_assert(INF_WORKERS == 72, "HAProxy 2.6 has 72 info fields (INF_TOTAL_FIELDS)");

static const struct {
	const char *name;
	const char *tags;
	enum inf_type type;
} inf_desc[INF_MAX] = {
#define INF_DESC(id, n, t, ty) [INF_##id] = { n, t, INF_##ty },
	INF_FIELDS(INF_DESC)
#undef INF_DESC
};

/* The value of every field; set[f] false: no value, the field is left out. */
struct inf_vals {
	bool set[INF_MAX];
	uint64_t u[INF_MAX];
	const char *s[INF_MAX];
};

static void inf_u(struct inf_vals *v, enum inf_field f, uint64_t x)
{
	v->set[f] = true;
	v->u[f] = inf_desc[f].type == INF_U32 ? (uint32_t)x : x;
}

static void inf_s(struct inf_vals *v, enum inf_field f, const char *s)
{
	v->set[f] = true;
	v->s[f] = s;
}

/* Sum over workers of counter i of group (0 without a dataplane). */
static uint64_t inf_sum(const struct dp *dp, const char *group, unsigned int i)
{
	const struct dp_counter_group *g = dp != NULL ? dp_counter_group_find(group) : NULL;

	return g != NULL && i < g->count ? dp_counter_sum(dp, g, i) : 0;
}

/* The same, by the counter's name (the stack's groups: control sees no tcpstack header). */
static uint64_t inf_sum_named(const struct dp *dp, const char *group, const char *name)
{
	const struct dp_counter_group *g = dp != NULL ? dp_counter_group_find(group) : NULL;

	for (unsigned int i = 0; g != NULL && i < g->count; i++)
		if (strcmp(g->names[i], name) == 0)
			return dp_counter_sum(dp, g, i);
	return 0;
}

/* Bytes of every pool (mbuf pools, then each worker's TCBs, connection table, sessions and
 * upstream connections), allocated and in use. */
static void inf_pools(const struct dp *dp, uint64_t *alloc, uint64_t *used)
{
	struct dp_mem m;

	*alloc = *used = 0;
	for (unsigned int i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		const struct rte_mempool *mp = dp->pools[i];
		uint64_t obj;

		if (mp == NULL)
			continue;
		obj = (uint64_t)mp->header_size + mp->elt_size + mp->trailer_size;
		*alloc += obj * mp->size;
		*used += obj * rte_mempool_in_use_count(mp);
	}
	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
		if (dp->workers[w] == NULL)
			continue;
		dp_mem_worker(dp->workers[w], &m);
		*alloc += (uint64_t)m.tcb_bytes * m.tcbs_max + m.hash_bytes +
			  (uint64_t)m.session_bytes * m.sessions_max +
			  (uint64_t)m.upstream_bytes * m.upstreams_max;
		*used += (uint64_t)m.tcb_bytes * m.tcbs_used + m.hash_bytes +
			 (uint64_t)m.session_bytes * m.sessions_used +
			 (uint64_t)m.upstream_bytes * m.upstreams_used;
	}
}

/* Client sessions open over every worker (the HTTP session pools in use). */
static uint64_t inf_curr_conns(const struct dp *dp)
{
	struct dp_mem m;
	uint64_t n = 0;

	for (unsigned int w = 0; w < dp->n_workers && w < DP_MAX_WORKERS; w++) {
		if (dp->workers[w] != NULL) {
			dp_mem_worker(dp->workers[w], &m);
			n += m.sessions_used;
		}
	}
	return n;
}

/* Failed takes from a pool: no TCB, session, upstream connection or mbuf. */
static uint64_t inf_pool_failed(const struct dp *dp)
{
	return inf_sum_named(dp, "net", "tx_drop_no_mbuf") +
	       inf_sum_named(dp, "tcp", "drop_pool_empty") +
	       inf_sum_named(dp, "tcp", "drop_no_mbuf") +
	       inf_sum(dp, "http", PX_CNT_refused_pool_empty) +
	       inf_sum(dp, "http", PX_CNT_drop_no_mbuf) +
	       inf_sum(dp, "http", PX_CNT_upstream_pool_empty);
}

/* Percent of the workers' loop cycles spent idle since start (HAProxy: over the last
 * second); 100 before any cycle was counted. */
static uint64_t inf_idle_pct(const struct dp *dp)
{
	uint64_t busy = inf_sum(dp, "dp", DP_CNT_cycles_busy);
	uint64_t idle = inf_sum(dp, "dp", DP_CNT_cycles_idle);

	return busy + idle ? idle * 100 / (busy + idle) : 100;
}

/* A graceful shutdown has begun: "shutdown" or a signal set quit, or workers drain. */
static bool inf_stopping(const struct ctl_env *env)
{
	if (env->quit != NULL && *env->quit)
		return true;
	for (unsigned int w = 0; env->dp != NULL && w < env->dp->n_workers && w < DP_MAX_WORKERS;
	     w++)
		if (env->dp->workers[w] != NULL && dp_worker_draining(env->dp->workers[w]))
			return true;
	return false;
}

/* Every field's value. uptime and node are the caller's buffers for the string fields. */
static void inf_fill(const struct ctl_env *env, struct inf_vals *v, char *uptime, size_t ulen,
		     char *node, size_t nlen)
{
	const struct dp_conf *conf = env->conf;
	const struct dp *dp = env->dp;
	const struct dp_snapshot *snap = NULL;
	uint64_t now = (uint64_t)time(NULL);
	uint64_t up = now > env->start_time ? now - env->start_time : 0;
	uint64_t workers = 0, ports = 0, maxconn, curr = 0, listeners = 0, epoch = 0;
	uint64_t alloc = 0, used = 0;
	bool stopping = inf_stopping(env);
	struct rlimit rl;

	memset(v, 0, sizeof(*v));
	if (dp != NULL) {
		workers = dp->n_workers;
		ports = dp->n_ports;
		snap = __atomic_load_n(&dp->snapshot, __ATOMIC_ACQUIRE);
		curr = inf_curr_conns(dp);
		inf_pools(dp, &alloc, &used);
	} else if (conf != NULL) {
		workers = conf->dataplane.workers;
		ports = conf->dataplane.n_ports;
	}
	if (snap != NULL) {
		epoch = snap->epoch;
		listeners = snap->n_lsts;
	} else if (conf != NULL) {
		listeners = conf->n_listeners;
	}
	if (stopping)
		listeners = 0; /* drain unlistens every listener */
	maxconn = conf != NULL ? (uint64_t)conf->dataplane.max_connections * workers : 0;
	snprintf(uptime, ulen, "%" PRIu64 "d %" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", up / 86400,
		 up / 3600 % 24, up / 60 % 60, up % 60);
	if (gethostname(node, nlen) < 0)
		node[0] = '\0';
	node[nlen - 1] = '\0';

	inf_s(v, INF_NAME, "sluice");
	inf_s(v, INF_VERSION, SLUICE_VERSION);
	inf_u(v, INF_NBTHREAD, workers);
	inf_u(v, INF_NBPROC, 1);
	inf_u(v, INF_PROCESS_NUM, 1);
	inf_u(v, INF_PID, (uint64_t)getpid());
	inf_s(v, INF_UPTIME, uptime);
	inf_u(v, INF_UPTIME_SEC, up);
	inf_u(v, INF_MEMMAX_MB, 0);
	inf_u(v, INF_POOL_ALLOC_MB, alloc >> 20);
	inf_u(v, INF_POOL_USED_MB, used >> 20);
	inf_u(v, INF_POOL_FAILED, inf_pool_failed(dp));
	inf_u(v, INF_ULIMIT_N, getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 0);
	inf_u(v, INF_MAXSOCK, maxconn); /* TCBs: client and upstream connections */
	inf_u(v, INF_MAXCONN, maxconn);
	inf_u(v, INF_HARD_MAXCONN, maxconn);
	inf_u(v, INF_CURR_CONN, curr);
	inf_u(v, INF_CUM_CONN, inf_sum(dp, "http", PX_CNT_conns_accepted));
	inf_u(v, INF_CUM_REQ, inf_sum(dp, "http", PX_CNT_requests));
	for (int f = INF_MAX_SSL_CONNS; f <= INF_COMPRESS_BPS_RATE_LIM; f++)
		inf_u(v, f, 0); /* no TLS, pipes or compression; no limit on rates */
	v->set[INF_CONN_RATE] = v->set[INF_MAX_CONN_RATE] = false; /* not measured */
	v->set[INF_SESS_RATE] = v->set[INF_MAX_SESS_RATE] = false;
	inf_u(v, INF_IDLE_PCT, inf_idle_pct(dp));
	inf_s(v, INF_NODE, node);
	inf_u(v, INF_STOPPING, stopping);
	inf_u(v, INF_JOBS, curr + listeners);
	inf_u(v, INF_UNSTOPPABLE_JOBS, 0);
	inf_u(v, INF_LISTENERS, listeners);
	inf_u(v, INF_ACTIVE_PEERS, 0);
	inf_u(v, INF_CONNECTED_PEERS, 0);
	inf_u(v, INF_DROPPED_LOGS, inf_sum(dp, "http", PX_CNT_access_log_dropped));
	inf_u(v, INF_BUSY_POLLING, conf != NULL && conf->dataplane.idle_sleep_us == 0);
	inf_u(v, INF_FAILED_RESOLUTIONS, 0);
	inf_u(v, INF_TOTAL_BYTES_OUT, inf_sum_named(dp, "tcp", "bytes_out"));
	inf_u(v, INF_TOTAL_SPLICED_BYTES_OUT, 0);
	inf_u(v, INF_DEBUG_COMMANDS_ISSUED, 0);
	inf_u(v, INF_CUM_LOG_MSGS, 0);
	inf_s(v, INF_BUILD_INFO, SLUICE_VERSION);
	inf_u(v, INF_MEMMAX_BYTES, 0);
	inf_u(v, INF_POOL_ALLOC_BYTES, alloc);
	inf_u(v, INF_POOL_USED_BYTES, used);
	inf_u(v, INF_START_TIME_SEC, env->start_time);
	inf_s(v, INF_TAINTED, "0");

	inf_u(v, INF_WORKERS, workers);
	inf_u(v, INF_PORTS, ports);
	inf_s(v, INF_CONFIG_FILE, conf != NULL && conf->file != NULL ? conf->file : "");
	inf_u(v, INF_CONFIG_EPOCH, epoch);
	inf_u(v, INF_RX_FRAMES, inf_sum_named(dp, "net", "rx_frames"));
	inf_u(v, INF_TX_FRAMES, inf_sum_named(dp, "net", "tx_frames"));
	/* health (hc_ctl.h): probes the engine sent, skipped (neither success nor failure) */
	inf_u(v, INF_HEALTH_PROBES_SENT, env->hc != NULL ? env->hc->sent : 0);
	inf_u(v, INF_HEALTH_PROBES_SKIPPED, hc_skipped(env->hc));
	inf_u(v, INF_OUTLIER_EJECTIONS, env->hc != NULL ? env->hc->ejections : 0);
}

/* HAProxy's names of the tag letters (enum field_origin, field_nature, field_scope). */
static const char *inf_tag_name(char c, int which)
{
	static const char *const letters[3] = { "MSKCP", "AacCDGLMmOR", "PSsC" };
	static const char *const names[3][11] = {
		{ "Metric", "Status", "Key", "Config", "Product" },
		{ "Age", "Avg", "Card", "Counter", "Duration", "Gauge", "Limit", "Max", "Min",
		  "Output", "Rate" },
		{ "Process", "Service", "System", "Cluster" },
	};
	const char *p = strchr(letters[which], c);

	return p != NULL && c != '\0' ? names[which][p - letters[which]] : "";
}

static const char *inf_type_name(enum inf_type t)
{
	return t == INF_U32 ? "u32" : t == INF_U64 ? "u64" : "str";
}

enum inf_form { INF_TEXT, INF_JSON, INF_TYPED };

static void inf_write(const struct inf_vals *v, enum inf_form form, struct ctl_buf *out)
{
	const char *sep = "";

	if (form == INF_JSON)
		ctl_printf(out, "[");
	for (unsigned int f = 0; f < INF_MAX; f++) {
		const char *name = inf_desc[f].name, *tags = inf_desc[f].tags;
		bool str = inf_desc[f].type == INF_STR;

		if (!v->set[f])
			continue;
		if (form == INF_TEXT) {
			ctl_printf(out, "%s: ", name);
		} else if (form == INF_TYPED) {
			ctl_printf(out, "%u.%s.1:%s:%s:", f, name, tags,
				   inf_type_name(inf_desc[f].type));
		} else {
			ctl_printf(
				out,
				"%s{\"field\":{\"pos\":%u,\"name\":\"%s\"},\"processNum\":1,"
				"\"tags\":{\"origin\":\"%s\",\"nature\":\"%s\",\"scope\":\"%s\"},"
				"\"value\":{\"type\":\"%s\",\"value\":",
				sep, f, name, inf_tag_name(tags[0], 0), inf_tag_name(tags[1], 1),
				inf_tag_name(tags[2], 2), inf_type_name(inf_desc[f].type));
			sep = ",";
		}
		if (form == INF_JSON && str)
			ctl_json_str(out, v->s[f]);
		else if (str)
			ctl_printf(out, "%s", v->s[f]);
		else
			ctl_printf(out, "%" PRIu64, v->u[f]);
		ctl_printf(out, form == INF_JSON ? "}}" : "\n");
	}
	if (form == INF_JSON)
		ctl_printf(out, "]\n");
}

int ctl_cmd_show_info(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out)
{
	enum inf_form form = INF_TEXT;
	struct inf_vals v;
	char uptime[64], node[256];

	if (argc == 3 && strcmp(argv[2], "json") == 0) {
		form = INF_JSON;
	} else if (argc == 3 && strcmp(argv[2], "typed") == 0) {
		form = INF_TYPED;
	} else if (argc != 2) {
		ctl_printf(out, "error: usage: show info [json|typed]\n");
		return -1;
	}
	inf_fill(env, &v, uptime, sizeof(uptime), node, sizeof(node));
	inf_write(&v, form, out);
	return 0;
}
