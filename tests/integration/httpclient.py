# SPDX-License-Identifier: BSD-3-Clause
"""HTTP clients for the integration tests, run inside the client namespace
(`ip netns exec NS /usr/bin/python3 httpclient.py ...`). Each prints one JSON object.

Generated bodies (respond: {bytes: N}) hold byte 'a' + i % 26 at offset i (dataplane/proxy/px.h).
"""

import hashlib
import http.client
import json
import socket
import sys
import time


def pattern_sha256(n):
    period = bytes(range(97, 123))
    h = hashlib.sha256()
    block = period * 4096
    left = n
    while left > 0:
        chunk = block[: min(left, len(block))]
        h.update(chunk)
        left -= len(chunk)
    return h.hexdigest()


def keepalive(host, port, n, path="/"):
    """n GET requests on one keep-alive connection; counts statuses and checks bodies."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    statuses = {}
    bodies = set()
    t0 = time.monotonic()
    for _ in range(n):
        conn.request("GET", path, headers={"Host": "lab"})
        r = conn.getresponse()
        body = r.read()
        statuses[r.status] = statuses.get(r.status, 0) + 1
        bodies.add(body)
        if r.will_close:
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.close()
    return {"statuses": statuses, "bodies": sorted(b.decode("latin1") for b in bodies),
            "seconds": time.monotonic() - t0, "sock_reconnects": 0}


def download(host, port, path):
    """One GET; streams the body, returns its length and sha256."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", path, headers={"Host": "lab"})
    r = conn.getresponse()
    h = hashlib.sha256()
    total = 0
    while True:
        chunk = r.read(1 << 16)
        if not chunk:
            break
        h.update(chunk)
        total += len(chunk)
    conn.close()
    return {"status": r.status, "length": total, "sha256": h.hexdigest(),
            "content_length": int(r.getheader("Content-Length", "-1"))}


def upload(host, port, path, n, chunked=False):
    """POST n bytes of the pattern, Content-Length or chunked; returns the status and body."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    period = bytes(range(97, 123)) * 2520  # 65520 bytes

    def body():
        left = n
        while left > 0:
            c = period[: min(left, len(period))]
            left -= len(c)
            yield c

    headers = {"Host": "lab"}
    if not chunked:
        headers["Content-Length"] = str(n)
    conn.request("POST", path, body=body(), headers=headers, encode_chunked=chunked)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return {"status": r.status, "body": data.decode("latin1")}


def raw(host, port, payload_hex, read_timeout=3.0):
    """Send raw bytes, read until the server closes or read_timeout; return what came back."""
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(bytes.fromhex(payload_hex))
    s.settimeout(read_timeout)
    out = b""
    closed = False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            out += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return {"response": out.decode("latin1"), "closed": closed}


def recv_all(s, read_timeout):
    out = b""
    s.settimeout(read_timeout)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (socket.timeout, ConnectionResetError):
        pass
    return out.decode("latin1")


def interleave(host, port, a1_hex, b_hex, a2_hex, read_timeout=5.0):
    """Connection A sends a1 (the start of a head), connection B then sends b and reads its
    answer until the server closes, then A sends a2 (the rest of its head) and reads its own:
    two heads parsed by one worker in between each other."""
    a = socket.create_connection((host, port), timeout=10)
    a.sendall(bytes.fromhex(a1_hex))
    time.sleep(0.3)  # order only: the test holds whichever way the bytes arrive
    b = socket.create_connection((host, port), timeout=10)
    b.sendall(bytes.fromhex(b_hex))
    rb = recv_all(b, read_timeout)
    b.close()
    a.sendall(bytes.fromhex(a2_hex))
    ra = recv_all(a, read_timeout)
    a.close()
    return {"a": ra, "b": rb}


def staged(host, port, parts_hex, read_timeout=5.0):
    """Send each part on one connection with a pause between them (order only, so that the
    server answers what came before the next part), then read until the server closes."""
    s = socket.create_connection((host, port), timeout=10)
    for i, p in enumerate(parts_hex):
        if i > 0:
            time.sleep(0.3)
        s.sendall(bytes.fromhex(p))
    out = recv_all(s, read_timeout)
    s.close()
    return {"response": out, "closed": True}


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    args = sys.argv[4:]
    if cmd == "keepalive":
        res = keepalive(host, port, int(args[0]), args[1] if len(args) > 1 else "/")
    elif cmd == "download":
        res = download(host, port, args[0])
    elif cmd == "upload":
        res = upload(host, port, args[0], int(args[1]), chunked=len(args) > 2 and args[2] == "chunked")
    elif cmd == "raw":
        res = raw(host, port, args[0], float(args[1]) if len(args) > 1 else 3.0)
    elif cmd == "staged":
        res = staged(host, port, args)
    elif cmd == "interleave":
        res = interleave(host, port, args[0], args[1], args[2])
    elif cmd == "sha":
        res = {"sha256": pattern_sha256(int(args[0]))}
    else:
        raise SystemExit(f"unknown command {cmd}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
