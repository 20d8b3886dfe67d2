# SPDX-License-Identifier: BSD-3-Clause
"""The differential suite's client: runs inside the lab's client namespace.

    driver.py JOB.json OUT.json

JOB names the cases (cases.py ids), and for each proxy under test its address, the recording
backend's event file for that proxy, and (sluice) its access log. Each proxy gets a thread;
within one proxy the cases run one after the other, so everything the backend records between
the start of a case and the moment it has settled belongs to that case. For each case and
proxy it writes what the client got back (status, X-Rec headers, how the connection ended),
the client's source port, the backend events of the case and the access-log lines of that
client connection.
"""

import json
import os
import re
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases as caselib  # noqa: E402
import refparser  # noqa: E402

IDLE_S = 1.0  # no byte from the proxy for this long: the case is over
EXTRA_S = 0.15  # once every expected answer came, wait this long for unexpected ones
SETTLE_S = 0.25  # the backend's and sluice's logs unchanged for this long: settled
SETTLE_MAX_S = 4.0
WAIT_100_S = 1.0  # like curl: send the body after 1 s without an interim answer
METHOD_RE = re.compile(rb"(?:\A|\n)[\r\n]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+) [^ \r\n]+ HTTP/")


def methods_of(payload):
    return [m.decode() for m in METHOD_RE.findall(payload)]


class Client:
    def __init__(self, addr, case):
        self.addr, self.case = addr, case
        self.buf = b""
        self.end = None
        self.responses = []
        self.methods = methods_of(case.payload())
        self.tunnel_echo = None
        self.parsed = 0  # offset of the next response in buf
        self.error = None

    def recv(self, s, timeout):
        """Read what comes within timeout; False once the connection ended."""
        s.settimeout(timeout)
        try:
            d = s.recv(65536)
        except socket.timeout:
            return True
        except ConnectionResetError:
            self.end = "reset"
            return False
        except OSError as e:
            self.end = f"error {e.errno}"
            return False
        if not d:
            self.end = "eof"
            return False
        self.buf += d
        return True

    def finals(self, eof=False):
        """Parse new responses in buf; returns the count of final ones so far."""
        while self.parsed < len(self.buf):
            k = len([r for r in self.responses if r["status"] >= 200 or r["status"] == 101])
            method = self.methods[k] if k < len(self.methods) else "GET"
            try:
                r = refparser.parse_response(self.buf, self.parsed, method, eof)
            except (ValueError, IndexError) as e:
                self.error = str(e)
                self.parsed = len(self.buf)
                break
            if r is None:
                break
            self.responses.append({"status": r.status, "x_rec": r.first("x-rec"),
                                   "x_rec_target": r.first("x-rec-target"),
                                   "body_len": r.body_len,
                                   "head": r.head[:400].decode("latin1")})
            self.parsed = r.end
            if r.status == 101 or (method == "CONNECT" and 200 <= r.status < 300):
                self.responses[-1]["tunnel"] = True
                # what follows is the tunnel, not HTTP
                self.tunnel_start = self.parsed
                self.parsed = len(self.buf) + (1 << 30)
                break
        return len([r for r in self.responses if r["status"] >= 200 or r["status"] == 101])

    def run(self):
        c = self.case
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        t0 = time.monotonic()
        try:
            s.connect(self.addr)
        except OSError as e:
            return {"error": f"connect: {e}", "sport": 0}
        sport = s.getsockname()[1]
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        alive = True
        try:
            for i, p in enumerate(c.parts):
                if i > 0:
                    if c.wait_100:
                        deadline = time.monotonic() + WAIT_100_S
                        while alive and not self.buf and time.monotonic() < deadline:
                            alive = self.recv(s, deadline - time.monotonic())
                    else:
                        time.sleep(0.05)
                if not alive:
                    break
                s.sendall(p)
        except OSError as e:
            self.end = f"send failed: {e.strerror}"
            alive = False
        tunnel_sent = False
        last = time.monotonic()
        done_at = None
        while alive:
            n = len(self.buf)
            alive = self.recv(s, 0.05)
            now = time.monotonic()
            if len(self.buf) != n:
                last = now
            if self.parsed > len(self.buf):  # in a tunnel
                if c.tunnel and not tunnel_sent:
                    try:
                        s.sendall(c.tunnel)
                    except OSError:
                        break
                    tunnel_sent = True
                    last = now
                if c.tunnel and c.tunnel in self.buf[self.tunnel_start:]:
                    self.tunnel_echo = True
                    break
            elif self.finals() >= c.expect and done_at is None:
                done_at = now
            if done_at is not None and now - done_at >= EXTRA_S:
                self.end = self.end or "complete"
                break
            if now - last >= IDLE_S:
                self.end = "idle"
                break
        if self.parsed <= len(self.buf):
            self.finals(eof=self.end in ("eof", "reset"))
        if tunnel_sent and self.tunnel_echo is None:
            self.tunnel_echo = False
        s.close()
        return {"sport": sport, "responses": self.responses, "end": self.end or "eof",
                "tunnel_echo": self.tunnel_echo, "received": len(self.buf),
                "client_error": self.error, "secs": round(time.monotonic() - t0, 3)}


def file_size(p):
    try:
        return os.path.getsize(p)
    except OSError:
        return 0


def read_from(p, off):
    with open(p, "rb") as f:
        f.seek(off)
        return f.read()


def settle(paths, ready=None):
    """Wait until ready() holds and none of paths grew for SETTLE_S (at most SETTLE_MAX_S)."""
    sizes = [file_size(p) for p in paths]
    stable_since = time.monotonic()
    deadline = stable_since + SETTLE_MAX_S
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now_sizes = [file_size(p) for p in paths]
        if now_sizes != sizes:
            sizes = now_sizes
            stable_since = time.monotonic()
        elif time.monotonic() - stable_since >= SETTLE_S and (ready is None or ready()):
            break


def run_proxy(px, cases, results):
    events = px["events"]
    alog = px.get("access_log")
    paths = [events] + ([alog] if alog else [])
    out = {}
    for c in cases:
        ev_off = file_size(events)
        al_off = file_size(alog) if alog else 0
        r = Client((px["addr"], px["port"]), c).run()
        mine = f" {px.get('client_addr')}:{r['sport']} "

        def access():
            return [ln for ln in read_from(alog, al_off).decode("latin1").splitlines()
                    if mine in ln]

        def ready():
            # sluice logs every request of a connection that sent bytes, at the latest when
            # the connection ends: at least one line, and one for each answer from the backend
            # (control writes the log every 10 ms tick, later on a busy machine)
            rs = r.get("responses", [])
            tunnels = [x for x in rs if x["status"] == 101 or x.get("tunnel")]
            backend = len([x for x in rs if x.get("x_rec") and x not in tunnels])
            return len(access()) >= (backend if rs else 1)

        settle(paths, ready if alog and r["sport"] else None)
        r["events"] = [json.loads(line) for line in
                       read_from(events, ev_off).decode().splitlines() if line]
        if alog:
            r["access"] = access()
        out[c.id] = r
    results[px["name"]] = out


def main():
    job = json.loads(Path(sys.argv[1]).read_text())
    by_id = {c.id: c for c in caselib.all_cases()}
    cases = [by_id[i] for i in job["cases"]]
    results = {}
    threads = [threading.Thread(target=run_proxy, args=(px, cases, results))
               for px in job["proxies"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    Path(sys.argv[2]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
