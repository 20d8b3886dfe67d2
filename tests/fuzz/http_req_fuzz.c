/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: HTTP request heads (http_req_parse), every invariant of fuzz_head.h,
 * and what a request head must say about its body: none, a Content-Length, or chunked,
 * never read-until-close or a tunnel.
 *
 * Input: byte 0 bit 0 selects small limits (256 bytes, 8 headers, 32-byte target) to reach
 * the 414 and 431 paths; bytes 1 and 2 cut the rest into segments (fuzz_util.h).
 */
#include "fuzz_head.h"

static void req_init(struct http_msg *m, const struct http_limits *lim, struct http_header *h,
		     int arg)
{
	(void)arg;
	http_req_init(m, lim, h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits small = { 256, 8, 32 };
	static struct http_header hdrs[FZ_MAX_HDRS];
	struct fz_head h = { .init = req_init, .parse = http_req_parse };
	struct http_msg m;
	int rc;

	if (size < FZ_PREFIX)
		return 0;
	h.lim = (data[0] & 1) ? &small : NULL;
	rc = fz_head_check(&h, data + FZ_PREFIX, size - FZ_PREFIX, 1 + data[1] % FZ_MAX_SEGS,
			   data[2], &m, hdrs);
	if (rc > 0) {
		FZ_CHECK(m.body == HTTP_BODY_NONE || m.body == HTTP_BODY_LENGTH ||
			 m.body == HTTP_BODY_CHUNKED);
		FZ_CHECK(m.method_s.len > 0 && m.target.len > 0);
		FZ_CHECK(!((m.flags & HTTP_F_HAS_CL) && (m.flags & HTTP_F_HAS_TE)));
		if (m.version == 1)
			FZ_CHECK(m.flags & HTTP_F_HAS_HOST);
	}
	return 0;
}
