/* SPDX-License-Identifier: BSD-3-Clause
 * EAL arguments derived from the configuration, and pre-flight checks that give the operator
 * one clear line instead of EAL's log when something is missing.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp_objs.h"
#include "dp_run.h"
#include "dp_worker.h"

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

static bool is_af_xdp(const char *dev)
{
	return strncmp(dev, "net_af_xdp", 10) == 0 || strncmp(dev, "eth_af_xdp", 10) == 0;
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
		if (is_af_xdp(pc->device)) {
			bool has_sq = vdev_arg(pc->device, "start_queue", qp, sizeof(qp));
			bool has_qc = vdev_arg(pc->device, "queue_count", qp, sizeof(qp));

			if (has_qc && (uint32_t)atoi(qp) != dpc->workers) {
				snprintf(
					err, errlen,
					"port %s: queue_count=%s in \"%s\" differs from "
					"dataplane.workers: %u (leave queue_count out, sluice sets "
					"it)",
					pc->name, qp, pc->device, dpc->workers);
				return -EINVAL;
			}
			if (has_qc)
				add_arg(b, "--vdev=%s%s", pc->device,
					has_sq ? "" : ",start_queue=0");
			else
				add_arg(b, "--vdev=%s%s,queue_count=%u", pc->device,
					has_sq ? "" : ",start_queue=0", dpc->workers);
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

/* RX queues the kernel gives interface ifname (its /sys/class/net/IF/queues/rx-N); 0 when
 * unknown (no sysfs for this network namespace). */
static unsigned int kernel_rx_queues(const char *ifname)
{
	char path[64 + IF_NAMESIZE];
	struct dirent *e;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "rx-", 3) == 0)
			n++;
	closedir(d);
	return n;
}

/* Combined channels of ifname (ETHTOOL_GCHANNELS): what DPDK 22.11's af_xdp PMD takes for
 * the interface's queues. false when the interface has none (a veth has RX and TX channels
 * only) or does not say: the PMD then opens queue 0 only. */
static bool combined_channels(const char *ifname, unsigned int *cur)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	*cur = 1;
	if (fd < 0)
		return false;
	memcpy(ifr.ifr_name, ifname, strnlen(ifname, sizeof(ifr.ifr_name) - 1));
	ifr.ifr_data = (void *)&ch;
	ok = ioctl(fd, SIOCETHTOOL, &ifr) == 0 && ch.max_combined > 0;
	close(fd);
	*cur = ok ? ch.combined_count : 1;
	return ok;
}

/* af_xdp reads queues start_queue .. start_queue + workers - 1 of the interface, and XDP hands
 * the packets of every other queue to the kernel: with too few queues the PMD fails with a
 * line of its own log, with more (from queue 0) some connections silently never reach
 * sluice. */
static int check_xdp_queues(const struct dp_dataplane_conf *dpc, const struct dp_port_conf *pc,
			    const char *ifname, char *err, size_t errlen)
{
	unsigned int nrx = kernel_rx_queues(ifname), start = 0, combined, need;
	char v[32];

	if (vdev_arg(pc->device, "start_queue", v, sizeof(v)))
		start = (unsigned int)atoi(v);
	need = start + dpc->workers;
	if (!combined_channels(ifname, &combined) && need > 1) {
		snprintf(err, errlen,
			 "port %s: interface %s has no combined channels (a veth, or another "
			 "virtual device): DPDK 22.11's af_xdp then opens its queue 0 only, and "
			 "dataplane.workers: %u%s needs %u: use workers: 1, or af_packet",
			 pc->name, ifname, dpc->workers, start > 0 ? " from start_queue" : "",
			 need);
		return -EINVAL;
	}
	if (combined < need) {
		snprintf(err, errlen,
			 "port %s: interface %s has %u combined channel(s); af_xdp on queues "
			 "%u..%u (dataplane.workers: %u) needs %u: ethtool -L %s combined %u",
			 pc->name, ifname, combined, start, need - 1, dpc->workers, need, ifname,
			 need);
		return -EINVAL;
	}
	if (nrx > dpc->workers && start == 0 &&
	    !vdev_arg(pc->device, "queue_count", v, sizeof(v))) {
		snprintf(err, errlen,
			 "port %s: interface %s has %u RX queues but dataplane.workers: %u reads "
			 "%u: packets on the others would never reach sluice. ethtool -L %s "
			 "combined %u (a veth: rx %u tx %u, its peer tx %u), or, when traffic is "
			 "steered to the first %u, say so with queue_count=%u",
			 pc->name, ifname, nrx, dpc->workers, dpc->workers, ifname, dpc->workers,
			 dpc->workers, dpc->workers, dpc->workers, dpc->workers, dpc->workers);
		return -EINVAL;
	}
	return 0;
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
		if (is_af_xdp(pc->device) && check_xdp_queues(dpc, pc, ifname, err, errlen) != 0)
			return -EINVAL;
	}
	return 0;
}
