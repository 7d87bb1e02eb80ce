# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rfc2136_key_check action plugin gives what the module process prints, and never the secret.

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
def test_in_process_gives_what_the_module_prints_without_the_secret(args, field, secret, tmp_path, monkeypatch):
    monkeypatch.delenv("LINKTRACK_HTTPS_IN_PROCESS", raising=False)
    args = _fill_ports(args)
    expected = _module_process("rfc2136_key_check", args, tmp_path)
    invocation = expected.pop("invocation", None)  # AnsibleModule of ansible-core 2.21 leaves it out
    if invocation is not None:
        assert invocation["module_args"]["key_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    result = _in_process("rfc2136_key_check", args)
    assert result == expected
    assert result["failed"] is True
    if field is not None:
        assert result["field"] == field
    else:
        assert "key_algorithm" in result["msg"]
    assert "invocation" not in result
    assert secret not in json.dumps(expected) and secret not in json.dumps(result, default=str)


def test_the_action_plugin_runs_the_module_code():
    assert plugin.ActionModule.MODULE is module
    assert plugin.ActionModule.RUN is module.run_module
    assert plugin.ActionModule.AWS is False
    assert module.MODULE_KWARGS["supports_check_mode"] is True
    assert module.ARGUMENT_SPEC["key_secret"]["no_log"] is True
