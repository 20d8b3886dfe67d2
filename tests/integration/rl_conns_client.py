# SPDX-License-Identifier: BSD-3-Clause
"""max_connections_per_client from one process: rl_conns_client.py HOST PORT N SRC OTHER.

Opens N keep-alive connections from SRC (each served one request), then one more from SRC,
then one from OTHER, then closes one of the N and retries from SRC (for up to 2 s, while the
appliance sees the close). Prints JSON: {"held": [status...], "extra": status or error,
"other": ..., "after_close": ...}. A status is "200"; a refusal "reset" or "eof".
"""

import json
import socket
import sys
import time


def request(s):
    buf = b""
    try:
        # the refused connection's RST may arrive before the request goes out
        s.sendall(b"GET / HTTP/1.1\r\nHost: conns.test\r\n\r\n")
        while b"\r\n\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                return "eof"
            buf += d
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except socket.timeout:
        return "timeout"
    return buf.split(b" ", 2)[1].decode()


def connect(host, port, src):
    try:
        s = socket.create_connection((host, port), timeout=3, source_address=(src, 0))
    except (ConnectionResetError, ConnectionRefusedError):
        return None, "reset"
    return s, request(s)


def close(s):
    if s is not None:
        s.close()


def main():
    host, port, n, src, other = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], \
        sys.argv[5]
    held = [connect(host, port, src) for _ in range(n)]
    out = {"held": [r for _, r in held]}
    s, out["extra"] = connect(host, port, src)
    close(s)
    s, out["other"] = connect(host, port, other)
    close(s)
    held[0][0].close()
    deadline = time.monotonic() + 2
    while True:
        s, r = connect(host, port, src)
        close(s)
        if r == "200" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    out["after_close"] = r
    for s, _ in held[1:]:
        close(s)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
