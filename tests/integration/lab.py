# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for sluice's integration tests: the namespace lab and a running appliance.

Names and addresses come from `scripts/lab.sh env PREFIX`, the one source of truth shared with
scripts/quickstart.sh. Every lab gets its own random prefix, so runs never collide.

SLUICE_LAB_DEVICE=af_xdp runs the suites with sluice on DPDK's af_xdp instead of af_packet
(lab.sh's LAB_DEVICE, hence APP_DEVICE): an opt-in run. There a veth gives af_xdp one queue, so
appliances with more than one worker are skipped, and the af_packet ring options some suites
ask for (framecnt=...) are left out.
"""

import json
import os
import re
import select
import secrets
import shutil
import signal
import string
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SLUICE_BUILD_DIR", REPO / "build"))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD
SLUICE = BUILD / "app" / "sluice"
SLUICECTL = BUILD / "app" / "sluicectl"
LAB_SH = REPO / "scripts" / "lab.sh"

START_TIMEOUT = 30.0  # seconds for sluice to open its control socket
STOP_TIMEOUT = 15.0  # seconds for sluice to exit after SIGTERM


def run(cmd, timeout=60, check=False, **kw):
    """Run cmd (a list), capture text output, never hang longer than timeout."""
    return subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, check=check, **kw
    )


def random_prefix():
    """'t' + 3 random [a-z0-9]: short enough for every derived interface name."""
    alphabet = string.ascii_lowercase + string.digits
    return "t" + "".join(secrets.choice(alphabet) for _ in range(3))


class Lab:
    """One network-namespace lab (scripts/lab.sh) under a unique prefix."""

    def __init__(self, prefix=None, device=None):
        self.prefix = prefix or random_prefix()
        self.device = device or os.environ.get("SLUICE_LAB_DEVICE") or "af_packet"
        out = run(["bash", LAB_SH, "env", self.prefix], check=True,
                  env={**os.environ, "LAB_DEVICE": self.device}).stdout
        self.env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        self.up_done = False

    def __getattr__(self, name):
        # lab.APP_IF, lab.CLI_NS, ... straight from `lab.sh env`.
        env = self.__dict__.get("env", {})
        if name in env:
            return env[name]
        raise AttributeError(name)

    def up(self):
        r = run(["bash", LAB_SH, "up", self.prefix], timeout=120)
        assert r.returncode == 0, f"lab.sh up {self.prefix} failed:\n{r.stdout}{r.stderr}"
        self.up_done = True

    def down(self):
        r = run(["bash", LAB_SH, "down", self.prefix], timeout=120)
        self.up_done = False
        assert r.returncode == 0, f"lab.sh down {self.prefix} failed:\n{r.stdout}{r.stderr}"

    def ns_exec(self, ns, cmd, timeout=60, check=False):
        """Run cmd (a list) inside namespace ns; returns the CompletedProcess."""
        return run(["ip", "netns", "exec", ns, *cmd], timeout=timeout, check=check)

    def mac(self, ns, ifname):
        """The kernel's MAC address of ifname in ns, lower case."""
        out = self.ns_exec(ns, ["cat", f"/sys/class/net/{ifname}/address"], check=True).stdout
        return out.strip().lower()


# af_packet ring options (docs/getting-started.md) that af_xdp does not take.
_AF_PACKET_ONLY = re.compile(r",(?:framecnt|framesz|blocksz|qdisc_bypass)=[0-9]+")


def dataplane_yaml(lab, workers, mbufs, max_connections, device=None):
    """The dataplane section the HTTP suites share, as YAML text inside an f-string: no huge
    pages, one port on the lab's veth, idle back-off (throughput is not measured there)."""
    device = device or lab.APP_DEVICE
    if "net_af_xdp" in device:  # here too, so that a reload's text matches the start's
        device = _AF_PACKET_ONLY.sub("", device)
    return f"""\
dataplane:
  eal: ["--no-huge", "-m", "512", "--no-pci"]
  workers: {workers}
  mbufs: {mbufs}
  max_connections: {max_connections}
  idle_sleep_us: 50
  ports:
    - name: lan
      device: "{device}"
      address: {lab.APP_ADDR}/{lab.LAB_PREFIXLEN}
"""


def lab_config(lab, socket_path, workers=1, extra_eal=None, qpairs=None):
    """The appliance configuration for lab as YAML text (dataplane and control only)."""
    device = lab.APP_DEVICE + (f",qpairs={qpairs}" if qpairs else "")
    eal = ["--no-huge", "-m", "512", "--no-pci", *(extra_eal or [])]
    eal_yaml = ", ".join(f'"{a}"' for a in eal)
    return f"""\
dataplane:
  eal: [{eal_yaml}]
  workers: {workers}
  idle_sleep_us: 100
  ports:
    - name: lan
      device: "{device}"
      address: {lab.APP_ADDR}/{lab.LAB_PREFIXLEN}
      mtu: 1500
control:
  socket: {socket_path}
"""


def _xdp_skip_reason(text):
    """Why a configuration cannot run on the lab's af_xdp device, or None."""
    m = re.search(r"^\s*workers:\s*(\d+)", text, re.M)
    if "net_af_xdp" in text and m and int(m.group(1)) > 1:
        return (f"workers: {m.group(1)} on af_xdp: DPDK 22.11's af_xdp opens one queue on a "
                f"veth (no combined channels), so the lab's af_xdp runs one worker")
    return None


class Sluice:
    """A sluice process running in lab's namespace, and its control socket."""

    def __init__(self, lab, workers=1, config_text=None):
        self.lab = lab
        self.workers = workers
        self.rundir = Path(f"/run/sluice-{lab.prefix}")
        self.socket = self.rundir / "sluice.sock"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"sluice-{lab.prefix}-"))
        self.conf = self.tmp / "sluice.yaml"
        self.log = self.tmp / "sluice.log"
        text = config_text or lab_config(lab, self.socket, workers=workers)
        if "net_af_xdp" in text:
            text = _AF_PACKET_ONLY.sub("", text)
        self.skip_reason = _xdp_skip_reason(text)
        self.conf.write_text(text)
        self.proc = None
        self.pid = None
        self.returncode = None

    def _skip_if_unsupported(self):
        if self.skip_reason:
            import pytest  # only the test suites start appliances that may be skipped

            pytest.skip(self.skip_reason)

    def eal_runtime_dir(self):
        """EAL's runtime directory for this process (sluice derives --file-prefix=sluice-PID)."""
        return Path(f"/var/run/dpdk/sluice-{self.pid}") if self.pid else None

    def start(self):
        self._skip_if_unsupported()
        self.rundir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.lab.LAB_NS, str(SLUICE), "-c", str(self.conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.pid = self.proc.pid  # ip netns exec execs sluice: same pid
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"sluice exited with status {self.proc.returncode} before opening "
                    f"{self.socket}:\n{self.log_tail()}"
                )
            if self.socket.is_socket() and self.ctl_run(["show", "info"]).returncode == 0:
                return self
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"no answer on {self.socket} after {START_TIMEOUT} s:\n{self.log_tail()}")

    def run_expecting_refusal(self, timeout=30):
        """Run sluice in the foreground when it is expected to refuse to start; returns the
        CompletedProcess (a process still running at timeout is a failure)."""
        self._skip_if_unsupported()
        self.rundir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            return run(["ip", "netns", "exec", self.lab.LAB_NS, SLUICE, "-c", self.conf],
                       timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"sluice kept running for {timeout} s instead of refusing")

    def log_tail(self, lines=40):
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def ns_exec(self, ns, cmd, **kw):
        """Run cmd (a list) in namespace ns of this appliance's lab."""
        return self.lab.ns_exec(ns, cmd, **kw)

    def ctl_run(self, args, socket=None, timeout=10):
        """sluicectl -s SOCKET ARGS...; returns the CompletedProcess."""
        return run([SLUICECTL, "-s", socket or self.socket, *args], timeout=timeout)

    def ctl(self, cmd):
        """Run one control command (a string) and return its answer; fails on an error."""
        r = self.ctl_run(cmd.split())
        assert r.returncode == 0, f"sluicectl {cmd}: exit {r.returncode}\n{r.stdout}{r.stderr}"
        return r.stdout

    def counters(self):
        return parse_counters(self.ctl("show ports"))

    def counter(self, name):
        """The value of counter name in `show ports` (summed over workers)."""
        c = self.counters()
        assert name in c, f"counter {name} not in show ports:\n{self.ctl('show ports')}"
        return c[name]

    def wait_counter(self, name, at_least, timeout=5.0):
        """Poll counter name until it reaches at_least (or timeout); returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.counter(name)
            if v >= at_least or time.monotonic() > deadline:
                return v
            time.sleep(0.05)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM):
        """Send sig and wait for the exit; returns the exit status."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(
                    f"sluice did not exit within {STOP_TIMEOUT} s of {sig.name}:\n"
                    f"{self.log_tail()}"
                )
        self.returncode = self.proc.returncode
        self.proc = None
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc is not None:
            self.returncode = self.proc.returncode
        self.proc = None

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)
        shutil.rmtree(self.rundir, ignore_errors=True)
        # EAL leaves its runtime files (about 6 MiB of tmpfs with --no-huge) behind; a test
        # run must not leave them to pile up on the machine.
        if self.eal_runtime_dir():
            shutil.rmtree(self.eal_runtime_dir(), ignore_errors=True)


_KV_LINE = re.compile(r"^([A-Za-z0-9_.:/-]+): (\d+)$")


def parse_counters(text):
    """Numeric lines of `show ports` (control/ctl_cmds.c) as a dict.

    "total.GROUP.COUNTER: N" (the sum over workers) is stored as "COUNTER" and as
    "GROUP.COUNTER"; every other numeric line (port.NAME.FIELD, workerW.GROUP.COUNTER,
    pool.NAME.FIELD) under its full key.
    """
    out = {}
    for line in text.splitlines():
        m = _KV_LINE.match(line.strip())
        if not m:
            continue
        key, value = m.group(1), int(m.group(2))
        out[key] = value
        if key.startswith("total."):
            group_counter = key[len("total."):]
            out[group_counter] = value
            out[group_counter.split(".", 1)[-1]] = value
    return out


def stop_ok(app):
    """SIGTERM sluice; it must exit 0 (a fixture's last check)."""
    rc = app.stop()
    assert rc == 0, f"sluice exited with status {rc} after SIGTERM:\n{app.log_tail()}"


def teardown(lab, app, backends=(), tmpdir=None):
    """What a fixture started, undone in order: sluice, the backends, the scratch directory,
    the lab. Each may be None or empty (the fixture failed before starting it)."""
    if app is not None:
        app.cleanup()
    for b in backends:
        if b is not None:
            b.cleanup()
    if tmpdir is not None:
        shutil.rmtree(tmpdir, ignore_errors=True)
    lab.down()


@contextmanager
def running_sluice(workers=1, config_text=None, config_fn=None):
    """A fresh lab with sluice running in it; on exit SIGTERM (status must be 0) and lab down.

    config_fn(lab, socket_path) builds the configuration text once the lab's names are known
    (config_text, when given, is used as it is)."""
    lab = Lab()
    lab.up()
    app = None
    try:
        if config_fn is not None:
            config_text = config_fn(lab, Path(f"/run/sluice-{lab.prefix}/sluice.sock"))
        app = Sluice(lab, workers=workers, config_text=config_text)
        app.start()
        yield app
        stop_ok(app)
    finally:
        teardown(lab, app)


def ping(lab, count=3, size=None, interval=0.2, extra=None, timeout=None):
    """ping the appliance from the client namespace; returns (transmitted, received, output)."""
    cmd = ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "1"]
    if size is not None:
        cmd += ["-s", str(size)]
    cmd += [*(extra or []), lab.APP_ADDR]
    r = lab.ns_exec(lab.CLI_NS, cmd, timeout=timeout or count * (interval + 1) + 10)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    assert m, f"unexpected ping output:\n{r.stdout}{r.stderr}"
    return int(m.group(1)), int(m.group(2)), r.stdout


def show_pools(app):
    """show pools as a dict of counters (mem.*, workerW.mem.*, pool.*)."""
    return parse_counters(app.ctl("show pools"))


def json_line(proc, timeout, what="client"):
    """The next line proc (a line-oriented JSON helper process) writes, parsed."""
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    assert r, f"{what} gave no answer within {timeout} s"
    line = proc.stdout.readline()
    assert line, f"{what} exited with {proc.wait(5)}"
    return json.loads(line)


def json_cmd(proc, c, timeout=60, what="client"):
    """Send one command line to such a process and return its JSON answer."""
    proc.stdin.write(c + "\n")
    proc.stdin.flush()
    return json_line(proc, timeout, what)
