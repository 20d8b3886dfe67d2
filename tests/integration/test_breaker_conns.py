# SPDX-License-Identifier: BSD-3-Clause
"""circuit_breaker.max_connections with a slow real backend and 2 workers (issue 11):
delayed.py answers each request after DELAY seconds and says how many it is answering at once.

- service `mc` (max_connections 2, max_pending 4) on BE1: of 5 concurrent GETs on 5 client
  connections, whichever workers they land on, 2 are served in the first round, 2 in the next
  and 1 in the third (they waited for a connection to the endpoint). At the backend, `ss`
  sampled in its namespace never shows more than 2 established connections from sluice, and
  it never answers more than 2 requests at once. show stat's server row has slim 2, and the
  limit hits are counted (show ports, Prometheus).
- service `mt` (max_connections 1, queue_timeout_ms 300) on BE2: of 3 concurrent GETs one is
  served and the 2 waiting ones get 503 after about 300 ms, never having reached the backend.
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
from test_breaker import CLIENT  # noqa: E402

HERE = Path(__file__).resolve().parent
PY = "/usr/bin/python3"
MC_PORT = 8084
MT_PORT = 8085
DELAY = 1.0


def config(lab, socket_path, workers):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 4096)}listeners:
  - name: web
    port: 80
    routes:
      - match: {{ host: "mt.test", path_prefix: "/" }}
        service: mt
      - match: {{ path_prefix: "/" }}
        service: mc
services:
  mc:
    endpoints:
      - {{ name: slow, address: {lab.BE1_ADDR}:{MC_PORT} }}
    timeouts: {{ connect_ms: 1000, response_ms: 10000 }}
    circuit_breaker: {{ max_connections: 2, max_pending: 4, queue_timeout_ms: 10000 }}
  mt:
    endpoints:
      - {{ name: slow, address: {lab.BE2_ADDR}:{MT_PORT} }}
    timeouts: {{ connect_ms: 1000, response_ms: 10000 }}
    circuit_breaker: {{ max_connections: 1, max_pending: 10, queue_timeout_ms: 300 }}
control:
  socket: {socket_path}
"""


def start_backend(lab, ns, addr, port, log):
    with open(log, "wb") as f:
        be = subprocess.Popen(["ip", "netns", "exec", ns, PY, "-u", str(HERE / "delayed.py"),
                               addr, str(port), str(DELAY)],
                              stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
    backends.wait_listening(ns, addr, port, be, "delayed.py", log)
    return be


class Fx:
    pass


@pytest.fixture(scope="module")
def fx():
    lab = lablib.Lab()
    lab.up()
    app = None
    bes = []
    logdir = Path(f"/tmp/sluice-bconns-{lab.prefix}")
    logdir.mkdir(exist_ok=True)
    try:
        f = Fx()
        f.lab, f.mc_log, f.mt_log = lab, logdir / "mc.log", logdir / "mt.log"
        bes.append(start_backend(lab, lab.BE1_NS, lab.BE1_ADDR, MC_PORT, f.mc_log))
        bes.append(start_backend(lab, lab.BE2_NS, lab.BE2_ADDR, MT_PORT, f.mt_log))
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=2, config_text=config(lab, sock, 2))
        app.start()
        f.app = app
        yield f
        lablib.stop_ok(app)
    finally:
        if app is not None:
            app.cleanup()
        for be in bes:
            if be.poll() is None:
                be.kill()
                be.wait(timeout=10)
        subprocess.run(["rm", "-rf", str(logdir)], timeout=60)
        lab.down()


def server_row(fx, svc, name="slow"):
    lines = fx.app.ctl("show stat").splitlines()
    rd = csv.DictReader(io.StringIO("\n".join([lines[0][2:]] + lines[1:])))
    return next(r for r in rd if r["pxname"] == svc and r["svname"] == name)


def established(lab, port):
    """Established TCP connections to the backend's port, seen in its namespace."""
    r = lablib.run(["ip", "netns", "exec", lab.BE1_NS, "ss", "-Htn", "state", "established",
                    f"( sport = :{port} )"], timeout=10)
    assert r.returncode == 0, r.stderr
    return len([ln for ln in r.stdout.splitlines() if ln.strip()])


def log_lines(log):
    return log.read_text().splitlines()


def test_max_connections_waits_for_a_connection(fx):
    c0 = lablib.parse_counters(fx.app.ctl("show ports"))
    mark = len(log_lines(fx.mc_log))
    cli = subprocess.Popen(["ip", "netns", "exec", fx.lab.CLI_NS, PY, "-c", CLIENT,
                            fx.lab.APP_ADDR, "5", "mc.test"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    most, deadline = 0, time.monotonic() + 30
    try:
        while cli.poll() is None and time.monotonic() < deadline:
            most = max(most, established(fx.lab, MC_PORT))
            time.sleep(0.05)
        stdout, stderr = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(timeout=10)
    assert cli.returncode == 0, f"client failed:\n{stdout}{stderr}\n{fx.app.log_tail()}"
    out = json.loads(stdout.strip().splitlines()[-1])
    assert all(o is not None for o in out), out
    ok = sorted(t for s, t in out if s == 200)
    assert len(ok) == 5, out
    # three rounds of DELAY: 2 at once, 2 when those end, 1 after that
    dbg = {k: v for k, v in lablib.parse_counters(fx.app.ctl("show ports")).items()
           if k.startswith("total.http") and v}
    assert ok[1] < 2 * DELAY - 0.2 and ok[2] >= 2 * DELAY - 0.2, (out, dbg)
    assert ok[3] < 3 * DELAY - 0.2 and ok[4] >= 3 * DELAY - 0.2, (out, dbg)
    assert 1 <= most <= 2, f"{most} connections reached the endpoint (max_connections 2)"
    lines = log_lines(fx.mc_log)[mark:]
    inflight = [int(ln.split()[1]) for ln in lines if ln.startswith("inflight ")]
    assert len(inflight) == 5 and max(inflight) == 2, lines
    row = server_row(fx, "mc")
    assert row["slim"] == "2" and 0 < int(row["scur"]) <= 2, row
    be = server_row(fx, "mc", "BACKEND")
    assert be["qcur"] == "0" and be["qmax"] == "3" and be["slim"] == "", be
    c = lablib.parse_counters(fx.app.ctl("show ports"))
    # 3 waited (queue_waits); the first to meet the limit waited for a connection, those
    # behind it queued behind it
    d = {k: c.get(k, 0) - c0.get(k, 0) for k in ("conn_limit_waits", "queue_waits")}
    assert d["conn_limit_waits"] >= 1 and d["queue_waits"] == 3, d
    assert c.get("queue_timeouts", 0) == c0.get("queue_timeouts", 0), c
    r = fx.app.ns_exec(fx.lab.LAB_NS, ["curl", "-sS", "--max-time", "10",
                                       "http://127.0.0.1:9190/metrics"])
    assert r.returncode == 0, r.stderr
    hits = [ln for ln in r.stdout.splitlines()
            if ln.startswith('sluice_endpoint_conn_limited_total{service="mc"')]
    assert hits and int(hits[0].split()[-1]) >= 1, hits
    cur = [ln for ln in r.stdout.splitlines()
           if ln.startswith('sluice_endpoint_connections_current{service="mc"')]
    assert cur and 0 < int(cur[0].split()[-1]) <= 2, cur


def test_max_connections_queue_timeout(fx):
    c0 = lablib.parse_counters(fx.app.ctl("show ports"))
    seen = sum(1 for ln in log_lines(fx.mt_log) if ln.startswith("req "))
    r = fx.app.ns_exec(fx.lab.CLI_NS, [PY, "-c", CLIENT, fx.lab.APP_ADDR, "3", "mt.test"],
                       timeout=60)
    assert r.returncode == 0, f"client failed:\n{r.stdout}{r.stderr}\n{fx.app.log_tail()}"
    out = json.loads(r.stdout.strip().splitlines()[-1])
    ok = [t for s, t in out if s == 200]
    busy = sorted(t for s, t in out if s == 503)
    dbg = {k: v for k, v in lablib.parse_counters(fx.app.ctl("show ports")).items()
           if k.startswith("total.http") and v}
    assert len(ok) == 1 and len(busy) == 2, (out, dbg)
    # queue_timeout_ms 300: they waited (not 503 at once), and got 503 rather than the
    # connection, which frees after DELAY (a worker thread the host preempts arms its timer
    # from the loop's start, so the lower bound allows for that)
    assert 0.1 <= busy[0] and busy[-1] < 1.5 * DELAY, json.dumps([out, dbg])
    assert sum(1 for ln in log_lines(fx.mt_log) if ln.startswith("req ")) - seen == 1
    c = lablib.parse_counters(fx.app.ctl("show ports"))
    assert c.get("queue_timeouts", 0) - c0.get("queue_timeouts", 0) == 2, c
    d = {k: c.get(k, 0) - c0.get(k, 0) for k in ("conn_limit_waits", "queue_waits")}
    assert d["conn_limit_waits"] >= 1 and d["queue_waits"] == 2, d
