/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for the HTTP parser. Each input is parsed in one shot and again cut at
 * pseudo-random points into separately allocated segments fed one more per call; both must
 * agree on the result, every recorded field and, for the body that follows, on the payload
 * and where the message ends. ASan catches any read outside the input (every segment is its
 * own exact-size allocation).
 *
 * Input layout: byte 0 selects what to parse (request head, response head, raw chunked body)
 * and the limits, byte 1 seeds the split points, the rest is the message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define MAX_SEGS 64
#define MAX_HDRS 128

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

struct body_result {
	int err;
	uint64_t consumed;
	uint64_t payload;
	uint64_t hash;
	int done;
};

static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Cut len bytes into at most MAX_SEGS exact-size heap segments. Returns the count. */
static unsigned int cut(const uint8_t *data, size_t len, uint32_t seed, struct http_iov *iov)
{
	unsigned int n = 0;
	size_t off = 0;

	while (off < len && n < MAX_SEGS) {
		size_t k = n == MAX_SEGS - 1 ? len - off : 1 + next_rand(&seed) % 16;
		uint8_t *p;

		if (k > len - off)
			k = len - off;
		p = malloc(k);
		CHECK(p != NULL);
		memcpy(p, data + off, k);
		iov[n].base = p;
		iov[n].len = (uint32_t)k;
		n++;
		off += k;
	}
	return n;
}

static void release(struct http_iov *iov, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		free((void *)iov[i].base);
}

static int parse(struct http_msg *m, int resp, const struct http_iov *iov, unsigned int n)
{
	return resp ? http_resp_parse(m, iov, n) : http_req_parse(m, iov, n);
}

static void init(struct http_msg *m, int resp, int method, const struct http_limits *lim,
		 struct http_header *h)
{
	if (resp)
		http_resp_init(m, lim, h, (enum http_method)method);
	else
		http_req_init(m, lim, h);
}

static int span_eq(struct http_span a, struct http_span b)
{
	return a.off == b.off && a.len == b.len;
}

static void same_msg(const struct http_msg *a, const struct http_header *ha,
		     const struct http_msg *b, const struct http_header *hb)
{
	uint32_t i;

	CHECK(a->flags == b->flags && a->head_len == b->head_len);
	CHECK(a->content_length == b->content_length && a->version == b->version);
	CHECK(a->body == b->body && a->method == b->method && a->target_form == b->target_form);
	CHECK(a->status == b->status && a->host_name_len == b->host_name_len);
	CHECK(span_eq(a->method_s, b->method_s) && span_eq(a->target, b->target));
	CHECK(span_eq(a->path, b->path) && span_eq(a->query, b->query));
	CHECK(span_eq(a->host, b->host) && span_eq(a->reason, b->reason));
	CHECK(a->n_headers == b->n_headers);
	for (i = 0; i < a->n_headers; i++)
		CHECK(span_eq(ha[i].name, hb[i].name) && span_eq(ha[i].value, hb[i].value));
}

/* Feed the body decoder the given segments. */
static void body_run(const struct http_msg *m, uint64_t max_body, const struct http_iov *iov,
		     unsigned int n, struct body_result *r)
{
	struct http_body b;
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->hash = 1469598103934665603ull;
	r->err = http_body_init(&b, m, max_body);
	for (i = 0; i < n && !r->err && !http_body_done(&b); i++) {
		uint32_t off = 0;

		while (off < iov[i].len && !http_body_done(&b)) {
			struct http_body_data d;
			uint32_t j;
			int rc = http_body_parse(&b, iov[i].base + off, iov[i].len - off, &d);

			if (rc < 0) {
				r->err = rc;
				break;
			}
			CHECK(rc > 0);
			CHECK(d.off + d.len <= (uint32_t)rc);
			for (j = 0; j < d.len; j++)
				r->hash =
					(r->hash ^ iov[i].base[off + d.off + j]) * 1099511628211ull;
			r->payload += d.len;
			off += (uint32_t)rc;
			r->consumed += (uint32_t)rc;
		}
	}
	r->done = http_body_done(&b);
}

static void same_body(const struct body_result *a, const struct body_result *b)
{
	CHECK(a->err == b->err && a->payload == b->payload && a->hash == b->hash);
	if (!a->err)
		CHECK(a->consumed == b->consumed && a->done == b->done);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits small = { 256, 8, 32 };
	struct http_header h1[MAX_HDRS], h2[MAX_HDRS];
	struct http_msg m1, m2;
	struct http_iov whole, segs[MAX_SEGS];
	struct body_result r1, r2;
	const struct http_limits *lim;
	unsigned int n, k;
	int resp, method, rc1, rc2 = -EAGAIN;
	uint32_t seed;
	uint8_t mode;

	if (size < 2)
		return 0;
	mode = data[0];
	resp = data[0] & 1;
	method = (data[0] >> 1) % (HTTP_M_PATCH + 1);
	lim = (mode & 0x20) ? &small : NULL;
	seed = 0x9e3779b9u ^ ((uint32_t)data[1] << 8) ^ (uint32_t)size;
	data += 2;
	size -= 2;

	if (mode & 0x40) {
		/* A raw chunked body, no head. */
		struct http_msg m;
		uint64_t max_body = (mode & 0x80) ? 64 : 0;

		memset(&m, 0, sizeof(m));
		m.body = HTTP_BODY_CHUNKED;
		whole.base = data;
		whole.len = (uint32_t)size;
		body_run(&m, max_body, &whole, 1, &r1);
		n = cut(data, size, seed, segs);
		body_run(&m, max_body, segs, n, &r2);
		same_body(&r1, &r2);
		release(segs, n);
		return 0;
	}

	init(&m1, resp, method, lim, h1);
	whole.base = data;
	whole.len = (uint32_t)size;
	rc1 = parse(&m1, resp, &whole, 1);
	CHECK(rc1 == -EAGAIN || rc1 > 0 || (rc1 < -HTTP_E_BASE && rc1 > -HTTP_E_END));
	CHECK(rc1 <= (int)size);
	CHECK(parse(&m1, resp, &whole, 1) == rc1);

	n = cut(data, size, seed, segs);
	init(&m2, resp, method, lim, h2);
	for (k = 1; k <= n; k++) {
		rc2 = parse(&m2, resp, segs, k);
		if (rc2 != -EAGAIN)
			break;
	}
	if (n == 0)
		rc2 = parse(&m2, resp, segs, 0);
	CHECK(rc1 == rc2);
	if (rc1 > 0) {
		struct http_iov rest = { data + rc1, (uint32_t)(size - (size_t)rc1) };
		struct http_iov rsegs[MAX_SEGS];
		unsigned int rn;

		same_msg(&m1, h1, &m2, h2);
		CHECK(m1.n_headers <= (lim ? lim->max_headers : HTTP_DEFAULT_MAX_HEADERS));
		body_run(&m1, 0, &rest, 1, &r1);
		rn = cut(rest.base, rest.len, seed * 7 + 1, rsegs);
		body_run(&m1, 0, rsegs, rn, &r2);
		same_body(&r1, &r2);
		release(rsegs, rn);
	}
	release(segs, n);
	return 0;
}
