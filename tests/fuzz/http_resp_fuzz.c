/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: HTTP response heads (http_resp_parse) for each request method whose
 * response framing differs (GET, HEAD, CONNECT): every invariant of fuzz_head.h for each, the
 * same verdict for all three (framing conflicts are refused whatever the method), and the
 * body rules of RFC 9112 6.3: 1xx, 204 and 304 and any response to HEAD have no body, 101
 * and 2xx to CONNECT are tunnels, read-until-close never keeps the connection.
 *
 * Input: byte 0 bit 0 selects small limits; bytes 1 and 2 cut the rest (fuzz_util.h).
 */
#include "fuzz_head.h"

static void resp_init(struct http_msg *m, const struct http_limits *lim, struct http_header *h,
		      int arg)
{
	http_resp_init(m, lim, h, (enum http_method)arg);
}

static void check_framing(const struct http_msg *m, int method)
{
	uint16_t s = m->status;

	FZ_CHECK(s >= 100 && s <= 599);
	FZ_CHECK(m->method == method);
	if (s == 101)
		FZ_CHECK(m->body == HTTP_BODY_TUNNEL);
	else if (s < 200)
		FZ_CHECK(m->body == HTTP_BODY_NONE && (m->flags & HTTP_F_INTERIM));
	else if (method == HTTP_M_CONNECT && s < 300)
		FZ_CHECK(m->body == HTTP_BODY_TUNNEL);
	else if (method == HTTP_M_HEAD || s == 204 || s == 304)
		FZ_CHECK(m->body == HTTP_BODY_NONE);
	else
		FZ_CHECK(m->body == HTTP_BODY_LENGTH || m->body == HTTP_BODY_CHUNKED ||
			 m->body == HTTP_BODY_CLOSE);
	if (s >= 200)
		FZ_CHECK(!(m->flags & HTTP_F_INTERIM));
	if (m->body == HTTP_BODY_CLOSE)
		FZ_CHECK(!(m->flags & HTTP_F_KEEP_ALIVE));
	if (m->body == HTTP_BODY_LENGTH)
		FZ_CHECK(m->flags & HTTP_F_HAS_CL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits small = { 256, 8, 32 };
	static const int methods[] = { HTTP_M_GET, HTTP_M_HEAD, HTTP_M_CONNECT };
	static struct http_header hdrs[FZ_MAX_HDRS];
	struct fz_head h = { .init = resp_init, .parse = http_resp_parse };
	struct http_msg m, first;
	int rc, rc0 = 0;
	unsigned int i;

	if (size < FZ_PREFIX)
		return 0;
	h.lim = (data[0] & 1) ? &small : NULL;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		h.arg = methods[i];
		rc = fz_head_check(&h, data + FZ_PREFIX, size - FZ_PREFIX,
				   1 + data[1] % FZ_MAX_SEGS, data[2], &m, hdrs);
		if (i == 0) {
			rc0 = rc;
			first = m;
		}
		FZ_CHECK(rc == rc0);
		if (rc > 0) {
			check_framing(&m, methods[i]);
			FZ_CHECK(m.status == first.status && m.version == first.version);
			FZ_CHECK(m.n_headers == first.n_headers);
		}
	}
	return 0;
}
