/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the appliance. Loads the configuration, starts EAL and the dataplane, then runs the
 * control loop on the main lcore until SIGINT/SIGTERM. Exit status: 0 clean shutdown,
 * 1 configuration error, 2 the system refused something at start.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "control.h"
#include "hc_ctl.h"

#define EXIT_CONFIG 1
#define EXIT_SYSTEM 2

/* Set from signal handlers, read by the control loop. */
static volatile sig_atomic_t sig_stop;
static volatile sig_atomic_t sig_reload;

static void on_stop(int sig)
{
	if (sig_stop)
		_exit(EXIT_SYSTEM); /* second signal: leave at once */
	sig_stop = 1;
}

static void on_hup(int sig)
{
	sig_reload = 1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice -c FILE [--check] [-- EAL-ARGS...]\n"
		   "       sluice --version | --help\n"
		   "\n"
		   "  -c, --config FILE  configuration file (YAML)\n"
		   "      --check        validate FILE and exit: 0 valid, 1 with every error\n"
		   "                     printed as FILE:LINE:COL: message\n"
		   "  -v, --version      print the version\n"
		   "  -h, --help         this text\n"
		   "Arguments after -- go to DPDK's EAL, after those of dataplane.eal.\n");
}

static void print_errors(const struct cfg_errors *errs)
{
	for (unsigned int i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->lines[i]);
}

/* SIGHUP: the same as the "reload" command (ctl_reload), errors to the log. */
static void reload(struct ctl_env *env)
{
	struct cfg_errors errs = { 0 };
	const char *file = env->conf->file;

	if (ctl_reload(env, file, &errs) != 0) {
		MET_LOG(ERR, "sluice: reload of %s refused, nothing changed:", file);
		for (unsigned int i = 0; i < errs.n; i++)
			MET_LOG(ERR, "%s", errs.lines[i]);
	}
	cfg_errors_free(&errs);
}

/* EAL leaves its runtime directory (config, telemetry socket) behind after cleanup: remove
 * the entries directly inside it, then the directory. The directory is this process's own
 * (its file prefix), so nobody else is using it once we exit. */
static void remove_runtime_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' || (e->d_name[1] != '\0' && strcmp(e->d_name, "..") != 0))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(dir);
}

/* Start everything, serve until a shutdown, stop everything. Each acquisition has its label
 * below, in reverse order: a failure jumps to the one that undoes what is held so far. */
static int run(struct dp_conf *conf, int extra_argc, char **extra_argv)
{
	struct dp dp;
	struct ctl_env env = { 0 };
	struct ctl_server *srv;
	struct met_prom *met = NULL;
	struct met_alog *alog = NULL;
	uint64_t stopping_ms = 0; /* CLOCK_MONOTONIC ms when the shutdown began */
	uint32_t left = 0;
	struct dp_snapshot *snap;
	bool quit = false; /* set by "shutdown", on this thread (ctl_server_poll) */
	char err[512], runtime_dir[PATH_MAX];
	char **eal_argv, **argv_copy;
	int eal_argc, rc, status = EXIT_SYSTEM;

	if (conf->dataplane.n_ports == 0) {
		fprintf(stderr, "%s: dataplane.ports: at least one port is needed to run\n",
			conf->file);
		return EXIT_CONFIG;
	}
	if (dp_eal_args(conf, extra_argc, extra_argv, &eal_argc, &eal_argv, err, sizeof(err))) {
		fprintf(stderr, "sluice: %s\n", err);
		return EXIT_CONFIG;
	}
	if (dp_preflight(conf, eal_argc, eal_argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice: %s\n", err);
		goto out_args;
	}
	/* EAL permutes and keeps pointers into argv: hand it a copy we never free early. */
	argv_copy = calloc(eal_argc + 1, sizeof(char *));
	if (argv_copy == NULL) {
		fprintf(stderr, "sluice: out of memory\n");
		goto out_args;
	}
	memcpy(argv_copy, eal_argv, eal_argc * sizeof(char *));
	if (rte_eal_init(eal_argc, argv_copy) < 0) {
		fprintf(stderr, "sluice: DPDK EAL initialisation failed: %s (EAL arguments:",
			rte_strerror(rte_errno));
		for (int i = 1; i < eal_argc; i++)
			fprintf(stderr, " %s", eal_argv[i]);
		fprintf(stderr, ")\n");
		goto out_copy;
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	if (met_log_init(conf->control.log_level) < 0)
		fprintf(stderr, "sluice: cannot register log types, logging as user1\n");
	rc = dp_init(&dp, conf, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "sluice: %s\n", err);
		goto out_eal;
	}
	/* From here on log to stderr, as the contract says (EAL's default is stdout and syslog).
	 * Not earlier: a refusal at start stays one line on stderr, EAL's noise on stdout. */
	rte_openlog_stream(stderr);
	snap = dp_snapshot_new(&dp, conf, NULL, 1);
	if (snap == NULL) {
		fprintf(stderr, "sluice: out of memory\n");
		goto out_dp;
	}
	env.hc = hc_new(NULL, &dp);
	if (env.hc == NULL) {
		fprintf(stderr, "sluice: out of memory\n");
		dp_snapshot_free(snap);
		goto out_dp;
	}
	hc_sync(env.hc, &dp, snap, hc_mono_ms()); /* every endpoint starts as HAProxy's do */
	dp_publish(&dp, snap);

	env.dp = &dp;
	env.conf = conf;
	env.start_time = (uint64_t)time(NULL);
	env.quit = &quit;
	env.shutdown_grace_ms = CTL_SHUTDOWN_GRACE_MS;
	srv = ctl_server_open(conf->control.socket, &env, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "sluice: control socket %s: %s\n", conf->control.socket, err);
		goto out_snap;
	}
	if (conf->control.metrics != NULL && conf->control.metrics[0] != '\0') {
		met = met_prom_open(conf->control.metrics, &env, err, sizeof(err));
		if (met == NULL) {
			fprintf(stderr, "sluice: control.metrics %s: %s\n", conf->control.metrics,
				err);
			goto out_srv;
		}
	}
	alog = met_alog_open(&dp, conf->control.access_log, err, sizeof(err));
	if (alog == NULL) {
		fprintf(stderr, "sluice: control.access_log: %s\n", err);
		goto out_met;
	}
	env.alog = alog;
	/* Not fatal: telemetry may be off (--no-telemetry) and sluice works without it. */
	if (met_telemetry_register(&dp, env.start_time) < 0)
		MET_LOG(WARNING, "sluice: telemetry commands /sluice/* not registered");
	rc = dp_start(&dp);
	if (rc != 0) {
		fprintf(stderr, "sluice: cannot launch workers: %s\n", rte_strerror(-rc));
		quit = true;
	} else {
		MET_LOG(INFO, "sluice: running: %u worker(s), %u port(s), control socket %s",
			dp.n_workers, dp.n_ports, conf->control.socket);
	}
	for (;;) {
		/* Graceful shutdown: stop accepting, then wait for the requests in flight, at most
		 * the grace period (a later "shutdown GRACE_MS" may change it). */
		if ((quit || sig_stop) && stopping_ms == 0 && rc == 0) {
			MET_LOG(INFO, "sluice: shutting down (grace period %" PRIu32 " ms)",
				env.shutdown_grace_ms);
			dp_drain(&dp);
			stopping_ms = mono_ms();
		}
		if (rc != 0 || (stopping_ms != 0 && dp_drained(&dp, NULL)))
			break;
		if (stopping_ms != 0 && mono_ms() - stopping_ms >= env.shutdown_grace_ms) {
			dp_drained(&dp, &left);
			MET_LOG(WARNING, "sluice: grace period over, %" PRIu32 " session(s) cut",
				left);
			break;
		}
		/* One loop for every socket and the access log: with metrics or the access log
		 * on, or while stopping, a 10 ms tick bounds a scrape's wait and a ring's fill. */
		ctl_server_poll(srv, met != NULL || met_alog_active(alog) || stopping_ms ||
						     hc_wanted(env.conf)
					     ? 10
					     : 100);
		met_prom_poll(met, 0);
		met_alog_poll(alog);
		if (sig_reload) {
			sig_reload = 0;
			reload(&env);
			met_alog_reopen(alog, env.conf->control.access_log); /* logrotate */
		}
		ctl_tick(&env);
	}
	if (rc == 0)
		status = 0;
	met_alog_poll(alog);
	met_alog_close(alog);
	met_telemetry_detach();
out_met:
	met_prom_close(met);
out_srv:
	ctl_server_close(srv);
out_snap:
	dp_stop(&dp); /* workers first: nothing reads the snapshot after this */
	snap = dp_publish(&dp, NULL);
	if (snap != NULL && snap->conf != conf)
		cfg_free((struct dp_conf *)snap->conf);
	dp_snapshot_free(snap);
	hc_free(env.hc); /* after the workers: no probe is out any more */
	dp_objs_free(&dp);
	goto out_eal;
out_dp:
	dp_stop(&dp);
	dp_objs_free(&dp); /* what a failed dp_snapshot_new created */
out_eal:
	rte_eal_cleanup();
	remove_runtime_dir(runtime_dir);
out_copy:
	free(argv_copy);
out_args:
	dp_eal_args_free(eal_argc, eal_argv);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cfg_errors errs = { 0 };
	const char *file = NULL;
	bool check = false;
	struct dp_conf *conf;
	struct sigaction sa = { 0 };
	int own_argc = argc, opt, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			own_argc = i;
			break;
		}
	}
	while ((opt = getopt_long(own_argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'v':
			printf("sluice %s\n", SLUICE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (file == NULL || optind != own_argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	conf = cfg_load(file, &errs);
	if (conf == NULL) {
		print_errors(&errs);
		cfg_errors_free(&errs);
		return EXIT_CONFIG;
	}
	if (check) {
		cfg_free(conf);
		return 0;
	}
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = run(conf, argc - own_argc - (own_argc < argc), argv + own_argc + (own_argc < argc));
	cfg_free(conf);
	return rc;
}
