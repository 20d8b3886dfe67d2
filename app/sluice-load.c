/* SPDX-License-Identifier: BSD-3-Clause
 * sluice-load: HTTP/1.1 load generator on sluice's userspace TCP stack (load/ld.h). EAL
 * arguments first, then "--" and the generator's own (docs/load-generator.md).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>

#include "ld.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int main(int argc, char **argv)
{
	struct ld_result res;
	struct ld_conf conf;
	char err[256] = "";
	int n, rc;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		ld_opts_usage(stdout, argv[0]);
		return 0;
	}
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "sluice-load: EAL initialisation failed (see above)\n");
		return 2;
	}
	argc -= n;
	argv += n;
	argv[0] = "sluice-load";
	if (ld_opts_parse(&conf, argc, argv, err, sizeof(err)) != 0) {
		if (strcmp(err, "help") == 0) {
			ld_opts_usage(stdout, "sluice-load");
			rte_eal_cleanup();
			return 0;
		}
		fprintf(stderr, "sluice-load: %s\n", err);
		ld_opts_usage(stderr, "sluice-load");
		rte_eal_cleanup();
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = ld_run(&conf, &stop_flag, stdout, &res, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "sluice-load: %s\n", err);
		rte_eal_cleanup();
		return 1;
	}
	ld_report(stdout, &conf, &res);
	fflush(stdout);
	rte_eal_cleanup();
	return 0;
}
