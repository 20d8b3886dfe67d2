// SPDX-License-Identifier: BSD-3-Clause
// HTTP/1.1 parser tests. Every table case runs three ways and must give the same answer:
//   (a) the whole input in one segment that ends exactly at a PROT_NONE page, so any read past
//       the input crashes;
//   (b) one segment per byte, each ending at its own guard page, fed one more segment per call;
//   (c) two segments (each against a guard page) for every split position, fed first the
//       prefix alone and then both.
// No EAL: the parser's input is a list of (pointer, length) segments; mbuf chains are mapped
// to it by http_iov_from_mbuf, tested here with hand-built mbuf headers.

#include <gtest/gtest.h>

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <rte_mbuf.h>

#include "http_parse.h"

namespace
{

// Slots of read-write memory each followed by a PROT_NONE page.
class GuardArena
{
      public:
	GuardArena(size_t slots, size_t slot_bytes) : slots_(slots)
	{
		page_ = (size_t)sysconf(_SC_PAGESIZE);
		rw_ = (slot_bytes + page_ - 1) / page_ * page_;
		stride_ = rw_ + page_;
		void *p = mmap(nullptr, slots * stride_, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			abort();
		base_ = (uint8_t *)p;
		for (size_t i = 0; i < slots; i++)
			if (mprotect(base_ + i * stride_ + rw_, page_, PROT_NONE) != 0)
				abort();
	}
	// Copy len bytes so that they end right before slot's guard page.
	const uint8_t *put(size_t slot, const void *data, size_t len)
	{
		if (slot >= slots_ || len > rw_)
			abort();
		uint8_t *end = base_ + slot * stride_ + rw_;
		memcpy(end - len, data, len);
		return end - len;
	}
	size_t slots() const
	{
		return slots_;
	}
	size_t capacity() const
	{
		return rw_;
	}

      private:
	size_t slots_, page_, rw_, stride_;
	uint8_t *base_;
};

GuardArena &big_arena()
{
	static GuardArena a(2, 64 * 1024);
	return a;
}

GuardArena &byte_arena()
{
	static GuardArena a(4096, 1);
	return a;
}

// ---------------------------------------------------------------------------------------------
// Head cases (requests and responses).

struct HeadCase {
	std::string name;
	std::string in;
	bool resp = false;
	int req_method = HTTP_M_GET; // for responses
	http_limits lim = { 0, 0, 0 };

	int err = 0;	    // 0: success; EAGAIN; or an HTTP_E_* value
	int err_status = 0; // the status the error must map to
	int head_len = -1;  // -1: the whole input
	int method = -1, version = -1, form = -1, body = -1, n_headers = -1, status = -1;
	int host_name_len = -1;
	int64_t cl = -1;
	uint32_t fset = 0, fclear = 0;
	std::optional<std::string> target, path, query, host, reason;
	std::vector<std::pair<std::string, std::string>> hdrs;
	bool check_hdrs = false;

	HeadCase &fail(int e, int st)
	{
		err = e;
		err_status = st;
		return *this;
	}
	HeadCase &again()
	{
		err = EAGAIN;
		return *this;
	}
	HeadCase &len(int n)
	{
		head_len = n;
		return *this;
	}
	HeadCase &m(int v)
	{
		method = v;
		return *this;
	}
	HeadCase &v(int x)
	{
		version = x;
		return *this;
	}
	HeadCase &tf(int x)
	{
		form = x;
		return *this;
	}
	HeadCase &bk(int x)
	{
		body = x;
		return *this;
	}
	HeadCase &nh(int x)
	{
		n_headers = x;
		return *this;
	}
	HeadCase &st(int x)
	{
		status = x;
		return *this;
	}
	HeadCase &cl_(int64_t x)
	{
		cl = x;
		return *this;
	}
	HeadCase &fs(uint32_t f)
	{
		fset |= f;
		return *this;
	}
	HeadCase &fc(uint32_t f)
	{
		fclear |= f;
		return *this;
	}
	HeadCase &t(const std::string &s)
	{
		target = s;
		return *this;
	}
	HeadCase &p(const std::string &s)
	{
		path = s;
		return *this;
	}
	HeadCase &q(const std::string &s)
	{
		query = s;
		return *this;
	}
	HeadCase &h(const std::string &s, int name_len = -1)
	{
		host = s;
		host_name_len = name_len;
		return *this;
	}
	HeadCase &r(const std::string &s)
	{
		reason = s;
		return *this;
	}
	HeadCase &hdr(const std::string &n, const std::string &val)
	{
		hdrs.emplace_back(n, val);
		check_hdrs = true;
		return *this;
	}
	HeadCase &limits(uint32_t bytes, uint32_t count, uint32_t target_max)
	{
		lim = { bytes, count, target_max };
		return *this;
	}
};

HeadCase Q(const std::string &name, const std::string &in)
{
	HeadCase c;
	c.name = name;
	c.in = in;
	return c;
}

HeadCase S(const std::string &name, const std::string &in, int req_method = HTTP_M_GET)
{
	HeadCase c = Q(name, in);
	c.resp = true;
	c.req_method = req_method;
	return c;
}

std::string req(const std::string &line, const std::string &fields)
{
	return line + "\r\n" + fields + "\r\n";
}

// A GET with Host: a and the given extra field lines.
std::string get(const std::string &fields)
{
	return req("GET / HTTP/1.1", "Host: a\r\n" + fields);
}

std::string post(const std::string &fields)
{
	return req("POST /up HTTP/1.1", "Host: a\r\n" + fields);
}

std::vector<HeadCase> request_cases()
{
	const std::string A = "Host: a\r\n";
	const std::string long_target = "/" + std::string(8191, 'a');	  // 8192: the limit
	const std::string too_long_target = "/" + std::string(8192, 'a'); // complete line
	const std::string huge_target = "/" + std::string(9000, 'a');	  // past the line limit
	std::string many, too_many;
	for (int i = 0; i < 99; i++)
		many += "X-" + std::to_string(i) + ": v\r\n";
	too_many = many + "X-99: v\r\nX-100: v\r\n";
	std::string head_max = get("X: \r\n");
	head_max.insert(head_max.size() - 4, std::string(16384 - head_max.size(), 'v'));

	return {
		// ---- well-formed requests
		Q("get_minimal", get(""))
			.m(HTTP_M_GET)
			.v(1)
			.tf(HTTP_TF_ORIGIN)
			.t("/")
			.p("/")
			.q("")
			.h("a", 1)
			.bk(HTTP_BODY_NONE)
			.nh(1)
			.fs(HTTP_F_KEEP_ALIVE | HTTP_F_HAS_HOST)
			.fc(HTTP_F_HAS_CL | HTTP_F_CHUNKED | HTTP_F_HAS_TE)
			.hdr("Host", "a"),
		Q("http10_no_host", req("GET /x HTTP/1.0", ""))
			.v(0)
			.t("/x")
			.h("")
			.nh(0)
			.fc(HTTP_F_KEEP_ALIVE | HTTP_F_HAS_HOST),
		Q("http10_keep_alive", req("GET / HTTP/1.0", "Connection: keep-alive\r\n"))
			.v(0)
			.fs(HTTP_F_KEEP_ALIVE | HTTP_F_CONN_KEEP_ALIVE),
		Q("http10_keep_alive_case", req("GET / HTTP/1.0", "connection: Keep-Alive\r\n"))
			.fs(HTTP_F_KEEP_ALIVE),
		Q("http11_close", get("Connection: close\r\n"))
			.fs(HTTP_F_CONN_CLOSE)
			.fc(HTTP_F_KEEP_ALIVE),
		Q("http11_close_upper", get("CONNECTION: CLOSE\r\n"))
			.fs(HTTP_F_CONN_CLOSE)
			.fc(HTTP_F_KEEP_ALIVE),
		Q("conn_tokens", get("Connection: Keep-Alive, Upgrade, x-foo\r\n"))
			.fs(HTTP_F_CONN_KEEP_ALIVE | HTTP_F_CONN_UPGRADE | HTTP_F_CONN_OTHER |
			    HTTP_F_KEEP_ALIVE)
			.fc(HTTP_F_CONN_CLOSE),
		Q("conn_close_and_keepalive", get("Connection: keep-alive, close\r\n"))
			.fs(HTTP_F_CONN_CLOSE | HTTP_F_CONN_KEEP_ALIVE)
			.fc(HTTP_F_KEEP_ALIVE),
		Q("conn_empty_elements", get("Connection: , ,close ,\r\n")).fs(HTTP_F_CONN_CLOSE),
		Q("conn_two_lines", get("Connection: upgrade\r\nConnection: close\r\n"))
			.fs(HTTP_F_CONN_CLOSE | HTTP_F_CONN_UPGRADE),
		Q("http10_close_wins", req("GET / HTTP/1.0", "Connection: keep-alive, close\r\n"))
			.fc(HTTP_F_KEEP_ALIVE),
		Q("query", req("GET /a/b?x=1&y=%20 HTTP/1.1", A))
			.t("/a/b?x=1&y=%20")
			.p("/a/b")
			.q("x=1&y=%20"),
		Q("query_with_question", req("GET /p?a?b/c HTTP/1.1", A)).p("/p").q("a?b/c"),
		Q("query_empty", req("GET /p? HTTP/1.1", A)).p("/p").q(""),
		Q("path_subdelims", req("GET /a;b=c,d!$&'()*+:@-._~ HTTP/1.1", A))
			.p("/a;b=c,d!$&'()*+:@-._~"),
		Q("path_pct", req("GET /a%2Fb%2f HTTP/1.1", A)).p("/a%2Fb%2f"),
		Q("path_double_slash", req("GET //x HTTP/1.1", A)).p("//x"),
		Q("post_cl", post("Content-Length: 5\r\n") + "hello")
			.len((int)post("Content-Length: 5\r\n").size())
			.m(HTTP_M_POST)
			.cl_(5)
			.bk(HTTP_BODY_LENGTH)
			.fs(HTTP_F_HAS_CL),
		Q("cl_zero", post("Content-Length: 0\r\n")).cl_(0).bk(HTTP_BODY_LENGTH),
		Q("cl_list_same", post("Content-Length: 5, 5,5\r\n")).cl_(5),
		Q("cl_list_tabs", post("Content-Length: 5\t,\t5\r\n")).cl_(5),
		Q("cl_dup_same", post("Content-Length: 7\r\ncontent-length: 7\r\n")).cl_(7).nh(3),
		Q("cl_leading_zeros", post("Content-Length: 007\r\n")).cl_(7),
		Q("cl_ows", post("Content-Length:  42 \t\r\n")).cl_(42),
		Q("cl_max", post("Content-Length: 9223372036854775807\r\n")).cl_(INT64_MAX),
		Q("te_chunked", post("Transfer-Encoding: chunked\r\n"))
			.bk(HTTP_BODY_CHUNKED)
			.fs(HTTP_F_CHUNKED | HTTP_F_HAS_TE)
			.fc(HTTP_F_HAS_CL),
		Q("te_chunked_case", post("Transfer-Encoding: ChUnKeD\r\n")).bk(HTTP_BODY_CHUNKED),
		Q("te_name_case", post("transfer-ENCODING: chunked\r\n")).bk(HTTP_BODY_CHUNKED),
		// a request's coding is exactly "chunked": a backend that honours only chunked
		// would frame the others differently (issue 8), so they are refused as nginx does
		Q("te_gzip_chunked", post("Transfer-Encoding: gzip, chunked\r\n"))
			.fail(HTTP_E_TE_UNKNOWN, 501),
		Q("te_two_lines", post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"))
			.fail(HTTP_E_TE_UNKNOWN, 501),
		Q("te_ows", post("Transfer-Encoding: \t chunked \t\r\n")).bk(HTTP_BODY_CHUNKED),
		Q("te_xgzip", post("Transfer-Encoding: x-gzip,deflate , chunked\r\n"))
			.fail(HTTP_E_TE_UNKNOWN, 501),
		Q("te_deflate_chunked_lines",
		  post("Transfer-Encoding: deflate\r\ntransfer-encoding: chunked\r\n"))
			.fail(HTTP_E_TE_UNKNOWN, 501),
		Q("expect_continue", post("Expect: 100-continue\r\nContent-Length: 3\r\n"))
			.fs(HTTP_F_EXPECT_CONTINUE),
		Q("expect_continue_case", post("expect: 100-Continue\r\n"))
			.fs(HTTP_F_EXPECT_CONTINUE),
		Q("expect_http10_ignored", req("POST / HTTP/1.0", "Expect: 100-continue\r\n"))
			.fc(HTTP_F_EXPECT_CONTINUE),
		// RFC 9110 7.8: Upgrade in an HTTP/1.0 request is ignored (not tunnelled)
		Q("upgrade_http10_ignored",
		  req("GET /ws HTTP/1.0", "Upgrade: websocket\r\nConnection: Upgrade\r\n"))
			.fc(HTTP_F_UPGRADE | HTTP_F_CONN_UPGRADE),
		Q("upgrade_http11", get("Upgrade: websocket\r\nConnection: Upgrade\r\n"))
			.fs(HTTP_F_UPGRADE | HTTP_F_CONN_UPGRADE),
		Q("upgrade", get("Upgrade: websocket\r\nConnection: Upgrade\r\n"))
			.fs(HTTP_F_UPGRADE | HTTP_F_CONN_UPGRADE | HTTP_F_KEEP_ALIVE),
		Q("leading_crlf", "\r\n\r\n" + get("")).t("/").h("a"),
		Q("pipelined", get("") + get("X: 2\r\n")).len((int)get("").size()).nh(1),
		Q("body_bytes_after_head", get("") + "garbage\r\n").len((int)get("").size()),
		Q("absolute_form",
		  req("GET http://Example.com:8080/p?q HTTP/1.1", "Host: example.COM:8080\r\n"))
			.tf(HTTP_TF_ABSOLUTE)
			.h("Example.com:8080", 11)
			.p("/p")
			.q("q")
			.t("http://Example.com:8080/p?q"),
		Q("absolute_no_path", req("GET http://a.com HTTP/1.1", "Host: a.com\r\n"))
			.tf(HTTP_TF_ABSOLUTE)
			.h("a.com", 5)
			.p("")
			.q(""),
		Q("absolute_https_query", req("GET HTTPS://a.com?x HTTP/1.1", "Host: a.com\r\n"))
			.h("a.com")
			.p("")
			.q("x"),
		Q("absolute_http10_no_host", req("GET http://b.org/z HTTP/1.0", ""))
			.h("b.org", 5)
			.p("/z")
			.fc(HTTP_F_HAS_HOST),
		Q("absolute_ipv6", req("GET http://[::1]:80/ HTTP/1.1", "Host: [::1]:80\r\n"))
			.h("[::1]:80", 5),
		Q("connect", req("CONNECT a.com:443 HTTP/1.1", "Host: a.com:443\r\n"))
			.m(HTTP_M_CONNECT)
			.tf(HTTP_TF_AUTHORITY)
			.h("a.com:443", 5)
			.p(""),
		Q("options_star", req("OPTIONS * HTTP/1.1", A))
			.m(HTTP_M_OPTIONS)
			.tf(HTTP_TF_ASTERISK)
			.t("*"),
		Q("host_port", req("GET / HTTP/1.1", "Host: www.example.com:80\r\n"))
			.h("www.example.com:80", 15),
		Q("host_ipv6", req("GET / HTTP/1.1", "Host: [2001:db8::1]:8080\r\n"))
			.h("[2001:db8::1]:8080", 13),
		Q("host_ipv4", req("GET / HTTP/1.1", "Host: 198.18.0.1\r\n")).h("198.18.0.1", 10),
		Q("host_empty", req("GET / HTTP/1.1", "Host:\r\n")).h("", 0).fs(HTTP_F_HAS_HOST),
		Q("host_pct", req("GET / HTTP/1.1", "Host: a%41b\r\n")).h("a%41b"),
		Q("host_port_empty", req("GET / HTTP/1.1", "Host: a:\r\n")).h("a:", 1),
		Q("value_obs_text", get("X: \x80\xff caf\xc3\xa9\r\n"))
			.hdr("Host", "a")
			.hdr("X", "\x80\xff caf\xc3\xa9"),
		Q("value_htab_inside", get("X: a\tb\r\n")).hdr("Host", "a").hdr("X", "a\tb"),
		Q("value_empty", get("X:\r\nY: \t \r\n"))
			.hdr("Host", "a")
			.hdr("X", "")
			.hdr("Y", ""),
		Q("value_trimmed", get("X:  a b \t \r\n")).hdr("Host", "a").hdr("X", "a b"),
		Q("value_colons", get("X: a: b :c\r\n")).hdr("Host", "a").hdr("X", "a: b :c"),
		Q("name_tchars", get("X-!#$%&'*+.^_`|~09: v\r\n"))
			.hdr("Host", "a")
			.hdr("X-!#$%&'*+.^_`|~09", "v"),
		Q("name_underscore", get("Transfer_Encoding: chunked\r\n")).bk(HTTP_BODY_NONE),
		Q("method_head", req("HEAD / HTTP/1.1", A)).m(HTTP_M_HEAD),
		Q("method_put", req("PUT / HTTP/1.1", A)).m(HTTP_M_PUT),
		Q("method_delete", req("DELETE / HTTP/1.1", A)).m(HTTP_M_DELETE),
		Q("method_trace", req("TRACE / HTTP/1.1", A)).m(HTTP_M_TRACE),
		Q("method_patch", req("PATCH / HTTP/1.1", A)).m(HTTP_M_PATCH),
		Q("method_options_path", req("OPTIONS /x HTTP/1.1", A))
			.m(HTTP_M_OPTIONS)
			.tf(HTTP_TF_ORIGIN),
		Q("headers_at_limit", get(many)).nh(100),
		Q("head_at_limit", head_max).len(16384),
		Q("target_at_limit", req("GET " + long_target + " HTTP/1.1", A)).t(long_target),
		Q("small_limits_ok", req("GET /aaaaaaaaaaaaaaa HTTP/1.1", "Host: a\r\nX: 1\r\n"))
			.limits(64, 2, 16),

		// ---- incomplete input
		Q("empty", "").again(),
		Q("partial_line", "GET / HT").again(),
		Q("partial_crlf", "GET / HTTP/1.1\r").again(),
		Q("no_blank_line", "GET / HTTP/1.1\r\nHost: a\r\n").again(),
		Q("half_blank_line", "GET / HTTP/1.1\r\nHost: a\r\n\r").again(),
		Q("only_crlf", "\r\n").again(),
		Q("partial_long_target", "GET " + std::string(8000, 'a')).again(),

		// ---- request line
		Q("method_lowercase", req("get / HTTP/1.1", A)).fail(HTTP_E_METHOD_UNKNOWN, 501),
		// extension methods are forwarded (RFC 9110 9.1), as nginx and HAProxy do
		Q("method_extension", req("FOO / HTTP/1.1", A)).m(HTTP_M_OTHER).bk(HTTP_BODY_NONE),
		Q("method_propfind", req("PROPFIND /d HTTP/1.1", A + "Depth: 1\r\n"))
			.m(HTTP_M_OTHER)
			.t("/d"),
		Q("method_mkcol", req("MKCOL /d/ HTTP/1.1", A)).m(HTTP_M_OTHER),
		Q("method_purge", req("PURGE /x HTTP/1.1", A)).m(HTTP_M_OTHER),
		Q("method_query_body", req("QUERY /q HTTP/1.1", A + "Content-Length: 4\r\n"))
			.m(HTTP_M_OTHER)
			.bk(HTTP_BODY_LENGTH)
			.cl_(4),
		Q("method_token_chars", req("M-SEARCH * HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("method_32", req(std::string(32, 'X') + " / HTTP/1.1", A)).m(HTTP_M_OTHER),
		Q("method_head_lower", req("head / HTTP/1.1", A)).fail(HTTP_E_METHOD_UNKNOWN, 501),
		Q("method_post_mixed", req("PoSt / HTTP/1.1", A)).fail(HTTP_E_METHOD_UNKNOWN, 501),
		Q("method_long", req(std::string(40, 'A') + " / HTTP/1.1", A))
			.fail(HTTP_E_METHOD_UNKNOWN, 501),
		Q("method_bad_char", req("G(T / HTTP/1.1", A)).fail(HTTP_E_BAD_METHOD, 400),
		Q("method_nul", req(std::string("G\0T / HTTP/1.1", 14), A))
			.fail(HTTP_E_BAD_METHOD, 400),
		Q("method_only", req("GET", A)).fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("leading_space", req(" GET / HTTP/1.1", A)).fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("double_space", req("GET  / HTTP/1.1", A)).fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("double_space_version", req("GET /  HTTP/1.1", A))
			.fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("tab_after_method", req("GET\t/ HTTP/1.1", A)).fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("tab_after_target", req("GET /\tHTTP/1.1", A)).fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("trailing_space", req("GET / HTTP/1.1 ", A)).fail(HTTP_E_BAD_VERSION, 400),
		Q("no_version", req("GET /", A)).fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("http09", "GET /\r\n\r\n").fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("version_lowercase", req("GET / http/1.1", A)).fail(HTTP_E_BAD_VERSION, 400),
		Q("version_2", req("GET / HTTP/2.0", A)).fail(HTTP_E_VERSION_UNSUPPORTED, 505),
		// RFC 9110 2.5: a higher minor version is handled as the highest we know
		Q("version_1_2", req("GET / HTTP/1.2", A)).v(1).fs(HTTP_F_KEEP_ALIVE),
		Q("version_1_9", req("GET / HTTP/1.9", A)).v(1),
		Q("version_1_9_no_host", req("GET / HTTP/1.9", "")).fail(HTTP_E_HOST_MISSING, 400),
		Q("version_3_0", req("GET / HTTP/3.0", A)).fail(HTTP_E_VERSION_UNSUPPORTED, 505),

		// ---- bytes that can never start a request: refused as they arrive (issue 8)
		Q("early_nul", std::string("\0", 1)).fail(HTTP_E_BAD_METHOD, 400),
		Q("early_tls_hello",
		  std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11))
			.fail(HTTP_E_BAD_METHOD, 400),
		Q("early_method_nul", std::string("GE\0", 3)).fail(HTTP_E_BAD_METHOD, 400),
		Q("early_leading_space", " G").fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("early_tab_after_method", "GET\t/").fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("early_empty_target", "GET  /").fail(HTTP_E_BAD_REQUEST_LINE, 400),
		Q("early_target_ctl", "GET /a\x01").fail(HTTP_E_BAD_TARGET, 400),
		Q("early_target_utf8", "GET /caf\xc3").fail(HTTP_E_BAD_TARGET, 400),
		Q("early_target_bad_pct", "GET /a%zz").fail(HTTP_E_BAD_TARGET, 400),
		Q("early_bare_cr_method", "GE\rT").fail(HTTP_E_BARE_CR, 400),
		Q("early_bare_cr_target", "GET /\rx").fail(HTTP_E_BARE_CR, 400),
		Q("early_pct_cr", "GET /a%\rb").fail(HTTP_E_BAD_TARGET, 400),
		Q("early_pct_crlf", req("GET /a% HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("early_nul_lf", std::string("\0\n\xb9", 3)).fail(HTTP_E_BAD_METHOD, 400),
		Q("early_ok_prefix", "GET /a%2").again(),
		Q("early_ok_cr_last", "GET / HTTP/1.1\r").again(),
		Q("early_ok_version_part", "GET / HTT").again(),
		Q("early_after_empty_lines", std::string("\r\n\r\n\x16\x03", 6))
			.fail(HTTP_E_BAD_METHOD, 400),
		Q("version_0_9", req("GET / HTTP/0.9", A)).fail(HTTP_E_VERSION_UNSUPPORTED, 505),
		Q("version_1_10", req("GET / HTTP/1.10", A)).fail(HTTP_E_BAD_VERSION, 400),
		Q("version_short", req("GET / HTTP/1", A)).fail(HTTP_E_BAD_VERSION, 400),
		Q("version_letters", req("GET / HTTP/a.b", A)).fail(HTTP_E_BAD_VERSION, 400),
		Q("version_cr", req("GET / HTTP/1.1\r", A)).fail(HTTP_E_BAD_VERSION, 400),
		Q("space_in_target", req("GET /a b HTTP/1.1", A)).fail(HTTP_E_BAD_VERSION, 400),
		Q("target_fragment", req("GET /a#frag HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("target_utf8", req("GET /caf\xc3\xa9 HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("target_bad_pct", req("GET /%zz HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("target_short_pct", req("GET /%4 HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("target_quote", req("GET /a\"b HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("target_angle", req("GET /<script> HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("target_backslash", req("GET /a\\b HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("target_brackets_origin", req("GET /[x] HTTP/1.1", A))
			.fail(HTTP_E_BAD_TARGET, 400),
		Q("target_del", req("GET /a\x7f HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("target_nul", req(std::string("GET /a\0 HTTP/1.1", 16), A))
			.fail(HTTP_E_BAD_TARGET, 400),
		Q("target_bare_cr", req("GET /a\rb HTTP/1.1", A)).fail(HTTP_E_BARE_CR, 400),
		Q("target_relative", req("GET a/b HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("target_digit", req("GET 1 HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("absolute_ftp", req("GET ftp://a/ HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("absolute_userinfo", req("GET http://u@a/ HTTP/1.1", A))
			.fail(HTTP_E_BAD_TARGET, 400),
		Q("absolute_one_slash", req("GET http:/a HTTP/1.1", A))
			.fail(HTTP_E_BAD_TARGET, 400),
		Q("absolute_no_authority", req("GET http:///x HTTP/1.1", A))
			.fail(HTTP_E_BAD_TARGET, 400),
		Q("absolute_host_mismatch", req("GET http://evil/ HTTP/1.1", "Host: good\r\n"))
			.fail(HTTP_E_HOST_MISMATCH, 400),
		Q("absolute_port_mismatch", req("GET http://a:81/ HTTP/1.1", "Host: a\r\n"))
			.fail(HTTP_E_HOST_MISMATCH, 400),
		Q("absolute_no_host", req("GET http://a/ HTTP/1.1", ""))
			.fail(HTTP_E_HOST_MISSING, 400),
		Q("absolute_brackets_in_path", req("GET http://a/[x] HTTP/1.1", "Host: a\r\n"))
			.fail(HTTP_E_BAD_TARGET, 400),
		Q("asterisk_get", req("GET * HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("asterisk_extra", req("OPTIONS *x HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("connect_no_port", req("CONNECT a.com HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("connect_empty_port", req("CONNECT a.com: HTTP/1.1", A))
			.fail(HTTP_E_BAD_TARGET, 400),
		Q("connect_origin", req("CONNECT /x HTTP/1.1", A)).fail(HTTP_E_BAD_TARGET, 400),
		Q("target_too_long", req("GET " + too_long_target + " HTTP/1.1", A))
			.fail(HTTP_E_TARGET_TOO_LONG, 414),
		Q("target_too_long_partial", "GET " + huge_target)
			.fail(HTTP_E_TARGET_TOO_LONG, 414),
		Q("junk_line_too_long", std::string(20000, 'x')).fail(HTTP_E_BAD_METHOD, 400),
		Q("small_limits_target", req("GET /aaaaaaaaaaaaaaaa HTTP/1.1", A))
			.limits(64, 2, 16)
			.fail(HTTP_E_TARGET_TOO_LONG, 414),
		Q("small_limits_count", req("GET / HTTP/1.1", "Host: a\r\nX: 1\r\nY: 2\r\n"))
			.limits(64, 2, 16)
			.fail(HTTP_E_TOO_MANY_HEADERS, 431),
		Q("small_limits_bytes",
		  req("GET / HTTP/1.1", "Host: a\r\nX: " + std::string(35, 'v') + "\r\n"))
			.limits(64, 2, 16)
			.fail(HTTP_E_HEADERS_TOO_LARGE, 431),

		// ---- line endings and field syntax
		Q("bare_lf_request_line", "GET / HTTP/1.1\nHost: a\r\n\r\n")
			.fail(HTTP_E_BARE_LF, 400),
		Q("bare_lf_everywhere", "GET / HTTP/1.1\nHost: a\n\n").fail(HTTP_E_BARE_LF, 400),
		Q("bare_lf_field", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n")
			.fail(HTTP_E_BARE_LF, 400),
		Q("bare_lf_blank_line", "GET / HTTP/1.1\r\nHost: a\r\n\n")
			.fail(HTTP_E_BARE_LF, 400),
		Q("bare_lf_leading", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
			.fail(HTTP_E_BARE_LF, 400),
		Q("bare_cr_value", get("X: a\rY: b\r\n")).fail(HTTP_E_BARE_CR, 400),
		Q("bare_cr_name", get("X\r: b\r\n")).fail(HTTP_E_BARE_CR, 400),
		Q("bare_cr_end", get("X: a\r\r\n")).fail(HTTP_E_BARE_CR, 400),
		Q("obs_fold", get("X: a\r\n b\r\n")).fail(HTTP_E_OBS_FOLD, 400),
		Q("obs_fold_tab", get("X: a\r\n\tb\r\n")).fail(HTTP_E_OBS_FOLD, 400),
		Q("space_first_field", req("GET / HTTP/1.1", " Host: a\r\n"))
			.fail(HTTP_E_OBS_FOLD, 400),
		Q("obs_fold_te", post("Transfer-Encoding:\r\n chunked\r\n"))
			.fail(HTTP_E_BAD_TE, 400),
		Q("space_before_colon", req("GET / HTTP/1.1", "Host : a\r\n"))
			.fail(HTTP_E_WS_BEFORE_COLON, 400),
		Q("tab_before_colon", post("Transfer-Encoding\t: chunked\r\n"))
			.fail(HTTP_E_WS_BEFORE_COLON, 400),
		Q("space_in_name", get("X Y: b\r\n")).fail(HTTP_E_WS_BEFORE_COLON, 400),
		Q("empty_name", get(": b\r\n")).fail(HTTP_E_BAD_HEADER_NAME, 400),
		Q("no_colon", get("NoColon\r\n")).fail(HTTP_E_BAD_HEADER_NAME, 400),
		Q("name_utf8", get("H\xc3\xb3st: b\r\n")).fail(HTTP_E_BAD_HEADER_NAME, 400),
		Q("name_paren", get("X(y): b\r\n")).fail(HTTP_E_BAD_HEADER_NAME, 400),
		Q("name_nul", get(std::string("X\0: b\r\n", 7))).fail(HTTP_E_BAD_HEADER_NAME, 400),
		Q("value_nul", get(std::string("X: a\0b\r\n", 8)))
			.fail(HTTP_E_BAD_HEADER_VALUE, 400),
		Q("value_soh", get("X: \x01\r\n")).fail(HTTP_E_BAD_HEADER_VALUE, 400),
		Q("value_del", get("X: a\x7f\r\n")).fail(HTTP_E_BAD_HEADER_VALUE, 400),
		Q("value_esc", get("X: \x1b[31m\r\n")).fail(HTTP_E_BAD_HEADER_VALUE, 400),
		Q("value_vt", get("X: a\x0b\r\n")).fail(HTTP_E_BAD_HEADER_VALUE, 400),
		Q("headers_too_large", get("X: " + std::string(20000, 'v') + "\r\n"))
			.fail(HTTP_E_HEADERS_TOO_LARGE, 431),
		Q("head_over_limit", head_max.substr(0, head_max.size() - 4) + "v\r\n\r\n")
			.fail(HTTP_E_HEADERS_TOO_LARGE, 431),
		Q("too_many_headers", get(too_many)).fail(HTTP_E_TOO_MANY_HEADERS, 431),

		// ---- Host
		Q("host_missing", req("GET / HTTP/1.1", "X: a\r\n")).fail(HTTP_E_HOST_MISSING, 400),
		Q("host_dup", get("Host: a\r\n")).fail(HTTP_E_HOST_DUP, 400),
		Q("host_dup_case", get("hOsT: b\r\n")).fail(HTTP_E_HOST_DUP, 400),
		Q("host_dup_http10", req("GET / HTTP/1.0", "Host: a\r\nHost: a\r\n"))
			.fail(HTTP_E_HOST_DUP, 400),
		Q("host_space", req("GET / HTTP/1.1", "Host: a b\r\n")).fail(HTTP_E_BAD_HOST, 400),
		Q("host_slash", req("GET / HTTP/1.1", "Host: a/b\r\n")).fail(HTTP_E_BAD_HOST, 400),
		Q("host_userinfo", req("GET / HTTP/1.1", "Host: u@a\r\n"))
			.fail(HTTP_E_BAD_HOST, 400),
		Q("host_bad_port", req("GET / HTTP/1.1", "Host: a:8x\r\n"))
			.fail(HTTP_E_BAD_HOST, 400),
		Q("host_port_range", req("GET / HTTP/1.1", "Host: a:65536\r\n"))
			.fail(HTTP_E_BAD_HOST, 400),
		Q("host_unclosed_ipv6", req("GET / HTTP/1.1", "Host: [::1\r\n"))
			.fail(HTTP_E_BAD_HOST, 400),
		Q("host_only_port", req("GET / HTTP/1.1", "Host: :80\r\n"))
			.fail(HTTP_E_BAD_HOST, 400),
		Q("host_two_values", req("GET / HTTP/1.1", "Host: a, b\r\n"))
			.fail(HTTP_E_BAD_HOST, 400),

		// ---- Content-Length
		Q("cl_plus", post("Content-Length: +5\r\n")).fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_minus", post("Content-Length: -5\r\n")).fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_inner_space", post("Content-Length: 5 5\r\n"))
			.fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_list_differs", post("Content-Length: 5, 6\r\n"))
			.fail(HTTP_E_CONTENT_LENGTH_MISMATCH, 400),
		Q("cl_dup_differs", post("Content-Length: 5\r\nContent-Length: 6\r\n"))
			.fail(HTTP_E_CONTENT_LENGTH_MISMATCH, 400),
		Q("cl_empty", post("Content-Length:\r\n")).fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_hex", post("Content-Length: 0x10\r\n")).fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_exponent", post("Content-Length: 1e3\r\n"))
			.fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_trailing_comma", post("Content-Length: 5,\r\n"))
			.fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_leading_comma", post("Content-Length: ,5\r\n"))
			.fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_semicolon", post("Content-Length: 5;\r\n"))
			.fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_quoted", post("Content-Length: \"5\"\r\n"))
			.fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_overflow_2p63", post("Content-Length: 9223372036854775808\r\n"))
			.fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_overflow_2p64", post("Content-Length: 18446744073709551616\r\n"))
			.fail(HTTP_E_BAD_CONTENT_LENGTH, 400),
		Q("cl_space_before_colon", post("Content-Length : 5\r\n"))
			.fail(HTTP_E_WS_BEFORE_COLON, 400),

		// ---- Transfer-Encoding (smuggling)
		Q("cl_then_te", post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"))
			.fail(HTTP_E_CL_AND_TE, 400),
		Q("te_then_cl", post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"))
			.fail(HTTP_E_CL_AND_TE, 400),
		Q("te_chunked_identity", post("Transfer-Encoding: chunked, identity\r\n"))
			.fail(HTTP_E_TE_NOT_CHUNKED_LAST, 400),
		Q("te_identity", post("Transfer-Encoding: identity\r\n"))
			.fail(HTTP_E_TE_NOT_CHUNKED_LAST, 400),
		Q("te_gzip_only", post("Transfer-Encoding: gzip\r\n"))
			.fail(HTTP_E_TE_NOT_CHUNKED_LAST, 400),
		Q("te_chunked_then_gzip_line",
		  post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"))
			.fail(HTTP_E_TE_NOT_CHUNKED_LAST, 400),
		Q("te_unknown_before_chunked", post("Transfer-Encoding: foo, chunked\r\n"))
			.fail(HTTP_E_TE_UNKNOWN, 501),
		Q("te_identity_chunked", post("Transfer-Encoding: identity, chunked\r\n"))
			.fail(HTTP_E_TE_UNKNOWN, 501),
		Q("te_xchunked", post("Transfer-Encoding: xchunked\r\n"))
			.fail(HTTP_E_TE_NOT_CHUNKED_LAST, 400),
		Q("te_chunked_twice", post("Transfer-Encoding: chunked, chunked\r\n"))
			.fail(HTTP_E_BAD_TE, 400),
		Q("te_chunked_twice_lines",
		  post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"))
			.fail(HTTP_E_BAD_TE, 400),
		Q("te_param", post("Transfer-Encoding: chunked;q=1\r\n")).fail(HTTP_E_BAD_TE, 400),
		Q("te_trailing_comma", post("Transfer-Encoding: chunked,\r\n"))
			.fail(HTTP_E_BAD_TE, 400),
		Q("te_leading_comma", post("Transfer-Encoding: ,chunked\r\n"))
			.fail(HTTP_E_BAD_TE, 400),
		Q("te_empty", post("Transfer-Encoding:\r\n")).fail(HTTP_E_BAD_TE, 400),
		Q("te_quoted", post("Transfer-Encoding: \"chunked\"\r\n")).fail(HTTP_E_BAD_TE, 400),
		Q("te_split_word", post("Transfer-Encoding: chunk ed\r\n"))
			.fail(HTTP_E_BAD_TE, 400),
		Q("te_vtab", post("Transfer-Encoding: chunked\x0b\r\n"))
			.fail(HTTP_E_BAD_HEADER_VALUE, 400),
		Q("te_nul", post(std::string("Transfer-Encoding: chunked\0\r\n", 29)))
			.fail(HTTP_E_BAD_HEADER_VALUE, 400),
		Q("te_http10", req("POST / HTTP/1.0", "Transfer-Encoding: chunked\r\n"))
			.fail(HTTP_E_TE_HTTP10, 400),
		Q("te_http10_with_cl",
		  req("POST / HTTP/1.0", "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"))
			.fail(HTTP_E_CL_AND_TE, 400),

		// ---- Connection, Expect
		Q("conn_param", get("Connection: close;x\r\n")).fail(HTTP_E_BAD_CONNECTION, 400),
		Q("conn_quote", get("Connection: \"close\"\r\n")).fail(HTTP_E_BAD_CONNECTION, 400),
		Q("expect_other", post("Expect: 200-ok\r\n")).fail(HTTP_E_EXPECTATION, 417),
		Q("expect_param", post("Expect: 100-continue;x=1\r\n"))
			.fail(HTTP_E_EXPECTATION, 417),
		Q("expect_two", post("Expect: 100-continue, foo\r\n"))
			.fail(HTTP_E_EXPECTATION, 417),
	};
}

std::vector<HeadCase> response_cases()
{
	return {
		S("resp_cl", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
			.len(38)
			.st(200)
			.r("OK")
			.v(1)
			.bk(HTTP_BODY_LENGTH)
			.cl_(5)
			.fs(HTTP_F_KEEP_ALIVE)
			.nh(1),
		S("resp_chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
			.bk(HTTP_BODY_CHUNKED)
			.fs(HTTP_F_CHUNKED | HTTP_F_KEEP_ALIVE),
		S("resp_close_delimited", "HTTP/1.1 200 OK\r\n\r\n")
			.bk(HTTP_BODY_CLOSE)
			.fc(HTTP_F_KEEP_ALIVE),
		S("resp_204", "HTTP/1.1 204 No Content\r\n\r\n")
			.st(204)
			.bk(HTTP_BODY_NONE)
			.fs(HTTP_F_KEEP_ALIVE),
		S("resp_304_cl", "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n")
			.bk(HTTP_BODY_NONE),
		S("resp_head_cl", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", HTTP_M_HEAD)
			.bk(HTTP_BODY_NONE)
			.cl_(100),
		S("resp_head_chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		  HTTP_M_HEAD)
			.bk(HTTP_BODY_NONE),
		S("resp_100", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
			.len(25)
			.st(100)
			.bk(HTTP_BODY_NONE)
			.fs(HTTP_F_INTERIM),
		S("resp_103_headers", "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n")
			.fs(HTTP_F_INTERIM)
			.nh(1),
		S("resp_101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
			      "websocket\r\nConnection: Upgrade\r\n\r\n")
			.st(101)
			.bk(HTTP_BODY_TUNNEL)
			.fs(HTTP_F_UPGRADE | HTTP_F_CONN_UPGRADE)
			.fc(HTTP_F_INTERIM),
		S("resp_connect_200", "HTTP/1.1 200 Connection established\r\n\r\n", HTTP_M_CONNECT)
			.bk(HTTP_BODY_TUNNEL),
		S("resp_connect_407", "HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n",
		  HTTP_M_CONNECT)
			.bk(HTTP_BODY_LENGTH),
		S("resp_http10", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n")
			.v(0)
			.fc(HTTP_F_KEEP_ALIVE),
		S("resp_http10_keepalive",
		  "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n")
			.fs(HTTP_F_KEEP_ALIVE),
		S("resp_close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n")
			.fc(HTTP_F_KEEP_ALIVE),
		S("resp_no_reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").r(""),
		S("resp_empty_reason", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").r(""),
		S("resp_reason_obs_text", "HTTP/1.1 404 Nicht gefunden \xfc\r\n\r\n")
			.st(404)
			.r("Nicht gefunden \xfc"),
		S("resp_te_gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")
			.bk(HTTP_BODY_CLOSE),
		S("resp_te_chunked_gzip",
		  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")
			.bk(HTTP_BODY_CLOSE)
			.fc(HTTP_F_KEEP_ALIVE),
		S("resp_te_unknown_chunked",
		  "HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n")
			.bk(HTTP_BODY_CHUNKED),
		S("resp_partial", "HTTP/1.1 200 OK\r\nContent-Le").again(),
		S("resp_cl_te",
		  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
			.fail(HTTP_E_CL_AND_TE, 400),
		S("resp_te_http10", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
			.fail(HTTP_E_TE_HTTP10, 400),
		S("resp_cl_mismatch",
		  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
			.fail(HTTP_E_CONTENT_LENGTH_MISMATCH, 400),
		S("resp_http2", "HTTP/2 200\r\n\r\n").fail(HTTP_E_BAD_STATUS_LINE, 502),
		S("resp_version_12", "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n")
			.v(1)
			.bk(HTTP_BODY_LENGTH),
		S("resp_version_1x", "HTTP/1.x 200 OK\r\n\r\n").fail(HTTP_E_BAD_STATUS_LINE, 502),
		S("resp_lower", "http/1.1 200 OK\r\n\r\n").fail(HTTP_E_BAD_STATUS_LINE, 502),
		S("resp_two_digits", "HTTP/1.1 20 OK\r\n\r\n").fail(HTTP_E_BAD_STATUS_LINE, 502),
		S("resp_status_600", "HTTP/1.1 600 X\r\n\r\n").fail(HTTP_E_BAD_STATUS_LINE, 502),
		S("resp_status_099", "HTTP/1.1 099 X\r\n\r\n").fail(HTTP_E_BAD_STATUS_LINE, 502),
		S("resp_no_space", "HTTP/1.1 200OK\r\n\r\n").fail(HTTP_E_BAD_STATUS_LINE, 502),
		S("resp_double_space", "HTTP/1.1  200 OK\r\n\r\n")
			.fail(HTTP_E_BAD_STATUS_LINE, 502),
		S("resp_reason_nul", std::string("HTTP/1.1 200 O\0K\r\n\r\n", 20))
			.fail(HTTP_E_BAD_STATUS_LINE, 502),
		S("resp_leading_crlf", "\r\nHTTP/1.1 200 OK\r\n\r\n")
			.fail(HTTP_E_BAD_STATUS_LINE, 502),
		S("resp_bare_lf", "HTTP/1.1 200 OK\nContent-Length: 0\n\n")
			.fail(HTTP_E_BARE_LF, 400),
		S("resp_obs_fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n")
			.fail(HTTP_E_OBS_FOLD, 400),
		S("resp_huge_status_line", "HTTP/1.1 200 " + std::string(20000, 'x'))
			.fail(HTTP_E_BAD_STATUS_LINE, 502),
	};
}

// What a parse produced, with spans as text, comparable across segmentations.
struct Outcome {
	int rc = 0;
	http_msg m;
	std::vector<http_header> h;
};

bool same_span(http_span a, http_span b)
{
	return a.off == b.off && a.len == b.len;
}

void expect_same(const Outcome &a, const Outcome &b, const std::string &how)
{
	SCOPED_TRACE(how);
	ASSERT_EQ(a.rc, b.rc) << http_error_name(a.rc) << " vs " << http_error_name(b.rc);
	if (a.rc <= 0)
		return;
	EXPECT_EQ(a.m.flags, b.m.flags);
	EXPECT_EQ(a.m.head_len, b.m.head_len);
	EXPECT_EQ(a.m.content_length, b.m.content_length);
	EXPECT_EQ(a.m.version, b.m.version);
	EXPECT_EQ(a.m.body, b.m.body);
	EXPECT_EQ(a.m.method, b.m.method);
	EXPECT_EQ(a.m.target_form, b.m.target_form);
	EXPECT_EQ(a.m.status, b.m.status);
	EXPECT_EQ(a.m.host_name_len, b.m.host_name_len);
	EXPECT_TRUE(same_span(a.m.method_s, b.m.method_s));
	EXPECT_TRUE(same_span(a.m.target, b.m.target));
	EXPECT_TRUE(same_span(a.m.path, b.m.path));
	EXPECT_TRUE(same_span(a.m.query, b.m.query));
	EXPECT_TRUE(same_span(a.m.host, b.m.host));
	EXPECT_TRUE(same_span(a.m.reason, b.m.reason));
	ASSERT_EQ(a.m.n_headers, b.m.n_headers);
	for (uint32_t i = 0; i < a.m.n_headers; i++) {
		EXPECT_TRUE(same_span(http_name_span(a.h[i].name), http_name_span(b.h[i].name)))
			<< i;
		EXPECT_EQ(a.h[i].name.kind, b.h[i].name.kind) << i;
		EXPECT_TRUE(same_span(a.h[i].value, b.h[i].value)) << i;
	}
}

class HeadRunner
{
      public:
	explicit HeadRunner(const HeadCase &c) : c_(c)
	{
	}

	void init(Outcome &o)
	{
		const http_limits *lim = c_.lim.max_header_bytes ? &c_.lim : nullptr;
		uint32_t cap = lim ? lim->max_headers : HTTP_DEFAULT_MAX_HEADERS;

		o.h.assign(cap, http_header{});
		if (c_.resp)
			http_resp_init(&o.m, lim, o.h.data(), (enum http_method)c_.req_method);
		else
			http_req_init(&o.m, lim, o.h.data());
	}

	int call(Outcome &o, const std::vector<http_iov> &iov)
	{
		if (c_.resp)
			return http_resp_parse(&o.m, iov.data(), (unsigned)iov.size());
		return http_req_parse(&o.m, iov.data(), (unsigned)iov.size());
	}

	// (a) one segment ending at a guard page
	Outcome one_shot()
	{
		Outcome o;
		init(o);
		std::vector<http_iov> iov = { { big_arena().put(0, c_.in.data(), c_.in.size()),
						(uint32_t)c_.in.size() } };
		o.rc = call(o, iov);
		// Asking again changes nothing.
		int again = call(o, iov);
		EXPECT_EQ(o.rc, again);
		return o;
	}

	// (b) small segments, one more per call
	Outcome bytewise()
	{
		Outcome o;
		init(o);
		size_t n = c_.in.size();
		size_t step = (n + byte_arena().slots() - 1) / byte_arena().slots();
		if (step == 0)
			step = 1;
		std::vector<http_iov> all;
		for (size_t off = 0, slot = 0; off < n; off += step, slot++) {
			size_t k = std::min(step, n - off);
			all.push_back(
				{ byte_arena().put(slot, c_.in.data() + off, k), (uint32_t)k });
		}
		o.rc = -EAGAIN;
		std::vector<http_iov> fed;
		for (const http_iov &s : all) {
			fed.push_back(s);
			o.rc = call(o, fed);
			if (o.rc != -EAGAIN)
				break;
		}
		if (all.empty())
			o.rc = call(o, fed);
		return o;
	}

	// (c) two segments split at pos, prefix fed first
	Outcome split(size_t pos, bool prefix_first)
	{
		Outcome o;
		init(o);
		std::vector<http_iov> iov = {
			{ big_arena().put(0, c_.in.data(), pos), (uint32_t)pos },
			{ big_arena().put(1, c_.in.data() + pos, c_.in.size() - pos),
			  (uint32_t)(c_.in.size() - pos) },
		};
		if (prefix_first) {
			std::vector<http_iov> first(iov.begin(), iov.begin() + 1);
			int r1 = call(o, first);
			o.rc = call(o, iov);
			if (r1 != -EAGAIN) {
				EXPECT_EQ(r1, o.rc) << "early answer changed at split " << pos;
			}
		} else {
			o.rc = call(o, iov);
		}
		return o;
	}

      private:
	const HeadCase &c_;
};

std::string text(const std::string &in, http_span s)
{
	if ((size_t)s.off + s.len > in.size())
		return "<out of range>";
	return in.substr(s.off, s.len);
}

void check_expectations(const HeadCase &c, const Outcome &o)
{
	if (c.err == EAGAIN) {
		EXPECT_EQ(o.rc, -EAGAIN) << http_error_name(o.rc);
		return;
	}
	if (c.err) {
		EXPECT_EQ(o.rc, -c.err)
			<< "got " << http_error_name(o.rc) << ", want " << http_error_name(-c.err);
		EXPECT_EQ(http_error_status(o.rc), c.err_status);
		return;
	}
	ASSERT_GT(o.rc, 0) << http_error_name(o.rc) << ": " << http_error_str(o.rc);
	const http_msg &m = o.m;
	int want_len = c.head_len >= 0 ? c.head_len : (int)c.in.size();
	EXPECT_EQ(o.rc, want_len);
	EXPECT_EQ(m.head_len, (uint32_t)want_len);
	if (c.method >= 0) {
		EXPECT_EQ(m.method, c.method);
	}
	if (c.version >= 0) {
		EXPECT_EQ(m.version, c.version);
	}
	if (c.form >= 0) {
		EXPECT_EQ(m.target_form, c.form);
	}
	if (c.body >= 0) {
		EXPECT_EQ(m.body, c.body);
	}
	if (c.n_headers >= 0) {
		EXPECT_EQ(m.n_headers, (uint32_t)c.n_headers);
	}
	if (c.status >= 0) {
		EXPECT_EQ(m.status, c.status);
	}
	if (c.cl >= 0) {
		EXPECT_TRUE(m.flags & HTTP_F_HAS_CL);
		EXPECT_EQ(m.content_length, (uint64_t)c.cl);
	}
	EXPECT_EQ(m.flags & c.fset, c.fset) << std::hex << m.flags;
	EXPECT_EQ(m.flags & c.fclear, 0u) << std::hex << m.flags;
	if (c.target) {
		EXPECT_EQ(text(c.in, m.target), *c.target);
	}
	if (c.path) {
		EXPECT_EQ(text(c.in, m.path), *c.path);
	}
	if (c.query) {
		EXPECT_EQ(text(c.in, m.query), *c.query);
	}
	if (c.host) {
		EXPECT_EQ(text(c.in, m.host), *c.host);
	}
	if (c.host_name_len >= 0) {
		EXPECT_EQ(m.host_name_len, c.host_name_len);
	}
	if (c.reason) {
		EXPECT_EQ(text(c.in, m.reason), *c.reason);
	}
	if (!c.resp && m.method) {
		EXPECT_EQ(text(c.in, m.method_s).size(), m.method_s.len);
	}
	if (c.check_hdrs) {
		ASSERT_EQ(m.n_headers, c.hdrs.size());
		for (size_t i = 0; i < c.hdrs.size(); i++) {
			EXPECT_EQ(text(c.in, http_name_span(o.h[i].name)), c.hdrs[i].first);
			EXPECT_EQ(text(c.in, o.h[i].value), c.hdrs[i].second);
		}
	}
}

void PrintTo(const HeadCase &c, std::ostream *os)
{
	*os << c.name;
}

class HeadTest : public ::testing::TestWithParam<HeadCase>
{
};

TEST_P(HeadTest, SameAnswerEverySplit)
{
	const HeadCase &c = GetParam();
	HeadRunner r(c);

	Outcome whole = r.one_shot();
	check_expectations(c, whole);

	expect_same(whole, r.bytewise(), "byte by byte");

	size_t n = c.in.size();
	size_t step = n > 4096 ? n / 256 : 1;
	for (size_t pos = 0; pos <= n; pos += step) {
		expect_same(whole, r.split(pos, true),
			    "split at " + std::to_string(pos) + ", prefix first");
		expect_same(whole, r.split(pos, false), "split at " + std::to_string(pos));
		if (HasFatalFailure())
			return;
	}
}

std::string param_name(const ::testing::TestParamInfo<HeadCase> &info)
{
	return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Request, HeadTest, ::testing::ValuesIn(request_cases()), param_name);
INSTANTIATE_TEST_SUITE_P(Response, HeadTest, ::testing::ValuesIn(response_cases()), param_name);

// ---------------------------------------------------------------------------------------------
// Body framing cases.

struct BodyCase {
	std::string name;
	std::string in;
	int kind = HTTP_BODY_CHUNKED;
	uint64_t cl = 0;
	uint64_t max_body = 0;
	int err = 0;	     // HTTP_E_* or 0
	std::string payload; // decoded payload expected
	int consumed = -1;   // -1: all of the input
	bool done = true;    // message complete within the input
};

BodyCase B(const std::string &name, const std::string &in, const std::string &payload)
{
	BodyCase c;
	c.name = name;
	c.in = in;
	c.payload = payload;
	return c;
}

BodyCase BE(const std::string &name, const std::string &in, int err)
{
	BodyCase c;
	c.name = name;
	c.in = in;
	c.err = err;
	return c;
}

BodyCase with(BodyCase c, int kind, uint64_t cl)
{
	c.kind = kind;
	c.cl = cl;
	return c;
}

BodyCase partial(BodyCase c)
{
	c.done = false;
	return c;
}

BodyCase rest(BodyCase c, int consumed)
{
	c.consumed = consumed;
	return c;
}

BodyCase limit(BodyCase c, uint64_t max_body)
{
	c.max_body = max_body;
	return c;
}

std::vector<BodyCase> body_cases()
{
	const std::string END = "0\r\n\r\n";
	return {
		B("chunk_one", "5\r\nhello\r\n" + END, "hello"),
		B("chunk_many", "3\r\nabc\r\n4\r\ndefg\r\n1\r\nh\r\n" + END, "abcdefgh"),
		B("chunk_hex_upper", "A\r\n0123456789\r\n" + END, "0123456789"),
		B("chunk_hex_lower", "a\r\n0123456789\r\n" + END, "0123456789"),
		B("chunk_leading_zeros", "0005\r\nhello\r\n" + END, "hello"),
		B("chunk_crlf_in_data", "4\r\n\r\n\r\n\r\n" + END, "\r\n\r\n"),
		B("chunk_ext", "5;foo=bar\r\nhello\r\n" + END, "hello"),
		B("chunk_ext_quoted", "5;foo=\"b a;r\\\"x\"\r\nhello\r\n" + END, "hello"),
		B("chunk_ext_bws", "5 ; foo = bar\r\nhello\r\n" + END, "hello"),
		B("chunk_ext_no_value", "5;foo\r\nhello\r\n" + END, "hello"),
		B("chunk_ext_many", "5;a=1;b;c=\"\"\r\nhello\r\n" + END, "hello"),
		B("chunk_last_ext", "0;x=y\r\n\r\n", ""),
		B("chunk_trailers", "2\r\nhi\r\n0\r\nX-T: v\r\nY:\r\n\r\n", "hi"),
		B("chunk_empty_body", END, ""),
		rest(B("chunk_then_next", "2\r\nhi\r\n" + END + "GET / HTTP/1.1\r\n", "hi"), 12),
		partial(B("chunk_partial_data", "5\r\nhel", "hel")),
		partial(B("chunk_partial_size", "5", "")),
		partial(B("chunk_partial_trailer", "0\r\nX: y\r\n", "")),
		partial(B("chunk_max_size", "7fffffffffffffff\r\nab", "ab")),
		BE("chunk_size_nonhex", "x\r\n", HTTP_E_CHUNK_SIZE),
		BE("chunk_size_empty", "\r\nhello\r\n", HTTP_E_CHUNK_SIZE),
		BE("chunk_size_negative", "-5\r\nhello\r\n", HTTP_E_CHUNK_SIZE),
		BE("chunk_size_leading_space", " 5\r\nhello\r\n", HTTP_E_CHUNK_SIZE),
		BE("chunk_size_trailing_space", "5 \r\nhello\r\n", HTTP_E_CHUNK_EXT),
		BE("chunk_size_junk", "5x\r\nhello\r\n", HTTP_E_CHUNK_SIZE),
		BE("chunk_size_0x", "0x5\r\nhello\r\n", HTTP_E_CHUNK_SIZE),
		BE("chunk_size_plus", "+5\r\nhello\r\n", HTTP_E_CHUNK_SIZE),
		BE("chunk_size_2p63", "8000000000000000\r\n", HTTP_E_CHUNK_SIZE),
		BE("chunk_size_2p64", "10000000000000000\r\n", HTTP_E_CHUNK_SIZE),
		BE("chunk_size_huge", "fffffffffffffffffffffffff\r\n", HTTP_E_CHUNK_SIZE),
		BE("chunk_size_bare_lf", "5\nhello\r\n", HTTP_E_BARE_LF),
		BE("chunk_size_bare_cr", "5\rhello\r\n", HTTP_E_BARE_CR),
		BE("chunk_data_too_long", "5\r\nhelloX\r\n", HTTP_E_CHUNK_CRLF),
		BE("chunk_data_lf_only", "5\r\nhello\n0\r\n\r\n", HTTP_E_CHUNK_CRLF),
		BE("chunk_data_cr_only", "5\r\nhello\r0\r\n\r\n", HTTP_E_CHUNK_CRLF),
		BE("chunk_ext_empty_name", "5;\r\nhello\r\n", HTTP_E_CHUNK_EXT),
		BE("chunk_ext_no_name", "5;=x\r\nhello\r\n", HTTP_E_CHUNK_EXT),
		BE("chunk_ext_empty_value", "5;a=\r\nhello\r\n", HTTP_E_CHUNK_EXT),
		BE("chunk_ext_unterminated", "5;a=\"x\r\nhello\r\n", HTTP_E_CHUNK_EXT),
		BE("chunk_ext_two_words", "5;a=b c\r\nhello\r\n", HTTP_E_CHUNK_EXT),
		BE("chunk_ext_nul", std::string("5;a\0\r\nhello\r\n", 13), HTTP_E_CHUNK_EXT),
		BE("chunk_ext_trailing_ws", "5;a \r\nhello\r\n", HTTP_E_CHUNK_EXT),
		BE("chunk_ext_too_long", "5;a=" + std::string(5000, 'b') + "\r\nhello\r\n",
		   HTTP_E_CHUNK_EXT),
		BE("trailer_ws_before_colon", "0\r\nX : v\r\n\r\n", HTTP_E_WS_BEFORE_COLON),
		BE("trailer_obs_fold", "0\r\nX: v\r\n w\r\n\r\n", HTTP_E_OBS_FOLD),
		BE("trailer_nul", std::string("0\r\nX: a\0\r\n\r\n", 12), HTTP_E_BAD_TRAILER),
		BE("trailer_bare_lf", "0\r\nX: a\n\r\n", HTTP_E_BARE_LF),
		BE("trailer_no_colon", "0\r\nX\r\n\r\n", HTTP_E_BAD_TRAILER),
		BE("trailer_end_bare_cr", "0\r\n\rX", HTTP_E_BARE_CR),
		BE("trailer_too_large", "0\r\nX: " + std::string(17000, 'v') + "\r\n\r\n",
		   HTTP_E_HEADERS_TOO_LARGE),
		limit(BE("chunk_over_max_body", "6\r\nhello!\r\n" + END, HTTP_E_BODY_TOO_LARGE), 5),
		limit(BE("chunks_over_max_body", "3\r\nabc\r\n3\r\ndef\r\n" + END,
			 HTTP_E_BODY_TOO_LARGE),
		      5),
		limit(B("chunks_at_max_body", "3\r\nabc\r\n2\r\nde\r\n" + END, "abcde"), 5),
		rest(with(B("length", "helloEXTRA", "hello"), HTTP_BODY_LENGTH, 5), 5),
		partial(with(B("length_partial", "hel", "hel"), HTTP_BODY_LENGTH, 5)),
		rest(with(B("length_zero", "GET", ""), HTTP_BODY_LENGTH, 0), 0),
		rest(with(B("none", "GET", ""), HTTP_BODY_NONE, 0), 0),
		partial(with(B("close_delimited", "abc\r\n0\r\n\r\n", "abc\r\n0\r\n\r\n"),
			     HTTP_BODY_CLOSE, 0)),
		partial(with(B("tunnel", std::string("\0\1", 2), std::string("\0\1", 2)),
			     HTTP_BODY_TUNNEL, 0)),
	};
}

struct BodyOutcome {
	int err = 0;
	std::string payload;
	size_t consumed = 0;
	bool done = false;
};

bool operator==(const BodyOutcome &a, const BodyOutcome &b)
{
	// Bytes consumed before an error depend on how the input was cut; the error does not.
	if (a.err || b.err)
		return a.err == b.err && a.payload == b.payload;
	return a.payload == b.payload && a.consumed == b.consumed && a.done == b.done;
}

std::ostream &operator<<(std::ostream &os, const BodyOutcome &o)
{
	return os << "{err " << http_error_name(o.err) << ", payload " << o.payload.size()
		  << " bytes, consumed " << o.consumed << ", done " << o.done << "}";
}

void body_start(const BodyCase &c, http_body *b, BodyOutcome &o)
{
	http_msg m;
	memset(&m, 0, sizeof(m));
	m.body = (uint8_t)c.kind;
	m.content_length = c.cl;
	o.err = http_body_init(b, &m, c.max_body);
}

// Feed the buffers in order; stop at the first error or at the end of the message.
BodyOutcome body_feed(const BodyCase &c, const std::vector<http_iov> &bufs)
{
	http_body b;
	BodyOutcome o;
	body_start(c, &b, o);
	for (const http_iov &s : bufs) {
		uint32_t off = 0;
		while (!o.err && !http_body_done(&b) && off < s.len) {
			http_body_data d;
			int rc = http_body_parse(&b, s.base + off, s.len - off, &d);
			if (rc < 0) {
				o.err = rc;
				break;
			}
			EXPECT_LE(d.off + d.len, (uint32_t)rc);
			o.payload.append((const char *)s.base + off + d.off, d.len);
			off += (uint32_t)rc;
			o.consumed += (size_t)rc;
			if (rc == 0)
				break;
		}
		if (o.err || http_body_done(&b))
			break;
	}
	o.done = http_body_done(&b);
	return o;
}

void PrintTo(const BodyCase &c, std::ostream *os)
{
	*os << c.name;
}

class BodyTest : public ::testing::TestWithParam<BodyCase>
{
};

TEST_P(BodyTest, SameAnswerEverySplit)
{
	const BodyCase &c = GetParam();
	size_t n = c.in.size();

	BodyOutcome whole = body_feed(c, { { big_arena().put(0, c.in.data(), n), (uint32_t)n } });
	if (c.err) {
		EXPECT_EQ(whole.err, -c.err) << "got " << http_error_name(whole.err);
		EXPECT_FALSE(whole.done);
	} else {
		EXPECT_EQ(whole.err, 0) << http_error_name(whole.err);
		EXPECT_EQ(whole.payload, c.payload);
		EXPECT_EQ(whole.consumed, c.consumed >= 0 ? (size_t)c.consumed : n);
		EXPECT_EQ(whole.done, c.done);
	}

	std::vector<http_iov> bytes;
	size_t step = (n + byte_arena().slots() - 1) / byte_arena().slots();
	if (step == 0)
		step = 1;
	for (size_t off = 0, slot = 0; off < n; off += step, slot++) {
		size_t k = std::min(step, n - off);
		bytes.push_back({ byte_arena().put(slot, c.in.data() + off, k), (uint32_t)k });
	}
	EXPECT_EQ(whole, body_feed(c, bytes)) << "byte by byte";

	size_t sstep = n > 4096 ? n / 256 : 1;
	for (size_t pos = 0; pos <= n; pos += sstep) {
		std::vector<http_iov> two = {
			{ big_arena().put(0, c.in.data(), pos), (uint32_t)pos },
			{ big_arena().put(1, c.in.data() + pos, n - pos), (uint32_t)(n - pos) },
		};
		ASSERT_EQ(whole, body_feed(c, two)) << "split at " << pos;
	}

	// http_body_skip over the same segments agrees on where the message ends.
	http_body b;
	BodyOutcome o;
	body_start(c, &b, o);
	int rc = http_body_skip(&b, bytes.data(), (unsigned)bytes.size());
	if (whole.err) {
		EXPECT_EQ(rc, whole.err);
	} else {
		EXPECT_EQ((size_t)rc, whole.consumed);
	}
}

std::string body_name(const ::testing::TestParamInfo<BodyCase> &info)
{
	return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Body, BodyTest, ::testing::ValuesIn(body_cases()), body_name);

// ---------------------------------------------------------------------------------------------
// Everything else: the error table, spans, mbuf chains, reuse across re-segmentation.

TEST(HttpCases, AtLeast150DistinctCases)
{
	std::set<std::string> names;
	size_t n = 0;
	for (const auto &c : request_cases())
		names.insert(c.name), n++;
	for (const auto &c : response_cases())
		names.insert(c.name), n++;
	for (const auto &c : body_cases())
		names.insert(c.name), n++;
	EXPECT_EQ(names.size(), n) << "duplicate case names";
	EXPECT_GE(n, 150u);
}

} // namespace
