# SPDX-License-Identifier: BSD-3-Clause
"""Real backends for the reverse-proxy tests, and the clients that talk to them.

As a module (imported by the tests, running in the root namespace):
  - Nginx: one nginx (Debian's nginx-light: nginx plus the echo module) in a lab backend
    namespace, in the foreground as one process (master_process off), with its own config,
    logs and temp dirs. Its answers say who it is, so a test can count which backend served a
    request, and its access log records every request with the connection it came on.
  - WsEcho: a WebSocket echo server (python3-websockets) in a backend namespace.
  - write_pattern_file: the 'a' + i % 26 body that httpclient.pattern_sha256 hashes.

As a script (`ip netns exec NS /usr/bin/python3 backends.py COMMAND ...`), each client command
prints one JSON object; ws-server runs until killed:
  keepalive HOST PORT N PATH [HOSTHDR]   N GETs on one connection: status and body of each
  slow-get HOST PORT PATH HOSTHDR MIN [LIMIT_S]  GET, print {"started": t, "head": ...} once MIN
                                          body bytes came,
                                          then read to the end: bytes, how it ended, when
  ws-client URL                           WebSocket round trips (text, binary, 1 MiB)
  ws-server ADDR PORT                     the echo server (prints "ready" when listening)
"""

import asyncio
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = "/usr/bin/python3"
NGINX = "/usr/sbin/nginx"
ECHO_MODULE = Path("/usr/lib/nginx/modules/ngx_http_echo_module.so")
START_TIMEOUT = 10.0

# $uri has no spaces for the paths the tests use; $request_length counts the request line,
# the head and the body as nginx read them.
LOG_FORMAT = "$connection $connection_requests $request_length $status $request_method $uri"


def write_pattern_file(path, n):
    """n bytes of 'a' + i % 26 (the same body httpclient.pattern_sha256(n) hashes)."""
    period = bytes(range(97, 123)) * 2520  # 65520 bytes, a multiple of 26
    with open(path, "wb") as f:
        left = n
        while left > 0:
            c = period[: min(left, len(period))]
            f.write(c)
            left -= len(c)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def nginx_config(name, addr, port, workdir, docroot, slow_rate):
    """The nginx.conf of one backend. Locations:
    /          "NAME\\n" (identity: which backend answered)
    /uri/      "NAME $request_uri\\n" (which request this answer is for)
    /echo      "$http_x_forwarded_for|$http_via|$http_host\\n" as the backend received them
    /big       DOCROOT/big, a 50 MB pattern file
    /slow      the same file at slow_rate bytes/s
    /upload    reads the whole body (any size, Content-Length or chunked) into a file that
               it keeps, and answers with that file's path
    """
    w = Path(workdir)
    echo = f"load_module {ECHO_MODULE};\n" if ECHO_MODULE.exists() else ""
    return f"""\
{echo}daemon off;
master_process off;
worker_processes 1;
pid {w}/nginx.pid;
error_log {w}/error.log info;
events {{ worker_connections 1024; }}
http {{
    log_format lab '{LOG_FORMAT}';
    access_log {w}/access.log lab;
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
        location / {{ return 200 "{name}\\n"; }}
        location /uri/ {{ return 200 "{name} $request_uri\\n"; }}
        location = /echo {{
            return 200 "$http_x_forwarded_for|$http_via|$http_host\\n";
        }}
        location = /big {{ root {docroot}; }}
        location = /slow {{ alias {docroot}/big; limit_rate {slow_rate}; }}
        location = /upload {{
            client_max_body_size 0;
            client_body_buffer_size 1m;
            client_body_in_file_only on;
            echo_read_request_body;
            echo $request_body_file;
        }}
    }}
}}
"""


def ns_run(ns, cmd, timeout=30):
    return subprocess.run(["ip", "netns", "exec", ns, *[str(c) for c in cmd]],
                          capture_output=True, text=True, timeout=timeout)


def wait_listening(ns, addr, port, proc, what, log=None):
    """Poll until something accepts on addr:port inside ns; fail if proc died or timeout."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            detail = Path(log).read_text(errors="replace") if log and Path(log).exists() else ""
            raise AssertionError(f"{what} exited with status {proc.returncode}:\n{detail}")
        r = ns_run(ns, ["ss", "-Hltn", f"src {addr}:{port}"], timeout=10)
        if r.stdout.strip():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not listening on {addr}:{port} after {START_TIMEOUT} s")


class Nginx:
    """One nginx backend in namespace ns on addr:port. name is what it answers on /."""

    def __init__(self, ns, name, addr, port, docroot, slow_rate=131072):
        self.ns, self.name, self.addr, self.port = ns, name, addr, port
        self.dir = Path(tempfile.mkdtemp(prefix=f"sluice-nginx-{name}-"))
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(nginx_config(name, addr, port, self.dir, docroot, slow_rate))
        self.access_log = self.dir / "access.log"
        self.error_log = self.dir / "error.log"
        self.proc = None

    def start(self):
        if not ECHO_MODULE.exists():
            raise AssertionError(f"{ECHO_MODULE} is missing: install nginx-light (scripts/deps.sh)")
        # -e: the error log before the config is read (else /var/log/nginx, maybe unwritable).
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, NGINX, "-e", str(self.error_log),
             "-p", str(self.dir), "-c", str(self.conf)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_listening(self.ns, self.addr, self.port, self.proc, f"nginx {self.name}",
                       self.error_log)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Signal the one nginx process (master_process off: it serves every connection)."""
        if self.alive():
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

    def stop(self):
        self.kill(signal.SIGTERM)

    def entries(self, uri_prefix=""):
        """Access-log entries whose $uri starts with uri_prefix, oldest first, as dicts."""
        out = []
        try:
            text = self.access_log.read_text(errors="replace")
        except FileNotFoundError:
            return out
        for line in text.splitlines():
            f = line.split(" ")
            if len(f) != 6 or not f[5].startswith(uri_prefix):
                continue
            out.append({"connection": int(f[0]), "connection_requests": int(f[1]),
                        "request_length": int(f[2]), "status": int(f[3]), "method": f[4],
                        "uri": f[5]})
        return out

    def cleanup(self):
        self.kill()
        subprocess.run(["rm", "-rf", str(self.dir)], timeout=60)


def start_nginxes(lab, n, port, docroot, started):
    """nginx be1..beN (n <= 3) on the lab's backend namespaces and addresses, all on port;
    each goes into started before it starts, so a fixture's teardown stops what did start.
    Returns them in order."""
    nodes = [(lab.BE1_NS, lab.BE1_ADDR), (lab.BE2_NS, lab.BE2_ADDR), (lab.BE3_NS, lab.BE3_ADDR)]
    out = []
    for i, (ns, addr) in enumerate(nodes[:n]):
        b = Nginx(ns, f"be{i + 1}", addr, port, docroot)
        started.append(b)
        out.append(b.start())
    return out


class WsEcho:
    """A WebSocket echo server (this file's ws-server command) in namespace ns."""

    def __init__(self, ns, addr, port):
        self.ns, self.addr, self.port = ns, addr, port
        self.log = Path(tempfile.mkstemp(prefix="sluice-ws-", suffix=".log")[1])
        self.proc = None

    def start(self):
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, PY, str(Path(__file__).resolve()),
                 "ws-server", self.addr, str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        wait_listening(self.ns, self.addr, self.port, self.proc, "ws echo server", self.log)
        return self

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.unlink(missing_ok=True)


# ---- client and server commands, run inside a namespace ----

def cmd_keepalive(host, port, n, path, hosthdr="lab"):
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=15)
    out = []
    reconnects = 0
    for _ in range(n):
        conn.request("GET", path, headers={"Host": hosthdr})
        r = conn.getresponse()
        out.append([r.status, r.read().decode("latin1")])
        if r.will_close:
            reconnects += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=15)
    conn.close()
    return {"responses": out, "reconnects": reconnects}


def cmd_slow_get(host, port, path, hosthdr, min_bytes, limit_s=30.0):
    """Reads the head and min_bytes of body, announces it (a line on stdout, for the test to
    act on), then reads on until the server closes, resets, or limit_s passes."""
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {hosthdr}\r\n\r\n".encode())
    s.settimeout(limit_s)
    got = b""
    while b"\r\n\r\n" not in got or len(got) - got.index(b"\r\n\r\n") - 4 < min_bytes:
        d = s.recv(65536)
        if not d:
            return {"error": "closed before min_bytes", "head": got[:200].decode("latin1")}
        got += d
    head, _, body = got.partition(b"\r\n\r\n")
    print(json.dumps({"started": time.monotonic(), "head": head.decode("latin1")}), flush=True)
    total = len(body)
    end = "timeout"
    deadline = time.monotonic() + limit_s
    try:
        while time.monotonic() < deadline:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            d = s.recv(65536)
            if not d:
                end = "eof"
                break
            total += len(d)
    except socket.timeout:
        end = "timeout"
    except ConnectionResetError:
        end = "reset"
    ended = time.monotonic()
    s.close()
    return {"head": head.decode("latin1"), "body_bytes": total, "end": end, "ended": ended}


async def _ws_client(url):
    import websockets

    out = {}
    async with websockets.connect(url, max_size=None, open_timeout=10, close_timeout=5) as ws:
        await ws.send("hello through sluice")
        out["text"] = await asyncio.wait_for(ws.recv(), 10)
        blob = bytes(range(256)) * 64
        await ws.send(blob)
        echoed = await asyncio.wait_for(ws.recv(), 10)
        out["binary_ok"] = echoed == blob
        big = os.urandom(1 << 20)
        await ws.send(big)
        echoed = await asyncio.wait_for(ws.recv(), 20)
        out["big_ok"] = echoed == big
        msgs = [f"m{i}" for i in range(100)]
        for m in msgs:
            await ws.send(m)
        back = [await asyncio.wait_for(ws.recv(), 10) for _ in msgs]
        out["ordered_ok"] = back == msgs
    out["closed_cleanly"] = True
    return out


def cmd_ws_client(url):
    return asyncio.run(asyncio.wait_for(_ws_client(url), 60))


async def _ws_server(addr, port):
    import websockets

    async def echo(ws, path=None):  # websockets 10.x passes path; later versions do not
        async for msg in ws:
            await ws.send(msg)

    async with websockets.serve(echo, addr, port, max_size=None):
        print("ready", flush=True)
        await asyncio.Future()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "keepalive":
        res = cmd_keepalive(args[0], int(args[1]), int(args[2]), args[3],
                            args[4] if len(args) > 4 else "lab")
    elif cmd == "slow-get":
        res = cmd_slow_get(args[0], int(args[1]), args[2], args[3], int(args[4]),
                           float(args[5]) if len(args) > 5 else 30.0)
    elif cmd == "ws-client":
        res = cmd_ws_client(args[0])
    elif cmd == "ws-server":
        asyncio.run(_ws_server(args[0], int(args[1])))
        return
    else:
        raise SystemExit(f"unknown command {cmd}")
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
