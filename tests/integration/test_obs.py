# SPDX-License-Identifier: BSD-3-Clause
"""Latency histograms, show stat's times, the access log, and graceful shutdown.

A service `app` in front of a real nginx (backends.py) and direct-response routes. Metrics are
scraped and parsed strictly (test_metrics.parse_exposition, histograms included); the access
log (control.access_log) is read from the file control writes. The shutdown test runs its own
appliance, since it ends it.
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402
import lab as lablib  # noqa: E402
from test_metrics import METRICS_PORT, parse_exposition, scrape  # noqa: E402

PY = "/usr/bin/python3"
N = 20
GEN_BYTES = 4 << 20  # generated body of the shutdown test: far more than the windows hold
FAMS = ("sluice_service_request_duration_seconds", "sluice_service_connect_duration_seconds",
        "sluice_service_first_byte_duration_seconds")
LOG_RE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\d+\.\d+\.\d+\.\d+):(\d+) (\S+) (\S+) (\S+) "
    r"(\S+) (\S+) (\S+) (\S+) (\d+) (\d+) (\S+) (\S+) (\S+) (\S+) (done|abort)$")
MS_RE = re.compile(r"^(-|\d+\.\d{3})$")


def obs_config(lab, socket_path, workers, access_log):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 8192, 1024)}listeners:
  - name: web
    port: 80
    routes:
      - match: {{ path_prefix: "/app" }}
        service: app
      - match: {{ path_prefix: "/gen" }}
        respond: {{ status: 200, bytes: {GEN_BYTES} }}
      - match: {{ path_prefix: "/hello" }}
        respond: {{ status: 200, body: "hello\\n" }}
services:
  app:
    endpoints:
      - {{ name: be1, address: {lab.BE1_ADDR}:8080 }}
control:
  socket: {socket_path}
  metrics: "127.0.0.1:{METRICS_PORT}"
  access_log: "{access_log}"
"""


class Obs:
    def __init__(self, app, nginx, access_log):
        self.app, self.nginx, self.access_log = app, nginx, access_log
        self.lab = app.lab


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def obs(request):
    lab = lablib.Lab()
    lab.up()
    app = nginx = None
    docroot = Path(tempfile.mkdtemp(prefix=f"sluice-obs-{lab.prefix}-"))
    try:
        nginx = backends.Nginx(lab.BE1_NS, "be1", lab.BE1_ADDR, 8080, docroot)
        nginx.start()
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        access_log = docroot / "access.log"
        app = lablib.Sluice(lab, workers=request.param,
                            config_text=obs_config(lab, sock, request.param, access_log))
        app.start()
        yield Obs(app, nginx, access_log)
        lablib.stop_ok(app)
    finally:
        lablib.teardown(lab, app, [nginx], docroot)


def metrics(app):
    status, body = scrape(app)
    assert status == 200, body
    return parse_exposition(body if body.endswith("\n") else body + "\n")


def hist(fams, family, service, suffix, le=None):
    for lbl, v in fams[family]["samples"]:
        if lbl.get("service") == service and lbl["__suffix__"] == suffix and \
                (le is None or lbl.get("le") == le):
            return v
    raise AssertionError(f"{family}{suffix}{{service={service!r}, le={le!r}}} missing")


def curl(app, paths):
    """One curl, one keep-alive connection, one request per path: the status codes."""
    args = []
    for p in paths:
        args += ["-o", "/dev/null", f"http://{app.lab.APP_ADDR}{p}"]
    r = app.ns_exec(app.lab.CLI_NS, ["curl", "-sS", "--max-time", "30", "-w", "%{http_code}\n",
                                     *args], timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def log_lines(obs, at_least):
    """The access log's lines once it holds at_least of them (control writes every 10 ms)."""
    deadline = time.monotonic() + 10
    while True:
        text = obs.access_log.read_text() if obs.access_log.exists() else ""
        lines = text.splitlines()
        if len(lines) >= at_least or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


# ---- histograms ----

def test_histograms_count_proxied_requests(obs):
    before = metrics(obs.app)
    assert curl(obs.app, [f"/app/h{i}" for i in range(N)]) == ["200"] * N
    after = metrics(obs.app)
    for fam in FAMS:
        assert after[fam]["type"] == "histogram"
        les = [lbl["le"] for lbl, _ in after[fam]["samples"]
               if lbl["__suffix__"] == "_bucket" and lbl["service"] == "app"]
        assert 2 <= len(les) <= 40, f"{fam}: a bounded number of buckets, got {len(les)}"

    def delta(fam, suffix="_count", le=None):
        return hist(after, fam, "app", suffix, le) - hist(before, fam, "app", suffix, le)

    assert delta(FAMS[0]) == N
    assert delta(FAMS[2]) == N  # every response came from the endpoint
    # one curl, one client connection: the upstream connection is reused (one handshake per
    # worker that served the requests at most)
    assert 1 <= delta(FAMS[1]) <= obs.app.workers
    assert delta(FAMS[0], "_bucket", "+Inf") == N
    assert delta(FAMS[0], "_sum") > 0
    # the total includes the time to the first byte
    assert hist(after, FAMS[0], "app", "_sum") >= hist(after, FAMS[2], "app", "_sum")


def test_show_stat_times(obs):
    assert curl(obs.app, ["/app/t"]) == ["200"]
    text = obs.app.ctl("show stat")
    lines = text.splitlines()
    cols = lines[0][2:].split(",")
    rows = [dict(zip(cols, ln.split(","))) for ln in lines[1:]]
    for sv in ("BACKEND", "be1"):
        row = next(r for r in rows if r["pxname"] == "app" and r["svname"] == sv)
        for c in ("ctime", "rtime", "ttime", "ctime_max", "rtime_max", "ttime_max"):
            assert re.fullmatch(r"\d+", row[c]), f"{sv} {c}={row[c]!r}"
        assert int(row["ttime_max"]) >= int(row["ttime"])
        assert int(row["rtime_max"]) >= int(row["rtime"])
    fe = next(r for r in rows if r["svname"] == "FRONTEND")
    assert fe["ttime"] == ""


# ---- access log ----

def test_access_log_lines(obs):
    start = len(log_lines(obs, 0))
    paths = [f"/app/log{i}" for i in range(5)] + ["/hello?x=1"] * 3 + ["/nowhere"] * 2
    codes = curl(obs.app, paths)
    assert codes == ["200"] * 8 + ["404"] * 2
    lines = log_lines(obs, start + len(paths))[start:]
    assert len(lines) == len(paths), "\n".join(lines)
    parsed = []
    for ln in lines:
        m = LOG_RE.match(ln)
        assert m, f"malformed access-log line: {ln!r}"
        parsed.append(m.groups())
    # one connection: one client port, the requests in order
    assert len({p[2] for p in parsed}) == 1
    assert [p[7] for p in parsed] == paths
    assert [p[8] for p in parsed] == codes
    for p in parsed:
        assert p[1] == obs.lab.CLI_ADDR
        assert p[3] == "web" and p[4] in ("0", "1", "2", "-") and p[5] == "GET"
        assert all(MS_RE.match(t) for t in p[12:16]), p
        assert p[16] == "done"
        assert int(p[11]) > 0  # bytes out
        assert int(p[10]) > 0  # bytes in
    proxied, direct, missing = parsed[:5], parsed[5:8], parsed[8:]
    assert all(p[9] == "app/be1" and p[4] == "0" and p[14] != "-" for p in proxied)
    assert all(p[9] == "-" and p[4] == "2" and p[13] == "-" and p[14] == "-" for p in direct)
    assert all(p[9] == "-" and p[4] == "-" for p in missing)
    # the response body of a direct route: the head and "hello\n"
    assert all(int(p[11]) > 6 for p in direct)


def test_access_log_reopens_on_sighup(obs):
    log_lines(obs, 0)
    rotated = obs.access_log.with_suffix(".1")
    obs.access_log.rename(rotated)
    obs.app.send_signal(__import__("signal").SIGHUP)
    deadline = time.monotonic() + 10
    while not obs.access_log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert obs.access_log.exists(), "SIGHUP did not reopen the access log"
    assert curl(obs.app, ["/hello"]) == ["200"]
    lines = log_lines(obs, 1)
    assert len(lines) == 1 and " /hello 200 " in lines[0], lines
    rotated.unlink()


def test_access_log_dropped_counter_exists(obs):
    assert obs.app.counter("http.access_log_dropped") == 0


def test_probe_counters_and_reserve_are_visible(obs):
    """Health probes (docs/health.md): their counter group in show ports and Prometheus, and
    their TCB reserve in show pools, apart from the traffic pool; idle while no check runs."""
    assert curl(obs.app, ["/app/"]) == ["200"]  # traffic takes nothing from the reserve
    for name in ("received", "started", "l4ok", "l7ok", "skipped", "no_tcb"):
        assert obs.app.counter(f"probe.{name}") == 0
    pools = lablib.show_pools(obs.app)
    for w in range(obs.app.workers):
        assert pools[f"worker{w}.mem.probe_tcbs_max"] == 16  # max(16, 1024 / 64)
        assert pools[f"worker{w}.mem.probe_slots_max"] == 16
        assert pools[f"worker{w}.mem.probe_tcbs_hwm"] == 0
        assert pools[f"worker{w}.mem.probe_tcb_pool_bytes"] == 16 * pools["mem.tcb_bytes"]
    fams = metrics(obs.app)
    assert "sluice_probe_l4ok_total" in fams and "sluice_probe_sockerr_total" in fams
    reserve = {lbl["worker"]: v for lbl, v in fams["sluice_tcp_probe_conns_max"]["samples"]}
    assert reserve == {str(w): 16 for w in range(obs.app.workers)}


# ---- graceful shutdown ----

SLOW_CLIENT = r"""
import json, socket, sys
host, size = sys.argv[1], int(sys.argv[2])
idle = socket.create_connection((host, 80), timeout=20)
idle.sendall(b"GET /hello HTTP/1.1\r\nHost: lab\r\n\r\n")
got = b""
while b"hello\n" not in got:
    got += idle.recv(4096)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.settimeout(20)
s.connect((host, 80))
s.sendall(b"GET /gen HTTP/1.1\r\nHost: lab\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(65536)
head, body = buf.split(b"\r\n\r\n", 1)
n = len(body)
while n < 65536:
    n += len(s.recv(65536))
print("started", flush=True)
sys.stdin.readline()
ok = True
period = bytes(range(97, 123))
while n < size:
    c = s.recv(65536)
    if not c:
        break
    n += len(c)
eof = s.recv(1) == b""
idle.settimeout(20)
idle_eof = idle.recv(1) == b""
print(json.dumps({"body": n, "eof": eof, "idle_closed": idle_eof,
                  "close_hdr": b"connection: close" in head.lower()}), flush=True)
"""


def test_graceful_shutdown_lets_the_response_finish():
    lab = lablib.Lab()
    lab.up()
    app = None
    tmp = Path(tempfile.mkdtemp(prefix=f"sluice-shut-{lab.prefix}-"))
    try:
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=2, config_text=obs_config(lab, sock, 2,
                                                                  tmp / "access.log"))
        app.start()
        cli = subprocess.Popen(["ip", "netns", "exec", lab.CLI_NS, PY, "-c", SLOW_CLIENT,
                                lab.APP_ADDR, str(GEN_BYTES)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        try:
            assert cli.stdout.readline().strip() == "started", cli.stderr.read()
            assert app.ctl("shutdown 5000").strip() == "shutting down"
            # a new connection is refused once the command answered
            r = lab.ns_exec(lab.CLI_NS, ["curl", "-sS", "--max-time", "5", "-o", "/dev/null",
                                         f"http://{lab.APP_ADDR}/hello"])
            assert r.returncode == 7, f"curl: {r.returncode} {r.stderr}"
            out, err = cli.communicate("go\n", timeout=60)
        finally:
            if cli.poll() is None:
                cli.kill()
        res = json.loads(out.strip().splitlines()[-1])
        assert res["body"] == GEN_BYTES, (res, err)
        assert res["eof"], "the connection closes after the response"
        assert res["idle_closed"], "the idle keep-alive connection is closed"
        assert app.proc.wait(timeout=30) == 0, app.log_tail()
        log = app.log.read_text()
        assert "sluice: shutting down" in log and "cut" not in log, log
        lines = (tmp / "access.log").read_text().splitlines()
        assert any(" /gen 200 " in ln and ln.endswith(" done") for ln in lines), lines
    finally:
        if app is not None:
            app.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
        lab.down()



def test_histograms_follow_a_reload(obs):
    """A service added by reload gets its own histograms; the running one keeps its counts."""
    app = obs.app
    original = app.conf.read_text()
    app_route = '      - match: { path_prefix: "/app" }'
    added = original.replace(
        app_route, '      - match: { path_prefix: "/bsvc" }\n        service: bsvc\n' + app_route,
        1).replace(
        "services:\n", f"services:\n  bsvc:\n    endpoints:\n"
        f"      - {{ name: be1, address: {app.lab.BE1_ADDR}:8080 }}\n", 1)
    assert added != original and "bsvc:" in added
    before = metrics(app)
    try:
        app.conf.write_text(added)
        assert app.ctl("reload").strip() == "", app.log_tail()
        assert curl(app, [f"/bsvc/r{i}" for i in range(N)]) == ["200"] * N
        after = metrics(app)
        assert hist(after, FAMS[0], "bsvc", "_count") == N
        assert hist(after, FAMS[0], "app", "_count") == hist(before, FAMS[0], "app", "_count")
    finally:
        app.conf.write_text(original)
        assert app.ctl("reload").strip() == "", app.log_tail()
    gone = metrics(app)
    assert not any(lbl.get("service") == "bsvc" for lbl, _ in gone[FAMS[0]]["samples"])
