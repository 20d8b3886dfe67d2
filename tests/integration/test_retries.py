# SPDX-License-Identifier: BSD-3-Clause
"""Retries with real backends (issue 10): no client notices a backend that refuses
connections or that closes its keep-alive connections as sluice reuses them.

- service `two`: nginx on BE1_ADDR:8080 and BE3_ADDR:8089, where nothing listens (the kernel
  answers RST to the SYN). Every GET of a keep-alive loop succeeds, and show stat's wretr and
  wredis count the retries.
- service `ka`: kaclose.py on BE2_ADDR:8081, which answers each request keep-alive and then
  closes the connection at once (FIN on even connections, RST on odd ones): sluice pools the
  connection and the next request races the close. The keep-alive race is retried once on a
  fresh connection whatever retries.on says, so every GET of several clients succeeds.

With one worker and with two (the retry budget is per worker); time bounds only catch hangs.
"""

import csv
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402
import lab as lablib  # noqa: E402

HERE = Path(__file__).resolve().parent
PY = "/usr/bin/python3"
NGINX_PORT = 8080
CLOSED_PORT = 8089
KA_PORT = 8081
N = 60


def config(lab, socket_path, workers):
    retries = "    retries: { count: 2, on: [connect-failure, empty-response, reset] }\n"
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 4096)}listeners:
  - name: web
    port: 80
    routes:
      - match: {{ host: "two.test", path_prefix: "/" }}
        service: two
      - match: {{ host: "ej.test", path_prefix: "/" }}
        service: ej
      - match: {{ path_prefix: "/" }}
        service: ka
services:
  two:
    balance: round_robin
    endpoints:
      - {{ name: up, address: {lab.BE1_ADDR}:{NGINX_PORT} }}
      - {{ name: closed, address: {lab.BE3_ADDR}:{CLOSED_PORT} }}
    timeouts: {{ connect_ms: 1000, response_ms: 5000 }}
    # retries alone: outlier detection would eject the closed endpoint after 5 refusals
    outlier_detection: {{ consecutive_5xx: 0, consecutive_gateway_failure: 0 }}
{retries}  ej:
    balance: round_robin
    endpoints:
      - {{ name: up, address: {lab.BE1_ADDR}:{NGINX_PORT} }}
      - {{ name: closed, address: {lab.BE3_ADDR}:{CLOSED_PORT} }}
    timeouts: {{ connect_ms: 1000, response_ms: 5000 }}
    outlier_detection: {{ consecutive_gateway_failure: 3, base_ejection_ms: 60000 }}
{retries}  ka:
    endpoints:
      - {{ name: k1, address: {lab.BE2_ADDR}:{KA_PORT} }}
    pool: {{ max_idle_per_endpoint: 16, idle_timeout_ms: 10000 }}
    timeouts: {{ connect_ms: 1000, response_ms: 5000 }}
control:
  socket: {socket_path}
"""


class Fx:
    def __init__(self, app, ka_log):
        self.app, self.ka_log = app, ka_log
        self.lab = app.lab


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def fx(request):
    lab = lablib.Lab()
    lab.up()
    app = nginx = ka = None
    docroot = Path(tempfile.mkdtemp(prefix=f"sluice-retries-{lab.prefix}-"))
    ka_log = docroot / "kaclose.log"
    try:
        nginx = backends.Nginx(lab.BE1_NS, "up", lab.BE1_ADDR, NGINX_PORT, docroot)
        nginx.start()
        with open(ka_log, "wb") as log:
            ka = subprocess.Popen(
                ["ip", "netns", "exec", lab.BE2_NS, PY, "-u", str(HERE / "kaclose.py"),
                 lab.BE2_ADDR, str(KA_PORT)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        backends.wait_listening(lab.BE2_NS, lab.BE2_ADDR, KA_PORT, ka, "kaclose.py", ka_log)
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=request.param,
                            config_text=config(lab, sock, request.param))
        app.start()
        yield Fx(app, ka_log)
        lablib.stop_ok(app)
    finally:
        if app is not None:
            app.cleanup()
        if ka is not None and ka.poll() is None:
            ka.kill()
            ka.wait(timeout=10)
        if nginx is not None:
            nginx.cleanup()
        subprocess.run(["rm", "-rf", str(docroot)], timeout=60)
        lab.down()


def keepalive(fx, n, host, timeout=120):
    """n GETs over one keep-alive client connection; [(status, body)]."""
    r = fx.app.ns_exec(fx.lab.CLI_NS, [PY, str(HERE / "backends.py"), "keepalive",
                                       fx.lab.APP_ADDR, "80", str(n), "/", host],
                       timeout=timeout)
    assert r.returncode == 0, f"client failed:\n{r.stdout}{r.stderr}\n{fx.app.log_tail()}"
    return json.loads(r.stdout.strip().splitlines()[-1])["responses"]


def stat_rows(fx):
    text = fx.app.ctl("show stat")
    lines = text.splitlines()
    assert lines and lines[0].startswith("# "), text
    rd = csv.DictReader(io.StringIO("\n".join([lines[0][2:]] + lines[1:])))
    return {(r["pxname"], r["svname"]): r for r in rd}


def test_refused_endpoint_every_get_succeeds(fx):
    before = lablib.parse_counters(fx.app.ctl("show ports")).get("retries", 0)
    out = keepalive(fx, N, "two.test")
    bad = [s for s, _ in out if s != 200]
    assert not bad, f"{len(bad)} of {N} GETs failed: {bad[:5]}"
    rows = stat_rows(fx)
    be = rows[("two", "BACKEND")]
    closed = rows[("two", "closed")]
    # round robin hands every other first try (at least) to the closed endpoint
    assert int(be["wretr"]) >= N // 2, be
    assert int(be["wredis"]) == int(be["wretr"]), "each retry went to the other endpoint"
    assert int(closed["wretr"]) == int(be["wretr"]), closed
    assert int(closed["econ"]) >= N // 2, closed
    after = lablib.parse_counters(fx.app.ctl("show ports")).get("retries", 0)
    assert after - before == int(be["wretr"])


def test_refused_endpoint_is_ejected_after_a_few_failures(fx):
    """With outlier detection on, the refusing endpoint leaves the balancer after
    consecutive_gateway_failure refusals (3 here), seen by control within a tick: the
    retries stop well before one per two requests, and none follow while it is out."""
    out = keepalive(fx, 4 * N, "ej.test")
    bad = [s for s, _ in out if s != 200]
    assert not bad, f"{len(bad)} of {N} GETs failed: {bad[:5]}"
    rows = stat_rows(fx)
    be = rows[("ej", "BACKEND")]
    # 3 refusals eject it; requests picked before control's next tick (10 ms) may still
    # try it, a handful per worker at this rate, never N / 2
    first = int(be["wretr"])
    # without ejection every other request would retry (2 N here); control sees the runs
    # every 10 ms tick, so a loaded machine may let a few dozen through, never 2 N
    assert 3 <= first <= 2 * N // 3, (first, fx.app.ctl("show health ej/closed"))
    health = fx.app.ctl("show health ej/closed")
    assert "ejected: yes" in health, health
    # ejected for base_ejection_ms (60 s): the next requests never try it
    out = keepalive(fx, N, "ej.test")
    assert all(s == 200 for s, _ in out)
    assert int(stat_rows(fx)[("ej", "BACKEND")]["wretr"]) == first


def test_keepalive_race_no_client_error(fx):
    procs = []
    for _ in range(3):
        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", fx.lab.CLI_NS, PY, str(HERE / "backends.py"), "keepalive",
             fx.lab.APP_ADDR, "80", str(N), "/", "ka.test"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, f"client failed:\n{out}{err}\n{fx.app.log_tail()}"
        results.extend(json.loads(out.strip().splitlines()[-1])["responses"])
    bad = [s for s, _ in results if s != 200]
    assert not bad, f"{len(bad)} of {len(results)} GETs failed: {bad[:5]}"
    assert all(b.startswith("kaclose ") for _, b in results)
    c = lablib.parse_counters(fx.app.ctl("show ports"))
    # sluice did reuse connections the backend was closing, and retried those it lost
    assert c.get("upstream_reused", 0) > 0, c
    print("reused", c.get("upstream_reused"), "races", c.get("retry_keepalive_race"),
          "retries", c.get("retries"))
