# SPDX-License-Identifier: BSD-3-Clause
"""A backend that breaks keep-alive the way real ones do at their idle timeout: it answers each
request with an HTTP/1.1 keep-alive response (Content-Length, no Connection: close) and then
ends the connection within 3 ms, with FIN (even connections) or RST (odd ones, SO_LINGER 0), so
that a proxy reusing the connection races the close.

    kaclose.py ADDR PORT     serve until killed; one line "accepted N" per connection on stdout
"""

import random
import socket
import struct
import sys
import threading
import time


def serve_one(conn, n):
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        body = b"kaclose %d\n" % n
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        # a little later, as an idle timeout would: the proxy's next request is on its way
        time.sleep(random.uniform(0, 0.003))
        if n % 2:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    finally:
        conn.close()


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(128)
    print("listening", flush=True)
    n = 0
    while True:
        conn, _ = s.accept()
        n += 1
        print("accepted %d" % n, flush=True)
        threading.Thread(target=serve_one, args=(conn, n), daemon=True).start()


if __name__ == "__main__":
    main()
