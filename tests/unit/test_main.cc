// SPDX-License-Identifier: BSD-3-Clause
// googletest main shared by the unit suites that need DPDK: initialises EAL once, without
// hugepages or devices, so that mempools and mbufs in the tests are real.
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include <rte_eal.h>
#include <rte_errno.h>

int main(int argc, char **argv)
{
	// gtest first: it removes its own --gtest_* flags from argv.
	testing::InitGoogleTest(&argc, argv);

	// A per-process prefix lets several suites (and several helpers) run at the same time.
	std::vector<std::string> args = {
		argv[0],
		"--no-huge",
		"-m",
		"256",
		"--no-pci",
		"--no-shconf",
		"--file-prefix=sluice-unit-" + std::to_string(getpid()),
		"--log-level=lib.*:error",
		"-l",
		"0",
	};
	std::vector<char *> eal_argv;
	for (auto &a : args)
		eal_argv.push_back(&a[0]);
	eal_argv.push_back(nullptr);

	if (rte_eal_init(static_cast<int>(args.size()), eal_argv.data()) < 0) {
		fprintf(stderr, "%s: EAL init failed: %s\n", argv[0], rte_strerror(rte_errno));
		return 1;
	}
	int rc = RUN_ALL_TESTS();
	rte_eal_cleanup();
	return rc;
}
