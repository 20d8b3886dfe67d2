/* SPDX-License-Identifier: BSD-3-Clause
 * Which worker owns a TCP segment or an IPv4 fragment (any thread), and the listen ports that
 * decide it. The hand-over to the owner and each worker's TCP stack are dp_tcp.c's.
 *
 * Ownership is a function of the 4-tuple alone, never of the queue a segment arrived on:
 * af_packet spreads flows with the kernel's fanout hash and rolls packets over to another
 * queue when one fills, so the queue is only a hint.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_jhash.h>

#include "dp_types.h"

static inline bool is_listen_port(const struct dp *dp, uint16_t port)
{
	return (dp->listen_ports[port / 64] >> (port % 64)) & 1;
}

void dp_listen_ports_add(struct dp *dp, const struct dp_conf *conf)
{
	for (uint32_t i = 0; i < conf->n_listeners; i++) {
		uint16_t port = (uint16_t)conf->listeners[i].port;

		__atomic_fetch_or(&dp->listen_ports[port / 64], UINT64_C(1) << (port % 64),
				  __ATOMIC_RELEASE);
	}
}

unsigned int dp_tcp_owner(const struct dp *dp, uint32_t saddr, uint32_t daddr, uint16_t sport,
			  uint16_t dport)
{
	if (dp->n_workers == 1)
		return 0;
	if (is_listen_port(dp, dport)) {
		/* symmetric: XOR makes both directions hash alike */
		return rte_jhash_2words(saddr ^ daddr, (uint32_t)(sport ^ dport), 0x5111ce) %
		       dp->n_workers;
	}
	return dport % dp->n_workers;
}

unsigned int dp_frag_owner(const struct dp *dp, uint32_t saddr, uint32_t daddr, uint8_t proto,
			   uint16_t id)
{
	if (dp->n_workers == 1)
		return 0;
	return rte_jhash_3words(saddr, daddr, (uint32_t)proto << 16 | id, 0xf7a9) % dp->n_workers;
}
