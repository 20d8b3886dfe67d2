// SPDX-License-Identifier: BSD-3-Clause
// HTTP parser tests that are not table cases: error statuses, span helpers, resegmenting
// between calls, interim responses, bodies across messages, mbuf mapping (the tables and
// their three-way runner are in http_test.cc).

#include <gtest/gtest.h>

#include <errno.h>
#include <string.h>

#include <string>
#include <vector>

#include <rte_mbuf.h>

#include "http_parse.h"

namespace
{

std::string req(const std::string &line, const std::string &fields)
{
	return line + "\r\n" + fields + "\r\n";
}

std::string get(const std::string &fields)
{
	return req("GET / HTTP/1.1", "Host: a\r\n" + fields);
}

std::string post(const std::string &fields)
{
	return req("POST /up HTTP/1.1", "Host: a\r\n" + fields);
}

TEST(HttpErrors, StatusMapping)
{
	EXPECT_EQ(http_error_status(-HTTP_E_BARE_LF), 400);
	EXPECT_EQ(http_error_status(HTTP_E_BARE_LF), 400);
	EXPECT_EQ(http_error_status(-HTTP_E_TARGET_TOO_LONG), 414);
	EXPECT_EQ(http_error_status(-HTTP_E_HEADERS_TOO_LARGE), 431);
	EXPECT_EQ(http_error_status(-HTTP_E_TOO_MANY_HEADERS), 431);
	EXPECT_EQ(http_error_status(-HTTP_E_VERSION_UNSUPPORTED), 505);
	EXPECT_EQ(http_error_status(-HTTP_E_TE_UNKNOWN), 501);
	EXPECT_EQ(http_error_status(-HTTP_E_METHOD_UNKNOWN), 501);
	EXPECT_EQ(http_error_status(-HTTP_E_EXPECTATION), 417);
	EXPECT_EQ(http_error_status(-HTTP_E_BODY_TOO_LARGE), 413);
	EXPECT_EQ(http_error_status(-HTTP_E_BAD_STATUS_LINE), 502);
	EXPECT_EQ(http_error_status(-ENOMEM), 500);
	EXPECT_EQ(http_error_status(-EAGAIN), 500);
	EXPECT_STREQ(http_error_name(-HTTP_E_OBS_FOLD), "OBS_FOLD");
	EXPECT_STREQ(http_error_name(-EAGAIN), "EAGAIN");
	for (int e = HTTP_E_BASE + 1; e < HTTP_E_END; e++) {
		int st = http_error_status(-e);
		EXPECT_TRUE(st >= 400 && st < 600) << e;
		EXPECT_NE(std::string(http_error_str(-e)), "not an HTTP error") << e;
	}
}

std::vector<http_iov> split_every(const std::string &s, size_t k)
{
	std::vector<http_iov> v;
	for (size_t off = 0; off < s.size(); off += k)
		v.push_back(
			{ (const uint8_t *)s.data() + off, (uint32_t)std::min(k, s.size() - off) });
	return v;
}

TEST(HttpSpans, StraddlingSpansAndHelpers)
{
	std::string in = get("X-Long-Name: some value\r\n");
	std::vector<http_iov> iov = split_every(in, 3);
	http_header h[8];
	http_msg m;
	http_limits lim = { 1024, 8, 64 };

	http_req_init(&m, &lim, h);
	ASSERT_EQ(http_req_parse(&m, iov.data(), (unsigned)iov.size()), (int)in.size());

	uint8_t scratch[32];
	const uint8_t *p = http_span_ptr(iov.data(), (unsigned)iov.size(), h[1].value, scratch,
					 sizeof(scratch));
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p, scratch); // straddles: copied
	EXPECT_EQ(std::string((const char *)p, h[1].value.len), "some value");
	EXPECT_EQ(http_span_ptr(iov.data(), (unsigned)iov.size(), h[1].value, scratch, 4), nullptr);

	// In one segment the pointer goes into the input itself.
	http_iov one = { (const uint8_t *)in.data(), (uint32_t)in.size() };
	p = http_span_ptr(&one, 1, h[1].value, scratch, sizeof(scratch));
	EXPECT_EQ(p, (const uint8_t *)in.data() + h[1].value.off);

	char buf[16];
	EXPECT_EQ(http_span_copy(iov.data(), (unsigned)iov.size(), http_name_span(h[1].name), buf,
				 sizeof(buf)),
		  11);
	EXPECT_STREQ(buf, "X-Long-Name");
	EXPECT_EQ(http_span_copy(iov.data(), (unsigned)iov.size(), http_name_span(h[1].name), buf,
				 11),
		  -ENOSPC);
	EXPECT_EQ(http_span_copy(iov.data(), (unsigned)iov.size(), http_span{ 1000, 2 }, buf, 16),
		  -ERANGE);
	EXPECT_TRUE(http_span_eq_nocase(iov.data(), (unsigned)iov.size(), http_name_span(h[1].name),
					"x-long-NAME"));
	EXPECT_FALSE(http_span_eq_nocase(iov.data(), (unsigned)iov.size(),
					 http_name_span(h[1].name), "x-long-nam"));
	EXPECT_EQ(http_header_find(&m, iov.data(), (unsigned)iov.size(), "x-long-name", 0), 1);
	EXPECT_EQ(http_header_find(&m, iov.data(), (unsigned)iov.size(), "host", 0), 0);
	EXPECT_EQ(http_header_find(&m, iov.data(), (unsigned)iov.size(), "host", 1), -ENOENT);
	EXPECT_TRUE(http_span_eq_nocase(iov.data(), (unsigned)iov.size(), m.host, "A"));
}

TEST(HttpIncremental, ResegmentedBetweenCalls)
{
	// The receive queue may coalesce small segments between calls: spans are offsets, so
	// the parser does not care how the same bytes are cut.
	std::string in = get("Content-Length: 12\r\nX: y\r\n");
	http_msg m;
	http_header h[4];
	http_limits lim = { 1024, 4, 64 };
	http_req_init(&m, &lim, h);

	std::string part = in.substr(0, 30);
	std::vector<http_iov> a = split_every(part, 1);
	EXPECT_EQ(http_req_parse(&m, a.data(), (unsigned)a.size()), -EAGAIN);
	std::vector<http_iov> b = split_every(in, 7);
	EXPECT_EQ(http_req_parse(&m, b.data(), (unsigned)b.size()), (int)in.size());
	EXPECT_EQ(m.content_length, 12u);
	EXPECT_EQ(m.n_headers, 3u);

	// Input that shrank is a caller bug, not a parse result.
	http_req_init(&m, &lim, h);
	EXPECT_EQ(http_req_parse(&m, b.data(), 3), -EAGAIN);
	EXPECT_EQ(http_req_parse(&m, b.data(), 1), -EINVAL);
}

TEST(HttpIncremental, InterimThenFinalResponse)
{
	std::string in =
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	http_iov iov = { (const uint8_t *)in.data(), (uint32_t)in.size() };
	http_msg m;

	http_resp_init(&m, nullptr, nullptr, HTTP_M_POST);
	int first = http_resp_parse(&m, &iov, 1);
	ASSERT_EQ(first, 25);
	EXPECT_TRUE(m.flags & HTTP_F_INTERIM);

	http_iov rest = { iov.base + first, (uint32_t)(in.size() - first) };
	http_resp_init(&m, nullptr, nullptr, HTTP_M_POST);
	int second = http_resp_parse(&m, &rest, 1);
	ASSERT_GT(second, 0);
	EXPECT_EQ(m.status, 200);
	EXPECT_EQ(m.body, HTTP_BODY_LENGTH);

	http_body b;
	ASSERT_EQ(http_body_init(&b, &m, 0), 0);
	http_iov body = { rest.base + second, rest.len - (uint32_t)second };
	EXPECT_EQ(http_body_skip(&b, &body, 1), 2);
	EXPECT_TRUE(http_body_done(&b));
}

TEST(HttpBody, RequestWithChunkedBodyThenPipelined)
{
	std::string head = post("Transfer-Encoding: chunked\r\n");
	std::string body = "4;x=1\r\nwiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n";
	std::string in = head + body + get("");
	std::vector<http_iov> iov = split_every(in, 5);
	http_msg m;

	http_req_init(&m, nullptr, nullptr);
	int hl = http_req_parse(&m, iov.data(), (unsigned)iov.size());
	ASSERT_EQ(hl, (int)head.size());
	ASSERT_EQ(m.body, HTTP_BODY_CHUNKED);

	http_body b;
	ASSERT_EQ(http_body_init(&b, &m, 0), 0);
	std::string rest = in.substr(hl);
	std::vector<http_iov> riov = split_every(rest, 5);
	EXPECT_EQ(http_body_skip(&b, riov.data(), (unsigned)riov.size()), (int)body.size());
	EXPECT_TRUE(http_body_done(&b));
	EXPECT_EQ(b.total, 9u);
	EXPECT_EQ(http_body_eof(&b), 0);
}

TEST(HttpBody, EofRules)
{
	http_msg m;
	http_body b;
	memset(&m, 0, sizeof(m));

	m.body = HTTP_BODY_LENGTH;
	m.content_length = 3;
	ASSERT_EQ(http_body_init(&b, &m, 0), 0);
	EXPECT_EQ(http_body_eof(&b), -HTTP_E_TRUNCATED);
	EXPECT_EQ(http_error_status(-HTTP_E_TRUNCATED), 400);
	EXPECT_EQ(http_body_init(&b, &m, 2), -HTTP_E_BODY_TOO_LARGE);

	m.body = HTTP_BODY_CLOSE;
	ASSERT_EQ(http_body_init(&b, &m, 0), 0);
	EXPECT_FALSE(http_body_done(&b));
	EXPECT_EQ(http_body_eof(&b), 0);
	EXPECT_TRUE(http_body_done(&b));

	m.body = HTTP_BODY_CHUNKED;
	ASSERT_EQ(http_body_init(&b, &m, 0), 0);
	EXPECT_EQ(http_body_eof(&b), -HTTP_E_TRUNCATED);

	m.body = HTTP_BODY_CLOSE;
	ASSERT_EQ(http_body_init(&b, &m, 4), 0);
	http_body_data d;
	EXPECT_EQ(http_body_parse(&b, (const uint8_t *)"abc", 3, &d), 3);
	EXPECT_EQ(http_body_parse(&b, (const uint8_t *)"de", 2, &d), -HTTP_E_BODY_TOO_LARGE);
}

// Real mbuf headers, hand-built: http_iov_from_mbuf only reads buf_addr, data_off, data_len
// and next, so no EAL or mempool is needed.
TEST(HttpMbuf, ChainMapsToSegments)
{
	std::string in = post("Content-Length: 4\r\n") + "body";
	const size_t nseg = 4;
	struct rte_mbuf mb[nseg];
	std::vector<std::string> store(nseg);
	size_t per = in.size() / nseg + 1, off = 0;

	memset(mb, 0, sizeof(mb));
	for (size_t i = 0; i < nseg; i++) {
		size_t k = std::min(per, in.size() - off);
		store[i] = std::string(64, '#') + in.substr(off, k); // headroom before the data
		mb[i].buf_addr = (void *)store[i].data();
		mb[i].data_off = 64;
		mb[i].data_len = (uint16_t)k;
		mb[i].next = i + 1 < nseg ? &mb[i + 1] : nullptr;
		off += k;
	}
	ASSERT_EQ(off, in.size());

	http_iov iov[8];
	unsigned n = http_iov_from_mbuf(&mb[0], 0, iov, 8);
	ASSERT_EQ(n, nseg);
	EXPECT_EQ(iov[0].base, (const uint8_t *)store[0].data() + 64);

	http_msg m;
	http_header h[8];
	http_limits lim = { 1024, 8, 64 };
	http_req_init(&m, &lim, h);
	int hl = http_req_parse(&m, iov, n);
	ASSERT_EQ(hl, (int)in.size() - 4);
	EXPECT_EQ(m.content_length, 4u);

	// Map again from the end of the head: the body starts inside a segment.
	n = http_iov_from_mbuf(&mb[0], (uint32_t)hl, iov, 8);
	ASSERT_GE(n, 1u);
	http_body b;
	ASSERT_EQ(http_body_init(&b, &m, 0), 0);
	std::string got;
	for (unsigned i = 0; i < n && !http_body_done(&b); i++) {
		http_body_data d;
		int rc = http_body_parse(&b, iov[i].base, iov[i].len, &d);
		ASSERT_GE(rc, 0);
		got.append((const char *)iov[i].base + d.off, d.len);
	}
	EXPECT_EQ(got, "body");
	EXPECT_TRUE(http_body_done(&b));

	// A segment list shorter than the chain stops at max.
	EXPECT_EQ(http_iov_from_mbuf(&mb[0], 0, iov, 2), 2u);
	// An offset past the chain maps nothing.
	EXPECT_EQ(http_iov_from_mbuf(&mb[0], (uint32_t)in.size(), iov, 8), 0u);

	// The last mbuf alone (the one-segment shortcut): every offset in it, past it, no room.
	const rte_mbuf *last = &mb[nseg - 1];
	for (uint32_t o = 0; o <= last->data_len; o++) {
		n = http_iov_from_mbuf(last, o, iov, 8);
		if (o == last->data_len) {
			EXPECT_EQ(n, 0u);
			continue;
		}
		ASSERT_EQ(n, 1u);
		EXPECT_EQ(iov[0].base, (const uint8_t *)store[nseg - 1].data() + 64 + o);
		EXPECT_EQ(iov[0].len, last->data_len - o);
	}
	EXPECT_EQ(http_iov_from_mbuf(last, 0, iov, 0), 0u);
}

} // namespace
