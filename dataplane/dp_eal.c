/* SPDX-License-Identifier: BSD-3-Clause
 * EAL arguments derived from the configuration, and pre-flight checks that give the operator
 * one clear line instead of EAL's log when something is missing.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane.h"

#define EAL_MAX_ARGS 256

struct argv_builder {
	int argc;
	char **argv;
	bool failed;
};

static void add_arg(struct argv_builder *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (b->argc + 1 >= EAL_MAX_ARGS) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		b->failed = true;
		s = NULL;
	}
	va_end(ap);
	if (s != NULL)
		b->argv[b->argc++] = s;
}

/* Is opt (e.g. "--file-prefix") among args, as "--opt", "--opt=..." or a short option? */
static bool has_opt(int argc, char *const *argv, const char *opt)
{
	size_t n = strlen(opt);

	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], opt, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '='))
			return true;
	return false;
}

/* "0000:03:00.0" or "03:00.0": a PCI address, passed with -a; anything else is a vdev. */
static bool is_pci_address(const char *dev)
{
	unsigned int d, b, s, f;
	char end;

	if (sscanf(dev, "%x:%x:%x.%x%c", &d, &b, &s, &f, &end) == 4)
		return true;
	return sscanf(dev, "%x:%x.%x%c", &b, &s, &f, &end) == 3;
}

/* Value of key= in a vdev argument string, copied to out; false when absent. */
static bool vdev_arg(const char *dev, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = strchr(dev, ',');

	while (p != NULL) {
		p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, ",");

			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
		p = strchr(p, ',');
	}
	return false;
}

static bool is_af_packet(const char *dev)
{
	return strncmp(dev, "net_af_packet", 13) == 0 || strncmp(dev, "eth_af_packet", 13) == 0;
}

/* Control lcore 0 on the first usable CPU; worker i on the CPU after, wrapping round, so
 * workers get CPUs of their own while there are enough and share them otherwise. */
static int add_lcore_map(struct argv_builder *b, unsigned int workers, char *err, size_t errlen)
{
	cpu_set_t set;
	int cpus[CPU_SETSIZE], n = 0;
	char map[1024];
	size_t len = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		snprintf(err, errlen, "cannot read the CPU affinity: %s", strerror(errno));
		return -errno;
	}
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	if (n == 0) {
		snprintf(err, errlen, "no CPU available to this process");
		return -EINVAL;
	}
	len += snprintf(map + len, sizeof(map) - len, "0@%d", cpus[0]);
	for (unsigned int w = 0; w < workers && len < sizeof(map); w++)
		len += snprintf(map + len, sizeof(map) - len, ",%u@%d", w + 1, cpus[(w + 1) % n]);
	add_arg(b, "--lcores=%s", map);
	return 0;
}

static int add_devices(struct argv_builder *b, const struct dp_conf *conf, char *err, size_t errlen)
{
	const struct dp_dataplane_conf *dpc = &conf->dataplane;

	for (uint32_t i = 0; i < dpc->n_ports; i++) {
		const struct dp_port_conf *pc = &dpc->ports[i];
		char qp[32];

		if (is_pci_address(pc->device)) {
			add_arg(b, "-a");
			add_arg(b, "%s", pc->device);
			continue;
		}
		if (is_af_packet(pc->device)) {
			if (vdev_arg(pc->device, "qpairs", qp, sizeof(qp))) {
				if ((uint32_t)atoi(qp) != dpc->workers) {
					snprintf(err, errlen,
						 "port %s: qpairs=%s in \"%s\" differs from "
						 "dataplane.workers: %u (leave qpairs out, sluice "
						 "sets it)",
						 pc->name, qp, pc->device, dpc->workers);
					return -EINVAL;
				}
				add_arg(b, "--vdev=%s", pc->device);
			} else {
				add_arg(b, "--vdev=%s,qpairs=%u", pc->device, dpc->workers);
			}
			continue;
		}
		add_arg(b, "--vdev=%s", pc->device);
	}
	return 0;
}

int dp_eal_args(const struct dp_conf *conf, int extra_argc, char *const *extra_argv, int *out_argc,
		char ***out_argv, char *err, size_t errlen)
{
	const struct dp_dataplane_conf *dpc = &conf->dataplane;
	struct argv_builder b = { 0 };
	char **user;
	int n_user = 0, rc;

	b.argv = calloc(EAL_MAX_ARGS, sizeof(char *));
	user = calloc(dpc->n_eal + extra_argc + 1, sizeof(char *));
	if (b.argv == NULL || user == NULL) {
		free(b.argv);
		free(user);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < dpc->n_eal; i++)
		user[n_user++] = dpc->eal[i];
	for (int i = 0; i < extra_argc; i++)
		user[n_user++] = extra_argv[i];

	add_arg(&b, "sluice");
	for (int i = 0; i < n_user; i++)
		add_arg(&b, "%s", user[i]);

	rc = 0;
	if (!has_opt(n_user, user, "-l") && !has_opt(n_user, user, "-c") &&
	    !has_opt(n_user, user, "--lcores"))
		rc = add_lcore_map(&b, dpc->workers, err, errlen);
	if (rc == 0 && !has_opt(n_user, user, "--file-prefix"))
		add_arg(&b, "--file-prefix=sluice-%d", (int)getpid());
	/* Without hugepages nothing needs sharing with secondary processes: --no-shconf keeps
	 * EAL from leaving megabytes of runtime files behind in /var/run/dpdk. */
	if (rc == 0 && has_opt(n_user, user, "--no-huge") && !has_opt(n_user, user, "--no-shconf"))
		add_arg(&b, "--no-shconf");
	if (rc == 0 && !has_opt(n_user, user, "--log-level"))
		add_arg(&b, "--log-level=lib.eal:error");
	if (rc == 0)
		rc = add_devices(&b, conf, err, errlen);
	free(user);
	if (rc == 0 && b.failed) {
		snprintf(err, errlen, "too many EAL arguments");
		rc = -E2BIG;
	}
	if (rc != 0) {
		dp_eal_args_free(b.argc, b.argv);
		return rc;
	}
	*out_argc = b.argc;
	*out_argv = b.argv;
	return 0;
}

void dp_eal_args_free(int argc, char **argv)
{
	if (argv == NULL)
		return;
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

/* Effective capability set of this process, from /proc (no libcap needed). */
static uint64_t effective_caps(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long caps = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static unsigned long free_hugepages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "HugePages_Free: %lu", &n) == 1)
			break;
	fclose(f);
	return n;
}

int dp_preflight(const struct dp_conf *conf, int eal_argc, char *const *eal_argv, char *err,
		 size_t errlen)
{
	const struct dp_dataplane_conf *dpc = &conf->dataplane;

	/* CAP_NET_ADMIN 12, CAP_NET_RAW 13, CAP_IPC_LOCK 14, CAP_SYS_ADMIN 21 */
	const uint64_t needed = (1ull << 12) | (1ull << 13) | (1ull << 14) | (1ull << 21);

	if (geteuid() != 0 && (effective_caps() & needed) != needed) {
		snprintf(err, errlen,
			 "DPDK needs root, or CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_ADMIN and "
			 "CAP_IPC_LOCK: run it with sudo");
		return -EPERM;
	}
	if (!has_opt(eal_argc, eal_argv, "--no-huge") && free_hugepages() == 0) {
		snprintf(
			err, errlen,
			"no free hugepages: reserve some (echo 512 > /proc/sys/vm/nr_hugepages and "
			"mount -t hugetlbfs none /dev/hugepages) or add \"--no-huge\" to "
			"dataplane.eal");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < dpc->n_ports; i++) {
		const struct dp_port_conf *pc = &dpc->ports[i];
		char ifname[IF_NAMESIZE + 8];

		if (!vdev_arg(pc->device, "iface", ifname, sizeof(ifname)))
			continue;
		if (if_nametoindex(ifname) == 0) {
			snprintf(err, errlen,
				 "port %s: device \"%s\": kernel interface %s does not exist in "
				 "this "
				 "network namespace",
				 pc->name, pc->device, ifname);
			return -ENODEV;
		}
	}
	return 0;
}
