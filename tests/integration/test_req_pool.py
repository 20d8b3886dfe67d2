# SPDX-License-Identifier: BSD-3-Clause
"""More requests in progress than the request pool holds: they wait, none is lost.

A request's state (struct px_req: parser, body framing, timing) comes from a per-worker pool of
max(64, max_connections / 4) taken on the request's first byte (dataplane/proxy/px_req.c). With
max_connections 256 the pool holds 64 per worker; N client connections each send half a
request head and stop, so 64 per worker hold a px_req and the rest wait with their bytes in
their receive queue (show pools: mem.reqs_waiting, counter http.req_pool_empty). A request on
another listener with a short header timeout waits too and gets its 408 when that timeout ends.
Then every client sends the rest of its head and a second, pipelined request: every one of the
2N requests is answered 200 with the right body, and the pool is empty again afterwards. The
same again with listener web proxying to an nginx backend that answers the same body.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402
import lab as lablib  # noqa: E402

PY = "/usr/bin/python3"
N = 200
N_PROXIED = 180  # + 64 upstream connections stays within MAX_CONNS TCBs on one worker
BE_PORT = 8080
MAX_CONNS = 256
POOL = 64  # max(64, MAX_CONNS // 4) per worker

CLIENT = r"""
import json, socket, sys
addr, n = sys.argv[1], int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.create_connection((addr, 80), timeout=60)
    s.sendall(b"GET /a%d HTTP/1.1\r\nHost: web\r\n" % i)
    socks.append(s)
print(json.dumps({"open": len(socks)}), flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "short":
        s = socket.create_connection((addr, 8081), timeout=60)
        s.sendall(b"GET /s HTTP/1.1\r\nHost: short\r\n\r\n")
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
        s.close()
        print(json.dumps({"short": data.split(b"\r\n", 1)[0].decode()}), flush=True)
    elif cmd == "finish":
        for s in socks:
            s.sendall(b"\r\nGET /b HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
        ok, bad = 0, []
        for i, s in enumerate(socks):
            data = b""
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    data += d
            except OSError as e:
                bad.append([i, repr(e)])
                continue
            s.close()
            if data.count(b"HTTP/1.1 200 OK\r\n") == 2 and data.count(b"\r\n\r\nhello\n") == 2:
                ok += 1
            else:
                bad.append([i, data[:200].decode(errors="replace")])
        print(json.dumps({"ok": ok, "bad": bad[:5]}), flush=True)
        break
"""


def config(lab, socket_path, workers, proxied):
    """Listener web answers "hello\\n" itself, or (proxied) through the nginx backend named
    hello; listener short answers itself with a 300 ms header timeout."""
    answer = ("service: app" if proxied
              else 'respond: { status: 200, body: "hello\\n", content_type: "text/plain" }')
    services = (f"""services:
  app:
    endpoints:
      - {{ name: hello, address: {lab.BE1_ADDR}:{BE_PORT} }}
""" if proxied else "")
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, MAX_CONNS)}listeners:
  - name: web
    port: 80
    limits: {{ header_timeout_ms: 60000, idle_timeout_ms: 60000 }}
    routes:
      - match: {{ path_prefix: "/" }}
        {answer}
  - name: short
    port: 8081
    limits: {{ header_timeout_ms: 300, idle_timeout_ms: 60000 }}
    routes:
      - match: {{ path_prefix: "/" }}
        respond: {{ status: 200, body: "short\\n" }}
{services}control:
  socket: {socket_path}
"""


class App:
    def __init__(self, app, n):
        self.app, self.n = app, n

    def __getattr__(self, name):
        return getattr(self.app, name)


@pytest.fixture(params=[(1, False), (2, False), (1, True), (2, True)],
                ids=["workers1", "workers2", "workers1-proxied", "workers2-proxied"])
def app(request):
    workers, proxied = request.param
    # Proxied, every request in progress also holds an upstream connection (a TCB of the
    # same per-worker pool of MAX_CONNS): fewer clients leave room for them.
    n = N_PROXIED if proxied else N
    lab = lablib.Lab()
    lab.up()
    a = nginx = None
    docroot = Path(tempfile.mkdtemp(prefix=f"sluice-reqpool-{lab.prefix}-"))
    try:
        if proxied:
            nginx = backends.Nginx(lab.BE1_NS, "hello", lab.BE1_ADDR, BE_PORT, docroot).start()
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        a = lablib.Sluice(lab, workers=workers,
                          config_text=config(lab, sock, workers, proxied))
        a.start()
        yield App(a, n)
        lablib.stop_ok(a)
    finally:
        lablib.teardown(lab, a, [nginx], docroot)


def test_requests_wait_for_the_pool_and_all_are_answered(app):
    base = lablib.show_pools(app)
    for w in range(app.workers):
        assert base[f"worker{w}.mem.reqs_max"] == POOL, base
        assert base[f"worker{w}.mem.reqs_used"] == 0, base
    total = POOL * app.workers

    proc = subprocess.Popen(
        ["ip", "netns", "exec", app.lab.CLI_NS, PY, "-c", CLIENT, app.lab.APP_ADDR,
         str(app.n)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert lablib.json_line(proc, 60, "client") == {"open": app.n}
        # Every half head arrived: the pools are full and the rest wait.
        deadline = time.monotonic() + 20
        while True:
            p = lablib.show_pools(app)
            if p["mem.reqs_used"] + p["mem.reqs_waiting"] == app.n or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert p["mem.reqs_used"] + p["mem.reqs_waiting"] == app.n, p
        for w in range(app.workers):
            # app.n connections over the workers: each gets more than its pool holds
            assert p[f"worker{w}.mem.reqs_used"] == POOL, p
            assert p[f"worker{w}.mem.reqs_hwm"] == POOL, p
        assert p["mem.reqs_waiting"] == app.n - total, p
        assert app.counter("http.req_pool_empty") == app.n - total
        assert p["mem.sessions_used"] == app.n, p

        # The header timeout applies while a request waits for its state.
        assert lablib.json_cmd(proc, "short") == {"short": "HTTP/1.1 408 Request Timeout"}
        assert app.counter("http.header_timeouts") == 1

        done = lablib.json_cmd(proc, "finish", 120)
        assert done == {"ok": app.n, "bad": []}, f"{done}\n{app.log_tail()}"
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    assert app.counter("http.responses_2xx") == 2 * app.n
    # proxied, every one of them went to the backend (and its answer is the same "hello\n")
    assert app.counter("http.proxied_requests") == (2 * app.n if app.n == N_PROXIED else 0)
    deadline = time.monotonic() + 20
    while True:
        after = lablib.show_pools(app)
        if after["mem.sessions_used"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert after["mem.sessions_used"] == 0, after
    assert after["mem.reqs_used"] == 0 and after["mem.reqs_waiting"] == 0, after
