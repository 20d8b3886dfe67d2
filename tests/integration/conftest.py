# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures for sluice's integration tests.

`app` is a running appliance in its own namespace lab (see lab.py), module-scoped and
parametrized by the number of workers: every test that uses it runs against `workers: 1` and
against `workers: 2` (af_packet then gets qpairs=2, derived by sluice). On teardown the
appliance gets SIGTERM and must exit 0, and the lab is removed.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab as lablib  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _preconditions():
    if os.geteuid() != 0:
        pytest.fail(
            "the integration tests need root (network namespaces, af_packet): "
            "run them with sudo ./scripts/test.sh or sudo /usr/bin/python3 -m pytest "
            "tests/integration",
            pytrace=False,
        )
    for binary in (lablib.SLUICE, lablib.SLUICECTL):
        if not os.access(binary, os.X_OK):
            pytest.fail(
                f"{binary} is missing: build first (meson setup build && meson compile -C build)",
                pytrace=False,
            )


@pytest.fixture(scope="module", params=[1, 2], ids=["workers1", "workers2"])
def app(request):
    with lablib.running_sluice(workers=request.param) as a:
        yield a


@pytest.fixture(scope="module")
def app_mac(app):
    """The appliance port's MAC: the kernel's address of the af_packet interface."""
    return app.lab.mac(app.lab.LAB_NS, app.lab.APP_IF)
