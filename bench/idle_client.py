#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Hold N idle keep-alive HTTP/1.1 connections (bench/idle.sh, tests/integration/test_idle_conns.py).

    idle_client.py HOST PORT N SRC[,SRC...] [--timeout S] [--inflight K]

Opens N connections to HOST:PORT, spread over the source addresses SRC (round robin; the kernel
picks the port at connect time, so each address has the whole local port range), at most K
handshakes/requests in flight at once. Each connection sends one keep-alive GET / and reads the
whole response (Content-Length), so it is established and has carried data both ways; then it
is left idle. Non-blocking sockets, one epoll.

Protocol on stdout/stdin (one JSON object per line):
  -> {"ready": true, "established": E, "failed": F, "seconds": T}   all N tried (or --timeout)
  <- "check"   -> {"alive": A, "closed_by_peer": C}   poll every idle socket once, no wait
  <- "close"   -> {"closed": E}                        the client closes first (FIN from here:
                                                       TIME_WAIT stays on this side); exit 0
Bounded: the open phase stops at --timeout (default 120 s); stdin EOF closes everything.
A process may hold only as many sockets as RLIMIT_NOFILE allows (and raising the hard limit needs
CAP_SYS_RESOURCE, which containers often lack), so above PER_PROC connections the client runs
children of PER_PROC connections each and sums their answers.
"""

import errno
import json
import resource
import select
import socket
import subprocess
import sys
import time

IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h: choose the port at connect(), per 4-tuple
PER_PROC = 15000


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def response_complete(buf):
    """True once buf holds a whole response head and its Content-Length body."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(buf) >= end + 4 + length


def main():
    args = sys.argv[1:]
    timeout, inflight_max = 120.0, 256
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    if "--inflight" in args:
        i = args.index("--inflight")
        inflight_max = int(args[i + 1])
        del args[i:i + 2]
    host, port, n, srcs = args[0], int(args[1]), int(args[2]), args[3].split(",")
    if n > PER_PROC:
        return parent(args, n, timeout, inflight_max)
    need = n + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(need, hard)), hard))

    request = f"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: idle_client\r\n\r\n".encode()
    ep = select.epoll()
    pending = {}  # fd -> [sock, phase (0 connecting, 1 reading), buffer]
    idle = {}  # fd -> sock
    started = failed = 0
    t0 = time.monotonic()
    deadline = t0 + timeout

    while (started < n or pending) and time.monotonic() < deadline:
        while started < n and len(pending) < inflight_max:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind((srcs[started % len(srcs)], 0))
            started += 1
            rc = s.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                failed += 1
                s.close()
                continue
            pending[s.fileno()] = [s, 0, b""]
            ep.register(s.fileno(), select.EPOLLOUT)
        for fd, ev in ep.poll(0.2):
            st = pending.get(fd)
            if st is None:
                continue
            s = st[0]
            ok = True
            if st[1] == 0:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    ok = False
                else:
                    s.send(request)  # a few dozen bytes into an empty socket buffer
                    st[1] = 1
                    ep.modify(fd, select.EPOLLIN)
            else:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    ok = False
                else:
                    st[2] += data
                    if response_complete(st[2]):
                        ep.unregister(fd)
                        del pending[fd]
                        idle[fd] = s
                        continue
            if not ok:
                ep.unregister(fd)
                del pending[fd]
                s.close()
                failed += 1
    for fd, st in pending.items():  # timed out mid-way
        ep.unregister(fd)
        st[0].close()
        failed += 1
    failed += n - started
    say({"ready": True, "established": len(idle), "failed": failed,
         "seconds": round(time.monotonic() - t0, 2)})

    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "check":
            # Every idle socket once, no wait: readable or hung up means the peer closed it
            # (or sent bytes it should not have).
            ep2 = select.epoll(sizehint=len(idle) + 1)
            for fd in idle:
                ep2.register(fd, select.EPOLLIN | select.EPOLLRDHUP)
            closed = 0
            while True:
                evs = ep2.poll(0, maxevents=4096)
                closed += len(evs)
                for fd, _ in evs:
                    ep2.unregister(fd)
                if len(evs) < 4096:
                    break
            ep2.close()
            say({"alive": len(idle) - closed, "closed_by_peer": closed})
        elif cmd == "close":
            break
    count = len(idle)
    for s in idle.values():
        s.close()
    say({"closed": count})


def parent(args, n, timeout, inflight_max):
    """Split n over children of at most PER_PROC connections; sum their answers."""
    k = -(-n // PER_PROC)
    kids = []
    for i in range(k):
        part = n // k + (1 if i < n % k else 0)
        kids.append(subprocess.Popen(
            [sys.executable, __file__, args[0], args[1], str(part), args[3], "--timeout",
             str(timeout), "--inflight", str(max(16, inflight_max // k))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))

    def gather():
        out = {}
        for p in kids:
            line = p.stdout.readline()
            if not line:
                sys.exit(f"idle_client: a child exited ({p.wait()})")
            for key, v in json.loads(line).items():
                out[key] = v if isinstance(v, bool) else (max(out.get(key, 0), v)
                                                        if key == "seconds" else
                                                        out.get(key, 0) + v)
        return out

    say(gather())
    for line in sys.stdin:
        cmd = line.strip()
        if cmd not in ("check", "close"):
            continue
        for p in kids:
            p.stdin.write(cmd + "\n")
            p.stdin.flush()
        say(gather())
        if cmd == "close":
            break
    for p in kids:
        p.stdin.close()
        p.wait(60)


if __name__ == "__main__":
    main()
