# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the contract tests; the helpers live in ecohelpers.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ecohelpers import read_env_file


@pytest.fixture(scope="session")
def sandbox_env():
    """The sandbox's variables; skips (visibly) when no sandbox was given."""
    path = os.environ.get("SANDBOX_ENV_FILE")
    if not path:
        pytest.skip("no sandbox: set SANDBOX_ENV_FILE (tests/bin/run-tests.sh contract does)")
    if not os.path.exists(path):
        pytest.fail("SANDBOX_ENV_FILE=%s does not exist: is the sandbox up?" % path)
    return read_env_file(path)
