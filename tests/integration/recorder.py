# SPDX-License-Identifier: BSD-3-Clause
"""A recording HTTP/1.1 backend for the request-framing tests (test_framing.py): it frames what
it receives with a strict parser of its own and writes one JSON line per request it framed, so
a test can compare what the backend saw with what sluice was sent.

  recorder.py ADDR PORT LOG

Prints "ready" once listening. Per request it appends to LOG
  {"conn": C, "n": N, "method": M, "target": T, "version": V, "headers": [[name, value]...],
   "body": B}
(C counts connections from 1, N requests on that connection from 1, B the body length), and
answers 200 with that JSON as its body. Framing is RFC 9112's: Transfer-Encoding chunked
(exactly), else Content-Length, else no body. A head it cannot frame gets 400 and a close, and
a line {"conn": C, "error": "..."}.

Paths that misbehave on purpose:
  /extra   the answer is followed by a second, unsolicited response on the same connection
  /early   answered as soon as the head is in, before the body is read (it is read after)
  Expect: 100-continue   "HTTP/1.1 100 Continue" first, then the answer
"""

import itertools
import json
import socket
import sys
import threading

LOCK = threading.Lock()
CONNS = itertools.count(1)


class Bad(Exception):
    pass


class Conn:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            if b"\n" in self.buf:
                raise Bad("bare LF")
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def read_head(c):
    line = c.line()
    while line == b"":  # empty lines before a request line (RFC 9112 2.2)
        line = c.line()
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise Bad(f"request line {line!r}")
    headers = []
    while True:
        h = c.line()
        if h == b"":
            break
        if b":" not in h or h[:1] in (b" ", b"\t"):
            raise Bad(f"field line {h!r}")
        name, value = h.split(b":", 1)
        if name != name.strip() or not name:
            raise Bad(f"field name {name!r}")
        headers.append([name.decode("latin1"), value.strip(b" \t").decode("latin1")])
    return [p.decode("latin1") for p in parts], headers


def body_length(c, headers):
    te = [v for n, v in headers if n.lower() == "transfer-encoding"]
    cl = [v for n, v in headers if n.lower() == "content-length"]
    if te:
        if cl or len(te) != 1 or te[0].lower() != "chunked":
            raise Bad(f"transfer-encoding {te} content-length {cl}")
        total = 0
        while True:
            size = c.line().split(b";", 1)[0]
            n = int(size, 16)
            if n == 0:
                while c.line() != b"":  # trailers
                    pass
                return total
            c.take(n)
            if c.take(2) != b"\r\n":
                raise Bad("chunk without CRLF")
            total += n
    if cl:
        if len(set(cl)) != 1 or not cl[0].isdigit():
            raise Bad(f"content-length {cl}")
        n = int(cl[0])
        c.take(n)
        return n
    return 0


def answer(body, close=False):
    b = body.encode()
    extra = "Connection: close\r\n" if close else ""
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(b)}\r\n{extra}\r\n".encode() + b


def serve(sock, log):
    conn = next(CONNS)
    c = Conn(sock)
    try:
        for n in itertools.count(1):
            try:
                (method, target, version), headers = read_head(c)
            except EOFError:
                return
            expect = any(k.lower() == "expect" for k, _ in headers)
            if expect:
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            rec = {"conn": conn, "n": n, "method": method, "target": target,
                   "version": version, "headers": headers}
            if target.startswith("/early"):
                sock.sendall(answer(json.dumps(rec)))
                rec["body"] = body_length(c, headers)
            else:
                rec["body"] = body_length(c, headers)
                resp = answer(json.dumps(rec))
                if target.startswith("/extra"):
                    resp += answer("unsolicited")
                sock.sendall(resp)
            with LOCK:
                log.write(json.dumps(rec) + "\n")
                log.flush()
    except (Bad, ValueError) as e:
        with LOCK:
            log.write(json.dumps({"conn": conn, "error": str(e)}) + "\n")
            log.flush()
        try:
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
        except OSError:
            pass
    except (EOFError, OSError):
        pass
    finally:
        sock.close()


def main():
    addr, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    log = open(path, "a", encoding="utf-8")
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(128)
    print("ready", flush=True)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s, log), daemon=True).start()


if __name__ == "__main__":
    main()
