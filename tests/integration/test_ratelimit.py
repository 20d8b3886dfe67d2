# SPDX-License-Identifier: BSD-3-Clause
"""Route rate limits (routes[].rate_limit, docs/ratelimit.md) hold for the appliance.

A flood of T seconds on a route limited to R req/s with burst B admits R*T + B within
max(1 % of that, workers x 8) and answers the rest 429 with Retry-After, with one worker and
with two (connections spread over both: the bucket is shared, so the bound is the same); two
client addresses limited per client_ip each get their own R*T + B. rl_client.py floods from
the client namespace with several keep-alive connections per source address.
"""

import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab as lablib  # noqa: E402

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "rl_client.py"
PY = "/usr/bin/python3"
SRCS = ["198.18.0.100", "198.18.0.101"]
R, B = 100, 50  # /route: per route
RC, BC = 40, 20  # /client: per client_ip
SECS = 3.0
PER_CLIENT = 3
CONNS_CLIENT = HERE / "rl_conns_client.py"


def rl_config(lab, socket_path, workers):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 4096)}listeners:
  - name: web
    port: 80
    routes:
      - match: {{ path_prefix: "/route" }}
        rate_limit: {{ requests_per_second: {R}, burst: {B}, per: route }}
        respond: {{ status: 200, body: "ok\\n" }}
      - match: {{ path_prefix: "/client" }}
        rate_limit: {{ requests_per_second: {RC}, burst: {BC}, per: client_ip }}
        respond: {{ status: 200, body: "ok\\n" }}
      - match: {{ path_prefix: "/key" }}
        rate_limit: {{ requests_per_second: {RC}, burst: {BC}, per: "header:x-api-key" }}
        respond: {{ status: 200, body: "ok\\n" }}
      - respond: {{ status: 200, body: "free\\n" }}
  - name: conns
    port: 81
    limits: {{ max_connections_per_client: {PER_CLIENT} }}
    routes:
      - respond: {{ status: 200, body: "ok\\n" }}
control:
  socket: {socket_path}
"""


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def rl_app(request):
    workers = request.param
    with lablib.running_sluice(workers, config_fn=lambda lab, sock: rl_config(
            lab, sock, workers)) as app:
        for a in SRCS:
            app.ns_exec(app.lab.CLI_NS, ["ip", "addr", "add", f"{a}/{app.lab.LAB_PREFIXLEN}",
                                         "dev", app.lab.CLI_IF], check=True)
        yield app


def flood(app, path, secs, conns, srcs):
    r = app.ns_exec(app.lab.CLI_NS, [PY, str(CLIENT), app.lab.APP_ADDR, path, str(secs),
                                     str(conns), *srcs], timeout=secs + 40)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def bound(expected, workers):
    return max(expected // 100, workers * 8)


def worker_requests(app, workers):
    c = app.counters()
    return [c.get(f"worker{w}.http.requests", 0) for w in range(workers)]


def test_route_limit_admits_rate_times_seconds_plus_burst(rl_app):
    app = rl_app
    before = app.counter("http.rate_limited")
    px0 = lablib.parse_counters(app.ctl("show proxy"))
    lst_before = px0.get("listener.web.rate_limited", 0)
    per_worker0 = worker_requests(app, app.workers)
    out = flood(app, "/route", SECS, 8, SRCS)
    o = [out[s] for s in SRCS]
    ok = sum(x["200"] for x in o)
    limited = sum(x["429"] for x in o)
    assert sum(x["other"] for x in o) == 0, out
    # the client really flooded: far more than the limit was asked for
    assert ok + limited > 3 * (R * SECS + B), out
    expected = int(R * out["elapsed"]) + B
    slack = bound(expected, app.workers)
    assert expected - slack <= ok <= expected + slack, (ok, expected, slack, out)
    # every refusal said when to come back, in whole seconds, at least 1 (1 token = 10 ms)
    assert all(x["missing_ra"] == 0 for x in o), out
    assert all(x["retry_after"][0] >= 1 and x["retry_after"][1] <= 1 for x in o if x["429"]), out
    assert app.counter("http.rate_limited") - before == limited
    # and on the listener (show proxy; Prometheus sluice_listener_rate_limited_total)
    lst = lablib.parse_counters(app.ctl("show proxy"))
    assert lst["listener.web.rate_limited"] - lst_before == limited, lst
    # and per route: all of them on /route (web's route 0), none on /client (route 1)
    assert lst["route.web/0.rate_limited"] - px0["route.web/0.rate_limited"] == limited, lst
    assert lst["route.web/1.rate_limited"] == px0["route.web/1.rate_limited"], lst
    assert "route.web/3.rate_limited" not in lst, "the unlimited route has no counter"
    r = app.ns_exec(app.lab.LAB_NS, ["curl", "-sS", "--max-time", "10",
                                     "http://127.0.0.1:9190/metrics"])
    assert r.returncode == 0, r.stderr
    fam = [ln for ln in r.stdout.splitlines() if ln.startswith("sluice_route_rate_limited_total{")]
    assert len(fam) == 3, fam
    assert ('sluice_route_rate_limited_total{listener="web",route="0",host="",'
            f'path_prefix="/route"}} {lst["route.web/0.rate_limited"]}') in fam, fam
    js = json.loads(app.ctl("show proxy json"))["objects"]
    assert {"route": "web/0", "rate_limited": lst["route.web/0.rate_limited"]} in js, js[-3:]
    if app.workers == 2:
        # the load was spread: both workers served a share of it
        per_worker = worker_requests(app, app.workers)
        served = [a - b for a, b in zip(per_worker, per_worker0)]
        assert min(served) > (ok + limited) // 10, served


def test_route_limit_holds_with_all_load_on_one_worker(rl_app):
    # one keep-alive connection: one worker serves every request (with two workers the other
    # one holds no lease of this bucket at all, or one from the test before: still the bound)
    app = rl_app
    time.sleep(B / R + 0.5)  # the test before emptied the bucket: let it fill up again
    out = flood(app, "/route", SECS, 1, SRCS[:1])
    o = out[SRCS[0]]
    assert o["other"] == 0 and o["200"] + o["429"] > 2 * (R * SECS + B), out
    expected = int(R * out["elapsed"]) + B
    slack = bound(expected, app.workers)
    assert expected - slack <= o["200"] <= expected + slack, (expected, slack, out)


def test_unlimited_route_is_not_limited(rl_app):
    out = flood(rl_app, "/free", 1.0, 2, SRCS[:1])
    assert out[SRCS[0]]["429"] == 0 and out[SRCS[0]]["200"] > 0, out


def test_per_client_limits_do_not_starve_each_other(rl_app):
    app = rl_app
    px0 = lablib.parse_counters(app.ctl("show proxy"))
    out = flood(app, "/client", SECS, 4, SRCS)
    expected = int(RC * out["elapsed"]) + BC
    slack = bound(expected, app.workers)
    for s in SRCS:
        assert out[s]["other"] == 0, out
        # each address has its own bucket: its full share, however the other floods
        assert expected - slack <= out[s]["200"] <= expected + slack, (s, expected, out)
        assert out[s]["429"] > 0, out
    px = lablib.parse_counters(app.ctl("show proxy"))
    assert px["route.web/1.rate_limited"] - px0["route.web/1.rate_limited"] == sum(
        out[s]["429"] for s in SRCS), px


def test_per_header_limits_key_by_value(rl_app):
    # one address, two API keys: each key its own bucket
    app = rl_app
    keys = [f"{SRCS[0]}=alpha", f"{SRCS[0]}=beta"]
    out = flood(app, "/key", SECS, 4, keys)
    expected = int(RC * out["elapsed"]) + BC
    slack = bound(expected, app.workers)
    for k in keys:
        assert out[k]["other"] == 0 and out[k]["429"] > 0, out
        assert expected - slack <= out[k]["200"] <= expected + slack, (k, expected, out)


def test_max_connections_per_client(rl_app):
    app = rl_app
    before = app.counter("http.refused_per_client")
    r = app.ns_exec(app.lab.CLI_NS, [PY, str(CONNS_CLIENT), app.lab.APP_ADDR, "81",
                                     str(PER_CLIENT), SRCS[0], SRCS[1]], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    # the first N are served (with two workers they spread: the count is the appliance's)
    assert out["held"] == ["200"] * PER_CLIENT, out
    assert out["extra"] in ("reset", "eof"), out
    assert out["other"] == "200", out
    assert out["after_close"] == "200", out  # a closed connection no longer counts
    assert app.counter("http.refused_per_client") - before >= 1
