# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the failure-handling suite (test_health.py, issue 10).

As a module (imported by the tests, in the root namespace):
  - HcNginx: one nginx backend on one address:port of a lab backend namespace whose behaviour
    a test switches while it runs, by creating or removing a file nginx tests on every request
    (`if (-f ...)`: nginx's open_file_cache is off, so each request stats it):
        sick_health()  /health answers 500 (traffic on / still 200)
        fail_all()     every request answers 503
        heal()         back to normal
    Its access log records, per request, the wall-clock time, the path, the status, the
    User-Agent, Connection and Host headers and the protocol, so a test tells probes (their own
    path) from traffic and counts both over a time window.
  - Load: continuous client load through sluice, from the client namespace (this file's `load`
    command in a subprocess): several keep-alive connections plus threads that open a new
    connection per request, bounded in time and in requests, counting every failure and every
    status, and which backend (the body "NAME\\n") answered each request when.
  - show_stat_rows / stat_row: `show stat` parsed with csv (HAProxy 2.6's columns).

As a script (`ip netns exec CLI_NS /usr/bin/python3 hclab.py load ...`): the load generator.
It prints `started T` (T: time.monotonic()) once its threads run, then, when a line arrives on
stdin, stdin closes, MAX_S passes or MAX_REQ requests were sent, one JSON line (see
cmd_load). time.monotonic() is CLOCK_MONOTONIC, which `ip netns exec` does not change (no
time namespace), so the test compares its own monotonic times with the load's.
"""

import csv
import io
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = "/usr/bin/python3"
NGINX = "/usr/sbin/nginx"

# One line per request; $msec is the wall-clock time (seconds, ms resolution) of the log write.
HC_LOG_FORMAT = ("$msec $status $request_method $uri $server_protocol "
                 "\"$http_connection\" \"$http_host\" \"$http_user_agent\"")


def hc_nginx_config(name, addr, port, w):
    """nginx.conf of one HcNginx. Locations:
    /        "NAME\\n" (200), or 503 while W/fail_all exists
    /health  "ok\\n" (200), or 500 while W/sick_health exists (or 503 while W/fail_all does)
    """
    return f"""\
daemon off;
master_process off;
worker_processes 1;
pid {w}/nginx.pid;
error_log {w}/error.log info;
events {{ worker_connections 1024; }}
http {{
    log_format hc '{HC_LOG_FORMAT}';
    access_log {w}/access.log hc;
    client_body_temp_path {w}/body;
    proxy_temp_path {w}/proxy;
    fastcgi_temp_path {w}/fastcgi;
    uwsgi_temp_path {w}/uwsgi;
    scgi_temp_path {w}/scgi;
    default_type text/plain;
    keepalive_requests 100000;
    keepalive_timeout 300s;
    server {{
        listen {addr}:{port};
        server_name {name};
        add_header X-Backend {name} always;
        location / {{
            if (-f {w}/fail_all) {{ return 503 "{name} fails\\n"; }}
            return 200 "{name}\\n";
        }}
        location /health {{
            if (-f {w}/fail_all) {{ return 503 "{name} fails\\n"; }}
            if (-f {w}/sick_health) {{ return 500 "{name} sick\\n"; }}
            return 200 "ok\\n";
        }}
    }}
}}
"""


def ns_run(ns, cmd, timeout=30):
    return subprocess.run(["ip", "netns", "exec", ns, *[str(c) for c in cmd]],
                          capture_output=True, text=True, timeout=timeout)


class HcNginx:
    """One nginx on addr:port in namespace ns; its body on / is "NAME\\n"."""

    def __init__(self, ns, name, addr, port):
        self.ns, self.name, self.addr, self.port = ns, name, addr, port
        self.dir = Path(tempfile.mkdtemp(prefix=f"sluice-hc-{name}-"))
        os.chmod(self.dir, 0o755)
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(hc_nginx_config(name, addr, port, self.dir))
        self.access_log = self.dir / "access.log"
        self.error_log = self.dir / "error.log"
        self.proc = None

    def start(self, timeout=10.0):
        """Start (or restart) nginx and wait until it accepts; returns self."""
        import backends  # wait_listening: the same check every suite uses

        self.kill()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, NGINX, "-e", str(self.error_log),
             "-p", str(self.dir), "-c", str(self.conf)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        backends.wait_listening(self.ns, self.addr, self.port, self.proc,
                                f"nginx {self.name}", self.error_log)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Signal the one nginx process (master_process off): SIGKILL is a crash, every
        connection is closed by the kernel (FIN, or RST where data was unread) and new SYNs
        get RST."""
        if self.alive():
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

    def _flag(self, name, on):
        p = self.dir / name
        if on:
            p.write_text("1\n")
        else:
            p.unlink(missing_ok=True)

    def sick_health(self, on=True):
        self._flag("sick_health", on)

    def fail_all(self, on=True):
        self._flag("fail_all", on)

    def heal(self):
        self.sick_health(False)
        self.fail_all(False)

    def entries(self):
        """Access-log entries, oldest first: dicts with t (wall clock), status, method, uri,
        proto, connection, host, ua."""
        out = []
        try:
            text = self.access_log.read_text(errors="replace")
        except FileNotFoundError:
            return out
        for line in text.splitlines():
            head, _, rest = line.partition(' "')
            f = head.split(" ")
            q = ('"' + rest).split('" "')
            if len(f) != 5 or len(q) != 3:
                continue
            out.append({"t": float(f[0]), "status": int(f[1]), "method": f[2], "uri": f[3],
                        "proto": f[4], "connection": q[0].lstrip('"'), "host": q[1],
                        "ua": q[2].rstrip('"')})
        return out

    def count(self, uri_prefix="", t_from=None, t_to=None, status=None):
        """Requests whose uri starts with uri_prefix, logged within [t_from, t_to] (wall
        clock, either may be None), with the given status if one is given."""
        n = 0
        for e in self.entries():
            if not e["uri"].startswith(uri_prefix):
                continue
            if t_from is not None and e["t"] < t_from:
                continue
            if t_to is not None and e["t"] > t_to:
                continue
            if status is not None and e["status"] != status:
                continue
            n += 1
        return n

    def traffic(self, **kw):
        """Requests that are not probes (the probes' path is /health or /hc-...)."""
        return self.count("/", **kw) - self.count("/health", **kw) - self.count("/hc-", **kw)

    def cleanup(self):
        self.kill()
        subprocess.run(["rm", "-rf", str(self.dir)], timeout=60)


# ---- show stat ----

def show_stat_rows(app):
    """`show stat` as a list of dicts keyed by HAProxy's column names."""
    text = app.ctl("show stat")
    lines = text.splitlines()
    assert lines and lines[0].startswith("# pxname,"), text[:300]
    reader = csv.DictReader(io.StringIO("\n".join([lines[0][2:], *lines[1:]])))
    return [r for r in reader if r.get("pxname")]


def stat_row(app, service, endpoint):
    for r in show_stat_rows(app):
        if r["pxname"] == service and r["svname"] == endpoint:
            return r
    raise AssertionError(f"no show stat row {service}/{endpoint}")


# ---- load ----

class Load:
    """The load generator in the client namespace, as a context manager:

        with Load(lab, host_header="kill.test") as load:
            ... break something, wait for sluice to notice ...
        res = load.result        # cmd_load's JSON

    ka: keep-alive connections (one thread each); fresh: threads that open a new connection
    (Connection: close) for every request; pause_ms between one thread's requests;
    req_timeout_s: a request taking longer counts as failed ("timeout"); max_s and max_req
    bound the run whatever the test does."""

    def __init__(self, lab, host_header, path="/", ka=4, fresh=2, pause_ms=10, max_s=40,
                 max_req=40000, req_timeout_s=5.0, port=80):
        self.lab = lab
        self.args = [lab.APP_ADDR, port, host_header, path, ka, fresh, pause_ms, max_s,
                     max_req, req_timeout_s]
        self.max_s = max_s
        self.proc = None
        self.started = None
        self.result = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.lab.CLI_NS, PY, str(HERE / "hclab.py"), "load",
             *[str(a) for a in self.args]],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self._line(15)
        assert line.startswith("started "), f"load generator: {line!r}"
        self.started = float(line.split()[1])
        return self

    def _line(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return ""
        return self.proc.stdout.readline()

    def stop(self):
        """Stop the load and return its result (also kept in self.result)."""
        if self.result is not None:
            return self.result
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        line = self._line(self.max_s + 20)
        if not line:
            self.proc.kill()
            err = self.proc.stderr.read()
            raise AssertionError(f"load generator gave no result: {err[-2000:]}")
        self.proc.wait(timeout=10)
        self.result = json.loads(line)
        return self.result

    def __exit__(self, et, ev, tb):
        if et is None:
            self.stop()
        elif self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        return False


def failures(res):
    """A short text of a load result's failures, for assertion messages."""
    return (f"{res['failed']} failed of {res['requests']} (statuses {res['statuses']}, "
            f"errors {res['errors']}); first: {res['failure_list'][:10]}")


def served_in(res, name, t_from, t_to=None):
    """Requests backend name answered (per the client) that started within [t_from, t_to]."""
    return sum(1 for t in res["served_times"].get(name, [])
               if t >= t_from and (t_to is None or t <= t_to))


def cmd_load(host, port, hosthdr, path, ka, fresh, pause_ms, max_s, max_req, req_timeout):
    """Runs ka keep-alive threads and fresh new-connection threads against host:port until a
    line (or EOF) on stdin, max_s or max_req; returns:
      requests, ok, failed, statuses {code: n}, errors {exception name: n}, closes (keep-alive
      connections sluice ended with Connection: close, each then reopened),
      failure_list [[t, what, latency_s]] (the first 200), served {body: n},
      served_times {body: [t]} (start time of each 200 it answered), latencies (every
      request's, in order of completion), latencies_by_status {code: [s]}, max_latency,
      started, ended, stopped_by."""
    import http.client

    stop = threading.Event()
    lock = threading.Lock()
    st = {"requests": 0, "ok": 0, "failed": 0, "statuses": {}, "errors": {},
          "failure_list": [], "closes": 0, "served": {}, "served_times": {}, "latencies": [],
          "latencies_by_status": {}}

    def record(t0, status, body, err):
        lat = time.monotonic() - t0
        with lock:
            st["requests"] += 1
            st["latencies"].append(round(lat, 4))
            if err is not None:
                st["failed"] += 1
                st["errors"][err] = st["errors"].get(err, 0) + 1
                what = err
            else:
                k = str(status)
                st["statuses"][k] = st["statuses"].get(k, 0) + 1
                st["latencies_by_status"].setdefault(k, []).append(round(lat, 4))
                what = f"HTTP {status}"
                if status == 200:
                    st["ok"] += 1
                    name = body.strip()
                    st["served"][name] = st["served"].get(name, 0) + 1
                    st["served_times"].setdefault(name, []).append(round(t0, 4))
                else:
                    st["failed"] += 1
            if what != "HTTP 200" and len(st["failure_list"]) < 200:
                st["failure_list"].append([round(t0, 4), what, round(lat, 4)])
            if st["requests"] >= max_req:
                stop.set()

    def one(conn, close):
        headers = {"Host": hosthdr}
        if close:
            headers["Connection"] = "close"
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read().decode("latin1")
        return r, body

    def ka_thread():
        conn = None
        while not stop.is_set():
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=req_timeout)
            t0 = time.monotonic()
            try:
                r, body = one(conn, False)
                record(t0, r.status, body, None)
                if r.will_close:  # sluice ends the keep-alive connection: counted, and a
                    with lock:    # new one opened (not a failed request by itself)
                        st["closes"] += 1
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001 (every failure counts, whatever it is)
                record(t0, None, None, type(e).__name__)
                conn.close()
                conn = None
            stop.wait(pause_ms / 1000.0)
        if conn is not None:
            conn.close()

    def fresh_thread():
        while not stop.is_set():
            conn = http.client.HTTPConnection(host, port, timeout=req_timeout)
            t0 = time.monotonic()
            try:
                r, body = one(conn, True)
                record(t0, r.status, body, None)
            except Exception as e:  # noqa: BLE001
                record(t0, None, None, type(e).__name__)
            finally:
                conn.close()
            stop.wait(pause_ms / 1000.0)

    threads = [threading.Thread(target=ka_thread, daemon=True) for _ in range(ka)]
    threads += [threading.Thread(target=fresh_thread, daemon=True) for _ in range(fresh)]
    started = time.monotonic()
    for t in threads:
        t.start()
    print(f"started {started:.4f}", flush=True)
    stopped_by = "time"
    deadline = started + max_s
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([sys.stdin], [], [], min(left, 0.2))
        if r:
            sys.stdin.readline()
            stopped_by = "stdin"
            break
    if stop.is_set() and stopped_by == "time" and time.monotonic() < deadline:
        stopped_by = "count"
    stop.set()
    for t in threads:
        t.join(timeout=req_timeout + 5)
    st["started"] = started
    st["ended"] = time.monotonic()
    st["stopped_by"] = stopped_by
    st["max_latency"] = max(st["latencies"], default=0.0)
    return st


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd != "load":
        raise SystemExit(f"unknown command {cmd}")
    res = cmd_load(a[0], int(a[1]), a[2], a[3], int(a[4]), int(a[5]), float(a[6]),
                   float(a[7]), int(a[8]), float(a[9]))
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
