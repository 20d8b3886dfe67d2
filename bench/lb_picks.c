/* SPDX-License-Identifier: BSD-3-Clause
 * Instructions per balancer pick, under callgrind (docs/BENCHMARKS.md, "Balancers"):
 *   gcc -O2 -std=gnu11 -Idataplane/lb -Idataplane/objs bench/lb_picks.c dataplane/lb/lb*.c \
 *       -o /tmp/lb_picks
 *   valgrind --tool=callgrind --collect-atstart=no --toggle-collect=bench_loop \
 *       /tmp/lb_picks ALGO N
 * Collected / 100000 = instructions per pick and release (maglev: with the hash of a 4-byte
 * client address, as px_lbkey.c computes it).
 */
#include <stdio.h>
#include <stdlib.h>
#include "lb.h"
#define PICKS 100000
__attribute__((noinline)) void bench_loop(struct lb_state *st, int hashed)
{
	for (uint32_t k = 0; k < PICKS; k++) {
		uint32_t ip = 0xc6120000u + (k & 1023);
		int i = hashed ? lb_pick_hash(st, lb_hash64(&ip, 4, 0x736c756963652d6bull))
			       : lb_pick(st);
		lb_release(st, i);
	}
}
int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	uint32_t n = atoi(argv[2]), w[1024];
	const char *names[1024];
	char buf[1024][16];
	for (uint32_t i = 0; i < n; i++) {
		w[i] = 1;
		snprintf(buf[i], 16, "be%u", i);
		names[i] = buf[i];
	}
	struct lb_state *st = lb_create(lb_find(argv[1]), n, w);
	struct lb_maglev *t = lb_maglev_build(n, names, w, 0);
	st->shared = t;
	bench_loop(st, argv[1][0] == 'm');
	return 0;
}
