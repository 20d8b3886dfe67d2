#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Idle connections: what one idle keep-alive connection costs sluice, and nginx (issue 3).

    sudo ./bench/idle.sh [N]        (default 100000; run from the repository root or anywhere)

One lab (scripts/lab.sh, via tests/integration/lab.py). The client namespace gets several
source addresses (198.18.0.100, .101, ...: at most 30000 connections each) and the whole local
port range; bench/idle_client.py opens N connections, each sends one keep-alive GET and reads
the response, then holds them idle. While they are idle this script reads:
  sluice  show pools (control socket): TCBs, sessions and mbufs in use, bytes per idle
          connection (TCB + connection table share + session) from the pools' own accounting,
          and the process RSS (VmRSS) before and during (its pools are allocated and zeroed at
          start, so the RSS delta is expected near 0: the cost was paid up front);
  nginx   (same lab, same client, same N, workers on the kernel veth holding the same
          address, reuseport) the workers' RSS delta / N, and the kernel's: the slab caches a TCP socket
          uses (TCP, sock_inode_cache, filp, dentry, eventpoll_*) grown during the hold, minus
          the same growth in sluice's run (where only the client's sockets are kernel sockets),
          i.e. the server's share; approximate, since the slab counters are machine-wide.
Then the client closes first (TIME_WAIT stays on the client) and the script checks that sluice's
TCB and session pools and its mbufs in use return to the baseline.

Bounded: each open phase stops after OPEN_TIMEOUT seconds, each wait after 60 s; the lab and
every process are removed on exit. Exit status 0 when sluice held every connection, reported
at most 512 bytes per idle connection, held no mbuf for them, and freed everything after close.
SLUICE_BUILD_DIR picks the build (default build/). SKIP_NGINX=1 skips the comparison.
"""

import json
import math
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import lab as lablib  # noqa: E402

PY = "/usr/bin/python3"
CLIENT = ROOT / "bench" / "idle_client.py"
PER_SRC = 30000
BUDGET = 512  # TCB + table share + HTTP session (request state is taken per request)
SLAB_CACHES = ("TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi", "eventpoll_pwq")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def pow2_at_least(n):
    return 1 << max(10, math.ceil(math.log2(n)))


def sluice_config(lab, sock, max_conns):
    return f"""\
dataplane:
  eal: ["--no-huge", "-m", "1024", "--no-pci"]
  workers: 1
  mbufs: 32768
  max_connections: {max_conns}
  idle_sleep_us: 100
  ports:
    - name: lan
      device: "{lab.APP_DEVICE},framecnt=4096"
      address: {lab.APP_ADDR}/{lab.LAB_PREFIXLEN}
listeners:
  - name: web
    port: 80
    limits: {{ max_connections: {2 * max_conns}, header_timeout_ms: 60000,
              idle_timeout_ms: 3600000 }}
    routes:
      - match: {{ path_prefix: "/" }}
        respond: {{ status: 200, body: "hello\\n", content_type: "text/plain" }}
control:
  socket: {sock}
"""


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def slab_bytes():
    """Bytes in the slab caches a TCP socket uses (machine-wide), by cache."""
    out = {}
    try:
        lines = Path("/proc/slabinfo").read_text().splitlines()[2:]
    except OSError:
        return {}
    for line in lines:
        f = line.split()
        if f[0] in SLAB_CACHES:
            out[f[0]] = int(f[1]) * int(f[3])  # active_objs * objsize
    return out


def slab_delta(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in SLAB_CACHES}


def pools(app):
    return lablib.parse_counters(app.ctl("show pools"))


class Client:
    """bench/idle_client.py in the client namespace, driven over its stdin/stdout."""

    def __init__(self, lab, n, srcs, open_timeout):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", lab.CLI_NS, PY, str(CLIENT), lab.APP_ADDR, "80", str(n),
             ",".join(srcs), "--timeout", str(open_timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            raise RuntimeError(f"idle_client: no answer within {timeout} s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"idle_client exited ({self.proc.wait(5)})")
        return json.loads(line)

    def cmd(self, c, timeout=60):
        self.proc.stdin.write(c + "\n")
        self.proc.stdin.flush()
        return self.read(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def wait_for(fn, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.2)


def hold(lab, n, srcs, open_timeout):
    """Open n idle connections; returns (client, ready answer)."""
    c = Client(lab, n, srcs, open_timeout)
    ready = c.read(open_timeout + 60)
    time.sleep(1.0)  # delayed ACKs, last segments settle
    return c, ready


def run_sluice(lab, n, srcs, open_timeout, res):
    max_conns = pow2_at_least(n + n // 20 + 64)
    sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
    app = lablib.Sluice(lab, config_text=sluice_config(lab, sock, max_conns))
    client = None
    try:
        app.start()
        time.sleep(0.5)
        base = pools(app)
        rss0 = rss_kib(app.pid)
        slab0 = slab_bytes()
        log(f"sluice: opening {n} connections from {len(srcs)} addresses")
        client, ready = hold(lab, n, srcs, open_timeout)
        held = pools(app)
        rss1 = rss_kib(app.pid)
        slab1 = slab_bytes()
        check = client.cmd("check")
        log(f"sluice: {ready}, {check}")
        closed = client.cmd("close")
        client.proc.wait(60)

        def back():
            p = pools(app)
            return p if (p["mem.tcbs_used"] == base["mem.tcbs_used"]
                         and p["mem.sessions_used"] == base["mem.sessions_used"]
                         and p["mem.mbufs_in_use"] <= base["mem.mbufs_in_use"]) else None

        after = wait_for(back) or pools(app)
        est = ready["established"]
        res["sluice"] = {
            "n": n, "established": est, "failed": ready["failed"], "open_s": ready["seconds"],
            "alive_when_checked": check["alive"], "closed_by_peer": check["closed_by_peer"],
            "max_connections": max_conns,
            "tcb_bytes": held["mem.tcb_bytes"], "session_bytes": held["mem.session_bytes"],
            "hash_bytes": held["worker0.mem.hash_bytes"],
            "idle_conn_bytes": held["mem.idle_conn_bytes"],
            "req_bytes": held["mem.req_bytes"], "reqs_max": held["worker0.mem.reqs_max"],
            "reqs_used_idle": held["mem.reqs_used"],
            "conn_slot_bytes": held["mem.conn_slot_bytes"],
            "tcbs_used": [base["mem.tcbs_used"], held["mem.tcbs_used"], after["mem.tcbs_used"]],
            "sessions_used": [base["mem.sessions_used"], held["mem.sessions_used"],
                              after["mem.sessions_used"]],
            "mbufs_in_use": [base["mem.mbufs_in_use"], held["mem.mbufs_in_use"],
                             after["mem.mbufs_in_use"]],
            "time_wait_after": after["mem.time_wait"],
            "pool_bytes": held["mem.pool_bytes"],
            "rss_kib": [rss0, rss1], "rss_delta_per_conn": round((rss1 - rss0) * 1024 / max(est, 1), 1),
            "slab_delta": slab_delta(slab0, slab1), "closed": closed["closed"],
        }
        rc = app.stop()
        if rc != 0:
            raise RuntimeError(f"sluice exited {rc}:\n{app.log_tail()}")
    finally:
        if client is not None:
            client.kill()
        app.cleanup()


NGINX_CONF = """\
worker_processes {workers};
worker_rlimit_nofile {nofile};
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections {nofile}; use epoll; }}
http {{
	access_log off;
	client_body_temp_path {d}/body;
	proxy_temp_path {d}/proxy;
	fastcgi_temp_path {d}/fastcgi;
	uwsgi_temp_path {d}/uwsgi;
	scgi_temp_path {d}/scgi;
	keepalive_requests 100000000;
	keepalive_timeout 3600s;
	server {{
		listen {addr}:80 backlog=65535 reuseport;
		location / {{ default_type text/plain; return 200 "hello\\n"; }}
	}}
}}
"""


def run_nginx(lab, n, srcs, open_timeout, res):
    d = Path(tempfile.mkdtemp(prefix="sluice-bench-idle-"))
    os.chmod(d, 0o755)
    proc = client = None
    try:
        lab.ns_exec(lab.LAB_NS, ["ip", "addr", "replace", f"{lab.APP_ADDR}/{lab.LAB_PREFIXLEN}",
                                 "dev", lab.APP_IF], check=True)
        lab.ns_exec(lab.LAB_NS, ["sysctl", "-qw", "net.core.somaxconn=65535",
                                 "net.ipv4.tcp_max_syn_backlog=65535"])
        # One process holds at most RLIMIT_NOFILE sockets (20000 here, and no CAP_SYS_RESOURCE
        # to raise it): enough workers that reuseport's hash leaves each well under it.
        workers = max(1, -(-n // 14000))
        (d / "nginx.conf").write_text(NGINX_CONF.format(
            workers=workers, nofile=min(n + 2048, 19500), d=d, addr=lab.APP_ADDR))
        proc = subprocess.Popen(
            ["ip", "netns", "exec", lab.LAB_NS, "nginx",
             "-e", str(d / "error.log"), "-p", str(d), "-c", str(d / "nginx.conf")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def worker_pids():
            r = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
            pids = r.stdout.split()
            return pids if len(pids) == workers else None

        wpids = wait_for(worker_pids, 10)
        listening = wait_for(lambda: lab.ns_exec(lab.LAB_NS, [
            "ss", "-Hltn", f"src {lab.APP_ADDR}:80"]).stdout.strip(), 10)
        if not wpids or not listening:
            raise RuntimeError(f"nginx did not start: {(d / 'error.log').read_text()[-300:]}")
        time.sleep(0.5)
        rss0 = sum(rss_kib(p) for p in wpids)
        slab0 = slab_bytes()
        log(f"nginx: opening {n} connections from {len(srcs)} addresses")
        client, ready = hold(lab, n, srcs, open_timeout)
        rss1 = sum(rss_kib(p) for p in wpids)
        slab1 = slab_bytes()
        sockstat = lab.ns_exec(lab.LAB_NS, ["cat", "/proc/net/sockstat"]).stdout
        check = client.cmd("check")
        log(f"nginx: {ready}, {check}")
        client.cmd("close")
        client.proc.wait(60)
        est = ready["established"]
        res["nginx"] = {
            "n": n, "established": est, "failed": ready["failed"], "open_s": ready["seconds"],
            "alive_when_checked": check["alive"], "workers": workers,
            "rss_kib": [rss0, rss1],
            "rss_delta_per_conn": round((rss1 - rss0) * 1024 / max(est, 1), 1),
            "slab_delta": slab_delta(slab0, slab1),
            "sockstat_tcp": [l for l in sockstat.splitlines() if l.startswith("TCP:")],
        }
    finally:
        if client is not None:
            client.kill()
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(d, ignore_errors=True)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    if not 1 <= n <= 1000000:
        sys.exit("usage: idle.sh [N 1-1000000]")
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces): sudo ./bench/idle.sh")
    open_timeout = max(60, n // 500)
    nsrc = max(2, math.ceil(n / PER_SRC))
    srcs = [f"198.18.0.{100 + i}" for i in range(nsrc)]
    res = {}
    lab = lablib.Lab()
    lab.up()
    try:
        for a in srcs:
            lab.ns_exec(lab.CLI_NS, ["ip", "addr", "add", f"{a}/{lab.LAB_PREFIXLEN}", "dev",
                                     lab.CLI_IF], check=True)
        lab.ns_exec(lab.CLI_NS, ["sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535",
                                 "net.ipv4.tcp_max_tw_buckets=2000000"], check=True)
        run_sluice(lab, n, srcs, open_timeout, res)
        if os.environ.get("SKIP_NGINX") != "1" and shutil.which("nginx"):
            run_nginx(lab, n, srcs, open_timeout, res)
    finally:
        lab.down()
    report(res)
    s = res["sluice"]
    ok = (s["established"] == n and s["alive_when_checked"] == n
          and s["idle_conn_bytes"] <= BUDGET and s["reqs_used_idle"] == 0
          and s["mbufs_in_use"][1] <= s["mbufs_in_use"][0]
          and s["tcbs_used"][2] == s["tcbs_used"][0]
          and s["sessions_used"][2] == s["sessions_used"][0]
          and s["mbufs_in_use"][2] <= s["mbufs_in_use"][0])
    print("result:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


def report(res):
    print(json.dumps(res, indent=1))
    s = res["sluice"]
    print()
    print("| server | N held | bytes / idle conn | how measured |")
    print("| --- | --- | --- | --- |")
    print(f"| sluice | {s['established']} | {s['idle_conn_bytes']} | pool accounting: TCB "
          f"{s['tcb_bytes']} + table {s['hash_bytes']} B / {s['max_connections']} TCBs + session "
          f"{s['session_bytes']}; request states held {s['reqs_used_idle']} (pool "
          f"{s['reqs_max']} x {s['req_bytes']} B); reserved per connection slot "
          f"{s['conn_slot_bytes']} B; mbufs in use {s['mbufs_in_use'][0]} -> {s['mbufs_in_use'][1]};"
          f" RSS delta {s['rss_delta_per_conn']} B/conn (pools preallocated: "
          f"{s['pool_bytes'] // 1024} KiB) |")
    if "nginx" in res:
        g = res["nginx"]
        kern = sum(g["slab_delta"].values()) - sum(s["slab_delta"].values())
        print(f"| nginx 1.22 | {g['established']} | {g['rss_delta_per_conn']} user + "
              f"~{round(kern / max(g['established'], 1))} kernel | worker RSS delta / N; "
              f"slab growth (TCP, sock_inode_cache, filp, dentry, eventpoll) minus sluice run's |")


if __name__ == "__main__":
    main()
