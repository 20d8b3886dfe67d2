/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: frames fed to one tcpstack instance (Ethernet -> net_rx -> IPv4 ->
 * tcp_input), with a listener on port 80, active opens and the user's actions in between.
 *
 * Each input is a script run against a fresh stack (fresh TCB pool and connection table, one
 * mbuf pool for the whole process, a fake clock). At its end every connection the user holds is
 * aborted, the clock runs until every orphan is gone (retransmissions give up, FIN_WAIT_2 and
 * TIME_WAIT expire, ARP gives up), and then the stack must be back to its baseline: no TCB,
 * no SYN_RCVD or TIME_WAIT gauge, no armed timer, no out-of-order mbuf, every mbuf back in the
 * pool. Anything else aborts (a leak is a crash here). On the way, the tcp.h callback
 * contract is checked (no callback after on_closed or after the user closed, no data after
 * on_peer_fin, sane mbuf chains) and every TCP frame the stack sends must carry correct
 * IPv4 and TCP checksums.
 *
 * Input: byte 0 configuration flags (bit 0 no timestamps, 1 no SACK, 2 keepalive, 3 no SYN
 * cookies, 4 MSS 536), then records, each an op byte (low 3 bits op, high 5 bits arg):
 *   0 RAW    u16 length (11 bits), that many bytes: one Ethernet frame as is; arg bit 0 fixes
 *            the IPv4 and TCP checksums, bits 1-2 split it over 1-4 mbufs, bit 3 marks the
 *            checksums verified by the NIC (ol_flags)
 *   1,5-7 SEG  12 bytes: a TCP segment from a peer, seq and ack relative to what the flow
 *            expects (so handshakes and data get through), see seg_record()
 *   2 TIME   advance the clock (arg+1)^2 * 10 ms, timers run every 10 ms
 *   3 USER   1 byte: connection index (low 4 bits), action (high 4 bits) with arg
 *   4 OPEN   tcp_connect to a peer's port 8080 (arg: peer and local port)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "net.h"
#include "tcp.h"
#include "tcp_isn.h"

#define FZ_CHECK(cond)                                                                       \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

#define HZ 1000000000ull
#define MS (HZ / 1000)
#define T0 (10 * HZ)
#define POOL_SIZE 2047
#define MAX_USERS 32
#define MAX_HELD 8
#define MAX_FLOWS 32
#define MAX_RECORDS 256
#define LPORT 80
#define PEER_PORT 8080 /* where active opens go */

static const struct rte_ether_addr local_mac = { { 0x02, 0, 0, 0, 0, 0x0a } };
static const struct rte_ether_addr peer_mac = { { 0x02, 0, 0, 0, 0, 0x02 } };

struct user {
	struct tcp_conn *c;
	bool live; /* given to the user and not ended */
	bool peer_fin;
	bool hold;
	unsigned int n_held;
	struct rte_mbuf *held[MAX_HELD];
	uint32_t held_bytes;
};

/* The peer's view of one 4-tuple: what it sent and what the stack sent last. */
struct flow {
	bool used;
	uint32_t raddr; /* network order */
	uint16_t rport, lport;
	uint32_t peer_nxt;  /* next sequence number the peer would send */
	uint32_t stack_nxt; /* end of the stack's newest segment */
	uint32_t stack_tsval;
	bool known_stack;
};

static struct fz {
	struct rte_mempool *pool;
	struct net_stack ns;
	struct tcp_stack ts;
	struct tcp_secret secret;
	struct user users[MAX_USERS];
	struct flow flows[MAX_FLOWS];
	uint16_t ip_id;
	uint32_t pattern;
} fz;

/* 198.18.0.host in host order (RTE_IPV4 shifts an int: 198 << 24 is undefined) */
static uint32_t net_host(uint8_t host)
{
	return (uint32_t)198 << 24 | (uint32_t)18 << 16 | host;
}

static uint32_t peer_addr(unsigned int i)
{
	return rte_cpu_to_be_32(net_host((uint8_t)(2 + (i & 3))));
}

static uint32_t local_addr(void)
{
	return rte_cpu_to_be_32(net_host(10));
}

static void refresh_arp(void)
{
	for (unsigned int i = 0; i < 4; i++)
		arp_learn(&fz.ns, peer_addr(i), &peer_mac, 0);
}

static struct flow *flow_get(uint32_t raddr, uint16_t rport, uint16_t lport, bool create)
{
	struct flow *free_slot = NULL;

	for (unsigned int i = 0; i < MAX_FLOWS; i++) {
		struct flow *f = &fz.flows[i];

		if (f->used && f->raddr == raddr && f->rport == rport && f->lport == lport)
			return f;
		if (!f->used && free_slot == NULL)
			free_slot = f;
	}
	if (!create)
		return NULL;
	if (free_slot == NULL)
		free_slot = &fz.flows[(rport ^ lport) % MAX_FLOWS];
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->raddr = raddr;
	free_slot->rport = rport;
	free_slot->lport = lport;
	free_slot->peer_nxt = 1000;
	return free_slot;
}

/* ---- the stack's output ---- */

static uint16_t cksum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t cksum_add(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

/* RFC 1071 over the pseudo header and the segment: 0xffff when the stored checksum is right. */
static uint16_t tcp_sum(const uint8_t *ip, const uint8_t *tcp, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return cksum_fold(cksum_add(tcp, len, cksum_add(ph, sizeof(ph), 0)));
}

static void on_tx(struct net_stack *ns, uint16_t port, struct rte_mbuf *m)
{
	static uint8_t buf[RTE_MBUF_DEFAULT_BUF_SIZE * 8];
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *p, *ip, *th;
	uint32_t ihl, tlen, seq, end, daddr;
	struct flow *f;
	uint8_t flags;

	(void)ns;
	(void)port;
	FZ_CHECK(rte_mbuf_check(m, 1, NULL) == 0);
	FZ_CHECK(len <= sizeof(buf));
	p = rte_pktmbuf_read(m, 0, len, buf);
	FZ_CHECK(p != NULL);
	if (len < 14 + 20 + 20 || p[12] != 0x08 || p[13] != 0x00 || p[14 + 9] != IPPROTO_TCP) {
		rte_pktmbuf_free(m);
		return;
	}
	ip = p + 14;
	ihl = (ip[0] & 0xf) * 4u;
	tlen = (uint32_t)(ip[2] << 8 | ip[3]);
	FZ_CHECK(ihl >= 20 && tlen >= ihl + 20 && 14 + tlen <= len);
	FZ_CHECK(cksum_fold(cksum_add(ip, ihl, 0)) == 0xffff); /* IPv4 header checksum */
	th = ip + ihl;
	FZ_CHECK(tcp_sum(ip, th, tlen - ihl) == 0xffff); /* TCP checksum */
	flags = th[13];
	seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 | th[7];
	end = seq + (tlen - ihl - (th[12] >> 4) * 4u) + !!(flags & RTE_TCP_SYN_FLAG) +
	      !!(flags & RTE_TCP_FIN_FLAG);
	memcpy(&daddr, ip + 16, 4);
	f = flow_get(daddr, (uint16_t)(th[2] << 8 | th[3]), (uint16_t)(th[0] << 8 | th[1]), true);
	if (!f->known_stack || (int32_t)(end - f->stack_nxt) > 0 || (flags & RTE_TCP_SYN_FLAG))
		f->stack_nxt = end;
	f->known_stack = true;
	/* the newest TSval, for the peer's TSecr */
	for (uint32_t o = 20; o < (th[12] >> 4) * 4u;) {
		uint8_t kind = th[o], olen = kind <= 1 ? 1 : th[o + 1];

		if (kind == 0 || olen == 0)
			break;
		if (kind == 8 && olen == 10)
			f->stack_tsval = (uint32_t)th[o + 2] << 24 | (uint32_t)th[o + 3] << 16 |
					 (uint32_t)th[o + 4] << 8 | th[o + 5];
		o += olen;
	}
	rte_pktmbuf_free(m);
}

static void ip_deliver(struct net_stack *ns, struct rte_mbuf *m, uint16_t ifindex)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);

	(void)ns;
	(void)ifindex;
	if (ip->next_proto_id != IPPROTO_TCP) {
		rte_pktmbuf_free(m);
		return;
	}
	tcp_input(&fz.ts, m);
}

/* ---- the user (tcp.h callbacks) ---- */

static struct user *user_of(struct tcp_conn *c)
{
	struct user *u = tcp_conn_user(c);

	FZ_CHECK(u >= fz.users && u < fz.users + MAX_USERS);
	FZ_CHECK(u->c == c && u->live); /* never a callback after on_closed or tcp_close */
	return u;
}

static void *cb_accept(struct tcp_conn *c, void *listen_user)
{
	FZ_CHECK(listen_user == &fz);
	FZ_CHECK(tcp_conn_state(c) == TCP_ESTABLISHED);
	for (unsigned int i = 0; i < MAX_USERS; i++) {
		struct user *u = &fz.users[i];

		if (!u->live && u->c == NULL) {
			memset(u, 0, sizeof(*u));
			u->c = c;
			u->live = true;
			return u;
		}
	}
	return NULL; /* refused: the stack resets it */
}

static void cb_connected(struct tcp_conn *c)
{
	user_of(c);
}

static void cb_data(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct user *u = user_of(c);
	uint32_t len = rte_pktmbuf_pkt_len(m);

	FZ_CHECK(!u->peer_fin);
	FZ_CHECK(len > 0 && rte_mbuf_check(m, 1, NULL) == 0);
	if (u->hold && u->n_held < MAX_HELD) {
		u->held[u->n_held++] = m;
		u->held_bytes += len;
		return;
	}
	rte_pktmbuf_free(m);
	tcp_recved(c, len);
}

static void cb_writable(struct tcp_conn *c)
{
	user_of(c);
}

static void cb_peer_fin(struct tcp_conn *c)
{
	struct user *u = user_of(c);

	FZ_CHECK(!u->peer_fin);
	u->peer_fin = true;
}

static void release_held(struct user *u, bool recved)
{
	for (unsigned int i = 0; i < u->n_held; i++)
		rte_pktmbuf_free(u->held[i]);
	if (recved && u->held_bytes)
		tcp_recved(u->c, u->held_bytes);
	u->n_held = 0;
	u->held_bytes = 0;
}

static void cb_closed(struct tcp_conn *c, enum tcp_close_reason r)
{
	struct user *u = user_of(c);

	FZ_CHECK(r <= TCP_CLOSE_ABORTED);
	release_held(u, false);
	u->live = false;
	u->c = NULL;
}

static const struct tcp_ops ops = {
	cb_accept, cb_connected, cb_data, cb_writable, cb_peer_fin, cb_closed,
};

/* ---- frames ---- */

static struct rte_mbuf *frame_mbuf(const uint8_t *f, size_t len, unsigned int nsegs)
{
	struct rte_mbuf *head = NULL;
	size_t off = 0, per;

	if (nsegs < (len + 2047) / 2048)
		nsegs = (unsigned int)((len + 2047) / 2048); /* what one mbuf holds */
	per = nsegs > 1 ? (len + nsegs - 1) / nsegs : len;

	for (unsigned int i = 0; i < nsegs && (off < len || head == NULL); i++) {
		size_t n = i + 1 == nsegs ? len - off : (per < len - off ? per : len - off);
		struct rte_mbuf *m = rte_pktmbuf_alloc(fz.pool);
		char *p;

		FZ_CHECK(m != NULL);
		p = rte_pktmbuf_append(m, (uint16_t)n);
		FZ_CHECK(p != NULL || n == 0);
		if (n > 0)
			memcpy(p, f + off, n);
		off += n;
		if (head == NULL)
			head = m;
		else
			FZ_CHECK(rte_pktmbuf_chain(head, m) == 0);
	}
	head->port = 0;
	return head;
}

/* Store correct IPv4 and TCP checksums in an Ethernet frame holding IPv4/TCP. */
static void fix_cksums(uint8_t *f, size_t len)
{
	uint8_t *ip = f + 14, *th;
	uint32_t ihl, tlen;
	uint16_t s;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return;
	ihl = (ip[0] & 0xf) * 4u;
	if (ihl < 20 || 14 + ihl > len)
		return;
	ip[10] = ip[11] = 0;
	s = (uint16_t)~cksum_fold(cksum_add(ip, ihl, 0));
	ip[10] = (uint8_t)(s >> 8);
	ip[11] = (uint8_t)s;
	tlen = (uint32_t)(ip[2] << 8 | ip[3]);
	if (ip[9] != IPPROTO_TCP || tlen < ihl + 20 || 14 + tlen > len)
		return;
	th = ip + ihl;
	th[16] = th[17] = 0;
	s = (uint16_t)~tcp_sum(ip, th, tlen - ihl);
	th[16] = (uint8_t)(s >> 8);
	th[17] = (uint8_t)s;
}

static void rx(uint8_t *f, size_t len, unsigned int nsegs, bool hw_cksum)
{
	struct rte_mbuf *m = frame_mbuf(f, len, nsegs);

	if (hw_cksum)
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	net_rx(&fz.ns, m);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A segment from a peer. r[0] TCP flags; r[1] bits 0-1 peer, 2-3 its port, 4-5 which local
 * port (0: the listener, 1: the active open of that index, 2: a closed port, 3: the
 * listener from port 8080), bit 6 a bad TCP checksum, bit 7 the usual options (MSS, window
 * scale, SACK-permitted and timestamps on SYN, timestamps otherwise); r[2..3] seq delta and
 * r[4..5] ack delta (int16) from what the flow expects; r[6..7] window; r[8] payload length
 * / 4; r[9] raw option bytes that follow in the input (up to what fits); r[10] TSval step;
 * r[11] bit 0 DF, bit 1 MF, bit 2 to another address, bits 3-4 mbufs - 1, bit 5 NIC
 * checksum flags. Returns the input bytes used. */
static size_t seg_record(const uint8_t *r, size_t avail)
{
	static uint8_t f[14 + 60 + 60 + 1024];
	uint8_t flags = r[0] & 0x3f, *ip = f + 14, *th, *o;
	unsigned int peer = r[1] & 3, sel = (r[1] >> 4) & 3;
	uint16_t rport = (uint16_t)(40000 + ((r[1] >> 2) & 3)), lport = LPORT;
	int16_t dseq = (int16_t)(r[2] << 8 | r[3]), dack = (int16_t)(r[4] << 8 | r[5]);
	uint32_t plen = r[8] * 4u, raw = r[9] % 41, optlen = 0, seq, tlen;
	size_t used = 12;
	struct flow *fl;

	if (sel == 1) {
		rport = PEER_PORT;
		lport = (uint16_t)(50000 + ((r[1] >> 2) & 3));
	} else if (sel == 2) {
		lport = 81;
	} else if (sel == 3) {
		rport = PEER_PORT;
	}
	fl = flow_get(peer_addr(peer), rport, lport, true);
	if (flags & RTE_TCP_SYN_FLAG && !(flags & RTE_TCP_ACK_FLAG))
		fl->peer_nxt = 1000 + (uint32_t)(r[10] << 8); /* a new connection */
	seq = fl->peer_nxt + (uint32_t)(int32_t)dseq;

	memcpy(f, &local_mac, 6);
	memcpy(f + 6, &peer_mac, 6);
	put16(f + 12, 0x0800);
	th = ip + 20;
	o = th + 20;
	if (r[1] & 0x80) {
		uint32_t tsval = (uint32_t)(fz.ns.now / MS) + r[10];

		if (flags & RTE_TCP_SYN_FLAG) {
			memcpy(o, "\x02\x04\x05\xb4\x01\x03\x03\x07\x04\x02", 10);
			optlen = 10;
		} else {
			memcpy(o, "\x01\x01", 2);
			optlen = 2;
		}
		o[optlen] = 8;
		o[optlen + 1] = 10;
		put32(o + optlen + 2, tsval);
		put32(o + optlen + 6, fl->stack_tsval);
		optlen += 10;
	}
	if (raw > avail - used)
		raw = (uint32_t)(avail - used);
	if (raw > 40 - optlen)
		raw = 40 - optlen;
	memcpy(o + optlen, r + used, raw);
	used += raw;
	optlen += raw;
	while (optlen % 4)
		o[optlen++] = 0; /* EOL padding */
	for (uint32_t i = 0; i < plen; i++)
		th[20 + optlen + i] = (uint8_t)(fz.pattern++ * 7);
	tlen = 20 + 20 + optlen + plen;

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)tlen);
	put16(ip + 4, fz.ip_id++);
	put16(ip + 6, (uint16_t)(((r[11] & 1) ? 0x4000 : 0) | ((r[11] & 2) ? 0x2000 : 0)));
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &fl->raddr, 4);
	if (r[11] & 4)
		put32(ip + 16, net_host(11));
	else
		memcpy(ip + 16, (uint32_t[]){ local_addr() }, 4);
	put16(th, rport);
	put16(th + 2, lport);
	put32(th + 4, seq);
	put32(th + 8, (flags & RTE_TCP_ACK_FLAG) ? fl->stack_nxt + (uint32_t)(int32_t)dack : 0);
	th[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	th[13] = flags;
	put16(th + 14, (uint16_t)(r[6] << 8 | r[7]));
	th[18] = th[19] = 0;
	fix_cksums(f, 14 + tlen);
	if (r[1] & 0x40)
		th[17] ^= 0x5a;
	/* what the peer has sent so far (a retransmission does not move it back) */
	if ((int32_t)(seq + plen + !!(flags & RTE_TCP_SYN_FLAG) + !!(flags & RTE_TCP_FIN_FLAG) -
		      fl->peer_nxt) > 0)
		fl->peer_nxt =
			seq + plen + !!(flags & RTE_TCP_SYN_FLAG) + !!(flags & RTE_TCP_FIN_FLAG);
	rx(f, 14 + tlen, 1 + ((r[11] >> 3) & 3), r[11] & 0x20);
	return used;
}

static void advance(uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 10) {
		fz.ns.now += 10 * MS;
		refresh_arp();
		tcp_timers(&fz.ts);
		net_timer(&fz.ns);
	}
}

static struct rte_mbuf *data_mbuf(uint32_t len, unsigned int nsegs)
{
	static uint8_t buf[4096];

	if (len > sizeof(buf))
		len = sizeof(buf);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(fz.pattern++ * 13);
	return frame_mbuf(buf, len, nsegs);
}

static void user_record(uint8_t arg, uint8_t b)
{
	struct user *u = &fz.users[(b & 0xf) % MAX_USERS];

	if (!u->live)
		return;
	switch (b >> 4) {
	case 0:
	case 1:
		if (tcp_send_space(u->c) > 0)
			tcp_send(u->c, data_mbuf(arg * 128u + 1, 1 + (b >> 4)));
		break;
	case 2:
		tcp_shutdown(u->c);
		break;
	case 3:
		release_held(u, false);
		tcp_close(u->c);
		u->live = false;
		u->c = NULL;
		break;
	case 4:
		release_held(u, false);
		tcp_abort(u->c);
		u->live = false;
		u->c = NULL;
		break;
	case 5:
		u->hold = !u->hold;
		break;
	case 6:
		release_held(u, true);
		break;
	default: {
		struct tcp_conn_info info;

		tcp_conn_info(u->c, &info);
		FZ_CHECK(info.state > TCP_LISTEN && info.state < TCP_STATE_MAX);
		FZ_CHECK(info.rcv_held >= u->held_bytes);
		break;
	}
	}
}

static void open_record(uint8_t arg)
{
	struct user *u = NULL;

	for (unsigned int i = 0; i < MAX_USERS && u == NULL; i++)
		if (!fz.users[i].live && fz.users[i].c == NULL)
			u = &fz.users[i];
	if (u == NULL)
		return;
	memset(u, 0, sizeof(*u));
	u->live = true;
	u->c = tcp_connect(&fz.ts, 0, (uint16_t)(50000 + ((arg >> 2) & 3)), peer_addr(arg & 3),
			   PEER_PORT, &ops, u);
	if (u->c == NULL)
		u->live = false;
}

/* ---- set-up, script, tear-down ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = { (*argv)[0],
			"--no-huge",
			"-m",
			"128",
			"--no-pci",
			"--no-shconf",
			"--no-telemetry",
			prefix,
			"--log-level=*:error",
			"-l",
			"0",
			NULL };

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=sluice-fuzz-%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "tcp_fuzz: EAL init failed: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	fz.pool = rte_pktmbuf_pool_create("tcp_fuzz", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  SOCKET_ID_ANY);
	if (fz.pool == NULL) {
		fprintf(stderr, "tcp_fuzz: mbuf pool: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	fz.secret.k0 = 0x0123456789abcdefull;
	fz.secret.k1 = 0xfedcba9876543210ull;
	return 0;
}

static void start(uint8_t cfg)
{
	struct net_hooks hooks = { .tx = on_tx, .ip_deliver = ip_deliver };
	struct tcp_conf conf = {
		.max_connections = 16,
		.syn_backlog = 4,
		.rto_min_ms = 200,
		.rto_max_ms = 2000,
		.rto_initial_ms = 1000,
		.max_retries = 3,
		.syn_retries = 2,
		.time_wait_ms = 1000,
		.fin_wait_2_ms = 2000,
		.delayed_ack_ms = 40,
		.rcv_buf = 8192,
		.snd_buf = 8192,
		.ooo_max_segments = 8,
		.ooo_max_mbufs = 32,
		.challenge_ack_per_s = 10,
		.rst_per_s = 100,
		.socket_id = SOCKET_ID_ANY,
	};
	struct net_if ifp = {
		.port_id = 0,
		.mtu = 1500,
		.mac = local_mac,
		.addr = local_addr(),
		.mask = rte_cpu_to_be_32(0xffffff00u),
		.gateway = rte_cpu_to_be_32(net_host(1)),
	};

	conf.no_timestamps = cfg & 1;
	conf.no_sack = (cfg >> 1) & 1;
	if (cfg & 4) {
		conf.keepalive_idle_ms = 1000;
		conf.keepalive_intvl_ms = 500;
		conf.keepalive_probes = 2;
	}
	conf.no_syn_cookies = (cfg >> 3) & 1;
	if (cfg & 16)
		conf.mss = 536;
	memset(&fz.ns, 0, sizeof(fz.ns));
	memset(&fz.ts, 0, sizeof(fz.ts));
	memset(fz.users, 0, sizeof(fz.users));
	memset(fz.flows, 0, sizeof(fz.flows));
	fz.ip_id = 1;
	fz.pattern = 0;
	net_stack_init(&fz.ns, fz.pool, &hooks, HZ);
	fz.ns.owner = &fz;
	fz.ns.now = T0;
	FZ_CHECK(net_stack_add_if(&fz.ns, &ifp) == 0);
	refresh_arp();
	FZ_CHECK(tcp_stack_init(&fz.ts, &fz.ns, &conf, &fz.secret) == 0);
	FZ_CHECK(tcp_listen(&fz.ts, 0, LPORT, &ops, &fz) == 0);
}

/* TCP_FUZZ_VERBOSE=1: the counters that moved, to see what a seed reaches. */
static void report(void)
{
	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("TCP_FUZZ_VERBOSE") != NULL;
	if (!verbose)
		return;
	for (int i = 0; i < TCP_CNT_MAX; i++)
		if (fz.ts.cnt[i])
			fprintf(stderr, " %s=%" PRIu64, tcp_counter_names[i], fz.ts.cnt[i]);
	fprintf(stderr, "\n");
}

static void finish(void)
{
	for (unsigned int i = 0; i < MAX_USERS; i++) {
		struct user *u = &fz.users[i];

		if (u->live) {
			release_held(u, false);
			tcp_abort(u->c);
			u->live = false;
			u->c = NULL;
		}
	}
	report();
	/* orphans finish on their own; bounded: 10 minutes of fake time */
	for (int i = 0; i < 60000 && (fz.ts.conns_used > 0 || fz.ns.n_pending > 0); i++)
		advance(10);
	if (fz.ts.conns_used != 0)
		fprintf(stderr, "tcp_fuzz: %u TCBs left after every timer expired\n",
			fz.ts.conns_used);
	FZ_CHECK(fz.ts.conns_used == 0);
	FZ_CHECK(fz.ts.syn_rcvd == 0 && fz.ts.time_wait == 0);
	FZ_CHECK(fz.ts.ooo_mbufs == 0);
	FZ_CHECK(tcp_wheel_armed(&fz.ts.wheel) == 0);
	FZ_CHECK(fz.ns.n_pending == 0);
	if (rte_mempool_in_use_count(fz.pool) != 0)
		fprintf(stderr, "tcp_fuzz: %u mbufs in use with no connection left\n",
			rte_mempool_in_use_count(fz.pool));
	FZ_CHECK(rte_mempool_in_use_count(fz.pool) == 0);
	tcp_stack_fini(&fz.ts);
	net_stack_fini(&fz.ns);
	FZ_CHECK(rte_mempool_in_use_count(fz.pool) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[2048];
	size_t off = 1;
	unsigned int n = 0;

	if (size < 1)
		return 0;
	/* the checksum loop this build uses (add-with-carry on x86-64) and the portable one agree
	 * at every length and alignment of the input */
	for (size_t a = 0; a < 8 && a < size; a++)
		FZ_CHECK(net_cksum(data + a, (uint32_t)(size - a)) ==
			 net_cksum_fold(net_cksum_add_generic(0, data + a, (uint32_t)(size - a))));
	start(data[0]);
	while (off < size && n++ < MAX_RECORDS) {
		uint8_t op = data[off] & 7, arg = data[off] >> 3;
		size_t len;

		off++;
		switch (op) {
		case 0:
			if (size - off < 2) {
				off = size;
				break;
			}
			len = (size_t)((data[off] << 8 | data[off + 1]) & 0x7ff);
			off += 2;
			if (len > size - off)
				len = size - off;
			memcpy(frame, data + off, len);
			off += len;
			if (arg & 1)
				fix_cksums(frame, len);
			if (len > 0)
				rx(frame, len, 1 + ((arg >> 1) & 3), arg & 8);
			break;
		case 2:
			advance((uint64_t)(arg + 1) * (arg + 1) * 10);
			break;
		case 3:
			if (off < size)
				user_record(arg, data[off++]);
			break;
		case 4:
			open_record(arg);
			break;
		default:
			if (size - off < 12) {
				off = size;
				break;
			}
			off += seg_record(data + off, size - off);
			break;
		}
	}
	finish();
	return 0;
}
