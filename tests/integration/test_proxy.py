# SPDX-License-Identifier: BSD-3-Clause
"""sluice as a reverse proxy in front of real nginx backends.

Three nginx instances (backends.py) listen on BEn_ADDR:8080 in the lab's backend namespaces
and answer with their own name, so a test counts who served what; their access logs record
each request with the nginx connection it came on, which tells upstream keep-alive reuse and
whether a request reached a backend at all. A fourth nginx serves a slow download for the
backend-failure test, and a python3-websockets echo server stands behind /ws. Clients (curl,
Python) run in the client namespace. Every test runs with `workers: 1` and `workers: 2`.

Each sluice worker keeps its own balancer state: one client connection is served by one
worker, so sequences seen over one keep-alive connection are exact, and counts over many
connections are exact only with one worker.
"""

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402
import httpclient  # noqa: E402
import lab as lablib  # noqa: E402

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "httpclient.py"
HELPER = HERE / "backends.py"
PY = "/usr/bin/python3"
MB = 1 << 20
BIG = 50 * MB
PORT = 8080  # every nginx backend
SLOW_PORT = 8082  # the nginx that the failure test kills
WS_PORT = 8090
DEAD_PORT = 8099  # nothing listens there: the backend kernel answers SYN with RST
VOID_ADDR = "198.18.0.99"  # on the lab subnet, nobody answers ARP for it


def proxy_config(lab, socket_path, workers):
    be = [lab.BE1_ADDR, lab.BE2_ADDR, lab.BE3_ADDR]
    app_eps = "\n".join(
        f"      - {{ name: be{i + 1}, address: {a}:{PORT} }}" for i, a in enumerate(be))
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 4096)}listeners:
  - name: web
    port: 80
    limits: {{ header_timeout_ms: 3000, idle_timeout_ms: 10000, max_body_bytes: 0 }}
    routes:
      - match: {{ host: "weighted.test", path_prefix: "/" }}
        service: weighted
      - match: {{ host: "lc.test", path_prefix: "/" }}
        service: leastconn
      - match: {{ host: "slow.test", path_prefix: "/" }}
        service: slow
      - match: {{ host: "down.test", path_prefix: "/" }}
        service: down
      - match: {{ host: "void.test", path_prefix: "/" }}
        service: void
      - match: {{ path_prefix: "/ws" }}
        service: ws
      - match: {{ path_prefix: "/" }}
        service: app
services:
  app:
    balance: round_robin
    endpoints:
{app_eps}
    pool: {{ max_idle_per_endpoint: 16, idle_timeout_ms: 30000 }}
    timeouts: {{ connect_ms: 1000, response_ms: 20000 }}
  weighted:
    balance: weighted_round_robin
    endpoints:
      - {{ name: heavy, address: {lab.BE1_ADDR}:{PORT}, weight: 3 }}
      - {{ name: light, address: {lab.BE2_ADDR}:{PORT}, weight: 1 }}
  leastconn:
    balance: least_connections
    endpoints:
      - {{ name: be1, address: {lab.BE1_ADDR}:{PORT} }}
      - {{ name: be2, address: {lab.BE2_ADDR}:{PORT} }}
  slow:
    endpoints:
      - {{ name: slow, address: {lab.BE3_ADDR}:{SLOW_PORT} }}
    timeouts: {{ connect_ms: 1000, response_ms: 60000 }}
  down:
    endpoints:
      - {{ name: d1, address: {lab.BE1_ADDR}:{DEAD_PORT} }}
      - {{ name: d2, address: {lab.BE2_ADDR}:{DEAD_PORT} }}
    timeouts: {{ connect_ms: 500, response_ms: 2000 }}
  void:
    endpoints:
      - {{ name: v1, address: {VOID_ADDR}:{PORT} }}
    timeouts: {{ connect_ms: 500, response_ms: 2000 }}
  ws:
    endpoints:
      - {{ name: ws1, address: {lab.BE1_ADDR}:{WS_PORT} }}
control:
  socket: {socket_path}
"""


class Proxy:
    """The fixture's value: the running appliance and its backends."""

    def __init__(self, app, bes, slow, ws, docroot):
        self.app, self.bes, self.slow, self.ws, self.docroot = app, bes, slow, ws, docroot
        self.addr = app.lab.APP_ADDR
        self.lab = app.lab

    def log_tail(self):
        return self.app.log_tail()


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def px(request):
    lab = lablib.Lab()
    lab.up()
    app = None
    started = []
    # 50 MB: removed at teardown rather than left to pytest's kept temp dirs
    docroot = Path(tempfile.mkdtemp(prefix=f"sluice-docroot-{lab.prefix}-"))
    try:
        backends.write_pattern_file(docroot / "big", BIG)
        bes = backends.start_nginxes(lab, 3, PORT, docroot, started)
        slow = backends.Nginx(lab.BE3_NS, "slow", lab.BE3_ADDR, SLOW_PORT, docroot,
                              slow_rate=131072)
        started.append(slow)
        slow.start()
        ws = backends.WsEcho(lab.BE1_NS, lab.BE1_ADDR, WS_PORT)
        started.append(ws)
        ws.start()

        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        conf = proxy_config(lab, sock, request.param)
        app = lablib.Sluice(lab, workers=request.param, config_text=conf)
        chk = lablib.run([lablib.SLUICE, "--check", "-c", app.conf], timeout=30)
        assert chk.returncode == 0, (
            f"sluice --check refuses the proxy configuration (is the reverse proxy built?):\n"
            f"{chk.stdout}{chk.stderr}")
        app.start()
        yield Proxy(app, bes, slow, ws, docroot)
        lablib.stop_ok(app)
    finally:
        lablib.teardown(lab, app, started, docroot)


def token():
    return uuid.uuid4().hex[:12]


def curl(px, *args, timeout=60):
    return px.app.ns_exec(px.lab.CLI_NS, ["curl", "-sS", "--max-time", "30", *args],
                          timeout=timeout)


def client(px, *args, timeout=300):
    r = px.app.ns_exec(px.lab.CLI_NS, [PY, str(CLIENT), *args], timeout=timeout)
    assert r.returncode == 0, f"client {args} failed:\n{r.stdout}{r.stderr}\n{px.log_tail()}"
    return json.loads(r.stdout)


def helper(px, *args, timeout=120):
    r = px.app.ns_exec(px.lab.CLI_NS, [PY, str(HELPER), *args], timeout=timeout)
    assert r.returncode == 0, f"backends.py {args} failed:\n{r.stdout}{r.stderr}\n{px.log_tail()}"
    return json.loads(r.stdout)


def served(px, uri_prefix):
    """{backend name: requests whose $uri starts with uri_prefix} from the access logs."""
    return {b.name: len(b.entries(uri_prefix)) for b in px.bes}


def log_lines(px):
    return sum(len(b.entries()) for b in px.bes)


# ---- balancing ----

def test_round_robin_over_one_keepalive_connection(px):
    t = token()
    res = helper(px, "keepalive", px.addr, "80", "30", f"/uri/rr-{t}")
    assert res["reconnects"] == 0, "sluice closed a keep-alive client connection"
    statuses = Counter(s for s, _ in res["responses"])
    assert statuses == {200: 30}, res
    names = [body.split(" ")[0] for _, body in res["responses"]]
    assert all(body == f"{n} /uri/rr-{t}\n" for n, (_, body) in zip(names, res["responses"]))
    assert Counter(names) == {"be1": 10, "be2": 10, "be3": 10}
    # strictly in turn: every window of three has all three backends
    for i in range(len(names) - 2):
        assert len(set(names[i:i + 3])) == 3, names
    assert served(px, f"/uri/rr-{t}") == {"be1": 10, "be2": 10, "be3": 10}


def test_round_robin_with_curl(px):
    t = token()
    bodies = []
    for i in range(30):
        r = curl(px, f"http://{px.addr}/rr-curl-{t}")
        assert r.returncode == 0, f"request {i}: {r.stderr}\n{px.log_tail()}"
        bodies.append(r.stdout)
    c = Counter(bodies)
    assert sum(c.values()) == 30 and set(c) == {"be1\n", "be2\n", "be3\n"}, c
    if px.app.workers == 1:
        assert c == {"be1\n": 10, "be2\n": 10, "be3\n": 10}
    else:
        # each worker runs its own rotation: at most one off per backend per worker
        assert all(8 <= n <= 12 for n in c.values()), c


def test_weighted_round_robin_3_to_1(px):
    t = token()
    res = helper(px, "keepalive", px.addr, "80", "40", f"/uri/w-{t}", "weighted.test")
    names = [body.split(" ")[0] for _, body in res["responses"]]
    assert Counter(names) == {"be1": 30, "be2": 10}, res
    # smooth: any four consecutive picks hold the light endpoint exactly once
    for i in range(len(names) - 3):
        assert names[i:i + 4].count("be2") == 1, names
    assert served(px, f"/uri/w-{t}") == {"be1": 30, "be2": 10, "be3": 0}


def start_slow_get(px, hosthdr, min_bytes=65536, limit_s=30):
    """A client in the background downloading /slow (128 KiB/s) through the proxy; returns the
    process and its first line: {"started": monotonic time, "head": response head}."""
    p = subprocess.Popen(
        ["ip", "netns", "exec", px.lab.CLI_NS, PY, str(HELPER), "slow-get", px.addr, "80",
         "/slow", hosthdr, str(min_bytes), str(limit_s)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    if not first.startswith('{"started"'):
        p.kill()
        _, err = p.communicate(timeout=10)
        raise AssertionError(f"slow download did not start: {first}{err}\n{px.log_tail()}")
    return p, json.loads(first)


def test_least_connections(px):
    t = token()
    # Nothing in flight between sequential requests: every pick is a tie, broken in turn.
    res = helper(px, "keepalive", px.addr, "80", "20", f"/uri/lc-{t}", "lc.test")
    names = Counter(body.split(" ")[0] for _, body in res["responses"])
    assert names == {"be1": 10, "be2": 10}, res

    # A slow download holds a request in flight on one endpoint; short requests then go to
    # the other, idle one. Balancer state is per worker: with two workers the two client
    # connections may be served by different workers, and then the short requests only
    # alternate, so the strict check is for one worker.
    p, first = start_slow_get(px, "lc.test")
    try:
        m = re.search(r"^X-Backend: (be[12])\r?$", first["head"], re.M | re.I)
        assert m, first
        busy = m.group(1)
        res = helper(px, "keepalive", px.addr, "80", "10", f"/uri/lc2-{t}", "lc.test")
        names = Counter(body.split(" ")[0] for _, body in res["responses"])
        idle = "be2" if busy == "be1" else "be1"
        if px.app.workers == 1:
            assert names == {idle: 10}, f"{busy} is busy with a download: {names}"
        else:
            assert names[idle] >= 5, f"{busy} is busy with a download: {names}"
    finally:
        p.kill()
        p.wait()


# ---- request and response forwarding ----

def test_forwarded_headers(px):
    r = curl(px, "-H", "Host: shop.example:80", f"http://{px.addr}/echo")
    assert r.returncode == 0, r.stderr
    xff, via, host = r.stdout.rstrip("\n").split("|")
    assert xff == px.lab.CLI_ADDR
    assert re.fullmatch(r"1\.1 [A-Za-z0-9._:-]+( \(.*\))?", via), via
    assert host == "shop.example:80", "the upstream request keeps the client's Host"
    # an existing X-Forwarded-For is appended to, not replaced
    r = curl(px, "-H", "X-Forwarded-For: 203.0.113.7", f"http://{px.addr}/echo")
    xff = r.stdout.split("|")[0]
    assert [a.strip() for a in xff.split(",")] == ["203.0.113.7", px.lab.CLI_ADDR], xff


def test_head_split_around_another_heads_parse_keeps_its_own_fields(px):
    # A's head is parsed in two calls with B's whole head in between, on one worker when
    # there is one: the fields forwarded for A are A's (the proxy keeps the header spans of
    # each head's one parse and parses again only a head whose spans were overwritten).
    a1 = "GET /echo HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 203.0.113.7\r\n"
    a2 = "User-Agent: split\r\nConnection: close\r\n\r\n"
    b = ("GET /echo HTTP/1.1\r\nHost: b.example:8000\r\nX-Forwarded-For: 192.0.2.9\r\n"
         "Accept: */*\r\nConnection: close\r\n\r\n")
    res = client(px, "interleave", px.addr, "80", a1.encode().hex(), b.encode().hex(),
                 a2.encode().hex())
    for key, xff0, host in (("a", "203.0.113.7", "a.example"),
                            ("b", "192.0.2.9", "b.example:8000")):
        head, _, body = res[key].partition("\r\n\r\n")
        assert head.startswith("HTTP/1.1 200 "), res
        xff, via, got_host = body.rstrip("\n").split("|")
        assert [x.strip() for x in xff.split(",")] == [xff0, px.lab.CLI_ADDR], res
        assert via.startswith("1.1 "), res
        assert got_host == host, res


def test_response_headers_come_from_the_backend(px):
    r = curl(px, "-si", f"http://{px.addr}/hdr-{token()}")
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition("\n\n")  # text mode: CRLF read as LF
    assert head.startswith("HTTP/1.1 200"), head
    m = re.search(r"^X-Backend: (be[123])\r?$", head, re.M | re.I)
    assert m and body == f"{m.group(1)}\n", r.stdout
    assert re.search(r"^Via: 1\.1 ", head, re.M | re.I), "a proxy adds Via to responses too"


def test_head(px):
    r = curl(px, "-sI", f"http://{px.addr}/big")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("HTTP/1.1 200"), r.stdout
    assert re.search(rf"^Content-Length: {BIG}\r?$", r.stdout, re.M | re.I), r.stdout
    # HEAD has no body: the next request on the same connection must still work
    t = token()
    script = (
        "import http.client,json;c=http.client.HTTPConnection('%s',80,timeout=15);"
        "c.request('HEAD','/big',headers={'Host':'lab'});r=c.getresponse();b1=r.read();"
        "h=r.getheader('Content-Length');"
        "c.request('GET','/uri/h-%s',headers={'Host':'lab'});r2=c.getresponse();"
        "print(json.dumps([r.status,h,len(b1),r2.status,r2.read().decode()]))" % (px.addr, t))
    out = px.app.ns_exec(px.lab.CLI_NS, [PY, "-c", script], timeout=60)
    assert out.returncode == 0, out.stderr + px.log_tail()
    st, cl, blen, st2, body2 = json.loads(out.stdout)
    assert (st, cl, blen, st2) == (200, str(BIG), 0, 200)
    assert body2.endswith(f" /uri/h-{t}\n")


def test_download_50mb_sha256(px):
    res = client(px, "download", px.addr, "80", "/big")
    assert res["status"] == 200
    assert res["content_length"] == BIG
    assert res["length"] == BIG
    assert res["sha256"] == httpclient.pattern_sha256(BIG)


def upload_landed(px, res, n):
    """The backend answered with the file it stored the body in: check it byte for byte."""
    assert res["status"] == 200, res
    path = Path(res["body"].strip())
    assert path.is_file(), f"backend stored no body file: {res}"
    assert path.stat().st_size == n
    assert backends.sha256_file(path) == httpclient.pattern_sha256(n)
    path.unlink()


def test_post_content_length(px):
    n = 8 * MB + 5
    res = client(px, "upload", px.addr, "80", "/upload", str(n))
    upload_landed(px, res, n)
    last = [e for b in px.bes for e in b.entries("/upload")][-1:]
    assert last and last[0]["request_length"] > n


def test_post_chunked(px):
    n = 3 * MB + 17
    res = client(px, "upload", px.addr, "80", "/upload", str(n), "chunked")
    upload_landed(px, res, n)


def test_post_small_bodies_keep_the_connection(px):
    # several small POSTs, then a GET, over one connection: body framing stays in step
    script = (
        "import http.client,json;c=http.client.HTTPConnection('%s',80,timeout=15);out=[]\n"
        "for n in (0,1,100,70000):\n"
        "  c.request('POST','/upload',body=bytes(range(97,123))*(n//26)+bytes(range(97,97+n%%26)),"
        "headers={'Host':'lab'});r=c.getresponse();out.append([r.status,r.read().decode()])\n"
        "c.request('GET','/uri/after-post',headers={'Host':'lab'});r=c.getresponse()\n"
        "out.append([r.status,r.read().decode()]);print(json.dumps(out))" % px.addr)
    out = px.app.ns_exec(px.lab.CLI_NS, [PY, "-c", script], timeout=60)
    assert out.returncode == 0, out.stderr + px.log_tail()
    res = json.loads(out.stdout)
    assert res[0][0] == 200, res
    if res[0][1].strip():  # an empty body may or may not leave an (empty) file
        upload_landed(px, {"status": res[0][0], "body": res[0][1]}, 0)
    for (status, body), n in zip(res[1:4], (1, 100, 70000)):
        upload_landed(px, {"status": status, "body": body}, n)
    assert res[4][0] == 200 and res[4][1].endswith(" /uri/after-post\n"), res


def test_curl_upload_with_expect_100_continue(px, tmp_path):
    n = 2 * MB
    f = tmp_path / "up.bin"
    backends.write_pattern_file(f, n)
    # curl sends Expect: 100-continue for a body this size and waits for the 100 (or 1 s)
    # a long expect100-timeout: without a 100 relayed, curl would wait it out before sending
    r = curl(px, "-v", "--expect100-timeout", "60", "-H", "Expect: 100-continue",
             "--data-binary", f"@{f}", "-w", "\n%{http_code}", f"http://{px.addr}/upload")
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition("\n")
    upload_landed(px, {"status": int(code), "body": body}, n)
    # the backend's interim answer came through the proxy
    assert re.search(r"^< HTTP/1.1 100 Continue", r.stderr, re.M), r.stderr


def test_pipelined_requests_answered_in_order(px):
    t = token()
    reqs = (
        f"GET /uri/{t}-1 HTTP/1.1\r\nHost: lab\r\n\r\n"
        f"HEAD /uri/{t}-2 HTTP/1.1\r\nHost: lab\r\n\r\n"
        f"GET /uri/{t}-3 HTTP/1.1\r\nHost: weighted.test\r\n\r\n"
        f"POST /uri/{t}-4 HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\n\r\nhello"
        f"GET /uri/{t}-5 HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n").encode()
    res = client(px, "raw", px.addr, "80", reqs.hex(), "10")
    parts = res["response"].split("HTTP/1.1 ")[1:]
    assert len(parts) == 5, res
    assert all(p.startswith("200 ") for p in parts), res
    bodies = [p.split("\r\n\r\n", 1)[1] for p in parts]
    uris = [b.strip().split(" ")[-1] if b else "" for b in bodies]
    assert uris == [f"/uri/{t}-1", "", f"/uri/{t}-3", f"/uri/{t}-4", f"/uri/{t}-5"], bodies
    assert res["closed"], "Connection: close on the last request must close the connection"


def test_upstream_keepalive_reuse(px):
    t = token()
    res = helper(px, "keepalive", px.addr, "80", "200", f"/uri/ka-{t}")
    assert Counter(s for s, _ in res["responses"]) == {200: 200}
    conns = {}
    for b in px.bes:
        es = b.entries(f"/uri/ka-{t}")
        assert es, f"{b.name} served none of the 200 requests"
        conns[b.name] = {e["connection"] for e in es}
    total = sum(len(c) for c in conns.values())
    # sequential requests need one idle connection per backend; allow some slack, but 200
    # requests over 200 connections (or anything like it) means no reuse
    assert total <= 12, f"{total} upstream connections for 200 requests: {conns}"
    assert max(e["connection_requests"] for b in px.bes for e in b.entries(f"/uri/ka-{t}")) >= 20


# ---- errors ----

MALFORMED = [
    ("bare_lf", b"GET /m HTTP/1.1\nHost: a\n\n", 400),
    ("cl_and_te", b"POST /m HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("no_host", b"GET /m HTTP/1.1\r\n\r\n", 400),
    ("two_hosts", b"GET /m HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("two_content_lengths", b"POST /m HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                            b"Content-Length: 2\r\n\r\nab", 400),
    ("obs_fold", b"GET /m HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400),
    ("space_before_colon", b"GET /m HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    ("long_target", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    ("huge_header", b"GET /m HTTP/1.1\r\nHost: a\r\nX: " + b"b" * 17000 + b"\r\n\r\n", 431),
]


@pytest.mark.parametrize("name,payload,status", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_requests_never_reach_backends(px, name, payload, status):
    before = log_lines(px)
    res = client(px, "raw", px.addr, "80", payload.hex())
    assert res["response"].startswith(f"HTTP/1.1 {status} "), res
    assert res["closed"], "the connection must close after a refused request"
    time.sleep(0.2)
    assert log_lines(px) == before, "a refused request reached a backend"


def test_bad_chunk_mid_body_is_not_answered_by_the_backend(px):
    # The head is valid, so it may already be on its way to a backend when the broken chunk
    # size shows up; what must not happen is a backend's answer reaching the client as if
    # the request had gone through whole. sluice answers 400 or closes the connection.
    t = token()
    payload = (f"POST /uri/chunk-{t} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\nzz\r\n").encode()
    res = client(px, "raw", px.addr, "80", payload.hex())
    assert res["response"] == "" or res["response"].startswith("HTTP/1.1 400 "), res
    assert res["closed"], "the connection must close after broken framing"
    r = curl(px, f"http://{px.addr}/")
    assert r.stdout in ("be1\n", "be2\n", "be3\n"), "the next client is served as usual"


def test_all_backends_refusing_gives_5xx_quickly(px):
    for i in range(3):
        t0 = time.monotonic()
        r = curl(px, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: down.test",
                 f"http://{px.addr}/")
        assert r.returncode == 0, r.stderr
        assert r.stdout in ("502", "503"), r.stdout
        # a bound against hanging, not a speed check
        assert time.monotonic() - t0 < 20, "an answer to a refused connect must not wait"
    # and the appliance still serves the healthy service
    r = curl(px, f"http://{px.addr}/")
    assert r.stdout in ("be1\n", "be2\n", "be3\n")


def test_unreachable_backend_gives_5xx_within_connect_timeout(px):
    t0 = time.monotonic()
    r = curl(px, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: void.test",
             f"http://{px.addr}/")
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert r.stdout in ("502", "503", "504"), r.stdout
    assert took < 20, f"connect_ms is 500 but the answer took {took:.1f} s (hang?)"


# ---- live changes (set server, enable/disable server) ----

def servers_state(px, service):
    lines = px.app.ctl(f"show servers state {service}").splitlines()
    assert lines[0] == "1" and lines[1].startswith("# be_id "), lines
    names = lines[1][2:].split()
    return {row.split()[3]: dict(zip(names, row.split())) for row in lines[2:] if row.strip()}


def stat_status(px, service, server):
    for line in px.app.ctl("show stat").splitlines():
        f = line.split(",")
        if f[0] == service and f[1] == server:
            return f[17], f[18]  # status, weight
    raise AssertionError(f"no show stat row {service}/{server}")


def sluicectl(px, *args):
    return px.app.ctl_run(list(args))


def test_set_server_weight_zero_takes_no_new_requests(px):
    t = token()
    try:
        assert sluicectl(px, "set", "server", "app/be1", "weight", "0").returncode == 0
        assert stat_status(px, "app", "be1") == ("DRAIN", "0")
        assert servers_state(px, "app")["be1"]["srv_uweight"] == "0"
        res = helper(px, "keepalive", px.addr, "80", "20", f"/uri/w0-{t}")
        assert Counter(s for s, _ in res["responses"]) == {200: 20}
        assert served(px, f"/uri/w0-{t}").get("be1", 0) == 0
    finally:
        assert sluicectl(px, "set", "server", "app/be1", "weight", "1").returncode == 0
    res = helper(px, "keepalive", px.addr, "80", "30", f"/uri/w1-{t}")
    assert served(px, f"/uri/w1-{t}") == {"be1": 10, "be2": 10, "be3": 10}


def test_drain_and_maintenance(px):
    t = token()
    try:
        assert sluicectl(px, "set", "server", "app/be2", "state", "drain").returncode == 0
        assert sluicectl(px, "disable", "server", "app/be3").returncode == 0
        st = servers_state(px, "app")
        assert (st["be2"]["srv_admin_state"], st["be3"]["srv_admin_state"]) == ("8", "1")
        assert st["be3"]["srv_op_state"] == "0" and st["be1"]["srv_op_state"] == "2"
        assert stat_status(px, "app", "be2")[0] == "DRAIN"
        assert stat_status(px, "app", "be3")[0] == "MAINT"
        res = helper(px, "keepalive", px.addr, "80", "12", f"/uri/dm-{t}")
        assert Counter(s for s, _ in res["responses"]) == {200: 12}
        assert {k: v for k, v in served(px, f"/uri/dm-{t}").items() if v} == {"be1": 12}
    finally:
        assert sluicectl(px, "set", "server", "app/be2", "state", "ready").returncode == 0
        assert sluicectl(px, "enable", "server", "app/be3").returncode == 0
    assert stat_status(px, "app", "be3")[0] == "UP"
    helper(px, "keepalive", px.addr, "80", "30", f"/uri/dm2-{t}")
    assert served(px, f"/uri/dm2-{t}") == {"be1": 10, "be2": 10, "be3": 10}


def test_drain_lets_the_request_in_flight_finish(px):
    # a slow download is in flight on slow/slow when it is drained: it goes on, while new
    # requests find no usable endpoint
    p, first = start_slow_get(px, "slow.test", limit_s=4)
    try:
        assert sluicectl(px, "set", "server", "slow/slow", "state", "drain").returncode == 0
        r = curl(px, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: slow.test",
                 f"http://{px.addr}/")
        assert r.stdout == "503", r.stdout
        out, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        assert sluicectl(px, "set", "server", "slow/slow", "state", "ready").returncode == 0
    res = json.loads(out.splitlines()[-1])
    # still flowing when the client stopped reading after its 4 s: not cut by the drain
    assert res["end"] == "timeout", res
    assert res["body_bytes"] > 65536 + 3 * 131072, res


@pytest.mark.parametrize("args,why", [
    (["set", "server", "app/nope", "weight", "1"], "has no endpoint 'nope'"),
    (["set", "server", "nope/be1", "weight", "1"], "no service 'nope'"),
    (["set", "server", "app/be1", "weight", "300"], "from 0 to 256"),
    (["set", "server", "app/be1", "state", "sleepy"], "ready, drain or maint"),
    (["set", "server", "app-be1", "weight", "1"], "SERVICE/ENDPOINT"),
    (["enable", "server"], "missing SERVICE/ENDPOINT"),
], ids=["no_endpoint", "no_service", "weight_range", "bad_state", "no_slash", "no_arg"])
def test_set_server_errors(px, args, why):
    r = sluicectl(px, *args)
    assert r.returncode == 1, r
    assert r.stdout.startswith("error: ") and why in r.stdout, r.stdout


def test_backend_killed_mid_response_closes_the_client(px):
    # Must run after every other test of the slow service: it kills that backend for good.
    assert px.slow.alive()
    p, first = start_slow_get(px, "slow.test")
    try:
        assert re.search(r"^X-Backend: slow\r?$", first["head"], re.M | re.I), first
        killed = time.monotonic()
        px.slow.kill(signal.SIGKILL)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    res = json.loads(out.splitlines()[-1])
    assert res["head"].startswith("HTTP/1.1 200"), res
    assert res["body_bytes"] < BIG
    assert res["end"] in ("eof", "reset"), f"client left hanging: {res}"
    # a bound against hanging (the client's own timeout is far longer), not a speed check
    assert res["ended"] - killed < 20, f"closed {res['ended'] - killed:.1f} s after the kill"
    # other services are unaffected
    r = curl(px, f"http://{px.addr}/")
    assert r.stdout in ("be1\n", "be2\n", "be3\n")


# ---- upgrade ----

def test_websocket_echo(px):
    res = helper(px, "ws-client", f"ws://{px.addr}/ws/echo")
    assert res == {"text": "hello through sluice", "binary_ok": True, "big_ok": True,
                   "ordered_ok": True, "closed_cleanly": True}


# ---- counters ----

def proxy_counters(px):
    out = px.app.ctl("show proxy")
    return {k: int(v) for k, v in (line.split(": ") for line in out.splitlines() if ": " in line)}


def test_show_proxy_counts_per_listener_service_endpoint(px):
    before = proxy_counters(px)
    t = token()
    res = helper(px, "keepalive", px.addr, "80", "30", f"/uri/cnt-{t}")
    assert Counter(s for s, _ in res["responses"]) == {200: 30}
    after = proxy_counters(px)

    def delta(key):
        return after[key] - before.get(key, 0)

    assert delta("service.app.requests") == 30
    assert delta("service.app.responses_2xx") == 30
    eps = [k for k in after if k.startswith("endpoint.app/") and k.endswith(".requests")]
    assert len(eps) == 3, eps
    assert sum(delta(k) for k in eps) == 30
    # one keep-alive client, round robin: every endpoint served some, and mostly over reused
    # upstream connections
    assert all(delta(k) > 0 for k in eps)
    reused = sum(delta(k.replace(".requests", ".conns_reused")) for k in eps)
    assert reused >= 24, reused
    assert delta("listener.web.requests") == 30
    assert delta("listener.web.bytes_out") > 0 and delta("listener.web.bytes_in") > 0
