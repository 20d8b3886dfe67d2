/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tcpstack: Ethernet, ARP, IPv4 and ICMP for one worker.
 *
 * Everything here runs on the worker that owns the struct net_stack passed as the first
 * argument; nothing is shared between workers and nothing blocks. The stack knows nothing of
 * configuration files or HTTP: the dataplane fills in the interfaces and the tx hooks.
 */
#ifndef SLUICE_NET_H
#define SLUICE_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "net_cksum.h"

/* Interfaces of one stack: a port each, or several addresses on one port (a client with many
 * source addresses, such as a load generator). Lookups walk the n_ifs in use. */
#define NET_MAX_IFS 32

/* Per-worker counters of the L2/L3 layers, each one named. A drop always increments exactly
 * one *_drop_* counter. Declared once here; the dataplane's counter registry shows them. */
#define NET_COUNTERS(X)          \
	X(rx_frames)             \
	X(rx_bytes)              \
	X(tx_frames)             \
	X(tx_bytes)              \
	X(eth_drop_short)        \
	X(eth_drop_not_for_us)   \
	X(eth_drop_ethertype)    \
	X(eth_drop_bad_src)      \
	X(arp_rx)                \
	X(arp_drop_short)        \
	X(arp_drop_bad_format)   \
	X(arp_drop_bad_op)       \
	X(arp_drop_not_for_us)   \
	X(arp_drop_bad_sender)   \
	X(arp_requests_answered) \
	X(arp_requests_sent)     \
	X(arp_entries_learnt)    \
	X(arp_entries_expired)   \
	X(arp_drop_table_full)   \
	X(arp_drop_queue_full)   \
	X(arp_drop_unresolved)   \
	X(ip_rx)                 \
	X(ip_drop_short)         \
	X(ip_drop_version)       \
	X(ip_drop_bad_ihl)       \
	X(ip_drop_bad_len)       \
	X(ip_drop_bad_cksum)     \
	X(ip_drop_ttl)           \
	X(ip_drop_fragment)      \
	X(ip_drop_options)       \
	X(ip_drop_bad_src)       \
	X(ip_drop_not_for_us)    \
	X(ip_drop_proto)         \
	X(ip_drop_no_route)      \
	X(icmp_rx)               \
	X(icmp_drop_short)       \
	X(icmp_drop_bad_cksum)   \
	X(icmp_drop_type)        \
	X(icmp_echo_replies)     \
	X(frag_rx)               \
	X(frag_reassembled)      \
	X(frag_drop_table_full)  \
	X(frag_drop_timeout)     \
	X(frag_drop_too_many)    \
	X(frag_drop_bad)         \
	X(frag_drop_budget)      \
	X(frag_tx_datagrams)     \
	X(frag_tx_fragments)     \
	X(ip_drop_df_too_big)    \
	X(tx_drop_no_mbuf)       \
	X(tx_drop_full)          \
	X(tx_linearized)         \
	X(tx_drop_linearize_no_mbuf)

enum net_counter {
#define NET_CNT_ENUM(name) NET_CNT_##name,
	NET_COUNTERS(NET_CNT_ENUM)
#undef NET_CNT_ENUM
		NET_CNT_MAX
};

/* Names of the counters above, indexed by enum net_counter. */
extern const char *const net_counter_names[NET_CNT_MAX];

/* One IPv4 interface: a DPDK port with one address. Filled by the dataplane at start,
 * read-only afterwards. Addresses are in network byte order. */
struct net_if {
	uint16_t port_id;
	uint16_t mtu; /* what we send above it is fragmented; 0: no limit (tests) */
	struct rte_ether_addr mac;
	uint32_t addr;
	uint32_t mask;
	uint32_t gateway;     /* 0: no default route through this interface */
	uint32_t tx_offloads; /* RTE_ETH_TX_OFFLOAD_* the port does for us */
};

/* ARP cache: a small open-addressed table per worker. Sizes are fixed at build time because
 * an appliance talks to a handful of next hops (gateway, backends), not to the Internet. */
#define ARP_TABLE_SIZE 256 /* power of two */
#define ARP_PENDING_MAX 64 /* packets waiting for a resolution, all next hops together */
#define ARP_REACHABLE_S 60 /* after this an entry is stale: still used, refreshed on use */
#define ARP_EXPIRE_S 300   /* after this without confirmation an entry is removed */
#define ARP_RETRY_MS 1000  /* a pending resolution is retried this often ... */
#define ARP_RETRIES 3	   /* ... this many times before its packets are dropped */

struct arp_entry {
	uint32_t ip;	  /* 0 = free slot */
	uint8_t state;	  /* enum arp_state */
	uint8_t retries;  /* requests sent while incomplete */
	uint16_t ifindex; /* interface the neighbour is on */
	struct rte_ether_addr mac;
	uint64_t confirmed; /* TSC of the last reply or request from it */
	uint64_t probed;    /* TSC of the last request we sent for it */
};

enum arp_state {
	ARP_FREE = 0,
	ARP_INCOMPLETE, /* request sent, no answer yet */
	ARP_REACHABLE,
};

struct arp_pending {
	struct rte_mbuf *m; /* IPv4 packet without Ethernet header room filled */
	uint32_t nexthop;
	uint16_t ifindex;
};

/* IPv4 reassembly (net_frag.c), one bounded table per worker built on DPDK's rte_ip_frag.
 * Sizes are fixed when the table is created (net_frag_init); without a table, fragments are
 * dropped as ip_drop_fragment. */
struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;

struct net_frag_conf {
	uint32_t max_datagrams; /* datagrams being reassembled at once, per worker */
	uint32_t max_mbufs;	/* mbufs the table may hold (the memory budget), per worker */
	uint32_t timeout_ms;	/* a datagram not complete after this is dropped */
};

#define NET_FRAG_MAX_DATAGRAMS 512 /* default per worker */
#define NET_FRAG_TIMEOUT_MS 5000   /* default; RFC 1122 suggests 60-120 s, Linux uses 30 s */

struct net_frag {
	struct rte_ip_frag_tbl *tbl; /* NULL: no reassembly */
	struct rte_ip_frag_death_row *dr;
	uint64_t timeout_tsc;
	uint32_t max_datagrams;
	uint32_t max_mbufs;
	uint32_t mbufs;	    /* mbufs the table holds now (dp: rw, ctl: ro relaxed) */
	uint32_t mbufs_hwm; /* highest value of mbufs (dp: rw, ctl: ro relaxed) */
};

struct net_stack;

/* Hooks the layer above provides. tx() takes ownership of m in every case (it frees it when
 * the queue is full and counts that itself). arp_learnt() lets the dataplane tell the other
 * workers about a neighbour this worker has learnt; it may be NULL. */
struct net_hooks {
	void (*tx)(struct net_stack *ns, uint16_t port_id, struct rte_mbuf *m);
	void (*arp_learnt)(struct net_stack *ns, uint32_t ip, const struct rte_ether_addr *mac,
			   uint16_t ifindex);
	/* IPv4 payload of a protocol the stack does not handle itself (TCP until tcpstack's TCP
	 * layer is attached). NULL: dropped as ip_drop_proto. Takes ownership of m; m's data
	 * starts at the IPv4 header. */
	void (*ip_deliver)(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex);
	/* A validated fragment addressed to us, before reassembly: returns true when the hook
	 * took m (handed to the worker that reassembles this datagram, which calls
	 * net_frag_input), false to reassemble here. NULL: always here. */
	bool (*frag_steer)(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex);
};

/* Per-worker stack state. Owned and written by one worker only; control reads the counters. */
struct net_stack {
	uint64_t cnt[NET_CNT_MAX];

	uint64_t now; /* TSC, refreshed by the worker once per loop (tests set it) */
	uint64_t hz;  /* TSC ticks per second */
	uint64_t next_arp_scan;

	struct rte_mempool *pool; /* for frames the stack builds (ARP requests) */
	struct net_hooks hooks;
	void *owner; /* the dataplane worker this stack belongs to */

	uint16_t n_ifs;
	struct net_if ifs[NET_MAX_IFS];

	struct net_frag frag;

	uint32_t arp_scan_pos;
	uint16_t n_pending;
	struct arp_entry arp[ARP_TABLE_SIZE];
	struct arp_pending pending[ARP_PENDING_MAX];
};

/* Initialise ns with no interfaces. Any thread, before the worker starts. */
void net_stack_init(struct net_stack *ns, struct rte_mempool *pool, const struct net_hooks *hooks,
		    uint64_t hz);

/* Release every mbuf the stack still holds (pending ARP queue). Worker, or any thread after
 * the worker stopped. */
void net_stack_fini(struct net_stack *ns);

/* Add an interface; returns its index or -ENOSPC. Before the worker starts. */
int net_stack_add_if(struct net_stack *ns, const struct net_if *ifp);

/* Process one received frame. Takes ownership of m: it is answered (reused for the reply),
 * delivered upward, or dropped and counted. m->port names the receiving port. Worker only. */
void net_rx(struct net_stack *ns, struct rte_mbuf *m);

/* Periodic work (ARP retries and ageing, reassembly timeouts, freeing the fragments dropped
 * since the last call); cheap when nothing is due. Call once per loop. */
void net_timer(struct net_stack *ns);

/* Send an IPv4 packet whose data starts at the IPv4 header (header complete, checksum filled
 * or offloaded). Prepends Ethernet, resolves the next hop (directly connected or gateway),
 * and queues m while ARP resolves. Takes ownership of m in every case; returns 0, or a
 * negative errno when m was dropped (already counted). Worker only. */
int ip4_output(struct net_stack *ns, struct rte_mbuf *m);

/* What ip4_output_nh() keeps between the packets of one sender to one destination (a TCB's):
 * the route, which is fixed once the worker runs (interfaces and gateways do not change then),
 * and the slot of the next hop's ARP entry, a hint checked on every use (an entry moves when
 * one before it in its probe run is removed). All zero: nothing known yet. */
struct net_nh {
	uint8_t known;	  /* ifindex and gw hold the route */
	uint8_t ifindex;  /* interface the route leaves by */
	uint8_t gw;	  /* the next hop is that interface's gateway, else the destination */
	uint8_t arp_slot; /* where the next hop's ARP entry was last found */
};

/* ip4_output() for a sender whose packets all go to one destination address: the route is
 * looked up on the first packet only and kept in *nh, the next hop's ARP entry is found from
 * its slot. The same frames, counters and drops as ip4_output(). Takes ownership of m; returns
 * 0 or a negative errno (dropped, counted). Worker only. */
int ip4_output_nh(struct net_stack *ns, struct rte_mbuf *m, struct net_nh *nh);

/* Record a neighbour learnt by another worker. Does not call hooks.arp_learnt. Worker only. */
void arp_learn(struct net_stack *ns, uint32_t ip, const struct rte_ether_addr *mac,
	       uint16_t ifindex);

/* Create the reassembly table of ns on NUMA socket socket_id (any thread, before the worker
 * starts). Returns 0, -EINVAL for a zero size, or -ENOMEM. net_stack_fini releases it. */
int net_frag_init(struct net_stack *ns, const struct net_frag_conf *conf, int socket_id);

/* Reassemble the fragment m (data at its IPv4 header, validated and trimmed by ip4_input,
 * addressed to interface ifindex): m is held, dropped and counted, or completes a datagram
 * that is then delivered like any packet received whole (ICMP here, the rest to
 * hooks.ip_deliver). Takes ownership of m. Worker only (the one owning ns). */
void net_frag_input(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex);

/* Look up the interface owning local address ip (network order); -1 when none. */
int net_if_by_addr(const struct net_stack *ns, uint32_t ip);

/* Interface whose subnet holds ip, else the first one with a gateway; -1 when none. */
int net_route(const struct net_stack *ns, uint32_t ip, uint32_t *nexthop);

/* Internet checksum helpers (software, net_cksum.h): net_cksum(buf, len) is the
 * ones'-complement sum of buf folded to 16 bits, net_cksum_add() the unfolded 64-bit sum. */

/* The same over len bytes of an mbuf chain from offset off, for segments of any length and
 * alignment (DPDK 22.11's rte_raw_cksum_mbuf, and so rte_ipv4_udptcp_cksum_mbuf, is wrong when
 * a segment starts at an odd offset of the message). Returns 0, or -EINVAL when the range is
 * outside the packet. */
int net_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *sum);

/* Add the unfolded 64-bit sum of the same range to *sum (a pseudo header already in it, say);
 * *sum is unchanged on -EINVAL. */
int net_cksum_mbuf_add(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint64_t *sum);

#endif /* SLUICE_NET_H */
