# SPDX-License-Identifier: BSD-3-Clause
"""The differential suite's cases, generated.

A case is what one client connection sends: `parts` (bytes, sent in order; between two parts
the client waits for an interim answer when `wait_100`, else pauses briefly), `expect` (how
many requests the client means to send: it stops reading once that many final answers came),
and `tunnel` (bytes sent once a 101, or a 2xx to CONNECT, came back, to see them echoed).
Case ids are `FAMILY/NAME`, stable from run to run. `smoke` marks the subset that
scripts/test.sh runs.
"""

import random

HOST = "diff.test"
CRLF = b"\r\n"


def follow(path="/follow"):
    """A plain pipelined follow-up request: a framing disagreement about the message before it
    shows as a different count of requests at the backend."""
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n"


SMUG = b"GET /smuggled HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n"
CHUNKED_HELLO = b"5\r\nhello\r\n0\r\n\r\n"
TUNNEL_PROBE = b"PING differential tunnel\r\n"
# The first bytes of a TLS 1.2 ClientHello (record header, handshake header, version, random).
TLS_HELLO = bytes.fromhex(
    "16030100c4010000c00303") + bytes(range(32)) + bytes.fromhex("000020c02bc02fc02cc030")


def head(method="GET", target="/", version="HTTP/1.1", headers=None, host=HOST):
    """A request head; headers is a list of raw lines (bytes or str); Host first unless None."""
    lines = [f"{method} {target} {version}".encode("latin1")]
    if host is not None:
        lines.append(b"Host: " + host.encode("latin1"))
    for h in headers or []:
        lines.append(h.encode("latin1") if isinstance(h, str) else h)
    return CRLF.join(lines) + CRLF + CRLF


class Case:
    def __init__(self, family, name, parts, expect=1, smoke=False, wait_100=False, tunnel=None,
                 note=""):
        self.id = f"{family}/{name}"
        self.family = family
        self.name = name
        self.parts = parts if isinstance(parts, list) else [parts]
        self.expect = expect
        self.smoke = smoke
        self.wait_100 = wait_100
        self.tunnel = tunnel
        self.note = note

    def payload(self):
        return b"".join(self.parts)

    def to_json(self):
        return {"id": self.id, "family": self.family, "parts": [p.hex() for p in self.parts],
                "expect": self.expect, "wait_100": self.wait_100,
                "tunnel": self.tunnel.hex() if self.tunnel else None}


def _reqline(out):
    f = "reqline"

    def raw(name, line, expect=1, smoke=False, extra=b""):
        out.append(Case(f, name, line + b"\r\nHost: diff.test\r\n\r\n" + extra, expect, smoke))

    for m in ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"]:
        body = [] if m not in ("POST", "PUT", "PATCH") else ["Content-Length: 0"]
        out.append(Case(f, f"method-{m}", head(m, f"/reqline/{m}", headers=body) + follow(), 2,
                        smoke=m == "GET"))
    out.append(Case(f, "options-asterisk", head("OPTIONS", "*") + follow(), 2))
    out.append(Case(f, "get-asterisk", head("GET", "*"), 1))
    raw("double-space", b"GET  /reqline/ds HTTP/1.1")
    raw("double-space-version", b"GET /reqline/dsv  HTTP/1.1")
    raw("tab-separators", b"GET\t/reqline/tab\tHTTP/1.1", smoke=True)
    raw("trailing-space", b"GET /reqline/ts HTTP/1.1 ")
    raw("leading-space", b" GET /reqline/ls HTTP/1.1")
    raw("no-target", b"GET HTTP/1.1")
    raw("no-version", b"GET /reqline/nov")
    raw("space-in-target", b"GET /reqline/a b HTTP/1.1")
    raw("fragment", b"GET /reqline/frag#x HTTP/1.1")
    raw("raw-utf8", "GET /reqline/caf\u00e9 HTTP/1.1".encode())
    raw("bad-percent", b"GET /reqline/%zz HTTP/1.1")
    raw("percent-slash", b"GET /reqline/..%2f..%2fetc HTTP/1.1", extra=follow(), expect=2)
    raw("double-slash", b"GET //reqline//x HTTP/1.1", extra=follow(), expect=2)
    raw("query-space", b"GET /reqline/q?a=b c HTTP/1.1")
    raw("empty-line", b"")
    raw("bare-cr-end", b"GET /reqline/cr HTTP/1.1\r")
    out.append(Case(f, "bare-lf-end", b"GET /reqline/lf HTTP/1.1\nHost: diff.test\r\n\r\n",
                    smoke=True))
    out.append(Case(f, "bare-lf-everywhere", b"GET /reqline/lf2 HTTP/1.1\nHost: diff.test\n\n"))
    out.append(Case(f, "leading-crlf", b"\r\n" + head("GET", "/reqline/lead1") + follow(), 2))
    out.append(Case(f, "leading-crlf-x3", b"\r\n\r\n\r\n" + head("GET", "/reqline/lead3"), 1))
    out.append(Case(f, "leading-lf", b"\n" + head("GET", "/reqline/leadlf"), 1))
    out.append(Case(f, "crlf-between", head("GET", "/reqline/b1") + b"\r\n" +
                    head("GET", "/reqline/b2"), 2))
    raw("lowercase-method", b"get /reqline/lower HTTP/1.1")
    raw("method-underscore", b"GET_X /reqline/us HTTP/1.1")
    raw("method-at", b"G@T /reqline/at HTTP/1.1")
    raw("target-backslash", b"GET /reqline/a\\b HTTP/1.1")
    raw("target-quote", b"GET /reqline/\"q\" HTTP/1.1")
    raw("target-brace", b"GET /reqline/{x} HTTP/1.1")
    raw("target-del", b"GET /reqline/\x7f HTTP/1.1")
    raw("target-high", b"GET /reqline/\xff HTTP/1.1")
    raw("authority-get", b"GET diff.test:80 HTTP/1.1")
    raw("relative-target", b"GET reqline/rel HTTP/1.1")


def _versions(out):
    f = "version"
    for minor in range(0, 10):
        v = f"HTTP/1.{minor}"
        out.append(Case(f, f"1.{minor}", head("GET", f"/version/1.{minor}", v,
                                              headers=["Connection: close"]), 1,
                        smoke=minor in (0, 2)))
    for v in ["HTTP/2.0", "HTTP/3.0", "HTTP/0.9", "HTTP/1.10", "HTTP/01.1", "http/1.1",
              "HTTP/1", "HTTP/1.1.1", "HTTP/9.9", "HTTP/1.a", "HTTP /1.1"]:
        out.append(Case(f, "v-" + v.replace("/", "_").replace(" ", "_"),
                        head("GET", "/version/x", v), 1, smoke=v == "HTTP/2.0"))
    out.append(Case(f, "http09-simple", b"GET /version/09\r\n", 1))
    out.append(Case(f, "1.2-pipelined", head("GET", "/version/p1", "HTTP/1.2") +
                    head("GET", "/version/p2", "HTTP/1.2"), 2))
    out.append(Case(f, "1.5-post-chunked",
                    head("POST", "/version/chunk", "HTTP/1.5", ["Transfer-Encoding: chunked"]) +
                    CHUNKED_HELLO + follow(), 2))


def _headers(out):
    f = "header"
    p = "/header/"

    def c(name, lines, host=HOST, expect=2, smoke=False, extra=None):
        out.append(Case(f, name, head("GET", p + name, headers=lines, host=host) +
                        (follow() if extra is None else extra), expect, smoke))

    c("no-host-1.1", [], host=None, smoke=True)
    c("two-host-same", [f"Host: {HOST}"])
    c("two-host-diff", ["Host: other.test"])
    c("host-empty", [], host="")
    c("host-port", [], host=HOST + ":80")
    c("host-bad-port", [], host=HOST + ":abc")
    c("host-userinfo", [], host="user@" + HOST)
    c("host-space", [], host="diff test")
    c("host-trailing-dot", [], host=HOST + ".")
    c("host-upper", [], host="DIFF.TEST")
    c("host-ipv4", [], host="198.18.0.10")
    c("host-ipv6", [], host="[::1]:80")
    c("host-comma", [], host=HOST + ",other.test")
    out.append(Case(f, "host-name-case", b"GET /header/hc HTTP/1.1\r\nhOsT: diff.test\r\n\r\n"
                    + follow(), 2))
    out.append(Case(f, "host-no-space", b"GET /header/hns HTTP/1.1\r\nHost:diff.test\r\n\r\n"
                    + follow(), 2))
    out.append(Case(f, "host-ws-before-colon",
                    b"GET /header/hws HTTP/1.1\r\nHost : diff.test\r\n\r\n", 1))
    c("ws-before-colon", ["X-A : 1"], smoke=True)
    c("tab-before-colon", ["X-A\t: 1"])
    c("obs-fold", ["X-A: 1", " folded"], smoke=True)
    c("obs-fold-tab", ["X-A: 1", "\tfolded"])
    c("no-colon", ["X-A 1"])
    c("empty-name", [": 1"])
    c("nul-in-value", ["X-A: a\x00b"], smoke=True)
    c("del-in-value", ["X-A: a\x7fb"])
    c("obs-text-value", [b"X-A: caf\xe9"])
    c("cr-in-value", ["X-A: a\rb"])
    c("vtab-in-value", ["X-A: a\x0bb"])
    c("tab-in-value", ["X-A: a\tb"])
    c("name-paren", ["X(A): 1"])
    c("name-underscore", ["X_A: 1"])
    c("name-long", ["X-" + "a" * 1000 + ": 1"])
    c("value-spaces", ["X-A:    "])
    c("first-line-ws", [" X-A: 1"])
    c("duplicate-unknown", ["X-A: 1", "X-A: 2"])
    c("xff-from-client", ["X-Forwarded-For: 203.0.113.9"])
    c("via-from-client", ["Via: 1.1 elsewhere"])
    c("header-lf-end", [b"X-A: 1\nX-B: 2"])


# Content-Length forms: name -> list of field lines for a body of n bytes.
CL_FORMS = {
    "plain": lambda n: [f"Content-Length: {n}"],
    "leading-zeros": lambda n: [f"Content-Length: 000{n}"],
    "plus": lambda n: [f"Content-Length: +{n}"],
    "minus": lambda n: [f"Content-Length: -{n}"],
    "dup-same": lambda n: [f"Content-Length: {n}", f"Content-Length: {n}"],
    "dup-diff": lambda n: [f"Content-Length: {n}", f"Content-Length: {n + 3}"],
    "list-same": lambda n: [f"Content-Length: {n}, {n}"],
    "list-diff": lambda n: [f"Content-Length: {n}, 0"],
    "list-empty-member": lambda n: [f"Content-Length: {n},"],
    "ows": lambda n: [f"Content-Length:   {n}   "],
    "tab": lambda n: [f"Content-Length:\t{n}"],
    "ws-before-colon": lambda n: [f"Content-Length : {n}"],
    "hex": lambda n: [f"Content-Length: 0x{n:x}"],
    "name-case": lambda n: [f"cOnTeNt-LeNgTh: {n}"],
    "empty": lambda n: ["Content-Length: "],
    "junk-after": lambda n: [f"Content-Length: {n}x"],
    "space-inside": lambda n: [f"Content-Length: 1 {n}"],
    "huge": lambda n: ["Content-Length: 99999999999999999999999"],
    "2^64": lambda n: ["Content-Length: 18446744073709551621"],
    "underscore-name": lambda n: [f"Content_Length: {n}"],
    "decimal-point": lambda n: [f"Content-Length: {n}.0"],
    "quoted": lambda n: [f'Content-Length: "{n}"'],
}

# Transfer-Encoding forms: name -> field lines (they all mean, or pretend to mean, chunked).
TE_FORMS = {
    "chunked": ["Transfer-Encoding: chunked"],
    "value-case": ["Transfer-Encoding: ChUnKeD"],
    "name-case": ["transfer-ENCODING: chunked"],
    "ows": ["Transfer-Encoding:   chunked  "],
    "tab": ["Transfer-Encoding:\tchunked"],
    "gzip-chunked": ["Transfer-Encoding: gzip, chunked"],
    "chunked-gzip": ["Transfer-Encoding: chunked, gzip"],
    "identity": ["Transfer-Encoding: identity"],
    "identity-chunked": ["Transfer-Encoding: identity, chunked"],
    "chunked-chunked": ["Transfer-Encoding: chunked, chunked"],
    "two-lines-gzip-chunked": ["Transfer-Encoding: gzip", "Transfer-Encoding: chunked"],
    "two-lines-chunked-chunked": ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
    "two-lines-chunked-gzip": ["Transfer-Encoding: chunked", "Transfer-Encoding: gzip"],
    "empty-member-first": ["Transfer-Encoding: , chunked"],
    "empty-member-last": ["Transfer-Encoding: chunked,"],
    "xchunked": ["Transfer-Encoding: xchunked"],
    "chunked-param": ["Transfer-Encoding: chunked;q=1"],
    "ws-before-colon": ["Transfer-Encoding : chunked"],
    "underscore-name": ["Transfer_Encoding: chunked"],
    "vtab": ["Transfer-Encoding:\x0bchunked"],
    "quoted": ['Transfer-Encoding: "chunked"'],
    "obs-fold": ["Transfer-Encoding:", " chunked"],
    "empty": ["Transfer-Encoding: "],
    "nul": ["Transfer-Encoding: chunked\x00"],
    "gzip": ["Transfer-Encoding: gzip"],
}


def _clte(out):
    f = "cl"
    body = b"hello"
    for name, fn in CL_FORMS.items():
        out.append(Case(f, name, head("POST", f"/cl/{name}", headers=fn(len(body))) + body +
                        follow(), 2, smoke=name in ("plain", "dup-same", "plus")))
    # a body that is, read as a length, the whole rest including an embedded request
    for name in ("plain", "leading-zeros", "list-same"):
        smug = body + SMUG
        out.append(Case(f, name + "-covers-request",
                        head("POST", f"/cl/{name}-cov", headers=CL_FORMS[name](len(smug))) +
                        smug + follow(), 2))
    out.append(Case(f, "get-with-body", head("GET", "/cl/get-body", headers=["Content-Length: 5"])
                    + body + follow(), 2))
    out.append(Case(f, "zero", head("POST", "/cl/zero", headers=["Content-Length: 0"]) +
                    follow(), 2))
    out.append(Case(f, "short-body-then-close",
                    head("POST", "/cl/short", headers=["Content-Length: 50"]) + body, 1))
    out.append(Case(f, "http10", head("POST", "/cl/http10", "HTTP/1.0",
                                      ["Content-Length: 5"]) + body, 1))

    f = "te"
    for name, lines in TE_FORMS.items():
        out.append(Case(f, name, head("POST", f"/te/{name}", headers=lines) + CHUNKED_HELLO +
                        follow(), 2, smoke=name in ("chunked", "gzip-chunked",
                                                    "ws-before-colon")))
    for name in ("chunked", "gzip-chunked", "two-lines-chunked-chunked", "value-case",
                 "identity-chunked", "tab"):
        out.append(Case(f, f"http10-{name}", head("POST", f"/te/10-{name}", "HTTP/1.0",
                                                  TE_FORMS[name]) + CHUNKED_HELLO, 1,
                        smoke=name == "chunked"))
    out.append(Case(f, "http10-keepalive-chunked",
                    head("POST", "/te/10ka", "HTTP/1.0", ["Connection: keep-alive"] +
                         TE_FORMS["chunked"]) + CHUNKED_HELLO + follow(), 2))

    # both: the classic CL.TE and TE.CL shapes; a body whose length read as chunked is 5
    # bytes and read as Content-Length covers an embedded request
    f = "clte"
    chunked_smug = b"0\r\n\r\n" + SMUG
    for cl in ("plain", "dup-same", "list-same", "plus", "leading-zeros"):
        for te in ("chunked", "value-case", "gzip-chunked", "two-lines-gzip-chunked",
                   "ws-before-colon", "xchunked", "underscore-name", "identity", "tab",
                   "obs-fold"):
            lines = CL_FORMS[cl](len(chunked_smug)) + TE_FORMS[te]
            out.append(Case(f, f"{cl}+{te}", head("POST", f"/clte/{cl}/{te}", headers=lines) +
                            chunked_smug + follow(), 2,
                            smoke=(cl, te) in (("plain", "chunked"), ("plain", "xchunked"),
                                               ("dup-same", "gzip-chunked"))))
    for te in ("chunked", "gzip-chunked", "ws-before-colon", "underscore-name", "obs-fold"):
        lines = TE_FORMS[te] + CL_FORMS["plain"](4)
        out.append(Case(f, f"te-first+{te}", head("POST", f"/clte/tefirst/{te}", headers=lines)
                        + b"5c\r\n" + SMUG.ljust(0x5c, b"x")[:0x5c] + b"\r\n0\r\n\r\n" +
                        follow(), 2))
    out.append(Case(f, "http10-cl-te", head("POST", "/clte/10", "HTTP/1.0",
                                            ["Content-Length: 5", "Transfer-Encoding: chunked"])
                    + b"0\r\n\r\n", 1))


def _chunked(out):
    f = "chunk"

    def c(name, body, expect=2, smoke=False, extra=None, te="Transfer-Encoding: chunked"):
        out.append(Case(f, name, head("POST", f"/chunk/{name}", headers=[te]) + body +
                        (follow() if extra is None else extra), expect, smoke))

    c("simple", CHUNKED_HELLO, smoke=True)
    c("two-chunks", b"3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n")
    c("empty-body", b"0\r\n\r\n")
    c("upper-hex", b"A\r\n0123456789\r\n0\r\n\r\n")
    c("lower-hex", b"a\r\n0123456789\r\n0\r\n\r\n")
    c("leading-zeros", b"0005\r\nhello\r\n0\r\n\r\n")
    c("many-leading-zeros", b"0" * 30 + b"5\r\nhello\r\n0\r\n\r\n")
    c("size-0x", b"0x5\r\nhello\r\n0\r\n\r\n", smoke=True)
    c("size-plus", b"+5\r\nhello\r\n0\r\n\r\n")
    c("size-minus", b"-5\r\nhello\r\n0\r\n\r\n")
    c("size-space-after", b"5 \r\nhello\r\n0\r\n\r\n")
    c("size-space-before", b" 5\r\nhello\r\n0\r\n\r\n")
    c("size-tab-after", b"5\t\r\nhello\r\n0\r\n\r\n")
    c("size-empty", b"\r\nhello\r\n0\r\n\r\n")
    c("size-not-hex", b"g\r\nhello\r\n0\r\n\r\n")
    c("size-overflow-64", b"10000000000000005\r\nhello\r\n0\r\n\r\n", smoke=True)
    c("size-overflow-huge", b"ffffffffffffffffffffffff\r\nhello\r\n0\r\n\r\n")
    c("size-16-digits", b"0000000000000005\r\nhello\r\n0\r\n\r\n")
    c("data-longer", b"3\r\nhello\r\n0\r\n\r\n")
    c("data-shorter", b"8\r\nhello\r\n0\r\n\r\n")
    c("data-no-crlf", b"5\r\nhello0\r\n\r\n")
    c("data-lf-only", b"5\r\nhello\n0\r\n\r\n", smoke=True)
    c("size-lf-only", b"5\nhello\r\n0\r\n\r\n")
    c("last-lf-only", b"5\r\nhello\r\n0\n\r\n")
    c("end-lf-only", b"5\r\nhello\r\n0\r\n\n")
    c("data-cr-only", b"5\r\nhello\r0\r\n\r\n")
    c("ext-name", b"5;foo\r\nhello\r\n0\r\n\r\n")
    c("ext-name-value", b"5;foo=bar\r\nhello\r\n0\r\n\r\n")
    c("ext-quoted", b'5;foo="b a;r"\r\nhello\r\n0\r\n\r\n')
    c("ext-bws", b"5 ; foo = bar\r\nhello\r\n0\r\n\r\n")
    c("ext-empty-name", b"5;=bar\r\nhello\r\n0\r\n\r\n")
    c("ext-bare-semicolon", b"5;\r\nhello\r\n0\r\n\r\n")
    c("ext-bad-char", b"5;f@o\r\nhello\r\n0\r\n\r\n")
    c("ext-space-in-value", b"5;foo=b r\r\nhello\r\n0\r\n\r\n")
    c("ext-on-last", b"5\r\nhello\r\n0;end=1\r\n\r\n")
    c("ext-long", b"5;" + b"a" * 5000 + b"\r\nhello\r\n0\r\n\r\n")
    c("ext-lf-in-quoted", b'5;foo="a\nb"\r\nhello\r\n0\r\n\r\n')
    c("ext-nul", b"5;foo=\x00\r\nhello\r\n0\r\n\r\n")
    c("trailer", b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", smoke=True)
    c("trailers-two", b"5\r\nhello\r\n0\r\nX-T1: 1\r\nX-T2: 2\r\n\r\n")
    c("trailer-cl", b"5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n")
    c("trailer-te", b"5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n")
    c("trailer-host", b"5\r\nhello\r\n0\r\nHost: other.test\r\n\r\n")
    c("trailer-no-colon", b"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n")
    c("trailer-obs-fold", b"5\r\nhello\r\n0\r\nX-T: 1\r\n folded\r\n\r\n")
    c("trailer-ws-before-colon", b"5\r\nhello\r\n0\r\nX-T : 1\r\n\r\n")
    c("trailer-lf", b"5\r\nhello\r\n0\r\nX-T: 1\n\r\n")
    c("trailer-request-line", b"5\r\nhello\r\n0\r\nGET /x HTTP/1.1\r\n\r\n")
    c("no-last-chunk", b"5\r\nhello\r\n", expect=1, extra=b"")
    c("last-without-final-crlf", b"5\r\nhello\r\n0\r\n", expect=1, extra=b"")
    c("many-small", b"".join(b"1\r\n%c\r\n" % (97 + i % 26) for i in range(200)) +
      b"0\r\n\r\n")
    c("big-chunk", b"4000\r\n" + b"x" * 0x4000 + b"\r\n0\r\n\r\n")
    out.append(Case(f, "split-in-size", [head("POST", "/chunk/split-in-size", headers=[
        "Transfer-Encoding: chunked"]) + b"5", b"\r\nhello\r\n0\r\n\r\n" + follow()], 2))
    c("smuggle-after-zero", b"0\r\n\r\n" + SMUG, expect=3)
    c("chunked-then-close", CHUNKED_HELLO, te="Transfer-Encoding: chunked\r\nConnection: close",
      expect=1, extra=b"")


def _expect(out):
    f = "expect"
    body = b"hello"

    def c(name, lines, version="HTTP/1.1", wait=True, expect=1, smoke=False, method="POST",
          bodyb=body):
        h = head(method, f"/expect/{name}", version, lines)
        parts = [h, bodyb] if wait and bodyb else [h + bodyb]
        out.append(Case(f, name, parts, expect, smoke, wait_100=wait and bool(bodyb)))

    c("100-continue", ["Expect: 100-continue", "Content-Length: 5"], smoke=True)
    c("100-continue-case", ["Expect: 100-Continue", "Content-Length: 5"])
    c("100-continue-chunked", ["Expect: 100-continue", "Transfer-Encoding: chunked"],
      bodyb=CHUNKED_HELLO)
    c("100-continue-http10", ["Expect: 100-continue", "Content-Length: 5"], "HTTP/1.0",
      smoke=True)
    c("100-continue-at-once", ["Expect: 100-continue", "Content-Length: 5"], wait=False)
    c("100-continue-no-body", ["Expect: 100-continue"], method="GET", bodyb=b"")
    c("100-continue-zero", ["Expect: 100-continue", "Content-Length: 0"], bodyb=b"")
    c("unknown", ["Expect: something-else", "Content-Length: 5"], wait=False)
    c("empty", ["Expect: ", "Content-Length: 5"], wait=False)
    c("two-lines", ["Expect: 100-continue", "Expect: 100-continue", "Content-Length: 5"])
    c("list", ["Expect: 100-continue, foo", "Content-Length: 5"], wait=False)
    c("with-param", ["Expect: 100-continue;x=1", "Content-Length: 5"], wait=False)
    c("connection-expect", ["Connection: Expect", "Expect: 100-continue", "Content-Length: 5"],
      smoke=True)
    out.append(Case(f, "100-continue-pipelined",
                    [head("POST", "/expect/pipe", headers=["Expect: 100-continue",
                                                          "Content-Length: 5"]),
                     body + follow()], 2, wait_100=True))


def _connection(out):
    f = "conn"
    body = b"hello"

    def c(name, lines, bodyb=body, version="HTTP/1.1", expect=2, smoke=False, extra=None,
          wait=False, host=HOST, target=None):
        h = head("POST", target or f"/conn/{name}", version, lines, host=host)
        tail = follow() if extra is None else extra
        parts = [h, bodyb + tail] if wait else [h + bodyb + tail]
        out.append(Case(f, name, parts, expect, smoke, wait_100=wait))

    cl = "Content-Length: 5"
    # Connection naming a framing field: it must be kept (or the request refused).
    c("names-cl", ["Connection: Content-Length", cl], smoke=True)
    c("names-cl-list", ["Connection: keep-alive, Content-Length", cl], smoke=True)
    c("names-cl-second-line", ["Connection: keep-alive", "Connection: content-length", cl],
      smoke=True)
    c("names-cl-http10", ["Connection: keep-alive, Content-Length", cl], version="HTTP/1.0",
      smoke=True)
    c("names-cl-expect", ["Connection: Content-Length", "Expect: 100-continue", cl], wait=True,
      smoke=True)
    c("names-cl-smuggle", ["Connection: Content-Length",
                           f"Content-Length: {len(SMUG)}"], bodyb=SMUG, smoke=True)
    c("names-cl-case", ["Connection: CONTENT-LENGTH", cl])
    c("names-cl-ows", ["Connection:  ,  Content-Length  , ", cl])
    c("names-te", ["Connection: Transfer-Encoding", "Transfer-Encoding: chunked"],
      bodyb=CHUNKED_HELLO, smoke=True)
    c("names-te-list", ["Connection: keep-alive, transfer-encoding",
                        "Transfer-Encoding: chunked"], bodyb=CHUNKED_HELLO)
    c("names-te-smuggle", ["Connection: Transfer-Encoding", "Transfer-Encoding: chunked"],
      bodyb=b"0\r\n\r\n" + SMUG, expect=3)
    c("names-host", ["Connection: Host"], bodyb=b"", smoke=True)
    c("names-host-http10", ["Connection: keep-alive, Host"], bodyb=b"", version="HTTP/1.0")
    c("names-host-absolute", ["Connection: Host"], bodyb=b"",
      target=f"http://{HOST}/conn/names-host-absolute")
    c("names-xff", ["Connection: X-Forwarded-For", "X-Forwarded-For: 203.0.113.7"], bodyb=b"",
      smoke=True)
    c("names-expect", ["Connection: Expect", "Expect: 100-continue", cl], wait=True)
    c("names-upgrade-no-upgrade", ["Connection: Upgrade"], bodyb=b"")
    c("names-via", ["Connection: Via", "Via: 1.1 elsewhere"], bodyb=b"")
    c("names-xfp", ["Connection: X-Forwarded-Proto", "X-Forwarded-Proto: https"], bodyb=b"")
    c("names-connection", ["Connection: Connection"], bodyb=b"")
    c("names-te-header", ["Connection: TE", "TE: trailers"], bodyb=b"")
    c("names-trailer", ["Connection: Trailer", "Trailer: X-T"], bodyb=b"")
    c("names-cookie", ["Connection: Cookie", "Cookie: a=b"], bodyb=b"")
    c("names-authorization", ["Connection: Authorization", "Authorization: Basic eDp5"],
      bodyb=b"")
    for n in (16, 17, 20, 40):
        names = [f"X-H{i}" for i in range(n)]
        c(f"tokens-{n}", ["Connection: " + ", ".join(names)] + [f"{x}: v" for x in names],
          bodyb=b"", smoke=n == 17)
    c("tokens-17-then-cl", ["Connection: " + ", ".join(f"X-H{i}" for i in range(17)) +
                            ", Content-Length", cl])
    c("keep-alive-header", ["Connection: Keep-Alive", "Keep-Alive: timeout=5"], bodyb=b"")
    c("proxy-connection", ["Proxy-Connection: keep-alive"], bodyb=b"")
    c("empty", ["Connection: "], bodyb=b"")
    c("commas", ["Connection: ,,,"], bodyb=b"")
    c("bad-token", ["Connection: close/x"], bodyb=b"", expect=1)
    c("close-close", ["Connection: close, close"], bodyb=b"", expect=1, extra=b"")
    c("close-then-pipelined", ["Connection: close"], bodyb=b"", expect=1)
    c("close-keepalive", ["Connection: close, keep-alive"], bodyb=b"", expect=1)
    c("http10-default-close", [], bodyb=b"", version="HTTP/1.0", expect=1)
    c("http10-keep-alive", ["Connection: keep-alive"], bodyb=b"", version="HTTP/1.0")


def _pipelining(out):
    f = "pipe"
    out.append(Case(f, "get-2", head("GET", "/pipe/a") + head("GET", "/pipe/b"), 2, smoke=True))
    out.append(Case(f, "get-3", b"".join(head("GET", f"/pipe/{i}") for i in range(3)), 3))
    out.append(Case(f, "get-10", b"".join(head("GET", f"/pipe/{i}") for i in range(10)), 10,
                    smoke=True))
    out.append(Case(f, "get-40", b"".join(head("GET", f"/pipe/{i}") for i in range(40)), 40))
    out.append(Case(f, "head-get", head("HEAD", "/pipe/h") + head("GET", "/pipe/g"), 2))
    out.append(Case(f, "post-cl-get", head("POST", "/pipe/p", headers=["Content-Length: 5"]) +
                    b"hello" + head("GET", "/pipe/g"), 2, smoke=True))
    out.append(Case(f, "post-chunked-get", head("POST", "/pipe/pc", headers=[
        "Transfer-Encoding: chunked"]) + CHUNKED_HELLO + head("GET", "/pipe/g"), 2))
    out.append(Case(f, "get-bad-get", head("GET", "/pipe/1") + b"GET /pipe/2 HTTP/1.1\r\n"
                    b"X-A : 1\r\nHost: diff.test\r\n\r\n" + head("GET", "/pipe/3"), 3,
                    smoke=True))
    out.append(Case(f, "close-then-more", head("GET", "/pipe/c", headers=["Connection: close"])
                    + head("GET", "/pipe/after-close"), 1))
    out.append(Case(f, "http10-then-get", head("GET", "/pipe/10", "HTTP/1.0") +
                    head("GET", "/pipe/after10"), 1))
    out.append(Case(f, "http10-ka-then-get", head("GET", "/pipe/10ka", "HTTP/1.0",
                                                  ["Connection: keep-alive"]) +
                    head("GET", "/pipe/after10ka"), 2))
    out.append(Case(f, "split-sends", [head("GET", "/pipe/s1") + b"GET /pipe/s2 HT",
                                       b"TP/1.1\r\nHost: diff.test\r\n\r\n"], 2))
    out.append(Case(f, "mixed-5", head("GET", "/pipe/m1") +
                    head("POST", "/pipe/m2", headers=["Content-Length: 3"]) + b"abc" +
                    head("HEAD", "/pipe/m3") +
                    head("PUT", "/pipe/m4", headers=["Transfer-Encoding: chunked"]) +
                    b"3\r\nabc\r\n0\r\n\r\n" + head("DELETE", "/pipe/m5"), 5))
    out.append(Case(f, "upgrade-then-get", head("GET", "/pipe/up", headers=[
        "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]) + head("GET", "/pipe/after-upgrade"),
        1))


def _upgrade(out):
    f = "upgrade"
    ws = ["Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
    out.append(Case(f, "websocket", head("GET", "/upgrade/ws", headers=ws), 1, smoke=True,
                    tunnel=TUNNEL_PROBE))
    out.append(Case(f, "websocket-keepalive-upgrade", head("GET", "/upgrade/ws2", headers=[
        "Connection: keep-alive, Upgrade"] + ws[1:]), 1, tunnel=TUNNEL_PROBE))
    out.append(Case(f, "websocket-no-connection", head("GET", "/upgrade/ws3", headers=ws[1:]) +
                    follow(), 2))
    out.append(Case(f, "websocket-http10", head("GET", "/upgrade/ws10", "HTTP/1.0", ws), 1))
    out.append(Case(f, "websocket-post-body", head("POST", "/upgrade/wsp", headers=ws + [
        "Content-Length: 5"]) + b"hello", 1))
    h2c = ["Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c",
           "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"]
    out.append(Case(f, "h2c", head("GET", "/upgrade/h2c", headers=h2c) + follow(), 2,
                    smoke=True))
    out.append(Case(f, "h2c-post", head("POST", "/upgrade/h2cp", headers=h2c + [
        "Content-Length: 5"]) + b"hello" + follow(), 2))
    out.append(Case(f, "unknown-protocol", head("GET", "/upgrade/foo", headers=[
        "Connection: Upgrade", "Upgrade: foo/1"]) + follow(), 2))
    out.append(Case(f, "h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 1, smoke=True))


def _connect(out):
    f = "connect"
    out.append(Case(f, "authority", b"CONNECT diff.test:443 HTTP/1.1\r\nHost: diff.test:443\r\n"
                    b"\r\n", 1, smoke=True, tunnel=TUNNEL_PROBE))
    out.append(Case(f, "with-tunnel-bytes", b"CONNECT diff.test:443 HTTP/1.1\r\nHost: "
                    b"diff.test:443\r\n\r\n" + TLS_HELLO, 1))
    out.append(Case(f, "origin-form", head("CONNECT", "/connect/x"), 1))
    out.append(Case(f, "no-port", b"CONNECT diff.test HTTP/1.1\r\nHost: diff.test\r\n\r\n", 1))
    out.append(Case(f, "http10", b"CONNECT diff.test:443 HTTP/1.0\r\n\r\n", 1))
    out.append(Case(f, "with-body", b"CONNECT diff.test:443 HTTP/1.1\r\nHost: diff.test:443\r\n"
                    b"Content-Length: 5\r\n\r\nhello", 1))


def _methods(out):
    f = "method"
    xml = b'<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>'
    out.append(Case(f, "PROPFIND", head("PROPFIND", "/method/propfind", headers=[
        "Depth: 1", f"Content-Length: {len(xml)}"]) + xml + follow(), 2, smoke=True))
    out.append(Case(f, "MKCOL", head("MKCOL", "/method/mkcol") + follow(), 2, smoke=True))
    out.append(Case(f, "PURGE", head("PURGE", "/method/purge") + follow(), 2, smoke=True))
    out.append(Case(f, "QUERY", head("QUERY", "/method/query", headers=[
        "Content-Type: text/plain", "Content-Length: 5"]) + b"a=b&c" + follow(), 2, smoke=True))
    out.append(Case(f, "QUERY-chunked", head("QUERY", "/method/qc", headers=[
        "Transfer-Encoding: chunked"]) + CHUNKED_HELLO + follow(), 2))
    for m in ["PROPPATCH", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH", "LINK",
              "UNLINK", "M-SEARCH", "FOO", "X.Y_Z~1", "A" * 40]:
        out.append(Case(f, m if len(m) < 20 else "long-token", head(m, "/method/" + m[:20]) +
                        follow(), 2))
    out.append(Case(f, "lowercase", head("get", "/method/lower") + follow(), 2))
    out.append(Case(f, "mixed-case", head("Get", "/method/mixed") + follow(), 2))
    out.append(Case(f, "PROPFIND-no-body-cl0", head("PROPFIND", "/method/pf0", headers=[
        "Content-Length: 0"]) + follow(), 2))


def _http10(out):
    f = "http10"
    out.append(Case(f, "no-host", head("GET", "/http10/nohost", "HTTP/1.0", host=None), 1,
                    smoke=True))
    out.append(Case(f, "no-host-keepalive", head("GET", "/http10/nohostka", "HTTP/1.0",
                                                 ["Connection: keep-alive"], host=None) +
                    head("GET", "/http10/nohostka2", "HTTP/1.0", ["Connection: keep-alive"],
                         host=None), 2))
    out.append(Case(f, "no-host-post", head("POST", "/http10/nohostpost", "HTTP/1.0",
                                            ["Content-Length: 5"], host=None) + b"hello", 1))
    out.append(Case(f, "no-host-absolute", head("GET", f"http://{HOST}/http10/abs", "HTTP/1.0",
                                                host=None), 1))
    out.append(Case(f, "no-host-head", head("HEAD", "/http10/nohosthead", "HTTP/1.0",
                                            host=None), 1))
    out.append(Case(f, "with-host", head("GET", "/http10/host", "HTTP/1.0"), 1))
    out.append(Case(f, "no-host-xff", head("GET", "/http10/nohostxff", "HTTP/1.0",
                                           ["X-Forwarded-For: 203.0.113.5"], host=None), 1))


def _absolute(out):
    f = "absolute"

    def c(name, target, host=HOST, expect=2, smoke=False, version="HTTP/1.1"):
        out.append(Case(f, name, head("GET", target, version, host=host) + follow(), expect,
                        smoke))

    c("http", f"http://{HOST}/absolute/http", smoke=True)
    c("http-port", f"http://{HOST}:80/absolute/port")
    c("upper-scheme-host", "HTTP://DIFF.TEST/absolute/upper")
    c("https", f"https://{HOST}/absolute/https")
    c("host-mismatch", "http://other.test/absolute/mismatch", smoke=True)
    c("no-path", f"http://{HOST}")
    c("query-only", f"http://{HOST}?a=1")
    c("userinfo", f"http://user:pw@{HOST}/absolute/userinfo")
    c("ftp", f"ftp://{HOST}/absolute/ftp")
    c("no-host-header", f"http://{HOST}/absolute/nohost", host=None)
    c("empty-authority", "http:///absolute/empty")
    c("scheme-only", "http:")


def _limits(out):
    f = "limit"
    for n in (4000, 8000, 8200, 16000, 70000):
        out.append(Case(f, f"target-{n}", head("GET", "/limit/" + "a" * n) + follow(), 2,
                        smoke=n == 8200))
    for n in (4000, 8000, 12000, 16000, 17000):
        out.append(Case(f, f"header-value-{n}", head("GET", f"/limit/hv{n}",
                                                     headers=["X-Big: " + "b" * n]) + follow(),
                        2, smoke=n == 17000))
    for n in (50, 98, 99, 100, 101, 200):
        out.append(Case(f, f"headers-{n}", head("GET", f"/limit/h{n}", headers=[
            f"X-H{i}: {i}" for i in range(n)]) + follow(), 2, smoke=n == 101))
    out.append(Case(f, "many-cookies", head("GET", "/limit/cookies", headers=[
        f"Cookie: c{i}={'v' * 100}" for i in range(60)]) + follow(), 2))
    out.append(Case(f, "body-1mb", head("POST", "/limit/body", headers=[
        f"Content-Length: {1 << 20}"]) + b"x" * (1 << 20) + follow(), 2))


def _garbage(out):
    f = "garbage"
    out.append(Case(f, "nul", b"\x00", 1, smoke=True))
    out.append(Case(f, "nul-16", b"\x00" * 16, 1))
    out.append(Case(f, "nul-then-request", b"\x00" + head("GET", "/garbage/nul"), 1))
    out.append(Case(f, "tls-clienthello", TLS_HELLO, 1, smoke=True))
    out.append(Case(f, "tls-record-header", b"\x16\x03\x01", 1))
    out.append(Case(f, "ssh-banner", b"SSH-2.0-OpenSSH_9.2\r\n", 1))
    rnd = random.Random(8)
    out.append(Case(f, "random-64", bytes(rnd.randrange(256) for _ in range(64)), 1))
    out.append(Case(f, "only-crlf", b"\r\n\r\n", 1))
    out.append(Case(f, "high-bytes-method", b"\xc3\xa9T /garbage/x HTTP/1.1\r\n\r\n", 1))
    out.append(Case(f, "ctrl-method", b"\x01GET /garbage/x HTTP/1.1\r\nHost: diff.test\r\n\r\n",
                    1))
    out.append(Case(f, "space-first", b" ", 1))


FAMILIES = [_reqline, _versions, _headers, _clte, _chunked, _expect, _connection, _pipelining,
            _upgrade, _connect, _methods, _http10, _absolute, _limits, _garbage]


def all_cases():
    out = []
    for fam in FAMILIES:
        fam(out)
    ids = [c.id for c in out]
    dup = {i for i in ids if ids.count(i) > 1}
    assert not dup, f"duplicate case ids: {sorted(dup)}"
    return out


if __name__ == "__main__":
    cs = all_cases()
    fams = {}
    for c in cs:
        fams.setdefault(c.family, [0, 0])
        fams[c.family][0] += 1
        fams[c.family][1] += c.smoke
    for k, (n, s) in fams.items():
        print(f"{k:10} {n:4} cases, {s:3} smoke")
    print(f"total {len(cs)} cases, {sum(c.smoke for c in cs)} smoke")
