# SPDX-License-Identifier: BSD-3-Clause
"""Flood one URL over keep-alive connections for a bounded time; print one JSON line.

rl_client.py HOST PATH SECONDS CONNS [SRC[=KEY]...]: CONNS threads per source address (with
KEY: sending X-Api-Key: KEY, results under "SRC=KEY"), each with
its own connection (re-opened when the server closes it), send GET after GET. Output:
{"SRC": {"200": n, "429": n, "other": n, "retry_after": [min, max], "missing_ra": n}, ...,
"elapsed": s} where elapsed runs from the first request sent to the last answer read.
"""

import json
import socket
import sys
import threading
import time


def one_conn(host, path, spec, deadline, out, lock, first):
    src, _, key = spec.partition("=")
    extra = f"X-Api-Key: {key}\r\n" if key else ""
    req = f"GET {path} HTTP/1.1\r\nHost: rl.test\r\n{extra}\r\n".encode()
    s = None
    buf = b""
    while time.monotonic() < deadline:
        if s is None:
            s = socket.create_connection((host, 80), timeout=5, source_address=(src, 0))
            buf = b""
        with lock:
            if first[0] is None:
                first[0] = time.monotonic()
        s.sendall(req)
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                raise RuntimeError("closed before a response head")
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split()[1]
        hdrs = {k.strip().lower(): v.strip()
                for k, v in (ln.split(":", 1) for ln in lines[1:])}
        n = int(hdrs.get("content-length", "0"))
        while len(buf) < n:
            d = s.recv(65536)
            if not d:
                raise RuntimeError("closed in a body")
            buf += d
        buf = buf[n:]
        with lock:
            o = out[spec]
            o["last"] = time.monotonic()
            if status in ("200", "429"):
                o[status] += 1
            else:
                o["other"] += 1
            if status == "429":
                ra = hdrs.get("retry-after")
                if ra is None or not ra.isdigit():
                    o["missing_ra"] += 1
                else:
                    v = int(ra)
                    o["retry_after"] = [min(o["retry_after"][0], v), max(o["retry_after"][1], v)]
        if hdrs.get("connection", "").lower() == "close":
            s.close()
            s = None
    if s is not None:
        s.close()


def main():
    host, path, secs, conns = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    srcs = sys.argv[5:] or ["0.0.0.0"]
    out = {s: {"200": 0, "429": 0, "other": 0, "retry_after": [1 << 30, 0], "missing_ra": 0,
               "last": 0.0} for s in srcs}
    lock = threading.Lock()
    first = [None]
    deadline = time.monotonic() + secs
    ts = [threading.Thread(target=one_conn, args=(host, path, s, deadline, out, lock, first))
          for s in srcs for _ in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=secs + 20)
    last = max(o.pop("last") for o in out.values())
    out["elapsed"] = last - (first[0] or last)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
