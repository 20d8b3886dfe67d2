# SPDX-License-Identifier: BSD-3-Clause
"""What the backend receives is framed exactly as sluice framed it (issue 8).

A recording backend (recorder.py) in BE1's namespace frames every byte it receives with a
strict parser of its own and logs each request it saw; the tests send requests through sluice
from the client namespace and compare, request by request, what the backend saw with what
was sent: the request-smuggling forms of `Connection` (a field sluice frames or routes by is
never dropped as hop-by-hop), duplicate Content-Length, HTTP/1.0 without Host, Expect, methods,
versions, transfer codings, CONNECT, bytes that can never start a request, and upstream
connections that must not go back to the pool. Every test runs with 1 and 2 workers.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402
import lab as lablib  # noqa: E402

HERE = Path(__file__).resolve().parent
RECORDER = HERE / "recorder.py"
CLIENT = HERE / "httpclient.py"
PY = "/usr/bin/python3"
REC_PORT = 8060
READ_S = 3.0  # a client read ends at the server's close; this only bounds a hang


def framing_config(lab, socket_path, workers):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 4096)}listeners:
  - name: web
    port: 80
    limits: {{ header_timeout_ms: 10000, idle_timeout_ms: 10000 }}
    routes:
      - match: {{ host: "direct.test" }}
        respond: {{ status: 200, body: "direct\\n" }}
      - match: {{ path_prefix: "/" }}
        service: rec
services:
  rec:
    endpoints:
      - {{ name: r1, address: {lab.BE1_ADDR}:{REC_PORT} }}
    pool: {{ max_idle_per_endpoint: 4 }}
    timeouts: {{ connect_ms: 1000, response_ms: 5000 }}
control:
  socket: {socket_path}
"""


class Rig:
    def __init__(self, app, log):
        self.app, self.log = app, log
        self.lab = app.lab
        self.mark = 0

    def seen(self):
        """Records the backend logged since the last call (waits for writes in flight)."""
        time.sleep(0.2)
        lines = Path(self.log).read_text().splitlines()
        new, self.mark = lines[self.mark:], len(lines)
        return [json.loads(x) for x in new]

    def staged(self, *parts):
        """Parts sent one after another on one connection, a pause between them."""
        r = self.app.ns_exec(self.lab.CLI_NS, [PY, str(CLIENT), "staged", self.lab.APP_ADDR,
                                               "80", *[p.hex() for p in parts]], timeout=90)
        assert r.returncode == 0, r.stderr
        return parse_responses(json.loads(r.stdout)["response"].encode("latin1"))

    def send(self, payload, read_timeout=READ_S):
        """Raw bytes on one client connection; the answer as (responses, closed)."""
        r = self.app.ns_exec(self.lab.CLI_NS, [PY, str(CLIENT), "raw", self.lab.APP_ADDR, "80",
                                               payload.hex(), str(read_timeout)],
                             timeout=read_timeout + 60)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        return parse_responses(out["response"].encode("latin1")), out["closed"]


def parse_responses(data):
    """Split a byte stream of responses (Content-Length framed) into (status, headers, body)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"incomplete head: {data[:200]!r}"
        lines = head.decode("latin1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
        n = int(hdrs.get("content-length", ["0"])[0])
        out.append((status, hdrs, rest[:n]))
        data = rest[n:]
    return out


def hdr(rec, name):
    return [v for k, v in rec["headers"] if k.lower() == name.lower()]


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def rig(request):
    lab = lablib.Lab()
    lab.up()
    app = rec = None
    work = Path(tempfile.mkdtemp(prefix=f"sluice-framing-{lab.prefix}-"))
    log = work / "recorder.log"
    log.write_text("")
    try:
        with open(work / "recorder.out", "wb") as out:
            rec = subprocess.Popen(["ip", "netns", "exec", lab.BE1_NS, PY, "-u", str(RECORDER),
                                    lab.BE1_ADDR, str(REC_PORT), str(log)],
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        backends.wait_listening(lab.BE1_NS, lab.BE1_ADDR, REC_PORT, rec, "recorder.py")
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=request.param,
                            config_text=framing_config(lab, sock, request.param))
        app.start()
        yield Rig(app, log)
        lablib.stop_ok(app)
    finally:
        if app is not None:
            app.cleanup()
        if rec is not None and rec.poll() is None:
            rec.kill()
            rec.wait(timeout=10)
        subprocess.run(["rm", "-rf", str(work)], timeout=60)
        lab.down()


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: evil\r\n\r\n"

# Connection naming Content-Length, every way the differential run found (issue 8, item 1).
CL_FORMS = {
    "plain": b"Connection: Content-Length\r\n",
    "list": b"Connection: keep-alive, content-length\r\n",
    "second_line": b"Connection: keep-alive\r\nConnection: Content-Length\r\n",
    "expect": b"Expect: 100-continue\r\nConnection: Content-Length\r\n",
}


@pytest.mark.parametrize("form", list(CL_FORMS))
def test_connection_cannot_remove_content_length(rig, form):
    body = SMUGGLED
    req = (b"POST /a HTTP/1.1\r\nHost: lab\r\n" + CL_FORMS[form] +
           b"Content-Length: %d\r\n\r\n" % len(body) + body +
           b"GET /last HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    resps, _ = rig.send(req)
    seen = rig.seen()
    finals = [r for r in resps if r[0] != 100]
    assert [r[0] for r in finals] == [200, 200], resps
    # the backend framed exactly the two requests sluice forwarded, each stamped by sluice
    assert [(r.get("method"), r.get("target")) for r in seen] == \
        [("POST", "/a"), ("GET", "/last")], seen
    assert hdr(seen[0], "Content-Length") == [str(len(body))]
    assert seen[0]["body"] == len(body)
    assert all(hdr(r, "X-Forwarded-For") for r in seen)


def test_http10_keepalive_connection_content_length(rig):
    body = SMUGGLED
    req = (b"POST /a HTTP/1.0\r\nHost: lab\r\nConnection: keep-alive, Content-Length\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body) + body)
    resps, _ = rig.send(req)
    seen = rig.seen()
    assert [r[0] for r in resps] == [200], resps
    assert [(r["method"], r["target"], r["body"]) for r in seen] == [("POST", "/a", len(body))]


def test_connection_cannot_remove_transfer_encoding_or_host(rig):
    chunked = b"5\r\nhello\r\n0\r\n\r\n"
    req = (b"POST /te HTTP/1.1\r\nHost: lab\r\nConnection: Transfer-Encoding, Host\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" + chunked +
           b"GET /last HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    resps, _ = rig.send(req)
    seen = rig.seen()
    assert [r[0] for r in resps] == [200, 200], resps
    assert [r["target"] for r in seen] == ["/te", "/last"]
    assert hdr(seen[0], "Transfer-Encoding") == ["chunked"] and seen[0]["body"] == 5
    assert hdr(seen[0], "Host") == ["lab"]
    assert rig.app.counter("http.conn_token_ignored") >= 2


def test_connection_names_many_fields(rig):
    names = [f"X-Hop-{i}" for i in range(40)]
    req = ("GET /hop HTTP/1.1\r\nHost: lab\r\n" + f"Connection: {', '.join(names[:20])}\r\n" +
           f"Connection: {','.join(names[20:])}\r\n" +
           "".join(f"{n}: v\r\n" for n in names) + "X-Kept: yes\r\nConnection: close\r\n\r\n")
    resps, _ = rig.send(req.encode())
    seen = rig.seen()
    assert [r[0] for r in resps] == [200]
    got = {k.lower() for k, _ in seen[0]["headers"]}
    assert not any(n.lower() in got for n in names), sorted(got)
    assert "x-kept" in got


def test_duplicate_content_length_forwarded_once(rig):
    req = (b"POST /dup HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"
           b"helloPOST /list HTTP/1.1\r\nHost: lab\r\nContent-Length: 3, 3\r\n"
           b"Connection: close\r\n\r\nabc")
    resps, _ = rig.send(req)
    seen = rig.seen()
    assert [r[0] for r in resps] == [200, 200], resps
    assert [hdr(r, "Content-Length") for r in seen] == [["5"], ["3"]]
    assert [r["body"] for r in seen] == [5, 3]


def test_http10_without_host_gets_one(rig):
    resps, _ = rig.send(b"GET /old HTTP/1.0\r\n\r\n")
    seen = rig.seen()
    assert [r[0] for r in resps] == [200]
    assert hdr(seen[0], "Host") == [rig.lab.APP_ADDR]
    assert seen[0]["version"] == "HTTP/1.1"


def test_http10_expect_gets_no_interim(rig):
    before = rig.app.counter("http.interim_withheld")
    req = b"POST /e HTTP/1.0\r\nHost: lab\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok"
    resps, _ = rig.send(req)
    seen = rig.seen()
    assert [r[0] for r in resps] == [200], resps  # no 100 Continue to an HTTP/1.0 client
    assert hdr(seen[0], "Expect") == []
    assert rig.app.counter("http.interim_withheld") == before


def test_connection_expect_keeps_expect(rig):
    req = (b"POST /e HTTP/1.1\r\nHost: lab\r\nConnection: Expect, close\r\n"
           b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\nok")
    resps, _ = rig.send(req)
    seen = rig.seen()
    assert [r[0] for r in resps] == [100, 200], resps
    assert hdr(seen[0], "Expect") == ["100-continue"]


@pytest.mark.parametrize("method", ["PROPFIND", "MKCOL", "PURGE", "QUERY", "X-CUSTOM_1"])
def test_extension_methods_forwarded(rig, method):
    req = f"{method} /m HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n".encode()
    resps, _ = rig.send(req)
    seen = rig.seen()
    assert [r[0] for r in resps] == [200]
    assert [(r["method"], r["target"]) for r in seen] == [(method, "/m")]


@pytest.mark.parametrize("version", ["1.2", "1.9"])
def test_higher_minor_version_is_http11(rig, version):
    resps, _ = rig.send(f"GET /v HTTP/{version}\r\nHost: lab\r\nConnection: close\r\n\r\n"
                        .encode())
    assert [r[0] for r in resps] == [200]
    assert [r["target"] for r in rig.seen()] == ["/v"]


@pytest.mark.parametrize("name,req,status", [
    ("connect", b"CONNECT lab:443 HTTP/1.1\r\nHost: lab:443\r\n\r\n", 501),
    ("gzip_chunked", b"POST / HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: gzip, chunked\r\n"
     b"\r\n0\r\n\r\n", 501),
    ("two_te_lines", b"POST / HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: gzip\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
    ("lowercase_head", b"head / HTTP/1.1\r\nHost: lab\r\n\r\n", 501),
])
def test_refused_before_the_backend(rig, name, req, status):
    resps, closed = rig.send(req)
    assert [r[0] for r in resps] == [status], resps
    assert closed
    assert rig.seen() == []


@pytest.mark.parametrize("name,data", [
    ("nul", b"\x00"),
    ("tls_client_hello", bytes.fromhex("160301020001000001fc0303") + bytes(32)),
    ("nul_in_method", b"GE\x00T / HTTP/1.1\r\n"),
])
def test_hopeless_bytes_get_400_at_once(rig, name, data):
    # header_timeout_ms is 10 s: a 408 would mean the bytes were held until it; the read
    # bound (3 s) is far below it, so only an answer sent at once is seen at all
    resps, closed = rig.send(data)
    assert [r[0] for r in resps] == [400], resps
    assert closed
    assert rig.seen() == []


def test_early_response_connection_not_reused(rig):
    before = rig.app.counters().get("http.upstream_not_reused", 0)
    body = b"x" * 5000
    # the backend answers after the head and the first half of the body: the connection
    # still carries the rest of the body, which the backend may take for a request
    resps = rig.staged(
        b"POST /early HTTP/1.1\r\nHost: lab\r\nContent-Length: %d\r\n\r\n" % len(body) +
        body[:2500],
        body[2500:] + b"GET /after HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    seen = rig.seen()
    assert [r[0] for r in resps] == [200, 200], resps
    early = [r for r in seen if r["target"] == "/early"][0]
    after = [r for r in seen if r["target"] == "/after"][0]
    assert early["body"] == len(body)
    assert after["conn"] != early["conn"], "answered before its body ended, yet reused"
    assert rig.app.counter("http.upstream_not_reused") > before


def test_unsolicited_bytes_close_the_upstream(rig):
    before = rig.app.counter("http.upstream_not_reused")
    req = (b"GET /extra HTTP/1.1\r\nHost: lab\r\n\r\n"
           b"GET /after HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    resps, _ = rig.send(req)
    seen = rig.seen()
    assert len(resps) == 2, resps
    # the second answer is the backend's answer to /after, not the unsolicited one
    assert json.loads(resps[1][2])["target"] == "/after"
    extra = [r for r in seen if r["target"] == "/extra"][0]
    after = [r for r in seen if r["target"] == "/after"][0]
    assert after["conn"] != extra["conn"]
    # counted as not reused, or as an unsolicited response on an idle connection
    assert (rig.app.counter("http.upstream_not_reused") > before or
            rig.app.counter("http.upstream_bad_responses") > 0)
