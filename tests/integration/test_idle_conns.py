# SPDX-License-Identifier: BSD-3-Clause
"""Idle connections cost what show pools says, hold no mbuf, and are all freed after close.

A smoke version of bench/idle.sh (issue 3: at most 512 bytes per idle established connection,
TCB + connection table entry + HTTP session, no buffers and no request state held while idle:
a request's state comes from a per-request pool): bench/idle_client.py opens
N keep-alive connections from two client addresses, each carries one request and response,
then they sit idle while the test reads the appliance's own pool accounting.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab as lablib  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "bench" / "idle_client.py"
PY = "/usr/bin/python3"
N = 3000
SRCS = ["198.18.0.100", "198.18.0.101"]
BUDGET = 512  # TCB + table share
BUDGET_HTTP = 512  # ... + HTTP session (request state is not held idle)


def idle_config(lab, socket_path, workers):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 4096, f"{lab.APP_DEVICE},framecnt=2048")}listeners:
  - name: web
    port: 80
    limits: {{ max_connections: 16384, header_timeout_ms: 30000, idle_timeout_ms: 120000 }}
    routes:
      - match: {{ path_prefix: "/" }}
        respond: {{ status: 200, body: "hello\\n", content_type: "text/plain" }}
control:
  socket: {socket_path}
"""


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def idle_app(request):
    workers = request.param
    with lablib.running_sluice(workers, config_fn=lambda lab, sock: idle_config(
            lab, sock, workers)) as app:
        for a in SRCS:
            app.ns_exec(app.lab.CLI_NS, ["ip", "addr", "add", f"{a}/{app.lab.LAB_PREFIXLEN}",
                                         "dev", app.lab.CLI_IF], check=True)
        yield app


def test_idle_connections_cost_and_release(idle_app):
    app = idle_app
    base = lablib.show_pools(app)
    # What the accounting says one idle connection costs, and that it adds up.
    share = -(-base["worker0.mem.hash_bytes"] // base["worker0.mem.tcbs_max"])
    assert base["mem.tcb_bytes"] + share <= BUDGET, base
    assert base["mem.idle_conn_bytes"] <= BUDGET_HTTP, base
    assert base["mem.idle_conn_bytes"] == (base["mem.tcb_bytes"] + share
                                           + base["mem.session_bytes"])

    proc = subprocess.Popen(
        ["ip", "netns", "exec", app.lab.CLI_NS, PY, str(CLIENT), app.lab.APP_ADDR, "80",
         str(N), ",".join(SRCS), "--timeout", "60"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready = lablib.json_line(proc, 90, "idle_client")
        assert ready["established"] == N, f"{ready}\n{app.log_tail()}"

        # Every connection has been answered; wait until the last ACKs are in and the
        # appliance holds exactly N sessions and TCBs.
        deadline = time.monotonic() + 10
        while True:
            held = lablib.show_pools(app)
            if (held["mem.sessions_used"] - base["mem.sessions_used"] == N
                    and held["mem.mbufs_in_use"] <= base["mem.mbufs_in_use"]) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert held["mem.sessions_used"] - base["mem.sessions_used"] == N, held
        assert held["mem.tcbs_used"] - base["mem.tcbs_used"] == N, held
        per_worker = sum(held[f"worker{w}.mem.tcbs_used"] for w in range(app.workers))
        assert per_worker == held["mem.tcbs_used"]
        # Idle connections hold no buffer: mbufs in use are back at the baseline.
        assert held["mem.mbufs_in_use"] <= base["mem.mbufs_in_use"], (base, held)
        assert held["mem.idle_conn_bytes"] <= BUDGET_HTTP
        # ... and no request state: it went back to the pool with the response.
        assert held["mem.reqs_used"] == 0 and held["mem.reqs_waiting"] == 0, held

        alive = lablib.json_cmd(proc, "check", 30, "idle_client")
        assert alive == {"alive": N, "closed_by_peer": 0}

        assert lablib.json_cmd(proc, "close", 30, "idle_client") == {"closed": N}
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    # The client closed first: the appliance goes through LAST_ACK, not TIME_WAIT, and every
    # TCB, session and mbuf comes back.
    deadline = time.monotonic() + 20
    while True:
        after = lablib.show_pools(app)
        if (after["mem.tcbs_used"] == base["mem.tcbs_used"]
                and after["mem.sessions_used"] == base["mem.sessions_used"]
                and after["mem.mbufs_in_use"] <= base["mem.mbufs_in_use"]) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert after["mem.tcbs_used"] == base["mem.tcbs_used"], after
    assert after["mem.sessions_used"] == base["mem.sessions_used"], after
    assert after["mem.time_wait"] == 0, after
    assert after["mem.mbufs_in_use"] <= base["mem.mbufs_in_use"], (base, after)
