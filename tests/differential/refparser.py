# SPDX-License-Identifier: BSD-3-Clause
"""A strict reference framer for HTTP/1.1 requests (RFC 9110, RFC 9112), and a lenient
response reader for the differential suite's client.

The recording backend (recorder.py) frames what a proxy forwards with parse_request(). It is
written from the RFCs, not from sluice's code, and it is strict where the RFCs let a recipient
choose, so that a message it frames has one meaning:
  - line ends are CRLF only (a bare LF or CR is an error); empty lines before a request line
    are skipped (RFC 9112 2.2);
  - request-line: token SP request-target SP HTTP-version, single spaces, a target of visible
    US-ASCII only, HTTP/1.x (x >= 2 is handled as 1.1, RFC 9110 2.5); any other major: 505;
  - field lines: token ":" OWS value OWS, no whitespace before the colon, no obs-fold, no
    control bytes except HTAB in a value;
  - Host: exactly one in HTTP/1.1 (RFC 9112 3.2), none needed in HTTP/1.0; with an
    absolute-form target the authority is the request's host (RFC 9112 3.2.2);
  - framing (RFC 9112 6.1-6.3): Transfer-Encoding with Content-Length, Transfer-Encoding in
    HTTP/1.0, or a coding list whose last member is not exactly "chunked" is an error; any
    coding other than chunked is 501; Content-Length must be 1*DIGIT, several fields or a list
    only when every member is the same (RFC 9110 8.6);
  - chunked: chunk-size 1*HEXDIG (at most 16 digits), chunk-ext per RFC 9112 7.1.1 (BWS
    allowed around ";" and "="), data, CRLF; trailer fields with the field-line rules.

Everything works on a bytes buffer from a given offset and never needs more than the bytes of
one message: parse_request(buf, pos) returns a Request (complete), NEED_MORE, or raises
HttpError.
"""

import re

TCHAR = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
HEX = re.compile(rb"[0-9A-Fa-f]{1,16}\Z")
MAX_HEAD = 1 << 20  # the backend is more liberal than any proxy in front of it


class HttpError(Exception):
    """A message the reference framer refuses. status: what a server answers."""

    def __init__(self, reason, status=400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class NeedMore:
    """Not enough bytes yet. head: the parsed Request head when it is complete (the body is
    not), else None."""

    def __init__(self, head=None):
        self.head = head


def _is_field_value(v):
    for b in v:
        if b < 0x20 and b != 0x09 or b == 0x7F:
            return False
    return True


def parse_fields(lines, what):
    """Field lines (bytes, CRLF stripped) into [(name, value)], values without OWS."""
    out = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            raise HttpError(f"obs-fold in {what}")
        name, colon, value = line.partition(b":")
        if not colon:
            raise HttpError(f"{what} line without colon")
        if not TCHAR.match(name):
            raise HttpError(f"invalid {what} name {name[:40]!r}")
        value = value.strip(b" \t")
        if not _is_field_value(value):
            raise HttpError(f"invalid byte in {what} value")
        out.append((name.decode("latin1"), value))
    return out


def _split_list(value):
    """A #list value's members, OWS trimmed; empty members kept (the caller decides)."""
    return [m.strip(b" \t") for m in value.split(b",")]


class Request:
    def __init__(self):
        self.method = self.target = self.version = ""
        self.headers = []  # [(name, value bytes)]
        self.start = self.head_end = self.end = 0  # offsets into the buffer
        self.body = "none"  # none | length | chunked
        self.content_length = 0
        self.payload_len = 0
        self.host = None  # the effective host (authority or Host), str, or None
        self.host_header = None
        self.minor = 1
        self.trailers = []

    def get(self, name):
        """Every value of field name (case-insensitive), in order."""
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def first(self, name, default=None):
        v = self.get(name)
        return v[0].decode("latin1") if v else default

    def connection_tokens(self):
        out = []
        for v in self.get("connection"):
            out += [m.lower().decode("latin1") for m in _split_list(v) if m]
        return out

    def keep_alive(self):
        tok = self.connection_tokens()
        if "close" in tok:
            return False
        return self.minor >= 1 or "keep-alive" in tok

    def expects_continue(self):
        return self.minor >= 1 and any(v.strip().lower() == b"100-continue"
                                       for v in self.get("expect"))

    def is_ws_upgrade(self):
        return (self.method == "GET" and self.minor >= 1 and "upgrade" in self.connection_tokens()
                and any(b"websocket" in v.lower() for v in self.get("upgrade")))


def _line(buf, pos, limit):
    """(line without CRLF, next pos), None when no LF yet; HttpError on a bare LF/CR."""
    lf = buf.find(b"\n", pos, limit)
    if lf < 0:
        cr = buf.find(b"\r", pos, limit)
        if cr >= 0 and cr + 1 < limit:
            raise HttpError("bare CR")
        return None
    if lf == pos or buf[lf - 1] != 0x0D:
        raise HttpError("bare LF")
    line = buf[pos:lf - 1]
    if b"\r" in line:
        raise HttpError("bare CR")
    return line, lf + 1


def _host_ok(h):
    # uri-host [ ":" port ]: reg-name chars, IPv4 or an IP-literal; a port of digits
    return re.fullmatch(rb"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(:[0-9]*)?", h)


def parse_request(buf, pos=0):
    """One request from buf[pos:]: a Request with .end set, NeedMore, or HttpError."""
    start = pos
    limit = len(buf)
    # empty lines before the request line
    while True:
        if limit - pos >= 2 and buf[pos:pos + 2] == b"\r\n":
            pos += 2
            continue
        if limit - pos >= 1 and buf[pos] == 0x0A:
            raise HttpError("bare LF")
        break
    r = _line(buf, pos, min(limit, start + MAX_HEAD))
    if r is None:
        if limit - start >= MAX_HEAD:
            raise HttpError("head too large", 431)
        # validate what there is of a request line already: a method token first
        m = re.match(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]*", buf[pos:limit])
        if m.end() < limit - pos and buf[pos + m.end()] != 0x20:
            raise HttpError("invalid request line start")
        return NeedMore()
    line, pos = r
    parts = line.split(b" ")
    if len(parts) != 3:
        raise HttpError("malformed request line")
    method, target, version = parts
    if not TCHAR.match(method):
        raise HttpError("invalid method")
    if not target or any(b <= 0x20 or b >= 0x7F for b in target):
        raise HttpError("invalid request-target")
    mv = re.fullmatch(rb"HTTP/([0-9])\.([0-9])", version)
    if not mv:
        raise HttpError("malformed HTTP version")
    if mv.group(1) != b"1":
        raise HttpError("HTTP version not supported", 505)
    req = Request()
    req.start = start
    req.method = method.decode()
    req.target = target.decode("latin1")
    req.version = version.decode()
    req.minor = int(mv.group(2))
    lines = []
    while True:
        r = _line(buf, pos, min(limit, start + MAX_HEAD))
        if r is None:
            if limit - start >= MAX_HEAD:
                raise HttpError("head too large", 431)
            return NeedMore()
        line, pos = r
        if not line:
            break
        lines.append(line)
    req.headers = parse_fields(lines, "field")
    req.head_end = pos
    _semantics(req)
    if req.body == "length":
        end = pos + req.content_length
        if end > limit:
            return NeedMore(req)
        req.payload_len = req.content_length
        req.end = end
        return req
    if req.body == "chunked":
        end = _chunked(buf, pos, req)
        if end is None:
            return NeedMore(req)
        req.end = end
        return req
    req.end = pos
    return req


def _semantics(req):
    hosts = req.get("host")
    if len(hosts) > 1:
        raise HttpError("more than one Host")
    if hosts:
        if not _host_ok(hosts[0]):
            raise HttpError("invalid Host")
        req.host_header = hosts[0].decode("latin1")
    elif req.minor >= 1:
        raise HttpError("HTTP/1.1 request without Host")
    t = req.target
    if req.method == "CONNECT":
        if not re.fullmatch(r"[^/?#@]+:[0-9]+", t):
            raise HttpError("CONNECT without authority-form target")
        req.host = t
    elif t.startswith("/"):
        req.host = req.host_header
    elif t == "*":
        if req.method != "OPTIONS":
            raise HttpError("asterisk-form for a method other than OPTIONS")
        req.host = req.host_header
    else:
        m = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)([/?][^#]*)?", t)
        if not m or m.group(1).lower() not in ("http", "https") or "@" in m.group(2):
            raise HttpError("invalid request-target")
        req.host = m.group(2)
    te = req.get("transfer-encoding")
    cl = req.get("content-length")
    if te:
        if cl:
            raise HttpError("Content-Length with Transfer-Encoding")
        if req.minor == 0:
            raise HttpError("Transfer-Encoding in HTTP/1.0")
        codings = []
        for v in te:
            codings += _split_list(v)
        if any(not c for c in codings):
            raise HttpError("empty transfer coding")
        low = [c.lower() for c in codings]
        if low[-1] != b"chunked":
            raise HttpError("chunked is not the final transfer coding")
        if len(low) > 1:
            raise HttpError("transfer coding not implemented", 501)
        req.body = "chunked"
        return
    if cl:
        vals = []
        for v in cl:
            vals += _split_list(v)
        for v in vals:
            if not re.fullmatch(rb"[0-9]+", v) or len(v.lstrip(b"0")) > 18:
                raise HttpError("invalid Content-Length")
        if len({int(v) for v in vals}) != 1:
            raise HttpError("differing Content-Length values")
        req.body = "length"
        req.content_length = int(vals[0])


_EXT = re.compile(rb"""(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+"""
                  rb"""(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[^"\\\x00-\x08"""
                  rb"""\x0a-\x1f\x7f]|\\[\t\x20-\x7e\x80-\xff])*"))?)*\Z""")


def _chunked(buf, pos, req):
    """End offset of the chunked body starting at pos (trailers included), None if more is
    needed; HttpError on a grammar error."""
    limit = len(buf)
    total = 0
    while True:
        r = _line(buf, pos, limit)
        if r is None:
            if limit - pos > 65536:
                raise HttpError("chunk line too long")
            return None
        line, pos = r
        m = re.match(rb"[0-9A-Fa-f]*", line)
        size_s, ext = line[:m.end()], line[m.end():]
        if not size_s or not HEX.match(size_s.lstrip(b"0") or b"0"):
            raise HttpError("invalid chunk size")
        if ext and not _EXT.match(ext):
            raise HttpError("invalid chunk extension")
        size = int(size_s, 16)
        if size == 0:
            break
        if limit - pos < size + 2:
            return None
        if buf[pos + size:pos + size + 2] != b"\r\n":
            raise HttpError("chunk data not followed by CRLF")
        pos += size + 2
        total += size
    trailers = []
    while True:
        r = _line(buf, pos, limit)
        if r is None:
            return None
        line, pos = r
        if not line:
            break
        trailers.append(line)
    req.trailers = parse_fields(trailers, "trailer")
    req.payload_len = total
    return pos


# ---- responses, for the client side (lenient: it reads what proxies send) ----

class Response:
    def __init__(self):
        self.status = 0
        self.headers = []
        self.head = b""
        self.body_len = 0
        self.end = 0

    def first(self, name, default=None):
        n = name.lower()
        for k, v in self.headers:
            if k.lower() == n:
                return v.decode("latin1")
        return default


def parse_response(buf, pos, method, eof=False):
    """(Response, end) for the response at buf[pos:], or None when more bytes are needed.
    Raises ValueError for a response the client cannot read."""
    he = buf.find(b"\r\n\r\n", pos)
    if he < 0:
        if eof and pos < len(buf):
            raise ValueError("truncated response head")
        return None
    head = buf[pos:he]
    lines = head.split(b"\r\n")
    m = re.match(rb"HTTP/\d\.\d (\d{3})", lines[0])
    if not m:
        raise ValueError(f"bad status line {lines[0][:60]!r}")
    r = Response()
    r.status = int(m.group(1))
    r.head = head
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        r.headers.append((k.decode("latin1").strip(), v.strip()))
    body = he + 4
    if 100 <= r.status < 200 or r.status in (204, 304) or method == "HEAD" or \
            (method == "CONNECT" and 200 <= r.status < 300):
        r.end = body
        return r
    te = (r.first("transfer-encoding") or "").lower()
    if "chunked" in te:
        p = body
        total = 0
        while True:
            e = buf.find(b"\r\n", p)
            if e < 0:
                return None if not eof else _trunc()
            size = int(buf[p:e].split(b";")[0] or b"0", 16)
            p = e + 2
            if size == 0:
                t = buf.find(b"\r\n\r\n", p - 2)
                if t < 0:
                    return None if not eof else _trunc()
                r.end = t + 4
                r.body_len = total
                return r
            if len(buf) < p + size + 2:
                return None if not eof else _trunc()
            p += size + 2
            total += size
    cl = r.first("content-length")
    if cl is not None:
        n = int(cl.split(",")[0])
        if len(buf) - body < n:
            return None if not eof else _trunc()
        r.body_len = n
        r.end = body + n
        return r
    # until close
    if not eof:
        return None
    r.body_len = len(buf) - body
    r.end = len(buf)
    return r


def _trunc():
    raise ValueError("truncated response")
