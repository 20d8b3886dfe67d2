/* SPDX-License-Identifier: BSD-3-Clause
 * sluice HTTP parser: the status line of an upstream response and how its body is delimited
 * (RFC 9112 4 and 6.3). Every error here is answered 502 to the client by the proxy.
 */
#include <errno.h>
#include <string.h>

#include "http_priv.h"

/* HTTP/1.x SP 3DIGIT [SP reason]. RFC 9112 wants the SP even before an empty reason; some
 * servers omit it and it changes nothing about framing, so it is accepted. */
int http_resp_status_line(struct http_msg *m, struct http_cur *c, uint32_t lim)
{
	char ver[8];
	uint32_t i, a;
	uint16_t status = 0;
	uint8_t b;

	if (lim - c->abs < 12)
		return -HTTP_E_BAD_STATUS_LINE;
	for (i = 0; i < 8; i++)
		ver[i] = (char)http_cur_get(c);
	if (memcmp(ver, "HTTP/1.", 7) != 0 || !http_is((uint8_t)ver[7], HTTP_C_DIGIT))
		return -HTTP_E_BAD_STATUS_LINE;
	m->version = ver[7] == '0' ? 0 : 1; /* 1.2 to 1.9 are handled as 1.1 (RFC 9110 2.5) */
	if (http_cur_get(c) != ' ')
		return -HTTP_E_BAD_STATUS_LINE;
	for (i = 0; i < 3; i++) {
		b = http_cur_get(c);
		if (!http_is(b, HTTP_C_DIGIT))
			return -HTTP_E_BAD_STATUS_LINE;
		status = (uint16_t)(status * 10 + (b - '0'));
	}
	if (status < 100 || status > 599)
		return -HTTP_E_BAD_STATUS_LINE;
	m->status = status;
	m->reason.off = m->reason.len = 0;
	if (c->abs == lim)
		return 0;
	if (http_cur_get(c) != ' ')
		return -HTTP_E_BAD_STATUS_LINE;
	m->reason.off = c->abs;
	m->reason.len = lim - c->abs;
	while (c->abs < lim) {
		a = http_cur_avail(c, lim);
		i = http_value_run(c->p, a);
		if (i < a)
			return c->p[i] == '\r' ? -HTTP_E_BARE_CR : -HTTP_E_BAD_STATUS_LINE;
		http_cur_skip(c, a);
	}
	return 0;
}

uint32_t http_resp_line_fast(struct http_msg *m, const uint8_t *p, uint32_t avail, uint32_t off)
{
	uint32_t status, i = 12;

	if (avail < 14 || memcmp(p, "HTTP/1.", 7) != 0 || !http_is(p[7], HTTP_C_DIGIT) ||
	    p[8] != ' ' || !http_is(p[9], HTTP_C_DIGIT) || !http_is(p[10], HTTP_C_DIGIT) ||
	    !http_is(p[11], HTTP_C_DIGIT))
		return 0;
	status = (p[9] - '0') * 100u + (p[10] - '0') * 10u + (p[11] - '0');
	if (status < 100 || status > 599)
		return 0;
	if (p[12] == ' ')
		i = 13 + http_value_run(p + 13, avail - 13);
	if (avail - i < 2 || p[i] != '\r' || p[i + 1] != '\n')
		return 0;
	m->version = p[7] == '0' ? 0 : 1;
	m->status = (uint16_t)status;
	m->reason.off = i > 12 ? off + 13 : 0;
	m->reason.len = i > 12 ? i - 13 : 0;
	return i + 2;
}

int http_resp_finish(struct http_msg *m)
{
	uint16_t s = m->status;

	if (m->flags & HTTP_F_CONN_CLOSE)
		m->flags &= ~HTTP_F_KEEP_ALIVE;
	else if (m->version == 1 || (m->flags & HTTP_F_CONN_KEEP_ALIVE))
		m->flags |= HTTP_F_KEEP_ALIVE;

	if (s < 200) {
		/* Interim responses never have a body; 101 ends HTTP on this connection. */
		if (s == 101) {
			m->body = HTTP_BODY_TUNNEL;
		} else {
			m->body = HTTP_BODY_NONE;
			m->flags |= HTTP_F_INTERIM;
		}
		return 0;
	}
	/* Framing conflicts are refused even where the body length does not depend on them,
	 * so a response is either clean or a 502. */
	if (m->flags & HTTP_F_HAS_TE) {
		if (m->flags & HTTP_F_HAS_CL)
			return -HTTP_E_CL_AND_TE;
		if (m->version == 0)
			return -HTTP_E_TE_HTTP10;
	}
	if (m->method == HTTP_M_CONNECT && s < 300) {
		m->body = HTTP_BODY_TUNNEL;
	} else if (m->method == HTTP_M_HEAD || s == 204 || s == 304) {
		m->body = HTTP_BODY_NONE;
	} else if (m->flags & HTTP_F_HAS_TE) {
		if (m->te & HTTP_TE_LAST) {
			m->body = HTTP_BODY_CHUNKED;
			m->flags |= HTTP_F_CHUNKED;
		} else {
			/* RFC 9112 6.3 rule 4: read until the server closes. */
			m->body = HTTP_BODY_CLOSE;
		}
	} else if (m->flags & HTTP_F_HAS_CL) {
		m->body = HTTP_BODY_LENGTH;
	} else {
		m->body = HTTP_BODY_CLOSE;
	}
	if (m->body == HTTP_BODY_CLOSE)
		m->flags &= ~HTTP_F_KEEP_ALIVE;
	return 0;
}

void http_resp_init(struct http_msg *m, const struct http_limits *lim, struct http_header *headers,
		    enum http_method req_method)
{
	http_msg_init(m, lim, headers);
	m->is_resp = 1;
	m->method = (uint8_t)req_method;
}

int http_resp_parse(struct http_msg *m, const struct http_iov *iov, unsigned int n)
{
	m->is_resp = 1;
	return http_head_parse(m, iov, n);
}
