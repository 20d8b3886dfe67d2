/* SPDX-License-Identifier: BSD-3-Clause
 * sluice HTTP parser: the head driver shared by requests and responses (line finding, limits,
 * field lines and the fields that decide framing), errors, spans and the mbuf mapping.
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "http_priv.h"

/* Generated from the RFC 9110 / RFC 3986 grammars; the bits are the HTTP_C_* classes. */
const uint8_t http_ctype[256] = {
	/* 0x00 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* 0x08 */ 0x00, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* 0x10 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* 0x18 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* 0x20 */ 0x42, 0x57, 0x02, 0x43, 0x57, 0x53, 0x57, 0x57,
	/* 0x28 */ 0x56, 0x56, 0x57, 0x57, 0x56, 0x57, 0x57, 0x46,
	/* 0x30 */ 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f,
	/* 0x38 */ 0x7f, 0x7f, 0x46, 0x56, 0x42, 0x56, 0x42, 0x42,
	/* 0x40 */ 0x46, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xd7,
	/* 0x48 */ 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7,
	/* 0x50 */ 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7,
	/* 0x58 */ 0xd7, 0xd7, 0xd7, 0x42, 0x02, 0x42, 0x43, 0x57,
	/* 0x60 */ 0x43, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xd7,
	/* 0x68 */ 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7,
	/* 0x70 */ 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7,
	/* 0x78 */ 0xd7, 0xd7, 0xd7, 0x42, 0x43, 0x42, 0x57, 0x00,
	/* 0x80 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0x88 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0x90 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0x98 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xa0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xa8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xb0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xb8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xc0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xc8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xd0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xd8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xe0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xe8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xf0 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	/* 0xf8 */ 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};

uint32_t http_value_run_scalar(const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (!http_is(p[i], HTTP_C_VALUE))
			break;
	return i;
}

uint32_t http_token_run_scalar(const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (!http_is(p[i], HTTP_C_TCHAR))
			break;
	return i;
}

/* x86: SSE2 always, SSE4.2 when the CPU has it. -DHTTP_PORTABLE builds the portable versions
 * below on x86 too, to test them there (tests/unit pass with either). */
uint32_t http_regname_run_scalar(const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (!http_is(p[i], HTTP_C_REGNAME) || p[i] == '%')
			break;
	return i;
}

/* What follows a field's colon, q[0..r): leading OWS skipped, the value scanned to the byte
 * that stops it (the CR of a good line), trailing OWS trimmed. Returns the stopping byte's
 * index (r when none does); the value is q[*vs..*ve). Byte by byte: the reference of the
 * vector version below, and what it falls back to for what it does not take. */
static uint32_t http_value_ows_scalar(const uint8_t *q, uint32_t r, uint32_t *vs, uint32_t *ve)
{
	uint32_t s = 0, i, end;

	while (s < r && (q[s] == ' ' || q[s] == '\t'))
		s++;
	i = s + http_value_run(q + s, r - s);
	for (end = i; end > s && (q[end - 1] == ' ' || q[end - 1] == '\t');)
		end--;
	*vs = s;
	*ve = end;
	return i;
}

#if (defined(__x86_64__) || defined(__i386__)) && !defined(HTTP_PORTABLE)
#include <immintrin.h>

/* Bit k set when byte k of v is a control byte other than HTAB (unsigned v <= 0x1f:
 * min(v, 0x1f) == v), or DEL. */
static inline uint32_t http_value_bad16(__m128i v)
{
	const __m128i ctl = _mm_set1_epi8(0x1f), tab = _mm_set1_epi8('\t');
	const __m128i del = _mm_set1_epi8(0x7f);
	__m128i c =
		_mm_andnot_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));

	return (uint32_t)_mm_movemask_epi8(_mm_or_si128(c, _mm_cmpeq_epi8(v, del)));
}

/* Inline in the fast path's loop, where a head spends most of its bytes. */
static inline __attribute__((always_inline)) uint32_t http_value_run_fast(const uint8_t *p,
									  uint32_t n)
{
	uint8_t tail[16] = { 0 };
	uint32_t i, bad;

	for (i = 0; i + 16 <= n; i += 16) {
		bad = http_value_bad16(_mm_loadu_si128((const __m128i *)(p + i)));
		if (bad)
			return i + (uint32_t)__builtin_ctz(bad);
	}
	if (i == n)
		return n;
	/* the last bytes through a zeroed copy, NUL standing for the end: no load past p + n */
	memcpy(tail, p + i, n - i);
	bad = http_value_bad16(_mm_loadu_si128((const __m128i *)tail));
	return i + (uint32_t)__builtin_ctz(bad);
}

uint32_t http_value_run(const uint8_t *p, uint32_t n)
{
	return http_value_run_fast(p, n);
}

/* Bit k when byte k of v is SP or HTAB. */
static inline uint32_t http_ows16(__m128i v)
{
	return (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
							_mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
}

/* http_value_ows_scalar from 16-byte masks of the bytes that stop a value and of OWS: the
 * first byte outside the OWS mask starts the value, the first one in the stop mask ends it,
 * the last one outside the OWS mask before that is its last. Bytes past r are never read:
 * fewer than 16 are read as the 16 that end at q + r (back bytes before q being readable),
 * the masks shifted down, the end standing for a stopping byte. A value whose leading OWS
 * fills a load or whose trailing OWS starts in an earlier one, and the last bytes of a
 * segment shorter than a load, go to the scalar version. */
static inline __attribute__((always_inline)) uint32_t
http_value_ows(const uint8_t *q, uint32_t r, uint32_t back, uint32_t *vs, uint32_t *ve)
{
	uint32_t i = 0, bad, ows, lead, e, keep, s;
	__m128i v;

	if (r >= 16) {
		v = _mm_loadu_si128((const __m128i *)q);
		ows = http_ows16(v);
		bad = http_value_bad16(v);
	} else if (r + back >= 16) {
		s = 16 - r;
		v = _mm_loadu_si128((const __m128i *)(q + r - 16));
		ows = http_ows16(v) >> s;
		bad = (http_value_bad16(v) >> s) | (1u << r);
	} else {
		return http_value_ows_scalar(q, r, vs, ve);
	}
	lead = (uint32_t)__builtin_ctz(~ows); /* ows has 16 bits at most: lead <= 16 */
	if (lead == 16)
		return http_value_ows_scalar(q, r, vs, ve);
	while (bad == 0) {
		/* r >= 16 here: the load that ends at q + r is readable */
		i += 16;
		if (r - i >= 16) {
			v = _mm_loadu_si128((const __m128i *)(q + i));
			ows = http_ows16(v);
			bad = http_value_bad16(v);
		} else {
			s = 16 - (r - i);
			v = _mm_loadu_si128((const __m128i *)(q + r - 16));
			ows = http_ows16(v) >> s;
			bad = (http_value_bad16(v) >> s) | (1u << (r - i));
		}
	}
	e = (uint32_t)__builtin_ctz(bad);
	/* bytes of this load before the stop that are not OWS (none before lead in the first) */
	keep = ~ows & ((1u << e) - 1);
	if (keep == 0)
		return http_value_ows_scalar(q, r, vs, ve);
	*vs = lead;
	*ve = i + 32 - (uint32_t)__builtin_clz(keep);
	return i + e;
}

/* PCMPESTRI with negative polarity finds the first byte outside the ranges. They are the
 * tchars but '~' (eight ranges are all an instruction takes), so a '~' it stops at is looked
 * at again. (Valgrind knows this form, 0x14, and not the positive one, 0x04.) */
__attribute__((target("sse4.2"))) static inline uint32_t http_token_run_sse42(const uint8_t *p,
									      uint32_t n)
{
	static const uint8_t tchar_ranges[16] = { '!', '!', '#', '\'', '*', '+', '-', '.',
						  '0', '9', 'A', 'Z',  '^', 'z', '|', '|' };
	const __m128i r = _mm_loadu_si128((const __m128i *)tchar_ranges);
	uint32_t i = 0;
	int k;

	while (i + 16 <= n) {
		k = _mm_cmpestri(r, 16, _mm_loadu_si128((const __m128i *)(p + i)), 16,
				 _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_NEGATIVE_POLARITY |
					 _SIDD_LEAST_SIGNIFICANT);
		i += (uint32_t)k;
		if (k < 16 && p[i++] != '~')
			return i - 1;
	}
	return i + http_token_run_scalar(p + i, n - i);
}

/* The same for a field name, n >= 16: a name shorter than 16 bytes ends at its colon inside the
 * first load, so that one PCMPESTRI finds it; anything else goes on as above. */
__attribute__((target("sse4.2"))) static inline uint32_t http_name_run_sse42(const uint8_t *p,
									     uint32_t n)
{
	static const uint8_t tchar_ranges[16] = { '!', '!', '#', '\'', '*', '+', '-', '.',
						  '0', '9', 'A', 'Z',  '^', 'z', '|', '|' };
	int k = _mm_cmpestri(_mm_loadu_si128((const __m128i *)tchar_ranges), 16,
			     _mm_loadu_si128((const __m128i *)p), 16,
			     _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_NEGATIVE_POLARITY |
				     _SIDD_LEAST_SIGNIFICANT);

	if (k < 16 && p[k] == ':')
		return (uint32_t)k;
	return http_token_run_sse42(p, n);
}

/* DPDK builds everything for -march=corei7, SSE4.2 included: then it is known when compiling.
 * A build for the x86-64 baseline asks the CPU. */
static inline int http_have_sse42(void)
{
#ifdef __SSE4_2__
	return 1;
#else
	return __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t http_token_run(const uint8_t *p, uint32_t n)
{
	if (n >= 16 && http_have_sse42())
		return http_token_run_sse42(p, n);
	return http_token_run_scalar(p, n);
}

/* The same for reg-name bytes but '%': the ranges are the most of them that eight take, the
 * scalar loop goes on from a byte outside them ('=', '_', '~' or the end). */
__attribute__((target("sse4.2"))) static uint32_t http_regname_run_sse42(const uint8_t *p,
									 uint32_t n, uint32_t back)
{
	static const uint8_t regname_ranges[16] = { '-', '.', '0', '9', 'A', 'Z', 'a', 'z',
						    '!', '!', '$', '$', '&', ',', ';', ';' };
	const __m128i r = _mm_loadu_si128((const __m128i *)regname_ranges);
	uint32_t i = 0, out;
	int k;

	if (n < 16) {
		/* a Host is short: the 16 bytes that end at p + n as a mask of the bytes outside
		 * the ranges (PCMPESTRM, the same form 0x14), shifted down, the end standing for
		 * one; through a zeroed copy, NUL stopping the scan, when they are not readable */
		if (n + back >= 16) {
			out = (uint32_t)_mm_cvtsi128_si32(_mm_cmpestrm(
				r, 16, _mm_loadu_si128((const __m128i *)(p + n - 16)), 16,
				_SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_NEGATIVE_POLARITY |
					_SIDD_BIT_MASK));
			k = __builtin_ctz(((out & 0xffff) >> (16 - n)) | (1u << n));
		} else {
			uint8_t tail[16] = { 0 };

			memcpy(tail, p, n);
			k = _mm_cmpestri(r, 16, _mm_loadu_si128((const __m128i *)tail), 16,
					 _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES |
						 _SIDD_NEGATIVE_POLARITY | _SIDD_LEAST_SIGNIFICANT);
		}
		return (uint32_t)k + http_regname_run_scalar(p + k, n - (uint32_t)k);
	}
	do {
		k = _mm_cmpestri(r, 16, _mm_loadu_si128((const __m128i *)(p + i)), 16,
				 _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_NEGATIVE_POLARITY |
					 _SIDD_LEAST_SIGNIFICANT);
		i += (uint32_t)k;
	} while (k == 16 && i + 16 <= n);
	return i + http_regname_run_scalar(p + i, n - i);
}

uint32_t http_regname_run_back(const uint8_t *p, uint32_t n, uint32_t back)
{
	if (http_have_sse42())
		return http_regname_run_sse42(p, n, back);
	return http_regname_run_scalar(p, n);
}

uint32_t http_regname_run(const uint8_t *p, uint32_t n)
{
	return http_regname_run_back(p, n, 0);
}
#else
/* GCC/clang vector extension: NEON on arm64, plain code elsewhere. */
typedef uint8_t http_v16 __attribute__((vector_size(16)));

uint32_t http_value_run(const uint8_t *p, uint32_t n)
{
	uint32_t i = 0;

	for (; i + 16 <= n; i += 16) {
		http_v16 v, bad;
		uint64_t w[2];

		memcpy(&v, p + i, sizeof(v));
		bad = (http_v16)((v < 0x20) & (v != '\t')) | (http_v16)(v == 0x7f);
		memcpy(w, &bad, sizeof(w));
		if (w[0] | w[1])
			break;
	}
	return i + http_value_run_scalar(p + i, n - i);
}

uint32_t http_token_run(const uint8_t *p, uint32_t n)
{
	return http_token_run_scalar(p, n);
}

uint32_t http_regname_run(const uint8_t *p, uint32_t n)
{
	return http_regname_run_scalar(p, n);
}

uint32_t http_regname_run_back(const uint8_t *p, uint32_t n, uint32_t back)
{
	(void)back;
	return http_regname_run_scalar(p, n);
}

static inline uint32_t http_value_run_fast(const uint8_t *p, uint32_t n)
{
	return http_value_run(p, n);
}

static inline uint32_t http_value_ows(const uint8_t *q, uint32_t r, uint32_t back, uint32_t *vs,
				      uint32_t *ve)
{
	(void)back;
	return http_value_ows_scalar(q, r, vs, ve);
}

static inline int http_have_sse42(void)
{
	return 0;
}

static inline uint32_t http_token_run_sse42(const uint8_t *p, uint32_t n)
{
	return http_token_run_scalar(p, n);
}

static inline uint32_t http_name_run_sse42(const uint8_t *p, uint32_t n)
{
	return http_token_run_scalar(p, n);
}
#endif

static const struct {
	const char *name;
	const char *desc;
	uint16_t status;
} http_errs[] = {
#define HTTP_ERR_ROW(n, s, d) { #n, d, s },
	HTTP_ERRORS(HTTP_ERR_ROW)
#undef HTTP_ERR_ROW
};

static int http_err_index(int err)
{
	if (err < 0)
		err = -err;
	if (err <= HTTP_E_BASE || err >= HTTP_E_END)
		return -1;
	return err - HTTP_E_BASE - 1;
}

int http_error_status(int err)
{
	int i = http_err_index(err);

	return i < 0 ? 500 : http_errs[i].status;
}

const char *http_error_str(int err)
{
	int i = http_err_index(err);

	if (i >= 0)
		return http_errs[i].desc;
	return err == -EAGAIN ? "incomplete" : "not an HTTP error";
}

const char *http_error_name(int err)
{
	int i = http_err_index(err);

	if (i >= 0)
		return http_errs[i].name;
	return err == -EAGAIN ? "EAGAIN" : "OTHER";
}

uint32_t http_iov_total(const struct http_iov *iov, unsigned int n)
{
	uint32_t t = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		t += iov[i].len;
	return t;
}

int http_cur_seek(struct http_cur *c, const struct http_iov *iov, unsigned int n, uint32_t abs)
{
	uint32_t base = 0;
	unsigned int i;

	c->iov = iov;
	c->n = n;
	c->abs = abs;
	for (i = 0; i < n; i++) {
		if (abs < base + iov[i].len) {
			c->seg = i;
			c->p = iov[i].base + (abs - base);
			c->end = iov[i].base + iov[i].len;
			return 0;
		}
		base += iov[i].len;
	}
	if (abs != base)
		return -1;
	/* At the very end: an empty position that http_cur_fix cannot move past. */
	c->seg = n ? n - 1 : 0;
	c->p = c->end = (n && iov[n - 1].len) ? iov[n - 1].base + iov[n - 1].len : NULL;
	return 0;
}

uint32_t http_cur_token(struct http_cur *c, uint32_t lim, char *low, uint32_t lowcap)
{
	uint32_t len = 0, a, i;

	while (c->abs < lim) {
		a = http_cur_avail(c, lim);
		for (i = 0; i < a; i++) {
			uint8_t b = c->p[i];

			if (!http_is(b, HTTP_C_TCHAR)) {
				http_cur_skip(c, i);
				return len;
			}
			if (len < lowcap)
				low[len] = (char)http_lower(b);
			len++;
		}
		http_cur_skip(c, a);
	}
	return len;
}

__attribute__((noinline)) int http_parse_host(struct http_cur *c, uint32_t lim)
{
	uint32_t start = c->abs, port = 0, digits = 0;
	int hlen;
	uint8_t b;

	if (start == lim)
		return 0;
	if (http_cur_peek(c) == '[') {
		http_cur_get(c);
		for (;;) {
			if (c->abs == lim)
				return -1;
			b = http_cur_get(c);
			if (b == ']')
				break;
			if (b == '%' || (!http_is(b, HTTP_C_REGNAME | HTTP_C_HEX) && b != ':'))
				return -1;
		}
		if (c->abs - start == 2)
			return -1;
	} else {
		while (c->abs < lim && http_cur_peek(c) != ':') {
			b = http_cur_get(c);
			if (!http_is(b, HTTP_C_REGNAME))
				return -1;
			if (b == '%') {
				if (lim - c->abs < 2 || !http_is(http_cur_get(c), HTTP_C_HEX) ||
				    !http_is(http_cur_get(c), HTTP_C_HEX))
					return -1;
			}
		}
		if (c->abs == start)
			return -1;
	}
	hlen = (int)(c->abs - start);
	if (c->abs == lim)
		return hlen;
	if (http_cur_get(c) != ':')
		return -1;
	while (c->abs < lim) {
		b = http_cur_get(c);
		if (!http_is(b, HTTP_C_DIGIT) || ++digits > 5)
			return -1;
		port = port * 10 + (b - '0');
	}
	return port > 65535 ? -1 : hlen;
}

int http_span_eq_span_nocase(const struct http_iov *iov, unsigned int n, struct http_span a,
			     struct http_span b)
{
	struct http_cur ca, cb;
	uint32_t i;

	if (a.len != b.len)
		return 0;
	if (http_cur_seek(&ca, iov, n, a.off) < 0 || http_cur_seek(&cb, iov, n, b.off) < 0)
		return 0;
	for (i = 0; i < a.len; i++)
		if (http_lower(http_cur_get(&ca)) != http_lower(http_cur_get(&cb)))
			return 0;
	return 1;
}

/* Content-Length: 1*DIGIT, or a list of identical ones (RFC 9110 8.6). No sign, no empty
 * element, at most 2^63 - 1. */
static int http_cl_set(struct http_msg *m, uint64_t v)
{
	if ((m->flags & HTTP_F_HAS_CL) && m->content_length != v)
		return -HTTP_E_CONTENT_LENGTH_MISMATCH;
	m->flags |= HTTP_F_HAS_CL;
	m->content_length = v;
	return 0;
}

/* The cursor parsers of the values below are noinline: they are for the uncommon values,
 * and inlined they would make every call of http_field pay for their registers. */
static __attribute__((noinline)) int http_field_cl(struct http_msg *m, struct http_cur *c,
						   uint32_t lim)
{
	uint64_t v, first = 0;
	uint32_t digits;
	int seen = 0;
	uint8_t b;

	for (;;) {
		v = 0;
		digits = 0;
		while (c->abs < lim && http_is(b = http_cur_peek(c), HTTP_C_DIGIT)) {
			if (v > (UINT64_C(0x7fffffffffffffff) - (b - '0')) / 10)
				return -HTTP_E_BAD_CONTENT_LENGTH;
			v = v * 10 + (b - '0');
			http_cur_skip(c, 1);
			digits++;
		}
		if (digits == 0)
			return -HTTP_E_BAD_CONTENT_LENGTH;
		if (seen && v != first)
			return -HTTP_E_CONTENT_LENGTH_MISMATCH;
		first = v;
		seen = 1;
		http_cur_ows(c, lim);
		if (c->abs == lim)
			break;
		if (http_cur_get(c) != ',')
			return -HTTP_E_BAD_CONTENT_LENGTH;
		http_cur_ows(c, lim);
	}
	return http_cl_set(m, first);
}

static int http_known_coding(const char *low, uint32_t len)
{
	static const char *const codings[] = { "gzip", "deflate", "compress", "x-gzip",
					       "x-compress" };
	unsigned int i;

	for (i = 0; i < sizeof(codings) / sizeof(codings[0]); i++)
		if (strlen(codings[i]) == len && memcmp(low, codings[i], len) == 0)
			return 1;
	return 0;
}

/* Transfer-Encoding: a list of codings, without parameters or empty elements; what they mean
 * for framing is decided when the head is complete, over every line. */
static __attribute__((noinline)) int http_field_te(struct http_msg *m, struct http_cur *c,
						   uint32_t lim)
{
	char low[16];
	uint32_t len;

	for (;;) {
		len = http_cur_token(c, lim, low, sizeof(low));
		if (len == 0)
			return -HTTP_E_BAD_TE;
		if (len == 7 && memcmp(low, "chunked", 7) == 0) {
			if (m->te & HTTP_TE_CHUNKED)
				return -HTTP_E_BAD_TE;
			m->te |= HTTP_TE_CHUNKED | HTTP_TE_LAST;
		} else {
			m->te &= ~HTTP_TE_LAST;
			m->te |= HTTP_TE_OTHER;
			if (len > sizeof(low) || !http_known_coding(low, len))
				m->te |= HTTP_TE_UNKNOWN;
		}
		http_cur_ows(c, lim);
		if (c->abs == lim)
			break;
		if (http_cur_get(c) != ',')
			return -HTTP_E_BAD_TE;
		http_cur_ows(c, lim);
	}
	m->flags |= HTTP_F_HAS_TE;
	return 0;
}

/* Connection: a list of tokens (empty elements allowed, RFC 9110 5.6.1). */
static __attribute__((noinline)) int http_field_connection(struct http_msg *m, struct http_cur *c,
							   uint32_t lim)
{
	char low[16];
	uint32_t len;

	for (;;) {
		len = http_cur_token(c, lim, low, sizeof(low));
		if (len == 5 && memcmp(low, "close", 5) == 0)
			m->flags |= HTTP_F_CONN_CLOSE;
		else if (len == 10 && memcmp(low, "keep-alive", 10) == 0)
			m->flags |= HTTP_F_CONN_KEEP_ALIVE;
		else if (len == 7 && memcmp(low, "upgrade", 7) == 0)
			m->flags |= HTTP_F_CONN_UPGRADE;
		else if (len)
			m->flags |= HTTP_F_CONN_OTHER;
		http_cur_ows(c, lim);
		if (c->abs == lim)
			return 0;
		if (http_cur_get(c) != ',')
			return -HTTP_E_BAD_CONNECTION;
		http_cur_ows(c, lim);
	}
}

/* Expect: only 100-continue is known; anything else gets 417 (RFC 9110 10.1.1). */
static __attribute__((noinline)) int http_field_expect(struct http_msg *m, struct http_cur *c,
						       uint32_t lim)
{
	char low[16];
	uint32_t len;

	for (;;) {
		len = http_cur_token(c, lim, low, sizeof(low));
		if (len == 12 && memcmp(low, "100-continue", 12) == 0)
			m->flags |= HTTP_F_EXPECT_CONTINUE;
		else if (len)
			return -HTTP_E_EXPECTATION;
		http_cur_ows(c, lim);
		if (c->abs == lim)
			return 0;
		if (http_cur_get(c) != ',')
			return -HTTP_E_EXPECTATION;
		http_cur_ows(c, lim);
	}
}

/* http_parse_host for the common Host, in place: a reg-name without '%', then ":" port or
 * nothing, in p[0..len) of the readable bytes p[-back..readable). Returns the host's length, or -1
 * for anything else, which http_parse_host decides (IP-literals, percent-encoding, errors). */
static int http_host_plain(const uint8_t *p, uint32_t len, uint32_t readable, uint32_t back)
{
	uint32_t i = http_regname_run_back(p, readable, back), j, port = 0;

	if (i > len)
		i = len;
	if (i == 0)
		return -1;
	if (i == len)
		return (int)i;
	if (p[i] != ':' || len - i > 6)
		return -1;
	for (j = i + 1; j < len; j++) {
		if (!http_is(p[j], HTTP_C_DIGIT))
			return -1;
		port = port * 10 + (p[j] - '0');
	}
	return port > 65535 ? -1 : (int)i;
}

static int http_field_host(struct http_msg *m, const struct http_iov *iov, unsigned int n,
			   struct http_cur *c, struct http_span v, const uint8_t *vp)
{
	int hlen = vp ? http_host_plain(vp, v.len, (uint32_t)(c->end - c->p),
					(uint32_t)(c->p - c->iov[c->seg].base))
		      : -1;

	if (m->flags & HTTP_F_HAS_HOST)
		return -HTTP_E_HOST_DUP;
	m->flags |= HTTP_F_HAS_HOST;
	if (hlen < 0)
		hlen = http_parse_host(c, v.off + v.len);
	if (hlen < 0)
		return -HTTP_E_BAD_HOST;
	if (m->target_form == HTTP_TF_ABSOLUTE) {
		/* RFC 9112 3.2.2 lets the target win silently; two different hosts in one request
		 * is how routing and backends are made to disagree, so refuse it. */
		if (!http_span_eq_span_nocase(iov, n, m->host, v))
			return -HTTP_E_HOST_MISMATCH;
		return 0;
	}
	m->host = v;
	m->host_name_len = (uint16_t)hlen;
	return 0;
}

/* What field the name is (enum http_hdr_kind): its length, then one case-folded compare, two
 * for the lengths two names share. name holds the field name's bytes, in any case (or
 * lowercased). Inline, so that the other fields, most of them, cost a switch. */
static inline __attribute__((always_inline)) enum http_hdr_kind
http_field_which(const struct http_msg *m, const uint8_t *name, uint32_t nlen)
{
	switch (nlen) {
	case 2:
		return (name[0] | 0x20) == 't' && (name[1] | 0x20) == 'e' ? HTTP_H_TE
									  : HTTP_H_OTHER;
	case 4:
		return !m->is_resp && http_token_is(name, 4, "host") ? HTTP_H_HOST : HTTP_H_OTHER;
	case 6:
		return !m->is_resp && http_token_is(name, 6, "expect") ? HTTP_H_EXPECT
								       : HTTP_H_OTHER;
	case 7:
		if (http_token_is(name, 7, "upgrade"))
			return HTTP_H_UPGRADE;
		return http_token_is(name, 7, "trailer") ? HTTP_H_TRAILER : HTTP_H_OTHER;
	case 10:
		if (http_token_is(name, 10, "connection"))
			return HTTP_H_CONNECTION;
		return http_token_is(name, 10, "keep-alive") ? HTTP_H_KEEP_ALIVE : HTTP_H_OTHER;
	case 14:
		return http_token_is(name, 14, "content-length") ? HTTP_H_CONTENT_LENGTH
								 : HTTP_H_OTHER;
	case 15:
		return http_token_is(name, 15, "x-forwarded-for") ? HTTP_H_X_FORWARDED_FOR
								  : HTTP_H_OTHER;
	case 16:
		return http_token_is(name, 16, "proxy-connection") ? HTTP_H_PROXY_CONNECTION
								   : HTTP_H_OTHER;
	case 17:
		if (http_token_is(name, 17, "transfer-encoding"))
			return HTTP_H_TRANSFER_ENCODING;
		return http_token_is(name, 17, "x-forwarded-proto") ? HTTP_H_X_FORWARDED_PROTO
								    : HTTP_H_OTHER;
	}
	return HTTP_H_OTHER;
}

/* A name's kind shares the word of its length: a proxy holds max_headers headers per request
 * (docs/control.md, show pools: mem.req_bytes). */
_Static_assert(sizeof(struct http_header) == 16, "struct http_header outgrew 16 bytes");

/* Whether the parser reads the value of a field of kind id. */
static inline bool http_field_read(enum http_hdr_kind id)
{
	return id != HTTP_H_OTHER && id <= HTTP_H_CONNECTION;
}

/* The common values of the fields below, read in place at vp (len bytes; vp NULL when the value
 * is empty or not in one segment): "keep-alive" or "close" alone, one number of at most 18
 * digits (no overflow), "chunked" alone, and Upgrade, whatever its value. Returns 1 when that
 * decides the field, its result in *rc, else 0: the cursor parsers of http_field then read
 * it. Inline in the fast path, where a known field holds one of these almost always. */
static inline __attribute__((always_inline)) int http_field_inplace(struct http_msg *m,
								    enum http_hdr_kind id,
								    const uint8_t *vp, uint32_t len,
								    int *rc)
{
	uint64_t num = 0;
	uint32_t i;

	*rc = 0;
	switch (id) {
	case HTTP_H_UPGRADE:
		m->flags |= HTTP_F_UPGRADE;
		return 1;
	case HTTP_H_CONNECTION:
		if (vp && len == 10 && http_token_is(vp, 10, "keep-alive")) {
			m->flags |= HTTP_F_CONN_KEEP_ALIVE;
			return 1;
		}
		if (vp && len == 5 && http_token_is(vp, 5, "close")) {
			m->flags |= HTTP_F_CONN_CLOSE;
			return 1;
		}
		return 0;
	case HTTP_H_CONTENT_LENGTH:
		if (!vp || len == 0 || len > 18)
			return 0;
		for (i = 0; i < len; i++) {
			if (!http_is(vp[i], HTTP_C_DIGIT))
				return 0;
			num = num * 10 + (vp[i] - '0');
		}
		*rc = http_cl_set(m, num);
		return 1;
	case HTTP_H_TRANSFER_ENCODING:
		if (!vp || len != 7 || !http_token_is(vp, 7, "chunked"))
			return 0;
		if (m->te & HTTP_TE_CHUNKED) {
			*rc = -HTTP_E_BAD_TE;
		} else {
			m->te |= HTTP_TE_CHUNKED | HTTP_TE_LAST;
			m->flags |= HTTP_F_HAS_TE;
		}
		return 1;
	default:
		return 0;
	}
}

/* Read the value of field id, whose cursor c sits at the value v. A value that lies in one
 * segment is also given as a pointer, vp (else NULL, and NULL when empty), for the common
 * values read in place (http_field_inplace); the cursor reads the rest. */
static int http_field(struct http_msg *m, const struct http_iov *iov, unsigned int n,
		      enum http_hdr_kind id, struct http_cur *c, struct http_span v,
		      const uint8_t *vp)
{
	uint32_t lim = v.off + v.len;
	int rc;

	if (http_field_inplace(m, id, vp, v.len, &rc))
		return rc;
	switch (id) {
	case HTTP_H_HOST:
		return http_field_host(m, iov, n, c, v, vp);
	case HTTP_H_EXPECT:
		return http_field_expect(m, c, lim);
	case HTTP_H_CONNECTION:
		return http_field_connection(m, c, lim);
	case HTTP_H_CONTENT_LENGTH:
		return http_field_cl(m, c, lim);
	case HTTP_H_TRANSFER_ENCODING:
		return http_field_te(m, c, lim);
	default: /* Upgrade, read in place; the kinds whose values are not read */
		break;
	}
	return 0;
}

static int http_header_add(struct http_msg *m, struct http_span name, enum http_hdr_kind kind,
			   struct http_span val)
{
	if (m->n_headers >= m->lim.max_headers)
		return -HTTP_E_TOO_MANY_HEADERS;
	if (name.len > HTTP_NAME_MAX)
		return -HTTP_E_HEADERS_TOO_LARGE;
	if (m->headers) {
		struct http_header *h = &m->headers[m->n_headers];

		h->name.off = name.off;
		h->name.len = name.len;
		h->name.kind = kind;
		h->value = val;
	}
	m->n_headers++;
	return 0;
}

/* One field line [c->abs, lim): name ":" OWS value OWS. */
static int http_field_line(struct http_msg *m, const struct http_iov *iov, unsigned int n,
			   struct http_cur *c, uint32_t lim)
{
	struct http_span name, val;
	struct http_cur vc;
	uint32_t nlen, vend, a, i;
	enum http_hdr_kind id;
	char low[20];
	uint8_t b;
	int rc;

	b = http_cur_peek(c);
	if (b == ' ' || b == '\t')
		return -HTTP_E_OBS_FOLD;
	name.off = c->abs;
	nlen = http_cur_token(c, lim, low, sizeof(low));
	if (c->abs == lim)
		return -HTTP_E_BAD_HEADER_NAME;
	b = http_cur_get(c);
	if (b != ':') {
		if (b == ' ' || b == '\t')
			return -HTTP_E_WS_BEFORE_COLON;
		return b == '\r' ? -HTTP_E_BARE_CR : -HTTP_E_BAD_HEADER_NAME;
	}
	if (nlen == 0)
		return -HTTP_E_BAD_HEADER_NAME;
	name.len = nlen;
	http_cur_ows(c, lim);
	val.off = vend = c->abs;
	vc = *c;
	while (c->abs < lim) {
		a = http_cur_avail(c, lim);
		i = http_value_run(c->p, a);
		if (i < a)
			return c->p[i] == '\r' ? -HTTP_E_BARE_CR : -HTTP_E_BAD_HEADER_VALUE;
		/* trailing OWS is not part of the value: find this piece's last other byte */
		while (i > 0 && (c->p[i - 1] == ' ' || c->p[i - 1] == '\t'))
			i--;
		if (i)
			vend = c->abs + i;
		http_cur_skip(c, a);
	}
	val.len = vend - val.off;
	id = nlen <= sizeof(low) ? http_field_which(m, (const uint8_t *)low, nlen) : HTTP_H_OTHER;
	rc = http_header_add(m, name, id, val);
	if (rc < 0 || !http_field_read(id))
		return rc;
	http_cur_fix(&vc);
	return http_field(m, iov, n, id, &vc, val,
			  val.len && (uint32_t)(vc.end - vc.p) >= val.len ? vc.p : NULL);
}

void http_msg_init(struct http_msg *m, const struct http_limits *lim, struct http_header *headers)
{
	memset(m, 0, sizeof(*m));
	if (lim) {
		m->lim = *lim;
	} else {
		m->lim.max_header_bytes = HTTP_DEFAULT_MAX_HEADER_BYTES;
		m->lim.max_headers = HTTP_DEFAULT_MAX_HEADERS;
		m->lim.max_target = HTTP_DEFAULT_MAX_TARGET;
	}
	m->headers = headers;
}

static int http_fail(struct http_msg *m, int err)
{
	m->state = HTTP_HS_ERROR;
	m->err = err;
	return err;
}

/* Where the line that starts at m->pos must have ended: the head limit, and for a request
 * line also the longest line a max_target target allows. */
static uint32_t http_line_limit(const struct http_msg *m)
{
	uint64_t lend = m->lim.max_header_bytes;

	if (m->state == HTTP_HS_START && !m->is_resp) {
		/* method SP target SP HTTP/1.1 CRLF */
		uint64_t l = (uint64_t)m->pos + HTTP_METHOD_MAX + 1 + m->lim.max_target + 1 + 8 + 2;

		if (l < lend)
			lend = l;
	}
	return (uint32_t)lend;
}

/* A line would not fit in its limit. Which status explains it depends on where we are. */
static int http_overflow(struct http_msg *m, struct http_cur *lc, uint32_t stop)
{
	if (m->state != HTTP_HS_START)
		return -HTTP_E_HEADERS_TOO_LARGE;
	if (m->is_resp)
		return -HTTP_E_BAD_STATUS_LINE;
	return http_req_start_line_overflow(m, lc, stop);
}

/* The fast path of http_head_parse: the lines at c that end, CRLF and all, in the segment
 * they start in, before where they must have ended, and are plainly well formed: the start
 * line, then name ":" OWS value CRLF field lines with nothing to object to, then the empty
 * line. They are parsed straight from the segment, without looking for their ends first.
 * Returns the bytes of the lines done, or the error of a field's value or of the head's
 * framing (the same calls as the careful path makes). At the first line that is not plain
 * it stops: the careful path below judges that one, as it judges every line cut by a
 * segment boundary. It is the reference; tests/unit and tests/fuzz hold this one to it. */
static inline __attribute__((always_inline)) int
http_head_fast_body(struct http_msg *m, const struct http_iov *iov, unsigned int n,
		    struct http_cur *c, uint32_t total, const int sse42)
{
	uint32_t lend = http_line_limit(m), used = 0, avail, left, nlen, i, vs, ve;
	struct http_span name, val;
	const uint8_t *p, *line, *vp;
	enum http_hdr_kind id;
	struct http_cur vc;
	int rc;

	if (c->abs >= total || c->abs >= lend)
		return 0;
	avail = http_cur_avail(c, total);
	p = c->p;
	if (m->state == HTTP_HS_START) {
		left = lend - c->abs < avail ? lend - c->abs : avail;
		if (left >= 2 && p[0] == '\r' && p[1] == '\n')
			return m->is_resp ? 0 : 2; /* an empty line before a request line */
		used = m->is_resp ? http_resp_line_fast(m, p, left, c->abs)
				  : http_req_line_fast(m, p, left, c->abs);
		if (used == 0)
			return 0;
		m->state = HTTP_HS_HEADERS;
		lend = http_line_limit(m);
	}
	if (lend <= c->abs)
		avail = 0;
	else if (lend - c->abs < avail)
		avail = lend - c->abs;
	if (avail > HTTP_NAME_MAX)
		avail = HTTP_NAME_MAX; /* no name it finds is too long: the careful path judges that */
	for (;;) {
		line = p + used;
		left = avail - used;
		if (left >= 2 && http_is_crlf(line)) {
			m->head_len = c->abs + used + 2;
			rc = m->is_resp ? http_resp_finish(m) : http_req_finish(m);
			if (rc < 0)
				return rc;
			m->state = HTTP_HS_DONE;
			return (int)used + 2;
		}
		nlen = sse42 && left >= 16 ? http_name_run_sse42(line, left)
					   : http_token_run_scalar(line, left);
		if (nlen == 0 || nlen == left || line[nlen] != ':')
			return (int)used;
		/* OWS, value and OWS after the colon, the bytes up to used + nlen + 1 readable */
		i = nlen + 1 +
		    http_value_ows(line + nlen + 1, left - nlen - 1, used + nlen + 1, &vs, &ve);
		if (left - i < 2 || !http_is_crlf(line + i) || m->n_headers >= m->lim.max_headers)
			return (int)used;
		vs += nlen + 1;
		ve += nlen + 1;
		name.off = c->abs + used;
		name.len = nlen;
		val.off = name.off + vs;
		val.len = ve - vs;
		id = http_field_which(m, line, nlen);
		/* http_header_add, whose limits are checked above (avail <= HTTP_NAME_MAX) */
		if (m->headers) {
			struct http_header *h = &m->headers[m->n_headers];

			h->name.off = name.off;
			h->name.len = name.len;
			h->name.kind = id;
			h->value.off = val.off;
			h->value.len = val.len;
		}
		m->n_headers++;
		if (http_field_read(id)) {
			vp = val.len ? line + vs : NULL;
			if (!http_field_inplace(m, id, vp, val.len, &rc)) {
				vc = *c;
				http_cur_skip(&vc, used + vs);
				rc = http_field(m, iov, n, id, &vc, val, vp);
			}
			if (rc < 0)
				return rc;
		}
		used += i + 2;
	}
}

#if (defined(__x86_64__) || defined(__i386__)) && !defined(HTTP_PORTABLE)
/* The same with the SSE4.2 name scan inlined: this build runs only where the CPU has it (in
 * a baseline build, a function of its own that nothing else is inlined into). */
__attribute__((target("sse4.2"))) static int
http_head_fast_sse42(struct http_msg *m, const struct http_iov *iov, unsigned int n,
		     struct http_cur *c, uint32_t total)
{
	return http_head_fast_body(m, iov, n, c, total, 1);
}
#else
static int http_head_fast_sse42(struct http_msg *m, const struct http_iov *iov, unsigned int n,
				struct http_cur *c, uint32_t total)
{
	return http_head_fast_body(m, iov, n, c, total, 0);
}
#endif

static int http_head_fast(struct http_msg *m, const struct http_iov *iov, unsigned int n,
			  struct http_cur *c, uint32_t total)
{
	if (http_have_sse42())
		return http_head_fast_sse42(m, iov, n, c, total);
	return http_head_fast_body(m, iov, n, c, total, 0);
}

int http_head_parse(struct http_msg *m, const struct http_iov *iov, unsigned int n)
{
	struct http_cur lc, sc;
	uint32_t total, lend, stop, a, lf, cr;
	const uint8_t *q;
	uint8_t prev, before;
	int rc;

	if (m->state == HTTP_HS_DONE)
		return (int)m->head_len;
	if (m->state == HTTP_HS_ERROR)
		return m->err;
	total = n == 1 ? iov[0].len : http_iov_total(iov, n);
	if (total < m->scan)
		return -EINVAL;
	if (m->pos == 0 && n > 0 && iov[0].len > 0) {
		/* a head's first call: its first byte opens the first segment */
		lc = (struct http_cur){
			.iov = iov, .n = n, .p = iov[0].base, .end = iov[0].base + iov[0].len
		};
	} else if (http_cur_seek(&lc, iov, n, m->pos) < 0) {
		return -EINVAL;
	}
	for (;;) {
		rc = http_head_fast(m, iov, n, &lc, total);
		if (rc < 0)
			return http_fail(m, rc);
		if (m->state == HTTP_HS_DONE)
			return (int)m->head_len;
		if (rc > 0) {
			http_cur_skip(&lc, (uint32_t)rc);
			m->pos = m->scan = lc.abs;
			continue;
		}
		/* The careful path looks for the LF on from where the last call's look stopped
		 * (m->scan <= total: the seek cannot fail), m->prev the byte before it. */
		sc = lc;
		if (m->scan != m->pos)
			http_cur_seek(&sc, iov, n, m->scan);
		prev = m->prev;
		lend = http_line_limit(m);
		stop = total < lend ? total : lend;
		q = NULL;
		/* memchr over each piece: the one place every head byte passes through. */
		while (sc.abs < stop) {
			a = http_cur_avail(&sc, stop);
			q = memchr(sc.p, '\n', a);
			if (q) {
				before = q > sc.p ? q[-1] : prev;
				http_cur_skip(&sc, (uint32_t)(q - sc.p) + 1);
				break;
			}
			prev = sc.p[a - 1];
			http_cur_skip(&sc, a);
		}
		if (!q) {
			/* A request line that has not ended may already be hopeless (NUL, a TLS
			 * ClientHello): say so now, with the error the whole line would get. */
			if (m->state == HTTP_HS_START && !m->is_resp &&
			    (rc = http_req_line_early(m, iov, n, stop)) < 0)
				return http_fail(m, rc);
			if (total >= lend)
				return http_fail(m, http_overflow(m, &lc, stop));
			m->scan = sc.abs;
			m->prev = prev;
			return -EAGAIN;
		}
		lf = sc.abs - 1;
		if (lf == m->pos || before != '\r') {
			/* what the request line held before its bare LF was judged as it arrived
			 * when it came in pieces: judge it the same way when it comes whole */
			if (m->state == HTTP_HS_START && !m->is_resp &&
			    (rc = http_req_line_early(m, iov, n, lf)) < 0)
				return http_fail(m, rc);
			return http_fail(m, -HTTP_E_BARE_LF);
		}
		cr = lf - 1;
		if (m->state == HTTP_HS_START) {
			if (cr == m->pos && !m->is_resp) {
				rc = 0; /* empty line before the request line */
			} else {
				rc = m->is_resp ? http_resp_status_line(m, &lc, cr)
						: http_req_start_line(m, &lc, cr);
				m->state = HTTP_HS_HEADERS;
			}
		} else if (cr == m->pos) {
			m->head_len = sc.abs;
			rc = m->is_resp ? http_resp_finish(m) : http_req_finish(m);
			if (rc < 0)
				return http_fail(m, rc);
			m->state = HTTP_HS_DONE;
			return (int)m->head_len;
		} else {
			rc = http_field_line(m, iov, n, &lc, cr);
		}
		if (rc < 0)
			return http_fail(m, rc);
		m->pos = m->scan = sc.abs;
		lc = sc;
	}
}

unsigned int http_iov_from_mbuf(const struct rte_mbuf *m, uint32_t off, struct http_iov *iov,
				unsigned int max)
{
	unsigned int i = 0;

	/* the common case: one segment holding off */
	if (m != NULL && m->next == NULL && max > 0 && off < m->data_len) {
		iov[0].base = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);
		iov[0].len = m->data_len - off;
		return 1;
	}
	for (; m != NULL && i < max; m = m->next) {
		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		iov[i].base = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);
		iov[i].len = m->data_len - off;
		off = 0;
		i++;
	}
	return i;
}

const uint8_t *http_span_ptr(const struct http_iov *iov, unsigned int n, struct http_span s,
			     uint8_t *scratch, size_t scratch_len)
{
	struct http_cur c;
	uint32_t i, base = 0;

	/* the common case first: a span inside one segment, found in one walk */
	for (i = 0; i < n; base += iov[i].len, i++) {
		if (s.off - base >= iov[i].len)
			continue;
		if (s.len != 0 && s.len <= iov[i].len - (s.off - base))
			return iov[i].base + (s.off - base);
		break;
	}
	if ((uint64_t)s.off + s.len > http_iov_total(iov, n) ||
	    http_cur_seek(&c, iov, n, s.off) < 0)
		return NULL;
	if (s.len == 0)
		return (const uint8_t *)"";
	http_cur_fix(&c);
	if ((uint32_t)(c.end - c.p) >= s.len)
		return c.p;
	if (s.len > scratch_len)
		return NULL;
	for (i = 0; i < s.len; i++)
		scratch[i] = http_cur_get(&c);
	return scratch;
}

int http_span_copy(const struct http_iov *iov, unsigned int n, struct http_span s, char *buf,
		   size_t len)
{
	struct http_cur c;
	uint32_t i;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if ((uint64_t)s.off + s.len > http_iov_total(iov, n) ||
	    http_cur_seek(&c, iov, n, s.off) < 0)
		return -ERANGE;
	if (s.len >= len)
		return -ENOSPC;
	for (i = 0; i < s.len; i++)
		buf[i] = (char)http_cur_get(&c);
	buf[s.len] = '\0';
	return (int)s.len;
}

bool http_span_eq_nocase(const struct http_iov *iov, unsigned int n, struct http_span s,
			 const char *str)
{
	struct http_cur c;
	uint32_t i;

	if (strlen(str) != s.len || (uint64_t)s.off + s.len > http_iov_total(iov, n) ||
	    http_cur_seek(&c, iov, n, s.off) < 0)
		return false;
	for (i = 0; i < s.len; i++)
		if (http_lower(http_cur_get(&c)) != http_lower((uint8_t)str[i]))
			return false;
	return true;
}

int http_header_find(const struct http_msg *m, const struct http_iov *iov, unsigned int n,
		     const char *name, unsigned int from)
{
	unsigned int i;

	if (m->headers == NULL)
		return -ENOENT;
	for (i = from; i < m->n_headers; i++)
		if (http_span_eq_nocase(iov, n, http_name_span(m->headers[i].name), name))
			return (int)i;
	return -ENOENT;
}
