# SPDX-License-Identifier: BSD-3-Clause
"""Hand-made TCP segments against the appliance, run inside the client namespace with
/usr/bin/python3 (scapy). Each subcommand prints one JSON object.

  closed IFACE HOST PORT          SYN to a port nobody listens on
  rst IFACE HOST PORT             RSTs against a live kernel connection (RFC 5961)
  flood IFACE HOST PORT N RATE    N SYNs at RATE/s from fresh source ports
  spoof IFACE HOST PORT N RATE DSTMAC SEED
                                  N SYNs at RATE/s, each from a random source address of
                                  198.18.1.0-198.19.255.255 (the lab's 198.18.0.0/15 outside
                                  its own /24, which stays the lab's), sent as raw frames to
                                  DSTMAC; SYN-ACKs are not waited for
"""

import ipaddress
import json
import random
import socket
import sys
import time

from scapy.all import IP, TCP, AsyncSniffer, Ether, conf, sendp, srp1

conf.verb = 0


def closed(iface, host, port):
    conf.iface = iface
    sport = random.randint(20000, 60000)
    syn = IP(dst=host) / TCP(sport=sport, dport=port, flags="S", seq=12345)
    ans = srp1(Ether() / syn, iface=iface, timeout=3)
    if ans is None or TCP not in ans:
        return {"reply": None}
    t = ans[TCP]
    return {"reply": str(t.flags), "ack": t.ack, "seq": t.seq, "expected_ack": 12346}


def _get(sock):
    sock.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
    data = b""
    while b"hello\n" not in data:
        d = sock.recv(4096)
        if not d:
            break
        data += d
    return data


def rst(iface, host, port):
    conf.iface = iface
    sniff = AsyncSniffer(iface=iface, filter=f"tcp and host {host} and port {port}", store=True)
    sniff.start()
    time.sleep(0.5)
    s = socket.create_connection((host, port), timeout=5)
    lport = s.getsockname()[1]
    first = _get(s)
    time.sleep(0.3)
    sniff.stop()  # results exist only once stopped
    mine = [p for p in sniff.results if p[TCP].sport == lport and p[IP].src != host]
    last = mine[-1][TCP]
    snd_nxt = (last.seq + len(last.payload) + (1 if "F" in str(last.flags) else 0)) % 2**32

    def probe(seq):
        sn = AsyncSniffer(iface=iface, store=True,
                          filter=f"tcp and src host {host} and src port {port} and dst port {lport}")
        sn.start()
        time.sleep(0.3)
        sendp(Ether() / IP(dst=host) / TCP(sport=lport, dport=port, flags="R", seq=seq),
              iface=iface)
        time.sleep(0.7)
        sn.stop()
        return [(str(p[TCP].flags), p[TCP].ack) for p in sn.results]

    in_window = probe((snd_nxt + 1000) % 2**32)
    out_window = probe((snd_nxt + 2**31) % 2**32)
    second = _get(s)
    s.close()
    return {
        "first_ok": b"hello\n" in first,
        "in_window_replies": in_window,
        "out_window_replies": out_window,
        "snd_nxt": snd_nxt,
        "survived": b"hello\n" in second,
    }


def flood(iface, host, port, n, rate):
    conf.iface = iface
    synacks = []
    sniff = AsyncSniffer(iface=iface, store=False,
                         filter=f"tcp and src host {host} and src port {port}",
                         prn=lambda p: synacks.append(1) if str(p[TCP].flags) == "SA" else None)
    sniff.start()
    time.sleep(0.3)
    base = random.randint(10000, 30000)
    pkts = [Ether() / IP(dst=host) / TCP(sport=base + i, dport=port, flags="S",
                                         seq=random.randint(0, 2**32 - 1),
                                         options=[("MSS", 1460)])
            for i in range(n)]
    t0 = time.monotonic()
    sendp(pkts, iface=iface, inter=1.0 / rate)
    elapsed = time.monotonic() - t0
    time.sleep(1.0)
    sniff.stop()
    return {"sent": n, "synacks": len(synacks), "seconds": elapsed}


LAB_RANGE = ipaddress.ip_network("198.18.0.0/15")


def spoof(iface, host, port, n, rate, dstmac, seed):
    conf.iface = iface
    rng = random.Random(seed)
    lo = int(ipaddress.ip_address("198.18.1.0"))
    hi = int(ipaddress.ip_address("198.19.255.254"))
    pkts, sources = [], set()
    for _ in range(n):
        src = ipaddress.ip_address(rng.randint(lo, hi))
        assert src in LAB_RANGE  # never a source outside the lab's range
        sources.add(src)
        pkts.append(Ether(dst=dstmac) / IP(src=str(src), dst=host)
                    / TCP(sport=rng.randint(1024, 65535), dport=port, flags="S",
                          seq=rng.randint(0, 2**32 - 1), options=[("MSS", 1460)]))
    t0 = time.monotonic()
    sendp(pkts, iface=iface, inter=1.0 / rate)
    return {"sent": n, "sources": len(sources), "seconds": time.monotonic() - t0}


def main():
    cmd, iface, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if cmd == "closed":
        res = closed(iface, host, port)
    elif cmd == "rst":
        res = rst(iface, host, port)
    elif cmd == "flood":
        res = flood(iface, host, port, int(sys.argv[5]), float(sys.argv[6]))
    elif cmd == "spoof":
        res = spoof(iface, host, port, int(sys.argv[5]), float(sys.argv[6]), sys.argv[7],
                    int(sys.argv[8]))
    else:
        raise SystemExit(f"unknown command {cmd}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
