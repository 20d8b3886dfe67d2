# SPDX-License-Identifier: BSD-3-Clause
"""sluice-load, the load generator on sluice's own TCP stack (docs/load-generator.md), against a
sluice over net_memif: what it counts is what the appliance counted, a healthy path has no
error, a closed port is counted as refused connections, idle mode holds what it opened."""

import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

import lab as lablib

LOAD = lablib.BUILD / "app" / "sluice-load"
APP_ADDR = "198.18.5.1"
LOAD_ADDR = "198.18.5.10"


def load_config(sock_dir):
    def fn(lab, socket_path):
        return f"""\
dataplane:
  eal: ["--no-huge", "-m", "512", "--no-pci"]
  workers: 1
  mbufs: 16384
  max_connections: 4096
  idle_sleep_us: 20
  ports:
    - name: lan
      device: "net_memif0,role=server,socket={sock_dir}/lan.memif,socket-abstract=no"
      address: {APP_ADDR}/24
listeners:
  - name: web
    port: 80
    routes:
      - match: {{ path_prefix: "/missing" }}
        respond: {{ status: 404, body: "no\\n" }}
      - match: {{ path_prefix: "/" }}
        respond: {{ status: 200, body: "hello\\n", content_type: "text/plain" }}
control:
  socket: {socket_path}
"""

    return fn


@pytest.fixture(scope="module")
def memif_app():
    if not LOAD.exists():
        pytest.fail(f"{LOAD} is missing: build first", pytrace=False)
    sock_dir = Path(tempfile.mkdtemp(prefix="sluice-load-"))
    try:
        with lablib.running_sluice(config_fn=load_config(sock_dir)) as app:
            app.memif = sock_dir / "lan.memif"
            yield app
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)


def run_load(app, *args, timeout=40):
    """Run sluice-load against app's memif port; returns its result lines as a dict. Its own
    response timeout is 10 s unless args set one: a healthy path on a loaded machine must not
    count a slow answer as an error."""
    if "--timeout-ms" not in args:
        args = (*args, "--timeout-ms", "10000")
    prefix = f"ldt-{secrets.token_hex(4)}"
    cmd = [LOAD, "--no-huge", "-m", "256", "--no-pci", "--no-shconf", f"--file-prefix={prefix}",
           "-l", "0", "--vdev", f"net_memif0,role=client,socket={app.memif},socket-abstract=no",
           "--", "-a", f"{LOAD_ADDR}/24", "--quiet", *args]
    try:
        r = lablib.run(cmd, timeout=timeout)
    finally:
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    assert r.returncode == 0, f"sluice-load exit {r.returncode}:\n{r.stdout}\n{r.stderr[-2000:]}"
    out = {}
    for line in r.stdout.splitlines():
        key, _, value = line.partition(" ")
        out[key] = value
    for key in ("requests/s", "errors", "total_responses", "latency_p99_us"):
        assert key in out, f"no {key} line in:\n{r.stdout}"
    return out


def delta(before, after, key):
    return after.get(key, 0) - before.get(key, 0)


def test_keepalive_counts_agree(memif_app):
    before = memif_app.counters()
    out = run_load(memif_app, "-t", f"{APP_ADDR}:80", "-c", "8", "-d", "1")
    after = memif_app.counters()
    assert int(out["errors"]) == 0 and int(out["total_errors"]) == 0, out
    assert float(out["requests/s"]) > 0
    total = int(out["total_responses"])
    assert total > 0
    # every request the generator sent was answered, and counted alike by both sides
    assert int(out["total_requests"]) == total
    assert delta(before, after, "http.requests") == total
    assert delta(before, after, "http.responses_2xx") == int(out["total_status_2xx"]) == total
    # keep-alive: one connection per slot, however many requests
    assert int(out["total_connects"]) == 8
    assert delta(before, after, "http.conns_accepted") == 8
    assert int(out["latency_p50_us"]) <= int(out["latency_p99_us"]) <= int(out["latency_max_us"]) * 2


def test_close_mode_one_connection_per_request(memif_app):
    before = memif_app.counters()
    out = run_load(memif_app, "-t", f"{APP_ADDR}:80", "-c", "4", "-d", "1", "--close")
    after = memif_app.counters()
    assert out["mode"] == "close"
    assert int(out["total_errors"]) == 0, out
    total = int(out["total_responses"])
    assert total > 0
    assert int(out["total_connects"]) == total
    assert delta(before, after, "http.conns_accepted") == total
    assert delta(before, after, "http.requests") == total


def test_status_classes_counted(memif_app):
    before = memif_app.counters()
    out = run_load(memif_app, "-t", f"{APP_ADDR}:80", "-c", "2", "-d", "0.5", "-p", "/missing")
    after = memif_app.counters()
    assert int(out["status_4xx"]) == int(out["responses"]) > 0
    assert int(out["status_2xx"]) == 0
    assert delta(before, after, "http.responses_4xx") == int(out["total_responses"])
    # a 404 is an answer, not a transport error
    assert int(out["errors"]) == 0


def test_closed_port_counts_refused_connections(memif_app):
    before = memif_app.counters()
    out = run_load(memif_app, "-t", f"{APP_ADDR}:81", "-c", "2", "-d", "0.5",
                   "--timeout-ms", "300")
    after = memif_app.counters()
    assert int(out["error_connect_refused"]) > 0, out
    assert int(out["errors"]) >= int(out["error_connect_refused"])
    assert int(out["responses"]) == 0 and int(out["total_connects"]) == 0
    assert delta(before, after, "tcp.drop_no_listener") >= int(out["error_connect_refused"])
    assert delta(before, after, "http.requests") == 0


def test_idle_mode_holds_connections(memif_app):
    before = memif_app.counters()
    out = run_load(memif_app, "-t", f"{APP_ADDR}:80", "-c", "300", "-d", "0.5", "--idle")
    after = memif_app.counters()
    assert out["mode"] == "idle"
    assert int(out["held"]) == 300 and int(out["hold_lost"]) == 0, out
    assert int(out["total_errors"]) == 0
    # one request each, then held: the appliance saw 300 connections and 300 requests
    assert delta(before, after, "http.conns_accepted") == 300
    assert delta(before, after, "http.requests") == 300
