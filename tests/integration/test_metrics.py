# SPDX-License-Identifier: BSD-3-Clause
"""Observability: Prometheus text at GET /metrics (control.metrics) and DPDK telemetry.

The metrics socket is a kernel socket in the network namespace sluice runs in (the lab
namespace here), so the scrape runs `ip netns exec LAB_NS curl 127.0.0.1:PORT/metrics`. The
exposition is parsed strictly (text format 0.0.4), and the counters must move by exactly what
the test sent. Telemetry is asked over its SEQPACKET socket, as dpdk-telemetry.py does.
"""

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab as lablib  # noqa: E402

METRICS_PORT = 9190
TELEMETRY_PY = "/usr/bin/dpdk-telemetry.py"
N_REQUESTS = 25


def metrics_config(lab, socket_path, workers, metrics=f"127.0.0.1:{METRICS_PORT}",
                   log_level="info"):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 8192, 1024)}listeners:
  - name: web
    port: 80
    routes:
      - match: {{ path_prefix: "/app" }}
        service: app
      - match: {{ path_prefix: "/missing" }}
        respond: {{ status: 404, body: "no\\n" }}
      - match: {{ path_prefix: "/" }}
        respond: {{ status: 200, body: "hello\\n", content_type: "text/plain" }}
services:
  app:   # nothing listens on be1: every request is a connect failure and a 502
    endpoints:
      - {{ name: be1, address: {lab.BE1_ADDR}:8080 }}
    retries: 0   # one try per request (each retry is a request to the endpoint too)
control:
  socket: {socket_path}
  metrics: "{metrics}"
  log_level: {log_level}
"""


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def web(request):
    lab = lablib.Lab()
    lab.up()
    app = None
    try:
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=request.param,
                            config_text=metrics_config(lab, sock, request.param))
        app.start()
        yield app
        lablib.stop_ok(app)
    finally:
        lablib.teardown(lab, app)


# ---- a strict parser of the text exposition format 0.0.4 ----

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
TYPE_RE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")
HELP_RE = re.compile(rf"^# HELP ({NAME}) (.*)$")


HIST_SUFFIXES = ("_bucket", "_sum", "_count")


def parse_exposition(text):
    """{family: {"type": T, "samples": [(labels dict, value)]}}; fails on any deviation.

    A histogram family's samples are its NAME_bucket, NAME_sum and NAME_count lines; each is
    stored with a "__suffix__" label ("_bucket", "_sum", "_count"). Histograms are checked:
    every series has buckets with an le label, cumulative (non-decreasing in le), ending with
    le="+Inf", which equals its _count, and a _sum."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families = {}
    seen_done = set()  # families whose samples ended: they must not come back
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}: {line!r}"
        assert line != "", f"empty {where}"
        if line.startswith("#"):
            m = TYPE_RE.match(line)
            if m:
                name = m.group(1)
                assert name not in families, f"second TYPE for {name}, {where}"
                if current is not None:
                    seen_done.add(current)
                families[name] = {"type": m.group(2), "samples": []}
                current = name
                continue
            m = HELP_RE.match(line)
            assert m or line.startswith("# "), f"malformed comment, {where}"
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"malformed sample, {where}"
        name, labels_text, value = m.group(1), m.group(2) or "", m.group(3)
        suffix = None
        for suf in HIST_SUFFIXES:
            base = name[: -len(suf)]
            if name.endswith(suf) and families.get(base, {}).get("type") == "histogram":
                name, suffix = base, suf
        assert name in families, f"sample before its TYPE line, {where}"
        assert name == current, f"sample of {name} outside its family's block, {where}"
        assert name not in seen_done, where
        labels = dict(LABEL_RE.findall(labels_text))
        assert len(labels) == labels_text.count('="'), f"duplicate label, {where}"
        if families[name]["type"] == "histogram":
            assert suffix is not None, f"histogram sample without a known suffix, {where}"
            assert (suffix == "_bucket") == ("le" in labels), f"le label, {where}"
            labels["__suffix__"] = suffix
        v = float(value)  # raises on a malformed value
        if families[name]["type"] == "counter":
            assert name.endswith("_total"), f"counter without _total, {where}"
            assert v >= 0, where
        families[name]["samples"].append((labels, v))
    for name, fam in families.items():
        keys = [tuple(sorted(lbl.items())) for lbl, _ in fam["samples"]]
        assert len(keys) == len(set(keys)), f"duplicate series in {name}"
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
    return families


def check_histogram(name, samples):
    """Every series of a histogram: cumulative buckets, +Inf last and equal to _count."""
    series = {}
    for lbl, v in samples:
        key = tuple(sorted((k, x) for k, x in lbl.items() if k not in ("le", "__suffix__")))
        series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        s = series[key]
        if lbl["__suffix__"] == "_bucket":
            s["buckets"].append((float(lbl["le"]), v))
        else:
            s[lbl["__suffix__"][1:]] = v
    for key, s in series.items():
        les = [le for le, _ in s["buckets"]]
        assert les == sorted(les) and len(set(les)) == len(les), f"{name}{key}: le order"
        assert les and les[-1] == float("inf"), f"{name}{key}: no +Inf bucket"
        counts = [c for _, c in s["buckets"]]
        assert all(a <= b for a, b in zip(counts, counts[1:])), f"{name}{key}: not cumulative"
        assert s["count"] == counts[-1], f"{name}{key}: +Inf != _count"
        assert s["sum"] is not None and s["sum"] >= 0, f"{name}{key}: _sum"


def scrape(app, path="/metrics"):
    """(status, body) of GET path on the metrics socket, from inside the lab namespace."""
    r = app.ns_exec(app.lab.LAB_NS, ["curl", "-sS", "--max-time", "10", "-w",
                                     "\n%{http_code}", f"http://127.0.0.1:{METRICS_PORT}{path}"])
    assert r.returncode == 0, f"scrape of {path} failed: {r.stderr}\n{app.log_tail()}"
    body, _, status = r.stdout.rpartition("\n")
    return int(status), body


def metrics(app):
    status, body = scrape(app)
    assert status == 200, body
    return parse_exposition(body + "\n" if not body.endswith("\n") else body)


def total(fams, name, **match):
    """Sum of family name's samples whose labels include match."""
    assert name in fams, f"{name} missing from the exposition"
    return sum(v for lbl, v in fams[name]["samples"]
               if all(lbl.get(k) == str(x) for k, x in match.items()))


def curl_n(app, n, path="/"):
    args = []
    for _ in range(n):  # -o applies to one URL: one per URL
        args += ["-o", "/dev/null", f"http://{app.lab.APP_ADDR}{path}"]
    r = app.ns_exec(app.lab.CLI_NS, ["curl", "-sS", "--max-time", "30", "-w", "%{http_code}\n",
                                     *args], timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


# ---- tests ----

def test_exposition_is_strict_and_counts_requests(web):
    before = metrics(web)
    codes = curl_n(web, N_REQUESTS)
    assert codes == ["200"] * N_REQUESTS
    after = metrics(web)

    # one sample per worker in the registry families
    workers = {lbl["worker"] for lbl, _ in after["sluice_http_requests_total"]["samples"]}
    assert workers == {str(w) for w in range(web.workers)}
    assert (total(after, "sluice_http_requests_total")
            - total(before, "sluice_http_requests_total")) == N_REQUESTS
    assert (total(after, "sluice_http_responses_total", **{"class": "2xx"})
            - total(before, "sluice_http_responses_total", **{"class": "2xx"})) == N_REQUESTS
    assert (total(after, "sluice_listener_requests_total", listener="web")
            - total(before, "sluice_listener_requests_total", listener="web")) == N_REQUESTS
    # the same number sluicectl sums
    assert total(after, "sluice_http_requests_total") <= web.counter("http.requests")

    assert after["sluice_uptime_seconds"]["type"] == "gauge"
    assert total(after, "sluice_workers") == web.workers
    size = total(after, "sluice_mbuf_pool_size")
    assert size == 8192
    assert 0 < total(after, "sluice_mbuf_pool_in_use") <= size
    conns = after["sluice_tcp_conns_used"]["samples"]
    assert len(conns) == web.workers
    assert total(after, "sluice_tcp_conns_max") == 1024 * web.workers
    assert total(after, "sluice_port_rx_packets_total", port="lan") > 0
    # Prometheus convention: lower-case names, also for http_err's refused_BAD_METHOD
    assert all(name == name.lower() for name in after)
    assert after["sluice_http_err_refused_bad_method_total"]["type"] == "counter"


def test_response_classes(web):
    before = metrics(web)
    assert curl_n(web, 3, "/missing") == ["404"] * 3
    after = metrics(web)
    for fam in ("sluice_http_responses_total", "sluice_listener_responses_total"):
        d = total(after, fam, **{"class": "4xx"}) - total(before, fam, **{"class": "4xx"})
        assert d == 3, fam
        classes = {lbl["class"] for lbl, _ in after[fam]["samples"]}
        assert classes == {"1xx", "2xx", "3xx", "4xx", "5xx"}


def test_service_and_endpoint_labels(web):
    before = metrics(web)
    assert curl_n(web, 3, "/app/x") == ["502"] * 3
    after = metrics(web)
    ep = {"service": "app", "endpoint": "be1"}
    for fam in ("sluice_endpoint_requests_total", "sluice_endpoint_connect_failures_total"):
        assert total(after, fam, **ep) - total(before, fam, **ep) == 3, fam
    fam = "sluice_service_responses_total"
    d = (total(after, fam, service="app", **{"class": "5xx"})
         - total(before, fam, service="app", **{"class": "5xx"}))
    assert d == 3


@pytest.mark.parametrize("path", ["/", "/metricsx", "/other", "/metrics/x"])
def test_other_paths_404(web, path):
    status, _ = scrape(web, path)
    assert status == 404


def test_non_get_and_garbage(web):
    r = web.ns_exec(web.lab.LAB_NS, ["curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                                     "-w", "%{http_code}", "-X", "POST", "-d", "x=1",
                                     f"http://127.0.0.1:{METRICS_PORT}/metrics"])
    assert r.stdout == "404"
    # an oversized head is refused, and the server still answers afterwards
    r = web.ns_exec(web.lab.LAB_NS, ["curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                                     "-w", "%{http_code}", "-H", "X-Big: " + "a" * 8000,
                                     f"http://127.0.0.1:{METRICS_PORT}/metrics"])
    assert r.stdout == "431"
    assert scrape(web)[0] == 200


def telemetry_socket(app):
    return app.eal_runtime_dir() / "dpdk_telemetry.v2"


def telemetry(app, cmd):
    """Speak dpdk-telemetry.py's protocol: connect, read the hello, send cmd, read JSON."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(5)
        s.connect(str(telemetry_socket(app)))
        hello = json.loads(s.recv(16384).decode())
        assert hello["pid"] == app.pid
        s.send(cmd.encode())
        return json.loads(s.recv(1 << 20).decode())


def test_telemetry_stats(web):
    assert telemetry_socket(web).is_socket(), (
        "no telemetry socket under --no-shconf: docs/observability.md says there is one")
    curl_n(web, 2)
    stats = telemetry(web, "/sluice/stats")["/sluice/stats"]
    assert stats["http/requests"] == web.counter("http.requests")
    tcp = telemetry(web, "/sluice/stats,tcp")["/sluice/stats"]
    assert all(k.startswith("tcp/") for k in tcp) and "tcp/conns_opened_passive" in tcp
    info = telemetry(web, "/sluice/info")["/sluice/info"]
    assert info["workers"] == web.workers
    assert info["pid"] == web.pid
    cmds = telemetry(web, "/")["/"]
    assert "/sluice/info" in cmds and "/sluice/stats" in cmds


def test_dpdk_telemetry_py(web):
    """The tool operators use: it finds the socket from the file prefix."""
    r = subprocess.run([TELEMETRY_PY, "-f", f"sluice-{web.pid}"], input="/sluice/info\n",
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert '"/sluice/info"' in r.stdout and f'"pid": {web.pid}' in r.stdout, r.stdout


def test_bind_failure_exits_2():
    """A metrics address sluice cannot bind (not on any interface) refuses start in one line."""
    lab = lablib.Lab()
    lab.up()
    app = None
    try:
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=1, config_text=metrics_config(
            lab, sock, 1, metrics="192.0.2.1:9190"))
        r = app.run_expecting_refusal()
        assert r.returncode == 2, r.stdout + r.stderr
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("sluice:")]
        assert lines == ["sluice: control.metrics 192.0.2.1:9190: cannot listen on "
                         "192.0.2.1:9190: Cannot assign requested address"], r.stderr
    finally:
        lablib.teardown(lab, app)


def test_metrics_off_and_log_level():
    """control.metrics "" opens no socket; log_level warning hides the info lines."""
    lab = lablib.Lab()
    lab.up()
    app = None
    try:
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=1, config_text=metrics_config(
            lab, sock, 1, metrics="", log_level="warning"))
        app.start()
        r = app.ns_exec(lab.LAB_NS, ["curl", "-sS", "--max-time", "5",
                                     f"http://127.0.0.1:{METRICS_PORT}/metrics"])
        assert r.returncode == 7, f"expected connection refused, got {r.returncode}: {r.stdout}"
        assert app.ctl("show info")  # the control socket works without metrics
        assert app.stop() == 0
        log = app.log.read_text()
        assert "sluice: running" not in log and "sluice: shutting down" not in log, log
    finally:
        lablib.teardown(lab, app)
