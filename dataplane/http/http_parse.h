/* SPDX-License-Identifier: BSD-3-Clause
 * sluice HTTP/1.1 parser: strict, incremental, zero-copy (RFC 9110, RFC 9112).
 *
 * Input is a list of (pointer, length) segments, struct http_iov, that an mbuf chain maps to
 * without copying (http_iov_from_mbuf). The parser never needs contiguous input: a token, a
 * header name or a value may straddle any number of segments. Results are recorded as spans,
 * (offset, length) pairs counted from the first byte of the input, never as pointers, so they
 * survive the caller re-segmenting or coalescing its receive queue. http_span_ptr() turns a
 * span into a pointer, copying only when the span straddles segments and only into a buffer
 * the caller provides.
 *
 * Heads (request line or status line, then header fields) are parsed a line at a time: each
 * call looks for line ends only in bytes it has not seen before and parses a line once, when
 * its CRLF has arrived, so feeding a head byte by byte costs O(n) parsing plus one walk over
 * the segment list per call. Between calls the caller passes the same byte stream again,
 * possibly longer and possibly segmented differently.
 *
 * Return convention of the head parsers: bytes consumed (the whole head, final CRLF included)
 * when the head is complete, -EAGAIN when more input is needed, or -HTTP_E_* for a message
 * that must be refused; http_error_status() gives the status to answer with. Errors are
 * sticky: later calls return the same error.
 *
 * Strictness (reject, never normalise): obs-fold, bare CR, bare LF (RFC 9112 lets a
 * recipient accept a lone LF as a line end; sluice refuses it, so that it never frames a
 * message differently from a backend that does not), whitespace before the colon or inside a
 * field name, control bytes in names or values (HTAB allowed in values), a request-target
 * that is not RFC 3986 (no raw UTF-8, no fragment, no spaces), a registered method in another
 * case ("get", 501: a backend that folds case would frame a response to "head" differently) or
 * a method token longer than HTTP_METHOD_MAX (501), versions other than HTTP/1.x, Content-Length
 * that is not a list of identical decimal values, Transfer-Encoding with parameters, empty
 * elements, chunked not last, with Content-Length, or in HTTP/1.0, a request transfer coding
 * other than exactly one "chunked" (501), and chunk framing that is not exactly RFC 9112.
 * Any other method token is an extension method (HTTP_M_OTHER), as a reverse proxy forwards
 * it. HTTP/1.2 to HTTP/1.9 are handled as HTTP/1.1 (RFC 9110 2.5). Empty lines before a
 * request line are skipped (RFC 9112 section 2.2) and count as head. The start of a request
 * line is checked as its bytes arrive: bytes that can never begin a request (NUL, a TLS
 * ClientHello) are refused at once, not when the line or the header timeout ends.
 *
 * Everything here is reentrant and allocation-free: any thread, typically the worker that
 * owns the connection.
 */
#ifndef SLUICE_HTTP_PARSE_H
#define SLUICE_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;

/* One input segment. base may be NULL when len is 0. */
struct http_iov {
	const uint8_t *base;
	uint32_t len;
};

/* A range of the input: off counts from the first byte of the first segment. */
struct http_span {
	uint32_t off;
	uint32_t len;
};

/* What a field is, as the parser told it by its name (in any case) while it read the line: the
 * fields it reads for framing, connection handling or routing, and the others a proxy drops
 * or rewrites, so that it need not compare names again. Any other name is HTTP_H_OTHER, at no
 * cost beyond the switch on the name's length every field takes. Host and Expect are told in
 * requests only (OTHER in a response). */
enum http_hdr_kind {
	HTTP_H_OTHER = 0,
	/* HTTP_H_HOST..HTTP_H_CONNECTION: the values the parser reads (http_parse.c) */
	HTTP_H_HOST,
	HTTP_H_EXPECT,
	HTTP_H_CONTENT_LENGTH,
	HTTP_H_TRANSFER_ENCODING,
	HTTP_H_UPGRADE,
	/* HTTP_H_CONNECTION..HTTP_H_TRAILER: hop-by-hop always (RFC 9110 7.6.1) */
	HTTP_H_CONNECTION,
	HTTP_H_KEEP_ALIVE,
	HTTP_H_PROXY_CONNECTION,
	HTTP_H_TE,
	HTTP_H_TRAILER,
	HTTP_H_X_FORWARDED_FOR,
	HTTP_H_X_FORWARDED_PROTO,
};

/* Longest field name: its length and its kind share a word, so that a header stays 16 bytes
 * (a proxy holds max_headers of them per request). A longer name is refused (431). */
#define HTTP_NAME_MAX ((1u << 24) - 1)

/* A field name: a span (off, len as in struct http_span) and its kind. */
struct http_name {
	uint32_t off;
	uint32_t len : 24;
	uint32_t kind : 8; /* enum http_hdr_kind */
};

struct http_header {
	struct http_name name;	/* as received (case preserved) */
	struct http_span value; /* without leading and trailing whitespace; may be empty */
};

/* The span of a field's name. */
static inline struct http_span http_name_span(struct http_name n)
{
	struct http_span s = { n.off, n.len };

	return s;
}

/* Every error a parser may return, negated. X(name, status to answer, description). Errors
 * found in an upstream response map to 502. */
#define HTTP_ERRORS(X)                                                          \
	X(BAD_METHOD, 400, "invalid method token")                              \
	X(METHOD_UNKNOWN, 501, "method not implemented")                        \
	X(CONNECT, 501, "CONNECT (tunnelling) not supported")                   \
	X(BAD_REQUEST_LINE, 400, "malformed request line")                      \
	X(BAD_TARGET, 400, "invalid request-target")                            \
	X(TARGET_TOO_LONG, 414, "request-target too long")                      \
	X(BAD_VERSION, 400, "malformed HTTP version")                           \
	X(VERSION_UNSUPPORTED, 505, "HTTP version not supported")               \
	X(BARE_LF, 400, "line ends with LF without CR")                         \
	X(BARE_CR, 400, "CR not followed by LF")                                \
	X(OBS_FOLD, 400, "obsolete line folding")                               \
	X(WS_BEFORE_COLON, 400, "whitespace in or after a field name")          \
	X(BAD_HEADER_NAME, 400, "invalid field name")                           \
	X(BAD_HEADER_VALUE, 400, "invalid byte in field value")                 \
	X(HEADERS_TOO_LARGE, 431, "header section too large")                   \
	X(TOO_MANY_HEADERS, 431, "too many header fields")                      \
	X(HOST_MISSING, 400, "HTTP/1.1 request without Host")                   \
	X(HOST_DUP, 400, "more than one Host")                                  \
	X(BAD_HOST, 400, "invalid Host")                                        \
	X(HOST_MISMATCH, 400, "Host differs from the absolute-form authority")  \
	X(BAD_CONTENT_LENGTH, 400, "invalid Content-Length")                    \
	X(CONTENT_LENGTH_MISMATCH, 400, "differing Content-Length values")      \
	X(CL_AND_TE, 400, "both Content-Length and Transfer-Encoding")          \
	X(BAD_TE, 400, "invalid Transfer-Encoding")                             \
	X(TE_NOT_CHUNKED_LAST, 400, "chunked is not the final transfer coding") \
	X(TE_UNKNOWN, 501, "transfer coding not implemented")                   \
	X(TE_HTTP10, 400, "Transfer-Encoding in an HTTP/1.0 message")           \
	X(BAD_CONNECTION, 400, "invalid Connection")                            \
	X(EXPECTATION, 417, "expectation other than 100-continue")              \
	X(BAD_STATUS_LINE, 502, "malformed status line")                        \
	X(CHUNK_SIZE, 400, "invalid chunk size")                                \
	X(CHUNK_EXT, 400, "invalid chunk extension")                            \
	X(CHUNK_CRLF, 400, "chunk data not followed by CRLF")                   \
	X(BAD_TRAILER, 400, "invalid trailer field")                            \
	X(BODY_TOO_LARGE, 413, "body larger than allowed")                      \
	X(TRUNCATED, 400, "connection closed inside the body")

/* Error numbers start far above errno values so -EAGAIN and -HTTP_E_* never meet. */
enum http_err {
	HTTP_E_BASE = 4096,
#define HTTP_ERR_ENUM(name, status, desc) HTTP_E_##name,
	HTTP_ERRORS(HTTP_ERR_ENUM)
#undef HTTP_ERR_ENUM
		HTTP_E_END
};

/* Status to answer a request refused with err (negative or positive); 500 for anything that
 * is not an HTTP_E_* value. */
int http_error_status(int err);
/* Short description of err, for logs and tests; never NULL. */
const char *http_error_str(int err);
/* Identifier of err ("BARE_LF"), for logs and tests; never NULL. */
const char *http_error_name(int err);

enum http_method {
	HTTP_M_NONE = 0,
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_CONNECT,
	HTTP_M_OPTIONS,
	HTTP_M_TRACE,
	HTTP_M_PATCH,
	HTTP_M_OTHER, /* any other method token (WebDAV, PURGE, QUERY...): forwarded as received */
};

/* Form of the request-target (RFC 9112 section 3.2). */
enum http_target_form {
	HTTP_TF_ORIGIN = 0, /* /path?query */
	HTTP_TF_ABSOLUTE,   /* http://authority/path?query: host comes from the target */
	HTTP_TF_AUTHORITY,  /* host:port, CONNECT only */
	HTTP_TF_ASTERISK,   /* "*", OPTIONS only */
};

/* How the message body is delimited, decided when the head is complete. */
enum http_body_kind {
	HTTP_BODY_NONE = 0, /* no body: the next message starts right after the head */
	HTTP_BODY_LENGTH,   /* content_length bytes (may be 0) */
	HTTP_BODY_CHUNKED,  /* chunked coding, trailers included */
	HTTP_BODY_CLOSE,    /* response only: until the upstream closes */
	HTTP_BODY_TUNNEL,   /* response only: 101, or 2xx to CONNECT: bytes both ways from here */
};

/* http_msg.flags */
#define HTTP_F_KEEP_ALIVE (1u << 0)	  /* the connection may carry another message after it */
#define HTTP_F_HAS_CL (1u << 1)		  /* Content-Length present */
#define HTTP_F_HAS_TE (1u << 2)		  /* Transfer-Encoding present */
#define HTTP_F_CHUNKED (1u << 3)	  /* body framed by the chunked coding */
#define HTTP_F_HAS_HOST (1u << 4)	  /* Host present (request) */
#define HTTP_F_CONN_CLOSE (1u << 5)	  /* Connection: close */
#define HTTP_F_CONN_KEEP_ALIVE (1u << 6)  /* Connection: keep-alive */
#define HTTP_F_CONN_UPGRADE (1u << 7)	  /* Connection: upgrade */
#define HTTP_F_CONN_OTHER (1u << 8)	  /* Connection names other fields (hop-by-hop) */
#define HTTP_F_UPGRADE (1u << 9)	  /* Upgrade present */
#define HTTP_F_EXPECT_CONTINUE (1u << 10) /* Expect: 100-continue in an HTTP/1.1 request */
#define HTTP_F_INTERIM (1u << 11)	  /* 1xx other than 101: another response follows */

/* Limits of one head. max_headers is also the capacity of the caller's header array. */
struct http_limits {
	uint32_t max_header_bytes; /* whole head, start line and final CRLF included (-> 431) */
	uint32_t max_headers;	   /* field lines (-> 431) */
	uint32_t max_target;	   /* request-target bytes (-> 414) */
};

#define HTTP_DEFAULT_MAX_HEADER_BYTES 16384
#define HTTP_DEFAULT_MAX_HEADERS 100
#define HTTP_DEFAULT_MAX_TARGET 8192
/* Upper bound of limits.max_headers: the one constant the configuration validator
 * (control/cfg_keys.c) and the proxy's per-request header spans (px_req.c) share. */
#define HTTP_MAX_HEADERS 1024

/* One request or response head: the results, then the parser's private state. */
struct http_msg {
	/* Results, valid once a parse call returned > 0. */
	uint32_t flags;		     /* HTTP_F_* */
	uint32_t head_len;	     /* bytes of the head, empty lines before a request included */
	uint64_t content_length;     /* when HTTP_F_HAS_CL */
	uint8_t version;	     /* minor version: 0 (HTTP/1.0) or 1 (HTTP/1.1 to 1.9) */
	uint8_t body;		     /* enum http_body_kind */
	uint8_t method;		     /* enum http_method; for a response, the request's method */
	uint8_t target_form;	     /* enum http_target_form (request) */
	uint16_t status;	     /* response */
	uint16_t host_name_len;	     /* bytes of host before any ":port" */
	struct http_span method_s;   /* request */
	struct http_span target;     /* request-target as received */
	struct http_span path;	     /* its path (empty for authority-form and "/"-less absolute) */
	struct http_span query;	     /* after '?' (empty when there is none) */
	struct http_span host;	     /* Host value, or the absolute-form authority; may be empty */
	struct http_span reason;     /* response reason phrase */
	struct http_header *headers; /* caller's array of lim.max_headers entries, or NULL */
	uint32_t n_headers;

	/* Private to the parser. */
	struct http_limits lim;
	uint32_t pos;  /* first byte of the line being parsed */
	uint32_t scan; /* bytes before this were searched for LF already */
	int32_t err;   /* sticky error */
	uint8_t prev;  /* byte at scan - 1 */
	uint8_t te;    /* HTTP_TE_* bits (http_priv.h) */
	uint8_t state : 2;
	uint8_t is_resp : 1;
	uint8_t early : 2; /* request line checked as it arrives: HTTP_EL_* (http_priv.h) */
	uint8_t pct : 2;   /* hex digits still due after a '%' in that check */
};

/* Prepare m to parse a request head. lim NULL means the defaults. headers (may be NULL) must
 * hold lim->max_headers entries and stays owned by the caller; spans in it refer to the input
 * given to http_req_parse. */
void http_req_init(struct http_msg *m, const struct http_limits *lim, struct http_header *headers);

/* Parse a request head from the n segments of iov (the whole message so far, from its first
 * byte). Returns head bytes consumed, -EAGAIN, or -HTTP_E_*. The input is only read. */
int http_req_parse(struct http_msg *m, const struct http_iov *iov, unsigned int n);

/* Prepare m to parse the head of the response to a request whose method was req_method
 * (HEAD and CONNECT change how the body is delimited). Call it again for the response that
 * follows an interim (HTTP_F_INTERIM) one. */
void http_resp_init(struct http_msg *m, const struct http_limits *lim, struct http_header *headers,
		    enum http_method req_method);

/* Parse a response head; same convention as http_req_parse. */
int http_resp_parse(struct http_msg *m, const struct http_iov *iov, unsigned int n);

/* Body framing, shared by requests and responses. A body decoder is fed contiguous buffers
 * (one segment at a time) and keeps its own state between calls, byte by byte. */
struct http_body {
	uint64_t remaining; /* LENGTH: bytes left; CHUNKED: bytes left in the current chunk */
	uint64_t size;	    /* chunk size being read */
	uint64_t total;	    /* payload bytes so far */
	uint64_t max_body;  /* 0: unlimited */
	uint32_t line;	    /* bytes of the current chunk line or trailer section */
	int32_t err;	    /* sticky error */
	uint8_t kind;	    /* enum http_body_kind */
	uint8_t state;
	uint8_t done;
};

/* A payload range found by http_body_parse, relative to the buffer it was given. */
struct http_body_data {
	uint32_t off;
	uint32_t len;
};

/* Start decoding the body of the message m parsed (head complete). max_body 0 means no
 * limit. Returns 0, or -HTTP_E_BODY_TOO_LARGE when Content-Length already exceeds it. */
int http_body_init(struct http_body *b, const struct http_msg *m, uint64_t max_body);

/* Consume bytes of p[0..len) that belong to the body: chunk framing, at most one run of
 * payload (reported in *d, d->len 0 when none) and, at the end, trailers. Returns the bytes
 * consumed (< len only when a payload run ends early or the body ended: call again with the
 * rest), or -HTTP_E_*. Once http_body_done(b), the bytes after the consumed ones belong to the
 * next message. A TUNNEL or CLOSE body consumes everything and never ends by itself. */
int http_body_parse(struct http_body *b, const uint8_t *p, uint32_t len, struct http_body_data *d);

/* Like http_body_parse over segments, ignoring where the payload is: returns how many bytes of
 * the input, from its first byte, belong to the body (all of them unless it ended), or
 * -HTTP_E_*. For a proxy that forwards chunked bodies as framed. */
int http_body_skip(struct http_body *b, const struct http_iov *iov, unsigned int n);

static inline bool http_body_done(const struct http_body *b)
{
	return b->done != 0;
}

/* The peer closed its side. Returns 0 when the body may end here (CLOSE, TUNNEL or already
 * complete: then it is done), -HTTP_E_TRUNCATED otherwise. */
int http_body_eof(struct http_body *b);

/* Map the data of mbuf chain m, from byte off of the chain, to at most max segments. Returns
 * the number written; the chain is only read and must outlive the segments. */
unsigned int http_iov_from_mbuf(const struct rte_mbuf *m, uint32_t off, struct http_iov *iov,
				unsigned int max);

/* Bytes of span s as one contiguous pointer: into the input when s lies in one segment, else
 * copied into scratch (scratch_len bytes, caller's). NULL when it straddles and does not fit
 * or lies beyond the input. */
const uint8_t *http_span_ptr(const struct http_iov *iov, unsigned int n, struct http_span s,
			     uint8_t *scratch, size_t scratch_len);

/* Copy span s into buf as a NUL-terminated string. Returns its length, or -ENOSPC (nothing
 * usable written beyond truncation) when it needs more than len - 1 bytes, -ERANGE when s
 * lies beyond the input. */
int http_span_copy(const struct http_iov *iov, unsigned int n, struct http_span s, char *buf,
		   size_t len);

/* Whether span s equals the NUL-terminated str, ASCII case-insensitively. */
bool http_span_eq_nocase(const struct http_iov *iov, unsigned int n, struct http_span s,
			 const char *str);

/* Index of the first header at or after index from whose name is name (case-insensitive), or
 * -ENOENT. Needs the header array given at init. */
int http_header_find(const struct http_msg *m, const struct http_iov *iov, unsigned int n,
		     const char *name, unsigned int from);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_HTTP_PARSE_H */
