# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sandbox.py up / down / status / reset with real processes: one copy only, nothing left behind."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import socket
import stat

import pytest

from linktrack_sandbox import testing

pytestmark = pytest.mark.usefixtures("sandbox_python")


def _ports(base):
    return [base + offset for offset in testing.OFFSETS]


def _recorded_pids(state_dir):
    with open(os.path.join(state_dir, "state.json"), "r", encoding="utf-8") as handle:
        return sorted(proc["pid"] for proc in json.load(handle)["procs"].values())


def test_up_twice_is_one_copy_and_down_leaves_nothing(tmp_path):
    base = testing.port_base(200)
    state_dir = str(tmp_path / "state")
    env = testing.clean_env(base, state_dir)
    try:
        first = testing.run_sandbox(env, "up")
        assert first.returncode == 0, first.stdout + first.stderr
        pids = _recorded_pids(state_dir)
        assert len(pids) == 2
        assert sorted(testing.processes_mentioning(state_dir)) == pids
        assert all(testing.listening(port) for port in _ports(base))
        values = testing.read_env_file(env["SANDBOX_ENV_FILE"])
        assert values["AWS_ENDPOINT_URL"] == "http://127.0.0.1:%d" % base
        assert values["SANDBOX_EDGE_HTTPS_PORT"] == str(base + 443)
        assert stat.S_IMODE(os.stat(env["SANDBOX_ENV_FILE"]).st_mode) == 0o600

        second = testing.run_sandbox(env, "up")
        assert second.returncode == 0, second.stdout + second.stderr
        assert "already up" in second.stdout
        assert _recorded_pids(state_dir) == pids
        assert sorted(testing.processes_mentioning(state_dir)) == pids

        status = testing.run_sandbox(env, "status")
        assert status.returncode == 0, status.stdout

        yaml_env = testing.run_sandbox(env, "env", "--format", "yaml")
        assert yaml_env.returncode == 0
        assert "sandbox_edge_https_port: %d\n" % (base + 443) in yaml_env.stdout
        assert 'aws_endpoint_url: "http://127.0.0.1:%d"\n' % base in yaml_env.stdout

        reset = testing.run_sandbox(env, "reset")
        assert reset.returncode == 0, reset.stdout + reset.stderr
        assert testing.run_sandbox(env, "status").returncode == 0

        down = testing.run_sandbox(env, "down")
        assert down.returncode == 0, down.stdout + down.stderr
        assert testing.processes_mentioning(state_dir) == []
        assert [port for port in _ports(base) if testing.listening(port)] == []
        assert not os.path.exists(env["SANDBOX_ENV_FILE"])

        again = testing.run_sandbox(env, "down")
        assert again.returncode == 0
        assert "not running" in again.stdout
        assert testing.run_sandbox(env, "status").returncode == 3
    finally:
        testing.run_sandbox(env, "down")


def test_port_in_use_is_a_clear_error_and_starts_nothing(tmp_path):
    base = testing.port_base(100)
    state_dir = str(tmp_path / "state")
    env = testing.clean_env(base, state_dir)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", base + 443))
        blocker.listen(1)
        try:
            result = testing.run_sandbox(env, "up")
        finally:
            testing.run_sandbox(env, "down")
    assert result.returncode == 1
    assert "port %d" % (base + 443) in result.stderr
    assert "SANDBOX_EDGE_HTTPS_PORT" in result.stderr
    assert "SANDBOX_PORT_BASE" in result.stderr
    assert testing.processes_mentioning(state_dir) == []
    assert [port for port in _ports(base) if testing.listening(port)] == []
    assert not os.path.exists(os.path.join(state_dir, "state.json"))
    assert not os.path.exists(env["SANDBOX_ENV_FILE"])


def test_child_dying_during_start_up_is_reported_and_cleaned_up(tmp_path):
    base = testing.port_base(100)
    state_dir = str(tmp_path / "state")
    env = testing.clean_env(base, state_dir)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_named = fake_bin / "named"
    fake_named.write_text("#!/bin/sh\necho 'fake named: configuration broken' >&2\nexit 7\n")
    fake_named.chmod(0o755)
    env["PATH"] = "%s:%s" % (fake_bin, env.get("PATH", ""))
    try:
        result = testing.run_sandbox(env, "up")
    finally:
        testing.run_sandbox(env, "down")
    assert result.returncode == 1
    assert "named exited during start-up (exit code 7)" in result.stderr
    assert "fake named: configuration broken" in result.stderr
    assert testing.processes_mentioning(state_dir) == []
    assert [port for port in _ports(base) if testing.listening(port)] == []
    assert not os.path.exists(os.path.join(state_dir, "state.json"))


def test_bad_settings_are_rejected_naming_the_variable(tmp_path):
    env = testing.clean_env(testing.port_base(100), str(tmp_path / "state"))
    env["SANDBOX_EDGE_HTTP_PORT"] = "eighty"
    result = testing.run_sandbox(env, "up")
    assert result.returncode == 1
    assert "SANDBOX_EDGE_HTTP_PORT='eighty' is not a number" in result.stderr
    assert not os.path.exists(os.path.join(str(tmp_path / "state"), "state.json"))
