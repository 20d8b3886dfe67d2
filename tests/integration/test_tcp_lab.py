# SPDX-License-Identifier: BSD-3-Clause
"""sluice's TCP stack under loss and against hand-made segments.

- 50 MB each way with sha256 checked while `tc netem` drops 3%, reorders and duplicates
  segments on the client's veth;
- scapy: RST checks of RFC 5961 (challenge ACK, connection survives), RST for a SYN to a
  closed port, and a bounded SYN flood answered with SYN cookies while a real client still
  connects and completes a request.
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpclient  # noqa: E402
import lab as lablib  # noqa: E402
from test_http_direct import BIG, CLIENT, PY, direct_config  # noqa: E402

PROBE = Path(__file__).resolve().parent / "tcpprobe.py"


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def small(request):
    """An appliance with a small TCB pool (backlog 64) and a deep af_packet ring."""
    lab = lablib.Lab()
    lab.up()
    app = None
    try:
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=request.param,
                            config_text=direct_config(lab, sock, request.param,
                                                      max_connections=256, framecnt=4096))
        app.start()
        yield app
        rc = app.stop()
        assert rc == 0, f"sluice exited with status {rc} after SIGTERM:\n{app.log_tail()}"
    finally:
        if app is not None:
            app.cleanup()
        lab.down()


def client(app, *args, timeout=600):
    r = app.ns_exec(app.lab.CLI_NS, [PY, str(CLIENT), *args], timeout=timeout)
    assert r.returncode == 0, f"client {args} failed:\n{r.stdout}{r.stderr}\n{app.log_tail()}"
    return json.loads(r.stdout)


def probe(app, *args, timeout=120):
    r = app.ns_exec(app.lab.CLI_NS, [PY, str(PROBE), args[0], app.lab.CLI_IF, app.lab.APP_ADDR,
                                     *args[1:]], timeout=timeout)
    assert r.returncode == 0, f"probe {args} failed:\n{r.stdout}{r.stderr}"
    return json.loads(r.stdout.strip().splitlines()[-1])


def netem(app, spec):
    lab = app.lab
    lab.ns_exec(lab.CLI_NS, ["tc", "qdisc", "del", "dev", lab.CLI_IF, "root"])
    if spec:
        r = lab.ns_exec(lab.CLI_NS, ["tc", "qdisc", "add", "dev", lab.CLI_IF, "root", "netem",
                                     *spec.split()])
        assert r.returncode == 0, r.stderr


def test_lossy_link_50mb_each_way(small):
    before = small.counters()
    netem(small, "delay 1ms loss 3% reorder 10% 50% duplicate 1%")
    try:
        down = client(small, "download", small.lab.APP_ADDR, "80", "/big")
        up = client(small, "upload", small.lab.APP_ADDR, "80", "/", str(BIG))
    finally:
        netem(small, None)
    assert down["status"] == 200 and down["length"] == BIG
    assert down["sha256"] == httpclient.pattern_sha256(BIG)
    assert up == {"status": 200, "body": "hello\n"}
    after = small.counters()
    # the loss was real and the stack repaired it
    assert after["tcp.retransmits"] > before["tcp.retransmits"]
    assert after["tcp.ooo_segments"] > before["tcp.ooo_segments"]


def test_syn_to_closed_port_draws_rst(small):
    res = probe(small, "closed", "81")
    assert res["reply"] is not None and "R" in res["reply"], res
    assert res["ack"] == res["expected_ack"]


def test_rst_checks_rfc5961(small):
    before = small.counter("tcp.challenge_acks")
    res = probe(small, "rst", "80")
    assert res["first_ok"]
    # an in-window RST that is not exactly RCV.NXT draws a challenge ACK for RCV.NXT
    assert any(f == "A" and ack == res["snd_nxt"] for f, ack in res["in_window_replies"]), res
    # an out-of-window RST is dropped silently
    assert res["out_window_replies"] == [], res
    assert res["survived"], "the connection must survive both RSTs"
    assert small.counter("tcp.challenge_acks") > before


def test_syn_flood_cookies_real_client_connects(small):
    lab = small.lab
    before = small.counter("tcp.syn_cookies_sent")
    # the client kernel would answer our SYN-ACKs to its spoofed SYNs with RST and free the
    # backlog: keep those RSTs off the wire for the duration of the flood
    rule = ["OUTPUT", "-p", "tcp", "--tcp-flags", "RST", "RST", "-j", "DROP"]
    lab.ns_exec(lab.CLI_NS, ["iptables", "-I", *rule], check=True)
    try:
        res = probe(small, "flood", "80", "2000", "1000")
        r = lab.ns_exec(lab.CLI_NS, ["curl", "-sS", "--max-time", "20", "--retry", "3",
                                     f"http://{lab.APP_ADDR}/"], timeout=60)
    finally:
        lab.ns_exec(lab.CLI_NS, ["iptables", "-D", *rule])
    assert res["synacks"] >= res["sent"] * 0.9, res
    assert small.counter("tcp.syn_cookies_sent") - before > 1000, small.ctl("show tcp")
    assert r.returncode == 0 and r.stdout == "hello\n", r.stderr
