/* SPDX-License-Identifier: BSD-3-Clause
 * Responses sluice writes itself: direct-response routes (a configured body, or a
 * generated one of N bytes sent as indirect mbufs on a per-worker pattern buffer) and error
 * answers, with their status line, Date, and counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_mbuf.h>

#include "px_impl.h"

#define PX_SEND_CHUNK 65536 /* generated body queued per tcp_send call at most */

static inline struct px_worker *px_of(struct dp_worker *w)
{
	return &w->px;
}

const char *px_reason(unsigned int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 417:
		return "Expectation Failed";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return status < 200   ? "Informational"
		       : status < 300 ? "OK"
		       : status < 400 ? "Redirection"
		       : status < 500 ? "Client Error"
				      : "Server Error";
	}
}

static const char *worker_date(struct dp_worker *w)
{
	struct px_worker *px = px_of(w);

	if (w->ns.now >= px->date_until) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts); /* vDSO: no system call */
		gmtime_r(&ts.tv_sec, &tm);
		strftime(px->date, sizeof(px->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		px->date_until =
			w->ns.now + w->ns.hz - (uint64_t)ts.tv_nsec * w->ns.hz / 1000000000ull;
	}
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

/* Queue the head (and a configured body) of the response. Returns 0 or -ENOMEM. */
static int send_head(struct dp_worker *w, struct px_session *s, unsigned int status,
		     const char *ctype, const char *body, uint64_t body_len, bool head_only)
{
	/* 1xx, 204 and 304 carry no body and no Content-Length (RFC 9110 8.6, 15.3.5) */
	bool bodyless = status < 200 || status == 204 || status == 304;
	char hdr[768], clen[384] = "";
	struct rte_mbuf *m;
	int n;

	if (bodyless)
		head_only = true;
	else
		snprintf(clen, sizeof(clen), "Content-Type: %s\r\nContent-Length: %lu\r\n", ctype,
			 (unsigned long)body_len);
	n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %u %s\r\nServer: sluice\r\nDate: %s\r\n%s%s\r\n",
		     status, px_reason(status), worker_date(w), clen,
		     s->close_after ? "Connection: close\r\n" : "");
	m = rte_pktmbuf_alloc(w->pool);
	if (m == NULL || px_chain_append(w->pool, m, hdr, (uint32_t)n) != 0 ||
	    (!head_only && body != NULL && px_chain_append(w->pool, m, body, (uint32_t)body_len))) {
		rte_pktmbuf_free(m);
		px_of(w)->cnt[PX_CNT_drop_no_mbuf]++;
		return -ENOMEM;
	}
	px_count_status(px_of(w), status);
	px_obj_status(s->lst->cnt, status);
	s->lst->cnt[PX_OBJ_bytes_out] += rte_pktmbuf_pkt_len(m);
	s->status = (uint16_t)status;
	s->head_sent = 1;
	return tcp_send(s->conn, m) == -EPIPE ? -EPIPE : 0;
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

	if (s->route >= 0 && l == NULL) {
		/* a reload removed the listener while the request body was read: its routes are
		 * gone with it */
		s->route = -1;
		s->close_after = 1;
		status = 503;
	}
	s->state = PX_RESPOND;
	if (s->route < 0) {
		int n = snprintf(body, sizeof(body), "%u %s\n", status, px_reason(status));

		return send_head(w, s, status, "text/plain", body, (uint64_t)n, head_only);
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
