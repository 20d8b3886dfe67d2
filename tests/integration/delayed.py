# SPDX-License-Identifier: BSD-3-Clause
"""A slow HTTP/1.1 backend for the circuit_breaker tests: `delayed.py ADDR PORT DELAY_S`
answers every request with 200 after DELAY_S seconds (one thread per connection), and prints
one line per accepted connection ("conn") and per request ("req PATH", then "inflight N": the
requests being answered at that instant, this one included) to stdout, flushed."""

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
INFLIGHT = [0]


def say(line):
    with LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    delay = 1.0

    def setup(self):
        say("conn")
        super().setup()

    def do_GET(self):
        with LOCK:
            INFLIGHT[0] += 1
            n = INFLIGHT[0]
        say("req " + self.path)
        say("inflight %d" % n)
        time.sleep(self.delay)
        with LOCK:
            INFLIGHT[0] -= 1
        body = b"slow\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def main():
    H.delay = float(sys.argv[3])
    srv = ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H)
    srv.daemon_threads = True
    say("listening")
    srv.serve_forever()


if __name__ == "__main__":
    main()
