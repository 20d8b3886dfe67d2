# SPDX-License-Identifier: BSD-3-Clause
"""sluice on DPDK's af_xdp (net_af_xdp) in the namespace lab: the smoke run of scripts/test.sh.

The appliance drives the lab's veth with af_xdp (an XDP program on it redirects every frame to
an AF_XDP socket), one worker: DPDK 22.11's af_xdp opens one queue on a veth. A real nginx
backend answers. af_xdp transmits only single-segment frames (it sends pkt_len bytes of the
first segment), so every response whose head and body sit in separate mbufs is copied into one
buffer first (tx_linearized): bodies both ways are checked byte for byte.

The whole integration suite runs on af_xdp too, as an opt-in:
    SLUICE_LAB_DEVICE=af_xdp /usr/bin/python3 -m pytest tests/integration
"""

import json
import re
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402
import httpclient  # noqa: E402
import lab as lablib  # noqa: E402

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "httpclient.py"
PY = "/usr/bin/python3"
PORT = 8080
BODY = 100 * 1024 + 7  # ~100 KB, not a multiple of any segment size


def xdp_config(lab, socket_path, workers=1, device=None):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 8192, 1024, device)}listeners:
  - name: web
    port: 80
    routes:
      - match: {{ path_prefix: "/hello" }}
        respond: {{ status: 200, body: "hello from sluice\\n", content_type: "text/plain" }}
      - match: {{ path_prefix: "/" }}
        service: app
services:
  app:
    endpoints:
      - {{ name: be1, address: {lab.BE1_ADDR}:{PORT} }}
    timeouts: {{ connect_ms: 1000, response_ms: 20000 }}
control:
  socket: {socket_path}
"""


class Xdp:
    def __init__(self, lab, app, be):
        self.lab, self.app, self.be = lab, app, be
        self.addr = lab.APP_ADDR


@pytest.fixture(scope="module")
def xdp():
    lab = lablib.Lab(device="af_xdp")
    lab.up()
    app = None
    started = []
    docroot = Path(tempfile.mkdtemp(prefix=f"sluice-docroot-{lab.prefix}-"))
    try:
        backends.write_pattern_file(docroot / "big", BODY)
        (be,) = backends.start_nginxes(lab, 1, PORT, docroot, started)
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=1, config_text=xdp_config(lab, sock))
        app.start()
        yield Xdp(lab, app, be)
        lablib.stop_ok(app)
    finally:
        lablib.teardown(lab, app, started, docroot)


def client(x, *args, timeout=120):
    r = x.app.ns_exec(x.lab.CLI_NS, [PY, str(CLIENT), *args], timeout=timeout)
    assert r.returncode == 0, f"client {args} failed:\n{r.stdout}{r.stderr}\n{x.app.log_tail()}"
    return json.loads(r.stdout)


def test_the_port_is_af_xdp(xdp):
    # What the smoke is about: an XDP program on the veth and no af_packet socket on it.
    lab = xdp.lab
    link = lab.ns_exec(lab.LAB_NS, ["ip", "-d", "link", "show", "dev", lab.APP_IF],
                       check=True).stdout
    assert re.search(r"prog/xdp", link), link
    ifindex = lab.ns_exec(lab.LAB_NS, ["cat", f"/sys/class/net/{lab.APP_IF}/ifindex"],
                          check=True).stdout.strip()
    table = lab.ns_exec(lab.LAB_NS, ["cat", "/proc/net/packet"], check=True).stdout
    assert not [r for r in (line.split() for line in table.splitlines()[1:])
                if r[4] == ifindex], table


def test_ping(xdp):
    sent, received, out = lablib.ping(xdp.lab, count=3)
    assert received == sent == 3, out


def test_direct_response(xdp):
    r = xdp.app.ns_exec(xdp.lab.CLI_NS, ["curl", "-sS", "--max-time", "10",
                                         f"http://{xdp.addr}/hello"])
    assert r.returncode == 0 and r.stdout == "hello from sluice\n", r.stderr + xdp.app.log_tail()


def test_proxied_get(xdp):
    r = xdp.app.ns_exec(xdp.lab.CLI_NS, ["curl", "-sS", "--max-time", "10",
                                         f"http://{xdp.addr}/uri/x1"])
    assert r.returncode == 0, r.stderr + xdp.app.log_tail()
    assert r.stdout == "be1 /uri/x1\n"


def test_download_100k_sha256_linearised(xdp):
    before = xdp.app.counters()
    res = client(xdp, "download", xdp.addr, "80", "/big")
    assert res["status"] == 200
    assert res["content_length"] == res["length"] == BODY
    assert res["sha256"] == httpclient.pattern_sha256(BODY)
    after = xdp.app.counters()
    # About 70 full segments of the body alone went out, each copied into one buffer.
    assert after["tx_linearized"] - before["tx_linearized"] >= BODY // 1460
    assert after["tx_drop_linearize_no_mbuf"] == 0


def test_post_100k_sha256(xdp):
    res = client(xdp, "upload", xdp.addr, "80", "/upload", str(BODY))
    assert res["status"] == 200, res
    path = Path(res["body"].strip())
    assert path.is_file(), f"backend stored no body file: {res}"
    assert path.stat().st_size == BODY
    assert backends.sha256_file(path) == httpclient.pattern_sha256(BODY)
    path.unlink()


def test_fragmented_echo_reassembled(xdp):
    # A 3000-byte echo leaves the client as three fragments, and on af_xdp (unlike af_packet,
    # where the kernel defragments first) sluice sees them as they are: it must reassemble
    # (RFC 1122) and answer with a fragmented reply.
    if "frag_reassembled" not in xdp.app.counters():
        pytest.skip("IPv4 reassembly is not in this build (issue 8, branch frag): this check "
                    "runs by itself once show ports has frag_reassembled")
    before = xdp.app.counters()
    sent, received, out = lablib.ping(xdp.lab, count=3, size=3000)
    assert received == sent == 3, out + xdp.app.log_tail()
    after = xdp.app.counters()
    assert after["frag_reassembled"] - before["frag_reassembled"] >= 3


def test_af_xdp_queue_count_and_workers_checked(xdp):
    # Refusals happen before EAL: they leave the running appliance alone.
    lab = xdp.lab
    conf = xdp.app.tmp / "refused.yaml"
    sock = xdp.app.tmp / "refused.sock"
    cases = [
        (xdp_config(lab, sock, workers=2), 2, "combined channels"),
        (xdp_config(lab, sock, device=f"{lab.APP_DEVICE},queue_count=2"), 1, "queue_count=2"),
    ]
    for text, status, words in cases:
        conf.write_text(text)
        r = lablib.run(["ip", "netns", "exec", lab.LAB_NS, lablib.SLUICE, "-c", conf],
                       timeout=30)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == status and len(lines) == 1 and words in lines[0], r
