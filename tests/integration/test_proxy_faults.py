# SPDX-License-Identifier: BSD-3-Clause
"""The reverse proxy when things go wrong (issue 4): an upstream that stalls after its head or
never answers, request bodies over limits.max_body_bytes or cut short by the client, and
upstream connection churn.

Backends, in the lab's backend namespaces: faults.py's misbehaving server on BE1_ADDR:8070, and
an nginx (backends.py) on BE2_ADDR:8080 reached with upstream keep-alive off
(pool.max_idle_per_endpoint: 0), so that every proxied request opens and closes a connection.
Every test runs with `workers: 1` and `workers: 2`. Time bounds here only catch hangs: they
are many times what the configured timeouts need.
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
FAULTS = HERE / "faults.py"
CLIENT = HERE / "httpclient.py"
PY = "/usr/bin/python3"
FAULT_PORT = 8070
NGINX_PORT = 8080
RESPONSE_MS = 1500
MAX_BODY = 1000
HANG_BOUND_S = 20  # > 10x RESPONSE_MS: a bound against hanging, not a speed check


def faults_config(lab, socket_path, workers):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 4096)}listeners:
  - name: web
    port: 80
    limits: {{ header_timeout_ms: 3000, idle_timeout_ms: 30000, max_body_bytes: {MAX_BODY} }}
    routes:
      - match: {{ host: "stall.test", path_prefix: "/" }}
        service: stall
      - match: {{ host: "direct.test", path_prefix: "/" }}
        respond: {{ status: 200, body: "direct\\n" }}
      - match: {{ path_prefix: "/" }}
        service: churn
services:
  stall:
    endpoints:
      - {{ name: f1, address: {lab.BE1_ADDR}:{FAULT_PORT} }}
    timeouts: {{ connect_ms: 1000, response_ms: {RESPONSE_MS} }}
  churn:
    endpoints:
      - {{ name: n1, address: {lab.BE2_ADDR}:{NGINX_PORT} }}
    pool: {{ max_idle_per_endpoint: 0 }}
    timeouts: {{ connect_ms: 1000, response_ms: 20000 }}
control:
  socket: {socket_path}
"""


class Faults:
    def __init__(self, app, fault_proc, fault_log, nginx):
        self.app, self.fault_proc, self.fault_log, self.nginx = app, fault_proc, fault_log, nginx
        self.lab = app.lab
        self.addr = app.lab.APP_ADDR

    def fault_closes(self, path):
        """How many stalled connections for path the fault server saw ended."""
        text = Path(self.fault_log).read_text(errors="replace")
        return sum(1 for line in text.splitlines() if line == f"closed {path}")

    def counters(self):
        return lablib.parse_counters(self.app.ctl("show ports"))


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def fx(request):
    lab = lablib.Lab()
    lab.up()
    app = None
    fault = None
    nginx = None
    docroot = Path(tempfile.mkdtemp(prefix=f"sluice-faults-{lab.prefix}-"))
    fault_log = docroot / "faults.log"
    try:
        with open(fault_log, "wb") as log:
            fault = subprocess.Popen(
                ["ip", "netns", "exec", lab.BE1_NS, PY, "-u", str(FAULTS), "server",
                 lab.BE1_ADDR, str(FAULT_PORT)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        backends.wait_listening(lab.BE1_NS, lab.BE1_ADDR, FAULT_PORT, fault, "faults.py",
                                fault_log)
        nginx = backends.Nginx(lab.BE2_NS, "n1", lab.BE2_ADDR, NGINX_PORT, docroot)
        nginx.start()
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=request.param,
                            config_text=faults_config(lab, sock, request.param))
        app.start()
        yield Faults(app, fault, fault_log, nginx)
        lablib.stop_ok(app)
    finally:
        if app is not None:
            app.cleanup()
        if fault is not None and fault.poll() is None:
            fault.kill()
            fault.wait(timeout=10)
        if nginx is not None:
            nginx.cleanup()
        subprocess.run(["rm", "-rf", str(docroot)], timeout=60)
        lab.down()


def raw(fx, payload, read_timeout=HANG_BOUND_S):
    r = fx.app.ns_exec(fx.lab.CLI_NS, [PY, str(CLIENT), "raw", fx.addr, "80", payload.hex(),
                                       str(read_timeout)], timeout=read_timeout + 60)
    assert r.returncode == 0, f"client failed:\n{r.stdout}{r.stderr}\n{fx.app.log_tail()}"
    return json.loads(r.stdout)


def wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not pred() and time.monotonic() < deadline:
        time.sleep(0.1)
    return pred()


# ---- an upstream that stops talking ----

def test_upstream_stalling_after_its_head_closes_the_client(fx):
    before = fx.counters()
    t0 = time.monotonic()
    res = raw(fx, b"GET /stall-body HTTP/1.1\r\nHost: stall.test\r\n\r\n")
    took = time.monotonic() - t0
    head, _, body = res["response"].partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200 "), res
    assert "Content-Length: 100" in head, head
    assert body == "0123456789", "the 10 bytes the backend sent came through"
    # the head is out, so no 504 can follow: the client connection is ended instead of
    # being left waiting for 90 bytes that will never come
    assert res["closed"], f"client left hanging after {took:.1f} s: {res}"
    after = fx.counters()
    assert (after["http.upstream_response_timeouts"]
            - before["http.upstream_response_timeouts"]) == 1
    # and the upstream connection was given up too
    assert wait_for(lambda: fx.fault_closes("/stall-body") >= 1), \
        "the stalled upstream connection was never closed"


def test_silent_upstream_gets_504(fx):
    before = fx.counters()
    res = raw(fx, b"GET /silent HTTP/1.1\r\nHost: stall.test\r\n\r\n")
    assert res["response"].startswith("HTTP/1.1 504 "), res
    assert res["closed"], res
    after = fx.counters()
    assert (after["http.upstream_response_timeouts"]
            - before["http.upstream_response_timeouts"]) == 1
    assert wait_for(lambda: fx.fault_closes("/silent") >= 1)


# ---- request bodies ----

def chunked_post(path, chunks, host="lab"):
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n"
            .encode() + body)


def test_chunked_body_within_limit_is_forwarded(fx):
    res = raw(fx, chunked_post("/upload", [b"a" * 300, b"b" * 300])
              + b"GET /after HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    parts = res["response"].split("HTTP/1.1 ")[1:]
    assert [p[:3] for p in parts] == ["200", "200"], res


@pytest.mark.parametrize("host", ["lab", "direct.test"], ids=["proxied", "direct"])
def test_chunked_body_over_limit_gets_413(fx, host):
    before = fx.counters()
    logged = len(fx.nginx.entries("/big-chunked"))
    res = raw(fx, chunked_post("/big-chunked", [b"x" * 600, b"y" * 600], host))
    assert res["response"].startswith("HTTP/1.1 413 "), res
    assert res["closed"], res
    after = fx.counters()
    assert (after["http_err.refused_BODY_TOO_LARGE"]
            - before["http_err.refused_BODY_TOO_LARGE"]) == 1
    time.sleep(0.2)
    assert len(fx.nginx.entries("/big-chunked")) == logged, "the backend served it anyway"


def test_chunked_body_going_over_limit_after_the_head_went_upstream_gets_413(fx):
    # The head alone first: the proxy forwards it upstream at once (to nginx's /upload,
    # which reads the whole body before it answers). The body that then crosses the limit
    # is still answered with 413, since nothing of a response has reached the client; the
    # upstream connection, holding half a request, is aborted. (A backend that answered
    # before the body ended would have its response forwarded, and then the client's
    # connection could only be aborted.)
    before = fx.counters()
    script = (
        "import socket,json,time\n"
        f"s=socket.create_connection(('{fx.addr}',80),timeout={HANG_BOUND_S})\n"
        "s.sendall(b'POST /upload HTTP/1.1\\r\\nHost: lab\\r\\n"
        "Transfer-Encoding: chunked\\r\\n\\r\\n')\n"
        "time.sleep(0.5)\n"
        "s.sendall(b'%x\\r\\n' % 1500 + b'z' * 1500 + b'\\r\\n')\n"
        "out=b''\n"
        "try:\n"
        "  while True:\n"
        "    d=s.recv(65536)\n"
        "    if not d: break\n"
        "    out+=d\n"
        "except (socket.timeout, ConnectionResetError):\n"
        "  pass\n"
        "print(json.dumps(out.decode('latin1')))\n")
    r = fx.app.ns_exec(fx.lab.CLI_NS, [PY, "-c", script], timeout=HANG_BOUND_S + 30)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out.startswith("HTTP/1.1 413 "), out
    after = fx.counters()
    assert (after["http_err.refused_BODY_TOO_LARGE"]
            - before["http_err.refused_BODY_TOO_LARGE"]) == 1


@pytest.mark.parametrize("host", ["lab", "direct.test"], ids=["proxied", "direct"])
def test_client_closing_inside_its_body_is_counted_truncated(fx, host):
    # proxied to nginx's /upload, which answers only once it has the whole body
    before = fx.counters()
    script = (
        "import socket,json\n"
        f"s=socket.create_connection(('{fx.addr}',80),timeout={HANG_BOUND_S})\n"
        f"s.sendall(b'POST /upload HTTP/1.1\\r\\nHost: {host}\\r\\nContent-Length: 500\\r\\n\\r\\n'"
        " + b'q' * 100)\n"
        "s.shutdown(socket.SHUT_WR)\n"
        "out=b''\n"
        "closed=False\n"
        "try:\n"
        "  while True:\n"
        "    d=s.recv(65536)\n"
        "    if not d:\n"
        "      closed=True\n"
        "      break\n"
        "    out+=d\n"
        "except ConnectionResetError:\n"
        "  closed=True\n"
        "except socket.timeout:\n"
        "  pass\n"
        "print(json.dumps([out.decode('latin1'), closed]))\n")
    r = fx.app.ns_exec(fx.lab.CLI_NS, [PY, "-c", script], timeout=HANG_BOUND_S + 30)
    assert r.returncode == 0, r.stderr
    out, closed = json.loads(r.stdout)
    # closed well before the 30 s idle timeout, and counted where it happened
    assert closed, f"connection left open: {out!r}"
    assert out.startswith("HTTP/1.1 400 "), out
    after = fx.counters()
    assert after["http_err.refused_TRUNCATED"] - before["http_err.refused_TRUNCATED"] == 1


# ---- upstream connection churn ----

def test_upstream_churn_without_5xx(fx):
    # First contact resolves the backend's MAC: not part of what is measured.
    warm = raw(fx, b"GET /warm HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    assert warm["response"].startswith("HTTP/1.1 200 "), warm
    before = fx.counters()
    conns, per_conn = 200, 15
    r = fx.app.ns_exec(fx.lab.CLI_NS, [PY, str(FAULTS), "churn", fx.addr, "80", str(conns),
                                       str(per_conn), "lab"], timeout=300)
    assert r.returncode == 0, f"{r.stdout}{r.stderr}\n{fx.app.log_tail()}"
    res = json.loads(r.stdout)
    after = fx.counters()

    def delta(k):
        return after.get(k, 0) - before.get(k, 0)

    detail = {k: delta(k) for k in ("http.upstream_connect_timeouts", "tcp.drop_bad_ack",
                                    "tcp.syn_retransmits", "tcp.time_wait_reused",
                                    "tcp.time_wait_reclaimed", "http.upstream_connects")}
    assert res["statuses"] == {"200": conns * per_conn}, (res, detail)
    assert res["n_errors"] == 0, (res, detail)
    assert delta("http.responses_5xx") == 0, detail
    # every request really opened an upstream connection of its own
    assert delta("http.upstream_connects") >= conns * per_conn, detail
