# SPDX-License-Identifier: BSD-3-Clause
"""Fault suite: bulk transfers through the reverse proxy over a lossy link (issue 8).

A download from an nginx backend through sluice and an upload (POST) that the backend stores
byte for byte, while a relay drops, reorders and duplicates frames in both directions on
sluice's veth (so both the client leg and the upstream leg are impaired). The sha256 of what
arrived must equal what was sent, both ways.

The kernels this runs on lack `sch_netem` (`tc qdisc add ... netem` answers "Specified qdisc
kind is unknown"), so the impairment is test_tcp_lab.lossy_link (impair.py, a userspace
AF_PACKET relay) rather than tc: loss 1 %, reorder 25 % (a frame held back behind the next
one), duplicate 1 %, in both directions.

Size: SLUICE_LONG=1 moves 100 MB each way; otherwise a smoke of 4 MB each way.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402
import httpclient  # noqa: E402
import lab as lablib  # noqa: E402
from test_tcp_lab import lossy_link  # noqa: E402

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "httpclient.py"
PY = "/usr/bin/python3"
MB = 1 << 20
LONG = os.environ.get("SLUICE_LONG") == "1"
NBYTES = 100 * MB if LONG else 4 * MB
PORT = 8080
LOSS, REORDER, DUP = 0.01, 0.25, 0.01


def netem_config(lab, socket_path, workers):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 4096, lab.APP_DEVICE + ",framecnt=4096")}listeners:
  - name: web
    port: 80
    limits: {{ header_timeout_ms: 10000, idle_timeout_ms: 60000, max_body_bytes: 0 }}
    routes:
      - match: {{ path_prefix: "/" }}
        service: app
services:
  app:
    endpoints:
      - {{ name: be1, address: {lab.BE1_ADDR}:{PORT} }}
    timeouts: {{ connect_ms: 3000, response_ms: 60000 }}
control:
  socket: {socket_path}
"""


class Px:
    def __init__(self, app, be, docroot):
        self.app, self.be, self.docroot = app, be, docroot
        self.lab = app.lab
        self.addr = app.lab.APP_ADDR

    # what lossy_link needs of an appliance
    def ns_exec(self, ns, cmd, **kw):
        return self.app.ns_exec(ns, cmd, **kw)


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def px(request):
    lab = lablib.Lab()
    lab.up()
    app = None
    started = []
    docroot = Path(tempfile.mkdtemp(prefix=f"sluice-netem-{lab.prefix}-"))
    try:
        backends.write_pattern_file(docroot / "big", NBYTES)
        be = backends.Nginx(lab.BE1_NS, "be1", lab.BE1_ADDR, PORT, docroot)
        started.append(be)
        be.start()
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=request.param,
                            config_text=netem_config(lab, sock, request.param))
        app.start()
        yield Px(app, be, docroot)
        lablib.stop_ok(app)
    finally:
        lablib.teardown(lab, app, started, docroot)


def client(px, *args, timeout):
    r = px.app.ns_exec(px.lab.CLI_NS, [PY, str(CLIENT), *args], timeout=timeout)
    assert r.returncode == 0, f"client {args} failed:\n{r.stdout}{r.stderr}\n{px.app.log_tail()}"
    return json.loads(r.stdout)


def test_bulk_both_ways_through_the_proxy_over_a_lossy_link(px):
    # first contact (ARP for the backend) outside the impaired window
    warm = client(px, "download", px.addr, "80", "/", timeout=60)
    assert warm["status"] == 200, warm
    before = px.app.counters()
    budget = 3600 if LONG else 300  # a bound against hanging only
    with lossy_link(px, loss=LOSS, reorder=REORDER, dup=DUP, seconds=budget) as link:
        down = client(px, "download", px.addr, "80", "/big", timeout=budget)
        up = client(px, "upload", px.addr, "80", "/upload", str(NBYTES), timeout=budget)
    after = px.app.counters()

    def delta(k):
        return after.get(k, 0) - before.get(k, 0)

    detail = {"link": link, **{k: delta(k) for k in (
        "tcp.retransmits", "tcp.fast_retransmits", "tcp.rto_expiries", "tcp.ooo_segments",
        "tcp.drop_duplicate", "http.responses_5xx")}}
    # the impairment was real in both directions of a transfer this size
    assert link["dropped"] > 0 and link["reordered"] > 0 and link["duplicated"] > 0, detail
    assert down["status"] == 200 and down["length"] == NBYTES, (down, detail)
    assert down["sha256"] == httpclient.pattern_sha256(NBYTES), detail
    assert up["status"] == 200, (up, detail)
    stored = Path(up["body"].strip())
    assert stored.is_file(), f"the backend stored no body: {up}"
    assert stored.stat().st_size == NBYTES, detail
    assert backends.sha256_file(stored) == httpclient.pattern_sha256(NBYTES), detail
    stored.unlink()
    # and the stack did the repairing
    assert delta("tcp.retransmits") > 0 and delta("tcp.ooo_segments") > 0, detail
    print("netem", NBYTES, detail)
