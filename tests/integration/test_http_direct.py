# SPDX-License-Identifier: BSD-3-Clause
"""sluice's TCP stack against the Linux TCP stack, through direct-response routes.

Real clients (curl, Python http.client) in the client namespace talk to listeners served
straight from the appliance's userspace TCP stack; every test runs with `workers: 1` and with
`workers: 2` (af_packet qpairs=2, segments handed between workers by 4-tuple ownership).
"""

import json
import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpclient  # noqa: E402
import lab as lablib  # noqa: E402

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "httpclient.py"
PY = "/usr/bin/python3"
MB = 1 << 20
BIG = 50 * MB


def direct_config(lab, socket_path, workers, max_connections=4096, framecnt=None):
    device = lab.APP_DEVICE + (f",framecnt={framecnt}" if framecnt else "")
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, max_connections, device)}listeners:
  - name: web
    port: 80
    limits: {{ header_timeout_ms: 1500, idle_timeout_ms: 5000, max_body_bytes: 0 }}
    routes:
      - match: {{ path_prefix: "/big" }}
        respond: {{ status: 200, bytes: {BIG} }}
      - match: {{ path_prefix: "/10m" }}
        respond: {{ status: 200, bytes: {10 * MB} }}
      - match: {{ path_prefix: "/1m" }}
        respond: {{ status: 200, bytes: {MB} }}
      - match: {{ host: "*.example", path_prefix: "/" }}
        respond: {{ status: 200, body: "wildcard\\n" }}
      - match: {{ host: "api.test", path_prefix: "/" }}
        respond: {{ status: 201, body: "api\\n", content_type: "application/json" }}
      - match: {{ path_prefix: "/" }}
        respond: {{ status: 200, body: "hello\\n", content_type: "text/plain" }}
  - name: narrow
    port: 8080
    limits: {{ max_body_bytes: 1000 }}
    routes:
      - match: {{ path_prefix: "/only" }}
        respond: {{ status: 200, body: "only\\n" }}
control:
  socket: {socket_path}
"""


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def web(request):
    workers = request.param
    with lablib.running_sluice(workers, config_fn=lambda lab, sock: direct_config(
            lab, sock, workers)) as app:
        yield app


def client(app, *args, timeout=300):
    r = app.ns_exec(app.lab.CLI_NS, [PY, str(CLIENT), *args], timeout=timeout)
    assert r.returncode == 0, f"client {args} failed:\n{r.stdout}{r.stderr}\n{app.log_tail()}"
    return json.loads(r.stdout)


def curl(app, *args, timeout=60):
    return app.ns_exec(app.lab.CLI_NS, ["curl", "-sS", "--max-time", "30", *args],
                       timeout=timeout)


def addr(app):
    return app.lab.APP_ADDR


def test_curl_get(web):
    r = curl(web, "-i", f"http://{addr(web)}/")
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition("\n\n")  # text mode: CRLF read as LF
    assert head.startswith("HTTP/1.1 200 OK"), head
    assert "Content-Length: 6" in head
    assert "Content-Type: text/plain" in head
    assert re.search(r"^Server: sluice\r?$", head, re.M), head
    # IMF-fixdate (RFC 9110 5.6.7)
    assert re.search(r"^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                     r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                     r"\d\d:\d\d:\d\d GMT\r?$", head, re.M), head
    assert body == "hello\n"


def test_routes_by_host_and_path(web):
    r = curl(web, "-H", "Host: API.test:80", f"http://{addr(web)}/x")
    assert r.stdout == "api\n"
    r = curl(web, "-o", "/dev/null", "-w", "%{http_code} %{content_type}", "-H",
             "Host: api.test", f"http://{addr(web)}/x")
    assert r.stdout == "201 application/json"
    r = curl(web, "-H", "Host: a.b.example", f"http://{addr(web)}/")
    assert r.stdout == "wildcard\n"
    r = curl(web, "-H", "Host: example", f"http://{addr(web)}/")
    assert r.stdout == "hello\n", "*.example must need at least one label before it"
    # no route on the second listener -> 404
    r = curl(web, "-o", "/dev/null", "-w", "%{http_code}", f"http://{addr(web)}:8080/other")
    assert r.stdout == "404"
    r = curl(web, f"http://{addr(web)}:8080/only/x")
    assert r.stdout == "only\n"


def test_head(web):
    r = curl(web, "-I", f"http://{addr(web)}/1m")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("HTTP/1.1 200")
    assert f"Content-Length: {MB}" in r.stdout


def test_keepalive_10000_requests(web):
    before = web.counters()
    res = client(web, "keepalive", addr(web), "80", "10000")
    assert res["statuses"] == {"200": 10000}
    assert res["bodies"] == ["hello\n"]
    after = web.counters()
    assert after["http.requests"] - before["http.requests"] == 10000
    # one connection carried them all
    assert after["tcp.conns_opened_passive"] - before["tcp.conns_opened_passive"] == 1


def test_download_50mb_sha256(web):
    res = client(web, "download", addr(web), "80", "/big")
    assert res["status"] == 200
    assert res["content_length"] == BIG
    assert res["length"] == BIG
    assert res["sha256"] == httpclient.pattern_sha256(BIG)


def test_upload_50mb(web):
    before = web.counter("http.body_bytes_discarded")
    res = client(web, "upload", addr(web), "80", "/", str(BIG))
    assert res == {"status": 200, "body": "hello\n"}
    assert web.counter("http.body_bytes_discarded") - before == BIG


def test_upload_chunked(web):
    before = web.counter("http.body_bytes_discarded")
    res = client(web, "upload", addr(web), "80", "/", str(3 * MB + 17), "chunked")
    assert res == {"status": 200, "body": "hello\n"}
    assert web.counter("http.body_bytes_discarded") - before == 3 * MB + 17


def test_body_limit_413(web):
    res = client(web, "upload", addr(web), "8080", "/only", "5000")
    assert res["status"] == 413


def test_refusal_lingers_until_the_client_is_done(web):
    # 413 goes out after the first KiB; the client is still sending 5 MB. A close that reset
    # the connection on the late bytes would destroy the answer before the client reads it:
    # sluice reads and drops them (lingering close), so the client gets its 413.
    res = client(web, "upload", addr(web), "8080", "/only", str(5 * MB))
    assert res["status"] == 413


MALFORMED = [
    ("bare_lf", b"GET / HTTP/1.1\nHost: a\n\n", 400),
    ("cl_and_te", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("no_host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two_hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("obs_fold", b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400),
    ("space_before_colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    ("unknown_te", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n", 501),
    ("chunked_not_last", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     400),
    ("bad_chunk_size", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    ("bad_version", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    ("long_target", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    ("huge_header", b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"b" * 17000 + b"\r\n\r\n", 431),
]


@pytest.mark.parametrize("name,payload,status", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_requests(web, name, payload, status):
    res = client(web, "raw", addr(web), "80", payload.hex())
    assert res["response"].startswith(f"HTTP/1.1 {status} "), res
    assert "Connection: close" in res["response"]
    assert res["closed"], "the connection must close after a refused request"


def test_pipelined_requests_answered_in_order(web):
    reqs = b"".join(
        b"GET /%s HTTP/1.1\r\nHost: %s\r\n\r\n" % (p, h)
        for p, h in [(b"a", b"api.test"), (b"b", b"lab"), (b"c", b"x.example")]
    ) + b"GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n"
    res = client(web, "raw", addr(web), "80", reqs.hex())
    bodies = [part.split("\r\n\r\n", 1)[1][:20] for part in res["response"].split("HTTP/1.1 ")[1:]]
    assert [b.split("\n")[0] for b in bodies] == ["api", "hello", "wildcard", "hello"]
    assert res["closed"]


def test_header_timeout_408(web):
    # half a request head, then silence: the whole head must arrive within header_timeout_ms
    res = client(web, "raw", addr(web), "80", b"GET / HTTP/1.1\r\nHost: a\r\n".hex(), "4")
    assert res["response"].startswith("HTTP/1.1 408 "), res
    assert res["closed"]
    assert web.counter("http.header_timeouts") >= 1


def test_tcp_counters_visible(web):
    out = web.ctl("show tcp")
    for name in ("segs_in", "segs_out", "retransmits", "challenge_acks", "syn_cookies_sent",
                 "drop_bad_cksum"):
        assert name in out, out


def epoch(app):
    info = dict(line.split(": ", 1) for line in app.ctl("show info").splitlines() if ": " in line)
    return int(info["Config_epoch"])


def wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not pred() and time.monotonic() < deadline:
        time.sleep(0.1)
    return pred()


def test_sighup_reload(web):
    import signal

    text = web.conf.read_text()
    e0 = epoch(web)
    # the same file: accepted, a new epoch
    web.send_signal(signal.SIGHUP)
    assert wait_for(lambda: epoch(web) == e0 + 1), web.log_tail()
    # a changed route applies live
    web.conf.write_text(text.replace('body: "hello\\n"', 'body: "changed\\n"'))
    try:
        web.send_signal(signal.SIGHUP)
        assert wait_for(lambda: epoch(web) == e0 + 2), web.log_tail()
        assert curl(web, f"http://{addr(web)}/").stdout == "changed\n"
        # a start-up key: refused naming it, nothing changes
        web.conf.write_text(re.sub(r"(?m)^  workers: (\d+)$",
                                   lambda m: f"  workers: {int(m.group(1)) + 1}", text))
        web.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "cannot change dataplane.workers on reload" in web.log_tail()), \
            web.log_tail()
        assert epoch(web) == e0 + 2
        assert curl(web, f"http://{addr(web)}/").stdout == "changed\n"
    finally:
        web.conf.write_text(text)
        web.send_signal(signal.SIGHUP)
    assert wait_for(lambda: epoch(web) == e0 + 3), web.log_tail()
    assert curl(web, f"http://{addr(web)}/").stdout == "hello\n"
