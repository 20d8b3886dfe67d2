# SPDX-License-Identifier: BSD-3-Clause
"""Health as operators drive and see it, with three nginx backends (backends.py) and two
workers: `set server ... health` takes an endpoint out of (and back into) every worker's
balancer, show stat / show servers state / show health report it, the transition is logged
in HAProxy's words, the state survives a reload that keeps the endpoint, and with every
endpoint down requests get 503 at once. Active probes and passive detection need the worker
side (dataplane/check/, the proxy's outcome counters) and are tested with it.
"""
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import backends  # noqa: E402
import lab as lablib  # noqa: E402

HERE = Path(__file__).resolve().parent
HELPER = HERE / "backends.py"
PY = "/usr/bin/python3"
PORT = 8080
WORKERS = 2


def config(lab, sock):
    eps = "\n".join(f"      - {{ name: {n}, address: {a}:{PORT} }}" for n, a in
                    (("be1", lab.BE1_ADDR), ("be2", lab.BE2_ADDR), ("be3", lab.BE3_ADDR)))
    return f"""\
{lablib.dataplane_yaml(lab, WORKERS, 16384, 4096)}listeners:
  - name: web
    port: 80
    routes:
      - match: {{ path_prefix: "/" }}
        service: app
services:
  app:
    balance: round_robin
    endpoints:
{eps}
    timeouts: {{ connect_ms: 1000, response_ms: 20000 }}
control:
  socket: {sock}
"""


@pytest.fixture(scope="module")
def px():
    lab = lablib.Lab()
    lab.up()
    app = None
    started = []
    docroot = Path(tempfile.mkdtemp(prefix=f"sluice-docroot-{lab.prefix}-"))
    try:
        bes = backends.start_nginxes(lab, 3, PORT, docroot, started)
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=WORKERS, config_text=config(lab, sock))
        app.start()
        app.bes = bes
        yield app
        lablib.stop_ok(app)
    finally:
        lablib.teardown(lab, app, started, docroot)


def get(px, n, path):
    """n GETs over one keep-alive connection: (Counter of statuses, seconds taken)."""
    t = time.monotonic()
    r = px.ns_exec(px.lab.CLI_NS, [PY, str(HELPER), "keepalive", px.lab.APP_ADDR, "80", str(n),
                                   path], timeout=120)
    assert r.returncode == 0, f"{r.stdout}{r.stderr}\n{px.log_tail()}"
    return Counter(s for s, _ in json.loads(r.stdout)["responses"]), time.monotonic() - t


def served(px, prefix):
    return {b.name: len(b.entries(prefix)) for b in px.bes}


def stat(px):
    lines = px.ctl("show stat").splitlines()
    names = lines[0][2:].split(",")
    return {f[1]: dict(zip(names, f)) for f in (ln.split(",") for ln in lines[1:])
            if len(f) > 2 and f[0] == "app"}


def state_line(px, name):
    for ln in px.ctl("show servers state app").splitlines():
        f = ln.split()
        if len(f) > 5 and f[3] == name:
            return f
    raise AssertionError(f"no {name} in show servers state")


def test_health_down_takes_the_endpoint_out_and_up_brings_it_back(px):
    t = uuid.uuid4().hex[:10]
    assert px.ctl("set server app/be2 health down").strip() == ""
    st = stat(px)
    assert st["be2"]["status"] == "DOWN" and st["BACKEND"]["act"] == "2", st["be2"]
    assert state_line(px, "be2")[5] == "0"  # srv_op_state stopped
    codes, _ = get(px, 30, f"/down-{t}")
    assert codes == {200: 30}
    got = served(px, f"/down-{t}")
    assert got["be2"] == 0 and got["be1"] + got["be3"] == 30, got
    health = px.ctl("show health app/be2")
    assert "state: DOWN" in health and "serving: no: DOWN" in health, health
    assert "changed from CLI" in health, health
    assert "Server app/be2 is DOWN, changed from CLI. 2 active and 0 backup servers left." \
        in px.log.read_text(errors="replace"), px.log_tail()

    assert px.ctl("set server app/be2 health up").strip() == ""
    assert stat(px)["be2"]["status"] == "UP"
    assert state_line(px, "be2")[5] == "2"
    codes, _ = get(px, 30, f"/up-{t}")
    assert codes == {200: 30}
    assert served(px, f"/up-{t}")["be2"] > 0
    assert "Server app/be2 is UP, changed from CLI." in px.log.read_text(errors="replace")


def test_stopping_takes_no_new_requests(px):
    t = uuid.uuid4().hex[:10]
    assert px.ctl("set server app/be3 health stopping").strip() == ""
    assert stat(px)["be3"]["status"] == "NOLB"
    codes, _ = get(px, 20, f"/nolb-{t}")
    assert codes == {200: 20}
    assert served(px, f"/nolb-{t}")["be3"] == 0
    assert px.ctl("set server app/be3 health up").strip() == ""


def test_health_survives_a_reload_that_keeps_the_endpoint(px):
    t = uuid.uuid4().hex[:10]
    assert px.ctl("set server app/be1 health down").strip() == ""
    r = px.ctl_run(["reload"])
    assert r.returncode == 0 and r.stdout.strip() == "", r
    assert stat(px)["be1"]["status"] == "DOWN"
    codes, _ = get(px, 20, f"/reload-{t}")
    assert codes == {200: 20}
    assert served(px, f"/reload-{t}")["be1"] == 0
    assert px.ctl("set server app/be1 health up").strip() == ""


def test_all_down_answers_503_at_once(px):
    t = uuid.uuid4().hex[:10]
    for n in ("be1", "be2", "be3"):
        assert px.ctl(f"set server app/{n} health down").strip() == ""
    assert stat(px)["BACKEND"]["status"] == "DOWN"
    assert "no healthy endpoint, requests get 503" in px.ctl("show health app")
    codes, took = get(px, 20, f"/none-{t}")
    assert codes == {503: 20}
    # one connect timeout each would take 20 s; at once, the helper's start dominates
    assert took < 5, took
    assert served(px, f"/none-{t}") == {"be1": 0, "be2": 0, "be3": 0}
    for n in ("be1", "be2", "be3"):
        assert px.ctl(f"set server app/{n} health up").strip() == ""
    codes, _ = get(px, 6, f"/back-{t}")
    assert codes == {200: 6}


def test_show_health_json_and_errors(px):
    j = json.loads(px.ctl("show health app json"))
    assert [e["endpoint"] for e in j["endpoints"]] == ["be1", "be2", "be3"]
    assert all(e["status"] == "UP" and e["checks"] is False for e in j["endpoints"]), j
    r = px.ctl_run(["set", "server", "app/be1", "health", "sideways"])
    assert r.returncode == 1 and r.stdout.startswith("error: "), r
    r = px.ctl_run(["enable", "health", "app/be1"])
    assert r.returncode == 1 and "not configured" in r.stdout, r
