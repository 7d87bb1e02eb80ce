# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the reliability suite.

Tests that need the sandbox read it from ``SANDBOX_ENV_FILE`` (a running
sandbox, as the test runner provides) and are skipped when there is none.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import faultproxy  # noqa: E402  pylint: disable=wrong-import-position
import relhelpers  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def sandbox():
    path = relhelpers.sandbox_env_file()
    if not os.path.exists(path):
        pytest.skip("no running sandbox (SANDBOX_ENV_FILE=%s does not exist)" % path)
    box = relhelpers.Sandbox(path)
    try:
        box.stats()
    except OSError as exc:
        pytest.skip("the sandbox of %s does not answer: %s" % (path, exc))
    return box


@pytest.fixture(scope="module")
def fresh_emulator(sandbox):
    """Empty the AWS emulator before a module of heavy tests.

    Every test uses domains of its own, so nothing depends on what an earlier
    module made; but the edge and Route 53 stand-ins list every distribution
    and zone record on their look-ups, and with hundreds of them left over a
    loaded machine gets slow enough to fail a TLS handshake.
    """
    sandbox.reset()
    return sandbox


@pytest.fixture(scope="session")
def sandbox_proxy(sandbox):
    """A fault proxy in front of the sandbox's emulator; rate 0 until a test configures it."""
    with faultproxy.FaultProxy(sandbox.aws, rate=0.0, seed=20240601) as proxy:
        yield proxy


@pytest.fixture
def clean_proxy(sandbox_proxy):
    sandbox_proxy.configure(rate=0.0, kinds="all", match="", slow_seconds=0.5)
    sandbox_proxy.reset()
    yield sandbox_proxy
    sandbox_proxy.configure(rate=0.0, kinds="all", match="")


# Figures the tests measured (retries per run, timings...), printed after the run.
FIGURES = []


@pytest.fixture(scope="session")
def figures():
    return FIGURES


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
