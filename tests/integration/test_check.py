# SPDX-License-Identifier: BSD-3-Clause
"""`sluice --check -c FILE`: validates without EAL, devices or privileges; reports every error
as FILE:LINE:COL: message (1-based), in document order; exit 0 silent when valid, 1 otherwise.

The exhaustive cases live in the config loader's unit tests (tests/unit/cfg_test.cc); these
check the real binary's behaviour as an operator sees it.
"""

import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import lab as lablib

VALID = textwrap.dedent("""\
    dataplane:
      eal: ["--no-huge", "-m", "512", "--no-pci"]
      workers: 1
      idle_sleep_us: 100
      ports:
        - name: lan
          device: "net_af_packet0,iface=nosuchif0"
          address: 198.18.0.10/24
    control:
      socket: /run/sluice-check/sluice.sock
""")

# (id, YAML text, [(line, col) of each expected error, in order]).
BROKEN = [
    ("unknown_key", """\
dataplane:
  workers: 1
  bogus: 3
  ports:
    - device: "net_af_packet0,iface=x"
      address: 198.18.0.10/24
""", [(3, 3)]),
    ("duplicate_key", """\
dataplane:
  workers: 1
  workers: 2
  ports:
    - device: "net_af_packet0,iface=x"
      address: 198.18.0.10/24
""", [(3, 3)]),
    ("bad_integer", """\
dataplane:
  workers: many
  ports:
    - device: "net_af_packet0,iface=x"
      address: 198.18.0.10/24
""", [(2, 12)]),
    ("bad_address", """\
dataplane:
  ports:
    - device: "net_af_packet0,iface=x"
      address: 198.18.0.300/24
""", [(4, 16)]),
    # A missing key is reported at its parent mapping: the port's mapping starts after "- ".
    ("missing_device", """\
dataplane:
  workers: 1
  ports:
    - name: lan
      address: 198.18.0.10/24
""", [(4, 7)]),
    ("two_errors_in_order", """\
dataplane:
  workers: 1
  nonsense: 1
  ports:
    - device: "net_af_packet0,iface=x"
      address: 198.18.0.10/24
control:
  socket: /run/sluice/sluice.sock
  whatever: 2
""", [(3, 3), (9, 3)]),
    # Failure handling: a status out of range inside a list, at the entry; a retry condition
    # that needs per_try_ms, at the list; an interval under the minimum.
    ("health_check_and_retries", """\
services:
  api:
    health_check:
      expect_status: [200, "600"]
      interval_ms: 50
    retries: { count: 1, on: [reset, response-timeout] }
""", [(4, 28), (5, 20), (6, 30)]),
    ("per_try_over_response", """\
services:
  api:
    timeouts: { response_ms: 1000, per_try_ms: 5000 }
    retries: 11
""", [(3, 48), (4, 14)]),
]

ERR_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$")


@pytest.fixture
def tmpdir_world():
    """A directory (and so files in it) that the unprivileged user can read."""
    d = Path(tempfile.mkdtemp(prefix="sluice-check-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def sluice_world(tmpdir_world):
    """A copy of the sluice binary that the unprivileged user can run (the checkout may sit
    under a directory it cannot enter)."""
    dst = tmpdir_world / "sluice"
    shutil.copy2(lablib.SLUICE, dst)
    dst.chmod(0o755)
    return dst


def write(d, name, text):
    p = d / name
    p.write_text(text)
    p.chmod(0o644)
    return p


def check(path, binary=None, as_nobody=False, timeout=20):
    cmd = [str(binary or lablib.SLUICE), "--check", "-c", str(path)]
    if as_nobody:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_valid_config_is_silent(tmpdir_world):
    p = write(tmpdir_world, "ok.yaml", VALID)
    r = check(p)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_lab_config_is_valid():
    r = check(lablib.REPO / "configs" / "lab.yaml")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


@pytest.mark.parametrize("name,text,where", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_reports_file_line_col(tmpdir_world, name, text, where):
    p = write(tmpdir_world, f"{name}.yaml", text)
    r = check(p)
    assert r.returncode == 1, r
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines, "no error printed"
    parsed = [ERR_LINE.match(line) for line in lines]
    assert all(parsed), f"every line must be FILE:LINE:COL: message:\n{r.stderr}"
    assert {m["file"] for m in parsed} == {str(p)}
    got = [(int(m["line"]), int(m["col"])) for m in parsed]
    assert got == where, r.stderr


def test_yaml_syntax_error(tmpdir_world):
    p = write(tmpdir_world, "syntax.yaml", "dataplane:\n  workers: [1, 2\n  ports: {\n")
    r = check(p)
    assert r.returncode == 1, r
    m = ERR_LINE.match(r.stderr.splitlines()[0])
    assert m and m["file"] == str(p), r.stderr
    assert int(m["line"]) >= 2, r.stderr


def test_missing_file(tmpdir_world):
    p = tmpdir_world / "absent.yaml"
    r = check(p)
    assert r.returncode == 1, r
    assert r.stderr.startswith(f"{p}: cannot read: "), r.stderr
    assert "No such file" in r.stderr


def test_unreadable_file_as_nobody(tmpdir_world, sluice_world):
    p = write(tmpdir_world, "secret.yaml", VALID)
    p.chmod(0o000)
    r = check(p, binary=sluice_world, as_nobody=True)
    assert r.returncode == 1, r
    assert r.stderr.startswith(f"{p}: cannot read: "), r.stderr
    assert "Permission denied" in r.stderr


def test_check_as_nobody_valid_and_broken(tmpdir_world, sluice_world):
    ok = write(tmpdir_world, "ok.yaml", VALID)
    r = check(ok, binary=sluice_world, as_nobody=True)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    bad = write(tmpdir_world, "bad.yaml", BROKEN[0][1])
    r = check(bad, binary=sluice_world, as_nobody=True)
    assert r.returncode == 1
    assert r.stderr.startswith(f"{bad}:3:3: "), r.stderr


def test_check_never_starts_eal(tmpdir_world, sluice_world):
    # The device does not exist, the user may not open raw sockets, and EAL is told to use a
    # runtime directory nobody cannot create: any EAL start or device probe would fail or
    # leave a trace. --check must succeed, quickly, and touch none of it.
    text = VALID.replace('"--no-pci"]', '"--no-pci", "--file-prefix", "sluicecheck"]')
    p = write(tmpdir_world, "eal.yaml", text)
    before = set(_dpdk_runtime_dirs())
    t0 = time.monotonic()
    r = check(p, binary=sluice_world, as_nobody=True)
    elapsed = time.monotonic() - t0
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert "EAL" not in r.stderr
    assert elapsed < 5, f"--check took {elapsed:.1f} s"
    assert set(_dpdk_runtime_dirs()) == before


def _dpdk_runtime_dirs():
    """EAL's runtime directories for the "sluicecheck" prefix, as root and as other users."""
    out = []
    for base in ("/var/run/dpdk", "/run/dpdk", "/run/user/65534/dpdk", "/tmp/dpdk"):
        if os.path.isdir(base):
            out += [os.path.join(base, n) for n in os.listdir(base) if "sluicecheck" in n]
    return out
