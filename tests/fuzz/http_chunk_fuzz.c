/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: message bodies (http_body_parse, http_body_skip, http_body_eof), chunked
 * coding above all, without a head.
 *
 * Checked on every input: the decoder fed the input in one piece, in the fuzzer's segments,
 * and one byte per call agrees on the error, the payload (length and bytes; for an
 * until-close body over max_body only the error, as what came before it depends on the
 * cuts), where the body ends and whether it may end at EOF; every call consumes at least one
 * byte and at most what it was given, and its payload run lies inside what it consumed;
 * http_body_skip, given the segments all at once or one per call, says the same as
 * http_body_parse; a Content-Length body carries exactly min(length, input) bytes; max_body
 * is never exceeded.
 *
 * Input: byte 0: bits 0-1 the body kind (0, 1: chunked, 2: Content-Length from bytes 3-4,
 * 3: until close), bit 2 a 64-byte max_body; bytes 1 and 2 cut the rest (fuzz_util.h).
 */
#include "fuzz_util.h"

struct body_run {
	int err;
	uint64_t consumed; /* bytes that belong to the body */
	uint64_t payload;
	uint64_t hash;
	int done;
	int eof; /* http_body_eof afterwards */
};

static void feed(struct http_body *b, struct body_run *r, const uint8_t *p, uint32_t len)
{
	uint32_t off = 0, j;

	while (off < len && !http_body_done(b) && !r->err) {
		struct http_body_data d;
		int rc = http_body_parse(b, p + off, len - off, &d);

		if (rc < 0) {
			FZ_CHECK(rc < -HTTP_E_BASE && rc > -HTTP_E_END);
			r->err = rc;
			break;
		}
		FZ_CHECK(rc > 0 && (uint32_t)rc <= len - off);
		FZ_CHECK((uint64_t)d.off + d.len <= (uint32_t)rc);
		for (j = 0; j < d.len; j++)
			r->hash = (r->hash ^ p[off + d.off + j]) * 1099511628211ull;
		r->payload += d.len;
		off += (uint32_t)rc;
		r->consumed += (uint32_t)rc;
	}
}

static void run_start(struct http_body *b, const struct http_msg *m, uint64_t max_body,
		      struct body_run *r)
{
	memset(r, 0, sizeof(*r));
	r->hash = 1469598103934665603ull;
	r->err = http_body_init(b, m, max_body);
}

static void run_end(struct http_body *b, struct body_run *r, uint64_t max_body)
{
	r->done = http_body_done(b);
	FZ_CHECK(b->total == r->payload);
	if (max_body)
		FZ_CHECK(r->payload <= max_body);
	r->eof = http_body_eof(b);
	FZ_CHECK(r->eof == 0 || (r->err && r->eof == r->err) ||
		 (!r->err && r->eof == -HTTP_E_TRUNCATED));
}

/* Until-close bodies refuse the call whose bytes would exceed max_body, so how much came
 * before the error depends on how the input was cut; chunked and Content-Length bodies fail
 * on framing bytes, after the same payload whatever the cuts. */
static void same(const struct http_msg *m, const struct body_run *a, const struct body_run *b)
{
	FZ_CHECK(a->err == b->err && a->done == b->done && a->eof == b->eof);
	if (!a->err || m->body != HTTP_BODY_CLOSE)
		FZ_CHECK(a->payload == b->payload && a->hash == b->hash);
	if (!a->err)
		FZ_CHECK(a->consumed == b->consumed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_msg m;
	struct http_body b;
	struct body_run r1, r2;
	struct fz_segs segs;
	struct fz_grow g;
	uint64_t max_body;
	unsigned int i;
	size_t k;
	int rc;

	if (size < FZ_PREFIX + 2)
		return 0;
	memset(&m, 0, sizeof(m));
	switch (data[0] & 3) {
	case 2:
		m.body = HTTP_BODY_LENGTH;
		m.flags = HTTP_F_HAS_CL;
		m.content_length = (uint64_t)data[3] << 8 | data[4];
		break;
	case 3:
		m.body = HTTP_BODY_CLOSE;
		break;
	default:
		m.body = HTTP_BODY_CHUNKED;
		m.flags = HTTP_F_CHUNKED | HTTP_F_HAS_TE;
		break;
	}
	max_body = (data[0] & 4) ? 64 : 0;
	fz_cut(&segs, data + FZ_PREFIX, size - FZ_PREFIX, 1 + data[1] % FZ_MAX_SEGS, data[2]);
	data += FZ_PREFIX;
	size -= FZ_PREFIX;

	/* one piece */
	fz_grow_init(&g, data, size);
	fz_grow_to(&g, size);
	run_start(&b, &m, max_body, &r1);
	feed(&b, &r1, g.buf, (uint32_t)size);
	run_end(&b, &r1, max_body);
	FZ_CHECK(r1.consumed <= size);
	if (!r1.err && !r1.done)
		FZ_CHECK(r1.consumed == size);
	if (m.body == HTTP_BODY_LENGTH && !r1.err) {
		uint64_t want = m.content_length < size ? m.content_length : size;

		FZ_CHECK(r1.payload == want && r1.consumed == want);
		FZ_CHECK(r1.done == (m.content_length <= size));
	}
	if (m.body == HTTP_BODY_CLOSE && !r1.err)
		FZ_CHECK(r1.consumed == size && r1.payload == size && !r1.done && r1.eof == 0);
	fz_grow_free(&g);

	/* the fuzzer's segments */
	run_start(&b, &m, max_body, &r2);
	for (i = 0; i < segs.n; i++)
		feed(&b, &r2, segs.iov[i].base, segs.iov[i].len);
	run_end(&b, &r2, max_body);
	same(&m, &r1, &r2);

	/* one byte per call, each its own allocation */
	run_start(&b, &m, max_body, &r2);
	for (k = 0; k < size && !r2.err && !http_body_done(&b); k++) {
		uint8_t *p = malloc(1);

		FZ_CHECK(p != NULL);
		*p = data[k];
		feed(&b, &r2, p, 1);
		free(p);
	}
	run_end(&b, &r2, max_body);
	same(&m, &r1, &r2);

	/* http_body_skip: all segments at once, then one segment per call */
	if (http_body_init(&b, &m, max_body) == 0) {
		rc = http_body_skip(&b, segs.iov, segs.n);
		if (r1.err)
			FZ_CHECK(rc == r1.err);
		else
			FZ_CHECK(rc >= 0 && (uint64_t)rc == r1.consumed);
		FZ_CHECK(http_body_done(&b) == r1.done);
	}
	if (http_body_init(&b, &m, max_body) == 0) {
		uint64_t used = 0;

		rc = 0;
		for (i = 0; i < segs.n && rc >= 0 && !http_body_done(&b); i++) {
			rc = http_body_skip(&b, &segs.iov[i], 1);
			if (rc >= 0) {
				FZ_CHECK((uint32_t)rc <= segs.iov[i].len);
				used += (uint32_t)rc;
			}
		}
		if (r1.err)
			FZ_CHECK(rc == r1.err);
		else
			FZ_CHECK(rc >= 0 && used == r1.consumed);
	}
	fz_release(&segs);
	return 0;
}
