// SPDX-License-Identifier: BSD-3-Clause
// The head parser's two paths must agree: the vector scans (SSE2, SSE4.2 where the CPU has it)
// with their byte-by-byte versions, and the fast path (a plain line parsed straight from the
// segment it lies in) with the careful path it falls back to (the line found first, then
// parsed through the segment cursor). Inputs end at a guard page, so a scan that reads past
// its input crashes; delimiters and hostile bytes go to every position across the 16- and
// 32-byte boundaries of a vector load and across segment boundaries.

#include <gtest/gtest.h>

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

extern "C" {
#include "http_priv.h"
}

namespace
{

// n bytes copied to end right before a PROT_NONE page.
class Guarded
{
      public:
	Guarded()
	{
		page_ = (size_t)sysconf(_SC_PAGESIZE);
		base_ = (uint8_t *)mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (base_ == MAP_FAILED || mprotect(base_ + page_, page_, PROT_NONE) != 0)
			abort();
	}
	~Guarded()
	{
		munmap(base_, 2 * page_);
	}
	const uint8_t *put(const std::string &s)
	{
		if (s.size() > page_)
			abort();
		memcpy(base_ + page_ - s.size(), s.data(), s.size());
		return base_ + page_ - s.size();
	}

      private:
	size_t page_;
	uint8_t *base_;
};

bool is_tchar(int b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	       (b && strchr("!#$%&'*+-.^_`|~", b) != nullptr);
}

bool is_value(int b)
{
	return b == '\t' || (b >= 0x20 && b != 0x7f);
}

// RFC 3986 reg-name bytes (unreserved, sub-delims) without '%'
bool is_regname(int b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	       (b && strchr("-._~!$&'()*+,;=", b) != nullptr);
}

// Every byte value at every position of runs up to 70 bytes long: the vector scans stop where
// the byte-by-byte ones do, and that is where the grammar says.
TEST(HttpScan, VectorScansAgreeWithScalar)
{
	Guarded g;

	for (int b = 0; b < 256; b++) {
		for (size_t len = 1; len <= 70; len++) {
			for (size_t k = 0; k < len; k++) {
				std::string tok(len, 'x'), val(len, ' ');
				tok[k] = (char)b;
				val[k] = (char)b;
				const uint8_t *p = g.put(tok);
				uint32_t want = is_tchar(b) ? (uint32_t)len : (uint32_t)k;
				ASSERT_EQ(http_token_run_scalar(p, (uint32_t)len), want) << b;
				ASSERT_EQ(http_token_run(p, (uint32_t)len), want)
					<< "byte " << b << " at " << k << " of " << len;
				want = is_regname(b) ? (uint32_t)len : (uint32_t)k;
				ASSERT_EQ(http_regname_run_scalar(p, (uint32_t)len), want) << b;
				ASSERT_EQ(http_regname_run(p, (uint32_t)len), want)
					<< "byte " << b << " at " << k << " of " << len;
				// with bytes before p readable (a load may start there): bytes that
				// would stop the run or go on with it, none of them looked at
				for (uint32_t back : { 1u, 15u, 16u - (uint32_t)len % 16, 16u }) {
					std::string pre(back, (k % 2) ? 'a' : '\x01');
					const uint8_t *q = g.put(pre + tok) + back;
					ASSERT_EQ(http_regname_run_back(q, (uint32_t)len, back),
						  want)
						<< "byte " << b << " at " << k << " of " << len
						<< " back " << back;
				}
				p = g.put(val);
				want = is_value(b) ? (uint32_t)len : (uint32_t)k;
				ASSERT_EQ(http_value_run_scalar(p, (uint32_t)len), want) << b;
				ASSERT_EQ(http_value_run(p, (uint32_t)len), want)
					<< "byte " << b << " at " << k << " of " << len;
			}
		}
	}
	// runs with nothing to stop them, of every length up to past two vectors
	for (size_t len = 0; len <= 70; len++) {
		const uint8_t *p = g.put(std::string(len, '~'));
		EXPECT_EQ(http_token_run(p, (uint32_t)len), (uint32_t)len);
		EXPECT_EQ(http_regname_run(p, (uint32_t)len), (uint32_t)len);
		p = g.put(std::string(len, '\x80'));
		EXPECT_EQ(http_value_run(p, (uint32_t)len), (uint32_t)len);
	}
}

TEST(HttpScan, TokenIsFoldsCaseOnTokens)
{
	const uint8_t cl[] = "CoNtEnT-LeNgTh";

	EXPECT_TRUE(http_token_is(cl, 14, "content-length"));
	EXPECT_FALSE(http_token_is((const uint8_t *)"content_length", 14, "content-length"));
	EXPECT_FALSE(http_token_is((const uint8_t *)"Hosu", 4, "host"));
}

struct Result {
	int rc = 0;
	http_msg m{};
	std::vector<http_header> h = std::vector<http_header>(HTTP_DEFAULT_MAX_HEADERS);
};

Result parse(bool resp, const std::vector<http_iov> &iov, bool grow)
{
	Result r;

	if (resp)
		http_resp_init(&r.m, nullptr, r.h.data(), HTTP_M_GET);
	else
		http_req_init(&r.m, nullptr, r.h.data());
	// grow: one more segment per call, as the bytes of a head arrive
	for (size_t k = grow ? 1 : iov.size(); k <= iov.size(); k++) {
		r.rc = resp ? http_resp_parse(&r.m, iov.data(), (unsigned)k)
			    : http_req_parse(&r.m, iov.data(), (unsigned)k);
		if (r.rc != -EAGAIN)
			break;
	}
	return r;
}

bool same_span(http_span a, http_span b)
{
	return a.off == b.off && a.len == b.len;
}

void expect_same(const Result &a, const Result &b, const std::string &how)
{
	ASSERT_EQ(a.rc, b.rc) << how << ": " << http_error_name(a.rc) << " vs "
			      << http_error_name(b.rc);
	if (a.rc <= 0)
		return;
	ASSERT_EQ(a.m.flags, b.m.flags) << how;
	ASSERT_EQ(a.m.content_length, b.m.content_length) << how;
	ASSERT_EQ(a.m.version, b.m.version) << how;
	ASSERT_EQ(a.m.body, b.m.body) << how;
	ASSERT_EQ(a.m.method, b.m.method) << how;
	ASSERT_EQ(a.m.target_form, b.m.target_form) << how;
	ASSERT_EQ(a.m.status, b.m.status) << how;
	ASSERT_EQ(a.m.host_name_len, b.m.host_name_len) << how;
	ASSERT_TRUE(same_span(a.m.method_s, b.m.method_s)) << how;
	ASSERT_TRUE(same_span(a.m.target, b.m.target)) << how;
	ASSERT_TRUE(same_span(a.m.path, b.m.path)) << how;
	ASSERT_TRUE(same_span(a.m.query, b.m.query)) << how;
	ASSERT_TRUE(same_span(a.m.host, b.m.host)) << how;
	ASSERT_TRUE(same_span(a.m.reason, b.m.reason)) << how;
	ASSERT_EQ(a.m.n_headers, b.m.n_headers) << how;
	for (uint32_t i = 0; i < a.m.n_headers; i++) {
		ASSERT_TRUE(same_span(http_name_span(a.h[i].name), http_name_span(b.h[i].name)))
			<< how << " header " << i;
		ASSERT_EQ(a.h[i].name.kind, b.h[i].name.kind) << how << " header " << i;
		ASSERT_TRUE(same_span(a.h[i].value, b.h[i].value)) << how << " header " << i;
	}
}

// The head in one piece (every line on the fast path), against it cut in two at every
// position from..to (the line cut parsed by the careful path, the others on the fast path in
// either segment) and in one-byte segments fed one more per call (careful path only).
void check_paths(bool resp, const std::string &head, size_t from = 1, size_t to = SIZE_MAX)
{
	static std::vector<uint8_t> bytes(64 * 1024);
	static Guarded g1, g2;
	std::vector<http_iov> one = { { g1.put(head), (uint32_t)head.size() } };
	Result whole = parse(resp, one, false);

	SCOPED_TRACE(head);
	for (size_t cut = from; cut < head.size() && cut <= to; cut++) {
		std::vector<http_iov> two = {
			{ g1.put(head.substr(0, cut)), (uint32_t)cut },
			{ g2.put(head.substr(cut)), (uint32_t)(head.size() - cut) },
		};
		expect_same(whole, parse(resp, two, false), "cut at " + std::to_string(cut));
		expect_same(whole, parse(resp, two, true), "grown at " + std::to_string(cut));
		if (::testing::Test::HasFatalFailure())
			return;
	}
	memcpy(bytes.data(), head.data(), head.size());
	std::vector<http_iov> each;
	for (size_t i = 0; i < head.size(); i++)
		each.push_back({ bytes.data() + i, 1 });
	expect_same(whole, parse(resp, each, true), "byte by byte");
}

// Bytes that end, split or spoil a token, a value or a line.
const char hostile[] = { '\0', '\r', '\n', ' ', '\t', 0x7f, (char)0x80, (char)0xff, ':',
			 ',',  '"',  '~',  '|', '%',  '?',  '/',	'A' };

// A field whose name and value end at every offset of a vector load, each byte of the line in
// turn replaced by each hostile byte.
TEST(HttpScan, FastPathAgreesWithCarefulPath)
{
	for (int resp = 0; resp <= 1; resp++) {
		std::string start =
			resp ? "HTTP/1.1 200 OK\r\n" : "GET /p?q HTTP/1.1\r\nHost: h\r\n";
		std::string end = resp ? "Content-Length: 0\r\n\r\n" : "\r\n";

		for (size_t nlen = 1; nlen <= 34; nlen++) {
			for (size_t vlen = 0; vlen <= 34; vlen += (nlen % 3) + 1) {
				std::string line = std::string(nlen, 'N') + ": " +
						   std::string(vlen, 'v') + "\r\n";

				check_paths(resp, start + line + end);
				if (HasFatalFailure())
					return;
				if ((nlen + vlen) % 3 != 0)
					continue;
				for (size_t k = 0; k < line.size(); k++) {
					for (char b : hostile) {
						std::string bad = line;
						bad[k] = b;
						size_t at = start.size() + k;

						check_paths(resp, start + bad + end, at - 1,
							    at + 1);
						if (HasFatalFailure())
							return;
					}
				}
			}
		}
	}
}

// OWS before and after values of every length, of SP and HTAB mixed, ending at every offset
// of a vector load and running across loads (16 bytes of OWS and more, OWS split between two
// loads, values of OWS alone): the fast path's vector masks skip and trim what the careful
// path's loops do. Whole (the fast path) against byte by byte (the careful path), and cut
// right after the colon (the value's line parsed with few bytes before it).
TEST(HttpScan, FastPathTrimsOwsLikeCarefulPath)
{
	for (int resp = 0; resp <= 1; resp++) {
		std::string start = resp ? "HTTP/1.1 200 OK\r\n" : "GET / HTTP/1.1\r\nHost: h\r\n";
		std::string end = resp ? "Content-Length: 0\r\n\r\n" : "\r\n";

		for (size_t lead = 0; lead <= 34; lead++) {
			for (size_t vlen = 0; vlen <= 34; vlen += 1 + vlen / 8) {
				for (size_t trail = 0; trail <= 34; trail += 1 + trail / 6) {
					std::string ows;
					for (size_t k = 0; k < lead + trail; k++)
						ows += (k * 7 + lead + vlen) % 3 ? ' ' : '\t';
					std::string v = std::string(vlen, 'v');
					if (vlen > 2)
						v[vlen / 2] = ' '; // inner OWS is kept
					std::string line = "Name:" + ows.substr(0, lead) + v +
							   ows.substr(lead) + "\r\n";
					size_t colon = start.size() + 4;

					check_paths(resp, start + line + end, colon, colon + 1);
					if (HasFatalFailure())
						return;
					check_paths(resp, start + "X-A: b\r\n" + line + end, 1, 0);
					if (HasFatalFailure())
						return;
				}
			}
		}
	}
}

// The start lines and the fields the parser reads, plain and with each byte spoiled.
TEST(HttpScan, FastStartLinesAgreeWithCarefulPath)
{
	const std::vector<std::pair<bool, std::string>> heads = {
		{ false, "GET / HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n\r\n" },
		{ false, "GET / HTTP/1.1\r\nHost: a-very.long_host~name=x.example:65535\r\n\r\n" },
		{ false, "POST /a/b?c=d?e HTTP/1.0\r\nContent-Length: 12\r\n\r\n" },
		{ false, "PATCH /x HTTP/1.1\r\nHost: [::1]:80\r\nConnection: close, te\r\n\r\n" },
		{ false, "\r\nget / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n" },
		{ false, "PUT /%41 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" },
		{ false, "OPTIONS * HTTP/1.1\r\nHost: a\r\nUpgrade: ws\r\n\r\n" },
		{ true, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 6\r\n"
			"Connection: keep-alive\r\n\r\n" },
		{ true, "HTTP/1.0 204\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" },
		{ true, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			"Connection: Upgrade\r\n\r\n" },
	};

	for (const auto &h : heads) {
		check_paths(h.first, h.second);
		if (HasFatalFailure())
			return;
		for (size_t k = 0; k < h.second.size(); k++) {
			for (char b : hostile) {
				std::string bad = h.second;
				bad[k] = b;
				check_paths(h.first, bad, k ? k - 1 : 1, k + 1);
				if (HasFatalFailure())
					return;
			}
		}
	}
}

// Every name the parser tells apart, in lower, upper and mixed case, and near misses (a byte
// changed, one too many, one too few): the kind each field gets (struct http_name.kind) is the
// one expected, and the same whichever path parsed the line (check_paths compares the kinds).
TEST(HttpScan, FieldKindsAgreeOnBothPaths)
{
	struct Known {
		const char *name, *value;
		enum http_hdr_kind req, resp; // Host and Expect are told in requests only
	};
	const Known known[] = {
		{ "host", "h", HTTP_H_HOST, HTTP_H_OTHER },
		{ "expect", "100-continue", HTTP_H_EXPECT, HTTP_H_OTHER },
		{ "content-length", "5", HTTP_H_CONTENT_LENGTH, HTTP_H_CONTENT_LENGTH },
		{ "transfer-encoding", "chunked", HTTP_H_TRANSFER_ENCODING,
		  HTTP_H_TRANSFER_ENCODING },
		{ "upgrade", "websocket", HTTP_H_UPGRADE, HTTP_H_UPGRADE },
		{ "connection", "keep-alive, x-a", HTTP_H_CONNECTION, HTTP_H_CONNECTION },
		{ "keep-alive", "timeout=5", HTTP_H_KEEP_ALIVE, HTTP_H_KEEP_ALIVE },
		{ "proxy-connection", "close", HTTP_H_PROXY_CONNECTION, HTTP_H_PROXY_CONNECTION },
		{ "te", "trailers", HTTP_H_TE, HTTP_H_TE },
		{ "trailer", "x-b", HTTP_H_TRAILER, HTTP_H_TRAILER },
		{ "x-forwarded-for", "10.0.0.1", HTTP_H_X_FORWARDED_FOR, HTTP_H_X_FORWARDED_FOR },
		{ "x-forwarded-proto", "https", HTTP_H_X_FORWARDED_PROTO,
		  HTTP_H_X_FORWARDED_PROTO },
	};

	for (int resp = 0; resp <= 1; resp++) {
		for (const Known &k : known) {
			std::string lower = k.name, upper, mixed, names[6];
			for (size_t i = 0; i < lower.size(); i++) {
				upper += (char)toupper(lower[i]);
				mixed += i % 2 ? (char)toupper(lower[i]) : lower[i];
			}
			names[0] = lower;
			names[1] = upper;
			names[2] = mixed;
			names[3] = lower.substr(0, lower.size() - 1) + "x"; // a byte changed
			names[4] = lower + "s";				    // one too many
			names[5] = lower.substr(1);			    // one too few
			for (int n = 0; n < 6; n++) {
				bool is_host = !resp && lower == "host";
				std::string head =
					resp ? "HTTP/1.1 200 OK\r\n"
					     : std::string("GET / HTTP/1.1\r\n") +
							(is_host && n < 3 ? "" : "Host: h\r\n");
				head += "X-A: b\r\n" + names[n] + ": " + k.value +
					"\r\nX-C: d\r\n\r\n";
				check_paths(resp, head);
				if (HasFatalFailure())
					return;
				static Guarded g;
				std::vector<http_iov> one = { { g.put(head),
								(uint32_t)head.size() } };
				Result r = parse(resp, one, false);
				ASSERT_GT(r.rc, 0) << head;
				uint32_t at = r.m.n_headers - 2; // X-A, the field, X-C
				enum http_hdr_kind want =
					n < 3 ? (resp ? k.resp : k.req) : HTTP_H_OTHER;
				EXPECT_EQ(r.h[at].name.kind, want) << head;
				EXPECT_EQ(r.h[at - 1].name.kind, HTTP_H_OTHER) << head;
				EXPECT_EQ(r.h[at + 1].name.kind, HTTP_H_OTHER) << head;
				if (!resp && !is_host) {
					EXPECT_EQ(r.h[0].name.kind, HTTP_H_HOST) << head;
				}
			}
		}
	}
}

} // namespace
