# SPDX-License-Identifier: BSD-3-Clause
"""IPv4 fragments through the real appliance: reassembly of fragmented ICMP echoes and of a
fragmented HTTP request on a TCP connection, the named drops, and fragmentation of replies
above the MTU.

What sluice receives depends on the device. DPDK's af_packet device joins a fanout group with
PACKET_FANOUT_FLAG_DEFRAG, so the kernel of the lab namespace reassembles fragments before
sluice sees them: a datagram arrives whole, larger than the MTU, and only if it fits the
ring's frame and one mbuf (about 1.9 KiB; the PMD refuses a larger framesz), else truncated.
So the reassembly tests run sluice on DPDK's net_pcap device on the same veth: libpcap's
socket is not in a fanout group and nothing in the lab namespace defragments (no conntrack),
so sluice gets the fragments as the client sent them; the tests assert frag_rx and
frag_reassembled moved to prove it. The af_packet behaviour is checked separately.
"""

import json
import textwrap

import pytest

import lab as lablib

REQ_HOST = "frag.test"


def pcap_config(lab, socket_path):
    return f"""\
dataplane:
  eal: ["--no-huge", "-m", "512", "--no-pci"]
  workers: 1
  idle_sleep_us: 100
  ports:
    - name: lan
      device: "net_pcap0,iface={lab.APP_IF}"
      address: {lab.APP_ADDR}/{lab.LAB_PREFIXLEN}
      mtu: 1500
listeners:
  - name: web
    port: 80
    routes:
      - match: {{ path_prefix: "/" }}
        respond: {{ status: 200, body: "reassembled\\n", content_type: "text/plain" }}
control:
  socket: {socket_path}
"""


@pytest.fixture(scope="module")
def pcap_app():
    with lablib.running_sluice(workers=1, config_fn=pcap_config) as a:
        yield a


def moved(before, after, *names):
    return {n: after.get(n, 0) - before.get(n, 0) for n in names}


def drops_moved(before, after):
    return {k: after[k] - before.get(k, 0) for k in after
            if "." not in k and "_drop_" in k and after[k] != before.get(k, 0)}


# Runs in the client namespace: sends one ICMP echo request as fragments in a given order
# (with optional duplicates or overlaps), sniffs what comes back, and prints a JSON summary.
ECHO_SCRIPT = textwrap.dedent("""\
    import json, sys, time
    from scapy.all import (ICMP, IP, AsyncSniffer, Ether, conf, defragment, fragment, raw,
                           sendp, srp1, ARP)
    conf.verb = 0
    iface, cli, app, size, order, mode = sys.argv[1:7]
    # Optional: a second interface that carries every fragment but the first, and how many
    # datagrams (ids 0x4242, 0x4243, ...) to send.
    iface2 = sys.argv[7] if len(sys.argv) > 7 else iface
    count = int(sys.argv[8]) if len(sys.argv) > 8 else 1
    conf.iface = iface
    cli_mac = open(f"/sys/class/net/{iface}/address").read().strip()
    arp = srp1(Ether(dst="ff:ff:ff:ff:ff:ff", src=cli_mac) / ARP(psrc=cli, pdst=app),
               iface=iface, timeout=2)
    app_mac = arp[ARP].hwsrc
    data = bytes((i * 7 + 3) & 0xff for i in range(int(size)))
    sn = AsyncSniffer(iface=iface, filter=f"icmp and src host {app}", store=True)
    sn.start()
    time.sleep(0.3)
    sent = 0
    for n in range(count):
        pkt = IP(src=cli, dst=app, id=0x4242 + n) / ICMP(id=0x77, seq=n) / data
        frags = fragment(pkt, fragsize=1000)
        if mode == "overlap":
            # A second copy of the middle fragment, shifted by 8 bytes into the first one.
            f = frags[1].copy()
            f.frag -= 1
            frags.insert(2, f)
        elif mode == "duplicate":
            frags.insert(2, frags[1].copy())
        idx = [int(i) for i in order.split(",")] if order else list(range(len(frags)))
        for i in idx:
            out = iface if frags[i].frag == 0 else iface2
            sendp(Ether(src=cli_mac, dst=app_mac) / frags[i], iface=out)
            sent += 1
    time.sleep(1.0)
    got = sn.stop()
    replies = [p for p in got if IP in p and p[IP].src == app]
    whole = defragment([p[IP] for p in replies])
    echo = [p for p in whole if ICMP in p and p[ICMP].type == 0]
    print(json.dumps({
        "sent": sent,
        "reply_frames": len(replies),
        "reply_frame_sizes": [len(p) for p in replies],
        "echoes": len(echo),
        "echo_ok": len(echo) == count and all(raw(e[ICMP].payload) == data for e in echo),
    }))
""")


def send_echo(app, size, order="", mode="plain", iface2=None, count=1):
    lab = app.lab
    r = lab.ns_exec(lab.CLI_NS, ["/usr/bin/python3", "-c", ECHO_SCRIPT, lab.CLI_IF,
                                 lab.CLI_ADDR, lab.APP_ADDR, str(size), order, mode,
                                 iface2 or lab.CLI_IF, str(count)],
                    timeout=60)
    assert r.returncode == 0, f"scapy failed:\n{r.stdout}{r.stderr}"
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_big_ping_answered(pcap_app):
    app = pcap_app
    before = app.counters()
    sent, received, out = lablib.ping(app.lab, count=3, size=3000)
    assert (sent, received) == (3, 3), out
    after = app.counters()
    d = moved(before, after, "frag_rx", "frag_reassembled", "frag_tx_datagrams",
              "frag_tx_fragments", "icmp_echo_replies")
    # 3028 bytes: 3 fragments each way per echo, reassembled by sluice itself.
    assert d == {"frag_rx": 9, "frag_reassembled": 3, "frag_tx_datagrams": 3,
                 "frag_tx_fragments": 9, "icmp_echo_replies": 3}, d
    assert drops_moved(before, after) == {}


@pytest.mark.parametrize("order", ["0,1,2", "2,1,0", "1,2,0"],
                         ids=["in_order", "reversed", "middle_first"])
def test_fragmented_echo_answered(pcap_app, order):
    app = pcap_app
    before = app.counters()
    res = send_echo(app, 2500, order)  # 2508 bytes of ICMP: fragments of 1000, 1000, 508
    after = app.counters()
    assert res["echo_ok"], res
    # The reply (2528 bytes) leaves as 1500 + 1048: sluice fragments at its MTU.
    assert sorted(res["reply_frame_sizes"]) == [1062, 1514], res
    assert moved(before, after, "frag_rx", "frag_reassembled") == {
        "frag_rx": 3, "frag_reassembled": 1}
    assert drops_moved(before, after) == {}
    assert lablib.show_pools(app)["worker0.mem.frag_mbufs"] == 0


@pytest.mark.parametrize("mode", ["overlap", "duplicate"])
def test_bad_fragment_sets_dropped_and_counted(pcap_app, mode):
    app = pcap_app
    before = app.counters()
    res = send_echo(app, 2500, "", mode)
    after = app.counters()
    assert res["reply_frames"] == 0, res
    # The four fragments of the datagram are dropped together, as one bad set.
    assert drops_moved(before, after) == {"frag_drop_bad": 4}
    assert moved(before, after, "frag_reassembled")["frag_reassembled"] == 0
    pools = lablib.show_pools(app)
    assert pools["worker0.mem.frag_mbufs"] == 0
    assert pools["worker0.mem.frag_mbufs_max"] > 0


def test_incomplete_datagram_times_out(pcap_app):
    app = pcap_app
    before = app.counters()
    res = send_echo(app, 2500, "0,2")  # the middle never comes
    assert res["reply_frames"] == 0, res
    assert lablib.show_pools(app)["worker0.mem.frag_mbufs"] == 2
    # NET_FRAG_TIMEOUT_MS (5 s) later, both are dropped as timed out.
    app.wait_counter("frag_drop_timeout", before.get("frag_drop_timeout", 0) + 2, timeout=15)
    after = app.counters()
    assert drops_moved(before, after) == {"frag_drop_timeout": 2}
    assert lablib.show_pools(app)["worker0.mem.frag_mbufs"] == 0


# Runs in the client namespace: one TCP connection driven by scapy from an address the client
# kernel does not own (so that it sends no RST for a connection it does not know), sluice
# told where that address lives by an ARP request; the HTTP request head goes out as IPv4
# fragments, last first. Prints the response bytes sluice sent.
TCP_SCRIPT = textwrap.dedent("""\
    import json, sys, time
    from scapy.all import ARP, IP, TCP, AsyncSniffer, Ether, conf, fragment, raw, sendp, srp1
    conf.verb = 0
    iface, src, app, host, iface2, sport = sys.argv[1:7]
    sport = int(sport)
    conf.iface = iface
    mac = open(f"/sys/class/net/{iface}/address").read().strip()
    arp = srp1(Ether(dst="ff:ff:ff:ff:ff:ff", src=mac) / ARP(hwsrc=mac, psrc=src, pdst=app),
               iface=iface, timeout=2)
    app_mac = arp[ARP].hwsrc
    eth = Ether(src=mac, dst=app_mac)
    seen = []
    sn = AsyncSniffer(iface=iface, filter=f"tcp and src host {app} and dst port {sport}",
                      prn=seen.append, store=False)
    sn.start()
    time.sleep(0.3)
    sendp(eth / IP(src=src, dst=app) / TCP(sport=sport, dport=80, flags="S", seq=1000),
          iface=iface)
    deadline = time.time() + 3
    synack = None
    while time.time() < deadline and synack is None:
        for p in list(seen):
            if TCP in p and p[TCP].flags & 0x12 == 0x12:
                synack = p
        time.sleep(0.05)
    if synack is None:
        sn.stop()
        print(json.dumps({"error": "no SYN-ACK"}))
        sys.exit(0)
    ack = synack[TCP].seq + 1
    sendp(eth / IP(src=src, dst=app) / TCP(sport=sport, dport=80, flags="A", seq=1001, ack=ack),
          iface=iface)
    head = (b"GET /frag HTTP/1.1\\r\\nHost: " + host.encode() + b"\\r\\nX-Pad: " + b"p" * 2400 +
            b"\\r\\n\\r\\n")
    seg = IP(src=src, dst=app, id=0x5151) / TCP(sport=sport, dport=80, flags="PA", seq=1001,
                                               ack=ack) / head
    frags = fragment(seg, fragsize=1000)
    for f in reversed(frags):  # every fragment but the first through iface2
        sendp(eth / f, iface=iface if f.frag == 0 else iface2)
    time.sleep(1.0)
    sn.stop()
    def tcp_data(p):  # the segment's bytes without Ethernet padding
        n = p[IP].len - p[IP].ihl * 4 - p[TCP].dataofs * 4
        return raw(p[TCP].payload)[:n]
    data = b"".join(tcp_data(p) for p in seen if TCP in p)
    sendp(eth / IP(src=src, dst=app) / TCP(sport=sport, dport=80, flags="R",
                                           seq=1001 + len(head)), iface=iface)
    print(json.dumps({"fragments": len(frags), "response": data.decode("latin-1")}))
""")


def fragmented_http_request(app, sport, iface2=None):
    """One scapy-driven connection whose request head arrives in 3 fragments; returns the
    response text."""
    lab = app.lab
    # 198.18.0.77: in the lab's subnet, configured nowhere.
    r = lab.ns_exec(lab.CLI_NS, ["/usr/bin/python3", "-c", TCP_SCRIPT, lab.CLI_IF,
                                 "198.18.0.77", lab.APP_ADDR, REQ_HOST, iface2 or lab.CLI_IF,
                                 str(sport)], timeout=60)
    assert r.returncode == 0, f"scapy failed:\n{r.stdout}{r.stderr}"
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert "error" not in res, res
    assert res["fragments"] == 3, res
    return res["response"]


def net_drops(before, after):
    """Drops of the L2/L3 layers (the TCP ones of scapy's crude closes are not the point)."""
    return {k: v for k, v in drops_moved(before, after).items() if not k.startswith("drop_")}


def test_fragmented_http_request_on_tcp(pcap_app):
    app = pcap_app
    before = app.counters()
    resp = fragmented_http_request(app, 41001)
    assert resp.startswith("HTTP/1.1 200"), resp
    assert resp.endswith("reassembled\n"), resp
    after = app.counters()
    assert moved(before, after, "frag_rx", "frag_reassembled") == {
        "frag_rx": 3, "frag_reassembled": 1}
    assert net_drops(before, after) == {}


# ---- two workers: fragments of one datagram received by different workers ----

def add_second_path(lab):
    """A second veth pair, client namespace to lab namespace, outside the bridge: what the
    client sends on it reaches sluice only through its second RX queue. Returns the names
    (client end, lab end); lab.down() removes them with the namespaces."""
    cli_end, lab_end = f"{lab.prefix}fc", f"{lab.prefix}fa"
    r = lablib.run(["ip", "link", "add", cli_end, "netns", lab.CLI_NS, "type", "veth", "peer",
                    "name", lab_end, "netns", lab.LAB_NS])
    assert r.returncode == 0, r.stderr
    for ns, ifname in ((lab.CLI_NS, cli_end), (lab.LAB_NS, lab_end)):
        lab.ns_exec(ns, ["sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=1"], check=True)
        lab.ns_exec(ns, ["ethtool", "-K", ifname, "tx", "off", "tso", "off", "gso", "off",
                         "gro", "off"])
        lab.ns_exec(ns, ["ip", "link", "set", "dev", ifname, "mtu", "1500", "up"], check=True)
    return cli_end, lab_end


@pytest.fixture(scope="module")
def two_workers():
    lab = lablib.Lab()
    lab.up()
    app = None
    try:
        cli_end, lab_end = add_second_path(lab)
        sock = lablib.Path(f"/run/sluice-{lab.prefix}/sluice.sock")
        # Queue 0 reads the lab's veth, queue 1 the second path, incoming frames only (a
        # pcap handle would also see what the other queue sends); both send on the lab's veth.
        device = (f"net_pcap0,rx_iface_in={lab.APP_IF},rx_iface_in={lab_end},"
                  f"tx_iface={lab.APP_IF},tx_iface={lab.APP_IF}")
        text = pcap_config(lab, sock).replace("workers: 1", "workers: 2").replace(
            f"net_pcap0,iface={lab.APP_IF}", device)
        app = lablib.Sluice(lab, workers=2, config_text=text)
        app.start()
        app.cli_end = cli_end
        yield app
        lablib.stop_ok(app)
    finally:
        lablib.teardown(lab, app)


def test_fragments_split_over_workers_steered_and_reassembled(two_workers):
    app = two_workers
    before = app.counters()
    count = 8
    # First fragments reach worker 0, the others worker 1: whichever worker a datagram's
    # (source, destination, protocol, id) names, some of its fragments change worker.
    res = send_echo(app, 2500, "", "plain", iface2=app.cli_end, count=count)
    after = app.counters()
    assert res["echo_ok"], res
    d = moved(before, after, "frag_rx", "frag_reassembled", "frag_redirects",
              "worker0.net.frag_rx", "worker1.net.frag_rx", "redirect_drop_full")
    assert d["frag_rx"] == 3 * count and d["frag_reassembled"] == count, d
    # One redirect (the first fragment) or two (the others) per datagram.
    assert count <= d["frag_redirects"] <= 2 * count, d
    assert d["redirect_drop_full"] == 0, d
    assert drops_moved(before, after) == {}


def test_fragmented_http_requests_over_workers(two_workers):
    # Reassembled on the worker the datagram's id names, then handed to the worker that owns
    # the connection's 4-tuple when that is the other one (a second redirect).
    app = two_workers
    before = app.counters()
    for sport in range(42001, 42005):
        resp = fragmented_http_request(app, sport, iface2=app.cli_end)
        assert resp.startswith("HTTP/1.1 200") and resp.endswith("reassembled\n"), resp
    after = app.counters()
    d = moved(before, after, "frag_rx", "frag_reassembled", "frag_redirects")
    assert d["frag_rx"] == 12 and d["frag_reassembled"] == 4, d
    assert d["frag_redirects"] >= 4, d
    assert net_drops(before, after) == {}


# ---- af_packet: what the lab's default device delivers ----

@pytest.fixture(scope="module")
def afp_app():
    with lablib.running_sluice(workers=1) as a:
        yield a


def test_af_packet_delivers_kernel_reassembled_datagrams(afp_app):
    # The kernel reassembles before af_packet: sluice sees one 1628-byte datagram per echo,
    # never a fragment, and answers it in fragments of its own.
    app = afp_app
    before = app.counters()
    sent, received, out = lablib.ping(app.lab, count=3, size=1600)
    assert (sent, received) == (3, 3), out
    after = app.counters()
    assert moved(before, after, "frag_rx", "frag_tx_datagrams", "frag_tx_fragments") == {
        "frag_rx": 0, "frag_tx_datagrams": 3, "frag_tx_fragments": 6}
    assert drops_moved(before, after) == {}


def test_af_packet_truncates_datagrams_above_its_frame(afp_app):
    # Above what one ring frame holds, the reassembled datagram arrives cut short: its IPv4
    # total length exceeds the frame, so it is dropped as ip_drop_bad_len, never answered.
    app = afp_app
    before = app.counters()
    sent, received, out = lablib.ping(app.lab, count=2, size=3000)
    assert received == 0, out
    app.wait_counter("ip_drop_bad_len", before.get("ip_drop_bad_len", 0) + 2)
    after = app.counters()
    assert drops_moved(before, after) == {"ip_drop_bad_len": 2}
