#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send COUNT small UDP datagrams to ADDR:PORT as fast as one socket can, for at most MAX_S
seconds, then print how many were sent. bench/labpath.sh uses it for a receive-only load:
sluice drops UDP (net.ip_drop_proto) and answers nothing, so every frame is RX only.

    udpflood.py ADDR PORT COUNT MAX_S
"""

import socket
import sys
import time


def main():
    addr, port, count, max_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    payload = b"x" * 18  # 60-byte frame: the size of a bare TCP ACK
    deadline = time.monotonic() + max_s
    sent = 0
    while sent < count:
        for _ in range(1000):
            try:
                s.send(payload)
                sent += 1
            except (BlockingIOError, ConnectionRefusedError):
                pass
        if time.monotonic() > deadline:
            break
    print(sent)


if __name__ == "__main__":
    main()
