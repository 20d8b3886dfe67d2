# SPDX-License-Identifier: BSD-3-Clause
"""A lossy link for the lab, in userspace: relays Ethernet frames between two interfaces with
AF_PACKET sockets, dropping, reordering and duplicating IPv4 frames at random (ARP passes
untouched). It stands in for `tc netem`, which this kernel may lack.

  impair.py IF_A IF_B LOSS REORDER DUP SECONDS [SEED]

Runs until SECONDS elapse or it is killed; prints one JSON line of what it did on exit.
"""

import json
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_ARP = b"\x08\x06"


def open_if(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((name, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.setblocking(False)
    return s


def main():
    if_a, if_b = sys.argv[1], sys.argv[2]
    loss, reorder, dup = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    seconds = float(sys.argv[6])
    rng = random.Random(int(sys.argv[7]) if len(sys.argv) > 7 else 1)
    a, b = open_if(if_a), open_if(if_b)
    peer = {a: b, b: a}
    held = {a: None, b: None}  # a frame held back to be sent after the next one
    stats = {"relayed": 0, "dropped": 0, "reordered": 0, "duplicated": 0}
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    deadline = time.monotonic() + seconds

    def send(out, frame):
        try:
            out.send(frame)
        except (BlockingIOError, OSError):
            stats["dropped"] += 1

    while not stop[0] and time.monotonic() < deadline:
        ready, _, _ = select.select([a, b], [], [], 0.05)
        if not ready:
            for s in (a, b):  # flush held frames when the link goes quiet
                if held[s] is not None:
                    send(peer[s], held[s])
                    held[s] = None
            continue
        for s in ready:
            for _ in range(64):
                try:
                    frame, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    continue  # our own transmissions on this interface
                out = peer[s]
                stats["relayed"] += 1
                if frame[12:14] == ETH_P_ARP:
                    send(out, frame)
                    continue
                r = rng.random()
                if r < loss:
                    stats["dropped"] += 1
                    continue
                if held[s] is None and r < loss + reorder:
                    held[s] = frame
                    stats["reordered"] += 1
                    continue
                send(out, frame)
                if rng.random() < dup:
                    send(out, frame)
                    stats["duplicated"] += 1
                if held[s] is not None:
                    send(out, held[s])
                    held[s] = None
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
