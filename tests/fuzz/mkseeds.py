#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the libFuzzer targets into tests/fuzz/seeds/<target>/.

Seeds are committed; rerun this after changing it (it rewrites the generated files and
leaves other files alone). Each HTTP seed starts with the three control bytes of
tests/fuzz/fuzz_util.h (flags, number of segments, cut seed). Configuration seeds are the
files of configs/ plus small hand-written ones; frame seeds are built by tcp_frames().
"""
import hashlib
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, 'tests', 'fuzz', 'seeds')

H = b'Host: a\r\n'

# Request heads: ordinary forms, then the smuggling and strictness forms sluice must refuse or
# frame exactly once (CL+TE, double CL, obs-fold, bare LF, bare CR, chunk extensions, TE tricks,
# Connection naming framing fields).
REQUESTS = [
    b'GET /a?b HTTP/1.1\r\nHost: a:80\r\nContent-Length: 5\r\n'
    b'Connection: keep-alive, upgrade\r\nExpect: 100-continue\r\n\r\nhello',
    b'POST http://a/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'
    b'5;a="b"\r\nhello\r\n0\r\nT: 1\r\n\r\n',
    b'CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n',
    b'OPTIONS * HTTP/1.0\r\n\r\n',
    b'GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n',
    b'GET / HTTP/1.0\r\n\r\n',
    b'\r\n\r\nGET / HTTP/1.1\r\n' + H + b'\r\n',
    b'HEAD /index.html HTTP/1.1\r\n' + H + b'Connection: close\r\n\r\n',
    b'PUT /up HTTP/1.1\r\n' + H + b'Content-Length: 3\r\nExpect: 100-continue\r\n\r\nabc',
    b'GET http://a:8080/p?q=1 HTTP/1.1\r\nHost: a:8080\r\n\r\n',
    b'GET http://a/p HTTP/1.1\r\nHost: b\r\n\r\n',
    b'GET /ws HTTP/1.1\r\n' + H + b'Connection: Upgrade\r\nUpgrade: websocket\r\n'
    b'Sec-WebSocket-Version: 13\r\n\r\n',
    b'PROPFIND /dav HTTP/1.1\r\n' + H + b'Depth: 1\r\nContent-Length: 0\r\n\r\n',
    b'get / HTTP/1.1\r\n' + H + b'\r\n',
    b'GET / HTTP/1.2\r\n' + H + b'\r\n',
    b'GET / HTTP/2.0\r\n' + H + b'\r\n',
    b'GET /%zz HTTP/1.1\r\n' + H + b'\r\n',
    b'GET /a#frag HTTP/1.1\r\n' + H + b'\r\n',
    # CL + TE, both orders
    b'POST / HTTP/1.1\r\n' + H + b'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n'
    b'0\r\n\r\n',
    b'POST / HTTP/1.1\r\n' + H + b'Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n'
    b'0\r\n\r\n',
    # double CL: identical, differing, list
    b'POST / HTTP/1.1\r\n' + H + b'Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
    b'POST / HTTP/1.1\r\n' + H + b'Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    b'POST / HTTP/1.1\r\n' + H + b'Content-Length: 5, 5\r\n\r\nhello',
    b'POST / HTTP/1.1\r\n' + H + b'Content-Length: +5\r\n\r\nhello',
    b'POST / HTTP/1.1\r\n' + H + b'Content-Length: 99999999999999999999999\r\n\r\n',
    # TE obfuscations
    b'POST / HTTP/1.1\r\n' + H + b'Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n',
    b'POST / HTTP/1.1\r\n' + H + b'Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
    b'POST / HTTP/1.1\r\n' + H + b'Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n'
    b'\r\n0\r\n\r\n',
    b'POST / HTTP/1.1\r\n' + H + b'Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
    b'POST / HTTP/1.1\r\n' + H + b'Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n',
    b'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    # obs-fold, bare LF, bare CR, NUL
    b'GET / HTTP/1.1\r\n' + H + b'X: a\r\n b\r\n\r\n',
    b'GET / HTTP/1.1\r\n' + H + b'Transfer-Encoding:\r\n chunked\r\n\r\n',
    b'GET / HTTP/1.1\n' + H + b'\r\n',
    b'GET / HTTP/1.1\r\nHost: a\n\n',
    b'GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n',
    b'GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n',
    b'\x00\x00\x00GET / HTTP/1.1\r\n' + H + b'\r\n',
    b'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03' + bytes(range(32)),
    # Host tricks
    b'GET / HTTP/1.1\r\n\r\n',
    b'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    b'GET / HTTP/1.1\r\nHost: a b\r\n\r\n',
    b'GET / HTTP/1.1\r\nHost: [::1\r\n\r\n',
    # Connection naming framing fields (issue 8 item 1)
    b'POST / HTTP/1.1\r\n' + H + b'Content-Length: 5\r\nConnection: Content-Length\r\n\r\n'
    b'hello',
    b'POST / HTTP/1.1\r\n' + H + b'Content-Length: 5\r\nConnection: close, Content-Length\r\n'
    b'Connection: Host\r\n\r\nhello',
    b'POST / HTTP/1.1\r\n' + H + b'Transfer-Encoding: chunked\r\n'
    b'Connection: Transfer-Encoding\r\n\r\n0\r\n\r\n',
    b'GET / HTTP/1.1\r\n' + H + b'Expect: 100-continue\r\nConnection: Expect\r\n\r\n',
    b'GET / HTTP/1.1\r\n' + H + b'Expect: something\r\n\r\n',
    b'GET / HTTP/1.1\r\n' + H + b'Connection: ' + b', '.join(b'x%d' % i for i in range(20)) +
    b'\r\n\r\n',
    b'GET / HTTP/1.1\r\n' + H + b''.join(b'X-%d: %d\r\n' % (i, i) for i in range(12)) +
    b'\r\n',
    b'GET /' + b'a' * 40 + b' HTTP/1.1\r\n' + H + b'\r\n',
    # pipelined
    b'GET /1 HTTP/1.1\r\n' + H + b'\r\nGET /2 HTTP/1.1\r\n' + H + b'\r\n',
]

RESPONSES = [
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    b'HTTP/1.0 100 Continue\r\nContent-Length: 3\r\n\r\nabc',
    b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
    b'HTTP/1.1 204 No Content\r\n\r\n',
    b'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
    b'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    b'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n'
    b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    b'HTTP/1.1 200 Connection established\r\n\r\n',
    b'HTTP/1.0 200 OK\r\n\r\nuntil close',
    b'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n',
    b'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    b'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx',
    b'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    b'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n',
    b'HTTP/1.1 200 OK\nContent-Length: 0\n\n',
    b'HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\nok',
    b'HTTP/1.1 999 Odd\r\n\r\n',
    b'HTTP/1.1 20 OK\r\n\r\n',
    b'HTTP/2 200\r\n\r\n',
    b'HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
]

# Chunked bodies (no head). Flags byte 0: kind in bits 0-1 (0 chunked, 2 length, 3 close).
CHUNKED = [
    b'a;x=y\r\n0123456789\r\n0\r\nX: y\r\n\r\n',
    b'5\r\nhello\r\n0\r\n\r\n',
    b'5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    b'0\r\n\r\n',
    b'000\r\n\r\n',
    b'5;name=value;q="a b"\r\nhello\r\n0;last\r\n\r\n',
    b'5 ;x\r\nhello\r\n0\r\n\r\n',
    b'5\nhello\n0\n\n',
    b'5\r\nhelloXX0\r\n\r\n',
    b'-5\r\nhello\r\n0\r\n\r\n',
    b'0x5\r\nhello\r\n0\r\n\r\n',
    b'ffffffffffffffffff\r\n',
    b'1\r\na\r\n0\r\nTrailer: x\r\nAnother: y\r\n\r\n',
    b'1\r\na\r\n0\r\nBad Trailer: x\r\n\r\n',
    b'1\r\na\r\n0\r\nT: x\r\n folded\r\n\r\n',
    b'3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n',
    b'A\r\n0123456789\r\n0\r\n\r\n',
    b'5;' + b'e' * 300 + b'\r\nhello\r\n0\r\n\r\n',
]


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def http_seeds():
    for target, msgs in (('http_req_fuzz', REQUESTS), ('http_resp_fuzz', RESPONSES)):
        for i, m in enumerate(msgs):
            # one piece; and cut into a few segments; small limits for a third of them
            write(target, 'm%02d' % i, bytes([1 if i % 3 == 2 else 0, 0, 0]) + m)
            write(target, 'm%02d-cut' % i, bytes([0, 5 + i % 7, i * 37 % 256]) + m)
    for i, m in enumerate(CHUNKED):
        write('http_chunk_fuzz', 'c%02d' % i, bytes([0, 0, 0]) + m)
        write('http_chunk_fuzz', 'c%02d-cut' % i, bytes([4 if i % 4 == 3 else 0, 6, i]) + m)
    write('http_chunk_fuzz', 'len', bytes([2, 3, 9, 0, 5]) + b'hello, and more')
    write('http_chunk_fuzz', 'close', bytes([3, 2, 1]) + b'anything at all')


# ---- tcp_fuzz records (tests/fuzz/tcp_fuzz.c) ----
FIN, SYN, RST, PSH, ACK, URG = 1, 2, 4, 8, 16, 32


def seg(flags, peer=0, port=0, sel=0, bad=False, opts=True, dseq=0, dack=0, win=65535,
        plen=0, raw=b'', ts=0, ipf=1):
    r1 = peer | port << 2 | sel << 4 | (0x40 if bad else 0) | (0x80 if opts else 0)
    return (bytes([1, flags, r1]) + struct.pack('>hhH', dseq, dack, win) +
            bytes([plen // 4, len(raw), ts, ipf]) + raw)


def tick(arg):
    return bytes([2 | arg << 3])


def user(idx, action, arg=0):
    return bytes([3 | arg << 3, idx | action << 4])


def connect(peer=0, lport=0):
    return bytes([4 | (lport << 2 | peer) << 3])


def cksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(payload, ethertype=0x0800, dst=b'\x02\0\0\0\0\x0a'):
    return dst + b'\x02\0\0\0\0\x02' + struct.pack('>H', ethertype) + payload


def ipv4(payload, proto=6, src=bytes([198, 18, 0, 2]), dst=bytes([198, 18, 0, 10])):
    h = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 7, 0x4000, 64, proto, 0,
                    src, dst)
    h = h[:10] + struct.pack('>H', cksum(h)) + h[12:]
    return h + payload


def raw(frame, fix=True, nsegs=1, hw=False):
    arg = (1 if fix else 0) | (nsegs - 1) << 1 | (8 if hw else 0)
    return bytes([arg << 3]) + struct.pack('>H', len(frame)) + frame


def tcp_frames():
    hs = seg(SYN) + seg(ACK, dack=0)
    arp_req = eth(struct.pack('>HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, b'\x02\0\0\0\0\x02',
                              bytes([198, 18, 0, 2]), b'\0' * 6, bytes([198, 18, 0, 10])),
                  0x0806, b'\xff' * 6)
    icmp = b'\x08\0\0\0\x12\x34\0\x01' + b'ping' * 8
    icmp = icmp[:2] + struct.pack('>H', cksum(icmp)) + icmp[4:]
    tcp_syn = struct.pack('>HHIIBBHHH', 40000, 80, 1, 0, 0x60, SYN, 65535, 0, 0) + \
        b'\x02\x04\x05\xb4'
    seeds = {
        'syn': seg(SYN),
        'syn-noopts': seg(SYN, opts=False, win=1024),
        'syn-data': seg(SYN, plen=64),
        'syn-fin': seg(SYN | FIN),
        'handshake-data-close': hs + seg(ACK | PSH, plen=100) + tick(2) +
        seg(ACK | FIN) + user(0, 3) + tick(10) + seg(ACK, dack=0) + tick(20),
        'handshake-user-send': hs + user(0, 0, 10) + seg(ACK, dack=0) + user(0, 1, 31) +
        seg(ACK, dack=0, win=0) + tick(15) + seg(ACK, dack=0) + user(0, 3),
        'rst-in-window': hs + seg(RST | ACK, dack=0),
        'rst-out-of-window': hs + seg(RST, dseq=30000) + seg(RST, dseq=1),
        'syn-in-established': hs + seg(SYN, dseq=5),
        'options': seg(SYN, raw=b'\x05\x0a\0\0\0\x01\0\0\0\x02\x03\x03\x0f') +
        seg(ACK, raw=b'\x05\x0a\0\0\x03\xe8\0\0\x07\xd0') +
        seg(ACK, raw=b'\x02\x00') + seg(ACK, raw=b'\x08\x0a\x01'),
        'ooo': hs + seg(ACK, dseq=400, plen=100) + seg(ACK, dseq=200, plen=100) +
        seg(ACK, plen=200) + tick(3),
        'hold-window': hs + user(0, 5) + b''.join(seg(ACK | PSH, plen=1020) for _ in range(9)) +
        user(0, 7) + user(0, 6) + tick(5),
        'active-open': connect(1, 2) + seg(SYN | ACK, peer=1, port=2, sel=1, dack=0) +
        user(0, 0, 3) + seg(ACK, peer=1, port=2, sel=1, dack=0) +
        seg(ACK | FIN, peer=1, port=2, sel=1, dack=0) + user(0, 2) + tick(8),
        'active-refused': connect(0, 0) + seg(RST | ACK, sel=1, dack=0) + connect(2, 1) +
        tick(25),
        'syn-flood': b''.join(seg(SYN, peer=i % 4, port=i // 4 % 4, ts=i) for i in range(12)) +
        seg(ACK, dack=0),
        'closed-port': seg(SYN, sel=2) + seg(ACK, sel=2, dack=5),
        'bad-cksum': seg(SYN, bad=True) + seg(SYN, ipf=0x20, bad=True),
        'fragment': seg(SYN, ipf=2, plen=40),
        'chained': seg(SYN, ipf=0x19) + seg(ACK, ipf=0x18, plen=300),
        'raw-frames': raw(arp_req) + raw(eth(ipv4(icmp, proto=1))) +
        raw(eth(ipv4(tcp_syn)), nsegs=2) + raw(eth(ipv4(tcp_syn)), fix=False, hw=True) +
        raw(eth(b'\x46' + b'\0' * 40)),
        'time-wait-reuse': hs + user(0, 3) + seg(ACK, dack=0) + seg(ACK | FIN, dack=0) +
        seg(SYN, ts=9) + tick(12),
        'keepalive': hs + tick(20) + tick(20),
    }
    config = {'keepalive': 4}  # byte 0: configuration flags (tcp_fuzz.c)
    for name, body in seeds.items():
        write('tcp_fuzz', name, bytes([config.get(name, 0)]) + body)


# ---- cfg_fuzz: the shipped configurations, the unit-test fixtures, and YAML oddities ----
CFG_ODD = {
    'empty': b'',
    'null': b'~\n',
    'scalar-top': b'just a string\n',
    'two-docs': b'dataplane: {workers: 1}\n---\ncontrol: {}\n',
    'anchors': b'services:\n  a: &s\n    endpoints: [{name: e, address: 198.18.0.2:80}]\n'
    b'  b: *s\nlisteners:\n  - {name: l, port: 80, routes: [{service: a}]}\n',
    'merge-key': b'x: &x {workers: 2}\ndataplane:\n  <<: *x\n',
    'tabs': b'dataplane:\n\tworkers: 1\n',
    'bad-utf8': b'dataplane:\n  ports:\n    - {name: "\xff\xfe", device: a, address: 1.2.3.4/8}\n',
    'control-char': b'control:\n  socket: "/run/\x01x"\n',
    'huge-int': b'dataplane:\n  workers: 99999999999999999999999999\n',
    'negative': b'dataplane:\n  mbufs: -1\n',
    'dup-key': b'dataplane:\n  workers: 1\n  workers: 2\n',
    'unknown-key': b'dataplane:\n  wrokers: 1\n',
    'newline-key': b'dataplane:\n  "a\\nb": 1\n',
    'flow-unclosed': b'dataplane: {workers: 1\n',
    'deep': b'a: ' + b'[' * 200 + b']' * 200 + b'\n',
    'tag': b'dataplane:\n  workers: !!str 1\n',
    'bool-forms': b'control:\n  metrics: yes\n',
}


def cfg_seeds():
    for d in ('configs', 'tests/unit/cfg/valid', 'tests/unit/cfg/invalid'):
        base = os.path.join(ROOT, d)
        for name in sorted(os.listdir(base)):
            if name.endswith('.yaml'):
                with open(os.path.join(base, name), 'rb') as f:
                    data = f.read()
                tag = d.split('/')[-1]
                write('cfg_fuzz', '%s-%s' % (tag, name[:-5]), data)
    for name, data in CFG_ODD.items():
        write('cfg_fuzz', 'odd-' + name, data)


# ---- ctl_fuzz: one control-socket line each, against configs/proxy-example.yaml ----
CTL = [
    b'help', b'prompt', b'quit', b'show info', b'show info json', b'show info typed',
    b'show ports', b'show ports json', b'show tcp', b'show tcp json', b'show proxy',
    b'show proxy json', b'show stat', b'show stat json', b'show servers state',
    b'show servers state api', b'show servers state nope', b'show config', b'show pools',
    b'show pools json', b'shutdown 2500', b'shutdown abc',
    b'set server api/a1 weight 5', b'set server api/a1 weight 300',
    b'set server api/a1 state drain', b'set server api/a1 state maint',
    b'set server api/198.18.0.22:8080 state ready', b'set server nope/x weight 1',
    b'disable server api/a1', b'enable server api/a1',
    b'add server api/n1 198.18.0.23:8080 weight 3; show servers state api',
    b'add server api/n1 198.18.0.23:8080; del server api/n1',
    b'add server api/n1 198.18.0.23:8080; enable server api/n1; del server api/n1',
    b'del server api/a1', b'disable server api/a1; del server api/a1; show stat',
    b'reload', b'reload configs/example.yaml', b'reload configs/lab.yaml',
    b'reload tests/unit/cfg/invalid/px_pool_timeouts.yaml', b'reload nonexistent.yaml',
    b'show info;show stat;show proxy json', b'prompt; show info', b';;;',
    b'show\tinfo', b'show  info  ', b'SHOW INFO', b'show info \x01\x7f\xff',
    b'set server api/a1 weight 5; reload; show servers state',
    b'show servers state ' + b'x' * 200,
]


def ctl_seeds():
    for i, line in enumerate(CTL):
        write('ctl_fuzz', 'l%02d' % i, line)


def main():
    http_seeds()
    tcp_frames()
    cfg_seeds()
    ctl_seeds()
    return 0


if __name__ == '__main__':
    sys.exit(main())
