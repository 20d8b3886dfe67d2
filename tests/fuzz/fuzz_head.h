/* SPDX-License-Identifier: BSD-3-Clause
 * The invariants every HTTP head parser (request and response) must keep, checked by
 * http_req_fuzz.c and http_resp_fuzz.c on each input:
 *
 *  - the result (bytes consumed, -EAGAIN or the error; only its status with
 *    FUZZ_STRICT_ERRORS=0) and every recorded field are the same
 *    whether the input comes in one piece, cut into the fuzzer-chosen segments all at once,
 *    one more segment per call (alternating with the same prefix as one piece: callers may
 *    re-segment between calls), or one more byte per call;
 *  - fed byte by byte, a complete head is reported exactly when its last byte arrives;
 *  - errors are sticky; a header array or none changes nothing but the array;
 *  - every span lies inside the head, every header name is followed by its ':', values
 *    hold no CR, LF or NUL and no surrounding whitespace, and the span helpers copy exactly
 *    the input's bytes however they straddle segments;
 *  - the vector scans (http_token_run, http_value_run, http_regname_run, the last also with
 *    the bytes before it readable) agree with their scalar versions.
 * ASan reports any read outside the input: segments are exact allocations, and the
 * byte-by-byte buffer is poisoned beyond the bytes given.
 */
#ifndef SLUICE_FUZZ_HEAD_H
#define SLUICE_FUZZ_HEAD_H

#include "fuzz_util.h"
#include "http_priv.h"

#define FZ_MAX_HDRS 128

struct fz_head {
	/* init then parse: the head parser under test (arg: e.g. the request method) */
	void (*init)(struct http_msg *m, const struct http_limits *lim, struct http_header *h,
		     int arg);
	int (*parse)(struct http_msg *m, const struct http_iov *iov, unsigned int n);
	int arg;
	const struct http_limits *lim; /* NULL: defaults */
};

/* The same verdict: the same bytes consumed, both -EAGAIN, or the same error. With
 * FUZZ_STRICT_ERRORS=0 in the environment, errors answered with the same status are enough
 * (to look past a naming difference while chasing something else). The check of a request
 * line as its bytes arrive once named some errors differently byte by byte; the inputs that
 * showed it are seeds now (seeds/http_req_fuzz/regress-*). */
static inline int fz_same_rc(int a, int b)
{
	static int strict = -1;

	if (strict < 0) {
		const char *e = getenv("FUZZ_STRICT_ERRORS");

		strict = e == NULL || e[0] != '0';
	}
	if (a == b)
		return 1;
	if (strict || a > 0 || b > 0 || a == -EAGAIN || b == -EAGAIN)
		return 0;
	return http_error_status(a) == http_error_status(b);
}

static inline int fz_span_eq(struct http_span a, struct http_span b)
{
	return a.off == b.off && a.len == b.len;
}

/* Everything a parse recorded, headers included when both have an array. */
static inline void fz_same_msg(const struct http_msg *a, const struct http_msg *b)
{
	uint32_t i;

	FZ_CHECK(a->flags == b->flags && a->head_len == b->head_len);
	FZ_CHECK(a->content_length == b->content_length && a->version == b->version);
	FZ_CHECK(a->body == b->body && a->method == b->method);
	FZ_CHECK(a->target_form == b->target_form);
	FZ_CHECK(a->status == b->status && a->host_name_len == b->host_name_len);
	FZ_CHECK(fz_span_eq(a->method_s, b->method_s) && fz_span_eq(a->target, b->target));
	FZ_CHECK(fz_span_eq(a->path, b->path) && fz_span_eq(a->query, b->query));
	FZ_CHECK(fz_span_eq(a->host, b->host) && fz_span_eq(a->reason, b->reason));
	FZ_CHECK(a->n_headers == b->n_headers);
	if (a->headers == NULL || b->headers == NULL)
		return;
	for (i = 0; i < a->n_headers; i++) {
		FZ_CHECK(fz_span_eq(http_name_span(a->headers[i].name),
				    http_name_span(b->headers[i].name)));
		FZ_CHECK(a->headers[i].name.kind == b->headers[i].name.kind);
		FZ_CHECK(fz_span_eq(a->headers[i].value, b->headers[i].value));
	}
}

static inline void fz_span_in(struct http_span s, uint32_t head)
{
	FZ_CHECK((uint64_t)s.off + s.len <= head);
}

/* The span helpers give exactly data's bytes of s over the segments of iov. */
static inline void fz_span_bytes(const struct http_iov *iov, unsigned int n, const uint8_t *data,
				 struct http_span s)
{
	static uint8_t scratch[HTTP_DEFAULT_MAX_HEADER_BYTES * 4];
	char small[24];
	const uint8_t *p = http_span_ptr(iov, n, s, scratch, sizeof(scratch));
	int rc;

	if (s.len > 0) {
		FZ_CHECK(p != NULL);
		FZ_CHECK(memcmp(p, data + s.off, s.len) == 0);
	}
	rc = http_span_copy(iov, n, s, small, sizeof(small));
	if (s.len < sizeof(small)) {
		FZ_CHECK(rc == (int)s.len);
		FZ_CHECK(memcmp(small, data + s.off, s.len) == 0 && small[s.len] == '\0');
	} else {
		FZ_CHECK(rc == -ENOSPC);
	}
}

static inline int fz_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* The spans of a complete head (rc bytes of data) over the segments iov. */
static inline void fz_check_spans(const struct http_msg *m, int rc, const uint8_t *data,
				  const struct http_iov *iov, unsigned int n, uint32_t max_hdrs)
{
	uint32_t head = (uint32_t)rc, i, j;

	FZ_CHECK(m->head_len == head);
	FZ_CHECK(head >= 2 && data[head - 1] == '\n' && data[head - 2] == '\r');
	FZ_CHECK(m->n_headers <= max_hdrs);
	FZ_CHECK(m->body <= HTTP_BODY_TUNNEL);
	FZ_CHECK(m->version <= 1);
	fz_span_in(m->method_s, head);
	fz_span_in(m->target, head);
	fz_span_in(m->path, head);
	fz_span_in(m->query, head);
	fz_span_in(m->host, head);
	fz_span_in(m->reason, head);
	FZ_CHECK(m->host_name_len <= m->host.len);
	if (m->query.len > 0)
		FZ_CHECK(m->query.off > 0 && data[m->query.off - 1] == '?');
	if (m->path.len > 0 && m->target.len > 0) {
		FZ_CHECK(m->path.off >= m->target.off);
		FZ_CHECK(m->path.off + m->path.len <= m->target.off + m->target.len);
	}
	if (!(m->flags & HTTP_F_HAS_CL))
		FZ_CHECK(m->body != HTTP_BODY_LENGTH);
	FZ_CHECK(((m->flags & HTTP_F_CHUNKED) != 0) == (m->body == HTTP_BODY_CHUNKED));
	fz_span_bytes(iov, n, data, m->method_s);
	fz_span_bytes(iov, n, data, m->target);
	fz_span_bytes(iov, n, data, m->host);
	fz_span_bytes(iov, n, data, m->reason);
	for (i = 0; m->headers != NULL && i < m->n_headers; i++) {
		struct http_span nm = http_name_span(m->headers[i].name), v = m->headers[i].value;

		fz_span_in(nm, head);
		fz_span_in(v, head);
		FZ_CHECK(nm.len > 0 && data[nm.off + nm.len] == ':');
		FZ_CHECK(v.off >= nm.off + nm.len + 1);
		for (j = 0; j < nm.len; j++)
			FZ_CHECK(data[nm.off + j] > ' ' && data[nm.off + j] != ':' &&
				 data[nm.off + j] < 0x7f);
		for (j = 0; j < v.len; j++)
			FZ_CHECK(data[v.off + j] != '\r' && data[v.off + j] != '\n' &&
				 data[v.off + j] != '\0');
		if (v.len > 0)
			FZ_CHECK(!fz_ows(data[v.off]) && !fz_ows(data[v.off + v.len - 1]));
		fz_span_bytes(iov, n, data, nm);
		fz_span_bytes(iov, n, data, v);
	}
}

/* Run every variant of one head parse over data[0..size) cut by (nseg, seed). Returns the
 * result; *out (with headers in out_h) holds the one-piece parse. */
static inline int fz_head_check(const struct fz_head *h, const uint8_t *data, size_t size,
				unsigned int nseg, uint32_t seed, struct http_msg *out,
				struct http_header *out_h)
{
	static struct http_header h2[FZ_MAX_HDRS], h3[FZ_MAX_HDRS];
	struct http_msg m2, m3;
	struct http_iov whole, pre[FZ_MAX_SEGS];
	struct fz_segs segs;
	struct fz_grow g;
	uint32_t max_hdrs = h->lim ? h->lim->max_headers : HTTP_DEFAULT_MAX_HEADERS;
	unsigned int k;
	size_t i;
	int rc1, rc;

	/* one piece, exact allocation */
	fz_grow_init(&g, data, size);
	fz_grow_to(&g, size);
	whole.base = g.buf;
	whole.len = (uint32_t)size;
	/* the vector scans stop where the byte-by-byte ones do, from every offset; ASan sees a
	 * load past the end */
	for (i = 0; i < size; i++) {
		FZ_CHECK(http_token_run(g.buf + i, (uint32_t)(size - i)) ==
			 http_token_run_scalar(g.buf + i, (uint32_t)(size - i)));
		FZ_CHECK(http_value_run(g.buf + i, (uint32_t)(size - i)) ==
			 http_value_run_scalar(g.buf + i, (uint32_t)(size - i)));
		FZ_CHECK(http_regname_run(g.buf + i, (uint32_t)(size - i)) ==
			 http_regname_run_scalar(g.buf + i, (uint32_t)(size - i)));
		/* with the i bytes before readable too: a load may start among them */
		FZ_CHECK(http_regname_run_back(g.buf + i, (uint32_t)(size - i), (uint32_t)i) ==
			 http_regname_run_scalar(g.buf + i, (uint32_t)(size - i)));
	}
	h->init(out, h->lim, out_h, h->arg);
	rc1 = h->parse(out, &whole, 1);
	FZ_CHECK(fz_valid_rc(rc1, size));
	FZ_CHECK(h->parse(out, &whole, 1) == rc1); /* sticky, whatever it was */
	if (rc1 > 0)
		FZ_CHECK(http_error_status(rc1) == 500);
	else if (rc1 != -EAGAIN)
		FZ_CHECK(http_error_status(rc1) >= 400 && http_error_status(rc1) <= 505 &&
			 http_error_name(rc1) != NULL && http_error_str(rc1) != NULL);

	/* no header array: the same, but for the array */
	h->init(&m2, h->lim, NULL, h->arg);
	rc = h->parse(&m2, &whole, 1);
	FZ_CHECK(rc == rc1);
	if (rc1 > 0)
		fz_same_msg(out, &m2);

	/* the fuzzer's segments, all at once */
	fz_cut(&segs, data, size, nseg, seed);
	h->init(&m2, h->lim, h2, h->arg);
	rc = h->parse(&m2, segs.iov, segs.n);
	FZ_CHECK(rc == rc1);
	if (rc1 > 0) {
		fz_same_msg(out, &m2);
		fz_check_spans(&m2, rc1, data, segs.iov, segs.n, max_hdrs);
		if (out_h != NULL)
			FZ_CHECK(http_header_find(&m2, segs.iov, segs.n, "host", 0) ==
				 http_header_find(out, &whole, 1, "host", 0));
	}

	/* one more segment per call; every other call the same prefix as one piece */
	h->init(&m3, h->lim, h3, h->arg);
	rc = -EAGAIN;
	for (k = 1; k <= segs.n && rc == -EAGAIN; k++) {
		uint32_t len = 0;
		unsigned int j;

		for (j = 0; j < k; j++)
			len += segs.iov[j].len;
		if (k & 1) {
			rc = h->parse(&m3, segs.iov, k);
		} else {
			pre[0].base = g.buf;
			pre[0].len = len;
			rc = h->parse(&m3, pre, 1);
		}
	}
	FZ_CHECK(fz_same_rc(rc, rc1));
	if (rc1 > 0)
		fz_same_msg(out, &m3);

	/* one more byte per call, the bytes beyond poisoned; every other call segmented */
	fz_grow_free(&g);
	fz_grow_init(&g, data, size);
	h->init(&m3, h->lim, h3, h->arg);
	rc = -EAGAIN;
	for (i = 1; i <= size && rc == -EAGAIN; i++) {
		fz_grow_to(&g, i);
		if (i & 1) {
			whole.base = g.buf;
			whole.len = (uint32_t)i;
			rc = h->parse(&m3, &whole, 1);
		} else {
			k = fz_prefix(&segs, (uint32_t)i, pre);
			rc = h->parse(&m3, pre, k);
		}
		FZ_CHECK(fz_valid_rc(rc, i));
	}
	FZ_CHECK(fz_same_rc(rc, rc1));
	if (rc1 > 0) {
		FZ_CHECK((size_t)rc1 == i - 1); /* complete exactly at its last byte */
		fz_same_msg(out, &m3);
	}
	fz_grow_free(&g);
	fz_release(&segs);
	return rc1;
}

#endif /* SLUICE_FUZZ_HEAD_H */
