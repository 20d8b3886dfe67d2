/* SPDX-License-Identifier: BSD-3-Clause
 * sluice HTTP parser: the request line and the request's framing rules (RFC 9112 3, 6.3).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "http_priv.h"

static const struct {
	const char *name;
	uint8_t len;
	uint8_t method;
} http_methods[] = {
	{ "GET", 3, HTTP_M_GET },	  { "HEAD", 4, HTTP_M_HEAD },
	{ "POST", 4, HTTP_M_POST },	  { "PUT", 3, HTTP_M_PUT },
	{ "DELETE", 6, HTTP_M_DELETE },	  { "CONNECT", 7, HTTP_M_CONNECT },
	{ "OPTIONS", 7, HTTP_M_OPTIONS }, { "TRACE", 5, HTTP_M_TRACE },
	{ "PATCH", 5, HTTP_M_PATCH },
};

/* Methods are case-sensitive (RFC 9110 9.1). Any token is a method a reverse proxy forwards
 * (HTTP_M_OTHER), except a registered one in another case: "head" is not HEAD to us, but a
 * backend that folds case would answer it without a body and frame the connection differently
 * from us, so it is refused (HTTP_M_NONE, 501). Too long for tok: HTTP_M_NONE too. */
static uint8_t http_method_lookup(const char *tok, uint32_t len, uint32_t cap)
{
	unsigned int i;

	if (len > cap)
		return HTTP_M_NONE;
	/* the registered methods as received, each one compare of a known size */
	switch (len) {
	case 3:
		if (memcmp(tok, "GET", 3) == 0)
			return HTTP_M_GET;
		if (memcmp(tok, "PUT", 3) == 0)
			return HTTP_M_PUT;
		break;
	case 4:
		if (memcmp(tok, "HEAD", 4) == 0)
			return HTTP_M_HEAD;
		if (memcmp(tok, "POST", 4) == 0)
			return HTTP_M_POST;
		break;
	}
	for (i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
		if (http_methods[i].len != len)
			continue;
		if (memcmp(tok, http_methods[i].name, len) == 0)
			return http_methods[i].method;
		if (strncasecmp(tok, http_methods[i].name, len) == 0)
			return HTTP_M_NONE;
	}
	return HTTP_M_OTHER;
}

/* Read a method token, keeping its bytes as received (methods are case-sensitive). */
static uint32_t http_method_token(struct http_cur *c, uint32_t lim, char *tok, uint32_t cap)
{
	uint32_t len = 0;
	uint8_t b;

	while (c->abs < lim && http_is(b = http_cur_peek(c), HTTP_C_TCHAR)) {
		if (len < cap)
			tok[len] = (char)b;
		len++;
		http_cur_skip(c, 1);
	}
	return len;
}

/* What a request-target scan found. */
struct http_tscan {
	uint32_t start, end;
	uint32_t query;	  /* offset of the first '?', or UINT32_MAX */
	uint32_t bracket; /* offset just past the last '[' or ']', 0 when none */
	uint8_t first;
};

/* Scan the request-target up to the SP that ends it (consumed) or lim. Every byte must be an
 * RFC 3986 character and every '%' followed by two hex digits. Plain bytes take one table
 * lookup; '%', '?', '[', ']' and SP leave the fast loop. */
static int http_target_scan(struct http_cur *c, uint32_t lim, struct http_tscan *t)
{
	uint32_t a, i, pct = 0;
	const uint8_t *p;
	uint8_t b;

	t->start = c->abs;
	t->query = UINT32_MAX;
	t->bracket = 0;
	t->first = c->abs < lim ? http_cur_peek(c) : 0;
	while (c->abs < lim) {
		a = http_cur_avail(c, lim);
		p = c->p;
		/* hex digits of a '%' that ended the previous segment */
		for (i = 0; pct && i < a; i++, pct--)
			if (!http_is(p[i], HTTP_C_HEX))
				return -HTTP_E_BAD_TARGET;
		for (; i < a; i++) {
			b = p[i];
			if (http_is(b, HTTP_C_TARGET))
				continue;
			if (b == '%') {
				if (a - i > 2) {
					if (!http_is(p[i + 1], HTTP_C_HEX) ||
					    !http_is(p[i + 2], HTTP_C_HEX))
						return -HTTP_E_BAD_TARGET;
					i += 2;
					continue;
				}
				for (pct = 2; pct && i + 1 < a; pct--)
					if (!http_is(p[++i], HTTP_C_HEX))
						return -HTTP_E_BAD_TARGET;
			} else if (b == '?') {
				if (t->query == UINT32_MAX)
					t->query = c->abs + i;
			} else if (b == '[' || b == ']') {
				t->bracket = c->abs + i + 1;
			} else if (b == ' ') {
				t->end = c->abs + i;
				http_cur_skip(c, i + 1);
				return 0;
			} else if (b == '\r') {
				return -HTTP_E_BARE_CR;
			} else {
				return b == '\t' ? -HTTP_E_BAD_REQUEST_LINE : -HTTP_E_BAD_TARGET;
			}
		}
		http_cur_skip(c, a);
	}
	t->end = c->abs;
	return pct ? -HTTP_E_BAD_TARGET : 0;
}

static void http_set_path(struct http_msg *m, uint32_t from, const struct http_tscan *t)
{
	uint32_t pend = t->query < t->end ? t->query : t->end;

	m->path.off = from;
	m->path.len = pend - from;
	m->query.off = pend < t->end ? pend + 1 : t->end;
	m->query.len = t->end - m->query.off;
}

/* absolute-form: http[s]://authority[/path][?query], authority without userinfo. */
static int http_target_absolute(struct http_msg *m, const struct http_iov *iov, unsigned int n,
				const struct http_tscan *t)
{
	struct http_cur c;
	char scheme[8];
	uint32_t slen = 0, astart, aend;
	uint8_t b;
	int hlen;

	if (http_cur_seek(&c, iov, n, t->start) < 0)
		return -HTTP_E_BAD_TARGET;
	while (c.abs < t->end) {
		b = http_cur_get(&c);
		if (b == ':')
			break;
		if (!http_is(b, HTTP_C_ALPHA | HTTP_C_DIGIT) && b != '+' && b != '-' && b != '.')
			return -HTTP_E_BAD_TARGET;
		if (slen < sizeof(scheme))
			scheme[slen] = (char)http_lower(b);
		slen++;
	}
	if (!((slen == 4 && memcmp(scheme, "http", 4) == 0) ||
	      (slen == 5 && memcmp(scheme, "https", 5) == 0)))
		return -HTTP_E_BAD_TARGET;
	if (t->end - c.abs < 2 || http_cur_get(&c) != '/' || http_cur_get(&c) != '/')
		return -HTTP_E_BAD_TARGET;
	astart = aend = c.abs;
	while (aend < t->end) {
		b = http_cur_get(&c);
		if (b == '/' || b == '?')
			break;
		if (b == '@')
			return -HTTP_E_BAD_TARGET;
		aend++;
	}
	if (t->bracket > aend)
		return -HTTP_E_BAD_TARGET;
	if (http_cur_seek(&c, iov, n, astart) < 0)
		return -HTTP_E_BAD_TARGET;
	hlen = http_parse_host(&c, aend);
	if (hlen <= 0)
		return -HTTP_E_BAD_TARGET;
	m->host.off = astart;
	m->host.len = aend - astart;
	m->host_name_len = (uint16_t)hlen;
	http_set_path(m, aend, t);
	return 0;
}

static int http_target_form(struct http_msg *m, const struct http_iov *iov, unsigned int n,
			    const struct http_tscan *t)
{
	struct http_cur c;

	if (m->method == HTTP_M_CONNECT) {
		/* authority-form: host ":" port, nothing else */
		int hlen;

		if (http_cur_seek(&c, iov, n, t->start) < 0)
			return -HTTP_E_BAD_TARGET;
		hlen = http_parse_host(&c, t->end);
		if (hlen <= 0 || (uint32_t)hlen + 1 >= t->end - t->start)
			return -HTTP_E_BAD_TARGET;
		m->target_form = HTTP_TF_AUTHORITY;
		m->host = m->target;
		m->host_name_len = (uint16_t)hlen;
		m->path.off = m->query.off = t->end;
		return 0;
	}
	if (t->first == '/') {
		if (t->bracket)
			return -HTTP_E_BAD_TARGET;
		m->target_form = HTTP_TF_ORIGIN;
		http_set_path(m, t->start, t);
		return 0;
	}
	if (t->first == '*') {
		if (t->end - t->start != 1 || m->method != HTTP_M_OPTIONS)
			return -HTTP_E_BAD_TARGET;
		m->target_form = HTTP_TF_ASTERISK;
		m->path = m->target;
		m->query.off = t->end;
		return 0;
	}
	if (http_is(t->first, HTTP_C_ALPHA)) {
		m->target_form = HTTP_TF_ABSOLUTE;
		return http_target_absolute(m, iov, n, t);
	}
	return -HTTP_E_BAD_TARGET;
}

int http_req_start_line(struct http_msg *m, struct http_cur *c, uint32_t lim)
{
	struct http_tscan t;
	char tok[HTTP_METHOD_MAX];
	char ver[8];
	uint32_t mlen, i;
	uint8_t b;
	int rc;

	m->method_s.off = c->abs;
	mlen = http_method_token(c, lim, tok, sizeof(tok));
	if (c->abs == lim)
		return mlen ? -HTTP_E_BAD_REQUEST_LINE : -HTTP_E_BAD_METHOD;
	b = http_cur_get(c);
	if (b != ' ') {
		if (b == '\r')
			return -HTTP_E_BARE_CR;
		return b == '\t' ? -HTTP_E_BAD_REQUEST_LINE : -HTTP_E_BAD_METHOD;
	}
	if (mlen == 0)
		return -HTTP_E_BAD_REQUEST_LINE;
	m->method_s.len = mlen;
	m->method = http_method_lookup(tok, mlen, sizeof(tok));

	rc = http_target_scan(c, lim, &t);
	if (rc < 0)
		return rc;
	if (t.end == t.start)
		return -HTTP_E_BAD_REQUEST_LINE;
	if (t.end - t.start > m->lim.max_target)
		return -HTTP_E_TARGET_TOO_LONG;
	if (c->abs == t.end) /* no SP after the target: no version */
		return -HTTP_E_BAD_REQUEST_LINE;
	m->target.off = t.start;
	m->target.len = t.end - t.start;

	if (lim - c->abs != 8) {
		if (c->abs < lim && http_cur_peek(c) == ' ')
			return -HTTP_E_BAD_REQUEST_LINE;
		return -HTTP_E_BAD_VERSION;
	}
	for (i = 0; i < 8; i++)
		ver[i] = (char)http_cur_get(c);
	if (memcmp(ver, "HTTP/", 5) != 0 || !http_is(ver[5], HTTP_C_DIGIT) || ver[6] != '.' ||
	    !http_is(ver[7], HTTP_C_DIGIT))
		return ver[7] == '\r' || ver[6] == '\r' ? -HTTP_E_BARE_CR : -HTTP_E_BAD_VERSION;
	if (ver[5] != '1')
		return -HTTP_E_VERSION_UNSUPPORTED;
	m->version = ver[7] == '0' ? 0 : 1; /* 1.2 to 1.9 are handled as 1.1 (RFC 9110 2.5) */

	/* The form is decided once the line is known good; the cursor still knows the input. */
	rc = http_target_form(m, c->iov, c->n, &t);
	if (rc < 0)
		return rc;
	if (m->method == HTTP_M_NONE)
		return -HTTP_E_METHOD_UNKNOWN;
	return 0;
}

uint32_t http_req_line_fast(struct http_msg *m, const uint8_t *p, uint32_t avail, uint32_t off)
{
	struct http_tscan t = { .query = UINT32_MAX, .first = '/' };
	uint32_t mlen, i;
	uint8_t method, b;

	mlen = http_token_run(p, avail);
	if (mlen == 0 || mlen == avail || p[mlen] != ' ')
		return 0;
	method = http_method_lookup((const char *)p, mlen, HTTP_METHOD_MAX);
	if (method == HTTP_M_NONE || method == HTTP_M_CONNECT)
		return 0;
	/* origin-form with plain bytes and '?' only: '%', '[', ']' and the other forms are
	 * for http_target_scan and http_target_form */
	i = mlen + 1;
	if (i == avail || p[i] != '/')
		return 0;
	for (; i < avail; i++) {
		b = p[i];
		if (http_is(b, HTTP_C_TARGET))
			continue;
		if (b != '?')
			break;
		if (t.query == UINT32_MAX)
			t.query = off + i;
	}
	t.start = off + mlen + 1;
	t.end = off + i;
	if (avail - i < 11 || p[i] != ' ' || t.end - t.start > m->lim.max_target ||
	    memcmp(p + i + 1, "HTTP/1.", 7) != 0 || !http_is(p[i + 8], HTTP_C_DIGIT) ||
	    p[i + 9] != '\r' || p[i + 10] != '\n')
		return 0;
	m->method_s.off = off;
	m->method_s.len = mlen;
	m->method = method;
	m->target.off = t.start;
	m->target.len = t.end - t.start;
	m->version = p[i + 8] == '0' ? 0 : 1;
	m->target_form = HTTP_TF_ORIGIN;
	http_set_path(m, t.start, &t);
	return i + 11;
}

int http_req_line_early(struct http_msg *m, const struct http_iov *iov, unsigned int n,
			uint32_t stop)
{
	struct http_cur c;
	uint32_t a, i;
	uint8_t b;

	if (m->early == HTTP_EL_DONE || m->scan >= stop)
		return 0;
	/* a CR that ended the bytes of the last call and is not followed by LF */
	if (m->scan > m->pos && m->prev == '\r')
		return -HTTP_E_BARE_CR;
	if (http_cur_seek(&c, iov, n, m->scan) < 0)
		return 0;
	while (c.abs < stop) {
		a = http_cur_avail(&c, stop);
		for (i = 0; i < a; i++) {
			b = c.p[i];
			if (m->pct) { /* a '%' wants two hex digits, whatever follows */
				if (!http_is(b, HTTP_C_HEX))
					return -HTTP_E_BAD_TARGET;
				m->pct--;
				continue;
			}
			if (b == '\r') {
				if (c.abs + i + 1 < stop)
					return -HTTP_E_BARE_CR; /* no LF in the bytes seen */
				continue;			/* may end the line: wait */
			}
			if (m->early == HTTP_EL_METHOD) {
				if (http_is(b, HTTP_C_TCHAR))
					continue;
				if (b == ' ' && c.abs + i > m->pos) {
					m->early = HTTP_EL_TARGET_START;
					continue;
				}
				return b == ' ' || b == '\t' ? -HTTP_E_BAD_REQUEST_LINE
							     : -HTTP_E_BAD_METHOD;
			}
			if (m->early == HTTP_EL_TARGET_START) {
				if (b == ' ')
					return -HTTP_E_BAD_REQUEST_LINE; /* empty target */
				m->early = HTTP_EL_TARGET;
			}
			if (http_is(b, HTTP_C_TARGET) || b == '?' || b == '[' || b == ']')
				continue;
			if (b == '%') {
				m->pct = 2;
				continue;
			}
			if (b == ' ') {
				m->early =
					HTTP_EL_DONE; /* the rest is checked when the line ends */
				return 0;
			}
			return b == '\t' ? -HTTP_E_BAD_REQUEST_LINE : -HTTP_E_BAD_TARGET;
		}
		http_cur_skip(&c, a);
	}
	return 0;
}

int http_req_start_line_overflow(struct http_msg *m, struct http_cur *c, uint32_t stop)
{
	char tok[HTTP_METHOD_MAX];
	uint32_t mlen, start = c->abs;

	mlen = http_method_token(c, stop, tok, sizeof(tok));
	if (c->abs == stop)
		return mlen > HTTP_METHOD_MAX ? -HTTP_E_BAD_METHOD : -HTTP_E_HEADERS_TOO_LARGE;
	if (mlen == 0 || mlen > HTTP_METHOD_MAX || http_cur_get(c) != ' ')
		return -HTTP_E_BAD_METHOD;
	/* A valid method and SP, then a line too long: the target is what is too long, unless
	 * the whole head limit is smaller than a request line may be. */
	if (stop - start < HTTP_METHOD_MAX + m->lim.max_target + 12)
		return -HTTP_E_HEADERS_TOO_LARGE;
	return -HTTP_E_TARGET_TOO_LONG;
}

int http_req_finish(struct http_msg *m)
{
	if (m->version == 1 && !(m->flags & HTTP_F_HAS_HOST))
		return -HTTP_E_HOST_MISSING;
	if (m->flags & HTTP_F_HAS_TE) {
		if (m->flags & HTTP_F_HAS_CL)
			return -HTTP_E_CL_AND_TE;
		if (m->version == 0)
			return -HTTP_E_TE_HTTP10;
		if (!(m->te & HTTP_TE_LAST))
			return -HTTP_E_TE_NOT_CHUNKED_LAST;
		/* Only "chunked" itself: a backend that knows no other coding would frame
		 * "gzip, chunked" differently (nginx and HAProxy refuse it too). */
		if (m->te & (HTTP_TE_UNKNOWN | HTTP_TE_OTHER))
			return -HTTP_E_TE_UNKNOWN;
		m->flags |= HTTP_F_CHUNKED;
		m->body = HTTP_BODY_CHUNKED;
	} else if (m->flags & HTTP_F_HAS_CL) {
		m->body = HTTP_BODY_LENGTH;
	} else {
		m->body = HTTP_BODY_NONE;
	}
	/* RFC 9110 10.1.1: a 100-continue expectation in HTTP/1.0 is ignored; so is Upgrade
	 * (7.8: a server must ignore it in an HTTP/1.0 request). */
	if (m->version == 0)
		m->flags &= ~(HTTP_F_EXPECT_CONTINUE | HTTP_F_UPGRADE | HTTP_F_CONN_UPGRADE);
	if (m->flags & HTTP_F_CONN_CLOSE)
		m->flags &= ~HTTP_F_KEEP_ALIVE;
	else if (m->version == 1 || (m->flags & HTTP_F_CONN_KEEP_ALIVE))
		m->flags |= HTTP_F_KEEP_ALIVE;
	return 0;
}

void http_req_init(struct http_msg *m, const struct http_limits *lim, struct http_header *headers)
{
	http_msg_init(m, lim, headers);
}

int http_req_parse(struct http_msg *m, const struct http_iov *iov, unsigned int n)
{
	m->is_resp = 0;
	return http_head_parse(m, iov, n);
}
