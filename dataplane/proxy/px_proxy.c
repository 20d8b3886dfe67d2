/* SPDX-License-Identifier: BSD-3-Clause
 * The reverse proxy: a request routed to a service is forwarded to an endpoint the service's
 * balancer picks, over a pooled upstream connection; the response comes back the same way.
 *
 * Only the header blocks are rebuilt (hop-by-hop fields dropped, X-Forwarded-For,
 * X-Forwarded-Proto and Via added); bodies move by mbuf reference in both directions,
 * framed exactly as received (chunked stays chunked). Backpressure is TCP's own: bytes are
 * taken from one side only while the other side's send queue has room, so a slow reader
 * closes the fast writer's window.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "px_impl.h"

#define PX_IOV_MAX 64
#define PX_DROP_WORDS ((HTTP_MAX_HEADERS + 63) / 64)

/* One head being rebuilt: the head in contiguous memory, the parse that found it (with its
 * header spans), and which of its fields the Connection header names (hop-by-hop too). */
struct px_head {
	const uint8_t *base;
	const struct http_msg *msg;   /* its parse, with the spans of its request's px_req */
	bool named;		      /* some bit of drop is set */
	uint64_t drop[PX_DROP_WORDS]; /* bit i: header i is named by Connection */
};

static bool span_is(const uint8_t *base, struct http_span s, const char *name, size_t len)
{
	return s.len == len && strncasecmp((const char *)base + s.off, name, len) == 0;
}

#define SPAN_IS(base, s, lit) span_is(base, s, lit, sizeof(lit) - 1)

/* Fields sluice itself frames or routes by. A Connection header may not make them hop-by-hop:
 * dropping Content-Length while forwarding the body would let the backend run the body as a
 * request sluice never saw (request smuggling), dropping Host would route it elsewhere, and
 * dropping Expect would leave a client waiting for a 100 Continue. Such a token is ignored,
 * the field kept, as nginx and HAProxy do. Upgrade is decided by the tunnel logic. */
static bool framing_field(const uint8_t *base, struct http_span name)
{
	return SPAN_IS(base, name, "content-length") || SPAN_IS(base, name, "transfer-encoding") ||
	       SPAN_IS(base, name, "host") || SPAN_IS(base, name, "expect") ||
	       SPAN_IS(base, name, "upgrade");
}

/* Mark every field that token t of a Connection header names. */
static void mark_named(struct px_worker *px, struct px_head *h, struct http_span t)
{
	const struct http_msg *m = h->msg;

	if (framing_field(h->base, t)) {
		px->cnt[PX_CNT_conn_token_ignored]++;
		return;
	}
	for (uint32_t j = 0; j < m->n_headers; j++) {
		struct http_name nm = m->headers[j].name;

		if (nm.len == t.len && strncasecmp((const char *)h->base + nm.off,
						   (const char *)h->base + t.off, t.len) == 0) {
			h->drop[j / 64] |= UINT64_C(1) << (j % 64);
			h->named = true;
		}
	}
}

/* Every token of every Connection header, however many (the head limits bound them). */
static void collect_named(struct px_worker *px, struct px_head *h)
{
	const struct http_msg *m = h->msg;

	h->named = false;
	if (!(m->flags & HTTP_F_CONN_OTHER))
		return; /* close, keep-alive and upgrade only: nothing else is named */
	memset(h->drop, 0, sizeof(h->drop));
	for (uint32_t i = 0; i < m->n_headers; i++) {
		const struct http_header *hd = &m->headers[i];
		uint32_t p = hd->value.off, end = hd->value.off + hd->value.len;

		if (hd->name.kind != HTTP_H_CONNECTION)
			continue;
		while (p < end) {
			uint32_t q = p, a, b;

			while (q < end && h->base[q] != ',')
				q++;
			a = p;
			b = q;
			while (a < b && (h->base[a] == ' ' || h->base[a] == '\t'))
				a++;
			while (b > a && (h->base[b - 1] == ' ' || h->base[b - 1] == '\t'))
				b--;
			if (b > a)
				mark_named(px, h, (struct http_span){ a, b - a });
			p = q + 1;
		}
	}
}

/* The kind of field the head builders treat apart is the one the parser told by its name
 * (struct http_name.kind), for both heads: no name is compared again here. */
static inline enum http_hdr_kind hdr_kind(const struct http_header *hd)
{
	return (enum http_hdr_kind)hd->name.kind;
}

/* Fields that concern one connection only (RFC 9110 7.6.1), and those Connection names;
 * field i of kind k. */
static bool hop_by_hop(const struct px_head *h, uint32_t i, enum http_hdr_kind k, bool keep_upgrade)
{
	if (k >= HTTP_H_CONNECTION && k <= HTTP_H_TRAILER)
		return true;
	if (k == HTTP_H_UPGRADE)
		return !keep_upgrade;
	return h->named && (h->drop[i / 64] >> (i % 64)) & 1;
}

/* The complete head m at the front of chain, contiguous in the worker's scratch (or in the
 * mbuf when it lies in one), with the header spans its parse recorded in its request's own
 * array (px_req.hdrs: no other session's parse touches them). Spans count from the head's
 * first byte, so they hold for the copy as they did for the segments m was parsed from.
 * Returns 0 or -EINVAL. */
static int head_load(struct dp_worker *w, struct rte_mbuf *chain, const struct http_msg *m,
		     uint32_t len, struct px_head *h)
{
	struct px_worker *px = &w->px;

	if (len > px->scratch_len || m->headers == NULL)
		return -EINVAL;
	h->base = rte_pktmbuf_read(chain, 0, len, px->scratch);
	if (h->base == NULL)
		return -EINVAL;
	h->msg = m;
	collect_named(px, h);
	return 0;
}

/* Append to a head being built. Inline for the common case, a head that still fits its first
 * segment: the literals' copies then compile to a few moves, and a call with its walk to the
 * last segment is saved (about 40 calls per proxied request: docs/BENCHMARKS.md). */
static inline __attribute__((always_inline)) int put(struct dp_worker *w, struct rte_mbuf *out,
						     const void *p, uint32_t len)
{
	if (likely(out->next == NULL && rte_pktmbuf_tailroom(out) >= len)) {
		memcpy(rte_pktmbuf_mtod_offset(out, uint8_t *, out->data_len), p, len);
		out->data_len = (uint16_t)(out->data_len + len);
		out->pkt_len += len;
		return 0;
	}
	return px_chain_append(w->pool, out, p, len);
}

static int put_span(struct dp_worker *w, struct rte_mbuf *out, const struct px_head *h,
		    struct http_span s)
{
	return put(w, out, h->base + s.off, s.len);
}

/* A run of head bytes [off, end) to be copied as they lie, grown while the fields kept as
 * received follow one another, and written in one copy when something else comes between
 * (one put per run instead of four per field: docs/BENCHMARKS.md, "The proxy path"). */
struct px_run {
	uint32_t off, end;
};

static inline int run_flush(struct dp_worker *w, struct rte_mbuf *out, const struct px_head *h,
			    struct px_run *r)
{
	int rc = 0;

	if (r->end > r->off)
		rc = put(w, out, h->base + r->off, r->end - r->off);
	r->off = r->end;
	return rc;
}

static inline int run_add(struct dp_worker *w, struct rte_mbuf *out, const struct px_head *h,
			  struct px_run *r, uint32_t off, uint32_t end)
{
	int rc = 0;

	if (r->end != off) {
		rc = run_flush(w, out, h, r);
		r->off = off;
	}
	r->end = end;
	return rc;
}

/* Whether field hd's line is byte for byte what put_field writes for it, "name: value\r\n"
 * (the parser allows no space before the colon, and a CR only before LF), so that it may be
 * copied as it lies. */
static inline bool line_as_is(const uint8_t *base, const struct http_header *hd)
{
	uint32_t v = hd->value.off, e = v + hd->value.len;

	return v == hd->name.off + hd->name.len + 2 && base[v - 1] == ' ' && base[e] == '\r' &&
	       base[e + 1] == '\n';
}

/* Whether a Content-Length value is the plain decimal put_field writes for it (the parser made
 * sure it is the message's content_length when it is digits alone). */
static bool cl_as_is(const uint8_t *base, struct http_span v)
{
	if (v.len == 0 || v.len > 19 || (v.len > 1 && base[v.off] == '0'))
		return false;
	for (uint32_t i = 0; i < v.len; i++)
		if (base[v.off + i] < '0' || base[v.off + i] > '9')
			return false;
	return true;
}

/* The decimal text of every octet, NUL-padded to four bytes (one 4-byte copy writes it). */
static const char px_dec_u8[256][4] = {
	"0",   "1",   "2",   "3",   "4",   "5",	  "6",	 "7",	"8",   "9",   "10",  "11",  "12",
	"13",  "14",  "15",  "16",  "17",  "18",  "19",	 "20",	"21",  "22",  "23",  "24",  "25",
	"26",  "27",  "28",  "29",  "30",  "31",  "32",	 "33",	"34",  "35",  "36",  "37",  "38",
	"39",  "40",  "41",  "42",  "43",  "44",  "45",	 "46",	"47",  "48",  "49",  "50",  "51",
	"52",  "53",  "54",  "55",  "56",  "57",  "58",	 "59",	"60",  "61",  "62",  "63",  "64",
	"65",  "66",  "67",  "68",  "69",  "70",  "71",	 "72",	"73",  "74",  "75",  "76",  "77",
	"78",  "79",  "80",  "81",  "82",  "83",  "84",	 "85",	"86",  "87",  "88",  "89",  "90",
	"91",  "92",  "93",  "94",  "95",  "96",  "97",	 "98",	"99",  "100", "101", "102", "103",
	"104", "105", "106", "107", "108", "109", "110", "111", "112", "113", "114", "115", "116",
	"117", "118", "119", "120", "121", "122", "123", "124", "125", "126", "127", "128", "129",
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "140", "141", "142",
	"143", "144", "145", "146", "147", "148", "149", "150", "151", "152", "153", "154", "155",
	"156", "157", "158", "159", "160", "161", "162", "163", "164", "165", "166", "167", "168",
	"169", "170", "171", "172", "173", "174", "175", "176", "177", "178", "179", "180", "181",
	"182", "183", "184", "185", "186", "187", "188", "189", "190", "191", "192", "193", "194",
	"195", "196", "197", "198", "199", "200", "201", "202", "203", "204", "205", "206", "207",
	"208", "209", "210", "211", "212", "213", "214", "215", "216", "217", "218", "219", "220",
	"221", "222", "223", "224", "225", "226", "227", "228", "229", "230", "231", "232", "233",
	"234", "235", "236", "237", "238", "239", "240", "241", "242", "243", "244", "245", "246",
	"247", "248", "249", "250", "251", "252", "253", "254", "255"
};

/* addr (network order) as a dotted quad at p, which has a byte to spare after the end (each
 * octet is written with a 4-byte copy); returns the end. */
static char *put_ip4(char *p, uint32_t addr)
{
	for (unsigned int i = 0; i < 4; i++) {
		unsigned int v = ((const uint8_t *)&addr)[i];

		memcpy(p, px_dec_u8[v], 4);
		p += 1 + (v >= 10) + (v >= 100);
		*p = '.';
		p += i < 3;
	}
	return p;
}

/* One field as it goes on: name and value as received, except Content-Length, sent once with
 * its value in plain decimal (the parser made sure every copy agreed: two lines or "5, 5"
 * become one, so no recipient can pick another). The caller handled the first-copy rule. */
static int put_field(struct dp_worker *w, struct rte_mbuf *out, const struct px_head *h,
		     const struct http_header *hd, enum http_hdr_kind k)
{
	char num[20];
	int rc;

	rc = put_span(w, out, h, http_name_span(hd->name));
	rc |= put(w, out, ": ", 2);
	if (k == HTTP_H_CONTENT_LENGTH)
		rc |= put(w, out, num, (uint32_t)(px_put_u64(num, h->msg->content_length) - num));
	else
		rc |= put_span(w, out, h, hd->value);
	return rc | put(w, out, "\r\n", 2);
}

/* Field hd (of kind k, kept) as it goes on: in the run when its line is as put_field would
 * write it, else written on its own. */
static inline __attribute__((always_inline)) int put_kept(struct dp_worker *w, struct rte_mbuf *out,
							  const struct px_head *h, struct px_run *r,
							  const struct http_header *hd,
							  enum http_hdr_kind k)
{
	if (line_as_is(h->base, hd) && (k != HTTP_H_CONTENT_LENGTH || cl_as_is(h->base, hd->value)))
		return run_add(w, out, h, r, hd->name.off, hd->value.off + hd->value.len + 2);
	return run_flush(w, out, h, r) | put_field(w, out, h, hd, k);
}

/* Host for a request that has none (HTTP/1.0 may omit it; it goes upstream as 1.1, which must
 * have one): the absolute-form authority, else the address and port the client connected to,
 * as the client addressed us. */
static int put_host(struct dp_worker *w, struct rte_mbuf *out, const struct px_head *h,
		    const struct tcp_tuple *t)
{
	char host[INET_ADDRSTRLEN + 7], *p;
	int rc = put(w, out, "Host: ", 6);

	if (h->msg->host.len > 0) {
		rc |= put_span(w, out, h, h->msg->host);
	} else {
		p = put_ip4(host, t->laddr);
		if (t->lport != 80) {
			*p++ = ':';
			p = px_put_u64(p, t->lport);
		}
		rc |= put(w, out, host, (uint32_t)(p - host));
	}
	return rc | put(w, out, "\r\n", 2);
}

/* The request head as it goes upstream: runs of the received head where nothing changes, the
 * request line as HTTP/1.1, hop-by-hop fields dropped, X-Forwarded-For, X-Forwarded-Proto and
 * Via added. */
static struct rte_mbuf *build_request(struct dp_worker *w, struct px_session *s,
				      const struct px_head *h, bool upgrade)
{
	static const char line_11[] = " HTTP/1.1\r\n";
	const struct http_msg *m = h->msg;
	const uint8_t *base = h->base;
	struct rte_mbuf *out = rte_pktmbuf_alloc(w->pool);
	uint32_t me = m->method_s.off + m->method_s.len, te = m->target.off + m->target.len;
	struct px_run r = { 0, 0 };
	struct tcp_tuple t;
	/* the added fields: X-Forwarded-For, X-Forwarded-Proto, Via, Connection, the end */
	char client[INET_ADDRSTRLEN + 1], tail[128], *p = tail;
	uint32_t client_len;
	bool xff = false, cl_seen = false;
	int rc = 0;

	if (out == NULL)
		return NULL;
	tcp_conn_tuple(s->conn, &t);
	client_len = (uint32_t)(put_ip4(client, t.raddr) - client);
	if (m->version == 1 && m->target.off == me + 1 && base[me] == ' ' &&
	    memcmp(base + te, line_11, sizeof(line_11) - 1) == 0) {
		/* the request line as it goes: one run with the fields after it */
		r.off = m->method_s.off;
		r.end = te + (uint32_t)sizeof(line_11) - 1;
	} else {
		rc |= put_span(w, out, h, m->method_s);
		rc |= put(w, out, " ", 1);
		rc |= put_span(w, out, h, m->target);
		rc |= put(w, out, line_11, sizeof(line_11) - 1);
	}
	if (!(m->flags & HTTP_F_HAS_HOST))
		rc |= run_flush(w, out, h, &r) | put_host(w, out, h, &t);
	for (uint32_t i = 0; i < m->n_headers && rc == 0; i++) {
		const struct http_header *hd = &m->headers[i];
		enum http_hdr_kind k = hdr_kind(hd);

		if (hop_by_hop(h, i, k, upgrade) || k == HTTP_H_X_FORWARDED_PROTO)
			continue;
		/* RFC 9110 10.1.1: an HTTP/1.0 client's expectation is ignored, and it may get no
		 * 1xx (15.2), so no backend is asked for one */
		if (m->version == 0 && k == HTTP_H_EXPECT)
			continue;
		if (k == HTTP_H_X_FORWARDED_FOR) {
			/* append the client to the chain of addresses it came through */
			uint32_t v = hd->value.off, e = v + hd->value.len;

			if (v == hd->name.off + hd->name.len + 2 && base[v - 1] == ' ') {
				rc |= run_add(w, out, h, &r, hd->name.off, e);
			} else {
				rc |= run_flush(w, out, h, &r);
				rc |= put_span(w, out, h, http_name_span(hd->name));
				rc |= put(w, out, ": ", 2);
				rc |= put_span(w, out, h, hd->value);
			}
			rc |= run_flush(w, out, h, &r);
			rc |= put(w, out, ", ", 2);
			rc |= put(w, out, client, client_len);
			rc |= put(w, out, "\r\n", 2);
			xff = true;
			continue;
		}
		if (k == HTTP_H_CONTENT_LENGTH) {
			if (cl_seen)
				continue;
			cl_seen = true;
		}
		rc |= put_kept(w, out, h, &r, hd, k);
	}
	rc |= run_flush(w, out, h, &r);
	if (!xff) {
		p = PX_PUT_LIT(p, "X-Forwarded-For: ");
		p = px_put(p, client, client_len);
		p = PX_PUT_LIT(p, "\r\n");
	}
	p = PX_PUT_LIT(p, "X-Forwarded-Proto: http\r\n");
	p = m->version == 0 ? PX_PUT_LIT(p, "Via: 1.0 sluice\r\n")
			    : PX_PUT_LIT(p, "Via: 1.1 sluice\r\n");
	if (upgrade)
		p = PX_PUT_LIT(p, "Connection: upgrade\r\n");
	p = PX_PUT_LIT(p, "\r\n");
	rc |= put(w, out, tail, (uint32_t)(p - tail));
	if (rc != 0) {
		rte_pktmbuf_free(out);
		return NULL;
	}
	return out;
}

/* The response head as it goes to the client: runs of the received head where nothing
 * changes, the status line as HTTP/1.1, hop-by-hop fields dropped, Via added. */
static struct rte_mbuf *build_response(struct dp_worker *w, struct px_session *s,
				       const struct px_head *h, bool upgrade)
{
	const struct http_msg *m = h->msg;
	const uint8_t *base = h->base;
	struct rte_mbuf *out = rte_pktmbuf_alloc(w->pool);
	uint32_t re = m->reason.off + m->reason.len;
	char line[] = "HTTP/1.1 000 ", tail[64], *p = tail;
	struct px_run r = { 0, 0 };
	bool cl_seen = false;
	int rc = 0;

	if (out == NULL)
		return NULL;
	/* the parser took exactly three digits */
	line[9] = (char)('0' + m->status / 100);
	line[10] = (char)('0' + m->status / 10 % 10);
	line[11] = (char)('0' + m->status % 10);
	if (m->reason.off == sizeof(line) - 1 && memcmp(base, line, sizeof(line) - 1) == 0 &&
	    base[re] == '\r' && base[re + 1] == '\n') {
		r.end = re + 2; /* the status line as it goes: one run with the fields after it */
	} else {
		rc |= put(w, out, line, sizeof(line) - 1);
		rc |= put_span(w, out, h, m->reason);
		rc |= put(w, out, "\r\n", 2);
	}
	for (uint32_t i = 0; i < m->n_headers && rc == 0; i++) {
		const struct http_header *hd = &m->headers[i];
		enum http_hdr_kind k = hdr_kind(hd);

		if (hop_by_hop(h, i, k, upgrade))
			continue;
		if (k == HTTP_H_CONTENT_LENGTH) {
			if (cl_seen)
				continue;
			cl_seen = true;
		}
		rc |= put_kept(w, out, h, &r, hd, k);
	}
	rc |= run_flush(w, out, h, &r);
	p = PX_PUT_LIT(p, "Via: 1.1 sluice\r\n");
	if (upgrade)
		p = PX_PUT_LIT(p, "Connection: upgrade\r\n");
	else if (s->close_after)
		p = PX_PUT_LIT(p, "Connection: close\r\n");
	p = PX_PUT_LIT(p, "\r\n");
	rc |= put(w, out, tail, (uint32_t)(p - tail));
	if (rc != 0) {
		rte_pktmbuf_free(out);
		return NULL;
	}
	return out;
}

/* Give up the upstream side of s: the request is over for the balancer, and the connection
 * is closed abortively (it may still carry a response nobody will read). */
void px_proxy_detach(struct dp_worker *w, struct px_session *s)
{
	struct px_upstream *up = s->up;

	if (up == NULL)
		return;
	s->up = NULL;
	px_ep_done(w, up->ep);
	px_upstream_release(w, up, false, false);
}

/* Give up the upstream side of s gracefully: the exchange is over (a tunnel one side ended),
 * so the connection is closed after what is queued on it, never reused. */
void px_proxy_close(struct dp_worker *w, struct px_session *s)
{
	struct px_upstream *up = s->up;

	if (up == NULL)
		return;
	s->up = NULL;
	px_ep_done(w, up->ep);
	px_upstream_release(w, up, true, false);
}

/* Nothing of the response reached the client: the session is to answer status and close
 * after it (px_session_step, PX_UPEV_FAIL). */
static void fail_early(struct dp_worker *w, struct px_session *s, unsigned int status)
{
	s->status = (uint16_t)status;
	px_post_up_ev(&w->px, s, PX_UPEV_FAIL);
}

/* Check the request body bytes already received, before the head goes anywhere: a chunked
 * body over limits.max_body_bytes (or broken) that is all here is refused without bothering
 * an endpoint. Returns 0 or -HTTP_E_*. */
static int body_precheck(const struct px_session *s, uint32_t head_len)
{
	struct http_iov iov[PX_IOV_MAX];
	struct http_body b = s->rq->body;
	unsigned int n;
	int k;

	if (rte_pktmbuf_pkt_len(s->rx) <= head_len)
		return 0;
	n = http_iov_from_mbuf(s->rx, head_len, iov, PX_IOV_MAX);
	k = http_body_skip(&b, iov, n);
	return k < 0 ? k : 0;
}

/* The request body failed (err: -HTTP_E_*, over max_body_bytes, broken framing, cut by the
 * client) after its head went upstream. While nothing of the response has reached the client
 * it is still told why, with err's status; the upstream connection, left with half a request,
 * is aborted. Once a response head went out only aborting both is left (-EPIPE). */
static int body_refused(struct dp_worker *w, struct px_session *s, int err)
{
	int e = -err - HTTP_E_BASE - 1;

	if (s->up != NULL && s->up->head_done) {
		if (e >= 0 && e < PX_ERR_MAX)
			w->px.err[e]++; /* counted like a refusal: it is one, too late to answer */
		return -EPIPE;
	}
	px_proxy_detach(w, s);
	return px_refuse(w, s, err);
}

#define PX_CONN_PICKS 8 /* endpoints tried when the first picks are at max_connections */

/* An endpoint of service svc for the request and a connection to it, *ep set to the
 * endpoint (its active count taken: px_ep_done gives it back). Without max_connections, the
 * balancer's pick and px_upstream_get. With it, an endpoint at its limit (no idle connection
 * here, none free appliance-wide) is passed over for the balancer's next pick, up to
 * PX_CONN_PICKS of them, except for maglev, whose key owns its endpoint. NULL with *ep
 * NULL: no endpoint; with rte_errno EBUSY: every endpoint tried is at its limit (*ep the
 * first); else the connection could not be had (*ep the endpoint, released). */
static struct px_upstream *pick_conn(struct dp_worker *w, struct px_session *s, uint32_t svc,
				     const struct px_head *h, struct dp_endpoint **ep)
{
	const struct dp_snap_svc *ss = &w->px.snap->svcs[svc];
	const struct dp_service_conf *sc = &w->px.snap->conf->services[svc];
	struct dp_endpoint *full[PX_CONN_PICKS];
	uint32_t n_full = 0, tries = 1;
	struct px_upstream *up = NULL;
	int i;

	*ep = NULL;
	if (sc->breaker.max_connections != 0 && sc->balance != DP_BALANCE_MAGLEV)
		tries = RTE_MIN(ss->n_eps, (uint32_t)PX_CONN_PICKS);
	for (uint32_t t = 0; t < tries; t++) {
		i = px_lb_pick(w, s, svc, h->base, h->msg);
		if (i < 0)
			break;
		*ep = ss->eps[i].obj;
		px_ep(w, *ep)->active++;
		if (px_upstream_ready(w, *ep)) {
			up = px_upstream_get(w, *ep);
			if (up != NULL || rte_errno != EBUSY)
				break;
		}
		/* at its limit: held (picked) until the loop ends, so the next pick of a
		 * least_connections or random_two balancer looks elsewhere; counted once per
		 * request (not again while it waits) */
		if (s->state != PX_QUEUED)
			px_ep(w, *ep)->cnt[PX_OBJ_conn_limited]++;
		full[n_full++] = *ep;
		*ep = NULL;
	}
	for (uint32_t k = 0; k < n_full; k++) {
		px_ep_done(w, full[k]);
		if (up == NULL)
			px_upstream_starved(w, full[k]); /* it waits for one of them */
	}
	if (*ep != NULL && up == NULL)
		px_ep_done(w, *ep);
	if (*ep == NULL && n_full > 0) {
		*ep = full[0];
		rte_errno = EBUSY;
	}
	return up;
}

/* The request of s gives back what px_proxy_start took for it before failing: its
 * max_requests slot or trial, and the connection it had (to its pool when it was a pooled
 * one, else closed). */
static void start_undo(struct dp_worker *w, const struct dp_snap_svc *ss, int adm,
		       struct dp_endpoint *ep, struct px_upstream *up)
{
	if (adm == PX_CB_SLOT)
		px_cb_release(w, ss->obj);
	if (adm == PX_CB_TRIAL) /* never tried: the next request is the trial */
		__atomic_store_n(&ss->obj->sh.cb_trial, DP_CB_TRIAL_FREE, __ATOMIC_RELEASE);
	if (up != NULL) {
		px_ep_done(w, ep);
		px_upstream_release(w, up, false, up->state == PX_UP_BUSY);
	}
}

/* px_proxy_start answers the request itself (nothing went upstream): the idle bound governs
 * the answer, as for any request (start_request leaves it to here for a request without a
 * body). */
static int start_answer(struct dp_worker *w, struct px_session *s, unsigned int status)
{
	px_arm_timer(w, &s->timer, s->lst->limits.idle_timeout_ms);
	return px_respond_error(w, s, status);
}

/* The head of hl bytes went into a rebuilt head: off the receive queue. While the request may
 * be tried again its mbufs are held (px_retry.c) instead of freed, so that the next try
 * rebuilds the same head from them (retry_request); h's base stays valid either way until
 * the request is over. */
static void take_head(struct dp_worker *w, struct px_session *s, uint32_t hl)
{
	struct rte_mbuf *head;

	if (!s->rq->rt.holding) {
		px_rx_consume(s, hl);
		return;
	}
	head = px_chain_take(w->pool, &s->rx, hl);
	if (head == NULL) {
		/* no mbuf to split a segment with: this request is not held, nor tried again */
		w->px.cnt[PX_CNT_drop_no_mbuf]++;
		s->rq->rt.holding = 0;
		px_rx_consume(s, hl);
		return;
	}
	tcp_recved(s->conn, hl);
	px_retry_hold_head(w, s, head);
}

/* Another try's request: the head rebuilt from the head as received, parsed again (the spans
 * of the first parse went to the response heads since), then the body sent so far. NULL when
 * out of mbufs. */
static struct rte_mbuf *retry_request(struct dp_worker *w, struct px_session *s)
{
	struct px_req *rq = s->rq;
	struct http_iov iov[PX_IOV_MAX];
	bool upgrade = (rq->req.flags & HTTP_F_UPGRADE) && (rq->req.flags & HTTP_F_CONN_UPGRADE);
	struct rte_mbuf *out, *body;
	struct http_msg msg;
	struct px_head h;
	int rc;

	/* the limits it was parsed with the first time (a reload may have changed the
	 * listener's since): it parses the same again */
	http_req_init(&msg, &rq->req.lim, rq->hdrs);
	rc = http_req_parse(&msg, iov, http_iov_from_mbuf(rq->rt.head, 0, iov, PX_IOV_MAX));
	if (rc != (int)rq->req.head_len || head_load(w, rq->rt.head, &msg, (uint32_t)rc, &h) != 0 ||
	    (out = build_request(w, s, &h, upgrade)) == NULL)
		return NULL;
	if (rq->rt.held == NULL)
		return out;
	body = rte_pktmbuf_clone(rq->rt.held, w->pool);
	if (body == NULL || rte_pktmbuf_chain(out, body) != 0) {
		rte_pktmbuf_free(body);
		rte_pktmbuf_free(out);
		return NULL;
	}
	return out;
}

int px_proxy_start(struct dp_worker *w, struct px_session *s, uint32_t svc)
{
	struct px_worker *px = &w->px;
	const struct dp_snap_svc *ss = &px->snap->svcs[svc];
	struct dp_svc_pw *spw = px_svc(w, ss->obj);
	uint32_t hl = s->rq->req.head_len;
	bool body = !(s->rq->body.kind == HTTP_BODY_NONE || http_body_done(&s->rq->body));
	bool upgrade =
		(s->rq->req.flags & HTTP_F_UPGRADE) && (s->rq->req.flags & HTTP_F_CONN_UPGRADE);
	struct dp_endpoint *ep = NULL;
	struct px_upstream *up = NULL;
	struct rte_mbuf *out;
	struct px_head h;
	int err, adm;

	/* circuit_breaker: a slot, a place in the queue (the head stays in rx), or 503 */
	adm = px_cb_admit(w, s, ss, svc);
	if (adm == PX_CB_QUEUED)
		return -EAGAIN; /* px_cb_wake or the queue timeout runs it again */
	if (adm == PX_CB_FULL || adm == PX_CB_OPEN)
		goto busy;
	if (body && (err = body_precheck(s, hl)) < 0) {
		/* refused before any endpoint or connection is bothered */
		if (s->state == PX_QUEUED)
			px_cb_dequeue(w, s);
		start_undo(w, ss, adm, NULL, NULL);
		s->svc = ss->obj;
		spw->cnt[PX_OBJ_requests]++;
		px_rx_consume(s, hl);
		return px_refuse(w, s, err);
	}
	if (head_load(w, s->rx, &s->rq->req, hl, &h) != 0)
		goto no_mbuf;
	up = pick_conn(w, s, svc, &h, &ep);
	if (up == NULL && ep != NULL && rte_errno == EBUSY) {
		/* every endpoint it may go to is at max_connections: it waits too */
		adm = px_cb_wait_conn(w, s, ss, svc, adm);
		if (adm == PX_CB_QUEUED)
			return -EAGAIN;
		goto busy;
	}
	if (s->state == PX_QUEUED) {
		px_cb_dequeue(w, s); /* it has its slot and its connection */
		/* its own connection is pooled when done; others still waiting renew it */
		if (ep != NULL && __atomic_load_n(&ep->sh.starved_tsc, __ATOMIC_RELAXED) != 0)
			__atomic_store_n(&ep->sh.starved_tsc, 0, __ATOMIC_RELAXED);
	}
	s->svc = ss->obj;
	spw->cnt[PX_OBJ_requests]++;
	if ((out = build_request(w, s, &h, upgrade)) == NULL) {
		start_undo(w, ss, adm, ep, up);
		goto no_mbuf_counted;
	}
	px_retry_begin(w, s, svc, h.base + h.msg->method_s.off, h.msg->method_s.len);
	take_head(w, s, hl);
	s->rq->rt.slot = adm == PX_CB_SLOT;
	s->rq->rt.trial = adm == PX_CB_TRIAL;
	if (up == NULL) {
		rte_pktmbuf_free(out);
		if (ep == NULL) {
			px->cnt[PX_CNT_no_endpoint]++;
			spw->cnt[PX_OBJ_no_endpoint]++;
		}
		if (body)
			s->close_after = 1; /* its body is still unread */
		return start_answer(w, s, ep == NULL ? 503 : 502);
	}
	px->cnt[PX_CNT_proxied_requests]++;
	px_ep(w, ep)->cnt[PX_OBJ_requests]++;
	px_ep(w, ep)->cnt[PX_OBJ_bytes_out] += rte_pktmbuf_pkt_len(out);
	s->rq->rt.tried[0] = ep;
	px_proxy_attach(w, s, up);
	if (tcp_send(up->conn, out) != 0) {
		/* answered from here: the caller's loop carries on with the error response */
		px_proxy_detach(w, s);
		s->close_after = 1;
		return start_answer(w, s, 502);
	}
	px_obs_forwarded(w, s);
	px_session_enter(w, s, body ? PX_FWD_BODY : PX_WAIT_RESP);
	if (!body)
		px_arm_timer(w, &s->timer, 0); /* the upstream's response timeout governs now */
	if (!body && up->state == PX_UP_BUSY)
		px_arm_timer(w, &up->timer, px_retry_timeout(w, s));
	return 0;
busy:
	s->svc = ss->obj;
	spw->cnt[PX_OBJ_requests]++;
	px_rx_consume(s, hl);
	if (body)
		s->close_after = 1; /* its body is still unread */
	return start_answer(w, s, 503);
no_mbuf:
	if (s->state == PX_QUEUED)
		px_cb_dequeue(w, s);
	start_undo(w, ss, adm, NULL, NULL);
	s->svc = ss->obj;
	spw->cnt[PX_OBJ_requests]++;
no_mbuf_counted:
	px->cnt[PX_CNT_drop_no_mbuf]++;
	px_rx_consume(s, hl);
	s->close_after = 1;
	return start_answer(w, s, 503);
}

void px_proxy_attach(struct dp_worker *w, struct px_session *s, struct px_upstream *up)
{
	s->up = up;
	up->s = s;
	up->head_done = 0;
	up->resp_done = 0;
	up->keep = 1;
	up->tunnel = 0;
	up->rx_any = 0;
	up->try_done = 0;
	/* the request's spans are dead from here (its head went into out, held for retries as
	 * rebuilt): the response head's go in the same array */
	http_resp_init(&up->resp, NULL, s->rq->hdrs, (enum http_method)s->rq->req.method);
}

static void release_done(struct dp_worker *w, struct px_session *s, struct px_upstream *up);

int px_proxy_body(struct dp_worker *w, struct px_session *s)
{
	struct px_upstream *up = s->up;
	struct http_iov iov[PX_IOV_MAX];

	if (up == NULL)
		return -EPIPE;
	if (up->conn == NULL)
		return -EAGAIN; /* closed by the stack: its report is on the way */
	while (s->rx != NULL && !http_body_done(&s->rq->body)) {
		struct rte_mbuf *chunk;
		unsigned int n;
		int k;

		if (tcp_send_space(up->conn) == 0)
			return -EAGAIN; /* the upstream's writable event posts the session again */
		n = http_iov_from_mbuf(s->rx, 0, iov, PX_IOV_MAX);
		k = http_body_skip(&s->rq->body, iov, n);
		if (k < 0)
			return body_refused(w, s, k);
		if (k == 0)
			break;
		chunk = px_chain_take(w->pool, &s->rx, (uint32_t)k);
		if (chunk == NULL) {
			w->px.cnt[PX_CNT_drop_no_mbuf]++;
			return -EPIPE;
		}
		tcp_recved(s->conn, (uint32_t)k);
		px_ep(w, up->ep)->cnt[PX_OBJ_bytes_out] += (uint32_t)k;
		px_retry_hold(w, s, chunk);
		if (tcp_send(up->conn, chunk) != 0)
			return -EPIPE;
	}
	if (!http_body_done(&s->rq->body)) {
		int err;

		/* a client that ends its side inside the body will send no more of it */
		if (s->peer_fin && s->rx == NULL && (err = http_body_eof(&s->rq->body)) < 0)
			return body_refused(w, s, err);
		if (!http_body_done(&s->rq->body))
			return -EAGAIN;
	}
	px_session_enter(w, s, PX_WAIT_RESP);
	px_arm_timer(w, &s->timer, 0); /* the upstream's response timeout governs now */
	if (up->resp_done) {
		release_done(w, s, up);
		return 0;
	}
	if (up->state == PX_UP_BUSY && !up->head_done)
		px_arm_timer(w, &up->timer, px_retry_timeout(w, s));
	return 0;
}

int px_proxy_tunnel_up(struct dp_worker *w, struct px_session *s)
{
	struct px_upstream *up = s->up;

	if (up == NULL)
		return -EPIPE;
	if (up->conn == NULL)
		return 0; /* closed by the stack: its report is on the way */
	while (s->rx != NULL && tcp_send_space(up->conn) > 0) {
		uint32_t n = rte_pktmbuf_pkt_len(s->rx);
		struct rte_mbuf *chunk = s->rx;

		s->rx = NULL;
		tcp_recved(s->conn, n);
		if (tcp_send(up->conn, chunk) != 0)
			return -EPIPE;
	}
	if (s->peer_fin && s->rx == NULL) {
		/* either side closing ends the tunnel: what was forwarded is delivered first */
		px_proxy_close(w, s);
		s->close_after = 1;
		px_session_enter(w, s, PX_WAIT_RESP); /* the session closes after what is queued */
	}
	return 0;
}

/* Both messages are complete: the upstream goes back to its pool when it can serve again,
 * and the session moves on to the next request (the caller runs it). */
static void release_done(struct dp_worker *w, struct px_session *s, struct px_upstream *up)
{
	/* A connection goes back to the pool only when nothing beyond the response we framed
	 * can still arrive on it: not after the backend closed, nor when it answered before the
	 * request body was all sent (it may read the rest of the body as a request of its own
	 * and answer that too); px_upstream_release also checks that no byte is left over. */
	bool reuse = up->keep && !up->fin && !up->resp_done;

	if (up->keep && !up->fin && up->resp_done)
		w->px.cnt[PX_CNT_upstream_not_reused]++;

	s->up = NULL;
	px_ep_done(w, up->ep);
	px_upstream_release(w, up, true, reuse);
	px_session_enter(w, s, PX_WAIT_RESP);
}

/* The response is complete. An upstream may answer before the request body ended (nginx's
 * `return` does): the body is still forwarded to the end so both stay in step, and the pair
 * is released then (px_proxy_body). Otherwise the session releases it (PX_UPEV_DONE). */
static void finish(struct dp_worker *w, struct px_session *s, struct px_upstream *up)
{
	if (s->state == PX_FWD_BODY) {
		up->resp_done = 1;
		px_arm_timer(w, &up->timer, 0); /* nothing more to read */
		return;
	}
	px_post_up_ev(&w->px, s, PX_UPEV_DONE);
}

void px_proxy_done(struct dp_worker *w, struct px_session *s)
{
	if (s->up != NULL)
		release_done(w, s, s->up);
}

/* Give n bytes back to the endpoint's window, unless the stack already ended the connection
 * (its PX_EV_CLOSED not run yet). */
static void up_recved(struct px_upstream *up, uint32_t n)
{
	if (up->conn != NULL)
		tcp_recved(up->conn, n);
}

/* The response head of the try on up is here: its outcome is recorded, and a 5xx that
 * retries.on lists is retried (PX_UPEV_RETRY, returns false) when the request may be; else
 * the try is over and the request it held is let go. Decided at the head, so a retried 5xx
 * never reaches the client; its connection is aborted with what is left of it. */
static bool head_outcome(struct dp_worker *w, struct px_session *s, struct px_upstream *up)
{
	unsigned int st = up->resp.status;
	uint32_t cond = st == 500   ? DP_RETRY_500
			: st == 502 ? DP_RETRY_502
			: st == 503 ? DP_RETRY_503
			: st == 504 ? DP_RETRY_504
				    : 0;
	enum dp_outcome o = st < 500		     ? DP_OUT_ok
			    : st >= 502 && st <= 504 ? DP_OUT_status_gateway
						     : DP_OUT_status_5xx;

	if (cond != 0 && px_retry_allowed(w, s, up, cond)) {
		px_try_end(w, up, o);
		s->status = (uint16_t)st;
		px_post_up_ev(&w->px, s, PX_UPEV_RETRY);
		return false;
	}
	px_try_end(w, up, o);
	px_retry_head(w, s);
	return true;
}

/* Parse the response head, send the rebuilt head to the client. Returns 1 when the head
 * went out, 0 when more bytes are needed, -1 when the session is gone or answered. */
static int forward_head(struct dp_worker *w, struct px_session *s, struct px_upstream *up)
{
	struct px_worker *px = &w->px;
	struct http_iov iov[PX_IOV_MAX];
	struct rte_mbuf *out;
	struct px_head h;
	bool upgrade;
	int rc;

	for (;;) {
		if (up->rx == NULL)
			rc = -EAGAIN;
		else
			rc = http_resp_parse(&up->resp, iov,
					     http_iov_from_mbuf(up->rx, 0, iov, PX_IOV_MAX));
		/* a backend writing its head in small pieces: more segments than iov maps leave
		 * the parser waiting for bytes it already has; copy them into fewer (as
		 * rx_coalesce does for a client) and parse again */
		if (rc == -EAGAIN && up->rx != NULL && up->rx->nb_segs > PX_IOV_MAX) {
			if (px_chain_coalesce(w->pool, &up->rx) > 0) {
				px->cnt[PX_CNT_rx_coalesced]++;
				continue;
			}
			px->cnt[PX_CNT_drop_no_mbuf]++;
		}
		if (rc == -EAGAIN && !up->fin)
			return 0;
		if (rc < 0 && !up->rx_any) {
			/* FIN before any byte of a response: an empty response */
			px->cnt[PX_CNT_upstream_bad_responses]++;
			px_try_fail(w, up, DP_OUT_empty_response, DP_RETRY_EMPTY_RESPONSE, 502);
			return -1;
		}
		if (rc < 0) {
			px->cnt[PX_CNT_upstream_bad_responses]++;
			px_try_fail(w, up, DP_OUT_status_gateway, 0, 502);
			return -1;
		}
		if (!(up->resp.flags & HTTP_F_INTERIM))
			break;
		/* 100 Continue and friends: pass them on as received, then parse the next. An
		 * HTTP/1.0 client may get no 1xx at all (RFC 9110 15.2). */
		out = NULL;
		if (s->rq->req.version == 0)
			px->cnt[PX_CNT_interim_withheld]++;
		else if ((out = px_chain_take(w->pool, &up->rx, (uint32_t)rc)) == NULL)
			px->cnt[PX_CNT_drop_interim]++; /* no mbuf: the client misses a 1xx */
		if (out == NULL)
			px_chain_drop(&up->rx, (uint32_t)rc);
		up_recved(up, (uint32_t)rc);
		if (out != NULL && tcp_send(s->conn, out) != 0)
			px->cnt[PX_CNT_drop_interim]++;
		http_resp_init(&up->resp, NULL, s->rq->hdrs, (enum http_method)s->rq->req.method);
	}
	if (!head_outcome(w, s, up))
		return -1; /* a 5xx to retry: it never reaches the client */
	upgrade = up->resp.status == 101 && s->state == PX_WAIT_RESP;
	if (up->resp.body == HTTP_BODY_CLOSE)
		s->close_after = 1; /* the client learns the end of the body from our close */
	if (!(up->resp.flags & HTTP_F_KEEP_ALIVE))
		up->keep = 0;
	if (head_load(w, up->rx, &up->resp, (uint32_t)rc, &h) != 0 ||
	    (out = build_response(w, s, &h, upgrade)) == NULL) {
		px->cnt[PX_CNT_drop_no_mbuf]++;
		fail_early(w, s, 502);
		return -1;
	}
	px_chain_drop(&up->rx, (uint32_t)rc);
	up_recved(up, (uint32_t)rc);
	/* From here response_ms bounds the silence between reads from the upstream (nginx's
	 * proxy_read_timeout): a backend that sends its head and stalls must not hold the client
	 * forever. up_on_data re-arms it on every later segment; a tunnel has its own idle bound. */
	px_arm_timer(w, &up->timer, upgrade ? 0 : px_svc(w, up->ep->svc)->response_ms);
	px_obs_resp_head(w, s);
	http_body_init(&up->body, &up->resp, 0);
	px_count_status(px, up->resp.status);
	px_obj_status(px_svc(w, up->ep->svc)->cnt, up->resp.status);
	px_obj_status(px_ep(w, up->ep)->cnt, up->resp.status);
	px_ep(w, up->ep)->cnt[PX_OBJ_bytes_in] += (uint32_t)rc;
	s->lst->cnt[PX_OBJ_bytes_out] += rte_pktmbuf_pkt_len(out);
	px_obj_status(s->lst->cnt, up->resp.status);
	s->status = up->resp.status;
	up->head_done = 1;
	if (tcp_send(s->conn, out) != 0) {
		px_post_up_ev(px, s, PX_UPEV_ABORT);
		return -1;
	}
	if (upgrade) {
		px->cnt[PX_CNT_tunnels]++;
		up->tunnel = 1;
		up->keep = 0;
		px_post_up_ev(px, s, PX_UPEV_TUNNEL); /* the session forwards the client's bytes */
	}
	return 1;
}

void px_proxy_response(struct dp_worker *w, struct px_upstream *up)
{
	struct px_session *s = up->s;
	struct http_iov iov[PX_IOV_MAX];

	/* nothing to do while the client connection is gone or an outcome waits for the
	 * session: it acts first (and may release this connection) */
	if (s == NULL || s->conn == NULL || s->up_ev != PX_UPEV_NONE)
		return;
	if (!up->head_done && forward_head(w, s, up) <= 0)
		return;
	while (up->rx != NULL && tcp_send_space(s->conn) > 0) {
		struct rte_mbuf *chunk;
		int k;

		if (up->tunnel) {
			k = (int)rte_pktmbuf_pkt_len(up->rx);
		} else {
			if (http_body_done(&up->body))
				break;
			k = http_body_skip(&up->body, iov,
					   http_iov_from_mbuf(up->rx, 0, iov, PX_IOV_MAX));
			if (k < 0) {
				w->px.cnt[PX_CNT_upstream_bad_responses]++;
				px_post_up_ev(&w->px, s, PX_UPEV_ABORT);
				return;
			}
			if (k == 0)
				break;
		}
		chunk = px_chain_take(w->pool, &up->rx, (uint32_t)k);
		if (chunk == NULL) {
			w->px.cnt[PX_CNT_drop_no_mbuf]++;
			px_post_up_ev(&w->px, s, PX_UPEV_ABORT);
			return;
		}
		up_recved(up, (uint32_t)k);
		px_ep(w, up->ep)->cnt[PX_OBJ_bytes_in] += (uint32_t)k;
		s->lst->cnt[PX_OBJ_bytes_out] += (uint32_t)k;
		if (tcp_send(s->conn, chunk) != 0) {
			px_post_up_ev(&w->px, s, PX_UPEV_ABORT);
			return;
		}
	}
	if (up->tunnel) {
		if (up->fin && up->rx == NULL)
			px_post_up_ev(&w->px, s, PX_UPEV_TUNNEL_END);
		return;
	}
	if (!http_body_done(&up->body)) {
		if (!up->fin || up->rx != NULL)
			return; /* more to come, or waiting for the client to take it */
		if (http_body_eof(&up->body) != 0) {
			/* cut short: so is the client */
			px_post_up_ev(&w->px, s, PX_UPEV_ABORT);
			return;
		}
	}
	finish(w, s, up);
}

void px_upstream_step(struct dp_worker *w, struct px_upstream *up, unsigned int ev)
{
	struct px_worker *px = &w->px;
	struct px_session *s = up->s;

	if (px_upstream_idle_step(w, up, ev))
		return;
	if (ev & PX_EV_CONNECTED) {
		px_up_enter(w, up, PX_UP_BUSY);
		px_arm_timer(w, &up->timer, 0);
		px_obs_connected(w, s);
		if (s != NULL && s->state == PX_WAIT_RESP)
			px_arm_timer(w, &up->timer, px_retry_timeout(w, s));
	}
	if (up->broken && s != NULL && s->up_ev == PX_UPEV_NONE) {
		/* its receive queue could take no more segments */
		if (up->head_done)
			px_post_up_ev(px, s, PX_UPEV_ABORT);
		else
			px_try_fail(w, up, DP_OUT_reset, 0, 502);
	}
	if ((ev & PX_EV_WRITE) && s != NULL && (s->state == PX_FWD_BODY || s->state == PX_TUNNEL))
		px_post_session(px, s, 0); /* the request body or tunnel can move on */
	if ((ev & PX_EV_READ) && s != NULL && s->conn != NULL) {
		/* progress: a response stalls for response_ms at most, a tunnel idles for the
		 * listener's idle_timeout_ms */
		if (up->tunnel)
			px_arm_timer(w, &s->timer, s->lst->limits.idle_timeout_ms);
		else if (up->head_done)
			px_arm_timer(w, &up->timer, px_svc(w, up->ep->svc)->response_ms);
	}
	if (ev & (PX_EV_READ | PX_EV_PEER | PX_EV_CONNECTED))
		px_proxy_response(w, up); /* the response flows while the client takes it */
	if (ev & PX_EV_CLOSED)
		px_upstream_closed(w, up);
}

/* ---- retries: the next try (the policy and the held request: px_retry.c) ---- */

/* The request's service in the applied snapshot (a reload may have moved or removed it). */
static const struct dp_snap_svc *retry_service(struct dp_worker *w, struct px_session *s)
{
	const struct dp_snapshot *snap = w->px.snap;
	uint32_t i = s->rq->rt.svc_idx;

	if (i < snap->n_svcs && snap->svcs[i].obj == s->svc)
		return &snap->svcs[i];
	for (i = 0; i < snap->n_svcs; i++)
		if (snap->svcs[i].obj == s->svc)
			return &snap->svcs[i];
	return NULL;
}

static bool was_tried(const struct px_retry *rt, const struct dp_endpoint *ep)
{
	for (unsigned int i = 0; i < PX_RETRY_TRIED; i++)
		if (rt->tried[i] == ep)
			return true;
	return false;
}

/* The balancer's pick, or, when it picked an endpoint tried already, another usable one not
 * tried yet if there is one (the balancer asked again, then a scan: a hash balancer answers
 * the same every time). Counted in flight on the balancer like any pick. -1: none usable. */
static int pick_other(const struct dp_snap_svc *ss, struct lb_state *lb, const struct px_retry *rt)
{
	int first = lb_pick(lb), i = first;

	for (uint32_t k = 0; i >= 0 && k < ss->n_eps && was_tried(rt, ss->eps[i].obj); k++) {
		if (i != first)
			lb_release(lb, i);
		i = lb_pick(lb);
	}
	if (i >= 0 && !was_tried(rt, ss->eps[i].obj)) {
		if (i != first)
			lb_release(lb, first);
		return i;
	}
	if (i >= 0 && i != first)
		lb_release(lb, i);
	for (uint32_t e = 0; first >= 0 && e < ss->n_eps && e < lb->n; e++) {
		if (lb_eligible(&lb->eps[e]) && !was_tried(rt, ss->eps[e].obj)) {
			lb_release(lb, first);
			lb_take(lb, (int)e);
			return (int)e;
		}
	}
	return first; /* every usable endpoint was tried: the pick stands */
}

/* The keep-alive race: the same endpoint again while it takes requests, else any other. */
static int pick_same(const struct dp_snap_svc *ss, struct lb_state *lb, struct dp_worker *w,
		     const struct px_retry *rt)
{
	const struct dp_ep_pw *pw = rt->tried[0] != NULL ? px_ep(w, rt->tried[0]) : NULL;

	if (pw != NULL && pw->lb == lb && pw->lb_idx >= 0 && (uint32_t)pw->lb_idx < lb->n &&
	    lb_eligible(&lb->eps[pw->lb_idx])) {
		lb_take(lb, pw->lb_idx);
		return pw->lb_idx;
	}
	return pick_other(ss, lb, rt);
}

int px_retry_start(struct dp_worker *w, struct px_session *s)
{
	struct px_worker *px = &w->px;
	struct px_retry *rt = &s->rq->rt;
	struct dp_svc_pw *spw = px_svc(w, s->svc);
	struct dp_endpoint *prev = rt->tried[0], *ep;
	const struct dp_snap_svc *ss = retry_service(w, s);
	bool fresh = rt->fresh, body;
	struct px_upstream *up;
	struct rte_mbuf *m;
	int i;

	rt->fresh = 0;
	if (!fresh)
		rt->retries++;
	if (!rt->retrying) {
		rt->retrying = 1;
		spw->retrying++;
	}
	i = ss == NULL || ss->lb[w->id] == NULL ? -1
	    : fresh				? pick_same(ss, ss->lb[w->id], w, rt)
						: pick_other(ss, ss->lb[w->id], rt);
	if (i < 0) {
		px->cnt[PX_CNT_retry_no_endpoint]++;
		goto answer;
	}
	ep = ss->eps[i].obj;
	px_ep(w, ep)->active++;
	up = fresh ? px_upstream_new(w, ep) : px_upstream_get(w, ep);
	if (up == NULL) {
		if (rte_errno == EBUSY) { /* at max_connections: a retry does not wait */
			px->cnt[PX_CNT_conn_limit_refused]++;
			px_ep(w, ep)->cnt[PX_OBJ_conn_limited]++;
		}
		px_ep_done(w, ep);
		goto answer;
	}
	m = retry_request(w, s);
	if (m == NULL) {
		px->cnt[PX_CNT_drop_no_mbuf]++;
		px_ep_done(w, ep);
		px_upstream_release(w, up, false, up->state == PX_UP_BUSY);
		goto answer;
	}
	px->cnt[PX_CNT_retries]++;
	spw->cnt[PX_OBJ_retry_warnings]++;
	if (prev != NULL)
		px_ep(w, prev)->cnt[PX_OBJ_retry_warnings]++;
	if (ep != prev) {
		px->cnt[PX_CNT_retry_redispatches]++;
		spw->cnt[PX_OBJ_redispatch_warnings]++;
		if (prev != NULL)
			px_ep(w, prev)->cnt[PX_OBJ_redispatch_warnings]++;
	}
	memmove(&rt->tried[1], &rt->tried[0], sizeof(rt->tried) - sizeof(rt->tried[0]));
	rt->tried[0] = ep;
	px_ep(w, ep)->cnt[PX_OBJ_requests]++;
	px_ep(w, ep)->cnt[PX_OBJ_bytes_out] += rte_pktmbuf_pkt_len(m);
	px_proxy_attach(w, s, up);
	if (tcp_send(up->conn, m) != 0) {
		px_proxy_detach(w, s);
		goto answer;
	}
	body = !(s->rq->body.kind == HTTP_BODY_NONE || http_body_done(&s->rq->body));
	px_session_enter(w, s, body ? PX_FWD_BODY : PX_WAIT_RESP);
	if (!body && up->state == PX_UP_BUSY)
		px_arm_timer(w, &up->timer, px_retry_timeout(w, s));
	return 0;
answer:
	/* no other try: the client gets the last try's error */
	s->close_after = 1;
	return px_respond_error(w, s, s->status);
}
