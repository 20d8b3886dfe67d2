# SPDX-License-Identifier: BSD-3-Clause
"""sluice's differential suite: the same requests to sluice, nginx and HAProxy, each in front
of one recording backend with a strict reference framer (recorder.py, refparser.py).

    sudo /usr/bin/python3 tests/differential/run.py [--all | --smoke] [--filter REGEX]
                                                    [--report FILE] [--junit FILE]

The lab (tests/integration/lab.py): sluice on its af_packet veth at APP_ADDR:80; nginx
(127.0.0.1:8081) and HAProxy (127.0.0.1:8082) as reverse proxies in the client namespace; the
recorder in backend namespace 1, one port per proxy (9001 sluice, 9002 nginx, 9003 HAProxy).
The client (driver.py) runs in the client namespace.

It FAILS (exit 1) on any case where what the backend framed disagrees with sluice's own view
of the client's requests (its access log): a different number of requests, a forwarded
request without sluice's X-Forwarded-For and Via (never parsed by sluice: smuggled), bytes the
backend cannot frame, a different method, target, host or body length, a response that
belongs to another request. It REPORTS, without failing, every case where sluice's answers
(status classes) differ from both nginx's and HAProxy's, in the markdown report
(build/differential-report.md by default) and in a summary on stdout.
"""

import argparse
import datetime
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration"))

import cases as caselib  # noqa: E402
import lab as lablib  # noqa: E402

PY = "/usr/bin/python3"
PORTS = {"sluice": 9001, "nginx": 9002, "haproxy": 9003}
NGINX_PORT, HAPROXY_PORT = 8081, 8082
PEERS = ("nginx", "haproxy")

# Differences in answers (status class) between sluice and both peers that are by design,
# each with its reason. They stay in the report, marked as known; they never fail the suite.
KNOWN = {}
for _ids, _why in [
    (["reqline/bare-lf-end", "reqline/bare-lf-everywhere", "reqline/leading-lf",
      "header/header-lf-end", "chunk/data-lf-only", "chunk/size-lf-only", "chunk/last-lf-only",
      "chunk/end-lf-only", "chunk/trailer-lf"],
     "sluice refuses a bare LF line end (RFC 9112 2.2 lets a recipient choose); accepting it "
     "could frame differently from a backend that does not"),
    (["reqline/double-space", "reqline/double-space-version"],
     "RFC 9112 3: the request line is split on single SP; parsing on runs of whitespace is a "
     "MAY that sluice does not take"),
    (["reqline/target-backslash", "reqline/target-quote", "reqline/target-brace"],
     "sluice accepts RFC 3986 characters only in a request-target (dataplane/http/http_parse.h)"),
    (["reqline/lowercase-method", "method/lowercase", "method/mixed-case"],
     "a registered method in another case (get, Get) is refused 501: a backend could read it "
     "as GET while sluice routed an unknown method (dataplane/http/http_req.c)"),
    (["method/long-token"],
     "a method token longer than HTTP_METHOD_MAX (32) is refused 501 (dataplane/http/http_parse.h)"),
    (["te/two-lines-gzip-chunked", "te/gzip-chunked", "clte/plain+tab", "clte/leading-zeros+tab"],
     "refused by sluice and by at least one peer, with another status (a coding other than "
     "exactly chunked: 501; Content-Length with Transfer-Encoding: 400)"),
    (["chunk/size-space-after", "chunk/size-tab-after", "chunk/ext-empty-name",
      "chunk/ext-bare-semicolon", "chunk/ext-bad-char", "chunk/ext-space-in-value",
      "chunk/ext-nul"],
     "RFC 9112 7.1.1 chunk-ext grammar taken exactly: whitespace only around ';' and '=', "
     "names tokens, values tokens or quoted strings; the peers skip extensions unread"),
    (["chunk/ext-long"],
     "a chunk line is bounded (HTTP_CHUNK_LINE_MAX, 4096 bytes in dataplane/http/http_chunk.c), "
     "so chunk extensions cannot hold a connection's memory"),
    (["chunk/trailer-obs-fold"], "obs-fold is refused in trailers as in heads (RFC 9112 5.2)"),
    (["expect/unknown", "expect/list", "expect/with-param"],
     "an expectation other than 100-continue gets 417 (RFC 9110 10.1.1 allows it)"),
    (["conn/bad-token"], "Connection is a list of tokens (RFC 9110 7.6.1); close/x is not one"),
    (["upgrade/h2-preface"],
     "the HTTP/2 connection preface is answered 505 HTTP Version Not Supported, which is what "
     "it is (sluice speaks HTTP/1.x in clear text)"),
    (["connect/authority", "connect/with-tunnel-bytes", "connect/http10", "connect/with-body"],
     "CONNECT is refused 501 until sluice tunnels both ways (issue 8); nginx refuses it too "
     "(400), HAProxy tunnels"),
    (["absolute/http-port"],
     "Host and an absolute-form authority must be equal byte for byte (diff.test vs "
     "diff.test:80 is refused): two hosts in one request are how routing and backends are "
     "made to disagree (dataplane/http/http_parse.c)"),
    (["limit/header-value-16000"],
     "sluice's max_header_bytes (16384 by default) is larger than nginx's 8 KiB line buffers "
     "and HAProxy's 16 KiB buffer with its own overhead"),
]:
    for _i in _ids:
        KNOWN[_i] = _why



# ---- the proxies ----

def sluice_config(lab, sock, alog):
    return f"""\
{lablib.dataplane_yaml(lab, 1, 16384, 4096)}listeners:
  - name: web
    port: 80
    limits: {{ header_timeout_ms: 5000, idle_timeout_ms: 10000, max_body_bytes: 0 }}
    routes:
      - service: rec
services:
  rec:
    endpoints:
      - {{ name: rec, address: {lab.BE1_ADDR}:{PORTS['sluice']} }}
    pool: {{ max_idle_per_endpoint: 8, idle_timeout_ms: 30000 }}
    timeouts: {{ connect_ms: 1000, response_ms: 5000 }}
control:
  socket: {sock}
  access_log: {alog}
"""


def nginx_config(lab, d):
    temps = "\n".join(f"    {k}_temp_path {d}/{k};" for k in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""\
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {d}/access.log;
{temps}
    client_max_body_size 0;
    upstream rec {{ server {lab.BE1_ADDR}:{PORTS['nginx']}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{NGINX_PORT};
        location / {{
            proxy_pass http://rec;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
"""


def haproxy_config(lab):
    return f"""\
global
    nbthread 1
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout http-request 5s
    timeout tunnel 10s
frontend web
    bind 127.0.0.1:{HAPROXY_PORT}
    default_backend rec
backend rec
    server rec {lab.BE1_ADDR}:{PORTS['haproxy']}
"""


class Proc:
    """A process started in a namespace, stopped by its own pid."""

    def __init__(self, ns, cmd, log):
        self.log = log
        with open(log, "wb") as f:
            self.p = subprocess.Popen(["ip", "netns", "exec", ns, *map(str, cmd)],
                                      stdin=subprocess.DEVNULL, stdout=f,
                                      stderr=subprocess.STDOUT)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=10)


def wait_listen(ns, addr, port, proc, what):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.p.poll() is not None:
            raise SystemExit(f"{what} exited:\n{Path(proc.log).read_text(errors='replace')}")
        r = lablib.run(["ip", "netns", "exec", ns, "ss", "-Hltn", f"src {addr}:{port}"])
        if r.stdout.strip():
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} not listening on {addr}:{port}")


# ---- evaluation ----

ALOG_FIELDS = ["time", "client", "listener", "route", "method", "host", "target", "status",
               "svc", "bytes_in", "bytes_out", "t_header", "t_connect", "t_first", "t_total",
               "end"]


def unescape(s):
    if s == "-":
        return None
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), s)


def parse_alog(line):
    f = line.split(" ")
    if len(f) != len(ALOG_FIELDS):
        return None
    return dict(zip(ALOG_FIELDS, f))


def classes(r):
    """The answers a client got, as status classes ('2xx 4xx', 'none'), up to the first
    refusal (4xx/5xx: what follows it is connection policy, not the answer to the case), plus
    how a tunnel went."""
    if r.get("error"):
        return "connect-error"
    out = []
    for x in r["responses"]:
        s = x["status"]
        if s < 200 and s != 101:
            continue
        out.append(f"{s // 100}xx" if s != 101 else "101")
        if s >= 400:
            break
    v = " ".join(out) or "none"
    if r.get("tunnel_echo") is not None:
        v += " tunnel-ok" if r["tunnel_echo"] else " tunnel-dead"
    return v


def detail(r):
    if r.get("error"):
        return r["error"]
    st = ",".join(str(x["status"]) for x in r["responses"]) or "-"
    t = ""
    if r.get("tunnel_echo") is not None:
        t = ", tunnel echoed" if r["tunnel_echo"] else ", tunnel dead"
    return f"{st} ({r['end']}{t})"


def is_tunnel(x, e):
    return x["status"] == 101 or (e["method"] == "CONNECT" and 200 <= x["status"] < 300)


def rec_of(x):
    try:
        port, conn, idx = (int(v) for v in x["x_rec"].split("/"))
        return port, conn, idx
    except (ValueError, AttributeError):
        return None


def sluice_view(r):
    """sluice's own view of what it forwarded: the access-log lines of the client connection
    naming an endpoint, plus a tunnel its answers show that the log lacks."""
    alog = [a for a in (parse_alog(x) for x in r["access"]) if a]
    fwd = [a for a in alog if a["svc"] != "-" and not a["svc"].endswith("/-")]
    reqs = {(e["conn"], e["idx"]): e for e in r["events"] if e["ev"] == "req"}
    unlogged = []
    for x in r["responses"]:
        k = rec_of(x)
        e = reqs.get(k[1:]) if k and k[0] == PORTS["sluice"] else None
        if e is not None and is_tunnel(x, e) and not any(
                a["method"] == e["method"][:15] and unescape(a["target"]) == e["target"][:128]
                for a in fwd):
            unlogged.append({"method": e["method"], "target": e["target"], "host": "-",
                             "svc": "rec/rec", "end": "unlogged", "bytes_in": "0",
                             "status": str(x["status"])})
    return alog, fwd + unlogged, unlogged


def framing_check(case, r, client_addr):
    """The framing failures of one case on sluice: a list of strings (empty: it passed)."""
    fails = []
    if r.get("error"):
        return [f"client: {r['error']}"]
    ev = r["events"]
    reqs = [e for e in ev if e["ev"] == "req"]
    errs = [e for e in ev if e["ev"] == "error"]
    err_conns = {e["conn"] for e in errs}
    # a connection the backend saw close inside a request: sluice forwarded the start of a
    # request and gave up on it (client gone, body refused); it counts as a forwarded request
    partial = [e for e in ev if e["ev"] == "close" and e["unframed"] > 0 and
               e["conn"] not in err_conns]
    alog, fwd, _ = sluice_view(r)
    if len(reqs) + len(partial) != len(fwd):
        framed = ", ".join(e["method"] + " " + e["target"][:40] for e in reqs) or "-"
        more = f" and {len(partial)} cut short" if partial else ""
        fails.append(f"backend framed {len(reqs)} request(s) ({framed}){more}, "
                     f"sluice forwarded {len(fwd)}")
    for e in reqs:
        xff = ", ".join(e["xff"])
        if not xff.replace(" ", "").split(",")[-1] == client_addr or \
                not any("sluice" in v for v in e["via"]):
            fails.append(f"request {e['method']} {e['target'][:60]} reached the backend without "
                         f"sluice's X-Forwarded-For/Via (never parsed by sluice)")
    for e in errs:
        fails.append(f"backend could not frame what sluice sent: {e['reason']} "
                     f"(at {e['head'][:80]!r})")
    for e, a in zip(reqs, fwd):
        if a["method"] != e["method"][:15]:
            fails.append(f"method: sluice {a['method']}, backend {e['method']}")
        t = unescape(a["target"])
        if t is not None and not e["target"].startswith(t):
            fails.append(f"target: sluice {t[:60]!r}, backend {e['target'][:60]!r}")
        h = unescape(a["host"])
        if h is not None:
            bh = (e["host"] or "")
            if not bh.lower().startswith(h.lower()):
                fails.append(f"host: sluice routed on {h!r}, backend got {e['host']!r}")
    # body lengths: what sluice read for each request minus its head, against the body the
    # backend framed (sluice forwards bodies as framed, chunked stays chunked)
    if reqs and not partial and len(reqs) == len(fwd) and alog and \
            all(a["end"] == "done" for a in alog):
        payload = case.payload()
        start = 0
        by_line = []
        for a in alog:
            p = start
            while payload[p:p + 2] == b"\r\n":
                p += 2  # empty lines before a request line count as its head
            he = payload.find(b"\r\n\r\n", p)
            n = int(a["bytes_in"])
            by_line.append((a, n - (he + 4 - start) if he >= 0 else None))
            start += n
        # a request that became a tunnel (101) logs the tunnel's bytes as its own: they are
        # no body, so only requests that stayed HTTP are compared
        sl_bodies = [b if str(a.get("status")) != "101" else None for a, b in by_line if a in fwd]
        for e, b in zip(reqs, sl_bodies):
            if b is not None and b != e["body_wire"]:
                fails.append(f"body of {e['method']} {e['target'][:40]}: sluice read {b} bytes, "
                             f"backend framed {e['body_wire']}")
    # every answer that came from the backend must belong to a request of this case
    mine = {(e["conn"], e["idx"]): e for e in reqs}
    for x in r["responses"]:
        if not x.get("x_rec"):
            continue
        k = rec_of(x)
        if k is None:
            fails.append(f"unreadable X-Rec {x['x_rec']!r}")
            continue
        e = mine.get(k[1:])
        if k[0] != PORTS["sluice"] or e is None:
            fails.append(f"response {x['status']} X-Rec {x['x_rec']} answers a request of "
                         f"another case (response desync)")
        elif x.get("x_rec_target") is not None and x["x_rec_target"] != e["target"][:2000]:
            fails.append(f"response for {x['x_rec_target'][:40]} but request was "
                         f"{e['target'][:40]}")
    return fails


def notes(case, res):
    out = []
    s = res["sluice"][case.id]
    if not s.get("error"):
        unframed = [e for e in s["events"] if e["ev"] == "close" and e["unframed"] > 0]
        if unframed:
            out.append(f"backend closed with {sum(e['unframed'] for e in unframed)} unframed "
                       f"byte(s) from sluice")
        if b"HTTP/1.0" in case.payload()[:200] and any(
                100 <= x["status"] < 200 and x["status"] != 101 for x in s["responses"]):
            out.append("sluice sent a 1xx to an HTTP/1.0 client")
        if sluice_view(s)[2]:
            out.append("no access-log line for the tunnelled request while the case ran")
        p100 = [p for p in PEERS if p in res and any(
            x["status"] == 100 for x in res[p][case.id].get("responses", []))]
        if case.wait_100 and p100 and not any(x["status"] == 100 for x in s["responses"]):
            out.append(f"no 100 Continue from sluice ({' and '.join(p100)} sent one)")
        # hop-by-hop fields the client's Connection named that reached the backend
        named = set()
        for m in re.finditer(rb"(?im)^connection:([^\r\n]*)", case.payload()):
            named |= {t.strip().lower().decode("latin1") for t in m.group(1).split(b",")}
        # fields sluice frames or routes by are kept on purpose (checked above); sluice adds
        # X-Forwarded-For, X-Forwarded-Proto and Via itself
        named -= {"", "close", "keep-alive", "upgrade", "content-length", "transfer-encoding",
                  "host", "expect", "x-forwarded-for", "x-forwarded-proto", "via"}
        for e in s["events"]:
            if e["ev"] == "req":
                leaked = sorted({k.lower() for k, _ in e["headers"]} & named)
                if leaked:
                    out.append(f"hop-by-hop field(s) forwarded: {', '.join(leaked[:4])}"
                               f"{' ...' if len(leaked) > 4 else ''} ({len(leaked)})")
    return out


def evaluate(cases, res, client_addr):
    rows = []
    for c in cases:
        s = res["sluice"][c.id]
        row = {"case": c, "fails": framing_check(c, s, client_addr),
               "v": {p: classes(res[p][c.id]) for p in res},
               "d": {p: detail(res[p][c.id]) for p in res},
               "n": {p: len([e for e in res[p][c.id].get("events", []) if e["ev"] == "req"])
                     for p in res},
               "notes": notes(c, res)}
        row["differs"] = all(row["v"]["sluice"] != row["v"][p] for p in PEERS if p in res)
        rows.append(row)
    return rows


def md(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def write_report(path, rows, info):
    fails = [r for r in rows if r["fails"]]
    diffs = [r for r in rows if r["differs"]]
    L = ["# Differential report", "",
         f"{info['when']}, commit {info['commit']}, {len(rows)} cases "
         f"({info['selection']}), sluice vs nginx {info['nginx']} and HAProxy "
         f"{info['haproxy']}, each in front of the recording backend "
         "(tests/differential/recorder.py).", "",
         f"- framing failures (the suite fails on these): **{len(fails)}**",
         f"- cases where sluice answers differently from both peers: **{len(diffs)}** "
         f"({len([r for r in diffs if r['case'].id in KNOWN])} of them known and justified)",
         "", "## Framing failures", ""]
    if fails:
        L += ["| case | what the backend framed vs sluice's view |", "| --- | --- |"]
        for r in fails:
            L.append(f"| `{r['case'].id}` | {md('; '.join(r['fails']))} |")
    else:
        L.append("None.")
    L += ["", "## sluice answers differently from both peers", "",
          "Answers are status classes of the final responses in order (`none`: no answer "
          "before the client gave up after 1 s of silence or the connection closed); the "
          "statuses and how the connection ended follow in parentheses.", ""]
    if diffs:
        L += ["| case | sluice | nginx | haproxy | known reason |",
              "| --- | --- | --- | --- | --- |"]
        for r in diffs:
            L.append(f"| `{r['case'].id}` | {md(r['d']['sluice'])} | {md(r['d'].get('nginx'))} "
                     f"| {md(r['d'].get('haproxy'))} | {md(KNOWN.get(r['case'].id, ''))} |")
    else:
        L.append("None.")
    L += ["", "## Every case", "",
          "`reqs`: requests the backend framed behind sluice / nginx / HAProxy.", "",
          "| case | sluice | nginx | haproxy | reqs | notes |",
          "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        n = "/".join(str(r["n"].get(p, "-")) for p in ("sluice", "nginx", "haproxy"))
        flag = " **FAIL**" if r["fails"] else (" *differs*" if r["differs"] else "")
        L.append(f"| `{r['case'].id}`{flag} | {md(r['d']['sluice'])} | {md(r['d'].get('nginx'))} "
                 f"| {md(r['d'].get('haproxy'))} | {n} | {md('; '.join(r['notes']))} |")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(L) + "\n")


def write_junit(path, rows, secs):
    ts = ET.Element("testsuite", name="differential", tests=str(len(rows)),
                    failures=str(len([r for r in rows if r["fails"]])), errors="0",
                    skipped="0", time=f"{secs:.1f}")
    for r in rows:
        tc = ET.SubElement(ts, "testcase", classname="differential", name=r["case"].id)
        if r["fails"]:
            ET.SubElement(tc, "failure", message=r["fails"][0][:200]).text = "\n".join(r["fails"])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(ts).write(path, encoding="utf-8", xml_declaration=True)


def version_of(cmd, pat):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        m = re.search(pat, r.stdout + r.stderr)
        return m.group(1) if m else "?"
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--all", action="store_true", help="every case (the default: --smoke)")
    g.add_argument("--smoke", action="store_true", help="the smoke subset (scripts/test.sh)")
    ap.add_argument("--filter", help="only cases whose id matches this regular expression")
    ap.add_argument("--report", default=str(lablib.REPO / "build" / "differential-report.md"))
    ap.add_argument("--junit", help="write a JUnit XML file (one testcase per case)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = ap.parse_args()
    if lablib.os.geteuid() != 0:
        raise SystemExit("differential: needs root (network namespaces): sudo " + sys.argv[0])
    for b in (lablib.SLUICE, lablib.SLUICECTL):
        if not b.exists():
            raise SystemExit(f"differential: {b} is missing: build first")
    allc = caselib.all_cases()
    sel = allc if a.all else [c for c in allc if c.smoke]
    if a.filter:
        sel = [c for c in (allc if not a.smoke else sel) if re.search(a.filter, c.id)]
    if not sel:
        raise SystemExit("differential: no case selected")
    selection = "all" if a.all else ("smoke" if not a.filter else f"filter {a.filter}")
    t0 = time.monotonic()
    lab = lablib.Lab()
    tmp = Path(tempfile.mkdtemp(prefix=f"sluice-diff-{lab.prefix}-"))
    tmp.chmod(0o755)
    procs, app = [], None
    lab.up()
    try:
        rec_dir = tmp / "rec"
        rec = Proc(lab.BE1_NS, [PY, HERE / "recorder.py", rec_dir, lab.BE1_ADDR,
                                *PORTS.values()], tmp / "recorder.log")
        procs.append(rec)
        for p in PORTS.values():
            wait_listen(lab.BE1_NS, lab.BE1_ADDR, p, rec, "recorder")
        alog = tmp / "access.log"
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, config_text=sluice_config(lab, sock, alog))
        app.start()
        nd = tmp / "nginx"
        nd.mkdir()
        (nd / "nginx.conf").write_text(nginx_config(lab, nd))
        ng = Proc(lab.CLI_NS, ["/usr/sbin/nginx", "-e", nd / "error.log", "-p", nd, "-c",
                               nd / "nginx.conf"], tmp / "nginx.log")
        procs.append(ng)
        wait_listen(lab.CLI_NS, "127.0.0.1", NGINX_PORT, ng, "nginx")
        (tmp / "haproxy.cfg").write_text(haproxy_config(lab))
        hp = Proc(lab.CLI_NS, ["/usr/sbin/haproxy", "-db", "-f", tmp / "haproxy.cfg"],
                  tmp / "haproxy.log")
        procs.append(hp)
        wait_listen(lab.CLI_NS, "127.0.0.1", HAPROXY_PORT, hp, "haproxy")
        job = {"cases": [c.id for c in sel], "proxies": [
            {"name": "sluice", "addr": lab.APP_ADDR, "port": 80, "client_addr": lab.CLI_ADDR,
             "events": str(rec_dir / f"events-{PORTS['sluice']}.jsonl"),
             "access_log": str(alog)},
            {"name": "nginx", "addr": "127.0.0.1", "port": NGINX_PORT,
             "events": str(rec_dir / f"events-{PORTS['nginx']}.jsonl")},
            {"name": "haproxy", "addr": "127.0.0.1", "port": HAPROXY_PORT,
             "events": str(rec_dir / f"events-{PORTS['haproxy']}.jsonl")}]}
        (tmp / "job.json").write_text(json.dumps(job))
        print(f"differential: {len(sel)} cases ({selection}) against sluice, nginx, haproxy "
              f"(lab {lab.prefix})", flush=True)
        r = lablib.run(["ip", "netns", "exec", lab.CLI_NS, PY, HERE / "driver.py",
                        tmp / "job.json", tmp / "results.json"], timeout=3600)
        if r.returncode != 0:
            raise SystemExit(f"differential: driver failed ({r.returncode}):\n{r.stdout}"
                             f"{r.stderr}")
        res = json.loads((tmp / "results.json").read_text())
        if app.proc.poll() is not None:
            raise SystemExit(f"differential: sluice died:\n{app.log_tail()}")
        rc = app.stop()
        if rc != 0:
            print(f"differential: sluice exited with status {rc} after SIGTERM")
    finally:
        for p in reversed(procs):
            p.stop()
        if app is not None:
            app.cleanup()
        lab.down()
        if a.keep:
            print(f"differential: scratch directory kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    rows = evaluate(sel, res, lab.CLI_ADDR)
    secs = time.monotonic() - t0
    commit = lablib.run(["git", "-C", lablib.REPO, "rev-parse", "--short", "HEAD"]).stdout.strip()
    info = {"when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit or "?", "selection": selection,
            "nginx": version_of(["/usr/sbin/nginx", "-v"], r"nginx/(\S+)"),
            "haproxy": version_of(["/usr/sbin/haproxy", "-v"], r"version (\S+)")}
    write_report(a.report, rows, info)
    if a.junit:
        write_junit(a.junit, rows, secs)
    fails = [r for r in rows if r["fails"]]
    diffs = [r for r in rows if r["differs"]]
    print(f"differential: {len(rows)} cases in {secs:.0f} s; report: {a.report}")
    for r in fails:
        print(f"  FAIL {r['case'].id}: {'; '.join(r['fails'])}")
    unknown = [r for r in diffs if r["case"].id not in KNOWN]
    print(f"differential: sluice answers differently from both peers in {len(diffs)} case(s) "
          f"({len(diffs) - len(unknown)} known):")
    for r in unknown:
        print(f"  differs {r['case'].id}: sluice {r['d']['sluice']}, nginx {r['d']['nginx']}, "
              f"haproxy {r['d']['haproxy']}")
    print(f"differential: {len(rows) - len(fails)} passed, {len(fails)} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
