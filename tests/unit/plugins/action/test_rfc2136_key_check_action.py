# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rfc2136_key_check action plugin prints what the module process prints, and never the secret.

Uses the harness of test_action_plugins.py (module file as a process versus the
action plugin in this process). The cases need no network: bad input, and a
signed question to a loopback port where nothing listens.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible_collections.linktrack.https.plugins.action import rfc2136_key_check as plugin
from ansible_collections.linktrack.https.plugins.modules import rfc2136_key_check as module
from ansible_collections.linktrack.https.tests.unit.plugins.action.test_action_plugins import (
    _fill_ports,
    _in_process,
    _module_process,
)

from ansible.release import __version__ as _ANSIBLE_CORE_VERSION

from ansible_collections.linktrack.https.plugins.plugin_utils._inprocess import IN_PROCESS_CORE_LINES as _IN_PROCESS_CORE_LINES

# These tests compare the in-process path with the module process; that path
# runs only on the ansible-core lines in IN_PROCESS_CORE_LINES.
pytestmark = pytest.mark.skipif(
    not _ANSIBLE_CORE_VERSION.startswith(_IN_PROCESS_CORE_LINES),
    reason="ansible-core %s: the collection's tasks run as module processes here" % _ANSIBLE_CORE_VERSION)


NOT_BASE64 = "s3cr3t-Value-9!"
GOOD_FORM = base64.b64encode(b"a-secret-nobody-must-see-0123456").decode("ascii")
BASE = {"server": "127.0.0.1", "zone": "example.com", "key_name": "linktrack"}

CASES = [
    (dict(BASE, key_secret=NOT_BASE64), "key_secret", NOT_BASE64),
    (dict(BASE, key_secret=GOOD_FORM, port=0), "port", GOOD_FORM),
    (dict(BASE, key_secret=GOOD_FORM, server="ns1.example.com"), "server", GOOD_FORM),
    (dict(BASE, key_secret=GOOD_FORM, port="FREE", timeout=0.5), "server", GOOD_FORM),
    (dict(BASE, key_secret=GOOD_FORM, key_algorithm="sha256"), None, GOOD_FORM),
]


@pytest.mark.parametrize("args,field,secret", CASES, ids=["not-base64", "port-0", "server-name", "nobody-listens",
                                                          "algorithm-choice"])
def test_in_process_prints_what_the_module_prints_without_the_secret(args, field, secret, tmp_path, monkeypatch):
    monkeypatch.delenv("LINKTRACK_HTTPS_IN_PROCESS", raising=False)
    args = _fill_ports(args)
    expected = _module_process("rfc2136_key_check", args, tmp_path)
    printed, result = _in_process("rfc2136_key_check", args)
    assert printed == expected
    assert result["failed"] is True
    if field is not None:
        assert result["field"] == field
    else:
        assert "key_algorithm" in result["msg"]
    assert result["invocation"]["module_args"]["key_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert secret not in json.dumps(printed) and secret not in json.dumps(result, default=str)


def test_the_action_plugin_runs_the_module_code():
    assert plugin.ActionModule.MODULE is module
    assert plugin.ActionModule.RUN is module.run_module
    assert plugin.ActionModule.AWS is False
    assert module.MODULE_KWARGS["supports_check_mode"] is True
    assert module.ARGUMENT_SPEC["key_secret"]["no_log"] is True
