/* SPDX-License-Identifier: BSD-3-Clause
 * sluice HTTP parser: body framing (Content-Length, chunked, close-delimited, tunnel) and the
 * chunked decoder (RFC 9112 7.1), resumable at any byte.
 */
#include <errno.h>
#include <string.h>

#include "http_priv.h"

/* A chunk-size line (size and extensions) longer than this is refused: extensions are never
 * used by sluice and an endless one would pin the connection. */
#define HTTP_CHUNK_LINE_MAX 4096
/* Trailer section limit. */
#define HTTP_TRAILER_MAX 16384

enum {
	BS_SIZE0,	  /* first hex digit */
	BS_SIZE,	  /* more hex digits, or what follows them */
	BS_EXT_BWS,	  /* whitespace that must lead to ';' */
	BS_EXT_NAME0,	  /* after ';': BWS then a name */
	BS_EXT_NAME,	  /* in a name */
	BS_EXT_NAME_BWS,  /* whitespace after a name: '=' or ';' must follow */
	BS_EXT_VAL0,	  /* after '=': BWS then token or quoted-string */
	BS_EXT_VAL_TOKEN, /* in a token value */
	BS_EXT_QUOTED,	  /* in a quoted-string */
	BS_EXT_QUOTED_ESC,
	BS_EXT_AFTER_VAL, /* after a closing quote */
	BS_SIZE_LF,	  /* CR seen at the end of the size line */
	BS_DATA,
	BS_DATA_CR,
	BS_DATA_LF,
	BS_TR_START, /* start of a trailer line, or the final CRLF */
	BS_TR_NAME,
	BS_TR_VALUE,
	BS_TR_LF,
	BS_TR_END_LF,
	BS_ERROR,
};

int http_body_init(struct http_body *b, const struct http_msg *m, uint64_t max_body)
{
	memset(b, 0, sizeof(*b));
	b->kind = m->body;
	b->max_body = max_body;
	b->state = BS_SIZE0;
	switch (b->kind) {
	case HTTP_BODY_LENGTH:
		if (max_body && m->content_length > max_body) {
			b->state = BS_ERROR;
			b->err = -HTTP_E_BODY_TOO_LARGE;
			return b->err;
		}
		b->remaining = m->content_length;
		b->done = b->remaining == 0;
		break;
	case HTTP_BODY_CHUNKED:
	case HTTP_BODY_CLOSE:
	case HTTP_BODY_TUNNEL:
		break;
	default:
		b->kind = HTTP_BODY_NONE;
		b->done = 1;
		break;
	}
	return 0;
}

static int http_body_fail(struct http_body *b, int err)
{
	b->state = BS_ERROR;
	b->err = err;
	return err;
}

/* A byte that does not fit the grammar: a lone LF says more than the state's own error. */
static int http_chunk_bad(struct http_body *b, uint8_t c, int err)
{
	return http_body_fail(b, c == '\n' ? -HTTP_E_BARE_LF : err);
}

static inline int http_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* One framing byte of a chunk-size line. Returns 0 or a negative error. */
static int http_chunk_line_byte(struct http_body *b, uint8_t c)
{
	if (++b->line > HTTP_CHUNK_LINE_MAX)
		return http_body_fail(b, -HTTP_E_CHUNK_EXT);
	switch (b->state) {
	case BS_SIZE0:
		if (!http_is(c, HTTP_C_HEX))
			return http_chunk_bad(b, c, -HTTP_E_CHUNK_SIZE);
		b->size = (uint64_t)http_hexval(c);
		b->state = BS_SIZE;
		return 0;
	case BS_SIZE:
		if (http_is(c, HTTP_C_HEX)) {
			/* Sizes of 2^63 and more are refused before they can wrap. */
			if (b->size >> 59)
				return http_body_fail(b, -HTTP_E_CHUNK_SIZE);
			b->size = (b->size << 4) | (uint64_t)http_hexval(c);
		} else if (c == ';') {
			b->state = BS_EXT_NAME0;
		} else if (http_ws(c)) {
			b->state = BS_EXT_BWS;
		} else if (c == '\r') {
			b->state = BS_SIZE_LF;
		} else {
			return http_chunk_bad(b, c, -HTTP_E_CHUNK_SIZE);
		}
		return 0;
	case BS_EXT_BWS:
		if (c == ';')
			b->state = BS_EXT_NAME0;
		else if (!http_ws(c))
			return http_chunk_bad(b, c, -HTTP_E_CHUNK_EXT);
		return 0;
	case BS_EXT_NAME0:
		if (http_is(c, HTTP_C_TCHAR))
			b->state = BS_EXT_NAME;
		else if (!http_ws(c))
			return http_chunk_bad(b, c, -HTTP_E_CHUNK_EXT);
		return 0;
	case BS_EXT_NAME:
		if (http_is(c, HTTP_C_TCHAR))
			return 0;
		if (c == '=')
			b->state = BS_EXT_VAL0;
		else if (c == ';')
			b->state = BS_EXT_NAME0;
		else if (http_ws(c))
			b->state = BS_EXT_NAME_BWS;
		else if (c == '\r')
			b->state = BS_SIZE_LF;
		else
			return http_chunk_bad(b, c, -HTTP_E_CHUNK_EXT);
		return 0;
	case BS_EXT_NAME_BWS:
		if (c == '=')
			b->state = BS_EXT_VAL0;
		else if (c == ';')
			b->state = BS_EXT_NAME0;
		else if (!http_ws(c))
			return http_chunk_bad(b, c, -HTTP_E_CHUNK_EXT);
		return 0;
	case BS_EXT_VAL0:
		if (http_is(c, HTTP_C_TCHAR))
			b->state = BS_EXT_VAL_TOKEN;
		else if (c == '"')
			b->state = BS_EXT_QUOTED;
		else if (!http_ws(c))
			return http_chunk_bad(b, c, -HTTP_E_CHUNK_EXT);
		return 0;
	case BS_EXT_VAL_TOKEN:
	case BS_EXT_AFTER_VAL:
		if (b->state == BS_EXT_VAL_TOKEN && http_is(c, HTTP_C_TCHAR))
			return 0;
		if (c == ';')
			b->state = BS_EXT_NAME0;
		else if (http_ws(c))
			b->state = BS_EXT_BWS;
		else if (c == '\r')
			b->state = BS_SIZE_LF;
		else
			return http_chunk_bad(b, c, -HTTP_E_CHUNK_EXT);
		return 0;
	case BS_EXT_QUOTED:
		if (c == '"')
			b->state = BS_EXT_AFTER_VAL;
		else if (c == '\\')
			b->state = BS_EXT_QUOTED_ESC;
		else if (!http_is(c, HTTP_C_QDTEXT))
			return http_chunk_bad(b, c, -HTTP_E_CHUNK_EXT);
		return 0;
	case BS_EXT_QUOTED_ESC:
		if (!http_is(c, HTTP_C_VALUE))
			return http_chunk_bad(b, c, -HTTP_E_CHUNK_EXT);
		b->state = BS_EXT_QUOTED;
		return 0;
	case BS_SIZE_LF:
		if (c != '\n')
			return http_body_fail(b, -HTTP_E_BARE_CR);
		b->line = 0;
		if (b->size == 0) {
			b->state = BS_TR_START;
			return 0;
		}
		if (b->max_body && b->size > b->max_body - b->total)
			return http_body_fail(b, -HTTP_E_BODY_TOO_LARGE);
		b->remaining = b->size;
		b->state = BS_DATA;
		return 0;
	}
	return http_body_fail(b, -EINVAL);
}

/* One byte after chunk data or of the trailer section. */
static int http_chunk_tail_byte(struct http_body *b, uint8_t c)
{
	switch (b->state) {
	case BS_DATA_CR:
		if (c != '\r')
			return http_body_fail(b, -HTTP_E_CHUNK_CRLF);
		b->state = BS_DATA_LF;
		return 0;
	case BS_DATA_LF:
		if (c != '\n')
			return http_body_fail(b, -HTTP_E_CHUNK_CRLF);
		b->state = BS_SIZE0;
		b->line = 0;
		return 0;
	}
	if (++b->line > HTTP_TRAILER_MAX)
		return http_body_fail(b, -HTTP_E_HEADERS_TOO_LARGE);
	switch (b->state) {
	case BS_TR_START:
		if (c == '\r')
			b->state = BS_TR_END_LF;
		else if (http_is(c, HTTP_C_TCHAR))
			b->state = BS_TR_NAME;
		else if (http_ws(c))
			return http_body_fail(b, -HTTP_E_OBS_FOLD);
		else
			return http_chunk_bad(b, c, -HTTP_E_BAD_TRAILER);
		return 0;
	case BS_TR_NAME:
		if (c == ':')
			b->state = BS_TR_VALUE;
		else if (http_ws(c))
			return http_body_fail(b, -HTTP_E_WS_BEFORE_COLON);
		else if (!http_is(c, HTTP_C_TCHAR))
			return http_chunk_bad(b, c, -HTTP_E_BAD_TRAILER);
		return 0;
	case BS_TR_VALUE:
		if (c == '\r')
			b->state = BS_TR_LF;
		else if (!http_is(c, HTTP_C_VALUE))
			return http_chunk_bad(b, c, -HTTP_E_BAD_TRAILER);
		return 0;
	case BS_TR_LF:
	case BS_TR_END_LF:
		if (c != '\n')
			return http_body_fail(b, -HTTP_E_BARE_CR);
		if (b->state == BS_TR_END_LF)
			b->done = 1;
		b->state = BS_TR_START;
		return 0;
	}
	return http_body_fail(b, -EINVAL);
}

static int http_chunked(struct http_body *b, const uint8_t *p, uint32_t len,
			struct http_body_data *d)
{
	uint32_t i = 0, k;
	int rc;

	while (i < len) {
		if (b->state == BS_DATA) {
			k = b->remaining < len - i ? (uint32_t)b->remaining : len - i;
			d->off = i;
			d->len = k;
			b->remaining -= k;
			b->total += k;
			if (b->remaining == 0)
				b->state = BS_DATA_CR;
			return (int)(i + k);
		}
		if (b->state <= BS_SIZE_LF)
			rc = http_chunk_line_byte(b, p[i]);
		else
			rc = http_chunk_tail_byte(b, p[i]);
		i++;
		if (rc < 0)
			return rc;
		if (b->done)
			break;
	}
	return (int)i;
}

int http_body_parse(struct http_body *b, const uint8_t *p, uint32_t len, struct http_body_data *d)
{
	uint32_t k;

	d->off = 0;
	d->len = 0;
	if (b->state == BS_ERROR)
		return b->err;
	if (b->done || len == 0)
		return 0;
	switch (b->kind) {
	case HTTP_BODY_LENGTH:
		k = b->remaining < len ? (uint32_t)b->remaining : len;
		d->len = k;
		b->remaining -= k;
		b->total += k;
		b->done = b->remaining == 0;
		return (int)k;
	case HTTP_BODY_CHUNKED:
		return http_chunked(b, p, len, d);
	case HTTP_BODY_CLOSE:
		if (b->max_body && len > b->max_body - b->total)
			return http_body_fail(b, -HTTP_E_BODY_TOO_LARGE);
		/* fall through */
	default:
		d->len = len;
		b->total += len;
		return (int)len;
	}
}

int http_body_skip(struct http_body *b, const struct http_iov *iov, unsigned int n)
{
	struct http_body_data d;
	uint32_t used = 0, off;
	unsigned int i;
	int rc;

	for (i = 0; i < n && !b->done; i++) {
		off = 0;
		while (off < iov[i].len && !b->done) {
			rc = http_body_parse(b, iov[i].base + off, iov[i].len - off, &d);
			if (rc < 0)
				return rc;
			off += (uint32_t)rc;
		}
		used += off;
	}
	if (b->state == BS_ERROR)
		return b->err;
	return (int)used;
}

int http_body_eof(struct http_body *b)
{
	if (b->state == BS_ERROR)
		return b->err;
	if (b->done || b->kind == HTTP_BODY_CLOSE || b->kind == HTTP_BODY_TUNNEL) {
		b->done = 1;
		return 0;
	}
	return -HTTP_E_TRUNCATED;
}
