/* SPDX-License-Identifier: BSD-3-Clause
 * sluice control: configuration loading, the control socket and its commands.
 *
 * Everything here runs on the control core (the main lcore) or, for cfg_*, in any process
 * (sluice --check loads a config without EAL).
 */
#ifndef SLUICE_CONTROL_H
#define SLUICE_CONTROL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_log.h>

#include "dp_objs.h"
#include "dp_run.h"
#include "dp_types.h"
#include "lb.h"
#include "px_obs.h"

/* ---- configuration (cfg_*.c) ---- */

/* Errors collected while loading, in document order, each "FILE:LINE:COL: message" or
 * "FILE: cannot read: reason". */
struct cfg_errors {
	char **lines;
	unsigned int n;
	unsigned int cap;
};

/* Load and validate FILE. On success returns a new configuration (free with cfg_free) and
 * leaves errs empty; on failure returns NULL with every error in errs. Touches no device and
 * needs no EAL: safe for --check. */
struct dp_conf *cfg_load(const char *file, struct cfg_errors *errs);

/* Release a configuration returned by cfg_load. NULL is fine. */
void cfg_free(struct dp_conf *conf);

void cfg_errors_free(struct cfg_errors *errs);

/* A deep copy of conf (free with cfg_free); NULL when out of memory. Any thread. */
struct dp_conf *cfg_dup(const struct dp_conf *conf);

/* Append a formatted error line. */
void cfg_error(struct cfg_errors *errs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Names of keys a reload may not change that differ between a and b ("dataplane.workers",
 * "control.socket", ...), written to errs as "FILE: cannot change KEY on reload". Returns the
 * number found. */
unsigned int cfg_diff_static(const struct dp_conf *a, const struct dp_conf *b,
			     struct cfg_errors *errs);

/* ---- control socket (ctl_*.c) ---- */

/* A growable output buffer for one command's answer (control core: malloc is fine here). */
struct ctl_buf {
	char *data;
	size_t len;
	size_t cap;
};

void ctl_printf(struct ctl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctl_buf_free(struct ctl_buf *b);

/* Added by the control-socket helper. Append len raw bytes to b. */
void ctl_buf_append(struct ctl_buf *b, const void *data, size_t len);

/* Append s as a JSON string literal, quotes included: '"', '\\' and control characters are
 * escaped, invalid UTF-8 becomes U+FFFD, so the result is always valid JSON. s may be NULL
 * (written as ""). */
void ctl_json_str(struct ctl_buf *b, const char *s);

/* What the command handlers may read: the running dataplane and configuration. */
struct ctl_env {
	struct dp *dp;		    /* NULL in unit tests without EAL */
	const struct dp_conf *conf; /* the running configuration */
	uint64_t start_time;	    /* time(NULL) at start */
	bool *quit;		    /* set by "shutdown" (control thread only) */
	uint32_t shutdown_grace_ms; /* set by "shutdown GRACE_MS" (left unchanged without it) */
	unsigned int objs_waiting;  /* objects out of the snapshot still referenced by workers */
	struct met_alog *alog;	    /* the access log, reopened on reload (NULL in tests) */
	struct hc *hc;		    /* the health engine (hc_ctl.h); NULL: no health checks */
};

/* A command handler: argv[0..argc) are the words of the command (after the matched prefix
 * words too; handlers see the whole line split on spaces). Writes its answer to out, without
 * the terminating empty line. Returns 0, or -1 when the answer is an error (it begins with
 * "error: "). */
typedef int (*ctl_cmd_fn)(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);

struct ctl_cmd {
	const char *words; /* "show info": every word must match, in order */
	ctl_cmd_fn fn;
	const char *usage; /* one line for "help" */
};

/* Run one line (which may hold several ';'-separated commands) and append every answer, each
 * ending with an empty line, to out. Sets *prompt when the line toggles prompt mode. */
void ctl_execute_line(struct ctl_env *env, const char *line, struct ctl_buf *out, bool *prompt);

/* Added by the control-socket helper: as ctl_execute_line, and also sets *quit when the line
 * holds "quit" (the commands after it are not run; the connection is to be closed). */
void ctl_execute(struct ctl_env *env, const char *line, struct ctl_buf *out, bool *prompt,
		 bool *quit);

struct ctl_server;

/* Create the listening Unix socket at path (mode 0600, parent directory created 0700 when
 * missing). Returns NULL and writes a reason to err on failure. */
struct ctl_server *ctl_server_open(const char *path, struct ctl_env *env, char *err, size_t errlen);

/* Serve clients for up to timeout_ms (epoll); returns after one batch of events. */
void ctl_server_poll(struct ctl_server *srv, int timeout_ms);

/* Close every client and the socket, and unlink its path. */
void ctl_server_close(struct ctl_server *srv);

/* Added by the stats helper. Write c as YAML that cfg_load reads back to an equal
 * configuration: every key of the table, defaults included, no blank line (cfg_dump.c).
 * Appends to out; returns 0 or -EINVAL (c NULL). Any thread, no EAL. */
int cfg_dump(const struct dp_conf *c, struct ctl_buf *out);

/* Live endpoint changes (ctl_srv.c): set server, enable server, disable server. */
int ctl_cmd_set_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
int ctl_cmd_enable_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
int ctl_cmd_disable_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
/* "ready", "drain", "maint" */
const char *ctl_admin_name(uint32_t admin);

/* Changes of listeners and services that the workers cannot apply live, next against the
 * start-up configuration (today: a max_header_bytes or max_headers above every one at start), each
 * reported to errs as "FILE: cannot ...". Returns how many. Control only. */
unsigned int cfg_diff_live(const struct dp_conf *startup, const struct dp_conf *next,
			   struct cfg_errors *errs);

/* The mem.* / workerW.mem.* part of show pools (ctl_mem.c); in JSON, a leading ",\"mem\":{...}"
 * member. Control only. */
void ctl_mem_lines(const struct dp *dp, bool json, struct ctl_buf *out);

/* ---- live configuration changes (ctl_reload.c) ---- */

/* A snapshot of conf (not copied: the snapshot will own it once published) at the next
 * epoch; with keep, endpoints the running snapshot has keep their weight and state. NULL
 * when out of memory. */
struct dp_snapshot *ctl_snapshot_build(struct ctl_env *env, const struct dp_conf *conf, bool keep);
/* Publish snap, wait until every worker applied it, free the previous snapshot (and its
 * configuration unless snap shares it or it is the start-up one), collect objects that left,
 * and make snap's configuration env->conf. */
void ctl_snapshot_publish(struct ctl_env *env, struct dp_snapshot *snap);
/* Load file and apply it live: listeners, routes and services; keys under dataplane and
 * control.socket cannot change. On failure nothing changed and errs holds every error
 * (--check's format, then every refused key). Returns 0 or a negative errno. */
int ctl_reload(struct ctl_env *env, const char *file, struct cfg_errors *errs);
/* Periodic work of the control loop: free objects workers let go of; run the health engine
 * (probes, outlier detection) and publish a snapshot when an endpoint's health changed. */
void ctl_tick(struct ctl_env *env);
int ctl_cmd_reload(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
int ctl_cmd_add_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
int ctl_cmd_del_server(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);

/* show conns [N] [json] (ctl_conns.c): asks every worker over its ring, waits 500 ms at most. */
int ctl_cmd_show_conns(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);

/* show info [json|typed] in HAProxy 2.6's format (ctl_info.c). */
int ctl_cmd_show_info(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);

/* Added by the stats helper: handlers defined in ctl_stat.c, registered in ctl_cmds[]. */
int ctl_cmd_show_stat(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
int ctl_cmd_show_servers_state(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);
int ctl_cmd_show_config(struct ctl_env *env, int argc, char **argv, struct ctl_buf *out);

/* ---- observability (met_*.c), added by the metrics helper; see docs/observability.md ---- */

struct met_prom;

/* Listen on addr ("A.B.C.D:PORT") for GET /metrics (Prometheus text format 0.0.4), reading
 * counters through env. Returns NULL with a reason in err on failure. Control only. */
struct met_prom *met_prom_open(const char *addr, struct ctl_env *env, char *err, size_t errlen);

/* Serve scrapes for up to timeout_ms (0: what is ready now). Control only; m may be NULL. */
void met_prom_poll(struct met_prom *m, int timeout_ms);

/* Close every scrape in progress and the socket. NULL is fine. */
void met_prom_close(struct met_prom *m);

/* Append the whole exposition to out (nothing without a dataplane). Control only. */
void met_prom_render(const struct ctl_env *env, struct ctl_buf *out);

/* Register /sluice/info and /sluice/stats with DPDK telemetry (after EAL init) and let them
 * read dp. Returns 0 or a negative errno. Control only. */
int met_telemetry_register(const struct dp *dp, uint64_t start_time);

/* Stop the telemetry commands reading dp (they answer nothing afterwards); returns once no
 * callback still reads it. Call before dp_stop. Control only. */
void met_telemetry_detach(void);

/* A Prometheus label value into b: backslash, double quote and newline escaped as the text
 * format requires (met_prom.c). */
void met_label_value(struct ctl_buf *b, const char *s);

/* ---- access log (met_alog.c): control.access_log, see docs/observability.md ---- */

struct met_alog;

/* Open the access log at path ("" or NULL: off, records are drained and dropped). Returns
 * NULL with a reason in err when the file cannot be opened. Control only. */
struct met_alog *met_alog_open(const struct dp *dp, const char *path, char *err, size_t errlen);

/* Reopen (SIGHUP, reload; logrotate): path is the current control.access_log, which may
 * differ from the one open ("" turns the log off). On failure the previous file stays open,
 * an error is logged and -EIO returned. a may be NULL. Control only. */
int met_alog_reopen(struct met_alog *a, const char *path);

/* Drain the workers' rings and write their lines; once per control-loop tick. NULL is fine. */
void met_alog_poll(struct met_alog *a);

/* A file is open (the control loop then ticks every 10 ms). */
bool met_alog_active(const struct met_alog *a);

/* Flush and close. NULL is fine. Before dp_stop frees the workers' rings, or after it
 * without another met_alog_poll. */
void met_alog_close(struct met_alog *a);

/* ---- latency (met_lat.c): the workers' histograms summed (dataplane/proxy/px_obs.h) ---- */

struct px_hist;

/* Count, sum and max (µs) of the three phases of px_obs.h (enum px_phase order: total,
 * connect, first byte). */
struct met_times {
	uint64_t count[3];
	uint64_t sum_us[3];
	uint64_t max_us[3];
};

/* Histogram of one phase of service svc, summed over workers, into out. Control only. */
void met_service_hist(const struct dp *dp, uint32_t svc, unsigned int phase, struct px_hist *out);
void met_service_times(const struct dp *dp, uint32_t svc, struct met_times *t);
void met_endpoint_times(const struct dp *dp, uint32_t svc, uint32_t ep, struct met_times *t);

/* The three Prometheus histogram families sluice_service_*_duration_seconds. */
void met_latency_render(const struct dp *dp, struct ctl_buf *b);

/* Shutdown's grace period when neither "shutdown GRACE_MS" nor a signal names one. */
#define CTL_SHUTDOWN_GRACE_MS 5000

/* rte_log types sluice.dataplane, sluice.tcp, sluice.control (RTE_LOGTYPE_USER1 until
 * met_log_init registered them). */
extern int met_log_dataplane, met_log_tcp, met_log_control;

/* Register the log types at level (enum dp_log_level == RTE_LOG_*) unless EAL's --log-level
 * named them. After EAL init. Returns 0 or a negative errno. */
int met_log_init(uint32_t level);

/* Set every sluice log type to level (reload of control.log_level). */
void met_log_set_level(uint32_t level);

/* One line at RTE_LOG_<level> on sluice.control; the newline is added. */
#define MET_LOG(level, fmt, ...) rte_log(RTE_LOG_##level, met_log_control, fmt "\n", ##__VA_ARGS__)

#endif /* SLUICE_CONTROL_H */
