# SPDX-License-Identifier: BSD-3-Clause
"""A misbehaving HTTP backend and a bounded load client for the proxy fault tests
(test_proxy_faults.py), each run inside a lab namespace with /usr/bin/python3:

  faults.py server ADDR PORT
      Prints "ready" once listening, then answers each connection by the request's path:
        /stall-body   a head announcing Content-Length: 100, 10 bytes of body, then silence
        /silent       nothing at all
        anything else 200 "ok\\n" and close
      A stalled connection is held (never closed by the server) until the peer ends it; each
      such end prints one line "closed PATH", so a test can tell the proxy gave up on it.

  faults.py slow-heads HOST PORT CONNS INTERVAL_S LIMIT_S
      Slowloris by hand: CONNS connections each send the start of a request head, then one
      more header line every INTERVAL_S, never the blank line, until the server answers or
      closes (or LIMIT_S passes). Prints {"results": [[status or null, seconds from the
      first byte to the answer or close], ...]} as JSON.

  faults.py churn HOST PORT CONNS PER_CONN HOSTHDR
      CONNS concurrent keep-alive client connections, PER_CONN GETs each (a bounded load, not
      a timed one); prints {"statuses": {status: count}, "errors": [...]} as JSON.
"""

import asyncio
import json
import socket
import sys
import threading


def serve(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        d = conn.recv(4096)
        if not d:
            conn.close()
            return
        data += d
    parts = data.split(b" ", 2)
    path = parts[1].decode("latin1") if len(parts) > 2 else "/"
    if path.startswith("/stall-body"):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Backend: fault\r\n\r\n"
                     b"0123456789")
    elif not path.startswith("/silent"):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        conn.close()
        return
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
    print(f"closed {path}", flush=True)
    conn.close()


def server(addr, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(128)
    print("ready", flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


async def _one_conn(host, port, n, hosthdr, statuses, errors):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
    except Exception as e:  # noqa: BLE001 - reported, not raised
        errors.append(f"connect: {e!r}")
        return
    try:
        for i in range(n):
            w.write(f"GET /churn/{i} HTTP/1.1\r\nHost: {hosthdr}\r\n\r\n".encode())
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await asyncio.wait_for(r.readexactly(length), 30)
            statuses[status] = statuses.get(status, 0) + 1
            if b"connection: close" in head.lower():
                errors.append(f"closed by the server after status {status}")
                return
    except Exception as e:  # noqa: BLE001
        errors.append(f"request: {e!r}")
    finally:
        w.close()


async def _churn(host, port, conns, per_conn, hosthdr):
    statuses, errors = {}, []
    await asyncio.gather(*(_one_conn(host, port, per_conn, hosthdr, statuses, errors)
                           for _ in range(conns)))
    return {"statuses": statuses, "errors": errors[:20], "n_errors": len(errors)}


async def _slow_head(host, port, interval, limit, out):
    t0 = None
    status = None
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        w.write(b"GET /slow-head HTTP/1.1\r\nHost: lab\r\n")
        await w.drain()
        read = asyncio.ensure_future(r.read(4096))
        n = 0
        while loop.time() - t0 < limit:
            done, _ = await asyncio.wait([read], timeout=interval)
            if done:
                data = read.result()
                if data.startswith(b"HTTP/1."):
                    status = int(data.split(b" ", 2)[1])
                break
            n += 1
            w.write(b"X-Slow-%d: %d\r\n" % (n, n))
            await w.drain()
        else:
            read.cancel()
        out.append([status, round(loop.time() - t0, 3)])
        w.close()
    except Exception as e:  # noqa: BLE001 - reported, not raised
        out.append([None, repr(e)])


async def _slow_heads(host, port, conns, interval, limit):
    out = []
    await asyncio.gather(*(_slow_head(host, port, interval, limit, out) for _ in range(conns)))
    return {"results": out}


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "server":
        server(args[0], int(args[1]))
    elif cmd == "churn":
        res = asyncio.run(_churn(args[0], int(args[1]), int(args[2]), int(args[3]), args[4]))
        print(json.dumps(res), flush=True)
    elif cmd == "slow-heads":
        res = asyncio.run(_slow_heads(args[0], int(args[1]), int(args[2]), float(args[3]),
                                      float(args[4])))
        print(json.dumps(res), flush=True)
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
