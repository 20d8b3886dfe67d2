# SPDX-License-Identifier: BSD-3-Clause
"""HAProxy-compatible statistics on the control socket: `show info [json|typed]`, `show stat
[json]`, `show servers state [SERVICE]`, and sluice's `show config`.

sluice runs with one listener holding a direct-response route and a route to a service of two
nginx backends (backends.py). The header of `show stat` must be HAProxy 2.6's field list
exactly (HAPROXY_26_STAT_FIELDS, copied from haproxy 2.6.12's own `show stat`), counters must
move by exactly the requests sent, and tools written for HAProxy's socket (socat) must work.
`show info` must give HAProxy 2.6's info fields in its order, with its tags and types
(HAPROXY_26_INFO_TYPED, from haproxy 2.6.12's own `show info typed`), then sluice's own.
"""

import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402
import lab as lablib  # noqa: E402

PORT = 8080

# haproxy 2.6's `show stat` header up to agg_check_status (its stats modules' columns, "-",
# ssl_*, h2_*, h1_*, follow in the real binary; sluice has no such modules).
HAPROXY_26_STAT_FIELDS = [
    "pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot", "bin", "bout", "dreq",
    "dresp", "ereq", "econ", "eresp", "wretr", "wredis", "status", "weight", "act", "bck",
    "chkfail", "chkdown", "lastchg", "downtime", "qlimit", "pid", "iid", "sid", "throttle",
    "lbtot", "tracked", "type", "rate", "rate_lim", "rate_max", "check_status", "check_code",
    "check_duration", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other",
    "hanafail", "req_rate", "req_rate_max", "req_tot", "cli_abrt", "srv_abrt", "comp_in",
    "comp_out", "comp_byp", "comp_rsp", "lastsess", "last_chk", "last_agt", "qtime", "ctime",
    "rtime", "ttime", "agent_status", "agent_code", "agent_duration", "check_desc", "agent_desc",
    "check_rise", "check_fall", "check_health", "agent_rise", "agent_fall", "agent_health",
    "addr", "cookie", "mode", "algo", "conn_rate", "conn_rate_max", "conn_tot", "intercepted",
    "dcon", "dses", "wrew", "connect", "reuse", "cache_lookups", "cache_hits", "srv_icur",
    "src_ilim", "qtime_max", "ctime_max", "rtime_max", "ttime_max", "eint", "idle_conn_cur",
    "safe_conn_cur", "used_conn_cur", "need_conn_est", "uweight", "agg_server_status",
    "agg_server_check_status", "agg_check_status",
]

HAPROXY_26_SERVERS_STATE_HEADER = (
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
    "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn "
    "srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
    "srv_agent_port")


# haproxy 2.6.12's `show info typed`, "POS.NAME.PROCESS:TAGS:TYPE" for its 72 fields (45, 46 and
# 51 from a build with zlib and a "description"): the list position is the field's pos.
HAPROXY_26_INFO_TYPED = [
    "Name:POS:str", "Version:POS:str", "Release_date:POS:str", "Nbthread:CGS:u32",
    "Nbproc:CGS:u32", "Process_num:KGP:u32", "Pid:SGP:u32", "Uptime:MDP:str",
    "Uptime_sec:MDP:u32", "Memmax_MB:CLP:u32", "PoolAlloc_MB:MGP:u32", "PoolUsed_MB:MGP:u32",
    "PoolFailed:MCP:u32", "Ulimit-n:CLP:u32", "Maxsock:CLP:u32", "Maxconn:CLP:u32",
    "Hard_maxconn:CLP:u32", "CurrConns:MGP:u32", "CumConns:MCP:u32", "CumReq:MCP:u32",
    "MaxSslConns:MMP:u32", "CurrSslConns:MGP:u32", "CumSslConns:MCP:u32", "Maxpipes:CLP:u32",
    "PipesUsed:MGP:u32", "PipesFree:MGP:u32", "ConnRate:MRP:u32", "ConnRateLimit:CLP:u32",
    "MaxConnRate:MMP:u32", "SessRate:MRP:u32", "SessRateLimit:CLP:u32", "MaxSessRate:MRP:u32",
    "SslRate:MRP:u32", "SslRateLimit:CLP:u32", "MaxSslRate:MMP:u32",
    "SslFrontendKeyRate:MGP:u32", "SslFrontendMaxKeyRate:MMP:u32",
    "SslFrontendSessionReuse_pct:MGP:u32", "SslBackendKeyRate:MRP:u32",
    "SslBackendMaxKeyRate:MMP:u32", "SslCacheLookups:MCP:u32", "SslCacheMisses:MCP:u32",
    "CompressBpsIn:MRP:u32", "CompressBpsOut:MRP:u32", "CompressBpsRateLim:CLP:u32",
    "ZlibMemUsage:MGP:u32", "MaxZlibMemUsage:CLP:u32", "Tasks:MGP:u32", "Run_queue:MGP:u32",
    "Idle_pct:MaP:u32", "node:COS:str", "description:COS:str", "Stopping:MGP:u32",
    "Jobs:MGP:u32", "Unstoppable Jobs:MGP:u32", "Listeners:MGP:u32", "ActivePeers:MGP:u32",
    "ConnectedPeers:MGP:u32", "DroppedLogs:MGP:u32", "BusyPolling:MGP:u32",
    "FailedResolutions:MGP:u32", "TotalBytesOut:MGP:u64", "TotalSplicdedBytesOut:MGP:u64",
    "BytesOutRate:MRP:u64", "DebugCommandsIssued:MGP:u32", "CumRecvLogs:MCP:u32",
    "Build info:POS:str", "Memmax_bytes:CLP:u32", "PoolAlloc_bytes:MGP:u64",
    "PoolUsed_bytes:MGP:u64", "Start_time_sec:MDP:u32", "Tainted:SGP:str",
]
HAPROXY_26_INFO_FIELDS = [t.split(":")[0] for t in HAPROXY_26_INFO_TYPED]
SLUICE_INFO_FIELDS = ["Workers", "Ports", "Config_file", "Config_epoch", "Rx_frames",
                      "Tx_frames", "Health_probes_sent", "Health_probes_skipped",
                      "Outlier_ejections"]
# HAProxy's names of the tag letters (origin, nature, scope)
TAG_NAMES = [
    {"M": "Metric", "S": "Status", "K": "Key", "C": "Config", "P": "Product"},
    {"A": "Age", "a": "Avg", "c": "Card", "C": "Counter", "D": "Duration", "G": "Gauge",
     "L": "Limit", "M": "Max", "m": "Min", "O": "Output", "R": "Rate"},
    {"P": "Process", "S": "Service", "s": "System", "C": "Cluster"},
]

def stat_config(lab, socket_path, workers):
    return f"""\
{lablib.dataplane_yaml(lab, workers, 16384, 1024)}listeners:
  - name: web
    port: 80
    limits: {{ max_connections: 500 }}
    routes:
      - match: {{ path_prefix: "/direct" }}
        respond: {{ status: 200, body: "direct\\n" }}
      - match: {{ path_prefix: "/" }}
        service: app
services:
  app:
    balance: weighted_round_robin
    endpoints:
      - {{ name: be1, address: {lab.BE1_ADDR}:{PORT}, weight: 2 }}
      - {{ name: be2, address: {lab.BE2_ADDR}:{PORT} }}
control:
  socket: {socket_path}
"""


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def st(request):
    lab = lablib.Lab()
    lab.up()
    app = None
    started = []
    docroot = Path(tempfile.mkdtemp(prefix=f"sluice-docroot-{lab.prefix}-"))
    try:
        backends.start_nginxes(lab, 2, PORT, docroot, started)
        sock = Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        app = lablib.Sluice(lab, workers=request.param,
                            config_text=stat_config(lab, sock, request.param))
        app.start()
        yield app
        lablib.stop_ok(app)
    finally:
        lablib.teardown(lab, app, started, docroot)


def curl(app, path):
    r = app.ns_exec(app.lab.CLI_NS, ["curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                                     "-w", "%{http_code}", f"http://{app.lab.APP_ADDR}{path}"],
                    timeout=30)
    assert r.returncode == 0 and r.stdout == "200", f"{path}: {r.stdout} {r.stderr}"


def raw(app, cmd):
    """The answer as sent (sluicectl --no-table), failing on an error."""
    r = app.ctl_run(["--no-table", *cmd.split()])
    assert r.returncode == 0, f"{cmd}: exit {r.returncode}\n{r.stdout}{r.stderr}"
    return r.stdout


def stat_rows(app):
    """`show stat` as (header line, [dict per row]) with every line checked for its comma."""
    text = raw(app, "show stat")
    lines = text.rstrip("\n").split("\n")
    assert all(line.endswith(",") for line in lines), text
    names = lines[0][2:].split(",")[:-1]
    rows = []
    for rec in csv.reader(io.StringIO("\n".join(lines[1:]))):
        assert len(rec) == len(names) + 1 and rec[-1] == "", rec
        rows.append(dict(zip(names, rec[:-1])))
    return lines[0], rows


def row(rows, px, sv):
    found = [r for r in rows if r["pxname"] == px and r["svname"] == sv]
    assert len(found) == 1, (px, sv, rows)
    return found[0]


def test_header_is_haproxy_26(st):
    header, _ = stat_rows(st)
    assert header == "# " + ",".join(HAPROXY_26_STAT_FIELDS) + ","


def test_one_row_per_listener_endpoint_and_service(st):
    _, rows = stat_rows(st)
    assert [(r["pxname"], r["svname"], r["type"]) for r in rows] == [
        ("web", "FRONTEND", "0"), ("app", "be1", "2"), ("app", "be2", "2"),
        ("app", "BACKEND", "1")]
    fe, be1, be2, be = rows
    assert fe["status"] == "OPEN" and fe["slim"] == "500" and fe["mode"] == "http"
    assert fe["iid"] == "1" and fe["sid"] == "0" and fe["pid"] == "1"
    assert fe["qcur"] == "" and fe["check_status"] == ""  # not measured: empty, as HAProxy
    assert be1["addr"] == f"{st.lab.BE1_ADDR}:{PORT}" and be2["addr"] == f"{st.lab.BE2_ADDR}:{PORT}"
    assert (be1["weight"], be2["weight"], be["weight"]) == ("2", "1", "3")
    assert be1["status"] == be2["status"] == be["status"] == "UP"
    assert be["act"] == "2" and be["bck"] == "0"
    assert be["iid"] == be1["iid"] == be2["iid"] == "2"
    assert (be1["sid"], be2["sid"], be["sid"]) == ("1", "2", "0")
    assert be["algo"] == "roundrobin" and be1["algo"] == ""


def test_counters_move_by_exactly_the_requests(st):
    _, before = stat_rows(st)
    n_direct, n_proxied = 5, 4
    for _ in range(n_direct):
        curl(st, "/direct")
    for i in range(n_proxied):
        curl(st, f"/p{i}")
    deadline = time.monotonic() + 5
    while True:
        _, after = stat_rows(st)

        def delta(px, sv, f):
            return int(row(after, px, sv)[f]) - int(row(before, px, sv)[f])

        if delta("web", "FRONTEND", "req_tot") >= n_direct + n_proxied or \
                time.monotonic() > deadline:
            break
        time.sleep(0.1)
    n = n_direct + n_proxied
    assert delta("web", "FRONTEND", "req_tot") == n
    assert delta("web", "FRONTEND", "hrsp_2xx") == n
    assert delta("web", "FRONTEND", "stot") == n  # curl: one connection per request
    assert delta("web", "FRONTEND", "bin") > 0 and delta("web", "FRONTEND", "bout") > 0
    assert delta("app", "BACKEND", "req_tot") == n_proxied
    assert delta("app", "BACKEND", "hrsp_2xx") == n_proxied
    assert delta("app", "be1", "stot") + delta("app", "be2", "stot") == n_proxied
    assert delta("app", "be1", "hrsp_2xx") + delta("app", "be2", "hrsp_2xx") == n_proxied
    assert delta("app", "BACKEND", "bout") > 0 and delta("app", "BACKEND", "bin") > 0
    assert delta("app", "be1", "connect") + delta("app", "be1", "reuse") >= 1
    if st.workers == 1:  # one smooth weighted rotation: 2 to 1
        assert (delta("app", "be1", "stot"), delta("app", "be2", "stot")) in [(3, 1), (2, 2)]


def test_show_stat_json_matches_csv(st):
    _, rows = stat_rows(st)
    data = json.loads(raw(st, "show stat json"))
    assert len(data) == len(rows)
    for objs, r in zip(data, rows):
        by_name = {o["field"]["name"]: o for o in objs}
        for o in objs:
            assert HAPROXY_26_STAT_FIELDS[o["field"]["pos"]] == o["field"]["name"]
            assert o["processNum"] == 1
        assert by_name["pxname"]["value"] == {"type": "str", "value": r["pxname"]}
        assert by_name["svname"]["value"]["value"] == r["svname"]
        assert objs[0]["objType"] == {"0": "Frontend", "1": "Backend", "2": "Server"}[r["type"]]
        # counters only grow between the two reads
        assert by_name["hrsp_2xx"]["value"]["value"] >= int(r["hrsp_2xx"])
        assert "qcur" not in by_name  # empty columns are left out, as HAProxy does


def info(app):
    """`show info` as [(name, value)] in order."""
    text = raw(app, "show info")
    assert text.endswith("\n") and "\n\n" not in text.rstrip("\n"), repr(text)
    return [tuple(line.split(": ", 1)) for line in text.rstrip("\n").split("\n")]


def test_show_info_is_haproxy_26(st):
    t0 = int(time.time())
    fields = info(st)
    t1 = int(time.time())
    names = [n for n, _ in fields]
    order = HAPROXY_26_INFO_FIELDS + SLUICE_INFO_FIELDS
    pos = [order.index(n) for n in names]  # every name is HAProxy's or sluice's
    assert pos == sorted(pos) and len(set(pos)) == len(pos), names
    # the first twenty as HAProxy 2.6 (no Release_date: sluice has none, and HAProxy leaves
    # a field without a value out)
    assert names[:19] == HAPROXY_26_INFO_FIELDS[:2] + HAPROXY_26_INFO_FIELDS[3:20], names
    assert names[-len(SLUICE_INFO_FIELDS):] == SLUICE_INFO_FIELDS
    v = dict(fields)
    assert v["Name"] == "sluice"
    assert v["Nbthread"] == v["Workers"] == str(st.workers)
    assert v["Nbproc"] == v["Process_num"] == "1"
    assert v["Maxconn"] == v["Hard_maxconn"] == str(1024 * st.workers)
    assert v["Listeners"] == "1" and v["Stopping"] == "0"
    assert v["BusyPolling"] == "0"  # idle_sleep_us: 50
    assert 0 <= int(v["Idle_pct"]) <= 100
    assert t0 <= int(v["Start_time_sec"]) + int(v["Uptime_sec"]) <= t1
    assert v["Config_file"] == str(st.conf)
    assert int(v["PoolAlloc_bytes"]) >= int(v["PoolUsed_bytes"]) > 0
    assert v["Tainted"] == "0"


def test_show_info_cumreq_moves_by_exactly_the_requests(st):
    before = dict(info(st))
    n_direct, n_proxied = 3, 2
    for _ in range(n_direct):
        curl(st, "/direct")
    for i in range(n_proxied):
        curl(st, f"/i{i}")
    n = n_direct + n_proxied
    deadline = time.monotonic() + 5
    while True:
        after = dict(info(st))

        def delta(f):
            return int(after[f]) - int(before[f])

        if delta("CumReq") >= n or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert delta("CumReq") == n
    assert delta("CumConns") == n  # curl: one connection per request
    assert delta("TotalBytesOut") > 0
    assert delta("Rx_frames") > 0 and delta("Tx_frames") > 0


def test_show_info_json_is_haproxys_typed_list(st):
    text = raw(st, "show info json")
    assert text.count("\n") == 1, "one line"
    data = json.loads(text)
    assert isinstance(data, list)
    names = [n for n, _ in info(st)]
    assert [o["field"]["name"] for o in data] == names  # the same fields as the text form
    for o in data:
        assert set(o) == {"field", "processNum", "tags", "value"}, o
        assert set(o["field"]) == {"pos", "name"} and o["processNum"] == 1
        assert set(o["value"]) == {"type", "value"}
        pos, name = o["field"]["pos"], o["field"]["name"]
        if pos < len(HAPROXY_26_INFO_TYPED):
            hname, tags, typ = HAPROXY_26_INFO_TYPED[pos].split(":")
            assert name == hname
            assert o["tags"] == {"origin": TAG_NAMES[0][tags[0]],
                                 "nature": TAG_NAMES[1][tags[1]],
                                 "scope": TAG_NAMES[2][tags[2]]}, o
            assert o["value"]["type"] == typ, o
        else:
            assert name == SLUICE_INFO_FIELDS[pos - len(HAPROXY_26_INFO_TYPED)]
        typ, val = o["value"]["type"], o["value"]["value"]
        if typ == "str":
            assert isinstance(val, str)
        else:
            assert typ in ("u32", "u64") and isinstance(val, int) and val >= 0
            assert typ == "u64" or val < 2 ** 32
    positions = [o["field"]["pos"] for o in data]
    assert positions == sorted(set(positions))
    # sluice's own follow HAProxy's 72 at consecutive positions
    assert positions[-len(SLUICE_INFO_FIELDS):] == list(range(72, 72 + len(SLUICE_INFO_FIELDS)))
    by_name = {o["field"]["name"]: o["value"]["value"] for o in data}
    assert by_name["Name"] == "sluice" and by_name["Nbthread"] == st.workers
    assert by_name["Config_file"] == str(st.conf)


def test_show_info_typed(st):
    lines = raw(st, "show info typed").rstrip("\n").split("\n")
    names = [n for n, _ in info(st)]
    assert len(lines) == len(names)
    for line, name in zip(lines, names):
        head, tags, typ, _ = line.split(":", 3)  # a value may hold ':'
        pos, got, proc = head.split(".")
        assert got == name and proc == "1", line
        if int(pos) < len(HAPROXY_26_INFO_TYPED):
            assert f"{name}:{tags}:{typ}" == HAPROXY_26_INFO_TYPED[int(pos)], line


def test_servers_state(st):
    text = raw(st, "show servers state")
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "1"
    assert lines[1] == HAPROXY_26_SERVERS_STATE_HEADER
    rows = [line.split(" ") for line in lines[2:]]
    assert len(rows) == 2
    for r in rows:
        assert len(r) == len(HAPROXY_26_SERVERS_STATE_HEADER.split(" ")) - 1
    assert [r[:9] for r in rows] == [
        ["2", "app", "1", "be1", st.lab.BE1_ADDR, "2", "0", "2", "2"],
        ["2", "app", "2", "be2", st.lab.BE2_ADDR, "2", "0", "1", "1"]]
    assert all(r[18] == str(PORT) for r in rows)
    # the same rows for one backend; srv_time_since_last_change (field 9, seconds) may tick
    # between the two dumps
    def steady(t):
        out = t.rstrip("\n").split("\n")
        return out[:2] + [" ".join(f if i != 9 else "T" for i, f in enumerate(line.split(" ")))
                          for line in out[2:]]
    assert steady(raw(st, "show servers state app")) == steady(text)
    r = st.ctl_run(["show", "servers", "state", "nosuch"])
    assert r.returncode == 1 and r.stdout.startswith("error: "), r.stdout


def test_show_config_passes_check(st, tmp_path):
    text = raw(st, "show config")
    assert "\n\n" not in text.rstrip("\n")
    assert "    balance: weighted_round_robin\n" in text
    assert "  max_connections: 1024\n" in text
    f = tmp_path / "dump.yaml"
    f.write_text(text)
    chk = lablib.run([lablib.SLUICE, "--check", "-c", str(f)], timeout=30)
    assert chk.returncode == 0, f"{chk.stdout}{chk.stderr}\n{text}"


def test_socat(st):
    r = subprocess.run(f'echo "show info" | socat - UNIX-CONNECT:{st.socket}', shell=True,
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "Name: sluice\n" in r.stdout and r.stdout.endswith("\n\n")
    r = subprocess.run(f'echo "show stat" | socat - UNIX-CONNECT:{st.socket}', shell=True,
                       capture_output=True, text=True, timeout=10)
    assert r.stdout.split("\n")[0] == "# " + ",".join(HAPROXY_26_STAT_FIELDS) + ","


def test_sluicectl_table_aligns_columns(st):
    csv_text = raw(st, "show stat")
    r = st.ctl_run(["--table", "show", "stat"])
    assert r.returncode == 0, r.stderr
    table = r.stdout.rstrip("\n").split("\n")
    lines = csv_text.rstrip("\n").split("\n")
    assert len(table) == len(lines)
    # column starts from the header line; every cell of every row sits in its column
    header = table[0]
    starts = [0]
    for name in HAPROXY_26_STAT_FIELDS[1:]:
        i = header.index("  " + name + " ", starts[-1]) if name != HAPROXY_26_STAT_FIELDS[-1] \
            else header.index("  " + name, starts[-1])
        starts.append(i + 2)
    for t, c in zip(table[1:], lines[1:]):
        cells = c.split(",")[:-1]
        got = [t[a:b].strip() for a, b in zip(starts, starts[1:] + [len(t) + 1])]
        assert got == cells, (t, c)
