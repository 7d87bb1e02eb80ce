# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the sandbox's own tests: real processes on loopback, a private port base and state dir.

Port base: SANDBOX_TEST_PORT_BASE (default 21000), plus 500 per pytest-xdist worker.
The shared sandbox uses the base itself; the life-cycle tests use base+100 and base+200,
whose ports do not overlap with it.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os
import sys

import pytest

SANDBOX_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if SANDBOX_DIR not in sys.path:
    sys.path.insert(0, SANDBOX_DIR)

from linktrack_sandbox import testing  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def sandbox_python():
    """Skip (saying why) when this interpreter cannot run the sandbox, e.g. in a bare ansible-test venv."""
    missing = [name for name in ("moto", "flask", "boto3", "dns", "cryptography") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip("%s cannot run the sandbox: %s missing (use the project venv: bash tests/bin/bootstrap.sh)" % (
            sys.executable, ", ".join(missing)))


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory, sandbox_python):  # pylint: disable=redefined-outer-name,unused-argument
    """One running sandbox for the service tests: the env file's values, plus "env" (the process environment)."""
    try:
        values = testing.start_sandbox(tmp_path_factory.mktemp("sandbox-state"))
    except testing.SandboxStartError as exc:
        pytest.fail(str(exc))
    try:
        yield values
    finally:
        down = testing.stop_sandbox(values)
        assert down.returncode == 0, down.stdout + down.stderr


@pytest.fixture(scope="session")
def aws(sandbox):  # pylint: disable=redefined-outer-name
    """A factory of boto3 clients for the shared sandbox."""
    import boto3  # pylint: disable=import-outside-toplevel
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")

    def client(service):
        return session.client(service, endpoint_url=sandbox["AWS_ENDPOINT_URL"])
    return client
