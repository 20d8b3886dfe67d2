# SPDX-License-Identifier: BSD-3-Clause
"""The differential suite's recording backend.

    recorder.py DIR ADDR PORT [PORT ...]

Listens on ADDR:PORT for each PORT (one per proxy under test), records the raw bytes each
connection brings (DIR/raw-PORT-CONN.bin) and frames them with the strict reference parser
(refparser.py). Every event goes, as one JSON line, to DIR/events-PORT.jsonl, flushed at once:
  {"ev": "open", "conn": C, "peer": "ADDR:PORT"}
  {"ev": "req", "conn": C, "idx": I, "method", "target", "version", "host", "headers",
   "head_len", "body_wire", "payload_len", "framing", "xff", "via"}
  {"ev": "error", "conn": C, "idx": I, "reason", "status", "at"}   (answered, then closed)
  {"ev": "tunnel", "conn": C, "bytes": N}                          (bytes echoed in a tunnel)
  {"ev": "close", "conn": C, "received": N, "unframed": N}
Each request it frames gets one fixed answer: 200 with a 3-byte body "ok\\n" and the headers
X-Rec: PORT/CONN/IDX and X-Rec-Target: TARGET, so a client can tell which request a response
belongs to. The exceptions follow HTTP semantics: a valid WebSocket upgrade gets 101 and a
CONNECT gets 200, after which the connection is a tunnel that echoes what it gets; Expect:
100-continue gets "100 Continue" first when the body has not fully arrived; Connection: close
or HTTP/1.0 without keep-alive closes after the answer. A message it cannot frame gets 400
(or the status refparser gives) with Connection: close. Prints "ready" when listening.
"""

import asyncio
import base64
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import refparser  # noqa: E402

BODY = b"ok\n"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)

    def write(self, ev):
        self.f.write(json.dumps(ev) + "\n")
        self.f.flush()


def answer(port, conn, idx, req, close):
    target = req.target.encode("latin1")
    head = [b"HTTP/1.1 200 OK", b"Content-Type: text/plain", b"Content-Length: 3",
            b"X-Rec: %d/%d/%d" % (port, conn, idx), b"X-Rec-Target: " + target[:2000]]
    if close:
        head.append(b"Connection: close")
    body = b"" if req.method == "HEAD" else BODY
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class Conn:
    def __init__(self, srv, reader, writer, cid):
        self.srv, self.reader, self.writer, self.cid = srv, reader, writer, cid
        self.buf = bytearray()
        self.pos = 0
        self.idx = 0
        self.sent_continue = None  # start offset of the request that got 100 Continue
        self.raw = open(srv.dir / f"raw-{srv.port}-{cid}.bin", "wb")

    def ev(self, **kw):
        kw["conn"] = self.cid
        self.srv.log.write(kw)

    async def run(self):
        peer = self.writer.get_extra_info("peername")
        self.ev(ev="open", peer=f"{peer[0]}:{peer[1]}")
        tunnel = False
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.raw.write(data)
                self.raw.flush()
                if tunnel:
                    self.writer.write(data)
                    self.ev(ev="tunnel", bytes=len(data))
                    continue
                self.buf += data
                state = await self.frame()
                if state == "close":
                    break
                if state == "tunnel":
                    tunnel = True
                    rest = bytes(self.buf[self.pos:])
                    if rest:
                        self.writer.write(rest)
                        self.ev(ev="tunnel", bytes=len(rest))
                    self.pos = len(self.buf)
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.ev(ev="close", received=len(self.buf) if not tunnel else -1,
                    unframed=0 if tunnel else len(self.buf) - self.pos)
            self.raw.close()
            try:
                self.writer.close()
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def frame(self):
        buf = bytes(self.buf)
        while self.pos < len(buf):
            try:
                r = refparser.parse_request(buf, self.pos)
            except refparser.HttpError as e:
                self.ev(ev="error", idx=self.idx, reason=e.reason, status=e.status, at=self.pos,
                        head=buf[self.pos:self.pos + 300].decode("latin1"))
                self.writer.write(b"HTTP/1.1 %d Bad\r\nContent-Length: 0\r\n"
                                  b"Connection: close\r\n\r\n" % e.status)
                await self.writer.drain()
                return "close"
            if isinstance(r, refparser.NeedMore):
                h = r.head
                if h is not None and h.expects_continue() and self.sent_continue != h.start:
                    self.sent_continue = h.start
                    self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return "more"
            xff = r.get("x-forwarded-for")
            self.ev(ev="req", idx=self.idx, method=r.method, target=r.target, version=r.version,
                    host=r.host, host_header=r.host_header,
                    headers=[[k, v.decode("latin1")] for k, v in r.headers],
                    head_len=r.head_end - r.start, body_wire=r.end - r.head_end,
                    payload_len=r.payload_len, framing=r.body,
                    xff=[v.decode("latin1") for v in xff],
                    via=[v.decode("latin1") for v in r.get("via")],
                    head=buf[r.start:min(r.head_end, r.start + 600)].decode("latin1"))
            self.pos = r.end
            idx = self.idx
            self.idx += 1
            if r.method == "CONNECT":
                self.writer.write(b"HTTP/1.1 200 Connection established\r\n"
                                  b"X-Rec: %d/%d/%d\r\n\r\n" % (self.srv.port, self.cid, idx))
                return "tunnel"
            if r.is_ws_upgrade():
                key = (r.first("sec-websocket-key") or "").encode()
                accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
                self.writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                  b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                                  b"X-Rec: %d/%d/%d\r\n\r\n"
                                  % (accept, self.srv.port, self.cid, idx))
                return "tunnel"
            close = not r.keep_alive()
            self.writer.write(answer(self.srv.port, self.cid, idx, r, close))
            if close:
                await self.writer.drain()
                return "close"
        return "more"


class Server:
    def __init__(self, d, port):
        self.dir = d
        self.port = port
        self.log = Log(d / f"events-{port}.jsonl")
        self.n = 0

    async def handle(self, reader, writer):
        self.n += 1
        await Conn(self, reader, writer, self.n).run()


async def main(d, addr, ports):
    servers = []
    for p in ports:
        s = Server(d, p)
        servers.append(await asyncio.start_server(s.handle, addr, p, limit=1 << 22))
    print("ready", flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    d = Path(sys.argv[1])
    d.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(d, sys.argv[2], [int(p) for p in sys.argv[3:]]))
