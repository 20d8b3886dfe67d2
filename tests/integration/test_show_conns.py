# SPDX-License-Identifier: BSD-3-Clause
"""show conns [N] [json]: every worker lists its client connections over its control ring.

A client (conns_client.py) holds three keep-alive connections that each had one direct
response, and one connection whose request went to a backend that never answers (faults.py's
/silent, on BE1_ADDR:8070, response_ms far above the test's length). `show conns` must list
each of them exactly once with its client address and port, its state (idle, or waiting for
the response with the method, the target, the service, the endpoint and the local port of
the upstream connection), its worker's totals must add up, N must limit the lines, a bad N
must be an error, and the JSON form must parse and say the same. With 1 and 2 workers.
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
CLIENT = HERE / "conns_client.py"
PY = "/usr/bin/python3"
FAULT_PORT = 8070
N_IDLE = 3
STALL_PATH = "/silent/conns?q=1"
HANG_BOUND_S = 15  # a bound against hanging, not a speed check


def conns_config(lab, socket_path, workers, access_log):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 1024)}listeners:
  - name: web
    port: 80
    limits: {{ header_timeout_ms: 30000, idle_timeout_ms: 120000 }}
    routes:
      - match: {{ host: "stall.test", path_prefix: "/" }}
        service: stall
      - match: {{ path_prefix: "/" }}
        respond: {{ status: 200, body: "direct\\n" }}
services:
  stall:
    endpoints:
      - {{ name: f1, address: {lab.BE1_ADDR}:{FAULT_PORT} }}
    timeouts: {{ connect_ms: 2000, response_ms: 120000 }}
control:
  socket: {socket_path}
  access_log: "{access_log}"
"""


class Held:
    def __init__(self, app, client, idle, stalled):
        self.app, self.client, self.idle, self.stalled = app, client, idle, stalled


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def held(request):
    lab = lablib.Lab()
    lab.up()
    app = fault = client = None
    tmp = Path(tempfile.mkdtemp(prefix=f"sluice-conns-{lab.prefix}-"))
    fault_log = tmp / "faults.log"
    try:
        with open(fault_log, "wb") as log:
            fault = subprocess.Popen(
                ["ip", "netns", "exec", lab.BE1_NS, PY, "-u", str(FAULTS), "server",
                 lab.BE1_ADDR, str(FAULT_PORT)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        backends.wait_listening(lab.BE1_NS, lab.BE1_ADDR, FAULT_PORT, fault, "faults.py",
                                fault_log)
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=request.param,
                            config_text=conns_config(lab, sock, request.param,
                                                     tmp / "access.log"))
        app.start()
        client = subprocess.Popen(
            ["ip", "netns", "exec", lab.CLI_NS, PY, "-u", str(CLIENT), lab.APP_ADDR, "80",
             str(N_IDLE), "stall.test", STALL_PATH],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = lablib.json_line(client, 30, "conns_client")
        h = Held(app, client, [tuple(a) for a in ready["idle"]], tuple(ready["stalled"]))
        wait_stalled(h)
        yield h
        assert lablib.json_cmd(client, "close", 30, "conns_client") == {"closed": N_IDLE + 1}
        assert client.wait(30) == 0
        lablib.stop_ok(app)
    finally:
        if client is not None and client.poll() is None:
            client.kill()
            client.wait(10)
        if app is not None:
            app.cleanup()
        if fault is not None and fault.poll() is None:
            fault.kill()
            fault.wait(10)
        lablib.teardown(lab, None, (), tmp)


def fields(line):
    """'k=v k=v ...' as a dict ('#' and leading words without '=' skipped)."""
    return dict(w.split("=", 1) for w in line.split() if "=" in w)


def show(app, args=""):
    """(summary, {worker: header fields}, [connection fields]) of `show conns ARGS`."""
    r = app.ctl_run(["show", "conns", *args.split()])
    assert r.returncode == 0, f"show conns {args}: exit {r.returncode}\n{r.stdout}{r.stderr}"
    lines = r.stdout.rstrip("\n").split("\n")
    assert lines[0].startswith("# conns "), r.stdout
    summary = fields(lines[0])
    workers, conns = {}, []
    for line in lines[1:]:
        if line.startswith("# worker="):
            f = fields(line)
            workers[int(f["worker"])] = f
        else:
            assert line.startswith("worker="), line
            conns.append(fields(line))
    return summary, workers, conns


def by_src(conns):
    out = {}
    for c in conns:
        assert c["src"] not in out, f"{c['src']} listed twice: {conns}"
        out[c["src"]] = c
    return out


def wait_stalled(h):
    """Until the stalled request is on its upstream connection (it was just sent)."""
    src = f"{h.stalled[0]}:{h.stalled[1]}"
    deadline = time.monotonic() + HANG_BOUND_S
    while True:
        _, _, conns = show(h.app)
        c = by_src(conns).get(src)
        if (c is not None and c["state"] == "wait-response") or time.monotonic() > deadline:
            assert c is not None and c["state"] == "wait-response", conns
            return


def test_lists_every_held_connection(held):
    app, lab = held.app, held.app.lab
    summary, workers, conns = show(app)
    listed = by_src(conns)
    assert int(summary["sessions"]) == N_IDLE + 1, summary
    assert int(summary["listed"]) == N_IDLE + 1 == len(conns)
    assert int(summary["limit"]) == 100
    assert int(summary["answered"]) == int(summary["workers"]) == app.workers
    # one header per worker, and its totals add up
    assert sorted(workers) == list(range(app.workers))
    assert sum(int(w["sessions"]) for w in workers.values()) == N_IDLE + 1
    for w, f in workers.items():
        assert int(f["listed"]) == sum(1 for c in conns if c["worker"] == str(w)), (f, conns)
    for addr, port in held.idle:
        c = listed[f"{addr}:{port}"]
        assert addr == lab.CLI_ADDR
        assert c["dst"] == f"{lab.APP_ADDR}:80" and c["fe"] == "web"
        assert c["tcp_state"] == "ESTABLISHED" and c["state"] == "idle", c
        # an idle connection holds no request state, and no upstream
        for k in ("req_age_ms", "req_in", "req_out", "method", "target", "be", "srv",
                  "up_port", "up_tcp_state"):
            assert c[k] == "-", (k, c)
        assert int(c["idle_ms"]) >= 0 and int(c["sendq"]) == 0
    s = listed[f"{held.stalled[0]}:{held.stalled[1]}"]
    assert s["tcp_state"] == "ESTABLISHED" and s["state"] == "wait-response", s
    assert s["method"] == "GET" and s["target"] == STALL_PATH, s
    assert s["be"] == "stall" and s["srv"] == "f1", s
    assert s["srv_addr"] == f"{lab.BE1_ADDR}:{FAULT_PORT}", s
    assert s["up_tcp_state"] == "ESTABLISHED", s
    up_port = int(s["up_port"])
    assert 0 < up_port < 65536
    # an upstream connection's local port belongs to its worker (DESIGN.md, sharding)
    assert up_port % app.workers == int(s["worker"]), s
    assert s["status"] == "-" and int(s["req_age_ms"]) >= 0
    assert int(s["req_in"]) > 0, s  # the request head went upstream
    assert len(listed) == N_IDLE + 1


def test_n_limits_the_lines(held):
    summary, workers, conns = show(held.app, "1")
    assert len(conns) == 1 and int(summary["listed"]) == 1, (summary, conns)
    assert int(summary["sessions"]) == N_IDLE + 1 and int(summary["limit"]) == 1
    assert sum(int(w["listed"]) for w in workers.values()) == 1
    summary, workers, conns = show(held.app, "0")
    assert conns == [] and int(summary["sessions"]) == N_IDLE + 1
    assert len(workers) == held.app.workers
    summary, _, conns = show(held.app, "2")
    assert len(conns) == 2


@pytest.mark.parametrize("args", ["x", "-1", "10001", "1.5", "1 2", "json json", "1 x"])
def test_bad_n_is_an_error(held, args):
    r = held.app.ctl_run(["show", "conns", *args.split()])
    assert r.returncode == 1, (args, r.stdout, r.stderr)
    assert r.stdout.startswith("error: "), (args, r.stdout)


def test_json_parses_and_agrees(held):
    app, lab = held.app, held.app.lab
    r = app.ctl_run(["--json", "show", "conns"])
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["sessions"] == N_IDLE + 1 and doc["listed"] == N_IDLE + 1
    assert doc["limit"] == 100 and doc["answered"] == app.workers
    assert [w["id"] for w in doc["workers"]] == list(range(app.workers))
    assert all(w["answered"] is True for w in doc["workers"])
    assert sum(w["sessions"] for w in doc["workers"]) == N_IDLE + 1
    conns = {c["src"]: c for c in doc["conns"]}
    assert len(conns) == len(doc["conns"]) == N_IDLE + 1
    for addr, port in held.idle:
        c = conns[f"{addr}:{port}"]
        assert c["state"] == "idle" and c["method"] is None and c["req_age_ms"] is None
        assert isinstance(c["idle_ms"], int) and c["up_port"] is None
    s = conns[f"{held.stalled[0]}:{held.stalled[1]}"]
    assert s["state"] == "wait-response" and s["method"] == "GET"
    assert s["target"] == STALL_PATH and s["be"] == "stall" and s["srv"] == "f1"
    assert s["srv_addr"] == f"{lab.BE1_ADDR}:{FAULT_PORT}"
    assert isinstance(s["up_port"], int) and isinstance(s["req_age_ms"], int)
    assert s["worker"] in range(app.workers)
    # N and json together, in either order
    for args in (["show", "conns", "1", "json"], ["show", "conns", "json", "1"]):
        r = app.ctl_run(args)
        assert r.returncode == 0, r.stdout + r.stderr
        doc = json.loads(r.stdout)
        assert doc["listed"] == 1 and len(doc["conns"]) == 1 and doc["limit"] == 1


def test_text_and_help(held):
    r = held.app.ctl_run(["help"])
    assert "show conns [N] [json]" in r.stdout
    # the same connections as the JSON form, line for line
    _, _, conns = show(held.app)
    doc = json.loads(held.app.ctl("show conns json"))
    assert sorted(c["src"] for c in conns) == sorted(c["src"] for c in doc["conns"])
