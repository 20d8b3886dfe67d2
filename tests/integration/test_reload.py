# SPDX-License-Identifier: BSD-3-Clause
"""Live configuration changes: reload (command and SIGHUP), add/del server, set server.
Three nginx backends (backends.py) answer with their own name; their access logs tell who
served what. Every test runs with `workers: 1` and `workers: 2`. The appliance keeps running
across tests: each test leaves the base configuration (be1, be2) in place when it ends.
"""
import json
import re
import signal
import subprocess
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
EXTRA_PORT = 8081


def config(lab, sock, workers, eps=("be1", "be2"), extra_listener=False, workers_key=None,
           weights=None):
    addrs = {"be1": lab.BE1_ADDR, "be2": lab.BE2_ADDR, "be3": lab.BE3_ADDR}
    weights = weights or {}
    lines = "\n".join(
        f"      - {{ name: {n}, address: {addrs[n]}:{PORT}, weight: {weights.get(n, 1)} }}"
        for n in eps)
    extra = f"""\
  - name: extra
    port: {EXTRA_PORT}
    routes:
      - respond: {{ status: 200, body: "extra\\n" }}
""" if extra_listener else ""
    return f"""\
{lablib.dataplane_yaml(lab, workers_key or workers, 16384, 4096)}listeners:
  - name: web
    port: 80
    routes:
      - match: {{ path_prefix: "/" }}
        service: app
{extra}services:
  app:
    balance: round_robin
    endpoints:
{lines}
    pool: {{ max_idle_per_endpoint: 16, idle_timeout_ms: 30000 }}
    timeouts: {{ connect_ms: 1000, response_ms: 20000 }}
control:
  socket: {sock}
"""


class Px:
    def __init__(self, app, bes, workers):
        self.app, self.bes, self.workers = app, bes, workers
        self.lab = app.lab
        self.addr = app.lab.APP_ADDR

    def conf(self, **kw):
        return config(self.lab, self.app.socket, self.workers, **kw)

    def write(self, **kw):
        self.app.conf.write_text(self.conf(**kw))

    def ctl(self, *args):
        return self.app.ctl_run(list(args))

    def reload(self, *args):
        r = self.ctl("reload", *args)
        assert r.returncode == 0 and r.stdout.strip() == "", (r, self.app.log_tail())

    def restore(self):
        self.write()
        self.reload()


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def px(request):
    lab = lablib.Lab()
    lab.up()
    app = None
    started = []
    docroot = Path(tempfile.mkdtemp(prefix=f"sluice-docroot-{lab.prefix}-"))
    try:
        bes = backends.start_nginxes(lab, 3, PORT, docroot, started)
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=request.param,
                            config_text=config(lab, sock, request.param))
        app.start()
        yield Px(app, bes, request.param)
        lablib.stop_ok(app)
    finally:
        lablib.teardown(lab, app, started, docroot)


def token():
    return uuid.uuid4().hex[:12]


def helper(px, *args, timeout=120):
    r = px.app.ns_exec(px.lab.CLI_NS, [PY, str(HELPER), *args], timeout=timeout)
    assert r.returncode == 0, f"backends.py {args} failed:\n{r.stdout}{r.stderr}\n{px.app.log_tail()}"
    return json.loads(r.stdout)


def requests(px, n, path):
    """n requests over one keep-alive connection; all must be 200."""
    res = helper(px, "keepalive", px.addr, "80", str(n), path)
    assert Counter(s for s, _ in res["responses"]) == {200: n}, res


def served(px, uri_prefix):
    return {b.name: len(b.entries(uri_prefix)) for b in px.bes}


def stat_rows(px):
    """{(service, server): row as a dict} from show stat."""
    lines = px.app.ctl("show stat").splitlines()
    names = lines[0][2:].split(",")
    return {(f[0], f[1]): dict(zip(names, f)) for f in (line.split(",") for line in lines[1:])
            if len(f) > 2}


def epoch(px):
    info = json.loads(px.app.ctl("show info json"))  # HAProxy's typed list
    return next(o["value"]["value"] for o in info if o["field"]["name"] == "Config_epoch")


# ---- reload: services and routes ----

def test_reload_adds_then_removes_an_endpoint(px):
    t = token()
    before = epoch(px)
    px.write(eps=("be1", "be2", "be3"))
    px.reload()
    assert epoch(px) == before + 1
    assert ("app", "be3") in stat_rows(px)
    requests(px, 30, f"/add-{t}")
    assert served(px, f"/add-{t}") == {"be1": 10, "be2": 10, "be3": 10} or \
        px.workers > 1 and served(px, f"/add-{t}")["be3"] > 0
    px.restore()
    assert ("app", "be3") not in stat_rows(px)
    requests(px, 20, f"/del-{t}")
    assert served(px, f"/del-{t}")["be3"] == 0


def test_invalid_reload_changes_nothing(px, tmp_path):
    t = token()
    bad = tmp_path / "bad.yaml"
    bad.write_text(px.conf(eps=("be1", "be2", "be3")).replace("idle_sleep_us: 50",
                   "idle_sleep_us: 50\n  bogus_key: 1").replace("port: 80", "port: 99999"))
    chk = lablib.run([lablib.SLUICE, "--check", "-c", str(bad)], timeout=30)
    before = epoch(px)
    r = px.ctl("reload", str(bad))
    assert r.returncode == 1, r
    lines = r.stdout.splitlines()
    assert lines[0].startswith("error: "), r.stdout
    errs = [ln for ln in lines[1:] if ln]
    assert len(errs) >= 2 and all(re.match(rf"{re.escape(str(bad))}:\d+:\d+: ", ln)
                                   for ln in errs), r.stdout
    assert errs == chk.stderr.splitlines(), (errs, chk.stderr)
    assert epoch(px) == before
    assert ("app", "be3") not in stat_rows(px)
    requests(px, 20, f"/inv-{t}")
    assert served(px, f"/inv-{t}")["be3"] == 0


def test_reload_refuses_dataplane_and_socket_changes_naming_each(px, tmp_path):
    f = tmp_path / "static.yaml"
    text = px.conf(workers_key=px.workers + 1, eps=("be1", "be2", "be3"))
    f.write_text(text.replace(f"socket: {px.app.socket}", "socket: /run/elsewhere.sock"))
    before = epoch(px)
    r = px.ctl("reload", str(f))
    assert r.returncode == 1 and r.stdout.startswith("error: "), r.stdout
    assert "dataplane.workers" in r.stdout and "control.socket" in r.stdout, r.stdout
    assert epoch(px) == before
    assert ("app", "be3") not in stat_rows(px)


def test_sighup_reloads_the_file(px):
    px.write(eps=("be1", "be3"))
    px.app.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while ("app", "be3") not in stat_rows(px) and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = stat_rows(px)
    assert ("app", "be3") in rows and ("app", "be2") not in rows, px.app.log_tail()
    px.restore()


# ---- add / del server ----

def test_add_server_enable_disable_del(px, tmp_path):
    t = token()
    r = px.ctl("add", "server", "app/be3", f"{px.lab.BE3_ADDR}:{PORT}", "weight", "2")
    assert r.returncode == 0 and r.stdout.strip() == "New server registered.", r
    row = stat_rows(px)[("app", "be3")]
    assert (row["status"], row["weight"]) == ("MAINT", "2")
    requests(px, 12, f"/maint-{t}")
    assert served(px, f"/maint-{t}")["be3"] == 0
    # show config has it, and is a valid file
    shown = px.app.ctl("show config")
    assert re.search(r"name: \"?be3\"?\n", shown), shown
    (tmp_path / "shown.yaml").write_text(shown)
    chk = lablib.run([lablib.SLUICE, "--check", "-c", str(tmp_path / "shown.yaml")], timeout=30)
    assert chk.returncode == 0, chk.stderr

    assert px.ctl("enable", "server", "app/be3").returncode == 0
    requests(px, 24, f"/on-{t}")
    assert served(px, f"/on-{t}")["be3"] > 0

    r = px.ctl("del", "server", "app/be3")
    assert r.returncode == 1 and r.stdout.startswith("error: ") and "maintenance" in r.stdout
    assert px.ctl("disable", "server", "app/be3").returncode == 0
    r = px.ctl("del", "server", "app/be3")
    assert r.returncode == 0 and r.stdout.strip() == "Server deleted.", r
    assert ("app", "be3") not in stat_rows(px)
    # by its entry: the file path in the first comment holds the lab's random prefix
    shown = px.app.ctl("show config")
    assert not re.search(r"name: \"?be3\"?\n", shown), shown
    requests(px, 12, f"/gone-{t}")
    assert served(px, f"/gone-{t}")["be3"] == 0


@pytest.mark.parametrize("args,why", [
    (["add", "server", "app/be1", "198.18.0.21:8080"], "same name"),
    (["add", "server", "app/b/3", "198.18.0.21:8080"], "invalid server name"),
    (["add", "server", "app/b@3", "198.18.0.21:8080"], "invalid server name"),
    (["add", "server", "nope/x", "198.18.0.21:8080"], "no service 'nope'"),
    (["add", "server", "app/x", "198.18.0.21"], "ADDRESS:PORT"),
    (["add", "server", "app/x", "198.18.0.21:8080", "weight", "-1"], "from 0 to 256"),
    (["del", "server", "app/nope"], "no endpoint 'nope'"),
    (["set", "server", "app/be1", "weight", "+5"], "from 0 to 256"),
    (["enable", "server", "app/be1", "now"], "usage"),
    (["disable", "server", "app/be1", "now"], "usage"),
], ids=["duplicate", "slash", "at_sign", "no_service", "no_port", "neg_weight", "del_unknown",
        "signed_weight", "enable_extra", "disable_extra"])
def test_live_change_errors(px, args, why):
    before = epoch(px)
    r = px.ctl(*args)
    assert r.returncode == 1 and r.stdout.startswith("error: ") and why in r.stdout, r.stdout
    assert epoch(px) == before


# ---- counters ----

def test_counters_survive_weight_change_and_reload(px):
    t = token()
    requests(px, 10, f"/cnt-{t}")
    stot = int(stat_rows(px)[("app", "be1")]["stot"])
    assert stot >= 5
    assert px.ctl("set", "server", "app/be1", "weight", "3").returncode == 0
    row = stat_rows(px)[("app", "be1")]
    assert (int(row["stot"]), row["weight"]) == (stot, "3")
    assert "weight: 3" in px.app.ctl("show config")
    px.reload()  # the same file: weight back to the file's, counters kept
    row = stat_rows(px)[("app", "be1")]
    assert (int(row["stot"]), row["weight"]) == (stot, "1")
    prom = px.app.ctl_run(["show", "proxy"]).stdout
    assert f"endpoint.app/be1.requests: {stot}" in prom


# ---- listeners ----

def curl(px, port):
    return px.app.ns_exec(px.lab.CLI_NS, ["curl", "-sS", "--max-time", "10",
                                          f"http://{px.addr}:{port}/"], timeout=30)


def test_listener_added_then_removed_by_reload(px):
    assert curl(px, EXTRA_PORT).returncode != 0
    px.write(extra_listener=True)
    px.reload()
    for _ in range(4):  # several connections: with 2 workers, both own some
        r = curl(px, EXTRA_PORT)
        assert r.returncode == 0 and r.stdout == "extra\n", (r, px.app.log_tail())
    assert ("extra", "FRONTEND") in stat_rows(px)
    px.restore()
    r = curl(px, EXTRA_PORT)
    assert r.returncode == 7, r  # connection refused (RST)
    assert ("extra", "FRONTEND") not in stat_rows(px)
    assert curl(px, 80).returncode == 0


# ---- reloads under load ----

def wrk_numbers(out):
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    reqs = re.search(r"(\d+) requests in", out)
    return (int(reqs.group(1)) if reqs else 0, int(non2xx.group(1)) if non2xx else 0,
            sum(int(x) for x in sock.groups()) if sock else 0)


def test_50_reloads_under_load_lose_nothing(px):
    t = token()
    a = px.conf()
    b = px.conf(eps=("be1", "be2", "be3"))
    wrk = subprocess.Popen(
        ["ip", "netns", "exec", px.lab.CLI_NS, "wrk", "-t1", "-c8", "-d120s", "--timeout", "30s",
         f"http://{px.addr}/load-{t}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        time.sleep(0.5)
        for i in range(50):
            px.app.conf.write_text(b if i % 2 == 0 else a)
            px.reload()
            time.sleep(0.05)
        px.app.conf.write_text(a)
        px.reload()
        time.sleep(0.5)
    finally:
        wrk.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT
        out, _ = wrk.communicate(timeout=60)
    n, non2xx, errors = wrk_numbers(out)
    print(out)
    assert n > 0, out
    assert non2xx == 0 and errors == 0, out
    got = served(px, f"/load-{t}")
    assert got["be1"] > 0 and got["be2"] > 0 and got["be3"] > 0, got
    assert ("app", "be3") not in stat_rows(px)
