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


def main():
    http_seeds()
    return 0


if __name__ == '__main__':
    sys.exit(main())
