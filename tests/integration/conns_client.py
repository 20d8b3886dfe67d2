# SPDX-License-Identifier: BSD-3-Clause
"""Client connections held open for test_show_conns.py, run in the client namespace:

  conns_client.py HOST PORT N_IDLE STALL_HOST STALL_PATH

Opens N_IDLE keep-alive connections, each carrying one `GET /idle/I` answered in full, then
one connection whose `GET STALL_PATH` (Host: STALL_HOST) goes to a backend that never answers.
Prints one JSON line {"idle": [[addr, port], ...], "stalled": [addr, port]} once every idle
connection has its response and the stalled request is sent, then holds them all until a line
"close" (or EOF) on stdin, closes them and prints {"closed": N}.
"""

import json
import socket
import sys


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d:
            raise SystemExit("connection closed before the response head")
        data += d
    head, rest = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        d = s.recv(4096)
        if not d:
            raise SystemExit("connection closed inside the body")
        rest += d
    return int(head.split(b" ", 2)[1])


def main():
    host, port, n_idle, stall_host, stall_path = sys.argv[1:6]
    port, n_idle = int(port), int(n_idle)
    socks, idle = [], []
    for i in range(n_idle):
        s = socket.create_connection((host, port), timeout=20)
        s.sendall(f"GET /idle/{i} HTTP/1.1\r\nHost: direct.test\r\n\r\n".encode())
        status = read_response(s)
        if status != 200:
            raise SystemExit(f"idle connection {i}: status {status}")
        socks.append(s)
        idle.append(list(s.getsockname()))
    st = socket.create_connection((host, port), timeout=20)
    st.sendall(f"GET {stall_path} HTTP/1.1\r\nHost: {stall_host}\r\n\r\n".encode())
    socks.append(st)
    print(json.dumps({"idle": idle, "stalled": list(st.getsockname())}), flush=True)
    for line in sys.stdin:
        if line.strip() == "close":
            break
    for s in socks:
        s.close()
    print(json.dumps({"closed": len(socks)}), flush=True)


if __name__ == "__main__":
    main()
