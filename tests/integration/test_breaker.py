# SPDX-License-Identifier: BSD-3-Clause
"""circuit_breaker's appliance-wide limits with a slow real backend and 2 workers (issue 11):
delayed.py answers each request after DELAY seconds.

- service `lim` (max_requests 2, max_pending 2): of 8 concurrent GETs, 2 are served at once,
  2 wait and are served when those end, and 4 get 503 at once (well before DELAY); the
  backend sees 4 requests only, however the clients' connections spread over the workers.
- service `tmo` (max_requests 1, queue_timeout_ms 300): of 3 concurrent GETs one is served
  and the 2 waiting ones get 503 after about 300 ms, never having reached the backend.
- service `brk` (consecutive_failures 3, open_ms 3000, no retries) on BE2, where nothing
  listens at first: 3 GETs get 502 and the breaker opens within a control tick; a backend
  started then sees no connection while GETs get 503 at once; after open_ms one trial goes
  through, succeeds, and the breaker closes.
"""

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402
import lab as lablib  # noqa: E402

HERE = Path(__file__).resolve().parent
PY = "/usr/bin/python3"
PORT = 8080
DELAY = 1.5

# n concurrent GETs, one connection each; prints [[status, seconds], ...]
CLIENT = r"""
import http.client, json, sys, threading, time
host, n, hh = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = [None] * n
go = threading.Event()
def one(i):
    c = http.client.HTTPConnection(host, 80, timeout=20)
    c.connect()
    go.wait()
    t = time.monotonic()
    c.request("GET", "/%d" % i, headers={"Host": hh})
    r = c.getresponse()
    r.read()
    out[i] = [r.status, time.monotonic() - t]
    c.close()
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts: t.start()
time.sleep(0.3)
go.set()
for t in ts: t.join(30)
print(json.dumps(out))
"""

# n sequential GETs, a new connection each; prints [[status, seconds], ...]
SEQ = r"""
import http.client, json, sys, time
host, n, hh = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = []
for i in range(n):
    c = http.client.HTTPConnection(host, 80, timeout=20)
    t = time.monotonic()
    c.request("GET", "/s%d" % i, headers={"Host": hh})
    r = c.getresponse()
    r.read()
    out.append([r.status, time.monotonic() - t])
    c.close()
print(json.dumps(out))
"""
BRK_PORT = 8082


def config(lab, socket_path, workers):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 4096)}listeners:
  - name: web
    port: 80
    routes:
      - match: {{ host: "tmo.test", path_prefix: "/" }}
        service: tmo
      - match: {{ host: "brk.test", path_prefix: "/" }}
        service: brk
      - match: {{ path_prefix: "/" }}
        service: lim
services:
  lim:
    endpoints:
      - {{ name: slow, address: {lab.BE1_ADDR}:{PORT} }}
    timeouts: {{ connect_ms: 1000, response_ms: 10000 }}
    circuit_breaker: {{ max_requests: 2, max_pending: 2, queue_timeout_ms: 10000 }}
  tmo:
    endpoints:
      - {{ name: slow, address: {lab.BE1_ADDR}:{PORT} }}
    timeouts: {{ connect_ms: 1000, response_ms: 10000 }}
    circuit_breaker: {{ max_requests: 1, max_pending: 10, queue_timeout_ms: 300 }}
  brk:
    endpoints:
      - {{ name: b, address: {lab.BE2_ADDR}:{BRK_PORT} }}
    timeouts: {{ connect_ms: 1000, response_ms: 10000 }}
    retries: 0
    outlier_detection: {{ consecutive_5xx: 0, consecutive_gateway_failure: 0 }}
    circuit_breaker: {{ consecutive_failures: 3, open_ms: 3000 }}
control:
  socket: {socket_path}
"""


class Fx:
    def __init__(self, app, log):
        self.app, self.log = app, log
        self.lab = app.lab

    def requests_seen(self):
        return sum(1 for ln in self.log.read_text().splitlines() if ln.startswith("req "))


@pytest.fixture(scope="module")
def fx():
    lab = lablib.Lab()
    lab.up()
    app = be = None
    logdir = Path(f"/tmp/sluice-breaker-{lab.prefix}")
    logdir.mkdir(exist_ok=True)
    log = logdir / "delayed.log"
    try:
        with open(log, "wb") as f:
            be = subprocess.Popen(
                ["ip", "netns", "exec", lab.BE1_NS, PY, "-u", str(HERE / "delayed.py"),
                 lab.BE1_ADDR, str(PORT), str(DELAY)],
                stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
        backends.wait_listening(lab.BE1_NS, lab.BE1_ADDR, PORT, be, "delayed.py", log)
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=2, config_text=config(lab, sock, 2))
        app.start()
        fx = Fx(app, log)
        fx.logdir = logdir
        yield fx
        lablib.stop_ok(app)
    finally:
        if app is not None:
            app.cleanup()
        if be is not None and be.poll() is None:
            be.kill()
            be.wait(timeout=10)
        subprocess.run(["rm", "-rf", str(logdir)], timeout=60)
        lab.down()


def burst(fx, n, host):
    r = fx.app.ns_exec(fx.lab.CLI_NS, [PY, "-c", CLIENT, fx.lab.APP_ADDR, str(n), host],
                       timeout=60)
    assert r.returncode == 0, f"client failed:\n{r.stdout}{r.stderr}\n{fx.app.log_tail()}"
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert all(o is not None for o in out), out
    return out


def backend_row(fx, svc):
    lines = fx.app.ctl("show stat").splitlines()
    rd = csv.DictReader(io.StringIO("\n".join([lines[0][2:]] + lines[1:])))
    return next(r for r in rd if r["pxname"] == svc and r["svname"] == "BACKEND")


def test_max_requests_and_max_pending(fx):
    seen = fx.requests_seen()
    c0 = lablib.parse_counters(fx.app.ctl("show ports"))
    out = burst(fx, 8, "lim.test")
    ok = sorted(t for s, t in out if s == 200)
    busy = sorted(t for s, t in out if s == 503)
    assert len(ok) == 4 and len(busy) == 4, out
    # the 503s are at once: well before the first response could free a slot
    assert busy[-1] < DELAY * 2 / 3, out
    # two served in one round, two in the next (they waited for a slot)
    assert ok[1] < 2 * DELAY - 0.2 and ok[2] >= 2 * DELAY - 0.2, out
    assert fx.requests_seen() - seen == 4
    row = backend_row(fx, "lim")
    assert row["slim"] == "2" and row["qcur"] == "0" and row["qmax"] == "2", row
    c = lablib.parse_counters(fx.app.ctl("show ports"))
    assert c.get("queue_full", 0) - c0.get("queue_full", 0) == 4, c
    assert c.get("queue_waits", 0) - c0.get("queue_waits", 0) >= 2, c


def test_queue_timeout(fx):
    seen = fx.requests_seen()
    c0 = lablib.parse_counters(fx.app.ctl("show ports"))
    out = burst(fx, 3, "tmo.test")
    ok = [t for s, t in out if s == 200]
    busy = sorted(t for s, t in out if s == 503)
    assert len(ok) == 1 and len(busy) == 2, out
    # queue_timeout_ms 300: not before, and long before the slot would free (DELAY)
    assert 0.25 <= busy[0] and busy[-1] < 1.2, out
    assert fx.requests_seen() - seen == 1
    c = lablib.parse_counters(fx.app.ctl("show ports"))
    assert c.get("queue_timeouts", 0) - c0.get("queue_timeouts", 0) == 2, c


def seq(fx, n, host):
    r = fx.app.ns_exec(fx.lab.CLI_NS, [PY, "-c", SEQ, fx.lab.APP_ADDR, str(n), host],
                       timeout=60)
    assert r.returncode == 0, f"client failed:\n{r.stdout}{r.stderr}\n{fx.app.log_tail()}"
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_breaker_opens_and_closes_after_a_trial(fx):
    out = seq(fx, 3, "brk.test")
    assert [s for s, _ in out] == [502, 502, 502], out
    time.sleep(0.1)  # a few control ticks (10 ms each)
    assert "circuit breaker: open" in fx.app.ctl("show health brk"), fx.app.ctl("show health")
    log = fx.logdir / "brk.log"
    with open(log, "wb") as f:
        be = subprocess.Popen(
            ["ip", "netns", "exec", fx.lab.BE2_NS, PY, "-u", str(HERE / "delayed.py"),
             fx.lab.BE2_ADDR, str(BRK_PORT), "0"],
            stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
    try:
        backends.wait_listening(fx.lab.BE2_NS, fx.lab.BE2_ADDR, BRK_PORT, be, "delayed.py",
                                log)
        t0 = time.monotonic()
        out = seq(fx, 5, "brk.test")
        assert [s for s, _ in out] == [503] * 5, out
        assert max(t for _, t in out) < 1.0, out
        assert "conn" not in log.read_text().split(), "open: no connection to the backend"
        assert time.monotonic() - t0 < 2.5, "the rest of the test needs the breaker open"
        c = lablib.parse_counters(fx.app.ctl("show ports"))
        assert c.get("breaker_open", 0) >= 5, c
        # open_ms (3 s from opening) is over: half-open, one trial, closed
        time.sleep(max(0.0, 3.2 - (time.monotonic() - t0)))
        out = seq(fx, 3, "brk.test")
        assert [s for s, _ in out][0] == 200, out
        time.sleep(0.1)
        assert "circuit breaker: closed" in fx.app.ctl("show health brk")
        br = json.loads(fx.app.ctl("show health brk json"))["breakers"]
        assert br[0]["service"] == "brk" and br[0]["state"] == "closed" and br[0]["opens"] == 1
        out = seq(fx, 3, "brk.test")
        assert [s for s, _ in out] == [200] * 3, out
        r = fx.app.ns_exec(fx.lab.LAB_NS, ["curl", "-sS", "--max-time", "10",
                                           "http://127.0.0.1:9190/metrics"])
        assert r.returncode == 0, r.stderr
        assert 'sluice_service_breaker_state{service="brk",state="closed"} 1' in r.stdout
        assert 'sluice_service_breaker_opens_total{service="brk"} 1' in r.stdout
    finally:
        be.kill()
        be.wait(timeout=10)
