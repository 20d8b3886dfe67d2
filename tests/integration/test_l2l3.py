# SPDX-License-Identifier: BSD-3-Clause
"""L2/L3 behaviour of the real appliance in the namespace lab: ARP, ICMP echo, the drop
counters of malformed frames, the control socket's basics and a clean SIGTERM.

Every test using `app` runs twice: with `workers: 1` and with `workers: 2` (conftest.py).
"""

import os
import re
import signal
import textwrap
import time

import pytest

import lab as lablib

MAC_RE = r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}"


def test_ping_100_no_loss(app):
    sent, received, out = lablib.ping(app.lab, count=100, interval=0.01)
    assert (sent, received) == (100, 100), out
    assert " 0% packet loss" in out


def test_arping_answered_with_port_mac(app, app_mac):
    lab = app.lab
    # Debian's arping (Thomas Habets'): -i names the interface.
    r = lab.ns_exec(lab.CLI_NS, ["arping", "-c", "3", "-W", "0.2", "-i", lab.CLI_IF, lab.APP_ADDR],
                    timeout=30)
    replies = re.findall(rf"from ({MAC_RE}) \({re.escape(lab.APP_ADDR)}\)", r.stdout)
    assert len(replies) == 3, f"expected 3 ARP replies:\n{r.stdout}{r.stderr}"
    assert {m.lower() for m in replies} == {app_mac}
    # show ports names the same MAC.
    assert app_mac in app.ctl("show ports").lower()


def test_client_neighbour_entry_is_port_mac(app, app_mac):
    lab = app.lab
    sent, received, out = lablib.ping(app.lab, count=1)
    assert received == 1, out
    neigh = lab.ns_exec(lab.CLI_NS, ["ip", "neigh", "show", lab.APP_ADDR], check=True).stdout
    assert f"lladdr {app_mac}" in neigh.lower(), neigh


def test_ping_full_mtu_answered(app):
    # 1472 bytes of ICMP payload + 8 + 20 = 1500: the largest unfragmented echo.
    sent, received, out = lablib.ping(app.lab, count=3, size=1472, extra=["-M", "do"])
    assert received == 3, out


def drops_moved(before, after, except_counter):
    """Drop counters (totals) that moved between two counters() readings, but one."""
    return {k: after[k] - before.get(k, 0) for k in after
            if "." not in k and "_drop_" in k and k != except_counter
            and after[k] != before.get(k, 0)}


# Fragments and datagrams above the MTU: tests/integration/test_frag.py.


def test_frame_counters_agree_with_port_stats(app):
    # Every frame the port received reaches the stack once, every frame sent is counted once.
    before = app.counters()
    assert lablib.ping(app.lab, count=10, interval=0.01)[1] == 10
    after = app.counters()
    d = {k: after[k] - before[k] for k in ("rx_frames", "tx_frames", "port.lan.ipackets",
                                           "port.lan.opackets")}
    assert d["rx_frames"] == d["port.lan.ipackets"] >= 10, d
    assert d["tx_frames"] == d["port.lan.opackets"] >= 10, d


# Malformed frames, sent from the client namespace with scapy. Each case: (name, counter,
# scapy expression of one frame, with ETH the Ethernet header to the appliance).
MALFORMED = [
    ("bad_cksum", "ip_drop_bad_cksum", "ETH/IP(src=CLI, dst=APP, chksum=BADSUM)/ICMP()/(b'x'*32)"),
    ("bad_version", "ip_drop_version", "ETH/IP(src=CLI, dst=APP, version=6)/ICMP()/(b'x'*32)"),
    ("ihl_below_5", "ip_drop_bad_ihl", "ETH/IP(src=CLI, dst=APP, ihl=4)/ICMP()/(b'x'*32)"),
    ("total_length_beyond_frame", "ip_drop_bad_len",
     "ETH/IP(src=CLI, dst=APP, len=400)/ICMP()/(b'x'*32)"),
    ("total_length_below_header", "ip_drop_bad_len",
     "ETH/IP(src=CLI, dst=APP, len=12)/ICMP()/(b'x'*32)"),
    ("unknown_ethertype", "eth_drop_ethertype", "Ether(src=SRC, dst=DST, type=0x88b5)/(b'y'*46)"),
]

SEND_SCRIPT = textwrap.dedent("""\
    import sys
    from scapy.all import Ether, IP, ICMP, conf, sendp
    conf.verb = 0
    iface, SRC, DST, CLI, APP, count, expr = sys.argv[1:8]
    conf.iface = iface
    ETH = Ether(src=SRC, dst=DST)
    # A header checksum that is surely wrong for the echo request below.
    BADSUM = IP(bytes(IP(src=CLI, dst=APP) / ICMP() / (b"x" * 32))).chksum ^ 0x5a5a
    frame = eval(expr)
    sendp([frame] * int(count), iface=iface)
""")


def send_frames(app, app_mac, expr, count):
    lab = app.lab
    cli_mac = lab.mac(lab.CLI_NS, lab.CLI_IF)
    r = lab.ns_exec(lab.CLI_NS, ["/usr/bin/python3", "-c", SEND_SCRIPT, lab.CLI_IF, cli_mac,
                                 app_mac, lab.CLI_ADDR, lab.APP_ADDR, str(count), expr],
                    timeout=60)
    assert r.returncode == 0, f"scapy failed:\n{r.stdout}{r.stderr}"


@pytest.mark.parametrize("name,counter,expr", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_frame_counted(app, app_mac, name, counter, expr):
    n = 5
    before = app.counters()
    assert counter in before, f"{counter} missing from show ports"
    send_frames(app, app_mac, expr, n)
    app.wait_counter(counter, before[counter] + n)
    time.sleep(0.2)  # anything counted twice would show now
    after = app.counters()
    assert after[counter] - before[counter] == n
    # Nothing else dropped them: every other drop counter is unchanged.
    assert drops_moved(before, after, counter) == {}
    # and the appliance still answers.
    assert lablib.ping(app.lab, count=1)[1] == 1


def test_af_packet_queues_match_workers(app):
    # qpairs is derived from workers: one af_packet socket per queue on the app interface.
    lab = app.lab
    if getattr(lab, "device", "af_packet") != "af_packet":
        pytest.skip(f"af_packet sockets only: the lab runs {lab.device}")
    ifindex = lab.ns_exec(lab.LAB_NS, ["cat", f"/sys/class/net/{lab.APP_IF}/ifindex"],
                          check=True).stdout.strip()
    table = lab.ns_exec(lab.LAB_NS, ["cat", "/proc/net/packet"], check=True).stdout
    rows = [line.split() for line in table.splitlines()[1:]]
    assert sum(1 for r in rows if r[4] == ifindex) == app.workers, table


def test_show_info(app):
    info = app.ctl("show info")
    fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
    assert fields.get("Name") == "sluice", info
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", fields.get("Version", "")), info
    assert int(fields["Uptime_sec"]) >= 0
    assert fields["Workers"] == fields["Nbthread"] == str(app.workers)
    assert fields["Ports"] == "1"
    assert fields["Config_file"] == str(app.conf)
    # The answer as printed by sluicectl: the framing's final empty line is not repeated.
    assert info.endswith("\n") and "\n\n" not in info.rstrip("\n"), repr(info)


def test_unknown_command_is_an_error(app):
    r = app.ctl_run(["no", "such", "command"])
    assert r.returncode == 1, r
    assert r.stdout.startswith("error: "), r.stdout


def test_sluicectl_missing_socket(app):
    r = app.ctl_run(["show", "info"], socket=str(app.tmp / "absent.sock"))
    assert r.returncode == 2, r
    assert r.stderr.strip(), "sluicectl must say why it could not connect"


@pytest.fixture(scope="module")
def bare_lab():
    """A lab with no appliance running, for start-up refusals."""
    lab = lablib.Lab()
    lab.up()
    yield lab
    lab.down()


def test_explicit_qpairs_differing_from_workers_refused(bare_lab):
    app = lablib.Sluice(bare_lab, config_text=lablib.lab_config(
        bare_lab, f"/run/sluice-{bare_lab.prefix}/sluice.sock", workers=2, qpairs=1))
    try:
        r = app.run_expecting_refusal()
    finally:
        app.cleanup()
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "qpairs" in lines[0], r.stderr


def test_no_hugepages_refused_in_one_line(bare_lab):
    meminfo = open("/proc/meminfo").read()
    free = int(re.search(r"HugePages_Free:\s+(\d+)", meminfo).group(1))
    if free:
        pytest.skip(f"this machine has {free} free hugepages")
    text = lablib.lab_config(bare_lab, f"/run/sluice-{bare_lab.prefix}/sluice.sock")
    text = text.replace('"--no-huge", "-m", "512", ', "")
    app = lablib.Sluice(bare_lab, config_text=text)
    try:
        r = app.run_expecting_refusal()
    finally:
        app.cleanup()
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "hugepages" in lines[0] and "--no-huge" in lines[0], r.stderr


def test_sigterm_exits_zero():
    # Its own appliance: the module's one is stopped (and checked) at teardown.
    with lablib.running_sluice(workers=1) as app:
        assert lablib.ping(app.lab, count=1)[1] == 1
        rc = app.stop(signal.SIGTERM)
        assert rc == 0, app.log_tail()
        # A clean exit leaves nothing behind in tmpfs (EAL's runtime directory holds several
        # MiB per run with --no-huge: they would pile up across restarts).
        leftover = app.eal_runtime_dir()
        files = sorted(os.listdir(leftover)) if leftover.exists() else []
        assert files == [], f"left behind in {leftover}"
