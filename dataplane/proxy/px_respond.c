/* SPDX-License-Identifier: BSD-3-Clause
 * Responses sluice writes itself: direct-response routes (a configured body, or a
 * generated one of N bytes sent as indirect mbufs on a per-worker pattern buffer) and error
 * answers, with their status line, Date, and counters.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_mbuf.h>

#include "px_impl.h"

#define PX_SEND_CHUNK 65536 /* generated body queued per tcp_send call at most */

static inline struct px_worker *px_of(struct dp_worker *w)
{
	return &w->px;
}

/* Statuses with a reason phrase of their own: X(code, reason). */
#define PX_STATUSES(X)                            \
	X(100, "Continue")                        \
	X(200, "OK")                              \
	X(201, "Created")                         \
	X(204, "No Content")                      \
	X(301, "Moved Permanently")               \
	X(302, "Found")                           \
	X(304, "Not Modified")                    \
	X(400, "Bad Request")                     \
	X(403, "Forbidden")                       \
	X(404, "Not Found")                       \
	X(405, "Method Not Allowed")              \
	X(408, "Request Timeout")                 \
	X(413, "Content Too Large")               \
	X(414, "URI Too Long")                    \
	X(417, "Expectation Failed")              \
	X(429, "Too Many Requests")               \
	X(431, "Request Header Fields Too Large") \
	X(500, "Internal Server Error")           \
	X(501, "Not Implemented")                 \
	X(502, "Bad Gateway")                     \
	X(503, "Service Unavailable")             \
	X(504, "Gateway Timeout")                 \
	X(505, "HTTP Version Not Supported")

static const char *class_reason(unsigned int status)
{
	return status < 200   ? "Informational"
	       : status < 300 ? "OK"
	       : status < 400 ? "Redirection"
	       : status < 500 ? "Client Error"
			      : "Server Error";
}

const char *px_reason(unsigned int status)
{
	switch (status) {
#define PX_REASON_CASE(code, reason) \
	case code:                   \
		return reason;
		PX_STATUSES(PX_REASON_CASE)
#undef PX_REASON_CASE
	default:
		return class_reason(status);
	}
}

/* Append "HTTP/1.1 <status> <reason>\r\n": a string built at compile time for the statuses of
 * PX_STATUSES, else assembled (configured statuses are 100-599, three digits). */
static char *put_status_line(char *p, unsigned int status)
{
	switch (status) {
#define PX_LINE_CASE(code, reason)                                    \
	case code:                                                    \
		return px_put(p, "HTTP/1.1 " #code " " reason "\r\n", \
			      sizeof("HTTP/1.1 " #code " " reason "\r\n") - 1);
		PX_STATUSES(PX_LINE_CASE)
#undef PX_LINE_CASE
	default:
		p = PX_PUT_LIT(p, "HTTP/1.1 ");
		p = px_put_u64(p, status);
		*p++ = ' ';
		p = px_put_str(p, class_reason(status));
		return PX_PUT_LIT(p, "\r\n");
	}
}

static char *put_2d(char *p, unsigned int v)
{
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

size_t px_http_date(char *out, int64_t secs)
{
	static const char wday[] = "ThuFriSatSunMonTueWed"; /* 1970-01-01 was a Thursday */
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	uint32_t sod = (uint32_t)(secs - days * 86400);
	/* civil date from days since 1970-01-01 (proleptic Gregorian, H. Hinnant's method) */
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	uint32_t doe = (uint32_t)(z - era * 146097);
	uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	uint32_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
	uint32_t wd = (uint32_t)(((days % 7) + 7) % 7);
	char *p = out;

	p = PX_PUT_LIT(p, "Date: ");
	p = px_put(p, wday + 3 * wd, 3);
	p = PX_PUT_LIT(p, ", ");
	p = put_2d(p, d);
	*p++ = ' ';
	p = px_put(p, mon + 3 * (m - 1), 3);
	*p++ = ' ';
	p = put_2d(p, (unsigned int)(y / 100));
	p = put_2d(p, (unsigned int)(y % 100));
	*p++ = ' ';
	p = put_2d(p, sod / 3600);
	*p++ = ':';
	p = put_2d(p, sod / 60 % 60);
	*p++ = ':';
	p = put_2d(p, sod % 60);
	p = PX_PUT_LIT(p, " GMT\r\n");
	return (size_t)(p - out);
}

/* The "Date: ...\r\n" line, formatted once a second with arithmetic of our own (gmtime_r
 * takes glibc's process-wide lock), in a buffer of sizeof(px->date) bytes. Sets *len. */
static const char *worker_date(struct dp_worker *w, uint32_t *len)
{
	struct px_worker *px = px_of(w);

	if (w->ns.now >= px->date_until) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts); /* vDSO: no system call */
		px->date_len = (uint8_t)px_http_date(px->date, (int64_t)ts.tv_sec);
		px->date_until =
			w->ns.now + w->ns.hz - (uint64_t)ts.tv_nsec * w->ns.hz / 1000000000ull;
	}
	*len = px->date_len;
	return px->date;
}

void px_count_status(struct px_worker *px, unsigned int status)
{
	static const uint8_t cls[] = { PX_CNT_responses_1xx, PX_CNT_responses_2xx,
				       PX_CNT_responses_3xx, PX_CNT_responses_4xx,
				       PX_CNT_responses_5xx };
	unsigned int c = status / 100;

	if (c >= 1 && c <= 5)
		px->cnt[cls[c - 1]]++;
}

/* Longest head send_head writes: status line, Server, Date, Content-Type (configured values
 * are at most 255 bytes), Content-Length, Connection, final CRLF. */
#define PX_CTYPE_MAX 255
#define PX_HEAD_MAX (64 + 16 + 40 + 16 + PX_CTYPE_MAX + 2 + 18 + 20 + 2 + 19 + 2 + 36)

/* Queue the head (and a configured body) of the response. Returns 0 or -ENOMEM. */
static int send_head(struct dp_worker *w, struct px_session *s, unsigned int status,
		     const char *ctype, const char *body, uint64_t body_len, bool head_only)
{
	/* 1xx, 204 and 304 carry no body and no Content-Length (RFC 9110 8.6, 15.3.5) */
	bool bodyless = status < 200 || status == 204 || status == 304;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	char hdr[PX_HEAD_MAX], *start, *p;
	const char *date;
	uint32_t date_len;

	if (m == NULL)
		goto nomem;
	/* written in place when the buffer takes the longest head (a default mbuf does), else
	 * here and appended: one copy of the head instead of two */
	start = rte_pktmbuf_tailroom(m) >= PX_HEAD_MAX ? rte_pktmbuf_mtod(m, char *) : hdr;
	p = put_status_line(start, status);
	p = PX_PUT_LIT(p, "Server: sluice\r\n");
	date = worker_date(w, &date_len);
	/* the whole buffer, a copy of known size (a few moves, not a call): the head has room
	 * for it (PX_HEAD_MAX counts 40 bytes for Date), and what follows overwrites the rest */
	memcpy(p, date, sizeof(px_of(w)->date));
	p += date_len;
	if (bodyless) {
		head_only = true;
	} else {
		size_t ct = strnlen(ctype, PX_CTYPE_MAX + 1);

		if (ct > PX_CTYPE_MAX)
			ct = PX_CTYPE_MAX; /* the configuration refuses longer ones */
		p = PX_PUT_LIT(p, "Content-Type: ");
		p = px_put(p, ctype, ct);
		p = PX_PUT_LIT(p, "\r\nContent-Length: ");
		p = px_put_u64(p, body_len);
		p = PX_PUT_LIT(p, "\r\n");
	}
	if (px_of(w)->retry_after > 0) {
		p = PX_PUT_LIT(p, "Retry-After: ");
		p = px_put_u64(p, px_of(w)->retry_after);
		p = PX_PUT_LIT(p, "\r\n");
	}
	if (s->close_after)
		p = PX_PUT_LIT(p, "Connection: close\r\n");
	p = PX_PUT_LIT(p, "\r\n");
	if (start != hdr) {
		m->data_len = (uint16_t)(p - start);
		m->pkt_len = m->data_len;
	} else if (px_chain_append(w->pool, m, hdr, (uint32_t)(p - hdr)) != 0) {
		goto nomem;
	}
	if (!head_only && body != NULL && body_len > 0) {
		if (m->next == NULL && rte_pktmbuf_tailroom(m) >= body_len) {
			memcpy(rte_pktmbuf_mtod_offset(m, char *, m->data_len), body, body_len);
			m->data_len = (uint16_t)(m->data_len + body_len);
			m->pkt_len += (uint32_t)body_len;
		} else if (px_chain_append(w->pool, m, body, (uint32_t)body_len) != 0) {
			goto nomem;
		}
	}
	px_count_status(px_of(w), status);
	px_obj_status(s->lst->cnt, status);
	s->lst->cnt[PX_OBJ_bytes_out] += rte_pktmbuf_pkt_len(m);
	s->status = (uint16_t)status;
	s->head_sent = 1;
	return tcp_send(s->conn, m) == -EPIPE ? -EPIPE : 0;
nomem:
	rte_pktmbuf_free(m);
	px_of(w)->cnt[PX_CNT_drop_no_mbuf]++;
	return -ENOMEM;
}

/* Queue more of a generated body, as indirect mbufs onto the worker's pattern buffer, while
 * the send queue has room. The pattern holds a whole number of 26-byte periods, so every
 * piece starts at the pattern's first byte. */
int px_send_generated(struct dp_worker *w, struct px_session *s)
{
	struct px_worker *px = px_of(w);
	uint16_t plen = rte_pktmbuf_data_len(px->pattern);

	while (s->resp_left > 0 && tcp_send_space(s->conn) > 0) {
		/* a whole number of pattern buffers, so the next piece starts in phase */
		uint64_t want = RTE_MIN(s->resp_left, (uint64_t)PX_SEND_CHUNK / plen * plen);
		struct rte_mbuf *head = NULL;
		uint64_t queued = 0;

		while (queued < want) {
			struct rte_mbuf *mi = rte_pktmbuf_alloc(w->pool);
			uint16_t n = (uint16_t)RTE_MIN((uint64_t)plen, want - queued);

			if (mi == NULL)
				break;
			rte_pktmbuf_attach(mi, px->pattern);
			mi->data_len = n;
			mi->pkt_len = n;
			if (head == NULL) {
				head = mi;
			} else if (rte_pktmbuf_chain(head, mi) != 0) {
				rte_pktmbuf_free(mi);
				break;
			}
			queued += n;
		}
		if (head == NULL) {
			px->cnt[PX_CNT_drop_no_mbuf]++;
			return -ENOMEM; /* retried on the next writable event or timer */
		}
		queued = rte_pktmbuf_pkt_len(head);
		if (tcp_send(s->conn, head) != 0)
			return -EPIPE;
		s->resp_left -= queued;
		px->cnt[PX_CNT_body_bytes_generated] += queued;
	}
	return 0;
}

/* Answer the current request: error (route < 0 with status), or its route's respond. */
int px_respond(struct dp_worker *w, struct px_session *s, unsigned int status)
{
	const struct dp_listener_conf *l = s->lst->conf;
	bool head_only = s->rq != NULL && s->rq->req.method == HTTP_M_HEAD;
	char body[128];
	int rc;

	if (s->route >= 0 &&
	    (l == NULL || (s->rq != NULL && s->rq->conf_gen != px_of(w)->conf_gen))) {
		/* a reload replaced the configuration (or removed the listener) while the request
		 * body was read: the route index is one of the old routes, which may be another
		 * route now. 503 and close rather than serve it. */
		if (l != NULL)
			px_of(w)->cnt[PX_CNT_route_gone]++;
		s->route = -1;
		s->close_after = 1;
		status = 503;
	}
	px_session_enter(w, s, PX_RESPOND);
	if (s->route < 0) {
		char *p = px_put_u64(body, status); /* "404 Not Found\n" */

		*p++ = ' ';
		p = px_put_str(p, px_reason(status)); /* at most 31 bytes */
		*p++ = '\n';
		return send_head(w, s, status, "text/plain", body, (uint64_t)(p - body), head_only);
	}
	const struct dp_respond_conf *r = &l->routes[s->route].respond;

	if (r->bytes >= 0) {
		rc = send_head(w, s, r->status, r->content_type, NULL, (uint64_t)r->bytes, false);
		if (rc == 0 && !head_only && r->status >= 200 && r->status != 204 &&
		    r->status != 304) {
			s->resp_left = (uint64_t)r->bytes;
			rc = px_send_generated(w, s);
		}
		return rc;
	}
	return send_head(w, s, r->status, r->content_type, r->body,
			 r->body == NULL ? 0 : strlen(r->body), head_only);
}

int px_respond_error(struct dp_worker *w, struct px_session *s, unsigned int status)
{
	if (s->svc != NULL)
		px_obj_status(px_svc(w, s->svc)->cnt, status);
	s->route = -1;
	return px_respond(w, s, status);
}

int px_make_pattern(struct dp_worker *w)
{
	struct px_worker *px = px_of(w);
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	uint16_t len;
	uint8_t *p;

	if (m == NULL)
		return -ENOMEM;
	len = rte_pktmbuf_tailroom(m) / 26 * 26;
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	for (uint16_t i = 0; i < len; i++)
		p[i] = px_body_byte(i);
	px->pattern = m;
	return 0;
}

/* Refuse the request being parsed with err's status and close after the answer. */
int px_refuse(struct dp_worker *w, struct px_session *s, int err)
{
	struct px_worker *px = px_of(w);
	int e = (err < 0 ? -err : err) - HTTP_E_BASE - 1;

	if (e >= 0 && e < PX_ERR_MAX)
		px->err[e]++;
	s->close_after = 1;
	s->route = -1;
	return px_respond(w, s, (unsigned int)http_error_status(err));
}
