/* SPDX-License-Identifier: BSD-3-Clause
 * sluice HTTP parser internals shared by http_parse.c, http_req.c, http_resp.c and
 * http_chunk.c: character classes and the segment cursor. Not a public header.
 */
#ifndef SLUICE_HTTP_PRIV_H
#define SLUICE_HTTP_PRIV_H

#include <stdint.h>
#include <string.h>

#include "http_parse.h"

/* Character classes (bits of http_ctype[]). One table lookup per byte, no branches on ranges. */
#define HTTP_C_TCHAR 0x01  /* token (RFC 9110 5.6.2) */
#define HTTP_C_VALUE 0x02  /* field-content byte: VCHAR, obs-text, SP, HTAB */
#define HTTP_C_TARGET 0x04 /* plain request-target byte: RFC 3986 pchar and "/", but not "%" */
#define HTTP_C_HEX 0x08
#define HTTP_C_REGNAME 0x10 /* reg-name byte: unreserved, sub-delims, "%" */
#define HTTP_C_DIGIT 0x20
#define HTTP_C_QDTEXT 0x40 /* quoted-string text */
#define HTTP_C_ALPHA 0x80

extern const uint8_t http_ctype[256];

static inline int http_is(uint8_t b, uint8_t cls)
{
	return (http_ctype[b] & cls) != 0;
}

static inline uint8_t http_lower(uint8_t b)
{
	return (uint8_t)(b | ((uint8_t)(b - 'A') < 26u ? 0x20 : 0));
}

static inline int http_hexval(uint8_t b)
{
	if ((uint8_t)(b - '0') < 10u)
		return b - '0';
	return http_lower(b) - 'a' + 10;
}

/* The two scans every head byte goes through, 16 bytes at a time where the CPU allows, byte by
 * byte (the _scalar versions, which the unit tests hold the others to) everywhere else and
 * for the last bytes of a segment: a vector load never reads past p + n.
 *
 * http_value_run: length of the run of field-content bytes (VCHAR, obs-text, SP, HTAB) at
 * the start of p[0..n). The byte that stops it is where a well-formed line has its CR.
 * SSE2 on x86-64 (the baseline has it), the compiler's generic vectors elsewhere.
 *
 * http_token_run: length of the run of tchar bytes at the start of p[0..n): a method or a
 * field name. SSE4.2 (PCMPESTRI over character ranges, picohttpparser's technique) when the
 * CPU has it, chosen at run time; the default build stays x86-64 baseline. */
uint32_t http_value_run(const uint8_t *p, uint32_t n);
uint32_t http_value_run_scalar(const uint8_t *p, uint32_t n);
uint32_t http_token_run(const uint8_t *p, uint32_t n);
uint32_t http_token_run_scalar(const uint8_t *p, uint32_t n);
/* The same for the reg-name bytes of a Host other than '%' (SSE4.2 where the CPU has it). */
uint32_t http_regname_run(const uint8_t *p, uint32_t n);
/* The same, the back bytes before p readable too (a vector load may start there). */
uint32_t http_regname_run_back(const uint8_t *p, uint32_t n, uint32_t back);
uint32_t http_regname_run_scalar(const uint8_t *p, uint32_t n);

static inline uint32_t http_load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t http_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Whether p[0..2) is CRLF. */
static inline int http_is_crlf(const uint8_t *p)
{
	uint16_t v, crlf;

	memcpy(&v, p, sizeof(v));
	memcpy(&crlf, "\r\n", sizeof(crlf));
	return v == crlf;
}

/* Whether p[0..len), token or field-value bytes, is lit (lowercase letters, digits and '-',
 * len >= 4) in any case: a word or two compared, overlapping. OR-ing 0x20 folds case exactly
 * on such bytes: the only other bytes it turns into a letter, a digit or '-' are control
 * bytes, which neither holds. */
static inline int http_token_is(const uint8_t *p, uint32_t len, const char *lit)
{
	const uint8_t *l = (const uint8_t *)lit;
	const uint64_t fold = 0x2020202020202020u;
	uint32_t i;

	if (len < 8)
		return ((http_load32(p) | (uint32_t)fold) == http_load32(l)) &&
		       ((http_load32(p + len - 4) | (uint32_t)fold) == http_load32(l + len - 4));
	for (i = 0; i + 8 < len; i += 8)
		if ((http_load64(p + i) | fold) != http_load64(l + i))
			return 0;
	return (http_load64(p + len - 8) | fold) == http_load64(l + len - 8);
}

/* Head parser states (http_msg.state). */
enum {
	HTTP_HS_START = 0, /* request line or status line */
	HTTP_HS_HEADERS,
	HTTP_HS_DONE,
	HTTP_HS_ERROR,
};

/* http_msg.te bits, accumulated over every Transfer-Encoding line. */
#define HTTP_TE_CHUNKED 0x01 /* chunked seen */
#define HTTP_TE_LAST 0x02    /* the last coding seen so far is chunked */
#define HTTP_TE_UNKNOWN 0x04 /* a coding we do not know */
#define HTTP_TE_TWICE 0x08   /* chunked more than once */
#define HTTP_TE_OTHER 0x10   /* a coding other than chunked, known or not */

/* http_msg.early: where the check of a request line still arriving stands. */
enum {
	HTTP_EL_METHOD = 0,   /* in the method token (or before it: empty lines) */
	HTTP_EL_TARGET_START, /* right after the SP that ends the method */
	HTTP_EL_TARGET,	      /* in the request-target */
	HTTP_EL_DONE,	      /* past the target: the complete line is checked when it ends */
};

/* Longest method token accepted (the longest registered method is shorter). */
#define HTTP_METHOD_MAX 32

/* A read position in a segment list. p == end means "at a segment boundary": http_cur_get
 * moves on to the next non-empty segment. Callers bound every read by an absolute offset they
 * know to be inside the input, so the cursor itself never checks for the end of input. */
struct http_cur {
	const struct http_iov *iov;
	unsigned int n;
	unsigned int seg;
	const uint8_t *p;
	const uint8_t *end;
	uint32_t abs; /* stream offset of p */
};

static inline void http_cur_fix(struct http_cur *c)
{
	while (c->p == c->end && c->seg + 1 < c->n) {
		c->seg++;
		if (c->iov[c->seg].len == 0)
			continue;
		c->p = c->iov[c->seg].base;
		c->end = c->p + c->iov[c->seg].len;
	}
}

/* Next byte; there must be one. */
static inline uint8_t http_cur_get(struct http_cur *c)
{
	http_cur_fix(c);
	c->abs++;
	return *c->p++;
}

/* Bytes readable in the current segment without crossing lim (at least 1 when abs < lim). */
static inline uint32_t http_cur_avail(struct http_cur *c, uint32_t lim)
{
	uint32_t a;

	http_cur_fix(c);
	a = (uint32_t)(c->end - c->p);
	return a < lim - c->abs ? a : lim - c->abs;
}

static inline void http_cur_skip(struct http_cur *c, uint32_t k)
{
	c->p += k;
	c->abs += k;
}

/* Position c at stream offset abs. Returns 0, or -1 when the input is shorter than abs. */
int http_cur_seek(struct http_cur *c, const struct http_iov *iov, unsigned int n, uint32_t abs);

/* Total bytes of the input. */
uint32_t http_iov_total(const struct http_iov *iov, unsigned int n);

/* Skip SP and HTAB up to lim. */
static inline void http_cur_ows(struct http_cur *c, uint32_t lim)
{
	while (c->abs < lim) {
		http_cur_fix(c);
		if (*c->p != ' ' && *c->p != '\t')
			return;
		http_cur_skip(c, 1);
	}
}

/* Peek the next byte (abs < lim required). */
static inline uint8_t http_cur_peek(struct http_cur *c)
{
	http_cur_fix(c);
	return *c->p;
}

/* Read a token up to lim, keeping its first bytes lowercased in low (lowcap bytes). Returns
 * the token's length (0 when the next byte is not a token byte). */
uint32_t http_cur_token(struct http_cur *c, uint32_t lim, char *low, uint32_t lowcap);

/* Validate a host[:port] (RFC 3986 IP-literal / reg-name, port *DIGIT <= 65535) spanning
 * [c->abs, lim). Returns the length of the host part, or -1. An empty input is valid (0). */
int http_parse_host(struct http_cur *c, uint32_t lim);

/* Case-insensitive comparison of two spans of the same input. */
int http_span_eq_span_nocase(const struct http_iov *iov, unsigned int n, struct http_span a,
			     struct http_span b);

/* Per-message callbacks of the common head parser, implemented in http_req.c and
 * http_resp.c. Each line is [c->abs, lim) without its CRLF. */
int http_req_start_line(struct http_msg *m, struct http_cur *c, uint32_t lim);
int http_req_start_line_overflow(struct http_msg *m, struct http_cur *c, uint32_t lim);
/* Check the bytes [m->scan, stop) of a request line that has not ended yet, as far as they
 * already decide its fate: the error the whole line would get once it ended, or 0. */
int http_req_line_early(struct http_msg *m, const struct http_iov *iov, unsigned int n,
			uint32_t stop);
int http_req_finish(struct http_msg *m);
int http_resp_status_line(struct http_msg *m, struct http_cur *c, uint32_t lim);

/* Fast paths of the start lines: the line at p, whose bytes up to where it must have ended
 * (its LF included) are p[0..avail) of one segment and start at stream offset off, when it
 * is plainly well formed. Return its length with its CRLF, or 0 for anything else, which the
 * functions above then judge: they are the reference, the fast paths only agree with them. */
uint32_t http_req_line_fast(struct http_msg *m, const uint8_t *p, uint32_t avail, uint32_t off);
uint32_t http_resp_line_fast(struct http_msg *m, const uint8_t *p, uint32_t avail, uint32_t off);
int http_resp_finish(struct http_msg *m);

/* Common driver: find lines, parse fields. */
int http_head_parse(struct http_msg *m, const struct http_iov *iov, unsigned int n);
void http_msg_init(struct http_msg *m, const struct http_limits *lim, struct http_header *headers);

#endif /* SLUICE_HTTP_PRIV_H */
