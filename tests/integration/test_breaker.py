# SPDX-License-Identifier: BSD-3-Clause
"""circuit_breaker's appliance-wide limits with a slow real backend and 2 workers (issue 11):
delayed.py answers each request after DELAY seconds.

- service `lim` (max_requests 2, max_pending 2): of 8 concurrent GETs, 2 are served at once,
  2 wait and are served when those end, and 4 get 503 at once (well before DELAY); the
  backend sees 4 requests only, however the clients' connections spread over the workers.
- service `tmo` (max_requests 1, queue_timeout_ms 300): of 3 concurrent GETs one is served
  and the 2 waiting ones get 503 after about 300 ms, never having reached the backend.
"""

import csv
import io
import json
import subprocess
import sys
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


def config(lab, socket_path, workers):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 4096)}listeners:
  - name: web
    port: 80
    routes:
      - match: {{ host: "tmo.test", path_prefix: "/" }}
        service: tmo
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
        yield Fx(app, log)
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
    out = burst(fx, 8, "lim.test")
    ok = sorted(t for s, t in out if s == 200)
    busy = sorted(t for s, t in out if s == 503)
    assert len(ok) == 4 and len(busy) == 4, out
    # the 503s are at once: well before the first response could free a slot
    assert busy[-1] < DELAY / 3, out
    # two served in one round, two in the next (they waited for a slot)
    assert ok[1] < 2 * DELAY - 0.2 and ok[2] >= 2 * DELAY - 0.2, out
    assert fx.requests_seen() - seen == 4
    row = backend_row(fx, "lim")
    assert row["slim"] == "2" and row["qcur"] == "0" and row["qmax"] == "2", row
    c = lablib.parse_counters(fx.app.ctl("show ports"))
    assert c.get("queue_full", 0) == 4 and c.get("queue_waits", 0) >= 2, c


def test_queue_timeout(fx):
    seen = fx.requests_seen()
    out = burst(fx, 3, "tmo.test")
    ok = [t for s, t in out if s == 200]
    busy = sorted(t for s, t in out if s == 503)
    assert len(ok) == 1 and len(busy) == 2, out
    # queue_timeout_ms 300: not before, and long before the slot would free (DELAY)
    assert 0.25 <= busy[0] and busy[-1] < 1.2, out
    assert fx.requests_seen() - seen == 1
    c = lablib.parse_counters(fx.app.ctl("show ports"))
    assert c.get("queue_timeouts", 0) == 2, c
