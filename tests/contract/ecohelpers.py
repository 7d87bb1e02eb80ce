# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers of the contract tests (release tarball, execution environment,
docs, changelog, AWX survey, IAM policy).

Run them with ``.venv/bin/python -m pytest -q tests/contract``. Tests that need
the sandbox read its ``export`` file from ``SANDBOX_ENV_FILE`` (what
``tests/bin/run-tests.sh contract`` sets) and are skipped, saying so, without it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, ".venv")
VENV_BIN = os.path.join(VENV, "bin")
COLLECTION = "linktrack.https"

sys.path.insert(0, os.path.join(ROOT, "sandbox"))
from linktrack_sandbox.envfile import read_env_file  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import


def base_env(**extra):
    """A clean environment for ansible commands: the venv first on PATH, no color,
    no AWS credentials of the caller, never a real AWS endpoint."""
    env = {
        "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(cmd, env=None, cwd=ROOT, timeout=600, check=True):
    """Run ``cmd`` (a list); on failure the assertion shows the command and its output."""
    proc = subprocess.run(
        cmd, cwd=cwd, env=env if env is not None else base_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            "command failed (rc=%s): %s\n--- stdout ---\n%s\n--- stderr ---\n%s"
            % (proc.returncode, " ".join(shlex.quote(c) for c in cmd), proc.stdout[-6000:], proc.stderr[-6000:])
        )
    return proc


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def galaxy_meta():
    return load_yaml(os.path.join(ROOT, "galaxy.yml"))


def module_names(collection_dir=ROOT):
    mdir = os.path.join(collection_dir, "plugins", "modules")
    if not os.path.isdir(mdir):
        return []
    return sorted(f[:-3] for f in os.listdir(mdir) if f.endswith(".py") and not f.startswith("_"))


def python():
    return os.path.join(VENV_BIN, "python") if os.path.exists(os.path.join(VENV_BIN, "python")) else sys.executable
